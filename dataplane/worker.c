/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: rx a burst per port, run it through the pipeline in
 * phases, tx, report quiescence. See docs/architecture.md.
 *
 *   1. outer   parse L2/L3/UDP, reassemble fragments, answer ARP/ICMP,
 *              parse GTP-U and answer path management, parse the inner
 *              packet (parse.c, path.c)
 *   2. session look the session up: uplink TEIDs in one bulk lookup,
 *              N9 TEID or UE address for downlink (session.c tables);
 *              anti-spoofing
 *   3. classify build rte_acl keys and classify IPv4 and IPv6 in one
 *              call each (classify.c), plus one against the rule delta
 *              while there is one (rules.c)
 *   4. action  local / cloud / drop / mirror / encap / relay (encap.c)
 *
 * Every packet ends in exactly one place: queued for tx, held by the
 * reassembly table, or dropped with exactly one DROP counter raised.
 */
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include "classify.h"
#include "encap.h"
#include "parse.h"
#include "port.h"
#include "sidx.h"
#include "worker.h"
#include "mem.h"

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

#define CONSUMED (-1)

enum path { P_UL, P_DL_APP, P_DL_CLOUD, P_END_MARKER };

struct pctx {
	struct rte_mbuf *m;
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;
	uint16_t inner_off;   /* from the frame start */
	uint8_t path;         /* enum path */
	uint8_t in_port;
	uint32_t sess;
	uint32_t rule;        /* rule slot + 1, 0: none */
	union {
		struct es_key4 k4;
		struct es_key6 k6;
	} key;
};

uint64_t es_counter_sum(enum es_cnt id)
{
	uint64_t s = 0;
	for (unsigned int i = 0; i < es_n_workers; i++)
		s += es_workers[i].cnt[id];
	return s;
}

void es_lat_sum(struct es_lat_hist *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < es_n_workers; i++)
		es_lat_merge(out, &es_workers[i].lat);
}

uint64_t es_stage_pkts_sum(void)
{
	uint64_t c = 0;
	for (unsigned int i = 0; i < es_n_workers; i++)
		c += es_workers[i].stage_pkts;
	return c;
}

uint64_t es_stage_sum(enum es_stage s)
{
	uint64_t c = 0;
	for (unsigned int i = 0; i < es_n_workers; i++)
		c += es_workers[i].stage[s];
	return c;
}

static uint32_t pool_min = UINT32_MAX;
static uint64_t pool_samples, pool_empty;

void es_pool_sample(void)
{
	unsigned int a;
	if (es_pool == NULL)
		return;
	a = rte_mempool_avail_count(es_pool);
	if (a < pool_min)
		pool_min = a;
	if (a < ES_BURST)
		pool_empty++;
	pool_samples++;
}

void es_pool_stats_get(struct es_pool_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (es_pool != NULL) {
		s->mbufs = es_pool->size;
		s->available = rte_mempool_avail_count(es_pool);
		s->in_use = s->mbufs - RTE_MIN(s->available, s->mbufs);
	}
	s->samples = pool_samples;
	s->empty_samples = pool_empty;
	s->min_available = pool_samples ? pool_min : s->available;
	for (unsigned int i = 0; es_workers != NULL && i < es_n_workers; i++)
		s->frag_held += es_workers[i].frag.held;
	s->frag_mbufs = es_frag_mbufs();
	s->frag_source_mbufs = es_frag_source_max(s->frag_mbufs);
}

/* A tunnel inside the tunnel: UDP to the GTP-U port (TS 29.281 §4.4.2.3:
 * a G-PDU always goes to 2152; a UE's own flow may well come from 2152).
 * Checked where an uplink packet is decapsulated to an app (routable). */
static inline bool es_inner_is_gtpu(const struct es_inner *in)
{
	return in->proto == IPPROTO_UDP && !in->is_frag &&
	       in->dport == ES_GTPU_PORT;
}

/* IPv6 addresses a router keeps on their link (RFC 4291 §2.5.6, §2.7):
 * a link-local unicast source (fe80::/10), or a link-local unicast or an
 * interface- or link-scope multicast destination. */
static inline bool ip6_link_scope(const uint8_t *src, const uint8_t *dst)
{
	return (src[0] == 0xfe && (src[1] & 0xc0) == 0x80) ||
	       (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80) ||
	       (dst[0] == 0xff && (dst[1] & 0x0f) <= 2);
}

/* An IPv6 UE's link-local address (RFC 4291 §2.5.6: fe80::/64), which it
 * uses on its PDU session before and beside its prefix (Router
 * Solicitation, TS 23.501 §5.8.2.2): accepted as an uplink source. */
static inline bool ip6_ue_link_local(const uint8_t *a)
{
	static const uint8_t ll[8] = { 0xfe, 0x80 };
	return memcmp(a, ll, 8) == 0;
}

/* (inlined: a call costs as much as the check on the hot path) */
static inline __attribute__((always_inline)) bool
outer_dst_local(const uint8_t *b, const struct es_outer *o, uint8_t port)
{
	return es_port_has_addr(port, b + o->l2_len + (o->v6 ? 24 : 16),
				o->v6);
}

