/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_queue.h - records waiting for a message: a ring that grows on
 * demand up to a bound (--export-buffer), so memory is only spent while a
 * TCP collector is away.
 */
#ifndef FLOWEXPORT_EXPORT_QUEUE_H
#define FLOWEXPORT_EXPORT_QUEUE_H

#include <stddef.h>
#include "record.h"

struct record_queue {
	struct flow_record *ring;
	size_t cap, head, count, max;
};

void queue_init(struct record_queue *q, size_t max);
/* 0, or -ENOSPC when max records are held already (-ENOMEM: no memory). */
int queue_push(struct record_queue *q, const struct flow_record *rec);
/* The i-th held record from the oldest. */
const struct flow_record *queue_at(const struct record_queue *q, size_t i);
void queue_pop(struct record_queue *q, size_t n);
/* Packets (both directions) in the first n records: what a delivered or
 * lost batch carried, for the per-collector packet accounts. */
__u64 queue_packets(const struct record_queue *q, size_t n);
void queue_free(struct record_queue *q);

#endif
