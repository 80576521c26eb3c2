// SPDX-License-Identifier: GPL-2.0
/*
 * flowtable.c - the user-space flow cache: merge kernel deltas and overflow
 * packets into long-lived flows, decide when each flow (or biflow pair)
 * ends, and hand the records out sorted, so that the same input always
 * gives the same output.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <net/if.h>
#include "cache_store.h"
#include "flowtable.h"

#define NS_PER_SEC 1000000000ULL
#define TCP_FIN 0x01
#define TCP_RST 0x04

struct flow_entry {
	struct flow_key key;     /* first: the hash table's key points here */
	struct flow_stats acc;   /* what the next report carries; packets == 0:
				  * nothing pending (after an active report) */
	__u64 last_seen_ns;      /* last packet ever, across reports */
	__u64 born_ns;           /* first packet ever: the biflow initiator */
	bool seen;               /* born_ns and last_seen_ns are set (a
				  * capture time may be 0) */
	__u64 mark;              /* merge mark of the last delta merged */
	__u32 pass;              /* expiry pass that last decided on it */
	bool closing;            /* FIN or RST seen */
};

struct flow_cache {
	const struct config *cfg;
	__s64 epoch_offset_ns;
	flow_emit_fn emit;
	void *emit_ctx;
	GHashTable *flows;      /* &entry->key -> entry */
	struct cache_store *store; /* where the entries live (cache_store.h) */
	GArray *out;            /* struct flow_record, one pass's output */
	__u32 pass;
	struct flow_cache_totals totals;
	__u32 ifindex[MAX_IFACES]; /* the metered interfaces, for biflow pairs */
	int n_ifindex;
};

/* One expiry decision: a flow, its reverse when pairing, and why. */
struct verdict {
	struct flow_entry *e;
	struct flow_entry *rev;
	__u8 reason;
};

/* FNV-1a over the whole key: keys are fixed-size and zero-padded. */
static guint key_hash(gconstpointer p)
{
	const unsigned char *b = p;
	guint32 h = 2166136261u;

	for (size_t i = 0; i < sizeof(struct flow_key); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(struct flow_key)) == 0;
}

static void adopt_entry(void *item, void *ctx)
{
	struct flow_cache *fc = ctx;
	struct flow_entry *e = item;

	e->pass = 0;
	g_hash_table_insert(fc->flows, &e->key, e);
}

struct flow_cache *flow_cache_open(const struct config *cfg,
				   __s64 epoch_offset_ns, flow_emit_fn emit,
				   void *emit_ctx, const char *store_path)
{
	struct flow_cache *fc = calloc(1, sizeof(*fc));

	if (!fc)
		return NULL;
	fc->store = cache_store_open(store_path, sizeof(struct flow_entry));
	if (!fc->store) {
		free(fc);
		return NULL;
	}
	fc->cfg = cfg;
	fc->epoch_offset_ns = epoch_offset_ns;
	fc->emit = emit;
	fc->emit_ctx = emit_ctx;
	/* entries belong to the store, not to the hash table */
	fc->flows = g_hash_table_new(key_hash, key_equal);
	fc->out = g_array_new(FALSE, FALSE, sizeof(struct flow_record));
	for (int i = 0; i < cfg->n_ifaces && i < MAX_IFACES; i++) {
		__u32 ifindex = if_nametoindex(cfg->ifnames[i]);

		if (ifindex)
			fc->ifindex[fc->n_ifindex++] = ifindex;
	}
	cache_store_for_each(fc->store, adopt_entry, fc);
	return fc;
}

struct flow_cache *flow_cache_new(const struct config *cfg,
				  __s64 epoch_offset_ns, flow_emit_fn emit,
				  void *emit_ctx)
{
	return flow_cache_open(cfg, epoch_offset_ns, emit, emit_ctx, NULL);
}

void flow_cache_free(struct flow_cache *fc)
{
	if (!fc)
		return;
	/* a file store with flows left in it is for the next run */
	cache_store_close(fc->store, g_hash_table_size(fc->flows) == 0);
	g_hash_table_destroy(fc->flows);
	g_array_free(fc->out, TRUE);
	free(fc);
}

void flow_cache_set_epoch_offset(struct flow_cache *fc, __s64 epoch_offset_ns)
{
	fc->epoch_offset_ns = epoch_offset_ns;
}

