// SPDX-License-Identifier: GPL-2.0
/*
 * flowmon.bpf.c - the flow metering pipeline.
 *
 *   flow_start -> L2 eth -> L3 ipv4|ipv6 -> L4 tcp|udp|icmp|icmpv6 -> end
 *                                                              [-> dpi]
 *   --decap: L3 (GRE, IP-in-IP) or UDP (VXLAN, Geneve) -> decap -> the
 *   inner packet's L2 or L3, and on as above (bpf/decap.h)
 *
 * joined by bpf_tail_call() through jmp_table with constant slot indices.
 * Where a stage's slot is filled, the stage before runs its code itself:
 * start parses Ethernet and IP, an L4 stage does end's work, so a TCP or
 * UDP packet crosses one tail call (the stage programs stay for -p,
 * --decap's inner packets, later fragments and other protocols).
 * The loader fills only the slots of the protocols asked for (-p); a packet
 * that reaches an empty slot ends there and is counted as not parsed. Every
 * program passes the packet on (XDP_PASS, TC_ACT_OK): metering never
 * changes traffic.
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"
#include "parse.h"
#include "share.h"
#include "frag.h"
#include "tcp_seq.h"

char LICENSE[] SEC("license") = "GPL";

/* One jump table per instance of the stages (ctx.h): XDP, TC ingress and
 * TC egress. The kernel keeps XDP and TC programs in separate tables; TC
 * ingress and egress have their own so that the direction is a constant. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_table_tc_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_table_tc_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX * FLOW_DIRECTIONS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * The flow table is slot 0 of flow_tables, where -M and a run taking over
 * after a crash find it (pinned). It lives as long as the meter: an entry
 * is inserted when its flow starts, updated in place for the flow's whole
 * life and deleted by user space when the flow ends (table_ops.h). The
 * loader creates it (--kernel-flows entries); updating slot 0 is also how
 * user space waits for an RCU grace period (the kernel's
 * maybe_wait_bpf_programs).
 */
/* Only a pointer to flow_stats appears in the map type below, and clang
 * then emits a mere forward declaration; libbpf needs its size. */
struct flow_stats flow_stats_btf_anchor;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 65536);
		__type(key, struct flow_key);
		__type(value, struct flow_stats);
	});
} flow_tables SEC(".maps");

/* New entries and TCP ends, for user space (struct flow_notice). Read
 * every poll, so no wakeup per notice; the loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} notice_ring SEC(".maps");

/* Packets whose flow found no room in the table go here, key and all;
 * the loader sizes it by memory. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} overflow_ring SEC(".maps");

/* Our own export connections (TCP, and UDP when egress is metered); a
 * count of 0 (no collector, or ingress with UDP export) keeps the
 * per-packet cost at one load. Written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MAX_SELF_CONNS); /* old and new set at once */
	__type(key, struct self_conn_key);
	__type(value, __u8);
} self_conns SEC(".maps");

__u32 self_conn_count;
/* of those, TCP ones: only they have packets arriving (the ingress
 * programs test this count, so UDP export keeps their cost at one load) */
__u32 self_conn_tcp_count;

/* --sample N: each packet is metered with probability 1/N (1: all). Set
 * by the loader before load, so without sampling the verifier drops the
 * test altogether. */
const volatile __u32 sample_rate = 1;

/* The slots the loader filled (-p): with the L2 and L3 slots filled the
 * start program parses Ethernet and IP itself, two tail calls less per
 * packet (the L2 and L3 programs stay for the inner packets of --decap). */
const volatile __u32 parse_slots = (1U << SLOT_MAX) - 1;

/* Interfaces metered at ingress (any hook), for the egress programs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_METERED_IFACES);
	__type(key, __u32);
	__type(value, __u8);
} ingress_metered SEC(".maps");

static __always_inline void count_add(const int at, __u32 counter, __u64 n)
{
	__u32 idx = counter + (AT_DIRECTION(at) == FLOW_DIR_EGRESS ? CNT_MAX : 0);
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n;
}

/* Counters count wire packets: a GSO packet as the packets it carries. */
static __always_inline int finish(void *ctx, const int at, __u32 counter)
{
	count_add(at, counter, ctx_segs(ctx, at));
	return CTX_PASS(at);
}

