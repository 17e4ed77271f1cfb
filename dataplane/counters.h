/* SPDX-License-Identifier: BSD-3-Clause */
/* Counter ids, kinds, names and help, all generated from counters.def. */
#ifndef ES_COUNTERS_H
#define ES_COUNTERS_H

#include <stdint.h>

enum es_cnt_kind { ES_KIND_PKT, ES_KIND_DROP, ES_KIND_INFO };

enum es_cnt {
	ES_CNT_NONE = 0, /* "no drop": never counted */
#define ES_CNT(id, kind, name, help) ES_CNT_##id,
#include "counters.def"
#undef ES_CNT
	ES_CNT_MAX
};

struct es_cnt_desc {
	const char *name;
	const char *help;
	enum es_cnt_kind kind;
};

/* Indexed by enum es_cnt; entry 0 is the unnamed "none". */
extern const struct es_cnt_desc es_cnt_desc[ES_CNT_MAX];

/* Counter id for a name, or -1. */
int es_cnt_by_name(const char *name);

#endif
