/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control path (see ctl.h): the control socket and the changes it
 * asks for. Runs on the main lcore only.
 *
 * A batch applies in dependency order, each stage live before the next:
 * neighbours, apps added or changed, sessions, rules, apps deleted,
 * hooks (eBPF programs: loaded, validated and swapped in). Any
 * failure undoes the stages already applied, so a batch is all or
 * nothing; the state journal is written last, and a failure there undoes
 * the batch too. A command returns only after an RCU grace period: no
 * worker uses the old state any more.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include "entries.h"
#include "ctl_proto.h"
#include "classify.h"
#include "ctl.h"
#include "encap.h"
#include "hook.h"
#include "parse.h"
#include "rules.h"
#include "state.h"
#include "worker.h"

/* ---- printers: one per object, text (the input's words) or JSON ---- */

struct pr {
	struct es_obuf *o;
	bool json;
	unsigned int n;          /* records printed */
	unsigned int nf;         /* fields in this record */
	char list[32];           /* the key of an open JSON array (ES_FIELD_LIST) */
};

static void json_str(struct es_obuf *o, const char *s)
{
	es_ob_printf(o, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			es_ob_printf(o, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			es_ob_printf(o, "\\u%04x", *s);
		else
			es_ob_printf(o, "%c", *s);
	}
	es_ob_printf(o, "\"");
}

static void pr_list_close(struct pr *p)
{
	if (p->list[0]) {
		es_ob_printf(p->o, "]");
		p->list[0] = '\0';
	}
}

static int pr_field(void *arg, const char *key, const char *val,
		    unsigned int flags)
{
	struct pr *p = arg;
	if (!p->json)
		return 0;
	if ((flags & ES_FIELD_LIST) && strcmp(p->list, key) == 0) {
		es_ob_printf(p->o, ", ");  /* one more item of the open array */
	} else {
		pr_list_close(p);
		es_ob_printf(p->o, "%s", p->nf ? ", " : "");
		json_str(p->o, key);
		es_ob_printf(p->o, ": ");
		if (flags & ES_FIELD_LIST) {
			es_ob_printf(p->o, "[");
			snprintf(p->list, sizeof(p->list), "%s", key);
		}
	}
	if (flags & ES_FIELD_NUM)
		es_ob_printf(p->o, "%s", val);
	else
		json_str(p->o, val);
	p->nf++;
	return 0;
}

/* One command as a record: JSON object of its fields, or its line. */
static void pr_cmd(struct pr *p, const struct es_cmd *c, const char *extra)
{
	if (p->json) {
		es_ob_printf(p->o, "%s\n    {", p->n ? "," : "");
		p->nf = 0;
		es_cmd_fields(c, pr_field, p);
		pr_list_close(p);
		if (extra)
			es_ob_printf(p->o, "%s%s", p->nf ? ", " : "", extra);
		es_ob_printf(p->o, "}");
	} else {
		char line[1100];
		es_cmd_format(c, line, sizeof(line));
		es_ob_printf(p->o, "%s\n", line);
	}
	p->n++;
}

static void pr_list_begin(struct pr *p, const char *name)
{
	p->n = 0;
	if (p->json)
		es_ob_printf(p->o, "{\"%s\": [", name);
}

static void pr_list_end(struct pr *p)
{
	if (p->json)
		es_ob_printf(p->o, "%s]}\n", p->n ? "\n  " : "");
}

static int show_rule_one(void *arg, const struct es_rule *r)
{
	struct es_cmd c;
	es_rule_to_cmd(r, &c);
	pr_cmd(arg, &c, NULL);
	return 0;
}

static int show_rules(struct pr *p, const struct es_cmd *q, char err[ES_ERR_MAX])
{
	if (q->has_key) {
		const struct es_rule *r = es_rules_find(q->u.rule.prio);
		if (r == NULL) {
			snprintf(err, ES_ERR_MAX, "rule %u does not exist", q->u.rule.prio);
			return -1;
		}
		pr_list_begin(p, "rules");
		show_rule_one(p, r);
		pr_list_end(p);
		return 0;
	}
	pr_list_begin(p, "rules");
	es_rules_foreach(show_rule_one, p);
	pr_list_end(p);
	return 0;
}

static void show_app_one(struct pr *p, const struct es_app *a)
{
	struct es_cmd c;
	char extra[192], mac[RTE_ETHER_ADDR_FMT_SIZE];
	es_app_to_cmd(a, &c);
	rte_ether_format_addr(mac, sizeof(mac), &a->hop.mac);
	/* index: the app's slot, what a hook program's STEER_APP names
	 * (docs/ebpf.md) */
	snprintf(extra, sizeof(extra), "\"port\": \"%s\", \"lladdr\": \"%s\", \"rules\": %s, \"index\": %u",
		 es_ports[a->hop.port].name, mac,
		 es_rules_use_app((uint16_t)(a - es_tables_live->apps)) ? "true" : "false",
		 (unsigned int)(a - es_tables_live->apps));
	pr_cmd(p, &c, extra);
}

static int app_name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct es_app *const *)a)->name,
		      (*(const struct es_app *const *)b)->name);
}

static int show_apps(struct pr *p, const struct es_cmd *q, char err[ES_ERR_MAX])
{
	const struct es_tables *t = es_tables_live;
	if (q->has_key && es_app_find(t, q->u.app.name) < 0) {
		snprintf(err, ES_ERR_MAX, "no app named '%s'", q->u.app.name);
		return -1;
	}
	/* by name, as in the state file: the same order after a restart,
	 * whatever slots the apps had */
	{
		const struct es_app *v[ES_MAX_APPS];
		unsigned int n = 0;
		for (uint16_t i = 0; i < t->n_apps; i++) {
			if (t->apps[i].name[0] == '\0')
				continue;  /* a deleted app's slot */
			if (q->has_key && strcmp(t->apps[i].name, q->u.app.name) != 0)
				continue;
			v[n++] = &t->apps[i];
		}
		qsort(v, n, sizeof(v[0]), app_name_cmp);
		pr_list_begin(p, "apps");
		for (unsigned int i = 0; i < n; i++)
			show_app_one(p, v[i]);
		pr_list_end(p);
	}
	return 0;
}

struct sess_sort {
	uint32_t id, slot;
};

static int sess_collect(void *arg, const struct es_session *s)
{
	struct sess_sort **v = arg;
	(*v)->id = s->id;
	(*v)->slot = (uint32_t)(s - es_tables_live->sessions);
	(*v)++;
	return 0;
}

