/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The edgesteer command grammar, shared by the config file and steerctl:
 * one command per line, words separated by blanks, '#' starts a comment.
 * Keywords are matched exactly (no prefixes). A command is
 * OBJECT VERB ARGS; 'show OBJECT ARGS' is the same as 'OBJECT show ARGS'.
 * The config file holds only 'set' and 'add' lines (control/config.c);
 * the other verbs are for steerctl at run time. docs/control.md has the
 * whole grammar with examples.
 *
 *   set KEY VALUE
 *   port add NAME dev DEVICE role access|core|local addr A/PLEN [addr ...]
 *            [gw ADDR] [gw6 ADDR] [mtu N] [mac MAC]
 *   port show [NAME]
 *   neigh add ADDR lladdr MAC port NAME
 *   neigh show
 *   app add NAME via ADDR [state up|down]
 *   app change NAME [via ADDR] [state up|down]        (at least one)
 *   app del NAME
 *   app show [NAME]
 *   session add ID [ue A4] [ue6 A6/64] ul-teid N gnb ADDR gnb-teid N
 *            [cloud ADDR cloud-teid N] [n9-teid N] [qfi N]
 *   session change ID [gnb ADDR gnb-teid N] [cloud ADDR cloud-teid N]
 *            [qfi N]                                  (at least one)
 *   session del ID
 *   session show [ID]
 *   rule add PRIO [dir ul|dl] [ue P] [src P] [dst P] [proto NAME|N]
 *            [sport N[-M]] [dport N[-M]] [qfi N] [dscp N] [teid N]
 *            action local APP|cloud|drop|forward|mirror APP
 *            [then local APP|cloud|drop|forward] [fallback cloud|drop]
 *   rule change PRIO ...      (the words of 'rule add': replaces the rule)
 *   rule del PRIO
 *   rule show [PRIO]
 *   counters show [NAME]
 *   state show
 *   latency show
 *   hook attach NAME at after-parse|after-classify|before-tx [dir ul|dl]
 *            obj FILE [sec SECTION] [order N] [hash HEX]
 *   hook del NAME
 *   hook show [NAME]
 *   hook trace [NAME]
 *
 * Parsing only checks words and values; references between objects (an
 * app named by a rule, a port named by a neighbour) and whether the object
 * exists are checked when the command is applied. No function here
 * allocates or keeps state; all are safe to call from any thread.
 */
#ifndef ES_CMD_H
#define ES_CMD_H

#include <stdint.h>
#include <stddef.h>
#include "es_types.h"

#define ES_MAX_WORDS  64

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

/* has_via/has_state: which fields a 'change' gives; always 1 for 'add'
 * (its state defaults to up). */
struct es_cmd_app {
	char name[ES_NAME_MAX];
	struct es_addr via;
	uint8_t down;
	uint8_t has_via, has_state;
};

/* For 'change', has_gnb (gnb + gnb-teid), has_cloud (cloud + cloud-teid)
 * and has_qfi say which fields were given; for 'add', has_gnb and has_qfi
 * are always 1 (qfi defaults to 0) and the other has_* say what was given. */
struct es_cmd_session {
	uint32_t id;
	uint8_t has_ue4, has_ue6, has_cloud, has_n9;
	uint8_t has_gnb, has_qfi;
	struct es_addr ue4, ue6;
	uint32_t ul_teid;
	struct es_addr gnb;
	uint32_t gnb_teid;
	struct es_addr cloud;
	uint32_t cloud_teid;
	uint32_t n9_teid;
	uint8_t qfi;
};

/* struct es_cmd_rule, a rule as written: es_types.h */

/* hook attach NAME at POINT [dir ul|dl] obj FILE [sec SECTION] [order N]
 *             [hash HEX]
 * point: 0 after-parse, 1 after-classify, 2 before-tx (ES_HOOK_* of
 * ebpf/es_hook.h); dir 0 ul, 1 dl. sec defaults to "hook". hash (16 hex
 * digits, the object file's FNV-1a 64) is what the state journal writes:
 * given, the object must still have it. */
#define ES_CMD_PATH_MAX 256
#define ES_CMD_SEC_MAX  64
struct es_cmd_hook {
	char name[ES_NAME_MAX];
	char obj[ES_CMD_PATH_MAX];
	char sec[ES_CMD_SEC_MAX];
	uint8_t point, dir;
	uint8_t has_hash;
	uint32_t order;
	uint64_t hash;
};
extern const char *const es_hook_point_words[3];

