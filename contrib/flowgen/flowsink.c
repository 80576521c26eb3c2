// SPDX-License-Identifier: GPL-2.0
/*
 * flowsink - holds one of the reference programs of bpf/maponly.bpf.c on an
 * interface while flowgen sends, so that flowexport can be compared with
 * them on the same veth:
 *
 *   flowsink -i IF -p pass|map|map-ondemand [-m MODE] [-n ENTRIES] [-T SEC] [-j]
 *
 * pass: XDP_PASS only; map: the bare map program (5-tuple key, shared hash,
 * in-place atomic adds), its table preallocated; map-ondemand: the same
 * with each entry allocated when its flow comes (BPF_F_NO_PREALLOC), as
 * flowexport's table is. Runs until SIGINT/SIGTERM or SEC seconds, then
 * detaches and prints the flows and packets in the map (map), so a test can
 * count what arrived.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.h"
#include "maponly.skel.h"

#define BATCH 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct totals {
	unsigned long long flows, packets, octets;
};

/* Sums the map with batched lookups (a 1M-entry map in well under 1 s). */
static int sum_map(int fd, struct totals *t)
{
	static struct flow_key keys[BATCH];
	static struct flow_stats vals[BATCH];
	__u8 batch[sizeof(struct flow_key)];
	bool first = true;
	int err;

	memset(t, 0, sizeof(*t));
	for (;;) {
		__u32 n = BATCH;

		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		err = bpf_map_lookup_batch(fd, first ? NULL : batch, batch, keys,
					   vals, &n, &opts);
		if (err)
			err = -errno;
		for (__u32 i = 0; i < n; i++) {
			t->flows++;
			t->packets += vals[i].packets;
			t->octets += vals[i].octets;
		}
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		first = false;
	}
}

/* A decimal number 1..max into *out; 0 or -EINVAL. */
static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < 1 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "program", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "entries", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	const char *ifname = NULL, *prog_name = "map";
	__u32 xdp_flags = XDP_FLAGS_DRV_MODE;
	unsigned int entries = 1 << 20, seconds = 600;
	struct maponly *skel = NULL;
	struct bpf_program *prog;
	struct totals t = { 0 };
	bool json = false;
	int ifindex, err, c;

	while ((c = getopt_long(argc, argv, "i:p:m:n:T:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'p':
			prog_name = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "native"))
				xdp_flags = XDP_FLAGS_DRV_MODE;
			else if (!strcmp(optarg, "skb"))
				xdp_flags = XDP_FLAGS_SKB_MODE;
			else
				goto usage;
			break;
		case 'n':
			if (parse_uint(optarg, 1U << 24, &entries))
				goto bad;
			break;
		case 'T':
			if (parse_uint(optarg, 86400, &seconds))
				goto bad;
			break;
		case 'j':
			json = true;
			break;
		default:
			goto usage;
		}
	}
	if (!ifname || optind != argc ||
	    (strcmp(prog_name, "pass") && strcmp(prog_name, "map") &&
	     strcmp(prog_name, "map-ondemand")))
		goto usage;
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "flowsink: no interface '%s'\n", ifname);
		return 1;
	}

	skel = maponly__open();
	if (!skel) {
		fprintf(stderr, "flowsink: opening the BPF object: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_map__set_max_entries(skel->maps.maponly_flows, entries);
	if (!err && !strcmp(prog_name, "map-ondemand"))
		err = bpf_map__set_map_flags(skel->maps.maponly_flows, BPF_F_NO_PREALLOC);
	if (!err)
		err = maponly__load(skel);
	if (err) {
		fprintf(stderr, "flowsink: loading: %s\n", strerror(-err));
		goto out;
	}
	prog = strcmp(prog_name, "pass") ? skel->progs.map_only : skel->progs.pass;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog),
			     xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err) {
		fprintf(stderr, "flowsink: attaching to %s: %s\n", ifname, strerror(-err));
		goto out;
	}
	/* ready: a script waits for this line before it sends */
	fprintf(stderr, "flowsink: %s attached to %s\n", prog_name, ifname);
	for (unsigned int i = 0; i < seconds * 10 && !stop; i++)
		usleep(100000);
	bpf_xdp_detach(ifindex, xdp_flags, NULL);
	err = sum_map(bpf_map__fd(skel->maps.maponly_flows), &t);
	if (err) {
		fprintf(stderr, "flowsink: reading the map: %s\n", strerror(-err));
		goto out;
	}
	if (json)
		printf("{\"program\":\"%s\",\"flows\":%llu,\"packets\":%llu,\"octets\":%llu,\"table_full\":%llu}\n",
		       prog_name, t.flows, t.packets, t.octets,
		       (unsigned long long)skel->bss->maponly_full);
	else
		printf("%s: %llu flows, %llu packets, %llu octets in the map, %llu packets found it full\n",
		       prog_name, t.flows, t.packets, t.octets,
		       (unsigned long long)skel->bss->maponly_full);
out:
	maponly__destroy(skel);
	return err ? 1 : 0;
bad:
	fprintf(stderr, "flowsink: bad value for -%c: '%s' (entries 1-%u, time 1-86400 s)\n",
		c, optarg, 1U << 24);
	return 2;
usage:
	fprintf(stderr, "Usage: flowsink -i IF [-p pass|map|map-ondemand] [-m native|skb] [-n ENTRIES] [-T SEC (600)] [-j]\n");
	return 2;
}
