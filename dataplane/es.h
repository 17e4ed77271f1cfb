/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime types shared by the data plane stages: ports, peers (F-TEIDs),
 * sessions, apps, rules and the tables that hold them.
 *
 * The tables a control change touches sit behind one pointer
 * (es_tables_live); workers load it once per burst and report a
 * quiescent state to es_rcu after each loop, so a new table set can be
 * published with an atomic store and the old one freed after
 * rte_rcu_qsbr_synchronize().
 */
#ifndef ES_H
#define ES_H

#include <stdint.h>
#include <stdbool.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include "counters.h"
#include "es_types.h"
#include "frag.h"

#define ES_MAX_PORTS      16
#define ES_MAX_APPS       256
#define ES_MAX_NEIGH      1024
#define ES_BURST          32
#define ES_TXB            (4 * ES_BURST)   /* tx buffer per port and worker */
#define ES_MAX_WORKERS    RTE_MAX_LCORE

/* A port as the workers see it. */
struct es_port {
	char name[ES_NAME_MAX];
	char dev[ES_DEV_MAX];
	uint16_t port_id;        /* DPDK port id */
	uint8_t role;            /* enum es_role */
	uint8_t n_addr;
	uint16_t mtu;            /* IP MTU */
	uint16_t nb_queues;
	struct rte_ether_addr mac;
	struct es_addr addr[ES_PORT_ADDRS];
	/* first IPv4 / IPv6 address: the source of packets we originate */
	uint8_t has4, has6;
	uint8_t src4[4];
	uint8_t src6[16];
	uint8_t has_gw4, has_gw6;
	struct es_addr gw4, gw6;
	/* the addresses again, per family, for the per-packet check */
	uint8_t n4, n6;
	uint32_t a4[ES_PORT_ADDRS];          /* network order */
	uint8_t a6[ES_PORT_ADDRS][16];
};

/* A peer to send to: an F-TEID, an app's next hop or a request's source. */
struct es_peer {
	uint8_t v6;
	uint8_t port;            /* index into es_ports[] */
	uint8_t addr[16];        /* network order; IPv4 in addr[0..3] */
	struct rte_ether_addr mac;
};

/* The outer Ethernet + IP + UDP (2152 -> 2152) toward a tunnel peer,
 * built once at load (encap.c es_tpl_build) so that encapsulation is a
 * copy and two lengths. */
struct es_tpl {
	uint8_t len;             /* 42 (IPv4) or 62 (IPv6) */
	uint8_t v6;
	uint16_t ip4_cksum0;     /* IPv4 header checksum with total length 0 */
	uint8_t hdr[62];
};

/* A session (BRIEF §3). Kept small: see docs/architecture.md. Peers
 * (gNBs, central UPFs) are shared by many sessions and live in the
 * tables' peer array; a session holds their indexes. */
struct es_session {
	uint32_t id;
	uint32_t ue4_be;
	uint8_t  ue6[8];         /* /64 prefix */
	uint8_t  has_ue4, has_ue6, has_cloud, qfi;
	uint32_t ul_teid;        /* local N3 TEID, gNBs send uplink to it */
	uint32_t n9_teid;        /* local N9 TEID, cloud sends downlink to it */
	uint32_t gnb_teid;
	uint32_t cloud_teid;
	uint16_t gnb;            /* index into es_tables.peers */
	uint16_t cloud;          /* index into es_tables.peers (has_cloud) */
};

#define ES_MAX_PEERS      4096

struct es_app {
	char name[ES_NAME_MAX];
	struct es_addr via;
	struct es_peer hop;
	volatile uint8_t down;   /* health: read by workers, set by control */
};

/* A rule as the workers read it, its app names resolved: classify's
 * result indexes an array of these and the action reads the rest.
 * 12 bytes; it was 156 with the parsed command embedded (action at byte
 * 84). The rule as written (struct es_cmd_rule: the classifier's builders,
 * 'rule show' and the state read it, no worker does) is kept beside it
 * by the control side, in es_tables.rule_defs, indexed the same way. */
