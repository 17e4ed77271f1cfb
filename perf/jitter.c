/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * es-jitter: how much of a CPU the platform takes away. Spins on one CPU
 * for a few seconds reading the TSC back to back, as a poll-mode worker
 * does, and records every gap between two reads longer than a threshold:
 * the time the thread did not run (an interrupt, the kernel's tick, a
 * hypervisor that runs something else on the physical core). The same
 * idea as sysjitter and hwlatdetect, without their set-up.
 *
 * A data plane on that CPU loses the same time: a gap that falls between
 * a burst's rx and its tx shows in every packet of the burst's latency,
 * and the gaps' share of the time inflates cycles per packet by as much.
 * perf/suite.py runs it on the worker's CPU before and after the data-plane
 * runs (docs/perf-notes.md, "Platform noise").
 *
 * Usage: es-jitter [--cpu N] [--seconds S] [--threshold-us T]
 *                  [--inject N:US] [--json FILE]
 *   --cpu N         pin to CPU N (default: where it runs)
 *   --seconds S     spin for S seconds (default 3)
 *   --threshold-us  a gap shorter than this is not counted (default 1)
 *   --inject N:US   sleep N times for US microseconds, spread over the run:
 *                   gaps of known size, for tests of the tool itself
 *   --json FILE     also write the figures as JSON
 * Prints one line: gaps a second, share of the time lost, longest gap;
 * then the gaps by size class (powers of two, in microseconds).
 */
#include "plat.h"

#define N_CLASS 24   /* [2^k, 2^(k+1)) us; the first from the threshold */

struct class_cnt {
	uint64_t n;
	uint64_t cycles;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: es-jitter [--cpu N] [--seconds S] [--threshold-us T] "
		"[--inject N:US] [--json FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int cpu = -1;
	double seconds = 3, thr_us = 1;
	long inj_n = 0;
	double inj_us = 0;
	const char *json = NULL;
	struct class_cnt cls[N_CLASS];
	uint64_t gaps = 0, lost = 0, longest = 0, dur, thr, t0, prev, next_inj, inj_every;
	long injected = 0;
	double hz;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--cpu") == 0 && v) {
			cpu = (int)plat_num_arg("es-jitter", "--cpu", v, 0, CPU_SETSIZE - 1);
		} else if (strcmp(argv[i], "--seconds") == 0 && v) {
			seconds = plat_num_arg("es-jitter", "--seconds", v, 0.01, 3600);
		} else if (strcmp(argv[i], "--threshold-us") == 0 && v) {
			thr_us = plat_num_arg("es-jitter", "--threshold-us", v, 0.05, 1e6);
		} else if (strcmp(argv[i], "--inject") == 0 && v) {
			char *end;
			inj_n = strtol(v, &end, 10);
			if (end == v || *end != ':' || inj_n < 1 || inj_n > 100000)
				usage();
			inj_us = plat_num_arg("es-jitter", "--inject", end + 1, 1, 1e6);
		} else if (strcmp(argv[i], "--json") == 0 && v) {
			json = v;
		} else {
			usage();
		}
		i++;
	}
	if (plat_pin("es-jitter", cpu) != 0)
		return 1;
	hz = plat_tsc_hz();
	memset(cls, 0, sizeof(cls));
	dur = (uint64_t)(seconds * hz);
	thr = (uint64_t)(thr_us * 1e-6 * hz);
	inj_every = inj_n ? dur / (uint64_t)(inj_n + 1) : UINT64_MAX;
	t0 = prev = __rdtsc();
	next_inj = t0 + inj_every;
	for (;;) {
		uint64_t t = __rdtsc(), d = t - prev;
		prev = t;
		if (d > thr) {
			double us = (double)d / hz * 1e6;
			int k = 0;
			while (us >= 2 && k < N_CLASS - 1) {
				us /= 2;
				k++;
			}
			cls[k].n++;
			cls[k].cycles += d;
			gaps++;
			lost += d;
			if (d > longest)
				longest = d;
		}
		if (t - t0 >= dur)
			break;
		if (t >= next_inj && injected < inj_n) {
			struct timespec ts = { 0, (long)(inj_us * 1e3) };
			ts.tv_sec = ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			nanosleep(&ts, NULL);
			injected++;
			next_inj += inj_every;
		}
	}
	dur = prev - t0;
	printf("es-jitter: CPU %d, %.2f s: %.1f gaps a second over %.2f us, %.3f %% of the time lost, longest %.1f us\n",
	       cpu >= 0 ? cpu : sched_getcpu(), (double)dur / hz,
	       (double)gaps / ((double)dur / hz), thr_us, 100.0 * (double)lost / (double)dur,
	       (double)longest / hz * 1e6);
	for (int k = 0; k < N_CLASS; k++)
		if (cls[k].n)
			printf("  %7g-%-7u us: %8llu gaps, %.3f %% of the time\n",
			       k ? (double)(1u << k) : thr_us, 2u << k, (unsigned long long)cls[k].n,
			       100.0 * (double)cls[k].cycles / (double)dur);
	if (json) {
		FILE *f = plat_json_open("es-jitter", json);
		int first = 1;
		if (f == NULL)
			return 1;
		fprintf(f, "{\"cpu\": %d, \"seconds\": %.4f, \"tsc_hz\": %.0f, \"threshold_us\": %g, "
			"\"injected\": %ld, \"gaps\": %llu, \"gaps_per_s\": %.2f, \"lost_pct\": %.4f, "
			"\"longest_us\": %.2f, \"classes\": [",
			cpu >= 0 ? cpu : sched_getcpu(), (double)dur / hz, hz, thr_us, injected,
			(unsigned long long)gaps, (double)gaps / ((double)dur / hz),
			100.0 * (double)lost / (double)dur, (double)longest / hz * 1e6);
		for (int k = 0; k < N_CLASS; k++) {
			if (!cls[k].n)
				continue;
			fprintf(f, "%s{\"from_us\": %g, \"to_us\": %u, \"gaps\": %llu, \"lost_pct\": %.4f}",
				first ? "" : ", ", k ? (double)(1u << k) : thr_us, 2u << k,
				(unsigned long long)cls[k].n,
				100.0 * (double)cls[k].cycles / (double)dur);
			first = 0;
		}
		fprintf(f, "]}\n");
		if (plat_json_close("es-jitter", json, f) != 0)
			return 1;
	}
	return 0;
}
