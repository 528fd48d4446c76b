/*
 * gateway/mpi/store.c — small libpq helpers for the MPI's store functions.
 *
 * Every statement is parameterized (PQexecParams, text parameters).  A
 * server error is reported to the caller as BASE_E_IO with a fixed message;
 * the log gets only the SQLSTATE, because PostgreSQL's message text can
 * quote the offending value (patient data).
 */
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/mpi/mpi_int.h"

static void
clear_result(void *r)
{
    PQclear(r);
}

static int
fail(PGresult *res, struct base_err *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int rc = BASE_E_IO;

    /* 23505 unique_violation, 40001/40P01 serialization/deadlock: a state
     * conflict the caller may retry, not an outage. */
    if (state != NULL && (strcmp(state, "23505") == 0 || strncmp(state, "40", 2) == 0))
        rc = BASE_E_CONFLICT;
    BASE_LOG(BASE_LOG_WARN, "mpi_db_error", "sqlstate=%s", state != NULL ? state : "none");
    PQclear(res);
    return base_err_set(err, rc, rc == BASE_E_CONFLICT ? "conflict" : "exception", "mpi",
                        rc == BASE_E_CONFLICT ? "concurrent change, retry"
                                              : "patient index unavailable");
}

int
mpi_q(PGconn *db, struct base_arena *a, const char *sql, int n, const char *const *params,
      ExecStatusType want, PGresult **out, struct base_err *err)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);

    *out = NULL;
    if (res == NULL || PQresultStatus(res) != want)
        return fail(res, err);
    if (a != NULL)
        TRY(base_arena_on_free(a, clear_result, res));
    *out = res;
    return BASE_OK;
}

int
mpi_cmd(PGconn *db, const char *sql, int n, const char *const *params, struct base_err *err)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return fail(res, err);
    PQclear(res);
    return BASE_OK;
}

/* Read the pipeline's results up to its sync point.  Each statement gives
 * one result followed by one NULL; a broken connection gives only NULLs. */
static int
drain(PGconn *db, struct base_arena *a, struct mpi_stmt *st, size_t n, int rc, struct base_err *err)
{
    size_t got = 0;
    int nulls = 0;

    for (;;) {
        PGresult *res = PQgetResult(db);

        if (res == NULL) {
            if (++nulls >= 2 || PQstatus(db) == CONNECTION_BAD)
                break;
            continue;
        }
        nulls = 0;
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (rc == BASE_OK && got < n && PQresultStatus(res) == st[got].want) {
            st[got].res = res;
            rc = base_arena_on_free(a, clear_result, res);
        } else if (rc == BASE_OK) {
            rc = fail(res, err);
        } else {
            PQclear(res);
        }
        got++;
    }
    if (rc == BASE_OK && got != n)
        rc = fail(NULL, err);
    return rc;
}

int
mpi_pipeline(PGconn *db, struct base_arena *a, struct mpi_stmt *st, size_t n, struct base_err *err)
{
    int rc = BASE_OK;

    for (size_t i = 0; i < n; i++)
        st[i].res = NULL;
    if (PQenterPipelineMode(db) != 1)
        return fail(NULL, err);
    for (size_t i = 0; i < n && rc == BASE_OK; i++) {
        if (PQsendQueryParams(db, st[i].sql, st[i].n, NULL, st[i].params, NULL, NULL, 0) != 1)
            rc = fail(NULL, err);
    }
    if (PQpipelineSync(db) != 1 && rc == BASE_OK)
        rc = fail(NULL, err);
    rc = drain(db, a, st, n, rc, err);
    (void)PQexitPipelineMode(db);
    return rc;
}

int
mpi_begin(PGconn *db, struct base_err *err)
{
    return mpi_cmd(db, "BEGIN", 0, NULL, err);
}

int
mpi_commit(PGconn *db, struct base_err *err)
{
    return mpi_cmd(db, "COMMIT", 0, NULL, err);
}

void
mpi_rollback(PGconn *db)
{
    PGresult *res = PQexecParams(db, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);

    PQclear(res);
}

const char *
mpi_val(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return "";
    return PQgetvalue(r, row, col);
}

int64_t
mpi_i64(const PGresult *r, int row, int col)
{
    const char *v = mpi_val(r, row, col);
    char *end = NULL;
    long long x = strtoll(v, &end, 10);

    return end != v ? (int64_t)x : 0;
}

double
mpi_f64(const PGresult *r, int row, int col)
{
    const char *v = mpi_val(r, row, col);
    char *end = NULL;
    double x = strtod(v, &end);

    return end != v ? x : 0.0;
}

char *
mpi_pg_array(struct base_arena *a, const char *const *items, size_t n)
{
    size_t cap = 3;
    char *out;
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        cap += strlen(items[i]) * 2 + 3;
    out = base_arena_alloc(a, cap);
    if (out == NULL)
        return NULL;
    out[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[k++] = ',';
        out[k++] = '"';
        for (const char *p = items[i]; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\')
                out[k++] = '\\';
            out[k++] = *p;
        }
        out[k++] = '"';
    }
    out[k++] = '}';
    out[k] = '\0';
    return out;
}
