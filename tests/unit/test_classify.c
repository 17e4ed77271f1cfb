/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule matching and priority through the real rte_acl contexts built by
 * classify.c, against a linear reference matcher written here from the
 * grammar's meaning of each field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_byteorder.h>
#include <rte_cpuflags.h>
#include "cmd.h"
#include "classify.h"
#include "rule_ref.h"

static struct es_tables *new_tables(const char *const *lines, size_t n)
{
	struct es_tables *t = calloc(1, sizeof(*t));
	char err[ES_ERR_MAX];
	assert_non_null(t);
	t->max_rules = n ? (uint32_t)n : 1;
	t->rules = calloc(t->max_rules, sizeof(*t->rules));
	t->rule_defs = calloc(t->max_rules, sizeof(*t->rule_defs));
	assert_non_null(t->rules);
	for (size_t i = 0; i < n; i++) {
		struct es_cmd c;
		if (es_cmd_parse(lines[i], &c, err) != 1)
			fail_msg("parse '%s': %s", lines[i], err);
		assert_int_equal(c.obj, ES_OBJ_RULE);
		t->rule_defs[t->n_rules++] = c.u.rule;
	}
	if (es_classify_build(t, err) != 0)
		fail_msg("build: %s", err);
	return t;
}

static void free_tables(struct es_tables *t)
{
	es_classify_free(t);
	free(t->rules);
	free(t->rule_defs);
	free(t);
}

static struct es_key4 key4(uint8_t dir, const char *src, const char *dst,
			   uint8_t proto, uint16_t sp, uint16_t dp, uint8_t qfi,
			   uint8_t dscp, uint32_t teid)
{
	struct es_key4 k;
	struct es_addr a;
	memset(&k, 0, sizeof(k));
	k.dir = dir;
	k.proto = proto;
	k.qfi = qfi;
	k.dscp = dscp;
	assert_int_equal(es_parse_addr(src, 0, &a), 0);
	memcpy(&k.src_be, a.a, 4);
	assert_int_equal(es_parse_addr(dst, 0, &a), 0);
	memcpy(&k.dst_be, a.a, 4);
	k.ue_be = dir == ES_DIR_UL ? k.src_be : k.dst_be;
	k.sport_be = rte_cpu_to_be_16(sp);
	k.dport_be = rte_cpu_to_be_16(dp);
	k.teid_be = rte_cpu_to_be_32(teid);
	return k;
}

/* rule priority (prio) of the match, or 0 */
static uint32_t match4(const struct es_tables *t, const struct es_key4 *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t r = 0;
	/* the direction picks the context */
	es_classify(t->acl.c[0][k->dir == ES_DIR_DL], &p, &r, 1);
	if (r == 0)
		return 0;
	assert_true(r <= t->n_rules);
	return t->rule_defs[r - 1].prio;
}

static void classify__matches_dst_prefix(void **state)
{
	(void)state;
	const char *rules[] = { "rule add 10 dst 10.200.0.0/16 action drop" };
	struct es_tables *t = new_tables(rules, 1);
	struct es_key4 k = key4(ES_DIR_UL, "10.45.0.2", "10.200.1.1", 17, 1000, 2000, 9, 0, 0x100);
	assert_int_equal(match4(t, &k), 10);
	k = key4(ES_DIR_UL, "10.45.0.2", "10.201.1.1", 17, 1000, 2000, 9, 0, 0x100);
	assert_int_equal(match4(t, &k), 0);
	free_tables(t);
}

/* ---- a packet's classification inputs, either family ---- */


static void set_ip(uint8_t out[16], const char *s)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) != 1 && inet_pton(AF_INET6, s, out) != 1)
		fail_msg("bad address %s", s);
}


static struct tkey base_key(int v6)
{
	struct tkey k;
	memset(&k, 0, sizeof(k));
	k.v6 = (uint8_t)v6;
	k.dir = ES_DIR_UL;
	k.proto = 17;
	k.sp = 1000;
	k.dp = 2000;
	k.qfi = 9;
	k.dscp = 0;
	k.teid = 0x100;
	set_ip(k.src, v6 ? "2001:db8:45::2" : "10.45.0.2");
	set_ip(k.dst, v6 ? "2001:db8:200::1:1" : "10.200.1.1");
	return k;
}

/* ACL result (rule index + 1 or 0) for one key. */
static uint32_t acl_lookup(const struct es_tables *t, const struct tkey *tk)
{
	union akey k;
	const uint8_t *p = (const uint8_t *)&k;
	uint32_t r = 0xdeadbeef;
	make_key(tk, &k);
	es_classify(t->acl.c[tk->v6][tk->dir == ES_DIR_DL], &p, &r, 1);
	assert_true(r <= t->n_rules);
	return r;
}

/* ---- the reference matcher ---- */



/* Rule index + 1 of the matching rule with the lowest prio number, or 0;
 * does not rely on the order of t->rules. */
