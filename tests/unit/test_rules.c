/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules changed at run time (rules.c) through the real rte_acl contexts
 * and the worker's phase-3 call (es_classify_rules), checked after every
 * change against a linear reference matcher over the live rule set kept
 * here (the model).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <cmocka.h>
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>
#include "classify.h"
#include "rule_ref.h"
#include "rules.h"

/* ---- a packet's classification inputs, either family ---- */



/* ---- the reference matcher ---- */



/* ---- randomized against the reference ---- */






#define APPEND(...) (o += (size_t)snprintf(line + o, len - o, __VA_ARGS__))

/* A random rule line "rule VERB PRIO ..." over the small spaces above;
 * broad: few fields, short prefixes (shadows many rules). */
static void rand_rule(char *line, size_t len, const char *verb, unsigned int prio,
		      int broad)
{
	static const char *const acts[] = { "drop", "cloud", "forward", "local a",
					    "local b", "mirror a then local b" };
	static const char *const dl_acts[] = { "drop", "forward" };
	char pfx[64], rng[32];
	size_t o = 0;
	int fam = (int)rnd(3);   /* 0: v4, 1: v6, 2: no address */
	int dl = rnd(3) == 0;
	int done[6] = { 0 };
	const char *act = dl ? dl_acts[rnd(2)] : acts[rnd(6)];
	APPEND("rule %s %u", verb, prio);
	if (dl)
		APPEND(" dir dl");
	else if (rnd(2))
		APPEND(" dir ul");
	if (broad) {
		if (fam == 0)
			APPEND(" dst 10.0.0.0/%u", rnd(2) ? 8 : 15);
		else if (fam == 1)
			APPEND(" dst 2001:db8::/%u", rnd(2) ? 32 : 46);
		else if (rnd(2))
			APPEND(" proto %u", proto_space[rnd(sizeof(proto_space))]);
		APPEND(" action %s", act);
		return;
	}
	if (fam != 2) {
		int any = 0;
		if (rnd(3) == 0) {
			rand_prefix(pfx, sizeof(pfx), fam, 1);
			APPEND(" ue %s", pfx);
			any = 1;
		}
		if (rnd(3) == 0) {
			rand_prefix(pfx, sizeof(pfx), fam, 0);
			APPEND(" src %s", pfx);
			any = 1;
		}
		if (!any || rnd(3) == 0) {
			rand_prefix(pfx, sizeof(pfx), fam, 0);
			APPEND(" dst %s", pfx);
		}
	}
	/* as in test_classify: each field now and then, each at most once;
	 * a rule without an address takes at least two, so that catch-all
	 * rules stay rare */
	for (int need = fam == 2 ? 2 : 0, got = 0; got == 0 || got < need;) {
		if (!done[0] && rnd(4) == 0) {
			APPEND(" proto %u", proto_space[rnd(sizeof(proto_space))]);
			done[0] = 1;
			got++;
		}
		if (!done[1] && rnd(4) == 0) {
			rand_range(rng, sizeof(rng));
			APPEND(" sport %s", rng);
			done[1] = 1;
			got++;
		}
		if (!done[2] && rnd(4) == 0) {
			rand_range(rng, sizeof(rng));
			APPEND(" dport %s", rng);
			done[2] = 1;
			got++;
		}
		if (!dl && !done[3] && rnd(5) == 0) {
			APPEND(" qfi %u", rnd(4));
			done[3] = 1;
			got++;
		}
		if (!done[4] && rnd(5) == 0) {
			APPEND(" dscp %u", rnd(4));
			done[4] = 1;
			got++;
		}
		if (!dl && !done[5] && rnd(6) == 0) {
			APPEND(" teid %u", teid_space[rnd(5)]);
			done[5] = 1;
			got++;
		}
		if (need == 0)
			break;
	}
	APPEND(" action %s", act);
}

/* ---- the model: the live rules as the test applied them ---- */

#define MAXP 1024
#define RANDP 900   /* random rules take PRIOs below; tests pick theirs above */
static struct {
	uint8_t have[MAXP];
	struct es_cmd_rule r[MAXP];
	unsigned int n;
} model;

static const struct es_cmd_rule *model_best(const struct tkey *k)
{
	for (unsigned int p = 0; p < MAXP; p++)
		if (model.have[p] && ref_rule_matches(&model.r[p], k))
			return &model.r[p];
	return NULL;
}

static int addr_eq(const struct es_addr *a, const struct es_addr *b)
{
	return a->v6 == b->v6 && a->plen == b->plen && memcmp(a->a, b->a, 16) == 0;
}

/* the same rule, field by field (not only the same PRIO: a stale version
 * of a changed rule must not pass) */
static int rule_eq(const struct es_cmd_rule *a, const struct es_cmd_rule *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->prio == b->prio && a->dir == b->dir &&
	       a->has_ue == b->has_ue && a->has_src == b->has_src &&
	       a->has_dst == b->has_dst && a->has_proto == b->has_proto &&
	       a->has_qfi == b->has_qfi && a->has_dscp == b->has_dscp &&
	       a->has_teid == b->has_teid &&
	       (!a->has_ue || addr_eq(&a->ue, &b->ue)) &&
	       (!a->has_src || addr_eq(&a->src, &b->src)) &&
	       (!a->has_dst || addr_eq(&a->dst, &b->dst)) &&
	       a->proto == b->proto && a->qfi == b->qfi && a->dscp == b->dscp &&
	       a->teid == b->teid && a->sport_lo == b->sport_lo &&
	       a->sport_hi == b->sport_hi && a->dport_lo == b->dport_lo &&
	       a->dport_hi == b->dport_hi && a->action == b->action &&
	       a->then_action == b->then_action && a->fallback == b->fallback &&
	       strcmp(a->app, b->app) == 0 && strcmp(a->then_app, b->then_app) == 0;
}

