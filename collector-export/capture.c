// SPDX-License-Identifier: GPL-2.0
/*
 * capture.c - libpcap offline reading (pcap and pcapng) with nanosecond
 * timestamps. The BPF programs parse Ethernet: Linux cooked captures
 * (LINUX_SLL, LINUX_SLL2: what `tcpdump -i any` writes) get an Ethernet
 * header in place of the cooked one, carrying the same protocol type (a
 * VLAN tag libpcap put back after it stays in place). Any other link type
 * is refused at open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "capture.h"
#include "log.h"

#define ETH_HDR_LEN 14
#define SLL_HDR_LEN 16  /* pkttype, hatype, halen, addr[8], protocol */
#define SLL2_HDR_LEN 20 /* protocol, reserved, ifindex, hatype, pkttype,
			 * halen, addr[8] */

struct capture {
	pcap_t *pc;
	const char *path;
	int dlt;
	uint64_t records;  /* read so far, for messages */
	uint8_t *buf;      /* a rewritten cooked frame */
	uint32_t buf_size;
};

/* Where a cooked header keeps what an Ethernet header needs. */
struct cooked_layout {
	uint32_t hdr_len;
	uint32_t proto_off;
	uint32_t halen_off; /* address length: 2 bytes in SLL, 1 in SLL2 */
	uint32_t halen_size;
	uint32_t addr_off;
};

static const struct cooked_layout sll = { SLL_HDR_LEN, 14, 4, 2, 6 };
static const struct cooked_layout sll2 = { SLL2_HDR_LEN, 0, 11, 1, 12 };

static const char *dlt_name(int dlt)
{
	const char *name = pcap_datalink_val_to_name(dlt);

	return name ? name : "unknown";
}

struct capture *capture_open(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;
	int dlt;
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, errbuf);

	if (!pc) {
		pr_warn("cannot read pcap file '%s': %s\n", path, errbuf);
		return NULL;
	}
	dlt = pcap_datalink(pc);
	if (dlt != DLT_EN10MB && dlt != DLT_LINUX_SLL && dlt != DLT_LINUX_SLL2) {
		pr_warn("'%s' has link type %s (%d); flowexport meters Ethernet (DLT_EN10MB) and Linux cooked (DLT_LINUX_SLL, DLT_LINUX_SLL2) captures\n",
			path, dlt_name(dlt), dlt);
		pcap_close(pc);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pcap_close(pc);
		return NULL;
	}
	c->pc = pc;
	c->path = path;
	c->dlt = dlt;
	return c;
}

static int buf_reserve(struct capture *c, uint32_t size)
{
	uint8_t *b;

	if (size <= c->buf_size)
		return 0;
	b = realloc(c->buf, size);
	if (!b)
		return -ENOMEM;
	c->buf = b;
	c->buf_size = size;
	return 0;
}

static uint32_t cooked_halen(const struct cooked_layout *l, const uint8_t *in)
{
	const uint8_t *p = in + l->halen_off;

	return l->halen_size == 2 ? (uint32_t)(p[0] << 8 | p[1]) : p[0];
}

/*
 * A cooked frame as Ethernet: destination unknown (zero), source the
 * link-layer address when it is a 6-byte one, type the cooked protocol
 * (an ethertype for everything the meter parses). A record too short to
 * hold its cooked header becomes a frame of length 0: malformed.
 */
static int cooked_to_eth(struct capture *c, const struct cooked_layout *l,
			 struct capture_frame *f)
{
	const uint8_t *in = f->data;
	uint32_t body;
	uint8_t *eth;

	if (f->len < l->hdr_len) {
		f->len = 0;
		f->wire_len = f->wire_len > l->hdr_len ?
				      f->wire_len - l->hdr_len + ETH_HDR_LEN : 0;
		return 0;
	}
	body = f->len - l->hdr_len;
	if (buf_reserve(c, ETH_HDR_LEN + body))
		return -ENOMEM;
	eth = c->buf;
	memset(eth, 0, 12);
	if (cooked_halen(l, in) == 6)
		memcpy(eth + 6, in + l->addr_off, 6);
	memcpy(eth + 12, in + l->proto_off, 2);
	memcpy(eth + ETH_HDR_LEN, in + l->hdr_len, body);
	f->data = c->buf;
	f->len = ETH_HDR_LEN + body;
	f->wire_len = f->wire_len - l->hdr_len + ETH_HDR_LEN;
	return 0;
}

int capture_next(struct capture *c, struct capture_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(c->pc, &h, &d);

	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		pr_warn("cannot read '%s' past record %llu: %s\n", c->path,
			(unsigned long long)c->records, pcap_geterr(c->pc));
		return -EIO;
	}
	c->records++;
	f->data = d;
	f->len = h->caplen;
	/* a writer that put the snaplen in the original length would make
	 * the frame shorter than what it kept */
	f->wire_len = h->len > h->caplen ? h->len : h->caplen;
	/* nanosecond precision: tv_usec holds nanoseconds */
	f->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + h->ts.tv_usec;
	if (c->dlt == DLT_LINUX_SLL || c->dlt == DLT_LINUX_SLL2) {
		int err = cooked_to_eth(c, c->dlt == DLT_LINUX_SLL ? &sll : &sll2, f);

		if (err) {
			pr_warn("out of memory reading '%s'\n", c->path);
			return err;
		}
	}
	return 1;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcap_close(c->pc);
	free(c->buf);
	free(c);
}
