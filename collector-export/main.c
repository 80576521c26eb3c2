// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - command line -> struct config, then hand over to the mode asked
 * for. One option table drives getopt_long and the usage text.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "modes.h"

enum opt_id {
	OPT_SHARE = 256, OPT_IDLE, OPT_ACTIVE, OPT_MAX_FLOWS, OPT_REPEAT,
	OPT_FORMAT, OPT_DOMAIN, OPT_TEMPLATE, OPT_BIFLOW, OPT_TMPL_SEC,
	OPT_TMPL_MSGS, OPT_MSG_SIZE, OPT_OPTIONS_SEC, OPT_BUFFER, OPT_FLOWS,
	OPT_UDP_RATE, OPT_KERNEL_FLOWS, OPT_STATS_SEC, OPT_STATS_FILE,
};

struct option_desc {
	struct option opt;
	const char *arg;  /* metavariable, NULL for a flag */
	const char *help;
};

static const struct option_desc options[] = {
	{ { "dev", required_argument, NULL, 'd' }, "IF[,IF...]",
	  "interfaces to meter (required unless -r or -t 0)" },
	{ { "mode", required_argument, NULL, 'm' }, "MODE[,MODE...]",
	  "XDP mode per interface, in order: skb|generic, native|driver, hw|offload [skb]" },
	{ { "protocols", required_argument, NULL, 'p' }, "P[,P...]",
	  "parsers to enable: eth,ip,ipv6,tcp,udp,icmp,icmpv6 [all]" },
	{ { "share", required_argument, NULL, OPT_SHARE }, "S",
	  "parse state between tail calls: meta|percpu|global [percpu]" },
	{ { "DPI", no_argument, NULL, 'D' }, NULL,
	  "deep packet inspection (not available yet)" },
	{ { "collector", required_argument, NULL, 'c' }, "DEST",
	  "export to host:port, udp://host:port, tcp://host:port or file:PATH (repeatable)" },
	{ { "format", required_argument, NULL, OPT_FORMAT }, "F",
	  "export format: ipfix|v9 [ipfix]" },
	{ { "observation-domain", required_argument, NULL, OPT_DOMAIN }, "N",
	  "IPFIX observation domain / v9 source id [1]" },
	{ { "template", required_argument, NULL, OPT_TEMPLATE }, "NAME|PATH",
	  "record template: default, extended, or a .tmpl file [default]" },
	{ { "biflow", no_argument, NULL, OPT_BIFLOW }, NULL,
	  "export RFC 5103 bidirectional records" },
	{ { "template-refresh", required_argument, NULL, OPT_TMPL_SEC }, "SEC",
	  "UDP: resend templates every SEC seconds [20]" },
	{ { "template-refresh-packets", required_argument, NULL, OPT_TMPL_MSGS }, "N",
	  "UDP: resend templates every N messages [100]" },
	{ { "max-message-size", required_argument, NULL, OPT_MSG_SIZE }, "BYTES",
	  "largest export message [1400]" },
	{ { "options-interval", required_argument, NULL, OPT_OPTIONS_SEC }, "SEC",
	  "send exporter statistics and interface names every SEC seconds [60]" },
	{ { "export-buffer", required_argument, NULL, OPT_BUFFER }, "RECORDS",
	  "records held while a TCP collector is away [1000000]" },
	{ { "udp-rate", required_argument, NULL, OPT_UDP_RATE }, "MSGS",
	  "UDP: at most MSGS export messages per second, 0 = no limit [20000]" },
	{ { "idle-timeout", required_argument, NULL, OPT_IDLE }, "SEC",
	  "expire a flow idle this long [15]" },
	{ { "active-timeout", required_argument, NULL, OPT_ACTIVE }, "SEC",
	  "report a long flow every SEC seconds [60]" },
	{ { "max-flows", required_argument, NULL, OPT_MAX_FLOWS }, "N",
	  "flows held at once (user-space cache; all flows alive within the idle timeout); above it the least recently seen end early, reason 5 [262144]" },
	{ { "kernel-flows", required_argument, NULL, OPT_KERNEL_FLOWS }, "N",
	  "entries of each of the two kernel tables (flows active within one ~1 s drain interval; when full, packets go through the overflow ring) [65536, at most --max-flows]" },
	{ { "read", required_argument, NULL, 'r' }, "FILE.pcap",
	  "meter a pcap/pcapng file (Ethernet or Linux cooked) through the same BPF programs, then exit" },
	{ { "interval", required_argument, NULL, 'i' }, "SEC",
	  "-O dump-file period; 0 = drain once, print and exit [1]" },
	{ { "stats-interval", required_argument, NULL, OPT_STATS_SEC }, "SEC",
	  "counters line every SEC seconds (see below); 0 = only the one at exit [0]" },
	{ { "stats-file", required_argument, NULL, OPT_STATS_FILE }, "FILE",
	  "append counters lines to FILE instead of the log (stderr or -L)" },
	{ { "json", no_argument, NULL, 'j' }, NULL,
	  "print flows (and counters, -t 0 results) as JSON lines" },
	{ { "Output", required_argument, NULL, 'O' }, "DIR",
	  "also dump flows to DIR/<date>/<time> files each interval" },
	{ { "Log", required_argument, NULL, 'L' }, "FILE",
	  "log messages to FILE [stderr]" },
	{ { "Map", required_argument, NULL, 'M' }, "PATH",
	  "reuse the flow table pinned at PATH (own pins go beside it)" },
	{ { "Folder", required_argument, NULL, 'F' }, "DIR",
	  "pin folder [" DEFAULT_PIN_DIR "]; a restart after a crash takes over what is pinned there" },
	{ { "test", required_argument, NULL, 't' }, "SEC",
	  "0: time the pipeline with BPF_PROG_TEST_RUN; N: attach N s, print counts" },
	{ { "repeat", required_argument, NULL, OPT_REPEAT }, "N",
	  "-t 0: packets per measurement [1000000]" },
	{ { "flows", required_argument, NULL, OPT_FLOWS }, "N",
	  "-t 0: spread the packets over N flows, each run once [1]" },
	{ { "verbose", no_argument, NULL, 'v' }, NULL, "more messages; with -c, also print flows on stdout (printed by default without -c)" },
	{ { "quiet", no_argument, NULL, 'q' }, NULL,
	  "warnings only; no counters line unless --stats-interval or --stats-file" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "this text" },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* Every field of the counters line, text name (JSON name). */
static const char counters_help[] =
	"\nStandard output carries flow records only. The counters line goes to the\n"
	"log (stderr, or -L FILE) or to --stats-file: once at exit (not with -q unless\n"
	"asked for), and every --stats-interval SEC while metering interfaces (-r:\n"
	"only at the end). Totals since start; JSON with -j:\n"
	"  packets (packets)          packets that reached the meter on all interfaces\n"
	"  pps (pps)                  packets a second since the previous line or the\n"
	"                             start (0 with -r)\n"
	"  flowed (flowed)            packets accounted to a flow\n"
	"  not_parsed (notParsed)     protocol not parsed (left out with -p, ARP, ...)\n"
	"  self_export (selfExport)   of not_parsed: our own TCP export connection\n"
	"  malformed (malformed)      truncated or invalid headers\n"
	"  internal (internal)        parse state unavailable; should stay 0\n"
	"  missed_tail_calls (missedTailCalls)  tail calls to an empty program slot\n"
	"  ring (ringPackets)         of flowed: kernel table full, came through the\n"
	"                             overflow ring (still in the records)\n"
	"  overflow N (N octets) (overflowPackets, overflowOctets)  of flowed: ring\n"
	"                             full too, in these totals only, in no record\n"
	"  active_flows (activeFlows) flows held in the user-space cache now\n"
	"  evicted (evictedFlows)     flows ended early, cache full (--max-flows)\n"
	"  exported N (packets N octets N) (exportedRecords, exportedPackets,\n"
	"                             exportedOctets)  records made so far, and the\n"
	"                             packets and octets they carry\n"
	"At exit: packets = flowed + not_parsed + malformed + internal, and\n"
	"flowed - overflow = the packets exported.\n";

static void usage(FILE *out)
{
	fprintf(out, "Usage: flowexport -d IF[,IF] [-c COLLECTOR] [options]\n"
		     "       flowexport -r FILE.pcap [options]\n"
		     "       flowexport -t 0 [-j] [--share S]\n\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option_desc *d = &options[i];
		char left[64];

		if (d->opt.val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 d->opt.val, d->opt.name, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->opt.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		fprintf(out, "  %-38s %s\n", left, d->help);
	}
	fputs(counters_help, out);
}

static int fail(const char *fmt, const char *what, const char *hint)
{
	fprintf(stderr, "flowexport: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "%s%s\n", hint ? "; " : "", hint ? hint : "");
	return -EINVAL;
}

/* Strict unsigned parse: digits only, no sign, no trailing junk. */
static int parse_uint(const char *s, const char *name, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		goto bad;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr,
		"flowexport: --%s '%s' is not a number from 0 to %lu\n", name,
		s ? s : "", max);
	return -EINVAL;
}

#define PARSE_UINT(field, name, max)                                    \
	do {                                                            \
		unsigned long _v;                                       \
		if (parse_uint(optarg, name, max, &_v))                 \
			return -EINVAL;                                 \
		field = _v;                                             \
	} while (0)

/* Split a comma list in place into at most max items. */
static int split_list(char *s, const char **items, int max, const char *name)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n == max) {
			fprintf(stderr, "flowexport: too many --%s values (at most %d)\n",
				name, max);
			return -EINVAL;
		}
		items[n++] = tok;
	}
	if (!n) {
		fprintf(stderr, "flowexport: --%s needs at least one value\n", name);
		return -EINVAL;
	}
	return n;
}

