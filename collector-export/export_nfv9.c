// SPDX-License-Identifier: GPL-2.0
/*
 * export_nfv9.c - NetFlow v9 (RFC 3954) messages, encoded here because
 * libfixbuf only reads v9. Same templates as IPFIX (v9 field types are the
 * IANA element ids for everything we export), no enterprise elements, so no
 * --biflow. Header: sysUptime = ms since this encoder started, unix secs,
 * sequence = count of export packets sent, source id = observation domain.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "export_encoder.h"

#define V9_HEADER_LEN 20
#define V9_SET_TEMPLATE 0
#define V9_SET_OPTIONS_TEMPLATE 1
#define V9_SCOPE_SYSTEM 1
#define V9_SCOPE_INTERFACE 2

struct v9_field { __u16 type, len; };

static const struct v9_field stats_fields[] = {
	{ 40, 8 }, /* TOTAL_BYTES_EXP */
	{ 41, 8 }, /* TOTAL_PKTS_EXP */
	{ 42, 8 }, /* TOTAL_FLOWS_EXP */
	{ 164, 8 }, /* ignoredPacketTotalCount */
	{ 166, 8 }, /* notSentFlowTotalCount */
};
#define N_STATS_FIELDS (sizeof(stats_fields) / sizeof(stats_fields[0]))
static const struct v9_field iface_fields[] = {
	{ 82, IFNAMSIZ },       /* IF_NAME */
	{ 83, IFACE_DESC_LEN }, /* IF_DESC */
};

