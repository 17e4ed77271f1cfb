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
const char *const es_obj_names[ES_OBJ_COUNT] = {
	"set", "port", "neigh", "app", "session", "rule", "counters", "state",
	"latency", "hook",
};
const char *const es_hook_point_words[3] = {
	"after-parse", "after-classify", "before-tx",
};
const char *const es_verb_names[ES_VERB_COUNT] = {
	"add", "set", "change", "del", "show", "attach", "trace",
};

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
size_t es_escape(char *dst, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f) {
			if (n + 1 >= len)
				break;
			dst[n++] = (char)c;
		} else {
			if (n + 4 >= len)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		}
	}
	dst[n] = '\0';
	return n;
}

/* The message, with the user's words in it escaped (es_escape): every
 * format string here is printable ASCII, so escaping the whole message
 * escapes only what came from the line. */
static int fail(struct words *ws, const char *fmt, ...)
{
	char raw[ES_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	es_escape(ws->err, ES_ERR_MAX, raw);
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
	/* the whole field, so a word given twice leaves nothing of the
	 * first behind (the struct compares equal to a fresh parse) */
	memset(out, 0, max);
	memcpy(out, v, strlen(v));
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

/* "OBJECT VERB" of c, for messages. */
static const char *label(const struct es_cmd *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", es_obj_names[c->obj], es_verb_names[c->verb]);
	return buf;
}

/* The end of a command that takes nothing more (show, del). */
static int no_more(struct words *ws, const struct es_cmd *c)
{
	char l[32];
	if (ws->i < ws->n)
		return fail(ws, "unknown word '%s' in %s command (see docs/control.md)",
			    ws->w[ws->i], label(c, l, sizeof(l)));
	return 0;
}

/* The key of a command: 1 when there is one to parse, 0 for a show
 * without one, -1 (with the message) when a needed key is missing. */
static int key_present(struct words *ws, const struct es_cmd *c,
		       const char *what)
{
	char l[32];
	if (ws->i < ws->n)
		return 1;
	if (c->verb == ES_VERB_SHOW)
		return 0;
	return fail(ws, "'%s' needs %s", label(c, l, sizeof(l)), what);
}

/* ---- objects ---- */

static int parse_set(struct words *ws, struct es_cmd *c)
{
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

static int parse_port(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_port *p = &c->u.port;
	const char *w;
	int have_dev = 0, have_role = 0, kp;
	char l[32];
	/* (add keeps its old message: "'port add' needs a value") */
	if (c->verb != ES_VERB_ADD && (kp = key_present(ws, c, "a NAME")) <= 0)
		return kp;
	if (word_name(ws, label(c, l, sizeof(l)), p->name, sizeof(p->name)))
		return -1;
	if (c->verb == ES_VERB_SHOW) {
		c->has_key = 1;
		return no_more(ws, c);
	}
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
	if (c->verb == ES_VERB_SHOW)
		return no_more(ws, c);
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
	char l[32];
	int r;
	if (c->verb != ES_VERB_ADD && (r = key_present(ws, c, "a NAME")) <= 0)
		return r;
	if (word_name(ws, label(c, l, sizeof(l)), a->name, sizeof(a->name)))
		return -1;
	if (c->verb != ES_VERB_ADD)
		c->has_key = 1;
	if (c->verb == ES_VERB_SHOW || c->verb == ES_VERB_DEL)
		return no_more(ws, c);
	while ((w = next_word(ws)) != NULL) {
		if (!strcmp(w, "via")) {
			if (word_addr(ws, w, 0, &a->via))
				return -1;
			a->has_via = 1;
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
			a->has_state = 1;
		} else {
			return unknown(ws, "app", w);
		}
	}
	if (c->verb == ES_VERB_CHANGE) {
		if (!a->has_via && !a->has_state)
			return fail(ws, "'app change %s' changes nothing: give 'via ADDRESS' and/or 'state up|down'",
				    a->name);
		return 0;
	}
	if (!a->has_via)
		return fail(ws, "app '%s' needs 'via ADDRESS'", a->name);
	a->has_state = 1;   /* an added app has a state: up unless given */
	return 0;
}

/* session add and session change: one word loop; a change takes gnb +
 * gnb-teid, cloud + cloud-teid and qfi, and refuses the keys */
static int parse_session(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_session *s = &c->u.session;
	const char *w;
	int have_ul = 0, have_gteid = 0, have_cteid = 0, r;
	int change = c->verb == ES_VERB_CHANGE;
	char l[32];
	if ((r = key_present(ws, c, "an ID")) <= 0)
		return r;
	if (word_u32(ws, label(c, l, sizeof(l)), UINT32_MAX, &s->id))
		return -1;
	if (c->verb != ES_VERB_ADD)
		c->has_key = 1;
	if (c->verb == ES_VERB_SHOW || c->verb == ES_VERB_DEL)
		return no_more(ws, c);
	while ((w = next_word(ws)) != NULL) {
		if (change && (!strcmp(w, "ue") || !strcmp(w, "ue6") ||
			       !strcmp(w, "ul-teid") || !strcmp(w, "n9-teid"))) {
			return fail(ws, "session %u: '%s' cannot be changed (delete the session and add it again)",
				    s->id, w);
		} else if (!strcmp(w, "ue")) {
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
			s->has_gnb = 1;
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
			s->has_qfi = 1;
		} else {
			return unknown(ws, "session", w);
		}
	}
	if (change) {
		if (s->has_gnb != have_gteid)
			return fail(ws, "session %u: 'gnb' and 'gnb-teid' go together", s->id);
		if (s->has_cloud != have_cteid)
			return fail(ws, "session %u: 'cloud' and 'cloud-teid' go together", s->id);
		if (!s->has_gnb && !s->has_cloud && !s->has_qfi)
			return fail(ws, "'session change %u' changes nothing: give 'gnb ADDRESS gnb-teid N', 'cloud ADDRESS cloud-teid N' and/or 'qfi N'",
				    s->id);
		return 0;
	}
	if (!s->has_ue4 && !s->has_ue6)
		return fail(ws, "session %u needs 'ue A4' or 'ue6 A6/64'", s->id);
	if (!have_ul || s->ul_teid == 0)
		return fail(ws, "session %u needs a non-zero 'ul-teid N'", s->id);
	if (!s->has_gnb || !have_gteid)
		return fail(ws, "session %u needs 'gnb ADDRESS gnb-teid N'", s->id);
	if (s->has_cloud != have_cteid)
		return fail(ws, "session %u: 'cloud' and 'cloud-teid' go together", s->id);
	if (s->has_n9 && s->n9_teid == 0)
		return fail(ws, "session %u: 'n9-teid' must be non-zero", s->id);
	s->has_gnb = 1;   /* an added session has both (qfi defaults to 0) */
	s->has_qfi = 1;
	return 0;
}

static int parse_action(struct words *ws, const char *key, uint8_t *act,
			char *app, int allow_mirror)
{
	const char *v;
	if (need_value(ws, key, &v))
		return -1;
	memset(app, 0, ES_NAME_MAX);   /* of an earlier action word */
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
	char l[32];
	int kp;
	if ((kp = key_present(ws, c, "a PRIORITY")) <= 0)
		return kp;
	if (word_u32(ws, label(c, l, sizeof(l)), 0x1fffffff - 1, &r->prio))
		return -1;
	if (c->verb != ES_VERB_ADD)
		c->has_key = 1;
	if (c->verb == ES_VERB_SHOW || c->verb == ES_VERB_DEL)
		return no_more(ws, c);
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
	/* an IPv6 UE is its /64: rules classify on the /64 of the UE address
	 * (classify.h, struct es_key6), so a longer 'ue' would match all of
	 * its /64 */
	if (r->has_ue && r->ue.v6 && r->ue.plen > 64)
		return fail(ws, "rule %u: an IPv6 'ue' prefix is at most /64 (the UE's prefix); "
			    "match an address in it with 'src' (uplink) or 'dst' (downlink)", r->prio);
	return 0;
}

static int parse_counters(struct words *ws, struct es_cmd *c)
{
	char l[32];
	if (ws->i < ws->n) {
		if (word_name(ws, label(c, l, sizeof(l)), c->u.set.key,
			      sizeof(c->u.set.key)))
			return -1;
		c->has_key = 1;
	}
	return no_more(ws, c);
}

/* a file path: printable ASCII but blanks and '#' (split and comment
 * already), '"' and '\\' (it is quoted in JSON as it is), shorter than max */
static int word_path(struct words *ws, const char *key, char *out, size_t max)
{
	const char *v;
	if (need_value(ws, key, &v))
		return -1;
	if (strlen(v) >= max)
		return fail(ws, "'%s' for '%s' is longer than %zu characters", v, key, max - 1);
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f ||
		    *c == '"' || *c == '\\')
			return fail(ws, "bad character in '%s'", v);
	memset(out, 0, max);
	memcpy(out, v, strlen(v));
	return 0;
}

static int parse_hook(struct words *ws, struct es_cmd *c)
{
	struct es_cmd_hook *h = &c->u.hook;
	const char *w;
	char l[32];
	int r, have_at = 0, have_obj = 0;
	if (c->verb == ES_VERB_TRACE && ws->i >= ws->n)
		return 0;     /* every hook's records */
	if ((r = key_present(ws, c, "a NAME")) <= 0)
		return r;
	if (word_name(ws, label(c, l, sizeof(l)), h->name, sizeof(h->name)))
		return -1;
	if (c->verb != ES_VERB_ATTACH) {
		c->has_key = 1;
		return no_more(ws, c);
	}
	memcpy(h->sec, "hook", 5);
	while ((w = next_word(ws)) != NULL) {
		if (!strcmp(w, "at")) {
			const char *v;
			unsigned int k;
			if (need_value(ws, w, &v))
				return -1;
			for (k = 0; k < 3 && strcmp(v, es_hook_point_words[k]); k++)
				;
			if (k == 3)
				return fail(ws, "bad hook point '%s' (after-parse, after-classify, before-tx)", v);
			h->point = (uint8_t)k;
			have_at = 1;
		} else if (!strcmp(w, "dir")) {
			const char *v;
			if (need_value(ws, w, &v))
				return -1;
			if (!strcmp(v, "ul"))
				h->dir = 0;
			else if (!strcmp(v, "dl"))
				h->dir = 1;
			else
				return fail(ws, "bad dir '%s' (ul or dl)", v);
		} else if (!strcmp(w, "obj")) {
			if (word_path(ws, w, h->obj, sizeof(h->obj)))
				return -1;
			have_obj = 1;
		} else if (!strcmp(w, "sec")) {
			if (word_name(ws, w, h->sec, sizeof(h->sec)))
				return -1;
		} else if (!strcmp(w, "order")) {
			if (word_u32(ws, w, UINT32_MAX, &h->order))
				return -1;
		} else if (!strcmp(w, "hash")) {
			const char *v;
			uint64_t x = 0;
			size_t n;
			if (need_value(ws, w, &v))
				return -1;
			n = strlen(v);
			if (n == 0 || n > 16)
				return fail(ws, "bad hash '%s' (1 to 16 hex digits)", v);
			for (size_t i = 0; i < n; i++) {
				int d = hexval(v[i]);
				if (d < 0)
					return fail(ws, "bad hash '%s' (1 to 16 hex digits)", v);
				x = x << 4 | (uint64_t)d;
			}
			h->hash = x;
			h->has_hash = 1;
		} else {
			return unknown(ws, "hook", w);
		}
	}
	if (!have_at)
		return fail(ws, "hook '%s' needs 'at POINT' (after-parse, after-classify, before-tx)",
			    h->name);
	if (!have_obj)
		return fail(ws, "hook '%s' needs 'obj FILE' (an eBPF object built with clang -target bpf)",
			    h->name);
	return 0;
}

static int parse_nothing_more(struct words *ws, struct es_cmd *c)
{
	return no_more(ws, c);
}

#define VB(v) (1u << ES_VERB_##v)
static const struct {
	uint8_t obj;
	unsigned int verbs;    /* VB() bits */
	int (*fn)(struct words *, struct es_cmd *);
} objects[] = {
	{ ES_OBJ_SET, VB(SET), parse_set },
	{ ES_OBJ_PORT, VB(ADD) | VB(SHOW), parse_port },
	{ ES_OBJ_NEIGH, VB(ADD) | VB(SHOW), parse_neigh },
	{ ES_OBJ_APP, VB(ADD) | VB(CHANGE) | VB(DEL) | VB(SHOW), parse_app },
	{ ES_OBJ_SESSION, VB(ADD) | VB(CHANGE) | VB(DEL) | VB(SHOW), parse_session },
	{ ES_OBJ_RULE, VB(ADD) | VB(CHANGE) | VB(DEL) | VB(SHOW), parse_rule },
	{ ES_OBJ_COUNTERS, VB(SHOW), parse_counters },
	{ ES_OBJ_STATE, VB(SHOW), parse_nothing_more },
	{ ES_OBJ_LATENCY, VB(SHOW), parse_nothing_more },
	{ ES_OBJ_HOOK, VB(ATTACH) | VB(DEL) | VB(SHOW) | VB(TRACE), parse_hook },
};
#define N_OBJECTS (sizeof(objects) / sizeof(objects[0]))

/* "add, change, del, show": the verbs in mask, for messages */
static const char *verb_list(unsigned int mask, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int v = 0; v < ES_VERB_COUNT; v++)
		if (mask & (1u << v))
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? ", " : "", es_verb_names[v]);
	return buf;
}

