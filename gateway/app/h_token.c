/*
 * gateway/app/h_token.c — POST /auth/token (OAuth2, gateway/auth) and
 * POST /auth/revoke (RFC 7009) with every attempt audited, and GET /me for
 * the portal.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/gw_auth_store.h"

static void
send_oauth(struct gw_http_req *r, const struct gw_auth_token_response *resp)
{
    char retry[24];

    if (resp->status == 429) {
        snprintf(retry, sizeof(retry), "%lld", (long long)resp->retry_after);
        if (gw_http_set_header(r, "Retry-After", retry) != BASE_OK)
            return;
    }
    if (resp->www_authenticate != NULL &&
        gw_http_set_header(r, "WWW-Authenticate", resp->www_authenticate) != BASE_OK)
        return;
    /* RFC 6749 §5.1: tokens must not be cached. */
    if (gw_http_set_header(r, "Pragma", "no-cache") != BASE_OK ||
        gw_http_respond_nocopy(r, resp->status, "application/json", resp->body, resp->body_len) !=
            BASE_OK)
        return;
}

static const char unavailable[] = "{\"error\":\"temporarily_unavailable\","
                                   "\"error_description\":\"the service is unavailable\"}";
static const char server_error[] = "{\"error\":\"server_error\","
                                   "\"error_description\":\"internal error\"}";

/* Every sign-in attempt is audited (DCM 110114 User Authentication), the
 * failed ones with their stable reason code. */
static int
audit_sign_in(struct gw_app *app, struct gw_http_req *r, const struct gw_auth_event *ev,
              unsigned status)
{
    struct gw_app_audit au = {0};
    struct base_err err = {0};

    au.kind = FHIR_EVENT_LOGIN;
    au.subtype = ev->grant_type != NULL ? ev->grant_type : "login";
    au.status = status;
    au.reason = ev->is_success ? NULL : ev->reason;
    /* The name as presented (never the password); an absurdly long one
     * is recorded as such rather than overflowing the indexed column. */
    au.user_override = ev->subject == NULL || ev->subject[0] == '\0' ? "unknown"
                       : strlen(ev->subject) > 256                   ? "(name too long)"
                                                                     : ev->subject;
    au.role_override = ev->role != GW_AUTH_ROLE_NONE ? gw_auth_role_name(ev->role) : NULL;
    au.org_override = ev->organization;
    return gw_app_audit(app, r, NULL, &au, &err);
}

/* The token endpoint's answers and the revocation endpoint's: one
 * leased connection, the endpoint, its audit row, then the answer. */
typedef int (*oauth_endpoint_fn)(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                                 const char *body, size_t len, const char *client_addr, int64_t now,
                                 struct gw_auth_token_response *out);

static int
token_endpoint(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const char *body,
               size_t len, const char *client_addr, int64_t now, struct gw_auth_token_response *out)
{
    return gw_auth_token_endpoint_body(cfg, a, body, len, client_addr, now, out);
}

static int
revoke_endpoint(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const char *body,
                size_t len, const char *client_addr, int64_t now,
                struct gw_auth_token_response *out)
{
    (void)client_addr;
    return gw_auth_revoke_endpoint_body(cfg, a, body, len, now, out);
}

static void
serve_oauth(struct gw_http_req *r, struct gw_app *app, oauth_endpoint_fn endpoint)
{
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_auth_endpoint_config ep = app->token_ep;
    struct gw_auth_backend be;
    struct gw_auth_token_response resp = {0};
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    struct base_str body = gw_http_req_body(r);
    int rc;

    if (gw_db_borrow(app->pool, &c, &err) != BASE_OK) {
        if (gw_http_set_header(r, "Pragma", "no-cache") != BASE_OK ||
            gw_http_respond_nocopy(r, 503, "application/json", unavailable,
                                   sizeof(unavailable) - 1) != BASE_OK)
            return;
        return;
    }
    gw_auth_backend_pg(&be, gw_db_conn_pg(c));
    ep.backend = &be;
    /* RFC 6749 §5.2: HTTP client authentication was tried; none is used. */
    if (gw_http_req_header(r, "Authorization") != NULL)
        rc = gw_auth_token_refuse_http_auth(a, gw_http_req_header(r, "Authorization"), &resp);
    else
        rc = endpoint(&ep, a, body.ptr != NULL ? body.ptr : "", body.len,
                      gw_http_req_remote_addr(r), gw_app_now(), &resp);
    gw_db_release(c);
    if (rc != BASE_OK) {
        /* An OAuth client reads OAuth errors (RFC 6749 §5.2), not FHIR ones. */
        if (gw_http_set_header(r, "Pragma", "no-cache") != BASE_OK ||
            gw_http_respond_nocopy(r, 500, "application/json", server_error,
                                   sizeof(server_error) - 1) != BASE_OK)
            return;
        return;
    }
    if (audit_sign_in(app, r, &resp.event, resp.status) != BASE_OK) {
        /* Fail closed: no token leaves without its audit row. */
        if (gw_http_set_header(r, "Pragma", "no-cache") != BASE_OK ||
            gw_http_respond_nocopy(r, 503, "application/json", unavailable,
                                   sizeof(unavailable) - 1) != BASE_OK)
            return;
        return;
    }
    send_oauth(r, &resp);
}

void
gw_app_h_token(struct gw_http_req *r, void *cls)
{
    serve_oauth(r, cls, token_endpoint);
}

