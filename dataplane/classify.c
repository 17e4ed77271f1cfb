/* SPDX-License-Identifier: BSD-3-Clause */
/* Rule classification; see classify.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_acl.h>
#include <rte_lcore.h>
#include "classify.h"

/* dir, QFI and DSCP share one 4-byte bitmask field (F_META): a byte
 * each, masked per byte, so one rte_acl input word covers all three. */
enum { F_PROTO, F_META, F4_UE, F4_SRC, F4_DST, F4_SPORT,
       F4_DPORT, F4_TEID, F4_NUM };

#define BM(id, sz, idx, off) { .type = RTE_ACL_FIELD_TYPE_BITMASK, \
	.size = (sz), .field_index = (id), .input_index = (idx), .offset = (off) }
#define PFX(id, idx, off) { .type = RTE_ACL_FIELD_TYPE_MASK, \
	.size = 4, .field_index = (id), .input_index = (idx), .offset = (off) }
#define RNG(id, idx, off) { .type = RTE_ACL_FIELD_TYPE_RANGE, \
	.size = 2, .field_index = (id), .input_index = (idx), .offset = (off) }

static const struct rte_acl_field_def defs4[F4_NUM] = {
	BM(F_PROTO, 1, 0, offsetof(struct es_key4, proto)),
	BM(F_META,  4, 1, offsetof(struct es_key4, dir)),
	PFX(F4_UE,   2, offsetof(struct es_key4, ue_be)),
	PFX(F4_SRC,  3, offsetof(struct es_key4, src_be)),
	PFX(F4_DST,  4, offsetof(struct es_key4, dst_be)),
	RNG(F4_SPORT, 5, offsetof(struct es_key4, sport_be)),
	RNG(F4_DPORT, 5, offsetof(struct es_key4, dport_be)),
	BM(F4_TEID, 4, 6, offsetof(struct es_key4, teid_be)),
};

/* IPv6: UE /64 in two 4-byte words, src and dst in four each. */
enum { F6_UE0 = F_META + 1, F6_SRC0 = F6_UE0 + 2, F6_DST0 = F6_SRC0 + 4,
       F6_SPORT = F6_DST0 + 4, F6_DPORT, F6_TEID, F6_NUM };

static struct rte_acl_field_def defs6[F6_NUM];

RTE_ACL_RULE_DEF(es_acl_rule4, F4_NUM);
RTE_ACL_RULE_DEF(es_acl_rule6, F6_NUM);

static void init_defs6(void)
{
	struct rte_acl_field_def *d = defs6;
	uint32_t idx = 2;
	d[F_PROTO] = (struct rte_acl_field_def)BM(F_PROTO, 1, 0, offsetof(struct es_key6, proto));
	d[F_META] = (struct rte_acl_field_def)BM(F_META, 4, 1, offsetof(struct es_key6, dir));
	for (int i = 0; i < 2; i++, idx++)
		d[F6_UE0 + i] = (struct rte_acl_field_def)PFX(F6_UE0 + i, idx,
			offsetof(struct es_key6, ue) + 4 * i);
	for (int i = 0; i < 4; i++, idx++)
		d[F6_SRC0 + i] = (struct rte_acl_field_def)PFX(F6_SRC0 + i, idx,
			offsetof(struct es_key6, src) + 4 * i);
	for (int i = 0; i < 4; i++, idx++)
		d[F6_DST0 + i] = (struct rte_acl_field_def)PFX(F6_DST0 + i, idx,
			offsetof(struct es_key6, dst) + 4 * i);
	d[F6_SPORT] = (struct rte_acl_field_def)RNG(F6_SPORT, idx, offsetof(struct es_key6, sport_be));
	d[F6_DPORT] = (struct rte_acl_field_def)RNG(F6_DPORT, idx, offsetof(struct es_key6, dport_be));
	idx++;
	d[F6_TEID] = (struct rte_acl_field_def)BM(F6_TEID, 4, idx, offsetof(struct es_key6, teid_be));
}

