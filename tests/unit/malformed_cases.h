/* SPDX-License-Identifier: GPL-2.0 */
/*
 * malformed_cases.h - frames that are truncated or invalid at one layer.
 * Each builder makes a frame that is well formed everywhere else; "cut"
 * means the frame ends inside the header while the IP length agrees with
 * the cut (so that the header's own check is what must catch it).
 * Every one of them must pass, count as malformed, and make no flow.
 */
#ifndef TESTS_MALFORMED_CASES_H
#define TESTS_MALFORMED_CASES_H

#include "pkt.h"

struct malformed_case {
	const char *name;
	void (*build)(struct pkt *p);
};

/* End the frame at len and make the IP (and UDP) lengths say so. */
static void cut(struct pkt *p, uint32_t len)
{
	p->len = len;
	pkt_finish(p);
}

static void udp4(struct pkt *p, const uint8_t *ip_opts, uint8_t ip_opts_len)
{
	pkt_eth(p);
	pkt_ipv4(p, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2",
					.options = ip_opts, .options_len = ip_opts_len });
	pkt_udp(p, 1, 2);
	pkt_payload(p, 8);
	pkt_finish(p);
}

static void tcp4(struct pkt *p, const uint8_t *opts, uint8_t opts_len)
{
	pkt_eth(p);
	pkt_ipv4(p, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2" });
	pkt_tcp(p, &(struct tcp_spec){ .sport = 1, .dport = 2, .flags = TCP_SYN,
				       .options = opts, .options_len = opts_len });
	pkt_finish(p);
}

static void ipv6_start(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p, &(struct ip6_spec){ .src = "2001:db8:9::1", .dst = "2001:db8:9::2" });
}

static struct ip4_hdr *ip4_of(struct pkt *p) { return (void *)(p->buf + p->l3_off); }
static struct ip6_hdr *ip6_of(struct pkt *p) { return (void *)(p->buf + p->l3_off); }

/* The shortest frame XDP can see: BPF_PROG_TEST_RUN (like a NIC) refuses
 * anything below an Ethernet header, so a cut there is one byte into IPv4. */
