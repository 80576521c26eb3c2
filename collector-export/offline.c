// SPDX-License-Identifier: GPL-2.0
/*
 * offline.c - -r FILE: every frame goes through the same BPF programs with
 * BPF_PROG_TEST_RUN, its capture time and its length on the wire handed in
 * as struct pkt_meta, so flows start, end and time out in capture time and
 * a frame the capture cut (snaplen) is metered as the packet it was. Runs
 * are synchronous: no program writes while we read, so no grace period is
 * needed between closing and deleting an entry, and the same file always
 * gives the same records.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include "books.h"
#include "capture.h"
#include "drain.h"
#include "flowtable.h"
#include "loader.h"
#include "dpi.h"
#include "log.h"
#include "modes.h"
#include "sink.h"

#define NS_PER_SEC 1000000000ULL
/* Read the rings at least this often: the overflow ring (4 MiB, 88-byte
 * events) must never fill between two reads when the table is full, nor
 * the notice ring (72 bytes a notice). */
#define OFFLINE_DRAIN_PACKETS 16384
/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header. */
#define MIN_FRAME 14
/*
 * What BPF_PROG_TEST_RUN shows a plain XDP program of a larger frame: its
 * linear part, 4096 - 256 headroom - 320 shared info on x86-64; the rest
 * would go to fragments the program cannot read. Larger frames (jumbo,
 * GRO/TSO super-packets) are handed in cut here like a snaplen cut, their
 * wire length in pkt_meta. Were a kernel's linear part smaller, the frame
 * is still metered right: the program compares what it sees with the wire
 * length, whatever the cut.
 */
#define LINEAR_MAX 3520

struct replay {
	const struct config *cfg;
	struct pipeline p;
	struct sink sink;
	struct flow_cache *fc;
	struct overflow_reader *ring;
	struct table_sync *table;
	struct dpi_reader *dpi; /* -D: payload snapshots, NULL without */
	struct drain_stats ds;
	struct books books;
};

/* What the kernel told since: the notices, the overflow ring. */
static int drain(struct replay *r, __u64 now)
{
	int err = overflow_consume(r->ring, 0);

	if (err < 0) {
		pr_warn("cannot read the overflow ring: %s\n", strerror(-err));
		return err;
	}
	return table_sync_notices(r->table, now);
}

static void print_counters(struct replay *r, __u64 now_ns)
{
	struct counters_report c;

	if (books_collect(&r->books, &r->p, r->fc, now_ns / 1e9, &c))
		return;
	sink_export_totals(&r->sink, &c);
	if (config_counters_wanted(r->cfg))
		output_counters(r->sink.out, &c);
	books_overflow_report(&r->books, &c);
}

/* One frame through the programs: cut to the linear part, its capture
 * time and wire length beside it. A runt is counted here. */
static int meter_frame(struct replay *r, int prog_fd,
		       const struct capture_frame *f)
{
	struct pkt_meta meta = { .ts_ns = f->ts_ns, .magic = PKT_META_MAGIC,
				 .wire_len = f->wire_len };
	__u32 ret;
	int err;

	if (f->len < MIN_FRAME) {
		r->books.malformed_here++;
		return 0;
	}
	err = pipeline_run_packet(prog_fd, f->data,
				  f->len < LINEAR_MAX ? f->len : LINEAR_MAX,
				  &meta, 1, &ret, NULL);
	if (err)
		pr_warn("BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
	return err;
}

/*
 * The capture's clock is the latest time seen so far: timestamps may go
 * back (merged captures, clock steps), and expiry must not follow them.
 */
static int replay(struct replay *r, struct capture *cap)
{
	const struct config *cfg = r->cfg;
	int prog_fd = pipeline_start_fd(&r->p);
	__u64 now = 0, next_expiry = 0, next_dump = 0, since_drain = 0;
	struct capture_frame f;
	time_t last_tick = 0;
	bool started = false;
	int rc, err;

	while ((rc = capture_next(cap, &f)) == 1) {
		if (!started || f.ts_ns > now)
			now = f.ts_ns;
		if (!started) {
			started = true;
			next_expiry = now + NS_PER_SEC;
			next_dump = now;
		}
		if (cfg->output_dir && now >= next_dump) {
			output_rotate(r->sink.out, now / NS_PER_SEC);
			next_dump = now + (cfg->interval ?: 86400ULL * 365) * NS_PER_SEC;
		}
		err = meter_frame(r, prog_fd, &f);
		if (err)
			return err;
		dpi_reader_consume(r->dpi); /* cheap, and the ring never fills */
		if (++since_drain >= OFFLINE_DRAIN_PACKETS || now >= next_expiry) {
			err = drain(r, now);
			if (err)
				return err;
			since_drain = 0;
		}
		/* the live loop expires once a second: so does replay, in
		 * capture time */
		if (now >= next_expiry) {
			flow_cache_expire(r->fc, now);
			next_expiry = now + NS_PER_SEC;
		}
		if (r->sink.n_ex && time(NULL) != last_tick) {
			struct counters_report c;
			struct metering_stats ms = {};

			last_tick = time(NULL);
			if (!books_collect(&r->books, &r->p, r->fc, now / 1e9, &c))
				books_metering(&c, &ms);
			sink_tick(&r->sink, last_tick, &ms);
		}
	}
	/* end of capture: what is due expires as usual, the rest is forced */
	err = drain(r, now);
	if (!err && started)
		flow_cache_expire(r->fc, now);
	flow_cache_flush(r->fc, END_FORCED);
	sink_finish(&r->sink); /* the counters line then shows what was sent */
	print_counters(r, now);
	return err ? err : rc;
}

int run_offline(const struct config *cfg)
{
	struct pipeline_opts opts = {
		.share = cfg->share,
		.slot_mask = cfg->slot_mask,
		.dpi_mask = cfg->dpi_mask,
		.decap = cfg->decap,
		.max_flows = cfg->kernel_flows,
		.sample_rate = cfg->sample_rate,
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
	r.table = table_sync_open(&r.p, r.fc, r.ring, false, &r.ds);
	if (!r.table) {
		err = -errno;
		pr_warn("cannot reach the flow table: %s\n", strerror(-err));
		goto out_ring;
	}
	if (cfg->dpi) {
		r.dpi = dpi_reader_open(pipeline_dpi_ring_fd(&r.p), cfg->max_flows);
		if (!r.dpi) {
			err = -errno;
			pr_warn("cannot read the DPI ring: %s\n", strerror(-err));
			table_sync_close(r.table);
			goto out_ring;
		}
		r.sink.dpi = dpi_reader_table(r.dpi);
	}
	err = replay(&r, cap);
	r.sink.dpi = NULL;
	dpi_reader_close(r.dpi);
	table_sync_close(r.table);
out_ring:
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
