// SPDX-License-Identifier: GPL-2.0
/*
 * loader.c - skeleton open/load, jmp_table, the flow-table pair, pinning,
 * the flow tables' lock file and attach/detach.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.h" /* before the skeleton, which names its types */
#include "flowmon.skel.h"
#include "loader.h"
#include "log.h"

unsigned long long map_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long bytes = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &bytes) == 1)
			break;
	fclose(f);
	return bytes;
}

const char *share_mode_name(enum share_mode mode)
{
	static const char *const names[SHARE_MAX] = { "meta", "percpu", "global" };

	return mode < SHARE_MAX ? names[mode] : "?";
}

/* The hooks the stages are built for (bpf/ctx.h), each with its table. */
enum { HOOK_XDP, HOOK_TC_IN, HOOK_TC_OUT, HOOKS };

/* Stage slot of one hook's instance: flow_* (XDP), tci_* and tce_* (TC). */
#define SLOT_PROGRAM(skel, hook, stage)                                    \
	((hook) == HOOK_XDP ? (skel)->progs.flow_##stage :                   \
	 (hook) == HOOK_TC_IN ? (skel)->progs.tci_##stage : (skel)->progs.tce_##stage)

static struct bpf_program *slot_program(struct flowmon *skel, int hook, int slot)
{
	switch (slot) {
	case SLOT_L2_ETH: return SLOT_PROGRAM(skel, hook, l2_eth);
	case SLOT_L3_IPV4: return SLOT_PROGRAM(skel, hook, l3_ipv4);
	case SLOT_L3_IPV6: return SLOT_PROGRAM(skel, hook, l3_ipv6);
	case SLOT_L4_TCP: return SLOT_PROGRAM(skel, hook, l4_tcp);
	case SLOT_L4_UDP: return SLOT_PROGRAM(skel, hook, l4_udp);
	case SLOT_L4_ICMP: return SLOT_PROGRAM(skel, hook, l4_icmp);
	case SLOT_L4_ICMPV6: return SLOT_PROGRAM(skel, hook, l4_icmpv6);
	case SLOT_END: return SLOT_PROGRAM(skel, hook, end);
	case SLOT_DPI: return SLOT_PROGRAM(skel, hook, dpi);
	case SLOT_DECAP: return SLOT_PROGRAM(skel, hook, decap);
	}
	return NULL;
}

static struct bpf_map *hook_jmp_table(struct flowmon *skel, int hook)
{
	return hook == HOOK_XDP ? skel->maps.jmp_table :
	       hook == HOOK_TC_IN ? skel->maps.jmp_table_tc_in :
				    skel->maps.jmp_table_tc_out;
}

/* Without preallocation (the default) the table costs its bucket array up
 * front and each entry when its flow is there (README "Flow table
 * lifecycle" has the measurements). Either way a deleted entry's memory
 * may be reused at once by the next insert on the deleting CPU (the BPF
 * memory allocator's per-CPU free list, no grace period): hence CLOSE and
 * a grace period before FINAL, and table operations one batch at a time
 * across instances (pipeline_table_ops). */
static int create_flow_table(__u32 max_flows, bool prealloc, __u32 key_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .map_flags = prealloc ? 0 : BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, FLOW_TABLE_NAME,
				key_size, sizeof(struct flow_stats),
				max_flows, &o);

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
 * The owner of a pinned flow table holds a lock file named after the outer
 * map's id for life, so that any path to the same map (or a pin made
 * again) finds the same lock, and a pin whose owner died is known; the
 * instances sharing the table (-M) run their table operations one batch
 * at a time under it (pipeline_table_ops).
 */
static void table_lock_open(struct pipeline *p)
{
	__u32 id = map_id(bpf_map__fd(p->skel->maps.flow_tables));
	char name[32];
	int err;

	snprintf(name, sizeof(name), "map%u", id);
	err = lockfile_open(&p->table_lock, name);
	if (err)
		pr_warn("cannot open lock file '%s' (%s): instances sharing the flow table may race\n",
			p->table_lock.path, strerror(-err));
}

