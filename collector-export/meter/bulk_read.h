/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bulk_read.h - every entry of a flow table that nothing writes any more
 * (retired at exit, drain.c), read with bpf_map_lookup_batch in parts, a
 * thread each (one per CPU), while the caller's thread merges the batches
 * they read: the kernel's walk and copy (about half the time of the exit
 * here) runs on every CPU and overlaps the merge into the cache instead
 * of adding to it.
 */
#ifndef FLOWEXPORT_BULK_READ_H
#define FLOWEXPORT_BULK_READ_H

#include <linux/types.h>
#include "flow.h"

/* n entries, keys zero-padded to struct flow_key whatever the table's key
 * size; called in the caller's thread, batch after batch (the parts'
 * batches interleaved), each entry in one batch (in two at worst, should
 * a kernel's batch token not be a bucket: fn must take an entry it took
 * already as a no-op, as the bulk mark does, bulk_read.c).
 * 0, or -errno when an entry could not be taken (the read goes on). */
typedef int (*bulk_fn)(void *ctx, const struct flow_key *keys,
		       const struct flow_stats *vals, __u32 n);

/* 0 once every entry went through fn and fn took each, else -errno (the
 * read's, or fn's first: a read that failed part way can be tried again,
 * fn taking again what it took as a no-op). kill_after (tests): SIGKILL
 * before fn gets the batch that makes that many, those before it taken
 * (*kill_after counts down; NULL or 0: never). -EINVAL: not a flow table
 * of ours. */
int bulk_read_table(int fd, bulk_fn fn, void *ctx, long *kill_after);

/* The same in that many parts (tests; 0: as bulk_read_table). */
int bulk_read_parts(int fd, int parts, bulk_fn fn, void *ctx, long *kill_after);

#endif
