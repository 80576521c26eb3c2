// SPDX-License-Identifier: GPL-2.0
/*
 * dpi_http.c - HTTP/1.x (RFC 9112): a request's method, target, Host and
 * User-Agent, or a response's status code, from the first payload of a
 * direction. Only complete lines are read; a start line without its CRLF
 * is malformed, a header line cut by the end of the snapshot is left out.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "dpi.h"

#define HTTP_MAX_HEADERS 64

static bool is_token_char(__u8 c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* The end of the line starting at p (its CR), or NULL if it has none. */
static const __u8 *line_end(const __u8 *p, const __u8 *end)
{
	for (const __u8 *q = p; q + 1 < end; q++)
		if (q[0] == '\r' && q[1] == '\n')
			return q;
	return NULL;
}

static bool http_version(const __u8 *p, size_t n)
{
	return n == 8 && !memcmp(p, "HTTP/1.", 7) && (p[7] == '0' || p[7] == '1');
}

static int http_response(const __u8 *p, const __u8 *eol, struct dpi_info *info)
{
	size_t n = eol - p;

	/* HTTP/1.x SP 3DIGIT [SP reason] */
	if (n < 12 || !http_version(p, 8) || p[8] != ' ')
		return -EBADMSG;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -EBADMSG;
	if (n > 12 && p[12] != ' ')
		return -EBADMSG;
	info->http_status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (info->http_status < 100)
		return -EBADMSG;
	info->has |= DPI_HAS_HTTP_RESPONSE;
	info->app = DPI_APP_HTTP;
	return 0;
}

/* "Name: value" -> the value if name matches (case-insensitive). */
static bool header_value(const __u8 *p, const __u8 *eol, const char *name,
			 const __u8 **val, size_t *len)
{
	size_t nl = strlen(name);

	if ((size_t)(eol - p) <= nl || p[nl] != ':' ||
	    strncasecmp((const char *)p, name, nl))
		return false;
	p += nl + 1;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	while (eol > p && (eol[-1] == ' ' || eol[-1] == '\t'))
		eol--;
	*val = p;
	*len = eol - p;
	return true;
}

int dpi_http_parse(const __u8 *p, size_t n, struct dpi_info *info)
{
	const __u8 *end = p + n, *eol, *sp1, *sp2, *val;
	size_t vlen;

	if (n < 5)
		return -ENOMSG;
	eol = line_end(p, end);
	if (!memcmp(p, "HTTP/", 5))
		return eol ? http_response(p, eol, info) : -EBADMSG;
	if (!is_token_char(p[0]))
		return -ENOMSG;
	if (!eol)
		return -EBADMSG;
	/* method SP target SP version */
	for (sp1 = p; sp1 < eol && is_token_char(*sp1); sp1++)
		;
	if (sp1 == p || sp1 >= eol || *sp1 != ' ' ||
	    (size_t)(sp1 - p) >= sizeof(info->http_method))
		return -EBADMSG;
	sp2 = memchr(sp1 + 1, ' ', eol - sp1 - 1);
	if (!sp2 || sp2 == sp1 + 1 || !http_version(sp2 + 1, eol - sp2 - 1))
		return -EBADMSG;
	dpi_copy_str(info->http_method, sizeof(info->http_method), p, sp1 - p);
	dpi_copy_str(info->http_target, sizeof(info->http_target), sp1 + 1,
		     sp2 - sp1 - 1);
	p = eol + 2;
	for (int i = 0; i < HTTP_MAX_HEADERS && p < end; i++) {
		eol = line_end(p, end);
		if (!eol || eol == p) /* cut by the snapshot, or headers end */
			break;
		if (header_value(p, eol, "Host", &val, &vlen))
			dpi_copy_str(info->http_host, sizeof(info->http_host),
				     val, vlen);
		else if (header_value(p, eol, "User-Agent", &val, &vlen))
			dpi_copy_str(info->http_user_agent,
				     sizeof(info->http_user_agent), val, vlen);
		p = eol + 2;
	}
	info->has |= DPI_HAS_HTTP_REQUEST;
	info->app = DPI_APP_HTTP;
	return 0;
}