static uint32_t ref_lookup(const struct es_tables *t, const struct tkey *k)
{
	uint32_t best = 0;
	for (uint32_t i = 0; i < t->n_rules; i++) {
		if (!ref_rule_matches(&t->rule_defs[i], k))
			continue;
		if (best == 0 || t->rule_defs[i].prio < t->rule_defs[best - 1].prio)
			best = i + 1;
	}
	return best;
}

static uint32_t prio_of(const struct es_tables *t, uint32_t res)
{
	return res ? t->rule_defs[res - 1].prio : 0;
}

/* Both the ACL and the reference give the rule with prio want (0: none). */
static void expect_prio(const struct es_tables *t, const struct tkey *k,
			uint32_t want, int line)
{
	uint32_t got = prio_of(t, acl_lookup(t, k));
	uint32_t ref = prio_of(t, ref_lookup(t, k));
	if (ref != want)
		fail_msg("line %d: reference gives %u, test wants %u", line, ref, want);
	if (got != want)
		fail_msg("line %d: acl gives %u, want %u (v6=%u)", line, got, want, k->v6);
}
#define EXPECT(t, k, want) expect_prio((t), &(k), (want), __LINE__)

/* ---- each field alone ---- */

static void classify__matches_proto_alone(void **state)
{
	(void)state;
	const char *rules[] = { "rule add 5 proto tcp action drop",
				"rule add 6 proto 132 action drop" };
	struct es_tables *t = new_tables(rules, 2);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		k.proto = 6;
		EXPECT(t, k, 5);
		k.proto = 132;
		EXPECT(t, k, 6);
		k.proto = 17;
		EXPECT(t, k, 0);
		k.proto = 7;
		EXPECT(t, k, 0);
	}
	free_tables(t);
}

static void classify__sport_range_is_inclusive_at_both_edges(void **state)
{
	(void)state;
	const char *rules[] = { "rule add 5 sport 1000-1010 action drop",
				"rule add 6 sport 65535 action drop",
				"rule add 7 sport 0-0 action drop" };
	struct es_tables *t = new_tables(rules, 3);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		k.sp = 999;   EXPECT(t, k, 0);
		k.sp = 1000;  EXPECT(t, k, 5);
		k.sp = 1005;  EXPECT(t, k, 5);
		k.sp = 1010;  EXPECT(t, k, 5);
		k.sp = 1011;  EXPECT(t, k, 0);
		k.sp = 65534; EXPECT(t, k, 0);
		k.sp = 65535; EXPECT(t, k, 6);
		k.sp = 0;     EXPECT(t, k, 7);
		k.sp = 1;     EXPECT(t, k, 0);
		/* byte-swapped 1000 (0xe803) is not in the range */
		k.sp = 0xe803; EXPECT(t, k, 0);
	}
	free_tables(t);
}

static void classify__dport_range_is_inclusive_at_both_edges(void **state)
{
	(void)state;
	const char *rules[] = { "rule add 5 dport 2000-2002 action drop",
				"rule add 6 dport 443 action drop" };
	struct es_tables *t = new_tables(rules, 2);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		k.dp = 1999; EXPECT(t, k, 0);
		k.dp = 2000; EXPECT(t, k, 5);
		k.dp = 2002; EXPECT(t, k, 5);
		k.dp = 2003; EXPECT(t, k, 0);
		k.dp = 442;  EXPECT(t, k, 0);
		k.dp = 443;  EXPECT(t, k, 6);
		k.dp = 444;  EXPECT(t, k, 0);
		/* the source port does not stand in for the destination */
		k.sp = 443; k.dp = 80; EXPECT(t, k, 0);
	}
	free_tables(t);
}

static void classify__matches_qfi_alone(void **state)
{
	(void)state;
	const char *rules[] = { "rule add 5 qfi 9 action drop",
				"rule add 6 qfi 63 action drop" };
	struct es_tables *t = new_tables(rules, 2);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		k.qfi = 9;  EXPECT(t, k, 5);
		k.qfi = 8;  EXPECT(t, k, 0);
		k.qfi = 10; EXPECT(t, k, 0);
		k.qfi = 63; EXPECT(t, k, 6);
		k.qfi = 0;  EXPECT(t, k, 0);
		/* DSCP 9 is not QFI 9 */
		k.qfi = 1; k.dscp = 9; EXPECT(t, k, 0);
	}
	free_tables(t);
}

static void classify__matches_dscp_alone(void **state)
{
	(void)state;
	const char *rules[] = { "rule add 5 dscp 46 action drop",
				"rule add 6 dscp 0 action drop" };
	struct es_tables *t = new_tables(rules, 2);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		k.dscp = 46; EXPECT(t, k, 5);
		k.dscp = 47; EXPECT(t, k, 0);
		k.dscp = 45; EXPECT(t, k, 0);
		k.dscp = 0;  EXPECT(t, k, 6);
		k.dscp = 63; EXPECT(t, k, 0);
		/* QFI 46 is not DSCP 46 */
		k.dscp = 1; k.qfi = 46; EXPECT(t, k, 0);
	}
	free_tables(t);
}

