/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Action stage, path management (act_path.h): host traffic (ARP, ICMP
 * echo to a port address), GTP-U path management (Echo Request -> Echo
 * Response, Error Indication for an unknown TEID) and the ICMP error of
 * a router (Time Exceeded for a routed packet whose TTL expired).
 * Replies reuse the received mbuf: no allocation. Nothing here sends or
 * frees: each returns the packet's verdict (pipeline.h).
 */
#include <string.h>
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include "encap.h"
#include "parse.h"
#include "act_path.h"

#define GTP_IE_RECOVERY      14   /* TS 29.281 §8.2, TV, 1 octet */
#define GTP_IE_TEID_DATA_I   16   /* §8.3, TV, 4 octets */
#define GTP_IE_PEER_ADDR     133  /* §8.4, TLV */

es_next_t es_path_arp(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		const struct es_outer *o)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp;
	uint32_t tip;

	if (rte_pktmbuf_data_len(m) < o->l2_len + sizeof(*arp))
		return ES_NEXT_DROP(ES_CNT_L2_TRUNC);
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, o->l2_len);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != 6 || arp->arp_plen != 4 ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST))
		return ES_NEXT_DROP(ES_CNT_ARP_OTHER);
	tip = arp->arp_data.arp_tip;
	if (!es_port_has_addr(in_port, (const uint8_t *)&tip, false))
		return ES_NEXT_DROP(ES_CNT_ARP_OTHER);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = es_ports[in_port].mac;
	arp->arp_data.arp_sip = tip;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = es_ports[in_port].mac;
	w->cnt[ES_CNT_ARP_REPLY]++;
	return in_port;
}

/* The ICMPv6 checksum's pseudo-header (RFC 8200 §8.1) for an upper-layer
 * packet of len bytes between src and dst (16 bytes each), unfolded. */
static uint32_t icmp6_pseudo(const uint8_t *src, const uint8_t *dst, uint32_t len)
{
	uint32_t sum = es_cksum_add(0, src, 16);
	sum = es_cksum_add(sum, dst, 16);
	return sum + (len >> 16) + (len & 0xffff) + IPPROTO_ICMPV6;
}

/* An IP packet to one of our addresses that is not GTP-U. Echo requests
 * are answered (RFC 792, RFC 4443 §4.1) when their checksum is right:
 * the reply's checksum is computed afresh, not updated: RFC 1624's
 * incremental update gives 0x0000 (-0 turned +0) for an all-zero reply
 * (id 0, sequence 0, no data), which every receiver rejects; a full
 * sum gives 0xffff. Not the hot path. */
