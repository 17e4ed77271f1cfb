/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Action stage, path management (act_path.c): the replies the data
 * plane makes itself, each from the received mbuf (no allocation).
 *
 * Contract: each es_path_* reply function returns the packet's verdict
 * (pipeline.h): the port it goes back out of (the reply is built in m
 * and its own counter raised: arp_reply, icmp_echo, gtpu_echo_req,
 * gtpu_errind_tx), or ES_NEXT_DROP(c) with the DROP counter c that
 * says why not (m then to be freed by the exit). None sends or frees.
 * Per worker (w), no lock.
 */
#ifndef ES_ACT_PATH_H
#define ES_ACT_PATH_H

#include <stdbool.h>
#include "pipeline.h"
#include "lcore.h"

/* An ARP request for an address of in_port -> the reply. */
es_next_t es_path_arp(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		      const struct es_outer *o);
/* An IP packet to one of our addresses that is not GTP-U: ICMP / ICMPv6
 * echo request -> reply; anything else is dropped with its reason. */
es_next_t es_path_host(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		       const struct es_outer *o);
/* A GTP-U Echo Request -> Echo Response (TS 29.281 §7.2.2). */
es_next_t es_path_echo(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
		       const struct es_outer *o, const struct es_gtpu *g);
/* A G-PDU for an unknown TEID: the Error Indication back to its sender
 * (TS 29.281 §7.3.1, rate-limited: gtpu_errind_limited). Either way the
 * G-PDU itself counts in drop_gtpu_teid_unknown: raised here when the
 * reply is made, by the exit (ES_NEXT_DROP) when not. */
es_next_t es_path_errind(struct es_worker *w, uint8_t in_port, struct rte_mbuf *m,
			 const struct es_outer *o, const struct es_gtpu *g);
/* m's data is an IP packet of exactly the length in (its parse) gives,
 * whose TTL / hop limit expired as it was to be routed (not yet
 * decremented). Turns m into an ICMP Time Exceeded (RFC 792; ICMPv6
 * type 3, RFC 4443 §3.3) from src (4 or 16 bytes, network order) to the
 * packet's source: an IP packet without L2, quoting as much of the
 * packet as RFC 1812 §4.3.2.3 / RFC 4443 §2.4(c) allow and fits in room
 * bytes of IP packet (what the way back carries: a link's MTU, less a
 * tunnel's headers). Returns true when m holds it (the caller gives it
 * its verdict and counts icmp_time_exceeded_tx), false when none is to
 * be sent (src NULL, RFC 1812 §4.3.2.7 / RFC 4443 §2.4(e):
 * icmp_err_suppressed; rate limit: icmp_err_limited; icmp-rate 0:
 * nothing), m then unchanged. */
bool es_path_time_exceeded(struct es_worker *w, struct rte_mbuf *m,
			   const struct es_inner *in, const uint8_t *src,
			   uint32_t room);

#endif
