/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules that change at run time without losing or mis-steering a packet.
 *
 * Layout (published in struct es_tables, read by workers):
 *   rules[n_slots]  slot array; a slot is written only while no published
 *                   table refers to it, so a published slot never
 *                   changes. rte_acl userdata = slot + 1.
 *   acl             base contexts over a set B of slots (per family and direction).
 *   tss             the set D of live slots, in a tuple space: a hash per
 *                   rule shape, chains in PRIO order (classify.h). Nodes
 *                   are linked and unlinked in place; a generation on
 *                   each node says from when to when it counts.
 *   kill            per slot, the generation from which a rule is dead
 *                   (deleted, or replaced by a 'rule change').
 *   rgen            the generation of the published set.
 * A worker takes the base result b of a key; b counts as no match when
 * its rule is dead at rgen; then the best rule of D (PRIO order) that
 * matches, counts at rgen and beats b wins (classify.c
 * es_classify_delta).
 *
 * Why D is not a second rte_acl context pair: building even a one-rule
 * rte_acl context costs 0.4-0.6 ms here, 64 MEC-like rules 1.5 ms, and
 * 30-100 rules of mixed shape (wildcards, port ranges, IPv6) 0.2-0.7 s;
 * a per-change rebuild of that cannot give 10k updates/s. Why D is not a
 * linear list (the first design): its cost per packet grew by ~10 cycles
 * per rule, so D had to stay under a few hundred rules, and with a base
 * rebuild taking 0.7 s at 10k rules and 10 s at 100k, updates waited for
 * merges (554/s at 10k, 81/s at 100k). The tuple space costs one hash
 * probe per rule shape (MEC rule sets have a handful), whatever |D|.
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
 * PRIOs are unique in L; the same PRIO can be in B (dead) and in D (its
 * new version), and a live rule of B may also be in D (by (2)): both
 * give the same slot.
 *
 * Generations make every change atomic. A batch is prepared at W = the
 * published generation + 1: new nodes get add_gen W, removed ones
 * del_gen W, dead base rules kill W. None of it changes what a worker on
 * a set of generation W - 1 sees; publishing the new set (rgen W: atomic
 * store, RCU grace period) makes all of it visible at once, so a worker
 * sees the old or the new rules, never a mix, and when es_rules_update
 * returns none sees the old ones. A batch refused half way is undone
 * before anything is published (the log below). Nodes removed at W are
 * unlinked once W is published (no worker counts them any more) and
 * reused after the next grace period (a worker may still be walking
 * them).
 *
 * Merges: when |D| + dead base rules grows past merge_at, or after a
 * quiet period, a background thread (created from the control thread, so
 * on the main lcore's core) builds a new base over a snapshot M of L. The
 * control thread installs it in es_rules_poll: B := M, D := (1) and (2)
 * recomputed against M for the changes made during the build, published
 * at once as one generation. D is bounded by the slots (es_rules_slots:
 * a live rule's new version takes a new slot while the old one is in
 * the base): when they run out, an update waits for the running merge,
 * or rebuilds the base itself (counted: merge_waits, sync_rebuilds).
 *
 * Slots are freed (back on the free list) only after the publication
 * that dropped the last context or node referring to them has returned.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
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
#include "rules_ovl.h"

/* control-side state of a slot */
struct slot_st {
	uint8_t used;    /* not on the free list */
	uint8_t live;    /* the current version of its PRIO */
	uint8_t base;    /* in the published base contexts */
	uint8_t snap;    /* in the base being built */
	uint8_t ind;     /* in D at the generation being prepared */
	uint8_t mark;    /* scratch */
	uint32_t bpos;   /* index in R.base when base */
	struct es_dn *dn[2];   /* its linked nodes (IPv4, IPv6), if any */
};

/* control-side state of a tuple; its id is its index in R.tup */
#define NTUP (2 * (ES_TSS_HASHED + 1))
struct ctup {
	uint8_t used, v6, ranges, lin;
	uint64_t msk[7];
	uint32_t vis;     /* nodes counted at the generation being prepared */
	uint32_t nodes;   /* nodes linked */
	uint32_t minp;    /* lower bound of the PRIOs of its counted nodes */
};

/* what a batch did to D and the kill marks, to undo it */
enum { L_ADD, L_DEL, L_KILL };
struct lent {
	uint8_t kind;
	uint32_t slot;
};

struct merge {
	pthread_t th;
	const struct es_cmd_rule *defs;
	uint32_t *idx, n;
	int socket;
	struct es_acl acl;
	struct es_ovl *ovl;
	int nice;
	int rc;
	int done;            /* set (release) by the thread when finished */
	uint64_t us;
	char err[ES_ERR_MAX];
};

#define NODE_CHUNK 1024

static struct {
	int init;
	struct es_rule *slots;       /* == es_tables_live->rules */
	struct es_cmd_rule *defs;    /* == es_tables_live->rule_defs */
	uint32_t cap;                /* slots */
	struct slot_st *st;
	uint32_t *free_l, n_free;
	void *tree;                  /* PRIO -> slot (tsearch) */
	uint32_t n_live;
	uint32_t *base, n_base;      /* B in PRIO order */
	struct es_ovl *ovl;          /* overlap index over B (rules_ovl.h) */
	uint32_t n_d;                /* slots in D */
	uint32_t n_tomb;             /* dead slots in B */
	/* the tuple space */
	uint64_t gen;                /* published generation */
	uint64_t *kill;              /* per slot; shared with the workers */
	struct es_dn **bkt;
	uint32_t bmask;
	struct ctup tup[NTUP];
	struct es_dn *node_free;     /* reusable nodes (next links them) */
	struct es_dn *limbo;         /* unlinked, reusable after a grace period */
	void **chunks;               /* node memory, freed by es_rules_fini */
	uint32_t n_chunks;
	struct es_dn **dying;        /* nodes given a del_gen, to unlink */
	uint32_t n_dying, cap_dying;
	/* the destination pre-filter (classify.h): live rules per bucket and
	 * per family without a placeable destination; buckets and families
	 * whose count fell to 0, to clear once that is published */
	struct es_dfilt *df;
	uint32_t *dcnt[2], wcnt[2];
	uint32_t *ddirty, n_ddirty, cap_ddirty;
	struct lent *log;            /* undo log of the batch being prepared */
	uint32_t n_log, cap_log;
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

/* ---- the destination pre-filter ---- */

static void df_bit(int v6, uint32_t b, int on)
{
	uint64_t *w = &R.df->bits[v6][b >> 6];
	uint64_t m = 1ull << (b & 63);
	__atomic_store_n(w, on ? *w | m : *w & ~m, __ATOMIC_RELAXED);
}

static void df_dirty(uint32_t v)
{
	if (R.n_ddirty == R.cap_ddirty) {
		uint32_t nc = R.cap_ddirty ? 2 * R.cap_ddirty : 256;
		uint32_t *nd = realloc(R.ddirty, nc * sizeof(*nd));
		if (nd == NULL)
			return;   /* the bit stays set: only slower */
		R.ddirty = nd;
		R.cap_ddirty = nc;
	}
	R.ddirty[R.n_ddirty++] = v;
}

/* Count live rule r in (d = 1) or out (d = -1) of the filter. A bit or a
 * wild flag is set at once (before the rule is published); one that falls
 * to 0 is only noted, and cleared by df_settle. */
static void df_count(const struct es_cmd_rule *r, int d)
{
	int fams = es_rule_fams(r);
	for (int v6 = 0; v6 <= 1; v6++) {
		uint32_t b0, nb = 1;
		if (!(fams & (1 << v6)))
			continue;
		if (!r->has_dst || r->dst.plen < (v6 ? 32 : 12)) {
			R.wcnt[v6] += (uint32_t)d;
			if (d > 0)
				__atomic_store_n(&R.df->wild[v6], 1, __ATOMIC_RELAXED);
			else if (R.wcnt[v6] == 0)
				df_dirty(1u << 31 | (uint32_t)v6 << 30);
			continue;
		}
		b0 = es_df_bucket(v6, r->dst.a);
		if (!v6 && r->dst.plen < 16) {
			nb = 1u << (16 - r->dst.plen);
			b0 &= ~(nb - 1);
		}
		for (uint32_t b = b0; b < b0 + nb; b++) {
			R.dcnt[v6][b] += (uint32_t)d;
			if (d > 0)
				df_bit(v6, b, 1);
			else if (R.dcnt[v6][b] == 0)
				df_dirty((uint32_t)v6 << 30 | b);
		}
	}
}

/* After a publication returned (or a batch was undone): clear what no
 * live rule needs any more; no worker holds an older generation. */
static void df_settle(void)
{
	for (uint32_t i = 0; i < R.n_ddirty; i++) {
		uint32_t v = R.ddirty[i];
		int v6 = (int)(v >> 30 & 1);
		if (v >> 31) {
			if (R.wcnt[v6] == 0)
				__atomic_store_n(&R.df->wild[v6], 0, __ATOMIC_RELAXED);
		} else if (R.dcnt[v6][v & 0xffff] == 0) {
			df_bit(v6, v & 0xffff, 0);
		}
	}
	R.n_ddirty = 0;
}

/* A slot becomes live (on 1) or stops being live (on 0). */
static void set_live(uint32_t s, int on)
{
	if (R.st[s].live == on)
		return;
	R.st[s].live = (uint8_t)on;
	df_count(&R.defs[s], on ? 1 : -1);
}

/* ---- the batch log ---- */

static uint64_t gen_next(void)
{
	return R.gen + 1;
}

/* Room for one more log entry and two more dying nodes, taken before a
 * change so that every change can be undone and unlinked. -1: out of
 * memory (nothing changed). */
static int log_room(void)
{
	if (R.n_log == R.cap_log) {
		uint32_t nc = R.cap_log ? 2 * R.cap_log : 256;
		struct lent *nl = realloc(R.log, nc * sizeof(*nl));
		if (nl == NULL)
			return -1;
		R.log = nl;
		R.cap_log = nc;
	}
	if (R.n_dying + 2 > R.cap_dying) {
		uint32_t nc = R.cap_dying ? 2 * R.cap_dying : 256;
		struct es_dn **nd = realloc(R.dying, nc * sizeof(*nd));
		if (nd == NULL)
			return -1;
		R.dying = nd;
		R.cap_dying = nc;
	}
	return 0;
}

static void log_push(uint8_t kind, uint32_t slot)
{
	R.log[R.n_log++] = (struct lent){ kind, slot };
}

/* ---- nodes and tuples ---- */

static struct es_dn *node_get(void)
{
	struct es_dn *d = R.node_free;
	if (d == NULL) {
		void **nc = realloc(R.chunks, (R.n_chunks + 1) * sizeof(*nc));
		struct es_dn *c;
		if (nc == NULL)
			return NULL;
		R.chunks = nc;
		c = rte_zmalloc_socket("es_dnodes", NODE_CHUNK * sizeof(*c),
				       RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
		if (c == NULL)
			return NULL;
		R.chunks[R.n_chunks++] = c;
		for (uint32_t i = NODE_CHUNK; i-- > 0;) {
			c[i].next = R.node_free;
			R.node_free = &c[i];
		}
		d = R.node_free;
	}
	R.node_free = d->next;
	memset(d, 0, sizeof(*d));
	return d;
}

/* A node given a del_gen, to unlink once that generation is published.
 * Always has room when log_room was called for the change; otherwise
 * (an undo) a node left out is unlinked when its slot next enters D, or
 * by es_rules_fini. */
static void dying_push(struct es_dn *d)
{
	if (R.n_dying < R.cap_dying)
		R.dying[R.n_dying++] = d;
}

/* The tuple for a node of this shape: an existing one, a new one, or the
 * family's catch-all once ES_TSS_HASHED shapes are taken. -1: none free
 * (cannot happen: NTUP covers both families' tuples). */
static int tup_for(int v6, const uint64_t msk[7], int ranges)
{
	int free_id = -1, lin = -1, hashed = 0;
	for (int i = 0; i < NTUP; i++) {
		struct ctup *u = &R.tup[i];
		if (!u->used) {
			if (free_id < 0)
				free_id = i;
			continue;
		}
		if (u->v6 != v6)
			continue;
		if (u->lin) {
			lin = i;
			continue;
		}
		hashed++;
		if (u->ranges == ranges && memcmp(u->msk, msk, sizeof(u->msk)) == 0)
			return i;
	}
	if (hashed >= ES_TSS_HASHED && lin >= 0)
		return lin;
	if (free_id < 0)
		return -1;
	memset(&R.tup[free_id], 0, sizeof(R.tup[free_id]));
	R.tup[free_id].used = 1;
	R.tup[free_id].v6 = (uint8_t)v6;
	R.tup[free_id].minp = UINT32_MAX;
	if (hashed >= ES_TSS_HASHED) {
		R.tup[free_id].lin = 1;
		R.tup[free_id].ranges = 1;
	} else {
		R.tup[free_id].ranges = (uint8_t)ranges;
		memcpy(R.tup[free_id].msk, msk, sizeof(R.tup[free_id].msk));
	}
	return free_id;
}

static uint32_t node_bucket(const struct es_dn *d)
{
	const struct ctup *u = &R.tup[d->tup];
	return es_tss_hash(d->val, es_key_words(d->v6), d->tup, u->lin) & R.bmask;
}

/* Link a filled node into its chain, after the nodes of lower or equal
 * PRIO: one release store makes it reachable. */
static void node_link(struct es_dn *d)
{
	struct es_dn **pp = &R.bkt[node_bucket(d)];
	while (*pp != NULL && (*pp)->prio <= d->prio)
		pp = &(*pp)->next;
	d->next = *pp;
	d->linked = 1;
	__atomic_store_n(pp, d, __ATOMIC_RELEASE);
	R.tup[d->tup].nodes++;
}

static void slot_release(uint32_t s);

/* Unlink a node no published generation counts: workers still walking
 * it go on through its next; it is reused after a grace period. */
static void node_unlink(struct es_dn *d)
{
	struct es_dn **pp = &R.bkt[node_bucket(d)];
	struct ctup *u = &R.tup[d->tup];
	uint32_t s = d->res - 1;
	while (*pp != d)
		pp = &(*pp)->next;
	__atomic_store_n(pp, d->next, __ATOMIC_RELEASE);
	d->linked = 0;
	if (R.st[s].dn[d->v6] == d)
		R.st[s].dn[d->v6] = NULL;
	if (--u->nodes == 0 && u->vis == 0)
		u->used = 0;
	/* d->next stays for the walkers; the limbo list has its own link */
	d->lnext = R.limbo;
	R.limbo = d;
	slot_release(s);
}

/* After a publication returned (a grace period passed): nodes unlinked
 * before it are reusable; nodes no generation from now on counts are
 * unlinked. */
static void reclaim(void)
{
	uint32_t k = 0;
	while (R.limbo != NULL) {
		struct es_dn *d = R.limbo;
		R.limbo = d->lnext;
		d->next = R.node_free;
		R.node_free = d;
	}
	for (uint32_t i = 0; i < R.n_dying; i++) {
		struct es_dn *d = R.dying[i];
		if (!d->linked || d->del_gen == ES_GEN_NEVER)
			continue;   /* unlinked already, or back in D */
		if (d->del_gen <= R.gen)
			node_unlink(d);
		else
			R.dying[k++] = d;
	}
	R.n_dying = k;
}

/* ---- D ---- */

static void vis_add(struct es_dn *d)
{
	struct ctup *u = &R.tup[d->tup];
	u->vis++;
	if (d->prio < u->minp)
		u->minp = d->prio;
}

/* Put slot s into D at the generation being prepared. -1: out of memory
 * (D as it was). */
static int d_add(uint32_t s)
{
	struct slot_st *st = &R.st[s];
	const struct es_cmd_rule *c = &R.defs[s];
	int fams = es_rule_fams(c);
	uint64_t W = gen_next();
	struct es_dn *made[2] = { NULL, NULL };

	if (st->ind)
		return 0;
	if (log_room())
		return -1;
	for (int v6 = 0; v6 <= 1; v6++) {
		struct es_dn *d;
		uint64_t val[7], msk[7];
		int ranges, t;
		if (!(fams & (1 << v6)))
			continue;
		if (st->dn[v6] != NULL) {
			struct es_dn *o = st->dn[v6];
			if (o->del_gen == W) {
				/* taken out earlier in this batch: back in */
				__atomic_store_n(&o->del_gen, ES_GEN_NEVER, __ATOMIC_RELAXED);
				vis_add(o);
				continue;
			}
			/* taken out at a published generation (no worker
			 * counts it) and still linked: unlink it now, and
			 * give the slot a new node counted from W */
			node_unlink(o);
		}
		es_rule_key(c, v6, val, msk, &ranges);
		t = tup_for(v6, msk, ranges);
		d = t < 0 ? NULL : node_get();
		if (d == NULL) {
			/* back out what this call did */
			for (int f = 0; f < v6; f++) {
				if (!(fams & (1 << f)))
					continue;
				R.tup[st->dn[f]->tup].vis--;
				__atomic_store_n(&st->dn[f]->del_gen, W, __ATOMIC_RELAXED);
				if (made[f] != NULL)
					dying_push(made[f]);
			}
			return -1;
		}
		for (int w = 0; w < 7; w++)
			d->val[w] = val[w] & msk[w];
		memcpy(d->msk, msk, sizeof(d->msk));
		d->prio = c->prio;
		d->res = s + 1;
		d->tup = (uint16_t)t;
		d->v6 = (uint8_t)v6;
		d->sp_lo = c->sport_lo;
		d->sp_hi = c->sport_hi;
		d->dp_lo = c->dport_lo;
		d->dp_hi = c->dport_hi;
		d->add_gen = W;
		d->del_gen = ES_GEN_NEVER;
		st->dn[v6] = d;
		made[v6] = d;
		node_link(d);
		vis_add(d);
	}
	st->ind = 1;
	R.n_d++;
	log_push(L_ADD, s);
	return 0;
}

/* Take slot s out of D at the generation being prepared. -1: out of
 * memory (nothing changed). */
static int d_del(uint32_t s)
{
	struct slot_st *st = &R.st[s];
	uint64_t W = gen_next();
	if (!st->ind)
		return 0;
	if (log_room())
		return -1;
	for (int v6 = 0; v6 <= 1; v6++) {
		struct es_dn *d = st->dn[v6];
		if (d == NULL)
			continue;
		__atomic_store_n(&d->del_gen, W, __ATOMIC_RELAXED);
		R.tup[d->tup].vis--;
		dying_push(d);
	}
	st->ind = 0;
	R.n_d--;
	log_push(L_DEL, s);
	return 0;
}

/* Mark slot s dead from the generation being prepared. -1: out of
 * memory (nothing changed). */
static int kill_slot(uint32_t s)
{
	if (R.kill[s] != ES_GEN_NEVER)
		return 0;
	if (log_room())
		return -1;
	__atomic_store_n(&R.kill[s], gen_next(), __ATOMIC_RELAXED);
	if (R.st[s].base)
		R.n_tomb++;
	log_push(L_KILL, s);
	return 0;
}

/* Undo the log from entry `from` on, newest first: D and the kill marks
 * as they were. Nothing of it was published. */
static void log_undo(uint32_t from)
{
	while (R.n_log > from) {
		struct lent *e = &R.log[--R.n_log];
		struct slot_st *st = &R.st[e->slot];
		if (e->kind == L_KILL) {
			__atomic_store_n(&R.kill[e->slot], ES_GEN_NEVER, __ATOMIC_RELAXED);
			if (st->base)
				R.n_tomb--;
			continue;
		}
		for (int v6 = 0; v6 <= 1; v6++) {
			struct es_dn *d = st->dn[v6];
			if (d == NULL)
				continue;
			if (e->kind == L_ADD) {
				/* never counted: del_gen == add_gen or a revival undone */
				__atomic_store_n(&d->del_gen, gen_next(), __ATOMIC_RELAXED);
				R.tup[d->tup].vis--;
				dying_push(d);
			} else {
				__atomic_store_n(&d->del_gen, ES_GEN_NEVER, __ATOMIC_RELAXED);
				vis_add(d);
			}
		}
		if (e->kind == L_ADD) {
			st->ind = 0;
			R.n_d--;
		} else {
			st->ind = 1;
			R.n_d++;
		}
	}
}

/* ---- slots ---- */

static void slot_release(uint32_t s)
{
	struct slot_st *st = &R.st[s];
	if (!st->used || st->live || st->base || st->snap || st->ind ||
	    st->dn[0] != NULL || st->dn[1] != NULL)
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
	/* no published set refers to s: its old death mark can go */
	__atomic_store_n(&R.kill[s], ES_GEN_NEVER, __ATOMIC_RELAXED);
	return s;
}

/* ---- publication ---- */

static int tup_cmp(const void *a, const void *b)
{
	const struct es_tup *x = a, *y = b;
	return x->minp < y->minp ? -1 : x->minp > y->minp;
}

/* The tuples counted at the generation being prepared, in minp order per
 * family; *out NULL when there are none. -1: out of memory. */
static int build_tss(struct es_tss **out)
{
	uint32_t n[2] = { 0, 0 };
	struct es_tss *ts;
	*out = NULL;
	for (int i = 0; i < NTUP; i++)
		if (R.tup[i].used && R.tup[i].vis)
			n[R.tup[i].v6]++;
	if (n[0] + n[1] == 0)
		return 0;
	ts = rte_malloc("es_tss", sizeof(*ts) + (n[0] + n[1]) * sizeof(ts->t[0]),
			RTE_CACHE_LINE_SIZE);
	if (ts == NULL)
		return -1;
	ts->n4 = n[0];
	ts->n6 = n[1];
	ts->bmask = R.bmask;
	ts->bkt = R.bkt;
	for (int v6 = 0, k = 0; v6 <= 1; v6++) {
		uint32_t first = (uint32_t)k;
		for (int i = 0; i < NTUP; i++) {
			const struct ctup *u = &R.tup[i];
			if (!u->used || !u->vis || u->v6 != v6)
				continue;
			memcpy(ts->t[k].msk, u->msk, sizeof(u->msk));
			ts->t[k].minp = u->minp;
			ts->t[k].id = (uint16_t)i;
			ts->t[k].ranges = u->ranges;
			ts->t[k].lin = u->lin;
			k++;
		}
		qsort(ts->t + first, (uint32_t)k - first, sizeof(ts->t[0]), tup_cmp);
	}
	*out = ts;
	return 0;
}

/*
 * Publish the generation being prepared: D and the kill marks as they
 * are now (and, when nb, new base contexts b4/b6) as one table set; then
 * free what it replaced and reclaim nodes. Returns -1 (nothing
 * published, nothing freed) only when out of memory.
 */
static int publish(int nb, const struct es_acl *b, char err[ES_ERR_MAX])
{
	struct es_tables *old = es_tables_live;
	struct es_tables *nt;
	struct es_acl oa = old->acl;
	const struct es_tss *ots = old->tss;
	struct es_tss *ts;

	if (build_tss(&ts)) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule tables");
		return -1;
	}
	nt = es_tables_clone(old);
	if (nt == NULL) {
		rte_free(ts);
		snprintf(err, ES_ERR_MAX, "out of memory for the rule tables");
		return -1;
	}
	if (nb) {
		nt->acl = *b;
	}
	nt->tss = ts;
	nt->kill = R.kill;
	nt->rgen = gen_next();
	nt->n_rules = R.n_live;
	nt->rules_delta = ts != NULL || R.n_tomb != 0;
	es_tables_publish(nt);
	/* no worker reads the old set any more */
	R.gen = nt->rgen;
	R.n_log = 0;
	if (nb) {
		es_acl_free(&oa);
	}
	rte_free((void *)(uintptr_t)ots);
	reclaim();
	df_settle();
	return 0;
}

/*
 * Make the base built over snapshot idx[0..n) (PRIO order; st.snap set)
 * the new B: D recomputed against it, all published at once. On failure
 * (out of memory) nothing changes and the caller still owns acl and
 * ovl (the overlap index over idx) ; on success they are the base's.
 */
/* es_ovl_query callback; arg: the snapshot's slots in PRIO order. A live
 * rule at position j goes into the new D */
static void mark_live(void *arg, uint32_t j)
{
	const uint32_t *idx = arg;
	uint32_t y = idx[j];
	if (R.st[y].live)
		R.st[y].mark = 1;
}

static int install(uint32_t *idx, uint32_t n, const struct es_acl *acl,
		   struct es_ovl *ovl, char err[ES_ERR_MAX])
{
	uint32_t n_tomb = 0, save_tomb = R.n_tomb;

	/* the new D: (1) live rules outside the new base */
	for (uint32_t s = 0; s < R.cap; s++)
		R.st[s].mark = R.st[s].live && !R.st[s].snap;
	/* (2): for each dead rule of the new base, the live worse ones that
	 * overlap it */
	for (uint32_t j = 0; j < n; j++) {
		uint32_t x = idx[j];
		if (R.st[x].live)
			continue;
		n_tomb++;
		es_ovl_query(ovl, R.defs, idx, &R.defs[x], j, mark_live, idx);
	}
	/* from the old D to the new one, at the next generation */
	R.n_log = 0;
	for (uint32_t s = 0; s < R.cap; s++) {
		if (R.st[s].ind && !R.st[s].mark && d_del(s)) {
			snprintf(err, ES_ERR_MAX, "out of memory for the rule delta");
			goto fail;
		}
	}
	for (uint32_t s = 0; s < R.cap; s++) {
		if (R.st[s].mark && !R.st[s].ind && d_add(s)) {
			snprintf(err, ES_ERR_MAX, "out of memory for the rule delta");
			goto fail;
		}
	}
	/* exact bounds again (deletes only left them low) */
	for (int i = 0; i < NTUP; i++)
		R.tup[i].minp = UINT32_MAX;
	for (uint32_t s = 0; s < R.cap; s++) {
		if (!R.st[s].ind)
			continue;
		for (int v6 = 0; v6 <= 1; v6++)
			if (R.st[s].dn[v6] != NULL && R.tup[R.st[s].dn[v6]->tup].minp > R.st[s].dn[v6]->prio)
				R.tup[R.st[s].dn[v6]->tup].minp = R.st[s].dn[v6]->prio;
	}
	/* base flags: the counts of dead base rules follow the new base */
	R.n_tomb = n_tomb;
	if (publish(1, acl, err)) {
		R.n_tomb = save_tomb;
		goto fail;
	}
	for (uint32_t i = 0; i < R.n_base; i++)
		R.st[R.base[i]].base = 0;
	for (uint32_t j = 0; j < n; j++) {
		R.st[idx[j]].base = 1;
		R.st[idx[j]].bpos = j;
		R.st[idx[j]].snap = 0;
	}
	free(R.base);
	R.base = idx;
	R.n_base = n;
	es_ovl_free(R.ovl);
	R.ovl = ovl;
	for (uint32_t s = 0; s < R.cap; s++)
		R.st[s].mark = 0;
	release_all();
	return 0;
fail:
	log_undo(0);
	for (uint32_t s = 0; s < R.cap; s++)
		R.st[s].mark = 0;
	return -1;
}

/* ---- merges ---- */

static int merge_nice = 19;

void es_rules_merge_nice(int nice)
{
	merge_nice = nice;
}

static void *merge_main(void *arg)
{
	struct merge *m = arg;
	uint64_t t0;
	/* the control thread shares the core: it goes first, a merge takes
	 * what is left (per-thread nice on Linux; failure only costs speed) */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), m->nice);
	t0 = rte_rdtsc();
	m->rc = es_acl_build(m->defs, m->idx, m->n, m->socket, &m->acl, m->err);
	if (m->rc == 0 && (m->ovl = es_ovl_build(m->defs, m->idx, m->n)) == NULL) {
		snprintf(m->err, ES_ERR_MAX, "out of memory for the overlap index");
		es_acl_free(&m->acl);
		m->rc = -1;
	}
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
	m->defs = R.defs;
	m->socket = (int)rte_socket_id();
	m->nice = merge_nice;
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
	if (m->rc == 0 && install(m->idx, m->n, &m->acl, m->ovl, err) == 0) {
		R.s.merges++;
		R.s.last_merge_us = m->us;
		free(m);
		return 0;
	}
	/* build or install failed: drop it, retry after a quiet period */
	R.s.merge_fails++;
	es_acl_free(&m->acl);
	es_ovl_free(m->ovl);
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
	struct es_acl acl;
	struct es_ovl *ovl;
	uint64_t t0 = rte_rdtsc();
	uint32_t n, *idx;

	(void)merge_finish();
	idx = snapshot(&n);
	if (idx == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule tables");
		return -1;
	}
	if (es_acl_build(R.defs, idx, n, (int)rte_socket_id(), &acl, err)) {
		snap_clear(idx, n);
		free(idx);
		return -1;
	}
	ovl = es_ovl_build(R.defs, idx, n);
	if (ovl == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the overlap index");
	} else if (install(idx, n, &acl, ovl, err) == 0) {
		R.s.sync_rebuilds++;
		R.s.last_merge_us = (rte_rdtsc() - t0) * 1000000 / rte_get_tsc_hz();
		return 0;
	}
	es_acl_free(&acl);
	es_ovl_free(ovl);
	snap_clear(idx, n);
	free(idx);
	return -1;
}

