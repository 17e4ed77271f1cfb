/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command grammar (control/cmd.c): every object and verb parsed with
 * all its fields, the defaults, both orders of show, every class of error
 * (each a -1 with a one-line message quoting the offending word), the
 * value parsers, and the formatter (es_cmd_fields, es_cmd_format) whose
 * line parses back to the same command.
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
#include "cmd.h"

#define T(name) static void name(void **state_ __attribute__((unused)))

/* ---- helpers ---- */

static struct es_cmd parse_ok(const char *line)
{
	struct es_cmd c;
	char err[ES_ERR_MAX];
	int rc = es_cmd_parse(line, &c, err);
	if (rc != 1)
		fail_msg("\"%s\": rc %d, want 1 (err \"%s\")", line, rc, err);
	return c;
}

/* -1 with a non-empty one-line message containing want (a quoted word). */
static void expect_err(const char *line, const char *want)
{
	struct es_cmd c;
	char err[ES_ERR_MAX];
	int rc;

	memset(err, 'Z', sizeof(err));
	err[ES_ERR_MAX - 1] = '\0';
	rc = es_cmd_parse(line, &c, err);
	if (rc != -1)
		fail_msg("\"%s\": rc %d, want -1", line, rc);
	if (err[0] == '\0' || strchr(err, '\n') != NULL ||
	    strlen(err) >= ES_ERR_MAX)
		fail_msg("\"%s\": error \"%s\" is not one non-empty line", line,
			 err);
	if (strchr(err, 'Z') == err)
		fail_msg("\"%s\": error message not written", line);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": error \"%s\" does not contain \"%s\"", line,
			 err, want);
}

static void assert_addr(const struct es_addr *a, const char *text,
			unsigned plen)
{
	uint8_t want[16] = { 0 };
	int v6 = strchr(text, ':') != NULL;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, want), 1);
	assert_int_equal(a->v6, v6);
	assert_int_equal(a->plen, plen);
	assert_memory_equal(a->a, want, v6 ? 16 : 4);
}

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab, 0xcd };

/* ================= objects ================= */

T(cmd_set__parses_key_and_value)
{
	struct es_cmd c = parse_ok("set mbuf-pool-size 65536");
	assert_int_equal(c.obj, ES_OBJ_SET);
	assert_int_equal(c.verb, ES_VERB_SET);
	assert_string_equal(c.u.set.key, "mbuf-pool-size");
	assert_int_equal(c.u.set.value, 65536);

	c = parse_ok("set x 4294967295");
	assert_int_equal(c.u.set.value, 4294967295u);
	c = parse_ok("set x 0");
	assert_int_equal(c.u.set.value, 0);
}

T(cmd_port__parses_every_field)
{
	struct es_cmd c = parse_ok(
		"port add n3 dev 0000:3b:00.0 role access addr 192.0.2.2/24 "
		"addr 2001:db8:1::2/64 gw 192.0.2.1 gw6 2001:db8:1::1 "
		"mtu 9000 mac 02:00:5e:10:ab:cd");
	struct es_cmd_port *p = &c.u.port;

	assert_int_equal(c.obj, ES_OBJ_PORT);
	assert_int_equal(c.verb, ES_VERB_ADD);
	assert_string_equal(p->name, "n3");
	assert_string_equal(p->dev, "0000:3b:00.0");
	assert_int_equal(p->role, ES_ROLE_ACCESS);
	assert_int_equal(p->n_addr, 2);
	assert_addr(&p->addr[0], "192.0.2.2", 24);
	assert_addr(&p->addr[1], "2001:db8:1::2", 64);
	assert_int_equal(p->has_gw4, 1);
	assert_addr(&p->gw4, "192.0.2.1", 32);
	assert_int_equal(p->has_gw6, 1);
	assert_addr(&p->gw6, "2001:db8:1::1", 128);
	assert_int_equal(p->mtu, 9000);
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->mac, MAC_A, 6);
}

T(cmd_port__keeps_host_bits_of_an_address_and_has_defaults)
{
	struct es_cmd c = parse_ok("port add up0 dev net_tap0,iface=up0 role core "
				   "addr 10.0.0.1/8 addr 10.0.0.9");
	struct es_cmd_port *p = &c.u.port;

	assert_string_equal(p->dev, "net_tap0,iface=up0");
	assert_int_equal(p->role, ES_ROLE_CORE);
	assert_int_equal(p->n_addr, 2);
	assert_addr(&p->addr[0], "10.0.0.1", 8);
	assert_addr(&p->addr[1], "10.0.0.9", 32);
	assert_int_equal(p->has_gw4, 0);
	assert_int_equal(p->has_gw6, 0);
	assert_int_equal(p->has_mac, 0);
	assert_int_equal(p->mtu, 0);

	c = parse_ok("port add l dev x role local addr 1.2.3.4/32 addr 1.2.3.5/32 "
		     "addr 1.2.3.6/32 addr ::1/128 mtu 576");
	assert_int_equal(c.u.port.role, ES_ROLE_LOCAL);
	assert_int_equal(c.u.port.n_addr, ES_PORT_ADDRS);
	assert_int_equal(c.u.port.mtu, 576);
	c = parse_ok("port add l dev x role local addr 1.2.3.4/0 mtu 9600");
	assert_int_equal(c.u.port.addr[0].plen, 0);
	assert_int_equal(c.u.port.mtu, 9600);
}

T(cmd_neigh__parses_every_field)
{
	struct es_cmd c = parse_ok("neigh add 192.0.2.1 lladdr 02:00:5E:10:AB:cd port n3");
	assert_int_equal(c.obj, ES_OBJ_NEIGH);
	assert_int_equal(c.verb, ES_VERB_ADD);
	assert_addr(&c.u.neigh.addr, "192.0.2.1", 32);
	assert_memory_equal(c.u.neigh.mac, MAC_A, 6);
	assert_string_equal(c.u.neigh.port, "n3");

	c = parse_ok("neigh add fe80::1 port n6 lladdr 02:00:5e:10:ab:cd");
	assert_addr(&c.u.neigh.addr, "fe80::1", 128);
	assert_string_equal(c.u.neigh.port, "n6");
	assert_memory_equal(c.u.neigh.mac, MAC_A, 6);
}

T(cmd_app__parses_every_field)
{
	struct es_cmd c = parse_ok("app add video-cache via 10.1.0.5 state down");
	assert_int_equal(c.obj, ES_OBJ_APP);
	assert_int_equal(c.verb, ES_VERB_ADD);
	assert_string_equal(c.u.app.name, "video-cache");
	assert_addr(&c.u.app.via, "10.1.0.5", 32);
	assert_int_equal(c.u.app.down, 1);

	c = parse_ok("app add ids via 2001:db8::5");
	assert_addr(&c.u.app.via, "2001:db8::5", 128);
	assert_int_equal(c.u.app.down, 0);
	c = parse_ok("app add ids via 10.1.0.6 state down state up");
	assert_int_equal(c.u.app.down, 0);
}

T(cmd_session__parses_every_field)
{
	struct es_cmd c = parse_ok(
		"session add 42 ue 10.45.0.7 ue6 2001:db8:aa:1::/64 ul-teid 4097 "
		"gnb 192.0.2.10 gnb-teid 7 cloud 198.51.100.1 cloud-teid 9 "
		"n9-teid 11 qfi 9");
	struct es_cmd_session *s = &c.u.session;

	assert_int_equal(c.obj, ES_OBJ_SESSION);
	assert_int_equal(c.verb, ES_VERB_ADD);
	assert_int_equal(s->id, 42);
	assert_int_equal(s->has_ue4, 1);
	assert_addr(&s->ue4, "10.45.0.7", 32);
	assert_int_equal(s->has_ue6, 1);
	assert_addr(&s->ue6, "2001:db8:aa:1::", 64);
	assert_int_equal(s->ul_teid, 4097);
	assert_addr(&s->gnb, "192.0.2.10", 32);
	assert_int_equal(s->gnb_teid, 7);
	assert_int_equal(s->has_cloud, 1);
	assert_addr(&s->cloud, "198.51.100.1", 32);
	assert_int_equal(s->cloud_teid, 9);
	assert_int_equal(s->has_n9, 1);
	assert_int_equal(s->n9_teid, 11);
	assert_int_equal(s->qfi, 9);
}

T(cmd_session__minimal_session_has_no_optional_parts)
{
	struct es_cmd c = parse_ok("session add 4294967295 ue6 2001:db8::/64 "
				   "ul-teid 4294967295 gnb 2001:db8:ff::1 gnb-teid 0");
	struct es_cmd_session *s = &c.u.session;

	assert_int_equal(s->id, 4294967295u);
	assert_int_equal(s->has_ue4, 0);
	assert_int_equal(s->has_ue6, 1);
	assert_int_equal(s->ul_teid, 4294967295u);
	assert_addr(&s->gnb, "2001:db8:ff::1", 128);
	assert_int_equal(s->gnb_teid, 0);
	assert_int_equal(s->has_cloud, 0);
	assert_int_equal(s->has_n9, 0);
	assert_int_equal(s->qfi, 0);
}

T(cmd_rule__parses_every_field)
{
	struct es_cmd c = parse_ok(
		"rule add 100 dir ul ue 10.45.0.0/16 src 10.45.0.0/24 "
		"dst 198.51.100.0/24 proto udp sport 1000-2000 dport 443 qfi 9 "
		"dscp 46 teid 4097 action mirror ids then local video "
		"fallback drop");
	struct es_cmd_rule *r = &c.u.rule;

	assert_int_equal(c.obj, ES_OBJ_RULE);
	assert_int_equal(c.verb, ES_VERB_ADD);
	assert_int_equal(r->prio, 100);
	assert_int_equal(r->dir, ES_DIR_UL);
	assert_int_equal(r->has_ue, 1);
	assert_addr(&r->ue, "10.45.0.0", 16);
	assert_int_equal(r->has_src, 1);
	assert_addr(&r->src, "10.45.0.0", 24);
	assert_int_equal(r->has_dst, 1);
	assert_addr(&r->dst, "198.51.100.0", 24);
	assert_int_equal(r->has_proto, 1);
	assert_int_equal(r->proto, 17);
	assert_int_equal(r->sport_lo, 1000);
	assert_int_equal(r->sport_hi, 2000);
	assert_int_equal(r->dport_lo, 443);
	assert_int_equal(r->dport_hi, 443);
	assert_int_equal(r->has_qfi, 1);
	assert_int_equal(r->qfi, 9);
	assert_int_equal(r->has_dscp, 1);
	assert_int_equal(r->dscp, 46);
	assert_int_equal(r->has_teid, 1);
	assert_int_equal(r->teid, 4097);
	assert_int_equal(r->action, ES_ACT_MIRROR);
	assert_string_equal(r->app, "ids");
	assert_int_equal(r->then_action, ES_ACT_LOCAL);
	assert_string_equal(r->then_app, "video");
	assert_int_equal(r->fallback, ES_ACT_DROP);
}

