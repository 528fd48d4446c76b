/*
 * grant_type=authorization_code (RFC 6749 §4.1.3) for SMART App Launch
 * public clients, with PKCE (RFC 7636 §4.5-4.6).  The code is taken (marked
 * used) before anything else is compared, so a code presented with a wrong
 * verifier, client or redirect URI is spent: an attacker holding a stolen
 * code gets one guess, and the rightful client then learns something is
 * wrong (RFC 6749 §10.5).
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include <openssl/sha.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/endpoint_int.h"

#define BAD_CODE "the authorization code is invalid, expired or already used"

char *
gw_auth__code_hash(struct base_arena *a, const char *code)
{
    unsigned char d[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)code, strlen(code), d);
    return gw_auth__b64url_arena(a, d, sizeof(d));
}

int
gw_auth__app_client_find(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                         const char *cid, struct gw_auth_app_client **cl,
                         struct gw_auth_token_response *out, bool *answered)
{
    const struct gw_auth_backend *be = cfg->backend;
    struct base_err err = {0};
    int rc = be->app_client_get(be->ctx, a, cid, cl, &err);

    *answered = true;
    if (rc == BASE_E_NOTFOUND || (rc == BASE_OK && !(*cl)->is_enabled))
        return gw_auth__reply_error(a, out, 401, "invalid_client", "unknown client",
                                    rc == BASE_OK ? "client-disabled" : "unknown-client");
    if (rc != BASE_OK)
        return gw_auth__reply_store_error(a, out, rc);
    *answered = false;
    return BASE_OK;
}

/*
 * RFC 6749 §4.1.2: a code presented again "SHOULD" revoke the tokens issued
 * from it.  Access tokens are self-contained (≤ 15 min), but the refresh
 * family a code started is named by the code's hash and ends here, so a
 * thief who redeemed a stolen code first keeps at most one access token.
 * An unknown code matches no family; a store error is logged, and the
 * answer is invalid_grant either way.
 */
static void
revoke_code_family(const struct gw_auth_backend *be, const char *hash)
{
    struct base_err err = {0};

    if (be->refresh_revoke_family != NULL &&
        be->refresh_revoke_family(be->ctx, hash, &err) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "auth.code.revoke_failed", "where=%s", err.where);
}

/* Does the spent code belong to this exchange?  The reason, or NULL. */
static const char *
code_mismatch(const struct gw_auth_code *c, const char *cid, const char *redirect,
              const char *verifier)
{
    if (strcmp(c->client_id, cid) != 0)
        return "bad-code";
    /* RFC 6749 §4.1.3: identical to the authorization request's. */
    if (strcmp(c->redirect_uri, redirect) != 0)
        return "bad-code";
    if (!gw_auth_pkce_s256_matches(verifier, strlen(verifier), c->code_challenge))
        return "bad-verifier";
    return NULL;
}

int
gw_auth__code_grant(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                    const struct gw_auth_form *form, int64_t now,
                    struct gw_auth_token_response *out)
{
    const struct gw_auth_backend *be = cfg->backend;
    const char *code = gw_auth_form_get(form, "code");
    const char *redirect = gw_auth_form_get(form, "redirect_uri");
    const char *cid = gw_auth_form_get(form, "client_id");
    const char *verifier = gw_auth_form_get(form, "code_verifier");
    struct gw_auth_app_client *cl = NULL;
    struct gw_auth_principal p = {0};
    struct gw_auth__oidc oidc = {0};
    struct gw_auth_code *c = NULL;
    struct gw_auth_user *u = NULL;
    struct base_err err = {0};
    const char *why;
    char *hash;
    bool answered;
    int rc;

    if (be->app_client_get == NULL || be->code_take == NULL)
        return gw_auth__reply_error(a, out, 400, "unsupported_grant_type",
                                    "the authorization code grant is not enabled",
                                    "unsupported-grant");
    if (code == NULL || redirect == NULL || cid == NULL || verifier == NULL)
        return gw_auth__reply_error(a, out, 400, "invalid_request",
                                    "code, redirect_uri, client_id and code_verifier are required",
                                    "invalid-request");
    if (!gw_auth_pkce_verifier_ok(verifier, strlen(verifier)))
        return gw_auth__reply_error(a, out, 400, "invalid_request",
                                    "code_verifier must be 43-128 unreserved characters "
                                    "(RFC 7636 section 4.1)",
                                    "invalid-request");
    rc = gw_auth__app_client_find(cfg, a, cid, &cl, out, &answered);
    if (answered)
        return rc;
    out->event.subject = cl->client_id;
    hash = gw_auth__code_hash(a, code);
    if (hash == NULL)
        return gw_auth__reply_store_error(a, out, BASE_E_NOMEM);
    rc = be->code_take(be->ctx, a, hash, now, &c, &err);
    if (rc == BASE_E_NOTFOUND) {
        revoke_code_family(be, hash);
        return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_CODE, "bad-code");
    }
    if (rc != BASE_OK)
        return gw_auth__reply_store_error(a, out, rc);
    out->event.subject = c->username;
    why = code_mismatch(c, cid, redirect, verifier);
    if (why != NULL)
        return gw_auth__reply_error(a, out, 400, "invalid_grant",
                                    strcmp(why, "bad-verifier") == 0
                                        ? "code_verifier does not match the code_challenge"
                                        : BAD_CODE,
                                    why);
    /* The user as they are now: disabled since the sign-in means no token. */
    rc = be->user_get(be->ctx, a, c->username, &u, &err);
    if (rc == BASE_E_NOTFOUND || (rc == BASE_OK && !u->is_enabled))
        return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_CODE, "user-disabled");
    if (rc != BASE_OK)
        return gw_auth__reply_store_error(a, out, rc);
    out->event.role = u->role;
    out->event.organization = u->organization;
    p.role = u->role;
    p.subject = u->username;
    p.client_id = cl->client_id;
    p.organization = u->organization;
    p.patient = u->patient;
    p.display_name = u->display_name;
    oidc.client_id = cl->client_id;
    oidc.nonce = c->nonce;
    oidc.new_family_id = hash;
    return gw_auth__grant(cfg, a, &p, c->scope, cl->allowed_scopes, now, &oidc, out);
}
