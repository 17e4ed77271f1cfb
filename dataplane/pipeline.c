/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The burst pipeline: one received burst through the stages, in phases
 * (each works on the whole burst before the next starts), every packet
 * to its one exit as its verdict is given. The stages, one file each in
 * the order packets flow (pipeline.h, docs/architecture.md):
 *
 *   1. ingress   ingress.h (+ frag.c reassembly, act_path.c replies)
 *   2. lookup    lookup.h (session.c tables)
 *   3. classify  classify_burst.h (classify.c)
 *   4. action    act_uplink.h, act_downlink.h (encap.c, act_path.c)
 *   5. tx        tx.h: the one place that sends, frees and counts drops
 *
 * The stages are static inline and compile into this one unit: no call
 * and no function pointer per packet between them. Hook points
 * (hook_points.h): after parse, after classify, before tx.
 */
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_prefetch.h>
#include "lcore.h"
#include "pipeline.h"
#include "ingress.h"
#include "lookup.h"
#include "classify_burst.h"
#include "act_uplink.h"
#include "act_downlink.h"
#include "tx.h"
#include "hook_points.h"

/*
 * The burst through the stages, with the hook programs of hs at the hook
 * points (hook_points.h), or none for hs NULL. Compiled twice: inlined
 * into es_process_burst with hs a constant NULL, where the compiler
 * leaves the hook points out altogether, and as burst_hooked for a burst
 * that meets attached programs. Cost with nothing attached: one load and
 * one branch a burst.
 */
static inline __attribute__((always_inline)) void
process_burst(struct es_worker *w, const struct es_tables *t, uint8_t in_port,
	      struct rte_mbuf **pkts, uint16_t n, const struct es_hook_set *hs)
{
	struct es_pkt c[ES_BURST];
	struct es_drops d;
	struct keyset ks[KS_MAX];
	struct es_kgroups kgr;
	const struct es_sidx *sx[ES_BURST];
	uint32_t skey[ES_BURST], shome[ES_BURST];
	uint16_t nc = 0, nl = 0;   /* nl: session lookups done */
	uint16_t n6 = 0;           /* IPv6 /64 lookups for stage 2 */
	/* the burst's rx time, read by the worker as the burst returned: one
	 * TSC read less a burst (a read costs ~25-40 cycles here) */
	uint64_t tsc = w->last_rx_tsc, t1 = 0, t2 = 0;

	d.n = 0;
	for (int k = 0; k < KS_MAX; k++)
		ks[k].n = 0;
	for (int g = 0; g < 4; g++)
		kgr.ng[g] = 0;

	w->cnt[ES_CNT_RX] += n;
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(pkts[i]);
	for (uint16_t i = 0; i < n && i < ES_PF_DATA; i++)
		pkt_prefetch(pkts[i]);
	/* stage 1: ingress (outer, reassembly, path management, inner) */
	for (uint16_t i = 0; i < n; i++) {
		es_next_t next;
		if (i + ES_PF_DATA < n)
			pkt_prefetch(pkts[i + ES_PF_DATA]);
		c[nc].m = pkts[i];
		next = es_ingress(w, in_port, &c[nc], tsc);
		/* HOOK 1: after parse (hook_points.h) */
		if (unlikely(hs != NULL) && next == ES_NEXT_ON)
			next = es_hook_parsed(w, t, hs, &c[nc]);
		if (next != ES_NEXT_ON) {
			es_exit(w, &d, c[nc].m, next);
			continue;
		}
		/* the session index position, prefetched now, read
		 * ES_SESS_AHEAD packets later (below), when it names the
		 * session to prefetch for stage 2 */
		sx[nc] = sess_index(t, &c[nc], &skey[nc]);
		if (sx[nc] != NULL) {
			shome[nc] = es_sidx_home(sx[nc], skey[nc]);
			rte_prefetch0(&sx[nc]->e[shome[nc]]);
		} else {
			n6++;
		}
		nc++;
		if (nc > ES_SESS_AHEAD)
			sess_find(t, c, sx, skey, shome, nl++);
	}