struct encoder {
	const struct export_template *tmpl;
	__u32 source_id;
	__u32 sequence;     /* export packets sent in this session */
	__u64 boot_ms;      /* sysUptime origin */
	__u8 *msg;
	size_t max_msg, len;
	size_t set_start;   /* offset of the open flowset, 0 = none */
	__u16 set_id;
	__u16 count;        /* records (data, template, options) in msg */
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put16(__u8 *p, __u16 v) { v = htobe16(v); memcpy(p, &v, 2); }
static void put32(__u8 *p, __u32 v) { v = htobe32(v); memcpy(p, &v, 4); }
static void put64(__u8 *p, __u64 v) { v = htobe64(v); memcpy(p, &v, 8); }

/* Pads the open flowset to 4 bytes and writes its length. */
static void close_set(struct encoder *enc)
{
	if (!enc->set_start)
		return;
	while ((enc->len - enc->set_start) % 4)
		enc->msg[enc->len++] = 0;
	put16(enc->msg + enc->set_start + 2, enc->len - enc->set_start);
	enc->set_start = 0;
	enc->set_id = 0;
}

/* Makes room for n bytes in a flowset with this id, opening one (and the
 * header) as needed; -ENOBUFS when the message cannot hold them. */
static int reserve(struct encoder *enc, __u16 set_id, size_t n)
{
	size_t need = n + 3; /* worst-case padding */
	/* flowset id 0 (templates) is valid: "open" is set_start != 0 */
	bool new_set = !enc->set_start || enc->set_id != set_id;

	if (new_set)
		need += 4;
	if (!enc->len)
		need += V9_HEADER_LEN;
	if (enc->len + need > enc->max_msg)
		return -ENOBUFS;
	if (!enc->len)
		enc->len = V9_HEADER_LEN;
	if (new_set) {
		close_set(enc);
		enc->set_start = enc->len;
		enc->set_id = set_id;
		put16(enc->msg + enc->len, set_id);
		enc->len += 4;
	}
	return 0;
}

static int nfv9_create(struct encoder **out, const struct config *cfg,
		       const struct export_template *t, size_t max_msg)
{
	struct encoder *enc = calloc(1, sizeof(*enc));

	if (!enc || !(enc->msg = calloc(1, max_msg))) {
		free(enc);
		return -ENOMEM;
	}
	enc->tmpl = t;
	enc->source_id = cfg->observation_domain;
	enc->max_msg = max_msg;
	enc->boot_ms = now_ms();
	*out = enc;
	return 0;
}

static void nfv9_destroy(struct encoder *enc)
{
	if (enc)
		free(enc->msg);
	free(enc);
}

static int nfv9_reset(struct encoder *enc)
{
	enc->sequence = 0;
	enc->len = enc->set_start = 0;
	enc->set_id = enc->count = 0;
	return 0;
}

/* v9 field type of an IANA element: the same number, except that v9 has
 * one ICMP_TYPE (32) for both IP versions, and collectors read ICMPv6
 * type/code from it. */
static __u16 v9_type(__u16 ie)
{
	return ie == 139 ? 32 : ie;
}

static size_t data_template_len(const struct encoder *enc, enum tmpl_af af)
{
	return 4 + 4 * enc->tmpl->n[af];
}

static int nfv9_add_templates(struct encoder *enc)
{
	/* each options template: id, scope length, option length, 1 scope */
	size_t opt_len = (10 + 4 * N_STATS_FIELDS) + (10 + 4 * 2);
	size_t n = data_template_len(enc, TMPL_IPV4) +
		   data_template_len(enc, TMPL_IPV6);
	__u8 *p;

	/* data templates in one flowset, both options templates in another */
	if (reserve(enc, V9_SET_TEMPLATE, n + 4 + opt_len + 3))
		return -ENOBUFS;
	for (int af = 0; af < TMPL_AF_MAX; af++) {
		p = enc->msg + enc->len;
		put16(p, af == TMPL_IPV4 ? TID_DATA_IPV4 : TID_DATA_IPV6);
		put16(p + 2, enc->tmpl->n[af]);
		for (int i = 0; i < enc->tmpl->n[af]; i++) {
			put16(p + 4 + 4 * i, v9_type(enc->tmpl->elems[af][i].def->ie));
			put16(p + 6 + 4 * i, enc->tmpl->elems[af][i].len);
		}
		enc->len += data_template_len(enc, af);
		enc->count++;
	}
	if (reserve(enc, V9_SET_OPTIONS_TEMPLATE, opt_len))
		return -ENOBUFS;
	p = enc->msg + enc->len;
	/* statistics: scope System */
	put16(p, TID_OPT_STATS);
	put16(p + 2, 4);
	put16(p + 4, 4 * N_STATS_FIELDS);
	put16(p + 6, V9_SCOPE_SYSTEM);
	put16(p + 8, 4);
	for (size_t i = 0; i < N_STATS_FIELDS; i++) {
		put16(p + 10 + 4 * i, stats_fields[i].type);
		put16(p + 12 + 4 * i, stats_fields[i].len);
	}
	p += 10 + 4 * N_STATS_FIELDS;
	/* interface names: scope Interface */
	put16(p, TID_OPT_IFACE);
	put16(p + 2, 4);
	put16(p + 4, 8);
	put16(p + 6, V9_SCOPE_INTERFACE);
	put16(p + 8, 4);
	for (int i = 0; i < 2; i++) {
		put16(p + 10 + 4 * i, iface_fields[i].type);
		put16(p + 12 + 4 * i, iface_fields[i].len);
	}
	enc->len += opt_len;
	enc->count += 2;
	return 0;
}

static int nfv9_add_record(struct encoder *enc, const struct flow_record *rec)
{
	enum tmpl_af af = template_af(rec->key.ip_version);
	const struct tmpl_elem *e = enc->tmpl->elems[af];
	__u8 *p;

	if (reserve(enc, af == TMPL_IPV4 ? TID_DATA_IPV4 : TID_DATA_IPV6,
		    enc->tmpl->wire_len[af]))
		return -ENOBUFS;
	p = enc->msg + enc->len;
	for (int i = 0; i < enc->tmpl->n[af]; i++) {
		field_put_wire(e[i].def, rec, e[i].reverse, e[i].len, p);
		p += e[i].len;
	}
	enc->len = p - enc->msg;
	enc->count++;
	return 0;
}

static int nfv9_add_options(struct encoder *enc, const struct export_options *o,
			    int *done)
{
	if (*done == 0) {
		__u64 v[N_STATS_FIELDS] = { o->octets, o->messages, o->records,
					    o->packets_not_metered,
					    o->flows_not_sent };
		__u8 *p;

		if (reserve(enc, TID_OPT_STATS, 4 + 8 * N_STATS_FIELDS))
			return -ENOBUFS;
		p = enc->msg + enc->len;
		put32(p, 0); /* the system: this exporter */
		for (size_t i = 0; i < N_STATS_FIELDS; i++)
			put64(p + 4 + 8 * i, v[i]);
		enc->len += 4 + 8 * N_STATS_FIELDS;
		enc->count++;
		(*done)++;
	}
	while (*done <= o->n_ifaces) {
		int i = *done - 1;
		__u8 *p;

		if (reserve(enc, TID_OPT_IFACE, 4 + IFNAMSIZ + IFACE_DESC_LEN))
			return -ENOBUFS;
		p = enc->msg + enc->len;
		put32(p, o->ifindex[i]);
		memcpy(p + 4, o->ifname[i], IFNAMSIZ);
		memcpy(p + 4 + IFNAMSIZ, o->ifdesc[i], IFACE_DESC_LEN);
		enc->len += 4 + IFNAMSIZ + IFACE_DESC_LEN;
		enc->count++;
		(*done)++;
	}
	return 0;
}

static int nfv9_finish(struct encoder *enc, const __u8 **msg, size_t *len)
{
	__u64 now = now_ms();
	__u8 *h = enc->msg;

	*msg = enc->msg;
	*len = 0;
	if (!enc->len)
		return 0;
	close_set(enc);
	put16(h, 9);
	put16(h + 2, enc->count);
	put32(h + 4, (__u32)(now - enc->boot_ms));
	put32(h + 8, (__u32)(now / 1000));
	put32(h + 12, enc->sequence++);
	put32(h + 16, enc->source_id);
	*len = enc->len;
	enc->len = 0;
	enc->count = 0;
	return 0;
}

const struct encoder_ops nfv9_encoder_ops = {
	.name = "NetFlow v9",
	.create = nfv9_create,
	.destroy = nfv9_destroy,
	.reset = nfv9_reset,
	.add_templates = nfv9_add_templates,
	.add_record = nfv9_add_record,
	.add_options = nfv9_add_options,
	.finish = nfv9_finish,
};