/* ---- updates ---- */

struct uop {
	uint32_t old_slot, new_slot;   /* UINT32_MAX: none */
};

/* Fill slot s from c, resolving app names. */
static int fill_slot(uint32_t s, const struct es_cmd_rule *c, char err[ES_ERR_MAX])
{
	R.defs[s] = *c;
	return es_rule_from_cmd(es_tables_live, c, &R.slots[s], err);
}

/* Undo ops log[0..n) (in reverse): the PRIO index and liveness as before. */
static void undo_ops(const struct uop *log, unsigned int n)
{
	while (n--) {
		const struct uop *u = &log[n];
		if (u->new_slot != UINT32_MAX) {
			uint32_t prio = R.slots[u->new_slot].prio;
			if (u->old_slot != UINT32_MAX) {
				void **node = tfind_prio(prio);
				*node = tkey(prio, u->old_slot);
			} else {
				tdelete(tkey(prio, 0), &R.tree, tcmp);
				R.n_live--;
			}
			set_live(u->new_slot, 0);
			slot_release(u->new_slot);
		} else {
			uint32_t prio = R.slots[u->old_slot].prio;
			tsearch(tkey(prio, u->old_slot), &R.tree, tcmp);
			R.n_live++;
		}
		if (u->old_slot != UINT32_MAX)
			set_live(u->old_slot, 1);
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
		set_live(u->old_slot, 0);
		return 0;
	}
	s = slot_alloc();
	if (fill_slot(s, &c->u.rule, err)) {
		R.st[s].used = 0;
		R.free_l[R.n_free++] = s;
		return -1;
	}
	set_live(s, 1);
	u->new_slot = s;
	if (node != NULL) {
		*node = tkey(prio, s);
		set_live(u->old_slot, 0);
	} else {
		if (tsearch(tkey(prio, s), &R.tree, tcmp) == NULL) {
			set_live(s, 0);
			slot_release(s);
			u->new_slot = UINT32_MAX;
			snprintf(err, ES_ERR_MAX, "rule %u: out of memory", prio);
			return -1;
		}
		R.n_live++;
	}
	return 0;
}

