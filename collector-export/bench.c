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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* The 64-byte frame with flow number i: source address and port vary. */
static void frame_for_flow(unsigned char *frame, __u32 i)
{
	memcpy(frame, udp4_frame, sizeof(udp4_frame));
	frame[28] = 10 + (i >> 24);     /* source address 10.0.0.1 + i >> 8 */
	frame[29] = i >> 16;
	frame[30] = i >> 8;
	frame[34] = 0x04 | (i & 0x03);  /* source port 1024 + i & 0x3ff */
	frame[35] = (i >> 2) & 0xff;
}

/*
 * One round over n distinct flows, each packet run once. The kernel times
 * every run itself, so syscall cost stays out; what is in is the table at n
 * flows with caches as cold as real traffic makes them. Returns the mean
 * ns per packet, or a negative errno.
 */
static double spread_round(int prog_fd, __u32 n)
{
	unsigned char frame[sizeof(udp4_frame)];
	__u64 total = 0;

	for (__u32 i = 0; i < n; i++) {
		__u32 ns;
		int err;

		frame_for_flow(frame, i);
		err = pipeline_run_packet(prog_fd, frame, sizeof(frame), NULL, 1,
					  NULL, &ns);
		if (err)
			return err;
		total += ns;
	}
	return (double)total / n;
}

/* Kernel memory of a map, from its fdinfo (what the memcg is charged). */
static unsigned long long map_memlock(int fd)
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

/* Mean of the middle rounds: robust to one slow round, finer than an int. */
static double trimmed_mean(__u32 *v, int n)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_u32);
	for (int i = 1; i < n - 1; i++)
		sum += v[i];
	return sum / (n - 2);
}

/* -t 0 --flows N: the same comparison with the table holding N flows. */
static int run_spread(const struct config *cfg, struct pipeline *pipes,
		      int first, int last)
{
	double ns[SHARE_MAX][BENCH_ROUNDS], floor_ns[BENCH_ROUNDS], v;
	__u32 n = cfg->bench_flows;
	/* entries allocated on demand: the empty table's memory is what it
	 * costs up front, the rest is the n flows' */
	unsigned long long mem0 = map_memlock(pipes[first].table_fd), mem;
	double per_flow;

	for (int r = 0; r < BENCH_ROUNDS; r++) {
		floor_ns[r] = spread_round(pipeline_floor_fd(&pipes[first]), n);
		if (floor_ns[r] < 0)
			return floor_ns[r];
		for (int s = first; s <= last; s++) {
			ns[s][r] = spread_round(pipeline_start_fd(&pipes[s]), n);
			if (ns[s][r] < 0)
				return ns[s][r];
		}
	}
	mem = map_memlock(pipes[first].table_fd);
	per_flow = mem > mem0 ? (double)(mem - mem0) / n
			      : (double)mem / pipes[first].max_flows;
	if (!cfg->json)
		printf("%-8s %12s %8s   (64-byte IPv4 UDP over %u flows, each packet run once, %d rounds)\n",
		       "share", "ns/packet", "x floor", n, BENCH_ROUNDS);
	for (int s = first; s <= last; s++) {
		v = median(ns[s], BENCH_ROUNDS);
		if (cfg->json)
			printf("{\"share\":\"%s\",\"flows\":%u,\"ns_per_packet\":%.1f,\"floor_ns\":%.1f,\"table_bytes_per_flow\":%.1f}\n",
			       share_mode_name(s), n, v,
			       median(floor_ns, BENCH_ROUNDS), per_flow);
		else
			printf("%-8s %12.1f %8.2f\n", share_mode_name(s), v,
			       v / median(floor_ns, BENCH_ROUNDS));
	}
	if (!cfg->json)
		printf("%-8s %12.1f %8.2f\nflow table: %u entries, %llu bytes of kernel memory up front, %.1f per flow present\n",
		       "floor", median(floor_ns, BENCH_ROUNDS), 1.0,
		       pipes[first].max_flows, mem0, per_flow);
	return 0;
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
			.sample_rate = cfg->sample_rate,
			.max_flows = cfg->kernel_flows > cfg->bench_flows ?
					     cfg->kernel_flows : cfg->bench_flows,
		};

		err = pipeline_open(&pipes[opened], &o);
		if (err)
			goto out;
	}

	if (cfg->bench_flows > 1) {
		err = run_spread(cfg, pipes, first, last);
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
