/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up: one rx and one tx queue per worker on every configured
 * port, RSS where there is more than one queue (masked by what the
 * device offers, and what was reduced is printed). Errors are fatal at
 * start with the port and the reason.
 */
#include <stdio.h>
#include <rte_ethdev.h>
#include "es.h"
#include "port.h"

int es_port_init(struct es_port *p, uint16_t nb_q, struct rte_mempool *pool)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	uint16_t rxd = (uint16_t)es_set.rxd, txd = (uint16_t)es_set.txd;
	int rc;

	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc) {
		fprintf(stderr, "port %s (%s): cannot read device info: %s\n",
			p->name, p->dev, rte_strerror(-rc));
		return -1;
	}
	if (nb_q > info.max_rx_queues || nb_q > info.max_tx_queues) {
		fprintf(stderr,
			"port %s (%s): %u workers need %u rx and tx queues, the device has %u rx / %u tx; use fewer worker lcores or give the vdev more queues\n",
			p->name, p->dev, nb_q, nb_q, info.max_rx_queues,
			info.max_tx_queues);
		return -1;
	}
	if (nb_q > 1) {
		uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = want & info.flow_type_rss_offloads;
		if (conf.rx_adv_conf.rss_conf.rss_hf != want)
			printf("port %s: RSS hash types reduced from 0x%llx to 0x%llx by the device\n",
			       p->name, (unsigned long long)want,
			       (unsigned long long)conf.rx_adv_conf.rss_conf.rss_hf);
		if (conf.rx_adv_conf.rss_conf.rss_hf == 0)
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	rc = rte_eth_dev_configure(p->port_id, nb_q, nb_q, &conf);
	if (rc) {
		fprintf(stderr, "port %s (%s): configure: %s\n", p->name, p->dev,
			rte_strerror(-rc));
		return -1;
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	for (uint16_t q = 0; q < nb_q; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd,
				rte_eth_dev_socket_id(p->port_id), NULL, pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->port_id, q, txd,
				rte_eth_dev_socket_id(p->port_id), NULL);
		if (rc) {
			fprintf(stderr, "port %s (%s): queue %u setup: %s\n",
				p->name, p->dev, q, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc) {
		fprintf(stderr, "port %s (%s): start: %s\n", p->name, p->dev,
			rte_strerror(-rc));
		return -1;
	}
	/* our addresses are not the device's only ones on a shared segment;
	 * a device that cannot go promiscuous still works for its MAC */
	rte_eth_promiscuous_enable(p->port_id);
	p->nb_queues = nb_q;
	return 0;
}

void es_port_close(struct es_port *p)
{
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
}