es_next_t es_path_host(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		 const struct es_outer *o)
{
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	uint8_t *ip = b + o->l2_len, *icmp = b + o->l4_off;
	uint32_t len = (uint32_t)(o->ip_end - o->l4_off);
	uint8_t tmp[16];

	if (o->l4_proto == IPPROTO_UDP)
		return ES_NEXT_DROP(ES_CNT_UDP_PORT);
	if (o->v6) {
		/* ICMPv6 echo request (128) -> reply (129) */
		if (o->l4_proto != IPPROTO_ICMPV6 || o->l4_off + 8u > o->ip_end ||
		    icmp[0] != 128 || icmp[1] != 0)
			return ES_NEXT_DROP(ES_CNT_HOST_OTHER);
		if (es_cksum_fold(es_cksum_add(icmp6_pseudo(ip + 8, ip + 24, len),
					       icmp, len)) != 0xffff)
			return ES_NEXT_DROP(ES_CNT_ICMP_CKSUM);
		memcpy(tmp, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, tmp, 16);
		ip[7] = 64;
		icmp[0] = 129;
		icmp[2] = icmp[3] = 0;
		es_put_be16(icmp + 2, (uint16_t)~es_cksum_fold(
			es_cksum_add(icmp6_pseudo(ip + 8, ip + 24, len), icmp, len)));
	} else {
		if (o->l4_proto != IPPROTO_ICMP || o->l4_off + 8u > o->ip_end ||
		    icmp[0] != RTE_IP_ICMP_ECHO_REQUEST || icmp[1] != 0)
			return ES_NEXT_DROP(o->l4_proto == IPPROTO_ICMP ? ES_CNT_HOST_OTHER
							   : ES_CNT_NOT_UDP);
		if (es_cksum_fold(es_cksum_add(0, icmp, len)) != 0xffff)
			return ES_NEXT_DROP(ES_CNT_ICMP_CKSUM);
		memcpy(tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, tmp, 4);
		ip[8] = 64;
		ip[10] = ip[11] = 0;
		es_put_be16(ip + 10, es_ip4_hdr_cksum(ip, o->l3_len));
		icmp[0] = RTE_IP_ICMP_ECHO_REPLY;
		icmp[2] = icmp[3] = 0;
		es_put_be16(icmp + 2, (uint16_t)~es_cksum_fold(es_cksum_add(0, icmp, len)));
	}
	eth->dst_addr = eth->src_addr;
	eth->src_addr = es_ports[in_port].mac;
	w->cnt[ES_CNT_ICMP_ECHO]++;
	return in_port;
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

es_next_t es_path_echo(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
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
		return ES_NEXT_DROP(ES_CNT_NO_HEADROOM);
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
		return ES_NEXT_DROP(rc);
	w->cnt[ES_CNT_ECHO_REQ]++;
	return in_port;
}

/* A token bucket of rate tokens a second and a burst of as many: whether
 * one is taken now. period: TSC cycles a token (not 0). */
static bool bucket_take(uint64_t *tokens, uint64_t *last, uint64_t period,
			uint32_t rate)
{
	if (*tokens == 0) {
		uint64_t now = rte_rdtsc();
		uint64_t add = (now - *last) / period;
		if (add == 0)
			return false;
		*tokens = RTE_MIN(add, (uint64_t)rate);
		*last = now;
	}
	(*tokens)--;
	return true;
}

es_next_t es_path_errind(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		   const struct es_outer *o, const struct es_gtpu *g)
{
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	struct es_peer peer;
	uint8_t dst[16];
	uint8_t *r;
	uint16_t alen = o->v6 ? 16 : 4, len;

	if (w->ei_period == 0)
		return ES_NEXT_DROP(ES_CNT_GTP_TEID_UNKNOWN);
	if (!bucket_take(&w->ei_tokens, &w->ei_last, w->ei_period, es_set.errind_rate)) {
		w->cnt[ES_CNT_ERRIND_LIMITED]++;
		return ES_NEXT_DROP(ES_CNT_GTP_TEID_UNKNOWN);
	}

	peer_of(b, o, in_port, &peer, dst);
	/* TS 29.281 §7.3.1: TEID 0, TEID Data I and GTP-U Peer Address
	 * IEs, and the UDP Port extension header with the source port of
	 * the G-PDU that triggered it; sent to port 2152. */
	len = (uint16_t)(4 + 4 + 5 + 3 + alen);
	empty_mbuf(m, o->l4_off + 8);
	r = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(8 + len));
	if (r == NULL)
		return ES_NEXT_DROP(ES_CNT_GTP_TEID_UNKNOWN);
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
		return ES_NEXT_DROP(ES_CNT_GTP_TEID_UNKNOWN);
	w->cnt[ES_CNT_GTP_TEID_UNKNOWN]++;
	w->cnt[ES_CNT_ERRIND_TX]++;
	return in_port;
}

/* RFC 1812 §4.3.2.3: an ICMP error holds as much of the datagram as fits
 * in 576 bytes; RFC 4443 §2.4(c): an ICMPv6 error, as much as fits in the
 * IPv6 minimum MTU. */
#define ICMP4_ERR_MAX 576
#define ICMP6_ERR_MAX 1280

/* Whether no ICMP error may be sent about the packet at p (in: its
 * parse): RFC 1812 §4.3.2.7 (IPv4) and RFC 4443 §2.4(e) (IPv6). */
