/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef ES_STATE_H
#define ES_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "es_types.h"
#include "obuf.h"

/* state.c: persistence of apps, sessions, rules and run-time neighbours.
 * FILE holds a snapshot (config lines), FILE.journal the batches applied
 * since, each ending in a "#commit" line. */
int es_state_init(const char *path, bool sync_writes);
bool es_state_enabled(void);
/* Is there a saved state to restore (the snapshot file exists)? */
bool es_state_exists(void);
/* Apply the snapshot, then every committed journal batch, each through
 * apply (es_ctl_replay: the batch engine, ctl.h; passed in so that the
 * state does not depend on the socket server); then write a fresh
 * snapshot. Before the workers start. */
typedef int (*es_state_apply_fn)(const char *text, size_t len,
				 char err[ES_ERR_MAX]);
int es_state_restore(es_state_apply_fn apply, char err[ES_ERR_MAX]);
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
