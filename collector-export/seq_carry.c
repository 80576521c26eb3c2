// SPDX-License-Identifier: GPL-2.0
/*
 * seq_carry.c - save the TCP sequence state of a flow table before it is
 * drained (see seq_carry.h and bpf/tcp_seq.h). A read-only pass with
 * batched lookups, then one batched update of the TCP entries found.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.h"
#include "flowmon.skel.h"
#include "log.h"
#include "seq_carry.h"

#define SEQ_CARRY_BATCH 4096
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

struct carry_buf {
	struct flow_key *keys;        /* read from the table */
	struct flow_stats *vals;
	struct flow_key *tcp_keys;    /* to write to the carry map */
	struct tcp_seq_state *tcp_seq;
	__u32 cap;
};

static void carry_buf_free(struct carry_buf *b)
{
	free(b->keys);
	free(b->vals);
	free(b->tcp_keys);
	free(b->tcp_seq);
	memset(b, 0, sizeof(*b));
}

static int carry_buf_alloc(struct carry_buf *b, __u32 cap)
{
	carry_buf_free(b);
	b->keys = calloc(cap, sizeof(*b->keys));
	b->vals = calloc(cap, sizeof(*b->vals));
	b->tcp_keys = calloc(cap, sizeof(*b->tcp_keys));
	b->tcp_seq = calloc(cap, sizeof(*b->tcp_seq));
	b->cap = cap;
	if (!b->keys || !b->vals || !b->tcp_keys || !b->tcp_seq) {
		carry_buf_free(b);
		return -ENOMEM;
	}
	return 0;
}

/* A TCP entry whose sequence state moved since the cache last saw it. */
static bool seq_to_save(const struct flow_cache *fc, const struct flow_key *k,
			const struct flow_stats *s)
{
	return k->protocol == IPPROTO_TCP && s->seq.next_seq &&
	       !flow_cache_has_seq(fc, k, &s->seq);
}

/* Write the TCP entries among the first n read. */
static int carry_write(int carry_fd, const struct flow_cache *fc,
		       struct carry_buf *b, __u32 n)
{
	__u32 m = 0;

	for (__u32 i = 0; i < n; i++) {
		if (!seq_to_save(fc, &b->keys[i], &b->vals[i]))
			continue;
		b->tcp_keys[m] = b->keys[i];
		b->tcp_seq[m++] = b->vals[i].seq;
	}
	if (m && bpf_map_update_batch(carry_fd, b->tcp_keys, b->tcp_seq, &m, NULL))
		return -errno;
	return 0;
}

/* Kernels without batched map calls: key by key. */
static int save_one_by_one(int table_fd, int carry_fd,
			   const struct flow_cache *fc)
{
	struct flow_key key, next;
	struct flow_stats val;
	void *prev = NULL;

	while (!bpf_map_get_next_key(table_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(table_fd, &key, &val))
			continue; /* gone meanwhile */
		if (seq_to_save(fc, &key, &val) &&
		    bpf_map_update_elem(carry_fd, &key, &val.seq, BPF_ANY))
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

int seq_carry_save(struct pipeline *p, int table_fd,
		   const struct flow_cache *fc)
{
	int carry_fd = bpf_map__fd(p->skel->maps.tcp_seq_carry);
	__u32 in_batch = 0, out_batch = 0;
	struct carry_buf b = { 0 };
	bool first = true;
	int err;

	err = carry_buf_alloc(&b, SEQ_CARRY_BATCH);
	while (!err) {
		__u32 count = b.cap;

		err = bpf_map_lookup_batch(table_fd, first ? NULL : &in_batch,
					   &out_batch, b.keys, b.vals, &count, NULL);
		err = err ? -errno : 0;
		if (count) {
			int werr = carry_write(carry_fd, fc, &b, count);

			if (werr) {
				err = werr;
				break;
			}
		}
		if (err == -ENOENT) { /* walked the whole table */
			err = 0;
			break;
		}
		if (err == -ENOSPC && count == 0) { /* a bucket larger than cap */
			err = carry_buf_alloc(&b, b.cap * 2);
			continue;
		}
		if (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP) {
			err = save_one_by_one(table_fd, carry_fd, fc);
			break;
		}
		in_batch = out_batch;
		first = false;
	}
	carry_buf_free(&b);
	return err;
}
