/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file: a list of commands in the grammar of control/cmd.h.
 * Loading is order-independent: 'set' lines apply first, then ports and
 * neighbours, then apps, then sessions and rules, so a rule may name an
 * app defined further down. The first error stops start-up with
 * "FILE:LINE: reason".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include "classify.h"
#include "config.h"
#include "es.h"
#include "encap.h"
#include "frag.h"
#include "rules.h"
#include "worker.h"

bool es_config_skip_state;

struct neigh {
	struct es_addr addr;
	uint8_t port;
	struct rte_ether_addr mac;
};
static struct neigh neighs[ES_MAX_NEIGH];
static uint32_t n_neighs;

void es_settings_default(struct es_settings *s)
{
	s->sessions_max = 1u << 20;
	s->rules_max = 65536;
	s->mbufs = 16383;
	s->mbuf_size = 4096;
	s->recovery = 0;
	s->errind_rate = 100;
	s->frag_timeout_ms = 2000;
	s->frag_max = 4096;
	s->frag_mbufs = 0;   /* the default share: es_frag_mbufs() */
	s->rxd = 1024;
	s->txd = 1024;
	s->acl_simd = ES_ACL_SIMD_AUTO;
	s->icmp_rate = 100;
}

static const struct {
	const char *key;
	size_t off;
	uint32_t min, max;
} set_keys[] = {
	{ "sessions-max", offsetof(struct es_settings, sessions_max), 1, 1u << 24 },
	{ "rules-max", offsetof(struct es_settings, rules_max), 1, 1u << 20 },
	{ "mbufs", offsetof(struct es_settings, mbufs), 1023, 1u << 24 },
	{ "mbuf-size", offsetof(struct es_settings, mbuf_size), 2048, 16384 },
	{ "recovery", offsetof(struct es_settings, recovery), 0, 255 },
	{ "errind-rate", offsetof(struct es_settings, errind_rate), 0, 1000000 },
	{ "frag-timeout-ms", offsetof(struct es_settings, frag_timeout_ms), 1, 60000 },
	{ "frag-max", offsetof(struct es_settings, frag_max), 16, 1u << 20 },
	{ "frag-mbufs", offsetof(struct es_settings, frag_mbufs), ES_FRAG_MBUFS_MIN, 1u << 24 },
	{ "rxd", offsetof(struct es_settings, rxd), 64, 16384 },
	{ "gtpu-padding", offsetof(struct es_settings, gtpu_padding), 0, 1 },
	{ "txd", offsetof(struct es_settings, txd), 64, 16384 },
	{ "acl-simd", offsetof(struct es_settings, acl_simd), 0, 512 },  /* es_acl_setup */
	{ "icmp-rate", offsetof(struct es_settings, icmp_rate), 0, 1000000 },
};

static int apply_set(const struct es_cmd_set *c, char err[ES_ERR_MAX])
{
	for (size_t i = 0; i < RTE_DIM(set_keys); i++) {
		if (strcmp(c->key, set_keys[i].key) != 0)
			continue;
		if (c->value < set_keys[i].min || c->value > set_keys[i].max) {
			snprintf(err, ES_ERR_MAX, "set %s %llu: out of range %u..%u",
				 c->key, (unsigned long long)c->value,
				 set_keys[i].min, set_keys[i].max);
			return -1;
		}
		/* the rte_acl method: checked here, so that a width this CPU
		 * does not run is refused at its line */
		if (set_keys[i].off == offsetof(struct es_settings, acl_simd) &&
		    es_acl_setup((uint32_t)c->value, err))
			return -1;
		*(uint32_t *)((char *)&es_set + set_keys[i].off) = (uint32_t)c->value;
		return 0;
	}
	snprintf(err, ES_ERR_MAX, "unknown setting '%s' (see docs/config.md)", c->key);
	return -1;
}

static uint32_t workers(void)
{
	return es_n_workers ? es_n_workers : 1;
}

/*
 * Reassembly's budget against the pool (frag.h): all workers together
 * hold at most a quarter of 'set mbufs'. An explicit frag-mbufs over that
 * is refused; so is a pool whose quarter leaves a worker less than one
 * packet of the most fragments.
 */
