/* SPDX-License-Identifier: GPL-2.0 */
/* dpi_output.h - the -D results of a record as JSON keys (-j). */
#ifndef FLOWEXPORT_DPI_OUTPUT_H
#define FLOWEXPORT_DPI_OUTPUT_H

#include <stdio.h>
#include "dpi.h"

/* ,"applicationName":"dns",... for what d holds; nothing if d->app is 0. */
void dpi_write_json(FILE *f, const struct dpi_info *d);

#endif
