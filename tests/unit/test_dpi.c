// SPDX-License-Identifier: GPL-2.0
/*
 * test_dpi - the -D payload parsers on real message bytes: DNS (UDP, TCP,
 * compression), HTTP requests and responses, a TLS ClientHello against
 * the JA4 specification's published example, the RFC 9001 A.2 client
 * Initial (keys from its connection id, header protection, AES-GCM), and
 * hostile input: pointer loops, oversized labels, a hello cut at every
 * length, lying extension lengths, lines without an end, garbage. A
 * malformed payload gives -EBADMSG and changes nothing in the table.
 *   test_dpi DATA_DIR   (tests/unit/data)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dpi.h"
#include "dpi_bytes.h"
#include "tap.h"

static const char *data_dir = "tests/unit/data";

#define CHECK_STR(what, got, want) \
	CHECK(!strcmp((got), (want)), "%s: got '%s', want '%s'", what, got, want)

/* "www.example.com" AAAA query, id 0x1234, RD */
static size_t dns_query(__u8 *p)
{
	static const __u8 q[] = {
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0x00, 0x1c, 0x00, 0x01,
	};

	memcpy(p, q, sizeof(q));
	return sizeof(q);
}

static void test_dns(void)
{
	__u8 p[512];
	struct dpi_info d;
	size_t n = dns_query(p), m;

	memset(&d, 0, sizeof(d));
	CHECK_EQ("query parses", dpi_dns_parse(p, n, false, &d), 0);
	CHECK_STR("qname", d.dns_qname, "www.example.com");
	CHECK_EQ("qtype", d.dns_qtype, 28);
	CHECK_EQ("no response part", d.has & DPI_HAS_DNS_RESPONSE, 0);
	tap_result("dns: a query's name and type");

	/* response, NXDOMAIN... no: NOERROR with 2 answers named by pointer */
	p[2] = 0x81; p[3] = 0x80; p[7] = 2;
	m = n;
	for (int a = 0; a < 2; a++) {
		static const __u8 rr[] = { 0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16 };

		memcpy(p + m, rr, sizeof(rr));
		m += sizeof(rr);
		memset(p + m, 0x20 + a, 16);
		m += 16;
	}
	memset(&d, 0, sizeof(d));
	CHECK_EQ("response parses", dpi_dns_parse(p, m, false, &d), 0);
	CHECK_EQ("rcode", d.dns_rcode, 0);
	CHECK_EQ("answers", d.dns_answers, 2);
	CHECK_STR("qname", d.dns_qname, "www.example.com");
	p[3] = 0x83; /* NXDOMAIN */
	memset(&d, 0, sizeof(d));
	dpi_dns_parse(p, m, false, &d);
	CHECK_EQ("rcode 3", d.dns_rcode, 3);
	tap_result("dns: a response's code and answer count");

	{ /* over TCP: a two-byte length first */
		__u8 t[514];

		t[0] = 0;
		t[1] = n;
		memcpy(t + 2, p, n);
		t[4] = 0x01; t[5] = 0x00; /* back to a query */
		memset(&d, 0, sizeof(d));
		CHECK_EQ("tcp parses", dpi_dns_parse(t, n + 2, true, &d), 0);
		CHECK_STR("tcp qname", d.dns_qname, "www.example.com");
		tap_result("dns: over TCP");
	}

	/* a question name that is a pointer to itself, then forward */
	n = dns_query(p);
	p[12] = 0xc0; p[13] = 12;
	memset(&d, 0, sizeof(d));
	CHECK_EQ("self pointer", dpi_dns_parse(p, n, false, &d), -EBADMSG);
	p[13] = 20;
	CHECK_EQ("forward pointer", dpi_dns_parse(p, n, false, &d), -EBADMSG);
	CHECK_EQ("nothing kept", d.has, 0);
	tap_result("dns: compression pointer loops are malformed");

	n = dns_query(p);
	p[12] = 64; /* label over 63 */
	CHECK_EQ("oversized label", dpi_dns_parse(p, n, false, &d), -EBADMSG);
	n = dns_query(p);
	for (size_t cut = 0; cut < n; cut++) {
		memset(&d, 0, sizeof(d));
		CHECK(dpi_dns_parse(p, cut, false, &d) == -EBADMSG,
		      "query cut at %zu not malformed", cut);
	}
	/* a name of 4 x 63 + dots > 255 */
	{
		__u8 big[600];
		size_t k = 12;

		memcpy(big, p, 12);
		for (int l = 0; l < 5; l++) {
			big[k++] = 63;
			memset(big + k, 'a', 63);
			k += 63;
		}
		big[k++] = 0;
		big[k++] = 0; big[k++] = 1; big[k++] = 0; big[k++] = 1;
		CHECK_EQ("name over 255", dpi_dns_parse(big, k, false, &d), -EBADMSG);
	}
	tap_result("dns: oversized labels and names, truncation at every length");
}

