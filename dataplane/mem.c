/* SPDX-License-Identifier: BSD-3-Clause */
/* Transparent huge pages for the EAL memory of a --no-huge run: see mem.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <rte_memory.h>
#include "mem.h"

#define HPAGE (2u << 20)

struct nohuge_span {
	uintptr_t base;
	size_t len;
	unsigned int n;
};

static int find_span(const struct rte_memseg_list *msl, void *arg)
{
	struct nohuge_span *s = arg;

	if (msl->external || msl->base_va == NULL || msl->len == 0 ||
	    msl->memseg_arr.count == 0)
		return 0;
	s->n++;
	s->base = (uintptr_t)msl->base_va;
	s->len = msl->len;
	return 0;
}

/* THP mode of the system: the bracketed word of .../enabled. */
static const char *thp_mode(char *buf, size_t size)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char *l, *r;

	if (f == NULL)
		return "absent";
	if (fgets(buf, (int)size, f) == NULL) {
		fclose(f);
		return "unreadable";
	}
	fclose(f);
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (r == NULL)
		return "unreadable";
	*r = '\0';
	return l + 1;
}

/* Copy the resident pages of [a, a + len) to the same offsets of dst. */
static size_t copy_resident(uintptr_t a, size_t len, uint8_t *dst, unsigned char *vec)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = len / pg, copied = 0;

	for (size_t i = 0; i < n; i++) {
		if (!(vec[i] & 1))
			continue;   /* never touched: reads as zero, as dst does */
		memcpy(dst + i * pg, (const void *)(a + i * pg), pg);
		copied += pg;
	}
	return copied;
}

size_t es_mem_thp(char *msg, size_t size)
{
	struct nohuge_span s = { 0, 0, 0 };
	char buf[128];
	const char *mode;
	uintptr_t a, b;
	size_t len, pg = (size_t)sysconf(_SC_PAGESIZE), copied;
	unsigned char *vec = NULL;
	uint8_t *raw, *tmp;

	msg[0] = '\0';
	if (rte_eal_has_hugepages())
		return 0;   /* hugetlbfs pages: nothing to do, nothing to say */
	mode = thp_mode(buf, sizeof(buf));
	if (strcmp(mode, "madvise") != 0 && strcmp(mode, "always") != 0) {
		snprintf(msg, size, "--no-huge memory stays on 4 KiB pages: transparent huge pages are '%s'",
			 mode);
		return 0;
	}
	rte_memseg_list_walk(find_span, &s);
	a = RTE_ALIGN_CEIL(s.base, HPAGE);
	b = RTE_ALIGN_FLOOR(s.base + s.len, HPAGE);
	if (s.n != 1 || b <= a) {
		snprintf(msg, size, "--no-huge memory stays on 4 KiB pages: %u memory lists, no 2 MiB-aligned span",
			 s.n);
		return 0;
	}
	len = b - a;
	/* the new memory, 2 MiB aligned so that it can take huge pages */
	raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		goto fail;
	tmp = (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)raw, HPAGE);
	if (tmp > raw)
		munmap(raw, (size_t)(tmp - raw));
	if (tmp + len < raw + len + HPAGE)
		munmap(tmp + len, (size_t)(raw + len + HPAGE - (tmp + len)));
	if (madvise(tmp, len, MADV_HUGEPAGE) != 0)
		goto fail_unmap;
	/* what EAL and the vdevs probed in rte_eal_init() wrote so far */
	vec = malloc(len / pg);
	if (vec == NULL || mincore((void *)a, len, vec) != 0)
		goto fail_unmap;
	copied = copy_resident(a, len, tmp, vec);
	free(vec);
	vec = NULL;
	/* replaces the old pages at the same addresses in one step; on
	 * failure the old mapping is untouched */
	if (mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)a) == MAP_FAILED)
		goto fail_unmap;
	snprintf(msg, size, "--no-huge memory: %zu of %zu MiB moved to anonymous memory with MADV_HUGEPAGE "
		 "(transparent huge pages '%s'; %zu KiB in use copied)",
		 len >> 20, s.len >> 20, mode, copied >> 10);
	return len;

fail_unmap:
	munmap(tmp, len);
fail:
	snprintf(msg, size, "--no-huge memory stays on 4 KiB pages: %s", strerror(errno));
	free(vec);
	return 0;
}

size_t es_mem_thp_bytes(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	unsigned long long kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (size_t)kb << 10;
}

struct rte_mempool *es_mem_pktmbuf_pool_create(const char *name, unsigned int n,
					       unsigned int cache_size, uint16_t data_room,
					       int socket_id)
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = data_room };
	struct rte_mempool *mp;
	int rc;

	if (rte_eal_has_hugepages() || rte_eal_iova_mode() != RTE_IOVA_VA)
		return rte_pktmbuf_pool_create(name, n, cache_size, 0, data_room, socket_id);
	/* rte_pktmbuf_pool_create(), but with objects free to cross 4 KiB pages */
	mp = rte_mempool_create_empty(name, n, (unsigned int)sizeof(struct rte_mbuf) + data_room,
				      cache_size, sizeof(priv), socket_id,
				      RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (rc != 0)
		goto fail;
	rte_pktmbuf_pool_init(mp, &priv);
	rc = rte_mempool_populate_default(mp);
	if (rc < 0)
		goto fail;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
fail:
	rte_mempool_free(mp);
	rte_errno = -rc;
	return NULL;
}
