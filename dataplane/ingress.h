/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage 1, ingress: Ethernet, the outer IP/UDP header, dispatch.
 *
 * Contract: es_ingress() takes one received packet and either finishes
 * it with a verdict (pipeline.h) or leaves it ES_NEXT_ON with its
 * context filled for session lookup (lookup.h): p->o (outer), p->g
 * (GTP-U: zero for a routed packet from an app), p->in (inner),
 * p->inner_off and p->path. On the way it trims an Ethernet trailer,
 * hands outer fragments to reassembly (frag.c: held, or back whole and
 * parsed again), and hands host traffic and GTP-U path management to
 * act_path.c, whose replies are verdicts. Per worker, no lock; static
 * inline, compiled into pipeline.c.
 */
#ifndef ES_INGRESS_H
#define ES_INGRESS_H

#include "act_path.h"
#include "frag.h"
#include "pipeline.h"
#include "lcore.h"
#include "tx.h"

/*
 * Phase 1 prefetches every mbuf header of the burst first, then each
 * packet's first two lines ES_PF_DATA packets ahead (its address is in
 * the header). When the packets were written by another core (a NIC's
 * DMA, es-loadgen's generator on the other lcore) both are cache misses
 * that a prefetch one packet ahead left exposed: at the target point on
 * ring ports (es-loadgen, as fast as the input ring takes packets, 10k
 * rules, 100k sessions and flows, Zen 5 VM, 2 rounds) the worker's peak
 * went 5.3-5.4 -> 8.6-9.2 Mpps for local breakout and 7.1-7.9 -> 14.7
 * for downlink encap, against 7.4 / 9.0 with the data alone prefetched
 * 16 ahead and 6.9-7.0 / 13.6-13.8 with only its first line; 8 or 12
 * ahead were between. When the rx burst itself wrote them (net_pcap)
 * they are in L1 already and the prefetches cost 0.5-4 cycles a packet
 * (docs/perf.md, "Prefetching the burst").
 */
#ifndef ES_PF_DATA   /* -DES_PF_DATA=N for an A/B build (1 to ES_BURST) */
#define ES_PF_DATA 16
#endif
_Static_assert(ES_PF_DATA > 0 && ES_PF_DATA <= ES_BURST, "a prefetch distance within a burst");

/* The lines phase 1 reads of a frame: the outer headers and, past byte
 * 64, the inner IP and L4 headers of a G-PDU. */
static inline void pkt_prefetch(const struct rte_mbuf *m)
{
	const char *d = rte_pktmbuf_mtod(m, const char *);
	rte_prefetch0(d);
	rte_prefetch0(d + 64);
}


/* (inlined: a call costs as much as the check on the hot path) */
static inline __attribute__((always_inline)) bool
outer_dst_local(const uint8_t *b, const struct es_outer *o, uint8_t port)
{
	return es_port_has_addr(port, b + o->l2_len + (o->v6 ? 24 : 16),
				o->v6);
}

/*
 * Ingress for one packet (c->m). Returns ES_NEXT_ON when c holds a packet
 * for session lookup, else its verdict: a reply's tx port (path
 * management, act_path.c), ES_NEXT_HELD (reassembly holds it, or dropped
 * it through es_exit_frags, tx.h), or ES_NEXT_DROP(c). On return c->m is the packet
 * the verdict is for (reassembly may have replaced it).
 */
static inline es_next_t es_ingress(struct es_worker *w, uint8_t in_port,
				   struct es_pkt *c, uint64_t tsc)
{
	const uint8_t role = es_ports[in_port].role;
	struct rte_mbuf *m = c->m;
	bool verify = (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) !=
		      RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	const uint8_t *b;
	uint32_t glen;
	int rc, fast;

	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0)
		return ES_NEXT_DROP(ES_CNT_RX_MULTISEG);
