/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control path: the control socket (control/ctl_proto.h) served by
 * the main lcore, and the one function every change goes through, from
 * steerctl, from a batch file or from the state journal at start-up.
 * Everything here runs on the control thread (the main lcore) only; the
 * workers see a change through es_tables_live and RCU (tables.c).
 */
#ifndef ES_CTL_H
#define ES_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include "es.h"

/* A growing output buffer; oom is set (and text dropped) when it cannot
 * grow. */
struct es_obuf {
	char *p;
	size_t len, cap;
	bool oom;
};
void es_ob_printf(struct es_obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void es_ob_free(struct es_obuf *o);

/* The control socket's client time-outs (--ctl-idle-timeout,
 * --ctl-send-timeout), milliseconds: their defaults and range. */
#define ES_CTL_IDLE_MS_DEF 60000u
#define ES_CTL_SEND_MS_DEF 10000u
#define ES_CTL_TIMEOUT_MS_MIN 100u
#define ES_CTL_TIMEOUT_MS_MAX 86400000u

/* Listen on the Unix socket path (mode 0600). A socket file nobody
 * listens on (a dead daemon's) is replaced; a live one, and a path that
 * exists and is not a socket, are refused and left alone. A client that
 * sends nothing for idle_timeout_ms while no answer is pending is
 * closed; one that takes no byte of its answer for send_timeout_ms is
 * dropped. Returns 0, or -1 with err. */
int es_ctl_open(const char *path, uint32_t idle_timeout_ms,
		uint32_t send_timeout_ms, char err[ES_ERR_MAX]);
/* Serve clients for up to timeout_ms (the main lcore's wait); never
 * waits on one client (non-blocking sockets, answers sent as the client
 * reads them). */
void es_ctl_poll(int timeout_ms);
/* Close every client and the socket, and remove the socket file. */
void es_ctl_close(void);

/*
 * Run a request: len bytes of command lines (control/cmd.h grammar).
 * A single 'show' prints into out (JSON with json). Otherwise every line
 * is a change and the batch applies all or nothing: on any error nothing
 * changed (undone), err holds the reason ("line N: ..." when the text
 * has several lines) and -1 is returned. When 0 is returned the change
 * is live on every worker and written to the state journal (if any).
 * journal: false while replaying the state (snapshot or journal): nothing
 * is journaled and no End Marker is sent for a replayed session change.
 */
int es_ctl_exec(const char *text, size_t len, bool json, bool journal,
		struct es_obuf *out, char err[ES_ERR_MAX]);

/* state.c: persistence of apps, sessions, rules and run-time neighbours.
 * FILE holds a snapshot (config lines), FILE.journal the batches applied
 * since, each ending in a "#commit" line. */
int es_state_init(const char *path, bool sync_writes);
bool es_state_enabled(void);
/* Is there a saved state to restore (the snapshot file exists)? */
bool es_state_exists(void);
/* Apply the snapshot, then every committed journal batch; then write a
 * fresh snapshot. Before the workers start. */
int es_state_restore(char err[ES_ERR_MAX]);
/* Append one applied batch (canonical lines) to the journal. */
int es_state_journal(const char *lines, size_t len, char err[ES_ERR_MAX]);
/* Write the live state as a new snapshot (atomically) and empty the
 * journal. */
int es_state_snapshot(char err[ES_ERR_MAX]);
/* The canonical lines of the live apps, sessions, rules (sorted by
 * name, id, priority), and their FNV-1a 64-bit digest. */
int es_state_lines(struct es_obuf *o);
uint64_t es_state_digest(uint64_t *n_lines);

/* Neighbours that came from the config (the rest were added at run time
 * and belong to the saved state). Set after the config is loaded. */
extern uint32_t es_neigh_config;

#endif
