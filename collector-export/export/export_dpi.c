// SPDX-License-Identifier: GPL-2.0
/*
 * export_dpi.c - the -D results in IPFIX, flat after the flow's elements:
 *   applicationId (95) and the IANA HTTP elements (457, 459-461, 468);
 *   YAF's DNS and TLS elements under CERT's PEN 6871 (dnsQName 179,
 *   dnsQRType 175, dnsNXDomain 177 carrying the response code,
 *   sslServerName 294, sslRecordVersion 288) as cert_ipfix.xml defines
 *   them, so that ipfixDump --yaf, super_mediator and SiLK decode them;
 *   what CERT lacks, as ipfixprobe exports it: DNS answer count (8057/14),
 *   QUIC version (8057/892), TLS ALPN (39499/337). JA4 has no element in
 *   any open probe: JSON only.
 * Strings are variable-length (one length byte when short), bounded by
 * struct dpi_info.
 */
#include <stdio.h>
#include <string.h>
#include "export_dpi.h"

#define PEN_CERT 6871
#define PEN_CESNET 8057
#define PEN_FLOWMON 39499

static fbInfoElement_t extra_elements[] = {
	FB_IE_INIT_FULL("dnsQName", PEN_CERT, 179, FB_IE_VARLEN, 0, 0, 0,
			FB_STRING, NULL),
	FB_IE_INIT_FULL("dnsQRType", PEN_CERT, 175, 2, FB_IE_F_ENDIAN, 0, 0,
			FB_UINT_16, NULL),
	FB_IE_INIT_FULL("dnsNXDomain", PEN_CERT, 177, 1, FB_IE_F_ENDIAN, 0, 0,
			FB_UINT_8, NULL),
	FB_IE_INIT_FULL("sslServerName", PEN_CERT, 294, FB_IE_VARLEN, 0, 0, 0,
			FB_STRING, NULL),
	FB_IE_INIT_FULL("sslRecordVersion", PEN_CERT, 288, 2, FB_IE_F_ENDIAN,
			0, 0, FB_UINT_16, NULL),
	FB_IE_INIT_FULL("dnsAnswerCount", PEN_CESNET, 14, 2, FB_IE_F_ENDIAN,
			0, 0, FB_UINT_16, NULL),
	FB_IE_INIT_FULL("quicVersion", PEN_CESNET, 892, 4, FB_IE_F_ENDIAN, 0,
			0, FB_UINT_32, NULL),
	FB_IE_INIT_FULL("tlsAlpn", PEN_FLOWMON, 337, FB_IE_VARLEN, 0, 0, 0,
			FB_STRING, NULL),
	FB_IE_NULL
};

/* In template order; the internal layout below follows it. */
static const fbInfoElementSpec_t dpi_spec[] = {
	{ "applicationId", DPI_APP_ID_LEN, 0 },
	{ "httpRequestMethod", FB_IE_VARLEN, 0 },
	{ "httpRequestHost", FB_IE_VARLEN, 0 },
	{ "httpRequestTarget", FB_IE_VARLEN, 0 },
	{ "httpUserAgent", FB_IE_VARLEN, 0 },
	{ "httpStatusCode", 2, 0 },
	{ "dnsQName", FB_IE_VARLEN, 0 },
	{ "dnsQRType", 2, 0 },
	{ "dnsNXDomain", 1, 0 },
	{ "dnsAnswerCount", 2, 0 },
	{ "sslServerName", FB_IE_VARLEN, 0 },
	{ "sslRecordVersion", 2, 0 },
	{ "tlsAlpn", FB_IE_VARLEN, 0 },
	{ "quicVersion", 4, 0 },
	FB_IESPEC_NULL
};

const fbInfoElementSpec_t export_dpi_apps_spec[] = {
	{ "observationDomainId", 4, 0 },
	{ "applicationId", DPI_APP_ID_LEN, 0 },
	{ "applicationName", DPI_APP_NAME_LEN, 0 },
	{ "applicationDescription", DPI_APP_DESC_LEN, 0 },
	FB_IESPEC_NULL
};

