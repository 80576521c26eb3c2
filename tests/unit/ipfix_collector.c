// SPDX-License-Identifier: GPL-2.0
/*
 * ipfix_collector - a small IPFIX collector on libfixbuf's listener API, for
 * the TCP export tests (nfcapd only speaks UDP).
 *
 *   ipfix_collector tcp|udp PORT [ADDRESS]   (IPv4, default 127.0.0.1)
 *
 * UDP uses libfixbuf's listener as is; TCP accepts on a socket of ours
 * and hands each connection to fbListenerOwnSocketCollectorTCP().
 * Prints one line per data record, flushed at once so that a test can kill
 * the collector at any moment and still count what it received:
 *   "rec SRC PACKETS OCTETS SPORT DPORT PROTO"
 * and "opt NOTSENT" per options record (notSentFlowTotalCount, 0 in the
 * interface records). Connections come and go; it runs until
 * killed.
 */
#include <arpa/inet.h>
#include <linux/types.h>
#include <fixbuf/public.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void print_rec(const struct rec *r)
{
	char src[INET6_ADDRSTRLEN];
	__u32 v4 = htonl(r->src4);

	if (r->src4)
		inet_ntop(AF_INET, &v4, src, sizeof(src));
	else
		inet_ntop(AF_INET6, r->src6, src, sizeof(src));
	printf("rec %s %llu %llu %u %u %u\n", src, (unsigned long long)r->packets,
	       (unsigned long long)r->octets, r->sport, r->dport, r->proto);
}

/* Reads the records of one message; true when the connection ended. */
static bool read_all(fBuf_t *fbuf)
{
	bool ended;

	GError *err = NULL;

	for (;;) {
		uint16_t tid;
		fbTemplate_t *t = fBufNextCollectionTemplate(fbuf, &tid, &err);
		struct rec r;
		size_t len = sizeof(r);

		if (!t || !fBufSetInternalTemplate(fbuf, TID_COLLECT, &err))
			break;
		memset(&r, 0, sizeof(r));
		if (!fBufNext(fbuf, (uint8_t *)&r, &len, &err))
			break;
		if (fbTemplateGetOptionsScope(t))
			printf("opt %llu\n", (unsigned long long)r.not_sent);
		else
			print_rec(&r);
		fflush(stdout);
	}
	ended = !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM);
	if (ended)
		fprintf(stderr, "connection ended: %s\n", err ? err->message : "?");
	g_clear_error(&err);
	return ended;
}

/* Our own listening socket with SO_REUSEADDR: a collector restarted right
 * after being killed must get its port back despite TIME_WAIT, which
 * libfixbuf's own listener socket does not allow. */
static int listen_tcp(const char *port, const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(atoi(port)) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "ipfix_collector: bad IPv4 address '%s'\n", addr);
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		perror("ipfix_collector: bind/listen");
		exit(1);
	}
	return fd;
}

/* TCP: one connection at a time, read until it ends. */
static void serve_tcp(fbListener_t *listener, const char *port,
		      const char *addr)
{
	int lfd = listen_tcp(port, addr);

	fprintf(stderr, "listening on tcp port %s\n", port);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		GError *err = NULL;
		fBuf_t *fbuf;

		if (fd < 0)
			continue;
		fbuf = fbListenerOwnSocketCollectorTCP(listener, fd, &err);
		if (!fbuf) {
			fprintf(stderr, "ipfix_collector: %s\n", err->message);
			g_clear_error(&err);
			close(fd);
			continue;
		}
		while (!read_all(fbuf))
			;
		fBufFree(fbuf);
	}
}

int main(int argc, char **argv)
{
	fbConnSpec_t spec = FB_CONNSPEC_INIT;
	fbInfoModel_t *model = fbInfoModelAlloc();
	fbSession_t *session = fbSessionAlloc(model);
	fbTemplate_t *tmpl = fbTemplateAlloc(model);
	fbListener_t *listener;
	GError *err = NULL;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: ipfix_collector tcp|udp PORT [ADDRESS]\n");
		return 2;
	}
	spec.transport = strcmp(argv[1], "udp") ? FB_TCP : FB_UDP;
	spec.host = argc == 4 ? argv[3] : "127.0.0.1";
	/* TCP: libfixbuf's listener only wraps our sockets (ephemeral port) */
	spec.svc = spec.transport == FB_TCP ? "0" : argv[2];
	if (!fbTemplateAppendSpecArray(tmpl, rec_spec, 0, &err) ||
	    !fbSessionAddTemplate(session, TRUE, TID_COLLECT, tmpl, &err))
		goto fail;
	listener = fbListenerAlloc(&spec, session, NULL, NULL, &err);
	if (!listener)
		goto fail;
	if (spec.transport == FB_TCP)
		serve_tcp(listener, argv[2], spec.host);
	fprintf(stderr, "listening on udp port %s\n", argv[2]);
	for (;;) {
		fBuf_t *fbuf = fbListenerWait(listener, &err);

		if (!fbuf) {
			g_clear_error(&err);
			continue;
		}
		fBufSetAutomaticMode(fbuf, FALSE);
		read_all(fbuf);
	}
fail:
	fprintf(stderr, "ipfix_collector: %s\n", err->message);
	return 1;
}
