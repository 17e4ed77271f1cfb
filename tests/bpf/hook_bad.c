/* SPDX-License-Identifier: BSD-3-Clause */
/* Programs the loader must refuse (tests/unit/test_hook.c), one a section. */
#include "es_hook.h"

extern uint64_t es_no_such_helper(uint64_t x);

/* a call to a helper edgesteer does not have */
ES_HOOK_SEC("unknown_helper") uint64_t bad_helper(const struct es_hook_ctx *ctx)
{
	return es_no_such_helper(ctx->teid);
}

/* a loop the compiler cannot unroll (volatile counter): a backward jump */
ES_HOOK_SEC("loop") uint64_t bad_loop(const struct es_hook_ctx *ctx)
{
	uint64_t s = 0;

	for (volatile uint32_t i = 0; i < 4; i++)
		s += ctx->qfi;
	return s;
}

/* a read past the end of the context */
ES_HOOK_SEC("oob") uint64_t bad_oob(const struct es_hook_ctx *ctx)
{
	return ((const volatile uint32_t *)ctx)[sizeof(*ctx) / 4 + 8];
}

/* a write into the read-only context */
ES_HOOK_SEC("write_ctx") uint64_t bad_write(struct es_hook_ctx *ctx)
{
	ctx->dscp = 0;
	return ES_HOOK_CONTINUE;
}