static void set_bm(struct rte_acl_field *f, int has, uint32_t v, uint32_t any)
{
	if (has) {
		f->value.u32 = v;
		f->mask_range.u32 = any;
	} else {
		f->value.u32 = 0;
		f->mask_range.u32 = 0;
	}
}

/* A prefix over 32-bit words: word w of an address with plen bits. */
static void set_pfx_word(struct rte_acl_field *f, const struct es_addr *a,
			 int has, int w)
{
	int bits;
	if (!has) {
		f->value.u32 = 0;
		f->mask_range.u32 = 0;
		return;
	}
	bits = a->plen - 32 * w;
	bits = bits < 0 ? 0 : bits > 32 ? 32 : bits;
	f->value.u32 = ((uint32_t)a->a[4 * w] << 24) | ((uint32_t)a->a[4 * w + 1] << 16) |
		       ((uint32_t)a->a[4 * w + 2] << 8) | a->a[4 * w + 3];
	f->mask_range.u32 = (uint32_t)bits;
}

static void fill_common(struct rte_acl_field *f, const struct es_cmd_rule *r)
{
	set_bm(&f[F_PROTO], r->has_proto, r->proto, 0xff);
	/* the key holds dir, qfi, dscp, pad in that byte order */
	f[F_META].value.u32 = (uint32_t)r->dir << 24 |
			      (uint32_t)(r->has_qfi ? r->qfi : 0) << 16 |
			      (uint32_t)(r->has_dscp ? r->dscp : 0) << 8;
	f[F_META].mask_range.u32 = 0xff000000u |
			      (r->has_qfi ? 0x00ff0000u : 0) |
			      (r->has_dscp ? 0x0000ff00u : 0);
}

/* Port ranges and TEID: the same fields at family-specific indexes. */
static void fill_tail(struct rte_acl_field *f, int sport, int dport, int teid,
		      const struct es_cmd_rule *r)
{
	f[sport].value.u16 = r->sport_lo;
	f[sport].mask_range.u16 = r->sport_hi;
	f[dport].value.u16 = r->dport_lo;
	f[dport].mask_range.u16 = r->dport_hi;
	set_bm(&f[teid], r->has_teid, r->teid, UINT32_MAX);
}

static int add_rule(struct rte_acl_ctx *ctx, const void *rule,
		    const struct es_cmd_rule *r, char err[ES_ERR_MAX])
{
	int rc = rte_acl_add_rules(ctx, rule, 1);
	if (rc)
		snprintf(err, ES_ERR_MAX, "rule %u: rte_acl_add_rules: %s",
			 r->prio, rte_strerror(-rc));
	return rc ? -1 : 0;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct es_rule *x = a, *y = b;
	return x->c.prio < y->c.prio ? -1 : x->c.prio > y->c.prio;
}

static struct rte_acl_ctx *ctx_new(const char *tag, uint32_t n, int fields)
{
	static unsigned int gen;
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param p = {
		.name = name,
		.socket_id = (int)rte_socket_id(),
		.rule_size = RTE_ACL_RULE_SZ(fields),
		.max_rule_num = n ? n : 1,
	};
	snprintf(name, sizeof(name), "es_%s_%u", tag, gen++);
	return rte_acl_create(&p);
}

