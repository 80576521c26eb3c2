// SPDX-License-Identifier: GPL-2.0
/* config.c - the defaults of every option, in one place for the program
 * and the test drivers alike. */
#include <string.h>
#include "config.h"

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->slot_mask = (1U << SLOT_MAX) - 1;
	cfg->share = SHARE_PERCPU; /* fastest here: see README, Performance */
	cfg->max_flows = DEFAULT_MAX_FLOWS;
	cfg->kernel_flows = DEFAULT_KERNEL_FLOWS;
	cfg->interval = 1;
	cfg->idle_timeout = 15;
	cfg->active_timeout = 60;
	cfg->test_seconds = -1;
	cfg->test_repeat = 1000000;
	cfg->pin_dir = DEFAULT_PIN_DIR;
	cfg->verbosity = 1;
	cfg->format = FORMAT_IPFIX;
	cfg->observation_domain = 1;
	cfg->template_name = "default";
	cfg->template_refresh_sec = 20;
	cfg->template_refresh_msgs = 100;
	cfg->max_message_size = 1400;
	cfg->options_interval = 60;
	cfg->export_buffer_records = 1000000;
	cfg->sample_rate = 1;
	cfg->udp_rate = 20000; /* ~400k records/s in 1400-byte messages */
}

bool config_counters_wanted(const struct config *cfg)
{
	return cfg->stats_interval || cfg->stats_file || cfg->verbosity > 0;
}
