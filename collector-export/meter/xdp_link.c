// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_link.c - XDP attachment through BPF links: create and pin, take over
 * a pinned one of ours, refuse anyone else's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "xdp_link.h"

static const char *mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_HW: return "hw";
	case XDP_MODE_SKB: return "skb";
	default: return "unspec";
	}
}

static __u32 mode_flags(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return XDP_FLAGS_DRV_MODE;
	case XDP_MODE_HW: return XDP_FLAGS_HW_MODE;
	case XDP_MODE_SKB: return XDP_FLAGS_SKB_MODE;
	default: return 0;
	}
}

/* The program now on ifindex, for the refusal message: "id N 'name'". */
static void describe_attached(int ifindex, char *buf, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info), id;
	int fd;

	snprintf(buf, len, "another XDP program");
	if (bpf_xdp_query(ifindex, 0, &q))
		return;
	id = q.prog_id ? q.prog_id : q.skb_prog_id ? q.skb_prog_id :
	     q.drv_prog_id ? q.drv_prog_id : q.hw_prog_id;
	if (!id)
		return;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &info_len) == 0)
		snprintf(buf, len, "XDP program id %u '%s'%s", id, info.name,
			 strcmp(info.name, "flow_start") ? "" :
			 " (a flowexport that pinned no link: another -F, or an older version?)");
	else
		snprintf(buf, len, "XDP program id %u", id);
	if (fd >= 0)
		close(fd);
}

/* The link pinned at path, if it is an XDP link still on ifindex. An
 * interface that went away leaves a defunct link: -ENODEV. */
static int open_pinned_link(const char *path, int ifindex, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), err;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto fail;
	}
	if (info.type != BPF_LINK_TYPE_XDP) {
		err = -EINVAL;
		goto fail;
	}
	if ((int)info.xdp.ifindex != ifindex) {
		err = -ENODEV;
		goto fail;
	}
	*prog_id = info.prog_id;
	return fd;
fail:
	close(fd);
	return err;
}

int link_swap_program(int link_fd, __u32 old_id, int prog_fd)
{
	LIBBPF_OPTS(bpf_link_update_opts, u, .flags = BPF_F_REPLACE);
	int old_fd = bpf_prog_get_fd_by_id(old_id), err;

	if (old_fd < 0)
		return -errno;
	u.old_prog_fd = old_fd;
	if (bpf_link_update(link_fd, prog_fd, &u)) {
		err = -errno;
		close(old_fd);
		return err;
	}
	return old_fd;
}

/* Our previous run's link on this interface: point it at prog_fd in one
 * step (the driver swaps the program pointer; no packet sees neither). */
static int take_over(struct xdp_attachment *a, int link_fd, __u32 old_id,
		     int prog_fd)
{
	int old_fd = link_swap_program(link_fd, old_id, prog_fd);

	if (old_fd < 0)
		return old_fd;
	a->link_fd = link_fd;
	a->old_prog_fd = old_fd;
	pr_info("%s: took over the attachment of a previous run (program id %u)\n",
		a->ifname, old_id);
	return 0;
}

int xdp_link_attach(struct xdp_attachment *a, int prog_fd, const char *ifname,
		    enum xdp_attach_mode mode, bool try_only, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = mode_flags(mode));
	char other[160];
	__u32 old_id = 0;
	int err, fd;

	memset(a, 0, sizeof(*a));
	a->link_fd = a->old_prog_fd = -1;
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->ifindex = if_nametoindex(ifname);
	if (!a->ifindex) {
		pr_warn("no interface '%s'\n", ifname);
		return -ENODEV;
	}
	if (pin_dir && snprintf(a->pin, sizeof(a->pin), "%s/" XDP_LINK_PIN_PREFIX "%s",
				pin_dir, ifname) >= (int)sizeof(a->pin)) {
		pr_warn("pin folder name too long: '%s'\n", pin_dir);
		return -ENAMETOOLONG;
	}
	if (a->pin[0]) {
		fd = open_pinned_link(a->pin, a->ifindex, &old_id);
		if (fd >= 0) {
			err = take_over(a, fd, old_id, prog_fd);
			if (!err)
				return 0;
			close(fd);
			pr_warn("%s: cannot take over the previous run's attachment: %s\n",
				ifname, strerror(-err));
			return err;
		}
		if (fd != -ENOENT) {
			/* not a live link of this interface: a leftover */
			pr_info("%s: removing a defunct link pin '%s'\n", ifname, a->pin);
			unlink(a->pin);
		}
	}
	fd = bpf_link_create(prog_fd, a->ifindex, BPF_XDP, &o);
	if (fd < 0) {
		err = -errno;
		if (err == -EOPNOTSUPP && try_only)
			return err; /* the caller has another way */
		if (err == -EBUSY || err == -EEXIST) {
			describe_attached(a->ifindex, other, sizeof(other));
			pr_warn("%s: %s is attached there and is not ours; flowexport never replaces it (remove it first, e.g. ip link set dev %s xdp off, if it should go)\n",
				ifname, other, ifname);
		} else {
			pr_warn("cannot attach to %s in %s mode: %s%s\n", ifname,
				mode_name(mode), strerror(-err),
				mode == XDP_MODE_HW ?
				" (hw offload needs a NIC that offloads this program; use -m native or -m skb)" :
				err == -EOPNOTSUPP || err == -EINVAL ?
				" (does the driver support this mode? try -m skb)" : "");
		}
		return err;
	}
	if (a->pin[0] && bpf_obj_pin(fd, a->pin)) {
		err = -errno;
		pr_warn("cannot pin the XDP link at '%s': %s\n", a->pin, strerror(-err));
		bpf_link_detach(fd);
		close(fd);
		return err;
	}
	a->link_fd = fd;
	pr_info("attached to %s (%s mode)\n", ifname, mode_name(mode));
	return 0;
}

int xdp_link_detach(struct xdp_attachment *a)
{
	int err = 0;

	if (a->link_fd < 0)
		return 0;
	/* explicitly: a pin or a copy of the fd would keep the link alive */
	if (bpf_link_detach(a->link_fd)) {
		err = -errno;
		pr_warn("cannot detach from %s: %s\n", a->ifname, strerror(-err));
	}
	if (a->pin[0] && unlink(a->pin) && errno != ENOENT)
		pr_warn("cannot unpin '%s': %s\n", a->pin, strerror(errno));
	close(a->link_fd);
	a->link_fd = -1;
	if (a->old_prog_fd >= 0)
		close(a->old_prog_fd);
	a->old_prog_fd = -1;
	return err;
}

void xdp_link_give_back(struct xdp_attachment *a)
{
	if (a->link_fd >= 0 && a->old_prog_fd >= 0 &&
	    bpf_link_update(a->link_fd, a->old_prog_fd, NULL) == 0) {
		close(a->link_fd);
		close(a->old_prog_fd);
		a->link_fd = a->old_prog_fd = -1;
		return;
	}
	xdp_link_detach(a);
}

int xdp_link_drop_pinned(const char *path)
{
	int fd = bpf_obj_get(path), err = 0;

	if (fd >= 0) {
		if (bpf_link_detach(fd))
			err = -errno;
		close(fd);
	}
	if (unlink(path))
		err = err ? err : -errno;
	return err;
}
