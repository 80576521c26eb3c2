// SPDX-License-Identifier: GPL-2.0
/*
 * table_cost.c - measurements behind README "Flow table lifecycle" (not a
 * test: it asserts nothing).
 *
 *   table_cost cost FLOWS        per-packet cost of an insert and of an
 *                                in-place update at FLOWS flows, with and
 *                                without preallocated entries; per-entry cost
 *                                of PEEK, HARVEST and CLOSE+FINAL; kernel
 *                                bytes per flow
 *   table_cost load LINK FIRST FLOWS SECONDS
 *                                keep flows FIRST.. FIRST+FLOWS-1 alive for
 *                                SECONDS (several loaders share the work) through
 *                                the program behind the pinned XDP link LINK
 *                                (a running flowexport's), one packet per
 *                                flow per round, kernel clock
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"

/* 64-byte IPv4 UDP frame of flow i: 2^24 sources x 4 ports. */
static void flow_frame(struct pkt *pk, __u32 i)
{
	char src[32];

	snprintf(src, sizeof(src), "10.%u.%u.%u", (i >> 18) & 0xff,
		 (i >> 10) & 0xff, (i >> 2) & 0xff);
	pkt_eth(pk);
	pkt_ipv4(pk, &(struct ip4_spec){ .src = src, .dst = "192.0.2.1" });
	pkt_udp(pk, 1024 + (i & 3), 53);
	pkt_payload(pk, 22);
	pkt_finish(pk);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Each flow's packet once; the kernel's own timing of each run. */
static double round_ns(int prog_fd, __u32 first, __u32 flows)
{
	__u64 total = 0;
	struct pkt pk;

	for (__u32 i = first; i < first + flows; i++) {
		__u32 ns = 0;

		flow_frame(&pk, i);
		if (pipeline_run_packet(prog_fd, pk.buf, pk.len, NULL, 1, NULL, &ns))
			return -1;
		total += ns;
	}
	return (double)total / flows;
}

/* One op over every flow, TABLE_OP_BATCH keys a run: ns per entry of the
 * runs (the syscall included, filling the keys not). */
static double ops_ns(struct pipeline *p, struct table_op_slot *slots,
		     __u32 flows, __u32 op)
{
	struct flow_key k;
	double spent = 0;

	for (__u32 base = 0; base < flows; base += TABLE_OP_BATCH) {
		__u32 n = flows - base < TABLE_OP_BATCH ? flows - base : TABLE_OP_BATCH;

		double t0;

		for (__u32 i = 0; i < n; i++) {
			char src[32];
			__u32 f = base + i;

			snprintf(src, sizeof(src), "10.%u.%u.%u", (f >> 18) & 0xff,
				 (f >> 10) & 0xff, (f >> 2) & 0xff);
			k = key4(PROTO_UDP, src, "192.0.2.1", 1024 + (f & 3), 53);
			slots[i].key = k;
			slots[i].op = op;
		}
		t0 = now_s();
		if (pipeline_table_ops(p, n, NULL))
			return -1;
		spent += now_s() - t0;
	}
	return spent * 1e9 / flows;
}

static int cost(__u32 flows)
{
	size_t bytes = (size_t)TABLE_OP_BATCH * sizeof(struct table_op_slot);

	printf("%-10s %10s %10s %10s %10s %12s %12s\n", "entries", "insert_ns",
	       "update_ns", "peek_ns", "harvest_ns", "close+final", "kernel_B/flow");
	for (int prealloc = 0; prealloc < 2; prealloc++) {
		struct pipeline_opts o = { .share = SHARE_PERCPU,
					   .slot_mask = ALL_SLOTS,
					   .max_flows = 2 * flows,
					   .prealloc = prealloc };
		struct table_op_slot *slots;
		double ins, upd, peek, harv, fin;
		unsigned long long mem;
		struct pipeline p;
		int err = pipeline_open(&p, &o);

		if (err) {
			fprintf(stderr, "pipeline_open: %s\n", strerror(-err));
			return 1;
		}
		slots = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			     pipeline_op_batch_fd(&p), 0);
		if (slots == MAP_FAILED)
			return 1;
		ins = round_ns(pipeline_start_fd(&p), 0, flows);
		upd = round_ns(pipeline_start_fd(&p), 0, flows);
		mem = map_memlock(p.table_fd);
		peek = ops_ns(&p, slots, flows, OP_PEEK);
		harv = ops_ns(&p, slots, flows, OP_HARVEST);
		fin = ops_ns(&p, slots, flows, OP_CLOSE);
		fin += ops_ns(&p, slots, flows, OP_FINAL);
		printf("%-10s %10.1f %10.1f %10.1f %10.1f %12.1f %12.1f   (%u flows)\n",
		       prealloc ? "prealloc" : "on-demand", ins, upd, peek, harv,
		       fin, (double)mem / flows, flows);
		munmap(slots, bytes);
		pipeline_close(&p);
	}
	return 0;
}

static int load(const char *link_path, __u32 first, __u32 flows, int seconds)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	double end = now_s() + seconds;
	int link = bpf_obj_get(link_path), prog, rounds = 0;

	if (link < 0 || bpf_obj_get_info_by_fd(link, &info, &len)) {
		fprintf(stderr, "cannot read link '%s': %s\n", link_path,
			strerror(errno));
		return 1;
	}
	prog = bpf_prog_get_fd_by_id(info.prog_id);
	if (prog < 0) {
		fprintf(stderr, "cannot open program %u: %s\n", info.prog_id,
			strerror(errno));
		return 1;
	}
	while (now_s() < end) {
		double t0 = now_s();

		if (round_ns(prog, first, flows) < 0) {
			fprintf(stderr, "BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return 1;
		}
		rounds++;
		printf("round %d: %u flows in %.2f s\n", rounds, flows, now_s() - t0);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "cost"))
		return cost(strtoul(argv[2], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "load"))
		return load(argv[2], strtoul(argv[3], NULL, 0),
			    strtoul(argv[4], NULL, 0), atoi(argv[5]));
	fprintf(stderr, "usage: %s cost FLOWS | load LINK FIRST FLOWS SECONDS\n",
		argv[0]);
	return 2;
}
