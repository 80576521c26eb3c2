/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loader.h - the BPF pipeline as user space sees it: open and load the
 * skeleton for one share strategy, fill jmp_table, own the two flow tables
 * that take turns in flow_tables[0], pin, attach and detach (BPF links).
 */
#ifndef FLOWEXPORT_LOADER_H
#define FLOWEXPORT_LOADER_H

#include <stdbool.h>
#include <linux/types.h>
#include <xdp/libxdp.h>
#include "config.h"
#include "flow.h"
#include "lockfile.h"
#include "xdp_link.h"

struct flowmon;

struct pipeline_opts {
	enum share_mode share;
	__u32 slot_mask;       /* bit per enum flow_slot to fill */
	__u32 max_flows;       /* entries of each flow table */
	const char *reuse_path; /* -M: pinned flow_tables to continue */
	bool lock;             /* live: lock file of flow_tables (swaps, owner) */
	__u32 sample_rate;     /* --sample N: meter 1 packet in N; 0 or 1: all */
	__u32 dpi_mask;        /* -D: bit per enum dpi_app inspected; 0: none */
};

struct pipeline {
	struct flowmon *skel;
	int table_fd[2];       /* our two flow tables */
	__u32 table_id[2];
	int active;            /* the one we installed last */
	/* named after flow_tables' map id: serializes the swaps of instances
	 * sharing it (-M), and its owner (the pinner) holds it for life */
	struct lockfile table_lock;
	__u32 max_flows;
	int n_attached;
	struct xdp_attachment attached[MAX_IFACES];
	const char *reuse_path; /* the pinned flow_tables we continue */
	char pin_path[512];    /* where we pinned flow_tables, "" if not us */
	bool pin_adopted;      /* ... or continued the pin of a run that died */
	struct self_conn_key self[MAX_SELF_CONNS]; /* in self_conns now */
	int n_self;
};

int pipeline_open(struct pipeline *p, const struct pipeline_opts *opts);
void pipeline_close(struct pipeline *p); /* detaches and unpins too */

/* Attach the entry program; with link_dir, through a link pinned there
 * (a link of a previous run pinned there is taken over). */
int pipeline_attach(struct pipeline *p, const char *ifname,
		    enum xdp_attach_mode mode, const char *link_dir);
void pipeline_detach_all(struct pipeline *p);
/* Start failed: links taken over go back to the programs they had. */
void pipeline_give_back_all(struct pipeline *p);

/*
 * Pin flow_tables as <dir>/flow_stats (mkdir -p, bpffs mounted if needed)
 * and own it. When pipeline_open() continued that very pin (left by a run
 * that died), ownership passes to us if its owner is gone. -EEXIST with a
 * message when a live flowexport owns it.
 */
int pipeline_pin(struct pipeline *p, const char *dir);
/* Is a flow table pinned at path whose owner is gone (1), owned by a
 * live flowexport (0), or nothing there (-ENOENT)? */
int pipeline_pin_orphaned(const char *path);

/* mkdir -p on bpffs, mounting it if needed. 0 or -errno. */
int pipeline_mkdir(const char *dir);

/* Hold the swap lock (what pipeline_swap takes) to drain a table that is
 * not installed; pipeline_installed_id() says which one is. */
void pipeline_lock_swaps(struct pipeline *p);
void pipeline_unlock_swaps(struct pipeline *p);
__u32 pipeline_installed_id(struct pipeline *p);

/*
 * Install our spare table and return an fd of the table it displaced (ours,
 * or another instance's when several share a pinned table with -M). When
 * this returns no program still writes to it (RCU grace period), so it can
 * be read and emptied without losing an increment. Every instance drains
 * exactly what it displaces, so each table is drained once and never while
 * installed. Holds the pin's lock until pipeline_swap_done(), which the
 * caller must call after draining. Negative errno on failure.
 */
int pipeline_swap(struct pipeline *p);
void pipeline_swap_done(struct pipeline *p, int displaced_fd);

/* Make these the connections whose packets are not metered (our own
 * export sockets); cheap when nothing changed. 0 or -errno. */
int pipeline_set_self_conns(struct pipeline *p,
			    const struct self_conn_key *keys, int n);

/* Counters summed over CPUs, CNT_MAX entries. */
int pipeline_counters(struct pipeline *p, __u64 *out);

int pipeline_start_fd(struct pipeline *p);
int pipeline_jmp_table_fd(struct pipeline *p);
int pipeline_floor_fd(struct pipeline *p);
int pipeline_ring_fd(struct pipeline *p);
int pipeline_dpi_ring_fd(struct pipeline *p); /* -D payload snapshots */

/*
 * Run one packet through the pipeline with BPF_PROG_TEST_RUN. meta, when
 * given, goes in front of the packet as data_meta (pcap replay time).
 * Returns 0 or -errno; *retval is the XDP action.
 */
int pipeline_run_packet(int prog_fd, const void *pkt, __u32 len,
			const struct pkt_meta *meta, __u32 repeat,
			__u32 *retval, __u32 *duration_ns);

const char *share_mode_name(enum share_mode mode);

#endif