/*
 * Phase 1 for one packet. Returns 0 when c holds a packet for phases 2-4,
 * CONSUMED when the packet is already queued or held, or a drop counter.
 * On return c->m is the packet to free on a drop (reassembly may have
 * replaced it).
 */
static int stage_outer(struct es_worker *w, uint8_t in_port,
		       struct pctx *c, uint64_t tsc)
{
	const uint8_t role = es_ports[in_port].role;
	struct rte_mbuf *m = c->m;
	bool verify = (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) !=
		      RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	const uint8_t *b;
	uint32_t glen;
	int rc, fast;

	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0)
		return ES_CNT_RX_MULTISEG;
again:
	b = rte_pktmbuf_mtod(m, const uint8_t *);
	/* the common packet in one pass; anything else (and every drop
	 * reason) through the full parsers */
	fast = es_parse_fast(b, rte_pktmbuf_data_len(m), verify, &c->o, &c->g,
			     &c->in);
	if (unlikely(fast == ES_FAST_NONE)) {
		rc = es_parse_outer(b, rte_pktmbuf_data_len(m), verify, &c->o);
		if (rc)
			return rc;
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
		rc = es_path_arp(w, in_port, m, &c->o);
		return rc == 1 ? CONSUMED : rc;
	case ES_K_FRAG:
		if (role == ES_ROLE_LOCAL && !outer_dst_local(b, &c->o, in_port))
			break;  /* a fragmented IP packet toward a UE */
		if (!outer_dst_local(b, &c->o, in_port))
			return ES_CNT_NOT_LOCAL;
		/* held, dropped (counted), or the whole packet */
		m = es_frag_in(&w->frag, m, &c->o, tsc, w->cnt);
		if (m == NULL)
			return CONSUMED;
		c->m = m;
		verify = false;  /* the library rewrote the header */
		goto again;
	case ES_K_IP:
	case ES_K_GTPU:
		break;
	}

	if (outer_dst_local(b, &c->o, in_port)) {
		if (c->o.kind != ES_K_GTPU) {
			rc = es_path_host(w, in_port, m, &c->o);
			return rc == 1 ? CONSUMED : rc;
		}
		if (role == ES_ROLE_LOCAL)
			return ES_CNT_ROLE;
	} else {
		if (role != ES_ROLE_LOCAL)
			return ES_CNT_NOT_LOCAL;
		/* downlink from a local app: a routed IP packet to a UE */
		c->inner_off = c->o.l2_len;
		if (fast != ES_FAST_IP4) {
			/* (the fast track has done both) */
			memset(&c->g, 0, sizeof(c->g));  /* no tunnel: no QFI */
			rc = es_parse_inner(b + c->o.l2_len,
					    rte_pktmbuf_data_len(m) - c->o.l2_len,
					    false, &c->in);
			if (rc)
				return rc;
		}
		c->path = P_DL_APP;
		return 0;
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
		return rc;
	switch (c->g.type) {
	case ES_GTP_GPDU:
		break;
	case ES_GTP_ECHO_REQ:
		rc = es_path_echo(w, in_port, m, &c->o, &c->g);
		return rc == 1 ? CONSUMED : rc;
	case ES_GTP_ECHO_RESP:
		return ES_CNT_ECHO_RESP;
	case ES_GTP_ERROR_IND:
		return ES_CNT_ERRIND_RX;
	case ES_GTP_SUPP_EXT:
		return ES_CNT_SUPP_EXT_RX;
	case ES_GTP_END_MARKER:
		if (role != ES_ROLE_CORE)
			return ES_CNT_END_MARKER_RX;
		c->path = P_END_MARKER;
		return 0;
	default:
		return ES_CNT_GTP_MSG_UNKNOWN;
	}
	if (c->g.payload_len == 0)
		return ES_CNT_GTP_NO_TPDU;
	c->inner_off = (uint16_t)(c->o.l4_off + 8 + c->g.hdr_len);
	rc = es_parse_inner(b + c->inner_off, c->g.payload_len,
			    !es_set.gtpu_padding, &c->in);
	if (rc)
		return rc;
	if (c->in.ip_len < c->g.payload_len)
		w->cnt[ES_CNT_GTP_PADDING]++;  /* only with gtpu-padding 1 */
tpdu:
	c->path = role == ES_ROLE_ACCESS ? P_UL : P_DL_CLOUD;
	return 0;
}

