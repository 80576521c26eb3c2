// SPDX-License-Identifier: GPL-2.0
/*
 * dpi_shared.c - what records carry of -D, for every output: the
 * application names, and the results as one reference-counted copy shared
 * by the record's copies in the sink and in every exporter's queues
 * (threads), freed with the last.
 */
#include <stddef.h>
#include <stdlib.h>
#include "dpi.h"

const char *dpi_app_name(__u8 app)
{
	static const char *const names[DPI_APP_MAX] = {
		[DPI_APP_NONE] = "", [DPI_APP_DNS] = "dns",
		[DPI_APP_HTTP] = "http", [DPI_APP_TLS] = "tls",
		[DPI_APP_QUIC] = "quic",
	};

	return app < DPI_APP_MAX ? names[app] : "";
}

/* A dpi_info with its reference count in front. */
struct dpi_shared {
	int refs;
	struct dpi_info info;
};

#define SHARED_OF(d) \
	((struct dpi_shared *)((char *)(d) - offsetof(struct dpi_shared, info)))

const struct dpi_info *dpi_shared_new(const struct dpi_info *info)
{
	struct dpi_shared *s = malloc(sizeof(*s));

	if (!s)
		return NULL;
	s->refs = 1;
	s->info = *info;
	return &s->info;
}

void dpi_ref(const struct dpi_info *d)
{
	if (d)
		__atomic_add_fetch(&SHARED_OF(d)->refs, 1, __ATOMIC_RELAXED);
}

void dpi_unref(const struct dpi_info *d)
{
	if (d && __atomic_sub_fetch(&SHARED_OF(d)->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(SHARED_OF(d));
}