static __always_inline void *jmp_table_of(const int at)
{
	if (at == AT_TC_IN)
		return &jmp_table_tc_in;
	if (at == AT_TC_OUT)
		return &jmp_table_tc_out;
	return &jmp_table;
}

/* Tail calls need a constant index to become direct jumps: keep this inline
 * and call it with enum constants only. Reaching the return means the slot
 * was empty: the packet is not parsed and the miss is counted by slot. */
static __always_inline int next(void *ctx, const int at, __u32 slot)
{
	bpf_tail_call(ctx, jmp_table_of(at), slot);
	count_add(at, CNT_MISSED_TAIL_CALL + slot, ctx_segs(ctx, at));
	return finish(ctx, at, CNT_NOT_PARSED);
}

static __always_inline int result(void *ctx, const int at, int res, __u32 slot)
{
	if (res == PARSE_MALFORMED)
		return finish(ctx, at, CNT_MALFORMED);
	if (res == PARSE_UNSUPPORTED)
		return finish(ctx, at, CNT_NOT_PARSED);
	return next(ctx, at, slot);
}

/* Programs past L2 start by finding the parse state and the cursor;
 * the parsers also want the packet bounds. */
#define STATE_PROLOGUE                                           \
	struct parse_state *st = state_get();                    \
	struct pkt_meta *cur = cursor_get(ctx, at, st);          \
	if (!st || !cur)                                         \
		return finish(ctx, at, CNT_INTERNAL)
#define PROG_PROLOGUE                                            \
	void *data = ctx_data(ctx, at);                          \
	void *data_end = ctx_data_end(ctx, at);                  \
	STATE_PROLOGUE

/*
 * Each stage body below becomes three programs: flow_<stage> (XDP, the
 * names the seed and the tests know), tci_<stage> and tce_<stage> (TC
 * ingress and egress). One source, constants folded per instance.
 */
#define HOOK_PROGRAMS(stage)                                           \
	SEC("xdp") int flow_##stage(struct xdp_md *ctx)                \
	{                                                              \
		return stage_##stage(ctx, AT_XDP);                     \
	}                                                              \
	SEC("tc") int tci_##stage(struct __sk_buff *ctx)               \
	{                                                              \
		return stage_##stage(ctx, AT_TC_IN);                   \
	}                                                              \
	SEC("tc") int tce_##stage(struct __sk_buff *ctx)               \
	{                                                              \
		return stage_##stage(ctx, AT_TC_OUT);                  \
	}

#include "dpi_stage.h"
#include "decap.h"

/* The headers the parsers read, in the linear part of the skb: at TC a
 * packet's data_end may stop before them (a non-linear skb). Pulling does
 * not change the packet, only where its bytes are held. */
#define TC_PULL_LEN 128
#define TC_PULL_LEN_DECAP 256 /* outer headers, tunnel header, inner ones */

/* At egress a forwarded packet has an ingress interface: if that one is
 * metered at ingress, the packet is counted there already. The host's own
 * packets have none and cost no lookup. */
static __always_inline int counted_at_ingress(void *ctx, const int at)
{
	__u32 in;

	if (at != AT_TC_OUT)
		return 0;
	in = CTX_SKB(ctx)->ingress_ifindex;
	return in && bpf_map_lookup_elem(&ingress_metered, &in) != NULL;
}

/* After L3: later fragments carry no L4 header and go straight to the end;
 * protocols without a parser of ours are flows without ports. */
static __always_inline int to_l4(void *ctx, const int at, struct pkt_meta *cur)
{
	if (cur->frag == FRAG_LATER)
		return next(ctx, at, SLOT_END);
	if (decap_ip_wanted(cur))
		return next(ctx, at, SLOT_DECAP);
	switch (cur->l4_proto) {
	case IPPROTO_TCP:
		return next(ctx, at, SLOT_L4_TCP);
	case IPPROTO_UDP:
		return next(ctx, at, SLOT_L4_UDP);
	case IPPROTO_ICMP:
		return next(ctx, at, SLOT_L4_ICMP);
	case IPPROTO_ICMPV6:
		return next(ctx, at, SLOT_L4_ICMPV6);
	default:
		return next(ctx, at, SLOT_END);
	}
}

/* IPv4 or IPv6 (v6: call it with a constant, one parser a call site;
 * a runtime v6 cost the verifier 15% more at load), on to the L4 stage. */
