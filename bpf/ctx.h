/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctx.h - the hooks the stages run at, behind a few accessors.
 *
 * Every stage is written once, as an __always_inline body taking the
 * context as void * and the hook as a compile-time constant ("at"); one
 * small wrapper per hook instantiates it (flowmon.bpf.c, HOOK_PROGRAMS).
 * clang folds each accessor below to the one field access of its hook, so
 * the XDP programs carry no TC code and the reverse. XDP ingress, TC
 * ingress and TC egress are three instances, each with its own jump table
 * (the kernel refuses an XDP program in a TC program's PROG_ARRAY), so the
 * direction too is a constant in every program, not state carried along.
 */
#ifndef FLOWEXPORT_CTX_H
#define FLOWEXPORT_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "flow.h"

enum hook_at {
	AT_XDP = 0,    /* XDP, ingress */
	AT_TC_IN,      /* TC ingress (tcx or clsact) */
	AT_TC_OUT,     /* TC egress */
};

#define AT_IS_TC(at) ((at) != AT_XDP)
#define AT_DIRECTION(at) ((at) == AT_TC_OUT ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS)

#define CTX_XDP(ctx) ((struct xdp_md *)(ctx))
#define CTX_SKB(ctx) ((struct __sk_buff *)(ctx))

static __always_inline void *ctx_data(void *ctx, const int at)
{
	return AT_IS_TC(at) ? (void *)(long)CTX_SKB(ctx)->data :
			      (void *)(long)CTX_XDP(ctx)->data;
}

static __always_inline void *ctx_data_end(void *ctx, const int at)
{
	return AT_IS_TC(at) ? (void *)(long)CTX_SKB(ctx)->data_end :
			      (void *)(long)CTX_XDP(ctx)->data_end;
}

/* The metered interface: where the packet arrives, or leaves at egress. */
static __always_inline __u32 ctx_ifindex(void *ctx, const int at)
{
	return AT_IS_TC(at) ? CTX_SKB(ctx)->ifindex :
			      CTX_XDP(ctx)->ingress_ifindex;
}

/*
 * Wire packets this packet stands for. At TC a GSO/TSO skb carries many
 * (the NIC or the GSO layer cuts it later, or GRO merged them); XDP sees
 * the wire's packets themselves (native), or in generic mode merged ones
 * it cannot tell apart, which is why the default avoids generic XDP.
 */
static __always_inline __u32 ctx_segs(void *ctx, const int at)
{
	struct __sk_buff *skb = CTX_SKB(ctx);
	__u32 segs;

	if (!AT_IS_TC(at))
		return 1;
	/* a fresh pointer each call: else clang may keep ctx + offset from
	 * one call for the next, and the verifier refuses a load through a
	 * ctx pointer that was moved ("dereference of modified ctx ptr") */
	barrier_var(skb);
	segs = skb->gso_segs;
	return skb->gso_size && segs > 1 ? segs : 1;
}

static __always_inline __u32 ctx_gso_size(void *ctx, const int at)
{
	return AT_IS_TC(at) ? CTX_SKB(ctx)->gso_size : 0;
}

/* The packet's length; at TC the skb's, whose data_end may stop at the
 * end of its linear part. */
static __always_inline __u32 ctx_len(void *ctx, const int at)
{
	return AT_IS_TC(at) ? CTX_SKB(ctx)->len :
			      (__u32)(CTX_XDP(ctx)->data_end - CTX_XDP(ctx)->data);
}

/* Copy len bytes at off from the packet, wherever they are held (at TC
 * the payload may lie in the skb's fragments, beyond data_end): 0 or
 * -errno. */
static __always_inline long ctx_load_bytes(void *ctx, const int at, __u32 off,
					   void *to, __u32 len)
{
	return AT_IS_TC(at) ? bpf_skb_load_bytes(ctx, off, to, len) :
			      bpf_xdp_load_bytes(ctx, off, to, len);
}

/* Monitoring never changes traffic. At TC, TC_ACT_UNSPEC (TCX_NEXT) lets
 * the programs after ours run and then the packet go on, where TC_ACT_OK
 * would end a tcx chain early. */
#define CTX_PASS(at) (AT_IS_TC(at) ? TC_ACT_UNSPEC : XDP_PASS)

#endif /* FLOWEXPORT_CTX_H */
