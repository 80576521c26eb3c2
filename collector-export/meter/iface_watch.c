// SPDX-License-Identifier: GPL-2.0
/* iface_watch.c - interfaces that go away and come back (iface_watch.h). */
#include <string.h>
#include "iface_watch.h"
#include "log.h"

static struct iface_state *state_of(struct iface_watch *w, const char *name)
{
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->st[i].name, name))
			return &w->st[i];
	if (w->n == MAX_IFACES) /* cannot happen: forget() keeps room */
		return NULL;
	memset(&w->st[w->n], 0, sizeof(w->st[0]));
	snprintf(w->st[w->n].name, sizeof(w->st[0].name), "%s", name);
	return &w->st[w->n++];
}

void iface_watch_forget(struct iface_watch *w, const char *ifname)
{
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->st[i].name, ifname)) {
			w->st[i] = w->st[--w->n];
			return;
		}
}

/* The interface is gone: say so once, and drop the links it left (a
 * defunct link holds nothing, and its pin would only be in the way). */
static void went_away(struct iface_state *st, struct pipeline *p,
		      const char *name, int old)
{
	if (st->gone)
		return;
	st->gone = true;
	pr_warn("interface %s (ifindex %d) is gone; the other interfaces keep metering, its flows are still exported, and it is attached again when an interface named %s comes back\n",
		name, old, name);
	pipeline_detach(p, name);
}

static void came_back(struct iface_state *st, struct pipeline *p,
		      const struct config *cfg, int i, int ifindex, int old,
		      const char *link_dir)
{
	const char *name = cfg->ifnames[i];
	struct pipeline_attach_opts o = pipeline_attach_opts_of(cfg, i, link_dir);

	if (st->failed_ifindex == ifindex)
		return; /* said why already; wait for another one */
	if (st->gone)
		pr_warn("interface %s is back (ifindex %d): attaching again\n",
			name, ifindex);
	else
		pr_warn("interface %s was deleted and made again (ifindex %d, was %d): attaching again\n",
			name, ifindex, old);
	pipeline_detach(p, name); /* what is left of the old one */
	if (pipeline_attach(p, name, &o)) { /* pipeline_attach said why */
		pipeline_detach(p, name); /* no half-attached interface */
		st->failed_ifindex = ifindex;
		return;
	}
	pr_warn("interface %s is metered again\n", name);
	st->gone = false;
	st->failed_ifindex = 0;
}

void iface_watch_tick(struct iface_watch *w, struct pipeline *p,
		      const struct config *cfg, const char *link_dir)
{
	for (int i = 0; i < cfg->n_ifaces; i++) {
		const char *name = cfg->ifnames[i];
		struct iface_state *st = state_of(w, name);
		int ifindex = if_nametoindex(name);
		int attached = pipeline_iface_index(p, name);

		if (!st || (ifindex && ifindex == attached))
			continue;
		if (!ifindex)
			went_away(st, p, name, attached);
		else
			came_back(st, p, cfg, i, ifindex, attached, link_dir);
	}
}
