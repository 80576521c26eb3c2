// SPDX-License-Identifier: GPL-2.0
/*
 * dump_files.c - the -O folder (dump_files.h). A batch of records is
 * rendered in memory first and written with one append: when the disk is
 * full half-way, the file is cut back to where the batch began, so that a
 * reader never sees half a record and "not written" is an exact count.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib.h>
#include "dump_files.h"
#include "log.h"
#include "output.h"

struct dump_files {
	char *dir;
	unsigned int period;
	bool json;
	time_t now;          /* the clock names follow; 0: the wall clock */
	time_t start;        /* period of the open file */
	char *path;          /* of the open file, NULL: none open */
	int fd;
	int failing;         /* errno of the failure being said, 0: none */
	__u64 unwritten;
	__u64 unwritten_before; /* unwritten when the failure began */
};

struct dump_files *dump_files_open(const char *dir, unsigned int period_s,
				   bool json)
{
	struct dump_files *d;
	int err;

	if (g_mkdir_with_parents(dir, 0755)) {
		err = errno;
		pr_warn("cannot create dump folder '%s' (-O): %s\n", dir,
			strerror(err));
		errno = err;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->dir = g_strdup(dir);
	d->period = period_s ? period_s : 1;
	d->json = json;
	d->fd = -1;
	return d;
}

static void close_file(struct dump_files *d)
{
	if (d->fd >= 0 && close(d->fd))
		pr_warn("cannot write dump file '%s': %s\n", d->path,
			strerror(errno));
	d->fd = -1;
	g_free(d->path);
	d->path = NULL;
}

void dump_files_close(struct dump_files *d)
{
	if (!d)
		return;
	close_file(d);
	if (d->unwritten)
		pr_warn("%llu flow records could not be written to '%s' (-O)\n",
			(unsigned long long)d->unwritten, d->dir);
	g_free(d->dir);
	free(d);
}

void dump_files_set_time(struct dump_files *d, time_t now)
{
	d->now = now;
}

void dump_files_reopen(struct dump_files *d)
{
	close_file(d);
}

__u64 dump_files_unwritten(const struct dump_files *d)
{
	return d->unwritten;
}

/* DIR/2026-11-27/20261127T070500Z.json for the period starting then. */
static char *period_path(const struct dump_files *d, time_t start)
{
	char day[16], name[32];
	struct tm tm;

	gmtime_r(&start, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	strftime(name, sizeof(name), "%Y%m%dT%H%M%SZ", &tm);
	strcat(name, d->json ? ".json" : ".txt");
	return g_build_filename(d->dir, day, name, NULL);
}

static int open_file(struct dump_files *d, time_t start)
{
	char *dir;
	int err = 0;

	d->path = period_path(d, start);
	d->start = start;
	dir = g_path_get_dirname(d->path);
	if (g_mkdir_with_parents(dir, 0755))
		err = -errno;
	g_free(dir);
	if (!err) {
		d->fd = open(d->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			     0644);
		if (d->fd < 0)
			err = -errno;
	}
	return err;
}

/* All of buf, or nothing: a short write is cut off again. */
static int append_whole(int fd, const char *buf, size_t len)
{
	struct stat st;
	size_t done = 0;
	int err;

	if (fstat(fd, &st))
		return -errno;
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -ENOSPC;
			if (done && ftruncate(fd, st.st_size))
				pr_warn("cannot cut back a half-written dump file: %s\n",
					strerror(errno));
			return err;
		}
		done += w;
	}
	return 0;
}

static void note_failure(struct dump_files *d, int err, size_t n)
{
	if (!d->failing) {
		pr_warn("cannot write dump file '%s' (-O): %s; flows still go to the collectors, records not written are counted (dump_unwritten) and writing resumes when it can\n",
			d->path ? d->path : d->dir, strerror(-err));
		d->failing = -err;
		d->unwritten_before = d->unwritten;
	}
	d->unwritten += n;
	close_file(d); /* the next batch tries again, from the open */
}

static void note_success(struct dump_files *d)
{
	if (!d->failing)
		return;
	pr_warn("writing dump files in '%s' (-O) again; %llu flow records could not be written meanwhile\n",
		d->dir, (unsigned long long)(d->unwritten - d->unwritten_before));
	d->failing = 0;
}

void dump_files_write(struct dump_files *d, const struct flow_record *recs,
		      size_t n)
{
	void (*write_rec)(FILE *, const struct flow_record *) =
		d->json ? output_write_json : output_write_text;
	time_t now = d->now ? d->now : time(NULL);
	time_t start = now - now % d->period;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err = 0;

	if (!n)
		return;
	if (d->fd >= 0 && start != d->start)
		close_file(d);
	mem = open_memstream(&buf, &len);
	if (!mem) {
		note_failure(d, -errno, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		write_rec(mem, &recs[i]);
	if (fclose(mem))
		err = -errno;
	if (!err && d->fd < 0)
		err = open_file(d, start);
	if (!err)
		err = append_whole(d->fd, buf, len);
	free(buf);
	if (err)
		note_failure(d, err, n);
	else
		note_success(d);
}
