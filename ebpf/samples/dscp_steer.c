/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Steer by DSCP: uplink packets marked EF (DSCP 46) go to a local app,
 * whatever the rules say; the rest go on. Attach after classification:
 *
 *   steerctl hook attach ef-steer at after-classify dir ul obj dscp_steer.o
 *
 * APP is the app's index in the data plane (the order of `app add`,
 * from 0); change it and rebuild (make bpf).
 */
#include "es_hook.h"

#define EF  46
#define APP 0

ES_HOOK_SEC("hook") uint64_t dscp_steer(const struct es_hook_ctx *ctx)
{
	if (ctx->dir == ES_HOOK_UL && ctx->dscp == EF)
		return ES_HOOK_RET(ES_HOOK_STEER_APP, APP);
	return ES_HOOK_CONTINUE;
}
