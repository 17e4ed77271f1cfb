/* SPDX-License-Identifier: BSD-3-Clause */
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