static int find_object(const char *w)
{
	for (size_t k = 0; k < N_OBJECTS; k++)
		if (strcmp(w, es_obj_names[objects[k].obj]) == 0)
			return (int)k;
	return -1;
}

/* the words: "show OBJECT ARGS", "set KEY VALUE" or "OBJECT VERB ARGS" */
static int dispatch(struct words *ws, struct es_cmd *c)
{
	char l[64];
	int k, v;
	if (strcmp(ws->w[0], "show") == 0) {
		if (ws->n < 2)
			return fail(ws, "'show' needs an OBJECT (port, neigh, app, session, rule, counters, state, latency, hook)");
		k = find_object(ws->w[1]);
		if (k < 0 || !(objects[k].verbs & VB(SHOW)))
			return fail(ws, "unknown object '%s' for 'show' (port, neigh, app, session, rule, counters, state, latency, hook)",
				    ws->w[1]);
		c->obj = objects[k].obj;
		c->verb = ES_VERB_SHOW;
		ws->i = 2;
		return objects[k].fn(ws, c);
	}
	k = find_object(ws->w[0]);
	if (k < 0)
		return fail(ws, "unknown object '%s' (set, port, neigh, app, session, rule, counters, state, latency, hook, show)",
			    ws->w[0]);
	c->obj = objects[k].obj;
	if (c->obj == ES_OBJ_SET) {
		c->verb = ES_VERB_SET;
		ws->i = 1;
		return objects[k].fn(ws, c);
	}
	if (ws->n < 2)
		return fail(ws, "'%s' needs a verb (%s)", ws->w[0],
			    verb_list(objects[k].verbs, l, sizeof(l)));
	for (v = 0; v < ES_VERB_COUNT; v++)
		if ((objects[k].verbs & (1u << v)) &&
		    strcmp(ws->w[1], es_verb_names[v]) == 0)
			break;
	if (v == ES_VERB_COUNT)
		return fail(ws, "unknown verb '%s' for '%s' (%s)", ws->w[1],
			    ws->w[0], verb_list(objects[k].verbs, l, sizeof(l)));
	c->verb = (uint8_t)v;
	ws->i = 2;
	return objects[k].fn(ws, c);
}