static void m_eth_only(struct pkt *p) { udp4(p, NULL, 0); p->len = 15; }
static void m_vlan_cut(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, ETHERTYPE_8021Q, 100);
	p->len = 16;
}
static void m_qinq_inner_cut(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, ETHERTYPE_8021AD, 100);
	pkt_vlan(p, ETHERTYPE_8021Q, 200);
	p->len = 20;
}
static void m_qinq9100_cut(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, ETHERTYPE_QINQ1, 100);
	p->len = 16;
}
static void m_ip4_cut(struct pkt *p) { udp4(p, NULL, 0); p->len = 14 + 19; }
static void m_ip4_ihl4(struct pkt *p) { udp4(p, NULL, 0); ip4_of(p)->ver_ihl = 0x44; }
static void m_ip4_ihl0(struct pkt *p) { udp4(p, NULL, 0); ip4_of(p)->ver_ihl = 0x40; }
static void m_ip4_version(struct pkt *p) { udp4(p, NULL, 0); ip4_of(p)->ver_ihl = 0x65; }
static void m_ip4_totlen_beyond(struct pkt *p)
{
	udp4(p, NULL, 0);
	ip4_of(p)->tot_len = htons(ntohs(ip4_of(p)->tot_len) + 1);
}
static void m_ip4_totlen_below_ihl(struct pkt *p)
{
	udp4(p, NULL, 0);
	ip4_of(p)->tot_len = htons(19);
}
static void m_ip4_options_cut(struct pkt *p)
{
	static const uint8_t ra[4] = { 148, 4, 0, 0 };

	udp4(p, ra, sizeof(ra));
	cut(p, 14 + 22);
}
static void m_ip4_option_len0(struct pkt *p)
{
	static const uint8_t opt[4] = { 7, 0, 0, 0 };

	udp4(p, opt, sizeof(opt));
}
static void m_ip4_option_len1(struct pkt *p)
{
	static const uint8_t opt[4] = { 1, 7, 1, 0 };

	udp4(p, opt, sizeof(opt));
}
static void m_ip4_option_overrun(struct pkt *p)
{
	static const uint8_t opt[4] = { 7, 8, 4, 0 }; /* says 8, has 4 */

	udp4(p, opt, sizeof(opt));
}
static void m_ip6_cut(struct pkt *p)
{
	ipv6_start(p);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	p->len = 14 + 39;
}
static void m_ip6_version(struct pkt *p)
{
	ipv6_start(p);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	ip6_of(p)->ver_tc_label = htonl(4U << 28);
}
static void m_ip6_paylen_beyond(struct pkt *p)
{
	ipv6_start(p);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	ip6_of(p)->payload_len = htons(9);
}
/* one extension header of the given type, cut 4 bytes into it */
static void ext_cut(struct pkt *p, uint8_t type)
{
	ipv6_start(p);
	if (type == PROTO_FRAGMENT)
		pkt_ipv6_frag(p, 0, 1, 1);
	else if (type == PROTO_AH)
		pkt_ipv6_ah(p, 16);
	else
		pkt_ipv6_ext(p, type, 16);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	cut(p, 14 + 40 + 4);
}
static void m_hbh_cut(struct pkt *p) { ext_cut(p, PROTO_HOPOPTS); }
static void m_dst_cut(struct pkt *p) { ext_cut(p, PROTO_DSTOPTS); }
static void m_rt_cut(struct pkt *p) { ext_cut(p, PROTO_ROUTING); }
static void m_frag_cut(struct pkt *p) { ext_cut(p, PROTO_FRAGMENT); }
static void m_ah_cut(struct pkt *p) { ext_cut(p, PROTO_AH); }
/* an extension header whose length runs past the IPv6 payload */
static void m_dst_overrun(struct pkt *p)
{
	ipv6_start(p);
	pkt_ipv6_ext(p, PROTO_DSTOPTS, 8);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	p->buf[p->l3_off + 40 + 1] = 3; /* 32 bytes, only 16 in the packet */
}
static void m_ah_overrun(struct pkt *p)
{
	ipv6_start(p);
	pkt_ipv6_ah(p, 12);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	p->buf[p->l3_off + 40 + 1] = 10; /* 48 bytes, 20 in the packet */
}
static void m_ext_chain_too_long(struct pkt *p)
{
	ipv6_start(p);
	pkt_ipv6_ext(p, PROTO_HOPOPTS, 8);
	for (int i = 0; i < MAX_IPV6_EXT_HDRS; i++)
		pkt_ipv6_ext(p, PROTO_DSTOPTS, 8);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
}
static void m_tcp_cut(struct pkt *p) { tcp4(p, NULL, 0); cut(p, 14 + 20 + 19); }
static void m_tcp6_cut(struct pkt *p)
{
	ipv6_start(p);
	pkt_ipv6_ext(p, PROTO_HOPOPTS, 8);
	pkt_tcp(p, &(struct tcp_spec){ .sport = 1, .dport = 2, .flags = TCP_ACK });
	pkt_finish(p);
	cut(p, p->len - 1);
}
static void m_tcp_doff4(struct pkt *p)
{
	tcp4(p, NULL, 0);
	p->buf[p->l4_off + 12] = 4 << 4;
}
static void m_tcp_doff_beyond(struct pkt *p)
{
	tcp4(p, NULL, 0);
	p->buf[p->l4_off + 12] = 15 << 4; /* 60 bytes of header in 20 */
	pkt_pad(p, 14 + 20 + 60);         /* in the frame but not in IP */
}
static void m_tcp_option_len0(struct pkt *p)
{
	static const uint8_t opt[4] = { 8, 0, 0, 0 };

	tcp4(p, opt, sizeof(opt));
}
static void m_tcp_option_len1(struct pkt *p)
{
	static const uint8_t opt[4] = { 1, 1, 3, 1 };

	tcp4(p, opt, sizeof(opt));
}
static void m_tcp_option_overrun(struct pkt *p)
{
	static const uint8_t opt[4] = { 1, 2, 8, 5 }; /* MSS says 8 bytes */

	tcp4(p, opt, sizeof(opt));
}
static void m_udp_cut(struct pkt *p) { udp4(p, NULL, 0); cut(p, 14 + 20 + 7); }
static void icmp_cut(struct pkt *p, uint8_t proto, uint8_t type, uint32_t keep)
{
	if (proto == PROTO_ICMP) {
		pkt_eth(p);
		pkt_ipv4(p, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2" });
	} else {
		ipv6_start(p);
	}
	pkt_icmp(p, proto, type, 0, 7, 1);
	pkt_finish(p);
	cut(p, p->l4_off + keep);
}
static void m_icmp_cut(struct pkt *p) { icmp_cut(p, PROTO_ICMP, 3, 3); }
static void m_icmp_echo_cut(struct pkt *p) { icmp_cut(p, PROTO_ICMP, 8, 6); }
static void m_icmp6_cut(struct pkt *p) { icmp_cut(p, PROTO_ICMPV6, 135, 3); }
static void m_icmp6_echo_cut(struct pkt *p) { icmp_cut(p, PROTO_ICMPV6, 129, 7); }

static const struct malformed_case malformed_cases[] = {
	{ "Ethernet header and one byte of IPv4 (15 bytes)", m_eth_only },
	{ "802.1Q tag cut", m_vlan_cut },
	{ "0x9100 tag cut", m_qinq9100_cut },
	{ "QinQ inner tag cut", m_qinq_inner_cut },
	{ "IPv4 header cut", m_ip4_cut },
	{ "IPv4 IHL 4", m_ip4_ihl4 },
	{ "IPv4 IHL 0", m_ip4_ihl0 },
	{ "IPv4 version field 6", m_ip4_version },
	{ "IPv4 total length beyond the frame", m_ip4_totlen_beyond },
	{ "IPv4 total length below the header length", m_ip4_totlen_below_ihl },
	{ "IPv4 options cut", m_ip4_options_cut },
	{ "IPv4 option of length 0", m_ip4_option_len0 },
	{ "IPv4 option of length 1", m_ip4_option_len1 },
	{ "IPv4 option longer than the options", m_ip4_option_overrun },
	{ "IPv6 header cut", m_ip6_cut },
	{ "IPv6 version field 4", m_ip6_version },
	{ "IPv6 payload length beyond the frame", m_ip6_paylen_beyond },
	{ "IPv6 hop-by-hop header cut", m_hbh_cut },
	{ "IPv6 destination options header cut", m_dst_cut },
	{ "IPv6 routing header cut", m_rt_cut },
	{ "IPv6 fragment header cut", m_frag_cut },
	{ "IPv6 AH cut", m_ah_cut },
	{ "IPv6 destination options longer than the packet", m_dst_overrun },
	{ "IPv6 AH longer than the packet", m_ah_overrun },
	{ "IPv6 extension chain longer than MAX_IPV6_EXT_HDRS", m_ext_chain_too_long },
	{ "TCP header cut", m_tcp_cut },
	{ "TCP header cut behind IPv6 hop-by-hop", m_tcp6_cut },
	{ "TCP data offset 4", m_tcp_doff4 },
	{ "TCP data offset beyond the IP packet", m_tcp_doff_beyond },
	{ "TCP option of length 0", m_tcp_option_len0 },
	{ "TCP option of length 1", m_tcp_option_len1 },
	{ "TCP option longer than the header", m_tcp_option_overrun },
	{ "UDP header cut", m_udp_cut },
	{ "ICMP header cut", m_icmp_cut },
	{ "ICMP echo header cut (6 of 8 bytes)", m_icmp_echo_cut },
	{ "ICMPv6 header cut", m_icmp6_cut },
	{ "ICMPv6 echo header cut (7 of 8 bytes)", m_icmp6_echo_cut },
};

#define N_MALFORMED_CASES (sizeof(malformed_cases) / sizeof(malformed_cases[0]))

#endif
