/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow_cases.h - well-formed traffic and the exact flows it must make.
 * Each case has a send() that runs its frames through a fresh pipeline and a
 * check() that reads the table and the counters back; the strategy
 * comparison in test_pipeline.c reuses send() alone. Every case uses its own
 * addresses so that all of them can share one table.
 */
#ifndef TESTS_FLOW_CASES_H
#define TESTS_FLOW_CASES_H

#include "harness.h"
#include "pkt.h"

#define T(ms) (TS_BASE + (ms) * TS_STEP)

struct flow_case {
	const char *name;
	void (*send)(struct pipeline *p);
	void (*check)(struct pipeline *p);
};

/* Counters after a case: what was seen, flowed, not parsed, malformed. */
static void check_counts(struct pipeline *p, __u64 seen, __u64 flowed,
			 __u64 not_parsed, __u64 malformed)
{
	__u64 c[CNT_MAX];

	h_counters(p, c);
	CHECK_EQ("CNT_SEEN", c[CNT_SEEN], seen);
	CHECK_EQ("CNT_FLOWED", c[CNT_FLOWED], flowed);
	CHECK_EQ("CNT_NOT_PARSED", c[CNT_NOT_PARSED], not_parsed);
	CHECK_EQ("CNT_MALFORMED", c[CNT_MALFORMED], malformed);
	CHECK_EQ("CNT_INSERT_FAILED", c[CNT_INSERT_FAILED], 0);
	for (int s = 0; s < SLOT_MAX; s++)
		CHECK(c[CNT_MISSED_TAIL_CALL + s] == 0,
		      "missed tail call counted for slot %d with every slot filled", s);
	check_identity(c);
}

/* Read the table, expecting exactly n flows. */
static void read_flows(struct pipeline *p, struct flow_list *l, size_t n)
{
	int err = h_flows(p, l);

	CHECK(!err, "reading the flow table: %s", strerror(-err));
	CHECK_EQ("number of flows", l->n, n);
	if (l->n != n)
		for (size_t i = 0; i < l->n; i++)
			key_print("present", &l->v[i].key);
}

/* ---- IPv4 TCP: handshake options, flags, data and a retransmission ---- */

#define TCP4_CLIENT "192.0.2.1"
#define TCP4_SERVER "198.51.100.2"

/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7: 20 bytes */
static const uint8_t syn_options[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
};
/* MSS 1400 then end of list: no window scale */
static const uint8_t synack_options[4] = { 2, 4, 0x05, 0x78 };

static void tcp4_packet(struct pipeline *p, __u64 ts, uint8_t ttl, uint8_t tos,
			const struct tcp_spec *tcp, uint32_t payload)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = TCP4_CLIENT, .dst = TCP4_SERVER,
					  .ttl = ttl, .tos = tos });
	pkt_tcp(&pk, tcp);
	pkt_payload(&pk, payload);
	pkt_finish(&pk);
	pkt_pad(&pk, 60);
	h_send(p, &pk, ts);
}

static void tcp4_send(struct pipeline *p)
{
	struct pkt pk;

	tcp4_packet(p, T(0), 64, 0x10,
		    &(struct tcp_spec){ .sport = 40000, .dport = 443, .seq = 1000,
					.flags = TCP_SYN, .window = 64240,
					.options = syn_options,
					.options_len = sizeof(syn_options) }, 0);
	/* the answer, a flow of its own: SYN-ACK with ECE, MSS only */
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = TCP4_SERVER, .dst = TCP4_CLIENT,
					  .ttl = 128 });
	pkt_tcp(&pk, &(struct tcp_spec){ .sport = 443, .dport = 40000, .seq = 5000,
					 .ack = 1001, .window = 65160,
					 .flags = TCP_SYN | TCP_ACK | TCP_ECE,
					 .options = synack_options,
					 .options_len = sizeof(synack_options) });
	pkt_finish(&pk);
	pkt_pad(&pk, 60);
	h_send(p, &pk, T(1));

	tcp4_packet(p, T(2), 64, 0,
		    &(struct tcp_spec){ .sport = 40000, .dport = 443, .seq = 1001,
					.ack = 5001, .flags = TCP_ACK, .window = 502 }, 0);
	tcp4_packet(p, T(5), 64, 0,
		    &(struct tcp_spec){ .sport = 40000, .dport = 443, .seq = 1001,
					.ack = 5001, .flags = TCP_PSH | TCP_ACK,
					.window = 502 }, 100);
	/* the same 100 bytes again, on another path (TTL 50) */
	tcp4_packet(p, T(205), 50, 0,
		    &(struct tcp_spec){ .sport = 40000, .dport = 443, .seq = 1001,
					.ack = 5001, .flags = TCP_PSH | TCP_ACK,
					.window = 502 }, 100);
	tcp4_packet(p, T(300), 64, 0,
		    &(struct tcp_spec){ .sport = 40000, .dport = 443, .seq = 1101,
					.ack = 5001, .flags = TCP_FIN | TCP_ACK | TCP_NS,
					.window = 1000 }, 0);
}

