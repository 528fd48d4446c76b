/*
 * fhir/base/buf.h — growable byte buffer with a hard maximum.
 *
 * Appending past `max` fails with BASE_E_LIMIT; nothing is ever truncated
 * silently.  The data is heap memory owned by the buffer and always kept
 * NUL-terminated (the NUL is not counted in len).  Callers may read `data`
 * and `len`; everything else is private.
 */
#ifndef FHIR_BASE_BUF_H
#define FHIR_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "fhir/base/compat.h"
#include "fhir/base/str.h"

struct base_arena;

struct base_buf {
    char *data; /* NULL until the first append */
    size_t len; /* bytes used */
    size_t cap; /* private */
    size_t max; /* private: most bytes it may hold (0 = SIZE_MAX / 2) */
};

void base_buf_init(struct base_buf *b, size_t max);
void base_buf_fini(struct base_buf *b);  /* frees data; safe twice */
void base_buf_reset(struct base_buf *b); /* len = 0, keeps memory */
/* Make room for `more` bytes.  BASE_E_LIMIT past max, BASE_E_NOMEM. */
BASE_MUST_CHECK int base_buf_reserve(struct base_buf *b, size_t more);
BASE_MUST_CHECK int base_buf_append(struct base_buf *b, const void *p, size_t n);
/* base_buf_append with the common case (it fits) inline, for serializers
 * that append a few bytes at a time. */
BASE_MUST_CHECK static inline int
base_buf_append_fast(struct base_buf *b, const void *p, size_t n)
{
    /* cap never exceeds max + 1, so fitting within cap respects max */
    if (b->data == NULL || n >= b->cap - b->len)
        return base_buf_append(b, p, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0; /* BASE_OK */
}
BASE_MUST_CHECK int base_buf_append_cstr(struct base_buf *b, const char *s);
BASE_MUST_CHECK int base_buf_append_str(struct base_buf *b, struct base_str s);
BASE_MUST_CHECK int base_buf_putc(struct base_buf *b, char c);
BASE_MUST_CHECK int base_buf_appendf(struct base_buf *b, const char *fmt, ...) BASE_PRINTF(2, 3);
BASE_MUST_CHECK int base_buf_vappendf(struct base_buf *b, const char *fmt, va_list ap)
    BASE_PRINTF(2, 0);
struct base_str base_buf_str(const struct base_buf *b);
/* Free the buffer when `a` is freed (the buffer struct itself must live in
 * `a` or outlive it). */
BASE_MUST_CHECK int base_buf_tie(struct base_buf *b, struct base_arena *a);
/* Copy the contents into the arena (NUL-terminated). */
BASE_MUST_CHECK char *base_buf_dup0(const struct base_buf *b, struct base_arena *a);

#endif /* FHIR_BASE_BUF_H */
