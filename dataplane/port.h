/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef ES_PORT_H
#define ES_PORT_H
#include "es.h"
/* Configure nb_q rx/tx queues on p and start it; prints the reason and
 * returns -1 on failure. */
int es_port_init(struct es_port *p, uint16_t nb_q, struct rte_mempool *pool);
/* Stop and close (a pcap port writes its file out here). */
void es_port_close(struct es_port *p);
#endif
