/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * es-memlat: what a random cache line costs on a CPU, by working-set size.
 * Chases a pointer through every line of a buffer in a random cycle (one
 * load at a time, each waiting for the last: no prefetcher can guess the
 * next) and prints the cycles a load takes for each buffer size. Where
 * the figure jumps, the working set has left a cache level: on a VM that
 * is where the last-level cache the guest really gets ends, which no
 * lscpu shows. The same idea as Intel MLC's idle latency or lmbench's
 * lat_mem_rd, without their set-up.
 *
 * The data plane's session tables are such a working set: at 100k
 * sessions the uplink TEID index and the sessions (2 MiB + 4 MB) take one
 * random line each a packet, and whether those come from the last-level
 * cache or from DRAM is the cost of a session lookup the prefetches must
 * hide. perf/suite.py runs it on the worker's CPU (docs/perf-notes.md,
 * "Memory latency").
 *
 * Usage: es-memlat [--cpu N] [--sizes KIB[,KIB...]] [--loads N]
 *                  [--pages thp|4k] [--json FILE]
 *   --cpu N      pin to CPU N (default: where it runs)
 *   --sizes      buffer sizes in KiB, each at least 4 (default: 16 KiB to
 *                256 MiB)
 *   --loads N    loads timed a size, in each of three passes, the fastest
 *                pass kept (default 1000000)
 *   --pages      thp (default: 2 MiB transparent huge pages where the
 *                kernel gives them, as the data plane runs on huge pages)
 *                or 4k (4 KiB pages: TLB misses included)
 *   --json FILE  also write the figures as JSON
 */
#include <sys/mman.h>
#include "plat.h"

#define LINE      64
#define MAX_SIZES 32
#define PASSES    3
#define HUGE_SZ   (2u << 20)

static const unsigned long def_sizes[] = { 16, 256, 512, 1024, 2048, 3072, 4096, 5120, 6144,
					   8192, 16384, 65536, 262144 };

