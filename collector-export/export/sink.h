/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sink.h - where expired records go: the printed/dumped output and every
 * collector given with -c. Both live and offline runs use one sink.
 */
#ifndef FLOWEXPORT_SINK_H
#define FLOWEXPORT_SINK_H

#include <stddef.h>
#include <time.h>
#include "config.h"
#include "export.h"
#include "output.h"

struct sink {
	const struct config *cfg;
	struct output *out;
	struct exporter *ex[MAX_COLLECTORS];
	int n_ex;
	__u64 send_errors;
	struct flow_record *picked; /* --balance: one collector's records */
	size_t picked_cap;
	struct exporter_stats retired; /* of collectors a reload closed */
	struct dpi_table *dpi;      /* -D: results attached to records */
	struct flow_record *with_dpi;
	size_t with_dpi_cap;
};

/* Opens the output and every collector; 0 or -errno (all closed again). */
int sink_open(struct sink *s, const struct config *cfg);
/* A flow_emit_fn: ctx is the struct sink. */
void sink_records(void *ctx, const struct flow_record *recs, size_t n);
/* Metering has stopped: the last records may wait for the collectors
 * (exporter_draining). */
void sink_draining(struct sink *s);
/* About once a second: exporters' timers; now is epoch seconds. */
void sink_tick(struct sink *s, time_t now, const struct metering_stats *ms);
/* Every collector has had its last records (or counted them lost): the
 * counters read after this are final. */
void sink_finish(struct sink *s);
void sink_close(struct sink *s);

/* A reload: ex[0..n) become the collectors, in the order of
 * s->cfg->collectors (already updated). Exporters of the old set that are
 * not in ex are flushed and closed; their figures stay in the totals. */
void sink_replace_exporters(struct sink *s, struct exporter *const *ex, int n);

/* The collectors' figures for the counters line (sent, unsent, errors). */
void sink_export_totals(const struct sink *s, struct counters_report *c);

/* The exporters' connections as seen from the meter (collector -> us);
 * returns how many were written to keys (at most max). */
int sink_self_conns(const struct sink *s, struct self_conn_key *keys, int max);
/* The meter now skips the connections sink_self_conns gave. */
void sink_self_conns_entered(struct sink *s);
/* True when an exporter connected or lost its connection since. */
bool sink_self_conns_changed(struct sink *s);

#endif
