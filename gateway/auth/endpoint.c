/*
 * POST /auth/token (RFC 6749 §3.2): the password grant for portal users
 * (§4.3) and the client-credentials grant authenticated by a signed JWT
 * client assertion (RFC 7523 §2.2, SMART Backend Services), and the
 * /.well-known/smart-configuration document.
 *
 * Every outcome — success or refusal — is reported in out->event so the
 * gateway can audit failed sign-ins.  Refusals carry an OAuth2 error body
 * (RFC 6749 §5.2) with a client-safe description.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/endpoint_int.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static int
reply_json(struct base_arena *a, struct gw_auth_token_response *out, unsigned status, json_t *body)
{
    out->status = status;
    out->body =
        body != NULL ? fhir_json_dump_arena(body, FHIR_JSON_COMPACT, a, &out->body_len) : NULL;
    json_decref(body);
    return out->body != NULL ? BASE_OK : BASE_E_NOMEM;
}

int
gw_auth__reply_error(struct base_arena *a, struct gw_auth_token_response *out, unsigned status,
                     const char *error, const char *description, const char *reason)
{
    out->event.is_success = false;
    out->event.reason = reason;
    BASE_LOG(BASE_LOG_INFO, "auth.token.refused", "grant=%s status=%u reason=%s",
             out->event.grant_type != NULL ? out->event.grant_type : "-", status, reason);
    return reply_json(a, out, status,
                      json_pack("{s:s, s:s}", "error", error, "error_description", description));
}

int
gw_auth__reply_store_error(struct base_arena *a, struct gw_auth_token_response *out, int rc)
{
    if (rc == BASE_E_IO)
        return gw_auth__reply_error(a, out, 503, "temporarily_unavailable",
                                    "the sign-in service is temporarily unavailable",
                                    "store-unavailable");
    return gw_auth__reply_error(a, out, 500, "server_error", "internal error", "internal");
}

/* Narrow `requested` (or the role's defaults when NULL) to the role and,
 * for clients, to their registration. */
int
gw_auth__grant_scopes(struct base_arena *a, const char *requested, const char *client_ceiling,
                      enum gw_auth_role role, struct gw_auth_scopes *out, struct base_err *err)
{
    struct gw_auth_scopes req;
    struct gw_auth_scopes mid;

    TRY(gw_auth_scopes_parse(
        a, base_str_from_cstr(requested != NULL ? requested : gw_auth_role_default_scopes(role)),
        &req, err));
    if (client_ceiling != NULL) {
        struct gw_auth_scopes ceil;

        TRY(gw_auth_scopes_parse(a, base_str_from_cstr(client_ceiling), &ceil, err));
        TRY(gw_auth_scopes_intersect(a, &req, &ceil, &mid, err));
        /* Launch context is no permission to data: a patient's own record
         * needs no line in the app's registration (the role decides). */
        mid.flags |= req.flags & (unsigned)GW_AUTH_SCOPE_LAUNCH_PATIENT;
    } else {
        mid = req;
    }
    return gw_auth_scopes_restrict_to_role(a, &mid, role, out, err);
}

/*
 * OpenID Connect Core §2 ID Token for a SMART app: who signed in (sub),
 * for which app (aud), and with fhirUser the FHIR resource of the user
 * (SMART App Launch 2.x §fhirUser) — a patient's regional Patient, a
 * clinician's, regulator's or administrator's Practitioner.  Typed
 * "JWT", so it can never pass as an access token (those need at+jwt).
 */
static char *
id_token(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
         const struct gw_auth_principal *p, const struct gw_auth__oidc *oidc, int64_t now)
{
    struct base_err err = {0};
    char *tok = NULL;
    size_t len = 0;
    const char *fhir_user = gw_auth_fhir_user(a, p);
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", cfg->tokens.issuer, "sub",
                          p->subject, "aud", oidc->client_id, "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + cfg->tokens.user_lifetime));

    if (c == NULL)
        return NULL;
    if (oidc->nonce != NULL)
        json_object_set_new(c, "nonce", json_string(oidc->nonce));
    if ((p->scopes.flags & GW_AUTH_SCOPE_FHIRUSER) != 0 && fhir_user != NULL)
        json_object_set_new(
            c, "fhirUser",
            json_string(base_arena_sprintf(
                a, "%s/%s", cfg->fhir_base != NULL ? cfg->fhir_base : cfg->tokens.audience,
                fhir_user)));
    if (p->display_name != NULL)
        json_object_set_new(c, "name", json_string(p->display_name));
    if (gw_auth_jwt_sign(a, cfg->keys, NULL, "JWT", c, &tok, &len, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_ERROR, "auth.id_token.sign_failed", "where=%s msg=%s", err.where,
                 err.msg);
        tok = NULL;
    }
    json_decref(c);
    return tok;
}

