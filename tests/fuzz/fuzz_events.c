// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_events - the overflow ring's events and drained table entries, as
 * arbitrary bytes, through the flow cache: merge, expire at arbitrary
 * times, flush. What goes in must come out: the packets of every record
 * emitted (forward and reverse) add up to the packets merged, the cache's
 * totals agree, and the cache is empty after the flush.
 *
 * Input: 4 bytes of settings (biflow, max flows, idle and active
 * timeouts), then operations, each one byte of kind and its body:
 *   0  struct flow_event           (what drain.c's ring callback merges,
 *                                  under a fresh merge mark)
 *   1  struct flow_key + flow_stats (one drained table entry)
 *   2  __u64 now_ns                (an expiry pass)
 *   3  struct flow_event           (merged, then merged again under the
 *                                  same mark, as a restart after a crash
 *                                  replays it: the second must not count)
 */
#include <string.h>
#include "config.h"
#include "flowtable.h"
#include "fuzz.h"

struct sums {
	__u64 packets;
	__u64 records;
};

static void on_records(void *ctx, const struct flow_record *recs, size_t n)
{
	struct sums *s = ctx;

	for (size_t i = 0; i < n; i++) {
		s->packets += recs[i].fwd.packets;
		if (recs[i].has_reverse)
			s->packets += recs[i].rev.packets;
		FUZZ_CHECK(recs[i].end_reason != 0);
	}
	s->records += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sums out = { 0 };
	__u64 merged = 0, mark = 0;
	struct flow_cache *fc;
	struct config cfg;
	size_t pos = 4;

	if (size < 4 || size > 1 << 18)
		return 0;
	config_defaults(&cfg);
	cfg.biflow = data[0] & 1;
	cfg.max_flows = 1 + data[1] % 64;
	cfg.idle_timeout = data[2] % 30;
	cfg.active_timeout = data[3] % 120;
	fuzz_quiet_log();
	fc = flow_cache_new(&cfg, 0, on_records, &out);
	FUZZ_CHECK(fc != NULL);
	while (pos < size) {
		__u8 kind = data[pos++] % 4;
		struct flow_event ev;
		struct flow_key key;
		struct flow_stats st;
		__u64 now;

		if ((kind == 0 || kind == 3) && size - pos >= sizeof(ev)) {
			memcpy(&ev, data + pos, sizeof(ev));
			pos += sizeof(ev);
			mark++;
			FUZZ_CHECK(flow_cache_merge_event(fc, &ev, mark, mark) == 0);
			if (kind == 3)
				FUZZ_CHECK(flow_cache_merge_event(fc, &ev, mark, mark) == 0);
			merged += ev.segs ? ev.segs : 1; /* a GSO packet's segments */
		} else if (kind == 1 && size - pos >= sizeof(key) + sizeof(st)) {
			memcpy(&key, data + pos, sizeof(key));
			memcpy(&st, data + pos + sizeof(key), sizeof(st));
			pos += sizeof(key) + sizeof(st);
			FUZZ_CHECK(flow_cache_merge(fc, &key, &st) == 0);
			merged += st.packets;
		} else if (kind == 2 && size - pos >= sizeof(now)) {
			memcpy(&now, data + pos, sizeof(now));
			pos += sizeof(now);
			flow_cache_expire(fc, now);
		} else {
			break;
		}
	}
	flow_cache_flush(fc, END_FORCED);
	FUZZ_CHECK(flow_cache_count(fc) == 0);
	FUZZ_CHECK(out.packets == merged);
	FUZZ_CHECK(flow_cache_totals(fc)->packets == merged);
	FUZZ_CHECK(flow_cache_totals(fc)->records == out.records);
	flow_cache_free(fc);
	log_close();
	return 0;
}
