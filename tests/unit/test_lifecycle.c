// SPDX-License-Identifier: GPL-2.0
/*
 * test_lifecycle - the races the flow-table lifecycle must survive
 * (README "Flow table lifecycle"), on the loaded pipeline with
 * BPF_PROG_TEST_RUN: a packet between PEEK and CLOSE, a packet between
 * CLOSE and FINAL (through the ring, still counted), harvests concurrent
 * with updates, two harvesting readers sharing the table (-M), lost
 * notices (a tiny notice ring) answered by a walk, and a SIGKILL between a
 * harvest and its merge. Every check is an exact count.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "config.h"
#include "drain.h"
#include "flowtable.h"
#include "harness.h"

/* capture times, 1 ms apart */
#define T(ms) (TS_BASE + (ms) * TS_STEP)
#define RACE_PACKETS_PER_RUN 1000
#define RACE_RUNS 300

static void udp_frame(struct pkt *pk, __u16 sport)
{
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = "10.9.0.1", .dst = "10.9.0.2" });
	pkt_udp(pk, sport, 53);
	pkt_payload(pk, 22);
	pkt_finish(pk);
}

static struct flow_key udp_key(__u16 sport)
{
	return key4(PROTO_UDP, "10.9.0.1", "10.9.0.2", sport, 53);
}

static int count_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(int *)ctx)++;
	return 0;
}

static int ring_events(struct pipeline *p)
{
	int n = 0;
	struct ring_buffer *rb = ring_buffer__new(pipeline_ring_fd(p),
						  count_event, &n, NULL);

	if (!rb)
		return -1;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n;
}

/* A packet after the PEEK that found the flow idle, before the CLOSE:
 * it is in the entry, and FINAL takes it with the rest. */
static void peek_then_packet(void)
{
	struct flow_key k = udp_key(1001);
	struct table_op_slot got;
	struct pipeline p;
	struct pkt pk;
	__u64 total = 0;

	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	udp_frame(&pk, 1001);
	h_send(&p, &pk, T(1));
	CHECK_EQ("PEEK", h_table_op(&p, &k, OP_PEEK, &got), OPR_DONE);
	CHECK_EQ("PEEK reads last_seen", got.stats.last_seen_ns, T(1));
	CHECK_EQ("PEEK takes nothing", got.stats.packets, 0);
	h_send(&p, &pk, T(2));
	CHECK_EQ("CLOSE", h_table_op(&p, &k, OP_CLOSE, NULL), OPR_DONE);
	CHECK(!pipeline_grace(&p), "grace period");
	CHECK_EQ("FINAL", h_table_op(&p, &k, OP_FINAL, &got), OPR_DONE);
	total += got.stats.packets;
	CHECK_EQ("FINAL takes both packets", total, 2);
	CHECK_EQ("entry deleted", h_table_op(&p, &k, OP_PEEK, NULL), OPR_ABSENT);
	CHECK_EQ("nothing through the ring", ring_events(&p), 0);
	pipeline_close(&p);
	tap_result("a packet between PEEK and CLOSE is in the FINAL delta");
}

/* A packet after CLOSE finds the entry closing: it goes through the ring
 * (counted as such), the entry is not written, and a packet after FINAL
 * starts a new entry with a new-flow notice. */
static void close_then_packet(void)
{
	struct flow_key k = udp_key(1002);
	struct table_op_slot got;
	__u64 c[CNT_MAX];
	struct pipeline p;
	struct pkt pk;

	CHECK(!h_open(&p, SHARE_META, ALL_SLOTS), "pipeline_open");
	udp_frame(&pk, 1002);
	h_send(&p, &pk, T(1));
	CHECK_EQ("CLOSE", h_table_op(&p, &k, OP_CLOSE, NULL), OPR_DONE);
	h_send(&p, &pk, T(2));
	h_send(&p, &pk, T(3));
	CHECK(!pipeline_grace(&p), "grace period");
	CHECK_EQ("FINAL", h_table_op(&p, &k, OP_FINAL, &got), OPR_DONE);
	CHECK_EQ("FINAL: the packet before CLOSE only", got.stats.packets, 1);
	CHECK_EQ("FINAL: its last_seen", got.stats.last_seen_ns, T(1));
	CHECK_EQ("the two after CLOSE came through the ring", ring_events(&p), 2);
	h_counters(&p, c);
	CHECK_EQ("CNT_CLOSING_RING", c[CNT_CLOSING_RING], 2);
	CHECK_EQ("CNT_INSERT_FAILED", c[CNT_INSERT_FAILED], 0);
	CHECK_EQ("CNT_FLOWED", c[CNT_FLOWED], 3);
	h_send(&p, &pk, T(4));
	CHECK_EQ("after FINAL: a new entry", h_table_op(&p, &k, OP_PEEK, &got),
		 OPR_DONE);
	CHECK_EQ("new entry: first_seen", got.stats.first_seen_ns, T(4));
	pipeline_close(&p);
	tap_result("a packet between CLOSE and FINAL goes through the ring, still counted");
}

struct out {
	__u64 records, packets, octets, sizes, tcp_flags;
};

