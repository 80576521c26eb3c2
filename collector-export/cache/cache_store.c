// SPDX-License-Identifier: GPL-2.0
/*
 * cache_store.c - the shared file mapping behind the flow cache: a header
 * (magic, sizes, undo area, journal), then chunks of slots. A slot is a
 * word (slot number << 1 | live) and an item.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cache_store.h"
#include "log.h"

#define STORE_MAGIC 0x666c6f7763616368ULL /* "flowcach" */
/* 5: struct flow_stats with its per-packet fields first (bpf/flow.h) */
#define STORE_VERSION 5
#define CHUNK_SLOTS 4096
#define MAX_CHUNKS 4096 /* 16M items */
#define PAGE 4096

struct store_header {
	__u64 magic;
	__u32 version;
	__u32 slot_size;
	__u32 nchunks;
	__u32 pad;
	__u64 undo_slot;     /* which slot the undo area holds */
	__u64 undo_valid;    /* set while a change is under way */
	struct cache_journal journal;
	/* then the undo area: one slot */
};

struct cache_store {
	int fd;
	char *path;          /* NULL: memory only */
	struct store_header *hdr;
	size_t hdr_bytes;
	size_t slot_size;
	unsigned char *chunk[MAX_CHUNKS];
	__u32 nchunks;
	__u64 *free_list;    /* slot numbers */
	size_t n_free, cap_free;
	__u64 undo_of;       /* slot of the change under way */
};

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

static size_t chunk_bytes(const struct cache_store *s)
{
	return CHUNK_SLOTS * s->slot_size;
}

static unsigned char *slot_at(struct cache_store *s, __u64 n)
{
	return s->chunk[n / CHUNK_SLOTS] + (n % CHUNK_SLOTS) * s->slot_size;
}

static unsigned char *undo_area(struct cache_store *s)
{
	return (unsigned char *)(s->hdr + 1);
}

static int push_free(struct cache_store *s, __u64 n)
{
	if (s->n_free == s->cap_free) {
		size_t cap = s->cap_free ? s->cap_free * 2 : CHUNK_SLOTS;
		__u64 *l = realloc(s->free_list, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		s->free_list = l;
		s->cap_free = cap;
	}
	s->free_list[s->n_free++] = n;
	return 0;
}

static int map_chunk(struct cache_store *s, __u32 i)
{
	void *m = mmap(NULL, chunk_bytes(s), PROT_READ | PROT_WRITE, MAP_SHARED,
		       s->fd, s->hdr_bytes + (off_t)i * chunk_bytes(s));

	if (m == MAP_FAILED)
		return -errno;
	s->chunk[i] = m;
	return 0;
}

/* One more chunk: the file grows, the slots already mapped stay put. */
static int grow(struct cache_store *s)
{
	__u32 i = s->nchunks;
	int err;

	if (i == MAX_CHUNKS)
		return -ENOMEM;
	if (ftruncate(s->fd, s->hdr_bytes + (off_t)(i + 1) * chunk_bytes(s)))
		return -errno;
	err = map_chunk(s, i);
	if (err)
		return err;
	s->nchunks = i + 1;
	s->hdr->nchunks = s->nchunks;
	for (__u64 n = (__u64)(i + 1) * CHUNK_SLOTS; n-- > (__u64)i * CHUNK_SLOTS;)
		if ((err = push_free(s, n)))
			return err;
	return 0;
}

static bool adoptable(const struct store_header *h, size_t slot_size,
		      off_t file_size, size_t hdr_bytes)
{
	return h->magic == STORE_MAGIC && h->version == STORE_VERSION &&
	       h->slot_size == slot_size && h->nchunks <= MAX_CHUNKS &&
	       file_size >= (off_t)(hdr_bytes + (size_t)h->nchunks *
						 CHUNK_SLOTS * slot_size);
}

/* Map what a previous process left: undo its change under way, collect
 * the free slots. */
static int adopt(struct cache_store *s)
{
	int err;

	for (__u32 i = 0; i < s->hdr->nchunks; i++) {
		err = map_chunk(s, i);
		if (err)
			return err;
		s->nchunks = i + 1;
	}
	if (s->hdr->undo_valid && s->hdr->undo_slot <
				  (__u64)s->nchunks * CHUNK_SLOTS)
		memcpy(slot_at(s, s->hdr->undo_slot), undo_area(s), s->slot_size);
	s->hdr->undo_valid = 0;
	for (__u64 n = (__u64)s->nchunks * CHUNK_SLOTS; n-- > 0;)
		if (!(*(__u64 *)slot_at(s, n) & 1) && (err = push_free(s, n)))
			return err;
	return 0;
}

struct cache_store *cache_store_open(const char *path, size_t item_size)
{
	struct cache_store *s = calloc(1, sizeof(*s));
	struct stat st;
	int err = 0;

	if (!s)
		return NULL;
	s->slot_size = round_up(sizeof(__u64) + item_size, 8);
	s->hdr_bytes = round_up(sizeof(struct store_header) + s->slot_size, PAGE);
	s->path = path ? strdup(path) : NULL;
	s->fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)
		     : memfd_create("flowcache", MFD_CLOEXEC);
	if ((path && !s->path) || s->fd < 0 || fstat(s->fd, &st) ||
	    ((size_t)st.st_size < s->hdr_bytes && ftruncate(s->fd, s->hdr_bytes)))
		goto fail;
	s->hdr = mmap(NULL, s->hdr_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->fd, 0);
	if (s->hdr == MAP_FAILED) {
		s->hdr = NULL;
		goto fail;
	}
	if (adoptable(s->hdr, s->slot_size, st.st_size, s->hdr_bytes)) {
		err = adopt(s);
		if (err) {
			errno = -err;
			goto fail;
		}
		return s;
	}
	/* new, or of another layout: start empty */
	if (s->hdr->magic == STORE_MAGIC && s->hdr->version != STORE_VERSION)
		pr_warn("the flow cache '%s' is of another layout (version %u, this build reads %u): its flows are not taken over\n",
			path, s->hdr->version, STORE_VERSION);
	if (ftruncate(s->fd, s->hdr_bytes))
		goto fail;
	memset(s->hdr, 0, s->hdr_bytes);
	s->hdr->magic = STORE_MAGIC;
	s->hdr->version = STORE_VERSION;
	s->hdr->slot_size = s->slot_size;
	return s;
fail:
	err = errno;
	cache_store_close(s, false);
	errno = err;
	return NULL;
}