/* es_ovl_query callback: a live base rule at position j into D */
static void add_live(void *arg, uint32_t j)
{
	int *oom = arg;
	uint32_t y = R.base[j];
	if (!*oom && R.st[y].live && !R.st[y].ind && d_add(y))
		*oom = 1;
}

/* A slot that is no longer live: out of D, dead from the generation being
 * prepared; if in B, the live worse rules of B that overlap it go into D
 * (invariant (2)). -1: out of memory. */
static int on_death(uint32_t o)
{
	int oom;
	if (d_del(o))
		return -1;
	if (R.kill[o] != ES_GEN_NEVER)
		return 0;
	if (kill_slot(o))
		return -1;
	if (!R.st[o].base)
		return 0;
	oom = 0;
	es_ovl_query(R.ovl, R.defs, R.base, &R.defs[o], R.st[o].bpos, add_live, &oom);
	return oom ? -1 : 0;
}

static unsigned int failed_op;

unsigned int es_rules_failed_op(void)
{
	return failed_op;
}

/* Room for n new slots: dead ones come back with a new base. */
static int need_slots(unsigned int n, uint32_t prio, char err[ES_ERR_MAX])
{
	if (R.n_free >= n)
		return 0;
	if (R.m != NULL) {
		R.s.merge_waits++;
		(void)merge_finish();
	}
	if (R.n_free < n && rebuild_now(err))
		return -1;
	if (R.n_free < n) {
		snprintf(err, ES_ERR_MAX,
			 "rule %u: %u commands at once, room for %u: send fewer",
			 prio, n, R.n_free);
		return -1;
	}
	return 0;
}

