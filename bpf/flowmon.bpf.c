// SPDX-License-Identifier: GPL-2.0
/*
 * flowmon.bpf.c - the flow metering pipeline.
 *
 *   flow_start -> L2 eth -> L3 ipv4|ipv6 -> L4 tcp|udp|icmp|icmpv6 -> end
 *                                                              [-> dpi]
 *
 * joined by bpf_tail_call() through jmp_table with constant slot indices.
 * The loader fills only the slots of the protocols asked for (-p); a packet
 * that reaches an empty slot ends there and is counted as not parsed. Every
 * program returns XDP_PASS: metering never changes traffic.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"
#include "parse.h"
#include "share.h"
#include "frag.h"
#include "tcp_seq.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * The flow table the programs write into is slot 0 of flow_tables. User
 * space creates two tables, installs one, and later swaps in the other and
 * drains the first: the swap returns only after an RCU grace period, when no
 * program still holds the old table, so no increment can land between
 * reading and deleting an entry. The loader sets max_entries (--kernel-flows).
 * Slot 1 holds the table swapped out last, read only (tcp_seq.h), and only
 * when a TCP flow's entry is created.
 */
/* Only a pointer to flow_stats appears in the map type below, and clang
 * then emits a mere forward declaration; libbpf needs its size. */
struct flow_stats flow_stats_btf_anchor;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 65536);
		__type(key, struct flow_key);
		__type(value, struct flow_stats);
	});
} flow_tables SEC(".maps");

/* Packets whose flow found no room in the table go here, key and all. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} overflow_ring SEC(".maps");

/* Our own export connections; self_conn_count == 0 (the common case: UDP
 * export, or a collector not reached through a metered interface) keeps
 * the per-packet cost at one load. Written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MAX_SELF_CONNS); /* old and new set at once */
	__type(key, struct self_conn_key);
	__type(value, __u8);
} self_conns SEC(".maps");

__u32 self_conn_count;

/* --sample N: each packet is metered with probability 1/N (1: all). Set
 * by the loader before load, so without sampling the verifier drops the
 * test altogether. */
const volatile __u32 sample_rate = 1;

static __always_inline void count_add(__u32 counter, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &counter);

	if (v)
		*v += n;
}

static __always_inline int finish(__u32 counter)
{
	count_add(counter, 1);
	return XDP_PASS;
}

/* Tail calls need a constant index to become direct jumps: keep this inline
 * and call it with enum constants only. Reaching the return means the slot
 * was empty: the packet is not parsed and the miss is counted by slot. */
static __always_inline int next(struct xdp_md *ctx, __u32 slot)
{
	bpf_tail_call(ctx, &jmp_table, slot);
	count_add(CNT_MISSED_TAIL_CALL + slot, 1);
	return finish(CNT_NOT_PARSED);
}

static __always_inline int result(struct xdp_md *ctx, int res, __u32 slot)
{
	if (res == PARSE_MALFORMED)
		return finish(CNT_MALFORMED);
	if (res == PARSE_UNSUPPORTED)
		return finish(CNT_NOT_PARSED);
	return next(ctx, slot);
}

/* Programs past L2 start by finding the parse state and the cursor;
 * the parsers also want the packet bounds. */
#define STATE_PROLOGUE                                           \
	struct parse_state *st = state_get();                    \
	struct pkt_meta *cur = cursor_get(ctx, st);              \
	if (!st || !cur)                                         \
		return finish(CNT_INTERNAL)
#define PROG_PROLOGUE                                            \
	void *data = (void *)(long)ctx->data;                    \
	void *data_end = (void *)(long)ctx->data_end;            \
	STATE_PROLOGUE

#include "dpi_stage.h"

