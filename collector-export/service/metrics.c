// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - the Prometheus endpoint: one thread, one connection at a
 * time, a request of at most REQUEST_MAX bytes read within IO_TIMEOUT_SEC,
 * the page rendered from the last published snapshot.
 */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include "log.h"
#include "metrics.h"

#define REQUEST_MAX 4096
#define IO_TIMEOUT_SEC 2

struct collector_snapshot {
	struct exporter_stats st;
};

/* What one drain's report() said. */
struct snapshot {
	const struct config *cfg;
	bool published;
	struct counters_report c;
	struct collector_snapshot col[MAX_COLLECTORS];
	int n_col;
};

struct metrics {
	int listen_fd;
	int stop_fd;           /* eventfd: the thread's signal to end */
	pthread_t thread;
	pthread_mutex_t lock;  /* guards snap */
	struct snapshot snap;
};

int metrics_parse_addr(const char *s, struct sockaddr_storage *out)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_s;
	char *end;
	unsigned long port;
	size_t hlen;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -EINVAL;
		hlen = colon - s - 1;
		port_s = colon + 2;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = colon - s;
		port_s = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (!*port_s || *port_s == '-' || *port_s == '+')
		return -EINVAL;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
	} else {
		return -EINVAL;
	}
	if (out)
		*out = ss;
	return 0;
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP flowexport_%s %s\n# TYPE flowexport_%s %s\n", name,
		help, name, type);
}

static void one(FILE *f, const char *name, const char *type,
		const char *help, unsigned long long v)
{
	head(f, name, type, help);
	fprintf(f, "flowexport_%s %llu\n", name, v);
}

/* One sample per collector, of what get reads from its stats. */
static void per_collector(FILE *f, const struct snapshot *m, const char *name,
			  const char *type, const char *help,
			  unsigned long long (*get)(const struct exporter_stats *))
{
	head(f, name, type, help);
	for (int i = 0; i < m->n_col; i++) {
		fprintf(f, "flowexport_%s{collector=\"", name);
		put_label(f, m->cfg->collectors[i]);
		fprintf(f, "\"} %llu\n", get(&m->col[i].st));
	}
}

static unsigned long long col_sent(const struct exporter_stats *s) { return s->records; }
static unsigned long long col_dropped(const struct exporter_stats *s) { return s->records_dropped + s->records_unsent; }
static unsigned long long col_packets_sent(const struct exporter_stats *s) { return s->packets; }
static unsigned long long col_packets_dropped(const struct exporter_stats *s) { return s->packets_unsent; }
static unsigned long long col_errors(const struct exporter_stats *s) { return s->send_errors; }
static unsigned long long col_messages(const struct exporter_stats *s) { return s->messages; }
static unsigned long long col_queued(const struct exporter_stats *s) { return s->queued; }
static unsigned long long col_connected(const struct exporter_stats *s) { return s->connected; }

static const char *mode_label(enum ingress_mode mode)
{
	switch (mode) {
	case INGRESS_XDP_NATIVE: return "native";
	case INGRESS_XDP_SKB: return "skb";
	case INGRESS_XDP_HW: return "hw";
	case INGRESS_TC: return "tc";
	default: return "auto";
	}
}

