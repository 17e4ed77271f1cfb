/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage 4, the uplink action: a G-PDU from a gNB (ES_P_UL) after
 * classify.
 *
 * Contract: act_uplink() takes the packet, its session s (bounded) and
 * its rule r (NULL: none, the default is the cloud) and returns its
 * verdict: the app's port (decapsulated and routed: local breakout, UE
 * -> app), the cloud UPF's port (relayed on N9 with the session's
 * cloud TEID), an ICMP Time Exceeded back through the gNB tunnel, or
 * ES_NEXT_DROP(c). A mirror rule makes a decapsulated copy, a packet
 * of its own, whose verdict goes to the exit (tx.h) at once, before the
 * packet's (mirror_to; d: the burst's drops). The only place the
 * uplink reads rule fields. Per worker, no lock; static inline,
 * compiled into pipeline.c.
 */
#ifndef ES_ACT_UPLINK_H
#define ES_ACT_UPLINK_H

#include "act_path.h"
#include "pipeline.h"
#include "tx.h"


/* A tunnel inside the tunnel: UDP to the GTP-U port (TS 29.281 §4.4.2.3:
 * a G-PDU always goes to 2152; a UE's own flow may well come from 2152).
 * Checked where an uplink packet is decapsulated to an app (routable). */
static inline bool es_inner_is_gtpu(const struct es_inner *in)
{
	return in->proto == IPPROTO_UDP && !in->is_frag &&
	       in->dport == ES_GTPU_PORT;
}

/*
 * Whether the inner packet of an uplink G-PDU (c->m as received) may be
 * routed to an app, that is decapsulated: 0, or the drop counter that
 * says why not (docs/architecture.md, "What edgesteer does as a router"):
 * RFC 1812 §5.2.2, a router verifies the IPv4 header checksum of what it
 * forwards (es_ip4_hdr_ok: the IPv4 fast track has read these 20 bytes a
 * moment earlier, so three loads from L1 and a sum modulo 0xffff, ~18
 * instructions); RFC 4291 §2.5.6 and §2.7, link scope stays
 * on its link (the PDU session); BRIEF §4, never decapsulate twice. A
 * relayed packet is not routed here and takes none of these checks.
 */
static inline int routable(const struct es_pkt *c)
{
	if (c->in.v6) {
		if (unlikely(ip6_link_scope(c->in.a.v6a.src, c->in.a.v6a.dst)))
			return ES_CNT_IP6_LINK_SCOPE;
	} else if (unlikely(!es_ip4_hdr_ok(rte_pktmbuf_mtod_offset(c->m,
				const uint8_t *, c->inner_off), c->in.l3_len))) {
		return ES_CNT_INNER_IP4_CKSUM;
	}
	if (unlikely(es_inner_is_gtpu(&c->in)))
		return ES_CNT_INNER_GTPU;
	return 0;
}


/* A decapsulated copy of the inner packet to an app (mirror). A copy that
 * could not be routed (routable, es_route_ip) is not made; the packet
 * itself goes on to its 'then' action either way. */
static inline void mirror_to(struct es_worker *w, struct es_drops *d,
			     const struct es_pkt *c, const struct es_app *app)
{
	struct rte_mbuf *cp;
	if (app->down)
		return;
	if (routable(c) != 0) {
		w->cnt[ES_CNT_MIRROR_NOT_ROUTED]++;
		return;
	}
	cp = rte_pktmbuf_copy(c->m, es_pool, c->inner_off, c->in.ip_len);
	if (cp == NULL) {
		w->cnt[ES_CNT_MIRROR_FAIL]++;
		return;
	}
	if (es_route_ip(cp, c->in.ip_len, c->in.v6, &es_ports[app->hop.port],
			&app->hop) != 0) {
		es_exit(w, d, cp, ES_NEXT_DROP(ES_CNT_MIRROR_NOT_ROUTED));
		return;
	}
	w->cnt[ES_CNT_MIRROR]++;
	es_exit(w, d, cp, app->hop.port);
}

/*
 * An uplink packet (m's data: its inner packet, as received) whose TTL /
 * hop limit expired as it was to be routed to an app on app_port: it
 * counts in drop_ttl_expired, and m becomes an ICMP Time Exceeded back to
 * the UE through its gNB tunnel (a DL PDU Session Container with the
 * session's QFI), from the N3 port's address of the family (the app
 * port's when the N3 port has none), its quote cut so that the G-PDU fits
 * the gNB port's MTU. RFC 1812 §5.3.1, RFC 4443 §3.3.
 */
static __attribute__((noinline, cold)) es_next_t
time_exceeded_ul(struct es_worker *w, const struct es_tables *t,
		 struct es_pkt *c, const struct es_session *s, uint8_t app_port)
{
	const struct es_peer *gnb = &t->peers[s->gnb];
	const uint8_t *src = port_src(c->in_port, c->in.v6);
	/* what the tunnel to the gNB carries: its port's MTU less the outer
	 * IP, UDP and GTP-U headers with the container */
	uint32_t room = es_ports[gnb->port].mtu -
			(gnb->v6 ? 40u : 20u) - 8u - ES_GTPU_HLEN_PSC;
	if (src == NULL)
		src = port_src(app_port, c->in.v6);
	es_next_t next;
	if (!es_path_time_exceeded(w, c->m, &c->in, src, room))
		return ES_NEXT_DROP(ES_CNT_TTL);
	next = to_gnb(t, c->m, s, ES_GTP_GPDU, true, s->qfi);
	if (!ES_NEXT_IS_TX(next))
		return ES_NEXT_DROP(ES_CNT_TTL);
	w->cnt[ES_CNT_TTL]++;
	w->cnt[ES_CNT_TIME_EXCEEDED_TX]++;
	return next;
}