static void classify__matches_teid_alone(void **state)
{
	(void)state;
	const char *rules[] = { "rule add 5 teid 0x80000001 action drop",
				"rule add 6 teid 4294967295 action drop",
				"rule add 7 teid 0 action drop" };
	struct es_tables *t = new_tables(rules, 3);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		k.teid = 0x80000001; EXPECT(t, k, 5);
		k.teid = 0x80000000; EXPECT(t, k, 0);
		k.teid = 0x00000001; EXPECT(t, k, 0);
		k.teid = 0x01000080; EXPECT(t, k, 0);   /* byte-swapped */
		k.teid = 0xffffffff; EXPECT(t, k, 6);
		k.teid = 0xfffffffe; EXPECT(t, k, 0);
		k.teid = 0;          EXPECT(t, k, 7);
	}
	free_tables(t);
}

static void classify__dir_separates_uplink_from_downlink(void **state)
{
	(void)state;
	const char *dl[] = { "rule add 5 dir dl action drop" };
	const char *ul[] = { "rule add 6 dir ul action drop" };
	/* no 'dir': the grammar defaults to uplink */
	const char *dflt[] = { "rule add 7 proto udp action drop" };
	struct es_tables *tdl = new_tables(dl, 1), *tul = new_tables(ul, 1);
	struct es_tables *tdf = new_tables(dflt, 1);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		k.dir = ES_DIR_DL;
		EXPECT(tdl, k, 5);
		EXPECT(tul, k, 0);
		EXPECT(tdf, k, 0);
		k.dir = ES_DIR_UL;
		EXPECT(tdl, k, 0);
		EXPECT(tul, k, 6);
		EXPECT(tdf, k, 7);
	}
	free_tables(tdl);
	free_tables(tul);
	free_tables(tdf);
}

static void classify__ue_is_inner_src_uplink_and_inner_dst_downlink(void **state)
{
	(void)state;
	const char *r4[] = { "rule add 5 ue 10.45.0.0/16 action drop",
			     "rule add 6 dir dl ue 10.45.0.0/16 action drop" };
	const char *r6[] = { "rule add 5 ue 2001:db8:45::/48 action drop",
			     "rule add 6 dir dl ue 2001:db8:45::/48 action drop" };
	for (int v6 = 0; v6 <= 1; v6++) {
		struct es_tables *t = new_tables(v6 ? r6 : r4, 2);
		const char *in = v6 ? "2001:db8:45:1::9" : "10.45.7.9";
		const char *out = v6 ? "2001:db8:46::9" : "10.46.7.9";
		struct tkey k = base_key(v6);
		/* uplink: UE is the inner source */
		k.dir = ES_DIR_UL;
		set_ip(k.src, in);  set_ip(k.dst, out); EXPECT(t, k, 5);
		set_ip(k.src, out); set_ip(k.dst, in);  EXPECT(t, k, 0);
		/* downlink: UE is the inner destination */
		k.dir = ES_DIR_DL;
		set_ip(k.src, out); set_ip(k.dst, in);  EXPECT(t, k, 6);
		set_ip(k.src, in);  set_ip(k.dst, out); EXPECT(t, k, 0);
		free_tables(t);
	}
}

static void classify__ue6_prefix_matches_the_64_bit_ue_key(void **state)
{
	(void)state;
	/* the UE key is the /64 prefix: bits past 64 are not in it */
	const char *r[] = { "rule add 5 ue 2001:db8:45:1::/64 action drop",
			    "rule add 6 ue 2001:db8:45:2::/63 action drop" };
	struct es_tables *t = new_tables(r, 2);
	struct tkey k = base_key(1);
	set_ip(k.src, "2001:db8:45:1:ffff::1"); EXPECT(t, k, 5);
	set_ip(k.src, "2001:db8:45:0:ffff::1"); EXPECT(t, k, 0);
	set_ip(k.src, "2001:db8:45:3::1");      EXPECT(t, k, 6);
	set_ip(k.src, "2001:db8:45:4::1");      EXPECT(t, k, 0);
	set_ip(k.src, "2001:db8:44:1::1");      EXPECT(t, k, 0);
	free_tables(t);
}

