/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table_ops.h - how user space reads and ends flow-table entries without
 * ever writing a live one (enum table_op in flow.h): a SYSCALL program,
 * run with BPF_PROG_TEST_RUN over slots [0, count) of op_batch.
 *
 * Exactness: the kernel's counters only ever grow by atomic adds, and a
 * harvest takes each of them with an atomic exchange, so every increment
 * lands in exactly one delta, whoever harvests (-M) and however packets
 * interleave. min/max go back to empty the same way. A delta's times are
 * first_seen (exchanged for FLOW_FIRST_NONE, last, after the counts: the
 * update path sets the times before the counts) and last_seen (read).
 */
#ifndef FLOWEXPORT_TABLE_OPS_H
#define FLOWEXPORT_TABLE_OPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"

/* Keys in, results and deltas out; user space maps it. Pinned with the
 * run, so that deltas taken from the table survive a crash (drain.c). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, TABLE_OP_BATCH);
	__type(key, __u32);
	__type(value, struct table_op_slot);
} op_batch SEC(".maps");

#define TAKE(d, fs, field, empty) \
	((d)->field = __sync_lock_test_and_set(&(fs)->field, empty))

static __always_inline void harvest(struct flow_stats *d, struct flow_stats *fs)
{
	TAKE(d, fs, packets, 0);
	TAKE(d, fs, octets, 0);
	TAKE(d, fs, retrans_packets, 0);
	TAKE(d, fs, retrans_octets, 0);
	for (int i = 0; i < FLOW_SIZE_BINS; i++)
		TAKE(d, fs, size_hist[i], 0);
	for (int i = 0; i < FLOW_TTL_BINS; i++)
		TAKE(d, fs, ttl_hist[i], 0);
	TAKE(d, fs, tcp_flags, 0);
	TAKE(d, fs, min_length, 0xffff);
	TAKE(d, fs, max_length, 0);
	TAKE(d, fs, tcp_win_min, 0xffff);
	TAKE(d, fs, tcp_win_max, 0);
	TAKE(d, fs, min_ttl, 0xff);
	TAKE(d, fs, max_ttl, 0);
	d->last_seen_ns = *(volatile __u64 *)&fs->last_seen_ns;
	TAKE(d, fs, first_seen_ns, FLOW_FIRST_NONE);
	/* kept in the entry: the flow's, not a delta's */
	d->seq = fs->seq;
	d->flow_label = fs->flow_label;
	d->tcp_mss = fs->tcp_mss;
	d->tcp_wscale = fs->tcp_wscale;
	d->tos = fs->tos;
	__builtin_memcpy(d->src_mac, fs->src_mac, sizeof(d->src_mac));
	__builtin_memcpy(d->dst_mac, fs->dst_mac, sizeof(d->dst_mac));
	__builtin_memcpy(d->mpls, fs->mpls, sizeof(d->mpls));
	d->state = fs->state;
}

static long table_op_one(__u64 i, void *ctx)
{
	struct table_op_args *args = ctx;
	struct table_op_slot *s;
	struct flow_stats *fs;
	__u32 idx = i, zero = 0;
	void *table;

	s = bpf_map_lookup_elem(&op_batch, &idx);
	table = bpf_map_lookup_elem(&flow_tables, &zero);
	if (!s || !table)
		return 1;
	fs = bpf_map_lookup_elem(table, &s->key);
	if (!fs) {
		s->result = OPR_ABSENT;
		return 0;
	}
	s->result = OPR_DONE;
	args->done++;
	switch (s->op) {
	case OP_PEEK:
		s->stats.first_seen_ns = *(volatile __u64 *)&fs->first_seen_ns;
		s->stats.last_seen_ns = *(volatile __u64 *)&fs->last_seen_ns;
		s->stats.tcp_flags = *(volatile __u32 *)&fs->tcp_flags;
		s->stats.state = *(volatile __u32 *)&fs->state;
		break;
	case OP_HARVEST:
		harvest(&s->stats, fs);
		break;
	case OP_CLOSE:
		__sync_lock_test_and_set(&fs->state, FLOW_CLOSING);
		break;
	case OP_FINAL:
		harvest(&s->stats, fs);
		bpf_map_delete_elem(table, &s->key);
		break;
	case OP_REOPEN:
		__sync_lock_test_and_set(&fs->state, FLOW_LIVE);
		break;
	default:
		s->result = OPR_ABSENT;
		args->done--;
	}
	return 0;
}

SEC("syscall")
int table_ops(struct table_op_args *args)
{
	struct table_op_args a = { .count = args->count };

	if (a.count > TABLE_OP_BATCH)
		a.count = TABLE_OP_BATCH;
	bpf_loop(a.count, table_op_one, &a, 0);
	args->done = a.done;
	return 0;
}

#endif /* FLOWEXPORT_TABLE_OPS_H */
