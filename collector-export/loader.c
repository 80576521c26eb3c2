// SPDX-License-Identifier: GPL-2.0
/*
 * loader.c - skeleton open/load, jmp_table, the flow-table pair, pinning and
 * libxdp attach/detach.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.h" /* before the skeleton, which names its types */
#include "flowmon.skel.h"
#include "loader.h"
#include "log.h"

const char *share_mode_name(enum share_mode mode)
{
	static const char *const names[SHARE_MAX] = { "meta", "percpu", "global" };

	return mode < SHARE_MAX ? names[mode] : "?";
}

static struct bpf_program *slot_program(struct flowmon *skel, int slot)
{
	switch (slot) {
	case SLOT_L2_ETH: return skel->progs.flow_l2_eth;
	case SLOT_L3_IPV4: return skel->progs.flow_l3_ipv4;
	case SLOT_L3_IPV6: return skel->progs.flow_l3_ipv6;
	case SLOT_L4_TCP: return skel->progs.flow_l4_tcp;
	case SLOT_L4_UDP: return skel->progs.flow_l4_udp;
	case SLOT_L4_ICMP: return skel->progs.flow_l4_icmp;
	case SLOT_L4_ICMPV6: return skel->progs.flow_l4_icmpv6;
	case SLOT_END: return skel->progs.flow_end;
	}
	return NULL;
}

static int create_flow_table(__u32 max_flows)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "flow_table",
				sizeof(struct flow_key), sizeof(struct flow_stats),
				max_flows, NULL);

	if (fd < 0)
		fd = -errno;
	return fd;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/*
 * Instances sharing a pinned flow table (-M) take turns swapping and
 * draining: a lock file named after the pin's inode, so that any path to
 * the same pin finds the same lock.
 */
static void lock_open(struct pipeline *p, const char *pin_path)
{
	char path[128];
	struct stat st;

	if (stat(pin_path, &st))
		return;
	snprintf(path, sizeof(path), "/run/lock/flowexport-%lx-%lx.lock",
		 (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	p->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->lock_fd < 0)
		pr_warn("cannot open lock file '%s' (%s): instances sharing %s may race\n",
			path, strerror(errno), pin_path);
}

/* The table currently in slot 0 of a reused flow_tables map. */
static int current_table_fd(int outer_fd, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 zero = 0, id, len = sizeof(info);
	int fd;

	if (bpf_map_lookup_elem(outer_fd, &zero, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*max_entries = info.max_entries;
	return fd;
}

int pipeline_open(struct pipeline *p, const struct pipeline_opts *opts)
{
	struct flowmon *skel;
	__u32 zero = 0;
	int err, reuse_fd = -1;

	memset(p, 0, sizeof(*p));
	p->table_fd[0] = p->table_fd[1] = -1;
	p->lock_fd = -1;
	p->max_flows = opts->max_flows;

	skel = flowmon__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the BPF object: %s\n", strerror(-err));
		return err;
	}
	p->skel = skel;
	skel->rodata->share_mode = opts->share;

	if (opts->reuse_path) {
		reuse_fd = bpf_obj_get(opts->reuse_path);
		if (reuse_fd < 0) {
			err = -errno;
			pr_warn("cannot open the flow table pinned at '%s' (-M): %s\n",
				opts->reuse_path, strerror(-err));
			goto fail;
		}
		/* our tables take the shape of the one installed there */
		err = current_table_fd(reuse_fd, &p->max_flows);
		if (err < 0) {
			pr_warn("'%s' is not a flowexport flow table: %s\n",
				opts->reuse_path, strerror(-err));
			goto fail;
		}
		close(err);
		lock_open(p, opts->reuse_path);
		err = bpf_map__reuse_fd(skel->maps.flow_tables, reuse_fd);
		if (err) {
			pr_warn("'%s' does not fit this flowexport (%s); was it made by another version?\n",
				opts->reuse_path, strerror(-err));
			goto fail;
		}
	}
	/* Two tables take turns: one written by the programs, one drained.
	 * The first also gives flow_tables its inner-map shape (libbpf 1.1
	 * cannot resize the inner-map template it parses from BTF). */
	for (int i = 0; i < 2; i++) {
		if (p->table_fd[i] >= 0)
			continue;
		p->table_fd[i] = create_flow_table(p->max_flows);
		if (p->table_fd[i] < 0) {
			err = p->table_fd[i];
			pr_warn("cannot create a flow table of %u entries: %s\n",
				p->max_flows, strerror(-err));
			goto fail;
		}
	}
	for (int i = 0; i < 2; i++)
		p->table_id[i] = map_id(p->table_fd[i]);
	err = bpf_map__set_inner_map_fd(skel->maps.flow_tables, p->table_fd[0]);
	if (err)
		goto fail;
	/* TCP sequence state of as many flows as one table holds */
	err = bpf_map__set_max_entries(skel->maps.tcp_seq_carry, p->max_flows);
	if (err)
		goto fail;

	err = flowmon__load(skel);
	if (err) {
		pr_warn("cannot load the BPF programs (share=%s): %s; run with -v for the verifier log\n",
			share_mode_name(opts->share), strerror(-err));
		goto fail;
	}

	for (int slot = 0; slot < SLOT_MAX; slot++) {
		int fd = bpf_program__fd(slot_program(skel, slot));

		if (!(opts->slot_mask & (1U << slot)))
			continue;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.jmp_table),
					&slot, &fd, BPF_ANY)) {
			err = -errno;
			pr_warn("cannot fill jmp_table slot %d: %s\n", slot,
				strerror(-err));
			goto fail;
		}
	}

	p->active = 0;
	if (!opts->reuse_path &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.flow_tables), &zero,
				&p->table_fd[0], BPF_ANY)) {
		err = -errno;
		pr_warn("cannot install the flow table: %s\n", strerror(-err));
		goto fail;
	}
	if (reuse_fd >= 0)
		close(reuse_fd);
	return 0;