/* The counters of the counters line, one sample each. */
static const struct counter_metric {
	const char *name, *type, *help;
	size_t offset; /* of a __u64 in struct counters_report */
} counter_metrics[] = {
	{ "packets_seen_total", "counter", "packets that reached the meter on all interfaces",
	  offsetof(struct counters_report, seen) },
	{ "packets_not_sampled_total", "counter", "packets left out by --sample",
	  offsetof(struct counters_report, not_sampled) },
	{ "packets_flowed_total", "counter", "packets accounted to a flow",
	  offsetof(struct counters_report, flowed) },
	{ "packets_not_parsed_total", "counter", "packets of a protocol not parsed",
	  offsetof(struct counters_report, not_parsed) },
	{ "packets_self_export_total", "counter", "of not parsed: packets of our own TCP export connections",
	  offsetof(struct counters_report, self_export) },
	{ "packets_malformed_total", "counter", "packets with truncated or invalid headers",
	  offsetof(struct counters_report, malformed) },
	{ "packets_internal_total", "counter", "packets whose parse state was unavailable (should stay 0)",
	  offsetof(struct counters_report, internal) },
	{ "missed_tail_calls_total", "counter", "tail calls to an empty program slot",
	  offsetof(struct counters_report, missed_tail_calls) },
	{ "ring_packets_total", "counter", "of flowed: kernel table full, came through the overflow ring (still in the records)",
	  offsetof(struct counters_report, ring_packets) },
	{ "overflow_packets_total", "counter", "of flowed: ring full too, in these totals only, in no record",
	  offsetof(struct counters_report, overflow_packets) },
	{ "overflow_octets_total", "counter", "octets of the overflow packets",
	  offsetof(struct counters_report, overflow_octets) },
	{ "egress_packets_seen_total", "counter", "of packets seen: those of the egress programs (--direction)",
	  offsetof(struct counters_report, egress_seen) },
	{ "egress_packets_not_sampled_total", "counter", "of packets not sampled: at egress",
	  offsetof(struct counters_report, egress_not_sampled) },
	{ "egress_packets_flowed_total", "counter", "of packets flowed: at egress",
	  offsetof(struct counters_report, egress_flowed) },
	{ "egress_packets_not_parsed_total", "counter", "of packets not parsed: at egress",
	  offsetof(struct counters_report, egress_not_parsed) },
	{ "egress_packets_malformed_total", "counter", "of packets malformed: at egress",
	  offsetof(struct counters_report, egress_malformed) },
	{ "egress_packets_internal_total", "counter", "of packets internal: at egress",
	  offsetof(struct counters_report, egress_internal) },
	{ "forwarded_packets_total", "counter", "forwarded packets left out at egress, counted at a metered ingress",
	  offsetof(struct counters_report, forwarded) },
	{ "notices_lost_total", "counter", "new-flow or TCP-end notices lost to a full ring (the table was walked instead)",
	  offsetof(struct counters_report, notices_lost) },
	{ "active_flows", "gauge", "flows held in the user-space cache",
	  offsetof(struct counters_report, active_flows) },
	{ "evicted_flows_total", "counter", "flows ended early because the cache was full (--max-flows)",
	  offsetof(struct counters_report, evicted_flows) },
	{ "exported_records_total", "counter", "flow records made",
	  offsetof(struct counters_report, records) },
	{ "exported_packets_total", "counter", "packets carried by the flow records made",
	  offsetof(struct counters_report, record_packets) },
	{ "exported_octets_total", "counter", "octets carried by the flow records made",
	  offsetof(struct counters_report, record_octets) },
	{ "sent_records_total", "counter", "records the collectors took, summed over collectors",
	  offsetof(struct counters_report, sent_records) },
	{ "unsent_records_total", "counter", "records that could not be sent or held, summed over collectors",
	  offsetof(struct counters_report, unsent_records) },
	{ "sent_packets_total", "counter", "packets in the records the collectors took, summed over collectors",
	  offsetof(struct counters_report, sent_packets) },
	{ "unsent_packets_total", "counter", "packets in the records that could not be sent or held, summed over collectors",
	  offsetof(struct counters_report, unsent_packets) },
	{ "send_errors_total", "counter", "failed sends and ICMP refusals, summed over collectors",
	  offsetof(struct counters_report, send_errors) },
};

/* The page, from a copy of the snapshot (taken under the lock). */
static void render(FILE *f, const struct snapshot *m)
{
	const struct counters_report *c = &m->c;

	head(f, "interface_info", "gauge",
	     "an interface metered in a direction, with its mode (-m; egress: tc)");
	for (int i = 0; i < m->cfg->n_ifaces; i++) {
		if (m->cfg->direction & METER_INGRESS) {
			fputs("flowexport_interface_info{interface=\"", f);
			put_label(f, m->cfg->ifnames[i]);
			fprintf(f, "\",direction=\"ingress\",mode=\"%s\"} 1\n",
				mode_label(m->cfg->modes[i]));
		}
		if (m->cfg->direction & METER_EGRESS) {
			fputs("flowexport_interface_info{interface=\"", f);
			put_label(f, m->cfg->ifnames[i]);
			fputs("\",direction=\"egress\",mode=\"tc\"} 1\n", f);
		}
	}
	for (size_t i = 0; i < sizeof(counter_metrics) / sizeof(counter_metrics[0]); i++) {
		const struct counter_metric *cm = &counter_metrics[i];

		one(f, cm->name, cm->type, cm->help,
		    *(const __u64 *)((const char *)c + cm->offset));
	}
	per_collector(f, m, "collector_records_sent_total", "counter",
		      "records in export messages that left for this collector",
		      col_sent);
	per_collector(f, m, "collector_records_dropped_total", "counter",
		      "records this collector did not get (buffer full, refused, held at exit)",
		      col_dropped);
	per_collector(f, m, "collector_packets_sent_total", "counter",
		      "packets in the records this collector took", col_packets_sent);
	per_collector(f, m, "collector_packets_dropped_total", "counter",
		      "packets in the records this collector did not get", col_packets_dropped);
	per_collector(f, m, "collector_send_errors_total", "counter",
		      "failed sends and ICMP refusals for this collector", col_errors);
	per_collector(f, m, "collector_messages_total", "counter",
		      "export messages sent to this collector", col_messages);
	per_collector(f, m, "collector_queued_records", "gauge",
		      "records waiting for this collector's thread", col_queued);
	per_collector(f, m, "collector_connected", "gauge",
		      "1 when messages can leave for this collector now", col_connected);
}

