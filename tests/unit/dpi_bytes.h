/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dpi_bytes.h - payloads for the DPI parsers' tests and fuzz seeds: a
 * ClientHello built from the lists of FoxIO's published JA4 example
 * (JA4_r "t13d1516h2_002f,...,cca9_0005,...,ff01_0403,...,0601", whose
 * JA4 is t13d1516h2_8daaf6152771_e5627efa2ab1) with GREASE values mixed
 * in, and the RFC 9001 appendix A.2 client Initial.
 */
#ifndef TESTS_DPI_BYTES_H
#define TESTS_DPI_BYTES_H

#include <stdio.h>
#include <string.h>
#include <linux/types.h>

struct buf {
	__u8 b[4096];
	size_t n;
};

static inline void put8(struct buf *b, unsigned v) { b->b[b->n++] = v; }
static inline void put16(struct buf *b, unsigned v) { put8(b, v >> 8); put8(b, v & 0xff); }
static inline void putn(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}
/* Fill in a length of `bytes` bytes at `at` covering up to the end. */
static inline void patch_len(struct buf *b, size_t at, int bytes)
{
	size_t len = b->n - at - bytes;

	for (int i = bytes - 1; i >= 0; i--, len >>= 8)
		b->b[at + i] = len & 0xff;
}

#define JA4_EXAMPLE "t13d1516h2_8daaf6152771_e5627efa2ab1"

/* A TLS record holding the example ClientHello with SNI `sni`. */
static inline void ja4_client_hello(struct buf *b, const char *sni)
{
	static const __u16 ciphers[] = {
		0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
		0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
	};
	static const __u16 sigalgs[] = {
		0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
	};
	static const __u16 plain_exts[] = {
		0x0005, 0x000a, 0x000b, 0x0012, 0x0015, 0x0017, 0x001b,
		0x0023, 0x002d, 0x0033, 0x4469, 0xff01,
	};
	size_t rec, hs, ext, at;

	b->n = 0;
	put8(b, 22); put16(b, 0x0301); rec = b->n; put16(b, 0);
	put8(b, 1); hs = b->n; put8(b, 0); put16(b, 0);
	put16(b, 0x0303);
	for (int i = 0; i < 32; i++) put8(b, i);
	put8(b, 32);
	for (int i = 0; i < 32; i++) put8(b, 0xee);
	put16(b, sizeof(ciphers));
	for (size_t i = 0; i < sizeof(ciphers) / 2; i++) put16(b, ciphers[i]);
	put8(b, 1); put8(b, 0);
	ext = b->n; put16(b, 0);
	put16(b, 0x1a1a); put16(b, 0);                       /* GREASE */
	put16(b, 0x0000); at = b->n; put16(b, 0);            /* SNI */
	put16(b, strlen(sni) + 3); put8(b, 0); put16(b, strlen(sni));
	putn(b, sni, strlen(sni)); patch_len(b, at, 2);
	put16(b, 0x0010); at = b->n; put16(b, 0);            /* ALPN */
	put16(b, 12); put8(b, 2); putn(b, "h2", 2); put8(b, 8);
	putn(b, "http/1.1", 8); patch_len(b, at, 2);
	put16(b, 0x000d); at = b->n; put16(b, 0);            /* sigalgs */
	put16(b, sizeof(sigalgs));
	for (size_t i = 0; i < sizeof(sigalgs) / 2; i++) put16(b, sigalgs[i]);
	patch_len(b, at, 2);
	put16(b, 0x002b); put16(b, 7); put8(b, 6);          /* versions */
	put16(b, 0x3a3a); put16(b, 0x0304); put16(b, 0x0303);
	for (size_t i = 0; i < sizeof(plain_exts) / 2; i++) {
		put16(b, plain_exts[i]);
		put16(b, 1);
		put8(b, 0);
	}
	patch_len(b, ext, 2);
	patch_len(b, hs - 1 + 1, 3);
	patch_len(b, rec, 2);
}

/* The RFC 9001 A.2 client Initial, 1200 bytes, from its hex file. */
static inline size_t rfc9001_client_initial(const char *path, __u8 *out,
					    size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c, hi = -1;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF && n < size) {
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = hi << 4 | v;
			hi = -1;
		}
	}
	fclose(f);
	return n;
}

#endif
