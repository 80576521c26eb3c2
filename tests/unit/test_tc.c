// SPDX-License-Identifier: GPL-2.0
/*
 * test_tc - the TC instances of the pipeline (tci_*, tce_*) under
 * BPF_PROG_TEST_RUN, for each share strategy: the direction in the key, a
 * GSO packet counted as the wire packets it carries (__sk_buff gso_segs and
 * gso_size, which a test run may set), the per-direction counters, and an
 * egress packet forwarded from an interface metered at ingress left out.
 *
 *   test_tc meta|percpu|global
 */
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
/* harness.h serves test_pipeline's many cases; this uses a few of them */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "harness.h"
#include "log.h"

/* One frame through a TC entry program with the given skb fields. */
static int tc_run(int prog_fd, const struct pkt *pk, __u32 gso_segs,
		  __u32 gso_size, __u32 ingress_ifindex)
{
	struct __sk_buff skb = {
		.ifindex = TEST_RUN_IFINDEX,
		.ingress_ifindex = ingress_ifindex,
		.gso_segs = gso_segs,
		.gso_size = gso_size,
	};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pk->buf,
		    .data_size_in = pk->len, .ctx_in = &skb,
		    .ctx_size_in = sizeof(skb));

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	return (int)o.retval;
}

/* An Ethernet/IPv4/TCP frame with payload bytes after a 20-byte header. */
static void tcp_frame(struct pkt *pk, __u32 payload)
{
	struct ip4_spec ip = { .src = "10.1.0.1", .dst = "10.1.0.2" };
	struct tcp_spec tcp = { .sport = 40000, .dport = 80, .seq = 1000,
				.ack = 1, .flags = TCP_ACK, .window = 512 };

	pkt_init(pk);
	pkt_eth(pk);
	pkt_ipv4(pk, &ip);
	pkt_tcp(pk, &tcp);
	pkt_payload(pk, payload);
	pkt_finish(pk);
}

static void open_tc(struct pipeline *p, enum share_mode share)
{
	struct pipeline_opts opts = {
		.share = share,
		.slot_mask = ALL_SLOTS,
		.max_flows = TEST_MAX_FLOWS,
		.tc_dirs = (1U << FLOW_DIR_INGRESS) | (1U << FLOW_DIR_EGRESS),
	};
	int err = pipeline_open(p, &opts);

	CHECK(!err, "pipeline_open: %s", strerror(-err));
}

/* 3000 bytes in one GSO packet of 3 segments of 1000: on the wire 3
 * packets of 1040, 1040 and 1040 bytes (each with its 40 header bytes). */
static void test_gso(enum share_mode share, bool egress)
{
	struct pipeline p;
	struct pkt pk;
	struct flow_list l = {};
	struct flow_key k = key4(IPPROTO_TCP, "10.1.0.1", "10.1.0.2", 40000, 80);
	const struct flow_entry *e;
	__u64 c[CNT_MAX];
	int prog, ret;

	open_tc(&p, share);
	if (tap_case_failures)
		goto out;
	prog = bpf_program__fd(egress ? p.skel->progs.tce_start : p.skel->progs.tci_start);
	tcp_frame(&pk, 3000);
	ret = tc_run(prog, &pk, 3, 1000, 0);
	CHECK(ret == TC_ACT_UNSPEC, "TC action %d, want TC_ACT_UNSPEC", ret);
	tcp_frame(&pk, 100); /* and one plain packet of the same flow */
	ret = tc_run(prog, &pk, 0, 0, 0);
	CHECK(ret == TC_ACT_UNSPEC, "TC action %d, want TC_ACT_UNSPEC", ret);
	CHECK(!h_flows(&p, &l), "reading the flow table");
	k.direction = egress ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS;
	e = h_find(&l, &k);
	CHECK(l.n == 1 && e, "one flow, keyed with direction %u (%zu flows)", k.direction, l.n);
	if (e) {
		CHECK_EQ("packets", e->stats.packets, 4);
		CHECK_EQ("octets", e->stats.octets, 3 * 1040 + 140);
		CHECK_EQ("min length", e->stats.min_length, 140);
		CHECK_EQ("max length", e->stats.max_length, 1040);
		CHECK_EQ("size bin <256", e->stats.size_hist[1], 1);
		CHECK_EQ("size bin <1514", e->stats.size_hist[4], 3);
	}
	CHECK(!pipeline_counters_dir(&p, egress ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS, c),
	      "reading counters");
	CHECK_EQ("seen, in wire packets", c[CNT_SEEN], 4);
	CHECK_EQ("flowed", c[CNT_FLOWED], 4);
	check_identity(c);
	CHECK(!pipeline_counters_dir(&p, egress ? FLOW_DIR_INGRESS : FLOW_DIR_EGRESS, c),
	      "reading counters");
	CHECK_EQ("the other direction's seen", c[CNT_SEEN], 0);
out:
	flow_list_free(&l);
	pipeline_close(&p);
	tap_result("%s: TC %s: a GSO packet of 3 segments counts 3 wire packets and their headers; the key says %s",
		   share_mode_name(share), egress ? "egress" : "ingress",
		   egress ? "egress" : "ingress");
}

/* Forwarded (ingress_ifindex set): left out at egress when that interface
 * is metered at ingress, counted at egress when it is not. */
static void test_forwarded(enum share_mode share)
{
	struct pipeline p;
	struct pkt pk;
	struct flow_list l = {};
	__u32 metered = 7, other = 9;
	__u8 one = 1;
	__u64 c[CNT_MAX];
	int prog;

	open_tc(&p, share);
	if (tap_case_failures)
		goto out;
	prog = bpf_program__fd(p.skel->progs.tce_start);
	CHECK(!bpf_map_update_elem(bpf_map__fd(p.skel->maps.ingress_metered),
				   &metered, &one, BPF_ANY), "filling ingress_metered");
	tcp_frame(&pk, 10);
	CHECK(tc_run(prog, &pk, 0, 0, metered) == TC_ACT_UNSPEC, "run");
	CHECK(tc_run(prog, &pk, 0, 0, metered) == TC_ACT_UNSPEC, "run");
	CHECK(tc_run(prog, &pk, 0, 0, other) == TC_ACT_UNSPEC, "run");
	CHECK(!h_flows(&p, &l), "reading the flow table");
	CHECK(l.n == 1 && l.v[0].stats.packets == 1,
	      "only the packet from the unmetered interface is in a flow (%zu flows)", l.n);
	CHECK(!pipeline_counters_dir(&p, FLOW_DIR_EGRESS, c), "reading counters");
	CHECK_EQ("forwarded", c[CNT_FORWARDED], 2);
	CHECK_EQ("seen", c[CNT_SEEN], 1);
	check_identity(c);
out:
	flow_list_free(&l);
	pipeline_close(&p);
	tap_result("%s: TC egress: a forwarded packet from an interface metered at ingress is left out (counted as forwarded), from another it is metered",
		   share_mode_name(share));
}

int main(int argc, char **argv)
{
	enum share_mode share = SHARE_MAX;

	log_init(LOG_LEVEL_WARN);
	for (int s = 0; argc == 2 && s < SHARE_MAX; s++)
		if (!strcmp(argv[1], share_mode_name(s)))
			share = s;
	if (share == SHARE_MAX) {
		fprintf(stderr, "usage: %s meta|percpu|global\n", argv[0]);
		return 2;
	}
	test_gso(share, true);
	test_gso(share, false);
	test_forwarded(share);
	printf("# %d passed, %d failed\n", tap_passed_cases, tap_failed_cases);
	return tap_failed_cases ? 1 : 0;
}
