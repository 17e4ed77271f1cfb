/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_acl's cost per packet against the key groups its rules use
 * (build/acl-bench): the measurement behind classify.c's layout choices
 * (docs/perf-notes.md "rte_acl: a step per key group").
 *
 * A key of a 1-byte first field and six 4-byte groups; a rule that uses
 * the first field and/or some groups (a /16 prefix each), classified in
 * bursts of 32 keys that all match it, per SIMD method the CPU runs. (How
 * the cost grows with the rule count is the rules sweep of make perf.)
 * Prints the fastest of 40 passes over 4096 keys (cycles per packet).
 *
 * Usage: acl-bench [EAL options]
 */
#include <stdio.h>
#include <string.h>
#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_vect.h>

#define NG    6        /* 4-byte groups after the first byte */
#define NKEYS 4096
#define BURST 32

struct key {
	uint8_t first;
	uint8_t pad[3];
	uint32_t g[NG];
} __attribute__((packed));

RTE_ACL_RULE_DEF(bench_rule, NG + 1);

static struct key keys[NKEYS];

/* used: bit 0 the first byte, bit 1 + i group i; n rules, all matching
 * the keys in the used fields (different priorities). Returns cycles per
 * packet, or -1 when the method does not run here or nothing matched. */
static double run(unsigned int used, uint32_t n, enum rte_acl_classify_alg alg)
{
	static unsigned int seq;
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param p = {
		.name = name, .socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(NG + 1), .max_rule_num = n,
	};
	struct rte_acl_config cfg;
	struct rte_acl_ctx *c;
	const uint8_t *ptr[BURST];
	uint32_t res[BURST];
	uint64_t best = UINT64_MAX, sink = 0;

	snprintf(name, sizeof(name), "bench%u", seq++);
	c = rte_acl_create(&p);
	if (c == NULL)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.num_categories = 1;
	cfg.num_fields = NG + 1;
	cfg.defs[0] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_BITMASK,
		.size = 1, .field_index = 0, .input_index = 0, .offset = 0 };
	for (int f = 1; f <= NG; f++)
		cfg.defs[f] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_MASK,
			.size = 4, .field_index = (uint8_t)f, .input_index = (uint8_t)f,
			.offset = (uint32_t)(4 * f) };
	for (uint32_t r = 0; r < n; r++) {
		struct bench_rule rule;
		memset(&rule, 0, sizeof(rule));
		rule.data.category_mask = 1;
		rule.data.priority = (int32_t)(1 + r);
		rule.data.userdata = 1 + r;
		if (used & 1) {
			rule.field[0].value.u8 = 17;
			rule.field[0].mask_range.u8 = 0xff;
		}
		for (int f = 1; f <= NG; f++) {
			if (used >> f & 1) {
				rule.field[f].value.u32 = 0x0ac80000u;   /* 10.200.0.0/16 */
				rule.field[f].mask_range.u32 = 16;
			}
		}
		if (rte_acl_add_rules(c, (const struct rte_acl_rule *)&rule, 1) != 0)
			goto fail;
	}
	if (rte_acl_build(c, &cfg) != 0 || rte_acl_set_ctx_classify(c, alg) != 0)
		goto fail;
	for (int rep = 0; rep < 40; rep++) {
		uint64_t t0 = rte_rdtsc();
		for (int o = 0; o < NKEYS; o += BURST) {
			for (int i = 0; i < BURST; i++)
				ptr[i] = (const uint8_t *)&keys[o + i];
			rte_acl_classify(c, ptr, res, BURST, 1);
			sink += res[0];
		}
		t0 = rte_rdtsc() - t0;
		if (t0 < best)
			best = t0;
	}
	rte_acl_free(c);
	return sink ? (double)best / NKEYS : -1;   /* -1: the keys did not match */
fail:
	rte_acl_free(c);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct { unsigned int used; const char *what; } sets[] = {
		{ 0x01, "first byte" },
		{ 0x03, "first byte + 1 group" },
		{ 0x07, "first byte + 2 groups" },
		{ 0x0f, "first byte + 3 groups" },
		{ 0x1f, "first byte + 4 groups" },
		{ 0x06, "2 groups, first byte open" },
		{ 0x41, "first byte + the last group (5 open between)" },
	};
	static const struct { enum rte_acl_classify_alg alg; const char *name; } algs[] = {
		{ RTE_ACL_CLASSIFY_SCALAR, "scalar" },
		{ RTE_ACL_CLASSIFY_SSE, "sse" },
		{ RTE_ACL_CLASSIFY_AVX2, "avx2" },
		{ RTE_ACL_CLASSIFY_AVX512X32, "avx512x32" },
	};
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "acl-bench: EAL init failed\n");
		return 1;
	}
	/* as the data plane's 'set acl-simd' default does */
	(void)rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
	for (int i = 0; i < NKEYS; i++) {
		keys[i].first = 17;
		for (int g = 0; g < NG; g++)
			keys[i].g[g] = __builtin_bswap32(0x0ac80000u + (uint32_t)i);
	}
	printf("rte_acl cycles/packet, bursts of %d (fastest of 40 passes over %d keys)\n", BURST, NKEYS);
	printf("%-46s", "fields the rule uses");
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++)
		printf(" %10s", algs[a].name);
	printf("\n");
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		printf("%-46s", sets[s].what);
		for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
			double c = run(sets[s].used, 1, algs[a].alg);
			if (c < 0)
				printf(" %10s", "-");
			else
				printf(" %10.1f", c);
		}
		printf("\n");
	}
	rte_eal_cleanup();
	return 0;
}