static void test_http(void)
{
	static const char get[] = "GET /a/b?c=d HTTP/1.1\r\nhost: web.example:8080\r\nUser-Agent:  curl/7.88.1 \r\nAccept: */*\r\n\r\n";
	static const char post[] = "POST /submit HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
	static const char resp[] = "HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\n\r\n";
	struct dpi_info d;

	memset(&d, 0, sizeof(d));
	CHECK_EQ("get", dpi_http_parse((const __u8 *)get, strlen(get), &d), 0);
	CHECK_STR("method", d.http_method, "GET");
	CHECK_STR("target", d.http_target, "/a/b?c=d");
	CHECK_STR("host", d.http_host, "web.example:8080");
	CHECK_STR("ua", d.http_user_agent, "curl/7.88.1");
	memset(&d, 0, sizeof(d));
	CHECK_EQ("post", dpi_http_parse((const __u8 *)post, strlen(post), &d), 0);
	CHECK_STR("method", d.http_method, "POST");
	CHECK_STR("host", d.http_host, "h");
	memset(&d, 0, sizeof(d));
	CHECK_EQ("response", dpi_http_parse((const __u8 *)resp, strlen(resp), &d), 0);
	CHECK_EQ("status", d.http_status, 301);
	tap_result("http: request method, target, host, user agent; response status");

	memset(&d, 0, sizeof(d));
	CHECK_EQ("no line end", dpi_http_parse((const __u8 *)"GET / HTTP/1.1", 14, &d), -EBADMSG);
	CHECK_EQ("no version", dpi_http_parse((const __u8 *)"GET /\r\n\r\n", 9, &d), -EBADMSG);
	CHECK_EQ("bad status", dpi_http_parse((const __u8 *)"HTTP/1.1 2x0 OK\r\n", 17, &d), -EBADMSG);
	CHECK_EQ("garbage", dpi_http_parse((const __u8 *)"\x00\x01\xff\xfe\x80garbage", 12, &d), -ENOMSG);
	CHECK_EQ("nothing kept", d.has, 0);
	for (size_t cut = 0; cut < strlen(get); cut++) {
		int err = dpi_http_parse((const __u8 *)get, cut, &d);

		CHECK(err == -EBADMSG || err == -ENOMSG || err == 0, "cut %zu: %d", cut, err);
		/* a request cut inside its headers still has its start line */
		if (!err)
			CHECK_STR("target", d.http_target, "/a/b?c=d");
	}
	tap_result("http: a start line without an end, a bad version or status, binary garbage");
}

