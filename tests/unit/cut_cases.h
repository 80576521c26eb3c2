/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cut_cases.h - frames a capture cut (snaplen), frames larger than what
 * BPF_PROG_TEST_RUN shows a program, and capture times as captures have
 * them (0, out of order). A replayed frame carries its length on the wire
 * in pkt_meta: the flow it describes is metered with the IP length from
 * its header, as long as the fields of the flow key were captured. The
 * same bytes without that length (live, or a replay that says nothing) are
 * a short packet: malformed, as before.
 */
#ifndef TESTS_CUT_CASES_H
#define TESTS_CUT_CASES_H

#include "flow_cases.h"
#include "harness.h"
#include "malformed_cases.h"
#include "pkt.h"

/* BPF_PROG_TEST_RUN's linear part for a plain XDP program on x86-64:
 * 4096 - 256 headroom - 320 skb_shared_info. offline.c cuts there. */
#define TEST_LINEAR_MAX 3520

/*
 * A frame as a capture holds it: the whole frame is built in pk, the
 * capture kept cut bytes of it, and the wire carried wire bytes (pk->len
 * unless the builder says otherwise, as for a TSO super-packet whose
 * length only its IP header knows).
 */
struct cut_frame {
	const char *name;
	/* build the frame; return the bytes the capture kept, set *wire */
	uint32_t (*build)(struct pkt *pk, uint32_t *wire);
	/* the flow it must make, sent at ts (key and stats) */
	void (*expect)(__u64 ts, struct flow_key *k, struct flow_stats *s);
};

/* ---- frames whose key fields were captured: each makes its flow ---- */

static uint32_t c_tcp_syn_options(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.20.0.1", .dst = "10.20.1.1" });
	pkt_tcp(pk, &(struct tcp_spec){ .sport = 1001, .dport = 80, .seq = 7,
					.flags = TCP_SYN, .window = 64240,
					.options = syn_options,
					.options_len = sizeof(syn_options) });
	pkt_finish(pk);
	*wire = pk->len;
	/* MSS, SACK permitted and the start of timestamps: no window scale */
	return 14 + 20 + 20 + 8;
}

static void e_tcp_syn_options(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_TCP, "10.20.0.1", "10.20.1.1", 1001, 80);
	stats_add(s, ts, 60, 64);
	s->tcp_flags = TCP_SYN;
	s->tcp_win_min = s->tcp_win_max = 64240;
	s->tcp_mss = 1460;
}

/* tcpdump -s 54 of a data segment: the headers and no payload */
static uint32_t c_tcp_data(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.20.0.2", .dst = "10.20.1.2" });
	pkt_tcp(pk, &(struct tcp_spec){ .sport = 1002, .dport = 80, .seq = 5000,
					.flags = TCP_PSH | TCP_ACK, .window = 501 });
	pkt_payload(pk, 1400);
	pkt_finish(pk);
	*wire = pk->len;
	return 54;
}

static void e_tcp_data(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_TCP, "10.20.0.2", "10.20.1.2", 1002, 80);
	stats_add(s, ts, 1440, 64);
	s->tcp_flags = TCP_PSH | TCP_ACK;
	s->tcp_win_min = s->tcp_win_max = 501;
	s->seq.next_seq = 5000 + 1400;
}

/* the capture kept the ports of the TCP header and no more: the flow
 * without flags, window or sequence */
static uint32_t c_tcp_ports_only(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.20.0.3", .dst = "10.20.1.3" });
	pkt_tcp(pk, &(struct tcp_spec){ .sport = 1003, .dport = 80, .seq = 9,
					.flags = TCP_FIN | TCP_ACK, .window = 77 });
	pkt_payload(pk, 100);
	pkt_finish(pk);
	*wire = pk->len;
	return 14 + 20 + 8;
}

static void e_tcp_ports_only(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_TCP, "10.20.0.3", "10.20.1.3", 1003, 80);
	stats_add(s, ts, 140, 64);
}

static uint32_t c_udp_ports_only(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.20.0.4", .dst = "10.20.1.4" });
	pkt_udp(pk, 4000, 4001);
	pkt_payload(pk, 1000);
	pkt_finish(pk);
	*wire = pk->len;
	return 14 + 20 + 4;
}

static void e_udp_ports_only(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_UDP, "10.20.0.4", "10.20.1.4", 4000, 4001);
	stats_add(s, ts, 1028, 64);
}

