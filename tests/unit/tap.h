/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - TAP-style results for tests/run.sh: a test case makes any number
 * of CHECKs, each failure printing a "#" diagnostic line, then tap_result()
 * prints one "ok - name" or "not ok - name" for the whole case.
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_case_failures; /* failed checks since the last tap_result */
static int tap_failed_cases;
static int tap_passed_cases;

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (!(cond)) {                                   \
			printf("#   %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                     \
			printf("\n");                            \
			tap_case_failures++;                     \
		}                                                \
	} while (0)

#define CHECK_EQ(what, got, want)                                            \
	do {                                                                 \
		unsigned long long _got = (got), _want = (want);             \
		CHECK(_got == _want, "%s: got %llu (0x%llx), want %llu (0x%llx)", \
		      what, _got, _got, _want, _want);                       \
	} while (0)

__attribute__((format(printf, 1, 2))) static inline void tap_result(const char *fmt, ...)
{
	va_list ap;

	printf(tap_case_failures ? "not ok - " : "ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (tap_case_failures)
		tap_failed_cases++;
	else
		tap_passed_cases++;
	tap_case_failures = 0;
}

#endif