int es_cmd_parse(const char *line, struct es_cmd *cmd, char err[ES_ERR_MAX])
{
	char buf[ES_LINE_MAX + 1];
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
	return dispatch(&ws, cmd) ? -1 : 1;
}

/* ---- formatter ---- */

/* Is verb v one that object o takes? */
static int pair_ok(const struct es_cmd *c)
{
	for (size_t k = 0; k < N_OBJECTS; k++)
		if (objects[k].obj == c->obj)
			return c->verb < ES_VERB_COUNT &&
			       (objects[k].verbs & (1u << c->verb)) != 0;
	return 0;
}

#define EMIT(key, val, flags) do {                              \
		int rc_ = emit(arg, (key), (val), (flags));     \
		if (rc_ != 0)                                   \
			return rc_;                             \
	} while (0)

/* a name field, bounded even when the struct did not come from the parser */
static const char *name_str(const char *s, size_t max, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strnlen(s, max), s);
	return buf;
}

static const char *u64_str(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const char *mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* an address for the text: v6 in 0/1 and plen in range, else NULL */
static const char *addr_text(const struct es_addr *a, int with_plen,
			     char *buf, size_t len)
{
	if (a->v6 > 1 || a->plen > (a->v6 ? 128 : 32))
		return NULL;
	return es_addr_str(a, with_plen, buf, len);
}

#define ADDR(key, a, with_plen, flags) do {                             \
		if (addr_text((a), (with_plen), v, sizeof(v)) == NULL)  \
			return -1;                                      \
		EMIT((key), v, (flags));                                \
	} while (0)

