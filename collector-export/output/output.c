// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - text and JSON lines: flow records on stdout and in -O dump
 * files, counters lines in the log or the --stats-file. Times are printed in UTC so that the same capture
 * gives the same text on any machine.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "dump_files.h"
#include "log.h"
#include "output.h"
#include "dpi_output.h"
#include "export_fields.h"

struct output {
	const struct config *cfg;
	bool print_flows;   /* stdout gets flows: no collector, or -v */
	struct dump_files *dump; /* -O, NULL: none */
	__u64 unwritten_before; /* -O records not written, files closed since */
	FILE *stats;        /* --stats-file, NULL: counters go to the log */
};

static const char *reason_name(__u8 reason)
{
	switch (reason) {
	case END_IDLE: return "idle";
	case END_ACTIVE: return "active";
	case END_OF_FLOW: return "closed";
	case END_FORCED: return "forced";
	case END_LACK_OF_RESOURCES: return "resources";
	}
	return "?";
}

static const char *proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 6: return "TCP";
	case 17: return "UDP";
	case 1: return "ICMP";
	case 58: return "ICMPv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

static bool is_icmp(const struct flow_key *k)
{
	return k->protocol == 1 || k->protocol == 58;
}

/* Keys hold IPv4 IPv4-mapped; print the plain dotted quad for those. */
static void addr_str(const struct flow_key *k, const __u8 *a, char *buf,
		     size_t len)
{
	if (k->ip_version == 4)
		inet_ntop(AF_INET, a + 12, buf, len);
	else
		inet_ntop(AF_INET6, a, buf, len);
}

static void time_str(__u64 ms, char *buf, size_t len)
{
	time_t sec = ms / 1000;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03u", (unsigned)(ms % 1000));
}

/* CWR ECE URG ACK PSH RST SYN FIN, '.' where unset (nfdump's order). */
static void flags_str(__u32 flags, char *buf)
{
	static const char names[] = "CEUAPRSF";

	for (int i = 0; i < 8; i++)
		buf[i] = flags & (0x80 >> i) ? names[i] : '.';
	buf[8] = '\0';
}

static int mpls_depth(const __u32 *mpls)
{
	int n = 0;

	while (n < FLOW_MPLS_LABELS && (mpls[n] & FLOW_MPLS_PRESENT))
		n++;
	return n;
}

/* --decap's tunnel and the MPLS labels, where the flow has them:
 * " vxlan 42", " gre key 7", " ipip", " mpls 16/17/18". */
static void write_text_segment(FILE *f, const struct flow_key *k,
			       const __u32 *mpls)
{
	int n = mpls_depth(mpls);

	if (k->tunnel == TUNNEL_GRE)
		fprintf(f, " gre key %u", k->segment_id);
	else if (k->tunnel == TUNNEL_IPIP)
		fprintf(f, " ipip");
	else if (k->tunnel)
		fprintf(f, " %s %u", flow_tunnel_name(k->tunnel), k->segment_id);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "/" : " mpls ", (mpls[i] >> 4) & 0xfffff);
}

/* JSON: layer2SegmentId (IE 351) as exported, the tunnel and its VNI or
 * key as read. */
static void write_json_tunnel(FILE *f, const struct flow_key *k)
{
	if (!k->tunnel)
		return;
	fprintf(f, ",\"tunnelType\":\"%s\"", flow_tunnel_name(k->tunnel));
	if (k->tunnel != TUNNEL_IPIP)
		fprintf(f, ",\"tunnelId\":%u,\"layer2SegmentId\":%" PRIu64,
			k->segment_id, (uint64_t)flow_layer2_segment_id(k));
}

