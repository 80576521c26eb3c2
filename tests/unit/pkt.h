/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt.h - a small frame builder for the BPF tests: packed header structs,
 * pushed layer by layer. Each push writes its header and fills in the
 * "next header" field of the layer before it (ethertype, VLAN encapsulated
 * protocol, IP protocol, IPv6 next header), so a test reads like the frame:
 *
 *	pkt_eth(&p); pkt_vlan(&p, ETH_P_8021Q, 100);
 *	pkt_ipv4(&p, &(struct ip4_spec){ .src = "10.0.0.1", .dst = "10.0.0.2" });
 *	pkt_udp(&p, 1024, 53); pkt_payload(&p, 22); pkt_finish(&p);
 *
 * pkt_finish() sets the IP and UDP lengths from what was pushed; trailing
 * Ethernet padding (pkt_pad) and deliberate damage come after it.
 * Checksums stay 0: the meter does not verify them.
 */
#ifndef TESTS_PKT_H
#define TESTS_PKT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PKT_MAX 9216 /* a 9000-byte jumbo frame and its headers */

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ1 0x9100 /* pre-standard QinQ outer tags */
#define ETHERTYPE_QINQ2 0x9200

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_GRE 47
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80
#define TCP_NS 0x100 /* low bit of the data-offset byte */

struct eth_hdr {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t type;
} __attribute__((packed));

struct vlan_tag {
	uint16_t tci;
	uint16_t type;
} __attribute__((packed));

struct arp_hdr {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t op;
	uint8_t sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

struct ip4_hdr {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t protocol;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
} __attribute__((packed));

struct ip6_hdr {
	uint32_t ver_tc_label;
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	uint8_t saddr[16];
	uint8_t daddr[16];
} __attribute__((packed));

/* Hop-by-hop, destination options and routing share this start. */
struct ip6_ext_hdr {
	uint8_t nexthdr;
	uint8_t hdrlen; /* in 8-byte units, not counting the first 8 */
} __attribute__((packed));

struct ip6_frag_hdr {
	uint8_t nexthdr;
	uint8_t reserved;
	uint16_t frag_off; /* offset in 8-byte units << 3 | M */
	uint32_t id;
} __attribute__((packed));

struct ip6_ah_hdr {
	uint8_t nexthdr;
	uint8_t len; /* in 4-byte units, minus 2 */
	uint16_t reserved;
	uint32_t spi;
	uint32_t seq;
} __attribute__((packed));

struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff_ns; /* data offset << 4 | NS */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg;
} __attribute__((packed));

struct udp_hdr {
	uint16_t sport, dport;
	uint16_t len;
	uint16_t check;
} __attribute__((packed));

/* ICMP and ICMPv6 alike; id/seq are the echo fields. */
struct icmp_hdr {
	uint8_t type, code;
	uint16_t check;
	uint16_t id, seq;
} __attribute__((packed));

_Static_assert(sizeof(struct eth_hdr) == 14, "eth");
_Static_assert(sizeof(struct ip4_hdr) == 20, "ipv4");
_Static_assert(sizeof(struct ip6_hdr) == 40, "ipv6");
_Static_assert(sizeof(struct tcp_hdr) == 20, "tcp");

struct pkt {
	uint8_t buf[PKT_MAX];
	uint32_t len;
	int next_off;  /* where the next header's type goes, -1 if nowhere */
	int next_size; /* 2: ethertype, 1: IP protocol number */
	int l3_off;    /* IP header, -1 if none */
	int l4_off;    /* first byte after the last IPv6 extension / IPv4 header */
	int udp_off;   /* UDP header, -1 if none */
	int ip_version;
};

struct ip4_spec {
	const char *src, *dst;
	uint8_t ttl; /* 0 means 64 */
	uint8_t tos;
	uint16_t id;
	uint16_t frag; /* flags and offset as on the wire, host order */
	const uint8_t *options;
	uint8_t options_len; /* multiple of 4 */
};

struct ip6_spec {
	const char *src, *dst;
	uint8_t hop_limit; /* 0 means 64 */
	uint8_t tclass;
	uint32_t flow_label;
};

struct tcp_spec {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags; /* TCP_* incl. TCP_NS */
	uint16_t window;
	const uint8_t *options;
	uint8_t options_len; /* multiple of 4 */
};

#define IP4_MF 0x2000

static inline void *pkt_push(struct pkt *p, uint32_t n)
{
	void *at = p->buf + p->len;

	if (p->len + n > PKT_MAX) {
		fprintf(stderr, "pkt: frame larger than %d bytes\n", PKT_MAX);
		abort();
	}
	memset(at, 0, n);
	p->len += n;
	return at;
}

