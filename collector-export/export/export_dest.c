// SPDX-License-Identifier: GPL-2.0
/* export_dest.c - parsing of -c values; every refusal says why. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "export_dest.h"
#include "log.h"

static int bad(const char *s, const char *why)
{
	pr_warn("bad collector '%s': %s (use host:port, udp://host:port, tcp://host:port, [IPv6]:port or file:PATH)\n",
		s, why);
	return -EINVAL;
}

static int parse_port(const char *s, const char *p, struct export_dest *d)
{
	unsigned long v = 0;
	size_t n = strlen(p);

	if (!n)
		return bad(s, "no port after ':'");
	if (n > 5 || strspn(p, "0123456789") != n)
		return bad(s, n > 5 && strspn(p, "0123456789") == n ?
			   "port out of range 1-65535" : "port is not a number");
	v = strtoul(p, NULL, 10);
	if (v < 1 || v > 65535)
		return bad(s, "port out of range 1-65535");
	snprintf(d->port, sizeof(d->port), "%lu", v);
	return 0;
}

int dest_parse(const char *s, struct export_dest *d)
{
	const char *hp = s, *colon;
	size_t hlen;

	memset(d, 0, sizeof(*d));
	snprintf(d->text, sizeof(d->text), "%s", s);
	if (!strncmp(s, "file:", 5)) {
		d->kind = DEST_FILE;
		if (!s[5])
			return bad(s, "no path after 'file:'");
		if (strlen(s + 5) >= sizeof(d->path))
			return bad(s, "path too long");
		snprintf(d->path, sizeof(d->path), "%s", s + 5);
		return 0;
	}
	d->kind = DEST_UDP;
	if (!strncmp(s, "udp://", 6)) {
		hp = s + 6;
	} else if (!strncmp(s, "tcp://", 6)) {
		d->kind = DEST_TCP;
		hp = s + 6;
	} else if (strstr(s, "://")) {
		return bad(s, "unknown transport (udp:// or tcp://)");
	}
	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (!end)
			return bad(s, "no ']' after an IPv6 address");
		if (end[1] != ':')
			return bad(s, "no ':port' after ']'");
		hp++;
		hlen = end - hp;
		colon = end + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return bad(s, "no port (host:port)");
		if (memchr(hp, ':', colon - hp))
			return bad(s, "IPv6 addresses need brackets: [addr]:port");
		hlen = colon - hp;
	}
	if (!hlen)
		return bad(s, "no host");
	if (hlen >= sizeof(d->host))
		return bad(s, "host name too long");
	memcpy(d->host, hp, hlen);
	return parse_port(s, colon + 1, d);
}
