// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - command line and configuration file -> struct config (cli.c),
 * then hand over to the mode asked for.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "config.h"
#include "log.h"
#include "modes.h"
#include "privileges.h"

int main(int argc, char **argv)
{
	struct config cfg;
	int err;

	err = cli_parse(argc, argv, &cfg);
	if (err) {
		config_release(&cfg);
		return err == CLI_DONE ? 0 : 2;
	}
	log_init(cfg.verbosity == 0 ? LOG_LEVEL_WARN :
		 cfg.verbosity == 2 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (cfg.log_file && (err = log_open_file(cfg.log_file))) {
		fprintf(stderr, "flowexport: cannot open log file '%s': %s\n",
			cfg.log_file, strerror(-err));
		config_release(&cfg);
		return 2;
	}
	if (privileges_check(&cfg)) {
		config_release(&cfg);
		return 1;
	}

	if (cfg.test_seconds == 0)
		err = run_bench(&cfg);
	else if (cfg.pcap_file)
		err = run_offline(&cfg);
	else
		err = run_live(&cfg);
	log_close();
	config_release(&cfg);
	return err ? 1 : 0;
}
