/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outer fragment reassembly within a budget of mbufs (frag.h).
 *
 * Which mbufs the table holds, from the library's code (lib/ip_frag,
 * DPDK 22.11): a fragment handed in is either kept in its packet's entry,
 * or put on the death row (no entry free, a zero-length fragment, a
 * duplicate first or last fragment, more than RTE_LIBRTE_IP_FRAG_MAX_FRAG
 * fragments) together with every fragment its entry held. An entry found
 * timed out on a lookup, and the least recently used one when the table
 * is full and that one has timed out, go to the death row too. A complete
 * packet comes back as one chain of its fragments (nb_segs of them); a
 * set of fragments with a hole goes to the death row as the chains the
 * library had built so far, so every death-row mbuf counts its nb_segs.
 * Nothing is freed by the library itself. Each held mbuf carries its
 * source bucket in hash.usr (free here: nothing reads an RSS hash after
 * rx), so that whatever leaves is taken off its source's count.
 */
#include <string.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include "frag.h"
#include "parse.h"

#define SRC_MASK (ES_FRAG_SRC_BUCKETS - 1)
_Static_assert((ES_FRAG_SRC_BUCKETS & SRC_MASK) == 0, "buckets: a power of 2");
/* no secret: a sender that can choose its source address can take the
 * address of the source it wants to crowd out, whatever the hash */
#define SRC_SEED 0x9e3779b9u

uint32_t es_frag_source_max(uint32_t max)
{
	uint32_t s = max / ES_FRAG_SRC_SHARE;
	if (s < ES_FRAG_MBUFS_MIN)
		s = RTE_MIN(max, (uint32_t)ES_FRAG_MBUFS_MIN);
	return s;
}

int es_frag_init(struct es_frag *f, uint32_t entries, uint32_t max,
		 uint64_t timeout, int socket)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	f->src_max = es_frag_source_max(max);
	f->tbl = rte_ip_frag_table_create((entries + 15) / 16, 16, entries,
					  timeout, socket);
	return f->tbl == NULL ? -1 : 0;
}

void es_frag_fini(struct es_frag *f)
{
	if (f->out.n)
		rte_pktmbuf_free_bulk(f->out.m, f->out.n);
	f->out.n = 0;
	if (f->tbl != NULL)
		rte_ip_frag_table_destroy(f->tbl);
	f->tbl = NULL;
	f->held = 0;
	memset(f->src, 0, sizeof(f->src));
}

/* The bucket of the outer source address of the IP header at ip. */
static inline uint32_t src_bucket(const uint8_t *ip, bool v6)
{
	uint32_t w[4], h;
	if (!v6) {
		memcpy(w, ip + 12, 4);
		h = rte_hash_crc_4byte(w[0], SRC_SEED);
	} else {
		memcpy(w, ip + 8, 16);
		h = rte_hash_crc_4byte(w[0], SRC_SEED);
		h = rte_hash_crc_4byte(w[1], h);
		h = rte_hash_crc_4byte(w[2], h);
		h = rte_hash_crc_4byte(w[3], h);
	}
	return (h ^ (h >> 16)) & SRC_MASK;
}

/* m leaves reassembly dropped: to the exit, under 'why', adding 'add'. */
static inline void out(struct es_frag *f, struct rte_mbuf *m, enum es_cnt why,
		       uint16_t add)
{
	struct es_frag_out *o = &f->out;
	o->m[o->n] = m;
	o->why[o->n] = (uint16_t)why;
	o->add[o->n] = add;
	o->n++;
}

/* Take what the library put on the death row off the counts and hand it
 * to the exit, its fragments under 'why'. */
static void drain(struct es_frag *f, enum es_cnt why)
{
	uint32_t n = f->dr.cnt;
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *d = f->dr.row[i];
		f->held -= d->nb_segs;
		f->src[d->hash.usr & SRC_MASK] -= d->nb_segs;
		out(f, d, why, d->nb_segs);   /* (a whole chain) */
	}
	f->dr.cnt = 0;
}

struct rte_mbuf *es_frag_in(struct es_frag *f, struct rte_mbuf *m,
			    const struct es_outer *o, uint64_t tsc,
			    uint64_t cnt[ES_CNT_MAX])
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, o->l2_len);
	struct rte_ipv6_fragment_ext *fh = NULL;
	struct rte_mbuf *r;
	uint32_t b;

	cnt[ES_CNT_FRAG_IN]++;
	if (o->v6) {
		fh = rte_ipv6_frag_get_ipv6_fragment_header((struct rte_ipv6_hdr *)ip);
		if (fh == NULL) {
			/* a fragment header after other extension headers */
			out(f, m, ES_CNT_FRAG_FAIL, 1);
			return NULL;
		}
	}
	/* the budget, before the table sees the fragment */
	if (unlikely(f->held + m->nb_segs > f->max)) {
		out(f, m, ES_CNT_FRAG_POOL_SHARE, 1);
		return NULL;
	}
	b = src_bucket(ip, o->v6);
	if (unlikely(f->src[b] + m->nb_segs > f->src_max)) {
		out(f, m, ES_CNT_FRAG_SRC_SHARE, 1);
		return NULL;
	}
	m->hash.usr = b;
	f->held += m->nb_segs;
	f->src[b] += m->nb_segs;

	m->l2_len = o->l2_len;
	if (o->v6) {
		/* rte_ipv6_frag_reassemble_packet removes the fragment
		 * header by moving l2_len + l3_len - 8 bytes: l3_len must
		 * cover the IPv6 header and the fragment header */
		m->l3_len = sizeof(struct rte_ipv6_hdr) +
			    sizeof(struct rte_ipv6_fragment_ext);
		r = rte_ipv6_frag_reassemble_packet(f->tbl, &f->dr, m, tsc,
			(struct rte_ipv6_hdr *)ip, fh);
	} else {
		m->l3_len = o->l3_len;
		r = rte_ipv4_frag_reassemble_packet(f->tbl, &f->dr, m, tsc,
			(struct rte_ipv4_hdr *)ip);
	}
	if (f->dr.cnt)
		drain(f, ES_CNT_FRAG_FAIL);
	if (r == NULL)
		return NULL;
	/* complete: its fragments leave the table */
	f->held -= r->nb_segs;
	f->src[r->hash.usr & SRC_MASK] -= r->nb_segs;
	cnt[ES_CNT_FRAG_MERGED] += r->nb_segs;
	cnt[ES_CNT_FRAG_DONE]++;
	if (r->nb_segs > 1 && rte_pktmbuf_linearize(r) != 0) {
		out(f, r, ES_CNT_FRAG_BIG, 1);
		return NULL;
	}
	return r;
}

void es_frag_expire(struct es_frag *f, uint64_t tsc)
{
	for (int pass = 0; pass < ES_FRAG_EXPIRE_PASSES; pass++) {
		if (f->out.n + RTE_IP_FRAG_DEATH_ROW_MBUF_LEN > ES_FRAG_OUT_MAX)
			return;
		rte_ip_frag_table_del_expired_entries(f->tbl, &f->dr, tsc);
		if (f->dr.cnt == 0)
			return;
		drain(f, ES_CNT_FRAG_TIMEOUT);
	}
}