/* The table in slot 0 of a reused flow_tables map: ours from now on too. */
static int current_table_fd(int outer_fd, __u32 *max_entries,
			    __u32 *key_size)
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
	if (strcmp(info.name, FLOW_TABLE_NAME)) { /* another entry layout */
		close(fd);
		return -EPROTO;
	}
	*max_entries = info.max_entries;
	*key_size = info.key_size;
	return fd;
}

/* path's folder + name, or -ENAMETOOLONG. */
static int beside(char *out, size_t size, const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) : 1;

	if (snprintf(out, size, "%.*s/%s", dir_len, slash ? path : ".", name) >=
	    (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* -M: the interfaces the owner and the other peers meter at ingress are
 * in the map pinned beside the table; ours go there too. A table pinned
 * by a flowexport without it: each peer keeps its own list (said). */
static int reuse_ingress_metered(struct flowmon *skel, const char *table_path)
{
	char path[512];
	int fd, err;

	err = beside(path, sizeof(path), table_path, INGRESS_METERED_PIN_NAME);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		pr_warn("no '%s' beside the table (pinned by an older flowexport?): a packet forwarded from an interface another instance meters at ingress is counted again at our egress\n",
			path);
		return 0;
	}
	err = bpf_map__reuse_fd(skel->maps.ingress_metered, fd);
	close(fd);
	if (err)
		pr_warn("'%s' does not fit this flowexport (%s)\n", path,
			strerror(-err));
	return err;
}

/*
 * The overflow ring holds the packets of flows the full table has no room
 * for until the manager reads them; while the manager is not scheduled
 * (a busy host) it is all that stands between them and the totals-only
 * counters. Its pages are taken up front: 1/256 of the memory, a power of
 * two between 4 and 256 MiB (64 MiB on 24 GB: 560k packets, half a
 * second at 1 Mpps). FLOWEXPORT_TEST_OVERFLOW_RING_BYTES: tests.
 */
#define OVERFLOW_RING_MIN (4U << 20)
#define OVERFLOW_RING_MAX (256U << 20)

static __u32 overflow_ring_bytes(void)
{
	const char *test = getenv("FLOWEXPORT_TEST_OVERFLOW_RING_BYTES");
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	unsigned long long want;
	__u32 bytes = OVERFLOW_RING_MIN;

	if (test)
		return (__u32)atol(test);
	want = pages > 0 && page > 0 ? (unsigned long long)pages * page / 256 : 0;
	while (bytes < OVERFLOW_RING_MAX && (unsigned long long)bytes * 2 <= want)
		bytes *= 2;
	return bytes;
}

int pipeline_open(struct pipeline *p, const struct pipeline_opts *opts)
{
	struct flowmon *skel;
	__u32 zero = 0;
	/* the tunnel's id is keyed only with --decap (flow.h) */
	__u32 key_size = opts->decap ? sizeof(struct flow_key) : FLOW_KEY_PLAIN_SIZE;
	int err, reuse_fd = -1;

	memset(p, 0, sizeof(*p));
	p->table_fd = -1;
	p->table_lock.fd = -1;
	p->max_flows = opts->max_flows;
	p->reuse_path = opts->reuse_path;

	skel = flowmon__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the BPF object: %s\n", strerror(-err));
		return err;
	}
	p->skel = skel;
	skel->rodata->share_mode = opts->share;
	for (int hook = HOOK_TC_IN; hook < HOOKS; hook++) {
		bool load = opts->tc_dirs &
			    (1U << (hook == HOOK_TC_IN ? FLOW_DIR_INGRESS : FLOW_DIR_EGRESS));

		bpf_program__set_autoload(hook == HOOK_TC_IN ? skel->progs.tci_start :
							       skel->progs.tce_start, load);
		for (int slot = 0; slot < SLOT_MAX; slot++) {
			struct bpf_program *prog = slot_program(skel, hook, slot);

			if (prog)
				bpf_program__set_autoload(prog, load);
		}
	}
	skel->rodata->sample_rate = opts->sample_rate ? opts->sample_rate : 1;
	skel->rodata->parse_slots = opts->slot_mask;
	/* 0 without -D: the verifier then drops the DPI stage's code */
	skel->rodata->dpi_mask = opts->dpi_mask;
	/* 0 without --decap: the verifier drops every tunnel test */
	skel->rodata->decap_enabled = opts->decap;

	if (opts->reuse_path) {
		reuse_fd = bpf_obj_get(opts->reuse_path);
		if (reuse_fd < 0) {
			err = -errno;
			pr_warn("cannot open the flow table pinned at '%s' (-M): %s\n",
				opts->reuse_path, strerror(-err));
			goto fail;
		}
		/* the table installed there is the one we meter into */
		p->table_fd = current_table_fd(reuse_fd, &p->max_flows,
					       &p->key_size);
		if (p->table_fd == -EPROTO) {
			err = p->table_fd;
			pr_warn("the flow table pinned at '%s' holds entries of another layout (made by another flowexport version): finish it with that version, or remove the pin\n",
				opts->reuse_path);
			goto fail;
		}
		if (p->table_fd < 0) {
			err = p->table_fd;
			pr_warn("'%s' is not a flowexport flow table: %s\n",
				opts->reuse_path, strerror(-err));
			goto fail;
		}
		if (p->key_size != key_size) {
			err = -EINVAL;
			pr_warn("the flow table pinned at '%s' was made %s --decap (its key %s the VNI); continue it %s --decap, or remove the pin\n",
				opts->reuse_path,
				p->key_size == FLOW_KEY_PLAIN_SIZE ? "without" : "with",
				p->key_size == FLOW_KEY_PLAIN_SIZE ? "has no room for" : "holds",
				p->key_size == FLOW_KEY_PLAIN_SIZE ? "without" : "with");
			goto fail;
		}
		err = bpf_map__reuse_fd(skel->maps.flow_tables, reuse_fd);
		if (err) {
			pr_warn("'%s' does not fit this flowexport (%s); was it made by another version?\n",
				opts->reuse_path, strerror(-err));
			goto fail;
		}
		err = reuse_ingress_metered(skel, opts->reuse_path);
		if (err)
			goto fail;
	} else {
		p->key_size = key_size;
		p->table_fd = create_flow_table(p->max_flows, opts->prealloc,
						key_size);
		if (p->table_fd < 0) {
			err = p->table_fd;
			pr_warn("cannot create a flow table of %u entries: %s\n",
				p->max_flows, strerror(-err));
			goto fail;
		}
	}
	p->table_id = map_id(p->table_fd);
	/* the table also gives flow_tables its inner-map shape (libbpf 1.1
	 * cannot resize the inner-map template it parses from BTF) */
	err = bpf_map__set_inner_map_fd(skel->maps.flow_tables, p->table_fd);
	if (err)
		goto fail;
	err = bpf_map__set_max_entries(skel->maps.overflow_ring,
				       overflow_ring_bytes());
	if (err)
		goto fail;
	if (opts->notice_ring_bytes || getenv("FLOWEXPORT_TEST_NOTICE_RING_BYTES")) {
		/* tests: a tiny ring loses notices on purpose */
		__u32 bytes = opts->notice_ring_bytes ? opts->notice_ring_bytes :
			      (__u32)atol(getenv("FLOWEXPORT_TEST_NOTICE_RING_BYTES"));

		err = bpf_map__set_max_entries(skel->maps.notice_ring, bytes);
		if (err)
			goto fail;
	}

	err = flowmon__load(skel);
	if (err) {
		pr_warn("cannot load the BPF programs (share=%s): %s; run with -v for the verifier log\n",
			share_mode_name(opts->share), strerror(-err));
		goto fail;
	}

	for (int hook = 0; hook < HOOKS; hook++)
		for (int slot = 0; slot < SLOT_MAX; slot++) {
			struct bpf_program *prog = slot_program(skel, hook, slot);
			int fd = prog ? bpf_program__fd(prog) : -1;

			if (!(opts->slot_mask & (1U << slot)) || fd < 0)
				continue;
			if (slot == SLOT_DPI && !opts->dpi_mask)
				continue;
			if (slot == SLOT_DECAP && !opts->decap)
				continue;
			if (bpf_map_update_elem(bpf_map__fd(hook_jmp_table(skel, hook)),
						&slot, &fd, BPF_ANY)) {
				err = -errno;
				pr_warn("cannot fill %s slot %d: %s\n",
					bpf_map__name(hook_jmp_table(skel, hook)),
					slot, strerror(-err));
				goto fail;
			}
		}

	if (!opts->reuse_path &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.flow_tables), &zero,
				&p->table_fd, BPF_ANY)) {
		err = -errno;
		pr_warn("cannot install the flow table: %s\n", strerror(-err));
		goto fail;
	}
	if (opts->lock)
		table_lock_open(p);
	if (reuse_fd >= 0)
		close(reuse_fd);
	return 0;
