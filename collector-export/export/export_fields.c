// SPDX-License-Identifier: GPL-2.0
/*
 * export_fields.c - values of the IANA elements flowexport can export.
 * Element ids are IANA's (also NetFlow v9 field types for ids < 128 and the
 * common higher ones nfdump knows); names are checked against libfixbuf's
 * information model by export_template.c, not here.
 */
#include <endian.h>
#include <stddef.h>
#include <string.h>
#include "export_fields.h"

static const struct field_def fields[] = {
	{ 1, 8, FIELD_UNSIGNED, true },    /* octetDeltaCount */
	{ 2, 8, FIELD_UNSIGNED, true },    /* packetDeltaCount */
	{ 4, 1, FIELD_UNSIGNED, false },   /* protocolIdentifier */
	{ 5, 1, FIELD_UNSIGNED, true },    /* ipClassOfService */
	{ 6, 2, FIELD_UNSIGNED, true },    /* tcpControlBits */
	{ 7, 2, FIELD_UNSIGNED, false },   /* sourceTransportPort */
	{ 8, 4, FIELD_ADDR4, false },      /* sourceIPv4Address */
	{ 10, 4, FIELD_UNSIGNED, false },  /* ingressInterface */
	{ 11, 2, FIELD_UNSIGNED, false },  /* destinationTransportPort */
	{ 12, 4, FIELD_ADDR4, false },     /* destinationIPv4Address */
	{ 14, 4, FIELD_UNSIGNED, false },  /* egressInterface */
	{ 25, 8, FIELD_UNSIGNED, true },   /* minimumIpTotalLength */
	{ 26, 8, FIELD_UNSIGNED, true },   /* maximumIpTotalLength */
	{ 27, 16, FIELD_ADDR6, false },    /* sourceIPv6Address */
	{ 28, 16, FIELD_ADDR6, false },    /* destinationIPv6Address */
	{ 31, 4, FIELD_UNSIGNED, true },   /* flowLabelIPv6 */
	{ 32, 2, FIELD_UNSIGNED, false },  /* icmpTypeCodeIPv4 */
	{ 52, 1, FIELD_UNSIGNED, true },   /* minimumTTL */
	{ 53, 1, FIELD_UNSIGNED, true },   /* maximumTTL */
	{ 56, 6, FIELD_MAC, true },        /* sourceMacAddress */
	{ 58, 2, FIELD_UNSIGNED, false },  /* vlanId */
	{ 60, 1, FIELD_UNSIGNED, false },  /* ipVersion */
	{ 61, 1, FIELD_UNSIGNED, false },  /* flowDirection */
	{ 70, 3, FIELD_MPLS, true },       /* mplsTopLabelStackSection */
	{ 71, 3, FIELD_MPLS, true },       /* mplsLabelStackSection2 */
	{ 72, 3, FIELD_MPLS, true },       /* mplsLabelStackSection3 */
	{ 80, 6, FIELD_MAC, true },        /* destinationMacAddress */
	{ 136, 1, FIELD_UNSIGNED, false }, /* flowEndReason */
	{ 139, 2, FIELD_UNSIGNED, false }, /* icmpTypeCodeIPv6 */
	{ 150, 4, FIELD_UNSIGNED, true },  /* flowStartSeconds */
	{ 151, 4, FIELD_UNSIGNED, true },  /* flowEndSeconds */
	{ 152, 8, FIELD_UNSIGNED, true },  /* flowStartMilliseconds */
	{ 153, 8, FIELD_UNSIGNED, true },  /* flowEndMilliseconds */
	{ 161, 4, FIELD_UNSIGNED, true },  /* flowDurationMilliseconds */
	{ 176, 1, FIELD_UNSIGNED, false }, /* icmpTypeIPv4 */
	{ 177, 1, FIELD_UNSIGNED, false }, /* icmpCodeIPv4 */
	{ 178, 1, FIELD_UNSIGNED, false }, /* icmpTypeIPv6 */
	{ 179, 1, FIELD_UNSIGNED, false }, /* icmpCodeIPv6 */
	{ 243, 2, FIELD_UNSIGNED, false }, /* dot1qVlanId */
	{ 351, 8, FIELD_UNSIGNED, false }, /* layer2SegmentId */
};

