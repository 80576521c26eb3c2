// SPDX-License-Identifier: GPL-2.0
/*
 * bulk_read.c - a retired flow table read by a second thread into two
 * buffers in turn: while the caller merges one, the kernel fills the
 * other. Semaphores hand each buffer back and forth; the reader stops
 * after the batch that ended the table (or failed), which is also the
 * caller's last.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bulk_read.h"

#define BULK_ENTRIES 32768 /* a batch; two of them: about 17 MB */

struct bulk_buf {
	__u8 *raw;                 /* keys as the table holds them */
	struct flow_key *keys;     /* the same, zero-padded */
	struct flow_stats *vals;
	__u32 count;
	int err;                   /* 0, -ENOENT (the last), -errno */
	sem_t full, empty;
};

struct bulk_reader {
	int fd;
	__u32 ks;
	long *kill_after;
	struct bulk_buf buf[2];
};

/* Our signal handlers do not restart calls (signals.h): a SIGHUP or a
 * second SIGTERM during the read must not let a wait fall through. */
static void take(sem_t *s)
{
	while (sem_wait(s) && errno == EINTR)
		;
}

static void *reader_main(void *arg)
{
	struct bulk_reader *r = arg;
	__u32 in = 0, out = 0;
	bool first = true;

	for (int i = 0;; i ^= 1) {
		struct bulk_buf *b = &r->buf[i];
		__u32 count = BULK_ENTRIES;
		int err;

		take(&b->empty);
		err = bpf_map_lookup_batch(r->fd, first ? NULL : &in, &out,
					   b->raw, b->vals, &count, NULL);
		err = err ? -errno : 0;
		if (r->kill_after && *r->kill_after > 0 && --*r->kill_after == 0) {
			/* tests: die between read and merge, every batch
			 * before this one merged (the other buffer back) */
			if (!first)
				take(&r->buf[i ^ 1].empty);
			raise(SIGKILL);
		}
		for (__u32 k = 0; (!err || err == -ENOENT) && k < count; k++) {
			memset(&b->keys[k], 0, sizeof(b->keys[k]));
			memcpy(&b->keys[k], b->raw + (size_t)k * r->ks, r->ks);
		}
		b->count = err && err != -ENOENT ? 0 : count;
		b->err = err;
		sem_post(&b->full);
		if (err)
			return NULL;
		in = out;
		first = false;
	}
}

static void bufs_free(struct bulk_reader *r, int n)
{
	for (int i = 0; i < n; i++) {
		sem_destroy(&r->buf[i].full);
		sem_destroy(&r->buf[i].empty);
		free(r->buf[i].raw);
		free(r->buf[i].keys);
		free(r->buf[i].vals);
	}
}

int bulk_read_table(int fd, bulk_fn fn, void *ctx, long *kill_after)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	struct bulk_reader r = { .fd = fd, .kill_after = kill_after };
	sigset_t all, old_mask;
	pthread_t thread;
	int i, err = -ENOMEM, fn_err = 0;

	/* keys as the table holds them (48 bytes, 52 with --decap) */
	r.ks = bpf_obj_get_info_by_fd(fd, &info, &info_len) ? 0 : info.key_size;
	if (!r.ks || r.ks > sizeof(struct flow_key) ||
	    info.value_size != sizeof(struct flow_stats))
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		struct bulk_buf *b = &r.buf[i];

		b->raw = calloc(BULK_ENTRIES, r.ks);
		b->keys = calloc(BULK_ENTRIES, sizeof(*b->keys));
		b->vals = calloc(BULK_ENTRIES, sizeof(*b->vals));
		sem_init(&b->full, 0, 0);
		sem_init(&b->empty, 0, 1);
		if (!b->raw || !b->keys || !b->vals) {
			bufs_free(&r, i + 1);
			return -ENOMEM;
		}
	}
	/* signals are the main thread's to handle, not the reader's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old_mask);
	err = -pthread_create(&thread, NULL, reader_main, &r);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (err) {
		bufs_free(&r, 2);
		return err;
	}
	for (i = 0;; i ^= 1) {
		struct bulk_buf *b = &r.buf[i];
		int e;

		take(&b->full);
		e = fn(ctx, b->keys, b->vals, b->count);
		if (e && !fn_err)
			fn_err = e;
		err = b->err;
		sem_post(&b->empty);
		if (err)
			break;
	}
	pthread_join(thread, NULL);
	bufs_free(&r, 2);
	if (err == -ENOENT)
		err = 0;
	return err ? err : fn_err;
}