struct es_rule {
	uint32_t prio;
	uint8_t action, then_action, fallback;   /* enum es_act */
	uint16_t app;            /* index into apps (local/mirror) */
	uint16_t then_app;
};

/* The fields of r that come from d as they are (the app indexes are
 * resolved by name: control/rules.c es_rule_from_cmd). */
static inline void es_rule_set(struct es_rule *r, const struct es_cmd_rule *d)
{
	r->prio = d->prio;
	r->action = d->action;
	r->then_action = d->then_action;
	r->fallback = d->fallback;
}

struct rte_hash;
struct rte_acl_ctx;

/* The base rule contexts (classify.c), per family and direction:
 * c[v6][dl], NULL when no rule is of that family and direction. */
struct es_acl {
	struct rte_acl_ctx *c[2][2];
};
struct es_sidx;
struct es_tss;
struct es_dfilt;

struct es_tables {
	/* sessions: slots of an array (index = hash value), live count
	 * n_sessions <= max_sessions; sess_cap slots (max_sessions plus
	 * spares for changes in flight); control-side slot bookkeeping in
	 * sess_ctl (session.c) */
	uint32_t n_sessions, max_sessions, sess_cap;
	struct es_session *sessions;
	struct es_sess_ctl *sess_ctl;
	/* 4-byte keys: es_sidx (sidx.h), shared by clones of the set */
	struct es_sidx *by_ul_teid;    /* key: uint32 TEID (host) -> index */
	struct es_sidx *by_n9_teid;
	struct es_sidx *by_ue4;        /* key: uint32 UE IPv4 (network) */
	struct rte_hash *by_ue6;       /* key: 8-byte /64 prefix */
	struct rte_hash *by_id;        /* key: uint32 session id */
	/* rules (rules.c): a slot array of n_slots entries, of which
	 * n_rules are live (max_rules: 'set rules-max'). A published slot
	 * is never written. Results are slot + 1, bounded against n_slots
	 * before use. acl: the base contexts; tss: the rules changed
	 * since the base was built, in a tuple space (classify.h; NULL
	 * when empty); kill: per slot, the rules generation from which a
	 * base rule is gone (deleted or replaced; ES_GEN_NEVER: live);
	 * rgen: the rules generation of this set. rules_delta is 0 when
	 * there is neither delta nor dead base rule (the fast path). */
	uint32_t n_rules, max_rules, n_slots;
	struct es_rule *rules;
	/* rules[i] as written (same index); control side only: no worker
	 * reads it (rules.c owns it once es_rules_init ran) */
	struct es_cmd_rule *rule_defs;
	struct es_acl acl;
	const struct es_tss *tss;
	const uint64_t *kill;
	uint64_t rgen;
	/* the destination pre-filter (classify.h; NULL: none), shared by
	 * every set, changed in place by rules.c */
	const struct es_dfilt *dfilt;
	uint8_t rules_delta;
	/* apps */
	uint16_t n_apps;
	struct es_app *apps;
	/* gNBs and central UPFs, shared by sessions, and their headers */
	uint16_t n_peers;
	struct es_peer *peers;
	struct es_tpl *tpls;
	/* DPDK heap bytes taken by the session tables (array + indexes,
	 * sized for max_sessions) and by the built rte_acl contexts */
	uint64_t mem_sessions, mem_rules;
};

/* tables.c: changes by the control thread only. es_tables_clone makes a
 * shallow copy of t (NULL when out of memory); es_tables_publish makes nt
 * live, waits until no worker reads the old set (RCU) and frees the old
 * struct (not its members: the caller frees what it replaced, after this
 * returns). es_tables_sync waits for one grace period. */
struct es_tables *es_tables_clone(const struct es_tables *t);
void es_tables_publish(struct es_tables *nt);
void es_tables_sync(void);
/* The apps of t: 'app del' leaves a slot with an empty name in the app
 * array (n_apps counts the slots), which this does not count. What the
 * start-up line, /edgesteer/info and 'state show' report. */
