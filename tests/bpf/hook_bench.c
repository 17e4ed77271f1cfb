/* SPDX-License-Identifier: BSD-3-Clause */
/* Programs for perf/hook_bench.c (build/hook-bench): the least a hook
 * can run, and one read of the packet through the es_pkt_load helper. */
#include "es_hook.h"

/* returns continue and does nothing else: the cost of running a program */
ES_HOOK_SEC("empty") uint64_t hook_empty(const struct es_hook_ctx *ctx)
{
	(void)ctx;
	return ES_HOOK_CONTINUE;
}

/* the inner IP header's TOS byte read from the packet (one helper
 * call), its DSCP as the mark */
ES_HOOK_SEC("pkt_read") uint64_t hook_pkt_read(const struct es_hook_ctx *ctx)
{
	uint64_t tos = es_pkt_load(ctx->inner_off + 1u, 1);

	if (tos == ES_HOOK_OOB)
		return ES_HOOK_CONTINUE;
	return ES_HOOK_RET(ES_HOOK_SET_MARK, tos >> 2);
}
