// SPDX-License-Identifier: GPL-2.0
/*
 * export_ipfix.c - IPFIX (RFC 7011) messages built by libfixbuf 2.4.
 *
 * libfixbuf writes each message into our buffer (fbExporterAllocBuffer) in
 * manual mode, and export.c sends the bytes: so one transport layer of ours
 * handles UDP, TCP reconnects and files for IPFIX and v9 alike, and the
 * message size limit is exact. libfixbuf keeps the export time, the
 * sequence number per observation domain and the template encoding, and
 * its information model vouches for the element names. GError stays here.
 *
 * Plain flow records (no -D) are encoded here, not by libfixbuf: each
 * element straight into the message in its wire form, like the v9 encoder
 * (fBufAppend converted a host-order copy element by element, the main
 * cost of an export to a file). Such a message holds data records only
 * (libfixbuf never mixes templates and data in one either); its sequence
 * number is libfixbuf's for the domain, advanced by its records, so that
 * both kinds of message count as one.
 *
 * Flow records travel in the configured observation domain, the options
 * records (exporting-process statistics, interface names) in domain 0:
 * RFC 7011 section 3.1 says the domain SHOULD be 0 when none is relevant,
 * naming the exporting-process statistics, and the sequence number counts
 * every data record of a domain, options records included. nfcapd counts
 * only flow records, so options in the flow records' domain showed as a
 * sequence error after every options message; apart, both counts agree.
 */
#include <errno.h>
#include <fixbuf/public.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "export_dpi.h"
#include "export_encoder.h"
#include "log.h"
#include "export_wire.h"

#define OPTIONS_DOMAIN 0
#define IPFIX_VERSION 10
#define IPFIX_HEADER_LEN 16

/* libfixbuf 2.4 exports these but declares them only in its private
 * header (which needs spread's): the sequence number of the session's
 * current domain. */
uint32_t fbSessionGetSequence(fbSession_t *session);
void fbSessionSetSequence(fbSession_t *session, uint32_t sequence);

/* Internal (in-memory) layouts of the options records, in template order. */
struct stats_rec {
	__u32 domain;
	__u64 messages, records, octets, not_metered, not_sent, boot_ms;
	__u32 exporter_v4;   /* ipv4Address: host order to libfixbuf */
	__u8 exporter_v6[16];
	__u32 pid;
	__u32 sampling_interval, packet_interval, packet_space;
	__u8 sampling_algorithm;
} __attribute__((packed));

struct iface_rec {
	char name[IFNAMSIZ];
	__u32 ifindex;
	char desc[IFACE_DESC_LEN];
} __attribute__((packed));

static const fbInfoElementSpec_t stats_spec[] = {
	{ "observationDomainId", 4, 0 },
	{ "exportedMessageTotalCount", 8, 0 },
	{ "exportedFlowRecordTotalCount", 8, 0 },
	{ "exportedOctetTotalCount", 8, 0 },
	{ "ignoredPacketTotalCount", 8, 0 },
	{ "notSentFlowTotalCount", 8, 0 },
	{ "systemInitTimeMilliseconds", 8, 0 },
	{ "exporterIPv4Address", 4, 0 },
	{ "exporterIPv6Address", 16, 0 },
	{ "exportingProcessId", 4, 0 },
	{ "samplingInterval", 4, 0 },
	{ "samplingPacketInterval", 4, 0 },
	{ "samplingPacketSpace", 4, 0 },
	{ "samplingAlgorithm", 1, 0 },
	FB_IESPEC_NULL
};

/* Scope: the interface, by name. nfdump (1.7.1) skips the scope fields and
 * reads exactly ingressInterface (4 bytes) and interfaceDescription after
 * them, showing the description as the interface's name; another element
 * among the non-scope fields shifts every record it reads. */
static const fbInfoElementSpec_t iface_spec[] = {
	{ "interfaceName", IFNAMSIZ, 0 },
	{ "ingressInterface", 4, 0 },
	{ "interfaceDescription", IFACE_DESC_LEN, 0 },
	FB_IESPEC_NULL
};

/*
 * --sample N > 1 (IPFIX): the rate again, in the flow records' own domain,
 * scoped by it: collectors (nfcapd, Akvorado) keep samplers per exporter
 * and domain, so the copy in OPTIONS_DOMAIN does not reach those flows.
 * nfdump reads 306 into the same slot as 34: 306 must come last.
 */
