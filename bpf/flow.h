/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow.h - the one header shared by the BPF programs and user space.
 *
 * Everything both sides must agree on lives here: the tail-call slots, the
 * flow key and statistics, the counters, the metadata layout, and the event
 * that carries a packet to user space when the flow table is full.
 * Fixed-width types and explicit padding only; sizes are asserted below.
 */
#ifndef FLOWEXPORT_FLOW_H
#define FLOWEXPORT_FLOW_H

#include <linux/types.h>

/*
 * Tail-call slots of jmp_table. Indices are compile-time constants at every
 * call site, so the JIT turns each bpf_tail_call() into a direct jump.
 * The start program is the attached entry and has no slot.
 */
enum flow_slot {
	SLOT_L2_ETH = 0,
	SLOT_L3_IPV4,
	SLOT_L3_IPV6,
	SLOT_L4_TCP,
	SLOT_L4_UDP,
	SLOT_L4_ICMP,
	SLOT_L4_ICMPV6,
	SLOT_END,
	SLOT_DPI,       /* -D: picks payload snapshots for the inspectors */
	SLOT_DECAP,     /* --decap: VXLAN, Geneve, GRE, IP-in-IP (bpf/decap.h) */
	SLOT_MAX
};

/* How parse state travels between tail-called programs (--share). */
enum share_mode {
	SHARE_META = 0, /* offsets + timestamp in data_meta, fields per-CPU */
	SHARE_PERCPU,   /* everything in a one-entry PERCPU_ARRAY */
	SHARE_GLOBAL,   /* everything in a .bss array indexed by CPU id */
	SHARE_MAX
};

/*
 * Packet counters, one PERCPU_ARRAY slot each and one set per direction
 * (egress at CNT_MAX + counter), in wire packets (a GSO packet counts as
 * the packets it carries). Invariant, per direction, summed over CPUs:
 *   CNT_SEEN == CNT_NOT_SAMPLED + CNT_FLOWED + CNT_NOT_PARSED + CNT_MALFORMED
 *               + CNT_INTERNAL
 * (CNT_INTERNAL should stay 0; CNT_NOT_SAMPLED is 0 without --sample). CNT_INSERT_FAILED, CNT_OVERFLOW_*,
 * CNT_CLOSING_RING, CNT_SELF_EXPORT and CNT_MISSED_* qualify packets already
 * counted above; CNT_NOTICE_LOST counts notices, not packets.
 */
enum flow_counter {
	CNT_SEEN = 0,
	CNT_FLOWED,          /* packet accounted to a flow (table or overflow) */
	CNT_NOT_PARSED,      /* unsupported or disabled protocol */
	CNT_MALFORMED,       /* truncated or invalid at some layer */
	CNT_INSERT_FAILED,   /* flow table full: packet sent to the ring */
	CNT_OVERFLOW_PKTS,   /* ring full too: only these totals remain */
	CNT_OVERFLOW_OCTETS,
	CNT_INTERNAL,        /* state/metadata unavailable (should stay 0) */
	CNT_SELF_EXPORT,     /* not parsed: our own export connection */
	CNT_NOT_SAMPLED,     /* --sample N: left out by 1:N sampling */
	CNT_CLOSING_RING,    /* flow being closed: packet sent to the ring */
	CNT_NOTICE_LOST,     /* notice ring full: user space walks the table */
	CNT_FORWARDED,       /* egress: forwarded, counted at its metered
			      * ingress already; not in CNT_SEEN */
	CNT_DPI_SNAPSHOTS,   /* -D: payloads sent to the inspectors */
	CNT_DPI_RING_FULL,   /* -D: payloads lost, the DPI ring was full */
	CNT_MISSED_TAIL_CALL, /* + enum flow_slot: one counter per slot */
	CNT_MAX = CNT_MISSED_TAIL_CALL + SLOT_MAX
};

/* IPFIX flowEndReason (IE 136) values. */
enum flow_end_reason {
	END_IDLE = 1,
	END_ACTIVE = 2,
	END_OF_FLOW = 3,     /* TCP FIN or RST seen */
	END_FORCED = 4,      /* end of run */
	END_LACK_OF_RESOURCES = 5,
};

