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

#include "ipfix_records.h"

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
		while (!read_all(fbuf, stdout))
			;
		fBufFree(fbuf);
	}
}

/* UDP: a receive buffer of 4 MB (net.core.rmem_max caps it) on the
 * listener's datagram socket, which libfixbuf opens and does not show: with
 * the default 208 KB, a collector descheduled for some 50 ms on a loaded
 * machine let the kernel drop a burst, and a test its records. */
static void grow_udp_rcvbuf(void)
{
	int fd, type, size = 4 << 20;
	socklen_t len;

	for (fd = 0; fd < 64; fd++) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_DGRAM)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
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
	grow_udp_rcvbuf();
	fprintf(stderr, "listening on udp port %s\n", argv[2]);
	for (;;) {
		fBuf_t *fbuf = fbListenerWait(listener, &err);

		if (!fbuf) {
			g_clear_error(&err);
			continue;
		}
		fBufSetAutomaticMode(fbuf, FALSE);
		read_all(fbuf, stdout);
	}
fail:
	fprintf(stderr, "ipfix_collector: %s\n", err->message);
	return 1;
}
