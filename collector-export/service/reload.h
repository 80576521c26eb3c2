/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reload.h - SIGHUP: read the configuration again (the file and the
 * original command line over it, as at start) and apply it to the running
 * meter between two drains, so that no flow is lost or counted twice:
 *   - collectors added are opened, those removed are flushed and closed,
 *     those whose destination and export settings are unchanged keep
 *     their exporter (session, sequence numbers, TCP connection);
 *   - interfaces added are attached, those removed detached (their flows
 *     still drain and export);
 *   - timeouts, counters settings and log verbosity take effect at once;
 *   - -L, --stats-file and -O files are closed and opened again (logrotate).
 * What the running pipeline was built with (--share, -p, --sample,
 * --max-flows, --kernel-flows, --biflow, -F, -M, -i, -j, an interface's
 * XDP mode) cannot change: a reload that changes it says so and keeps the
 * running value. A configuration with an error is refused whole (the
 * message is on stderr, as at start) and the running one stays.
 */
#ifndef FLOWEXPORT_RELOAD_H
#define FLOWEXPORT_RELOAD_H

#include "config.h"
#include "iface_watch.h"
#include "loader.h"
#include "sink.h"

struct reload {
	/* what the run reads (meter, flow cache, sink, output); its address
	 * stays, its fields change only in reload_apply, in the meter's
	 * thread. Exporters' threads never read it: each exporter has a
	 * configuration of its own that is never changed (ex_cfg). */
	struct config live;
	const struct config *ex_cfg[MAX_COLLECTORS];
	struct _GPtrArray *gens; /* configurations read by reloads */
};

/* What a reload acts on. */
struct reload_target {
	struct pipeline *p;
	const char *link_dir;   /* where links are pinned, NULL: nowhere */
	struct sink *sink;
	struct iface_watch *watch;
};

/* live becomes a copy of started (which must outlive r). Returns the
 * configuration the run must read from now on. */
struct config *reload_init(struct reload *r, const struct config *started);
/* Read the configuration again and apply it (see above). 0, or -errno
 * when the configuration was refused (the running one is kept). */
int reload_apply(struct reload *r, const struct reload_target *t);
/* After the sink is closed. */
void reload_free(struct reload *r);

#endif