static void count_dir(struct out *o, const struct flow_stats *st)
{
	o->packets += st->packets;
	o->octets += st->octets;
	for (int b = 0; b < FLOW_SIZE_BINS; b++)
		o->sizes += st->size_hist[b];
	o->tcp_flags |= st->tcp_flags;
}

static void count_records(void *ctx, const struct flow_record *recs, size_t n)
{
	struct out *o = ctx;

	for (size_t i = 0; i < n; i++) {
		o->records++;
		count_dir(o, &recs[i].fwd);
		if (recs[i].has_reverse)
			count_dir(o, &recs[i].rev);
	}
}

static void keep_record(void *ctx, const struct flow_record *recs, size_t n)
{
	if (n)
		*(struct flow_record *)ctx = recs[n - 1];
}

struct race {
	struct pipeline *writer;
	struct pipeline *reader[2];
	int n_readers;
	volatile int writing;
	/* each reader merges its deltas into its own cache, as a run does */
	struct config cfg;
	struct flow_cache *fc[2];
	struct table_sync *sync[2];
	struct out out[2];
	__u64 taken[2];
	int err;
};

static void *write_packets(void *arg)
{
	struct race *r = arg;
	struct pkt pk;

	udp_frame(&pk, 1003);
	for (int i = 0; i < RACE_RUNS; i++)
		if (pipeline_run_packet(pipeline_start_fd(r->writer), pk.buf,
					pk.len, NULL, RACE_PACKETS_PER_RUN, NULL,
					NULL))
			r->err = -errno;
	__atomic_store_n(&r->writing, 0, __ATOMIC_RELEASE);
	return NULL;
}

struct reader_arg {
	struct race *r;
	int i;
};

/* One HARVEST through the cache's own way to the table (drain.c: the
 * batch map, merge_batch, the merge into the pending report). */
static void take(struct race *r, int i)
{
	struct table_ops *ops = table_sync_ops(r->sync[i]);

	ops->slots[0].key = udp_key(1003);
	ops->slots[0].op = OP_HARVEST;
	if (ops->run(ops, 1) == 0 && ops->slots[0].result == OPR_DONE)
		r->taken[i] += ops->slots[0].stats.packets;
}

static void *harvest_loop(void *arg)
{
	struct reader_arg *a = arg;

	while (__atomic_load_n(&a->r->writing, __ATOMIC_ACQUIRE))
		take(a->r, a->i);
	return NULL;
}

/* Harvests while another thread writes the entry with atomic adds: the
 * records made of the deltas sum to exactly what was written (packets,
 * octets, size bins: also those of a delta whose packet count went to
 * another), with one reader or two (two instances sharing the table with
 * -M, each with its own batch map and cache). */
static void concurrent_harvest(int n_readers)
{
	struct pipeline p, q;
	struct race r = { .writer = &p, .reader = { &p, &q },
			  .n_readers = n_readers, .writing = 1 };
	struct reader_arg args[2] = { { &r, 0 }, { &r, 1 } };
	char pin[64];
	pthread_t w, h[2];
	__u64 sum = 0, octets = 0, sizes = 0, recorded = 0;
	const __u64 want = (__u64)RACE_RUNS * RACE_PACKETS_PER_RUN;
	struct drain_stats ds[2] = { 0 };
	struct pkt pk;

	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	if (n_readers == 2) {
		struct pipeline_opts o = { .share = SHARE_PERCPU,
					   .slot_mask = ALL_SLOTS,
					   .reuse_path = pin };

		snprintf(pin, sizeof(pin), "/sys/fs/bpf/fx-lifecycle-%d", getpid());
		CHECK(!bpf_obj_pin(bpf_map__fd(p.skel->maps.flow_tables), pin),
		      "pin flow_tables");
		CHECK(!pipeline_open(&q, &o), "second pipeline on the same table");
		unlink(pin);
		CHECK_EQ("one table", q.table_id, p.table_id);
	}
	config_defaults(&r.cfg);
	for (int i = 0; i < n_readers; i++) {
		r.fc[i] = flow_cache_new(&r.cfg, 0, count_records, &r.out[i]);
		r.sync[i] = r.fc[i] ? table_sync_open(r.reader[i], r.fc[i], NULL,
						      false, &ds[i]) : NULL;
		CHECK(r.sync[i], "cache and table ops of reader %d", i);
	}
	udp_frame(&pk, 1003);
	pthread_create(&w, NULL, write_packets, &r);
	for (int i = 0; i < n_readers; i++)
		pthread_create(&h[i], NULL, harvest_loop, &args[i]);
	pthread_join(w, NULL);
	for (int i = 0; i < n_readers; i++)
		pthread_join(h[i], NULL);
	take(&r, 0); /* what came after the last harvest */
	CHECK(!r.err, "writer: %s", strerror(-r.err));
	for (int i = 0; i < n_readers; i++) {
		flow_cache_flush(r.fc[i], END_FORCED);
		sum += r.out[i].packets;
		octets += r.out[i].octets;
		sizes += r.out[i].sizes;
		recorded += r.taken[i];
		printf("# reader %d took %llu packets in %llu deltas\n", i,
		       (unsigned long long)r.taken[i],
		       (unsigned long long)ds[i].entries);
		table_sync_close(r.sync[i]);
		flow_cache_free(r.fc[i]);
	}
	CHECK_EQ("packets over all deltas", recorded, want);
	CHECK_EQ("packets in records", sum, want);
	CHECK_EQ("octets in records", octets, want * 50);
	CHECK_EQ("size histogram in records", sizes, want);
	if (n_readers == 2)
		pipeline_close(&q);
	pipeline_close(&p);
	tap_result("%d harvesting reader(s) concurrent with %llu updates: records sum exactly",
		   n_readers, (unsigned long long)want);
}