int es_rules_update(const struct es_cmd *const *ops, unsigned int n,
		    char err[ES_ERR_MAX])
{
	struct uop *log;
	uint32_t save_ntomb;
	unsigned int i;

	if (!R.init) {
		snprintf(err, ES_ERR_MAX, "rules: not initialised");
		return -1;
	}
	if (n == 0)
		return 0;
	if (need_slots(n, ops[0]->u.rule.prio, err))
		return -1;
	log = malloc(n * sizeof(*log));
	if (log == NULL) {
		snprintf(err, ES_ERR_MAX, "rule %u: out of memory", ops[0]->u.rule.prio);
		return -1;
	}
	failed_op = 0;
	for (i = 0; i < n; i++) {
		if (apply_op(ops[i], &log[i], err)) {
			failed_op = i;
			undo_ops(log, i);
			df_settle();
			free(log);
			return -1;
		}
	}
	/* D and the kill marks for the new live set, at the next generation */
	R.n_log = 0;
	save_ntomb = R.n_tomb;
	for (i = 0; i < n; i++) {
		if (log[i].old_slot != UINT32_MAX && !R.st[log[i].old_slot].live &&
		    on_death(log[i].old_slot))
			goto fail_mem;
		if (log[i].new_slot != UINT32_MAX && R.st[log[i].new_slot].live &&
		    d_add(log[i].new_slot))
			goto fail_mem;
	}
	if (publish(0, NULL, err))
		goto fail_undo;
	/* slots no context or node refers to any more */
	for (i = 0; i < n; i++) {
		if (log[i].old_slot != UINT32_MAX)
			slot_release(log[i].old_slot);
		if (log[i].new_slot != UINT32_MAX)
			slot_release(log[i].new_slot);
	}
	free(log);
	R.s.updates++;
	R.last_update = rte_rdtsc();
	if (R.n_d > R.hard_cap) {
		/* a new base brings D back down: the running one, or one
		 * built here (the update itself is published already) */
		char e2[ES_ERR_MAX];
		if (R.m != NULL) {
			R.s.merge_waits++;
			(void)merge_finish();
		}
		if (R.n_d > R.hard_cap)
			(void)rebuild_now(e2);
	}
	if (R.m == NULL && R.n_d + R.n_tomb >= R.merge_at)
		merge_start();
	return 0;

fail_mem:
	snprintf(err, ES_ERR_MAX, "rule %u: out of memory for the rule delta",
		 ops[0]->u.rule.prio);
fail_undo:
	log_undo(0);
	R.n_tomb = save_ntomb;
	undo_ops(log, n);
	df_settle();
	free(log);
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
	/* room for new versions while the old ones are still in the base:
	 * as many as the rules, so that a merge at 100k rules (~10 s) can
	 * run under 10k changes/s without updates waiting for it */
	uint32_t h = rules_max > 1024 ? rules_max : 1024;
	return rules_max + h;
}

