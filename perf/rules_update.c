/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule update benchmark (build/rules-bench): at 1k, 10k and 100k
 * MEC-like base rules (the shape of perf/suite.py's config()), measures
 *   - the full rte_acl build of the base (es_rules_init),
 *   - es_rules_update latency for a single add / change / del,
 *   - updates per second over a stream of mixed single updates,
 *     background merges included,
 *   - classify cycles per packet (es_classify_rules, bursts of 32) with
 *     an empty and a non-empty delta.
 * No worker runs, so the RCU grace period of a publication is free here;
 * with workers it adds about one worker round.
 *
 * Usage: rules-bench [--sizes 1000,10000,100000] [--ops N] [--stream N]
 *                    [--stream-s SECONDS] [--acl-simd 0|128|256|512]
 *                    (EAL options first, then --)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include "classify.h"
#include "rules.h"
#include "mec_rules.h"



static double ms(uint64_t c)
{
	return (double)c * 1e3 / (double)rte_get_tsc_hz();
}

static double us(uint64_t c)
{
	return (double)c * 1e6 / (double)rte_get_tsc_hz();
}

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void pct(uint64_t *v, unsigned int n, double *med, double *p99, double *max)
{
	qsort(v, n, sizeof(*v), u64cmp);
	*med = us(v[n / 2]);
	*p99 = us(v[(uint64_t)n * 99 / 100]);
	*max = us(v[n - 1]);
}

static uint64_t bench_sink;   /* keeps the classify results live */
static uint32_t *prios;   /* live PRIOs (unordered) */
static uint32_t n_prios, next_prio;

static int update1(uint8_t verb, uint64_t *cyc)
{
	struct es_cmd c;
	const struct es_cmd *pc = &c;
	char err[ES_ERR_MAX];
	uint32_t i = 0;
	uint64_t t0;
	memset(&c, 0, sizeof(c));
	c.obj = ES_OBJ_RULE;
	c.verb = verb;
	if (verb == ES_VERB_ADD) {
		mec_rule(&c.u.rule, next_prio++);
	} else {
		i = mec_rnd(n_prios);
		if (verb == ES_VERB_CHANGE)
			mec_rule(&c.u.rule, prios[i]);
		else
			c.u.rule.prio = prios[i];
	}
	t0 = rte_rdtsc();
	if (es_rules_update(&pc, 1, err)) {
		fprintf(stderr, "rules-bench: update: %s\n", err);
		return -1;
	}
	*cyc = rte_rdtsc() - t0;
	if (verb == ES_VERB_ADD)
		prios[n_prios++] = c.u.rule.prio;
	else if (verb == ES_VERB_DEL)
		prios[i] = prios[--n_prios];
	return 0;
}

/* cycles per packet of es_classify_rules over keys, bursts of 32: the
 * fastest of 16 passes after 4 warm-up passes (the code is deterministic;
 * slower passes measure the machine's noise, not it) */
static double classify_cpp(const struct es_key4 *keys, unsigned int nk)
{
	const struct es_tables *t = es_tables_live;
	const uint8_t *p[ES_BURST];
	uint32_t res[ES_BURST];
	uint64_t t0, best = UINT64_MAX, sink = 0;
	for (int rep = 0; rep < 20; rep++) {
		t0 = rte_rdtsc();
		for (unsigned int o = 0; o + ES_BURST <= nk; o += ES_BURST) {
			for (unsigned int i = 0; i < ES_BURST; i++)
				p[i] = (const uint8_t *)&keys[o + i];
			es_classify_rules(t, 0, p, res, ES_BURST);
			sink += res[0];
		}
		t0 = rte_rdtsc() - t0;
		if (rep >= 4 && t0 < best)   /* warm-up passes left out */
			best = t0;
	}
	__atomic_store_n(&bench_sink, sink, __ATOMIC_RELAXED);
	return (double)best / (double)(nk / ES_BURST * ES_BURST);
}

static void run(uint32_t n, unsigned int n_ops, unsigned int n_stream, double stream_s)
{
	struct es_tables *t = rte_zmalloc("t", sizeof(*t), 0);
	struct es_key4 *keys = calloc(4096, sizeof(*keys));
	uint64_t *lat = calloc(n_ops, sizeof(*lat));
	struct es_rules_stats st0, st;
	char err[ES_ERR_MAX];
	double build_ms, med[3], p99[3], mx[3], cpp0, cpp1, rate;
	uint64_t t0;
	unsigned int done, dsize, bdone;
	double brate;

	mec_seed(88172645463325252ull ^ n);
	t->max_rules = n + n_stream + n_ops * 3 + 64;
	t->rules = rte_zmalloc("r", (size_t)t->max_rules * sizeof(struct es_rule), 0);
	t->rule_defs = rte_zmalloc("d", (size_t)t->max_rules * sizeof(struct es_cmd_rule), 0);
	t->apps = rte_zmalloc("a", ES_MAX_APPS * sizeof(struct es_app), 0);
	prios = malloc(((size_t)t->max_rules + 1) * sizeof(*prios));
	if (!t->rules || !t->rule_defs || !t->apps || !prios || !keys || !lat) {
		fprintf(stderr, "rules-bench: out of memory (raise -m)\n");
		exit(1);
	}
	for (uint32_t k = 0; k < n; k++) {
		mec_rule(&t->rule_defs[k], 100 + k);
		prios[k] = 100 + k;
	}
	t->n_rules = n;
	n_prios = n;
	next_prio = 100 + n;
	/* keys on the rules' prefixes, ports anywhere */
	for (unsigned int i = 0; i < 4096; i++) {
		const struct es_cmd_rule *r = &t->rule_defs[mec_rnd(n)];
		keys[i].proto = mec_rnd(2) ? 6 : 17;
		keys[i].dir = ES_DIR_UL;
		keys[i].qfi = 9;
		memcpy(&keys[i].dst_be, r->dst.a, 4);
		((uint8_t *)&keys[i].dst_be)[3] = (uint8_t)mec_rnd(256);
		keys[i].src_be = rte_cpu_to_be_32(0x0a2d0000u + mec_rnd(65536));
		keys[i].ue_be = keys[i].src_be;
		keys[i].sport_be = rte_cpu_to_be_16((uint16_t)mec_rnd(65536));
		keys[i].dport_be = rte_cpu_to_be_16((uint16_t)mec_rnd(65536));
		keys[i].teid_be = rte_cpu_to_be_32(mec_rnd(100000));
	}

	t0 = rte_rdtsc();
	if (es_rules_init(t, err)) {
		fprintf(stderr, "rules-bench: %s\n", err);
		exit(1);
	}
	build_ms = ms(rte_rdtsc() - t0);
	es_tables_live = t;

	/* classify, empty delta */
	cpp0 = classify_cpp(keys, 4096);

	/* single updates: each kind n_ops times, poll between them as the
	 * control loop does */
	for (int kind = 0; kind < 3; kind++) {
		static const uint8_t verbs[3] = { ES_VERB_ADD, ES_VERB_CHANGE, ES_VERB_DEL };
		for (unsigned int i = 0; i < n_ops; i++) {
			if (update1(verbs[kind], &lat[i]))
				exit(1);
			es_rules_poll();
		}
		pct(lat, n_ops, &med[kind], &p99[kind], &mx[kind]);
	}

	/* classify with a delta: settle, then 32 changes without a merge */
	es_rules_settle();
	es_rules_tune(1000000, 0, 1000000);
	for (unsigned int i = 0; i < 32; i++) {
		uint64_t c;
		if (update1(i % 3 == 0 ? ES_VERB_ADD : i % 3 == 1 ? ES_VERB_CHANGE : ES_VERB_DEL, &c))
			exit(1);
	}
	es_rules_stats(&st);
	dsize = st.delta;
	cpp1 = classify_cpp(keys, 4096);
	es_rules_tune(32, 0, 100);

	/* a stream of mixed single updates, merges included */
	es_rules_settle();
	es_rules_stats(&st0);
	t0 = rte_rdtsc();
	for (done = 0; done < n_stream; done++) {
		uint64_t c;
		if (update1(done % 3 == 0 ? ES_VERB_ADD : done % 3 == 1 ? ES_VERB_CHANGE : ES_VERB_DEL, &c))
			exit(1);
		es_rules_poll();
		if ((done & 63) == 0 && ms(rte_rdtsc() - t0) > stream_s * 1e3)
			break;
	}
	rate = done / (ms(rte_rdtsc() - t0) / 1e3);
	es_rules_stats(&st);

	/* the same in batches of 100 (one publication per batch) */
	{
		struct es_cmd *cb = calloc(100, sizeof(*cb));
		const struct es_cmd *pb[100];
		uint64_t t1;
		if (cb == NULL)
			exit(1);
		es_rules_settle();
		t1 = rte_rdtsc();
		for (bdone = 0; bdone < n_stream;) {
			/* half adds of new PRIOs, half dels */
			for (unsigned int i = 0; i < 100; i++) {
				memset(&cb[i], 0, sizeof(cb[i]));
				cb[i].obj = ES_OBJ_RULE;
				pb[i] = &cb[i];
				if (i % 2 == 0) {
					cb[i].verb = ES_VERB_ADD;
					mec_rule(&cb[i].u.rule, next_prio++);
					prios[n_prios++] = cb[i].u.rule.prio;
				} else {
					/* an existing PRIO, or one added earlier
					 * in this batch: valid in order */
					uint32_t k = mec_rnd(n_prios);
					cb[i].verb = ES_VERB_DEL;
					cb[i].u.rule.prio = prios[k];
					prios[k] = prios[--n_prios];
				}
			}
			if (es_rules_update(pb, 100, err)) {
				fprintf(stderr, "rules-bench: batch: %s\n", err);
				exit(1);
			}
			bdone += 100;
			es_rules_poll();
			if (ms(rte_rdtsc() - t1) > stream_s * 1e3)
				break;
		}
		brate = bdone / (ms(rte_rdtsc() - t1) / 1e3);
		free(cb);
	}

	printf("%7u | %9.1f | %6.1f %7.1f | %6.1f %7.1f | %6.1f %7.1f | %8.0f (%u ops; merges %llu, waits %llu, sync %llu) | %8.0f | %5.1f | %5.1f (delta %u)\n",
	       n, build_ms, med[0], p99[0], med[1], p99[1], med[2], p99[2], rate, done,
	       (unsigned long long)(st.merges - st0.merges),
	       (unsigned long long)(st.merge_waits - st0.merge_waits),
	       (unsigned long long)(st.sync_rebuilds - st0.sync_rebuilds),
	       brate, cpp0, cpp1, dsize);
	fflush(stdout);

	es_rules_fini();
	t = es_tables_live;
	es_acl_free(&t->acl);
	rte_free(t->rules);
	rte_free(t->rule_defs);
	rte_free(t->apps);
	rte_free(t);
	es_tables_live = NULL;
	free(prios);
	free(keys);
	free(lat);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 'n' },
		{ "ops", required_argument, NULL, 'o' },
		{ "stream", required_argument, NULL, 's' },
		{ "stream-s", required_argument, NULL, 'S' },
		{ "acl-simd", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	char sizes[128] = "1000,10000,100000";
	unsigned int n_ops = 1000, n_stream = 20000;
	double stream_s = 20;
	uint32_t simd = ES_ACL_SIMD_AUTO;
	char err[ES_ERR_MAX];
	int ret = rte_eal_init(argc, argv), opt;
	if (ret < 0) {
		fprintf(stderr, "rules-bench: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': snprintf(sizes, sizeof(sizes), "%s", optarg); break;
		case 'o': n_ops = (unsigned int)atoi(optarg); break;
		case 's': n_stream = (unsigned int)atoi(optarg); break;
		case 'S': stream_s = atof(optarg); break;
		case 'A': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || v > 512) {
				fprintf(stderr, "rules-bench: --acl-simd %s: 0, 128, 256 or 512\n", optarg);
				return 2;
			}
			simd = (uint32_t)v;   /* es_acl_setup refuses other widths */
			break;
		}
		default:
			fprintf(stderr, "usage: rules-bench [EAL] -- [--sizes N,N] [--ops N] [--stream N] [--stream-s S] [--acl-simd 0|128|256|512]\n");
			return 2;
		}
	}
	if (n_ops == 0 || n_stream == 0) {
		fprintf(stderr, "rules-bench: --ops and --stream take a positive number\n");
		return 2;
	}
	/* the data plane's 'set acl-simd' (default: the widest the CPU runs) */
	if (es_acl_setup(simd, err)) {
		fprintf(stderr, "rules-bench: %s\n", err);
		return 2;
	}
	printf("rte_acl method: %s\n", es_acl_method());
	printf("  rules | full build | add us     | change us  | del us     | single updates/s | batches of 100: updates/s | classify cycles/pkt\n");
	printf("        |        ms  | med    p99 | med    p99 | med    p99 |                  |          | no delta | delta\n");
	for (char *s = strtok(sizes, ","); s; s = strtok(NULL, ","))
		run((uint32_t)atoi(s), n_ops, n_stream, stream_s);
	rte_eal_cleanup();
	return 0;
}
