// SPDX-License-Identifier: GPL-2.0
/*
 * flowtable.c - the user-space flow cache: know the flows of the kernel
 * table, merge kernel deltas and overflow packets into long-lived flows,
 * check each flow (or biflow pair) when it may be due (a timer wheel),
 * and hand the records out sorted, so that the same input always gives the
 * same output.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <net/if.h>
#include "cache_store.h"
#include "flow_index.h"
#include "flowtable.h"

#define NS_PER_SEC 1000000000ULL
#define TCP_FIN 0x01
#define TCP_RST 0x04
/* The timer wheel: one-second slots; a flow due further ahead than the
 * wheel turns waits in its slot and is passed over until then. */
#define WHEEL_SLOTS 4096
#define NEVER (~0ULL)
/* Flows closed before their grace period, FINAL and ring read: a bound on
 * the packets of closing flows that wait in the overflow ring. */
#define END_CHUNK (8 * TABLE_OP_BATCH)
/* An entry found closing is reopened only when it has stayed so this long
 * (a -M peer FINALs what it closed a grace period later), or at once when
 * our own dead run left it. */
#define REOPEN_AFTER_NS (2ULL * NS_PER_SEC)

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
	bool fin_noted;          /* a notice said FIN or RST: due after the
				  * FIN grace; the PEEK then tells (the
				  * notice may be stale: an entry since
				  * deleted, the key's new flow) */
	bool in_kernel;          /* the kernel table has an entry for it */
	bool k_pending;          /* ... holding packets (as last peeked) */
	bool op_failed;          /* its CLOSE or FINAL did not run: its end
				  * waits for the next check */
	__u64 k_closing_since;   /* first found closing (1: adopted) */
	bool k_closing;          /* ... closed (or maybe: adopted after a
				  * crash) and not deleted: checked at
				  * once, then ended or reopened */
	__u64 k_last_ns;         /* its last packet, as last known */
	__u64 k_start_ns;        /* its pending packets' first (k_pending),
				  * else when it was last found empty: no
				  * pending packet can be older */
	__u64 due_ns;            /* next check: never later than it is due */
	/* the wheel's list of its slot; rebuilt when a cache is adopted */
	struct flow_entry *wnext, *wprev;
	bool filed;
};

struct flow_cache {
	const struct config *cfg;
	__s64 epoch_offset_ns;
	flow_emit_fn emit;
	void *emit_ctx;
	struct flow_index *flows; /* by key (the entry begins with it) */
	struct cache_store *store; /* where the entries live (cache_store.h) */
	__u32 pass;
	struct flow_cache_totals totals;
	struct table_ops *ops;   /* NULL: no kernel table */
	struct flow_entry *wheel[WHEEL_SLOTS];
	__u64 wheel_s;          /* the second the last pass looked at */
	bool wheel_started;     /* else the next pass looks at all slots */
	__u32 ifindex[MAX_IFACES]; /* the metered interfaces, for biflow pairs */
	int n_ifindex;
};

/* One expiry decision: a flow, its reverse when pairing, and why. */
struct verdict {
	struct flow_entry *e;
	struct flow_entry *rev;
	__u8 reason;
};

static void wheel_unlink(struct flow_cache *fc, struct flow_entry *e)
{
	if (!e->filed)
		return;
	if (e->wprev)
		e->wprev->wnext = e->wnext;
	else
		fc->wheel[(e->due_ns / NS_PER_SEC) % WHEEL_SLOTS] = e->wnext;
	if (e->wnext)
		e->wnext->wprev = e->wprev;
	e->wnext = e->wprev = NULL;
	e->filed = false;
}

static void wheel_link(struct flow_cache *fc, struct flow_entry *e)
{
	struct flow_entry **head = &fc->wheel[(e->due_ns / NS_PER_SEC) % WHEEL_SLOTS];

	e->wprev = NULL;
	e->wnext = *head;
	if (*head)
		(*head)->wprev = e;
	*head = e;
	e->filed = true;
}

