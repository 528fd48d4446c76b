/*
 * auth.refresh_tokens: rotated refresh tokens of SMART apps
 * (schemas/sql/gateway/0106_auth_refresh.sql).
 */
#include "gateway/auth/gw_auth_store.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/store_int.h"

int
gw_auth_refresh_put(PGconn *c, const struct gw_auth_refresh *r, int64_t now, struct base_err *err)
{
    char iat[24];
    char exp[24];
    const char *p[7] = {r->token_hash,
                        r->family_id,
                        r->client_id,
                        r->username,
                        r->scope,
                        gw_auth__i64(iat, now),
                        gw_auth__i64(exp, r->expires_at)};

    return gw_auth__exec_cmd(c,
                             "INSERT INTO auth.refresh_tokens (token_hash, family_id, client_id,"
                             " username, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4,"
                             " $5, to_timestamp($6::bigint), to_timestamp($7::bigint))",
                             7, p, "store refresh token", err);
}

/* The token was not taken: a used one (still in its lifetime) means reuse,
 * and its family is revoked.  BASE_E_CONFLICT or BASE_E_NOTFOUND. */
static int
revoke_if_reused(PGconn *c, const char *const p[2], struct base_err *err)
{
    int rc;
    PGresult *res =
        gw_auth__exec(c,
                      "UPDATE auth.refresh_tokens SET revoked_at = coalesce(revoked_at, now())"
                      " WHERE family_id = (SELECT family_id FROM auth.refresh_tokens"
                      " WHERE token_hash = $1 AND used_at IS NOT NULL"
                      " AND expires_at > to_timestamp($2::bigint))",
                      2, p, PGRES_COMMAND_OK, "revoke refresh token family", &rc, err);

    if (res == NULL)
        return rc;
    rc = gw_auth__affected(res) > 0 ? BASE_E_CONFLICT : BASE_E_NOTFOUND;
    PQclear(res);
    return rc;
}

int
gw_auth_refresh_take(PGconn *c, struct base_arena *a, const char *token_hash, int64_t now,
                     struct gw_auth_refresh **out, struct base_err *err)
{
    char t[24];
    const char *p[2] = {token_hash, gw_auth__i64(t, now)};
    struct gw_auth_refresh *r;
    int rc;
    /* One statement decides, so two nodes refreshing at once cannot both win. */
    PGresult *res = gw_auth__exec(
        c,
        "UPDATE auth.refresh_tokens SET used_at = now() WHERE token_hash = $1"
        " AND used_at IS NULL AND revoked_at IS NULL AND expires_at > to_timestamp($2::bigint)"
        " RETURNING family_id, client_id, username, scope,"
        " extract(epoch FROM expires_at)::bigint",
        2, p, PGRES_TUPLES_OK, "redeem refresh token", &rc, err);

    *out = NULL;
    if (res == NULL)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return revoke_if_reused(c, p, err);
    }
    r = BASE_NEW(a, struct gw_auth_refresh);
    if (r != NULL) {
        r->token_hash = base_arena_strdup(a, token_hash);
        r->family_id = gw_auth__col(a, res, 0, 0);
        r->client_id = gw_auth__col(a, res, 0, 1);
        r->username = gw_auth__col(a, res, 0, 2);
        r->scope = gw_auth__col(a, res, 0, 3);
        r->expires_at = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    }
    if (r == NULL || r->token_hash == NULL || r->family_id == NULL || r->client_id == NULL ||
        r->username == NULL || r->scope == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "refresh_tokens", "out of memory");
    else
        *out = r;
    PQclear(res);
    return rc;
}

int
gw_auth_refresh_revoke(PGconn *c, const char *token_hash, const char *client_id,
                       struct base_err *err)
{
    const char *p[2] = {token_hash, client_id};

    return gw_auth__exec_cmd(c,
                             "UPDATE auth.refresh_tokens SET revoked_at = coalesce(revoked_at,"
                             " now()) WHERE family_id = (SELECT family_id FROM"
                             " auth.refresh_tokens WHERE token_hash = $1 AND client_id = $2)",
                             2, p, "revoke refresh token", err);
}

int
gw_auth_refresh_revoke_family(PGconn *c, const char *family_id, struct base_err *err)
{
    const char *p[1] = {family_id};

    return gw_auth__exec_cmd(c,
                             "UPDATE auth.refresh_tokens SET revoked_at = now()"
                             " WHERE family_id = $1 AND revoked_at IS NULL",
                             1, p, "revoke refresh token family", err);
}

int
gw_auth_refresh_purge(PGconn *c, int64_t before, struct base_err *err)
{
    char t[24];
    const char *p[1] = {gw_auth__i64(t, before)};

    return gw_auth__exec_cmd(
        c, "DELETE FROM auth.refresh_tokens WHERE expires_at < to_timestamp($1::bigint)", 1, p,
        "purge refresh tokens", err);
}
