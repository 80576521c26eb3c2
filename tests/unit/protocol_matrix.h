/* SPDX-License-Identifier: GPL-2.0 */
/*
 * protocol_matrix.h - the -p parser list against a mixed set of frames.
 * Every frame names the parser slots it passes through, in chain order; with
 * a given set of slots filled, a frame makes its flow (or its malformed /
 * not-parsed count) only when all of its slots are there, and otherwise
 * ends at the first empty one: not parsed, CNT_MISSED_TAIL_CALL + slot.
 */
#ifndef TESTS_PROTOCOL_MATRIX_H
#define TESTS_PROTOCOL_MATRIX_H

#include "harness.h"
#include "pkt.h"

enum mix_outcome { MIX_FLOW, MIX_NOT_PARSED, MIX_MALFORMED };

struct mix_frame {
	const char *name;
	void (*build)(struct pkt *p, struct flow_key *key);
	int slots[3];
	int n_slots;
	enum mix_outcome outcome; /* with all its slots filled */
};

static void mix_v4(struct pkt *p, const char *src)
{
	pkt_eth(p);
	pkt_ipv4(p, &(struct ip4_spec){ .src = src, .dst = "10.8.0.254" });
}

static void mix_v6(struct pkt *p, const char *src)
{
	pkt_eth(p);
	pkt_ipv6(p, &(struct ip6_spec){ .src = src, .dst = "2001:db8:8::fe" });
}

static void mx_tcp4(struct pkt *p, struct flow_key *k)
{
	mix_v4(p, "10.8.0.1");
	pkt_tcp(p, &(struct tcp_spec){ .sport = 1001, .dport = 80, .flags = TCP_SYN });
	pkt_finish(p);
	*k = key4(PROTO_TCP, "10.8.0.1", "10.8.0.254", 1001, 80);
}
static void mx_udp4(struct pkt *p, struct flow_key *k)
{
	mix_v4(p, "10.8.0.2");
	pkt_udp(p, 1002, 53);
	pkt_finish(p);
	*k = key4(PROTO_UDP, "10.8.0.2", "10.8.0.254", 1002, 53);
}
static void mx_icmp4(struct pkt *p, struct flow_key *k)
{
	mix_v4(p, "10.8.0.3");
	pkt_icmp(p, PROTO_ICMP, 8, 0, 33, 1);
	pkt_finish(p);
	*k = key4(PROTO_ICMP, "10.8.0.3", "10.8.0.254", 0, 0x0800);
	k->icmp_id = 33;
}
static void mx_gre4(struct pkt *p, struct flow_key *k)
{
	mix_v4(p, "10.8.0.4");
	pkt_l4_opaque(p, PROTO_GRE, 4);
	pkt_finish(p);
	*k = key4(PROTO_GRE, "10.8.0.4", "10.8.0.254", 0, 0);
}
static void mx_frag4(struct pkt *p, struct flow_key *k)
{
	pkt_eth(p);
	pkt_ipv4(p, &(struct ip4_spec){ .src = "10.8.0.5", .dst = "10.8.0.254",
					.frag = 100 });
	pkt_l4_opaque(p, PROTO_TCP, 40);
	pkt_finish(p);
	*k = key4(PROTO_TCP, "10.8.0.5", "10.8.0.254", 0, 0);
}
static void mx_vlan_udp4(struct pkt *p, struct flow_key *k)
{
	pkt_eth(p);
	pkt_vlan(p, ETHERTYPE_8021Q, 42);
	pkt_ipv4(p, &(struct ip4_spec){ .src = "10.8.0.6", .dst = "10.8.0.254" });
	pkt_udp(p, 1006, 123);
	pkt_finish(p);
	*k = key4(PROTO_UDP, "10.8.0.6", "10.8.0.254", 1006, 123);
	k->vlan_id = 42;
}
static void mx_tcp6(struct pkt *p, struct flow_key *k)
{
	mix_v6(p, "2001:db8:8::1");
	pkt_ipv6_ext(p, PROTO_HOPOPTS, 8);
	pkt_tcp(p, &(struct tcp_spec){ .sport = 2001, .dport = 443, .flags = TCP_ACK });
	pkt_finish(p);
	*k = key6(PROTO_TCP, "2001:db8:8::1", "2001:db8:8::fe", 2001, 443);
}
static void mx_udp6(struct pkt *p, struct flow_key *k)
{
	mix_v6(p, "2001:db8:8::2");
	pkt_udp(p, 2002, 53);
	pkt_finish(p);
	*k = key6(PROTO_UDP, "2001:db8:8::2", "2001:db8:8::fe", 2002, 53);
}
static void mx_icmp6(struct pkt *p, struct flow_key *k)
{
	mix_v6(p, "2001:db8:8::3");
	pkt_icmp(p, PROTO_ICMPV6, 128, 0, 66, 1);
	pkt_finish(p);
	*k = key6(PROTO_ICMPV6, "2001:db8:8::3", "2001:db8:8::fe", 0, 0x8000);
	k->icmp_id = 66;
}
static void mx_sctp6(struct pkt *p, struct flow_key *k)
{
	mix_v6(p, "2001:db8:8::4");
	pkt_l4_opaque(p, PROTO_SCTP, 12);
	pkt_finish(p);
	*k = key6(PROTO_SCTP, "2001:db8:8::4", "2001:db8:8::fe", 0, 0);
}
static void mx_frag6(struct pkt *p, struct flow_key *k)
{
	mix_v6(p, "2001:db8:8::5");
	pkt_ipv6_frag(p, 100, 0, 5);
	pkt_l4_opaque(p, PROTO_UDP, 40);
	pkt_finish(p);
	*k = key6(PROTO_UDP, "2001:db8:8::5", "2001:db8:8::fe", 0, 0);
}
static void mx_arp(struct pkt *p, struct flow_key *k)
{
	pkt_eth(p);
	pkt_arp_request(p);
	memset(k, 0, sizeof(*k));
}
static void mx_bad_tcp4(struct pkt *p, struct flow_key *k)
{
	mix_v4(p, "10.8.0.7");
	pkt_tcp(p, &(struct tcp_spec){ .sport = 1007, .dport = 80, .flags = TCP_ACK });
	pkt_finish(p);
	p->buf[p->l4_off + 12] = 3 << 4; /* data offset 3 */
	memset(k, 0, sizeof(*k));
}
static void mx_bad_ip6(struct pkt *p, struct flow_key *k)
{
	mix_v6(p, "2001:db8:8::6");
	pkt_udp(p, 2006, 53);
	pkt_finish(p);
	p->buf[p->l3_off + 5] += 1; /* payload length past the frame */
	memset(k, 0, sizeof(*k));
}

