/* SPDX-License-Identifier: GPL-2.0 */
/*
 * capture.h - reading a capture file (pcap or pcapng), behind a header that
 * names no pcap type: libpcap's <pcap/bpf.h> clashes with <linux/bpf.h>, so
 * only capture.c includes it.
 */
#ifndef FLOWEXPORT_CAPTURE_H
#define FLOWEXPORT_CAPTURE_H

#include <stdint.h>

struct capture;

/* One record of the file, as an Ethernet frame: Linux cooked headers
 * (tcpdump -i any) are rewritten to one. */
struct capture_frame {
	const uint8_t *data; /* valid until the next capture_next */
	uint32_t len;        /* bytes the capture kept (snaplen); may be
			      * below an Ethernet header, even 0 */
	uint32_t wire_len;   /* bytes the frame had on the wire, >= len */
	uint64_t ts_ns;      /* capture time, epoch ns; any value, 0 too */
};

/* NULL after a one-line message naming the problem (unreadable, not a
 * capture file, a link type we cannot meter). */
struct capture *capture_open(const char *path);
/* 1: a frame, 0: end of file, -EIO: the file cannot be read further
 * (message printed). */
int capture_next(struct capture *c, struct capture_frame *f);
void capture_close(struct capture *c);

#endif
