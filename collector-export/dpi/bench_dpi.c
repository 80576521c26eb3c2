// SPDX-License-Identifier: GPL-2.0
/*
 * bench_dpi.c - -t 0 -D: what the DPI stage costs, by BPF_PROG_TEST_RUN on
 * two pipelines of one share strategy, one loaded without -D and one with,
 * in interleaved rounds:
 *   - a packet no inspector wants (UDP to port 9, one flow repeated): after
 *     its flow's first DPI_PACKETS payload packets, one load and a compare;
 *   - a packet of a flow already inspected (UDP to port 53, repeated);
 *   - an inspected packet: every packet the first of a new DNS flow, so
 *     each is copied to the ring (against new flows without -D).
 * The ring is not read meanwhile: rounds are sized to stay within it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_dpi.h"
#include "loader.h"
#include "log.h"

#define ROUNDS 21
#define NEW_FLOWS 200 /* per round: 21 x 200 snapshots fit the 8 MiB ring */
/* short runs, many rounds: a burst of load elsewhere spoils few pairs */
#define REPEAT_SHARE 4

/* 64-byte frame: IPv4 10.0.0.1:1024 -> 10.0.0.2:PORT UDP, 22 bytes of
 * payload. */
static void frame(unsigned char *f, __u16 port, __u32 flow)
{
	static const unsigned char base[64] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x32, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11,
		0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
		0x04, 0x00, 0x00, 0x35, 0x00, 0x1e, 0x00, 0x00,
	};

	memcpy(f, base, sizeof(base));
	f[36] = port >> 8;
	f[37] = port & 0xff;
	f[28] = 10 + (flow >> 24);
	f[29] = flow >> 16;
	f[30] = flow >> 8;
	f[34] = 0x04 | (flow & 0x03);
	f[35] = (flow >> 2) & 0xff;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v)
{
	double s[ROUNDS];

	memcpy(s, v, sizeof(s));
	qsort(s, ROUNDS, sizeof(*s), cmp_double);
	return s[ROUNDS / 2];
}

/* The median of the rounds' differences: each round runs both pipelines
 * back to back, so what loads the machine meanwhile hits both alike. */
static double median_added(const double *without, const double *with)
{
	double d[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		d[r] = with[r] - without[r];
	return median(d);
}

static int repeated(int fd, __u16 port, __u32 repeat, double *ns)
{
	unsigned char f[64];
	__u32 d;
	int err;

	frame(f, port, 0);
	err = pipeline_run_packet(fd, f, sizeof(f), NULL, repeat, NULL, &d);
	*ns = d;
	return err;
}

/* NEW_FLOWS packets, each the first of its flow (flows from first on). */
static int new_flows(int fd, __u32 first, double *ns)
{
	unsigned char f[64];
	__u64 total = 0;

	for (__u32 i = 0; i < NEW_FLOWS; i++) {
		__u32 d;
		int err;

		frame(f, 53, first + i);
		err = pipeline_run_packet(fd, f, sizeof(f), NULL, 1, NULL, &d);
		if (err)
			return err;
		total += d;
	}
	*ns = (double)total / NEW_FLOWS;
	return 0;
}

int run_dpi_bench(const struct config *cfg)
{
	enum share_mode share = cfg->share_given ? cfg->share : SHARE_PERCPU;
	struct pipeline_opts o = {
		.share = share, .slot_mask = cfg->slot_mask,
		.sample_rate = cfg->sample_rate,
		.max_flows = 2 * ROUNDS * NEW_FLOWS + 16,
	};
	struct pipeline off, on;
	double nd[ROUNDS], nd_d[ROUNDS], seen[ROUNDS], seen_d[ROUNDS];
	double fresh[ROUNDS], fresh_d[ROUNDS];
	int err;

	err = pipeline_open(&off, &o);
	if (err)
		return err;
	o.dpi_mask = cfg->dpi_mask;
	err = pipeline_open(&on, &o);
	if (err) {
		pipeline_close(&off);
		return err;
	}
	for (int r = 0; r < ROUNDS && !err; r++) {
		int a = pipeline_start_fd(&off), b = pipeline_start_fd(&on);
		__u32 rep = cfg->test_repeat / REPEAT_SHARE ?: 1;

		err = repeated(a, 9, rep, &nd[r]) ?: repeated(b, 9, rep, &nd_d[r]) ?:
		      repeated(a, 53, rep, &seen[r]) ?: repeated(b, 53, rep, &seen_d[r]) ?:
		      new_flows(a, (r + 1) * NEW_FLOWS, &fresh[r]) ?:
		      new_flows(b, (r + 1) * NEW_FLOWS, &fresh_d[r]);
	}
	if (err) {
		pr_warn("BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
		goto out;
	}
	double a = median(nd), b = median(nd_d), c = median(seen),
	       d = median(seen_d), e = median(fresh), f = median(fresh_d);
	double ab = median_added(nd, nd_d), cd = median_added(seen, seen_d),
	       ef = median_added(fresh, fresh_d);

	if (cfg->json) {
		printf("{\"share\":\"%s\",\"dpi\":{\"not_wanted_ns\":%.1f,\"not_wanted_no_dpi_ns\":%.1f,\"not_wanted_added_ns\":%.1f,\"inspected_flow_ns\":%.1f,\"inspected_flow_no_dpi_ns\":%.1f,\"inspected_flow_added_ns\":%.1f,\"inspected_packet_ns\":%.1f,\"new_flow_no_dpi_ns\":%.1f,\"inspected_packet_added_ns\":%.1f}}\n",
		       share_mode_name(share), b, a, ab, d, c, cd, f, e, ef);
	} else {
		printf("DPI cost, share %s, 64-byte IPv4 UDP (%u runs x %d rounds; new flows: %d a round; medians, added: of the rounds' differences)\n",
		       share_mode_name(share), cfg->test_repeat / REPEAT_SHARE ?: 1,
		       ROUNDS, NEW_FLOWS);
		printf("%-44s %9s %9s %8s\n", "packet", "without", "with -D", "added");
		printf("%-44s %9.1f %9.1f %+8.1f\n", "no inspector wants it (port 9)", a, b, ab);
		printf("%-44s %9.1f %9.1f %+8.1f\n", "its flow already inspected (port 53)", c, d, cd);
		printf("%-44s %9.1f %9.1f %+8.1f\n", "inspected (first of a new DNS flow)", e, f, ef);
	}
out:
	pipeline_close(&on);
	pipeline_close(&off);
	return err;
}
