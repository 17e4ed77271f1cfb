/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include "latency.h"

void es_lat_merge(struct es_lat_hist *dst, const struct es_lat_hist *src)
{
	for (unsigned int b = 0; b < ES_LAT_BUCKETS; b++)
		dst->n[b] += src->n[b];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum += src->sum;
	dst->sumsq += src->sumsq;
}

uint64_t es_lat_quantile(const struct es_lat_hist *h, double q)
{
	uint64_t want, seen = 0;
	if (h->count == 0)
		return 0;
	want = (uint64_t)(q * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (unsigned int b = 0; b < ES_LAT_BUCKETS; b++) {
		seen += h->n[b];
		if (seen > want) {
			uint64_t hi = b + 1 < ES_LAT_BUCKETS ? es_lat_bucket_low(b + 1) - 1
							     : h->max;
			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}

void es_lat_json(FILE *f, const struct es_lat_hist *h, double ns, bool buckets)
{
	static const struct { const char *k; double q; } qs[] = {
		{ "p50", .5 }, { "p90", .9 }, { "p99", .99 }, { "p999", .999 },
	};
	double mean = 0, var = 0;
	if (h->count) {
		mean = h->sum / (double)h->count;
		var = h->sumsq / (double)h->count - mean * mean;
	}
	fprintf(f, "{\"packets\": %llu", (unsigned long long)h->count);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		fprintf(f, ", \"%s_ns\": %.0f", qs[i].k,
			(double)es_lat_quantile(h, qs[i].q) * ns);
	fprintf(f, ", \"max_ns\": %.0f, \"mean_ns\": %.1f, \"jitter_ns\": %.1f",
		(double)h->max * ns, mean * ns, (var > 0 ? sqrt(var) : 0) * ns);
	if (buckets) {
		fprintf(f, ",\n    \"buckets\": [");
		for (unsigned int b = 0, first = 1; b < ES_LAT_BUCKETS; b++) {
			if (!h->n[b])
				continue;
			fprintf(f, "%s[%.1f, %llu]", first ? "" : ", ",
				(double)es_lat_bucket_low(b) * ns,
				(unsigned long long)h->n[b]);
			first = 0;
		}
		fprintf(f, "]");
	}
	fprintf(f, "}");
}
