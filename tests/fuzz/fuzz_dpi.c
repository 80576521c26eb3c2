// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_dpi - the -D payload parsers on arbitrary bytes. The first byte
 * picks the way in: 0 DNS/UDP, 1 DNS/TCP, 2 HTTP, 3 TLS records, 4 a bare
 * ClientHello (QUIC's way), 5 QUIC, 6 the table (dpi_table_feed), the
 * input split into two TCP segments of one flow, the guess from byte 1.
 * What must hold: only the documented results; on success every string
 * is NUL-terminated inside its field and printable; through the table, a
 * payload that gives no result keeps nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dpi.h"
#include "fuzz.h"

static void check_str(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	FUZZ_CHECK(n < size);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

static void check_info(const struct dpi_info *d)
{
	check_str(d->dns_qname, sizeof(d->dns_qname));
	check_str(d->http_method, sizeof(d->http_method));
	check_str(d->http_host, sizeof(d->http_host));
	check_str(d->http_target, sizeof(d->http_target));
	check_str(d->http_user_agent, sizeof(d->http_user_agent));
	check_str(d->tls_sni, sizeof(d->tls_sni));
	check_str(d->tls_alpn, sizeof(d->tls_alpn));
	check_str(d->tls_ja4, sizeof(d->tls_ja4));
	FUZZ_CHECK(d->app < DPI_APP_MAX);
}

static void through_table(const uint8_t *data, size_t size)
{
	struct dpi_table *t = dpi_table_new(4);
	struct dpi_event *ev = calloc(1, sizeof(*ev));
	size_t len = size - 1, half = len / 2, parts[2] = { half, len - half };
	const struct dpi_stats *st;

	FUZZ_CHECK(t && ev);
	ev->key.protocol = data[0] & 1 ? 6 : 17;
	ev->key.dst_port = 443;
	ev->app = data[0] % DPI_APP_MAX;
	ev->tcp_seq = 7;
	for (int i = 0; i < 2; i++) {
		size_t n = parts[i] < DPI_SNAP_MAX ? parts[i] : DPI_SNAP_MAX;

		memcpy(ev->data, data + 1 + (i ? half : 0), n);
		ev->snap_len = ev->payload_len = n;
		dpi_table_feed(t, ev);
		ev->tcp_seq += n;
	}
	st = dpi_table_stats(t);
	FUZZ_CHECK(st->events == 2);
	if (dpi_table_find(t, &ev->key))
		check_info(dpi_table_find(t, &ev->key));
	else
		FUZZ_CHECK(st->found[ev->app] == 0 || ev->app == DPI_APP_NONE);
	free(ev);
	dpi_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct dpi_info d;
	int err;

	if (size < 2 || size > 1 << 16)
		return 0;
	if (!quiet) { /* once: the parsers log nothing per input */
		fuzz_quiet_log();
		quiet = true;
	}
	memset(&d, 0, sizeof(d));
	switch (data[0] % 7) {
	case 0: err = dpi_dns_parse(data + 1, size - 1, false, &d); break;
	case 1: err = dpi_dns_parse(data + 1, size - 1, true, &d); break;
	case 2: err = dpi_http_parse(data + 1, size - 1, &d); break;
	case 3: err = dpi_tls_parse(data + 1, size - 1, &d); break;
	case 4: err = dpi_tls_client_hello(data + 1, size - 1, true, &d); break;
	case 5: err = dpi_quic_parse(data + 1, size - 1, &d); break;
	default:
		through_table(data + 1, size - 1);
		return 0;
	}
	FUZZ_CHECK(err == 0 || err == -ENOMSG || err == -EBADMSG ||
		   err == -EAGAIN);
	if (!err)
		check_info(&d);
	return 0;
}