fail:
	if (reuse_fd >= 0)
		close(reuse_fd);
	pipeline_close(p);
	return err;
}

int pipeline_swap(struct pipeline *p)
{
	int outer = bpf_map__fd(p->skel->maps.flow_tables);
	int displaced, spare, err;
	__u32 zero = 0, one = 1, id;

	/* our signal handlers do not restart: a SIGTERM while waiting for
	 * another instance must not let us swap without the lock */
	while (p->lock_fd >= 0 && flock(p->lock_fd, LOCK_EX) && errno == EINTR)
		;
	/* hold a reference first: once displaced, the outer map no longer
	 * keeps an exited instance's table alive */
	if (bpf_map_lookup_elem(outer, &zero, &id) ||
	    (displaced = bpf_map_get_fd_by_id(id)) < 0) {
		err = -errno;
		goto fail;
	}
	spare = id == p->table_id[0] ? 1 : 0;
	/* the old one goes to slot 1 first: while it is drained, the new
	 * table's TCP entries find their sequence state there (tcp_seq.h) */
	if (bpf_map_update_elem(outer, &one, &displaced, BPF_ANY)) {
		err = -errno;
		close(displaced);
		goto fail;
	}
	/* returns after an RCU grace period: nobody writes the old one now */
	if (bpf_map_update_elem(outer, &zero, &p->table_fd[spare], BPF_ANY)) {
		err = -errno;
		close(displaced);
		goto fail;
	}
	p->active = spare;
	return displaced;
fail:
	if (p->lock_fd >= 0)
		flock(p->lock_fd, LOCK_UN);
	return err;
}

void pipeline_swap_done(struct pipeline *p, int displaced_fd)
{
	close(displaced_fd);
	if (p->lock_fd >= 0)
		flock(p->lock_fd, LOCK_UN);
}

int pipeline_set_self_conns(struct pipeline *p,
			    const struct self_conn_key *keys, int n)
{
	int fd = bpf_map__fd(p->skel->maps.self_conns);
	__u8 one = 1;

	if (n > MAX_SELF_CONNS)
		n = MAX_SELF_CONNS;
	if (n == p->n_self && !memcmp(keys, p->self, n * sizeof(*keys)))
		return 0;
	/* stop matching first, so a half-updated map is never consulted */
	p->skel->bss->self_conn_count = 0;
	for (int i = 0; i < p->n_self; i++)
		bpf_map_delete_elem(fd, &p->self[i]);
	p->n_self = 0;
	for (int i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &keys[i], &one, BPF_ANY))
			return -errno;
		p->self[p->n_self++] = keys[i];
	}
	p->skel->bss->self_conn_count = p->n_self;
	return 0;
}

int pipeline_counters(struct pipeline *p, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(p->skel->maps.counters);
	__u64 *per_cpu;

	if (ncpu < 0)
		return ncpu;
	per_cpu = calloc(ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (__u32 c = 0; c < CNT_MAX; c++) {
		out[c] = 0;
		if (bpf_map_lookup_elem(fd, &c, per_cpu))
			continue;
		for (int i = 0; i < ncpu; i++)
			out[c] += per_cpu[i];
	}
	free(per_cpu);
	return 0;
}

int pipeline_start_fd(struct pipeline *p)
{
	return bpf_program__fd(p->skel->progs.flow_start);
}

int pipeline_floor_fd(struct pipeline *p)
{
	return bpf_program__fd(p->skel->progs.floor_pass);
}

int pipeline_ring_fd(struct pipeline *p)
{
	return bpf_map__fd(p->skel->maps.overflow_ring);
}

int pipeline_run_packet(int prog_fd, const void *pkt, __u32 len,
			const struct pkt_meta *meta, __u32 repeat,
			__u32 *retval, __u32 *duration_ns)
{
	unsigned char buf[sizeof(struct pkt_meta) + 16384];
	struct xdp_md ctx = {};
	__u32 meta_len = meta ? sizeof(*meta) : 0;
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = buf,
		    .data_size_in = meta_len + len, .repeat = repeat);

	if (len > sizeof(buf) - meta_len)
		return -E2BIG;
	if (meta) {
		/* ctx.data = meta length: those bytes become data_meta */
		memcpy(buf, meta, meta_len);
		ctx.data = meta_len;
		ctx.data_end = meta_len + len;
		topts.ctx_in = &ctx;
		topts.ctx_size_in = sizeof(ctx);
	}
	memcpy(buf + meta_len, pkt, len);
	if (bpf_prog_test_run_opts(prog_fd, &topts))
		return -errno;
	if (retval)
		*retval = topts.retval;
	if (duration_ns)
		*duration_ns = topts.duration;
	return 0;
}

