// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ipfix_collector - IPFIX messages as the test collector
 * (tests/unit/ipfix_collector.c) reads them: the same session and read
 * loop (tests/unit/ipfix_records.h), over a file-backed libfixbuf
 * collector instead of a socket, until the input ends or is refused.
 * NetFlow v9 has no decoder of ours: the tests decode it with nfcapd,
 * nfacctd and tshark.
 */
#include <stdio.h>
#include "fuzz.h"
#include "ipfix_records.h"

#define MAX_MESSAGES 10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fbInfoModel_t *model; /* read-only here, and slow to build */
	static FILE *out;
	fbSession_t *session;
	fbCollector_t *coll;
	GError *err = NULL;
	fBuf_t *fbuf;
	FILE *in;

	if (size > 1 << 20)
		return 0;
	if (!out) {
		out = fopen("/dev/null", "w");
		model = fbInfoModelAlloc();
	}
	in = fmemopen((void *)data, size, "rb");
	if (!in || !out)
		abort();
	session = collect_session(model, &err);
	FUZZ_CHECK(session != NULL);
	coll = fbCollectorAllocFP(NULL, in);
	FUZZ_CHECK(coll != NULL);
	fbuf = fBufAllocForCollection(session, coll);
	fBufSetAutomaticMode(fbuf, FALSE);
	/* a message at a time, as the UDP collector does */
	for (int n = 0; n < MAX_MESSAGES && !read_all(fbuf, out); n++)
		;
	fBufFree(fbuf); /* frees the session and the collector too */
	fclose(in);
	return 0;
}
