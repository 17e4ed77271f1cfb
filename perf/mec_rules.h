/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmarks' MEC-like rules (the shape of perf/suite.py's config():
 * dst /24 in 100-189.x, 172.x or 198.x, proto tcp|udp, a dport range),
 * drawn from one xorshift generator so that runs repeat. For
 * build/rules-bench and build/ovl-bench; not thread safe.
 */
#ifndef ES_MEC_RULES_H
#define ES_MEC_RULES_H

#include <stdint.h>
#include "cmd.h"

/* Restart the generator at seed (non-zero). */
void mec_seed(uint64_t seed);

/* A draw in [0, n), n > 0. */
uint32_t mec_rnd(uint32_t n);

/* Fill r with a random MEC-like rule of priority prio (action drop or
 * cloud, direction ul). */
void mec_rule(struct es_cmd_rule *r, uint32_t prio);

#endif
