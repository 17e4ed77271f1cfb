/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker lcore's state, as the stages read and write it: its counters,
 * tx buffers, reassembly, token buckets and stage timing, and the
 * data-plane globals (defined in lcore.c). Written by its own worker
 * only; readers sum over workers (stats.c). The set-up and the loop are
 * worker.h / worker.c.
 */
#ifndef ES_LCORE_H
#define ES_LCORE_H

#include <string.h>
#include <rte_ethdev.h>
#include "es.h"
#include "frag.h"
#include "latency.h"

/* Pipeline stages timed with --stage-cycles. */
enum es_stage { ES_ST_RX, ES_ST_PARSE, ES_ST_CLASSIFY, ES_ST_ACTION, ES_ST_TX, ES_ST_MAX };
extern const char *const es_stage_names[ES_ST_MAX];
extern int es_stage_cycles;  /* set before launch; read-only after */
/* --stage-cycles=N: a worker times one round in N (1: every round), so
 * that the TSC reads (~22 TSC cycles each back to back, about eight a
 * round) weigh 1/N on what they measure; per-packet figures divide by
 * the packets of the timed rounds (stage_pkts). Set before launch;
 * read-only after. */
extern unsigned int es_stage_every;

struct es_worker {
	uint64_t cnt[ES_CNT_MAX];           /* written by this worker only */
	unsigned int lcore;
	uint16_t qid;                        /* rx/tx queue of every port */
	uint16_t rcu_id;
	struct rte_eth_dev_tx_buffer *txb[ES_MAX_PORTS];
	uint64_t txb_drops[ES_MAX_PORTS];    /* bumped by the tx error callback */
	struct es_frag frag;                 /* reassembly and its budget (frag.h) */
	/* Error Indication token bucket */
	uint64_t ei_tokens, ei_last, ei_period;
	/* ICMP error (Time Exceeded) token bucket: 'set icmp-rate' */
	uint64_t te_tokens, te_last, te_period;
	uint64_t last_rx_tsc;                /* for --idle-exit */
	uint64_t stage[ES_ST_MAX];           /* TSC cycles per stage (--stage-cycles) */
	uint64_t stage_pkts;                 /* packets received in timed rounds */
	uint32_t stage_seq;                  /* rounds since the last timed one */
	uint8_t timing;                      /* this round is timed */
	struct es_lat_hist lat;              /* rx -> tx latency of sent packets */
} __rte_cache_aligned;

extern struct es_worker *es_workers;
/* End Markers the control thread built, sent by worker 0 (single
 * producer: the control thread; single consumer: worker 0). */
extern struct rte_ring *es_ctl_tx;
extern unsigned int es_n_workers;
extern volatile int es_quit;

/* es_rcu has one thread slot more than there are workers: workers use
 * their qid, and slot es_rcu_reader_id() is for a reader off the data
 * path (the telemetry thread, telemetry.c), whose owner registers it and
 * serialises its use. */
static inline unsigned int es_rcu_reader_id(void)
{
	return es_n_workers;
}

/* Queue m for tx on config port p (counts ES_CNT_TX). */
static inline void es_tx(struct es_worker *w, uint8_t p, struct rte_mbuf *m)
{
	w->cnt[ES_CNT_TX]++;
	rte_eth_tx_buffer(es_ports[p].port_id, w->qid, w->txb[p], m);
}

/* Is addr (4 or 16 bytes, network order) one of port p's addresses? */
static inline bool es_port_has_addr(uint8_t p, const uint8_t *addr, bool v6)
{
	const struct es_port *pt = &es_ports[p];
	if (!v6) {
		uint32_t a;
		memcpy(&a, addr, 4);
		for (int i = 0; i < pt->n4; i++)
			if (pt->a4[i] == a)
				return true;
		return false;
	}
	for (int i = 0; i < pt->n6; i++)
		if (memcmp(pt->a6[i], addr, 16) == 0)
			return true;
	return false;
}

#endif