static int fields_port(const struct es_cmd *c, es_field_fn emit, void *arg)
{
	const struct es_cmd_port *p = &c->u.port;
	char v[96];
	if (c->verb == ES_VERB_SHOW) {
		if (c->has_key)
			EMIT("name", name_str(p->name, sizeof(p->name), v, sizeof(v)),
			     ES_FIELD_POS);
		return 0;
	}
	if (p->role > ES_ROLE_LOCAL || p->n_addr > ES_PORT_ADDRS)
		return -1;
	EMIT("name", name_str(p->name, sizeof(p->name), v, sizeof(v)), ES_FIELD_POS);
	EMIT("dev", name_str(p->dev, sizeof(p->dev), v, sizeof(v)), 0);
	EMIT("role", es_role_names[p->role], 0);
	for (int i = 0; i < p->n_addr; i++)
		ADDR("addr", &p->addr[i], 1, ES_FIELD_LIST);
	if (p->has_gw4)
		ADDR("gw", &p->gw4, 0, 0);
	if (p->has_gw6)
		ADDR("gw6", &p->gw6, 0, 0);
	if (p->mtu)
		EMIT("mtu", u64_str(p->mtu, v, sizeof(v)), ES_FIELD_NUM);
	if (p->has_mac)
		EMIT("mac", mac_str(p->mac, v, sizeof(v)), 0);
	return 0;
}

