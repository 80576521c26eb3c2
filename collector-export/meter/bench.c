// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - the seed's test mode, -t 0: time the loaded pipeline with
 * BPF_PROG_TEST_RUN for each share strategy against an empty XDP_PASS
 * program (the floor), in interleaved rounds so that drift on a shared
 * machine hits every strategy alike. With --flows N, also against the bare
 * map program of maponly.bpf.c, with the table holding N flows; and the
 * same stages built for TC egress (what --direction adds per packet sent).
 */
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_dpi.h"
#include "loader.h"
#include "log.h"
#include "modes.h"
#include "maponly.skel.h"

#define BENCH_ROUNDS 5

/* 64-byte Ethernet frame: IPv4 10.0.0.1:1024 -> 10.0.0.2:53 UDP, 22 bytes
 * of payload (total length 50). Checksums are not checked by the parser. */
static const unsigned char udp4_frame[64] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00,
	0x45, 0x00, 0x00, 0x32, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	0x04, 0x00, 0x00, 0x35, 0x00, 0x1e, 0x00, 0x00,
};

/* --decap: the same frame inside VXLAN (VNI 42) between 10.9.0.1 and
 * 10.9.0.2, what each tunneled packet costs (vxlan_ns_per_packet). */
#define VXLAN_OUTER 50 /* Ethernet, IPv4, UDP and VXLAN headers */
static const unsigned char vxlan_outer[VXLAN_OUTER] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00,
	0x45, 0x00, 0x00, 20 + 8 + 8 + sizeof(udp4_frame), 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0x0a, 0x09, 0x00, 0x01, 0x0a, 0x09, 0x00, 0x02,
	0xc0, 0x00, 0x12, 0xb5, 0x00, 8 + 8 + sizeof(udp4_frame), 0x00, 0x00,
	0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00,
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Mean of the middle rounds: robust to one slow round, finer than an int. */
static double trimmed_mean(__u32 *v, int n)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_u32);
	for (int i = 1; i < n - 1; i++)
		sum += v[i];
	return sum / (n - 2);
}

static int table_flags(int fd, __u32 *flags)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*flags = info.map_flags;
	return 0;
}

/* Runs the cycler (maponly.bpf.c) in front of prog_fd, repeat times.
 * Every program measured ends in XDP_PASS; anything else (the cycler's
 * XDP_ABORTED: its tail call failed) would time nothing. */
static int cycled_run(struct maponly *ref, int prog_fd, __u32 repeat,
		      __u32 *ns)
{
	__u32 slot = 0, action;
	int err;

	err = bpf_map_update_elem(bpf_map__fd(ref->maps.cycle_target), &slot,
				  &prog_fd, BPF_ANY);
	if (err)
		return -errno;
	err = pipeline_run_packet(bpf_program__fd(ref->progs.cycle), udp4_frame,
				  sizeof(udp4_frame), NULL, repeat, &action, ns);
	if (!err && action != XDP_PASS) {
		pr_warn("the flow cycler did not reach the program measured (XDP action %u)\n",
			action);
		return -EINVAL;
	}
	return err;
}

/*
 * -t 0 --flows N: the cycler turns one test frame into N flows taken in
 * turn, at --repeat runs (at least 2N) per measurement, in front of the
 * empty program (floor), the bare map program (map_only) and each
 * strategy. Every table is filled with the N flows first, so what is
 * measured is the steady state of N live flows: updates in place.
 */