static int frag_budget(char err[ES_ERR_MAX], const char **key)
{
	uint32_t w = workers(), share = es_set.mbufs / ES_FRAG_POOL_SHARE;
	if (es_set.frag_mbufs == 0) {
		if (share / w >= ES_FRAG_MBUFS_MIN)
			return 0;
		*key = "mbufs";
		snprintf(err, ES_ERR_MAX,
			 "set mbufs %u: reassembly's share of the pool, a quarter (%u), over %u workers is %u mbufs each, fewer than %u (one packet of %u fragments): raise mbufs or use fewer workers",
			 es_set.mbufs, share, w, share / w, ES_FRAG_MBUFS_MIN,
			 RTE_LIBRTE_IP_FRAG_MAX_FRAG);
		return -1;
	}
	if ((uint64_t)es_set.frag_mbufs * w <= share)
		return 0;
	*key = "frag-mbufs";
	snprintf(err, ES_ERR_MAX,
		 "set frag-mbufs %u: %u worker%s x %u mbufs is more than reassembly's share of the pool, a quarter of 'set mbufs %u' (%u): at most %u per worker, or raise mbufs",
		 es_set.frag_mbufs, w, w == 1 ? "" : "s", es_set.frag_mbufs,
		 es_set.mbufs, share, share / w);
	return -1;
}

static int port_by_name(const char *name)
{
	for (int i = 0; i < es_n_ports; i++)
		if (strcmp(es_ports[i].name, name) == 0)
			return i;
	return -1;
}

static int apply_port(const struct es_cmd_port *c, char err[ES_ERR_MAX])
{
	struct es_port *p;
	uint16_t pid;
	if (port_by_name(c->name) >= 0) {
		snprintf(err, ES_ERR_MAX, "port '%s' already defined", c->name);
		return -1;
	}
	if (es_n_ports == ES_MAX_PORTS) {
		snprintf(err, ES_ERR_MAX, "more than %d ports", ES_MAX_PORTS);
		return -1;
	}
	if (rte_eth_dev_get_port_by_name(c->dev, &pid) != 0) {
		snprintf(err, ES_ERR_MAX,
			 "port '%s': no DPDK device '%s' (give it with -a PCI or --vdev)",
			 c->name, c->dev);
		return -1;
	}
	for (int i = 0; i < es_n_ports; i++) {
		if (es_ports[i].port_id == pid) {
			snprintf(err, ES_ERR_MAX, "port '%s': device '%s' already used by port '%s'",
				 c->name, c->dev, es_ports[i].name);
			return -1;
		}
	}
	p = &es_ports[es_n_ports];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", c->name);
	snprintf(p->dev, sizeof(p->dev), "%s", c->dev);
	p->port_id = pid;
	p->role = c->role;
	p->mtu = (uint16_t)(c->mtu ? c->mtu : 1500);
	p->n_addr = c->n_addr;
	memcpy(p->addr, c->addr, sizeof(p->addr));
	for (int i = 0; i < c->n_addr; i++) {
		if (c->addr[i].v6)
			memcpy(p->a6[p->n6++], c->addr[i].a, 16);
		else
			memcpy(&p->a4[p->n4++], c->addr[i].a, 4);
		if (!c->addr[i].v6 && !p->has4) {
			memcpy(p->src4, c->addr[i].a, 4);
			p->has4 = 1;
		} else if (c->addr[i].v6 && !p->has6) {
			memcpy(p->src6, c->addr[i].a, 16);
			p->has6 = 1;
		}
	}
	p->has_gw4 = c->has_gw4;
	p->has_gw6 = c->has_gw6;
	p->gw4 = c->gw4;
	p->gw6 = c->gw6;
	if (c->has_mac)
		memcpy(p->mac.addr_bytes, c->mac, 6);
	else
		rte_eth_macaddr_get(pid, &p->mac);
	es_n_ports++;
	return 0;
}

static int apply_neigh(const struct es_cmd_neigh *c, char err[ES_ERR_MAX])
{
	int pi = port_by_name(c->port);
	if (pi < 0) {
		snprintf(err, ES_ERR_MAX, "neigh: no port named '%s'", c->port);
		return -1;
	}
	if (n_neighs == ES_MAX_NEIGH) {
		snprintf(err, ES_ERR_MAX, "more than %d neighbours", ES_MAX_NEIGH);
		return -1;
	}
	neighs[n_neighs].addr = c->addr;
	neighs[n_neighs].port = (uint8_t)pi;
	memcpy(neighs[n_neighs].mac.addr_bytes, c->mac, 6);
	n_neighs++;
	return 0;
}

