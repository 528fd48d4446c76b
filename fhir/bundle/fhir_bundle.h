/*
 * fhir/bundle/fhir_bundle.h — Bundle resources (FHIR R4 §2.36): searchset,
 * collection, transaction-response and batch-response; paging links; and a
 * streaming writer that splices already-serialized entries, so the
 * gateway's federated merge need not build a tree of every member answer.
 */
#ifndef FHIR_BUNDLE_FHIR_BUNDLE_H
#define FHIR_BUNDLE_FHIR_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct base_arena;

enum fhir_bundle_type {
    FHIR_BUNDLE_SEARCHSET,
    FHIR_BUNDLE_COLLECTION,
    FHIR_BUNDLE_TRANSACTION_RESPONSE,
    FHIR_BUNDLE_BATCH_RESPONSE,
    FHIR_BUNDLE_HISTORY
};

/* Bundle.entry.search.mode (searchset only). */
enum fhir_bundle_mode {
    FHIR_BUNDLE_MODE_NONE, /* no search element (collection, responses) */
    FHIR_BUNDLE_MODE_MATCH,
    FHIR_BUNDLE_MODE_INCLUDE,
    FHIR_BUNDLE_MODE_OUTCOME
};

const char *fhir_bundle_type_code(enum fhir_bundle_type t); /* "searchset", … */

/* ---- tree builder -------------------------------------------------------- */

/* New Bundle {"resourceType":"Bundle","id":…,"type":…,"timestamp":…};
 * `id` and `timestamp` (an instant) may be NULL.  NULL when out of memory. */
json_t *fhir_bundle_new(enum fhir_bundle_type type, const char *id, const char *timestamp);

/* Bundle.total (searchset and history only: bdl-1). */
BASE_MUST_CHECK int fhir_bundle_set_total(json_t *bundle, uint64_t total);

/* Append a Bundle.link {relation, url}. */
BASE_MUST_CHECK int fhir_bundle_add_link(json_t *bundle, const char *relation, const char *url);

/*
 * Append an entry.  `resource` is taken over (its reference is stolen,
 * even on failure); `full_url` may be NULL; `score` is decimal text
 * ("0.8") or NULL.  For a searchset a mode other than NONE adds
 * entry.search.  BASE_E_INVALID when `score` is not a decimal.
 */
BASE_MUST_CHECK int fhir_bundle_add_entry(json_t *bundle, const char *full_url, json_t *resource,
                                          enum fhir_bundle_mode mode, const char *score);

/* An OperationOutcome entry with search.mode = outcome (the partial-result
 * report of a federated search).  `oo` is stolen. */
BASE_MUST_CHECK int fhir_bundle_add_outcome(json_t *bundle, json_t *oo);

/* A transaction-/batch-response entry: response.status ("201 Created"),
 * optional location, etag, lastModified (instant) and outcome (stolen);
 * `resource` (stolen) may be NULL. */
struct fhir_bundle_response {
    const char *status;
    const char *location;
    const char *etag;
    const char *last_modified;
    json_t *outcome;
};
BASE_MUST_CHECK int fhir_bundle_add_response(json_t *bundle, json_t *resource,
                                             const struct fhir_bundle_response *r);

/* ---- URLs and paging ------------------------------------------------------ */

/* "[base]/[type]/[id]" for entry.fullUrl (trailing '/' of base ignored). */
char *fhir_bundle_full_url(struct base_arena *a, const char *base_url, const char *type,
                           const char *id);

/*
 * "[base]/[type]?[query]&_cursor=[cursor]" (`query` is a canonical query
 * from fhir_search_canonical_query, may be NULL or empty; `cursor` NULL for
 * none; it is percent-encoded).  NULL when the arena is exhausted.
 */
char *fhir_bundle_page_url(struct base_arena *a, const char *base_url, const char *type,
                           const char *query, const char *cursor);

/* What a searchset page links to (R4 §3.1.1.6 paging). */
struct fhir_bundle_paging {
    const char *base_url;      /* "https://gw.example/fhir" */
    const char *resource_type; /* "Observation" */
    const char *query;         /* canonical query */
    const char *self_cursor;   /* this page; NULL for the first */
    const char *next_cursor;   /* NULL on the last page */
    const char *prev_cursor;   /* NULL on the first page; "" = the first page */
    bool first;                /* add a "first" link */
};

