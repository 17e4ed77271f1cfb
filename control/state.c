/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Persistence of what changes at run time: apps, sessions, rules and
 * neighbours added at run time (see ctl.h).
 *
 *   FILE          a snapshot: "# edgesteer state generation G", then the
 *                 canonical 'add' lines (neighbours, apps, sessions,
 *                 rules), written to FILE.tmp, synced and renamed over
 *                 FILE, so it is always whole;
 *   FILE.journal  "# generation G", then every batch accepted since the
 *                 snapshot, each as its canonical lines and a "#commit"
 *                 line, appended in one write before the command returns.
 *
 * A journal whose generation is not the snapshot's is already inside the
 * snapshot (a crash between the two renames) and is ignored. A last batch
 * without its "#commit" (a write cut short) never returned to its client
 * and is ignored. A SIGKILL loses nothing that was acknowledged: the
 * write() completed before the reply. With --state-sync every write is
 * also fdatasync()ed, for power loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "entries.h"
#include "hook.h"
#include "rules.h"
#include "state.h"

/* Journal lines after which a new snapshot is written. */
#define JOURNAL_COMPACT_LINES 200000
/* Snapshot lines applied per batch when restoring (each rule batch past
 * the delta cap costs one rte_acl build: few large batches). */
#define RESTORE_CHUNK 65536

uint32_t es_neigh_config;

static char snap_path[4096], jour_path[4120];
static bool do_sync, enabled;
static int jfd = -1;
static uint64_t generation, jlines;

int es_state_init(const char *path, bool sync_writes)
{
	if (strlen(path) >= sizeof(snap_path) - 16)
		return -1;
	snprintf(snap_path, sizeof(snap_path), "%s", path);
	snprintf(jour_path, sizeof(jour_path), "%s.journal", path);
	do_sync = sync_writes;
	enabled = true;
	return 0;
}

bool es_state_enabled(void)
{
	return enabled;
}

bool es_state_exists(void)
{
	return enabled && access(snap_path, F_OK) == 0;
}

/* ---- the canonical lines ---- */

static void line(struct es_obuf *o, const struct es_cmd *c)
{
	char l[ES_LINE_MAX + 1];
	if (es_cmd_format(c, l, sizeof(l)) < 0) {
		o->oom = true;  /* cannot happen for a parsed command */
		return;
	}
	es_ob_printf(o, "%s\n", l);
}

static int rule_line(void *arg, const struct es_rule *r)
{
	struct es_cmd c;
	es_rule_to_cmd(r, &c);
	line(arg, &c);
	return 0;
}

static int app_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct es_app *const *)a)->name,
		      (*(const struct es_app *const *)b)->name);
}

struct sess_ref {
	uint32_t id;
	const struct es_session *s;
};

