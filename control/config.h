/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader (config.c): the config file into es_ports, es_set and
 * a first table set, and the conversions between the grammar's commands
 * (cmd.h) and the tables' entries that the control socket and the state
 * use. Control thread only.
 */
#ifndef ES_CONFIG_H
#define ES_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "cmd.h"
#include "es.h"

/* config.c: read a config file into es_ports, es_set and a new table
 * set. On error prints "FILE:LINE: reason" to stderr and returns -1. */
int es_config_load(const char *path, struct es_tables **out);
/* Apply one parsed command to the tables being built. */
int es_config_apply(struct es_tables *t, const struct es_cmd *c,
		    char err[ES_ERR_MAX]);
void es_settings_default(struct es_settings *s);
/* Set before es_config_load when a saved state will be restored: the
 * config's app, session and rule lines are then not applied. */
extern bool es_config_skip_state;

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
