// SPDX-License-Identifier: GPL-2.0
/*
 * dpi_dns.c - DNS over UDP and TCP (RFC 1035): the first question's name
 * and type, and in a response its code and answer count. Names may use
 * compression pointers: each must point before the one followed last, so
 * a name ends after at most as many jumps as the message has bytes (and we
 * stop at DNS_MAX_JUMPS); labels over 63 bytes and names over 255 are
 * malformed.
 */
#include <errno.h>
#include <string.h>
#include "dpi.h"

#define DNS_HDR_LEN 12
#define DNS_MAX_JUMPS 16
#define DNS_MAX_NAME 255
#define DNS_QR 0x8000
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)

static __u16 get16(const __u8 *p)
{
	return (__u16)p[0] << 8 | p[1];
}

/* The name at *off into out ("." for the root); *off moves past it in the
 * message (not past the bytes a pointer led to). 0 or -EBADMSG. */
static int dns_name(const __u8 *msg, size_t n, size_t *off, char *out,
		    size_t size)
{
	size_t pos = *off, len = 0, limit = n, end = 0;
	int jumps = 0;
	char name[DNS_MAX_NAME + 2];

	for (;;) {
		__u8 l;

		if (pos >= limit)
			return -EBADMSG;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= n || ++jumps > DNS_MAX_JUMPS)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (!end)
				end = pos + 2;
			/* only backwards, and before the last jump: no loop */
			if (target >= pos || target < DNS_HDR_LEN)
				return -EBADMSG;
			limit = pos;
			pos = target;
			continue;
		}
		if (l & 0xc0) /* 0x40 and 0x80: extended label types, gone */
			return -EBADMSG;
		if (l == 0) {
			pos++;
			break;
		}
		if (pos + 1 + l > limit || len + l + 1 > DNS_MAX_NAME)
			return -EBADMSG;
		if (len)
			name[len++] = '.';
		memcpy(name + len, msg + pos + 1, l);
		len += l;
		pos += 1 + l;
	}
	*off = end ? end : pos;
	if (!len)
		name[len++] = '.';
	dpi_copy_str(out, size, (const __u8 *)name, len);
	return 0;
}

int dpi_dns_parse(const __u8 *p, size_t n, bool tcp, struct dpi_info *info)
{
	__u16 flags, qdcount;
	size_t off = DNS_HDR_LEN;

	if (tcp) { /* a two-byte length first (RFC 1035 4.2.2) */
		size_t len;

		if (n < 2)
			return -EBADMSG;
		len = get16(p);
		p += 2;
		n -= 2;
		if (len < n)
			n = len;
	}
	if (n < DNS_HDR_LEN)
		return -EBADMSG;
	flags = get16(p + 2);
	qdcount = get16(p + 4);
	if (DNS_OPCODE(flags) != 0) /* not a standard query: nothing to say */
		return -ENOMSG;
	if (qdcount == 0)
		return -EBADMSG;
	if (dns_name(p, n, &off, info->dns_qname, sizeof(info->dns_qname)))
		return -EBADMSG;
	if (off + 4 > n)
		return -EBADMSG;
	info->dns_qtype = get16(p + off);
	info->has |= DPI_HAS_DNS_QUERY;
	if (flags & DNS_QR) {
		info->dns_rcode = flags & 0xf;
		info->dns_answers = get16(p + 6);
		info->has |= DPI_HAS_DNS_RESPONSE;
	}
	info->app = DPI_APP_DNS;
	return 0;
}