/* Objects and verbs: append only, the numbers are kept. */
enum es_obj { ES_OBJ_SET, ES_OBJ_PORT, ES_OBJ_NEIGH, ES_OBJ_APP,
	      ES_OBJ_SESSION, ES_OBJ_RULE, ES_OBJ_COUNTERS, ES_OBJ_STATE,
	      ES_OBJ_LATENCY, ES_OBJ_HOOK };
enum es_verb { ES_VERB_ADD, ES_VERB_SET, ES_VERB_CHANGE, ES_VERB_DEL,
	       ES_VERB_SHOW, ES_VERB_ATTACH, ES_VERB_TRACE };
#define ES_OBJ_COUNT  10
#define ES_VERB_COUNT 7

/*
 * One parsed command. has_key: 1 for del and change, and for a show that
 * names one object; the key is then in the object's own field: rule
 * u.rule.prio, app u.app.name, session u.session.id, port u.port.name,
 * counters u.set.key, hook u.hook.name. 0 for add, set and a show of everything. 'rule
 * change' fills u.rule exactly as 'rule add' does.
 */
struct es_cmd {
	uint8_t obj;     /* enum es_obj */
	uint8_t verb;    /* enum es_verb */
	uint8_t has_key;
	union {
		struct es_cmd_set set;   /* also counters: u.set.key */
		struct es_cmd_port port;
		struct es_cmd_neigh neigh;
		struct es_cmd_app app;
		struct es_cmd_session session;
		struct es_cmd_rule rule;
		struct es_cmd_hook hook;
	} u;
};

/* The longest line es_cmd_parse takes, NUL excluded. */
#define ES_LINE_MAX 1023

/*
 * Parse one line (NUL-terminated; at most ES_LINE_MAX characters). Returns
 * 1 and fills *cmd for a command, 0 for a blank or comment-only line, -1
 * on error with a one-line reason in err (which quotes the offending
 * word, every byte outside printable ASCII written \xNN: es_escape).
 * *cmd is zeroed first (padding included), so two parses of equivalent
 * lines compare equal with memcmp.
 */
int es_cmd_parse(const char *line, struct es_cmd *cmd, char err[ES_ERR_MAX]);

/*
 * Copy the NUL-terminated s into dst (len bytes, len > 0), writing every
 * byte outside printable ASCII (0x20..0x7e) as \xNN (lower-case hex) and
 * keeping the rest, so that text quoted back to a terminal or a log
 * holds no control byte. Stops before an escape that would not fit;
 * dst is always NUL-terminated. Returns the length written.
 */
size_t es_escape(char *dst, size_t len, const char *s);

/* es_cmd_fields flags */
#define ES_FIELD_NUM  1u  /* the value is a decimal number (JSON number) */
#define ES_FIELD_POS  2u  /* positional: text shows the value only (no key) */
#define ES_FIELD_LIST 4u  /* the key repeats, once per item (port addr): a
			   * JSON printer collects the values in an array */

/*
 * Called once per field: key is the grammar word (or, for a positional
 * field, its name: prio, id, name, addr, key, value, app, then-app), value
 * its text in the grammar's form. Both are only valid during the call.
 * Return 0 to go on; any other value stops the walk and is returned by
 * es_cmd_fields.
 */
typedef int (*es_field_fn)(void *arg, const char *key, const char *value,
			   unsigned int flags);

/*
 * Walk the fields of a command in canonical order (the words after
 * OBJECT VERB; for 'set', after 'set'). Numbers are decimal, addresses as
 * es_addr_str gives them (prefixes with /PLEN), port ranges N or N-M.
 * Fields the parser restores by default (dir ul, sport/dport 0-65535,
 * fallback cloud, then forward after mirror) are left out. For show, del
 * and change only the fields the command carries are given (the key, and
 * what a change changes). Returns 0, the first non-zero value emit
 * returned, or -1 when c->obj or c->verb is not a known pair.
 * Thread safety: none needed (no state).
 */
int es_cmd_fields(const struct es_cmd *c, es_field_fn emit, void *arg);

/*
 * Write the canonical text line of c ("OBJECT VERB FIELDS...", no newline)
 * into buf. For any command es_cmd_parse returned, the line parses back to
 * a struct equal to *c (memcmp), and is at most ES_LINE_MAX characters.
 * Returns the line's length, or -1 when c is not a known object/verb pair
 * or the line does not fit in len bytes (buf then holds a NUL-terminated
 * prefix of it when len > 0). Never writes past buf[len - 1].
 */
int es_cmd_format(const struct es_cmd *c, char *buf, size_t len);

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
/* The grammar words of enum es_obj and enum es_verb. */
extern const char *const es_obj_names[ES_OBJ_COUNT];
extern const char *const es_verb_names[ES_VERB_COUNT];

#endif