static int parse_mode(const char *s, enum xdp_attach_mode *mode)
{
	if (!strcmp(s, "skb") || !strcmp(s, "generic"))
		*mode = XDP_MODE_SKB;
	else if (!strcmp(s, "native") || !strcmp(s, "driver") || !strcmp(s, "drv"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "hw") || !strcmp(s, "offload"))
		*mode = XDP_MODE_HW;
	else
		return fail("unknown XDP mode '%s'", s,
			    "use skb|generic, native|driver or hw|offload");
	return 0;
}

static const struct {
	const char *name;
	enum flow_slot slot;
} protocol_slots[] = {
	{ "eth", SLOT_L2_ETH },	  { "ip", SLOT_L3_IPV4 },
	{ "ipv4", SLOT_L3_IPV4 }, { "ipv6", SLOT_L3_IPV6 },
	{ "tcp", SLOT_L4_TCP },	  { "udp", SLOT_L4_UDP },
	{ "icmp", SLOT_L4_ICMP }, { "icmpv6", SLOT_L4_ICMPV6 },
};

static int parse_protocols(char *list, __u32 *mask)
{
	const char *items[16];
	int n = split_list(list, items, 16, "protocols");

	if (n < 0)
		return n;
	*mask = 1U << SLOT_END; /* the end program is not optional */
	for (int i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < sizeof(protocol_slots) / sizeof(protocol_slots[0]); j++)
			if (!strcmp(items[i], protocol_slots[j].name))
				break;
		if (j == sizeof(protocol_slots) / sizeof(protocol_slots[0]))
			return fail("unknown protocol '%s'", items[i],
				    "use eth,ip,ipv6,tcp,udp,icmp,icmpv6");
		*mask |= 1U << protocol_slots[j].slot;
	}
	return 0;
}

