/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring_view.h - a BPF ring buffer read from its own mapping, a run of
 * records at a time: the consumer position moves once a run, where
 * libbpf's ring_buffer__consume moves it after every record (a store to a
 * line the producing CPUs read on each reserve). The overflow ring
 * (overflow.c) and the notice ring (drain.c) are read this way.
 */
#ifndef FLOWEXPORT_RING_VIEW_H
#define FLOWEXPORT_RING_VIEW_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>

/* The kernel's layout for user space: the consumer's page (ours to
 * write), the producer's page, then the data pages mapped twice in a row,
 * so that no record wraps. */
struct ring_view {
	__u64 *cons;
	const __u64 *prod;
	const unsigned char *data;
	__u64 mask; /* data size - 1 */
	size_t page;
	size_t size;
	__u32 id;   /* the map's id */
};

/* 0 or -errno. */
int ring_view_map(int fd, struct ring_view *v);
void ring_view_unmap(struct ring_view *v);

/* The producer's position: records before it are reserved, each
 * committed once its header's busy bit is clear. */
static inline __u64 ring_view_produced(const struct ring_view *v)
{
	return __atomic_load_n(v->prod, __ATOMIC_ACQUIRE);
}

/* Hand the records before pos back to the producers. */
static inline void ring_view_consumed(struct ring_view *v, __u64 pos)
{
	__atomic_store_n(v->cons, pos, __ATOMIC_RELEASE);
}

/* The record at pos: its header word (busy and discard bits included). */
static inline __u32 ring_record_header(const struct ring_view *v, __u64 pos)
{
	return __atomic_load_n((const __u32 *)(v->data + (pos & v->mask)),
			       __ATOMIC_ACQUIRE);
}

static inline __u32 ring_record_len(__u32 hdr)
{
	return hdr & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
}

/* The record's payload, at least want bytes long and not discarded, or
 * NULL. */
static inline const void *ring_record_data(const struct ring_view *v,
					   __u64 pos, __u32 hdr, size_t want)
{
	if ((hdr & BPF_RINGBUF_DISCARD_BIT) || ring_record_len(hdr) < want)
		return NULL;
	return v->data + (pos & v->mask) + BPF_RINGBUF_HDR_SZ;
}

/* Where the next record starts. */
static inline __u64 ring_record_end(__u64 pos, __u32 hdr)
{
	return pos + ((ring_record_len(hdr) + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL);
}

#endif
