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

/**
 * Move the 2 MiB-aligned interior of the --no-huge EAL memory to
 * anonymous memory advised MADV_HUGEPAGE (see above), and print one
 * line on stdout saying what was done or why not.
 *
 * Call on the main lcore right after rte_eal_init(), before pools and
 * tables are allocated and before any other thread touches DPDK memory.
 * Never fails the start: on any error the memory is left as EAL made it
 * (or, past the copy, as anonymous memory without the advice) and the
 * line says so. The memfd EAL keeps for the segments no longer backs
 * the moved range: do not share this memory with another process
 * (vhost-user, secondary processes).
 *
 * @return bytes moved and advised; 0 when nothing was (hugetlbfs
 *   memory, no THP, an error).
 */
size_t es_mem_thp(void);

/**
 * Bytes of this process's memory backed by transparent huge pages
 * (AnonHugePages of /proc/self/smaps_rollup).
 *
 * @return the bytes, or 0 when the file cannot be read.
 * Thread safety: any thread (a system call; not for the hot path).
 */
size_t es_mem_thp_bytes(void);

#endif