static bool
can_refresh(const struct gw_auth_endpoint_config *cfg, const struct gw_auth__oidc *oidc)
{
    return oidc != NULL && cfg->backend->refresh_put != NULL && cfg->backend->refresh_take != NULL;
}

/*
 * A refresh token for the app's grant (SMART App Launch 2.x permission-
 * offline/-online; RFC 6749 §6): 256 random bits, stored as their SHA-256
 * with the family it continues (or a new one, whose end is fixed now:
 * rotation never extends it).  `scope` is the grant's own text; a refresh
 * that narrows keeps the family's, as OAuth 2.1 §4.3.1 requires.  The
 * token itself, or NULL with *rc set.
 */
static char *
refresh_token(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
              const struct gw_auth_principal *p, const struct gw_auth__oidc *oidc,
              const char *scope, int64_t now, int *rc)
{
    const struct gw_auth_backend *be = cfg->backend;
    struct gw_auth_refresh r = {0};
    struct base_err err = {0};
    unsigned char rnd[32];
    char *tok;

    *rc = BASE_E_INTERNAL;
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return NULL;
    *rc = BASE_E_NOMEM;
    tok = gw_auth__b64url_arena(a, rnd, sizeof(rnd));
    OPENSSL_cleanse(rnd, sizeof(rnd));
    if (tok == NULL || (r.token_hash = gw_auth__code_hash(a, tok)) == NULL)
        return NULL;
    r.client_id = oidc->client_id;
    r.username = p->subject;
    if (oidc->family != NULL) {
        r.family_id = oidc->family->family_id;
        r.scope = oidc->family->scope;
        r.expires_at = oidc->family->expires_at;
    } else {
        r.family_id = oidc->new_family_id != NULL ? oidc->new_family_id : gw_auth__jti_new(a);
        r.scope = scope;
        r.expires_at = now + ((p->scopes.flags & GW_AUTH_SCOPE_OFFLINE) != 0
                                  ? BASE_LIMIT_AUTH_REFRESH_OFFLINE_LIFE
                                  : BASE_LIMIT_AUTH_REFRESH_ONLINE_LIFE);
    }
    if (r.family_id == NULL)
        return NULL;
    *rc = be->refresh_put(be->ctx, &r, now, &err);
    return *rc == BASE_OK ? tok : NULL;
}

static int
reply_token(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
            const struct gw_auth_principal *p, int64_t now, const struct gw_auth__oidc *oidc,
            struct gw_auth_token_response *out)
{
    struct base_err err = {0};
    struct gw_auth_principal q = *p;
    struct base_buf scope;
    char *token = NULL;
    char *scope_text;
    int64_t expires_in = 0;
    json_t *body;
    int rc;