void cache_store_close(struct cache_store *s, bool remove_file)
{
	if (!s)
		return;
	if (remove_file && s->path)
		unlink(s->path);
	for (__u32 i = 0; i < s->nchunks; i++)
		munmap(s->chunk[i], chunk_bytes(s));
	if (s->hdr)
		munmap(s->hdr, s->hdr_bytes);
	if (s->fd >= 0)
		close(s->fd);
	free(s->free_list);
	free(s->path);
	free(s);
}

struct cache_journal *cache_store_journal(struct cache_store *s)
{
	return &s->hdr->journal;
}

static __u64 *slot_word(void *item)
{
	return (__u64 *)item - 1;
}

void *cache_store_alloc(struct cache_store *s)
{
	unsigned char *slot;
	__u64 n;
	int err;

	if (!s->n_free && (err = grow(s))) {
		errno = -err;
		return NULL;
	}
	n = s->free_list[--s->n_free];
	slot = slot_at(s, n);
	memset(slot, 0, s->slot_size);
	*(__u64 *)slot = n << 1; /* not live yet */
	return slot + sizeof(__u64);
}

void cache_store_set_live(struct cache_store *s, void *item, bool live)
{
	__u64 n = *slot_word(item) >> 1;

	__atomic_store_n(slot_word(item), n << 1 | live, __ATOMIC_RELEASE);
	if (!live)
		push_free(s, n);
}

void cache_store_begin(struct cache_store *s, void *item)
{
	s->undo_of = *slot_word(item) >> 1;
	memcpy(undo_area(s), slot_at(s, s->undo_of), s->slot_size);
	s->hdr->undo_slot = s->undo_of;
	/* the copy is complete before it counts */
	__atomic_store_n(&s->hdr->undo_valid, 1, __ATOMIC_RELEASE);
}

void cache_store_end(struct cache_store *s)
{
	__atomic_store_n(&s->hdr->undo_valid, 0, __ATOMIC_RELEASE);
}

void cache_store_for_each(struct cache_store *s,
			  void (*fn)(void *item, void *ctx), void *ctx)
{
	for (__u64 n = 0; n < (__u64)s->nchunks * CHUNK_SLOTS; n++) {
		unsigned char *slot = slot_at(s, n);

		if (*(__u64 *)slot & 1)
			fn(slot + sizeof(__u64), ctx);
	}
}
