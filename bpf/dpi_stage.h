/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dpi_stage.h - the DPI stage (-D): after the statistics, the first DPI_PACKETS
 * payload packets of each flow direction are tail-called to the DPI stage, which
 * picks an inspector by port or by the payload's first bytes and copies at
 * most DPI_SNAP_MAX payload bytes into dpi_ring for the parsers in user
 * space (collector-export/dpi*.c). Nothing is parsed here: DNS names with
 * compression pointers, TLS extensions and QUIC's AES-protected Initials
 * are loops and crypto the verifier would bound badly, and a snapshot of at
 * most two packets a direction keeps the kernel's cost fixed and small.
 *
 * Without -D, dpi_mask is 0 and the verifier drops every line of this. With
 * -D, a packet of a flow already offered costs one load and a compare in
 * flow_end (fs->dpi_packets); the tail call happens twice per direction.
 * Included by flowmon.bpf.c after its helpers (count_add, jmp_table_of,
 * STATE_PROLOGUE, HOOK_PROGRAMS). One source for every hook: flow_dpi at
 * XDP, tci_dpi and tce_dpi at TC, so that a host's own queries, requests
 * and ClientHellos (TC egress) are inspected too. Payload bytes are read
 * through ctx_load_bytes: at TC they may lie outside the skb's linear part.
 */
#ifndef FLOWEXPORT_DPI_STAGE_H
#define FLOWEXPORT_DPI_STAGE_H

/* Bit per enum dpi_app the loader enables (-D, -p); 0: no DPI at all. */
const volatile __u32 dpi_mask = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 23); /* ~5300 snapshots between reads */
} dpi_ring SEC(".maps");

/* Where the L4 payload starts and how long it is; 0 if there is none.
 * The TCP header's data offset is read through ctx_load_bytes: at TC an
 * IPv6 header chain may push it past the linear part. */
static __always_inline __u32 dpi_payload(void *ctx, const int at,
					 struct parse_state *st,
					 struct pkt_meta *cur, __u32 *off)
{
	__u32 l4 = cur->l4_off, end = cur->l3_off + st->ip_length;
	__u8 doff;

	if (l4 > MAX_L4_OFF)
		return 0;
	if (st->key.protocol == IPPROTO_UDP) {
		*off = l4 + 8;
	} else {
		if (ctx_load_bytes(ctx, at, l4 + 12, &doff, 1))
			return 0;
		*off = l4 + (doff >> 4) * 4;
	}
	return end > *off ? end - *off : 0;
}

/*
 * End of stage_end: offer the packet to the DPI stage if it carries payload
 * and its flow direction has not had its DPI_PACKETS yet. Must be the last
 * thing before returning (a tail call does not come back).
 */
static __always_inline void dpi_offer(void *ctx, const int at,
				      struct parse_state *st,
				      struct pkt_meta *cur,
				      struct flow_stats *fs)
{
	__u32 old;

	if (!dpi_mask || !fs)
		return;
	if (fs->dpi_packets >= DPI_PACKETS)
		return;
	if (cur->frag != FRAG_NONE)
		return;
	if (st->key.protocol == IPPROTO_TCP) {
		if (st->tcp_cut || !st->l4_payload)
			return;
	} else if (st->key.protocol == IPPROTO_UDP) {
		if (st->ip_length <= cur->l4_off - cur->l3_off + 8)
			return;
	} else {
		return;
	}
	/* the entry lives as long as its flow (a flow that comes back after
	 * its idle timeout is a new one, and offered again) */
	old = __sync_fetch_and_add(&fs->dpi_packets, 1);
	if (old >= DPI_PACKETS)
		return;
	bpf_tail_call(ctx, jmp_table_of(at), SLOT_DPI);
	count_add(at, CNT_MISSED_TAIL_CALL + SLOT_DPI, 1);
}

static __always_inline int is_http_start(const __u8 *b)
{
	__u32 w = (__u32)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];

	switch (w) {
	case 0x47455420: /* "GET " */
	case 0x504f5354: /* "POST" */
	case 0x48454144: /* "HEAD" */
	case 0x50555420: /* "PUT " */
	case 0x44454c45: /* "DELE" */
	case 0x4f505449: /* "OPTI" */
	case 0x50415443: /* "PATC" */
	case 0x434f4e4e: /* "CONN" */
	case 0x54524143: /* "TRAC" */
	case 0x48545450: /* "HTTP" (a response) */
		return 1;
	}
	return 0;
}

