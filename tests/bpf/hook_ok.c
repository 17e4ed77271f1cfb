/* SPDX-License-Identifier: BSD-3-Clause */
/* A valid program for tests/unit/test_hook.c: steer DSCP 46 to the app
 * of ctx->app; count the bytes in counter 0 and the packet's first
 * byte (as es_pkt_load reads it) in counter 1; trace (dscp, qfi). */
#include "es_hook.h"

ES_HOOK_SEC("hook") uint64_t hook_ok(const struct es_hook_ctx *ctx)
{
	uint64_t b0 = es_pkt_load(0, 1);

	es_counter_add(0, ctx->pkt_len);
	if (b0 != ES_HOOK_OOB)
		es_counter_add(1, b0);
	es_trace(ctx->dscp, ctx->qfi);
	if (ctx->dscp == 46)
		return ES_HOOK_RET(ES_HOOK_STEER_APP, ctx->app);
	return ES_HOOK_CONTINUE;
}

/* past the packet: es_pkt_load answers ES_HOOK_OOB, no crash */
ES_HOOK_SEC("past_end") uint64_t hook_past_end(const struct es_hook_ctx *ctx)
{
	if (es_pkt_load(ctx->pkt_len - 1, 4) == ES_HOOK_OOB)
		return ES_HOOK_DROP;
	return ES_HOOK_CONTINUE;
}

/* a bounded loop clang unrolls at -O2: no backward jump is left, so the
 * validator accepts it */
ES_HOOK_SEC("unrolled") uint64_t hook_unrolled(const struct es_hook_ctx *ctx)
{
	uint64_t s = 0;

	for (int i = 0; i < 4; i++)
		s += ctx->src[i];
	return ES_HOOK_RET(ES_HOOK_SET_MARK, s);
}

/* the stack is the program's own: stores to it are accepted, directly
 * through r10 or through a register holding r10 plus a constant */
ES_HOOK_SEC("stack") uint64_t hook_stack(const struct es_hook_ctx *ctx)
{
	volatile uint8_t buf[16];
	volatile uint8_t *p = buf + 8;
	uint64_t s = 0;

	for (int i = 0; i < 8; i++)
		buf[i] = ctx->src[i];
	for (int i = 0; i < 8; i++)
		p[i] = 1;
	for (int i = 0; i < 16; i++)
		s += buf[i];
	return ES_HOOK_RET(ES_HOOK_SET_MARK, s);
}
