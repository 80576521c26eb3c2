// SPDX-License-Identifier: GPL-2.0
/*
 * frame_fuzz - random and mutated frames of every protocol through the real
 * BPF pipeline (BPF_PROG_TEST_RUN), under every --share strategy and every
 * -p subset, against an independent parser of the same bytes written here.
 *
 *   frame_fuzz [--seed N] [--frames N] [--seconds S]
 *
 * Frames are built as Ethernet with 0-3 VLAN tags (every TPID we know),
 * IPv4 with options and fragments, IPv6 with chains of 0-7 extension
 * headers and fragments, TCP with options, UDP, ICMP, ICMPv6, other
 * protocols and other ethertypes, some behind an MPLS label stack (parsed
 * through at L2 whatever the options); then half of them are mutated: bit flips,
 * truncation, a length field set to an edge value, junk appended, a wire
 * length longer than the frame (a capture's snaplen), or all random bytes.
 *
 * For every frame: the action is XDP_PASS; exactly one of flowed, not
 * parsed and malformed grows by one, and it is the one the model says;
 * nothing is counted internal; a flowed frame adds one packet and its IP
 * length to exactly the flow key the model computes (fragments joining
 * their first fragment's ports). After each batch the table holds exactly
 * the model's flows: no flow from a frame that failed its checks.
 *
 * A pass (one seed) runs --frames frames on each strategy with every
 * parser, then 1/32 of that under each of the 128 -p subsets. --seconds
 * repeats passes with the next seeds until the time is up (make fuzz).
 * A failure prints the seed, strategy, subset and the frame in hex.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
/* harness.h is test_pipeline's toolbox; this program uses part of it */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "harness.h"
#pragma GCC diagnostic pop

#define FRAME_MAX 1600
#define BATCH 400 /* frames between table checks; distinct keys < TEST_MAX_FLOWS */
#define MODEL_FLOWS (BATCH + 1)
#define MODEL_FRAGS 256

enum outcome { O_FLOWED, O_NOT_PARSED, O_MALFORMED, O_MAX };
static const char *const outcome_names[O_MAX] = { "flowed", "not parsed",
						  "malformed" };

/* What the frame generator chose, for the coverage tally. */
enum kind {
	K_TCP4, K_UDP4, K_ICMP4, K_OTHER4, K_TCP6, K_UDP6, K_ICMP6, K_OTHER6,
	K_FRAG4, K_FRAG6, K_EXT6, K_VLAN, K_NON_IP, K_MUTATED, K_RANDOM, K_CUT,
	K_MPLS, K_MAX
};
static const char *const kind_names[K_MAX] = {
	"tcp4", "udp4", "icmp4", "other4", "tcp6", "udp6", "icmp6", "other6",
	"frag4", "frag6", "ext6", "vlan", "non-ip", "mutated", "random", "cut",
	"mpls",
};

struct frame {
	__u8 b[FRAME_MAX];
	__u32 len;
	__u32 wire_len;           /* > len: the capture cut it */
	__u32 len_fields[8];      /* offsets of 16-bit length fields, for edges */
	__u32 len_bytes[8];       /* offsets of 8-bit length fields */
	int n_len16, n_len8;
	bool kinds[K_MAX];
};

/* ---- random numbers: xorshift64*, reproducible from the seed ---------- */

static __u64 rng_state;

static __u32 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (__u32)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static __u32 below(__u32 n)
{
	return n ? rnd() % n : 0;
}

static bool chance(__u32 percent)
{
	return below(100) < percent;
}

/* ---- the frame generator ---------------------------------------------- */

static void put8(struct frame *f, __u8 v)
{
	if (f->len < FRAME_MAX)
		f->b[f->len++] = v;
}

