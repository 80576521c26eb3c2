/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - BPF-only header parsers. Each takes the packet bounds and an
 * offset from the cursor, checks every byte it reads against data_end, and
 * fills the parse state. They return enum parse_result; the caller decides
 * where the chain goes next and what is counted.
 *
 * A replayed frame may be cut (the capture's snaplen, or replay's own cut
 * at BPF_PROG_TEST_RUN's linear limit): cur->wire_len then holds its length
 * on the wire. Only the L3 parsers look at it, to check the IP length
 * against the frame as it was (frame_len). Everything after relies on
 * that: on a whole frame the IP packet ends within data_end, so a read
 * past data_end that the header lengths place inside the packet can only
 * mean the capture stopped there. What makes the flow key must be in the
 * capture (else malformed); options are checked as far as they were
 * captured; a TCP header cut after the ports keys the flow without its
 * flags, sequence and window (st->tcp_cut).
 */
#ifndef FLOWEXPORT_PARSE_H
#define FLOWEXPORT_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flow.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
/* Outer tags of QinQ before 802.1ad was standard (Cisco, Juniper, and
 * Linux's vlan_protocol option): still configured on provider edges. */
#define ETH_P_QINQ1 0x9100
#define ETH_P_QINQ2 0x9200
/* linux/icmp.h drags in libc socket headers; the four types we need: */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPV6_MF 0x0001
#define IPV6_OFFSET_MASK 0xfff8

/* Offsets are re-read from the cursor in every program: bound them so the
 * verifier can prove packet accesses safe. */
/* Outer headers, a tunnel header with options (Geneve's alone may take
 * 260 bytes) and the inner frame's own Ethernet header and tags. */
#define MAX_L3_OFF 511
#define MAX_L4_OFF 0x3fff

enum parse_result {
	PARSE_OK = 0,
	PARSE_MALFORMED,
	PARSE_UNSUPPORTED,
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* IPv6 fragment header (linux/ipv6.h has it only in kernel headers). */
struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* The frame's length on the wire: data_end unless replay says it was cut. */
static __always_inline __u32 frame_len(void *data, void *data_end,
				       struct pkt_meta *cur)
{
	return cur->wire_len ?: (__u32)(data_end - data);
}

static __always_inline int is_vlan_tpid(__u16 proto)
{
	return proto == ETH_P_8021Q || proto == ETH_P_8021AD ||
	       proto == ETH_P_QINQ1 || proto == ETH_P_QINQ2;
}

#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
/* Label stack entries walked to the bottom of the stack; a deeper stack is
 * not parsed (counted so), like a third VLAN tag. */
#define MPLS_MAX_LABELS 8
#define MPLS_BOTTOM 0x100

/*
 * MPLS label stack at off (after the Ethernet header and its tags): the
 * top FLOW_MPLS_LABELS entries go to labels[] (24 bits: label, EXP, S; with
 * FLOW_MPLS_PRESENT), their number to *nlabels. MPLS does not say what it
 * carries: after the bottom of the stack, the first nibble tells IPv4 from
 * IPv6 (as the kernel's and most routers' MPLS code do); anything else
 * (a pseudowire) is not parsed. *proto is set to what follows.
 */
static __always_inline int parse_mpls(void *data, void *data_end, __u32 *off,
				      __u16 *proto, __u32 *labels,
				      __u32 *nlabels)
{
#pragma unroll
	for (int i = 0; i < MPLS_MAX_LABELS; i++) {
		__u8 *l = data + (*off & MAX_L4_OFF);
		__u32 lse;

		if ((void *)(l + 4) > data_end)
			return PARSE_MALFORMED;
		lse = (__u32)l[0] << 24 | (__u32)l[1] << 16 | (__u32)l[2] << 8 | l[3];
		if (i < FLOW_MPLS_LABELS) {
			labels[i] = lse >> 8 | FLOW_MPLS_PRESENT;
			*nlabels = i + 1;
		}
		*off += 4;
		if (lse & MPLS_BOTTOM) {
			__u8 *ip = data + (*off & MAX_L4_OFF);

			if ((void *)(ip + 1) > data_end)
				return PARSE_MALFORMED;
			*proto = ip[0] >> 4 == 4 ? ETH_P_IP :
				  ip[0] >> 4 == 6 ? ETH_P_IPV6 : ETH_P_MPLS_UC;
			return PARSE_OK;
		}
	}
	return PARSE_UNSUPPORTED; /* deeper than we walk */
}

/*
 * Ethernet at start (0; --decap: the inner frame of a tunnel) with up to
 * two 802.1Q / 802.1ad (or pre-standard 0x9100 / 0x9200) tags, then an
 * MPLS label stack if there is one. The outer frame's outer VLAN id is
 * kept: an inner frame's tags are the tenant's, its VNI keys it instead.
 * MPLS labels: see parse_mpls (*nlabels 0 without).
 */
static __always_inline int parse_eth(void *data, void *data_end,
				     struct pkt_meta *cur, __u32 start,
				     __u32 *labels, __u32 *nlabels)
{
	struct ethhdr *eth;
	__u16 proto, vlan = 0;
	__u32 off;
	int res;

	if (start > MAX_L3_OFF)
		return PARSE_MALFORMED;
	eth = data + start;
	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	proto = bpf_ntohs(eth->h_proto);
	off = start + ETH_HLEN;

#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh = data + off;

		if (!is_vlan_tpid(proto))
			break;
		if ((void *)(vh + 1) > data_end)
			return PARSE_MALFORMED;
		if (i == 0)
			vlan = bpf_ntohs(vh->tci) & 0x0fff;
		proto = bpf_ntohs(vh->encap_proto);
		off += sizeof(*vh);
	}
	if (!cur->tunnel)
		cur->vlan_id = vlan;
	if (is_vlan_tpid(proto)) {
		cur->l3_off = off;
		cur->l3_proto = proto;
		return PARSE_UNSUPPORTED; /* more tags than we walk */
	}
	if (proto == ETH_P_MPLS_UC || proto == ETH_P_MPLS_MC) {
		labels[0] = labels[1] = labels[2] = 0;
		res = parse_mpls(data, data_end, &off, &proto, labels, nlabels);
		if (res != PARSE_OK)
			return res;
	}
	cur->l3_off = off;
	cur->l3_proto = proto;
	return PARSE_OK;
}

/*
 * The frame's Ethernet addresses, read where they are kept: only when a
 * flow entry or an overflow event is made, so the per-packet path (and the
 * meta strategy's L2 program, which touches no state) pays nothing for
 * them. The Ethernet header is at the start of every frame we meter.
 */
static __always_inline void eth_macs(void *data, void *data_end, __u8 *src,
				     __u8 *dst)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end) {
		__builtin_memset(src, 0, ETH_ALEN);
		__builtin_memset(dst, 0, ETH_ALEN);
		return;
	}
	__builtin_memcpy(src, eth->h_source, ETH_ALEN);
	__builtin_memcpy(dst, eth->h_dest, ETH_ALEN);
}

