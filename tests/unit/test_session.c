/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session tables at run time (session.c): add, delete, replace, slot and
 * hash-position reuse only after a grace period, capacity, iteration.
 * Every index is checked through the same rte_hash lookups the worker
 * makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include "es.h"

static struct es_tables *new_tables(uint32_t max)
{
	struct es_tables *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(es_sessions_create(t, max, 0), 0);
	return t;
}

static void free_tables(struct es_tables *t)
{
	es_sessions_free(t);
	free(t);
}

static struct es_session sess(uint32_t id)
{
	struct es_session s;
	memset(&s, 0, sizeof(s));
	s.id = id;
	s.has_ue4 = 1;
	s.ue4_be = 0x0a000000u + id;
	s.ul_teid = 0x100 + id;
	s.n9_teid = 0x900 + id;
	s.gnb_teid = 0x1000 + id;
	s.qfi = 9;
	return s;
}

/* The slot the worker's uplink lookup finds for teid, or -1. */
static int64_t by_ul(const struct es_tables *t, uint32_t teid)
{
	void *d;
	if (rte_hash_lookup_data(t->by_ul_teid, &teid, &d) < 0)
		return -1;
	return (int64_t)(uintptr_t)d;
}

static int64_t by_ue4(const struct es_tables *t, uint32_t ue)
{
	void *d;
	if (rte_hash_lookup_data(t->by_ue4, &ue, &d) < 0)
		return -1;
	return (int64_t)(uintptr_t)d;
}

static void session__add_makes_every_index_point_at_the_slot(void **st)
{
	struct es_tables *t = new_tables(16);
	struct es_session s = sess(1);
	char err[ES_ERR_MAX];
	int64_t slot;
	(void)st;
	assert_int_equal(es_session_add(t, &s, err), 0);
	slot = es_session_find(t, 1);
	assert_true(slot >= 0);
	assert_int_equal(by_ul(t, s.ul_teid), slot);
	assert_int_equal(by_ue4(t, s.ue4_be), slot);
	assert_memory_equal(&t->sessions[slot], &s, sizeof(s));
	assert_int_equal(t->n_sessions, 1);
	free_tables(t);
}

static void session__add_refuses_every_key_already_used(void **st)
{
	struct es_tables *t = new_tables(16);
	struct es_session a = sess(1), b;
	char err[ES_ERR_MAX];
	(void)st;
	assert_int_equal(es_session_add(t, &a, err), 0);
	b = sess(1);
	assert_int_equal(es_session_add(t, &b, err), -1);
	assert_string_equal(err, "session 1 already exists");
	b = sess(2);
	b.ul_teid = a.ul_teid;
	assert_int_equal(es_session_add(t, &b, err), -1);
	assert_string_equal(err, "session 2: ul-teid 257 already used");
	b = sess(2);
	b.n9_teid = a.n9_teid;
	assert_int_equal(es_session_add(t, &b, err), -1);
	assert_string_equal(err, "session 2: n9-teid 2305 already used");
	b = sess(2);
	b.ue4_be = a.ue4_be;
	assert_int_equal(es_session_add(t, &b, err), -1);
	assert_string_equal(err, "session 2: ue address already used");
	/* nothing of the refused ones stayed behind */
	assert_int_equal(t->n_sessions, 1);
	assert_int_equal(es_session_find(t, 2), -1);
	free_tables(t);
}

static void session__del_removes_every_key_at_once(void **st)
{
	struct es_tables *t = new_tables(16);
	struct es_session s = sess(3);
	char err[ES_ERR_MAX];
	(void)st;
	assert_int_equal(es_session_add(t, &s, err), 0);
	assert_int_equal(es_session_del(t, 3, err), 0);
	assert_int_equal(es_session_find(t, 3), -1);
	assert_int_equal(by_ul(t, s.ul_teid), -1);
	assert_int_equal(by_ue4(t, s.ue4_be), -1);
	assert_int_equal(t->n_sessions, 0);
	assert_int_equal(es_session_del(t, 3, err), -1);
	assert_string_equal(err, "session 3 does not exist");
	/* its keys are free again at once (new hash positions) */
	assert_int_equal(es_session_add(t, &s, err), 0);
	free_tables(t);
}

static void session__deleted_slot_is_reused_only_after_reclaim(void **st)
{
	struct es_tables *t = new_tables(16);
	struct es_session a = sess(1), b = sess(2), c = sess(3);
	char err[ES_ERR_MAX];
	int64_t sa, sb, sc;
	(void)st;
	assert_int_equal(es_session_add(t, &a, err), 0);
	sa = es_session_find(t, 1);
	assert_int_equal(es_session_del(t, 1, err), 0);
	/* a reader may still hold slot sa: it must not be handed out */
	assert_int_equal(es_session_add(t, &b, err), 0);
	sb = es_session_find(t, 2);
	assert_true(sb != sa);
	/* the old content is intact for such a reader */
	assert_int_equal(t->sessions[sa].id, 1);
	es_sessions_reclaim(t);
	assert_int_equal(es_session_add(t, &c, err), 0);
	sc = es_session_find(t, 3);
	assert_int_equal(sc, sa);
	free_tables(t);
}