T(cmd_rule__defaults_are_dir_ul_any_ports_fallback_cloud)
{
	struct es_cmd c = parse_ok("rule add 5 action cloud");
	struct es_cmd_rule *r = &c.u.rule;

	assert_int_equal(r->prio, 5);
	assert_int_equal(r->dir, ES_DIR_UL);
	assert_int_equal(r->has_ue + r->has_src + r->has_dst + r->has_proto +
			 r->has_qfi + r->has_dscp + r->has_teid, 0);
	assert_int_equal(r->sport_lo, 0);
	assert_int_equal(r->sport_hi, 65535);
	assert_int_equal(r->dport_lo, 0);
	assert_int_equal(r->dport_hi, 65535);
	assert_int_equal(r->action, ES_ACT_CLOUD);
	assert_int_equal(r->then_action, ES_ACT_NONE);
	assert_int_equal(r->fallback, ES_ACT_CLOUD);
	assert_string_equal(r->app, "");
}

T(cmd_rule__mirror_gets_then_forward_by_default)
{
	struct es_cmd c = parse_ok("rule add 7 action mirror ids");
	assert_int_equal(c.u.rule.action, ES_ACT_MIRROR);
	assert_string_equal(c.u.rule.app, "ids");
	assert_int_equal(c.u.rule.then_action, ES_ACT_FORWARD);
	assert_string_equal(c.u.rule.then_app, "");

	c = parse_ok("rule add 7 action mirror ids then drop");
	assert_int_equal(c.u.rule.then_action, ES_ACT_DROP);
	c = parse_ok("rule add 7 action mirror ids then cloud");
	assert_int_equal(c.u.rule.then_action, ES_ACT_CLOUD);
	c = parse_ok("rule add 7 then forward action mirror ids");
	assert_int_equal(c.u.rule.then_action, ES_ACT_FORWARD);
}

T(cmd_rule__each_action)
{
	struct es_cmd c = parse_ok("rule add 1 action local video");
	assert_int_equal(c.u.rule.action, ES_ACT_LOCAL);
	assert_string_equal(c.u.rule.app, "video");
	c = parse_ok("rule add 1 action drop");
	assert_int_equal(c.u.rule.action, ES_ACT_DROP);
	c = parse_ok("rule add 1 action forward");
	assert_int_equal(c.u.rule.action, ES_ACT_FORWARD);
	c = parse_ok("rule add 1 action cloud fallback cloud");
	assert_int_equal(c.u.rule.fallback, ES_ACT_CLOUD);
}

T(cmd_rule__dl_rule_takes_forward_or_drop)
{
	struct es_cmd c = parse_ok("rule add 3 dir dl dst 10.45.0.0/16 "
				   "sport 53 proto udp action drop");
	assert_int_equal(c.u.rule.dir, ES_DIR_DL);
	assert_int_equal(c.u.rule.action, ES_ACT_DROP);
	assert_int_equal(c.u.rule.sport_lo, 53);
	assert_int_equal(c.u.rule.sport_hi, 53);
	c = parse_ok("rule add 3 dir dl action forward");
	assert_int_equal(c.u.rule.action, ES_ACT_FORWARD);
}

T(cmd_rule__proto_by_name_or_number)
{
	static const struct { const char *w; uint8_t n; } p[] = {
		{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmp6", 58 },
		{ "sctp", 132 }, { "47", 47 }, { "0", 0 }, { "255", 255 },
	};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		char line[128];
		struct es_cmd c;
		snprintf(line, sizeof(line), "rule add 1 proto %s action drop",
			 p[i].w);
		c = parse_ok(line);
		assert_int_equal(c.u.rule.has_proto, 1);
		assert_int_equal(c.u.rule.proto, p[i].n);
	}
}

T(cmd_rule__ipv6_prefixes_and_port_range_edges)
{
	struct es_cmd c = parse_ok("rule add 536870910 ue 2001:db8:aa::/48 "
				   "dst 2001:db8::/32 sport 0-65535 dport 0 "
				   "action drop");
	struct es_cmd_rule *r = &c.u.rule;

	assert_int_equal(r->prio, 536870910);
	assert_addr(&r->ue, "2001:db8:aa::", 48);
	assert_addr(&r->dst, "2001:db8::", 32);
	assert_int_equal(r->sport_lo, 0);
	assert_int_equal(r->sport_hi, 65535);
	assert_int_equal(r->dport_lo, 0);
	assert_int_equal(r->dport_hi, 0);

	c = parse_ok("rule add 0 src 0.0.0.0/0 dport 7-7 action drop");
	assert_int_equal(c.u.rule.prio, 0);
	assert_int_equal(c.u.rule.src.plen, 0);
	assert_int_equal(c.u.rule.dport_lo, 7);
	assert_int_equal(c.u.rule.dport_hi, 7);
}

T(cmd__comment_and_blank_lines_return_0)
{
	static const char *const lines[] = {
		"", " ", "\t \t", "\n", "\r\n", "#", "# a comment",
		"   # indented comment", "#rule add 1 action drop",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct es_cmd c;
		char err[ES_ERR_MAX];
		int rc = es_cmd_parse(lines[i], &c, err);
		if (rc != 0)
			fail_msg("\"%s\": rc %d, want 0 (%s)", lines[i], rc, err);
	}
}

T(cmd__trailing_comment_and_tabs_and_crlf_are_blanks)
{
	struct es_cmd c = parse_ok("app\tadd  cache via 10.0.0.5 # the cache\r\n");
	assert_string_equal(c.u.app.name, "cache");
	assert_addr(&c.u.app.via, "10.0.0.5", 32);
	c = parse_ok("rule add 1 action drop#no blank before");
	assert_int_equal(c.u.rule.action, ES_ACT_DROP);
}

/* ================= errors ================= */

T(cmd__rejects_unknown_object)
{
	expect_err("sesion add 1", "'sesion'");
	expect_err("ports add p", "'ports'");
	expect_err("Rule add 1 action drop", "'Rule'");
}

T(cmd__rejects_unknown_verb)
{
	expect_err("port del n3", "'del'");
	expect_err("rule ad 1 action drop", "'ad'");
	expect_err("session remove 1", "'remove'");
	expect_err("neigh", "'neigh'");
	expect_err("app", "'app'");
}

T(cmd__rejects_unknown_keyword)
{
	expect_err("port add p dev x role access addr 1.2.3.4/24 speed 10",
		   "'speed'");
	expect_err("neigh add 1.2.3.4 mac 02:00:5e:10:ab:cd port p", "'mac'");
	expect_err("app add a via 1.2.3.4 colour red", "'colour'");
	expect_err("session add 1 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1 "
		   "gnb-teid 1 teid 5", "'teid'");
	expect_err("rule add 1 action drop prio 5", "'prio'");
	expect_err("set a 1 2", "'2'");
}

T(cmd__rejects_prefix_matched_keywords)
{
	expect_err("rule add 1 act drop", "'act'");
	expect_err("rule add 1 action drop fall cloud", "'fall'");
	expect_err("rule add 1 action drop d dl", "'d'");
	expect_err("ses add 1 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1 gnb-teid 1",
		   "'ses'");
	expect_err("session add 1 ue 10.0.0.1 ul 1 gnb 1.1.1.1 gnb-teid 1",
		   "'ul'");
	expect_err("port add p dev x role acc addr 1.2.3.4/24", "'acc'");
	expect_err("rule add 1 dir u action drop", "'u'");
	expect_err("rule add 1 action loc a", "'loc'");
	expect_err("rule add 1 action drop fallback cl", "'cl'");
	expect_err("rule add 1 proto tc action drop", "'tc'");
	expect_err("app add a via 1.2.3.4 state dow", "'dow'");
	expect_err("rule a 1 action drop", "'a'");
	expect_err("rul add 1 action drop", "'rul'");
}

T(cmd__rejects_missing_value)
{
	expect_err("rule add 1 action", "'action'");
	expect_err("rule add 1 action drop sport", "'sport'");
	expect_err("rule add 1 action drop then", "'then'");
	expect_err("rule add 1 action local", "'local'");
	expect_err("port add p dev", "'dev'");
	expect_err("port add p dev x role", "'role'");
	expect_err("session add 1 ue", "'ue'");
	expect_err("neigh add 1.2.3.4 lladdr", "'lladdr'");
	expect_err("app add a via", "'via'");
	expect_err("set key", "'key'");
	expect_err("set", "'set'");
	expect_err("rule add", "'rule add'");
	expect_err("session add", "'session add'");
	expect_err("neigh add", "'neigh add'");
	expect_err("port add", "'port add'");
}

T(cmd__rejects_bad_numbers)
{
	expect_err("set burst 12x", "'12x'");
	expect_err("set burst 99999999999999999999999", "'99999999999999999999999'");
	expect_err("set burst 4294967296", "'4294967296'");
	expect_err("set burst -1", "'-1'");
	expect_err("set burst +1", "'+1'");
	expect_err("rule add 1 qfi 64 action drop", "'64'");
	expect_err("rule add 1 dscp 64 action drop", "'64'");
	expect_err("rule add 1 teid 4294967296 action drop", "'4294967296'");
	expect_err("rule add 536870911 action drop", "'536870911'");
	expect_err("rule add x action drop", "'x'");
	expect_err("rule add 1 proto 256 action drop", "'256'");
	expect_err("session add 1 ue 10.0.0.1 ul-teid -1 gnb 1.1.1.1 gnb-teid 1",
		   "'-1'");
	expect_err("session add 1 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1 gnb-teid 1 "
		   "qfi 64", "'64'");
	expect_err("port add p dev x role access addr 1.2.3.4/24 mtu 9601",
		   "'9601'");
	expect_err("port add p dev x role access addr 1.2.3.4/24 mtu 575",
		   "575");
	expect_err("port add p dev x role access addr 1.2.3.4/24 mtu 1500b",
		   "'1500b'");
}

