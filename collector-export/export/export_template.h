/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_template.h - record templates as data: templates/NAME.tmpl lists
 * IANA element names, one a line, each optionally followed by a reduced
 * length in bytes and by "ipv4" or "ipv6" when it belongs to one IP
 * version's template only. Names are checked against libfixbuf's
 * information model; --biflow adds the RFC 5103 reverse twin of every
 * per-direction element.
 */
#ifndef FLOWEXPORT_EXPORT_TEMPLATE_H
#define FLOWEXPORT_EXPORT_TEMPLATE_H

#include <stdbool.h>
#include <linux/types.h>
#include "export_fields.h"

#define TMPL_MAX_ELEMS 96
#define TMPL_NAME_LEN 64
#define PEN_REVERSE 29305 /* RFC 5103 reverse information elements */

enum tmpl_af { TMPL_IPV4 = 0, TMPL_IPV6, TMPL_AF_MAX };

struct export_template {
	struct field_wire elems[TMPL_AF_MAX][TMPL_MAX_ELEMS];
	/* each element's name, as libfixbuf's model names it */
	char names[TMPL_AF_MAX][TMPL_MAX_ELEMS][TMPL_NAME_LEN];
	int n[TMPL_AF_MAX];
	unsigned int host_len[TMPL_AF_MAX]; /* libfixbuf internal record size */
	unsigned int wire_len[TMPL_AF_MAX]; /* encoded data record size */
	char path[4096];
};

/* Load NAME (looked up in $FLOWEXPORT_TEMPLATE_DIR, ./templates, beside
 * the executable, and the install prefix) or a PATH containing '/' or
 * ending in .tmpl. 0 or -errno after a message naming file, line and
 * element. */
int template_load(const char *name, bool biflow, struct export_template *t);

/* Which template a record goes with. */
static inline enum tmpl_af template_af(__u8 ip_version)
{
	return ip_version == 6 ? TMPL_IPV6 : TMPL_IPV4;
}

#endif