bool flow_cache_has_seq(const struct flow_cache *fc, const struct flow_key *key,
			const struct tcp_seq_state *seq)
{
	const struct flow_entry *e = g_hash_table_lookup(fc->flows, key);

	return e && !memcmp(&e->acc.seq, seq, sizeof(*seq));
}

struct cache_journal *flow_cache_journal(struct flow_cache *fc)
{
	return cache_store_journal(fc->store);
}

size_t flow_cache_count(const struct flow_cache *fc)
{
	return g_hash_table_size(fc->flows);
}

const struct flow_cache_totals *flow_cache_totals(const struct flow_cache *fc)
{
	return &fc->totals;
}

/* The entry of key (made if new) opened for one change: the store saves
 * it first, so a death before entry_change_end() leaves it as it was. */
static struct flow_entry *entry_change_begin(struct flow_cache *fc,
					     const struct flow_key *key,
					     bool *created)
{
	struct flow_entry *e = g_hash_table_lookup(fc->flows, key);

	*created = !e;
	if (!e) {
		e = cache_store_alloc(fc->store);
		if (!e)
			return NULL;
		cache_store_begin(fc->store, e);
		e->key = *key;
		flow_stats_empty(&e->acc);
		cache_store_set_live(fc->store, e, true);
		return e;
	}
	cache_store_begin(fc->store, e);
	return e;
}

static void entry_change_end(struct flow_cache *fc, struct flow_entry *e,
			     bool created)
{
	cache_store_end(fc->store);
	if (created)
		g_hash_table_insert(fc->flows, &e->key, e);
}

static void entry_remove(struct flow_cache *fc, struct flow_entry *e)
{
	g_hash_table_remove(fc->flows, &e->key);
	cache_store_set_live(fc->store, e, false);
}

#define MIN_INTO(a, b) do { if ((b) < (a)) (a) = (b); } while (0)
#define MAX_INTO(a, b) do { if ((b) > (a)) (a) = (b); } while (0)

/*
 * Fold a delta into the pending report. The inter-arrival sum of a flow's
 * packets in time order is the time from its first to its last packet;
 * each delta adds what it widens that span by, so the reports of a flow
 * sum to its span however the packets' times were ordered or split across
 * drains (captures need not be in time order).
 */
static void merge_stats(struct flow_entry *e, const struct flow_stats *d)
{
	struct flow_stats *a = &e->acc;

	if (!d->packets)
		return;
	if (!e->seen) {
		e->seen = true;
		e->born_ns = d->first_seen_ns;
		e->last_seen_ns = d->last_seen_ns;
		a->iat_sum_ns += d->last_seen_ns - d->first_seen_ns;
	} else {
		__u64 span = e->last_seen_ns - e->born_ns;

		MIN_INTO(e->born_ns, d->first_seen_ns);
		MAX_INTO(e->last_seen_ns, d->last_seen_ns);
		a->iat_sum_ns += e->last_seen_ns - e->born_ns - span;
	}
	if (!a->packets) {
		a->first_seen_ns = d->first_seen_ns;
		a->last_seen_ns = d->last_seen_ns;
		a->tos = d->tos;
		a->flow_label = d->flow_label;
		memcpy(a->src_mac, d->src_mac, sizeof(a->src_mac));
		memcpy(a->dst_mac, d->dst_mac, sizeof(a->dst_mac));
	}
	MIN_INTO(a->first_seen_ns, d->first_seen_ns);
	MAX_INTO(a->last_seen_ns, d->last_seen_ns);
	a->packets += d->packets;
	a->octets += d->octets;
	a->retrans_packets += d->retrans_packets;
	a->retrans_octets += d->retrans_octets;
	for (int i = 0; i < FLOW_SIZE_BINS; i++)
		a->size_hist[i] += d->size_hist[i];
	for (int i = 0; i < FLOW_TTL_BINS; i++)
		a->ttl_hist[i] += d->ttl_hist[i];
	a->tcp_flags |= d->tcp_flags;
	MIN_INTO(a->min_length, d->min_length);
	MAX_INTO(a->max_length, d->max_length);
	MIN_INTO(a->min_ttl, d->min_ttl);
	MAX_INTO(a->max_ttl, d->max_ttl);
	MIN_INTO(a->tcp_win_min, d->tcp_win_min);
	MAX_INTO(a->tcp_win_max, d->tcp_win_max);
	if (d->tcp_mss)
		a->tcp_mss = d->tcp_mss;
	if (d->tcp_wscale != 0xff)
		a->tcp_wscale = d->tcp_wscale;
	if (d->seq.next_seq)
		a->seq = d->seq;
	if (d->tcp_flags & (TCP_FIN | TCP_RST))
		e->closing = true;
}

