/*
 * The parameters of an authorization request (RFC 6749 §4.1.1; RFC 7636
 * §4.3; SMART App Launch 2.x "aud").  Pure: a decoded form in, a request or
 * the OAuth2 error out.  Which failures may be answered by redirecting to
 * the client is decided here too (RFC 6749 §4.1.2.1): none that concern
 * client_id or redirect_uri, because those say where a redirect would go.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include "fhir/base/arena.h"

/* A copy of field `name`, NULL when absent; BASE_E_LIMIT past `max`. */
static int
field(struct base_arena *a, const struct gw_auth_form *f, const char *name, size_t max,
      const char **out, struct base_err *err)
{
    const char *v = gw_auth_form_get(f, name);

    *out = NULL;
    if (v == NULL)
        return BASE_OK;
    ENSURE(strlen(v) <= max, err, BASE_E_LIMIT, "too-long", name, "%s exceeds %zu bytes", name,
           max);
    *out = base_arena_strdup(a, v);
    ENSURE(*out != NULL, err, BASE_E_NOMEM, "exception", name, "out of memory");
    return BASE_OK;
}

int
gw_auth_authz_request_read(struct base_arena *a, const struct gw_auth_form *f,
                           struct gw_auth_authz_request *out, struct base_err *err)
{
    memset(out, 0, sizeof(*out));
    TRY(field(a, f, "client_id", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, &out->client_id, err));
    ENSURE(out->client_id != NULL && out->client_id[0] != '\0', err, BASE_E_INVALID, "required",
           "client_id", "client_id is required");
    TRY(field(a, f, "redirect_uri", BASE_LIMIT_AUTH_MAX_REDIRECT_URI, &out->redirect_uri, err));
    /* SMART 2.0 clients always send it; with several registered URIs
     * there would be no telling which one is meant (RFC 6749 §3.1.2.3). */
    ENSURE(out->redirect_uri != NULL, err, BASE_E_INVALID, "required", "redirect_uri",
           "redirect_uri is required");
    TRY(gw_auth_redirect_uri_check(out->redirect_uri, err));
    TRY(field(a, f, "response_type", 64, &out->response_type, err));
    TRY(field(a, f, "scope", BASE_LIMIT_AUTH_MAX_REQ_SCOPE, &out->scope, err));
    TRY(field(a, f, "state", BASE_LIMIT_AUTH_MAX_STATE, &out->state, err));
    TRY(field(a, f, "aud", BASE_LIMIT_AUTH_MAX_REDIRECT_URI, &out->aud, err));
    TRY(field(a, f, "code_challenge", 128, &out->code_challenge, err));
    TRY(field(a, f, "code_challenge_method", 64, &out->code_challenge_method, err));
    TRY(field(a, f, "nonce", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, &out->nonce, err));
    return BASE_OK;
}

/* aud names our FHIR base (SMART 2.x: "the FHIR server base URL"); a
 * single trailing '/' on either side is not a different server. */
static bool
aud_matches(const char *aud, const char *base)
{
    size_t al = strlen(aud);
    size_t bl = strlen(base);

    if (al > 0 && aud[al - 1] == '/')
        al--;
    if (bl > 0 && base[bl - 1] == '/')
        bl--;
    return al == bl && al > 0 && memcmp(aud, base, al) == 0;
}

const char *
gw_auth_authz_request_check(struct base_arena *a, const struct gw_auth_authz_request *rq,
                            const char *fhir_base, const char **out_description)
{
    struct gw_auth_scopes s;
    struct base_err err = {0};

    if (rq->response_type == NULL) {
        *out_description = "response_type is required";
        return "invalid_request";
    }
    if (strcmp(rq->response_type, "code") != 0) {
        *out_description = "only response_type=code is supported";
        return "unsupported_response_type";
    }
    if (rq->code_challenge == NULL || rq->code_challenge_method == NULL) {
        *out_description = "PKCE is required: code_challenge and code_challenge_method=S256";
        return "invalid_request";
    }
    /* SMART 2.0: S256 is required and "plain" must not be supported. */
    if (strcmp(rq->code_challenge_method, "S256") != 0) {
        *out_description = "code_challenge_method must be S256";
        return "invalid_request";
    }
    if (!gw_auth_pkce_challenge_ok(rq->code_challenge, strlen(rq->code_challenge))) {
        *out_description = "code_challenge must be 43 base64url characters (S256)";
        return "invalid_request";
    }
    if (rq->aud == NULL || fhir_base == NULL || !aud_matches(rq->aud, fhir_base)) {
        *out_description = "aud must be this server's FHIR base URL";
        return "invalid_request";
    }
    if (rq->scope == NULL || rq->scope[0] == '\0') {
        *out_description = "scope is required";
        return "invalid_scope";
    }
    if (gw_auth_scopes_parse(a, base_str_from_cstr(rq->scope), &s, &err) != BASE_OK) {
        *out_description = "scope is malformed";
        return "invalid_scope";
    }
    return NULL;
}
