// SPDX-License-Identifier: GPL-2.0
/* dpi_output.c - the -D results of a record as JSON keys (-j). */
#include <stdio.h>
#include "dpi_output.h"

/* Strings hold printable ASCII only (dpi_copy_str): escape '"' and '\'. */
static void json_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":\"", key);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void dpi_write_json(FILE *f, const struct dpi_info *d)
{
	if (!d->app)
		return;
	json_str(f, "applicationName", dpi_app_name(d->app));
	if (d->has & DPI_HAS_DNS_QUERY) {
		json_str(f, "dnsQueryName", d->dns_qname);
		fprintf(f, ",\"dnsQueryType\":%u", d->dns_qtype);
	}
	if (d->has & DPI_HAS_DNS_RESPONSE)
		fprintf(f, ",\"dnsResponseCode\":%u,\"dnsAnswerCount\":%u",
			d->dns_rcode, d->dns_answers);
	if (d->has & DPI_HAS_HTTP_REQUEST) {
		json_str(f, "httpRequestMethod", d->http_method);
		json_str(f, "httpRequestHost", d->http_host);
		json_str(f, "httpRequestTarget", d->http_target);
		json_str(f, "httpUserAgent", d->http_user_agent);
	}
	if (d->has & DPI_HAS_HTTP_RESPONSE)
		fprintf(f, ",\"httpStatusCode\":%u", d->http_status);
	if (d->has & DPI_HAS_TLS_HELLO) {
		json_str(f, "tlsServerName", d->tls_sni);
		fprintf(f, ",\"tlsVersion\":%u", d->tls_version);
		json_str(f, "tlsAlpn", d->tls_alpn);
		json_str(f, "tlsJa4", d->tls_ja4);
	}
	if (d->has & DPI_HAS_QUIC)
		fprintf(f, ",\"quicVersion\":%u", d->quic_version);
}