static int sess_cmp(const void *a, const void *b)
{
	const struct sess_sort *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The live sessions sorted by id (caller frees), or NULL. */
static struct sess_sort *sessions_sorted(uint32_t *n)
{
	const struct es_tables *t = es_tables_live;
	struct sess_sort *v = malloc(((size_t)t->n_sessions + 1) * sizeof(*v)), *e = v;
	if (v == NULL)
		return NULL;
	es_sessions_foreach(t, sess_collect, &e);
	*n = (uint32_t)(e - v);
	qsort(v, *n, sizeof(*v), sess_cmp);
	return v;
}

static int show_sessions(struct pr *p, const struct es_cmd *q, char err[ES_ERR_MAX])
{
	const struct es_tables *t = es_tables_live;
	struct es_cmd c;
	if (q->has_key) {
		int64_t i = es_session_find(t, q->u.session.id);
		if (i < 0 || (uint64_t)i >= t->sess_cap) {
			snprintf(err, ES_ERR_MAX, "session %u does not exist", q->u.session.id);
			return -1;
		}
		pr_list_begin(p, "sessions");
		es_session_to_cmd(t, &t->sessions[i], &c);
		pr_cmd(p, &c, NULL);
		pr_list_end(p);
		return 0;
	}
	{
		uint32_t n;
		struct sess_sort *v = sessions_sorted(&n);
		if (v == NULL) {
			snprintf(err, ES_ERR_MAX, "out of memory listing %u sessions", t->n_sessions);
			return -1;
		}
		pr_list_begin(p, "sessions");
		for (uint32_t i = 0; i < n; i++) {
			es_session_to_cmd(t, &t->sessions[v[i].slot], &c);
			pr_cmd(p, &c, NULL);
		}
		pr_list_end(p);
		free(v);
	}
	return 0;
}

static int show_ports(struct pr *p, const struct es_cmd *q, char err[ES_ERR_MAX])
{
	bool found = false;
	pr_list_begin(p, "ports");
	for (uint16_t i = 0; i < es_n_ports; i++) {
		const struct es_port *pt = &es_ports[i];
		struct rte_eth_stats st;
		struct es_cmd c;
		char extra[320];
		if (q->has_key && strcmp(pt->name, q->u.port.name) != 0)
			continue;
		found = true;
		memset(&c, 0, sizeof(c));
		c.obj = ES_OBJ_PORT;
		c.verb = ES_VERB_ADD;
		snprintf(c.u.port.name, sizeof(c.u.port.name), "%s", pt->name);
		snprintf(c.u.port.dev, sizeof(c.u.port.dev), "%s", pt->dev);
		c.u.port.role = pt->role;
		c.u.port.n_addr = pt->n_addr;
		memcpy(c.u.port.addr, pt->addr, sizeof(c.u.port.addr));
		c.u.port.has_gw4 = pt->has_gw4;
		c.u.port.has_gw6 = pt->has_gw6;
		c.u.port.gw4 = pt->gw4;
		c.u.port.gw6 = pt->gw6;
		c.u.port.has_mac = 1;
		memcpy(c.u.port.mac, pt->mac.addr_bytes, 6);
		c.u.port.mtu = pt->mtu;
		memset(&st, 0, sizeof(st));
		rte_eth_stats_get(pt->port_id, &st);
		if (p->json) {
			snprintf(extra, sizeof(extra),
				 "\"rx\": %llu, \"tx\": %llu, \"rx_missed\": %llu, \"tx_errors\": %llu, \"rx_errors\": %llu, \"rx_nombuf\": %llu",
				 (unsigned long long)st.ipackets, (unsigned long long)st.opackets,
				 (unsigned long long)st.imissed, (unsigned long long)st.oerrors,
				 (unsigned long long)st.ierrors, (unsigned long long)st.rx_nombuf);
			pr_cmd(p, &c, extra);
		} else {
			char line[1100];
			es_cmd_format(&c, line, sizeof(line));
			/* the statistics as a comment: the line still pastes back */
			es_ob_printf(p->o, "%s  # rx %llu tx %llu rx_missed %llu tx_errors %llu rx_errors %llu rx_nombuf %llu\n",
				     line, (unsigned long long)st.ipackets,
				     (unsigned long long)st.opackets,
				     (unsigned long long)st.imissed,
				     (unsigned long long)st.oerrors,
				     (unsigned long long)st.ierrors,
				     (unsigned long long)st.rx_nombuf);
			p->n++;
		}
	}
	if (q->has_key && !found) {
		pr_list_end(p);
		snprintf(err, ES_ERR_MAX, "no port named '%s'", q->u.port.name);
		return -1;
	}
	/* the pool the ports receive into, and reassembly's part of it
	 * (worker.h): a comment line after the ports, "pool" in JSON */
	{
		struct es_pool_stats ps;
		char f[400];
		es_pool_stats_get(&ps);
		snprintf(f, sizeof(f),
			 p->json ? "\"mbufs\": %u, \"in_use\": %u, \"available\": %u, \"min_available\": %u, \"empty_samples\": %llu, \"frag_held\": %llu, \"frag_mbufs\": %u, \"frag_source_mbufs\": %u"
				 : "# pool mbufs %u in_use %u available %u min_available %u empty_samples %llu frag_held %llu frag_mbufs %u frag_source_mbufs %u",
			 ps.mbufs, ps.in_use, ps.available, ps.min_available,
			 (unsigned long long)ps.empty_samples, (unsigned long long)ps.frag_held,
			 ps.frag_mbufs, ps.frag_source_mbufs);
		if (p->json)
			es_ob_printf(p->o, "%s], \"pool\": {%s}}\n", p->n ? "\n  " : "", f);
		else
			es_ob_printf(p->o, "%s\n", f);
	}
	return 0;
}

static int show_neigh(struct pr *p)
{
	struct es_cmd c;
	pr_list_begin(p, "neighbours");
	for (uint32_t i = 0; i < es_neigh_count(); i++) {
		es_neigh_to_cmd(i, &c);
		pr_cmd(p, &c, NULL);
	}
	pr_list_end(p);
	return 0;
}

static int show_counters(struct pr *p, const struct es_cmd *q, char err[ES_ERR_MAX])
{
	int only = -1;
	if (q->has_key && (only = es_cnt_by_name(q->u.set.key)) < 0) {
		snprintf(err, ES_ERR_MAX, "no counter named '%s' (see docs/counters.md)",
			 q->u.set.key);
		return -1;
	}
	if (p->json)
		es_ob_printf(p->o, "{\"counters\": {");
	else
		es_ob_printf(p->o, "%-28s %14s  %s\n", "counter", "value", "meaning");
	for (int i = 1; i < ES_CNT_MAX; i++) {
		uint64_t v;
		if (only >= 0 && i != only)
			continue;
		v = es_counter_sum(i);
		if (p->json)
			es_ob_printf(p->o, "%s\n  \"%s\": %llu", p->n++ ? "," : "",
				     es_cnt_desc[i].name, (unsigned long long)v);
		else
			es_ob_printf(p->o, "%-28s %14llu  %s\n", es_cnt_desc[i].name,
				     (unsigned long long)v, es_cnt_desc[i].help);
	}
	if (p->json)
		es_ob_printf(p->o, "\n}}\n");
	return 0;
}

static int show_latency(struct pr *p)
{
	struct es_lat_hist h;
	double ns = 1e9 / (double)rte_get_tsc_hz();
	memset(&h, 0, sizeof(h));
	for (unsigned int i = 0; i < es_n_workers; i++)
		es_lat_merge(&h, &es_workers[i].lat);
	if (p->json) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f == NULL)
			return -1;
		fprintf(f, "{\"latency\": ");
		es_lat_json(f, &h, ns, false);
		fprintf(f, "}\n");
		fclose(f);
		es_ob_printf(p->o, "%s", buf);
		free(buf);
		return 0;
	}
	es_ob_printf(p->o, "rx->tx latency over %llu packets (ns):\n",
		     (unsigned long long)h.count);
	{
		static const double q[] = { 0.5, 0.9, 0.99, 0.999 };
		static const char *const qn[] = { "p50", "p90", "p99", "p99.9" };
		for (int i = 0; i < 4; i++)
			es_ob_printf(p->o, "  %-6s %10.0f\n", qn[i],
				     (double)es_lat_quantile(&h, q[i]) * ns);
		es_ob_printf(p->o, "  %-6s %10.0f\n", "max", (double)h.max * ns);
	}
	return 0;
}

/* The control socket's counters (the socket, below), for 'state show'. */
static struct {
	uint64_t accepted;      /* connections given a slot */
	uint64_t requests;      /* requests answered (done or refused) */
	uint64_t refused_full;  /* turned away: every slot taken */
	uint64_t refused_uid;   /* turned away: another user */
	uint64_t closed_idle;   /* closed: nothing sent for idle_ms */
	uint64_t dropped_slow;  /* dropped: its answer not read for send_ms */
	uint64_t bad_header;    /* refused and closed: bad magic */
	uint64_t too_large;     /* refused and closed: over ES_CTL_MAX_REQ */
	uint32_t clients;       /* connected now */
} ctl_st;
static void show_control(struct pr *p);

