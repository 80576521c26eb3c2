/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp_seq_cases.h - retransmitted or reordered, within one flow table and
 * across the swaps and drains the manager does every interval. Each case
 * is a script of segments of one flow and table operations, done exactly
 * as live.c (swap, save the sequence state, drain) and offline.c (save and
 * drain in place) do them, then the flow's entry in the table now written.
 */
#ifndef TESTS_TCP_SEQ_CASES_H
#define TESTS_TCP_SEQ_CASES_H

#include "config.h"
#include "drain.h"
#include "flow_cases.h"
#include "flowtable.h"
#include "harness.h"
#include "seq_carry.h"

#define SEQ_CLIENT "192.0.2.60"
#define SEQ_SERVER "198.51.100.60"

enum seq_op {
	SEQ_END = 0,
	SEQ_SEG,            /* a data segment: seq, len */
	SEQ_SWAP,           /* live: swap tables (the old one stays undrained) */
	SEQ_DRAIN,          /* live: save sequence state, drain the old one */
	SEQ_DRAIN_IN_PLACE, /* pcap replay: the same on the written table */
};

struct seq_step {
	enum seq_op op;
	__u32 seq, len;
};

struct seq_case {
	const char *name;
	struct seq_step steps[12];
	__u64 want_retrans;        /* in the table written last */
	__u64 want_retrans_octets;
	struct tcp_seq_state want_seq;
};

#define SEG(s, l) { SEQ_SEG, s, l }
#define SWAP { SEQ_SWAP, 0, 0 }
#define DRAIN { SEQ_DRAIN, 0, 0 }
#define DRAIN_IN_PLACE { SEQ_DRAIN_IN_PLACE, 0, 0 }

static const struct seq_case seq_cases[] = {
	{ "TCP in order, resent and reordered into a hole: only resent segments count",
	  { SEG(1000, 100), SEG(1200, 100), /* hole [1100, 1200) */
	    SEG(1100, 100),                 /* fills it: reordered */
	    SEG(1100, 100), SEG(1000, 100), /* seen before: resent */
	    SEG(1300, 50), SEG(1400, 100),  /* in order, then hole [1350, 1400) */
	    SEG(1375, 25), SEG(1350, 25) }, /* filled from the top, then the rest */
	  2, 2 * 140, { 1500, 1375, 1375 } },
	{ "TCP resent after a table swap, before the old table is drained",
	  { SEG(1000, 100), SWAP, SEG(1000, 100), DRAIN },
	  1, 140, { 1100, 0, 0 } },
	{ "TCP resent after a table swap and drain",
	  { SEG(1000, 100), SWAP, DRAIN, SEG(1000, 100) },
	  1, 140, { 1100, 0, 0 } },
	{ "TCP resent after a whole table period without a packet",
	  { SEG(1000, 100), SWAP, DRAIN, SWAP, DRAIN, SWAP, DRAIN, SEG(1000, 100) },
	  1, 140, { 1100, 0, 0 } },
	{ "TCP: a state saved once holds while the flow only resends, then idles",
	  { SEG(1000, 100), SWAP, DRAIN, SEG(1000, 100), SWAP, DRAIN, SWAP, DRAIN,
	    SEG(1000, 100) },
	  1, 140, { 1100, 0, 0 } },
	{ "TCP: the table swapped out last is fresher than the saved state",
	  { SEG(1000, 100), SWAP, DRAIN, SEG(1100, 100), SWAP, SEG(1150, 50), DRAIN },
	  1, 90, { 1200, 0, 0 } },
	{ "TCP segment filling a hole after a table swap: reordered, not resent",
	  { SEG(1000, 100), SEG(1200, 100), SWAP, DRAIN, SEG(1100, 100),
	    SEG(1100, 100) },
	  1, 140, { 1300, 1200, 1200 } },
	{ "TCP resent after a drain in place (pcap replay)",
	  { SEG(1000, 100), DRAIN_IN_PLACE, SEG(1000, 100) },
	  1, 140, { 1100, 0, 0 } },
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

static void seq_no_emit(void *ctx, const struct flow_record *recs, size_t n)
{
	(void)ctx;
	(void)recs;
	(void)n;
}

/* What the manager does with a table nobody writes any more. */
static void seq_save_and_drain(struct pipeline *p, int fd, struct flow_cache *fc)
{
	struct drain_stats ds = { 0 };
	int err = seq_carry_save(p, fd, fc);

	CHECK(!err, "seq_carry_save: %s", strerror(-err));
	err = drain_table(fd, fc, &ds);
	CHECK(!err, "drain_table: %s", strerror(-err));
}

static void seq_run(struct pipeline *p, const struct seq_case *c,
		    struct flow_cache *fc)
{
	int displaced = -1;

	for (int i = 0; c->steps[i].op != SEQ_END; i++) {
		const struct seq_step *s = &c->steps[i];

		switch (s->op) {
		case SEQ_SEG:
			seq_segment(p, T(1000 + i), s->seq, s->len);
			break;
		case SEQ_SWAP:
			displaced = pipeline_swap(p);
			CHECK(displaced >= 0, "pipeline_swap: %s", strerror(-displaced));
			break;
		case SEQ_DRAIN:
			if (displaced < 0)
				break;
			seq_save_and_drain(p, displaced, fc);
			pipeline_swap_done(p, displaced);
			displaced = -1;
			break;
		case SEQ_DRAIN_IN_PLACE:
			seq_save_and_drain(p, p->table_fd[p->active], fc);
			break;
		case SEQ_END:
			break;
		}
	}
	CHECK(displaced < 0, "case ends with a swapped-out table undrained");
}

static void run_seq_case(enum share_mode share, const struct seq_case *c)
{
	struct flow_key k = key4(PROTO_TCP, SEQ_CLIENT, SEQ_SERVER, 50000, 80);
	struct flow_cache *fc = NULL;
	const struct flow_entry *e;
	struct flow_list l = { 0 };
	struct config cfg;
	struct pipeline p;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	config_defaults(&cfg);
	fc = flow_cache_new(&cfg, 0, seq_no_emit, NULL);
	CHECK(fc, "flow_cache_new failed");
	if (fc)
		seq_run(&p, c, fc);
	CHECK(!h_flows(&p, &l), "reading flows");
	e = h_find(&l, &k);
	CHECK(e, "no entry for the flow in the table written last");
	if (e) {
		CHECK_EQ("retrans_packets", e->stats.retrans_packets, c->want_retrans);
		CHECK_EQ("retrans_octets", e->stats.retrans_octets,
			 c->want_retrans_octets);
		CHECK_EQ("seq.next_seq", e->stats.seq.next_seq, c->want_seq.next_seq);
		CHECK_EQ("seq.hole_start", e->stats.seq.hole_start,
			 c->want_seq.hole_start);
		CHECK_EQ("seq.hole_end", e->stats.seq.hole_end, c->want_seq.hole_end);
	}
	flow_list_free(&l);
	if (fc)
		flow_cache_free(fc);
	pipeline_close(&p);
out:
	tap_result("%s: %s", share_mode_name(share), c->name);
}

#undef SEG
#undef SWAP
#undef DRAIN
#undef DRAIN_IN_PLACE

#endif
