/* SPDX-License-Identifier: GPL-2.0 */
/* config.h - everything the command line can say, in one struct, filled
 * from the option table (options.c) by the command line and the
 * configuration file (cli.c); nothing else reads argv. */
#ifndef FLOWEXPORT_CONFIG_H
#define FLOWEXPORT_CONFIG_H

#include <stdbool.h>
#include <linux/types.h>
#include <xdp/libxdp.h>
#include "flow.h"

#define MAX_IFACES 16
#define MAX_COLLECTORS 8
#define DEFAULT_PIN_DIR "/sys/fs/bpf/xdp/globals"
#define FLOW_TABLE_PIN_NAME "flow_stats"
/* beside it: the interfaces metered at ingress, shared with -M peers so
 * that none of them counts a forwarded packet again at its egress */
#define INGRESS_METERED_PIN_NAME "flow_ingress_metered"
/* Flows held in user space and entries of the kernel table: every flow
 * alive within the idle timeout, in both. Memory follows the flows present
 * (README "Flow table lifecycle"). */
#define DEFAULT_MAX_FLOWS (1U << 21)
#define DEFAULT_KERNEL_FLOWS (1U << 21)
/* -O files: a new one every 5 minutes, like nfcapd's */
#define DEFAULT_DUMP_ROTATE 300
/* Read when present and no --config is given. */
#ifndef CONFIG_FILE_DEFAULT
#define CONFIG_FILE_DEFAULT "/etc/flowexport.conf"
#endif

enum export_format { FORMAT_IPFIX = 0, FORMAT_NFV9 };

/* How an interface's ingress is metered (-m). auto: native XDP where the
 * driver has it, else TC ingress; both see every wire packet (TC through
 * gso_segs), where generic XDP after GRO sees merged ones. */
enum ingress_mode {
	INGRESS_AUTO = 0,
	INGRESS_XDP_NATIVE,
	INGRESS_XDP_SKB,
	INGRESS_XDP_HW,
	INGRESS_TC,
};

/* --direction: which way packets are metered, a bit each. */
#define METER_INGRESS 0x1
#define METER_EGRESS 0x2

struct config {
	/* where and how to meter */
	const char *ifnames[MAX_IFACES];
	int n_ifaces;
	enum ingress_mode modes[MAX_IFACES];
	int n_modes;
	const char *mode_names[MAX_IFACES + 1]; /* -m as given */
	__u32 slot_mask;        /* bit per enum flow_slot to fill (-p) */
	bool protocols_given;
	bool dpi;
	bool decap;             /* --decap: tunnels' inner packets are the flows */
	__u32 dpi_mask;         /* -D: bit per enum dpi_app to inspect (-p) */
	enum share_mode share;
	bool share_given;
	__u32 max_flows;        /* user-space cache: flows held at once */
	__u32 kernel_flows;     /* entries of each kernel flow table */
	bool kernel_flows_given;

	/* manager */
	unsigned int interval;  /* -i: 0 = drain once and exit */
	bool interval_given;    /* -i alone sets the -O period (as it did) */
	unsigned int dump_rotate; /* --dump-rotate: -O file period, 0: unset */
	unsigned int stats_interval; /* counters line period in s, 0 = none */
	const char *stats_file; /* counters lines go here, NULL: the log */
	unsigned int idle_timeout;
	unsigned int active_timeout;
	int test_seconds;       /* -t: -1 off, 0 = BPF_PROG_TEST_RUN bench */
	__u32 test_repeat;
	__u32 bench_flows;      /* -t 0: spread packets over this many flows */
	const char *pcap_file;  /* -r */

	/* where things go */
	const char *pin_dir;    /* -F */
	const char *map_path;   /* -M: reuse this pinned flow table */
	const char *output_dir; /* -O */
	const char *log_file;   /* -L */
	int verbosity;          /* 0 quiet, 1 normal, 2 verbose */
	bool json;

	/* export */
	const char *collectors[MAX_COLLECTORS];
	int n_collectors;
	bool balance;           /* each flow to one collector, not to all */
	enum export_format format;
	__u32 observation_domain;
	const char *template_name;
	bool biflow;
	unsigned int template_refresh_sec;
	unsigned int template_refresh_msgs;
	unsigned int max_message_size;
	unsigned int options_interval;
	unsigned int export_buffer_records;
	unsigned int udp_rate;  /* UDP export messages per second, 0 = any */
	/* [collector NAME] groups of a configuration file: this config with
	 * the group's export settings; NULL where the collector has none */
	struct config *collector_cfg[MAX_COLLECTORS];

	/* strings the options point to that are not argv's (config_keep) */
	struct _GPtrArray *kept;
	__u32 sample_rate;      /* --sample N: 1 packet in N metered; 1 = all */
	const char *user;       /* --user: run as this user once attached */
	const char *metrics;    /* --metrics ADDR:PORT: Prometheus endpoint */

	/* the command line this came from: a reload (SIGHUP) reads it again,
	 * with the configuration file, so that it still overrides the file */
	int argc;
	char **argv;
	bool reread;            /* read by a reload: -d names need not exist */
	unsigned int direction; /* METER_INGRESS | METER_EGRESS */
	int tc_hook;            /* enum tc_hook_kind (--tc-hook) */
};

void config_defaults(struct config *cfg);
/* Whether counters lines are written at all: when asked for
 * (--stats-interval, --stats-file), or else the one at exit unless -q. */
bool config_counters_wanted(const struct config *cfg);
/* A copy of s that lives as long as cfg (until config_release). */
const char *config_keep(struct config *cfg, const char *s);
/* The settings collector i is exported with. */
const struct config *config_for_collector(const struct config *cfg, int i);
/* Frees what config_keep and the collector groups allocated. */
void config_release(struct config *cfg);

#endif
