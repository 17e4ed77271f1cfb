/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage 5, tx: the one exit of every packet.
 *
 * Contract: es_exit() takes a packet and its verdict (pipeline.h) and is
 * the only place in the pipeline that transmits, frees or raises a drop
 * counter: a tx port queues the packet in w's tx buffer of that port
 * (es_tx: counts tx; what a full queue refuses moves to drop_tx_full);
 * ES_NEXT_DROP(c) counts c and keeps the packet in d, which
 * es_exit_burst_end() frees in one bulk free; ES_NEXT_HELD leaves it to
 * reassembly, whose drops (a fragment refused, fragments given up on,
 * now or at expiry) come back through es_exit_frags(). The burst loop (pipeline.c) calls it as each verdict is
 * given, so packets leave in the order the stages finish with them (a
 * path management reply of stage 1 before the actions of stage 4, a
 * mirror copy just before its packet). Per worker, no lock; static
 * inline, compiled into pipeline.c.
 */
#ifndef ES_TX_H
#define ES_TX_H

#include "pipeline.h"
#include "lcore.h"

static inline void es_exit(struct es_worker *w, struct es_drops *d,
			   struct rte_mbuf *m, es_next_t next)
{
	if (likely(ES_NEXT_IS_TX(next))) {
		es_tx(w, (uint8_t)next, m);
	} else if (next != ES_NEXT_HELD) {
		w->cnt[next & (es_next_t)~ES_NEXT_DROP_BIT]++;
		d->m[d->n++] = m;
	}
}

/* What reassembly dropped (frag.h, struct es_frag_out): each mbuf counted
 * under its reason (a chain of fragments: one per fragment) and freed,
 * together; the list emptied. After every es_frag_in and es_frag_expire. */
static inline void es_exit_frags(struct es_worker *w, struct es_frag_out *o)
{
	if (likely(o->n == 0))
		return;
	for (uint32_t i = 0; i < o->n; i++)
		w->cnt[o->why[i]] += o->add[i];
	rte_pktmbuf_free_bulk(o->m, o->n);   /* (whole chains) */
	o->n = 0;
}

/* The end of a burst: free its drops together. */
static inline void es_exit_burst_end(struct es_drops *d)
{
	if (d->n)
		rte_pktmbuf_free_bulk(d->m, d->n);
	d->n = 0;
}

#endif