static void build_key(struct pctx *c, const struct es_session *s)
{
	uint8_t dir = c->path == P_UL ? ES_DIR_UL : ES_DIR_DL;
	if (c->in.v6) {
		struct es_key6 *k = &c->key.k6;
		memset(k, 0, sizeof(*k));
		k->proto = c->in.proto;
		k->dir = dir;
		k->qfi = c->g.qfi;
		k->dscp = c->in.dscp;
		memcpy(k->ue, dir == ES_DIR_UL ? c->in.a.v6a.src : c->in.a.v6a.dst, 8);
		memcpy(k->src, c->in.a.v6a.src, 16);
		memcpy(k->dst, c->in.a.v6a.dst, 16);
		k->sport_be = rte_cpu_to_be_16(c->in.sport);
		k->dport_be = rte_cpu_to_be_16(c->in.dport);
		k->teid_be = rte_cpu_to_be_32(dir == ES_DIR_UL ? s->ul_teid : 0);
	} else {
		struct es_key4 *k = &c->key.k4;
		memset(k, 0, sizeof(*k));
		k->proto = c->in.proto;
		k->dir = dir;
		k->qfi = c->g.qfi;
		k->dscp = c->in.dscp;
		k->ue_be = dir == ES_DIR_UL ? c->in.a.v4.src_be : c->in.a.v4.dst_be;
		k->src_be = c->in.a.v4.src_be;
		k->dst_be = c->in.a.v4.dst_be;
		k->sport_be = rte_cpu_to_be_16(c->in.sport);
		k->dport_be = rte_cpu_to_be_16(c->in.dport);
		k->teid_be = rte_cpu_to_be_32(dir == ES_DIR_UL ? s->ul_teid : 0);
	}
}

/* Downlink toward the gNB of s: m starts at the inner IP packet.
 * (Always inlined: with the Time Exceeded as a fourth caller the compiler
 * made it a call, 49 instructions a packet more on downlink encap.) */
static inline __attribute__((always_inline)) int to_gnb(struct es_worker *w, const struct es_tables *t,
		  struct rte_mbuf *m, const struct es_session *s, uint8_t type,
		  bool psc, uint8_t qfi)
{
	const struct es_peer *gnb = &t->peers[s->gnb];
	int rc = es_push_gtpu_tpl(m, type, s->gnb_teid, psc, qfi,
				  &es_ports[gnb->port], &t->tpls[s->gnb]);
	if (rc == 0)
		es_tx(w, gnb->port, m);
	return rc;
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
static inline int routable(const struct pctx *c)
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

/* The first address of v6's family of port p (network order), or NULL. */
static inline const uint8_t *port_src(uint8_t p, bool v6)
{
	const struct es_port *pt = &es_ports[p];
	if (v6)
		return pt->has6 ? pt->src6 : NULL;
	return pt->has4 ? pt->src4 : NULL;
}

/* A decapsulated copy of the inner packet to an app (mirror). A copy that
 * could not be routed (routable, es_route_ip) is not made; the packet
 * itself goes on to its 'then' action either way. */
static void mirror_to(struct es_worker *w, const struct pctx *c,
		      const struct es_app *app)
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
		w->cnt[ES_CNT_MIRROR_NOT_ROUTED]++;
		rte_pktmbuf_free(cp);
		return;
	}
	w->cnt[ES_CNT_MIRROR]++;
	es_tx(w, app->hop.port, cp);
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
static __attribute__((noinline, cold)) int
time_exceeded_ul(struct es_worker *w, const struct es_tables *t,
		 struct pctx *c, const struct es_session *s, uint8_t app_port)
{
	const struct es_peer *gnb = &t->peers[s->gnb];
	const uint8_t *src = port_src(c->in_port, c->in.v6);
	/* what the tunnel to the gNB carries: its port's MTU less the outer
	 * IP, UDP and GTP-U headers with the container */
	uint32_t room = es_ports[gnb->port].mtu -
			(gnb->v6 ? 40u : 20u) - 8u - ES_GTPU_HLEN_PSC;
	if (src == NULL)
		src = port_src(app_port, c->in.v6);
	if (es_path_time_exceeded(w, c->m, &c->in, src, room) != 1 ||
	    to_gnb(w, t, c->m, s, ES_GTP_GPDU, true, s->qfi) != 0)
		return ES_CNT_TTL;
	w->cnt[ES_CNT_TTL]++;
	w->cnt[ES_CNT_TIME_EXCEEDED_TX]++;
	return CONSUMED;
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
relay_fixup(struct es_worker *w, struct rte_mbuf *m, const struct pctx *c)
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

static int act_uplink(struct es_worker *w, const struct es_tables *t,
		      struct pctx *c, const struct es_session *s,
		      const struct es_rule *r)
{
	struct rte_mbuf *m = c->m;
	uint8_t act = r ? r->action : ES_ACT_CLOUD;
	uint16_t app_i = r ? r->app : 0;
	int rc;

	if (act == ES_ACT_MIRROR) {
		mirror_to(w, c, &t->apps[r->app]);
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
			return rc;
		rte_pktmbuf_adj(m, c->inner_off);
		rc = es_route_ip(m, c->in.ip_len, c->in.v6,
				 &es_ports[app->hop.port], &app->hop);
		if (unlikely(rc == ES_CNT_TTL))
			return time_exceeded_ul(w, t, c, s, app->hop.port);
		if (rc)
			return rc;
		w->cnt[ES_CNT_UL_LOCAL]++;
		es_tx(w, app->hop.port, m);
		return CONSUMED;
	}
	case ES_ACT_FORWARD:
	case ES_ACT_CLOUD: {
		const struct es_peer *cloud = &t->peers[s->cloud];
		uint8_t *g;
		if (!s->has_cloud)
			return ES_CNT_NO_CLOUD;
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
			return rc;
		w->cnt[ES_CNT_UL_CLOUD]++;
		es_tx(w, cloud->port, m);
		return CONSUMED;
	}
	case ES_ACT_DROP:
		/* the app (local, or the 'then local' after a mirror) is down
		 * and the fallback is drop; else the rule itself drops */
		return fell_back ? ES_CNT_APP_DOWN_DROP : ES_CNT_RULE_DROP;
	default:
		return ES_CNT_RULE_DROP;
	}
}

