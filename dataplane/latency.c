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

const struct es_lat_field_desc es_lat_fields[ES_LAT_NFIELDS] = {
	[ES_LAT_P50]    = { "p50_ns", 0 },
	[ES_LAT_P90]    = { "p90_ns", 0 },
	[ES_LAT_P99]    = { "p99_ns", 0 },
	[ES_LAT_P999]   = { "p999_ns", 0 },
	[ES_LAT_MAX]    = { "max_ns", 0 },
	[ES_LAT_MEAN]   = { "mean_ns", 1 },
	[ES_LAT_JITTER] = { "jitter_ns", 1 },
};

void es_lat_summarise(const struct es_lat_hist *h, double ns,
		      struct es_lat_summary *s)
{
	static const double q[] = {
		[ES_LAT_P50] = .5, [ES_LAT_P90] = .9, [ES_LAT_P99] = .99,
		[ES_LAT_P999] = .999,
	};
	double mean = 0, var = 0;
	if (h->count) {
		mean = h->sum / (double)h->count;
		var = h->sumsq / (double)h->count - mean * mean;
	}
	s->packets = h->count;
	for (int i = ES_LAT_P50; i <= ES_LAT_P999; i++)
		s->ns[i] = (double)es_lat_quantile(h, q[i]) * ns;
	s->ns[ES_LAT_MAX] = (double)h->max * ns;
	s->ns[ES_LAT_MEAN] = mean * ns;
	s->ns[ES_LAT_JITTER] = (var > 0 ? sqrt(var) : 0) * ns;
}

void es_lat_json(FILE *f, const struct es_lat_hist *h, double ns, bool buckets)
{
	struct es_lat_summary s;
	es_lat_summarise(h, ns, &s);
	fprintf(f, "{\"packets\": %llu", (unsigned long long)s.packets);
	for (int i = 0; i < ES_LAT_NFIELDS; i++)
		fprintf(f, ", \"%s\": %.*f", es_lat_fields[i].key,
			es_lat_fields[i].decimals, s.ns[i]);
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
