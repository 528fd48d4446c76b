/*
 * auth.login_throttle and auth.jti_seen: failed sign-in counters with
 * lockout, and the client-assertion replay cache.  Each update is a single
 * statement, so concurrent gateway nodes count every failure exactly once.
 */
#include "gateway/auth/gw_auth_store.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/auth/store_int.h"

/* Lock state from rows of (kind, locked_until epoch or NULL). */
static void
read_locks(PGresult *res, int64_t now, struct gw_auth_throttle *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t until;

        if (PQgetisnull(res, i, 1))
            continue;
        until = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        if (until <= now)
            continue;
        out->is_locked = true;
        out->by_address = out->by_address || strcmp(PQgetvalue(res, i, 0), "addr") == 0;
        if (until - now > out->retry_after)
            out->retry_after = until - now;
    }
}

/* Run a statement returning (kind, locked_until) rows into *out. */
static int
query_locks(PGconn *c, const char *sql, int n, const char *const *p, int64_t now, const char *what,
            struct gw_auth_throttle *out, struct base_err *err)
{
    int rc;
    PGresult *res = gw_auth__exec(c, sql, n, p, PGRES_TUPLES_OK, what, &rc, err);

    if (res == NULL)
        return rc;
    read_locks(res, now, out);
    PQclear(res);
    return BASE_OK;
}

int
gw_auth_throttle_check(PGconn *c, const char *username, const char *addr, int64_t now,
                       struct gw_auth_throttle *out, struct base_err *err)
{
    char t[24];
    const char *p[3] = {username, addr, gw_auth__i64(t, now)};

    return query_locks(c,
                       "SELECT kind, extract(epoch FROM locked_until)::bigint"
                       " FROM auth.login_throttle"
                       " WHERE ((kind = 'user' AND key = $1) OR (kind = 'addr' AND key = $2))"
                       " AND locked_until > to_timestamp($3::bigint)",
                       3, p, now, "read sign-in throttle", out, err);
}

int
gw_auth_throttle_fail(PGconn *c, const char *username, const char *addr,
                      const struct gw_auth_lockout_policy *pol, int64_t now,
                      struct gw_auth_throttle *out, struct base_err *err)
{
    char t_now[24], t_umax[24], t_amax[24], t_lock[24], t_cut[24];
    const char *p[7] = {username,
                        addr,
                        gw_auth__i64(t_now, now),
                        gw_auth__i64(t_umax, pol->user_max_failures),
                        gw_auth__i64(t_amax, pol->addr_max_failures),
                        gw_auth__i64(t_lock, pol->lock_duration),
                        gw_auth__i64(t_cut, now - pol->window)};
    /* A counter whose window started at or before the cut-off starts over. */
    return query_locks(
        c,
        "INSERT INTO auth.login_throttle AS t (kind, key, failures, window_start, locked_until)"
        " SELECT v.kind, v.key, 1, to_timestamp($3::bigint),"
        "        CASE WHEN 1 >= v.maxf THEN to_timestamp($3::bigint + $6::bigint) END"
        "   FROM (VALUES ('user', $1::text, $4::int), ('addr', $2::text, $5::int))"
        "        AS v(kind, key, maxf)"
        " ON CONFLICT (kind, key) DO UPDATE SET"
        "  failures = CASE WHEN t.window_start <= to_timestamp($7::bigint) THEN 1"
        "                  ELSE t.failures + 1 END,"
        "  window_start = CASE WHEN t.window_start <= to_timestamp($7::bigint)"
        "                      THEN to_timestamp($3::bigint) ELSE t.window_start END,"
        "  locked_until = CASE WHEN (CASE WHEN t.window_start <= to_timestamp($7::bigint) THEN 1"
        "                                 ELSE t.failures + 1 END)"
        "                           >= (CASE WHEN t.kind = 'user' THEN $4::int ELSE $5::int END)"
        "                      THEN to_timestamp($3::bigint + $6::bigint)"
        "                      ELSE t.locked_until END"
        " RETURNING kind, extract(epoch FROM locked_until)::bigint",
        7, p, now, "record failed sign-in", out, err);
}

int
gw_auth_throttle_success(PGconn *c, const char *username, struct base_err *err)
{
    const char *p[1] = {username};

    return gw_auth__exec_cmd(c, "DELETE FROM auth.login_throttle WHERE kind = 'user' AND key = $1",
                             1, p, "reset sign-in throttle", err);
}

int
gw_auth_throttle_clear(PGconn *c, const char *username, struct base_err *err)
{
    return gw_auth_throttle_success(c, username, err);
}

int
gw_auth_throttle_purge(PGconn *c, int64_t before, struct base_err *err)
{
    char t[24];
    const char *p[1] = {gw_auth__i64(t, before)};

    return gw_auth__exec_cmd(
        c,
        "DELETE FROM auth.login_throttle"
        " WHERE window_start < to_timestamp($1::bigint)"
        " AND (locked_until IS NULL OR locked_until < to_timestamp($1::bigint))",
        1, p, "purge sign-in throttle", err);
}

int
gw_auth_jti_claim(PGconn *c, const char *issuer, const char *jti, int64_t expires_at, int64_t now,
                  struct base_err *err)
{
    char t_exp[24], t_now[24];
    const char *p[3] = {issuer, jti, gw_auth__i64(t_exp, expires_at)};
    const char *del[3] = {issuer, jti, gw_auth__i64(t_now, now)};
    PGresult *res;
    int rc;

    ENSURE(issuer != NULL && jti != NULL, err, BASE_E_INVALID, "required", "jti",
           "a jti is required");
    /* An expired entry no longer protects anything: let it be replaced. */
    TRY(gw_auth__exec_cmd(c,
                          "DELETE FROM auth.jti_seen WHERE issuer = $1 AND jti = $2"
                          " AND expires_at < to_timestamp($3::bigint)",
                          3, del, "record assertion id", err));
    /* Concurrent claims of one jti: the primary key lets exactly one win. */
    res = gw_auth__exec(c,
                        "INSERT INTO auth.jti_seen (issuer, jti, expires_at)"
                        " VALUES ($1, $2, to_timestamp($3::bigint)) ON CONFLICT DO NOTHING"
                        " RETURNING 1",
                        3, p, PGRES_TUPLES_OK, "record assertion id", &rc, err);
    if (res == NULL)
        return rc;
    rc = PQntuples(res) == 1 ? BASE_OK
                             : base_err_set(err, BASE_E_CONFLICT, "duplicate", "jti",
                                            "assertion id was already used");
    PQclear(res);
    return rc;
}

int
gw_auth_jti_purge(PGconn *c, int64_t now, struct base_err *err)
{
    char t[24];
    const char *p[1] = {gw_auth__i64(t, now)};

    return gw_auth__exec_cmd(
        c, "DELETE FROM auth.jti_seen WHERE expires_at < to_timestamp($1::bigint)", 1, p,
        "purge assertion ids", err);
}
