/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h - what every libFuzzer target here shares: messages go to
 * /dev/null (formatted all the same, so a bad format still shows), a broken
 * invariant aborts with a line saying which, and inputs that name a file
 * become an anonymous memory file.
 */
#ifndef FLOWEXPORT_FUZZ_H
#define FLOWEXPORT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The checks below must hold for every input; a failure is a finding. */
#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",  \
				__FILE__, __LINE__, #cond);               \
			abort();                                          \
		}                                                         \
	} while (0)

static inline void fuzz_quiet_log(void)
{
	log_init(LOG_LEVEL_DEBUG);
	if (log_open_file("/dev/null"))
		abort();
}

/* data as a file: "/proc/self/fd/N" names it in path; returns the fd to
 * close afterwards, or -1. The code under test opens the path itself. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path,
			       size_t path_size)
{
	int fd = memfd_create("fuzz-input", 0);

	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
