// SPDX-License-Identifier: GPL-2.0
/*
 * live.c - metering real interfaces: load, pin, attach, then read the
 * notices and the overflow ring every poll and once a second check the
 * flows that are due (flowtable.h), print and export; a counters line
 * every --stats-interval and at exit.
 * SIGINT/SIGTERM (and SIGPIPE): detach first, end every flow with
 * flowEndReason "forced end" (kernel entries closed and deleted), unpin,
 * exit 0. SIGHUP reloads the configuration (reload.h), SIGUSR1 asks for a
 * counters line; interfaces that go away and come back: iface_watch.h.
 * A run that died (SIGKILL, a crash) leaves its programs attached and
 * metering into pinned tables; the next run takes them over (instance.h).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "books.h"
#include "dpi.h"
#include "drain.h"
#include "flowtable.h"
#include "iface_watch.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "modes.h"
#include "privileges.h"
#include "reload.h"
#include "signals.h"
#include "sink.h"
#include "table_alone.h"
#include <bpf/bpf.h>

#define NS_PER_SEC 1000000000ULL
/* The loop wakes this often to read the notices and the overflow ring and
 * to notice a signal; flows are checked every second. */
#define POLL_MS 100

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/*
 * Kernel time is CLOCK_MONOTONIC, which neither steps nor counts a suspend;
 * records carry epoch time. The offset is taken again at every check, so
 * that records made after an NTP step or a resume carry the real clock's
 * time (both ends of a record are converted with one offset). Real time is
 * read between two monotonic reads and set against their midpoint.
 */
static __s64 epoch_offset_ns(void)
{
	__u64 mono0 = clock_ns(CLOCK_MONOTONIC);
	__u64 real = clock_ns(CLOCK_REALTIME);
	__u64 mono1 = clock_ns(CLOCK_MONOTONIC);

	return (__s64)(real - (mono0 + (mono1 - mono0) / 2));
}

struct meter {
	const struct config *cfg;
	struct instance inst; /* our pins; dir "" in -t mode (nothing pinned) */
	struct pipeline p;
	struct sink sink;
	struct flow_cache *fc;
	struct overflow_reader *ring;
	struct table_sync *table;
	struct dpi_reader *dpi; /* -D: payload snapshots, NULL without */
	struct drain_stats ds;
	struct books books;
	struct metrics *metrics; /* --metrics, else NULL */
	struct reload reload; /* SIGHUP; owns the configuration cfg points to */
	struct iface_watch watch;
};

/* What the kernel told since the last poll: new flows, TCP ends, packets
 * through the ring. */
static int read_kernel(struct meter *m, int timeout_ms)
{
	int err = overflow_consume(m->ring, timeout_ms);

	if (err < 0) {
		pr_warn("cannot read the overflow ring: %s\n", strerror(-err));
		return err;
	}
	dpi_reader_consume(m->dpi); /* -D: keeps the DPI ring from filling */
	return table_sync_notices(m->table, clock_ns(CLOCK_MONOTONIC));
}

/* Records leave the flow cache: the DPI snapshots of their last packets
 * (taken before the grace period that preceded their FINAL) are parsed
 * first, so that the results ride with them. */
static void meter_records(void *ctx, const struct flow_record *recs, size_t n)
{
	struct meter *m = ctx;

	dpi_reader_consume(m->dpi);
	sink_records(&m->sink, recs, n);
}

/* Our export connections may come and go (TCP reconnects): keep the
 * meter's list of them current, so their packets are not metered. */
static void keep_out_own_export(struct meter *m)
{
	struct self_conn_key keys[MAX_SELF_CONNS];
	int n = sink_self_conns(&m->sink, keys, MAX_SELF_CONNS);
	int err = pipeline_set_self_conns(&m->p, keys, n);

	if (err)
		pr_warn("cannot tell the meter about our export sockets: %s\n",
			strerror(-err));
	else
		sink_self_conns_entered(&m->sink);
}

/* Once a check: exporters' timers, our export sockets, the overflow
 * warning; and a counters line when one is due and wanted, or asked for
 * (SIGUSR1). */
