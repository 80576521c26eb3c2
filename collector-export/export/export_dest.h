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
#include "log.h"

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

#define MAX_ADDRS 8

/* The socket or file messages go to. TCP comes and goes: a closed or
 * refused connection is retried with a growing delay. UDP and TCP use
 * every address the name resolves to, in turn, and resolve it again every
 * RESOLVE_SEC and after errors. */
struct transport {
	const struct export_dest *dest;
	int fd;                  /* -1 while down */
	struct sockaddr_storage addrs[MAX_ADDRS];
	socklen_t addr_lens[MAX_ADDRS];
	int n_addrs;
	int cur;                 /* the address fd is connected to */
	time_t next_resolve;     /* when to resolve the name again */
	time_t next_attempt;     /* when to try connecting (TCP) or sending
				  * (UDP, after a failed send) again */
	unsigned int backoff;    /* seconds, doubles up to TCP_BACKOFF_MAX */
	unsigned long long connects, send_errors;
	/* UDP: a connected socket reports an ICMP error (port unreachable:
	 * ECONNREFUSED) for an earlier datagram at the next send */
	unsigned long long refused;
	struct ratelog send_log, resolve_log;
	/* TCP: told both ends of a connection before its SYN leaves, so that
	 * the meter can skip the collector's answer; may wait */
	void (*before_connect)(void *ctx, const struct sockaddr_storage *local,
			       const struct sockaddr_storage *peer);
	void *hook_ctx;
	int limit_ms;            /* TCP: connect and send wait at most this
				  * (0: their usual 1 s and 2 s) */
	__u64 udp_gap_ns;        /* UDP pacing: at least this between messages */
	__u64 udp_next_ns;       /* CLOCK_MONOTONIC time the next may leave */
	/* file: messages gather here and go to the file FILE_WRITE_BYTES at
	 * a time (a write of each 1,400-byte message, a syscall and a page
	 * cache page zeroed around it, was half the time of writing 1M
	 * records), and whenever the exporter has caught up */
	__u8 *wbuf;
	size_t wlen;
};

#define FILE_WRITE_BYTES (256 * 1024)

#define TCP_BACKOFF_MAX 8
#define RESOLVE_SEC 300      /* names are resolved again this often */
#define RESOLVE_ERR_SEC 10   /* and after errors, at most this often */

/* Resolves the host (UDP, TCP) or creates the file; UDP and file are then
 * up, TCP connects at the first transport_ready. 0 or -errno after a
 * message. */
int transport_open(struct transport *t, const struct export_dest *d);

/* UDP only: send at most msgs_per_sec messages a second (0: no limit). */
void transport_pace(struct transport *t, unsigned int msgs_per_sec);
/* True when a message can be sent now; TCP: notices a collector that went
 * away, and (if may_connect) reconnects when the backoff allows. UDP:
 * resolves the name again when due. */
bool transport_ready(struct transport *t, time_t now, bool may_connect);
/* 0 when the message left (file: was taken, see below), -errno when it
 * did not and the transport is down now (TCP; UDP: tried again after a
 * second) or failed (file).
 * UDP: -ECONNREFUSED when the collector refused the previous datagram
 * (ICMP) and this one was not sent; the transport has moved on to the
 * name's next address (if it has one) and takes messages again at once. */
int transport_send(struct transport *t, const void *msg, size_t len);
/* File: the messages sent are in the file once transport_write_out
 * returned 0; until then transport_pending bytes are held (and a failed
 * write keeps what it did not write, for the next try). Sockets: 0. */
size_t transport_pending(const struct transport *t);
int transport_write_out(struct transport *t);
/* UDP: -ECONNREFUSED (handled as above) when the collector refused the
 * latest datagram, else 0; waits up to wait_ms for the ICMP error. */
int transport_check(struct transport *t, int wait_ms);
/* The socket's two ends, 0 or -ENOTCONN. */
int transport_ends(const struct transport *t, struct sockaddr_storage *local,
		   struct sockaddr_storage *peer);
/* At exit: connects and sends wait at most ms from now on. */
void transport_limit(struct transport *t, int ms);
void transport_close(struct transport *t);

#endif