void output_write_text(FILE *f, const struct flow_record *r)
{
	const struct flow_key *k = &r->key;
	char start[40], end[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char proto[8], flags[9];
	const char *lb = k->ip_version == 6 ? "[" : "", *rb = k->ip_version == 6 ? "]" : "";

	time_str(r->start_ms, start, sizeof(start));
	time_str(r->end_ms, end, sizeof(end));
	addr_str(k, k->src_addr, src, sizeof(src));
	addr_str(k, k->dst_addr, dst, sizeof(dst));
	flags_str(r->fwd.tcp_flags, flags);
	fprintf(f, "%s %s %-6s %s%s%s:%u -> %s%s%s:", start, end,
		proto_name(k->protocol, proto, sizeof(proto)), lb, src, rb,
		k->src_port, lb, dst, rb);
	if (is_icmp(k))
		fprintf(f, "%u.%u id %u", k->dst_port >> 8, k->dst_port & 0xff,
			k->icmp_id);
	else
		fprintf(f, "%u", k->dst_port);
	fprintf(f, " vlan %u %s %u pkts %" PRIu64 " bytes %" PRIu64 " flags %s",
		k->vlan_id, k->direction == FLOW_DIR_EGRESS ? "out" : "if",
		k->ifindex, (uint64_t)r->fwd.packets,
		(uint64_t)r->fwd.octets, flags);
	write_text_segment(f, k, r->fwd.mpls);
	if (r->has_reverse) {
		flags_str(r->rev.tcp_flags, flags);
		fprintf(f, " rev pkts %" PRIu64 " bytes %" PRIu64 " flags %s",
			(uint64_t)r->rev.packets, (uint64_t)r->rev.octets, flags);
	}
	fprintf(f, " end %s\n", reason_name(r->end_reason));
}

static void json_mac(FILE *f, const char *name, const __u8 *m)
{
	fprintf(f, ",\"%s\":\"%02x:%02x:%02x:%02x:%02x:%02x\"", name, m[0], m[1],
		m[2], m[3], m[4], m[5]);
}

static void json_u32_array(FILE *f, const char *name, const __u32 *v, int n)
{
	fprintf(f, ",\"%s\":[", name);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", v[i]);
	fputc(']', f);
}

static void json_u32_labels(FILE *f, const char *name, const __u32 *mpls,
			    int n)
{
	fprintf(f, ",\"%s\":[", name);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", (mpls[i] >> 4) & 0xfffff);
	fputc(']', f);
}

/* "packetDeltaCount" with prefix "reverse" is "reversePacketDeltaCount". */
static const char *json_key(char *buf, size_t len, const char *prefix,
			    const char *ie)
{
	if (!*prefix)
		return ie;
	snprintf(buf, len, "%s%c%s", prefix, g_ascii_toupper(ie[0]), ie + 1);
	return buf;
}

/* The statistics of one direction; prefix "" or "reverse" (RFC 5103
 * style: reverse + the element name with its first letter capitalised). */
static void json_direction(FILE *f, const char *prefix,
			   const struct flow_stats *s, __u64 start_ms,
			   __u64 end_ms, const struct flow_key *k)
{
	char name[64];
#define KEY(ie) json_key(name, sizeof(name), prefix, ie)

	fprintf(f, ",\"%s\":%" PRIu64, KEY("packetDeltaCount"), (uint64_t)s->packets);
	fprintf(f, ",\"%s\":%" PRIu64, KEY("octetDeltaCount"), (uint64_t)s->octets);
	fprintf(f, ",\"%s\":%" PRIu64, KEY("flowStartMilliseconds"), (uint64_t)start_ms);
	fprintf(f, ",\"%s\":%" PRIu64, KEY("flowEndMilliseconds"), (uint64_t)end_ms);
	fprintf(f, ",\"%s\":%u", KEY("minimumIpTotalLength"), s->min_length);
	fprintf(f, ",\"%s\":%u", KEY("maximumIpTotalLength"), s->max_length);
	fprintf(f, ",\"%s\":%u", KEY("minimumTTL"), s->min_ttl);
	fprintf(f, ",\"%s\":%u", KEY("maximumTTL"), s->max_ttl);
	fprintf(f, ",\"%s\":%u", KEY("ipClassOfService"), s->tos);
	json_mac(f, KEY("sourceMacAddress"), s->src_mac);
	json_mac(f, KEY("destinationMacAddress"), s->dst_mac);
	/* MPLS label stack sections (IEs 70-72) as the 24 bits exported
	 * (label << 4 | EXP << 1 | S), and the labels alone */
	for (int i = 0, n = mpls_depth(s->mpls); i < n; i++) {
		static const char *const ie[FLOW_MPLS_LABELS] = {
			"mplsTopLabelStackSection", "mplsLabelStackSection2",
			"mplsLabelStackSection3",
		};

		fprintf(f, ",\"%s\":%u", KEY(ie[i]), s->mpls[i] & 0xffffff);
		if (i == n - 1)
			json_u32_labels(f, KEY("mplsLabels"), s->mpls, n);
	}
	if (k->ip_version == 6)
		fprintf(f, ",\"%s\":%u", KEY("flowLabelIPv6"), s->flow_label);
	if (k->protocol == 6) {
		fprintf(f, ",\"%s\":%u", KEY("tcpControlBits"), s->tcp_flags);
		if (s->tcp_win_max || s->tcp_win_min != 0xffff) {
			fprintf(f, ",\"%s\":%u", KEY("tcpWindowMin"), s->tcp_win_min);
			fprintf(f, ",\"%s\":%u", KEY("tcpWindowMax"), s->tcp_win_max);
		}
		if (s->tcp_mss)
			fprintf(f, ",\"%s\":%u", KEY("tcpMss"), s->tcp_mss);
		if (s->tcp_wscale != 0xff)
			fprintf(f, ",\"%s\":%u", KEY("tcpWindowScale"), s->tcp_wscale);
		fprintf(f, ",\"%s\":%" PRIu64, KEY("retransmittedPackets"),
			(uint64_t)s->retrans_packets);
		fprintf(f, ",\"%s\":%" PRIu64, KEY("retransmittedOctets"),
			(uint64_t)s->retrans_octets);
	}
	fprintf(f, ",\"%s\":%" PRIu64, KEY("interArrivalSumNs"), (uint64_t)s->iat_sum_ns);
	json_u32_array(f, KEY("ipTotalLengthHistogram"), s->size_hist, FLOW_SIZE_BINS);
	json_u32_array(f, KEY("ttlHistogram"), s->ttl_hist, FLOW_TTL_BINS);
#undef KEY
}

void output_write_json(FILE *f, const struct flow_record *r)
{
	const struct flow_key *k = &r->key;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *v = k->ip_version == 6 ? "IPv6" : "IPv4";

	addr_str(k, k->src_addr, src, sizeof(src));
	addr_str(k, k->dst_addr, dst, sizeof(dst));
	fprintf(f, "{\"source%sAddress\":\"%s\",\"destination%sAddress\":\"%s\"",
		v, src, v, dst);
	fprintf(f, ",\"ipVersion\":%u,\"protocolIdentifier\":%u", k->ip_version,
		k->protocol);
	fprintf(f, ",\"sourceTransportPort\":%u,\"destinationTransportPort\":%u",
		k->src_port, k->dst_port);
	if (is_icmp(k))
		fprintf(f, ",\"icmpTypeCode%s\":%u,\"icmpEchoIdentifier\":%u", v,
			k->dst_port, k->icmp_id);
	fprintf(f, ",\"vlanId\":%u,\"%sInterface\":%u,\"flowDirection\":%u",
		k->vlan_id, k->direction == FLOW_DIR_EGRESS ? "egress" : "ingress",
		k->ifindex, k->direction);
	write_json_tunnel(f, k);
	json_direction(f, "", &r->fwd, r->start_ms, r->end_ms, k);
	if (r->has_reverse)
		json_direction(f, "reverse", &r->rev, r->rev_start_ms,
			       r->rev_end_ms, k);
	if (r->dpi)
		dpi_write_json(f, r->dpi);
	fprintf(f, ",\"flowEndReason\":%u}\n", r->end_reason);
}

/* -O's file period: --dump-rotate, or -i where it alone is given (what
 * -i meant before --dump-rotate), or nfcapd's 5 minutes. */
unsigned int output_dump_period(const struct config *cfg)
{
	if (cfg->dump_rotate)
		return cfg->dump_rotate;
	if (cfg->interval_given && cfg->interval)
		return cfg->interval;
	return DEFAULT_DUMP_ROTATE;
}

/* The files of cfg as it is now: the -O folder and the stats file. */
static int open_files(struct output *o)
{
	const struct config *cfg = o->cfg;
	int err;

	o->print_flows = cfg->n_collectors == 0 || cfg->verbosity >= 2;
	if (cfg->output_dir) {
		o->dump = dump_files_open(cfg->output_dir,
					  output_dump_period(cfg), cfg->json);
		if (!o->dump)
			return -errno;
	}
	if (cfg->stats_file) {
		o->stats = fopen(cfg->stats_file, "a");
		if (!o->stats) {
			err = -errno;
			pr_warn("cannot open stats file '%s' (--stats-file): %s\n",
				cfg->stats_file, strerror(-err));
			return err;
		}
		setvbuf(o->stats, NULL, _IOLBF, 0); /* whole lines for readers */
	}
	return 0;
}

static __u64 close_files(struct output *o)
{
	__u64 unwritten = o->dump ? dump_files_unwritten(o->dump) : 0;

	dump_files_close(o->dump);
	o->dump = NULL;
	if (o->stats && fclose(o->stats))
		pr_warn("cannot write stats file '%s': %s\n",
			o->cfg->stats_file, strerror(errno));
	o->stats = NULL;
	return unwritten;
}

struct output *output_open(const struct config *cfg)
{
	struct output *o = calloc(1, sizeof(*o));
	int err;

	if (!o)
		return NULL;
	o->cfg = cfg;
	err = open_files(o);
	if (err) {
		close_files(o);
		free(o);
		errno = -err;
		return NULL;
	}
	return o;
}

__u64 output_dump_unwritten(const struct output *o)
{
	return o->unwritten_before +
	       (o->dump ? dump_files_unwritten(o->dump) : 0);
}

int output_reopen(struct output *o)
{
	__u64 unwritten = o->unwritten_before + close_files(o);
	int err = open_files(o);

	/* the count goes on across reopenings, as the other counters do */
	o->unwritten_before = unwritten;
	return err;
}

void output_rotate(struct output *o, time_t now)
{
	if (o->dump)
		dump_files_set_time(o->dump, now);
}

void output_records(struct output *o, const struct flow_record *recs,
		    size_t n)
{
	void (*write)(FILE *, const struct flow_record *) =
		o->cfg->json ? output_write_json : output_write_text;

	if (o->dump)
		dump_files_write(o->dump, recs, n);
	if (!o->print_flows)
		return;
	for (size_t i = 0; i < n; i++)
		write(stdout, &recs[i]);
	fflush(stdout);
}

/* -D: the inspectors' counts, inside the line's closing ("}}\n" or
 * "\n"). */
static void dpi_counters(char *line, size_t size, bool json,
			 const struct counters_report *c)
{
	size_t len = strlen(line), close = json ? 3 : 1;

	if (len < close)
		return;
	len -= close;
	snprintf(line + len, size - len,
		 json ? ",\"dpiSnapshots\":%llu,\"dpiRingFull\":%llu,\"dpiFound\":%llu,\"dpiMalformed\":%llu,\"dpiUnknown\":%llu}}\n" :
			" dpi_snapshots %llu dpi_ring_full %llu dpi_found %llu dpi_malformed %llu dpi_unknown %llu\n",
		 c->dpi_snapshots, c->dpi_ring_full, c->dpi_found,
		 c->dpi_malformed, c->dpi_unknown);
}

/* The counters line, text or JSON (-j); every field is explained in
 * --help and the README. Never on stdout, which carries records only. */
void output_counters(struct output *o, const struct counters_report *c)
{
	char line[1536];
	size_t len;

	if (o->cfg->json)
		snprintf(line, sizeof(line),
			 "{\"counters\":{\"packets\":%llu,\"pps\":%.1f,\"notSampled\":%llu,\"flowed\":%llu,"
			 "\"notParsed\":%llu,\"selfExport\":%llu,\"malformed\":%llu,\"internal\":%llu,"
			 "\"missedTailCalls\":%llu,\"ringPackets\":%llu,"
			 "\"overflowPackets\":%llu,\"overflowOctets\":%llu,"
			 "\"noticesLost\":%llu,\"activeFlows\":%llu,\"evictedFlows\":%llu,\"exportedRecords\":%llu,"
			 "\"exportedPackets\":%llu,\"exportedOctets\":%llu,"
			 "\"sentRecords\":%llu,\"sentPackets\":%llu,\"unsentRecords\":%llu,"
			 "\"unsentPackets\":%llu,\"sendErrors\":%llu,"
			 "\"egressPackets\":%llu,\"egressNotSampled\":%llu,\"egressFlowed\":%llu,"
			 "\"egressNotParsed\":%llu,\"egressMalformed\":%llu,\"egressInternal\":%llu,"
			 "\"forwarded\":%llu",
			 c->seen, c->pps, c->not_sampled, c->flowed, c->not_parsed,
			 c->self_export,
			 c->malformed, c->internal, c->missed_tail_calls, c->ring_packets,
			 c->overflow_packets, c->overflow_octets, c->notices_lost,
			 c->active_flows,
			 c->evicted_flows, c->records, c->record_packets,
			 c->record_octets, c->sent_records, c->sent_packets,
			 c->unsent_records, c->unsent_packets, c->send_errors,
			 c->egress_seen, c->egress_not_sampled,
			 c->egress_flowed, c->egress_not_parsed, c->egress_malformed,
			 c->egress_internal, c->forwarded);
	else
		snprintf(line, sizeof(line),
			 "counters: packets %llu pps %.1f not_sampled %llu flowed %llu not_parsed %llu "
			 "self_export %llu malformed %llu internal %llu "
			 "missed_tail_calls %llu ring %llu overflow %llu (%llu octets) "
			 "notices_lost %llu active_flows %llu evicted %llu "
			 "exported %llu (packets %llu octets %llu) "
			 "sent %llu (packets %llu) unsent %llu (packets %llu) send_errors %llu "
			 "egress_packets %llu egress_not_sampled %llu egress_flowed %llu "
			 "egress_not_parsed %llu egress_malformed %llu egress_internal %llu "
			 "forwarded %llu",
			 c->seen, c->pps, c->not_sampled, c->flowed, c->not_parsed,
			 c->self_export, c->malformed, c->internal, c->missed_tail_calls,
			 c->ring_packets, c->overflow_packets, c->overflow_octets,
			 c->notices_lost, c->active_flows, c->evicted_flows, c->records,
			 c->record_packets, c->record_octets, c->sent_records,
			 c->sent_packets, c->unsent_records, c->unsent_packets,
			 c->send_errors, c->egress_seen,
			 c->egress_not_sampled, c->egress_flowed, c->egress_not_parsed,
			 c->egress_malformed, c->egress_internal, c->forwarded);
	len = strlen(line);
	/* -O only: records the dump folder could not take */
	if (o->cfg->output_dir)
		len += snprintf(line + len, sizeof(line) - len,
				o->cfg->json ? ",\"dumpUnwritten\":%llu" :
				" dump_unwritten %llu",
				(unsigned long long)output_dump_unwritten(o));
	snprintf(line + len, sizeof(line) - len, "%s",
		 o->cfg->json ? "}}\n" : "\n");
	if (o->cfg->dpi)
		dpi_counters(line, sizeof(line), o->cfg->json, c);
	if (o->stats)
		fputs(line, o->stats);
	else
		log_msg(LOG_LEVEL_ALWAYS, "%s", line);
}

void output_close(struct output *o)
{
	if (!o)
		return;
	close_files(o);
	free(o);
}
