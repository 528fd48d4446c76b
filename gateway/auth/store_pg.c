/*
 * Statement helpers for the auth stores, and the token endpoint's backend
 * bound to one PostgreSQL connection.
 */
#include "gateway/auth/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"

PGresult *
gw_auth__exec(PGconn *c, const char *sql, int n, const char *const *params, ExecStatusType want,
              const char *what, int *rc, struct base_err *err)
{
    PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    const char *state;

    if (res != NULL && PQresultStatus(res) == want) {
        *rc = BASE_OK;
        return res;
    }
    state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && strcmp(state, "23505") == 0)
        *rc = base_err_set(err, BASE_E_CONFLICT, "duplicate", what, "already exists");
    else if (state != NULL && strcmp(state, "23514") == 0)
        *rc = base_err_set(err, BASE_E_INVALID, "value", what, "a value is out of range");
    else
        *rc = base_err_set(err, BASE_E_IO, "exception", what, "could not %s", what);
    base_err_log_detail(err, "sqlstate=%s conn=%s", state != NULL ? state : "-",
                        PQstatus(c) == CONNECTION_OK ? "ok" : "bad");
    PQclear(res);
    return NULL;
}

int
gw_auth__exec_cmd(PGconn *c, const char *sql, int n, const char *const *params, const char *what,
                  struct base_err *err)
{
    int rc;
    PGresult *res = gw_auth__exec(c, sql, n, params, PGRES_COMMAND_OK, what, &rc, err);

    PQclear(res);
    return rc;
}

int
gw_auth__update_one(PGconn *c, const char *sql, int n, const char *const *params, const char *what,
                    const char *missing, struct base_err *err)
{
    int rc;
    PGresult *res = gw_auth__exec(c, sql, n, params, PGRES_COMMAND_OK, what, &rc, err);

    if (res == NULL)
        return rc;
    rc = gw_auth__affected(res) == 1
             ? BASE_OK
             : base_err_set(err, BASE_E_NOTFOUND, "not-found", what, "%s", missing);
    PQclear(res);
    return rc;
}

long
gw_auth__affected(PGresult *res)
{
    const char *t = PQcmdTuples(res);

    return t != NULL && t[0] != '\0' ? strtol(t, NULL, 10) : 0;
}

const char *
gw_auth__col(struct base_arena *a, PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return base_arena_strndup(a, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

const char *
gw_auth__i64(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

/* ------------------------------------------------------------- backend -- */

static int
be_client_get(void *ctx, struct base_arena *a, const char *id, struct gw_auth_client **out,
              struct base_err *err)
{
    return gw_auth_client_get(ctx, a, id, out, err);
}

static int
be_user_get(void *ctx, struct base_arena *a, const char *name, struct gw_auth_user **out,
            struct base_err *err)
{
    return gw_auth_user_get(ctx, a, name, out, err);
}

static int
be_user_rehash(void *ctx, const char *name, const char *hash, struct base_err *err)
{
    return gw_auth_user_set_password(ctx, name, hash, err);
}

static int
be_jti_claim(void *ctx, const char *iss, const char *jti, int64_t exp, int64_t now,
             struct base_err *err)
{
    return gw_auth_jti_claim(ctx, iss, jti, exp, now, err);
}

static int
be_throttle_check(void *ctx, const char *user, const char *addr, int64_t now,
                  struct gw_auth_throttle *out, struct base_err *err)
{
    return gw_auth_throttle_check(ctx, user, addr, now, out, err);
}

static int
be_throttle_fail(void *ctx, const char *user, const char *addr,
                 const struct gw_auth_lockout_policy *p, int64_t now, struct gw_auth_throttle *out,
                 struct base_err *err)
{
    return gw_auth_throttle_fail(ctx, user, addr, p, now, out, err);
}

static int
be_throttle_success(void *ctx, const char *user, struct base_err *err)
{
    return gw_auth_throttle_success(ctx, user, err);
}

static int
be_app_client_get(void *ctx, struct base_arena *a, const char *id, struct gw_auth_app_client **out,
                  struct base_err *err)
{
    return gw_auth_app_client_get(ctx, a, id, out, err);
}

static int
be_code_put(void *ctx, const struct gw_auth_code *code, struct base_err *err)
{
    return gw_auth_code_put(ctx, code, err);
}

static int
be_code_take(void *ctx, struct base_arena *a, const char *hash, int64_t now,
             struct gw_auth_code **out, struct base_err *err)
{
    return gw_auth_code_take(ctx, a, hash, now, out, err);
}

static int
be_refresh_put(void *ctx, const struct gw_auth_refresh *r, int64_t now, struct base_err *err)
{
    return gw_auth_refresh_put(ctx, r, now, err);
}

static int
be_refresh_take(void *ctx, struct base_arena *a, const char *hash, int64_t now,
                struct gw_auth_refresh **out, struct base_err *err)
{
    return gw_auth_refresh_take(ctx, a, hash, now, out, err);
}

static int
be_refresh_revoke(void *ctx, const char *hash, const char *client_id, struct base_err *err)
{
    return gw_auth_refresh_revoke(ctx, hash, client_id, err);
}

static int
be_refresh_revoke_family(void *ctx, const char *family_id, struct base_err *err)
{
    return gw_auth_refresh_revoke_family(ctx, family_id, err);
}

void
gw_auth_backend_pg(struct gw_auth_backend *out, PGconn *conn)
{
    out->ctx = conn;
    out->client_get = be_client_get;
    out->user_get = be_user_get;
    out->user_rehash = be_user_rehash;
    out->jti_claim = be_jti_claim;
    out->throttle_check = be_throttle_check;
    out->throttle_fail = be_throttle_fail;
    out->throttle_success = be_throttle_success;
    out->app_client_get = be_app_client_get;
    out->code_put = be_code_put;
    out->code_take = be_code_take;
    out->refresh_put = be_refresh_put;
    out->refresh_take = be_refresh_take;
    out->refresh_revoke = be_refresh_revoke;
    out->refresh_revoke_family = be_refresh_revoke_family;
}
