/*
 * libpq plumbing for the store: statements built from trusted SQL text and
 * numbered parameters, array literals for the bulk parameters of
 * store.write(), error mapping that never leaks SQL or values, and row
 * streaming in single-row mode.
 */
#include "adapters/store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/log.h"

/* ---- statements -------------------------------------------------------------- */

void
st_sql_init(struct st_sql *q, struct base_arena *a)
{
    memset(q, 0, sizeof(*q));
    q->a = a;
    q->text = BASE_NEW(a, struct base_buf);
    if (q->text == NULL) {
        q->rc = BASE_E_NOMEM;
        return;
    }
    base_buf_init(q->text, 1u << 20);
    q->rc = base_buf_tie(q->text, a);
}

void
st_sql_add(struct st_sql *q, const char *sql)
{
    if (q->rc == BASE_OK)
        q->rc = base_buf_append_cstr(q->text, sql);
}

size_t
st_fmt_i64(char buf[24], int64_t v)
{
    char tmp[24];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    size_t k = 0;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        buf[k++] = '-';
    while (n > 0)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
    return k;
}

void
st_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0F];
    }
    out[2 * n] = '\0';
}

void
st_sql_param(struct st_sql *q, const char *value, const char *cast)
{
    char num[24];
    size_t len;

    if (q->rc != BASE_OK)
        return;
    if (q->n == q->cap) {
        int ncap = q->cap == 0 ? 16 : q->cap * 2;
        const char **np = base_arena_grow(q->a, q->params, (size_t)q->n, (size_t)ncap, sizeof(*np));

        if (np == NULL || ncap > 65535) {
            q->rc = np == NULL ? BASE_E_NOMEM : BASE_E_LIMIT;
            return;
        }
        q->params = np;
        q->cap = ncap;
    }
    q->params[q->n++] = value;
    len = st_fmt_i64(num, q->n);
    q->rc = base_buf_putc(q->text, '$');
    if (q->rc == BASE_OK)
        q->rc = base_buf_append(q->text, num, len);
    if (q->rc == BASE_OK && cast != NULL)
        q->rc = base_buf_append_cstr(q->text, cast);
}

void
st_sql_param_i64(struct st_sql *q, int64_t v, const char *cast)
{
    char num[24];
    size_t len = st_fmt_i64(num, v);
    char *s = base_arena_strndup(q->a, num, len);

    if (s == NULL && q->rc == BASE_OK)
        q->rc = BASE_E_NOMEM;
    st_sql_param(q, s, cast);
}

const char *
st_sql_text(struct st_sql *q)
{
    return q->rc == BASE_OK && q->text->data != NULL ? q->text->data : NULL;
}

/* ---- array literals ------------------------------------------------------------ */

void
st_arr_init(struct st_arr *x)
{
    memset(x, 0, sizeof(*x));
    base_buf_init(&x->b, BASE_LIMIT_STORE_MAX_WRITE);
    x->rc = base_buf_putc(&x->b, '{');
}

void
st_arr_fini(struct st_arr *x)
{
    base_buf_fini(&x->b);
}

void
st_arr_reset(struct st_arr *x)
{
    base_buf_reset(&x->b);
    x->n = 0;
    x->rc = base_buf_putc(&x->b, '{');
}

static void
arr_sep(struct st_arr *x)
{
    if (x->rc == BASE_OK && x->n++ > 0)
        x->rc = base_buf_putc(&x->b, ',');
}

/* PostgreSQL array input: a double-quoted element takes backslash escapes
 * for '"' and '\'; everything else is literal. */
void
st_arr_textn(struct st_arr *x, const char *s, size_t len)
{
    size_t from = 0;

    arr_sep(x);
    if (x->rc != BASE_OK)
        return;
    x->rc = base_buf_putc(&x->b, '"');
    for (size_t i = 0; x->rc == BASE_OK && i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            x->rc = base_buf_append(&x->b, s + from, i - from);
            if (x->rc == BASE_OK)
                x->rc = base_buf_putc(&x->b, '\\');
            from = i;
        }
    }
    if (x->rc == BASE_OK)
        x->rc = base_buf_append(&x->b, s + from, len - from);
    if (x->rc == BASE_OK)
        x->rc = base_buf_putc(&x->b, '"');
}

void
st_arr_text(struct st_arr *x, const char *s)
{
    if (s == NULL) {
        st_arr_raw(x, "NULL");
        return;
    }
    st_arr_textn(x, s, strlen(s));
}

