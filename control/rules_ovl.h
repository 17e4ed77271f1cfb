/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The overlap index over a base rule set (rules.c invariant (2)): when a
 * base rule dies, which live base rules of a worse PRIO can a packet
 * match as well as it? A static index built once per base (on the merge
 * thread or the control thread) answers that without scanning the whole
 * base. See rules_ovl.c for the structure.
 *
 * Nothing here calls DPDK or takes a lock; an index is immutable once
 * built, so any number of threads may query one at a time, and build /
 * free run on any thread.
 */
#ifndef ES_RULES_OVL_H
#define ES_RULES_OVL_H

#include <stdint.h>
#include "es.h"

struct es_ovl;

/*
 * Can a packet match both a and b? Field by field: prefixes on their
 * common bits (the IPv6 UE on at most 64: its key holds the /64), port
 * ranges, proto/qfi/dscp/teid/dir, address family. Never 0 when some
 * packet matches both; may be 1 for a pair no packet matches both of.
 * Symmetric. Pure; any thread.
 */
int es_rules_overlap(const struct es_cmd_rule *a, const struct es_cmd_rule *b);

/*
 * Build the index over the base rules defs[idx[j]], j in [0, n): idx
 * lists the base in PRIO order and j is a rule's base position. Reads
 * defs and idx only during the call (es_ovl_query needs them again).
 * Returns the index (free with es_ovl_free), or NULL when out of memory.
 * n == 0 gives a valid, empty index. malloc only, no DPDK: any thread.
 */
struct es_ovl *es_ovl_build(const struct es_cmd_rule *defs, const uint32_t *idx, uint32_t n);

/*
 * Call fn(arg, j) for every base position j with from < j < n whose rule
 * overlaps c: exactly { j : from < j < n, es_rules_overlap(c,
 * defs[idx[j]]) }, each j once, in no particular order. A from of n - 1
 * or more (by convention from = n for "none") reports nothing. defs and
 * idx must be the arrays given to es_ovl_build, unchanged. c need not be
 * a rule of the base. fn must not free o. Cost: a few binary searches
 * plus the candidates of c's most selective address field (ue, src or
 * dst) and the rules lacking that field; a c without any address field
 * scans every j > from. Read-only on o: any thread.
 */
void es_ovl_query(const struct es_ovl *o, const struct es_cmd_rule *defs, const uint32_t *idx,
		  const struct es_cmd_rule *c, uint32_t from,
		  void (*fn)(void *arg, uint32_t j), void *arg);

/* Free an index (NULL is fine). */
void es_ovl_free(struct es_ovl *o);

#endif
