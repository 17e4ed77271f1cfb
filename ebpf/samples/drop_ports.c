/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A quick block: drop the uplink TCP and UDP packets to destination ports
 * 6881-6889 from the UEs of 10.45.0.0/24; everything else goes on. The
 * drop is counted under the program's "drop" verdict (steerctl hook show)
 * and in counter 0 (bytes dropped). Attach after parsing:
 *
 *   steerctl hook attach p2p-block at after-parse dir ul obj drop_ports.o
 */
#include "es_hook.h"

#define PREFIX   0x0a2d0000u    /* 10.45.0.0, as a number */
#define MASK     0xffffff00u    /* /24 */
#define PORT_LO  6881
#define PORT_HI  6889

ES_HOOK_SEC("hook") uint64_t drop_ports(const struct es_hook_ctx *ctx)
{
	/* ue_v4 is in network order: bytes a.b.c.d in memory */
	uint32_t ue = __builtin_bswap32(ctx->ue_v4);

	if (ctx->dir != ES_HOOK_UL || ctx->ip_ver != 4)
		return ES_HOOK_CONTINUE;
	if ((ue & MASK) != PREFIX)
		return ES_HOOK_CONTINUE;
	if (ctx->proto != 6 && ctx->proto != 17)
		return ES_HOOK_CONTINUE;
	if (ctx->dport < PORT_LO || ctx->dport > PORT_HI)
		return ES_HOOK_CONTINUE;
	es_counter_add(0, ctx->wire_len);
	return ES_HOOK_DROP;
}