fail:
	if (reuse_fd >= 0)
		close(reuse_fd);
	pipeline_close(p);
	return err;
}

int pipeline_grace(struct pipeline *p)
{
	__u32 zero = 0;

	/* the same table again: nothing changes but the wait */
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.flow_tables), &zero,
				&p->table_fd, BPF_ANY))
		return -errno;
	return 0;
}

int pipeline_retire_table(struct pipeline *p, int *old_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	int fd, err;

	if (bpf_obj_get_info_by_fd(p->table_fd, &info, &len))
		return -errno;
	fd = create_flow_table(info.max_entries,
			       !(info.map_flags & BPF_F_NO_PREALLOC), info.key_size);
	if (fd < 0)
		return fd;
	/* returns after a grace period: nothing still uses the old one */
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.flow_tables), &zero,
				&fd, BPF_ANY)) {
		err = -errno;
		close(fd);
		return err;
	}
	*old_fd = p->table_fd;
	p->table_fd = fd;
	p->table_id = map_id(fd);
	return 0;
}

/*
 * One batch at a time across every instance sharing the table (-M): a
 * deleted entry's memory goes back to the per-CPU free list and the next
 * insert on that CPU takes it with no grace period, so a batch that holds
 * an entry's pointer while another instance's FINAL deletes it could move
 * a new flow's counts into the old flow's delta. The sleepable program is
 * not waited for by a grace period either; the lock file is.
 */
