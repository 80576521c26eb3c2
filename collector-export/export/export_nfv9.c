// SPDX-License-Identifier: GPL-2.0
/*
 * export_nfv9.c - NetFlow v9 (RFC 3954) messages, encoded here because
 * libfixbuf only reads v9. Same templates as IPFIX (v9 field types are the
 * IANA element ids for everything we export), no enterprise elements, so no
 * --biflow. Header: sysUptime = ms since the machine booted (32 bits, it
 * wraps after 49.7 days as a router's does), counted from a whole second
 * so that unix secs * 1000 - sysUptime gives the origin exactly; unix secs;
 * sequence = count of export packets sent; source id = observation domain.
 *
 * Times: the template's own elements (flowStartMilliseconds etc., read by
 * nfcapd and nfacctd) plus, when metering live, FIRST_SWITCHED (22) /
 * LAST_SWITCHED (21) in ms of sysUptime, what RFC 3954 collectors such as
 * goflow2 read. nfcapd and nfacctd prefer 21/22 when a template has them
 * (nfcapd to the ms, nfacctd in whole seconds); a replayed capture's times
 * (-r) are older than sysUptime can express, so a replay's templates leave
 * them out.
 *
 * -D: APPLICATION_ID (95) ends the data templates, as IPFIX's applicationId
 * (0 when nothing was found); v9 has no field for the rest.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "export_dpi.h"
#include "export_encoder.h"
#include "exporter_id.h"
#include "log.h"
#include "export_wire.h"

#define V9_HEADER_LEN 20
#define V9_SET_TEMPLATE 0
#define V9_SET_OPTIONS_TEMPLATE 1
#define V9_SCOPE_SYSTEM 1
#define V9_SCOPE_INTERFACE 2
#define V9_FIRST_SWITCHED 22
#define V9_LAST_SWITCHED 21
#define V9_SWITCHED_FIELDS 2 /* appended to each data template, 4 bytes each */

struct v9_field { __u16 type, len; };

static const struct v9_field stats_fields[] = {
	{ 40, 8 }, /* TOTAL_BYTES_EXP */
	{ 41, 8 }, /* TOTAL_PKTS_EXP */
	{ 42, 8 }, /* TOTAL_FLOWS_EXP */
	{ 164, 8 }, /* ignoredPacketTotalCount */
	{ 166, 8 }, /* notSentFlowTotalCount */
	{ 160, 8 }, /* systemInitTimeMilliseconds: the sysUptime origin */
	{ 130, 4 }, /* exporterIPv4Address */
	{ 131, 16 }, /* exporterIPv6Address */
	{ 144, 4 }, /* exportingProcessId */
	{ 34, 4 }, /* SAMPLING_INTERVAL */
	{ 305, 4 }, /* samplingPacketInterval */
	{ 306, 4 }, /* samplingPacketSpace */
	{ 35, 1 }, /* SAMPLING_ALGORITHM */
};
#define STATS_REC_LEN (4 + 6 * 8 + 4 + 16 + 4 + 3 * 4 + 1)
#define N_STATS_FIELDS (sizeof(stats_fields) / sizeof(stats_fields[0]))
/* After the Interface scope: what nfdump reads of an interface options
 * record, exactly (it skips the scope and shows IF_DESC as the name). */
static const struct v9_field iface_fields[] = {
	{ 10, 4 },              /* INPUT_SNMP */
	{ 83, IFACE_DESC_LEN }, /* IF_DESC: the name, then the alias if any */
};
#define N_IFACE_FIELDS (sizeof(iface_fields) / sizeof(iface_fields[0]))
#define IFACE_REC_LEN (4 + 4 + IFACE_DESC_LEN)

