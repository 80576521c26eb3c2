// SPDX-License-Identifier: GPL-2.0
/*
 * drain.c - empty a flow table into the cache with batched map calls (about
 * 6x faster than key by key), falling back to single-key calls on kernels
 * without batch support; and read the overflow ring.
 *
 * Crash safety: a batch is deleted from the kernel table by the very call
 * that copies it into the cache store's journal (a shared file mapping),
 * under a fresh merge mark; a run that dies while merging it leaves the
 * batch there, and the next run merges what its entries do not already
 * carry the mark of (drain_recover). An overflow event leaves the ring only
 * after its merge; the journal names the event being merged, so that one is
 * not merged twice either.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cache_store.h"
#include "drain.h"
#include "log.h"
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal "operation not supported" */
#endif

/* Merge the journal's pending batch, entries that carry its mark already
 * excepted, and close it. */
static void merge_batch(struct flow_cache *fc, struct cache_journal *j,
			__u32 count)
{
	for (__u32 i = 0; i < count; i++)
		if (j->batch_vals[i].packets)
			flow_cache_merge_marked(fc, &j->batch_keys[i],
						&j->batch_vals[i], j->batch_mark);
	__atomic_store_n(&j->batch_mark, 0, __ATOMIC_RELEASE);
}

/* A new batch: empty slots, a fresh mark, then the kernel fills it. */
static void open_batch(struct cache_journal *j, __u32 count)
{
	for (__u32 i = 0; i < count; i++)
		j->batch_vals[i].packets = 0;
	j->seq++;
	__atomic_store_n(&j->batch_mark, j->seq, __ATOMIC_RELEASE);
}

/* Key by key: take any key, read and delete it, again until empty. */
static int drain_one_by_one(int fd, struct flow_cache *fc,
			    struct drain_stats *ds)
{
	struct cache_journal *j = flow_cache_journal(fc);
	struct flow_key key;

	while (bpf_map_get_next_key(fd, NULL, &key) == 0) {
		open_batch(j, 1);
		j->batch_keys[0] = key;
		if (bpf_map_lookup_and_delete_elem(fd, &key, &j->batch_vals[0])) {
			/* older kernels: no lookup-and-delete on a hash */
			if (bpf_map_lookup_elem(fd, &key, &j->batch_vals[0]) ||
			    bpf_map_delete_elem(fd, &key)) {
				j->batch_mark = 0;
				return -errno;
			}
		}
		merge_batch(fc, j, 1);
		ds->entries++;
	}
	return errno == ENOENT ? 0 : -errno;
}

int drain_table(int fd, struct flow_cache *fc, struct drain_stats *ds)
{
	struct cache_journal *j = flow_cache_journal(fc);
	__u32 in_batch = 0, out_batch = 0;
	bool first = true;
	int err = 0;

	if (ds->batch_unsupported)
		return drain_one_by_one(fd, fc, ds);
	for (;;) {
		__u32 count = DRAIN_BATCH;

		open_batch(j, DRAIN_BATCH);
		err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in_batch,
						      &out_batch, j->batch_keys,
						      j->batch_vals, &count, NULL);
		err = err ? -errno : 0;
		merge_batch(fc, j, count);
		ds->entries += count;
		if (err == -ENOENT) /* walked the whole table */
			return 0;
		if (err == -ENOSPC && count == 0) {
			/* one hash bucket holds more than a batch: the rest
			 * key by key */
			return drain_one_by_one(fd, fc, ds);
		}
		if (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP) {
			pr_info("batched map reads unavailable (%s): reading key by key\n",
				strerror(-err));
			ds->batch_unsupported = true;
			return drain_one_by_one(fd, fc, ds);
		}
		if (err)
			return err;
		in_batch = out_batch;
		first = false;
	}
}

struct overflow_reader {
	struct ring_buffer *rb;
	struct flow_cache *fc;
	struct drain_stats *ds;
	__u32 ring_id;
	const __u64 *consumer_pos; /* the ring's own page: where libbpf is */
	size_t page;
};