T(parse_u64__rejects_empty_junk_overflow_and_sign)
{
	uint64_t v = 77;

	assert_int_equal(es_parse_u64("", 100, &v), -1);
	assert_int_equal(es_parse_u64(NULL, 100, &v), -1);
	assert_int_equal(es_parse_u64("12x", 100, &v), -1);
	assert_int_equal(es_parse_u64("1 ", 100, &v), -1);
	assert_int_equal(es_parse_u64(" 1", 100, &v), -1);
	assert_int_equal(es_parse_u64("-1", UINT64_MAX, &v), -1);
	assert_int_equal(es_parse_u64("-0", UINT64_MAX, &v), -1);
	assert_int_equal(es_parse_u64("+1", UINT64_MAX, &v), -1);
	assert_int_equal(es_parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(es_parse_u64("101", 100, &v), -1);
	assert_int_equal(v, 77);       /* untouched on error */

	assert_int_equal(es_parse_u64("100", 100, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(es_parse_u64("0", 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(es_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

T(cmd__rejects_bad_addresses)
{
	expect_err("app add a via 300.1.1.1", "'300.1.1.1'");
	expect_err("app add a via example.com", "'example.com'");
	expect_err("app add a via 10.0.0.1/32", "'10.0.0.1/32'");
	expect_err("neigh add 1.2.3 lladdr 02:00:5e:10:ab:cd port p", "'1.2.3'");
	expect_err("neigh add 10.0.0.0/8 lladdr 02:00:5e:10:ab:cd port p",
		   "'10.0.0.0/8'");
	expect_err("session add 1 ue 10.0.0.1 ul-teid 1 gnb 2001:db8::g "
		   "gnb-teid 1", "'2001:db8::g'");
	expect_err("port add p dev x role access addr 10.0.0.1/33", "'10.0.0.1/33'");
	expect_err("port add p dev x role access addr 10.0.0.1/", "'10.0.0.1/'");
	expect_err("port add p dev x role access addr 2001:db8::1/129",
		   "'2001:db8::1/129'");
	expect_err("port add p dev x role access addr /24", "'/24'");
	expect_err("port add p dev x role access addr 1.2.3.4/24 gw 2001:db8::1",
		   "'gw'");
	expect_err("port add p dev x role access addr 1.2.3.4/24 gw6 1.2.3.1",
		   "'gw6'");
	expect_err("session add 1 ue 2001:db8::1 ul-teid 1 gnb 1.1.1.1 gnb-teid 1",
		   "'ue'");
	expect_err("session add 1 ue6 2001:db8::/48 ul-teid 1 gnb 1.1.1.1 "
		   "gnb-teid 1", "'ue6'");
	expect_err("session add 1 ue6 10.0.0.0/24 ul-teid 1 gnb 1.1.1.1 "
		   "gnb-teid 1", "'ue6'");
}

T(parse_addr__prefix_lengths_and_host_bits)
{
	struct es_addr a;

	assert_int_equal(es_parse_addr("10.0.0.0/8", 1, &a), 0);
	assert_addr(&a, "10.0.0.0", 8);
	assert_int_equal(es_parse_addr("10.0.0.1/8", 1, &a), -1);
	assert_int_equal(es_parse_addr("10.0.0.1/8", 2, &a), 0);
	assert_addr(&a, "10.0.0.1", 8);
	assert_int_equal(es_parse_addr("10.0.0.1/8", 0, &a), -1);
	assert_int_equal(es_parse_addr("10.0.0.1/32", 1, &a), 0);
	assert_int_equal(es_parse_addr("0.0.0.0/0", 1, &a), 0);
	assert_int_equal(a.plen, 0);
	assert_int_equal(es_parse_addr("10.0.0.0/08", 1, &a), -1);
	assert_int_equal(es_parse_addr("10.0.0.0/0x8", 1, &a), -1);
	assert_int_equal(es_parse_addr("10.0.0.0/+8", 1, &a), -1);
	assert_int_equal(es_parse_addr("10.0.0.0/-8", 1, &a), -1);
	assert_int_equal(es_parse_addr("10.0.0.0/33", 1, &a), -1);
	assert_int_equal(es_parse_addr("10.0.0.0/8/8", 1, &a), -1);
	assert_int_equal(es_parse_addr("2001:db8::/32", 1, &a), 0);
	assert_addr(&a, "2001:db8::", 32);
	assert_int_equal(es_parse_addr("2001:db8::1/127", 1, &a), -1);
	assert_int_equal(es_parse_addr("2001:db8::1/128", 1, &a), 0);
	assert_int_equal(es_parse_addr("2001:db8::1/127", 2, &a), 0);
	assert_int_equal(es_parse_addr("2001:db8::/129", 1, &a), -1);
	assert_int_equal(es_parse_addr("", 0, &a), -1);
	assert_int_equal(es_parse_addr(NULL, 0, &a), -1);
	assert_int_equal(es_parse_addr(
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:ddd",
		0, &a), -1);
	assert_int_equal(es_parse_addr("::ffff:192.0.2.1", 0, &a), 0);
	assert_int_equal(a.v6, 1);
}

T(cmd_rule__rejects_prefix_with_host_bits_set)
{
	expect_err("rule add 1 src 10.0.0.1/24 action drop", "'10.0.0.1/24'");
	expect_err("rule add 1 dst 10.0.0.128/24 action drop", "'10.0.0.128/24'");
	expect_err("rule add 1 ue 10.45.0.7/16 action drop", "'10.45.0.7/16'");
	expect_err("rule add 1 dst 2001:db8::1/64 action drop", "'2001:db8::1/64'");
	expect_err("session add 1 ue6 2001:db8::1/64 ul-teid 1 gnb 1.1.1.1 "
		   "gnb-teid 1", "'2001:db8::1/64'");
}

T(cmd__rejects_bad_mac)
{
	expect_err("neigh add 1.2.3.4 lladdr 02:00:5e:10:ab port p",
		   "'02:00:5e:10:ab'");
	expect_err("neigh add 1.2.3.4 lladdr 02:00:5e:10:ab:zz port p",
		   "'02:00:5e:10:ab:zz'");
	expect_err("neigh add 1.2.3.4 lladdr 02-00-5e-10-ab-cd port p",
		   "'02-00-5e-10-ab-cd'");
	expect_err("neigh add 1.2.3.4 lladdr 02:00:5e:10:ab:cd:ef port p",
		   "'02:00:5e:10:ab:cd:ef'");
	expect_err("neigh add 1.2.3.4 lladdr 2:0:5e:10:ab:cdd port p",
		   "'2:0:5e:10:ab:cdd'");
	expect_err("port add p dev x role access addr 1.2.3.4/24 mac xyz", "'xyz'");
}

T(parse_mac__accepts_both_cases)
{
	uint8_t m[6];
	assert_int_equal(es_parse_mac("02:00:5e:10:ab:cd", m), 0);
	assert_memory_equal(m, MAC_A, 6);
	assert_int_equal(es_parse_mac("02:00:5E:10:AB:CD", m), 0);
	assert_memory_equal(m, MAC_A, 6);
	assert_int_equal(es_parse_mac("", m), -1);
	assert_int_equal(es_parse_mac(NULL, m), -1);
	assert_int_equal(es_parse_mac("02:00:5e:10:ab:c", m), -1);
}

/* cmd.h: value parsers return -1 on trailing junk; an octet is two hex
 * digits, so a sign, a blank or a 0x is junk. */
T(parse_mac__rejects_signs_blanks_and_0x_in_octets)
{
	static const char *const bad[] = {
		"-1:00:5e:10:ab:cd", "+1:00:5e:10:ab:cd", " 1:00:5e:10:ab:cd",
		"0x:00:5e:10:ab:cd", "02:-1:5e:10:ab:cd", "02:00:5e:10:ab:+d",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t m[6] = { 0 };
		int rc = es_parse_mac(bad[i], m);
		if (rc != -1)
			fail_msg("es_parse_mac(\"%s\") = %d (%02x:%02x:...), want -1",
				 bad[i], rc, m[0], m[1]);
	}
	expect_err("neigh add 1.2.3.4 lladdr -1:00:5e:10:ab:cd port p",
		   "'-1:00:5e:10:ab:cd'");
}

T(cmd_rule__rejects_bad_port_range)
{
	expect_err("rule add 1 sport 5-3 action drop", "'5-3'");
	expect_err("rule add 1 dport 70000 action drop", "'70000'");
	expect_err("rule add 1 dport 1-70000 action drop", "'1-70000'");
	expect_err("rule add 1 dport 65536-65536 action drop", "'65536-65536'");
	expect_err("rule add 1 sport -5 action drop", "'-5'");
	expect_err("rule add 1 sport 5- action drop", "'5-'");
	expect_err("rule add 1 sport 1-2-3 action drop", "'1-2-3'");
	expect_err("rule add 1 sport 1x-3 action drop", "'1x-3'");
	expect_err("rule add 1 sport 00000000000000001-3 action drop",
		   "'00000000000000001-3'");
}

T(cmd_rule__rejects_rule_without_action)
{
	expect_err("rule add 1", "'action");
	expect_err("rule add 1 src 10.0.0.0/8 dport 80", "'action");
	expect_err("rule add 1 then forward", "'action");
	expect_err("rule add 1 action launch", "'launch'");
}

T(cmd_rule__rejects_then_without_mirror)
{
	expect_err("rule add 1 action drop then forward", "'then'");
	expect_err("rule add 1 action local a then cloud", "'then'");
	expect_err("rule add 1 action cloud then drop", "'then'");
	/* and 'then' cannot itself mirror */
	expect_err("rule add 1 action mirror a then mirror b", "'mirror'");
}

T(cmd_rule__rejects_dl_rule_with_action_local_cloud_or_mirror)
{
	expect_err("rule add 1 dir dl action local a", "'dir dl'");
	expect_err("rule add 1 dir dl action cloud", "'dir dl'");
	expect_err("rule add 1 dir dl action mirror a", "'dir dl'");
	expect_err("rule add 1 action local a dir dl", "'dir dl'");
	expect_err("rule add 1 dir down action drop", "'down'");
}

T(cmd_rule__rejects_dl_rule_matching_qfi_or_teid)
{
	expect_err("rule add 1 dir dl qfi 5 action drop", "'qfi'");
	expect_err("rule add 1 dir dl teid 5 action forward", "'teid'");
}

T(cmd_rule__rejects_mixing_ipv4_and_ipv6_prefixes)
{
	expect_err("rule add 9 ue 10.0.0.0/8 dst 2001:db8::/32 action drop",
		   "IPv4 and IPv6");
	expect_err("rule add 9 src 2001:db8::/32 dst 10.0.0.0/8 action drop",
		   "IPv4 and IPv6");
	expect_err("rule add 9 ue 2001:db8::/32 src 10.0.0.0/8 action drop",
		   "IPv4 and IPv6");
}

T(cmd_rule__rejects_ipv6_ue_longer_than_64)
{
	/* the UE of an IPv6 session is its /64 prefix, and rules classify on
	 * the /64 of the packet's UE address: a longer 'ue' would match the
	 * whole /64, more than it says (docs/config.md) */
	expect_err("rule add 9 ue 2001:db8:45:1::5/128 action drop", "/64");
	expect_err("rule add 9 dir dl ue 2001:db8:45:1::/65 action drop", "/64");
	expect_err("rule change 9 ue 2001:db8:45:1:8000::/66 action drop", "/64");
	struct es_cmd c = parse_ok("rule add 9 ue 2001:db8:45:1::/64 action drop");
	assert_int_equal(c.u.rule.ue.plen, 64);
	c = parse_ok("rule add 9 ue 2001:db8:45::/48 src 2001:db8:45:1::5/128 action drop");
	assert_int_equal(c.u.rule.src.plen, 128);
	c = parse_ok("rule add 9 ue 10.45.0.2/32 action drop");
	assert_int_equal(c.u.rule.ue.plen, 32);
}

T(cmd_rule__rejects_bad_fallback)
{
	expect_err("rule add 1 action local a fallback forward", "'forward'");
	expect_err("rule add 1 action local a fallback local", "'local'");
}

T(cmd_session__rejects_session_without_ue)
{
	expect_err("session add 5 ul-teid 1 gnb 1.1.1.1 gnb-teid 1", "'ue");
}

T(cmd_session__rejects_missing_or_zero_ul_teid)
{
	expect_err("session add 5 ue 10.0.0.1 gnb 1.1.1.1 gnb-teid 1",
		   "'ul-teid");
	expect_err("session add 5 ue 10.0.0.1 ul-teid 0 gnb 1.1.1.1 gnb-teid 1",
		   "'ul-teid");
}

T(cmd_session__rejects_missing_gnb_or_gnb_teid)
{
	expect_err("session add 5 ue 10.0.0.1 ul-teid 1 gnb-teid 1", "'gnb");
	expect_err("session add 5 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1", "'gnb");
}

T(cmd_session__rejects_cloud_without_cloud_teid_and_back)
{
	expect_err("session add 5 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1 gnb-teid 1 "
		   "cloud 2.2.2.2", "'cloud-teid'");
	expect_err("session add 5 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1 gnb-teid 1 "
		   "cloud-teid 3", "'cloud-teid'");
}

T(cmd_session__rejects_n9_teid_0)
{
	expect_err("session add 5 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1 gnb-teid 1 "
		   "n9-teid 0", "'n9-teid'");
}

T(cmd_port__rejects_missing_parts_and_bad_role)
{
	expect_err("port add p role access addr 1.2.3.4/24", "'dev");
	expect_err("port add p dev x addr 1.2.3.4/24", "'role");
	expect_err("port add p dev x role access", "'addr");
	expect_err("port add p dev x role n3 addr 1.2.3.4/24", "'n3'");
	expect_err("port add p dev x role access addr 1.0.0.1/8 addr 2.0.0.1/8 "
		   "addr 3.0.0.1/8 addr 4.0.0.1/8 addr 5.0.0.1/8", "'addr'");
}

T(cmd_neigh_and_app__reject_missing_parts)
{
	expect_err("neigh add 1.2.3.4 port p", "'lladdr");
	expect_err("neigh add 1.2.3.4 lladdr 02:00:5e:10:ab:cd", "'port");
	expect_err("app add a", "'via");
	expect_err("app add a state up", "'via");
}

T(cmd__rejects_bad_names)
{
	char line[160];

	expect_err("app add vi/deo via 1.2.3.4", "'vi/deo'");
	expect_err("port add p dev x! role access addr 1.2.3.4/24", "'x!'");
	expect_err("set a$b 1", "'a$b'");
	expect_err("rule add 1 action local a@b", "'a@b'");

	/* ES_NAME_MAX - 1 characters fit, ES_NAME_MAX do not */
	snprintf(line, sizeof(line), "app add %.*s via 1.2.3.4",
		 ES_NAME_MAX - 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ");
	parse_ok(line);
	snprintf(line, sizeof(line), "app add %.*s via 1.2.3.4",
		 ES_NAME_MAX, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ");
	expect_err(line, "'abcdefghijklmnopqrstuvwxyzABCDEF'");
}

T(cmd__rejects_line_too_long_and_too_many_words)
{
	char line[2048];
	size_t n = 0;
	struct es_cmd c;
	char err[ES_ERR_MAX];

	memset(line, ' ', 1100);
	memcpy(line, "set a 1", 7);
	line[1100] = '\0';
	assert_int_equal(es_cmd_parse(line, &c, err), -1);
	assert_true(err[0] != '\0');

	line[1023] = '\0';             /* 1023 characters: fits */
	assert_int_equal(es_cmd_parse(line, &c, err), 1);

	n = (size_t)snprintf(line, sizeof(line), "rule add 1 action drop");
	for (int i = 0; i < ES_MAX_WORDS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " x");
	assert_int_equal(es_cmd_parse(line, &c, err), -1);
	assert_non_null(strstr(err, "words"));
	assert_null(strchr(err, '\n'));
}

T(cmd__errors_quote_control_bytes_escaped)
{
	struct es_cmd c;
	char err[ES_ERR_MAX];

	/* words split on blanks only: any other byte can reach a message */
	assert_int_equal(es_cmd_parse("rule add 5 act\x1b[31mion drop", &c, err), -1);
	assert_string_equal(err, "unknown word 'act\\x1b[31mion' in rule command (see docs/config.md)");
	assert_int_equal(es_cmd_parse("app add x\x01y via 10.0.0.1", &c, err), -1);
	assert_string_equal(err, "bad character '\\x01' in 'x\\x01y'");
	assert_int_equal(es_cmd_parse("rlue\x7f\xff add", &c, err), -1);
	assert_string_equal(err, "unknown object 'rlue\\x7f\\xff' (set, port, neigh, app, session, rule, counters, state, latency, hook, show)");
	/* printable ASCII, the backslash included, is kept */
	assert_int_equal(es_cmd_parse("rule del a\\b~", &c, err), -1);
	assert_string_equal(err, "bad value 'a\\b~' for 'rule del' (a number 0..536870910)");
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

T(escape__writes_non_printable_bytes_as_hex_and_stops_before_a_cut_escape)
{
	char b[8];

	assert_int_equal(es_escape(b, sizeof(b), "ab\tc"), 7);
	assert_string_equal(b, "ab\\x09c");
	assert_int_equal(es_escape(b, sizeof(b), "abcd\x01"), 4);   /* "\x01" does not fit */
	assert_string_equal(b, "abcd");
	assert_int_equal(es_escape(b, sizeof(b), "abcdefghij"), 7);
	assert_string_equal(b, "abcdefg");
	assert_int_equal(es_escape(b, 1, "\x80"), 0);
	assert_string_equal(b, "");
	assert_int_equal(es_escape(b, sizeof(b), "\x80\x0a"), 4);
	assert_string_equal(b, "\\x80");
}

T(cmd__error_is_cleared_on_success)
{
	struct es_cmd c;
	char err[ES_ERR_MAX];

	assert_int_equal(es_cmd_parse("bogus", &c, err), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(es_cmd_parse("app add a via 1.2.3.4", &c, err), 1);
	assert_string_equal(err, "");
	assert_int_equal(es_cmd_parse("# c", &c, err), 0);
	assert_string_equal(err, "");
}

/* ================= es_addr_in_prefix / es_addr_str ================= */

static int in_prefix(const char *p, const char *a)
{
	struct es_addr pp, aa;
	assert_int_equal(es_parse_addr(p, 1, &pp), 0);
	assert_int_equal(es_parse_addr(a, 0, &aa), 0);
	return es_addr_in_prefix(&pp, &aa);
}

T(addr_in_prefix__ipv4)
{
	assert_true(in_prefix("10.45.0.0/16", "10.45.0.7"));
	assert_true(in_prefix("10.45.0.0/16", "10.45.255.255"));
	assert_false(in_prefix("10.45.0.0/16", "10.46.0.0"));
	assert_false(in_prefix("10.45.0.0/16", "10.44.255.255"));
	assert_true(in_prefix("10.45.0.128/25", "10.45.0.200"));
	assert_false(in_prefix("10.45.0.128/25", "10.45.0.127"));
	assert_true(in_prefix("0.0.0.0/0", "255.255.255.255"));
	assert_true(in_prefix("192.0.2.1/32", "192.0.2.1"));
	assert_false(in_prefix("192.0.2.1/32", "192.0.2.0"));
	assert_true(in_prefix("192.0.2.1", "192.0.2.1"));
}

T(addr_in_prefix__ipv6)
{
	assert_true(in_prefix("2001:db8:aa:1::/64", "2001:db8:aa:1::7"));
	assert_true(in_prefix("2001:db8:aa:1::/64",
			      "2001:db8:aa:1:ffff:ffff:ffff:ffff"));
	assert_false(in_prefix("2001:db8:aa:1::/64", "2001:db8:aa:2::7"));
	assert_true(in_prefix("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(in_prefix("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(in_prefix("::/0", "fe80::1"));
	assert_true(in_prefix("2001:db8::1/128", "2001:db8::1"));
	assert_false(in_prefix("2001:db8::1/128", "2001:db8::2"));
}

T(addr_in_prefix__never_matches_across_families)
{
	assert_false(in_prefix("0.0.0.0/0", "::"));
	assert_false(in_prefix("::/0", "0.0.0.0"));
	assert_false(in_prefix("::/0", "10.0.0.1"));
}

T(addr_str__formats_with_and_without_prefix_length)
{
	struct es_addr a;
	char buf[64];

	assert_int_equal(es_parse_addr("10.0.0.1/8", 2, &a), 0);
	assert_string_equal(es_addr_str(&a, 1, buf, sizeof(buf)), "10.0.0.1/8");
	assert_string_equal(es_addr_str(&a, 0, buf, sizeof(buf)), "10.0.0.1");
	assert_int_equal(es_parse_addr("2001:db8::/32", 1, &a), 0);
	assert_string_equal(es_addr_str(&a, 1, buf, sizeof(buf)), "2001:db8::/32");
}

T(names__roles_and_actions_match_the_enums)
{
	assert_string_equal(es_role_names[ES_ROLE_ACCESS], "access");
	assert_string_equal(es_role_names[ES_ROLE_CORE], "core");
	assert_string_equal(es_role_names[ES_ROLE_LOCAL], "local");
	assert_string_equal(es_act_names[ES_ACT_NONE], "none");
	assert_string_equal(es_act_names[ES_ACT_LOCAL], "local");
	assert_string_equal(es_act_names[ES_ACT_CLOUD], "cloud");
	assert_string_equal(es_act_names[ES_ACT_DROP], "drop");
	assert_string_equal(es_act_names[ES_ACT_FORWARD], "forward");
	assert_string_equal(es_act_names[ES_ACT_MIRROR], "mirror");
}

/* ================= change, del, show ================= */

static void expect_same(const char *a, const char *b)
{
	struct es_cmd ca = parse_ok(a), cb = parse_ok(b);
	if (memcmp(&ca, &cb, sizeof(ca)) != 0)
		fail_msg("\"%s\" and \"%s\" parse to different commands", a, b);
}

T(cmd_rule__del_show_and_change_carry_the_priority_as_key)
{
	struct es_cmd c = parse_ok("rule del 10");
	assert_int_equal(c.obj, ES_OBJ_RULE);
	assert_int_equal(c.verb, ES_VERB_DEL);
	assert_int_equal(c.has_key, 1);
	assert_int_equal(c.u.rule.prio, 10);

	c = parse_ok("rule show");
	assert_int_equal(c.verb, ES_VERB_SHOW);
	assert_int_equal(c.has_key, 0);
	c = parse_ok("rule show 0x1ffffffe");
	assert_int_equal(c.has_key, 1);
	assert_int_equal(c.u.rule.prio, 536870910);

	c = parse_ok("rule change 10 dst 10.200.0.0/16 proto udp dport 4000-4999 "
		     "action local xr-render fallback drop");
	assert_int_equal(c.verb, ES_VERB_CHANGE);
	assert_int_equal(c.has_key, 1);
	assert_int_equal(c.u.rule.prio, 10);
	assert_addr(&c.u.rule.dst, "10.200.0.0", 16);
	assert_int_equal(c.u.rule.proto, 17);
	assert_int_equal(c.u.rule.dport_lo, 4000);
	assert_int_equal(c.u.rule.dport_hi, 4999);
	assert_int_equal(c.u.rule.action, ES_ACT_LOCAL);
	assert_string_equal(c.u.rule.app, "xr-render");
	assert_int_equal(c.u.rule.fallback, ES_ACT_DROP);
	/* the defaults of add: dir ul, any port */
	assert_int_equal(c.u.rule.dir, ES_DIR_UL);
	assert_int_equal(c.u.rule.sport_hi, 65535);
}

T(cmd_rule__add_has_no_key_flag)
{
	struct es_cmd c = parse_ok("rule add 10 action drop");
	assert_int_equal(c.verb, ES_VERB_ADD);
	assert_int_equal(c.has_key, 0);
}

T(cmd_app__add_has_via_and_state)
{
	struct es_cmd c = parse_ok("app add cache via 10.0.0.5");
	assert_int_equal(c.u.app.has_via, 1);
	assert_int_equal(c.u.app.has_state, 1);
	assert_int_equal(c.u.app.down, 0);
	assert_int_equal(c.has_key, 0);
}

T(cmd_app__change_says_which_fields_it_gives)
{
	struct es_cmd c = parse_ok("app change cache via 10.0.0.6");
	assert_int_equal(c.obj, ES_OBJ_APP);
	assert_int_equal(c.verb, ES_VERB_CHANGE);
	assert_int_equal(c.has_key, 1);
	assert_string_equal(c.u.app.name, "cache");
	assert_int_equal(c.u.app.has_via, 1);
	assert_addr(&c.u.app.via, "10.0.0.6", 32);
	assert_int_equal(c.u.app.has_state, 0);

	c = parse_ok("app change cache state down");
	assert_int_equal(c.u.app.has_via, 0);
	assert_int_equal(c.u.app.has_state, 1);
	assert_int_equal(c.u.app.down, 1);

	c = parse_ok("app change cache state up via 2001:db8::7");
	assert_int_equal(c.u.app.has_via, 1);
	assert_int_equal(c.u.app.has_state, 1);
	assert_int_equal(c.u.app.down, 0);
	assert_addr(&c.u.app.via, "2001:db8::7", 128);
}

T(cmd_app__del_and_show_carry_the_name)
{
	struct es_cmd c = parse_ok("app del cache");
	assert_int_equal(c.verb, ES_VERB_DEL);
	assert_int_equal(c.has_key, 1);
	assert_string_equal(c.u.app.name, "cache");
	c = parse_ok("app show cache");
	assert_int_equal(c.verb, ES_VERB_SHOW);
	assert_int_equal(c.has_key, 1);
	assert_string_equal(c.u.app.name, "cache");
	c = parse_ok("app show");
	assert_int_equal(c.has_key, 0);
	assert_string_equal(c.u.app.name, "");
}

T(cmd_session__add_sets_has_gnb_and_has_qfi)
{
	struct es_cmd c = parse_ok("session add 1 ue 10.0.0.1 ul-teid 1 gnb 1.1.1.1 gnb-teid 1");
	assert_int_equal(c.u.session.has_gnb, 1);
	assert_int_equal(c.u.session.has_qfi, 1);
	assert_int_equal(c.u.session.qfi, 0);
	assert_int_equal(c.has_key, 0);
}

T(cmd_session__change_says_which_fields_it_gives)
{
	struct es_cmd c = parse_ok("session change 7 gnb 192.0.2.11 gnb-teid 0x1101");
	struct es_cmd_session *s = &c.u.session;
	assert_int_equal(c.obj, ES_OBJ_SESSION);
	assert_int_equal(c.verb, ES_VERB_CHANGE);
	assert_int_equal(c.has_key, 1);
	assert_int_equal(s->id, 7);
	assert_int_equal(s->has_gnb, 1);
	assert_addr(&s->gnb, "192.0.2.11", 32);
	assert_int_equal(s->gnb_teid, 0x1101);
	assert_int_equal(s->has_cloud + s->has_qfi + s->has_ue4 + s->has_ue6 +
			 s->has_n9, 0);

	c = parse_ok("session change 7 cloud 2001:db8::9 cloud-teid 9 qfi 0");
	assert_int_equal(s->has_gnb, 0);
	assert_int_equal(s->has_cloud, 1);
	assert_addr(&s->cloud, "2001:db8::9", 128);
	assert_int_equal(s->cloud_teid, 9);
	assert_int_equal(s->has_qfi, 1);
	assert_int_equal(s->qfi, 0);

	c = parse_ok("session change 7 qfi 63");
	assert_int_equal(s->has_qfi, 1);
	assert_int_equal(s->qfi, 63);
	assert_int_equal(s->has_gnb + s->has_cloud, 0);
}

T(cmd_session__del_and_show_carry_the_id)
{
	struct es_cmd c = parse_ok("session del 4294967295");
	assert_int_equal(c.verb, ES_VERB_DEL);
	assert_int_equal(c.has_key, 1);
	assert_int_equal(c.u.session.id, 4294967295u);
	c = parse_ok("session show 0x10");
	assert_int_equal(c.verb, ES_VERB_SHOW);
	assert_int_equal(c.has_key, 1);
	assert_int_equal(c.u.session.id, 16);
	c = parse_ok("session show");
	assert_int_equal(c.has_key, 0);
}

T(cmd_port_and_neigh__show)
{
	struct es_cmd c = parse_ok("port show");
	assert_int_equal(c.obj, ES_OBJ_PORT);
	assert_int_equal(c.verb, ES_VERB_SHOW);
	assert_int_equal(c.has_key, 0);
	c = parse_ok("port show n3");
	assert_int_equal(c.has_key, 1);
	assert_string_equal(c.u.port.name, "n3");
	c = parse_ok("neigh show");
	assert_int_equal(c.obj, ES_OBJ_NEIGH);
	assert_int_equal(c.verb, ES_VERB_SHOW);
	assert_int_equal(c.has_key, 0);
}

T(cmd_counters_state_latency__are_show_only_objects)
{
	struct es_cmd c = parse_ok("counters show");
	assert_int_equal(c.obj, ES_OBJ_COUNTERS);
	assert_int_equal(c.verb, ES_VERB_SHOW);
	assert_int_equal(c.has_key, 0);
	c = parse_ok("counters show drop_rule");
	assert_int_equal(c.has_key, 1);
	assert_string_equal(c.u.set.key, "drop_rule");
	c = parse_ok("state show");
	assert_int_equal(c.obj, ES_OBJ_STATE);
	assert_int_equal(c.verb, ES_VERB_SHOW);
	c = parse_ok("latency show");
	assert_int_equal(c.obj, ES_OBJ_LATENCY);
	assert_int_equal(c.verb, ES_VERB_SHOW);
	expect_err("counters add x", "unknown verb 'add' for 'counters' (show)");
	expect_err("state del", "unknown verb 'del' for 'state' (show)");
	expect_err("latency", "'latency' needs a verb (show)");
}

T(cmd__show_object_and_object_show_are_the_same_command)
{
	expect_same("show rule", "rule show");
	expect_same("show rule 10", "rule show 10");
	expect_same("show app cache", "app show cache");
	expect_same("show app", "app show");
	expect_same("show session 42", "session show 42");
	expect_same("show session", "session show");
	expect_same("show port n3", "port show n3");
	expect_same("show port", "port show");
	expect_same("show neigh", "neigh show");
	expect_same("show counters", "counters show");
	expect_same("show counters drop_rule", "counters show drop_rule");
	expect_same("show state", "state show");
	expect_same("show latency", "latency show");
	expect_same("\tshow  rule 10 # the tenth", "rule show 0xa");
}

T(cmd__rejects_unknown_verb_naming_the_verbs_of_the_object)
{
	expect_err("rule remove 10", "unknown verb 'remove' for 'rule' (add, change, del, show)");
	expect_err("app delete a", "unknown verb 'delete' for 'app' (add, change, del, show)");
	expect_err("session set 1", "unknown verb 'set' for 'session' (add, change, del, show)");
	expect_err("port del n3", "unknown verb 'del' for 'port' (add, show)");
	expect_err("neigh change 1.2.3.4", "unknown verb 'change' for 'neigh' (add, show)");
	expect_err("rule", "'rule' needs a verb (add, change, del, show)");
	expect_err("port", "'port' needs a verb (add, show)");
}

T(cmd__rejects_prefix_matched_verbs_and_objects)
{
	expect_err("rule de 10", "'de'");
	expect_err("rule sh", "'sh'");
	expect_err("rule chg 10 action drop", "'chg'");
	expect_err("app change2 a state up", "'change2'");
	expect_err("sho rule", "'sho'");
	expect_err("show rul", "'rul'");
	expect_err("counter show", "'counter'");
	expect_err("stat show", "'stat'");
	expect_err("Show rule", "'Show'");
	expect_err("rule SHOW", "'SHOW'");
}

T(cmd__rejects_show_of_an_unknown_object)
{
	expect_err("show", "'show' needs an OBJECT");
	expect_err("show rules", "unknown object 'rules' for 'show'");
	expect_err("show set", "unknown object 'set' for 'show'");
	expect_err("show show", "unknown object 'show' for 'show'");
	expect_err("show add", "'add'");
	expect_err("bogus show", "unknown object 'bogus'");
}

T(cmd__rejects_del_and_change_without_a_key)
{
	expect_err("rule del", "'rule del' needs a PRIORITY");
	expect_err("rule change", "'rule change' needs a PRIORITY");
	expect_err("app del", "'app del' needs a NAME");
	expect_err("app change", "'app change' needs a NAME");
	expect_err("session del", "'session del' needs an ID");
	expect_err("session change", "'session change' needs an ID");
	expect_err("show rule del", "bad value 'del' for 'rule show'");
	/* and add keeps its messages */
	expect_err("app add", "'app add' needs a value");
	expect_err("port add", "'port add' needs a value");
	expect_err("rule add", "'rule add' needs a PRIORITY");
	expect_err("session add", "'session add' needs an ID");
	expect_err("neigh add", "'neigh add' needs an ADDRESS");
}

T(cmd__rejects_a_bad_key)
{
	expect_err("rule del x", "bad value 'x' for 'rule del'");
	expect_err("rule del 536870911", "'536870911'");
	expect_err("rule show -1", "'-1'");
	expect_err("session del 4294967296", "'4294967296'");
	expect_err("session change 1x qfi 1", "'1x'");
	expect_err("app del a/b", "'a/b'");
	expect_err("port show n3!", "'n3!'");
	expect_err("counters show a$b", "'a$b'");
}

T(cmd__rejects_words_after_what_show_and_del_take)
{
	expect_err("rule del 5 action drop", "unknown word 'action' in rule del command");
	expect_err("rule show 5 6", "unknown word '6' in rule show command");
	expect_err("show rule 5 6", "'6'");
	expect_err("app del a b", "'b'");
	expect_err("session del 1 ue 10.0.0.1", "'ue'");
	expect_err("session show 1 2", "'2'");
	expect_err("port show n3 n9", "'n9'");
	expect_err("neigh show 1.2.3.4", "unknown word '1.2.3.4' in neigh show command");
	expect_err("counters show a b", "'b'");
	expect_err("state show everything", "unknown word 'everything' in state show command");
	expect_err("show latency now", "'now'");
}

T(cmd__rejects_change_with_nothing_to_change)
{
	expect_err("app change cache", "'app change cache' changes nothing");
	expect_err("session change 7", "'session change 7' changes nothing");
	expect_err("rule change 7", "rule 7 needs 'action");
}

T(cmd__rejects_bad_values_and_addresses_in_change)
{
	expect_err("app change a via 1.2.3", "bad address '1.2.3' for 'via'");
	expect_err("app change a via 10.0.0.0/8", "'10.0.0.0/8'");
	expect_err("app change a state sideways", "bad state 'sideways'");
	expect_err("app change a colour red", "unknown word 'colour'");
	expect_err("app change a via", "'via' needs a value");
	expect_err("session change 1 gnb 300.1.1.1 gnb-teid 1", "bad address '300.1.1.1' for 'gnb'");
	expect_err("session change 1 gnb 1.1.1.1 gnb-teid 4294967296", "'4294967296'");
	expect_err("session change 1 qfi 64", "'64'");
	expect_err("session change 1 cloud ::g cloud-teid 1", "'::g'");
	expect_err("session change 1 priority 3", "unknown word 'priority'");
	expect_err("rule change 1 dir dl action cloud", "'dir dl'");
	expect_err("rule change 1 dst 10.0.0.1/8 action drop", "'10.0.0.1/8'");
}

T(cmd_session__change_takes_gnb_and_cloud_with_their_teids)
{
	expect_err("session change 1 gnb 1.1.1.1", "'gnb' and 'gnb-teid' go together");
	expect_err("session change 1 gnb-teid 5", "'gnb' and 'gnb-teid' go together");
	expect_err("session change 1 cloud 2.2.2.2 qfi 1", "'cloud' and 'cloud-teid' go together");
	expect_err("session change 1 cloud-teid 2", "'cloud' and 'cloud-teid' go together");
}

T(cmd_session__change_refuses_the_fields_that_identify_a_session)
{
	expect_err("session change 1 ue 10.0.0.2", "session 1: 'ue' cannot be changed");
	expect_err("session change 1 ue6 2001:db8::/64", "'ue6' cannot be changed");
	expect_err("session change 1 ul-teid 5", "'ul-teid' cannot be changed");
	expect_err("session change 1 n9-teid 5", "'n9-teid' cannot be changed");
}

/* A word given twice keeps the last value, and nothing of the first: the
 * command equals (memcmp) the one with only the last word. */
T(cmd__a_word_given_twice_leaves_nothing_of_the_first)
{
	expect_same("rule add 1 action local abcdefgh action drop",
		    "rule add 1 action drop");
	expect_same("rule add 1 action local abcdefgh action local ab",
		    "rule add 1 action local ab");
	expect_same("rule add 1 action mirror a then local abcdefgh then drop",
		    "rule add 1 action mirror a then drop");
	expect_same("port add p dev abcdefgh dev x role core addr 1.2.3.4/24",
		    "port add p dev x role core addr 1.2.3.4/24");
	/* the fuzzer's find against the old strcpy: a shorter second 'port' */
	expect_same("neigh add 10.100.0.22 lladdr 02:00:00:00:00:22 port apps port n9",
		    "neigh add 10.100.0.22 lladdr 02:00:00:00:00:22 port n9");
	expect_same("app change a via 10.0.0.1 via 10.0.0.2", "app change a via 10.0.0.2");
	expect_same("session change 1 qfi 5 qfi 6", "session change 1 qfi 6");
}

/* ================= es_cmd_format / es_cmd_fields ================= */

static void expect_format(const char *line, const char *want)
{
	struct es_cmd c = parse_ok(line), c2;
	char out[ES_LINE_MAX + 1], err[ES_ERR_MAX];
	int n = es_cmd_format(&c, out, sizeof(out));
	if (n < 0 || strcmp(out, want) != 0 || (size_t)n != strlen(want))
		fail_msg("\"%s\" formats as \"%s\" (%d), want \"%s\"", line, out,
			 n, want);
	if (es_cmd_parse(out, &c2, err) != 1 || memcmp(&c, &c2, sizeof(c)) != 0)
		fail_msg("\"%s\" -> \"%s\" does not parse back equal (%s)", line,
			 out, err);
}

T(fmt__canonical_line_of_every_object_and_verb)
{
	expect_format("set mbufs 0x3fff", "set mbufs 16383");
	expect_format("port add n3 dev 0000:3b:00.0 role access addr 192.0.2.2/24 "
		      "addr 2001:db8:1::2/64 addr 10.0.0.9 gw 192.0.2.1 "
		      "gw6 2001:db8:1::1 mtu 9000 mac 02:00:5E:10:AB:cd",
		      "port add n3 dev 0000:3b:00.0 role access addr 192.0.2.2/24 "
		      "addr 2001:db8:1::2/64 addr 10.0.0.9/32 gw 192.0.2.1 "
		      "gw6 2001:db8:1::1 mtu 9000 mac 02:00:5e:10:ab:cd");
	expect_format("port add up dev net_tap0,iface=up role core addr 10.0.0.1/8",
		      "port add up dev net_tap0,iface=up role core addr 10.0.0.1/8");
	expect_format("show port n3", "port show n3");
	expect_format("port show", "port show");
	expect_format("neigh add 192.0.2.1 port n3 lladdr 02:00:5E:10:AB:cd",
		      "neigh add 192.0.2.1 lladdr 02:00:5e:10:ab:cd port n3");
	expect_format("show neigh", "neigh show");
	expect_format("app add v2x via 10.100.0.21",
		      "app add v2x via 10.100.0.21 state up");
	expect_format("app add v2x state down via 2001:db8:a::21",
		      "app add v2x via 2001:db8:a::21 state down");
	expect_format("app change v2x state down", "app change v2x state down");
	expect_format("app change v2x via 10.0.0.1", "app change v2x via 10.0.0.1");
	expect_format("app del v2x", "app del v2x");
	expect_format("show app v2x", "app show v2x");
	expect_format("app show", "app show");
	expect_format("session add 1 ue 10.45.0.2 ul-teid 0x100 gnb 192.0.2.10 "
		      "gnb-teid 0x1001 cloud 198.51.100.7 cloud-teid 0x2001 "
		      "n9-teid 0x3001 qfi 9",
		      "session add 1 ue 10.45.0.2 ul-teid 256 gnb 192.0.2.10 "
		      "gnb-teid 4097 cloud 198.51.100.7 cloud-teid 8193 "
		      "n9-teid 12289 qfi 9");
	expect_format("session add 4 ue6 2001:db8:45:4::/64 ul-teid 0x103 "
		      "gnb 2001:db8:3::12 gnb-teid 0xffffffff",
		      "session add 4 ue6 2001:db8:45:4::/64 ul-teid 259 "
		      "gnb 2001:db8:3::12 gnb-teid 4294967295 qfi 0");
	expect_format("session change 1 qfi 5 gnb 2001:db8::1 gnb-teid 0x10",
		      "session change 1 gnb 2001:db8::1 gnb-teid 16 qfi 5");
	expect_format("session change 1 cloud-teid 3 cloud 198.51.100.8",
		      "session change 1 cloud 198.51.100.8 cloud-teid 3");
	expect_format("session del 0xffffffff", "session del 4294967295");
	expect_format("show session 1", "session show 1");
	expect_format("session show", "session show");
	expect_format("rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 "
		      "action local xr-render",
		      "rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 "
		      "action local xr-render");
	expect_format("rule add 100 fallback drop then local video action mirror ids "
		      "teid 0x1001 dscp 46 qfi 9 dport 443-443 sport 1000-2000 "
		      "proto 47 dst 198.51.100.0/24 src 10.45.0.0/24 "
		      "ue 10.45.0.0/16 dir ul",
		      "rule add 100 ue 10.45.0.0/16 src 10.45.0.0/24 "
		      "dst 198.51.100.0/24 proto 47 sport 1000-2000 dport 443 "
		      "qfi 9 dscp 46 teid 4097 action mirror ids then local video "
		      "fallback drop");
	expect_format("rule add 7 dir ul sport 0-65535 action mirror ids then forward "
		      "fallback cloud", "rule add 7 action mirror ids");
	expect_format("rule add 8 action mirror ids then cloud",
		      "rule add 8 action mirror ids then cloud");
	expect_format("rule add 3 dir dl src 192.0.2.0/24 proto icmp6 sport 0 action drop",
		      "rule add 3 dir dl src 192.0.2.0/24 proto icmp6 sport 0 action drop");
	expect_format("rule add 3 dst 2001:db8:200::/48 ue ::/0 action forward",
		      "rule add 3 ue ::/0 dst 2001:db8:200::/48 action forward");
	expect_format("rule change 0x10 proto 0 action cloud",
		      "rule change 16 proto 0 action cloud");
	expect_format("rule del 0x10", "rule del 16");
	expect_format("show rule 536870910", "rule show 536870910");
	expect_format("rule show", "rule show");
	expect_format("show counters drop_rule", "counters show drop_rule");
	expect_format("counters show", "counters show");
	expect_format("show state", "state show");
	expect_format("latency show", "latency show");
}

/* The lines of config/demo.conf and a few more: each formats to a line
 * that parses back to the same command. */
T(fmt__round_trips_the_demo_config)
{
	static const char *const lines[] = {
		"set sessions-max 1024", "set rules-max 256", "set mbufs 4095",
		"set recovery 3",
		"port add n3  dev net_pcap0 role access addr 192.0.2.1/24    addr 2001:db8:3::1/64 mac 02:00:00:00:03:01",
		"port add n9  dev net_pcap1 role core   addr 198.51.100.1/24 mac 02:00:00:00:09:01",
		"port add apps dev net_pcap2 role local addr 10.100.0.1/24   addr 2001:db8:a::1/64 mac 02:00:00:00:0a:01",
		"neigh add 2001:db8:3::12 lladdr 02:00:00:00:00:12 port n3",
		"neigh add 198.51.100.7 lladdr 02:00:00:00:00:07 port n9",
		"app add xr6       via 2001:db8:a::20",
		"session add 1 ue 10.45.0.2 ul-teid 0x100 gnb 192.0.2.10 gnb-teid 0x1001 cloud 198.51.100.7 cloud-teid 0x2001 n9-teid 0x3001 qfi 9",
		"session add 4 ue6 2001:db8:45:4::/64 ul-teid 0x103 gnb 2001:db8:3::12 gnb-teid 0x1004 cloud 198.51.100.7 cloud-teid 0x2004 n9-teid 0x3004 qfi 9",
		"rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr-render",
		"rule add 20 dst 10.201.0.0/16 qfi 5 action local v2x",
		"rule add 30 dst 2001:db8:200::/48 action local xr6",
		"rule add 40 dst 203.0.113.0/24 action mirror analytics then cloud",
		"rule add 50 proto tcp dport 23 action drop",
		"rule add 1 src ::ffff:192.0.2.0/120 action drop",
		"session add 9 ue 10.0.0.1 ue6 ::/64 ul-teid 1 gnb ::ffff:1.2.3.4 gnb-teid 0",
		"port add l dev x role local addr 1.2.3.4/0 addr ::1/128 addr ::/0 addr 1.1.1.1 mtu 576",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct es_cmd c = parse_ok(lines[i]), c2;
		char out[ES_LINE_MAX + 1], err[ES_ERR_MAX];
		assert_true(es_cmd_format(&c, out, sizeof(out)) > 0);
		if (es_cmd_parse(out, &c2, err) != 1 ||
		    memcmp(&c, &c2, sizeof(c)) != 0)
			fail_msg("\"%s\" -> \"%s\": not equal (%s)", lines[i], out, err);
	}
}

struct field_log {
	int n, stop_at, rc;
	char text[1024];
};

static int log_field(void *arg, const char *key, const char *value,
		     unsigned int flags)
{
	struct field_log *l = arg;
	size_t at = strlen(l->text);
	snprintf(l->text + at, sizeof(l->text) - at, "%s%s=%s/%u", at ? " " : "",
		 key, value, flags);
	if (++l->n == l->stop_at)
		return l->rc;
	return 0;
}

static const char *fields_of(const char *line, struct field_log *l)
{
	struct es_cmd c = parse_ok(line);
	memset(l, 0, sizeof(*l));
	assert_int_equal(es_cmd_fields(&c, log_field, l), 0);
	return l->text;
}

T(fmt__fields_give_key_value_and_flags_in_canonical_order)
{
	struct field_log l;
	/* flags: 1 NUM, 2 POS, 4 LIST */
	assert_string_equal(fields_of("rule add 10 dst 10.200.0.0/16 proto udp "
				      "dport 4000-4999 action local xr-render", &l),
			    "prio=10/3 dst=10.200.0.0/16/0 proto=udp/0 "
			    "dport=4000-4999/0 action=local/0 app=xr-render/2");
	assert_string_equal(fields_of("rule add 1 action mirror a then local b qfi 3", &l),
			    "prio=1/3 qfi=3/1 action=mirror/0 app=a/2 then=local/0 then-app=b/2");
	assert_string_equal(fields_of("session add 1 ue 10.45.0.2 ul-teid 0x100 "
				      "gnb 192.0.2.10 gnb-teid 7 n9-teid 8", &l),
			    "id=1/3 ue=10.45.0.2/0 ul-teid=256/1 gnb=192.0.2.10/0 "
			    "gnb-teid=7/1 n9-teid=8/1 qfi=0/1");
	assert_string_equal(fields_of("port add p dev d role core addr 1.2.3.4/24 "
				      "addr ::1/64 mtu 1500", &l),
			    "name=p/2 dev=d/0 role=core/0 addr=1.2.3.4/24/4 "
			    "addr=::1/64/4 mtu=1500/1");
	assert_string_equal(fields_of("neigh add ::1 lladdr 02:00:00:00:00:01 port p", &l),
			    "addr=::1/2 lladdr=02:00:00:00:00:01/0 port=p/0");
	assert_string_equal(fields_of("app add a via 10.0.0.1 state down", &l),
			    "name=a/2 via=10.0.0.1/0 state=down/0");
	assert_string_equal(fields_of("set mbufs 0x3fff", &l),
			    "key=mbufs/2 value=16383/3");
	assert_string_equal(fields_of("counters show drop_rule", &l), "name=drop_rule/2");
	assert_string_equal(fields_of("rule del 5", &l), "prio=5/3");
	assert_string_equal(fields_of("rule show", &l), "");
	assert_string_equal(fields_of("state show", &l), "");
}

T(fmt__fields_stop_at_the_first_non_zero_callback_return)
{
	struct es_cmd c = parse_ok("rule add 10 dst 10.0.0.0/8 action drop");
	struct field_log l;
	memset(&l, 0, sizeof(l));
	l.stop_at = 2;
	l.rc = 7;
	assert_int_equal(es_cmd_fields(&c, log_field, &l), 7);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.text, "prio=10/3 dst=10.0.0.0/8/0");
}

T(fmt__returns_minus_1_and_a_prefix_when_the_buffer_is_too_small)
{
	struct es_cmd c = parse_ok("rule add 10 dst 10.0.0.0/8 action drop");
	const char *want = "rule add 10 dst 10.0.0.0/8 action drop";
	size_t n = strlen(want);
	char buf[64];

	assert_int_equal(es_cmd_format(&c, NULL, 0), -1);
	for (size_t sz = 1; sz <= n; sz++) {
		memset(buf, 'Z', sizeof(buf));
		assert_int_equal(es_cmd_format(&c, buf, sz), -1);
		assert_int_equal(strlen(buf), sz - 1);
		assert_memory_equal(buf, want, sz - 1);
		assert_int_equal(buf[sz], 'Z');   /* nothing past the end */
	}
	assert_int_equal(es_cmd_format(&c, buf, n + 1), (int)n);
	assert_string_equal(buf, want);
}

T(fmt__rejects_unknown_object_and_verb_pairs)
{
	struct es_cmd c;
	char buf[ES_LINE_MAX + 1];
	struct field_log l;

	memset(&c, 0, sizeof(c));
	c.obj = ES_OBJ_COUNT;
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	c.obj = ES_OBJ_STATE;
	c.verb = ES_VERB_ADD;
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)), -1);
	c.obj = ES_OBJ_SET;
	c.verb = ES_VERB_ADD;
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)), -1);
	c.obj = ES_OBJ_PORT;
	c.verb = ES_VERB_DEL;
	memset(&l, 0, sizeof(l));
	assert_int_equal(es_cmd_fields(&c, log_field, &l), -1);
	assert_int_equal(l.n, 0);
	c.obj = ES_OBJ_RULE;
	c.verb = ES_VERB_SHOW;
	c.verb = ES_VERB_COUNT;
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)), -1);

	/* out-of-range values in a hand-built command */
	c = parse_ok("rule add 1 action drop");
	c.u.rule.action = 6;
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)), -1);
	c = parse_ok("port add p dev d role core addr 1.2.3.4/24");
	c.u.port.role = 3;
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)), -1);
	c = parse_ok("app add a via 10.0.0.1");
	c.u.app.via.plen = 33;
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)), -1);
}