int pipeline_table_ops(struct pipeline *p, __u32 count, __u32 *done)
{
	struct table_op_args args = { .count = count };
	/* a SYSCALL program's context is copied back into ctx_in */
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &args,
		    .ctx_size_in = sizeof(args));
	bool locked = p->table_lock.fd >= 0;
	int err = 0;

	if (locked) {
		err = lockfile_take(&p->table_lock, LOCK_SWAP, true);
		if (err)
			return err;
	}
	if (bpf_prog_test_run_opts(bpf_program__fd(p->skel->progs.table_ops), &o))
		err = -errno;
	if (locked)
		lockfile_release(&p->table_lock, LOCK_SWAP);
	if (err)
		return err;
	if (o.retval)
		return (int)o.retval;
	if (done)
		*done = args.done;
	return 0;
}

static bool self_conn_in(const struct self_conn_key *k,
			 const struct self_conn_key *set, int n)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(k, &set[i], sizeof(*k)))
			return true;
	return false;
}

static __u32 tcp_count(const struct self_conn_key *k, int n)
{
	__u32 tcp = 0;

	for (int i = 0; i < n; i++)
		tcp += k[i].protocol == IPPROTO_TCP;
	return tcp;
}

/* Without a gap: the new entries go in before the old ones leave, and the
 * count the programs test never drops to 0 meanwhile, so a packet of a
 * connection that stays (or arrives) is never metered during the change.
 * The map holds both sets at once (2 * MAX_SELF_CONNS entries). */
int pipeline_set_self_conns(struct pipeline *p,
			    const struct self_conn_key *keys, int n)
{
	int fd = bpf_map__fd(p->skel->maps.self_conns);
	__u8 one = 1;
	int kept = 0;

	if (n > MAX_SELF_CONNS)
		n = MAX_SELF_CONNS;
	if (n == p->n_self && !memcmp(keys, p->self, n * sizeof(*keys)))
		return 0;
	if (n) {
		p->skel->bss->self_conn_count = p->n_self + n;
		p->skel->bss->self_conn_tcp_count =
			tcp_count(p->self, p->n_self) + tcp_count(keys, n);
	}
	for (int i = 0; i < n; i++)
		if (!self_conn_in(&keys[i], p->self, p->n_self) &&
		    bpf_map_update_elem(fd, &keys[i], &one, BPF_ANY))
			return -errno;
	for (int i = 0; i < p->n_self; i++)
		if (!self_conn_in(&p->self[i], keys, n))
			bpf_map_delete_elem(fd, &p->self[i]);
	for (int i = 0; i < n; i++)
		p->self[kept++] = keys[i];
	p->n_self = kept;
	p->skel->bss->self_conn_count = p->n_self;
	p->skel->bss->self_conn_tcp_count = tcp_count(p->self, p->n_self);
	return 0;
}

