/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules that change at run time without losing or mis-steering a packet.
 *
 * Layout (published in struct es_tables, read by workers):
 *   rules[n_slots]  slot array; a slot is written only while no published
 *                   table refers to it, so a published slot never
 *                   changes. rte_acl userdata = slot + 1.
 *   acl4/acl6       base contexts over a set B of slots.
 *   delta           the set D of live slots, compiled for a linear match
 *                   (classify.h struct es_delta; NULL when D is empty),
 *                   rebuilt on every change.
 *   tomb            a bit per slot: set for slots of B that are no longer
 *                   live (deleted, or replaced by a 'rule change').
 * A worker takes the base result b of a key; b counts as no match when
 * tomb[b] is set; then the first rule of D (PRIO order) that matches and
 * beats b wins (classify.c es_classify_delta).
 *
 * Why D is linear and not a second rte_acl context pair: building even a
 * one-rule rte_acl context costs 0.4-0.6 ms here, 64 MEC-like rules 1.5
 * ms, and 30-100 rules of mixed shape (wildcards, port ranges, IPv6)
 * 0.2-0.7 s; a per-change rebuild of that cannot give 10k updates/s. The
 * linear delta is compiled in microseconds whatever the rule shape; its
 * cost per packet grows with |D| (about 10 cycles per rule scanned), so
 * D is kept small: merge_at and hard_cap below.
 *
 * Why that gives the right rule. Let L be the live set. We keep:
 *   (1) every live rule not in B is in D, and D is a subset of L;
 *   (2) for every dead X in B, every live Y in B with a worse PRIO than
 *       X whose match can overlap X's is in D.
 * Take a key k and its true answer T = the rule of L matching k with the
 * lowest PRIO. b = the best rule of B matching k (dead or alive), d = the
 * best rule of D matching k; d is live by (1) and PRIO(d) >= PRIO(T).
 *   - b live: every rule of B matching k is no better than b, so b is the
 *     best live rule of B; T is either b or a live rule outside B, which
 *     is in D by (1); so min(b, d) = T.
 *   - b dead (b = X): the best live rule of B matching k, Y, if any, has
 *     a worse PRIO than X (PRIOs are unique in B) and matches k as X does,
 *     so their matches overlap and Y is in D by (2); rules of L outside B
 *     are in D by (1); so d = T and b is rightly discarded.
 * "Overlap" is tested field by field (prefixes on their common bits,
 * port ranges, proto/qfi/dscp/teid/dir, family); it may say yes for two
 * rules no packet matches both of (that only makes D larger), never no
 * for two rules a packet can match both of.
 * PRIOs are unique in L; the same PRIO can be in B (dead, tombstoned) and
 * in D (its new version), and a live rule of B may also be in D (by (2)):
 * both give the same slot.
 *
 * A change is published as one new table set (es_tables_publish: atomic
 * store, RCU grace period): a new delta and a new tombstone bitmap
 * together, so a worker sees the old or the new rules, never a mix, and
 * when es_rules_update returns none sees the old ones.
 *
 * Merges: when |D| + tombstones grows past merge_at, or after a quiet
 * period, a background thread (created from the control thread, so on
 * the main lcore's core) builds a new base over a snapshot M of L. The
 * control thread installs it in es_rules_poll: B := M, tombstones := dead
 * slots of M, D := (1) and (2) recomputed against M for the changes made
 * during the build, and publishes all of it at once. If D would grow past
 * hard_cap, the update waits for the running merge, or rebuilds the base
 * itself (counted: merge_waits, sync_rebuilds); still correct, slower.
 *
 * Slots are freed (back on the free list) only after the publication
 * that dropped the last context referring to them has returned.
 */
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include "classify.h"
#include "rules.h"

/* control-side state of a slot */
struct slot_st {
	uint8_t used;    /* not on the free list */
	uint8_t live;    /* the current version of its PRIO */
	uint8_t base;    /* in the published base contexts */
	uint8_t snap;    /* in the base being built */
	uint8_t ind;     /* in D */
	uint8_t mark;    /* scratch */
	uint32_t bpos;   /* index in R.base when base */
	uint32_t dpos;   /* index in R.d when ind */
};

struct merge {
	pthread_t th;
	const struct es_rule *slots;
	uint32_t *idx, n;
	int socket;
	struct rte_acl_ctx *c4, *c6;
	int rc;
	int done;            /* set (release) by the thread when finished */
	uint64_t us;
	char err[ES_ERR_MAX];
};

static struct {
	int init;
	struct es_rule *slots;       /* == es_tables_live->rules */
	uint32_t cap, words;         /* slots, tombstone words */
	struct slot_st *st;
	uint32_t *free_l, n_free;
	void *tree;                  /* PRIO -> slot (tsearch) */
	uint32_t n_live;
	uint32_t *base, n_base;      /* B in PRIO order */
	uint32_t *d, n_d;            /* D */
	uint32_t n_tomb;
	struct merge *m;             /* running merge or NULL */
	uint32_t merge_at, hard_cap, quiet_ms;
	uint64_t last_update;
	struct es_rules_stats s;
} R;

/* ---- the PRIO index: tree keys are (PRIO << 32 | slot + 1) ---- */

static void *tkey(uint32_t prio, uint32_t slot)
{
	return (void *)(uintptr_t)((uint64_t)prio << 32 | (uint64_t)(slot + 1));
}

static uint32_t key_slot(const void *k)
{
	return (uint32_t)((uintptr_t)k & 0xffffffffu) - 1;
}

static int tcmp(const void *a, const void *b)
{
	uint32_t x = (uint32_t)((uintptr_t)a >> 32), y = (uint32_t)((uintptr_t)b >> 32);
	return x < y ? -1 : x > y;
}

/* the tree node of prio, or NULL */
static void **tfind_prio(uint32_t prio)
{
	return tfind(tkey(prio, 0), &R.tree, tcmp);
}

/* ---- overlap ---- */

static int pfx_overlap(const struct es_addr *a, const struct es_addr *b,
		       unsigned int maxbits)
{
	unsigned int plen = a->plen < b->plen ? a->plen : b->plen;
	if (plen > maxbits)
		plen = maxbits;
	if (memcmp(a->a, b->a, plen / 8) != 0)
		return 0;
	if (plen % 8) {
		uint8_t m = (uint8_t)(0xff00u >> (plen % 8));
		if ((a->a[plen / 8] ^ b->a[plen / 8]) & m)
			return 0;
	}
	return 1;
}

/* Can a packet match both a and b? (Never "no" when one can.) */
static int rules_overlap(const struct es_cmd_rule *a, const struct es_cmd_rule *b)
{
	if (a->dport_hi < b->dport_lo || b->dport_hi < a->dport_lo)
		return 0;
	if (a->has_dst && b->has_dst &&
	    (a->dst.v6 != b->dst.v6 || !pfx_overlap(&a->dst, &b->dst, 128)))
		return 0;
	if (!(es_rule_fams(a) & es_rule_fams(b)))
		return 0;
	if (a->dir != ES_DIR_ANY && b->dir != ES_DIR_ANY && a->dir != b->dir)
		return 0;
	if (a->has_proto && b->has_proto && a->proto != b->proto)
		return 0;
	if (a->has_qfi && b->has_qfi && a->qfi != b->qfi)
		return 0;
	if (a->has_dscp && b->has_dscp && a->dscp != b->dscp)
		return 0;
	if (a->has_teid && b->has_teid && a->teid != b->teid)
		return 0;
	if (a->sport_hi < b->sport_lo || b->sport_hi < a->sport_lo)
		return 0;
	/* the IPv6 UE key holds only the /64 */
	if (a->has_ue && b->has_ue &&
	    (a->ue.v6 != b->ue.v6 || !pfx_overlap(&a->ue, &b->ue, a->ue.v6 ? 64 : 32)))
		return 0;
	if (a->has_src && b->has_src &&
	    (a->src.v6 != b->src.v6 || !pfx_overlap(&a->src, &b->src, 128)))
		return 0;
	return 1;
}

/* ---- D ---- */

static void d_add(uint32_t s)
{
	if (R.st[s].ind)
		return;
	R.st[s].ind = 1;
	R.st[s].dpos = R.n_d;
	R.d[R.n_d++] = s;
}

static void d_del(uint32_t s)
{
	uint32_t p, last;
	if (!R.st[s].ind)
		return;
	p = R.st[s].dpos;
	last = R.d[--R.n_d];
	R.d[p] = last;
	R.st[last].dpos = p;
	R.st[s].ind = 0;
}

/* ---- slots ---- */

static void slot_release(uint32_t s)
{
	struct slot_st *st = &R.st[s];
	if (!st->used || st->live || st->base || st->snap || st->ind)
		return;
	st->used = 0;
	R.free_l[R.n_free++] = s;
}

static void release_all(void)
{
	for (uint32_t s = 0; s < R.cap; s++)
		slot_release(s);
}

static uint32_t slot_alloc(void)
{
	uint32_t s = R.free_l[--R.n_free];
	memset(&R.st[s], 0, sizeof(R.st[s]));
	R.st[s].used = 1;
	return s;
}

/* ---- publication ---- */

static int dcmp(const void *a, const void *b)
{
	uint32_t x = R.slots[*(const uint32_t *)a].c.prio;
	uint32_t y = R.slots[*(const uint32_t *)b].c.prio;
	return x < y ? -1 : x > y;
}

/*
 * Compile the n slots list[] (reordered here by PRIO) into a delta for
 * the workers: *out NULL when n is 0. Returns -1 when out of memory.
 */
static int build_delta(uint32_t *list, uint32_t n, struct es_delta **out,
		       char err[ES_ERR_MAX])
{
	struct es_delta *d;
	uint32_t n4 = 0, n6 = 0, k = 0;
	*out = NULL;
	if (n == 0)
		return 0;
	qsort(list, n, sizeof(*list), dcmp);
	for (uint32_t i = 0; i < n; i++) {
		int f = es_rule_fams(&R.slots[list[i]].c);
		n4 += (f & 1) != 0;
		n6 += (f & 2) != 0;
	}
	d = rte_malloc("es_delta", sizeof(*d) + (n4 + n6) * sizeof(d->r[0]),
		       RTE_CACHE_LINE_SIZE);
	if (d == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule delta");
		return -1;
	}
	d->n4 = n4;
	d->n6 = n6;
	for (int v6 = 0; v6 <= 1; v6++)
		for (uint32_t i = 0; i < n; i++)
			if (es_rule_fams(&R.slots[list[i]].c) & (1 << v6))
				es_dl_compile(&R.slots[list[i]].c, v6, list[i] + 1, &d->r[k++]);
	*out = d;
	return 0;
}

/*
 * Publish the delta d (and, when nb, new base contexts b4/b6) and the
 * tombstone bitmap tomb as one table set, then free what they replaced.
 * Returns -1 (nothing published, nothing freed) only when out of memory.
 */
static int publish(int nb, struct rte_acl_ctx *b4, struct rte_acl_ctx *b6,
		   struct es_delta *d, uint64_t *tomb, char err[ES_ERR_MAX])
{
	struct es_tables *old = es_tables_live;
	struct es_tables *nt = es_tables_clone(old);
	struct rte_acl_ctx *o4 = old->acl4, *o6 = old->acl6;
	const struct es_delta *od = old->delta;
	const uint64_t *ot = old->tomb;

	if (nt == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule tables");
		return -1;
	}
	if (nb) {
		nt->acl4 = b4;
		nt->acl6 = b6;
	}
	nt->delta = d;
	nt->tomb = tomb;
	nt->n_rules = R.n_live;
	nt->rules_delta = d != NULL || R.n_tomb != 0;
	es_tables_publish(nt);
	/* no worker reads the old set any more */
	if (nb) {
		rte_acl_free(o4);
		rte_acl_free(o6);
	}
	if (od != d)
		rte_free((void *)(uintptr_t)od);
	if (ot != tomb)
		rte_free((void *)(uintptr_t)ot);
	return 0;
}

/*
 * Make the base built over snapshot idx[0..n) (PRIO order; st.snap set)
 * the new B: tombstones and D recomputed against it, all published at
 * once. On failure (out of memory) nothing changes and the caller still
 * owns c4/c6.
 */
static int install(uint32_t *idx, uint32_t n, struct rte_acl_ctx *c4,
		   struct rte_acl_ctx *c6, char err[ES_ERR_MAX])
{
	uint32_t *nd = malloc(((size_t)R.cap + 1) * sizeof(*nd));
	uint64_t *tomb = rte_zmalloc("es_tomb", R.words * 8, RTE_CACHE_LINE_SIZE);
	struct es_delta *dl = NULL;
	uint32_t n_nd = 0, n_tomb = 0;

	if (nd == NULL || tomb == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule tables");
		goto fail;
	}
	/* (1): live rules outside the new base */
	for (uint32_t s = 0; s < R.cap; s++) {
		if (R.st[s].live && !R.st[s].snap) {
			R.st[s].mark = 1;
			nd[n_nd++] = s;
		}
	}
	/* (2): for each dead rule of the new base, the live worse ones that
	 * overlap it */
	for (uint32_t j = 0; j < n; j++) {
		uint32_t x = idx[j];
		if (R.st[x].live)
			continue;
		tomb[x >> 6] |= 1ull << (x & 63);
		n_tomb++;
		for (uint32_t k = j + 1; k < n; k++) {
			uint32_t y = idx[k];
			if (R.st[y].live && !R.st[y].mark &&
			    rules_overlap(&R.slots[x].c, &R.slots[y].c)) {
				R.st[y].mark = 1;
				nd[n_nd++] = y;
			}
		}
	}
	for (uint32_t i = 0; i < n_nd; i++)
		R.st[nd[i]].mark = 0;
	if (build_delta(nd, n_nd, &dl, err))
		goto fail;
	/* commit the control state, then publish */
	for (uint32_t i = 0; i < R.n_base; i++)
		R.st[R.base[i]].base = 0;
	for (uint32_t i = 0; i < R.n_d; i++)
		R.st[R.d[i]].ind = 0;
	for (uint32_t j = 0; j < n; j++) {
		R.st[idx[j]].base = 1;
		R.st[idx[j]].bpos = j;
		R.st[idx[j]].snap = 0;
	}
	free(R.base);
	R.base = idx;
	R.n_base = n;
	R.n_d = 0;
	for (uint32_t i = 0; i < n_nd; i++)
		d_add(nd[i]);
	R.n_tomb = n_tomb;
	free(nd);
	nd = NULL;
	if (publish(1, c4, c6, dl, tomb, err)) {
		/* cannot happen after the state moved: the clone is a few
		 * hundred bytes; keep workers on the old set, which stays
		 * correct only for the old state, so say so loudly */
		fprintf(stderr, "rules: %s: publication failed after a merge\n", err);
		abort();
	}
	release_all();
	return 0;
fail:
	free(nd);
	rte_free(tomb);
	rte_free(dl);
	return -1;
}

/* ---- merges ---- */

static void *merge_main(void *arg)
{
	struct merge *m = arg;
	uint64_t t0 = rte_rdtsc();
	m->rc = es_acl_build(m->slots, m->idx, m->n, m->socket, &m->c4, &m->c6, m->err);
	m->us = (rte_rdtsc() - t0) * 1000000 / rte_get_tsc_hz();
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct walk {
	uint32_t *idx, n;
};

static void walk_snap(const void *node, VISIT which, void *arg)
{
	struct walk *w = arg;
	uint32_t s;
	if (which != postorder && which != leaf)
		return;
	s = key_slot(*(void *const *)node);
	w->idx[w->n++] = s;
}

/* The live set in PRIO order, st.snap set; NULL when out of memory. */
static uint32_t *snapshot(uint32_t *n)
{
	struct walk w = { malloc(((size_t)R.n_live + 1) * sizeof(uint32_t)), 0 };
	if (w.idx == NULL)
		return NULL;
	twalk_r(R.tree, walk_snap, &w);
	for (uint32_t i = 0; i < w.n; i++)
		R.st[w.idx[i]].snap = 1;
	*n = w.n;
	return w.idx;
}

static void snap_clear(const uint32_t *idx, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		R.st[idx[i]].snap = 0;
}

static void merge_start(void)
{
	struct merge *m;
	if (R.m != NULL)
		return;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return;
	m->idx = snapshot(&m->n);
	if (m->idx == NULL) {
		free(m);
		return;
	}
	m->slots = R.slots;
	m->socket = (int)rte_socket_id();
	/* created from the control thread: it runs on the main lcore's
	 * core(s), never on a worker's */
	if (pthread_create(&m->th, NULL, merge_main, m) != 0) {
		snap_clear(m->idx, m->n);
		free(m->idx);
		free(m);
		R.s.merge_fails++;
		return;
	}
	R.m = m;
}

/* Join the running merge (waiting if it is not done) and install it.
 * Returns 0 when a new base was installed. */
static int merge_finish(void)
{
	struct merge *m = R.m;
	char err[ES_ERR_MAX];
	if (m == NULL)
		return -1;
	pthread_join(m->th, NULL);
	R.m = NULL;
	if (m->rc == 0 && install(m->idx, m->n, m->c4, m->c6, err) == 0) {
		R.s.merges++;
		R.s.last_merge_us = m->us;
		free(m);
		return 0;
	}
	/* build or install failed: drop it, retry after a quiet period */
	R.s.merge_fails++;
	rte_acl_free(m->c4);
	rte_acl_free(m->c6);
	snap_clear(m->idx, m->n);
	free(m->idx);
	free(m);
	release_all();
	R.last_update = rte_rdtsc();
	return -1;
}

/* Build a base over the live set here and now, and install it. */
static int rebuild_now(char err[ES_ERR_MAX])
{
	struct rte_acl_ctx *c4, *c6;
	uint64_t t0 = rte_rdtsc();
	uint32_t n, *idx;

	(void)merge_finish();
	idx = snapshot(&n);
	if (idx == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule tables");
		return -1;
	}
	if (es_acl_build(R.slots, idx, n, (int)rte_socket_id(), &c4, &c6, err) ||
	    install(idx, n, c4, c6, err)) {
		snap_clear(idx, n);
		free(idx);
		return -1;
	}
	R.s.sync_rebuilds++;
	R.s.last_merge_us = (rte_rdtsc() - t0) * 1000000 / rte_get_tsc_hz();
	return 0;
}

/* ---- updates ---- */

struct uop {
	uint32_t old_slot, new_slot;   /* UINT32_MAX: none */
};

/* Fill slot s from c, resolving app names. */
static int fill_slot(uint32_t s, const struct es_cmd_rule *c, char err[ES_ERR_MAX])
{
	return es_rule_from_cmd(es_tables_live, c, &R.slots[s], err);
}

/* Undo ops log[0..n) (in reverse): the PRIO index and liveness as before. */
static void undo_ops(const struct uop *log, unsigned int n)
{
	while (n--) {
		const struct uop *u = &log[n];
		if (u->new_slot != UINT32_MAX) {
			uint32_t prio = R.slots[u->new_slot].c.prio;
			if (u->old_slot != UINT32_MAX) {
				void **node = tfind_prio(prio);
				*node = tkey(prio, u->old_slot);
			} else {
				tdelete(tkey(prio, 0), &R.tree, tcmp);
				R.n_live--;
			}
			R.st[u->new_slot].live = 0;
			slot_release(u->new_slot);
		} else {
			uint32_t prio = R.slots[u->old_slot].c.prio;
			tsearch(tkey(prio, u->old_slot), &R.tree, tcmp);
			R.n_live++;
		}
		if (u->old_slot != UINT32_MAX)
			R.st[u->old_slot].live = 1;
	}
}

static int apply_op(const struct es_cmd *c, struct uop *u, char err[ES_ERR_MAX])
{
	uint32_t prio = c->u.rule.prio, s;
	void **node;

	u->old_slot = u->new_slot = UINT32_MAX;
	if (c->obj != ES_OBJ_RULE ||
	    (c->verb != ES_VERB_ADD && c->verb != ES_VERB_CHANGE && c->verb != ES_VERB_DEL)) {
		snprintf(err, ES_ERR_MAX, "rule %u: not a rule add, change or del", prio);
		return -1;
	}
	node = tfind_prio(prio);
	if (c->verb == ES_VERB_ADD && node != NULL) {
		snprintf(err, ES_ERR_MAX, "rule %u already exists", prio);
		return -1;
	}
	if (c->verb != ES_VERB_ADD && node == NULL) {
		snprintf(err, ES_ERR_MAX, "rule %u does not exist", prio);
		return -1;
	}
	if (c->verb == ES_VERB_ADD && R.n_live >= es_tables_live->max_rules) {
		snprintf(err, ES_ERR_MAX, "rule %u: table full (%u rules; raise 'set rules-max')",
			 prio, es_tables_live->max_rules);
		return -1;
	}
	if (node != NULL)
		u->old_slot = key_slot(*node);
	if (c->verb == ES_VERB_DEL) {
		tdelete(tkey(prio, 0), &R.tree, tcmp);
		R.n_live--;
		R.st[u->old_slot].live = 0;
		return 0;
	}
	s = slot_alloc();
	if (fill_slot(s, &c->u.rule, err)) {
		R.st[s].used = 0;
		R.free_l[R.n_free++] = s;
		return -1;
	}
	R.st[s].live = 1;
	u->new_slot = s;
	if (node != NULL) {
		*node = tkey(prio, s);
		R.st[u->old_slot].live = 0;
	} else {
		if (tsearch(tkey(prio, s), &R.tree, tcmp) == NULL) {
			R.st[s].live = 0;
			slot_release(s);
			u->new_slot = UINT32_MAX;
			snprintf(err, ES_ERR_MAX, "rule %u: out of memory", prio);
			return -1;
		}
		R.n_live++;
	}
	return 0;
}

/* A slot that is no longer live: out of D; if in B, tombstoned and the
 * live worse rules of B that overlap it go into D (invariant (2)). */
static void on_death(uint32_t o, uint64_t *tomb)
{
	d_del(o);
	if (!R.st[o].base || (tomb[o >> 6] >> (o & 63) & 1))
		return;
	tomb[o >> 6] |= 1ull << (o & 63);
	R.n_tomb++;
	for (uint32_t j = R.st[o].bpos + 1; j < R.n_base; j++) {
		uint32_t y = R.base[j];
		if (R.st[y].live && !R.st[y].ind &&
		    rules_overlap(&R.slots[o].c, &R.slots[y].c))
			d_add(y);
	}
}

static unsigned int failed_op;

unsigned int es_rules_failed_op(void)
{
	return failed_op;
}

int es_rules_update(const struct es_cmd *const *ops, unsigned int n,
		    char err[ES_ERR_MAX])
{
	struct uop *log;
	uint32_t *save_d = NULL, save_nd, save_ntomb;
	uint64_t *tomb = NULL;
	struct es_delta *dl;
	unsigned int i;

	if (!R.init) {
		snprintf(err, ES_ERR_MAX, "rules: not initialised");
		return -1;
	}
	if (n == 0)
		return 0;
	if (R.n_free < n) {
		/* dead slots come back with a new base */
		if (R.m != NULL) {
			R.s.merge_waits++;
			(void)merge_finish();
		}
		if (R.n_free < n && rebuild_now(err))
			return -1;
		if (R.n_free < n) {
			snprintf(err, ES_ERR_MAX,
				 "rule %u: %u commands at once, room for %u: send fewer",
				 ops[0]->u.rule.prio, n, R.n_free);
			return -1;
		}
	}
	log = malloc(n * sizeof(*log));
	save_d = malloc(((size_t)R.n_d + 1) * sizeof(*save_d));
	tomb = rte_malloc("es_tomb", R.words * 8, RTE_CACHE_LINE_SIZE);
	if (log == NULL || save_d == NULL || tomb == NULL) {
		snprintf(err, ES_ERR_MAX, "rule %u: out of memory", ops[0]->u.rule.prio);
		goto fail_mem;
	}
	failed_op = 0;
	for (i = 0; i < n; i++) {
		if (apply_op(ops[i], &log[i], err)) {
			failed_op = i;
			undo_ops(log, i);
			goto fail_mem;
		}
	}
	/* D and tombstones for the new live set; kept for an undo */
	memcpy(save_d, R.d, R.n_d * sizeof(*save_d));
	save_nd = R.n_d;
	save_ntomb = R.n_tomb;
	memcpy(tomb, es_tables_live->tomb, R.words * 8);
	for (i = 0; i < n; i++) {
		if (log[i].old_slot != UINT32_MAX && !R.st[log[i].old_slot].live)
			on_death(log[i].old_slot, tomb);
		if (log[i].new_slot != UINT32_MAX && R.st[log[i].new_slot].live)
			d_add(log[i].new_slot);
	}
	if (R.n_d > R.hard_cap) {
		/* a new base brings D back down: the running one (installing
		 * it recomputes D for everything done since its snapshot,
		 * this call included), or one built here. Either publishes
		 * the whole state; if both fail, publish the large D below. */
		int installed = 0;
		if (R.m != NULL) {
			R.s.merge_waits++;
			installed = merge_finish() == 0;
		}
		if (R.n_d > R.hard_cap && rebuild_now(err) == 0)
			installed = 1;
		if (installed) {
			rte_free(tomb);
			goto done;
		}
	}
	if (build_delta(R.d, R.n_d, &dl, err))
		goto fail_undo;
	/* build_delta reordered R.d: the positions follow */
	for (uint32_t k = 0; k < R.n_d; k++)
		R.st[R.d[k]].dpos = k;
	if (publish(0, NULL, NULL, dl, tomb, err)) {
		rte_free(dl);
		goto fail_undo;
	}
done:
	/* slots no context refers to any more */
	for (i = 0; i < n; i++) {
		if (log[i].old_slot != UINT32_MAX)
			slot_release(log[i].old_slot);
		if (log[i].new_slot != UINT32_MAX)
			slot_release(log[i].new_slot);
	}
	free(log);
	free(save_d);
	R.s.updates++;
	R.last_update = rte_rdtsc();
	if (R.m == NULL && R.n_d + R.n_tomb >= R.merge_at)
		merge_start();
	return 0;

fail_undo:
	/* back to the D, tombstones and live set before this call */
	for (uint32_t k = 0; k < R.n_d; k++)
		R.st[R.d[k]].ind = 0;
	R.n_d = 0;
	for (uint32_t k = 0; k < save_nd; k++)
		d_add(save_d[k]);
	R.n_tomb = save_ntomb;
	undo_ops(log, n);
fail_mem:
	free(log);
	free(save_d);
	rte_free(tomb);
	return -1;
}

void es_rules_poll(void)
{
	uint64_t now;
	if (!R.init)
		return;
	if (R.m != NULL) {
		if (__atomic_load_n(&R.m->done, __ATOMIC_ACQUIRE))
			(void)merge_finish();
		return;
	}
	if (R.n_d + R.n_tomb == 0)
		return;
	now = rte_rdtsc();
	if (R.n_d + R.n_tomb >= R.merge_at ||
	    now - R.last_update >= rte_get_tsc_hz() / 1000 * R.quiet_ms)
		merge_start();
}

void es_rules_settle(void)
{
	if (R.init)
		(void)merge_finish();
}

/* ---- set-up ---- */

uint32_t es_rules_slots(uint32_t rules_max)
{
	/* room for new versions while the old ones are still in the base */
	uint32_t h = rules_max / 4 > 1024 ? rules_max / 4 : 1024;
	return rules_max + h;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct es_rule *x = a, *y = b;
	return x->c.prio < y->c.prio ? -1 : x->c.prio > y->c.prio;
}

static void tfree_nothing(void *p)
{
	(void)p;
}

/* The control-side state, back to nothing (the published tables stay). */
static void state_forget(void)
{
	tdestroy(R.tree, tfree_nothing);
	free(R.st);
	free(R.free_l);
	free(R.base);
	free(R.d);
	memset(&R, 0, sizeof(R));
}

void es_rules_fini(void)
{
	if (!R.init)
		return;
	(void)merge_finish();
	state_forget();
}

void es_rules_tune(uint32_t merge_at, uint32_t hard_cap, uint32_t quiet_ms)
{
	if (merge_at)
		R.merge_at = merge_at;
	if (hard_cap)
		R.hard_cap = hard_cap;
	if (quiet_ms)
		R.quiet_ms = quiet_ms;
}

int es_rules_init(struct es_tables *t, char err[ES_ERR_MAX])
{
	uint32_t n = t->n_rules, cap = es_rules_slots(t->max_rules);
	uint32_t words = (cap + 63) / 64;
	struct es_rule *slots = NULL;
	uint64_t *tomb = NULL;
	struct rte_acl_ctx *c4 = NULL, *c6 = NULL;

	es_rules_fini();
	qsort(t->rules, n, sizeof(t->rules[0]), rule_cmp);
	for (uint32_t i = 1; i < n; i++) {
		if (t->rules[i].c.prio == t->rules[i - 1].c.prio) {
			snprintf(err, ES_ERR_MAX, "rule %u already exists", t->rules[i].c.prio);
			return -1;
		}
	}
	slots = rte_zmalloc("es_rules", (size_t)cap * sizeof(*slots), RTE_CACHE_LINE_SIZE);
	tomb = rte_zmalloc("es_tomb", words * 8, RTE_CACHE_LINE_SIZE);
	R.st = calloc(cap, sizeof(*R.st));
	R.free_l = malloc((size_t)cap * sizeof(uint32_t));
	R.base = malloc(((size_t)n + 1) * sizeof(uint32_t));
	R.d = malloc((size_t)cap * sizeof(uint32_t));
	if (!slots || !tomb || !R.st || !R.free_l || !R.base || !R.d) {
		snprintf(err, ES_ERR_MAX,
			 "out of memory for %u rule slots (raise EAL -m, or lower 'set rules-max')", cap);
		goto fail;
	}
	memcpy(slots, t->rules, (size_t)n * sizeof(*slots));
	for (uint32_t i = 0; i < n; i++)
		R.base[i] = i;
	if (es_acl_build(slots, R.base, n, (int)rte_socket_id(), &c4, &c6, err))
		goto fail;
	R.slots = slots;
	R.cap = cap;
	R.words = words;
	for (uint32_t i = 0; i < n; i++) {
		R.st[i] = (struct slot_st){ .used = 1, .live = 1, .base = 1, .bpos = i };
		if (tsearch(tkey(slots[i].c.prio, i), &R.tree, tcmp) == NULL) {
			snprintf(err, ES_ERR_MAX, "out of memory for the rule index");
			goto fail;
		}
	}
	for (uint32_t s = cap; s-- > n;)
		R.free_l[R.n_free++] = s;
	R.n_base = n;
	R.n_live = n;
	R.merge_at = 32;
	R.hard_cap = 256;
	R.quiet_ms = 100;
	R.init = 1;
	rte_free(t->rules);
	t->rules = slots;
	t->n_slots = cap;
	t->acl4 = c4;
	t->acl6 = c6;
	t->delta = NULL;
	t->tomb = tomb;
	t->rules_delta = 0;
	return 0;
fail:
	rte_acl_free(c4);
	rte_acl_free(c6);
	rte_free(slots);
	rte_free(tomb);
	state_forget();
	return -1;
}

/* ---- queries ---- */

struct fe {
	int (*fn)(void *arg, const struct es_rule *r);
	void *arg;
	int rc;
};

static void walk_fe(const void *node, VISIT which, void *arg)
{
	struct fe *f = arg;
	if ((which != postorder && which != leaf) || f->rc)
		return;
	f->rc = f->fn(f->arg, &R.slots[key_slot(*(void *const *)node)]);
}

int es_rules_foreach(int (*fn)(void *arg, const struct es_rule *r), void *arg)
{
	struct fe f = { fn, arg, 0 };
	if (R.init)
		twalk_r(R.tree, walk_fe, &f);
	return f.rc;
}

const struct es_rule *es_rules_find(uint32_t prio)
{
	void **node;
	if (!R.init || (node = tfind_prio(prio)) == NULL)
		return NULL;
	return &R.slots[key_slot(*node)];
}

unsigned int es_rules_count(void)
{
	return R.n_live;
}

bool es_rules_use_app(uint16_t app)
{
	for (uint32_t s = 0; s < R.cap; s++) {
		const struct es_rule *r = &R.slots[s];
		if (!R.st[s].live)
			continue;
		if ((r->c.action == ES_ACT_LOCAL || r->c.action == ES_ACT_MIRROR) && r->app == app)
			return true;
		if (r->c.action == ES_ACT_MIRROR && r->c.then_action == ES_ACT_LOCAL &&
		    r->then_app == app)
			return true;
	}
	return false;
}

void es_rules_stats(struct es_rules_stats *st)
{
	*st = R.s;
	st->live = R.n_live;
	st->slots = R.cap;
	st->base = R.n_base;
	st->delta = R.n_d;
	st->tombs = R.n_tomb;
	st->merging = R.m != NULL;
}
