/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decap.h - the tunnel stage (--decap): VXLAN (UDP 4789), Geneve (UDP
 * 6081), GRE (IP protocol 47, with its key, and transparent Ethernet
 * bridging) and IP-in-IP (IP protocol 4 or 41 in IPv4 or IPv6). The outer
 * packet's L3 stage (GRE, IP-in-IP) or UDP stage (VXLAN, Geneve) tail-calls
 * here; this stage finds where the inner packet starts, notes the tunnel
 * and its VNI or key in the cursor (the inner key takes them, key_init) and
 * goes on with the inner frame's L2 stage (an Ethernet payload) or L3 stage
 * (an IP payload). The same stages then parse the inner packet; its flow
 * is the one metered, its IP length the octets counted.
 *
 * One level: a packet already decapsulated is never offered again, so a
 * tunnel in a tunnel is the inner flow's payload. A tunnel header cut
 * short or whose lengths run past its packet is malformed (counted, the
 * packet passed); a tunnel of a kind or payload we do not open (GRE
 * version 1 or with routing, Geneve version > 0, a payload that is not
 * Ethernet, IPv4 or IPv6, an inner packet beyond MAX_L3_OFF) stays the
 * outer flow, as without --decap. Outer fragments are not decapsulated
 * (the inner header may be in another fragment): they are outer flows.
 *
 * Without --decap, decap_enabled is 0 and the verifier drops every test of
 * it: the stages cost what they did. Included by flowmon.bpf.c after its
 * helpers (next, finish, PROG_PROLOGUE, HOOK_PROGRAMS).
 */
#ifndef FLOWEXPORT_DECAP_H
#define FLOWEXPORT_DECAP_H

/* Set by the loader before load (--decap). */
const volatile __u32 decap_enabled = 0;

#define VXLAN_PORT 4789
#define GENEVE_PORT 6081
#define TUNNEL_HDR_LEN 8     /* VXLAN, and Geneve before its options */
#define VXLAN_FLAG_VNI 0x08  /* I: the VNI is valid (RFC 7348) */
#define ETH_P_TEB 0x6558     /* transparent Ethernet bridging */
#define GRE_CSUM 0x8000
#define GRE_ROUTING 0x4000   /* RFC 1701 source routing: not opened */
#define GRE_KEY 0x2000
#define GRE_SEQ 0x1000
#define GRE_VERSION 0x0007   /* 1: PPTP's enhanced GRE, not opened */
#ifndef IPPROTO_GRE
#define IPPROTO_GRE 47
#endif

/* After an outer L3 header: a GRE or IP-in-IP packet to open? */
static __always_inline int decap_ip_wanted(const struct pkt_meta *cur)
{
	return decap_enabled && !cur->tunnel && cur->frag == FRAG_NONE &&
	       (cur->l4_proto == IPPROTO_GRE || cur->l4_proto == IPPROTO_IPIP ||
		cur->l4_proto == IPPROTO_IPV6);
}

/* After an outer UDP header: VXLAN or Geneve by destination port? */
static __always_inline int decap_udp_wanted(const struct pkt_meta *cur,
					    const struct parse_state *st)
{
	return decap_enabled && !cur->tunnel && cur->frag == FRAG_NONE &&
	       (st->key.dst_port == VXLAN_PORT ||
		st->key.dst_port == GENEVE_PORT);
}

/* What a tunnel header says: the inner packet's offset and protocol (an
 * ethertype; ETH_P_TEB for an Ethernet frame), the tunnel and its id. */
struct tunnel_hdr {
	__u32 inner_off;
	__u32 segment_id;
	__u16 proto;
	__u8 kind;
};

static __always_inline int inner_proto_known(__u16 proto)
{
	return proto == ETH_P_TEB || proto == ETH_P_IP || proto == ETH_P_IPV6;
}

static __always_inline __u32 be24(const __u8 *p)
{
	return (__u32)p[0] << 16 | (__u32)p[1] << 8 | p[2];
}

/* VXLAN or Geneve header at off (after the UDP header); end: the outer IP
 * packet's end. */
static __always_inline int parse_udp_tunnel(void *data, void *data_end,
					    __u32 off, __u32 end, __u16 port,
					    struct tunnel_hdr *t)
{
	__u8 *h = data + (off & MAX_L4_OFF);
	__u32 opt_len;

