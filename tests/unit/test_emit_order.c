// SPDX-License-Identifier: GPL-2.0
/*
 * test_emit_order - the order records leave the flow cache in (flowtable.c
 * apply): by start time, then by key, across the emit batches of 4096
 * records and with runs of one start time longer than a batch; every flow
 * exactly once, keys alike in their first 40 bytes too; the same flows
 * merged in another order give the same records in the same order. No
 * BPF, no root.
 */
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "flowtable.h"
#include "tap.h"

#define FLOWS 20000

struct out {
	struct flow_record *rec;
	size_t n;
};

static void collect(void *ctx, const struct flow_record *recs, size_t n)
{
	struct out *o = ctx;

	for (size_t i = 0; i < n && o->n < FLOWS; i++)
		o->rec[o->n++] = recs[i];
}

/* Flow i: a UDP flow of its own key; its start time puts it in a run of
 * 6000 flows of one millisecond (three of them, longer than a batch), or
 * a millisecond of its own. */
static struct flow_key flow_key_of(unsigned int i)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = 1;
	k.ip_version = 4;
	k.protocol = 17;
	k.src_addr[10] = k.src_addr[11] = 0xff;
	k.src_addr[12] = 10;
	/* keys not in flow order; four flows of one address, told apart
	 * only by the port, far behind the bytes a run's keys share */
	k.src_addr[13] = i / 4 * 7919 % 251;
	k.src_addr[14] = i / 4 >> 8;
	k.src_addr[15] = i / 4;
	k.dst_addr[10] = k.dst_addr[11] = 0xff;
	k.dst_addr[12] = 192;
	k.src_port = 1024 + i % 4;
	k.dst_port = 53;
	return k;
}

static __u64 start_ms_of(unsigned int i)
{
	return i < 18000 ? 1000 + i / 6000 : 2000 + i;
}

static void merge_all(struct flow_cache *fc, const unsigned int *order)
{
	for (unsigned int n = 0; n < FLOWS; n++) {
		unsigned int i = order[n];
		struct flow_key k = flow_key_of(i);
		struct flow_stats d;

		flow_stats_empty(&d);
		d.first_seen_ns = start_ms_of(i) * 1000000ULL;
		d.last_seen_ns = d.first_seen_ns + 1000;
		d.packets = 1 + i % 5;
		d.octets = d.packets * 100;
		d.min_length = d.max_length = 100;
		d.min_ttl = d.max_ttl = 64;
		CHECK(flow_cache_merge(fc, &k, &d) == 0, "merge flow %u", i);
	}
}

static void run(const struct config *cfg, const unsigned int *order,
		struct out *o)
{
	struct flow_cache *fc = flow_cache_new(cfg, 0, collect, o);

	o->n = 0;
	merge_all(fc, order);
	flow_cache_flush(fc, END_FORCED);
	flow_cache_free(fc);
}

static int record_cmp(const struct flow_record *a, const struct flow_record *b)
{
	if (a->start_ms != b->start_ms)
		return a->start_ms < b->start_ms ? -1 : 1;
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

int main(void)
{
	struct config cfg;
	struct out a = { .rec = calloc(FLOWS, sizeof(struct flow_record)) };
	struct out b = { .rec = calloc(FLOWS, sizeof(struct flow_record)) };
	unsigned int order[FLOWS];
	__u64 packets = 0, want_packets = 0;
	size_t unordered = 0;
	unsigned int seed = 12345;

	config_defaults(&cfg);
	cfg.max_flows = 2 * FLOWS;
	for (unsigned int i = 0; i < FLOWS; i++) {
		order[i] = i;
		want_packets += 1 + i % 5;
	}
	run(&cfg, order, &a);
	CHECK_EQ("records", a.n, FLOWS);
	for (size_t i = 0; i < a.n; i++) {
		packets += a.rec[i].fwd.packets;
		if (i && record_cmp(&a.rec[i - 1], &a.rec[i]) >= 0)
			unordered++;
	}
	CHECK_EQ("packets", packets, want_packets);
	CHECK_EQ("records out of order (or twice)", unordered, 0);
	tap_result("records leave by start time then key, across batches and long runs of one time");

	/* the same flows, merged in a shuffled order */
	for (unsigned int i = FLOWS - 1; i > 0; i--) {
		unsigned int j, t;

		seed = seed * 1103515245 + 12345;
		j = (seed >> 8) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	run(&cfg, order, &b);
	CHECK_EQ("records", b.n, a.n);
	for (size_t i = 0; i < a.n && i < b.n; i++)
		if (record_cmp(&a.rec[i], &b.rec[i])) {
			CHECK(0, "record %zu differs", i);
			break;
		}
	tap_result("the same flows merged in another order leave in the same order");
	free(a.rec);
	free(b.rec);
	return tap_failed_cases ? 1 : 0;
}
