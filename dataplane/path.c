/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host traffic (ARP, ICMP echo to a port address) and GTP-U path
 * management (Echo Request -> Echo Response, Error Indication for an
 * unknown TEID). Replies reuse the received mbuf: no allocation.
 */
#include <string.h>
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include "encap.h"
#include "parse.h"
#include "worker.h"

#define GTP_IE_RECOVERY      14   /* TS 29.281 §8.2, TV, 1 octet */
#define GTP_IE_TEID_DATA_I   16   /* §8.3, TV, 4 octets */
#define GTP_IE_PEER_ADDR     133  /* §8.4, TLV */

int es_path_arp(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		const struct es_outer *o)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp;
	uint32_t tip;

	if (rte_pktmbuf_data_len(m) < o->l2_len + sizeof(*arp))
		return ES_CNT_L2_TRUNC;
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, o->l2_len);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != 6 || arp->arp_plen != 4 ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST))
		return ES_CNT_ARP_OTHER;
	tip = arp->arp_data.arp_tip;
	if (!es_port_has_addr(in_port, (const uint8_t *)&tip, false))
		return ES_CNT_ARP_OTHER;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = es_ports[in_port].mac;
	arp->arp_data.arp_sip = tip;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = es_ports[in_port].mac;
	w->cnt[ES_CNT_ARP_REPLY]++;
	es_tx(w, in_port, m);
	return 1;
}

/* An IP packet to one of our addresses that is not GTP-U. */
int es_path_host(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		 const struct es_outer *o)
{
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	uint8_t *ip = b + o->l2_len, *icmp = b + o->l4_off;
	uint8_t tmp[16];
	uint32_t sum;

	if (o->l4_proto == IPPROTO_UDP)
		return ES_CNT_UDP_PORT;
	if (o->v6) {
		/* ICMPv6 echo request (128) -> reply (129) */
		if (o->l4_proto != IPPROTO_ICMPV6 || o->l4_off + 8u > o->ip_end ||
		    icmp[0] != 128 || icmp[1] != 0)
			return ES_CNT_HOST_OTHER;
		memcpy(tmp, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, tmp, 16);
		ip[7] = 64;
		icmp[0] = 129;
		/* the pseudo-header sum is unchanged by the swap; the type
		 * word goes up by 0x0100 (RFC 1624) */
		sum = (uint32_t)(uint16_t)~es_be16(icmp + 2) + 0x0100;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		es_put_be16(icmp + 2, (uint16_t)~sum);
	} else {
		if (o->l4_proto != IPPROTO_ICMP || o->l4_off + 8u > o->ip_end ||
		    icmp[0] != RTE_IP_ICMP_ECHO_REQUEST || icmp[1] != 0)
			return o->l4_proto == IPPROTO_ICMP ? ES_CNT_HOST_OTHER
							   : ES_CNT_NOT_UDP;
		memcpy(tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, tmp, 4);
		ip[8] = 64;
		ip[10] = ip[11] = 0;
		es_put_be16(ip + 10, es_ip4_hdr_cksum(ip, o->l3_len));
		icmp[0] = RTE_IP_ICMP_ECHO_REPLY;
		/* RFC 1624: type 8 -> 0 lowers the first word by 0x0800 */
		sum = (uint32_t)(uint16_t)~es_be16(icmp + 2) + 0xf7ff;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		es_put_be16(icmp + 2, (uint16_t)~sum);
	}
	eth->dst_addr = eth->src_addr;
	eth->src_addr = es_ports[in_port].mac;
	w->cnt[ES_CNT_ICMP_ECHO]++;
	es_tx(w, in_port, m);
	return 1;
}

/* The sender of a received packet, as a peer to answer. */
static void peer_of(const uint8_t *b, const struct es_outer *o, uint8_t port,
		    struct es_peer *p, uint8_t dst[16])
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)b;
	memset(p, 0, sizeof(*p));
	p->v6 = o->v6;
	p->port = port;
	p->mac = eth->src_addr;
	if (o->v6) {
		memcpy(p->addr, b + o->l2_len + 8, 16);
		memcpy(dst, b + o->l2_len + 24, 16);
	} else {
		memcpy(p->addr, b + o->l2_len + 12, 4);
		memcpy(dst, b + o->l2_len + 16, 4);
	}
}

