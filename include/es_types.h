/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The types both planes share, and nothing else: sizes, an address, the
 * enums a port, a rule and an action are written with, and a rule as
 * written (its match fields and actions), which the grammar
 * (control/cmd.h) parses into and the classifier (dataplane/classify.c)
 * builds its contexts from. No DPDK, no libc beyond <stdint.h>.
 *
 * dataplane/ includes this and its own headers only; control/ includes
 * this, its own headers and dataplane/'s. scripts/check_layout.py (make
 * test) holds the rule. steerctl needs none of it: it speaks the wire
 * protocol of control/ctl_proto.h only.
 */
#ifndef ES_TYPES_H
#define ES_TYPES_H

#include <stdint.h>

#define ES_NAME_MAX   32
#define ES_DEV_MAX    64
#define ES_PORT_ADDRS 4
#define ES_ERR_MAX    256

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

/* A rule as written ('rule add', control/cmd.h): what the classifier
 * builds from and what 'rule show' and the state print. The workers do
 * not read it: they read struct es_rule (dataplane/es.h). */
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

#endif
