/*
 * One libpq connection: open with session settings, run statements with a
 * client-side deadline, map server errors to base_err without SQL or values.
 *
 * Every round trip is asynchronous (PQsend* + poll on the socket) so that a
 * server that stops answering — frozen, partitioned away — costs the caller
 * at most statement_timeout + deadline_grace_ms; the connection is then
 * declared broken and closed.  No PQcancel: it connects without a timeout
 * and would hang on the very server we are escaping from.
 */
#include "gateway/db/gw_db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/base/str.h"
#include "gateway/db/db_int.h"

int64_t
gw_db__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
gw_db_config_defaults(struct gw_db_config *c)
{
    memset(c, 0, sizeof(*c));
    c->application_name = "fhirgate";
    c->pool_size = 8;
    c->borrow_timeout_ms = 2000;
    c->connect_timeout_s = 5;
    c->statement_timeout_ms = 10000;
    c->lock_timeout_ms = 2000;
    c->idle_tx_timeout_ms = 60000;
    c->deadline_grace_ms = 2000;
    c->reconnect_min_ms = 100;
    c->reconnect_max_ms = 2000;
}

/* ------------------------------------------------------------ errors -- */

static int
map_sqlstate(struct gw_db_conn *c, const char *what, const char *state, const char *primary,
             struct base_err *err)
{
    const char *why = "database error";
    int rc = BASE_E_IO;

    if (state == NULL)
        state = "";
    snprintf(c->sqlstate, sizeof(c->sqlstate), "%.5s", state);
    snprintf(c->message, sizeof(c->message), "%s", primary != NULL ? primary : "");
    if (strcmp(state, "57014") == 0) {
        why = "statement timed out";
    } else if (strcmp(state, "55P03") == 0) {
        why = "lock not available within the lock timeout";
    } else if (strcmp(state, "23505") == 0) {
        rc = BASE_E_CONFLICT;
        why = "duplicate key";
    } else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
        rc = BASE_E_CONFLICT;
        why = "transaction conflict";
    } else if (strcmp(state, "42501") == 0) {
        rc = BASE_E_AUTH;
        why = "permission denied";
    } else if (strncmp(state, "22", 2) == 0) {
        rc = BASE_E_INVALID;
        why = "invalid parameter value";
    } else if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
        why = "connection to the database lost";
    } else if (strncmp(state, "53", 2) == 0) {
        why = "database out of resources";
    } else if (strcmp(state, "25P02") == 0) {
        why = "transaction already failed";
    }
    base_err_set(err, rc, rc == BASE_E_IO ? "transient" : "processing", what,
                 "could not run %s: %s", what, why);
    base_err_log_detail(err, "sqlstate=%s", state[0] != '\0' ? state : "none");
    return rc;
}

static int
conn_lost(struct gw_db_conn *c, const char *what, const char *why, struct base_err *err)
{
    c->broken = true;
    snprintf(c->sqlstate, sizeof(c->sqlstate), "08006");
    snprintf(c->message, sizeof(c->message), "%s", why);
    base_err_set(err, BASE_E_IO, "transient", what, "could not run %s: %s", what, why);
    base_err_log_detail(err, "sqlstate=08006");
    return BASE_E_IO;
}

/* ----------------------------------------------------------- waiting -- */

/*
 * Wait for the complete answer to what was just sent.  Returns the last
 * result (an error result is turned into an error and cleared).  A COPY OUT
 * result is returned as is for the caller to drain.
 */
