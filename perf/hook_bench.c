/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The eBPF hooks' cost per packet (build/hook-bench; docs/ebpf.md "Cost"),
 * in one run: es_hook_run at one stage boundary, on prepared contexts and
 * packets, against the same loop that does not call it.
 *
 *   base          the loop alone: the packet's context, no hook call
 *   off           es_hook_run with nothing attached anywhere (the fast path)
 *   other         a program attached at another point only (this point
 *                 pays the set's walk, and runs nothing)
 *   empty         one program that returns continue (tests/bpf/hook_bench.c)
 *   SAMPLE        each of ebpf/samples/ at its documented point
 *   pkt_read      one es_pkt_load of the packet (tests/bpf/hook_bench.c)
 *   empty_x4      four empty programs at one point
 *   samples_x4    the four samples at one point, in order
 * each program JIT-compiled, and (".../interp") interpreted by
 * rte_bpf_exec (es_hook_use_jit(0)).
 *
 * The contexts are those of 256 uplink G-PDUs (Ethernet, IPv4, UDP,
 * GTP-U with a PDU session container, a 64-byte inner IPv4 UDP or TCP
 * packet), a fixed pseudo-random mix: UEs in and out of 10.45.0.0/24,
 * DSCP 46 / 34 / 0, QFI 1 / 2 / 5 / 9, some ports 6881-6889, rules 80 %
 * relay, 20 % local; the packets run in that order, round after round.
 * Filling the context is the stage's work and is not measured here.
 *
 * Method: every case runs `--iters` packets per round, `--rounds`
 * rounds, the cases in turn within a round (so that a slow swing of a
 * shared host falls on all of them) after one untimed warm-up pass each.
 * A case's figure is the median of its rounds' cycles per packet (TSC),
 * its spread the fastest and slowest round; "added" is the median over
 * the rounds of (case - base) of the same round. The goals (issue 18):
 * nothing attached costs nothing measurable (read as <= 1 cycle), an
 * empty attached program <= 5, a sample <= 30, JIT-compiled.
 *
 * Modes. A driver runs one case's round. The one here, "direct", calls
 * es_hook_run in a loop as a stage would. A "pipeline" driver fits the
 * same table: the setup attaches the same programs through the same
 * control calls, and its round runs es_process_burst on ring ports (as
 * tests/unit/test_worker.c does) once the pipeline's stages call the
 * hooks; base is then the pipeline with nothing attached.
 *
 * Usage: hook-bench [EAL options] -- [--iters N] [--rounds N]
 *                   [--bpf-dir DIR] [--json FILE] [--mode direct]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include "es.h"
#include "../control/hook.h"

#ifndef ES_BPF_DIR
#define ES_BPF_DIR "build/bpf"
#endif

#define NPKT   256          /* prepared packets (a power of 2) */
#define FRAME  128          /* room for one frame */
#define MAXP   4            /* programs in one case */
#define SLOT   0            /* the worker slot the runs count under */

struct bpkt {
	struct es_hook_ctx ctx;
	uint32_t len;
	uint8_t frame[FRAME];
};

static struct bpkt pkts[NPKT];
static volatile uint64_t bench_sink;

/* ---- the packets ---- */

static uint32_t rnd_state = 18;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* An uplink G-PDU: Eth 14 + IPv4 20 + UDP 8 + GTP-U 8 + ext 4 + PDU
 * session container 4 = 58 bytes, then a 64-byte inner IPv4 packet. */
static void pkt_make(struct bpkt *b, uint32_t i)
{
	struct es_hook_ctx *c = &b->ctx;
	uint8_t *f = b->frame, *in;
	uint32_t ue = 0x0a2d0000u | (rnd(2) ? 0 : 0x10000u) | (1 + rnd(250));
	uint32_t dst = 0xc6336400u | rnd(256);           /* 198.51.100.x */
	uint32_t r = rnd(100), inner = 64, off = 58;
	uint8_t proto = rnd(10) < 6 ? 17 : 6, dscp, qfi;
	uint16_t sport = (uint16_t)(1024 + rnd(60000)), dport;

	dscp = r < 20 ? 46 : r < 30 ? 34 : 0;
	r = rnd(100);
	qfi = r < 20 ? 1 : r < 30 ? 2 : r < 40 ? 5 : 9;
	r = rnd(100);
	dport = r < 10 ? (uint16_t)(6881 + rnd(9)) : r < 50 ? 443 : r < 70 ? 53 : (uint16_t)(1024 + rnd(60000));

	memset(b, 0, sizeof(*b));
	memset(f, 0x02, 12);                               /* MACs */
	put16(f + 12, 0x0800);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)(20 + 8 + 16 + inner));
	f[22] = 64;
	f[23] = 17;
	put32(f + 26, 0xc0000201u);                        /* gNB 192.0.2.1 */
	put32(f + 30, 0xc0000202u);                        /* N3 192.0.2.2 */
	put16(f + 34, 2152);
	put16(f + 36, 2152);
	put16(f + 38, (uint16_t)(8 + 16 + inner));
	f[42] = 0x34;                                      /* v1, PT, E */
	f[43] = 0xff;                                      /* G-PDU */
	put16(f + 44, (uint16_t)(8 + inner));
	put32(f + 46, 0x100 + i);                          /* TEID */
	f[53] = 0x85;                                      /* next: PDU session container */
	f[54] = 1;
	f[55] = 0x10;                                      /* UL PDU session info */
	f[56] = qfi;
	in = f + off;
	in[0] = 0x45;
	in[1] = (uint8_t)(dscp << 2);
	put16(in + 2, (uint16_t)inner);
	in[8] = 64;
	in[9] = proto;
	put32(in + 12, ue);
	put32(in + 16, dst);
	put16(in + 20, sport);
	put16(in + 22, dport);
	b->len = off + inner;

	c->abi = ES_HOOK_ABI_VERSION;
	c->dir = ES_HOOK_UL;
	c->in_port = 0;
	c->out_port = ES_HOOK_NONE8;
	c->teid = 0x100 + i;
	c->session_id = i;
	c->qfi = qfi;
	c->dscp = dscp;
	c->ip_ver = 4;
	c->proto = proto;
	memcpy(&c->ue_v4, in + 12, 4);
	memcpy(c->src, in + 12, 4);
	memcpy(c->dst, in + 16, 4);
	c->sport = sport;
	c->dport = dport;
	if (rnd(100) < 20) {
		c->rule_action = ES_HOOK_ACT_LOCAL;
		c->app = 0;
	} else {
		c->rule_action = ES_HOOK_ACT_RELAY;
		c->app = ES_HOOK_NONE32;
	}
	c->rule_prio = 100 + rnd(10000);
	c->inner_off = (uint16_t)off;
	c->pkt_len = b->len;
	c->wire_len = b->len;
}

