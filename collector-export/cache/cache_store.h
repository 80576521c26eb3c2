/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cache_store.h - fixed-size items in a shared file mapping, so that what
 * a process held survives its death (SIGKILL included: the pages belong to
 * the file, not the process) and the next run adopts it. Items never move
 * (the file grows by chunks, each mapped on its own). Every change of an
 * item happens between cache_store_begin() and cache_store_end(): begin
 * saves the item in an undo area, so a death in the middle of a change
 * rolls that one item back at adoption and no item is ever half-changed.
 * The header also carries a small journal for the callers (drain.c).
 */
#ifndef FLOWEXPORT_CACHE_STORE_H
#define FLOWEXPORT_CACHE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "flow.h"

/* What a harvest or a ring read was doing when the process died. */
struct cache_journal {
	__u64 seq;            /* last merge mark handed out */
	/* a batch of table operations: deltas taken from the kernel table
	 * into the op_batch map (pinned) with this id, being merged */
	__u64 batch_mark;     /* 0: no batch pending */
	__u32 batch_map_id;
	__u32 batch_count;    /* slots [0, batch_count) of it */
	/* a batch of overflow events being merged, still in their ring: the
	 * ring_count records from ring_pos, record i under ring_mark + i
	 * (a file of an older run: 0, one event) */
	__u32 ring_count;
	__u32 ring_id;
	__u64 ring_pos;       /* the ring's consumer position at the first */
	__u64 ring_mark;
	/* a flow table retired at exit (nothing else wrote it any more; a
	 * fresh one took its place), its entries being merged */
	__u64 bulk_mark;      /* 0: none pending */
	__u32 bulk_table_id;
	__u32 pad2;
};

struct cache_store;

/* path NULL: memory only. An existing file of the same item size is
 * adopted (an interrupted change undone); another one is replaced. NULL
 * with errno on failure. */
struct cache_store *cache_store_open(const char *path, size_t item_size);
/* Unmap; remove the file when asked (a clean stop left nothing in it). */
void cache_store_close(struct cache_store *s, bool remove_file);

struct cache_journal *cache_store_journal(struct cache_store *s);

/* A free item, zeroed, not live yet: fill it inside begin/end and make it
 * live with cache_store_set_live(). NULL with errno when out of memory. */
void *cache_store_alloc(struct cache_store *s);
void cache_store_set_live(struct cache_store *s, void *item, bool live);
void cache_store_begin(struct cache_store *s, void *item);
void cache_store_end(struct cache_store *s);

/* Each live item (adoption). */
void cache_store_for_each(struct cache_store *s,
			  void (*fn)(void *item, void *ctx), void *ctx);

#endif