/*
 * A harvest between a packet's count and its other adds: the count in one
 * delta, its octets, bin and FIN in the next (no packets, no first time),
 * and the count of a later packet whose first time went to the delta
 * before. The record has all of it, starting with the first packet.
 */
static void split_deltas(void)
{
	struct flow_key k = key4(PROTO_TCP, "10.9.0.1", "10.9.0.2", 4000, 80);
	struct flow_stats d[3];
	struct out out = { 0 };
	struct flow_record rec;
	struct flow_cache *fc;
	struct config cfg;

	for (int i = 0; i < 3; i++)
		flow_stats_empty(&d[i]);
	d[0].first_seen_ns = d[0].last_seen_ns = T(1);
	d[0].packets = 1;
	d[0].octets = 40;
	d[0].size_hist[0] = 1;
	d[0].tcp_flags = 0x02;
	d[1].first_seen_ns = FLOW_FIRST_NONE; /* the FIN's rest, no count */
	d[1].last_seen_ns = T(2);
	d[1].octets = 40;
	d[1].size_hist[0] = 1;
	d[1].tcp_flags = 0x11;
	d[2].first_seen_ns = FLOW_FIRST_NONE; /* the FIN's count */
	d[2].last_seen_ns = T(2);
	d[2].packets = 1;
	config_defaults(&cfg);
	fc = flow_cache_new(&cfg, 0, keep_record, &rec);
	CHECK(fc, "cache");
	memset(&rec, 0, sizeof(rec));
	for (int i = 0; i < 3; i++)
		CHECK(!flow_cache_merge(fc, &k, &d[i]), "merge %d", i);
	flow_cache_flush(fc, END_FORCED);
	count_records(&out, &rec, 1);
	CHECK_EQ("packets", out.packets, 2);
	CHECK_EQ("octets", out.octets, 80);
	CHECK_EQ("size bins", out.sizes, 2);
	CHECK_EQ("FIN kept", out.tcp_flags & 0x01, 0x01);
	CHECK_EQ("start: the first packet", rec.start_ms, T(1) / 1000000);
	CHECK_EQ("end: the FIN", rec.end_ms, T(2) / 1000000);
	flow_cache_free(fc);
	tap_result("deltas split within a packet's update: octets, bins, FIN and start all in the record");
}

/*
 * The overflow ring is merged a batch at a time, event i under mark
 * first + i. A run killed within a batch leaves all of it in the ring,
 * and the next run merges each event again unless its entry's mark lies
 * in [its mark, the batch's last]: events A B A A B killed after the
 * third, then the whole batch again, must count A three times and B
 * twice (a check of the mark alone would merge the first A again).
 */
static void ring_batch_replayed(void)
{
	static const int flow_of[5] = { 0, 1, 0, 0, 1 };
	struct flow_event ev[5];
	struct out out = { 0 };
	struct flow_cache *fc;
	struct config cfg;
	const __u64 first = 1000, last = first + 4;

	memset(ev, 0, sizeof(ev));
	for (int i = 0; i < 5; i++) {
		ev[i].key = udp_key(4000 + flow_of[i]);
		ev[i].ts_ns = T(1 + i);
		ev[i].ip_length = 50;
		ev[i].ttl = 64;
		ev[i].segs = 1;
	}
	config_defaults(&cfg);
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	CHECK(fc, "cache");
	for (int i = 0; i < 3; i++) /* killed after the third */
		CHECK(!flow_cache_merge_event(fc, &ev[i], first + i, last), "merge %d", i);
	for (int i = 0; i < 5; i++) /* the next run: the whole batch */
		CHECK(!flow_cache_merge_event(fc, &ev[i], first + i, last), "again %d", i);
	for (int i = 0; i < 5; i++) /* and a run killed at its end */
		CHECK(!flow_cache_merge_event(fc, &ev[i], first + i, last), "thrice %d", i);
	flow_cache_flush(fc, END_FORCED);
	CHECK_EQ("records", out.records, 2);
	CHECK_EQ("packets: each event once", out.packets, 5);
	CHECK_EQ("octets", out.octets, 250);
	flow_cache_free(fc);
	tap_result("overflow events merged a batch at a time: a batch replayed after a kill within it counts each event once");
}

/* A notice ring of one page: most new-flow notices are lost, counted,
 * and one walk of the table finds every flow; nothing is lost. */