static void tcp4_check(struct pipeline *p)
{
	struct flow_key kc = key4(PROTO_TCP, TCP4_CLIENT, TCP4_SERVER, 40000, 443);
	struct flow_key ks = key4(PROTO_TCP, TCP4_SERVER, TCP4_CLIENT, 443, 40000);
	struct flow_stats c = stats_none(), s = stats_none();
	struct flow_list l;

	/* IP lengths: SYN 20+20+20, ACK 40 (padded frame, padding not
	 * counted), data 20+20+100, FIN 40 */
	stats_add(&c, T(0), 60, 64);
	stats_add(&c, T(2), 40, 64);
	stats_add(&c, T(5), 140, 64);
	stats_add(&c, T(205), 140, 50);
	stats_add(&c, T(300), 40, 64);
	CHECK_EQ("client octets by hand", c.octets, 420);
	c.tos = 0x10; /* from the first packet */
	c.tcp_flags = TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN | TCP_NS;
	c.tcp_win_min = 502;
	c.tcp_win_max = 64240;
	c.tcp_mss = 1460;
	c.tcp_wscale = 7;
	c.seq.next_seq = 1101;
	c.retrans_packets = 1;
	c.retrans_octets = 140;

	stats_add(&s, T(1), 44, 128);
	s.tcp_flags = TCP_SYN | TCP_ACK | TCP_ECE;
	s.tcp_win_min = s.tcp_win_max = 65160;
	s.tcp_mss = 1400; /* no window scale option: stays 0xff */

	read_flows(p, &l, 2);
	check_flow(&l, &kc, &c);
	check_flow(&l, &ks, &s);
	flow_list_free(&l);
	check_counts(p, 6, 6, 0, 0);
}

/* ---- the longest option areas: 40 bytes of IPv4 and of TCP options ---- */

static void long_options_send(struct pipeline *p)
{
	uint8_t ip_opts[40], tcp_opts[40];
	struct pkt pk;

	memset(ip_opts, 1, sizeof(ip_opts)); /* 40 NOPs */
	memset(tcp_opts, 1, sizeof(tcp_opts));
	/* MSS after 33 NOPs, window scale in the last 3 bytes */
	memcpy(tcp_opts + 33, (uint8_t[]){ 2, 4, 0x02, 0x18 }, 4);
	memcpy(tcp_opts + 37, (uint8_t[]){ 3, 3, 14 }, 3);
	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.1.1.1", .dst = "10.1.1.2",
					  .options = ip_opts, .options_len = 40 });
	pkt_tcp(&pk, &(struct tcp_spec){ .sport = 7, .dport = 9, .seq = 1,
					 .flags = TCP_SYN, .window = 1024,
					 .options = tcp_opts, .options_len = 40 });
	pkt_finish(&pk);
	h_send(p, &pk, T(8));
}

static void long_options_check(struct pipeline *p)
{
	struct flow_key k = key4(PROTO_TCP, "10.1.1.1", "10.1.1.2", 7, 9);
	struct flow_stats want = stats_none();
	struct flow_list l;

	stats_add(&want, T(8), 60 + 60, 64);
	want.tcp_flags = TCP_SYN;
	want.tcp_win_min = want.tcp_win_max = 1024;
	want.tcp_mss = 536;
	want.tcp_wscale = 14;
	read_flows(p, &l, 1);
	check_flow(&l, &k, &want);
	flow_list_free(&l);
	check_counts(p, 1, 1, 0, 0);
}

/* ---- IPv4 UDP with IP options, sizes across the histogram bins ---- */

static const uint8_t router_alert[4] = { 148, 4, 0, 0 };