int es_classify_build(struct es_tables *t, char err[ES_ERR_MAX])
{
	struct rte_acl_config cfg4, cfg6;
	uint32_t n4 = 0, n6 = 0;
	int rc;

	if (defs6[F6_TEID].size == 0)
		init_defs6();
	qsort(t->rules, t->n_rules, sizeof(t->rules[0]), rule_cmp);
	for (uint32_t i = 0; i < t->n_rules; i++) {
		const struct es_cmd_rule *r = &t->rules[i].c;
		int has_addr = r->has_ue || r->has_src || r->has_dst;
		int v6 = r->has_ue ? r->ue.v6 : r->has_src ? r->src.v6 : r->dst.v6;
		if (!has_addr || !v6)
			n4++;
		if (!has_addr || v6)
			n6++;
	}
	t->acl4 = ctx_new("acl4", n4, F4_NUM);
	t->acl6 = ctx_new("acl6", n6, F6_NUM);
	if (!t->acl4 || !t->acl6) {
		snprintf(err, ES_ERR_MAX, "rte_acl_create failed: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	for (uint32_t i = 0; i < t->n_rules; i++) {
		const struct es_cmd_rule *r = &t->rules[i].c;
		int has_addr = r->has_ue || r->has_src || r->has_dst;
		int v6 = r->has_ue ? r->ue.v6 : r->has_src ? r->src.v6 : r->dst.v6;
		/* lower number wins (PDR precedence); rte_acl wants higher */
		int32_t prio = (int32_t)(RTE_ACL_MAX_PRIORITY - r->prio);
		struct rte_acl_rule_data data = {
			.category_mask = 1, .priority = prio, .userdata = i + 1,
		};
		if (!has_addr || !v6) {
			struct es_acl_rule4 a;
			memset(&a, 0, sizeof(a));
			a.data = data;
			fill_common(a.field, r);
			set_pfx_word(&a.field[F4_UE], &r->ue, r->has_ue, 0);
			set_pfx_word(&a.field[F4_SRC], &r->src, r->has_src, 0);
			set_pfx_word(&a.field[F4_DST], &r->dst, r->has_dst, 0);
			fill_tail(a.field, F4_SPORT, F4_DPORT, F4_TEID, r);
			if (add_rule(t->acl4, &a, r, err))
				return -1;
		}
		if (!has_addr || v6) {
			struct es_acl_rule6 a;
			memset(&a, 0, sizeof(a));
			a.data = data;
			fill_common(a.field, r);
			for (int w = 0; w < 2; w++)
				set_pfx_word(&a.field[F6_UE0 + w], &r->ue, r->has_ue, w);
			for (int w = 0; w < 4; w++) {
				set_pfx_word(&a.field[F6_SRC0 + w], &r->src, r->has_src, w);
				set_pfx_word(&a.field[F6_DST0 + w], &r->dst, r->has_dst, w);
			}
			fill_tail(a.field, F6_SPORT, F6_DPORT, F6_TEID, r);
			if (add_rule(t->acl6, &a, r, err))
				return -1;
		}
	}
	memset(&cfg4, 0, sizeof(cfg4));
	cfg4.num_categories = 1;
	cfg4.num_fields = F4_NUM;
	memcpy(cfg4.defs, defs4, sizeof(defs4));
	memset(&cfg6, 0, sizeof(cfg6));
	cfg6.num_categories = 1;
	cfg6.num_fields = F6_NUM;
	memcpy(cfg6.defs, defs6, sizeof(defs6));
	if (n4 && (rc = rte_acl_build(t->acl4, &cfg4)) != 0) {
		snprintf(err, ES_ERR_MAX, "rte_acl_build (IPv4 rules): %s",
			 rte_strerror(-rc));
		return -1;
	}
	if (n6 && (rc = rte_acl_build(t->acl6, &cfg6)) != 0) {
		snprintf(err, ES_ERR_MAX, "rte_acl_build (IPv6 rules): %s",
			 rte_strerror(-rc));
		return -1;
	}
	if (!n4) {
		rte_acl_free(t->acl4);
		t->acl4 = NULL;
	}
	if (!n6) {
		rte_acl_free(t->acl6);
		t->acl6 = NULL;
	}
	return 0;
}

void es_classify_free(struct es_tables *t)
{
	rte_acl_free(t->acl4);
	rte_acl_free(t->acl6);
	t->acl4 = t->acl6 = NULL;
}

void es_classify(const struct rte_acl_ctx *ctx, const uint8_t **keys,
		 uint32_t *res, uint32_t n)
{
	if (n == 0)
		return;
	if (ctx == NULL) {
		memset(res, 0, n * sizeof(*res));
		return;
	}
	rte_acl_classify(ctx, keys, res, n, 1);
}
