/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session tables (BRIEF §3): an array of session slots and indexes on
 * it by uplink TEID, N9 TEID and UE IPv4 address (es_sidx, sidx.h: open
 * addressing, one 64-bit entry a key) and by UE IPv6 /64 prefix and
 * session id (rte_hash). Index values are slot indexes.
 *
 * Workers read while the control thread adds, deletes and changes:
 * - the indexes are lock-free for readers (es_sidx by design, rte_hash
 *   with RW_CONCURRENCY_LF);
 * - a published slot is never written: a change fills a new slot and
 *   repoints every index to it (an atomic store of the hash data);
 * - a deleted or replaced slot, and the hash positions a delete frees,
 *   wait in a pending list until an RCU grace period has passed
 *   (es_sessions_reclaim after es_tables_sync).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_errno.h>
#include "es.h"
#include "sidx.h"

/* Spare slots beyond sessions-max, for changes awaiting a grace period. */
#define SESS_SPARE 256

enum { H_ID, H_UL, H_N9, H_UE4, H_UE6, H_NUM };

struct pend_pos {
	uint8_t h;
	int32_t pos;
};

/* Control-side bookkeeping, never read by workers. */
struct es_sess_ctl {
	uint32_t hi;             /* slots [0, hi) have been handed out */
	/* one array of sess_cap slot numbers: reusable slots from the
	 * bottom (n_free), slots waiting for a grace period from the top
	 * (n_pend_slot); they are distinct slots, so they never meet */
	uint32_t *list;
	uint32_t n_free, n_pend_slot;
	uint32_t n_pend_pos, cap_pend_pos;
	uint32_t n_pend_del;     /* deleted sessions whose hash positions pend */
	struct pend_pos *pend_pos;
};

static struct rte_hash *hash_new(const char *tag, uint32_t entries,
				 uint32_t key_len, int socket)
{
	static unsigned int gen;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries < 8 ? 8 : entries,
		.key_len = key_len,
		/* CRC32 instructions (SSE4.2), software fallback otherwise */
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		/* lock-free readers: workers look up while control adds;
		 * the extendable bucket table makes 'entries' a guaranteed
		 * capacity (plain cuckoo can fail a little below it) */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	snprintf(name, sizeof(name), "es_%s_%u", tag, gen++);
	return rte_hash_create(&p);
}

/* ---- es_sidx (sidx.h) ---- */

int es_sidx_create(struct es_sidx *x, uint32_t keys, int socket)
{
	uint64_t cap = 16;
	while (cap < 2 * (uint64_t)keys)
		cap <<= 1;
	memset(x, 0, sizeof(*x));
	if (cap > (1ull << 31))
		return -1;
	x->e = rte_zmalloc_socket("es_sidx", cap * sizeof(uint64_t),
				  RTE_CACHE_LINE_SIZE, socket);
	if (x->e == NULL)
		return -1;
	x->mask = (uint32_t)(cap - 1);
	return 0;
}

void es_sidx_free(struct es_sidx *x)
{
	rte_free(x->e);
	x->e = NULL;
}

static uint64_t sidx_entry(uint32_t key, uint32_t slot)
{
	return (uint64_t)(slot + 1) << 32 | key;
}

/* The position of key, or -1. */
static int64_t sidx_pos(const struct es_sidx *x, uint32_t key)
{
	uint32_t i = es_sidx_home(x, key);
	for (uint32_t d = 0; d <= x->max_dist; d++) {
		uint64_t e = x->e[i];
		if ((uint32_t)e == key && (e >> 32) != 0)
			return i;
		if (e == 0)
			break;
		i = (i + 1) & x->mask;
	}
	return -1;
}

int64_t es_sidx_add(struct es_sidx *x, uint32_t key, uint32_t slot)
{
	uint32_t i = es_sidx_home(x, key);
	if (slot == UINT32_MAX)
		return -1;
	for (uint32_t d = 0; d < ES_SIDX_PROBE_MAX && d <= x->mask; d++) {
		uint64_t e = x->e[i];
		if (e == 0 || e == ES_SIDX_TOMB_FREE) {
			/* readers must search this far before they can
			 * find the key */
			if (d > x->max_dist)
				__atomic_store_n(&x->max_dist, d, __ATOMIC_RELEASE);
			__atomic_store_n(&x->e[i], sidx_entry(key, slot),
					 __ATOMIC_RELEASE);
			x->n_keys++;
			return i;
		}
		i = (i + 1) & x->mask;
	}
	return -1;
}

