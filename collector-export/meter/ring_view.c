// SPDX-License-Identifier: GPL-2.0
/* ring_view.c - mapping a BPF ring buffer for reading (ring_view.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ring_view.h"

int ring_view_map(int fd, struct ring_view *v)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	void *cons, *prod;

	memset(v, 0, sizeof(*v));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	v->id = info.id;
	v->size = info.max_entries;
	v->mask = v->size - 1;
	v->page = sysconf(_SC_PAGESIZE);
	cons = mmap(NULL, v->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, v->page + 2 * v->size, PROT_READ, MAP_SHARED, fd,
		    v->page);
	if (prod == MAP_FAILED) {
		int err = -errno;

		munmap(cons, v->page);
		return err;
	}
	v->cons = cons;
	v->prod = prod;
	v->data = (const unsigned char *)prod + v->page;
	return 0;
}

void ring_view_unmap(struct ring_view *v)
{
	if (v->prod)
		munmap((void *)v->prod, v->page + 2 * v->size);
	if (v->cons)
		munmap(v->cons, v->page);
	v->cons = NULL;
	v->prod = NULL;
}