    q.token_id = gw_auth__jti_new(a); /* known here, so the audit can name the token */
    if (q.token_id == NULL || gw_auth_token_issue(a, cfg->keys, &cfg->tokens, &q, now, &token,
                                                  &expires_in, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_ERROR, "auth.token.issue_failed", "where=%s msg=%s", err.where, err.msg);
        return gw_auth__reply_error(a, out, 500, "server_error", "could not issue a token",
                                    "internal");
    }
    base_buf_init(&scope, BASE_LIMIT_AUTH_MAX_JSON_STRING);
    rc = gw_auth_scopes_format(&p->scopes, &scope, &err);
    scope_text = rc == BASE_OK ? base_buf_dup0(&scope, a) : NULL;
    base_buf_fini(&scope);
    body = scope_text == NULL
               ? NULL
               : json_pack("{s:s, s:s, s:I, s:s}", "access_token", token, "token_type", "Bearer",
                           "expires_in", (json_int_t)expires_in, "scope", scope_text);
    if (body == NULL) {
        json_decref(body);
        return gw_auth__reply_error(a, out, 500, "server_error", "could not issue a token",
                                    "internal");
    }
    /* SMART launch context: a patient-facing client learns whose record it is. */
    if (p->role == GW_AUTH_ROLE_PATIENT)
        json_object_set_new(body, "patient", json_string(p->patient));
    if (oidc != NULL && (p->scopes.flags & GW_AUTH_SCOPE_OPENID) != 0) {
        char *id = id_token(cfg, a, p, oidc, now);

        if (id == NULL) {
            json_decref(body);
            return gw_auth__reply_error(a, out, 500, "server_error", "could not issue a token",
                                        "internal");
        }
        json_object_set_new(body, "id_token", json_string(id));
    }
    if (can_refresh(cfg, oidc) &&
        (p->scopes.flags & (GW_AUTH_SCOPE_OFFLINE | GW_AUTH_SCOPE_ONLINE)) != 0) {
        char *rt = refresh_token(cfg, a, p, oidc, scope_text, now, &rc);

        /* Fail closed: the app was promised offline access, so no answer
         * without a stored refresh token. */
        if (rt == NULL) {
            json_decref(body);
            return gw_auth__reply_store_error(a, out, rc);
        }
        json_object_set_new(body, "refresh_token", json_string(rt));
    }
    out->event.is_success = true;
    out->event.reason = "granted";
    out->event.role = p->role;
    out->event.organization = p->organization;
    out->event.token_id = q.token_id;
    return reply_json(a, out, 200, body);
}

int
gw_auth__grant(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
               struct gw_auth_principal *p, const char *requested, const char *client_ceiling,
               int64_t now, const struct gw_auth__oidc *oidc, struct gw_auth_token_response *out)
{
    struct base_err err = {0};

    if (gw_auth__grant_scopes(a, requested, client_ceiling, p->role, &p->scopes, &err) != BASE_OK)
        return gw_auth__reply_error(a, out, 400, "invalid_scope", err.msg, "scope-denied");
    if (p->scopes.count == 0)
        return gw_auth__reply_error(a, out, 400, "invalid_scope",
                                    "none of the requested scopes is allowed", "scope-denied");
    if (p->purpose == GW_AUTH_POU_NONE)
        p->purpose = gw_auth_role_default_pou(p->role);
    /* fhirUser names a FHIR resource; whoever has none (a patient without
     * a record) is not granted it, so no app waits for a claim. */
    if (oidc != NULL && gw_auth_fhir_user(a, p) == NULL)
        p->scopes.flags &= ~(unsigned)GW_AUTH_SCOPE_FHIRUSER;
    /* No linked record, no patient context to name. */
    if (p->patient == NULL)
        p->scopes.flags &= ~(unsigned)GW_AUTH_SCOPE_LAUNCH_PATIENT;
    /* Refresh tokens go only to apps, through the code flow a user
     * approved; the portal's password grant and systems never get one. */
    if (!can_refresh(cfg, oidc))
        p->scopes.flags &= ~(unsigned)(GW_AUTH_SCOPE_OFFLINE | GW_AUTH_SCOPE_ONLINE);
    return reply_token(cfg, a, p, now, oidc, out);
}

int
gw_auth_token_endpoint(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                       const struct gw_auth_form *form, const char *client_addr, int64_t now,
                       struct gw_auth_token_response *out)
{
    const char *grant = gw_auth_form_get(form, "grant_type");

