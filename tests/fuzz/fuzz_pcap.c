// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_pcap - capture files (-r) through capture_open() / capture_next():
 * pcap and pcapng, Ethernet and Linux cooked. Every frame handed out must
 * be readable over its whole length (ASan checks each byte) and never
 * longer than what it had on the wire.
 */
#include "capture.h"
#include "fuzz.h"

#define MAX_FRAMES 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_frame f;
	struct capture *c;
	char path[64];
	int fd, rc = 0;

	if (size > 1 << 20)
		return 0;
	fd = fuzz_memfile(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	fuzz_quiet_log();
	c = capture_open(path);
	for (int n = 0; c && n < MAX_FRAMES; n++) {
		volatile uint8_t sum = 0;

		rc = capture_next(c, &f);
		if (rc <= 0)
			break;
		FUZZ_CHECK(f.len <= f.wire_len);
		FUZZ_CHECK(f.len == 0 || f.data != NULL);
		for (uint32_t i = 0; i < f.len; i++)
			sum += f.data[i];
		(void)sum;
	}
	FUZZ_CHECK(rc <= 1);
	capture_close(c);
	log_close();
	close(fd);
	return 0;
}
