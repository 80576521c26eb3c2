/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_fields.h - the IANA information elements flowexport can fill from a
 * struct flow_record, and how to write their values. Shared by the IPFIX and
 * the NetFlow v9 encoders; templates (export_template.h) pick from these.
 */
#ifndef FLOWEXPORT_EXPORT_FIELDS_H
#define FLOWEXPORT_EXPORT_FIELDS_H

#include <stdbool.h>
#include <linux/types.h>
#include "record.h"

enum field_kind {
	FIELD_UNSIGNED, /* integer, time or flags: reduced length allowed */
	FIELD_ADDR4,    /* ipv4Address: 4 bytes, from the mapped key address */
	FIELD_ADDR6,    /* ipv6Address: 16 bytes */
	FIELD_MAC,      /* macAddress: 6 bytes as on the wire, per direction */
	FIELD_MPLS,     /* MPLS label stack section: 3 bytes as on the wire */
};

struct field_def {
	__u16 ie;          /* IANA element id (enterprise 0) */
	__u8 len;          /* natural length in bytes */
	__u8 kind;         /* enum field_kind */
	bool per_direction; /* has a value per direction: gets a reverse twin */
};

/* The definition for IANA element ie, or NULL if flowexport has no value
 * for it. */
const struct field_def *field_lookup(__u16 ie);

/* layer2SegmentId (IE 351) of a flow: the tunnel's VNI or GRE key under
 * IANA's encapsulation type byte; 0 outside a tunnel or IP-in-IP. */
__u64 flow_layer2_segment_id(const struct flow_key *k);

/* "vxlan", "geneve", "gre", "ipip"; "" for none (enum tunnel_kind). */
const char *flow_tunnel_name(__u8 tunnel);

/* Writes the field in host byte order at its natural length (libfixbuf's
 * internal record layout). Returns the bytes written. */
unsigned int field_put_host(const struct field_def *f,
			    const struct flow_record *rec, bool reverse,
			    __u8 *out);

/* An element of a data record as both encoders write it. */
struct field_wire {
	const struct field_def *def;
	bool reverse;              /* enterprise PEN_REVERSE, reverse value */
	__u16 len;                 /* length on the wire */
};

/* The n elements of w, one after another, in network byte order (integers
 * in len <= natural bytes: reduced-length encoding keeps the low bytes),
 * as IPFIX and NetFlow v9 data records carry them. Returns the end. */
__u8 *fields_put_wire(const struct field_wire *w, int n,
		      const struct flow_record *rec, __u8 *out);

#endif
