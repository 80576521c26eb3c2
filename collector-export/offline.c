// SPDX-License-Identifier: GPL-2.0
/*
 * offline.c - -r FILE.pcap: every packet goes through the same BPF programs
 * with BPF_PROG_TEST_RUN, its capture time handed in as struct pkt_meta, so
 * flows start, end and time out in capture time. Runs are synchronous: no
 * program writes while we read, so the active table is drained in place
 * (no swap needed), and the same file always gives the same records.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "books.h"
#include "capture.h"
#include "drain.h"
#include "flowtable.h"
#include "loader.h"
#include "log.h"
#include "modes.h"
#include "sink.h"

#define NS_PER_SEC 1000000000ULL
/* Drain at least this often: the overflow ring (4 MiB, 72-byte events)
 * must never fill between two drains when the table is full. */
#define OFFLINE_DRAIN_PACKETS 16384
#define MAX_FRAME 16384

struct replay {
	const struct config *cfg;
	struct pipeline p;
	struct sink sink;
	struct flow_cache *fc;
	struct overflow_reader *ring;
	struct drain_stats ds;
	struct books books;
	__u64 skipped;       /* frames too large to run */
};

static int drain(struct replay *r)
{
	int err = drain_table(r->p.table_fd[r->p.active], r->fc, &r->ds);

	if (err) {
		pr_warn("cannot read the flow table: %s\n", strerror(-err));
		return err;
	}
	err = overflow_consume(r->ring, 0);
	return err < 0 ? err : 0;
}

static void print_counters(struct replay *r, __u64 now_ns)
{
	struct counters_report c;

	if (books_collect(&r->books, &r->p, r->fc, now_ns / 1e9, &c))
		return;
	sink_export_totals(&r->sink, &c);
	output_counters(r->sink.out, &c);
	books_overflow_report(&r->books, &c);
}

static int replay(struct replay *r, struct capture *cap)
{
	const struct config *cfg = r->cfg;
	int prog_fd = pipeline_start_fd(&r->p);
	__u64 ts = 0, next_expiry = 0, next_dump = 0, since_drain = 0;
	time_t last_tick = 0;
	const uint8_t *data;
	uint32_t caplen;
	uint64_t pkt_ts;
	int rc, err;

	while ((rc = capture_next(cap, &data, &caplen, &pkt_ts)) == 1) {
		struct pkt_meta meta = { .magic = PKT_META_MAGIC };
		__u32 ret;

		ts = pkt_ts;
		meta.ts_ns = ts;
		if (caplen > MAX_FRAME) {
			r->skipped++;
			continue;
		}
		if (!next_expiry) {
			next_expiry = ts + NS_PER_SEC;
			next_dump = ts;
		}
		if (cfg->output_dir && ts >= next_dump) {
			output_rotate(r->sink.out, ts / NS_PER_SEC);
			next_dump = ts + (cfg->interval ?: 86400ULL * 365) * NS_PER_SEC;
		}
		err = pipeline_run_packet(prog_fd, data, caplen, &meta, 1, &ret,
					  NULL);
		if (err) {
			pr_warn("BPF_PROG_TEST_RUN failed: %s\n",
				strerror(-err));
			return err;
		}
		if (++since_drain >= OFFLINE_DRAIN_PACKETS || ts >= next_expiry) {
			err = drain(r);
			if (err)
				return err;
			since_drain = 0;
		}
		/* the live loop expires once a second: so does replay, in
		 * capture time */
		if (ts >= next_expiry) {
			flow_cache_expire(r->fc, ts);
			next_expiry = ts + NS_PER_SEC;
		}
		if (r->sink.n_ex && time(NULL) != last_tick) {
			struct counters_report c;
			struct metering_stats ms = {};

			last_tick = time(NULL);
			if (!books_collect(&r->books, &r->p, r->fc, ts / 1e9, &c))
				books_metering(&c, &ms);
			sink_tick(&r->sink, last_tick, &ms);
		}
	}
	/* end of capture: what is due expires as usual, the rest is forced */
	err = drain(r);
	if (!err && ts)
		flow_cache_expire(r->fc, ts);
	flow_cache_flush(r->fc, END_FORCED);
	if (r->skipped)
		pr_warn("%llu frames larger than %d bytes were skipped\n",
			r->skipped, MAX_FRAME);
	print_counters(r, ts);
	return err ? err : rc;
}

int run_offline(const struct config *cfg)
{
	struct pipeline_opts opts = {
		.share = cfg->share,
		.slot_mask = cfg->slot_mask,
		.max_flows = cfg->max_flows,
	};
	struct replay r = { .cfg = cfg };
	struct capture *cap;
	int err;

	cap = capture_open(cfg->pcap_file);
	if (!cap)
		return -EINVAL;
	err = pipeline_open(&r.p, &opts);
	if (err)
		goto out_pcap;
	err = sink_open(&r.sink, cfg);
	if (err)
		goto out_pipeline;
	/* kernel time is capture time here: no epoch offset */
	r.fc = flow_cache_new(cfg, 0, sink_records, &r.sink);
	if (!r.fc) {
		err = -ENOMEM;
		goto out_sink;
	}
	r.ring = overflow_open(pipeline_ring_fd(&r.p), r.fc, &r.ds);
	if (!r.ring) {
		err = -errno;
		pr_warn("cannot read the overflow ring: %s\n",
			strerror(-err));
		goto out_cache;
	}
	err = replay(&r, cap);
	overflow_close(r.ring);
out_cache:
	flow_cache_free(r.fc);
out_sink:
	sink_close(&r.sink);
out_pipeline:
	pipeline_close(&r.p);
out_pcap:
	capture_close(cap);
	return err;
}
