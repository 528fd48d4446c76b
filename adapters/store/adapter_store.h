/*
 * adapters/store/adapter_store.h — the adapter's FHIR R4 store in
 * PostgreSQL (schema `store`, migrations schemas/sql/adapter/0010-0012).
 *
 * Writes: transaction Bundles (FHIR R4 §3.1.0.11 "transaction"), one at a
 * time or many in ONE database transaction (one commit, one fsync), each in
 * its own SAVEPOINT so that a bad message fails alone.  Conditional
 * create/update/delete, urn:uuid fullUrls resolved to logical ids, an
 * identical update makes no new version, meta.versionId / meta.lastUpdated
 * are the store's.  An ingest ledger (source + message id) makes the same
 * message twice a no-op that gets the same answer.
 *
 * Reads: read, vread, search (a parsed struct fhir_search compiled into
 * one parameterized SQL statement over the index tables), Patient
 * $everything, and the "changed since" pull the gateway uses.  Rows stream
 * to a callback; the *_bundle variants write a searchset Bundle.
 *
 * Every function takes a plain libpq connection that is not inside a
 * transaction.  Only PQexecParams with parameters is used; error texts
 * never contain SQL or values (err->log_detail carries the SQLSTATE).
 */
#ifndef ADAPTERS_STORE_ADAPTER_STORE_H
#define ADAPTERS_STORE_ADAPTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/search/fhir_search.h"

struct base_arena;

/* ------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------- */

/* What happened to one entry (R4 transaction-response semantics). */
enum adapter_store_action {
    ADAPTER_STORE_CREATED,   /* 201: new resource, version 1 */
    ADAPTER_STORE_UPDATED,   /* 200: new version */
    ADAPTER_STORE_UNCHANGED, /* 200: content identical (meta ignored): no new version */
    ADAPTER_STORE_DELETED,   /* 204: new, deleted version */
    ADAPTER_STORE_MATCHED    /* 200: ifNoneExist found it / 204: nothing to delete */
};

const char *adapter_store_action_name(enum adapter_store_action a); /* "created", … */

struct adapter_store_entry {
    const char *type;        /* "Patient" */
    const char *id;          /* logical id (NULL: a delete that found nothing) */
    uint32_t version;        /* current version after the entry (0: none) */
    int64_t last_updated_us; /* meta.lastUpdated of that version */
    enum adapter_store_action action;
    int status; /* 201, 200 or 204 */
};

struct adapter_store_result {
    int rc;              /* BASE_OK, or why the Bundle was refused (nothing of it applied) */
    int status;          /* HTTP status: 200, or 400/404/409/412/422/500/503 */
    struct base_err err; /* on failure; err.where = "Bundle.entry[3].request.url", … */
    bool replayed;       /* the ledger already had this message: nothing was done again */
    const char *ack;     /* acknowledgement recorded in the ledger (new or replayed), or NULL */
    struct adapter_store_entry *entries; /* one per Bundle entry, in Bundle order */
    size_t n_entries;
};

/*
 * Builds the acknowledgement to record for an item, from its result, before
 * the transaction commits (the listener sends it only after the commit).
 * Return BASE_OK with *ack (arena text, may be NULL for none).
 */
typedef int (*adapter_store_ack_fn)(void *ctx, const struct adapter_store_result *r,
                                    struct base_arena *a, const char **ack);

/*
 * Uses of local codes a converter saw in one message (the code-map report,
 * issue #3): code NULL with mapped = true counts the system's mapped codes,
 * code NULL with mapped = false unmapped codes the converter did not list.
 */
struct adapter_store_code_use {
    const char *system;
    const char *code;
    bool mapped;
    uint64_t uses;
};

/* One message of a batch. */
struct adapter_store_item {
    const json_t *bundle;                /* a transaction Bundle; NULL when the message
                                            was refused before conversion */
    const struct base_err *refused;      /* bundle == NULL: why (recorded, status 400) */
    const char *source;                  /* sender ("LAB^HOSP-A"); NULL: not in the ledger */
    const char *message_id;              /* e.g. MSH-10 */
    const unsigned char *message_sha256; /* of the raw message, may be NULL */
    adapter_store_ack_fn ack;            /* may be NULL */
    void *ack_ctx;
    /* Added to the code-map report when the message commits and changes the
     * store (a repeat changes nothing, counts included). */
    const struct adapter_store_code_use *code_uses;
    size_t n_code_uses;
};