static __always_inline int l3_ip(void *ctx, const int at, struct parse_state *st,
				 struct pkt_meta *cur, const int v6)
{
	void *data = ctx_data(ctx, at), *data_end = ctx_data_end(ctx, at);
	__u32 ifindex = ctx_ifindex(ctx, at);
	int res = v6 ? parse_ipv6(ifindex, AT_DIRECTION(at), data, data_end, cur, st) :
		       parse_ipv4(ifindex, AT_DIRECTION(at), data, data_end, cur, st);

	if (res != PARSE_OK)
		return result(ctx, at, res, SLOT_END);
	return to_l4(ctx, at, cur);
}

/* After Ethernet: IP in the same program when its parser's slot is filled,
 * one stage boundary less per packet (measured: 12-18 ns each, the next
 * program's state lookups and reloads); an empty slot still ends the chain
 * through next(), counted. The L3 programs stay for --decap's inner
 * packets. */
static __always_inline int to_l3(void *ctx, const int at, struct pkt_meta *cur)
{
	struct parse_state *st;

	if (cur->l3_proto == ETH_P_IP) {
		if (!(parse_slots & (1U << SLOT_L3_IPV4)))
			return next(ctx, at, SLOT_L3_IPV4);
	} else if (cur->l3_proto == ETH_P_IPV6) {
		if (!(parse_slots & (1U << SLOT_L3_IPV6)))
			return next(ctx, at, SLOT_L3_IPV6);
	} else {
		return finish(ctx, at, CNT_NOT_PARSED);
	}
	st = state_get();
	if (!st)
		return finish(ctx, at, CNT_INTERNAL);
	if (cur->l3_proto == ETH_P_IP)
		return l3_ip(ctx, at, st, cur, 0);
	return l3_ip(ctx, at, st, cur, 1);
}

static __always_inline int stage_l3_ipv4(void *ctx, const int at)
{
	STATE_PROLOGUE;
	return l3_ip(ctx, at, st, cur, 0);
}
HOOK_PROGRAMS(l3_ipv4)

static __always_inline int stage_l3_ipv6(void *ctx, const int at)
{
	STATE_PROLOGUE;
	return l3_ip(ctx, at, st, cur, 1);
}
HOOK_PROGRAMS(l3_ipv6)

/* The frame's Ethernet header: at 0, or (--decap) the inner frame's at
 * the offset the tunnel stage left in the cursor. */
static __always_inline int l2_eth(void *ctx, const int at, struct pkt_meta *cur)
{
	__u32 labels[FLOW_MPLS_LABELS], nlabels = 0;
	int res;

	res = parse_eth(ctx_data(ctx, at), ctx_data_end(ctx, at), cur,
			cur->tunnel ? cur->l3_off : 0, labels, &nlabels);
	if (res != PARSE_OK)
		return result(ctx, at, res, SLOT_END);
	/* MPLS: the labels go to the state (the meta strategy looks it up
	 * for labelled frames only); an inner frame's stack does not replace
	 * the outer one's */
	if (nlabels && !cur->mpls) {
		struct parse_state *st = state_get();

		if (!st)
			return finish(ctx, at, CNT_INTERNAL);
		__builtin_memcpy(st->mpls, labels, sizeof(labels));
		cur->mpls = nlabels;
	}
	return to_l3(ctx, at, cur);
}

static __always_inline int stage_l2_eth(void *ctx, const int at)
{
	struct pkt_meta *cur = cursor_only_get(ctx, at);

	if (!cur)
		return finish(ctx, at, CNT_INTERNAL);
	return l2_eth(ctx, at, cur);
}
HOOK_PROGRAMS(l2_eth)

