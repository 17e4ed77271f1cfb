/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eBPF hooks, the control side: load a program from its ELF object
 * (checked by DPDK's validator and by our read-only pass), JIT it, and
 * attach, replace and detach it at a hook point (dataplane/hook.h for
 * how the workers see the set). Control thread only.
 */
#ifndef ES_CTL_HOOK_H
#define ES_CTL_HOOK_H

#include <stddef.h>
#include <stdint.h>
#include "es_types.h"
#include "../dataplane/hook.h"

#define ES_HOOK_PATH_MAX  256
#define ES_HOOK_SEC_MAX   64
#define ES_HOOK_OBJ_MAX   (4u << 20)  /* an object file's size limit */
#define ES_HOOK_MAX_INSNS 4096        /* a program's length limit */
#define ES_HOOK_DEFAULT_SEC "hook"

/* A loaded, validated program, not attached yet. */
struct es_hook_loaded {
	struct rte_bpf *bpf;
	uint64_t (*jit)(void *);     /* NULL: the interpreter runs it */
	size_t jit_size;
	uint64_t hash;               /* FNV-1a 64 of the object file */
	uint32_t nb_insns;
};

/* Load section sec of the ELF object path. 0, or -1 with the reason in
 * err (the loader's own words for validator refusals). */
int es_hook_load(const char *path, const char *sec, struct es_hook_loaded *out,
		 char err[ES_ERR_MAX]);
void es_hook_unload(struct es_hook_loaded *l);

/* FNV-1a 64 of a file (0 and err on failure: an unreadable file). */
int es_hook_file_hash(const char *path, uint64_t *hash, char err[ES_ERR_MAX]);

/* "after-parse" ... / "ul" "dl": the index, or -1. */
int es_hook_point_parse(const char *s);
int es_hook_dir_parse(const char *s);
const char *es_hook_point_name(unsigned int point);
const char *es_hook_dir_name(unsigned int dir);

/* One attached program as control keeps it. */
struct es_hook_ent {
	char name[ES_NAME_MAX];
	uint8_t point, dir;
	uint32_t order;
	char path[ES_HOOK_PATH_MAX];
	char sec[ES_HOOK_SEC_MAX];
	uint64_t hash;
	struct es_hook_prog *prog;
	size_t jit_size;              /* 0: interpreted */
	uint32_t nb_insns;
};

/* es_hook_attach's answer when want_hash is not the object's */
#define ES_HOOK_E_CHANGED (-2)

/* Attach (or replace, same name) program name at (point, dir) with
 * order; want_hash non-NULL: refuse if the object's hash differs (a
 * restore from the state journal). Nothing changes on failure. */
int es_hook_attach(const char *name, unsigned int point, unsigned int dir,
		   const char *path, const char *sec, uint32_t order,
		   const uint64_t *want_hash, char err[ES_ERR_MAX]);
int es_hook_del(const char *name, char err[ES_ERR_MAX]);
/* The same for a batch that may be undone: the program replaced or
 * detached is not freed but given in *kept (NULL if none), to put back
 * with es_hook_reinstate or free with es_hook_prog_free once the batch
 * stands. */
int es_hook_attach_kept(const char *name, unsigned int point, unsigned int dir,
			const char *path, const char *sec, uint32_t order,
			const uint64_t *want_hash, struct es_hook_prog **kept,
			char err[ES_ERR_MAX]);
int es_hook_del_kept(const char *name, struct es_hook_prog **kept, char err[ES_ERR_MAX]);
/* Put an entry back as it was (its program included, which must be one
 * kept); the program now under that name, if any, is freed. -1: out of
 * memory, nothing changed. */
int es_hook_reinstate(const struct es_hook_ent *old);
void es_hook_prog_free(struct es_hook_prog *p);
/* Restoring the state replays history: an attach whose object has
 * changed since may be replaced or deleted later in the journal. Such an
 * attach is set aside (stale_add, with its refusal); a later attach or
 * del of the name clears it (stale_clear: 1 if it was set aside); at the
 * end of the restore, stale_check fails with the first refusal left. */
int es_hook_stale_add(const char *name, const char *why);
int es_hook_stale_clear(const char *name);
int es_hook_stale_check(char err[ES_ERR_MAX]);
/* Detach all (shutdown, tests). */
void es_hook_del_all(void);
/* The attached entries (n), in point, dir, order order. */
const struct es_hook_ent *es_hook_list(unsigned int *n);
const struct es_hook_ent *es_hook_find(const char *name);

/* One program's counters summed over the worker slots. */
struct es_hook_sum {
	uint64_t runs, drops, bad_verdict, timed_runs, cycles;
	uint64_t verdict[ES_HOOK_N_VERDICTS];
	uint64_t cnt[ES_HOOK_N_COUNTERS];
};
void es_hook_stats(const struct es_hook_ent *e, struct es_hook_sum *s);

/* Text (json 0) or JSON of the attached programs (name NULL: all) into
 * buf; the length written (as snprintf), -1 if name is not attached. */
int es_hook_show(char *buf, size_t cap, const char *name, int json);
/* The trace records not read yet, of program name (NULL: all), as text
 * lines into buf; the length written (as snprintf). */
int es_hook_trace_show(char *buf, size_t cap, const char *name);

/* Whether DPDK's JIT works here: 1 after a load that JIT-ed, 0 after one
 * that fell back to the interpreter, -1 before any load. */
int es_hook_jit_state(void);

/* 0: the loads after this leave their programs to the interpreter
 * (rte_bpf_exec), though DPDK JIT-compiled them; 1 (the default, and
 * the daemon's): the JIT-ed code where there is one. For measuring one
 * against the other (perf/hook_bench.c). */
void es_hook_use_jit(int on);

#endif
