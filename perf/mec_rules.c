/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>
#include "mec_rules.h"

static uint64_t rng = 88172645463325252ull;

void mec_seed(uint64_t seed)
{
	rng = seed ? seed : 88172645463325252ull;
}

uint32_t mec_rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

void mec_rule(struct es_cmd_rule *r, uint32_t prio)
{
	static const uint8_t firsts[3] = { 0, 172, 198 };
	uint32_t a = mec_rnd(1u << 24);
	memset(r, 0, sizeof(*r));
	r->prio = prio;
	r->dir = ES_DIR_UL;
	r->has_dst = 1;
	r->dst.plen = 24;
	r->dst.a[0] = (uint8_t)(mec_rnd(3) ? firsts[mec_rnd(3)] : 0);
	if (r->dst.a[0] == 0)
		r->dst.a[0] = (uint8_t)(100 + a % 90);
	r->dst.a[1] = (uint8_t)(a >> 8);
	r->dst.a[2] = (uint8_t)a;
	r->has_proto = 1;
	r->proto = mec_rnd(2) ? 6 : 17;
	r->sport_hi = 65535;
	r->dport_lo = (uint16_t)(1 + mec_rnd(29999));
	r->dport_hi = (uint16_t)(30000 + mec_rnd(35536));
	r->action = mec_rnd(2) ? ES_ACT_DROP : ES_ACT_CLOUD;
}
