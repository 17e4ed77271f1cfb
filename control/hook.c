/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eBPF hooks, the control side (hook.h). A load goes:
 *   1. read the object file whole (<= ES_HOOK_OBJ_MAX) and hash it
 *      (FNV-1a 64: the state journal's check that the object is the one
 *      attached, not a defence against a forger);
 *   2. parse its ELF headers here, so a file that is not an eBPF object,
 *      or lacks the section, is refused in our words (with the sections
 *      it has);
 *   3. rte_bpf_elf_load, on a private copy of those bytes (a memfd), with our helpers (dataplane/hook.c): DPDK's
 *      validator refuses unknown helpers, loops, reads outside the
 *      context; its log lines during the load are captured and become
 *      the reason;
 *   4. our read-only pass over the section's instructions: a store
 *      through anything but the stack pointer is refused (DPDK's
 *      validator allows writes into the argument);
 *   5. rte_bpf_get_jit: the JIT-ed code, or the interpreter (recorded,
 *      shown by `hook show`).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include "es.h"
#include "hook.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

static int jit_state = -1;
static int jit_wanted = 1;

int es_hook_jit_state(void)
{
	return jit_state;
}

void es_hook_use_jit(int on)
{
	jit_wanted = on != 0;
}

static const char *const point_names[ES_HOOK_N_POINTS] = {
	"after-parse", "after-classify", "before-tx",
};
static const char *const dir_names[ES_HOOK_N_DIRS] = { "ul", "dl" };
static const char *const verdict_names[ES_HOOK_N_VERDICTS] = {
	"continue", "drop", "steer-app", "to-cloud", "set-dscp", "set-mark",
};

int es_hook_point_parse(const char *s)
{
	for (unsigned int i = 0; i < ES_HOOK_N_POINTS; i++)
		if (strcmp(s, point_names[i]) == 0)
			return (int)i;
	return -1;
}