uint16_t es_apps_live(const struct es_tables *t);

/* DPDK heap bytes in use on the caller's socket. */
uint64_t es_heap_used(void);

/* Global configuration values ("set KEY VALUE"). */
struct es_settings {
	uint32_t sessions_max;
	uint32_t rules_max;
	uint32_t mbufs;
	uint32_t mbuf_size;       /* data room after headroom */
	uint32_t recovery;        /* Restart Counter sent in Echo Response */
	uint32_t errind_rate;     /* Error Indications per second per worker */
	uint32_t frag_timeout_ms;
	uint32_t frag_max;        /* packets in reassembly per worker */
	uint32_t frag_mbufs;      /* mbufs reassembly may hold per worker; 0: the
				   * default share (es_frag_mbufs) */
	uint32_t rxd, txd;
	uint32_t gtpu_padding;    /* 1: bytes after the GTP-U length are padding */
	uint32_t acl_simd;        /* rte_acl SIMD bits, or ES_ACL_SIMD_AUTO */
	uint32_t icmp_rate;       /* ICMP errors per second per worker */
};

extern struct es_port es_ports[ES_MAX_PORTS];
extern uint16_t es_n_ports;
extern struct es_settings es_set;
extern struct es_tables *es_tables_live;
extern struct rte_mempool *es_pool;
extern struct rte_rcu_qsbr *es_rcu;

/* The mbufs reassembly may hold per worker: 'set frag-mbufs', or by
 * default mbufs / ES_FRAG_POOL_SHARE / es_n_workers (frag.h); checked
 * against that share when the config loads (control/config.c). Inline:
 * the set-up of the workers and the config loader both read it. */
extern unsigned int es_n_workers;
static inline uint32_t es_frag_mbufs(void)
{
	if (es_set.frag_mbufs)
		return es_set.frag_mbufs;
	return es_set.mbufs / ES_FRAG_POOL_SHARE / (es_n_workers ? es_n_workers : 1);
}

/* session.c */
int es_sessions_create(struct es_tables *t, uint32_t max, int socket);
/* Add a session (its keys must be free). Lock-free for concurrent
 * readers: the slot is complete before any index points at it. */
int es_session_add(struct es_tables *t, const struct es_session *s,
		   char err[ES_ERR_MAX]);
/* The slot index of session id, or -1. */
int64_t es_session_find(const struct es_tables *t, uint32_t id);
/* Delete session id: its keys leave every index at once; the slot and
 * the index positions are reused only after es_sessions_reclaim(). */
int es_session_del(struct es_tables *t, uint32_t id, char err[ES_ERR_MAX]);
/* Replace session s->id by s (same keys: id, ul-teid, n9-teid, UE
 * addresses): a new slot, then every index repointed to it, so readers
 * see the old or the new session whole, never a mix. */
int es_session_replace(struct es_tables *t, const struct es_session *s,
		       char err[ES_ERR_MAX]);
/* After an RCU grace period (es_tables_sync): reuse what deletes and
 * replaces released. */
void es_sessions_reclaim(struct es_tables *t);
/* Call fn for every live session, in no particular order; stops and
 * returns fn's value when it is non-zero. */
int es_sessions_foreach(const struct es_tables *t,
			int (*fn)(void *arg, const struct es_session *s),
			void *arg);
void es_sessions_free(struct es_tables *t);

/* classify.c: build the ACL contexts t->acl from t->rule_defs[0..n_rules)
 * (sorted here by priority with t->rules, whose fields but the app
 * indexes are set from them; results are index + 1). Used by unit tests;
 * the daemon builds through rules.c (es_rules_init). */
int es_classify_build(struct es_tables *t, char err[ES_ERR_MAX]);
void es_classify_free(struct es_tables *t);

/* tables.c: an app's index by name (-1: none). */
int es_app_find(const struct es_tables *t, const char *name);

#endif
