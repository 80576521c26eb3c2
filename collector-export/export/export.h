/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export.h - sending flow records to a collector (-c), one exporter per
 * destination: IPFIX through libfixbuf (UDP, TCP, file) or NetFlow v9 over
 * UDP by our own encoder (--format v9). The manager calls these; it knows
 * nothing of the wire formats.
 */
#ifndef FLOWEXPORT_EXPORT_H
#define FLOWEXPORT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "config.h"
#include "record.h"

/* What the metering process knows, for the exporter's options records. */
struct metering_stats {
	__u64 packets_seen;
	__u64 packets_not_metered; /* not parsed + malformed + overflow lost */
	__u64 flows_dropped;       /* flows that could not be kept */
	__u64 overflow_packets;    /* packets only in the overflow totals */
};

struct exporter;

/* dest is one -c value. NULL with errno set, after a message naming the
 * problem, when dest cannot be used at all; a TCP collector that is not
 * there yet is not an error (the exporter retries). */
struct exporter *exporter_open(const struct config *cfg, const char *dest);

/* Hands n records to the exporter's thread without waiting for the
 * network; 0. Records beyond --export-buffer are counted, not silently
 * lost. */
int exporter_send(struct exporter *ex, const struct flow_record *recs, size_t n);

/* Metering has stopped (exit): from now on exporter_send() waits for the
 * exporter to take records rather than dropping those beyond the bound,
 * as long as it takes some within a second. */
void exporter_draining(struct exporter *ex);

/* Called about once a second with the meter's figures for the options
 * records (the exporter's thread keeps its own timers). */
void exporter_tick(struct exporter *ex, time_t now,
		   const struct metering_stats *ms);

/* A TCP export connection as seen from here. */
struct export_conn {
	struct sockaddr_storage local, peer;
	int protocol; /* IPPROTO_TCP or IPPROTO_UDP */
};

/* The connections of an exporter whose packets the meter must skip: the
 * current one first, then those closed in the last EXPORT_CONN_LINGER_SEC
 * seconds (a collector still reading a closed connection still ACKs it).
 * Returns how many were written (at most max). TCP: the collector's ACKs
 * at ingress, our segments at egress; UDP: our datagrams at egress (nothing
 * comes back but ICMP errors). File exporters have none. */
int exporter_connections(const struct exporter *ex, struct export_conn *c,
			 int max);

#define EXPORT_CONN_LINGER_SEC 120

/* The manager has entered the connections exporter_connections gave last
 * (a new TCP connection waits for this, briefly, before it carries data). */
void exporter_connection_entered(struct exporter *ex);
/* True when the connection changed since the manager entered it. */
bool exporter_connection_changed(struct exporter *ex);

/* Flush what is held (bounded wait) and stop the exporter's thread: from
 * then on its statistics are final (every record sent, dropped or not
 * delivered). Idempotent; exporter_send must not follow. */
void exporter_finish(struct exporter *ex);
/* exporter_finish, then release everything. */
void exporter_close(struct exporter *ex);

/* What an exporter has done so far, for logs, tests and the options
 * records. records counts only records in messages that left (UDP: and
 * were not refused). records_dropped counts records the bounded buffer
 * could not hold (or still held at close); records_unsent those in UDP
 * datagrams the collector's host refused (ICMP) and that no other address
 * took. Neither reached the collector. */
struct exporter_stats {
	__u64 messages;
	__u64 records;
	__u64 octets;
	__u64 records_dropped;
	__u64 records_unsent;
	__u64 packets;         /* in the records the collector took */
	__u64 packets_unsent;  /* in the records dropped or unsent */
	__u64 send_errors;
	__u64 connects;        /* TCP connections made */
	__u64 template_sends;
	__u64 options_sends;
	__u64 queued;          /* records held now */
	int connected;         /* 1 when messages can leave now */
};

void exporter_get_stats(const struct exporter *ex, struct exporter_stats *st);

/* exporter_close, handing back the final statistics (if st is not NULL). */
void exporter_close_stats(struct exporter *ex, struct exporter_stats *st);

#endif