static void lost_notices(void)
{
	struct pipeline_opts o = { .share = SHARE_GLOBAL, .slot_mask = ALL_SLOTS,
				   .max_flows = TEST_MAX_FLOWS,
				   .notice_ring_bytes = 4096 };
	struct drain_stats ds = { 0 };
	struct out out = { 0 };
	struct overflow_reader *ring;
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;
	__u64 c[CNT_MAX];
	const int flows = 500;

	CHECK(!pipeline_open(&p, &o), "pipeline_open");
	for (int i = 0; i < flows; i++) {
		struct pkt pk;

		udp_frame(&pk, 2000 + i);
		h_send(&p, &pk, T(i));
		h_send(&p, &pk, T(i) + 1);
	}
	h_counters(&p, c);
	printf("# %llu notices lost\n", (unsigned long long)c[CNT_NOTICE_LOST]);
	CHECK(c[CNT_NOTICE_LOST] > 0, "notices lost");
	config_defaults(&cfg);
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	ring = overflow_open(pipeline_ring_fd(&p), fc, &ds);
	t = table_sync_open(&p, fc, ring, false, &ds);
	CHECK(fc && ring && t, "cache, ring and table ops");
	if (t) {
		CHECK(!table_sync_notices(t, T(flows)), "read notices");
		CHECK_EQ("one walk", ds.walks, 1);
		CHECK_EQ("every flow known", flow_cache_count(fc), flows);
		flow_cache_flush(fc, END_FORCED);
		CHECK_EQ("records", out.records, flows);
		CHECK_EQ("packets in records", out.packets, 2 * flows);
		CHECK_EQ("table empty", h_table_op(&p, &(struct flow_key){ 0 },
						   OP_PEEK, NULL), OPR_ABSENT);
	}
	table_sync_close(t);
	overflow_close(ring);
	flow_cache_free(fc);
	pipeline_close(&p);
	tap_result("lost notices (tiny ring): counted, one walk, every packet in a record");
}

/* New flows whose notices a one-page ring loses. */
static void lost_flows(struct pipeline *p, int from, int n, __u64 ts)
{
	for (int i = 0; i < n; i++) {
		struct pkt pk;

		udp_frame(&pk, from + i);
		h_send(p, &pk, ts);
	}
}

/*
 * Live, walks after lost notices are at least 2 s apart (a walk leaves the
 * ring unread while it runs, and more notices would be lost): the keys
 * lost meanwhile wait for the next walk, or for the one before a flush.
 */
static void walks_apart(void)
{
	struct pipeline_opts o = { .share = SHARE_GLOBAL, .slot_mask = ALL_SLOTS,
				   .max_flows = TEST_MAX_FLOWS,
				   .notice_ring_bytes = 4096 };
	struct drain_stats ds = { 0 };
	struct out out = { 0 };
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;
	const int flows = 300;

	CHECK(!pipeline_open(&p, &o), "pipeline_open");
	config_defaults(&cfg);
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	t = fc ? table_sync_open(&p, fc, NULL, true, &ds) : NULL;
	CHECK(t, "cache and table ops");
	if (!t)
		goto out;
	lost_flows(&p, 5000, flows, T(0));
	CHECK(!table_sync_notices(t, T(0)), "read notices");
	CHECK_EQ("one walk", ds.walks, 1);
	CHECK_EQ("every flow known", flow_cache_count(fc), flows);
	lost_flows(&p, 6000, flows, T(1));
	CHECK(!table_sync_notices(t, T(1000)), "read notices 1 s later");
	CHECK_EQ("no walk within 2 s", ds.walks, 1);
	CHECK(flow_cache_count(fc) < 2 * flows, "lost keys wait");
	CHECK(!table_sync_notices(t, T(2000)), "read notices 2 s later");
	CHECK_EQ("a walk 2 s later", ds.walks, 2);
	CHECK_EQ("every flow known", flow_cache_count(fc), 2 * flows);
	lost_flows(&p, 7000, flows, T(2001));
	CHECK(!table_sync_catch_up(t, T(2002)), "catch up before a flush");
	CHECK_EQ("walk owed: at once", ds.walks, 3);
	flow_cache_flush(fc, END_FORCED);
	CHECK_EQ("packets in records", out.packets, 3 * flows);
out:
	table_sync_close(t);
	flow_cache_free(fc);
	pipeline_close(&p);
	tap_result("walks after lost notices 2 s apart when live; owed one at once before a flush");
}

/*
 * SIGKILL between a harvest and its merge: a child harvests (an active
 * report) with the kill switch set and dies with the deltas in the batch
 * map only; a cache opened again from the same file merges them once, and
 * once more changes nothing (the mark).
 */
