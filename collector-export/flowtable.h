/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flowtable.h - the long-lived user-space flow cache. The kernel table holds
 * per-flow deltas since the last drain; they (and the packets of the
 * overflow ring) are merged here, and this is where flows expire: idle,
 * active, TCP FIN/RST, table pressure, end of run. Expired flows leave as
 * struct flow_record through the emit callback, paired into biflows when
 * cfg->biflow.
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
/* The store's journal, for crash-safe drains (drain.c). */
struct cache_journal *flow_cache_journal(struct flow_cache *fc);

/* Add one kernel delta (one drained table entry) to its flow. */
int flow_cache_merge(struct flow_cache *fc, const struct flow_key *key,
		     const struct flow_stats *delta);
/* The same, once per mark: a delta merged before under this mark (by a run
 * that died before it could note so elsewhere) is not merged again. */
int flow_cache_merge_marked(struct flow_cache *fc, const struct flow_key *key,
			    const struct flow_stats *delta, __u64 mark);
/* Add one packet that came through the overflow ring. */
int flow_cache_merge_event(struct flow_cache *fc, const struct flow_event *ev,
			   __u64 mark);

/* Expire by idle / active timeout, FIN/RST grace and table pressure, with
 * now_ns in kernel time. */
void flow_cache_expire(struct flow_cache *fc, __u64 now_ns);
/* Export every flow still held with this end reason and empty the cache. */
void flow_cache_flush(struct flow_cache *fc, __u8 end_reason);

/* True if the cache holds this flow with exactly this TCP sequence state,
 * merged from an earlier table (so it was saved then: seq_carry.h). */
bool flow_cache_has_seq(const struct flow_cache *fc, const struct flow_key *key,
			const struct tcp_seq_state *seq);

size_t flow_cache_count(const struct flow_cache *fc);
const struct flow_cache_totals *flow_cache_totals(const struct flow_cache *fc);

#endif