static int fields_neigh(const struct es_cmd *c, es_field_fn emit, void *arg)
{
	const struct es_cmd_neigh *n = &c->u.neigh;
	char v[96];
	if (c->verb == ES_VERB_SHOW)
		return 0;
	ADDR("addr", &n->addr, 0, ES_FIELD_POS);
	EMIT("lladdr", mac_str(n->mac, v, sizeof(v)), 0);
	EMIT("port", name_str(n->port, sizeof(n->port), v, sizeof(v)), 0);
	return 0;
}

static int fields_app(const struct es_cmd *c, es_field_fn emit, void *arg)
{
	const struct es_cmd_app *a = &c->u.app;
	char v[96];
	if (c->verb == ES_VERB_SHOW && !c->has_key)
		return 0;
	EMIT("name", name_str(a->name, sizeof(a->name), v, sizeof(v)), ES_FIELD_POS);
	if (c->verb == ES_VERB_SHOW || c->verb == ES_VERB_DEL)
		return 0;
	if (a->has_via)
		ADDR("via", &a->via, 0, 0);
	if (a->has_state)
		EMIT("state", a->down ? "down" : "up", 0);
	return 0;
}

static int fields_session(const struct es_cmd *c, es_field_fn emit, void *arg)
{
	const struct es_cmd_session *s = &c->u.session;
	char v[96];
	if (c->verb == ES_VERB_SHOW && !c->has_key)
		return 0;
	EMIT("id", u64_str(s->id, v, sizeof(v)), ES_FIELD_POS | ES_FIELD_NUM);
	if (c->verb == ES_VERB_SHOW || c->verb == ES_VERB_DEL)
		return 0;
	if (c->verb == ES_VERB_ADD) {
		if (s->has_ue4)
			ADDR("ue", &s->ue4, 0, 0);
		if (s->has_ue6)
			ADDR("ue6", &s->ue6, 1, 0);
		EMIT("ul-teid", u64_str(s->ul_teid, v, sizeof(v)), ES_FIELD_NUM);
	}
	if (s->has_gnb) {
		ADDR("gnb", &s->gnb, 0, 0);
		EMIT("gnb-teid", u64_str(s->gnb_teid, v, sizeof(v)), ES_FIELD_NUM);
	}
	if (s->has_cloud) {
		ADDR("cloud", &s->cloud, 0, 0);
		EMIT("cloud-teid", u64_str(s->cloud_teid, v, sizeof(v)), ES_FIELD_NUM);
	}
	if (c->verb == ES_VERB_ADD && s->has_n9)
		EMIT("n9-teid", u64_str(s->n9_teid, v, sizeof(v)), ES_FIELD_NUM);
	if (s->has_qfi)
		EMIT("qfi", u64_str(s->qfi, v, sizeof(v)), ES_FIELD_NUM);
	return 0;
}