const struct field_def *field_lookup(__u16 ie)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].ie == ie)
			return &fields[i];
	return NULL;
}

/*
 * layer2SegmentId (IE 351): IANA puts the overlay's encapsulation type in
 * the most significant byte (0x01 VXLAN, 0x02 NVGRE) and the segment id in
 * the bytes below. A GRE key is NVGRE's (its 24-bit VSID and 8-bit flow id
 * are the key's 32 bits); Geneve has no code of its own and goes with 0.
 */
__u64 flow_layer2_segment_id(const struct flow_key *k)
{
	switch (k->tunnel) {
	case TUNNEL_VXLAN:
		return (__u64)0x01 << 56 | k->segment_id;
	case TUNNEL_GRE:
		return (__u64)0x02 << 56 | k->segment_id;
	case TUNNEL_GENEVE:
		return k->segment_id;
	}
	return 0;
}

const char *flow_tunnel_name(__u8 tunnel)
{
	static const char *const names[TUNNEL_KINDS] = {
		"", "vxlan", "geneve", "gre", "ipip",
	};

	return tunnel < TUNNEL_KINDS ? names[tunnel] : "?";
}

static bool is_icmp(const struct flow_key *k, int version)
{
	return k->ip_version == version &&
	       k->protocol == (version == 4 ? 1 : 58);
}

/* Value of an integer field of rec, forward or reverse direction; inlined
 * into the one loop that encodes records (below). */
static inline __attribute__((always_inline)) __u64
field_uint(const struct field_def *f, const struct flow_record *rec,
	   bool reverse)
{
	const struct flow_key *k = &rec->key;
	const struct flow_stats *s = reverse ? &rec->rev : &rec->fwd;
	__u64 start = reverse ? rec->rev_start_ms : rec->start_ms;
	__u64 end = reverse ? rec->rev_end_ms : rec->end_ms;

	/* a biflow record without a reverse direction reports zeros there */
	if (reverse && !rec->has_reverse)
		return 0;
	switch (f->ie) {
	case 1: return s->octets;
	case 2: return s->packets;
	case 4: return k->protocol;
	case 5: return s->tos;
	case 6: return s->tcp_flags & 0xfff;
	case 7: return k->src_port;
	/* the metered interface is where the packets came in, or left */
	case 10: return k->direction == FLOW_DIR_INGRESS ? k->ifindex : 0;
	case 14: return k->direction == FLOW_DIR_EGRESS ? k->ifindex : 0;
	case 11: return k->dst_port;
	case 25: return s->packets ? s->min_length : 0;
	case 26: return s->max_length;
	case 31: return s->flow_label & 0xfffff;
	case 32: return is_icmp(k, 4) ? k->dst_port : 0;
	case 52: return s->packets ? s->min_ttl : 0;
	case 53: return s->max_ttl;
	case 58: case 243: return k->vlan_id;
	case 351: return flow_layer2_segment_id(k);
	case 60: return k->ip_version;
	case 61: return k->direction;
	case 136: return rec->end_reason;
	case 139: return is_icmp(k, 6) ? k->dst_port : 0;
	case 150: return start / 1000;
	case 151: return end / 1000;
	case 152: return start;
	case 153: return end;
	case 161: return end > start ? end - start : 0;
	case 176: return is_icmp(k, 4) ? k->dst_port >> 8 : 0;
	case 177: return is_icmp(k, 4) ? k->dst_port & 0xff : 0;
	case 178: return is_icmp(k, 6) ? k->dst_port >> 8 : 0;
	case 179: return is_icmp(k, 6) ? k->dst_port & 0xff : 0;
	}
	return 0;
}

/* The 16 address bytes of an address field (IPv4: the mapped form). */
static const __u8 *field_addr(const struct field_def *f,
			      const struct flow_record *rec)
{
	bool src = f->ie == 8 || f->ie == 27;

	return src ? rec->key.src_addr : rec->key.dst_addr;
}

