/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly within its budget (frag.c): the mbufs held are counted
 * exactly through every way a fragment leaves the table (completed,
 * refused with its entry, a hole, timed out), the budget and the
 * per-source share refuse fragments before the table sees them, and the
 * counters name every fragment's fate. The pool has no per-lcore cache,
 * so rte_mempool_in_use_count() is the truth the count is checked
 * against.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "frag.h"
#include "parse.h"
#include "tx.h"

#define TIMEOUT 1000000ull       /* TSC cycles: the tests give the time */

static struct rte_mempool *pool;
static struct es_frag F;
/* the counters are a worker's: reassembly's drops go through the exit
 * (tx.h es_exit_frags), which counts and frees them */
static struct es_worker W;
#define cnt (W.cnt)

static struct rte_mbuf *to_exit(struct rte_mbuf *r)
{
	es_exit_frags(&W, &F.out);
	return r;
}

static int setup(void **state)
{
	(void)state;
	memset(cnt, 0, sizeof(cnt));
	return es_frag_init(&F, 1024, 64, TIMEOUT, SOCKET_ID_ANY);
}

static int teardown(void **state)
{
	(void)state;
	es_frag_fini(&F);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	return 0;
}

static uint32_t src_sum(void)
{
	uint64_t s = 0;
	for (int i = 0; i < ES_FRAG_SRC_BUCKETS; i++)
		s += F.src[i];
	return (uint32_t)s;
}

/* held is what the table holds: every mbuf out of the pool */
static void assert_held(uint32_t n)
{
	assert_int_equal(F.held, n);
	assert_int_equal(src_sum(), n);
	assert_int_equal(rte_mempool_in_use_count(pool), n);
}

/* An Ethernet frame with an IPv4 fragment from 10.0.0.<src> to
 * 192.0.2.1: id, byte offset ofs (a multiple of 8), len payload bytes,
 * more fragments or not. */
static struct rte_mbuf *frag4(uint8_t src, uint16_t id, uint16_t ofs,
			      uint16_t len, int mf, struct es_outer *o)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	struct rte_ipv4_hdr *ip;
	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + len));
	assert_non_null(p);
	memset(p, 0, 14);
	p[12] = 0x08;
	ip = (struct rte_ipv4_hdr *)(p + 14);
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)(20 + len));
	ip->packet_id = htons(id);
	ip->fragment_offset = htons((uint16_t)((mf ? RTE_IPV4_HDR_MF_FLAG : 0) | (ofs / 8)));
	ip->time_to_live = 64;
	ip->next_proto_id = 17;
	ip->src_addr = htonl(0x0a000000u | src);
	ip->dst_addr = htonl(0xc0000201u);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	for (uint16_t i = 0; i < len; i++)
		p[34 + i] = (uint8_t)(ofs + i);
	memset(o, 0, sizeof(*o));
	o->l2_len = 14;
	o->l3_len = 20;
	o->ip_end = (uint16_t)(34 + len);
	o->kind = ES_K_FRAG;
	return m;
}

/* The same as an IPv6 fragment from 2001:db8::<src> to 2001:db8::1. */
static struct rte_mbuf *frag6(uint8_t src, uint32_t id, uint16_t ofs,
			      uint16_t len, int mf, struct es_outer *o)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	struct rte_ipv6_hdr *ip;
	struct rte_ipv6_fragment_ext *fh;
	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 40 + 8 + len));
	assert_non_null(p);
	memset(p, 0, 14 + 40 + 8);
	p[12] = 0x86;
	p[13] = 0xdd;
	ip = (struct rte_ipv6_hdr *)(p + 14);
	ip->vtc_flow = htonl(6u << 28);
	ip->payload_len = htons((uint16_t)(8 + len));
	ip->proto = IPPROTO_FRAGMENT;
	ip->hop_limits = 64;
	ip->src_addr[0] = 0x20;
	ip->src_addr[1] = 0x01;
	ip->src_addr[2] = 0x0d;
	ip->src_addr[3] = 0xb8;
	ip->src_addr[15] = src;
	memcpy(ip->dst_addr, ip->src_addr, 16);
	ip->dst_addr[15] = 1;
	fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	fh->next_header = 17;
	fh->frag_data = htons((uint16_t)(ofs | (mf ? 1 : 0)));
	fh->id = htonl(id);
	for (uint16_t i = 0; i < len; i++)
		p[62 + i] = (uint8_t)(ofs + i);
	memset(o, 0, sizeof(*o));
	o->l2_len = 14;
	o->l3_len = 48;
	o->ip_end = (uint16_t)(62 + len);
	o->kind = ES_K_FRAG;
	o->v6 = 1;
	return m;
}

