// SPDX-License-Identifier: GPL-2.0
/*
 * verify_cost.c - what each program of the BPF object costs the verifier,
 * in instructions processed: every instance of every stage is verified at
 * each start, so a loop whose states the verifier cannot merge makes every
 * start (and every test that starts flowexport) slower. Once, each program
 * that parsed IPv4 took 260k instructions (0.55-0.75 s) because of the
 * options walk; the heaviest now take under 30k. The count is exact for a
 * given kernel and object, not a timing. Each program is loaded alone, in
 * the heaviest configuration (--decap, -D, every parser slot), under each
 * --share strategy; one "ok"/"not ok" line per program with the largest
 * count; exits 1 if one exceeds the limit.
 *
 *   verify_cost [LIMIT]        default 150000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "flow.h"
#include "flowmon.skel.h"

#define DEFAULT_LIMIT 150000
#define MAX_PROGS 64

static char vlog[1 << 20];

/* Instructions the verifier processed for program name under share, or
 * -1 when it did not load. */
static long verified_insns(const char *name, __u32 share)
{
	struct flowmon *skel = flowmon__open();
	struct bpf_program *p, *want = NULL;
	const char *at;
	long insns = -1;

	if (!skel)
		return -1;
	skel->rodata->share_mode = share;
	skel->rodata->decap_enabled = 1;
	skel->rodata->dpi_mask = ~0U;
	bpf_object__for_each_program(p, skel->obj) {
		bool me = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, me);
		if (me)
			want = p;
	}
	vlog[0] = '\0';
	if (want) {
		bpf_program__set_log_buf(want, vlog, sizeof(vlog));
		bpf_program__set_log_level(want, 4); /* statistics only */
	}
	if (want && !flowmon__load(skel) &&
	    (at = strstr(vlog, "processed ")))
		insns = strtol(at + strlen("processed "), NULL, 10);
	flowmon__destroy(skel);
	return insns;
}

int main(int argc, char **argv)
{
	long limit = argc > 1 ? atol(argv[1]) : DEFAULT_LIMIT;
	const __u32 shares[] = { SHARE_META, SHARE_PERCPU, SHARE_GLOBAL };
	char names[MAX_PROGS][64];
	struct flowmon *skel;
	struct bpf_program *p;
	int n = 0, failed = 0;

	libbpf_set_print(NULL); /* the loader's messages are not the output */
	skel = flowmon__open();
	if (!skel) {
		printf("not ok - the BPF object opens\n");
		return 1;
	}
	bpf_object__for_each_program(p, skel->obj)
		if (n++ < MAX_PROGS)
			snprintf(names[n - 1], sizeof(names[0]), "%s",
				 bpf_program__name(p));
	flowmon__destroy(skel);
	/* nothing looked at must not pass */
	if (n == 0 || n > MAX_PROGS) {
		printf("not ok - the BPF object has 1 to %d programs (%d)\n",
		       MAX_PROGS, n);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		long worst = 0;

		for (size_t s = 0; s < sizeof(shares) / sizeof(shares[0]); s++) {
			long insns = verified_insns(names[i], shares[s]);

			worst = insns < 0 || worst < 0 ? -1 :
				insns > worst ? insns : worst;
		}
		if (worst >= 0 && worst <= limit) {
			printf("ok - %s: verified in %ld instructions (limit %ld)\n",
			       names[i], worst, limit);
		} else {
			printf("not ok - %s: %s (limit %ld)\n", names[i],
			       worst < 0 ? "did not load alone" : "verified in too many instructions",
			       limit);
			if (worst > 0)
				printf("# %s: %ld instructions\n", names[i], worst);
			failed = 1;
		}
	}
	return failed;
}
