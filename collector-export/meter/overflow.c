// SPDX-License-Identifier: GPL-2.0
/*
 * overflow.c - the overflow ring (packets whose flow found the kernel table
 * full, or its entry closing) into the flow cache, read in batches from
 * the ring's own mapping rather than an event at a time through libbpf.
 *
 * Crash safety: a batch leaves the ring (the consumer position moves past
 * it) only after every event of it is merged. Before the first merge the
 * journal names the batch: where it starts, how many records, and its
 * marks (record i under ring_mark + i). An entry remembers the mark of its
 * last merge; events are merged in ring order, so an entry whose mark lies
 * in [ring_mark + i, last mark of the batch] has had event i merged (or a
 * later one of the same flow, merged after it), and one with any other
 * mark has not. A run that died within a batch leaves it in the ring; the
 * next one merges each of its events again except where the mark says so
 * (overflow_recover). One journal entry and one consumer move a batch.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "cache_store.h"
#include "drain.h" /* struct drain_stats */
#include "log.h"
#include "overflow.h"
#include "ring_view.h"

/* Records a batch: one journal entry and one move of the consumer
 * position each; bounds the marks a batch takes. */
#define RING_BATCH 4096
#define RING_AHEAD 8    /* events whose index cells are fetched ahead */

/* Merge the record at *pos (an event unless discarded) under mark and
 * move *pos past it; -ENOMEM (the cache could take no entry): *pos stays. */
static int merge_record(const struct ring_view *v, __u64 *pos, __u32 hdr,
			struct flow_cache *fc, __u64 mark, __u64 last,
			struct drain_stats *ds)
{
	const void *ev = ring_record_data(v, *pos, hdr, sizeof(struct flow_event));

	if (ev) {
		int err = flow_cache_merge_event(fc, ev, mark, last);

		if (err)
			return err;
		if (ds)
			ds->ring_events++;
	}
	*pos = ring_record_end(*pos, hdr);
	return 0;
}

struct overflow_reader {
	struct ring_view v;
	struct flow_cache *fc;
	struct drain_stats *ds;
	int epoll_fd;
	long kill_after; /* tests: SIGKILL after this many events merged */
	bool stuck;      /* an event the cache could not take waits */
};

/* The committed records from the consumer position up to stop, at most a
 * batch of them, merged: the journal names them first, the consumer moves
 * past them last. Records merged, 0 when none is committed; -ENOMEM when
 * the cache could not take one: the consumer stops before it (those
 * before it merged), and it waits in the ring for memory, the ring
 * filling meanwhile and the programs counting what it cannot hold in the
 * totals-only counters. A crash then finds the consumer past the
 * journal's start (nothing to replay) or at it (nothing merged). */
static int merge_batch(struct overflow_reader *r, __u64 stop)
{
	struct cache_journal *j = flow_cache_journal(r->fc);
	__u64 start = *r->v.cons, pos = start, ahead = start, mark;
	__u32 n = 0;

	while (pos < stop && n < RING_BATCH) {
		__u32 hdr = ring_record_header(&r->v, pos);

		if (hdr & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not yet submitted */
		pos = ring_record_end(pos, hdr);
		n++;
	}
	if (!n)
		return 0;
	/* the journal: ring_id last, so that a death while writing it
	 * leaves no half-named batch (ring_id 0 names none) */
	__atomic_store_n(&j->ring_id, 0, __ATOMIC_RELEASE);
	mark = j->seq + 1;
	j->seq += n;
	j->ring_mark = mark;
	j->ring_count = n;
	j->ring_pos = start;
	__atomic_store_n(&j->ring_id, r->v.id, __ATOMIC_RELEASE);
	pos = start;
	for (__u32 i = 0, a = 0; i < n; i++) {
		int err;

		/* the flow of the event RING_AHEAD on: its index cell is
		 * fetched while these are merged */
		for (; a < n && a <= i + RING_AHEAD; a++) {
			__u32 hdr = ring_record_header(&r->v, ahead);
			const struct flow_event *ev = ring_record_data(&r->v, ahead, hdr,
								       sizeof(*ev));

			if (ev)
				flow_cache_prefetch(r->fc, &ev->key);
			ahead = ring_record_end(ahead, hdr);
		}
		err = merge_record(&r->v, &pos, ring_record_header(&r->v, pos),
				   r->fc, mark + i, mark + n - 1, r->ds);

		if (err) {
			ring_view_consumed(&r->v, pos);
			return err;
		}
		if (r->kill_after > 0 && --r->kill_after == 0)
			raise(SIGKILL); /* tests: die within a batch */
	}
	ring_view_consumed(&r->v, pos);
	return n;
}

struct overflow_reader *overflow_open(int ring_fd, struct flow_cache *fc,
				      struct drain_stats *ds)
{
	struct overflow_reader *r = calloc(1, sizeof(*r));
	const char *kill = getenv("FLOWEXPORT_TEST_KILL_AFTER_EVENTS");
	/* edge-triggered: woken by the programs' wakeups only, not again
	 * and again while some events wait (they wait for the timeout) */
	struct epoll_event ee = { .events = EPOLLIN | EPOLLET };
	int err;

	if (!r)
		return NULL;
	r->fc = fc;
	r->ds = ds;
	r->kill_after = kill ? atol(kill) : 0;
	r->epoll_fd = -1;
	err = ring_view_map(ring_fd, &r->v);
	if (err)
		goto fail;
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epoll_fd < 0 || epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, ring_fd, &ee)) {
		err = -errno;
		goto fail;
	}
	return r;