static int addr_eq(const struct es_addr *a, const struct es_addr *b)
{
	return a->v6 == b->v6 && memcmp(a->a, b->a, a->v6 ? 16 : 4) == 0;
}

int es_resolve_peer(const struct es_addr *addr, uint8_t role,
		    struct es_peer *out, char err[ES_ERR_MAX])
{
	char s[64];
	const struct es_addr *hop = NULL;
	int pi = -1;

	/* on-link first: a port of the role whose subnet holds addr */
	for (int i = 0; i < es_n_ports && pi < 0; i++) {
		if (es_ports[i].role != role)
			continue;
		for (int k = 0; k < es_ports[i].n_addr; k++) {
			if (es_addr_in_prefix(&es_ports[i].addr[k], addr)) {
				pi = i;
				hop = addr;
				break;
			}
		}
	}
	/* else through the first port of the role with a gateway */
	for (int i = 0; i < es_n_ports && pi < 0; i++) {
		if (es_ports[i].role != role)
			continue;
		if (!addr->v6 && es_ports[i].has_gw4) {
			pi = i;
			hop = &es_ports[i].gw4;
		} else if (addr->v6 && es_ports[i].has_gw6) {
			pi = i;
			hop = &es_ports[i].gw6;
		}
	}
	es_addr_str(addr, 0, s, sizeof(s));
	if (pi < 0) {
		snprintf(err, ES_ERR_MAX,
			 "%s is on no %s port's subnet and no %s port has a %s",
			 s, es_role_names[role], es_role_names[role],
			 addr->v6 ? "gw6" : "gw");
		return -1;
	}
	if (addr->v6 ? !es_ports[pi].has6 : !es_ports[pi].has4) {
		snprintf(err, ES_ERR_MAX, "port '%s' has no IPv%c address to send to %s from",
			 es_ports[pi].name, addr->v6 ? '6' : '4', s);
		return -1;
	}
	for (uint32_t n = 0; n < n_neighs; n++) {
		if (neighs[n].port == pi && addr_eq(&neighs[n].addr, hop)) {
			memset(out, 0, sizeof(*out));
			out->v6 = addr->v6;
			out->port = (uint8_t)pi;
			memcpy(out->addr, addr->a, addr->v6 ? 16 : 4);
			out->mac = neighs[n].mac;
			return 0;
		}
	}
	{
		char h[64];
		es_addr_str(hop, 0, h, sizeof(h));
		snprintf(err, ES_ERR_MAX,
			 "no neighbour for next hop %s on port '%s' (to reach %s): add 'neigh add %s lladdr MAC port %s'",
			 h, es_ports[pi].name, s, h, es_ports[pi].name);
	}
	return -1;
}

static int apply_app(struct es_tables *t, const struct es_cmd_app *c,
		     char err[ES_ERR_MAX])
{
	struct es_app *a;
	if (es_app_find(t, c->name) >= 0) {
		snprintf(err, ES_ERR_MAX, "app '%s' already defined", c->name);
		return -1;
	}
	if (t->n_apps == ES_MAX_APPS) {
		snprintf(err, ES_ERR_MAX, "more than %d apps", ES_MAX_APPS);
		return -1;
	}
	a = &t->apps[t->n_apps];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", c->name);
	a->via = c->via;
	a->down = c->down;
	if (es_resolve_peer(&c->via, ES_ROLE_LOCAL, &a->hop, err))
		return -1;
	t->n_apps++;
	return 0;
}

/* The index of the peer for addr on a port of role: an existing entry
 * or a new one. */
static int peer_index(struct es_tables *t, const struct es_addr *addr,
		      uint8_t role, char err[ES_ERR_MAX])
{
	struct es_peer p;
	if (es_resolve_peer(addr, role, &p, err))
		return -1;
	for (uint16_t i = 0; i < t->n_peers; i++)
		if (memcmp(&t->peers[i], &p, sizeof(p)) == 0)
			return i;
	if (t->n_peers == ES_MAX_PEERS) {
		snprintf(err, ES_ERR_MAX, "more than %d gNB and UPF addresses", ES_MAX_PEERS);
		return -1;
	}
	t->peers[t->n_peers] = p;
	es_tpl_build(&t->tpls[t->n_peers], &es_ports[p.port], &p);
	return t->n_peers++;
}

