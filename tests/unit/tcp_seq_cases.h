/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp_seq_cases.h - retransmitted or reordered, within one flow entry and
 * across the harvests the manager does for active-timeout reports: the
 * entry lives as long as the flow, and its sequence state with it. Each
 * case is a script of segments of one flow and harvests, then the
 * retransmissions summed over the harvested deltas and the entry, and the
 * entry's sequence state.
 */
#ifndef TESTS_TCP_SEQ_CASES_H
#define TESTS_TCP_SEQ_CASES_H

#include "flow_cases.h"
#include "harness.h"

#define SEQ_CLIENT "192.0.2.60"
#define SEQ_SERVER "198.51.100.60"

enum seq_op {
	SEQ_END = 0,
	SEQ_SEG,            /* a data segment: seq, len */
	SEQ_HARVEST,        /* an active report takes the counters */
};

struct seq_step {
	enum seq_op op;
	__u32 seq, len;
};

struct seq_case {
	const char *name;
	struct seq_step steps[12];
	__u64 want_retrans;        /* over all harvests and the entry */
	__u64 want_retrans_octets;
	struct tcp_seq_state want_seq;
};

#define SEG(s, l) { SEQ_SEG, s, l }
#define HARVEST { SEQ_HARVEST, 0, 0 }

static const struct seq_case seq_cases[] = {
	{ "TCP in order, resent and reordered into a hole: only resent segments count",
	  { SEG(1000, 100), SEG(1200, 100), /* hole [1100, 1200) */
	    SEG(1100, 100),                 /* fills it: reordered */
	    SEG(1100, 100), SEG(1000, 100), /* seen before: resent */
	    SEG(1300, 50), SEG(1400, 100),  /* in order, then hole [1350, 1400) */
	    SEG(1375, 25), SEG(1350, 25) }, /* filled from the top, then the rest */
	  2, 2 * 140, { 1500, 1375, 1375 } },
	{ "TCP resent after a harvest (active report)",
	  { SEG(1000, 100), HARVEST, SEG(1000, 100) },
	  1, 140, { 1100, 0, 0 } },
	{ "TCP resent after harvests without a packet between",
	  { SEG(1000, 100), HARVEST, HARVEST, HARVEST, SEG(1000, 100) },
	  1, 140, { 1100, 0, 0 } },
	{ "TCP: the state holds while the flow only resends across harvests",
	  { SEG(1000, 100), HARVEST, SEG(1000, 100), HARVEST, HARVEST,
	    SEG(1000, 100) },
	  2, 280, { 1100, 0, 0 } },
	{ "TCP segment filling a hole after a harvest: reordered, not resent",
	  { SEG(1000, 100), SEG(1200, 100), HARVEST, SEG(1100, 100),
	    SEG(1100, 100) },
	  1, 140, { 1300, 1200, 1200 } },
};

#define N_SEQ_CASES (sizeof(seq_cases) / sizeof(seq_cases[0]))

static void seq_segment(struct pipeline *p, __u64 ts, __u32 seq, __u32 len)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = SEQ_CLIENT, .dst = SEQ_SERVER });
	pkt_tcp(&pk, &(struct tcp_spec){ .sport = 50000, .dport = 80, .seq = seq,
					 .ack = 1, .flags = TCP_ACK | TCP_PSH,
					 .window = 1000 });
	pkt_payload(&pk, len);
	pkt_finish(&pk);
	h_send(p, &pk, ts);
}

static void run_seq_case(enum share_mode share, const struct seq_case *c)
{
	struct flow_key k = key4(PROTO_TCP, SEQ_CLIENT, SEQ_SERVER, 50000, 80);
	__u64 retrans = 0, retrans_octets = 0;
	struct table_op_slot got;
	struct pipeline p;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	for (int i = 0; c->steps[i].op != SEQ_END; i++) {
		const struct seq_step *s = &c->steps[i];

		if (s->op == SEQ_SEG) {
			seq_segment(&p, T(1000 + i), s->seq, s->len);
			continue;
		}
		err = h_table_op(&p, &k, OP_HARVEST, &got);
		CHECK(err == OPR_DONE, "harvest: %d", err);
		retrans += got.stats.retrans_packets;
		retrans_octets += got.stats.retrans_octets;
	}
	err = h_table_op(&p, &k, OP_PEEK, &got);
	CHECK(err == OPR_DONE, "no entry for the flow: %d", err);
	/* what is left in the entry: harvested too */
	err = h_table_op(&p, &k, OP_HARVEST, &got);
	CHECK(err == OPR_DONE, "harvest: %d", err);
	retrans += got.stats.retrans_packets;
	retrans_octets += got.stats.retrans_octets;
	CHECK_EQ("retrans_packets", retrans, c->want_retrans);
	CHECK_EQ("retrans_octets", retrans_octets, c->want_retrans_octets);
	CHECK_EQ("seq.next_seq", got.stats.seq.next_seq, c->want_seq.next_seq);
	CHECK_EQ("seq.hole_start", got.stats.seq.hole_start, c->want_seq.hole_start);
	CHECK_EQ("seq.hole_end", got.stats.seq.hole_end, c->want_seq.hole_end);
	pipeline_close(&p);
out:
	tap_result("%s: %s", share_mode_name(share), c->name);
}

#undef SEG
#undef HARVEST

#endif
