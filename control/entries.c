/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tables' entries and the grammar's commands (control thread): next
 * hops resolved to a port and a MAC (static neighbours, port subnets and
 * gateways), peers, sessions and apps from their commands and back to the
 * canonical 'add' lines. Used by the batch engine (ctl.c), the config
 * loader (config.c) and the state (state.c); depends on none of them.
 */
#include <stdio.h>
#include <string.h>
#include <rte_ether.h>
#include "encap.h"
#include "entries.h"
#include "es.h"

struct neigh {
	struct es_addr addr;
	uint8_t port;
	struct rte_ether_addr mac;
};
static struct neigh neighs[ES_MAX_NEIGH];
static uint32_t n_neighs;

int es_port_by_name(const char *name)
{
	for (int i = 0; i < es_n_ports; i++)
		if (strcmp(es_ports[i].name, name) == 0)
			return i;
	return -1;
}

static int apply_neigh(const struct es_cmd_neigh *c, char err[ES_ERR_MAX])
{
	int pi = es_port_by_name(c->port);
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
