/* SPDX-License-Identifier: GPL-2.0 */
/*
 * output.h - flows and counters for people: text lines or JSON lines (keys
 * are IANA IPFIX element names). Flow records go to stdout and to -O dump
 * files, one per --dump-rotate period (dump_files.h); counters
 * lines go to the log (stderr or -L) or to --stats-file, never to stdout.
 */
#ifndef FLOWEXPORT_OUTPUT_H
#define FLOWEXPORT_OUTPUT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <linux/types.h>
#include "config.h"
#include "record.h"

/* One counters line: the kernel's packet counters and the cache's books. */
struct counters_report {
	__u64 seen;            /* packets that reached the meter */
	__u64 not_sampled;     /* of those, left out by --sample */
	__u64 flowed;          /* of those, accounted to a flow */
	__u64 not_parsed;
	__u64 malformed;
	__u64 internal;
	__u64 self_export;     /* of not_parsed: our own export connection */
	__u64 missed_tail_calls;
	__u64 ring_packets;    /* table full or flow closing: went through the
				* overflow ring */
	__u64 overflow_packets; /* ring full too: only in these totals */
	__u64 overflow_octets;
	__u64 notices_lost;    /* notice ring full: the table was walked */
	__u64 active_flows;    /* held in the user-space cache */
	__u64 evicted_flows;   /* ended early: cache full (--max-flows) */
	__u64 records;         /* exported so far */
	__u64 record_packets;
	__u64 record_octets;
	/* over every -c collector: records in messages that left (UDP: and
	 * were not refused), records they did not get (buffer full, refused,
	 * held at exit), and failed or refused sends */
	__u64 sent_records;
	__u64 unsent_records;
	__u64 sent_packets;     /* packets in the records sent */
	__u64 unsent_packets;   /* packets in the records unsent */
	__u64 send_errors;
	double pps;            /* packets seen per second since the last line */
	/* of the above, what the egress programs counted (the same identity
	 * holds for them alone), and the forwarded packets they left to the
	 * ingress of a metered interface (counted there, not in seen) */
	__u64 egress_seen;
	__u64 egress_not_sampled;
	__u64 egress_flowed;
	__u64 egress_not_parsed;
	__u64 egress_malformed;
	__u64 egress_internal;
	__u64 forwarded;
	/* -D: payloads sent to the inspectors, lost (ring full), and what
	 * the parsers made of them: a result, malformed, not theirs */
	__u64 dpi_snapshots;
	__u64 dpi_ring_full;
	__u64 dpi_found;
	__u64 dpi_malformed;
	__u64 dpi_unknown;
};

struct output;

/* NULL with errno set (after a message) when the dump folder or the
 * stats file cannot be made. */
struct output *output_open(const struct config *cfg);
void output_close(struct output *o);

/* Print (when flows go to stdout) and dump (with -O) these records. */
void output_records(struct output *o, const struct flow_record *recs,
		    size_t n);
/* Write one counters line (the caller decides when). */
void output_counters(struct output *o, const struct counters_report *c);
/* The clock -O file names follow (epoch seconds: now when live, capture
 * time in a replay); a new --dump-rotate period starts a new file, made
 * with its first record. */
void output_rotate(struct output *o, time_t now);
/* -O's file period in seconds. */
unsigned int output_dump_period(const struct config *cfg);
/* Close the -O file and the stats file and open them again as the config
 * says now (logrotate moved them, or a reload changed them). 0 or -errno
 * after a message. */
int output_reopen(struct output *o);
/* -O records that could not be written (folder full or read-only). */
__u64 output_dump_unwritten(const struct output *o);

/* Writers, exposed for tests and other sinks. */
void output_write_text(FILE *f, const struct flow_record *r);
void output_write_json(FILE *f, const struct flow_record *r);

#endif
