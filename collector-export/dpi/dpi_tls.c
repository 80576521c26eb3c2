// SPDX-License-Identifier: GPL-2.0
/*
 * dpi_tls.c - the TLS ClientHello (RFC 8446 4.1.2): server name (SNI),
 * the highest version offered, the ALPN list, and its JA4 fingerprint
 * (FoxIO's JA4 specification: protocol, version, SNI or not, cipher and
 * extension counts, first ALPN; then truncated SHA-256 of the sorted
 * ciphers and of the sorted extensions with the signature algorithms).
 * Every length is checked against the bytes of the level around it; a
 * lie at any level makes the hello malformed, and nothing of it is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include "dpi.h"

#define TLS_MAX_LIST 128      /* ciphers, extensions, signature algorithms */
#define TLS_HS_CLIENT_HELLO 1
#define TLS_CT_HANDSHAKE 22
#define TLS_MAX_HELLO 16384   /* reassembled from records */

#define EXT_SNI 0x0000
#define EXT_SIGALGS 0x000d
#define EXT_ALPN 0x0010
#define EXT_VERSIONS 0x002b

/* A bounded reader: any read past the end fails and sticks. */
struct rd {
	const __u8 *p;
	size_t n, off;
	bool bad;
};

static __u32 rd_uint(struct rd *r, int bytes)
{
	__u32 v = 0;

	if (r->bad || r->n - r->off < (size_t)bytes) {
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v = v << 8 | r->p[r->off++];
	return v;
}

/* A sub-reader over the next len bytes. */
static struct rd rd_sub(struct rd *r, size_t len)
{
	struct rd s = { .p = r->p + r->off, .n = len };

	if (r->bad || r->n - r->off < len) {
		r->bad = true;
		s.bad = true;
		s.n = 0;
		return s;
	}
	r->off += len;
	return s;
}

static bool is_grease(__u16 v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const __u16 *)a - (int)*(const __u16 *)b;
}

static const char *ja4_version(__u16 v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	}
	return "00";
}

static bool is_alnum(__u8 c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* The first 12 hex digits of SHA-256 over the list as "xxxx,xxxx" (with
 * an optional "_" and second list), or twelve zeros for nothing. */
static void ja4_hash(const __u16 *a, size_t na, const __u16 *b, size_t nb,
		     bool with_b, char out[13])
{
	char buf[2 * TLS_MAX_LIST * 5 + 2];
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t len = 0;

	if (!na && !nb) {
		memcpy(out, "000000000000", 13);
		return;
	}
	for (size_t i = 0; i < na; i++)
		len += sprintf(buf + len, "%s%04x", i ? "," : "", a[i]);
	if (with_b) {
		buf[len++] = '_';
		for (size_t i = 0; i < nb; i++)
			len += sprintf(buf + len, "%s%04x", i ? "," : "", b[i]);
	}
	SHA256((const unsigned char *)buf, len, md);
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* Non-GREASE values of list, sorted unless keep_order; drop is left out
 * too (up to two values, 0xffff: none). Returns how many. */
static size_t ja4_list(const __u16 *in, size_t n, __u16 *out, bool sort,
		       __u32 drop1, __u32 drop2)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!is_grease(in[i]) && in[i] != drop1 && in[i] != drop2)
			out[m++] = in[i];
	if (sort)
		qsort(out, m, sizeof(*out), cmp_u16);
	return m;
}