static int
collect(struct gw_db_conn *c, const char *what, PGresult **out, struct base_err *err)
{
    int64_t deadline = -1;
    PGresult *last = NULL;
    PGresult *failed = NULL;
    int rc = BASE_OK;

    *out = NULL;
    if (c->timeout_ms > 0)
        deadline = gw_db__now_ms() + c->timeout_ms + c->cfg->deadline_grace_ms;
    for (;;) {
        int fl = PQflush(c->pg);
        struct pollfd pfd;
        int wait_ms = -1;
        int pr;

        if (fl < 0) {
            rc = conn_lost(c, what, "connection to the database lost", err);
            goto out;
        }
        if (fl == 0 && !PQisBusy(c->pg)) {
            PGresult *r = PQgetResult(c->pg);
            ExecStatusType st;

            if (r == NULL)
                break;
            st = PQresultStatus(r);
            if (st == PGRES_COPY_OUT) {
                PQclear(last);
                last = r;
                break;
            }
            if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
                if (failed == NULL)
                    failed = r;
                else
                    PQclear(r);
                continue;
            }
            if (st == PGRES_COPY_IN || st == PGRES_COPY_BOTH) {
                PQclear(r);
                rc = conn_lost(c, what, "unexpected copy protocol", err);
                goto out;
            }
            PQclear(last);
            last = r;
            continue;
        }
        if (deadline >= 0) {
            int64_t left = deadline - gw_db__now_ms();

            if (left <= 0) {
                rc = conn_lost(c, what, "database did not answer in time", err);
                goto out;
            }
            wait_ms = left > 60000 ? 60000 : (int)left;
        }
        pfd.fd = PQsocket(c->pg);
        pfd.events = (short)(POLLIN | (fl == 1 ? POLLOUT : 0));
        pfd.revents = 0;
        if (pfd.fd < 0) {
            rc = conn_lost(c, what, "connection to the database lost", err);
            goto out;
        }
        pr = poll(&pfd, 1, wait_ms);
        if (pr < 0 && errno != EINTR) {
            rc = conn_lost(c, what, "could not wait for the database", err);
            goto out;
        }
        if (pr > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(c->pg)) {
            rc = conn_lost(c, what, "connection to the database lost", err);
            goto out;
        }
    }
    if (failed != NULL) {
        rc = map_sqlstate(c, what, PQresultErrorField(failed, PG_DIAG_SQLSTATE),
                          PQresultErrorField(failed, PG_DIAG_MESSAGE_PRIMARY), err);
        if (PQstatus(c->pg) != CONNECTION_OK)
            c->broken = true;
        goto out;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        rc = conn_lost(c, what, "connection to the database lost", err);
        goto out;
    }
    if (last == NULL) {
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", what, "could not run %s: no result",
                          what);
        goto out;
    }
    *out = last;
    last = NULL;
out:
    PQclear(last);
    PQclear(failed);
    return rc;
}

static int
check_usable(struct gw_db_conn *c, const char *what, struct base_err *err)
{
    if (c == NULL || c->pg == NULL || c->broken)
        return base_err_set(err, BASE_E_IO, "transient", what,
                            "could not run %s: connection to the database lost", what);
    return BASE_OK;
}

static int
finish(struct gw_db_conn *c, const char *what, PGresult **out, struct base_err *err)
{
    PGresult *res = NULL;
    int rc = collect(c, what, &res, err);

    if (rc != BASE_OK)
        return rc;
    if (PQresultStatus(res) == PGRES_COPY_OUT) {
        PQclear(res);
        return conn_lost(c, what, "unexpected copy protocol", err);
    }
    c->sqlstate[0] = '\0';
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return BASE_OK;
}

/* -------------------------------------------------------- statements -- */

int
gw_db_exec(struct gw_db_conn *c, const char *what, const char *sql, int n, const char *const *vals,
           PGresult **out, struct base_err *err)
{
    if (out != NULL)
        *out = NULL;
    TRY(check_usable(c, what, err));
    ENSURE(n >= 0 && (unsigned)n <= BASE_LIMIT_DB_PARAMS, err, BASE_E_LIMIT, "too-costly", what,
           "could not run %s: too many parameters", what);
    if (!PQsendQueryParams(c->pg, sql, n, NULL, vals, NULL, NULL, 0))
        return conn_lost(c, what, "could not send to the database", err);
    return finish(c, what, out, err);
}

