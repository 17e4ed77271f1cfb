/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Publishing a changed table set to the workers (see es.h).
 *
 * Only the control thread (the main lcore) changes tables. A change
 * clones the live set (a shallow copy: the session array, the hashes,
 * the rule slots are shared), swaps the members it replaces, and
 * publishes the clone: an atomic store, then an RCU grace period, so
 * that when es_tables_publish() returns no worker still reads the old
 * set. Only then may the caller free the members it replaced.
 */
#include <string.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include "es.h"

/* What the workers read beside the tables: filled at start-up by the
 * config loader (control/config.c), read-only once the workers run. */
struct es_port es_ports[ES_MAX_PORTS];
uint16_t es_n_ports;
struct es_settings es_set;

struct es_tables *es_tables_clone(const struct es_tables *t)
{
	struct es_tables *n = rte_malloc("es_tables", sizeof(*n), RTE_CACHE_LINE_SIZE);
	if (n != NULL)
		memcpy(n, t, sizeof(*n));
	return n;
}

uint16_t es_apps_live(const struct es_tables *t)
{
	uint16_t n = 0;
	for (uint16_t i = 0; i < t->n_apps; i++)
		n += t->apps[i].name[0] != '\0';
	return n;
}

void es_tables_sync(void)
{
	/* no RCU variable: no worker runs (unit tests, start-up) */
	if (es_rcu != NULL)
		rte_rcu_qsbr_synchronize(es_rcu, RTE_QSBR_THRID_INVALID);
}

void es_tables_publish(struct es_tables *nt)
{
	struct es_tables *old = es_tables_live;
	__atomic_store_n(&es_tables_live, nt, __ATOMIC_RELEASE);
	es_tables_sync();
	if (old != nt)
		rte_free(old);
}

int es_app_find(const struct es_tables *t, const char *name)
{
	for (int i = 0; i < t->n_apps; i++)
		if (strcmp(t->apps[i].name, name) == 0)
			return i;
	return -1;
}