struct sampling_rec {
	__u32 domain;
	__u32 sampling_interval, packet_interval, packet_space;
	__u8 sampling_algorithm;
} __attribute__((packed));

static const fbInfoElementSpec_t sampling_spec[] = {
	{ "observationDomainId", 4, 0 },
	{ "samplingInterval", 4, 0 },
	{ "samplingPacketInterval", 4, 0 },
	{ "samplingPacketSpace", 4, 0 },
	{ "samplingAlgorithm", 1, 0 },
	FB_IESPEC_NULL
};

struct encoder {
	const struct export_template *tmpl;
	__u32 domain;
	bool sampling;         /* --sample N > 1: TID_OPT_SAMPLING in domain */
	bool dpi;              /* -D: TID_DPI_* and TID_OPT_APPS in domain */
	fbInfoModel_t *model;
	fBuf_t *fbuf;          /* owns session and exporter */
	__u16 cur_tid;         /* template the buffer is set to, 0 = none */
	bool dirty;            /* something appended since the last finish */
	__u8 *rec;             /* one internal data record */
	/* the message: libfixbuf copies each of its messages into m.buf;
	 * messages of plain data records are built in it (m.len 0: none) */
	struct wire_msg m;
	__u32 own_records;     /* data records in the one built here */
};

static int gerr(const char *what, GError *err)
{
	pr_warn("IPFIX: %s: %s\n", what, err ? err->message : "unknown error");
	g_clear_error(&err);
	return -EINVAL;
}

/* A template from a spec array; internal lengths or the template's own. */
static fbTemplate_t *spec_template(fbInfoModel_t *model,
				   const fbInfoElementSpec_t *spec, int scope,
				   GError **err)
{
	fbTemplate_t *t = fbTemplateAlloc(model);

	if (!fbTemplateAppendSpecArray(t, (fbInfoElementSpec_t *)spec, 0, err)) {
		fbTemplateFreeUnused(t);
		return NULL;
	}
	if (scope)
		fbTemplateSetOptionsScope(t, scope);
	return t;
}

/* The data template of one IP version; internal = natural lengths;
 * with_dpi: the dpi elements after it (-D). */
static fbTemplate_t *data_template(struct encoder *enc, enum tmpl_af af,
				   bool internal, bool with_dpi, GError **err)
{
	fbTemplate_t *t = fbTemplateAlloc(enc->model);

	for (int i = 0; i < enc->tmpl->n[af]; i++) {
		const struct field_wire *e = &enc->tmpl->elems[af][i];
		fbInfoElementSpec_t spec = {
			(char *)enc->tmpl->names[af][i], internal ? e->def->len : e->len, 0
		};

		if (!fbTemplateAppendSpec(t, &spec, 0, err)) {
			fbTemplateFreeUnused(t);
			return NULL;
		}
	}
	if (with_dpi && !export_dpi_append(t, err)) {
		fbTemplateFreeUnused(t);
		return NULL;
	}
	return t;
}

/* Registers a template as both internal and external under tid. */
static gboolean add_pair(fbSession_t *s, __u16 tid, fbTemplate_t *in,
			 fbTemplate_t *ex, GError **err)
{
	if (!in || !ex)
		return FALSE;
	return fbSessionAddTemplate(s, TRUE, tid, in, err) &&
	       fbSessionAddTemplate(s, FALSE, tid, ex, err);
}

/* A fresh session (sequence numbers 0) with the data templates in the
 * flow records' domain and the options templates in OPTIONS_DOMAIN. */