static bool
is_prepared(const struct gw_db_conn *c, const struct gw_db_stmt *st)
{
    for (unsigned i = 0; i < c->nprepared; i++) {
        if (strcmp(c->prepared[i], st->name) == 0)
            return true;
    }
    return false;
}

int
gw_db_exec_stmt(struct gw_db_conn *c, const struct gw_db_stmt *st, const char *const *vals,
                PGresult **out, struct base_err *err)
{
    if (out != NULL)
        *out = NULL;
    TRY(check_usable(c, st->name, err));
    if (!is_prepared(c, st)) {
        if (c->nprepared >= GW_DB__MAX_PREPARED || strlen(st->name) > GW_DB__MAX_STMT_NAME)
            return gw_db_exec(c, st->name, st->sql, st->nparams, vals, out, err);
        if (!PQsendPrepare(c->pg, st->name, st->sql, st->nparams, NULL))
            return conn_lost(c, st->name, "could not send to the database", err);
        TRY(finish(c, st->name, NULL, err));
        snprintf(c->prepared[c->nprepared++], sizeof(c->prepared[0]), "%s", st->name);
    }
    if (!PQsendQueryPrepared(c->pg, st->name, st->nparams, vals, NULL, NULL, 0))
        return conn_lost(c, st->name, "could not send to the database", err);
    return finish(c, st->name, out, err);
}

int
gw_db_begin(struct gw_db_conn *c, const char *mode, struct base_err *err)
{
    static const char *const modes[][2] = {
        {"REPEATABLE READ", "BEGIN ISOLATION LEVEL REPEATABLE READ"},
        {"REPEATABLE READ READ ONLY", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
        {"SERIALIZABLE", "BEGIN ISOLATION LEVEL SERIALIZABLE"},
    };
    const char *sql = "BEGIN";

    if (mode != NULL) {
        sql = NULL;
        for (size_t i = 0; i < BASE_ARRAY_LEN(modes); i++) {
            if (strcmp(mode, modes[i][0]) == 0)
                sql = modes[i][1];
        }
        ENSURE(sql != NULL, err, BASE_E_INTERNAL, "exception", "db.begin",
               "unknown transaction mode");
    }
    return gw_db_exec(c, "db.begin", sql, 0, NULL, NULL, err);
}

int
gw_db_commit(struct gw_db_conn *c, struct base_err *err)
{
    PGresult *res = NULL;
    int rc = gw_db_exec(c, "db.commit", "COMMIT", 0, NULL, &res, err);

    /* COMMIT of a failed transaction answers "ROLLBACK" instead of failing. */
    if (rc == BASE_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        rc = base_err_set(err, BASE_E_IO, "transient", "db.commit",
                          "could not run db.commit: transaction was rolled back");
    PQclear(res);
    return rc;
}

void
gw_db_rollback(struct gw_db_conn *c)
{
    struct base_err ignored = {0};

    if (c == NULL || c->pg == NULL || c->broken)
        return;
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return;
    if (gw_db_exec(c, "db.rollback", "ROLLBACK", 0, NULL, NULL, &ignored) != BASE_OK)
        c->broken = true;
}

int
gw_db_set_local(struct gw_db_conn *c, const char *name, const char *value, struct base_err *err)
{
    const char *vals[2] = {name, value};

    return gw_db_exec(c, "db.set_local", "SELECT set_config($1, $2, true)", 2, vals, NULL, err);
}

static int
apply_timeouts(struct gw_db_conn *c, unsigned stmt_ms, struct base_err *err)
{
    char st[16];
    char lk[16];
    char idle[16];
    const char *vals[3] = {st, lk, idle};

    snprintf(st, sizeof(st), "%u", stmt_ms);
    snprintf(lk, sizeof(lk), "%u", c->cfg->lock_timeout_ms);
    snprintf(idle, sizeof(idle), "%u", c->cfg->idle_tx_timeout_ms);
    TRY(gw_db_exec(c, "db.session",
                   "SELECT set_config('statement_timeout', $1, false), "
                   "set_config('lock_timeout', $2, false), "
                   "set_config('idle_in_transaction_session_timeout', $3, false)",
                   3, vals, NULL, err));
    c->timeout_ms = stmt_ms;
    return BASE_OK;
}

int
gw_db_conn_set_timeout(struct gw_db_conn *c, unsigned statement_timeout_ms, struct base_err *err)
{
    return apply_timeouts(c, statement_timeout_ms, err);
}

/* ---------------------------------------------------------- copy out -- */

int
gw_db_copy_out(struct gw_db_conn *c, const char *what, const char *sql, gw_db_copy_sink_fn sink,
               void *ctx, struct base_err *err)
{
    PGresult *res = NULL;
    int rc;

    TRY(check_usable(c, what, err));
    if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0))
        return conn_lost(c, what, "could not send to the database", err);
    TRY(collect(c, what, &res, err));
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        PQclear(res);
        return base_err_set(err, BASE_E_INTERNAL, "exception", what,
                            "could not run %s: not a COPY TO STDOUT statement", what);
    }
    PQclear(res);
    /* Blocking reads here: COPY runs under the statement timeout, and a
     * stalled server is caught by TCP keepalives. */
    (void)PQsetnonblocking(c->pg, 0);
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(c->pg, &buf, 0);

        if (n == -1)
            break;
        if (n < 0) {
            (void)PQsetnonblocking(c->pg, 1);
            return conn_lost(c, what, "connection to the database lost", err);
        }
        rc = sink(ctx, buf, (size_t)n);
        PQfreemem(buf);
        if (rc < 0) {
            c->broken = true;
            (void)PQsetnonblocking(c->pg, 1);
            return base_err_set(err, rc, "exception", what, "could not write the %s output", what);
        }
    }
    (void)PQsetnonblocking(c->pg, 1);
    return finish(c, what, NULL, err);
}

