// SPDX-License-Identifier: GPL-2.0
/*
 * export_wire.c - sets into an export message in wire form (export_wire.h).
 */
#include <errno.h>
#include <stdbool.h>
#include "export_wire.h"

void wire_close_set(struct wire_msg *m)
{
	if (!m->set_start)
		return;
	while ((m->len - m->set_start) % m->align)
		m->buf[m->len++] = 0;
	put16(m->buf + m->set_start + 2, m->len - m->set_start);
	m->set_start = 0;
	m->set_id = 0;
}

/* Exact: the open set's padding, the new set's header and the padding
 * the set will need once the n bytes are in must all fit in max. */
int wire_reserve(struct wire_msg *m, __u16 set_id, size_t n)
{
	bool new_set = !m->set_start || m->set_id != set_id;
	size_t len = m->len ? m->len : m->hdr_len, set_len;

	if (new_set) {
		if (m->set_start)
			len += wire_pad(len - m->set_start, m->align);
		set_len = 4 + n;
	} else {
		set_len = len - m->set_start + n;
	}
	len += (new_set ? 4 : 0) + n;
	if (len + wire_pad(set_len, m->align) > m->max)
		return -ENOBUFS;
	if (!m->len)
		m->len = m->hdr_len;
	if (new_set) {
		wire_close_set(m);
		m->set_start = m->len;
		m->set_id = set_id;
		put16(m->buf + m->len, set_id);
		m->len += 4;
	}
	return 0;
}
