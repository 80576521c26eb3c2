// SPDX-License-Identifier: GPL-2.0
/*
 * export_template.c - reads templates/NAME.tmpl and validates every element
 * name against libfixbuf's IANA information model, so a typo is reported
 * at start with its file and line rather than as a collector's silence.
 */
#include <ctype.h>
#include <errno.h>
#include <fixbuf/public.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "export_template.h"
#include "log.h"

#ifndef TEMPLATE_INSTALL_DIR
#define TEMPLATE_INSTALL_DIR "/usr/local/share/flowexport/templates"
#endif

static bool is_path(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') || (n > 5 && !strcmp(name + n - 5, ".tmpl"));
}

/* Finds NAME.tmpl in the usual places; 0 or -ENOENT. */
static int template_find(const char *name, char *out, size_t size)
{
	char exe[PATH_MAX], dirs[4][PATH_MAX];
	const char *env = getenv("FLOWEXPORT_TEMPLATE_DIR");
	ssize_t n;
	int nd = 0;

	if (is_path(name)) {
		snprintf(out, size, "%s", name);
		return access(out, R_OK) ? -errno : 0;
	}
	if (env && *env)
		snprintf(dirs[nd++], PATH_MAX, "%s", env);
	snprintf(dirs[nd++], PATH_MAX, "templates");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(dirs[nd++], PATH_MAX, "%.3800s/templates", dirname(exe));
	}
	snprintf(dirs[nd++], PATH_MAX, "%s", TEMPLATE_INSTALL_DIR);
	for (int i = 0; i < nd; i++) {
		int n = snprintf(out, size, "%s/%s.tmpl", dirs[i], name);

		if (n > 0 && (size_t)n < size && !access(out, R_OK))
			return 0;
	}
	return -ENOENT;
}

static bool reducible(const fbInfoElement_t *ie)
{
	return ie->type == FB_UINT_8 || ie->type == FB_UINT_16 ||
	       ie->type == FB_UINT_32 || ie->type == FB_UINT_64;
}

/* Appends one element to the templates of the IP versions in af_mask. */
static int template_add(struct export_template *t, unsigned int af_mask,
			const struct field_def *def, bool reverse, __u16 len,
			const char *name)
{
	for (int af = 0; af < TMPL_AF_MAX; af++) {
		struct field_wire *e;

		if (!(af_mask & (1U << af)))
			continue;
		if (t->n[af] == TMPL_MAX_ELEMS)
			return -E2BIG;
		snprintf(t->names[af][t->n[af]], TMPL_NAME_LEN, "%s", name);
		e = &t->elems[af][t->n[af]++];
		e->def = def;
		e->reverse = reverse;
		e->len = len;
		t->host_len[af] += def->len;
		t->wire_len[af] += len;
	}
	return 0;
}

/*
 * Where an RFC 5103 reverse element goes: the order of a template's
 * elements means nothing to IPFIX, but nfdump (1.7) maps every reverse
 * element other than the octet and packet counters onto its forward twin,
 * in template order, so a reverse value placed after the forward one
 * replaced it (1970 times and no flags where the reverse direction was
 * empty). Placed before, the forward value is the one nfdump keeps; the
 * reverse counters it reads as out bytes and packets, in any order.
 */
static bool reverse_goes_first(const struct field_def *def)
{
	return def->ie != 1 && def->ie != 2;
}

/* Parses "name [length] [ipv4|ipv6]" (comment and blank lines skipped). */
static int template_line(struct export_template *t, fbInfoModel_t *model,
			 char *line, int lineno, bool biflow)
{
	const char *where = t->path;
	char *name = strtok(line, " \t\r\n"), *tok;
	unsigned int af_mask = 3, len = 0;
	const fbInfoElement_t *ie;
	const struct field_def *def;
	int err;

	if (!name || name[0] == '#')
		return 0;
	while ((tok = strtok(NULL, " \t\r\n")) && tok[0] != '#') {
		char *end;

		if (!strcmp(tok, "ipv4")) {
			af_mask = 1U << TMPL_IPV4;
		} else if (!strcmp(tok, "ipv6")) {
			af_mask = 1U << TMPL_IPV6;
		} else {
			len = strtoul(tok, &end, 10);
			if (*end || !len) {
				pr_warn("%s:%d: '%s' after %s is neither a length nor ipv4/ipv6\n",
					where, lineno, tok, name);
				return -EINVAL;
			}
		}
	}
	ie = fbInfoModelGetElementByName(model, name);
	if (!ie) {
		pr_warn("%s:%d: unknown information element '%s' (not in the IANA registry known to libfixbuf)\n",
			where, lineno, name);
		return -EINVAL;
	}
	if (ie->ent != 0) {
		pr_warn("%s:%d: '%s' is an enterprise element; use forward IANA names (--biflow adds the reverse ones)\n",
			where, lineno, name);
		return -EINVAL;
	}
	def = field_lookup(ie->num);
	if (!def) {
		pr_warn("%s:%d: element '%s' (IE %u) is valid IANA but flowexport measures no value for it\n",
			where, lineno, name, ie->num);
		return -EINVAL;
	}
	if (!len)
		len = def->len;
	if (len != def->len && !(reducible(ie) && len < def->len)) {
		pr_warn("%s:%d: length %u is not valid for '%s' (%s%u bytes)\n",
			where, lineno, len, name,
			reducible(ie) ? "at most " : "exactly ", def->len);
		return -EINVAL;
	}
	if (biflow && def->per_direction) {
		char rname[TMPL_NAME_LEN];
		bool rev_first = reverse_goes_first(def);

		snprintf(rname, sizeof(rname), "reverse%c%s",
			 toupper((unsigned char)name[0]), name + 1);
		if (!fbInfoModelGetElementByName(model, rname)) {
			pr_warn("%s:%d: libfixbuf has no reverse element '%s'\n",
				where, lineno, rname);
			return -EINVAL;
		}
		err = template_add(t, af_mask, def, rev_first, len,
				   rev_first ? rname : name);
		if (!err)
			err = template_add(t, af_mask, def, !rev_first, len,
					   rev_first ? name : rname);
	} else {
		err = template_add(t, af_mask, def, false, len, name);
	}
	if (err)
		pr_warn("%s:%d: too many elements (at most %d a template)\n",
			where, lineno, TMPL_MAX_ELEMS);
	return err;
}

int template_load(const char *name, bool biflow, struct export_template *t)
{
	fbInfoModel_t *model;
	char line[256];
	int lineno = 0, err = 0;
	FILE *f;

	memset(t, 0, sizeof(*t));
	err = template_find(name, t->path, sizeof(t->path));
	if (err) {
		pr_warn("template '%s' not found%s\n", name,
			is_path(name) ? "" : " (looked for NAME.tmpl in $FLOWEXPORT_TEMPLATE_DIR, ./templates, beside the program and " TEMPLATE_INSTALL_DIR ")");
		return err;
	}
	f = fopen(t->path, "r");
	if (!f) {
		err = -errno;
		pr_warn("cannot read template %s: %s\n", t->path, strerror(-err));
		return err;
	}
	model = fbInfoModelAlloc();
	while (!err && fgets(line, sizeof(line), f))
		err = template_line(t, model, line, ++lineno, biflow);
	fbInfoModelFree(model);
	fclose(f);
	if (!err && (!t->n[TMPL_IPV4] || !t->n[TMPL_IPV6])) {
		pr_warn("%s: the template for %s has no elements\n", t->path,
			t->n[TMPL_IPV4] ? "IPv6" : "IPv4");
		err = -EINVAL;
	}
	return err;
}