static __always_inline void key_set_ipv4_mapped(__u8 *addr, __be32 v4)
{
	__u32 *w = (__u32 *)addr;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = v4;
}

/* The L3 parsers start the key afresh: every byte of it is written. */
static __always_inline void key_init(struct flow_key *key, __u32 ifindex,
				     __u8 direction, struct pkt_meta *cur,
				     __u8 version)
{
	key->ifindex = ifindex;
	key->direction = direction;
	key->vlan_id = cur->vlan_id;
	key->ip_version = version;
	key->src_port = 0;
	key->dst_port = 0;
	key->icmp_id = 0;
	key->tunnel = cur->tunnel;
	key->segment_id = cur->segment_id;
}

/*
 * IPv4 and TCP options share a form: kind 0 ends the list, kind 1 is one
 * byte of padding, any other kind is followed by a length of at least 2
 * (kind and length included). They end within the header (len bytes from
 * off), so reaching data_end before that means the capture cut them: they
 * are checked as far as they go. tcp (a constant at each call) also takes
 * a SYN's MSS and window scale into st.
 *
 * The position is kept below 64 at the loop head (it always is: len is at
 * most 40), so that every path arrives there in one range and the verifier
 * keeps one state per round; with a precise position it walked a quarter
 * of a million instructions in each program that parses IPv4.
 */
#ifndef TCPOPT_MSS
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOLEN_MSS 4
#define TCPOLEN_WINDOW 3
#endif
#define OPTIONS_MAX 40 /* bytes of options at most; a round takes one or more */
#define OPT_END 0      /* the same kinds in IPv4 and TCP */
#define OPT_NOP 1

