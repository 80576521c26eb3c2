/* SPDX-License-Identifier: GPL-2.0 */
/*
 * instance.h - what a live run pins so that a crash loses nothing and the
 * next run (same command line) can take over. One folder per instance,
 * named after its first interface, beside its flow table:
 *
 *   <dir>/flowexport-<if>/link_<if>        XDP link per interface (kept
 *                                          across runs, updated in place)
 *   <dir>/flowexport-<if>/run-<id>/        one run: jmp_table (so that its
 *       jmp_table op_batch                  programs keep metering after a
 *       overflow_ring                       crash), the deltas it was
 *                                           merging and its overflow ring
 *
 * The flow table itself is in the pinned flow_tables (<dir>/flow_stats).
 *
 * A lock file held for life says the folder's instance is alive; a run
 * folder in a folder nobody holds was left by a run that died.
 */
#ifndef FLOWEXPORT_INSTANCE_H
#define FLOWEXPORT_INSTANCE_H

#include <stdbool.h>
#include "lockfile.h"
#include "loader.h"

#define RUN_PIN_OPS "op_batch"
#define RUN_PIN_RING "overflow_ring"
#define RUN_PIN_JMP "jmp_table"
#define RUN_PIN_JMP_TC_IN "jmp_table_tc_in"
#define RUN_PIN_JMP_TC_OUT "jmp_table_tc_out"

struct instance {
	char dir[512];
	char id[64];           /* "dir-<dev>-<inode>-<path hash>": names its
				* lock and its cache file */
	char run_dir[560];     /* "" until pinned */
	struct lockfile lock;
};

/* Create and lock dir/flowexport-<ifname>; -EBUSY with a message when a
 * live flowexport holds it. */
int instance_claim(struct instance *in, const char *dir, const char *ifname);
/* The file that keeps this instance's flow cache across a crash (in
 * $RUNTIME_DIRECTORY when set, else /run/flowexport; made if missing).
 * 0 or -errno. */
int instance_cache_path(struct instance *in, char *buf, size_t len);
/* Whether the cache file at path is in memory (a tmpfs or ramfs; true
 * when that cannot be told). On a disk file system its pages are also
 * written back every half minute and faulted in again at the next write:
 * with /run on ext4 here, a quarter more manager CPU for a million new
 * flows and a slower exit. It needs only to outlive the process. */
bool instance_cache_in_memory(const char *path);

/* Writes our pin folder on the cache file (an extended attribute, where
 * the file system keeps them), so that a run that finds the file left
 * behind can say whose it is. */
void instance_cache_label(const struct instance *in, const char *path);
/* Warns (naming ifaces, ours) about each cache file beside ours that no
 * live run owns: a run that died and was not started again, its flows not
 * exported and its memory (a tmpfs's) held until someone does. */
void instance_report_left_caches(const struct instance *in, const char *path,
				 const char *ifaces);
/* Pin what this run's programs need to outlive us in a new run folder. */
int instance_pin_run(struct instance *in, struct pipeline *p);
/* Call fn for each run folder not ours; stops at the first error. */
int instance_for_each_stale_run(struct instance *in,
				int (*fn)(const char *run_dir, void *ctx),
				void *ctx);
/* Detach and unpin links in the folder for interfaces p does not meter
 * (a previous run metered more). Returns how many. */
int instance_drop_foreign_links(struct instance *in, struct pipeline *p);
/* Unpin everything in dir and remove it. 0 or -errno. */
int instance_remove_dir(const char *dir);
/* Our run folder stays at release: it holds what the next run must
 * still merge (a retired flow table, drain.h). */
void instance_keep_run(struct instance *in);
/* Remove our run folder, and the instance folder if nothing else is left
 * in it (a link given back to a previous run); release the lock. */
void instance_release(struct instance *in);

#endif