static int show_state(struct pr *p)
{
	const struct es_tables *t = es_tables_live;
	uint64_t lines, d = es_state_digest(&lines);
	struct es_rules_stats rs;
	uint32_t apps = es_apps_live(t);
	char probe[128];
	es_rules_stats(&rs);
	(void)es_acl_probe(probe, sizeof(probe), 1);
	/* -j adds the rule engine (rules.c): the published generation, the
	 * base and the delta, and how merges keep up; and the control
	 * socket's clients and counters. Not in the text line, which is
	 * compared across restarts. */
	if (p->json)
		es_ob_printf(p->o,
			     "{\"state\": {\"apps\": %u, \"sessions\": %u, \"rules\": %u, \"neighbours\": %u, \"digest\": \"%016llx\", \"saved\": %s, "
			     "\"rule_engine\": {\"generation\": %llu, \"base\": %u, \"delta\": %u, \"tuples\": %u, \"dead\": %u, "
			     "\"updates\": %llu, \"merges\": %llu, \"merge_waits\": %llu, \"sync_rebuilds\": %llu, \"merge_fails\": %llu, "
			     "\"last_merge_ms\": %.1f, \"merging\": %s, \"acl_method\": \"%s\", \"acl_probe\": {%s}}",
			     apps, t->n_sessions, es_rules_count(), es_neigh_count(),
			     (unsigned long long)d, es_state_enabled() ? "true" : "false",
			     (unsigned long long)rs.gen, rs.base, rs.delta, rs.tuples, rs.tombs,
			     (unsigned long long)rs.updates, (unsigned long long)rs.merges,
			     (unsigned long long)rs.merge_waits, (unsigned long long)rs.sync_rebuilds,
			     (unsigned long long)rs.merge_fails, rs.last_merge_us / 1000.0,
			     rs.merging ? "true" : "false", es_acl_method(), probe);
	if (p->json) {
		show_control(p);
		es_ob_printf(p->o, "}}\n");
	} else
		es_ob_printf(p->o,
			     "apps %u sessions %u rules %u neighbours %u digest %016llx saved %s\n",
			     apps, t->n_sessions, es_rules_count(), es_neigh_count(),
			     (unsigned long long)d, es_state_enabled() ? "yes" : "no");
	return 0;
}

/* hook show [NAME] (text or JSON, control/hook.c) and hook trace [NAME] */
static int show_hooks(struct pr *p, const struct es_cmd *q, char err[ES_ERR_MAX])
{
	const char *name = q->has_key ? q->u.hook.name : NULL;
	int n;
	char *buf;

	if (name != NULL && es_hook_find(name) == NULL) {
		snprintf(err, ES_ERR_MAX, "no hook %s", name);
		return -1;
	}
	/* the trace is consumed as it is read: read it once, into room
	 * for a full ring per slot */
	if (q->verb == ES_VERB_TRACE)
		n = ES_HOOK_TRACE_N * ES_HOOK_MAX_SLOTS * 128;
	else
		n = es_hook_show(NULL, 0, name, p->json);
	buf = malloc((size_t)n + 1);
	if (buf == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory");
		return -1;
	}
	if (q->verb == ES_VERB_TRACE)
		es_hook_trace_show(buf, (size_t)n + 1, name);
	else
		es_hook_show(buf, (size_t)n + 1, name, p->json);
	es_ob_printf(p->o, "%s", buf);
	free(buf);
	return 0;
}

static int do_show(const struct es_cmd *q, bool json, struct es_obuf *out,
		   char err[ES_ERR_MAX])
{
	struct pr p = { .o = out, .json = json };
	switch (q->obj) {
	case ES_OBJ_HOOK:     return show_hooks(&p, q, err);
	case ES_OBJ_RULE:     return show_rules(&p, q, err);
	case ES_OBJ_APP:      return show_apps(&p, q, err);
	case ES_OBJ_SESSION:  return show_sessions(&p, q, err);
	case ES_OBJ_PORT:     return show_ports(&p, q, err);
	case ES_OBJ_NEIGH:    return show_neigh(&p);
	case ES_OBJ_COUNTERS: return show_counters(&p, q, err);
	case ES_OBJ_LATENCY:  return show_latency(&p);
	case ES_OBJ_STATE:    return show_state(&p);
	}
	snprintf(err, ES_ERR_MAX, "nothing to show for that object");
	return -1;
}

/* ---- changes ---- */

/* End Markers toward the old gNB tunnel after a handover reach the wire
 * through worker 0 (the control thread owns no tx queue): es_ctl_tx. */
static void send_end_marker(uint16_t peer, uint32_t teid)
{
	const struct es_tables *t = es_tables_live;
	const struct es_peer *gnb = &t->peers[peer];
	struct rte_mbuf *m;
	if (es_ctl_tx == NULL || (m = rte_pktmbuf_alloc(es_pool)) == NULL)
		goto fail;
	/* TS 29.281 §7.3.2: an End Marker is a GTP-U header alone, with
	 * the TEID of the tunnel it closes */
	if (es_push_gtpu(m, ES_GTP_END_MARKER, teid, false, 0) != 0 ||
	    es_push_tpl(m, &es_ports[gnb->port], &t->tpls[peer]) != 0) {
		rte_pktmbuf_free(m);
		goto fail;
	}
	m->port = gnb->port;  /* config port index, for worker 0 */
	if (rte_ring_enqueue(es_ctl_tx, m) != 0) {
		rte_pktmbuf_free(m);
		goto fail;
	}
	return;
fail:
	fprintf(stderr, "edgesteer: could not send an End Marker to TEID 0x%x\n", teid);
}

enum { U_SESS_DEL, U_SESS_ADD, U_SESS_REPLACE };

struct undo_sess {
	uint8_t kind;
	struct es_session s;
};

/* A session's gNB tunnel as it was before the batch changed it. */
struct em {
	uint32_t id;
	uint16_t peer;
	uint32_t teid;
};

struct batch {
	const struct es_cmd *const *c;
	const unsigned int *line;
	unsigned int n;
	uint32_t old_neigh;
	struct es_app *old_apps;        /* the live array before the batch */
	uint16_t old_n_apps;
	bool apps_published;
	struct undo_sess *us;
	unsigned int n_us;
	struct es_cmd *ru;              /* rules undo */
	unsigned int n_ru;
	struct em *em;
	unsigned int n_em;
	struct hook_undo *hu;           /* hooks undo */
	unsigned int n_hu;
	unsigned int failed;            /* index of the failing command */
};

/* es_ctl_replay is running: the state's restore */
static bool replaying;

/* A hook command applied: what was attached under its name before, its
 * program kept alive until the batch stands (freed) or is undone (put
 * back as it was: no reload from a file that may have changed). */
struct hook_undo {
	char name[ES_NAME_MAX];
	bool had;
	struct es_hook_ent old;         /* old.prog: the program kept */
};

static int publish_apps(struct es_app *apps, uint16_t n)
{
	struct es_tables *nt = es_tables_clone(es_tables_live);
	if (nt == NULL)
		return -1;
	nt->apps = apps;
	nt->n_apps = n;
	es_tables_publish(nt);
	return 0;
}

static struct es_app *apps_copy(void)
{
	struct es_app *a = rte_malloc("es_apps", ES_MAX_APPS * sizeof(*a), 0);
	if (a)
		memcpy(a, es_tables_live->apps, ES_MAX_APPS * sizeof(*a));
	return a;
}

static int find_app_in(const struct es_app *a, uint16_t n, const char *name)
{
	for (uint16_t i = 0; i < n; i++)
		if (strcmp(a[i].name, name) == 0)
			return i;
	return -1;
}