/* ---- tables ---- */

static void parse_rule(const char *line, struct es_cmd *c)
{
	char err[ES_ERR_MAX];
	if (es_cmd_parse(line, c, err) != 1)
		fail_msg("parse '%s': %s", line, err);
	assert_int_equal(c->obj, ES_OBJ_RULE);
}

static uint16_t app_of(const char *name)
{
	return strcmp(name, "b") == 0 ? 1 : 0;
}

/* A table set as the config loader leaves it, with apps "a" and "b",
 * handed to es_rules_init and made live. */
static void setup_tables(uint32_t rules_max, char **lines, unsigned int n)
{
	struct es_tables *t = rte_zmalloc("t", sizeof(*t), 0);
	char err[ES_ERR_MAX];
	assert_non_null(t);
	memset(&model, 0, sizeof(model));
	t->max_rules = rules_max;
	t->rules = rte_zmalloc("r", rules_max * sizeof(struct es_rule), 0);
	t->rule_defs = rte_zmalloc("d", rules_max * sizeof(struct es_cmd_rule), 0);
	t->apps = rte_zmalloc("a", ES_MAX_APPS * sizeof(struct es_app), 0);
	assert_non_null(t->rules);
	assert_non_null(t->rule_defs);
	assert_non_null(t->apps);
	strcpy(t->apps[0].name, "a");
	strcpy(t->apps[1].name, "b");
	t->n_apps = 2;
	for (unsigned int i = 0; i < n; i++) {
		struct es_cmd c;
		struct es_rule *r = &t->rules[t->n_rules];
		parse_rule(lines[i], &c);
		t->rule_defs[t->n_rules++] = c.u.rule;
		r->app = app_of(c.u.rule.app);
		r->then_app = app_of(c.u.rule.then_app);
		assert_true(c.u.rule.prio < MAXP);
		model.have[c.u.rule.prio] = 1;
		model.r[c.u.rule.prio] = c.u.rule;
		model.n++;
	}
	if (es_rules_init(t, err) != 0)
		fail_msg("es_rules_init: %s", err);
	/* the reader thread of some tests spins on the merge's core */
	es_rules_merge_nice(0);
	es_tables_live = t;
}

static void teardown_tables(void)
{
	struct es_tables *t = es_tables_live;
	es_rules_fini();
	es_acl_free(&t->acl);
	rte_free(t->rules);
	rte_free(t->rule_defs);
	rte_free(t->apps);
	rte_free(t);
	es_tables_live = NULL;
}

/* n random rule lines with distinct PRIOs below MAXP */
static char **rand_lines(unsigned int n)
{
	char **lines = calloc(n, sizeof(*lines));
	uint8_t used[MAXP] = { 0 };
	assert_non_null(lines);
	for (unsigned int i = 0; i < n; i++) {
		char line[512];
		unsigned int prio;
		do
			prio = rnd(RANDP);
		while (used[prio]);
		used[prio] = 1;
		rand_rule(line, sizeof(line), "add", prio, rnd(40) == 0);
		lines[i] = strdup(line);
		assert_non_null(lines[i]);
	}
	return lines;
}

