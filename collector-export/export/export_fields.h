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

/* Value of an integer field of rec, forward or reverse direction. */
__u64 field_uint(const struct field_def *f, const struct flow_record *rec,
		 bool reverse);

/* Writes the field in host byte order at its natural length (libfixbuf's
 * internal record layout). Returns the bytes written. */
unsigned int field_put_host(const struct field_def *f,
			    const struct flow_record *rec, bool reverse,
			    __u8 *out);

/* Writes the field in network byte order in len bytes (len <= natural for
 * integers: reduced-length encoding keeps the low bytes), for NetFlow v9. */
void field_put_wire(const struct field_def *f, const struct flow_record *rec,
		    bool reverse, unsigned int len, __u8 *out);

#endif
