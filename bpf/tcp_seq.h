/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp_seq.h - retransmitted or reordered: the sequence state of a TCP flow
 * direction (struct tcp_seq_state in flow.h).
 *
 * The state lives in the table entry, which lasts as long as the flow, so
 * the per-packet path costs no extra lookup and nothing carries it over.
 */
#ifndef FLOWEXPORT_TCP_SEQ_H
#define FLOWEXPORT_TCP_SEQ_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"

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