static void udp4_packet(struct pipeline *p, __u64 ts, uint8_t ttl, uint8_t tos,
			uint32_t payload)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.1.0.1", .dst = "10.1.0.2",
					  .ttl = ttl, .tos = tos,
					  .options = router_alert,
					  .options_len = sizeof(router_alert) });
	pkt_udp(&pk, 5353, 53);
	pkt_payload(&pk, payload);
	pkt_finish(&pk);
	pkt_pad(&pk, 60);
	h_send(p, &pk, ts);
}

static void udp4_send(struct pipeline *p)
{
	udp4_packet(p, T(10), 255, 0xb8, 2);    /* IP length 34, padded frame */
	udp4_packet(p, T(11), 1, 0, 200);       /* 232 */
	udp4_packet(p, T(13), 77, 0, 1472);     /* 1504 */
	udp4_packet(p, T(17), 78, 0, 1600);     /* 1632 */
}

static void udp4_check(struct pipeline *p)
{
	struct flow_key k = key4(PROTO_UDP, "10.1.0.1", "10.1.0.2", 5353, 53);
	struct flow_stats want = stats_none();
	struct flow_list l;

	stats_add(&want, T(10), 34, 255);
	stats_add(&want, T(11), 232, 1);
	stats_add(&want, T(13), 1504, 77);
	stats_add(&want, T(17), 1632, 78);
	want.tos = 0xb8;
	/* by hand: one packet in each of these bins */
	CHECK(want.size_hist[0] == 1 && want.size_hist[1] == 1 &&
	      want.size_hist[4] == 1 && want.size_hist[5] == 1,
	      "size bins by hand");
	CHECK(want.ttl_hist[9] == 1 && want.ttl_hist[0] == 1 &&
	      want.ttl_hist[2] == 1 && want.ttl_hist[3] == 1, "TTL bins by hand");
	read_flows(p, &l, 1);
	check_flow(&l, &k, &want);
	flow_list_free(&l);
	check_counts(p, 4, 4, 0, 0);
}

/* ---- ICMP: echo request/reply, two ping sessions, an error ---- */

static void icmp4_packet(struct pipeline *p, __u64 ts, const char *src,
			 const char *dst, uint8_t type, uint8_t code,
			 uint16_t id, uint16_t seq)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = src, .dst = dst });
	pkt_icmp(&pk, PROTO_ICMP, type, code, id, seq);
	pkt_payload(&pk, 56);
	pkt_finish(&pk);
	h_send(p, &pk, ts);
}

static void icmp4_send(struct pipeline *p)
{
	icmp4_packet(p, T(20), "10.3.0.1", "10.3.0.2", 8, 0, 0x1234, 1);
	icmp4_packet(p, T(21), "10.3.0.2", "10.3.0.1", 0, 0, 0x1234, 1);
	icmp4_packet(p, T(1020), "10.3.0.1", "10.3.0.2", 8, 0, 0x1234, 2);
	icmp4_packet(p, T(1500), "10.3.0.1", "10.3.0.2", 8, 0, 0x5678, 1);
	/* port unreachable: bytes 4-5 are not an echo id and must not key */
	icmp4_packet(p, T(1600), "10.3.0.2", "10.3.0.1", 3, 3, 0xdead, 0);
}

static void icmp4_check(struct pipeline *p)
{
	struct flow_key req1 = key4(PROTO_ICMP, "10.3.0.1", "10.3.0.2", 0, 0x0800);
	struct flow_key rep1 = key4(PROTO_ICMP, "10.3.0.2", "10.3.0.1", 0, 0x0000);
	struct flow_key req2 = req1;
	struct flow_key unreach = key4(PROTO_ICMP, "10.3.0.2", "10.3.0.1", 0, 0x0303);
	struct flow_stats s_req1 = stats_none(), s_rep1 = stats_none();
	struct flow_stats s_req2 = stats_none(), s_unreach = stats_none();
	struct flow_list l;

	req1.icmp_id = rep1.icmp_id = 0x1234;
	req2.icmp_id = 0x5678;
	stats_add(&s_req1, T(20), 84, 64);
	stats_add(&s_req1, T(1020), 84, 64);
	stats_add(&s_rep1, T(21), 84, 64);
	stats_add(&s_req2, T(1500), 84, 64);
	stats_add(&s_unreach, T(1600), 84, 64);
	read_flows(p, &l, 4);
	check_flow(&l, &req1, &s_req1);
	check_flow(&l, &rep1, &s_rep1);
	check_flow(&l, &req2, &s_req2);
	check_flow(&l, &unreach, &s_unreach);
	flow_list_free(&l);
	check_counts(p, 5, 5, 0, 0);
}