T(fmt__bounds_unterminated_names_in_a_hand_built_command)
{
	struct es_cmd c = parse_ok("app del a");
	char buf[ES_LINE_MAX + 1];
	memset(c.u.app.name, 'x', sizeof(c.u.app.name));   /* no NUL */
	assert_int_equal(es_cmd_format(&c, buf, sizeof(buf)),
			 (int)strlen("app del ") + ES_NAME_MAX);
}

T(names__objects_and_verbs_keep_their_numbers)
{
	assert_int_equal(ES_OBJ_SET, 0);
	assert_int_equal(ES_OBJ_RULE, 5);
	assert_int_equal(ES_OBJ_COUNTERS, 6);
	assert_int_equal(ES_OBJ_STATE, 7);
	assert_int_equal(ES_OBJ_LATENCY, 8);
	assert_int_equal(ES_VERB_ADD, 0);
	assert_int_equal(ES_VERB_SET, 1);
	assert_int_equal(ES_VERB_CHANGE, 2);
	assert_int_equal(ES_VERB_DEL, 3);
	assert_int_equal(ES_VERB_SHOW, 4);
	assert_string_equal(es_obj_names[ES_OBJ_SET], "set");
	assert_string_equal(es_obj_names[ES_OBJ_PORT], "port");
	assert_string_equal(es_obj_names[ES_OBJ_NEIGH], "neigh");
	assert_string_equal(es_obj_names[ES_OBJ_APP], "app");
	assert_string_equal(es_obj_names[ES_OBJ_SESSION], "session");
	assert_string_equal(es_obj_names[ES_OBJ_RULE], "rule");
	assert_string_equal(es_obj_names[ES_OBJ_COUNTERS], "counters");
	assert_string_equal(es_obj_names[ES_OBJ_STATE], "state");
	assert_string_equal(es_obj_names[ES_OBJ_LATENCY], "latency");
	assert_string_equal(es_verb_names[ES_VERB_ADD], "add");
	assert_string_equal(es_verb_names[ES_VERB_SET], "set");
	assert_string_equal(es_verb_names[ES_VERB_CHANGE], "change");
	assert_string_equal(es_verb_names[ES_VERB_DEL], "del");
	assert_string_equal(es_verb_names[ES_VERB_SHOW], "show");
}