static void report(struct meter *m, bool counters_due, bool asked)
{
	struct counters_report c;
	struct metering_stats ms = {};
	double now_s = clock_ns(CLOCK_MONOTONIC) / 1e9;

	if (books_collect(&m->books, &m->p, m->fc, now_s, &c))
		return;
	sink_export_totals(&m->sink, &c);
	books_metering(&c, &ms);
	sink_tick(&m->sink, time(NULL), &ms);
	keep_out_own_export(m);
	metrics_publish(m->metrics, &c, &m->sink);
	if ((counters_due && config_counters_wanted(m->cfg)) || asked) {
		output_counters(m->sink.out, &c);
		books_mark(&m->books, c.seen, now_s);
	}
	books_overflow_report(&m->books, &c);
}

/* Where links are pinned: the instance folder (none in -t mode). */
static const char *link_dir(const struct meter *m)
{
	return m->inst.dir[0] ? m->inst.dir : NULL;
}

static void reload(struct meter *m)
{
	struct reload_target t = {
		.p = &m->p, .link_dir = link_dir(m), .sink = &m->sink,
		.watch = &m->watch,
	};

	if (reload_apply(&m->reload, &t) == 0)
		flow_cache_refile_all(m->fc); /* the timeouts may have changed */
}

static int attach_all(struct meter *m)
{
	for (int i = 0; i < m->cfg->n_ifaces; i++) {
		struct pipeline_attach_opts o =
			pipeline_attach_opts_of(m->cfg, i, link_dir(m));
		int err = pipeline_attach(&m->p, m->cfg->ifnames[i], &o);

		if (err) /* pipeline_attach said why */
			return err;
	}
	return 0;
}

/* The next tick of a period, skipping the ticks missed while busy. */
static __u64 next_tick(__u64 tick, __u64 now, unsigned int period_s)
{
	tick += period_s * NS_PER_SEC;
	return tick > now ? tick : now + period_s * NS_PER_SEC;
}

static int drain_stale_ring(struct meter *m, const char *run_dir)
{
	struct overflow_reader *r;
	char path[640];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", run_dir, RUN_PIN_RING);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = overflow_open(fd, m->fc, &m->ds);
	n = r ? overflow_consume(r, 0) : -errno;
	overflow_close(r);
	close(fd);
	return n < 0 ? n : 0;
}

/* Everything a dead run left in its folder goes into our cache, then the
 * folder goes. A failure leaves the folder for the next run: an event
 * leaves the ring once merged, so draining again never counts twice. */
static int drain_stale_run(const char *run_dir, void *ctx)
{
	struct meter *m = ctx;
	__u64 entries = m->ds.entries, events = m->ds.ring_events;
	int err;

	err = drain_stale_ring(m, run_dir);
	if (err) {
		pr_warn("cannot drain what a previous run left in '%s': %s\n",
			run_dir, strerror(-err));
		return 0; /* the others may still drain */
	}
	pr_info("drained what a previous run left in '%s': %llu flow deltas, %llu overflow events\n",
		run_dir, m->ds.entries - entries, m->ds.ring_events - events);
	err = instance_remove_dir(run_dir);
	if (err)
		pr_warn("cannot remove '%s': %s\n", run_dir, strerror(-err));
	return 0;
}

/*
 * Our links now run our programs; a previous run's programs may still be
 * finishing a packet: a grace period waits for them. Then the rings of
 * runs that died are no longer written and drain directly, and one walk of
 * a table we continue tells us the keys their notices named.
 */
static int take_over_stale(struct meter *m, bool continued)
{
	__u64 walks = m->ds.walks;
	int err;

	instance_drop_foreign_links(&m->inst, &m->p);
	err = pipeline_grace(&m->p);
	if (!err)
		err = instance_for_each_stale_run(&m->inst, drain_stale_run, m);
	if (!err && continued && m->ds.walks == walks)
		err = table_sync_walk(m->table, clock_ns(CLOCK_MONOTONIC));
	if (!err && m->ds.walks > walks)
		pr_info("continuing %zu flows of the flow table\n",
			flow_cache_count(m->fc));
	return err;
}