/*
 * The relayed G-PDU at m's data start (its GTP-U header), in its uncommon
 * shapes; returns the new data start.
 * - TS 29.281 §5.2.1: an intermediate node discards an extension header
 *   whose type starts with bits 01 and does not forward it; the others
 *   (00, 10, and 11 that es_parse_gtpu knows) go on. The chain is
 *   compacted toward its start and the header moved up to the T-PDU,
 *   which stays where it is; the first Next Extension Header Type is 0
 *   when nothing is left (E stays set: the field is present).
 * - 'set gtpu-padding 1': bytes of the T-PDU after the inner packet are
 *   padding and go no further (docs/config.md).
 * The Length field is set to what remains.
 */
static __attribute__((noinline, cold)) uint8_t *
relay_fixup(struct es_worker *w, struct rte_mbuf *m, const struct es_pkt *c)
{
	uint8_t *g = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t hlen = c->g.hdr_len, keep;

	if (c->g.n_ext != c->g.has_psc) {
		/* es_parse_gtpu has walked this chain: lengths are not 0 and
		 * it ends at hdr_len exactly */
		uint32_t in = 12, out = 12, prev = 11;
		uint8_t next = g[11];
		while (next != ES_GTP_EXT_NONE && in < hlen) {
			uint32_t elen = (uint32_t)g[in] * 4;
			uint8_t after;
			if (elen == 0 || in + elen > hlen)
				break;
			after = g[in + elen - 1];
			if ((next & 0xc0) == 0x40) {
				w->cnt[ES_CNT_GTP_EXT_STRIPPED]++;
			} else {
				memmove(g + out, g + in, elen);
				g[prev] = next;
				prev = out + elen - 1;
				out += elen;
			}
			in += elen;
			next = after;
		}
		g[prev] = ES_GTP_EXT_NONE;
		if (out < in) {
			/* in == hlen: move the header up to the T-PDU */
			memmove(g + (in - out), g, out);
			g = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)(in - out));
			hlen -= in - out;
		}
	}
	keep = hlen + c->in.ip_len;
	if (rte_pktmbuf_pkt_len(m) > keep)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - keep));
	es_put_be16(g + 2, (uint16_t)(keep - 8));
	return g;
}

static inline es_next_t act_uplink(struct es_worker *w, struct es_drops *d,
				   const struct es_tables *t, struct es_pkt *c,
				   const struct es_session *s, const struct es_rule *r)
{
	struct rte_mbuf *m = c->m;
	uint8_t act = r ? r->action : ES_ACT_CLOUD;
	uint16_t app_i = r ? r->app : 0;
	int rc;

	if (act == ES_ACT_MIRROR) {
		mirror_to(w, d, c, &t->apps[r->app]);
		act = r->then_action;
		app_i = r->then_app;
	}
	bool fell_back = false;
	if (act == ES_ACT_LOCAL && t->apps[app_i].down) {
		w->cnt[ES_CNT_UL_FALLBACK]++;
		act = r->fallback;
		fell_back = true;
	}
	switch (act) {
	case ES_ACT_LOCAL: {
		const struct es_app *app = &t->apps[app_i];
		rc = routable(c);
		if (rc)
			return ES_NEXT_DROP(rc);
		rte_pktmbuf_adj(m, c->inner_off);
		rc = es_route_ip(m, c->in.ip_len, c->in.v6,
				 &es_ports[app->hop.port], &app->hop);
		if (unlikely(rc == ES_CNT_TTL))
			return time_exceeded_ul(w, t, c, s, app->hop.port);
		if (rc)
			return ES_NEXT_DROP(rc);
		w->cnt[ES_CNT_UL_LOCAL]++;
		return app->hop.port;
	}
	case ES_ACT_FORWARD:
	case ES_ACT_CLOUD: {
		const struct es_peer *cloud = &t->peers[s->cloud];
		uint8_t *g;
		if (!s->has_cloud)
			return ES_NEXT_DROP(ES_CNT_NO_CLOUD);
		/* relay: keep the GTP-U header and its extension headers
		 * (the PDU Session Container), rewrite TEID and outer; the
		 * uncommon shapes (extension headers other than the
		 * container, T-PDU padding) in relay_fixup */
		g = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)(c->o.l4_off + 8));
		if (unlikely(c->g.n_ext != c->g.has_psc ||
			     c->in.ip_len != c->g.payload_len))
			g = relay_fixup(w, m, c);
		es_put_be32(g + 4, s->cloud_teid);
		rc = es_push_tpl(m, &es_ports[cloud->port], &t->tpls[s->cloud]);
		if (rc)
			return ES_NEXT_DROP(rc);
		w->cnt[ES_CNT_UL_CLOUD]++;
		return cloud->port;
	}
	case ES_ACT_DROP:
		/* the app (local, or the 'then local' after a mirror) is down
		 * and the fallback is drop; else the rule itself drops */
		return ES_NEXT_DROP(fell_back ? ES_CNT_APP_DOWN_DROP : ES_CNT_RULE_DROP);
	default:
		return ES_NEXT_DROP(ES_CNT_RULE_DROP);
	}
}

#endif