void
st_arr_i64(struct st_arr *x, int64_t v)
{
    char num[24];
    size_t len = st_fmt_i64(num, v);

    arr_sep(x);
    if (x->rc == BASE_OK)
        x->rc = base_buf_append(&x->b, num, len);
}

void
st_arr_raw(struct st_arr *x, const char *s)
{
    arr_sep(x);
    if (x->rc == BASE_OK)
        x->rc = base_buf_append_cstr(&x->b, s);
}

const char *
st_arr_get(struct st_arr *x)
{
    if (x->rc != BASE_OK)
        return NULL;
    x->rc = base_buf_putc(&x->b, '}');
    if (x->rc != BASE_OK)
        return NULL;
    /* Take the closing brace off again so appending can go on. */
    x->b.len--;
    x->b.data[x->b.len + 1] = '\0';
    return x->b.data;
}

/* ---- errors ---------------------------------------------------------------------- */

bool
st_conn_ok(PGconn *c)
{
    return c != NULL && PQstatus(c) == CONNECTION_OK;
}

int
st_pg_error(PGconn *c, const PGresult *res, const char *what, struct base_err *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int rc;

    if (!st_conn_ok(c))
        rc = base_err_set(err, BASE_E_IO, "transient", NULL, "database connection lost (%s)", what);
    else if (state != NULL && strcmp(state, "23505") == 0)
        rc = base_err_set(err, BASE_E_CONFLICT, "conflict", NULL, "%s: duplicate resource", what);
    else if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        rc = base_err_set(err, BASE_E_CONFLICT, "transient", NULL,
                          "%s: changed concurrently, retry", what);
    else if (state != NULL && strcmp(state, "57014") == 0)
        rc = base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "%s: took too long", what);
    else if (state != NULL && strncmp(state, "22", 2) == 0)
        rc = base_err_set(err, BASE_E_INVALID, "value", NULL, "%s: a value was not accepted", what);
    else
        rc = base_err_set(err, BASE_E_IO, "exception", NULL, "could not %s", what);
    base_err_log_detail(err, "sqlstate=%s", state != NULL ? state : "-");
    BASE_LOG(BASE_LOG_DEBUG, "store_sql_error", "what=\"%s\" sqlstate=%s", what,
             state != NULL ? state : "-");
    return rc;
}

int
st_exec(PGconn *c, const char *sql, int n, const char *const *params, ExecStatusType want,
        const char *what, PGresult **res, struct base_err *err)
{
    PGresult *r;

    *res = NULL;
    if (sql == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory (%s)", what);
    r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (r != NULL && PQresultStatus(r) == want) {
        *res = r;
        return BASE_OK;
    }
    n = st_pg_error(c, r, what, err);
    PQclear(r);
    return n;
}

/* The results of one pipelined query: its own, then NULL. */
static PGresult *
pipe_result(PGconn *c)
{
    PGresult *r = PQgetResult(c);
    PGresult *end;

    while ((end = PQgetResult(c)) != NULL)
        PQclear(end);
    return r;
}

static int
pipe_send(PGconn *c, struct st_txn *t, bool release, const char *sql, int n,
          const char *const *params, int *sent_sp, int *sent_rel)
{
    *sent_sp = !t->set;
    *sent_rel = release && t->release != NULL;
    if (PQenterPipelineMode(c) != 1)
        return 0;
    if (*sent_sp && !PQsendQueryParams(c, t->savepoint, 0, NULL, NULL, NULL, NULL, 0))
        return 0;
    if (!PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, 0))
        return 0;
    if (*sent_rel && !PQsendQueryParams(c, t->release, 0, NULL, NULL, NULL, NULL, 0))
        return 0;
    return PQpipelineSync(c);
}

int
st_exec_txn(PGconn *c, struct st_txn *t, bool release, const char *sql, int n,
            const char *const *params, ExecStatusType want, const char *what, PGresult **res,
            struct base_err *err)
{
    int sent_sp = 0;
    int sent_rel = 0;
    PGresult *r = NULL;
    int rc = BASE_OK;

