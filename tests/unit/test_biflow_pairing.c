// SPDX-License-Identifier: GPL-2.0
/*
 * test_biflow_pairing - what --biflow pairs, through the user-space flow
 * cache (flowtable.c): flows are merged as drained deltas, the cache is
 * flushed, and the emitted records say which flows became one biflow.
 * ICMP pairs only echo request and reply of one identifier; the two
 * directions of a flow pair across two metered interfaces (a router or a
 * bridge metered on both sides); a flow is in one pair at most; packets
 * are conserved. No BPF, no root.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>
#include "config.h"
#include "flowtable.h"
#include "tap.h"

#define MAX_OUT 32

struct out {
	struct flow_record rec[MAX_OUT];
	size_t n;
};

static void collect(void *ctx, const struct flow_record *recs, size_t n)
{
	struct out *o = ctx;

	for (size_t i = 0; i < n && o->n < MAX_OUT; i++)
		o->rec[o->n++] = recs[i];
}

static void v4(__u8 *a, const char *text)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	inet_pton(AF_INET, text, a + 12);
}

static struct flow_key key(__u32 ifindex, __u8 proto, const char *src,
			   const char *dst, __u16 sport, __u16 dport,
			   __u16 icmp_id)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = ifindex;
	k.ip_version = 4;
	k.protocol = proto;
	v4(k.src_addr, src);
	v4(k.dst_addr, dst);
	k.src_port = sport;
	k.dst_port = dport;
	k.icmp_id = icmp_id;
	return k;
}

static struct flow_key key6(__u8 type, __u16 icmp_id, bool swap)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = 1;
	k.ip_version = 6;
	k.protocol = 58;
	inet_pton(AF_INET6, swap ? "2001:db8::2" : "2001:db8::1", k.src_addr);
	inet_pton(AF_INET6, swap ? "2001:db8::1" : "2001:db8::2", k.dst_addr);
	k.dst_port = type << 8;
	k.icmp_id = icmp_id;
	return k;
}

/* One delta of packets (each 100 bytes) first seen at t_ns. */
static void add(struct flow_cache *fc, const struct flow_key *k, __u64 packets,
		__u64 t_ns)
{
	struct flow_stats d;

	flow_stats_empty(&d);
	d.first_seen_ns = t_ns;
	d.last_seen_ns = t_ns + 1000;
	d.packets = packets;
	d.octets = packets * 100;
	d.min_length = d.max_length = 100;
	d.min_ttl = d.max_ttl = 64;
	CHECK(flow_cache_merge(fc, k, &d) == 0, "merge");
}

static __u64 total_packets(const struct out *o)
{
	__u64 p = 0;

	for (size_t i = 0; i < o->n; i++)
		p += o->rec[i].fwd.packets + o->rec[i].rev.packets;
	return p;
}

static size_t paired(const struct out *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n; i++)
		n += o->rec[i].has_reverse;
	return n;
}

/* Runs the flows given by setup through a cache and flushes it. */
static void run(struct config *cfg, struct out *o,
		void (*setup)(struct flow_cache *fc, void *arg), void *arg)
{
	struct flow_cache *fc = flow_cache_new(cfg, 0, collect, o);

	memset(o, 0, sizeof(*o));
	setup(fc, arg);
	flow_cache_flush(fc, END_FORCED);
	flow_cache_free(fc);
}

static void icmp_unreachable(struct flow_cache *fc, void *arg)
{
	struct flow_key a = key(1, 1, "10.0.0.1", "10.0.0.2", 0, 3 << 8 | 1, 0);
	struct flow_key b = key(1, 1, "10.0.0.2", "10.0.0.1", 0, 3 << 8 | 1, 0);

	(void)arg;
	add(fc, &a, 2, 1000);
	add(fc, &b, 3, 2000);
}

static void icmp_echo(struct flow_cache *fc, void *arg)
{
	struct flow_key req = key(1, 1, "10.0.0.1", "10.0.0.2", 0, 8 << 8, 7);
	struct flow_key rep = key(1, 1, "10.0.0.2", "10.0.0.1", 0, 0, 7);
	struct flow_key other = key(1, 1, "10.0.0.2", "10.0.0.1", 0, 0, 8);

	(void)arg;
	add(fc, &req, 4, 1000);
	add(fc, &rep, 4, 2000);
	add(fc, &other, 1, 3000); /* a reply to another identifier */
}

static void icmp6_echo(struct flow_cache *fc, void *arg)
{
	struct flow_key req = key6(128, 9, false), rep = key6(129, 9, true);
	struct flow_key unreach = key6(1, 0, false), unreach_back = key6(1, 0, true);

	(void)arg;
	add(fc, &req, 2, 1000);
	add(fc, &rep, 2, 2000);
	add(fc, &unreach, 1, 3000);
	add(fc, &unreach_back, 1, 4000);
}

/* A TCP connection through a router metered on both sides: the client's
 * packets enter by one interface, the server's by the other. */
