// SPDX-License-Identifier: GPL-2.0
/*
 * maponly.bpf.c - the reference programs flowexport is measured against
 * (make bench, -t 0 --flows N, contrib/flowgen/flowsink):
 *
 *   pass      XDP_PASS and nothing else: the floor.
 *   map_only  the flow table's own cost: the 48-byte struct flow_key of
 *             flow.h from the 5-tuple, one shared HASH of struct flow_stats
 *             (flowexport's entry size), looked up and updated in place
 *             with atomic adds, inserted when new, then XDP_PASS. No clock,
 *             no histograms, no ring: what no flow meter can go below.
 *   cycle     for BPF_PROG_TEST_RUN at a large repeat: rewrites the source
 *             address of the test frame so that runs cycle through
 *             cycle_flows flows, then tail-calls the program under test
 *             (slot 0 of cycle_target). The floor pays the same cycler.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flow.h"

char LICENSE[] SEC("license") = "GPL";

/* Struct flow_stats appears only as a map value type below: anchor it so
 * that libbpf knows its size. */
struct flow_stats maponly_stats_btf_anchor;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20); /* the loader sets it to the flow count */
	__uint(key_size, FLOW_KEY_PLAIN_SIZE); /* the table's without --decap */
	__type(value, struct flow_stats);
} maponly_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cycle_target SEC(".maps");

/* Packets the table had no room for (it is sized to the flows sent). */
__u64 maponly_full;

const volatile __u32 cycle_flows = 1;
/* Next flow of the cycler; test_run runs on one CPU, no atomics needed. */
__u32 cycle_next;

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

/* Fills key from an Ethernet frame (no VLAN, no IPv6 extension headers:
 * what the benchmarks send). Returns the IP length, 0 if not IP. */
static __always_inline __u32 key_from_frame(struct xdp_md *ctx,
					    struct flow_key *key)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 *ports = NULL;
	__u32 len;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 *w;

		if ((void *)(ip + 1) > end)
			return 0;
		key->ip_version = 4;
		key->protocol = ip->protocol;
		w = (__u32 *)key->src_addr;
		w[2] = bpf_htonl(0x0000ffff);
		w[3] = ip->saddr;
		w = (__u32 *)key->dst_addr;
		w[2] = bpf_htonl(0x0000ffff);
		w[3] = ip->daddr;
		len = bpf_ntohs(ip->tot_len);
		ports = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return 0;
		key->ip_version = 6;
		key->protocol = ip6->nexthdr;
		__builtin_memcpy(key->src_addr, &ip6->saddr, 16);
		__builtin_memcpy(key->dst_addr, &ip6->daddr, 16);
		len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		ports = (void *)(ip6 + 1);
	} else {
		return 0;
	}
	key->ifindex = ctx->ingress_ifindex;
	if ((key->protocol == IPPROTO_UDP || key->protocol == IPPROTO_TCP) &&
	    (void *)(ports + 2) <= end) {
		key->src_port = bpf_ntohs(ports[0]);
		key->dst_port = bpf_ntohs(ports[1]);
	}
	return len;
}

SEC("xdp")
int map_only(struct xdp_md *ctx)
{
	struct flow_key key = {};
	struct flow_stats *st;
	__u32 len = key_from_frame(ctx, &key);

	if (!len)
		return XDP_PASS;
	st = bpf_map_lookup_elem(&maponly_flows, &key);
	if (st) {
		__sync_fetch_and_add(&st->packets, 1);
		__sync_fetch_and_add(&st->octets, len);
		return XDP_PASS;
	}

	struct flow_stats fresh = { .packets = 1, .octets = len };
	long err = bpf_map_update_elem(&maponly_flows, &key, &fresh, BPF_NOEXIST);

	if (err == -17 /* EEXIST: another CPU inserted it first */) {
		st = bpf_map_lookup_elem(&maponly_flows, &key);
		if (st) {
			__sync_fetch_and_add(&st->packets, 1);
			__sync_fetch_and_add(&st->octets, len);
			return XDP_PASS;
		}
	}
	if (err)
		__sync_fetch_and_add(&maponly_full, 1);
	return XDP_PASS;
}

SEC("xdp")
int cycle(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 flow = cycle_next;

	cycle_next = flow + 1 >= cycle_flows ? 0 : flow + 1;
	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;
	ip->saddr = bpf_htonl(0x0a000000 + flow); /* 10.0.0.0/8 + flow */
	bpf_tail_call(ctx, &cycle_target, 0);
	return XDP_ABORTED; /* no program under test in the slot */
}
