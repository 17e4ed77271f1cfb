/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Count bytes per QFI: counter N holds the bytes of QFI N (0..14), counter
 * 15 those of QFI 15 and above and of packets without a QFI. Never
 * changes a packet. Read them with `steerctl -j hook show qfi-bytes`
 * ("counters"). Attach one per direction:
 *
 *   steerctl hook attach qfi-bytes at after-parse dir ul obj qfi_bytes.o
 */
#include "es_hook.h"

ES_HOOK_SEC("hook") uint64_t qfi_bytes(const struct es_hook_ctx *ctx)
{
	uint32_t q = ctx->qfi;

	es_counter_add(q < 15 ? q : 15, ctx->wire_len);
	return ES_HOOK_CONTINUE;
}