static int ensure_bpffs(const char *dir)
{
	struct statfs st;
	char path[512];

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type != BPF_FS_MAGIC &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
		int err = -errno; /* before logging, which may change errno */

		pr_warn("cannot mount bpffs on /sys/fs/bpf: %s\n", strerror(-err));
		return err;
	}
	/* mkdir -p */
	snprintf(path, sizeof(path), "%s", dir);
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int pipeline_pin(struct pipeline *p, const char *dir)
{
	char path[512];
	int err;

	err = ensure_bpffs(dir);
	if (err) {
		pr_warn("cannot create pin folder '%s': %s\n", dir, strerror(-err));
		return err;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, FLOW_TABLE_PIN_NAME) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (bpf_obj_pin(bpf_map__fd(p->skel->maps.flow_tables), path)) {
		err = -errno;
		if (err == -EEXIST)
			pr_warn("a flow table is already pinned at '%s': is another flowexport running? Share it with -M %s or pin elsewhere with -F DIR\n",
				path, path);
		else
			pr_warn("cannot pin the flow table at '%s': %s\n", path,
				strerror(-err));
		return err;
	}
	snprintf(p->pin_path, sizeof(p->pin_path), "%s", path);
	lock_open(p, path);
	return 0;
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_HW: return "hw";
	case XDP_MODE_SKB: return "skb";
	default: return "unspec";
	}
}

int pipeline_attach(struct pipeline *p, const char *ifname,
		    enum xdp_attach_mode mode)
{
	int ifindex = if_nametoindex(ifname);
	struct xdp_program *prog;
	int err;

	if (!ifindex) {
		pr_warn("no interface '%s'\n", ifname);
		return -ENODEV;
	}
	if (p->n_attached == MAX_IFACES)
		return -E2BIG;
	/* from the loaded fd: libxdp tries its dispatcher and falls back to
	 * attaching this program alone where the dispatcher cannot load */
	prog = xdp_program__from_fd(pipeline_start_fd(p));
	err = libxdp_get_error(prog);
	if (err) {
		pr_warn("libxdp cannot use the start program: %s\n", strerror(-err));
		return err;
	}
	err = xdp_program__attach(prog, ifindex, mode, 0);
	if (err) {
		pr_warn("cannot attach to %s in %s mode: %s%s\n", ifname,
			mode_name(mode), strerror(-err),
			err == -EOPNOTSUPP || err == -EINVAL ?
				" (does the driver support this mode? try -m skb)" :
			err == -EEXIST || err == -EBUSY ?
				" (another XDP program is attached there)" : "");
		xdp_program__close(prog);
		return err;
	}
	p->attached[p->n_attached].prog = prog;
	p->attached[p->n_attached].ifindex = ifindex;
	p->attached[p->n_attached].mode = mode;
	p->n_attached++;
	pr_info("attached to %s (%s mode)\n", ifname, mode_name(mode));
	return 0;
}

void pipeline_detach_all(struct pipeline *p)
{
	while (p->n_attached > 0) {
		int i = --p->n_attached;
		int err = xdp_program__detach(p->attached[i].prog,
					      p->attached[i].ifindex,
					      p->attached[i].mode, 0);

		if (err)
			pr_warn("cannot detach from ifindex %d: %s\n",
				p->attached[i].ifindex, strerror(-err));
		xdp_program__close(p->attached[i].prog);
	}
}

void pipeline_close(struct pipeline *p)
{
	pipeline_detach_all(p);
	if (p->pin_path[0]) {
		if (unlink(p->pin_path))
			pr_warn("cannot unpin '%s': %s\n", p->pin_path, strerror(errno));
		p->pin_path[0] = '\0';
	}
	for (int i = 0; i < 2; i++)
		if (p->table_fd[i] >= 0)
			close(p->table_fd[i]);
	p->table_fd[0] = p->table_fd[1] = -1;
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	p->lock_fd = -1;
	flowmon__destroy(p->skel);
	p->skel = NULL;
}
