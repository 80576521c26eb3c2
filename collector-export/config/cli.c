// SPDX-License-Identifier: GPL-2.0
/*
 * cli.c - defaults, then the configuration file, then the command line:
 * getopt_long is driven by the option table, and every option it returns
 * goes through option_apply, as the file's keys do.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "config_file.h"
#include "options.h"

#ifndef FLOWEXPORT_VERSION
#define FLOWEXPORT_VERSION "unknown"
#endif

void cli_print_version(FILE *out)
{
	fprintf(out, "flowexport %s\n", FLOWEXPORT_VERSION);
}

/* getopt_long's tables, made from the option table. */
struct getopt_tables {
	struct option *long_opts;
	char *short_opts;
};

static int getopt_tables_init(struct getopt_tables *t)
{
	char *so;

	t->long_opts = calloc(n_options + 1, sizeof(*t->long_opts));
	t->short_opts = calloc(2 * n_options + 2, 1);
	if (!t->long_opts || !t->short_opts)
		return -ENOMEM;
	so = t->short_opts;
	*so++ = ':'; /* a missing value returns ':', not '?' */
	for (size_t i = 0; i < n_options; i++) {
		t->long_opts[i] = options[i].opt;
		if (options[i].opt.val < 256) {
			*so++ = options[i].opt.val;
			if (options[i].opt.has_arg == required_argument)
				*so++ = ':';
		}
	}
	return 0;
}

static void getopt_tables_free(struct getopt_tables *t)
{
	free(t->long_opts);
	free(t->short_opts);
}

/* getopt_long permutes the pointers of argv: it works on a copy, so that
 * the caller's argv stays as given and can be read again. */
static char **argv_copy(int argc, char **argv)
{
	char **copy = calloc(argc + 1, sizeof(*copy));

	if (copy)
		memcpy(copy, argv, argc * sizeof(*copy));
	return copy;
}

static int bad_option(char **argv, int opt)
{
	/* argv[optind - 1] is the option for a long one and the whole
	 * cluster (-jd) for a short one */
	if (opt == ':') {
		if (!strncmp(argv[optind - 1], "--", 2))
			fprintf(stderr, "flowexport: option %s needs a value\n",
				argv[optind - 1]);
		else
			fprintf(stderr, "flowexport: option -%c needs a value\n",
				optopt);
	} else if (!strncmp(argv[optind - 1], "--", 2) || !optopt) {
		fprintf(stderr, "flowexport: unknown option '%s'; see --help\n",
			argv[optind - 1]);
	} else {
		fprintf(stderr, "flowexport: unknown option '-%c'; see --help\n",
			optopt);
	}
	return -EINVAL;
}

/* First reading: --help, --version and --config only; errors wait for
 * the second reading, so that --help works whatever else is wrong. */
static int scan_early(int argc, char **argv, const struct getopt_tables *t,
		      const char **config_path)
{
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, t->short_opts, t->long_opts,
				  NULL)) != -1) {
		const struct option_desc *d = option_by_val(opt);

		if (opt == 'h') {
			enum help_format fmt = HELP_TEXT;

			if (optarg && !strcmp(optarg, "roff"))
				fmt = HELP_ROFF;
			else if (optarg && !strcmp(optarg, "markdown"))
				fmt = HELP_MARKDOWN;
			else if (optarg && !strcmp(optarg, "conf"))
				fmt = HELP_CONF;
			else if (optarg && strcmp(optarg, "text")) {
				fprintf(stderr, "flowexport: unknown --help format '%s'; use text, roff, markdown or conf\n",
					optarg);
				return -EINVAL;
			}
			options_print(stdout, fmt);
			return CLI_DONE;
		}
		if (d && !strcmp(d->opt.name, "version")) {
			cli_print_version(stdout);
			return CLI_DONE;
		}
		if (d && !strcmp(d->opt.name, "config"))
			*config_path = optarg;
	}
	return 0;
}

/* Second reading: every option onto cfg. only_flags: apply just the
 * options carrying one of these flags (0: all). The first -c replaces
 * the collectors of the file. */
static int apply_args(int argc, char **argv, const struct getopt_tables *t,
		      struct config *cfg, unsigned int only_flags,
		      bool *cli_collectors)
{
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, t->short_opts, t->long_opts,
				  NULL)) != -1) {
		const struct option_desc *d = option_by_val(opt);

		if (!d)
			return bad_option(argv, opt);
		if (d->flags & OPTF_CLI_ONLY)
			continue;
		if (only_flags && !(d->flags & only_flags))
			continue;
		if (opt == 'c' && !*cli_collectors) {
			*cli_collectors = true;
			cfg->n_collectors = 0;
		}
		if (option_apply(cfg, d, optarg, NULL))
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "flowexport: unexpected argument '%s'; see --help\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int parse(int argc, char **argv, struct config *cfg, bool again)
{
	struct getopt_tables t = { 0 };
	struct config_file *file = NULL;
	const char *config_path = NULL;
	bool cli_collectors = false;
	char **args;
	int err;

	config_defaults(cfg);
	cfg->argc = argc;
	cfg->argv = argv;
	cfg->reread = again;
	args = argv_copy(argc, argv);
	err = getopt_tables_init(&t);
	if (!err && !args)
		err = -ENOMEM;
	if (err)
		goto out;
	err = scan_early(argc, args, &t, &config_path);
	if (err)
		goto out;
	if (!config_path && !access(CONFIG_FILE_DEFAULT, F_OK))
		config_path = CONFIG_FILE_DEFAULT;
	if (config_path) {
		file = config_file_load(config_path, cfg);
		if (!file) {
			err = -EINVAL;
			goto out;
		}
	}
	memcpy(args, argv, argc * sizeof(*args));
	err = apply_args(argc, args, &t, cfg, 0, &cli_collectors);
	for (int i = 0; file && !cli_collectors && !err &&
			i < config_file_n_collectors(file); i++) {
		bool ignored = true;

		err = config_file_add_collector(file, i, cfg);
		/* the command line overrides a collector group too */
		if (!err) {
			memcpy(args, argv, argc * sizeof(*args));
			err = apply_args(argc, args, &t,
					 cfg->collector_cfg[cfg->n_collectors - 1],
					 OPTF_COLLECTOR, &ignored);
		}
	}
	if (!err)
		err = option_finish(cfg);
out:
	config_file_free(file);
	getopt_tables_free(&t);
	free(args);
	return err;
}

int cli_parse(int argc, char **argv, struct config *cfg)
{
	return parse(argc, argv, cfg, false);
}

int cli_parse_again(int argc, char **argv, struct config *cfg)
{
	return parse(argc, argv, cfg, true);
}
