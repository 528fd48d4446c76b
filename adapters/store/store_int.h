/*
 * adapters/store/store_int.h — internals shared by the adapters/store files.
 */
#ifndef ADAPTERS_STORE_STORE_INT_H
#define ADAPTERS_STORE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters/store/adapter_store.h"
#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"

/* ---- SQL text with numbered parameters (pg.c) --------------------------- */

/* A statement being built: trusted SQL text from code, and every value as
 * a parameter ($1, $2, …).  Errors are sticky (rc). */
struct st_sql {
    struct base_arena *a;
    struct base_buf *text; /* lives in the arena, freed with it */
    const char **params;
    int n;
    int cap;
    int rc;
};

void st_sql_init(struct st_sql *q, struct base_arena *a);
/* Append trusted SQL (a literal from code, never input). */
void st_sql_add(struct st_sql *q, const char *sql);
/* Append "$n" for `value` (NULL = SQL NULL), followed by `cast` ("::bigint"
 * or ""). */
void st_sql_param(struct st_sql *q, const char *value, const char *cast);
void st_sql_param_i64(struct st_sql *q, int64_t v, const char *cast);
/* The text, NUL-terminated (NULL after an error). */
const char *st_sql_text(struct st_sql *q);

/* ---- PostgreSQL array literals (pg.c) ---------------------------------- */

/* "{…}" text of a one-dimensional array, for one parameter. */
struct st_arr {
    struct base_buf b;
    size_t n;
    int rc;
};

void st_arr_init(struct st_arr *x);
void st_arr_fini(struct st_arr *x);
void st_arr_reset(struct st_arr *x);
void st_arr_text(struct st_arr *x, const char *s); /* NULL -> NULL element */
void st_arr_textn(struct st_arr *x, const char *s, size_t len);
void st_arr_i64(struct st_arr *x, int64_t v);
void st_arr_raw(struct st_arr *x, const char *s); /* unquoted (numbers, t/f) */
/* The literal (valid until the next change), NULL after an error. */
const char *st_arr_get(struct st_arr *x);

/* ---- running statements (pg.c) ----------------------------------------- */

/* PQexecParams; BASE_OK when the status is `want`.  Errors name `what`
 * ("read a resource"), never the SQL or a value; the SQLSTATE goes to
 * err->log_detail.  *res is NULL on error. */
BASE_MUST_CHECK int st_exec(PGconn *c, const char *sql, int n, const char *const *params,
                            ExecStatusType want, const char *what, PGresult **res,
                            struct base_err *err);
BASE_MUST_CHECK int st_exec_sql(PGconn *c, struct st_sql *q, ExecStatusType want, const char *what,
                                PGresult **res, struct base_err *err);
/* A command without parameters and without rows (BEGIN, SAVEPOINT …). */
BASE_MUST_CHECK int st_command(PGconn *c, const char *sql, const char *what, struct base_err *err);
/* A Bundle's savepoint, sent in the same round trip as its first statement
 * and released in the round trip of its write (libpq pipeline mode): a
 * batch costs two round trips per Bundle, not four. */
struct st_txn {
    const char *savepoint; /* "SAVEPOINT name" */
    const char *release;   /* "RELEASE SAVEPOINT name" */
    bool set;              /* the savepoint exists */
    bool released;
};

/* st_exec, preceded by t->savepoint when not yet set, and followed by
 * t->release when `release` (and the statement succeeded).  t may be NULL. */
BASE_MUST_CHECK int st_exec_txn(PGconn *c, struct st_txn *t, bool release, const char *sql,
                                int n, const char *const *params, ExecStatusType want,
                                const char *what, PGresult **res, struct base_err *err);

/* Map a failed result to an error value. */
int st_pg_error(PGconn *c, const PGresult *res, const char *what, struct base_err *err);
/* Is the connection still usable? */
bool st_conn_ok(PGconn *c);

/* Column text copied into the arena (NULL for SQL NULL or no memory). */
const char *st_col(struct base_arena *a, const PGresult *r, int row, int col);
bool st_col_i64(const PGresult *r, int row, int col, int64_t *out);
/* Decimal text of v in buf (cap >= 24). */
const char *st_i64(char *buf, size_t cap, int64_t v);
/* Decimal digits of v into buf[24] without printf (hot paths); returns the
 * length. */
size_t st_fmt_i64(char buf[24], int64_t v);
/* Lower-case hex of n bytes into out[2n + 1]. */
void st_hex(const unsigned char *in, size_t n, char *out);

/* Stream the rows of a statement in single-row mode to `fn`, so memory
 * stays bounded whatever the result size.  Columns: pk, res_type, id,
 * version, last_updated, deleted, content text, then `extra` columns the
 * caller reads through `row_cb`. */