/* Write the type of the header about to be pushed into the one before. */
static inline void pkt_link(struct pkt *p, uint16_t type, int off, int size)
{
	if (p->next_off >= 0) {
		if (p->next_size == 2) {
			uint16_t be = htons(type);

			memcpy(p->buf + p->next_off, &be, 2);
		} else {
			p->buf[p->next_off] = (uint8_t)type;
		}
	}
	p->next_off = off;
	p->next_size = size;
}

static inline void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->next_off = -1;
	p->l3_off = p->l4_off = p->udp_off = -1;
}

static inline void pkt_eth(struct pkt *p)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct eth_hdr *eth;

	pkt_init(p);
	eth = pkt_push(p, sizeof(*eth));
	memcpy(eth->dst, dst, 6);
	memcpy(eth->src, src, 6);
	p->next_off = offsetof(struct eth_hdr, type);
	p->next_size = 2;
}

/* tpid is the ethertype that announces this tag (802.1Q or 802.1ad). */
static inline void pkt_vlan(struct pkt *p, uint16_t tpid, uint16_t tci)
{
	uint32_t at = p->len;
	struct vlan_tag *tag = pkt_push(p, sizeof(*tag));

	pkt_link(p, tpid, at + offsetof(struct vlan_tag, type), 2);
	tag->tci = htons(tci);
}

