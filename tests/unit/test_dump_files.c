// SPDX-License-Identifier: GPL-2.0
/*
 * test_dump_files - the -O files (dump_files.c): names by period without
 * colons; a batch that does not fit is cut back whole (RLIMIT_FSIZE makes
 * a write stop half-way, as a full disk does) and counted as not written;
 * writing resumes when there is room. No BPF, no root.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include "dump_files.h"
#include "log.h"
#include "tap.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z */

static struct flow_record rec(int i)
{
	struct flow_record r;

	memset(&r, 0, sizeof(r));
	r.key.ip_version = 4;
	r.key.protocol = 17;
	r.key.src_addr[10] = r.key.src_addr[11] = 0xff;
	r.key.dst_addr[10] = r.key.dst_addr[11] = 0xff;
	r.key.src_addr[15] = i;
	r.key.src_port = 4000 + i;
	r.key.dst_port = 9;
	r.fwd.packets = i;
	r.end_reason = END_IDLE;
	return r;
}

static long lines_in(const char *path)
{
	char *text = NULL;
	long n = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	for (char *p = text; *p; p++)
		n += *p == '\n';
	/* a last line without its newline is half a record */
	if (*text && text[strlen(text) - 1] != '\n')
		n = -2;
	g_free(text);
	return n;
}

static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

int main(void)
{
	char dir[] = "/tmp/fx-dump-test.XXXXXX";
	struct flow_record recs[8];
	struct rlimit lim, saved;
	char *f1, *f2;
	struct dump_files *d;
	off_t before;

	for (int i = 0; i < 8; i++)
		recs[i] = rec(i + 1);
	log_init(LOG_LEVEL_WARN);
	if (!mkdtemp(dir))
		return 1;
	f1 = g_build_filename(dir, "2023-11-14", "20231114T221000Z.txt", NULL);
	f2 = g_build_filename(dir, "2023-11-14", "20231114T221500Z.txt", NULL);

	d = dump_files_open(dir, 300, false);
	CHECK(d != NULL, "open");
	dump_files_set_time(d, T0);
	dump_files_write(d, recs, 2);
	dump_files_set_time(d, T0 + 99); /* 22:14:59, same period */
	dump_files_write(d, recs + 2, 1);
	CHECK_EQ("records in the 22:10 file", lines_in(f1), 3);
	dump_files_set_time(d, T0 + 100); /* 22:15:00 */
	dump_files_write(d, recs, 1);
	CHECK_EQ("records in the 22:15 file", lines_in(f2), 1);
	CHECK(!strchr(f1 + strlen(dir), ':'), "no colon in '%s'", f1);
	tap_result("-O files: one per 300 s period, named YYYYMMDDTHHMMSSZ after its start");

	/* room for about one more record: a batch of four stops half-way */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &saved);
	before = size_of(f2);
	lim = saved;
	lim.rlim_cur = before + 200;
	setrlimit(RLIMIT_FSIZE, &lim);
	dump_files_write(d, recs + 1, 4);
	CHECK_EQ("file cut back to where the batch began", size_of(f2), before);
	CHECK_EQ("records in the file", lines_in(f2), 1);
	CHECK_EQ("not written", dump_files_unwritten(d), 4);
	dump_files_write(d, recs + 5, 3);
	CHECK_EQ("not written, second batch", dump_files_unwritten(d), 7);
	tap_result("-O file full half-way through a batch: cut back whole, the batch counted as not written");

	setrlimit(RLIMIT_FSIZE, &saved);
	dump_files_write(d, recs, 2);
	CHECK_EQ("records in the file", lines_in(f2), 3);
	CHECK_EQ("not written stays", dump_files_unwritten(d), 7);
	tap_result("-O file with room again: writing resumes");

	dump_files_close(d);
	unlink(f1);
	unlink(f2);
	g_free(f1);
	g_free(f2);
	{
		char day[64];

		snprintf(day, sizeof(day), "%s/2023-11-14", dir);
		rmdir(day);
	}
	rmdir(dir);
	return tap_failed_cases ? 1 : 0;
}