/* ---- IPv6 TCP and UDP behind hop-by-hop and destination options ---- */

/* MSS 1440, NOP, window scale 9 */
static const uint8_t syn6_options[8] = { 2, 4, 0x05, 0xa0, 1, 3, 3, 9 };

static void ext6_send(struct pipeline *p)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::1", .dst = "2001:db8::2",
					  .tclass = 0x28, .flow_label = 0x12345 });
	pkt_ipv6_ext(&pk, PROTO_HOPOPTS, 8);
	pkt_ipv6_ext(&pk, PROTO_DSTOPTS, 16);
	pkt_tcp(&pk, &(struct tcp_spec){ .sport = 40001, .dport = 80, .seq = 0xfffffff0,
					 .flags = TCP_SYN | TCP_CWR | TCP_ECE,
					 .window = 28800, .options = syn6_options,
					 .options_len = sizeof(syn6_options) });
	pkt_finish(&pk);
	h_send(p, &pk, T(30));

	/* data across the sequence wrap; another flow label, hop limit */
	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::1", .dst = "2001:db8::2",
					  .hop_limit = 60, .flow_label = 0x54321 });
	pkt_ipv6_ext(&pk, PROTO_HOPOPTS, 8);
	pkt_ipv6_ext(&pk, PROTO_DSTOPTS, 16);
	pkt_tcp(&pk, &(struct tcp_spec){ .sport = 40001, .dport = 80, .seq = 0xfffffff1,
					 .flags = TCP_ACK | TCP_URG, .window = 225 });
	pkt_payload(&pk, 30);
	pkt_finish(&pk);
	h_send(p, &pk, T(31));

	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::3", .dst = "2001:db8::4",
					  .hop_limit = 255, .flow_label = 0xfffff });
	pkt_ipv6_ext(&pk, PROTO_HOPOPTS, 8);
	pkt_ipv6_ext(&pk, PROTO_DSTOPTS, 8);
	pkt_udp(&pk, 1000, 2000);
	pkt_payload(&pk, 100);
	pkt_finish(&pk);
	h_send(p, &pk, T(32));
}

static void ext6_check(struct pipeline *p)
{
	struct flow_key kt = key6(PROTO_TCP, "2001:db8::1", "2001:db8::2", 40001, 80);
	struct flow_key ku = key6(PROTO_UDP, "2001:db8::3", "2001:db8::4", 1000, 2000);
	struct flow_stats t = stats_none(), u = stats_none();
	struct flow_list l;

	stats_add(&t, T(30), 40 + 8 + 16 + 28, 64);
	stats_add(&t, T(31), 40 + 8 + 16 + 20 + 30, 60);
	t.tos = 0x28;
	t.flow_label = 0x12345;
	t.tcp_flags = TCP_SYN | TCP_CWR | TCP_ECE | TCP_ACK | TCP_URG;
	t.tcp_win_min = 225;
	t.tcp_win_max = 28800;
	t.tcp_mss = 1440;
	t.tcp_wscale = 9;
	t.seq.next_seq = 0xfffffff1 + 30; /* wraps to 15 */
	stats_add(&u, T(32), 40 + 8 + 8 + 8 + 100, 255);
	u.flow_label = 0xfffff;
	read_flows(p, &l, 2);
	check_flow(&l, &kt, &t);
	check_flow(&l, &ku, &u);
	flow_list_free(&l);
	check_counts(p, 3, 3, 0, 0);
}

/* ---- IPv6 behind routing and AH; exactly MAX_IPV6_EXT_HDRS headers ---- */

static void ext6_more_send(struct pipeline *p)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::11", .dst = "2001:db8::12" });
	pkt_ipv6_ext(&pk, PROTO_ROUTING, 24);
	pkt_ipv6_ah(&pk, 24);
	pkt_udp(&pk, 4500, 4500);
	pkt_payload(&pk, 10);
	pkt_finish(&pk);
	h_send(p, &pk, T(40));

	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::13", .dst = "2001:db8::14" });
	pkt_ipv6_ext(&pk, PROTO_HOPOPTS, 8);
	for (int i = 1; i < MAX_IPV6_EXT_HDRS; i++)
		pkt_ipv6_ext(&pk, PROTO_DSTOPTS, 8);
	pkt_udp(&pk, 6000, 6001);
	pkt_finish(&pk);
	h_send(p, &pk, T(41));
}

