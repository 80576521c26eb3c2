// SPDX-License-Identifier: GPL-2.0
/* sink.c - fan records out to the output and to every exporter. */
#include <errno.h>
#include <string.h>
#include "log.h"
#include "sink.h"

int sink_open(struct sink *s, const struct config *cfg)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->out = output_open(cfg);
	if (!s->out)
		return errno ? -errno : -ENOMEM;
	for (int i = 0; i < cfg->n_collectors; i++) {
		s->ex[i] = exporter_open(cfg, cfg->collectors[i]);
		if (!s->ex[i]) {
			err = errno ? -errno : -EINVAL;
			sink_close(s);
			return err;
		}
		s->n_ex = i + 1;
	}
	return 0;
}

void sink_records(void *ctx, const struct flow_record *recs, size_t n)
{
	struct sink *s = ctx;

	output_records(s->out, recs, n);
	for (int i = 0; i < s->n_ex; i++) {
		int err = exporter_send(s->ex[i], recs, n);

		/* the exporter counts what it could not keep; say it once */
		if (err && !s->send_errors++)
			pr_warn("export to '%s' failed: %s\n",
				s->cfg->collectors[i], strerror(-err));
	}
}

void sink_tick(struct sink *s, time_t now, const struct metering_stats *ms)
{
	for (int i = 0; i < s->n_ex; i++)
		exporter_tick(s->ex[i], now, ms);
}

void sink_close(struct sink *s)
{
	for (int i = 0; i < s->n_ex; i++)
		exporter_close(s->ex[i]);
	s->n_ex = 0;
	output_close(s->out);
	s->out = NULL;
}
