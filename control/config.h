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
void es_settings_default(struct es_settings *s);
/* Set before es_config_load when a saved state will be restored: the
 * config's app, session and rule lines are then not applied. */
extern bool es_config_skip_state;

#endif
