/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The burst pipeline's shared contract: the per-packet context every
 * stage reads and writes, the verdict (next) each packet ends in, the
 * burst's drops, and the hook points between stages.
 *
 * Stages, in the order packets flow (docs/architecture.md):
 *   ingress.h     Ethernet, outer IP/UDP, dispatch by kind; GTP-U and
 *                 inner parse (parse.c)
 *   frag.c        outer reassembly (called from ingress)
 *   lookup.h      session lookup and anti-spoofing
 *   classify.h/.c key building and the rule classification
 *   act_uplink.h  uplink: local breakout, relay to the cloud, mirror
 *   act_downlink.h downlink: encapsulation toward the gNB, N9 relay,
 *                 End Marker relay
 *   act_path.c    host and GTP-U path management replies, ICMP errors
 *   tx.h          the one exit: transmit, or count the drop and free
 *   pipeline.c    es_process_burst: the burst through the stages in
 *                 phases, each verdict to the exit
 *   worker.c      the loop: rx a burst per port, es_process_burst, flush
 *
 * The stages are static inline and compiled into one unit (pipeline.c),
 * as l3fwd includes its per-method headers: no call per packet between
 * stages, no function pointers.
 */
#ifndef ES_PIPELINE_H
#define ES_PIPELINE_H

#include <stdint.h>
#include <rte_mbuf.h>
#include "es.h"
#include "parse.h"
#include "classify.h"
#include "encap.h"

/*
 * A verdict: where a packet goes next. A stage that finishes with a
 * packet returns exactly one and sends, frees and counts nothing; the
 * burst loop (pipeline.c) hands it to the exit (tx.h), the only place that
 * transmits, frees or raises the drop counter.
 *   0 .. ES_MAX_PORTS-1   queue for tx on that config port
 *   ES_NEXT_HELD          the reassembly table holds it (frag.c)
 *   ES_NEXT_ON            not finished: on to the next stage
 *   ES_NEXT_DROP(c)       drop and count it under DROP counter c
 */
typedef uint32_t es_next_t;
#define ES_NEXT_HELD      ((es_next_t)0x4000)
#define ES_NEXT_ON        ((es_next_t)0x4001)
#define ES_NEXT_DROP_BIT  ((es_next_t)0x8000)
#define ES_NEXT_DROP(c)   ((es_next_t)(ES_NEXT_DROP_BIT | (c)))
#define ES_NEXT_IS_TX(n)  ((n) < ES_MAX_PORTS)
_Static_assert(ES_MAX_PORTS < ES_NEXT_HELD, "ports below the other verdicts");
_Static_assert(ES_CNT_MAX < ES_NEXT_DROP_BIT, "a counter id fits a drop verdict");

/* The path a parsed packet takes (set by ingress). */
enum es_path { ES_P_UL, ES_P_DL_APP, ES_P_DL_CLOUD, ES_P_END_MARKER };

/* One packet in the pipeline. */
struct es_pkt {
	struct rte_mbuf *m;
	struct es_outer o;
	struct es_gtpu g;
	struct es_inner in;
	uint16_t inner_off;   /* from the frame start */
	uint16_t hk_app;      /* hook_points.h: the app of a hook's STEER_APP */
	es_next_t next;       /* ES_NEXT_ON until a stage gives a verdict */
	uint8_t path;         /* enum es_path */
	uint8_t in_port;
	uint8_t hk_act;       /* hook_points.h: 0, or the action (enum es_act)
			       * a hook's STEER_APP / TO_CLOUD chose; set in a
			       * burst with hooks only */
	uint32_t sess;
	uint32_t rule;        /* rule slot + 1, 0: none */
	union {
		struct es_key4 k4;
		struct es_key6 k6;
	} key;
};

/*
 * The burst's drops, freed together at the end of the burst by the exit
 * (tx.h): at most one per received packet and one per mirror copy.
 */
struct es_drops {
	uint16_t n;
	struct rte_mbuf *m[2 * ES_BURST];
};

/*
 * Hook points: the stage boundaries where eBPF programs attached with
 * `steerctl hook attach` run (hook_points.h, docs/ebpf.md "Where the
 * hooks run"): es_hook_parsed after parse, es_hook_classified before the
 * action, es_hook_tx before tx; a program's verdict becomes the
 * packet's next. With no program attached they are compiled out of the
 * burst's pipeline (pipeline.c: one load and one branch a burst).
 */

/* Helpers the stages share. */

/* IPv6 addresses a router keeps on their link (RFC 4291 §2.5.6, §2.7):
 * a link-local unicast source (fe80::/10), or a link-local unicast or an
 * interface- or link-scope multicast destination. */
static inline bool ip6_link_scope(const uint8_t *src, const uint8_t *dst)
{
	return (src[0] == 0xfe && (src[1] & 0xc0) == 0x80) ||
	       (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80) ||
	       (dst[0] == 0xff && (dst[1] & 0x0f) <= 2);
}

/* The first address of v6's family of port p (network order), or NULL. */
static inline const uint8_t *port_src(uint8_t p, bool v6)
{
	const struct es_port *pt = &es_ports[p];
	if (v6)
		return pt->has6 ? pt->src6 : NULL;
	return pt->has4 ? pt->src4 : NULL;
}

/* Downlink toward the gNB of s: m starts at the inner IP packet. Returns
 * the gNB's port, or ES_NEXT_DROP(c) when the headers do not fit.
 * (Always inlined: with the Time Exceeded as a fourth caller the compiler
 * made it a call, 49 instructions a packet more on downlink encap.) */
static inline __attribute__((always_inline)) es_next_t
to_gnb(const struct es_tables *t, struct rte_mbuf *m,
       const struct es_session *s, uint8_t type, bool psc, uint8_t qfi)
{
	const struct es_peer *gnb = &t->peers[s->gnb];
	int rc = es_push_gtpu_tpl(m, type, s->gnb_teid, psc, qfi,
				  &es_ports[gnb->port], &t->tpls[s->gnb]);
	return rc == 0 ? gnb->port : ES_NEXT_DROP(rc);
}

struct es_worker;
/* Process one received burst from config port index in_port (pipeline.c:
 * the stages, each packet to its one exit, tx.h). Sends what
 * is to be sent through w's tx buffers and frees the rest; counts every
 * packet's fate. w->last_rx_tsc is the burst's rx time (reassembly and
 * the stage timing start from it). Exposed for tests. */
void es_process_burst(struct es_worker *w, const struct es_tables *t,
		      uint8_t in_port, struct rte_mbuf **pkts, uint16_t n);

#endif
