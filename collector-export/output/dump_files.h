/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dump_files.h - the -O folder: flow records as text or JSON lines in one
 * file per period, DIR/<YYYY-MM-DD>/<YYYYMMDD>T<HHMMSS>Z.<txt|json> (UTC,
 * the period's start; no colons, so that the names are valid on Windows
 * and SMB shares). Periods start on multiples of the period since the
 * epoch (with 300 s: :00, :05, ... like nfcapd). A folder that cannot be
 * written (full, read-only, immutable) is said once, with the path and
 * errno; the records of the batches that could not be written are
 * counted, the file never holds half a batch, and writing resumes when
 * it can.
 */
#ifndef FLOWEXPORT_DUMP_FILES_H
#define FLOWEXPORT_DUMP_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include "record.h"

struct dump_files;

/* mkdir -p dir. NULL with errno set, after a message, when it cannot be
 * made. */
struct dump_files *dump_files_open(const char *dir, unsigned int period_s,
				   bool json);
/* Close what is open (after a message if it cannot be flushed). */
void dump_files_close(struct dump_files *d);

/* The clock file names follow (epoch seconds: the wall clock when live,
 * capture time in a replay); a new period starts a new file. */
void dump_files_set_time(struct dump_files *d, time_t now);
/* Append recs to the file of the current period (made with its first
 * record); a batch is written whole or counted as not written. */
void dump_files_write(struct dump_files *d, const struct flow_record *recs,
		      size_t n);
/* Close the current file: the next write opens its name again (after
 * logrotate moved it, or freed room). */
void dump_files_reopen(struct dump_files *d);

/* Records that could not be written so far. */
__u64 dump_files_unwritten(const struct dump_files *d);

#endif
