// SPDX-License-Identifier: GPL-2.0
/*
 * test_pipeline - the real BPF object, loaded and run with
 * BPF_PROG_TEST_RUN on frames built in the test, then the flow table and
 * counters read back.
 *
 *   test_pipeline meta|percpu|global   every case for that strategy
 *   test_pipeline compare              the three strategies' tables agree
 *
 * Prints one TAP line per case; exits 1 if any failed. Nothing is attached
 * or pinned: every pipeline lives in this process's file descriptors only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>
#include "cut_cases.h"
#include "flow_cases.h"
#include "harness.h"
#include "log.h"
#include "malformed_cases.h"
#include "protocol_matrix.h"
#include "tcp_seq_cases.h"
#include "flowmon.skel.h"
#include "tap.h"

static void run_flow_case(enum share_mode share, const struct flow_case *fc)
{
	struct pipeline p;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (!err) {
		fc->send(&p);
		fc->check(&p);
		pipeline_close(&p);
	}
	tap_result("%s: %s", share_mode_name(share), fc->name);
}

/* Without a capture time the program takes CLOCK_MONOTONIC_COARSE. */
static void run_kernel_clock_case(enum share_mode share)
{
	struct timespec before, after;
	struct flow_list l = { 0 };
	struct pipeline p;
	struct pkt pk;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (!err) {
		pkt_eth(&pk);
		pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.7.0.1", .dst = "10.7.0.2" });
		pkt_udp(&pk, 1, 2);
		pkt_finish(&pk);
		clock_gettime(CLOCK_MONOTONIC_COARSE, &before);
		h_send(&p, &pk, 0);
		clock_gettime(CLOCK_MONOTONIC_COARSE, &after);
		err = h_flows(&p, &l);
		CHECK(!err && l.n == 1, "one flow expected, have %zu", l.n);
		if (l.n == 1) {
			__u64 lo = before.tv_sec * 1000000000ULL + before.tv_nsec;
			__u64 hi = after.tv_sec * 1000000000ULL + after.tv_nsec;
			__u64 ts = l.v[0].stats.first_seen_ns;

			CHECK(ts >= lo && ts <= hi,
			      "first_seen %llu outside [%llu, %llu]",
			      (unsigned long long)ts, (unsigned long long)lo,
			      (unsigned long long)hi);
			CHECK_EQ("last_seen_ns", l.v[0].stats.last_seen_ns, ts);
		}
		flow_list_free(&l);
		pipeline_close(&p);
	}
	tap_result("%s: no capture time: first/last seen from the coarse monotonic clock",
		   share_mode_name(share));
}

/*
 * A capture time whose cursor fields are junk (what another program might
 * leave in data_meta): the flow must be exactly as with clean metadata.
 */
static void run_junk_meta_case(enum share_mode share)
{
	struct pkt_meta junk = {
		.ts_ns = T(100), .magic = PKT_META_MAGIC, .l3_off = 0x3fff,
		.l4_off = 0x3fff, .vlan_id = 999, .l3_proto = ETHERTYPE_IPV6,
		.l4_proto = PROTO_TCP, .frag = FRAG_LATER,
		.tunnel = 0xff, .mpls = 0xff, .segment_id = 0xffffffff,
	};
	struct flow_key k = key4(PROTO_UDP, "10.7.0.3", "10.7.0.4", 5, 6);
	struct flow_stats want = stats_none();
	struct flow_list l = { 0 };
	struct pipeline p;
	struct pkt pk;
	__u32 retval = 0;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (!err) {
		pkt_eth(&pk);
		pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.7.0.3", .dst = "10.7.0.4" });
		pkt_udp(&pk, 5, 6);
		pkt_finish(&pk);
		err = pipeline_run_packet(pipeline_start_fd(&p), pk.buf, pk.len,
					  &junk, 1, &retval, NULL);
		CHECK(!err && retval == XDP_PASS, "run: err %d retval %u", err, retval);
		stats_add(&want, T(100), 28, 64);
		read_flows(&p, &l, 1);
		check_flow(&l, &k, &want);
		flow_list_free(&l);
		check_counts(&p, 1, 1, 0, 0);
		pipeline_close(&p);
	}
	tap_result("%s: junk cursor fields in the capture-time metadata are ignored",
		   share_mode_name(share));
}