struct adapter_store_opts {
    const char *base_url; /* this adapter's FHIR base ("https://a.example/fhir"), may be NULL */
    int64_t now_us;       /* "now" for date `ap`; 0 = the clock (tests fix it) */
};

/*
 * Apply n items in one database transaction with one commit.  Each Bundle
 * runs in its own SAVEPOINT: a Bundle that fails (412 on an ambiguous
 * conditional match, a bad entry, a database error of its own) is rolled
 * back alone and recorded in results[i]; the others commit.  Returns
 * BASE_OK once the transaction committed (results[] then describe durable
 * outcomes), or an error when the whole batch failed (connection lost,
 * commit failed): then nothing of it is durable and nothing may be
 * acknowledged.  results[] has n elements and is filled in any case; its
 * memory is in `a`.
 */
BASE_MUST_CHECK int adapter_store_apply_batch(PGconn *c, struct base_arena *a,
                                              const struct adapter_store_opts *o,
                                              const struct adapter_store_item *items, size_t n,
                                              struct adapter_store_result *results,
                                              struct base_err *err);

/* One Bundle in its own transaction (no ledger).  Returns out->rc. */
BASE_MUST_CHECK int adapter_store_apply(PGconn *c, struct base_arena *a,
                                        const struct adapter_store_opts *o, const json_t *bundle,
                                        struct adapter_store_result *out);

/* The transaction-response Bundle of a successful result (location
 * "Type/id/_history/v", etag W/"v", lastModified), or an OperationOutcome
 * for a failed one.  Caller owns the reference; NULL when out of memory. */
json_t *adapter_store_response(struct base_arena *a, const struct adapter_store_result *r);

/* ------------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------- */

/* One stored resource version.  `json` is its JSON text (NUL-terminated,
 * in the arena or valid during a callback); NULL for a deleted version. */
struct adapter_store_row {
    const char *type;
    const char *id;
    uint32_t version;
    int64_t last_updated_us;
    bool deleted;
    const char *json;
    size_t len;
};

/*
 * The code-map report from the store (store.code_use_*), sorted by system:
 *   {"systems":[{"system":"…","mapped":12,"unmapped":3,
 *                "unmapped_codes":["X1","X2"],        (sorted)
 *                "unmapped_codes_dropped":0,          (uses of codes past the list)
 *                "unmapped_code_uses":[{"code":"X2","uses":2,"first_seen":"…",
 *                                       "last_seen":"…"}, …],  (most used first)
 *                "first_seen":"…","last_seen":"…"}, …]}
 * *out is a new reference.
 */
BASE_MUST_CHECK int adapter_store_code_report(PGconn *c, json_t **out, struct base_err *err);

/* Ingest ledger retention: delete at most `batch` rows received before
 * `before` (Unix seconds); *deleted says how many (fewer than `batch`: none
 * older is left).  A message resent after its row is gone is applied again,
 * which changes nothing (every entry is a conditional update). */
BASE_MUST_CHECK int adapter_store_ledger_purge(PGconn *c, int64_t before, size_t batch,
                                               size_t *deleted, struct base_err *err);

/* ---- reindexing (reindex.c) ---------------------------------------------------------- */

/* What the index rows of this build follow: the search parameter table and
 * the extraction's format, as lower-case hex SHA-256. */
BASE_MUST_CHECK int adapter_store_index_fingerprint(char out[65], struct base_err *err);

/* Compare `fp` with what the stored index rows follow (schema 0016).
 * *needed: a pass must rewrite every resource's index rows (the table
 * changed, or the store held resources before it recorded a fingerprint);
 * it resumes where an interrupted pass towards the same fingerprint
 * stopped. */
