/* SPDX-License-Identifier: BSD-3-Clause */
/* A growing output buffer (obuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "obuf.h"

void es_ob_printf(struct es_obuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (o == NULL || o->oom)
		return;
	for (;;) {
		size_t room = o->cap - o->len;
		va_start(ap, fmt);
		n = vsnprintf(o->p ? o->p + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = o->cap ? o->cap * 2 : 4096;
			char *p;
			while (cap - o->len <= (size_t)n)
				cap *= 2;
			p = realloc(o->p, cap);
			if (p == NULL) {
				o->oom = true;
				return;
			}
			o->p = p;
			o->cap = cap;
		}
	}
}

void es_ob_free(struct es_obuf *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}