struct st_stream {
    int (*row_cb)(void *ctx, const PGresult *r, const struct adapter_store_row *row);
    void *ctx;
    size_t n_rows;   /* rows delivered */
    size_t max_rows; /* stop delivering after this many (the rest is drained) */
    size_t n_seen;   /* rows received (n_seen > max_rows: there were more) */
};
BASE_MUST_CHECK int st_stream_rows(PGconn *c, struct st_sql *q, const char *what,
                                   struct st_stream *s, struct base_err *err);

/* ---- content helpers (content.c) ---------------------------------------- */

/* A new random (version 4) UUID as a FHIR id; NULL when out of memory. */
const char *st_new_id(struct base_arena *a);
/* The JSON text to store and its content hash, in one serialization: the
 * SHA-256 (lower-case hex) covers the compact text without `meta`, so two
 * versions that differ only in meta hash alike; when `version` is not 0,
 * meta.versionId and meta.lastUpdated are set and *text (arena) is the
 * whole resource with its meta appended.  With version 0 only the hash is
 * computed and the resource is left as it was. */
BASE_MUST_CHECK int st_content(struct base_arena *a, json_t *resource, uint32_t version,
                               int64_t last_updated_us, char hex[65], const char **text,
                               struct base_err *err);
/* Set meta.versionId and meta.lastUpdated (other meta members kept), on
 * the resource or on a meta object. */
BASE_MUST_CHECK int st_set_meta(json_t *resource, uint32_t version, int64_t last_updated_us);
BASE_MUST_CHECK int st_set_meta_object(json_t *meta, uint32_t version, int64_t last_updated_us);
/* Is s a resource type name shape ([A-Z][A-Za-z]{0,63})? */
bool st_type_ok(const char *s, size_t len);

/* ---- index rows (index.c) ---------------------------------------------- */

/* Columns of every index table for one Bundle's writes: the array
 * parameters of store.write(), in its order.  Rows name their resource by
 * its 1-based position in the Bundle's resource arrays. */
enum st_col {
    TK_RES,
    TK_PARAM,
    TK_SYSTEM,
    TK_CODE,
    TK_TEXT,
    TK_TEXT_RAW,
    TK_OF_TYPE,
    ST_RES,
    ST_PARAM,
    ST_VALUE,
    ST_NORM,
    DT_RES,
    DT_PARAM,
    DT_LOW,
    DT_HIGH,
    RF_RES,
    RF_PARAM,
    RF_TYPE,
    RF_ID,
    RF_VERSION,
    RF_URL,
    RF_ID_SYSTEM,
    RF_ID_VALUE,
    QT_RES,
    QT_PARAM,
    QT_LOW,
    QT_HIGH,
    QT_LOW_OPEN,
    QT_HIGH_OPEN,
    QT_SYSTEM,
    QT_CODE,
    QT_UNIT,
    UR_RES,
    UR_PARAM,
    UR_VALUE,
    ID_RES,
    ID_SYSTEM,
    ID_VALUE,
    ST_NCOLS
};

struct st_rows {
    struct st_arr c[ST_NCOLS];
    size_t n_values;
};

void st_rows_init(struct st_rows *r);
void st_rows_fini(struct st_rows *r);
void st_rows_reset(struct st_rows *r);
/* Append the index rows of one resource (position `res`, 1-based). */
BASE_MUST_CHECK int st_rows_add(struct st_rows *r, struct base_arena *scratch,
                                const json_t *resource, const char *type, int res,
                                struct base_err *err);

/* Identifier values (system may be NULL) of a resource: those of its
 * `identifier` search parameter for a known type, else its top-level
 * identifier element(s).  Arena arrays. */
BASE_MUST_CHECK int st_identifiers(struct base_arena *a, const json_t *resource, const char *type,
                                   const char ***systems, const char ***values, size_t *n,
                                   struct base_err *err);

/* ---- search SQL (compile.c) --------------------------------------------- */

/* Compile options. */
struct st_compile {
    const struct adapter_store_search_opts *o;
    int64_t now_us;
    const char *base_slash; /* "<base>/" or NULL */
};

/* Append the WHERE conditions of the clauses of `s` (each "AND (…)") for
 * the resource alias r.  BASE_E_INVALID naming the parameter when a clause
 * cannot be served. */
BASE_MUST_CHECK int st_compile_where(struct st_sql *q, const struct st_compile *cc,
                                     const struct fhir_search *s, struct base_err *err);
