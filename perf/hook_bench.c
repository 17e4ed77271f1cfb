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
 * Modes. A driver runs one case's round; both run by default, each all
 * its rounds, and print a table each (--mode picks one). "direct" calls
 * es_hook_run in a loop as a stage would. "pipeline" runs
 * es_process_burst on ring ports (as tests/unit/test_worker.c does):
 * 256 uplink sessions, one per packet, each with a cloud F-TEID, a few
 * uplink rules of which one sends a quarter of the packets to an app,
 * the rest relayed on N9; the cycles are taken around es_process_burst
 * alone, a burst of 32 at a time (the copies made and the output drained
 * untimed). Its base is the pipeline with nothing attached, and so is
 * its "off" row (the difference of the two is the noise); a case with
 * programs attached runs the pipeline's hooked copy, the contexts filled
 * at every point, so "added" is what attaching costs whole.
 *
 * Usage: hook-bench [EAL options] -- [--iters N] [--rounds N]
 *                   [--bpf-dir DIR] [--json FILE] [--mode direct|pipeline]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <unistd.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "es.h"
#include "counters.h"
#include "parse.h"
#include "pipeline.h"
#include "worker.h"
#include "../control/config.h"
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
};

#define AP ES_HOOK_AFTER_PARSE
#define AC ES_HOOK_AFTER_CLASSIFY
#define UL ES_HOOK_UL
#define DL ES_HOOK_DL

