/* SPDX-License-Identifier: GPL-2.0 */
/*
 * capture.h - reading a pcap file, behind a header that names no pcap type:
 * libpcap's <pcap/bpf.h> clashes with <linux/bpf.h>, so only capture.c
 * includes it.
 */
#ifndef FLOWEXPORT_CAPTURE_H
#define FLOWEXPORT_CAPTURE_H

#include <stdint.h>

struct capture;

/* NULL after a one-line message naming the problem (unreadable, not a
 * pcap, not Ethernet). */
struct capture *capture_open(const char *path);
/* 1: a packet (ts_ns = capture time, epoch ns), 0: end of file,
 * -EIO: the file is damaged here (message printed). */
int capture_next(struct capture *c, const uint8_t **data, uint32_t *caplen,
		 uint64_t *ts_ns);
void capture_close(struct capture *c);

#endif