/* Drop everything from the data start: leaves an empty mbuf whose data
 * offset sits inside the old packet, so there is headroom to push. */
static void empty_mbuf(struct rte_mbuf *m, uint16_t keep_off)
{
	rte_pktmbuf_adj(m, keep_off);
	rte_pktmbuf_trim(m, (uint16_t)rte_pktmbuf_pkt_len(m));
}

int es_path_echo(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		 const struct es_outer *o, const struct es_gtpu *g)
{
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	struct es_peer peer;
	uint8_t dst[16];
	uint8_t *r;
	int rc;

	peer_of(b, o, in_port, &peer, dst);
	/* TS 29.281 §7.2.2: the response carries the request's sequence
	 * number and a Recovery IE; it goes back to the request's source
	 * port, from the port the request was sent to (§4.4.2.2). */
	empty_mbuf(m, o->l4_off + 8);
	r = (uint8_t *)rte_pktmbuf_append(m, 14);
	if (r == NULL)
		return ES_CNT_NO_HEADROOM;
	r[0] = ES_GTP_V1 | ES_GTP_FLAG_PT | ES_GTP_FLAG_S;
	r[1] = ES_GTP_ECHO_RESP;
	es_put_be16(r + 2, 6);
	es_put_be32(r + 4, 0);
	es_put_be16(r + 8, (g->flags & ES_GTP_FLAG_S) ? g->seq : 0);
	r[10] = 0;
	r[11] = 0;
	r[12] = GTP_IE_RECOVERY;
	r[13] = (uint8_t)es_set.recovery;
	rc = es_push_outer(m, &es_ports[in_port], dst, &peer, ES_GTPU_PORT,
			   o->udp_sport);
	if (rc)
		return rc;
	w->cnt[ES_CNT_ECHO_REQ]++;
	es_tx(w, in_port, m);
	return 1;
}

int es_path_errind(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		   const struct es_outer *o, const struct es_gtpu *g)
{
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	uint64_t now;
	struct es_peer peer;
	uint8_t dst[16];
	uint8_t *r;
	uint16_t alen = o->v6 ? 16 : 4, len;

	/* token bucket: errind_rate per second, burst of the same size */
	if (w->ei_period == 0)
		return 0;
	now = rte_rdtsc();
	if (w->ei_tokens == 0) {
		uint64_t add = (now - w->ei_last) / w->ei_period;
		if (add == 0) {
			w->cnt[ES_CNT_ERRIND_LIMITED]++;
			return 0;
		}
		w->ei_tokens = RTE_MIN(add, (uint64_t)es_set.errind_rate);
		w->ei_last = now;
	}
	w->ei_tokens--;

	peer_of(b, o, in_port, &peer, dst);
	/* TS 29.281 §7.3.1: TEID 0, TEID Data I and GTP-U Peer Address
	 * IEs, and the UDP Port extension header with the source port of
	 * the G-PDU that triggered it; sent to port 2152. */
	len = (uint16_t)(4 + 4 + 5 + 3 + alen);
	empty_mbuf(m, o->l4_off + 8);
	r = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(8 + len));
	if (r == NULL)
		return 0;
	r[0] = ES_GTP_V1 | ES_GTP_FLAG_PT | ES_GTP_FLAG_S | ES_GTP_FLAG_E;
	r[1] = ES_GTP_ERROR_IND;
	es_put_be16(r + 2, len);
	es_put_be32(r + 4, 0);
	es_put_be16(r + 8, 0);
	r[10] = 0;
	r[11] = ES_GTP_EXT_UDP_PORT;
	r[12] = 1;
	es_put_be16(r + 13, o->udp_sport);
	r[15] = ES_GTP_EXT_NONE;
	r[16] = GTP_IE_TEID_DATA_I;
	es_put_be32(r + 17, g->teid);
	r[21] = GTP_IE_PEER_ADDR;
	es_put_be16(r + 22, alen);
	memcpy(r + 24, dst, alen);
	if (es_push_outer(m, &es_ports[in_port], dst, &peer, ES_GTPU_PORT,
			  ES_GTPU_PORT))
		return 0;
	w->cnt[ES_CNT_ERRIND_TX]++;
	es_tx(w, in_port, m);
	return 1;
}
