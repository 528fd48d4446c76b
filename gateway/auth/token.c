/*
 * Access tokens the gateway issues and accepts: JWTs in the RFC 9068 shape
 * (typ "at+jwt"; iss, sub, aud, exp, iat, jti, client_id, scope) plus the
 * claims fhirgate's policy needs: role, organization, patient,
 * purpose_of_use and name (private claims, RFC 7519 §4.3).
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include <openssl/rand.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/auth_int.h"

#define TOKEN_TYP "at+jwt"

void
gw_auth_token_config_default(struct gw_auth_token_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->user_lifetime = GW_AUTH_USER_LIFETIME_DEFAULT;
    cfg->system_lifetime = GW_AUTH_SYSTEM_LIFETIME_DEFAULT;
    cfg->leeway = BASE_LIMIT_AUTH_CLOCK_SKEW;
}

char *
gw_auth__jti_new(struct base_arena *a)
{
    unsigned char rnd[16]; /* 128 bits: unguessable and collision-free */

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return NULL;
    return gw_auth__b64url_arena(a, rnd, sizeof(rnd));
}

/* The structural rules every principal obeys, whether we are about to
 * sign it or have just verified it. */
static int
check_principal(const struct gw_auth_principal *p, struct base_err *err)
{
    ENSURE(p->role != GW_AUTH_ROLE_NONE, err, BASE_E_INVALID, "value", "token.role",
           "principal has no role");
    ENSURE(p->subject != NULL && p->subject[0] != '\0', err, BASE_E_INVALID, "value", "token.sub",
           "principal has no subject");
    ENSURE(!(p->role == GW_AUTH_ROLE_CLINICIAN || p->role == GW_AUTH_ROLE_MEMBER_SYSTEM) ||
               (p->organization != NULL && p->organization[0] != '\0'),
           err, BASE_E_INVALID, "value", "token.organization",
           "clinicians and member systems must belong to an organization");
    ENSURE(p->role != GW_AUTH_ROLE_PATIENT || (p->patient != NULL && p->patient[0] != '\0'), err,
           BASE_E_INVALID, "value", "token.patient", "a patient principal needs a patient link");
    ENSURE(gw_auth_role_allows_pou(p->role, p->purpose), err, BASE_E_INVALID, "value",
           "token.purpose_of_use", "purpose of use is not allowed for the role");
    return gw_auth_scopes_check_role(&p->scopes, p->role, err);
}

static int
set_str(json_t *o, const char *name, const char *value)
{
    if (value == NULL)
        return 0;
    return json_object_set_new(o, name, json_string(value));
}

static json_t *
build_claims(const struct gw_auth_token_config *cfg, const struct gw_auth_principal *p, int64_t now,
             int64_t life, const char *jti, struct base_err *err)
{
    struct base_buf scope;
    json_t *c = json_object();
    int bad = c == NULL;

    base_buf_init(&scope, BASE_LIMIT_AUTH_MAX_JSON_STRING);
    if (gw_auth_scopes_format(&p->scopes, &scope, err) != BASE_OK)
        bad = 1;
    if (!bad) {
        bad |= set_str(c, "iss", cfg->issuer) | set_str(c, "sub", p->subject) |
               set_str(c, "aud", cfg->audience) |
               json_object_set_new(c, "exp", json_integer(now + life)) |
               json_object_set_new(c, "iat", json_integer(now)) |
               json_object_set_new(c, "nbf", json_integer(now)) | set_str(c, "jti", jti) |
               set_str(c, "client_id", p->client_id) |
               set_str(c, "scope", scope.data != NULL ? scope.data : "") |
               set_str(c, "role", gw_auth_role_name(p->role)) |
               set_str(c, "organization", p->organization) | set_str(c, "patient", p->patient) |
               set_str(c, "purpose_of_use", gw_auth_pou_code(p->purpose)) |
               set_str(c, "name", p->display_name);
    }
    base_buf_fini(&scope);
    if (bad) {
        json_decref(c);
        base_err_set(err, BASE_E_NOMEM, "exception", "token", "could not build claims");
        return NULL;
    }
    return c;
}

int
gw_auth_token_issue(struct base_arena *a, const struct gw_auth_keyset *ks,
                    const struct gw_auth_token_config *cfg, const struct gw_auth_principal *p,
                    int64_t now, char **out_token, int64_t *out_expires_in, struct base_err *err)
{
    int64_t life =
        p->role == GW_AUTH_ROLE_MEMBER_SYSTEM ? cfg->system_lifetime : cfg->user_lifetime;
    const char *jti = p->token_id != NULL ? p->token_id : gw_auth__jti_new(a);
    json_t *claims;
    size_t len;
    int rc;

    ENSURE(cfg->issuer != NULL && cfg->audience != NULL && life > 0, err, BASE_E_INVALID, "value",
           "token", "token issuer, audience and lifetime must be configured");
    TRY(check_principal(p, err));
    ENSURE(jti != NULL, err, BASE_E_INTERNAL, "exception", "token", "could not make a token id");
    claims = build_claims(cfg, p, now, life, jti, err);
    if (claims == NULL)
        return BASE_E_NOMEM;
    rc = gw_auth_jwt_sign(a, ks, NULL, TOKEN_TYP, claims, out_token, &len, err);
    json_decref(claims);
    if (rc == BASE_OK && out_expires_in != NULL)
        *out_expires_in = life;
    return rc;
}

/* ---------------------------------------------------------------- verify -- */

