// SPDX-License-Identifier: GPL-2.0
/*
 * flowgen - sends UDP frames out of an interface at a chosen rate, cycling
 * through N flows: BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES runs
 * flowgen.bpf.c once per frame, which sets the flow and returns XDP_TX.
 * The kernel builds the frames itself (no socket, no copy per packet), so
 * one core reaches millions of frames a second into a veth, whose peer must
 * run a native XDP program to take them.
 *
 *   flowgen -i veth0 [-n COUNT] [-r PPS] [-f FLOWS] [-s SIZE] [-6] [-T SEC] [-j]
 *
 * Prints what it sent: packets, seconds, Mpps (one line, or JSON with -j).
 * Its threads send one at a time in practice; pin it (taskset) to keep the
 * generator and the receive path on one core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flowgen.skel.h"

#define FRAME_MIN 14     /* an Ethernet header: test_run refuses less */
#define FRAME_MAX 3408   /* a page less headroom and skb_shared_info */
#define RUN_MAX 65536    /* frames per call: the time bound is checked between calls */
/* flow n is source 10.1.0.0 + n (IPv6: fd00::1:0 + n) */
#define FIRST_MAX (1U << 23)
#define SENDER_THREADS 4 /* calls in flight (see struct sender) */

struct gen_opts {
	const char *ifname;
	unsigned long long count;
	unsigned long long rate;  /* frames a second, 0: as fast as possible */
	unsigned int flows;
	unsigned int first;       /* number of the first flow: runs with other
				   * numbers make other flows */
	unsigned int size;
	bool ipv6;
	double max_seconds;
	bool json;
	unsigned char src_mac[ETH_ALEN], dst_mac[ETH_ALEN];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: flowgen -i IF [options]\n"
		"Sends UDP frames out of IF with BPF_PROG_TEST_RUN live frames (XDP_TX);\n"
		"the peer of a veth needs a native XDP program to receive them.\n"
		"  -i, --interface IF   send out of IF (required)\n"
		"  -n, --count N        frames to send [1000000]\n"
		"  -r, --rate PPS       frames a second, 0 = as fast as possible [0]\n"
		"  -f, --flows N        distinct flows (source addresses) cycled [1]\n"
		"  -F, --first N        number of the first flow, so that runs can\n"
		"                       send new flows, 0-%u [0]\n"
		"  -s, --size BYTES     frame size, %d-%d [64]; shorter than the\n"
		"                       headers: the headers cut; a veth drops frames\n"
		"                       longer than its peer's MTU + 18\n"
		"  -6, --ipv6           IPv6 (fd00::/64) instead of IPv4 (10.0.0.0/8)\n"
		"  -T, --time SEC       stop after SEC seconds even if N are not sent [60]\n"
		"      --dst-mac MAC    destination MAC [02:00:00:00:00:02]\n"
		"      --src-mac MAC    source MAC [02:00:00:00:00:01]\n"
		"  -j, --json           print the result as one JSON object\n",
		FIRST_MAX, FRAME_MIN, FRAME_MAX);
}