/* Counters of the directions in mask (1 << enum flow_direction). */
static int counters_sum(struct pipeline *p, unsigned int mask, __u64 *out)
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
		for (__u32 dir = 0; dir < FLOW_DIRECTIONS; dir++) {
			__u32 idx = dir * CNT_MAX + c;

			if (!(mask & (1U << dir)) ||
			    bpf_map_lookup_elem(fd, &idx, per_cpu))
				continue;
			for (int i = 0; i < ncpu; i++)
				out[c] += per_cpu[i];
		}
	}
	free(per_cpu);
	return 0;
}

int pipeline_counters(struct pipeline *p, __u64 *out)
{
	return counters_sum(p, (1U << FLOW_DIRECTIONS) - 1, out);
}

int pipeline_counters_dir(struct pipeline *p, enum flow_direction dir,
			  __u64 *out)
{
	return counters_sum(p, 1U << dir, out);
}

int pipeline_start_fd(struct pipeline *p)
{
	return bpf_program__fd(p->skel->progs.flow_start);
}

int pipeline_tc_start_fd(struct pipeline *p, bool egress)
{
	return bpf_program__fd(egress ? p->skel->progs.tce_start :
					p->skel->progs.tci_start);
}

int pipeline_jmp_table_fd(struct pipeline *p)
{
	return bpf_map__fd(p->skel->maps.jmp_table);
}

int pipeline_tc_jmp_table_fd(struct pipeline *p, bool egress)
{
	return bpf_map__fd(egress ? p->skel->maps.jmp_table_tc_out :
				    p->skel->maps.jmp_table_tc_in);
}

int pipeline_floor_fd(struct pipeline *p)
{
	return bpf_program__fd(p->skel->progs.floor_pass);
}

int pipeline_ring_fd(struct pipeline *p)
{
	return bpf_map__fd(p->skel->maps.overflow_ring);
}

int pipeline_notice_ring_fd(struct pipeline *p)
{
	return bpf_map__fd(p->skel->maps.notice_ring);
}

int pipeline_op_batch_fd(struct pipeline *p)
{
	return bpf_map__fd(p->skel->maps.op_batch);
}

int pipeline_dpi_ring_fd(struct pipeline *p)
{
	return bpf_map__fd(p->skel->maps.dpi_ring);
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

int pipeline_mkdir(const char *dir)
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

/* The lock file of the flow table pinned at path, open; or -errno. */
static int pinned_table_lock(const char *path, struct lockfile *l)
{
	char name[32];
	int fd = bpf_obj_get(path);
	__u32 id;

	if (fd < 0)
		return -errno;
	id = map_id(fd);
	close(fd);
	snprintf(name, sizeof(name), "map%u", id);
	return lockfile_open(l, name);
}

int pipeline_pin_orphaned(const char *path)
{
	struct lockfile l = LOCKFILE_INIT;
	int err = pinned_table_lock(path, &l);

	if (err)
		return err;
	err = lockfile_take(&l, LOCK_OWNER, false);
	lockfile_close(&l);
	return err == 0 ? 1 : 0;
}

static void warn_pinned(const char *path)
{
	pr_warn("a flow table is already pinned at '%s': is another flowexport running? Share it with -M %s or pin elsewhere with -F DIR\n",
		path, path);
}

/* Beside the table, for -M peers (see reuse_ingress_metered). A run that
 * continues a dead one's pin reuses its map, already pinned. */
static int pin_ingress_metered(struct pipeline *p, const char *dir)
{
	char path[512];
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, INGRESS_METERED_PIN_NAME) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (bpf_obj_pin(bpf_map__fd(p->skel->maps.ingress_metered), path) &&
	    !(errno == EEXIST && p->pin_adopted)) {
		err = -errno;
		pr_warn("cannot pin the interfaces metered at ingress at '%s': %s\n",
			path, strerror(-err));
		return err;
	}
	snprintf(p->ingress_pin_path, sizeof(p->ingress_pin_path), "%s", path);
	return 0;
}