static void classify__matches_src_prefix(void **state)
{
	(void)state;
	const char *r4[] = { "rule add 5 src 10.45.0.0/24 action drop",
			     "rule add 6 src 10.99.1.2 action drop",
			     "rule add 7 src 172.16.0.0/12 action drop" };
	const char *r6[] = { "rule add 5 src 2001:db8:45::/120 action drop",
			     "rule add 6 src 2001:db8:1:2:3:4:5:6 action drop",
			     "rule add 7 src 2001:db8:1:2:3:4::/97 action drop" };
	struct es_tables *t;
	struct tkey k = base_key(0);

	t = new_tables(r4, 3);
	set_ip(k.src, "10.45.0.0");    EXPECT(t, k, 5);
	set_ip(k.src, "10.45.0.255");  EXPECT(t, k, 5);
	set_ip(k.src, "10.45.1.0");    EXPECT(t, k, 0);
	set_ip(k.src, "10.44.255.255"); EXPECT(t, k, 0);
	set_ip(k.src, "10.99.1.2");    EXPECT(t, k, 6);
	set_ip(k.src, "10.99.1.3");    EXPECT(t, k, 0);
	set_ip(k.src, "172.31.255.255"); EXPECT(t, k, 7);
	set_ip(k.src, "172.32.0.0");   EXPECT(t, k, 0);
	/* the destination does not stand in for the source */
	set_ip(k.src, "192.0.2.1"); set_ip(k.dst, "10.45.0.1"); EXPECT(t, k, 0);
	free_tables(t);

	k = base_key(1);
	t = new_tables(r6, 3);
	set_ip(k.src, "2001:db8:45::ff");  EXPECT(t, k, 5);
	set_ip(k.src, "2001:db8:45::");    EXPECT(t, k, 5);
	set_ip(k.src, "2001:db8:45::100"); EXPECT(t, k, 0);
	set_ip(k.src, "2001:db8:1:2:3:4:5:6"); EXPECT(t, k, 6);
	set_ip(k.src, "2001:db8:1:2:3:4:5:7"); EXPECT(t, k, 7);
	set_ip(k.src, "2001:db8:1:2:3:4:8005:6"); EXPECT(t, k, 0);
	set_ip(k.src, "2001:db8:1:2:3:4:7fff:ffff"); EXPECT(t, k, 7);
	set_ip(k.src, "2001:db8:1:2:3:4:8000::"); EXPECT(t, k, 0);
	/* one bit off in each of the four words */
	set_ip(k.src, "2001:db9:1:2:3:4:5:6"); EXPECT(t, k, 0);
	set_ip(k.src, "2001:db8:1:3:3:4:5:6"); EXPECT(t, k, 0);
	set_ip(k.src, "2001:db8:1:2:3:5:5:6"); EXPECT(t, k, 0);
	set_ip(k.src, "::"); set_ip(k.dst, "2001:db8:1:2:3:4:5:6"); EXPECT(t, k, 0);
	free_tables(t);
}

static void classify__matches_dst_prefix_both_families(void **state)
{
	(void)state;
	const char *r4[] = { "rule add 5 dst 10.200.0.0/16 action drop",
			     "rule add 6 dst 0.0.0.0/1 action drop" };
	const char *r6[] = { "rule add 5 dst 2001:db8:200::/48 action drop",
			     "rule add 6 dst 2001:db8:200:0:1::/80 action drop" };
	struct es_tables *t;
	struct tkey k = base_key(0);

	t = new_tables(r4, 2);
	set_ip(k.dst, "10.200.255.255"); EXPECT(t, k, 5);
	set_ip(k.dst, "10.201.0.0");     EXPECT(t, k, 6);
	set_ip(k.dst, "127.255.255.255"); EXPECT(t, k, 6);
	set_ip(k.dst, "128.0.0.0");      EXPECT(t, k, 0);
	free_tables(t);

	k = base_key(1);
	t = new_tables(r6, 2);
	set_ip(k.dst, "2001:db8:200:0:1::9"); EXPECT(t, k, 5);
	set_ip(k.dst, "2001:db8:200:ffff::"); EXPECT(t, k, 5);
	set_ip(k.dst, "2001:db8:201::");      EXPECT(t, k, 0);
	set_ip(k.src, "2001:db8:200::1"); set_ip(k.dst, "::1"); EXPECT(t, k, 0);
	free_tables(t);

	/* only the prio-6 rule: /80 is checked into the third word */
	{
		const char *one[] = { r6[1] };
		t = new_tables(one, 1);
		k = base_key(1);
		set_ip(k.dst, "2001:db8:200:0:1:ffff::"); EXPECT(t, k, 6);
		set_ip(k.dst, "2001:db8:200:0:2::");      EXPECT(t, k, 0);
		set_ip(k.dst, "2001:db8:200:0:0:ffff::"); EXPECT(t, k, 0);
		free_tables(t);
	}
}

/* ---- families ---- */

