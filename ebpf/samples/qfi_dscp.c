/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mark DSCP by QFI on the uplink relay: a packet relayed to the cloud UPF
 * (the matched rule's action is cloud) leaves with the DSCP of its QoS
 * flow, so the transport network behind N9 can schedule it: QFI 1 -> EF
 * (46), QFI 2 -> AF41 (34), QFI 5 -> AF31 (26); other QFIs keep theirs.
 * Attach after classification (the action is known there):
 *
 *   steerctl hook attach qfi-dscp at after-classify dir ul obj qfi_dscp.o
 */
#include "es_hook.h"

ES_HOOK_SEC("hook") uint64_t qfi_dscp(const struct es_hook_ctx *ctx)
{
	if (ctx->dir != ES_HOOK_UL || ctx->rule_action != ES_HOOK_ACT_RELAY)
		return ES_HOOK_CONTINUE;
	if (ctx->qfi == 1)
		return ES_HOOK_RET(ES_HOOK_SET_DSCP, 46);
	if (ctx->qfi == 2)
		return ES_HOOK_RET(ES_HOOK_SET_DSCP, 34);
	if (ctx->qfi == 5)
		return ES_HOOK_RET(ES_HOOK_SET_DSCP, 26);
	return ES_HOOK_CONTINUE;
}