static int apply_session(struct es_tables *t, const struct es_cmd_session *c,
			 char err[ES_ERR_MAX])
{
	struct es_session s;
	if (es_session_from_cmd(t, c, &s, err))
		return -1;
	return es_session_add(t, &s, err);
}

static int apply_rule(struct es_tables *t, const struct es_cmd_rule *c,
		      char err[ES_ERR_MAX])
{
	struct es_rule *r;
	for (uint32_t i = 0; i < t->n_rules; i++) {
		if (t->rules[i].prio == c->prio) {
			snprintf(err, ES_ERR_MAX, "rule %u already exists", c->prio);
			return -1;
		}
	}
	if (t->n_rules == t->max_rules) {
		snprintf(err, ES_ERR_MAX, "rule %u: table full (%u rules; raise 'set rules-max')",
			 c->prio, t->max_rules);
		return -1;
	}
	r = &t->rules[t->n_rules];
	if (es_rule_from_cmd(t, c, r, err))
		return -1;
	t->rule_defs[t->n_rules] = *c;
	t->n_rules++;
	return 0;
}

int es_config_apply(struct es_tables *t, const struct es_cmd *c,
		    char err[ES_ERR_MAX])
{
	switch (c->obj) {
	case ES_OBJ_SET:     return apply_set(&c->u.set, err);
	case ES_OBJ_PORT:    return apply_port(&c->u.port, err);
	case ES_OBJ_NEIGH:   return apply_neigh(&c->u.neigh, err);
	case ES_OBJ_APP:     return apply_app(t, &c->u.app, err);
	case ES_OBJ_SESSION: return apply_session(t, &c->u.session, err);
	case ES_OBJ_RULE:    return apply_rule(t, &c->u.rule, err);
	}
	snprintf(err, ES_ERR_MAX, "internal: unknown object %u", c->obj);
	return -1;
}

