// SPDX-License-Identifier: GPL-2.0
/*
 * config_file.c - the configuration file. Its keys are the long options of
 * the option table, so that the file can say all the command line can and
 * nothing else. GKeyFile gives no line numbers: errors name the file, the
 * group and the key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "config_file.h"
#include "options.h"

#define MAIN_GROUP "flowexport"
#define COLLECTOR_GROUP "collector "

struct config_file {
	GKeyFile *kf;
	char *path;
	GPtrArray *collector_groups; /* group names, in file order */
};

static int file_fail(const struct config_file *f, const char *group,
		     const char *key, const char *fmt, const char *what)
{
	fprintf(stderr, "flowexport: %s: [%s] ", f->path, group);
	if (key)
		fprintf(stderr, "%s: ", key);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return -EINVAL;
}

/* An unknown key, with the option it was likely meant to be. */
static int unknown_key(const struct config_file *f, const char *group,
		       const char *key)
{
	const struct option_desc *d = NULL;

	for (size_t i = 0; i < n_options && !d; i++)
		if (!g_ascii_strcasecmp(options[i].opt.name, key) &&
		    !(options[i].flags & OPTF_CLI_ONLY))
			d = &options[i];
	fprintf(stderr, "flowexport: %s: [%s] unknown key '%s'", f->path,
		group, key);
	if (d)
		fprintf(stderr, "; did you mean '%s'?", d->opt.name);
	fputc('\n', stderr);
	return -EINVAL;
}

/* One key of a group; in a collector group, only export settings. */
static int apply_key(const struct config_file *f, const char *group,
		     const char *key, bool per_collector, struct config *cfg,
		     struct config *store)
{
	const struct option_desc *d = option_by_name(key);
	struct option_origin where = { f->path, group };
	GError *gerr = NULL;
	int err = 0;

	if (!d || (d->flags & OPTF_CLI_ONLY))
		return unknown_key(f, group, key);
	if (per_collector && !(d->flags & OPTF_COLLECTOR))
		return file_fail(f, group, key,
				 "%scannot be set per collector; set it in [" MAIN_GROUP "]",
				 "");
	if (d->opt.has_arg == no_argument) {
		gboolean on = g_key_file_get_boolean(f->kf, group, key, &gerr);

		if (gerr) {
			char *raw = g_key_file_get_value(f->kf, group, key, NULL);

			file_fail(f, group, key, "'%s' is not true or false",
				  raw ? raw : "");
			g_free(raw);
			g_error_free(gerr);
			return -EINVAL;
		}
		return option_apply(cfg, d, on ? NULL : "false", &where);
	}
	if (d->opt.val == 'c') { /* a list: collector=a:4739;tcp://b:4739 */
		gsize n = 0;
		char **list = g_key_file_get_string_list(f->kf, group, key, &n,
							 &gerr);

		if (gerr) {
			err = file_fail(f, group, key, "%s", gerr->message);
			g_error_free(gerr);
			return err;
		}
		for (gsize i = 0; i < n && !err; i++)
			err = option_apply(cfg, d, config_keep(store, g_strstrip(list[i])),
					   &where);
		g_strfreev(list);
		return err;
	}
	{
		char *value = g_key_file_get_string(f->kf, group, key, &gerr);

		if (gerr) {
			err = file_fail(f, group, key, "%s", gerr->message);
			g_error_free(gerr);
			return err;
		}
		err = option_apply(cfg, d, config_keep(store, value), &where);
		g_free(value);
	}
	return err;
}

struct config_file *config_file_load(const char *path, struct config *cfg)
{
	struct config_file *f = calloc(1, sizeof(*f));
	GError *gerr = NULL;
	char **groups = NULL, **keys = NULL;
	int err = 0;

	if (!f)
		return NULL;
	f->path = g_strdup(path);
	f->kf = g_key_file_new();
	f->collector_groups = g_ptr_array_new_with_free_func(g_free);
	if (!g_key_file_load_from_file(f->kf, path, G_KEY_FILE_NONE, &gerr)) {
		fprintf(stderr, "flowexport: cannot read config file '%s': %s\n",
			path, gerr->message);
		g_error_free(gerr);
		goto fail;
	}
	groups = g_key_file_get_groups(f->kf, NULL);
	for (char **g = groups; *g && !err; g++) {
		if (!strcmp(*g, MAIN_GROUP))
			continue;
		if (g_str_has_prefix(*g, COLLECTOR_GROUP) &&
		    (*g)[strlen(COLLECTOR_GROUP)]) {
			if (f->collector_groups->len == MAX_COLLECTORS)
				err = file_fail(f, *g, NULL, "too many collectors%s; at most 8", "");
			g_ptr_array_add(f->collector_groups, g_strdup(*g));
			continue;
		}
		err = file_fail(f, *g, NULL,
				"unknown group%s; use [" MAIN_GROUP "] or [" COLLECTOR_GROUP "NAME]",
				"");
	}
	if (err)
		goto fail;
	keys = g_key_file_get_keys(f->kf, MAIN_GROUP, NULL, NULL);
	for (char **k = keys; k && *k && !err; k++)
		err = apply_key(f, MAIN_GROUP, *k, false, cfg, cfg);
	/* check the collector groups now, even if a -c will replace them */
	for (guint i = 0; i < f->collector_groups->len && !err; i++) {
		struct config scratch = *cfg;

		scratch.n_collectors = 0;
		memset(scratch.collector_cfg, 0, sizeof(scratch.collector_cfg));
		err = config_file_add_collector(f, i, &scratch);
		free(scratch.collector_cfg[0]);
		cfg->kept = scratch.kept; /* what it kept is cfg's to free */
	}
	if (err)
		goto fail;
	g_strfreev(keys);
	g_strfreev(groups);
	return f;
fail:
	g_strfreev(keys);
	g_strfreev(groups);
	config_file_free(f);
	return NULL;
}

int config_file_n_collectors(const struct config_file *f)
{
	return f->collector_groups->len;
}

int config_file_add_collector(const struct config_file *f, int i,
			      struct config *cfg)
{
	const char *group = g_ptr_array_index(f->collector_groups, i);
	const struct option_desc *dest = option_by_val('c');
	struct option_origin where = { f->path, group };
	struct config *copy;
	char **keys, *value;
	int err = 0, idx;

	value = g_key_file_get_string(f->kf, group, dest->opt.name, NULL);
	if (!value)
		return file_fail(f, group, NULL,
				 "no '%s' key: give the collector's DEST", dest->opt.name);
	err = option_apply(cfg, dest, config_keep(cfg, g_strstrip(value)), &where);
	g_free(value);
	if (err)
		return err;
	idx = cfg->n_collectors - 1;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *cfg;
	memset(copy->collector_cfg, 0, sizeof(copy->collector_cfg));
	copy->kept = NULL; /* strings are kept in cfg */
	cfg->collector_cfg[idx] = copy;
	keys = g_key_file_get_keys(f->kf, group, NULL, NULL);
	for (char **k = keys; k && *k && !err; k++)
		if (strcmp(*k, dest->opt.name))
			err = apply_key(f, group, *k, true, copy, cfg);
	g_strfreev(keys);
	return err;
}

void config_file_free(struct config_file *f)
{
	if (!f)
		return;
	g_key_file_free(f->kf);
	g_ptr_array_free(f->collector_groups, TRUE);
	g_free(f->path);
	free(f);
}
