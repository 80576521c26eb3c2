// SPDX-License-Identifier: GPL-2.0
/*
 * privileges.c - capabilities instead of "must be root", and --user.
 * capget(2)/capset(2) directly: three calls do not need libcap.
 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "log.h"
#include "privileges.h"

struct cap_name {
	int cap;
	const char *name;
};

#define CAP(c) { c, #c }

/* BPF_PROG_TEST_RUN (-r, -t 0): load the programs (CAP_BPF), run XDP
 * programs under test (CAP_NET_ADMIN), and programs that read kernel time
 * and use pointer arithmetic the verifier allows only with CAP_PERFMON. */
static const struct cap_name test_run_caps[] = {
	CAP(CAP_BPF), CAP(CAP_PERFMON), CAP(CAP_NET_ADMIN),
};

/* Metering interfaces: the same, and CAP_SYS_ADMIN for what takes a BPF
 * object by id (the flow table displaced at each swap, a previous run's
 * program when taking over its link) and for mounting bpffs. */
static const struct cap_name live_caps[] = {
	CAP(CAP_BPF), CAP(CAP_PERFMON), CAP(CAP_NET_ADMIN), CAP(CAP_SYS_ADMIN),
};

/* --user: switching user needs the first two besides, and the run keeps
 * the last two (kept_caps) to remove root's pins and lock files at exit. */
static const struct cap_name switch_caps[] = {
	CAP(CAP_SETUID), CAP(CAP_SETGID), CAP(CAP_DAC_OVERRIDE), CAP(CAP_FOWNER),
};

/*
 * What a run keeps after --user (README, "Least privilege"), measured:
 * - CAP_SYS_ADMIN: every drain swaps the flow tables and takes a reference
 *   to the one displaced by its id (bpf_map_get_fd_by_id), which the
 *   kernel allows only with it (EPERM without: no drain, no export).
 * - CAP_DAC_OVERRIDE: the pins, the flow-cache file and their folders stay
 *   root's (0600 and 0700): removing them at exit needs it.
 * - CAP_FOWNER: so do the lock files, in the sticky /run/lock.
 * Not kept: detaching needs none (our link's fd), nor do the maps and the
 * ring whose fds we hold, nor export (sockets, and --metrics bound before);
 * a restart after a crash starts as root again and takes over then.
 */
static const struct cap_name kept_caps[] = {
	CAP(CAP_SYS_ADMIN), CAP(CAP_DAC_OVERRIDE), CAP(CAP_FOWNER),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The effective, permitted and inheritable sets as 64-bit masks. */
struct cap_sets {
	__u64 effective, permitted, inheritable;
};

static int caps_get(struct cap_sets *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &h, d))
		return -errno;
	s->effective = d[0].effective | (__u64)d[1].effective << 32;
	s->permitted = d[0].permitted | (__u64)d[1].permitted << 32;
	s->inheritable = d[0].inheritable | (__u64)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct cap_sets *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{ (__u32)s->effective, (__u32)s->permitted, (__u32)s->inheritable },
		{ s->effective >> 32, s->permitted >> 32, s->inheritable >> 32 },
	};

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static __u64 cap_mask(const struct cap_name *caps, size_t n)
{
	__u64 m = 0;

	for (size_t i = 0; i < n; i++)
		m |= 1ULL << caps[i].cap;
	return m;
}

/* "CAP_A, CAP_B" of the caps not in have; returns how many. */
static int missing(const struct cap_name *caps, size_t n, __u64 have,
		   char *buf, size_t len, size_t *used)
{
	int count = 0;

	for (size_t i = 0; i < n; i++) {
		if (have & (1ULL << caps[i].cap))
			continue;
		*used += snprintf(buf + *used, *used < len ? len - *used : 0,
				  "%s%s", *used ? ", " : "", caps[i].name);
		count++;
	}
	return count;
}

int privileges_check(const struct config *cfg)
{
	bool live = cfg->test_seconds != 0 && !cfg->pcap_file;
	struct cap_sets s;
	char names[256] = "";
	size_t used = 0;
	int n, err = caps_get(&s);

	if (err) {
		fprintf(stderr, "flowexport: cannot read this process's capabilities: %s\n",
			strerror(-err));
		return err;
	}
	if (live)
		n = missing(live_caps, N(live_caps), s.effective, names,
			    sizeof(names), &used);
	else
		n = missing(test_run_caps, N(test_run_caps), s.effective, names,
			    sizeof(names), &used);
	if (cfg->user)
		n += missing(switch_caps, N(switch_caps), s.effective, names,
			     sizeof(names), &used);
	if (!n)
		return 0;
	fprintf(stderr, "flowexport: missing %s %s: run as root, or give %s (setcap, or AmbientCapabilities= in a systemd unit)\n",
		n == 1 ? "capability" : "capabilities", names,
		n == 1 ? "it" : "them");
	return -EPERM;
}

int privileges_user_exists(const char *name)
{
	return getpwnam(name) ? 0 : -ENOENT;
}

/* After the switch: no way back to root, and only the kept set. */
static int verify_dropped(uid_t uid, __u64 keep)
{
	struct cap_sets s;
	int err = caps_get(&s);

	if (err)
		return err;
	if (getuid() != uid || geteuid() != uid || s.permitted & ~keep ||
	    s.effective & ~keep)
		return -EPERM;
	if (uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}

int privileges_drop(const struct config *cfg)
{
	__u64 keep = cap_mask(kept_caps, N(kept_caps));
	struct cap_sets s;
	struct passwd *pw;
	uid_t uid;
	gid_t gid;
	int err;

	if (!cfg->user)
		return 0;
	errno = 0;
	pw = getpwnam(cfg->user);
	if (!pw) {
		err = errno ? -errno : -ENOENT;
		pr_warn("--user: no user '%s'\n", cfg->user);
		return err;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	err = caps_get(&s);
	if (err)
		goto fail;
	keep &= s.permitted; /* what we have of it */
	/* keep the permitted set across the uid change; the effective one
	 * is cleared by it and set again below. glibc changes the ids of
	 * every thread; capabilities and KEEPCAPS are per thread, so the
	 * threads already running (exporters, --metrics) keep none, and
	 * need none: sockets only */
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) ||
	    setgroups(1, &gid) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		err = -errno;
		goto fail;
	}
	s.effective = s.permitted = keep;
	s.inheritable = 0;
	err = caps_set(&s);
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	if (!err)
		err = verify_dropped(uid, keep);
	if (err)
		goto fail;
	pr_info("running as user %s (uid %u, gid %u) with CAP_SYS_ADMIN, CAP_DAC_OVERRIDE and CAP_FOWNER only\n",
		cfg->user, (unsigned)uid, (unsigned)gid);
	return 0;
fail:
	pr_warn("cannot switch to user '%s': %s\n", cfg->user, strerror(-err));
	return err;
}
