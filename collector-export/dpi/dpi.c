// SPDX-License-Identifier: GPL-2.0
/*
 * dpi.c - the results of -D by flow key: payload snapshots come from the
 * BPF DPI stage through dpi_ring, go to the parser of the application the
 * stage guessed, and what they give is kept under the flow direction's
 * key until the flow's last record is built (sink.c). A TLS ClientHello
 * cut by the end of a TCP segment waits for the next one (DPI_PACKETS).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include "dpi.h"
#include "log.h"

#define DPI_PENDING_MAX 16384 /* a ClientHello over several segments */

struct dpi_entry {
	struct flow_key key;
	struct dpi_info info;
	__u8 *pending;        /* TLS: the start of a cut ClientHello */
	size_t pending_len;
	__u32 next_seq;       /* where the pending bytes continue */
	struct dpi_quic_crypto *quic; /* QUIC: a ClientHello's first part */
};

struct dpi_table {
	GHashTable *by_key;   /* struct flow_key * -> struct dpi_entry * */
	__u32 max_entries;
	struct dpi_stats stats;
};

struct dpi_reader {
	struct ring_buffer *rb;
	struct dpi_table *t;
};

void dpi_copy_str(char *dst, size_t size, const __u8 *src, size_t n)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; i < n && i + 1 < size && src; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

void dpi_reverse_key(const struct flow_key *k, struct flow_key *out)
{
	*out = *k;
	memcpy(out->src_addr, k->dst_addr, 16);
	memcpy(out->dst_addr, k->src_addr, 16);
	out->src_port = k->dst_port;
	out->dst_port = k->src_port;
}

static guint key_hash(gconstpointer p)
{
	const __u8 *b = p;
	guint h = 2166136261u;

	for (size_t i = 0; i < sizeof(struct flow_key); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct flow_key));
}

static void entry_free(gpointer p)
{
	struct dpi_entry *e = p;

	free(e->pending);
	free(e->quic);
	free(e);
}

struct dpi_table *dpi_table_new(__u32 max_flows)
{
	struct dpi_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->by_key = g_hash_table_new_full(key_hash, key_equal, NULL, entry_free);
	t->max_entries = max_flows ? max_flows : 1;
	return t;
}

void dpi_table_free(struct dpi_table *t)
{
	if (!t)
		return;
	g_hash_table_destroy(t->by_key);
	free(t);
}

/* What src found goes into dst where dst has nothing of that kind yet. */
static void merge(struct dpi_info *dst, const struct dpi_info *src)
{
	__u16 add = src->has & ~dst->has;

	if (!dst->app)
		dst->app = src->app;
	/* QUIC carries TLS: the more specific name wins */
	if (src->app == DPI_APP_QUIC)
		dst->app = DPI_APP_QUIC;
	if (add & DPI_HAS_DNS_QUERY) {
		memcpy(dst->dns_qname, src->dns_qname, sizeof(dst->dns_qname));
		dst->dns_qtype = src->dns_qtype;
	}
	if (add & DPI_HAS_DNS_RESPONSE) {
		dst->dns_rcode = src->dns_rcode;
		dst->dns_answers = src->dns_answers;
	}
	if (add & DPI_HAS_HTTP_REQUEST) {
		memcpy(dst->http_method, src->http_method, sizeof(dst->http_method));
		memcpy(dst->http_host, src->http_host, sizeof(dst->http_host));
		memcpy(dst->http_target, src->http_target, sizeof(dst->http_target));
		memcpy(dst->http_user_agent, src->http_user_agent,
		       sizeof(dst->http_user_agent));
	}
	if (add & DPI_HAS_HTTP_RESPONSE)
		dst->http_status = src->http_status;
	if (add & DPI_HAS_TLS_HELLO) {
		dst->tls_version = src->tls_version;
		memcpy(dst->tls_sni, src->tls_sni, sizeof(dst->tls_sni));
		memcpy(dst->tls_alpn, src->tls_alpn, sizeof(dst->tls_alpn));
		memcpy(dst->tls_ja4, src->tls_ja4, sizeof(dst->tls_ja4));
	}
	if (add & DPI_HAS_QUIC)
		dst->quic_version = src->quic_version;
	dst->has |= src->has;
}

static int parse(__u8 app, bool tcp, const __u8 *p, size_t n,
		 struct dpi_info *out)
{
	switch (app) {
	case DPI_APP_DNS: return dpi_dns_parse(p, n, tcp, out);
	case DPI_APP_HTTP: return dpi_http_parse(p, n, out);
	case DPI_APP_TLS: return dpi_tls_parse(p, n, out);
	case DPI_APP_QUIC: return dpi_quic_parse(p, n, out);
	}
	return -ENOMSG;
}

