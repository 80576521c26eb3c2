/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loader.h - the BPF pipeline as user space sees it: open and load the
 * skeleton for one share strategy, fill jmp_table, own the flow table in
 * flow_tables[0], run the table_ops program, pin, attach and detach (BPF
 * links).
 */
#ifndef FLOWEXPORT_LOADER_H
#define FLOWEXPORT_LOADER_H

#include <stdbool.h>
#include <linux/types.h>
#include <xdp/libxdp.h>
#include "config.h"
#include "flow.h"
#include "lockfile.h"
#include "tc_link.h"
#include "xdp_link.h"

struct flowmon;

struct pipeline_opts {
	enum share_mode share;
	__u32 slot_mask;       /* bit per enum flow_slot to fill */
	__u32 max_flows;       /* entries of the flow table */
	bool prealloc;         /* preallocate its entries (default: not) */
	__u32 notice_ring_bytes; /* 0: as built (16 MiB) */
	const char *reuse_path; /* -M: pinned flow_tables to continue */
	bool lock;             /* live: lock file of flow_tables (swaps, owner) */
	__u32 sample_rate;     /* --sample N: meter 1 packet in N; 0 or 1: all */
	/* TC instances to load, 1 << enum flow_direction each (each costs
	 * its verification at start); the XDP one is always loaded */
	unsigned int tc_dirs;
	__u32 dpi_mask;        /* -D: bit per enum dpi_app inspected; 0: none */
	bool decap;            /* --decap: meter tunnels' inner packets */
};

struct pipeline {
	struct flowmon *skel;
	int table_fd;          /* the flow table (shared with -M) */
	__u32 key_size;        /* its key: FLOW_KEY_PLAIN_SIZE, or the whole
				* struct flow_key with --decap */
	__u32 table_id;
	/* named after flow_tables' map id: its owner (the pinner) holds it
	 * for life */
	struct lockfile table_lock;
	__u32 max_flows;
	int n_attached;
	struct xdp_attachment attached[MAX_IFACES];
	int n_tc;
	struct tc_attachment tc[2 * MAX_IFACES]; /* ingress and egress */
	const char *reuse_path; /* the pinned flow_tables we continue */
	char pin_path[512];    /* where we pinned flow_tables, "" if not us */
	char ingress_pin_path[512]; /* ... and ingress_metered beside it */
	bool pin_adopted;      /* ... or continued the pin of a run that died */
	struct self_conn_key self[MAX_SELF_CONNS]; /* in self_conns now */
	int n_self;
};

int pipeline_open(struct pipeline *p, const struct pipeline_opts *opts);
void pipeline_close(struct pipeline *p); /* detaches and unpins too */

struct pipeline_attach_opts {
	enum ingress_mode mode;   /* -m for this interface */
	unsigned int direction;   /* METER_INGRESS | METER_EGRESS */
	enum tc_hook_kind tc_hook;
	const char *link_dir;     /* pin links here (crash takeover), or NULL */
};

/* Attach the entry programs the direction asks for: ingress as the mode
 * says (auto: native XDP, else TC), egress at TC. With link_dir, through
 * links pinned there (links of a previous run pinned there are taken over).
 * 0 or -errno with a message; what was attached stays until detach. */
int pipeline_attach(struct pipeline *p, const char *ifname,
		    const struct pipeline_attach_opts *o);
/* Is path the pin of one of our attachments? */
bool pipeline_owns_pin(const struct pipeline *p, const char *path);
/* Every attachment goes; 0, or -errno when one of them may still run our
 * programs (a message said which). */
int pipeline_detach_all(struct pipeline *p);
/* The attach options of cfg's interface i. */
struct pipeline_attach_opts pipeline_attach_opts_of(const struct config *cfg,
						   int i, const char *link_dir);
/* The ifindex our attachments of ifname were made on; 0: none. */
int pipeline_iface_index(const struct pipeline *p, const char *ifname);
/* Detach one interface, both hooks (a reload left it out, or it is gone
 * and its defunct links are dropped). 0 or -ENOENT. */
int pipeline_detach(struct pipeline *p, const char *ifname);
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

/* Wait until no program that started before still runs (an RCU grace
 * period, through an update of flow_tables). 0 or -errno. */
int pipeline_grace(struct pipeline *p);
/* A fresh, empty flow table of the same shape in the old one's place (a
 * grace period included: no program still writes the old one); the old
 * one's fd in *old_fd, the caller's to close. 0 or -errno. */
int pipeline_retire_table(struct pipeline *p, int *old_fd);
/* Run table_ops over slots [0, count) of op_batch; *done: how many found
 * their entry. 0 or -errno. */
int pipeline_table_ops(struct pipeline *p, __u32 count, __u32 *done);

/* Make these the connections whose packets are not metered (our own
 * export sockets); cheap when nothing changed. 0 or -errno. */
int pipeline_set_self_conns(struct pipeline *p,
			    const struct self_conn_key *keys, int n);

/* Counters summed over CPUs and directions, CNT_MAX entries. */
int pipeline_counters(struct pipeline *p, __u64 *out);
/* The same, of one direction's programs. */
int pipeline_counters_dir(struct pipeline *p, enum flow_direction dir,
			  __u64 *out);

int pipeline_start_fd(struct pipeline *p);
/* The TC entry program, or a negative errno when it was not loaded. */
int pipeline_tc_start_fd(struct pipeline *p, bool egress);
int pipeline_jmp_table_fd(struct pipeline *p);
int pipeline_tc_jmp_table_fd(struct pipeline *p, bool egress);
int pipeline_floor_fd(struct pipeline *p);
int pipeline_ring_fd(struct pipeline *p);
int pipeline_notice_ring_fd(struct pipeline *p);
int pipeline_op_batch_fd(struct pipeline *p);
int pipeline_dpi_ring_fd(struct pipeline *p); /* -D payload snapshots */

/*
 * Run one packet through the pipeline with BPF_PROG_TEST_RUN. meta, when
 * given, goes in front of the packet as data_meta (pcap replay time).
 * Returns 0 or -errno; *retval is the XDP action.
 */
int pipeline_run_packet(int prog_fd, const void *pkt, __u32 len,
			const struct pkt_meta *meta, __u32 repeat,
			__u32 *retval, __u32 *duration_ns);

/* Kernel memory of a map, from its fdinfo (what the memcg is charged). */
unsigned long long map_memlock(int fd);
const char *share_mode_name(enum share_mode mode);

#endif