/* The ring's consumer position is stored by libbpf after the callback
 * returns: during it, it is this event's position, and the journal names
 * the event by it. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct overflow_reader *r = ctx;
	struct cache_journal *j = flow_cache_journal(r->fc);
	__u64 pos = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);

	if (size < sizeof(struct flow_event))
		return 0;
	if (j->ring_id != r->ring_id || j->ring_pos != pos) {
		j->ring_mark = ++j->seq;
		j->ring_pos = pos;
		__atomic_store_n(&j->ring_id, r->ring_id, __ATOMIC_RELEASE);
	}
	flow_cache_merge_event(r->fc, data, j->ring_mark);
	r->ds->ring_events++;
	return 0;
}

static __u32 fd_map_id(int fd, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	if (max_entries)
		*max_entries = info.max_entries;
	return info.id;
}

struct overflow_reader *overflow_open(int ring_fd, struct flow_cache *fc,
				      struct drain_stats *ds)
{
	struct overflow_reader *r = calloc(1, sizeof(*r));
	void *cons;
	int err;

	if (!r)
		return NULL;
	r->fc = fc;
	r->ds = ds;
	r->page = sysconf(_SC_PAGESIZE);
	r->ring_id = fd_map_id(ring_fd, NULL);
	cons = mmap(NULL, r->page, PROT_READ, MAP_SHARED, ring_fd, 0);
	if (cons == MAP_FAILED)
		goto fail;
	r->consumer_pos = cons;
	r->rb = ring_buffer__new(ring_fd, on_event, r, NULL);
	if (!r->rb)
		goto fail;
	return r;
fail:
	err = errno;
	overflow_close(r);
	errno = err;
	return NULL;
}

int overflow_consume(struct overflow_reader *r, int timeout_ms)
{
	int n = timeout_ms > 0 ? ring_buffer__poll(r->rb, timeout_ms)
			       : ring_buffer__consume(r->rb);

	if (n == -EINTR)
		return 0;
	if (n > 0 && timeout_ms > 0) { /* poll stops after one wakeup */
		int more = ring_buffer__consume(r->rb);

		if (more > 0)
			n += more;
	}
	return n;
}

void overflow_close(struct overflow_reader *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	if (r->consumer_pos)
		munmap((void *)r->consumer_pos, r->page);
	free(r);
}

/*
 * The event a dead run was merging is still at the ring's consumer
 * position (libbpf had not moved past it): merge it under the journal's
 * mark (nothing if it was merged already) and move past it ourselves.
 */
static int recover_ring_event(int fd, struct flow_cache *fc,
			      struct cache_journal *j)
{
	size_t page = sysconf(_SC_PAGESIZE);
	__u32 size = 0, len;
	__u64 *cons, *prod;
	int err = 0;

	fd_map_id(fd, &size);
	cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, page + 2 * (size_t)size, PROT_READ, MAP_SHARED, fd, page);
	if (prod == MAP_FAILED) {
		err = -errno;
		goto out_cons;
	}
	if (*cons == j->ring_pos && *prod > *cons) {
		const unsigned char *hdr = (const unsigned char *)prod + page +
					   (*cons & (size - 1));

		len = __atomic_load_n((const __u32 *)hdr, __ATOMIC_ACQUIRE);
		if (!(len & BPF_RINGBUF_BUSY_BIT)) {
			if (!(len & BPF_RINGBUF_DISCARD_BIT) &&
			    len >= sizeof(struct flow_event))
				flow_cache_merge_event(fc, (const void *)(hdr + BPF_RINGBUF_HDR_SZ),
						       j->ring_mark);
			len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			__atomic_store_n(cons, *cons + ((len + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL),
					 __ATOMIC_RELEASE);
		}
	}
	munmap(prod, page + 2 * (size_t)size);
out_cons:
	munmap(cons, page);
	return err;
}

int drain_recover(struct flow_cache *fc)
{
	struct cache_journal *j = flow_cache_journal(fc);
	int err = 0;

	if (j->batch_mark)
		merge_batch(fc, j, DRAIN_BATCH);
	if (j->ring_id) {
		int fd = bpf_map_get_fd_by_id(j->ring_id);

		if (fd >= 0) {
			err = recover_ring_event(fd, fc, j);
			close(fd);
		}
		j->ring_id = 0;
	}
	return err;
}