SEC("xdp")
int flow_start(struct xdp_md *ctx)
{
	struct pkt_meta *cur;
	__u32 wire_len, have;
	__u64 ts;

	count_add(CNT_SEEN, 1);
	/* first, so that a packet left out costs one random number */
	if (sample_rate > 1 && bpf_get_prandom_u32() % sample_rate)
		return finish(CNT_NOT_SAMPLED);
	if (cursor_init(ctx, &ts, &wire_len))
		return finish(CNT_INTERNAL);
	cur = cursor_only_get(ctx);
	if (!cur)
		return finish(CNT_INTERNAL);
	cur->ts_ns = ts;
	cur->magic = 0;
	/* only a replayed frame can be cut, and only if it is shorter than
	 * the wire length its capture recorded */
	have = ctx->data_end - ctx->data;
	cur->wire_len = wire_len > have ? wire_len : 0;
	return next(ctx, SLOT_L2_ETH);
}

SEC("xdp")
int flow_l2_eth(struct xdp_md *ctx)
{
	struct pkt_meta *cur = cursor_only_get(ctx);
	int res;

	if (!cur)
		return finish(CNT_INTERNAL);
	res = parse_eth((void *)(long)ctx->data, (void *)(long)ctx->data_end, cur);
	if (res != PARSE_OK)
		return result(ctx, res, SLOT_END);
	if (cur->l3_proto == ETH_P_IP)
		return next(ctx, SLOT_L3_IPV4);
	if (cur->l3_proto == ETH_P_IPV6)
		return next(ctx, SLOT_L3_IPV6);
	return finish(CNT_NOT_PARSED);
}

/* After L3: later fragments carry no L4 header and go straight to the end;
 * protocols without a parser of ours are flows without ports. */
static __always_inline int to_l4(struct xdp_md *ctx, struct pkt_meta *cur)
{
	if (cur->frag == FRAG_LATER)
		return next(ctx, SLOT_END);
	switch (cur->l4_proto) {
	case IPPROTO_TCP:
		return next(ctx, SLOT_L4_TCP);
	case IPPROTO_UDP:
		return next(ctx, SLOT_L4_UDP);
	case IPPROTO_ICMP:
		return next(ctx, SLOT_L4_ICMP);
	case IPPROTO_ICMPV6:
		return next(ctx, SLOT_L4_ICMPV6);
	default:
		return next(ctx, SLOT_END);
	}
}

SEC("xdp")
int flow_l3_ipv4(struct xdp_md *ctx)
{
	int res;

	PROG_PROLOGUE;
	res = parse_ipv4(ctx, data, data_end, cur, st);
	if (res != PARSE_OK)
		return result(ctx, res, SLOT_END);
	return to_l4(ctx, cur);
}

SEC("xdp")
int flow_l3_ipv6(struct xdp_md *ctx)
{
	int res;

	PROG_PROLOGUE;
	res = parse_ipv6(ctx, data, data_end, cur, st);
	if (res != PARSE_OK)
		return result(ctx, res, SLOT_END);
	return to_l4(ctx, cur);
}

SEC("xdp")
int flow_l4_tcp(struct xdp_md *ctx)
{
	PROG_PROLOGUE;
	return result(ctx, parse_tcp(data, data_end, cur, st), SLOT_END);
}

SEC("xdp")
int flow_l4_udp(struct xdp_md *ctx)
{
	PROG_PROLOGUE;
	return result(ctx, parse_udp(data, data_end, cur, st), SLOT_END);
}

SEC("xdp")
int flow_l4_icmp(struct xdp_md *ctx)
{
	PROG_PROLOGUE;
	return result(ctx,
		      parse_icmp_common(data, data_end, cur, st, ICMP_ECHO,
					ICMP_ECHOREPLY),
		      SLOT_END);
}

SEC("xdp")
int flow_l4_icmpv6(struct xdp_md *ctx)
{
	PROG_PROLOGUE;
	return result(ctx,
		      parse_icmp_common(data, data_end, cur, st,
					ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY),
		      SLOT_END);
}

/* Lower *slot to val if val is smaller, against concurrent writers. */
#define ATOMIC_MIN(slot, val)                                              \
	do {                                                               \
		for (int _i = 0; _i < 4; _i++) {                           \
			__typeof__(*(slot)) _old = *(volatile __typeof__(*(slot)) *)(slot); \
			if ((val) >= _old ||                               \
			    __sync_val_compare_and_swap(slot, _old, val) == _old) \
				break;                                     \
		}                                                          \
	} while (0)
