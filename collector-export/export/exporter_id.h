/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exporter_id.h - who is exporting, for the options records: the local
 * address records leave from, and when the system started (the origin of
 * NetFlow v9's sysUptime), so that collectors can tell exporters and
 * restarts apart.
 */
#ifndef FLOWEXPORT_EXPORTER_ID_H
#define FLOWEXPORT_EXPORTER_ID_H

#include <linux/types.h>
#include "export_dest.h"

/* The local address messages to d leave from (the kernel's choice for a
 * socket to the collector; for a file, the host's first address that is
 * not loopback, else loopback). v4 or v6 is filled, the other zeroed;
 * *is_v6 says which. 0 or -errno. */
int exporter_local_addr(const struct export_dest *d, __u8 v4[4], __u8 v6[16],
			bool *is_v6);

/* When the system booted, in epoch ms, rounded down to a whole second. */
__u64 system_init_epoch_ms(void);

#endif
