// SPDX-License-Identifier: GPL-2.0
/*
 * dpi_quic.c - the client's QUIC Initial packet (RFC 9000 17.2.2): its
 * version, and the TLS ClientHello in its CRYPTO frames, read by
 * dpi_tls.c. Initial packets are protected with keys anyone can derive
 * from the packet's destination connection id (RFC 9001 section 5.2, and
 * RFC 9369 for version 2): HKDF-SHA256 and AES-128 (header protection,
 * then AES-128-GCM) from libcrypto. A packet whose tag does not verify
 * (a server's Initial, made with the other side's keys) yields only the
 * version.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "dpi.h"

#define QUIC_V1 0x00000001
#define QUIC_V2 0x6b3343cf
#define QUIC_MAX_CID 20
#define QUIC_TAG_LEN 16
#define QUIC_SAMPLE_LEN 16
#define QUIC_MAX_FRAMES 64

static const __u8 salt_v1[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
static const __u8 salt_v2[20] = {
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
};

struct quic_keys {
	__u8 key[16], iv[12], hp[16];
};

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context, for out_len <=
 * 32: one HMAC block. */
static int expand_label(const __u8 secret[32], const char *label,
			__u8 *out, size_t out_len)
{
	__u8 info[64], md[32];
	size_t ll = strlen(label), n = 0;
	unsigned int mdlen = sizeof(md);

	if (out_len > 32 || 6 + ll > 255 || 4 + 6 + ll + 1 > sizeof(info))
		return -EINVAL;
	info[n++] = out_len >> 8;
	info[n++] = out_len & 0xff;
	info[n++] = 6 + ll;
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;    /* context length */
	info[n++] = 0x01; /* HKDF-Expand: T(1) = HMAC(PRK, info | 0x01) */
	if (!HMAC(EVP_sha256(), secret, 32, info, n, md, &mdlen))
		return -EIO;
	memcpy(out, md, out_len);
	return 0;
}

/* The client's Initial keys for this destination connection id. */
static int client_keys(__u32 version, const __u8 *dcid, size_t dcid_len,
			 struct quic_keys *k)
{
	const __u8 *salt = version == QUIC_V2 ? salt_v2 : salt_v1;
	bool v2 = version == QUIC_V2;
	__u8 initial[32], client[32];
	unsigned int len = sizeof(initial);

	/* HKDF-Extract(salt, dcid) */
	if (!HMAC(EVP_sha256(), salt, 20, dcid, dcid_len, initial, &len))
		return -EIO;
	if (expand_label(initial, "client in", client, 32) ||
	    expand_label(client, v2 ? "quicv2 key" : "quic key", k->key, 16) ||
	    expand_label(client, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) ||
	    expand_label(client, v2 ? "quicv2 hp" : "quic hp", k->hp, 16))
		return -EIO;
	return 0;
}

static int aes_ecb(const __u8 key[16], const __u8 in[16], __u8 out[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok;

	if (!c)
		return -ENOMEM;
	ok = EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) &&
	     EVP_CIPHER_CTX_set_padding(c, 0) &&
	     EVP_EncryptUpdate(c, out, &len, in, 16) && len == 16;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

static int aes_gcm_open(const struct quic_keys *k, const __u8 nonce[12],
			const __u8 *aad, size_t aad_len, const __u8 *ct,
			size_t ct_len, const __u8 *tag, __u8 *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok;

	if (!c)
		return -ENOMEM;
	ok = EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
	     EVP_DecryptInit_ex(c, NULL, NULL, k->key, nonce) &&
	     EVP_DecryptUpdate(c, NULL, &len, aad, aad_len) &&
	     EVP_DecryptUpdate(c, out, &len, ct, ct_len) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN,
				 (void *)tag) &&
	     EVP_DecryptFinal_ex(c, out + len, &len);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EBADMSG;
}

/* A variable-length integer (RFC 9000 16); false past the end. */
static bool varint(const __u8 *p, size_t n, size_t *off, __u64 *v)
{
	size_t len;

	if (*off >= n)
		return false;
	len = (size_t)1 << (p[*off] >> 6);
	if (n - *off < len)
		return false;
	*v = p[*off] & 0x3f;
	for (size_t i = 1; i < len; i++)
		*v = *v << 8 | p[*off + i];
	*off += len;
	return true;
}

/* The CRYPTO frames of a decrypted Initial, placed at their offsets in
 * acc (with earlier Initials' frames); the bytes contiguous from 0, or -1
 * if the frames are malformed. */
