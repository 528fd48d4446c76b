/*
 * Rebuilding the search index when what it indexes changes (schema 0016).
 *
 * A resource's index rows are derived from it by the parameter table
 * (fhir/search) and index.c.  A build whose table or extraction differs
 * from the one that wrote the stored rows would leave earlier resources
 * unfindable by the new parameters; a pass rewrites every resource's rows,
 * a bounded batch per transaction, resuming after a restart.
 */
#include "adapters/store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"

/* Bump when index.c writes different rows for the same resource and
 * parameter table (a new normalization, a new column), so that stores
 * written by earlier builds are reindexed. */
#define ST_INDEX_FORMAT "fhirgate-index-1"

/* Stored (compressed) content read per reindex step, at most about. */
#define REINDEX_BATCH_BYTES "8388608"

static int
digest_def(EVP_MD_CTX *md, const struct fhir_search_param_def *d)
{
    const char *f[5] = {d->resource, d->name, fhir_search_type_name(d->type), d->expression,
                        d->targets};
    int ok = 1;

    for (size_t i = 0; i < BASE_ARRAY_LEN(f); i++) {
        /* "\x1f" between fields, "\x1e" for an absent one: no two tables
         * hash alike by shifting text between fields */
        ok &= EVP_DigestUpdate(md, f[i] != NULL ? f[i] : "\x1e", f[i] != NULL ? strlen(f[i]) : 1);
        ok &= EVP_DigestUpdate(md, "\x1f", 1);
    }
    ok &= EVP_DigestUpdate(md, d->code_system != NULL ? d->code_system : "\x1e",
                           d->code_system != NULL ? strlen(d->code_system) : 1);
    ok &= EVP_DigestUpdate(md, "\n", 1);
    return ok;
}

int
adapter_store_index_fingerprint(char out[65], struct base_err *err)
{
    const struct fhir_search_param_def *t[2];
    size_t n[2];
    unsigned char h[32];
    unsigned int hlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, ST_INDEX_FORMAT "\n", sizeof(ST_INDEX_FORMAT)) == 1;

    fhir_search_params_table(&t[0], &n[0], &t[1], &n[1]);
    for (size_t k = 0; ok && k < 2; k++) {
        for (size_t i = 0; ok && i < n[k]; i++)
            ok = digest_def(md, &t[k][i]);
    }
    ok = ok && EVP_DigestFinal_ex(md, h, &hlen) == 1 && hlen == sizeof(h);
    EVP_MD_CTX_free(md);
    if (!ok)
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "hashing failed");
    st_hex(h, sizeof(h), out);
    return BASE_OK;
}

int
adapter_store_reindex_begin(PGconn *c, const char *fp, bool *needed, struct base_err *err)
{
    const char *p[1] = {fp};
    PGresult *r = NULL;

    *needed = false;
    /* The first build with a fingerprint: an empty store has nothing to
     * redo; one that holds resources follows an unknown table ('').  Then
     * a pass towards fp starts, resumes (same fp) or is not needed. */
    TRY(st_exec(c,
                "WITH first AS (INSERT INTO store.index_state (fingerprint) "
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM store.resource) THEN '' ELSE $1 END "
                "ON CONFLICT (one) DO NOTHING) "
                "SELECT 1",
                1, p, PGRES_TUPLES_OK, "record the index fingerprint", &r, err));
    PQclear(r);
    TRY(st_exec(c,
                "UPDATE store.index_state SET "
                "pending = CASE WHEN fingerprint = $1 THEN NULL ELSE $1 END, "
                "next_pk = CASE WHEN fingerprint <> $1 AND pending = $1 THEN next_pk ELSE 0 END, "
                "started_at = CASE WHEN fingerprint = $1 THEN started_at "
                "WHEN pending = $1 THEN started_at ELSE now() END "
                "RETURNING pending IS NOT NULL",
                1, p, PGRES_TUPLES_OK, "start the reindex pass", &r, err));
    *needed = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return BASE_OK;
}

/* ---- one step ---------------------------------------------------------------------------- */

struct step {
    struct st_arr pk;
    struct st_arr type;
    struct st_rows rows;
    int n;
    int64_t last_pk;
};

static void
step_init(struct step *s)
{
    st_arr_init(&s->pk);
    st_arr_init(&s->type);
    st_rows_init(&s->rows);
    s->n = 0;
    s->last_pk = 0;
}

static void
step_fini(struct step *s)
{
    st_arr_fini(&s->pk);
    st_arr_fini(&s->type);
    st_rows_fini(&s->rows);
}

/* The rows of the resource in row i of r (pk, res_type, content). */
static int
add_resource(struct step *s, struct base_arena *a, const PGresult *r, int i, struct base_err *err)
{
    const char *type = PQgetvalue(r, i, 1);
    const char *text = PQgetvalue(r, i, 2);
    json_t *res = NULL;
    int64_t pk;
    int rc;

    ENSURE(st_col_i64(r, i, 0, &pk), err, BASE_E_INTERNAL, "exception", NULL,
           "unreadable resource key");
    /* stored content passed the limits when it was written */
    TRY(fhir_json_parse(text, (size_t)PQgetlength(r, i, 2), NULL, &res, err));
    s->n++;
    st_arr_i64(&s->pk, pk);
    st_arr_text(&s->type, type);
    rc = st_rows_add(&s->rows, a, res, type, s->n, err);
    json_decref(res);
    s->last_pk = pk;
    return rc;
}

