/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - --metrics ADDR:PORT: the counters of the counters line (and
 * the collectors' figures one by one) served at /metrics in the Prometheus
 * text format by a small HTTP server thread of its own. The meter only
 * hands it a copy of each snapshot; a slow or stuck client never delays it.
 */
#ifndef FLOWEXPORT_METRICS_H
#define FLOWEXPORT_METRICS_H

#include <sys/socket.h>
#include "config.h"
#include "output.h"
#include "sink.h"

struct metrics;

/* Parses "ADDR:PORT" ("[v6addr]:PORT" for IPv6, port 1 to 65535, ADDR a
 * numeric address); 0 or -EINVAL. out may be NULL (only check). */
int metrics_parse_addr(const char *s, struct sockaddr_storage *out);

/* Binds and listens (before any privilege is dropped) and starts the
 * thread; NULL with errno set after a message. No --metrics: NULL, errno
 * 0. */
struct metrics *metrics_start(const struct config *cfg);

/* The snapshot the counters line was made of, with each collector's own
 * figures; what /metrics serves from now on. */
void metrics_publish(struct metrics *m, const struct counters_report *c,
		     const struct sink *s);

/* Stops the thread, closes the socket. NULL is fine. */
void metrics_stop(struct metrics *m);

#endif
