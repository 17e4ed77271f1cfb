/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * es-coreprobe: is this CPU's core running alone, right now? Two short
 * loops, sampled in turn:
 *   ALU  eight independent chains of register adds: bound by how many
 *        integer operations the core issues a cycle, which it shares with
 *        whatever runs on its SMT sibling;
 *   L1   a pointer chase through 16 KiB (L1-resident): bound by the
 *        load-to-use latency, which a sibling barely changes.
 * A lower clock slows both alike; a busy sibling thread (on a VM: another
 * guest's vCPU on the same physical core) slows the ALU loop and leaves
 * the chase where it was. The figures are TSC cycles an iteration; the
 * median of the samples is printed with its range.
 *
 * perf/suite.py runs it next to every testpmd floor check, so that the
 * report can say why the floor moved (docs/perf-notes.md, "Core sharing").
 *
 * Usage: es-coreprobe [--cpu N] [--samples N] [--json FILE]
 *   --cpu N      pin to CPU N (default: where it runs)
 *   --samples N  samples of each loop, ~1 ms each (default 9)
 *   --json FILE  also write the figures as JSON
 */
#include "plat.h"

#define ITERS    500000
#define MAX_SAMP 1000
#define L1_LINES 256      /* 16 KiB of 64-byte lines */

static void *ring[L1_LINES * 8] __attribute__((aligned(64)));

static void usage(void)
{
	fprintf(stderr, "usage: es-coreprobe [--cpu N] [--samples N] [--json FILE]\n");
	exit(2);
}

/* TSC cycles an iteration of eight independent adds */
static double alu(void)
{
	uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, n = ITERS, t0, t1;
	t0 = __rdtsc();
	/* the whole loop in assembly: eight adds and a fused dec/jnz, no
	 * register moves the compiler might add */
	__asm__ volatile("1:\n\t"
			 "add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\tadd $1, %3\n\t"
			 "add $1, %4\n\tadd $1, %5\n\tadd $1, %6\n\tadd $1, %7\n\t"
			 "dec %8\n\tjnz 1b"
			 : "+r"(a), "+r"(b), "+r"(c), "+r"(d),
			   "+r"(e), "+r"(f), "+r"(g), "+r"(h), "+r"(n) : : "cc");
	t1 = __rdtsc();
	__asm__ volatile("" : : "r"(a + b + c + d + e + f + g + h));
	return (double)(t1 - t0) / ITERS;
}

/* TSC cycles a dependent load through the L1-resident ring */
static double l1(void)
{
	void **p = &ring[0];
	uint64_t t0, t1;
	t0 = __rdtsc();
	for (uint64_t i = 0; i < ITERS; i++)
		p = *(void **volatile)p;
	t1 = __rdtsc();
	__asm__ volatile("" : : "r"(p));
	return (double)(t1 - t0) / ITERS;
}

static int cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
	int cpu = -1, n = 9;
	const char *json = NULL;
	static double sa[MAX_SAMP], sl[MAX_SAMP];
	double hz;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--cpu") == 0 && v)
			cpu = (int)plat_num_arg("es-coreprobe", "--cpu", v, 0, CPU_SETSIZE - 1);
		else if (strcmp(argv[i], "--samples") == 0 && v)
			n = (int)plat_num_arg("es-coreprobe", "--samples", v, 1, MAX_SAMP);
		else if (strcmp(argv[i], "--json") == 0 && v)
			json = v;
		else
			usage();
		i++;
	}
	if (plat_pin("es-coreprobe", cpu) != 0)
		return 1;
	/* one line in eight of the array, visited in a scattered cycle
	 * (stride 97 lines, coprime with 256) */
	for (int i = 0; i < L1_LINES; i++)
		ring[i * 8] = &ring[((i * 97 + 13) % L1_LINES) * 8];
	hz = plat_tsc_hz();
	(void)alu();   /* warm up */
	(void)l1();
	for (int k = 0; k < n; k++) {
		sa[k] = alu();
		sl[k] = l1();
	}
	qsort(sa, (size_t)n, sizeof(sa[0]), cmp_d);
	qsort(sl, (size_t)n, sizeof(sl[0]), cmp_d);
	printf("es-coreprobe: CPU %d, %d samples, TSC %.2f GHz: ALU %.2f TSC cycles per 8 "
	       "independent adds (%.2f-%.2f), L1 %.2f a dependent load (%.2f-%.2f)\n",
	       cpu >= 0 ? cpu : sched_getcpu(), n, hz / 1e9, sa[n / 2], sa[0], sa[n - 1],
	       sl[n / 2], sl[0], sl[n - 1]);
	if (json) {
		FILE *f = plat_json_open("es-coreprobe", json);
		if (f == NULL)
			return 1;
		fprintf(f, "{\"cpu\": %d, \"tsc_hz\": %.0f, \"samples\": %d, "
			"\"alu\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f}, "
			"\"l1\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f}}\n",
			cpu >= 0 ? cpu : sched_getcpu(), hz, n, sa[n / 2], sa[0], sa[n - 1],
			sl[n / 2], sl[0], sl[n - 1]);
		if (plat_json_close("es-coreprobe", json, f) != 0)
			return 1;
	}
	return 0;
}
