/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harness.h - drive the real loaded pipeline from a test: open it for one
 * strategy and parser set, run built frames through the start program with
 * BPF_PROG_TEST_RUN, and read back the flow table and the counters.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "flow.h"
#include "flowmon.skel.h"
#include "loader.h"
#include "pkt.h"
#include "tap.h"

#define ALL_SLOTS ((1U << SLOT_MAX) - 1)
#define TEST_MAX_FLOWS 1024
/* Capture times handed in through pkt_meta: epoch-like, 1 ms apart. */
#define TS_BASE 1700000000000000000ULL
#define TS_STEP 1000000ULL

/* BPF_PROG_TEST_RUN without an ingress_ifindex in its context runs the
 * packet as received on the loopback device of the caller's namespace,
 * which is always ifindex 1. */
#define TEST_RUN_IFINDEX 1

struct flow_entry {
	struct flow_key key;
	struct flow_stats stats;
};

struct flow_list {
	struct flow_entry *v;
	size_t n;
};

static inline int h_open(struct pipeline *p, enum share_mode share, __u32 slot_mask)
{
	struct pipeline_opts opts = {
		.share = share,
		.slot_mask = slot_mask,
		.max_flows = TEST_MAX_FLOWS,
	};

	return pipeline_open(p, &opts);
}

/*
 * One frame through the start program. ts != 0 hands it in as capture time
 * (struct pkt_meta with PKT_META_MAGIC), ts == 0 lets the program take the
 * kernel clock. Returns the XDP action, or -errno if the run failed.
 */
static inline int h_run(struct pipeline *p, const struct pkt *pk, __u64 ts)
{
	struct pkt_meta meta = { .ts_ns = ts, .magic = PKT_META_MAGIC };
	__u32 retval = 0;
	int err;

	err = pipeline_run_packet(pipeline_start_fd(p), pk->buf, pk->len,
				  ts ? &meta : NULL, 1, &retval, NULL);
	return err ? err : (int)retval;
}

/* len bytes as a live packet: no metadata, the kernel clock. */
static inline int h_run_bytes(struct pipeline *p, const void *buf, __u32 len)
{
	__u32 retval = 0;
	int err;

	err = pipeline_run_packet(pipeline_start_fd(p), buf, len, NULL, 1,
				  &retval, NULL);
	return err ? err : (int)retval;
}

/*
 * One frame as pcap replay hands it in: len bytes of it (what the capture
 * kept), its capture time ts (any value, 0 included) and its length on the
 * wire (wire_len; 0 says nothing about it). Returns the XDP action, or
 * -errno if the run failed.
 */
static inline int h_replay(struct pipeline *p, const void *buf, __u32 len, __u64 ts,
		    __u32 wire_len)
{
	struct pkt_meta meta = { .ts_ns = ts, .magic = PKT_META_MAGIC,
				 .wire_len = wire_len };
	__u32 retval = 0;
	int err;

	err = pipeline_run_packet(pipeline_start_fd(p), buf, len, &meta, 1,
				  &retval, NULL);
	return err ? err : (int)retval;
}

/* h_run, checking that the frame ran and was passed on. */
static inline void h_send(struct pipeline *p, const struct pkt *pk, __u64 ts)
{
	int ret = h_run(p, pk, ts);

	CHECK(ret == XDP_PASS, "XDP action %d, want XDP_PASS (%d)", ret, XDP_PASS);
}

static inline int flow_entry_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct flow_entry *)a)->key,
		      &((const struct flow_entry *)b)->key, sizeof(struct flow_key));
}

/* Every entry of the active flow table, sorted by key. */
static inline int h_flows(struct pipeline *p, struct flow_list *out)
{
	int fd = p->table_fd;
	/* zeroed: the table's key may end before segment_id (flow.h) */
	struct flow_key key = {}, next = {};
	void *prev = NULL;

	out->v = calloc(TEST_MAX_FLOWS, sizeof(*out->v));
	out->n = 0;
	if (!out->v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (out->n == TEST_MAX_FLOWS)
			return -E2BIG;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &out->v[out->n].stats))
			return -errno;
		out->v[out->n++].key = key;
		prev = &key;
	}
	qsort(out->v, out->n, sizeof(*out->v), flow_entry_cmp);
	return 0;
}

static inline void flow_list_free(struct flow_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static inline const struct flow_entry *h_find(const struct flow_list *l,
				       const struct flow_key *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(&l->v[i].key, key, sizeof(*key)))
			return &l->v[i];
	return NULL;
}

/*
 * One table operation (enum table_op) on key through the table_ops
 * program, as the manager does them; *out (may be NULL) gets the slot
 * after the run. Returns the slot's result (enum table_op_result) or
 * -errno.
 */
