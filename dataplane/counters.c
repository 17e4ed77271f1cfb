/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>
#include "counters.h"

const struct es_cnt_desc es_cnt_desc[ES_CNT_MAX] = {
	[ES_CNT_NONE] = { "none", "not a counter", ES_KIND_INFO },
#define ES_CNT(id, kind, name, help) [ES_CNT_##id] = { name, help, ES_KIND_##kind },
#include "counters.def"
#undef ES_CNT
};

int es_cnt_by_name(const char *name)
{
	for (int i = 1; i < ES_CNT_MAX; i++)
		if (strcmp(es_cnt_desc[i].name, name) == 0)
			return i;
	return -1;
}