static int stage_apps(struct batch *b, char err[ES_ERR_MAX])
{
	struct es_app *na = NULL;
	uint16_t n = es_tables_live->n_apps;
	for (unsigned int i = 0; i < b->n; i++) {
		const struct es_cmd *c = b->c[i];
		const struct es_cmd_app *ca = &c->u.app;
		int k;
		if (c->obj != ES_OBJ_APP)
			continue;
		b->failed = i;
		if (na == NULL && (na = apps_copy()) == NULL) {
			snprintf(err, ES_ERR_MAX, "out of memory");
			return -1;
		}
		k = find_app_in(na, n, ca->name);
		if (c->verb == ES_VERB_DEL) {
			if (k < 0) {
				snprintf(err, ES_ERR_MAX, "no app named '%s'", ca->name);
				goto fail;
			}
			continue;  /* after the rules (stage_app_del) */
		}
		if (c->verb == ES_VERB_ADD) {
			struct es_app a;
			if (k >= 0) {
				snprintf(err, ES_ERR_MAX, "app '%s' already exists", ca->name);
				goto fail;
			}
			memset(&a, 0, sizeof(a));
			snprintf(a.name, sizeof(a.name), "%s", ca->name);
			a.via = ca->via;
			a.down = ca->down;
			if (es_app_resolve(&ca->via, &a.hop, err))
				goto fail;
			k = find_app_in(na, n, "");  /* a deleted app's slot */
			if (k < 0) {
				if (n == ES_MAX_APPS) {
					snprintf(err, ES_ERR_MAX, "app '%s': more than %d apps",
						 ca->name, ES_MAX_APPS);
					goto fail;
				}
				k = n++;
			}
			na[k] = a;
			continue;
		}
		/* change */
		if (k < 0) {
			snprintf(err, ES_ERR_MAX, "no app named '%s'", ca->name);
			goto fail;
		}
		if (ca->has_via) {
			if (es_app_resolve(&ca->via, &na[k].hop, err))
				goto fail;
			na[k].via = ca->via;
		}
		if (ca->has_state)
			na[k].down = ca->down;
	}
	if (na == NULL)
		return 0;
	if (publish_apps(na, n) != 0) {
		snprintf(err, ES_ERR_MAX, "out of memory");
		goto fail;
	}
	b->apps_published = true;
	return 0;
fail:
	rte_free(na);
	return -1;
}

static int stage_app_del(struct batch *b, char err[ES_ERR_MAX])
{
	struct es_app *na = NULL;
	for (unsigned int i = 0; i < b->n; i++) {
		const struct es_cmd *c = b->c[i];
		int k;
		if (c->obj != ES_OBJ_APP || c->verb != ES_VERB_DEL)
			continue;
		b->failed = i;
		if (na == NULL && (na = apps_copy()) == NULL) {
			snprintf(err, ES_ERR_MAX, "out of memory");
			return -1;
		}
		k = find_app_in(na, es_tables_live->n_apps, c->u.app.name);
		if (k < 0) {
			snprintf(err, ES_ERR_MAX, "no app named '%s'", c->u.app.name);
			goto fail;
		}
		if (es_rules_use_app((uint16_t)k)) {
			snprintf(err, ES_ERR_MAX,
				 "app '%s' is named by a rule (change or delete the rule first)",
				 c->u.app.name);
			goto fail;
		}
		memset(&na[k], 0, sizeof(na[k]));
	}
	if (na == NULL)
		return 0;
	{
		struct es_app *prev = es_tables_live->apps;
		if (publish_apps(na, es_tables_live->n_apps) != 0) {
			snprintf(err, ES_ERR_MAX, "out of memory");
			goto fail;
		}
		/* the batch's own intermediate array; the original stays for
		 * undo */
		if (b->apps_published && prev != b->old_apps)
			rte_free(prev);
		b->apps_published = true;
	}
	return 0;
fail:
	rte_free(na);
	return -1;
}

/* Whether n's address is already a neighbour on its port: 0 no, 1 with
 * the same lladdr, -1 with another one (err says which). */
static int neigh_known(const struct es_cmd_neigh *n, char err[ES_ERR_MAX])
{
	for (uint32_t i = 0; i < es_neigh_count(); i++) {
		struct es_cmd c;
		const struct es_cmd_neigh *k = &c.u.neigh;
		char a[64], mac[RTE_ETHER_ADDR_FMT_SIZE];
		es_neigh_to_cmd(i, &c);
		if (k->addr.v6 != n->addr.v6 || strcmp(k->port, n->port) != 0 ||
		    memcmp(k->addr.a, n->addr.a, n->addr.v6 ? 16 : 4) != 0)
			continue;
		if (memcmp(k->mac, n->mac, 6) == 0)
			return 1;
		inet_ntop(n->addr.v6 ? AF_INET6 : AF_INET, n->addr.a, a, sizeof(a));
		rte_ether_format_addr(mac, sizeof(mac), (const struct rte_ether_addr *)k->mac);
		snprintf(err, ES_ERR_MAX,
			 "neigh %s on port %s is already lladdr %s (a neighbour is not changed at run time)",
			 a, n->port, mac);
		return -1;
	}
	return 0;
}

static int stage_neigh(struct batch *b, char err[ES_ERR_MAX])
{
	for (unsigned int i = 0; i < b->n; i++) {
		const struct es_cmd *c = b->c[i];
		int known;
		if (c->obj != ES_OBJ_NEIGH)
			continue;
		b->failed = i;
		/* the lookup takes the first entry: a second one for the same
		 * address would be listed and saved but never used. The same
		 * one again is nothing to do (a state restored over a config
		 * that now has it). */
		known = neigh_known(&c->u.neigh, err);
		if (known < 0)
			return -1;
		if (known == 0 && es_neigh_add(&c->u.neigh, err))
			return -1;
	}
	return 0;
}

static void push_undo(struct batch *b, uint8_t kind, const struct es_session *s)
{
	b->us[b->n_us].kind = kind;
	b->us[b->n_us++].s = *s;
}

static int session_change(struct batch *b, const struct es_cmd_session *c,
			  char err[ES_ERR_MAX])
{
	struct es_tables *t = es_tables_live;
	int64_t i = es_session_find(t, c->id);
	struct es_session old, s;
	int pi;
	if (i < 0 || (uint64_t)i >= t->sess_cap) {
		snprintf(err, ES_ERR_MAX, "session %u does not exist", c->id);
		return -1;
	}
	old = s = t->sessions[i];
	if (c->has_gnb) {
		char e2[ES_ERR_MAX];
		if ((pi = es_peer_index(t, &c->gnb, ES_ROLE_ACCESS, e2)) < 0) {
			snprintf(err, ES_ERR_MAX, "session %u: gnb: %s", c->id, e2);
			return -1;
		}
		s.gnb = (uint16_t)pi;
		s.gnb_teid = c->gnb_teid;
	}
	if (c->has_cloud) {
		char e2[ES_ERR_MAX];
		if ((pi = es_peer_index(t, &c->cloud, ES_ROLE_CORE, e2)) < 0) {
			snprintf(err, ES_ERR_MAX, "session %u: cloud: %s", c->id, e2);
			return -1;
		}
		s.cloud = (uint16_t)pi;
		s.has_cloud = 1;
		s.cloud_teid = c->cloud_teid;
	}
	if (c->has_qfi)
		s.qfi = c->qfi;
	if (es_session_replace(t, &s, err))
		return -1;
	push_undo(b, U_SESS_REPLACE, &old);
	/* handover: the old gNB tunnel is closed by End Markers */
	if (old.gnb != s.gnb || old.gnb_teid != s.gnb_teid) {
		unsigned int k;
		/* only the tunnel before the batch was ever in use: a second
		 * change of the same session in the batch adds no marker */
		for (k = 0; k < b->n_em && b->em[k].id != c->id; k++)
			;
		if (k == b->n_em) {
			b->em[b->n_em].id = c->id;
			b->em[b->n_em].peer = old.gnb;
			b->em[b->n_em++].teid = old.gnb_teid;
		}
	}
	return 0;
}

