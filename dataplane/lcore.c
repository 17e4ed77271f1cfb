/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's globals (declared in lcore.h and es.h): the workers,
 * the live table set, the mbuf pool, the RCU variable, the End Marker
 * ring and the stage timing switches. Set up by worker.c, read by the
 * stages and the control side.
 */
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include "lcore.h"

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