static bool no_error_about(const uint8_t *p, const struct es_inner *in)
{
	if (in->is_frag)        /* a non-initial fragment: its L4 is unknown */
		return true;
	if (!in->v6) {
		const uint8_t *sa = p + 12, *da = p + 16;
		/* a source that is no single host: 0/8, 127/8, multicast,
		 * class E and the limited broadcast; a multicast or
		 * broadcast destination */
		if (sa[0] == 0 || sa[0] == 127 || sa[0] >= 224 || da[0] >= 224)
			return true;
		/* an ICMP error message: Destination Unreachable, Source
		 * Quench, Redirect, Time Exceeded, Parameter Problem */
		return in->proto == IPPROTO_ICMP &&
		       (in->sport == 3 || in->sport == 4 || in->sport == 5 ||
			in->sport == 11 || in->sport == 12);
	}
	{
		static const uint8_t zero[16];
		const uint8_t *sa = p + 8, *da = p + 24;
		if (memcmp(sa, zero, 16) == 0 || sa[0] == 0xff || da[0] == 0xff)
			return true;
		/* ICMPv6 types below 128 are error messages */
		return in->proto == IPPROTO_ICMPV6 && in->sport < 128;
	}
}

bool es_path_time_exceeded(struct es_worker *w, struct rte_mbuf *m,
			  const struct es_inner *in, const uint8_t *src,
			  uint32_t room)
{
	uint16_t hl = in->v6 ? 40 : 20;
	uint32_t q = rte_pktmbuf_pkt_len(m);
	uint32_t max = in->v6 ? ICMP6_ERR_MAX : ICMP4_ERR_MAX;
	uint32_t cap;

	/* a port's MTU is at least 576 and a tunnel's headers at most 64
	 * bytes: room is more than the 48 bytes of headers */
	if (room < max)
		max = room;
	cap = max - hl - 8u;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t *h, *icmp;

	/* the callers have removed at least an Ethernet header from m, and
	 * an mbuf starts with RTE_PKTMBUF_HEADROOM (128): room for 48 */
	if (src == NULL || no_error_about(p, in) ||
	    rte_pktmbuf_headroom(m) < hl + 8u) {
		w->cnt[ES_CNT_ICMP_ERR_SUPPRESSED]++;
		return false;
	}
	if (w->te_period == 0)
		return false;
	if (!bucket_take(&w->te_tokens, &w->te_last, w->te_period, es_set.icmp_rate)) {
		w->cnt[ES_CNT_ICMP_ERR_LIMITED]++;
		return false;
	}
	if (q > cap) {
		rte_pktmbuf_trim(m, (uint16_t)(q - cap));
		q = cap;
	}
	/* the quoted packet stays where it is; the headers go before it */
	h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(hl + 8));
	p = h + hl + 8;
	icmp = h + hl;
	memset(icmp, 0, 8);      /* code 0 (TTL exceeded in transit), unused */
	if (in->v6) {
		es_put_be32(h, 6u << 28);
		es_put_be16(h + 4, (uint16_t)(8 + q));
		h[6] = IPPROTO_ICMPV6;
		h[7] = 64;
		memcpy(h + 8, src, 16);
		memcpy(h + 24, p + 8, 16);
		icmp[0] = 3;         /* RFC 4443 §3.3 */
		es_put_be16(icmp + 2, (uint16_t)~es_cksum_fold(es_cksum_add(
			icmp6_pseudo(h + 8, h + 24, 8 + q), icmp, 8 + q)));
	} else {
		h[0] = 0x45;
		/* RFC 1812 §4.3.2.5: precedence 6 (internetwork control) */
		h[1] = 0xc0;
		es_put_be16(h + 2, (uint16_t)(20 + 8 + q));
		es_put_be32(h + 4, 0);   /* id 0, no flags, offset 0 */
		h[8] = 64;
		h[9] = IPPROTO_ICMP;
		h[10] = h[11] = 0;
		memcpy(h + 12, src, 4);
		memcpy(h + 16, p + 12, 4);
		es_put_be16(h + 10, es_ip4_hdr_cksum(h, 20));
		icmp[0] = 11;        /* RFC 792: Time Exceeded */
		es_put_be16(icmp + 2, (uint16_t)~es_cksum_fold(es_cksum_add(0, icmp, 8 + q)));
	}
	return true;
}
