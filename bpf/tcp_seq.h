/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp_seq.h - retransmitted or reordered: the sequence state of a TCP flow
 * direction (struct tcp_seq_state in flow.h), and how it outlives the flow
 * table swaps.
 *
 * The state lives in the table entry, so the per-packet path costs no extra
 * lookup. Tables are swapped out and drained every interval; a flow's entry
 * in the new table starts from the freshest earlier state: its entry in the
 * table swapped out last (flow_tables slot 1, installed before the swap and
 * read while it is drained), or else what user space saved in tcp_seq_carry
 * from every table before draining it. Only the creation of an entry pays.
 */
#ifndef FLOWEXPORT_TCP_SEQ_H
#define FLOWEXPORT_TCP_SEQ_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"

/* Keyed like the flow table; the loader sizes it like one (--kernel-flows).
 * LRU: flows idle the longest lose their state first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct tcp_seq_state);
} tcp_seq_carry SEC(".maps");

/* Where a new entry's sequence state starts; prev_table may be NULL. */
static __always_inline void tcp_seq_seed(struct tcp_seq_state *s,
					 void *prev_table,
					 const struct flow_key *key)
{
	struct tcp_seq_state *kept;
	struct flow_stats *old;

	if (prev_table) {
		old = bpf_map_lookup_elem(prev_table, key);
		if (old) {
			*s = old->seq;
			return;
		}
	}
	kept = bpf_map_lookup_elem(&tcp_seq_carry, key);
	if (kept)
		*s = *kept;
}

/*
 * Account a segment of len > 0 bytes at seq; returns 1 if it is a
 * retransmission. New data beyond next_seq moves it on, and if it starts
 * beyond next_seq the gap becomes the hole (replacing an older one). Data
 * inside the hole was never seen: reordered, and the hole shrinks from the
 * end it touches (a fill in the middle keeps the lower part). Anything else
 * at or below next_seq was seen before. Plain stores: a flow's packets
 * arrive on one CPU (RSS), and a race costs a count, not memory safety.
 */
static __always_inline int tcp_seq_resent(struct tcp_seq_state *s, __u32 seq,
					  __u32 len)
{
	__u32 end = seq + len, next = s->next_seq;

	if (!next || (__s32)(end - next) > 0) {
		if (next && (__s32)(seq - next) > 0) {
			s->hole_start = next;
			s->hole_end = seq;
		}
		s->next_seq = end;
		return 0;
	}
	if (s->hole_start != s->hole_end &&
	    (__s32)(seq - s->hole_start) >= 0 &&
	    (__s32)(s->hole_end - end) >= 0) {
		if (seq == s->hole_start)
			s->hole_start = end;
		else
			s->hole_end = seq;
		return 0;
	}
	return 1;
}

#endif /* FLOWEXPORT_TCP_SEQ_H */
