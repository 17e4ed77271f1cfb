/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the platform probes of perf/ share (es-jitter, es-memlat): plain C,
 * no DPDK, so they run on a machine before anything else is set up.
 */
#ifndef ES_PLAT_H
#define ES_PLAT_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

static inline double plat_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The TSC rate against CLOCK_MONOTONIC_RAW over ~100 ms. */
static inline double plat_tsc_hz(void)
{
	double s0 = plat_mono_s(), s1;
	uint64_t t0 = __rdtsc(), t1;
	do {
		s1 = plat_mono_s();
	} while (s1 - s0 < 0.1);
	t1 = __rdtsc();
	return (double)(t1 - t0) / (s1 - s0);
}

/* Option opt's value v as a number in [lo, hi]; else a message naming
 * prog and exit 2. */
static inline double plat_num_arg(const char *prog, const char *opt, const char *v,
				  double lo, double hi)
{
	char *end;
	double x;
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end != '\0' || x < lo || x > hi) {
		fprintf(stderr, "%s: %s %s: a number from %g to %g\n", prog, opt, v, lo, hi);
		exit(2);
	}
	return x;
}

/* Pin the calling thread to cpu (nothing when cpu < 0). 0, or -1 with a
 * message naming prog. */
static inline int plat_pin(const char *prog, int cpu)
{
	cpu_set_t set;
	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "%s: cannot run on CPU %d: %s\n", prog, cpu, strerror(errno));
		return -1;
	}
	return 0;
}

/* The --json file: opened for writing, or NULL with a message naming
 * prog. */
static inline FILE *plat_json_open(const char *prog, const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	return f;
}

/* Close the --json file: 0, or 1 (the exit status) with a message when
 * what was written did not reach it. */
static inline int plat_json_close(const char *prog, const char *path, FILE *f)
{
	if (fclose(f) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return 1;
	}
	return 0;
}

#endif