void dpi_ja4(const struct ja4_input *in, char out[40])
{
	__u16 c[TLS_MAX_LIST], e[TLS_MAX_LIST], s[TLS_MAX_LIST];
	size_t nc = ja4_list(in->ciphers, in->n_ciphers, c, true, 0x10000, 0x10000);
	size_t ne_all = ja4_list(in->exts, in->n_exts, e, false, 0x10000, 0x10000);
	size_t ne = ja4_list(in->exts, in->n_exts, e, true, EXT_SNI, EXT_ALPN);
	size_t ns = ja4_list(in->sigalgs, in->n_sigalgs, s, false, 0x10000, 0x10000);
	char alpn[3] = "00", hb[13], hc[13];

	if (in->alpn && in->alpn_len) {
		__u8 f = in->alpn[0], l = in->alpn[in->alpn_len - 1];

		if (is_alnum(f) && is_alnum(l)) {
			alpn[0] = f;
			alpn[1] = l;
		} else { /* first and last character of its hex form */
			static const char hex[] = "0123456789abcdef";

			alpn[0] = hex[f >> 4];
			alpn[1] = hex[l & 0xf];
		}
	}
	ja4_hash(c, nc, NULL, 0, false, hb);
	if (!ne) /* no extensions to hash: zeros (with or without sigalgs) */
		memcpy(hc, "000000000000", 13);
	else
		ja4_hash(e, ne, s, ns, ns > 0, hc);
	snprintf(out, 40, "%c%s%c%02zu%02zu%s_%s_%s", in->proto,
		 ja4_version(in->version), in->sni ? 'd' : 'i',
		 nc > 99 ? 99 : nc, ne_all > 99 ? 99 : ne_all, alpn, hb, hc);
}

/* Reads a list of 16-bit values of len bytes into v (at most max). */
static size_t read_u16s(struct rd *r, size_t len, __u16 *v, size_t max)
{
	struct rd s = rd_sub(r, len);
	size_t n = 0;

	if (len % 2)
		r->bad = true;
	while (!s.bad && s.off < s.n) {
		__u16 x = rd_uint(&s, 2);

		if (n < max)
			v[n++] = x;
	}
	return n;
}

struct hello {
	__u16 legacy_version, top_version;
	__u16 ciphers[TLS_MAX_LIST], exts[TLS_MAX_LIST], sigalgs[TLS_MAX_LIST];
	size_t n_ciphers, n_exts, n_sigalgs;
	const __u8 *sni, *alpn_list, *alpn_first;
	size_t sni_len, alpn_list_len, alpn_first_len;
	bool has_sni;
};

static void ext_sni(struct rd *x, struct hello *h)
{
	struct rd list = rd_sub(x, rd_uint(x, 2));

	h->has_sni = true;
	while (!list.bad && list.off < list.n) {
		__u8 type = rd_uint(&list, 1);
		struct rd name = rd_sub(&list, rd_uint(&list, 2));

		if (!list.bad && type == 0 && !h->sni) {
			h->sni = name.p;
			h->sni_len = name.n;
		}
	}
	x->bad |= list.bad;
}

static void ext_alpn(struct rd *x, struct hello *h)
{
	struct rd list = rd_sub(x, rd_uint(x, 2));

	h->alpn_list = list.p;
	h->alpn_list_len = list.n;
	while (!list.bad && list.off < list.n) {
		struct rd proto = rd_sub(&list, rd_uint(&list, 1));

		if (!list.bad && !h->alpn_first) {
			h->alpn_first = proto.p;
			h->alpn_first_len = proto.n;
		}
	}
	x->bad |= list.bad;
}

static void ext_versions(struct rd *x, struct hello *h)
{
	__u16 v[TLS_MAX_LIST];
	size_t n = read_u16s(x, rd_uint(x, 1), v, TLS_MAX_LIST);

	for (size_t i = 0; i < n; i++)
		if (!is_grease(v[i]) && v[i] > h->top_version)
			h->top_version = v[i];
}

static int parse_hello(struct rd *r, struct hello *h)
{
	struct rd exts;

	h->legacy_version = rd_uint(r, 2);
	rd_sub(r, 32);                      /* random */
	rd_sub(r, rd_uint(r, 1));           /* legacy session id */
	h->n_ciphers = read_u16s(r, rd_uint(r, 2), h->ciphers, TLS_MAX_LIST);
	rd_sub(r, rd_uint(r, 1));           /* compression methods */
	if (r->bad)
		return -EBADMSG;
	if (r->off == r->n)                 /* no extensions at all */
		return 0;
	exts = rd_sub(r, rd_uint(r, 2));
	while (!exts.bad && exts.off < exts.n) {
		__u16 type = rd_uint(&exts, 2);
		struct rd x = rd_sub(&exts, rd_uint(&exts, 2));

		if (exts.bad)
			break;
		if (h->n_exts < TLS_MAX_LIST)
			h->exts[h->n_exts++] = type;
		if (type == EXT_SNI)
			ext_sni(&x, h);
		else if (type == EXT_ALPN)
			ext_alpn(&x, h);
		else if (type == EXT_VERSIONS)
			ext_versions(&x, h);
		else if (type == EXT_SIGALGS)
			h->n_sigalgs = read_u16s(&x, rd_uint(&x, 2), h->sigalgs,
						 TLS_MAX_LIST);
		if (x.bad)
			return -EBADMSG;
	}
	return exts.bad || r->bad ? -EBADMSG : 0;
}

