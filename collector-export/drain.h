/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drain.h - moving what the kernel counted into the flow cache: a flow
 * table nobody writes any more (swapped out, or replay between packets),
 * and the overflow ring of packets that found the table full.
 */
#ifndef FLOWEXPORT_DRAIN_H
#define FLOWEXPORT_DRAIN_H

#include <stdbool.h>
#include <linux/types.h>
#include "flowtable.h"

struct drain_stats {
	__u64 entries;      /* table entries merged */
	__u64 ring_events;  /* overflow packets merged */
	bool batch_unsupported; /* fell back to key-by-key reads */
};

/* Read every entry of table_fd into fc and leave the table empty. The
 * caller guarantees no program writes to it meanwhile. 0 or -errno. */
int drain_table(int table_fd, struct flow_cache *fc, struct drain_stats *ds);

struct overflow_reader;

/* NULL with errno on failure. */
struct overflow_reader *overflow_open(int ring_fd, struct flow_cache *fc,
				      struct drain_stats *ds);
/* Merge what the ring holds now; with timeout_ms > 0, wait up to that
 * long for the first event. Returns events merged or -errno. */
int overflow_consume(struct overflow_reader *r, int timeout_ms);
void overflow_close(struct overflow_reader *r);

/* Before anything else touches a cache adopted from a run that died: what
 * that run was merging when it died (a table batch, an overflow event) is
 * merged now, exactly once. 0 or -errno. */
int drain_recover(struct flow_cache *fc);

#endif