static const char *range_str(uint16_t lo, uint16_t hi, char *buf, size_t len)
{
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
	return buf;
}

static int fields_rule(const struct es_cmd *c, es_field_fn emit, void *arg)
{
	const struct es_cmd_rule *r = &c->u.rule;
	char v[96];
	if (c->verb == ES_VERB_SHOW && !c->has_key)
		return 0;
	EMIT("prio", u64_str(r->prio, v, sizeof(v)), ES_FIELD_POS | ES_FIELD_NUM);
	if (c->verb == ES_VERB_SHOW || c->verb == ES_VERB_DEL)
		return 0;
	if (r->dir > ES_DIR_DL || r->action > ES_ACT_MIRROR ||
	    r->then_action > ES_ACT_MIRROR || r->fallback > ES_ACT_MIRROR)
		return -1;
	if (r->dir == ES_DIR_DL)
		EMIT("dir", "dl", 0);
	if (r->has_ue)
		ADDR("ue", &r->ue, 1, 0);
	if (r->has_src)
		ADDR("src", &r->src, 1, 0);
	if (r->has_dst)
		ADDR("dst", &r->dst, 1, 0);
	if (r->has_proto) {
		const char *name = NULL;
		for (size_t k = 0; k < sizeof(proto_names) / sizeof(proto_names[0]); k++)
			if (proto_names[k].num == r->proto)
				name = proto_names[k].name;
		EMIT("proto", name ? name : u64_str(r->proto, v, sizeof(v)), 0);
	}
	if (r->sport_lo != 0 || r->sport_hi != 65535)
		EMIT("sport", range_str(r->sport_lo, r->sport_hi, v, sizeof(v)), 0);
	if (r->dport_lo != 0 || r->dport_hi != 65535)
		EMIT("dport", range_str(r->dport_lo, r->dport_hi, v, sizeof(v)), 0);
	if (r->has_qfi)
		EMIT("qfi", u64_str(r->qfi, v, sizeof(v)), ES_FIELD_NUM);
	if (r->has_dscp)
		EMIT("dscp", u64_str(r->dscp, v, sizeof(v)), ES_FIELD_NUM);
	if (r->has_teid)
		EMIT("teid", u64_str(r->teid, v, sizeof(v)), ES_FIELD_NUM);
	EMIT("action", es_act_names[r->action], 0);
	if (r->action == ES_ACT_LOCAL || r->action == ES_ACT_MIRROR)
		EMIT("app", name_str(r->app, sizeof(r->app), v, sizeof(v)), ES_FIELD_POS);
	if (r->action == ES_ACT_MIRROR && r->then_action != ES_ACT_FORWARD &&
	    r->then_action != ES_ACT_NONE) {
		EMIT("then", es_act_names[r->then_action], 0);
		if (r->then_action == ES_ACT_LOCAL)
			EMIT("then-app", name_str(r->then_app, sizeof(r->then_app),
						  v, sizeof(v)), ES_FIELD_POS);
	}
	if (r->fallback == ES_ACT_DROP)
		EMIT("fallback", "drop", 0);
	return 0;
}

