/* SPDX-License-Identifier: GPL-2.0 */
/*
 * privileges.h - what flowexport needs from the kernel, checked as
 * capabilities (root is not required: a binary given them by setcap, or a
 * service given them by AmbientCapabilities=, runs as well), and --user:
 * after the programs are loaded and attached, run as that user with only
 * the capabilities the rest of the run needs.
 */
#ifndef FLOWEXPORT_PRIVILEGES_H
#define FLOWEXPORT_PRIVILEGES_H

#include "config.h"

/* 0, or -EPERM after one line naming the capabilities the mode of cfg
 * needs and this process lacks. */
int privileges_check(const struct config *cfg);

/* --user NAME: become that user (its primary group, no supplementary
 * groups), keeping CAP_SYS_ADMIN, CAP_DAC_OVERRIDE and CAP_FOWNER
 * (privileges.c says why) and nothing else; a no-op without --user. 0 or -errno
 * after a message; on failure the caller stops (detaching as it does on
 * SIGTERM). */
int privileges_drop(const struct config *cfg);

/* Checks that NAME is a user of this system; 0 or -ENOENT. */
int privileges_user_exists(const char *name);

#endif
