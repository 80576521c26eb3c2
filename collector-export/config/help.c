// SPDX-License-Identifier: GPL-2.0
/*
 * help.c - the option table as --help text, as the OPTIONS and COUNTERS
 * sections of the man page (roff) and as README's option table
 * (markdown). One source, so that the three cannot disagree.
 */
#include <string.h>
#include "options.h"

#define HELP_WIDTH 80
#define HELP_INDENT 36

/* Every field of the counters line, text name (JSON name). */
static const char counters_help[] =
	"Standard output carries flow records only. The counters line goes to the\n"
	"log (stderr, or -L FILE) or to --stats-file: once at exit (not with -q unless\n"
	"asked for), and every --stats-interval SEC while metering interfaces (-r:\n"
	"only at the end). Totals since start; JSON with -j:\n"
	"  packets (packets)          packets that reached the meter on all interfaces\n"
	"  pps (pps)                  packets a second since the previous line or the\n"
	"                             start (0 with -r)\n"
	"  not_sampled (notSampled)   left out by --sample (0 without it)\n"
	"  flowed (flowed)            packets accounted to a flow\n"
	"  not_parsed (notParsed)     protocol not parsed (left out with -p, ARP, ...)\n"
	"  self_export (selfExport)   of not_parsed: our own TCP export connection\n"
	"  malformed (malformed)      truncated or invalid headers\n"
	"  internal (internal)        parse state unavailable; should stay 0\n"
	"  missed_tail_calls (missedTailCalls)  tail calls to an empty program slot\n"
	"  ring (ringPackets)         of flowed: kernel table full, or the flow being\n"
	"                             closed: came through the overflow ring (still in\n"
	"                             the records)\n"
	"  overflow N (N octets) (overflowPackets, overflowOctets)  of flowed: ring\n"
	"                             full too, in these totals only, in no record\n"
	"  notices_lost (noticesLost) new-flow notices that found their ring full; the\n"
	"                             kernel table was walked instead (nothing lost)\n"
	"  active_flows (activeFlows) flows held in the user-space cache now\n"
	"  evicted (evictedFlows)     flows ended early, cache full (--max-flows)\n"
	"  exported N (packets N octets N) (exportedRecords, exportedPackets,\n"
	"                             exportedOctets)  records made so far, and the\n"
	"                             packets and octets they carry\n"
	"  sent N (packets N) (sentRecords, sentPackets)  records the collectors\n"
	"                             took (UDP: no refusal came back), summed over\n"
	"                             collectors, and the packets they carry\n"
	"  unsent N (packets N) (unsentRecords, unsentPackets)  records that could\n"
	"                             not be sent or held (refused, buffer full,\n"
	"                             undelivered at exit), and their packets;\n"
	"                             per collector: sent + unsent = exported\n"
	"  send_errors (sendErrors)   failed sends and ICMP refusals\n"
	"  dump_unwritten (dumpUnwritten)  with -O only: records the dump folder\n"
	"                             could not take (full, read-only)\n"
	"  egress_packets, egress_not_sampled, egress_flowed, egress_not_parsed,\n"
	"  egress_malformed, egress_internal (egressPackets, egressNotSampled,\n"
	"  egressFlowed, egressNotParsed, egressMalformed, egressInternal)\n"
	"                             of the figures above, those of the egress\n"
	"                             programs (--direction)\n"
	"  forwarded (forwarded)      forwarded packets the egress programs left\n"
	"                             out: counted at a metered ingress, not in\n"
	"                             packets\n"
	"  -D only: dpi_snapshots (dpiSnapshots) payloads sent to the inspectors;\n"
	"  dpi_ring_full (dpiRingFull) payloads lost, DPI ring full; dpi_found,\n"
	"  dpi_malformed, dpi_unknown (dpiFound, dpiMalformed, dpiUnknown) what\n"
	"                             the parsers made of them: a result, malformed\n"
	"                             (counted, nothing kept), no result by itself\n"
	"                             (not their protocol, or cut: the rest follows)\n"
	"At exit: packets = not_sampled + flowed + not_parsed + malformed +\n"
	"internal, and the same of the egress_ figures alone;\n"
	"flowed - overflow = the packets exported. A GSO/TSO packet counts as\n"
	"the wire packets it carries.\n";

/* The help text, and where else the option may be given. */
static const char *full_help(const struct option_desc *d, char *buf,
			     size_t size)
{
	snprintf(buf, size, "%s%s", d->help,
		 d->flags & OPTF_COLLECTOR ? " (also per `[collector NAME]`)" : "");
	return buf;
}

/* "-d, --dev IF[,IF...]" or "--share S" (long-only options). */
static void option_left(const struct option_desc *d, char *buf, size_t size)
{
	if (d->opt.val < 256)
		snprintf(buf, size, "-%c, --%s%s%s", d->opt.val, d->opt.name,
			 d->arg ? " " : "", d->arg ? d->arg : "");
	else
		snprintf(buf, size, "--%s%s%s", d->opt.name, d->arg ? " " : "",
			 d->arg ? d->arg : "");
}

/* text without its `marks`, wrapped at word boundaries into the column
 * from indent to HELP_WIDTH, each line starting with lead; col is where
 * the cursor is. */
