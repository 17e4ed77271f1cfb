/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: rx a burst per port, run it through the pipeline's
 * stages (one file each, pipeline.h and docs/architecture.md), the one
 * exit (tx.h), report quiescence.
 *
 *   1. ingress   ingress.h (+ frag.c, act_path.c for replies)
 *   2. lookup    lookup.h (session.c tables)
 *   3. classify  classify_burst.h (classify.c)
 *   4. action    act_uplink.h, act_downlink.h
 *   5. tx        tx.h: the one place that sends, frees and counts drops
 *
 * Every packet ends in exactly one verdict: queued for tx, held by the
 * reassembly table, or dropped with exactly one DROP counter raised.
 * Hook points (pipeline.h): after parse, after classify, before tx.
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
#include "mem.h"
/* the pipeline's stages, in the order packets flow (pipeline.h) */
#include "pipeline.h"
#include "ingress.h"
#include "lookup.h"
#include "classify_burst.h"
#include "act_uplink.h"
#include "act_downlink.h"
#include "tx.h"

struct es_worker *es_workers;
unsigned int es_n_workers;
volatile int es_quit;
struct es_tables *es_tables_live;
struct rte_mempool *es_pool;
struct rte_rcu_qsbr *es_rcu;
struct rte_ring *es_ctl_tx;

const char *const es_stage_names[ES_ST_MAX] = {
	"rx", "parse", "classify", "action", "tx",
};
int es_stage_cycles;
unsigned int es_stage_every = 1;


uint64_t es_counter_sum(enum es_cnt id)
{
	uint64_t s = 0;
	for (unsigned int i = 0; i < es_n_workers; i++)
		s += es_workers[i].cnt[id];
	return s;
}

void es_lat_sum(struct es_lat_hist *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < es_n_workers; i++)
		es_lat_merge(out, &es_workers[i].lat);
}

uint64_t es_stage_pkts_sum(void)
{
	uint64_t c = 0;
	for (unsigned int i = 0; i < es_n_workers; i++)
		c += es_workers[i].stage_pkts;
	return c;
}

uint64_t es_stage_sum(enum es_stage s)
{
	uint64_t c = 0;
	for (unsigned int i = 0; i < es_n_workers; i++)
		c += es_workers[i].stage[s];
	return c;
}

void es_stage_disturbed(struct es_stage_dist *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < es_n_workers; i++) {
		const struct es_worker *w = &es_workers[i];
		for (int s = 0; s < ES_ST_MAX; s++)
			out->cycles[s] += w->stage_dist[s];
		out->pkts += w->stage_dist_pkts;
		out->rounds += w->stage_rounds;
		out->dist_rounds += w->stage_dist_rounds;
	}
}

static uint32_t pool_min = UINT32_MAX;
static uint64_t pool_samples, pool_empty;

void es_pool_sample(void)
{
	unsigned int a;
	if (es_pool == NULL)
		return;
	a = rte_mempool_avail_count(es_pool);
	if (a < pool_min)
		pool_min = a;
	if (a < ES_BURST)
		pool_empty++;
	pool_samples++;
}

void es_pool_stats_get(struct es_pool_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (es_pool != NULL) {
		s->mbufs = es_pool->size;
		s->available = rte_mempool_avail_count(es_pool);
		s->in_use = s->mbufs - RTE_MIN(s->available, s->mbufs);
	}
	s->samples = pool_samples;
	s->empty_samples = pool_empty;
	s->min_available = pool_samples ? pool_min : s->available;
	for (unsigned int i = 0; es_workers != NULL && i < es_n_workers; i++)
		s->frag_held += es_workers[i].frag.held;
	s->frag_mbufs = es_frag_mbufs();
	s->frag_source_mbufs = es_frag_source_max(s->frag_mbufs);
}

/* The end of a timed round that received packets: was it disturbed
 * (es_stage_disturbed in worker.h)? before: stage[] and stage_pkts at
 * the round's start. */
static void stage_round_end(struct es_worker *w, const uint64_t before[ES_ST_MAX + 1])
{
	uint64_t d[ES_ST_MAX], round = 0, all = 0;
	uint64_t pk = w->stage_pkts - before[ES_ST_MAX];
	for (int s = 0; s < ES_ST_MAX; s++) {
		d[s] = w->stage[s] - before[s];
		round += d[s];
		all += w->stage[s];
	}
	w->stage_rounds++;
	/* the average so far includes this round: a disturbed round
	 * raises it a little, which only makes it harder to count as one.
	 * In doubles: the products of 64-bit sums overflow in a long run
	 * (timed rounds only: one in es_stage_every) */
	if (w->stage_pkts < 1024 ||
	    (double)round * (double)w->stage_pkts <=
	    (double)ES_STAGE_DISTURBED * (double)all * (double)pk)
		return;
	for (int s = 0; s < ES_ST_MAX; s++)
		w->stage_dist[s] += d[s];
	w->stage_dist_pkts += pk;
	w->stage_dist_rounds++;
}

void es_process_burst(struct es_worker *w, const struct es_tables *t,
		      uint8_t in_port, struct rte_mbuf **pkts, uint16_t n)
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
		/* HOOK 1: after parse (pipeline.h) */
		if (next == ES_NEXT_ON)
			next = es_hook_parsed(&c[nc]);
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
		if (p->next != ES_NEXT_ON)
			continue;
		/* HOOK 2: after classify, before the action (pipeline.h) */
		p->next = es_hook_classified(p);
		if (unlikely(p->next != ES_NEXT_ON)) {
			es_exit(w, &d, p->m, p->next);
			continue;
		}
		s = &t->sessions[p->sess];
		/* a table result is bounded before it indexes */
		r = p->rule && p->rule <= t->n_slots ? &t->rules[p->rule - 1] : NULL;
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
		uint64_t snap[ES_ST_MAX + 1];
		uint32_t n_tx[ES_MAX_PORTS];
		uint16_t nb = 0;
		/* --stage-cycles[=N]: this round timed or not */
		if (es_stage_cycles && ++w->stage_seq >= es_stage_every) {
			w->stage_seq = 0;
			w->timing = 1;
			memcpy(snap, w->stage, sizeof(w->stage));
			snap[ES_ST_MAX] = w->stage_pkts;
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
			if (w->timing) {
				w->stage[ES_ST_TX] += tsc - t0;
				stage_round_end(w, snap);
			}
			for (uint16_t b = 0; b < nb; b++)
				if (n_tx[b])
					es_lat_add(&w->lat, tsc - t_rx[b], n_tx[b]);
		}
		if (tsc >= next_expire) {
			es_frag_expire(&w->frag, tsc, w->cnt);
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
