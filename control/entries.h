/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tables' entries from and to the grammar's commands (entries.c):
 * next-hop resolution, peers, sessions, apps, static neighbours. Control
 * thread only.
 */
#ifndef ES_ENTRIES_H
#define ES_ENTRIES_H

#include <stdint.h>
#include "cmd.h"
#include "es.h"

/* The index of config port name, -1 if none. */
int es_port_by_name(const char *name);

/* For the control socket: the index of the peer for addr on a port of role (added if new, -1 and
 * err on failure); a session from its command (peers resolved); the
 * commands that recreate a session or an app (canonical 'add' lines);
 * an app's next hop on a local port. */
int es_peer_index(struct es_tables *t, const struct es_addr *addr,
		  uint8_t role, char err[ES_ERR_MAX]);
int es_session_from_cmd(struct es_tables *t, const struct es_cmd_session *c,
			struct es_session *s, char err[ES_ERR_MAX]);
void es_session_to_cmd(const struct es_tables *t, const struct es_session *s,
		       struct es_cmd *c);
void es_app_to_cmd(const struct es_app *a, struct es_cmd *c);
int es_app_resolve(const struct es_addr *via, struct es_peer *hop,
		   char err[ES_ERR_MAX]);
/* Static neighbours: add one (as 'neigh add'), how many there are, drop
 * those after the first n (undo), the command that recreates entry i. */
int es_neigh_add(const struct es_cmd_neigh *c, char err[ES_ERR_MAX]);
uint32_t es_neigh_count(void);
void es_neigh_truncate(uint32_t n);
void es_neigh_to_cmd(uint32_t i, struct es_cmd *c);

/* Resolve the next hop (port, MAC) toward addr on a port of role. */
int es_resolve_peer(const struct es_addr *addr, uint8_t role,
		    struct es_peer *out, char err[ES_ERR_MAX]);

#endif