static struct bcase cases[] = {
	{ "base", "no hook call (the baseline)", C_NONE, AP, AP, UL, 1, 0, { { 0 } }, -1 },
	{ "off", "es_hook_run, nothing attached", C_RUN, AP, AP, UL, 1, 0, { { 0 } }, 1 },
	{ "other", "a program at another point only", C_RUN, AP, AC, DL, 1, 1, { P_EMPTY }, -1 },
	{ "empty", "empty program, JIT", C_RUN, AP, AP, UL, 1, 1, { P_EMPTY }, 5 },
	{ "empty/interp", "empty program, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_EMPTY }, -1 },
	{ "dscp_steer", "sample dscp_steer, JIT", C_RUN, AC, AC, UL, 1, 1, { P_STEER }, 30 },
	{ "dscp_steer/interp", "sample dscp_steer, interpreter", C_RUN, AC, AC, UL, 0, 1, { P_STEER }, -1 },
	{ "drop_ports", "sample drop_ports, JIT", C_RUN, AP, AP, UL, 1, 1, { P_PORTS }, 30 },
	{ "drop_ports/interp", "sample drop_ports, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_PORTS }, -1 },
	{ "qfi_bytes", "sample qfi_bytes, JIT", C_RUN, AP, AP, UL, 1, 1, { P_QBYTES }, 30 },
	{ "qfi_bytes/interp", "sample qfi_bytes, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_QBYTES }, -1 },
	{ "qfi_dscp", "sample qfi_dscp, JIT", C_RUN, AC, AC, UL, 1, 1, { P_QDSCP }, 30 },
	{ "qfi_dscp/interp", "sample qfi_dscp, interpreter", C_RUN, AC, AC, UL, 0, 1, { P_QDSCP }, -1 },
	{ "pkt_read", "one es_pkt_load, JIT", C_RUN, AP, AP, UL, 1, 1, { P_PKT_READ }, -1 },
	{ "pkt_read/interp", "one es_pkt_load, interpreter", C_RUN, AP, AP, UL, 0, 1, { P_PKT_READ }, -1 },
	{ "empty_x4", "4 empty programs at one point, JIT", C_RUN, AP, AP, UL, 1, 4,
	  { P_EMPTY, P_EMPTY, P_EMPTY, P_EMPTY }, -1 },
	{ "samples_x4", "the 4 samples at one point, JIT", C_RUN, AC, AC, UL, 1, 4,
	  { P_PORTS, P_QBYTES, P_QDSCP, P_STEER }, -1 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* A case's results under one driver. */
struct bres {
	double *cyc, *add;
	uint64_t verdict[ES_HOOK_N_VERDICTS], runs;
};

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
static void collect(const struct bcase *c, struct bres *res)
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
		res->runs += s.runs;
		if (i == 0)
			for (unsigned int v = 0; v < ES_HOOK_N_VERDICTS; v++)
				res->verdict[v] += s.verdict[v];
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


/* ---- the pipeline driver: es_process_burst on ring ports ---- */

/*
 * The data plane as tests/unit/test_worker.c runs it: a config loaded as
 * the daemon loads it (ring ports n3, n9, lan; NPKT sessions, one per
 * packet, each with a cloud F-TEID; an app; a few uplink rules, the one
 * that matches sending 198.51.100.0/26 to the app, so about a quarter of
 * the packets break out locally and the rest are relayed on N9), the
 * worker on this thread (slot SLOT), and the same 256 G-PDUs, their UE
 * the session's so that anti-spoofing passes. A burst of ES_BURST
 * copies is made, timed through es_process_burst alone, then flushed and
 * drained untimed.
 */
enum { RP_N3, RP_N9, RP_LAN, RP_N };
static const char *const rp_name[RP_N] = { "n3", "n9", "lan" };
static struct rte_ring *rp_rx[RP_N], *rp_tx[RP_N];
static struct es_tables *pl_tables;
static struct es_worker *pl_w;

static double pipeline_round(const struct bcase *c, uint32_t iters);

static uint32_t pl_ue(uint32_t k) { return 0x0a2d0000u | ((k / 250) << 8) | (1 + k % 250); }

static int pipeline_init(void)
{
	char path[] = "/tmp/hook_bench_XXXXXX";
	FILE *f;
	int fd;

	for (int i = 0; i < RP_N; i++) {
		char name[32];

		snprintf(name, sizeof(name), "hb_%s_rx", rp_name[i]);
		rp_rx[i] = rte_ring_create(name, 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "hb_%s_tx", rp_name[i]);
		rp_tx[i] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rp_rx[i] == NULL || rp_tx[i] == NULL ||
		    rte_eth_from_rings(rp_name[i], &rp_rx[i], 1, &rp_tx[i], 1, SOCKET_ID_ANY) < 0) {
			fprintf(stderr, "hook-bench: ring port %s: %s\n", rp_name[i],
				rte_strerror(rte_errno));
			return -1;
		}
	}
	fd = mkstemp(path);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	fprintf(f, "set sessions-max 1024\nset rules-max 64\nset mbufs 4095\n"
		"port add n3 dev net_ring_n3 role access addr 192.0.2.2/24 mac 02:02:02:02:02:02\n"
		"port add n9 dev net_ring_n9 role core addr 203.0.113.1/24 mac 02:00:00:00:09:01\n"
		"port add lan dev net_ring_lan role local addr 10.100.0.1/24 mac 02:00:00:00:0a:01\n"
		"neigh add 192.0.2.1 lladdr 02:00:00:00:00:10 port n3\n"
		"neigh add 203.0.113.7 lladdr 02:00:00:00:00:07 port n9\n"
		"neigh add 10.100.0.20 lladdr 02:00:00:00:00:20 port lan\n"
		"app add app4 via 10.100.0.20\n"
		"rule add 10 dir ul dst 192.51.0.0/16 action drop\n"
		"rule add 20 dir ul dst 10.200.0.0/16 proto udp dport 5000-5100 action local app4\n"
		"rule add 30 dir ul dst 198.51.100.0/26 action local app4\n"
		"rule add 40 dir ul dst 198.51.101.0/24 action mirror app4 then cloud\n");
	for (uint32_t k = 0; k < NPKT; k++)
		fprintf(f, "session add %u ul-teid 0x%x gnb 192.0.2.1 gnb-teid 0x%x "
			"ue 10.45.%u.%u cloud 203.0.113.7 cloud-teid 0x%x n9-teid 0x%x qfi 9\n",
			k + 1, 0x100 + k, 0x1100 + k, pl_ue(k) >> 8 & 255, pl_ue(k) & 255,
			0x2000 + k, 0x3000 + k);
	if (fclose(f) != 0 || es_config_load(path, &pl_tables) != 0) {
		fprintf(stderr, "hook-bench: the pipeline's config did not load\n");
		unlink(path);
		return -1;
	}
	unlink(path);
	es_tables_live = pl_tables;
	es_n_workers = 1;
	es_dataplane_setup();
	pl_w = &es_workers[0];
	if (es_worker_init(pl_w, rte_lcore_id(), SLOT) != 0)
		return -1;
	es_hook_del_all();
	/* the frames as the pipeline wants them: the session's UE, header
	 * checksums, a TCP header with its data offset */
	for (uint32_t k = 0; k < NPKT; k++) {
		uint8_t *fr = pkts[k].frame, *in = fr + 58;

		put32(in + 12, pl_ue(k));
		if (in[9] == 6)
			in[20 + 12] = 0x50;
		es_put_be16(in + 10, 0);
		es_put_be16(in + 10, es_ip4_hdr_cksum(in, 20));
		es_put_be16(fr + 24, 0);
		es_put_be16(fr + 24, es_ip4_hdr_cksum(fr + 14, 20));
	}
	/* every packet of a round takes the path meant: local or relayed */
	memset(pl_w->cnt, 0, sizeof(pl_w->cnt));
	pipeline_round(NULL, NPKT);
	if (pl_w->cnt[ES_CNT_UL_LOCAL] + pl_w->cnt[ES_CNT_UL_CLOUD] != NPKT ||
	    pl_w->cnt[ES_CNT_UL_LOCAL] == 0 || pl_w->cnt[ES_CNT_UL_CLOUD] == 0) {
		fprintf(stderr, "hook-bench: the pipeline's mix went astray: %" PRIu64
			" local, %" PRIu64 " relayed of %d\n", pl_w->cnt[ES_CNT_UL_LOCAL],
			pl_w->cnt[ES_CNT_UL_CLOUD], NPKT);
		for (unsigned int k = 1; k < ES_CNT_MAX; k++)
			if (pl_w->cnt[k])
				fprintf(stderr, "  %s %" PRIu64 "\n", es_cnt_desc[k].name,
					pl_w->cnt[k]);
		return -1;
	}
	printf("pipeline: %" PRIu64 " of %d packets a round local, %" PRIu64 " relayed\n",
	       pl_w->cnt[ES_CNT_UL_LOCAL], NPKT, pl_w->cnt[ES_CNT_UL_CLOUD]);
	return 0;
}

static void pipeline_drain(void)
{
	struct rte_mbuf *o[64];
	unsigned int n;

	es_worker_flush(pl_w);
	for (int p = 0; p < RP_N; p++)
		while ((n = rte_ring_dequeue_burst(rp_tx[p], (void **)o, RTE_DIM(o), NULL)) > 0)
			rte_pktmbuf_free_bulk(o, n);
}

static double pipeline_round(const struct bcase *c, uint32_t iters)
{
	struct rte_mbuf *m[ES_BURST];
	uint32_t bursts = (iters + ES_BURST - 1) / ES_BURST, k = 0;
	uint64_t cyc = 0;

	(void)c;
	for (uint32_t b = 0; b < bursts; b++) {
		uint64_t t0;

		if (rte_pktmbuf_alloc_bulk(es_pool, m, ES_BURST) != 0) {
			fprintf(stderr, "hook-bench: out of mbufs\n");
			exit(1);
		}
		for (unsigned int i = 0; i < ES_BURST; i++, k = (k + 1) & (NPKT - 1))
			memcpy(rte_pktmbuf_append(m[i], (uint16_t)pkts[k].len), pkts[k].frame,
			       pkts[k].len);
		t0 = rte_rdtsc();
		es_process_burst(pl_w, pl_tables, RP_N3, m, ES_BURST);
		cyc += rte_rdtsc() - t0;
		pipeline_drain();
	}
	return (double)cyc / ((double)bursts * ES_BURST);
}

struct driver {
	const char *name;
	int (*init)(void);      /* once, before its first round; may be NULL */
	double (*round)(const struct bcase *c, uint32_t iters);
};

static const struct driver drivers[] = {
	{ "direct", NULL, direct_round },
	{ "pipeline", pipeline_init, pipeline_round },
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

#define ND RTE_DIM(drivers)

static struct bres results[ND][NCASES];
static int ran[ND];             /* the drivers this run ran */

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

static const char *what(unsigned int d, unsigned int i);

static void json_rows(FILE *f, unsigned int d, const struct bres *res, unsigned int rounds)
{
	static const char *const vn[ES_HOOK_N_VERDICTS] = {
		"continue", "drop", "steer-app", "to-cloud", "set-dscp", "set-mark",
	};

	fprintf(f, "[");
	for (unsigned int i = 0; i < NCASES; i++) {
		const struct bcase *c = &cases[i];
		const struct bres *r = &res[i];
		struct fig y = figure(r->cyc, rounds), a = figure(r->add, rounds);

		fprintf(f, "%s\n{\"id\":", i ? "," : "");
		json_str(f, c->id);
		fprintf(f, ",\"what\":");
		json_str(f, what(d, i));
		fprintf(f, ",\"programs\":%u,\"jit\":%s,\"cycles\":{\"median\":%.2f,\"min\":%.2f,"
			"\"max\":%.2f},\"added\":{\"median\":%.2f,\"min\":%.2f,\"max\":%.2f},",
			c->n, c->jit ? "true" : "false", y.med, y.min, y.max, a.med, a.min, a.max);
		if (c->goal >= 0)
			fprintf(f, "\"goal\":%.0f,\"met\":%s,", c->goal,
				a.med <= c->goal ? "true" : "false");
		else
			fprintf(f, "\"goal\":null,\"met\":null,");
		fprintf(f, "\"runs\":%" PRIu64 ",\"verdicts\":{", r->runs);
		for (unsigned int v = 0; v < ES_HOOK_N_VERDICTS; v++)
			fprintf(f, "%s\"%s\":%" PRIu64, v ? "," : "", vn[v], r->verdict[v]);
		fprintf(f, "}}");
	}
	fprintf(f, "\n]");
}

/* {"rows": the first driver's rows, "mode": its name, "tables": every
 * driver that ran, {"mode", "rows"}} */
static int write_json(const char *path, uint32_t iters, unsigned int rounds, const char *cpu)
{
	FILE *f = fopen(path, "w");
	int first = -1, k = 0;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	for (unsigned int d = 0; d < ND; d++)
		if (ran[d] && first < 0)
			first = (int)d;
	fprintf(f, "{\"tool\":\"hook-bench\",\"mode\":\"%s\",\"iters\":%u,\"rounds\":%u,"
		"\"packets\":%d,\"tsc_hz\":%" PRIu64 ",\"cpu\":", drivers[first].name, iters,
		rounds, NPKT, rte_get_tsc_hz());
	json_str(f, cpu);
	fprintf(f, ",\"rows\":");
	json_rows(f, (unsigned int)first, results[first], rounds);
	fprintf(f, ",\"tables\":[");
	for (unsigned int d = 0; d < ND; d++) {
		if (!ran[d])
			continue;
		fprintf(f, "%s{\"mode\":\"%s\",\"rows\":", k++ ? "," : "", drivers[d].name);
		json_rows(f, d, results[d], rounds);
		fprintf(f, "}");
	}
	fprintf(f, "]}\n");
	return fclose(f) == 0 ? 0 : -1;
}

/* A row's description: the pipeline has no separate hook call to leave
 * out, so its first two rows are both nothing attached (the second one
 * is the run-to-run noise of the first). */
static const char *what(unsigned int d, unsigned int i)
{
	if (strcmp(drivers[d].name, "pipeline") == 0 && i < 2)
		return i == 0 ? "nothing attached (the baseline)" :
				"nothing attached, again (the noise)";
	return cases[i].what;
}

static void print_table(unsigned int d, uint32_t iters, unsigned int rounds, const char *cpu)
{
	static const char *const how[ND] = {
		"es_hook_run in a loop at one stage boundary",
		"es_process_burst on ring ports, uplink bursts of 32",
	};

	printf("hook cost, mode %s (%s): cycles per packet, median of %u rounds of %u "
	       "packets [fastest-slowest round]\n", drivers[d].name, how[d], rounds, iters);
	printf("%s, TSC %.2f GHz, lcore %u; added = the case less the baseline, same round\n",
	       cpu, rte_get_tsc_hz() / 1e9, rte_lcore_id());
	printf("%-18s %-36s %8s %-15s %7s %-15s %5s %-7s\n", "id", "what", "cyc/pkt",
	       "[spread]", "added", "[spread]", "goal", "met");
	for (unsigned int i = 0; i < NCASES; i++) {
		const struct bcase *c = &cases[i];
		const struct bres *r = &results[d][i];
		struct fig y = figure(r->cyc, rounds), a = figure(r->add, rounds);
		char ys[32], as[32], g[8];

		snprintf(ys, sizeof(ys), "[%.1f-%.1f]", y.min, y.max);
		snprintf(as, sizeof(as), "[%.1f-%.1f]", a.min, a.max);
		if (c->goal >= 0)
			snprintf(g, sizeof(g), "<=%.0f", c->goal);
		else
			snprintf(g, sizeof(g), "-");
		if (i == 0)
			printf("%-18s %-36s %8.1f %-15s %7s %-15s %5s %-7s\n", c->id, what(d, i),
			       y.med, ys, "-", "", g, met(c, a));
		else
			printf("%-18s %-36s %8.1f %-15s %7.1f %-15s %5s %-7s\n", c->id, what(d, i),
			       y.med, ys, a.med, as, g, met(c, a));
	}
	printf("rows: %zu\n", NCASES);
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
	int only = -1;             /* --mode: that driver alone; else all */
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
			for (size_t k = 0; k < ND; k++)
				if (strcmp(optarg, drivers[k].name) == 0)
					only = (int)k;
			if (only < 0) {
				fprintf(stderr, "hook-bench: no mode %s (modes: direct, "
					"pipeline)\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: hook-bench [EAL options] -- [--iters N] "
				"[--rounds N] [--bpf-dir DIR] [--json FILE] [--mode direct|pipeline]\n");
			return 2;
		}
	}
	if (iters < 1 || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "hook-bench: --iters >= 1, --rounds 1..1000\n");
		return 2;
	}
	for (uint32_t k = 0; k < NPKT; k++)
		pkt_make(&pkts[k], k);
	for (unsigned int d = 0; d < ND; d++)
		for (unsigned int i = 0; i < NCASES; i++) {
			results[d][i].cyc = calloc(rounds, sizeof(double));
			results[d][i].add = calloc(rounds, sizeof(double));
			if (results[d][i].cyc == NULL || results[d][i].add == NULL) {
				fprintf(stderr, "hook-bench: out of memory\n");
				return 1;
			}
		}

	/* the drivers in turn (direct first: the pipeline's setup rewrites
	 * the frames), each all its rounds */
	for (unsigned int d = 0; d < ND; d++) {
		if (only >= 0 && (unsigned int)only != d)
			continue;
		if (drivers[d].init != NULL && drivers[d].init() != 0)
			return 1;
		ran[d] = 1;
		for (unsigned int r = 0; r < rounds; r++) {
			for (unsigned int i = 0; i < NCASES; i++) {
				struct bcase *c = &cases[i];
				struct bres *res = &results[d][i];

				if (setup(c) != 0)
					return 1;
				drivers[d].round(c, iters / 8 + 1);      /* warm-up, untimed */
				res->cyc[r] = drivers[d].round(c, iters);
				res->add[r] = res->cyc[r] - results[d][0].cyc[r];
				collect(c, res);
			}
		}
		es_hook_del_all();
	}

	cpu_model(cpu, sizeof(cpu));
	for (unsigned int d = 0, k = 0; d < ND; d++)
		if (ran[d]) {
			if (k++)
				printf("\n");
			print_table(d, iters, rounds, cpu);
		}
	if (json != NULL && write_json(json, iters, rounds, cpu) != 0) {
		fprintf(stderr, "hook-bench: cannot write %s\n", json);
		return 1;
	}
	for (unsigned int d = 0; d < ND; d++)
		for (unsigned int i = 0; i < NCASES; i++) {
			free(results[d][i].cyc);
			free(results[d][i].add);
		}
	rte_eal_cleanup();
	return 0;
}
