/*
 * grant_type=refresh_token (RFC 6749 §6) for SMART App Launch apps granted
 * offline_access or online_access (SMART App Launch 2.x permission-offline
 * / permission-online).  Apps are public clients (RFC 6749 §2.1), so the
 * client proves nothing beyond its client_id; what protects the token is
 * rotation (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2): each use spends the token
 * and issues the next of its family, and a spent token presented again
 * revokes the family, since either the app or a thief holds a copy.
 *
 * Like an authorization code, a refresh token is taken before the rest is
 * compared: one presented by another client, for a disabled user or with a
 * wider scope is spent, and the family ends when the rightful app next
 * uses it.  Everything is re-read (app, user, role rules), so disabling
 * either stops the family at once.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/endpoint_int.h"

#define BAD_REFRESH "the refresh token is invalid, expired or revoked"

/* RFC 6749 §6: "MUST NOT include any scope not originally granted". */
static bool
narrows(struct base_arena *a, const char *requested, const char *granted)
{
    struct gw_auth_scopes req;
    struct gw_auth_scopes orig;
    struct base_err err = {0};

    return gw_auth_scopes_parse(a, base_str_from_cstr(requested), &req, &err) == BASE_OK &&
           gw_auth_scopes_parse(a, base_str_from_cstr(granted), &orig, &err) == BASE_OK &&
           gw_auth_scopes_within(&req, &orig);
}

/* The token, taken: BASE_OK, or `out` answered. */
static int
take(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const char *token,
     int64_t now, struct gw_auth_refresh **r, struct gw_auth_token_response *out, bool *answered)
{
    const struct gw_auth_backend *be = cfg->backend;
    struct base_err err = {0};
    char *hash = gw_auth__code_hash(a, token);
    int rc;

    *answered = true;
    if (hash == NULL)
        return gw_auth__reply_store_error(a, out, BASE_E_NOMEM);
    rc = be->refresh_take(be->ctx, a, hash, now, r, &err);
    if (rc == BASE_E_CONFLICT) {
        BASE_LOG(BASE_LOG_WARN, "auth.refresh.reused", "client=%s",
                 out->event.subject != NULL ? out->event.subject : "-");
        return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_REFRESH,
                                    "refresh-token-reused");
    }
    if (rc == BASE_E_NOTFOUND)
        return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_REFRESH, "bad-refresh-token");
    if (rc != BASE_OK)
        return gw_auth__reply_store_error(a, out, rc);
    *answered = false;
    return BASE_OK;
}

int
gw_auth__refresh_grant(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                       const struct gw_auth_form *form, int64_t now,
                       struct gw_auth_token_response *out)
{
    const struct gw_auth_backend *be = cfg->backend;
    const char *token = gw_auth_form_get(form, "refresh_token");
    const char *cid = gw_auth_form_get(form, "client_id");
    const char *scope = gw_auth_form_get(form, "scope");
    struct gw_auth_app_client *cl = NULL;
    struct gw_auth_principal p = {0};
    struct gw_auth__oidc oidc = {0};
    struct gw_auth_refresh *r = NULL;
    struct gw_auth_user *u = NULL;
    struct base_err err = {0};
    bool answered;
    int rc;

