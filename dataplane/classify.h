/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule classification with rte_acl: one context for IPv4 inner packets
 * and one for IPv6, each built from the whole rule set, classified a
 * burst at a time. A result is the rule's index + 1 (0: no rule), and is
 * bounded by the caller before it indexes the rule array.
 *
 * Keys are filled in network order, as rte_acl reads them; the rule
 * values given to rte_acl_add_rules are host order.
 */
#ifndef ES_CLASSIFY_H
#define ES_CLASSIFY_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include "es.h"

/* Byte layout read by rte_acl: the first field is one byte, the others
 * sit in 4-byte groups. */
struct es_key4 {
	uint8_t  proto;
	uint8_t  pad0[3];
	uint8_t  dir;            /* enum es_dir */
	uint8_t  qfi;
	uint8_t  dscp;
	uint8_t  pad1;
	uint32_t ue_be;
	uint32_t src_be;
	uint32_t dst_be;
	uint16_t sport_be;
	uint16_t dport_be;
	uint32_t teid_be;
} __rte_packed;

struct es_key6 {
	uint8_t  proto;
	uint8_t  pad0[3];
	uint8_t  dir;
	uint8_t  qfi;
	uint8_t  dscp;
	uint8_t  pad1;
	uint8_t  ue[8];          /* UE /64 prefix */
	uint8_t  src[16];
	uint8_t  dst[16];
	uint16_t sport_be;
	uint16_t dport_be;
	uint32_t teid_be;
} __rte_packed;

/*
 * Classify n keys (pointers) against ctx; res[i] gets the rule index + 1
 * or 0. n may be 0. ctx may be NULL (no rules of that family): all 0.
 */
void es_classify(const struct rte_acl_ctx *ctx, const uint8_t **keys,
		 uint32_t *res, uint32_t n);

/*
 * Build an IPv4 and an IPv6 context over the n rules slots[idx[i]]
 * (any order; each rule's priority is its PRIO); a result is idx[i] + 1.
 * *c4 / *c6 are NULL when no rule is of that family. socket: the NUMA
 * socket of the contexts. Thread safety: touches no shared state but
 * the DPDK heap and the rte_acl list (both locked), so the control
 * thread and a background build thread may call it at once. Returns 0,
 * or -1 with a one-line reason in err (nothing left allocated).
 */
int es_acl_build(const struct es_rule *slots, const uint32_t *idx, uint32_t n,
		 int socket, struct rte_acl_ctx **c4, struct rte_acl_ctx **c6,
		 char err[ES_ERR_MAX]);

/*
 * The delta: rules changed since the base was built, few (rules.c keeps
 * it under a cap), compiled against the key layout so that a match is a
 * masked compare of 8-byte words plus two port ranges. Rules of each
 * family sorted by PRIO (best first): IPv4 in r[0..n4), IPv6 in
 * r[n4..n4+n6). Immutable once published.
 */
struct es_dl {
	uint64_t val[7], msk[7];   /* over the key bytes, ports masked out */
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;   /* host order */
	uint32_t prio;
	uint32_t res;              /* slot + 1 */
};

struct es_delta {
	uint32_t n4, n6;
	struct es_dl r[];
};

/* Compile rule r (slot + 1 = res) for family v6 into *d. */
void es_dl_compile(const struct es_cmd_rule *r, int v6, uint32_t res, struct es_dl *d);

/* Rule families: 1 IPv4 only, 2 IPv6 only, 3 both (no address). */
int es_rule_fams(const struct es_cmd_rule *r);

/* Merge the delta of t into the base results res[0..n) of keys (see
 * es_classify_rules). Out of line: only runs while a delta or a
 * tombstone exists. */
void es_classify_delta(const struct es_tables *t, int v6, const uint8_t **keys,
		       uint32_t *res, uint32_t n);

/*
 * The worker's phase 3 for one family: res[i] gets the slot + 1 of the
 * live rule with the lowest PRIO that matches keys[i], or 0. Without a
 * delta (t->rules_delta 0) this is one rte_acl call and one branch.
 * Every result is within 1..t->n_slots or 0. Called by workers on the
 * table set they loaded; reads only published (immutable) data.
 */
static inline void es_classify_rules(const struct es_tables *t, int v6,
				     const uint8_t **keys, uint32_t *res,
				     uint32_t n)
{
	es_classify(v6 ? t->acl6 : t->acl4, keys, res, n);
	if (unlikely(t->rules_delta))
		es_classify_delta(t, v6, keys, res, n);
}

#endif
