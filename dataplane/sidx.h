/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * es_sidx: the session index for 4-byte keys (uplink TEID, N9 TEID, UE
 * IPv4 address) -> session slot. Open addressing, linear probing, one
 * 64-bit entry a position, written with one atomic store:
 *
 *   bits 0-31 key, bits 32-63 slot + 1 (0: no key here)
 *   0                      empty: never used (ends a search)
 *   ES_SIDX_TOMB_PEND      deleted, readers may still hold it: not reused
 *   ES_SIDX_TOMB_FREE      deleted and reclaimed: an insert may reuse it
 *
 * Lock-free readers, one writer (the control thread): an insert stores a
 * complete entry in an empty or reclaimed position; a change of a key's
 * slot is one store at the key's position; a delete stores a pending
 * tombstone, which es_sidx_reclaim (after an RCU grace period) turns into
 * a reusable one. A used position never becomes empty again, so a search
 * that meets an empty position may stop. Readers probe at most
 * max_dist + 1 positions, the longest distance from home any insert has
 * used (inserts refuse to go beyond ES_SIDX_PROBE_MAX), so a miss costs a
 * bounded search however many tombstones the table holds. The capacity is
 * fixed at creation: a power of two of at least twice the keys it must
 * hold, which keeps searches short.
 */
#ifndef ES_SIDX_H
#define ES_SIDX_H

#include <stdint.h>
#include <rte_hash_crc.h>

#define ES_SIDX_TOMB_PEND 1u
#define ES_SIDX_TOMB_FREE 2u
/* the farthest an insert places a key from its home position */
#define ES_SIDX_PROBE_MAX 256u

struct es_sidx {
	uint64_t *e;             /* mask + 1 entries */
	uint32_t mask;
	uint32_t max_dist;       /* written by the writer with release */
	uint32_t n_keys, n_pend; /* writer-side counts */
};

/* Home position of key (as stored, the caller's byte order): CRC32 of
 * its 4 bytes, masked. Any thread. */
static inline uint32_t es_sidx_home(const struct es_sidx *x, uint32_t key)
{
	return rte_hash_crc_4byte(key, 0) & x->mask;
}

/*
 * The slot of key, or UINT32_MAX; es_sidx_lookup_at starts from its home
 * position i (es_sidx_home), computed earlier. Any thread, lock-free, concurrent
 * with the writer. key: as stored (the caller's byte order). The caller
 * bounds the result before indexing.
 */
static inline uint32_t es_sidx_lookup_at(const struct es_sidx *x, uint32_t key,
					 uint32_t i)
{
	uint32_t lim = __atomic_load_n(&x->max_dist, __ATOMIC_ACQUIRE);
	for (uint32_t d = 0; d <= lim; d++) {
		uint64_t e = __atomic_load_n(&x->e[i], __ATOMIC_ACQUIRE);
		if ((uint32_t)e == key && (e >> 32) != 0)
			return (uint32_t)(e >> 32) - 1;
		if (e == 0)
			break;
		i = (i + 1) & x->mask;
	}
	return UINT32_MAX;
}

static inline uint32_t es_sidx_lookup(const struct es_sidx *x, uint32_t key)
{
	return es_sidx_lookup_at(x, key, es_sidx_home(x, key));
}

/* Create an index for at least 'keys' keys (live plus deleted and not
 * yet reclaimed) on NUMA socket 'socket' (DPDK heap). 0 or -1 (out of
 * memory). Control thread. */
int es_sidx_create(struct es_sidx *x, uint32_t keys, int socket);
/* Free x's entries (not x); no reader may use x any more. Control
 * thread. */
void es_sidx_free(struct es_sidx *x);
/* Add key -> slot (slot < UINT32_MAX); key must not be in the index.
 * Returns its position, or -1 when no free position lies within
 * ES_SIDX_PROBE_MAX of its home (or slot is UINT32_MAX). Keys and slots in
 * the caller's byte order, compared as 32-bit values. Writer only (one
 * thread), concurrent with readers. */
int64_t es_sidx_add(struct es_sidx *x, uint32_t key, uint32_t slot);
/* Point key at slot (one atomic store). 0, or -1 when key is absent.
 * Writer only. */
int es_sidx_set(struct es_sidx *x, uint32_t key, uint32_t slot);
/* Delete key: readers stop finding it at once; its position is reused
 * only after es_sidx_reclaim. Returns the position, or -1 when absent.
 * Writer only. */
int64_t es_sidx_del(struct es_sidx *x, uint32_t key);
/* After an RCU grace period: make the position a delete returned
 * reusable. Writer only. */
void es_sidx_reclaim(struct es_sidx *x, uint32_t pos);

#endif
