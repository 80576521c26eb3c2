/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tc_link.h - attaching a TC program to an interface's ingress or egress:
 * through a TCX link where the kernel has TCX (CONFIG_NET_XGRESS, 6.6+),
 * else through a clsact qdisc filter. A TCX link is pinned in our instance
 * folder, so that it outlives a crash and the next run takes it over in one
 * step (bpf_link_update), as xdp_link.h does for XDP. A clsact filter
 * outlives a crash by itself; the next run replaces it (same handle and
 * priority, BPF_TC_F_REPLACE).
 */
#ifndef FLOWEXPORT_TC_LINK_H
#define FLOWEXPORT_TC_LINK_H

#include <stdbool.h>
#include <net/if.h>

#define TC_LINK_PIN_PREFIX_IN "tcxin_"
#define TC_LINK_PIN_PREFIX_OUT "tcxout_"

/* How TC programs are attached (--tc-hook). */
enum tc_hook_kind {
	TC_HOOK_AUTO = 0, /* TCX, clsact where the kernel has no TCX */
	TC_HOOK_TCX,
	TC_HOOK_CLSACT,
};

struct tc_attachment {
	int link_fd;       /* TCX link; -1 with clsact or when not attached */
	int old_prog_fd;   /* the program we took over from, -1 if none */
	int ifindex;
	bool egress;
	bool clsact;       /* attached as a clsact filter */
	bool made_qdisc;   /* ... on a clsact qdisc we created */
	char ifname[IF_NAMESIZE];
	char pin[512];     /* "" when not pinned */
};

/*
 * Attach prog_fd at ifname's ingress or egress. With pin_dir, a TCX link
 * is pinned there (tcxin_<if>, tcxout_<if>), and one already pinned there
 * (a previous run of ours) is updated to prog_fd instead. 0 or -errno,
 * with a message.
 */
int tc_link_attach(struct tc_attachment *a, int prog_fd, const char *ifname,
		   bool egress, enum tc_hook_kind kind, const char *pin_dir);
/* Detach, unpin, close; a clsact qdisc we created goes too. 0, or -errno
 * when the program may still be attached (a message said so). */
int tc_link_detach(struct tc_attachment *a);
/* The run did not start: a taken-over link goes back to its program. */
void tc_link_give_back(struct tc_attachment *a);
/* Is name (in an instance folder) the pin of a TCX link? */
bool tc_link_is_pin_name(const char *name);
/* "tcx" or "clsact", for messages */
const char *tc_hook_kind_name(enum tc_hook_kind kind);

#endif
