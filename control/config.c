/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file: a list of commands in the grammar of control/cmd.h.
 * Loading is order-independent: 'set' lines apply first, then ports
 * (both start-up only); the rest (neighbours, apps, sessions, rules) is
 * one batch through the engine steerctl uses (ctl.c es_ctl_apply), which
 * applies neighbours, then apps, then sessions and rules, so a rule may
 * name an app defined further down, and a mistake gets steerctl's
 * message. The first error stops start-up with "FILE:LINE: reason".
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
#include "ctl.h"
#include "entries.h"
#include "es.h"
#include "encap.h"
#include "frag.h"
#include "rules.h"
#include "worker.h"

bool es_config_skip_state;

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

static int apply_port(const struct es_cmd_port *c, char err[ES_ERR_MAX])
{
	struct es_port *p;
	uint16_t pid;
	if (es_port_by_name(c->name) >= 0) {
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

/* The start-up only lines; the rest go through the batch engine
 * (es_ctl_apply), as from steerctl. */
static int apply_static(const struct es_cmd *c, char err[ES_ERR_MAX])
{
	if (c->obj == ES_OBJ_SET)
		return apply_set(&c->u.set, err);
	return apply_port(&c->u.port, err);
}

uint64_t es_heap_used(void)
{
	struct rte_malloc_socket_stats st;
	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

/* The set's own arrays and the set (tables_new's; NULL: nothing). */
static void tables_free(struct es_tables *t)
{
	if (t == NULL)
		return;
	rte_free(t->rules);
	rte_free(t->rule_defs);
	rte_free(t->apps);
	rte_free(t->peers);
	rte_free(t->tpls);
	rte_free(t);
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
	tables_free(t);
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
	/* pass 1: settings; 2: ports */
	for (int pass = 1; pass <= 2; pass++) {
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
		for (size_t i = 0; i < n; i++) {
			uint8_t o = cmds[i].cmd.obj;
			int want = o == ES_OBJ_SET ? 1 : o == ES_OBJ_PORT ? 2 : 0;
			if (want != pass)
				continue;
			if (apply_static(&cmds[i].cmd, err)) {
				fprintf(stderr, "%s:%u: %s\n", path, cmds[i].line, err);
				goto out;
			}
		}
	}
	if (es_n_ports == 0) {
		fprintf(stderr, "%s: no 'port add' line: nothing to do\n", path);
		goto out;
	}
	if ((t = tables_new(err)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		goto out;
	}
	{
		uint64_t before = es_heap_used();
		const struct es_cmd **cp;
		unsigned int *line, nc = 0, failed = 0;
		/* the rule update engine starts empty: the config's rules
		 * come in below, as from steerctl */
		if (es_rules_init(t, err)) {
			fprintf(stderr, "%s: %s\n", path, err);
			goto out;
		}
		es_tables_live = t;
		cp = malloc((n + 1) * sizeof(*cp));
		line = malloc((n + 1) * sizeof(*line));
		if (cp == NULL || line == NULL) {
			fprintf(stderr, "%s: out of memory\n", path);
			free(cp);
			free(line);
			goto out_live;
		}
		/* neighbours, apps, sessions and rules: one batch through the
		 * engine of steerctl and the state journal (ctl.c), so that
		 * any order works and a mistake gets steerctl's message. A
		 * saved state replaces the config's apps, sessions and rules
		 * (es_state_restore). */
		for (size_t i = 0; i < n; i++) {
			uint8_t o = cmds[i].cmd.obj;
			if (o == ES_OBJ_SET || o == ES_OBJ_PORT)
				continue;
			if (es_config_skip_state && o != ES_OBJ_NEIGH)
				continue;
			line[nc] = cmds[i].line;
			cp[nc++] = &cmds[i].cmd;
		}
		if (es_ctl_apply(cp, nc, &failed, err)) {
			fprintf(stderr, "%s:%u: %s\n", path, line[failed], err);
			free(cp);
			free(line);
			goto out_live;
		}
		free(cp);
		free(line);
		/* 32 or more rules started a merge: their base is installed
		 * before the workers run (fewer wait for a quiet period) */
		es_rules_settle();
		t = es_tables_live;
		t->mem_rules = es_heap_used() - before;
	}
	*out = t;
	t = NULL;
	rc = 0;
	goto out;
out_live:
	/* the batch undid itself: free the empty live set */
	es_rules_fini();
	t = es_tables_live;
	es_tables_live = NULL;
out:
	if (t) {
		es_classify_free(t);
		es_sessions_free(t);
		tables_free(t);
	}
	free(cmds);
	fclose(f);
	return rc;
}
