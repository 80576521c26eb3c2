// SPDX-License-Identifier: GPL-2.0
/*
 * tc_link.c - TC attachment: TCX links (pinned, taken over after a crash),
 * clsact filters where the kernel has no TCX.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "tc_link.h"
#include "xdp_link.h"

/* The kernel's values; libbpf 1.1's uapi headers predate TCX. */
#define FX_BPF_TCX_INGRESS 46
#define FX_BPF_TCX_EGRESS 47
#define FX_BPF_LINK_TYPE_TCX 11

/* Our clsact filter: one fixed handle and priority, so that the next run
 * finds (and replaces) what a run that died left. */
#define CLSACT_HANDLE 0xf10e
#define CLSACT_PRIORITY 0xf10e

const char *tc_hook_kind_name(enum tc_hook_kind kind)
{
	return kind == TC_HOOK_CLSACT ? "clsact" : kind == TC_HOOK_TCX ? "tcx" : "auto";
}

bool tc_link_is_pin_name(const char *name)
{
	return !strncmp(name, TC_LINK_PIN_PREFIX_IN, strlen(TC_LINK_PIN_PREFIX_IN)) ||
	       !strncmp(name, TC_LINK_PIN_PREFIX_OUT, strlen(TC_LINK_PIN_PREFIX_OUT));
}

static const char *where(const struct tc_attachment *a)
{
	return a->egress ? "egress" : "ingress";
}

/* bpf_link_info's union as TCX fills it (libbpf 1.1 does not name it). */
struct tcx_link_info {
	__u32 ifindex;
	__u32 attach_type;
};

/* The link pinned at path, if it is a TCX link still on our interface and
 * hook. An interface that went away leaves a defunct link: -ENODEV. */
static int open_pinned_link(const struct tc_attachment *a, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	struct tcx_link_info tcx;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(a->pin), err;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto fail;
	}
	memcpy(&tcx, &info.raw_tracepoint, sizeof(tcx)); /* the union */
	if (info.type != FX_BPF_LINK_TYPE_TCX) {
		err = -EINVAL;
		goto fail;
	}
	if ((int)tcx.ifindex != a->ifindex ||
	    tcx.attach_type != (a->egress ? FX_BPF_TCX_EGRESS : FX_BPF_TCX_INGRESS)) {
		err = -ENODEV;
		goto fail;
	}
	*prog_id = info.prog_id;
	return fd;
fail:
	close(fd);
	return err;
}

static int take_over_link(struct tc_attachment *a, int link_fd, __u32 old_id,
			  int prog_fd)
{
	int old_fd = link_swap_program(link_fd, old_id, prog_fd);

	if (old_fd < 0)
		return old_fd;
	a->link_fd = link_fd;
	a->old_prog_fd = old_fd;
	pr_info("%s: took over the %s attachment of a previous run (program id %u)\n",
		a->ifname, where(a), old_id);
	return 0;
}

static int attach_tcx(struct tc_attachment *a, int prog_fd)
{
	int fd = bpf_link_create(prog_fd, a->ifindex,
				 a->egress ? FX_BPF_TCX_EGRESS : FX_BPF_TCX_INGRESS,
				 NULL);
	int err;

	if (fd < 0)
		return -errno;
	if (a->pin[0] && bpf_obj_pin(fd, a->pin)) {
		err = -errno;
		pr_warn("cannot pin the TC link at '%s': %s\n", a->pin, strerror(-err));
		bpf_link_detach(fd);
		close(fd);
		return err;
	}
	a->link_fd = fd;
	return 0;
}

static void clsact_hook(const struct tc_attachment *a, struct bpf_tc_hook *h)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = a->ifindex;
	h->attach_point = a->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

/* Is program id ours (one of the TC entry programs)? Its fd, or -1. */
static int our_entry_program(__u32 id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    (strcmp(info.name, "tci_start") && strcmp(info.name, "tce_start"))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int attach_clsact(struct tc_attachment *a, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = CLSACT_HANDLE,
		    .priority = CLSACT_PRIORITY);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = CLSACT_HANDLE,
		    .priority = CLSACT_PRIORITY, .prog_fd = prog_fd);
	struct bpf_tc_hook h;
	int err;

	clsact_hook(a, &h);
	h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS; /* the qdisc */
	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST)
		return err;
	a->made_qdisc = !err;
	clsact_hook(a, &h);
	a->clsact = true;
	if (bpf_tc_query(&h, &q) == 0) {
		/* a filter at our handle: a run that died, or not ours */
		a->old_prog_fd = our_entry_program(q.prog_id);
		if (a->old_prog_fd < 0) {
			pr_warn("%s: a TC %s filter with flowexport's handle %#x is attached and is not ours; flowexport never replaces it\n",
				a->ifname, where(a), CLSACT_HANDLE);
			a->clsact = false;
			return -EEXIST;
		}
		o.flags = BPF_TC_F_REPLACE;
		pr_info("%s: took over the %s filter of a previous run (program id %u)\n",
			a->ifname, where(a), q.prog_id);
	}
	err = bpf_tc_attach(&h, &o);
	if (err) {
		a->clsact = false;
		if (a->made_qdisc) {
			h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&h);
			a->made_qdisc = false;
		}
	}
	return err;
}