static void free_lines(char **lines, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* ---- checks ---- */

#define N_KEYS 256
static struct tkey keys[N_KEYS];

static void make_keys(void)
{
	for (unsigned int i = 0; i < N_KEYS; i++)
		rand_key(&keys[i], (int)(i & 1));
}

static const char *ctx_what;
static unsigned int ctx_op;

/* Fold the delta into a new base now (a merge starts at the next poll,
 * settle installs it) and read the rule engine's figures after it. */
static void merge_now(struct es_rules_stats *st)
{
	es_rules_tune(1, 0, 0);
	es_rules_poll();
	es_rules_settle();
	es_rules_stats(st);
}

/* Classify keys[0..nk) through es_classify_rules (random burst sizes)
 * and compare each with the model's answer. */
static void check_keys(const struct tkey *k, unsigned int nk)
{
	const struct es_tables *t = es_tables_live;
	for (int v6 = 0; v6 <= 1; v6++) {
		const struct tkey *fk[N_KEYS];
		unsigned int n = 0;
		for (unsigned int i = 0; i < nk; i++)
			if (k[i].v6 == v6)
				fk[n++] = &k[i];
		for (unsigned int o = 0; o < n;) {
			union akey ak[33];
			const uint8_t *p[33];
			uint32_t res[33];
			unsigned int b = 1 + rnd(33);
			if (b > n - o)
				b = n - o;
			for (unsigned int i = 0; i < b; i++) {
				make_key(fk[o + i], &ak[i]);
				p[i] = (const uint8_t *)&ak[i];
			}
			es_classify_rules(t, v6, p, res, b);
			for (unsigned int i = 0; i < b; i++) {
				const struct es_cmd_rule *want = model_best(fk[o + i]), *got;
				if (res[i] > t->n_slots)
					fail_msg("%s op %u: result %u past %u slots", ctx_what,
						 ctx_op, res[i], t->n_slots);
				got = res[i] ? &t->rule_defs[res[i] - 1] : NULL;
				/* the worker's pre-filter never skips a packet a
				 * live rule matches */
				if (want != NULL && !es_dfilt_may(t, v6, fk[o + i]->dst))
					fail_msg("%s op %u: v6 %d key %u: the destination filter "
						 "skips a key rule %u matches", ctx_what, ctx_op, v6,
						 o + i, want->prio);
				if (!rule_eq(got, want))
					fail_msg("%s op %u: v6 %d key %u: classified to rule %d (%s), "
						 "reference rule %d",
						 ctx_what, ctx_op, v6, o + i,
						 got ? (int)got->prio : -1,
						 got ? es_act_names[got->action] : "-",
						 want ? (int)want->prio : -1);
			}
			o += b;
		}
	}
}

static int op_add(unsigned int prio, int broad, char err[ES_ERR_MAX])
{
	char line[512];
	struct es_cmd c;
	const struct es_cmd *pc = &c;
	int rc;
	rand_rule(line, sizeof(line), "add", prio, broad);
	parse_rule(line, &c);
	rc = es_rules_update(&pc, 1, err);
	if (rc == 0) {
		model.have[prio] = 1;
		model.r[prio] = c.u.rule;
		model.n++;
	}
	return rc;
}

static int op_change(unsigned int prio, int broad, char err[ES_ERR_MAX])
{
	char line[512];
	struct es_cmd c;
	const struct es_cmd *pc = &c;
	int rc;
	rand_rule(line, sizeof(line), "add", prio, broad);
	parse_rule(line, &c);
	c.verb = ES_VERB_CHANGE;
	rc = es_rules_update(&pc, 1, err);
	if (rc == 0)
		model.r[prio] = c.u.rule;
	return rc;
}

static void del_cmd(struct es_cmd *c, unsigned int prio)
{
	memset(c, 0, sizeof(*c));
	c->obj = ES_OBJ_RULE;
	c->verb = ES_VERB_DEL;
	c->u.rule.prio = prio;
}

static int op_del(unsigned int prio, char err[ES_ERR_MAX])
{
	struct es_cmd c;
	const struct es_cmd *pc = &c;
	int rc;
	del_cmd(&c, prio);
	rc = es_rules_update(&pc, 1, err);
	if (rc == 0) {
		model.have[prio] = 0;
		model.n--;
	}
	return rc;
}

static unsigned int pick_present(void)
{
	unsigned int p;
	/* now and then the best-placed rule: the broad ones sit there */
	if (rnd(5) == 0) {
		for (p = 0; p < MAXP; p++)
			if (model.have[p])
				return p;
	}
	do
		p = rnd(RANDP);
	while (!model.have[p]);
	return p;
}

static unsigned int pick_absent(int low)
{
	unsigned int p;
	do
		p = low ? rnd(32) : rnd(RANDP);
	while (model.have[p]);
	return p;
}

/* ---- a concurrent reader, as a worker: RCU, one table set per round ---- */

static int rd_on, rd_stop;
static unsigned long rd_rounds, rd_bad;
static pthread_t rd_th;

/* Every result must be in bounds and a rule that matches the key: a slot
 * written while a published table still referred to it, or freed before
 * the grace period, shows up as a rule that does not match. */
static void *reader_main(void *arg)
{
	(void)arg;
	rte_rcu_qsbr_thread_register(es_rcu, 0);
	rte_rcu_qsbr_thread_online(es_rcu, 0);
	while (!__atomic_load_n(&rd_stop, __ATOMIC_ACQUIRE)) {
		const struct es_tables *t = __atomic_load_n(&es_tables_live, __ATOMIC_ACQUIRE);
		for (int v6 = 0; v6 <= 1; v6++) {
			union akey ak[32];
			const uint8_t *p[32];
			uint32_t res[32];
			for (unsigned int i = 0; i < 32; i++) {
				make_key(&keys[2 * i + (unsigned int)v6], &ak[i]);
				p[i] = (const uint8_t *)&ak[i];
			}
			es_classify_rules(t, v6, p, res, 32);
			for (unsigned int i = 0; i < 32; i++) {
				if (res[i] > t->n_slots ||
				    (res[i] && !ref_rule_matches(&t->rule_defs[res[i] - 1],
								 &keys[2 * i + (unsigned int)v6])))
					rd_bad++;
			}
		}
		rd_rounds++;
		rte_rcu_qsbr_quiescent(es_rcu, 0);
	}
	rte_rcu_qsbr_thread_offline(es_rcu, 0);
	rte_rcu_qsbr_thread_unregister(es_rcu, 0);
	return NULL;
}

static void reader_start(void)
{
	es_rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	assert_non_null(es_rcu);
	assert_int_equal(rte_rcu_qsbr_init(es_rcu, 1), 0);
	rd_stop = 0;
	rd_rounds = rd_bad = 0;
	assert_int_equal(pthread_create(&rd_th, NULL, reader_main, NULL), 0);
}

static void reader_stop(void)
{
	__atomic_store_n(&rd_stop, 1, __ATOMIC_RELEASE);
	pthread_join(rd_th, NULL);
	rte_free(es_rcu);
	es_rcu = NULL;
}

/* n_ops random add/change/del, checked after each; es_rules_poll after
 * each, so merges start and finish mid-sequence. */
static void run_sequence(unsigned int seed, unsigned int n_init, unsigned int n_ops,
			 uint32_t merge_at, uint32_t hard_cap, uint32_t quiet_ms,
			 struct es_rules_stats *st)
{
	char **lines;
	srand(seed);
	lines = rand_lines(n_init);
	setup_tables(4096, lines, n_init);
	free_lines(lines, n_init);
	es_rules_tune(merge_at, hard_cap, quiet_ms);
	make_keys();
	if (rd_on)
		reader_start();
	ctx_what = "sequence";
	ctx_op = 0;
	check_keys(keys, N_KEYS);
	for (unsigned int i = 0; i < n_ops; i++) {
		char err[ES_ERR_MAX];
		unsigned int r = rnd(10), prio;
		int rc, broad = rnd(25) == 0;
		ctx_op = i + 1;
		if (model.n < 20)
			r = 0;
		if (model.n > RANDP - 40)
			r = 9;
		if (r < 4) {
			prio = pick_absent(broad);
			rc = op_add(prio, broad, err);
		} else if (r < 7) {
			prio = pick_present();
			rc = op_change(prio, broad, err);
		} else {
			prio = pick_present();
			rc = op_del(prio, err);
		}
		if (rc != 0)
			fail_msg("op %u on rule %u: %s", i, prio, err);
		assert_int_equal(es_rules_count(), model.n);
		es_rules_poll();
		if (rnd(500) == 0)
			es_rules_settle();
		check_keys(keys, N_KEYS);
	}
	es_rules_settle();
	check_keys(keys, N_KEYS);
	es_rules_stats(st);
	if (rd_on)
		reader_stop();
	teardown_tables();
}

static void rules__random_updates_with_background_merges_agree_with_reference(void **state)
{
	struct es_rules_stats st;
	(void)state;
	run_sequence(4242, 150, 2000, 24, 256, 1, &st);
	/* merges ran and were installed during the sequence */
	assert_true(st.merges >= 3);
	assert_int_equal(st.updates, 2000);
}

static void rules__random_updates_without_merges_agree_with_reference(void **state)
{
	struct es_rules_stats st;
	(void)state;
	/* a large delta: every change stays in D and the tombstones */
	run_sequence(777, 200, 400, 1000000, 1000000, 1000000, &st);
	assert_int_equal(st.merges, 0);
	assert_int_equal(st.sync_rebuilds, 0);
	assert_true(st.delta > 100);
	assert_true(st.tombs > 50);
}

static void rules__random_updates_over_the_hard_cap_agree_with_reference(void **state)
{
	struct es_rules_stats st;
	(void)state;
	/* no background merge: the cap forces rebuilds in the update */
	run_sequence(31337, 30, 200, 1000000, 8, 1000000, &st);
	assert_true(st.sync_rebuilds > 5);
	/* background merges and a small cap: updates wait for them */
	run_sequence(2718, 40, 300, 4, 12, 1, &st);
	assert_true(st.merge_waits + st.sync_rebuilds > 0);
	assert_true(st.merges > 0);
}

static void rules__a_concurrent_reader_only_ever_sees_matching_rules(void **state)
{
	struct es_rules_stats st;
	(void)state;
	rd_on = 1;
	run_sequence(1234, 60, 300, 16, 64, 1, &st);
	rd_on = 0;
	if (rd_bad)
		fail_msg("reader: %lu bad results in %lu rounds", rd_bad, rd_rounds);
	assert_true(rd_rounds > 100);
	assert_true(st.merges > 0);
}

/* A broad rule hides many narrower worse ones; deleting it must uncover
 * each of them at once (they go into D), and a merge keeps that. */
static void rules__deleting_a_broad_rule_uncovers_every_rule_it_hid(void **state)
{
	char *lines[402];
	char buf[402][128];
	struct tkey k[400];
	struct es_rules_stats st;
	char err[ES_ERR_MAX];
	(void)state;
	srand(5);
	snprintf(buf[0], sizeof(buf[0]), "rule add 1 dst 10.0.0.0/8 action drop");
	snprintf(buf[1], sizeof(buf[1]), "rule add 2 dst 2001:db8::/32 action drop");
	for (int i = 0; i < 200; i++) {
		snprintf(buf[2 + i], sizeof(buf[0]), "rule add %d dst 10.%d.%d.0/24 proto udp action cloud",
			 100 + i, i & 1, i);
		snprintf(buf[202 + i], sizeof(buf[0]), "rule add %d dst 2001:db8:%x::/48 action forward",
			 400 + i, i);
	}
	for (int i = 0; i < 402; i++)
		lines[i] = buf[i];
	setup_tables(1024, lines, 402);
	es_rules_tune(1000000, 1000000, 1000000);
	for (int i = 0; i < 200; i++) {
		struct tkey *a = &k[2 * i], *b = &k[2 * i + 1];
		rand_key(a, 0);
		a->proto = 17;
		a->dir = ES_DIR_UL;
		memset(a->dst, 0, 16);
		a->dst[0] = 10; a->dst[1] = (uint8_t)(i & 1); a->dst[2] = (uint8_t)i; a->dst[3] = 9;
		rand_key(b, 1);
		b->dir = ES_DIR_UL;
		b->dst[4] = (uint8_t)(i >> 8);
		b->dst[5] = (uint8_t)i;
	}
	ctx_what = "broad";
	check_keys(k, 400);
	assert_int_equal(model_best(&k[0])->prio, 1);
	assert_int_equal(op_del(1, err), 0);
	assert_int_equal(op_del(2, err), 0);
	check_keys(k, 400);
	assert_int_equal(model_best(&k[0])->prio, 100);
	es_rules_stats(&st);
	assert_int_equal(st.tombs, 2);
	assert_int_equal(st.delta, 400);
	assert_int_equal(st.merges, 0);
	/* fold into a new base: nothing pending, the same answers */
	merge_now(&st);
	assert_int_equal(st.merges, 1);
	assert_int_equal(st.tombs, 0);
	assert_int_equal(st.delta, 0);
	assert_int_equal(es_tables_live->rules_delta, 0);
	check_keys(k, 400);
	teardown_tables();
}

/* Apply one rule command line; the model follows. */
static int op_add_line(const char *line, char err[ES_ERR_MAX])
{
	struct es_cmd c;
	const struct es_cmd *pc = &c;
	int rc;
	parse_rule(line, &c);
	rc = es_rules_update(&pc, 1, err);
	if (rc == 0 && !model.have[c.u.rule.prio]) {
		model.have[c.u.rule.prio] = 1;
		model.r[c.u.rule.prio] = c.u.rule;
		model.n++;
	}
	return rc;
}

/* The destination pre-filter: keys to destinations no rule covers are
 * skipped; a rule without a destination turns it off for its family
 * until it goes; a deleted rule's bucket closes once published. */
static void rules__the_destination_filter_skips_only_what_no_rule_matches(void **state)
{
	char *lines[2] = { "rule add 10 dst 10.200.0.0/16 action drop",
			   "rule add 20 dst 2001:db8:1::/48 action cloud" };
	const uint8_t in4[4] = { 10, 200, 7, 7 }, out4[4] = { 93, 184, 216, 34 };
	const uint8_t wide4[4] = { 172, 17, 1, 1 };
	uint8_t in6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 }, out6[16] = { 0x20, 0x01, 0x0d, 0xb9 };
	char err[ES_ERR_MAX];
	(void)state;
	setup_tables(64, lines, 2);
	assert_true(es_dfilt_may(es_tables_live, 0, in4));
	assert_false(es_dfilt_may(es_tables_live, 0, out4));
	assert_true(es_dfilt_may(es_tables_live, 1, in6));
	assert_false(es_dfilt_may(es_tables_live, 1, out6));
	/* a /12 opens its 16 buckets */
	assert_int_equal(op_add_line("rule add 30 dst 172.16.0.0/12 action drop", err), 0);
	assert_true(es_dfilt_may(es_tables_live, 0, wide4));
	/* no destination: every IPv4 packet is classified, IPv6 still filtered */
	assert_int_equal(op_add_line("rule add 40 ue 10.64.0.0/10 proto udp action cloud", err), 0);
	assert_true(es_dfilt_may(es_tables_live, 0, out4));
	assert_false(es_dfilt_may(es_tables_live, 1, out6));
	/* a refused batch that would delete rule 10 leaves its bucket open */
	{
		struct es_cmd c[2];
		const struct es_cmd *pc[2] = { &c[0], &c[1] };
		del_cmd(&c[0], 10);
		del_cmd(&c[1], 77);
		assert_int_equal(es_rules_update(pc, 2, err), -1);
	}
	assert_true(es_dfilt_may(es_tables_live, 0, in4));
	assert_int_equal(op_del(40, err), 0);
	assert_false(es_dfilt_may(es_tables_live, 0, out4));
	assert_int_equal(op_del(10, err), 0);
	assert_false(es_dfilt_may(es_tables_live, 0, in4));
	assert_int_equal(op_del(30, err), 0);
	assert_false(es_dfilt_may(es_tables_live, 0, wide4));
	assert_int_equal(op_del(20, err), 0);
	assert_false(es_dfilt_may(es_tables_live, 1, in6));
	teardown_tables();
}

