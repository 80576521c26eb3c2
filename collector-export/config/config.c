// SPDX-License-Identifier: GPL-2.0
/* config.c - the defaults of every option, in one place for the program
 * and the test drivers alike. */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
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
	cfg->direction = METER_INGRESS | METER_EGRESS;
	cfg->udp_rate = 25000; /* ~500k records/s in 1400-byte messages */
}

bool config_counters_wanted(const struct config *cfg)
{
	return cfg->stats_interval || cfg->stats_file || cfg->verbosity > 0;
}

const char *config_keep(struct config *cfg, const char *s)
{
	if (!cfg->kept)
		cfg->kept = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(cfg->kept, g_strdup(s));
	return g_ptr_array_index(cfg->kept, cfg->kept->len - 1);
}

const struct config *config_for_collector(const struct config *cfg, int i)
{
	return cfg->collector_cfg[i] ? cfg->collector_cfg[i] : cfg;
}

void config_release(struct config *cfg)
{
	for (int i = 0; i < MAX_COLLECTORS; i++) {
		free(cfg->collector_cfg[i]);
		cfg->collector_cfg[i] = NULL;
	}
	if (cfg->kept)
		g_ptr_array_free(cfg->kept, TRUE);
	cfg->kept = NULL;
}
