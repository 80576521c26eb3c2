/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lockfile.h - a lock file under /run/lock with byte-range locks (open file
 * description locks: released by the kernel when the holder dies, also by
 * SIGKILL). Every holder keeps a shared "presence" lock on one byte; the
 * last one to close removes the file, so lock files do not pile up, and a
 * newcomer that opened the file just before it was removed notices and
 * opens the new one.
 */
#ifndef FLOWEXPORT_LOCKFILE_H
#define FLOWEXPORT_LOCKFILE_H

#include <stdbool.h>

/* Bytes of a lock file; each is a separate lock. */
enum lock_byte {
	LOCK_SWAP = 0,     /* held while a batch of table operations runs */
	LOCK_OWNER = 1,    /* held for life by the owner of a pin */
	LOCK_PRESENCE = 2, /* shared by every holder of the file */
};

struct lockfile {
	int fd;
	char path[128];
};

#define LOCKFILE_INIT { .fd = -1 }

/* Open (create) /run/lock/flowexport-NAME.lock. 0 or -errno. */
int lockfile_open(struct lockfile *l, const char *name);
/* Exclusive lock on one byte: wait for it, or fail with -EAGAIN when
 * another process holds it. 0 or -errno. */
int lockfile_take(struct lockfile *l, enum lock_byte byte, bool wait);
void lockfile_release(struct lockfile *l, enum lock_byte byte);
/* Does a live process hold that byte of NAME's lock file? Looked at, not
 * taken; no file (its last holder removed it, or none ever made it):
 * false. */
bool lockfile_held(const char *name, enum lock_byte byte);
/* Drop every lock; the last holder removes the file. */
void lockfile_close(struct lockfile *l);

#endif
