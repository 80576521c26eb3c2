/* SPDX-License-Identifier: GPL-2.0 */
/* bench_dpi.h - -t 0 -D: the DPI stage's cost per packet (bench_dpi.c). */
#ifndef FLOWEXPORT_BENCH_DPI_H
#define FLOWEXPORT_BENCH_DPI_H

#include "config.h"

int run_dpi_bench(const struct config *cfg);

#endif
