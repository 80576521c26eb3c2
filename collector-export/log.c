// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

static enum log_level current_level = LOG_LEVEL_INFO;
static FILE *log_file;
static const char *log_context;

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

	if (level > current_level)
		return;
	if (log_file) { /* a file gets timestamps; a terminal does not */
		char stamp[32];
		time_t now = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S ",
			 localtime(&now));
		fputs(stamp, out);
	} else if (level == LOG_LEVEL_WARN) {
		fputs("flowexport: ", out); /* like the command-line errors */
	}
	if (level == LOG_LEVEL_WARN && log_context)
		fputs(log_context, out);
	vfprintf(out, fmt, ap);
	fflush(out);
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
