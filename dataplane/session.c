/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session tables (BRIEF §3): a dense array of sessions and rte_hash
 * indexes on it by uplink TEID, N9 TEID, UE IPv4 address, UE IPv6 /64
 * prefix and session id. Hash values are array indexes.
 */
#include <stdio.h>
#include <string.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_errno.h>
#include "es.h"

static struct rte_hash *hash_new(const char *tag, uint32_t entries,
				 uint32_t key_len, int socket)
{
	static unsigned int gen;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries < 8 ? 8 : entries,
		.key_len = key_len,
		/* CRC32 instructions (SSE4.2), software fallback otherwise */
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		/* lock-free readers: workers look up while control adds;
		 * the extendable bucket table makes 'entries' a guaranteed
		 * capacity (plain cuckoo can fail a little below it) */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	snprintf(name, sizeof(name), "es_%s_%u", tag, gen++);
	return rte_hash_create(&p);
}

int es_sessions_create(struct es_tables *t, uint32_t max, int socket)
{
	t->max_sessions = max;
	t->n_sessions = 0;
	t->sessions = rte_zmalloc_socket("es_sessions",
					 (size_t)max * sizeof(struct es_session),
					 RTE_CACHE_LINE_SIZE, socket);
	t->by_ul_teid = hash_new("ul", max, 4, socket);
	t->by_n9_teid = hash_new("n9", max, 4, socket);
	t->by_ue4 = hash_new("ue4", max, 4, socket);
	t->by_ue6 = hash_new("ue6", max, 8, socket);
	t->by_id = hash_new("sid", max, 4, socket);
	if (!t->sessions || !t->by_ul_teid || !t->by_n9_teid || !t->by_ue4 ||
	    !t->by_ue6 || !t->by_id) {
		es_sessions_free(t);
		return -1;
	}
	return 0;
}

void es_sessions_free(struct es_tables *t)
{
	rte_hash_free(t->by_ul_teid);
	rte_hash_free(t->by_n9_teid);
	rte_hash_free(t->by_ue4);
	rte_hash_free(t->by_ue6);
	rte_hash_free(t->by_id);
	rte_free(t->sessions);
	t->by_ul_teid = t->by_n9_teid = t->by_ue4 = t->by_ue6 = NULL;
	t->by_id = NULL;
	t->sessions = NULL;
}

int es_session_add(struct es_tables *t, const struct es_session *s,
		   char err[ES_ERR_MAX])
{
	uint32_t idx = t->n_sessions;
	uintptr_t data = idx;

	if (idx >= t->max_sessions) {
		snprintf(err, ES_ERR_MAX,
			 "session %u: table full (%u sessions; raise 'set sessions-max')",
			 s->id, t->max_sessions);
		return -1;
	}
	if (rte_hash_lookup(t->by_id, &s->id) >= 0) {
		snprintf(err, ES_ERR_MAX, "session %u already exists", s->id);
		return -1;
	}
	if (rte_hash_lookup(t->by_ul_teid, &s->ul_teid) >= 0) {
		snprintf(err, ES_ERR_MAX, "session %u: ul-teid %u already used",
			 s->id, s->ul_teid);
		return -1;
	}
	if (s->n9_teid && rte_hash_lookup(t->by_n9_teid, &s->n9_teid) >= 0) {
		snprintf(err, ES_ERR_MAX, "session %u: n9-teid %u already used",
			 s->id, s->n9_teid);
		return -1;
	}
	if (s->has_ue4 && rte_hash_lookup(t->by_ue4, &s->ue4_be) >= 0) {
		snprintf(err, ES_ERR_MAX, "session %u: ue address already used",
			 s->id);
		return -1;
	}
	if (s->has_ue6 && rte_hash_lookup(t->by_ue6, s->ue6) >= 0) {
		snprintf(err, ES_ERR_MAX, "session %u: ue6 prefix already used",
			 s->id);
		return -1;
	}
	/* The entry is complete before any index points at it. */
	t->sessions[idx] = *s;
	if (rte_hash_add_key_data(t->by_id, &s->id, (void *)data) ||
	    rte_hash_add_key_data(t->by_ul_teid, &s->ul_teid, (void *)data) ||
	    (s->n9_teid && rte_hash_add_key_data(t->by_n9_teid, &s->n9_teid, (void *)data)) ||
	    (s->has_ue4 && rte_hash_add_key_data(t->by_ue4, &s->ue4_be, (void *)data)) ||
	    (s->has_ue6 && rte_hash_add_key_data(t->by_ue6, s->ue6, (void *)data))) {
		snprintf(err, ES_ERR_MAX, "session %u: hash table full", s->id);
		rte_hash_del_key(t->by_id, &s->id);
		rte_hash_del_key(t->by_ul_teid, &s->ul_teid);
		if (s->n9_teid)
			rte_hash_del_key(t->by_n9_teid, &s->n9_teid);
		if (s->has_ue4)
			rte_hash_del_key(t->by_ue4, &s->ue4_be);
		if (s->has_ue6)
			rte_hash_del_key(t->by_ue6, s->ue6);
		return -1;
	}
	t->n_sessions++;
	return 0;
}