static int sess_ref_cmp(const void *a, const void *b)
{
	const struct sess_ref *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int sess_collect(void *arg, const struct es_session *s)
{
	struct sess_ref **e = arg;
	(*e)->id = s->id;
	(*e)->s = s;
	(*e)++;
	return 0;
}

/* the attached hooks, each with its object's hash (a restore refuses
 * an object that changed) */
static void hook_lines(struct es_obuf *o)
{
	unsigned int n;
	const struct es_hook_ent *e = es_hook_list(&n);
	for (unsigned int i = 0; i < n; i++) {
		struct es_cmd c;
		memset(&c, 0, sizeof(c));
		c.obj = ES_OBJ_HOOK;
		c.verb = ES_VERB_ATTACH;
		snprintf(c.u.hook.name, sizeof(c.u.hook.name), "%s", e[i].name);
		snprintf(c.u.hook.obj, sizeof(c.u.hook.obj), "%s", e[i].path);
		snprintf(c.u.hook.sec, sizeof(c.u.hook.sec), "%s", e[i].sec);
		c.u.hook.point = e[i].point;
		c.u.hook.dir = e[i].dir;
		c.u.hook.order = e[i].order;
		c.u.hook.has_hash = 1;
		c.u.hook.hash = e[i].hash;
		line(o, &c);
	}
}

int es_state_lines(struct es_obuf *o)
{
	const struct es_tables *t = es_tables_live;
	const struct es_app *apps[ES_MAX_APPS];
	struct sess_ref *v, *e;
	struct es_cmd c;
	unsigned int na = 0;

	for (uint32_t i = es_neigh_config; i < es_neigh_count(); i++) {
		es_neigh_to_cmd(i, &c);
		line(o, &c);
	}
	for (uint16_t i = 0; i < t->n_apps; i++)
		if (t->apps[i].name[0] != '\0')
			apps[na++] = &t->apps[i];
	qsort(apps, na, sizeof(apps[0]), app_cmp);
	for (unsigned int i = 0; i < na; i++) {
		es_app_to_cmd(apps[i], &c);
		line(o, &c);
	}
	v = e = malloc(((size_t)t->n_sessions + 1) * sizeof(*v));
	if (v == NULL) {
		o->oom = true;
		return -1;
	}
	es_sessions_foreach(t, sess_collect, &e);
	qsort(v, (size_t)(e - v), sizeof(*v), sess_ref_cmp);
	for (struct sess_ref *p = v; p < e; p++) {
		es_session_to_cmd(t, p->s, &c);
		line(o, &c);
	}
	free(v);
	es_rules_foreach(rule_line, o);
	hook_lines(o);
	return o->oom ? -1 : 0;
}

uint64_t es_state_digest(uint64_t *n_lines)
{
	struct es_obuf o = { 0 };
	uint64_t h = 0xcbf29ce484222325ull;  /* FNV-1a 64 */
	*n_lines = 0;
	if (es_state_lines(&o) != 0) {
		es_ob_free(&o);
		return 0;
	}
	for (size_t i = 0; i < o.len; i++) {
		h ^= (uint8_t)o.p[i];
		h *= 0x100000001b3ull;
		*n_lines += o.p[i] == '\n';
	}
	es_ob_free(&o);
	return h;
}

/* ---- files ---- */

static int write_file_atomic(const char *path, const char *data, size_t len,
			     char err[ES_ERR_MAX])
{
	char tmp[4200];
	int fd;
	size_t off = 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail_fd;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail_fd;
	close(fd);
	if (rename(tmp, path) != 0)
		goto fail;
	/* the rename itself, on disk */
	{
		char dir[4200];
		char *slash;
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash == NULL)
			strcpy(dir, ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return 0;
fail_fd:
	close(fd);
fail:
	snprintf(err, ES_ERR_MAX, "cannot write %s: %s", tmp, strerror(errno));
	unlink(tmp);
	return -1;
}

static int journal_open(char err[ES_ERR_MAX])
{
	char head[64];
	int n = snprintf(head, sizeof(head), "# generation %llu\n",
			 (unsigned long long)generation);
	if (jfd >= 0)
		close(jfd);
	jfd = -1;
	if (write_file_atomic(jour_path, head, (size_t)n, err))
		return -1;
	jfd = open(jour_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (jfd < 0) {
		snprintf(err, ES_ERR_MAX, "cannot open %s: %s", jour_path, strerror(errno));
		return -1;
	}
	jlines = 0;
	return 0;
}

int es_state_snapshot(char err[ES_ERR_MAX])
{
	struct es_obuf o = { 0 };
	int rc;
	es_ob_printf(&o, "# edgesteer state generation %llu: neighbours added at run time, apps, sessions, rules\n",
		     (unsigned long long)(generation + 1));
	if (es_state_lines(&o) != 0 || o.oom) {
		snprintf(err, ES_ERR_MAX, "out of memory writing the state");
		es_ob_free(&o);
		return -1;
	}
	rc = write_file_atomic(snap_path, o.p, o.len, err);
	es_ob_free(&o);
	if (rc)
		return -1;
	generation++;
	return journal_open(err);
}

int es_state_journal(const char *lines, size_t len, char err[ES_ERR_MAX])
{
	static const char commit[] = "#commit\n";
	char *buf;
	size_t n = len + sizeof(commit) - 1, off = 0;
	off_t start;
	if (jfd < 0) {
		snprintf(err, ES_ERR_MAX, "state journal %s is not open", jour_path);
		return -1;
	}
	buf = malloc(n);
	if (buf == NULL) {
		snprintf(err, ES_ERR_MAX, "out of memory writing the journal");
		return -1;
	}
	memcpy(buf, lines, len);
	memcpy(buf + len, commit, sizeof(commit) - 1);
	start = lseek(jfd, 0, SEEK_END);
	/* one write: the batch and its commit line together */
	while (off < n) {
		ssize_t w = write(jfd, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, ES_ERR_MAX, "cannot write %s: %s", jour_path,
				 w < 0 ? strerror(errno) : "no space");
			free(buf);
			/* no half batch stays behind */
			if (start >= 0 && ftruncate(jfd, start) != 0)
				fprintf(stderr, "edgesteer: %s: cannot cut a failed write: %s\n",
					jour_path, strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	free(buf);
	if (do_sync && fdatasync(jfd) != 0) {
		snprintf(err, ES_ERR_MAX, "cannot sync %s: %s", jour_path, strerror(errno));
		/* the batch is refused (undone): it must not come back on a
		 * restart either */
		if (start >= 0 && ftruncate(jfd, start) != 0)
			fprintf(stderr, "edgesteer: %s: cannot cut a failed write: %s\n",
				jour_path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		jlines += lines[i] == '\n';
	if (jlines > JOURNAL_COMPACT_LINES) {
		char e2[ES_ERR_MAX];
		if (es_state_snapshot(e2) != 0)
			fprintf(stderr, "edgesteer: state compaction failed (the journal goes on): %s\n", e2);
	}
	return 0;
}

static char *read_file(const char *path, size_t *len, char err[ES_ERR_MAX])
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (f == NULL) {
		snprintf(err, ES_ERR_MAX, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t r;
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 1 << 20);
			if (nb == NULL) {
				snprintf(err, ES_ERR_MAX, "%s: out of memory", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static uint64_t read_generation(const char *buf, size_t len, const char *word)
{
	char head[128];
	size_t l = 0;
	unsigned long long g;
	while (l < len && l < sizeof(head) - 1 && buf[l] != '\n') {
		head[l] = buf[l];
		l++;
	}
	head[l] = '\0';
	{
		const char *p = strstr(head, word);
		if (p == NULL || sscanf(p + strlen(word), " %llu", &g) != 1)
			return UINT64_MAX;
	}
	return g;
}

/* Apply lines [from, to) of buf (line numbers first_line...) in batches
 * of at most RESTORE_CHUNK lines. */
static int restore_snapshot(es_state_apply_fn apply, const char *buf, size_t len,
			    char err[ES_ERR_MAX])
{
	size_t off = 0;
	unsigned int line_no = 1;
	while (off < len) {
		size_t end = off;
		unsigned int lines = 0, first = line_no;
		char e[ES_ERR_MAX];
		while (end < len && lines < RESTORE_CHUNK) {
			const char *nl = memchr(buf + end, '\n', len - end);
			end = nl ? (size_t)(nl - buf) + 1 : len;
			lines++;
		}
		if (apply(buf + off, end - off, e) != 0) {
			unsigned long ln;
			/* "line N: why" within the chunk -> the file's line */
			if (sscanf(e, "line %lu:", &ln) == 1)
				snprintf(err, ES_ERR_MAX, "%s:%lu:%s", snap_path,
					 first + ln - 1, strchr(e, ':') + 1);
			else
				snprintf(err, ES_ERR_MAX, "%s:%u: %s", snap_path, first, e);
			return -1;
		}
		line_no += lines;
		off = end;
	}
	return 0;
}

static int restore_journal(es_state_apply_fn apply, const char *buf, size_t len,
			   char err[ES_ERR_MAX])
{
	size_t off = 0, batch = 0;
	unsigned int line_no = 0, batch_line = 1, batches = 0;
	static const char commit[] = "#commit";
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len;
		size_t l = end - off - (nl != NULL);
		line_no++;
		if (l == sizeof(commit) - 1 && memcmp(buf + off, commit, l) == 0) {
			char e[ES_ERR_MAX];
			if (apply(buf + batch, off - batch, e) != 0) {
				snprintf(err, ES_ERR_MAX, "%s: the batch of lines %u-%u: %s",
					 jour_path, batch_line, line_no - 1, e);
				return -1;
			}
			batches++;
			batch = end;
			batch_line = line_no + 1;
		}
		off = end;
	}
	if (batch < len && memchr(buf + batch, '\n', len - batch) != NULL)
		fprintf(stderr, "edgesteer: %s: the last batch (from line %u) has no #commit: a write cut short, ignored\n",
			jour_path, batch_line);
	if (batches)
		printf("edgesteer: %s: %u batches replayed\n", jour_path, batches);
	return 0;
}

int es_state_restore(es_state_apply_fn apply, char err[ES_ERR_MAX])
{
	char *snap = NULL, *jour = NULL;
	size_t slen = 0, jlen = 0;
	int rc = -1;
	if (!enabled)
		return 0;
	if (access(snap_path, F_OK) == 0) {
		if ((snap = read_file(snap_path, &slen, err)) == NULL)
			return -1;
		generation = read_generation(snap, slen, "generation");
		if (generation == UINT64_MAX) {
			snprintf(err, ES_ERR_MAX, "%s: not an edgesteer state file (no generation line)",
				 snap_path);
			goto out;
		}
		if (restore_snapshot(apply, snap, slen, err))
			goto out;
		if (access(jour_path, F_OK) == 0) {
			if ((jour = read_file(jour_path, &jlen, err)) == NULL)
				goto out;
			if (read_generation(jour, jlen, "generation") == generation) {
				if (restore_journal(apply, jour, jlen, err))
					goto out;
			}
		}
	}
	/* an attach whose object changed, not replaced or deleted later */
	if (es_hook_stale_check(err) != 0)
		goto out;
	/* compact: the restored state becomes the next generation's snapshot */
	rc = es_state_snapshot(err);
out:
	free(snap);
	free(jour);
	return rc;
}
