// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_template - template files (--template PATH) through template_load():
 * the first byte chooses --biflow, the rest is the file.
 */
#include "export_template.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct export_template t;
	char path[64];
	int fd;

	if (size < 1 || size > 65536)
		return 0;
	fd = fuzz_memfile(data + 1, size - 1, path, sizeof(path));
	if (fd < 0)
		return 0;
	fuzz_quiet_log();
	if (template_load(path, data[0] & 1, &t) == 0) {
		for (int af = 0; af < TMPL_AF_MAX; af++) {
			unsigned int wire = 0;

			FUZZ_CHECK(t.n[af] > 0 && t.n[af] <= TMPL_MAX_ELEMS);
			for (int i = 0; i < t.n[af]; i++) {
				FUZZ_CHECK(t.elems[af][i].def != NULL);
				FUZZ_CHECK(t.elems[af][i].len > 0);
				wire += t.elems[af][i].len;
			}
			FUZZ_CHECK(wire == t.wire_len[af]);
		}
	}
	log_close();
	close(fd);
	return 0;
}
