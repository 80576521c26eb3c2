// SPDX-License-Identifier: GPL-2.0
/* books.c - counters line, metering statistics and the overflow report. */
#include "books.h"
#include "log.h"

int books_collect(struct books *b, struct pipeline *p,
		  const struct flow_cache *fc, double now_s,
		  struct counters_report *c)
{
	const struct flow_cache_totals *t = flow_cache_totals(fc);
	__u64 cnt[CNT_MAX];
	int err = pipeline_counters(p, cnt);

	if (err)
		return err;
	c->seen = cnt[CNT_SEEN] + b->malformed_here;
	c->not_sampled = cnt[CNT_NOT_SAMPLED];
	c->flowed = cnt[CNT_FLOWED];
	c->not_parsed = cnt[CNT_NOT_PARSED];
	c->malformed = cnt[CNT_MALFORMED] + b->malformed_here;
	c->internal = cnt[CNT_INTERNAL];
	c->self_export = cnt[CNT_SELF_EXPORT];
	c->missed_tail_calls = 0;
	for (int s = 0; s < SLOT_MAX; s++)
		c->missed_tail_calls += cnt[CNT_MISSED_TAIL_CALL + s];
	c->dpi_snapshots = cnt[CNT_DPI_SNAPSHOTS];
	c->dpi_ring_full = cnt[CNT_DPI_RING_FULL];
	c->overflow_packets = cnt[CNT_OVERFLOW_PKTS];
	c->overflow_octets = cnt[CNT_OVERFLOW_OCTETS];
	c->ring_packets = cnt[CNT_INSERT_FAILED] + cnt[CNT_CLOSING_RING] -
			  c->overflow_packets;
	c->notices_lost = cnt[CNT_NOTICE_LOST];
	err = pipeline_counters_dir(p, FLOW_DIR_EGRESS, cnt);
	if (err)
		return err;
	c->egress_seen = cnt[CNT_SEEN];
	c->egress_not_sampled = cnt[CNT_NOT_SAMPLED];
	c->egress_flowed = cnt[CNT_FLOWED];
	c->egress_not_parsed = cnt[CNT_NOT_PARSED];
	c->egress_malformed = cnt[CNT_MALFORMED];
	c->egress_internal = cnt[CNT_INTERNAL];
	c->forwarded = cnt[CNT_FORWARDED];
	c->active_flows = flow_cache_count(fc);
	c->evicted_flows = t->pressure_evictions;
	c->records = t->records;
	c->record_packets = t->packets;
	c->record_octets = t->octets;
	c->pps = now_s > b->last_time && b->last_time > 0 ?
			 (c->seen - b->last_seen) / (now_s - b->last_time) : 0;
	return 0;
}

void books_mark(struct books *b, __u64 seen, double now_s)
{
	b->last_seen = seen;
	b->last_time = now_s;
}

void books_metering(const struct counters_report *c, struct metering_stats *ms)
{
	ms->packets_seen = c->seen;
	ms->packets_not_metered = c->not_parsed + c->malformed + c->internal +
				  c->overflow_packets;
	ms->flows_dropped = 0; /* no flow is dropped: overflow keeps totals */
	ms->overflow_packets = c->overflow_packets;
}

void books_overflow_report(struct books *b, const struct counters_report *c)
{
	if (c->overflow_packets <= b->overflow_warned)
		return;
	pr_warn("overflow: flow table and ring full; %llu packets (%llu octets) are counted in totals only, not in flow records\n",
		c->overflow_packets, c->overflow_octets);
	b->overflow_warned = c->overflow_packets;
}