#define FLOW_SIZE_BINS 6 /* <128 <256 <512 <1024 <1514 >=1514 (IP length) */
#define FLOW_TTL_BINS 10 /* TTL / hop limit in steps of 26: 0-25 ... 234-255 */
#define FLOW_TTL_BIN_WIDTH 26

#define MAX_VLAN_TAGS 2   /* 802.1ad outer + 802.1Q inner */
#define MAX_IPV6_EXT_HDRS 6
#define MAX_CPUS 512      /* .bss state slots of the global strategy */

/*
 * A later fragment of an ICMP or ICMPv6 message whose first fragment was not
 * seen (lost, or arrived after it) has no type and code: it is keyed with
 * type 255 code 255, reserved in both ICMP and ICMPv6, so that no collector
 * shows a message that never happened (0/0 would read "echo reply").
 */
#define ICMP_TYPE_CODE_UNKNOWN 0xffff

/* IPFIX flowDirection (IE 61) values: the hook that metered the packet. */
enum flow_direction {
	FLOW_DIR_INGRESS = 0,
	FLOW_DIR_EGRESS = 1,
	FLOW_DIRECTIONS
};

/*
 * --decap: the tunnel whose inner packet a flow is (flow_key.tunnel). One
 * level: a tunnel inside the inner packet is the inner flow's payload.
 */
enum tunnel_kind {
	TUNNEL_NONE = 0,
	TUNNEL_VXLAN,   /* UDP 4789; segment_id: the 24-bit VNI */
	TUNNEL_GENEVE,  /* UDP 6081; segment_id: the 24-bit VNI */
	TUNNEL_GRE,     /* IP protocol 47; segment_id: the 32-bit key, 0 if none */
	TUNNEL_IPIP,    /* IP protocol 4 or 41 (4in4, 6in4, 4in6, 6in6) */
	TUNNEL_KINDS
};

/* MPLS label stack entries kept per flow (IEs 70, 71, 72): the top three. */
#define FLOW_MPLS_LABELS 3
/* flow_stats.mpls[i]: the entry's label, EXP and S bits (the 24 bits IPFIX
 * exports, RFC 7012's label stack section) below this bit, which says the
 * entry is there at all (label 0, EXP 0, S 0 is a valid entry). */
#define FLOW_MPLS_PRESENT 0x01000000U

/* Interfaces metered at ingress, for the egress programs: a forwarded
 * packet (skb->ingress_ifindex set) that entered through one of them was
 * counted there already. */
#define MAX_METERED_IFACES 64

/*
 * One direction of a flow. Addresses are 16 bytes; IPv4 is stored
 * IPv4-mapped (::ffff:a.b.c.d). Ports in host byte order. For ICMP and
 * ICMPv6, src_port is 0 and dst_port is type << 8 | code, the way nfdump and
 * most collectors show them; the echo identifier goes to icmp_id so that
 * separate ping sessions stay separate flows.
 */
struct flow_key {
	__u32 ifindex;    /* ingress interface */
	__u16 vlan_id;    /* outermost VLAN id, 0 if untagged */
	__u8 ip_version;  /* 4 or 6 */
	__u8 protocol;    /* IP protocol / IPv6 next header (last one) */
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u16 src_port;
	__u16 dst_port;
	__u16 icmp_id;
	__u8 direction;   /* enum flow_direction: where it was metered */
	__u8 tunnel;      /* enum tunnel_kind: --decap's inner packet, else 0 */
	/* keyed so that two tenants' overlapping inner addresses stay apart;
	 * 0 outside a tunnel and for IP-in-IP. Only with --decap: the flow
	 * table's key is then sizeof(struct flow_key), else the bytes before
	 * it (FLOW_KEY_PLAIN_SIZE): 4 bytes more to hash cost ~8% per packet
	 * (-t 0), which metering without --decap does not pay. */
	__u32 segment_id; /* VXLAN/Geneve VNI or GRE key (tunnel says which) */
};

/* The flow table's key size without --decap: the key up to segment_id. */
#define FLOW_KEY_PLAIN_SIZE 48

/*
 * What tells a TCP retransmission from new or reordered data: next_seq is
 * the highest sequence number + length seen (0: none yet), and
 * [hole_start, hole_end) the most recent gap below it never seen (empty when
 * equal). Data at or below next_seq is a retransmission unless it lies in
 * the hole, which it then fills (reordered). It lives in the flow's kernel
 * entry, which lasts as long as the flow; a flow created again after it
 * ended starts afresh.
 */
