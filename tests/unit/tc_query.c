// SPDX-License-Identifier: GPL-2.0
/*
 * tc_query - the BPF programs attached to an interface through TCX, which
 * bpftool 7.1 does not list: "tc_query IF ingress|egress" prints their
 * program ids and names, one a line (nothing when none). Exit 1 if the
 * query fails (no such interface, a kernel without TCX).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define FX_BPF_TCX_INGRESS 46
#define FX_BPF_TCX_EGRESS 47

int main(int argc, char **argv)
{
	__u32 ids[64], cnt = 64, flags = 0;
	int ifindex;

	if (argc != 3 || (strcmp(argv[2], "ingress") && strcmp(argv[2], "egress"))) {
		fprintf(stderr, "usage: tc_query IF ingress|egress\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "tc_query: no interface '%s'\n", argv[1]);
		return 1;
	}
	/* target_fd shares its place in bpf_attr with target_ifindex */
	if (bpf_prog_query(ifindex, strcmp(argv[2], "egress") ? FX_BPF_TCX_INGRESS :
				 FX_BPF_TCX_EGRESS, 0, &flags, ids, &cnt)) {
		fprintf(stderr, "tc_query: %s\n", strerror(errno));
		return 1;
	}
	for (__u32 i = 0; i < cnt; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(ids[i]);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			printf("%u %s\n", ids[i], info.name);
		else
			printf("%u ?\n", ids[i]);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
