// SPDX-License-Identifier: GPL-2.0
/* export.c - placeholder until the IPFIX/v9 exporters land (issue 4):
 * every -c is refused with a clear message. */
#include <errno.h>
#include <stdio.h>
#include "export.h"
#include "log.h"

struct exporter *exporter_open(const struct config *cfg, const char *dest)
{
	(void)cfg;
	pr_warn("export to '%s' is not available in this build yet\n", dest);
	errno = ENOSYS;
	return NULL;
}

int exporter_send(struct exporter *ex, const struct flow_record *recs, size_t n)
{
	(void)ex; (void)recs; (void)n;
	return -ENOSYS;
}

void exporter_tick(struct exporter *ex, time_t now, const struct metering_stats *ms)
{
	(void)ex; (void)now; (void)ms;
}

void exporter_close(struct exporter *ex)
{
	(void)ex;
}