/*
 * A packet from an app (m's data: the IP packet, as received) whose TTL /
 * hop limit expired as it was to be routed into a UE's tunnel: it counts
 * in drop_ttl_expired, and m becomes an ICMP Time Exceeded back to its
 * sender, on the local port it came from, to the MAC it came from, from
 * that port's address of the family. RFC 1812 §5.3.1, RFC 4443 §3.3.
 */
static __attribute__((noinline, cold)) int
time_exceeded_dl(struct es_worker *w, struct pctx *c)
{
	struct rte_mbuf *m = c->m;
	struct rte_ether_addr smac;
	struct rte_ether_hdr *eth;
	/* the received Ethernet header still lies before the data */
	memcpy(&smac, rte_pktmbuf_mtod(m, uint8_t *) - c->inner_off + 6, sizeof(smac));
	if (es_path_time_exceeded(w, m, &c->in, port_src(c->in_port, c->in.v6),
				  es_ports[c->in_port].mtu) != 1)
		return ES_CNT_TTL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL)
		return ES_CNT_TTL;
	eth->dst_addr = smac;
	eth->src_addr = es_ports[c->in_port].mac;
	eth->ether_type = rte_cpu_to_be_16(c->in.v6 ? RTE_ETHER_TYPE_IPV6
						    : RTE_ETHER_TYPE_IPV4);
	m->l2_len = sizeof(*eth);
	w->cnt[ES_CNT_TTL]++;
	w->cnt[ES_CNT_TIME_EXCEEDED_TX]++;
	es_tx(w, c->in_port, m);
	return CONSUMED;
}

static int act_downlink(struct es_worker *w, const struct es_tables *t, struct pctx *c,
			const struct es_session *s, const struct es_rule *r)
{
	struct rte_mbuf *m = c->m;
	int rc;

	if (r && r->action == ES_ACT_DROP)
		return ES_CNT_RULE_DROP;
	rte_pktmbuf_adj(m, c->inner_off);
	if (rte_pktmbuf_pkt_len(m) > c->in.ip_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - c->in.ip_len));
	if (c->path == P_DL_APP) {
		/* routed from the app network into the tunnel: RFC 4291
		 * §2.5.6, a link-local source stays on its link */
		if (unlikely(c->in.v6 &&
			     ip6_link_scope(c->in.a.v6a.src, c->in.a.v6a.dst)))
			return ES_CNT_IP6_LINK_SCOPE;
		rc = es_ip_dec_ttl(rte_pktmbuf_mtod(m, uint8_t *), c->in.v6);
		if (unlikely(rc == ES_CNT_TTL))
			return time_exceeded_dl(w, c);
		if (rc == 0)
			rc = to_gnb(w, t, m, s, ES_GTP_GPDU, true, s->qfi);
		if (rc == 0)
			w->cnt[ES_CNT_DL_ENCAP]++;
	} else {
		/* TS 38.415: every downlink G-PDU to the gNB carries a DL
		 * PDU Session Container; the cloud's QFI is kept */
		rc = to_gnb(w, t, m, s, ES_GTP_GPDU, true,
			    c->g.has_psc ? c->g.qfi : s->qfi);
		if (rc == 0)
			w->cnt[ES_CNT_DL_RELAY]++;
	}
	return rc ? rc : CONSUMED;
}

static int act_end_marker(struct es_worker *w, const struct es_tables *t, struct pctx *c,
			  const struct es_session *s)
{
	struct rte_mbuf *m = c->m;
	int rc;
	rte_pktmbuf_adj(m, (uint16_t)(c->o.l4_off + 8 + c->g.hdr_len));
	rte_pktmbuf_trim(m, (uint16_t)rte_pktmbuf_pkt_len(m));
	rc = to_gnb(w, t, m, s, ES_GTP_END_MARKER, false, 0);
	if (rc)
		return rc;
	w->cnt[ES_CNT_END_MARKER_RELAY]++;
	return CONSUMED;
}

/* The packets of a burst that look up one session index. */
enum { KS_UE6, KS_MAX };
struct keyset {
	uint16_t n;
	uint16_t ci[ES_BURST];          /* index into the burst's pctx */
	const void *keys[ES_BURST];
	/* the keys themselves, 8-byte aligned: rte_hash_crc reads a key
	 * 8 bytes at a time (an aligned load of uint64_t), and the IPv6 /64
	 * inside struct es_inner sits at an offset of 4 mod 8 */
	uint64_t k8[ES_BURST];
};