#define ATOMIC_MAX(slot, val)                                              \
	do {                                                               \
		for (int _i = 0; _i < 4; _i++) {                           \
			__typeof__(*(slot)) _old = *(volatile __typeof__(*(slot)) *)(slot); \
			if ((val) <= _old ||                               \
			    __sync_val_compare_and_swap(slot, _old, val) == _old) \
				break;                                     \
		}                                                          \
	} while (0)

static __always_inline __u32 size_bin(__u32 len)
{
	if (len < 128)
		return 0;
	if (len < 256)
		return 1;
	if (len < 512)
		return 2;
	if (len < 1024)
		return 3;
	if (len < 1514)
		return 4;
	return 5;
}

static __always_inline __u32 ttl_bin(__u32 ttl)
{
	__u32 bin = ttl / FLOW_TTL_BIN_WIDTH;

	/* the verifier loses bounds across a division: hide bin from clang so
	 * that the clamp it would drop as redundant stays in */
	asm volatile("" : "+r"(bin));
	return bin < FLOW_TTL_BINS ? bin : FLOW_TTL_BINS - 1;
}

/* A fresh entry holds no packet yet: the one update path below adds the
 * first packet like any other, so there is only one way to count. What is
 * kept from the first packet only (TOS, flow label, MACs) is set here. */
static __always_inline void stats_init(struct flow_stats *fs,
				       struct xdp_md *ctx,
				       struct parse_state *st, __u64 ts)
{
	flow_stats_empty(fs);
	eth_macs((void *)(long)ctx->data, (void *)(long)ctx->data_end,
		 fs->src_mac, fs->dst_mac);
	fs->tos = st->tos;
	fs->flow_label = st->flow_label;
	fs->first_seen_ns = ts;
	fs->last_seen_ns = ts;
}

static __always_inline void stats_update(struct flow_stats *fs,
					 struct parse_state *st,
					 struct pkt_meta *cur)
{
	__u64 ts = cur->ts_ns;
	__u32 len = st->ip_length;

	__sync_fetch_and_add(&fs->packets, 1);
	__sync_fetch_and_add(&fs->octets, len);
	/* first_seen only moves back and last_seen only forward (a capture's
	 * times need not be in order), and each step goes to the inter-
	 * arrival sum, which stays last_seen - first_seen: the sum of the
	 * gaps of the packets in time order. Not an exchange: a packet whose
	 * time was read before another CPU's newer one would move last_seen
	 * back, and the next packet would count that gap a second time. */
	for (int i = 0; i < 4; i++) {
		__u64 old = *(volatile __u64 *)&fs->first_seen_ns;

		if (ts >= old)
			break;
		if (__sync_val_compare_and_swap(&fs->first_seen_ns, old, ts) == old) {
			__sync_fetch_and_add(&fs->iat_sum_ns, old - ts);
			break;
		}
	}
	for (int i = 0; i < 4; i++) {
		__u64 old = *(volatile __u64 *)&fs->last_seen_ns;

		if (ts <= old)
			break;
		if (__sync_val_compare_and_swap(&fs->last_seen_ns, old, ts) == old) {
			__sync_fetch_and_add(&fs->iat_sum_ns, ts - old);
			break;
		}
	}
	__sync_fetch_and_add(&fs->size_hist[size_bin(len)], 1);
	__sync_fetch_and_add(&fs->ttl_hist[ttl_bin(st->ttl)], 1);
	ATOMIC_MIN(&fs->min_length, len);
	ATOMIC_MAX(&fs->max_length, len);
	ATOMIC_MIN(&fs->min_ttl, (__u32)st->ttl);
	ATOMIC_MAX(&fs->max_ttl, (__u32)st->ttl);

