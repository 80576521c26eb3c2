// SPDX-License-Identifier: GPL-2.0
/*
 * flow_index.c - open addressing with linear probing; a cell holds an
 * item and its key's hash (item NULL: empty, or a removed item's place
 * when hash is TOMB, which a lookup walks past). The table doubles above
 * 3/4 full (removed places counted) and halves below 1/8.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "flow_index.h"

#define MIN_CELLS 1024
#define TOMB 1

struct cell {
	void *item;
	__u32 hash;
	__u32 pad;
};

struct flow_index {
	struct cell *cells;
	size_t mask;   /* cells - 1, a power of two less one */
	size_t count;  /* items */
	size_t tombs;  /* removed places */
};

_Static_assert(sizeof(struct flow_key) % 4 == 0, "keys are whole words");

/* The key's words mixed by multiply and shift: a byte-at-a-time hash
 * (FNV-1a) was a chain of 52 dependent multiplies. */
__u32 flow_index_hash(const struct flow_key *k)
{
	const unsigned char *b = (const unsigned char *)k;
	__u64 h = 0x9e3779b97f4a7c15ULL, w;
	size_t i;

	for (i = 0; i + 8 <= sizeof(*k); i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	if (i < sizeof(*k)) {
		__u32 t;

		memcpy(&t, b + i, 4);
		h = (h ^ t) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 32;
	return (__u32)h;
}

static bool key_is(const void *item, const struct flow_key *k)
{
	return memcmp(item, k, sizeof(*k)) == 0;
}

struct flow_index *flow_index_new(void)
{
	struct flow_index *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->cells = calloc(MIN_CELLS, sizeof(*x->cells));
	if (!x->cells) {
		free(x);
		return NULL;
	}
	x->mask = MIN_CELLS - 1;
	return x;
}

void flow_index_free(struct flow_index *x)
{
	if (!x)
		return;
	free(x->cells);
	free(x);
}

size_t flow_index_count(const struct flow_index *x)
{
	return x->count;
}

void flow_index_cell_prefetch(const struct flow_index *x, __u32 h)
{
	__builtin_prefetch(&x->cells[h & x->mask]);
}

/* The first item of hash h whose key is k (k NULL: any key). */
static void *probe(const struct flow_index *x, const struct flow_key *k,
		   __u32 h)
{
	for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
		const struct cell *c = &x->cells[i];

		if (!c->item && c->hash != TOMB)
			return NULL;
		if (c->item && c->hash == h && (!k || key_is(c->item, k)))
			return c->item;
	}
}

void *flow_index_candidate(const struct flow_index *x, __u32 h)
{
	return probe(x, NULL, h);
}

void *flow_index_find_hashed(const struct flow_index *x,
			     const struct flow_key *k, __u32 h)
{
	return probe(x, k, h);
}

static void place(struct cell *cells, size_t mask, void *item, __u32 h)
{
	size_t i = h & mask;

	while (cells[i].item)
		i = (i + 1) & mask;
	cells[i].item = item;
	cells[i].hash = h;
}

/* The same items in n cells, no removed places left. */
static int resize(struct flow_index *x, size_t n)
{
	struct cell *cells = calloc(n, sizeof(*cells));

	if (!cells)
		return -ENOMEM;
	for (size_t i = 0; i <= x->mask; i++)
		if (x->cells[i].item)
			place(cells, n - 1, x->cells[i].item, x->cells[i].hash);
	free(x->cells);
	x->cells = cells;
	x->mask = n - 1;
	x->tombs = 0;
	return 0;
}

int flow_index_add(struct flow_index *x, void *item)
{
	__u32 h = flow_index_hash(item);
	size_t cap = x->mask + 1;

	if ((x->count + x->tombs + 1) * 4 > cap * 3) {
		size_t n = cap;
		int err;

		while ((x->count + 1) * 2 > n)
			n *= 2;
		err = resize(x, n);
		if (err)
			return err;
	}
	for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
		struct cell *c = &x->cells[i];

		if (!c->item) {
			if (c->hash == TOMB)
				x->tombs--;
			c->item = item;
			c->hash = h;
			x->count++;
			return 0;
		}
	}
}

void flow_index_remove(struct flow_index *x, const void *item)
{
	__u32 h = flow_index_hash(item);

	for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
		struct cell *c = &x->cells[i];

		if (!c->item && c->hash != TOMB)
			return; /* not there */
		if (c->item == item) {
			c->item = NULL;
			c->hash = TOMB;
			x->count--;
			x->tombs++;
			break;
		}
	}
	/* mostly emptied: smaller (a failed resize keeps it as it is) */
	if (x->mask + 1 > MIN_CELLS && x->count * 8 < x->mask + 1)
		resize(x, (x->mask + 1) / 2);
}

void flow_index_clear(struct flow_index *x)
{
	struct cell *cells = calloc(MIN_CELLS, sizeof(*cells));

	if (cells) {
		free(x->cells);
		x->cells = cells;
		x->mask = MIN_CELLS - 1;
	} else {
		memset(x->cells, 0, (x->mask + 1) * sizeof(*x->cells));
	}
	x->count = 0;
	x->tombs = 0;
}

void flow_index_for_each(const struct flow_index *x,
			 void (*fn)(void *item, void *ctx), void *ctx)
{
	for (size_t i = 0; i <= x->mask; i++)
		if (x->cells[i].item)
			fn(x->cells[i].item, ctx);
}