static int ipfix_build(struct encoder *enc)
{
	fbSession_t *s = fbSessionAlloc(enc->model);
	fbExporter_t *x;
	GError *err = NULL;

	/* external templates belong to the domain current when added */
	fbSessionSetDomain(s, enc->domain);
	if (!add_pair(s, TID_DATA_IPV4, data_template(enc, TMPL_IPV4, true, false, &err),
		      data_template(enc, TMPL_IPV4, false, false, &err), &err) ||
	    !add_pair(s, TID_DATA_IPV6, data_template(enc, TMPL_IPV6, true, false, &err),
		      data_template(enc, TMPL_IPV6, false, false, &err), &err)) {
		fbSessionFree(s);
		return gerr("cannot build templates", err);
	}
	if (enc->dpi &&
	    (!add_pair(s, TID_DPI_IPV4, data_template(enc, TMPL_IPV4, true, true, &err),
		       data_template(enc, TMPL_IPV4, false, true, &err), &err) ||
	     !add_pair(s, TID_DPI_IPV6, data_template(enc, TMPL_IPV6, true, true, &err),
		       data_template(enc, TMPL_IPV6, false, true, &err), &err) ||
	     !add_pair(s, TID_OPT_APPS,
		       spec_template(enc->model, export_dpi_apps_spec, 1, &err),
		       spec_template(enc->model, export_dpi_apps_spec, 1, &err), &err))) {
		fbSessionFree(s);
		return gerr("cannot build templates", err);
	}
	if (enc->sampling &&
	    !add_pair(s, TID_OPT_SAMPLING,
		      spec_template(enc->model, sampling_spec, 1, &err),
		      spec_template(enc->model, sampling_spec, 1, &err), &err)) {
		fbSessionFree(s);
		return gerr("cannot build templates", err);
	}
	fbSessionSetDomain(s, OPTIONS_DOMAIN);
	if (!add_pair(s, TID_OPT_STATS, spec_template(enc->model, stats_spec, 1, &err),
		      spec_template(enc->model, stats_spec, 1, &err), &err) ||
	    !add_pair(s, TID_OPT_IFACE, spec_template(enc->model, iface_spec, 1, &err),
		      spec_template(enc->model, iface_spec, 1, &err), &err)) {
		fbSessionFree(s);
		return gerr("cannot build templates", err);
	}
	fbSessionSetDomain(s, enc->domain);
	x = fbExporterAllocBuffer(enc->m.buf, enc->m.max);
	enc->fbuf = fBufAllocForExport(s, x);
	fBufSetAutomaticMode(enc->fbuf, FALSE);
	enc->cur_tid = 0;
	enc->dirty = false;
	enc->m.len = enc->m.set_start = 0;
	return 0;
}

static void ipfix_destroy(struct encoder *enc)
{
	if (!enc)
		return;
	if (enc->fbuf)
		fBufFree(enc->fbuf);
	if (enc->model)
		fbInfoModelFree(enc->model);
	free(enc->rec);
	free(enc->m.buf);
	free(enc);
}

static int check_fit(const struct encoder *enc);

static int ipfix_create(struct encoder **out, const struct config *cfg,
			const struct export_template *t, size_t max_msg)
{
	struct encoder *enc = calloc(1, sizeof(*enc));
	size_t rec_len;
	int err;

	if (!enc)
		return -ENOMEM;
	rec_len = t->host_len[0] > t->host_len[1] ? t->host_len[0] : t->host_len[1];
	enc->tmpl = t;
	enc->domain = cfg->observation_domain;
	enc->sampling = cfg->sample_rate > 1;
	enc->dpi = cfg->dpi;
	enc->m.max = max_msg;
	enc->m.hdr_len = IPFIX_HEADER_LEN;
	enc->m.align = 1; /* IPFIX sets need no padding (RFC 7011 3.3.1) */
	enc->model = fbInfoModelAlloc();
	if (enc->dpi) {
		export_dpi_model(enc->model);
		rec_len += export_dpi_host_len();
	}
	enc->rec = calloc(1, rec_len + sizeof(struct iface_rec));
	enc->m.buf = calloc(1, max_msg);
	if (!enc->rec || !enc->m.buf) {
		ipfix_destroy(enc);
		return -ENOMEM;
	}
	err = check_fit(enc);
	if (!err)
		err = ipfix_build(enc);
	if (err) {
		ipfix_destroy(enc);
		return err;
	}
	*out = enc;
	return 0;
}

static int ipfix_reset(struct encoder *enc)
{
	fBufFree(enc->fbuf);
	enc->fbuf = NULL;
	return ipfix_build(enc);
}

/* libfixbuf's "message full" is ours to handle; anything else is a bug. */
static int append_result(GError *err, const char *what)
{
	if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
		pr_debug("IPFIX: %s: %s\n", what, err->message);
		g_clear_error(&err);
		return -ENOBUFS;
	}
	return gerr(what, err);
}