int parse_share_mode(const char *s, enum share_mode *mode)
{
	static const char *const names[SHARE_MAX] = { "meta", "percpu", "global" };

	for (int i = 0; i < SHARE_MAX; i++)
		if (!strcmp(s, names[i])) {
			*mode = i;
			return 0;
		}
	return fail("unknown --share '%s'", s, "use meta, percpu or global");
}

/* 0: run with cfg, 1: nothing to run (--help printed), -EINVAL after a
 * message. Touches nothing but cfg, getopt's globals and stdout/stderr. */
static int parse_args(int argc, char **argv, struct config *cfg)
{
	struct option long_opts[N_OPTIONS + 1];
	char short_opts[2 * N_OPTIONS + 2], *so = short_opts;
	char *modes = NULL;
	int opt;

	*so++ = ':'; /* a missing value returns ':', not '?' */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		long_opts[i] = options[i].opt;
		if (options[i].opt.val < 256) {
			*so++ = options[i].opt.val;
			if (options[i].opt.has_arg == required_argument)
				*so++ = ':';
		}
	}
	*so = '\0';
	memset(&long_opts[N_OPTIONS], 0, sizeof(long_opts[0]));

	opterr = 0;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		int n;

		switch (opt) {
		case 'd':
			n = split_list(optarg, cfg->ifnames, MAX_IFACES, "dev");
			if (n < 0)
				return n;
			cfg->n_ifaces = n;
			break;
		case 'm':
			modes = optarg;
			break;
		case 'p':
			if (parse_protocols(optarg, &cfg->slot_mask))
				return -EINVAL;
			cfg->protocols_given = true;
			break;
		case OPT_SHARE:
			if (parse_share_mode(optarg, &cfg->share))
				return -EINVAL;
			cfg->share_given = true;
			break;
		case 'D':
			cfg->dpi = true;
			break;
		case 'c':
			if (cfg->n_collectors == MAX_COLLECTORS)
				return fail("too many collectors%s", "",
					    "at most 8 -c options");
			cfg->collectors[cfg->n_collectors++] = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "ipfix"))
				cfg->format = FORMAT_IPFIX;
			else if (!strcmp(optarg, "v9") || !strcmp(optarg, "nfv9"))
				cfg->format = FORMAT_NFV9;
			else
				return fail("unknown --format '%s'", optarg,
					    "use ipfix or v9");
			break;
		case OPT_DOMAIN:
			PARSE_UINT(cfg->observation_domain, "observation-domain", UINT32_MAX);
			break;
		case OPT_TEMPLATE:
			cfg->template_name = optarg;
			break;
		case OPT_BIFLOW:
			cfg->biflow = true;
			break;
		case OPT_TMPL_SEC:
			PARSE_UINT(cfg->template_refresh_sec, "template-refresh", 86400);
			break;
		case OPT_TMPL_MSGS:
			PARSE_UINT(cfg->template_refresh_msgs, "template-refresh-packets", 1000000);
			break;
		case OPT_MSG_SIZE:
			PARSE_UINT(cfg->max_message_size, "max-message-size", 65535);
			if (cfg->max_message_size < 256)
				return fail("--max-message-size %s is too small", optarg,
					    "use at least 256 bytes");
			break;
		case OPT_OPTIONS_SEC:
			PARSE_UINT(cfg->options_interval, "options-interval", 86400);
			break;
		case OPT_BUFFER:
			PARSE_UINT(cfg->export_buffer_records, "export-buffer", 100000000);
			break;
		case OPT_UDP_RATE:
			PARSE_UINT(cfg->udp_rate, "udp-rate", 10000000);
			break;
		case OPT_IDLE:
			PARSE_UINT(cfg->idle_timeout, "idle-timeout", 86400);
			break;
		case OPT_ACTIVE:
			PARSE_UINT(cfg->active_timeout, "active-timeout", 86400);
			break;
		case OPT_MAX_FLOWS:
			PARSE_UINT(cfg->max_flows, "max-flows", 1U << 26);
			if (cfg->max_flows == 0)
				return fail("--max-flows must be at least 1%s", "", NULL);
			break;
		case OPT_KERNEL_FLOWS:
			PARSE_UINT(cfg->kernel_flows, "kernel-flows", 1U << 26);
			if (cfg->kernel_flows == 0)
				return fail("--kernel-flows must be at least 1%s", "", NULL);
			cfg->kernel_flows_given = true;
			break;
		case OPT_STATS_SEC:
			PARSE_UINT(cfg->stats_interval, "stats-interval", 86400);
			break;
		case OPT_STATS_FILE:
			cfg->stats_file = optarg;
			break;
		case OPT_REPEAT:
			PARSE_UINT(cfg->test_repeat, "repeat", UINT32_MAX);
			if (cfg->test_repeat == 0)
				return fail("--repeat must be at least 1%s", "", NULL);
			break;
		case OPT_FLOWS:
			PARSE_UINT(cfg->bench_flows, "flows", 1U << 24);
			break;
		case 'r':
			cfg->pcap_file = optarg;
			break;
		case 'i':
			PARSE_UINT(cfg->interval, "interval", 86400);
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'O':
			cfg->output_dir = optarg;
			break;
		case 'L':
			cfg->log_file = optarg;
			break;
		case 'M':
			cfg->map_path = optarg;
			break;
		case 'F':
			cfg->pin_dir = optarg;
			break;
		case 't':
			PARSE_UINT(cfg->test_seconds, "test", 86400);
			break;
		case 'v':
			cfg->verbosity = 2;
			break;
		case 'q':
			cfg->verbosity = 0;
			break;
		case 'h':
			usage(stdout);
			return 1; /* done: exit 0 */
		case ':':
			/* argv[optind - 1] is the option for a long one and
			 * the whole cluster (-jd) for a short one */
			if (!strncmp(argv[optind - 1], "--", 2))
				fprintf(stderr, "flowexport: option %s needs a value\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "flowexport: option -%c needs a value\n",
					optopt);
			return -EINVAL;
		default:
			if (!strncmp(argv[optind - 1], "--", 2) || !optopt)
				fprintf(stderr, "flowexport: unknown option '%s'; see --help\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "flowexport: unknown option '-%c'; see --help\n",
					optopt);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowexport: unexpected argument '%s'; see --help\n",
			argv[optind]);
		return -EINVAL;
	}

	if (modes) {
		const char *items[MAX_IFACES + 1];
		int n = split_list(modes, items, MAX_IFACES + 1, "mode");

		if (n < 0)
			return n;
		if (n > cfg->n_ifaces) {
			fprintf(stderr,
				"flowexport: %d modes for %d interfaces; give one mode per -d interface, in order\n",
				n, cfg->n_ifaces);
			return -EINVAL;
		}
		for (int i = 0; i < n; i++)
			if (parse_mode(items[i], &cfg->modes[i]))
				return -EINVAL;
		cfg->n_modes = n;
	}
	for (int i = cfg->n_modes; i < cfg->n_ifaces; i++)
		cfg->modes[i] = XDP_MODE_SKB;

	for (int i = 0; i < cfg->n_ifaces; i++)
		if (!if_nametoindex(cfg->ifnames[i]))
			return fail("no interface '%s'", cfg->ifnames[i],
				    "check the name with 'ip link'");
	if (cfg->dpi)
		return fail("%s is not available yet", "-D/--DPI", NULL);
	if (cfg->kernel_flows > cfg->max_flows) {
		/* every entry of a drained kernel table becomes a held flow */
		if (cfg->kernel_flows_given) {
			fprintf(stderr,
				"flowexport: --kernel-flows %u is more than --max-flows %u; the flows of one kernel table must fit the cache: raise --max-flows\n",
				cfg->kernel_flows, cfg->max_flows);
			return -EINVAL;
		}
		cfg->kernel_flows = cfg->max_flows;
	}
	if (cfg->test_seconds != 0 && !cfg->pcap_file && cfg->n_ifaces == 0)
		return fail("%s", "no interface given",
			    "use -d IF, -r FILE.pcap or -t 0; see --help");
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	int err;

	config_defaults(&cfg);
	err = parse_args(argc, argv, &cfg);
	if (err)
		return err > 0 ? 0 : 2;
	log_init(cfg.verbosity == 0 ? LOG_LEVEL_WARN :
		 cfg.verbosity == 2 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (cfg.log_file && (err = log_open_file(cfg.log_file))) {
		fprintf(stderr, "flowexport: cannot open log file '%s': %s\n",
			cfg.log_file, strerror(-err));
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "flowexport: must run as root (BPF and XDP need CAP_BPF and CAP_NET_ADMIN)\n");
		return 1;
	}

	if (cfg.test_seconds == 0)
		err = run_bench(&cfg);
	else if (cfg.pcap_file)
		err = run_offline(&cfg);
	else
		err = run_live(&cfg);
	log_close();
	return err ? 1 : 0;
}
