/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules at run time: the one way rules change after start-up. Control
 * thread only. See docs/architecture.md, "Rule updates".
 */
#ifndef ES_RULES_H
#define ES_RULES_H

#include <stdbool.h>
#include "es.h"

/* Apply n rule commands (ES_OBJ_RULE, verb ES_VERB_ADD / ES_VERB_CHANGE /
 * ES_VERB_DEL) all or nothing. Returns 0 once every worker classifies
 * with the new rules (RCU), or -1 with a one-line reason naming the rule
 * and nothing changed; es_rules_failed_op() then gives the index of the
 * op that failed. */
int es_rules_update(const struct es_cmd *const *ops, unsigned int n,
		    char err[ES_ERR_MAX]);
unsigned int es_rules_failed_op(void);
/* The live rule with priority prio (copied into *out), or false. */
bool es_rules_get(uint32_t prio, struct es_rule *out);
/* Call fn for every live rule in priority order; stops at fn's first
 * non-zero return and returns it. */
int es_rules_foreach(int (*fn)(void *arg, const struct es_rule *r), void *arg);
unsigned int es_rules_count(void);
/* Does a live rule send to app (local, mirror or then local)? */
bool es_rules_use_app(uint16_t app);
/* Periodic work of the control loop (every ~10 ms). */
void es_rules_poll(void);

#endif
