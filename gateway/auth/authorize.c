/*
 * GET/POST /auth/authorize: the authorization endpoint of SMART App Launch
 * 2.x standalone launch (RFC 6749 §4.1 with PKCE, RFC 7636).
 *
 * Stateless across gateway nodes: the GET checks the request and puts it,
 * signed with the gateway's key (JWT typ "fhirgate-authz+jwt", short-lived),
 * into the sign-in form; the POST verifies that signature, so it can only
 * complete a request this gateway checked, unaltered (the form's CSRF
 * binding).  The code it issues lives in PostgreSQL, so any node redeems it.
 * The sign-in itself is gw_auth__login(), the password grant's check.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include <openssl/rand.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/endpoint_int.h"

#define REQUEST_TYP "fhirgate-authz+jwt"

/* The page may only post to us, and the redirect after it goes to the
 * client (CSP form-action also governs redirects of a form submission). */
#define CSP_FMT   "default-src 'none'; form-action 'self' %s; frame-ancestors 'none'; base-uri 'none'"
#define CSP_ERROR "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

#define PAGE_HEAD                                                                                  \
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"                            \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"                     \
    "<meta name=\"referrer\" content=\"no-referrer\">"

/* The checked request, as carried between the page and the POST. */
struct authz {
    const char *client_id;
    const char *client_name;
    const char *allowed_scopes;
    const char *redirect_uri;
    const char *scope;
    const char *state;
    const char *challenge;
    const char *nonce;
    const char *signed_request; /* the JWT in the form */
};

/* ------------------------------------------------------------ answers -- */

static int
finish_page(struct base_arena *a, struct base_buf *b, unsigned status, const char *csp,
            struct gw_auth_authorize_response *out)
{
    out->body = base_buf_dup0(b, a);
    out->body_len = b->len;
    base_buf_fini(b);
    if (out->body == NULL)
        return BASE_E_NOMEM;
    out->status = status;
    out->csp = csp;
    return BASE_OK;
}

/* A page that does not redirect (RFC 6749 §4.1.2.1: the client or its
 * redirect URI is in doubt, or the server cannot continue). */
static int
error_page(struct base_arena *a, unsigned status, const char *msg,
           struct gw_auth_authorize_response *out)
{
    struct base_buf b;
    int rc;

    base_buf_init(&b, 16384);
    rc = base_buf_append_cstr(&b, PAGE_HEAD "<title>Sign-in error</title></head><body>"
                                            "<h1>This sign-in request cannot be completed</h1><p>");
    if (rc == BASE_OK)
        rc = gw_auth_html_escape(&b, msg);
    if (rc == BASE_OK)
        rc = base_buf_append_cstr(&b, "</p><p>Return to the application and start again.</p>"
                                      "</body></html>\n");
    if (rc != BASE_OK) {
        base_buf_fini(&b);
        return rc;
    }
    out->location = NULL;
    return finish_page(a, &b, status, CSP_ERROR, out);
}

static int
store_error_page(struct base_arena *a, int rc, struct gw_auth_authorize_response *out)
{
    if (rc == BASE_E_NOMEM)
        return rc;
    if (rc == BASE_E_IO)
        return error_page(a, 503, "The sign-in service is temporarily unavailable.", out);
    return error_page(a, 500, "Internal error.", out);
}

/* 302 to the client (RFC 6749 §4.1.2 / §4.1.2.1). */
static int
redirect(struct base_arena *a, const char *uri, const char *const *pairs,
         struct gw_auth_authorize_response *out)
{
    out->location = gw_auth_redirect_build(a, uri, pairs);
    if (out->location == NULL)
        return BASE_E_NOMEM;
    out->status = 302;
    out->body = NULL;
    out->body_len = 0;
    out->csp = CSP_ERROR;
    return BASE_OK;
}

static int
redirect_error(struct base_arena *a, const char *uri, const char *state, const char *error,
               const char *description, struct gw_auth_authorize_response *out)
{
    const char *pairs[] = {"error", error, "error_description", description, "state", state, NULL};

    BASE_LOG(BASE_LOG_INFO, "auth.authorize.refused", "error=%s", error);
    return redirect(a, uri, pairs, out);
}

