/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rule classifier's test reference, shared by test_classify.c (the
 * rte_acl contexts) and test_rules.c (rules changed at run time): a
 * packet's classification inputs in either family, the rte_acl key made
 * from them, a linear matcher written from the grammar's meaning of each
 * field, and the small random spaces both suites draw rules and keys from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_byteorder.h>
#include "rule_ref.h"

/* Lay tk out the way classify_burst.h (es_key_build) does: UE is inner
 * src uplink, inner dst downlink; the IPv6 UE key is the /64 prefix. */
void make_key(const struct tkey *tk, union akey *k)
{
	const uint8_t *ue = tk->dir == ES_DIR_UL ? tk->src : tk->dst;
	memset(k, 0, sizeof(*k));
	if (tk->v6) {
		struct es_key6 *k6 = &k->k6;
		k6->proto = tk->proto;
		k6->dir = tk->dir;
		k6->qfi = tk->qfi;
		k6->dscp = tk->dscp;
		memcpy(k6->ue, ue, 8);
		memcpy(k6->src, tk->src, 16);
		memcpy(k6->dst, tk->dst, 16);
		k6->sport_be = rte_cpu_to_be_16(tk->sp);
		k6->dport_be = rte_cpu_to_be_16(tk->dp);
		k6->teid_be = rte_cpu_to_be_32(tk->teid);
	} else {
		struct es_key4 *k4 = &k->k4;
		k4->proto = tk->proto;
		k4->dir = tk->dir;
		k4->qfi = tk->qfi;
		k4->dscp = tk->dscp;
		memcpy(&k4->ue_be, ue, 4);
		memcpy(&k4->src_be, tk->src, 4);
		memcpy(&k4->dst_be, tk->dst, 4);
		k4->sport_be = rte_cpu_to_be_16(tk->sp);
		k4->dport_be = rte_cpu_to_be_16(tk->dp);
		k4->teid_be = rte_cpu_to_be_32(tk->teid);
	}
}

static int ref_pfx(const uint8_t *pfx, const uint8_t *a, unsigned int plen)
{
	for (unsigned int b = 0; b < plen; b++) {
		uint8_t m = (uint8_t)(0x80u >> (b % 8));
		if ((pfx[b / 8] & m) != (a[b / 8] & m))
			return 0;
	}
	return 1;
}

int ref_rule_matches(const struct es_cmd_rule *r, const struct tkey *k)
{
	const uint8_t *ue = k->dir == ES_DIR_UL ? k->src : k->dst;
	if (r->has_ue && r->ue.v6 != k->v6)
		return 0;
	if (r->has_src && r->src.v6 != k->v6)
		return 0;
	if (r->has_dst && r->dst.v6 != k->v6)
		return 0;
	if (r->dir != ES_DIR_ANY && r->dir != k->dir)
		return 0;
	if (r->has_proto && r->proto != k->proto)
		return 0;
	if (k->sp < r->sport_lo || k->sp > r->sport_hi)
		return 0;
	if (k->dp < r->dport_lo || k->dp > r->dport_hi)
		return 0;
	if (r->has_qfi && r->qfi != k->qfi)
		return 0;
	if (r->has_dscp && r->dscp != k->dscp)
		return 0;
	if (r->has_teid && r->teid != k->teid)
		return 0;
	/* the IPv6 UE key holds only the /64 */
	if (r->has_ue && !ref_pfx(r->ue.a, ue,
				  k->v6 && r->ue.plen > 64 ? 64 : r->ue.plen))
		return 0;
	if (r->has_src && !ref_pfx(r->src.a, k->src, r->src.plen))
		return 0;
	if (r->has_dst && !ref_pfx(r->dst.a, k->dst, r->dst.plen))
		return 0;
	return 1;
}

unsigned int rnd(unsigned int n)
{
	return (unsigned int)rand() % n;
}

/* Small address spaces so that rules and keys overlap often. */
void rand_addr(int v6, uint8_t a[16])
{
	memset(a, 0, 16);
	if (v6) {
		static const uint8_t fixed[4] = { 0x20, 0x01, 0x0d, 0xb8 };
		memcpy(a, fixed, 4);
		a[5] = (uint8_t)rnd(2);          /* word 1 */
		a[7] = (uint8_t)rnd(4);
		a[9] = (uint8_t)(rnd(2) << 7);   /* word 2 */
		a[15] = (uint8_t)rnd(8);         /* word 3 */
	} else {
		a[0] = 10;
		a[1] = (uint8_t)rnd(2);
		a[2] = (uint8_t)rnd(4);
		a[3] = (uint8_t)rnd(8);
	}
}

const uint16_t port_space[14] = { 0, 1, 2, 3, 5, 8, 13, 53, 80, 443,
				       1000, 2152, 65534, 65535 };

const uint32_t teid_space[5] = { 0, 1, 0x100, 0x80000000, 0xffffffff };

const uint8_t proto_space[5] = { 1, 6, 17, 58, 132 };

void rand_prefix(char *buf, size_t len, int v6, int is_ue)
{
	static const uint8_t p4[] = { 0, 8, 16, 23, 24, 24, 29, 30, 31, 32, 32, 32 };
	static const uint8_t p6[] = { 32, 48, 48, 62, 64, 96, 119, 125, 126, 127, 128, 128 };
	static const uint8_t p6ue[] = { 47, 48, 48, 62, 63, 64, 64 };
	uint8_t a[16];
	char s[INET6_ADDRSTRLEN];
	unsigned int plen;
	rand_addr(v6, a);
	if (!v6)
		plen = p4[rnd(sizeof(p4))];
	else if (is_ue)
		plen = p6ue[rnd(sizeof(p6ue))];
	else
		plen = p6[rnd(sizeof(p6))];
	for (unsigned int b = plen; b < (v6 ? 128u : 32u); b++)
		a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	inet_ntop(v6 ? AF_INET6 : AF_INET, a, s, sizeof(s));
	snprintf(buf, len, "%s/%u", s, plen);
}

void rand_range(char *buf, size_t len)
{
	uint16_t lo = port_space[rnd(N_PORTS)], hi = port_space[rnd(N_PORTS)];
	if (lo > hi) {
		uint16_t x = lo;
		lo = hi;
		hi = x;
	}
	if (rnd(3) == 0)
		hi = lo;
	else if (rnd(4) == 0)
		hi = (uint16_t)(hi < 65535 ? hi + 1 : hi);   /* off the grid */
	snprintf(buf, len, "%u-%u", lo, hi);
}

void rand_key(struct tkey *k, int v6)
{
	memset(k, 0, sizeof(*k));
	k->v6 = (uint8_t)v6;
	k->dir = rnd(2) ? ES_DIR_UL : ES_DIR_DL;
	k->proto = proto_space[rnd(sizeof(proto_space))];
	rand_addr(v6, k->src);
	rand_addr(v6, k->dst);
	/* now and then an address outside every rule but the shortest */
	if (rnd(4) == 0)
		k->src[1] ^= 0x80;
	if (rnd(4) == 0)
		k->dst[1] ^= 0x80;
	/* on and next to the grid */
	k->sp = (uint16_t)(port_space[rnd(N_PORTS)] + (rnd(4) == 0));
	k->dp = (uint16_t)(port_space[rnd(N_PORTS)] + (rnd(4) == 0));
	k->qfi = (uint8_t)rnd(5);
	k->dscp = (uint8_t)rnd(5);
	k->teid = k->dir == ES_DIR_UL ? teid_space[rnd(5)] + (rnd(8) == 0) : 0;
}