static int meter_loop(struct meter *m)
{
	const struct config *cfg = m->cfg;
	__u64 now = clock_ns(CLOCK_MONOTONIC);
	__u64 next_check = now + NS_PER_SEC;
	__u64 next_stats = now + cfg->stats_interval * NS_PER_SEC;
	int err;

	books_mark(&m->books, 0, now / 1e9); /* pps of the first line */
	while (!signals_stop_requested()) {
		bool stats_due;

		err = read_kernel(m, POLL_MS);
		if (err < 0)
			return err;
		if (signals_take_reload())
			reload(m);
		/* an exporter thread reconnected: keep it out at once */
		if (sink_self_conns_changed(&m->sink))
			keep_out_own_export(m);
		now = clock_ns(CLOCK_MONOTONIC);
		if (now < next_check)
			continue;
		/* -O names follow the clock: a new period, a new file */
		output_rotate(m->sink.out, time(NULL));
		flow_cache_set_epoch_offset(m->fc, epoch_offset_ns());
		flow_cache_expire(m->fc, now);
		now = clock_ns(CLOCK_MONOTONIC);
		next_check = now + NS_PER_SEC;
		stats_due = cfg->stats_interval && now >= next_stats;
		report(m, stats_due, signals_take_counters());
		iface_watch_tick(&m->watch, &m->p, cfg, link_dir(m));
		if (stats_due)
			next_stats = next_tick(next_stats, now, cfg->stats_interval);
	}
	return 0;
}

/* "eth0,eth1": messages name the interfaces they are about */
static const char *iface_list(const struct config *cfg, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < cfg->n_ifaces && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? "," : "",
				 cfg->ifnames[i]);
	return buf;
}

/*
 * Stop metering first (detach); a grace period lets packets in flight
 * finish; then the notices they left, and every flow ends: its entry is
 * closed, deleted after a grace period and exported. With -M the other
 * instance's flows that we know (a walk) end too; it meters on.
 */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int final_drain(struct meter *m)
{
	char ifaces[MAX_IFACES * 17];
	__u64 t0 = clock_ns(CLOCK_MONOTONIC), t1, tb, t2;
	const struct flow_cache_totals *t;
	bool alone, taken = false;
	char how[64];
	double cpu, cpu_bulk;
	size_t flows;
	int err;

	/* a program of ours still attached could write the table: then it
	 * is not read in bulk */
	alone = !pipeline_detach_all(&m->p) && pipeline_table_alone(&m->p);
	err = pipeline_grace(&m->p);
	if (!err)
		err = read_kernel(m, 0);
	t1 = clock_ns(CLOCK_MONOTONIC);
	cpu = cpu_s();
	/* nothing else writes the table: every entry at once, no CLOSE, no
	 * grace period per chunk; else (a -M peer) each ended the usual way */
	if (!err && alone && m->inst.run_dir[0]) {
		char pin[sizeof(m->inst.run_dir) + 16];
		int e;

		snprintf(pin, sizeof(pin), "%s/retired_table", m->inst.run_dir);
		e = table_sync_take_all(m->table, pin);
		taken = e == 0;
		if (e == -EIO) {
			/* retired, not all merged: nothing may leave now */
			pr_warn("at exit: the flows stay for the next run (its folder and the retired table are kept)\n");
			instance_keep_run(&m->inst);
			sink_finish(&m->sink);
			report(m, true, false);
			return e;
		}
	}
	if (!err && !taken) /* a walk owed: every key before the flush */
		err = table_sync_catch_up(m->table, clock_ns(CLOCK_MONOTONIC));
	tb = clock_ns(CLOCK_MONOTONIC);
	cpu_bulk = cpu_s();
	flows = flow_cache_count(m->fc);
	sink_draining(&m->sink); /* nothing meters: the flush may wait */
	flow_cache_set_epoch_offset(m->fc, epoch_offset_ns());
	flow_cache_flush(m->fc, END_FORCED);
	t2 = clock_ns(CLOCK_MONOTONIC);
	if (taken)
		snprintf(how, sizeof(how), "the table read in bulk in %llu ms, %.0f ms CPU",
			 (tb - t1) / 1000000, (cpu_bulk - cpu) * 1000);
	else
		snprintf(how, sizeof(how), "entries closed one by one");
	pr_info("at exit (%s): detached in %llu ms; %zu flows ended (%s) and handed to the outputs in %llu ms (%.0f ms CPU)\n",
		 iface_list(m->cfg, ifaces, sizeof(ifaces)), (t1 - t0) / 1000000, flows,
		 how, (t2 - t1) / 1000000, (cpu_s() - cpu) * 1000);
	t = flow_cache_totals(m->fc);
	pr_debug("flows checked when due %llu, kernel entries peeked %llu, harvested %llu, deleted %llu, reopened %llu; notices %llu, table walks %llu\n",
		 t->checks, t->peeks, t->harvests, t->finals, t->reopens, m->ds.notices,
		 m->ds.walks);
	sink_finish(&m->sink); /* the counters line then shows what was sent */
	report(m, true, false);
	return err;
}

