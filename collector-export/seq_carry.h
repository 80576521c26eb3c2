/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seq_carry.h - TCP sequence state across flow-table swaps (bpf/tcp_seq.h):
 * before a table is drained, the sequence state of its TCP entries goes to
 * the tcp_seq_carry map, where a flow's next entry starts from.
 */
#ifndef FLOWEXPORT_SEQ_CARRY_H
#define FLOWEXPORT_SEQ_CARRY_H

#include "flowtable.h"
#include "loader.h"

/*
 * Copy the sequence state of every TCP entry of table_fd into p's
 * tcp_seq_carry. Call it when no program writes the table any more and
 * before drain_table() empties it into fc: the state is then always in the
 * table or in the carry map, never in neither. A state fc already holds
 * was saved from an earlier table and is not written again. 0 or -errno.
 */
int seq_carry_save(struct pipeline *p, int table_fd,
		   const struct flow_cache *fc);

#endif
