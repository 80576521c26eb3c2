/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_wire.h - an export message built in its wire form, set after set:
 * every message of the NetFlow v9 encoder, and the IPFIX encoder's
 * messages of plain data records (libfixbuf builds its others). The
 * encoder writes the message header once the message is done.
 */
#ifndef FLOWEXPORT_EXPORT_WIRE_H
#define FLOWEXPORT_EXPORT_WIRE_H

#include <endian.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>

struct wire_msg {
	__u8 *buf;          /* max bytes */
	size_t max;         /* a message's largest size */
	size_t hdr_len;     /* the header in front of the first set */
	unsigned int align; /* sets are padded to a multiple of this */
	size_t len;         /* bytes so far; 0: no message open */
	size_t set_start;   /* where the open set starts; 0: none open */
	__u16 set_id;
};

static inline void put16(__u8 *p, __u16 v) { v = htobe16(v); memcpy(p, &v, 2); }
static inline void put32(__u8 *p, __u32 v) { v = htobe32(v); memcpy(p, &v, 4); }
static inline void put64(__u8 *p, __u64 v) { v = htobe64(v); memcpy(p, &v, 8); }

/* Bytes that pad len bytes of a set to a multiple of align. */
static inline size_t wire_pad(size_t len, unsigned int align)
{
	return (align - len % align) % align;
}

/* Room for n bytes at buf + len in a set of set_id, opening the message
 * and the set as needed (set id 0 is a valid id: v9 templates); the
 * caller writes them and moves len on. -ENOBUFS when the message cannot
 * hold them with the headers and paddings they bring. */
int wire_reserve(struct wire_msg *m, __u16 set_id, size_t n);
/* Pads the open set and writes its length. */
void wire_close_set(struct wire_msg *m);

#endif
