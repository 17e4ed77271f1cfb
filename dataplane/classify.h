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
#include <string.h>
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
 * The rte_acl classify method of the contexts es_acl_build makes, from
 * 'set acl-simd BITS': 0 (scalar), 128 (SSE4.1), 256 (AVX2), 512 (AVX-512,
 * 32 keys at a time) or ES_ACL_SIMD_AUTO: the fastest method on this
 * core, measured on a probe rule set (256 rules of protocol, /24
 * destination and destination port, 2048 matching keys in bursts of
 * ES_BURST; each method timed 16 times, interleaved, fastest pass
 * kept; a few milliseconds). The widest method is not always the
 * fastest: on AMD Zen 1, which splits 256-bit operations in two, SSE
 * classifies in ~55 cycles a packet where AVX2 takes ~82 (docs/perf.md).
 * DPDK caps SIMD at 256 bits unless EAL is given --force-max-simd-bitwidth
 * (AVX-512 slows the clock of some older Intel cores); AUTO and 512 lift
 * the cap to 512 where the CPU has AVX-512 and the EAL option did not set
 * it. Call at start-up, before any build; tests call it between builds.
 * Returns 0, or -1 with a one-line reason in err (BITS not one of those,
 * or not available on this CPU under the EAL's cap); the method in use
 * is then unchanged.
 */
#define ES_ACL_SIMD_AUTO UINT32_MAX
int es_acl_setup(uint32_t bits, char err[ES_ERR_MAX]);

/*
 * What the last es_acl_setup(AUTO) measured: "name cycles" per method that
 * ran, comma-separated ("scalar 87.1, sse 55.0, avx2 82.3"), or with json
 * '"name": cycles' pairs for an object. Returns how many methods it wrote;
 * 0 (buf empty) when the method was set by width, not measured.
 */
int es_acl_probe(char *buf, size_t len, int json);

/* The method in use: "avx512x32", "avx2", "sse", "scalar", or "default"
 * (rte_acl's own choice: es_acl_setup not called). */
const char *es_acl_method(void);

/*
 * Build the base contexts (struct es_acl: IPv4 and IPv6, uplink and
 * downlink) over the n rules defs[idx[i]] (any order; each rule's
 * priority is its PRIO); a result is idx[i] + 1. A rule goes into the
 * contexts of its family (both without an address) and direction (both
 * for ES_DIR_ANY); a context no rule goes into is NULL. socket: the NUMA
 * socket of the contexts. Thread safety: touches no shared state but
 * the DPDK heap and the rte_acl list (both locked), so the control
 * thread and a background build thread may call it at once. Returns 0
 * with *out filled, or -1 with a one-line reason in err (nothing left
 * allocated, *out untouched).
 */
int es_acl_build(const struct es_cmd_rule *defs, const uint32_t *idx, uint32_t n,
		 int socket, struct es_acl *out, char err[ES_ERR_MAX]);

/* Sort rules[0..n) and defs[0..n) (the same rules, es_tables.rules and
 * rule_defs) together by PRIO. -1: out of memory (nothing changed). */
int es_rules_sort(struct es_rule *rules, struct es_cmd_rule *defs, uint32_t n);

/* Free the contexts of a (NULL ones skipped) and set them NULL. */
void es_acl_free(struct es_acl *a);

/*
 * The delta D: rules changed since the base was built, in a tuple space
 * (one hash per rule shape), so that its cost per packet grows with the
 * number of shapes, not of rules. rules.c builds and changes it; workers
 * only read it.
 *
 * A rule compiles, per address family, to value and mask words over the
 * key layout above (es_rule_key). Rules with the same mask (and the same
 * kind of port match) share a tuple; a node per rule and family sits in
 * one bucket array shared by all tuples, at hash(key & tuple mask, tuple
 * id), in a chain sorted by PRIO (best first). Port ranges that are not
 * a single port or the whole range are left out of the mask and checked
 * per node. Shapes past ES_TSS_HASHED per family go to one more tuple
 * whose nodes all hash to one chain (still correct, linear in its size).
 *
 * Nodes change while workers read them, under two rules: a node is
 * linked only once filled (release store), and a node a worker may see
 * is changed only in del_gen; generations make a whole batch of changes
 * appear at once: a worker reading a table set of generation G (rgen)
 * counts a node only when add_gen <= G < del_gen, and a base result b
 * only when kill[b - 1] > G. Every write of del_gen or kill leaves the
 * answer at every published G as it was; only publishing G + 1 changes
 * it. Unlinked nodes are reused after an RCU grace period.
 */
#define ES_TSS_HASHED 32
#define ES_GEN_NEVER  UINT64_MAX

struct es_dn {
	struct es_dn *next;        /* chain, PRIO order (best first) */
	uint32_t prio;
	uint32_t res;              /* slot + 1 */
	uint16_t tup;              /* tuple id */
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;   /* host order */
	uint8_t linked;            /* control thread only */
	uint8_t v6;                /* control thread only */
	uint64_t add_gen, del_gen;
	uint64_t val[7], msk[7];   /* val is masked */
	struct es_dn *lnext;       /* control thread only: reuse list */
};

struct es_tup {
	uint64_t msk[7];
	uint32_t minp;             /* no node of the tuple has a lower PRIO */
	uint16_t id;
	uint8_t ranges;            /* nodes' port ranges must be checked */
	uint8_t lin;               /* the catch-all tuple: one chain */
};

/* Published with a table set, immutable: the tuples of each family in
 * minp order, IPv4 t[0..n4), IPv6 t[n4..n4+n6); bkt is the shared,
 * changing bucket array (bmask + 1 heads). */
struct es_tss {
	uint32_t n4, n6;
	uint32_t bmask;
	struct es_dn **bkt;
	struct es_tup t[];
};

/* Key words of rule r for family v6 (4 for IPv4, 7 for IPv6 used; the
 * rest 0): val (masked) and msk over the key bytes. Ports enter the mask
 * only when single (lo == hi); *ranges is 1 when a port range other than
 * 0-65535 must be checked per node. */
void es_rule_key(const struct es_cmd_rule *r, int v6, uint64_t val[7],
		 uint64_t msk[7], int *ranges);

/* Key words of a family: 4 for IPv4, 7 for IPv6. */
static inline unsigned int es_key_words(int v6)
{
	return v6 ? (sizeof(struct es_key6) + 7) / 8 : (sizeof(struct es_key4) + 7) / 8;
}

/* Hash of the masked key words m (words of them) in tuple id; the
 * catch-all tuple (lin) hashes no words, so all its nodes share a chain.
 * Workers and rules.c place a node with the same call. */
uint32_t es_tss_hash(const uint64_t *m, unsigned int words, uint16_t id, int lin);

/*
 * The destination pre-filter: most packets (everything bound to the cloud
 * region) match no rule, and rte_acl costs as much to say so as to find a
 * match. A bit per destination bucket (IPv4: the /16; IPv6: a hash of the
 * first 32 bits) says whether a live rule of the family may match a
 * packet to it; wild[f] is non-zero while a live rule of family f has no
 * destination prefix long enough to place (IPv4 shorter than /12, IPv6
 * shorter than /32, or none), and then every packet is classified. A
 * packet whose bucket bit is clear skips both the base and the delta: no
 * live rule matches it. rules.c keeps it: a bit is set before a rule that
 * needs it is published and cleared only once no published generation
 * has such a rule, so a worker never skips a packet a rule of its
 * generation matches. Shared by every table set; workers only read it.
 */
#define ES_DF_BUCKETS 65536

struct es_dfilt {
	uint32_t wild[2];
	uint64_t bits[2][ES_DF_BUCKETS / 64];
};

/* The bucket of a destination address (network order; 4 or 16 bytes). */
static inline uint32_t es_df_bucket(int v6, const uint8_t *dst)
{
	uint32_t x;
	if (!v6)
		return (uint32_t)dst[0] << 8 | dst[1];
	memcpy(&x, dst, 4);
	return (x * 0x9e3779b1u) >> 16;
}

/* May a live rule of t match a packet of family v6 to dst? 1 when t has
 * no filter. */
static inline int es_dfilt_may(const struct es_tables *t, int v6, const uint8_t *dst)
{
	const struct es_dfilt *f = t->dfilt;
	uint32_t b;
	if (f == NULL || __atomic_load_n(&f->wild[v6], __ATOMIC_RELAXED))
		return 1;
	b = es_df_bucket(v6, dst);
	return (int)(__atomic_load_n(&f->bits[v6][b >> 6], __ATOMIC_RELAXED) >> (b & 63) & 1);
}

/* Rule families: 1 IPv4 only, 2 IPv6 only, 3 both (no address). */
int es_rule_fams(const struct es_cmd_rule *r);

/* Merge the delta of t into the base results res[0..n) of keys (see
 * es_classify_rules). Out of line: only runs while a delta or a dead
 * base rule exists. */
void es_classify_delta(const struct es_tables *t, int v6, const uint8_t **keys,
		       uint32_t *res, uint32_t n);

/*
 * The worker's phase 3 for one family and direction (dl: 0 uplink, 1
 * downlink; every key's dir byte says the same): res[i] gets the slot + 1
 * of the live rule with the lowest PRIO that matches keys[i], or 0.
 * Without a delta (t->rules_delta 0) this is one rte_acl call and one
 * branch. Every result is within 1..t->n_slots or 0. Called by workers
 * on the table set they loaded; reads only published (immutable) data.
 */
static inline void es_classify_rules_dir(const struct es_tables *t, int v6,
					 int dl, const uint8_t **keys,
					 uint32_t *res, uint32_t n)
{
	es_classify(t->acl.c[v6][dl], keys, res, n);
	if (unlikely(t->rules_delta))
		es_classify_delta(t, v6, keys, res, n);
}

/* es_classify_rules_dir for keys of both directions (any n):
 * split by each key's dir byte. For tests and benchmarks; the worker
 * splits while it builds the keys. */
void es_classify_rules(const struct es_tables *t, int v6,
		       const uint8_t **keys, uint32_t *res, uint32_t n);

#endif