static void ext6_more_check(struct pipeline *p)
{
	struct flow_key ka = key6(PROTO_UDP, "2001:db8::11", "2001:db8::12", 4500, 4500);
	struct flow_key km = key6(PROTO_UDP, "2001:db8::13", "2001:db8::14", 6000, 6001);
	struct flow_stats a = stats_none(), m = stats_none();
	struct flow_list l;

	stats_add(&a, T(40), 40 + 24 + 24 + 8 + 10, 64);
	stats_add(&m, T(41), 40 + 8 * MAX_IPV6_EXT_HDRS + 8, 64);
	read_flows(p, &l, 2);
	check_flow(&l, &ka, &a);
	check_flow(&l, &km, &m);
	flow_list_free(&l);
	check_counts(p, 2, 2, 0, 0);
}

/* ---- fragments: later ones join the flow of the first (its ports) ---- */

static void frag4_packet(struct pipeline *p, __u64 ts, uint16_t frag)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.4.0.1", .dst = "10.4.0.2",
					  .id = 77, .frag = frag });
	if (frag & 0x1fff) {
		pkt_l4_opaque(&pk, PROTO_UDP, 50); /* UDP payload, no header */
	} else {
		pkt_udp(&pk, 7000, 8000);
		pkt_payload(&pk, 96);
	}
	pkt_finish(&pk);
	h_send(p, &pk, ts);
}

static void frag6_packet(struct pipeline *p, __u64 ts, uint16_t offset, int more)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::5", .dst = "2001:db8::6" });
	if (offset)
		pkt_ipv6_ext(&pk, PROTO_HOPOPTS, 8);
	pkt_ipv6_frag(&pk, offset, more, 0xabcdef);
	if (offset) {
		pkt_l4_opaque(&pk, PROTO_UDP, 50);
	} else {
		pkt_udp(&pk, 9000, 9001);
		pkt_payload(&pk, 96);
	}
	pkt_finish(&pk);
	h_send(p, &pk, ts);
}

static void frag_send(struct pipeline *p)
{
	frag4_packet(p, T(50), IP4_MF | 0);  /* first */
	frag4_packet(p, T(51), IP4_MF | 13); /* middle */
	frag4_packet(p, T(52), 26);          /* last */
	frag6_packet(p, T(60), 0, 1);
	frag6_packet(p, T(61), 13, 1);
	frag6_packet(p, T(63), 26, 0);
}

static void frag_check(struct pipeline *p)
{
	struct flow_key k4 = key4(PROTO_UDP, "10.4.0.1", "10.4.0.2", 7000, 8000);
	struct flow_key k6 = key6(PROTO_UDP, "2001:db8::5", "2001:db8::6", 9000, 9001);
	struct flow_stats s4 = stats_none(), s6 = stats_none();
	struct flow_list l;

	stats_add(&s4, T(50), 20 + 8 + 96, 64);
	stats_add(&s4, T(51), 20 + 50, 64);
	stats_add(&s4, T(52), 20 + 50, 64);
	stats_add(&s6, T(60), 40 + 8 + 8 + 96, 64);
	stats_add(&s6, T(61), 40 + 8 + 8 + 50, 64);
	stats_add(&s6, T(63), 40 + 8 + 8 + 50, 64);
	read_flows(p, &l, 2);
	check_flow(&l, &k4, &s4);
	check_flow(&l, &k6, &s6);
	flow_list_free(&l);
	check_counts(p, 6, 6, 0, 0);
}

/* ---- ICMP fragments: the type/code of the first, or one never sent ---- */

/* An echo request of ICMP or ICMPv6 in fragments: the first (with the
 * ICMP header) or a later one (payload only) of IP packet ipid. */
static void icmp_frag_packet(struct pipeline *p, __u64 ts, int version,
			     const char *src, const char *dst, uint32_t ipid,
			     int first)
{
	uint8_t proto = version == 4 ? PROTO_ICMP : PROTO_ICMPV6;
	struct pkt pk;

	pkt_eth(&pk);
	if (version == 4)
		pkt_ipv4(&pk, &(struct ip4_spec){ .src = src, .dst = dst,
						  .id = (uint16_t)ipid,
						  .frag = first ? IP4_MF : 185 });
	else {
		pkt_ipv6(&pk, &(struct ip6_spec){ .src = src, .dst = dst });
		pkt_ipv6_frag(&pk, first ? 0 : 185, first, ipid);
	}
	if (first) {
		pkt_icmp(&pk, proto, version == 4 ? 8 : 128, 0, 0x77, 1);
		pkt_payload(&pk, 1472);
	} else {
		pkt_l4_opaque(&pk, proto, 600);
	}
	pkt_finish(&pk);
	h_send(p, &pk, ts);
}

