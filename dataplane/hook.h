/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eBPF hooks, the data plane's side: the attached programs as the
 * workers see them, their per-worker counters, and es_hook_run, the one
 * call a stage boundary makes. Includes only the ABI (ebpf/es_hook.h)
 * and DPDK.
 *
 * Publishing (control/hook.c): es_hook_live points at an immutable
 * es_hook_set, or is NULL when no program is attached anywhere. A change
 * builds a new set, stores the pointer (release), waits for a grace
 * period of es_rcu (the workers' quiescent state after each loop) and
 * only then frees the old set and the programs it alone held. A worker
 * loads the pointer once per call, so it runs one set whole.
 *
 * Cost with nothing attached: one load of es_hook_live and one branch.
 */
#ifndef ES_HOOK_DP_H
#define ES_HOOK_DP_H

#include <stdint.h>
#include <stddef.h>
#include <rte_common.h>
#include <rte_config.h>
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_per_lcore.h>
#include <rte_bpf.h>
#include "../ebpf/es_hook.h"

_Static_assert(sizeof(struct es_hook_ctx) == 104, "the hook ABI is append-only");
_Static_assert(offsetof(struct es_hook_ctx, wire_len) == 92, "the hook ABI is append-only");

#define ES_HOOK_MAX_PER   8      /* programs at one point and direction */
#define ES_HOOK_MAX_SLOTS RTE_MAX_LCORE /* worker slots: a worker passes its qid */
#define ES_HOOK_TIME_EVERY 64    /* cycles are measured on one run in 64 */
#define ES_HOOK_TRACE_N   256    /* records per worker trace ring (power of 2) */

/* A program's counters in one worker slot: written by that worker only. */
struct es_hook_pstats {
	uint64_t runs;
	uint64_t drops;                          /* DROP verdicts */
	uint64_t verdict[ES_HOOK_N_VERDICTS];
	uint64_t bad_verdict;                    /* unknown codes (as CONTINUE) */
	uint64_t timed_runs;                     /* runs whose cycles were measured */
	uint64_t cycles;                         /* TSC cycles of the timed runs */
	uint64_t cnt[ES_HOOK_N_COUNTERS];        /* es_counter_add */
} __rte_cache_aligned;

/* An attached program. Immutable once published but for its stats. */
struct es_hook_prog {
	uint64_t (*jit)(void *);       /* JIT-ed code, or NULL: interpreter */
	struct rte_bpf *bpf;
	uint32_t id;                    /* unique while the daemon runs */
	uint8_t point, dir;
	struct es_hook_pstats *st;      /* [ES_HOOK_MAX_SLOTS] */
};

struct es_hook_set {
	uint8_t n[ES_HOOK_N_POINTS][ES_HOOK_N_DIRS];
	struct es_hook_prog *p[ES_HOOK_N_POINTS][ES_HOOK_N_DIRS][ES_HOOK_MAX_PER];
};

extern struct es_hook_set *es_hook_live;

/* A trace record (es_trace), in its worker's ring. */
struct es_hook_trace_rec {
	uint64_t seq;          /* position + 1; 0: never written */
	uint64_t tsc;
	uint32_t prog_id;
	uint8_t point, dir;
	uint16_t slot;
	uint64_t a, b;
};

struct es_hook_trace_ring {
	uint64_t head;         /* records written; the worker's, read by control */
	struct es_hook_trace_rec r[ES_HOOK_TRACE_N];
} __rte_cache_aligned;

extern struct es_hook_trace_ring es_hook_trace[ES_HOOK_MAX_SLOTS];

/* What the helpers need of the current run: set by es_hook_run. */
struct es_hook_cur {
	const uint8_t *pkt;
	uint32_t len;
	uint16_t slot;
	uint8_t point, dir;
	struct es_hook_pstats *st;
	uint32_t prog_id;
};
RTE_DECLARE_PER_LCORE(struct es_hook_cur, es_hook_cur);

/* What the programs of a point decided besides the terminal verdict. */
struct es_hook_res {
	uint32_t app;          /* STEER_APP: the app index */
	int16_t dscp;          /* SET_DSCP: 0..63; -1: unchanged */
	uint8_t has_mark;
	uint32_t mark;         /* SET_MARK */
};

/* Run one program on ctx; the slow part of es_hook_run. */
static inline uint64_t es_hook_exec(const struct es_hook_prog *p, struct es_hook_ctx *ctx)
{
	if (likely(p->jit != NULL))
		return p->jit(ctx);
	return rte_bpf_exec(p->bpf, ctx);
}

static inline uint32_t
es_hook_run_set(const struct es_hook_set *s, uint16_t slot, unsigned int point,
		unsigned int dir, struct es_hook_ctx *ctx, const uint8_t *pkt,
		uint32_t len, struct es_hook_res *res)
{
	unsigned int n = s->n[point][dir], i;
	struct es_hook_cur *cur = &RTE_PER_LCORE(es_hook_cur);

	res->dscp = -1;
	res->has_mark = 0;
	cur->pkt = pkt;
	cur->len = len;
	cur->slot = slot;
	cur->point = (uint8_t)point;
	cur->dir = (uint8_t)dir;
	for (i = 0; i < n; i++) {
		const struct es_hook_prog *p = s->p[point][dir][i];
		struct es_hook_pstats *st = &p->st[slot];
		uint64_t r, t0 = 0;
		uint32_t code;
		int timed = (st->runs % ES_HOOK_TIME_EVERY) == 0;

		cur->st = st;
		cur->prog_id = p->id;
		if (unlikely(timed))
			t0 = rte_rdtsc();
		r = es_hook_exec(p, ctx);
		if (unlikely(timed)) {
			st->cycles += rte_rdtsc() - t0;
			st->timed_runs++;
		}
		st->runs++;
		code = ES_HOOK_RET_CODE(r);
		if (unlikely(code >= ES_HOOK_N_VERDICTS)) {
			st->bad_verdict++;
			continue;
		}
		st->verdict[code]++;
		if (likely(code == ES_HOOK_CONTINUE))
			continue;
		switch (code) {
		case ES_HOOK_SET_DSCP:
			res->dscp = (int16_t)(ES_HOOK_RET_ARG(r) & 63);
			break;
		case ES_HOOK_SET_MARK:
			res->has_mark = 1;
			res->mark = ES_HOOK_RET_ARG(r);
			break;
		case ES_HOOK_DROP:
			st->drops++;
			return code;
		case ES_HOOK_STEER_APP:
			res->app = ES_HOOK_RET_ARG(r);
			return code;
		default: /* ES_HOOK_TO_CLOUD */
			return code;
		}
	}
	return ES_HOOK_CONTINUE;
}

/*
 * Run the programs attached at (point, dir) in their order on ctx, whose
 * packet bytes are pkt[0..len) (the first segment). Returns the terminal
 * verdict (DROP, STEER_APP with res->app, TO_CLOUD) or CONTINUE; res
 * carries SET_DSCP / SET_MARK. slot: the worker's slot (its qid,
 * < ES_HOOK_MAX_SLOTS). With nothing attached anywhere: one load and one
 * branch, res untouched.
 */
static inline uint32_t
es_hook_run(uint16_t slot, unsigned int point, unsigned int dir,
	    struct es_hook_ctx *ctx, const uint8_t *pkt, uint32_t len,
	    struct es_hook_res *res)
{
	const struct es_hook_set *s =
		__atomic_load_n(&es_hook_live, __ATOMIC_ACQUIRE);

	if (likely(s == NULL))
		return ES_HOOK_CONTINUE;
	return es_hook_run_set(s, slot, point, dir, ctx, pkt, len, res);
}

/* The helpers' table for rte_bpf (dataplane/hook.c). */
extern const struct rte_bpf_xsym es_hook_xsym[];
extern const unsigned int es_hook_n_xsym;

#endif