static void print_wrapped(FILE *out, const char *text, int col, int indent,
			  const char *lead)
{
	char plain[1024], *p = plain;

	for (const char *s = text; *s && p < plain + sizeof(plain) - 1; s++)
		if (*s != '`')
			*p++ = *s;
	*p = '\0';
	for (p = plain; *p;) {
		size_t word = strcspn(p, " ");

		if (col > indent && col + 1 + (int)word > HELP_WIDTH) {
			fputc('\n', out);
			col = 0;
		}
		if (col == 0)
			col += fprintf(out, "%s", lead);
		if (col < indent)
			col += fprintf(out, "%*s", indent - col, "");
		else
			col += fprintf(out, " ");
		col += fprintf(out, "%.*s", (int)word, p);
		p += word;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

static void print_text(FILE *out, const struct option_desc *d)
{
	char left[96], help[1024];
	int col;

	option_left(d, left, sizeof(left));
	col = fprintf(out, "  %s%s", d->opt.val < 256 ? "" : "    ", left);
	if (col >= HELP_INDENT) {
		fputc('\n', out);
		col = 0;
	}
	print_wrapped(out, full_help(d, help, sizeof(help)), col, HELP_INDENT, "");
}

/* A commented-out key with its text above it. */
static void print_conf(FILE *out, const struct option_desc *d)
{
	char help[1024];

	if (d->flags & OPTF_CLI_ONLY)
		return;
	fputc('\n', out);
	print_wrapped(out, full_help(d, help, sizeof(help)), 0, 2, "#");
	if (d->arg)
		fprintf(out, "#%s=%s\n", d->opt.name, d->arg);
	else
		fprintf(out, "#%s=true\n", d->opt.name);
}

static const char conf_head[] =
	"# flowexport configuration: read from " CONFIG_FILE_DEFAULT " when it\n"
	"# exists and no --config FILE is given. Every key is a long option of\n"
	"# flowexport(8), with the same value; flags take true or false. The command\n"
	"# line overrides this file. An unknown key or a bad value stops flowexport\n"
	"# with a message naming this file and the key.\n"
	"# Generated by flowexport --help=conf; every key is commented out, so this\n"
	"# file as it is changes nothing.\n"
	"\n"
	"[flowexport]\n";

static const char conf_tail[] =
	"\n"
	"# Collectors: the collector key above takes a ;-separated list,\n"
	"#   collector=nfcapd.example.net:4739;tcp://silk.example.net:18001\n"
	"# or give each collector a group of its own, whose collector key is the\n"
	"# destination and whose other keys (those marked \"also per [collector\n"
	"# NAME]\" above) apply to it alone. A -c on the command line replaces\n"
	"# every collector of the file.\n"
	"#\n"
	"#[collector nfcapd]\n"
	"#collector=nfcapd.example.net:4739\n"
	"#\n"
	"#[collector pmacct]\n"
	"#collector=pmacct.example.net:2055\n"
	"#format=v9\n"
	"#observation-domain=2\n";

/* roff: backslashes and hyphens escaped, `marks` as bold. */
static void print_roff_text(FILE *out, const char *s)
{
	bool bold = false;

	for (; *s; s++) {
		if (*s == '`') {
			fputs(bold ? "\\fR" : "\\fB", out);
			bold = !bold;
		} else if (*s == '\\') {
			fputs("\\e", out);
		} else if (*s == '-') {
			fputs("\\-", out);
		} else {
			fputc(*s, out);
		}
	}
}

static void print_roff(FILE *out, const struct option_desc *d)
{
	char help[1024];

	fputs(".TP\n", out);
	if (d->opt.val < 256)
		fprintf(out, "\\fB\\-%c\\fR, ", d->opt.val);
	fputs("\\fB", out);
	print_roff_text(out, "--");
	print_roff_text(out, d->opt.name);
	fputs("\\fR", out);
	if (d->arg) {
		fputs(" \\fI", out);
		print_roff_text(out, d->arg);
		fputs("\\fR", out);
	}
	fputc('\n', out);
	print_roff_text(out, full_help(d, help, sizeof(help)));
	fputc('\n', out);
}

/* markdown table cells: '|' escaped, also inside `code`. */
static void print_md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void print_markdown(FILE *out, const struct option_desc *d)
{
	char left[96], help[1024];

	option_left(d, left, sizeof(left));
	fputs("| `", out);
	print_md_cell(out, left);
	fputs("` | ", out);
	print_md_cell(out, full_help(d, help, sizeof(help)));
	fputs(" |\n", out);
}

void options_print(FILE *out, enum help_format fmt)
{
	switch (fmt) {
	case HELP_TEXT:
		fputs("Usage: flowexport -d IF[,IF] [-c COLLECTOR] [options]\n"
		      "       flowexport -r FILE.pcap [options]\n"
		      "       flowexport -t 0 [-j] [--share S]\n"
		      "       flowexport --config FILE [options]\n\n", out);
		for (size_t i = 0; i < n_options; i++)
			print_text(out, &options[i]);
		fprintf(out, "\n%s", counters_help);
		break;
	case HELP_ROFF:
		fputs(".SH OPTIONS\n", out);
		for (size_t i = 0; i < n_options; i++)
			print_roff(out, &options[i]);
		fputs(".SH COUNTERS\n.nf\n", out);
		print_roff_text(out, counters_help);
		fputs(".fi\n", out);
		break;
	case HELP_MARKDOWN:
		fputs("| option | meaning |\n|---|---|\n", out);
		for (size_t i = 0; i < n_options; i++)
			print_markdown(out, &options[i]);
		break;
	case HELP_CONF:
		fputs(conf_head, out);
		for (size_t i = 0; i < n_options; i++)
			print_conf(out, &options[i]);
		fputs(conf_tail, out);
		break;
	}
}
