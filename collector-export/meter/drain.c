// SPDX-License-Identifier: GPL-2.0
/*
 * drain.c - what the kernel counted, into the flow cache: table operations
 * a batch at a time through the table_ops program (flowtable.h's struct
 * table_ops), the notice ring that names the table's new entries, a walk
 * of the table when notices were lost.
 *
 * Crash safety: the deltas a HARVEST or FINAL takes from the table land in
 * the op_batch map (pinned with the run) under a fresh merge mark, set in
 * the journal (the cache store's shared file mapping) before the kernel
 * call; a run that dies while merging them leaves them there, and the next
 * run merges what its entries do not already carry the mark of
 * (drain_recover). The overflow ring has its own reader (overflow.h),
 * whose batch a dead run was merging is recovered here too. A table retired at exit is pinned with the run until all
 * its entries are merged, under one mark (table_sync_take_all).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bulk_read.h"
#include "cache_store.h"
#include "drain.h"
#include "log.h"
#include "ring_view.h"

#define NS_PER_SEC 1000000000ULL

/* Merge the deltas of a batch, those that carry the mark already
 * excepted, and close it. Every delta, also one without packets: it may
 * hold the octets, bins or flags of a packet counted in another. */
static void merge_batch(struct flow_cache *fc, struct cache_journal *j,
			const struct table_op_slot *slots, __u32 count,
			struct drain_stats *ds)
{
	for (__u32 i = 0; i < count; i++) {
		const struct table_op_slot *s = &slots[i];

		if ((s->op == OP_HARVEST || s->op == OP_FINAL) &&
		    s->result == OPR_DONE) {
			flow_cache_merge_marked(fc, &s->key, &s->stats,
						j->batch_mark);
			if (ds)
				ds->entries++;
		}
	}
	__atomic_store_n(&j->batch_mark, 0, __ATOMIC_RELEASE);
}

struct table_sync {
	struct table_ops ops; /* first: what the cache calls */
	struct pipeline *p;
	struct flow_cache *fc;
	struct overflow_reader *ring;
	struct drain_stats *ds;
	struct ring_view notices;  /* the notice ring, mapped */
	struct table_op_slot *slots; /* op_batch, mapped */
	size_t slots_bytes;
	__u32 batch_id;
	bool live;            /* programs may run meanwhile: grace periods */
	__u64 lost_handled;   /* CNT_NOTICE_LOST a walk has answered */
	bool note_failed;     /* a key could not be noted: walk again */
	bool walked;
	__u64 last_walk_ns;   /* when the last walk after lost notices began */
	long kill_after;      /* tests: SIGKILL after this many harvests */
	long kill_after_close; /* tests: ... after this many CLOSE batches */
	long kill_after_bulk;  /* tests: ... after this many bulk takes */
};

static int sync_run(struct table_ops *ops, __u32 count)
{
	struct table_sync *t = (struct table_sync *)ops;
	struct cache_journal *j = flow_cache_journal(t->fc);
	bool takes = false, closes = false;
	int err;

	for (__u32 i = 0; i < count; i++) {
		t->slots[i].stats.packets = 0;
		t->slots[i].result = OPR_ABSENT;
		takes |= t->slots[i].op == OP_HARVEST || t->slots[i].op == OP_FINAL;
		closes |= t->slots[i].op == OP_CLOSE;
	}
	if (takes) {
		j->batch_map_id = t->batch_id;
		j->batch_count = count;
		j->seq++;
		__atomic_store_n(&j->batch_mark, j->seq, __ATOMIC_RELEASE);
	}
	err = pipeline_table_ops(t->p, count, NULL);
	if (err) {
		j->batch_mark = 0; /* nothing taken */
		pr_warn("cannot run table operations: %s\n", strerror(-err));
		return err;
	}
	if (takes && t->kill_after > 0 && --t->kill_after == 0)
		raise(SIGKILL); /* tests: die between harvest and merge */
	if (closes && t->kill_after_close > 0 && --t->kill_after_close == 0)
		raise(SIGKILL); /* tests: die between CLOSE and FINAL */
	if (takes)
		merge_batch(t->fc, j, t->slots, count, t->ds);
	return 0;
}