    memset(out, 0, sizeof(*out));
    out->event.grant_type = grant;
    if (grant == NULL)
        return gw_auth__reply_error(a, out, 400, "invalid_request", "grant_type is required",
                                    "invalid-request");
    if (strcmp(grant, "client_credentials") == 0) {
        out->event.grant_type = "client_credentials";
        return gw_auth__client_credentials(cfg, a, form, now, out);
    }
    if (strcmp(grant, "password") == 0) {
        out->event.grant_type = "password";
        return gw_auth__password_grant(cfg, a, form, client_addr, now, out);
    }
    if (strcmp(grant, "authorization_code") == 0) {
        out->event.grant_type = "authorization_code";
        return gw_auth__code_grant(cfg, a, form, now, out);
    }
    if (strcmp(grant, "refresh_token") == 0) {
        out->event.grant_type = "refresh_token";
        return gw_auth__refresh_grant(cfg, a, form, now, out);
    }
    out->event.grant_type = NULL; /* never echo an arbitrary value into the audit */
    return gw_auth__reply_error(a, out, 400, "unsupported_grant_type",
                                "grant_type must be client_credentials, authorization_code, "
                                "refresh_token or password",
                                "unsupported-grant");
}

int
gw_auth_token_endpoint_body(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                            const char *body, size_t len, const char *client_addr, int64_t now,
                            struct gw_auth_token_response *out)
{
    struct gw_auth_form form;
    struct base_err err = {0};

    if (gw_auth_form_parse(a, body, len, &form, &err) != BASE_OK) {
        memset(out, 0, sizeof(*out));
        return gw_auth__reply_error(a, out, err.rc == BASE_E_NOMEM ? 500 : 400, "invalid_request",
                                    err.msg, "invalid-request");
    }
    return gw_auth_token_endpoint(cfg, a, &form, client_addr, now, out);
}

int
gw_auth_token_refuse_http_auth(struct base_arena *a, const char *authorization,
                               struct gw_auth_token_response *out)
{
    size_t n = strcspn(authorization, " ");
    bool is_token = n > 0 && n <= 32;

    memset(out, 0, sizeof(*out));
    /* RFC 9110 §5.6.2 token characters only: the scheme goes back out. */
    for (size_t i = 0; i < n && is_token; i++)
        is_token = strchr("!#$%&'*+-.^_`|~", authorization[i]) != NULL ||
                   (authorization[i] >= '0' && authorization[i] <= '9') ||
                   (authorization[i] >= 'A' && authorization[i] <= 'Z') ||
                   (authorization[i] >= 'a' && authorization[i] <= 'z');
    out->www_authenticate =
        is_token ? base_arena_sprintf(a, "%.*s realm=\"fhirgate\"", (int)n, authorization)
                 : "Basic realm=\"fhirgate\"";
    if (out->www_authenticate == NULL)
        return BASE_E_NOMEM;
    return gw_auth__reply_error(a, out, 401, "invalid_client",
                                "client authentication by the Authorization header is not "
                                "supported: apps send client_id, systems a JWT client assertion "
                                "(RFC 7523)",
                                "client-auth-unsupported");
}

/* ------------------------------------------------ smart-configuration -- */

static json_t *
scopes_supported(const struct gw_auth_endpoint_config *cfg)
{
    static const enum gw_auth_role roles[] = {GW_AUTH_ROLE_CLINICIAN, GW_AUTH_ROLE_PATIENT,
                                              GW_AUTH_ROLE_REGULATOR, GW_AUTH_ROLE_ADMIN,
                                              GW_AUTH_ROLE_MEMBER_SYSTEM};
    json_t *arr = json_array();

    for (size_t i = 0; i < BASE_ARRAY_LEN(roles) && arr != NULL; i++) {
        struct base_str rest = base_str_from_cstr(gw_auth_role_scope_ceiling(roles[i]));

        while (rest.len > 0) {
            struct base_str tok;
            bool seen = false;
            size_t j;
            const json_t *v;

            (void)base_str_cut(rest, ' ', &tok, &rest);
            /* Only the authorization code flow issues an id_token, a
             * refresh token or a patient context. */
            if (cfg->authorize_url == NULL &&
                (base_str_eq_cstr(tok, "openid") || base_str_eq_cstr(tok, "fhirUser") ||
                 base_str_eq_cstr(tok, "launch/patient") ||
                 base_str_eq_cstr(tok, "offline_access") || base_str_eq_cstr(tok, "online_access")))
                continue;
            json_array_foreach(arr, j, v)
            {
                seen = seen || base_str_eq_cstr(tok, json_string_value(v));
            }
            if (!seen)
                json_array_append_new(arr, json_stringn(tok.ptr, tok.len));
        }
    }
    return arr;
}

