/*
 * grant_type=client_credentials with a JWT client assertion: SMART Backend
 * Services (SMART App Launch 2.x, "Backend Services") on RFC 7523 §2.2 and
 * §3.  The assertion: iss = sub = client_id, aud = our token URL, exp no
 * more than five minutes ahead, a jti never seen before, signed with a key
 * from the client's registered JWK Set.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/endpoint_int.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static int
invalid_client(struct base_arena *a, struct gw_auth_token_response *out, const char *why,
               const char *reason)
{
    /* RFC 6749 §5.2: invalid_client may be answered with 401. */
    return gw_auth__reply_error(a, out, 401, "invalid_client", why, reason);
}

/* Parse the assertion and find who it claims to be (not trusted yet). */
static int
read_assertion(struct base_arena *a, const struct gw_auth_form *form, struct gw_auth_jwt **jwt,
               const char **client_id, struct base_err *err)
{
    const char *type = gw_auth_form_get(form, "client_assertion_type");
    const char *assertion = gw_auth_form_get(form, "client_assertion");
    const char *form_id = gw_auth_form_get(form, "client_id");
    const char *iss;
    const char *sub;

    ENSURE(type != NULL && assertion != NULL, err, BASE_E_AUTH, "login", "client_assertion",
           "client authentication requires client_assertion and client_assertion_type");
    ENSURE(strcmp(type, ASSERTION_TYPE) == 0, err, BASE_E_AUTH, "login", "client_assertion_type",
           "client_assertion_type must be jwt-bearer (RFC 7523)");
    TRY(gw_auth_jwt_parse(a, assertion, strlen(assertion), jwt, err));
    /* SMART Backend Services: typ, when present, is "JWT". */
    ENSURE((*jwt)->typ == NULL || strcasecmp((*jwt)->typ, "JWT") == 0, err, BASE_E_AUTH, "login",
           "token.header.typ", "client assertion typ must be JWT");
    iss = gw_auth_jwt_claim_str(*jwt, "iss");
    sub = gw_auth_jwt_claim_str(*jwt, "sub");
    ENSURE(iss != NULL && sub != NULL && strcmp(iss, sub) == 0 && iss[0] != '\0' &&
               strlen(iss) <= BASE_LIMIT_AUTH_MAX_CLAIM_TEXT,
           err, BASE_E_AUTH, "login", "token.iss",
           "client assertion iss and sub must both be the client id");
    ENSURE(form_id == NULL || strcmp(form_id, iss) == 0, err, BASE_E_AUTH, "login", "client_id",
           "client_id does not match the client assertion");
    *client_id = iss;
    return BASE_OK;
}

/* Verify the assertion with the client's registered keys. */
static int
verify_assertion(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                 const struct gw_auth_client *client, const struct gw_auth_jwt *jwt, int64_t now,
                 struct base_err *err)
{
    struct gw_auth_keyset *ks = NULL;
    struct gw_auth_jwt_expect expect = {
        .issuer = client->client_id,
        .audience = cfg->token_url,
        .now = now,
        .leeway = cfg->tokens.leeway,
        .max_lifetime = BASE_LIMIT_AUTH_ASSERTION_LIFE,
        .required = GW_AUTH_CLAIM_ISS | GW_AUTH_CLAIM_SUB | GW_AUTH_CLAIM_AUD | GW_AUTH_CLAIM_EXP |
                    GW_AUTH_CLAIM_JTI,
    };
    struct base_err kerr = {0};

    TRY(gw_auth_keyset_new(&ks, err));
    ENSURE(gw_auth_keyset_tie(a, ks) == BASE_OK, err, BASE_E_NOMEM, "exception", "client",
           "out of memory");
    if (client->jwks == NULL ||
        gw_auth_keyset_add_jwks(ks, client->jwks, strlen(client->jwks), &kerr) != BASE_OK) {
        BASE_LOG(BASE_LOG_WARN, "auth.client.bad_jwks", "where=%s msg=%s", kerr.where, kerr.msg);
        return base_err_set(err, BASE_E_AUTH, "login", "client",
                            "the client's registered keys are not usable");
    }
    TRY(gw_auth_jwt_verify(jwt, ks, err));
    return gw_auth_jwt_check_claims(jwt, &expect, err);
}

static int
grant(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
      const struct gw_auth_client *client, const char *scope, int64_t now,
      struct gw_auth_token_response *out)
{
    struct gw_auth_principal p = {0};

    if (scope == NULL)
        return gw_auth__reply_error(a, out, 400, "invalid_request",
                                    "scope is required (SMART Backend Services)",
                                    "invalid-request");
    if (client->role != GW_AUTH_ROLE_MEMBER_SYSTEM && client->role != GW_AUTH_ROLE_REGULATOR) {
        BASE_LOG(BASE_LOG_ERROR, "auth.client.bad_role", "role=%s",
                 gw_auth_role_name(client->role));
        return gw_auth__reply_error(a, out, 500, "server_error", "client is misconfigured",
                                    "internal");
    }
    p.role = client->role;
    p.subject = client->client_id;
    p.client_id = client->client_id;
    p.organization = client->organization;
    p.display_name = client->display_name;
    return gw_auth__grant(cfg, a, &p, scope, client->allowed_scopes, now, NULL, out);
}

int
gw_auth__client_credentials(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                            const struct gw_auth_form *form, int64_t now,
                            struct gw_auth_token_response *out)
{
    const struct gw_auth_backend *be = cfg->backend;
    struct gw_auth_jwt *jwt = NULL;
    struct gw_auth_client *client = NULL;
    const char *client_id = NULL;
    struct base_err err = {0};
    int rc;

    if (read_assertion(a, form, &jwt, &client_id, &err) != BASE_OK)
        return invalid_client(a, out, err.msg, "bad-assertion");
    out->event.subject = client_id;
    rc = be->client_get(be->ctx, a, client_id, &client, &err);
    if (rc == BASE_E_NOTFOUND)
        return invalid_client(a, out, "unknown client", "unknown-client");
    if (rc != BASE_OK)
        return gw_auth__reply_store_error(a, out, rc);
    out->event.role = client->role;
    out->event.organization = client->organization;
    if (!client->is_enabled)
        return invalid_client(a, out, "client is disabled", "client-disabled");
    if (verify_assertion(cfg, a, client, jwt, now, &err) != BASE_OK)
        return invalid_client(a, out, err.msg, "bad-assertion");
    /* RFC 7523 §3 item 7 / SMART: a jti is accepted once while the
     * assertion could still be accepted, leeway included. */
    rc = be->jti_claim(be->ctx, client_id, gw_auth_jwt_claim_str(jwt, "jti"),
                       gw_auth__claim_date(jwt, "exp") + cfg->tokens.leeway, now, &err);
    if (rc == BASE_E_CONFLICT)
        return invalid_client(a, out, "client assertion was already used", "assertion-replayed");
    if (rc != BASE_OK)
        return gw_auth__reply_store_error(a, out, rc);
    return grant(cfg, a, client, gw_auth_form_get(form, "scope"), now, out);
}