static void classify__v4_rules_never_match_v6_keys_and_vice_versa(void **state)
{
	(void)state;
	const char *r4[] = { "rule add 5 src 0.0.0.0/0 action drop" };
	const char *r6[] = { "rule add 6 dst ::/0 action drop" };
	struct es_tables *t4 = new_tables(r4, 1), *t6 = new_tables(r6, 1);
	struct tkey k4 = base_key(0), k6 = base_key(1);
	/* uplink rules (the default direction): no downlink context */
	assert_non_null(t4->acl.c[0][0]);
	assert_null(t4->acl.c[1][0]);
	assert_null(t6->acl.c[0][0]);
	assert_non_null(t6->acl.c[1][0]);
	for (int v6 = 0; v6 < 2; v6++) {
		assert_null(t4->acl.c[v6][1]);
		assert_null(t6->acl.c[v6][1]);
	}
	EXPECT(t4, k4, 5);
	EXPECT(t4, k6, 0);
	EXPECT(t6, k4, 0);
	EXPECT(t6, k6, 6);
	/* a v6 key whose first four bytes would match a v4 rule */
	{
		const char *r[] = { "rule add 7 src 32.1.13.184/32 action drop" };
		struct es_tables *t = new_tables(r, 1);
		struct tkey k = base_key(1);
		set_ip(k.src, "2001:db8::1");   /* 0x20010db8 = 32.1.13.184 */
		EXPECT(t, k, 0);
		free_tables(t);
	}
	free_tables(t4);
	free_tables(t6);
}

static void classify__rule_without_address_matches_both_families(void **state)
{
	(void)state;
	const char *r[] = { "rule add 5 proto udp dport 2000 action drop",
			    "rule add 3 src 10.45.0.0/16 action drop",
			    "rule add 4 src 2001:db8:45::/48 action drop" };
	struct es_tables *t = new_tables(r, 3);
	struct tkey k;
	assert_non_null(t->acl.c[0][0]);
	assert_non_null(t->acl.c[1][0]);
	k = base_key(0); EXPECT(t, k, 3);
	k = base_key(1); EXPECT(t, k, 4);
	k = base_key(0); set_ip(k.src, "10.46.0.1"); EXPECT(t, k, 5);
	k = base_key(1); set_ip(k.src, "2001:db8:46::1"); EXPECT(t, k, 5);
	k = base_key(1); set_ip(k.src, "2001:db8:46::1"); k.dp = 2001; EXPECT(t, k, 0);
	free_tables(t);
}

/* ---- priority ---- */

static void classify__lower_priority_number_wins(void **state)
{
	(void)state;
	const char *fwd[] = { "rule add 10 dport 2000 action drop",
			      "rule add 20 proto udp action drop",
			      "rule add 30 action drop" };
	const char *rev[] = { fwd[2], fwd[1], fwd[0] };
	const char *mix[] = { fwd[1], fwd[2], fwd[0] };
	const char *const *orders[] = { fwd, rev, mix };
	for (int o = 0; o < 3; o++) {
		struct es_tables *t = new_tables(orders[o], 3);
		/* build sorted the rules by prio */
		assert_int_equal(t->rule_defs[0].prio, 10);
		assert_int_equal(t->rule_defs[1].prio, 20);
		assert_int_equal(t->rule_defs[2].prio, 30);
		for (int v6 = 0; v6 <= 1; v6++) {
			struct tkey k = base_key(v6);
			assert_int_equal(acl_lookup(t, &k), 1);
			EXPECT(t, k, 10);
			k.dp = 2001; EXPECT(t, k, 20);
			k.proto = 6; EXPECT(t, k, 30);
			k.dp = 2000; EXPECT(t, k, 10);
			k.dir = ES_DIR_DL; EXPECT(t, k, 0);
		}
		free_tables(t);
	}
}

static void classify__priority_extremes_are_ordered(void **state)
{
	(void)state;
	/* 0 and the largest prio the grammar takes (0x1fffffff - 1) */
	const char *both[] = { "rule add 536870910 action drop",
			       "rule add 0 proto udp action drop",
			       "rule add 536870909 action drop" };
	const char *big[] = { "rule add 536870910 action drop" };
	struct es_tables *t = new_tables(both, 3), *tb = new_tables(big, 1);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct tkey k = base_key(v6);
		/* prio 0 matches: result is rule 1 (prio 0 reads as "none"
		 * in EXPECT, so check the index too) */
		EXPECT(t, k, 0);
		assert_int_equal(acl_lookup(t, &k), 1);
		assert_int_equal(ref_lookup(t, &k), 1);
		k.proto = 6;
		EXPECT(t, k, 536870909);
		EXPECT(tb, k, 536870910);
	}
	free_tables(t);
	free_tables(tb);
}

