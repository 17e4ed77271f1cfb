/* SPDX-License-Identifier: BSD-3-Clause */
/* Header push/pop; see encap.h. */
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include "encap.h"
#include "parse.h"


/* The GTP-U header at g (8 or, with psc, 16 bytes) before payload bytes. */
static inline __attribute__((always_inline)) void gtpu_write(uint8_t *g, uint8_t type, uint32_t teid,
			      bool psc, uint8_t qfi, uint32_t payload)
{
	uint16_t hlen = psc ? ES_GTPU_HLEN_PSC : 8;
	/* the mandatory octets as one big-endian word: flags, type,
	 * length, TEID */
	uint64_t w = (uint64_t)(ES_GTP_V1 | ES_GTP_FLAG_PT | (psc ? ES_GTP_FLAG_E : 0)) << 56 |
		     (uint64_t)type << 48 |
		     (uint64_t)(uint16_t)(payload + hlen - 8) << 32 | teid;
	w = rte_cpu_to_be_64(w);
	memcpy(g, &w, 8);
	if (psc) {
		/* sequence number 0, N-PDU number 0, next type PSC; the
		 * container: length 1 (one 4-octet unit), PDU type 0 (DL)
		 * without QMP/SNP, PPP 0, RQI 0, QFI, next type none */
		w = (uint64_t)ES_GTP_EXT_PSC << 32 | 1u << 24 |
		    (uint32_t)(ES_PSC_DL << 4) << 16 | (uint32_t)(qfi & 0x3f) << 8 |
		    ES_GTP_EXT_NONE;
		w = rte_cpu_to_be_64(w);
		memcpy(g + 8, &w, 8);
	}
}

int es_push_gtpu(struct rte_mbuf *m, uint8_t type, uint32_t teid, bool psc,
		 uint8_t qfi)
{
	uint16_t hlen = psc ? ES_GTPU_HLEN_PSC : 8;
	uint32_t payload = rte_pktmbuf_pkt_len(m);
	uint8_t *g = (uint8_t *)rte_pktmbuf_prepend(m, hlen);
	if (g == NULL)
		return ES_CNT_NO_HEADROOM;
	gtpu_write(g, type, teid, psc, qfi, payload);
	return ES_CNT_NONE;
}

int es_push_outer(struct rte_mbuf *m, const struct es_port *port,
		  const uint8_t *src, const struct es_peer *peer,
		  uint16_t sport, uint16_t dport)
{
	uint32_t l4len = rte_pktmbuf_pkt_len(m) + sizeof(struct rte_udp_hdr);
	uint16_t iplen = peer->v6 ? sizeof(struct rte_ipv6_hdr)
				  : sizeof(struct rte_ipv4_hdr);
	struct rte_ether_hdr *eth;
	struct rte_udp_hdr *udp;

	if (l4len + iplen > port->mtu)
		return ES_CNT_MTU;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m,
		(uint16_t)(sizeof(*eth) + iplen + sizeof(*udp)));
	if (eth == NULL)
		return ES_CNT_NO_HEADROOM;
	udp = (struct rte_udp_hdr *)((uint8_t *)(eth + 1) + iplen);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)l4len);
	udp->dgram_cksum = 0;
	eth->dst_addr = peer->mac;
	eth->src_addr = port->mac;
	if (peer->v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)l4len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src ? src : port->src6, 16);
		memcpy(ip->dst_addr, peer->addr, 16);
		/* RFC 8200 §8.1: UDP over IPv6 carries a checksum. */
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
		m->l3_len = sizeof(*ip);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = 0;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(l4len + iplen));
		ip->packet_id = 0;
		ip->fragment_offset = 0;
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, src ? src : port->src4, 4);
		memcpy(&ip->dst_addr, peer->addr, 4);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m->l3_len = sizeof(*ip);
	}
	m->l2_len = sizeof(*eth);
	return ES_CNT_NONE;
}

void es_tpl_build(struct es_tpl *t, const struct es_port *port,
		  const struct es_peer *peer)
{
	struct rte_mbuf fake;
	uint8_t buf[128];
	/* build it with the generic code on an empty payload, so both ways
	 * give the same bytes by construction */
	memset(&fake, 0, sizeof(fake));
	memset(t, 0, sizeof(*t));
	fake.buf_addr = buf;
	fake.buf_len = sizeof(buf);
	fake.data_off = sizeof(buf);
	fake.nb_segs = 1;
	fake.pkt_len = fake.data_len = 0;
	(void)es_push_outer(&fake, port, NULL, peer, ES_GTPU_PORT, ES_GTPU_PORT);
	t->len = (uint8_t)fake.data_len;
	t->v6 = peer->v6;
	memcpy(t->hdr, buf + fake.data_off, t->len);
	if (!peer->v6) {
		uint8_t *ip = t->hdr + sizeof(struct rte_ether_hdr);
		ip[2] = ip[3] = 0;           /* total length 0 */
		ip[10] = ip[11] = 0;
		t->ip4_cksum0 = es_ip4_hdr_cksum(ip, 20);
	}
}

int es_push_gtpu_tpl(struct rte_mbuf *m, uint8_t type, uint32_t teid,
		     bool psc, uint8_t qfi, const struct es_port *port,
		     const struct es_tpl *t)
{
	uint16_t glen = psc ? ES_GTPU_HLEN_PSC : 8;
	uint32_t payload = rte_pktmbuf_pkt_len(m);
	uint32_t l4len = payload + glen + sizeof(struct rte_udp_hdr);
	uint16_t iplen = t->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint8_t *h;

	/* the two steps' checks in their order: GTP-U headroom, MTU,
	 * headroom for the template */
	if (unlikely(rte_pktmbuf_headroom(m) < glen))
		return ES_CNT_NO_HEADROOM;
	if (l4len + iplen > port->mtu)
		return ES_CNT_MTU;
	h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(t->len + glen));
	if (h == NULL)
		return ES_CNT_NO_HEADROOM;
	gtpu_write(h + t->len, type, teid, psc, qfi, payload);
	es_tpl_write(m, h, t, l4len);
	return ES_CNT_NONE;
}