/* Below an Ethernet header the kernel refuses the frame before XDP runs
 * (so parse_eth's own bound is defence only): nothing may be counted. */
static void run_runt_frame(struct pipeline *p, enum share_mode share)
{
	__u64 before[CNT_MAX], after[CNT_MAX];
	struct pkt pk;

	pkt_eth(&pk);
	pk.len = 13;
	h_counters(p, before);
	CHECK_EQ("13-byte frame run", h_run(p, &pk, T(600)), (unsigned long long)-EINVAL);
	h_counters(p, after);
	CHECK(!memcmp(before, after, sizeof(before)), "counters moved");
	tap_result("%s: a 13-byte frame is refused before XDP, nothing counted",
		   share_mode_name(share));
}

/*
 * Each malformed frame through one pipeline in turn: passed, counted as
 * malformed and nothing else, no flow, the identity intact after each.
 */
static void run_malformed_cases(enum share_mode share)
{
	__u64 before[CNT_MAX], after[CNT_MAX];
	struct flow_list l = { 0 };
	struct pipeline p;
	struct pkt pk;
	int err = h_open(&p, share, ALL_SLOTS);

	if (err) {
		CHECK(!err, "pipeline_open: %s", strerror(-err));
		tap_result("%s: malformed frames", share_mode_name(share));
		return;
	}
	for (size_t i = 0; i < N_MALFORMED_CASES; i++) {
		malformed_cases[i].build(&pk);
		h_counters(&p, before);
		h_send(&p, &pk, T(500 + i));
		h_counters(&p, after);
		CHECK_EQ("CNT_SEEN delta", after[CNT_SEEN] - before[CNT_SEEN], 1);
		CHECK_EQ("CNT_MALFORMED delta",
			 after[CNT_MALFORMED] - before[CNT_MALFORMED], 1);
		CHECK_EQ("CNT_FLOWED delta", after[CNT_FLOWED] - before[CNT_FLOWED], 0);
		CHECK_EQ("CNT_NOT_PARSED delta",
			 after[CNT_NOT_PARSED] - before[CNT_NOT_PARSED], 0);
		check_identity(after);
		err = h_flows(&p, &l);
		CHECK(!err && l.n == 0, "%zu flows made from garbage", l.n);
		for (size_t j = 0; j < l.n; j++) { /* and out, for the next case */
			key_print("made", &l.v[j].key);
			bpf_map_delete_elem(p.table_fd, &l.v[j].key);
		}
		flow_list_free(&l);
		tap_result("%s: malformed: %s", share_mode_name(share),
			   malformed_cases[i].name);
	}
	run_runt_frame(&p, share);
	pipeline_close(&p);
}

/*
 * Replayed frames the capture cut, each with its length on the wire: the
 * flow each describes, with the IP length of the whole packet. All in one
 * table, then checked flow by flow.
 */
static void run_cut_flows(enum share_mode share)
{
	struct flow_list l = { 0 };
	struct pipeline p;
	struct pkt pk;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	for (size_t i = 0; i < N_CUT_FLOWS; i++) {
		uint32_t wire, cut = cut_flows[i].build(&pk, &wire);

		CHECK_EQ(cut_flows[i].name,
			 h_replay(&p, pk.buf, cut, T(2000 + i), wire), XDP_PASS);
	}
	read_flows(&p, &l, N_CUT_FLOWS);
	for (size_t i = 0; i < N_CUT_FLOWS; i++) {
		struct flow_stats want = stats_none();
		struct flow_key k;
		int before = tap_case_failures;

		cut_flows[i].expect(T(2000 + i), &k, &want);
		check_flow(&l, &k, &want);
		if (tap_case_failures != before)
			printf("#   in: %s\n", cut_flows[i].name);
	}
	flow_list_free(&l);
	check_counts(&p, N_CUT_FLOWS, N_CUT_FLOWS, 0, 0);
	pipeline_close(&p);
out:
	tap_result("%s: %zu replayed frames cut by the capture or the linear limit make their flows, IP length counted",
		   share_mode_name(share), N_CUT_FLOWS);
}

/*
 * The same bytes as a live packet (no metadata), or replayed with no wire
 * length: a short packet, malformed. And replayed frames that lost a field
 * of the flow key are malformed even with their wire length.
 */
