/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The edgesteer command grammar, shared by the config file and (later)
 * steerctl: one command per line, words separated by blanks, '#' starts
 * a comment. Keywords are matched exactly (no prefixes).
 *
 *   set KEY VALUE
 *   port add NAME dev DEVICE role access|core|local addr A/PLEN [addr ...]
 *            [gw ADDR] [gw6 ADDR] [mtu N] [mac MAC]
 *   neigh add ADDR lladdr MAC port NAME
 *   app add NAME via ADDR [state up|down]
 *   session add ID [ue A4] [ue6 A6/64] ul-teid N gnb ADDR gnb-teid N
 *            [cloud ADDR cloud-teid N] [n9-teid N] [qfi N]
 *   rule add PRIO [dir ul|dl] [ue P] [src P] [dst P] [proto NAME|N]
 *            [sport N[-M]] [dport N[-M]] [qfi N] [dscp N] [teid N]
 *            action local APP|cloud|drop|forward|mirror APP
 *            [then local APP|cloud|drop|forward] [fallback cloud|drop]
 *
 * Parsing only checks words and values; references between objects (an
 * app named by a rule, a port named by a neighbour) are checked when the
 * command is applied. No function here allocates or keeps state.
 */
#ifndef ES_CMD_H
#define ES_CMD_H

#include <stdint.h>
#include <stddef.h>

#define ES_NAME_MAX   32
#define ES_DEV_MAX    64
#define ES_PORT_ADDRS 4
#define ES_ERR_MAX    256
#define ES_MAX_WORDS  64

struct es_addr {
	uint8_t v6;        /* 0: IPv4 in a[0..3] */
	uint8_t plen;      /* prefix length (32/128 for a host) */
	uint8_t a[16];     /* network order */
};

enum es_role { ES_ROLE_ACCESS = 0, ES_ROLE_CORE, ES_ROLE_LOCAL };
enum es_dir { ES_DIR_ANY = 0, ES_DIR_UL = 1, ES_DIR_DL = 2 };
enum es_act {
	ES_ACT_NONE = 0, ES_ACT_LOCAL, ES_ACT_CLOUD, ES_ACT_DROP,
	ES_ACT_FORWARD, ES_ACT_MIRROR,
};

struct es_cmd_set {
	char key[ES_NAME_MAX];
	uint64_t value;
};

struct es_cmd_port {
	char name[ES_NAME_MAX];
	char dev[ES_DEV_MAX];
	uint8_t role;
	uint8_t n_addr;
	uint8_t has_gw4, has_gw6, has_mac;
	struct es_addr addr[ES_PORT_ADDRS];
	struct es_addr gw4, gw6;
	uint8_t mac[6];
	uint32_t mtu;            /* 0: default */
};

struct es_cmd_neigh {
	struct es_addr addr;
	uint8_t mac[6];
	char port[ES_NAME_MAX];
};

struct es_cmd_app {
	char name[ES_NAME_MAX];
	struct es_addr via;
	uint8_t down;
};

struct es_cmd_session {
	uint32_t id;
	uint8_t has_ue4, has_ue6, has_cloud, has_n9;
	struct es_addr ue4, ue6;
	uint32_t ul_teid;
	struct es_addr gnb;
	uint32_t gnb_teid;
	struct es_addr cloud;
	uint32_t cloud_teid;
	uint32_t n9_teid;
	uint8_t qfi;
};

struct es_cmd_rule {
	uint32_t prio;
	uint8_t dir;                          /* enum es_dir */
	uint8_t has_ue, has_src, has_dst, has_proto, has_qfi, has_dscp;
	uint8_t has_teid;
	struct es_addr ue, src, dst;
	uint8_t proto, qfi, dscp;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint32_t teid;
	uint8_t action, then_action, fallback; /* enum es_act */
	char app[ES_NAME_MAX];                 /* local/mirror target */
	char then_app[ES_NAME_MAX];
};

enum es_obj { ES_OBJ_SET, ES_OBJ_PORT, ES_OBJ_NEIGH, ES_OBJ_APP,
	      ES_OBJ_SESSION, ES_OBJ_RULE };
enum es_verb { ES_VERB_ADD, ES_VERB_SET, ES_VERB_CHANGE, ES_VERB_DEL,
	       ES_VERB_SHOW };

struct es_cmd {
	uint8_t obj;   /* enum es_obj */
	uint8_t verb;  /* enum es_verb */
	union {
		struct es_cmd_set set;
		struct es_cmd_port port;
		struct es_cmd_neigh neigh;
		struct es_cmd_app app;
		struct es_cmd_session session;
		struct es_cmd_rule rule;
	} u;
};

/*
 * Parse one line. Returns 1 and fills *cmd for a command, 0 for a blank
 * or comment-only line, -1 on error with a one-line reason in err (which
 * quotes the offending word).
 */
int es_cmd_parse(const char *line, struct es_cmd *cmd, char err[ES_ERR_MAX]);

/* Value parsers, shared with the CLI. Each returns 0 or -1 (empty,
 * trailing junk, out of range). */
int es_parse_u64(const char *s, uint64_t max, uint64_t *out);
int es_parse_addr(const char *s, int want_prefix, struct es_addr *out);
int es_parse_mac(const char *s, uint8_t mac[6]);

/* Format an address (with /plen when with_plen) into buf. */
const char *es_addr_str(const struct es_addr *a, int with_plen, char *buf,
			size_t len);

/* Does prefix p contain address a (same family)? */
int es_addr_in_prefix(const struct es_addr *p, const struct es_addr *a);

extern const char *const es_role_names[3];
extern const char *const es_act_names[6];

#endif
