/*
 * Registered claims (RFC 7519 §4.1) checked after the signature: types,
 * presence, issuer, audience and the time window with a small leeway for
 * clock skew between nodes (RFC 7519 §4.1.4).
 */
#include "gateway/auth/gw_auth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "gateway/auth/auth_int.h"

#define MAX_DATE ((int64_t)1 << 40)

/* NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional. */
static int
numeric_date(const json_t *claims, const char *name, bool *present, int64_t *out,
             struct base_err *err)
{
    const json_t *v = json_object_get(claims, name);
    char where[32];
    double d;

    *present = v != NULL;
    if (v == NULL)
        return BASE_OK;
    snprintf(where, sizeof(where), "token.%s", name);
    /* 2^40 s is past year 36000: anything larger is not a date (and the
     * bound keeps exp + leeway from overflowing). */
    if (fhir_json_number_i64(v, out) && *out >= 0 && *out < MAX_DATE)
        return BASE_OK;
    d = fhir_json_number_double(v);
    ENSURE(fhir_json_is_number(v) && isfinite(d) && d >= 0 && d < (double)MAX_DATE, err,
           BASE_E_AUTH, "login", where, "token claim %s is not a NumericDate", name);
    *out = (int64_t)d;
    return BASE_OK;
}

static bool
aud_matches(const json_t *aud, const char *want)
{
    size_t i;
    const json_t *v;

    if (fhir_json_is_string(aud))
        return base_str_eq_cstr(fhir_json_str(aud), want);
    json_array_foreach(aud, i, v)
    {
        if (fhir_json_is_string(v) && base_str_eq_cstr(fhir_json_str(v), want))
            return true;
    }
    return false;
}

static bool
aud_well_typed(const json_t *aud)
{
    size_t i;
    const json_t *v;

    if (fhir_json_is_string(aud))
        return true;
    if (!json_is_array(aud) || json_array_size(aud) == 0)
        return false;
    json_array_foreach(aud, i, v)
    {
        if (!fhir_json_is_string(v))
            return false;
    }
    return true;
}

/* iss, sub, jti: strings of bounded length when present. */
static int
check_text_claims(const json_t *claims, struct base_err *err)
{
    static const char *const names[] = {"iss", "sub", "jti"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(names); i++) {
        const json_t *v = json_object_get(claims, names[i]);
        char where[32];

        if (v == NULL)
            continue;
        snprintf(where, sizeof(where), "token.%s", names[i]);
        ENSURE(fhir_json_is_string(v) && fhir_json_str(v).len > 0 &&
                   fhir_json_str(v).len <= BASE_LIMIT_AUTH_MAX_CLAIM_TEXT,
               err, BASE_E_AUTH, "login", where, "token claim %s has the wrong type or length",
               names[i]);
    }
    return BASE_OK;
}

static int
check_required(const json_t *claims, unsigned required, struct base_err *err)
{
    static const struct {
        unsigned bit;
        const char *name;
    } regs[] = {
        {GW_AUTH_CLAIM_ISS, "iss"}, {GW_AUTH_CLAIM_SUB, "sub"}, {GW_AUTH_CLAIM_AUD, "aud"},
        {GW_AUTH_CLAIM_EXP, "exp"}, {GW_AUTH_CLAIM_NBF, "nbf"}, {GW_AUTH_CLAIM_IAT, "iat"},
        {GW_AUTH_CLAIM_JTI, "jti"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(regs); i++) {
        char where[32];

        if ((required & regs[i].bit) == 0 || json_object_get(claims, regs[i].name) != NULL)
            continue;
        snprintf(where, sizeof(where), "token.%s", regs[i].name);
        return base_err_set(err, BASE_E_AUTH, "login", where, "token is missing required claim %s",
                            regs[i].name);
    }
    return BASE_OK;
}

static int
check_times(const json_t *claims, const struct gw_auth_jwt_expect *e, struct base_err *err)
{
    bool has_exp;
    bool has_nbf;
    bool has_iat;
    int64_t exp = 0;
    int64_t nbf = 0;
    int64_t iat = 0;

    TRY(numeric_date(claims, "exp", &has_exp, &exp, err));
    TRY(numeric_date(claims, "nbf", &has_nbf, &nbf, err));
    TRY(numeric_date(claims, "iat", &has_iat, &iat, err));
    /* RFC 7519 §4.1.4: the current time MUST be before exp. */
    ENSURE(!has_exp || e->now < exp + e->leeway, err, BASE_E_AUTH, "expired", "token.exp",
           "token has expired");
    ENSURE(!has_nbf || nbf <= e->now + e->leeway, err, BASE_E_AUTH, "login", "token.nbf",
           "token is not valid yet");
    ENSURE(!has_iat || iat <= e->now + e->leeway, err, BASE_E_AUTH, "login", "token.iat",
           "token was issued in the future");
    ENSURE(e->max_lifetime == 0 || !has_exp || exp <= e->now + e->max_lifetime + e->leeway, err,
           BASE_E_AUTH, "login", "token.exp", "token lifetime exceeds %lld seconds",
           (long long)e->max_lifetime);
    return BASE_OK;
}

int
gw_auth_jwt_check_claims(const struct gw_auth_jwt *jwt, const struct gw_auth_jwt_expect *e,
                         struct base_err *err)
{
    const json_t *c = jwt->claims;
    const json_t *iss = json_object_get(c, "iss");
    const json_t *aud = json_object_get(c, "aud");

    TRY(check_required(c, e->required, err));
    TRY(check_text_claims(c, err));
    ENSURE(aud == NULL || aud_well_typed(aud), err, BASE_E_AUTH, "login", "token.aud",
           "token claim aud has the wrong type");
    TRY(check_times(c, e, err));
    ENSURE(e->issuer == NULL || (iss != NULL && base_str_eq_cstr(fhir_json_str(iss), e->issuer)),
           err, BASE_E_AUTH, "login", "token.iss", "token issuer does not match");
    ENSURE(e->audience == NULL || (aud != NULL && aud_matches(aud, e->audience)), err, BASE_E_AUTH,
           "login", "token.aud", "token audience does not match");
    return BASE_OK;
}

const char *
gw_auth_jwt_claim_str(const struct gw_auth_jwt *jwt, const char *name)
{
    const json_t *v = json_object_get(jwt->claims, name);

    return fhir_json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t
gw_auth__claim_date(const struct gw_auth_jwt *jwt, const char *name)
{
    bool present = false;
    int64_t v = 0;

    if (numeric_date(jwt->claims, name, &present, &v, NULL) != BASE_OK || !present)
        return 0;
    return v;
}