struct encoder {
	const struct export_template *tmpl;
	__u32 source_id;
	__u32 sequence;     /* export packets sent in this session */
	__u64 boot_ms;      /* sysUptime origin: epoch ms, a whole second */
	int n_switched;     /* FIRST/LAST_SWITCHED in the data templates: 0 or 2 */
	int n_app;          /* -D: APPLICATION_ID (95) after them: 0 or 1 */
	struct wire_msg m;  /* the message being built */
	__u16 count;        /* records (data, template, options) in it */
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t data_template_len(const struct export_template *t,
				enum tmpl_af af, int n_switched);
static size_t options_template_len(void);

/* The smallest message that holds each thing that must travel alone: all
 * templates (they go in one message), one data record of either IP
 * version, one options record. */
static int check_fit(const struct export_template *t, int n_switched,
		     size_t max_msg)
{
	size_t tmpl = V9_HEADER_LEN + 4 +
		      data_template_len(t, TMPL_IPV4, n_switched) +
		      data_template_len(t, TMPL_IPV6, n_switched) +
		      options_template_len();
	size_t rec = 0, need;

	for (int af = 0; af < TMPL_AF_MAX; af++) {
		size_t r = V9_HEADER_LEN + 4 + t->wire_len[af] + 4 * n_switched;

		r += wire_pad(r, 4);
		if (r > rec)
			rec = r;
	}
	need = tmpl > rec ? tmpl : rec;
	if (need <= max_msg)
		return 0;
	pr_warn("template %s does not fit --max-message-size %zu in NetFlow v9: its templates take %zu bytes and a record %zu; the smallest size that works is %zu\n",
		t->path, max_msg, tmpl, rec, need);
	return -EMSGSIZE;
}

static int nfv9_create(struct encoder **out, const struct config *cfg,
		       const struct export_template *t, size_t max_msg)
{
	int n_switched = cfg->pcap_file ? 0 : V9_SWITCHED_FIELDS;
	int n_app = cfg->dpi ? 1 : 0;
	/* every field after the template's own is 4 bytes */
	int err = check_fit(t, n_switched + n_app, max_msg);
	struct encoder *enc;

	if (err)
		return err;
	enc = calloc(1, sizeof(*enc));
	if (!enc || !(enc->m.buf = calloc(1, max_msg))) {
		free(enc);
		return -ENOMEM;
	}
	enc->tmpl = t;
	enc->source_id = cfg->observation_domain;
	enc->m.max = max_msg;
	enc->m.hdr_len = V9_HEADER_LEN;
	enc->m.align = 4; /* RFC 3954: flowsets end on a 32-bit boundary */
	enc->boot_ms = system_init_epoch_ms();
	enc->n_switched = n_switched;
	enc->n_app = n_app;
	*out = enc;
	return 0;
}

static void nfv9_destroy(struct encoder *enc)
{
	if (enc)
		free(enc->m.buf);
	free(enc);
}

static int nfv9_reset(struct encoder *enc)
{
	enc->sequence = 0;
	enc->m.len = enc->m.set_start = 0;
	enc->m.set_id = enc->count = 0;
	return 0;
}

/* v9 field type of an IANA element: the same number, except that v9 has
 * one ICMP_TYPE (32) for both IP versions, and collectors read ICMPv6
 * type/code from it. */
static __u16 v9_type(__u16 ie)
{
	return ie == 139 ? 32 : ie;
}

static size_t data_template_len(const struct export_template *t,
				enum tmpl_af af, int n_switched)
{
	return 4 + 4 * (t->n[af] + n_switched);
}

/* One options template record: id, scope length, option length, one
 * scope field (4 bytes), the option fields. */
static size_t options_record_len(size_t n_fields)
{
	return 10 + 4 * n_fields;
}

/* Both options templates, each in a flowset of its own: nfdump reads only
 * the first template of an options template flowset. */
static size_t options_template_len(void)
{
	size_t stats = 4 + options_record_len(N_STATS_FIELDS);
	size_t iface = 4 + options_record_len(N_IFACE_FIELDS);

	return stats + wire_pad(stats, 4) + iface + wire_pad(iface, 4);
}

static int put_options_template(struct encoder *enc, __u16 tid, __u16 scope,
				const struct v9_field *f, size_t n)
{
	__u8 *p;

	wire_close_set(&enc->m); /* a flowset of its own */
	if (wire_reserve(&enc->m, V9_SET_OPTIONS_TEMPLATE, options_record_len(n)))
		return -ENOBUFS;
	p = enc->m.buf + enc->m.len;
	put16(p, tid);
	put16(p + 2, 4);
	put16(p + 4, 4 * n);
	put16(p + 6, scope);
	put16(p + 8, 4);
	for (size_t i = 0; i < n; i++) {
		put16(p + 10 + 4 * i, f[i].type);
		put16(p + 12 + 4 * i, f[i].len);
	}
	enc->m.len += options_record_len(n);
	enc->count++;
	return 0;
}

static int nfv9_add_templates(struct encoder *enc)
{
	size_t opt_len = options_template_len();
	int n_tail = enc->n_switched + enc->n_app;
	size_t n = data_template_len(enc->tmpl, TMPL_IPV4, n_tail) +
		   data_template_len(enc->tmpl, TMPL_IPV6, n_tail);
	__u8 *p;

	/* data templates in one flowset, the options templates after them */
	if (wire_reserve(&enc->m, V9_SET_TEMPLATE, n + opt_len))
		return -ENOBUFS;
	for (int af = 0; af < TMPL_AF_MAX; af++) {
		int n_fields = enc->tmpl->n[af];

		p = enc->m.buf + enc->m.len;
		put16(p, af == TMPL_IPV4 ? TID_DATA_IPV4 : TID_DATA_IPV6);
		put16(p + 2, n_fields + n_tail);
		for (int i = 0; i < n_fields; i++) {
			put16(p + 4 + 4 * i, v9_type(enc->tmpl->elems[af][i].def->ie));
			put16(p + 6 + 4 * i, enc->tmpl->elems[af][i].len);
		}
		if (enc->n_switched) {
			put16(p + 4 + 4 * n_fields, V9_FIRST_SWITCHED);
			put16(p + 6 + 4 * n_fields, 4);
			put16(p + 8 + 4 * n_fields, V9_LAST_SWITCHED);
			put16(p + 10 + 4 * n_fields, 4);
		}
		if (enc->n_app) { /* -D: the application, as in IPFIX */
			put16(p + 4 + 4 * (n_fields + enc->n_switched), 95);
			put16(p + 6 + 4 * (n_fields + enc->n_switched),
			      DPI_APP_ID_LEN);
		}
		enc->m.len += data_template_len(enc->tmpl, af, n_tail);
		enc->count++;
	}
	if (put_options_template(enc, TID_OPT_STATS, V9_SCOPE_SYSTEM,
				 stats_fields, N_STATS_FIELDS) ||
	    put_options_template(enc, TID_OPT_IFACE, V9_SCOPE_INTERFACE,
				 iface_fields, N_IFACE_FIELDS))
		return -ENOBUFS;
	return 0;
}

static int nfv9_add_record(struct encoder *enc, const struct flow_record *rec)
{
	enum tmpl_af af = template_af(rec->key.ip_version);
	__u8 *p;

	if (wire_reserve(&enc->m, af == TMPL_IPV4 ? TID_DATA_IPV4 : TID_DATA_IPV6,
		    enc->tmpl->wire_len[af] + 4 * (enc->n_switched + enc->n_app)))
		return -ENOBUFS;
	p = fields_put_wire(enc->tmpl->elems[af], enc->tmpl->n[af], rec,
			    enc->m.buf + enc->m.len);
	if (enc->n_switched) {
		/* modulo 2^32, like sysUptime itself */
		put32(p, (__u32)(rec->start_ms - enc->boot_ms));
		put32(p + 4, (__u32)(rec->end_ms - enc->boot_ms));
		p += 4 * enc->n_switched;
	}
	if (enc->n_app) { /* 0: nothing found */
		export_dpi_app_id(rec->dpi ? rec->dpi->app : 0, p);
		p += DPI_APP_ID_LEN;
	}
	enc->m.len = p - enc->m.buf;
	enc->count++;
	return 0;
}

static int nfv9_add_options(struct encoder *enc, const struct export_options *o,
			    int *done)
{
	if (*done == 0) {
		/* the system init time is the one this encoder's sysUptime
		 * counts from, so that the two agree to the ms */
		__u64 v[] = { o->octets, o->messages, o->records,
			      o->packets_not_metered, o->flows_not_sent,
			      enc->boot_ms };
		__u8 *p;

		if (wire_reserve(&enc->m, TID_OPT_STATS, STATS_REC_LEN))
			return -ENOBUFS;
		p = enc->m.buf + enc->m.len;
		put32(p, 0); /* the system: this exporter */
		p += 4;
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++, p += 8)
			put64(p, v[i]);
		memcpy(p, o->exporter_v4, 4);
		memcpy(p + 4, o->exporter_v6, 16);
		put32(p + 20, o->pid);
		put32(p + 24, o->sample_rate);
		put32(p + 28, 1); /* 1:N as 1 packet metered, N - 1 left out */
		put32(p + 32, o->sample_rate - 1);
		p[36] = sampling_algorithm(o->sample_rate);
		enc->m.len += STATS_REC_LEN;
		enc->count++;
		(*done)++;
	}
	while (*done <= o->n_ifaces) {
		int i = *done - 1;
		__u8 *p;

		if (wire_reserve(&enc->m, TID_OPT_IFACE, IFACE_REC_LEN))
			return -ENOBUFS;
		p = enc->m.buf + enc->m.len;
		put32(p, o->ifindex[i]);
		put32(p + 4, o->ifindex[i]);
		iface_description(o, i, (char *)p + 8);
		enc->m.len += IFACE_REC_LEN;
		enc->count++;
		(*done)++;
	}
	return 0;
}

static int nfv9_finish(struct encoder *enc, const __u8 **msg, size_t *len)
{
	__u64 now = now_ms();
	__u8 *h = enc->m.buf;
	__u32 secs = now / 1000;

	*msg = enc->m.buf;
	*len = 0;
	if (!enc->m.len)
		return 0;
	wire_close_set(&enc->m);
	put16(h, 9);
	put16(h + 2, enc->count);
	/* collectors take the origin as unix secs * 1000 - sysUptime */
	put32(h + 4, (__u32)((__u64)secs * 1000 - enc->boot_ms));
	put32(h + 8, secs);
	put32(h + 12, enc->sequence++);
	put32(h + 16, enc->source_id);
	*len = enc->m.len;
	enc->m.len = 0;
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