/* A list item per requested scope, so the user sees what the app asks. */
static int
scope_items(struct base_buf *b, const char *scope)
{
    struct base_str rest = base_str_from_cstr(scope);

    while (rest.len > 0) {
        struct base_str tok;
        char item[BASE_LIMIT_AUTH_MAX_SCOPE_LEN + 1];

        (void)base_str_cut(rest, ' ', &tok, &rest);
        if (tok.len == 0 || tok.len >= sizeof(item))
            continue;
        memcpy(item, tok.ptr, tok.len);
        item[tok.len] = '\0';
        TRY(base_buf_append_cstr(b, "<li><code>"));
        TRY(gw_auth_html_escape(b, item));
        TRY(base_buf_append_cstr(b, "</code></li>"));
    }
    return BASE_OK;
}

static int
page_body(struct base_buf *b, const struct authz *z, const char *message)
{
    TRY(base_buf_append_cstr(b, PAGE_HEAD "<title>Sign in</title></head><body><main>"
                                          "<h1>Sign in to fhirgate</h1><p><strong>"));
    TRY(gw_auth_html_escape(b, z->client_name != NULL && z->client_name[0] != '\0' ? z->client_name
                                                                                   : z->client_id));
    TRY(base_buf_append_cstr(b, "</strong> asks to access your data with these permissions:</p>"
                                "<ul>"));
    TRY(scope_items(b, z->scope));
    TRY(base_buf_append_cstr(b, "</ul>"));
    if (message != NULL) {
        TRY(base_buf_append_cstr(b, "<p role=\"alert\"><strong>"));
        TRY(gw_auth_html_escape(b, message));
        TRY(base_buf_append_cstr(b, "</strong></p>"));
    }
    TRY(base_buf_append_cstr(b, "<form method=\"post\" action=\"/auth/authorize\">"
                                "<input type=\"hidden\" name=\"request\" value=\""));
    TRY(gw_auth_html_escape(b, z->signed_request));
    TRY(base_buf_append_cstr(
        b,
        "\"><p><label>User name <input name=\"username\" autocomplete=\"username\" "
        "autocapitalize=\"none\" maxlength=\"64\"></label></p>"
        "<p><label>Password <input type=\"password\" name=\"password\" "
        "autocomplete=\"current-password\" maxlength=\"1024\"></label></p>"
        "<p><button type=\"submit\" name=\"action\" value=\"approve\">Sign in and allow</button> "
        "<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></p>"
        "</form></main></body></html>\n"));
    return BASE_OK;
}

static int
login_page(struct base_arena *a, const struct authz *z, unsigned status, const char *message,
           struct gw_auth_authorize_response *out)
{
    struct base_buf b;
    const char *origin = gw_auth_redirect_origin(a, z->redirect_uri);
    const char *csp = origin != NULL ? base_arena_sprintf(a, CSP_FMT, origin) : NULL;

    if (csp == NULL)
        return BASE_E_NOMEM;
    base_buf_init(&b, 65536);
    if (page_body(&b, z, message) != BASE_OK) {
        base_buf_fini(&b);
        return BASE_E_NOMEM;
    }
    out->location = NULL;
    return finish_page(a, &b, status, csp, out);
}

/* ------------------------------------------------ the signed request -- */

static int
sign_request(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, struct authz *z,
             int64_t now)
{
    struct base_err err = {0};
    const char *jti = gw_auth__jti_new(a);
    json_t *claims;
    char *jwt = NULL;
    size_t len = 0;
    int rc;

    if (jti == NULL)
        return BASE_E_NOMEM;
    claims = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s?}", "iss",
                       cfg->tokens.issuer, "aud", cfg->authorize_url, "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + BASE_LIMIT_AUTH_LOGIN_PAGE_LIFE), "jti", jti, "client_id",
                       z->client_id, "redirect_uri", z->redirect_uri, "scope", z->scope,
                       "code_challenge", z->challenge, "state", z->state);
    if (claims == NULL)
        return BASE_E_NOMEM;
    if (z->nonce != NULL)
        json_object_set_new(claims, "nonce", json_string(z->nonce));
    rc = gw_auth_jwt_sign(a, cfg->keys, NULL, REQUEST_TYP, claims, &jwt, &len, &err);
    json_decref(claims);
    if (rc != BASE_OK) {
        BASE_LOG(BASE_LOG_ERROR, "auth.authorize.sign_failed", "where=%s msg=%s", err.where,
                 err.msg);
        return rc;
    }
    z->signed_request = jwt;
    return BASE_OK;
}