static void test_tls(void)
{
	struct buf b;
	struct dpi_info d;
	int err;

	ja4_client_hello(&b, "tls.example");
	memset(&d, 0, sizeof(d));
	CHECK_EQ("hello parses", dpi_tls_parse(b.b, b.n, &d), 0);
	CHECK_STR("sni", d.tls_sni, "tls.example");
	CHECK_STR("alpn", d.tls_alpn, "h2,http/1.1");
	CHECK_EQ("version", d.tls_version, 0x0304);
	CHECK_STR("ja4", d.tls_ja4, JA4_EXAMPLE);
	CHECK_EQ("app", d.app, DPI_APP_TLS);
	tap_result("tls: SNI, ALPN, highest version and the JA4 of the specification's example (%s)", d.tls_ja4);

	for (size_t cut = 0; cut < b.n; cut++) {
		memset(&d, 0, sizeof(d));
		err = dpi_tls_parse(b.b, cut, &d);
		CHECK(err == -EAGAIN || err == -ENOMSG || err == -EBADMSG,
		      "hello cut at %zu of %zu: %d", cut, b.n, err);
	}
	tap_result("tls: a ClientHello cut at every length is never read as whole");

	/* lying lengths: the SNI extension claims more than there is */
	ja4_client_hello(&b, "tls.example");
	for (size_t i = 0; i + 4 < b.n; i++)
		if (b.b[i] == 0 && b.b[i + 1] == 0 && b.b[i + 2] == 0 &&
		    b.b[i + 3] == 16) { /* type 0, length 16 */
			b.b[i + 3] = 0xf0;
			break;
		}
	memset(&d, 0, sizeof(d));
	CHECK_EQ("lying extension", dpi_tls_parse(b.b, b.n, &d), -EBADMSG);
	ja4_client_hello(&b, "tls.example");
	b.b[5 + 4 + 2 + 32 + 1 + 32 + 1] ^= 0x01; /* cipher list length odd */
	CHECK_EQ("odd cipher list", dpi_tls_parse(b.b, b.n, &d), -EBADMSG);
	CHECK_EQ("nothing kept", d.has, 0);
	tap_result("tls: lying extension and list lengths are malformed");

	/* across two segments through the table */
	{
		struct dpi_table *t = dpi_table_new(16);
		struct dpi_event *ev = calloc(1, sizeof(*ev));
		const struct dpi_info *got;
		size_t half;

		ja4_client_hello(&b, "two.example");
		half = b.n / 2;
		ev->key.protocol = 6;
		ev->key.dst_port = 443;
		ev->app = DPI_APP_TLS;
		ev->tcp_seq = 1000;
		ev->payload_len = ev->snap_len = half;
		memcpy(ev->data, b.b, half);
		dpi_table_feed(t, ev);
		CHECK(dpi_table_find(t, &ev->key) == NULL, "half a hello gave a result");
		ev->tcp_seq = 1000 + half;
		ev->payload_len = ev->snap_len = b.n - half;
		memcpy(ev->data, b.b + half, b.n - half);
		dpi_table_feed(t, ev);
		got = dpi_table_find(t, &ev->key);
		CHECK(got != NULL, "no result from the two halves");
		if (got)
			CHECK_STR("sni", got->tls_sni, "two.example");
		CHECK_EQ("malformed", dpi_table_stats(t)->malformed[DPI_APP_TLS], 0);
		free(ev);
		dpi_table_free(t);
	}
	tap_result("tls: a ClientHello over two TCP segments");
}

static void test_quic(void)
{
	__u8 pkt[1500];
	char path[512];
	struct dpi_info d;
	size_t n;

	snprintf(path, sizeof(path), "%s/rfc9001-a2-client-initial.hex", data_dir);
	n = rfc9001_client_initial(path, pkt, sizeof(pkt));
	CHECK_EQ("packet bytes", n, 1200);
	memset(&d, 0, sizeof(d));
	CHECK_EQ("initial parses", dpi_quic_parse(pkt, n, &d), 0);
	CHECK_EQ("version", d.quic_version, 1);
	CHECK_STR("sni", d.tls_sni, "example.com");
	CHECK_EQ("tls version", d.tls_version, 0x0304);
	CHECK(!strncmp(d.tls_ja4, "q13d", 4), "ja4 '%s' is not QUIC TLS 1.3 with SNI", d.tls_ja4);
	CHECK_EQ("app", d.app, DPI_APP_QUIC);
	tap_result("quic: RFC 9001 A.2 client Initial decrypted: version 1, SNI example.com, JA4 %s", d.tls_ja4);

	pkt[600] ^= 0x40; /* the tag no longer verifies: version only */
	memset(&d, 0, sizeof(d));
	CHECK_EQ("damaged", dpi_quic_parse(pkt, n, &d), 0);
	CHECK_EQ("version", d.quic_version, 1);
	CHECK_EQ("no hello", d.has & DPI_HAS_TLS_HELLO, 0);
	pkt[600] ^= 0x40;
	for (size_t cut = 0; cut < n; cut += 7) {
		int err;

		memset(&d, 0, sizeof(d));
		err = dpi_quic_parse(pkt, cut, &d);
		CHECK(!(d.has & DPI_HAS_TLS_HELLO), "cut at %zu gave a hello", cut);
		CHECK(err == 0 || err == -EBADMSG || err == -ENOMSG, "cut %zu: %d", cut, err);
	}
	pkt[5] = 21; /* connection id longer than QUIC allows */
	CHECK_EQ("long dcid", dpi_quic_parse(pkt, n, &d), -EBADMSG);
	tap_result("quic: a damaged or cut Initial gives no ClientHello");
}

int main(int argc, char **argv)
{
	if (argc > 1)
		data_dir = argv[1];
	test_dns();
	test_http();
	test_tls();
	test_quic();
	printf("# %d passed, %d failed\n", tap_passed_cases, tap_failed_cases);
	return tap_failed_cases ? 1 : 0;
}