static int fields_hook(const struct es_cmd *c, es_field_fn emit, void *arg)
{
	const struct es_cmd_hook *h = &c->u.hook;
	char v[ES_CMD_PATH_MAX + 8];
	if ((c->verb == ES_VERB_SHOW || c->verb == ES_VERB_TRACE) && !c->has_key)
		return 0;
	EMIT("name", name_str(h->name, sizeof(h->name), v, sizeof(v)), ES_FIELD_POS);
	if (c->verb != ES_VERB_ATTACH)
		return 0;
	if (h->point > 2 || h->dir > 1)
		return -1;
	EMIT("at", es_hook_point_words[h->point], 0);
	if (h->dir)
		EMIT("dir", "dl", 0);
	EMIT("obj", name_str(h->obj, sizeof(h->obj), v, sizeof(v)), 0);
	if (strncmp(h->sec, "hook", sizeof(h->sec)) != 0)
		EMIT("sec", name_str(h->sec, sizeof(h->sec), v, sizeof(v)), 0);
	if (h->order)
		EMIT("order", u64_str(h->order, v, sizeof(v)), ES_FIELD_NUM);
	if (h->has_hash) {
		snprintf(v, sizeof(v), "%016llx", (unsigned long long)h->hash);
		EMIT("hash", v, 0);
	}
	return 0;
}

int es_cmd_fields(const struct es_cmd *c, es_field_fn emit, void *arg)
{
	char v[96];
	if (!pair_ok(c))
		return -1;
	switch (c->obj) {
	case ES_OBJ_SET:
		EMIT("key", name_str(c->u.set.key, sizeof(c->u.set.key), v, sizeof(v)),
		     ES_FIELD_POS);
		EMIT("value", u64_str(c->u.set.value, v, sizeof(v)),
		     ES_FIELD_POS | ES_FIELD_NUM);
		return 0;
	case ES_OBJ_PORT:
		return fields_port(c, emit, arg);
	case ES_OBJ_NEIGH:
		return fields_neigh(c, emit, arg);
	case ES_OBJ_APP:
		return fields_app(c, emit, arg);
	case ES_OBJ_SESSION:
		return fields_session(c, emit, arg);
	case ES_OBJ_RULE:
		return fields_rule(c, emit, arg);
	case ES_OBJ_COUNTERS:
		if (c->has_key)
			EMIT("name", name_str(c->u.set.key, sizeof(c->u.set.key),
					      v, sizeof(v)), ES_FIELD_POS);
		return 0;
	case ES_OBJ_HOOK:
		return fields_hook(c, emit, arg);
	default:       /* state, latency: no fields */
		return 0;
	}
}

struct fmt {
	char *buf;
	size_t len, pos;   /* pos: the length the whole line needs */
};

static void put(struct fmt *f, const char *s)
{
	size_t n = strlen(s);
	if (f->pos < f->len) {
		size_t room = f->len - 1 - f->pos;   /* keep one for the NUL */
		size_t k = n < room ? n : room;
		memcpy(f->buf + f->pos, s, k);
		f->buf[f->pos + k] = '\0';
	}
	f->pos += n;
}

static int fmt_field(void *arg, const char *key, const char *value,
		     unsigned int flags)
{
	struct fmt *f = arg;
	if (!(flags & ES_FIELD_POS)) {
		put(f, " ");
		put(f, key);
	}
	put(f, " ");
	put(f, value);
	return 0;
}

int es_cmd_format(const struct es_cmd *c, char *buf, size_t len)
{
	struct fmt f = { .buf = buf, .len = len, .pos = 0 };
	if (len > 0)
		buf[0] = '\0';
	if (!pair_ok(c))
		return -1;
	put(&f, es_obj_names[c->obj]);
	if (c->obj != ES_OBJ_SET) {
		put(&f, " ");
		put(&f, es_verb_names[c->verb]);
	}
	if (es_cmd_fields(c, fmt_field, &f) != 0)
		return -1;
	if (f.pos >= len || f.pos > INT32_MAX)
		return -1;
	return (int)f.pos;
}
