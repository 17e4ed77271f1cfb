/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: its state, set-up and loop. Each round: rx a burst per
 * port, run it through the pipeline (pipeline.c es_process_burst: one
 * stage per file, each packet to its one exit), flush tx, End Markers
 * from the control thread (worker 0), reassembly expiry, report
 * quiescence. The stats readers are in stats.c. See
 * docs/architecture.md.
 */
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include "port.h"
#include "worker.h"
#include "tx.h"
#include "mem.h"


void es_worker_flush(struct es_worker *w)
{
	for (uint16_t p = 0; p < es_n_ports; p++)
		if (w->qid < es_ports[p].nb_queues)
			rte_eth_tx_buffer_flush(es_ports[p].port_id, w->qid, w->txb[p]);
}

/* tx buffer error callback: what tx_burst refused is freed, moved from
 * 'tx' to 'drop_tx_full' */
static void tx_refused(struct rte_mbuf **pkts, uint16_t unsent, void *arg)
{
	struct es_worker *w = arg;
	rte_pktmbuf_free_bulk(pkts, unsent);
	w->cnt[ES_CNT_TX] -= unsent;
	w->cnt[ES_CNT_TX_FULL] += unsent;
}

int es_worker_init(struct es_worker *w, unsigned int lcore, uint16_t qid)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	uint64_t hz = rte_get_tsc_hz();
	memset(w, 0, sizeof(*w));
	w->lcore = lcore;
	w->qid = qid;
	w->rcu_id = qid;
	for (uint16_t p = 0; p < es_n_ports; p++) {
		/* room for what a round usually sends a port (a burst, and
		 * as many mirror copies), so that the tx bursts happen in the
		 * end-of-round flush and count as tx, not action; a buffer
		 * that fills still sends at once */
		w->txb[p] = rte_zmalloc_socket("es_txb",
			RTE_ETH_TX_BUFFER_SIZE(ES_TXB), 0, socket);
		if (w->txb[p] == NULL)
			return -1;
		rte_eth_tx_buffer_init(w->txb[p], ES_TXB);
		/* packets a full queue refuses are freed and counted */
		rte_eth_tx_buffer_set_err_callback(w->txb[p], tx_refused, w);
	}
	if (es_frag_init(&w->frag, es_set.frag_max, es_frag_mbufs(),
			 hz / 1000 * es_set.frag_timeout_ms, socket))
		return -1;
	w->ei_period = es_set.errind_rate ? hz / es_set.errind_rate : 0;
	w->ei_tokens = es_set.errind_rate;
	w->ei_last = rte_rdtsc();
	w->te_period = es_set.icmp_rate ? hz / es_set.icmp_rate : 0;
	w->te_tokens = es_set.icmp_rate;
	w->te_last = w->ei_last;
	w->last_rx_tsc = rte_rdtsc();
	return 0;
}