/* -t N: the seed's test mode. Attach N seconds, print the packet counts. */
static int test_run(struct meter *m)
{
	__u64 cnt[CNT_MAX];
	int err;

	for (int left = m->cfg->test_seconds;
	     left > 0 && !signals_stop_requested(); left--)
		sleep(1);
	pipeline_detach_all(&m->p);
	err = pipeline_counters(&m->p, cnt);
	if (err)
		return err;
	if (m->cfg->json)
		printf("{\"seconds\":%d,\"packets\":%llu,\"notSampled\":%llu,\"flowed\":%llu,\"notParsed\":%llu,\"malformed\":%llu}\n",
		       m->cfg->test_seconds, cnt[CNT_SEEN], cnt[CNT_NOT_SAMPLED],
		       cnt[CNT_FLOWED], cnt[CNT_NOT_PARSED], cnt[CNT_MALFORMED]);
	else
		printf("packets: %llu in %d s (not sampled %llu, flowed %llu, not parsed %llu, malformed %llu)\n",
		       cnt[CNT_SEEN], m->cfg->test_seconds, cnt[CNT_NOT_SAMPLED],
		       cnt[CNT_FLOWED], cnt[CNT_NOT_PARSED], cnt[CNT_MALFORMED]);
	return 0;
}

/*
 * The flow cache, in a file of the instance when metering for real: the
 * flows a killed run had read but not exported are adopted from it, and
 * what it was merging when it died is merged now, once.
 */
static int open_cache(struct meter *m)
{
	char path[128], ifaces[MAX_IFACES * 17];
	int err = 0;

	if (!m->inst.dir[0]) {
		m->fc = flow_cache_new(m->cfg, epoch_offset_ns(), meter_records,
				       m);
		return m->fc ? 0 : -ENOMEM;
	}
	iface_list(m->cfg, ifaces, sizeof(ifaces));
	err = instance_cache_path(&m->inst, path, sizeof(path));
	if (err) {
		pr_warn("cannot make the flow cache's folder for %s: %s\n", ifaces,
			strerror(-err));
		return err;
	}
	if (!instance_cache_in_memory(path))
		pr_info("the flow cache of %s (%s) is not in memory (not a tmpfs): every flow's slot is also written to disk; point RUNTIME_DIRECTORY at a tmpfs (systemd's RuntimeDirectory= under /run on most hosts) to save that\n",
			ifaces, path);
	m->fc = flow_cache_open(m->cfg, epoch_offset_ns(), meter_records, m,
				path);
	if (!m->fc) {
		err = -errno;
		pr_warn("cannot open the flow cache file '%s': %s\n", path,
			strerror(-err));
		return err;
	}
	instance_cache_label(&m->inst, path);
	instance_report_left_caches(&m->inst, path, ifaces);
	err = drain_recover(m->fc, m->p.table_id);
	if (err)
		pr_warn("cannot finish what a previous run was merging: %s\n",
			strerror(-err));
	if (flow_cache_count(m->fc))
		pr_info("continuing %zu flows a previous run held\n",
			flow_cache_count(m->fc));
	return 0;
}

/*
 * The TC programs this run may attach, and only those are loaded (each
 * instance costs its verification at start): egress, and ingress where an
 * interface is metered at TC or may fall back to it (-m auto: native XDP
 * is tried for real and TC taken where the driver refuses; libbpf 1.1
 * cannot ask the driver, and a probe attach would reset some NICs twice).
 */
static unsigned int tc_dirs_needed(const struct config *cfg)
{
	unsigned int dirs = 0;

	if (cfg->direction & METER_EGRESS)
		dirs |= 1U << FLOW_DIR_EGRESS;
	for (int i = 0; i < cfg->n_ifaces; i++)
		if ((cfg->direction & METER_INGRESS) &&
		    (cfg->modes[i] == INGRESS_TC || cfg->modes[i] == INGRESS_AUTO))
			dirs |= 1U << FLOW_DIR_INGRESS;
	return dirs;
}

/* -M: our folder goes beside the table we continue; else in -F. */
static int claim_instance(struct meter *m)
{
	const struct config *cfg = m->cfg;
	char dir[512];

	snprintf(dir, sizeof(dir), "%s", cfg->map_path ? cfg->map_path : "");
	return instance_claim(&m->inst, cfg->map_path ? dirname(dir) : cfg->pin_dir,
			      cfg->ifnames[0]);
}

