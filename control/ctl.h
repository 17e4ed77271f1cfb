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
#include "obuf.h"

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

/*
 * Apply n parsed changes (no 'set', 'port' or 'show') as one batch, the
 * same way es_ctl_exec does, with its messages: all or nothing. Nothing
 * is journaled and no End Marker is sent (the config file at start-up).
 * Returns 0, or -1 with err and *failed, the index of the failing
 * command.
 */
int es_ctl_apply(const struct es_cmd *const *c, unsigned int n,
		 unsigned int *failed, char err[ES_ERR_MAX]);

/* es_ctl_exec of a replayed batch (no journal, no output): what
 * es_state_restore (state.h) is given to apply the saved state with. */
int es_ctl_replay(const char *text, size_t len, char err[ES_ERR_MAX]);

#endif
