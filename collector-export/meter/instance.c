// SPDX-License-Identifier: GPL-2.0
/*
 * instance.c - the instance folder: claim it, pin a run, find the runs that
 * died, remove them.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "instance.h"
#include "log.h"

#define RUN_PREFIX "run-"
#define ID_PREFIX "dir-"       /* an instance id, its cache file's name */
#define CACHE_SUFFIX ".cache"

/* FNV-1a, 64 bits */
static __u64 path_hash(const char *s)
{
	__u64 h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

int instance_claim(struct instance *in, const char *dir, const char *ifname)
{
	struct stat st;
	int err;

	memset(in, 0, sizeof(*in));
	in->lock.fd = -1;
	if (snprintf(in->dir, sizeof(in->dir), "%s/flowexport-%s", dir, ifname) >=
	    (int)sizeof(in->dir))
		return -ENAMETOOLONG;
	err = pipeline_mkdir(in->dir);
	if (err || stat(in->dir, &st)) {
		err = err ? err : -errno;
		pr_warn("cannot create pin folder '%s': %s\n", in->dir, strerror(-err));
		return err;
	}
	/* the path too: a folder removed by hand and made again elsewhere
	 * may get the inode of one whose cache a crash left behind */
	snprintf(in->id, sizeof(in->id), ID_PREFIX "%lx-%lx-%016llx",
		 (unsigned long)st.st_dev, (unsigned long)st.st_ino,
		 (unsigned long long)path_hash(in->dir));
	err = lockfile_open(&in->lock, in->id);
	if (err) {
		pr_warn("cannot open lock file '%s': %s\n", in->lock.path, strerror(-err));
		return err;
	}
	err = lockfile_take(&in->lock, LOCK_OWNER, false);
	if (err) {
		pr_warn("another flowexport is running on %s (its pins are in '%s')\n",
			ifname, in->dir);
		lockfile_close(&in->lock);
		return err == -EAGAIN ? -EBUSY : err;
	}
	return 0;
}

#define CACHE_DIR "/run/flowexport"

/* The folder a file's path names ("." for a bare name). */
static void folder_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	snprintf(dir, len, "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
}

bool instance_cache_in_memory(const char *path)
{
	char dir[PATH_MAX];
	struct statfs fs;

	folder_of(path, dir, sizeof(dir));
	return statfs(dir, &fs) || fs.f_type == TMPFS_MAGIC ||
	       fs.f_type == RAMFS_MAGIC;
}

#define CACHE_PINS_XATTR "user.flowexport.pins"

void instance_cache_label(const struct instance *in, const char *path)
{
	/* only for the report below: a file system without user xattrs
	 * (or one that refuses) costs that report its pin folder */
	setxattr(path, CACHE_PINS_XATTR, in->dir, strlen(in->dir), 0);
}

void instance_report_left_caches(const struct instance *in, const char *path,
				 const char *ifaces)
{
	char dir[PATH_MAX], file[PATH_MAX + 256], pins[sizeof(in->dir)];
	struct dirent *de;
	DIR *d;

	folder_of(path, dir, sizeof(dir));
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name), sfx = strlen(CACHE_SUFFIX);
		char id[sizeof(in->id)];
		struct stat st;
		ssize_t len;
		double held;

		if (n <= sfx || n - sfx >= sizeof(id) ||
		    strcmp(de->d_name + n - sfx, CACHE_SUFFIX) ||
		    strncmp(de->d_name, ID_PREFIX, strlen(ID_PREFIX)))
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(n - sfx), de->d_name);
		/* ours, or one a live run holds (it may be starting) */
		if (!strcmp(id, in->id) || lockfile_held(id, LOCK_OWNER))
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		if (stat(file, &st))
			continue;
		len = getxattr(file, CACHE_PINS_XATTR, pins, sizeof(pins) - 1);
		pins[len > 0 ? len : 0] = '\0';
		/* the memory it holds: a few flows take kilobytes */
		held = st.st_blocks * 512.0;
		pr_warn("at the start of %s: the flow cache '%s' (%.1f %s) was left by a run that died (pins in '%s') and no run took it over: the flows it holds wait there, and its memory stays taken, until one does; start flowexport again with that run's -d and -F (and stop it) to export them, or delete the file\n",
			ifaces, file, held < 1e6 ? held / 1e3 : held / 1e6,
			held < 1e6 ? "kB" : "MB", len > 0 ? pins : "unknown");
	}
	closedir(d);
}

/* systemd's RuntimeDirectory= (a folder a service given only capabilities
 * can write), else CACHE_DIR: the same for every run of one service. */
