// SPDX-License-Identifier: GPL-2.0
/* capture.c - libpcap offline reading with nanosecond timestamps. */
#include <errno.h>
#include <stdlib.h>
#include <pcap/pcap.h>
#include "capture.h"
#include "log.h"

struct capture {
	pcap_t *pc;
	const char *path;
};

struct capture *capture_open(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;
	int dlt;
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, errbuf);

	if (!pc) {
		pr_warn("cannot read pcap file '%s': %s\n", path, errbuf);
		return NULL;
	}
	dlt = pcap_datalink(pc);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		pr_warn("'%s' has link type %s (%d); only Ethernet captures (DLT_EN10MB) can be metered\n",
			path, name ? name : "unknown", dlt);
		pcap_close(pc);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pcap_close(pc);
		return NULL;
	}
	c->pc = pc;
	c->path = path;
	return c;
}

int capture_next(struct capture *c, const uint8_t **data, uint32_t *caplen,
		 uint64_t *ts_ns)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(c->pc, &h, &d);

	if (rc == 1) {
		*data = d;
		*caplen = h->caplen;
		/* nanosecond precision: tv_usec holds nanoseconds */
		*ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + h->ts.tv_usec;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	pr_warn("pcap file '%s' is damaged: %s\n", c->path,
		pcap_geterr(c->pc));
	return -EIO;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcap_close(c->pc);
	free(c);
}