void export_dpi_model(fbInfoModel_t *model)
{
	if (!fbInfoModelGetElementByName(model, "dnsQName"))
		fbInfoModelAddElementArray(model, extra_elements);
}

gboolean export_dpi_append(fbTemplate_t *t, GError **err)
{
	return fbTemplateAppendSpecArray(t, (fbInfoElementSpec_t *)dpi_spec, 0,
					 err);
}

/* A string of at most *budget bytes (it takes what it uses). */
static __u8 *put_var(__u8 *p, const char *s, size_t *budget)
{
	fbVarfield_t v = { .len = strlen(s), .buf = (uint8_t *)s };

	if (v.len > *budget)
		v.len = *budget;
	*budget -= v.len;
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static __u8 *put_uint(__u8 *p, __u64 v, int len)
{
	switch (len) {
	case 1: *p = v; break;
	case 2: { __u16 x = v; memcpy(p, &x, 2); break; }
	default: { __u32 x = v; memcpy(p, &x, 4); break; }
	}
	return p + len;
}

void export_dpi_app_id(__u8 app, __u8 out[DPI_APP_ID_LEN])
{
	if (!app) { /* nothing found: no engine, no selector */
		memset(out, 0, DPI_APP_ID_LEN);
		return;
	}
	out[0] = DPI_APP_ENGINE;
	out[1] = 0;
	out[2] = 0;
	out[3] = app;
}

/* The strings point into d: the record must be appended before d goes.
 * The names come first, the long free-form strings (target, user agent)
 * last, so that a cut for room takes from those. */
size_t export_dpi_put(const struct dpi_info *d, __u8 *out, size_t room)
{
	size_t budget = room > DPI_FIXED_WIRE ? room - DPI_FIXED_WIRE : 0;
	__u8 *p = out, *method, *target, *ua;

	export_dpi_app_id(d->app, p);
	p += DPI_APP_ID_LEN;
	/* slots first, values in order of importance */
	method = p;
	p += 4 * sizeof(fbVarfield_t);
	p = put_uint(p, d->http_status, 2);
	p = put_var(p, d->dns_qname, &budget);
	p = put_uint(p, d->dns_qtype, 2);
	p = put_uint(p, d->dns_rcode, 1);
	p = put_uint(p, d->dns_answers, 2);
	p = put_var(p, d->tls_sni, &budget);
	p = put_uint(p, d->tls_version, 2);
	p = put_var(p, d->tls_alpn, &budget);
	p = put_uint(p, d->quic_version, 4);
	target = put_var(put_var(method, d->http_method, &budget),
			 d->http_host, &budget);
	ua = put_var(target, d->http_target, &budget);
	put_var(ua, d->http_user_agent, &budget);
	return p - out;
}

size_t export_dpi_host_len(void)
{
	return DPI_APP_ID_LEN + 7 * sizeof(fbVarfield_t) + 2 + 2 + 1 + 2 + 2 + 4;
}

void export_dpi_app_rec(__u32 domain, __u8 app, struct dpi_app_rec *r)
{
	static const char *const desc[DPI_APP_MAX] = {
		[DPI_APP_DNS] = "Domain Name System",
		[DPI_APP_HTTP] = "Hypertext Transfer Protocol 1.x",
		[DPI_APP_TLS] = "Transport Layer Security",
		[DPI_APP_QUIC] = "QUIC",
	};

	memset(r, 0, sizeof(*r));
	r->domain = domain;
	export_dpi_app_id(app, r->id);
	snprintf(r->name, sizeof(r->name), "%s", dpi_app_name(app));
	if (app < DPI_APP_MAX && desc[app])
		snprintf(r->desc, sizeof(r->desc), "%s", desc[app]);
}
