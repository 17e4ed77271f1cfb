/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hook programs for the end-to-end tests of the pipeline's hook points
 * (tests/e2e/test_hook_samples.py): one verdict per inner destination
 * port, and the context's fields into the program's counters.
 */
#include "es_hook.h"

/* dport 7000..7009: STEER_APP to app dport - 7000 (7099: app 99, none);
 * 7100: TO_CLOUD; 7200: DROP; 7300: SET_DSCP 10; 7400: SET_MARK 7 */
ES_HOOK_SEC("by_port") uint64_t hv_by_port(const struct es_hook_ctx *ctx)
{
	uint32_t p = ctx->dport;

	if (p >= 7000 && p <= 7009)
		return ES_HOOK_RET(ES_HOOK_STEER_APP, p - 7000);
	if (p == 7099)
		return ES_HOOK_RET(ES_HOOK_STEER_APP, 99);
	if (p == 7100)
		return ES_HOOK_TO_CLOUD;
	if (p == 7200)
		return ES_HOOK_DROP;
	if (p == 7300)
		return ES_HOOK_RET(ES_HOOK_SET_DSCP, 10);
	if (p == 7400)
		return ES_HOOK_RET(ES_HOOK_SET_MARK, 7);
	return ES_HOOK_CONTINUE;
}

/* the context into the counters: the test sends one packet */
ES_HOOK_SEC("ctx") uint64_t hv_ctx(const struct es_hook_ctx *ctx)
{
	es_counter_add(0, ctx->point);
	es_counter_add(1, ctx->dir);
	es_counter_add(2, ctx->in_port);
	es_counter_add(3, ctx->out_port);
	es_counter_add(4, ctx->teid);
	es_counter_add(5, ctx->session_id);
	es_counter_add(6, ctx->qfi);
	es_counter_add(7, ctx->dscp);
	es_counter_add(8, ctx->ue_v4);
	es_counter_add(9, ctx->dport);
	es_counter_add(10, ctx->rule_prio);
	es_counter_add(11, ctx->rule_action);
	es_counter_add(12, ctx->app);
	es_counter_add(13, ctx->inner_off);
	es_counter_add(14, ctx->wire_len);
	/* the inner header's first byte, read where inner_off says */
	es_counter_add(15, es_pkt_load(ctx->inner_off, 1));
	return ES_HOOK_CONTINUE;
}