/* ================= docs/control.md stays true ================= */

/* The "## Grammar" section of docs/control.md: every concrete line in its
 * code blocks (no upper-case placeholder) parses; each "input:" formats
 * to the "canonical:" line after it; each row of the "### Errors" table
 * fails with exactly its reason. The path comes from this file's own. */
static FILE *open_control_md(void)
{
	char path[512];
	const char *me = __FILE__, *cut = strstr(me, "tests/unit/test_cmd.c");
	snprintf(path, sizeof(path), "%.*sdocs/control.md",
		 (int)(cut ? cut - me : 0), me);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	return f;
}

/* `text` cells of a table row, "\|" unescaped; returns how many */
static int code_cells(const char *row, char cells[][ES_ERR_MAX], int max)
{
	int n = 0;
	const char *p = row;
	while (n < max && (p = strchr(p, '`')) != NULL) {
		size_t k = 0;
		p++;
		while (*p && *p != '`' && k < ES_ERR_MAX - 1) {
			if (p[0] == '\\' && p[1] == '|')
				p++;
			cells[n][k++] = *p++;
		}
		cells[n++][k] = '\0';
		if (*p == '`')
			p++;
	}
	return n;
}

T(docs__grammar_examples_canonical_lines_and_errors_are_true)
{
	FILE *f = open_control_md();
	char line[2048], input[2048] = "";
	int in_grammar = 0, in_errors = 0, in_code = 0;
	int n_ex = 0, n_canon = 0, n_err = 0;

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "## ", 3)) {
			in_grammar = !strcmp(line, "## Grammar");
			continue;
		}
		if (!strncmp(line, "### ", 4)) {
			in_errors = !strcmp(line, "### Errors");
			continue;
		}
		if (!in_grammar)
			continue;
		if (!strncmp(line, "```", 3)) {
			in_code = !in_code;
			continue;
		}
		if (in_code) {
			const char *l = line;
			int upper = 0;
			if (!strncmp(l, "input:", 6) || !strncmp(l, "canonical:", 10)) {
				l = strchr(l, ':') + 1;
				while (*l == ' ')
					l++;
			}
			for (const char *c = l; *c && *c != '#'; c++)
				upper |= (*c >= 'A' && *c <= 'Z');
			if (upper)
				continue;     /* a synopsis */
			parse_ok(l);
			n_ex++;
			if (!strncmp(line, "input:", 6)) {
				snprintf(input, sizeof(input), "%s", l);
			} else if (!strncmp(line, "canonical:", 10)) {
				assert_true(input[0] != '\0');
				expect_format(input, l);
				input[0] = '\0';
				n_canon++;
			}
		} else if (in_errors && line[0] == '|' && strchr(line, '`')) {
			char cells[3][ES_ERR_MAX];
			struct es_cmd c;
			char err[ES_ERR_MAX];
			if (code_cells(line, cells, 3) != 2)
				continue;     /* not an error row */
			if (es_cmd_parse(cells[0], &c, err) != -1 ||
			    strcmp(err, cells[1]) != 0)
				fail_msg("docs: \"%s\" gives \"%s\", the table says \"%s\"",
					 cells[0], err, cells[1]);
			n_err++;
		}
	}
	fclose(f);
	/* the section is there and has examples of every kind */
	assert_true(n_ex >= 20);
	assert_true(n_canon >= 3);
	assert_true(n_err >= 14);
}