static void icmp_frag_send(struct pipeline *p)
{
	/* ping -s 2000: a first and a later fragment, v4 and v6 */
	icmp_frag_packet(p, T(100), 4, "10.4.1.1", "10.4.1.2", 300, 1);
	icmp_frag_packet(p, T(101), 4, "10.4.1.1", "10.4.1.2", 300, 0);
	icmp_frag_packet(p, T(102), 6, "2001:db8:4::1", "2001:db8:4::2", 300, 1);
	icmp_frag_packet(p, T(103), 6, "2001:db8:4::1", "2001:db8:4::2", 300, 0);
	/* later fragments of packets whose first was not seen */
	icmp_frag_packet(p, T(104), 4, "10.4.1.1", "10.4.1.2", 301, 0);
	icmp_frag_packet(p, T(105), 6, "2001:db8:4::1", "2001:db8:4::2", 301, 0);
}

static void icmp_frag_check(struct pipeline *p)
{
	struct flow_key e4 = key4(PROTO_ICMP, "10.4.1.1", "10.4.1.2", 0, 0x0800);
	struct flow_key e6 = key6(PROTO_ICMPV6, "2001:db8:4::1", "2001:db8:4::2", 0, 0x8000);
	struct flow_key u4 = key4(PROTO_ICMP, "10.4.1.1", "10.4.1.2", 0,
				  ICMP_TYPE_CODE_UNKNOWN);
	struct flow_key u6 = key6(PROTO_ICMPV6, "2001:db8:4::1", "2001:db8:4::2", 0,
				  ICMP_TYPE_CODE_UNKNOWN);
	struct flow_stats se4 = stats_none(), se6 = stats_none();
	struct flow_stats su4 = stats_none(), su6 = stats_none();
	struct flow_list l;

	e4.icmp_id = e6.icmp_id = 0x77;
	stats_add(&se4, T(100), 20 + 8 + 1472, 64);
	stats_add(&se4, T(101), 20 + 600, 64);
	stats_add(&se6, T(102), 40 + 8 + 8 + 1472, 64);
	stats_add(&se6, T(103), 40 + 8 + 600, 64);
	stats_add(&su4, T(104), 20 + 600, 64);
	stats_add(&su6, T(105), 40 + 8 + 600, 64);
	read_flows(p, &l, 4); /* and none with type/code 0/0 (echo reply) */
	check_flow(&l, &e4, &se4);
	check_flow(&l, &e6, &se6);
	check_flow(&l, &u4, &su4);
	check_flow(&l, &u6, &su6);
	flow_list_free(&l);
	check_counts(p, 6, 6, 0, 0);
}

/* ---- ICMPv6: echo request/reply and neighbour solicitation ---- */

static void icmp6_packet(struct pipeline *p, __u64 ts, const char *src,
			 const char *dst, uint8_t hop, uint8_t type,
			 uint16_t id)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = src, .dst = dst, .hop_limit = hop });
	pkt_icmp(&pk, PROTO_ICMPV6, type, 0, id, 1);
	pkt_payload(&pk, 16);
	pkt_finish(&pk);
	h_send(p, &pk, ts);
}

static void icmp6_send(struct pipeline *p)
{
	icmp6_packet(p, T(70), "2001:db8::7", "2001:db8::8", 64, 128, 0x4242);
	icmp6_packet(p, T(71), "2001:db8::8", "2001:db8::7", 64, 129, 0x4242);
	/* the reserved field where echo has its id: not keyed */
	icmp6_packet(p, T(72), "fe80::7", "ff02::1:ff00:8", 255, 135, 0xbeef);
}