	if (off + TUNNEL_HDR_LEN > end || (void *)(h + TUNNEL_HDR_LEN) > data_end)
		return PARSE_MALFORMED;
	t->segment_id = be24(h + 4);
	if (port == VXLAN_PORT) {
		if (!(h[0] & VXLAN_FLAG_VNI))
			return PARSE_MALFORMED;
		t->kind = TUNNEL_VXLAN;
		t->proto = ETH_P_TEB;
		t->inner_off = off + TUNNEL_HDR_LEN;
		return PARSE_OK;
	}
	if (h[0] >> 6) /* a Geneve version we do not know */
		return PARSE_UNSUPPORTED;
	opt_len = (h[0] & 0x3f) * 4;
	t->kind = TUNNEL_GENEVE;
	t->proto = (__u16)h[2] << 8 | h[3];
	t->inner_off = off + TUNNEL_HDR_LEN + opt_len;
	if (t->inner_off > end)
		return PARSE_MALFORMED; /* options past the packet */
	return inner_proto_known(t->proto) ? PARSE_OK : PARSE_UNSUPPORTED;
}

/* GRE (RFC 2784, with RFC 2890's key and sequence number) at off. */
static __always_inline int parse_gre(void *data, void *data_end, __u32 off,
				     __u32 end, struct tunnel_hdr *t)
{
	__u8 *h = data + (off & MAX_L4_OFF);
	__u32 len = 4;
	__u16 flags;

	if (off + 4 > end || (void *)(h + 4) > data_end)
		return PARSE_MALFORMED;
	flags = (__u16)h[0] << 8 | h[1];
	if (flags & (GRE_VERSION | GRE_ROUTING))
		return PARSE_UNSUPPORTED;
	t->kind = TUNNEL_GRE;
	t->proto = (__u16)h[2] << 8 | h[3];
	t->segment_id = 0;
	if (flags & GRE_CSUM)
		len += 4;
	if (flags & GRE_KEY) {
		__u8 *k = data + ((off + len) & MAX_L4_OFF);

		if (off + len + 4 > end || (void *)(k + 4) > data_end)
			return PARSE_MALFORMED;
		t->segment_id = (__u32)k[0] << 24 | be24(k + 1);
		len += 4;
	}
	if (flags & GRE_SEQ)
		len += 4;
	t->inner_off = off + len;
	if (t->inner_off > end)
		return PARSE_MALFORMED;
	return inner_proto_known(t->proto) ? PARSE_OK : PARSE_UNSUPPORTED;
}

static __always_inline int stage_decap(void *ctx, const int at)
{
	struct tunnel_hdr t = {};
	__u32 off, end;
	int res;

	PROG_PROLOGUE;
	off = cur->l4_off;
	end = ip_end(cur, st);
	if (cur->l4_proto == IPPROTO_UDP) {
		res = parse_udp_tunnel(data, data_end, off + 8, end,
				       st->key.dst_port, &t);
	} else if (cur->l4_proto == IPPROTO_GRE) {
		res = parse_gre(data, data_end, off, end, &t);
	} else { /* IP-in-IP: the inner IP header follows the outer */
		t.kind = TUNNEL_IPIP;
		t.proto = cur->l4_proto == IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6;
		t.inner_off = off;
		res = PARSE_OK;
	}
	if (res == PARSE_MALFORMED)
		return finish(ctx, at, CNT_MALFORMED);
	if (res != PARSE_OK || t.inner_off > MAX_L3_OFF)
		return next(ctx, at, SLOT_END); /* the outer flow */
	cur->tunnel = t.kind;
	cur->segment_id = t.segment_id;
	cur->l3_off = t.inner_off;
	if (t.proto == ETH_P_TEB)
		return next(ctx, at, SLOT_L2_ETH);
	cur->l3_proto = t.proto;
	if (t.proto == ETH_P_IP)
		return next(ctx, at, SLOT_L3_IPV4);
	return next(ctx, at, SLOT_L3_IPV6);
}
HOOK_PROGRAMS(decap)

#endif /* FLOWEXPORT_DECAP_H */