static void classify__no_rules_gives_no_context_and_zero(void **state)
{
	(void)state;
	struct es_tables *t = new_tables(NULL, 0);
	struct tkey k4 = base_key(0), k6 = base_key(1);
	uint32_t res[4] = { 7, 7, 7, 7 };
	union akey keys[3];
	const uint8_t *p[3];
	for (int v6 = 0; v6 < 2; v6++)
		for (int dl = 0; dl < 2; dl++)
			assert_null(t->acl.c[v6][dl]);
	assert_int_equal(acl_lookup(t, &k4), 0);
	assert_int_equal(acl_lookup(t, &k6), 0);
	for (int i = 0; i < 3; i++) {
		make_key(&k4, &keys[i]);
		p[i] = (const uint8_t *)&keys[i];
	}
	es_classify(NULL, p, res, 3);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(res[2], 0);
	assert_int_equal(res[3], 7);   /* nothing past n */
	res[0] = 7;
	es_classify(NULL, p, res, 0);  /* n = 0 writes nothing */
	assert_int_equal(res[0], 7);
	free_tables(t);
}

/* ---- randomized against the reference ---- */






#define APPEND(...) (o += (size_t)snprintf(line + o, sizeof(line) - o, __VA_ARGS__))

static char **rand_rules(unsigned int n)
{
	char **lines = calloc(n, sizeof(*lines));
	uint8_t *used = calloc(4096, 1);
	assert_non_null(lines);
	assert_non_null(used);
	for (unsigned int i = 0; i < n; i++) {
		char line[512], pfx[64], rng[32];
		size_t o = 0;
		unsigned int prio;
		int fam = (int)rnd(3);   /* 0: v4, 1: v6, 2: no address */
		int dl = rnd(3) == 0;
		do
			prio = rnd(4096);
		while (used[prio]);
		used[prio] = 1;
		APPEND("rule add %u", prio);
		if (dl)
			APPEND(" dir dl");
		else if (rnd(2))
			APPEND(" dir ul");
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
		/* a rule without an address takes at least two other
		 * fields, so that catch-all rules stay rare */
		for (int need = fam == 2 ? 2 : 0, got = 0; got == 0 || got < need;) {
			if (rnd(4) == 0) {
				APPEND(" proto %u", proto_space[rnd(sizeof(proto_space))]);
				got++;
			}
			if (rnd(4) == 0) {
				rand_range(rng, sizeof(rng));
				APPEND(" sport %s", rng);
				got++;
			}
			if (rnd(4) == 0) {
				rand_range(rng, sizeof(rng));
				APPEND(" dport %s", rng);
				got++;
			}
			if (!dl && rnd(5) == 0) {
				APPEND(" qfi %u", rnd(4));
				got++;
			}
			if (rnd(5) == 0) {
				APPEND(" dscp %u", rnd(4));
				got++;
			}
			if (!dl && rnd(6) == 0) {
				APPEND(" teid %u", teid_space[rnd(5)]);
				got++;
			}
			if (need == 0)
				break;
		}
		APPEND(" action drop");
		lines[i] = strdup(line);
		assert_non_null(lines[i]);
	}
	free(used);
	return lines;
}

static void free_lines(char **lines, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

#define N_RAND_RULES 200
#define N_RAND_KEYS  2000

static void classify__random_rules_agree_with_reference(void **state)
{
	(void)state;
	unsigned int matched = 0, unmatched = 0, hits[N_RAND_RULES + 1];
	unsigned int distinct = 0;
	char **lines;
	struct es_tables *t;

	srand(20221122);
	lines = rand_rules(N_RAND_RULES);
	t = new_tables((const char *const *)lines, N_RAND_RULES);
	memset(hits, 0, sizeof(hits));
	for (uint32_t i = 1; i < t->n_rules; i++)
		assert_true(t->rule_defs[i - 1].prio < t->rule_defs[i].prio);
	for (unsigned int i = 0; i < N_RAND_KEYS; i++) {
		struct tkey k;
		uint32_t got, want;
		rand_key(&k, (int)(i & 1));
		got = acl_lookup(t, &k);
		want = ref_lookup(t, &k);
		if (got != want) {
			char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
			inet_ntop(k.v6 ? AF_INET6 : AF_INET, k.src, s, sizeof(s));
			inet_ntop(k.v6 ? AF_INET6 : AF_INET, k.dst, d, sizeof(d));
			fail_msg("key %u (dir %u %s -> %s proto %u %u -> %u qfi %u "
				 "dscp %u teid %#x): acl rule prio %u, reference %u",
				 i, k.dir, s, d, k.proto, k.sp, k.dp, k.qfi, k.dscp,
				 k.teid, prio_of(t, got), prio_of(t, want));
		}
		if (got) {
			matched++;
			if (hits[got]++ == 0)
				distinct++;
		} else {
			unmatched++;
		}
	}
	/* the spaces are small enough for the comparison to mean something */
	assert_true(matched > N_RAND_KEYS / 10);
	assert_true(unmatched > N_RAND_KEYS / 20);
	assert_true(distinct > 20);
	free_tables(t);
	free_lines(lines, N_RAND_RULES);
}

static void classify__bursts_of_every_size_agree_with_single_lookups(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32 };
	char **lines;
	struct es_tables *t;

	srand(38415);
	lines = rand_rules(64);
	t = new_tables((const char *const *)lines, 64);
	for (int v6 = 0; v6 <= 1; v6++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			for (int round = 0; round < 8; round++) {
				uint32_t n = sizes[s];
				struct tkey k[33];
				union akey ak[33];
				const uint8_t *p[33];
				uint32_t res[33];
				for (uint32_t i = 0; i < 33; i++) {
					rand_key(&k[i], v6);
					make_key(&k[i], &ak[i]);
					p[i] = (const uint8_t *)&ak[i];
					res[i] = 0xdeadbeef;
				}
				/* keys of both directions: split per context */
				es_classify_rules(t, v6, p, res, n);
				for (uint32_t i = 0; i < n; i++) {
					uint32_t want = ref_lookup(t, &k[i]);
					if (res[i] != want || acl_lookup(t, &k[i]) != want)
						fail_msg("v6 %d burst %u key %u: got %u, want %u",
							 v6, n, i, res[i], want);
				}
				for (uint32_t i = n; i < 33; i++)
					assert_int_equal(res[i], 0xdeadbeef);
			}
		}
	}
	free_tables(t);
	free_lines(lines, 64);
}

