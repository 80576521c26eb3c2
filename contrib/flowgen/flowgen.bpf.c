// SPDX-License-Identifier: GPL-2.0
/*
 * flowgen.bpf.c - runs once per frame under BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES: gives the frame the source address of the
 * next of nflows flows (checksums updated in place) and sends it out of the
 * interface with XDP_TX.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 nflows = 1;
const volatile __u32 src_base; /* host order: last 32 bits of flow 0's source */
const volatile __u8 ipv6;
/* Next flow; a test run stays on one CPU, no atomics needed. */
__u32 next_flow;

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * RFC 1624 incremental update for a 32-bit field that changed from old to
 * new. All three values as they sit in the packet: the one's complement
 * sum does not depend on byte order.
 */
static __always_inline __u16 csum_replace4(__u16 csum, __u32 old, __u32 new)
{
	__u32 sum = (__u16)~csum;

	sum += (__u16)~(old >> 16) + (__u16)~(old & 0xffff);
	sum += (new >> 16) + (new & 0xffff);
	return ~csum_fold(sum);
}

SEC("xdp")
int flowgen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 flow = next_flow;
	__u32 saddr = bpf_htonl(src_base + flow);
	struct udphdr *udp;
	__u32 old;

	next_flow = flow + 1 >= nflows ? 0 : flow + 1;
	/* a frame cut shorter than its headers: what is there changes */
	if (ipv6) {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

		if ((void *)(ip6 + 1) > end)
			return XDP_TX;
		old = ip6->saddr.in6_u.u6_addr32[3];
		ip6->saddr.in6_u.u6_addr32[3] = saddr;
		udp = (void *)(ip6 + 1);
	} else {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) > end)
			return XDP_TX;
		old = ip->saddr;
		ip->saddr = saddr;
		ip->check = csum_replace4(ip->check, old, saddr);
		udp = (void *)(ip + 1);
	}
	if ((void *)(udp + 1) > end)
		return XDP_TX;
	/* the source address is in the UDP pseudo-header */
	udp->check = csum_replace4(udp->check, old, saddr);
	if (!udp->check) /* 0 would mean "no checksum" */
		udp->check = 0xffff;
	return XDP_TX;
}
