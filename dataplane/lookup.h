/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage 2, session lookup: which session a parsed packet belongs to
 * (session.c builds the tables), and uplink anti-spoofing.
 *
 * Contract: for a packet ingress left ES_NEXT_ON, sess_index() names the
 * 4-byte index and key to look up (uplink TEID, N9 TEID, or IPv4 UE
 * address; NULL: an IPv6 UE /64 for the bulk lookup, lookup_bulk);
 * sess_find() resolves p->sess (UINT32_MAX: none) and prefetches the
 * session; es_lookup_check() then gives the packet its verdict when it
 * goes no further: no session (drop, or the Error Indication reply of
 * act_path.c) or a spoofed uplink source. p->sess is bounded by
 * t->sess_cap when it returns ES_NEXT_ON. Per worker, no lock; static
 * inline, compiled into pipeline.c.
 */
#ifndef ES_LOOKUP_H
#define ES_LOOKUP_H

#include <rte_hash.h>
#include "act_path.h"
#include "pipeline.h"
#include "sidx.h"


/* An IPv6 UE's link-local address (RFC 4291 §2.5.6: fe80::/64), which it
 * uses on its PDU session before and beside its prefix (Router
 * Solicitation, TS 23.501 §5.8.2.2): accepted as an uplink source. */
static inline bool ip6_ue_link_local(const uint8_t *a)
{
	static const uint8_t ll[8] = { 0xfe, 0x80 };
	return memcmp(a, ll, 8) == 0;
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

static inline void lookup_bulk(const struct rte_hash *h, struct keyset *k,
			struct es_pkt *c)
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

/* The 4-byte session index of a parsed packet and its key, or NULL for a
 * downlink IPv6 packet (its /64 goes through by_ue6). */
static inline const struct es_sidx *sess_index(const struct es_tables *t,
					       const struct es_pkt *p, uint32_t *key)
{
	switch (p->path) {
	case ES_P_UL:
		*key = p->g.teid;
		return t->by_ul_teid;
	case ES_P_DL_APP:
		if (p->in.v6)
			return NULL;
		*key = p->in.a.v4.dst_be;
		return t->by_ue4;
	default: /* ES_P_DL_CLOUD, ES_P_END_MARKER */
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
static inline void sess_find(const struct es_tables *t, struct es_pkt *c,
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

/* After the lookup: ES_NEXT_ON, or the verdict of a packet without a
 * session or with a source that is not its session's UE. */
static inline es_next_t es_lookup_check(struct es_worker *w,
					const struct es_tables *t,
					struct es_pkt *p)
{
	if (p->sess == UINT32_MAX || p->sess >= t->sess_cap) {
		if (p->path == ES_P_DL_APP)
			return ES_NEXT_DROP(ES_CNT_DL_NO_SESSION);
		if (p->path == ES_P_END_MARKER)
			return ES_NEXT_DROP(ES_CNT_GTP_TEID_UNKNOWN);
		/* TS 29.281 §7.3.1: Error Indication back to the sender
		 * (rate-limited); the G-PDU itself counts as dropped */
		return es_path_errind(w, p->in_port, p->m, &p->o, &p->g);
	}
	if (p->path == ES_P_UL) {
		const struct es_session *s = &t->sessions[p->sess];
		/* an IPv6 UE's link-local source is its own too
		 * (ip6_ue_link_local); routable keeps it off the
		 * apps' network */
		bool ok = p->in.v6 ?
			s->has_ue6 && (memcmp(p->in.a.v6a.src, s->ue6, 8) == 0 ||
				       ip6_ue_link_local(p->in.a.v6a.src)) :
			s->has_ue4 && p->in.a.v4.src_be == s->ue4_be;
		if (!ok)
			return ES_NEXT_DROP(ES_CNT_SPOOF);
	}
	return ES_NEXT_ON;
}

#endif
