// SPDX-License-Identifier: GPL-2.0
/*
 * export_transport.c - the socket or file behind a collector.
 *
 * UDP: a connected socket; a collector that is not there only costs ICMP
 * errors, which are counted and ignored. TCP: connected on demand, with a
 * backoff of 1, 2, 4 ... TCP_BACKOFF_MAX seconds between attempts. Before
 * each message we look for the collector's FIN/RST (an IPFIX collector
 * never writes), so records are held back rather than written into a
 * connection that is already gone. File: one IPFIX file, messages appended.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "export_dest.h"
#include "log.h"

static int resolve(struct transport *t)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res, *ai;
	int rc;

	hints.ai_socktype = t->dest->kind == DEST_TCP ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(t->dest->host, t->dest->port, &hints, &res);
	if (rc) {
		pr_warn("collector '%s': cannot resolve '%s': %s\n",
			t->dest->text, t->dest->host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	t->n_addrs = 0;
	for (ai = res; ai && t->n_addrs < 8; ai = ai->ai_next) {
		memcpy(&t->addrs[t->n_addrs], ai->ai_addr, ai->ai_addrlen);
		t->addr_lens[t->n_addrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
}

/* Connects a socket to the first address that takes it; fd or -errno.
 * TCP connects are bounded to 1 s so a black-holed collector cannot stall
 * the manager. */
static int connect_any(struct transport *t, int type)
{
	int err = -EHOSTUNREACH;

	for (int i = 0; i < t->n_addrs; i++) {
		int fd = socket(t->addrs[i].ss_family, type | SOCK_CLOEXEC |
				(type == SOCK_STREAM ? SOCK_NONBLOCK : 0), 0);
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		socklen_t len = sizeof(err);

		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&t->addrs[i], t->addr_lens[i]))
			return fd;
		err = -errno;
		if (err == -EINPROGRESS && poll(&p, 1, 1000) == 1 &&
		    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)) {
			err = -err;
			if (!err)
				return fd;
		} else if (err == -EINPROGRESS) {
			err = -ETIMEDOUT;
		}
		close(fd);
	}
	return err;
}

static int tcp_connect(struct transport *t, time_t now)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd = connect_any(t, SOCK_STREAM);

	if (fd < 0) {
		t->backoff = t->backoff ? t->backoff * 2 : 1;
		if (t->backoff > TCP_BACKOFF_MAX)
			t->backoff = TCP_BACKOFF_MAX;
		t->next_attempt = now + t->backoff;
		pr_info("collector %s: %s; retrying in %u s\n", t->dest->text,
			strerror(-fd), t->backoff);
		return fd;
	}
	/* blocking from now on, but a stuck collector costs at most 2 s */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	t->fd = fd;
	t->backoff = 0;
	t->connects++;
	pr_info("collector %s: connected\n", t->dest->text);
	return 0;
}

int transport_open(struct transport *t, const struct export_dest *d)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->dest = d;
	t->fd = -1;
	if (d->kind == DEST_FILE) {
		t->fd = open(d->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (t->fd < 0) {
			err = -errno;
			pr_warn("collector '%s': cannot create '%s': %s\n",
				d->text, d->path, strerror(-err));
			return err;
		}
		return 0;
	}
	err = resolve(t);
	if (err)
		return err;
	if (d->kind == DEST_UDP) {
		t->fd = connect_any(t, SOCK_DGRAM);
		if (t->fd < 0) {
			err = t->fd;
			pr_warn("collector '%s': %s\n", d->text, strerror(-err));
			return err;
		}
		return 0;
	}
	tcp_connect(t, time(NULL)); /* not there yet is fine: retried */
	return 0;
}

/* The collector closed or reset the connection (it never sends data). */
static bool tcp_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char buf[256];

	if (poll(&p, 1, 0) != 1)
		return false;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return true;
	/* unexpected bytes from the collector: read and ignore them */
	return recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0;
}

static void tcp_down(struct transport *t, time_t now, const char *why)
{
	close(t->fd);
	t->fd = -1;
	t->backoff = 1;
	t->next_attempt = now + 1;
	pr_warn("collector %s: connection lost (%s); holding records and reconnecting\n",
		t->dest->text, why);
}

bool transport_ready(struct transport *t, time_t now, bool may_connect)
{
	if (t->dest->kind != DEST_TCP)
		return t->fd >= 0;
	if (t->fd >= 0 && tcp_gone(t->fd))
		tcp_down(t, now, "closed by the collector");
	if (t->fd < 0 && may_connect && now >= t->next_attempt)
		tcp_connect(t, now);
	return t->fd >= 0;
}

void transport_pace(struct transport *t, unsigned int msgs_per_sec)
{
	t->udp_gap_ns = msgs_per_sec ? 1000000000ULL / msgs_per_sec : 0;
}

/*
 * UDP has no flow control: a burst of expirations sent at full speed can
 * overflow a collector's socket buffer (nfcapd on loopback lost 1.4% of
 * 200k records sent in 136 ms in one run). Keep the average rate, allowing
 * bursts of up to PACE_BURST_NS worth of messages: a sleep per message
 * would cost the timer slack (~50 us) each time.
 */
#define PACE_BURST_NS 1000000ULL

static void udp_pace(struct transport *t)
{
	struct timespec ts;
	__u64 now;

	if (!t->udp_gap_ns)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (t->udp_next_ns > now + PACE_BURST_NS) {
		__u64 wait = t->udp_next_ns - now - PACE_BURST_NS;

		ts.tv_sec = wait / 1000000000ULL;
		ts.tv_nsec = wait % 1000000000ULL;
		nanosleep(&ts, NULL);
	}
	/* no credit beyond one burst for idle time */
	if (t->udp_next_ns + PACE_BURST_NS < now)
		t->udp_next_ns = now - PACE_BURST_NS;
	t->udp_next_ns += t->udp_gap_ns;
}

int transport_send(struct transport *t, const void *msg, size_t len)
{
	const char *p = msg;
	size_t left = len;

	if (t->dest->kind == DEST_UDP) {
		udp_pace(t);
		/* ECONNREFUSED reports an ICMP error for an earlier datagram
		 * and this one was not sent: send it again */
		for (int tries = 0; tries < 2; tries++) {
			if (send(t->fd, msg, len, 0) >= 0)
				return 0;
			t->send_errors++; /* nobody listening, or a full queue */
			if (errno != ECONNREFUSED)
				break;
		}
		return 0;
	}
	while (left) {
		ssize_t n = t->dest->kind == DEST_TCP ?
				    send(t->fd, p, left, MSG_NOSIGNAL) :
				    write(t->fd, p, left);
		int err = errno;

		if (n < 0 && err == EINTR)
			continue;
		if (n <= 0) {
			t->send_errors++;
			if (t->dest->kind == DEST_TCP) {
				tcp_down(t, time(NULL), n < 0 ? strerror(err) : "short write");
			} else {
				pr_warn("collector %s: write failed: %s\n", t->dest->text,
					strerror(err));
			}
			return n < 0 ? -err : -EIO;
		}
		p += n;
		left -= n;
	}
	return 0;
}

void transport_close(struct transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
