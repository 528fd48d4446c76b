/*
 * gateway/fed/fed_int.h — internals shared by the files of gateway/fed.
 */
#ifndef GATEWAY_FED_FED_INT_H
#define GATEWAY_FED_FED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/buf.h"
#include "gateway/fed/gw_fed.h"

/* ---- JSON text helpers (json.c) ------------------------------------------ */

/* Decode the escapes of a JSON string's contents (already validated) into
 * out (cap >= len + 1 bytes: decoding never grows text); returns the length. */
size_t fed_json_unescape(const char *p, size_t len, char *out);
/* Pointer just past the JSON value starting at p (whitespace before it
 * skipped).  Only for text the scanner has validated. */
const char *fed_json_skip_value(const char *p, const char *end);
const char *fed_json_skip_ws(const char *p, const char *end);
/* Append `s` (len bytes of UTF-8) as a JSON string with the mandatory
 * escapes (RFC 8259 §7). */
BASE_MUST_CHECK int fed_put_json_str(struct base_buf *b, const char *s, size_t len);

/* tag.c: a member's tagging as JSON text, escaped once per member rather
 * than once per entry: text[0..source_len) is `"source":"…"`, then
 * codings_len bytes of `{…},{…}` (the urn:fhirgate:member codings). */
struct fed_tag_text {
    const char *text;
    size_t source_len;
    size_t codings_len;
};
/* Append the tag text of (source, tags) to b (its data then backs a
 * fed_tag_text whose text is b->data + the returned offset). */
BASE_MUST_CHECK int fed_tag_text_put(struct base_buf *b, const char *source,
                                     const struct gw_fed_tag *tags, size_t n_tags,
                                     size_t *source_len);
/* gw_fed_tag_resource() with the tagging already as text. */
BASE_MUST_CHECK int fed_tag_resource_text(struct base_buf *out, const char *text,
                                          const struct gw_fed_entry *e,
                                          const struct fed_tag_text *t);

/*
 * Iterate the members of a validated JSON object: `p` at '{'.  Each call
 * fills key (contents, decoded into keybuf when escaped; keys longer than
 * keycap are returned truncated with *key_len = SIZE_MAX) and the value span
 * [*val, *val_end), and returns the position after the member; NULL at the
 * closing brace.
 */
struct fed_obj_iter {
    const char *p;
    const char *end;
    bool first;
};
void fed_obj_iter_init(struct fed_obj_iter *it, const char *obj, const char *end);
bool fed_obj_iter_next(struct fed_obj_iter *it, char *keybuf, size_t keycap, size_t *key_len,
                       const char **member_start, const char **val, const char **val_end);

/* ---- clocks ------------------------------------------------------------------ */

int64_t fed_now_us(void);  /* CLOCK_MONOTONIC */
int64_t fed_wall_ms(void); /* CLOCK_REALTIME, Unix ms */

/* ---- sort keys (sortkey.c) --------------------------------------------------- */

struct fhir_search_sortval;
struct fhir_search_sort_key;

/* The default order's key of an entry: the type's clinical date (docs/
 * design/federation.md), else meta.lastUpdated; descending. */
void fed_sort_default(const struct gw_fed_scan *sc, const struct gw_fed_entry *e,
                      struct fhir_search_sortval *out);
/* A _sort key from the scanned fields when the scanner captured what it
 * needs (true), else false: the caller builds a tree of the entry. */
bool fed_sort_fast(const struct gw_fed_scan *sc, const struct gw_fed_entry *e,
                   const struct fhir_search_sort_key *key, struct fhir_search_sortval *out);

/* Date range of a date/dateTime/instant string span (escapes decoded). */
bool fed_date_span(const char *text, struct gw_fed_span s, bool escaped, int64_t *low,
                   int64_t *high);

#endif /* GATEWAY_FED_FED_INT_H */