static void run_cut_malformed(enum share_mode share)
{
	struct flow_list l = { 0 };
	__u64 c[CNT_MAX];
	struct pipeline p;
	struct pkt pk;
	size_t runs = 0;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	for (size_t i = 0; i < N_CUT_FLOWS; i++) {
		uint32_t wire, cut = cut_flows[i].build(&pk, &wire);

		CHECK_EQ(cut_flows[i].name, h_run_bytes(&p, pk.buf, cut), XDP_PASS);
		CHECK_EQ(cut_flows[i].name, h_replay(&p, pk.buf, cut, T(3000), 0),
			 XDP_PASS);
		runs += 2;
	}
	for (size_t i = 0; i < N_CUT_MALFORMED; i++) {
		uint32_t wire, cut = cut_malformed[i].build(&pk, &wire);

		CHECK_EQ(cut_malformed[i].name,
			 h_replay(&p, pk.buf, cut, T(3000), wire), XDP_PASS);
		runs++;
	}
	err = h_flows(&p, &l);
	CHECK(!err && l.n == 0, "%zu flows made from short frames", l.n);
	for (size_t j = 0; j < l.n; j++)
		key_print("made", &l.v[j].key);
	flow_list_free(&l);
	h_counters(&p, c);
	CHECK_EQ("CNT_SEEN", c[CNT_SEEN], runs);
	CHECK_EQ("CNT_MALFORMED", c[CNT_MALFORMED], runs);
	check_identity(c);
	pipeline_close(&p);
out:
	tap_result("%s: short frames without a wire length (live) and cut frames missing key fields are malformed",
		   share_mode_name(share));
}

/*
 * Capture times as captures have them: 0 is a time like any other, and
 * an earlier packet after a later one moves first_seen back; the
 * inter-arrival sum stays last - first.
 */
static void run_capture_times(enum share_mode share)
{
	static const __u64 times[] = { T(300), T(100), T(200), T(50), T(250) };
	struct flow_key k0 = key4(PROTO_UDP, "10.21.0.1", "10.21.1.1", 1, 2);
	struct flow_key k1 = key4(PROTO_UDP, "10.21.0.2", "10.21.1.2", 1, 2);
	struct flow_stats want0 = stats_none(), want1 = stats_none();
	struct flow_list l = { 0 };
	struct pipeline p;
	struct pkt pk;
	int err = h_open(&p, share, ALL_SLOTS);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.21.0.1", .dst = "10.21.1.1" });
	pkt_udp(&pk, 1, 2);
	pkt_finish(&pk);
	CHECK_EQ("time 0", h_replay(&p, pk.buf, pk.len, 0, 0), XDP_PASS);
	stats_add(&want0, 0, 28, 64);
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.21.0.2", .dst = "10.21.1.2" });
	pkt_udp(&pk, 1, 2);
	pkt_finish(&pk);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		CHECK_EQ("out of order", h_replay(&p, pk.buf, pk.len, times[i], 0),
			 XDP_PASS);
		stats_add(&want1, T(i), 28, 64); /* counts and bins */
	}
	want1.first_seen_ns = T(50);
	want1.last_seen_ns = T(300);
	read_flows(&p, &l, 2);
	check_flow(&l, &k0, &want0);
	check_flow(&l, &k1, &want1);
	flow_list_free(&l);
	check_counts(&p, 6, 6, 0, 0);
	pipeline_close(&p);
out:
	tap_result("%s: capture time 0 is metered; out-of-order times give the earliest first and the latest last",
		   share_mode_name(share));
}

/* All 128 parser subsets (harness.h's mask_loads), each against the mix. */
static void run_protocol_matrix(enum share_mode share)
{
	struct mask_loads loads;
	char names[64];

	if (mask_loads_open(&loads, share)) {
		CHECK(0, "loading the pipelines of the -p subsets");
		tap_result("%s: every -p combination", share_mode_name(share));
		return;
	}
	for (__u32 sub = 0; sub < (1U << N_PARSERS) && !tap_case_failures; sub++) {
		__u32 mask = sub | 1U << SLOT_END;
		struct pipeline *q = mask_loads_use(&loads, mask);

		CHECK_EQ("filled slots", filled_slots(q), mask);
		reset_pipeline(q);
		check_mix(q, mask);
		if (tap_case_failures)
			printf("#   with -p %s\n", mask_name(mask, names, sizeof(names)));
	}
	mask_loads_close(&loads);
	tap_result("%s: all %d -p combinations against %zu mixed frames",
		   share_mode_name(share), 1 << N_PARSERS, N_MIX_FRAMES);
}