/* The 6 bytes of a MAC field, or NULL for the missing reverse direction. */
static const __u8 *field_mac(const struct field_def *f,
			     const struct flow_record *rec, bool reverse)
{
	const struct flow_stats *s = reverse ? &rec->rev : &rec->fwd;

	if (reverse && !rec->has_reverse)
		return NULL;
	return f->ie == 56 ? s->src_mac : s->dst_mac;
}

/* An MPLS label stack section (IEs 70-72, RFC 7012 octetArray): label,
 * EXP and S in 3 bytes, as on the wire; zeros where the stack ends (and
 * for a missing reverse direction). Each direction has its own labels. */
static void put_mpls(const struct field_def *f, const struct flow_record *rec,
		     bool reverse, __u8 *out)
{
	const struct flow_stats *s = reverse ? &rec->rev : &rec->fwd;
	__u32 e = s->mpls[f->ie - 70];

	if (!(e & FLOW_MPLS_PRESENT) || (reverse && !rec->has_reverse))
		e = 0;
	out[0] = e >> 16;
	out[1] = e >> 8;
	out[2] = e;
}

static void put_mac(const struct field_def *f, const struct flow_record *rec,
		    bool reverse, __u8 *out)
{
	const __u8 *mac = field_mac(f, rec, reverse);

	if (mac)
		memcpy(out, mac, 6);
	else
		memset(out, 0, 6);
}

unsigned int field_put_host(const struct field_def *f,
			    const struct flow_record *rec, bool reverse,
			    __u8 *out)
{
	const __u8 *a;
	__u64 v;

	switch (f->kind) {
	case FIELD_ADDR4: {
		/* ipv4Address is an unsigned32 to libfixbuf: host order */
		__u32 v4;

		a = field_addr(f, rec);
		v4 = (__u32)a[12] << 24 | a[13] << 16 | a[14] << 8 | a[15];
		memcpy(out, &v4, 4);
		return 4;
	}
	case FIELD_ADDR6:
		memcpy(out, field_addr(f, rec), 16);
		return 16;
	case FIELD_MAC: /* libfixbuf keeps macAddress as the wire's bytes */
		put_mac(f, rec, reverse, out);
		return 6;
	case FIELD_MPLS: /* octetArray: the wire's bytes */
		put_mpls(f, rec, reverse, out);
		return 3;
	}
	v = field_uint(f, rec, reverse);
	switch (f->len) {
	case 1: *out = v; break;
	case 2: { __u16 x = v; memcpy(out, &x, 2); break; }
	case 4: { __u32 x = v; memcpy(out, &x, 4); break; }
	default: memcpy(out, &v, 8); break;
	}
	return f->len;
}

static inline void field_put_wire(const struct field_def *f,
				  const struct flow_record *rec, bool reverse,
				  unsigned int len, __u8 *out)
{
	__u64 v;

	switch (f->kind) {
	case FIELD_ADDR4:
		memcpy(out, field_addr(f, rec) + 12, 4);
		return;
	case FIELD_ADDR6:
		memcpy(out, field_addr(f, rec), 16);
		return;
	case FIELD_MAC:
		put_mac(f, rec, reverse, out);
		return;
	case FIELD_MPLS:
		put_mpls(f, rec, reverse, out);
		return;
	}
	v = field_uint(f, rec, reverse);
	/* the common sizes in one store each, not a byte at a time;
	 * reduced sizes keep the low bytes */
	switch (len) {
	case 1: *out = v; return;
	case 2: { __u16 x = htobe16(v); memcpy(out, &x, 2); return; }
	case 4: { __u32 x = htobe32(v); memcpy(out, &x, 4); return; }
	case 8: { __u64 x = htobe64(v); memcpy(out, &x, 8); return; }
	}
	for (int i = (int)len - 1; i >= 0; i--, v >>= 8)
		out[i] = v & 0xff;
}

/* One loop here rather than one in each encoder, with the element's value
 * and its store inlined into it instead of a call per element. */
__u8 *fields_put_wire(const struct field_wire *w, int n,
		      const struct flow_record *rec, __u8 *out)
{
	for (int i = 0; i < n; i++) {
		field_put_wire(w[i].def, rec, w[i].reverse, w[i].len, out);
		out += w[i].len;
	}
	return out;
}
