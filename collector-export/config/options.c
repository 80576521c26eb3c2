// SPDX-License-Identifier: GPL-2.0
/*
 * options.c - the option table and what each option does to struct config,
 * whether it comes from the command line or a configuration file.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "export_dest.h"
#include "log.h"
#include "modes.h"
#include "metrics.h"
#include "options.h"
#include "privileges.h"
#include "tc_link.h"

enum opt_id {
	OPT_SHARE = 256, OPT_IDLE, OPT_ACTIVE, OPT_MAX_FLOWS, OPT_REPEAT,
	OPT_FORMAT, OPT_DOMAIN, OPT_TEMPLATE, OPT_BIFLOW, OPT_TMPL_SEC,
	OPT_TMPL_MSGS, OPT_MSG_SIZE, OPT_OPTIONS_SEC, OPT_BUFFER, OPT_FLOWS,
	OPT_UDP_RATE, OPT_KERNEL_FLOWS, OPT_STATS_SEC, OPT_STATS_FILE,
	OPT_SAMPLE, OPT_DUMP_ROTATE, OPT_DECAP,
	OPT_DIRECTION,
	OPT_TC_HOOK,
	OPT_CONFIG, OPT_VERSION, OPT_BALANCE, OPT_USER, OPT_METRICS,
};

/* flags is left out where it is 0 (a command-line option that is also a
 * key of [flowexport]): an entry is the option, its argument and its text. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const struct option_desc options[] = {
	{ { "dev", required_argument, NULL, 'd' }, "IF[,IF...]",
	  "interfaces to meter (required unless `-r` or `-t 0`)" },
	{ { "mode", required_argument, NULL, 'm' }, "MODE[,MODE...]",
	  "how each interface's ingress is metered, in `-d` order: `auto` (native XDP where the driver has it, else TC ingress: both count every wire packet), `native`|`driver`, `tc`, `skb`|`generic` (generic XDP runs after GRO: a merged TCP burst counts as one packet, octets stay exact), `hw`|`offload` [auto]" },
	{ { "direction", required_argument, NULL, OPT_DIRECTION }, "DIR",
	  "`ingress`, `egress` (TC) or `both`; with `both` a forwarded packet is counted once, where it enters a metered interface, and at egress only the host's own packets and those entering an interface not metered [both]" },
	{ { "tc-hook", required_argument, NULL, OPT_TC_HOOK }, "HOOK",
	  "how TC programs attach: `tcx` (kernel 6.6+), `clsact`, or `auto` (tcx, else clsact) [auto]" },
	{ { "protocols", required_argument, NULL, 'p' }, "P[,P...]",
	  "parsers to load: `eth,ip,ipv6,tcp,udp,icmp,icmpv6` [all]; packets of a protocol left out are counted as not parsed; with `-D` also the inspectors `dns,http,tls,quic` [all]" },
	{ { "share", required_argument, NULL, OPT_SHARE }, "S",
	  "how parse state travels between tail calls: `meta`, `percpu`, `global` [percpu]" },
	{ { "sample", required_argument, NULL, OPT_SAMPLE }, "N",
	  "meter 1 packet in N, chosen at random (the rate goes to collectors in the options records; a later fragment joins its first fragment's flow only when that was sampled too) [1: all]" },
	{ { "decap", no_argument, NULL, OPT_DECAP }, NULL,
	  "meter the inner packets of VXLAN (UDP 4789), Geneve (UDP 6081), GRE (with its key; IP or Ethernet payload) and IP-in-IP (4in4, 6in4, 4in6, 6in6) tunnels, one level deep: the inner flow is the key, with its VNI or GRE key (`layer2SegmentId`, in the key: tenants stay apart); without it a tunnel is a flow of its outer header. MPLS label stacks are parsed through either way" },
	{ { "DPI", no_argument, NULL, 'D' }, NULL,
	  "deep packet inspection of the first payload packets of each flow direction: DNS, HTTP/1.x, TLS ClientHello (SNI, version, ALPN, JA4) and QUIC Initial (version, SNI, ALPN); results in `-j` and in IPFIX (`applicationId` and its name, IANA HTTP and CERT (YAF) DNS/TLS elements)" },
	{ { "collector", required_argument, NULL, 'c' }, "DEST",
	  "export to `host:port` or `udp://host:port`, `tcp://host:port`, `file:PATH`; IPv6 as `[addr]:port`; repeatable (a configuration file takes a `;`-separated list, or one `[collector NAME]` group each)" },
	{ { "balance", no_argument, NULL, OPT_BALANCE }, NULL,
	  "with several `-c`, send each flow to one of them (chosen by its addresses, ports and protocol, the same for both directions and every report) instead of every record to every collector" },
	{ { "format", required_argument, NULL, OPT_FORMAT }, "F",
	  "export format: `ipfix` or `v9` [ipfix]", OPTF_COLLECTOR },
	{ { "observation-domain", required_argument, NULL, OPT_DOMAIN }, "N",
	  "IPFIX observation domain / v9 source id [1]", OPTF_COLLECTOR },
	{ { "template", required_argument, NULL, OPT_TEMPLATE }, "NAME|PATH",
	  "record template: `default`, `extended`, or a `.tmpl` file of IANA element names [default]", OPTF_COLLECTOR },
	{ { "biflow", no_argument, NULL, OPT_BIFLOW }, NULL,
	  "RFC 5103 bidirectional records (IPFIX): the two directions of a flow (addresses and ports swapped, same protocol and VLAN; ICMP: echo request and reply of one identifier only) in one record, also when they enter by two metered interfaces, and a host's request at egress with its reply at ingress; the first-seen direction is the forward one" },
	{ { "template-refresh", required_argument, NULL, OPT_TMPL_SEC }, "SEC",
	  "UDP: resend templates every SEC seconds [20]", OPTF_COLLECTOR },
	{ { "template-refresh-packets", required_argument, NULL, OPT_TMPL_MSGS }, "N",
	  "UDP: resend templates every N messages [100]", OPTF_COLLECTOR },
	{ { "max-message-size", required_argument, NULL, OPT_MSG_SIZE }, "BYTES",
	  "largest export message [1400]; a template that does not fit is refused at start with the smallest size that works", OPTF_COLLECTOR },
	{ { "options-interval", required_argument, NULL, OPT_OPTIONS_SEC }, "SEC",
	  "send exporter statistics and interface names every SEC seconds [60]", OPTF_COLLECTOR },
	{ { "export-buffer", required_argument, NULL, OPT_BUFFER }, "RECORDS",
	  "records held per collector, waiting for its thread to send them or for a TCP collector that is away [1000000]; overflow is counted (`unsentRecords`) and reported (with `-r` the replay waits for room while the collector takes records)", OPTF_COLLECTOR },
	{ { "udp-rate", required_argument, NULL, OPT_UDP_RATE }, "MSGS",
	  "UDP: at most MSGS export messages a second, 0 = no limit [25000, about 500k records/s]", OPTF_COLLECTOR },
	{ { "idle-timeout", required_argument, NULL, OPT_IDLE }, "SEC",
	  "expire a flow idle this long [15]" },
	{ { "active-timeout", required_argument, NULL, OPT_ACTIVE }, "SEC",
	  "report a long-lived flow every SEC seconds [60]" },
	{ { "max-flows", required_argument, NULL, OPT_MAX_FLOWS }, "N",
	  "flows held at once in the user-space cache: every flow alive within the idle timeout; above it the least recently seen flows end early (flowEndReason 5, counted as `evicted`); memory follows the flows held, about 400 bytes each [2097152]" },
	{ { "kernel-flows", required_argument, NULL, OPT_KERNEL_FLOWS }, "N",
	  "entries of the kernel flow table, which holds every live flow for its whole life; when it is full, a new flow's packets go through the overflow ring (still in the records); memory follows the flows present, about 340 bytes each, plus 16 bytes an entry up front [2097152, at most `--max-flows`]" },
	{ { "read", required_argument, NULL, 'r' }, "FILE.pcap",
	  "meter a capture file (pcap or pcapng; Ethernet or Linux cooked) through the same BPF programs (BPF_PROG_TEST_RUN), timeouts in capture time, then exit; snaplen-cut and oversized frames count as the packets they were" },
	{ { "interval", required_argument, NULL, 'i' }, "SEC",
	  "`0` drains once, prints and exits; given without `--dump-rotate`, also the `-O` file period (its meaning before `--dump-rotate`) [1]" },
	{ { "stats-interval", required_argument, NULL, OPT_STATS_SEC }, "SEC",
	  "a counters line every SEC seconds (fields below); `0`: only the one at exit [0]" },
	{ { "stats-file", required_argument, NULL, OPT_STATS_FILE }, "FILE",
	  "append counters lines to FILE instead of the log (stderr or `-L`)" },
	{ { "json", no_argument, NULL, 'j' }, NULL,
	  "JSON lines, keys are IANA IPFIX element names (flows; counters lines too); with `-t 0`, one object per strategy: `{\"share\":\"meta\",\"ns_per_packet\":83.2,\"floor_ns\":21.0,...}` and `tc_egress_ns_per_packet`, the same stages at TC egress" },
	{ { "Output", required_argument, NULL, 'O' }, "DIR",
	  "also write flows to `DIR/YYYY-MM-DD/YYYYMMDDTHHMMSSZ.txt` files (`.json` with `-j`; UTC, the period's start, no colons); a folder that cannot be written is logged once, export goes on, records not written are counted (`dump_unwritten`)" },
	{ { "dump-rotate", required_argument, NULL, OPT_DUMP_ROTATE }, "SEC",
	  "start a new `-O` file every SEC seconds, on multiples of SEC since the epoch (like nfcapd's `-t`) [300]" },
	{ { "Log", required_argument, NULL, 'L' }, "FILE",
	  "log messages to FILE [stderr]" },
	{ { "Map", required_argument, NULL, 'M' }, "PATH",
	  "continue the flow table pinned at PATH (a restarted or second instance); its own pins go beside it" },
	{ { "Folder", required_argument, NULL, 'F' }, "DIR",
	  "pin folder [" DEFAULT_PIN_DIR "]; the flow table is pinned there as `flow_stats`, and a restart after a crash takes over what is pinned there" },
	{ { "test", required_argument, NULL, 't' }, "SEC",
	  "`0`: time the pipeline with BPF_PROG_TEST_RUN; `N`: attach for N seconds and print the packet count" },
	{ { "repeat", required_argument, NULL, OPT_REPEAT }, "N",
	  "`-t 0`: runs per measurement [1000000]" },
	{ { "flows", required_argument, NULL, OPT_FLOWS }, "N",
	  "`-t 0`: cycle the packets through N flows (the table holds them all), at `--repeat` runs or 2N if more, against the empty program and a bare map program (`map_only_ns`: 5-tuple key, shared hash, in-place update); adds `flows`, `map_only_ns` and `table_bytes_per_flow` to `-j` [one flow, no map_only]" },
	{ { "user", required_argument, NULL, OPT_USER }, "NAME",
	  "once the programs are attached, run as user NAME (its group, no other groups) keeping only CAP_SYS_ADMIN (drain), CAP_DAC_OVERRIDE and CAP_FOWNER (remove root's pins and lock files at exit); needs root, or those with CAP_SETUID and CAP_SETGID" },
	{ { "metrics", required_argument, NULL, OPT_METRICS }, "ADDR:PORT",
	  "serve the counters at `http://ADDR:PORT/metrics` in the Prometheus text format (IPv6 as `[addr]:port`; updated at every drain, about once a second)" },
	{ { "verbose", no_argument, NULL, 'v' }, NULL,
	  "more messages (libbpf/libxdp detail, verifier log); with `-c`, also print flows on stdout (printed by default without `-c`)" },
	{ { "quiet", no_argument, NULL, 'q' }, NULL,
	  "warnings only; no counters line unless `--stats-interval` or `--stats-file` asks for it" },
	{ { "config", required_argument, NULL, OPT_CONFIG }, "FILE",
	  "read options from FILE, an INI file whose `[flowexport]` keys are these long options; the command line overrides it [" CONFIG_FILE_DEFAULT " when present]",
	  OPTF_CLI_ONLY },
	{ { "version", no_argument, NULL, OPT_VERSION }, NULL,
	  "print the version and exit", OPTF_CLI_ONLY },
	{ { "help", optional_argument, NULL, 'h' }, NULL,
	  "this text; `--help=roff`, `--help=markdown` and `--help=conf` print the options for the man page, README and the example configuration file", OPTF_CLI_ONLY },
};
#pragma GCC diagnostic pop
const size_t n_options = sizeof(options) / sizeof(options[0]);

const struct option_desc *option_by_name(const char *name)
{
	for (size_t i = 0; i < n_options; i++)
		if (!strcmp(options[i].opt.name, name))
			return &options[i];
	return NULL;
}

const struct option_desc *option_by_val(int val)
{
	for (size_t i = 0; i < n_options; i++)
		if (options[i].opt.val == val)
			return &options[i];
	return NULL;
}

/* One line on stderr; from a file it starts with the file, group and key. */
static int __attribute__((format(printf, 3, 4)))
opt_fail(const struct option_origin *where, const struct option_desc *d,
	 const char *fmt, ...)
{
	va_list ap;

	fputs("flowexport: ", stderr);
	if (where && where->file)
		fprintf(stderr, "%s: [%s] %s: ", where->file, where->group,
			d->opt.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* Strict unsigned parse: digits only, no sign, no trailing junk. */
static int parse_uint(const char *s, const struct option_desc *d,
		      const struct option_origin *where, unsigned long max,
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
	return opt_fail(where, d, "--%s '%s' is not a number from 0 to %lu",
			d->opt.name, s ? s : "", max);
}

#define PARSE_UINT(field, max)                                          \
	do {                                                            \
		unsigned long _v;                                       \
		if (parse_uint(value, d, where, max, &_v))              \
			return -EINVAL;                                 \
		field = _v;                                             \
	} while (0)

/* Split a comma list in place into at most max items. */
static int split_list(char *s, const char **items, int max,
		      const struct option_desc *d,
		      const struct option_origin *where)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n == max)
			return opt_fail(where, d, "too many --%s values (at most %d)",
					d->opt.name, max);
		items[n++] = tok;
	}
	if (!n)
		return opt_fail(where, d, "--%s needs at least one value",
				d->opt.name);
	return n;
}

