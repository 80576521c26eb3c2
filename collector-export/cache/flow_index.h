/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow_index.h - the flow cache's index: items that begin with a struct
 * flow_key, found by key. Open addressing over cells of (item, hash), so
 * that a lookup touches one cell and, when the hash matches, the item;
 * and so that a caller with many keys to find can fetch the cells, then
 * the items, ahead of using them (flow_index_cell_prefetch,
 * flow_index_candidate): at a million flows each is a cache miss, and a
 * chained table's lookup (GLib's: hash array, key array, then the item)
 * made three of them one after the other.
 */
#ifndef FLOWEXPORT_FLOW_INDEX_H
#define FLOWEXPORT_FLOW_INDEX_H

#include <stddef.h>
#include <linux/types.h>
#include "flow.h"

struct flow_index;

struct flow_index *flow_index_new(void);
void flow_index_free(struct flow_index *x);
size_t flow_index_count(const struct flow_index *x);

__u32 flow_index_hash(const struct flow_key *k);
/* The item whose key is k (hash h = flow_index_hash(k)), or NULL. */
void *flow_index_find_hashed(const struct flow_index *x,
			     const struct flow_key *k, __u32 h);
static inline void *flow_index_find(const struct flow_index *x,
				    const struct flow_key *k)
{
	return flow_index_find_hashed(x, k, flow_index_hash(k));
}
/* Ahead of a lookup of hash h: its first cell into the cache. */
void flow_index_cell_prefetch(const struct flow_index *x, __u32 h);
/* The first item of hash h, its key not compared (NULL: none): most
 * likely the one, to be fetched ahead and checked by the caller. */
void *flow_index_candidate(const struct flow_index *x, __u32 h);

/* Adds an item whose key is not in the index yet: 0 or -ENOMEM. */
int flow_index_add(struct flow_index *x, void *item);
/* Removes the item (found by its key). */
void flow_index_remove(struct flow_index *x, const void *item);
/* Empties the index (the items are the caller's). */
void flow_index_clear(struct flow_index *x);
void flow_index_for_each(const struct flow_index *x,
			 void (*fn)(void *item, void *ctx), void *ctx);

#endif