static int
claim_copy(struct base_arena *a, const struct gw_auth_jwt *jwt, const char *name, bool required,
           const char **out)
{
    const char *v = gw_auth_jwt_claim_str(jwt, name);

    *out = v != NULL ? base_arena_strdup(a, v) : NULL;
    return (v == NULL && required) || (v != NULL && *out == NULL) ? BASE_E_INVALID : BASE_OK;
}

/* The request of a posted form, if we signed it and it is recent. */
static int
verify_request(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const char *text,
               int64_t now, struct authz *z)
{
    struct gw_auth_jwt *jwt = NULL;
    struct base_err err = {0};
    struct gw_auth_jwt_expect ex = {
        .issuer = cfg->tokens.issuer,
        .audience = cfg->authorize_url,
        .now = now,
        .leeway = BASE_LIMIT_AUTH_CLOCK_SKEW,
        .max_lifetime = BASE_LIMIT_AUTH_LOGIN_PAGE_LIFE,
        .required = GW_AUTH_CLAIM_ISS | GW_AUTH_CLAIM_AUD | GW_AUTH_CLAIM_EXP | GW_AUTH_CLAIM_IAT,
    };

    memset(z, 0, sizeof(*z));
    TRY(gw_auth_jwt_parse(a, text, strlen(text), &jwt, &err));
    /* Only our own kind: an access token is not a sign-in request. */
    if (jwt->typ == NULL || strcmp(jwt->typ, REQUEST_TYP) != 0)
        return BASE_E_AUTH;
    TRY(gw_auth_jwt_verify(jwt, cfg->keys, &err));
    TRY(gw_auth_jwt_check_claims(jwt, &ex, &err));
    TRY(claim_copy(a, jwt, "client_id", true, &z->client_id));
    TRY(claim_copy(a, jwt, "redirect_uri", true, &z->redirect_uri));
    TRY(claim_copy(a, jwt, "scope", true, &z->scope));
    TRY(claim_copy(a, jwt, "code_challenge", true, &z->challenge));
    TRY(claim_copy(a, jwt, "state", false, &z->state));
    TRY(claim_copy(a, jwt, "nonce", false, &z->nonce));
    z->signed_request = text;
    return BASE_OK;
}

/* ---------------------------------------------------------------- GET -- */

/* The registered, enabled client and its redirect URI, or a page. */
static int
find_client(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, struct authz *z,
            struct gw_auth_authorize_response *out, bool *ok)
{
    const struct gw_auth_backend *be = cfg->backend;
    struct gw_auth_app_client *cl = NULL;
    struct base_err err = {0};
    bool registered = false;
    int rc = be->app_client_get(be->ctx, a, z->client_id, &cl, &err);

    *ok = false;
    if (rc == BASE_E_NOTFOUND || (rc == BASE_OK && !cl->is_enabled))
        return error_page(a, 400, "The application is not registered with this server.", out);
    if (rc != BASE_OK)
        return store_error_page(a, rc, out);
    for (size_t i = 0; i < cl->redirect_count; i++)
        registered =
            registered || gw_auth_redirect_uri_matches(cl->redirect_uris[i], z->redirect_uri);
    if (!registered)
        return error_page(a, 400,
                          "The redirect URI is not registered for this application "
                          "(it must match a registered one exactly).",
                          out);
    z->client_name = cl->display_name;
    z->allowed_scopes = cl->allowed_scopes;
    *ok = true;
    return BASE_OK;
}