static void usage(void)
{
	fprintf(stderr, "usage: es-memlat [--cpu N] [--sizes KIB[,KIB...]] [--loads N] "
		"[--pages thp|4k] [--json FILE]\n");
	exit(2);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: plenty for a shuffle */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Link the n lines of buf into one random cycle (Sattolo's shuffle of the
 * line order); returns the first line. perm: n entries of scratch. */
static void *link_cycle(char *buf, size_t n, uint32_t *perm)
{
	uint64_t s = 0x9E3779B97F4A7C15ULL;
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(rng_next(&s) % i);   /* j < i: one cycle */
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		*(void **)(buf + (size_t)perm[i] * LINE) = buf + (size_t)perm[(i + 1) % n] * LINE;
	return buf + (size_t)perm[0] * LINE;
}

/* The fastest of PASSES passes of 'loads' dependent loads from p, in
 * cycles a load; *pp: where the chase ended (kept live). */
static double chase(void **pp, uint64_t loads)
{
	void *p = *pp;
	uint64_t best = UINT64_MAX;
	for (int k = 0; k < PASSES; k++) {
		uint64_t t0 = __rdtsc(), t1;
		for (uint64_t i = 0; i < loads; i++)
			p = *(void *volatile *)p;
		t1 = __rdtsc();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	*pp = p;
	return (double)best / (double)loads;
}

int main(int argc, char **argv)
{
	int cpu = -1, huge = 1, ns = 0;
	unsigned long sizes[MAX_SIZES];
	double cyc[MAX_SIZES];
	uint64_t loads = 1000000;
	const char *json = NULL;
	size_t max_kib = 0;
	uint32_t *perm;
	char *raw, *buf;
	size_t raw_len;
	double hz;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--cpu") == 0 && v) {
			cpu = (int)plat_num_arg("es-memlat", "--cpu", v, 0, CPU_SETSIZE - 1);
		} else if (strcmp(argv[i], "--loads") == 0 && v) {
			loads = (uint64_t)plat_num_arg("es-memlat", "--loads", v, 1000, 1e9);
		} else if (strcmp(argv[i], "--pages") == 0 && v) {
			if (strcmp(v, "thp") == 0) {
				huge = 1;
			} else if (strcmp(v, "4k") == 0) {
				huge = 0;
			} else {
				fprintf(stderr, "es-memlat: --pages %s: thp or 4k\n", v);
				return 2;
			}
		} else if (strcmp(argv[i], "--sizes") == 0 && v) {
			char list[512], *save = NULL, *tok;
			if (strlen(v) >= sizeof(list))
				usage();
			strcpy(list, v);
			ns = 0;
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (ns == MAX_SIZES) {
					fprintf(stderr, "es-memlat: --sizes: at most %d sizes\n", MAX_SIZES);
					return 2;
				}
				/* 4 KiB to 16 GiB */
				sizes[ns++] = (unsigned long)plat_num_arg("es-memlat", "--sizes", tok, 4,
									  16.0 * 1024 * 1024);
			}
			if (ns == 0)
				usage();
		} else if (strcmp(argv[i], "--json") == 0 && v) {
			json = v;
		} else {
			usage();
		}
		i++;
	}
	if (ns == 0) {
		ns = (int)(sizeof(def_sizes) / sizeof(def_sizes[0]));
		memcpy(sizes, def_sizes, sizeof(def_sizes));
	}
	for (int k = 0; k < ns; k++)
		if (sizes[k] > max_kib)
			max_kib = sizes[k];
	if (plat_pin("es-memlat", cpu) != 0)
		return 1;

	/* one buffer for every size, aligned to a huge page */
	raw_len = max_kib * 1024 + HUGE_SZ;
	raw = mmap(NULL, raw_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	perm = malloc(max_kib * 1024 / LINE * sizeof(*perm));
	if (raw == MAP_FAILED || perm == NULL) {
		fprintf(stderr, "es-memlat: no memory for %zu KiB\n", max_kib);
		return 1;
	}
	buf = (char *)(((uintptr_t)raw + HUGE_SZ - 1) & ~(uintptr_t)(HUGE_SZ - 1));
	if (madvise(buf, max_kib * 1024, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0 && huge)
		fprintf(stderr, "es-memlat: no transparent huge pages (%s): 4 KiB pages\n",
			strerror(errno));
	hz = plat_tsc_hz();

	for (int k = 0; k < ns; k++) {
		size_t n = sizes[k] * 1024 / LINE;
		void *p = link_cycle(buf, n, perm);
		/* a pass over the cycle (up to 'loads' lines) to warm what fits */
		(void)chase(&p, n < loads ? n : loads);
		cyc[k] = chase(&p, loads);
		if (p == NULL)   /* never: keeps the chase's result live */
			return 1;
	}
	munmap(raw, raw_len);
	free(perm);

	printf("es-memlat: CPU %d, one random dependent load at a time, %s pages, TSC %.2f GHz\n",
	       cpu >= 0 ? cpu : sched_getcpu(), huge ? "transparent huge" : "4 KiB", hz / 1e9);
	for (int k = 0; k < ns; k++)
		printf("  %9lu KiB: %7.1f cycles %7.1f ns a load\n", sizes[k], cyc[k],
		       cyc[k] / hz * 1e9);
	if (json) {
		FILE *f = plat_json_open("es-memlat", json);
		if (f == NULL)
			return 1;
		fprintf(f, "{\"cpu\": %d, \"tsc_hz\": %.0f, \"pages\": \"%s\", \"loads\": %llu, "
			"\"sizes\": [", cpu >= 0 ? cpu : sched_getcpu(), hz, huge ? "thp" : "4k",
			(unsigned long long)loads);
		for (int k = 0; k < ns; k++)
			fprintf(f, "%s{\"kib\": %lu, \"cycles\": %.2f, \"ns\": %.2f}", k ? ", " : "",
				sizes[k], cyc[k], cyc[k] / hz * 1e9);
		fprintf(f, "]}\n");
		if (plat_json_close("es-memlat", json, f) != 0)
			return 1;
	}
	return 0;
}
