// SPDX-License-Identifier: GPL-2.0
/* signals.c - signals to flags for the meter loop (signals.h). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include "signals.h"

static volatile sig_atomic_t stop_flag, reload_flag, counters_flag;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else if (sig == SIGUSR1)
		counters_flag = 1;
	else
		stop_flag = 1;
}

int signals_install(void)
{
	/* SIGPIPE (stdout piped into 'head') would kill us with XDP left
	 * attached and the table pinned: stop cleanly instead; a write to
	 * the closed pipe then fails with EPIPE. SIGHUP reloads, as daemons
	 * do (logrotate, systemctl reload), rather than stop metering. */
	static const int sigs[] = { SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGUSR1 };
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -errno;
	return 0;
}

bool signals_stop_requested(void)
{
	return stop_flag;
}

static bool take(volatile sig_atomic_t *flag)
{
	if (!*flag)
		return false;
	*flag = 0;
	return true;
}

bool signals_take_reload(void)
{
	return take(&reload_flag);
}

bool signals_take_counters(void)
{
	return take(&counters_flag);
}