int es_hook_dir_parse(const char *s)
{
	for (unsigned int i = 0; i < ES_HOOK_N_DIRS; i++)
		if (strcmp(s, dir_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *es_hook_point_name(unsigned int point)
{
	return point < ES_HOOK_N_POINTS ? point_names[point] : "?";
}

const char *es_hook_dir_name(unsigned int dir)
{
	return dir < ES_HOOK_N_DIRS ? dir_names[dir] : "?";
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The file whole into a malloc'd buffer. */
static uint8_t *read_file(const char *path, size_t *len, char err[ES_ERR_MAX])
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long sz;

	if (f == NULL) {
		snprintf(err, ES_ERR_MAX, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, ES_ERR_MAX, "cannot read %s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	if ((unsigned long)sz > ES_HOOK_OBJ_MAX) {
		snprintf(err, ES_ERR_MAX, "%s: %ld bytes, over the %u-byte limit of an object",
			 path, sz, ES_HOOK_OBJ_MAX);
		fclose(f);
		return NULL;
	}
	buf = malloc(sz ? (size_t)sz : 1);
	if (buf == NULL || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		snprintf(err, ES_ERR_MAX, "cannot read %s", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)sz;
	return buf;
}

int es_hook_file_hash(const char *path, uint64_t *hash, char err[ES_ERR_MAX])
{
	size_t len;
	uint8_t *b = read_file(path, &len, err);

	if (b == NULL)
		return -1;
	*hash = fnv1a64(b, len);
	free(b);
	return 0;
}

/* Section sec of the ELF image b[0..len): its bytes, or NULL and err. */
static const uint8_t *elf_section(const uint8_t *b, size_t len, const char *path,
				  const char *sec, size_t *sec_len,
				  char err[ES_ERR_MAX])
{
	const Elf64_Ehdr *eh = (const void *)b;
	const Elf64_Shdr *sh, *strs;
	char have[160];
	size_t hl = 0;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) {
		snprintf(err, ES_ERR_MAX, "%s is not an ELF object", path);
		return NULL;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_BPF) {
		snprintf(err, ES_ERR_MAX, "%s is not a 64-bit little-endian eBPF object "
			 "(machine %u; build it with clang -O2 -target bpf)", path,
			 (unsigned int)eh->e_machine);
		return NULL;
	}
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > len ||
	    (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum) {
		snprintf(err, ES_ERR_MAX, "%s: malformed ELF section table", path);
		return NULL;
	}
	sh = (const void *)(b + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	if (strs->sh_offset > len || strs->sh_size > len - strs->sh_offset) {
		snprintf(err, ES_ERR_MAX, "%s: malformed ELF section names", path);
		return NULL;
	}
	have[0] = 0;
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		const char *nm;
		size_t room;

		if (sh[i].sh_name >= strs->sh_size)
			continue;
		nm = (const char *)b + strs->sh_offset + sh[i].sh_name;
		room = strs->sh_size - sh[i].sh_name;
		if (strnlen(nm, room) == room)
			continue;
		if (sh[i].sh_type == SHT_PROGBITS && (sh[i].sh_flags & SHF_EXECINSTR) &&
		    sh[i].sh_size > 0) {
			if (strcmp(nm, sec) == 0) {
				if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset) {
					snprintf(err, ES_ERR_MAX, "%s: section %s lies past the file's end",
						 path, sec);
					return NULL;
				}
				*sec_len = sh[i].sh_size;
				return b + sh[i].sh_offset;
			}
			if (hl < sizeof(have))
				hl += (size_t)snprintf(have + hl, sizeof(have) - hl, "%s%s",
						       hl ? " " : "", nm);
		}
	}
	snprintf(err, ES_ERR_MAX, "%s has no code section '%s' (code sections: %s)",
		 path, sec, hl ? have : "none");
	return NULL;
}

/*
 * The read-only pass. Loops are refused before it runs (DPDK), so every
 * jump goes forward and one pass in order sees every predecessor of an
 * instruction first. For each instruction: the registers known to hold
 * the stack pointer plus a constant (r10 always), the intersection over
 * its predecessors. A store (ST, STX, XADD) must go through one of them.
 */
static int ro_check(const struct ebpf_insn *ins, uint32_t n, const char *sec,
		    char err[ES_ERR_MAX])
{
	uint16_t *in = calloc(n + 1, sizeof(*in));
	uint8_t *seen = calloc(n + 1, 1);
	int rc = 0;

	if (in == NULL || seen == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory");
		rc = -1;
		goto out;
	}
	in[0] = 1u << EBPF_REG_10;
	seen[0] = 1;
	for (uint32_t pc = 0; pc < n; pc++) {
		uint8_t code = ins[pc].code, cls = BPF_CLASS(code);
		uint16_t s;
		uint32_t next = pc + 1, tgt = UINT32_MAX;
		int fall = 1;

		/* reached by no jump this pass follows (dead code, or a jump
		 * class it does not know): the stack pointer alone is known */
		if (!seen[pc])
			in[pc] = 1u << EBPF_REG_10;
		s = in[pc];
		switch (cls) {
		case BPF_ST:
		case BPF_STX:
			if (!(s & (1u << ins[pc].dst_reg))) {
				snprintf(err, ES_ERR_MAX, "section %s: store through r%u at pc %u: "
					 "the context and the packet are read-only (a program "
					 "writes only its stack; it changes a packet by its verdict)",
					 sec, ins[pc].dst_reg, pc);
				rc = -1;
				goto out;
			}
			break;
		case BPF_LD:
			s &= (uint16_t)~(1u << ins[pc].dst_reg);
			if (BPF_MODE(code) == BPF_IMM && BPF_SIZE(code) == EBPF_DW)
				next = pc + 2;  /* lddw: two slots */
			else
				s &= (uint16_t)~0x3fu;  /* ld abs/ind clobber r0-r5 */
			break;
		case BPF_LDX:
		case BPF_ALU:
			s &= (uint16_t)~(1u << ins[pc].dst_reg);
			break;
		case EBPF_ALU64: {
			uint16_t d = (uint16_t)(1u << ins[pc].dst_reg);

			if (BPF_OP(code) == EBPF_MOV) {
				s &= (uint16_t)~d;
				if (BPF_SRC(code) == BPF_X && (in[pc] & (1u << ins[pc].src_reg)))
					s |= d;
			} else if ((BPF_OP(code) == BPF_ADD || BPF_OP(code) == BPF_SUB) &&
				   BPF_SRC(code) == BPF_K) {
				/* keeps a stack pointer a stack pointer */
			} else {
				s &= (uint16_t)~d;
			}
			break;
		}
		case BPF_JMP:
			if (BPF_OP(code) == EBPF_EXIT) {
				fall = 0;
			} else if (BPF_OP(code) == EBPF_CALL) {
				s &= (uint16_t)~0x3fu;  /* r0-r5 */
			} else {
				int64_t t = (int64_t)pc + 1 + ins[pc].off;

				if (t > (int64_t)pc && t <= (int64_t)n)
					tgt = (uint32_t)t;
				if (BPF_OP(code) == BPF_JA)
					fall = 0;
			}
			break;
		default:
			s = 1u << EBPF_REG_10;
			break;
		}
		if (fall && next <= n) {
			in[next] = seen[next] ? (uint16_t)(in[next] & s) : s;
			seen[next] = 1;
		}
		if (tgt != UINT32_MAX) {
			in[tgt] = seen[tgt] ? (uint16_t)(in[tgt] & s) : s;
			seen[tgt] = 1;
		}
	}
out:
	free(in);
	free(seen);
	return rc;
}

/* DPDK's log lines during one call, captured: the loader's reason. */
struct logcap {
	FILE *old, *mem;
	char *buf;
	size_t len;
};

static void logcap_start(struct logcap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->old = rte_log_get_stream();
	c->mem = open_memstream(&c->buf, &c->len);
	if (c->mem != NULL)
		rte_openlog_stream(c->mem);
}

/* The captured text into out, lines joined by "; " but for DPDK's own
 * summary line (the path and section again), then restore the stream. */
static void logcap_end(struct logcap *c, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	if (c->mem != NULL) {
		rte_openlog_stream(c->old);
		fclose(c->mem);
	}
	if (cap == 0)
		goto done;
	out[0] = 0;
	while (c->buf != NULL && i < c->len) {
		size_t e = i;

		while (e < c->len && c->buf[e] != '\n')
			e++;
		if (strncmp(c->buf + i, "rte_bpf_elf_load(", 17) != 0 && e > i) {
			size_t n = e - i;

			while (n > 0 && (c->buf[i + n - 1] == ';' || c->buf[i + n - 1] == ' '))
				n--;
			if (o > 0 && o + 2 < cap) {
				out[o++] = ';';
				out[o++] = ' ';
			}
			if (n > cap - 1 - o)
				n = cap - 1 - o;
			memcpy(out + o, c->buf + i, n);
			o += n;
			out[o] = 0;
		}
		i = e + 1;
	}
done:
	free(c->buf);
}

int es_hook_load(const char *path, const char *sec, struct es_hook_loaded *out,
		 char err[ES_ERR_MAX])
{
	struct rte_bpf_prm prm;
	struct rte_bpf_jit jit;
	struct logcap cap;
	char why[ES_ERR_MAX];
	const uint8_t *code;
	size_t len, clen = 0;
	uint8_t *b;
	struct rte_bpf *bpf;
	char copy[64];
	int e, mfd;

	memset(out, 0, sizeof(*out));
	if (sec == NULL || sec[0] == 0)
		sec = ES_HOOK_DEFAULT_SEC;
	b = read_file(path, &len, err);
	if (b == NULL)
		return -1;
	out->hash = fnv1a64(b, len);
	code = elf_section(b, len, path, sec, &clen, err);
	if (code == NULL)
		goto fail;
	if (clen == 0 || clen % sizeof(struct ebpf_insn) != 0 ||
	    clen / sizeof(struct ebpf_insn) > ES_HOOK_MAX_INSNS) {
		snprintf(err, ES_ERR_MAX, "%s: section %s holds %zu bytes: not 1 to %u "
			 "eBPF instructions", path, sec, clen, ES_HOOK_MAX_INSNS);
		goto fail;
	}
	out->nb_insns = (uint32_t)(clen / sizeof(struct ebpf_insn));

	memset(&prm, 0, sizeof(prm));
	prm.xsym = es_hook_xsym;
	prm.nb_xsym = es_hook_n_xsym;
	prm.prog_arg.type = RTE_BPF_ARG_PTR;
	prm.prog_arg.size = sizeof(struct es_hook_ctx);
	/* DPDK reads the file itself: give it the bytes read, hashed and
	 * checked here (a private copy), not the path again, so a file
	 * changed in between cannot slip a program past the checks */
	mfd = memfd_create("es_hook_obj", MFD_CLOEXEC);
	if (mfd < 0 || write(mfd, b, len) != (ssize_t)len) {
		snprintf(err, ES_ERR_MAX, "cannot copy %s for the loader: %s", path,
			 strerror(errno));
		if (mfd >= 0)
			close(mfd);
		goto fail;
	}
	snprintf(copy, sizeof(copy), "/proc/self/fd/%d", mfd);
	logcap_start(&cap);
	bpf = rte_bpf_elf_load(&prm, copy, sec);
	e = rte_errno;
	logcap_end(&cap, why, sizeof(why));
	close(mfd);
	if (bpf == NULL) {
		if (why[0] == 0)
			snprintf(why, sizeof(why), "%s", strerror(e));
		snprintf(err, ES_ERR_MAX, "%s section %s refused by the loader: %s%s",
			 path, sec, strstr(why, "resolve_xsym") ? "unknown helper: " : "", why);
		goto fail;
	}
	if (ro_check((const struct ebpf_insn *)(const void *)code, out->nb_insns, sec,
		     err) != 0) {
		rte_bpf_destroy(bpf);
		goto fail;
	}
	out->bpf = bpf;
	if (!jit_wanted) {
		/* the interpreter by choice (es_hook_use_jit): jit_state
		 * still says what DPDK's JIT did last */
	} else if (rte_bpf_get_jit(bpf, &jit) == 0 && jit.func != NULL) {
		out->jit = jit.func;
		out->jit_size = jit.sz;
		jit_state = 1;
	} else {
		jit_state = 0;
	}
	free(b);
	return 0;
fail:
	free(b);
	return -1;
}

void es_hook_unload(struct es_hook_loaded *l)
{
	if (l->bpf != NULL)
		rte_bpf_destroy(l->bpf);
	memset(l, 0, sizeof(*l));
}

/* ---- the attached set ---- */

#define MAX_ENTS (ES_HOOK_N_POINTS * ES_HOOK_N_DIRS * ES_HOOK_MAX_PER)

static struct es_hook_ent ents[MAX_ENTS];
static unsigned int n_ents;
static uint32_t next_id = 1;

const struct es_hook_ent *es_hook_list(unsigned int *n)
{
	*n = n_ents;
	return ents;
}

const struct es_hook_ent *es_hook_find(const char *name)
{
	for (unsigned int i = 0; i < n_ents; i++)
		if (strcmp(ents[i].name, name) == 0)
			return &ents[i];
	return NULL;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct es_hook_ent *x = a, *y = b;

	if (x->point != y->point)
		return x->point < y->point ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void prog_free(struct es_hook_prog *p)
{
	if (p == NULL)
		return;
	if (p->bpf != NULL)
		rte_bpf_destroy(p->bpf);
	rte_free(p->st);
	rte_free(p);
}

/* Build the set of ents[0..n) (sorted), publish it, wait for the workers,
 * free the old set. Cannot fail once s is allocated. */
static void publish(struct es_hook_set *s)
{
	struct es_hook_set *old = es_hook_live;

	qsort(ents, n_ents, sizeof(ents[0]), ent_cmp);
	if (s != NULL) {
		memset(s, 0, sizeof(*s));
		for (unsigned int i = 0; i < n_ents; i++) {
			struct es_hook_ent *e = &ents[i];

			s->p[e->point][e->dir][s->n[e->point][e->dir]++] = e->prog;
		}
	}
	__atomic_store_n(&es_hook_live, s, __ATOMIC_RELEASE);
	es_tables_sync();
	rte_free(old);
}

void es_hook_prog_free(struct es_hook_prog *p)
{
	prog_free(p);
}

int es_hook_attach(const char *name, unsigned int point, unsigned int dir,
		   const char *path, const char *sec, uint32_t order,
		   const uint64_t *want_hash, char err[ES_ERR_MAX])
{
	return es_hook_attach_kept(name, point, dir, path, sec, order, want_hash, NULL, err);
}

int es_hook_attach_kept(const char *name, unsigned int point, unsigned int dir,
			const char *path, const char *sec, uint32_t order,
			const uint64_t *want_hash, struct es_hook_prog **kept,
			char err[ES_ERR_MAX])
{
	struct es_hook_loaded l;
	struct es_hook_prog *p;
	struct es_hook_set *s;
	struct es_hook_ent *e = (struct es_hook_ent *)es_hook_find(name);
	struct es_hook_prog *old = NULL;
	unsigned int at = 0;

	if (name[0] == 0 || strlen(name) >= ES_NAME_MAX) {
		snprintf(err, ES_ERR_MAX, "hook name must be 1 to %d characters", ES_NAME_MAX - 1);
		return -1;
	}
	if (point >= ES_HOOK_N_POINTS || dir >= ES_HOOK_N_DIRS) {
		snprintf(err, ES_ERR_MAX, "no such hook point");
		return -1;
	}
	if (strlen(path) >= ES_HOOK_PATH_MAX) {
		snprintf(err, ES_ERR_MAX, "object path longer than %d bytes", ES_HOOK_PATH_MAX - 1);
		return -1;
	}
	if (sec == NULL || sec[0] == 0)
		sec = ES_HOOK_DEFAULT_SEC;
	if (strlen(sec) >= ES_HOOK_SEC_MAX) {
		snprintf(err, ES_ERR_MAX, "section name longer than %d bytes", ES_HOOK_SEC_MAX - 1);
		return -1;
	}
	for (unsigned int i = 0; i < n_ents; i++)
		if (ents[i].point == point && ents[i].dir == dir && &ents[i] != e)
			at++;
	if (at >= ES_HOOK_MAX_PER) {
		snprintf(err, ES_ERR_MAX, "%s %s already has %d programs", point_names[point],
			 dir_names[dir], ES_HOOK_MAX_PER);
		return -1;
	}
	if (want_hash != NULL) {
		/* first, so that a changed object is said to be changed, not
		 * refused for what the change did to it */
		uint64_t h;

		if (es_hook_file_hash(path, &h, err) != 0)
			return -1;
		if (h != *want_hash) {
			snprintf(err, ES_ERR_MAX, "hook %s: object %s changed since it was attached "
				 "(hash %016" PRIx64 ", expected %016" PRIx64 "): refused; put the "
				 "attached object back", name, path, h, *want_hash);
			return ES_HOOK_E_CHANGED;
		}
	}
	if (es_hook_load(path, sec, &l, err) != 0)
		return -1;
	if (want_hash != NULL && *want_hash != l.hash) {
		snprintf(err, ES_ERR_MAX, "hook %s: object %s changed since it was attached "
			 "(hash %016" PRIx64 ", expected %016" PRIx64 "): refused; put the "
			 "attached object back", name, path, l.hash, *want_hash);
		es_hook_unload(&l);
		return ES_HOOK_E_CHANGED;
	}
	p = rte_zmalloc("es_hook_prog", sizeof(*p), RTE_CACHE_LINE_SIZE);
	s = rte_zmalloc("es_hook_set", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (p != NULL)
		p->st = rte_zmalloc("es_hook_stats",
				    sizeof(struct es_hook_pstats) * ES_HOOK_MAX_SLOTS,
				    RTE_CACHE_LINE_SIZE);
	if (p == NULL || s == NULL || p->st == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory for hook %s", name);
		if (p != NULL)
			rte_free(p->st);
		rte_free(p);
		rte_free(s);
		es_hook_unload(&l);
		return -1;
	}
	p->bpf = l.bpf;
	p->jit = l.jit;
	p->id = next_id++;
	p->point = (uint8_t)point;
	p->dir = (uint8_t)dir;
	if (e == NULL)
		e = &ents[n_ents++];
	else
		old = e->prog;
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->point = (uint8_t)point;
	e->dir = (uint8_t)dir;
	e->order = order;
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->sec, sizeof(e->sec), "%s", sec);
	e->hash = l.hash;
	e->prog = p;
	e->jit_size = l.jit ? l.jit_size : 0;
	e->nb_insns = l.nb_insns;
	publish(s);
	if (kept != NULL)
		*kept = old;
	else
		prog_free(old);
	return 0;
}

int es_hook_del(const char *name, char err[ES_ERR_MAX])
{
	return es_hook_del_kept(name, NULL, err);
}

int es_hook_del_kept(const char *name, struct es_hook_prog **kept, char err[ES_ERR_MAX])
{
	struct es_hook_ent *e = (struct es_hook_ent *)es_hook_find(name);
	struct es_hook_prog *p;
	struct es_hook_set *s = NULL;

	if (e == NULL) {
		snprintf(err, ES_ERR_MAX, "no hook %s", name);
		return -1;
	}
	if (n_ents > 1) {
		s = rte_zmalloc("es_hook_set", sizeof(*s), RTE_CACHE_LINE_SIZE);
		if (s == NULL) {
			snprintf(err, ES_ERR_MAX, "out of memory");
			return -1;
		}
	}
	p = e->prog;
	*e = ents[--n_ents];
	publish(s);
	if (kept != NULL)
		*kept = p;
	else
		prog_free(p);
	return 0;
}

int es_hook_reinstate(const struct es_hook_ent *old)
{
	struct es_hook_ent *e = (struct es_hook_ent *)es_hook_find(old->name);
	struct es_hook_set *s = rte_zmalloc("es_hook_set", sizeof(*s), RTE_CACHE_LINE_SIZE);
	struct es_hook_prog *cur = NULL;

	if (s == NULL)
		return -1;
	if (e == NULL) {
		if (n_ents >= MAX_ENTS) {
			rte_free(s);
			return -1;
		}
		e = &ents[n_ents++];
	} else {
		cur = e->prog;
	}
	*e = *old;
	publish(s);
	prog_free(cur);
	return 0;
}

/* ---- restore: attaches whose object changed, pending ---- */

static struct {
	char name[ES_NAME_MAX];
	char why[ES_ERR_MAX];
} stale[MAX_ENTS * 4];
static unsigned int n_stale;

int es_hook_stale_add(const char *name, const char *why)
{
	unsigned int i;

	for (i = 0; i < n_stale && strcmp(stale[i].name, name) != 0; i++)
		;
	if (i == n_stale) {
		if (n_stale == RTE_DIM(stale))
			return -1;
		n_stale++;
	}
	snprintf(stale[i].name, sizeof(stale[i].name), "%s", name);
	snprintf(stale[i].why, sizeof(stale[i].why), "%s", why);
	return 0;
}

int es_hook_stale_clear(const char *name)
{
	for (unsigned int i = 0; i < n_stale; i++)
		if (strcmp(stale[i].name, name) == 0) {
			stale[i] = stale[--n_stale];
			return 1;
		}
	return 0;
}

int es_hook_stale_check(char err[ES_ERR_MAX])
{
	if (n_stale == 0)
		return 0;
	snprintf(err, ES_ERR_MAX, "%s", stale[0].why);
	n_stale = 0;
	return -1;
}

void es_hook_del_all(void)
{
	unsigned int n = n_ents;
	struct es_hook_prog *ps[MAX_ENTS];

	for (unsigned int i = 0; i < n; i++)
		ps[i] = ents[i].prog;
	n_ents = 0;
	publish(NULL);
	for (unsigned int i = 0; i < n; i++)
		prog_free(ps[i]);
}

void es_hook_stats(const struct es_hook_ent *e, struct es_hook_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int w = 0; w < ES_HOOK_MAX_SLOTS; w++) {
		const struct es_hook_pstats *p = &e->prog->st[w];

		s->runs += p->runs;
		s->drops += p->drops;
		s->bad_verdict += p->bad_verdict;
		s->timed_runs += p->timed_runs;
		s->cycles += p->cycles;
		for (unsigned int i = 0; i < ES_HOOK_N_VERDICTS; i++)
			s->verdict[i] += p->verdict[i];
		for (unsigned int i = 0; i < ES_HOOK_N_COUNTERS; i++)
			s->cnt[i] += p->cnt[i];
	}
}

#define PUT(...) do { \
	int k_ = snprintf(buf + (o < cap ? o : cap), o < cap ? cap - o : 0, __VA_ARGS__); \
	if (k_ > 0) o += (size_t)k_; \
} while (0)

int es_hook_show(char *buf, size_t cap, const char *name, int json)
{
	size_t o = 0;
	unsigned int shown = 0;

	if (cap)
		buf[0] = 0;
	if (name != NULL && es_hook_find(name) == NULL)
		return -1;
	if (json)
		PUT("{\"jit\":%d,\"hooks\":[", jit_state);
	for (unsigned int i = 0; i < n_ents; i++) {
		const struct es_hook_ent *e = &ents[i];
		struct es_hook_sum s;
		uint64_t cpr;

		if (name != NULL && strcmp(name, e->name) != 0)
			continue;
		es_hook_stats(e, &s);
		cpr = s.timed_runs ? s.cycles / s.timed_runs : 0;
		if (json) {
			PUT("%s{\"name\":\"%s\",\"point\":\"%s\",\"dir\":\"%s\",\"order\":%u,"
			    "\"obj\":\"%s\",\"sec\":\"%s\",\"hash\":\"%016" PRIx64 "\","
			    "\"jit\":%s,\"insns\":%u,\"runs\":%" PRIu64 ",\"drops\":%" PRIu64
			    ",\"cycles_per_run\":%" PRIu64 ",\"bad_verdict\":%" PRIu64 ",\"verdicts\":{",
			    shown ? "," : "", e->name, point_names[e->point], dir_names[e->dir],
			    e->order, e->path, e->sec, e->hash, e->jit_size ? "true" : "false",
			    e->nb_insns, s.runs, s.drops, cpr, s.bad_verdict);
			for (unsigned int v = 0; v < ES_HOOK_N_VERDICTS; v++)
				PUT("%s\"%s\":%" PRIu64, v ? "," : "", verdict_names[v], s.verdict[v]);
			PUT("},\"counters\":[");
			for (unsigned int c = 0; c < ES_HOOK_N_COUNTERS; c++)
				PUT("%s%" PRIu64, c ? "," : "", s.cnt[c]);
			PUT("]}");
		} else {
			PUT("hook %s at %s dir %s order %u obj %s sec %s hash %016" PRIx64
			    " %s insns %u\n  runs %" PRIu64 " drops %" PRIu64 " cycles/run %" PRIu64,
			    e->name, point_names[e->point], dir_names[e->dir], e->order, e->path,
			    e->sec, e->hash, e->jit_size ? "jit" : "interpreted", e->nb_insns,
			    s.runs, s.drops, cpr);
			for (unsigned int v = 0; v < ES_HOOK_N_VERDICTS; v++)
				PUT(" %s %" PRIu64, verdict_names[v], s.verdict[v]);
			if (s.bad_verdict)
				PUT(" bad-verdict %" PRIu64, s.bad_verdict);
			PUT("\n");
		}
		shown++;
	}
	if (json)
		PUT("]}\n");
	return (int)o;
}

/* Per slot: the records already shown. */
static uint64_t trace_tail[ES_HOOK_MAX_SLOTS];

int es_hook_trace_show(char *buf, size_t cap, const char *name)
{
	const struct es_hook_ent *only = NULL;
	size_t o = 0;

	if (cap)
		buf[0] = 0;
	if (name != NULL && (only = es_hook_find(name)) == NULL)
		return -1;
	for (unsigned int w = 0; w < ES_HOOK_MAX_SLOTS; w++) {
		struct es_hook_trace_ring *r = &es_hook_trace[w];
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		uint64_t t = trace_tail[w];

		if (head - t > ES_HOOK_TRACE_N) {
			PUT("worker %u: %" PRIu64 " records overwritten\n", w,
			    head - t - ES_HOOK_TRACE_N);
			t = head - ES_HOOK_TRACE_N;
		}
		for (; t < head; t++) {
			const struct es_hook_trace_rec *e = &r->r[t & (ES_HOOK_TRACE_N - 1)];
			struct es_hook_trace_rec c;
			const char *pn = "?";

			c.seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
			c.tsc = e->tsc;
			c.prog_id = e->prog_id;
			c.point = e->point;
			c.dir = e->dir;
			c.a = e->a;
			c.b = e->b;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (c.seq != t + 1 || __atomic_load_n(&e->seq, __ATOMIC_RELAXED) != c.seq)
				continue;       /* overwritten while read */
			for (unsigned int i = 0; i < n_ents; i++)
				if (ents[i].prog->id == c.prog_id)
					pn = ents[i].name;
			if (only != NULL && only->prog->id != c.prog_id)
				continue;
			PUT("tsc %" PRIu64 " worker %u %s %s %s a %" PRIu64 " b %" PRIu64 "\n",
			    c.tsc, w, pn, es_hook_point_name(c.point), es_hook_dir_name(c.dir),
			    c.a, c.b);
		}
		trace_tail[w] = head;
	}
	return (int)o;
}
