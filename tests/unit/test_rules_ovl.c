/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The overlap index (rules_ovl.c): es_ovl_query against a brute-force
 * es_rules_overlap scan over random rule sets (nested prefixes, /0 and
 * full lengths, both families and rules without an address, host bits
 * left set), its edges, and es_rules_overlap itself against packets: a
 * key the reference matcher (rule_ref.c) finds matching two rules means
 * the two overlap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "classify.h"
#include "rule_ref.h"
#include "rules_ovl.h"

/* ---- random rules straight into es_cmd_rule ---- */

/* a length over the whole range, often on the edges and byte borders */
static unsigned int rand_len(unsigned int width)
{
	switch (rnd(6)) {
	case 0:
		return rnd(2) ? 0 : width;
	case 1:
		return (unsigned int)(8 * rnd(width / 8 + 1));
	case 2:
		return rnd(width + 1);
	default: {
		/* around the bits rand_addr varies, so prefixes nest */
		static const uint8_t l4[] = { 8, 15, 16, 22, 23, 24, 29, 30, 31, 32 };
		static const uint8_t l6[] = { 32, 40, 46, 47, 48, 56, 63, 64, 72, 73,
					      96, 124, 125, 127, 128 };
		return width == 32 ? l4[rnd(sizeof(l4))] : l6[rnd(sizeof(l6))];
	}
	}
}

