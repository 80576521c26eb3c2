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

static enum xdp_attach_mode mode_of(const struct config *cfg,
				    const char *ifname)
{
	for (int i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifnames[i], ifname))
			return cfg->modes[i];
	return XDP_MODE_SKB;
}

/* The interface is gone: say so once, and drop the link it left (a
 * defunct link holds nothing, and its pin would only be in the way). */
static void went_away(struct iface_state *st, struct xdp_attachment *a)
{
	if (st->gone)
		return;
	st->gone = true;
	pr_warn("interface %s (ifindex %d) is gone; the other interfaces keep metering, its flows are still exported, and it is attached again when an interface named %s comes back\n",
		a->ifname, a->ifindex, a->ifname);
	xdp_link_detach(a);
}

static void came_back(struct iface_state *st, struct pipeline *p, int i,
		      int ifindex, const struct config *cfg,
		      const char *link_dir)
{
	struct xdp_attachment *a = &p->attached[i];
	char name[IF_NAMESIZE];
	int old = a->ifindex, err;

	if (st->failed_ifindex == ifindex)
		return; /* said why already; wait for another one */
	snprintf(name, sizeof(name), "%s", a->ifname);
	if (st->gone)
		pr_warn("interface %s is back (ifindex %d, was %d): attaching again\n",
			name, ifindex, old);
	else
		pr_warn("interface %s was deleted and made again (ifindex %d, was %d): attaching again\n",
			name, ifindex, old);
	err = pipeline_reattach(p, i, mode_of(cfg, name), link_dir);
	if (err) { /* pipeline_reattach said why */
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
	for (int i = 0; i < p->n_attached; i++) {
		struct xdp_attachment *a = &p->attached[i];
		struct iface_state *st = state_of(w, a->ifname);
		int ifindex = if_nametoindex(a->ifname);

		if (!st || (ifindex == a->ifindex && a->link_fd >= 0))
			continue;
		if (!ifindex)
			went_away(st, a);
		else
			came_back(st, p, i, ifindex, cfg, link_dir);
	}
}
