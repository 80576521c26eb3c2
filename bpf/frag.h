/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frag.h - later fragments join the flow of their first fragment.
 *
 * Only the first fragment of an IP packet carries the L4 header. It leaves
 * its ports (ICMP: type/code and echo id) in frag_flows under the packet's
 * addresses, protocol and IP identification; later fragments find them
 * there and count with the same flow. The map is LRU: an insert never
 * fails and nothing needs cleaning up. A later fragment whose first was
 * not seen keeps ports 0, and for ICMP the reserved ICMP_TYPE_CODE_UNKNOWN.
 * Unfragmented packets never touch the map.
 */
#ifndef FLOWEXPORT_FRAG_H
#define FLOWEXPORT_FRAG_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"

#define FRAG_FLOWS 8192 /* IP packets in reassembly at once, all CPUs */

struct frag_key {
	__u32 ifindex;
	__u16 vlan_id;
	__u8 ip_version;
	__u8 protocol;
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u32 id;        /* IPv4 identification or IPv6 fragment header id */
	__u32 segment_id; /* --decap: the tunnel's VNI or key (tenants apart) */
};

struct frag_l4 {
	__u16 src_port;
	__u16 dst_port;
	__u16 icmp_id;
	__u16 pad;
};

_Static_assert(sizeof(struct frag_key) == 48, "frag_key has no padding");

/* Shared by all CPUs: RSS may hash a first fragment (ports) and the later
 * ones (addresses only) to different queues. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRAG_FLOWS);
	__type(key, struct frag_key);
	__type(value, struct frag_l4);
} frag_flows SEC(".maps");

static __always_inline int has_l4_parser(__u8 protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP ||
	       protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6;
}

/* For a fragment (frag != FRAG_NONE): remember or fill in st->key's ports. */
static __always_inline void frag_join(struct parse_state *st, __u8 frag)
{
	struct flow_key *key = &st->key;
	struct frag_key fk;
	struct frag_l4 *l4;

	if (!has_l4_parser(key->protocol))
		return;
	fk.ifindex = key->ifindex;
	fk.vlan_id = key->vlan_id;
	fk.ip_version = key->ip_version;
	fk.protocol = key->protocol;
	__builtin_memcpy(fk.src_addr, key->src_addr, 16);
	__builtin_memcpy(fk.dst_addr, key->dst_addr, 16);
	fk.id = st->frag_id;
	fk.segment_id = key->segment_id;
	if (frag == FRAG_FIRST) {
		struct frag_l4 v = {
			.src_port = key->src_port,
			.dst_port = key->dst_port,
			.icmp_id = key->icmp_id,
		};

		bpf_map_update_elem(&frag_flows, &fk, &v, BPF_ANY);
		return;
	}
	l4 = bpf_map_lookup_elem(&frag_flows, &fk);
	if (l4) {
		key->src_port = l4->src_port;
		key->dst_port = l4->dst_port;
		key->icmp_id = l4->icmp_id;
	} else if (key->protocol == IPPROTO_ICMP ||
		   key->protocol == IPPROTO_ICMPV6) {
		key->dst_port = ICMP_TYPE_CODE_UNKNOWN;
	}
}

#endif /* FLOWEXPORT_FRAG_H */