static void kill_between_harvest_and_merge(void)
{
	struct flow_key k = udp_key(3000);
	struct drain_stats ds = { 0 };
	struct out out = { 0 };
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;
	char path[64];
	int status = 0;
	pid_t child;

	snprintf(path, sizeof(path), "/tmp/fx-lifecycle-%d.cache", getpid());
	unlink(path);
	config_defaults(&cfg);
	cfg.active_timeout = 1;
	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	for (int i = 0; i < 5; i++) {
		struct pkt pk;

		udp_frame(&pk, 3000);
		h_send(&p, &pk, T(i));
	}
	fflush(stdout);
	child = fork();
	if (child == 0) {
		struct flow_cache *cfc = flow_cache_open(&cfg, 0, count_records,
							 &out, path);
		struct table_sync *ct;

		setenv("FLOWEXPORT_TEST_KILL_AFTER_HARVESTS", "1", 1);
		ct = cfc ? table_sync_open(&p, cfc, NULL, false, &ds) : NULL;
		if (!ct)
			_exit(3);
		table_sync_notices(ct, T(5));
		/* active timeout 1 s: due; the harvest kills us */
		flow_cache_expire(cfc, T(5) + 2000000000ULL);
		_exit(4);
	}
	waitpid(child, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "child died by SIGKILL (status %d)", status);
	fc = flow_cache_open(&cfg, 0, count_records, &out, path);
	CHECK(fc, "cache adopted");
	if (fc) {
		/* before anything else uses the batch map (shared with the
		 * child here; a real restart has its own) */
		CHECK(!drain_recover(fc, 0), "drain_recover");
		CHECK(!drain_recover(fc, 0), "drain_recover again");
		CHECK_EQ("kernel entry still there",
			 h_table_op(&p, &k, OP_PEEK, NULL), OPR_DONE);
		t = table_sync_open(&p, fc, NULL, false, &ds);
		CHECK(t, "table ops");
		flow_cache_flush(fc, END_FORCED);
		CHECK_EQ("packets in records", out.packets, 5);
		table_sync_close(t);
		flow_cache_free(fc);
	}
	unlink(path);
	pipeline_close(&p);
	tap_result("SIGKILL between harvest and merge: the next run merges the delta once");
}

/*
 * SIGKILL between CLOSE and FINAL: the entry is left closing, and its
 * flow goes on. The next run (adopting the cache) finds it closing at its
 * first check, the flow not due, and reopens it: from then on packets go
 * to the entry again, not through the ring; every packet is in a record.
 */
static void kill_between_close_and_final(void)
{
	struct flow_key k = udp_key(3100);
	struct drain_stats ds = { 0 };
	struct overflow_reader *ring;
	struct table_op_slot got;
	struct out out = { 0 };
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;
	__u64 c[CNT_MAX];
	char path[64];
	int status = 0;
	struct pkt pk;
	pid_t child;

	snprintf(path, sizeof(path), "/tmp/fx-lifecycle-close-%d.cache", getpid());
	unlink(path);
	config_defaults(&cfg);
	cfg.idle_timeout = 2;
	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	udp_frame(&pk, 3100);
	h_send(&p, &pk, T(0));
	fflush(stdout);
	child = fork();
	if (child == 0) {
		struct flow_cache *cfc = flow_cache_open(&cfg, 0, count_records,
							 &out, path);
		struct table_sync *ct;

		setenv("FLOWEXPORT_TEST_KILL_AFTER_CLOSES", "1", 1);
		ct = cfc ? table_sync_open(&p, cfc, NULL, false, &ds) : NULL;
		if (!ct)
			_exit(3);
		table_sync_notices(ct, T(0));
		/* idle: ended; the CLOSE kills us */
		flow_cache_expire(cfc, T(3000));
		_exit(4);
	}
	waitpid(child, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "child died by SIGKILL (status %d)", status);
	CHECK_EQ("left closing", h_table_op(&p, &k, OP_PEEK, &got), OPR_DONE);
	CHECK_EQ("state", got.stats.state, FLOW_CLOSING);
	h_send(&p, &pk, T(4000)); /* the flow goes on: through the ring */
	fc = flow_cache_open(&cfg, 0, count_records, &out, path);
	CHECK(fc, "cache adopted");
	if (!fc)
		goto out;
	CHECK(!drain_recover(fc, 0), "drain_recover");
	ring = overflow_open(pipeline_ring_fd(&p), fc, &ds);
	t = ring ? table_sync_open(&p, fc, ring, false, &ds) : NULL;
	CHECK(t, "ring and table ops");
	if (t) {
		CHECK_EQ("ring read", overflow_consume(ring, 0), 1);
		/* last packet 1 s ago, idle timeout 2 s: not due */
		flow_cache_expire(fc, T(5000));
		CHECK_EQ("live again", h_table_op(&p, &k, OP_PEEK, &got), OPR_DONE);
		CHECK_EQ("state after the check", got.stats.state, FLOW_LIVE);
		CHECK_EQ("reopened", flow_cache_totals(fc)->reopens, 1);
		h_send(&p, &pk, T(5500));
		h_counters(&p, c);
		CHECK_EQ("CNT_CLOSING_RING: only the packet before the check",
			 c[CNT_CLOSING_RING], 1);
		CHECK_EQ("no record yet", out.records, 0);
		flow_cache_flush(fc, END_FORCED);
		CHECK_EQ("packets in records", out.packets, 3);
		CHECK_EQ("entry deleted", h_table_op(&p, &k, OP_PEEK, NULL),
			 OPR_ABSENT);
	}
	table_sync_close(t);
	overflow_close(ring);
	flow_cache_free(fc);
out:
	unlink(path);
	pipeline_close(&p);
	tap_result("SIGKILL between CLOSE and FINAL: the next run reopens the entry of a flow that goes on");
}

/* Checks of 300 s of a flow with one packet a second, its reverse once at
 * the start: a one-packet delta per second, a pass per second. */
