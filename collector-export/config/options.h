/* SPDX-License-Identifier: GPL-2.0 */
/*
 * options.h - THE option table. It drives getopt_long, the keys of the
 * configuration file, --help, the man page and README's option table, so
 * that an option exists in all of them or in none.
 */
#ifndef FLOWEXPORT_OPTIONS_H
#define FLOWEXPORT_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include "config.h"

/* Where an option may also be given, besides the command line. */
#define OPTF_CLI_ONLY  0x1 /* not a configuration file key */
#define OPTF_COLLECTOR 0x2 /* may also be set in a [collector NAME] group */

struct option_desc {
	struct option opt;
	const char *arg;  /* metavariable, NULL for a flag */
	/* One text for --help, the man page and README: `x` marks literal
	 * text (code in markdown, bold in the man page, plain in --help). */
	const char *help;
	unsigned int flags;
};

extern const struct option_desc options[];
extern const size_t n_options;

/* Where a value came from, for error messages: the command line (file
 * NULL) or a key of a group of a configuration file. */
struct option_origin {
	const char *file;
	const char *group;
};

/* Sets what the option says in cfg. value is the argument (NULL for a flag
 * that is set; "false" turns a flag off, from a configuration file). A
 * value stored in cfg must outlive it. 0 or -EINVAL after one line naming
 * the option (and the file and key) and what is wrong. */
int option_apply(struct config *cfg, const struct option_desc *d,
		 const char *value, const struct option_origin *where);

/* Checks that need every option: modes against interfaces, interfaces
 * that exist, table sizes. 0 or -EINVAL after a message. */
int option_finish(struct config *cfg);

const struct option_desc *option_by_name(const char *name);
const struct option_desc *option_by_val(int val);

/* The option table rendered as --help text, man page (roff), README
 * markdown rows or the example configuration file. */
enum help_format { HELP_TEXT, HELP_ROFF, HELP_MARKDOWN, HELP_CONF };
void options_print(FILE *out, enum help_format fmt);

#endif
