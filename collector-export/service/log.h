/* SPDX-License-Identifier: GPL-2.0 */
/* log.h - leveled messages to stderr, the journal or the -L file; libbpf's
 * and libxdp's own output is routed through here. */
#ifndef FLOWEXPORT_LOG_H
#define FLOWEXPORT_LOG_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* ALWAYS: output the user asked for (counters lines), whatever -q says. */
enum log_level {
	LOG_LEVEL_ALWAYS = -1, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG
};

void log_init(enum log_level level);
/* Send messages to path from now on; 0 or -errno. */
int log_open_file(const char *path);
void log_close(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text put after "flowexport: " in warnings until cleared with NULL, to
 * say where a value came from (a configuration file and key). */
void log_set_context(const char *context);
/* The stream messages go to (stderr unless -L). */
FILE *log_stream(void);
/* Messages go to the journal: started by systemd (JOURNAL_STREAM is our
 * stderr) and no -L; each line then carries a "<N>" priority. */
bool log_to_journal(void);
/* What the calling thread works for ("collector host:port", "interface
 * eth0"): put in front of each message it logs that does not name it
 * already. NULL or "" clears it. */
void log_set_thread_subject(const char *subject);

/* Something that may repeat many times a second (a collector that is down)
 * is said at most once per RATELOG_SEC, with how often it happened since. */
struct ratelog {
	time_t last;
	unsigned long long skipped;
};

#define RATELOG_SEC 10

/* True when the message is due now; *skipped is how many were held back
 * since the last one. */
bool log_ratelimit(struct ratelog *r, time_t now, unsigned long long *skipped);

#define pr_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