static void icmp6_check(struct pipeline *p)
{
	struct flow_key req = key6(PROTO_ICMPV6, "2001:db8::7", "2001:db8::8", 0, 0x8000);
	struct flow_key rep = key6(PROTO_ICMPV6, "2001:db8::8", "2001:db8::7", 0, 0x8100);
	struct flow_key ns = key6(PROTO_ICMPV6, "fe80::7", "ff02::1:ff00:8", 0, 0x8700);
	struct flow_stats sreq = stats_none(), srep = stats_none(), sns = stats_none();
	struct flow_list l;

	req.icmp_id = rep.icmp_id = 0x4242;
	stats_add(&sreq, T(70), 40 + 8 + 16, 64);
	stats_add(&srep, T(71), 40 + 8 + 16, 64);
	stats_add(&sns, T(72), 40 + 8 + 16, 255);
	read_flows(p, &l, 3);
	check_flow(&l, &req, &sreq);
	check_flow(&l, &rep, &srep);
	check_flow(&l, &ns, &sns);
	flow_list_free(&l);
	check_counts(p, 3, 3, 0, 0);
}

/* ---- VLAN: 802.1Q, and QinQ keeping the outer id ---- */

static void vlan_send(struct pipeline *p)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_vlan(&pk, ETHERTYPE_8021Q, 5 << 13 | 100); /* PCP 5 is not the id */
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.5.0.1", .dst = "10.5.0.2" });
	pkt_udp(&pk, 1111, 2222);
	pkt_payload(&pk, 20);
	pkt_finish(&pk);
	h_send(p, &pk, T(80));

	pkt_eth(&pk);
	pkt_vlan(&pk, ETHERTYPE_8021AD, 200);
	pkt_vlan(&pk, ETHERTYPE_8021Q, 1 << 12 | 300); /* DEI set */
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::9", .dst = "2001:db8::a" });
	pkt_tcp(&pk, &(struct tcp_spec){ .sport = 3333, .dport = 4444, .seq = 1,
					 .flags = TCP_RST, .window = 0 });
	pkt_finish(&pk);
	h_send(p, &pk, T(81));
}

static void vlan_check(struct pipeline *p)
{
	struct flow_key k1 = key4(PROTO_UDP, "10.5.0.1", "10.5.0.2", 1111, 2222);
	struct flow_key k2 = key6(PROTO_TCP, "2001:db8::9", "2001:db8::a", 3333, 4444);
	struct flow_stats s1 = stats_none(), s2 = stats_none();
	struct flow_list l;

	k1.vlan_id = 100;
	k2.vlan_id = 200;
	stats_add(&s1, T(80), 20 + 8 + 20, 64);
	stats_add(&s2, T(81), 40 + 20, 64);
	s2.tcp_flags = TCP_RST;
	s2.tcp_win_min = s2.tcp_win_max = 0;
	read_flows(p, &l, 2);
	check_flow(&l, &k1, &s1);
	check_flow(&l, &k2, &s2);
	flow_list_free(&l);
	check_counts(p, 2, 2, 0, 0);
}

/* ---- every outer tag type, alone and over 802.1Q: keyed by its id ---- */

static const uint16_t outer_tpids[] = { ETHERTYPE_8021Q, ETHERTYPE_8021AD,
					ETHERTYPE_QINQ1, ETHERTYPE_QINQ2 };
#define N_OUTER_TPIDS (sizeof(outer_tpids) / sizeof(outer_tpids[0]))

/* Frame i: tag type i / 2, inner 802.1Q tag when i is odd; outer id
 * 400 + i, source 10.5.1.i. */
static void outer_tag_frame(struct pkt *pk, unsigned int i)
{
	char src[16];

	snprintf(src, sizeof(src), "10.5.1.%u", i);
	pkt_eth(pk);
	pkt_vlan(pk, outer_tpids[i / 2], 400 + i);
	if (i & 1)
		pkt_vlan(pk, ETHERTYPE_8021Q, 500 + i);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = src, .dst = "10.5.1.254" });
	pkt_udp(pk, 1000 + i, 53);
	pkt_payload(pk, 10);
	pkt_finish(pk);
}

static void outer_tags_send(struct pipeline *p)
{
	struct pkt pk;

	for (unsigned int i = 0; i < 2 * N_OUTER_TPIDS; i++) {
		outer_tag_frame(&pk, i);
		h_send(p, &pk, T(85 + i));
	}
}

static void outer_tags_check(struct pipeline *p)
{
	struct flow_list l;

	read_flows(p, &l, 2 * N_OUTER_TPIDS);
	for (unsigned int i = 0; i < 2 * N_OUTER_TPIDS; i++) {
		struct flow_stats s = stats_none();
		struct flow_key k;
		char src[16];

		snprintf(src, sizeof(src), "10.5.1.%u", i);
		k = key4(PROTO_UDP, src, "10.5.1.254", 1000 + i, 53);
		k.vlan_id = 400 + i;
		stats_add(&s, T(85 + i), 20 + 8 + 10, 64);
		check_flow(&l, &k, &s);
	}
	flow_list_free(&l);
	check_counts(p, 2 * N_OUTER_TPIDS, 2 * N_OUTER_TPIDS, 0, 0);
}

