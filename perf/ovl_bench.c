/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Overlap index figures (build/ovl-bench): over N MEC-like base rules
 * (the shape of perf/suite.py's config(): rule 10 dst 10.200.0.0/16 proto
 * udp dport 4000-4999, then dst /24 + proto + dport range), the time of
 * es_ovl_build and, for Q queries with a random base rule as c and its
 * position as from (what a delete or change of that rule asks), the
 * mean and max of es_ovl_query against the linear scan rules.c makes
 * today (es_rules_overlap over every later position). Both must find the
 * same positions; the program fails if not.
 *
 * Usage: ovl-bench [N [Q]]   (defaults 100000 10000). No EAL, no DPDK
 * call: plain clock_gettime.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rules_ovl.h"
#include "mec_rules.h"


static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}


static void count(void *arg, uint32_t j)
{
	(void)j;
	(*(uint64_t *)arg)++;
}

static int dcmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* mean, median, 99th percentile and max of d[0..n) (sorts d) */
static void stats(const char *what, double *d, uint32_t n)
{
	double sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum += d[i];
	qsort(d, n, sizeof(*d), dcmp);
	printf("%-14s mean %8.3f us  p50 %8.3f  p99 %8.3f  max %8.3f\n", what, sum / n,
	       d[n / 2], d[(uint32_t)((uint64_t)n * 99 / 100)], d[n - 1]);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
	uint32_t q = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 10000;
	struct es_cmd_rule *slots = calloc(n ? n : 1, sizeof(*slots));
	uint32_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	double *di = malloc((q ? q : 1) * sizeof(*di)), *ds = malloc((q ? q : 1) * sizeof(*ds));
	double t0, build_min = 1e18, build_sum = 0, free_us = 0;
	uint64_t found = 0;
	struct es_ovl *o = NULL;
	enum { BUILDS = 5 };

	if (slots == NULL || idx == NULL || di == NULL || ds == NULL || n < 2 || q < 1) {
		fprintf(stderr, "ovl-bench: need N >= 2, Q >= 1 and the memory for them\n");
		return 1;
	}
	/* rule 10 first, then the MEC-like rules; slot = position */
	slots[0].prio = 10;
	slots[0].dir = ES_DIR_ANY;
	slots[0].has_dst = 1;
	slots[0].dst.plen = 16;
	slots[0].dst.a[0] = 10;
	slots[0].dst.a[1] = 200;
	slots[0].has_proto = 1;
	slots[0].proto = 17;
	slots[0].sport_hi = 65535;
	slots[0].dport_lo = 4000;
	slots[0].dport_hi = 4999;
	idx[0] = 0;
	for (uint32_t k = 1; k < n; k++) {
		mec_rule(&slots[k], 100 + k - 1);
		idx[k] = k;
	}
	for (int b = 0; b < BUILDS; b++) {
		double d;
		if (o != NULL) {
			t0 = now_us();
			es_ovl_free(o);
			free_us = now_us() - t0;
		}
		t0 = now_us();
		o = es_ovl_build(slots, idx, n);
		d = now_us() - t0;
		if (o == NULL) {
			fprintf(stderr, "ovl-bench: out of memory building the index\n");
			return 1;
		}
		build_min = d < build_min ? d : build_min;
		build_sum += d;
	}
	for (uint32_t i = 0; i < q; i++) {
		uint32_t from = mec_rnd(n);
		const struct es_cmd_rule *c = &slots[idx[from]];
		uint64_t fi = 0, fs = 0;
		t0 = now_us();
		es_ovl_query(o, slots, idx, c, from, count, &fi);
		di[i] = now_us() - t0;
		t0 = now_us();
		for (uint32_t j = from + 1; j < n; j++)
			fs += (uint64_t)es_rules_overlap(c, &slots[idx[j]]);
		ds[i] = now_us() - t0;
		if (fi != fs) {
			fprintf(stderr, "ovl-bench: query %u (from %u): index %lu, scan %lu\n",
				i, from, (unsigned long)fi, (unsigned long)fs);
			return 1;
		}
		found += fi;
	}
	es_ovl_free(o);
	printf("rules %u, queries %u (c = a random base rule, from = its position)\n", n, q);
	printf("es_ovl_build   best %.2f ms, mean %.2f ms of %d (es_ovl_free %.2f ms)\n",
	       build_min / 1e3, build_sum / BUILDS / 1e3, BUILDS, free_us / 1e3);
	stats("es_ovl_query", di, q);
	stats("linear scan", ds, q);
	printf("overlapping later rules per query: mean %.3f (index and scan agree)\n",
	       (double)found / q);
	free(slots);
	free(idx);
	free(di);
	free(ds);
	return 0;
}