static int sync_grace(struct table_ops *ops)
{
	struct table_sync *t = (struct table_sync *)ops;
	int err;

	if (!t->live) /* replay: nothing runs between our packets */
		return 0;
	err = pipeline_grace(t->p);
	if (err)
		pr_warn("cannot wait for a grace period: %s\n", strerror(-err));
	return err;
}

static void sync_read_ring(struct table_ops *ops)
{
	struct table_sync *t = (struct table_sync *)ops;

	if (t->ring)
		overflow_consume(t->ring, 0);
}

static void on_notice(struct table_sync *t, const struct flow_notice *n)
{
	if (flow_cache_note(t->fc, &n->key, n->ts_ns, n->ts_ns, n->kind,
			    FLOW_LIVE)) {
		/* no room for the flow: a walk finds its key again */
		t->ds->note_failures++;
		t->note_failed = true;
	}
	t->ds->notices++;
}

/* The notices committed when called (what comes meanwhile waits for the
 * next call), handed back to the producers every NOTICE_RUN records
 * rather than each, and taken NOTICE_AHEAD at a time: their flows' index
 * cells are fetched together first. A notice is a hint: one read twice
 * after a crash notes a flow the cache has, one never read is a lost
 * notice, which a walk makes up for. */
#define NOTICE_RUN 4096
#define NOTICE_AHEAD 16

static void read_notices(struct table_sync *t)
{
	struct ring_view *v = &t->notices;
	__u64 pos = *v->cons, stop = ring_view_produced(v);
	const struct flow_notice *ahead[NOTICE_AHEAD];
	__u32 n = 0;

	while (pos < stop) {
		__u32 k = 0;

		while (k < NOTICE_AHEAD && pos < stop) {
			__u32 hdr = ring_record_header(v, pos);

			if (hdr & BPF_RINGBUF_BUSY_BIT) {
				stop = pos; /* reserved, not yet submitted */
				break;
			}
			ahead[k] = ring_record_data(v, pos, hdr, sizeof(*ahead[k]));
			if (ahead[k])
				flow_cache_prefetch(t->fc, &ahead[k++]->key);
			pos = ring_record_end(pos, hdr);
		}
		for (__u32 i = 0; i < k; i++)
			on_notice(t, ahead[i]);
		n += k;
		if (n >= NOTICE_RUN) {
			ring_view_consumed(v, pos);
			n = 0;
		}
	}
	ring_view_consumed(v, pos);
}

struct table_sync *table_sync_open(struct pipeline *p, struct flow_cache *fc,
				   struct overflow_reader *ring, bool live,
				   struct drain_stats *ds)
{
	struct table_sync *t = calloc(1, sizeof(*t));
	const char *kill = getenv("FLOWEXPORT_TEST_KILL_AFTER_HARVESTS");
	const char *kill_close = getenv("FLOWEXPORT_TEST_KILL_AFTER_CLOSES");
	const char *kill_bulk = getenv("FLOWEXPORT_TEST_KILL_AFTER_BULK");
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = pipeline_op_batch_fd(p), err;
	void *m;