static struct rte_mbuf *in4(uint8_t src, uint16_t id, uint16_t ofs, uint16_t len,
			    int mf, uint64_t tsc)
{
	struct es_outer o;
	struct rte_mbuf *m = frag4(src, id, ofs, len, mf, &o);
	return to_exit(es_frag_in(&F, m, &o, tsc, cnt));
}

static struct rte_mbuf *in6(uint8_t src, uint32_t id, uint16_t ofs, uint16_t len,
			    int mf, uint64_t tsc)
{
	struct es_outer o;
	struct rte_mbuf *m = frag6(src, id, ofs, len, mf, &o);
	return to_exit(es_frag_in(&F, m, &o, tsc, cnt));
}

static void frag__source_max_is_an_eighth_but_one_whole_packet(void **state)
{
	(void)state;
	assert_int_equal(es_frag_source_max(8), 8);
	assert_int_equal(es_frag_source_max(63), 8);
	assert_int_equal(es_frag_source_max(72), 9);
	assert_int_equal(es_frag_source_max(1023), 127);
	assert_int_equal(es_frag_source_max(4), 4);   /* never above the budget */
	assert_int_equal(F.max, 64);
	assert_int_equal(F.src_max, 8);
}

static void frag__complete_ipv4_packet_leaves_nothing_held(void **state)
{
	struct rte_mbuf *r;
	(void)state;
	/* out of order: last, middle, first */
	assert_null(in4(1, 7, 1024, 100, 0, 10));
	assert_null(in4(1, 7, 512, 512, 1, 11));
	assert_held(2);
	r = in4(1, 7, 0, 512, 1, 12);
	assert_non_null(r);
	assert_int_equal(r->nb_segs, 1);                /* made one segment */
	assert_int_equal(rte_pktmbuf_pkt_len(r), 14 + 20 + 1124);
	for (int i = 0; i < 1124; i++)
		assert_int_equal(rte_pktmbuf_mtod(r, uint8_t *)[34 + i], (uint8_t)i);
	assert_int_equal(F.held, 0);
	assert_int_equal(src_sum(), 0);
	rte_pktmbuf_free(r);
	assert_held(0);
	assert_int_equal(cnt[ES_CNT_FRAG_IN], 3);
	assert_int_equal(cnt[ES_CNT_FRAG_MERGED], 3);
	assert_int_equal(cnt[ES_CNT_FRAG_DONE], 1);
	assert_int_equal(cnt[ES_CNT_FRAG_FAIL], 0);
}

static void frag__complete_ipv6_packet_leaves_nothing_held(void **state)
{
	struct rte_mbuf *r;
	(void)state;
	assert_null(in6(9, 0x10001, 0, 600, 1, 10));
	assert_held(1);
	r = in6(9, 0x10001, 600, 200, 0, 11);
	assert_non_null(r);
	/* the fragment header is gone: 40 + 800 */
	assert_int_equal(rte_pktmbuf_pkt_len(r), 14 + 40 + 800);
	rte_pktmbuf_free(r);
	assert_held(0);
	assert_int_equal(cnt[ES_CNT_FRAG_MERGED], 2);
	assert_int_equal(cnt[ES_CNT_FRAG_DONE], 1);
}

static void frag__one_source_holds_at_most_its_share(void **state)
{
	(void)state;
	/* source 1: nine packets' first fragments; the ninth is refused */
	for (uint16_t id = 0; id < 9; id++)
		assert_null(in4(1, id, 0, 64, 1, 10));
	assert_held(8);
	assert_int_equal(cnt[ES_CNT_FRAG_SRC_SHARE], 1);
	/* another source (IPv4 and IPv6) is not affected */
	assert_null(in4(2, 0, 0, 64, 1, 10));
	assert_null(in6(2, 0, 0, 64, 1, 10));
	assert_held(10);
	assert_int_equal(cnt[ES_CNT_FRAG_SRC_SHARE], 1);
	assert_int_equal(cnt[ES_CNT_FRAG_IN], 11);
}

static void frag__the_budget_refuses_before_the_table(void **state)
{
	(void)state;
	/* eight sources of eight fragments fill the 64 */
	for (uint8_t s = 1; s <= 8; s++)
		for (uint16_t id = 0; id < 8; id++)
			assert_null(in4(s, id, 0, 64, 1, 10));
	assert_held(64);
	assert_int_equal(cnt[ES_CNT_FRAG_POOL_SHARE], 0);
	assert_null(in4(9, 0, 0, 64, 1, 10));
	assert_null(in6(9, 0, 0, 64, 1, 10));
	assert_held(64);
	assert_int_equal(cnt[ES_CNT_FRAG_POOL_SHARE], 2);
	/* a packet that completes frees its part of the budget */
	assert_null(in4(1, 0, 64, 64, 1, 11));        /* over: refused */
	assert_int_equal(cnt[ES_CNT_FRAG_POOL_SHARE], 3);
}