static void rand_pfx(struct es_addr *a, int v6)
{
	unsigned int w = v6 ? 128 : 32;
	a->v6 = (uint8_t)v6;
	rand_addr(v6, a->a);
	a->plen = (uint8_t)rand_len(w);
	for (unsigned int b = a->plen; b < w; b++)
		a->a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	/* now and then host bits left set (the parser clears them; nothing
	 * here may depend on it) */
	if (a->plen < w && rnd(8) == 0) {
		unsigned int b = a->plen + rnd(w - a->plen);
		a->a[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	}
}

static void rand_ports(uint16_t *lo, uint16_t *hi)
{
	if (rnd(2)) {
		*lo = 0;
		*hi = 65535;
		return;
	}
	*lo = port_space[rnd(N_PORTS)];
	*hi = port_space[rnd(N_PORTS)];
	if (*lo > *hi) {
		uint16_t x = *lo;
		*lo = *hi;
		*hi = x;
	}
}

/* fam 0: IPv4, 1: IPv6, 2: no address; 3: random of those */
static void rand_rule(struct es_cmd_rule *r, int fam)
{
	memset(r, 0, sizeof(*r));
	if (fam == 3)
		fam = rnd(5) == 0 ? 2 : (int)rnd(2);
	r->dir = (uint8_t)rnd(3);
	if (fam != 2) {
		int any = 0;
		if (rnd(3) == 0) {
			r->has_ue = 1;
			rand_pfx(&r->ue, fam);
			any = 1;
		}
		if (rnd(3) == 0) {
			r->has_src = 1;
			rand_pfx(&r->src, fam);
			any = 1;
		}
		if (!any || rnd(2) == 0) {
			r->has_dst = 1;
			rand_pfx(&r->dst, fam);
		}
	}
	if (rnd(3) == 0) {
		r->has_proto = 1;
		r->proto = proto_space[rnd(sizeof(proto_space))];
	}
	rand_ports(&r->sport_lo, &r->sport_hi);
	rand_ports(&r->dport_lo, &r->dport_hi);
	if (rnd(5) == 0) {
		r->has_qfi = 1;
		r->qfi = (uint8_t)rnd(4);
	}
	if (rnd(5) == 0) {
		r->has_dscp = 1;
		r->dscp = (uint8_t)rnd(4);
	}
	if (rnd(6) == 0) {
		r->has_teid = 1;
		r->teid = teid_space[rnd(5)];
	}
}

/* ---- the brute force and the collector ---- */

struct got {
	uint32_t n, from;
	uint32_t *hits;       /* per position: times reported */
	uint32_t count;
};

static void collect(void *arg, uint32_t j)
{
	struct got *g = arg;
	if (j >= g->n || j <= g->from)
		fail_msg("reported position %u outside (%u, %u)", j, g->from, g->n);
	g->hits[j]++;
	g->count++;
}

/* query o with c and from; check the answer against the brute force;
 * returns how many positions overlap */
static uint32_t check_query(const struct es_ovl *o, const struct es_cmd_rule *slots,
			    const uint32_t *idx, uint32_t n, const struct es_cmd_rule *c,
			    uint32_t from)
{
	struct got g = { .n = n, .from = from };
	uint32_t want = 0;
	g.hits = calloc(n + 1, sizeof(*g.hits));
	assert_non_null(g.hits);
	es_ovl_query(o, slots, idx, c, from, collect, &g);
	for (uint32_t j = 0; j < n; j++) {
		int ov = j > from && es_rules_overlap(c, &slots[idx[j]]);
		if (g.hits[j] > 1)
			fail_msg("position %u reported %u times", j, g.hits[j]);
		if (ov && g.hits[j] == 0)
			fail_msg("position %u overlaps but was not reported (from %u, n %u)",
				 j, from, n);
		if (!ov && g.hits[j])
			fail_msg("position %u reported but does not overlap", j);
		want += (uint32_t)ov;
	}
	assert_int_equal(g.count, want);
	free(g.hits);
	return want;
}

/* n rules in random slots of an array of n + spare (idx a random
 * injection), so that positions and slots differ */
static void rand_base(struct es_cmd_rule *slots, uint32_t cap, uint32_t *idx, uint32_t n, int fam)
{
	uint32_t *perm = malloc(cap * sizeof(*perm));
	assert_non_null(perm);
	for (uint32_t i = 0; i < cap; i++)
		perm[i] = i;
	for (uint32_t i = cap; i > 1; i--) {
		uint32_t k = rnd(i), x = perm[i - 1];
		perm[i - 1] = perm[k];
		perm[k] = x;
	}
	memset(slots, 0, cap * sizeof(*slots));
	for (uint32_t j = 0; j < n; j++) {
		idx[j] = perm[j];
		rand_rule(&slots[idx[j]], fam);
		slots[idx[j]].prio = 100 + j;
	}
	free(perm);
}

/* ---- tests ---- */

static void ovl__random_sets_report_exactly_the_overlapping_later_rules(void **state)
{
	enum { SETS = 400, MAXN = 300, SPARE = 40, QUERIES = 60 };
	struct es_cmd_rule *slots = malloc((MAXN + SPARE) * sizeof(*slots));
	uint32_t *idx = malloc(MAXN * sizeof(*idx));
	uint64_t total = 0, pairs = 0;
	(void)state;
	assert_non_null(slots);
	assert_non_null(idx);
	srand(101);
	for (int s = 0; s < SETS; s++) {
		uint32_t n = s % 10 == 0 ? rnd(4) : 1 + rnd(MAXN);
		/* mostly mixed; some sets of one family (a busier index) */
		int fam = s % 7 == 1 ? 0 : s % 7 == 2 ? 1 : 3;
		struct es_ovl *o;
		rand_base(slots, n + SPARE, idx, n, fam);
		o = es_ovl_build(slots, idx, n);
		assert_non_null(o);
		for (int q = 0; q < QUERIES; q++) {
			struct es_cmd_rule c;
			uint32_t from;
			if (n && rnd(2)) {   /* the use: a base rule at its position */
				from = rnd(n);
				c = slots[idx[from]];
			} else {
				rand_rule(&c, 3);
				from = rnd(4) == 0 ? 0 : rnd(n + 2);
			}
			total += check_query(o, slots, idx, n, &c, from);
			pairs += n > from ? n - from - 1 : 0;
		}
		es_ovl_free(o);
	}
	/* the spaces are small enough that overlaps are common, not universal */
	assert_true(total > pairs / 20);
	assert_true(total < pairs);
	free(slots);
	free(idx);
}

/* many rules on a few prefixes and their nests: long descendant runs and
 * ancestor groups of many rules each */
static void ovl__a_crowded_base_of_nested_prefixes_is_reported_exactly(void **state)
{
	enum { N = 6000 };
	struct es_cmd_rule *slots = calloc(N, sizeof(*slots));
	uint32_t *idx = malloc(N * sizeof(*idx));
	struct es_ovl *o;
	(void)state;
	assert_non_null(slots);
	assert_non_null(idx);
	srand(7);
	for (uint32_t j = 0; j < N; j++) {
		struct es_cmd_rule *r = &slots[j];
		idx[j] = j;
		rand_rule(r, (int)rnd(2));
		if (rnd(2)) {   /* one of few dst prefixes, nested */
			static const uint8_t l[] = { 0, 8, 16, 24, 32 };
			int v6 = rnd(2);
			r->has_dst = 1;
			memset(&r->dst, 0, sizeof(r->dst));
			r->dst.v6 = (uint8_t)v6;
			r->dst.a[0] = v6 ? 0x20 : 10;
			r->dst.a[1] = (uint8_t)rnd(2);
			r->dst.a[2] = (uint8_t)rnd(2);
			r->dst.a[3] = (uint8_t)rnd(2);
			r->dst.plen = (uint8_t)(l[rnd(5)] * (v6 ? 4 : 1));
			for (unsigned int b = r->dst.plen; b < 128; b++)
				r->dst.a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
			if (!v6)
				memset(r->dst.a + 4, 0, 12);
			if (r->has_ue && r->ue.v6 != v6)
				r->has_ue = 0;
			if (r->has_src && r->src.v6 != v6)
				r->has_src = 0;
		}
	}
	o = es_ovl_build(slots, idx, N);
	assert_non_null(o);
	for (int q = 0; q < 300; q++) {
		uint32_t from = rnd(N);
		check_query(o, slots, idx, N, &slots[idx[from]], from);
		from = rnd(N / 4);
		check_query(o, slots, idx, N, &slots[idx[rnd(N)]], from);
	}
	es_ovl_free(o);
	free(slots);
	free(idx);
}

static void ovl__edges_empty_last_position_zero_prefixes_and_bare_queries(void **state)
{
	struct es_cmd_rule slots[8] = { 0 };
	uint32_t idx[8] = { 7, 6, 5, 4, 3, 2, 1, 0 };
	struct es_cmd_rule bare, c;
	struct es_ovl *o;
	(void)state;
	memset(&bare, 0, sizeof(bare));
	bare.sport_hi = bare.dport_hi = 65535;
	/* n == 0: a valid, empty index */
	o = es_ovl_build(slots, idx, 0);
	assert_non_null(o);
	assert_int_equal(check_query(o, slots, idx, 0, &bare, 0), 0);
	es_ovl_free(o);
	es_ovl_free(NULL);

	/* base: v4 dst /0, v6 dst ::/0, v4 dst /32, v6 ue /128, no address,
	 * v4 ue /0 + src /32, v6 dst /128, v4 dst 11/8 */
	memset(slots, 0, sizeof(slots));
	for (int j = 0; j < 8; j++) {
		struct es_cmd_rule *r = &slots[idx[j]];
		r->prio = (uint32_t)(10 + j);
		r->sport_hi = r->dport_hi = 65535;
	}
#define R(j) (&slots[idx[j]])
	R(0)->has_dst = 1;                      /* 0.0.0.0/0 */
	R(1)->has_dst = 1;                      /* ::/0 */
	R(1)->dst.v6 = 1;
	R(2)->has_dst = 1;                      /* 10.0.0.1/32 */
	R(2)->dst.plen = 32;
	memcpy(R(2)->dst.a, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	R(3)->has_ue = 1;                       /* 2001:db8::1/128 */
	R(3)->ue.v6 = 1;
	R(3)->ue.plen = 128;
	memcpy(R(3)->ue.a, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	R(3)->ue.a[15] = 1;
	R(4)->has_proto = 1;                    /* proto 17, no address */
	R(4)->proto = 17;
	R(5)->has_ue = 1;                       /* ue 0.0.0.0/0 src 10.0.0.2/32 */
	R(5)->has_src = 1;
	R(5)->src.plen = 32;
	memcpy(R(5)->src.a, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	R(6)->has_dst = 1;                      /* 2001:db8::2/128 */
	R(6)->dst.v6 = 1;
	R(6)->dst.plen = 128;
	memcpy(R(6)->dst.a, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	R(6)->dst.a[15] = 2;
	R(7)->has_dst = 1;                      /* 11.0.0.0/8 */
	R(7)->dst.plen = 8;
	R(7)->dst.a[0] = 11;
	o = es_ovl_build(slots, idx, 8);
	assert_non_null(o);
	/* a bare query overlaps everything after from */
	assert_int_equal(check_query(o, slots, idx, 8, &bare, 0), 7);
	assert_int_equal(check_query(o, slots, idx, 8, &bare, 5), 2);
	/* from == n - 1, n, and past it: nothing */
	assert_int_equal(check_query(o, slots, idx, 8, &bare, 7), 0);
	assert_int_equal(check_query(o, slots, idx, 8, &bare, 8), 0);
	assert_int_equal(check_query(o, slots, idx, 8, &bare, UINT32_MAX), 0);
	/* v4 /0: every IPv4 rule and the one without address: 2 4 5 7 */
	assert_int_equal(check_query(o, slots, idx, 8, R(0), 0), 4);
	/* ::/0: 3 4 6 */
	assert_int_equal(check_query(o, slots, idx, 8, R(1), 1), 3);
	/* 10.0.0.1/32 from 0: the /0 is before; 4 and 5 (no dst), not 7 */
	assert_int_equal(check_query(o, slots, idx, 8, R(2), 0), 3);
	/* the v6 UE /128 counts as its /64: another /128 in the /64 overlaps */
	c = *R(3);
	c.ue.a[15] = 9;
	assert_int_equal(check_query(o, slots, idx, 8, &c, 0), 4);   /* 1 3 4 6 */
	/* a v4 src /32 query on 10.0.0.3: 0 2 4 7 (no src); not 5 (src .2) */
	memset(&c, 0, sizeof(c));
	c.sport_hi = c.dport_hi = 65535;
	c.has_src = 1;
	c.src.plen = 32;
	memcpy(c.src.a, (uint8_t[]){ 10, 0, 0, 3 }, 4);
	{
		struct got g = { .n = 8, .from = 0 };
		uint32_t hits[9] = { 0 };
		g.hits = hits;
		es_ovl_query(o, slots, idx, &c, 0, collect, &g);
		assert_int_equal(g.count, 3);
		assert_int_equal(hits[2] + hits[4] + hits[7], 3);
	}
#undef R
	es_ovl_free(o);
}

/* ---- es_rules_overlap against packets ---- */

/* overlay the first len bits of p on a */
static void put_pfx(uint8_t a[16], const uint8_t p[16], unsigned int len)
{
	for (unsigned int b = 0; b < len; b++) {
		uint8_t m = (uint8_t)(0x80u >> (b % 8));
		a[b / 8] = (uint8_t)((a[b / 8] & ~m) | (p[b / 8] & m));
	}
}

static uint16_t port_in(uint16_t lo, uint16_t hi)
{
	uint32_t p;
	switch (rnd(4)) {
	case 0:
		return lo;
	case 1:
		return hi;
	case 2:
		p = port_space[rnd(N_PORTS)] + rnd(2);
		return p >= lo && p <= hi ? (uint16_t)p : lo;
	default:
		return (uint16_t)(lo + rnd((uint32_t)hi - lo + 1));
	}
}

/* a key inside r where r says something, random (small spaces) elsewhere */
static void key_in(const struct es_cmd_rule *r, struct tkey *k)
{
	int fams = es_rule_fams(r);
	int v6 = fams == 3 ? (int)rnd(2) : fams == 2;
	rand_key(k, v6);
	if (r->dir != ES_DIR_ANY)
		k->dir = r->dir;
	if (r->has_proto)
		k->proto = r->proto;
	k->sp = port_in(r->sport_lo, r->sport_hi);
	k->dp = port_in(r->dport_lo, r->dport_hi);
	if (r->has_qfi)
		k->qfi = r->qfi;
	if (r->has_dscp)
		k->dscp = r->dscp;
	if (r->has_teid)
		k->teid = r->teid;
	if (r->has_src)
		put_pfx(k->src, r->src.a, r->src.plen > (v6 ? 128 : 32) ? 0 : r->src.plen);
	if (r->has_dst)
		put_pfx(k->dst, r->dst.a, r->dst.plen > (v6 ? 128 : 32) ? 0 : r->dst.plen);
	if (r->has_ue)
		put_pfx(k->dir == ES_DIR_UL ? k->src : k->dst, r->ue.a,
			r->ue.plen > (v6 ? 64 : 32) ? (v6 ? 64 : 32) : r->ue.plen);
}

static void ovl__a_packet_matching_two_rules_means_they_overlap(void **state)
{
	enum { PAIRS = 40000, KEYS = 12 };
	unsigned int both = 0, said_no = 0, asym = 0;
	(void)state;
	srand(2026);
	for (int i = 0; i < PAIRS; i++) {
		struct es_cmd_rule a, b;
		int ov;
		rand_rule(&a, 3);
		rand_rule(&b, rnd(3) ? (int)(es_rule_fams(&a) == 2) : 3);
		ov = es_rules_overlap(&a, &b);
		asym += ov != es_rules_overlap(&b, &a);
		said_no += !ov;
		for (int n = 0; n < KEYS; n++) {
			struct tkey k;
			key_in(n & 1 ? &b : &a, &k);
			if (!ref_rule_matches(&a, &k) || !ref_rule_matches(&b, &k))
				continue;
			both++;
			if (!ov)
				fail_msg("pair %d: a key matches both rules but overlap says no", i);
		}
	}
	assert_int_equal(asym, 0);
	/* the draw must exercise both answers */
	assert_true(both > PAIRS / 4);
	assert_true(said_no > PAIRS / 10);
}

/* answers worked out by hand, one field at a time */
static void ovl__overlap_by_hand(void **state)
{
	struct es_cmd_rule a, b;
	(void)state;
#define BASE() do { memset(&a, 0, sizeof(a)); memset(&b, 0, sizeof(b));          \
		a.sport_hi = a.dport_hi = b.sport_hi = b.dport_hi = 65535; } while (0)
	BASE();
	assert_int_equal(es_rules_overlap(&a, &b), 1);
	a.has_dst = b.has_dst = 1;
	a.dst.plen = 8;
	a.dst.a[0] = 10;
	b.dst.plen = 16;
	b.dst.a[0] = 10;
	b.dst.a[1] = 1;
	assert_int_equal(es_rules_overlap(&a, &b), 1);   /* 10/8 holds 10.1/16 */
	a.dst.plen = 16;
	assert_int_equal(es_rules_overlap(&a, &b), 0);   /* 10.0/16, 10.1/16 */
	b.dst.v6 = 1;
	b.dst.plen = 0;
	assert_int_equal(es_rules_overlap(&a, &b), 0);   /* families differ */
	BASE();
	b.has_dst = 1;
	b.dst.v6 = 1;
	assert_int_equal(es_rules_overlap(&a, &b), 1);   /* no address: both */
	a.has_ue = b.has_ue = 1;
	a.ue.v6 = b.ue.v6 = 1;
	a.ue.plen = b.ue.plen = 128;
	a.ue.a[15] = 1;
	b.ue.a[15] = 2;
	assert_int_equal(es_rules_overlap(&a, &b), 1);   /* same /64 */
	b.ue.a[7] = 1;
	assert_int_equal(es_rules_overlap(&a, &b), 0);
	BASE();
	a.dport_lo = 10;
	a.dport_hi = 20;
	b.dport_lo = 21;
	assert_int_equal(es_rules_overlap(&a, &b), 0);
	b.dport_lo = 20;
	assert_int_equal(es_rules_overlap(&a, &b), 1);
	a.dir = ES_DIR_UL;
	b.dir = ES_DIR_DL;
	assert_int_equal(es_rules_overlap(&a, &b), 0);
	b.dir = ES_DIR_ANY;
	a.has_teid = b.has_teid = 1;
	b.teid = 1;
	assert_int_equal(es_rules_overlap(&a, &b), 0);
#undef BASE
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ovl__overlap_by_hand),
		cmocka_unit_test(ovl__a_packet_matching_two_rules_means_they_overlap),
		cmocka_unit_test(ovl__edges_empty_last_position_zero_prefixes_and_bare_queries),
		cmocka_unit_test(ovl__random_sets_report_exactly_the_overlapping_later_rules),
		cmocka_unit_test(ovl__a_crowded_base_of_nested_prefixes_is_reported_exactly),
	};
	return cmocka_run_group_tests_name("rules_ovl", tests, NULL, NULL);
}
