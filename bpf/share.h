/* SPDX-License-Identifier: GPL-2.0 */
/*
 * share.h - the three ways parse state travels between tail-called programs,
 * behind one API: state_get() for the parsed fields, cursor_get() for the
 * header offsets and timestamp. The strategy is a read-only global set by the
 * loader (--share); the verifier prunes the branches of the other two, so
 * each loaded variant carries only its own code.
 */
#ifndef FLOWEXPORT_SHARE_H
#define FLOWEXPORT_SHARE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"
#include "ctx.h"

const volatile __u32 share_mode = SHARE_META;

/* percpu and meta: one scratch slot per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct parse_state);
} percpu_state SEC(".maps");

/*
 * global: one slot per CPU in .bss. The seed used a single slot that every
 * CPU overwrote; indexing by CPU keeps it a plain global but makes it safe,
 * since a program runs to completion (tail calls included) on one CPU.
 */
struct parse_state global_state[MAX_CPUS];

static __always_inline struct parse_state *state_get(void)
{
	__u32 zero = 0;

	if (share_mode == SHARE_GLOBAL) {
		__u32 cpu = bpf_get_smp_processor_id();

		if (cpu >= MAX_CPUS)
			return NULL;
		return &global_state[cpu];
	}
	return bpf_map_lookup_elem(&percpu_state, &zero);
}

/*
 * Where the cursor lives: in front of the packet for meta, else in state.
 * TC programs cannot grow data_meta (bpf_xdp_adjust_meta is XDP's): with
 * meta they keep the cursor in the per-CPU state, as percpu does.
 */
#define SHARE_IN_META(at) (share_mode == SHARE_META && !AT_IS_TC(at))

static __always_inline struct pkt_meta *cursor_get(void *ctx, const int at,
						   struct parse_state *st)
{
	if (SHARE_IN_META(at)) {
		struct pkt_meta *meta = (void *)(long)CTX_XDP(ctx)->data_meta;

		if ((void *)(meta + 1) > (void *)(long)CTX_XDP(ctx)->data)
			return NULL;
		return meta;
	}
	return st ? &st->cur : NULL;
}

/* For programs that touch only the cursor: with the meta strategy they need
 * no state lookup at all, which is the point of that strategy. */
static __always_inline struct pkt_meta *cursor_only_get(void *ctx, const int at)
{
	if (SHARE_IN_META(at))
		return cursor_get(ctx, at, NULL);
	return cursor_get(ctx, at, state_get());
}

/*
 * The kernel's coarse monotonic clock, read once a tick per CPU. A helper
 * call costs about 22 ns on this kind of host (every return goes through
 * the SRSO return thunk), a fifth of what a packet costs above an empty
 * program; jiffies is inlined by the verifier (one load). The coarse
 * clock moves only at a tick, just after jiffies does
 * (tick_do_update_jiffies64, then update_wall_time), so while jiffies
 * stays, the clock read at its change is still the clock. A read between
 * those two updates (on another CPU, a microsecond a tick) gets the old
 * tick's time: if this CPU holds that time already, it is not taken for
 * the new tick and the next packet reads again; else this CPU's times lag
 * by one tick until the next, a coarse reading made at most a tick late.
 */
struct tick_clock {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tick_clock);
} tick_clock SEC(".maps");

static __always_inline __u64 coarse_now(void)
{
	__u32 zero = 0;
	struct tick_clock *c = bpf_map_lookup_elem(&tick_clock, &zero);
	__u64 j = bpf_jiffies64(), ns;

	if (c && c->jiffies == j)
		return c->ns;
	ns = bpf_ktime_get_coarse_ns();
	if (c && ns != c->ns) {
		/* time first: a program that runs in between on this CPU
		 * (TC egress under XDP) sees a tick that does not match */
		c->ns = ns;
		barrier();
		c->jiffies = j;
	}
	return ns;
}

/*
 * This packet's time (and, from a replay, its length on the wire): 0, or
 * -1 if the metadata cannot be set up. A pcap replay hands in exactly one
 * pkt_meta with the capture time (magic set, and cleared here so that a
 * repeated run does not reuse it; any time is valid, 0 included); anything
 * else gets the kernel's coarse monotonic clock. The meta strategy then
 * makes data_meta exactly one pkt_meta long, whatever was there:
 * BPF_PROG_TEST_RUN with a repeat keeps the metadata of the previous run,
 * and another program may have left some.
 */
static __always_inline int cursor_init(void *ctx, const int at, __u64 *ts,
				       __u32 *wire_len)
{
	struct pkt_meta *meta;
	void *data;
	long have = 0;

	if (AT_IS_TC(at)) { /* live only; the cursor is in the state */
		*ts = coarse_now();
		*wire_len = 0;
		return 0;
	}
	meta = (void *)(long)CTX_XDP(ctx)->data_meta;
	data = (void *)(long)CTX_XDP(ctx)->data;
	if ((void *)(meta + 1) <= data && meta->magic == PKT_META_MAGIC) {
		meta->magic = 0; /* one packet, one capture time */
		*ts = meta->ts_ns;
		*wire_len = meta->wire_len;
		return 0;
	}
	/* CLOCK_MONOTONIC_COARSE: one tick of resolution (1-4 ms), against
	 * 45 ns a call for bpf_ktime_get_ns() here; flow records carry
	 * milliseconds */
	*ts = coarse_now();
	*wire_len = 0; /* live: the frame is all there */
	if (share_mode != SHARE_META)
		return 0;
	if ((void *)meta < data) /* data_meta > data means no metadata */
		have = data - (void *)meta;
	if (bpf_xdp_adjust_meta(ctx, have - (long)sizeof(struct pkt_meta)))
		return -1;
	return 0;
}

#endif /* FLOWEXPORT_SHARE_H */