static inline void pkt_arp_request(struct pkt *p)
{
	struct arp_hdr *arp = pkt_push(p, sizeof(*arp));

	pkt_link(p, ETHERTYPE_ARP, -1, 0);
	arp->htype = htons(1);
	arp->ptype = htons(ETHERTYPE_IPV4);
	arp->hlen = 6;
	arp->plen = 4;
	arp->op = htons(1);
	memcpy(arp->spa, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(arp->tpa, (uint8_t[]){ 10, 0, 0, 2 }, 4);
}

static inline void pkt_addr(int family, const char *text, void *out)
{
	if (inet_pton(family, text, out) != 1) {
		fprintf(stderr, "pkt: bad address '%s'\n", text);
		abort();
	}
}

static inline struct ip4_hdr *pkt_ipv4(struct pkt *p, const struct ip4_spec *s)
{
	uint32_t at = p->len;
	struct ip4_hdr *ip = pkt_push(p, sizeof(*ip) + s->options_len);

	pkt_link(p, ETHERTYPE_IPV4, at + offsetof(struct ip4_hdr, protocol), 1);
	ip->ver_ihl = 0x40 | (uint8_t)((sizeof(*ip) + s->options_len) / 4);
	ip->tos = s->tos;
	ip->id = htons(s->id);
	ip->frag_off = htons(s->frag);
	ip->ttl = s->ttl ? s->ttl : 64;
	pkt_addr(AF_INET, s->src, &ip->saddr);
	pkt_addr(AF_INET, s->dst, &ip->daddr);
	if (s->options_len)
		memcpy(ip + 1, s->options, s->options_len);
	p->l3_off = at;
	p->l4_off = p->len;
	p->ip_version = 4;
	return ip;
}

static inline struct ip6_hdr *pkt_ipv6(struct pkt *p, const struct ip6_spec *s)
{
	uint32_t at = p->len;
	struct ip6_hdr *ip = pkt_push(p, sizeof(*ip));

	pkt_link(p, ETHERTYPE_IPV6, at + offsetof(struct ip6_hdr, nexthdr), 1);
	ip->ver_tc_label = htonl(6U << 28 | (uint32_t)s->tclass << 20 |
				 (s->flow_label & 0xfffff));
	ip->hop_limit = s->hop_limit ? s->hop_limit : 64;
	pkt_addr(AF_INET6, s->src, ip->saddr);
	pkt_addr(AF_INET6, s->dst, ip->daddr);
	p->l3_off = at;
	p->l4_off = p->len;
	p->ip_version = 6;
	return ip;
}

/* Hop-by-hop, destination options or routing header of len bytes (a
 * multiple of 8), the space after the first two bytes one PadN option. */
static inline void pkt_ipv6_ext(struct pkt *p, uint8_t type, uint32_t len)
{
	uint32_t at = p->len;
	uint8_t *ext = pkt_push(p, len);

	pkt_link(p, type, at, 1);
	ext[1] = (uint8_t)(len / 8 - 1);
	if (type != PROTO_ROUTING) {
		ext[2] = 1; /* PadN */
		ext[3] = (uint8_t)(len - 4);
	}
	p->l4_off = p->len;
}

/* offset in 8-byte units */
static inline void pkt_ipv6_frag(struct pkt *p, uint16_t offset, int more,
				 uint32_t id)
{
	uint32_t at = p->len;
	struct ip6_frag_hdr *fh = pkt_push(p, sizeof(*fh));

	pkt_link(p, PROTO_FRAGMENT, at, 1);
	fh->frag_off = htons((uint16_t)(offset << 3 | (more ? 1 : 0)));
	fh->id = htonl(id);
	p->l4_off = p->len;
}

/* Authentication header of len bytes (a multiple of 4, at least 12). */
static inline void pkt_ipv6_ah(struct pkt *p, uint32_t len)
{
	uint32_t at = p->len;
	struct ip6_ah_hdr *ah = pkt_push(p, len);

	pkt_link(p, PROTO_AH, at, 1);
	ah->len = (uint8_t)(len / 4 - 2);
	ah->spi = htonl(0x1000);
	ah->seq = htonl(1);
	p->l4_off = p->len;
}

static inline struct tcp_hdr *pkt_tcp(struct pkt *p, const struct tcp_spec *s)
{
	uint32_t at = p->len;
	struct tcp_hdr *th = pkt_push(p, sizeof(*th) + s->options_len);

	pkt_link(p, PROTO_TCP, -1, 0);
	th->sport = htons(s->sport);
	th->dport = htons(s->dport);
	th->seq = htonl(s->seq);
	th->ack = htonl(s->ack);
	th->doff_ns = (uint8_t)(((sizeof(*th) + s->options_len) / 4) << 4 |
				(s->flags & TCP_NS ? 1 : 0));
	th->flags = (uint8_t)s->flags;
	th->window = htons(s->window);
	if (s->options_len)
		memcpy(th + 1, s->options, s->options_len);
	p->l4_off = at;
	return th;
}

static inline struct udp_hdr *pkt_udp(struct pkt *p, uint16_t sport,
				      uint16_t dport)
{
	uint32_t at = p->len;
	struct udp_hdr *uh = pkt_push(p, sizeof(*uh));

	pkt_link(p, PROTO_UDP, -1, 0);
	uh->sport = htons(sport);
	uh->dport = htons(dport);
	p->l4_off = p->udp_off = at;
	return uh;
}

/* ICMP (proto PROTO_ICMP) or ICMPv6 (PROTO_ICMPV6) with echo id/seq. */
static inline void pkt_icmp(struct pkt *p, uint8_t proto, uint8_t type,
			    uint8_t code, uint16_t id, uint16_t seq)
{
	uint32_t at = p->len;
	struct icmp_hdr *ih = pkt_push(p, sizeof(*ih));

	pkt_link(p, proto, -1, 0);
	ih->type = type;
	ih->code = code;
	ih->id = htons(id);
	ih->seq = htons(seq);
	p->l4_off = at;
}

/* A protocol we have no parser for (GRE, SCTP): hdr_len opaque bytes. */
static inline void pkt_l4_opaque(struct pkt *p, uint8_t proto, uint32_t hdr_len)
{
	uint32_t at = p->len;
	uint8_t *h = pkt_push(p, hdr_len);

	pkt_link(p, proto, -1, 0);
	for (uint32_t i = 0; i < hdr_len; i++)
		h[i] = (uint8_t)(0xa0 + i);
	p->l4_off = at;
}

static inline void pkt_payload(struct pkt *p, uint32_t n)
{
	uint8_t *d = pkt_push(p, n);

	for (uint32_t i = 0; i < n; i++)
		d[i] = (uint8_t)i;
}

/* IP total / payload length and UDP length from what was pushed. */
static inline void pkt_finish(struct pkt *p)
{
	if (p->ip_version == 4) {
		struct ip4_hdr *ip = (void *)(p->buf + p->l3_off);

		ip->tot_len = htons((uint16_t)(p->len - p->l3_off));
	} else if (p->ip_version == 6) {
		struct ip6_hdr *ip = (void *)(p->buf + p->l3_off);

		ip->payload_len = htons((uint16_t)(p->len - p->l3_off - sizeof(*ip)));
	}
	if (p->udp_off >= 0) {
		struct udp_hdr *uh = (void *)(p->buf + p->udp_off);

		uh->len = htons((uint16_t)(p->len - p->udp_off));
	}
}

/* Trailing Ethernet padding up to the 60-byte minimum: not part of IP. */
static inline void pkt_pad(struct pkt *p, uint32_t frame_len)
{
	if (p->len < frame_len)
		pkt_push(p, frame_len - p->len);
}

/* The IP length the meter must count: IPv4 total length / 40 + payload. */
static inline uint32_t pkt_ip_len(const struct pkt *p)
{
	const uint8_t *ip = p->buf + p->l3_off;

	if (p->ip_version == 4)
		return (uint32_t)ip[2] << 8 | ip[3];
	return 40 + ((uint32_t)ip[4] << 8 | ip[5]);
}

#endif
