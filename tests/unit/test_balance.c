// SPDX-License-Identifier: GPL-2.0
/*
 * test_balance - --balance sends both directions of a conversation to the
 * same collector (balance_pick is direction-independent): TCP/UDP with
 * addresses and ports swapped, and an ICMP echo request with its reply,
 * whose type/code (kept in dst_port) differ while the identifier is shared.
 * Different conversations spread over the collectors. No BPF, no root.
 */
#include <arpa/inet.h>
#include <string.h>
#include "balance.h"
#include "tap.h"

static struct flow_key key(__u8 proto, __u32 src, __u32 dst, __u16 sport,
			   __u16 dport, __u16 icmp_id)
{
	struct flow_key k;
	__u32 s = htonl(src), d = htonl(dst);

	memset(&k, 0, sizeof(k));
	k.ip_version = 4;
	k.protocol = proto;
	k.src_addr[10] = k.src_addr[11] = 0xff;
	k.dst_addr[10] = k.dst_addr[11] = 0xff;
	memcpy(k.src_addr + 12, &s, 4);
	memcpy(k.dst_addr + 12, &d, 4);
	k.src_port = sport;
	k.dst_port = dport;
	k.icmp_id = icmp_id;
	return k;
}

int main(void)
{
	unsigned int used[7] = { 0 };

	for (__u32 i = 0; i < 200; i++) {
		__u32 a = 0x0a000001 + i, b = 0x0a010001 + 7 * i;
		struct flow_key req = key(6, a, b, 40000 + i, 443, 0);
		struct flow_key rep = key(6, b, a, 443, 40000 + i, 0);

		CHECK_EQ("TCP: both directions", balance_pick(&req, 7),
			 balance_pick(&rep, 7));
		used[balance_pick(&req, 7)]++;
	}
	for (unsigned int c = 0; c < 7; c++)
		CHECK(used[c] > 0, "collector %u of 7 got none of 200 conversations", c);
	tap_result("balance: TCP conversations keep both directions together and spread over every collector");

	for (__u32 i = 0; i < 200; i++) {
		__u32 a = 0x0a000001 + i, b = 0x0a010001 + 3 * i;
		struct flow_key req = key(1, a, b, 0, 8 << 8, 100 + i);
		struct flow_key rep = key(1, b, a, 0, 0 << 8, 100 + i);
		struct flow_key req6 = key(58, a, b, 0, 128 << 8, 100 + i);
		struct flow_key rep6 = key(58, b, a, 0, 129 << 8, 100 + i);

		CHECK_EQ("ICMP echo request and reply", balance_pick(&req, 7),
			 balance_pick(&rep, 7));
		CHECK_EQ("ICMPv6 echo request and reply", balance_pick(&req6, 7),
			 balance_pick(&rep6, 7));
	}
	tap_result("balance: an ICMP echo request and its reply go to the same collector");
	return tap_failed_cases ? 1 : 0;
}
