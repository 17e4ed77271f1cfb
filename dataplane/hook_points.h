/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The three hook points of the pipeline (docs/ebpf.md "Where the hooks
 * run"): where the stages call the eBPF programs attached with `steerctl
 * hook attach` (dataplane/hook.h, es_hook_run_set), fill the context
 * with what is known there and turn the programs' verdict into the
 * packet's verdict (pipeline.h, es_next_t). Nothing here transmits,
 * frees or counts a packet's fate: a drop becomes
 * ES_NEXT_DROP(ES_CNT_DROP_HOOK), which the exit (tx.h) counts and frees.
 *
 *   HOOK 1 es_hook_parsed      after ingress, before the session lookup
 *   HOOK 2 es_hook_classified  after classify, before the action
 *   HOOK 3 es_hook_tx          after the action, before the exit queues
 *                              the packet for tx (packets to be sent)
 *
 * Uplink (ES_P_UL) and downlink (ES_P_DL_APP, ES_P_DL_CLOUD); an End
 * Marker has no T-PDU and runs no hook.
 *
 * Cost with nothing attached: es_process_burst (pipeline.c) loads
 * es_hook_live once a burst and, NULL, runs the pipeline compiled
 * without the hook points; a burst that meets programs runs the one
 * compiled with them, the set it loaded for the whole burst (the worker
 * reports its quiescent state between bursts).
 *
 * Verdicts: DROP at any point: dropped under drop_hook. STEER_APP and
 * TO_CLOUD on the uplink at points 1 and 2: the action becomes local
 * breakout to app arg (decapsulated and routed as a 'local' rule does;
 * an index that names no app, past the apps or a deleted one's slot, is
 * a drop_hook) or the relay to the cloud
 * UPF (as a 'cloud' rule), whatever rule matched; elsewhere (downlink,
 * point 3) they change nothing. SET_DSCP rewrites the inner IP header's
 * DSCP in place (IPv4 with its header checksum updated, RFC 1624; IPv6
 * in the traffic class), so the later stages, the classification of
 * point 1 included, see the new value; SET_MARK sets the mbuf's
 * hash.fdir.hi.
 */
#ifndef ES_HOOK_POINTS_H
#define ES_HOOK_POINTS_H

#include <string.h>
#include "pipeline.h"
#include "lcore.h"
#include "hook.h"

/* The matched rule's action in the ABI's words. */
static inline uint8_t hk_action(uint8_t act)
{
	switch (act) {
	case ES_ACT_LOCAL:   return ES_HOOK_ACT_LOCAL;
	case ES_ACT_CLOUD:
	case ES_ACT_FORWARD: return ES_HOOK_ACT_RELAY;
	case ES_ACT_DROP:    return ES_HOOK_ACT_DROP;
	case ES_ACT_MIRROR:  return ES_HOOK_ACT_MIRROR;
	default:             return ES_HOOK_ACT_NONE;
	}
}

/* The context of p at point (the packet as the stages have it: m's data
 * is the frame as received at points 1 and 2). */
static void hk_fill(struct es_hook_ctx *x, const struct es_tables *t,
		    const struct es_pkt *p, unsigned int point, unsigned int dir)
{
	const struct es_rule *r = NULL;
	const struct es_session *s = NULL;
	const uint8_t *ue;

	memset(x, 0, sizeof(*x));
	x->abi = ES_HOOK_ABI_VERSION;
	x->point = (uint8_t)point;
	x->dir = (uint8_t)dir;
	x->in_port = p->in_port;
	x->out_port = ES_HOOK_NONE8;
	x->teid = dir == ES_HOOK_UL ? p->g.teid : ES_HOOK_NONE32;
	if (point != ES_HOOK_AFTER_PARSE && p->sess < t->sess_cap)
		s = &t->sessions[p->sess];
	if (point != ES_HOOK_AFTER_PARSE && p->rule && p->rule <= t->n_slots)
		r = &t->rules[p->rule - 1];
	x->session_id = s ? s->id : ES_HOOK_NONE32;
	if (p->path != ES_P_DL_APP && p->g.has_psc)
		x->qfi = p->g.qfi;
	else if (p->path == ES_P_DL_APP && s)
		x->qfi = s->qfi;       /* the QFI its tunnel will carry */
	else
		x->qfi = ES_HOOK_NONE8;
	x->dscp = p->in.dscp;
	x->ip_ver = p->in.v6 ? 6 : 4;
	x->proto = p->in.proto;
	x->frag = p->in.is_frag;
	if (p->in.v6) {
		memcpy(x->src, p->in.a.v6a.src, 16);
		memcpy(x->dst, p->in.a.v6a.dst, 16);
	} else {
		memcpy(x->src, &p->in.a.v4.src_be, 4);
		memcpy(x->dst, &p->in.a.v4.dst_be, 4);
	}
	/* the UE: the uplink's source, the downlink's destination (the
	 * address the session lookup keys on) */
	ue = dir == ES_HOOK_UL ? x->src : x->dst;
	if (p->in.v6)
		memcpy(x->ue_v6, ue, 16);
	else
		memcpy(&x->ue_v4, ue, 4);
	x->sport = p->in.sport;
	x->dport = p->in.dport;
	x->rule_prio = r ? r->prio : ES_HOOK_NONE32;
	x->rule_action = r ? hk_action(r->action) : ES_HOOK_ACT_NONE;
	x->app = r && (r->action == ES_ACT_LOCAL || r->action == ES_ACT_MIRROR)
		 ? r->app : ES_HOOK_NONE32;
	x->inner_off = p->inner_off;
	x->pkt_len = rte_pktmbuf_data_len(p->m);
	x->wire_len = rte_pktmbuf_pkt_len(p->m);
}

/* Set the DSCP of the IP header at ip (the first segment holds at least
 * room bytes from ip) to dscp, the ECN bits kept: IPv4 with the header
 * checksum updated (RFC 1624, eqn. 3), IPv6 in its traffic class. Nothing
 * when the version nibble is not v6's expected one or room is short. */
static void hk_set_dscp(uint8_t *ip, uint32_t room, bool v6, uint8_t dscp)
{
	if (room < (v6 ? 40u : 20u) || (ip[0] >> 4) != (v6 ? 6 : 4))
		return;
	if (v6) {
		uint8_t tc = (uint8_t)(((ip[0] & 0x0f) << 4) | (ip[1] >> 4));
		tc = (uint8_t)((dscp << 2) | (tc & 3));
		ip[0] = (uint8_t)((ip[0] & 0xf0) | (tc >> 4));
		ip[1] = (uint8_t)((ip[1] & 0x0f) | ((tc & 0x0f) << 4));
	} else {
		uint8_t tos = (uint8_t)((dscp << 2) | (ip[1] & 3));
		uint32_t oldw = ((uint32_t)ip[0] << 8) | ip[1];
		uint32_t neww = ((uint32_t)ip[0] << 8) | tos;
		uint32_t hc = ((uint32_t)ip[10] << 8) | ip[11];
		uint32_t sum = (~hc & 0xffff) + (~oldw & 0xffff) + neww;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		hc = ~sum & 0xffff;
		ip[1] = tos;
		ip[10] = (uint8_t)(hc >> 8);
		ip[11] = (uint8_t)hc;
	}
}

/* The marks the programs asked for: mark and DSCP of the inner packet at
 * off of m's first segment. */
static inline void hk_apply(struct es_pkt *p, const struct es_hook_res *res,
			    uint32_t off)
{
	struct rte_mbuf *m = p->m;
	if (res->has_mark)
		m->hash.fdir.hi = res->mark;
	if (res->dscp >= 0 && off < rte_pktmbuf_data_len(m)) {
		hk_set_dscp(rte_pktmbuf_mtod_offset(m, uint8_t *, off),
			    rte_pktmbuf_data_len(m) - off, p->in.v6,
			    (uint8_t)res->dscp);
		p->in.dscp = (uint8_t)res->dscp;
	}
}

/* Points 1 and 2, out of line: run s's programs at point on p. Returns
 * p's next (ES_NEXT_ON to go on); records a STEER_APP / TO_CLOUD of the
 * uplink in p->hk_act, p->hk_app. */
static es_next_t
hk_point(struct es_worker *w, const struct es_tables *t, struct es_pkt *p,
	 const struct es_hook_set *s, unsigned int point)
{
	struct es_hook_ctx x;
	struct es_hook_res res;
	unsigned int dir;
	uint32_t code;

	if (p->path == ES_P_END_MARKER)
		return ES_NEXT_ON;
	dir = p->path == ES_P_UL ? ES_HOOK_UL : ES_HOOK_DL;
	if (s->n[point][dir] == 0)
		return ES_NEXT_ON;
	hk_fill(&x, t, p, point, dir);
	code = es_hook_run_set(s, w->qid, point, dir, &x,
			       rte_pktmbuf_mtod(p->m, const uint8_t *),
			       rte_pktmbuf_data_len(p->m), &res);
	hk_apply(p, &res, p->inner_off);
	switch (code) {
	case ES_HOOK_DROP:
		return ES_NEXT_DROP(ES_CNT_DROP_HOOK);
	case ES_HOOK_STEER_APP:
		if (dir != ES_HOOK_UL)
			break;
		/* an index past the apps, or a deleted app's slot */
		if (res.app >= t->n_apps || t->apps[res.app].name[0] == '\0')
			return ES_NEXT_DROP(ES_CNT_DROP_HOOK);
		p->hk_act = ES_ACT_LOCAL;
		p->hk_app = (uint16_t)res.app;
		break;
	case ES_HOOK_TO_CLOUD:
		if (dir == ES_HOOK_UL)
			p->hk_act = ES_ACT_CLOUD;
		break;
	default:
		break;
	}
	return ES_NEXT_ON;
}

/* HOOK 1, after parse, before the session lookup and classify (p->o,
 * p->g, p->in, p->path known; no session, no rule), out of line: the
 * burst loop calls it when hs (es_hook_live as the burst began) is not
 * NULL. Returns p's next. */
static __attribute__((noinline, cold)) es_next_t
es_hook_parsed(struct es_worker *w, const struct es_tables *t,
	       const struct es_hook_set *hs, struct es_pkt *p)
{
	/* every packet of a burst with hooks passes here: hk_act is set
	 * for all that reach the action */
	p->hk_act = 0;
	return hk_point(w, t, p, hs, ES_HOOK_AFTER_PARSE);
}

/* HOOK 2, after classify, before the action (p->sess, p->rule known),
 * out of line as HOOK 1. Sets p->next; returns the rule the action is to
 * follow: r, or the one a program's STEER_APP / TO_CLOUD (here or at
 * HOOK 1) stands for, in *hr. */
static __attribute__((noinline, cold)) const struct es_rule *
es_hook_classified(struct es_worker *w, const struct es_tables *t,
		   const struct es_hook_set *hs, struct es_pkt *p,
		   const struct es_rule *r, struct es_rule *hr)
{
	p->next = hk_point(w, t, p, hs, ES_HOOK_AFTER_CLASSIFY);
	if (p->next == ES_NEXT_ON && p->hk_act) {
		/* as a rule of that action would: a local app that is down
		 * falls back to the cloud (ul_fallback) */
		hr->prio = r ? r->prio : 0;
		hr->action = p->hk_act;
		hr->then_action = ES_ACT_NONE;
		hr->fallback = ES_ACT_CLOUD;
		hr->app = p->hk_app;
		hr->then_app = 0;
		return hr;
	}
	return r;
}

/* HOOK 3, before tx, out of line as HOOK 1: p has been through its
 * action; when its next is a tx port, m's data is the frame as it will
 * leave, its inner packet the last in.ip_len bytes (decapsulated,
 * relayed or encapsulated alike). Returns p's next: a drop, or as it was. */
static __attribute__((noinline, cold)) es_next_t
es_hook_tx(struct es_worker *w, const struct es_tables *t,
	   const struct es_hook_set *s, struct es_pkt *p)
{
	struct es_hook_ctx x;
	struct es_hook_res res;
	struct rte_mbuf *m = p->m;
	unsigned int dir;
	uint32_t code, off;
	const uint8_t *ip;

	if (!ES_NEXT_IS_TX(p->next) || p->path == ES_P_END_MARKER)
		return p->next;
	dir = p->path == ES_P_UL ? ES_HOOK_UL : ES_HOOK_DL;
	if (s->n[ES_HOOK_BEFORE_TX][dir] == 0)
		return p->next;
	hk_fill(&x, t, p, ES_HOOK_BEFORE_TX, dir);
	x.out_port = (uint8_t)p->next;
	/* where the inner packet is now; a frame the action made of its own
	 * (an ICMP Time Exceeded) has another shape: no offset then */
	off = rte_pktmbuf_pkt_len(m) >= p->in.ip_len
	      ? rte_pktmbuf_pkt_len(m) - p->in.ip_len : 0;
	ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
	if (off == 0 || off + 4 > rte_pktmbuf_data_len(m) ||
	    (ip[0] >> 4) != (p->in.v6 ? 6 : 4) ||
	    (!p->in.v6 && (((uint32_t)ip[2] << 8) | ip[3]) != p->in.ip_len))
		off = 0;
	x.inner_off = (uint16_t)off;
	code = es_hook_run_set(s, w->qid, ES_HOOK_BEFORE_TX, dir, &x,
			       rte_pktmbuf_mtod(m, const uint8_t *),
			       rte_pktmbuf_data_len(m), &res);
	if (off == 0)
		res.dscp = -1;
	hk_apply(p, &res, off);
	if (code == ES_HOOK_DROP)
		return ES_NEXT_DROP(ES_CNT_DROP_HOOK);
	return p->next;
}

#endif