/* A few -p lists through pipeline_open itself: it fills exactly those. */
static void run_loader_masks(enum share_mode share)
{
	static const __u32 masks[] = {
		1U << SLOT_L2_ETH | 1U << SLOT_L3_IPV6 | 1U << SLOT_L4_TCP,
		1U << SLOT_L2_ETH | 1U << SLOT_L3_IPV4 | 1U << SLOT_L4_UDP |
			1U << SLOT_L4_ICMP,
		1U << SLOT_L3_IPV4 | 1U << SLOT_L4_TCP, /* no eth: nothing flows */
	};
	char names[64];

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		__u32 mask = masks[i] | 1U << SLOT_END;
		struct pipeline p;
		int err = h_open(&p, share, mask);

		CHECK(!err, "pipeline_open: %s", strerror(-err));
		if (!err) {
			CHECK_EQ("filled slots", filled_slots(&p), mask);
			check_mix(&p, mask);
			pipeline_close(&p);
		}
		tap_result("%s: pipeline_open with -p %s fills only those slots",
			   share_mode_name(share), mask_name(mask, names, sizeof(names)));
	}
}

static int collect_event(void *ctx, void *data, size_t size)
{
	struct flow_event *out = ctx;

	if (size != sizeof(*out) || out->key.ip_version) /* more than one */
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	return 0;
}

/*
 * A full table loses no packet: the one whose flow finds no room goes to
 * the overflow ring with its key, and known flows still update in place.
 */
static void run_full_table_case(enum share_mode share)
{
	struct pipeline_opts opts = { .share = share, .slot_mask = ALL_SLOTS,
				      .max_flows = 2 };
	struct flow_event ev = { 0 };
	struct ring_buffer *ring = NULL;
	struct flow_key k3 = key4(PROTO_UDP, "10.7.1.3", "10.7.1.9", 3, 9);
	struct flow_list l = { 0 };
	struct pipeline p;
	__u64 c[CNT_MAX];
	struct pkt pk;
	int err = pipeline_open(&p, &opts);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	for (int i = 1; i <= 4; i++) {
		char src[16];

		snprintf(src, sizeof(src), "10.7.1.%d", i == 4 ? 1 : i);
		pkt_eth(&pk);
		pkt_ipv4(&pk, &(struct ip4_spec){ .src = src, .dst = "10.7.1.9",
						  .ttl = 99, .tos = 4 });
		pkt_udp(&pk, i == 4 ? 1 : i, 9);
		pkt_finish(&pk);
		h_send(&p, &pk, T(800 + i));
	}
	h_counters(&p, c);
	CHECK_EQ("CNT_SEEN", c[CNT_SEEN], 4);
	CHECK_EQ("CNT_FLOWED", c[CNT_FLOWED], 4);
	CHECK_EQ("CNT_INSERT_FAILED", c[CNT_INSERT_FAILED], 1);
	CHECK_EQ("CNT_OVERFLOW_PKTS", c[CNT_OVERFLOW_PKTS], 0);
	check_identity(c);
	read_flows(&p, &l, 2);
	CHECK(l.n == 2 && l.v[0].stats.packets + l.v[1].stats.packets == 3,
	      "the two flows in the table hold 3 packets");
	flow_list_free(&l);
	ring = ring_buffer__new(pipeline_ring_fd(&p), collect_event, &ev, NULL);
	CHECK(ring, "ring_buffer__new failed");
	if (ring) {
		CHECK_EQ("events consumed", ring_buffer__consume(ring), 1);
		CHECK(!memcmp(&ev.key, &k3, sizeof(k3)), "event key");
		CHECK_EQ("event ts_ns", ev.ts_ns, T(803));
		CHECK_EQ("event ip_length", ev.ip_length, 28);
		CHECK_EQ("event ttl", ev.ttl, 99);
		CHECK_EQ("event tos", ev.tos, 4);
		CHECK(!memcmp(ev.src_mac, PKT_SRC_MAC, 6) &&
		      !memcmp(ev.dst_mac, PKT_DST_MAC, 6), "event MACs");
		ring_buffer__free(ring);
	}
	pipeline_close(&p);
out:
	tap_result("%s: full table: the packet of a new flow goes to the overflow ring",
		   share_mode_name(share));
}

