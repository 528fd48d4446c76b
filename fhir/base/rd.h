/*
 * fhir/base/rd.h — a read cursor over a byte slice.
 *
 * Every accessor checks the remaining length; on failure the cursor does not
 * move.  Callers may read the fields but only move the cursor through the
 * functions.
 */
#ifndef FHIR_BASE_RD_H
#define FHIR_BASE_RD_H

#include <stdbool.h>
#include <stddef.h>

#include "fhir/base/str.h"

struct base_rd {
    const char *p; /* start of the whole input */
    size_t len;    /* total length */
    size_t off;    /* current offset, 0 <= off <= len */
};

void base_rd_init(struct base_rd *rd, const char *p, size_t len);
bool base_rd_empty(const struct base_rd *rd);
size_t base_rd_remaining(const struct base_rd *rd);
struct base_str base_rd_rest(const struct base_rd *rd);
/* Next byte without consuming it; false at the end. */
bool base_rd_peek(const struct base_rd *rd, char *out);
/* Consume one byte; false at the end. */
bool base_rd_getc(struct base_rd *rd, char *out);
/* Consume exactly n bytes; false (cursor unchanged) if fewer remain. */
bool base_rd_take(struct base_rd *rd, size_t n, struct base_str *out);
/* Consume up to (not including) `delim`, then the delimiter itself if
 * present.  Never fails: returns the remainder when no delimiter is left. */
struct base_str base_rd_take_until(struct base_rd *rd, char delim);
/* Consume `lit` if the input continues with it. */
bool base_rd_accept(struct base_rd *rd, const char *lit);
bool base_rd_skip(struct base_rd *rd, size_t n);

#endif /* FHIR_BASE_RD_H */