static int stage_sessions(struct batch *b, char err[ES_ERR_MAX])
{
	struct es_tables *t = es_tables_live;
	for (unsigned int i = 0; i < b->n; i++) {
		const struct es_cmd *c = b->c[i];
		const struct es_cmd_session *cs = &c->u.session;
		struct es_session s;
		if (c->obj != ES_OBJ_SESSION)
			continue;
		b->failed = i;
		switch (c->verb) {
		case ES_VERB_ADD:
			if (es_session_from_cmd(t, cs, &s, err) ||
			    es_session_add(t, &s, err))
				return -1;
			push_undo(b, U_SESS_DEL, &s);
			break;
		case ES_VERB_CHANGE:
			if (session_change(b, cs, err))
				return -1;
			break;
		case ES_VERB_DEL: {
			int64_t k = es_session_find(t, cs->id);
			if (k < 0 || (uint64_t)k >= t->sess_cap) {
				snprintf(err, ES_ERR_MAX, "session %u does not exist", cs->id);
				return -1;
			}
			s = t->sessions[k];
			if (es_session_del(t, cs->id, err))
				return -1;
			push_undo(b, U_SESS_ADD, &s);
			break;
		}
		}
	}
	return 0;
}

static int prio_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int stage_rules(struct batch *b, char err[ES_ERR_MAX])
{
	const struct es_cmd **ops;
	uint32_t *prios;
	unsigned int n = 0, np = 0;
	int rc = 0;
	for (unsigned int i = 0; i < b->n; i++)
		n += b->c[i]->obj == ES_OBJ_RULE;
	if (n == 0)
		return 0;
	ops = malloc(n * sizeof(*ops));
	prios = malloc(n * sizeof(*prios));
	b->ru = malloc(n * sizeof(*b->ru));
	if (!ops || !prios || !b->ru) {
		snprintf(err, ES_ERR_MAX, "out of memory");
		rc = -1;
		goto out;
	}
	n = 0;
	for (unsigned int i = 0; i < b->n; i++) {
		if (b->c[i]->obj != ES_OBJ_RULE)
			continue;
		ops[n] = b->c[i];
		prios[n++] = b->c[i]->u.rule.prio;
	}
	/* the undo: every priority the batch touches, back as it was */
	qsort(prios, n, sizeof(*prios), prio_cmp);
	for (unsigned int i = 0; i < n; i++) {
		const struct es_rule *r;
		struct es_cmd *u;
		if (i && prios[i] == prios[i - 1])
			continue;
		prios[np++] = prios[i];
		u = &b->ru[b->n_ru++];
		memset(u, 0, sizeof(*u));
		u->obj = ES_OBJ_RULE;
		u->has_key = 1;
		if ((r = es_rules_find(prios[i])) != NULL) {
			u->verb = ES_VERB_CHANGE;  /* ADD if the batch deletes it */
			u->u.rule = *es_rule_def(r);
		} else {
			u->verb = ES_VERB_DEL;     /* skipped if the batch leaves none */
			u->u.rule.prio = prios[i];
		}
	}
	if (es_rules_update(ops, n, err) != 0) {
		/* the line of the rule command that failed */
		{
			unsigned int fi = es_rules_failed_op();
			b->failed = 0;
			for (unsigned int i = 0, k = 0; i < b->n; i++)
				if (b->c[i]->obj == ES_OBJ_RULE && k++ == fi)
					b->failed = i;
		}
		b->n_ru = 0;
		rc = -1;
	}
out:
	free(ops);
	free(prios);
	return rc;
}

static void undo_rules(struct batch *b)
{
	const struct es_cmd **ops = malloc(b->n_ru * sizeof(*ops));
	unsigned int n = 0;
	char err[ES_ERR_MAX];
	if (ops == NULL)
		goto fail;
	for (unsigned int i = 0; i < b->n_ru; i++) {
		struct es_cmd *u = &b->ru[i];
		bool now = es_rules_find(u->u.rule.prio) != NULL;
		if (u->verb == ES_VERB_DEL && !now)
			continue;
		if (u->verb == ES_VERB_CHANGE && !now)
			u->verb = ES_VERB_ADD;
		ops[n++] = u;
	}
	if (n && es_rules_update(ops, n, err) != 0)
		goto fail;
	free(ops);
	return;
fail:
	free(ops);
	fprintf(stderr, "edgesteer: undoing a failed batch's rules failed: %s\n", err);
}

/* hooks: attach and del in batch order, each live at once (a swap and
 * a grace period); undone in reverse by putting back the program that
 * was there, or detaching */
static int stage_hooks(struct batch *b, char err[ES_ERR_MAX])
{
	for (unsigned int i = 0; i < b->n; i++) {
		const struct es_cmd *c = b->c[i];
		const struct es_cmd_hook *h = &c->u.hook;
		const struct es_hook_ent *e;
		struct hook_undo *u;
		int rc;
		if (c->obj != ES_OBJ_HOOK)
			continue;
		b->failed = i;
		e = es_hook_find(h->name);
		u = &b->hu[b->n_hu];
		memset(u, 0, sizeof(*u));
		snprintf(u->name, sizeof(u->name), "%s", h->name);
		if (e != NULL) {
			u->had = true;
			u->old = *e;
		}
		/* restoring: a later line may replace or delete an attach
		 * whose object changed (or went) since: set aside until the
		 * end of the restore (es_hook_stale_add) */
		if (replaying && es_hook_stale_clear(h->name) && c->verb == ES_VERB_DEL &&
		    e == NULL)
			continue;
		if (c->verb == ES_VERB_DEL)
			rc = es_hook_del_kept(h->name, &u->old.prog, err);
		else
			rc = es_hook_attach_kept(h->name, h->point, h->dir, h->obj, h->sec,
						 h->order, h->has_hash ? &h->hash : NULL,
						 &u->old.prog, err);
		if (rc != 0 && replaying && c->verb == ES_VERB_ATTACH && h->has_hash) {
			if (es_hook_stale_add(h->name, err) != 0)
				return -1;
			/* what the name held is replaced by what cannot load now */
			rc = e != NULL ? es_hook_del_kept(h->name, &u->old.prog, err) : 0;
			if (rc == 0 && e == NULL)
				continue;
		}
		if (rc != 0)
			return -1;
		b->n_hu++;
	}
	return 0;
}

static void undo_hooks(struct batch *b)
{
	char err[ES_ERR_MAX];
	while (b->n_hu) {
		struct hook_undo *u = &b->hu[--b->n_hu];
		int rc = 0;
		if (u->had) {
			if (es_hook_reinstate(&u->old) != 0)
				snprintf(err, ES_ERR_MAX, "out of memory"), rc = -1;
			else
				u->old.prog = NULL;     /* live again */
		} else if (es_hook_find(u->name) != NULL) {
			rc = es_hook_del(u->name, err);
		}
		if (rc)
			fprintf(stderr, "edgesteer: undo of hook %s failed: %s\n", u->name, err);
	}
}

static void undo(struct batch *b)
{
	struct es_tables *t = es_tables_live;
	char err[ES_ERR_MAX];
	undo_hooks(b);
	if (b->n_ru)
		undo_rules(b);
	while (b->n_us) {
		struct undo_sess *u = &b->us[--b->n_us];
		int rc = 0;
		switch (u->kind) {
		case U_SESS_DEL:     rc = es_session_del(t, u->s.id, err); break;
		case U_SESS_ADD:     rc = es_session_add(t, &u->s, err); break;
		case U_SESS_REPLACE: rc = es_session_replace(t, &u->s, err); break;
		}
		if (rc)
			fprintf(stderr, "edgesteer: undo of session %u failed: %s\n", u->s.id, err);
	}
	if (b->apps_published) {
		struct es_app *cur = es_tables_live->apps;
		if (publish_apps(b->old_apps, b->old_n_apps) == 0 && cur != b->old_apps)
			rte_free(cur);
	}
	es_neigh_truncate(b->old_neigh);
	b->n_em = 0;
}