	if (!t)
		return NULL;
	t->p = p;
	t->fc = fc;
	t->ring = ring;
	t->ds = ds;
	t->live = live;
	t->kill_after = kill ? atol(kill) : 0;
	t->kill_after_close = kill_close ? atol(kill_close) : 0;
	t->kill_after_bulk = kill_bulk ? atol(kill_bulk) : 0;
	t->ops.run = sync_run;
	t->ops.grace = sync_grace;
	t->ops.read_ring = sync_read_ring;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto fail;
	t->batch_id = info.id;
	t->slots_bytes = (size_t)TABLE_OP_BATCH * sizeof(struct table_op_slot);
	m = mmap(NULL, t->slots_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	t->slots = m;
	t->ops.slots = t->slots;
	err = ring_view_map(pipeline_notice_ring_fd(p), &t->notices);
	if (err) {
		errno = -err;
		goto fail;
	}
	flow_cache_set_table_ops(fc, &t->ops);
	return t;
fail:
	err = errno;
	table_sync_close(t);
	errno = err;
	return NULL;
}

void table_sync_close(struct table_sync *t)
{
	if (!t)
		return;
	flow_cache_set_table_ops(t->fc, NULL);
	ring_view_unmap(&t->notices);
	if (t->slots)
		munmap(t->slots, t->slots_bytes);
	free(t);
}

struct table_ops *table_sync_ops(struct table_sync *t)
{
	return &t->ops;
}

/* Every key of the table, told to the cache as found: its cost follows
 * max_entries, so only when notices were lost, and at a takeover. The
 * notice ring is read between batches, so that a walk does not make the
 * notices it misses meanwhile lost too; a bucket larger than a batch
 * doubles the batch. */
int table_sync_walk(struct table_sync *t, __u64 now)
{
	__u32 batch = 1024, in = 0, out = 0, ks = t->p->key_size;
	/* keys as the table holds them: ks bytes each (flow.h) */
	__u8 *keys = calloc(batch, ks);
	struct flow_stats *vals = calloc(batch, sizeof(*vals));
	bool first = true;
	int fd = t->p->table_fd, err = 0;

	for (;;) {
		__u32 count = batch;

		if (!keys || !vals) {
			err = -ENOMEM;
			break;
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &count, NULL);
		err = err ? -errno : 0;
		for (__u32 i = 0; i < count; i++) {
			__u64 first_ns = vals[i].first_seen_ns;
			struct flow_key key = {};

			memcpy(&key, keys + (size_t)i * ks, ks);
			if (first_ns == FLOW_FIRST_NONE || first_ns > vals[i].last_seen_ns)
				first_ns = now < vals[i].last_seen_ns ? now : vals[i].last_seen_ns;
			if (flow_cache_note(t->fc, &key, first_ns,
					    vals[i].last_seen_ns,
					    vals[i].tcp_flags & 0x05 ? NOTICE_END : NOTICE_NEW,
					    vals[i].state)) {
				t->ds->note_failures++;
				t->note_failed = true;
			}
		}
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err == -ENOSPC && count == 0 && batch < (1U << 20)) {
			/* a bucket larger than a batch: the same again */
			batch *= 2;
			free(keys);
			free(vals);
			keys = calloc(batch, ks);
			vals = calloc(batch, sizeof(*vals));
			continue;
		}
		if (err)
			break;
		in = out;
		first = false;
		read_notices(t);
	}
	t->ds->walks++;
	free(keys);
	free(vals);
	return err;
}

/* Notices, and a walk when some were lost (or a key found no room): not
 * sooner than WALK_GAP_NS after the last when limited, so that walks do
 * not follow each other while the ring they leave unread fills. */
#define WALK_GAP_NS (2ULL * NS_PER_SEC)

static int sync_notices(struct table_sync *t, __u64 now, bool limited)
{
	__u64 cnt[CNT_MAX];
	int err;

	read_notices(t);
	if (pipeline_counters(t->p, cnt) ||
	    (cnt[CNT_NOTICE_LOST] <= t->lost_handled && !t->note_failed))
		return 0;
	if (limited && t->walked && now < t->last_walk_ns + WALK_GAP_NS)
		return 0; /* later: the lost ones stay counted */
	/* lost since: walk once (a notice lost during the walk is lost
	 * after its insert, so its key is in the table when we look) */
	t->lost_handled = cnt[CNT_NOTICE_LOST];
	t->note_failed = false;
	t->walked = true;
	t->last_walk_ns = now;
	pr_info("notice ring was full: reading the flow table's keys\n");
	err = table_sync_walk(t, now);
	if (err) {
		pr_warn("cannot walk the flow table: %s\n", strerror(-err));
		t->note_failed = true; /* again next time */
	}
	return err;
}

int table_sync_notices(struct table_sync *t, __u64 now)
{
	return sync_notices(t, now, t->live);
}

int table_sync_catch_up(struct table_sync *t, __u64 now)
{
	return sync_notices(t, now, false);
}

/*
 * Bulk take at exit, when nothing but us can write the table (table_alone.h):
 * the table is retired (a fresh one takes its slot, after a grace period
 * nobody writes the old one), pinned in the run's folder first so that it
 * outlives our death, and read with bpf_map_lookup_batch: no entry is
 * changed or deleted one by one (freeing a million entries is the
 * kernel's, after we close it). Its entries are merged under one mark set
 * in the journal before the retirement; a run that dies meanwhile leaves
 * the pin and the journal, and the next one merges again what does not
 * carry the mark (drain_recover). Nothing is exported before every entry
 * is merged.
 */
struct bulk_merge {
	struct flow_cache *fc;
	struct cache_journal *j;
	struct drain_stats *ds;
};

