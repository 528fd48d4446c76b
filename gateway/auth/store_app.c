/*
 * auth.app_clients and auth.codes: SMART App Launch public clients and
 * their authorization codes (schemas/sql/gateway/0105_auth_codes.sql).
 */
#include "gateway/auth/gw_auth_store.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "gateway/auth/store_int.h"

#define APP_COLS                                                                                   \
    "client_id, display_name, array_to_string(redirect_uris, ' '), allowed_scopes, status"

int
gw_auth_app_client_check(const struct gw_auth_app_client *cl, struct base_err *err)
{
    struct base_arena *a;
    struct gw_auth_scopes s;
    int rc;

    TRY(gw_auth__client_id_check(cl->client_id, err));
    ENSURE(cl->display_name == NULL || strlen(cl->display_name) <= 256, err, BASE_E_INVALID,
           "value", "display_name", "display name exceeds 256 bytes");
    ENSURE(cl->redirect_count >= 1 && cl->redirect_count <= BASE_LIMIT_AUTH_MAX_REDIRECT_URIS, err,
           BASE_E_INVALID, "required", "redirect_uri", "an app needs 1-%u redirect URIs",
           BASE_LIMIT_AUTH_MAX_REDIRECT_URIS);
    for (size_t i = 0; i < cl->redirect_count; i++)
        TRY(gw_auth_redirect_uri_check(cl->redirect_uris[i], err));
    ENSURE(cl->allowed_scopes != NULL && cl->allowed_scopes[0] != '\0', err, BASE_E_INVALID,
           "required", "scope", "an app needs allowed scopes");
    a = base_arena_new(1u << 20);
    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "client", "out of memory");
    rc = gw_auth_scopes_parse(a, base_str_from_cstr(cl->allowed_scopes), &s, err);
    if (rc == BASE_OK && s.count == 0)
        rc = base_err_set(err, BASE_E_INVALID, "value", "scope",
                          "allowed scopes must include at least one resource scope");
    base_arena_free(a);
    return rc;
}

int
gw_auth_app_client_put(PGconn *c, const struct gw_auth_app_client *cl, struct base_err *err)
{
    struct base_buf uris;
    const char *p[5];
    int rc;

    TRY(gw_auth_app_client_check(cl, err));
    /* Checked URIs hold no spaces, so a space joins them for string_to_array. */
    base_buf_init(&uris,
                  BASE_LIMIT_AUTH_MAX_REDIRECT_URIS * (BASE_LIMIT_AUTH_MAX_REDIRECT_URI + 1));
    rc = BASE_OK;
    for (size_t i = 0; i < cl->redirect_count && rc == BASE_OK; i++) {
        if (i > 0)
            rc = base_buf_putc(&uris, ' ');
        if (rc == BASE_OK)
            rc = base_buf_append_cstr(&uris, cl->redirect_uris[i]);
    }
    if (rc != BASE_OK) {
        base_buf_fini(&uris);
        return base_err_set(err, BASE_E_NOMEM, "exception", "client", "out of memory");
    }
    p[0] = cl->client_id;
    p[1] = cl->display_name != NULL ? cl->display_name : "";
    p[2] = uris.data;
    p[3] = cl->allowed_scopes;
    p[4] = cl->is_enabled ? "enabled" : "disabled";
    rc = gw_auth__exec_cmd(
        c,
        "INSERT INTO auth.app_clients (client_id, display_name, redirect_uris, allowed_scopes,"
        " status) VALUES ($1, $2, string_to_array($3, ' '), $4, $5)"
        " ON CONFLICT (client_id) DO UPDATE SET display_name = EXCLUDED.display_name,"
        " redirect_uris = EXCLUDED.redirect_uris, allowed_scopes = EXCLUDED.allowed_scopes,"
        " status = EXCLUDED.status, updated_at = now()",
        5, p, "store app client", err);
    base_buf_fini(&uris);
    return rc;
}

static int
row_to_app(struct base_arena *a, PGresult *res, int row, struct gw_auth_app_client *cl,
           struct base_err *err)
{
    char *uris = (char *)gw_auth__col(a, res, row, 2);
    size_t n = 0;

    cl->client_id = gw_auth__col(a, res, row, 0);
    cl->display_name = gw_auth__col(a, res, row, 1);
    cl->allowed_scopes = gw_auth__col(a, res, row, 3);
    cl->is_enabled = strcmp(PQgetvalue(res, row, 4), "enabled") == 0;
    cl->redirect_uris = BASE_NEW_N(a, const char *, BASE_LIMIT_AUTH_MAX_REDIRECT_URIS);
    if (cl->client_id == NULL || cl->allowed_scopes == NULL || uris == NULL ||
        cl->redirect_uris == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "app_clients", "out of memory");
    for (char *save = NULL, *t = strtok_r(uris, " ", &save);
         t != NULL && n < BASE_LIMIT_AUTH_MAX_REDIRECT_URIS; t = strtok_r(NULL, " ", &save))
        cl->redirect_uris[n++] = t;
    cl->redirect_count = n;
    return BASE_OK;
}