/* More rule shapes than the tuple space hashes (ES_TSS_HASHED per
 * family): the rest share a catch-all tuple, and every answer still
 * agrees with the reference, on the way up and on the way down. */
static void rules__shapes_past_the_hashed_tuples_share_the_catch_all(void **state)
{
	char line[160];
	struct tkey k[512];
	struct es_rules_stats st;
	char err[ES_ERR_MAX];
	unsigned int prio = 100, nk = 0;
	(void)state;
	srand(99);
	setup_tables(1024, NULL, 0);
	es_rules_tune(1000000, 1000000, 1000000);
	/* 32 prefix lengths x (with/without proto) x (port, range, any) */
	for (int plen = 1; plen <= 32; plen++) {
		for (int shape = 0; shape < 4; shape++) {
			struct es_cmd c;
			const struct es_cmd *pc = &c;
			const char *ports[] = { "", " dport 4000", " dport 1000-5000", " sport 7-9000" };
			uint32_t net = (10u << 24 | (uint32_t)plen << 16) & (~0u << (32 - plen));
			snprintf(line, sizeof(line), "rule add %u dst %u.%u.%u.%u/%d%s%s action %s",
				 prio, net >> 24, (net >> 16) & 255, (net >> 8) & 255, net & 255,
				 plen, shape & 1 ? " proto udp" : "", ports[shape],
				 shape & 2 ? "cloud" : "drop");
			parse_rule(line, &c);
			assert_int_equal(es_rules_update(&pc, 1, err), 0);
			model.have[prio] = 1;
			model.r[prio] = c.u.rule;
			model.n++;
			prio++;
			/* keys at the rule and around it (check_keys takes
			 * N_KEYS per family) */
			for (int j = 0; j < 2 && nk < N_KEYS; j++) {
				struct tkey *a = &k[nk++];
				rand_key(a, 0);
				a->dir = ES_DIR_UL;
				a->proto = rnd(3) == 0 ? 6 : 17;
				a->dst[0] = 10;
				a->dst[1] = (uint8_t)(plen + (j == 1));
				a->dp = j == 0 ? 4000 : port_space[rnd(N_PORTS)];
				a->sp = j == 0 ? 80 : port_space[rnd(N_PORTS)];
			}
		}
	}
	ctx_what = "shapes";
	check_keys(k, nk);
	es_rules_stats(&st);
	assert_int_equal(st.delta, 128);
	assert_true(st.tuples == ES_TSS_HASHED + 1);
	assert_true(st.lin > 0);
	/* every other rule goes: the catch-all and the tuples thin out */
	for (unsigned int p = 100; p < prio; p += 2) {
		assert_int_equal(op_del(p, err), 0);
		check_keys(k, nk);
	}
	es_rules_stats(&st);
	assert_int_equal(st.delta, 64);
	/* a merge folds everything into the base */
	merge_now(&st);
	assert_int_equal(st.delta, 0);
	assert_int_equal(st.tuples, 0);
	assert_null(es_tables_live->tss);
	check_keys(k, nk);
	teardown_tables();
}

