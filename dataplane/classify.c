/* SPDX-License-Identifier: BSD-3-Clause */
/* Rule classification; see classify.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#include <rte_cpuflags.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_vect.h>
#include "classify.h"

/* QFI and DSCP share one 4-byte bitmask field (F_META) with the key's
 * direction byte, which no rule sets: the direction picks the context
 * (struct es_acl). rte_acl walks a step (~8 cycles a packet, measured)
 * per 4-byte key group its rules use and none for a group every rule
 * leaves open, so a direction field would cost every rule set a step. */
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

RTE_ACL_RULE_DEF(es_acl_rule4, F4_NUM);
RTE_ACL_RULE_DEF(es_acl_rule6, F6_NUM);

static void init_defs6(struct rte_acl_field_def *d)
{
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
	/* the key holds dir, qfi, dscp, pad in that byte order; the
	 * direction is not matched here but by the context (es_acl) */
	f[F_META].value.u32 = (uint32_t)(r->has_qfi ? r->qfi : 0) << 16 |
			      (uint32_t)(r->has_dscp ? r->dscp : 0) << 8;
	f[F_META].mask_range.u32 = (r->has_qfi ? 0x00ff0000u : 0) |
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

struct rule_pair {
	struct es_cmd_rule d;
	struct es_rule r;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct rule_pair *x = a, *y = b;
	return x->d.prio < y->d.prio ? -1 : x->d.prio > y->d.prio;
}

int es_rules_sort(struct es_rule *rules, struct es_cmd_rule *defs, uint32_t n)
{
	struct rule_pair *p = malloc(((size_t)n + 1) * sizeof(*p));
	if (p == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		p[i] = (struct rule_pair){ .d = defs[i], .r = rules[i] };
	qsort(p, n, sizeof(*p), pair_cmp);
	for (uint32_t i = 0; i < n; i++) {
		defs[i] = p[i].d;
		rules[i] = p[i].r;
	}
	free(p);
	return 0;
}

static struct rte_acl_ctx *ctx_new(const char *tag, uint32_t n, int fields,
				   int socket)
{
	static unsigned int gen;
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param p = {
		.name = name,
		.socket_id = socket,
		.rule_size = RTE_ACL_RULE_SZ(fields),
		.max_rule_num = n ? n : 1,
	};
	/* unique names: the control thread and a merge thread build at once */
	snprintf(name, sizeof(name), "es_%s_%u", tag,
		 __atomic_fetch_add(&gen, 1, __ATOMIC_RELAXED));
	return rte_acl_create(&p);
}

static enum rte_acl_classify_alg acl_alg = RTE_ACL_CLASSIFY_DEFAULT;
static const char *acl_alg_name = "default";

static const struct {
	uint32_t bits;
	enum rte_acl_classify_alg alg;
	const char *name;
} acl_methods[] = {   /* AUTO times each that runs (probe_methods) */
	{ 512, RTE_ACL_CLASSIFY_AVX512X32, "avx512x32" },
	{ 256, RTE_ACL_CLASSIFY_AVX2, "avx2" },
	{ 128, RTE_ACL_CLASSIFY_SSE, "sse" },
	{ 0, RTE_ACL_CLASSIFY_SCALAR, "scalar" },
};

static int cpu_avx512(void)
{
	/* what rte_acl's AVX-512 methods need */
	return rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512F) > 0 &&
	       rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512VL) > 0 &&
	       rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512CD) > 0 &&
	       rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512BW) > 0;
}

/* The probe: rules of the shape edge rules take (protocol, a /24
 * destination, a destination port: three of rte_acl's steps), and keys
 * of which key i matches rule i % PROBE_RULES. */
#define PROBE_RULES  256
#define PROBE_KEYS   2048
#define PROBE_PASSES 16

