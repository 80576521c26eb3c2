/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dpi.h - what deep packet inspection (-D) finds in a flow, and the table
 * that keeps it by flow key until the flow's record is built. The BPF DPI
 * stage (bpf/dpi_stage.h) sends the first payload packets of each flow direction
 * through dpi_ring; the parsers here (dpi_dns.c, dpi_http.c, dpi_tls.c,
 * dpi_quic.c) read them. Every parser takes untrusted bytes, reads only
 * within them, bounds every loop and every string, and returns:
 *   0            found what it looks for (fields set in *info)
 *   -ENOMSG      not its protocol, or not a message it reads (no count)
 *   -EBADMSG     its protocol but malformed (counted, nothing kept)
 *   -EAGAIN      TLS: a ClientHello continued in a later segment
 */
#ifndef FLOWEXPORT_DPI_H
#define FLOWEXPORT_DPI_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "flow.h"

/* Which fields of a dpi_info hold a value. */
enum dpi_has {
	DPI_HAS_DNS_QUERY = 1 << 0,    /* name and type */
	DPI_HAS_DNS_RESPONSE = 1 << 1, /* response code and answer count */
	DPI_HAS_HTTP_REQUEST = 1 << 2,
	DPI_HAS_HTTP_RESPONSE = 1 << 3,
	DPI_HAS_TLS_HELLO = 1 << 4,    /* SNI (may be empty), version, ALPN, JA4 */
	DPI_HAS_QUIC = 1 << 5,         /* version */
};

/* Strings are NUL-terminated and hold printable ASCII only (anything else
 * is replaced by '?'), cut at their size. */
struct dpi_info {
	__u8 app;              /* enum dpi_app; 0: nothing found */
	__u8 dns_rcode;
	__u16 dns_qtype;
	__u16 dns_answers;
	__u16 http_status;
	__u16 tls_version;     /* highest offered, e.g. 0x0304 */
	__u16 has;             /* enum dpi_has */
	__u32 quic_version;
	char dns_qname[256];
	char http_method[16];
	char http_host[128];
	char http_target[256];
	char http_user_agent[192];
	char tls_sni[256];
	char tls_alpn[64];     /* offered protocols, comma-separated */
	char tls_ja4[40];
};

/* The name of an application (applicationName, JSON), "" for none. */
const char *dpi_app_name(__u8 app);

/* Parsers of one payload (see the top of this file for the results). */
int dpi_dns_parse(const __u8 *p, size_t n, bool tcp, struct dpi_info *info);
int dpi_http_parse(const __u8 *p, size_t n, struct dpi_info *info);
/* TLS records holding a ClientHello (TCP). */
int dpi_tls_parse(const __u8 *p, size_t n, struct dpi_info *info);
/* A ClientHello handshake message (type 1, its 4-byte header included);
 * quic picks JA4's protocol letter. */
int dpi_tls_client_hello(const __u8 *p, size_t n, bool quic,
			 struct dpi_info *info);
/* A UDP datagram starting with a QUIC long-header packet. */
int dpi_quic_parse(const __u8 *p, size_t n, struct dpi_info *info);
/* The same, adding its CRYPTO frames to those of the flow's earlier
 * Initials (a ClientHello with post-quantum key shares takes two):
 * -EAGAIN while the hello is incomplete (the version is set). */
#define QUIC_MAX_CRYPTO 4096
struct dpi_quic_crypto {
	__u8 data[QUIC_MAX_CRYPTO];
	__u8 got[QUIC_MAX_CRYPTO]; /* 1: that byte arrived */
};
int dpi_quic_parse_more(const __u8 *p, size_t n, struct dpi_quic_crypto *acc,
			struct dpi_info *info);

/* JA4 of a parsed ClientHello's parts (dpi_tls.c); out holds 37 bytes. */
struct ja4_input {
	char proto;            /* 't' TCP, 'q' QUIC */
	__u16 version;         /* highest non-GREASE version offered */
	bool sni;
	const __u16 *ciphers;  /* in the hello's order, GREASE included */
	size_t n_ciphers;
	const __u16 *exts;
	size_t n_exts;
	const __u16 *sigalgs;
	size_t n_sigalgs;
	const __u8 *alpn;      /* first ALPN value, or NULL */
	size_t alpn_len;
};
void dpi_ja4(const struct ja4_input *in, char out[40]);

/* Counts of the user-space side, for the counters line. */
struct dpi_stats {
	__u64 events;          /* payloads read from the ring */
	__u64 found[DPI_APP_MAX]; /* payloads that gave a result, by app */
	__u64 malformed[DPI_APP_MAX]; /* payloads that did not parse */
	__u64 unknown[DPI_APP_MAX]; /* no result by itself: not the guessed
				     * protocol, or continued in a later segment */
	__u64 table_full;      /* results dropped: too many flows held */
};

struct dpi_table;

/* A table of at most max_flows flow directions with a result (about
 * 1.3 KB each); NULL on failure. */
struct dpi_table *dpi_table_new(__u32 max_flows);
void dpi_table_free(struct dpi_table *t);
/* Parse one snapshot and keep what it gives under its flow key. */
void dpi_table_feed(struct dpi_table *t, const struct dpi_event *ev);
/* What is known of a flow direction; NULL if nothing. */
const struct dpi_info *dpi_table_find(const struct dpi_table *t,
				      const struct flow_key *key);
void dpi_table_forget(struct dpi_table *t, const struct flow_key *key);
const struct dpi_stats *dpi_table_stats(const struct dpi_table *t);

/* The ring reader (dpi.c) with its table of max_flows flows: NULL with
 * errno on failure. A NULL reader (no -D) reads nothing. */
struct dpi_reader;
struct dpi_reader *dpi_reader_open(int ring_fd, __u32 max_flows);
struct dpi_table *dpi_reader_table(struct dpi_reader *r);
/* Read what the ring holds now; events read or -errno. */
int dpi_reader_consume(struct dpi_reader *r);
void dpi_reader_close(struct dpi_reader *r);

/* A flow direction's info, plus the reverse direction's (biflow), merged
 * into out: the forward values win. False if neither has any. */
bool dpi_table_lookup_pair(const struct dpi_table *t,
			   const struct flow_key *fwd,
			   const struct flow_key *rev, struct dpi_info *out);

/* A shared copy of info for records (reference count 1), NULL if out of
 * memory; one more reference, one less (freed at 0; NULL is ignored).
 * Thread-safe: the exporters' threads hold records too. */
const struct dpi_info *dpi_shared_new(const struct dpi_info *info);
void dpi_ref(const struct dpi_info *d);
void dpi_unref(const struct dpi_info *d);

/* The key of the other direction of a flow (same interface). */
void dpi_reverse_key(const struct flow_key *k, struct flow_key *out);

/* Copies at most size - 1 bytes, printable ASCII only. */
void dpi_copy_str(char *dst, size_t size, const __u8 *src, size_t n);

#endif