static __always_inline int stage_start(void *ctx, const int at)
{
	struct pkt_meta *cur;
	__u32 wire_len, have;
	__u64 ts;

	if (counted_at_ingress(ctx, at)) {
		count_add(at, CNT_FORWARDED, ctx_segs(ctx, at));
		return CTX_PASS(at);
	}
	count_add(at, CNT_SEEN, ctx_segs(ctx, at));
	/* first, so that a packet left out costs one random number */
	if (sample_rate > 1 && bpf_get_prandom_u32() % sample_rate)
		return finish(ctx, at, CNT_NOT_SAMPLED);
	if (AT_IS_TC(at)) {
		__u32 len = CTX_SKB(ctx)->len;
		__u32 pull = decap_enabled ? TC_PULL_LEN_DECAP : TC_PULL_LEN;
		__u32 want = len < pull ? len : pull;

		if (ctx_data_end(ctx, at) - ctx_data(ctx, at) < want)
			bpf_skb_pull_data(ctx, want);
	}
	if (cursor_init(ctx, at, &ts, &wire_len))
		return finish(ctx, at, CNT_INTERNAL);
	cur = cursor_only_get(ctx, at);
	if (!cur)
		return finish(ctx, at, CNT_INTERNAL);
	cur->ts_ns = ts;
	cur->magic = 0;
	cur->tunnel = 0;
	cur->mpls = 0;
	cur->segment_id = 0;
	have = ctx_data_end(ctx, at) - ctx_data(ctx, at);
	/* only a replayed frame can be cut, and only if it is shorter than
	 * the wire length its capture recorded; at TC the skb's length is
	 * the frame's, and data_end may end with the linear part */
	if (AT_IS_TC(at))
		wire_len = CTX_SKB(ctx)->len;
	cur->wire_len = wire_len > have ? wire_len : 0;
	if (!(parse_slots & (1U << SLOT_L2_ETH)))
		return next(ctx, at, SLOT_L2_ETH); /* -p without eth */
	return l2_eth(ctx, at, cur);
}
HOOK_PROGRAMS(start)

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

/* The packet's MPLS label stack entries (zeros without), where an entry or
 * an overflow event keeps them. */
static __always_inline void mpls_of(const struct pkt_meta *cur,
				    const struct parse_state *st, __u32 *to)
{
	if (cur->mpls) {
		__builtin_memcpy(to, st->mpls, sizeof(st->mpls));
	} else {
		to[0] = to[1] = to[2] = 0;
	}
}

/* A fresh entry holds no packet yet: the one update below adds the first
 * packet to it (before its insert, with plain stores) like any other, so
 * there is only one way to count. What is kept from the first packet only
 * (TOS, flow label, MACs) is set here. */
static __always_inline void stats_init(struct flow_stats *fs, void *ctx,
				       const int at, struct parse_state *st,
				       struct pkt_meta *cur, __u64 ts)
{
	flow_stats_empty(fs);
	mpls_of(cur, st, fs->mpls);
	eth_macs(ctx_data(ctx, at), ctx_data_end(ctx, at), fs->src_mac,
		 fs->dst_mac);
	fs->tos = st->tos;
	fs->flow_label = st->flow_label;
	fs->first_seen_ns = ts;
	fs->last_seen_ns = ts;
}

/*
 * What one packet is on the wire. A GSO packet (TC only) stands for segs
 * packets: segs - 1 of seg_len bytes and a last one of last_len, each with
 * its own copy of the headers. Anything else is one packet of ip_length.
 */
struct wire {
	__u32 segs;
	__u32 seg_len;
	__u32 last_len;
	__u64 octets;
};

static __always_inline void wire_of(void *ctx, const int at,
				    struct parse_state *st,
				    struct pkt_meta *cur, struct wire *w)
{
	__u32 len = st->ip_length, segs = ctx_segs(ctx, at), gso, hdr, body;

	w->segs = segs;
	w->seg_len = w->last_len = len;
	w->octets = len;
	if (segs < 2)
		return;
	gso = ctx_gso_size(ctx, at);
	if (st->key.protocol == IPPROTO_TCP && !st->tcp_cut &&
	    len > st->l4_payload)
		hdr = len - st->l4_payload; /* IP + TCP headers, options */
	else
		hdr = (__u32)(cur->l4_off - cur->l3_off) +
		      (st->key.protocol == IPPROTO_UDP ? 8 : 0);
	body = (segs - 1) * gso;
	w->seg_len = hdr + gso;
	w->last_len = len > body ? len - body : w->seg_len;
	w->octets = len + (__u64)(segs - 1) * hdr;
}

static __always_inline void notice(const int at, __u32 kind,
				   const struct flow_key *key, __u64 ts)
{
	struct flow_notice *n = bpf_ringbuf_reserve(&notice_ring, sizeof(*n), 0);

	if (!n) {
		count_add(at, CNT_NOTICE_LOST, 1);
		return;
	}
	__builtin_memcpy(&n->key, key, sizeof(n->key));
	n->ts_ns = ts;
	n->kind = kind;
	n->pad = 0;
	bpf_ringbuf_submit(n, BPF_RB_NO_WAKEUP);
}