int es_sidx_set(struct es_sidx *x, uint32_t key, uint32_t slot)
{
	int64_t i = sidx_pos(x, key);
	if (i < 0 || slot == UINT32_MAX)
		return -1;
	__atomic_store_n(&x->e[i], sidx_entry(key, slot), __ATOMIC_RELEASE);
	return 0;
}

int64_t es_sidx_del(struct es_sidx *x, uint32_t key)
{
	int64_t i = sidx_pos(x, key);
	if (i < 0)
		return -1;
	__atomic_store_n(&x->e[i], (uint64_t)ES_SIDX_TOMB_PEND, __ATOMIC_RELEASE);
	x->n_keys--;
	return i;
}

void es_sidx_reclaim(struct es_sidx *x, uint32_t pos)
{
	if (pos <= x->mask && x->e[pos] == ES_SIDX_TOMB_PEND)
		__atomic_store_n(&x->e[pos], (uint64_t)ES_SIDX_TOMB_FREE,
				 __ATOMIC_RELEASE);
}

/* ---- session tables ---- */

static struct rte_hash *hash_of(const struct es_tables *t, int h)
{
	return h == H_ID ? t->by_id : t->by_ue6;
}

static struct es_sidx *sidx_of(const struct es_tables *t, int h)
{
	switch (h) {
	case H_UL:  return t->by_ul_teid;
	case H_N9:  return t->by_n9_teid;
	case H_UE4: return t->by_ue4;
	default:    return NULL;
	}
}

static uint32_t key32(const void *k)
{
	uint32_t v;
	memcpy(&v, k, 4);
	return v;
}

/* Index operations on index h, whichever kind it is. */
static bool idx_has(const struct es_tables *t, int h, const void *k)
{
	struct es_sidx *x = sidx_of(t, h);
	if (x)
		return es_sidx_lookup(x, key32(k)) != UINT32_MAX;
	return rte_hash_lookup(hash_of(t, h), k) >= 0;
}

static int idx_add(struct es_tables *t, int h, const void *k, uint32_t idx)
{
	struct es_sidx *x = sidx_of(t, h);
	if (x)
		return es_sidx_add(x, key32(k), idx) < 0 ? -1 : 0;
	return rte_hash_add_key_data(hash_of(t, h), k, (void *)(uintptr_t)idx);
}

static int64_t idx_del(struct es_tables *t, int h, const void *k)
{
	struct es_sidx *x = sidx_of(t, h);
	if (x)
		return es_sidx_del(x, key32(k));
	return rte_hash_del_key(hash_of(t, h), k);
}

static void idx_set(struct es_tables *t, int h, const void *k, uint32_t idx)
{
	struct es_sidx *x = sidx_of(t, h);
	if (x)
		es_sidx_set(x, key32(k), idx);
	else
		rte_hash_add_key_data(hash_of(t, h), k, (void *)(uintptr_t)idx);
}

static struct es_sidx *sidx_new(uint32_t keys, int socket)
{
	struct es_sidx *x = rte_zmalloc_socket("es_sidx_hdr", sizeof(*x), 0, socket);
	if (x && es_sidx_create(x, keys, socket) != 0) {
		rte_free(x);
		return NULL;
	}
	return x;
}

static void sidx_del(struct es_sidx *x)
{
	if (x) {
		es_sidx_free(x);
		rte_free(x);
	}
}

/* The key of s in index h, or NULL when s has none there. */
static const void *key_of(const struct es_session *s, int h)
{
	switch (h) {
	case H_ID:  return &s->id;
	case H_UL:  return &s->ul_teid;
	case H_N9:  return s->n9_teid ? &s->n9_teid : NULL;
	case H_UE4: return s->has_ue4 ? &s->ue4_be : NULL;
	default:    return s->has_ue6 ? s->ue6 : NULL;
	}
}

int es_sessions_create(struct es_tables *t, uint32_t max, int socket)
{
	struct es_sess_ctl *sc;
	t->max_sessions = max;
	t->sess_cap = max + SESS_SPARE;
	t->n_sessions = 0;
	t->sessions = rte_zmalloc_socket("es_sessions",
					 (size_t)t->sess_cap * sizeof(struct es_session),
					 RTE_CACHE_LINE_SIZE, socket);
	/* live keys plus deleted ones awaiting a grace period stay within
	 * max (es_session_add reclaims before they would not) */
	t->by_ul_teid = sidx_new(max, socket);
	t->by_n9_teid = sidx_new(max, socket);
	t->by_ue4 = sidx_new(max, socket);
	t->by_ue6 = hash_new("ue6", max, 8, socket);
	t->by_id = hash_new("sid", max, 4, socket);
	/* the slot lists are part of the per-session cost: DPDK heap, so
	 * that the memory figure counts them */
	t->sess_ctl = sc = rte_zmalloc_socket("es_sess_ctl", sizeof(*sc), 0, socket);
	if (sc) {
		sc->list = rte_malloc_socket("es_sess_slots",
			(size_t)t->sess_cap * sizeof(uint32_t), 0, socket);
	}
	if (!t->sessions || !t->by_ul_teid || !t->by_n9_teid || !t->by_ue4 ||
	    !t->by_ue6 || !t->by_id || !sc || !sc->list) {
		es_sessions_free(t);
		return -1;
	}
	return 0;
}