static uint32_t c_ipv6_hbh_udp(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv6(pk, &(struct ip6_spec){ .src = "2001:db8:20::5", .dst = "2001:db8:21::5" });
	pkt_ipv6_ext(pk, PROTO_HOPOPTS, 8);
	pkt_udp(pk, 4002, 4003);
	pkt_payload(pk, 500);
	pkt_finish(pk);
	*wire = pk->len;
	return 14 + 40 + 8 + 4;
}

static void e_ipv6_hbh_udp(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key6(PROTO_UDP, "2001:db8:20::5", "2001:db8:21::5", 4002, 4003);
	stats_add(s, ts, 40 + 8 + 8 + 500, 64);
}

static uint32_t c_icmp_echo(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.20.0.6", .dst = "10.20.1.6" });
	pkt_icmp(pk, PROTO_ICMP, 8, 0, 0x4242, 1);
	pkt_payload(pk, 56);
	pkt_finish(pk);
	*wire = pk->len;
	return 14 + 20 + 6; /* type, code, checksum, identifier */
}

static void e_icmp_echo(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_ICMP, "10.20.0.6", "10.20.1.6", 0, 0x0800);
	k->icmp_id = 0x4242;
	stats_add(s, ts, 84, 64);
}

static uint32_t c_vlan_udp(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_vlan(pk, ETHERTYPE_8021Q, 100);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.20.0.7", .dst = "10.20.1.7" });
	pkt_udp(pk, 4004, 4005);
	pkt_payload(pk, 300);
	pkt_finish(pk);
	*wire = pk->len;
	return 18 + 20 + 8;
}

static void e_vlan_udp(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_UDP, "10.20.0.7", "10.20.1.7", 4004, 4005);
	k->vlan_id = 100;
	stats_add(s, ts, 328, 64);
}

/* A 9000-byte jumbo frame from src. */
static void jumbo(struct pkt *pk, const char *src)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = src, .dst = "10.20.1.8" });
	pkt_udp(pk, 4006, 4007);
	pkt_payload(pk, 9000 - 28);
	pkt_finish(pk);
}

/* Handed in whole: the program sees only the linear part, the length on
 * the wire says the rest was there. */
static uint32_t c_jumbo_whole(struct pkt *pk, uint32_t *wire)
{
	jumbo(pk, "10.20.0.8");
	*wire = pk->len;
	return pk->len;
}

static void e_jumbo_whole(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_UDP, "10.20.0.8", "10.20.1.8", 4006, 4007);
	stats_add(s, ts, 9000, 64);
}

/* Cut to the linear part, as offline.c hands it in. */
static uint32_t c_jumbo_cut(struct pkt *pk, uint32_t *wire)
{
	jumbo(pk, "10.20.0.10");
	*wire = pk->len;
	return TEST_LINEAR_MAX;
}

static void e_jumbo_cut(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_UDP, "10.20.0.10", "10.20.1.8", 4006, 4007);
	stats_add(s, ts, 9000, 64);
}

/* A TSO/GRO super-packet as captured on the host that built it: one IP
 * header for 65000 bytes of segments; the capture holds the linear part. */
static uint32_t c_tso(struct pkt *pk, uint32_t *wire)
{
	struct ip4_hdr *ip;

	pkt_eth(pk);
	ip = pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.20.0.9", .dst = "10.20.1.9" });
	pkt_tcp(pk, &(struct tcp_spec){ .sport = 1009, .dport = 80, .seq = 100,
					.flags = TCP_ACK, .window = 3000 });
	pkt_payload(pk, TEST_LINEAR_MAX - 54);
	ip->tot_len = htons(65000);
	*wire = 14 + 65000;
	return pk->len;
}

static void e_tso(__u64 ts, struct flow_key *k, struct flow_stats *s)
{
	*k = key4(PROTO_TCP, "10.20.0.9", "10.20.1.9", 1009, 80);
	stats_add(s, ts, 65000, 64);
	s->tcp_flags = TCP_ACK;
	s->tcp_win_min = s->tcp_win_max = 3000;
	s->seq.next_seq = 100 + 65000 - 40;
}

