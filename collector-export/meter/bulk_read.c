// SPDX-License-Identifier: GPL-2.0
/*
 * bulk_read.c - a retired flow table read in parts, each by a thread of
 * its own into two buffers in turn, while the caller's thread merges the
 * batches as they come: the kernel's walk and copy (about 0.4 us an entry
 * here, a cache miss or two each) runs on every CPU there is instead of
 * one, and overlaps the merge.
 *
 * Where the parts meet: part i starts its walk at batch token start_i
 * (bpf_map_lookup_batch's token is the hash bucket to go on from) and goes
 * on until it meets the first key part i + 1 read, which it leaves out, or
 * the table's end. It looks for that key in each batch once the key is
 * known, and waits for it once its token passed where part i + 1 began;
 * if the token meant anything else, a part might read on to the end and
 * merge twice what the next one read: the bulk
 * mark makes a second merge of an entry a no-op (drain.c), so the result
 * stays exact whatever the token is, only slower. A part that finds
 * nothing (or cannot start) leaves the one before it reading to the end.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bulk_read.h"

#define BULK_ENTRIES 32768 /* a batch; two per part: about 20 MB */
#define BULK_PARTS_MAX 4
#define BULK_PART_MIN (4 * BULK_ENTRIES) /* smaller tables: one part */

struct bulk_buf {
	__u8 *raw;                 /* keys as the table holds them */
	struct flow_key *keys;     /* the same, zero-padded */
	struct flow_stats *vals;
	__u32 count;
	int err;                   /* 0, -ENOENT (its part's last), -errno */
	sem_t empty;
};

enum first_key { FIRST_UNKNOWN, FIRST_KEY, FIRST_NONE };

struct bulk_part {
	struct bulk_read *r;
	__u32 start;               /* its first batch token */
	struct bulk_part *next;    /* NULL: the last part */
	enum first_key first;      /* under r->lock */
	__u8 first_key[sizeof(struct flow_key)];
	struct bulk_buf buf[2];
	pthread_t thread;
	bool running;
};

struct bulk_read {
	int fd;
	__u32 ks;
	pthread_mutex_t lock;
	pthread_cond_t changed;    /* a buffer full, a first key known */
	struct bulk_buf *full[2 * BULK_PARTS_MAX];
	unsigned full_head, full_n;
	struct bulk_part part[BULK_PARTS_MAX];
	int parts;
};

/* Our signal handlers do not restart calls (signals.h): a SIGHUP or a
 * second SIGTERM during the read must not let a wait fall through. */
static void take(sem_t *s)
{
	while (sem_wait(s) && errno == EINTR)
		;
}