    if (be->refresh_take == NULL || be->refresh_put == NULL || be->app_client_get == NULL)
        return gw_auth__reply_error(a, out, 400, "unsupported_grant_type",
                                    "the refresh token grant is not enabled", "unsupported-grant");
    if (token == NULL)
        return gw_auth__reply_error(a, out, 400, "invalid_request", "refresh_token is required",
                                    "invalid-request");
    if (token[0] == '\0' || strlen(token) > BASE_LIMIT_AUTH_MAX_REFRESH_TOKEN)
        return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_REFRESH, "bad-refresh-token");
    /* Malformed scope text is refused before the token is spent. */
    if (scope != NULL && !narrows(a, scope, scope))
        return gw_auth__reply_error(a, out, 400, "invalid_scope", "scope is malformed",
                                    "scope-denied");
    /* RFC 6749 §6 and §3.2.1: a public client need not send client_id
     * with a refresh (fhirclient.js does not); when it does, it must be an
     * enabled app and the token's. */
    if (cid != NULL) {
        rc = gw_auth__app_client_find(cfg, a, cid, &cl, out, &answered);
        if (answered)
            return rc;
        out->event.subject = cl->client_id;
    }
    rc = take(cfg, a, token, now, &r, out, &answered);
    if (answered)
        return rc;
    out->event.subject = r->username;
    if (cl == NULL) {
        rc = gw_auth__app_client_find(cfg, a, r->client_id, &cl, out, &answered);
        if (answered)
            return rc;
    }
    /* RFC 6749 §6: the token is bound to the client it was issued to. */
    if (strcmp(r->client_id, cl->client_id) != 0)
        return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_REFRESH, "bad-refresh-token");
    rc = be->user_get(be->ctx, a, r->username, &u, &err);
    if (rc == BASE_E_NOTFOUND || (rc == BASE_OK && !u->is_enabled))
        return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_REFRESH, "user-disabled");
    if (rc != BASE_OK)
        return gw_auth__reply_store_error(a, out, rc);
    out->event.role = u->role;
    out->event.organization = u->organization;
    if (scope != NULL && !narrows(a, scope, r->scope))
        return gw_auth__reply_error(a, out, 400, "invalid_scope",
                                    "scope exceeds what was originally granted", "scope-denied");
    p.role = u->role;
    p.subject = u->username;
    p.client_id = cl->client_id;
    p.organization = u->organization;
    p.patient = u->patient;
    p.display_name = u->display_name;
    oidc.client_id = cl->client_id;
    oidc.family = r;
    /* Today's app registration and role rules apply, not the sign-in's. */
    return gw_auth__grant(cfg, a, &p, scope != NULL ? scope : r->scope, cl->allowed_scopes, now,
                          &oidc, out);
}

/* ------------------------------------------------------- RFC 7009 -- */

int
gw_auth_revoke_endpoint_body(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                             const char *body, size_t len, int64_t now,
                             struct gw_auth_token_response *out)
{
    const struct gw_auth_backend *be = cfg->backend;
    struct gw_auth_app_client *cl = NULL;
    struct gw_auth_form form;
    struct base_err err = {0};
    const char *token;
    const char *cid;
    char *hash;
    bool answered;
    int rc;

    (void)now;
    memset(out, 0, sizeof(*out));
    out->event.grant_type = "revoke";
    if (be->refresh_revoke == NULL || be->app_client_get == NULL)
        return gw_auth__reply_error(a, out, 400, "unsupported_token_type",
                                    "token revocation is not enabled", "unsupported-grant");
    if (gw_auth_form_parse(a, body, len, &form, &err) != BASE_OK)
        return gw_auth__reply_error(a, out, err.rc == BASE_E_NOMEM ? 500 : 400, "invalid_request",
                                    err.msg, "invalid-request");
    token = gw_auth_form_get(&form, "token");
    cid = gw_auth_form_get(&form, "client_id");
    if (token == NULL || cid == NULL)
        return gw_auth__reply_error(a, out, 400, "invalid_request",
                                    "token and client_id are required", "invalid-request");
    rc = gw_auth__app_client_find(cfg, a, cid, &cl, out, &answered);
    if (answered)
        return rc;
    out->event.subject = cl->client_id;
    /* Our access tokens are JWS (three dot-separated segments); refresh
     * tokens are base64url and never hold a dot. */
    if (strchr(token, '.') != NULL)
        return gw_auth__reply_error(a, out, 400, "unsupported_token_type",
                                    "access tokens cannot be revoked; they expire within minutes",
                                    "unsupported-grant");
    if (token[0] != '\0' && strlen(token) <= BASE_LIMIT_AUTH_MAX_REFRESH_TOKEN) {
        hash = gw_auth__code_hash(a, token);
        if (hash == NULL)
            return gw_auth__reply_store_error(a, out, BASE_E_NOMEM);
        rc = be->refresh_revoke(be->ctx, hash, cl->client_id, &err);
        if (rc != BASE_OK)
            return gw_auth__reply_store_error(a, out, rc);
    }
    out->status = 200;
    out->body = base_arena_strdup(a, "");
    out->body_len = 0;
    out->event.is_success = true;
    out->event.reason = "revoked";
    return out->body != NULL ? BASE_OK : BASE_E_NOMEM;
}
