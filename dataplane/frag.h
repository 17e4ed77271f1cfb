/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly of outer IPv4/IPv6 fragments addressed to us, per worker,
 * within a budget of mbufs.
 *
 * rte_ip_frag holds the fragments of a packet until the last one comes
 * or the packet times out. Each held fragment is an mbuf of the one pool
 * every port receives into, so without a bound a flood of fragments that
 * never complete empties the pool and rx stops on every port. Here each
 * worker counts exactly the mbufs its table holds (+ the segments of a
 * fragment handed in; - the segments of a completed packet and of every
 * mbuf the library puts on the death row) and refuses a fragment before
 * handing it in when the table already holds 'max' mbufs
 * (drop_frag_pool_share) or when the fragment's source already holds
 * 'src_max' of them (drop_frag_source_share). Sources are counted in
 * ES_FRAG_SRC_BUCKETS buckets by a hash of the outer source address;
 * two sources in one bucket share its limit. The death row is emptied
 * after every call, so it never overflows whatever a burst brings.
 *
 * The budget (set frag-mbufs, docs/config.md): by default a quarter of
 * 'set mbufs' divided among the workers; an explicit value above that is
 * refused at config load. See docs/architecture.md, "Reassembly's budget".
 *
 * Thread safety: a struct es_frag belongs to one worker; others may read
 * 'held' (an aligned 32-bit load) for statistics.
 */
#ifndef ES_FRAG_H
#define ES_FRAG_H

#include <stdint.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include "counters.h"

struct es_outer;

/* Reassembly may hold 1/ES_FRAG_POOL_SHARE of the pool, all workers together. */
#define ES_FRAG_POOL_SHARE   4
/* One source may hold 1/ES_FRAG_SRC_SHARE of a worker's budget. */
#define ES_FRAG_SRC_SHARE    8
/* The smallest budget: one packet of the most fragments rte_ip_frag takes. */
#define ES_FRAG_MBUFS_MIN    RTE_LIBRTE_IP_FRAG_MAX_FRAG
#define ES_FRAG_SRC_BUCKETS  1024   /* a power of 2 */

/*
 * What reassembly drops, handed to the exit: reassembly counts the
 * fragments it takes in (frag_rx) and those it merges (frag_merged,
 * frag_reassembled), but it frees nothing and raises no drop counter.
 * Every mbuf it drops in a call of es_frag_in or es_frag_expire (the
 * fragment it refuses, the chains of fragments the library gives up on,
 * a reassembled packet too big for one segment) is appended here with
 * its counter and what it adds to it (the fragments of a chain, or 1 for
 * the too-big packet); the caller hands the list to the exit (tx.h,
 * es_exit_frags), which counts and frees it and empties the list. Room
 * for every pass of es_frag_expire and for one es_frag_in.
 */
#define ES_FRAG_EXPIRE_PASSES 8
#define ES_FRAG_OUT_MAX (RTE_IP_FRAG_DEATH_ROW_MBUF_LEN * ES_FRAG_EXPIRE_PASSES)
_Static_assert(ES_FRAG_OUT_MAX >= RTE_IP_FRAG_DEATH_ROW_MBUF_LEN + 2,
	       "one es_frag_in: the death row, the fragment and a too-big packet");
struct es_frag_out {
	uint32_t n;
	uint16_t why[ES_FRAG_OUT_MAX];   /* enum es_cnt */
	uint16_t add[ES_FRAG_OUT_MAX];   /* added to it */
	struct rte_mbuf *m[ES_FRAG_OUT_MAX];
};

struct es_frag {
	struct rte_ip_frag_tbl *tbl;
	uint32_t held;         /* mbufs the table holds now */
	uint32_t max;          /* at most this many (frag-mbufs) */
	uint32_t src_max;      /* at most this many per source bucket */
	struct rte_ip_frag_death_row dr;        /* empty between calls */
	uint32_t src[ES_FRAG_SRC_BUCKETS];      /* mbufs held per source bucket */
	struct es_frag_out out;                 /* dropped, for the exit */
};

/**
 * The per-source limit for a budget of max mbufs: max / ES_FRAG_SRC_SHARE,
 * but at least ES_FRAG_MBUFS_MIN (one whole packet) when max allows it.
 */
uint32_t es_frag_source_max(uint32_t max);

/**
 * Create f's table: 'entries' packets at most (set frag-max), 'max' mbufs
 * at most (set frag-mbufs), fragments dropped 'timeout' TSC cycles after
 * their packet's first one came.
 *
 * @return 0, or -1 when the table cannot be allocated.
 * Thread safety: set-up, before the worker runs.
 */
int es_frag_init(struct es_frag *f, uint32_t entries, uint32_t max,
		 uint64_t timeout, int socket);

/**
 * Free f's table, every mbuf it holds and any left in f->out (held
 * becomes 0, nothing counted).
 * Thread safety: the owner, or any thread once the owner has stopped.
 */
void es_frag_fini(struct es_frag *f);

/**
 * Hand fragment m (o: its outer headers, parsed; one segment) to the table
 * at time tsc (TSC). Counts frag_rx, and m's fate is exactly one of: held
 * (no counter until it leaves), dropped into f->out under
 * drop_frag_pool_share, drop_frag_source_share or drop_frag_failed
 * (refused by the table; also what that refusal gave up with it), or
 * completed: frag_reassembled once, frag_merged by its fragments, and the
 * packet into f->out under drop_frag_too_big when it cannot be made one
 * segment. Fragments of other packets that the table reclaims on the way
 * (timed out) go into f->out under drop_frag_failed. The caller hands
 * f->out to the exit after the call.
 *
 * @param cnt the worker's counters (enum es_cnt)
 * @return the reassembled packet (one segment, its outer header rewritten
 *   by the library), or NULL when m was held or dropped (into f->out).
 * Thread safety: the owner only.
 */
struct rte_mbuf *es_frag_in(struct es_frag *f, struct rte_mbuf *m,
			    const struct es_outer *o, uint64_t tsc,
			    uint64_t cnt[ES_CNT_MAX]) __rte_cold;

/**
 * Give up on the packets whose first fragment came more than the timeout
 * before tsc: their fragments go into f->out under drop_frag_timeout, for
 * the caller to hand to the exit. Does at most ES_FRAG_EXPIRE_PASSES
 * rounds of the library's expiry (each takes up to its death row's size,
 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN mbufs), and none that f->out has no
 * room for; the rest waits for the next call.
 * Thread safety: the owner only.
 */
void es_frag_expire(struct es_frag *f, uint64_t tsc);

#endif