struct event_list {
	struct flow_event v[4];
	int n;
};

static int collect_events(void *ctx, void *data, size_t size)
{
	struct event_list *l = ctx;

	if (size != sizeof(l->v[0]) || l->n == 4)
		return -EINVAL;
	memcpy(&l->v[l->n++], data, sizeof(l->v[0]));
	return 0;
}

/*
 * A later fragment has no TCP header: its overflow event carries no TCP
 * flags, not those the previous TCP packet left in the parse state (a
 * stale FIN would end the flow in user space).
 */
static void run_full_table_fragment_case(enum share_mode share)
{
	struct pipeline_opts opts = { .share = share, .slot_mask = ALL_SLOTS,
				      .max_flows = 1 };
	struct event_list ev = { 0 };
	struct ring_buffer *ring = NULL;
	struct pipeline p;
	struct pkt pk;
	int err = pipeline_open(&p, &opts);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	/* fills the table */
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.7.2.1", .dst = "10.7.2.9" });
	pkt_udp(&pk, 1, 9);
	pkt_finish(&pk);
	h_send(&p, &pk, T(900));
	/* a TCP FIN|RST of a new flow, then a later TCP fragment */
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.7.2.2", .dst = "10.7.2.9" });
	pkt_tcp(&pk, &(struct tcp_spec){ .sport = 2, .dport = 9,
					 .flags = TCP_FIN | TCP_RST | TCP_ACK });
	pkt_finish(&pk);
	h_send(&p, &pk, T(901));
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.7.2.3", .dst = "10.7.2.9",
					  .id = 5, .frag = 100 });
	pkt_l4_opaque(&pk, PROTO_TCP, 40);
	pkt_finish(&pk);
	h_send(&p, &pk, T(902));
	ring = ring_buffer__new(pipeline_ring_fd(&p), collect_events, &ev, NULL);
	CHECK(ring, "ring_buffer__new failed");
	if (ring) {
		CHECK_EQ("events consumed", ring_buffer__consume(ring), 2);
		CHECK_EQ("TCP event flags", ev.v[0].tcp_flags,
			 TCP_FIN | TCP_RST | TCP_ACK);
		CHECK_EQ("later fragment protocol", ev.v[1].key.protocol, PROTO_TCP);
		CHECK_EQ("later fragment event flags", ev.v[1].tcp_flags, 0);
		ring_buffer__free(ring);
	}
	pipeline_close(&p);
out:
	tap_result("%s: full table: a later TCP fragment's overflow event has no TCP flags",
		   share_mode_name(share));
}

/*
 * --sample N: N_SAMPLE_RUNS runs of one frame; each is metered with
 * probability 1/rate, so the metered count is binomial. It must lie within
 * 5 standard deviations of n/rate (a false alarm about once in 1.7
 * million runs), every packet is seen, the rest is counted as not sampled,
 * and the flow holds exactly the metered ones. Rate 1 meters every packet.
 */
#define N_SAMPLE_RUNS 20000
static double square_root(double x) /* Newton: no libm for one root */
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 60; i++)
		r = (r + x / r) / 2;
	return r;
}

static void run_sampling_case(enum share_mode share, __u32 rate)
{
	struct pipeline_opts opts = { .share = share, .slot_mask = ALL_SLOTS,
				      .max_flows = TEST_MAX_FLOWS,
				      .sample_rate = rate };
	double mean = (double)N_SAMPLE_RUNS / rate;
	double sigma = square_root(N_SAMPLE_RUNS * (1.0 / rate) * (1 - 1.0 / rate));
	struct flow_list l = { 0 };
	struct pipeline p;
	__u64 c[CNT_MAX];
	__u32 retval = 0;
	struct pkt pk;
	int err = pipeline_open(&p, &opts);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
	if (err)
		goto out;
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.5.0.1", .dst = "10.5.0.2" });
	pkt_udp(&pk, 1, 2);
	pkt_finish(&pk);
	err = pipeline_run_packet(pipeline_start_fd(&p), pk.buf, pk.len, NULL,
				  N_SAMPLE_RUNS, &retval, NULL);
	CHECK(!err && retval == XDP_PASS, "test run: %d, action %u", err, retval);
	h_counters(&p, c);
	CHECK_EQ("CNT_SEEN", c[CNT_SEEN], N_SAMPLE_RUNS);
	check_identity(c);
	CHECK((double)c[CNT_FLOWED] >= mean - 5 * sigma &&
	      (double)c[CNT_FLOWED] <= mean + 5 * sigma,
	      "rate %u: %llu metered, want %.0f +- %.0f (5 sigma)", rate,
	      (unsigned long long)c[CNT_FLOWED], mean, 5 * sigma);
	printf("# %s rate %u: %llu of %d metered (expected %.0f +- %.0f)\n",
	       share_mode_name(share), rate, (unsigned long long)c[CNT_FLOWED],
	       N_SAMPLE_RUNS, mean, 5 * sigma);
	read_flows(&p, &l, 1);
	CHECK(l.n == 1 && l.v[0].stats.packets == c[CNT_FLOWED],
	      "the flow holds the metered packets");
	flow_list_free(&l);
	pipeline_close(&p);
out:
	tap_result("%s: --sample %u: seen = not sampled + metered, metered within 5 sigma of 1/%u",
		   share_mode_name(share), rate, rate);
}