/* --------------------------------------------------------- open/close -- */

/* Server notices ("relation already exists, skipping") would go to stderr
 * verbatim; they are routine, so only their SQLSTATE reaches the debug log. */
static void
on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    BASE_LOG(BASE_LOG_DEBUG, "db.notice", "sqlstate=%s",
             PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL
                 ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                 : "none");
}

int
gw_db__open(struct gw_db_conn *c, struct base_err *err)
{
    char timeout[16];
    const char *keys[] = {"connect_timeout",  "application_name", "client_encoding",
                          "keepalives",       "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "dbname",           NULL};
    const char *vals[BASE_ARRAY_LEN(keys)];
    const char *msg;
    int rc;

    gw_db__close(c);
    snprintf(timeout, sizeof(timeout), "%u",
             c->cfg->connect_timeout_s < 2 ? 2 : c->cfg->connect_timeout_s);
    vals[0] = timeout;
    vals[1] = c->cfg->application_name != NULL ? c->cfg->application_name : "fhirgate";
    vals[2] = "UTF8";
    vals[3] = "1";
    vals[4] = "30";
    vals[5] = "10";
    vals[6] = "3";
    /* dbname last: settings in the URL win over these defaults */
    vals[7] = c->cfg->url;
    vals[8] = NULL;
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "db.connect",
                            "could not connect to the database: out of memory");
    if (PQstatus(c->pg) != CONNECTION_OK) {
        msg = PQerrorMessage(c->pg);
        rc = base_err_set(
            err, BASE_E_IO, "transient", "db.connect", "could not connect to the database: %s",
            (strstr(msg, "authentication") != NULL || strstr(msg, "pg_hba.conf") != NULL ||
             strstr(msg, "does not exist") != NULL)
                ? "the server refused the login"
                : "database unavailable");
        gw_db__close(c);
        return rc;
    }
    PQsetNoticeReceiver(c->pg, on_notice, NULL);
    if (PQsetnonblocking(c->pg, 1) != 0) {
        gw_db__close(c);
        return base_err_set(err, BASE_E_IO, "transient", "db.connect",
                            "could not connect to the database: cannot use non-blocking mode");
    }
    c->broken = false;
    c->nprepared = 0;
    c->timeout_ms = c->cfg->statement_timeout_ms;
    rc = apply_timeouts(c, c->cfg->statement_timeout_ms, err);
    if (rc != BASE_OK)
        gw_db__close(c);
    return rc;
}

