// SPDX-License-Identifier: GPL-2.0
/* sink.c - fan records out to the output and to every exporter. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "balance.h"
#include "log.h"
#include "sink.h"

int sink_open(struct sink *s, const struct config *cfg)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->out = output_open(cfg);
	if (!s->out)
		return errno ? -errno : -ENOMEM;
	for (int i = 0; i < cfg->n_collectors; i++) {
		s->ex[i] = exporter_open(config_for_collector(cfg, i),
				     cfg->collectors[i]);
		if (!s->ex[i]) {
			err = errno ? -errno : -EINVAL;
			sink_close(s);
			return err;
		}
		s->n_ex = i + 1;
	}
	return 0;
}

/* --balance: the records of recs that go to collector i, in s->picked;
 * their number, or -ENOMEM. */
static ssize_t pick_records(struct sink *s, int i,
			    const struct flow_record *recs, size_t n)
{
	size_t m = 0;

	if (n > s->picked_cap) {
		struct flow_record *p = realloc(s->picked, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->picked = p;
		s->picked_cap = n;
	}
	for (size_t j = 0; j < n; j++)
		if (balance_pick(&recs[j].key, s->n_ex) == (unsigned int)i)
			s->picked[m++] = recs[j];
	return m;
}

/* -D: copies of the records with what the inspectors found about each
 * direction (a shared copy each, which the sink lets go of after the
 * batch: the queues hold their own references); a flow's results leave
 * the table with its last record. NULL if out of memory (the records then
 * go without). */
static const struct flow_record *attach_dpi(struct sink *s,
					    const struct flow_record *recs,
					    size_t n)
{
	if (n > s->with_dpi_cap) {
		struct flow_record *p = realloc(s->with_dpi, n * sizeof(*p));

		if (!p)
			return NULL;
		s->with_dpi = p;
		s->with_dpi_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		struct flow_record *r = &s->with_dpi[i];
		struct dpi_info found;
		struct flow_key rev;

		*r = recs[i];
		dpi_reverse_key(&r->key, &rev);
		r->dpi = NULL;
		if (dpi_table_lookup_pair(s->dpi, &r->key,
					  r->has_reverse ? &rev : NULL, &found))
			r->dpi = dpi_shared_new(&found);
		if (r->end_reason != END_ACTIVE) {
			dpi_table_forget(s->dpi, &r->key);
			if (r->has_reverse)
				dpi_table_forget(s->dpi, &rev);
		}
	}
	return s->with_dpi;
}

static void sink_fan_out(struct sink *s, const struct flow_record *recs,
			 size_t n);

void sink_records(void *ctx, const struct flow_record *recs, size_t n)
{
	struct sink *s = ctx;
	const struct flow_record *d = s->dpi ? attach_dpi(s, recs, n) : NULL;

	if (d)
		recs = d;
	sink_fan_out(s, recs, n);
	for (size_t i = 0; d && i < n; i++)
		dpi_unref(d[i].dpi);
}

/* The output and every collector (--balance: each its share). */
static void sink_fan_out(struct sink *s, const struct flow_record *recs,
			 size_t n)
{
	output_records(s->out, recs, n);
	for (int i = 0; i < s->n_ex; i++) {
		const struct flow_record *batch = recs;
		ssize_t m = n;
		int err;

		if (s->cfg->balance && s->n_ex > 1) {
			m = pick_records(s, i, recs, n);
			batch = s->picked;
		}
		err = m < 0 ? (int)m : exporter_send(s->ex[i], batch, m);

		/* the exporter counts what it could not keep; say it once */
		if (err && !s->send_errors++)
			pr_warn("export to '%s' failed: %s\n",
				s->cfg->collectors[i], strerror(-err));
	}
}

void sink_draining(struct sink *s)
{
	for (int i = 0; i < s->n_ex; i++)
		exporter_draining(s->ex[i]);
}

void sink_tick(struct sink *s, time_t now, const struct metering_stats *ms)
{
	for (int i = 0; i < s->n_ex; i++)
		exporter_tick(s->ex[i], now, ms);
}

/* An address as flow_key holds it: 16 bytes, IPv4 mapped. */
static int addr16(const struct sockaddr_storage *ss, __u8 *addr, __u16 *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		memcpy(addr, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int sink_self_conns(const struct sink *s, struct self_conn_key *keys, int max)
{
	int n = 0;

	for (int i = 0; i < s->n_ex && n < max; i++) {
		struct export_conn c[MAX_SELF_CONNS];
		int got = exporter_connections(s->ex[i], c, max - n);

		for (int j = 0; j < got; j++) {
			struct self_conn_key *k = &keys[n];

			/* UDP datagrams only leave: they matter at egress */
			if (c[j].protocol == IPPROTO_UDP &&
			    !(s->cfg->direction & METER_EGRESS))
				continue;
			memset(k, 0, sizeof(*k));
			k->protocol = c[j].protocol;
			if (addr16(&c[j].peer, k->src_addr, &k->src_port) ||
			    addr16(&c[j].local, k->dst_addr, &k->dst_port))
				continue;
			n++;
		}
	}
	return n;
}

void sink_self_conns_entered(struct sink *s)
{
	for (int i = 0; i < s->n_ex; i++)
		exporter_connection_entered(s->ex[i]);
}

bool sink_self_conns_changed(struct sink *s)
{
	for (int i = 0; i < s->n_ex; i++)
		if (exporter_connection_changed(s->ex[i]))
			return true;
	return false;
}

void sink_export_totals(const struct sink *s, struct counters_report *c)
{
	c->sent_records = s->retired.records;
	c->unsent_records = s->retired.records_dropped + s->retired.records_unsent;
	c->sent_packets = s->retired.packets;
	c->unsent_packets = s->retired.packets_unsent;
	c->send_errors = s->retired.send_errors;
	for (int i = 0; i < s->n_ex; i++) {
		struct exporter_stats st;

		exporter_get_stats(s->ex[i], &st);
		c->sent_records += st.records;
		c->unsent_records += st.records_dropped + st.records_unsent;
		c->sent_packets += st.packets;
		c->unsent_packets += st.packets_unsent;
		c->send_errors += st.send_errors;
	}
	if (s->dpi) {
		const struct dpi_stats *d = dpi_table_stats(s->dpi);

		c->dpi_found = c->dpi_malformed = c->dpi_unknown = 0;
		for (int a = 0; a < DPI_APP_MAX; a++) {
			c->dpi_found += d->found[a];
			c->dpi_malformed += d->malformed[a];
			c->dpi_unknown += d->unknown[a];
		}
	}
}

void sink_replace_exporters(struct sink *s, struct exporter *const *ex, int n)
{
	for (int i = 0; i < s->n_ex; i++) {
		struct exporter_stats st;
		bool kept = false;

		for (int j = 0; j < n && !kept; j++)
			kept = ex[j] == s->ex[i];
		if (kept)
			continue;
		exporter_close_stats(s->ex[i], &st);
		s->retired.records += st.records;
		s->retired.records_dropped += st.records_dropped;
		s->retired.records_unsent += st.records_unsent;
		s->retired.packets += st.packets;
		s->retired.packets_unsent += st.packets_unsent;
		s->retired.send_errors += st.send_errors;
	}
	memcpy(s->ex, ex, n * sizeof(*ex));
	s->n_ex = n;
}

void sink_finish(struct sink *s)
{
	for (int i = 0; i < s->n_ex; i++)
		exporter_finish(s->ex[i]);
}

void sink_close(struct sink *s)
{
	for (int i = 0; i < s->n_ex; i++)
		exporter_close(s->ex[i]);
	s->n_ex = 0;
	output_close(s->out);
	s->out = NULL;
	free(s->picked);
	free(s->with_dpi);
	s->picked = NULL;
	s->picked_cap = 0;
}