static void frag__a_refused_entry_counts_each_fragment(void **state)
{
	(void)state;
	assert_null(in4(3, 5, 0, 64, 1, 10));
	assert_null(in4(3, 5, 64, 64, 1, 10));
	assert_held(2);
	/* a second first fragment: the library drops the entry with it */
	assert_null(in4(3, 5, 0, 64, 1, 11));
	assert_held(0);
	assert_int_equal(cnt[ES_CNT_FRAG_FAIL], 3);
	/* the source's share is whole again */
	for (uint16_t id = 0; id < 8; id++)
		assert_null(in4(3, (uint16_t)(100 + id), 0, 64, 1, 12));
	assert_held(8);
	assert_int_equal(cnt[ES_CNT_FRAG_SRC_SHARE], 0);
}

static void frag__a_hole_frees_the_chains_built_so_far_by_segment(void **state)
{
	(void)state;
	/* 0..512, 504..704, 712..1024, 1024..1100 (last): the lengths add
	 * up to the total, but 704..712 is missing; the library chains the
	 * last to 712..1024 before it finds the hole */
	assert_null(in4(4, 9, 0, 512, 1, 10));
	assert_null(in4(4, 9, 504, 200, 1, 10));
	assert_null(in4(4, 9, 712, 312, 1, 10));
	assert_held(3);
	assert_null(in4(4, 9, 1024, 76, 0, 10));
	assert_held(0);
	assert_int_equal(cnt[ES_CNT_FRAG_FAIL], 4);
	assert_int_equal(cnt[ES_CNT_FRAG_DONE], 0);
}

static void frag__a_full_table_refuses_the_fragment(void **state)
{
	(void)state;
	es_frag_fini(&F);
	assert_int_equal(es_frag_init(&F, 16, 64, TIMEOUT, SOCKET_ID_ANY), 0);
	for (uint16_t id = 0; id < 16; id++)
		assert_null(in4((uint8_t)(1 + id / 4), id, 0, 64, 1, 10));
	assert_held(16);
	assert_null(in4(7, 99, 0, 64, 1, 10));
	assert_held(16);
	assert_int_equal(cnt[ES_CNT_FRAG_FAIL], 1);
}

static void frag__expiry_counts_every_fragment_and_frees_the_share(void **state)
{
	(void)state;
	for (uint16_t id = 0; id < 4; id++) {
		assert_null(in4(5, id, 0, 64, 1, 100));
		assert_null(in4(5, id, 64, 64, 1, 100));
	}
	assert_held(8);
	es_frag_expire(&F, 100 + TIMEOUT);
	to_exit(NULL);     /* not yet */
	assert_held(8);
	es_frag_expire(&F, 101 + TIMEOUT);
	to_exit(NULL);
	assert_held(0);
	assert_int_equal(cnt[ES_CNT_FRAG_TIMEOUT], 8);
	assert_null(in4(5, 50, 0, 64, 1, 200 + TIMEOUT));
	assert_held(1);
}

static void frag__expiry_frees_more_than_one_death_row(void **state)
{
	(void)state;
	/* 96 packets of 5 fragments (480 mbufs, more than the death row's
	 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN), from 16 sources */
	es_frag_fini(&F);
	assert_int_equal(es_frag_init(&F, 1024, 480 * 8, TIMEOUT, SOCKET_ID_ANY), 0);
	assert_true(480 > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN);
	for (uint16_t id = 0; id < 96; id++)
		for (uint16_t k = 0; k < 5; k++)
			assert_null(in4((uint8_t)(1 + id % 16), id, (uint16_t)(64 * k), 64, 1, 10));
	assert_held(480);
	es_frag_expire(&F, 11 + TIMEOUT);
	to_exit(NULL);
	assert_held(0);
	assert_int_equal(cnt[ES_CNT_FRAG_TIMEOUT], 480);
}

/* A bad IPv6 fragment (the header after another extension header) is
 * refused without being held. */
static void frag__ipv6_fragment_header_not_first_is_refused(void **state)
{
	struct es_outer o;
	struct rte_mbuf *m = frag6(6, 1, 0, 64, 1, &o);
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);
	(void)state;
	ip->proto = 60;  /* destination options first (not a real one) */
	assert_null(to_exit(es_frag_in(&F, m, &o, 10, cnt)));
	assert_held(0);
	assert_int_equal(cnt[ES_CNT_FRAG_FAIL], 1);
}