static int merge_bulk(void *ctx, const struct flow_key *keys,
		      const struct flow_stats *vals, __u32 n)
{
	struct bulk_merge *m = ctx;

	if (m->ds)
		m->ds->entries += n;
	/* an entry not taken (the cache full): the mark and the pin stay,
	 * and the next try (or run) merges what does not carry the mark */
	return flow_cache_merge_taken_many(m->fc, keys, vals, n, m->j->bulk_mark);
}

/* Every entry of a retired table into the cache, once under the journal's
 * bulk mark (read by a thread of its own meanwhile: bulk_read.h); then
 * the mark is cleared. kill_after: tests. */
static int merge_retired(struct flow_cache *fc, struct cache_journal *j,
			 int fd, struct drain_stats *ds, long *kill_after)
{
	struct bulk_merge m = { .fc = fc, .j = j, .ds = ds };
	int err = bulk_read_table(fd, merge_bulk, &m, kill_after);

	if (!err)
		__atomic_store_n(&j->bulk_mark, 0, __ATOMIC_RELEASE);
	return err;
}

int table_sync_take_all(struct table_sync *t, const char *pin_path)
{
	struct cache_journal *j = flow_cache_journal(t->fc);
	int old = -1, err;

	if (!pin_path || !*pin_path)
		return -EINVAL; /* a death would lose the retired table */
	j->bulk_table_id = t->p->table_id;
	j->seq++;
	__atomic_store_n(&j->bulk_mark, j->seq, __ATOMIC_RELEASE);
	if (bpf_obj_pin(t->p->table_fd, pin_path)) {
		err = -errno;
		j->bulk_mark = 0;
		return err;
	}
	err = pipeline_retire_table(t->p, &old);
	if (err) {
		unlink(pin_path);
		j->bulk_mark = 0;
		return err;
	}
	/* from here on the retired table is the only way to its counts:
	 * a failed read is tried again (what was merged is not again) */
	for (int tries = 0; tries < 3; tries++) {
		err = merge_retired(t->fc, j, old, t->ds, &t->kill_after_bulk);
		if (!err)
			break;
		pr_warn("cannot read the retired flow table: %s\n", strerror(-err));
	}
	if (!err)
		unlink(pin_path);
	close(old);
	/* else the pin and the journal stay for the next run */
	return err ? -EIO : 0;
}

/* A table retired by a run that died before it merged every entry: if it
 * was retired indeed (not the table in use now), merged again except what
 * carries the mark; its pin goes with the dead run's folder. */
static int recover_bulk(struct flow_cache *fc, struct cache_journal *j,
			__u32 table_id)
{
	int fd, err;

	if (j->bulk_table_id == table_id) {
		j->bulk_mark = 0; /* died before retiring it: live entries */
		return 0;
	}
	fd = bpf_map_get_fd_by_id(j->bulk_table_id);
	if (fd < 0) {
		err = -errno;
		j->bulk_mark = 0; /* gone: nothing left to merge */
		return err;
	}
	err = merge_retired(fc, j, fd, NULL, NULL);
	close(fd);
	return err;
}

/* The batch a dead run was merging is still in its op_batch map (pinned
 * in its run folder, found by id): merge what is not merged yet. */
static int recover_batch(struct flow_cache *fc, struct cache_journal *j)
{
	size_t bytes = (size_t)TABLE_OP_BATCH * sizeof(struct table_op_slot);
	int fd = bpf_map_get_fd_by_id(j->batch_map_id);
	void *m;

	if (fd < 0) {
		j->batch_mark = 0; /* gone with its run: nothing to merge */
		return -errno;
	}
	m = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	merge_batch(fc, j, m, j->batch_count < TABLE_OP_BATCH ? j->batch_count
							     : TABLE_OP_BATCH, NULL);
	munmap(m, bytes);
	return 0;
}

int drain_recover(struct flow_cache *fc, __u32 table_id)
{
	struct cache_journal *j = flow_cache_journal(fc);
	int err = 0;

	if (j->batch_mark)
		err = recover_batch(fc, j);
	if (j->bulk_mark) {
		int e = recover_bulk(fc, j, table_id);

		err = err ? err : e;
	}
	if (j->ring_id) {
		int e = overflow_recover(fc);

		err = err ? err : e;
	}
	return err;
}
