// SPDX-License-Identifier: GPL-2.0
/*
 * lockfile.c - /run/lock files with open file description (OFD) byte locks.
 * OFD locks belong to the open file, not the process, so two instances in
 * one process would not share them, and they are released on close and on
 * death whatever the signal.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lockfile.h"

#define LOCK_DIR "/run/lock"
#define OPEN_TRIES 10 /* the file removed under us this often: give up */

static int byte_lock(int fd, enum lock_byte byte, short type, bool wait)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = byte,
		.l_len = 1,
	};

	for (;;) {
		if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0)
			return 0;
		/* our signal handlers do not restart: a SIGTERM while
		 * waiting must not let us go on without the lock */
		if (errno != EINTR)
			return errno == EACCES ? -EAGAIN : -errno;
	}
}

/* Still the file the path names? The last holder of an old one may have
 * removed it between our open and our lock. */
static bool still_linked(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The lock file of NAME; false when the path would not fit. */
static bool lock_path(char *buf, size_t len, const char *name)
{
	return snprintf(buf, len, LOCK_DIR "/flowexport-%s.lock", name) < (int)len;
}

int lockfile_open(struct lockfile *l, const char *name)
{
	l->fd = -1;
	if (!lock_path(l->path, sizeof(l->path), name))
		return -ENAMETOOLONG;
	mkdir(LOCK_DIR, 0755); /* a system without one: make it */
	for (int i = 0; i < OPEN_TRIES; i++) {
		int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		int err;

		if (fd < 0)
			return -errno;
		err = byte_lock(fd, LOCK_PRESENCE, F_RDLCK, true);
		if (err) {
			close(fd);
			return err;
		}
		if (still_linked(fd, l->path)) {
			l->fd = fd;
			return 0;
		}
		close(fd);
	}
	return -ESTALE;
}

bool lockfile_held(const char *name, enum lock_byte byte)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = byte,
		.l_len = 1,
	};
	char path[128];
	bool held;
	int fd;

	if (!lock_path(path, sizeof(path), name))
		return true; /* not a name of ours: say nothing about it */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT; /* no file: its last holder left */
	held = fcntl(fd, F_OFD_GETLK, &fl) || fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

int lockfile_take(struct lockfile *l, enum lock_byte byte, bool wait)
{
	if (l->fd < 0)
		return 0; /* no lock file: nothing to serialize with */
	return byte_lock(l->fd, byte, F_WRLCK, wait);
}

void lockfile_release(struct lockfile *l, enum lock_byte byte)
{
	if (l->fd >= 0)
		byte_lock(l->fd, byte, F_UNLCK, false);
}

void lockfile_close(struct lockfile *l)
{
	if (l->fd < 0)
		return;
	/* nobody else present (our shared lock upgrades): remove it while we
	 * still hold it; a newcomer blocked on it finds it unlinked */
	if (byte_lock(l->fd, LOCK_PRESENCE, F_WRLCK, false) == 0 &&
	    still_linked(l->fd, l->path))
		unlink(l->path);
	close(l->fd);
	l->fd = -1;
}
