/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules at run time by a full rebuild: a copy of the rule array with the
 * changes, both rte_acl contexts built anew, published with the tables
 * (RCU), the old contexts freed. Simple and correct; its cost grows with
 * the rule count (docs/architecture.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_acl.h>
#include <rte_malloc.h>
#include "rules.h"

static unsigned int failed_op;

unsigned int es_rules_failed_op(void)
{
	return failed_op;
}

static int rule_cmp_prio(const void *key, const void *elem)
{
	uint32_t p = *(const uint32_t *)key;
	const struct es_rule *r = elem;
	return p < r->c.prio ? -1 : p > r->c.prio;
}

/* Index of prio in the sorted rules[0..n), or -1. */
static int64_t rule_index(const struct es_rule *rules, uint32_t n, uint32_t prio)
{
	const struct es_rule *r = bsearch(&prio, rules, n, sizeof(*rules), rule_cmp_prio);
	return r ? r - rules : -1;
}

bool es_rules_get(uint32_t prio, struct es_rule *out)
{
	const struct es_tables *t = es_tables_live;
	int64_t i = rule_index(t->rules, t->n_rules, prio);
	if (i < 0)
		return false;
	*out = t->rules[i];
	return true;
}

int es_rules_foreach(int (*fn)(void *arg, const struct es_rule *r), void *arg)
{
	const struct es_tables *t = es_tables_live;
	for (uint32_t i = 0; i < t->n_rules; i++) {
		int rc = fn(arg, &t->rules[i]);
		if (rc)
			return rc;
	}
	return 0;
}

unsigned int es_rules_count(void)
{
	return es_tables_live->n_rules;
}

bool es_rules_use_app(uint16_t app)
{
	const struct es_tables *t = es_tables_live;
	for (uint32_t i = 0; i < t->n_rules; i++) {
		const struct es_rule *r = &t->rules[i];
		if (((r->c.action == ES_ACT_LOCAL || r->c.action == ES_ACT_MIRROR) &&
		     r->app == app) ||
		    (r->c.then_action == ES_ACT_LOCAL && r->then_app == app))
			return true;
	}
	return false;
}

void es_rules_poll(void)
{
}

int es_rules_update(const struct es_cmd *const *ops, unsigned int n,
		    char err[ES_ERR_MAX])
{
	struct es_tables *live = es_tables_live, *nt;
	struct es_rule *rules;
	failed_op = 0;
	nt = es_tables_clone(live);
	rules = rte_malloc("es_rules", (size_t)live->max_rules * sizeof(*rules), 0);
	if (nt == NULL || rules == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule set");
		goto fail;
	}
	memcpy(rules, live->rules, (size_t)live->n_rules * sizeof(*rules));
	nt->rules = rules;
	nt->acl4 = nt->acl6 = NULL;
	for (unsigned int i = 0; i < n; i++) {
		const struct es_cmd *c = ops[i];
		int64_t k;
		failed_op = i;
		/* the copy is sorted again by the build; keep it sorted here
		 * so that lookups by priority stay a binary search */
		k = rule_index(rules, nt->n_rules, c->u.rule.prio);
		if (c->verb != ES_VERB_ADD && k < 0) {
			snprintf(err, ES_ERR_MAX, "rule %u does not exist", c->u.rule.prio);
			goto fail;
		}
		if (c->verb != ES_VERB_ADD) {
			memmove(&rules[k], &rules[k + 1],
				(nt->n_rules - (uint32_t)k - 1) * sizeof(*rules));
			nt->n_rules--;
		}
		if (c->verb != ES_VERB_DEL) {
			struct es_cmd add = *c;
			uint32_t j;
			add.verb = ES_VERB_ADD;
			if (es_config_apply(nt, &add, err))
				goto fail;
			/* move the appended rule to its place */
			{
				struct es_rule r = rules[nt->n_rules - 1];
				for (j = nt->n_rules - 1; j > 0 && rules[j - 1].c.prio > r.c.prio; j--)
					rules[j] = rules[j - 1];
				rules[j] = r;
			}
		}
	}
	if (es_classify_build(nt, err))
		goto fail;
	es_tables_publish(nt);
	rte_acl_free(live->acl4);
	rte_acl_free(live->acl6);
	rte_free(live->rules);
	return 0;
fail:
	if (nt) {
		es_classify_free(nt);
		rte_free(nt);
	}
	rte_free(rules);
	return -1;
}