/* Does anything of `requested` survive the client's ceiling? */
static bool
scope_within_client(struct base_arena *a, const char *requested, const char *ceiling)
{
    struct gw_auth_scopes r;
    struct gw_auth_scopes c;
    struct gw_auth_scopes both;
    struct base_err err = {0};

    return gw_auth_scopes_parse(a, base_str_from_cstr(requested), &r, &err) == BASE_OK &&
           gw_auth_scopes_parse(a, base_str_from_cstr(ceiling), &c, &err) == BASE_OK &&
           gw_auth_scopes_intersect(a, &r, &c, &both, &err) == BASE_OK && both.count > 0;
}

static bool
enabled(const struct gw_auth_endpoint_config *cfg)
{
    const struct gw_auth_backend *be = cfg->backend;

    return cfg->authorize_url != NULL && be != NULL && be->app_client_get != NULL &&
           be->code_put != NULL;
}

int
gw_auth_authorize_get(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                      const char *query, size_t len, int64_t now,
                      struct gw_auth_authorize_response *out)
{
    struct gw_auth_authz_request rq;
    struct gw_auth_form form;
    struct base_err err = {0};
    struct authz z = {0};
    const char *desc = NULL;
    const char *error;
    bool ok;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!enabled(cfg))
        return error_page(a, 404, "Application sign-in is not enabled on this server.", out);
    if (gw_auth_form_parse(a, query, len, &form, &err) != BASE_OK ||
        gw_auth_authz_request_read(a, &form, &rq, &err) != BASE_OK) {
        if (err.rc == BASE_E_NOMEM)
            return BASE_E_NOMEM;
        BASE_LOG(BASE_LOG_INFO, "auth.authorize.bad_request", "where=%s", err.where);
        return error_page(a, 400, err.msg, out);
    }
    z.client_id = rq.client_id;
    z.redirect_uri = rq.redirect_uri;
    rc = find_client(cfg, a, &z, out, &ok);
    if (!ok)
        return rc;
    error = gw_auth_authz_request_check(a, &rq, cfg->tokens.audience, &desc);
    if (error == NULL && !scope_within_client(a, rq.scope, z.allowed_scopes)) {
        error = "invalid_scope";
        desc = "none of the requested scopes is allowed for this application";
    }
    if (error != NULL)
        return redirect_error(a, rq.redirect_uri, rq.state, error, desc, out);
    z.scope = rq.scope;
    z.state = rq.state;
    z.challenge = rq.code_challenge;
    z.nonce = rq.nonce;
    rc = sign_request(cfg, a, &z, now);
    if (rc != BASE_OK)
        return rc == BASE_E_NOMEM ? rc : error_page(a, 500, "Internal error.", out);
    return login_page(a, &z, 200, NULL, out);
}

/* --------------------------------------------------------------- POST -- */

/* A fresh code (256 bits) for `user`, stored; the code text or NULL. */
static int
issue_code(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const struct authz *z,
           const char *user, const char *scope, int64_t now, char **out_code)
{
    const struct gw_auth_backend *be = cfg->backend;
    unsigned char rnd[32];
    struct gw_auth_code c = {0};
    struct base_err err = {0};

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return BASE_E_INTERNAL;
    *out_code = gw_auth__b64url_arena(a, rnd, sizeof(rnd));
    if (*out_code == NULL || (c.code_hash = gw_auth__code_hash(a, *out_code)) == NULL)
        return BASE_E_NOMEM;
    c.client_id = z->client_id;
    c.redirect_uri = z->redirect_uri;
    c.code_challenge = z->challenge;
    c.username = user;
    c.scope = scope;
    c.nonce = z->nonce;
    c.expires_at = now + BASE_LIMIT_AUTH_CODE_LIFE;
    return be->code_put(be->ctx, &c, &err);
}

