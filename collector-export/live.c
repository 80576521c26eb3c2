// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include "modes.h"
int run_live(const struct config *cfg) { (void)cfg; return -ENOSYS; }