uint64_t es_heap_used(void)
{
	struct rte_malloc_socket_stats st;
	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

static struct es_tables *tables_new(char err[ES_ERR_MAX])
{
	int socket = (int)rte_socket_id();
	struct es_tables *t = rte_zmalloc("es_tables", sizeof(*t), 0);
	uint64_t before;
	if (t == NULL)
		goto nomem;
	t->max_rules = es_set.rules_max;
	t->rules = rte_zmalloc("es_rules", (size_t)t->max_rules * sizeof(struct es_rule), 0);
	t->rule_defs = rte_zmalloc("es_rule_defs", (size_t)t->max_rules * sizeof(struct es_cmd_rule), 0);
	t->apps = rte_zmalloc("es_apps", ES_MAX_APPS * sizeof(struct es_app), 0);
	t->peers = rte_zmalloc("es_peers", ES_MAX_PEERS * sizeof(struct es_peer), 0);
	t->tpls = rte_zmalloc("es_tpls", ES_MAX_PEERS * sizeof(struct es_tpl), 0);
	before = es_heap_used();
	if (!t->rules || !t->rule_defs || !t->apps || !t->peers || !t->tpls ||
	    es_sessions_create(t, es_set.sessions_max, socket))
		goto nomem;
	t->mem_sessions = es_heap_used() - before;
	return t;
nomem:
	snprintf(err, ES_ERR_MAX,
		 "out of memory for %u sessions and %u rules (raise EAL -m, or lower 'set sessions-max'/'set rules-max')",
		 es_set.sessions_max, es_set.rules_max);
	if (t) {
		rte_free(t->rules);
		rte_free(t->rule_defs);
		rte_free(t->apps);
		rte_free(t->peers);
		rte_free(t->tpls);
		rte_free(t);
	}
	return NULL;
}

struct line_cmd {
	struct es_cmd cmd;
	unsigned int line;
};

int es_config_load(const char *path, struct es_tables **out)
{
	FILE *f = fopen(path, "r");
	char buf[ES_LINE_MAX + 2], err[ES_ERR_MAX];   /* the line, '\n', NUL */
	struct line_cmd *cmds = NULL;
	size_t n = 0, cap = 0;
	unsigned int lineno = 0;
	const char *key = NULL;
	struct es_tables *t = NULL;
	int rc = -1;

	es_settings_default(&es_set);
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		int r;
		lineno++;
		{
			/* at most ES_LINE_MAX characters, the newline not counted
			 * (as on the control socket) */
			char *nl = strchr(buf, '\n');
			if (nl == NULL && !feof(f)) {
				fprintf(stderr, "%s:%u: line longer than %d characters\n",
					path, lineno, ES_LINE_MAX);
				goto out;
			}
			if (nl)
				*nl = '\0';
		}
		if (n == cap) {
			void *nc = realloc(cmds, (cap = cap ? cap * 2 : 256) * sizeof(*cmds));
			if (nc == NULL) {
				fprintf(stderr, "%s:%u: out of memory\n", path, lineno);
				goto out;
			}
			cmds = nc;
		}
		r = es_cmd_parse(buf, &cmds[n].cmd, err);
		if (r < 0) {
			fprintf(stderr, "%s:%u: %s\n", path, lineno, err);
			goto out;
		}
		if (r == 1 && cmds[n].cmd.verb != ES_VERB_ADD &&
		    cmds[n].cmd.verb != ES_VERB_SET) {
			/* change, del, show: run-time verbs (steerctl) */
			fprintf(stderr, "%s:%u: %s %s: only 'add' and 'set' lines belong in a config file\n",
				path, lineno, es_obj_names[cmds[n].cmd.obj],
				es_verb_names[cmds[n].cmd.verb]);
			goto out;
		}
		if (r == 1)
			cmds[n++].line = lineno;
	}
	/* pass 1: settings; 2: ports and neighbours; 3: apps; 4: sessions
	 * and rules (which may name any app) */
	for (int pass = 1; pass <= 4; pass++) {
		if (pass == 3 && es_n_ports == 0) {
			fprintf(stderr, "%s: no 'port add' line: nothing to do\n", path);
			goto out;
		}
		/* no 'set acl-simd' line: the fastest method here, timed */
		if (pass == 2 && es_set.acl_simd == ES_ACL_SIMD_AUTO &&
		    es_acl_setup(ES_ACL_SIMD_AUTO, err)) {
			fprintf(stderr, "%s: %s\n", path, err);
			goto out;
		}
		if (pass == 2 && frag_budget(err, &key)) {
			/* at the line of the setting it names, if any */
			unsigned int line = 0;
			for (size_t i = 0; i < n; i++)
				if (cmds[i].cmd.obj == ES_OBJ_SET &&
				    strcmp(cmds[i].cmd.u.set.key, key) == 0)
					line = cmds[i].line;
			if (line)
				fprintf(stderr, "%s:%u: %s\n", path, line, err);
			else
				fprintf(stderr, "%s: %s\n", path, err);
			goto out;
		}
		if (pass == 3 && (t = tables_new(err)) == NULL) {
			fprintf(stderr, "%s: %s\n", path, err);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			uint8_t o = cmds[i].cmd.obj;
			int want = o == ES_OBJ_SET ? 1 :
				   (o == ES_OBJ_PORT || o == ES_OBJ_NEIGH) ? 2 :
				   o == ES_OBJ_APP ? 3 : 4;
			if (want != pass)
				continue;
			/* a saved state replaces the config's apps, sessions
			 * and rules (es_state_restore) */
			if (es_config_skip_state && o != ES_OBJ_SET && o != ES_OBJ_PORT &&
			    o != ES_OBJ_NEIGH)
				continue;
			if (es_config_apply(t, &cmds[i].cmd, err)) {
				fprintf(stderr, "%s:%u: %s\n", path, cmds[i].line, err);
				goto out;
			}
		}
	}
	{
		uint64_t before = es_heap_used();
		/* the one build path for rules: the loader's set is the
		 * first base of rules.c */
		if (es_rules_init(t, err)) {
			fprintf(stderr, "%s: %s\n", path, err);
			goto out;
		}
		t->mem_rules = es_heap_used() - before;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	if (t) {
		es_classify_free(t);
		es_sessions_free(t);
		rte_free(t->rules);
		rte_free(t->rule_defs);
		rte_free(t->apps);
		rte_free(t->peers);
		rte_free(t->tpls);
		rte_free(t);
	}
	free(cmds);
	fclose(f);
	return rc;
}

/* ---- for the control socket (ctl.c) ---- */

int es_peer_index(struct es_tables *t, const struct es_addr *addr,
		  uint8_t role, char err[ES_ERR_MAX])
{
	return peer_index(t, addr, role, err);
}

int es_session_from_cmd(struct es_tables *t, const struct es_cmd_session *c,
			struct es_session *s, char err[ES_ERR_MAX])
{
	char e2[ES_ERR_MAX];
	int pi;
	memset(s, 0, sizeof(*s));
	s->id = c->id;
	s->has_ue4 = c->has_ue4;
	if (c->has_ue4)
		memcpy(&s->ue4_be, c->ue4.a, 4);
	s->has_ue6 = c->has_ue6;
	if (c->has_ue6)
		memcpy(s->ue6, c->ue6.a, 8);
	s->ul_teid = c->ul_teid;
	s->n9_teid = c->has_n9 ? c->n9_teid : 0;
	s->gnb_teid = c->gnb_teid;
	s->qfi = c->qfi;
	if ((pi = peer_index(t, &c->gnb, ES_ROLE_ACCESS, e2)) < 0) {
		snprintf(err, ES_ERR_MAX, "session %u: gnb: %s", c->id, e2);
		return -1;
	}
	s->gnb = (uint16_t)pi;
	if (c->has_cloud) {
		if ((pi = peer_index(t, &c->cloud, ES_ROLE_CORE, e2)) < 0) {
			snprintf(err, ES_ERR_MAX, "session %u: cloud: %s", c->id, e2);
			return -1;
		}
		s->cloud = (uint16_t)pi;
		s->has_cloud = 1;
		s->cloud_teid = c->cloud_teid;
	}
	return 0;
}

static void peer_addr(const struct es_peer *p, struct es_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->v6 = p->v6;
	a->plen = p->v6 ? 128 : 32;
	memcpy(a->a, p->addr, p->v6 ? 16 : 4);
}

void es_session_to_cmd(const struct es_tables *t, const struct es_session *s,
		       struct es_cmd *c)
{
	struct es_cmd_session *cs = &c->u.session;
	memset(c, 0, sizeof(*c));
	c->obj = ES_OBJ_SESSION;
	c->verb = ES_VERB_ADD;
	cs->id = s->id;
	if (s->has_ue4) {
		cs->has_ue4 = 1;
		cs->ue4.plen = 32;
		memcpy(cs->ue4.a, &s->ue4_be, 4);
	}
	if (s->has_ue6) {
		cs->has_ue6 = 1;
		cs->ue6.v6 = 1;
		cs->ue6.plen = 64;
		memcpy(cs->ue6.a, s->ue6, 8);
	}
	cs->ul_teid = s->ul_teid;
	peer_addr(&t->peers[s->gnb], &cs->gnb);
	cs->gnb_teid = s->gnb_teid;
	if (s->has_cloud) {
		cs->has_cloud = 1;
		peer_addr(&t->peers[s->cloud], &cs->cloud);
		cs->cloud_teid = s->cloud_teid;
	}
	if (s->n9_teid) {
		cs->has_n9 = 1;
		cs->n9_teid = s->n9_teid;
	}
	cs->qfi = s->qfi;
	cs->has_gnb = 1;   /* as es_cmd_parse fills an added session */
	cs->has_qfi = 1;
}

void es_app_to_cmd(const struct es_app *a, struct es_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->obj = ES_OBJ_APP;
	c->verb = ES_VERB_ADD;
	snprintf(c->u.app.name, sizeof(c->u.app.name), "%s", a->name);
	c->u.app.via = a->via;
	c->u.app.down = a->down;
	c->u.app.has_via = 1;   /* as es_cmd_parse fills an added app */
	c->u.app.has_state = 1;
}

int es_app_resolve(const struct es_addr *via, struct es_peer *hop,
		   char err[ES_ERR_MAX])
{
	return es_resolve_peer(via, ES_ROLE_LOCAL, hop, err);
}

int es_neigh_add(const struct es_cmd_neigh *c, char err[ES_ERR_MAX])
{
	return apply_neigh(c, err);
}

uint32_t es_neigh_count(void)
{
	return n_neighs;
}

void es_neigh_truncate(uint32_t n)
{
	if (n < n_neighs)
		n_neighs = n;
}

void es_neigh_to_cmd(uint32_t i, struct es_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->obj = ES_OBJ_NEIGH;
	c->verb = ES_VERB_ADD;
	c->u.neigh.addr = neighs[i].addr;
	memcpy(c->u.neigh.mac, neighs[i].mac.addr_bytes, 6);
	snprintf(c->u.neigh.port, sizeof(c->u.neigh.port), "%s",
		 es_ports[neighs[i].port].name);
}
