/*
 * export_transport.c - the socket or file behind a collector.
 *
 * It runs in the exporter's own thread (export.c), so a blocking call here
 * delays that collector only, never the meter. UDP: a connected socket;
 * the kernel reports an ICMP error (nothing listens: port unreachable) at
 * the next send, which then fails and moves on to the name's next address
 * (export.c sends the refused records again there, templates first). TCP: connected on demand, with a
 * backoff of 1, 2, 4 ... TCP_BACKOFF_MAX seconds between attempts. Before
 * each message we look for the collector's FIN/RST (an IPFIX collector
 * never writes), so records are held back rather than written into a
 * connection that is already gone. Both resolve the name again every
 * RESOLVE_SEC and after errors. File: one IPFIX file, messages appended.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "export_dest.h"
#include "log.h"

/* The address in use, for messages. */
static const char *cur_addr(const struct transport *t, char *buf, size_t len)
{
	const struct sockaddr_storage *ss = &t->addrs[t->cur];
	const void *a = ss->ss_family == AF_INET6 ?
				(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
				(const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (!t->n_addrs || !inet_ntop(ss->ss_family, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen && !memcmp(a, b, alen);
}

/* Resolves the name (again); keeps the address in use when it is still
 * among the answers, and the old list when the name does not resolve. */
static int resolve(struct transport *t, time_t now)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res, *ai;
	struct sockaddr_storage addrs[MAX_ADDRS];
	socklen_t lens[MAX_ADDRS];
	unsigned long long skipped;
	int rc, n = 0, cur = 0;
	bool changed;

	t->next_resolve = now + RESOLVE_SEC;
	hints.ai_socktype = t->dest->kind == DEST_TCP ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(t->dest->host, t->dest->port, &hints, &res);
	if (rc) {
		if (log_ratelimit(&t->resolve_log, now, &skipped))
			pr_warn("collector '%s': cannot resolve '%s': %s%s\n",
				t->dest->text, t->dest->host, gai_strerror(rc),
				t->n_addrs ? " (keeping the addresses it had)" : "");
		return t->n_addrs ? 0 : -EHOSTUNREACH;
	}
	for (ai = res; ai && n < MAX_ADDRS; ai = ai->ai_next) {
		memcpy(&addrs[n], ai->ai_addr, ai->ai_addrlen);
		lens[n] = ai->ai_addrlen;
		if (t->n_addrs && same_addr(&addrs[n], lens[n], &t->addrs[t->cur],
					    t->addr_lens[t->cur]))
			cur = n;
		n++;
	}
	freeaddrinfo(res);
	if (t->n_addrs && t->fd >= 0 && t->dest->kind == DEST_UDP &&
	    !same_addr(&addrs[cur], lens[cur], &t->addrs[t->cur], t->addr_lens[t->cur])) {
		close(t->fd); /* the address in use is gone: reopen */
		t->fd = -1;
	}
	changed = t->n_addrs && (n != t->n_addrs ||
				 memcmp(lens, t->addr_lens, sizeof(lens[0]) * n));
	for (int i = 0; t->n_addrs && !changed && i < n; i++)
		changed = memcmp(&addrs[i], &t->addrs[i], lens[i]);
	memcpy(t->addrs, addrs, sizeof(addrs[0]) * n);
	memcpy(t->addr_lens, lens, sizeof(lens[0]) * n);
	t->n_addrs = n;
	t->cur = cur;
	if (changed) {
		char a[INET6_ADDRSTRLEN];

		pr_info("collector %s: '%s' resolves to %d address(es) now, using %s\n",
			t->dest->text, t->dest->host, n, cur_addr(t, a, sizeof(a)));
	}
	return 0;
}

/* After an error: resolve again soon, but not more often than
 * RESOLVE_ERR_SEC. */
static void resolve_soon(struct transport *t, time_t now)
{
	time_t soon = now + RESOLVE_ERR_SEC;

	if (t->next_resolve > soon)
		t->next_resolve = soon;
}

#define CONNECT_MS 1000 /* a TCP connect waits at most this long */
#define SEND_MS 2000    /* and a blocked send */

/* An I/O timeout, shortened to what is left before the deadline (exit). */
static int io_ms(const struct transport *t, int ms)
{
	return t->limit_ms && t->limit_ms < ms ? t->limit_ms : ms;
}

static void send_timeout(struct transport *t)
{
	int ms = io_ms(t, SEND_MS);
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	if (t->dest->kind == DEST_TCP && t->fd >= 0)
		setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void transport_limit(struct transport *t, int ms)
{
	t->limit_ms = ms > 0 ? ms : 1;
	send_timeout(t);
}

/* Binds a socket to the address and a port of its own before it connects
 * to peer, so that both ends are known before the SYN (UDP: the first
 * datagram) leaves; local gets them. 0 or -errno. */
static int bind_local(int fd, const struct sockaddr_storage *peer,
		      socklen_t plen, struct sockaddr_storage *local)
{
	int probe = socket(peer->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*local);
	int err = 0;

	memset(local, 0, sizeof(*local));
	/* a connected UDP socket tells the source address routing picks */
	if (probe < 0 || connect(probe, (const struct sockaddr *)peer, plen) ||
	    getsockname(probe, (struct sockaddr *)local, &len))
		err = -errno;
	if (probe >= 0)
		close(probe);
	if (err)
		return err;
	if (local->ss_family == AF_INET6)
		((struct sockaddr_in6 *)local)->sin6_port = 0;
	else
		((struct sockaddr_in *)local)->sin_port = 0;
	if (bind(fd, (struct sockaddr *)local, len))
		return -errno;
	len = sizeof(*local);
	return getsockname(fd, (struct sockaddr *)local, &len) ? -errno : 0;
}

/* Tells the hook both ends of the connection about to be made. */
static void announce(struct transport *t, int fd, int i)
{
	struct sockaddr_storage local, peer = {};

	if (!t->before_connect || bind_local(fd, &t->addrs[i], t->addr_lens[i], &local))
		return;
	memcpy(&peer, &t->addrs[i], t->addr_lens[i]);
	t->before_connect(t->hook_ctx, &local, &peer);
}

/* A socket connected to address i: fd or -errno. TCP connects are bounded
 * to 1 s: a black-holed address costs this thread a second, not more. */
static int connect_addr(struct transport *t, int i, int type)
{
	int fd = socket(t->addrs[i].ss_family, type | SOCK_CLOEXEC |
			(type == SOCK_STREAM ? SOCK_NONBLOCK : 0), 0);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len;
	int err;

	if (fd < 0)
		return -errno;
	/* UDP too: metered at egress, our datagrams must be known first */
	announce(t, fd, i);
	if (!connect(fd, (struct sockaddr *)&t->addrs[i], t->addr_lens[i]))
		return fd;
	err = -errno;
	if (err == -EINPROGRESS) {
		len = sizeof(err);
		if (poll(&p, 1, io_ms(t, CONNECT_MS)) != 1)
			err = -ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = -errno;
		else
			err = -err;
		if (!err)
			return fd;
	}
	close(fd);
	return err;
}

/* Connects to the first address that takes it, starting at the one in
 * use; fd or -errno. */
static int connect_any(struct transport *t, int type)
{
	int err = -EHOSTUNREACH;

	for (int k = 0; k < t->n_addrs; k++) {
		int i = (t->cur + k) % t->n_addrs;
		int fd = connect_addr(t, i, type);

		if (fd >= 0) {
			t->cur = i;
			return fd;
		}
		err = fd;
	}
	return err;
}

static int tcp_connect(struct transport *t, time_t now)
{
	int fd = connect_any(t, SOCK_STREAM);

	if (fd < 0) {
		t->backoff = t->backoff ? t->backoff * 2 : 1;
		if (t->backoff > TCP_BACKOFF_MAX)
			t->backoff = TCP_BACKOFF_MAX;
		t->next_attempt = now + t->backoff;
		resolve_soon(t, now);
		pr_info("collector %s: %s; retrying in %u s\n", t->dest->text,
			strerror(-fd), t->backoff);
		return fd;
	}
	/* blocking from now on (in the exporter's thread), but a stuck
	 * collector costs at most SEND_MS a message */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	t->fd = fd;
	send_timeout(t);
	t->backoff = 0;
	t->connects++;
	pr_info("collector %s: connected\n", t->dest->text);
	return 0;
}

int transport_open(struct transport *t, const struct export_dest *d)
{
	time_t now = time(NULL);
	int err;

	memset(t, 0, sizeof(*t));
	t->dest = d;
	t->fd = -1;
	if (d->kind == DEST_FILE) {
		t->wbuf = malloc(FILE_WRITE_BYTES);
		if (!t->wbuf)
			return -ENOMEM;
		t->fd = open(d->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (t->fd < 0) {
			err = -errno;
			pr_warn("collector '%s': cannot create '%s': %s\n",
				d->text, d->path, strerror(-err));
			transport_close(t);
			return err;
		}
		return 0;
	}
	err = resolve(t, now);
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
	return 0; /* TCP connects in transport_ready, retrying while away */
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
	if (t->dest->kind == DEST_FILE)
		return t->fd >= 0;
	if (now >= t->next_resolve)
		resolve(t, now);
	if (t->dest->kind == DEST_UDP) {
		if (t->fd < 0 && now >= t->next_attempt) {
			t->fd = connect_any(t, SOCK_DGRAM);
			if (t->fd < 0)
				t->next_attempt = now + 1;
		}
		return t->fd >= 0 && now >= t->next_attempt;
	}
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

/* For rate-limited messages: how many were held back since the last. */
static const char *since(unsigned long long skipped)
{
	static __thread char buf[64];

	if (!skipped)
		return "";
	snprintf(buf, sizeof(buf), " (%llu more since the last message)", skipped);
	return buf;
}

/* Errors a connected UDP socket reports for an earlier datagram (ICMP). */
static bool is_refusal(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
	       err == EHOSTDOWN;
}

/* Moves on to the next address (UDP); 0 or -errno. */
static int udp_next_addr(struct transport *t)
{
	int i = (t->cur + 1) % t->n_addrs;
	int fd;

	if (t->n_addrs < 2)
		return -ENOENT;
	fd = connect_addr(t, i, SOCK_DGRAM);
	if (fd < 0)
		return fd;
	close(t->fd);
	t->fd = fd;
	t->cur = i;
	return 0;
}

/* An earlier datagram was refused (err is its ICMP error): count, say so
 * (rate-limited), go to the next address if there is one. */
static int udp_refused(struct transport *t, int err)
{
	unsigned long long skipped;
	time_t now = time(NULL);
	char was[INET6_ADDRSTRLEN], is[INET6_ADDRSTRLEN];
	bool moved;

	t->refused++;
	t->send_errors++;
	resolve_soon(t, now);
	cur_addr(t, was, sizeof(was));
	moved = !udp_next_addr(t);
	if (log_ratelimit(&t->send_log, now, &skipped))
		pr_warn("collector %s: %s: %s%s%s%s\n", t->dest->text, was,
			strerror(err), moved ? "; sending to " : "",
			moved ? cur_addr(t, is, sizeof(is)) : "", since(skipped));
	return -ECONNREFUSED;
}

static int udp_send(struct transport *t, const void *msg, size_t len)
{
	unsigned long long skipped;
	char addr[INET6_ADDRSTRLEN];
	int err;

	udp_pace(t);
	if (send(t->fd, msg, len, 0) >= 0)
		return 0;
	err = errno;
	if (is_refusal(err))
		return udp_refused(t, err);
	t->send_errors++;
	t->next_attempt = time(NULL) + 1;
	resolve_soon(t, time(NULL));
	if (log_ratelimit(&t->send_log, time(NULL), &skipped))
		pr_warn("collector %s: cannot send to %s: %s; holding records%s\n",
			t->dest->text, cur_addr(t, addr, sizeof(addr)),
			strerror(err), since(skipped));
	udp_next_addr(t);
	return -err;
}

int transport_check(struct transport *t, int wait_ms)
{
	struct pollfd p = { .fd = t->fd };
	socklen_t len = sizeof(int);
	int err = 0;

	if (t->dest->kind != DEST_UDP || t->fd < 0)
		return 0;
	if (poll(&p, 1, wait_ms) != 1 || !(p.revents & POLLERR))
		return 0;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) || !err)
		return 0;
	return is_refusal(err) ? udp_refused(t, err) : 0;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* TCP: the whole message within SEND_MS (or what is left before the exit
 * deadline), however the collector's window opens and closes. */
static int tcp_budget(struct transport *t, long long end)
{
	long long left = end - mono_ms();
	struct timeval tv;

	if (left <= 0)
		return -ETIMEDOUT;
	tv.tv_sec = left / 1000;
	tv.tv_usec = left % 1000 * 1000;
	setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

size_t transport_pending(const struct transport *t)
{
	return t->wlen;
}

int transport_write_out(struct transport *t)
{
	unsigned long long skipped;
	size_t done = 0;
	int err = 0;

	while (done < t->wlen) {
		ssize_t n = write(t->fd, t->wbuf + done, t->wlen - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			t->send_errors++;
			if (log_ratelimit(&t->send_log, time(NULL), &skipped))
				pr_warn("collector %s: write failed: %s; holding records%s\n",
					t->dest->text, strerror(-err), since(skipped));
			break;
		}
		done += n;
	}
	/* what a failed write left goes first next time: the file gets no
	 * message twice or in part */
	memmove(t->wbuf, t->wbuf + done, t->wlen - done);
	t->wlen -= done;
	return err;
}

/* Into the write buffer; written first when it is full. */
static int file_send(struct transport *t, const void *msg, size_t len)
{
	int err;

	if (t->wlen + len > FILE_WRITE_BYTES && (err = transport_write_out(t)))
		return err;
	if (len > FILE_WRITE_BYTES)
		return -EMSGSIZE; /* messages are 65,535 bytes at most */
	memcpy(t->wbuf + t->wlen, msg, len);
	t->wlen += len;
	return 0;
}

int transport_send(struct transport *t, const void *msg, size_t len)
{
	long long end = mono_ms() + io_ms(t, SEND_MS);
	const char *p = msg;
	size_t left = len;
	bool cut = false;

	if (t->dest->kind == DEST_UDP)
		return udp_send(t, msg, len);
	if (t->dest->kind == DEST_FILE)
		return file_send(t, msg, len);
	while (left) {
		ssize_t n;
		int err;

		/* a part went: the rest gets only the time left */
		if (left < len && (cut = true, tcp_budget(t, end))) {
			n = -1;
			err = ETIMEDOUT;
		} else {
			n = send(t->fd, p, left, MSG_NOSIGNAL);
			err = errno;
		}
		if (n < 0 && err == EINTR)
			continue;
		if (n <= 0) {
			t->send_errors++;
			tcp_down(t, time(NULL), n < 0 ? strerror(err) : "short write");
			return n < 0 ? -err : -EIO;
		}
		p += n;
		left -= n;
	}
	if (cut)
		send_timeout(t); /* back to the usual for the next message */
	return 0;
}

int transport_ends(const struct transport *t, struct sockaddr_storage *local,
		   struct sockaddr_storage *peer)
{
	socklen_t llen = sizeof(*local), plen = sizeof(*peer);

	if (t->dest->kind == DEST_FILE || t->fd < 0 ||
	    getsockname(t->fd, (struct sockaddr *)local, &llen) ||
	    getpeername(t->fd, (struct sockaddr *)peer, &plen))
		return -ENOTCONN;
	return 0;
}

/* What a file's buffer still holds was counted as not delivered. */
void transport_close(struct transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->wbuf);
	t->wbuf = NULL;
	t->wlen = 0;
}