static __u64 checks_one_way_pair(bool biflow)
{
	struct flow_key f = udp_key(3300), r = f;
	struct out out = { 0 };
	struct flow_cache *fc;
	struct flow_stats d;
	struct config cfg;
	__u64 checks;

	memcpy(r.src_addr, f.dst_addr, sizeof(r.src_addr));
	memcpy(r.dst_addr, f.src_addr, sizeof(r.dst_addr));
	r.src_port = f.dst_port;
	r.dst_port = f.src_port;
	config_defaults(&cfg);
	cfg.biflow = biflow;
	cfg.active_timeout = 0;
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	if (!fc)
		return ~0ULL;
	for (int s = 0; s < 300; s++) {
		flow_stats_empty(&d);
		d.packets = 1;
		d.octets = 50;
		d.first_seen_ns = d.last_seen_ns = T(s * 1000);
		flow_cache_merge(fc, &f, &d);
		if (s == 1)
			flow_cache_merge(fc, &r, &d);
		flow_cache_expire(fc, T(s * 1000) + 1);
	}
	checks = flow_cache_totals(fc)->checks;
	flow_cache_flush(fc, END_FORCED);
	flow_cache_free(fc);
	printf("# %s: %llu checks, %llu records\n", biflow ? "--biflow" : "one-way",
	       (unsigned long long)checks, (unsigned long long)out.records);
	return checks;
}

/* --biflow: the idle direction of an active pair is filed with the pair,
 * not at its own (past) due time every pass: the pair is checked about as
 * often as the active direction alone (twice the entries). */
static void idle_direction_of_active_pair(void)
{
	__u64 one_way = checks_one_way_pair(false);
	__u64 pair = checks_one_way_pair(true);

	CHECK(pair <= 2 * one_way + 2, "pair checks %llu, one-way %llu",
	      (unsigned long long)pair, (unsigned long long)one_way);
	tap_result("--biflow: an idle direction of an active pair is checked with the pair, not every pass");
}

/* The run's table operations, one kind of batch failing (as a failed
 * BPF_PROG_TEST_RUN: nothing of it runs). */
struct failing_ops {
	struct table_ops ops;
	struct table_ops *real;
	__u32 fail_op;
	long closed;       /* entries closed and not finaled */
	long most_closed;  /* ... the most at a grace period */
	long ring_reads;
};

static int failing_run(struct table_ops *ops, __u32 count)
{
	struct failing_ops *f = (struct failing_ops *)ops;

	if (count && ops->slots[0].op == f->fail_op)
		return -EIO;
	if (count && ops->slots[0].op == OP_CLOSE)
		f->closed += count;
	if (count && ops->slots[0].op == OP_FINAL)
		f->closed -= count;
	return f->real->run(f->real, count);
}

static int failing_grace(struct table_ops *ops)
{
	struct failing_ops *f = (struct failing_ops *)ops;

	if (f->closed > f->most_closed)
		f->most_closed = f->closed;
	return f->real->grace(f->real);
}

static void failing_read_ring(struct table_ops *ops)
{
	struct failing_ops *f = (struct failing_ops *)ops;

	f->ring_reads++;
	f->real->read_ring(f->real);
}

/*
 * A CLOSE or FINAL batch that fails: the flow is not ended (no FINAL of
 * an entry not closed, no record and no removal while the entry stays),
 * it is ended at its next check, with its packet in the record.
 */
static void failed_end(__u32 fail_op)
{
	struct flow_key k = udp_key(3400 + fail_op);
	struct drain_stats ds = { 0 };
	struct overflow_reader *ring;
	struct failing_ops f = { .fail_op = fail_op };
	struct out out = { 0 };
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;
	struct pkt pk;

	config_defaults(&cfg);
	cfg.idle_timeout = 2;
	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	udp_frame(&pk, 3400 + fail_op);
	h_send(&p, &pk, T(0));
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	ring = fc ? overflow_open(pipeline_ring_fd(&p), fc, &ds) : NULL;
	t = ring ? table_sync_open(&p, fc, ring, false, &ds) : NULL;
	CHECK(t, "cache, ring and table ops");
	if (!t)
		goto out;
	f.real = table_sync_ops(t);
	f.ops = (struct table_ops){ .slots = f.real->slots, .run = failing_run,
				    .grace = failing_grace,
				    .read_ring = failing_read_ring };
	flow_cache_set_table_ops(fc, &f.ops);
	CHECK(!table_sync_notices(t, T(0)), "notices");
	flow_cache_expire(fc, T(3000)); /* idle: ended, but a batch fails */
	CHECK_EQ("still in the cache", flow_cache_count(fc), 1);
	CHECK_EQ("no record", out.records, 0);
	CHECK_EQ("kernel entry still there", h_table_op(&p, &k, OP_PEEK, NULL),
		 OPR_DONE);
	f.fail_op = 0;
	flow_cache_expire(fc, T(4000));
	CHECK_EQ("ended at the next check", flow_cache_count(fc), 0);
	CHECK_EQ("packets in records", out.packets, 1);
	CHECK_EQ("kernel entry deleted", h_table_op(&p, &k, OP_PEEK, NULL),
		 OPR_ABSENT);
out:
	table_sync_close(t);
	overflow_close(ring);
	flow_cache_free(fc);
	pipeline_close(&p);
	tap_result("a failed %s batch: the flow stays and is ended at its next check",
		   fail_op == OP_CLOSE ? "CLOSE" : "FINAL");
}

/*
 * Ending many flows at once (the exit flush): closed in chunks, each
 * graced, finaled and its ring read before the next is closed, so that
 * the packets of closing flows in the ring stay bounded.
 */
