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

#endif
