/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session tables at run time (session.c): add, delete, replace, slot and
 * hash-position reuse only after a grace period, capacity, iteration.
 * Every index is checked through the same lookups the worker makes;
 * the 4-byte-key index (es_sidx) is also tested on its own.
 */
#include <pthread.h>
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
#include "sidx.h"

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
	uint32_t v = es_sidx_lookup(t->by_ul_teid, teid);
	return v == UINT32_MAX ? -1 : (int64_t)v;
}

static int64_t by_ue4(const struct es_tables *t, uint32_t ue)
{
	uint32_t v = es_sidx_lookup(t->by_ue4, ue);
	return v == UINT32_MAX ? -1 : (int64_t)v;
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

/* ---- es_sidx on its own ---- */

/* n keys (n <= max) whose home position in x is the same as key0's. */
static void same_home(const struct es_sidx *x, uint32_t key0, uint32_t *out,
		      uint32_t n)
{
	uint32_t h = es_sidx_home(x, key0), k = key0, got = 0;
	while (got < n) {
		if (es_sidx_home(x, k) == h)
			out[got++] = k;
		k++;
	}
}

static void sidx__add_set_del_lookup(void **st)
{
	struct es_sidx x;
	(void)st;
	assert_int_equal(es_sidx_create(&x, 8, 0), 0);
	assert_int_equal(x.mask, 15);
	assert_int_equal(es_sidx_lookup(&x, 5), UINT32_MAX);
	assert_true(es_sidx_add(&x, 5, 70) >= 0);
	/* key 0 and slot 0 are ordinary values */
	assert_true(es_sidx_add(&x, 0, 0) >= 0);
	assert_int_equal(es_sidx_lookup(&x, 5), 70);
	assert_int_equal(es_sidx_lookup(&x, 0), 0);
	assert_int_equal(es_sidx_set(&x, 5, 71), 0);
	assert_int_equal(es_sidx_lookup(&x, 5), 71);
	assert_int_equal(es_sidx_set(&x, 6, 1), -1);
	assert_true(es_sidx_del(&x, 5) >= 0);
	assert_int_equal(es_sidx_lookup(&x, 5), UINT32_MAX);
	assert_int_equal(es_sidx_del(&x, 5), -1);
	assert_int_equal(es_sidx_lookup(&x, 0), 0);
	/* UINT32_MAX is the miss value, never a slot */
	assert_int_equal(es_sidx_add(&x, 9, UINT32_MAX), -1);
	assert_int_equal(x.n_keys, 1);
	es_sidx_free(&x);
}

static void sidx__tombstone_is_reused_only_after_reclaim(void **st)
{
	struct es_sidx x;
	uint32_t k[4];
	int64_t p0, p1, p2;
	(void)st;
	assert_int_equal(es_sidx_create(&x, 64, 0), 0);
	same_home(&x, 1000, k, 4);
	p0 = es_sidx_add(&x, k[0], 1);
	p1 = es_sidx_add(&x, k[1], 2);
	assert_int_equal(p1, (p0 + 1) & x.mask);
	/* a deleted key ahead in the chain leaves a tombstone: the key
	 * behind it is still found */
	assert_int_equal(es_sidx_del(&x, k[0]), p0);
	assert_int_equal(es_sidx_lookup(&x, k[1]), 2);
	/* not reused before the grace period */
	p2 = es_sidx_add(&x, k[2], 3);
	assert_int_equal(p2, (p0 + 2) & x.mask);
	assert_int_equal(es_sidx_del(&x, k[2]), p2);
	es_sidx_reclaim(&x, (uint32_t)p0);
	/* reclaimed: reused; the other pending tombstone is not */
	assert_int_equal(es_sidx_add(&x, k[3], 4), p0);
	assert_int_equal(es_sidx_add(&x, k[0], 5), (p0 + 3) & x.mask);
	assert_int_equal(es_sidx_lookup(&x, k[3]), 4);
	assert_int_equal(es_sidx_lookup(&x, k[1]), 2);
	assert_int_equal(es_sidx_lookup(&x, k[0]), 5);
	assert_int_equal(es_sidx_lookup(&x, k[2]), UINT32_MAX);
	/* a reclaim of a live position changes nothing */
	es_sidx_reclaim(&x, (uint32_t)p0);
	assert_int_equal(es_sidx_lookup(&x, k[3]), 4);
	es_sidx_free(&x);
}

static void sidx__full_table_refuses_and_misses_terminate(void **st)
{
	struct es_sidx x;
	uint32_t n = 0;
	(void)st;
	assert_int_equal(es_sidx_create(&x, 8, 0), 0);
	while (es_sidx_add(&x, 0x5000 + n, n) >= 0)
		n++;
	/* every position holds a key: no empty one ends a search */
	assert_int_equal(n, x.mask + 1);
	assert_true(x.max_dist <= x.mask);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(es_sidx_lookup(&x, 0x5000 + i), i);
	assert_int_equal(es_sidx_lookup(&x, 0x4fff), UINT32_MAX);
	/* all tombstones, pending: still full, misses still end */
	for (uint32_t i = 0; i < n; i++)
		assert_true(es_sidx_del(&x, 0x5000 + i) >= 0);
	assert_int_equal(es_sidx_add(&x, 1, 1), -1);
	assert_int_equal(es_sidx_lookup(&x, 0x5000), UINT32_MAX);
	for (uint32_t i = 0; i <= x.mask; i++)
		es_sidx_reclaim(&x, i);
	assert_true(es_sidx_add(&x, 1, 1) >= 0);
	assert_int_equal(es_sidx_lookup(&x, 1), 1);
	es_sidx_free(&x);
}

static void sidx__probing_stays_bounded_under_churn(void **st)
{
	const uint32_t keys = 1u << 15;
	struct es_sidx x;
	int64_t *pos = malloc(keys * sizeof(*pos));
	uint32_t d0;
	(void)st;
	assert_non_null(pos);
	assert_int_equal(es_sidx_create(&x, keys, 0), 0);
	/* filled to the capacity it was made for (half its positions) */
	for (uint32_t i = 0; i < keys; i++)
		assert_true(es_sidx_add(&x, i * 2654435761u, i) >= 0);
	d0 = x.max_dist;
	assert_true(d0 < ES_SIDX_PROBE_MAX / 2);
	/* churn: every key deleted and added again, many times over,
	 * reclaimed in batches as the control path does */
	for (uint32_t r = 0; r < 8 * keys; r++) {
		uint32_t i = (r * 7919u) % keys;
		pos[r % 64] = es_sidx_del(&x, i * 2654435761u);
		assert_true(pos[r % 64] >= 0);
		assert_true(es_sidx_add(&x, i * 2654435761u, i) >= 0);
		if (r % 64 == 63)
			for (int j = 0; j < 64; j++)
				es_sidx_reclaim(&x, (uint32_t)pos[j]);
	}
	assert_true(x.max_dist < ES_SIDX_PROBE_MAX / 2);
	for (uint32_t i = 0; i < keys; i++)
		assert_int_equal(es_sidx_lookup(&x, i * 2654435761u), i);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(es_sidx_lookup(&x, i * 2654435761u + 1), UINT32_MAX);
	assert_int_equal(x.n_keys, keys);
	free(pos);
	es_sidx_free(&x);
}

/* A reader thread searching while the writer churns: a key that is
 * never deleted is always found, with one of the slots it was given. */
struct reader_arg {
	const struct es_sidx *x;
	const uint32_t *keys;
	uint32_t n;
	volatile int stop;
	uint64_t bad, reads;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	while (!a->stop) {
		for (uint32_t i = 0; i < a->n; i++) {
			uint32_t v = es_sidx_lookup(a->x, a->keys[i]);
			if (v != 10 + i && v != 1000 + i)
				a->bad++;
			a->reads++;
		}
	}
	return NULL;
}

static void sidx__concurrent_reader_never_misses_a_stable_key(void **st)
{
	struct es_sidx x;
	uint32_t k[24];
	struct reader_arg a;
	pthread_t th;
	(void)st;
	assert_int_equal(es_sidx_create(&x, 64, 0), 0);
	/* one chain: 8 keys that churn ahead of 8 stable ones, 8 spare */
	same_home(&x, 77, k, 24);
	for (uint32_t i = 0; i < 8; i++)
		assert_true(es_sidx_add(&x, k[i], 500 + i) >= 0);
	for (uint32_t i = 0; i < 8; i++)
		assert_true(es_sidx_add(&x, k[8 + i], 10 + i) >= 0);
	memset(&a, 0, sizeof(a));
	a.x = &x;
	a.keys = &k[8];
	a.n = 8;
	assert_int_equal(pthread_create(&th, NULL, reader, &a), 0);
	for (uint32_t r = 0; r < 200000 || a.reads < 100000; r++) {
		uint32_t c = r % 8, s = (r / 8) % 8;
		int64_t p = es_sidx_del(&x, k[(r & 8) ? 16 + c : c]);
		assert_true(p >= 0);
		assert_true(es_sidx_add(&x, k[(r & 8) ? c : 16 + c], 500 + c) >= 0);
		assert_int_equal(es_sidx_set(&x, k[8 + s], (r & 1 ? 1000 : 10) + s), 0);
		/* no grace period to wait for here: the reader reads no slot */
		es_sidx_reclaim(&x, (uint32_t)p);
		if (r > 10000000)
			break;
	}
	a.stop = 1;
	pthread_join(th, NULL);
	assert_int_equal(a.bad, 0);
	assert_true(a.reads >= 100000);
	assert_true(x.max_dist < 24);
	es_sidx_free(&x);
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
		cmocka_unit_test(sidx__add_set_del_lookup),
		cmocka_unit_test(sidx__tombstone_is_reused_only_after_reclaim),
		cmocka_unit_test(sidx__full_table_refuses_and_misses_terminate),
		cmocka_unit_test(sidx__probing_stays_bounded_under_churn),
		cmocka_unit_test(sidx__concurrent_reader_never_misses_a_stable_key),
	};
	(void)argc;
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
