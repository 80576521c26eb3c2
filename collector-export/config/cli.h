/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - struct config from the command line and a configuration file:
 * defaults, then the file (--config FILE, or CONFIG_FILE_DEFAULT when it
 * exists), then the command line over both.
 */
#ifndef FLOWEXPORT_CLI_H
#define FLOWEXPORT_CLI_H

#include "config.h"

#define CLI_DONE 1 /* --help or --version printed: exit 0 */

/* Fills cfg (config_defaults first); argv is left as it was, so that it
 * can be read again. 0, CLI_DONE, or -EINVAL after one line saying what is
 * wrong. Release cfg with config_release in every case. */
int cli_parse(int argc, char **argv, struct config *cfg);

/* The same for a reload (SIGHUP): a -d interface that does not exist now
 * is not an error (a metered one that went away may come back). */
int cli_parse_again(int argc, char **argv, struct config *cfg);

/* Prints the version line ("flowexport VERSION"). */
void cli_print_version(FILE *out);

#endif