/* Messages carry one domain: switch only between messages (-ENOBUFS asks
 * the caller to close the open one first). */
static int use_domain(struct encoder *enc, __u32 domain)
{
	fbSession_t *s = fBufGetSession(enc->fbuf);

	if (fbSessionGetDomain(s) == domain)
		return 0;
	if (enc->dirty || enc->m.len)
		return -ENOBUFS;
	fbSessionSetDomain(s, domain);
	enc->cur_tid = 0; /* export templates are per domain */
	return 0;
}

static int use_template(struct encoder *enc, __u16 tid)
{
	GError *err = NULL;

	if (enc->cur_tid == tid)
		return 0;
	if (!fBufSetInternalTemplate(enc->fbuf, tid, &err) ||
	    !fBufSetExportTemplate(enc->fbuf, tid, &err))
		return gerr("cannot select template", err);
	enc->cur_tid = tid;
	return 0;
}

static int append(struct encoder *enc, __u16 tid, void *rec, size_t len)
{
	GError *err = NULL;
	int ret = use_template(enc, tid);

	if (ret)
		return ret;
	if (!fBufAppend(enc->fbuf, rec, len, &err))
		return append_result(err, "cannot append record");
	enc->dirty = true;
	return 0;
}

/* The data templates (the options templates go with the options). */
static int ipfix_add_templates(struct encoder *enc)
{
	GError *err = NULL;
	int ret = enc->m.len ? -ENOBUFS : use_domain(enc, enc->domain);

	if (ret)
		return ret;
	if (!fbSessionExportTemplates(fBufGetSession(enc->fbuf), &err))
		return append_result(err, "cannot export templates");
	enc->dirty = true;
	return 0;
}

/* A data record into the message built here, in a set of its template
 * (a new one when the template changes, as libfixbuf does). */
static int own_add_record(struct encoder *enc, const struct flow_record *rec,
			  enum tmpl_af af)
{
	__u8 *p;

	/* a libfixbuf message is open (templates, options): close it first */
	if (enc->dirty)
		return -ENOBUFS;
	if (!enc->m.len)
		enc->own_records = 0;
	if (wire_reserve(&enc->m, af == TMPL_IPV4 ? TID_DATA_IPV4 : TID_DATA_IPV6,
			 enc->tmpl->wire_len[af]))
		return -ENOBUFS;
	p = fields_put_wire(enc->tmpl->elems[af], enc->tmpl->n[af], rec,
			    enc->m.buf + enc->m.len);
	enc->m.len = p - enc->m.buf;
	enc->own_records++;
	return 0;
}

/* The message built here, finished: header, sequence number (the
 * domain's data records before it, as libfixbuf counts them) and the
 * count advanced by its records. */
static size_t own_finish(struct encoder *enc)
{
	fbSession_t *s = fBufGetSession(enc->fbuf);
	uint32_t seq = fbSessionGetSequence(s);
	size_t len;

	wire_close_set(&enc->m);
	len = enc->m.len;
	put16(enc->m.buf, IPFIX_VERSION);
	put16(enc->m.buf + 2, len);
	put32(enc->m.buf + 4, time(NULL));
	put32(enc->m.buf + 8, seq);
	put32(enc->m.buf + 12, enc->domain);
	fbSessionSetSequence(s, seq + enc->own_records);
	enc->m.len = 0;
	return len;
}

static int ipfix_add_record(struct encoder *enc, const struct flow_record *rec)
{
	enum tmpl_af af = template_af(rec->key.ip_version);
	const struct field_wire *e = enc->tmpl->elems[af];
	__u8 *p = enc->rec;
	int ret = use_domain(enc, enc->domain);

	if (ret)
		return ret;
	if (!enc->dpi)
		return own_add_record(enc, rec, af);
	for (int i = 0; i < enc->tmpl->n[af]; i++)
		p += field_put_host(e[i].def, rec, e[i].reverse, p);
	if (rec->dpi && rec->dpi->app) {
		/* a record must fit an empty message: the strings get what
		 * is left (IPFIX and set headers, the flow's elements) */
		size_t used = 16 + 4 + enc->tmpl->wire_len[af];

		p += export_dpi_put(rec->dpi, p,
				    enc->m.max > used ? enc->m.max - used : 0);
		return append(enc, af == TMPL_IPV4 ? TID_DPI_IPV4 : TID_DPI_IPV6,
			      enc->rec, p - enc->rec);
	}
	return append(enc, af == TMPL_IPV4 ? TID_DATA_IPV4 : TID_DATA_IPV6,
		      enc->rec, p - enc->rec);
}