int flow_cache_merge_marked(struct flow_cache *fc, const struct flow_key *key,
			    const struct flow_stats *delta, __u64 mark)
{
	struct flow_entry *e = g_hash_table_lookup(fc->flows, key);
	bool created;

	if (mark && e && e->mark == mark)
		return 0; /* merged before a crash: once is enough */
	e = entry_change_begin(fc, key, &created);
	if (!e)
		return -ENOMEM;
	merge_stats(e, delta);
	e->mark = mark;
	entry_change_end(fc, e, created);
	return 0;
}

int flow_cache_merge(struct flow_cache *fc, const struct flow_key *key,
		     const struct flow_stats *delta)
{
	return flow_cache_merge_marked(fc, key, delta, 0);
}

static __u32 size_bin(__u32 len)
{
	static const __u32 limits[FLOW_SIZE_BINS - 1] = { 128, 256, 512, 1024, 1514 };
	__u32 i = 0;

	while (i < FLOW_SIZE_BINS - 1 && len >= limits[i])
		i++;
	return i;
}

/* A ring packet becomes a delta of the wire packets it stands for (one,
 * or a GSO packet's segments), merged like a table entry. */
int flow_cache_merge_event(struct flow_cache *fc, const struct flow_event *ev,
			   __u64 mark)
{
	struct flow_stats d;
	__u32 ttl_bin = ev->ttl / FLOW_TTL_BIN_WIDTH;

	flow_stats_empty(&d);
	d.first_seen_ns = d.last_seen_ns = ev->ts_ns;
	d.packets = ev->segs ? ev->segs : 1;
	d.octets = ev->segs > 1 ? ev->wire_octets : ev->ip_length;
	d.size_hist[size_bin(ev->ip_length)] = d.packets;
	d.ttl_hist[ttl_bin < FLOW_TTL_BINS ? ttl_bin : FLOW_TTL_BINS - 1] = d.packets;
	d.min_length = d.max_length = ev->ip_length;
	d.min_ttl = d.max_ttl = ev->ttl;
	d.tos = ev->tos;
	d.flow_label = ev->flow_label;
	memcpy(d.src_mac, ev->src_mac, sizeof(d.src_mac));
	memcpy(d.dst_mac, ev->dst_mac, sizeof(d.dst_mac));
	d.tcp_flags = ev->tcp_flags;
	return flow_cache_merge_marked(fc, &ev->key, &d, mark);
}

/*
 * What a biflow pair is (--biflow): two flows of opposite directions with
 * the same IP version, protocol and VLAN, the addresses swapped and the
 * ports swapped. ICMP and ICMPv6 pair only an echo request with the echo
 * reply of the same identifier: other messages (unreachable, time
 * exceeded, ...) answer nothing and stay one-way records. The two
 * directions may enter by different metered interfaces (a router or a
 * bridge metered on both sides); a partner on the same interface comes
 * first, and a pair is made only when each is the other's partner, so
 * that every flow is in at most one pair.
 */

/* The key of the other direction (ifindex unchanged; metered the other
 * way: a host's request leaves at egress, its reply arrives at ingress);
 * false when the flow has no other direction to pair with. */
static bool reverse_key(const struct flow_key *k, struct flow_key *r)
{
	*r = *k;
	r->direction = !k->direction;
	memcpy(r->src_addr, k->dst_addr, sizeof(r->src_addr));
	memcpy(r->dst_addr, k->src_addr, sizeof(r->dst_addr));
	if (k->protocol == 1 || k->protocol == 58) {
		static const __u16 echo[2][2] = { { 8 << 8, 0 },
						  { 128 << 8, 129 << 8 } };
		int v6 = k->protocol == 58;

		if (k->dst_port == echo[v6][0])
			r->dst_port = echo[v6][1];
		else if (k->dst_port == echo[v6][1])
			r->dst_port = echo[v6][0];
		else
			return false;
		return true;
	}
	r->src_port = k->dst_port;
	r->dst_port = k->src_port;
	return true;
}

/* The flow e would pair with: the other direction on e's interface (as
 * the other hook metered it, else as the same hook did), else on the first
 * metered interface that has it. */
