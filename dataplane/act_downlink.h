/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage 4, the downlink actions: a routed IP packet from a local app
 * (ES_P_DL_APP), a G-PDU from the cloud UPF on N9 (ES_P_DL_CLOUD), an
 * End Marker from the cloud (ES_P_END_MARKER), after classify.
 *
 * Contract: each takes the packet and its session s (bounded), and
 * act_downlink its rule r (NULL: none), and returns its verdict: the
 * gNB's port (encapsulated in the session's gNB tunnel with a DL PDU
 * Session Container), an ICMP Time Exceeded back to the app on its
 * port, or ES_NEXT_DROP(c). The only place the downlink reads rule
 * fields. Per worker, no lock; static inline, compiled into pipeline.c.
 */
#ifndef ES_ACT_DOWNLINK_H
#define ES_ACT_DOWNLINK_H

#include "act_path.h"
#include "pipeline.h"

/*
 * A packet from an app (m's data: the IP packet, as received) whose TTL /
 * hop limit expired as it was to be routed into a UE's tunnel: it counts
 * in drop_ttl_expired, and m becomes an ICMP Time Exceeded back to its
 * sender, on the local port it came from, to the MAC it came from, from
 * that port's address of the family. RFC 1812 §5.3.1, RFC 4443 §3.3.
 */
static __attribute__((noinline, cold)) es_next_t
time_exceeded_dl(struct es_worker *w, struct es_pkt *c)
{
	struct rte_mbuf *m = c->m;
	struct rte_ether_addr smac;
	struct rte_ether_hdr *eth;
	/* the received Ethernet header still lies before the data */
	memcpy(&smac, rte_pktmbuf_mtod(m, uint8_t *) - c->inner_off + 6, sizeof(smac));
	if (!es_path_time_exceeded(w, m, &c->in, port_src(c->in_port, c->in.v6),
				  es_ports[c->in_port].mtu))
		return ES_NEXT_DROP(ES_CNT_TTL);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL)
		return ES_NEXT_DROP(ES_CNT_TTL);
	eth->dst_addr = smac;
	eth->src_addr = es_ports[c->in_port].mac;
	eth->ether_type = rte_cpu_to_be_16(c->in.v6 ? RTE_ETHER_TYPE_IPV6
						    : RTE_ETHER_TYPE_IPV4);
	m->l2_len = sizeof(*eth);
	w->cnt[ES_CNT_TTL]++;
	w->cnt[ES_CNT_TIME_EXCEEDED_TX]++;
	return c->in_port;
}

static inline es_next_t act_downlink(struct es_worker *w, const struct es_tables *t,
				     struct es_pkt *c, const struct es_session *s,
				     const struct es_rule *r)
{
	struct rte_mbuf *m = c->m;
	es_next_t next;
	int rc;

	if (r && r->action == ES_ACT_DROP)
		return ES_NEXT_DROP(ES_CNT_RULE_DROP);
	rte_pktmbuf_adj(m, c->inner_off);
	if (rte_pktmbuf_pkt_len(m) > c->in.ip_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - c->in.ip_len));
	if (c->path == ES_P_DL_APP) {
		/* routed from the app network into the tunnel: RFC 4291
		 * §2.5.6, a link-local source stays on its link */
		if (unlikely(c->in.v6 &&
			     ip6_link_scope(c->in.a.v6a.src, c->in.a.v6a.dst)))
			return ES_NEXT_DROP(ES_CNT_IP6_LINK_SCOPE);
		rc = es_ip_dec_ttl(rte_pktmbuf_mtod(m, uint8_t *), c->in.v6);
		if (unlikely(rc == ES_CNT_TTL))
			return time_exceeded_dl(w, c);
		if (rc)
			return ES_NEXT_DROP(rc);
		next = to_gnb(t, m, s, ES_GTP_GPDU, true, s->qfi);
		if (ES_NEXT_IS_TX(next))
			w->cnt[ES_CNT_DL_ENCAP]++;
	} else {
		/* TS 38.415: every downlink G-PDU to the gNB carries a DL
		 * PDU Session Container; the cloud's QFI is kept */
		next = to_gnb(t, m, s, ES_GTP_GPDU, true,
			      c->g.has_psc ? c->g.qfi : s->qfi);
		if (ES_NEXT_IS_TX(next))
			w->cnt[ES_CNT_DL_RELAY]++;
	}
	return next;
}

static inline es_next_t act_end_marker(struct es_worker *w, const struct es_tables *t,
				       struct es_pkt *c, const struct es_session *s)
{
	struct rte_mbuf *m = c->m;
	es_next_t next;
	rte_pktmbuf_adj(m, (uint16_t)(c->o.l4_off + 8 + c->g.hdr_len));
	rte_pktmbuf_trim(m, (uint16_t)rte_pktmbuf_pkt_len(m));
	next = to_gnb(t, m, s, ES_GTP_END_MARKER, false, 0);
	if (ES_NEXT_IS_TX(next))
		w->cnt[ES_CNT_END_MARKER_RELAY]++;
	return next;
}

#endif
