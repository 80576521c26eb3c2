/* SPDX-License-Identifier: GPL-2.0 */
/*
 * balance.h - --balance: which of n collectors a flow goes to. The choice
 * depends on the addresses, ports, protocol and VLAN only, ordered so that
 * both directions of a conversation (and every report of a long flow) go to
 * the same collector, whatever interface they came in on.
 */
#ifndef FLOWEXPORT_BALANCE_H
#define FLOWEXPORT_BALANCE_H

#include "flow.h"

unsigned int balance_pick(const struct flow_key *key, unsigned int n);

#endif
