/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drain.h - moving what the kernel counted into the flow cache: the flow
 * table's entries through the table_ops program (harvest, close, delete;
 * the flow cache decides when), the notices naming its new entries, and
 * the overflow ring of packets that found the table full or their flow
 * closing.
 */
#ifndef FLOWEXPORT_DRAIN_H
#define FLOWEXPORT_DRAIN_H

#include <stdbool.h>
#include <linux/types.h>
#include "flowtable.h"
#include "loader.h"
#include "overflow.h"

struct drain_stats {
	__u64 entries;      /* kernel deltas merged */
	__u64 ring_events;  /* overflow packets merged */
	__u64 notices;      /* notices read */
	__u64 walks;        /* walks of the table (notices lost, takeover) */
	__u64 note_failures; /* keys the cache had no room for (walked again) */
};

struct table_sync;

/* The cache's way to the table of p (flow_cache_set_table_ops); ring (may
 * be NULL) is read before closed flows are reported; live: programs run
 * meanwhile (grace periods needed). NULL with errno on failure. */
struct table_sync *table_sync_open(struct pipeline *p, struct flow_cache *fc,
				   struct overflow_reader *ring, bool live,
				   struct drain_stats *ds);
void table_sync_close(struct table_sync *t);
/* The operations the cache runs (tests drive them directly). */
struct table_ops *table_sync_ops(struct table_sync *t);
/* Read the notices into the cache; if any were lost, walk the table once
 * (live: not within 2 s of the last such walk; the lost ones wait). now:
 * kernel time. 0 or -errno. */
int table_sync_notices(struct table_sync *t, __u64 now);
/* The same, the walk at once if one is owed (before a flush). */
int table_sync_catch_up(struct table_sync *t, __u64 now);
/* Nothing but us can write the table any more (table_alone.h): retire it
 * (a fresh one in its place; pinned at pin_path meanwhile, so that a death
 * loses nothing) and merge every entry into the cache, crash-safe
 * (drain_recover). Nothing taken, the usual way applies: 0 or -errno.
 * -EIO: retired but not all merged; the flows stay for the next run. */
int table_sync_take_all(struct table_sync *t, const char *pin_path);
/* Tell the cache every key of the table (a takeover). 0 or -errno. */
int table_sync_walk(struct table_sync *t, __u64 now);

/* Before anything else touches a cache adopted from a run that died: what
 * that run was merging when it died (a batch of deltas, an overflow event,
 * a retired table) is merged now, exactly once. table_id: the flow table
 * in use now. 0 or -errno. */
int drain_recover(struct flow_cache *fc, __u32 table_id);

#endif
