// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - the seed's test mode, -t 0: time the loaded pipeline with
 * BPF_PROG_TEST_RUN for each share strategy against an empty XDP_PASS
 * program (the floor), in interleaved rounds so that drift on a shared
 * machine hits every strategy alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader.h"
#include "log.h"
#include "modes.h"

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

int run_bench(const struct config *cfg)
{
	struct pipeline pipes[SHARE_MAX];
	__u32 ns[SHARE_MAX][BENCH_ROUNDS], floor_ns[BENCH_ROUNDS];
	int first = cfg->share_given ? cfg->share : 0;
	int last = cfg->share_given ? cfg->share : SHARE_MAX - 1;
	int err = 0, opened = first;

	for (; opened <= last; opened++) {
		struct pipeline_opts o = {
			.share = opened,
			.slot_mask = cfg->slot_mask,
			.max_flows = cfg->max_flows,
		};

		err = pipeline_open(&pipes[opened], &o);
		if (err)
			goto out;
	}

	for (int r = 0; r < BENCH_ROUNDS; r++) {
		err = pipeline_run_packet(pipeline_floor_fd(&pipes[first]),
					  udp4_frame, sizeof(udp4_frame), NULL,
					  cfg->test_repeat, NULL, &floor_ns[r]);
		for (int s = first; !err && s <= last; s++)
			err = pipeline_run_packet(pipeline_start_fd(&pipes[s]),
						  udp4_frame, sizeof(udp4_frame),
						  NULL, cfg->test_repeat, NULL,
						  &ns[s][r]);
		if (err) {
			pr_warn("BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
			goto out;
		}
	}

	double floor = trimmed_mean(floor_ns, BENCH_ROUNDS);

	if (!cfg->json)
		printf("%-8s %12s %8s   (64-byte IPv4 UDP, one flow, %u runs x %d rounds)\n",
		       "share", "ns/packet", "x floor", cfg->test_repeat,
		       BENCH_ROUNDS);
	for (int s = first; s <= last; s++) {
		double v = trimmed_mean(ns[s], BENCH_ROUNDS);

		if (cfg->json)
			printf("{\"share\":\"%s\",\"ns_per_packet\":%.1f,\"floor_ns\":%.1f}\n",
			       share_mode_name(s), v, floor);
		else
			printf("%-8s %12.1f %8.2f\n", share_mode_name(s), v,
			       floor > 0 ? v / floor : 0);
	}
	if (!cfg->json)
		printf("%-8s %12.1f %8.2f\n", "floor", floor, 1.0);
out:
	while (--opened >= first)
		pipeline_close(&pipes[opened]);
	return err;
}
