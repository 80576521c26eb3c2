// SPDX-License-Identifier: GPL-2.0
/* balance.c - a direction-independent hash of a flow key (FNV-1a). */
#include <string.h>
#include "balance.h"

static __u32 fnv1a(__u32 h, const void *data, size_t len)
{
	const __u8 *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

unsigned int balance_pick(const struct flow_key *key, unsigned int n)
{
	const __u8 *a = key->src_addr, *b = key->dst_addr;
	__u16 pa = key->src_port, pb = key->dst_port;
	__u32 h = 2166136261u;
	int order;

	if (n <= 1)
		return 0;
	/* ICMP keeps type/code in dst_port: an echo request and its reply
	 * differ there; the echo identifier (icmp_id) is what they share */
	if (key->protocol == 1 || key->protocol == 58)
		pa = pb = key->icmp_id;
	order = memcmp(a, b, sizeof(key->src_addr));
	if (order > 0 || (order == 0 && pa > pb)) { /* the lower end first */
		const __u8 *t = a;
		__u16 tp = pa;

		a = b;
		b = t;
		pa = pb;
		pb = tp;
	}
	h = fnv1a(h, a, sizeof(key->src_addr));
	h = fnv1a(h, &pa, sizeof(pa));
	h = fnv1a(h, b, sizeof(key->dst_addr));
	h = fnv1a(h, &pb, sizeof(pb));
	h = fnv1a(h, &key->protocol, sizeof(key->protocol));
	h = fnv1a(h, &key->vlan_id, sizeof(key->vlan_id));
	return h % n;
}
