/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules that change at run time (BRIEF §5): a base rte_acl context pair
 * built from a base set B, a delta D of the rules changed since, kept in
 * a tuple space that changes in place, and a death generation per slot
 * for base rules that are gone. A background thread folds D into a new
 * base. See
 * rules.c for the argument that no packet is mis-steered, and
 * docs/architecture.md "Rule updates".
 *
 * Every function here runs on the control thread (the main lcore) only,
 * except where said; none may be called from a worker.
 */
#ifndef ES_RULES_H
#define ES_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include "cmd.h"
#include "es.h"

/*
 * Take over the rules the config loader put in t->rules[0..t->n_rules)
 * and t->rule_defs (t->max_rules entries each, rte_malloc'd; the
 * rules' fields but app and then_app are set here from rule_defs): sort them, check that PRIOs are
 * unique, move them into a slot array with room for updates (t->rules,
 * t->n_slots), build the base contexts and make t the table set this
 * module publishes changes from (t must become es_tables_live before the
 * first es_rules_update). Returns 0, or -1 with a one-line reason in err
 * (t's rules left as they were).
 */
int es_rules_init(struct es_tables *t, char err[ES_ERR_MAX]);

/*
 * Apply n rule commands (obj ES_OBJ_RULE; verb ES_VERB_ADD, ES_VERB_CHANGE
 * or ES_VERB_DEL; for del only u.rule.prio is read) in order, all or
 * nothing: on any error (PRIO already there on add, unknown PRIO on
 * change/del, unknown app, table full) the live rules are untouched and
 * err holds one line naming the rule. On success the change is published
 * and this returns after an RCU grace period: no packet classified after
 * that uses the old rules, and every packet before it used either the old
 * or the new set. App names are resolved against es_tables_live->apps.
 * Returns 0 or -1. Control thread only.
 */
int es_rules_update(const struct es_cmd *const *ops, unsigned int n,
		    char err[ES_ERR_MAX]);

/* After es_rules_update returned -1: the index in ops of the command
 * that was refused (0 when the batch as a whole was: capacity, memory). */
unsigned int es_rules_failed_op(void);

/* Housekeeping, every ~10 ms from the control loop: installs a finished
 * background merge, starts one when the delta is large or after a quiet
 * period. Cheap when there is nothing to do. Control thread only. */
void es_rules_poll(void);

/*
 * Call fn for every live rule in priority order (lowest PRIO first);
 * stops at the first non-zero return and returns it (0 when all ran).
 * r points into the slot array and stays valid until the next update.
 */
int es_rules_foreach(int (*fn)(void *arg, const struct es_rule *r), void *arg);

/* The live rule with this PRIO, or NULL (valid until the next update). */
const struct es_rule *es_rules_find(uint32_t prio);

/* Live rules. */
unsigned int es_rules_count(void);

/* Does any live rule send to (or mirror to) app index app? The app
 * delete guard. */
bool es_rules_use_app(uint16_t app);

struct es_rules_stats {
	uint32_t live;           /* live rules */
	uint32_t slots;          /* slot array capacity */
	uint32_t base;           /* rules in the base contexts (dead included) */
	uint32_t delta;          /* rules in the delta */
	uint32_t tombs;          /* dead rules still in the base */
	uint32_t tuples;         /* rule shapes of the delta (both families) */
	uint32_t lin;            /* delta nodes in the catch-all tuples */
	uint64_t gen;            /* published rules generation */
	uint64_t updates;        /* successful es_rules_update calls */
	uint64_t merges;         /* background merges installed */
	uint64_t merge_fails;    /* background builds that failed (retried) */
	uint64_t merge_waits;    /* updates that waited for a running merge */
	uint64_t sync_rebuilds;  /* updates that rebuilt the base themselves */
	uint64_t last_merge_us;  /* build time of the last base */
	bool merging;            /* a background build is running */
};

/* Counters and sizes for 'show'. */
void es_rules_stats(struct es_rules_stats *st);

/*
 * Tuning, for tests and benchmarks: start a merge when |D| + dead base
 * rules reaches merge_at (default 32), or after quiet_ms (100) without an
 * update while anything is pending; after an update that left |D| over
 * hard_cap (default none: D is bounded by the slots), wait for the
 * running merge or rebuild the base at once. 0 keeps a value.
 */
void es_rules_tune(uint32_t merge_at, uint32_t hard_cap, uint32_t quiet_ms);

/* The nice value of merge threads (default 19: the control thread, on
 * the same core, goes first). Tests whose other threads spin on that
 * core set 0, or a merge would wait for them. */
void es_rules_merge_nice(int nice);

/* Wait for a running merge and install it (tests, benchmarks, shutdown). */
void es_rules_settle(void);

/* Forget all state (waits for a running merge first); the contexts and
 * slot array stay with the table set. For tests and benchmarks. */
void es_rules_fini(void);

/* A rule and its command (config.c, ctl.c, state.c). es_rule_def and
 * es_rule_to_cmd: r from es_rules_foreach or es_rules_find (a slot of
 * the live array); the rule as written is kept here, beside the slot. */
const struct es_cmd_rule *es_rule_def(const struct es_rule *r);
void es_rule_to_cmd(const struct es_rule *r, struct es_cmd *c);
/* A rule from its command, its app names resolved against t's apps
 * (-1 and err naming the rule when an app does not exist). */
int es_rule_from_cmd(const struct es_tables *t, const struct es_cmd_rule *c,
		     struct es_rule *r, char err[ES_ERR_MAX]);

/* Slot array capacity es_rules_init gives for rules_max rules. */
uint32_t es_rules_slots(uint32_t rules_max);

#endif