/* Settings and ports are read at start-up only. */
static int refuse_static(struct batch *b, char err[ES_ERR_MAX])
{
	for (unsigned int i = 0; i < b->n; i++) {
		const struct es_cmd *c = b->c[i];
		b->failed = i;
		if (c->obj == ES_OBJ_SET) {
			snprintf(err, ES_ERR_MAX,
				 "set %s: settings are read at start-up (change the config and restart)",
				 c->u.set.key);
			return -1;
		}
		if (c->obj == ES_OBJ_PORT) {
			snprintf(err, ES_ERR_MAX,
				 "port %s: ports are set at start-up (change the config and restart)",
				 c->u.port.name);
			return -1;
		}
		if (c->obj == ES_OBJ_NEIGH && c->verb != ES_VERB_ADD) {
			snprintf(err, ES_ERR_MAX, "neigh: only 'neigh add' and 'neigh show' at run time");
			return -1;
		}
		if (c->obj == ES_OBJ_COUNTERS || c->obj == ES_OBJ_STATE ||
		    c->obj == ES_OBJ_LATENCY || c->verb == ES_VERB_SHOW ||
		    c->verb == ES_VERB_TRACE) {
			snprintf(err, ES_ERR_MAX, "'show' cannot be part of a batch of changes");
			return -1;
		}
	}
	return 0;
}

static int apply_batch(struct batch *b, char err[ES_ERR_MAX])
{
	struct es_tables *t = es_tables_live;
	int rc = -1;
	b->old_neigh = es_neigh_count();
	b->old_apps = t->apps;
	b->old_n_apps = t->n_apps;
	b->us = malloc((b->n + 1) * sizeof(*b->us));
	b->em = malloc((b->n + 1) * sizeof(*b->em));
	b->hu = malloc((b->n + 1) * sizeof(*b->hu));
	if (!b->us || !b->em || !b->hu) {
		snprintf(err, ES_ERR_MAX, "out of memory for a batch of %u commands", b->n);
		goto out;
	}
	if (refuse_static(b, err))
		goto out;
	if (stage_neigh(b, err) || stage_apps(b, err) || stage_sessions(b, err) ||
	    stage_rules(b, err) || stage_app_del(b, err) || stage_hooks(b, err)) {
		undo(b);
		goto sync;
	}
	rc = 0;
sync:
	/* sessions deleted or replaced are reused after a grace period */
	es_tables_sync();
	es_sessions_reclaim(es_tables_live);
out:
	return rc;
}

static void batch_done(struct batch *b, bool ok)
{
	if (ok) {
		/* the original apps array is no longer read by anyone */
		if (b->apps_published && b->old_apps != es_tables_live->apps)
			rte_free(b->old_apps);
		for (unsigned int i = 0; i < b->n_em; i++) {
			/* a batch that moved the session back to its tunnel
			 * closed nothing */
			const struct es_tables *t = es_tables_live;
			int64_t k = es_session_find(t, b->em[i].id);
			if (k >= 0 && (uint64_t)k < t->sess_cap &&
			    t->sessions[k].gnb == b->em[i].peer &&
			    t->sessions[k].gnb_teid == b->em[i].teid)
				continue;
			send_end_marker(b->em[i].peer, b->em[i].teid);
		}
	}
	/* the programs the batch replaced or detached: no longer live once
	 * it stands; put back (NULL) when it was undone */
	for (unsigned int i = 0; b->hu != NULL && i < b->n_hu; i++)
		es_hook_prog_free(b->hu[i].old.prog);
	free(b->us);
	free(b->em);
	free(b->ru);
	free(b->hu);
}

int es_ctl_apply(const struct es_cmd *const *c, unsigned int n,
		 unsigned int *failed, char err[ES_ERR_MAX])
{
	struct batch b;
	memset(&b, 0, sizeof(b));
	b.c = c;
	b.n = n;
	if (apply_batch(&b, err) != 0) {
		*failed = b.failed;
		batch_done(&b, false);
		return -1;
	}
	b.n_em = 0;
	batch_done(&b, true);
	return 0;
}

struct pline {
	struct es_cmd c;
	unsigned int line;
};

int es_ctl_replay(const char *text, size_t len, char err[ES_ERR_MAX])
{
	int rc;
	replaying = true;
	rc = es_ctl_exec(text, len, false, false, NULL, err);
	replaying = false;
	return rc;
}

