/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Readers of the workers' figures (worker.h): counters, latency, stage
 * cycles, the mbuf pool. Any thread, no lock; off the data path.
 */
#include <string.h>
#include <rte_mempool.h>
#include "worker.h"

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