struct tcp_seq_state {
	__u32 next_seq;
	__u32 hole_start;
	__u32 hole_end;
};

/*
 * Statistics of one flow direction, as accumulated in the kernel since user
 * space last harvested the entry (bpf/table_ops.h). Timestamps are kernel
 * nanoseconds: monotonic when live, epoch when replaying a pcap. Counters
 * are updated with atomic adds (the table is shared by all CPUs); min/max
 * with compare-and-swap. A harvest takes each counter with an exchange and
 * sets first_seen_ns to FLOW_FIRST_NONE (no packet since); last_seen_ns,
 * the TCP sequence state and what the first packet set stay.
 */
struct flow_stats {
	/* Written by every packet, first: a table element is the kernel's
	 * header, the key and this value, and what one packet touches should
	 * share as few cache lines as it can (a UDP packet: the first 128
	 * bytes). */
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 octets;          /* sum of IP total lengths, as IPFIX counts */
	__u64 iat_sum_ns;      /* sum of inter-arrival times: the span user
				* space keeps (flowtable.c); 0 in the kernel */
	__u32 state;           /* enum flow_state, read by every packet */
	/* 32-bit even where 8 or 16 would do: BPF compare-and-swap and atomic
	 * or work on 32- and 64-bit words only */
	__u32 min_length;      /* IP total length */
	__u32 max_length;
	__u32 min_ttl;         /* TTL / hop limit */
	__u32 max_ttl;
	__u32 tcp_flags;       /* union of TCP flags (low 8 bits + NS as 0x100) */
	__u32 size_hist[FLOW_SIZE_BINS];
	__u32 ttl_hist[FLOW_TTL_BINS];
	/* written by TCP packets (and -D's first payloads) */
	__u32 tcp_win_min;
	__u32 tcp_win_max;
	struct tcp_seq_state seq; /* TCP: for retransmissions */
	__u32 dpi_packets;     /* -D: payload packets offered to the DPI stage
				* (bpf/dpi_stage.h); 0 without -D */
	__u64 retrans_packets;
	__u64 retrans_octets;
	/* written once, when the entry is made (SYN options: by SYNs) */
	__u32 flow_label;      /* IPv6 flow label of the first packet */
	__u16 tcp_mss;         /* from a SYN's options, 0 if none */
	__u8 tcp_wscale;       /* from a SYN's options, 0xff if none */
	__u8 tos;              /* IPv4 TOS / IPv6 traffic class, first packet */
	__u8 src_mac[6];       /* Ethernet source of the first packet */
	__u8 dst_mac[6];       /* Ethernet destination of the first packet */
	/* the first packet's MPLS label stack, top first, entries with
	 * FLOW_MPLS_PRESENT (0: none): an attribute like the MACs, not a key
	 * (the key's every 4 bytes cost ~8% per packet, -t 0; 8 bytes here
	 * cost none measurable: flow_stats grew from 192 to 200) */
	__u32 mpls[FLOW_MPLS_LABELS];
};

/*
 * The kernel flow table's map name, which names the layout of its entries
 * (struct flow_stats): a table pinned by a build of another layout (a run
 * that crashed, an -M peer) is refused, not misread. Change it with the
 * layout; "flow_table" was the layout before the hot fields came first.
 */
#define FLOW_TABLE_NAME "flow_table_l2"

/* first_seen_ns of an entry harvested since its last packet */
#define FLOW_FIRST_NONE (~0ULL)

/* An entry's life: written in place while live; once user space closes it,
 * packets go through the overflow ring instead until it is deleted. */
enum flow_state {
	FLOW_LIVE = 0,
	FLOW_CLOSING = 1,
};

/*
 * The notice ring: how user space learns the keys of the kernel table
 * without walking it. NOTICE_NEW when an entry is inserted, NOTICE_END when
 * its TCP flags first gain FIN or RST (checked after the FIN grace, not the
 * idle timeout). A notice that finds the ring full is counted
 * (CNT_NOTICE_LOST) and user space walks the table once.
 */
enum notice_kind {
	NOTICE_NEW = 1,
	NOTICE_END = 2,
};

struct flow_notice {
	struct flow_key key;
	__u64 ts_ns;
	__u32 kind;
	__u32 pad;
};