fail:
	overflow_close(r);
	errno = -err;
	return NULL;
}

/* What the ring holds when called, batch by batch (what arrives meanwhile
 * waits for the next call, so that a producer faster than us cannot keep
 * us here). The programs wake us only when the ring is an eighth full
 * (flowmon.bpf.c): the timeout is what reads a trickle. */
int overflow_consume(struct overflow_reader *r, int timeout_ms)
{
	struct epoll_event ee;
	__u64 stop;
	int n = 0, got;

	if (timeout_ms > 0 &&
	    epoll_wait(r->epoll_fd, &ee, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	stop = ring_view_produced(&r->v);
	while ((got = merge_batch(r, stop)) > 0)
		n += got;
	if (got < 0 && !r->stuck)
		pr_warn("the flow cache is out of memory: overflow events wait in their ring (what it cannot hold is counted in the overflow totals)\n");
	else if (got >= 0 && r->stuck)
		pr_info("the flow cache takes overflow events again\n");
	r->stuck = got < 0;
	return n;
}

void overflow_close(struct overflow_reader *r)
{
	if (!r)
		return;
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	ring_view_unmap(&r->v);
	free(r);
}

/*
 * The batch a dead run was merging is still at the ring's consumer
 * position (it had not moved past it): each of its events is merged again
 * unless its entry's mark says it was, then the consumer moves past it.
 * The rest of the ring is read the usual way.
 */
static int recover_batch(int fd, struct flow_cache *fc, struct cache_journal *j)
{
	__u32 n = j->ring_count ? j->ring_count : 1;
	struct ring_view v;
	__u64 pos, prod;
	int err = ring_view_map(fd, &v);

	if (err)
		return err;
	pos = *v.cons;
	prod = ring_view_produced(&v);
	if (pos == j->ring_pos) {
		for (__u32 i = 0; i < n && pos < prod; i++) {
			__u32 hdr = ring_record_header(&v, pos);

			if (hdr & BPF_RINGBUF_BUSY_BIT)
				break; /* cannot be: it was committed */
			/* an event a fresh run's cache cannot take is
			 * dropped: its batch cannot wait (what follows in
			 * the ring would be merged under other marks) */
			if (merge_record(&v, &pos, hdr, fc, j->ring_mark + i,
					 j->ring_mark + n - 1, NULL))
				pos = ring_record_end(pos, hdr);
		}
		ring_view_consumed(&v, pos);
	}
	ring_view_unmap(&v);
	return 0;
}

int overflow_recover(struct flow_cache *fc)
{
	struct cache_journal *j = flow_cache_journal(fc);
	int fd, err = 0;

	if (!j->ring_id)
		return 0;
	fd = bpf_map_get_fd_by_id(j->ring_id);
	if (fd >= 0) { /* else gone with its run: nothing left to merge */
		err = recover_batch(fd, fc, j);
		close(fd);
	}
	j->ring_id = 0;
	return err;
}
