/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_dest.h - one -c value, parsed and checked: host:port or
 * udp://host:port (UDP), tcp://host:port, file:PATH; IPv6 literals in
 * brackets. Then the socket or file behind it (export_transport.c).
 */
#ifndef FLOWEXPORT_EXPORT_DEST_H
#define FLOWEXPORT_EXPORT_DEST_H

#include <limits.h>
#include <netdb.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/types.h>

enum dest_kind { DEST_UDP, DEST_TCP, DEST_FILE };

struct export_dest {
	enum dest_kind kind;
	char host[NI_MAXHOST];
	char port[8];
	char path[PATH_MAX];
	char text[PATH_MAX + 16]; /* as given, for messages */
};

/* 0 or -EINVAL after a message saying what is wrong with s. */
int dest_parse(const char *s, struct export_dest *d);

/* The socket or file messages go to. TCP comes and goes: a closed or
 * refused connection is retried with a growing delay. */
struct transport {
	const struct export_dest *dest;
	int fd;                  /* -1 while down */
	struct sockaddr_storage addrs[8];
	socklen_t addr_lens[8];
	int n_addrs;
	time_t next_attempt;     /* TCP: when to try connecting again */
	unsigned int backoff;    /* seconds, doubles up to TCP_BACKOFF_MAX */
	unsigned long long connects, send_errors;
	__u64 udp_gap_ns;        /* UDP pacing: at least this between messages */
	__u64 udp_next_ns;       /* CLOCK_MONOTONIC time the next may leave */
};

#define TCP_BACKOFF_MAX 8

/* Resolves the host (UDP, TCP) or creates the file; UDP and file are then
 * up, TCP tries its first connection. 0 or -errno after a message. */
int transport_open(struct transport *t, const struct export_dest *d);

/* UDP only: send at most msgs_per_sec messages a second (0: no limit). */
void transport_pace(struct transport *t, unsigned int msgs_per_sec);
/* True when a message can be sent now; TCP: notices a collector that went
 * away, and (if may_connect) reconnects when the backoff allows. */
bool transport_ready(struct transport *t, time_t now, bool may_connect);
/* 0 when the message left (UDP: even if nobody listens), -errno when it
 * did not and the transport is down now (TCP) or failed (file). */
int transport_send(struct transport *t, const void *msg, size_t len);
void transport_close(struct transport *t);

#endif