static int run_cycled(const struct config *cfg, struct pipeline *pipes,
		      int first, int last)
{
	enum { FLOOR, MAP_ONLY, SHARES };
	__u32 ns[SHARES + SHARE_MAX][BENCH_ROUNDS];
	int fds[SHARES + SHARE_MAX];
	__u32 n = cfg->bench_flows;
	__u32 repeat = cfg->test_repeat > 2 * n ? cfg->test_repeat : 2 * n;
	unsigned long long mem, mem_empty;
	struct maponly *ref;
	double floor, map_only, per_flow;
	int err, count = SHARES;
	__u32 flags = 0;

	ref = maponly__open();
	if (!ref)
		return -errno;
	ref->rodata->cycle_flows = n;
	/* the same size and kind (preallocated or not: element placement
	 * differs) as flowexport's table: the program is the difference */
	err = table_flags(pipes[first].table_fd, &flags);
	if (!err)
		err = bpf_map__set_map_flags(ref->maps.maponly_flows, flags);
	if (!err)
		err = bpf_map__set_max_entries(ref->maps.maponly_flows,
					       pipes[first].max_flows);
	if (!err)
		err = maponly__load(ref);
	if (err) {
		pr_warn("loading the reference programs: %s\n", strerror(-err));
		goto out;
	}
	fds[FLOOR] = bpf_program__fd(ref->progs.pass);
	fds[MAP_ONLY] = bpf_program__fd(ref->progs.map_only);
	for (int s = first; s <= last; s++)
		fds[count++] = pipeline_start_fd(&pipes[s]);

	/* the table grows with its flows (no preallocation): what it costs
	 * empty, then per flow present */
	mem_empty = map_memlock(pipes[first].table_fd);
	for (int i = 0; i < count; i++) { /* every flow in every table */
		err = cycled_run(ref, fds[i], n, &ns[i][0]);
		if (err)
			goto fail;
	}
	for (int r = 0; r < BENCH_ROUNDS; r++)
		for (int i = 0; i < count; i++) {
			err = cycled_run(ref, fds[i], repeat, &ns[i][r]);
			if (err)
				goto fail;
		}

	floor = trimmed_mean(ns[FLOOR], BENCH_ROUNDS);
	map_only = trimmed_mean(ns[MAP_ONLY], BENCH_ROUNDS);
	mem = map_memlock(pipes[first].table_fd);
	per_flow = n ? (double)(mem - mem_empty) / n : 0;
	if (!cfg->json)
		printf("%-8s %12s %8s %10s   (64-byte IPv4 UDP cycling %u flows, %u runs x %d rounds)\n",
		       "share", "ns/packet", "x floor", "x map_only", n, repeat,
		       BENCH_ROUNDS);
	for (int i = SHARES; i < count; i++) {
		double v = trimmed_mean(ns[i], BENCH_ROUNDS);
		const char *share = share_mode_name(first + i - SHARES);

		if (cfg->json)
			printf("{\"share\":\"%s\",\"flows\":%u,\"ns_per_packet\":%.1f,\"floor_ns\":%.1f,\"map_only_ns\":%.1f,\"table_bytes_per_flow\":%.1f}\n",
			       share, n, v, floor, map_only, per_flow);
		else
			printf("%-8s %12.1f %8.2f %10.2f\n", share, v,
			       floor > 0 ? v / floor : 0,
			       map_only > 0 ? v / map_only : 0);
	}
	if (!cfg->json)
		printf("%-8s %12.1f %8.2f %10.2f\n%-8s %12.1f %8.2f\nflow table: at most %u entries, %llu bytes of kernel memory empty, %.1f more per flow present\n",
		       "map_only", map_only, floor > 0 ? map_only / floor : 0,
		       1.0, "floor", floor, 1.0, pipes[first].max_flows,
		       mem_empty, per_flow);
	goto out;
fail:
	pr_warn("BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
out:
	maponly__destroy(ref);
	return err;
}

int run_bench(const struct config *cfg)
{
	struct pipeline pipes[SHARE_MAX];
	__u32 ns[SHARE_MAX][BENCH_ROUNDS], tc_ns[SHARE_MAX][BENCH_ROUNDS];
	__u32 vx_ns[SHARE_MAX][BENCH_ROUNDS], floor_ns[BENCH_ROUNDS];
	unsigned char vxlan_frame[VXLAN_OUTER + sizeof(udp4_frame)];
	int first = cfg->share_given ? cfg->share : 0;
	int last = cfg->share_given ? cfg->share : SHARE_MAX - 1;
	int err = 0, opened = first;

	if (cfg->dpi) /* with and without -D, one strategy */
		return run_dpi_bench(cfg);
	for (; opened <= last; opened++) {
		struct pipeline_opts o = {
			.share = opened,
			.slot_mask = cfg->slot_mask,
			.dpi_mask = cfg->dpi_mask,
			.decap = cfg->decap,
			.sample_rate = cfg->sample_rate,
			.max_flows = cfg->kernel_flows > cfg->bench_flows ?
					     cfg->kernel_flows : cfg->bench_flows,
			.tc_dirs = cfg->bench_flows > 1 ? 0 : 1U << FLOW_DIR_EGRESS,
		};

		err = pipeline_open(&pipes[opened], &o);
		if (err)
			goto out;
	}

	if (cfg->bench_flows) {
		err = run_cycled(cfg, pipes, first, last);
		goto out;
	}
	memcpy(vxlan_frame, vxlan_outer, VXLAN_OUTER);
	memcpy(vxlan_frame + VXLAN_OUTER, udp4_frame, sizeof(udp4_frame));
	for (int r = 0; r < BENCH_ROUNDS; r++) {
		err = pipeline_run_packet(pipeline_floor_fd(&pipes[first]),
					  udp4_frame, sizeof(udp4_frame), NULL,
					  cfg->test_repeat, NULL, &floor_ns[r]);
		for (int s = first; !err && s <= last; s++) {
			err = pipeline_run_packet(pipeline_start_fd(&pipes[s]),
						  udp4_frame, sizeof(udp4_frame),
						  NULL, cfg->test_repeat, NULL,
						  &ns[s][r]);
			if (!err)
				err = pipeline_run_packet(pipeline_tc_start_fd(&pipes[s], true),
							  udp4_frame, sizeof(udp4_frame),
							  NULL, cfg->test_repeat, NULL,
							  &tc_ns[s][r]);
			if (!err && cfg->decap)
				err = pipeline_run_packet(pipeline_start_fd(&pipes[s]),
							  vxlan_frame, sizeof(vxlan_frame),
							  NULL, cfg->test_repeat, NULL,
							  &vx_ns[s][r]);
		}
		if (err) {
			pr_warn("BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
			goto out;
		}
	}

	double floor = trimmed_mean(floor_ns, BENCH_ROUNDS);

	if (!cfg->json)
		printf("%-8s %12s %8s %12s%s   (64-byte IPv4 UDP, one flow, %u runs x %d rounds%s)\n",
		       "share", "ns/packet", "x floor", "TC egress",
		       cfg->decap ? "    in VXLAN" : "", cfg->test_repeat,
		       BENCH_ROUNDS, cfg->decap ? "; the same frame in VXLAN" : "");
	for (int s = first; s <= last; s++) {
		double v = trimmed_mean(ns[s], BENCH_ROUNDS);
		double tc = trimmed_mean(tc_ns[s], BENCH_ROUNDS);

		double vx = cfg->decap ? trimmed_mean(vx_ns[s], BENCH_ROUNDS) : 0;

		if (cfg->json && cfg->decap)
			printf("{\"share\":\"%s\",\"ns_per_packet\":%.1f,\"floor_ns\":%.1f,\"tc_egress_ns_per_packet\":%.1f,\"vxlan_ns_per_packet\":%.1f}\n",
			       share_mode_name(s), v, floor, tc, vx);
		else if (cfg->json)
			printf("{\"share\":\"%s\",\"ns_per_packet\":%.1f,\"floor_ns\":%.1f,\"tc_egress_ns_per_packet\":%.1f}\n",
			       share_mode_name(s), v, floor, tc);
		else if (cfg->decap)
			printf("%-8s %12.1f %8.2f %12.1f %12.1f\n", share_mode_name(s),
			       v, floor > 0 ? v / floor : 0, tc, vx);
		else
			printf("%-8s %12.1f %8.2f %12.1f\n", share_mode_name(s), v,
			       floor > 0 ? v / floor : 0, tc);
	}
	if (!cfg->json)
		printf("%-8s %12.1f %8.2f\n", "floor", floor, 1.0);
out:
	while (--opened >= first)
		pipeline_close(&pipes[opened]);
	return err;
}