int main(void)

{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cmd_set__parses_key_and_value),
		cmocka_unit_test(cmd_port__parses_every_field),
		cmocka_unit_test(cmd_port__keeps_host_bits_of_an_address_and_has_defaults),
		cmocka_unit_test(cmd_neigh__parses_every_field),
		cmocka_unit_test(cmd_app__parses_every_field),
		cmocka_unit_test(cmd_session__parses_every_field),
		cmocka_unit_test(cmd_session__minimal_session_has_no_optional_parts),
		cmocka_unit_test(cmd_rule__parses_every_field),
		cmocka_unit_test(cmd_rule__defaults_are_dir_ul_any_ports_fallback_cloud),
		cmocka_unit_test(cmd_rule__mirror_gets_then_forward_by_default),
		cmocka_unit_test(cmd_rule__each_action),
		cmocka_unit_test(cmd_rule__dl_rule_takes_forward_or_drop),
		cmocka_unit_test(cmd_rule__proto_by_name_or_number),
		cmocka_unit_test(cmd_rule__ipv6_prefixes_and_port_range_edges),
		cmocka_unit_test(cmd__comment_and_blank_lines_return_0),
		cmocka_unit_test(cmd__trailing_comment_and_tabs_and_crlf_are_blanks),
		cmocka_unit_test(cmd__rejects_unknown_object),
		cmocka_unit_test(cmd__rejects_unknown_verb),
		cmocka_unit_test(cmd__rejects_unknown_keyword),
		cmocka_unit_test(cmd__rejects_prefix_matched_keywords),
		cmocka_unit_test(cmd__rejects_missing_value),
		cmocka_unit_test(cmd__rejects_bad_numbers),
		cmocka_unit_test(parse_u64__rejects_empty_junk_overflow_and_sign),
		cmocka_unit_test(cmd__rejects_bad_addresses),
		cmocka_unit_test(parse_addr__prefix_lengths_and_host_bits),
		cmocka_unit_test(cmd_rule__rejects_prefix_with_host_bits_set),
		cmocka_unit_test(cmd__rejects_bad_mac),
		cmocka_unit_test(parse_mac__accepts_both_cases),
		cmocka_unit_test(parse_mac__rejects_signs_blanks_and_0x_in_octets),
		cmocka_unit_test(cmd_rule__rejects_bad_port_range),
		cmocka_unit_test(cmd_rule__rejects_rule_without_action),
		cmocka_unit_test(cmd_rule__rejects_then_without_mirror),
		cmocka_unit_test(cmd_rule__rejects_dl_rule_with_action_local_cloud_or_mirror),
		cmocka_unit_test(cmd_rule__rejects_dl_rule_matching_qfi_or_teid),
		cmocka_unit_test(cmd_rule__rejects_mixing_ipv4_and_ipv6_prefixes),
		cmocka_unit_test(cmd_rule__rejects_ipv6_ue_longer_than_64),
		cmocka_unit_test(cmd_rule__rejects_bad_fallback),
		cmocka_unit_test(cmd_session__rejects_session_without_ue),
		cmocka_unit_test(cmd_session__rejects_missing_or_zero_ul_teid),
		cmocka_unit_test(cmd_session__rejects_missing_gnb_or_gnb_teid),
		cmocka_unit_test(cmd_session__rejects_cloud_without_cloud_teid_and_back),
		cmocka_unit_test(cmd_session__rejects_n9_teid_0),
		cmocka_unit_test(cmd_port__rejects_missing_parts_and_bad_role),
		cmocka_unit_test(cmd_neigh_and_app__reject_missing_parts),
		cmocka_unit_test(cmd__rejects_bad_names),
		cmocka_unit_test(cmd__rejects_line_too_long_and_too_many_words),
		cmocka_unit_test(cmd__errors_quote_control_bytes_escaped),
		cmocka_unit_test(escape__writes_non_printable_bytes_as_hex_and_stops_before_a_cut_escape),
		cmocka_unit_test(cmd__error_is_cleared_on_success),
		cmocka_unit_test(addr_in_prefix__ipv4),
		cmocka_unit_test(addr_in_prefix__ipv6),
		cmocka_unit_test(addr_in_prefix__never_matches_across_families),
		cmocka_unit_test(addr_str__formats_with_and_without_prefix_length),
		cmocka_unit_test(names__roles_and_actions_match_the_enums),
		cmocka_unit_test(cmd_rule__del_show_and_change_carry_the_priority_as_key),
		cmocka_unit_test(cmd_rule__add_has_no_key_flag),
		cmocka_unit_test(cmd_app__add_has_via_and_state),
		cmocka_unit_test(cmd_app__change_says_which_fields_it_gives),
		cmocka_unit_test(cmd_app__del_and_show_carry_the_name),
		cmocka_unit_test(cmd_session__add_sets_has_gnb_and_has_qfi),
		cmocka_unit_test(cmd_session__change_says_which_fields_it_gives),
		cmocka_unit_test(cmd_session__del_and_show_carry_the_id),
		cmocka_unit_test(cmd_port_and_neigh__show),
		cmocka_unit_test(cmd_counters_state_latency__are_show_only_objects),
		cmocka_unit_test(cmd__show_object_and_object_show_are_the_same_command),
		cmocka_unit_test(cmd__rejects_unknown_verb_naming_the_verbs_of_the_object),
		cmocka_unit_test(cmd__rejects_prefix_matched_verbs_and_objects),
		cmocka_unit_test(cmd__rejects_show_of_an_unknown_object),
		cmocka_unit_test(cmd__rejects_del_and_change_without_a_key),
		cmocka_unit_test(cmd__rejects_a_bad_key),
		cmocka_unit_test(cmd__rejects_words_after_what_show_and_del_take),
		cmocka_unit_test(cmd__rejects_change_with_nothing_to_change),
		cmocka_unit_test(cmd__rejects_bad_values_and_addresses_in_change),
		cmocka_unit_test(cmd_session__change_takes_gnb_and_cloud_with_their_teids),
		cmocka_unit_test(cmd_session__change_refuses_the_fields_that_identify_a_session),
		cmocka_unit_test(cmd__a_word_given_twice_leaves_nothing_of_the_first),
		cmocka_unit_test(fmt__canonical_line_of_every_object_and_verb),
		cmocka_unit_test(fmt__round_trips_the_demo_config),
		cmocka_unit_test(fmt__fields_give_key_value_and_flags_in_canonical_order),
		cmocka_unit_test(fmt__fields_stop_at_the_first_non_zero_callback_return),
		cmocka_unit_test(fmt__returns_minus_1_and_a_prefix_when_the_buffer_is_too_small),
		cmocka_unit_test(fmt__rejects_unknown_object_and_verb_pairs),
		cmocka_unit_test(fmt__bounds_unterminated_names_in_a_hand_built_command),
		cmocka_unit_test(names__objects_and_verbs_keep_their_numbers),
		cmocka_unit_test(docs__grammar_examples_canonical_lines_and_errors_are_true),
	};
	return cmocka_run_group_tests_name("cmd", tests, NULL, NULL);
}