static int export_template(struct encoder *enc, __u16 tid)
{
	fbSession_t *s = fBufGetSession(enc->fbuf);
	GError *err = NULL;
	gboolean ok = fbSessionExportTemplate(s, tid, &err);

	/* in an empty message, libfixbuf's "end of message" only marks the
	 * switch to templates: ask again rather than send an empty message */
	if (!ok && !enc->dirty &&
	    g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
		g_clear_error(&err);
		ok = fbSessionExportTemplate(s, tid, &err);
	}
	if (!ok)
		return append_result(err, "cannot export options template");
	enc->dirty = true;
	return 0;
}

/*
 * Options go in OPTIONS_DOMAIN, in steps (*done): 0 = both options
 * templates, 1 = statistics, 2.. = the interfaces. The templates share one
 * set, the interfaces' first: nfdump reads only the first template of an
 * options template set, and needs no other. Then, with --sample N > 1,
 * the sampling record in the flow records' domain (its template travels
 * with the data templates).
 */
static int ipfix_add_options(struct encoder *enc, const struct export_options *o,
			     int *done)
{
	int err = enc->m.len ? -ENOBUFS : use_domain(enc, OPTIONS_DOMAIN);

	if (err)
		return err;
	if (*done == 0) {
		if (o->n_ifaces)
			err = export_template(enc, TID_OPT_IFACE);
		if (!err)
			err = export_template(enc, TID_OPT_STATS);
		if (err)
			return err;
		/* libfixbuf ends the template set only when the export
		 * template changes: had the last message's last record the
		 * template of the next one (no flow record goes through
		 * libfixbuf in between), that record would join the template
		 * set. Both are in this domain; the record's comes last. */
		if (!fBufSetExportTemplate(enc->fbuf, TID_OPT_IFACE, NULL) ||
		    !fBufSetExportTemplate(enc->fbuf, TID_OPT_STATS, NULL))
			return gerr("cannot select template", NULL);
		enc->cur_tid = 0;
		(*done)++;
	}
	if (*done == 1) {
		struct stats_rec s = {
			.domain = o->domain, .messages = o->messages,
			.records = o->records, .octets = o->octets,
			.not_metered = o->packets_not_metered,
			.not_sent = o->flows_not_sent, .boot_ms = o->boot_ms,
			.exporter_v4 = (__u32)o->exporter_v4[0] << 24 |
				       o->exporter_v4[1] << 16 |
				       o->exporter_v4[2] << 8 | o->exporter_v4[3],
			.pid = o->pid,
			/* 1:N as 1 packet metered, N - 1 left out */
			.sampling_interval = o->sample_rate,
			.packet_interval = 1,
			.packet_space = o->sample_rate - 1,
			.sampling_algorithm = sampling_algorithm(o->sample_rate),
		};

		memcpy(s.exporter_v6, o->exporter_v6, 16);

		err = append(enc, TID_OPT_STATS, (__u8 *)&s, sizeof(s));
		if (!err)
			(*done)++;
	}
	while (!err && *done <= o->n_ifaces + 1) {
		int i = *done - 2;
		struct iface_rec r = { .ifindex = o->ifindex[i] };

		memcpy(r.name, o->ifname[i], sizeof(r.name));
		iface_description(o, i, r.desc);
		err = append(enc, TID_OPT_IFACE, (__u8 *)&r, sizeof(r));
		if (!err)
			(*done)++;
	}
	if (!err && enc->sampling && *done == o->n_ifaces + 2) {
		struct sampling_rec s = {
			.domain = enc->domain,
			.sampling_interval = o->sample_rate,
			.packet_interval = 1,
			.packet_space = o->sample_rate - 1,
			.sampling_algorithm = sampling_algorithm(o->sample_rate),
		};

		err = use_domain(enc, enc->domain);
		if (!err)
			err = append(enc, TID_OPT_SAMPLING, (__u8 *)&s, sizeof(s));
		if (!err)
			(*done)++;
	}
	/* -D: one record per application, in the flow records' domain (their
	 * template travels with the data templates) */
	for (int first = o->n_ifaces + 2 + enc->sampling;
	     !err && enc->dpi && *done >= first && *done < first + DPI_APP_MAX - 1;) {
		struct dpi_app_rec a;

		export_dpi_app_rec(enc->domain, *done - first + 1, &a);
		err = use_domain(enc, enc->domain);
		if (!err)
			err = append(enc, TID_OPT_APPS, (__u8 *)&a, sizeof(a));
		if (!err)
			(*done)++;
	}
	return err;
}