/* ---- not IP, or IP carrying a protocol we have no parser for ---- */

static void other_send(struct pipeline *p)
{
	struct pkt pk;

	pkt_eth(&pk);
	pkt_arp_request(&pk);
	pkt_pad(&pk, 60);
	h_send(p, &pk, T(90));

	/* three tags: more than the parser walks */
	pkt_eth(&pk);
	pkt_vlan(&pk, ETHERTYPE_8021AD, 10);
	pkt_vlan(&pk, ETHERTYPE_8021Q, 20);
	pkt_vlan(&pk, ETHERTYPE_8021Q, 30);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.6.0.1", .dst = "10.6.0.2" });
	pkt_udp(&pk, 1, 2);
	pkt_finish(&pk);
	h_send(p, &pk, T(91));

	pkt_eth(&pk);
	pkt_ipv4(&pk, &(struct ip4_spec){ .src = "10.6.0.3", .dst = "10.6.0.4" });
	pkt_l4_opaque(&pk, PROTO_GRE, 4);
	pkt_payload(&pk, 40);
	pkt_finish(&pk);
	h_send(p, &pk, T(92));

	pkt_eth(&pk);
	pkt_ipv6(&pk, &(struct ip6_spec){ .src = "2001:db8::b", .dst = "2001:db8::c" });
	pkt_ipv6_ext(&pk, PROTO_DSTOPTS, 8);
	pkt_l4_opaque(&pk, PROTO_SCTP, 12);
	pkt_finish(&pk);
	h_send(p, &pk, T(93));
}

static void other_check(struct pipeline *p)
{
	struct flow_key gre = key4(PROTO_GRE, "10.6.0.3", "10.6.0.4", 0, 0);
	struct flow_key sctp = key6(PROTO_SCTP, "2001:db8::b", "2001:db8::c", 0, 0);
	struct flow_stats sg = stats_none(), ss = stats_none();
	struct flow_list l;

	stats_add(&sg, T(92), 20 + 4 + 40, 64);
	stats_add(&ss, T(93), 40 + 8 + 12, 64);
	read_flows(p, &l, 2); /* none from ARP or the triple-tagged frame */
	check_flow(&l, &gre, &sg);
	check_flow(&l, &sctp, &ss);
	flow_list_free(&l);
	check_counts(p, 4, 2, 2, 0);
}

static const struct flow_case flow_cases[] = {
	{ "IPv4 TCP: SYN options (MSS, WS), flags, data, retransmission, SYN-ACK",
	  tcp4_send, tcp4_check },
	{ "IPv4 TCP SYN with 40 bytes of IP and of TCP options, MSS and WS last",
	  long_options_send, long_options_check },
	{ "IPv4 UDP with IP options, size and TTL bins, padded frame", udp4_send,
	  udp4_check },
	{ "ICMP echo request/reply, two ping ids, port unreachable", icmp4_send,
	  icmp4_check },
	{ "IPv6 TCP and UDP behind hop-by-hop and destination options", ext6_send,
	  ext6_check },
	{ "IPv6 UDP behind routing + AH, and behind exactly MAX_IPV6_EXT_HDRS",
	  ext6_more_send, ext6_more_check },
	{ "IPv4 and IPv6 UDP fragments: later ones join the first one's flow",
	  frag_send, frag_check },
	{ "ICMP/ICMPv6 echo fragments: later ones join; alone, type/code 255/255",
	  icmp_frag_send, icmp_frag_check },
	{ "ICMPv6 echo request/reply and neighbour solicitation", icmp6_send,
	  icmp6_check },
	{ "802.1Q VLAN and QinQ (outer 802.1ad id kept)", vlan_send, vlan_check },
	{ "outer tag 0x8100, 0x88a8, 0x9100, 0x9200, alone and over 802.1Q: outer id kept",
	  outer_tags_send, outer_tags_check },
	{ "ARP and triple tags not parsed; GRE and SCTP flows without ports",
	  other_send, other_check },
};

#define N_FLOW_CASES (sizeof(flow_cases) / sizeof(flow_cases[0]))

#endif