/* ---- the cases ---- */

struct bprog {
	const char *obj;       /* under the BPF directory */
	const char *sec;
};

#define P_EMPTY    { "tests/hook_bench.o", "empty" }
#define P_PKT_READ { "tests/hook_bench.o", "pkt_read" }
#define P_STEER    { "dscp_steer.o", "hook" }
#define P_PORTS    { "drop_ports.o", "hook" }
#define P_QBYTES   { "qfi_bytes.o", "hook" }
#define P_QDSCP    { "qfi_dscp.o", "hook" }

enum call { C_NONE, C_RUN };

struct bcase {
	const char *id;
	const char *what;
	enum call call;
	uint8_t point;          /* where the loop calls es_hook_run */
	uint8_t at;             /* where the programs are attached */
	uint8_t at_dir;
	uint8_t jit;
	uint8_t n;
	struct bprog p[MAXP];
	double goal;            /* cycles added; < 0: none */
	/* results */
	double *cyc, *add;
	uint64_t verdict[ES_HOOK_N_VERDICTS], runs;
};

#define AP ES_HOOK_AFTER_PARSE
#define AC ES_HOOK_AFTER_CLASSIFY
#define UL ES_HOOK_UL
#define DL ES_HOOK_DL

static struct bcase cases[] = {
	{ "base", "no hook call (the baseline)", C_NONE, AP, AP, UL, 1, 0, { { 0 } }, -1, 0, 0, { 0 }, 0 },
	{ "off", "es_hook_run, nothing attached", C_RUN, AP, AP, UL, 1, 0, { { 0 } }, 1, 0, 0, { 0 }, 0 },
	{ "other", "a program at another point only", C_RUN, AP, AC, DL, 1, 1, { P_EMPTY }, -1, 0, 0, { 0 }, 0 },
	{ "empty", "empty program, JIT", C_RUN, AP, AP, UL, 1, 1, { P_EMPTY }, 5, 0, 0, { 0 }, 0 },
	{ "empty/interp", "empty program, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_EMPTY }, -1, 0, 0, { 0 }, 0 },
	{ "dscp_steer", "sample dscp_steer, JIT", C_RUN, AC, AC, UL, 1, 1, { P_STEER }, 30, 0, 0, { 0 }, 0 },
	{ "dscp_steer/interp", "sample dscp_steer, interpreter", C_RUN, AC, AC, UL, 0, 1, { P_STEER }, -1, 0, 0, { 0 }, 0 },
	{ "drop_ports", "sample drop_ports, JIT", C_RUN, AP, AP, UL, 1, 1, { P_PORTS }, 30, 0, 0, { 0 }, 0 },
	{ "drop_ports/interp", "sample drop_ports, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_PORTS }, -1, 0, 0, { 0 }, 0 },
	{ "qfi_bytes", "sample qfi_bytes, JIT", C_RUN, AP, AP, UL, 1, 1, { P_QBYTES }, 30, 0, 0, { 0 }, 0 },
	{ "qfi_bytes/interp", "sample qfi_bytes, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_QBYTES }, -1, 0, 0, { 0 }, 0 },
	{ "qfi_dscp", "sample qfi_dscp, JIT", C_RUN, AC, AC, UL, 1, 1, { P_QDSCP }, 30, 0, 0, { 0 }, 0 },
	{ "qfi_dscp/interp", "sample qfi_dscp, interpreter", C_RUN, AC, AC, UL, 0, 1, { P_QDSCP }, -1, 0, 0, { 0 }, 0 },
	{ "pkt_read", "one es_pkt_load, JIT", C_RUN, AP, AP, UL, 1, 1, { P_PKT_READ }, -1, 0, 0, { 0 }, 0 },
	{ "pkt_read/interp", "one es_pkt_load, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_PKT_READ }, -1, 0, 0, { 0 }, 0 },
	{ "empty_x4", "4 empty programs at one point, JIT", C_RUN, AP, AP, UL, 1, 4,
	  { P_EMPTY, P_EMPTY, P_EMPTY, P_EMPTY }, -1, 0, 0, { 0 }, 0 },
	{ "samples_x4", "the 4 samples at one point, JIT", C_RUN, AC, AC, UL, 1, 4,
	  { P_PORTS, P_QBYTES, P_QDSCP, P_STEER }, -1, 0, 0, { 0 }, 0 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const char *bpf_dir = ES_BPF_DIR;

/* Attach a case's programs (names bench0..3, in order); -1 with the
 * loader's reason printed. */
static int setup(const struct bcase *c)
{
	char path[512], name[16], err[ES_ERR_MAX];

	es_hook_del_all();
	es_hook_use_jit(c->jit);
	for (unsigned int i = 0; i < c->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", bpf_dir, c->p[i].obj);
		snprintf(name, sizeof(name), "bench%u", i);
		if (es_hook_attach(name, c->at, c->at_dir, path, c->p[i].sec, i, NULL, err) != 0) {
			fprintf(stderr, "hook-bench: %s: %s\n", c->id, err);
			es_hook_use_jit(1);
			return -1;
		}
		if (c->jit && es_hook_find(name)->jit_size == 0)
			fprintf(stderr, "hook-bench: %s: %s is interpreted: DPDK's JIT "
				"did not compile it\n", c->id, c->p[i].obj);
	}
	es_hook_use_jit(1);
	for (unsigned int k = 0; k < NPKT; k++)
		pkts[k].ctx.point = c->point;
	return 0;
}

/* The runs and verdicts of the case's programs (their first program's
 * verdicts; every program's runs). */
static void collect(struct bcase *c)
{
	struct es_hook_sum s;
	char name[16];

	for (unsigned int i = 0; i < c->n; i++) {
		const struct es_hook_ent *e;

		snprintf(name, sizeof(name), "bench%u", i);
		e = es_hook_find(name);
		if (e == NULL)
			continue;
		es_hook_stats(e, &s);
		c->runs += s.runs;
		if (i == 0)
			for (unsigned int v = 0; v < ES_HOOK_N_VERDICTS; v++)
				c->verdict[v] += s.verdict[v];
	}
}

/* ---- the direct driver: es_hook_run in a loop, as a stage calls it ---- */

static __rte_noinline uint64_t loop_none(uint32_t iters)
{
	uint64_t sink = 0;

	for (uint32_t i = 0; i < iters; i++) {
		struct bpkt *b = &pkts[i & (NPKT - 1)];

		sink += b->ctx.dscp;
		__asm__ volatile("" ::: "memory");
	}
	return sink;
}

static __rte_noinline uint64_t loop_run(uint32_t iters, unsigned int point)
{
	uint64_t sink = 0;

	for (uint32_t i = 0; i < iters; i++) {
		struct bpkt *b = &pkts[i & (NPKT - 1)];
		struct es_hook_res res;
		uint32_t v;

		v = es_hook_run(SLOT, point, ES_HOOK_UL, &b->ctx, b->frame, b->len, &res);
		sink += b->ctx.dscp + v;
		__asm__ volatile("" ::: "memory");
	}
	return sink;
}

/* One round of a case: cycles per packet. */
static double direct_round(const struct bcase *c, uint32_t iters)
{
	uint64_t t0, t1, s;

	t0 = rte_rdtsc_precise();
	if (c->call == C_NONE)
		s = loop_none(iters);
	else
		s = loop_run(iters, c->point);
	t1 = rte_rdtsc_precise();
	bench_sink += s;
	return (double)(t1 - t0) / iters;
}

struct driver {
	const char *name;
	double (*round)(const struct bcase *c, uint32_t iters);
};

static const struct driver drivers[] = {
	{ "direct", direct_round },
	/* { "pipeline", pipeline_round }: es_process_burst on ring ports */
};

/* ---- figures ---- */

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct fig { double med, min, max; };

static struct fig figure(const double *v, unsigned int n)
{
	static double t[1000];       /* rounds <= 1000 */
	struct fig f;

	memcpy(t, v, sizeof(double) * n);
	qsort(t, n, sizeof(double), dcmp);
	f.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	f.min = t[0];
	f.max = t[n - 1];
	return f;
}

static const char *met(const struct bcase *c, struct fig a)
{
	if (c->goal < 0)
		return "-";
	return a.med <= c->goal ? "met" : "not met";
}

static void cpu_model(char *out, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, cap, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && p != NULL) {
			p += 2;
			p[strcspn(p, "\n")] = 0;
			snprintf(out, cap, "%s", p);
			break;
		}
	}
	fclose(f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

static int write_json(const char *path, const struct driver *d, uint32_t iters,
		      unsigned int rounds, const char *cpu)
{
	static const char *const vn[ES_HOOK_N_VERDICTS] = {
		"continue", "drop", "steer-app", "to-cloud", "set-dscp", "set-mark",
	};
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return -1;
	}
	fprintf(f, "{\"tool\":\"hook-bench\",\"mode\":\"%s\",\"iters\":%u,\"rounds\":%u,"
		"\"packets\":%d,\"tsc_hz\":%" PRIu64 ",\"cpu\":", d->name, iters, rounds,
		NPKT, rte_get_tsc_hz());
	json_str(f, cpu);
	fprintf(f, ",\"rows\":[");
	for (unsigned int i = 0; i < NCASES; i++) {
		const struct bcase *c = &cases[i];
		struct fig y = figure(c->cyc, rounds), a = figure(c->add, rounds);

		fprintf(f, "%s\n{\"id\":", i ? "," : "");
		json_str(f, c->id);
		fprintf(f, ",\"what\":");
		json_str(f, c->what);
		fprintf(f, ",\"programs\":%u,\"jit\":%s,\"cycles\":{\"median\":%.2f,\"min\":%.2f,"
			"\"max\":%.2f},\"added\":{\"median\":%.2f,\"min\":%.2f,\"max\":%.2f},",
			c->n, c->jit ? "true" : "false", y.med, y.min, y.max, a.med, a.min, a.max);
		if (c->goal >= 0)
			fprintf(f, "\"goal\":%.0f,\"met\":%s,", c->goal,
				a.med <= c->goal ? "true" : "false");
		else
			fprintf(f, "\"goal\":null,\"met\":null,");
		fprintf(f, "\"runs\":%" PRIu64 ",\"verdicts\":{", c->runs);
		for (unsigned int v = 0; v < ES_HOOK_N_VERDICTS; v++)
			fprintf(f, "%s\"%s\":%" PRIu64, v ? "," : "", vn[v], c->verdict[v]);
		fprintf(f, "}}");
	}
	fprintf(f, "\n]}\n");
	return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iters", required_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "bpf-dir", required_argument, NULL, 'b' },
		{ "json", required_argument, NULL, 'j' },
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const struct driver *d = &drivers[0];
	const char *json = NULL;
	uint32_t iters = 1u << 20;
	unsigned int rounds = 11;
	char cpu[128];
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "hook-bench: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			iters = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rounds = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			bpf_dir = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'm':
			d = NULL;
			for (size_t k = 0; k < RTE_DIM(drivers); k++)
				if (strcmp(optarg, drivers[k].name) == 0)
					d = &drivers[k];
			if (d == NULL) {
				fprintf(stderr, "hook-bench: no mode %s (modes: direct)\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: hook-bench [EAL options] -- [--iters N] "
				"[--rounds N] [--bpf-dir DIR] [--json FILE] [--mode direct]\n");
			return 2;
		}
	}
	if (iters < 1 || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "hook-bench: --iters >= 1, --rounds 1..1000\n");
		return 2;
	}
	for (uint32_t k = 0; k < NPKT; k++)
		pkt_make(&pkts[k], k);
	for (unsigned int i = 0; i < NCASES; i++) {
		cases[i].cyc = calloc(rounds, sizeof(double));
		cases[i].add = calloc(rounds, sizeof(double));
		if (cases[i].cyc == NULL || cases[i].add == NULL) {
			fprintf(stderr, "hook-bench: out of memory\n");
			return 1;
		}
	}

	for (unsigned int r = 0; r < rounds; r++) {
		for (unsigned int i = 0; i < NCASES; i++) {
			struct bcase *c = &cases[i];

			if (setup(c) != 0)
				return 1;
			d->round(c, iters / 8 + 1);      /* warm-up, untimed */
			c->cyc[r] = d->round(c, iters);
			c->add[r] = c->cyc[r] - cases[0].cyc[r];
			collect(c);
		}
	}
	es_hook_del_all();

	cpu_model(cpu, sizeof(cpu));
	printf("hook cost, mode %s: cycles per packet, median of %u rounds of %u packets "
	       "[fastest-slowest round]\n", d->name, rounds, iters);
	printf("%s, TSC %.2f GHz, lcore %u; added = the case less the baseline, same round\n",
	       cpu, rte_get_tsc_hz() / 1e9, rte_lcore_id());
	printf("%-18s %-36s %8s %-15s %7s %-15s %5s %-7s\n", "id", "what", "cyc/pkt",
	       "[spread]", "added", "[spread]", "goal", "met");
	for (unsigned int i = 0; i < NCASES; i++) {
		const struct bcase *c = &cases[i];
		struct fig y = figure(c->cyc, rounds), a = figure(c->add, rounds);
		char ys[32], as[32], g[8];

		snprintf(ys, sizeof(ys), "[%.1f-%.1f]", y.min, y.max);
		snprintf(as, sizeof(as), "[%.1f-%.1f]", a.min, a.max);
		if (c->goal >= 0)
			snprintf(g, sizeof(g), "<=%.0f", c->goal);
		else
			snprintf(g, sizeof(g), "-");
		if (i == 0)
			printf("%-18s %-36s %8.1f %-15s %7s %-15s %5s %-7s\n", c->id, c->what,
			       y.med, ys, "-", "", g, met(c, a));
		else
			printf("%-18s %-36s %8.1f %-15s %7.1f %-15s %5s %-7s\n", c->id, c->what,
			       y.med, ys, a.med, as, g, met(c, a));
	}
	printf("rows: %zu\n", NCASES);
	if (json != NULL && write_json(json, d, iters, rounds, cpu) != 0) {
		fprintf(stderr, "hook-bench: cannot write %s\n", json);
		return 1;
	}
	for (unsigned int i = 0; i < NCASES; i++) {
		free(cases[i].cyc);
		free(cases[i].add);
	}
	rte_eal_cleanup();
	return 0;
}