static long crypto_data(const __u8 *p, size_t n, struct dpi_quic_crypto *acc)
{
	size_t off = 0, have = 0;

	for (int i = 0; i < QUIC_MAX_FRAMES && off < n; i++) {
		__u64 type, a, b, c;

		if (!varint(p, n, &off, &type))
			return -1;
		switch (type) {
		case 0x00: /* PADDING */
			while (off < n && p[off] == 0)
				off++;
			break;
		case 0x01: /* PING */
			break;
		case 0x02: case 0x03: { /* ACK */
			__u64 ranges;

			if (!varint(p, n, &off, &a) || !varint(p, n, &off, &b) ||
			    !varint(p, n, &off, &ranges) ||
			    !varint(p, n, &off, &c) || ranges > n)
				return -1;
			for (__u64 r = 0; r < 2 * ranges; r++)
				if (!varint(p, n, &off, &a))
					return -1;
			for (int e = 0; type == 0x03 && e < 3; e++)
				if (!varint(p, n, &off, &a))
					return -1;
			break;
		}
		case 0x06: /* CRYPTO */
			if (!varint(p, n, &off, &a) || !varint(p, n, &off, &b) ||
			    b > n - off)
				return -1;
			if (a < QUIC_MAX_CRYPTO) {
				size_t take = b < QUIC_MAX_CRYPTO - a ?
						      b : QUIC_MAX_CRYPTO - a;

				memcpy(acc->data + a, p + off, take);
				memset(acc->got + a, 1, take);
			}
			off += b;
			break;
		case 0x1c: /* CONNECTION_CLOSE: nothing more for us */
			off = n;
			break;
		default:   /* not allowed in an Initial */
			return -1;
		}
	}
	while (have < QUIC_MAX_CRYPTO && acc->got[have])
		have++;
	return have;
}

/* Decrypt the Initial at p (len bytes, its header's Length included) and
 * read its ClientHello into info. */
static int open_initial(__u32 version, const __u8 *p, size_t len,
			size_t pn_off, const __u8 *dcid, size_t dcid_len,
			struct dpi_quic_crypto *acc, struct dpi_info *info)
{
	struct quic_keys k;
	__u8 mask[16], hdr[64], nonce[12], *plain;
	size_t pn_len, ct_off, ct_len;
	__u64 pn = 0;
	long have;
	int err;

	if (pn_off + 4 + QUIC_SAMPLE_LEN > len || pn_off + 4 > sizeof(hdr))
		return -EBADMSG;
	err = client_keys(version, dcid, dcid_len, &k);
	if (!err)
		err = aes_ecb(k.hp, p + pn_off + 4, mask);
	if (err)
		return err;
	memcpy(hdr, p, pn_off + 4);
	hdr[0] ^= mask[0] & 0x0f;
	pn_len = (hdr[0] & 0x03) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		hdr[pn_off + i] ^= mask[1 + i];
		pn = pn << 8 | hdr[pn_off + i];
	}
	ct_off = pn_off + pn_len;
	if (len < ct_off + QUIC_TAG_LEN)
		return -EBADMSG;
	ct_len = len - ct_off - QUIC_TAG_LEN;
	memcpy(nonce, k.iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (pn >> (8 * i)) & 0xff;
	plain = malloc(ct_len + 16);
	if (!plain) {
		err = -ENOMEM;
		goto out;
	}
	err = aes_gcm_open(&k, nonce, hdr, ct_off, p + ct_off, ct_len,
			   p + ct_off + ct_len, plain);
	if (err) { /* not a client's Initial (or damaged): version only */
		err = -ENOMSG;
		goto out;
	}
	have = crypto_data(plain, ct_len, acc);
	if (have < 0) {
		err = -EBADMSG;
		goto out;
	}
	/* -EAGAIN: the hello goes on in the next Initial */
	err = dpi_tls_client_hello(acc->data, have, true, info);
out:
	free(plain);
	return err;
}

int dpi_quic_parse(const __u8 *p, size_t n, struct dpi_info *info)
{
	struct dpi_quic_crypto *acc = calloc(1, sizeof(*acc));
	int err;

	if (!acc)
		return -ENOMEM;
	err = dpi_quic_parse_more(p, n, acc, info);
	free(acc);
	/* alone, a hello cut at the end of the packet gives the version */
	return err == -EAGAIN ? 0 : err;
}

int dpi_quic_parse_more(const __u8 *p, size_t n, struct dpi_quic_crypto *acc,
			struct dpi_info *info)
{
	size_t off = 5, dcid_len, scid_len, pn_off;
	const __u8 *dcid;
	__u64 token_len, len;
	__u32 version;
	__u8 type;
	int err;

	if (n < 7 || (p[0] & 0xc0) != 0xc0)
		return -ENOMSG;
	version = (__u32)p[1] << 24 | p[2] << 16 | p[3] << 8 | p[4];
	if (version != QUIC_V1 && version != QUIC_V2)
		return -ENOMSG;
	type = (p[0] >> 4) & 3;
	dcid_len = p[off++];
	if (dcid_len > QUIC_MAX_CID || off + dcid_len >= n)
		return -EBADMSG;
	dcid = p + off;
	off += dcid_len;
	scid_len = p[off++];
	if (scid_len > QUIC_MAX_CID || off + scid_len > n)
		return -EBADMSG;
	off += scid_len;
	info->quic_version = version;
	info->has |= DPI_HAS_QUIC;
	info->app = DPI_APP_QUIC;
	/* Initial: type 0 in version 1, 1 in version 2 */
	if (type != (version == QUIC_V2 ? 1 : 0))
		return 0;
	if (!varint(p, n, &off, &token_len) || token_len > n - off)
		return -EBADMSG;
	off += token_len;
	if (!varint(p, n, &off, &len) || len > n - off)
		return -EBADMSG;
	pn_off = off;
	err = open_initial(version, p, pn_off + len, pn_off, dcid, dcid_len,
			   acc, info);
	return err == -ENOMSG ? 0 : err;
}