	if (st->key.protocol != IPPROTO_TCP || cur->frag == FRAG_LATER ||
	    st->tcp_cut)
		return;
	if ((fs->tcp_flags | st->tcp_flags) != fs->tcp_flags)
		__sync_fetch_and_or(&fs->tcp_flags, st->tcp_flags);
	ATOMIC_MIN(&fs->tcp_win_min, (__u32)st->tcp_window);
	ATOMIC_MAX(&fs->tcp_win_max, (__u32)st->tcp_window);
	if (st->tcp_flags & 0x02) { /* SYN: options describe the session */
		if (st->tcp_mss)
			fs->tcp_mss = st->tcp_mss;
		if (st->tcp_wscale != 0xff)
			fs->tcp_wscale = st->tcp_wscale;
	}
	if (st->l4_payload &&
	    tcp_seq_resent(&fs->seq, st->tcp_seq, st->l4_payload)) {
		__sync_fetch_and_add(&fs->retrans_packets, 1);
		__sync_fetch_and_add(&fs->retrans_octets, len);
	}
}

/* Table full: hand the packet to user space through the ring, or, if that is
 * full too, keep at least its totals in the overflow counters. */
static __always_inline void overflow(struct xdp_md *ctx,
				     struct parse_state *st,
				     struct pkt_meta *cur)
{
	struct flow_event *ev;

	count_add(CNT_INSERT_FAILED, 1);
	ev = bpf_ringbuf_reserve(&overflow_ring, sizeof(*ev), 0);
	if (!ev) {
		count_add(CNT_OVERFLOW_PKTS, 1);
		count_add(CNT_OVERFLOW_OCTETS, st->ip_length);
		return;
	}
	__builtin_memcpy(&ev->key, &st->key, sizeof(ev->key));
	ev->ts_ns = cur->ts_ns;
	ev->ip_length = st->ip_length;
	ev->ttl = st->ttl;
	ev->tos = st->tos;
	/* a later fragment has no TCP header: st->tcp_flags would be the
	 * previous packet's on this CPU (stats_update skips it the same way,
	 * and a header the capture cut) */
	ev->tcp_flags = st->key.protocol == IPPROTO_TCP &&
			cur->frag != FRAG_LATER && !st->tcp_cut ?
				st->tcp_flags : 0;
	ev->flow_label = st->flow_label;
	eth_macs((void *)(long)ctx->data, (void *)(long)ctx->data_end,
		 ev->src_mac, ev->dst_mac);
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline int is_self_conn(const struct flow_key *key)
{
	struct self_conn_key k;

	__builtin_memcpy(k.src_addr, key->src_addr, 16);
	__builtin_memcpy(k.dst_addr, key->dst_addr, 16);
	k.src_port = key->src_port;
	k.dst_port = key->dst_port;
	k.protocol = key->protocol;
	k.pad[0] = k.pad[1] = k.pad[2] = 0;
	return bpf_map_lookup_elem(&self_conns, &k) != NULL;
}

SEC("xdp")
int flow_end(struct xdp_md *ctx)
{
	struct flow_stats *fs, fresh;
	__u32 zero = 0;
	void *table;

	STATE_PROLOGUE;
	if (cur->frag != FRAG_NONE)
		frag_join(st, cur->frag);
	if (self_conn_count && is_self_conn(&st->key)) {
		count_add(CNT_SELF_EXPORT, 1);
		return finish(CNT_NOT_PARSED);
	}
	table = bpf_map_lookup_elem(&flow_tables, &zero);
	if (!table)
		return finish(CNT_INTERNAL);
	fs = bpf_map_lookup_elem(table, &st->key);
	if (!fs) {
		__u32 prev = 1;

		stats_init(&fresh, ctx, st, cur->ts_ns);
		if (st->key.protocol == IPPROTO_TCP)
			tcp_seq_seed(&fresh.seq,
				     bpf_map_lookup_elem(&flow_tables, &prev),
				     &st->key);
		/* -EEXIST: another CPU inserted it first; use theirs */
		bpf_map_update_elem(table, &st->key, &fresh, BPF_NOEXIST);
		fs = bpf_map_lookup_elem(table, &st->key);
	}
	if (fs)
		stats_update(fs, st, cur);
	else
		overflow(ctx, st, cur);
	count_add(CNT_FLOWED, 1);
	dpi_offer(ctx, st, cur, fs); /* -D: may tail-call flow_dpi */
	return XDP_PASS;
}

/* The floor for -t 0: what an XDP program costs that does nothing. */
SEC("xdp")
int floor_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}
