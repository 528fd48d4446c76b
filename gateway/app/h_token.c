/*
 * gateway/app/h_token.c — POST /auth/token (OAuth2, gateway/auth) with
 * every attempt audited, and GET /me for the portal.
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
    /* RFC 6749 §5.1: tokens must not be cached. */
    if (gw_http_set_header(r, "Pragma", "no-cache") != BASE_OK ||
        gw_http_respond_nocopy(r, resp->status, "application/json", resp->body, resp->body_len) !=
            BASE_OK)
        return;
}

static const char unavailable[] = "{\"error\":\"temporarily_unavailable\","
                                   "\"error_description\":\"the service is unavailable\"}";

void
gw_app_h_token(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_auth_endpoint_config ep = app->token_ep;
    struct gw_auth_backend be;
    struct gw_auth_token_response resp = {0};
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    struct base_str body = gw_http_req_body(r);
    struct gw_app_audit au = {0};
    int rc;

    if (gw_db_borrow(app->pool, &c, &err) != BASE_OK) {
        if (gw_http_respond_nocopy(r, 503, "application/json", unavailable,
                                   sizeof(unavailable) - 1) != BASE_OK)
            return;
        return;
    }
    gw_auth_backend_pg(&be, gw_db_conn_pg(c));
    ep.backend = &be;
    rc = gw_auth_token_endpoint_body(&ep, a, body.ptr != NULL ? body.ptr : "", body.len,
                                     gw_http_req_remote_addr(r), gw_app_now(), &resp);
    gw_db_release(c);
    if (rc != BASE_OK) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "out of memory") != BASE_OK)
            return;
        return;
    }
    /* Every sign-in attempt is audited (DCM 110114 User Authentication),
     * the failed ones with their stable reason code. */
    au.kind = FHIR_EVENT_LOGIN;
    au.subtype = resp.event.grant_type != NULL ? resp.event.grant_type : "login";
    au.status = resp.status;
    au.reason = resp.event.is_success ? NULL : resp.event.reason;
    /* The name as presented (never the password); an absurdly long one
     * is recorded as such rather than overflowing the indexed column. */
    au.user_override = resp.event.subject == NULL || resp.event.subject[0] == '\0'
                           ? "unknown"
                           : strlen(resp.event.subject) > 256 ? "(name too long)"
                                                              : resp.event.subject;
    au.role_override = resp.event.role != GW_AUTH_ROLE_NONE ? gw_auth_role_name(resp.event.role)
                                                            : NULL;
    au.org_override = resp.event.organization;
    if (gw_app_audit(app, r, NULL, &au, &err) != BASE_OK) {
        /* Fail closed: no token leaves without its audit row. */
        if (gw_http_respond_nocopy(r, 503, "application/json", unavailable,
                                   sizeof(unavailable) - 1) != BASE_OK)
            return;
        return;
    }
    send_oauth(r, &resp);
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
    if (v == NULL || fhir_json_tie(gw_http_req_arena(r), v) != BASE_OK)
        return;
    if (gw_http_respond_json(r, 200, v) != BASE_OK)
        return;
}