int pipeline_pin(struct pipeline *p, const char *dir)
{
	char path[512];
	int err;

	err = pipeline_mkdir(dir);
	if (err) {
		pr_warn("cannot create pin folder '%s': %s\n", dir, strerror(-err));
		return err;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, FLOW_TABLE_PIN_NAME) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (p->reuse_path && !strcmp(p->reuse_path, path)) {
		/* continuing the pin of a run that died: ours if its
		 * owner's lock is free */
		if (lockfile_take(&p->table_lock, LOCK_OWNER, false)) {
			warn_pinned(path);
			return -EEXIST;
		}
		pr_info("continuing the flow table a previous run left at '%s'\n",
			path);
		p->pin_adopted = true;
	} else if (bpf_obj_pin(bpf_map__fd(p->skel->maps.flow_tables), path)) {
		err = -errno;
		if (err == -EEXIST)
			warn_pinned(path);
		else
			pr_warn("cannot pin the flow table at '%s': %s\n", path,
				strerror(-err));
		return err;
	} else {
		lockfile_take(&p->table_lock, LOCK_OWNER, false);
	}
	snprintf(p->pin_path, sizeof(p->pin_path), "%s", path);
	return pin_ingress_metered(p, dir);
}

static int attach_xdp(struct pipeline *p, const char *ifname,
		      enum xdp_attach_mode mode, bool try_only,
		      const char *link_dir)
{
	int err;

	if (p->n_attached == MAX_IFACES)
		return -E2BIG;
	err = xdp_link_attach(&p->attached[p->n_attached], pipeline_start_fd(p),
			      ifname, mode, try_only, link_dir);
	if (err)
		return err;
	p->n_attached++;
	return 0;
}

static int attach_tc(struct pipeline *p, const char *ifname, bool egress,
		     const struct pipeline_attach_opts *o)
{
	int prog = bpf_program__fd(egress ? p->skel->progs.tce_start :
					    p->skel->progs.tci_start);
	int err;

	if (prog < 0) /* pipeline_opts.tc_dirs did not ask for it */
		return -ENOENT;
	if (p->n_tc == 2 * MAX_IFACES)
		return -E2BIG;
	err = tc_link_attach(&p->tc[p->n_tc], prog, ifname, egress,
			     o->tc_hook, o->link_dir);
	if (err)
		return err;
	p->n_tc++;
	return 0;
}

/* The egress programs leave out forwarded packets that entered through an
 * interface metered at ingress: they were counted there. */
static int note_ingress_metered(struct pipeline *p, const char *ifname)
{
	__u32 ifindex = if_nametoindex(ifname);
	__u8 one = 1;

	if (!ifindex)
		return -ENODEV;
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.ingress_metered),
				&ifindex, &one, BPF_ANY))
		return -errno;
	return 0;
}

/* Detached at ingress: a -M peer's egress counts its forwarded packets
 * again (and a run that follows adds it back). */
static void forget_ingress_metered(struct pipeline *p, int ifindex)
{
	__u32 key = ifindex;

	bpf_map_delete_elem(bpf_map__fd(p->skel->maps.ingress_metered), &key);
}

static enum xdp_attach_mode xdp_mode_of(enum ingress_mode mode)
{
	switch (mode) {
	case INGRESS_XDP_SKB: return XDP_MODE_SKB;
	case INGRESS_XDP_HW: return XDP_MODE_HW;
	default: return XDP_MODE_NATIVE;
	}
}

static int attach_ingress(struct pipeline *p, const char *ifname,
			  const struct pipeline_attach_opts *o)
{
	int err;

	if (o->mode == INGRESS_TC)
		return attach_tc(p, ifname, false, o);
	err = attach_xdp(p, ifname, xdp_mode_of(o->mode),
			 o->mode == INGRESS_AUTO, o->link_dir);
	if (err != -EOPNOTSUPP || o->mode != INGRESS_AUTO)
		return err;
	pr_info("%s: no native XDP in its driver; metering its ingress at TC (every wire packet counted, as native XDP would)\n",
		ifname);
	return attach_tc(p, ifname, false, o);
}