int es_ctl_exec(const char *text, size_t len, bool json, bool journal,
		struct es_obuf *out, char err[ES_ERR_MAX])
{
	struct pline *pl = NULL;
	const struct es_cmd **cp = NULL;
	unsigned int *lines = NULL;
	unsigned int n = 0, cap = 0, lineno = 0, total = 0;
	char e[ES_ERR_MAX];
	const char *s = text, *end = text + len;
	struct batch b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	err[0] = '\0';
	for (const char *q = text; q < end; q++)
		total += *q == '\n';
	if (len && text[len - 1] != '\n')
		total++;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char buf[ES_LINE_MAX + 1];
		int r;
		lineno++;
		if (l > ES_LINE_MAX) {
			snprintf(e, sizeof(e), "line longer than %d characters", ES_LINE_MAX);
			goto bad;
		}
		memcpy(buf, s, l);
		buf[l] = '\0';
		s += l + (nl != NULL);
		if (memchr(buf, '\0', l) != NULL) {
			snprintf(e, sizeof(e), "NUL byte in the command");
			goto bad;
		}
		if (n == cap) {
			void *np = realloc(pl, (cap = cap ? cap * 2 : 16) * sizeof(*pl));
			if (np == NULL) {
				snprintf(e, sizeof(e), "out of memory");
				goto bad;
			}
			pl = np;
		}
		r = es_cmd_parse(buf, &pl[n].c, e);
		if (r < 0)
			goto bad;
		if (r == 1)
			pl[n++].line = lineno;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (n == 1 && (pl[0].c.verb == ES_VERB_SHOW || pl[0].c.verb == ES_VERB_TRACE)) {
		rc = do_show(&pl[0].c, json, out, err);
		goto out;
	}
	cp = malloc(n * sizeof(*cp));
	lines = malloc(n * sizeof(*lines));
	if (!cp || !lines) {
		snprintf(err, ES_ERR_MAX, "out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		cp[i] = &pl[i].c;
		lines[i] = pl[i].line;
	}
	b.c = cp;
	b.line = lines;
	b.n = n;
	if (apply_batch(&b, e) != 0) {
		lineno = lines[b.failed];
		goto bad_applied;
	}
	if (journal && es_state_enabled()) {
		struct es_obuf j = { 0 };
		for (unsigned int i = 0; i < n; i++) {
			char l[ES_LINE_MAX + 1];
			struct es_cmd hc;
			const struct es_hook_ent *he;
			/* a hook's line carries its object's hash: a restore
			 * refuses the object if it changed */
			if (cp[i]->obj == ES_OBJ_HOOK && cp[i]->verb == ES_VERB_ATTACH &&
			    (he = es_hook_find(cp[i]->u.hook.name)) != NULL) {
				hc = *cp[i];
				hc.u.hook.has_hash = 1;
				hc.u.hook.hash = he->hash;
				es_cmd_format(&hc, l, sizeof(l));
			} else {
				es_cmd_format(cp[i], l, sizeof(l));
			}
			es_ob_printf(&j, "%s\n", l);
		}
		if (j.oom || es_state_journal(j.p, j.len, e) != 0) {
			if (j.oom)
				snprintf(e, sizeof(e), "out of memory writing the journal");
			es_ob_free(&j);
			undo(&b);
			es_tables_sync();
			es_sessions_reclaim(es_tables_live);
			batch_done(&b, false);
			snprintf(err, ES_ERR_MAX, "%s; nothing changed", e);
			goto out;
		}
		es_ob_free(&j);
	}
	/* a replayed change is not a handover now: the gNB was told when
	 * it was made, so restoring sends no End Marker */
	if (!journal)
		b.n_em = 0;
	batch_done(&b, true);
	rc = 0;
	goto out;
bad_applied:
	batch_done(&b, false);
bad:
	if (total > 1)
		snprintf(err, ES_ERR_MAX, "line %u: %s", lineno, e);
	else
		snprintf(err, ES_ERR_MAX, "%s", e);
out:
	free(pl);
	free(cp);
	free(lines);
	return rc;
}

/* ---- the socket ----
 *
 * Non-blocking throughout: the main lcore never waits for one client.
 * Each client has an input buffer (the request being received, sized to
 * its header's len once that is known) and at most one answer being sent
 * (header + body, sent as the socket takes it: POLLOUT). While an answer
 * is pending, nothing more is read from that client (back-pressure), so
 * a client holds at most one answer. A client that takes no byte of its
 * answer for send_ms is dropped (dropped_slow); one that sends nothing
 * while no answer is pending for idle_ms is closed (closed_idle). With
 * every slot taken, a new client is answered ES_CTL_BUSY at once and
 * closed (refused_full).
 */

#define MAX_CLIENTS  16
#define HDR_LEN      sizeof(struct es_ctl_hdr)
#define IN_MIN       65536u          /* input buffer, bytes, at least */
#define IN_KEEP      (1u << 20)      /* an idle buffer above this is freed */
#define READ_BUDGET  (1u << 20)      /* bytes read from one client a round */
#define ACCEPT_BUDGET 64             /* connections accepted a round */

struct client {
	int fd;
	uint8_t *in;               /* received, not yet served */
	size_t in_len, in_cap;
	struct es_ctl_hdr oh;      /* the answer being sent: header, */
	char *ob;                  /* body (owned) */
	size_t ob_len;
	size_t sent;               /* bytes of header + body sent */
	bool busy;                 /* an answer is pending */
	bool closing;              /* close once the answer is sent */
	bool eof;                  /* the client sends no more */
	uint64_t since;            /* TSC of the last byte read or sent */
};

static int lfd = -1;
static struct client cl[MAX_CLIENTS];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static uint32_t idle_ms = ES_CTL_IDLE_MS_DEF, send_ms = ES_CTL_SEND_MS_DEF;

int es_ctl_open(const char *path, uint32_t idle_timeout_ms,
		uint32_t send_timeout_ms, char err[ES_ERR_MAX])
{
	struct sockaddr_un a;
	struct stat sb;
	int fd;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, ES_ERR_MAX, "control socket path longer than %zu bytes: %s",
			 sizeof(a.sun_path) - 1, path);
		return -1;
	}
	strcpy(a.sun_path, path);
	idle_ms = idle_timeout_ms;
	send_ms = send_timeout_ms;
	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	/* the default directory (/run/edgesteer) is ours to make */
	{
		char dir[sizeof(a.sun_path)];
		char *slash;
		strcpy(dir, path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
				snprintf(err, ES_ERR_MAX, "control socket directory %s: %s",
					 dir, strerror(errno));
				return -1;
			}
		}
	}
	/* Something already at the path: a socket file left by a dead
	 * daemon (nobody listens: connect is refused) is replaced; a live
	 * one, and anything that is not a socket, is left alone. */
	if (lstat(path, &sb) == 0) {
		int e;
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, ES_ERR_MAX,
				 "control socket %s: the path exists and is not a socket (%s); not removed (give --ctl PATH)",
				 path, S_ISREG(sb.st_mode) ? "a regular file" :
				 S_ISDIR(sb.st_mode) ? "a directory" :
				 S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a socket");
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, ES_ERR_MAX, "control socket: %s", strerror(errno));
			return -1;
		}
		/* non-blocking: a live daemon whose backlog is full (EAGAIN)
		 * is still live, and start-up never waits on it */
		e = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : errno;
		close(fd);
		if (e == 0 || e == EAGAIN || e == EINPROGRESS) {
			snprintf(err, ES_ERR_MAX,
				 "control socket %s is in use by another edgesteer (give --ctl PATH)", path);
			return -1;
		}
		if (e != ECONNREFUSED) {
			snprintf(err, ES_ERR_MAX, "control socket %s: %s", path, strerror(e));
			return -1;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, ES_ERR_MAX, "control socket %s: cannot remove the stale socket: %s",
				 path, strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, ES_ERR_MAX, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, ES_ERR_MAX, "control socket: %s", strerror(errno));
		return -1;
	}
	{
		mode_t old = umask(0177);  /* born 0600: no window with wider rights */
		int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
		umask(old);
		if (r != 0 || chmod(path, 0600) != 0 || listen(fd, SOMAXCONN) != 0) {
			snprintf(err, ES_ERR_MAX, "control socket %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	lfd = fd;
	strcpy(sock_path, path);
	return 0;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c->in);
	free(c->ob);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	ctl_st.clients--;
}

static uint64_t ms_to_tsc(uint32_t ms)
{
	return (uint64_t)ms * (rte_get_tsc_hz() / 1000);
}

/* Send what the socket takes of c's answer. Returns 0 when it is all
 * sent (or none was pending), 1 when some remains, -1 when c was closed
 * (the client went away). */
static int client_flush(struct client *c, uint64_t now)
{
	while (c->busy) {
		struct iovec iov[2];
		struct msghdr m;
		size_t total = HDR_LEN + c->ob_len;
		ssize_t w;
		int n = 0;
		if (c->sent < HDR_LEN) {
			iov[n].iov_base = (uint8_t *)&c->oh + c->sent;
			iov[n++].iov_len = HDR_LEN - c->sent;
		}
		if (c->ob_len) {
			size_t bo = c->sent > HDR_LEN ? c->sent - HDR_LEN : 0;
			iov[n].iov_base = c->ob + bo;
			iov[n++].iov_len = c->ob_len - bo;
		}
		memset(&m, 0, sizeof(m));
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)n;
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			c->sent += (size_t)w;
			c->since = now;
			if (c->sent == total) {
				free(c->ob);
				c->ob = NULL;
				c->ob_len = c->sent = 0;
				c->busy = false;
			}
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		client_close(c);
		return -1;
	}
	return 0;
}

/* Make body (len bytes, malloc'd; taken over) c's pending answer. */
static void client_answer(struct client *c, uint32_t status, char *body, size_t len)
{
	c->oh.magic = ES_CTL_MAGIC;
	c->oh.flags = status;
	c->oh.len = (uint32_t)len;
	c->ob = body;
	c->ob_len = len;
	c->sent = 0;
	c->busy = true;
}

/* A refusal (ES_CTL_ERR, one line) as c's pending answer. */
static int client_refuse(struct client *c, const char *msg)
{
	size_t l = strlen(msg);
	char *b = malloc(l ? l : 1);
	if (b == NULL)
		return -1;
	memcpy(b, msg, l);
	client_answer(c, ES_CTL_ERR, b, l);
	return 0;
}

/* One answer to a connection that gets no slot: a fresh socket's buffer
 * always takes these few bytes, so it never waits. */