/* Every change is one generation: a reader holding the table set of
 * generation G keeps its answers while the next change is prepared and
 * after it is published (its nodes and death marks do not count at G). */
static void rules__an_older_generation_keeps_its_answers(void **state)
{
	char *lines[2] = { "rule add 10 dst 10.1.0.0/16 action drop",
			   "rule add 20 dst 10.0.0.0/8 action cloud" };
	const struct es_tables *t0;
	struct es_tables snap;
	struct es_tss *tss;
	size_t tss_len;
	struct es_cmd c[2];
	const struct es_cmd *pc[2] = { &c[0], &c[1] };
	union akey ak;
	const uint8_t *p = (const uint8_t *)&ak;
	struct tkey k;
	uint32_t res;
	char err[ES_ERR_MAX];
	(void)state;
	setup_tables(64, lines, 2);
	es_rules_tune(1000000, 1000000, 1000000);
	memset(&k, 0, sizeof(k));
	k.dir = ES_DIR_UL;
	k.proto = 17;
	k.dst[0] = 10;
	k.dst[1] = 1;
	k.dst[2] = 2;
	k.dst[3] = 3;
	make_key(&k, &ak);
	/* a delta first, so that the set below reads it */
	assert_int_equal(op_add_line("rule add 30 dst 192.168.0.0/16 action drop", err), 0);
	assert_int_equal(es_tables_live->rules_delta, 1);
	/* the set as a worker holds it: the shared parts, and its own tuple
	 * array (publication frees the old one) */
	t0 = es_tables_live;
	snap = *t0;
	tss_len = sizeof(*t0->tss) + (t0->tss->n4 + t0->tss->n6) * sizeof(t0->tss->t[0]);
	tss = malloc(tss_len);
	assert_non_null(tss);
	memcpy(tss, t0->tss, tss_len);
	snap.tss = tss;
	es_classify_rules(&snap, 0, &p, &res, 1);
	assert_int_equal(t0->rules[res - 1].prio, 10);
	/* one batch: rule 10 changes, a better rule 5 comes for the key */
	parse_rule("rule change 10 dst 10.1.0.0/16 action local a", &c[0]);
	parse_rule("rule add 5 dst 10.1.2.0/24 action cloud", &c[1]);
	assert_int_equal(es_rules_update(pc, 2, err), 0);
	assert_true(es_tables_live->rgen == snap.rgen + 1);
	/* the old generation still answers the first rule 10 (drop) */
	es_classify_rules(&snap, 0, &p, &res, 1);
	assert_int_equal(snap.rules[res - 1].prio, 10);
	assert_int_equal(snap.rules[res - 1].action, ES_ACT_DROP);
	es_classify_rules(es_tables_live, 0, &p, &res, 1);
	assert_int_equal(es_tables_live->rules[res - 1].prio, 5);
	/* rule 5 goes: the new rule 10 (local a) */
	assert_int_equal(op_del(5, err), 0);
	es_classify_rules(es_tables_live, 0, &p, &res, 1);
	assert_int_equal(es_tables_live->rules[res - 1].prio, 10);
	assert_int_equal(es_tables_live->rules[res - 1].action, ES_ACT_LOCAL);
	/* rule 10 goes: rule 20; the old generation still sees the first
	 * rule 10 */
	assert_int_equal(op_del(10, err), 0);
	es_classify_rules(es_tables_live, 0, &p, &res, 1);
	assert_int_equal(es_tables_live->rules[res - 1].prio, 20);
	es_classify_rules(&snap, 0, &p, &res, 1);
	assert_int_equal(snap.rules[res - 1].prio, 10);
	assert_int_equal(snap.rules[res - 1].action, ES_ACT_DROP);
	free(tss);
	teardown_tables();
}