static void lookup_bulk(const struct rte_hash *h, struct keyset *k,
			struct pctx *c)
{
	void *data[ES_BURST];
	uint64_t hits = 0;
	if (k->n == 0)
		return;
	rte_hash_lookup_bulk_data(h, k->keys, k->n, &hits, data);
	for (uint16_t j = 0; j < k->n; j++)
		c[k->ci[j]].sess = (hits >> j) & 1 ? (uint32_t)(uintptr_t)data[j]
						   : UINT32_MAX;
}

static inline void drop(struct es_worker *w, struct rte_mbuf **dq,
			uint16_t *nd, struct rte_mbuf *m, int reason)
{
	w->cnt[reason]++;
	dq[(*nd)++] = m;
}

/* The 4-byte session index of a parsed packet and its key, or NULL for a
 * downlink IPv6 packet (its /64 goes through by_ue6). */
static inline const struct es_sidx *sess_index(const struct es_tables *t,
					       const struct pctx *p, uint32_t *key)
{
	switch (p->path) {
	case P_UL:
		*key = p->g.teid;
		return t->by_ul_teid;
	case P_DL_APP:
		if (p->in.v6)
			return NULL;
		*key = p->in.a.v4.dst_be;
		return t->by_ue4;
	default: /* P_DL_CLOUD, P_END_MARKER */
		*key = p->g.teid;
		return t->by_n9_teid;
	}
}

/*
 * Session lookups by 4-byte key run this many packets behind phase 1's
 * parsing: the index entry prefetched for a packet has arrived by then,
 * and the session it names is prefetched most of a burst before phase 2
 * reads it (anti-spoofing). With the lookups all in phase 2 the session
 * arrived late: A/B at the target point, the loop that reads it took
 * 10-11 cycles a packet against 6-7 in every quiet run, and in the
 * quietest pair the own stages of the relay went 74.6 -> 68.9 and of
 * local breakout 108.3 -> 104.5. At 4 the lookups waited for the index
 * entry instead (parse +7, classify -7). 16, not 8: how far ahead is
 * counted in packets, but what must cover a DRAM line (~250 cycles on
 * the Zen 5 VM, es-memlat) is the parsing in between, and a plain IPv4
 * packet from a local app parses in half the time of a G-PDU. Runs on
 * a core of its own (es-coreprobe around each, docs/perf.md), undisturbed
 * own stages, medians of 8-10: downlink encap with its sessions in
 * random order 86.1 -> 79.7, local breakout 107.4 -> 106.0, the relay
 * in random order 84.5 -> 83.4, in order 72.5 -> 70.9.
 */
#ifndef ES_SESS_AHEAD   /* -DES_SESS_AHEAD=N for an A/B build (at most ES_BURST - 1) */
#define ES_SESS_AHEAD 16
#endif
_Static_assert(ES_SESS_AHEAD > 0 && ES_SESS_AHEAD < ES_BURST, "a lookahead within a burst");

/*
 * Prefetch both cache lines session s may span: a 40-byte session at a
 * random slot crosses a line half the time, and the fields a path reads
 * (UE address and cloud F-TEID on uplink, gNB F-TEID and QFI on downlink)
 * lie on both sides. When consecutive packets go to consecutive sessions
 * the next line holds the next session and arrives anyway, which hid the
 * second line; with the sessions in random order (docs/perf.md, "Sessions
 * in random order") every one of twelve A/B pairs was faster with both
 * lines prefetched (own stages, e.g. dl_encap 112.8 -> 89.3, ul_cloud
 * 97.6 -> 81.9, ul_local 133.2 -> 114.7), and in order it changed
 * nothing (98.1 -> 97.7). When s does not cross a line, the second
 * prefetch names the same line as the first.
 */
static inline void sess_prefetch(const struct es_session *s)
{
	rte_prefetch0(s);
	rte_prefetch0((const char *)s + sizeof(*s) - 1);
}

/* The session slot of c[i] from its 4-byte index (IPv6 /64 keys: the
 * bulk lookup of phase 2) and a prefetch of the session. */
static inline void sess_find(const struct es_tables *t, struct pctx *c,
			     const struct es_sidx *const *sx, const uint32_t *skey,
			     const uint32_t *shome, uint16_t i)
{
	uint32_t sl;
	if (sx[i] == NULL)
		return;
	sl = es_sidx_lookup_at(sx[i], skey[i], shome[i]);
	c[i].sess = sl;
	if (sl < t->sess_cap)
		sess_prefetch(&t->sessions[sl]);
}

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

