/*
 * fhir/json/fhir_json.h — FHIR JSON text <-> jansson trees, losslessly.
 *
 * FHIR requires decimals to keep their text ("1.50" stays "1.50"), which a
 * double cannot.  So the reader here (our own, strict RFC 8259, one pass)
 * builds an ordinary jansson tree except for numbers:
 *   - an integer literal that fits int64 (and is not "-0") becomes json_integer;
 *   - every other number literal becomes a *decimal node*: a jansson string
 *     whose first byte is NUL followed by the literal text ("\0" "1.50").
 * A real string can never start with NUL because the reader rejects U+0000
 * in strings, so the two cannot be confused.
 *
 * Consequences for every caller:
 *   - Use fhir_json_kind() / fhir_json_is_string() / fhir_json_is_number()
 *     instead of json_is_string()/json_is_number(): json_is_string() is true
 *     for a decimal node.
 *   - Serialize with fhir_json_dump(), never json_dumps(): jansson would
 *     print a decimal node as the string "\u00001.50".
 *   - Builders may freely use json_integer()/json_real(); fhir_json_dump()
 *     prints reals with the shortest text that round-trips.  To keep a
 *     decimal's text (e.g. an HL7 v2 NM value), build it with
 *     fhir_json_decimal().
 *
 * Object member order is preserved (jansson keeps insertion order).
 * Trees are plain jansson values: release with json_decref(), or tie them to
 * an arena with fhir_json_tie().
 */
#ifndef FHIR_JSON_FHIR_JSON_H
#define FHIR_JSON_FHIR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"

struct base_arena;

struct fhir_json_limits {
    size_t max_doc;     /* bytes of input */
    size_t max_depth;   /* nesting of objects and arrays */
    size_t max_string;  /* bytes of one decoded string (keys too) */
    size_t max_array;   /* elements of one array */
    size_t max_members; /* members of one object */
};

/* Defaults from fhir/base/limits.h. */
struct fhir_json_limits fhir_json_limits_default(void);

enum fhir_json_kind {
    FHIR_JSON_OBJECT,
    FHIR_JSON_ARRAY,
    FHIR_JSON_STRING,
    FHIR_JSON_NUMBER, /* json_integer, json_real, or a decimal node */
    FHIR_JSON_BOOL,
    FHIR_JSON_NULL
};

/*
 * Parse one JSON document (any value at the top).  `text`/`len` need not
 * be NUL-terminated.  On success *out is a new reference.
 * Errors: BASE_E_PARSE (syntax, invalid UTF-8, U+0000, duplicate key: err->where
 * is "line L, column C"), BASE_E_LIMIT (a limit of `lim` exceeded; where as
 * above), BASE_E_NOMEM.  `lim` may be NULL for the defaults.
 */
BASE_MUST_CHECK int fhir_json_parse(const char *text, size_t len,
                                    const struct fhir_json_limits *lim, json_t **out,
                                    struct base_err *err);

enum fhir_json_dump_flags {
    FHIR_JSON_COMPACT = 0,
    FHIR_JSON_PRETTY = 1u << 0,    /* two-space indent, newline at the end */
    FHIR_JSON_SORT_KEYS = 1u << 1  /* canonical form for comparisons */
};

/*
 * Append the JSON text of `v` to `out`.  Strings are written as UTF-8 with
 * the mandatory escapes only.  BASE_E_LIMIT when `out` reaches its maximum,
 * BASE_E_INVALID for a value JSON cannot express (NaN, infinity) or depth
 * beyond 1000.
 */
BASE_MUST_CHECK int fhir_json_dump(const json_t *v, unsigned flags, struct base_buf *out,
                                   struct base_err *err);

/* Serialize into a NUL-terminated string allocated in `a` (NULL on failure). */
BASE_MUST_CHECK char *fhir_json_dump_arena(const json_t *v, unsigned flags,
                                           struct base_arena *a, size_t *out_len);

enum fhir_json_kind fhir_json_kind(const json_t *v);
bool fhir_json_is_string(const json_t *v); /* a real string, not a decimal node */
bool fhir_json_is_number(const json_t *v); /* integer, real or decimal node */
bool fhir_json_is_decimal_node(const json_t *v);

/* Value of a real string as a slice (empty slice when `v` is not one). */
struct base_str fhir_json_str(const json_t *v);

/*
 * A decimal node from number text ("1.50", "-0", "6.02e23").  Returns NULL
 * (no reference) when `text` is not a valid JSON number.
 */
json_t *fhir_json_decimal(const char *text, size_t len);

/* Is `text` a JSON number (RFC 8259 grammar)? */
bool fhir_json_number_syntax_ok(const char *text, size_t len);

/*
 * How many bytes at the start of `text` a JSON string holds as they are:
 * not '"', '\\' or a control character (< 0x20), and, unless
 * `utf8_is_plain`, ASCII (readers validate UTF-8 sequences themselves).
 * Exact; sixteen bytes at a time where SSE2 is available.  For scanners of
 * JSON text (the reader, the writer, fhir/validate's one-pass path).
 */
size_t fhir_json_plain_len(const char *text, size_t len, bool utf8_is_plain);

/*
 * The exact text of a number: the literal for a decimal node, "%lld" for an
 * integer, the shortest round-trip form for a real.  Writes into buf (cap
 * >= 32 recommended; a longer literal is returned by pointer into the node)
 * and returns the slice; empty slice when `v` is not a number.
 */
struct base_str fhir_json_number_text(const json_t *v, char *buf, size_t cap);
/* Numeric value as a double (NaN when `v` is not a number). */
double fhir_json_number_double(const json_t *v);
/* Integer value; false if `v` is not an integral number within int64. */
bool fhir_json_number_i64(const json_t *v, int64_t *out);

/* Deep equality that treats decimal text exactly ("1.50" != "1.5"). */
bool fhir_json_equal(const json_t *a, const json_t *b);

/* json_decref(v) when `a` is freed (v's reference is taken over). */
BASE_MUST_CHECK int fhir_json_tie(struct base_arena *a, json_t *v);

#endif /* FHIR_JSON_FHIR_JSON_H */
