/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flowtable.h - the long-lived user-space flow cache. It knows every flow
 * of the kernel table (from notices, or a walk) and holds what was
 * harvested from it and the packets of the overflow ring; this is where
 * flows expire: idle, active, TCP FIN/RST, table pressure, end of run.
 * Each flow waits in a timer wheel for its next check, the earliest time it
 * could be due; a check peeks at the kernel entry first, and only flows
 * really due are harvested (active report) or closed and deleted (README
 * "Flow table lifecycle"). Expired flows leave as struct flow_record
 * through the emit callback, paired into biflows when cfg->biflow.
 */
#ifndef FLOWEXPORT_FLOWTABLE_H
#define FLOWEXPORT_FLOWTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "config.h"
#include "flow.h"
#include "record.h"

struct cache_journal;

/*
 * What the cache asks of the kernel table (drain.c): run the operations in
 * slots[0, count) (enum table_op; a HARVEST's or FINAL's delta is merged
 * into the cache by run itself, crash-safe), wait for a grace period after
 * CLOSEs, and read the overflow ring before closed flows are reported.
 */
struct table_ops {
	struct table_op_slot *slots; /* TABLE_OP_BATCH of them */
	int (*run)(struct table_ops *ops, __u32 count);
	int (*grace)(struct table_ops *ops);
	void (*read_ring)(struct table_ops *ops);
};

/* After a FIN or RST, wait this long without packets before the flow ends:
 * the last ACKs of the close and a late retransmission stay in the record
 * instead of opening a new flow. */
#define FLOW_FIN_GRACE_NS (2ULL * 1000000000ULL)

/* Receives expired records in batches, sorted by start time then key. */
typedef void (*flow_emit_fn)(void *ctx, const struct flow_record *recs,
			     size_t n);

/* What has left the cache so far: the conservation side of the books. */
struct flow_cache_totals {
	__u64 records;
	__u64 packets;
	__u64 octets;
	__u64 pressure_evictions; /* flows ended early: cache above max_flows */
	__u64 checks;           /* flows checked when due */
	__u64 peeks;            /* kernel entries peeked at */
	__u64 harvests;         /* kernel entries harvested (active reports) */
	__u64 finals;           /* kernel entries closed and deleted */
	__u64 reopens;          /* kernel entries found closing, live again */
	__u64 op_failures;      /* entries of table operation batches that
				 * did not run */
};

struct flow_cache;

/* epoch_offset_ns turns kernel time into epoch time (0 for pcap replay,
 * whose kernel time already is capture time). NULL on allocation failure. */
struct flow_cache *flow_cache_new(const struct config *cfg,
				  __s64 epoch_offset_ns, flow_emit_fn emit,
				  void *emit_ctx);
/* The same, its entries kept in a file (store_path) that outlives a crash:
 * the flows a killed run held are adopted from it. */
struct flow_cache *flow_cache_open(const struct config *cfg,
				   __s64 epoch_offset_ns, flow_emit_fn emit,
				   void *emit_ctx, const char *store_path);
/* Frees; the file goes too when no flow is left in it. */
void flow_cache_free(struct flow_cache *fc);
/* Records made from now on convert kernel time with this offset. */
void flow_cache_set_epoch_offset(struct flow_cache *fc, __s64 epoch_offset_ns);
/* The store's journal, for crash-safe harvests (drain.c). */
struct cache_journal *flow_cache_journal(struct flow_cache *fc);

/* Add one kernel delta (a harvested table entry) to its flow. */
int flow_cache_merge(struct flow_cache *fc, const struct flow_key *key,
		     const struct flow_stats *delta);
/* The same, once per mark: a delta merged before under this mark (by a run
 * that died before it could note so elsewhere) is not merged again. */
int flow_cache_merge_marked(struct flow_cache *fc, const struct flow_key *key,
			    const struct flow_stats *delta, __u64 mark);
/* The whole rest of n kernel entries that are gone (their table retired
 * and read in bulk: drain.c), each key once, once per mark as above;
 * lookups grouped and memory prefetched. The first error, after all. */
int flow_cache_merge_taken_many(struct flow_cache *fc,
				const struct flow_key *keys,
				const struct flow_stats *deltas, size_t n,
				__u64 mark);
/* Add one packet that came through the overflow ring. The ring is read in
 * batches, event i of a batch under mark first + i (its marks run from
 * first to last): an entry whose mark lies in [mark, last] was merged with
 * this event or a later one of the same batch (merged in order), so this
 * one is not merged again. last == mark: one event alone. */
int flow_cache_merge_event(struct flow_cache *fc, const struct flow_event *ev,
			   __u64 mark, __u64 last);

/* Flows in the kernel table go through ops from now on (NULL: none). */
/* The timeouts changed (a reload): every flow's next check again. */
void flow_cache_refile_all(struct flow_cache *fc);
void flow_cache_set_table_ops(struct flow_cache *fc, struct table_ops *ops);
/* Fetches, ahead of its note or merge, where the index keeps key: at a
 * million flows each lookup is a cache miss, and fetches made together
 * overlap. */
void flow_cache_prefetch(const struct flow_cache *fc, const struct flow_key *key);
/* The kernel table holds key (a notice, or found by a walk): first_ns and
 * last_ns bound its pending packets; kind NOTICE_END: a FIN or RST at
 * last_ns; state FLOW_CLOSING: the entry is closing (a walk found it so).
 * 0 or -ENOMEM. */
int flow_cache_note(struct flow_cache *fc, const struct flow_key *key,
		    __u64 first_ns, __u64 last_ns, __u32 kind, __u32 state);

/* Check the flows due by now_ns (kernel time): idle / active timeout,
 * FIN/RST grace; then table pressure. */
void flow_cache_expire(struct flow_cache *fc, __u64 now_ns);
/* Export every flow still held with this end reason and empty the cache
 * (kernel entries included: closed and deleted). */
void flow_cache_flush(struct flow_cache *fc, __u8 end_reason);

size_t flow_cache_count(const struct flow_cache *fc);
const struct flow_cache_totals *flow_cache_totals(const struct flow_cache *fc);

#endif