static struct rte_acl_ctx *probe_build(struct es_key4 keys[PROBE_KEYS])
{
	struct rte_acl_config cfg;
	struct rte_acl_ctx *ctx = ctx_new("probe", PROBE_RULES, F4_NUM, SOCKET_ID_ANY);
	if (ctx == NULL)
		return NULL;
	for (uint32_t i = 0; i < PROBE_KEYS; i++) {
		uint32_t r = i % PROBE_RULES;
		memset(&keys[i], 0, sizeof(keys[i]));
		keys[i].proto = (r & 1) ? 6 : 17;
		keys[i].dir = ES_DIR_UL;
		keys[i].dst_be = rte_cpu_to_be_32(0x0a000000u | r << 8 | (i & 0xff));
		keys[i].sport_be = rte_cpu_to_be_16((uint16_t)(40000 + i));
		keys[i].dport_be = rte_cpu_to_be_16((uint16_t)(1000 + r));
	}
	for (uint32_t i = 0; i < PROBE_RULES; i++) {
		struct es_acl_rule4 r;
		memset(&r, 0, sizeof(r));
		r.data.category_mask = 1;
		r.data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - i);
		r.data.userdata = i + 1;
		r.field[F_PROTO].value.u8 = (i & 1) ? 6 : 17;
		r.field[F_PROTO].mask_range.u8 = 0xff;
		r.field[F4_DST].value.u32 = 0x0a000000u | i << 8;
		r.field[F4_DST].mask_range.u32 = 24;
		r.field[F4_SPORT].mask_range.u16 = UINT16_MAX;
		r.field[F4_DPORT].value.u16 = (uint16_t)(1000 + i);
		r.field[F4_DPORT].mask_range.u16 = (uint16_t)(1000 + i);
		if (rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&r, 1) != 0)
			goto fail;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.num_categories = 1;
	cfg.num_fields = F4_NUM;
	memcpy(cfg.defs, defs4, sizeof(defs4));
	if (rte_acl_build(ctx, &cfg) != 0)
		goto fail;
	return ctx;
fail:
	rte_acl_free(ctx);
	return NULL;
}

/* The probe's cycles a packet per method (acl_methods order); < 0: the
 * method does not run here. Filled by es_acl_setup(AUTO). */
static double probe_cyc[RTE_DIM(acl_methods)];
static int probe_done;

/* Time each method that runs on ctx: the fastest of PROBE_PASSES passes
 * over the keys in bursts of ES_BURST, passes interleaved across methods
 * so that a noisy moment does not favour one. Returns the fastest. */
static int probe_methods(struct rte_acl_ctx *ctx, const struct es_key4 *keys)
{
	const uint8_t *p[PROBE_KEYS];
	static uint32_t res[PROBE_KEYS];
	int best = -1;

	for (uint32_t i = 0; i < PROBE_KEYS; i++)
		p[i] = (const uint8_t *)&keys[i];
	for (size_t m = 0; m < RTE_DIM(acl_methods); m++)
		probe_cyc[m] = rte_acl_set_ctx_classify(ctx, acl_methods[m].alg) == 0 ? 1e300 : -1;
	for (int pass = 0; pass < PROBE_PASSES; pass++)
		for (size_t m = 0; m < RTE_DIM(acl_methods); m++) {
			uint64_t t0;
			double c;
			if (probe_cyc[m] < 0)
				continue;
			(void)rte_acl_set_ctx_classify(ctx, acl_methods[m].alg);
			t0 = rte_rdtsc();
			for (uint32_t i = 0; i < PROBE_KEYS; i += ES_BURST)
				rte_acl_classify(ctx, p + i, res + i, ES_BURST, 1);
			c = (double)(rte_rdtsc() - t0) / PROBE_KEYS;
			/* a method that misclassifies is not a candidate */
			for (uint32_t i = 0; i < PROBE_KEYS && c >= 0; i++)
				if (res[i] != i % PROBE_RULES + 1) {
					fprintf(stderr,
						"edgesteer: rte_acl method %s gave key %u rule %u, not %u: not used\n",
						acl_methods[m].name, i, res[i], i % PROBE_RULES + 1);
					c = -1;
				}
			if (c < 0 || probe_cyc[m] < 0)
				probe_cyc[m] = -1;
			else if (c < probe_cyc[m])
				probe_cyc[m] = c;
		}
	for (int m = 0; m < (int)RTE_DIM(acl_methods); m++)
		if (probe_cyc[m] >= 0 && (best < 0 || probe_cyc[m] < probe_cyc[best]))
			best = m;
	return best;
}

