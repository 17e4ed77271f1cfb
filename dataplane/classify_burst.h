/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage 3, classify: each packet's rule, by burst.
 *
 * Contract: es_classify_add() takes a packet lookup left ES_NEXT_ON
 * (p->sess bounded), sets p->rule = 0 (no rule) and, unless the
 * destination pre-filter (es_dfilt_may, classify.h) says no live rule can
 * match, builds its key (es_key_build: the rte_acl field layout of
 * classify.h) into its group by family and direction; es_classify_run()
 * classifies every group in one call (classify.c) and writes p->rule
 * (rule slot + 1, 0: none; bounded by the action before it indexes).
 * Gives no verdict. Per worker, no lock; static inline, compiled into
 * pipeline.c.
 */
#ifndef ES_CLASSIFY_BURST_H
#define ES_CLASSIFY_BURST_H

#include <rte_byteorder.h>
#include "classify.h"
#include "pipeline.h"

/* The burst's keys by family and direction (g = 2 * v6 + dl). */
struct es_kgroups {
	const uint8_t *kg[4][ES_BURST];
	uint32_t rg[4][ES_BURST];
	uint16_t cg[4][ES_BURST];
	uint16_t ng[4];
};

static inline void es_key_build(struct es_pkt *c, const struct es_session *s)
{
	uint8_t dir = c->path == ES_P_UL ? ES_DIR_UL : ES_DIR_DL;
	if (c->in.v6) {
		struct es_key6 *k = &c->key.k6;
		memset(k, 0, sizeof(*k));
		k->proto = c->in.proto;
		k->dir = dir;
		k->qfi = c->g.qfi;
		k->dscp = c->in.dscp;
		memcpy(k->ue, dir == ES_DIR_UL ? c->in.a.v6a.src : c->in.a.v6a.dst, 8);
		memcpy(k->src, c->in.a.v6a.src, 16);
		memcpy(k->dst, c->in.a.v6a.dst, 16);
		k->sport_be = rte_cpu_to_be_16(c->in.sport);
		k->dport_be = rte_cpu_to_be_16(c->in.dport);
		k->teid_be = rte_cpu_to_be_32(dir == ES_DIR_UL ? s->ul_teid : 0);
	} else {
		struct es_key4 *k = &c->key.k4;
		memset(k, 0, sizeof(*k));
		k->proto = c->in.proto;
		k->dir = dir;
		k->qfi = c->g.qfi;
		k->dscp = c->in.dscp;
		k->ue_be = dir == ES_DIR_UL ? c->in.a.v4.src_be : c->in.a.v4.dst_be;
		k->src_be = c->in.a.v4.src_be;
		k->dst_be = c->in.a.v4.dst_be;
		k->sport_be = rte_cpu_to_be_16(c->in.sport);
		k->dport_be = rte_cpu_to_be_16(c->in.dport);
		k->teid_be = rte_cpu_to_be_32(dir == ES_DIR_UL ? s->ul_teid : 0);
	}
}

/* Packet i of the burst (p) into its group, unless the pre-filter
 * rules it out (most traffic goes to the cloud region and matches no
 * rule). An End Marker is not classified. */
static inline void es_classify_add(const struct es_tables *t, struct es_pkt *p,
				   uint16_t i, struct es_kgroups *k)
{
	p->rule = 0;
	if (p->path == ES_P_END_MARKER)
		return;
	if (!es_dfilt_may(t, p->in.v6, p->in.v6 ? p->in.a.v6a.dst
						: (const uint8_t *)&p->in.a.v4.dst_be))
		return;
	es_key_build(p, &t->sessions[p->sess]);
	{
		unsigned int g = 2u * p->in.v6 + (p->path != ES_P_UL);
		k->kg[g][k->ng[g]] = (const uint8_t *)&p->key;
		k->cg[g][k->ng[g]++] = i;
	}
}

/* Classify the groups: a call per family and direction present. */
static inline void es_classify_run(const struct es_tables *t, struct es_pkt *c,
				   struct es_kgroups *k)
{
	for (unsigned int g = 0; g < 4; g++) {
		if (k->ng[g] == 0)
			continue;
		es_classify_rules_dir(t, (int)(g >> 1), (int)(g & 1), k->kg[g],
				      k->rg[g], k->ng[g]);
		for (uint16_t j = 0; j < k->ng[g]; j++)
			c[k->cg[g][j]].rule = k->rg[g][j];
	}
}

#endif