/* The request line, read within the timeout; -errno, or the length. */
static ssize_t read_request(int fd, char *buf, size_t size)
{
	size_t used = 0;

	while (used < size - 1) {
		ssize_t n = read(fd, buf + used, size - 1 - used);

		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		used += n;
		buf[used] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return used;
	}
	return -E2BIG;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return; /* the client went away or stalled: its loss */
		p += n;
		len -= n;
	}
}

static void respond(int fd, const char *status, const char *type,
		    const char *body, size_t len, bool with_body)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, type, len);

	write_all(fd, hdr, n);
	if (with_body)
		write_all(fd, body, len);
}

static void serve_metrics(struct metrics *m, int fd, bool with_body)
{
	struct snapshot copy;
	char *page = NULL;
	size_t len = 0;
	FILE *f;

	pthread_mutex_lock(&m->lock);
	copy = m->snap;
	pthread_mutex_unlock(&m->lock);
	f = open_memstream(&page, &len);
	if (!f) {
		respond(fd, "500 Internal Server Error", "text/plain", "", 0, false);
		return;
	}
	if (copy.published)
		render(f, &copy);
	fclose(f);
	respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", page,
		len, with_body);
	free(page);
}

static void serve(struct metrics *m, int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_SEC };
	static const char not_found[] = "try /metrics\n";
	char req[REQUEST_MAX];
	char method[8], path[64];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = read_request(fd, req, sizeof(req));
	if (n == -E2BIG) {
		respond(fd, "431 Request Header Fields Too Large", "text/plain", "", 0, false);
		return;
	}
	if (n < 0)
		return;
	if (sscanf(req, "%7s %63s", method, path) != 2) {
		respond(fd, "400 Bad Request", "text/plain", "", 0, false);
		return;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		respond(fd, "405 Method Not Allowed", "text/plain", "", 0, false);
		return;
	}
	/* a query string (?name[]=...) is allowed and ignored */
	if (strncmp(path, "/metrics", 8) || (path[8] && path[8] != '?')) {
		respond(fd, "404 Not Found", "text/plain", not_found,
			sizeof(not_found) - 1, strcmp(method, "HEAD"));
		return;
	}
	serve_metrics(m, fd, strcmp(method, "HEAD"));
}

static void *server_thread(void *arg)
{
	struct metrics *m = arg;
	struct pollfd pfd[2] = {
		{ .fd = m->listen_fd, .events = POLLIN },
		{ .fd = m->stop_fd, .events = POLLIN },
	};

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_warn("metrics: poll: %s; the endpoint stops\n", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* the client gave up meanwhile, or EMFILE */
		serve(m, fd);
		close(fd);
	}
	return NULL;
}

struct metrics *metrics_start(const struct config *cfg)
{
	struct sockaddr_storage ss;
	sigset_t all, old;
	struct metrics *m;
	int one = 1, err;

	errno = 0;
	if (!cfg->metrics)
		return NULL;
	if (metrics_parse_addr(cfg->metrics, &ss)) {
		errno = EINVAL;
		return NULL; /* options.c checked it: cannot happen */
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->snap.cfg = cfg;
	m->stop_fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	m->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->listen_fd < 0)
		goto fail;
	setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->listen_fd, (struct sockaddr *)&ss,
		 ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					   sizeof(struct sockaddr_in6)) ||
	    listen(m->listen_fd, 8))
		goto fail;
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (m->stop_fd < 0)
		goto fail;
	/* signals stay with the meter's thread: the thread starts with all
	 * of them blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&m->thread, NULL, server_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		goto fail;
	}
	pr_info("metrics: serving http://%s/metrics\n", cfg->metrics);
	return m;
fail:
	err = errno;
	pr_warn("metrics: cannot serve on %s: %s\n", cfg->metrics, strerror(err));
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	pthread_mutex_destroy(&m->lock);
	free(m);
	errno = err;
	return NULL;
}

void metrics_publish(struct metrics *m, const struct counters_report *c,
		     const struct sink *s)
{
	struct collector_snapshot col[MAX_COLLECTORS];

	if (!m)
		return;
	/* read outside the lock: the server never waits on the exporters */
	for (int i = 0; i < s->n_ex; i++)
		exporter_get_stats(s->ex[i], &col[i].st);
	pthread_mutex_lock(&m->lock);
	m->snap.c = *c;
	memcpy(m->snap.col, col, s->n_ex * sizeof(col[0]));
	m->snap.n_col = s->n_ex;
	m->snap.published = true;
	pthread_mutex_unlock(&m->lock);
}

void metrics_stop(struct metrics *m)
{
	__u64 one = 1;

	if (!m)
		return;
	if (write(m->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(m->thread, NULL);
	close(m->listen_fd);
	close(m->stop_fd);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