static void tfree_nothing(void *p)
{
	(void)p;
}

/* The control-side state, back to nothing (the published tables stay,
 * but for what es_rules_fini takes from them). */
static void state_forget(void)
{
	tdestroy(R.tree, tfree_nothing);
	free(R.st);
	free(R.free_l);
	free(R.base);
	es_ovl_free(R.ovl);
	for (uint32_t i = 0; i < R.n_chunks; i++)
		rte_free(R.chunks[i]);
	free(R.chunks);
	free(R.dying);
	free(R.log);
	rte_free(R.bkt);
	rte_free(R.kill);
	rte_free(R.df);
	free(R.dcnt[0]);
	free(R.dcnt[1]);
	free(R.ddirty);
	memset(&R, 0, sizeof(R));
}

void es_rules_fini(void)
{
	struct es_tables *t = es_tables_live;
	if (!R.init)
		return;
	(void)merge_finish();
	/* the delta goes with this state: the live set falls back to its
	 * base alone (no worker runs any more) */
	if (t != NULL && t->kill == R.kill) {
		rte_free((void *)(uintptr_t)t->tss);
		t->tss = NULL;
		t->kill = NULL;
		t->dfilt = NULL;
		t->rules_delta = 0;
	}
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
	uint32_t nb = 1024;
	struct es_rule *slots = NULL;
	struct es_cmd_rule *defs = NULL;
	struct es_acl acl = { 0 };

	es_rules_fini();
	for (uint32_t i = 0; i < n; i++)
		es_rule_set(&t->rules[i], &t->rule_defs[i]);
	if (es_rules_sort(t->rules, t->rule_defs, n)) {
		snprintf(err, ES_ERR_MAX, "out of memory");
		return -1;
	}
	for (uint32_t i = 1; i < n; i++) {
		if (t->rules[i].prio == t->rules[i - 1].prio) {
			snprintf(err, ES_ERR_MAX, "rule %u already exists", t->rules[i].prio);
			return -1;
		}
	}
	/* chains of about one node when D holds every slot */
	while (nb < cap)
		nb <<= 1;
	slots = rte_zmalloc("es_rules", (size_t)cap * sizeof(*slots), RTE_CACHE_LINE_SIZE);
	defs = rte_zmalloc("es_rule_defs", (size_t)cap * sizeof(*defs), 0);
	R.kill = rte_malloc("es_kill", (size_t)cap * sizeof(*R.kill), RTE_CACHE_LINE_SIZE);
	R.bkt = rte_zmalloc("es_tss_bkt", (size_t)nb * sizeof(*R.bkt), RTE_CACHE_LINE_SIZE);
	R.df = rte_zmalloc("es_dfilt", sizeof(*R.df), RTE_CACHE_LINE_SIZE);
	R.dcnt[0] = calloc(ES_DF_BUCKETS, sizeof(uint32_t));
	R.dcnt[1] = calloc(ES_DF_BUCKETS, sizeof(uint32_t));
	R.st = calloc(cap, sizeof(*R.st));
	R.free_l = malloc((size_t)cap * sizeof(uint32_t));
	R.base = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (!slots || !defs || !R.kill || !R.bkt || !R.df || !R.dcnt[0] || !R.dcnt[1] ||
	    !R.st || !R.free_l || !R.base) {
		snprintf(err, ES_ERR_MAX,
			 "out of memory for %u rule slots (raise EAL -m, or lower 'set rules-max')", cap);
		goto fail;
	}
	for (uint32_t s = 0; s < cap; s++)
		R.kill[s] = ES_GEN_NEVER;
	R.bmask = nb - 1;
	memcpy(slots, t->rules, (size_t)n * sizeof(*slots));
	memcpy(defs, t->rule_defs, (size_t)n * sizeof(*defs));
	for (uint32_t i = 0; i < n; i++)
		R.base[i] = i;
	if (es_acl_build(defs, R.base, n, (int)rte_socket_id(), &acl, err))
		goto fail;
	R.ovl = es_ovl_build(defs, R.base, n);
	if (R.ovl == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for the rule overlap index");
		goto fail;
	}
	R.slots = slots;
	R.defs = defs;
	R.cap = cap;
	for (uint32_t i = 0; i < n; i++) {
		R.st[i] = (struct slot_st){ .used = 1, .live = 1, .base = 1, .bpos = i };
		df_count(&defs[i], 1);
		if (tsearch(tkey(slots[i].prio, i), &R.tree, tcmp) == NULL) {
			snprintf(err, ES_ERR_MAX, "out of memory for the rule index");
			goto fail;
		}
	}
	for (uint32_t s = cap; s-- > n;)
		R.free_l[R.n_free++] = s;
	R.n_base = n;
	R.n_live = n;
	R.merge_at = 32;
	R.hard_cap = UINT32_MAX;
	R.quiet_ms = 100;
	R.init = 1;
	rte_free(t->rules);
	rte_free(t->rule_defs);
	t->rules = slots;
	t->rule_defs = defs;
	t->n_slots = cap;
	t->acl = acl;
	t->tss = NULL;
	t->kill = R.kill;
	t->dfilt = R.df;
	t->rgen = 0;
	t->rules_delta = 0;
	return 0;
fail:
	es_acl_free(&acl);
	rte_free(slots);
	rte_free(defs);
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
		if ((r->action == ES_ACT_LOCAL || r->action == ES_ACT_MIRROR) && r->app == app)
			return true;
		if (r->action == ES_ACT_MIRROR && r->then_action == ES_ACT_LOCAL &&
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
	st->tuples = 0;
	st->lin = 0;
	for (int i = 0; i < NTUP; i++) {
		if (!R.tup[i].used || !R.tup[i].vis)
			continue;
		st->tuples++;
		if (R.tup[i].lin)
			st->lin += R.tup[i].vis;
	}
	st->gen = R.gen;
	st->merging = R.m != NULL;
}

int es_rule_from_cmd(const struct es_tables *t, const struct es_cmd_rule *c,
		     struct es_rule *r, char err[ES_ERR_MAX])
{
	memset(r, 0, sizeof(*r));
	es_rule_set(r, c);
	if (c->action == ES_ACT_LOCAL || c->action == ES_ACT_MIRROR) {
		int a = es_app_find(t, c->app);
		if (a < 0) {
			snprintf(err, ES_ERR_MAX, "rule %u: no app named '%s'", c->prio, c->app);
			return -1;
		}
		r->app = (uint16_t)a;
	}
	if (c->then_action == ES_ACT_LOCAL) {
		int a = es_app_find(t, c->then_app);
		if (a < 0) {
			snprintf(err, ES_ERR_MAX, "rule %u: no app named '%s'", c->prio, c->then_app);
			return -1;
		}
		r->then_app = (uint16_t)a;
	}
	return 0;
}

const struct es_cmd_rule *es_rule_def(const struct es_rule *r)
{
	return &R.defs[r - R.slots];
}

void es_rule_to_cmd(const struct es_rule *r, struct es_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->obj = ES_OBJ_RULE;
	c->verb = ES_VERB_ADD;
	c->u.rule = *es_rule_def(r);
}