static struct dpi_entry *entry_get(struct dpi_table *t,
				   const struct flow_key *key)
{
	struct dpi_entry *e = g_hash_table_lookup(t->by_key, key);

	if (e)
		return e;
	if (g_hash_table_size(t->by_key) >= t->max_entries) {
		t->stats.table_full++;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = *key;
	g_hash_table_insert(t->by_key, &e->key, e);
	return e;
}

/* A TLS payload continuing a ClientHello this flow started: joined. */
static int tls_continued(struct dpi_table *t, const struct dpi_event *ev,
			 struct dpi_info *found)
{
	struct dpi_entry *e = g_hash_table_lookup(t->by_key, &ev->key);
	size_t n = ev->snap_len;
	__u8 *p;
	int err;

	if (!e || !e->pending || ev->tcp_seq != e->next_seq)
		return -ENOMSG;
	if (e->pending_len + n > DPI_PENDING_MAX)
		n = DPI_PENDING_MAX - e->pending_len;
	p = realloc(e->pending, e->pending_len + n);
	if (!p)
		return -ENOMEM;
	memcpy(p + e->pending_len, ev->data, n);
	e->pending = NULL;
	err = dpi_tls_parse(p, e->pending_len + n, found);
	free(p);
	e->pending_len = 0;
	return err == -EAGAIN ? -EBADMSG : err; /* two segments at most */
}

/* Keep the start of a cut ClientHello for the next segment. */
static void tls_wait(struct dpi_table *t, const struct dpi_event *ev)
{
	struct dpi_entry *e = entry_get(t, &ev->key);

	if (!e || e->pending || ev->snap_len < ev->payload_len)
		return;
	e->pending = malloc(ev->snap_len);
	if (!e->pending)
		return;
	memcpy(e->pending, ev->data, ev->snap_len);
	e->pending_len = ev->snap_len;
	e->next_seq = ev->tcp_seq + ev->payload_len;
}

/* A QUIC Initial, with the CRYPTO frames of the flow's earlier ones; a
 * hello still incomplete keeps them in the entry (and the version). */
static int quic_feed(struct dpi_table *t, const struct dpi_event *ev,
		     size_t n, struct dpi_info *found)
{
	struct dpi_entry *e = g_hash_table_lookup(t->by_key, &ev->key);
	struct dpi_quic_crypto *acc = e ? e->quic : NULL;
	int err;

	if (!acc && !(acc = calloc(1, sizeof(*acc))))
		return -ENOMEM;
	err = dpi_quic_parse_more(ev->data, n, acc, found);
	if (err == -EAGAIN && !e)
		e = entry_get(t, &ev->key);
	if (err == -EAGAIN && e) {
		e->quic = acc;       /* kept (or still) for the next Initial */
		merge(&e->info, found); /* the version already */
		return err;
	}
	if (e && e->quic == acc)
		e->quic = NULL;
	free(acc);
	return err;
}

void dpi_table_feed(struct dpi_table *t, const struct dpi_event *ev)
{
	struct dpi_info found;
	struct dpi_entry *e;
	bool tcp = ev->key.protocol == 6;
	size_t n = ev->snap_len < DPI_SNAP_MAX ? ev->snap_len : DPI_SNAP_MAX;
	__u8 app = ev->app < DPI_APP_MAX ? ev->app : DPI_APP_NONE;
	int err;

	t->stats.events++;
	memset(&found, 0, sizeof(found));
	err = -ENOMSG;
	if (app == DPI_APP_TLS && tcp)
		err = tls_continued(t, ev, &found);
	if (err == -ENOMSG) {
		memset(&found, 0, sizeof(found));
		err = app == DPI_APP_QUIC ? quic_feed(t, ev, n, &found) :
					    parse(app, tcp, ev->data, n, &found);
	}
	if (err == -EAGAIN && (tcp || app == DPI_APP_QUIC)) {
		/* no result yet, counted as unknown: the rest follows */
		t->stats.unknown[app]++;
		if (tcp)
			tls_wait(t, ev);
		return;
	}
	if (err == -EBADMSG || err == -EAGAIN) {
		t->stats.malformed[app]++;
		return;
	}
	if (err) {
		t->stats.unknown[app]++;
		return;
	}
	t->stats.found[app]++;
	e = entry_get(t, &ev->key);
	if (e)
		merge(&e->info, &found);
}

const struct dpi_info *dpi_table_find(const struct dpi_table *t,
				      const struct flow_key *key)
{
	const struct dpi_entry *e = g_hash_table_lookup(t->by_key, key);

	return e && e->info.has ? &e->info : NULL;
}

bool dpi_table_lookup_pair(const struct dpi_table *t,
			   const struct flow_key *fwd,
			   const struct flow_key *rev, struct dpi_info *out)
{
	const struct dpi_info *f = dpi_table_find(t, fwd);
	const struct dpi_info *r = rev ? dpi_table_find(t, rev) : NULL;

	memset(out, 0, sizeof(*out));
	if (f)
		merge(out, f);
	if (r)
		merge(out, r);
	return f || r;
}

void dpi_table_forget(struct dpi_table *t, const struct flow_key *key)
{
	g_hash_table_remove(t->by_key, key);
}

const struct dpi_stats *dpi_table_stats(const struct dpi_table *t)
{
	return &t->stats;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct dpi_reader *r = ctx;

	if (size < sizeof(struct dpi_event))
		return 0;
	dpi_table_feed(r->t, data);
	return 0;
}

struct dpi_reader *dpi_reader_open(int ring_fd, __u32 max_flows)
{
	struct dpi_reader *r = calloc(1, sizeof(*r));
	int err = ENOMEM;

	if (!r)
		goto fail;
	r->t = dpi_table_new(max_flows);
	if (!r->t)
		goto fail;
	r->rb = ring_buffer__new(ring_fd, on_event, r, NULL);
	if (!r->rb) {
		err = errno;
		goto fail;
	}
	return r;
fail:
	if (r)
		dpi_table_free(r->t);
	free(r);
	errno = err;
	return NULL;
}

struct dpi_table *dpi_reader_table(struct dpi_reader *r)
{
	return r ? r->t : NULL;
}

int dpi_reader_consume(struct dpi_reader *r)
{
	return r ? ring_buffer__consume(r->rb) : 0;
}

void dpi_reader_close(struct dpi_reader *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	dpi_table_free(r->t);
	free(r);
}
