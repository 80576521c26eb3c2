/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table_alone.h - proving that no BPF program but ours can write the flow
 * table any more, so that it may be read and emptied in bulk (at exit,
 * our own programs detached and a grace period past): no -M peer present
 * (the table's lock file), none able to join meanwhile, and no program
 * loaded by anyone else (a peer that died leaves its programs metering)
 * that refers to the table.
 */
#ifndef FLOWEXPORT_TABLE_ALONE_H
#define FLOWEXPORT_TABLE_ALONE_H

#include "loader.h"

/* Call it once every attachment of ours is gone. 1: alone (after the
 * caller's next grace period nothing writes the table), and newcomers wait
 * for the lock file until we close it; 0: not provably alone (peers,
 * foreign programs, no lock file, no right to look); never an error. */
int pipeline_table_alone(struct pipeline *p);

#endif
