/* SPDX-License-Identifier: BSD-3-Clause */
/* The rule classifier's test reference; see rule_ref.c. */
#ifndef ES_TEST_RULE_REF_H
#define ES_TEST_RULE_REF_H

#include <stddef.h>
#include <stdint.h>
#include "classify.h"

/* A packet's classification inputs, either family. */
struct tkey {
	uint8_t v6, dir, proto, qfi, dscp;
	uint8_t src[16], dst[16];   /* network order; IPv4 in [0..3] */
	uint16_t sp, dp;
	uint32_t teid;
};

union akey {
	struct es_key4 k4;
	struct es_key6 k6;
};

/* The rte_acl key of tk, as the worker builds it (network order). */
void make_key(const struct tkey *tk, union akey *k);
/* Does rule r match k, by the grammar's meaning of each field? */
int ref_rule_matches(const struct es_cmd_rule *r, const struct tkey *k);

/* Random draws over small spaces, so that rules and keys overlap often
 * (rand(): seed with srand). */
unsigned int rnd(unsigned int n);
void rand_addr(int v6, uint8_t a[16]);
void rand_prefix(char *buf, size_t len, int v6, int is_ue);
void rand_range(char *buf, size_t len);
/* A random key of the family (v6) over the same spaces. */
void rand_key(struct tkey *k, int v6);
extern const uint16_t port_space[14];
extern const uint32_t teid_space[5];
extern const uint8_t proto_space[5];
#define N_PORTS (sizeof(port_space) / sizeof(port_space[0]))

#endif