static void end_in_chunks(void)
{
	enum { FLOWS = 40000 };
	struct pipeline_opts o = { .share = SHARE_PERCPU, .slot_mask = ALL_SLOTS,
				   .max_flows = FLOWS + 1024 };
	struct drain_stats ds = { 0 };
	struct overflow_reader *ring;
	struct failing_ops f = { 0 };
	struct out out = { 0 };
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;

	config_defaults(&cfg);
	cfg.max_flows = FLOWS + 1024;
	CHECK(!pipeline_open(&p, &o), "pipeline_open");
	for (int i = 0; i < FLOWS; i++) {
		struct pkt pk;

		udp_frame(&pk, 10000 + i);
		h_send(&p, &pk, T(1));
	}
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	ring = fc ? overflow_open(pipeline_ring_fd(&p), fc, &ds) : NULL;
	t = ring ? table_sync_open(&p, fc, ring, false, &ds) : NULL;
	CHECK(t, "cache, ring and table ops");
	if (!t)
		goto out;
	f.real = table_sync_ops(t);
	f.ops = (struct table_ops){ .slots = f.real->slots, .run = failing_run,
				    .grace = failing_grace,
				    .read_ring = failing_read_ring };
	flow_cache_set_table_ops(fc, &f.ops);
	CHECK(!table_sync_notices(t, T(1)), "notices");
	CHECK_EQ("flows known", flow_cache_count(fc), FLOWS);
	flow_cache_flush(fc, END_FORCED);
	printf("# at most %ld closed at a grace period, %ld ring reads\n",
	       f.most_closed, f.ring_reads);
	CHECK(f.most_closed > 0 && f.most_closed <= 8 * TABLE_OP_BATCH,
	      "closed at once: %ld", f.most_closed);
	CHECK(f.ring_reads >= FLOWS / (8 * TABLE_OP_BATCH) + 1, "ring reads");
	CHECK_EQ("packets in records", out.packets, FLOWS);
out:
	table_sync_close(t);
	overflow_close(ring);
	flow_cache_free(fc);
	pipeline_close(&p);
	tap_result("%d flows ended at once: closed, graced, finaled and the ring read in chunks",
		   FLOWS);
}

/*
 * A stale FIN notice (its entry finaled before it was read: the cache
 * keeps a phantom) does not make the key's next flow closing: the notice
 * makes the flow due after the FIN grace, and the PEEK then finds no FIN
 * in the new entry, so the flow ends by its idle timeout, not at once.
 */
static void stale_fin_notice(void)
{
	struct flow_key k = udp_key(3500);
	struct drain_stats ds = { 0 };
	struct out out = { 0 };
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;
	struct pkt pk;

	config_defaults(&cfg);
	cfg.active_timeout = 0;
	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	t = fc ? table_sync_open(&p, fc, NULL, false, &ds) : NULL;
	CHECK(t, "cache and table ops");
	if (!t)
		goto out;
	/* the stale notice: no entry behind it any more */
	CHECK(!flow_cache_note(fc, &k, T(0), T(0), NOTICE_END, FLOW_LIVE),
	      "stale FIN notice");
	udp_frame(&pk, 3500);
	h_send(&p, &pk, T(10)); /* the key's next flow */
	CHECK(!table_sync_notices(t, T(10)), "notices");
	flow_cache_expire(fc, T(3010)); /* FIN grace over, idle not */
	CHECK_EQ("not ended", out.records, 0);
	CHECK_EQ("still known", flow_cache_count(fc), 1);
	flow_cache_expire(fc, T(16010)); /* idle */
	CHECK_EQ("ended by idle", out.records, 1);
	CHECK_EQ("its packet", out.packets, 1);
out:
	table_sync_close(t);
	flow_cache_free(fc);
	pipeline_close(&p);
	tap_result("a stale FIN notice does not end the key's next flow early");
}

struct locked_op {
	struct pipeline *p;
	volatile int done;
};

