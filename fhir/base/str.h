/*
 * fhir/base/str.h — string slices and small string utilities.
 *
 * struct base_str is a borrowed view {ptr, len}; it is never assumed to be
 * NUL-terminated.  Callers may read both fields.  Use base_str_dup0() only
 * at the boundary to an API that needs a C string.
 */
#ifndef FHIR_BASE_STR_H
#define FHIR_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/compat.h"

struct base_arena;

struct base_str {
    const char *ptr; /* may be NULL only when len == 0 */
    size_t len;
};

#define BASE_STR_LIT(s) ((struct base_str){(s), sizeof(s) - 1})
#define BASE_STR_NULL   ((struct base_str){NULL, 0})

struct base_str base_str_from_cstr(const char *s); /* NULL -> empty */
struct base_str base_str_make(const char *p, size_t len);
bool base_str_eq(struct base_str a, struct base_str b);
bool base_str_eq_cstr(struct base_str a, const char *s);
bool base_str_case_eq_cstr(struct base_str a, const char *s); /* ASCII case-insensitive */
bool base_str_starts_with(struct base_str s, const char *prefix);
bool base_str_ends_with(struct base_str s, const char *suffix);
/* Index of the first `c` at or after `from`, or -1. */
long base_str_find_chr(struct base_str s, char c, size_t from);
struct base_str base_str_sub(struct base_str s, size_t from, size_t len); /* clamped */
struct base_str base_str_trim(struct base_str s);                        /* ASCII space */
/* Split at the first `c`: head before, tail after (tail empty, found=false if none). */
bool base_str_cut(struct base_str s, char c, struct base_str *head, struct base_str *tail);
/* NUL-terminated copy in the arena; NULL when the arena is exhausted. */
BASE_MUST_CHECK char *base_str_dup0(struct base_arena *a, struct base_str s);

/* Strict decimal integer: optional sign, digits only, no spaces, in range. */
BASE_MUST_CHECK bool base_str_to_i64(struct base_str s, int64_t *out);
BASE_MUST_CHECK bool base_str_to_u64(struct base_str s, uint64_t *out);

/*
 * UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * Returns true when valid; otherwise false and *bad_off (if not NULL) is the
 * offset of the first bad byte.
 */
bool base_utf8_valid(const char *p, size_t len, size_t *bad_off);
/* Append the UTF-8 encoding of `cp` to out (needs 4 bytes); returns length or 0. */
size_t base_utf8_encode(uint32_t cp, char out[4]);

#endif /* FHIR_BASE_STR_H */