	if (w->timing)
		t1 = rte_rdtsc();
	/* stage 2: sessions. 4-byte keys: their home positions were
	 * prefetched in stage 1; IPv6 prefixes: one bulk lookup */
	if (unlikely(n6 != 0)) {
		for (uint16_t i = 0; i < nc; i++) {
			if (sx[i] == NULL) {
				struct keyset *k = &ks[KS_UE6];
				memcpy(&k->k8[k->n], c[i].in.a.v6a.dst, 8);
				k->keys[k->n] = &k->k8[k->n];
				k->ci[k->n++] = i;
			}
		}
		lookup_bulk(t->by_ue6, &ks[KS_UE6], c);
		for (uint16_t j = 0; j < ks[KS_UE6].n; j++)
			if (c[ks[KS_UE6].ci[j]].sess < t->sess_cap)
				sess_prefetch(&t->sessions[c[ks[KS_UE6].ci[j]].sess]);
	}
	for (uint16_t i = nl; i < nc; i++)   /* the last ES_SESS_AHEAD */
		sess_find(t, c, sx, skey, shome, i);
	for (uint16_t i = 0; i < nc; i++) {
		struct es_pkt *p = &c[i];
		p->next = es_lookup_check(w, t, p);
		if (p->next != ES_NEXT_ON) {
			es_exit(w, &d, p->m, p->next);
			continue;
		}
		/* stage 3 input */
		es_classify_add(t, p, i, &kgr);
	}
	/* stage 3: classify, a call per family and direction present */
	es_classify_run(t, c, &kgr);

	if (w->timing)
		t2 = rte_rdtsc();
	/* stage 4: actions */
	for (uint16_t i = 0; i < nc; i++) {
		struct es_pkt *p = &c[i];
		const struct es_session *s;
		const struct es_rule *r;
		struct es_rule hr;
		if (p->next != ES_NEXT_ON)
			continue;
		/* a table result is bounded before it indexes */
		r = p->rule && p->rule <= t->n_slots ? &t->rules[p->rule - 1] : NULL;
		/* HOOK 2: after classify, before the action (hook_points.h);
		 * a program's STEER_APP / TO_CLOUD replaces r */
		if (unlikely(hs != NULL)) {
			r = es_hook_classified(w, t, hs, p, r, &hr);
			if (p->next != ES_NEXT_ON) {
				es_exit(w, &d, p->m, p->next);
				continue;
			}
		}
		s = &t->sessions[p->sess];
		switch (p->path) {
		case ES_P_UL:
			p->next = act_uplink(w, &d, t, p, s, r);
			break;
		case ES_P_END_MARKER:
			p->next = act_end_marker(w, t, p, s);
			break;
		default:
			p->next = act_downlink(w, t, p, s, r);
			break;
		}
		/* HOOK 3: before tx (hook_points.h) */
		if (unlikely(hs != NULL))
			p->next = es_hook_tx(w, t, hs, p);
		es_exit(w, &d, p->m, p->next);
	}
	es_exit_burst_end(&d);
	if (w->timing) {
		uint64_t t3 = rte_rdtsc();
		w->stage[ES_ST_PARSE] += t1 - tsc;
		w->stage[ES_ST_CLASSIFY] += t2 - t1;
		w->stage[ES_ST_ACTION] += t3 - t2;
	}
}

static __attribute__((noinline)) void
burst_hooked(struct es_worker *w, const struct es_tables *t, uint8_t in_port,
	     struct rte_mbuf **pkts, uint16_t n, const struct es_hook_set *hs)
{
	process_burst(w, t, in_port, pkts, n, hs);
}

/* flatten: the stages inline here as they did with one copy of the
 * pipeline (with two, GCC's inliner would call some of them) */
__attribute__((flatten))
void es_process_burst(struct es_worker *w, const struct es_tables *t,
		      uint8_t in_port, struct rte_mbuf **pkts, uint16_t n)
{
	/* the hook programs for the whole burst (hook.h: the worker's
	 * quiescent state comes between bursts, so the set stays valid) */
	const struct es_hook_set *hs = __atomic_load_n(&es_hook_live, __ATOMIC_ACQUIRE);

	if (unlikely(hs != NULL)) {
		burst_hooked(w, t, in_port, pkts, n, hs);
		return;
	}
	process_burst(w, t, in_port, pkts, n, NULL);
}
