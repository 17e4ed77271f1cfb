/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the command grammar (control/cmd.c). The input is
 * taken as one NUL-terminated line and, again, line by line (split on
 * '\n'). For each line:
 *  - es_cmd_parse returns -1, 0 or 1; on -1 the reason is one non-empty
 *    line shorter than ES_ERR_MAX;
 *  - on 1, es_cmd_format gives a line of at most ES_LINE_MAX characters
 *    that parses back to a struct equal (memcmp) to the first, and that
 *    formats to the same text again (a fixed point);
 *  - es_cmd_format into smaller buffers (0, 1, 2, half, one and two short;
 *    heap, exactly that size, so AddressSanitizer sees one byte too far)
 *    returns -1, writes a NUL-terminated prefix and nothing past the end;
 *  - es_cmd_fields gives non-empty keys and values, and flags among
 *    NUM|POS|LIST, with NUM values all digits.
 * Any violation aborts, which libFuzzer reports with the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

#define CHECK(cond, ...) do {                                           \
		if (!(cond)) {                                          \
			fprintf(stderr, "fuzz_cmd: " __VA_ARGS__);      \
			fputc('\n', stderr);                            \
			abort();                                        \
		}                                                       \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_field(void *arg, const char *key, const char *value,
		       unsigned int flags)
{
	int *n = arg;
	CHECK(key && *key, "empty key");
	CHECK(value && *value, "empty value for '%s'", key);
	CHECK(strlen(value) < ES_LINE_MAX, "value of '%s' too long", key);
	CHECK((flags & ~(ES_FIELD_NUM | ES_FIELD_POS | ES_FIELD_LIST)) == 0,
	      "bad flags %u for '%s'", flags, key);
	if (flags & ES_FIELD_NUM)
		for (const char *c = value; *c; c++)
			CHECK(*c >= '0' && *c <= '9', "NUM field '%s' = '%s'", key, value);
	for (const char *c = value; *c; c++)
		CHECK(*c != ' ' && *c != '\t' && *c != '\n' && *c != '#',
		      "value '%s' of '%s' is not one word", value, key);
	(*n)++;
	return 0;
}

static void check_line(const char *line)
{
	struct es_cmd c, c2;
	char err[ES_ERR_MAX], out[ES_LINE_MAX + 1], again[ES_LINE_MAX + 1];
	int rc, len, n = 0;

	rc = es_cmd_parse(line, &c, err);
	CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
	if (rc == -1) {
		size_t el = strnlen(err, ES_ERR_MAX);
		CHECK(el > 0 && el < ES_ERR_MAX, "error not one short line");
		CHECK(strchr(err, '\n') == NULL, "error has a newline: %s", err);
		return;
	}
	CHECK(err[0] == '\0', "err not cleared: %s", err);
	if (rc == 0)
		return;
	CHECK(es_cmd_fields(&c, check_field, &n) == 0, "es_cmd_fields failed");

	len = es_cmd_format(&c, out, sizeof(out));
	CHECK(len > 0 && (size_t)len == strlen(out) && len <= ES_LINE_MAX,
	      "format: %d for '%s'", len, line);
	rc = es_cmd_parse(out, &c2, err);
	CHECK(rc == 1, "'%s' -> '%s' does not parse: %s", line, out, err);
	CHECK(memcmp(&c, &c2, sizeof(c)) == 0,
	      "'%s' -> '%s' parses to another command", line, out);
	CHECK(es_cmd_format(&c2, again, sizeof(again)) == len &&
	      strcmp(out, again) == 0, "'%s' -> '%s' -> '%s'", line, out, again);

	/* too small: -1, a NUL-terminated prefix, nothing past the end */
	size_t sizes[] = { 0, 1, 2, (size_t)len / 2, (size_t)len - 1, (size_t)len };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t sz = sizes[k];
		char *b = malloc(sz ? sz : 1);
		CHECK(b != NULL, "malloc");
		CHECK(es_cmd_format(&c, sz ? b : NULL, sz) == -1,
		      "format into %zu bytes of a %d-character line", sz, len);
		if (sz) {
			CHECK(b[sz - 1] == '\0' || strlen(b) < sz, "no NUL");
			CHECK(strncmp(b, out, strlen(b)) == 0, "not a prefix");
			CHECK(strlen(b) == sz - 1, "prefix shorter than room");
		}
		free(b);
	}
	{
		char *b = malloc((size_t)len + 1);
		CHECK(b != NULL, "malloc");
		CHECK(es_cmd_format(&c, b, (size_t)len + 1) == len &&
		      strcmp(b, out) == 0, "exact-size buffer");
		free(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *p, *nl;
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_line(s);            /* the whole input, up to its first NUL */
	for (p = s; p != NULL; p = nl ? nl + 1 : NULL) {
		nl = memchr(p, '\n', size - (size_t)(p - s));
		if (nl)
			*nl = '\0';
		if (nl == NULL && p == s)
			break;    /* one line: already checked */
		check_line(p);
	}
	free(s);
	return 0;
}