static void refuse_now(int fd, const char *msg)
{
	struct es_ctl_hdr h = { .magic = ES_CTL_MAGIC, .flags = ES_CTL_ERR,
				.len = (uint32_t)strlen(msg) };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)msg, .iov_len = h.len },
	};
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	(void)sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void client_accept(uint64_t now)
{
	for (int k = 0; k < ACCEPT_BUDGET; k++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		int i;
		if (fd < 0)
			return;
		/* only root and the daemon's own user may steer */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0 ||
		    (cr.uid != 0 && cr.uid != geteuid())) {
			char m[96];
			snprintf(m, sizeof(m), "permission denied: uid %u may not use this socket",
				 (unsigned int)cr.uid);
			refuse_now(fd, m);
			ctl_st.refused_uid++;
			continue;
		}
		for (i = 0; i < MAX_CLIENTS && cl[i].fd >= 0; i++)
			;
		if (i == MAX_CLIENTS) {
			char m[160];
			snprintf(m, sizeof(m),
				 ES_CTL_BUSY "all %d control connections are in use (one idle for %u ms is closed); try again",
				 MAX_CLIENTS, (unsigned int)idle_ms);
			refuse_now(fd, m);
			ctl_st.refused_full++;
			continue;
		}
		memset(&cl[i], 0, sizeof(cl[i]));
		cl[i].fd = fd;
		cl[i].since = now;
		ctl_st.accepted++;
		ctl_st.clients++;
	}
}

/* The bytes c's current request needs in the buffer: its header, then
 * header and text once a valid header is in. */
static size_t client_need(const struct client *c)
{
	struct es_ctl_hdr h;
	if (c->in_len < HDR_LEN)
		return HDR_LEN;
	memcpy(&h, c->in, HDR_LEN);
	if (h.magic != ES_CTL_MAGIC || h.len > ES_CTL_MAX_REQ)
		return HDR_LEN;    /* refused when served */
	return HDR_LEN + h.len;
}

/* Answer every whole request in c's buffer, one at a time: the next only
 * once the previous answer has gone. Closes c when it is done with. */
static void client_serve(struct client *c, uint64_t now)
{
	while (!c->busy && !c->closing) {
		struct es_ctl_hdr h;
		struct es_obuf out = { 0 };
		char err[ES_ERR_MAX];
		int rc;
		if (c->in_len < HDR_LEN)
			break;
		memcpy(&h, c->in, HDR_LEN);
		if (h.magic != ES_CTL_MAGIC || h.len > ES_CTL_MAX_REQ) {
			char m[160];
			if (h.magic != ES_CTL_MAGIC) {
				snprintf(m, sizeof(m),
					 "bad request header: magic 0x%08x is not 0x%08x (not a steerctl request)",
					 h.magic, ES_CTL_MAGIC);
				ctl_st.bad_header++;
			} else {
				snprintf(m, sizeof(m),
					 "request too large: %u bytes, over the limit of %u bytes (64 MiB)",
					 h.len, ES_CTL_MAX_REQ);
				ctl_st.too_large++;
			}
			if (client_refuse(c, m) != 0) {
				client_close(c);
				return;
			}
			c->closing = true;
			break;
		}
		if (c->in_len < HDR_LEN + h.len)
			break;
		rc = es_ctl_exec((const char *)c->in + HDR_LEN, h.len,
				 h.flags & ES_CTL_F_JSON, true, &out, err);
		/* with JSON asked for, the answer is always one document: a
		 * change (no output) answers {} */
		if (rc == 0 && (h.flags & ES_CTL_F_JSON) && out.len == 0)
			es_ob_printf(&out, "{}\n");
		if (rc == 0 && out.oom) {
			snprintf(err, sizeof(err), "out of memory for the output");
			rc = -1;
		}
		if (rc == 0 && out.len > UINT32_MAX) {
			snprintf(err, sizeof(err), "the answer is over 4 GiB: ask for less");
			rc = -1;
		}
		if (rc == 0) {
			client_answer(c, ES_CTL_OK, out.p, out.len);
		} else {
			es_ob_free(&out);
			if (client_refuse(c, err) != 0) {
				client_close(c);
				return;
			}
		}
		ctl_st.requests++;
		c->in_len -= HDR_LEN + h.len;
		memmove(c->in, c->in + HDR_LEN + h.len, c->in_len);
		if (c->in_len == 0 && c->in_cap > IN_KEEP) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
		if (client_flush(c, now) < 0)
			return;
	}
	if (!c->busy && (c->closing || c->eof))
		client_close(c);
}

/* Read what c sent (up to READ_BUDGET bytes this round), then serve. */
static void client_read(struct client *c, uint64_t now)
{
	size_t budget = READ_BUDGET;
	while (budget > 0) {
		size_t need = client_need(c), cap = need > IN_MIN ? need : IN_MIN;
		ssize_t r;
		if (c->in_cap < cap) {
			uint8_t *p = realloc(c->in, cap);
			if (p == NULL) {
				client_close(c);
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		if (c->in_len == c->in_cap)
			break;  /* a whole request (or more) is in: serve first */
		r = recv(c->fd, c->in + c->in_len,
			 RTE_MIN(c->in_cap - c->in_len, budget), 0);
		if (r > 0) {
			c->in_len += (size_t)r;
			budget -= (size_t)r;
			c->since = now;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			client_close(c);
			return;
		}
		c->eof = true;  /* serve what is whole, then close */
		break;
	}
	client_serve(c, now);
}

void es_ctl_poll(int timeout_ms)
{
	struct pollfd pf[MAX_CLIENTS + 1];
	int idx[MAX_CLIENTS + 1];
	uint64_t now;
	int n = 0;
	if (lfd < 0) {
		usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	/* always listening: with every slot taken a new client is told so
	 * at once rather than left waiting in the backlog */
	pf[n].fd = lfd;
	pf[n].events = POLLIN;
	idx[n++] = -1;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (cl[i].fd < 0)
			continue;
		pf[n].fd = cl[i].fd;
		/* a pending answer first: nothing more is read till it is gone */
		pf[n].events = cl[i].busy ? POLLOUT : POLLIN;
		idx[n++] = i;
	}
	if (poll(pf, (nfds_t)n, timeout_ms) < 0)
		return;
	now = rte_get_tsc_cycles();
	for (int k = 1; k < n; k++) {
		struct client *c = &cl[idx[k]];
		if (pf[k].revents == 0) {
			/* no event now: has it been quiet too long? */
			uint64_t lim = ms_to_tsc(c->busy ? send_ms : idle_ms);
			if (now - c->since >= lim) {
				if (c->busy)
					ctl_st.dropped_slow++;
				else
					ctl_st.closed_idle++;
				client_close(c);
			}
			continue;
		}
		if (c->busy) {
			if (client_flush(c, now) == 0)
				client_serve(c, now);  /* the next request, or close */
		} else {
			client_read(c, now);
		}
	}
	if (pf[0].revents & POLLIN)
		client_accept(now);
}

static void show_control(struct pr *p)
{
	es_ob_printf(p->o,
		     ", \"control\": {\"clients\": %u, \"slots\": %d, \"idle_timeout_ms\": %u, \"send_timeout_ms\": %u, "
		     "\"accepted\": %llu, \"requests\": %llu, \"refused_full\": %llu, \"refused_uid\": %llu, "
		     "\"closed_idle\": %llu, \"dropped_slow\": %llu, \"bad_header\": %llu, \"too_large\": %llu}",
		     ctl_st.clients, MAX_CLIENTS, (unsigned int)idle_ms, (unsigned int)send_ms,
		     (unsigned long long)ctl_st.accepted, (unsigned long long)ctl_st.requests,
		     (unsigned long long)ctl_st.refused_full, (unsigned long long)ctl_st.refused_uid,
		     (unsigned long long)ctl_st.closed_idle, (unsigned long long)ctl_st.dropped_slow,
		     (unsigned long long)ctl_st.bad_header, (unsigned long long)ctl_st.too_large);
}

void es_ctl_close(void)
{
	if (lfd < 0)
		return;    /* never opened (--no-ctl): cl[] holds no client */
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			client_close(&cl[i]);
	close(lfd);
	unlink(sock_path);
	lfd = -1;
}