static int run_strategy(enum share_mode share)
{
	for (size_t i = 0; i < N_FLOW_CASES; i++)
		run_flow_case(share, &flow_cases[i]);
	for (size_t i = 0; i < N_SEQ_CASES; i++)
		run_seq_case(share, &seq_cases[i]);
	run_kernel_clock_case(share);
	run_junk_meta_case(share);
	run_full_table_case(share);
	run_full_table_fragment_case(share);
	run_malformed_cases(share);
	run_cut_flows(share);
	run_cut_malformed(share);
	run_capture_times(share);
	run_protocol_matrix(share);
	run_loader_masks(share);
	run_sampling_case(share, 1);
	run_sampling_case(share, 10);
	return 0;
}

/* All flow cases into one table per strategy: byte-identical results. */
static void run_compare(void)
{
	struct flow_list lists[SHARE_MAX] = { 0 };
	__u64 counters[SHARE_MAX][CNT_MAX];
	struct pipeline p;

	for (int s = 0; s < SHARE_MAX; s++) {
		int err = h_open(&p, s, ALL_SLOTS);

		CHECK(!err, "pipeline_open(%s): %s", share_mode_name(s), strerror(-err));
		if (err)
			goto out;
		for (size_t i = 0; i < N_FLOW_CASES; i++)
			flow_cases[i].send(&p);
		err = h_flows(&p, &lists[s]);
		CHECK(!err, "reading flows: %s", strerror(-err));
		h_counters(&p, counters[s]);
		pipeline_close(&p);
	}
	CHECK(lists[0].n > 10, "only %zu flows to compare", lists[0].n);
	for (int s = 1; s < SHARE_MAX; s++) {
		CHECK(lists[s].n == lists[0].n, "%s has %zu flows, meta %zu",
		      share_mode_name(s), lists[s].n, lists[0].n);
		CHECK(lists[s].n == lists[0].n &&
		      !memcmp(lists[s].v, lists[0].v, lists[0].n * sizeof(*lists[0].v)),
		      "%s flow table differs from meta's", share_mode_name(s));
		CHECK(!memcmp(counters[s], counters[0], sizeof(counters[0])),
		      "%s counters differ from meta's", share_mode_name(s));
	}
out:
	for (int s = 0; s < SHARE_MAX; s++)
		flow_list_free(&lists[s]);
	tap_result("meta, percpu and global give byte-identical flow tables and counters");
}

static int parse_share(const char *name, enum share_mode *out)
{
	for (int s = 0; s < SHARE_MAX; s++)
		if (!strcmp(name, share_mode_name(s))) {
			*out = s;
			return 0;
		}
	return -1;
}

int main(int argc, char **argv)
{
	enum share_mode share;

	log_init(LOG_LEVEL_WARN);
	if (argc != 2) {
		fprintf(stderr, "usage: %s meta|percpu|global|compare\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "compare"))
		run_compare();
	else if (!parse_share(argv[1], &share))
		run_strategy(share);
	else {
		fprintf(stderr, "unknown mode '%s'\n", argv[1]);
		return 2;
	}
	printf("# %d passed, %d failed\n", tap_passed_cases, tap_failed_cases);
	return tap_failed_cases ? 1 : 0;
}