void es_sessions_free(struct es_tables *t)
{
	sidx_del(t->by_ul_teid);
	sidx_del(t->by_n9_teid);
	sidx_del(t->by_ue4);
	rte_hash_free(t->by_ue6);
	rte_hash_free(t->by_id);
	rte_free(t->sessions);
	if (t->sess_ctl) {
		rte_free(t->sess_ctl->list);
		free(t->sess_ctl->pend_pos);
		rte_free(t->sess_ctl);
	}
	t->by_ul_teid = t->by_n9_teid = t->by_ue4 = NULL;
	t->by_ue6 = NULL;
	t->by_id = NULL;
	t->sessions = NULL;
	t->sess_ctl = NULL;
}

/* A free slot, or UINT32_MAX. Waits for a grace period when only
 * pending slots are left. */
static uint32_t slot_alloc(struct es_tables *t)
{
	struct es_sess_ctl *sc = t->sess_ctl;
	if (sc->n_free == 0 && sc->hi == t->sess_cap && sc->n_pend_slot) {
		es_tables_sync();
		es_sessions_reclaim(t);
	}
	if (sc->n_free)
		return sc->list[--sc->n_free];
	if (sc->hi < t->sess_cap)
		return sc->hi++;
	return UINT32_MAX;
}

static void slot_pend(struct es_tables *t, uint32_t slot)
{
	struct es_sess_ctl *sc = t->sess_ctl;
	sc->list[t->sess_cap - 1 - sc->n_pend_slot++] = slot;
}

static int pend_pos(struct es_sess_ctl *sc, int h, int32_t pos)
{
	if (sc->n_pend_pos == sc->cap_pend_pos) {
		uint32_t cap = sc->cap_pend_pos ? sc->cap_pend_pos * 2 : 256;
		void *n = realloc(sc->pend_pos, cap * sizeof(*sc->pend_pos));
		if (n == NULL)
			return -1;
		sc->pend_pos = n;
		sc->cap_pend_pos = cap;
	}
	sc->pend_pos[sc->n_pend_pos].h = (uint8_t)h;
	sc->pend_pos[sc->n_pend_pos++].pos = pos;
	return 0;
}

void es_sessions_reclaim(struct es_tables *t)
{
	struct es_sess_ctl *sc = t->sess_ctl;
	for (uint32_t i = 0; i < sc->n_pend_pos; i++) {
		int h = sc->pend_pos[i].h;
		struct es_sidx *x = sidx_of(t, h);
		if (x)
			es_sidx_reclaim(x, (uint32_t)sc->pend_pos[i].pos);
		else
			rte_hash_free_key_with_position(hash_of(t, h),
							sc->pend_pos[i].pos);
	}
	sc->n_pend_pos = 0;
	sc->n_pend_del = 0;
	/* from the lowest pending entry up: every write lands at or below
	 * the entry being read */
	for (uint32_t i = t->sess_cap - sc->n_pend_slot; i < t->sess_cap; i++)
		sc->list[sc->n_free++] = sc->list[i];
	sc->n_pend_slot = 0;
}

int64_t es_session_find(const struct es_tables *t, uint32_t id)
{
	void *data;
	if (rte_hash_lookup_data(t->by_id, &id, &data) < 0)
		return -1;
	return (int64_t)(uintptr_t)data;
}