int tc_link_attach(struct tc_attachment *a, int prog_fd, const char *ifname,
		   bool egress, enum tc_hook_kind kind, const char *pin_dir)
{
	__u32 old_id = 0;
	int err, fd;

	memset(a, 0, sizeof(*a));
	a->link_fd = a->old_prog_fd = -1;
	a->egress = egress;
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->ifindex = if_nametoindex(ifname);
	if (!a->ifindex) {
		pr_warn("no interface '%s'\n", ifname);
		return -ENODEV;
	}
	if (pin_dir && kind != TC_HOOK_CLSACT &&
	    snprintf(a->pin, sizeof(a->pin), "%s/%s%s", pin_dir,
		     egress ? TC_LINK_PIN_PREFIX_OUT : TC_LINK_PIN_PREFIX_IN,
		     ifname) >= (int)sizeof(a->pin)) {
		pr_warn("pin folder name too long: '%s'\n", pin_dir);
		return -ENAMETOOLONG;
	}
	if (a->pin[0]) {
		fd = open_pinned_link(a, &old_id);
		if (fd >= 0) {
			err = take_over_link(a, fd, old_id, prog_fd);
			if (!err)
				return 0;
			close(fd);
			pr_warn("%s: cannot take over the previous run's %s attachment: %s\n",
				ifname, where(a), strerror(-err));
			return err;
		}
		if (fd != -ENOENT) {
			pr_info("%s: removing a defunct link pin '%s'\n", ifname, a->pin);
			unlink(a->pin);
		}
	}
	err = -EINVAL;
	if (kind != TC_HOOK_CLSACT) {
		err = attach_tcx(a, prog_fd);
		if (!err) {
			pr_info("attached to %s %s (tcx)\n", ifname, where(a));
			return 0;
		}
		/* a kernel without TCX does not know the attach type */
		if (kind == TC_HOOK_TCX || err != -EINVAL) {
			pr_warn("cannot attach to %s %s with tcx: %s%s\n", ifname,
				where(a), strerror(-err),
				err == -EINVAL ? " (a kernel older than 6.6? try --tc-hook clsact)" : "");
			return err;
		}
		pr_info("%s: no tcx in this kernel, attaching a clsact filter\n", ifname);
		a->pin[0] = '\0';
	}
	err = attach_clsact(a, prog_fd);
	if (err) {
		if (err != -EEXIST)
			pr_warn("cannot attach a clsact filter to %s %s: %s\n",
				ifname, where(a), strerror(-err));
		return err;
	}
	pr_info("attached to %s %s (clsact)\n", ifname, where(a));
	return 0;
}

static int detach_clsact(struct tc_attachment *a)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = CLSACT_HANDLE,
		    .priority = CLSACT_PRIORITY);
	struct bpf_tc_hook h;
	int err;

	clsact_hook(a, &h);
	err = bpf_tc_detach(&h, &o);
	if (err == -ENOENT || err == -ENODEV) /* gone, or with its interface */
		err = 0;
	if (err)
		pr_warn("cannot detach the TC filter from %s %s: %s\n", a->ifname,
			where(a), strerror(-err));
	/* only the qdisc we made: others' filters may hang on one we found */
	if (a->made_qdisc) {
		h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&h);
	}
	a->clsact = a->made_qdisc = false;
	return err;
}

int tc_link_detach(struct tc_attachment *a)
{
	int err = 0;

	if (a->clsact)
		err = detach_clsact(a);
	if (a->link_fd >= 0) {
		/* explicitly: a pin or a copy of the fd would keep it alive */
		if (bpf_link_detach(a->link_fd)) {
			err = -errno;
			pr_warn("cannot detach from %s %s: %s\n", a->ifname,
				where(a), strerror(-err));
		}
		if (a->pin[0] && unlink(a->pin) && errno != ENOENT)
			pr_warn("cannot unpin '%s': %s\n", a->pin, strerror(errno));
		close(a->link_fd);
		a->link_fd = -1;
	}
	if (a->old_prog_fd >= 0)
		close(a->old_prog_fd);
	a->old_prog_fd = -1;
	return err;
}

void tc_link_give_back(struct tc_attachment *a)
{
	if (a->old_prog_fd < 0) {
		tc_link_detach(a);
		return;
	}
	if (a->link_fd >= 0 &&
	    bpf_link_update(a->link_fd, a->old_prog_fd, NULL) == 0) {
		close(a->link_fd);
		a->link_fd = -1;
	} else if (a->clsact) {
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = CLSACT_HANDLE,
			    .priority = CLSACT_PRIORITY,
			    .prog_fd = a->old_prog_fd, .flags = BPF_TC_F_REPLACE);
		struct bpf_tc_hook h;

		clsact_hook(a, &h);
		if (bpf_tc_attach(&h, &o))
			detach_clsact(a);
		a->clsact = false;
	} else {
		tc_link_detach(a);
		return;
	}
	close(a->old_prog_fd);
	a->old_prog_fd = -1;
}