static int
write_rows(PGconn *c, const char *fp, struct step *s, struct base_err *err)
{
    const char *p[4 + ST_NCOLS];
    char next[24];
    struct st_sql q;
    struct base_arena *a = base_arena_new(0);
    PGresult *r = NULL;
    int rc;

    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    p[0] = fp;
    p[1] = st_i64(next, sizeof(next), s->last_pk + 1);
    p[2] = st_arr_get(&s->pk);
    p[3] = st_arr_get(&s->type);
    for (size_t i = 0; i < ST_NCOLS; i++)
        p[4 + i] = st_arr_get(&s->rows.c[i]);
    st_sql_init(&q, a);
    st_sql_add(&q, "SELECT store.reindex(");
    for (size_t i = 0; i < BASE_ARRAY_LEN(p); i++) {
        if (p[i] == NULL) {
            base_arena_free(a);
            return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "index rows too large");
        }
        if (i > 0)
            st_sql_add(&q, ", ");
        st_sql_param(&q, p[i], "");
    }
    st_sql_add(&q, ")");
    rc = st_exec_sql(c, &q, PGRES_TUPLES_OK, "rewrite index rows", &r, err);
    PQclear(r);
    base_arena_free(a);
    return rc;
}

/* In the transaction: is the pass towards fp still the current one, and
 * where does it stand? */
static int
pass_position(PGconn *c, const char *fp, bool *current, int64_t *next_pk, struct base_err *err)
{
    const char *p[1] = {fp};
    PGresult *r = NULL;

    /* the writers' lock first (store.take_clock takes the same row) */
    TRY(st_exec(c, "SELECT 1 FROM store.clock FOR UPDATE", 0, NULL, PGRES_TUPLES_OK,
                "take the writers' lock", &r, err));
    PQclear(r);
    TRY(st_exec(c, "SELECT next_pk FROM store.index_state WHERE pending = $1", 1, p,
                PGRES_TUPLES_OK, "read the reindex pass", &r, err));
    *current = PQntuples(r) == 1 && st_col_i64(r, 0, 0, next_pk);
    PQclear(r);
    return BASE_OK;
}

static int
finish_pass(PGconn *c, const char *fp, struct base_err *err)
{
    const char *p[1] = {fp};
    PGresult *r = NULL;

    TRY(st_exec(c,
                "UPDATE store.index_state SET fingerprint = $1, pending = NULL, next_pk = 0, "
                "finished_at = now() WHERE pending = $1",
                1, p, PGRES_COMMAND_OK, "finish the reindex pass", &r, err));
    PQclear(r);
    return BASE_OK;
}

static int
step_in_txn(PGconn *c, const char *fp, size_t batch, size_t *done, bool *finished,
            struct base_err *err)
{
    struct base_arena *a = NULL;
    struct step s;
    PGresult *r = NULL;
    bool current = false;
    int64_t from = 0;
    char p0[24];
    char p1[24];
    const char *p[2] = {p0, p1};
    int rc;

    TRY(pass_position(c, fp, &current, &from, err));
    if (!current) {
        *finished = true;
        return BASE_OK;
    }
    (void)st_i64(p0, sizeof(p0), from);
    (void)st_i64(p1, sizeof(p1), (int64_t)batch);
    /* At most `batch` resources and about REINDEX_BATCH_BYTES of stored
     * content (always one): a store of documents with attachments must not
     * come back as one result of hundreds of megabytes. */
    TRY(st_exec(c,
                "SELECT pk, res_type, content::text FROM ("
                " SELECT pk, res_type, content, sum(pg_column_size(content)) OVER (ORDER BY pk)"
                " - pg_column_size(content) AS before FROM store.resource"
                " WHERE pk >= $1::bigint AND NOT deleted ORDER BY pk LIMIT $2::integer) s"
                " WHERE before < " REINDEX_BATCH_BYTES " ORDER BY pk",
                2, p, PGRES_TUPLES_OK, "read resources to reindex", &r, err));
    if (PQntuples(r) == 0) {
        PQclear(r);
        *finished = true;
        return finish_pass(c, fp, err);
    }
    a = base_arena_new(0);
    step_init(&s);
    rc = a != NULL ? BASE_OK : base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (int i = 0; rc == BASE_OK && i < PQntuples(r); i++)
        rc = add_resource(&s, a, r, i, err); /* scratch for one batch, freed below */
    PQclear(r);
    if (rc == BASE_OK)
        rc = write_rows(c, fp, &s, err);
    if (rc == BASE_OK)
        *done = (size_t)s.n;
    step_fini(&s);
    base_arena_free(a);
    return rc;
}

int
adapter_store_reindex_step(PGconn *c, const char *fp, size_t batch, size_t *done, bool *finished,
                           struct base_err *err)
{
    struct base_err ignored = {0};
    int rc;

    *done = 0;
    *finished = false;
    ENSURE(batch > 0 && batch <= 100000, err, BASE_E_INVALID, "invalid", "batch",
           "reindex batch must be 1 to 100000");
    TRY(st_command(c, "BEGIN", "start a transaction", err));
    rc = step_in_txn(c, fp, batch, done, finished, err);
    if (rc == BASE_OK)
        rc = st_command(c, "COMMIT", "commit the reindex step", err);
    if (rc != BASE_OK) {
        if (st_command(c, "ROLLBACK", "roll back", &ignored) != BASE_OK)
            BASE_LOG(BASE_LOG_DEBUG, "store_rollback_failed", "sqlstate_in_detail=1");
        *done = 0;
        *finished = false;
    }
    return rc;
}