void es_process_burst(struct es_worker *w, const struct es_tables *t,
		      uint8_t in_port, struct rte_mbuf **pkts, uint16_t n)
{
	struct pctx c[ES_BURST];
	struct rte_mbuf *dq[ES_BURST];
	struct keyset ks[KS_MAX];
	/* phase 3 keys by family and direction (g = 2 * v6 + dl) */
	const uint8_t *kg[4][ES_BURST];
	uint32_t rg[4][ES_BURST];
	uint16_t cg[4][ES_BURST], ng[4] = { 0, 0, 0, 0 };
	const struct es_sidx *sx[ES_BURST];
	uint32_t skey[ES_BURST], shome[ES_BURST];
	uint16_t nc = 0, nd = 0, nl = 0;   /* nl: session lookups done */
	uint16_t n6 = 0;                   /* IPv6 /64 lookups for phase 2 */
	/* the burst's rx time, read by the worker as the burst returned: one
	 * TSC read less a burst (a read costs ~25-40 cycles here) */
	uint64_t tsc = w->last_rx_tsc, t1 = 0, t2 = 0;

	for (int k = 0; k < KS_MAX; k++)
		ks[k].n = 0;

	w->cnt[ES_CNT_RX] += n;
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(pkts[i]);
	for (uint16_t i = 0; i < n && i < ES_PF_DATA; i++)
		pkt_prefetch(pkts[i]);
	/* phase 1: outer, path management, inner */
	for (uint16_t i = 0; i < n; i++) {
		int rc;
		if (i + ES_PF_DATA < n)
			pkt_prefetch(pkts[i + ES_PF_DATA]);
		c[nc].m = pkts[i];
		rc = stage_outer(w, in_port, &c[nc], tsc);
		if (rc == CONSUMED)
			continue;
		if (rc) {
			drop(w, dq, &nd, c[nc].m, rc);
			continue;
		}
		/* the session index position, prefetched now, read
		 * ES_SESS_AHEAD packets later (below), when it names the
		 * session to prefetch for phase 2 */
		sx[nc] = sess_index(t, &c[nc], &skey[nc]);
		if (sx[nc] != NULL) {
			shome[nc] = es_sidx_home(sx[nc], skey[nc]);
			rte_prefetch0(&sx[nc]->e[shome[nc]]);
		} else {
			n6++;
		}
		nc++;
		if (nc > ES_SESS_AHEAD)
			sess_find(t, c, sx, skey, shome, nl++);
	}

	if (w->timing)
		t1 = rte_rdtsc();
	/* phase 2: sessions. 4-byte keys: their home positions were
	 * prefetched in phase 1; IPv6 prefixes: one bulk lookup */
	if (unlikely(n6 != 0)) {
		for (uint16_t i = 0; i < nc; i++) {
			if (sx[i] == NULL) {
				struct keyset *k = &ks[KS_UE6];
				memcpy(&k->k8[k->n], c[i].in.a.v6a.dst, 8);
				k->keys[k->n] = &k->k8[k->n];
				k->ci[k->n++] = i;
			}
		}
		lookup_bulk(t->by_ue6, &ks[KS_UE6], c);
		for (uint16_t j = 0; j < ks[KS_UE6].n; j++)
			if (c[ks[KS_UE6].ci[j]].sess < t->sess_cap)
				sess_prefetch(&t->sessions[c[ks[KS_UE6].ci[j]].sess]);
	}
	for (uint16_t i = nl; i < nc; i++)   /* the last ES_SESS_AHEAD */
		sess_find(t, c, sx, skey, shome, i);
	for (uint16_t i = 0; i < nc; i++) {
		struct pctx *p = &c[i];
		bool found = p->sess != UINT32_MAX;
		if (!found || p->sess >= t->sess_cap) {
			uint8_t path = p->path;
			p->path = 0xff;
			if (path == P_DL_APP) {
				drop(w, dq, &nd, p->m, ES_CNT_DL_NO_SESSION);
			} else if (path == P_END_MARKER) {
				drop(w, dq, &nd, p->m, ES_CNT_GTP_TEID_UNKNOWN);
			} else {
				/* TS 29.281 §7.3.1: Error Indication back to
				 * the sender (rate-limited); the G-PDU itself
				 * is dropped and counted */
				w->cnt[ES_CNT_GTP_TEID_UNKNOWN]++;
				if (es_path_errind(w, in_port, p->m, &p->o, &p->g) != 1)
					dq[nd++] = p->m;
			}
			continue;
		}
		if (p->path == P_UL) {
			const struct es_session *s = &t->sessions[p->sess];
			/* an IPv6 UE's link-local source is its own too
			 * (ip6_ue_link_local); routable keeps it off the
			 * apps' network */
			bool ok = p->in.v6 ?
				s->has_ue6 && (memcmp(p->in.a.v6a.src, s->ue6, 8) == 0 ||
					       ip6_ue_link_local(p->in.a.v6a.src)) :
				s->has_ue4 && p->in.a.v4.src_be == s->ue4_be;
			if (!ok) {
				p->path = 0xff;
				drop(w, dq, &nd, p->m, ES_CNT_SPOOF);
				continue;
			}
		}
		if (p->path == P_END_MARKER) {
			p->rule = 0;
			continue;
		}
		/* phase 3 input, unless no live rule can match the
		 * destination (the pre-filter: most traffic goes to the
		 * cloud region and matches none) */
		if (!es_dfilt_may(t, p->in.v6, p->in.v6 ? p->in.a.v6a.dst
							: (const uint8_t *)&p->in.a.v4.dst_be)) {
			p->rule = 0;
			continue;
		}
		build_key(p, &t->sessions[p->sess]);
		{
			unsigned int g = 2u * p->in.v6 + (p->path != P_UL);
			kg[g][ng[g]] = (const uint8_t *)&p->key;
			cg[g][ng[g]++] = i;
		}
		p->rule = 0;
	}

	/* phase 3: classify, a call per family and direction present */
	for (unsigned int g = 0; g < 4; g++) {
		if (ng[g] == 0)
			continue;
		es_classify_rules_dir(t, (int)(g >> 1), (int)(g & 1), kg[g], rg[g], ng[g]);
		for (uint16_t j = 0; j < ng[g]; j++)
			c[cg[g][j]].rule = rg[g][j];
	}

	if (w->timing)
		t2 = rte_rdtsc();
	/* phase 4: actions */
	for (uint16_t i = 0; i < nc; i++) {
		struct pctx *p = &c[i];
		const struct es_session *s;
		const struct es_rule *r;
		int rc;
		if (p->path == 0xff)
			continue;
		s = &t->sessions[p->sess];
		/* a table result is bounded before it indexes */
		r = p->rule && p->rule <= t->n_slots ? &t->rules[p->rule - 1] : NULL;
		switch (p->path) {
		case P_UL:
			rc = act_uplink(w, t, p, s, r);
			break;
		case P_END_MARKER:
			rc = act_end_marker(w, t, p, s);
			break;
		default:
			rc = act_downlink(w, t, p, s, r);
			break;
		}
		if (rc != CONSUMED)
			drop(w, dq, &nd, p->m, rc);
	}
	if (nd)
		rte_pktmbuf_free_bulk(dq, nd);
	if (w->timing) {
		uint64_t t3 = rte_rdtsc();
		w->stage[ES_ST_PARSE] += t1 - tsc;
		w->stage[ES_ST_CLASSIFY] += t2 - t1;
		w->stage[ES_ST_ACTION] += t3 - t2;
	}
}