int es_acl_setup(uint32_t bits, char err[ES_ERR_MAX])
{
	static struct es_key4 keys[PROBE_KEYS];
	struct rte_acl_ctx *probe;
	int found = -1;

	if (bits != ES_ACL_SIMD_AUTO && bits != 0 && bits != 128 &&
	    bits != 256 && bits != 512) {
		snprintf(err, ES_ERR_MAX,
			 "set acl-simd %u: one of 0 (scalar), 128 (SSE4.1), 256 (AVX2), 512 (AVX-512)",
			 bits);
		return -1;
	}
	/* fails (-EPERM) when EAL's --force-max-simd-bitwidth set the cap:
	 * the operator's word stands */
	if ((bits == ES_ACL_SIMD_AUTO || bits == 512) && cpu_avx512() &&
	    rte_vect_get_max_simd_bitwidth() < RTE_VECT_SIMD_512)
		(void)rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
	if (bits == ES_ACL_SIMD_AUTO) {
		probe = probe_build(keys);
	} else {
		/* rte_acl says whether a method runs here only on a context */
		probe = ctx_new("probe", 1, 1, SOCKET_ID_ANY);
	}
	if (probe == NULL) {
		snprintf(err, ES_ERR_MAX, "rte_acl probe context: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	if (bits == ES_ACL_SIMD_AUTO) {
		found = probe_methods(probe, keys);
		probe_done = found >= 0;
	} else {
		for (int i = 0; i < (int)RTE_DIM(acl_methods) && found < 0; i++)
			if (bits == acl_methods[i].bits &&
			    rte_acl_set_ctx_classify(probe, acl_methods[i].alg) == 0)
				found = i;
		if (found >= 0)
			probe_done = 0;
	}
	rte_acl_free(probe);
	if (found < 0) {
		if (bits == ES_ACL_SIMD_AUTO)
			snprintf(err, ES_ERR_MAX, "rte_acl: no classify method ran the probe rules correctly");
		else
			snprintf(err, ES_ERR_MAX,
				 "set acl-simd %u: this CPU does not run it, or EAL's --force-max-simd-bitwidth (now %u) is below it",
				 bits, (unsigned int)rte_vect_get_max_simd_bitwidth());
		return -1;
	}
	acl_alg = acl_methods[found].alg;
	acl_alg_name = acl_methods[found].name;
	return 0;
}

int es_acl_probe(char *buf, size_t len, int json)
{
	size_t o = 0;
	int n = 0;
	if (len)
		buf[0] = '\0';
	if (!probe_done)
		return 0;
	for (size_t m = 0; m < RTE_DIM(acl_methods) && o < len; m++) {
		int w;
		if (probe_cyc[m] < 0)
			continue;
		w = json ? snprintf(buf + o, len - o, "%s\"%s\": %.1f", n ? ", " : "",
				    acl_methods[m].name, probe_cyc[m])
			 : snprintf(buf + o, len - o, "%s%s %.1f", n ? ", " : "",
				    acl_methods[m].name, probe_cyc[m]);
		if (w < 0)
			break;
		o += (size_t)w;
		n++;
	}
	return n;
}

const char *es_acl_method(void)
{
	return acl_alg_name;
}

/* 1: IPv4 only, 2: IPv6 only, 3: both (a rule without an address) */
static int rule_fams(const struct es_cmd_rule *r)
{
	int has_addr = r->has_ue || r->has_src || r->has_dst;
	int v6 = r->has_ue ? r->ue.v6 : r->has_src ? r->src.v6 : r->dst.v6;
	return !has_addr ? 3 : v6 ? 2 : 1;
}

/* The directions a rule is classified in: bit 0 uplink, bit 1 downlink. */
static int rule_dirs(const struct es_cmd_rule *r)
{
	return r->dir == ES_DIR_UL ? 1 : r->dir == ES_DIR_DL ? 2 : 3;
}

void es_acl_free(struct es_acl *a)
{
	for (int v6 = 0; v6 < 2; v6++)
		for (int dl = 0; dl < 2; dl++) {
			rte_acl_free(a->c[v6][dl]);
			a->c[v6][dl] = NULL;
		}
}

int es_acl_build(const struct es_cmd_rule *defs, const uint32_t *idx, uint32_t n,
		 int socket, struct es_acl *out, char err[ES_ERR_MAX])
{
	static const char *const tags[2][2] = { { "acl4ul", "acl4dl" }, { "acl6ul", "acl6dl" } };
	struct rte_acl_field_def d6[F6_NUM];
	struct rte_acl_config cfg[2];
	struct es_acl a;
	uint32_t cnt[2][2] = { { 0, 0 }, { 0, 0 } };
	int rc;

	memset(&a, 0, sizeof(a));
	init_defs6(d6);
	for (uint32_t i = 0; i < n; i++) {
		int f = rule_fams(&defs[idx[i]]), d = rule_dirs(&defs[idx[i]]);
		for (int v6 = 0; v6 < 2; v6++)
			for (int dl = 0; dl < 2; dl++)
				cnt[v6][dl] += (f >> v6 & 1) && (d >> dl & 1);
	}
	for (int v6 = 0; v6 < 2; v6++) {
		for (int dl = 0; dl < 2; dl++) {
			if (cnt[v6][dl] == 0)
				continue;
			a.c[v6][dl] = ctx_new(tags[v6][dl], cnt[v6][dl],
					      v6 ? F6_NUM : F4_NUM, socket);
			if (a.c[v6][dl] == NULL) {
				snprintf(err, ES_ERR_MAX, "rte_acl_create failed: %s",
					 rte_strerror(rte_errno));
				goto fail;
			}
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct es_cmd_rule *r = &defs[idx[i]];
		int f = rule_fams(r), d = rule_dirs(r);
		/* lower number wins (PDR precedence); rte_acl wants higher */
		int32_t prio = (int32_t)(RTE_ACL_MAX_PRIORITY - r->prio);
		struct rte_acl_rule_data data = {
			.category_mask = 1, .priority = prio, .userdata = idx[i] + 1,
		};
		if (f & 1) {
			struct es_acl_rule4 a4;
			memset(&a4, 0, sizeof(a4));
			a4.data = data;
			fill_common(a4.field, r);
			set_pfx_word(&a4.field[F4_UE], &r->ue, r->has_ue, 0);
			set_pfx_word(&a4.field[F4_SRC], &r->src, r->has_src, 0);
			set_pfx_word(&a4.field[F4_DST], &r->dst, r->has_dst, 0);
			fill_tail(a4.field, F4_SPORT, F4_DPORT, F4_TEID, r);
			for (int dl = 0; dl < 2; dl++)
				if ((d >> dl & 1) && add_rule(a.c[0][dl], &a4, r, err))
					goto fail;
		}
		if (f & 2) {
			struct es_acl_rule6 a6;
			memset(&a6, 0, sizeof(a6));
			a6.data = data;
			fill_common(a6.field, r);
			for (int w = 0; w < 2; w++)
				set_pfx_word(&a6.field[F6_UE0 + w], &r->ue, r->has_ue, w);
			for (int w = 0; w < 4; w++) {
				set_pfx_word(&a6.field[F6_SRC0 + w], &r->src, r->has_src, w);
				set_pfx_word(&a6.field[F6_DST0 + w], &r->dst, r->has_dst, w);
			}
			fill_tail(a6.field, F6_SPORT, F6_DPORT, F6_TEID, r);
			for (int dl = 0; dl < 2; dl++)
				if ((d >> dl & 1) && add_rule(a.c[1][dl], &a6, r, err))
					goto fail;
		}
	}
	memset(cfg, 0, sizeof(cfg));
	cfg[0].num_categories = 1;
	cfg[0].num_fields = F4_NUM;
	memcpy(cfg[0].defs, defs4, sizeof(defs4));
	cfg[1].num_categories = 1;
	cfg[1].num_fields = F6_NUM;
	memcpy(cfg[1].defs, d6, sizeof(d6));
	for (int v6 = 0; v6 < 2; v6++) {
		for (int dl = 0; dl < 2; dl++) {
			if (a.c[v6][dl] == NULL)
				continue;
			rc = rte_acl_build(a.c[v6][dl], &cfg[v6]);
			if (rc != 0) {
				snprintf(err, ES_ERR_MAX, "rte_acl_build (IPv%d %s rules): %s",
					 v6 ? 6 : 4, dl ? "downlink" : "uplink",
					 rte_strerror(-rc));
				goto fail;
			}
			/* the method es_acl_setup chose (and checked on a probe) */
			if (acl_alg != RTE_ACL_CLASSIFY_DEFAULT &&
			    (rc = rte_acl_set_ctx_classify(a.c[v6][dl], acl_alg)) != 0) {
				snprintf(err, ES_ERR_MAX, "rte_acl method %s: %s",
					 acl_alg_name, rte_strerror(-rc));
				goto fail;
			}
		}
	}
	*out = a;
	return 0;
fail:
	es_acl_free(&a);
	return -1;
}

int es_classify_build(struct es_tables *t, char err[ES_ERR_MAX])
{
	uint32_t *idx = malloc(((size_t)t->n_rules + 1) * sizeof(*idx));
	int rc;
	if (idx == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < t->n_rules; i++)
		es_rule_set(&t->rules[i], &t->rule_defs[i]);
	if (es_rules_sort(t->rules, t->rule_defs, t->n_rules)) {
		free(idx);
		snprintf(err, ES_ERR_MAX, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < t->n_rules; i++)
		idx[i] = i;
	rc = es_acl_build(t->rule_defs, idx, t->n_rules, (int)rte_socket_id(),
			  &t->acl, err);
	free(idx);
	return rc;
}

void es_classify_free(struct es_tables *t)
{
	es_acl_free(&t->acl);
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

void es_classify_rules(const struct es_tables *t, int v6,
		       const uint8_t **keys, uint32_t *res, uint32_t n)
{
	const uint8_t *k[2][ES_BURST];
	uint32_t r[2][ES_BURST], pos[2][ES_BURST], m[2] = { 0, 0 };
	/* the dir byte sits at the same offset in both key layouts */
	_Static_assert(offsetof(struct es_key4, dir) == offsetof(struct es_key6, dir),
		       "one dir offset");
	for (; n > ES_BURST; n -= ES_BURST, keys += ES_BURST, res += ES_BURST)
		es_classify_rules(t, v6, keys, res, ES_BURST);
	for (uint32_t i = 0; i < n; i++) {
		int dl = keys[i][offsetof(struct es_key4, dir)] == ES_DIR_DL;
		k[dl][m[dl]] = keys[i];
		pos[dl][m[dl]++] = i;
	}
	for (int dl = 0; dl < 2; dl++) {
		es_classify_rules_dir(t, v6, dl, k[dl], r[dl], m[dl]);
		for (uint32_t j = 0; j < m[dl]; j++)
			res[pos[dl][j]] = r[dl][j];
	}
}

/* Set bits [0, plen) of a prefix over nbytes key bytes at off. */
static void dl_pfx(uint8_t *val, uint8_t *msk, size_t off, const uint8_t *a,
		   unsigned int plen, unsigned int nbytes)
{
	for (unsigned int b = 0; b < plen && b < nbytes * 8; b++) {
		uint8_t m = (uint8_t)(0x80u >> (b % 8));
		msk[off + b / 8] |= m;
		val[off + b / 8] |= a[b / 8] & m;
	}
}

/* A port range at key offset off: a single port goes into the value and
 * mask; any other range but 0-65535 sets *ranges (checked per node). */
static void port_key(uint8_t *val, uint8_t *msk, size_t off, uint16_t lo,
		     uint16_t hi, int *ranges)
{
	if (lo == hi) {
		uint16_t be = rte_cpu_to_be_16(lo);
		memcpy(val + off, &be, 2);
		memset(msk + off, 0xff, 2);
	} else if (lo != 0 || hi != 65535) {
		*ranges = 1;
	}
}

void es_rule_key(const struct es_cmd_rule *r, int v6, uint64_t val[7],
		 uint64_t msk[7], int *ranges)
{
	uint8_t v[56], m[56];
	size_t poff = v6 ? offsetof(struct es_key6, sport_be) : offsetof(struct es_key4, sport_be);
	memset(v, 0, sizeof(v));
	memset(m, 0, sizeof(m));
	/* proto and the meta bytes sit at the same offsets in both keys */
	if (r->has_proto) {
		v[offsetof(struct es_key4, proto)] = r->proto;
		m[offsetof(struct es_key4, proto)] = 0xff;
	}
	/* ES_DIR_ANY (no grammar gives it) matches both, as in the base,
	 * which puts such a rule into both directions' contexts */
	if (r->dir != ES_DIR_ANY) {
		v[offsetof(struct es_key4, dir)] = r->dir;
		m[offsetof(struct es_key4, dir)] = 0xff;
	}
	if (r->has_qfi) {
		v[offsetof(struct es_key4, qfi)] = r->qfi;
		m[offsetof(struct es_key4, qfi)] = 0xff;
	}
	if (r->has_dscp) {
		v[offsetof(struct es_key4, dscp)] = r->dscp;
		m[offsetof(struct es_key4, dscp)] = 0xff;
	}
	if (!v6) {
		if (r->has_ue)
			dl_pfx(v, m, offsetof(struct es_key4, ue_be), r->ue.a, r->ue.plen, 4);
		if (r->has_src)
			dl_pfx(v, m, offsetof(struct es_key4, src_be), r->src.a, r->src.plen, 4);
		if (r->has_dst)
			dl_pfx(v, m, offsetof(struct es_key4, dst_be), r->dst.a, r->dst.plen, 4);
		if (r->has_teid) {
			uint32_t be = rte_cpu_to_be_32(r->teid);
			memcpy(v + offsetof(struct es_key4, teid_be), &be, 4);
			memset(m + offsetof(struct es_key4, teid_be), 0xff, 4);
		}
	} else {
		/* the UE key is the /64 */
		if (r->has_ue)
			dl_pfx(v, m, offsetof(struct es_key6, ue), r->ue.a, r->ue.plen, 8);
		if (r->has_src)
			dl_pfx(v, m, offsetof(struct es_key6, src), r->src.a, r->src.plen, 16);
		if (r->has_dst)
			dl_pfx(v, m, offsetof(struct es_key6, dst), r->dst.a, r->dst.plen, 16);
		if (r->has_teid) {
			uint32_t be = rte_cpu_to_be_32(r->teid);
			memcpy(v + offsetof(struct es_key6, teid_be), &be, 4);
			memset(m + offsetof(struct es_key6, teid_be), 0xff, 4);
		}
	}
	/* a single port is matched through the hash, a range per node */
	*ranges = 0;
	port_key(v, m, poff, r->sport_lo, r->sport_hi, ranges);
	port_key(v, m, poff + 2, r->dport_lo, r->dport_hi, ranges);
	memcpy(val, v, sizeof(v));
	memcpy(msk, m, sizeof(m));
}

uint32_t es_tss_hash(const uint64_t *m, unsigned int words, uint16_t id, int lin)
{
	uint32_t h = 0x9e3779b9u ^ id;
	for (unsigned int w = 0; !lin && w < words; w++)
		h = rte_hash_crc_8byte(m[w], h);
	return h;
}

int es_rule_fams(const struct es_cmd_rule *r)
{
	return rule_fams(r);
}

_Static_assert(sizeof(struct es_key6) <= sizeof(((struct es_dn *)0)->val),
	       "the delta's words cover the IPv6 key");

void es_classify_delta(const struct es_tables *t, int v6, const uint8_t **keys,
		       uint32_t *res, uint32_t n)
{
	const struct es_tss *ts = t->tss;
	const struct es_tup *tp = NULL;
	const uint64_t G = t->rgen;
	uint32_t nt = 0;
	unsigned int words = es_key_words(v6);
	size_t ksz = v6 ? sizeof(struct es_key6) : sizeof(struct es_key4);
	size_t poff = v6 ? offsetof(struct es_key6, sport_be) : offsetof(struct es_key4, sport_be);

	if (ts != NULL) {
		tp = v6 ? ts->t + ts->n4 : ts->t;
		nt = v6 ? ts->n6 : ts->n4;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t kw[7] = { 0 };
		uint32_t b = res[i], bp = UINT32_MAX;
		uint16_t sp, dp;
		/* bound before it indexes */
		if (b > t->n_slots)
			b = 0;
		/* a base result whose rule is gone counts as no match: the
		 * live rules it hid are in the delta (rules.c) */
		if (b && __atomic_load_n(&t->kill[b - 1], __ATOMIC_RELAXED) <= G)
			b = 0;
		if (b)
			bp = t->rules[b - 1].prio;
		if (nt == 0 || tp[0].minp >= bp) {
			res[i] = b;
			continue;
		}
		memcpy(kw, keys[i], ksz);
		memcpy(&sp, keys[i] + poff, 2);
		memcpy(&dp, keys[i] + poff + 2, 2);
		sp = rte_be_to_cpu_16(sp);
		dp = rte_be_to_cpu_16(dp);
		/* tuples in minp order: none past the best PRIO so far can win */
		for (uint32_t j = 0; j < nt && tp[j].minp < bp; j++) {
			const struct es_tup *u = &tp[j];
			const struct es_dn *d;
			uint64_t m[7];
			uint32_t h;
			for (unsigned int w = 0; w < words; w++)
				m[w] = kw[w] & u->msk[w];
			h = es_tss_hash(m, words, u->id, u->lin);
			for (d = __atomic_load_n(&ts->bkt[h & ts->bmask], __ATOMIC_ACQUIRE); d != NULL;
			     d = __atomic_load_n(&d->next, __ATOMIC_ACQUIRE)) {
				uint64_t x = 0;
				if (d->prio >= bp)
					break;
				if (d->tup != u->id)
					continue;
				for (unsigned int w = 0; w < words; w++)
					x |= (kw[w] & d->msk[w]) ^ d->val[w];
				if (x != 0)
					continue;
				if (u->ranges && (sp < d->sp_lo || sp > d->sp_hi ||
						  dp < d->dp_lo || dp > d->dp_hi))
					continue;
				if (d->add_gen > G ||
				    __atomic_load_n(&d->del_gen, __ATOMIC_RELAXED) <= G)
					continue;
				bp = d->prio;
				b = d->res;
				break;
			}
		}
		res[i] = b;
	}
}
