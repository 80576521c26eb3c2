/* SPDX-License-Identifier: GPL-2.0 */
/*
 * books.h - the accounts of a run: the kernel's packet counters beside what
 * the flow cache holds and has exported, so that every packet is either in
 * a record, still held, or named in a counter (not parsed, malformed,
 * overflow).
 */
#ifndef FLOWEXPORT_BOOKS_H
#define FLOWEXPORT_BOOKS_H

#include "export.h"
#include "flowtable.h"
#include "loader.h"
#include "output.h"

struct books {
	__u64 last_seen;      /* CNT_SEEN at the previous line, for pps */
	double last_time;     /* seconds, same clock as books_collect's; 0:
			       * no line yet (pps 0) */
	__u64 overflow_warned; /* CNT_OVERFLOW_PKTS already reported */
	/* frames user space counted as seen and malformed without handing
	 * them to the programs (replay: runts BPF_PROG_TEST_RUN refuses) */
	__u64 malformed_here;
};

/* Fill a counters line; pps since the last books_mark() (any clock,
 * seconds). */
int books_collect(struct books *b, struct pipeline *p,
		  const struct flow_cache *fc, double now_s,
		  struct counters_report *c);
/* The next pps counts from here: at start and after each printed line. */
void books_mark(struct books *b, __u64 seen, double now_s);
/* The same figures as the exporter's options records want them. */
void books_metering(const struct counters_report *c,
		    struct metering_stats *ms);
/* Packets the overflow path could only count: say so, once per increase. */
void books_overflow_report(struct books *b, const struct counters_report *c);

#endif