static __u64 min_u64(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

/* The last packet of a flow as far as we know (from deltas merged and
 * from the kernel entry): never later than the real one. */
static __u64 last_known(const struct flow_entry *e)
{
	__u64 last = e->seen ? e->last_seen_ns : 0;

	if (e->in_kernel && e->k_last_ns > last)
		last = e->k_last_ns;
	return last;
}

static __u64 due_time(struct flow_cache *fc, const struct flow_entry *e);

/* (Re)file a flow at its next check; never earlier than the wheel's
 * cursor, so that it is looked at in a later pass. */
static void wheel_file(struct flow_cache *fc, struct flow_entry *e)
{
	wheel_unlink(fc, e);
	e->due_ns = due_time(fc, e);
	if (fc->wheel_started && e->due_ns / NS_PER_SEC < fc->wheel_s)
		e->due_ns = fc->wheel_s * NS_PER_SEC;
	wheel_link(fc, e);
}

/* Out of memory for the index: abort, as GLib's table did (an entry
 * the index does not know would be counted again under a new one). */
static void index_add(struct flow_cache *fc, struct flow_entry *e)
{
	if (flow_index_add(fc->flows, e))
		abort();
}

static void adopt_entry(void *item, void *ctx)
{
	struct flow_cache *fc = ctx;
	struct flow_entry *e = item;

	e->pass = 0;
	e->filed = false;
	e->op_failed = false;
	/* the run that left it may have died between CLOSE and FINAL */
	if (e->in_kernel) {
		e->k_closing = true;
		e->k_closing_since = 1;
	}
	e->wnext = e->wprev = NULL;
	index_add(fc, e);
	wheel_file(fc, e);
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
	fc->flows = flow_index_new();
	if (!fc->flows) {
		cache_store_close(fc->store, false);
		free(fc);
		return NULL;
	}
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
	cache_store_close(fc->store, flow_index_count(fc->flows) == 0);
	flow_index_free(fc->flows);
	free(fc);
}

void flow_cache_set_epoch_offset(struct flow_cache *fc, __s64 epoch_offset_ns)
{
	fc->epoch_offset_ns = epoch_offset_ns;
}

static void refile_entry(void *item, void *ctx)
{
	wheel_file(ctx, item);
}

void flow_cache_refile_all(struct flow_cache *fc)
{
	flow_index_for_each(fc->flows, refile_entry, fc);
}

void flow_cache_set_table_ops(struct flow_cache *fc, struct table_ops *ops)
{
	fc->ops = ops;
}

struct cache_journal *flow_cache_journal(struct flow_cache *fc)
{
	return cache_store_journal(fc->store);
}

size_t flow_cache_count(const struct flow_cache *fc)
{
	return flow_index_count(fc->flows);
}

const struct flow_cache_totals *flow_cache_totals(const struct flow_cache *fc)
{
	return &fc->totals;
}

/* A report with nothing pending: no packet, no time (FLOW_FIRST_NONE) */
static void acc_empty(struct flow_stats *a)
{
	flow_stats_empty(a);
	a->first_seen_ns = FLOW_FIRST_NONE;
}

/* The entry of key, e as looked up (NULL: made now), opened for one
 * change: the store saves it first, so a death before entry_change_end()
 * leaves it as it was. */
static struct flow_entry *entry_change_begin(struct flow_cache *fc,
					     struct flow_entry *e,
					     const struct flow_key *key,
					     bool *created)
{
	*created = !e;
	if (!e) {
		e = cache_store_alloc(fc->store);
		if (!e)
			return NULL;
		cache_store_begin(fc->store, e);
		e->key = *key;
		acc_empty(&e->acc);
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
	if (created) {
		index_add(fc, e);
		wheel_file(fc, e);
	}
}

static void entry_remove(struct flow_cache *fc, struct flow_entry *e)
{
	wheel_unlink(fc, e);
	flow_index_remove(fc->flows, e);
	cache_store_set_live(fc->store, e, false);
}

#define MIN_INTO(a, b) do { if ((b) < (a)) (a) = (b); } while (0)
#define MAX_INTO(a, b) do { if ((b) > (a)) (a) = (b); } while (0)

/* Widen the flow's and the pending report's span to [first, last]. The
 * inter-arrival sum of a flow's packets in time order is the time from its
 * first to its last packet; each delta adds what it widens that span by,
 * so the reports of a flow sum to its span however the packets' times
 * were ordered or split across harvests (captures need not be in time
 * order). */
static void merge_times(struct flow_entry *e, __u64 first, __u64 last)
{
	struct flow_stats *a = &e->acc;

	if (!e->seen) {
		e->seen = true;
		e->born_ns = first;
		e->last_seen_ns = last;
		a->iat_sum_ns += last - first;
	} else {
		__u64 span = e->last_seen_ns - e->born_ns;

		MIN_INTO(e->born_ns, first);
		MAX_INTO(e->last_seen_ns, last);
		a->iat_sum_ns += e->last_seen_ns - e->born_ns - span;
	}
	if (a->first_seen_ns == FLOW_FIRST_NONE) {
		a->first_seen_ns = first;
		a->last_seen_ns = last;
	}
	MIN_INTO(a->first_seen_ns, first);
	MAX_INTO(a->last_seen_ns, last);
}

/*
 * Fold a delta into the pending report. A harvest takes the counters one
 * exchange after the other while packets update them: a packet's count
 * may land in one delta and its octets, histogram bins, flags or first
 * time in the next (or the one before), so every delta is merged, also
 * one with no packet. Times count when the delta has a first time (a
 * packet set it) or packets; a delta with packets whose first time went
 * to an earlier delta starts where the pending report does, else at its
 * last time.
 */
static void merge_stats(struct flow_entry *e, const struct flow_stats *d)
{
	struct flow_stats *a = &e->acc;

	if (d->packets || d->first_seen_ns != FLOW_FIRST_NONE) {
		__u64 first = d->first_seen_ns, last = d->last_seen_ns;

		if (first == FLOW_FIRST_NONE)
			first = a->first_seen_ns != FLOW_FIRST_NONE &&
					a->first_seen_ns <= last ?
				a->first_seen_ns : last;
		/* first taken after the packet set it, last read before */
		MAX_INTO(last, first);
		merge_times(e, first, last);
	}
	if (d->packets && !a->packets) {
		a->tos = d->tos;
		a->flow_label = d->flow_label;
		memcpy(a->src_mac, d->src_mac, sizeof(a->src_mac));
		memcpy(a->dst_mac, d->dst_mac, sizeof(a->dst_mac));
		memcpy(a->mpls, d->mpls, sizeof(a->mpls));
	}
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

/* A delta into the entry of key, e as looked up (NULL: none yet). mark:
 * 0, or the delta's merge mark; an entry that carries a mark in [mark,
 * last] had this delta merged before a crash (flow_cache_merge_event). */
static int merge_found(struct flow_cache *fc, struct flow_entry *e,
		       const struct flow_key *key,
		       const struct flow_stats *delta, __u64 mark,
		       __u64 last, bool gone)
{
	bool created;

	if (mark && e && e->mark >= mark && e->mark <= last)
		return 0; /* merged before a crash: once is enough */
	e = entry_change_begin(fc, e, key, &created);
	if (!e)
		return -ENOMEM;
	merge_stats(e, delta);
	e->mark = mark;
	if (gone) {
		e->in_kernel = false;
		e->k_closing = false;
		e->k_closing_since = 0;
		e->fin_noted = false;
	}
	entry_change_end(fc, e, created);
	/* a FIN, or packets pending again: may be due sooner than filed */
	if (!created && e->filed && due_time(fc, e) < e->due_ns)
		wheel_file(fc, e);
	return 0;
}

static int merge_delta(struct flow_cache *fc, const struct flow_key *key,
		       const struct flow_stats *delta, __u64 mark, __u64 last,
		       bool gone)
{
	return merge_found(fc, flow_index_find(fc->flows, key), key, delta,
			   mark, last, gone);
}

int flow_cache_merge_marked(struct flow_cache *fc, const struct flow_key *key,
			    const struct flow_stats *delta, __u64 mark)
{
	return merge_delta(fc, key, delta, mark, mark, false);
}

/*
 * A table read in bulk: n distinct keys (a table holds each once). A
 * group of them looked up in steps, the index's cells fetched for all,
 * then the entries they point to, then the keys checked; then each
 * merged with the next entries' memory prefetched: at a million flows
 * every cell and entry is a cache miss, and these overlap, where one
 * lookup, one merge after the other waited for each in turn.
 */
#define MERGE_GROUP 256
#define MERGE_AHEAD 4

static void prefetch_entry(const struct flow_entry *e)
{
	for (size_t off = 0; off < sizeof(*e); off += 64)
		__builtin_prefetch((const char *)e + off, 1);
}

int flow_cache_merge_taken_many(struct flow_cache *fc,
				const struct flow_key *keys,
				const struct flow_stats *deltas, size_t n,
				__u64 mark)
{
	struct flow_entry *found[MERGE_GROUP];
	__u32 hash[MERGE_GROUP];
	int ret = 0;

	for (size_t base = 0; base < n; base += MERGE_GROUP) {
		size_t m = n - base < MERGE_GROUP ? n - base : MERGE_GROUP;

		/* the cells, then the entries they point to, ahead; an
		 * entry found by its hash is checked by its key */
		for (size_t i = 0; i < m; i++) {
			hash[i] = flow_index_hash(&keys[base + i]);
			flow_index_cell_prefetch(fc->flows, hash[i]);
		}
		for (size_t i = 0; i < m; i++) {
			found[i] = flow_index_candidate(fc->flows, hash[i]);
			if (found[i])
				__builtin_prefetch(found[i]);
		}
		for (size_t i = 0; i < m; i++)
			if (!found[i] || memcmp(&found[i]->key, &keys[base + i],
						sizeof(keys[i])))
				found[i] = flow_index_find_hashed(fc->flows,
								  &keys[base + i], hash[i]);
		for (size_t i = 0; i < m && i < MERGE_AHEAD; i++)
			if (found[i])
				prefetch_entry(found[i]);
		for (size_t i = 0; i < m; i++) {
			int err;

			if (i + MERGE_AHEAD < m && found[i + MERGE_AHEAD])
				prefetch_entry(found[i + MERGE_AHEAD]);
			err = merge_found(fc, found[i], &keys[base + i],
					  &deltas[base + i], mark, mark, true);
			if (err && !ret)
				ret = err;
		}
	}
	return ret;
}

void flow_cache_prefetch(const struct flow_cache *fc, const struct flow_key *key)
{
	flow_index_cell_prefetch(fc->flows, flow_index_hash(key));
}

int flow_cache_note(struct flow_cache *fc, const struct flow_key *key,
		    __u64 first_ns, __u64 last_ns, __u32 kind, __u32 state)
{
	struct flow_entry *e = flow_index_find(fc->flows, key);
	bool created;

	/* known as it is (a walk finds most keys so): no store write */
	if (e && e->in_kernel && first_ns >= e->k_start_ns &&
	    last_ns <= e->k_last_ns &&
	    (kind != NOTICE_END || e->closing || e->fin_noted) &&
	    (state != FLOW_CLOSING || e->k_closing))
		return 0;
	e = entry_change_begin(fc, e, key, &created);
	if (!e)
		return -ENOMEM;
	if (!e->in_kernel) {
		e->in_kernel = true;
		e->k_pending = true;
		e->k_start_ns = first_ns;
		e->k_last_ns = last_ns;
	} else {
		e->k_start_ns = min_u64(e->k_start_ns, first_ns);
		if (last_ns > e->k_last_ns)
			e->k_last_ns = last_ns;
	}
	if (kind == NOTICE_END)
		e->fin_noted = true;
	if (state == FLOW_CLOSING)
		e->k_closing = true;
	entry_change_end(fc, e, created);
	if (!created && (!e->filed || due_time(fc, e) < e->due_ns))
		wheel_file(fc, e);
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
			   __u64 mark, __u64 last)
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
	memcpy(d.mpls, ev->mpls, sizeof(d.mpls));
	d.tcp_flags = ev->tcp_flags;
	return merge_delta(fc, &ev->key, &d, mark, last, false);
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
		r = flow_index_find(fc->flows, &rk);
		if (r)
			return r == e ? NULL : r;
	}
	for (int i = 0; i < fc->n_ifindex; i++) {
		if (fc->ifindex[i] == e->key.ifindex)
			continue;
		rk.ifindex = fc->ifindex[i];
		for (int dir = 0; dir < FLOW_DIRECTIONS; dir++) {
			rk.direction = dir;
			r = flow_index_find(fc->flows, &rk);
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

/* The earliest time a check could find the flow due (timeout_reason): its
 * idle, FIN and active deadlines from what we know, each a lower bound;
 * of a biflow pair as one (latest last packet, earliest start, closing if
 * either is), so that an idle direction of an active pair is not checked
 * again every pass. */
static __u64 due_time(struct flow_cache *fc, const struct flow_entry *e)
{
	const struct flow_entry *r = reverse_of(fc, e);
	__u64 last = 0, due, start = NEVER;
	bool closing = false;

	for (const struct flow_entry *x = e; x; x = x == e ? r : NULL) {
		if (x->in_kernel && x->k_closing) /* its packets go through
						   * the ring meanwhile */
			return x->k_closing_since ?
				x->k_closing_since + REOPEN_AFTER_NS : 0;
		MAX_INTO(last, last_known(x));
		closing |= x->closing || x->fin_noted;
		if (x->acc.packets)
			start = min_u64(start, x->acc.first_seen_ns);
		if (x->in_kernel)
			start = min_u64(start, x->k_start_ns);
	}
	due = last + fc->cfg->idle_timeout * NS_PER_SEC;
	if (closing)
		due = min_u64(due, last + FLOW_FIN_GRACE_NS);
	if (fc->cfg->active_timeout && start != NEVER)
		due = min_u64(due, start + fc->cfg->active_timeout * NS_PER_SEC);
	return due;
}

/* Timeouts of a flow, or of a biflow pair seen as one: idle when both
 * directions are idle, closed when either saw FIN/RST, active when the
 * older pending report is due. What the kernel entries hold is as peeked
 * just before. 0: nothing to do yet. */
static __u8 timeout_reason(const struct flow_cache *fc,
			   const struct flow_entry *e,
			   const struct flow_entry *r, __u64 now)
{
	__u64 last = last_known(e), start = NEVER;
	bool closing = e->closing;

	if (r) {
		MAX_INTO(last, last_known(r));
		closing |= r->closing;
	}
	/* a closed flow that is also idle ended by FIN/RST: say so */
	if (closing && now >= last + FLOW_FIN_GRACE_NS)
		return END_OF_FLOW;
	if (now >= last + fc->cfg->idle_timeout * NS_PER_SEC)
		return END_IDLE;
	for (const struct flow_entry *x = e; x; x = x == e ? r : NULL) {
		if (x->acc.packets)
			start = min_u64(start, x->acc.first_seen_ns);
		if (x->in_kernel && x->k_pending)
			start = min_u64(start, x->k_start_ns);
	}
	if (fc->cfg->active_timeout && start != NEVER &&
	    now >= start + fc->cfg->active_timeout * NS_PER_SEC)
		return END_ACTIVE;
	return 0;
}

static __u64 to_epoch_ms(const struct flow_cache *fc, __u64 kernel_ns)
{
	return (__u64)((__s64)kernel_ns + fc->epoch_offset_ns) / 1000000ULL;
}

/* The sides of a verdict's record: the direction that was seen first is
 * the forward one, unless only the other has packets pending in this
 * report. false: no record (no packets pending). */
static bool record_sides(const struct verdict *v, const struct flow_entry **fp,
			 const struct flow_entry **rp)
{
	const struct flow_entry *f = v->e, *r = v->rev;

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
	*fp = f;
	*rp = r;
	return f->acc.packets != 0;
}

static void fill_record(struct flow_cache *fc, const struct verdict *v,
			const struct flow_entry *f, const struct flow_entry *r,
			struct flow_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->key = f->key;
	rec->fwd = f->acc;
	rec->start_ms = to_epoch_ms(fc, f->acc.first_seen_ns);
	rec->end_ms = to_epoch_ms(fc, f->acc.last_seen_ns);
	rec->end_reason = v->reason;
	fc->totals.packets += f->acc.packets;
	fc->totals.octets += f->acc.octets;
	if (r && r->acc.packets) {
		rec->has_reverse = 1;
		rec->rev = r->acc;
		rec->rev_start_ms = to_epoch_ms(fc, r->acc.first_seen_ns);
		rec->rev_end_ms = to_epoch_ms(fc, r->acc.last_seen_ns);
		fc->totals.packets += r->acc.packets;
		fc->totals.octets += r->acc.octets;
	}
	fc->totals.records++;
}

/* What records sort by, beside where each is: small and together, so that
 * sorting a million of them does not chase a million records. The key is
 * only read to order records of the same start time, which were mostly
 * made together and lie together (and fresh memory is dear here: a
 * million items of the whole key took 64 MB, twice). */
struct sort_item {
	__u64 start_ms;
	const struct flow_key *key;
	__u32 idx;
	__u32 next4;   /* in a run of one start time: the four key bytes after
			* those all its keys share, big-endian (run_keys) */
};

/* Within a run of one start time: next4 orders as memcmp would, as far as
 * it goes (the bytes before it are equal). */
static int sort_item_cmp(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (x->next4 != y->next4)
		return x->next4 < y->next4 ? -1 : 1;
	return memcmp(x->key, y->key, sizeof(*x->key));
}

/* Sets next4 for the n items of a run: the keys of one start time share
 * their first bytes (interface, VLAN, version, protocol, most of an IPv4
 * mapped address), where memcmp spent most of a sort's time. */
static void run_keys(struct sort_item *items, size_t n)
{
	const __u8 *first = (const __u8 *)items[0].key;
	size_t shared = sizeof(struct flow_key) - 4;

	for (size_t i = 1; i < n && shared; i++) {
		const __u8 *k = (const __u8 *)items[i].key;
		size_t b = 0;

		while (b < shared && k[b] == first[b])
			b++;
		shared = b;
	}
	for (size_t i = 0; i < n; i++) {
		const __u8 *k = (const __u8 *)items[i].key + shared;

		items[i].next4 = (__u32)k[0] << 24 | k[1] << 16 | k[2] << 8 | k[3];
	}
}

/*
 * Sort by start time: a radix sort, 11 bits a pass over the span of the
 * times (one to three passes). Returns the array that holds the result
 * (items or tmp). The runs of one start time are then ordered by key as
 * they are emitted (sort_runs_upto).
 */
#define RADIX_BITS 11

static struct sort_item *sort_by_start(struct sort_item *items,
				       struct sort_item *tmp, size_t n)
{
	struct sort_item *src = items, *dst = tmp, *t;
	__u64 lo = ~0ULL, hi = 0;
	size_t count[1 << RADIX_BITS];

	for (size_t i = 0; i < n; i++) {
		MIN_INTO(lo, items[i].start_ms);
		MAX_INTO(hi, items[i].start_ms);
	}
	for (unsigned int shift = 0; n > 1 && shift < 64 && (hi - lo) >> shift;
	     shift += RADIX_BITS) {
		size_t pos = 0;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[((src[i].start_ms - lo) >> shift) & ((1 << RADIX_BITS) - 1)]++;
		for (size_t d = 0; d < (1 << RADIX_BITS); d++) {
			size_t c = count[d];

			count[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[((src[i].start_ms - lo) >> shift) &
				  ((1 << RADIX_BITS) - 1)]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	return src;
}

/* Orders by key the runs of one start time from *done on, until the
 * first upto items are in their final order. Done while the records
 * before are emitted: at exit the exporter encodes those meanwhile. */
static void sort_runs_upto(struct sort_item *items, size_t n, size_t *done,
			   size_t upto)
{
	while (*done < n && *done < upto) {
		size_t i = *done, j;

		for (j = i + 1; j < n && items[j].start_ms == items[i].start_ms; j++)
			;
		if (j - i > 1) {
			run_keys(items + i, j - i);
			qsort(items + i, j - i, sizeof(*items), sort_item_cmp);
		}
		*done = j;
	}
}

/*
 * Kernel operations for a list of flows, TABLE_OP_BATCH at a time; each
 * slot's result is handed to done() (PEEK) after its batch ran. HARVEST
 * and FINAL deltas are merged by ops->run itself.
 */
struct op_list {
	struct flow_entry **e;
	guint n, cap;
};

static void op_list_add(struct op_list *l, struct flow_entry *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->e = g_renew(struct flow_entry *, l->e, l->cap);
	}
	l->e[l->n++] = e;
}

static void run_ops(struct flow_cache *fc, struct op_list *l, __u32 op,
		    __u64 now)
{
	struct table_op_slot *slots = fc->ops->slots;

	for (guint base = 0; base < l->n; base += TABLE_OP_BATCH) {
		guint n = l->n - base < TABLE_OP_BATCH ? l->n - base : TABLE_OP_BATCH;

		for (guint i = 0; i < n; i++) {
			slots[i].key = l->e[base + i]->key;
			slots[i].op = op;
		}
		if (fc->ops->run(fc->ops, n)) {
			/* said why; nothing of the batch ran */
			for (guint i = 0; i < n && (op == OP_CLOSE || op == OP_FINAL); i++)
				l->e[base + i]->op_failed = true;
			fc->totals.op_failures += n;
			continue;
		}
		for (guint i = 0; i < n; i++) {
			struct flow_entry *e = l->e[base + i];
			const struct table_op_slot *s = &slots[i];

			if (s->result != OPR_DONE || op == OP_FINAL) {
				/* gone: ended by another instance (-M), or
				 * deleted by us */
				e->in_kernel = false;
				e->k_closing = false;
				e->k_closing_since = 0;
				e->fin_noted = false;
				continue;
			}
			if (op == OP_CLOSE || op == OP_REOPEN) {
				e->k_closing = op == OP_CLOSE;
				e->k_closing_since = 0;
			} else if (op == OP_PEEK) {
				e->k_closing = s->stats.state == FLOW_CLOSING;
				if (!e->k_closing)
					e->k_closing_since = 0;
				else if (!e->k_closing_since)
					e->k_closing_since = now;
				e->fin_noted = false;
				e->k_pending = s->stats.first_seen_ns != FLOW_FIRST_NONE;
				e->k_start_ns = e->k_pending ? s->stats.first_seen_ns : now;
				MAX_INTO(e->k_last_ns, s->stats.last_seen_ns);
				if (s->stats.tcp_flags & (TCP_FIN | TCP_RST))
					e->closing = true;
			} else if (op == OP_HARVEST) {
				e->k_pending = false;
				e->k_start_ns = now;
			}
		}
	}
	if (op == OP_PEEK)
		fc->totals.peeks += l->n;
	else if (op == OP_HARVEST)
		fc->totals.harvests += l->n;
	else if (op == OP_FINAL)
		fc->totals.finals += l->n;
	else if (op == OP_REOPEN)
		fc->totals.reopens += l->n;
	l->n = 0;
}

/* After an active report: a new one starts. What came without its packet
 * (counters of a packet whose count is still in the kernel) stays for the
 * report that gets the packet. */
static void report_started(struct flow_cache *fc, struct flow_entry *e)
{
	if (e->acc.packets) {
		cache_store_begin(fc->store, e);
		acc_empty(&e->acc);
		cache_store_end(fc->store);
	}
	wheel_file(fc, e);
}

/* A verdict's flows after their record: an active one starts a new
 * report, an ended one leaves the cache (its store slot at once; with
 * every flow leaving, the index is emptied in one go afterwards). */
static void settle(struct flow_cache *fc, const struct verdict *v, bool all)
{
	if (v->reason == END_ACTIVE) {
		report_started(fc, v->e);
		if (v->rev)
			report_started(fc, v->rev);
	} else if (all) {
		if (v->rev)
			cache_store_set_live(fc->store, v->rev, false);
		cache_store_set_live(fc->store, v->e, false);
	} else {
		if (v->rev)
			entry_remove(fc, v->rev);
		entry_remove(fc, v->e);
	}
}

/*
 * Carry out the verdicts: the records go out in batches sorted by start
 * time then key (a key is in one record of a pass at most, so the order
 * is total; the same input always gives the same output), each batch
 * built from its entries, which are then settled, before it is handed
 * out: a record leaves the cache before the exporter has it (at most
 * once), and no array of every record is ever made.
 */
static void apply(struct flow_cache *fc, GArray *verdicts)
{
	enum { EMIT_BATCH = 4096, AHEAD = 8 };
	guint n = verdicts->len, nrec = 0, leaving = 0;
	size_t in_order = 0;
	const struct flow_entry *f, *r;
	struct sort_item *order, *sorted, *tmp;
	struct flow_record *batch;
	bool all;

	for (guint i = 0; i < n; i++) {
		struct verdict *v = &g_array_index(verdicts, struct verdict, i);

		if (v->reason && v->reason != END_ACTIVE)
			leaving += v->rev ? 2 : 1;
	}
	all = leaving && leaving == flow_index_count(fc->flows);
	order = g_new(struct sort_item, n ? n : 1);
	for (guint i = 0; i < n; i++) {
		struct verdict *v = &g_array_index(verdicts, struct verdict, i);

		if (!v->reason) /* postponed */
			continue;
		if (!record_sides(v, &f, &r)) {
			settle(fc, v, all);
			continue;
		}
		order[nrec].start_ms = to_epoch_ms(fc, f->acc.first_seen_ns);
		order[nrec].key = &f->key;
		order[nrec].idx = i;
		order[nrec].next4 = 0;
		nrec++;
	}
	tmp = g_new(struct sort_item, nrec ? nrec : 1);
	sorted = sort_by_start(order, tmp, nrec);
	batch = g_new(struct flow_record, nrec < EMIT_BATCH ? (nrec ? nrec : 1) : EMIT_BATCH);
	for (guint base = 0; base < nrec; base += EMIT_BATCH) {
		guint m = nrec - base < EMIT_BATCH ? nrec - base : EMIT_BATCH;

		for (guint k = 0; k < m; k++) {
			const struct verdict *v;

			sort_runs_upto(sorted, nrec, &in_order, base + k + 2 * AHEAD + 1);
			v = &g_array_index(verdicts, struct verdict, sorted[base + k].idx);
			/* the flows in sorted order are all over memory:
			 * fetch the verdicts, then the entries, ahead */
			if (base + k + 2 * AHEAD < nrec)
				__builtin_prefetch(&g_array_index(verdicts, struct verdict,
								  sorted[base + k + 2 * AHEAD].idx));
			if (base + k + AHEAD < nrec) {
				const struct verdict *a = &g_array_index(
					verdicts, struct verdict, sorted[base + k + AHEAD].idx);

				prefetch_entry(a->e);
				if (a->rev)
					prefetch_entry(a->rev);
			}
			record_sides(v, &f, &r);
			fill_record(fc, v, f, r, &batch[k]);
			settle(fc, v, all);
		}
		fc->emit(fc->emit_ctx, batch, m);
	}
	if (all) {
		flow_index_clear(fc->flows);
		memset(fc->wheel, 0, sizeof(fc->wheel));
	}
	g_free(batch);
	g_free(order);
	g_free(tmp);
	g_array_set_size(verdicts, 0);
}

/* A verdict whose CLOSE or FINAL did not run (or no grace period passed)
 * is not carried out: the flows stay (their entries maybe closing, then
 * due at once) and are ended at their next check. */
static void postpone_failed(struct flow_cache *fc, GArray *verdicts)
{
	for (guint i = 0; i < verdicts->len; i++) {
		struct verdict *v = &g_array_index(verdicts, struct verdict, i);

		if (v->reason == END_ACTIVE ||
		    !(v->e->op_failed || (v->rev && v->rev->op_failed)))
			continue;
		v->reason = 0;
		v->e->op_failed = false;
		wheel_file(fc, v->e);
		if (v->rev) {
			v->rev->op_failed = false;
			wheel_file(fc, v->rev);
		}
	}
}

/*
 * The kernel's part of the verdicts, then apply them. Active: the entries
 * are harvested and stay. Ended: closed, so that packets from then on go
 * through the ring; after one grace period for all of them (no program
 * that saw an entry live still writes it) harvested and deleted; then the
 * ring, which holds the packets that found them closing.
 */
static void conclude(struct flow_cache *fc, GArray *verdicts, __u64 now)
{
	struct op_list harvest = {}, end = {};

	if (fc->ops) {
		for (guint i = 0; i < verdicts->len; i++) {
			struct verdict *v = &g_array_index(verdicts, struct verdict, i);

			for (struct flow_entry *x = v->e; x; x = x == v->e ? v->rev : NULL)
				if (x->in_kernel)
					op_list_add(v->reason == END_ACTIVE ? &harvest : &end, x);
		}
		/* a failed HARVEST leaves the counts for the next report */
		run_ops(fc, &harvest, OP_HARVEST, now);
		/* in chunks, each closed, graced, finaled and its ring read:
		 * the packets of closing flows wait in the ring meanwhile */
		for (guint base = 0; base < end.n; base += END_CHUNK) {
			struct op_list chunk = { .e = end.e + base,
						 .n = MIN(END_CHUNK, end.n - base) };
			struct op_list final = {};
			guint n = chunk.n;
			bool graced;

			for (guint i = 0; i < n; i++)
				chunk.e[i]->op_failed = false;
			run_ops(fc, &chunk, OP_CLOSE, now);
			graced = fc->ops->grace(fc->ops) == 0;
			/* FINAL only what was closed a grace period ago:
			 * XDP may still write the others */
			for (guint i = 0; i < n; i++) {
				if (!graced)
					chunk.e[i]->op_failed = true;
				else if (!chunk.e[i]->op_failed)
					op_list_add(&final, chunk.e[i]);
			}
			run_ops(fc, &final, OP_FINAL, now);
			g_free(final.e);
			fc->ops->read_ring(fc->ops);
		}
		if (end.n)
			postpone_failed(fc, verdicts);
		g_free(harvest.e);
		g_free(end.e);
	}
	apply(fc, verdicts);
}

static void decide(struct flow_cache *fc, GArray *verdicts,
		   struct flow_entry *e, struct flow_entry *rev, __u8 reason)
{
	struct verdict v = { .e = e, .rev = rev, .reason = reason };

	e->pass = fc->pass;
	if (v.rev)
		v.rev->pass = fc->pass;
	g_array_append_val(verdicts, v);
}

static int oldest_first(const void *a, const void *b)
{
	const struct flow_entry *x = *(struct flow_entry *const *)a;
	const struct flow_entry *y = *(struct flow_entry *const *)b;
	__u64 lx = last_known(x), ly = last_known(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Above max_flows, the least recently seen flows end early (flowEndReason
 * lack of resources) so that memory stays bounded. */
struct collect_ctx {
	struct flow_entry **all;
	guint n;
};

static void collect_entry(void *item, void *ctx)
{
	struct collect_ctx *c = ctx;

	c->all[c->n++] = item;
}

static void relieve_pressure(struct flow_cache *fc, GArray *verdicts,
			     __u64 now)
{
	guint n = flow_index_count(fc->flows), excess, i = 0;
	struct flow_entry **all;
	struct collect_ctx c;

	if (n <= fc->cfg->max_flows)
		return;
	excess = n - fc->cfg->max_flows;
	all = g_new(struct flow_entry *, n);
	c.all = all;
	c.n = 0;
	flow_index_for_each(fc->flows, collect_entry, &c);
	qsort(all, n, sizeof(*all), oldest_first);
	fc->pass++;
	for (i = 0; i < n && excess > 0; i++) {
		struct flow_entry *r;

		if (all[i]->pass == fc->pass)
			continue;
		r = reverse_of(fc, all[i]);
		decide(fc, verdicts, all[i], r, END_LACK_OF_RESOURCES);
		excess -= (excess > 1 && r) ? 2 : 1;
		fc->totals.pressure_evictions++;
	}
	g_free(all);
	conclude(fc, verdicts, now);
}

/* Take the flows of one wheel slot that are due by now (and their biflow
 * partners) out of the wheel. */
static void collect_due(struct flow_cache *fc, __u64 slot, __u64 now,
			struct op_list *due)
{
	struct flow_entry *e = fc->wheel[slot], *next;

	for (; e; e = next) {
		next = e->wnext;
		if (e->due_ns > now)
			continue;
		wheel_unlink(fc, e);
		op_list_add(due, e);
	}
}

void flow_cache_expire(struct flow_cache *fc, __u64 now_ns)
{
	GArray *verdicts = g_array_new(FALSE, FALSE, sizeof(struct verdict));
	struct op_list due = {}, peek = {}, reopen = {};
	__u64 now_s = now_ns / NS_PER_SEC, from = fc->wheel_s;
	guint checked;

	/* the seconds since the last pass (all slots the first time, or
	 * after a jump of capture time), this one included */
	if (!fc->wheel_started || now_s < from || now_s - from >= WHEEL_SLOTS)
		from = now_s >= WHEEL_SLOTS ? now_s - (WHEEL_SLOTS - 1) : 0;
	for (__u64 sec = from; sec <= now_s; sec++)
		collect_due(fc, sec % WHEEL_SLOTS, now_ns, &due);
	fc->wheel_s = now_s;
	fc->wheel_started = true;
	checked = due.n;
	fc->pass++;
	/* a partner is added once, and not if it is due itself */
	for (guint i = 0; i < checked; i++)
		due.e[i]->pass = fc->pass;
	for (guint i = 0; i < checked; i++) {
		struct flow_entry *r = reverse_of(fc, due.e[i]);

		if (r && r->pass != fc->pass) {
			r->pass = fc->pass;
			wheel_unlink(fc, r);
			op_list_add(&due, r);
		}
	}
	fc->totals.checks += due.n;
	if (fc->ops) {
		for (guint i = 0; i < due.n; i++)
			if (due.e[i]->in_kernel)
				op_list_add(&peek, due.e[i]);
		run_ops(fc, &peek, OP_PEEK, now_ns);
	}
	/* decide on each flow (or pair) once; pass tells decided ones */
	fc->pass++;
	for (guint i = 0; i < due.n; i++) {
		struct flow_entry *e = due.e[i], *r;
		__u8 reason;

		if (e->pass == fc->pass)
			continue;
		r = reverse_of(fc, e);
		reason = timeout_reason(fc, e, r, now_ns);
		if (reason) {
			decide(fc, verdicts, e, r, reason);
			continue;
		}
		/* goes on: an entry left closing is live again (filed after
		 * the reopen: until then it is due at once) */
		for (struct flow_entry *x = e; x; x = x == e ? r : NULL) {
			x->pass = fc->pass;
			if (x->in_kernel && x->k_closing && x->k_closing_since &&
			    now_ns >= x->k_closing_since + REOPEN_AFTER_NS)
				op_list_add(&reopen, x);
			else
				wheel_file(fc, x);
		}
	}
	if (reopen.n) {
		guint n = reopen.n;

		run_ops(fc, &reopen, OP_REOPEN, now_ns);
		for (guint i = 0; i < n; i++)
			wheel_file(fc, reopen.e[i]);
	}
	conclude(fc, verdicts, now_ns);
	relieve_pressure(fc, verdicts, now_ns);
	g_free(due.e);
	g_free(peek.e);
	g_free(reopen.e);
	g_array_free(verdicts, TRUE);
}

struct flush_ctx {
	struct flow_cache *fc;
	GArray *verdicts;
	__u8 end_reason;
};

static void flush_decide(void *item, void *ctx)
{
	struct flush_ctx *c = ctx;
	struct flow_entry *e = item;

	if (e->pass != c->fc->pass)
		decide(c->fc, c->verdicts, e, reverse_of(c->fc, e), c->end_reason);
}

void flow_cache_flush(struct flow_cache *fc, __u8 end_reason)
{
	struct flush_ctx c = {
		.fc = fc,
		.verdicts = g_array_sized_new(FALSE, FALSE, sizeof(struct verdict),
					      flow_index_count(fc->flows)),
		.end_reason = end_reason,
	};

	/* again while packets that found flows closing arrive meanwhile
	 * through the ring (a few rounds at most: nothing meters by now, or
	 * a run sharing the table with -M does into its own ring); the
	 * flows in the order of their memory, not of the index: a million
	 * of them are read at the speed of memory, not of its latency */
	for (int round = 0; round < 4 && flow_index_count(fc->flows); round++) {
		fc->pass++;
		cache_store_for_each(fc->store, flush_decide, &c);
		conclude(fc, c.verdicts, 0);
	}
	g_array_free(c.verdicts, TRUE);
}