int es_worker_main(void *arg)
{
	struct es_worker *w = arg;
	struct rte_mbuf *pkts[ES_BURST];
	/* reassembly's expiry every 10 ms: a walk from the oldest entry
	 * that stops at the first one still in time, so it costs nothing
	 * while nothing expires; each call frees at most
	 * ES_FRAG_EXPIRE_PASSES death rows (frag.h) */
	uint64_t expire_period = rte_get_tsc_hz() / 100, next_expire = 0;

	rte_rcu_qsbr_thread_register(es_rcu, w->rcu_id);
	rte_rcu_qsbr_thread_online(es_rcu, w->rcu_id);
	while (!es_quit) {
		const struct es_tables *t =
			__atomic_load_n(&es_tables_live, __ATOMIC_ACQUIRE);
		uint64_t t_rx[ES_MAX_PORTS], tsc, t0 = 0;
		uint32_t n_tx[ES_MAX_PORTS];
		uint16_t nb = 0;
		/* --stage-cycles[=N]: this round timed or not */
		if (es_stage_cycles && ++w->stage_seq >= es_stage_every) {
			w->stage_seq = 0;
			w->timing = 1;
		} else {
			w->timing = 0;
		}
		for (uint16_t p = 0; p < es_n_ports; p++) {
			uint64_t tx_before;
			uint16_t n;
			if (w->qid >= es_ports[p].nb_queues)
				continue;
			if (w->timing)
				t0 = rte_rdtsc();
			n = rte_eth_rx_burst(es_ports[p].port_id, w->qid, pkts,
					     ES_BURST);
			if (n == 0)
				continue;
			w->last_rx_tsc = rte_rdtsc();
			if (w->timing) {
				w->stage[ES_ST_RX] += w->last_rx_tsc - t0;
				w->stage_pkts += n;
			}
			tx_before = w->cnt[ES_CNT_TX];
			es_process_burst(w, t, (uint8_t)p, pkts, n);
			t_rx[nb] = w->last_rx_tsc;
			n_tx[nb++] = (uint32_t)(w->cnt[ES_CNT_TX] - tx_before);
		}
		/* End Markers from the control thread (a session's gNB
		 * changed): worker 0 sends them */
		if (w->qid == 0 && unlikely(!rte_ring_empty(es_ctl_tx))) {
			struct rte_mbuf *cm[8];
			unsigned int k = rte_ring_sc_dequeue_burst(es_ctl_tx,
				(void **)cm, RTE_DIM(cm), NULL);
			for (unsigned int i = 0; i < k; i++) {
				if (cm[i]->port >= es_n_ports) {
					rte_pktmbuf_free(cm[i]);
					continue;
				}
				w->cnt[ES_CNT_END_MARKER_TX]++;
				es_tx(w, (uint8_t)cm[i]->port, cm[i]);
			}
		}
		/* flush every round: latency over batching; a buffer that
		 * filled has already been sent by rte_eth_tx_buffer */
		if (w->timing)
			t0 = rte_rdtsc();
		es_worker_flush(w);
		/* one TSC read for the latencies and the expiry below */
		tsc = rte_rdtsc();
		if (nb) {
			/* rx -> tx of every packet sent this round: from the
			 * return of its rx burst to the return of the flush (an
			 * upper bound for packets a full buffer sent earlier) */
			if (w->timing)
				w->stage[ES_ST_TX] += tsc - t0;
			for (uint16_t b = 0; b < nb; b++)
				if (n_tx[b])
					es_lat_add(&w->lat, tsc - t_rx[b], n_tx[b]);
		}
		if (tsc >= next_expire) {
			es_frag_expire(&w->frag, tsc);
			es_exit_frags(w, &w->frag.out);
			next_expire = tsc + expire_period;
		}
		rte_rcu_qsbr_quiescent(es_rcu, w->rcu_id);
	}
	es_worker_flush(w);
	rte_rcu_qsbr_thread_offline(es_rcu, w->rcu_id);
	rte_rcu_qsbr_thread_unregister(es_rcu, w->rcu_id);
	return 0;
}

void es_dataplane_setup(void)
{
	unsigned int lcore, q = 0;

	es_pool = es_mem_pktmbuf_pool_create("es_pool", es_set.mbufs, 256,
		(uint16_t)(es_set.mbuf_size + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
	if (es_pool == NULL)
		rte_exit(EXIT_FAILURE,
			 "cannot create a pool of %u mbufs of %u bytes: %s (raise EAL -m or lower 'set mbufs')\n",
			 es_set.mbufs, es_set.mbuf_size, rte_strerror(rte_errno));
	for (uint16_t p = 0; p < es_n_ports; p++)
		if (es_port_init(&es_ports[p], (uint16_t)es_n_workers, es_pool))
			rte_exit(EXIT_FAILURE, "port set-up failed\n");
	es_ctl_tx = rte_ring_create("es_ctl_tx", 1024, (int)rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (es_ctl_tx == NULL)
		rte_exit(EXIT_FAILURE, "cannot create the control tx ring: %s\n",
			 rte_strerror(rte_errno));
	/* workers, and one reader off the data path (es_rcu_reader_id) */
	es_rcu = rte_zmalloc("es_rcu", rte_rcu_qsbr_get_memsize(es_n_workers + 1),
			     RTE_CACHE_LINE_SIZE);
	if (es_rcu == NULL || rte_rcu_qsbr_init(es_rcu, es_n_workers + 1))
		rte_exit(EXIT_FAILURE, "cannot create the RCU variable\n");
	es_workers = rte_zmalloc("es_workers", es_n_workers * sizeof(*es_workers),
				 RTE_CACHE_LINE_SIZE);
	if (es_workers == NULL)
		rte_exit(EXIT_FAILURE, "out of memory for worker state\n");
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (es_worker_init(&es_workers[q], lcore, (uint16_t)q))
			rte_exit(EXIT_FAILURE, "worker %u: out of memory (tx buffers, reassembly table)\n", q);
		q++;
	}
}

void es_workers_launch(void)
{
	for (unsigned int q = 0; q < es_n_workers; q++)
		rte_eal_remote_launch(es_worker_main, &es_workers[q], es_workers[q].lcore);
}