static struct flow_entry *partner(struct flow_cache *fc,
				  const struct flow_entry *e)
{
	struct flow_key rk;
	struct flow_entry *r;

	if (!reverse_key(&e->key, &rk))
		return NULL;
	for (int same_dir = 0; same_dir < 2; same_dir++) {
		rk.direction = same_dir ? e->key.direction : !e->key.direction;
		rk.ifindex = e->key.ifindex;
		r = g_hash_table_lookup(fc->flows, &rk);
		if (r)
			return r == e ? NULL : r;
	}
	for (int i = 0; i < fc->n_ifindex; i++) {
		if (fc->ifindex[i] == e->key.ifindex)
			continue;
		rk.ifindex = fc->ifindex[i];
		for (int dir = 0; dir < FLOW_DIRECTIONS; dir++) {
			rk.direction = dir;
			r = g_hash_table_lookup(fc->flows, &rk);
			if (r)
				return r;
		}
	}
	return NULL;
}

static struct flow_entry *reverse_of(struct flow_cache *fc,
				     const struct flow_entry *e)
{
	struct flow_entry *r;

	if (!fc->cfg->biflow)
		return NULL;
	r = partner(fc, e);
	/* mutual only: a flow has one partner at most */
	if (r && partner(fc, r) != e)
		return NULL;
	return r;
}

/* Timeouts of a flow, or of a biflow pair seen as one: idle when both
 * directions are idle, closed when either saw FIN/RST, active when the
 * older pending report is due. 0: nothing to do yet. */
static __u8 timeout_reason(const struct flow_cache *fc,
			   const struct flow_entry *e,
			   const struct flow_entry *r, __u64 now)
{
	__u64 last = e->last_seen_ns, start = 0;
	bool closing = e->closing, pending = false;

	if (r) {
		MAX_INTO(last, r->last_seen_ns);
		closing |= r->closing;
	}
	/* a closed flow that is also idle ended by FIN/RST: say so */
	if (closing && now >= last + FLOW_FIN_GRACE_NS)
		return END_OF_FLOW;
	if (now >= last + fc->cfg->idle_timeout * NS_PER_SEC)
		return END_IDLE;
	if (e->acc.packets) {
		start = e->acc.first_seen_ns;
		pending = true;
	}
	if (r && r->acc.packets && (!pending || r->acc.first_seen_ns < start)) {
		start = r->acc.first_seen_ns;
		pending = true;
	}
	if (fc->cfg->active_timeout && pending &&
	    now >= start + fc->cfg->active_timeout * NS_PER_SEC)
		return END_ACTIVE;
	return 0;
}

static __u64 to_epoch_ms(const struct flow_cache *fc, __u64 kernel_ns)
{
	return (__u64)((__s64)kernel_ns + fc->epoch_offset_ns) / 1000000ULL;
}

/* Turn a verdict into a record (if it carries packets). The direction
 * that was seen first is the forward one, unless only the other has
 * packets pending in this report. */
static void append_record(struct flow_cache *fc, const struct verdict *v)
{
	const struct flow_entry *f = v->e, *r = v->rev;
	struct flow_record rec;

	if (r && (r->born_ns < f->born_ns ||
		  (r->born_ns == f->born_ns &&
		   memcmp(&r->key, &f->key, sizeof(f->key)) < 0))) {
		f = v->rev;
		r = v->e;
	}
	if (r && !f->acc.packets) {
		const struct flow_entry *t = f;

		f = r;
		r = t;
	}
	if (!f->acc.packets)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.key = f->key;
	rec.fwd = f->acc;
	rec.start_ms = to_epoch_ms(fc, f->acc.first_seen_ns);
	rec.end_ms = to_epoch_ms(fc, f->acc.last_seen_ns);
	rec.end_reason = v->reason;
	fc->totals.packets += f->acc.packets;
	fc->totals.octets += f->acc.octets;
	if (r && r->acc.packets) {
		rec.has_reverse = 1;
		rec.rev = r->acc;
		rec.rev_start_ms = to_epoch_ms(fc, r->acc.first_seen_ns);
		rec.rev_end_ms = to_epoch_ms(fc, r->acc.last_seen_ns);
		fc->totals.packets += r->acc.packets;
		fc->totals.octets += r->acc.octets;
	}
	fc->totals.records++;
	g_array_append_val(fc->out, rec);
}

