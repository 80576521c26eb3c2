/* SPDX-License-Identifier: GPL-2.0 */
/*
 * overflow.h - the overflow ring into the flow cache: the packets whose flow
 * found the kernel table full or its entry closing, read in batches, each
 * merged exactly once across a crash (overflow.c).
 */
#ifndef FLOWEXPORT_OVERFLOW_H
#define FLOWEXPORT_OVERFLOW_H

#include "flowtable.h"

struct drain_stats;
struct overflow_reader;

/* NULL with errno on failure. */
struct overflow_reader *overflow_open(int ring_fd, struct flow_cache *fc,
				      struct drain_stats *ds);
/* Merge what the ring holds now; with timeout_ms > 0, first wait up to
 * that long to be woken (the programs wake us when the ring fills).
 * Returns events merged or -errno. */
int overflow_consume(struct overflow_reader *r, int timeout_ms);
void overflow_close(struct overflow_reader *r);

/* A cache adopted from a run that died: the batch of overflow events it
 * was merging, still in its ring, is merged now, each event once.
 * 0 or -errno. */
int overflow_recover(struct flow_cache *fc);

#endif