void es_worker_flush(struct es_worker *w)
{
	for (uint16_t p = 0; p < es_n_ports; p++)
		if (w->qid < es_ports[p].nb_queues)
			rte_eth_tx_buffer_flush(es_ports[p].port_id, w->qid, w->txb[p]);
}

/* tx buffer error callback: what tx_burst refused is freed, moved from
 * 'tx' to 'drop_tx_full' */
static void tx_refused(struct rte_mbuf **pkts, uint16_t unsent, void *arg)
{
	struct es_worker *w = arg;
	rte_pktmbuf_free_bulk(pkts, unsent);
	w->cnt[ES_CNT_TX] -= unsent;
	w->cnt[ES_CNT_TX_FULL] += unsent;
}

int es_worker_init(struct es_worker *w, unsigned int lcore, uint16_t qid)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	uint64_t hz = rte_get_tsc_hz();
	memset(w, 0, sizeof(*w));
	w->lcore = lcore;
	w->qid = qid;
	w->rcu_id = qid;
	for (uint16_t p = 0; p < es_n_ports; p++) {
		/* room for what a round usually sends a port (a burst, and
		 * as many mirror copies), so that the tx bursts happen in the
		 * end-of-round flush and count as tx, not action; a buffer
		 * that fills still sends at once */
		w->txb[p] = rte_zmalloc_socket("es_txb",
			RTE_ETH_TX_BUFFER_SIZE(ES_TXB), 0, socket);
		if (w->txb[p] == NULL)
			return -1;
		rte_eth_tx_buffer_init(w->txb[p], ES_TXB);
		/* packets a full queue refuses are freed and counted */
		rte_eth_tx_buffer_set_err_callback(w->txb[p], tx_refused, w);
	}
	if (es_frag_init(&w->frag, es_set.frag_max, es_frag_mbufs(),
			 hz / 1000 * es_set.frag_timeout_ms, socket))
		return -1;
	w->ei_period = es_set.errind_rate ? hz / es_set.errind_rate : 0;
	w->ei_tokens = es_set.errind_rate;
	w->ei_last = rte_rdtsc();
	w->te_period = es_set.icmp_rate ? hz / es_set.icmp_rate : 0;
	w->te_tokens = es_set.icmp_rate;
	w->te_last = w->ei_last;
	w->last_rx_tsc = rte_rdtsc();
	return 0;
}

