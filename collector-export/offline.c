// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include "modes.h"
int run_offline(const struct config *cfg) { (void)cfg; return -ENOSYS; }