/* The user signed in: narrow the scopes to their role, issue the code. */
static int
approve(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const struct authz *z,
        const struct gw_auth_user *u, int64_t now, struct gw_auth_authorize_response *out)
{
    struct gw_auth_scopes s;
    struct base_err err = {0};
    struct base_buf text;
    char *scope = NULL;
    char *code = NULL;
    int rc;

    if (gw_auth__grant_scopes(a, z->scope, z->allowed_scopes, u->role, &s, &err) != BASE_OK ||
        s.count == 0) {
        out->event.reason = "scope-denied";
        return redirect_error(a, z->redirect_uri, z->state, "invalid_scope",
                              "none of the requested scopes is allowed for this user", out);
    }
    base_buf_init(&text, BASE_LIMIT_AUTH_MAX_JSON_STRING);
    rc = gw_auth_scopes_format(&s, &text, &err);
    if (rc == BASE_OK)
        scope = base_buf_dup0(&text, a);
    base_buf_fini(&text);
    if (scope == NULL)
        return rc == BASE_OK ? BASE_E_NOMEM : error_page(a, 500, "Internal error.", out);
    rc = issue_code(cfg, a, z, u->username, scope, now, &code);
    if (rc != BASE_OK) {
        out->event.reason = rc == BASE_E_IO ? "store-unavailable" : "internal";
        return store_error_page(a, rc, out);
    }
    out->event.is_success = true;
    out->event.reason = "granted";
    {
        const char *pairs[] = {"code", code, "state", z->state, NULL};

        return redirect(a, z->redirect_uri, pairs, out);
    }
}

static int
sign_in(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const struct authz *z,
        const struct gw_auth_form *form, const char *addr, int64_t now,
        struct gw_auth_authorize_response *out)
{
    const char *name = gw_auth_form_get(form, "username");
    const char *pw = gw_auth_form_get(form, "password");
    struct gw_auth__login res;
    int rc;

    if (name == NULL || pw == NULL || name[0] == '\0' || pw[0] == '\0')
        return login_page(a, z, 400, "Enter your user name and password.", out);
    out->is_sign_in = true;
    out->event.grant_type = "authorize";
    rc = gw_auth__login(cfg, a, name, pw, addr, now, &res);
    out->event.subject = res.subject;
    out->event.role = res.role;
    out->event.organization = res.organization;
    out->event.reason = res.reason;
    if (rc == BASE_OK)
        return approve(cfg, a, z, res.user, now, out);
    if (rc != BASE_E_AUTH)
        return store_error_page(a, rc, out);
    if (strcmp(res.reason, "locked") == 0)
        return login_page(a, z, 429, "Too many failed sign-in attempts; try again later.", out);
    return login_page(a, z, 400, "Invalid user name or password.", out);
}

int
gw_auth_authorize_post(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                       const char *body, size_t len, const char *client_addr, int64_t now,
                       struct gw_auth_authorize_response *out)
{
    struct gw_auth_form form;
    struct base_err err = {0};
    struct authz z;
    const char *action;
    const char *req;
    bool ok;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!enabled(cfg))
        return error_page(a, 404, "Application sign-in is not enabled on this server.", out);
    if (gw_auth_form_parse(a, body, len, &form, &err) != BASE_OK)
        return err.rc == BASE_E_NOMEM ? BASE_E_NOMEM
                                      : error_page(a, 400, "The form is malformed.", out);
    req = gw_auth_form_get(&form, "request");
    /* SMART App Launch 2.x "authorize-post": the app may POST the
     * authorization request itself (form-encoded) instead of a GET; it is
     * read and answered exactly as the GET (nothing changes state). */
    if (req == NULL && gw_auth_form_get(&form, "response_type") != NULL)
        return gw_auth_authorize_get(cfg, a, body, len, now, out);
    if (req == NULL || verify_request(cfg, a, req, now, &z) != BASE_OK)
        return error_page(a, 400, "The sign-in form has expired or was not issued by this server.",
                          out);
    /* The client may have been disabled since the page was shown. */
    rc = find_client(cfg, a, &z, out, &ok);
    if (!ok)
        return rc;
    action = gw_auth_form_get(&form, "action");
    if (action != NULL && strcmp(action, "deny") == 0)
        return redirect_error(a, z.redirect_uri, z.state, "access_denied",
                              "the user denied the request", out);
    return sign_in(cfg, a, &z, &form, client_addr, now, out);
}
