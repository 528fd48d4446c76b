/*
 * auth.clients: SMART Backend Services client registrations
 * (schemas/sql/gateway/0101_auth_clients.sql).
 */
#include "gateway/auth/gw_auth_store.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/store_int.h"

int
gw_auth__client_id_check(const char *id, struct base_err *err)
{
    size_t len = id != NULL ? strlen(id) : 0;

    ENSURE(len > 0 && len <= BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, err, BASE_E_INVALID, "value",
           "client_id", "client id must have 1-%u characters", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT);
    for (size_t i = 0; i < len; i++) {
        ENSURE(id[i] > 0x20 && id[i] < 0x7f, err, BASE_E_INVALID, "value", "client_id",
               "client id must be printable ASCII without spaces");
    }
    return BASE_OK;
}

/* Refuse a registration that could never authenticate or be granted. */
static int
check_client(const struct gw_auth_client *cl, struct base_err *err)
{
    struct gw_auth_keyset *ks = NULL;
    struct base_arena *a;
    struct gw_auth_scopes s;
    int rc;

    TRY(gw_auth__client_id_check(cl->client_id, err));
    ENSURE(cl->role == GW_AUTH_ROLE_MEMBER_SYSTEM || cl->role == GW_AUTH_ROLE_REGULATOR, err,
           BASE_E_INVALID, "value", "role", "client role must be member-system or regulator");
    ENSURE(cl->role != GW_AUTH_ROLE_MEMBER_SYSTEM ||
               (cl->organization != NULL && cl->organization[0] != '\0'),
           err, BASE_E_INVALID, "required", "organization",
           "a member system belongs to a member organization");
    ENSURE(cl->jwks != NULL && cl->allowed_scopes != NULL, err, BASE_E_INVALID, "required",
           "client", "a client needs a JWK Set and allowed scopes");
    TRY(gw_auth_keyset_new(&ks, err));
    rc = gw_auth_keyset_add_jwks(ks, cl->jwks, strlen(cl->jwks), err);
    gw_auth_keyset_free(ks);
    TRY(rc);
    a = base_arena_new(1u << 20);
    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "client", "out of memory");
    rc = gw_auth_scopes_parse(a, base_str_from_cstr(cl->allowed_scopes), &s, err);
    base_arena_free(a);
    return rc;
}

int
gw_auth_client_put(PGconn *c, const struct gw_auth_client *cl, struct base_err *err)
{
    const char *p[7] = {cl->client_id,
                        cl->display_name != NULL ? cl->display_name : "",
                        gw_auth_role_name(cl->role),
                        cl->organization,
                        cl->jwks,
                        cl->allowed_scopes,
                        cl->is_enabled ? "enabled" : "disabled"};

    TRY(check_client(cl, err));
    return gw_auth__exec_cmd(
        c,
        "INSERT INTO auth.clients (client_id, display_name, role, organization, jwks,"
        " allowed_scopes, status) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)"
        " ON CONFLICT (client_id) DO UPDATE SET display_name = EXCLUDED.display_name,"
        " role = EXCLUDED.role, organization = EXCLUDED.organization, jwks = EXCLUDED.jwks,"
        " allowed_scopes = EXCLUDED.allowed_scopes, status = EXCLUDED.status, updated_at = now()",
        7, p, "store client", err);
}

int
gw_auth_client_get(PGconn *c, struct base_arena *a, const char *client_id,
                   struct gw_auth_client **out, struct base_err *err)
{
    const char *p[1] = {client_id};
    struct gw_auth_client *cl;
    int rc;
    PGresult *res = gw_auth__exec(c,
                                  "SELECT client_id, display_name, role, organization, jwks::text,"
                                  " allowed_scopes, status FROM auth.clients WHERE client_id = $1",
                                  1, p, PGRES_TUPLES_OK, "read client", &rc, err);

    *out = NULL;
    if (res == NULL)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return BASE_E_NOTFOUND;
    }
    cl = BASE_NEW(a, struct gw_auth_client);
    if (cl != NULL) {
        cl->client_id = gw_auth__col(a, res, 0, 0);
        cl->display_name = gw_auth__col(a, res, 0, 1);
        cl->organization = gw_auth__col(a, res, 0, 3);
        cl->jwks = gw_auth__col(a, res, 0, 4);
        cl->allowed_scopes = gw_auth__col(a, res, 0, 5);
        cl->is_enabled = strcmp(PQgetvalue(res, 0, 6), "enabled") == 0;
    }
    if (cl == NULL || cl->client_id == NULL || cl->jwks == NULL || cl->allowed_scopes == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "clients", "out of memory");
    else if (!gw_auth_role_parse(base_str_from_cstr(PQgetvalue(res, 0, 2)), &cl->role))
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "clients",
                          "stored client has an unknown role");
    else
        *out = cl;
    PQclear(res);
    return rc;
}

int
gw_auth_client_set_enabled(PGconn *c, const char *client_id, bool enabled, struct base_err *err)
{
    const char *p[2] = {client_id, enabled ? "enabled" : "disabled"};

    return gw_auth__update_one(c,
                               "UPDATE auth.clients SET status = $2, updated_at = now()"
                               " WHERE client_id = $1",
                               2, p, "update client", "no such client", err);
}
