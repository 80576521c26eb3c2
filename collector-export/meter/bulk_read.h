/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bulk_read.h - every entry of a flow table that nothing writes any more
 * (retired at exit, drain.c), read with bpf_map_lookup_batch by a thread
 * of its own while the caller's thread works on the batch before: the
 * kernel's walk and copy (about half the time of the exit here) overlap
 * the merge into the cache instead of adding to it.
 */
#ifndef FLOWEXPORT_BULK_READ_H
#define FLOWEXPORT_BULK_READ_H

#include <linux/types.h>
#include "flow.h"

/* n entries, keys zero-padded to struct flow_key whatever the table's key
 * size; called in the caller's thread, batch after batch in table order.
 * 0, or -errno when an entry could not be taken (the read goes on). */
typedef int (*bulk_fn)(void *ctx, const struct flow_key *keys,
		       const struct flow_stats *vals, __u32 n);

/* 0 once every entry went through fn and fn took each, else -errno (the
 * read's, or fn's first; fn saw each entry it got once: a read that failed
 * part way can be tried again). kill_after
 * (tests): SIGKILL once that many batches were read, those before merged
 * (*kill_after counts down; NULL or 0: never). -EINVAL: not a flow table
 * of ours. */
int bulk_read_table(int fd, bulk_fn fn, void *ctx, long *kill_after);

#endif