/* ---- all or nothing ---- */

struct listing {
	unsigned int n;
	uint32_t prio[MAXP];
	uint8_t action[MAXP];
};

static int list_one(void *arg, const struct es_rule *r)
{
	struct listing *l = arg;
	l->prio[l->n] = r->prio;
	l->action[l->n++] = r->action;
	return 0;
}

static void expect_refused(const struct es_cmd *const *ops, unsigned int n,
			   const char *want_err)
{
	struct listing before, after;
	const struct es_tables *t0 = es_tables_live;
	char err[ES_ERR_MAX] = "";
	before.n = after.n = 0;
	es_rules_foreach(list_one, &before);
	if (es_rules_update(ops, n, err) != -1)
		fail_msg("batch accepted, wanted '%s'", want_err);
	if (strcmp(err, want_err) != 0)
		fail_msg("error '%s', wanted '%s'", err, want_err);
	assert_null(strchr(err, '\n'));
	/* nothing published, nothing changed */
	assert_ptr_equal(es_tables_live, t0);
	es_rules_foreach(list_one, &after);
	assert_int_equal(before.n, after.n);
	assert_memory_equal(before.prio, after.prio, before.n * sizeof(uint32_t));
	assert_memory_equal(before.action, after.action, before.n);
	assert_int_equal(es_rules_count(), model.n);
	check_keys(keys, N_KEYS);
}