/* An optional text claim: absent → NULL; present → a non-empty string of
 * at most `max` bytes without control characters, copied to the arena. */
static int
text_claim(struct base_arena *a, const struct gw_auth_jwt *jwt, const char *name, size_t max,
           bool required, const char **out, struct base_err *err)
{
    const json_t *v = json_object_get(jwt->claims, name);
    struct base_str s = fhir_json_str(v);
    char where[40];

    *out = NULL;
    snprintf(where, sizeof(where), "token.%s", name);
    ENSURE(v != NULL || !required, err, BASE_E_AUTH, "login", where,
           "token is missing required claim %s", name);
    if (v == NULL)
        return BASE_OK;
    ENSURE(fhir_json_is_string(v) && s.len > 0 && s.len <= max, err, BASE_E_AUTH, "login", where,
           "token claim %s has the wrong type or length", name);
    for (size_t i = 0; i < s.len; i++) {
        ENSURE((unsigned char)s.ptr[i] >= 0x20 && s.ptr[i] != 0x7f, err, BASE_E_AUTH, "login",
               where, "token claim %s contains control characters", name);
    }
    *out = base_str_dup0(a, s);
    ENSURE(*out != NULL, err, BASE_E_NOMEM, "exception", where, "out of memory");
    return BASE_OK;
}

static int
read_principal(struct base_arena *a, const struct gw_auth_jwt *jwt, struct gw_auth_principal *p,
               struct base_err *err)
{
    const char *role;
    const char *pou;
    const char *scope;

    TRY(text_claim(a, jwt, "sub", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, true, &p->subject, err));
    TRY(text_claim(a, jwt, "jti", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, true, &p->token_id, err));
    TRY(text_claim(a, jwt, "client_id", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, false, &p->client_id, err));
    TRY(text_claim(a, jwt, "organization", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, false, &p->organization,
                   err));
    TRY(text_claim(a, jwt, "patient", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, false, &p->patient, err));
    TRY(text_claim(a, jwt, "name", BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, false, &p->display_name, err));
    TRY(text_claim(a, jwt, "role", 32, true, &role, err));
    TRY(text_claim(a, jwt, "purpose_of_use", 32, true, &pou, err));
    TRY(text_claim(a, jwt, "scope", BASE_LIMIT_AUTH_MAX_JSON_STRING, true, &scope, err));
    ENSURE(gw_auth_role_parse(base_str_from_cstr(role), &p->role), err, BASE_E_AUTH, "login",
           "token.role", "token role is unknown");
    ENSURE(gw_auth_pou_parse(base_str_from_cstr(pou), &p->purpose), err, BASE_E_AUTH, "login",
           "token.purpose_of_use", "token purpose of use is unknown");
    if (gw_auth_scopes_parse(a, base_str_from_cstr(scope), &p->scopes, err) != BASE_OK)
        return gw_auth__as_auth(err);
    p->issued_at = gw_auth__claim_date(jwt, "iat");
    p->expires_at = gw_auth__claim_date(jwt, "exp");
    return BASE_OK;
}

int
gw_auth_token_verify(struct base_arena *a, const struct gw_auth_keyset *ks,
                     const struct gw_auth_token_config *cfg, const char *token, size_t len,
                     int64_t now, struct gw_auth_principal **out, struct base_err *err)
{
    struct gw_auth_jwt *jwt = NULL;
    struct gw_auth_principal *p;
    struct gw_auth_jwt_expect expect = {
        .issuer = cfg->issuer,
        .audience = cfg->audience,
        .now = now,
        .leeway = cfg->leeway,
        .max_lifetime =
            cfg->user_lifetime > cfg->system_lifetime ? cfg->user_lifetime : cfg->system_lifetime,
        .required = GW_AUTH_CLAIM_ISS | GW_AUTH_CLAIM_SUB | GW_AUTH_CLAIM_AUD | GW_AUTH_CLAIM_EXP |
                    GW_AUTH_CLAIM_IAT | GW_AUTH_CLAIM_JTI,
    };
    int rc;

    *out = NULL;
    ENSURE(cfg->issuer != NULL && cfg->audience != NULL, err, BASE_E_INTERNAL, "exception", "token",
           "token issuer and audience are not configured");
    rc = gw_auth_jwt_parse(a, token, len, &jwt, err);
    if (rc != BASE_OK)
        return rc == BASE_E_NOMEM ? rc : gw_auth__as_auth(err);
    /* RFC 9068 §4: reject anything that is not typed as an access token, so
     * no other JWT we sign could ever be replayed as one. */
    ENSURE(jwt->typ != NULL && (strcasecmp(jwt->typ, TOKEN_TYP) == 0 ||
                                strcasecmp(jwt->typ, "application/" TOKEN_TYP) == 0),
           err, BASE_E_AUTH, "login", "token.header.typ", "token is not an access token");
    TRY(gw_auth_jwt_verify(jwt, ks, err));
    TRY(gw_auth_jwt_check_claims(jwt, &expect, err));
    p = BASE_NEW(a, struct gw_auth_principal);
    ENSURE(p != NULL, err, BASE_E_NOMEM, "exception", "token", "out of memory");
    TRY(read_principal(a, jwt, p, err));
    rc = check_principal(p, err);
    if (rc != BASE_OK)
        return rc == BASE_E_NOMEM ? rc : gw_auth__as_auth(err);
    *out = p;
    return BASE_OK;
}
