/* SPDX-License-Identifier: BSD-3-Clause */
/* The output buffer of the control side (obuf.c): what 'show' and the
 * state's canonical lines are printed into. Control thread only. */
#ifndef ES_OBUF_H
#define ES_OBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A growing output buffer; oom is set (and text dropped) when it cannot
 * grow. */
struct es_obuf {
	char *p;
	size_t len, cap;
	bool oom;
};
void es_ob_printf(struct es_obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void es_ob_free(struct es_obuf *o);

#endif
