/* SPDX-License-Identifier: BSD-3-Clause */
/* dataplane/mem.c on --no-huge memory: the move to transparent huge pages
 * keeps what EAL wrote and gives working memory; the mbuf pool is packed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include "mem.h"

static size_t moved;
static const struct rte_memzone *before;

static void mem__thp_move_keeps_what_eal_wrote_before_it(void **state)
{
	(void)state;
	/* written before es_mem_thp(), read after it */
	for (size_t i = 0; i < before->len; i++)
		assert_int_equal(((const uint8_t *)before->addr)[i], (uint8_t)(i * 7 + 1));
}

static void mem__memory_after_the_move_works_and_takes_huge_pages(void **state)
{
	size_t len = 64u << 20, thp0 = es_mem_thp_bytes();
	uint8_t *p = rte_malloc("t", len, 2u << 20);

	(void)state;
	assert_non_null(p);
	memset(p, 0xa5, len);
	for (size_t i = 0; i < len; i += 4096)
		assert_int_equal(p[i], 0xa5);
	if (moved)   /* THP was on: the first touches above took 2 MiB pages */
		assert_true(es_mem_thp_bytes() >= thp0 + (32u << 20));
	rte_free(p);
}

static unsigned int n_seen;
static uintptr_t lo = UINTPTR_MAX, hi;

static void check_mbuf(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct rte_mbuf *m = obj;

	(void)arg;
	(void)idx;
	assert_ptr_equal(m->pool, mp);
	assert_int_equal(m->buf_len, 2048 + RTE_PKTMBUF_HEADROOM);
	assert_int_equal(rte_pktmbuf_headroom(m), RTE_PKTMBUF_HEADROOM);
	lo = RTE_MIN(lo, (uintptr_t)obj);
	hi = RTE_MAX(hi, (uintptr_t)obj);
	n_seen++;
}

static void mem__pool_packs_mbufs_back_to_back_on_4k_pages(void **state)
{
	struct rte_mempool *mp = es_mem_pktmbuf_pool_create("t_pool", 1023, 32,
							    2048 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	struct rte_mbuf *m[64];

	(void)state;
	assert_non_null(mp);
	assert_int_equal(rte_pktmbuf_data_room_size(mp), 2048 + RTE_PKTMBUF_HEADROOM);
	rte_mempool_obj_iter(mp, check_mbuf, NULL);
	assert_int_equal(n_seen, 1023);
	/* rte_pktmbuf_pool_create() here spreads them one per 4 KiB page */
	assert_true(hi - lo < (uintptr_t)1023 * 3000);
	/* and they work as mbufs */
	assert_int_equal(rte_pktmbuf_alloc_bulk(mp, m, 64), 0);
	for (int i = 0; i < 64; i++) {
		assert_non_null(rte_pktmbuf_append(m[i], 1500));
		memset(rte_pktmbuf_mtod(m[i], void *), i, 1500);
	}
	rte_pktmbuf_free_bulk(m, 64);
	assert_int_equal(rte_mempool_avail_count(mp), 1023);
	rte_mempool_free(mp);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-shconf",
			"--no-pci", "--log-level=error", "-l", "0", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mem__thp_move_keeps_what_eal_wrote_before_it),
		cmocka_unit_test(mem__memory_after_the_move_works_and_takes_huge_pages),
		cmocka_unit_test(mem__pool_packs_mbufs_back_to_back_on_4k_pages),
	};

	(void)argc;
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	before = rte_memzone_reserve("t_before", 3u << 20, SOCKET_ID_ANY, 0);
	if (before == NULL) {
		fprintf(stderr, "memzone: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (size_t i = 0; i < before->len; i++)
		((uint8_t *)before->addr)[i] = (uint8_t)(i * 7 + 1);
	{
		char msg[160];

		moved = es_mem_thp(msg, sizeof(msg));
		printf("%s\n", msg);
		if (moved == 0 && strstr(msg, "stays on 4 KiB pages") == NULL)
			return 1;
	}
	return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