static __always_inline int walk_options(void *data, void *data_end, __u32 off,
					__u32 len, struct parse_state *st,
					const int tcp)
{
	__u32 at = 0;

	for (int i = 0; i < OPTIONS_MAX; i++) {
		__u8 *opt;

		at &= 63;
		opt = data + ((off + at) & MAX_L4_OFF);
		if (at >= len || (void *)(opt + 1) > data_end)
			return PARSE_OK;
		if (opt[0] == OPT_END)
			return PARSE_OK;
		if (opt[0] == OPT_NOP) {
			at++;
			continue;
		}
		/* an option running past the header is as malformed as a
		 * short one */
		if (at + 2 > len)
			return PARSE_MALFORMED;
		if ((void *)(opt + 2) > data_end)
			return PARSE_OK;
		if (opt[1] < 2 || at + opt[1] > len)
			return PARSE_MALFORMED;
		if (tcp && opt[0] == TCPOPT_MSS && opt[1] == TCPOLEN_MSS &&
		    (void *)(opt + 4) <= data_end)
			st->tcp_mss = ((__u16)opt[2] << 8) | opt[3];
		else if (tcp && opt[0] == TCPOPT_WINDOW &&
			 opt[1] == TCPOLEN_WINDOW && (void *)(opt + 3) <= data_end)
			st->tcp_wscale = opt[2];
		at += opt[1];
	}
	return PARSE_OK; /* 40 rounds cover 40 bytes: at == len by now */
}

static __always_inline int parse_ipv4(__u32 ifindex, __u8 direction,
				      void *data, void *data_end,
				      struct pkt_meta *cur,
				      struct parse_state *st)
{
	__u32 off = cur->l3_off;
	struct iphdr *iph;
	__u32 ihl, tot_len;
	__u16 frag;

	if (off > MAX_L3_OFF)
		return PARSE_MALFORMED;
	iph = data + off;
	if ((void *)(iph + 1) > data_end)
		return PARSE_MALFORMED;
	ihl = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || ihl < sizeof(*iph) || tot_len < ihl ||
	    off + tot_len > frame_len(data, data_end, cur))
		return PARSE_MALFORMED;
	if (ihl > sizeof(*iph) &&
	    walk_options(data, data_end, off + sizeof(*iph),
			 ihl - sizeof(*iph), st, 0))
		return PARSE_MALFORMED;

	frag = bpf_ntohs(iph->frag_off);
	cur->frag = FRAG_NONE;
	if (frag & (IPV4_OFFSET_MASK | IPV4_MF)) {
		cur->frag = frag & IPV4_OFFSET_MASK ? FRAG_LATER : FRAG_FIRST;
		st->frag_id = bpf_ntohs(iph->id);
	}

	key_init(&st->key, ifindex, direction, cur, 4);
	st->key.protocol = iph->protocol;
	key_set_ipv4_mapped(st->key.src_addr, iph->saddr);
	key_set_ipv4_mapped(st->key.dst_addr, iph->daddr);
	st->ip_length = tot_len;
	st->ttl = iph->ttl;
	st->tos = iph->tos;
	st->flow_label = 0;
	cur->l4_off = off + ihl;
	cur->l4_proto = iph->protocol;
	return PARSE_OK;
}

static __always_inline int is_ipv6_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT ||
	       nexthdr == IPPROTO_AH;
}

/*
 * IPv6 and its extension headers, at most MAX_IPV6_EXT_HDRS of them; a longer
 * chain is malformed for us (RFC 7045 lets middleboxes give up the same way).
 */
static __always_inline int parse_ipv6(__u32 ifindex, __u8 direction,
				      void *data, void *data_end,
				      struct pkt_meta *cur,
				      struct parse_state *st)
{
	__u32 off = cur->l3_off, l4_off, ip_len;
	struct ipv6hdr *ip6h;
	__u8 nexthdr;

	if (off > MAX_L3_OFF)
		return PARSE_MALFORMED;
	ip6h = data + off;
	if ((void *)(ip6h + 1) > data_end || ip6h->version != 6)
		return PARSE_MALFORMED;
	ip_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	if (off + ip_len > frame_len(data, data_end, cur))
		return PARSE_MALFORMED;

	nexthdr = ip6h->nexthdr;
	l4_off = off + sizeof(*ip6h);
	cur->frag = FRAG_NONE;
#pragma unroll
	for (int i = 0; i < MAX_IPV6_EXT_HDRS; i++) {
		__u8 *ext = data + (l4_off & MAX_L4_OFF);

		if (!is_ipv6_ext(nexthdr))
			break;
		if ((void *)(ext + 8) > data_end) /* every ext header >= 8 bytes */
			return PARSE_MALFORMED;
		if (nexthdr == IPPROTO_FRAGMENT) {
			struct ipv6_frag_hdr *fh = (void *)ext;
			__u16 frag = bpf_ntohs(fh->frag_off);

			if (frag & IPV6_OFFSET_MASK)
				cur->frag = FRAG_LATER;
			else if (frag & IPV6_MF)
				cur->frag = FRAG_FIRST;
			st->frag_id = bpf_ntohl(fh->identification);
			nexthdr = fh->nexthdr;
			l4_off += sizeof(*fh);
		} else if (nexthdr == IPPROTO_AH) {
			nexthdr = ext[0];
			l4_off += (ext[1] + 2) * 4;
		} else {
			nexthdr = ext[0];
			l4_off += (ext[1] + 1) * 8;
		}
		if (l4_off > off + ip_len)
			return PARSE_MALFORMED;
		if (cur->frag == FRAG_LATER)
			break; /* the rest is payload of the first fragment */
	}
	if (is_ipv6_ext(nexthdr) && cur->frag != FRAG_LATER)
		return PARSE_MALFORMED; /* chain longer than we walk */

