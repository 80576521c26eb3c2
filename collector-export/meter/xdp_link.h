/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdp_link.h - attaching the entry program to an interface through a BPF
 * link (libbpf; libxdp 1.3 cannot replace a program left by a crash). A
 * link pinned in our instance folder outlives a crash, says which
 * attachment is ours, and is taken over atomically by the next run with
 * bpf_link_update(): no packet goes unmetered in between. An XDP program
 * that is not ours is never replaced.
 */
#ifndef FLOWEXPORT_XDP_LINK_H
#define FLOWEXPORT_XDP_LINK_H

#include <stdbool.h>
#include <net/if.h>
#include <xdp/libxdp.h> /* enum xdp_attach_mode */

#define XDP_LINK_PIN_PREFIX "link_"

struct xdp_attachment {
	int link_fd;
	int ifindex;
	int old_prog_fd;   /* the program we took over from, -1 if none */
	char ifname[IF_NAMESIZE];
	char pin[512];     /* "" when not pinned */
};

/*
 * Attach prog_fd to ifname. try_only: a driver without the mode
 * (-EOPNOTSUPP) is no error to report, the caller falls back. With pin_dir, the link is pinned there as
 * link_<ifname>, and a link already pinned there (a previous run of ours)
 * is updated to prog_fd instead. 0 or -errno, with a message.
 */
int xdp_link_attach(struct xdp_attachment *a, int prog_fd, const char *ifname,
		    enum xdp_attach_mode mode, bool try_only, const char *pin_dir);
/* Detach, unpin, close; 0, or -errno when the program may still be
 * attached (a message said so). */
int xdp_link_detach(struct xdp_attachment *a);
/* The run did not start: hand a taken-over link back to the program it
 * ran before (it keeps metering into the tables it had), or detach. */
void xdp_link_give_back(struct xdp_attachment *a);
/* Detach and unpin a link pinned at path (a stale run's interface that
 * this run does not meter). */
int xdp_link_drop_pinned(const char *path);

/* A pinned link of a previous run (XDP or TCX) switched from its program
 * (old_id) to prog_fd in one step: the old program's fd (to give it back
 * if the run does not start), or -errno. */
int link_swap_program(int link_fd, __u32 old_id, int prog_fd);

#endif