#define S(a) SLOT_##a
static const struct mix_frame mix_frames[] = {
	{ "IPv4 TCP", mx_tcp4, { S(L2_ETH), S(L3_IPV4), S(L4_TCP) }, 3, MIX_FLOW },
	{ "IPv4 UDP", mx_udp4, { S(L2_ETH), S(L3_IPV4), S(L4_UDP) }, 3, MIX_FLOW },
	{ "IPv4 ICMP", mx_icmp4, { S(L2_ETH), S(L3_IPV4), S(L4_ICMP) }, 3, MIX_FLOW },
	{ "IPv4 GRE", mx_gre4, { S(L2_ETH), S(L3_IPV4) }, 2, MIX_FLOW },
	{ "IPv4 later fragment", mx_frag4, { S(L2_ETH), S(L3_IPV4) }, 2, MIX_FLOW },
	{ "802.1Q IPv4 UDP", mx_vlan_udp4, { S(L2_ETH), S(L3_IPV4), S(L4_UDP) }, 3, MIX_FLOW },
	{ "IPv6 hop-by-hop TCP", mx_tcp6, { S(L2_ETH), S(L3_IPV6), S(L4_TCP) }, 3, MIX_FLOW },
	{ "IPv6 UDP", mx_udp6, { S(L2_ETH), S(L3_IPV6), S(L4_UDP) }, 3, MIX_FLOW },
	{ "ICMPv6", mx_icmp6, { S(L2_ETH), S(L3_IPV6), S(L4_ICMPV6) }, 3, MIX_FLOW },
	{ "IPv6 SCTP", mx_sctp6, { S(L2_ETH), S(L3_IPV6) }, 2, MIX_FLOW },
	{ "IPv6 later fragment", mx_frag6, { S(L2_ETH), S(L3_IPV6) }, 2, MIX_FLOW },
	{ "ARP", mx_arp, { S(L2_ETH) }, 1, MIX_NOT_PARSED },
	{ "IPv4 TCP data offset 3", mx_bad_tcp4, { S(L2_ETH), S(L3_IPV4), S(L4_TCP) }, 3,
	  MIX_MALFORMED },
	{ "IPv6 payload length past the frame", mx_bad_ip6, { S(L2_ETH), S(L3_IPV6) }, 2,
	  MIX_MALFORMED },
};
#undef S
#define N_MIX_FRAMES (sizeof(mix_frames) / sizeof(mix_frames[0]))

/* "eth,ipv6,tcp" for a mask, for the test names */
/*
 * Run the mixed set through p, whose jmp_table holds the slots of mask,
 * and check flows and counters against what the mask allows. The table and
 * counters must start empty.
 */
static void check_mix(struct pipeline *p, __u32 mask)
{
	__u64 want[CNT_MAX] = { 0 }, got[CNT_MAX];
	struct flow_key keys[N_MIX_FRAMES];
	size_t n_flows = 0;
	struct flow_list l;
	char name[48];
	struct pkt pk;

	for (size_t i = 0; i < N_MIX_FRAMES; i++) {
		const struct mix_frame *f = &mix_frames[i];
		int missing = -1;

		f->build(&pk, &keys[n_flows]);
		h_send(p, &pk, T(700 + i));
		want[CNT_SEEN]++;
		for (int j = 0; j < f->n_slots && missing < 0; j++)
			if (!(mask & (1U << f->slots[j])))
				missing = f->slots[j];
		if (missing >= 0) {
			want[CNT_NOT_PARSED]++;
			want[CNT_MISSED_TAIL_CALL + missing]++;
		} else if (f->outcome == MIX_FLOW) {
			want[CNT_FLOWED]++;
			n_flows++;
		} else {
			want[f->outcome == MIX_MALFORMED ? CNT_MALFORMED : CNT_NOT_PARSED]++;
		}
	}
	h_counters(p, got);
	for (int c = 0; c < CNT_MAX; c++) {
		CHECK_EQ(counter_name(c, name, sizeof(name)), got[c], want[c]);
	}
	check_identity(got);
	CHECK(!h_flows(p, &l), "reading flows");
	CHECK_EQ("number of flows", l.n, n_flows);
	for (size_t i = 0; i < n_flows; i++) {
		const struct flow_entry *e = h_find(&l, &keys[i]);

		CHECK(e && e->stats.packets == 1, "flow %zu missing or not one packet", i);
		if (!e)
			key_print("missing", &keys[i]);
	}
	flow_list_free(&l);
}

#endif