	key_init(&st->key, ifindex, direction, cur, 6);
	st->key.protocol = nexthdr;
	__builtin_memcpy(st->key.src_addr, &ip6h->saddr, 16);
	__builtin_memcpy(st->key.dst_addr, &ip6h->daddr, 16);
	st->ip_length = ip_len;
	st->ttl = ip6h->hop_limit;
	st->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
	st->flow_label = ((__u32)(ip6h->flow_lbl[0] & 0x0f) << 16) |
			 ((__u32)ip6h->flow_lbl[1] << 8) | ip6h->flow_lbl[2];
	cur->l4_off = l4_off;
	cur->l4_proto = nexthdr;
	return PARSE_OK;
}

/* Where this IP packet ends, for L4 length checks. */
static __always_inline __u32 ip_end(struct pkt_meta *cur,
				    struct parse_state *st)
{
	return (__u32)cur->l3_off + st->ip_length;
}

static __always_inline int parse_tcp(void *data, void *data_end,
				     struct pkt_meta *cur,
				     struct parse_state *st)
{
	__u32 off = cur->l4_off, doff, end = ip_end(cur, st);
	struct tcphdr *th;

	if (off > MAX_L4_OFF)
		return PARSE_MALFORMED;
	th = data + off;
	if (off + sizeof(*th) > end || (void *)th + 4 > data_end)
		return PARSE_MALFORMED;
	st->key.src_port = bpf_ntohs(th->source);
	st->key.dst_port = bpf_ntohs(th->dest);
	st->tcp_cut = (void *)(th + 1) > data_end;
	if (st->tcp_cut) { /* the capture kept the ports and no more */
		st->tcp_flags = 0;
		return PARSE_OK;
	}
	doff = th->doff * 4;
	if (doff < sizeof(*th) || off + doff > end)
		return PARSE_MALFORMED;

	/* byte 13 holds CWR..FIN; the NS bit is the low bit of byte 12 */
	st->tcp_flags = ((__u8 *)th)[13] | ((((__u8 *)th)[12] & 1) << 8);
	st->tcp_seq = bpf_ntohl(th->seq);
	st->tcp_window = bpf_ntohs(th->window);
	st->l4_payload = end - off - doff;
	st->tcp_mss = 0;
	st->tcp_wscale = 0xff;
	if (doff > sizeof(*th))
		return walk_options(data, data_end, off + sizeof(*th),
				    doff - sizeof(*th), st, 1);
	return PARSE_OK;
}

static __always_inline int parse_udp(void *data, void *data_end,
				     struct pkt_meta *cur,
				     struct parse_state *st)
{
	__u32 off = cur->l4_off;
	struct udphdr *uh;

	if (off > MAX_L4_OFF)
		return PARSE_MALFORMED;
	uh = data + off;
	/* the ports are all we read */
	if (off + sizeof(*uh) > ip_end(cur, st) || (void *)uh + 4 > data_end)
		return PARSE_MALFORMED;
	st->key.src_port = bpf_ntohs(uh->source);
	st->key.dst_port = bpf_ntohs(uh->dest);
	return PARSE_OK;
}

/*
 * ICMP and ICMPv6 share a layout: type, code, checksum, then for echo an
 * identifier. echo_req/echo_reply are the family's echo types.
 */
static __always_inline int parse_icmp_common(void *data, void *data_end,
					     struct pkt_meta *cur,
					     struct parse_state *st,
					     __u8 echo_req, __u8 echo_reply)
{
	__u32 off = cur->l4_off;
	__u8 *icmp;

	if (off > MAX_L4_OFF)
		return PARSE_MALFORMED;
	icmp = data + off;
	if (off + 4 > ip_end(cur, st) || (void *)(icmp + 2) > data_end)
		return PARSE_MALFORMED;
	st->key.dst_port = ((__u16)icmp[0] << 8) | icmp[1];
	if (icmp[0] == echo_req || icmp[0] == echo_reply) {
		if (off + 8 > ip_end(cur, st) || (void *)(icmp + 6) > data_end)
			return PARSE_MALFORMED;
		st->key.icmp_id = ((__u16)icmp[4] << 8) | icmp[5];
	}
	return PARSE_OK;
}

#endif /* FLOWEXPORT_PARSE_H */