void
gw_app_h_revoke(struct gw_http_req *r, void *cls)
{
    serve_oauth(r, cls, revoke_endpoint);
}

static void
send_authorize(struct gw_http_req *r, const struct gw_auth_authorize_response *resp)
{
    /* The page and the redirect carry the request's secrets (code, state). */
    if (gw_http_set_header(r, "Pragma", "no-cache") != BASE_OK ||
        gw_http_set_header(r, "Content-Security-Policy", resp->csp) != BASE_OK)
        return;
    if (resp->status == 302) {
        if (gw_http_set_header(r, "Location", resp->location) != BASE_OK ||
            gw_http_respond_empty(r, 302) != BASE_OK)
            return;
        return;
    }
    if (gw_http_respond_nocopy(r, resp->status, "text/html; charset=utf-8", resp->body,
                               resp->body_len) != BASE_OK)
        return;
}

static const char unavailable_html[] =
    "<!DOCTYPE html><title>Unavailable</title><p>The sign-in service is unavailable.</p>\n";

/*
 * GET /auth/authorize (the SMART app sends the browser here) and POST (the
 * sign-in form).  A sign-in attempt is audited like the password grant's,
 * and no code leaves without its audit row.
 */
void
gw_app_h_authorize(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_auth_endpoint_config ep = app->token_ep;
    struct gw_auth_authorize_response resp = {0};
    struct gw_auth_backend be;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    bool is_post = strcmp(gw_http_req_method(r), "POST") == 0;
    struct base_str in = is_post ? gw_http_req_body(r) : gw_http_req_query_string(r);
    int rc;

    if (is_post && !gw_http_req_body_is_form(r)) {
        if (gw_http_respond_outcome(r, 415, "not-supported", NULL,
                                    "the sign-in form is application/x-www-form-urlencoded") !=
            BASE_OK)
            return;
        return;
    }
    if (gw_db_borrow(app->pool, &c, &err) != BASE_OK)
        goto unavailable;
    gw_auth_backend_pg(&be, gw_db_conn_pg(c));
    ep.backend = &be;
    rc = is_post ? gw_auth_authorize_post(&ep, a, in.ptr != NULL ? in.ptr : "", in.len,
                                          gw_http_req_remote_addr(r), gw_app_now(), &resp)
                 : gw_auth_authorize_get(&ep, a, in.ptr != NULL ? in.ptr : "", in.len, gw_app_now(),
                                         &resp);
    gw_db_release(c);
    if (rc != BASE_OK) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "out of memory") != BASE_OK)
            return;
        return;
    }
    if (resp.is_sign_in && audit_sign_in(app, r, &resp.event, resp.status) != BASE_OK)
        goto unavailable;
    send_authorize(r, &resp);
    return;

unavailable:
    if (gw_http_respond_nocopy(r, 503, "text/html; charset=utf-8", unavailable_html,
                               sizeof(unavailable_html) - 1) != BASE_OK)
        return;
}

/* The absolute URL of the caller's FHIR resource, or JSON null. */
static json_t *
me_fhir_user(const struct gw_app *app, struct gw_http_req *r, const struct gw_auth_principal *p)
{
    const char *ref = gw_auth_fhir_user(gw_http_req_arena(r), p);

    if (ref == NULL || (p->scopes.flags & GW_AUTH_SCOPE_FHIRUSER) == 0)
        return json_null();
    return json_string(base_arena_sprintf(gw_http_req_arena(r), "%s/%s", app->cfg->fhir_base, ref));
}

void
gw_app_h_me(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct gw_app_caller c;
    struct gw_registry_member m;
    struct base_buf scopes;
    char *scope_text = NULL;
    json_t *v;

    if (!gw_app_authenticate(app, r, &c))
        return;
    base_buf_init(&scopes, 8192);
    if (gw_auth_scopes_format(&c.p->scopes, &scopes, &(struct base_err){0}) == BASE_OK)
        scope_text = base_buf_dup0(&scopes, gw_http_req_arena(r));
    base_buf_fini(&scopes);
    v = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:s, s:s, s:I}", "subject", c.p->subject,
                  "name", c.p->display_name != NULL ? json_string(c.p->display_name) : json_null(),
                  "role", gw_auth_role_name(c.p->role), "organization",
                  c.p->organization != NULL ? json_string(c.p->organization) : json_null(),
                  "organization_name",
                  c.p->organization != NULL &&
                          gw_registry_find(app->registry, gw_http_req_arena(r), c.p->organization,
                                           &m)
                      ? json_string(m.name)
                      : json_null(),
                  "patient", c.p->patient != NULL ? json_string(c.p->patient) : json_null(),
                  "purpose", gw_auth_pou_code(c.p->purpose), "scopes",
                  scope_text != NULL ? scope_text : "", "expires_at",
                  (json_int_t)c.p->expires_at);
    /* The resource the id_token's fhirUser names, on the same terms (the
     * fhirUser scope granted), so the portal and an app agree on it. */
    if (v != NULL && json_object_set_new(v, "fhirUser", me_fhir_user(app, r, c.p)) != 0) {
        json_decref(v);
        v = NULL;
    }
    if (v == NULL || fhir_json_tie(gw_http_req_arena(r), v) != BASE_OK)
        return;
    if (gw_http_respond_json(r, 200, v) != BASE_OK)
        return;
}