static inline int h_table_op(struct pipeline *p, const struct flow_key *key,
		      __u32 op, struct table_op_slot *out)
{
	size_t bytes = (size_t)TABLE_OP_BATCH * sizeof(struct table_op_slot);
	struct table_op_slot *slots;
	int err, res;

	if (out)
		memset(out, 0, sizeof(*out));
	slots = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		     pipeline_op_batch_fd(p), 0);
	if (slots == MAP_FAILED)
		return -errno;
	memset(&slots[0], 0, sizeof(slots[0]));
	slots[0].key = *key;
	slots[0].op = op;
	err = pipeline_table_ops(p, 1, NULL);
	res = err ? err : (int)slots[0].result;
	if (out)
		*out = slots[0];
	munmap(slots, bytes);
	return res;
}

static inline void h_counters(struct pipeline *p, __u64 *out)
{
	int err = pipeline_counters(p, out);

	CHECK(!err, "reading counters: %s", strerror(-err));
}

static inline const char *counter_name(int c, char *buf, size_t size)
{
	static const char *const names[CNT_MISSED_TAIL_CALL] = {
		"seen", "flowed", "not parsed", "malformed", "insert failed",
		"overflow packets", "overflow octets", "internal",
		"self export", "not sampled", "closing ring", "notice lost",
		"forwarded",
	};

	if (c < CNT_MISSED_TAIL_CALL)
		snprintf(buf, size, "CNT %s", names[c]);
	else
		snprintf(buf, size, "CNT missed tail call, slot %d",
			 c - CNT_MISSED_TAIL_CALL);
	return buf;
}

/* seen = not sampled + flowed + not parsed + malformed, and no internal
 * failure. */
static inline void check_identity(const __u64 *c)
{
	CHECK(c[CNT_SEEN] == c[CNT_NOT_SAMPLED] + c[CNT_FLOWED] +
			     c[CNT_NOT_PARSED] + c[CNT_MALFORMED],
	      "counter identity broken: seen %llu != not sampled %llu + flowed %llu + not parsed %llu + malformed %llu",
	      (unsigned long long)c[CNT_SEEN],
	      (unsigned long long)c[CNT_NOT_SAMPLED],
	      (unsigned long long)c[CNT_FLOWED],
	      (unsigned long long)c[CNT_NOT_PARSED],
	      (unsigned long long)c[CNT_MALFORMED]);
	CHECK_EQ("CNT_INTERNAL", c[CNT_INTERNAL], 0);
}

static inline void key_addr(int family, const char *text, __u8 *out16)
{
	char mapped[64];

	/* IPv4 is keyed IPv4-mapped: let inet_pton build ::ffff:a.b.c.d */
	if (family == AF_INET) {
		snprintf(mapped, sizeof(mapped), "::ffff:%s", text);
		text = mapped;
	}
	pkt_addr(AF_INET6, text, out16);
}

static inline struct flow_key key_make(int version, __u8 proto, const char *src,
				const char *dst, __u16 sport, __u16 dport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = TEST_RUN_IFINDEX;
	k.ip_version = version;
	k.protocol = proto;
	key_addr(version == 4 ? AF_INET : AF_INET6, src, k.src_addr);
	key_addr(version == 4 ? AF_INET : AF_INET6, dst, k.dst_addr);
	k.src_port = sport;
	k.dst_port = dport;
	return k;
}

#define key4(proto, src, dst, sport, dport) key_make(4, proto, src, dst, sport, dport)
#define key6(proto, src, dst, sport, dport) key_make(6, proto, src, dst, sport, dport)

static inline void key_print(const char *label, const struct flow_key *k)
{
	char s[64], d[64];

	inet_ntop(AF_INET6, k->src_addr, s, sizeof(s));
	inet_ntop(AF_INET6, k->dst_addr, d, sizeof(d));
	printf("#   %s: if %u vlan %u v%u proto %u %s:%u -> %s:%u icmp_id %u tunnel %u/%u\n",
	       label, k->ifindex, k->vlan_id, k->ip_version, k->protocol, s,
	       k->src_port, d, k->dst_port, k->icmp_id, k->tunnel,
	       k->segment_id);
}

/*
 * Expected statistics. stats_none() is a flow before any packet: the
 * documented "none seen" values (no MSS 0, no window scale 0xff, minima at
 * their ceiling). stats_add() accounts one packet's generic fields the way
 * DESIGN.md defines them; TCP fields are set by each test by hand.
 */
