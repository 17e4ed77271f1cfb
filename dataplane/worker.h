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
#include "lcore.h"
#include "pipeline.h"

int es_worker_init(struct es_worker *w, unsigned int lcore, uint16_t qid);

/* After the config: the mbuf pool, es_n_workers queues on every port,
 * the RCU variable and one es_worker per worker lcore. Fatal (rte_exit
 * with the reason) on failure. Shared by edgesteer and es-loadgen. */
void es_dataplane_setup(void);
/* Start es_worker_main on every worker lcore. */
void es_workers_launch(void);
int es_worker_main(void *arg);

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

#endif