int run_live(const struct config *cfg_started)
{
	struct meter m = { .inst.lock = LOCKFILE_INIT };
	const struct config *cfg = reload_init(&m.reload, cfg_started);
	struct pipeline_opts opts = {
		.share = cfg->share,
		.slot_mask = cfg->slot_mask,
		.dpi_mask = cfg->dpi_mask,
		.decap = cfg->decap,
		.max_flows = cfg->kernel_flows,
		.reuse_path = cfg->map_path,
		.sample_rate = cfg->sample_rate,
	};
	bool test_mode = cfg->test_seconds > 0;
	bool started = false;
	char orphan[512], ifaces[MAX_IFACES * 17];
	int err;

	m.cfg = cfg;
	err = signals_install();
	if (err)
		goto out_instance;
	opts.tc_dirs = tc_dirs_needed(cfg);
	if (!test_mode) {
		/* a table pinned by a run that died: continue it */
		snprintf(orphan, sizeof(orphan), "%s/%s", cfg->pin_dir,
			 FLOW_TABLE_PIN_NAME);
		if (!cfg->map_path && pipeline_pin_orphaned(orphan) == 1)
			opts.reuse_path = orphan;
		opts.lock = true;
	}
	err = pipeline_open(&m.p, &opts);
	if (err)
		goto out_instance;
	if (!cfg->map_path && !test_mode) {
		err = pipeline_pin(&m.p, cfg->pin_dir);
		if (err)
			goto out_pipeline;
	}
	if (!test_mode) {
		err = claim_instance(&m);
		if (!err)
			err = instance_pin_run(&m.inst, &m.p);
		if (err)
			goto out_pipeline;
	}
	err = sink_open(&m.sink, cfg);
	if (err)
		goto out_pipeline;
	m.metrics = metrics_start(cfg); /* binds before --user drops root */
	if (cfg->metrics && !m.metrics) {
		err = -errno;
		goto out_sink;
	}
	err = open_cache(&m);
	if (err)
		goto out_sink;
	m.ring = overflow_open(pipeline_ring_fd(&m.p), m.fc, &m.ds);
	if (!m.ring) {
		err = -errno;
		pr_warn("cannot read the overflow ring: %s\n",
			strerror(-err));
		goto out_cache;
	}
	m.table = table_sync_open(&m.p, m.fc, m.ring, true, &m.ds);
	if (!m.table) {
		err = -errno;
		pr_warn("cannot reach the flow table: %s\n", strerror(-err));
		goto out_ring;
	}
	if (cfg->dpi) {
		m.dpi = dpi_reader_open(pipeline_dpi_ring_fd(&m.p), cfg->max_flows);
		if (!m.dpi) {
			err = -errno;
			pr_warn("cannot read the DPI ring: %s\n", strerror(-err));
			goto out_table;
		}
		m.sink.dpi = dpi_reader_table(m.dpi);
	}
	/* before attaching: the ACKs of a connection made in sink_open must
	 * not reach the meter in the moment between attach and the first
	 * update (and from now on a new connection waits for the meter) */
	keep_out_own_export(&m);
	err = attach_all(&m);
	if (err)
		goto out_table;
	started = true;
	keep_out_own_export(&m); /* connections made while attaching */
	if (test_mode) {
		err = test_run(&m);
		goto out_table;
	}
	err = take_over_stale(&m, opts.reuse_path != NULL);
	if (err)
		pr_warn("taking over from a previous run: %s; stopping (detaching, exporting what is held)\n",
			strerror(-err));
	if (!err)
		err = privileges_drop(cfg); /* --user: after the last start-up step */
	pr_info("metering %s; flows expire after %u s idle, reported every %u s while active\n",
		iface_list(cfg, ifaces, sizeof(ifaces)), cfg->idle_timeout,
		cfg->active_timeout);
	/* -i 0: print what there is once and exit */
	err = !err && cfg->interval ? meter_loop(&m) : err;
	if (final_drain(&m) && !err)
		err = -EIO;
out_table:
	m.sink.dpi = NULL;
	dpi_reader_close(m.dpi);
	table_sync_close(m.table);
out_ring:
	overflow_close(m.ring);
out_cache:
	flow_cache_free(m.fc);
out_sink:
	metrics_stop(m.metrics);
	sink_close(&m.sink);
out_pipeline:
	/* a start that failed leaves a previous run as it was */
	if (!started)
		pipeline_give_back_all(&m.p);
	pipeline_close(&m.p); /* detaches (if still attached) and unpins */
out_instance:
	instance_release(&m.inst);
	reload_free(&m.reload);
	return err;
}