static int parse_mode(const char *s, enum ingress_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = INGRESS_AUTO;
	else if (!strcmp(s, "tc"))
		*mode = INGRESS_TC;
	else if (!strcmp(s, "skb") || !strcmp(s, "generic"))
		*mode = INGRESS_XDP_SKB;
	else if (!strcmp(s, "native") || !strcmp(s, "driver") || !strcmp(s, "drv"))
		*mode = INGRESS_XDP_NATIVE;
	else if (!strcmp(s, "hw") || !strcmp(s, "offload"))
		*mode = INGRESS_XDP_HW;
	else
		return -EINVAL;
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
#define N_PROTOCOL_SLOTS (sizeof(protocol_slots) / sizeof(protocol_slots[0]))

/* -p also names the inspectors of -D */
static const char *const dpi_names[DPI_APP_MAX] = {
	[DPI_APP_DNS] = "dns", [DPI_APP_HTTP] = "http",
	[DPI_APP_TLS] = "tls", [DPI_APP_QUIC] = "quic",
};

static int dpi_app_bit(const char *name)
{
	for (int a = 1; a < DPI_APP_MAX; a++)
		if (!strcmp(name, dpi_names[a]))
			return 1 << a;
	return 0;
}

static int parse_protocols(const char *value, const struct option_desc *d,
			   const struct option_origin *where, __u32 *mask,
			   __u32 *dpi_mask)
{
	char list[256];
	const char *items[16];
	int n;

	snprintf(list, sizeof(list), "%s", value);
	n = split_list(list, items, 16, d, where);
	if (n < 0)
		return n;
	/* not optional (DPI: -D, decap: --decap) */
	*mask = 1U << SLOT_END | 1U << SLOT_DPI | 1U << SLOT_DECAP;
	*dpi_mask = 0;
	for (int i = 0; i < n; i++) {
		size_t j;

		if (dpi_app_bit(items[i])) {
			*dpi_mask |= dpi_app_bit(items[i]);
			continue;
		}
		for (j = 0; j < N_PROTOCOL_SLOTS; j++)
			if (!strcmp(items[i], protocol_slots[j].name))
				break;
		if (j == N_PROTOCOL_SLOTS)
			return opt_fail(where, d,
					"unknown protocol '%s'; use eth,ip,ipv6,tcp,udp,icmp,icmpv6 (and with -D dns,http,tls,quic)",
					items[i]);
		*mask |= 1U << protocol_slots[j].slot;
	}
	/* inspectors only: every parser stays */
	if (*mask == (1U << SLOT_END | 1U << SLOT_DPI | 1U << SLOT_DECAP))
		*mask = (1U << SLOT_MAX) - 1;
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
	return -EINVAL;
}

/* A -c value is checked here so that a bad one in a file names its key;
 * export_dest.c says what is wrong with it. */
static int check_collector(const char *value, const struct option_desc *d,
			   const struct option_origin *where)
{
	struct export_dest dest;
	char context[PATH_MAX + 64];
	int err;

	if (where && where->file) {
		snprintf(context, sizeof(context), "%s: [%s] %s: ", where->file,
			 where->group, d->opt.name);
		log_set_context(context);
	}
	err = dest_parse(value, &dest);
	log_set_context(NULL);
	return err;
}

int option_apply(struct config *cfg, const struct option_desc *d,
		 const char *value, const struct option_origin *where)
{
	/* a flag is set by the command line, and on or off in a file */
	bool on = !value || strcmp(value, "false");
	int n;

	switch (d->opt.val) {
	case 'd':
		/* split a copy: argv stays as it was for a second reading */
		n = split_list((char *)config_keep(cfg, value), cfg->ifnames,
			       MAX_IFACES, d, where);
		if (n < 0)
			return n;
		for (int i = 0; i < n && !cfg->reread; i++)
			if (!if_nametoindex(cfg->ifnames[i]))
				return opt_fail(where, d, "no interface '%s'; check the name with 'ip link'",
						cfg->ifnames[i]);
		cfg->n_ifaces = n;
		break;
	case 'm':
		n = split_list((char *)config_keep(cfg, value), cfg->mode_names,
			       MAX_IFACES + 1, d, where);
		if (n < 0)
			return n;
		for (int i = 0; i < n && i < MAX_IFACES; i++)
			if (parse_mode(cfg->mode_names[i], &cfg->modes[i]))
				return opt_fail(where, d, "unknown mode '%s'; use auto, native|driver, tc, skb|generic or hw|offload",
						cfg->mode_names[i]);
		cfg->n_modes = n;
		break;
	case 'p':
		if (parse_protocols(value, d, where, &cfg->slot_mask,
				    &cfg->dpi_mask))
			return -EINVAL;
		cfg->protocols_given = true;
		break;
	case OPT_DIRECTION:
		if (!strcmp(value, "ingress"))
			cfg->direction = METER_INGRESS;
		else if (!strcmp(value, "egress"))
			cfg->direction = METER_EGRESS;
		else if (!strcmp(value, "both"))
			cfg->direction = METER_INGRESS | METER_EGRESS;
		else
			return opt_fail(where, d, "unknown --direction '%s'; use ingress, egress or both",
					value);
		break;
	case OPT_TC_HOOK:
		if (!strcmp(value, "auto"))
			cfg->tc_hook = TC_HOOK_AUTO;
		else if (!strcmp(value, "tcx"))
			cfg->tc_hook = TC_HOOK_TCX;
		else if (!strcmp(value, "clsact"))
			cfg->tc_hook = TC_HOOK_CLSACT;
		else
			return opt_fail(where, d, "unknown --tc-hook '%s'; use auto, tcx or clsact",
					value);
		break;
	case OPT_SHARE:
		if (parse_share_mode(value, &cfg->share))
			return opt_fail(where, d, "unknown --share '%s'; use meta, percpu or global",
					value);
		cfg->share_given = true;
		break;
	case 'D':
		cfg->dpi = on;
		break;
	case 'c':
		if (cfg->n_collectors == MAX_COLLECTORS)
			return opt_fail(where, d, "too many collectors; at most %d",
					MAX_COLLECTORS);
		if (check_collector(value, d, where))
			return -EINVAL;
		cfg->collectors[cfg->n_collectors++] = value;
		break;
	case OPT_BALANCE:
		cfg->balance = on;
		break;
	case OPT_FORMAT:
		if (!strcmp(value, "ipfix"))
			cfg->format = FORMAT_IPFIX;
		else if (!strcmp(value, "v9") || !strcmp(value, "nfv9"))
			cfg->format = FORMAT_NFV9;
		else
			return opt_fail(where, d, "unknown --format '%s'; use ipfix or v9",
					value);
		break;
	case OPT_DOMAIN:
		PARSE_UINT(cfg->observation_domain, UINT32_MAX);
		break;
	case OPT_TEMPLATE:
		cfg->template_name = value;
		break;
	case OPT_BIFLOW:
		cfg->biflow = on;
		break;
	case OPT_DECAP:
		cfg->decap = on;
		break;
	case OPT_TMPL_SEC:
		PARSE_UINT(cfg->template_refresh_sec, 86400);
		break;
	case OPT_TMPL_MSGS:
		PARSE_UINT(cfg->template_refresh_msgs, 1000000);
		break;
	case OPT_MSG_SIZE:
		PARSE_UINT(cfg->max_message_size, 65535);
		if (cfg->max_message_size < 256)
			return opt_fail(where, d, "--max-message-size %s is too small; use at least 256 bytes",
					value);
		break;
	case OPT_OPTIONS_SEC:
		PARSE_UINT(cfg->options_interval, 86400);
		break;
	case OPT_BUFFER:
		PARSE_UINT(cfg->export_buffer_records, 100000000);
		break;
	case OPT_UDP_RATE:
		PARSE_UINT(cfg->udp_rate, 10000000);
		break;
	case OPT_SAMPLE:
		PARSE_UINT(cfg->sample_rate, 1000000000);
		if (cfg->sample_rate == 0)
			return opt_fail(where, d, "--sample 0 samples nothing; give N >= 1 (1: every packet)");
		break;
	case OPT_IDLE:
		PARSE_UINT(cfg->idle_timeout, 86400);
		break;
	case OPT_ACTIVE:
		PARSE_UINT(cfg->active_timeout, 86400);
		break;
	case OPT_MAX_FLOWS:
		PARSE_UINT(cfg->max_flows, 1U << 26);
		if (cfg->max_flows == 0)
			return opt_fail(where, d, "--max-flows must be at least 1");
		break;
	case OPT_KERNEL_FLOWS:
		PARSE_UINT(cfg->kernel_flows, 1U << 26);
		if (cfg->kernel_flows == 0)
			return opt_fail(where, d, "--kernel-flows must be at least 1");
		cfg->kernel_flows_given = true;
		break;
	case OPT_STATS_SEC:
		PARSE_UINT(cfg->stats_interval, 86400);
		break;
	case OPT_STATS_FILE:
		cfg->stats_file = value;
		break;
	case OPT_USER:
		if (privileges_user_exists(value))
			return opt_fail(where, d, "no user '%s'", value);
		cfg->user = value;
		break;
	case OPT_METRICS:
		if (metrics_parse_addr(value, NULL))
			return opt_fail(where, d, "--metrics '%s' is not ADDR:PORT (e.g. 127.0.0.1:9437 or [::1]:9437)",
					value);
		cfg->metrics = value;
		break;
	case OPT_REPEAT:
		PARSE_UINT(cfg->test_repeat, UINT32_MAX);
		if (cfg->test_repeat == 0)
			return opt_fail(where, d, "--repeat must be at least 1");
		break;
	case OPT_FLOWS:
		PARSE_UINT(cfg->bench_flows, 1U << 24);
		if (cfg->bench_flows == 0)
			return opt_fail(where, d, "--flows must be at least 1");
		break;
	case 'r':
		cfg->pcap_file = value;
		break;
	case 'i':
		PARSE_UINT(cfg->interval, 86400);
		cfg->interval_given = true;
		break;
	case OPT_DUMP_ROTATE:
		PARSE_UINT(cfg->dump_rotate, 86400);
		if (cfg->dump_rotate == 0)
			return opt_fail(where, d, "--dump-rotate must be at least 1 second");
		break;
	case 'j':
		cfg->json = on;
		break;
	case 'O':
		cfg->output_dir = value;
		break;
	case 'L':
		cfg->log_file = value;
		break;
	case 'M':
		cfg->map_path = value;
		break;
	case 'F':
		cfg->pin_dir = value;
		break;
	case 't':
		PARSE_UINT(cfg->test_seconds, 86400);
		break;
	case 'v':
		if (on)
			cfg->verbosity = 2;
		else if (cfg->verbosity == 2)
			cfg->verbosity = 1;
		break;
	case 'q':
		if (on)
			cfg->verbosity = 0;
		else if (cfg->verbosity == 0)
			cfg->verbosity = 1;
		break;
	default: /* --config, --version, --help: the caller's */
		return opt_fail(where, d, "--%s is not a setting", d->opt.name);
	}
	return 0;
}

int option_finish(struct config *cfg)
{
	/* modes pair with interfaces once both are known */
	if (cfg->n_modes > cfg->n_ifaces) {
		fprintf(stderr,
			"flowexport: %d modes for %d interfaces; give one mode per -d interface, in order\n",
			cfg->n_modes, cfg->n_ifaces);
		return -EINVAL;
	}
	for (int i = cfg->n_modes; i < cfg->n_ifaces; i++)
		cfg->modes[i] = INGRESS_AUTO;
	if (!cfg->dpi && cfg->dpi_mask) {
		fprintf(stderr, "flowexport: -p names inspectors (dns,http,tls,quic) but -D is not given\n");
		return -EINVAL;
	}
	/* -D alone: every inspector; with -p naming some, only those */
	if (cfg->dpi && !cfg->dpi_mask)
		cfg->dpi_mask = ((1U << DPI_APP_MAX) - 1) & ~1U;
	if (!cfg->dpi)
		cfg->dpi_mask = 0;
	if (cfg->kernel_flows > cfg->max_flows) {
		/* every kernel entry is a flow the cache holds */
		if (cfg->kernel_flows_given) {
			fprintf(stderr,
				"flowexport: --kernel-flows %u is more than --max-flows %u; the flows of one kernel table must fit the cache: raise --max-flows\n",
				cfg->kernel_flows, cfg->max_flows);
			return -EINVAL;
		}
		cfg->kernel_flows = cfg->max_flows;
	}
	if ((cfg->user || cfg->metrics) && (cfg->test_seconds == 0 || cfg->pcap_file)) {
		fprintf(stderr, "flowexport: --%s is for metering interfaces (-d), not for -r or -t 0\n",
			cfg->user ? "user" : "metrics");
		return -EINVAL;
	}
	if (cfg->test_seconds != 0 && !cfg->pcap_file && cfg->n_ifaces == 0) {
		fprintf(stderr, "flowexport: no interface given; use -d IF, -r FILE.pcap or -t 0; see --help\n");
		return -EINVAL;
	}
	return 0;
}
