// SPDX-License-Identifier: GPL-2.0
/*
 * test_log.c - log.c's journal mode and thread subjects: stderr is a file
 * here, and JOURNAL_STREAM names it (or not); what the file holds is what
 * journald would have read.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "tap.h"

static char path[] = "/tmp/fx-test-log-XXXXXX";

/* stderr to a fresh file; JOURNAL_STREAM its dev:ino when match, else
 * another file's. */
static void fresh_stderr(bool match)
{
	struct stat st;
	char js[64];
	int fd;

	fflush(stderr);
	fd = open(path, O_RDWR | O_TRUNC);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fstat(STDERR_FILENO, &st);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (match ? 0 : 1));
	setenv("JOURNAL_STREAM", js, 1);
	log_init(LOG_LEVEL_DEBUG);
}

static const char *contents(void)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void *exporter_thread(void *arg)
{
	(void)arg;
	log_set_thread_subject("collector 192.0.2.1:4739");
	pr_warn("cannot send: Connection refused\n");
	pr_info("collector 192.0.2.1:4739: connected\n");
	return NULL;
}

int main(void)
{
	pthread_t t;
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);

	fresh_stderr(true);
	CHECK(log_to_journal(), "JOURNAL_STREAM names stderr: journal mode");
	pr_warn("%s: cannot attach\n", "eth0");
	pr_info("attached to %s\n", "eth0");
	pr_debug("verifier said:\nline 1\nline 2\n");
	pr_info("part one, ");
	pr_info("part two\n");
	log_msg(LOG_LEVEL_ALWAYS, "counters: packets 1\n");
	CHECK(!strcmp(contents(),
		      "<4>eth0: cannot attach\n"
		      "<6>attached to eth0\n"
		      "<7>verifier said:\n<7>line 1\n<7>line 2\n"
		      "<6>part one, part two\n"
		      "<6>counters: packets 1\n"),
	      "journal lines: [%s]", contents());
	tap_result("journal: a <N> syslog priority before every line (warning 4, info 6, debug 7), none inside one");

	fresh_stderr(false);
	CHECK(!log_to_journal(), "JOURNAL_STREAM names another file: no journal");
	pr_warn("eth0: cannot attach\n");
	pr_info("attached to eth0\n");
	CHECK(!strcmp(contents(), "flowexport: eth0: cannot attach\nattached to eth0\n"),
	      "plain lines: [%s]", contents());
	tap_result("stderr redirected elsewhere (JOURNAL_STREAM not its dev:ino): plain lines");

	fresh_stderr(true);
	pthread_create(&t, NULL, exporter_thread, NULL);
	pthread_join(t, NULL);
	pr_info("main thread: no subject\n");
	CHECK(!strcmp(contents(),
		      "<4>collector 192.0.2.1:4739: cannot send: Connection refused\n"
		      "<6>collector 192.0.2.1:4739: connected\n"
		      "<6>main thread: no subject\n"),
	      "subject lines: [%s]", contents());
	tap_result("a collector's thread names it in each message, once, and only its own");

	fresh_stderr(true);
	{
		char logf[] = "/tmp/fx-test-logL-XXXXXX";
		int lf = mkstemp(logf);
		char buf[512] = "";
		ssize_t n;

		CHECK(log_open_file(logf) == 0, "-L file opens");
		CHECK(!log_to_journal(), "-L: not the journal");
		pr_warn("eth0: cannot attach\n");
		log_close();
		n = read(lf, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		CHECK(n > 20 && strstr(buf, " eth0: cannot attach\n") && !strchr(buf, '<'),
		      "-L file: [%s]", buf);
		CHECK(!*contents(), "nothing on stderr: [%s]", contents());
		close(lf);
		unlink(logf);
	}
	tap_result("-L FILE under systemd: the file gets the messages, timestamped, without priorities");

	unlink(path);
	return tap_failed_cases ? 1 : 0;
}
