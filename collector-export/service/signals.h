/* SPDX-License-Identifier: GPL-2.0 */
/*
 * signals.h - what a signal asks of a live run, as flags the meter loop
 * reads between two waits (a handler does nothing else):
 *   SIGINT, SIGTERM, SIGPIPE  stop: detach, export what is held, exit 0
 *   SIGHUP                    reload the configuration, reopen -L and -O
 *   SIGUSR1                   write a counters line now
 */
#ifndef FLOWEXPORT_SIGNALS_H
#define FLOWEXPORT_SIGNALS_H

#include <stdbool.h>

/* Installs the handlers, without SA_RESTART so that the loop's wait
 * returns at once. 0 or -errno. */
int signals_install(void);
bool signals_stop_requested(void);
/* True once per SIGHUP (several before the loop looks count as one). */
bool signals_take_reload(void);
/* True once per SIGUSR1 (likewise). */
bool signals_take_counters(void);

#endif