int es_session_add(struct es_tables *t, const struct es_session *s,
		   char err[ES_ERR_MAX])
{
	static const char *const what[H_NUM] = {
		"already exists", "ul-teid %u already used",
		"n9-teid %u already used", "ue address already used",
		"ue6 prefix already used" };
	uint32_t idx;
	int h;

	if (t->n_sessions >= t->max_sessions) {
		snprintf(err, ES_ERR_MAX,
			 "session %u: table full (%u sessions; raise 'set sessions-max')",
			 s->id, t->max_sessions);
		return -1;
	}
	/* deleted keys hold their hash positions until a grace period has
	 * passed: make room when the indexes could otherwise be full */
	if (t->n_sessions + t->sess_ctl->n_pend_del >= t->max_sessions) {
		es_tables_sync();
		es_sessions_reclaim(t);
	}
	for (h = 0; h < H_NUM; h++) {
		const void *k = key_of(s, h);
		char m[64];
		if (k == NULL || !idx_has(t, h, k))
			continue;
		snprintf(m, sizeof(m), what[h], h == H_UL ? s->ul_teid : s->n9_teid);
		snprintf(err, ES_ERR_MAX, h == H_ID ? "session %u %s" : "session %u: %s",
			 s->id, m);
		return -1;
	}
	idx = slot_alloc(t);
	if (idx == UINT32_MAX) {
		snprintf(err, ES_ERR_MAX, "session %u: no free slot", s->id);
		return -1;
	}
	/* The entry is complete before any index points at it. */
	t->sessions[idx] = *s;
	for (h = 0; h < H_NUM; h++) {
		const void *k = key_of(s, h);
		if (k && idx_add(t, h, k, idx) != 0)
			break;
	}
	if (h < H_NUM) {
		snprintf(err, ES_ERR_MAX, "session %u: hash table full", s->id);
		while (h-- > 0) {
			const void *k = key_of(s, h);
			int32_t pos;
			if (k && (pos = (int32_t)idx_del(t, h, k)) >= 0)
				pend_pos(t->sess_ctl, h, pos);
		}
		slot_pend(t, idx);
		t->sess_ctl->n_pend_del++;
		return -1;
	}
	t->n_sessions++;
	return 0;
}

int es_session_del(struct es_tables *t, uint32_t id, char err[ES_ERR_MAX])
{
	int64_t idx = es_session_find(t, id);
	const struct es_session *s;
	if (idx < 0 || (uint64_t)idx >= t->sess_cap) {
		snprintf(err, ES_ERR_MAX, "session %u does not exist", id);
		return -1;
	}
	s = &t->sessions[idx];
	/* the data path keys first, the id last */
	for (int h = H_NUM - 1; h >= 0; h--) {
		const void *k = key_of(s, h);
		int32_t pos;
		if (k && (pos = (int32_t)idx_del(t, h, k)) >= 0 &&
		    pend_pos(t->sess_ctl, h, pos) != 0) {
			/* cannot remember the position: leak it rather than
			 * free it under a reader */
		}
	}
	slot_pend(t, (uint32_t)idx);
	t->sess_ctl->n_pend_del++;
	t->n_sessions--;
	return 0;
}

int es_session_replace(struct es_tables *t, const struct es_session *s,
		       char err[ES_ERR_MAX])
{
	int64_t old = es_session_find(t, s->id);
	const struct es_session *o;
	uint32_t idx;
	if (old < 0 || (uint64_t)old >= t->sess_cap) {
		snprintf(err, ES_ERR_MAX, "session %u does not exist", s->id);
		return -1;
	}
	o = &t->sessions[old];
	for (int h = 0; h < H_NUM; h++) {
		const void *a = key_of(o, h), *b = key_of(s, h);
		size_t len = h == H_UE6 ? 8 : 4;
		if ((a == NULL) != (b == NULL) || (a && memcmp(a, b, len) != 0)) {
			snprintf(err, ES_ERR_MAX,
				 "session %u: only gnb, gnb-teid, cloud, cloud-teid and qfi change in place (delete and add it)",
				 s->id);
			return -1;
		}
	}
	idx = slot_alloc(t);
	if (idx == UINT32_MAX) {
		snprintf(err, ES_ERR_MAX, "session %u: no free slot", s->id);
		return -1;
	}
	t->sessions[idx] = *s;
	/* updating the data of an existing key is one atomic store */
	for (int h = 0; h < H_NUM; h++) {
		const void *k = key_of(s, h);
		if (k)
			idx_set(t, h, k, idx);
	}
	slot_pend(t, (uint32_t)old);
	return 0;
}

int es_sessions_foreach(const struct es_tables *t,
			int (*fn)(void *arg, const struct es_session *s),
			void *arg)
{
	const void *key;
	void *data;
	uint32_t it = 0;
	int rc;
	while (rte_hash_iterate(t->by_id, &key, &data, &it) >= 0) {
		uintptr_t idx = (uintptr_t)data;
		if (idx >= t->sess_cap)
			continue;
		if ((rc = fn(arg, &t->sessions[idx])) != 0)
			return rc;
	}
	return 0;
}