static void rules__a_batch_with_one_bad_op_changes_nothing(void **state)
{
	char **lines;
	struct es_cmd c[6];
	const struct es_cmd *pc[6] = { &c[0], &c[1], &c[2], &c[3], &c[4], &c[5] };
	struct es_rules_stats st0, st1;
	unsigned int present = 0, present2 = 0;
	(void)state;
	srand(99);
	lines = rand_lines(60);
	setup_tables(64, lines, 60);
	free_lines(lines, 60);
	es_rules_tune(1000000, 1000000, 1000000);
	make_keys();
	ctx_what = "batch";
	/* make D and tombstones non-empty first */
	for (unsigned int i = 0; i < 5; i++) {
		char err[ES_ERR_MAX];
		assert_int_equal(op_change(pick_present(), 0, err), 0);
	}
	for (unsigned int p = 0; p < MAXP; p++) {
		if (model.have[p] && !present)
			present = p;
		else if (model.have[p] && !present2)
			present2 = p;
	}
	es_rules_stats(&st0);

	/* good add, good change, del of an unknown rule */
	parse_rule("rule add 1000 dst 10.0.0.0/8 action drop", &c[0]);
	parse_rule("rule add 0 action drop", &c[1]);
	c[1].u.rule.prio = present;
	c[1].verb = ES_VERB_CHANGE;
	del_cmd(&c[2], 1001);
	expect_refused(pc, 3, "rule 1001 does not exist");
	/* a del of a present rule, then an add of a PRIO already there */
	del_cmd(&c[0], present);
	parse_rule("rule add 0 action drop", &c[1]);
	c[1].u.rule.prio = present2;
	{
		char want[ES_ERR_MAX];
		snprintf(want, sizeof(want), "rule %u already exists", present2);
		expect_refused(pc, 2, want);
	}
	/* the same PRIO added twice in one batch */
	parse_rule("rule add 1002 action drop", &c[0]);
	parse_rule("rule add 1002 action cloud", &c[1]);
	expect_refused(pc, 2, "rule 1002 already exists");
	/* an unknown app, after good ops */
	del_cmd(&c[0], present);
	parse_rule("rule add 1003 dst 10.1.0.0/16 action local a", &c[1]);
	parse_rule("rule add 1004 action mirror a then local zz", &c[2]);
	expect_refused(pc, 3, "rule 1004: no app named 'zz'");
	/* change of an unknown rule */
	parse_rule("rule add 1005 action drop", &c[0]);
	c[0].verb = ES_VERB_CHANGE;
	expect_refused(pc, 1, "rule 1005 does not exist");
	/* a command that is not a rule update */
	parse_rule("rule add 1006 action drop", &c[0]);
	c[1] = c[0];
	c[1].obj = ES_OBJ_APP;
	expect_refused(pc, 2, "rule 1006: not a rule add, change or del");
	/* the table is full (64 rules) */
	for (int i = 0; i < 5; i++) {
		parse_rule("rule add 1010 action drop", &c[i]);
		c[i].u.rule.prio = 1010 + (uint32_t)i;
	}
	expect_refused(pc, 5, "rule 1014: table full (64 rules; raise 'set rules-max')");
	es_rules_stats(&st1);
	assert_int_equal(st1.updates, st0.updates);
	assert_int_equal(st1.delta, st0.delta);
	assert_int_equal(st1.tombs, st0.tombs);

	/* and a good batch: everything at once */
	{
		char err[ES_ERR_MAX];
		parse_rule("rule add 1020 dst 10.0.0.0/9 action drop", &c[0]);
		parse_rule("rule add 1021 action cloud", &c[1]);
		del_cmd(&c[2], 1021);                  /* added, then gone */
		del_cmd(&c[3], present);
		parse_rule("rule add 0 proto udp action forward", &c[4]);
		c[4].u.rule.prio = present2;
		c[4].verb = ES_VERB_CHANGE;
		parse_rule("rule add 0 proto tcp action local b", &c[5]);
		c[5].u.rule.prio = present2;
		c[5].verb = ES_VERB_CHANGE;           /* changed twice */
		if (es_rules_update(pc, 6, err) != 0)
			fail_msg("good batch: %s", err);
		model.have[1020] = 1;
		model.r[1020] = c[0].u.rule;
		model.have[present] = 0;
		model.r[present2] = c[5].u.rule;
		assert_int_equal(es_rules_count(), model.n);
		assert_null(es_rules_find(1021));
		assert_null(es_rules_find(present));
		assert_int_equal(es_rules_find(present2)->action, ES_ACT_LOCAL);
		assert_int_equal(es_rules_find(present2)->then_app, 0);
		assert_int_equal(es_rules_find(present2)->app, 1);
		check_keys(keys, N_KEYS);
	}
	teardown_tables();
}

