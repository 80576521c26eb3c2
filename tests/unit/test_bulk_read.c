// SPDX-License-Identifier: GPL-2.0
/*
 * test_bulk_read - a flow table read in bulk (meter/bulk_read.c) in one to
 * four parts, each read by a thread of its own: every entry reaches the
 * merge exactly once with its value, whatever the parts, the table's fill
 * (full, sparse enough to leave parts empty, empty) and key size (plain
 * and --decap), and keys are zero-padded to struct flow_key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bulk_read.h"
#include "tap.h"

struct seen {
	__u32 n;         /* entries put in the table */
	__u32 *times;    /* how often each reached the merge */
	__u32 key_size;
	__u32 batches;
	int bad;         /* entries whose value or padding was wrong */
};

/* Entry i: its number in the key's source address, packets i + 1. */
static void fill_key(struct flow_key *k, __u32 i)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = 7;
	k->ip_version = 4;
	k->protocol = 17;
	memcpy(k->src_addr + 12, &i, sizeof(i));
	k->src_port = (__u16)(i * 7919);
	k->dst_port = 53;
}

static int count_batch(void *ctx, const struct flow_key *keys,
		       const struct flow_stats *vals, __u32 n)
{
	struct seen *s = ctx;

	s->batches++;
	for (__u32 k = 0; k < n; k++) {
		struct flow_key want;
		__u32 i;

		memcpy(&i, keys[k].src_addr + 12, sizeof(i));
		if (i >= s->n) {
			s->bad++;
			continue;
		}
		s->times[i]++;
		fill_key(&want, i);
		if (s->key_size == sizeof(want))
			want.segment_id = i; /* --decap's last 4 bytes */
		if (memcmp(&want, &keys[k], sizeof(want)) || vals[k].packets != i + 1ULL)
			s->bad++;
	}
	return 0;
}

static int table_with(__u32 max_entries, __u32 n, __u32 key_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bulk_test", key_size,
				sizeof(struct flow_stats), max_entries, &o);
	__u8 *keys = calloc(n ? n : 1, key_size);
	struct flow_stats *vals = calloc(n ? n : 1, sizeof(*vals));
	__u32 count = n;
	int err = 0;

	for (__u32 i = 0; i < n; i++) {
		struct flow_key k;

		fill_key(&k, i);
		k.segment_id = i; /* beyond a plain key: not in the table */
		memcpy(keys + (size_t)i * key_size, &k, key_size);
		vals[i].packets = i + 1ULL;
	}
	if (fd >= 0 && n && bpf_map_update_batch(fd, keys, vals, &count, NULL))
		err = -errno;
	free(keys);
	free(vals);
	if (fd >= 0 && err) {
		close(fd);
		return err;
	}
	return fd < 0 ? -errno : fd;
}

static void read_case(__u32 max_entries, __u32 n, __u32 key_size, int parts)
{
	struct seen s = { .n = n, .key_size = key_size };
	__u32 once = 0, twice = 0;
	int fd = table_with(max_entries, n, key_size), err;

	CHECK(fd >= 0, "cannot make a table of %u entries: %s", n, strerror(-fd));
	if (fd < 0)
		goto out;
	s.times = calloc(n ? n : 1, sizeof(*s.times));
	err = bulk_read_parts(fd, parts, count_batch, &s, NULL);
	CHECK(err == 0, "the read failed: %s", strerror(-err));
	for (__u32 i = 0; i < n; i++) {
		once += s.times[i] == 1;
		twice += s.times[i] > 1;
	}
	CHECK_EQ("entries merged once", once, n);
	CHECK_EQ("entries merged twice", twice, 0);
	CHECK_EQ("entries with a wrong value or padding", s.bad, 0);
	free(s.times);
	close(fd);
out:
	tap_result("bulk read: %u of %u entries (%u-byte keys) in %d part(s): each merged once, as it was (%u batches)",
		   n, max_entries, key_size, parts, s.batches);
}

int main(void)
{
	const __u32 plain = FLOW_KEY_PLAIN_SIZE, decap = sizeof(struct flow_key);

	for (int parts = 1; parts <= 4; parts++)
		read_case(1U << 18, 150000, plain, parts);
	read_case(1U << 18, 150000, decap, 3);
	/* a few entries over many buckets: some parts find none */
	for (int parts = 2; parts <= 4; parts++)
		read_case(1U << 18, 5, plain, parts);
	read_case(1U << 18, 0, plain, 4);
	read_case(64, 64, plain, 4);      /* full, fewer buckets than a batch */
	read_case(1U << 18, 100000, plain, 0); /* as at exit: by CPUs */
	return tap_failed_cases ? 1 : 0;
}
