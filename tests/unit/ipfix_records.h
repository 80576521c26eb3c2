/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipfix_records.h - how the test collector reads IPFIX messages: the
 * template it collects into and the loop over one message's records. Shared
 * by ipfix_collector (sockets) and the libFuzzer target that feeds it
 * arbitrary bytes (tests/fuzz/fuzz_ipfix_collector.c).
 */
#ifndef FLOWEXPORT_TESTS_IPFIX_RECORDS_H
#define FLOWEXPORT_TESTS_IPFIX_RECORDS_H

#include <arpa/inet.h>
#include <linux/types.h>
#include <fixbuf/public.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define TID_COLLECT 0x0500

struct rec {
	__u8 src6[16];
	__u32 src4;
	__u32 pad;
	__u64 packets;
	__u64 octets;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad2[3];
	__u64 not_sent;
};

static fbInfoElementSpec_t rec_spec[] = {
	{ "sourceIPv6Address", 16, 0 },
	{ "sourceIPv4Address", 4, 0 },
	{ "paddingOctets", 4, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "octetDeltaCount", 8, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "paddingOctets", 3, 0 },
	{ "notSentFlowTotalCount", 8, 0 },
	FB_IESPEC_NULL
};

/* The session every collection reads into: our internal template only. */
static inline fbSession_t *collect_session(fbInfoModel_t *model, GError **err)
{
	fbSession_t *session = fbSessionAlloc(model);
	fbTemplate_t *tmpl = fbTemplateAlloc(model);

	if (!fbTemplateAppendSpecArray(tmpl, rec_spec, 0, err) ||
	    !fbSessionAddTemplate(session, TRUE, TID_COLLECT, tmpl, err)) {
		fbTemplateFreeUnused(tmpl);
		fbSessionFree(session);
		return NULL;
	}
	return session;
}

static inline void print_rec(FILE *out, const struct rec *r)
{
	char src[INET6_ADDRSTRLEN];
	__u32 v4 = htonl(r->src4);

	if (r->src4)
		inet_ntop(AF_INET, &v4, src, sizeof(src));
	else
		inet_ntop(AF_INET6, r->src6, src, sizeof(src));
	fprintf(out, "rec %s %llu %llu %u %u %u\n", src,
		(unsigned long long)r->packets, (unsigned long long)r->octets,
		r->sport, r->dport, r->proto);
}

/* The fewest bytes a record of t takes on the wire (a variable-length
 * element at least its length byte). */
static inline unsigned int record_min_len(fbTemplate_t *t)
{
	unsigned int len = 0;

	for (uint32_t i = 0; i < fbTemplateCountElements(t); i++) {
		const fbInfoElement_t *ie = fbTemplateGetIndexedIE(t, i);

		len += ie->len == FB_IE_VARLEN ? 1 : ie->len;
	}
	return len;
}

/* Reads the records of one message, printing each to out; true when the
 * connection (or file) ended. */
static inline bool read_all(fBuf_t *fbuf, FILE *out)
{
	GError *err = NULL;
	bool ended;

	for (;;) {
		uint16_t tid;
		fbTemplate_t *t = fBufNextCollectionTemplate(fbuf, &tid, &err);
		struct rec r;
		size_t len = sizeof(r);

		if (!t || !fBufSetInternalTemplate(fbuf, TID_COLLECT, &err))
			break;
		/* libfixbuf 2.4.1 reads records of 0 bytes, forever, from a
		 * set whose template has no elements or only elements of
		 * length 0: give up the message (found by
		 * tests/fuzz/fuzz_ipfix_collector) */
		if (!record_min_len(t)) {
			g_set_error(&err, FB_ERROR_DOMAIN, FB_ERROR_IPFIX,
				    "data set of template %#x, whose records take no bytes",
				    tid);
			break;
		}
		memset(&r, 0, sizeof(r));
		if (!fBufNext(fbuf, (uint8_t *)&r, &len, &err))
			break;
		if (fbTemplateGetOptionsScope(t))
			fprintf(out, "opt %llu\n", (unsigned long long)r.not_sent);
		else
			print_rec(out, &r);
		fflush(out);
	}
	ended = !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM);
	if (ended)
		fprintf(stderr, "connection ended: %s\n", err ? err->message : "?");
	g_clear_error(&err);
	return ended;
}

#endif
