/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transparent huge pages for the EAL memory of a --no-huge run.
 *
 * With --no-huge, DPDK 22.11 backs all its memory (mbufs, tables, the
 * rte_acl trie) with one shared memfd mapping of 4 KiB pages: the
 * session index, the rule trie and the mbufs then cost a TLB miss on
 * nearly every lookup. Shared memory only gets transparent huge pages
 * when /sys/kernel/mm/transparent_hugepage/shmem_enabled allows it
 * (Debian: never), and the mapping is not 2 MiB aligned to its file
 * offset, so a PMD could not map them anyway. es_mem_thp() therefore
 * moves the 2 MiB-aligned interior of that mapping, while almost all of
 * it is still untouched, to private anonymous memory at the same
 * addresses (its few touched pages copied over) and advises
 * MADV_HUGEPAGE there: first touches then fault in 2 MiB pages when
 * /sys/kernel/mm/transparent_hugepage/enabled is madvise or always.
 * Nothing changes for a run on hugetlbfs pages.
 */
#ifndef ES_MEM_H
#define ES_MEM_H

#include <stddef.h>
#include <stdint.h>

struct rte_mempool;

/**
 * Move the 2 MiB-aligned interior of the --no-huge EAL memory to
 * anonymous memory advised MADV_HUGEPAGE (see above), and say in msg
 * what was done or why not (the caller prints it when it wishes: edgesteer
 * prints nothing before its config has loaded).
 *
 * Call on the main lcore right after rte_eal_init(), before pools and
 * tables are allocated and before any other thread touches DPDK memory.
 * Never fails the start: on any error the memory is left as EAL made it
 * (or, past the copy, as anonymous memory without the advice) and the
 * line says so. The memfd EAL keeps for the segments no longer backs
 * the moved range: do not share this memory with another process
 * (vhost-user, secondary processes).
 *
 * @param msg   receives one line without newline; "" on hugetlbfs memory
 * @param size  size of msg (128 bytes are enough)
 * @return bytes moved and advised; 0 when nothing was (hugetlbfs
 *   memory, no THP, an error).
 */
size_t es_mem_thp(char *msg, size_t size);

/**
 * Bytes of this process's memory backed by transparent huge pages
 * (AnonHugePages of /proc/self/smaps_rollup).
 *
 * @return the bytes, or 0 when the file cannot be read.
 * Thread safety: any thread (a system call; not for the hot path).
 */
size_t es_mem_thp_bytes(void);

/**
 * rte_pktmbuf_pool_create() that packs the mbufs on --no-huge memory.
 *
 * With --no-huge, EAL's pages are 4 KiB and rte_mempool_populate_default()
 * keeps every IOVA-contiguous object inside one page: a 2,304-byte mbuf
 * then takes a page of its own, so the pool is 1.8 times as big and every
 * mbuf header sits at the same offset in its page, where all of them
 * compete for the same few L1/L2 cache sets. With IOVA as VA (what EAL
 * picks without huge pages) virtually contiguous memory is IOVA
 * contiguous, so the pool is created with RTE_MEMPOOL_F_NO_IOVA_CONTIG
 * there and its mbufs lie back to back, as on huge pages. On hugetlbfs
 * pages, or with IOVA as PA, this is rte_pktmbuf_pool_create().
 *
 * @param name       pool name (unique)
 * @param n          number of mbufs
 * @param cache_size per-lcore cache
 * @param data_room  data room of each mbuf, headroom included
 * @param socket_id  NUMA socket, or SOCKET_ID_ANY
 * @return the pool, or NULL with rte_errno set (as rte_pktmbuf_pool_create).
 * Thread safety: main lcore, at set-up (as rte_pktmbuf_pool_create).
 */
struct rte_mempool *es_mem_pktmbuf_pool_create(const char *name, unsigned int n,
					       unsigned int cache_size, uint16_t data_room,
					       int socket_id);

#endif