static void *op_thread(void *arg)
{
	struct locked_op *lo = arg;
	struct flow_key k = udp_key(3200);

	h_table_op(lo->p, &k, OP_PEEK, NULL);
	__atomic_store_n(&lo->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * An entry another instance (-M) has just closed, found closing by our
 * walk: not reopened at once (the peer FINALs it a grace period after its
 * CLOSE), only when it has stayed closing 2 s: then it was left so.
 */
static void peer_closing_waits(void)
{
	struct flow_key k = udp_key(3600);
	struct drain_stats ds = { 0 };
	struct table_op_slot got;
	struct out out = { 0 };
	struct table_sync *t;
	struct flow_cache *fc;
	struct config cfg;
	struct pipeline p;
	struct pkt pk;

	config_defaults(&cfg);
	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	udp_frame(&pk, 3600);
	h_send(&p, &pk, T(0));
	CHECK_EQ("the peer's CLOSE", h_table_op(&p, &k, OP_CLOSE, NULL), OPR_DONE);
	fc = flow_cache_new(&cfg, 0, count_records, &out);
	t = fc ? table_sync_open(&p, fc, NULL, false, &ds) : NULL;
	CHECK(t, "cache and table ops");
	if (!t)
		goto out;
	CHECK(!table_sync_walk(t, T(100)), "walk");
	flow_cache_expire(fc, T(100));
	CHECK_EQ("found closing: left to the peer",
		 flow_cache_totals(fc)->reopens, 0);
	flow_cache_expire(fc, T(1100));
	CHECK_EQ("1 s later: still", flow_cache_totals(fc)->reopens, 0);
	flow_cache_expire(fc, T(2100));
	CHECK_EQ("closing 2 s: reopened", flow_cache_totals(fc)->reopens, 1);
	CHECK_EQ("live", h_table_op(&p, &k, OP_PEEK, &got), OPR_DONE);
	CHECK_EQ("state", got.stats.state, FLOW_LIVE);
	flow_cache_flush(fc, END_FORCED);
	CHECK_EQ("packets in records", out.packets, 1);
out:
	table_sync_close(t);
	flow_cache_free(fc);
	pipeline_close(&p);
	tap_result("an entry found closing by a walk (a -M peer's) is reopened only after 2 s closing");
}

/*
 * Instances sharing the table (-M) run table operations one batch at a
 * time: while another holder of the table's lock file has it, a batch
 * waits (an entry a batch holds may otherwise be deleted and its memory
 * taken by an insert under it); it runs once the lock is free.
 */
static void ops_take_turns(void)
{
	struct pipeline_opts o = { .share = SHARE_PERCPU, .slot_mask = ALL_SLOTS,
				   .max_flows = TEST_MAX_FLOWS, .lock = true };
	struct bpf_map_info info = {};
	struct lockfile other = LOCKFILE_INIT;
	struct locked_op lo = { 0 };
	__u32 len = sizeof(info);
	struct pipeline p;
	char name[32];
	pthread_t th;

	CHECK(!pipeline_open(&p, &o), "pipeline_open");
	CHECK(!bpf_obj_get_info_by_fd(bpf_map__fd(p.skel->maps.flow_tables),
				      &info, &len), "flow_tables id");
	snprintf(name, sizeof(name), "map%u", info.id);
	CHECK(!lockfile_open(&other, name), "the table's lock file");
	CHECK(!lockfile_take(&other, LOCK_SWAP, false), "the other instance's turn");
	lo.p = &p;
	pthread_create(&th, NULL, op_thread, &lo);
	usleep(300000);
	CHECK_EQ("batch waits for its turn", __atomic_load_n(&lo.done, __ATOMIC_ACQUIRE), 0);
	lockfile_release(&other, LOCK_SWAP);
	pthread_join(th, NULL);
	CHECK_EQ("batch ran after", lo.done, 1);
	lockfile_close(&other);
	pipeline_close(&p);
	tap_result("table operations of instances sharing the table take turns (lock file)");
}

/*
 * A table pinned by a build whose entries have another layout (a crash,
 * then an upgrade; an -M peer of another version) has the same sizes, so
 * nothing but its name tells it apart: it must be refused, not misread.
 * Before the hot fields came first the table was named "flow_table".
 */
static void other_layout_refused(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	struct pipeline p, q;
	char pin[64];
	int old, outer;
	__u32 zero = 0;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/fx-layout-%d", getpid());
	old = bpf_map_create(BPF_MAP_TYPE_HASH, "flow_table", FLOW_KEY_PLAIN_SIZE,
			     sizeof(struct flow_stats), 64, &o);
	LIBBPF_OPTS(bpf_map_create_opts, oo, .inner_map_fd = old);
	outer = old < 0 ? -1 :
		bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "flow_tables",
			       sizeof(__u32), sizeof(__u32), 1, &oo);
	CHECK(outer >= 0 && !bpf_map_update_elem(outer, &zero, &old, BPF_ANY) &&
	      !bpf_obj_pin(outer, pin), "an old build's table pinned");
	struct pipeline_opts po = { .share = SHARE_PERCPU, .slot_mask = ALL_SLOTS,
				    .reuse_path = pin };
	CHECK_EQ("refused: another layout", pipeline_open(&q, &po), -EPROTO);
	unlink(pin);
	close(outer);
	close(old);

	/* a table of this build is taken over */
	CHECK(!h_open(&p, SHARE_PERCPU, ALL_SLOTS), "pipeline_open");
	CHECK(!bpf_obj_pin(bpf_map__fd(p.skel->maps.flow_tables), pin),
	      "pin flow_tables");
	CHECK(!pipeline_open(&q, &po), "this layout: taken over");
	unlink(pin);
	CHECK_EQ("one table", q.table_id, p.table_id);
	pipeline_close(&q);
	pipeline_close(&p);
	tap_result("a pinned table of another entry layout is refused, one of this layout taken over");
}

int main(void)
{
	peek_then_packet();
	close_then_packet();
	split_deltas();
	ring_batch_replayed();
	concurrent_harvest(1);
	concurrent_harvest(2);
	lost_notices();
	walks_apart();
	kill_between_harvest_and_merge();
	kill_between_close_and_final();
	ops_take_turns();
	peer_closing_waits();
	idle_direction_of_active_pair();
	failed_end(OP_CLOSE);
	failed_end(OP_FINAL);
	end_in_chunks();
	stale_fin_notice();
	other_layout_refused();
	printf("# %d passed, %d failed\n", tap_passed_cases, tap_failed_cases);
	return tap_failed_cases ? 1 : 0;
}