int es_worker_main(void *arg)
{
	struct es_worker *w = arg;
	struct rte_mbuf *pkts[ES_BURST];
	/* reassembly's expiry every 10 ms: a walk from the oldest entry
	 * that stops at the first one still in time, so it costs nothing
	 * while nothing expires; each call frees at most
	 * ES_FRAG_EXPIRE_PASSES death rows (frag.h) */
	uint64_t expire_period = rte_get_tsc_hz() / 100, next_expire = 0;

	rte_rcu_qsbr_thread_register(es_rcu, w->rcu_id);
	rte_rcu_qsbr_thread_online(es_rcu, w->rcu_id);
	while (!es_quit) {
		const struct es_tables *t =
			__atomic_load_n(&es_tables_live, __ATOMIC_ACQUIRE);
		uint64_t t_rx[ES_MAX_PORTS], tsc, t0 = 0;
		uint32_t n_tx[ES_MAX_PORTS];
		uint16_t nb = 0;
		/* --stage-cycles[=N]: this round timed or not */
		if (es_stage_cycles && ++w->stage_seq >= es_stage_every) {
			w->stage_seq = 0;
			w->timing = 1;
		} else {
			w->timing = 0;
		}
		for (uint16_t p = 0; p < es_n_ports; p++) {
			uint64_t tx_before;
			uint16_t n;
			if (w->qid >= es_ports[p].nb_queues)
				continue;
			if (w->timing)
				t0 = rte_rdtsc();
			n = rte_eth_rx_burst(es_ports[p].port_id, w->qid, pkts,
					     ES_BURST);
			if (n == 0)
				continue;
			w->last_rx_tsc = rte_rdtsc();
			if (w->timing) {
				w->stage[ES_ST_RX] += w->last_rx_tsc - t0;
				w->stage_pkts += n;
			}
			tx_before = w->cnt[ES_CNT_TX];
			es_process_burst(w, t, (uint8_t)p, pkts, n);
			t_rx[nb] = w->last_rx_tsc;
			n_tx[nb++] = (uint32_t)(w->cnt[ES_CNT_TX] - tx_before);
		}
		/* End Markers from the control thread (a session's gNB
		 * changed): worker 0 sends them */
		if (w->qid == 0 && unlikely(!rte_ring_empty(es_ctl_tx))) {
			struct rte_mbuf *cm[8];
			unsigned int k = rte_ring_sc_dequeue_burst(es_ctl_tx,
				(void **)cm, RTE_DIM(cm), NULL);
			for (unsigned int i = 0; i < k; i++) {
				if (cm[i]->port >= es_n_ports) {
					rte_pktmbuf_free(cm[i]);
					continue;
				}
				w->cnt[ES_CNT_END_MARKER_TX]++;
				es_tx(w, (uint8_t)cm[i]->port, cm[i]);
			}
		}
		/* flush every round: latency over batching; a buffer that
		 * filled has already been sent by rte_eth_tx_buffer */
		if (w->timing)
			t0 = rte_rdtsc();
		es_worker_flush(w);
		/* one TSC read for the latencies and the expiry below */
		tsc = rte_rdtsc();
		if (nb) {
			/* rx -> tx of every packet sent this round: from the
			 * return of its rx burst to the return of the flush (an
			 * upper bound for packets a full buffer sent earlier) */
			if (w->timing)
				w->stage[ES_ST_TX] += tsc - t0;
			for (uint16_t b = 0; b < nb; b++)
				if (n_tx[b])
					es_lat_add(&w->lat, tsc - t_rx[b], n_tx[b]);
		}
		if (tsc >= next_expire) {
			es_frag_expire(&w->frag, tsc, w->cnt);
			next_expire = tsc + expire_period;
		}
		rte_rcu_qsbr_quiescent(es_rcu, w->rcu_id);
	}
	es_worker_flush(w);
	rte_rcu_qsbr_thread_offline(es_rcu, w->rcu_id);
	rte_rcu_qsbr_thread_unregister(es_rcu, w->rcu_id);
	return 0;
}

void es_dataplane_setup(void)
{
	unsigned int lcore, q = 0;

	es_pool = es_mem_pktmbuf_pool_create("es_pool", es_set.mbufs, 256,
		(uint16_t)(es_set.mbuf_size + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
	if (es_pool == NULL)
		rte_exit(EXIT_FAILURE,
			 "cannot create a pool of %u mbufs of %u bytes: %s (raise EAL -m or lower 'set mbufs')\n",
			 es_set.mbufs, es_set.mbuf_size, rte_strerror(rte_errno));
	for (uint16_t p = 0; p < es_n_ports; p++)
		if (es_port_init(&es_ports[p], (uint16_t)es_n_workers, es_pool))
			rte_exit(EXIT_FAILURE, "port set-up failed\n");
	es_ctl_tx = rte_ring_create("es_ctl_tx", 1024, (int)rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (es_ctl_tx == NULL)
		rte_exit(EXIT_FAILURE, "cannot create the control tx ring: %s\n",
			 rte_strerror(rte_errno));
	/* workers, and one reader off the data path (es_rcu_reader_id) */
	es_rcu = rte_zmalloc("es_rcu", rte_rcu_qsbr_get_memsize(es_n_workers + 1),
			     RTE_CACHE_LINE_SIZE);
	if (es_rcu == NULL || rte_rcu_qsbr_init(es_rcu, es_n_workers + 1))
		rte_exit(EXIT_FAILURE, "cannot create the RCU variable\n");
	es_workers = rte_zmalloc("es_workers", es_n_workers * sizeof(*es_workers),
				 RTE_CACHE_LINE_SIZE);
	if (es_workers == NULL)
		rte_exit(EXIT_FAILURE, "out of memory for worker state\n");
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (es_worker_init(&es_workers[q], lcore, (uint16_t)q))
			rte_exit(EXIT_FAILURE, "worker %u: out of memory (tx buffers, reassembly table)\n", q);
		q++;
	}
}

void es_workers_launch(void)
{
	for (unsigned int q = 0; q < es_n_workers; q++)
		rte_eal_remote_launch(es_worker_main, &es_workers[q], es_workers[q].lcore);
}