static void publish_first(struct bulk_part *p, const struct bulk_buf *b)
{
	struct bulk_read *r = p->r;

	pthread_mutex_lock(&r->lock);
	if (b->count && (!b->err || b->err == -ENOENT)) {
		memcpy(p->first_key, b->raw, r->ks);
		p->first = FIRST_KEY;
	} else {
		p->first = FIRST_NONE;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* The next part's first key, waiting for it when wait; NULL when there is
 * none (yet). */
static const __u8 *next_first(struct bulk_part *p, bool wait)
{
	struct bulk_read *r = p->r;
	enum first_key f;

	pthread_mutex_lock(&r->lock);
	while (wait && p->next->first == FIRST_UNKNOWN)
		pthread_cond_wait(&r->changed, &r->lock);
	f = p->next->first;
	pthread_mutex_unlock(&r->lock);
	return f == FIRST_KEY ? p->next->first_key : NULL;
}

/* Where in the batch the next part began (count when not in it). */
static __u32 next_part_at(const struct bulk_read *r, const struct bulk_buf *b,
			  const __u8 *key)
{
	for (__u32 k = 0; k < b->count; k++)
		if (!memcmp(b->raw + (size_t)k * r->ks, key, r->ks))
			return k;
	return b->count;
}

static void hand_over(struct bulk_read *r, struct bulk_buf *b)
{
	pthread_mutex_lock(&r->lock);
	r->full[(r->full_head + r->full_n++) % (2 * BULK_PARTS_MAX)] = b;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static void *part_main(void *arg)
{
	struct bulk_part *p = arg;
	struct bulk_read *r = p->r;
	__u32 in = p->start, out = 0;
	bool first = true;

	for (int i = 0;; i ^= 1) {
		struct bulk_buf *b = &p->buf[i];
		__u32 count = BULK_ENTRIES;
		int err;

		take(&b->empty);
		err = bpf_map_lookup_batch(r->fd, first && !in ? NULL : &in, &out,
					   b->raw, b->vals, &count, NULL);
		err = err ? -errno : 0;
		b->count = err && err != -ENOENT ? 0 : count;
		/* a later part that cannot start is one that found
		 * nothing: the part before reads on through it */
		if (first && p != r->part && err && err != -ENOENT)
			err = -ENOENT;
		b->err = err;
		if (first)
			publish_first(p, b);
		if (p->next && (!err || err == -ENOENT)) {
			const __u8 *key = next_first(p, err || out >= p->next->start);
			__u32 at = key ? next_part_at(r, b, key) : b->count;

			if (at < b->count) {
				b->count = at;
				b->err = -ENOENT; /* the next part goes on */
			}
		}
		for (__u32 k = 0; k < b->count; k++) {
			memset(&b->keys[k], 0, sizeof(b->keys[k]));
			memcpy(&b->keys[k], b->raw + (size_t)k * r->ks, r->ks);
		}
		err = b->err;
		hand_over(r, b);
		if (err)
			return NULL;
		in = out;
		first = false;
	}
}

static int part_alloc(struct bulk_part *p)
{
	for (int i = 0; i < 2; i++) {
		struct bulk_buf *b = &p->buf[i];

		b->raw = calloc(BULK_ENTRIES, p->r->ks);
		b->keys = calloc(BULK_ENTRIES, sizeof(*b->keys));
		b->vals = calloc(BULK_ENTRIES, sizeof(*b->vals));
		if (!b->raw || !b->keys || !b->vals)
			return -ENOMEM;
	}
	return 0;
}

static void part_free(struct bulk_part *p)
{
	for (int i = 0; i < 2; i++) {
		sem_destroy(&p->buf[i].empty);
		free(p->buf[i].raw);
		free(p->buf[i].keys);
		free(p->buf[i].vals);
	}
}

/* n parts (0: one per CPU online, one for a small table), up to
 * BULK_PARTS_MAX, over the table's hash buckets (a power of two at least
 * max_entries, as the kernel sizes it). */
static int parts_plan(struct bulk_read *r, __u32 max_entries, int n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	__u64 buckets = 1;

	while (buckets < max_entries)
		buckets <<= 1;
	if (n <= 0)
		n = max_entries < BULK_PART_MIN || cpus < 1 ? 1 : (int)cpus;
	if (n > BULK_PARTS_MAX)
		n = BULK_PARTS_MAX;
	for (int i = 0; i < n; i++) {
		struct bulk_part *p = &r->part[i];

		p->r = r;
		p->start = (__u32)(buckets * i / n);
		p->next = i + 1 < n ? &r->part[i + 1] : NULL;
		p->first = FIRST_UNKNOWN;
		sem_init(&p->buf[0].empty, 0, 1);
		sem_init(&p->buf[1].empty, 0, 1);
	}
	return n;
}

int bulk_read_parts(int fd, int parts, bulk_fn fn, void *ctx, long *kill_after)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	struct bulk_read *r;
	sigset_t all, old_mask;
	int err = 0, fn_err = 0, ended = 0;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	/* keys as the table holds them (48 bytes, 52 with --decap) */
	r->ks = bpf_obj_get_info_by_fd(fd, &info, &info_len) ? 0 : info.key_size;
	if (!r->ks || r->ks > sizeof(struct flow_key) ||
	    info.value_size != sizeof(struct flow_stats)) {
		free(r);
		return -EINVAL;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->parts = parts_plan(r, info.max_entries, parts);
	for (int i = 0; i < r->parts && !err; i++)
		err = part_alloc(&r->part[i]);
	/* signals are the main thread's to handle, not the readers' */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old_mask);
	for (int i = 0; i < r->parts && !err; i++) {
		struct bulk_part *p = &r->part[i];
		int e = -pthread_create(&p->thread, NULL, part_main, p);

		p->running = !e;
		if (e && i == 0) {
			err = e;
		} else if (e) { /* parts fewer: the one before reads on */
			pthread_mutex_lock(&r->lock);
			p->first = FIRST_NONE;
			pthread_cond_broadcast(&r->changed);
			pthread_mutex_unlock(&r->lock);
			ended = r->parts - i;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	while (!err && ended < r->parts) {
		struct bulk_buf *b;
		int e;

		pthread_mutex_lock(&r->lock);
		while (!r->full_n)
			pthread_cond_wait(&r->changed, &r->lock);
		b = r->full[r->full_head];
		r->full_head = (r->full_head + 1) % (2 * BULK_PARTS_MAX);
		r->full_n--;
		pthread_mutex_unlock(&r->lock);
		/* tests: die with the batches before this one merged */
		if (kill_after && *kill_after > 0 && --*kill_after == 0)
			raise(SIGKILL);
		e = fn(ctx, b->keys, b->vals, b->count);
		if (e && !fn_err)
			fn_err = e;
		if (b->err && b->err != -ENOENT && !fn_err)
			fn_err = b->err;
		if (b->err)
			ended++;
		sem_post(&b->empty);
	}
	for (int i = 0; i < r->parts; i++) {
		if (r->part[i].running)
			pthread_join(r->part[i].thread, NULL);
		part_free(&r->part[i]);
	}
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return err ? err : fn_err;
}

int bulk_read_table(int fd, bulk_fn fn, void *ctx, long *kill_after)
{
	return bulk_read_parts(fd, 0, fn, ctx, kill_after);
}