static void session__replace_repoints_every_index_to_a_new_slot(void **st)
{
	struct es_tables *t = new_tables(16);
	struct es_session s = sess(5), n;
	char err[ES_ERR_MAX];
	int64_t old, now;
	(void)st;
	assert_int_equal(es_session_add(t, &s, err), 0);
	old = es_session_find(t, 5);
	n = s;
	n.gnb_teid = 0xabcd;
	n.gnb = 7;
	assert_int_equal(es_session_replace(t, &n, err), 0);
	now = es_session_find(t, 5);
	assert_true(now != old);
	assert_int_equal(by_ul(t, s.ul_teid), now);
	assert_int_equal(by_ue4(t, s.ue4_be), now);
	assert_int_equal(t->sessions[now].gnb_teid, 0xabcd);
	/* the old slot still holds the old session for readers in flight */
	assert_int_equal(t->sessions[old].gnb_teid, s.gnb_teid);
	assert_int_equal(t->n_sessions, 1);
	free_tables(t);
}

static void session__replace_refuses_a_key_change(void **st)
{
	struct es_tables *t = new_tables(16);
	struct es_session s = sess(5), n;
	char err[ES_ERR_MAX];
	(void)st;
	assert_int_equal(es_session_add(t, &s, err), 0);
	n = s;
	n.ul_teid++;
	assert_int_equal(es_session_replace(t, &n, err), -1);
	assert_non_null(strstr(err, "delete and add it"));
	n = sess(6);
	assert_int_equal(es_session_replace(t, &n, err), -1);
	assert_string_equal(err, "session 6 does not exist");
	free_tables(t);
}

static void session__capacity_is_sessions_max_live_sessions(void **st)
{
	const uint32_t max = 64;
	struct es_tables *t = new_tables(max);
	char err[ES_ERR_MAX];
	struct es_session s;
	(void)st;
	for (uint32_t i = 0; i < max; i++) {
		s = sess(i + 1);
		assert_int_equal(es_session_add(t, &s, err), 0);
	}
	s = sess(max + 1);
	assert_int_equal(es_session_add(t, &s, err), -1);
	assert_string_equal(err, "session 65: table full (64 sessions; raise 'set sessions-max')");
	/* churn far beyond the spare slots: deletes and changes, reclaimed
	 * the way the control path does after each command */
	for (uint32_t r = 0; r < 2000; r++) {
		uint32_t id = r % max + 1;
		struct es_session n;
		assert_int_equal(es_session_del(t, id, err), 0);
		s = sess(id);
		assert_int_equal(es_session_add(t, &s, err), 0);
		n = s;
		n.qfi = (uint8_t)(r % 64);
		assert_int_equal(es_session_replace(t, &n, err), 0);
		if (r % 7 == 0)
			es_sessions_reclaim(t);
	}
	assert_int_equal(t->n_sessions, max);
	free_tables(t);
}

static int count_one(void *arg, const struct es_session *s)
{
	uint64_t *ids = arg;
	ids[0]++;
	ids[1] += s->id;
	return 0;
}

static void session__foreach_visits_each_live_session_once(void **st)
{
	struct es_tables *t = new_tables(32);
	char err[ES_ERR_MAX];
	uint64_t got[2] = { 0, 0 };
	(void)st;
	for (uint32_t i = 1; i <= 10; i++) {
		struct es_session s = sess(i);
		assert_int_equal(es_session_add(t, &s, err), 0);
	}
	assert_int_equal(es_session_del(t, 4, err), 0);
	{
		struct es_session n = sess(7);
		n.qfi = 1;
		assert_int_equal(es_session_replace(t, &n, err), 0);
	}
	assert_int_equal(es_sessions_foreach(t, count_one, got), 0);
	assert_int_equal(got[0], 9);
	assert_int_equal(got[1], 55 - 4);
	free_tables(t);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(session__add_makes_every_index_point_at_the_slot),
		cmocka_unit_test(session__add_refuses_every_key_already_used),
		cmocka_unit_test(session__del_removes_every_key_at_once),
		cmocka_unit_test(session__deleted_slot_is_reused_only_after_reclaim),
		cmocka_unit_test(session__replace_repoints_every_index_to_a_new_slot),
		cmocka_unit_test(session__replace_refuses_a_key_change),
		cmocka_unit_test(session__capacity_is_sessions_max_live_sessions),
		cmocka_unit_test(session__foreach_visits_each_live_session_once),
	};
	(void)argc;
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
