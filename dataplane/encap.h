/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header push/pop on mbufs: the GTP-U header with a DL PDU Session
 * Container, the outer UDP/IP/Ethernet toward a peer, and the decap to a
 * plain routed IP packet. All work on a single-segment mbuf whose data
 * starts at the header in question; each returns ES_CNT_NONE (0) or the
 * drop counter to count.
 */
#ifndef ES_ENCAP_H
#define ES_ENCAP_H

#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include "es.h"
#include "parse.h"

#define ES_GTPU_HLEN_PSC 16   /* 12-byte header + 4-byte container */
#define ES_TPL_LEN4      42   /* es_tpl: Ethernet + IPv4 + UDP */
#define ES_TPL_LEN6      62   /* es_tpl: Ethernet + IPv6 + UDP */

/* Prepend a GTP-U header of type with teid (host order). With psc, set
 * E and add a DL PDU Session Container (TS 38.415 type 0) with qfi.
 * The length field covers what follows the mandatory 8 octets. */
int es_push_gtpu(struct rte_mbuf *m, uint8_t type, uint32_t teid, bool psc,
		 uint8_t qfi);

/* Prepend UDP (sport, dport), IPv4 or IPv6 (peer's family) and
 * Ethernet from port toward peer. src: source address in network order
 * (4 or 16 bytes) or NULL for the port's first address of the family.
 * Checks the port MTU. UDP checksum: 0 over IPv4, computed over IPv6. */
int es_push_outer(struct rte_mbuf *m, const struct es_port *port,
		  const uint8_t *src, const struct es_peer *peer,
		  uint16_t sport, uint16_t dport);

/* Build the header template toward peer from its port (port's first
 * address of the peer's family, UDP 2152 -> 2152). */
void es_tpl_build(struct es_tpl *t, const struct es_port *port,
		  const struct es_peer *peer);




/* Decrement the TTL / hop limit of the IP header at ip; ES_CNT_TTL when
 * it would reach 0. (Inline: it is a few instructions on the hot path.) */
static inline int es_ip_dec_ttl(uint8_t *ip, bool v6)
{
	if (v6) {
		if (ip[7] <= 1)
			return ES_CNT_TTL;
		ip[7]--;
	} else {
		uint32_t sum;
		if (ip[8] <= 1)
			return ES_CNT_TTL;
		ip[8]--;
		/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'); the TTL is the
		 * high byte of its word, so ~m + m' = ~0x0100 = 0xfeff.
		 * (The older HC + 0x0100 can give 0xffff where a full
		 * recompute gives 0x0000.) */
		sum = (uint32_t)(uint16_t)~es_be16(ip + 10) + 0xfeff;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (uint16_t)~sum;
		es_put_be16(ip + 10, (uint16_t)sum);
	}
	return ES_CNT_NONE;
}

/* Helper of es_push_tpl and es_push_gtpu_tpl. */
/* The template at h (m's new data start) with its lengths and checksums
 * for l4len bytes of UDP; the UDP payload is already in place. */
static inline __attribute__((always_inline)) void es_tpl_write(struct rte_mbuf *m, uint8_t *h,
			     const struct es_tpl *t, uint32_t l4len)
{
	uint16_t iplen = t->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint8_t *ip, *udp;
	/* a copy of a size known here is a few moves, not a call */
	if (t->v6)
		memcpy(h, t->hdr, ES_TPL_LEN6);
	else
		memcpy(h, t->hdr, ES_TPL_LEN4);
	ip = h + sizeof(struct rte_ether_hdr);
	udp = ip + iplen;
	es_put_be16(udp + 4, (uint16_t)l4len);
	if (t->v6) {
		es_put_be16(ip + 4, (uint16_t)l4len);
		((struct rte_udp_hdr *)udp)->dgram_cksum = 0;
		((struct rte_udp_hdr *)udp)->dgram_cksum =
			rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)ip, udp);
	} else {
		/* RFC 1624 eqn. 3 from the checksum of total length 0 */
		uint16_t tot = (uint16_t)(l4len + iplen);
		uint32_t sum = (uint32_t)(uint16_t)~t->ip4_cksum0 + tot;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		es_put_be16(ip + 2, tot);
		es_put_be16(ip + 10, (uint16_t)~sum);
	}
	m->l2_len = sizeof(struct rte_ether_hdr);
	m->l3_len = iplen;
}

/* es_push_outer with a template: the same bytes, less work. (Inline:
 * the relay's one call; es_push_gtpu_tpl measured better out of line.) */
static inline int es_push_tpl(struct rte_mbuf *m, const struct es_port *port,
		const struct es_tpl *t)
{
	uint32_t l4len = rte_pktmbuf_pkt_len(m) + sizeof(struct rte_udp_hdr);
	uint16_t iplen = t->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint8_t *h;

	if (l4len + iplen > port->mtu)
		return ES_CNT_MTU;
	h = (uint8_t *)rte_pktmbuf_prepend(m, t->len);
	if (h == NULL)
		return ES_CNT_NO_HEADROOM;
	es_tpl_write(m, h, t, l4len);
	return ES_CNT_NONE;
}

/* es_push_gtpu then es_push_tpl in one prepend: the same bytes, mbuf
 * fields and return value (NO_HEADROOM for less than the GTP-U header's
 * headroom, then MTU, then NO_HEADROOM for the rest); on an error m is
 * left unchanged (it is to be dropped either way). */
int es_push_gtpu_tpl(struct rte_mbuf *m, uint8_t type, uint32_t teid,
		     bool psc, uint8_t qfi, const struct es_port *port,
		     const struct es_tpl *t);

/* Turn m, whose data starts with an IP packet of ip_len bytes (v6 or
 * not), into a routed frame toward hop from port: trim padding, decrement
 * TTL / hop limit (incremental IPv4 checksum), push Ethernet. The TTL
 * comes before the link's MTU (RFC 1812 §5.2.1.2, steps 7 and 9): a
 * packet too big whose TTL expires is ES_CNT_TTL, and gets its Time
 * Exceeded. (Inline: the uplink steer-to-local path's one call.) */
static inline int es_route_ip(struct rte_mbuf *m, uint16_t ip_len, bool v6,
		const struct es_port *port, const struct es_peer *hop)
{
	struct rte_ether_hdr *eth;
	int rc;
	if (rte_pktmbuf_pkt_len(m) > ip_len &&
	    rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - ip_len)))
		return ES_CNT_INNER_LEN;
	rc = es_ip_dec_ttl(rte_pktmbuf_mtod(m, uint8_t *), v6);
	if (rc)
		return rc;
	if (ip_len > port->mtu)
		return ES_CNT_MTU;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL)
		return ES_CNT_NO_HEADROOM;
	eth->dst_addr = hop->mac;
	eth->src_addr = port->mac;
	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6
					      : RTE_ETHER_TYPE_IPV4);
	m->l2_len = sizeof(*eth);
	return ES_CNT_NONE;
}

#endif