/* Random fragments of a few packets from a few sources, with duplicates,
 * overlaps, holes, completions and expiry: after every step the count is
 * what the pool says, per source too, and every fragment has one fate. */
static void frag__random_fragments_keep_the_count_exact(void **state)
{
	uint64_t seed = 12345, tsc = 1000, returned = 0;
	(void)state;
	es_frag_fini(&F);
	assert_int_equal(es_frag_init(&F, 1024, 80, TIMEOUT, SOCKET_ID_ANY), 0);
	assert_int_equal(F.src_max, 10);
	for (int step = 0; step < 40000; step++) {
		struct rte_mbuf *r;
		uint8_t src;
		uint16_t id, ofs, len;
		int mf;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* packets of three 64-byte fragments; one fragment in sixteen
		 * twice as long (an overlap) or with its MF flag flipped */
		src = (uint8_t)((seed >> 20) % 2 ? 1 : 2 + (seed >> 21) % 8);
		id = (uint16_t)((seed >> 28) % (src == 1 ? 16 : 3));   /* 1 floods */
		ofs = (uint16_t)(64 * ((seed >> 36) % 3));
		len = 64;
		mf = ofs != 128;
		if ((seed >> 46) % 16 == 0)
			len = 128;
		else if ((seed >> 46) % 16 == 1)
			mf = !mf;
		tsc += (seed >> 52) % 8192;   /* a time-out every ~250 steps */
		if ((seed >> 40) % 2)
			r = in6(src, id, ofs, len, mf, tsc);
		else
			r = in4(src, id, ofs, len, mf, tsc);
		if (r != NULL) {
			returned++;
			rte_pktmbuf_free(r);
		}
		if (step % 100 == 0) {
			es_frag_expire(&F, tsc);
			to_exit(NULL);
		}
		assert_int_equal(F.held, rte_mempool_in_use_count(pool));
		assert_int_equal(src_sum(), F.held);
		for (int b = 0; b < ES_FRAG_SRC_BUCKETS; b++)
			assert_true(F.src[b] <= F.src_max);
		assert_true(F.held <= F.max);
	}
	print_message("completed %llu, refused %llu, timed out %llu, over the source share %llu, over the budget %llu\n",
		      (unsigned long long)returned, (unsigned long long)cnt[ES_CNT_FRAG_FAIL],
		      (unsigned long long)cnt[ES_CNT_FRAG_TIMEOUT],
		      (unsigned long long)cnt[ES_CNT_FRAG_SRC_SHARE],
		      (unsigned long long)cnt[ES_CNT_FRAG_POOL_SHARE]);
	assert_int_equal(cnt[ES_CNT_FRAG_DONE], returned);
	assert_true(returned > 100);
	assert_true(cnt[ES_CNT_FRAG_FAIL] > 100);
	assert_true(cnt[ES_CNT_FRAG_SRC_SHARE] > 100);
	assert_true(cnt[ES_CNT_FRAG_TIMEOUT] > 0);
	/* frag_rx = dropped + merged + held */
	assert_int_equal(cnt[ES_CNT_FRAG_IN],
			 cnt[ES_CNT_FRAG_FAIL] + cnt[ES_CNT_FRAG_TIMEOUT] +
			 cnt[ES_CNT_FRAG_POOL_SHARE] + cnt[ES_CNT_FRAG_SRC_SHARE] +
			 cnt[ES_CNT_FRAG_MERGED] + F.held);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(frag__source_max_is_an_eighth_but_one_whole_packet),
		T(frag__complete_ipv4_packet_leaves_nothing_held),
		T(frag__complete_ipv6_packet_leaves_nothing_held),
		T(frag__one_source_holds_at_most_its_share),
		T(frag__the_budget_refuses_before_the_table),
		T(frag__a_refused_entry_counts_each_fragment),
		T(frag__a_hole_frees_the_chains_built_so_far_by_segment),
		T(frag__a_full_table_refuses_the_fragment),
		T(frag__expiry_counts_every_fragment_and_frees_the_share),
		T(frag__expiry_frees_more_than_one_death_row),
		T(frag__ipv6_fragment_header_not_first_is_refused),
		T(frag__random_fragments_keep_the_count_exact),
#undef T
	};
	(void)argc;
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	/* no per-lcore cache: in_use_count is exact */
	pool = rte_pktmbuf_pool_create("test_frag", 4095, 0, 0,
				       4096 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	return cmocka_run_group_tests_name("frag", tests, NULL, NULL);
}