again:
	b = rte_pktmbuf_mtod(m, const uint8_t *);
	/* the common packet in one pass; anything else (and every drop
	 * reason) through the full parsers */
	fast = es_parse_fast(b, rte_pktmbuf_data_len(m), verify, &c->o, &c->g,
			     &c->in);
	if (unlikely(fast == ES_FAST_NONE)) {
		rc = es_parse_outer(b, rte_pktmbuf_data_len(m), verify, &c->o);
		if (rc)
			return ES_NEXT_DROP(rc);
	}
	c->in_port = in_port;
	/* an Ethernet trailer (padding, FCS) is not part of the packet: no
	 * path may carry it on */
	if (c->o.kind != ES_K_ARP && rte_pktmbuf_data_len(m) > c->o.ip_end)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - c->o.ip_end));
	if (likely(fast == ES_FAST_GPDU) && role != ES_ROLE_LOCAL &&
	    outer_dst_local(b, &c->o, in_port)) {
		/* what the code below finds for it, less the parsing: a G-PDU
		 * with a T-PDU of exactly its payload length (no padding) */
		c->inner_off = (uint16_t)(c->o.l4_off + 8 + c->g.hdr_len);
		goto tpdu;
	}
	switch (c->o.kind) {
	case ES_K_ARP:
		return es_path_arp(w, in_port, m, &c->o);
	case ES_K_FRAG:
		if (role == ES_ROLE_LOCAL && !outer_dst_local(b, &c->o, in_port))
			break;  /* a fragmented IP packet toward a UE */
		if (!outer_dst_local(b, &c->o, in_port))
			return ES_NEXT_DROP(ES_CNT_NOT_LOCAL);
		/* held, dropped (to the exit), or the whole packet */
		m = es_frag_in(&w->frag, m, &c->o, tsc, w->cnt);
		es_exit_frags(w, &w->frag.out);
		if (m == NULL)
			return ES_NEXT_HELD;
		c->m = m;
		verify = false;  /* the library rewrote the header */
		goto again;
	case ES_K_IP:
	case ES_K_GTPU:
		break;
	}

	if (outer_dst_local(b, &c->o, in_port)) {
		if (c->o.kind != ES_K_GTPU) {
			return es_path_host(w, in_port, m, &c->o);
		}
		if (role == ES_ROLE_LOCAL)
			return ES_NEXT_DROP(ES_CNT_ROLE);
	} else {
		if (role != ES_ROLE_LOCAL)
			return ES_NEXT_DROP(ES_CNT_NOT_LOCAL);
		/* downlink from a local app: a routed IP packet to a UE */
		c->inner_off = c->o.l2_len;
		if (fast != ES_FAST_IP4) {
			/* (the fast track has done both) */
			memset(&c->g, 0, sizeof(c->g));  /* no tunnel: no QFI */
			rc = es_parse_inner(b + c->o.l2_len,
					    rte_pktmbuf_data_len(m) - c->o.l2_len,
					    false, &c->in);
			if (rc)
				return ES_NEXT_DROP(rc);
		}
		c->path = ES_P_DL_APP;
		return ES_NEXT_ON;
	}

	/* GTP-U to one of our addresses on an access or core port */
	glen = (uint32_t)(c->o.ip_end - c->o.l4_off - 8);
	rc = es_parse_gtpu(b + c->o.l4_off + 8, glen, &c->g);
	if (rc == ES_CNT_GTP_LEN && es_set.gtpu_padding && glen >= 8 &&
	    8u + es_be16(b + c->o.l4_off + 8 + 2) < glen) {
		/* 'set gtpu-padding 1': a peer that pads the UDP payload
		 * past the GTP-U message (seen from open5gs) */
		glen = 8u + es_be16(b + c->o.l4_off + 8 + 2);
		w->cnt[ES_CNT_GTP_PADDING]++;
		rc = es_parse_gtpu(b + c->o.l4_off + 8, glen, &c->g);
		/* the padding goes no further than here */
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) -
					       (c->o.l4_off + 8 + glen)));
	}
	if (rc)
		return ES_NEXT_DROP(rc);
	switch (c->g.type) {
	case ES_GTP_GPDU:
		break;
	case ES_GTP_ECHO_REQ:
		return es_path_echo(w, in_port, m, &c->o, &c->g);
	case ES_GTP_ECHO_RESP:
		return ES_NEXT_DROP(ES_CNT_ECHO_RESP);
	case ES_GTP_ERROR_IND:
		return ES_NEXT_DROP(ES_CNT_ERRIND_RX);
	case ES_GTP_SUPP_EXT:
		return ES_NEXT_DROP(ES_CNT_SUPP_EXT_RX);
	case ES_GTP_END_MARKER:
		if (role != ES_ROLE_CORE)
			return ES_NEXT_DROP(ES_CNT_END_MARKER_RX);
		c->path = ES_P_END_MARKER;
		return ES_NEXT_ON;
	default:
		return ES_NEXT_DROP(ES_CNT_GTP_MSG_UNKNOWN);
	}
	if (c->g.payload_len == 0)
		return ES_NEXT_DROP(ES_CNT_GTP_NO_TPDU);
	c->inner_off = (uint16_t)(c->o.l4_off + 8 + c->g.hdr_len);
	rc = es_parse_inner(b + c->inner_off, c->g.payload_len,
			    !es_set.gtpu_padding, &c->in);
	if (rc)
		return ES_NEXT_DROP(rc);
	if (c->in.ip_len < c->g.payload_len)
		w->cnt[ES_CNT_GTP_PADDING]++;  /* only with gtpu-padding 1 */
tpdu:
	c->path = role == ES_ROLE_ACCESS ? ES_P_UL : ES_P_DL_CLOUD;
	return ES_NEXT_ON;
}

#endif