void
gw_db__close(struct gw_db_conn *c)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
    c->broken = false;
    c->nprepared = 0;
}

bool
gw_db__alive(struct gw_db_conn *c)
{
    struct pollfd pfd;

    if (c->pg == NULL || c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return false;
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return false;
    pfd.fd = PQsocket(c->pg);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (pfd.fd < 0)
        return false;
    /* An idle connection has nothing to read unless the server is telling
     * us it is going away (a FATAL error, then end of file: shutdown,
     * pg_terminate_backend, idle timeout) or closed the socket.  Anything
     * readable while idle is treated as that: a rare needless reconnect is
     * cheaper than handing a dying connection to a request. */
    return poll(&pfd, 1, 0) == 0;
}

struct standalone {
    struct gw_db_conn conn;
    struct gw_db_config cfg;
    char url[]; /* copy of cfg->url */
};

int
gw_db_connect(const struct gw_db_config *cfg, struct gw_db_conn **out, struct base_err *err)
{
    struct standalone *s;
    size_t ulen;
    int rc;

    *out = NULL;
    ENSURE(cfg != NULL && cfg->url != NULL, err, BASE_E_INVALID, "required", "database",
           "no database URL configured");
    TRY(gw_db_url_check(cfg->url, err));
    ulen = strlen(cfg->url);
    s = base_calloc(1, sizeof(*s) + ulen + 1);
    ENSURE(s != NULL, err, BASE_E_NOMEM, "exception", "db.connect", "out of memory");
    memcpy(s->url, cfg->url, ulen + 1);
    s->cfg = *cfg;
    s->cfg.url = s->url;
    s->conn.cfg = &s->cfg;
    rc = gw_db__open(&s->conn, err);
    if (rc != BASE_OK) {
        base_free(s);
        return rc;
    }
    *out = &s->conn;
    return BASE_OK;
}

void
gw_db_conn_free(struct gw_db_conn *c)
{
    if (c == NULL)
        return;
    BASE_ASSERT(c->pool == NULL);
    gw_db__close(c);
    /* conn is the first member of struct standalone */
    base_free(c);
}

PGconn *
gw_db_conn_pg(struct gw_db_conn *c)
{
    return c->pg;
}

bool
gw_db_conn_ok(const struct gw_db_conn *c)
{
    return c != NULL && c->pg != NULL && !c->broken && PQstatus(c->pg) == CONNECTION_OK;
}

const char *
gw_db_conn_sqlstate(const struct gw_db_conn *c)
{
    return c->sqlstate;
}

/* ----------------------------------------------------------- results -- */

static void
clear_result(void *res)
{
    PQclear(res);
}

int
gw_db_res_tie(struct base_arena *a, PGresult *res)
{
    return base_arena_on_free(a, clear_result, res);
}

const char *
gw_db_val(const PGresult *res, int row, int col)
{
    if (res == NULL || row < 0 || col < 0 || row >= PQntuples(res) || col >= PQnfields(res) ||
        PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}

bool
gw_db_val_i64(const PGresult *res, int row, int col, int64_t *out)
{
    const char *v = gw_db_val(res, row, col);

    return v != NULL && base_str_to_i64(base_str_from_cstr(v), out);
}

bool
gw_db_val_bool(const PGresult *res, int row, int col)
{
    const char *v = gw_db_val(res, row, col);

    return v != NULL && v[0] == 't';
}