/*
 * What user space asks of table entries, a batch of keys at a time, through
 * the table_ops SYSCALL program (user space never writes a live entry: an
 * update would clobber concurrent atomic adds).
 *   PEEK     read first_seen_ns (FLOW_FIRST_NONE: nothing pending),
 *            last_seen_ns, tcp_flags and state; changes nothing
 *   HARVEST  take the counters (exchange with 0, min/max back to empty):
 *            each harvest is a delta, exact in sum whoever else harvests
 *   CLOSE    set FLOW_CLOSING: from then on packets go to the ring
 *   FINAL    harvest and delete; only an RCU grace period after CLOSE,
 *            when no program that saw the entry live can still write it
 *   REOPEN   set FLOW_LIVE again: an entry left closing (a run died
 *            between CLOSE and FINAL, a grace period failed) whose flow
 *            goes on; packets that found it closing are in the ring
 */
enum table_op {
	OP_PEEK = 1,
	OP_HARVEST,
	OP_CLOSE,
	OP_FINAL,
	OP_REOPEN,
};

enum table_op_result {
	OPR_ABSENT = 0, /* no such entry */
	OPR_DONE = 1,
};

/* One slot of the batch array (BPF_F_MMAPABLE, pinned with the run: the
 * deltas it holds survive a crash, see drain.c). */
struct table_op_slot {
	struct flow_key key;
	struct flow_stats stats; /* PEEK: the fields it reads; HARVEST and
				  * FINAL: the delta (packets 0: none) */
	__u32 op;                /* enum table_op */
	__u32 result;            /* enum table_op_result */
};

#define TABLE_OP_BATCH 4096

/* The SYSCALL program's context: slots [0, count) of the batch array. */
struct table_op_args {
	__u32 count;
	__u32 done;              /* out: slots whose entry was there */
};

/*
 * Sent through the overflow ring when the flow table is full: the key and
 * what one packet adds, so user space still accounts it to its flow.
 */
struct flow_event {
	struct flow_key key; /* 52 bytes: ts_ns below needs 8-byte alignment */
	__u32 key_pad;
	__u64 ts_ns;
	__u16 ip_length;
	__u8 ttl;
	__u8 tos;
	__u32 tcp_flags;
	__u32 flow_label;
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u32 wire_octets; /* a GSO packet: the octets of its segments */
	__u16 segs;        /* wire packets this packet stands for (>= 1) */
	__u16 pad;
	__u32 mpls[FLOW_MPLS_LABELS]; /* as flow_stats.mpls */
	__u32 pad2;
};

/*
 * -D: the inspectors (enum dpi_app, bit per app in the loader's dpi_mask)
 * and the payload snapshot the DPI stage sends to user space through
 * dpi_ring for the first DPI_PACKETS payload packets of each flow
 * direction. The parsers run in user space (collector-export/dpi*.c).
 */
enum dpi_app {
	DPI_APP_NONE = 0,
	DPI_APP_DNS,
	DPI_APP_HTTP,
	DPI_APP_TLS,
	DPI_APP_QUIC,
	DPI_APP_MAX
};

#define DPI_PACKETS 2      /* payload packets inspected per flow direction */
#define DPI_SNAP_MAX 1500  /* payload bytes kept: a whole QUIC Initial */

struct dpi_event {
	struct flow_key key;
	__u64 ts_ns;
	__u32 tcp_seq;     /* TCP: sequence number of the payload's first byte */
	__u16 payload_len; /* L4 payload length in the packet */
	__u16 snap_len;    /* bytes in data[] (<= DPI_SNAP_MAX) */
	__u8 app;          /* enum dpi_app the DPI stage guessed */
	__u8 pad[11];
	__u8 data[DPI_SNAP_MAX];
};

/*
 * One of flowexport's own export connections, as its packets arrive: from
 * the collector (src) to us (dst). Such packets (a TCP collector's ACKs,
 * ICMP errors are not matched) are not metered: they are the exporter's,
 * not the network's. Addresses as in flow_key.
 */
/* every collector (MAX_COLLECTORS) with its live TCP connection and the
 * three closed lately that it may still be ACKing (export.c GONE_MAX) */
#define MAX_SELF_CONNS 32
struct self_conn_key {
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u16 src_port;
	__u16 dst_port;
	__u8 protocol;
	__u8 pad[3];
};