static void put16(struct frame *f, __u16 v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void put32(struct frame *f, __u32 v)
{
	put16(f, v >> 16);
	put16(f, v);
}

static void put_random(struct frame *f, __u32 n)
{
	while (n--)
		put8(f, rnd());
}

static void set16(struct frame *f, __u32 at, __u16 v)
{
	if (at + 2 <= FRAME_MAX) {
		f->b[at] = v >> 8;
		f->b[at + 1] = v;
	}
}

static void mark16(struct frame *f, __u32 at)
{
	if (f->n_len16 < 8)
		f->len_fields[f->n_len16++] = at;
}

static void mark8(struct frame *f, __u32 at)
{
	if (f->n_len8 < 8)
		f->len_bytes[f->n_len8++] = at;
}

/* A few addresses, ports and ids each, so that flows and fragments meet. */
static __u8 pick_proto(void)
{
	static const __u8 protos[] = { 6, 6, 17, 17, 1, 58, 47, 132 };

	return chance(5) ? rnd() : protos[below(sizeof(protos))];
}

/* TLV options (IPv4 or TCP) filling exactly n bytes, now and then with a
 * bad length. */
static void put_options(struct frame *f, __u32 n, bool tcp)
{
	__u32 end = f->len + n;

	while (f->len < end) {
		__u32 left = end - f->len, l;

		if (chance(25) || left < 2) {
			put8(f, chance(90) ? 1 : 0); /* NOP, sometimes EOL */
			continue;
		}
		if (tcp && chance(30) && left >= 4) {
			put8(f, 2); /* MSS */
			mark8(f, f->len);
			put8(f, 4);
			put16(f, rnd());
			continue;
		}
		if (tcp && chance(30) && left >= 3) {
			put8(f, 3); /* window scale */
			mark8(f, f->len);
			put8(f, 3);
			put8(f, below(15));
			continue;
		}
		l = 2 + below(left - 1);
		put8(f, tcp ? 4 + below(30) : 7 + below(140));
		mark8(f, f->len);
		put8(f, chance(5) ? below(2) : l);
		put_random(f, l - 2);
	}
}

/* An L4 header (and payload) for proto; ICMP echo types included. */
static void put_l4(struct frame *f, __u8 proto)
{
	__u32 start = f->len, doff;

	switch (proto) {
	case 6:
		put16(f, 1000 + below(3));
		put16(f, chance(50) ? 80 : 443);
		put32(f, rnd());
		put32(f, rnd());
		doff = chance(60) ? 5 : 5 + below(11);
		mark8(f, f->len);
		put8(f, doff << 4 | below(2));
		put8(f, rnd());
		put16(f, rnd());
		put16(f, 0);
		put16(f, 0);
		put_options(f, doff * 4 - 20, true);
		break;
	case 17:
		put16(f, 5000 + below(3));
		put16(f, 53);
		mark16(f, f->len);
		put16(f, 8);
		put16(f, 0);
		break;
	case 1:
	case 58: {
		static const __u8 t4[] = { 0, 8, 3, 11 }, t6[] = { 128, 129, 1, 135 };

		put8(f, chance(10) ? rnd() : proto == 1 ? t4[below(4)] : t6[below(4)]);
		put8(f, below(3));
		put16(f, 0);
		put16(f, below(3)); /* echo id */
		put16(f, rnd());
		break;
	}
	default:
		break;
	}
	put_random(f, chance(50) ? below(64) : 0);
	if (proto == 17)
		set16(f, start + 4, f->len - start);
}

static const __u32 src4[] = { 0x0a000001, 0x0a000002, 0xc0a80101 };
static const __u32 dst4[] = { 0x0a000002, 0x08080808 };

static void gen_ipv4(struct frame *f, __u8 proto)
{
	__u32 start = f->len, ihl = chance(75) ? 5 : 5 + below(11);
	__u16 frag = 0;
	bool later;

	if (chance(25)) {
		static const __u16 frags[] = { 0x2000, 0x0010, 0x2010, 0x4000 };

		frag = frags[below(4)];
		f->kinds[K_FRAG4] = true;
	}
	later = frag & 0x1fff;
	mark8(f, f->len);
	put8(f, 0x40 | ihl);
	put8(f, rnd());
	mark16(f, f->len);
	put16(f, 0); /* total length, set below */
	put16(f, below(3)); /* id */
	put16(f, frag);
	put8(f, rnd());
	put8(f, proto);
	put16(f, 0);
	put32(f, src4[below(3)]);
	put32(f, dst4[below(2)]);
	put_options(f, ihl * 4 - 20, false);
	if (later)
		put_random(f, 8 + below(40));
	else
		put_l4(f, proto);
	set16(f, start + 2, f->len - start);
}

static bool is_ext6(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51;
}

static void gen_ipv6(struct frame *f, __u8 proto)
{
	static const __u8 exts[] = { 0, 43, 60, 44, 51 };
	__u32 start = f->len, n_ext = chance(60) ? 0 : 1 + below(7);
	__u8 chain[8];
	bool later = false;

	for (__u32 i = 0; i < n_ext; i++)
		chain[i] = exts[below(5)];
	chain[n_ext] = proto;
	put32(f, 0x60000000 | below(1 << 20));
	mark16(f, f->len);
	put16(f, 0); /* payload length, set below */
	put8(f, chain[0]);
	put8(f, rnd());
	for (int a = 0; a < 2; a++) {
		put32(f, 0x20010db8);
		put32(f, 0);
		put32(f, 0);
		put32(f, 1 + below(2));
	}
	if (n_ext)
		f->kinds[K_EXT6] = true;
	for (__u32 i = 0; i < n_ext; i++) {
		__u8 nh = chain[i + 1];

		if (chain[i] == 44) {
			static const __u16 fo[] = { 0x0001, 0x0008, 0x0009, 0x0000 };
			__u16 v = fo[below(4)];

			put8(f, nh);
			put8(f, 0);
			put16(f, v);
			put32(f, below(3));
			later |= v & 0xfff8;
			f->kinds[K_FRAG6] = true;
		} else if (chain[i] == 51) {
			__u8 l = 1 + below(3); /* (l + 2) * 4 bytes */

			put8(f, nh);
			mark8(f, f->len);
			put8(f, l);
			put_random(f, (l + 2) * 4 - 2);
		} else {
			__u8 l = below(3); /* (l + 1) * 8 bytes */

			put8(f, nh);
			mark8(f, f->len);
			put8(f, l);
			put_random(f, (l + 1) * 8 - 2);
		}
		if (later)
			break; /* the rest would be payload */
	}
	if (later)
		put_random(f, 8 + below(40));
	else
		put_l4(f, proto);
	set16(f, start + 4, f->len - start - 40);
}

static enum kind l4_kind(int version, __u8 proto)
{
	switch (proto) {
	case 6:
		return version == 4 ? K_TCP4 : K_TCP6;
	case 17:
		return version == 4 ? K_UDP4 : K_UDP6;
	case 1:
	case 58:
		return version == 4 ? K_ICMP4 : K_ICMP6;
	default:
		return version == 4 ? K_OTHER4 : K_OTHER6;
	}
}

static void gen_frame(struct frame *f)
{
	static const __u16 tpids[] = { 0x8100, 0x88a8, 0x9100, 0x9200 };
	__u32 tags = chance(70) ? 0 : 1 + below(3), l3 = below(100);
	__u8 proto = pick_proto();

	memset(f, 0, sizeof(*f));
	put_random(f, 12);
	if (tags)
		f->kinds[K_VLAN] = true;
	for (__u32 i = 0; i < tags; i++) {
		put16(f, tpids[below(4)]);
		put16(f, below(3) << 12 | (1 + below(3)));
	}
	if (l3 < 90 && chance(12)) {
		/* an MPLS stack of 1-9 labels (9: deeper than parsed), the last
		 * with S set, now and then none with S */
		__u32 labels = 1 + below(chance(20) ? 9 : 4);

		put16(f, chance(80) ? 0x8847 : 0x8848);
		for (__u32 i = 0; i < labels; i++)
			put32(f, rnd() << 12 | below(8) << 9 |
				 (i == labels - 1 && chance(95)) << 8 | below(256));
		f->kinds[K_MPLS] = true;
		if (l3 < 45) {
			gen_ipv4(f, proto);
			f->kinds[l4_kind(4, proto)] = true;
		} else {
			gen_ipv6(f, proto);
			f->kinds[l4_kind(6, proto)] = true;
		}
	} else if (l3 < 45) {
		put16(f, 0x0800);
		gen_ipv4(f, proto);
		f->kinds[l4_kind(4, proto)] = true;
	} else if (l3 < 90) {
		put16(f, 0x86dd);
		gen_ipv6(f, proto);
		f->kinds[l4_kind(6, proto)] = true;
	} else {
		put16(f, chance(50) ? 0x0806 : rnd());
		put_random(f, 28 + below(40));
		f->kinds[K_NON_IP] = true;
	}
	while (f->len < ETH_HLEN)
		put8(f, 0);
}

/* Half the frames: one or two of these. */
static void mutate(struct frame *f)
{
	static const __u16 edges16[] = { 0, 1, 7, 8, 19, 20, 39, 40, 0xffff };
	static const __u8 edges8[] = { 0, 1, 2, 3, 0x0f, 0x40, 0x45, 0xff };
	int n = 1 + below(2);

	f->kinds[K_MUTATED] = true;
	while (n--) {
		switch (below(6)) {
		case 0: /* bit flips */
			for (__u32 k = 1 + below(4); k; k--) {
				__u32 at = below(f->len);

				f->b[at] ^= 1 << below(8);
			}
			break;
		case 1: /* truncation, never below an Ethernet header */
			f->len = ETH_HLEN + below(f->len - ETH_HLEN + 1);
			break;
		case 2: /* a 16-bit length at an edge value, or one off */
			if (f->n_len16) {
				__u32 at = f->len_fields[below(f->n_len16)];
				__u16 v = chance(50) ? edges16[below(9)] :
					  (f->b[at] << 8 | f->b[at + 1]) + below(3) - 1;

				set16(f, at, v);
			}
			break;
		case 3: /* an 8-bit length (IHL, data offset, option) at an edge */
			if (f->n_len8)
				f->b[f->len_bytes[below(f->n_len8)]] = edges8[below(8)];
			break;
		case 4: /* junk after the packet */
			put_random(f, 1 + below(32));
			break;
		default: /* cut by a capture: the wire had more */
			f->wire_len = f->len + 1 + below(200);
			f->kinds[K_CUT] = true;
			break;
		}
	}
	if (f->wire_len && f->wire_len <= f->len)
		f->wire_len = 0;
}

static void random_frame(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->len = ETH_HLEN + below(200);
	for (__u32 i = 0; i < f->len; i++)
		f->b[i] = rnd();
	/* an IP ethertype now and then, so the L3 parsers see noise too */
	if (chance(60))
		set16(f, 12, chance(50) ? 0x0800 : 0x86dd);
	f->kinds[K_RANDOM] = true;
}

/* ---- the independent model -------------------------------------------- */

struct verdict {
	enum outcome o;
	struct flow_key key;
	__u32 ip_len;
};

/* First fragments' ports, as later fragments should find them. */
struct frag_memory {
	struct {
		struct flow_key key; /* ports zero; id below */
		__u32 id;
		__u16 src_port, dst_port, icmp_id;
	} v[MODEL_FRAGS];
	int n;
};

static __u16 be16(const __u8 *p)
{
	return p[0] << 8 | p[1];
}

static __u32 be32(const __u8 *p)
{
	return (__u32)be16(p) << 16 | be16(p + 2);
}

static bool slot_on(__u32 mask, enum flow_slot s)
{
	return mask & (1U << s);
}

/*
 * TLV options between at and end (IPv4 or TCP): a length below 2, or an
 * option running past end, is malformed; bytes the frame does not have
 * (past len) are not judged.
 */
static bool options_bad(const __u8 *d, __u32 len, __u32 at, __u32 end)
{
	while (at < end && at < len) {
		if (d[at] == 0)
			return false;
		if (d[at] == 1) {
			at++;
			continue;
		}
		if (at + 2 > end)
			return true;
		if (at + 2 > len)
			return false;
		if (d[at + 1] < 2 || at + d[at + 1] > end)
			return true;
		at += d[at + 1];
	}
	return false;
}

static struct verdict v_out(enum outcome o)
{
	struct verdict v;

	memset(&v, 0, sizeof(v));
	v.o = o;
	return v;
}

/* Ports from the L4 header at l4 (IP packet ending at end), by protocol. */
static enum outcome model_l4(const __u8 *d, __u32 len, __u32 l4, __u32 end,
			     __u32 mask, struct flow_key *k)
{
	switch (k->protocol) {
	case 6:
		if (!slot_on(mask, SLOT_L4_TCP))
			return O_NOT_PARSED;
		if (l4 + 20 > end || l4 + 4 > len)
			return O_MALFORMED;
		k->src_port = be16(d + l4);
		k->dst_port = be16(d + l4 + 2);
		if (l4 + 20 > len)
			return O_FLOWED; /* cut after the ports */
		if ((d[l4 + 12] >> 4) * 4 < 20 || l4 + (d[l4 + 12] >> 4) * 4 > end)
			return O_MALFORMED;
		return options_bad(d, len, l4 + 20, l4 + (d[l4 + 12] >> 4) * 4) ?
			       O_MALFORMED : O_FLOWED;
	case 17:
		if (!slot_on(mask, SLOT_L4_UDP))
			return O_NOT_PARSED;
		if (l4 + 8 > end || l4 + 4 > len)
			return O_MALFORMED;
		k->src_port = be16(d + l4);
		k->dst_port = be16(d + l4 + 2);
		return O_FLOWED;
	case 1:
	case 58: {
		bool v4 = k->protocol == 1;
		__u8 type;

		if (!slot_on(mask, v4 ? SLOT_L4_ICMP : SLOT_L4_ICMPV6))
			return O_NOT_PARSED;
		if (l4 + 4 > end || l4 + 2 > len)
			return O_MALFORMED;
		type = d[l4];
		k->dst_port = be16(d + l4);
		if (type == (v4 ? 8 : 128) || type == (v4 ? 0 : 129)) {
			if (l4 + 8 > end || l4 + 6 > len)
				return O_MALFORMED;
			k->icmp_id = be16(d + l4 + 4);
		}
		return O_FLOWED;
	}
	default:
		return O_FLOWED; /* a flow without ports */
	}
}

/* Later fragments take their first fragment's ports; firsts leave them. */
static void model_frag(struct frag_memory *fm, struct flow_key *k,
		       enum frag_kind fr, __u32 id)
{
	struct flow_key base = *k;
	int i;

	if (k->protocol != 6 && k->protocol != 17 && k->protocol != 1 &&
	    k->protocol != 58)
		return;
	base.src_port = base.dst_port = base.icmp_id = 0;
	for (i = 0; i < fm->n; i++)
		if (fm->v[i].id == id && !memcmp(&fm->v[i].key, &base, sizeof(base)))
			break;
	if (fr == FRAG_FIRST) {
		if (i == fm->n) {
			if (fm->n == MODEL_FRAGS)
				return;
			fm->n++;
		}
		fm->v[i].key = base;
		fm->v[i].id = id;
		fm->v[i].src_port = k->src_port;
		fm->v[i].dst_port = k->dst_port;
		fm->v[i].icmp_id = k->icmp_id;
		return;
	}
	if (i < fm->n) {
		k->src_port = fm->v[i].src_port;
		k->dst_port = fm->v[i].dst_port;
		k->icmp_id = fm->v[i].icmp_id;
	} else if (k->protocol == 1 || k->protocol == 58) {
		k->dst_port = ICMP_TYPE_CODE_UNKNOWN;
	}
}

static struct verdict model(const struct frame *f, __u32 mask,
			    struct frag_memory *fm)
{
	const __u8 *d = f->b;
	__u32 len = f->len, flen = f->wire_len > len ? f->wire_len : len;
	__u32 off = ETH_HLEN, l4, end, id = 0;
	enum frag_kind fr = FRAG_NONE;
	__u16 type, vlan = 0;
	struct verdict v = v_out(O_FLOWED);
	struct flow_key *k = &v.key;

	if (!slot_on(mask, SLOT_L2_ETH))
		return v_out(O_NOT_PARSED);
	if (len < ETH_HLEN)
		return v_out(O_MALFORMED);
	type = be16(d + 12);
	for (int tag = 0; tag < 2; tag++) {
		if (type != 0x8100 && type != 0x88a8 && type != 0x9100 &&
		    type != 0x9200)
			break;
		if (off + 4 > len)
			return v_out(O_MALFORMED);
		if (tag == 0)
			vlan = be16(d + off) & 0x0fff;
		type = be16(d + off + 2);
		off += 4;
	}
	if (type == 0x8847 || type == 0x8848) {
		/* to the bottom of the stack (8 labels at most), whose
		 * payload's first nibble says IPv4 or IPv6 */
		int n;

		for (n = 0; n < 8; n++) {
			if (off + 4 > len)
				return v_out(O_MALFORMED);
			off += 4;
			if (d[off - 2] & 1)
				break;
		}
		if (n == 8)
			return v_out(O_NOT_PARSED);
		if (off + 1 > len)
			return v_out(O_MALFORMED);
		type = d[off] >> 4 == 4 ? 0x0800 : d[off] >> 4 == 6 ? 0x86dd : 0x8847;
	}
	k->ifindex = TEST_RUN_IFINDEX;
	k->vlan_id = vlan;
	if (type == 0x0800) {
		__u32 ihl;

		if (!slot_on(mask, SLOT_L3_IPV4))
			return v_out(O_NOT_PARSED);
		if (off + 20 > len)
			return v_out(O_MALFORMED);
		ihl = (d[off] & 0x0f) * 4;
		v.ip_len = be16(d + off + 2);
		if (d[off] >> 4 != 4 || ihl < 20 || v.ip_len < ihl ||
		    off + v.ip_len > flen)
			return v_out(O_MALFORMED);
		if (options_bad(d, len, off + 20, off + ihl))
			return v_out(O_MALFORMED);
		if (be16(d + off + 6) & 0x1fff)
			fr = FRAG_LATER;
		else if (be16(d + off + 6) & 0x2000)
			fr = FRAG_FIRST;
		id = be16(d + off + 4);
		k->ip_version = 4;
		k->protocol = d[off + 9];
		k->src_addr[10] = k->src_addr[11] = 0xff;
		k->dst_addr[10] = k->dst_addr[11] = 0xff;
		memcpy(k->src_addr + 12, d + off + 12, 4);
		memcpy(k->dst_addr + 12, d + off + 16, 4);
		l4 = off + ihl;
	} else if (type == 0x86dd) {
		__u8 nh;
		int n;

		if (!slot_on(mask, SLOT_L3_IPV6))
			return v_out(O_NOT_PARSED);
		if (off + 40 > len || d[off] >> 4 != 6)
			return v_out(O_MALFORMED);
		v.ip_len = 40 + be16(d + off + 4);
		if (off + v.ip_len > flen)
			return v_out(O_MALFORMED);
		nh = d[off + 6];
		l4 = off + 40;
		for (n = 0; n < MAX_IPV6_EXT_HDRS && is_ext6(nh); n++) {
			if (l4 + 8 > len)
				return v_out(O_MALFORMED);
			if (nh == 44) {
				if (be16(d + l4 + 2) & 0xfff8)
					fr = FRAG_LATER;
				else if (be16(d + l4 + 2) & 1)
					fr = FRAG_FIRST;
				id = be32(d + l4 + 4);
				nh = d[l4];
				l4 += 8;
			} else {
				__u32 hlen = nh == 51 ? (d[l4 + 1] + 2) * 4 :
							(d[l4 + 1] + 1) * 8;

				nh = d[l4];
				l4 += hlen;
			}
			if (l4 > off + v.ip_len)
				return v_out(O_MALFORMED);
			if (fr == FRAG_LATER)
				break;
		}
		if (fr != FRAG_LATER && is_ext6(nh))
			return v_out(O_MALFORMED); /* longer than we walk */
		k->ip_version = 6;
		k->protocol = nh;
		memcpy(k->src_addr, d + off + 8, 16);
		memcpy(k->dst_addr, d + off + 24, 16);
	} else {
		return v_out(O_NOT_PARSED);
	}
	end = off + v.ip_len;
	if (fr != FRAG_LATER) {
		enum outcome o = model_l4(d, len, l4, end, mask, k);

		if (o != O_FLOWED)
			return v_out(o);
	}
	if (fr != FRAG_NONE)
		model_frag(fm, k, fr, id);
	return v;
}

/* ---- the run ------------------------------------------------------------ */

struct expected_flow {
	struct flow_key key;
	__u64 packets, octets;
};

struct run {
	struct mask_loads loads; /* one per set of inline slots (harness.h) */
	struct pipeline *p;      /* the one set_mask chose */
	__u32 mask;
	enum share_mode share;
	__u64 seed;
	struct frag_memory frags;
	struct expected_flow flows[MODEL_FLOWS];
	int n_flows;
	__u64 counters[CNT_MAX];
	__u64 ts;
	__u64 tally[K_MAX];
	__u64 outcomes[O_MAX];
	__u64 frames;
	bool failed;
};

static void dump_frame(const struct run *r, const struct frame *f)
{
	char names[64];

	printf("#   seed %llu, --share %s, -p %s, frame of %u bytes (wire %u):\n#    ",
	       (unsigned long long)r->seed, share_mode_name(r->share),
	       mask_name(r->mask, names, sizeof(names)), f->len, f->wire_len);
	for (__u32 i = 0; i < f->len; i++)
		printf("%02x%s", f->b[i], i % 32 == 31 ? "\n#    " : "");
	printf("\n");
}

static int table_fd(struct run *r)
{
	return r->p->table_fd;
}

/* An empty flow table, fragment memory and counters, and the model's too. */
static void reset(struct run *r)
{
	__u8 fk[128]; /* struct frag_key is BPF-side (frag.h) */
	int frag_fd = bpf_map__fd(r->p->skel->maps.frag_flows);

	reset_pipeline(r->p);
	CHECK(bpf_map__key_size(r->p->skel->maps.frag_flows) <= sizeof(fk),
	      "frag_flows key larger than expected");
	while (!bpf_map_get_next_key(frag_fd, NULL, fk))
		if (bpf_map_delete_elem(frag_fd, fk))
			break;
	memset(&r->frags, 0, sizeof(r->frags));
	r->n_flows = 0;
	memset(r->counters, 0, sizeof(r->counters));
}

static void set_mask(struct run *r, __u32 mask)
{
	r->p = mask_loads_use(&r->loads, mask);
	r->mask = mask;
	reset(r);
}

static struct expected_flow *expect_flow(struct run *r, const struct flow_key *k)
{
	for (int i = 0; i < r->n_flows; i++)
		if (!memcmp(&r->flows[i].key, k, sizeof(*k)))
			return &r->flows[i];
	if (r->n_flows == MODEL_FLOWS)
		return NULL;
	memset(&r->flows[r->n_flows], 0, sizeof(r->flows[0]));
	r->flows[r->n_flows].key = *k;
	return &r->flows[r->n_flows++];
}

/* One frame through the pipeline and the model; false on a mismatch. */
static bool run_frame(struct run *r, const struct frame *f)
{
	struct verdict v = model(f, r->mask, &r->frags);
	static const int outcome_cnt[O_MAX] = { CNT_FLOWED, CNT_NOT_PARSED,
						CNT_MALFORMED };
	int fails = tap_case_failures, ret;
	__u64 c[CNT_MAX];

	ret = h_replay(r->p, f->b, f->len, r->ts, f->wire_len);
	r->ts += TS_STEP;
	CHECK(ret == XDP_PASS, "XDP action %d, want XDP_PASS", ret);
	h_counters(r->p, c);
	CHECK_EQ("seen grew by", c[CNT_SEEN] - r->counters[CNT_SEEN], 1);
	CHECK_EQ("internal", c[CNT_INTERNAL], 0);
	for (int o = 0; o < O_MAX; o++) {
		char what[64];

		snprintf(what, sizeof(what), "%s grew by (model: %s)",
			 outcome_names[o], outcome_names[v.o]);
		CHECK_EQ(what, c[outcome_cnt[o]] - r->counters[outcome_cnt[o]],
			 o == (int)v.o);
	}
	check_identity(c);
	memcpy(r->counters, c, sizeof(c));
	r->outcomes[v.o]++;
	if (v.o == O_FLOWED) {
		struct expected_flow *e = expect_flow(r, &v.key);
		struct flow_stats st;

		CHECK(e, "more flows than the model holds");
		if (e) {
			e->packets++;
			e->octets += v.ip_len;
			if (bpf_map_lookup_elem(table_fd(r), &v.key, &st)) {
				CHECK(0, "no flow with the model's key");
				key_print("model key", &v.key);
			} else {
				CHECK_EQ("packets of the flow", st.packets, e->packets);
				CHECK_EQ("octets of the flow", st.octets, e->octets);
			}
		}
	}
	for (int k = 0; k < K_MAX; k++)
		r->tally[k] += f->kinds[k];
	r->frames++;
	if (tap_case_failures != fails) {
		dump_frame(r, f);
		return false;
	}
	return true;
}

/* The table holds the model's flows and nothing else. */
static bool check_table(struct run *r)
{
	struct flow_list l;
	int fails = tap_case_failures, err = h_flows(r->p, &l);

	CHECK(!err, "reading the flow table: %s", strerror(-err));
	CHECK_EQ("flows in the table", l.n, r->n_flows);
	for (size_t i = 0; i < l.n; i++) {
		const struct flow_entry *fe = &l.v[i];
		int j;

		for (j = 0; j < r->n_flows; j++)
			if (!memcmp(&r->flows[j].key, &fe->key, sizeof(fe->key)))
				break;
		if (j == r->n_flows) {
			CHECK(0, "a flow the model has no frame for");
			key_print("table key", &fe->key);
		}
	}
	flow_list_free(&l);
	if (tap_case_failures != fails) {
		char names[64];

		printf("#   seed %llu, --share %s, -p %s\n",
		       (unsigned long long)r->seed, share_mode_name(r->share),
		       mask_name(r->mask, names, sizeof(names)));
		return false;
	}
	return true;
}

static bool run_frames(struct run *r, __u64 n)
{
	struct frame f;

	for (__u64 i = 0; i < n; i++) {
		if (chance(5)) {
			random_frame(&f);
		} else {
			gen_frame(&f);
			if (chance(50))
				mutate(&f);
		}
		if (!run_frame(r, &f))
			return false;
		if ((i + 1) % BATCH == 0 || i + 1 == n) {
			if (!check_table(r))
				return false;
			reset(r);
		}
	}
	return true;
}

/* One seed on one strategy: every parser, then each -p subset. */
static bool run_pass(struct run *r, __u64 frames)
{
	__u64 per_mask = frames / 32 ? frames / 32 : 1;

	set_mask(r, ALL_SLOTS);
	if (!run_frames(r, frames))
		return false;
	for (__u32 sub = 0; sub < (1U << N_PARSERS); sub++) {
		set_mask(r, sub | 1U << SLOT_END);
		if (!run_frames(r, per_mask))
			return false;
	}
	return true;
}

static int open_run(struct run *r, enum share_mode share)
{
	r->share = share;
	return mask_loads_open(&r->loads, share);
}

static void close_run(struct run *r)
{
	mask_loads_close(&r->loads);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	__u64 seed = 1, frames = 2000, seconds = 0;
	static struct run runs[SHARE_MAX];
	time_t start = time(NULL);
	__u64 passes = 0, total = 0;
	bool ok = true;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			frames = strtoull(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: frame_fuzz [--seed N] [--frames N] [--seconds S]\n");
			return 2;
		}
	}
	for (int s = 0; s < SHARE_MAX; s++) {
		int err = open_run(&runs[s], s);

		CHECK(!err, "opening the pipeline (--share %s): %s",
		      share_mode_name(s), strerror(-err));
		if (err) {
			tap_result("frame fuzz: pipelines open");
			return 1;
		}
	}
	do {
		for (int s = 0; s < SHARE_MAX && ok; s++) {
			struct run *r = &runs[s];

			r->seed = seed;
			rng_state = seed * 0x9E3779B97F4A7C15ULL + s + 1;
			ok = run_pass(r, frames);
			r->failed = !ok;
		}
		passes++;
		seed++;
	} while (ok && seconds && (__u64)(time(NULL) - start) < seconds);

	for (int s = 0; s < SHARE_MAX; s++) {
		struct run *r = &runs[s];

		total += r->frames;
		tap_case_failures = r->failed; /* its checks printed above */
		tap_result("frame fuzz --share %s: %llu frames (%llu flowed, %llu not parsed, %llu malformed) agree with the model, all XDP_PASS, counters add up",
			   share_mode_name(s), (unsigned long long)r->frames,
			   (unsigned long long)r->outcomes[O_FLOWED],
			   (unsigned long long)r->outcomes[O_NOT_PARSED],
			   (unsigned long long)r->outcomes[O_MALFORMED]);
	}
	/* the pass covers every kind of frame and every outcome, on every
	 * strategy (a generator change that stopped making one would
	 * otherwise go unnoticed) */
	for (int s = 0; s < SHARE_MAX; s++) {
		for (int k = 0; k < K_MAX; k++)
			CHECK(runs[s].tally[k] > 0, "--share %s: no %s frame",
			      share_mode_name(s), kind_names[k]);
		for (int o = 0; o < O_MAX; o++)
			CHECK(runs[s].outcomes[o] > 0, "--share %s: no %s frame",
			      share_mode_name(s), outcome_names[o]);
	}
	printf("# %llu passes from seed %llu, %llu frames, %lld s; per kind (percpu):",
	       (unsigned long long)passes, (unsigned long long)(seed - passes),
	       (unsigned long long)total, (long long)(time(NULL) - start));
	for (int k = 0; k < K_MAX; k++)
		printf(" %s %llu", kind_names[k],
		       (unsigned long long)runs[SHARE_PERCPU].tally[k]);
	printf("\n");
	tap_result("frame fuzz: every kind of frame (%d) and every outcome on every strategy and all %d -p subsets",
		   K_MAX, 1 << N_PARSERS);
	for (int s = 0; s < SHARE_MAX; s++)
		close_run(&runs[s]);
	return ok && !tap_failed_cases ? 0 : 1;
}