static inline struct flow_stats stats_none(void)
{
	struct flow_stats s;

	memset(&s, 0, sizeof(s));
	s.min_length = 0xffff;
	s.min_ttl = 0xff;
	s.tcp_win_min = 0xffff;
	s.tcp_wscale = 0xff;
	return s;
}

static inline void stats_add(struct flow_stats *s, __u64 ts, __u32 ip_len, __u8 ttl)
{
	static const __u32 size_upper[FLOW_SIZE_BINS - 1] = { 128, 256, 512, 1024, 1514 };
	int bin = 0;

	if (!s->packets) {
		s->first_seen_ns = ts;
		/* the first packet's, and pkt_eth's unless a test says */
		memcpy(s->src_mac, PKT_SRC_MAC, 6);
		memcpy(s->dst_mac, PKT_DST_MAC, 6);
	}
	s->last_seen_ns = ts;
	s->packets++;
	s->octets += ip_len;
	while (bin < FLOW_SIZE_BINS - 1 && ip_len >= size_upper[bin])
		bin++;
	s->size_hist[bin]++;
	s->ttl_hist[ttl >= 234 ? 9 : ttl / 26]++;
	if (ip_len < s->min_length)
		s->min_length = ip_len;
	if (ip_len > s->max_length)
		s->max_length = ip_len;
	if (ttl < s->min_ttl)
		s->min_ttl = ttl;
	if (ttl > s->max_ttl)
		s->max_ttl = ttl;
}

#define CHECK_FIELD(f) CHECK_EQ(#f, got->f, want->f)

static inline void check_stats(const struct flow_stats *got, const struct flow_stats *want)
{
	char name[32];

	CHECK_FIELD(first_seen_ns);
	CHECK_FIELD(last_seen_ns);
	CHECK_FIELD(packets);
	CHECK_FIELD(octets);
	CHECK_FIELD(iat_sum_ns);
	CHECK_FIELD(retrans_packets);
	CHECK_FIELD(retrans_octets);
	for (int i = 0; i < FLOW_SIZE_BINS; i++) {
		snprintf(name, sizeof(name), "size_hist[%d]", i);
		CHECK_EQ(name, got->size_hist[i], want->size_hist[i]);
	}
	for (int i = 0; i < FLOW_TTL_BINS; i++) {
		snprintf(name, sizeof(name), "ttl_hist[%d]", i);
		CHECK_EQ(name, got->ttl_hist[i], want->ttl_hist[i]);
	}
	CHECK_FIELD(tcp_flags);
	CHECK_FIELD(flow_label);
	CHECK_FIELD(seq.next_seq);
	CHECK_FIELD(seq.hole_start);
	CHECK_FIELD(seq.hole_end);
	CHECK_FIELD(min_length);
	CHECK_FIELD(max_length);
	CHECK_FIELD(tcp_win_min);
	CHECK_FIELD(tcp_win_max);
	CHECK_FIELD(min_ttl);
	CHECK_FIELD(max_ttl);
	CHECK_FIELD(tcp_mss);
	CHECK_FIELD(tcp_wscale);
	CHECK_FIELD(tos);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "src_mac[%d]", i);
		CHECK_EQ(name, got->src_mac[i], want->src_mac[i]);
		snprintf(name, sizeof(name), "dst_mac[%d]", i);
		CHECK_EQ(name, got->dst_mac[i], want->dst_mac[i]);
	}
	/* flow_stats has no padding: this catches a field added later */
	CHECK(!memcmp(got, want, sizeof(*got)), "flow_stats differ in bytes");
}

/* The flow with this key exists and holds exactly these statistics. */
static inline void check_flow(const struct flow_list *l, const struct flow_key *key,
		       const struct flow_stats *want)
{
	const struct flow_entry *e = h_find(l, key);

	CHECK(e, "no flow with the expected key");
	if (!e) {
		key_print("wanted", key);
		for (size_t i = 0; i < l->n; i++)
			key_print("present", &l->v[i].key);
		return;
	}
	check_stats(&e->stats, want);
}

/* ---- -p: the parser slots of jmp_table ---- */

/* The seven parsers of -p, in enum flow_slot order: bit i = slot i. */
#define N_PARSERS 7
static const char *const parser_names[N_PARSERS] = {
	"eth", "ip", "ipv6", "tcp", "udp", "icmp", "icmpv6",
};
_Static_assert(SLOT_L2_ETH == 0 && SLOT_L4_ICMPV6 == N_PARSERS - 1 &&
		       SLOT_END == N_PARSERS,
	       "the -p parsers are the slots before SLOT_END");

static inline const char *mask_name(__u32 mask, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < N_PARSERS; i++)
		if (mask & (1U << i))
			n += snprintf(buf + n, size - n, "%s%s", n ? "," : "",
				      parser_names[i]);
	if (!n)
		snprintf(buf, size, "(none)");
	return buf;
}