BASE_MUST_CHECK int adapter_store_reindex_begin(PGconn *c, const char *fp, bool *needed,
                                                struct base_err *err);

/* One step of the pass: the index rows of at most `batch` resources are
 * rewritten in one transaction holding the writers' lock, so a concurrent
 * write never meets half-rewritten rows.  *done: resources rewritten;
 * *finished: the pass is over (the fingerprint is recorded) or another
 * pass superseded it. */
BASE_MUST_CHECK int adapter_store_reindex_step(PGconn *c, const char *fp, size_t batch,
                                               size_t *done, bool *finished, struct base_err *err);

/* Current version.  BASE_E_NOTFOUND (issue "not-found") when there is no
 * such resource, and also when it is deleted, with err->issue_code
 * "deleted" (the facade answers 410 Gone) and out filled without json. */
BASE_MUST_CHECK int adapter_store_read(PGconn *c, struct base_arena *a, const char *type,
                                       const char *id, struct adapter_store_row *out,
                                       struct base_err *err);

/* A given version (vread); same errors. */
BASE_MUST_CHECK int adapter_store_vread(PGconn *c, struct base_arena *a, const char *type,
                                        const char *id, uint32_t version,
                                        struct adapter_store_row *out, struct base_err *err);

/* Receives each row of a result page in order; return BASE_OK to go on.
 * `row` and its strings are valid only during the call. */
typedef int (*adapter_store_row_fn)(void *ctx, const struct adapter_store_row *row,
                                    enum fhir_bundle_mode mode);

struct adapter_store_search_opts {
    const char *base_url; /* references "<base>/Type/id" count as local; links */
    int64_t now_us;       /* "now" for date `ap`; 0 = the clock */
};

/* What a page was. */
struct adapter_store_page {
    size_t n_rows;  /* rows delivered */
    bool has_total; /* total is known (asked with _total=accurate, or cheap) */
    uint64_t total;
    const char *self_cursor; /* cursor of this page (NULL: the first) */
    const char *next_cursor; /* NULL on the last page */
    const char *prev_cursor; /* NULL on the first page; "" = the first page */
};

/*
 * Run a parsed search (fhir_search_parse) as ONE SQL statement: the AND of
 * the clauses, the OR of each clause's values, modifiers and prefixes with
 * the semantics of fhir_search_match(); _sort (several keys, descending),
 * _count with _offset or the _cursor this function hands out; _total;
 * _summary=count (no rows, total only); _elements (rows trimmed, tagged
 * SUBSETTED); _include / _revinclude (R4 §3.1.1.5.4, not :iterate): after
 * the page's matches, the resources they refer to / that refer to them
 * through the named reference parameters, with mode include, each once,
 * never a match of the page nor a deleted one, ordered by type and id,
 * whole (not trimmed), at most BASE_LIMIT_STORE_MAX_INCLUDED per page
 * (more: BASE_E_LIMIT "too-costly" naming _include, once the matches and
 * that many includes went to `fn`: keep the page before writing it).
 * _count, total and paging count matches only.  What
 * adapter_store_include_check() refuses and _summary other than count,
 * data and false are BASE_E_INVALID naming the parameter.
 */
BASE_MUST_CHECK int adapter_store_search(PGconn *c, struct base_arena *a,
                                         const struct fhir_search *s,
                                         const struct adapter_store_search_opts *o,
                                         adapter_store_row_fn fn, void *ctx,
                                         struct adapter_store_page *page, struct base_err *err);

/* For searches answered outside the store (live PACS studies), the same
 * rules: adapter_store_search_check() refuses what adapter_store_search()
 * refuses (BASE_E_INVALID naming the parameter); _trims() says whether
 * _elements / _summary=data subset the resources; adapter_store_subset()
 * returns in *out a new object (caller owns) with the members they keep,
 * tagged SUBSETTED (R4 search.html#elements).  BASE_E_NOMEM only. */