#define TCP_FIN_RST 0x05

/* The same update on two kinds of memory: a table entry, which other CPUs
 * write too (locked instructions), or a fresh entry on our stack before
 * its insert (plain ones). fresh is a constant at each call site. */
#define ADD(fresh, p, v)                                                   \
	do {                                                               \
		if (fresh)                                                 \
			*(p) += (v);                                       \
		else                                                       \
			__sync_fetch_and_add(p, v);                        \
	} while (0)
#define LOWER(fresh, p, v)                                                 \
	do {                                                               \
		if (!(fresh))                                              \
			ATOMIC_MIN(p, v);                                  \
		else if ((v) < *(p))                                       \
			*(p) = (v);                                        \
	} while (0)
#define RAISE(fresh, p, v)                                                 \
	do {                                                               \
		if (!(fresh))                                              \
			ATOMIC_MAX(p, v);                                  \
		else if ((v) > *(p))                                       \
			*(p) = (v);                                        \
	} while (0)

/* Adds the packet to fs; returns 1 if it is the flow's first FIN or RST
 * (user space then checks the flow after the FIN grace instead of the
 * idle timeout: the caller posts the notice). */
static __always_inline int stats_update(struct flow_stats *fs,
					struct parse_state *st,
					struct pkt_meta *cur,
					const struct wire *w, const int fresh)
{
	__u64 ts = cur->ts_ns;
	__u32 len = w->last_len;
	__u32 sbin = size_bin(len), tbin = ttl_bin(st->ttl);
	int first_end = 0;

	if (!fresh) {
		/* Load every line this update writes before the first
		 * atomic: a locked instruction waits for its line, so lines
		 * first met by one are fetched one after another (a DRAM
		 * latency each, at 1M flows), where plain loads go out
		 * together. */
		(void)*(volatile __u64 *)&fs->packets;
		(void)*(volatile __u32 *)&fs->size_hist[sbin];
		(void)*(volatile __u32 *)&fs->ttl_hist[tbin];

		/* Times before counts: a harvest takes the counts first and
		 * first_seen last, so a delta with packets has its
		 * first_seen. first_seen only moves back and last_seen only
		 * forward (a capture's times need not be in order). Not an
		 * exchange: a packet whose time was read before another
		 * CPU's newer one would move last_seen back. The
		 * inter-arrival sum is the flow's span, which user space
		 * keeps from these times (flowtable.c): no third locked add
		 * per packet. A fresh entry has this packet's time in both
		 * (stats_init). */
		for (int i = 0; i < 4; i++) {
			__u64 old = *(volatile __u64 *)&fs->first_seen_ns;

			if (ts >= old ||
			    __sync_val_compare_and_swap(&fs->first_seen_ns, old, ts) == old)
				break;
		}
		for (int i = 0; i < 4; i++) {
			__u64 old = *(volatile __u64 *)&fs->last_seen_ns;

			if (ts <= old ||
			    __sync_val_compare_and_swap(&fs->last_seen_ns, old, ts) == old)
				break;
		}
	}
	ADD(fresh, &fs->packets, w->segs);
	ADD(fresh, &fs->octets, w->octets);
	ADD(fresh, &fs->size_hist[sbin], 1);
	if (w->segs > 1)
		ADD(fresh, &fs->size_hist[size_bin(w->seg_len)], w->segs - 1);
	ADD(fresh, &fs->ttl_hist[tbin], w->segs);
	LOWER(fresh, &fs->min_length, len);
	RAISE(fresh, &fs->max_length, w->seg_len);
	LOWER(fresh, &fs->min_ttl, (__u32)st->ttl);
	RAISE(fresh, &fs->max_ttl, (__u32)st->ttl);

	if (st->key.protocol != IPPROTO_TCP || cur->frag == FRAG_LATER ||
	    st->tcp_cut)
		return 0;
	if ((fs->tcp_flags | st->tcp_flags) != fs->tcp_flags) {
		__u32 was = fs->tcp_flags;

		if (fresh)
			fs->tcp_flags |= st->tcp_flags;
		else
			was = __sync_fetch_and_or(&fs->tcp_flags, st->tcp_flags);
		first_end = (st->tcp_flags & TCP_FIN_RST) && !(was & TCP_FIN_RST);
	}
	LOWER(fresh, &fs->tcp_win_min, (__u32)st->tcp_window);
	RAISE(fresh, &fs->tcp_win_max, (__u32)st->tcp_window);
	if (st->tcp_flags & 0x02) { /* SYN: options describe the session */
		if (st->tcp_mss)
			fs->tcp_mss = st->tcp_mss;
		if (st->tcp_wscale != 0xff)
			fs->tcp_wscale = st->tcp_wscale;
	}
	if (st->l4_payload &&
	    tcp_seq_resent(&fs->seq, st->tcp_seq, st->l4_payload)) {
		ADD(fresh, &fs->retrans_packets, w->segs);
		ADD(fresh, &fs->retrans_octets, w->octets);
	}
	return first_end;
}

