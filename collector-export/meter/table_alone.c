// SPDX-License-Identifier: GPL-2.0
/*
 * table_alone.c - is anything but us able to write the flow table? Every
 * flowexport that meters into it (-M) holds a shared presence lock on the
 * table's lock file for life, and takes it before it attaches: our lock
 * made exclusive says no peer is there and keeps newcomers out. A peer
 * that died released its lock but may have left its programs attached: a
 * program refers to the maps it uses, so every loaded program is looked
 * at, and one not ours that uses the table (or the map holding it) means
 * someone may still write. Ours can no longer once every attachment of
 * theirs is gone (the caller detached them all, none failed) and a grace
 * period has passed (the caller waits for it). Emptying a slot of their
 * jump tables instead cost a grace period each (100 ms here), and the L4
 * stages write the table themselves.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.h" /* before the skeleton, which names its types */
#include "flowmon.skel.h"
#include "log.h"
#include "table_alone.h"

static __u32 fd_id(int fd, bool prog)
{
	union {
		struct bpf_prog_info p;
		struct bpf_map_info m;
	} info = {};
	__u32 len = prog ? sizeof(info.p) : sizeof(info.m);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return prog ? info.p.id : info.m.id;
}

/* The ids of our loaded programs; how many, at most max. */
static int our_ids(struct pipeline *p, __u32 *ids, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, p->skel->obj) {
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && n < max)
			ids[n++] = fd_id(fd, true);
	}
	return n;
}

static bool in_ids(__u32 id, const __u32 *ids, int n)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Does the program refer to one of the maps? 1, 0, or -errno when it
 * cannot be looked at. */
static int uses_maps(int fd, const __u32 *ids, int n)
{
	struct bpf_prog_info info = {}, again = {};
	__u32 len = sizeof(info), *maps;
	int found = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (!info.nr_map_ids)
		return 0;
	maps = calloc(info.nr_map_ids, sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	again.nr_map_ids = info.nr_map_ids;
	again.map_ids = (__u64)(unsigned long)maps;
	len = sizeof(again);
	if (bpf_obj_get_info_by_fd(fd, &again, &len))
		found = -errno;
	for (__u32 i = 0; !found && i < again.nr_map_ids && i < info.nr_map_ids; i++)
		for (int k = 0; k < n; k++)
			if (maps[i] == ids[k])
				found = 1;
	free(maps);
	return found;
}

/* A program not ours that uses the table: 1; none: 0; -errno. */
static int foreign_writer(struct pipeline *p)
{
	__u32 maps[2] = { fd_id(bpf_map__fd(p->skel->maps.flow_tables), false),
			  p->table_id };
	__u32 mine[128], id = 0;
	int n_mine = our_ids(p, mine, 128);

	if (!maps[0] || !maps[1])
		return -ENOENT;
	while (!bpf_prog_get_next_id(id, &id)) {
		int fd, used;

		if (in_ids(id, mine, n_mine))
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* unloaded meanwhile */
			return -errno;
		}
		used = uses_maps(fd, maps, 2);
		close(fd);
		if (used)
			return used;
	}
	return errno == ENOENT ? 0 : -errno;
}

int pipeline_table_alone(struct pipeline *p)
{
	int err;

	if (p->table_lock.fd < 0)
		return 0;
	/* our shared presence lock made exclusive: fails while a peer holds
	 * its own; held from now on until the lock file is closed */
	if (lockfile_take(&p->table_lock, LOCK_PRESENCE, false))
		return 0;
	err = foreign_writer(p);
	if (err < 0)
		pr_debug("cannot tell whether the flow table is ours alone: %s\n",
			 strerror(-err));
	return err == 0;
}