int pipeline_attach(struct pipeline *p, const char *ifname,
		    const struct pipeline_attach_opts *o)
{
	int err;

	/* before any program runs: a forwarded packet must not be counted
	 * at egress in the moment before its ingress is attached */
	if (o->direction & METER_INGRESS) {
		err = note_ingress_metered(p, ifname);
		if (err) {
			pr_warn("%s: cannot note it as metered at ingress: %s\n",
				ifname, strerror(-err));
			return err;
		}
		err = attach_ingress(p, ifname, o);
		if (err)
			return err;
	}
	if (o->direction & METER_EGRESS)
		return attach_tc(p, ifname, true, o);
	return 0;
}

struct pipeline_attach_opts pipeline_attach_opts_of(const struct config *cfg,
						   int i, const char *link_dir)
{
	struct pipeline_attach_opts o = {
		.mode = cfg->modes[i],
		.direction = cfg->direction,
		.tc_hook = cfg->tc_hook,
		.link_dir = link_dir,
	};

	return o;
}

int pipeline_iface_index(const struct pipeline *p, const char *ifname)
{
	for (int i = 0; i < p->n_attached; i++)
		if (!strcmp(p->attached[i].ifname, ifname))
			return p->attached[i].ifindex;
	for (int i = 0; i < p->n_tc; i++)
		if (!strcmp(p->tc[i].ifname, ifname))
			return p->tc[i].ifindex;
	return 0;
}

int pipeline_detach(struct pipeline *p, const char *ifname)
{
	int found = 0;

	for (int i = 0; i < p->n_attached; i++) {
		if (strcmp(p->attached[i].ifname, ifname))
			continue;
		forget_ingress_metered(p, p->attached[i].ifindex);
		xdp_link_detach(&p->attached[i]);
		memmove(&p->attached[i], &p->attached[i + 1],
			(p->n_attached - i - 1) * sizeof(p->attached[0]));
		p->n_attached--;
		i--;
		found = 1;
	}
	for (int i = 0; i < p->n_tc; i++) {
		if (strcmp(p->tc[i].ifname, ifname))
			continue;
		if (!p->tc[i].egress)
			forget_ingress_metered(p, p->tc[i].ifindex);
		tc_link_detach(&p->tc[i]);
		memmove(&p->tc[i], &p->tc[i + 1],
			(p->n_tc - i - 1) * sizeof(p->tc[0]));
		p->n_tc--;
		i--;
		found = 1;
	}
	return found ? 0 : -ENOENT;
}

bool pipeline_owns_pin(const struct pipeline *p, const char *path)
{
	for (int i = 0; i < p->n_attached; i++)
		if (!strcmp(p->attached[i].pin, path))
			return true;
	for (int i = 0; i < p->n_tc; i++)
		if (!strcmp(p->tc[i].pin, path))
			return true;
	return false;
}

int pipeline_detach_all(struct pipeline *p)
{
	int err = 0, e;

	while (p->n_tc > 0) {
		struct tc_attachment *a = &p->tc[--p->n_tc];

		if (!a->egress)
			forget_ingress_metered(p, a->ifindex);
		e = tc_link_detach(a);
		err = err ? err : e;
	}
	while (p->n_attached > 0) {
		struct xdp_attachment *a = &p->attached[--p->n_attached];

		forget_ingress_metered(p, a->ifindex);
		e = xdp_link_detach(a);
		err = err ? err : e;
	}
	return err;
}

void pipeline_give_back_all(struct pipeline *p)
{
	while (p->n_tc > 0)
		tc_link_give_back(&p->tc[--p->n_tc]);
	while (p->n_attached > 0)
		xdp_link_give_back(&p->attached[--p->n_attached]);
	if (p->pin_adopted) { /* the previous run's programs still use it */
		p->pin_path[0] = '\0';
		p->ingress_pin_path[0] = '\0';
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
	if (p->ingress_pin_path[0] && unlink(p->ingress_pin_path))
		pr_warn("cannot unpin '%s': %s\n", p->ingress_pin_path, strerror(errno));
	p->ingress_pin_path[0] = '\0';
	if (p->table_fd >= 0)
		close(p->table_fd);
	p->table_fd = -1;
	lockfile_close(&p->table_lock);
	flowmon__destroy(p->skel);
	p->skel = NULL;
}
