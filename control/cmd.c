/* SPDX-License-Identifier: BSD-3-Clause */
/* The command grammar; see cmd.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

const char *const es_role_names[3] = { "access", "core", "local" };
const char *const es_act_names[6] = { "none", "local", "cloud", "drop",
				      "forward", "mirror" };

static const struct { const char *name; uint8_t num; } proto_names[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmp6", 58 },
	{ "sctp", 132 },
};

struct words {
	int n, i;
	char *w[ES_MAX_WORDS];
	char *err;
};

static int fail(struct words *ws, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct words *ws, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ws->err, ES_ERR_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

int es_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int base = 10;
	/* decimal, or hex with 0x; never octal (a leading 0 is decimal) */
	if (s == NULL)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int es_parse_addr(const char *s, int want_prefix, struct es_addr *out)
{
	char tmp[64];
	const char *slash;
	size_t alen;
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	if (inet_pton(AF_INET, tmp, out->a) == 1) {
		out->v6 = 0;
		out->plen = 32;
	} else if (inet_pton(AF_INET6, tmp, out->a) == 1) {
		out->v6 = 1;
		out->plen = 128;
	} else {
		return -1;
	}
	if (slash) {
		uint64_t p;
		if (!want_prefix ||
		    es_parse_u64(slash + 1, out->v6 ? 128 : 32, &p) ||
		    (slash[1] == '0' && slash[2] != '\0'))
			return -1;
		out->plen = (uint8_t)p;
		/* host bits must be zero for a prefix, except on a port
		 * address (want_prefix == 2), which is ADDR/PLEN */
		if (want_prefix == 1) {
			for (int b = out->plen; b < (out->v6 ? 128 : 32); b++)
				if (out->a[b / 8] & (0x80 >> (b % 8)))
					return -1;
		}
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int es_parse_mac(const char *s, uint8_t mac[6])
{
	/* exactly xx:xx:xx:xx:xx:xx, two hex digits per octet */
	if (s == NULL || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *es_addr_str(const struct es_addr *a, int with_plen, char *buf,
			size_t len)
{
	char t[INET6_ADDRSTRLEN];
	inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->a, t, sizeof(t));
	if (with_plen)
		snprintf(buf, len, "%s/%u", t, a->plen);
	else
		snprintf(buf, len, "%s", t);
	return buf;
}

int es_addr_in_prefix(const struct es_addr *p, const struct es_addr *a)
{
	if (p->v6 != a->v6)
		return 0;
	for (int b = 0; b < p->plen; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));
		if ((p->a[b / 8] & m) != (a->a[b / 8] & m))
			return 0;
	}
	return 1;
}

/* ---- word helpers ---- */

static const char *next_word(struct words *ws)
{
	return ws->i < ws->n ? ws->w[ws->i++] : NULL;
}

static int need_value(struct words *ws, const char *key, const char **v)
{
	*v = next_word(ws);
	if (*v == NULL)
		return fail(ws, "'%s' needs a value", key);
	return 0;
}

static int word_u64(struct words *ws, const char *key, uint64_t max,
		    uint64_t *out)
{
	const char *v;
	if (need_value(ws, key, &v))
		return -1;
	if (es_parse_u64(v, max, out))
		return fail(ws, "bad value '%s' for '%s' (a number 0..%llu)",
			    v, key, (unsigned long long)max);
	return 0;
}

static int word_u32(struct words *ws, const char *key, uint32_t max,
		    uint32_t *out)
{
	uint64_t v;
	if (word_u64(ws, key, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int word_u8(struct words *ws, const char *key, uint8_t max,
		   uint8_t *out)
{
	uint64_t v;
	if (word_u64(ws, key, max, &v))
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int word_addr(struct words *ws, const char *key, int prefix,
		     struct es_addr *out)
{
	const char *v;
	if (need_value(ws, key, &v))
		return -1;
	if (es_parse_addr(v, prefix, out))
		return fail(ws, "bad %s '%s' for '%s'",
			    prefix == 1 ? "prefix" :
			    prefix == 2 ? "address/prefix-length" : "address",
			    v, key);
	return 0;
}

static int word_name(struct words *ws, const char *key, char *out,
		     size_t max)
{
	const char *v;
	if (need_value(ws, key, &v))
		return -1;
	if (strlen(v) >= max)
		return fail(ws, "'%s' for '%s' is longer than %zu characters",
			    v, key, max - 1);
	for (const char *c = v; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_-.:,=", *c))
			return fail(ws, "bad character '%c' in '%s'", *c, v);
	strcpy(out, v);
	return 0;
}

static int word_range(struct words *ws, const char *key, uint16_t *lo,
		      uint16_t *hi)
{
	const char *v;
	char a[16];
	const char *dash;
	uint64_t x, y;
	if (need_value(ws, key, &v))
		return -1;
	dash = strchr(v, '-');
	if (dash == NULL) {
		if (es_parse_u64(v, 65535, &x))
			goto bad;
		*lo = *hi = (uint16_t)x;
		return 0;
	}
	if ((size_t)(dash - v) >= sizeof(a))
		goto bad;
	memcpy(a, v, (size_t)(dash - v));
	a[dash - v] = '\0';
	if (es_parse_u64(a, 65535, &x) || es_parse_u64(dash + 1, 65535, &y) ||
	    x > y)
		goto bad;
	*lo = (uint16_t)x;
	*hi = (uint16_t)y;
	return 0;
bad:
	return fail(ws, "bad port range '%s' for '%s' (N or N-M, 0..65535)",
		    v, key);
}

static int unknown(struct words *ws, const char *obj, const char *w)
{
	return fail(ws, "unknown word '%s' in %s command (see docs/config.md)",
		    w, obj);
}

/* ---- objects ---- */

static int parse_set(struct words *ws, struct es_cmd *c)
{
	c->obj = ES_OBJ_SET;
	c->verb = ES_VERB_SET;
	if (ws->i >= ws->n)
		return fail(ws, "'set' needs a KEY and a VALUE");
	if (word_name(ws, "set", c->u.set.key, sizeof(c->u.set.key)))
		return -1;
	if (word_u64(ws, c->u.set.key, UINT32_MAX, &c->u.set.value))
		return -1;
	if (ws->i < ws->n)
		return unknown(ws, "set", ws->w[ws->i]);
	return 0;
}

static int parse_verb_add(struct words *ws, const char *obj)
{
	const char *v = next_word(ws);
	if (v == NULL)
		return fail(ws, "'%s' needs a verb (add)", obj);
	if (strcmp(v, "add") != 0)
		return fail(ws, "unknown verb '%s' for '%s' (expected add)",
			    v, obj);
	return 0;
}

static int parse_port(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_port *p = &c->u.port;
	const char *w;
	int have_dev = 0, have_role = 0;
	c->obj = ES_OBJ_PORT;
	if (parse_verb_add(ws, "port") ||
	    word_name(ws, "port add", p->name, sizeof(p->name)))
		return -1;
	while ((w = next_word(ws)) != NULL) {
		if (!strcmp(w, "dev")) {
			if (word_name(ws, w, p->dev, sizeof(p->dev)))
				return -1;
			have_dev = 1;
		} else if (!strcmp(w, "role")) {
			const char *v;
			int r;
			if (need_value(ws, w, &v))
				return -1;
			for (r = 0; r < 3; r++)
				if (!strcmp(v, es_role_names[r]))
					break;
			if (r == 3)
				return fail(ws, "bad role '%s' (access, core or local)", v);
			p->role = (uint8_t)r;
			have_role = 1;
		} else if (!strcmp(w, "addr")) {
			if (p->n_addr == ES_PORT_ADDRS)
				return fail(ws, "at most %d 'addr' per port",
					    ES_PORT_ADDRS);
			if (word_addr(ws, w, 2, &p->addr[p->n_addr]))
				return -1;
			p->n_addr++;
		} else if (!strcmp(w, "gw")) {
			if (word_addr(ws, w, 0, &p->gw4))
				return -1;
			if (p->gw4.v6)
				return fail(ws, "'gw' takes an IPv4 address; use 'gw6'");
			p->has_gw4 = 1;
		} else if (!strcmp(w, "gw6")) {
			if (word_addr(ws, w, 0, &p->gw6))
				return -1;
			if (!p->gw6.v6)
				return fail(ws, "'gw6' takes an IPv6 address");
			p->has_gw6 = 1;
		} else if (!strcmp(w, "mtu")) {
			if (word_u32(ws, w, 9600, &p->mtu))
				return -1;
			if (p->mtu < 576)
				return fail(ws, "mtu %u below 576", p->mtu);
		} else if (!strcmp(w, "mac")) {
			const char *v;
			if (need_value(ws, w, &v))
				return -1;
			if (es_parse_mac(v, p->mac))
				return fail(ws, "bad MAC address '%s'", v);
			p->has_mac = 1;
		} else {
			return unknown(ws, "port", w);
		}
	}
	if (!have_dev)
		return fail(ws, "port '%s' needs 'dev DEVICE'", p->name);
	if (!have_role)
		return fail(ws, "port '%s' needs 'role access|core|local'", p->name);
	if (p->n_addr == 0)
		return fail(ws, "port '%s' needs at least one 'addr A/PLEN'", p->name);
	return 0;
}

static int parse_neigh(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_neigh *n = &c->u.neigh;
	const char *w;
	int have_mac = 0, have_port = 0;
	c->obj = ES_OBJ_NEIGH;
	if (parse_verb_add(ws, "neigh"))
		return -1;
	if (ws->i >= ws->n)
		return fail(ws, "'neigh add' needs an ADDRESS");
	if (word_addr(ws, "neigh add", 0, &n->addr))
		return -1;
	while ((w = next_word(ws)) != NULL) {
		if (!strcmp(w, "lladdr")) {
			const char *v;
			if (need_value(ws, w, &v))
				return -1;
			if (es_parse_mac(v, n->mac))
				return fail(ws, "bad MAC address '%s'", v);
			have_mac = 1;
		} else if (!strcmp(w, "port")) {
			if (word_name(ws, w, n->port, sizeof(n->port)))
				return -1;
			have_port = 1;
		} else {
			return unknown(ws, "neigh", w);
		}
	}
	if (!have_mac)
		return fail(ws, "neigh needs 'lladdr MAC'");
	if (!have_port)
		return fail(ws, "neigh needs 'port NAME'");
	return 0;
}

static int parse_app(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_app *a = &c->u.app;
	const char *w;
	int have_via = 0;
	c->obj = ES_OBJ_APP;
	if (parse_verb_add(ws, "app") ||
	    word_name(ws, "app add", a->name, sizeof(a->name)))
		return -1;
	while ((w = next_word(ws)) != NULL) {
		if (!strcmp(w, "via")) {
			if (word_addr(ws, w, 0, &a->via))
				return -1;
			have_via = 1;
		} else if (!strcmp(w, "state")) {
			const char *v;
			if (need_value(ws, w, &v))
				return -1;
			if (!strcmp(v, "up"))
				a->down = 0;
			else if (!strcmp(v, "down"))
				a->down = 1;
			else
				return fail(ws, "bad state '%s' (up or down)", v);
		} else {
			return unknown(ws, "app", w);
		}
	}
	if (!have_via)
		return fail(ws, "app '%s' needs 'via ADDRESS'", a->name);
	return 0;
}

static int parse_session(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_session *s = &c->u.session;
	const char *w;
	int have_ul = 0, have_gnb = 0, have_gteid = 0, have_cteid = 0;
	c->obj = ES_OBJ_SESSION;
	if (parse_verb_add(ws, "session"))
		return -1;
	if (ws->i >= ws->n)
		return fail(ws, "'session add' needs an ID");
	if (word_u32(ws, "session add", UINT32_MAX, &s->id))
		return -1;
	while ((w = next_word(ws)) != NULL) {
		if (!strcmp(w, "ue")) {
			if (word_addr(ws, w, 0, &s->ue4))
				return -1;
			if (s->ue4.v6)
				return fail(ws, "'ue' takes an IPv4 address; use 'ue6' for an IPv6 prefix");
			s->has_ue4 = 1;
		} else if (!strcmp(w, "ue6")) {
			if (word_addr(ws, w, 1, &s->ue6))
				return -1;
			if (!s->ue6.v6 || s->ue6.plen != 64)
				return fail(ws, "'ue6' takes an IPv6 /64 prefix");
			s->has_ue6 = 1;
		} else if (!strcmp(w, "ul-teid")) {
			if (word_u32(ws, w, UINT32_MAX, &s->ul_teid))
				return -1;
			have_ul = 1;
		} else if (!strcmp(w, "gnb")) {
			if (word_addr(ws, w, 0, &s->gnb))
				return -1;
			have_gnb = 1;
		} else if (!strcmp(w, "gnb-teid")) {
			if (word_u32(ws, w, UINT32_MAX, &s->gnb_teid))
				return -1;
			have_gteid = 1;
		} else if (!strcmp(w, "cloud")) {
			if (word_addr(ws, w, 0, &s->cloud))
				return -1;
			s->has_cloud = 1;
		} else if (!strcmp(w, "cloud-teid")) {
			if (word_u32(ws, w, UINT32_MAX, &s->cloud_teid))
				return -1;
			have_cteid = 1;
		} else if (!strcmp(w, "n9-teid")) {
			if (word_u32(ws, w, UINT32_MAX, &s->n9_teid))
				return -1;
			s->has_n9 = 1;
		} else if (!strcmp(w, "qfi")) {
			if (word_u8(ws, w, 63, &s->qfi))
				return -1;
		} else {
			return unknown(ws, "session", w);
		}
	}
	if (!s->has_ue4 && !s->has_ue6)
		return fail(ws, "session %u needs 'ue A4' or 'ue6 A6/64'", s->id);
	if (!have_ul || s->ul_teid == 0)
		return fail(ws, "session %u needs a non-zero 'ul-teid N'", s->id);
	if (!have_gnb || !have_gteid)
		return fail(ws, "session %u needs 'gnb ADDRESS gnb-teid N'", s->id);
	if (s->has_cloud != have_cteid)
		return fail(ws, "session %u: 'cloud' and 'cloud-teid' go together", s->id);
	if (s->has_n9 && s->n9_teid == 0)
		return fail(ws, "session %u: 'n9-teid' must be non-zero", s->id);
	return 0;
}

static int parse_action(struct words *ws, const char *key, uint8_t *act,
			char *app, int allow_mirror)
{
	const char *v;
	if (need_value(ws, key, &v))
		return -1;
	if (!strcmp(v, "local") || (allow_mirror && !strcmp(v, "mirror"))) {
		*act = !strcmp(v, "local") ? ES_ACT_LOCAL : ES_ACT_MIRROR;
		return word_name(ws, v, app, ES_NAME_MAX);
	}
	if (!strcmp(v, "cloud"))
		*act = ES_ACT_CLOUD;
	else if (!strcmp(v, "drop"))
		*act = ES_ACT_DROP;
	else if (!strcmp(v, "forward"))
		*act = ES_ACT_FORWARD;
	else
		return fail(ws, "bad %s '%s' (local APP, cloud, drop, forward%s)",
			    key, v, allow_mirror ? ", mirror APP" : "");
	return 0;
}

static int parse_rule(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_rule *r = &c->u.rule;
	const char *w;
	c->obj = ES_OBJ_RULE;
	if (parse_verb_add(ws, "rule"))
		return -1;
	if (ws->i >= ws->n)
		return fail(ws, "'rule add' needs a PRIORITY");
	if (word_u32(ws, "rule add", 0x1fffffff - 1, &r->prio))
		return -1;
	r->dir = ES_DIR_UL;
	r->sport_hi = r->dport_hi = 65535;
	while ((w = next_word(ws)) != NULL) {
		if (!strcmp(w, "dir")) {
			const char *v;
			if (need_value(ws, w, &v))
				return -1;
			if (!strcmp(v, "ul"))
				r->dir = ES_DIR_UL;
			else if (!strcmp(v, "dl"))
				r->dir = ES_DIR_DL;
			else
				return fail(ws, "bad dir '%s' (ul or dl)", v);
		} else if (!strcmp(w, "ue")) {
			if (word_addr(ws, w, 1, &r->ue))
				return -1;
			r->has_ue = 1;
		} else if (!strcmp(w, "src")) {
			if (word_addr(ws, w, 1, &r->src))
				return -1;
			r->has_src = 1;
		} else if (!strcmp(w, "dst")) {
			if (word_addr(ws, w, 1, &r->dst))
				return -1;
			r->has_dst = 1;
		} else if (!strcmp(w, "proto")) {
			const char *v;
			uint64_t n;
			size_t k;
			if (need_value(ws, w, &v))
				return -1;
			for (k = 0; k < sizeof(proto_names) / sizeof(proto_names[0]); k++)
				if (!strcmp(v, proto_names[k].name))
					break;
			if (k < sizeof(proto_names) / sizeof(proto_names[0]))
				r->proto = proto_names[k].num;
			else if (es_parse_u64(v, 255, &n) == 0)
				r->proto = (uint8_t)n;
			else
				return fail(ws, "bad proto '%s' (tcp, udp, icmp, icmp6, sctp or 0..255)", v);
			r->has_proto = 1;
		} else if (!strcmp(w, "sport")) {
			if (word_range(ws, w, &r->sport_lo, &r->sport_hi))
				return -1;
		} else if (!strcmp(w, "dport")) {
			if (word_range(ws, w, &r->dport_lo, &r->dport_hi))
				return -1;
		} else if (!strcmp(w, "qfi")) {
			if (word_u8(ws, w, 63, &r->qfi))
				return -1;
			r->has_qfi = 1;
		} else if (!strcmp(w, "dscp")) {
			if (word_u8(ws, w, 63, &r->dscp))
				return -1;
			r->has_dscp = 1;
		} else if (!strcmp(w, "teid")) {
			if (word_u32(ws, w, UINT32_MAX, &r->teid))
				return -1;
			r->has_teid = 1;
		} else if (!strcmp(w, "action")) {
			if (parse_action(ws, w, &r->action, r->app, 1))
				return -1;
		} else if (!strcmp(w, "then")) {
			if (parse_action(ws, w, &r->then_action, r->then_app, 0))
				return -1;
		} else if (!strcmp(w, "fallback")) {
			const char *v;
			if (need_value(ws, w, &v))
				return -1;
			if (!strcmp(v, "cloud"))
				r->fallback = ES_ACT_CLOUD;
			else if (!strcmp(v, "drop"))
				r->fallback = ES_ACT_DROP;
			else
				return fail(ws, "bad fallback '%s' (cloud or drop)", v);
		} else {
			return unknown(ws, "rule", w);
		}
	}
	if (r->action == ES_ACT_NONE)
		return fail(ws, "rule %u needs 'action ...'", r->prio);
	if (r->then_action != ES_ACT_NONE && r->action != ES_ACT_MIRROR)
		return fail(ws, "rule %u: 'then' only follows 'action mirror APP'", r->prio);
	if (r->action == ES_ACT_MIRROR && r->then_action == ES_ACT_NONE)
		r->then_action = ES_ACT_FORWARD;
	if (r->dir == ES_DIR_DL &&
	    (r->action == ES_ACT_LOCAL || r->action == ES_ACT_CLOUD ||
	     r->action == ES_ACT_MIRROR))
		return fail(ws, "rule %u: a 'dir dl' rule takes 'action forward' or 'action drop'", r->prio);
	if (r->dir == ES_DIR_DL && (r->has_qfi || r->has_teid))
		return fail(ws, "rule %u: 'qfi' and 'teid' match uplink only", r->prio);
	if (r->fallback == ES_ACT_NONE)
		r->fallback = ES_ACT_CLOUD;
	{
		const struct es_addr *a[3] = { r->has_ue ? &r->ue : NULL,
			r->has_src ? &r->src : NULL, r->has_dst ? &r->dst : NULL };
		int fam = -1;
		for (int k = 0; k < 3; k++) {
			if (!a[k])
				continue;
			if (fam >= 0 && fam != a[k]->v6)
				return fail(ws, "rule %u mixes IPv4 and IPv6 prefixes", r->prio);
			fam = a[k]->v6;
		}
	}
	return 0;
}

static const struct {
	const char *word;
	int (*fn)(struct words *, struct es_cmd *);
} objects[] = {
	{ "set", parse_set }, { "port", parse_port }, { "neigh", parse_neigh },
	{ "app", parse_app }, { "session", parse_session },
	{ "rule", parse_rule },
};

int es_cmd_parse(const char *line, struct es_cmd *cmd, char err[ES_ERR_MAX])
{
	char buf[1024];
	struct words ws = { .err = err };
	char *save = NULL, *tok;
	size_t len = strlen(line);

	memset(cmd, 0, sizeof(*cmd));
	err[0] = '\0';
	if (len >= sizeof(buf)) {
		snprintf(err, ES_ERR_MAX, "line longer than %zu characters",
			 sizeof(buf) - 1);
		return -1;
	}
	memcpy(buf, line, len + 1);
	{
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
	}
	for (tok = strtok_r(buf, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (ws.n == ES_MAX_WORDS) {
			snprintf(err, ES_ERR_MAX, "more than %d words", ES_MAX_WORDS);
			return -1;
		}
		ws.w[ws.n++] = tok;
	}
	if (ws.n == 0)
		return 0;
	for (size_t k = 0; k < sizeof(objects) / sizeof(objects[0]); k++) {
		if (strcmp(ws.w[0], objects[k].word) == 0) {
			ws.i = 1;
			return objects[k].fn(&ws, cmd) ? -1 : 1;
		}
	}
	snprintf(err, ES_ERR_MAX,
		 "unknown object '%s' (set, port, neigh, app, session, rule)",
		 ws.w[0]);
	return -1;
}
