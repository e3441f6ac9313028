// nn/json_internal.h - a small strict JSON reader, enough for safetensors headers.
//
// A cursor over a byte buffer (not NUL-terminated). The caller drives it by the schema it
// expects: cg_json_expect('{'), cg_json_string(...), ... Every function returns false on
// malformed input after writing a reason ("expected ':' at byte 17") into r->error; the
// first error sticks, so a parse can check once at the end. Strict RFC 8259 where it
// matters here: no trailing commas, no comments, no leading zeros, no control characters
// in strings, valid escapes (\uXXXX with surrogate pairs becomes UTF-8).
#ifndef CG_JSON_INTERNAL_H
#define CG_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct cg_json_reader {
    const char *text;
    size_t length, pos;
    char error[160];
} cg_json_reader;

void cg_json_init(cg_json_reader *r, const char *text, size_t length);
// Skip whitespace and consume `c` if it is next; cg_json_expect reports if it is not.
bool cg_json_accept(cg_json_reader *r, char c);
bool cg_json_expect(cg_json_reader *r, char c);
// Parse a string into out (NUL-terminated, at most size-1 bytes: longer is an error).
// Strings holding "\u0000" are rejected (names are C strings).
bool cg_json_string(cg_json_reader *r, char *out, size_t size);
// Parse a non-negative integer (no sign, fraction or exponent) up to 2^63-1.
bool cg_json_uint(cg_json_reader *r, int64_t *out);
// True if only whitespace is left.
bool cg_json_at_end(cg_json_reader *r);
// Record an error at the current position (printf-style); returns false.
bool cg_json_fail(cg_json_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// qsort's comparison of two C strings (const char *), for sorting names and keys.
static inline int cg_compare_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#endif