static void two_interfaces(struct flow_cache *fc, void *arg)
{
	const __u32 *ifx = arg;
	struct flow_key c = key(ifx[0], 6, "10.0.0.1", "10.9.0.1", 40000, 80, 0);
	struct flow_key s = key(ifx[1], 6, "10.9.0.1", "10.0.0.1", 80, 40000, 0);

	add(fc, &s, 5, 2000); /* merged first, but born later */
	add(fc, &c, 6, 1000);
}

/* The other direction seen on both interfaces: the partner on the flow's
 * own interface wins, the third flow stays alone. */
static void three_ways(struct flow_cache *fc, void *arg)
{
	const __u32 *ifx = arg;
	struct flow_key c = key(ifx[0], 17, "10.0.0.1", "10.9.0.1", 5000, 53, 0);
	struct flow_key s1 = key(ifx[0], 17, "10.9.0.1", "10.0.0.1", 53, 5000, 0);
	struct flow_key s2 = key(ifx[1], 17, "10.9.0.1", "10.0.0.1", 53, 5000, 0);

	add(fc, &c, 1, 1000);
	add(fc, &s1, 2, 2000);
	add(fc, &s2, 4, 3000);
}

/* Two interfaces of this machine that if_nametoindex knows (names only:
 * nothing is attached or sent). */
static int two_ifaces(struct config *cfg, __u32 ifx[2])
{
	struct if_nameindex *all = if_nameindex(), *i;
	static char names[2][IF_NAMESIZE];
	int n = 0;

	for (i = all; i && i->if_index && n < 2; i++) {
		snprintf(names[n], IF_NAMESIZE, "%s", i->if_name);
		ifx[n] = i->if_index;
		cfg->ifnames[n] = names[n];
		n++;
	}
	if_freenameindex(all);
	cfg->n_ifaces = n;
	return n == 2 ? 0 : -1;
}

int main(void)
{
	struct config cfg;
	struct out o;
	__u32 ifx[2];

	config_defaults(&cfg);
	cfg.biflow = true;

	run(&cfg, &o, icmp_unreachable, NULL);
	CHECK_EQ("records", o.n, 2);
	CHECK_EQ("paired", paired(&o), 0);
	CHECK_EQ("packets", total_packets(&o), 5);
	tap_result("biflow: ICMP unreachable messages in opposite directions stay two records");

	run(&cfg, &o, icmp_echo, NULL);
	CHECK_EQ("records", o.n, 2);
	CHECK_EQ("paired", paired(&o), 1);
	for (size_t i = 0; i < o.n; i++)
		if (o.rec[i].has_reverse) {
			CHECK_EQ("forward is the request", o.rec[i].key.dst_port, 8 << 8);
			CHECK_EQ("identifier", o.rec[i].key.icmp_id, 7);
			CHECK_EQ("reply packets", o.rec[i].rev.packets, 4);
		}
	CHECK_EQ("packets", total_packets(&o), 9);
	tap_result("biflow: ICMP echo request pairs with the reply of its identifier only");

	run(&cfg, &o, icmp6_echo, NULL);
	CHECK_EQ("records", o.n, 3);
	CHECK_EQ("paired", paired(&o), 1);
	CHECK_EQ("packets", total_packets(&o), 6);
	tap_result("biflow: ICMPv6 echo pairs, ICMPv6 unreachables do not");

	if (two_ifaces(&cfg, ifx)) {
		printf("not ok - biflow across interfaces: this machine has fewer than two interfaces\n");
		return 1;
	}
	run(&cfg, &o, two_interfaces, ifx);
	CHECK_EQ("records", o.n, 1);
	CHECK_EQ("paired", paired(&o), 1);
	CHECK_EQ("forward: the client's interface", o.rec[0].key.ifindex, ifx[0]);
	CHECK_EQ("forward: the client's port", o.rec[0].key.src_port, 40000);
	CHECK_EQ("forward packets", o.rec[0].fwd.packets, 6);
	CHECK_EQ("reverse packets", o.rec[0].rev.packets, 5);
	tap_result("biflow: the two directions pair across two metered interfaces");

	run(&cfg, &o, three_ways, ifx);
	CHECK_EQ("records", o.n, 2);
	CHECK_EQ("paired", paired(&o), 1);
	CHECK_EQ("packets", total_packets(&o), 7);
	for (size_t i = 0; i < o.n; i++)
		if (o.rec[i].has_reverse)
			CHECK_EQ("pair on one interface", o.rec[i].rev.packets, 2);
	tap_result("biflow: a flow is in one pair at most, its own interface's partner first");

	cfg.biflow = false;
	run(&cfg, &o, two_interfaces, ifx);
	CHECK_EQ("records", o.n, 2);
	CHECK_EQ("paired", paired(&o), 0);
	tap_result("without --biflow nothing pairs");

	return tap_failed_cases ? 1 : 0;
}