int
gw_auth_app_client_get(PGconn *c, struct base_arena *a, const char *client_id,
                       struct gw_auth_app_client **out, struct base_err *err)
{
    const char *p[1] = {client_id};
    struct gw_auth_app_client *cl;
    int rc;
    PGresult *res =
        gw_auth__exec(c, "SELECT " APP_COLS " FROM auth.app_clients WHERE client_id = $1", 1, p,
                      PGRES_TUPLES_OK, "read app client", &rc, err);

    *out = NULL;
    if (res == NULL)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return BASE_E_NOTFOUND;
    }
    cl = BASE_NEW(a, struct gw_auth_app_client);
    rc = cl != NULL ? row_to_app(a, res, 0, cl, err)
                    : base_err_set(err, BASE_E_NOMEM, "exception", "app_clients", "out of memory");
    if (rc == BASE_OK)
        *out = cl;
    PQclear(res);
    return rc;
}

int
gw_auth_app_client_list(PGconn *c, struct base_arena *a, struct gw_auth_app_client **out,
                        size_t *out_count, struct base_err *err)
{
    int rc;
    PGresult *res = gw_auth__exec(c,
                                  "SELECT " APP_COLS " FROM auth.app_clients ORDER BY client_id"
                                  " LIMIT 100000",
                                  0, NULL, PGRES_TUPLES_OK, "list app clients", &rc, err);
    int n;

    *out = NULL;
    *out_count = 0;
    if (res == NULL)
        return rc;
    n = PQntuples(res);
    *out = BASE_NEW_N(a, struct gw_auth_app_client, (size_t)n + 1);
    rc = *out != NULL
             ? BASE_OK
             : base_err_set(err, BASE_E_NOMEM, "exception", "app_clients", "out of memory");
    for (int i = 0; i < n && rc == BASE_OK; i++)
        rc = row_to_app(a, res, i, &(*out)[i], err);
    if (rc == BASE_OK)
        *out_count = (size_t)n;
    PQclear(res);
    return rc;
}

int
gw_auth_app_client_set_enabled(PGconn *c, const char *client_id, bool enabled, struct base_err *err)
{
    const char *p[2] = {client_id, enabled ? "enabled" : "disabled"};

    /* Disabling revokes the app's refresh tokens (see store_user.c). */
    return gw_auth__update_one(c,
                               "WITH r AS (UPDATE auth.refresh_tokens SET revoked_at = now()"
                               " WHERE client_id = $1 AND $2 = 'disabled' AND revoked_at IS NULL)"
                               " UPDATE auth.app_clients SET status = $2, updated_at = now()"
                               " WHERE client_id = $1",
                               2, p, "update app client", "no such app client", err);
}

/* ------------------------------------------------------------- codes -- */

int
gw_auth_code_put(PGconn *c, const struct gw_auth_code *code, struct base_err *err)
{
    char exp[24];
    const char *p[8] = {code->code_hash,      code->client_id, code->redirect_uri,
                        code->code_challenge, code->username,  code->scope,
                        gw_auth__i64(exp, code->expires_at), code->nonce};

    return gw_auth__exec_cmd(c,
                             "INSERT INTO auth.codes (code_hash, client_id, redirect_uri,"
                             " code_challenge, username, scope, expires_at, nonce)"
                             " VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint), $8)",
                             8, p, "store authorization code", err);
}

int
gw_auth_code_take(PGconn *c, struct base_arena *a, const char *code_hash, int64_t now,
                  struct gw_auth_code **out, struct base_err *err)
{
    const char *p[1] = {code_hash};
    struct gw_auth_code *code;
    int rc;
    /* One statement decides, so two nodes redeeming at once cannot both win. */
    PGresult *res = gw_auth__exec(
        c,
        "UPDATE auth.codes SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL"
        " RETURNING client_id, redirect_uri, code_challenge, username, scope,"
        " extract(epoch FROM expires_at)::bigint, nonce",
        1, p, PGRES_TUPLES_OK, "redeem authorization code", &rc, err);

    *out = NULL;
    if (res == NULL)
        return rc;
    if (PQntuples(res) != 1 || strtoll(PQgetvalue(res, 0, 5), NULL, 10) <= now) {
        PQclear(res);
        return BASE_E_NOTFOUND;
    }
    code = BASE_NEW(a, struct gw_auth_code);
    if (code != NULL) {
        code->code_hash = base_arena_strdup(a, code_hash);
        code->client_id = gw_auth__col(a, res, 0, 0);
        code->redirect_uri = gw_auth__col(a, res, 0, 1);
        code->code_challenge = gw_auth__col(a, res, 0, 2);
        code->username = gw_auth__col(a, res, 0, 3);
        code->scope = gw_auth__col(a, res, 0, 4);
        code->expires_at = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
        code->nonce = gw_auth__col(a, res, 0, 6); /* NULL when none was sent */
    }
    if (code == NULL || code->client_id == NULL || code->redirect_uri == NULL ||
        code->code_challenge == NULL || code->username == NULL || code->scope == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "codes", "out of memory");
    else
        *out = code;
    PQclear(res);
    return rc;
}

int
gw_auth_code_purge(PGconn *c, int64_t before, struct base_err *err)
{
    char t[24];
    const char *p[1] = {gw_auth__i64(t, before)};

    return gw_auth__exec_cmd(c,
                             "DELETE FROM auth.codes WHERE expires_at < to_timestamp($1::bigint)",
                             1, p, "purge authorization codes", err);
}
