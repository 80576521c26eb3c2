// SPDX-License-Identifier: GPL-2.0
/* fuzz_dest - collector addresses (-c) through dest_parse(). */
#include <string.h>
#include "export_dest.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct export_dest d;
	char *s;

	if (size > 8192)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_quiet_log();
	if (dest_parse(s, &d) == 0) {
		/* what was accepted is usable as it stands */
		if (d.kind == DEST_FILE) {
			FUZZ_CHECK(d.path[0] != '\0');
		} else {
			unsigned long port = strtoul(d.port, NULL, 10);

			FUZZ_CHECK(d.host[0] != '\0');
			FUZZ_CHECK(port >= 1 && port <= 65535);
			FUZZ_CHECK(strlen(d.host) < sizeof(d.host));
		}
	}
	free(s);
	log_close();
	return 0;
}
