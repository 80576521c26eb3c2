// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_cli - the command line through cli_parse() (the program's own option
 * table and checks) into struct config. The input is the argument list,
 * NUL-separated. cli_parse touches only cfg, getopt's globals and
 * stdout/stderr (--help and --version return CLI_DONE), so it can run once
 * per input. Inputs naming --config (or an abbreviation) are skipped: a file argument such as
 * /dev/zero would be read without end, which tests the file system, not
 * the parser (the configuration file has its own suite).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "config.h"
#include "flow.h"
#include "fuzz.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *buf;
	struct config cfg;
	int argc = 0, err;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* "--con" is the shortest abbreviation getopt takes for --config */
	if (memmem(data, size, "config", 6) || memmem(data, size, "--con", 5)) {
		free(buf);
		return 0;
	}
	argv[argc++] = "flowexport";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	optind = 0; /* glibc: start over, forget a half-read cluster */
	err = cli_parse(argc, argv, &cfg);
	FUZZ_CHECK(err == 0 || err == CLI_DONE || err == -EINVAL);
	if (err == 0) {
		FUZZ_CHECK(cfg.n_ifaces >= 0 && cfg.n_ifaces <= MAX_IFACES);
		FUZZ_CHECK(cfg.n_modes <= cfg.n_ifaces);
		FUZZ_CHECK(cfg.n_collectors <= MAX_COLLECTORS);
		FUZZ_CHECK(cfg.max_flows >= 1);
		FUZZ_CHECK(cfg.kernel_flows >= 1 &&
			   cfg.kernel_flows <= cfg.max_flows);
		FUZZ_CHECK(cfg.share < SHARE_MAX);
		FUZZ_CHECK(cfg.slot_mask & (1U << SLOT_END));
		FUZZ_CHECK(cfg.n_ifaces > 0 || cfg.pcap_file ||
			   cfg.test_seconds == 0);
	}
	config_release(&cfg);
	free(buf);
	return 0;
}
