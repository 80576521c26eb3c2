/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config_file.h - options from an INI-style file (glib's GKeyFile): every
 * long option is a key of the [flowexport] group; collectors are a list
 * (collector=a:4739;tcp://b:4739) or one [collector NAME] group each,
 * with its own export settings.
 */
#ifndef FLOWEXPORT_CONFIG_FILE_H
#define FLOWEXPORT_CONFIG_FILE_H

#include "config.h"

struct config_file;

/* Reads path and applies its [flowexport] group to cfg; every group and
 * key is checked. NULL after one line naming the file (and the group and
 * key) and what is wrong. */
struct config_file *config_file_load(const char *path, struct config *cfg);

/* The number of [collector NAME] groups. */
int config_file_n_collectors(const struct config_file *f);

/* Applies group i: adds its collector to cfg and sets, in a copy of
 * cfg, collector_cfg[] for it with the group's keys. 0 or -EINVAL after a
 * message. */
int config_file_add_collector(const struct config_file *f, int i,
			      struct config *cfg);

void config_file_free(struct config_file *f);

#endif