static __always_inline int has_port(const struct flow_key *k, __u16 port)
{
	return k->src_port == port || k->dst_port == port;
}

/* The inspector for this payload: by its first bytes where they are
 * distinctive, else by port. */
static __always_inline __u8 dpi_classify(const struct flow_key *k,
					 const __u8 *b, __u32 have)
{
	if (k->protocol == IPPROTO_UDP) {
		if (has_port(k, 53))
			return DPI_APP_DNS;
		/* QUIC long header, version 1 or 2 (RFC 9000, RFC 9369) */
		if (have >= 5 && (b[0] & 0xc0) == 0xc0 &&
		    ((b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 1) ||
		     (b[1] == 0x6b && b[2] == 0x33 && b[3] == 0x43 && b[4] == 0xcf)))
			return DPI_APP_QUIC;
		return DPI_APP_NONE;
	}
	if (has_port(k, 53))
		return DPI_APP_DNS;
	/* TLS handshake record, any 3.x record version */
	if (have >= 2 && b[0] == 0x16 && b[1] == 0x03)
		return DPI_APP_TLS;
	if (have >= 4 && is_http_start(b))
		return DPI_APP_HTTP;
	if (has_port(k, 443) || has_port(k, 8443))
		return DPI_APP_TLS;
	if (has_port(k, 80) || has_port(k, 8080))
		return DPI_APP_HTTP;
	return DPI_APP_NONE;
}

/* The first bytes of the payload, for dpi_classify: 0 to 5 of them. */
#define DPI_PEEK 5

static __always_inline int stage_dpi(void *ctx, const int at)
{
	__u8 app, b[DPI_PEEK] = {};
	__u32 off = 0, len, have, snap, pkt_len;
	struct dpi_event *ev;

	STATE_PROLOGUE;
	len = dpi_payload(ctx, at, st, cur, &off);
	if (!len || off > MAX_L4_OFF)
		return CTX_PASS(at);
	/* a replayed frame may be cut short of its IP length */
	pkt_len = ctx_len(ctx, at);
	snap = pkt_len > off ? pkt_len - off : 0;
	if (snap > len)
		snap = len;
	have = snap < DPI_PEEK ? snap : DPI_PEEK;
	asm volatile("" : "+r"(have)); /* keep the bounds the verifier needs */
	if (have < 1 || have > DPI_PEEK || ctx_load_bytes(ctx, at, off, b, have))
		have = 0;
	app = dpi_classify(&st->key, b, have);
	if (app == DPI_APP_NONE || !(dpi_mask & (1U << app)))
		return CTX_PASS(at);
	if (snap > DPI_SNAP_MAX)
		snap = DPI_SNAP_MAX;
	if (!snap)
		return CTX_PASS(at);
	ev = bpf_ringbuf_reserve(&dpi_ring, sizeof(*ev), 0);
	if (!ev) {
		count_add(at, CNT_DPI_RING_FULL, 1);
		return CTX_PASS(at);
	}
	__builtin_memcpy(&ev->key, &st->key, sizeof(ev->key));
	ev->ts_ns = cur->ts_ns;
	ev->tcp_seq = st->key.protocol == IPPROTO_TCP ? st->tcp_seq : 0;
	ev->payload_len = len;
	ev->app = app;
	asm volatile("" : "+r"(snap)); /* keep the bounds the verifier needs */
	if (snap < 1 || snap > DPI_SNAP_MAX ||
	    ctx_load_bytes(ctx, at, off, ev->data, snap)) {
		bpf_ringbuf_discard(ev, 0);
		return CTX_PASS(at);
	}
	ev->snap_len = snap;
	/* user space reads the ring on its own schedule (no epoll): a wakeup
	 * would only cost an irq_work per snapshot */
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	count_add(at, CNT_DPI_SNAPSHOTS, 1);
	return CTX_PASS(at);
}
HOOK_PROGRAMS(dpi)

#endif /* FLOWEXPORT_DPI_STAGE_H */
