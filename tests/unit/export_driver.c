// SPDX-License-Identifier: GPL-2.0
/*
 * export_driver - feeds synthetic flow records through the exporter API
 * (exporter_open/send/tick/close), the way the manager does, so the export
 * tests can run against real collectors without the BPF side.
 *
 *   export_driver [-c DEST]... [--records N] [--batch N] [--pause-ms MS]
 *                 [--format ipfix|v9] [--template T] [--biflow]
 *                 [--buffer N] [--refresh-msgs N] [--refresh-sec S]
 *                 [--max-msg B] [--options-sec S] [--iface IF]
 *                 [--expect FILE] [--seed N] [--udp-rate MSGS]
 *                 [--domain ID] [--wait]
 *
 * --wait: hand records over as the manager does at exit (waiting for the
 * exporter rather than dropping what exceeds the buffer). Prints "sent N
 * records in MS ms" when all are handed over and "delivered N records in
 * MS ms" per exporter once it has written or sent them and closed.
 * Writes the records it sent to --expect as lines of
 * "proto src sport dst dport packets octets flags vlan ifindex start_ms end_ms
 * rev_packets rev_octets" (the last two 0 without --biflow)
 * and prints "records=N dropped=N unsent=N send_errors=N messages=N ..." per
 * exporter at the end. Exit status 0 unless an exporter could not open.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "export.h"
#include "log.h"

static __u64 now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (__u64)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void set_v4(__u8 *a, __u32 host)
{
	memset(a, 0, 10);
	a[10] = a[11] = 0xff;
	a[12] = host >> 24;
	a[13] = host >> 16;
	a[14] = host >> 8;
	a[15] = host;
}

/* Record i of a deterministic mix: IPv4 and IPv6, TCP, UDP, ICMP, some
 * VLAN-tagged, counters and times that differ per record. */
static bool v4_only; /* --v4-only: one template, no set changes */
static bool wait;    /* --wait: the manager at exit */

static void make_record(struct flow_record *r, __u64 i, __u64 base_ms, bool biflow)
{
	static const __u8 protos[] = { 6, 17, 6, 17, 1 };
	struct flow_key *k = &r->key;

	memset(r, 0, sizeof(*r));
	k->ip_version = i % 3 == 2 && !v4_only ? 6 : 4;
	k->protocol = protos[i % 5];
	if (k->protocol == 1 && k->ip_version == 6)
		k->protocol = 58;
	if (k->ip_version == 4) {
		set_v4(k->src_addr, 0x0a000000 | (__u32)(i & 0xffffff));
		set_v4(k->dst_addr, 0xc0a80001 + (__u32)(i % 200));
	} else {
		inet_pton(AF_INET6, "2001:db8::1", k->src_addr);
		inet_pton(AF_INET6, "2001:db8:1::", k->dst_addr);
		memcpy(k->src_addr + 8, &i, sizeof(i));
		k->dst_addr[15] = 1 + i % 200;
	}
	k->ifindex = 1 + i % 3;
	k->vlan_id = i % 4 == 0 ? 100 + i % 3000 : 0;
	if (k->protocol == 1 || k->protocol == 58) {
		k->dst_port = (k->protocol == 1 ? 8 : 128) << 8; /* echo request */
		k->icmp_id = i & 0xffff;
	} else {
		k->src_port = 1024 + i % 60000;
		k->dst_port = i % 2 ? 53 : 443;
	}
	r->fwd.packets = 1 + i % 97;
	r->fwd.octets = r->fwd.packets * (40 + i % 1400);
	r->fwd.tcp_flags = k->protocol == 6 ? 0x1b : 0;
	r->fwd.min_length = 40;
	r->fwd.max_length = 40 + i % 1400;
	r->fwd.min_ttl = 60;
	r->fwd.max_ttl = 64;
	r->fwd.tos = i % 2 ? 0 : 0x10;
	r->start_ms = base_ms - 20000 + i % 10000;
	r->end_ms = r->start_ms + i % 5000;
	r->end_reason = 1 + i % 5;
	if (biflow && k->protocol != 1 && k->protocol != 58) {
		r->has_reverse = 1;
		r->rev.packets = 1 + i % 13;
		r->rev.octets = r->rev.packets * 60;
		r->rev.tcp_flags = k->protocol == 6 ? 0x12 : 0;
		r->rev_start_ms = r->start_ms + 1;
		r->rev_end_ms = r->end_ms;
	}
}

static void write_expect(FILE *f, const struct flow_record *r)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const struct flow_key *k = &r->key;

	if (k->ip_version == 4) {
		inet_ntop(AF_INET, k->src_addr + 12, src, sizeof(src));
		inet_ntop(AF_INET, k->dst_addr + 12, dst, sizeof(dst));
	} else {
		inet_ntop(AF_INET6, k->src_addr, src, sizeof(src));
		inet_ntop(AF_INET6, k->dst_addr, dst, sizeof(dst));
	}
	fprintf(f, "%u %s %u %s %u %llu %llu %u %u %u %llu %llu %llu %llu\n",
		k->protocol, src, k->src_port, dst, k->dst_port,
		(unsigned long long)r->fwd.packets,
		(unsigned long long)r->fwd.octets, r->fwd.tcp_flags, k->vlan_id,
		k->ifindex, (unsigned long long)r->start_ms,
		(unsigned long long)r->end_ms,
		(unsigned long long)r->rev.packets,
		(unsigned long long)r->rev.octets);
}