/* The link array {self, first?, previous?, next?} of a page. */
json_t *fhir_bundle_paging_links(struct base_arena *a, const struct fhir_bundle_paging *p);
/* Append those links to a Bundle. */
BASE_MUST_CHECK int fhir_bundle_add_paging_links(struct base_arena *a, json_t *bundle,
                                                 const struct fhir_bundle_paging *p);

/* ---- streaming writer ---------------------------------------------------- */

struct fhir_bundle_link {
    const char *relation;
    const char *url;
};

struct fhir_bundle_header {
    enum fhir_bundle_type type;
    const char *id;        /* may be NULL */
    const char *timestamp; /* instant, may be NULL */
    bool has_total;
    uint64_t total;
    const struct fhir_bundle_link *links;
    size_t n_links;
};

/* Writes one Bundle's JSON text (compact) into a bounded buffer.  Fields
 * are private; use the functions.  Errors are sticky: after one, every
 * call returns it and the text is incomplete. */
struct fhir_bundle_writer {
    struct base_buf *out;
    size_t n_entries;
    int rc;
    bool open;
    size_t max_depth;
};

BASE_MUST_CHECK int fhir_bundle_writer_begin(struct fhir_bundle_writer *w, struct base_buf *out,
                                             const struct fhir_bundle_header *h);

/*
 * An entry whose resource is JSON text (e.g. a span of a member's answer).
 * The text is syntax-checked (one JSON object, RFC 8259, valid UTF-8, depth
 * within BASE_LIMIT_FHIR_MAX_DEPTH) but not parsed into a tree, then copied
 * verbatim, so a member cannot break out of its entry.  BASE_E_PARSE with
 * err->where = "byte N" when it is not.  Duplicate member names are not
 * detected (that needs memory per object); parse the text first where
 * strictness matters more than speed.
 */
BASE_MUST_CHECK int fhir_bundle_writer_entry_raw(struct fhir_bundle_writer *w, const char *full_url,
                                                 const char *resource_json, size_t len,
                                                 enum fhir_bundle_mode mode, const char *score,
                                                 struct base_err *err);

/*
 * The same for text the caller has already validated with a check at least
 * as strict as fhir_bundle_json_object_check() (the gateway's federated
 * merge scans every member answer strictly before splicing; a second pass
 * cost it half its CPU).  Only the braces are checked again.  Anything not
 * validated that way must go through fhir_bundle_writer_entry_raw().
 */
/* The same, with the resource written by `fn` straight into the Bundle's
 * buffer (no copy through a buffer of the caller's); `fn` returns BASE_OK
 * or an error, and what it wrote must start with '{' and end with '}'. */
typedef int (*fhir_bundle_resource_fn)(struct base_buf *out, void *ctx);
BASE_MUST_CHECK int fhir_bundle_writer_entry_checked_fn(struct fhir_bundle_writer *w,
                                                        const char *full_url,
                                                        fhir_bundle_resource_fn fn, void *ctx,
                                                        enum fhir_bundle_mode mode,
                                                        const char *score);
BASE_MUST_CHECK int fhir_bundle_writer_entry_checked(struct fhir_bundle_writer *w,
                                                     const char *full_url,
                                                     const char *resource_json, size_t len,
                                                     enum fhir_bundle_mode mode,
                                                     const char *score);

/* An entry from a tree (serialized with fhir_json_dump). */
BASE_MUST_CHECK int fhir_bundle_writer_entry(struct fhir_bundle_writer *w, const char *full_url,
                                             const json_t *resource, enum fhir_bundle_mode mode,
                                             const char *score);

/* Close the entry array and the Bundle. */
BASE_MUST_CHECK int fhir_bundle_writer_end(struct fhir_bundle_writer *w);

/*
 * Is text[0..len) exactly one JSON object (surrounding whitespace allowed)?
 * A non-allocating RFC 8259 syntax check; BASE_E_PARSE / BASE_E_LIMIT with
 * err->where = "byte N".  Decimal text is not interpreted.
 */
BASE_MUST_CHECK int fhir_bundle_json_object_check(const char *text, size_t len, size_t max_depth,
                                                  struct base_err *err);

#endif /* FHIR_BUNDLE_FHIR_BUNDLE_H */