/* The manager reads the ring at least every 100 ms, and in batches: it is
 * woken only once the ring is an eighth full, not whenever it had caught
 * up (the default), which at a modest rate meant a wakeup, on this CPU
 * too, every few packets. Above that, one event in OVERFLOW_WAKE_EVERY
 * wakes it: a wakeup is an interrupt on this CPU, which for every event
 * cost a third of the rate while the manager was catching up. */
#define OVERFLOW_RECORD ((sizeof(struct flow_event) + 8 + 7) & ~7UL)
#define OVERFLOW_WAKE_EVERY 256

static __always_inline __u64 overflow_wakeup(void)
{
	__u64 used = bpf_ringbuf_query(&overflow_ring, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&overflow_ring, BPF_RB_RING_SIZE);

	if (used < size / 8)
		return BPF_RB_NO_WAKEUP;
	return (used / OVERFLOW_RECORD) % OVERFLOW_WAKE_EVERY == 0 ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Table full (why: CNT_INSERT_FAILED) or the flow being closed
 * (CNT_CLOSING_RING): hand the packet to user space through the ring, or,
 * if that is full too, keep at least its totals in the overflow counters. */
static __always_inline void overflow(void *ctx, const int at,
				     struct parse_state *st,
				     struct pkt_meta *cur, const struct wire *w,
				     __u32 why)
{
	struct flow_event *ev;

	count_add(at, why, w->segs);
	ev = bpf_ringbuf_reserve(&overflow_ring, sizeof(*ev), 0);
	if (!ev) {
		count_add(at, CNT_OVERFLOW_PKTS, w->segs);
		count_add(at, CNT_OVERFLOW_OCTETS, w->octets);
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
	eth_macs(ctx_data(ctx, at), ctx_data_end(ctx, at), ev->src_mac,
		 ev->dst_mac);
	ev->wire_octets = w->octets;
	ev->segs = w->segs;
	ev->pad = 0;
	mpls_of(cur, st, ev->mpls);
	ev->pad2 = 0;
	bpf_ringbuf_submit(ev, overflow_wakeup());
}

/* self_conns holds our connections as they arrive; at egress they leave,
 * from us to the collector. */
static __always_inline int is_self_conn(const struct flow_key *key,
					const int at)
{
	const int out = AT_DIRECTION(at) == FLOW_DIR_EGRESS;
	struct self_conn_key k;

	__builtin_memcpy(k.src_addr, out ? key->dst_addr : key->src_addr, 16);
	__builtin_memcpy(k.dst_addr, out ? key->src_addr : key->dst_addr, 16);
	k.src_port = out ? key->dst_port : key->src_port;
	k.dst_port = out ? key->src_port : key->dst_port;
	k.protocol = key->protocol;
	k.pad[0] = k.pad[1] = k.pad[2] = 0;
	return bpf_map_lookup_elem(&self_conns, &k) != NULL;
}

/* What the end stage does: find or make the packet's flow and account the
 * packet to it. The L4 stages run it themselves (one tail call less per
 * packet); packets without an L4 parser of ours reach it as a program. */
static __always_inline int end_body(void *ctx, const int at,
				    struct parse_state *st,
				    struct pkt_meta *cur)
{
	struct flow_stats *fs, fresh;
	struct wire w;
	__u32 zero = 0;
	void *table;

	if (cur->frag != FRAG_NONE)
		frag_join(st, cur->frag);
	if ((AT_DIRECTION(at) == FLOW_DIR_EGRESS ? self_conn_count :
						   self_conn_tcp_count) &&
	    is_self_conn(&st->key, at)) {
		count_add(at, CNT_SELF_EXPORT, ctx_segs(ctx, at));
		return finish(ctx, at, CNT_NOT_PARSED);
	}
	wire_of(ctx, at, st, cur, &w);
	table = bpf_map_lookup_elem(&flow_tables, &zero);
	if (!table)
		return finish(ctx, at, CNT_INTERNAL);
	fs = bpf_map_lookup_elem(table, &st->key);
	if (!fs) {
		int ends;
		long err;

		/* a new flow's entry goes in with its first packet: no second
		 * lookup, no locked instruction for it */
		stats_init(&fresh, ctx, at, st, cur, cur->ts_ns);
		ends = stats_update(&fresh, st, cur, &w, 1);
		err = bpf_map_update_elem(table, &st->key, &fresh, BPF_NOEXIST);
		if (!err) {
			notice(at, ends ? NOTICE_END : NOTICE_NEW, &st->key, cur->ts_ns);
			/* counted; -D: the inspectors keep their count in
			 * the entry */
			fs = dpi_mask ? bpf_map_lookup_elem(table, &st->key) : NULL;
			goto counted;
		}
		/* another CPU's came first (-EEXIST): the packet goes to
		 * theirs; a full table (-E2BIG, -ENOMEM) has none, and the
		 * packet goes to the ring without a second lookup */
		if (err == -EEXIST)
			fs = bpf_map_lookup_elem(table, &st->key);
	}
	if (!fs)
		overflow(ctx, at, st, cur, &w, CNT_INSERT_FAILED);
	else if (*(volatile __u32 *)&fs->state != FLOW_LIVE) {
		/* closed: user space deletes it after a grace period, in
		 * which programs that saw it live finish; none writes now */
		overflow(ctx, at, st, cur, &w, CNT_CLOSING_RING);
		fs = NULL;
	} else if (stats_update(fs, st, cur, &w, 0)) {
		notice(at, NOTICE_END, &st->key, cur->ts_ns);
	}
counted:
	count_add(at, CNT_FLOWED, ctx_segs(ctx, at));
	/* -D: may tail-call the DPI stage (fs NULL: no entry) */
	dpi_offer(ctx, at, st, cur, fs);
	return CTX_PASS(at);
}

static __always_inline int stage_end(void *ctx, const int at)
{
	STATE_PROLOGUE;
	return end_body(ctx, at, st, cur);
}
HOOK_PROGRAMS(end)

/* An L4 stage's outcome: on to the flow in this program, or counted and
 * passed on as result() counts it. */
static __always_inline int l4_result(void *ctx, const int at, int res,
				     struct parse_state *st,
				     struct pkt_meta *cur)
{
	if (res == PARSE_OK)
		return end_body(ctx, at, st, cur);
	return result(ctx, at, res, SLOT_END);
}

static __always_inline int stage_l4_tcp(void *ctx, const int at)
{
	PROG_PROLOGUE;
	return l4_result(ctx, at, parse_tcp(data, data_end, cur, st), st, cur);
}
HOOK_PROGRAMS(l4_tcp)

static __always_inline int stage_l4_udp(void *ctx, const int at)
{
	int res;

	PROG_PROLOGUE;
	res = parse_udp(data, data_end, cur, st);
	if (res == PARSE_OK && decap_udp_wanted(cur, st))
		return next(ctx, at, SLOT_DECAP);
	return l4_result(ctx, at, res, st, cur);
}
HOOK_PROGRAMS(l4_udp)

static __always_inline int stage_l4_icmp(void *ctx, const int at)
{
	PROG_PROLOGUE;
	return l4_result(ctx, at,
			 parse_icmp_common(data, data_end, cur, st, ICMP_ECHO,
					   ICMP_ECHOREPLY),
			 st, cur);
}
HOOK_PROGRAMS(l4_icmp)

static __always_inline int stage_l4_icmpv6(void *ctx, const int at)
{
	PROG_PROLOGUE;
	return l4_result(ctx, at,
			 parse_icmp_common(data, data_end, cur, st,
					   ICMPV6_ECHO_REQUEST,
					   ICMPV6_ECHO_REPLY),
			 st, cur);
}
HOOK_PROGRAMS(l4_icmpv6)

/* The floor for -t 0: what an XDP program costs that does nothing. */
SEC("xdp")
int floor_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

#include "table_ops.h"
