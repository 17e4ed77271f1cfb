/* SPDX-License-Identifier: BSD-3-Clause */
/* The latency histogram: bucket bounds and quantiles against exact sorts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "latency.h"

static void latency__bucket_low_inverts_bucket(void **state)
{
	(void)state;
	for (uint64_t c = 0; c < 100000; c++) {
		unsigned int b = es_lat_bucket(c);
		assert_true(es_lat_bucket_low(b) <= c);
		assert_true(es_lat_bucket_low(b + 1) > c);
	}
	for (int shift = 17; shift < 47; shift++) {
		uint64_t c = (1ull << shift) + 12345;
		unsigned int b = es_lat_bucket(c);
		assert_true(b < ES_LAT_BUCKETS);
		assert_true(es_lat_bucket_low(b) <= c && es_lat_bucket_low(b + 1) > c);
	}
}

static void latency__relative_error_is_at_most_one_eighth(void **state)
{
	(void)state;
	for (uint64_t c = 8; c < 1000000; c += 7) {
		unsigned int b = es_lat_bucket(c);
		uint64_t lo = es_lat_bucket_low(b), hi = es_lat_bucket_low(b + 1);
		assert_true((double)(hi - lo) <= (double)lo / 8.0 + 1e-9);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void latency__quantiles_bound_the_exact_ones(void **state)
{
	enum { N = 20000 };
	static uint64_t v[N];
	struct es_lat_hist h;
	const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	(void)state;
	memset(&h, 0, sizeof(h));
	srand(7);
	for (int i = 0; i < N; i++) {
		v[i] = (uint64_t)(rand() % 5000) + (i % 100 == 0 ? 100000u : 0);
		es_lat_add(&h, v[i], 1);
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	assert_int_equal(h.count, N);
	assert_int_equal(h.max, v[N - 1]);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t exact = v[(size_t)(qs[k] * N)];
		uint64_t got = es_lat_quantile(&h, qs[k]);
		assert_true(got >= exact);
		assert_true((double)got <= (double)exact * 1.125 + 1);
	}
}

static void latency__weighted_adds_and_merge(void **state)
{
	struct es_lat_hist a, b;
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	es_lat_add(&a, 100, 32);
	es_lat_add(&b, 100000, 1);
	es_lat_merge(&a, &b);
	assert_int_equal(a.count, 33);
	assert_int_equal(a.max, 100000);
	assert_true(es_lat_quantile(&a, 0.5) >= 100 && es_lat_quantile(&a, 0.5) < 113);
	assert_int_equal(es_lat_quantile(&a, 0.9999), 100000);
	memset(&b, 0, sizeof(b));
	assert_int_equal(es_lat_quantile(&b, 0.5), 0);
}

static void latency__summary_feeds_the_json_dump(void **state)
{
	struct es_lat_hist h;
	struct es_lat_summary s;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	(void)state;
	memset(&h, 0, sizeof(h));
	es_lat_add(&h, 100, 3);            /* bucket [96, 103] */
	es_lat_add(&h, 300, 1);
	es_lat_summarise(&h, 0.5, &s);     /* 2 GHz: 0.5 ns per cycle */
	assert_int_equal(s.packets, 4);
	assert_true(s.ns[ES_LAT_P50] == 51.5);     /* upper edge 103 cycles */
	assert_true(s.ns[ES_LAT_P90] == 150.0);    /* edge 319, capped at max */
	assert_true(s.ns[ES_LAT_MAX] == 150.0);
	assert_true(s.ns[ES_LAT_MEAN] == 75.0);    /* 600 cycles / 4 */
	assert_true(s.ns[ES_LAT_JITTER] > 43.30 && s.ns[ES_LAT_JITTER] < 43.31);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	es_lat_json(f, &h, 0.5, false);
	fclose(f);
	assert_string_equal(text, "{\"packets\": 4, \"p50_ns\": 52, \"p90_ns\": 150, "
			    "\"p99_ns\": 150, \"p999_ns\": 150, \"max_ns\": 150, "
			    "\"mean_ns\": 75.0, \"jitter_ns\": 43.3}");
	free(text);
	memset(&h, 0, sizeof(h));
	es_lat_summarise(&h, 0.5, &s);
	assert_int_equal(s.packets, 0);
	for (int i = 0; i < ES_LAT_NFIELDS; i++)
		assert_true(s.ns[i] == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(latency__bucket_low_inverts_bucket),
		cmocka_unit_test(latency__relative_error_is_at_most_one_eighth),
		cmocka_unit_test(latency__quantiles_bound_the_exact_ones),
		cmocka_unit_test(latency__weighted_adds_and_merge),
		cmocka_unit_test(latency__summary_feeds_the_json_dump),
	};
	return cmocka_run_group_tests_name("latency", tests, NULL, NULL);
}