/* Every rte_acl method (SIMD width) this CPU runs gives the reference's
 * answers in full bursts; a width is refused only where the CPU lacks it. */
static void classify__every_simd_width_agrees_with_the_reference(void **state)
{
	(void)state;
	const int avx512 = rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512F) > 0 &&
			   rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512BW) > 0 &&
			   rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512VL) > 0 &&
			   rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512CD) > 0;
	const struct {
		uint32_t bits;
		const char *name;
		int cpu;                 /* does this CPU have it */
	} w[] = {
		{ 0, "scalar", 1 },
		{ 128, "sse", 1 },       /* every x86-64 DPDK runs on */
		{ 256, "avx2", rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX2) > 0 },
		{ 512, "avx512x32", avx512 },
	};
	char err[ES_ERR_MAX];
	char **lines;
	unsigned int ran = 0, matched = 0;

	srand(5121);
	lines = rand_rules(N_RAND_RULES);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct es_tables *t;
		int rc = es_acl_setup(w[i].bits, err);
		if (!w[i].cpu) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, "does not run it"));
			continue;
		}
		if (rc != 0)
			fail_msg("acl-simd %u: %s", w[i].bits, err);
		assert_string_equal(es_acl_method(), w[i].name);
		t = new_tables((const char *const *)lines, N_RAND_RULES);
		for (int round = 0; round < 64; round++) {
			struct tkey k[ES_BURST];
			union akey ak[ES_BURST];
			const uint8_t *p[ES_BURST];
			uint32_t res[ES_BURST];
			int v6 = round & 1;
			for (uint32_t j = 0; j < ES_BURST; j++) {
				rand_key(&k[j], v6);
				make_key(&k[j], &ak[j]);
				p[j] = (const uint8_t *)&ak[j];
			}
			es_classify_rules(t, v6, p, res, ES_BURST);
			for (uint32_t j = 0; j < ES_BURST; j++) {
				uint32_t want = ref_lookup(t, &k[j]);
				if (res[j] != want)
					fail_msg("%s: round %d key %u: got %u, want %u",
						 w[i].name, round, j, res[j], want);
				matched += want != 0;
			}
		}
		free_tables(t);
		ran++;
	}
	assert_true(ran >= 2);
	assert_true(matched > 100);   /* the keys hit rules, not only misses */
	assert_int_equal(es_acl_setup(ES_ACL_SIMD_AUTO, err), 0);
	free_lines(lines, N_RAND_RULES);
}

/* No width set: every method that runs is timed on the probe and the
 * fastest is used; a width set by hand is not measured. */
static void classify__acl_auto_takes_the_fastest_measured(void **state)
{
	(void)state;
	char err[ES_ERR_MAX], buf[256], name[32];
	const char *p;
	double best = -1, c;
	char best_name[32] = "";
	int n, seen = 0, off;

	assert_int_equal(es_acl_setup(ES_ACL_SIMD_AUTO, err), 0);
	n = es_acl_probe(buf, sizeof(buf), 0);
	assert_true(n >= 2);                 /* scalar and SSE run everywhere */
	assert_non_null(strstr(buf, "scalar "));
	assert_non_null(strstr(buf, "sse "));
	if (rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX2) > 0)
		assert_non_null(strstr(buf, "avx2 "));
	for (p = buf; sscanf(p, "%31s %lf%n", name, &c, &off) == 2; seen++) {
		assert_true(c > 0 && c < 100000);
		if (best < 0 || c < best) {
			best = c;
			snprintf(best_name, sizeof(best_name), "%s", name);
		}
		p += off;
		if (*p == ',')
			p++;
	}
	assert_int_equal(seen, n);
	assert_string_equal(es_acl_method(), best_name);
	/* the same figures as a JSON object's members */
	assert_int_equal(es_acl_probe(buf, sizeof(buf), 1), n);
	assert_non_null(strstr(buf, "\"scalar\": "));
	/* set by width: that method, nothing measured */
	assert_int_equal(es_acl_setup(0, err), 0);
	assert_string_equal(es_acl_method(), "scalar");
	assert_int_equal(es_acl_probe(buf, sizeof(buf), 0), 0);
	assert_string_equal(buf, "");
	assert_int_equal(es_acl_setup(ES_ACL_SIMD_AUTO, err), 0);
}

