/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record.h - one flow report as it leaves the manager, for every output:
 * the text/JSON printer, the dump files, the IPFIX and NetFlow v9 exporters.
 */
#ifndef FLOWEXPORT_RECORD_H
#define FLOWEXPORT_RECORD_H

#include <linux/types.h>
#include "flow.h"
#include "dpi.h"

struct flow_record {
	struct flow_key key;
	/* What this report covers: packets, octets, histograms etc. are deltas
	 * since the previous report of the same flow (active timeout), min/max
	 * and flags over the same span. Kernel-time fields inside are not for
	 * output: use the epoch times below. */
	struct flow_stats fwd;
	__u64 start_ms;        /* epoch ms of the first packet in this report */
	__u64 end_ms;          /* epoch ms of the last packet in this report */
	__u8 end_reason;       /* enum flow_end_reason (IPFIX IE 136) */
	__u8 has_reverse;      /* --biflow: rev* describe the reverse direction */
	__u8 pad[6];
	struct flow_stats rev;
	__u64 rev_start_ms;
	__u64 rev_end_ms;
	/* -D: what the inspectors found, shared by every copy of the record
	 * (dpi_ref when copied into a queue, dpi_unref when dropped); NULL
	 * without -D or when nothing was found */
	const struct dpi_info *dpi;
};

#endif
