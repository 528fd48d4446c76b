/*
 * auth.users: portal users (schemas/sql/gateway/0100_auth_users.sql).
 */
#include "gateway/auth/gw_auth_store.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/store_int.h"

#define USER_COLS "id, username, display_name, role, organization, patient, status"

static int
row_to_user(struct base_arena *a, PGresult *res, int row, bool with_hash, struct gw_auth_user *u,
            struct base_err *err)
{
    const char *role = PQgetvalue(res, row, 3);

    memset(u, 0, sizeof(*u));
    u->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    u->username = gw_auth__col(a, res, row, 1);
    u->display_name = gw_auth__col(a, res, row, 2);
    u->organization = gw_auth__col(a, res, row, 4);
    u->patient = gw_auth__col(a, res, row, 5);
    u->is_enabled = strcmp(PQgetvalue(res, row, 6), "enabled") == 0;
    u->password_hash = with_hash ? gw_auth__col(a, res, row, 7) : NULL;
    ENSURE(u->username != NULL && u->display_name != NULL && (!with_hash || u->password_hash), err,
           BASE_E_NOMEM, "exception", "users", "out of memory");
    ENSURE(gw_auth_role_parse(base_str_from_cstr(role), &u->role), err, BASE_E_INTERNAL,
           "exception", "users", "stored user has an unknown role");
    return BASE_OK;
}

int
gw_auth_user_create(PGconn *c, const struct gw_auth_user *u, struct base_err *err)
{
    const char *p[7] = {u->username,
                        u->display_name != NULL ? u->display_name : "",
                        gw_auth_role_name(u->role),
                        u->organization,
                        u->patient,
                        u->is_enabled ? "enabled" : "disabled",
                        u->password_hash};

    TRY(gw_auth_user_check(u, err));
    ENSURE(u->password_hash != NULL, err, BASE_E_INVALID, "required", "password_hash",
           "a user needs a password");
    return gw_auth__exec_cmd(c,
                             "INSERT INTO auth.users (username, display_name, role, organization,"
                             " patient, status, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                             7, p, "create user", err);
}

int
gw_auth_user_get(PGconn *c, struct base_arena *a, const char *username, struct gw_auth_user **out,
                 struct base_err *err)
{
    const char *p[1] = {username};
    int rc;
    PGresult *res = gw_auth__exec(c,
                                  "SELECT " USER_COLS ", password_hash FROM auth.users"
                                  " WHERE username = $1",
                                  1, p, PGRES_TUPLES_OK, "read user", &rc, err);

    *out = NULL;
    if (res == NULL)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return BASE_E_NOTFOUND; /* not an error worth a message: callers decide */
    }
    *out = BASE_NEW(a, struct gw_auth_user);
    rc = *out != NULL ? row_to_user(a, res, 0, true, *out, err)
                      : base_err_set(err, BASE_E_NOMEM, "exception", "users", "out of memory");
    PQclear(res);
    return rc;
}

int
gw_auth_user_list(PGconn *c, struct base_arena *a, struct gw_auth_user **out, size_t *out_count,
                  struct base_err *err)
{
    int rc;
    PGresult *res = gw_auth__exec(c,
                                  "SELECT " USER_COLS " FROM auth.users ORDER BY username"
                                  " LIMIT 100000",
                                  0, NULL, PGRES_TUPLES_OK, "list users", &rc, err);
    int n;

    *out = NULL;
    *out_count = 0;
    if (res == NULL)
        return rc;
    n = PQntuples(res);
    *out = BASE_NEW_N(a, struct gw_auth_user, (size_t)n + 1);
    rc = *out != NULL ? BASE_OK
                      : base_err_set(err, BASE_E_NOMEM, "exception", "users", "out of memory");
    for (int i = 0; i < n && rc == BASE_OK; i++)
        rc = row_to_user(a, res, i, false, &(*out)[i], err);
    if (rc == BASE_OK)
        *out_count = (size_t)n;
    PQclear(res);
    return rc;
}

int
gw_auth_user_set_enabled(PGconn *c, const char *username, bool enabled, struct base_err *err)
{
    const char *p[2] = {username, enabled ? "enabled" : "disabled"};

    /* Disabling revokes the user's refresh tokens: enabling again later
     * must not bring old grants back. */
    return gw_auth__update_one(c,
                               "WITH r AS (UPDATE auth.refresh_tokens SET revoked_at = now()"
                               " WHERE username = $1 AND $2 = 'disabled' AND revoked_at IS NULL)"
                               " UPDATE auth.users SET status = $2, updated_at = now()"
                               " WHERE username = $1",
                               2, p, "update user", "no such user", err);
}

int
gw_auth_user_set_password(PGconn *c, const char *username, const char *hash, struct base_err *err)
{
    const char *p[2] = {username, hash};

    /* A new password (often because the old one leaked) ends the apps'
     * refresh tokens granted under the old one. */
    return gw_auth__update_one(c,
                               "WITH r AS (UPDATE auth.refresh_tokens SET revoked_at = now()"
                               " WHERE username = $1 AND revoked_at IS NULL)"
                               " UPDATE auth.users SET password_hash = $2,"
                               " password_changed_at = now(), updated_at = now()"
                               " WHERE username = $1",
                               2, p, "update password", "no such user", err);
}

int
gw_auth_user_bootstrap_admin(PGconn *c, const struct gw_auth_user *u, bool *out_created,
                             struct base_err *err)
{
    const char *p[4] = {u->username, u->display_name != NULL ? u->display_name : "",
                        u->is_enabled ? "enabled" : "disabled", u->password_hash};
    PGresult *res = NULL;
    int rc;

    *out_created = false;
    TRY(gw_auth_user_check(u, err));
    ENSURE(u->role == GW_AUTH_ROLE_ADMIN && u->password_hash != NULL, err, BASE_E_INVALID, "value",
           "role", "the first user must be an admin with a password");
    TRY(gw_auth__exec_cmd(c, "BEGIN", 0, NULL, "begin", err));
    /* Serialize concurrent bootstraps (two deploy scripts at once). */
    res = gw_auth__exec(c, "SELECT pg_advisory_xact_lock(hashtext('fhirgate.auth.bootstrap'))", 0,
                        NULL, PGRES_TUPLES_OK, "lock", &rc, err);
    PQclear(res);
    res = NULL;
    if (rc == BASE_OK) {
        res = gw_auth__exec(c,
                            "INSERT INTO auth.users (username, display_name, role, status,"
                            " password_hash) SELECT $1, $2, 'admin', $3, $4"
                            " WHERE NOT EXISTS (SELECT 1 FROM auth.users WHERE role = 'admin')",
                            4, p, PGRES_COMMAND_OK, "create admin", &rc, err);
    }
    if (rc == BASE_OK) {
        *out_created = gw_auth__affected(res) == 1;
        rc = gw_auth__exec_cmd(c, "COMMIT", 0, NULL, "commit", err);
    } else {
        PQclear(PQexecParams(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0)); /* best effort */
    }
    PQclear(res);
    return rc;
}
