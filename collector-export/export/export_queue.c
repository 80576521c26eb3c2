// SPDX-License-Identifier: GPL-2.0
/* export_queue.c - bounded, growing ring of flow records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dpi.h"
#include "export_queue.h"

/* Records a ring keeps when it empties: what a busy meter hands over
 * between two wakeups of the exporter (and the inbox's bound while the
 * meter waits, at exit), so that a steady flow of records reuses the
 * same memory; more was an outage's backlog. */
#define QUEUE_KEEP 8192

void queue_init(struct record_queue *q, size_t max)
{
	memset(q, 0, sizeof(*q));
	q->max = max ? max : 1;
}

/* Doubles the ring, unrolling it so the oldest record is first again. */
static int queue_grow(struct record_queue *q)
{
	size_t cap = q->cap ? q->cap * 2 : 256;
	struct flow_record *r;

	if (cap > q->max)
		cap = q->max;
	r = malloc(cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < q->count; i++)
		r[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = r;
	q->cap = cap;
	q->head = 0;
	return 0;
}

int queue_push(struct record_queue *q, const struct flow_record *rec)
{
	if (q->count == q->max)
		return -ENOSPC;
	if (q->count == q->cap && queue_grow(q))
		return -ENOMEM;
	q->ring[(q->head + q->count) % q->cap] = *rec;
	q->count++;
	dpi_ref(rec->dpi); /* the copy holds its own reference */
	return 0;
}

const struct flow_record *queue_at(const struct record_queue *q, size_t i)
{
	return &q->ring[(q->head + i) % q->cap];
}

__u64 queue_packets(const struct record_queue *q, size_t n)
{
	__u64 packets = 0;

	for (size_t i = 0; i < n && i < q->count; i++) {
		const struct flow_record *r = queue_at(q, i);

		packets += r->fwd.packets + r->rev.packets;
	}
	return packets;
}

void queue_pop(struct record_queue *q, size_t n)
{
	if (n > q->count)
		n = q->count;
	for (size_t i = 0; i < n; i++)
		dpi_unref(queue_at(q, i)->dpi);
	q->head = q->cap ? (q->head + n) % q->cap : 0;
	q->count -= n;
	/* emptied after an outage: give the memory back (the ring is large
	 * enough to be its own mapping, which free() returns to the system) */
	if (!q->count && q->cap > QUEUE_KEEP) {
		free(q->ring);
		q->ring = NULL;
		q->cap = 0;
		q->head = 0;
	}
}

void queue_free(struct record_queue *q)
{
	queue_pop(q, q->count);
	free(q->ring);
	memset(q, 0, sizeof(*q));
}