/*
 * Metadata in front of the packet (data_meta). The meta strategy keeps its
 * cursor here; pcap replay hands the capture time in through the same bytes
 * (magic set), so that timeouts follow capture time, and the frame's length
 * on the wire, so that a frame the capture cut (snaplen, or replay's own cut
 * at BPF_PROG_TEST_RUN's linear limit) is metered as the packet it was.
 * Must stay <= 32 bytes and a multiple of 4 (BPF_PROG_TEST_RUN and
 * bpf_xdp_adjust_meta limits).
 */
#define PKT_META_MAGIC 0xf10e4a7cU
struct pkt_meta {
	__u64 ts_ns;
	__u32 magic;
	/* Replay hands in the original length; the start program keeps it
	 * only when it exceeds what the program sees (the frame is cut), else
	 * 0. 0: data_end is the end of the frame (always so when live). */
	__u32 wire_len;
	__u16 l3_off;   /* from packet start */
	__u16 l4_off;
	__u16 vlan_id;
	__u16 l3_proto; /* ethertype, host order */
	__u8 l4_proto;
	__u8 frag;      /* enum frag_kind */
	__u8 tunnel;    /* enum tunnel_kind: decapsulated (one level only) */
	__u8 mpls;      /* labels in st->mpls (0: none) */
	__u32 segment_id; /* the tunnel's VNI or key, for the inner key */
};

enum frag_kind {
	FRAG_NONE = 0,
	FRAG_FIRST, /* first fragment: has the L4 header */
	FRAG_LATER, /* later fragment: no L4 header, no ports */
};

/*
 * Parse state kept between programs: the cursor (in data_meta for the meta
 * strategy, here otherwise) and the parsed fields the end program needs.
 */
struct parse_state {
	struct pkt_meta cur;
	struct flow_key key;
	__u16 ip_length;
	__u8 ttl;
	__u8 tos;
	__u32 flow_label;
	__u32 tcp_flags;
	__u32 tcp_seq;
	__u16 tcp_window;
	__u16 tcp_mss;
	__u16 l4_payload;
	__u8 tcp_wscale;
	__u8 tcp_cut;   /* the capture cut the TCP header after the ports:
			 * flags, sequence, window and options unknown */
	__u32 frag_id;  /* IP identification of a fragment (IPv6: 32 bits) */
	__u32 mpls[FLOW_MPLS_LABELS]; /* valid when cur.mpls is not 0 */
};

/*
 * Statistics holding no packet yet: minima at their largest so that the
 * first packet sets them. The one starting point of the kernel's fresh
 * table entries and of user space's accumulators.
 */
static inline void flow_stats_empty(struct flow_stats *fs)
{
	__builtin_memset(fs, 0, sizeof(*fs));
	fs->min_length = 0xffff;
	fs->min_ttl = 0xff;
	fs->tcp_win_min = 0xffff;
	fs->tcp_wscale = 0xff;
}

#define FLOW_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " size changed: update both sides")

FLOW_ASSERT_SIZE(struct flow_key, 52);
_Static_assert(__builtin_offsetof(struct flow_key, segment_id) == FLOW_KEY_PLAIN_SIZE,
	       "without --decap the table's key ends before segment_id");
FLOW_ASSERT_SIZE(struct tcp_seq_state, 12);
FLOW_ASSERT_SIZE(struct flow_stats, 200);
_Static_assert(__builtin_offsetof(struct flow_stats, tcp_win_min) == 128,
	       "what every packet writes: the first 128 bytes of flow_stats");
FLOW_ASSERT_SIZE(struct flow_event, 112);
FLOW_ASSERT_SIZE(struct flow_notice, 72);
FLOW_ASSERT_SIZE(struct table_op_slot, 264);
FLOW_ASSERT_SIZE(struct dpi_event, 1584);
FLOW_ASSERT_SIZE(struct pkt_meta, 32);
FLOW_ASSERT_SIZE(struct self_conn_key, 40);
FLOW_ASSERT_SIZE(struct parse_state, 128);
_Static_assert(sizeof(struct pkt_meta) <= 32 && sizeof(struct pkt_meta) % 4 == 0,
	       "data_meta holds at most 32 bytes, in multiples of 4");

#endif /* FLOWEXPORT_FLOW_H */