/* Sort keys of s as select-list items ", <expr> AS k0, …" over alias r, and
 * the ORDER BY list "<prefix>k0 DESC NULLS LAST, …, <prefix>pk" over them
 * (prefix "" inside the query that selects them, "page." outside). */
BASE_MUST_CHECK int st_compile_sort_keys(struct st_sql *q, const struct fhir_search *s,
                                         struct base_err *err);
void st_compile_order_by(struct st_sql *q, const struct fhir_search *s, const char *prefix);
void st_compile_init(struct st_compile *cc, struct base_arena *a,
                     const struct adapter_store_search_opts *o);

/* "(x.ref_url IS NULL OR starts_with(x.ref_url, <base>/))": a reference of
 * idx_reference alias x that is relative or under this server's base. */
void st_compile_local_url(struct st_sql *q, const struct st_compile *cc);

/* The index table of a parameter type ("store.idx_token", …), NULL if none. */
const char *st_table_of(enum fhir_search_type t);

/* The smallest string greater than every string that starts with p (code
 * point order = byte order of UTF-8); NULL when none exists. */
const char *st_prefix_successor(struct base_arena *a, const char *p);

/* ---- the transaction plan (plan.c, resolve.c, apply.c) ------------------ */

enum st_method { ST_POST, ST_PUT, ST_DELETE };

/* How an entry's target is found. */
enum st_find {
    ST_FIND_NEW,        /* plain POST: a new id */
    ST_FIND_ID,         /* PUT/DELETE Type/id */
    ST_FIND_IDENTIFIER, /* criteria = one identifier value: the identifier table */
    ST_FIND_SEARCH      /* other criteria: a compiled search */
};

struct st_entry {
    size_t index; /* Bundle.entry[index] */
    enum st_method method;
    const char *type;
    const char *url_id;   /* Type/id in the URL */
    const char *full_url; /* NULL when absent */
    json_t *resource;     /* our own deep copy (NULL for DELETE) */
    const char *res_id;   /* id the resource carried, or NULL */
    uint32_t if_match;    /* request.ifMatch W/"n" (0: none) */
    enum st_find find;
    const char *criteria;       /* raw query (conditional) */
    struct fhir_search *search; /* ST_FIND_SEARCH / IDENTIFIER */
    const char *iq_system;      /* ST_FIND_IDENTIFIER */
    const char *iq_value;
    char iq_form; /* 'c', 's', 'n' */
    /* what was found */
    size_t n_found;
    int64_t pk;
    const char *id;
    uint32_t version; /* current version found (0: none) */
    bool found_deleted;
    int64_t found_updated; /* its meta.lastUpdated */
    char found_hash[65];
    bool res_id_taken; /* conditional update with an id: Type/id exists already */
    /* decision */
    enum adapter_store_action action;
    bool write; /* a row is written */
    char op;    /* 'c', 'u', 'd' */
    uint32_t new_version;
    int64_t ts;
    char hash[65];
    const char *content; /* the JSON text written (NULL for a delete) */
};

struct st_plan {
    struct base_arena *a;
    const struct adapter_store_opts *o;
    struct st_entry *e;
    size_t n;
    int64_t *new_pks; /* keys handed out by store.match(), one per entry */
    size_t n_new_pks;
    size_t next_pk;
};

/* Read and check a transaction Bundle into a plan (no database).  Errors
 * are BASE_E_INVALID with err->where naming the entry and element and an
 * HTTP status for the result in *status. */
BASE_MUST_CHECK int st_plan_bundle(struct base_arena *a, const struct adapter_store_opts *o,
                                   const json_t *bundle, struct st_plan *p, int *status,
                                   struct base_err *err);

/* Resolve every reference inside the plan's resources: urn:uuid (and
 * other fullUrls of the Bundle) to Type/id, conditional references
 * (Type?criteria) by searching.  Needs the ids decided. */
BASE_MUST_CHECK int st_rewrite_references(PGconn *c, struct st_plan *p, int *status,
                                          struct base_err *err);

/* Run a compiled conditional search and count its matches (at most 2 are
 * read); the first one is described. */
BASE_MUST_CHECK int st_find_search(PGconn *c, struct base_arena *a, const struct fhir_search *s,
                                   const struct adapter_store_opts *o, size_t *n_found, int64_t *pk,
                                   const char **id, uint32_t *version, bool *deleted,
                                   int64_t *updated, char hash[65], struct base_err *err);

/* The ledger key of a message. */
struct st_ledger {
    const char *source;
    const char *message_id;
    const unsigned char *sha256;
};

/* A ledger hit: the stored status and answer (JSON text). */
struct st_replay {
    bool hit;
    int status;
    const char *info;
};