static inline int jmp_fd(struct pipeline *p)
{
	return bpf_map__fd(p->skel->maps.jmp_table);
}

/* Which slots of jmp_table hold a program: a mask of enum flow_slot. */
static inline __u32 filled_slots(struct pipeline *p)
{
	__u32 mask = 0, id;

	for (__u32 slot = 0; slot < SLOT_MAX; slot++)
		if (!bpf_map_lookup_elem(jmp_fd(p), &slot, &id))
			mask |= 1U << slot;
	return mask;
}

/*
 * Every -p subset from a few loads: jmp_table is refilled for each subset
 * (the slot programs taken from a full load), which is what the loader
 * leaves behind for -p, at the cost of map updates. But the start program
 * runs the Ethernet and IP stages itself when the load filled their slots
 * (parse_slots, read-only after the load), so each set of those three has
 * a load of its own: eight.
 */
#define INLINE_SLOTS \
	(1U << SLOT_L2_ETH | 1U << SLOT_L3_IPV4 | 1U << SLOT_L3_IPV6)
#define N_INLINE_LOADS 8

struct mask_loads {
	struct pipeline p[N_INLINE_LOADS];
	int fd[N_INLINE_LOADS][SLOT_MAX]; /* slot programs; -1: none */
	int opened;
};

static inline int mask_load_of(__u32 mask)
{
	return (mask & 1U << SLOT_L2_ETH ? 1 : 0) |
	       (mask & 1U << SLOT_L3_IPV4 ? 2 : 0) |
	       (mask & 1U << SLOT_L3_IPV6 ? 4 : 0);
}

static inline void mask_loads_close(struct mask_loads *l)
{
	while (l->opened > 0) {
		int i = --l->opened;

		for (int slot = 0; slot < SLOT_MAX; slot++)
			if (l->fd[i][slot] >= 0)
				close(l->fd[i][slot]);
		pipeline_close(&l->p[i]);
	}
}

/* 0, or -errno with nothing left open. */
static inline int mask_loads_open(struct mask_loads *l, enum share_mode share)
{
	l->opened = 0;
	for (int i = 0; i < N_INLINE_LOADS; i++) {
		__u32 mask = ALL_SLOTS & ~INLINE_SLOTS;
		int err;

		mask |= (i & 1 ? 1U << SLOT_L2_ETH : 0) |
			(i & 2 ? 1U << SLOT_L3_IPV4 : 0) |
			(i & 4 ? 1U << SLOT_L3_IPV6 : 0);
		err = h_open(&l->p[i], share, mask);
		if (err) {
			mask_loads_close(l);
			return err;
		}
		l->opened++;
		for (int slot = 0; slot < SLOT_MAX; slot++)
			l->fd[i][slot] = -1;
		/* the parse pipeline's slots; SLOT_DPI is filled only with -D */
		for (__u32 slot = 0; slot < SLOT_DPI; slot++) {
			__u32 id = 0;

			if (!(mask & (1U << slot)))
				continue;
			bpf_map_lookup_elem(jmp_fd(&l->p[i]), &slot, &id);
			l->fd[i][slot] = bpf_prog_get_fd_by_id(id);
			if (l->fd[i][slot] < 0) {
				mask_loads_close(l);
				return -ENOENT;
			}
		}
	}
	return 0;
}

/* The load for mask, its jmp_table filled with exactly mask's parsers. */
static inline struct pipeline *mask_loads_use(struct mask_loads *l, __u32 mask)
{
	int i = mask_load_of(mask);

	for (__u32 slot = 0; slot < N_PARSERS; slot++)
		if (mask & (1U << slot))
			bpf_map_update_elem(jmp_fd(&l->p[i]), &slot,
					    &l->fd[i][slot], BPF_ANY);
		else
			bpf_map_delete_elem(jmp_fd(&l->p[i]), &slot);
	return &l->p[i];
}

/* Empty the flow table and zero the counters, for the next combination. */
static inline void reset_pipeline(struct pipeline *p)
{
	int ncpu = libbpf_num_possible_cpus(), fd = p->table_fd;
	__u64 *zeros = calloc(ncpu, sizeof(__u64));
	struct flow_key key;

	CHECK(zeros, "out of memory");
	for (__u32 c = 0; zeros && c < CNT_MAX; c++)
		CHECK(!bpf_map_update_elem(bpf_map__fd(p->skel->maps.counters), &c,
					   zeros, BPF_ANY), "zeroing counter %u", c);
	free(zeros);
	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			break;
}

#endif