/* SMART App Launch 2.x standalone launch, when the endpoint is configured. */
static void
add_app_launch(const struct gw_auth_endpoint_config *cfg, json_t *doc)
{
    json_t *caps = json_object_get(doc, "capabilities");

    if (cfg->authorize_url == NULL)
        return;
    json_array_append_new(json_object_get(doc, "grant_types_supported"),
                          json_string("authorization_code"));
    json_array_append_new(json_object_get(doc, "grant_types_supported"),
                          json_string("refresh_token"));
    /* SMART 2.x: issuer is required with sso-openid-connect (the id_token's
     * iss, what an app checks against OpenID Connect discovery). */
    json_object_set_new(doc, "issuer", json_string(cfg->tokens.issuer));
    json_object_set_new(doc, "authorization_endpoint", json_string(cfg->authorize_url));
    if (cfg->revocation_url != NULL)
        json_object_set_new(doc, "revocation_endpoint", json_string(cfg->revocation_url));
    json_object_set_new(doc, "response_types_supported", json_pack("[s]", "code"));
    /* SMART 2.0: S256 required, "plain" must not be offered. */
    json_object_set_new(doc, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    json_array_append_new(caps, json_string("launch-standalone"));
    json_array_append_new(caps, json_string("authorize-post"));
    json_array_append_new(caps, json_string("client-public"));
    json_array_append_new(caps, json_string("context-standalone-patient"));
    json_array_append_new(caps, json_string("sso-openid-connect"));
    /* Refresh tokens for offline_access / online_access (RFC 6749 §6). */
    json_array_append_new(caps, json_string("permission-offline"));
    json_array_append_new(caps, json_string("permission-online"));
}

json_t *
gw_auth_smart_configuration(const struct gw_auth_endpoint_config *cfg)
{
    json_t *grants = json_pack("[s]", "client_credentials");
    json_t *doc;

    if (grants != NULL && cfg->password_grant)
        json_array_append_new(grants, json_string("password"));
    /* SMART App Launch 2.x §Conformance; SMART Backend Services requires
     * private_key_jwt with RS384 and ES384. */
    doc = json_pack("{s:s?, s:s?, s:o, s:[s], s:[s,s,s,s], s:o, s:[s,s,s,s,s]}", "token_endpoint",
                    cfg->token_url, "jwks_uri", cfg->jwks_url, "grant_types_supported", grants,
                    "token_endpoint_auth_methods_supported", "private_key_jwt",
                    "token_endpoint_auth_signing_alg_values_supported", "RS384", "ES384", "RS256",
                    "ES256", "scopes_supported", scopes_supported(cfg), "capabilities",
                    "client-confidential-asymmetric", "permission-v1", "permission-v2",
                    "permission-user", "permission-patient");
    if (doc != NULL)
        add_app_launch(cfg, doc);
    return doc;
}

json_t *
gw_auth_openid_configuration(const struct gw_auth_endpoint_config *cfg)
{
    const struct gw_auth__key *k = gw_auth__keyset_signing(cfg->keys);

    if (cfg->authorize_url == NULL || k == NULL)
        return NULL;
    /* OpenID Connect Discovery 1.0 §3: the REQUIRED members, and what a
     * SMART app needs to validate the id_token. */
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:[s], s:[s], s:[s], s:[s,s,s,s], s:[s,s,s], s:[s], "
        "s:[s,s,s,s,s,s,s,s]}",
        "issuer", cfg->tokens.issuer, "authorization_endpoint", cfg->authorize_url,
        "token_endpoint", cfg->token_url, "jwks_uri", cfg->jwks_url, "response_types_supported",
        "code", "subject_types_supported", "public", "id_token_signing_alg_values_supported",
        gw_auth_alg_name(k->sign_alg), "scopes_supported", "openid", "fhirUser", "launch/patient",
        "offline_access", "grant_types_supported", "authorization_code", "refresh_token",
        "client_credentials", "code_challenge_methods_supported", "S256", "claims_supported", "iss",
        "sub", "aud", "exp", "iat", "nonce", "fhirUser", "name");
}
