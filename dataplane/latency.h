/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency histogram: log-linear buckets of TSC cycles, 8 sub-buckets per
 * power of two (relative error <= 12.5 %), up to 2^47 cycles. One per
 * worker, written by that worker only; readers sum them.
 */
#ifndef ES_LATENCY_H
#define ES_LATENCY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ES_LAT_SUB      8
#define ES_LAT_BUCKETS  (48 * ES_LAT_SUB)

struct es_lat_hist {
	uint64_t n[ES_LAT_BUCKETS];
	uint64_t count;
	uint64_t max;
	double sum, sumsq;           /* cycles, for mean and jitter */
};

static inline unsigned int es_lat_bucket(uint64_t c)
{
	unsigned int msb, sub;
	if (c < ES_LAT_SUB)
		return (unsigned int)c;
	msb = 63u - (unsigned int)__builtin_clzll(c);
	sub = (unsigned int)(c >> (msb - 3)) & (ES_LAT_SUB - 1);
	return (msb - 2) * ES_LAT_SUB + sub;
}

/* The smallest value that falls in bucket b (inverse of es_lat_bucket). */
static inline uint64_t es_lat_bucket_low(unsigned int b)
{
	unsigned int msb, sub;
	if (b < ES_LAT_SUB)
		return b;
	msb = b / ES_LAT_SUB + 2;
	sub = b % ES_LAT_SUB;
	return ((uint64_t)(ES_LAT_SUB + sub)) << (msb - 3);
}

/* Record n packets that each took c cycles. */
static inline void es_lat_add(struct es_lat_hist *h, uint64_t c, uint64_t n)
{
	unsigned int b = es_lat_bucket(c);
	if (b >= ES_LAT_BUCKETS)
		b = ES_LAT_BUCKETS - 1;
	h->n[b] += n;
	h->count += n;
	if (c > h->max)
		h->max = c;
	h->sum += (double)c * (double)n;
	h->sumsq += (double)c * (double)c * (double)n;
}

/* Merge src into dst. */
void es_lat_merge(struct es_lat_hist *dst, const struct es_lat_hist *src);
/* The value (cycles) below which a fraction q of the samples fall: the
 * upper edge of the bucket holding the q-quantile (never below the true
 * quantile, at most 12.5 % above). 0 when empty. */
uint64_t es_lat_quantile(const struct es_lat_hist *h, double q);

/* The summary of a histogram, in ns: every value a dump shows. The
 * fields are in es_lat_fields order (the JSON key of each and the
 * decimals it is printed with), so every writer walks that one table. */
enum es_lat_field {
	ES_LAT_P50, ES_LAT_P90, ES_LAT_P99, ES_LAT_P999,
	ES_LAT_MAX, ES_LAT_MEAN, ES_LAT_JITTER, ES_LAT_NFIELDS
};
struct es_lat_field_desc {
	const char *key;             /* "p50_ns" ... "jitter_ns" */
	int decimals;                /* 0 for the bucket-edge values, 1 else */
};
extern const struct es_lat_field_desc es_lat_fields[ES_LAT_NFIELDS];

struct es_lat_summary {
	uint64_t packets;
	double ns[ES_LAT_NFIELDS];   /* indexed by enum es_lat_field */
};

/* Fill s from h: quantiles (es_lat_quantile), max, mean and jitter (the
 * standard deviation), each times ns_per_cycle. All 0 when h is empty.
 * Pure; safe on any thread for an h nobody writes meanwhile (a racing
 * writer gives a slightly inconsistent but bounded result). */
void es_lat_summarise(const struct es_lat_hist *h, double ns_per_cycle,
		      struct es_lat_summary *s);

/* Write h as one JSON object: packets, p50/p90/p99/p999/max/mean/jitter
 * in ns (ns_per_cycle converts), and with buckets its non-empty buckets as
 * [lower bound ns, packets] pairs. */
void es_lat_json(FILE *f, const struct es_lat_hist *h, double ns_per_cycle,
		 bool buckets);

#endif
