/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_encoder.h - what export.c asks of a wire format: fill one message
 * at a time with templates, data and options records, and hand back its
 * bytes. The transport (UDP, TCP, file) is export.c's business, so that the
 * same queueing, reconnect and refresh logic serves IPFIX and NetFlow v9.
 */
#ifndef FLOWEXPORT_EXPORT_ENCODER_H
#define FLOWEXPORT_EXPORT_ENCODER_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <net/if.h>
#include "config.h"
#include "export_template.h"
#include "record.h"

/* Template ids: data per IP version, then the two options templates. */
enum {
	TID_DATA_IPV4 = 256,
	TID_DATA_IPV6,
	TID_OPT_STATS,
	TID_OPT_IFACE,
	TID_OPT_SAMPLING, /* IPFIX, --sample N > 1: in the flow records' domain */
	TID_DPI_IPV4,     /* IPFIX, -D: data + dpi elements (export_dpi.h) */
	TID_DPI_IPV6,
	TID_OPT_APPS,     /* IPFIX, -D: applicationId -> applicationName */
};

#define IFACE_DESC_LEN 64

/* Content of the options records. */
struct export_options {
	__u32 domain;
	__u64 messages, records, octets; /* exported so far */
	__u64 packets_not_metered;
	__u64 flows_not_sent;             /* dropped by meter or exporter */
	__u64 boot_ms;                    /* system start, epoch ms (IE 160) */
	__u8 exporter_v4[4];              /* local address of the export (IE */
	__u8 exporter_v6[16];             /* 130 or 131; the other is zero) */
	__u32 pid;                        /* exportingProcessId (IE 144) */
	__u32 sample_rate;                /* --sample N, 1 when not sampling */
	int n_ifaces;
	__u32 ifindex[MAX_IFACES];
	char ifname[MAX_IFACES][IFNAMSIZ];
	char ifdesc[MAX_IFACES][IFACE_DESC_LEN]; /* alias, "" if none */
};

/* What the options records give as interface i's description: its name,
 * then its alias (/sys/class/net/IF/ifalias) if it has one. nfdump shows
 * the description as the interface's name. */
static inline void iface_description(const struct export_options *o, int i,
				     char out[IFACE_DESC_LEN])
{
	memset(out, 0, IFACE_DESC_LEN);
	snprintf(out, IFACE_DESC_LEN, o->ifdesc[i][0] ? "%.*s (%.*s)" : "%.*s",
		 IFNAMSIZ, o->ifname[i], IFACE_DESC_LEN - IFNAMSIZ - 4,
		 o->ifdesc[i]);
}

/* samplingAlgorithm (IE 35) for a rate: 2 random (--sample N, N > 1),
 * 1 deterministic for 1:1, every packet. */
static inline __u8 sampling_algorithm(__u32 rate)
{
	return rate > 1 ? 2 : 1;
}

struct encoder;

struct encoder_ops {
	const char *name;
	/* 0 or -errno; messages never exceed max_msg bytes. */
	int (*create)(struct encoder **enc, const struct config *cfg,
		      const struct export_template *t, size_t max_msg);
	void (*destroy)(struct encoder *enc);
	/* A new transport session: sequence numbers start again. */
	int (*reset)(struct encoder *enc);
	/* Appends to the current message; -ENOBUFS when it does not fit
	 * (finish the message and try again in a new one). */
	int (*add_templates)(struct encoder *enc);
	int (*add_record)(struct encoder *enc, const struct flow_record *rec);
	/* Options records (and whatever the format sends with them), from
	 * step *done on; *done advances. 0 when all is added; -ENOBUFS: the
	 * caller finishes the message and calls again, for as long as *done
	 * advances (unchanged in an empty message: it does not fit). */
	int (*add_options)(struct encoder *enc, const struct export_options *o,
			   int *done);
	/* Closes the current message: msg and len give its bytes, valid until the
	 * next call; *len = 0 when nothing was added. */
	int (*finish)(struct encoder *enc, const __u8 **msg, size_t *len);
};

extern const struct encoder_ops ipfix_encoder_ops;
extern const struct encoder_ops nfv9_encoder_ops;

#endif