/* One store.match() call for the whole plan (ledger, identifier queries,
 * id lookups, new keys), then the compiled conditional searches. */
BASE_MUST_CHECK int st_match(PGconn *c, struct st_txn *t, struct st_plan *p,
                             const struct st_ledger *lg, struct st_replay *rp,
                             struct base_err *err);

/* Parse conditional criteria for `type` ("identifier=s|v&…"): a one-value
 * identifier query becomes ST_FIND_IDENTIFIER (any type), others a search
 * (known types only).  where = location for errors. */
BASE_MUST_CHECK int st_parse_criteria(struct base_arena *a, const char *type, const char *criteria,
                                      const char *where, struct st_entry *e, struct base_err *err);

/* Decide every entry (create / update / delete / matched) from what was
 * found; refuse ambiguous matches (412) and overlapping targets (400). */
BASE_MUST_CHECK int st_decide(struct st_plan *p, int *status, struct base_err *err);
/* Set ids, content hashes, versions and meta of what is written; an update
 * with identical content becomes "unchanged".  *ts: next free time. */
BASE_MUST_CHECK int st_finish(struct st_plan *p, int64_t *ts, struct base_err *err);
void st_entry_result(const struct st_entry *e, struct adapter_store_entry *out);

/* ---- applying one Bundle (apply.c) ---------------------------------------- */

/* Apply one Bundle inside the current transaction (the caller holds the
 * clock and a savepoint).  *ts is the next free meta.lastUpdated.  On a
 * replay (ledger hit) r->replayed is set and nothing is written.  The ack
 * callback runs before the write so the answer is recorded with it. */
BASE_MUST_CHECK int st_apply_one(PGconn *c, struct st_txn *t, struct base_arena *a,
                                 const struct adapter_store_opts *o, const json_t *bundle,
                                 const struct st_ledger *lg, adapter_store_ack_fn ack,
                                 void *ack_ctx, int64_t *ts, struct adapter_store_result *r);

/* Fill a result from a ledger hit (replayed = true); returns its rc. */
int st_replay_result(struct base_arena *a, const struct st_replay *rp,
                     struct adapter_store_result *r);

/* Record a failed or refused message in the ledger (a no-op without a key). */
BASE_MUST_CHECK int st_ledger_failure(PGconn *c, struct base_arena *a, const struct st_ledger *lg,
                                      const struct adapter_store_result *r, struct base_err *err);

/* The ledger's JSON result of the entries, and back. */
char *st_entries_json(struct base_arena *a, const struct adapter_store_result *r);
void st_result_fail(struct adapter_store_result *r, int rc, int status, const struct base_err *err);

/* HTTP status for an error value. */
int st_status_of(int rc, const struct base_err *err);

/* Add the code-map counts of a batch's items that committed and were not
 * replays (codes.c), in the batch's transaction. */
BASE_MUST_CHECK int st_code_uses_add(PGconn *c, const struct adapter_store_item *items,
                                     const struct adapter_store_result *results, size_t n,
                                     struct base_err *err);

/* ---- bundles of rows (search.c) ------------------------------------------ */

/* Writes rows as searchset entries (fullUrl under base_url). */
struct st_bundle_sink {
    struct fhir_bundle_writer *w;
    struct base_arena *a;
    const char *base_url;
    struct base_err *err;
};
int st_bundle_sink_row(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode);

/* The Patient compartment (R4 CompartmentDefinition "patient") for the
 * indexed types: (type, reference parameter) pairs; returns how many. */
size_t st_compartment(const char **types, const char **params, size_t cap);

/* ---- _include / _revinclude (include.c) ---------------------------------- */

/* The page's matches: their keys (bigint array) and ids (text array). */
struct st_include_page {
    struct st_arr *pks;
    struct st_arr *ids;
    size_t n;
};

/* The resources the includes of `s` add to a page (each checked with
 * adapter_store_include_check()), to `fn` with mode include, ordered by
 * type and id: ONE statement.  BASE_E_LIMIT ("too-costly", naming
 * _include) past BASE_LIMIT_STORE_MAX_INCLUDED, after that many rows went
 * to `fn` (callers keep the page before writing it). */
BASE_MUST_CHECK int st_include_rows(PGconn *c, struct base_arena *a, const struct fhir_search *s,
                                    const struct adapter_store_search_opts *o,
                                    const struct st_include_page *pg, adapter_store_row_fn fn,
                                    void *ctx, struct base_err *err);

/* Parse a decimal cursor (offset or µs); false if malformed. */
bool st_parse_u64(const char *s, uint64_t *out);

#endif /* ADAPTERS_STORE_STORE_INT_H */