/* The ALPN list as "h2,http/1.1". */
static void alpn_string(const struct hello *h, char *out, size_t size)
{
	struct rd list = { .p = h->alpn_list, .n = h->alpn_list_len };
	size_t len = 0;

	out[0] = '\0';
	while (!list.bad && list.off < list.n && len + 2 < size) {
		struct rd proto = rd_sub(&list, rd_uint(&list, 1));

		if (list.bad)
			break;
		if (len)
			out[len++] = ',';
		dpi_copy_str(out + len, size - len, proto.p, proto.n);
		len += strlen(out + len);
	}
}

int dpi_tls_client_hello(const __u8 *p, size_t n, bool quic,
			 struct dpi_info *info)
{
	struct rd r = { .p = p, .n = n };
	struct hello *h;
	struct ja4_input j;
	size_t len;
	int err;

	if (n < 4 || p[0] != TLS_HS_CLIENT_HELLO)
		return -ENOMSG;
	len = (size_t)p[1] << 16 | p[2] << 8 | p[3];
	if (len > TLS_MAX_HELLO)
		return -EBADMSG;
	if (len > n - 4)
		return -EAGAIN;
	r.off = 4;
	r.n = 4 + len;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	err = parse_hello(&r, h);
	if (err)
		goto out;
	if (!h->top_version)
		h->top_version = h->legacy_version;
	info->tls_version = h->top_version;
	dpi_copy_str(info->tls_sni, sizeof(info->tls_sni), h->sni, h->sni_len);
	alpn_string(h, info->tls_alpn, sizeof(info->tls_alpn));
	j = (struct ja4_input){
		.proto = quic ? 'q' : 't', .version = h->top_version,
		.sni = h->has_sni, .ciphers = h->ciphers, .n_ciphers = h->n_ciphers,
		.exts = h->exts, .n_exts = h->n_exts, .sigalgs = h->sigalgs,
		.n_sigalgs = h->n_sigalgs, .alpn = h->alpn_first,
		.alpn_len = h->alpn_first_len,
	};
	dpi_ja4(&j, info->tls_ja4);
	info->has |= DPI_HAS_TLS_HELLO;
	info->app = quic ? DPI_APP_QUIC : DPI_APP_TLS;
out:
	free(h);
	return err;
}

int dpi_tls_parse(const __u8 *p, size_t n, struct dpi_info *info)
{
	__u8 *hs;
	size_t have = 0, off = 0;
	int err;

	if (n < 5 || p[0] != TLS_CT_HANDSHAKE || p[1] != 3)
		return -ENOMSG;
	hs = malloc(n);
	if (!hs)
		return -ENOMEM;
	/* the handshake bytes of the records in this payload, joined */
	while (off + 5 <= n && p[off] == TLS_CT_HANDSHAKE && p[off + 1] == 3) {
		size_t rec = (size_t)p[off + 3] << 8 | p[off + 4], take;

		if (rec == 0 || rec > TLS_MAX_HELLO + 2048) {
			free(hs);
			return -EBADMSG;
		}
		take = rec < n - off - 5 ? rec : n - off - 5;
		memcpy(hs + have, p + off + 5, take);
		have += take;
		off += 5 + rec;
	}
	err = dpi_tls_client_hello(hs, have, false, info);
	free(hs);
	/* a server's hello or a record of another kind: not ours to read */
	return err;
}