static int parse_ull(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out > max)
		return -EINVAL;
	return 0;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[ETH_ALEN];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != ETH_ALEN)
		return -EINVAL;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct gen_opts *o)
{
	enum { OPT_DST_MAC = 256, OPT_SRC_MAC };
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "flows", required_argument, NULL, 'f' },
		{ "first", required_argument, NULL, 'F' },
		{ "size", required_argument, NULL, 's' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "time", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long long v;
	int c;

	while ((c = getopt_long(argc, argv, "i:n:r:f:F:s:6T:jh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'n':
			if (parse_ull(optarg, ULLONG_MAX, &o->count) || !o->count)
				goto bad;
			break;
		case 'r':
			if (parse_ull(optarg, 1000000000ULL, &o->rate))
				goto bad;
			break;
		case 'f':
			if (parse_ull(optarg, 1U << 24, &v) || !v)
				goto bad;
			o->flows = v;
			break;
		case 'F':
			if (parse_ull(optarg, FIRST_MAX, &v))
				goto bad;
			o->first = v;
			break;
		case 's':
			if (parse_ull(optarg, FRAME_MAX, &v) || v < FRAME_MIN)
				goto bad;
			o->size = v;
			break;
		case '6':
			o->ipv6 = true;
			break;
		case 'T':
			if (parse_ull(optarg, 86400, &v) || !v)
				goto bad;
			o->max_seconds = v;
			break;
		case 'j':
			o->json = true;
			break;
		case OPT_DST_MAC:
			if (parse_mac(optarg, o->dst_mac))
				goto bad;
			break;
		case OPT_SRC_MAC:
			if (parse_mac(optarg, o->src_mac))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!o->ifname || optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "flowgen: bad value for -%c: '%s' (count >= 1, flows 1-%u, first 0-%u, size %d-%d, time 1-86400 s, MAC aa:bb:cc:dd:ee:ff)\n",
		c < 256 ? c : '-', optarg, 1U << 24, FIRST_MAX, FRAME_MIN, FRAME_MAX);
	return -EINVAL;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static __u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *p = buf;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/*
 * Flow 0's frame: Ethernet, IPv4 or IPv6, UDP 1024 -> 4739, zero payload;
 * lengths as if the frame were whole even when size cuts it. flowgen.bpf.c
 * changes only the last 32 bits of the source address.
 */
static void build_frame(const struct gen_opts *o, __u8 *frame, __u32 src_base)
{
	/* 2 bytes ahead of the frame: its IP header lands 4-byte aligned */
	__u32 words[(FRAME_MAX + 130) / 4] = { 0 };
	__u8 *whole = (__u8 *)words + 2;
	struct ethhdr *eth = (void *)whole;
	size_t l3 = sizeof(*eth);
	size_t ip_len = o->size > l3 ? o->size - l3 : 0;
	struct udphdr *udp;
	__u32 sum;

	memcpy(eth->h_dest, o->dst_mac, ETH_ALEN);
	memcpy(eth->h_source, o->src_mac, ETH_ALEN);
	if (o->ipv6) {
		struct ipv6hdr *ip6 = (void *)(whole + l3);
		size_t udp_len = ip_len > sizeof(*ip6) + sizeof(*udp) ?
					 ip_len - sizeof(*ip6) : sizeof(*udp);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->payload_len = htons(udp_len);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		ip6->saddr.s6_addr[0] = 0xfd;
		ip6->saddr.s6_addr32[3] = htonl(src_base);
		ip6->daddr.s6_addr[0] = 0xfd;
		ip6->daddr.s6_addr32[2] = htonl(1);
		ip6->daddr.s6_addr32[3] = htonl(1);
		udp = (void *)(ip6 + 1);
		udp->source = htons(1024);
		udp->dest = htons(4739);
		udp->len = htons(udp_len);
		sum = csum_add(0, &ip6->saddr, 32);
		sum += udp_len + IPPROTO_UDP;
		sum = csum_add(sum, udp, sizeof(*udp));
	} else {
		struct iphdr *ip = (void *)(whole + l3);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(ip_len > sizeof(*ip) + sizeof(*udp) ?
					    ip_len : sizeof(*ip) + sizeof(*udp));
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = htonl(src_base);
		ip->daddr = htonl(0x0a000001); /* 10.0.0.1 */
		ip->check = htons(~csum_fold(csum_add(0, ip, sizeof(*ip))) & 0xffff);
		udp = (void *)(ip + 1);
		udp->source = htons(1024);
		udp->dest = htons(4739);
		udp->len = htons(ntohs(ip->tot_len) - sizeof(*ip));
		sum = csum_add(0, &ip->saddr, 8);
		sum += ntohs(udp->len) + IPPROTO_UDP;
		sum = csum_add(sum, udp, sizeof(*udp));
	}
	/* pseudo-header + UDP header; the payload is zeros */
	udp->check = htons(~csum_fold(sum) & 0xffff);
	if (!udp->check) /* 0 would mean "no checksum" */
		udp->check = 0xffff;
	memcpy(frame, whole, o->size);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A live-frames call returns only after an RCU grace period (its page pool
 * is torn down): 10-30 ms here, asleep, however few frames it sent, and
 * such calls hardly overlap. So a call sends every frame due by now (at
 * most RUN_MAX), the next call the ones due meanwhile: the average rate is
 * exact, frames come in bursts of one call's latency. Threads keep a call
 * sending while another one waits.
 */
struct sender {
	const struct gen_opts *o;
	const __u8 *frame;
	int prog_fd, ifindex;
	double start;
	pthread_mutex_t lock;
	unsigned long long claimed; /* under lock: frames taken by a call */
	double last_end;            /* under lock */
	_Atomic unsigned long long sent;
	_Atomic int err;
};

static void sleep_for(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* Frames for the next call, 0 when done; sleeps until one is due. */
static unsigned long long claim(struct sender *s)
{
	const struct gen_opts *o = s->o;

	for (;;) {
		unsigned long long n;
		double t;

		pthread_mutex_lock(&s->lock);
		t = now_s() - s->start;
		n = o->count - s->claimed;
		if (s->err || t >= o->max_seconds)
			n = 0;
		if (n && o->rate) {
			double due = o->rate * t - s->claimed;

			if (due < 1) {
				pthread_mutex_unlock(&s->lock);
				sleep_for((1 - due) / o->rate);
				continue;
			}
			if (n > due)
				n = due;
		}
		if (n > RUN_MAX)
			n = RUN_MAX;
		s->claimed += n;
		pthread_mutex_unlock(&s->lock);
		return n;
	}
}

static void *send_calls(void *arg)
{
	struct sender *s = arg;
	const struct gen_opts *o = s->o;
	struct xdp_md ctx = { .data_end = o->size, .ingress_ifindex = s->ifindex };
	unsigned long long n;

	while ((n = claim(s))) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = s->frame,
			    .data_size_in = o->size, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .repeat = n);
		if (bpf_prog_test_run_opts(s->prog_fd, &run)) {
			s->err = -errno;
			break;
		}
		s->sent += n;
		pthread_mutex_lock(&s->lock);
		if (now_s() - s->start > s->last_end)
			s->last_end = now_s() - s->start;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

/*
 * Sends o->count frames, or fewer when max_seconds runs out, from the CPU
 * it runs on: the veth ring takes frames from one CPU at a time without
 * loss, from two at once it overflows.
 */
static int send_frames(const struct gen_opts *o, int prog_fd, int ifindex,
		       const __u8 *frame, unsigned long long *sent,
		       double *seconds)
{
	struct sender s = { .o = o, .frame = frame, .prog_fd = prog_fd,
			    .ifindex = ifindex,
			    .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t threads[SENDER_THREADS];
	int started = 0, cpu = sched_getcpu();
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		fprintf(stderr, "flowgen: staying on CPU %d: %s\n", cpu, strerror(errno));
	s.start = now_s();
	for (; started < SENDER_THREADS; started++)
		if (pthread_create(&threads[started], NULL, send_calls, &s)) {
			s.err = -EAGAIN;
			break;
		}
	while (started--)
		pthread_join(threads[started], NULL);
	*sent = s.sent;
	*seconds = s.last_end;
	if (s.err)
		fprintf(stderr, "flowgen: BPF_PROG_TEST_RUN on %s: %s\n",
			o->ifname, strerror(-s.err));
	return s.err;
}

int main(int argc, char **argv)
{
	struct gen_opts o = {
		.count = 1000000, .flows = 1, .size = 64, .max_seconds = 60,
		.src_mac = { 2, 0, 0, 0, 0, 1 }, .dst_mac = { 2, 0, 0, 0, 0, 2 },
	};
	__u8 frame[FRAME_MAX];
	unsigned long long sent = 0;
	struct flowgen *skel;
	double seconds = 0, mpps;
	__u32 src_base;
	int ifindex, err;

	if (parse_args(argc, argv, &o))
		return 2;
	ifindex = if_nametoindex(o.ifname);
	if (!ifindex) {
		fprintf(stderr, "flowgen: no interface '%s'\n", o.ifname);
		return 1;
	}
	/* 10.1.0.0 + flow; fd00::1:0 + flow in the last 32 bits */
	src_base = (o.ipv6 ? 0x00010000 : 0x0a010000) + o.first;
	build_frame(&o, frame, src_base);

	skel = flowgen__open();
	if (!skel) {
		fprintf(stderr, "flowgen: opening the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->nflows = o.flows;
	skel->rodata->src_base = src_base;
	skel->rodata->ipv6 = o.ipv6;
	err = flowgen__load(skel);
	if (err) {
		fprintf(stderr, "flowgen: loading the BPF program: %s\n", strerror(-err));
		goto out;
	}
	err = send_frames(&o, bpf_program__fd(skel->progs.flowgen_tx), ifindex,
			  frame, &sent, &seconds);
	if (err)
		goto out;
	mpps = seconds > 0 ? sent / seconds / 1e6 : 0;
	if (o.json)
		printf("{\"packets\":%llu,\"seconds\":%.6f,\"mpps\":%.4f,\"flows\":%u,\"size\":%u,\"ip_version\":%d,\"rate\":%llu,\"complete\":%s}\n",
		       sent, seconds, mpps, o.flows, o.size, o.ipv6 ? 6 : 4,
		       o.rate, sent == o.count ? "true" : "false");
	else
		printf("sent %llu packets (%u bytes, %u flows, IPv%d) in %.3f s: %.3f Mpps%s\n",
		       sent, o.size, o.flows, o.ipv6 ? 6 : 4, seconds, mpps,
		       sent == o.count ? "" : " (time limit reached)");
out:
	flowgen__destroy(skel);
	return err ? 1 : 0;
}