static const struct cut_frame cut_flows[] = {
	{ "TCP SYN cut inside its options", c_tcp_syn_options, e_tcp_syn_options },
	{ "TCP data segment cut after the TCP header (-s 54)", c_tcp_data, e_tcp_data },
	{ "TCP cut after the ports", c_tcp_ports_only, e_tcp_ports_only },
	{ "UDP cut after the ports", c_udp_ports_only, e_udp_ports_only },
	{ "IPv6 hop-by-hop UDP cut after the ports", c_ipv6_hbh_udp, e_ipv6_hbh_udp },
	{ "ICMP echo cut after the identifier", c_icmp_echo, e_icmp_echo },
	{ "802.1Q UDP cut after the UDP header", c_vlan_udp, e_vlan_udp },
	{ "9000-byte jumbo frame handed in whole", c_jumbo_whole, e_jumbo_whole },
	{ "9000-byte jumbo frame cut to the linear limit", c_jumbo_cut, e_jumbo_cut },
	{ "64 KB TSO super-packet, linear part", c_tso, e_tso },
};
#define N_CUT_FLOWS (sizeof(cut_flows) / sizeof(cut_flows[0]))

/* ---- cut frames whose key fields are missing: malformed ---- */

static uint32_t m_cut_ip4_header(struct pkt *pk, uint32_t *wire)
{
	udp4(pk, NULL, 0);
	*wire = pk->len;
	return 14 + 19;
}

static uint32_t m_cut_ip4_options(struct pkt *pk, uint32_t *wire)
{
	static const uint8_t ra[4] = { 148, 4, 0, 0 };

	udp4(pk, ra, sizeof(ra));
	*wire = pk->len;
	return 14 + 22;
}

static uint32_t m_cut_tcp_ports(struct pkt *pk, uint32_t *wire)
{
	tcp4(pk, NULL, 0);
	*wire = pk->len;
	return 14 + 20 + 3;
}

static uint32_t m_cut_udp_ports(struct pkt *pk, uint32_t *wire)
{
	udp4(pk, NULL, 0);
	*wire = pk->len;
	return 14 + 20 + 3;
}

static uint32_t m_cut_icmp_type(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2" });
	pkt_icmp(pk, PROTO_ICMP, 3, 1, 0, 0);
	pkt_payload(pk, 28);
	pkt_finish(pk);
	*wire = pk->len;
	return 14 + 20 + 1;
}

static uint32_t m_cut_echo_id(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2" });
	pkt_icmp(pk, PROTO_ICMP, 8, 0, 0x4242, 1);
	pkt_payload(pk, 56);
	pkt_finish(pk);
	*wire = pk->len;
	return 14 + 20 + 5;
}

static uint32_t m_cut_ip6_ext(struct pkt *pk, uint32_t *wire)
{
	ipv6_start(pk);
	pkt_ipv6_ext(pk, PROTO_HOPOPTS, 16);
	pkt_udp(pk, 1, 2);
	pkt_finish(pk);
	*wire = pk->len;
	return 14 + 40 + 12;
}

static uint32_t m_cut_vlan(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_vlan(pk, ETHERTYPE_8021Q, 100);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2" });
	pkt_udp(pk, 1, 2);
	pkt_finish(pk);
	*wire = pk->len;
	return 16;
}

/* the wire length is shorter than the IP header says: not a cut, a lie */
static uint32_t m_wire_short(struct pkt *pk, uint32_t *wire)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2" });
	pkt_udp(pk, 1, 2);
	pkt_payload(pk, 1000);
	pkt_finish(pk);
	*wire = pk->len - 1;
	return 14 + 20 + 8;
}

static const struct cut_frame cut_malformed[] = {
	{ "cut inside the IPv4 header", m_cut_ip4_header, NULL },
	{ "cut inside IPv4 options, before the ports", m_cut_ip4_options, NULL },
	{ "cut inside the TCP ports", m_cut_tcp_ports, NULL },
	{ "cut inside the UDP ports", m_cut_udp_ports, NULL },
	{ "cut before the ICMP code", m_cut_icmp_type, NULL },
	{ "cut inside the ICMP echo identifier", m_cut_echo_id, NULL },
	{ "cut inside the IPv6 extension headers", m_cut_ip6_ext, NULL },
	{ "cut inside the 802.1Q tag", m_cut_vlan, NULL },
	{ "wire length shorter than the IP length", m_wire_short, NULL },
};
#define N_CUT_MALFORMED (sizeof(cut_malformed) / sizeof(cut_malformed[0]))

#endif
