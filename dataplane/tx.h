/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage 5, tx: the one exit of every packet of a burst.
 *
 * Contract: es_exit_run() walks the burst's exit list (pipeline.h) in
 * the order the verdicts were given and is the only place in the
 * pipeline that transmits, frees or raises a drop counter: a tx port
 * queues the packet in w's tx buffer of that port (es_tx: counts tx;
 * what a full queue refuses moves to drop_tx_full); ES_NEXT_DROP(c)
 * counts c and frees the packet (in one bulk free at the end);
 * ES_NEXT_HELD leaves it to reassembly. Per worker, no lock; static
 * inline, compiled into worker.c.
 */
#ifndef ES_TX_H
#define ES_TX_H

#include "pipeline.h"
#include "worker.h"

static inline void es_exit_run(struct es_worker *w, struct es_exit *x)
{
	struct rte_mbuf *dq[2 * ES_BURST];
	uint16_t nd = 0;

	for (uint16_t i = 0; i < x->n; i++) {
		es_next_t next = x->next[i];
		if (likely(ES_NEXT_IS_TX(next))) {
			/* HOOK 3: before tx (pipeline.h) */
			es_hook_tx(x->m[i], next);
			es_tx(w, (uint8_t)next, x->m[i]);
		} else if (next != ES_NEXT_HELD) {
			w->cnt[next & (es_next_t)~ES_NEXT_DROP_BIT]++;
			dq[nd++] = x->m[i];
		}
	}
	if (nd)
		rte_pktmbuf_free_bulk(dq, nd);
	x->n = 0;
}

#endif