static int record_cmp(const void *a, const void *b)
{
	const struct flow_record *x = a, *y = b;

	if (x->start_ms != y->start_ms)
		return x->start_ms < y->start_ms ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Carry out the verdicts: records first (entries still alive), then the
 * active ones start a new report and the others leave the cache. */
static void apply(struct flow_cache *fc, GArray *verdicts)
{
	for (guint i = 0; i < verdicts->len; i++)
		append_record(fc, &g_array_index(verdicts, struct verdict, i));
	for (guint i = 0; i < verdicts->len; i++) {
		struct verdict *v = &g_array_index(verdicts, struct verdict, i);

		if (v->reason == END_ACTIVE) {
			cache_store_begin(fc->store, v->e);
			flow_stats_empty(&v->e->acc);
			cache_store_end(fc->store);
			if (v->rev) {
				cache_store_begin(fc->store, v->rev);
				flow_stats_empty(&v->rev->acc);
				cache_store_end(fc->store);
			}
			continue;
		}
		if (v->rev)
			entry_remove(fc, v->rev);
		entry_remove(fc, v->e);
	}
	if (fc->out->len) {
		qsort(fc->out->data, fc->out->len, sizeof(struct flow_record),
		      record_cmp);
		fc->emit(fc->emit_ctx, (const struct flow_record *)fc->out->data,
			 fc->out->len);
		g_array_set_size(fc->out, 0);
	}
	g_array_set_size(verdicts, 0);
}

static void decide(struct flow_cache *fc, GArray *verdicts,
		   struct flow_entry *e, __u8 reason)
{
	struct verdict v = { .e = e, .rev = reverse_of(fc, e), .reason = reason };

	e->pass = fc->pass;
	if (v.rev)
		v.rev->pass = fc->pass;
	g_array_append_val(verdicts, v);
}

static int oldest_first(const void *a, const void *b)
{
	const struct flow_entry *x = *(struct flow_entry *const *)a;
	const struct flow_entry *y = *(struct flow_entry *const *)b;

	if (x->last_seen_ns != y->last_seen_ns)
		return x->last_seen_ns < y->last_seen_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Above max_flows, the least recently seen flows end early (flowEndReason
 * lack of resources) so that memory stays bounded. */
static void relieve_pressure(struct flow_cache *fc, GArray *verdicts)
{
	guint n = g_hash_table_size(fc->flows), excess, i = 0;
	struct flow_entry **all;
	GHashTableIter it;
	gpointer val;

	if (n <= fc->cfg->max_flows)
		return;
	excess = n - fc->cfg->max_flows;
	all = g_new(struct flow_entry *, n);
	g_hash_table_iter_init(&it, fc->flows);
	while (g_hash_table_iter_next(&it, NULL, &val))
		all[i++] = val;
	qsort(all, n, sizeof(*all), oldest_first);
	fc->pass++;
	for (i = 0; i < n && excess > 0; i++) {
		if (all[i]->pass == fc->pass)
			continue;
		decide(fc, verdicts, all[i], END_LACK_OF_RESOURCES);
		excess -= (excess > 1 && reverse_of(fc, all[i])) ? 2 : 1;
		fc->totals.pressure_evictions++;
	}
	g_free(all);
	apply(fc, verdicts);
}

void flow_cache_expire(struct flow_cache *fc, __u64 now_ns)
{
	GArray *verdicts = g_array_new(FALSE, FALSE, sizeof(struct verdict));
	GHashTableIter it;
	gpointer val;

	fc->pass++;
	g_hash_table_iter_init(&it, fc->flows);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct flow_entry *e = val;
		__u8 reason;

		if (e->pass == fc->pass)
			continue;
		reason = timeout_reason(fc, e, reverse_of(fc, e), now_ns);
		if (reason)
			decide(fc, verdicts, e, reason);
	}
	apply(fc, verdicts);
	relieve_pressure(fc, verdicts);
	g_array_free(verdicts, TRUE);
}

void flow_cache_flush(struct flow_cache *fc, __u8 end_reason)
{
	GArray *verdicts = g_array_new(FALSE, FALSE, sizeof(struct verdict));
	GHashTableIter it;
	gpointer val;

	fc->pass++;
	g_hash_table_iter_init(&it, fc->flows);
	while (g_hash_table_iter_next(&it, NULL, &val))
		if (((struct flow_entry *)val)->pass != fc->pass)
			decide(fc, verdicts, val, end_reason);
	apply(fc, verdicts);
	g_array_free(verdicts, TRUE);
}