enum { O_RECORDS = 256, O_BATCH, O_PAUSE, O_FORMAT, O_TEMPLATE, O_BIFLOW,
       O_BUFFER, O_RMSGS, O_RSEC, O_MAXMSG, O_OPTSEC, O_IFACE, O_EXPECT,
       O_SEED, O_V4, O_UDP_RATE, O_DOMAIN, O_WAIT };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collector", required_argument, NULL, 'c' },
		{ "records", required_argument, NULL, O_RECORDS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "pause-ms", required_argument, NULL, O_PAUSE },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "template", required_argument, NULL, O_TEMPLATE },
		{ "biflow", no_argument, NULL, O_BIFLOW },
		{ "buffer", required_argument, NULL, O_BUFFER },
		{ "refresh-msgs", required_argument, NULL, O_RMSGS },
		{ "refresh-sec", required_argument, NULL, O_RSEC },
		{ "max-msg", required_argument, NULL, O_MAXMSG },
		{ "options-sec", required_argument, NULL, O_OPTSEC },
		{ "iface", required_argument, NULL, O_IFACE },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "seed", required_argument, NULL, O_SEED },
		{ "v4-only", no_argument, NULL, O_V4 },
		{ "udp-rate", required_argument, NULL, O_UDP_RATE },
		{ "domain", required_argument, NULL, O_DOMAIN },
		{ "wait", no_argument, NULL, O_WAIT },
		{ 0 }
	};
	struct exporter *ex[MAX_COLLECTORS];
	unsigned long records = 100, batch = 100, pause_ms = 0, seed = 0;
	const char *expect = NULL;
	struct config cfg;
	struct flow_record *recs;
	FILE *ef = NULL;
	__u64 base, t0;
	int opt;

	config_defaults(&cfg);
	log_init(getenv("EXPORT_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfg.collectors[cfg.n_collectors++] = optarg; break;
		case O_RECORDS: records = strtoul(optarg, NULL, 0); break;
		case O_BATCH: batch = strtoul(optarg, NULL, 0); break;
		case O_PAUSE: pause_ms = strtoul(optarg, NULL, 0); break;
		case O_FORMAT:
			cfg.format = strcmp(optarg, "v9") ? FORMAT_IPFIX : FORMAT_NFV9;
			break;
		case O_TEMPLATE: cfg.template_name = optarg; break;
		case O_BIFLOW: cfg.biflow = true; break;
		case O_BUFFER: cfg.export_buffer_records = strtoul(optarg, NULL, 0); break;
		case O_RMSGS: cfg.template_refresh_msgs = strtoul(optarg, NULL, 0); break;
		case O_RSEC: cfg.template_refresh_sec = strtoul(optarg, NULL, 0); break;
		case O_MAXMSG: cfg.max_message_size = strtoul(optarg, NULL, 0); break;
		case O_UDP_RATE: cfg.udp_rate = strtoul(optarg, NULL, 0); break;
		case O_DOMAIN: cfg.observation_domain = strtoul(optarg, NULL, 0); break;
		case O_OPTSEC: cfg.options_interval = strtoul(optarg, NULL, 0); break;
		case O_IFACE: cfg.ifnames[cfg.n_ifaces++] = optarg; break;
		case O_EXPECT: expect = optarg; break;
		case O_SEED: seed = strtoul(optarg, NULL, 0); break;
		case O_V4: v4_only = true; break;
		case O_WAIT: wait = true; break;
		default: return 2;
		}
	}
	if (batch == 0)
		batch = 1;
	for (int i = 0; i < cfg.n_collectors; i++) {
		ex[i] = exporter_open(&cfg, cfg.collectors[i]);
		if (!ex[i])
			return 1;
		if (wait)
			exporter_draining(ex[i]);
	}
	if (expect && !(ef = fopen(expect, "w"))) {
		perror(expect);
		return 1;
	}
	recs = calloc(batch, sizeof(*recs));
	base = now_ms();
	t0 = base;
	for (unsigned long done = 0; done < records;) {
		unsigned long n = records - done < batch ? records - done : batch;

		for (unsigned long j = 0; j < n; j++) {
			make_record(&recs[j], seed + done + j, base, cfg.biflow);
			if (ef)
				write_expect(ef, &recs[j]);
		}
		for (int i = 0; i < cfg.n_collectors; i++)
			exporter_send(ex[i], recs, n);
		done += n;
		if (pause_ms)
			usleep(pause_ms * 1000);
		for (int i = 0; i < cfg.n_collectors; i++)
			exporter_tick(ex[i], time(NULL), NULL);
	}
	if (ef)
		fclose(ef);
	fprintf(stderr, "sent %lu records in %llu ms\n", records,
		(unsigned long long)(now_ms() - t0));
	for (int i = 0; i < cfg.n_collectors; i++) {
		struct exporter_stats st;

		exporter_close_stats(ex[i], &st);
		/* every record written or sent, the exporter closed */
		fprintf(stderr, "delivered %llu records in %llu ms\n",
			(unsigned long long)st.records,
			(unsigned long long)(now_ms() - t0));
		printf("records=%llu dropped=%llu unsent=%llu send_errors=%llu messages=%llu octets=%llu connects=%llu templates=%llu options=%llu\n",
		       (unsigned long long)st.records,
		       (unsigned long long)st.records_dropped,
		       (unsigned long long)st.records_unsent,
		       (unsigned long long)st.send_errors,
		       (unsigned long long)st.messages,
		       (unsigned long long)st.octets,
		       (unsigned long long)st.connects,
		       (unsigned long long)st.template_sends,
		       (unsigned long long)st.options_sends);
	}
	free(recs);
	return 0;
}