    *res = NULL;
    if (t == NULL || (t->set && !release))
        return st_exec(c, sql, n, params, want, what, res, err);
    if (sql == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory (%s)", what);
    if (!pipe_send(c, t, release, sql, n, params, &sent_sp, &sent_rel)) {
        rc = st_pg_error(c, NULL, what, err);
    } else {
        if (sent_sp) {
            r = pipe_result(c);
            t->set = PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!t->set)
                rc = st_pg_error(c, r, "set a savepoint", err);
            PQclear(r);
        }
        r = pipe_result(c);
        if (rc == BASE_OK && PQresultStatus(r) == want)
            *res = r;
        else if (rc == BASE_OK)
            rc = st_pg_error(c, r, what, err);
        if (*res == NULL)
            PQclear(r);
        if (sent_rel) {
            r = pipe_result(c);
            t->released = PQresultStatus(r) == PGRES_COMMAND_OK;
            if (rc == BASE_OK && !t->released)
                rc = st_pg_error(c, r, "release a savepoint", err);
            PQclear(r);
        }
    }
    /* the sync point, then back to normal mode */
    while ((r = PQgetResult(c)) != NULL && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        PQclear(r);
    PQclear(r);
    if (PQexitPipelineMode(c) != 1 && rc == BASE_OK)
        rc = st_pg_error(c, NULL, what, err);
    if (rc != BASE_OK) {
        PQclear(*res);
        *res = NULL;
    }
    return rc;
}

int
st_exec_sql(PGconn *c, struct st_sql *q, ExecStatusType want, const char *what, PGresult **res,
            struct base_err *err)
{
    *res = NULL;
    if (q->rc != BASE_OK)
        return base_err_set(err, q->rc, q->rc == BASE_E_LIMIT ? "too-costly" : "exception", NULL,
                            "query too large (%s)", what);
    return st_exec(c, st_sql_text(q), q->n, q->params, want, what, res, err);
}

int
st_command(PGconn *c, const char *sql, const char *what, struct base_err *err)
{
    PGresult *r = NULL;
    int rc = st_exec(c, sql, 0, NULL, PGRES_COMMAND_OK, what, &r, err);

    PQclear(r);
    return rc;
}

/* ---- columns ---------------------------------------------------------------------- */

const char *
st_col(struct base_arena *a, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return base_arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

bool
st_col_i64(const PGresult *r, int row, int col, int64_t *out)
{
    const char *s;
    char *end = NULL;
    long long v;

    if (PQgetisnull(r, row, col))
        return false;
    s = PQgetvalue(r, row, col);
    v = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

const char *
st_i64(char *buf, size_t cap, int64_t v)
{
    snprintf(buf, cap, "%" PRId64, v);
    return buf;
}

bool
st_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0' || strlen(s) > 19)
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* ---- streaming ------------------------------------------------------------------- */

/* The standard row columns 0..6 as a struct (borrowed from the result). */
static bool
stream_row(const PGresult *r, struct adapter_store_row *row)
{
    int64_t v;

    memset(row, 0, sizeof(*row));
    row->type = PQgetvalue(r, 0, 1);
    row->id = PQgetvalue(r, 0, 2);
    if (!st_col_i64(r, 0, 3, &v) || v <= 0 || v > UINT32_MAX ||
        !st_col_i64(r, 0, 4, &row->last_updated_us))
        return false;
    row->version = (uint32_t)v;
    row->deleted = PQgetvalue(r, 0, 5)[0] == 't';
    if (!PQgetisnull(r, 0, 6)) {
        row->json = PQgetvalue(r, 0, 6);
        row->len = (size_t)PQgetlength(r, 0, 6);
    }
    return true;
}

/* Read every remaining result so the connection is usable again. */
static void
drain(PGconn *c)
{
    PGresult *r;

    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
}

static int
stream_one(PGresult *r, struct st_stream *s, const char *what, struct base_err *err)
{
    struct adapter_store_row row;

    if (s->n_seen++ >= s->max_rows)
        return BASE_OK;
    if (!stream_row(r, &row))
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "bad row (%s)", what);
    ENSURE(row.len <= BASE_LIMIT_STORE_MAX_ROW, err, BASE_E_LIMIT, "too-costly", NULL,
           "stored resource too large (%s)", what);
    s->n_rows++;
    return s->row_cb(s->ctx, r, &row);
}

int
st_stream_rows(PGconn *c, struct st_sql *q, const char *what, struct st_stream *s,
               struct base_err *err)
{
    PGresult *r;
    int rc = BASE_OK;

    if (q->rc != BASE_OK)
        return base_err_set(err, q->rc, "exception", NULL, "query too large (%s)", what);
    if (!PQsendQueryParams(c, st_sql_text(q), q->n, NULL, q->params, NULL, NULL, 0) ||
        !PQsetSingleRowMode(c)) {
        drain(c);
        return st_pg_error(c, NULL, what, err);
    }
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType st = PQresultStatus(r);

        if (st == PGRES_SINGLE_TUPLE && rc == BASE_OK)
            rc = stream_one(r, s, what, err);
        else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == BASE_OK)
            rc = st_pg_error(c, r, what, err);
        PQclear(r);
    }
    return rc;
}
