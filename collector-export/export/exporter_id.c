// SPDX-License-Identifier: GPL-2.0
/*
 * exporter_id.c - the exporter's own address and the system's start time.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "exporter_id.h"

static void addr_out(const struct sockaddr *sa, __u8 v4[4], __u8 v6[16],
		     bool *is_v6)
{
	memset(v4, 0, 4);
	memset(v6, 0, 16);
	*is_v6 = sa->sa_family == AF_INET6;
	if (*is_v6)
		memcpy(v6, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else
		memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
}

/* Connecting a UDP socket sends nothing: it only makes the kernel pick the
 * route, and with it the source address, for the collector's address. */
static int route_source(const struct export_dest *d, struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *ai;
	int err = -EHOSTUNREACH;

	if (getaddrinfo(d->host, d->port, &hints, &res))
		return -EHOSTUNREACH;
	for (ai = res; ai && err; ai = ai->ai_next) {
		socklen_t len = sizeof(*ss);
		int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen) &&
		    !getsockname(fd, (struct sockaddr *)ss, &len))
			err = 0;
		close(fd);
	}
	freeaddrinfo(res);
	return err;
}

/* The host's address for a file export: IPv4 first, then IPv6, from an
 * interface that is up and not loopback. */
static int host_address(struct sockaddr_storage *ss)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct ifaddrs *ifs, *i;
	int err = -EADDRNOTAVAIL;

	if (getifaddrs(&ifs))
		return -errno;
	for (int f = 0; f < 2 && err; f++)
		for (i = ifs; i && err; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != families[f] ||
			    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
				continue;
			memcpy(ss, i->ifa_addr, families[f] == AF_INET ?
			       sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
			err = 0;
		}
	freeifaddrs(ifs);
	return err;
}

int exporter_local_addr(const struct export_dest *d, __u8 v4[4], __u8 v6[16],
			bool *is_v6)
{
	struct sockaddr_storage ss = { 0 };
	int err = d->kind == DEST_FILE ? host_address(&ss) : route_source(d, &ss);

	if (err) { /* nothing better known: loopback */
		struct sockaddr_in *lo = (struct sockaddr_in *)&ss;

		lo->sin_family = AF_INET;
		lo->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	addr_out((struct sockaddr *)&ss, v4, v6, is_v6);
	return err;
}

__u64 system_init_epoch_ms(void)
{
	struct timespec now, up;
	__u64 boot;

	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_BOOTTIME, &up);
	boot = ((__u64)now.tv_sec * 1000 + now.tv_nsec / 1000000) -
	       ((__u64)up.tv_sec * 1000 + up.tv_nsec / 1000000);
	return boot - boot % 1000;
}