static int ipfix_finish(struct encoder *enc, const __u8 **msg, size_t *len)
{
	GError *err = NULL;

	*msg = enc->m.buf;
	*len = 0;
	if (enc->m.len) {
		*len = own_finish(enc);
		return 0;
	}
	if (!enc->dirty)
		return 0;
	if (!fBufEmit(enc->fbuf, &err))
		return gerr("cannot close message", err);
	enc->dirty = false;
	enc->cur_tid = 0; /* a new message opens a new set */
	*len = fbExporterGetMsgLen(fBufGetExporter(enc->fbuf));
	return 0;
}

#define PROBE_MSG_LEN 65535

/*
 * Refuses a --max-message-size that cannot carry what must travel alone:
 * the data templates (one message), the options templates with the
 * statistics and one interface, a data record. The sizes are measured by
 * encoding them with libfixbuf into a message of the largest size, so the
 * smallest size that works is exact, not estimated.
 */
static int check_fit(const struct encoder *enc)
{
	struct encoder probe = *enc;
	struct export_options o = { .n_ifaces = 1 };
	size_t tmpl = 0, opts = 0, rec = 0, len = 0, need;
	const __u8 *msg;
	int done = 0, err;

	probe.m.buf = calloc(1, PROBE_MSG_LEN);
	probe.m.max = PROBE_MSG_LEN;
	if (!probe.m.buf)
		return -ENOMEM;
	/* libfixbuf answers "end of message" once when a message turns to
	 * templates (export.c retries in the same way): ask twice */
	err = ipfix_build(&probe);
	if (!err && (err = ipfix_add_templates(&probe)) == -ENOBUFS)
		err = ipfix_add_templates(&probe);
	if (!err)
		err = ipfix_finish(&probe, &msg, &tmpl);
	/* the options take one message a domain (the sampling record goes
	 * in the flow records'): the largest is what must fit */
	while (!err) {
		int before = done;

		err = ipfix_add_options(&probe, &o, &done);
		if (err != -ENOBUFS || done == before)
			break;
		err = ipfix_finish(&probe, &msg, &len);
		opts = len > opts ? len : opts;
	}
	if (!err)
		err = ipfix_finish(&probe, &msg, &len);
	opts = len > opts ? len : opts;
	if (probe.fbuf)
		fBufFree(probe.fbuf);
	free(probe.m.buf);
	if (err)
		return gerr("cannot measure the templates", NULL);
	for (int af = 0; af < TMPL_AF_MAX; af++)
		if (IPFIX_HEADER_LEN + 4 + enc->tmpl->wire_len[af] > rec)
			rec = IPFIX_HEADER_LEN + 4 + enc->tmpl->wire_len[af];
	need = tmpl > opts ? tmpl : opts;
	need = need > rec ? need : rec;
	if (need <= enc->m.max)
		return 0;
	pr_warn("template %s does not fit --max-message-size %zu in IPFIX: its templates take %zu bytes, the options %zu and a record %zu; the smallest size that works is %zu\n",
		enc->tmpl->path, enc->m.max, tmpl, opts, rec, need);
	return -EMSGSIZE;
}

const struct encoder_ops ipfix_encoder_ops = {
	.name = "IPFIX",
	.create = ipfix_create,
	.destroy = ipfix_destroy,
	.reset = ipfix_reset,
	.add_templates = ipfix_add_templates,
	.add_record = ipfix_add_record,
	.add_options = ipfix_add_options,
	.finish = ipfix_finish,
};
