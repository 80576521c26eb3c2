/* SPDX-License-Identifier: GPL-2.0 */
/* modes.h - the ways flowexport runs; each returns 0 or a negative errno. */
#ifndef FLOWEXPORT_MODES_H
#define FLOWEXPORT_MODES_H

#include "config.h"

int run_bench(const struct config *cfg);   /* -t 0: bench.c */
int run_offline(const struct config *cfg); /* -r FILE: offline.c */
int run_live(const struct config *cfg);    /* -d IF: live.c */

int parse_share_mode(const char *s, enum share_mode *mode);

#endif
