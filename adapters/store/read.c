/*
 * Read, vread, and the "changed since" pull (docs/design/region.md: the
 * gateway pulls Patient identities by _lastUpdated).
 */
#include "adapters/store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_COLUMNS "r.pk, r.res_type, r.id, r.version, r.last_updated, r.deleted, r.content::text"

static int
check_identity(const char *type, const char *id, struct base_err *err)
{
    ENSURE(type != NULL && st_type_ok(type, strlen(type)), err, BASE_E_INVALID, "invalid", "type",
           "malformed resource type");
    ENSURE(id != NULL && adapter_store_id_ok(id, strlen(id)), err, BASE_E_INVALID, "invalid", "id",
           "malformed resource id");
    return BASE_OK;
}

/* The first row of a result as a struct in the arena. */
static int
row_of(struct base_arena *a, const PGresult *r, struct adapter_store_row *out, struct base_err *err)
{
    int64_t v = 0;

    memset(out, 0, sizeof(*out));
    out->type = st_col(a, r, 0, 1);
    out->id = st_col(a, r, 0, 2);
    out->deleted = PQgetvalue(r, 0, 5)[0] == 't';
    if (!st_col_i64(r, 0, 3, &v) || v <= 0 || v > UINT32_MAX ||
        !st_col_i64(r, 0, 4, &out->last_updated_us) || out->type == NULL || out->id == NULL)
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "bad row");
    out->version = (uint32_t)v;
    if (!out->deleted) {
        out->json = st_col(a, r, 0, 6);
        out->len = (size_t)PQgetlength(r, 0, 6);
        ENSURE(out->json != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    return BASE_OK;
}

static int
one_row(PGconn *c, struct base_arena *a, const char *sql, int n, const char *const *p,
        struct adapter_store_row *out, struct base_err *err)
{
    PGresult *r = NULL;
    int rc;

    TRY(st_exec(c, sql, n, p, PGRES_TUPLES_OK, "read a resource", &r, err));
    if (PQntuples(r) == 0) {
        PQclear(r);
        return base_err_set(err, BASE_E_NOTFOUND, "not-found", NULL, "no such resource");
    }
    rc = row_of(a, r, out, err);
    PQclear(r);
    if (rc == BASE_OK && out->deleted)
        rc = base_err_set(err, BASE_E_NOTFOUND, "deleted", NULL, "the resource was deleted");
    return rc;
}

int
adapter_store_read(PGconn *c, struct base_arena *a, const char *type, const char *id,
                   struct adapter_store_row *out, struct base_err *err)
{
    const char *p[2] = {type, id};

    memset(out, 0, sizeof(*out));
    TRY(check_identity(type, id, err));
    return one_row(
        c, a, "SELECT " ROW_COLUMNS " FROM store.resource r WHERE r.res_type = $1 AND r.id = $2", 2,
        p, out, err);
}

int
adapter_store_vread(PGconn *c, struct base_arena *a, const char *type, const char *id,
                    uint32_t version, struct adapter_store_row *out, struct base_err *err)
{
    char v[16];
    const char *p[3] = {type, id, v};

    memset(out, 0, sizeof(*out));
    TRY(check_identity(type, id, err));
    snprintf(v, sizeof(v), "%" PRIu32, version);
    return one_row(c, a,
                   "SELECT " ROW_COLUMNS " FROM store.resource r"
                   " WHERE r.res_type = $1 AND r.id = $2 AND r.version = $3::integer"
                   " UNION ALL"
                   " SELECT r.pk, r.res_type, r.id, h.version, h.last_updated, h.deleted,"
                   " h.content::text FROM store.resource r JOIN store.resource_history h"
                   " ON h.pk = r.pk AND h.version = $3::integer"
                   " WHERE r.res_type = $1 AND r.id = $2",
                   3, p, out, err);
}

/* ---- changed since ------------------------------------------------------------------------ */

struct fwd {
    adapter_store_row_fn fn;
    void *ctx;
    int64_t last;
};

static int
forward(void *ctx, const PGresult *r, const struct adapter_store_row *row)
{
    struct fwd *f = ctx;

    (void)r;
    f->last = row->last_updated_us;
    return f->fn(f->ctx, row, FHIR_BUNDLE_MODE_MATCH);
}

int
adapter_store_changed_since(PGconn *c, struct base_arena *a, const char *type, int64_t since_us,
                            uint32_t limit, adapter_store_row_fn fn, void *ctx,
                            struct adapter_store_page *page, struct base_err *err)
{
    struct fwd f = {fn, ctx, since_us};
    struct st_stream st = {forward, &f, 0, 0, 0};
    struct st_sql q;

    memset(page, 0, sizeof(*page));
    ENSURE(type != NULL && st_type_ok(type, strlen(type)), err, BASE_E_INVALID, "invalid", "type",
           "malformed resource type");
    if (limit == 0 || limit > BASE_LIMIT_SEARCH_MAX_COUNT)
        limit = BASE_LIMIT_SEARCH_MAX_COUNT;
    st.max_rows = limit;
    st_sql_init(&q, a);
    /* store.clock serializes writers and hands out increasing times, so
     * every row committed after this read has a later time: a reader that
     * resumes from the last time it saw misses nothing. */
    st_sql_add(&q, "SELECT " ROW_COLUMNS " FROM store.resource r WHERE r.res_type = ");
    st_sql_param(&q, type, NULL);
    st_sql_add(&q, " AND r.last_updated > ");
    st_sql_param_i64(&q, since_us, "::bigint");
    st_sql_add(&q, " AND NOT r.deleted ORDER BY r.last_updated LIMIT ");
    st_sql_param_i64(&q, limit, "::bigint");
    TRY(st_stream_rows(c, &q, "read changes", &st, err));
    page->n_rows = st.n_rows;
    if (st.n_rows == limit)
        page->next_cursor = base_arena_sprintf(a, "%" PRId64, f.last);
    return BASE_OK;
}

/* ---- ledger retention --------------------------------------------------------------------- */

int
adapter_store_ledger_purge(PGconn *c, int64_t before, size_t batch, size_t *deleted,
                           struct base_err *err)
{
    char t[24];
    char n[24];
    const char *p[2] = {t, n};
    PGresult *r;

    *deleted = 0;
    snprintf(t, sizeof(t), "%" PRId64, before);
    snprintf(n, sizeof(n), "%zu", batch);
    /* a bounded batch per statement: a long-idle ledger is trimmed in
     * short transactions that never hold up the committer */
    TRY(st_exec(c,
                "DELETE FROM store.ingest_ledger WHERE ctid = ANY (ARRAY(SELECT ctid FROM "
                "store.ingest_ledger WHERE received_at < to_timestamp($1::bigint) LIMIT "
                "$2::integer))",
                2, p, PGRES_COMMAND_OK, "trim the ingest ledger", &r, err));
    *deleted = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return BASE_OK;
}