int instance_cache_path(struct instance *in, char *buf, size_t len)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");

	if (!dir || !*dir || strchr(dir, ':')) /* one folder only */
		dir = CACHE_DIR;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (snprintf(buf, len, "%s/%s" CACHE_SUFFIX, dir, in->id) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int pin_in(const char *dir, const char *name, int fd)
{
	char path[640];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path)) {
		int err = -errno;

		pr_warn("cannot pin '%s': %s\n", path, strerror(-err));
		return err;
	}
	return 0;
}

int instance_pin_run(struct instance *in, struct pipeline *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err;

	/* the entry program's id: unique while it lives, i.e. as long as
	 * the folder matters */
	if (bpf_obj_get_info_by_fd(pipeline_start_fd(p), &info, &len))
		return -errno;
	snprintf(in->run_dir, sizeof(in->run_dir), "%s/" RUN_PREFIX "%u", in->dir,
		 info.id);
	if (mkdir(in->run_dir, 0700)) {
		err = -errno;
		pr_warn("cannot create '%s': %s\n", in->run_dir, strerror(-err));
		in->run_dir[0] = '\0';
		return err;
	}
	/* the jump table above all: unpinned, it is emptied when we die
	 * and the programs left attached would meter nothing */
	err = pin_in(in->run_dir, RUN_PIN_JMP, pipeline_jmp_table_fd(p));
	/* the deltas of a harvest not yet merged, should we die (drain.c) */
	if (!err)
		err = pin_in(in->run_dir, RUN_PIN_OPS, pipeline_op_batch_fd(p));
	if (!err)
		err = pin_in(in->run_dir, RUN_PIN_JMP_TC_IN,
			     pipeline_tc_jmp_table_fd(p, false));
	if (!err)
		err = pin_in(in->run_dir, RUN_PIN_JMP_TC_OUT,
			     pipeline_tc_jmp_table_fd(p, true));
	if (!err)
		err = pin_in(in->run_dir, RUN_PIN_RING, pipeline_ring_fd(p));
	if (err) {
		instance_remove_dir(in->run_dir);
		in->run_dir[0] = '\0';
	}
	return err;
}

int instance_for_each_stale_run(struct instance *in,
				int (*fn)(const char *run_dir, void *ctx),
				void *ctx)
{
	DIR *d = opendir(in->dir);
	struct dirent *e;
	char path[800];
	int err = 0;

	if (!d)
		return -errno;
	while (!err && (e = readdir(d))) {
		if (strncmp(e->d_name, RUN_PREFIX, strlen(RUN_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", in->dir, e->d_name);
		if (!strcmp(path, in->run_dir))
			continue;
		err = fn(path, ctx);
	}
	closedir(d);
	return err;
}

/* The interface a link pin is named after, or NULL if name is none. */
static const char *link_pin_ifname(const char *name)
{
	if (!strncmp(name, XDP_LINK_PIN_PREFIX, strlen(XDP_LINK_PIN_PREFIX)))
		return name + strlen(XDP_LINK_PIN_PREFIX);
	if (!strncmp(name, TC_LINK_PIN_PREFIX_IN, strlen(TC_LINK_PIN_PREFIX_IN)))
		return name + strlen(TC_LINK_PIN_PREFIX_IN);
	if (!strncmp(name, TC_LINK_PIN_PREFIX_OUT, strlen(TC_LINK_PIN_PREFIX_OUT)))
		return name + strlen(TC_LINK_PIN_PREFIX_OUT);
	return NULL;
}

/* Every link pinned here that this run did not take over: an interface,
 * a direction or a hook (XDP or TC ingress) it does not meter now. */
int instance_drop_foreign_links(struct instance *in, struct pipeline *p)
{
	DIR *d = opendir(in->dir);
	struct dirent *e;
	char path[800];
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		const char *ifname = link_pin_ifname(e->d_name);

		if (!ifname)
			continue;
		snprintf(path, sizeof(path), "%s/%s", in->dir, e->d_name);
		if (pipeline_owns_pin(p, path))
			continue;
		pr_warn("%s: detaching a previous run's program (%s; this run does not meter it so)\n",
			ifname, e->d_name);
		xdp_link_drop_pinned(path);
		n++;
	}
	closedir(d);
	return n;
}

int instance_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[800];
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !err)
		err = -errno;
	return err;
}

void instance_keep_run(struct instance *in)
{
	in->run_dir[0] = '\0';
}

void instance_release(struct instance *in)
{
	/* whatever ended us (a clean stop, a failed start), none of our
	 * programs is attached any more: this run's pins serve nobody */
	if (in->run_dir[0]) {
		int err = instance_remove_dir(in->run_dir);

		if (err)
			pr_warn("cannot remove '%s': %s\n", in->run_dir, strerror(-err));
		in->run_dir[0] = '\0';
	}
	/* empty unless another run's pins are still there */
	if (in->dir[0])
		rmdir(in->dir);
	lockfile_close(&in->lock);
}