BASE_MUST_CHECK int adapter_store_search_check(const struct fhir_search *s, struct base_err *err);
/* Can one _include / _revinclude of `s` be served?  BASE_E_INVALID naming
 * "_include" / "_revinclude": :iterate / :recurse (not-supported), an
 * unknown source type or parameter, a parameter that is not a reference,
 * a target type the parameter cannot point at.  An include whose source
 * is not the searched type (a _revinclude whose target is not) is served:
 * it adds nothing (R4 §3.1.1.5.4). */
BASE_MUST_CHECK int adapter_store_include_check(const struct fhir_search *s,
                                                const struct fhir_search_include *inc,
                                                struct base_err *err);
bool adapter_store_search_trims(const struct fhir_search *s);
BASE_MUST_CHECK int adapter_store_subset(const struct fhir_search *s, const json_t *res,
                                         json_t **out);

/* The same as a searchset Bundle (self/next/previous links under o->base_url,
 * entries spliced from the stored JSON) appended to `out`. */
BASE_MUST_CHECK int adapter_store_search_bundle(PGconn *c, struct base_arena *a,
                                                const struct fhir_search *s,
                                                const struct adapter_store_search_opts *o,
                                                struct base_buf *out, struct base_err *err);

/* Patient/ID/$everything (R4 OperationDefinition Patient-everything). */
struct adapter_store_everything {
    const char *patient_id;
    uint32_t count;           /* page size (0: the search default; capped at the search maximum) */
    const char *cursor;       /* from a previous page's next_cursor, or NULL */
    int64_t since_us;         /* _since: only resources updated at or after it (0: all) */
    const char *const *types; /* _type: only these types (NULL: all) */
    size_t n_types;
    bool total; /* compute the total (one more query) */
    /* start/end (R4 Patient-everything: care dates, not record dates):
     * compartment resources whose care date meets [start_us, end_us) —
     * types without a care date (Patient, Specimen…) always */
    bool has_start, has_end;
    int64_t start_us, end_us;
};

/*
 * The Patient, every resource in its compartment (the R4 Patient
 * CompartmentDefinition's parameters for the stored types: patient,
 * subject, performer, author, asserter, recorder, link) with search.mode
 * match, then the resources those point at (practitioners, organizations,
 * locations, encounters… one hop) with mode include.  Ordered and paged by
 * a keyset cursor, so every page costs the same and memory stays bounded
 * (rows stream to `fn`).  BASE_E_NOTFOUND when the Patient does not exist.
 */
BASE_MUST_CHECK int adapter_store_everything(PGconn *c, struct base_arena *a,
                                             const struct adapter_store_everything *e,
                                             const struct adapter_store_search_opts *o,
                                             adapter_store_row_fn fn, void *ctx,
                                             struct adapter_store_page *page, struct base_err *err);

/* The same as a searchset Bundle; links are "<base>/Patient/<id>/$everything?…". */
BASE_MUST_CHECK int adapter_store_everything_bundle(PGconn *c, struct base_arena *a,
                                                    const struct adapter_store_everything *e,
                                                    const struct adapter_store_search_opts *o,
                                                    struct base_buf *out, struct base_err *err);

/*
 * Resources of `type` whose meta.lastUpdated is after since_us (µs; 0 for
 * all), oldest first, at most `limit` (capped at the search maximum).
 * Writers serialize and take increasing times, so a reader that passes the
 * last time it saw never misses a later commit.  page->next_cursor is the
 * last row's time in µs (decimal) when the page was full.
 */
BASE_MUST_CHECK int adapter_store_changed_since(PGconn *c, struct base_arena *a, const char *type,
                                                int64_t since_us, uint32_t limit,
                                                adapter_store_row_fn fn, void *ctx,
                                                struct adapter_store_page *page,
                                                struct base_err *err);

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

/* FHIR instant text of a store time: "2026-11-28T10:00:00.123456Z"
 * (microseconds, so that _lastUpdated ranges are exact); cap >= 32. */
size_t adapter_store_format_instant(int64_t us, char *buf, size_t cap);

/* Is s (len bytes) a FHIR id ([A-Za-z0-9-.]{1,64})? */
bool adapter_store_id_ok(const char *s, size_t len);

#endif /* ADAPTERS_STORE_ADAPTER_STORE_H */
