/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iface_watch.h - metered interfaces that go away and come back. Once a
 * tick the name of every interface to meter is looked up again: one that
 * is gone is said once and its defunct links dropped (the others keep
 * metering, and the flows it had are still exported with its old
 * ifindex); when an interface of that name exists again (a new ifindex),
 * the entry programs are attached to it again, at every hook its options
 * ask for, through pinned links as at start (crash-safe).
 */
#ifndef FLOWEXPORT_IFACE_WATCH_H
#define FLOWEXPORT_IFACE_WATCH_H

#include <net/if.h>
#include "config.h"
#include "loader.h"

struct iface_state {
	char name[IF_NAMESIZE];
	bool gone;            /* said gone, not back yet */
	int failed_ifindex;   /* attaching to this ifindex failed: not again */
};

struct iface_watch {
	struct iface_state st[MAX_IFACES];
	int n;
};

/* Look at every interface of cfg; links are pinned in link_dir (NULL:
 * none). */
void iface_watch_tick(struct iface_watch *w, struct pipeline *p,
		      const struct config *cfg, const char *link_dir);
/* ifname is no longer metered (a reload left it out). */
void iface_watch_forget(struct iface_watch *w, const char *ifname);

#endif
