/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcores: per-lcore state and the run-to-completion loop.
 * Each worker polls rx queue 'qid' of every port and owns tx queue 'qid'
 * of every port, so no queue is shared and nothing in the loop takes a
 * lock. Counters are per worker and summed by readers.
 */
#ifndef ES_WORKER_H
#define ES_WORKER_H

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
	/* the timed rounds the platform disturbed (es_stage_disturbed):
	 * their share of stage[] and stage_pkts, and their count */
	uint64_t stage_dist[ES_ST_MAX];
	uint64_t stage_dist_pkts;
	uint64_t stage_rounds, stage_dist_rounds;  /* timed rounds with packets */
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

int es_worker_init(struct es_worker *w, unsigned int lcore, uint16_t qid);

/* After the config: the mbuf pool, es_n_workers queues on every port,
 * the RCU variable and one es_worker per worker lcore. Fatal (rte_exit
 * with the reason) on failure. Shared by edgesteer and es-loadgen. */
void es_dataplane_setup(void);
/* Start es_worker_main on every worker lcore. */
void es_workers_launch(void);
int es_worker_main(void *arg);

/* Process one received burst from config port index in_port (pipeline.c:
 * the stages, each packet to its one exit, tx.h). Sends what
 * is to be sent through w's tx buffers and frees the rest; counts every
 * packet's fate. w->last_rx_tsc is the burst's rx time (reassembly and
 * the stage timing start from it). Exposed for tests. */
void es_process_burst(struct es_worker *w, const struct es_tables *t,
		      uint8_t in_port, struct rte_mbuf **pkts, uint16_t n);

/* Flush w's tx buffers on every port. */
void es_worker_flush(struct es_worker *w);

/* Sum a counter over all workers. Any thread, no lock: each worker
 * writes only its own 64-bit aligned slots, and an aligned 64-bit load
 * is atomic on x86-64, so a reader sees every slot whole (old or new). */
uint64_t es_counter_sum(enum es_cnt id);
/* Merge every worker's rx -> tx latency histogram into *out (which this
 * zeroes first). Any thread, no lock, as es_counter_sum: fields are read
 * one by one, so a histogram read while workers write may be off by the
 * packets of one burst between its count and its buckets. */
void es_lat_sum(struct es_lat_hist *out);
/* TSC cycles spent in stage s summed over workers (0 unless
 * --stage-cycles). Any thread, no lock. */
uint64_t es_stage_sum(enum es_stage s);

/*
 * A timed round counts as disturbed when its stages took more than
 * ES_STAGE_DISTURBED times the packets' share of the average so far (over
 * the timed rounds, from the first 1,024 packets on): a 32-packet round
 * of the 64-byte mixes takes ~3 us, and nothing in the data plane makes
 * one take four times as long in steady state, but the platform does (a
 * tick, a hypervisor taking the CPU away for 8-64 us: perf/jitter.c).
 * Such rounds stay in stage[] and are also summed in stage_dist[], so
 * that a report can give both the figure with every round and the one
 * of the undisturbed rounds, with the share left out.
 */
#define ES_STAGE_DISTURBED 4
struct es_stage_dist {
	uint64_t cycles[ES_ST_MAX];   /* of the disturbed rounds */
	uint64_t pkts;
	uint64_t rounds, dist_rounds; /* timed rounds with packets; disturbed */
};
/* The disturbed rounds summed over workers. Any thread, no lock. */
void es_stage_disturbed(struct es_stage_dist *out);

/*
 * The mbuf pool every port receives into, and reassembly's part of it.
 * A port whose rx finds the pool empty loses packets (net_pcap counts
 * them in its rx_nombuf; net_af_packet in DPDK 22.11 leaves them in the
 * kernel's ring, which drops what overflows, and counts nothing), so the
 * main lcore also samples the pool every poll of its loop (~10 ms):
 * the fewest mbufs seen available, and how many samples found fewer
 * than a burst (ES_BURST) left.
 */
struct es_pool_stats {
	uint32_t mbufs;             /* the pool's size (set mbufs) */
	uint32_t in_use;            /* taken now */
	uint32_t available;         /* free now (per-lcore caches included) */
	uint32_t min_available;     /* the fewest a sample saw */
	uint64_t samples;
	uint64_t empty_samples;     /* samples with fewer than ES_BURST free */
	uint64_t frag_held;         /* mbufs reassembly holds now, all workers */
	uint32_t frag_mbufs;        /* reassembly's budget per worker */
	uint32_t frag_source_mbufs; /* one source's part of it */
};
/* Sample the pool (main lcore, its loop; not the data path). */
void es_pool_sample(void);
/* The figures above. Any thread, no lock (aligned loads; the sample
 * figures may be one sample apart from each other). */
void es_pool_stats_get(struct es_pool_stats *s);

/* Packets received in timed rounds, summed over workers: the divisor of
 * es_stage_sum for cycles per packet. Any thread, no lock. */
uint64_t es_stage_pkts_sum(void);

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
