// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - leveled messages. On a terminal plain; into a -L file with a
 * timestamp; into the journal (started by systemd: JOURNAL_STREAM names our
 * stderr) with a "<N>" syslog priority in front of every line, which
 * journald's stream reader turns into the entry's PRIORITY. A thread that
 * works for one collector or interface names it in every message it logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

static enum log_level current_level = LOG_LEVEL_INFO;
static FILE *log_file;
static const char *log_context;
static bool to_journal;
/* journal: the last write ended a line, the next one needs a priority */
static bool at_line_start = true;
static __thread char thread_subject[256];

void log_set_thread_subject(const char *subject)
{
	snprintf(thread_subject, sizeof(thread_subject), "%s", subject ? subject : "");
}

bool log_to_journal(void)
{
	return to_journal && !log_file;
}

/* systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected stdout/stderr to; a stderr redirected since is not it. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* syslog(3) priorities: warning, info, debug; counters lines are info */
static int journal_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_WARN: return 4;
	case LOG_LEVEL_DEBUG: return 7;
	default: return 6;
	}
}

/* text with "<N>" before every line that starts in it */
static void write_journal(FILE *out, int prio, const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");
		bool nl = text[len] == '\n';

		if (at_line_start)
			fprintf(out, "<%d>", prio);
		fwrite(text, 1, len + nl, out);
		at_line_start = nl;
		text += len + nl;
	}
}

void log_set_context(const char *context)
{
	log_context = context;
}

FILE *log_stream(void)
{
	return log_file ? log_file : stderr;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	FILE *out = log_stream();
	char buf[1024], *text = buf, *heap = NULL;
	const char *subject = thread_subject;
	va_list copy;
	int n;

	if (level > current_level)
		return;
	va_copy(copy, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, copy);
	va_end(copy);
	if (n >= (int)sizeof(buf) && (heap = malloc(n + 1))) { /* verifier logs */
		vsnprintf(heap, n + 1, fmt, ap);
		text = heap;
	}
	if (n < 0)
		return;
	/* named already (most messages of exporters say "collector X") */
	if (*subject && strstr(text, subject))
		subject = "";
	flockfile(out); /* exporter threads log too: one message at a time */
	if (log_to_journal()) {
		int prio = journal_priority(level);

		if (level == LOG_LEVEL_WARN && log_context)
			write_journal(out, prio, log_context);
		if (*subject) {
			write_journal(out, prio, subject);
			write_journal(out, prio, ": ");
		}
		write_journal(out, prio, text);
	} else {
		if (log_file) { /* a file gets timestamps; a terminal does not */
			char stamp[32];
			time_t now = time(NULL);
			struct tm tm;

			strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S ",
				 localtime_r(&now, &tm));
			fputs(stamp, out);
		} else if (level == LOG_LEVEL_WARN) {
			fputs("flowexport: ", out); /* like the command-line errors */
		}
		if (level == LOG_LEVEL_WARN && log_context)
			fputs(log_context, out);
		if (*subject)
			fprintf(out, "%s: ", subject);
		fputs(text, out);
	}
	fflush(out);
	funlockfile(out);
	free(heap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* libbpf's warnings are verifier logs and probes that fail on purpose;
	 * our own callers say what failed, and -v shows the details */
	(void)level;
	log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	/* libxdp warns loudly about the dispatcher fallback, which is fine */
	(void)level;
	log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
	return 0;
}

void log_init(enum log_level level)
{
	current_level = level;
	to_journal = stderr_is_journal();
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

int log_open_file(const char *path)
{
	FILE *f = fopen(path, "a");

	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOLBF, 0);
	log_file = f;
	return 0;
}

void log_close(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
}

bool log_ratelimit(struct ratelog *r, time_t now, unsigned long long *skipped)
{
	if (r->last && now - r->last < RATELOG_SEC) {
		r->skipped++;
		return false;
	}
	*skipped = r->skipped;
	r->skipped = 0;
	r->last = now;
	return true;
}