static void classify__acl_simd_refuses_other_widths(void **state)
{
	(void)state;
	char err[ES_ERR_MAX];
	const char *before;
	assert_int_equal(es_acl_setup(ES_ACL_SIMD_AUTO, err), 0);
	before = es_acl_method();
	assert_int_equal(es_acl_setup(64, err), -1);
	assert_string_equal(err, "set acl-simd 64: one of 0 (scalar), 128 (SSE4.1), 256 (AVX2), 512 (AVX-512)");
	assert_string_equal(es_acl_method(), before);   /* unchanged */
}

/* A rule of no direction (ES_DIR_ANY: the grammar never makes one, a
 * built rule may) matches both directions, in the base (both contexts)
 * and in the delta's key mask, as the reference matcher says. */
static void classify__a_rule_of_no_direction_matches_both(void **state)
{
	(void)state;
	const char *r[] = { "rule add 5 dst 10.200.0.0/16 action drop" };
	struct es_tables *t = calloc(1, sizeof(*t));
	char err[ES_ERR_MAX];
	struct es_cmd c;
	uint64_t val[7], msk[7];
	int ranges;
	assert_non_null(t);
	t->max_rules = 1;
	t->rules = calloc(1, sizeof(*t->rules));
	t->rule_defs = calloc(1, sizeof(*t->rule_defs));
	assert_non_null(t->rules);
	assert_non_null(t->rule_defs);
	assert_int_equal(es_cmd_parse(r[0], &c, err), 1);
	c.u.rule.dir = ES_DIR_ANY;
	t->rule_defs[t->n_rules++] = c.u.rule;
	assert_int_equal(es_classify_build(t, err), 0);
	assert_non_null(t->acl.c[0][0]);
	assert_non_null(t->acl.c[0][1]);
	for (int dl = 0; dl < 2; dl++) {
		struct tkey k = base_key(0);
		k.dir = dl ? ES_DIR_DL : ES_DIR_UL;
		set_ip(k.dst, "10.200.7.7");
		assert_int_equal(acl_lookup(t, &k), 1);
		assert_int_equal(ref_lookup(t, &k), 1);
	}
	es_rule_key(&t->rule_defs[0], 0, val, msk, &ranges);
	assert_int_equal(((const uint8_t *)msk)[offsetof(struct es_key4, dir)], 0);
	t->rule_defs[0].dir = ES_DIR_UL;
	es_rule_key(&t->rule_defs[0], 0, val, msk, &ranges);
	assert_int_equal(((const uint8_t *)msk)[offsetof(struct es_key4, dir)], 0xff);
	free_tables(t);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify__matches_dst_prefix),
		cmocka_unit_test(classify__matches_proto_alone),
		cmocka_unit_test(classify__sport_range_is_inclusive_at_both_edges),
		cmocka_unit_test(classify__dport_range_is_inclusive_at_both_edges),
		cmocka_unit_test(classify__matches_qfi_alone),
		cmocka_unit_test(classify__matches_dscp_alone),
		cmocka_unit_test(classify__matches_teid_alone),
		cmocka_unit_test(classify__dir_separates_uplink_from_downlink),
		cmocka_unit_test(classify__ue_is_inner_src_uplink_and_inner_dst_downlink),
		cmocka_unit_test(classify__ue6_prefix_matches_the_64_bit_ue_key),
		cmocka_unit_test(classify__matches_src_prefix),
		cmocka_unit_test(classify__matches_dst_prefix_both_families),
		cmocka_unit_test(classify__v4_rules_never_match_v6_keys_and_vice_versa),
		cmocka_unit_test(classify__rule_without_address_matches_both_families),
		cmocka_unit_test(classify__lower_priority_number_wins),
		cmocka_unit_test(classify__priority_extremes_are_ordered),
		cmocka_unit_test(classify__no_rules_gives_no_context_and_zero),
		cmocka_unit_test(classify__random_rules_agree_with_reference),
		cmocka_unit_test(classify__bursts_of_every_size_agree_with_single_lookups),
		cmocka_unit_test(classify__every_simd_width_agrees_with_the_reference),
		cmocka_unit_test(classify__acl_auto_takes_the_fastest_measured),
		cmocka_unit_test(classify__acl_simd_refuses_other_widths),
		cmocka_unit_test(classify__a_rule_of_no_direction_matches_both),
	};
	(void)argc;
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