/* ---- every burst size, with and without a delta ---- */

static void check_bursts(void)
{
	const struct es_tables *t = es_tables_live;
	for (int v6 = 0; v6 <= 1; v6++) {
		for (uint32_t n = 0; n <= 33; n++) {
			struct tkey k[34];
			union akey ak[34];
			const uint8_t *p[34];
			uint32_t res[34];
			for (uint32_t i = 0; i < 34; i++) {
				rand_key(&k[i], v6);
				make_key(&k[i], &ak[i]);
				p[i] = (const uint8_t *)&ak[i];
				res[i] = 0xdeadbeef;
			}
			es_classify_rules(t, v6, p, res, n);
			for (uint32_t i = 0; i < n; i++) {
				const struct es_cmd_rule *want = model_best(&k[i]);
				assert_true(res[i] <= t->n_slots);
				if (!rule_eq(res[i] ? &t->rule_defs[res[i] - 1] : NULL, want))
					fail_msg("v6 %d burst %u key %u: got slot %u, want rule %d",
						 v6, n, i, res[i], want ? (int)want->prio : -1);
			}
			for (uint32_t i = n; i < 34; i++)
				assert_int_equal(res[i], 0xdeadbeef);
		}
	}
}

static void rules__bursts_of_every_size_agree_with_reference(void **state)
{
	char **lines;
	char err[ES_ERR_MAX];
	(void)state;
	srand(38415);
	lines = rand_lines(120);
	setup_tables(1024, lines, 120);
	free_lines(lines, 120);
	es_rules_tune(1000000, 1000000, 1000000);
	/* no delta: the fast path */
	assert_int_equal(es_tables_live->rules_delta, 0);
	for (int r = 0; r < 4; r++)
		check_bursts();
	/* a delta and tombstones */
	for (int i = 0; i < 30; i++) {
		assert_int_equal(op_change(pick_present(), rnd(5) == 0, err), 0);
		assert_int_equal(op_del(pick_present(), err), 0);
		assert_int_equal(op_add(pick_absent(0), 0, err), 0);
	}
	assert_int_equal(es_tables_live->rules_delta, 1);
	assert_non_null(es_tables_live->kill);
	for (int r = 0; r < 4; r++)
		check_bursts();
	teardown_tables();
}

/* ---- queries ---- */

static void rules__foreach_gives_priority_order_and_the_app_guard_sees_every_use(void **state)
{
	char *lines[] = {
		"rule add 30 action local a",
		"rule add 10 action mirror b then local a",
		"rule add 20 dst 10.0.0.0/8 action drop",
	};
	struct listing l;
	char err[ES_ERR_MAX];
	(void)state;
	setup_tables(16, lines, 3);
	l.n = 0;
	assert_int_equal(es_rules_foreach(list_one, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.prio[0], 10);
	assert_int_equal(l.prio[1], 20);
	assert_int_equal(l.prio[2], 30);
	assert_int_equal(es_rules_count(), 3);
	assert_true(es_rules_use_app(0));
	assert_true(es_rules_use_app(1));
	assert_false(es_rules_use_app(2));
	assert_int_equal(op_add(5, 0, err), 0);
	assert_int_equal(op_del(10, err), 0);
	/* 'b' was only mirrored to by rule 10 (unless rule 5 uses it) */
	assert_int_equal(es_rules_use_app(1),
			 (model.r[5].action == ES_ACT_LOCAL && strcmp(model.r[5].app, "b") == 0) ||
			 (model.r[5].action == ES_ACT_MIRROR));
	assert_int_equal(op_del(30, err), 0);
	l.n = 0;
	es_rules_foreach(list_one, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.prio[0], 5);
	assert_int_equal(l.prio[1], 20);
	assert_null(es_rules_find(30));
	assert_int_equal(es_rules_find(20)->action, ES_ACT_DROP);
	teardown_tables();
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "512", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rules__foreach_gives_priority_order_and_the_app_guard_sees_every_use),
		cmocka_unit_test(rules__a_batch_with_one_bad_op_changes_nothing),
		cmocka_unit_test(rules__bursts_of_every_size_agree_with_reference),
		cmocka_unit_test(rules__deleting_a_broad_rule_uncovers_every_rule_it_hid),
		cmocka_unit_test(rules__random_updates_without_merges_agree_with_reference),
		cmocka_unit_test(rules__random_updates_over_the_hard_cap_agree_with_reference),
		cmocka_unit_test(rules__shapes_past_the_hashed_tuples_share_the_catch_all),
		cmocka_unit_test(rules__the_destination_filter_skips_only_what_no_rule_matches),
		cmocka_unit_test(rules__an_older_generation_keeps_its_answers),
		cmocka_unit_test(rules__random_updates_with_background_merges_agree_with_reference),
		cmocka_unit_test(rules__a_concurrent_reader_only_ever_sees_matching_rules),
	};
	/* optional: the name (glob) of the tests to run */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
