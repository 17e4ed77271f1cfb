/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eBPF hooks on the worker: the published set, the trace rings and the
 * helpers programs call (ebpf/es_hook.h, "Helpers"). A helper runs on
 * the worker inside es_hook_run: no allocation, no lock, no syscall; it
 * finds the packet and the program's counters in es_hook_cur, never in
 * anything the program passes, so a program cannot point it elsewhere.
 */
#include <string.h>
#include <rte_byteorder.h>
#include "hook.h"

struct es_hook_set *es_hook_live;
struct es_hook_trace_ring es_hook_trace[ES_HOOK_MAX_SLOTS];
RTE_DEFINE_PER_LCORE(struct es_hook_cur, es_hook_cur);

static uint64_t h_pkt_load(uint64_t off, uint64_t size, uint64_t a3,
			   uint64_t a4, uint64_t a5)
{
	const struct es_hook_cur *c = &RTE_PER_LCORE(es_hook_cur);
	const uint8_t *p;

	RTE_SET_USED(a3); RTE_SET_USED(a4); RTE_SET_USED(a5);
	if (c->pkt == NULL || off > c->len || size > c->len - off)
		return ES_HOOK_OOB;
	p = c->pkt + off;
	switch (size) {
	case 1:
		return p[0];
	case 2:
		return ((uint64_t)p[0] << 8) | p[1];
	case 4:
		return ((uint64_t)p[0] << 24) | ((uint64_t)p[1] << 16) |
		       ((uint64_t)p[2] << 8) | p[3];
	default:
		return ES_HOOK_OOB;
	}
}

static uint64_t h_counter_add(uint64_t idx, uint64_t v, uint64_t a3,
			      uint64_t a4, uint64_t a5)
{
	const struct es_hook_cur *c = &RTE_PER_LCORE(es_hook_cur);

	RTE_SET_USED(a3); RTE_SET_USED(a4); RTE_SET_USED(a5);
	if (idx >= ES_HOOK_N_COUNTERS || c->st == NULL)
		return ES_HOOK_OOB;
	c->st->cnt[idx] += v;
	return 0;
}

static uint64_t h_time_ns(uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5)
{
	uint64_t hz = rte_get_tsc_hz(), t = rte_get_tsc_cycles();

	RTE_SET_USED(a1); RTE_SET_USED(a2); RTE_SET_USED(a3);
	RTE_SET_USED(a4); RTE_SET_USED(a5);
	if (hz == 0)
		return 0;
	return (t / hz) * 1000000000ull + (t % hz) * 1000000000ull / hz;
}

static uint64_t h_trace(uint64_t a, uint64_t b, uint64_t a3, uint64_t a4,
			uint64_t a5)
{
	const struct es_hook_cur *c = &RTE_PER_LCORE(es_hook_cur);
	struct es_hook_trace_ring *r;
	struct es_hook_trace_rec *e;
	uint64_t h;

	RTE_SET_USED(a3); RTE_SET_USED(a4); RTE_SET_USED(a5);
	if (c->slot >= ES_HOOK_MAX_SLOTS)
		return ES_HOOK_OOB;
	r = &es_hook_trace[c->slot];
	h = r->head;
	e = &r->r[h & (ES_HOOK_TRACE_N - 1)];
	/* seq 0 while the record is being written: a reader skips it */
	__atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->tsc = rte_rdtsc();
	e->prog_id = c->prog_id;
	e->point = c->point;
	e->dir = c->dir;
	e->slot = c->slot;
	e->a = a;
	e->b = b;
	__atomic_store_n(&e->seq, h + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return 0;
}

#define RAW64 { .type = RTE_BPF_ARG_RAW, .size = sizeof(uint64_t) }
const struct rte_bpf_xsym es_hook_xsym[] = {
	{ .name = "es_pkt_load", .type = RTE_BPF_XTYPE_FUNC,
	  .func = { .val = h_pkt_load, .nb_args = 2, .args = { RAW64, RAW64 }, .ret = RAW64 } },
	{ .name = "es_counter_add", .type = RTE_BPF_XTYPE_FUNC,
	  .func = { .val = h_counter_add, .nb_args = 2, .args = { RAW64, RAW64 }, .ret = RAW64 } },
	{ .name = "es_time_ns", .type = RTE_BPF_XTYPE_FUNC,
	  .func = { .val = h_time_ns, .nb_args = 0, .ret = RAW64 } },
	{ .name = "es_trace", .type = RTE_BPF_XTYPE_FUNC,
	  .func = { .val = h_trace, .nb_args = 2, .args = { RAW64, RAW64 }, .ret = RAW64 } },
};
const unsigned int es_hook_n_xsym = RTE_DIM(es_hook_xsym);
