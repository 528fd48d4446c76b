/* JWT parse / verify / claims: every refusal, and round trips per algorithm. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"
#include "test/unit/gateway/auth/auth_test.h"

#define NOW 1700000000LL
#define ISS "https://gw.test"
#define AUD "https://gw.test/fhir"

static EVP_PKEY *k_es256, *k_es384, *k_rs256, *k_other;
static char *pem_rs256_pub;
static struct gw_auth_keyset *ks;

/* Runs once per test case in the parent; forked tests inherit the keys. */
static void
keys_setup(void)
{
    struct base_err err = {0};
    char *pem;

    k_es256 = tk_keygen("P-256");
    k_es384 = tk_keygen("P-384");
    k_rs256 = tk_keygen("RSA2048");
    k_other = tk_keygen("P-256");
    pem_rs256_pub = tk_pem(k_rs256, false);
    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    pem = tk_pem(k_es256, true);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, pem, strlen(pem), "k-es256", NULL, true, &err),
                     BASE_OK);
    free(pem);
    pem = tk_pem(k_es384, false);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, pem, strlen(pem), "k-es384", NULL, false, &err),
                     BASE_OK);
    free(pem);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, pem_rs256_pub, strlen(pem_rs256_pub), "k-rs256",
                                            "RS256", false, &err),
                     BASE_OK);
}

static void
keys_teardown(void)
{
    gw_auth_keyset_free(ks);
    EVP_PKEY_free(k_es256);
    EVP_PKEY_free(k_es384);
    EVP_PKEY_free(k_rs256);
    EVP_PKEY_free(k_other);
    free(pem_rs256_pub);
}

static char *
good_claims(void)
{
    static char buf[512];

    snprintf(buf, sizeof(buf),
             "{\"iss\":\"" ISS "\",\"sub\":\"alice-secret-sub\",\"aud\":\"" AUD
             "\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"j1\"}",
             NOW + 300, NOW);
    return buf;
}

static const struct gw_auth_jwt_expect expect_default = {
    .issuer = ISS,
    .audience = AUD,
    .now = NOW,
    .leeway = 60,
    .required = GW_AUTH_CLAIM_ISS | GW_AUTH_CLAIM_SUB | GW_AUTH_CLAIM_AUD | GW_AUTH_CLAIM_EXP,
};

/* Parse, verify and check; returns the first failure (err filled). */
static int
run(const char *tok, size_t len, const struct gw_auth_jwt_expect *e, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_jwt *jwt = NULL;
    int rc = gw_auth_jwt_parse(a, tok, len, &jwt, err);

    if (rc == BASE_OK)
        rc = gw_auth_jwt_verify(jwt, ks, err);
    if (rc == BASE_OK)
        rc = gw_auth_jwt_check_claims(jwt, e != NULL ? e : &expect_default, err);
    base_arena_free(a);
    return rc;
}

/* Expect a refusal with this message and location; the message must not
 * leak token content. */
static void
expect_refused(const char *tok, const struct gw_auth_jwt_expect *e, const char *msg,
               const char *where)
{
    struct base_err err = {0};

    ck_assert_int_eq(run(tok, strlen(tok), e, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, msg);
    if (where != NULL)
        ck_assert_str_eq(err.where, where);
    ck_assert_ptr_null(strstr(err.msg, "alice"));
    ck_assert_ptr_null(strstr(err.where, "alice"));
}

static void
expect_ok(const char *tok)
{
    struct base_err err = {0};

    ck_assert_msg(run(tok, strlen(tok), NULL, &err) == BASE_OK, "refused: %s at %s", err.msg,
                  err.where);
}

START_TEST(hand_signed_es256_verifies)
{
    char *t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\",\"typ\":\"JWT\"}", good_claims(),
                       k_es256, "ES256", NULL, 0);

    expect_ok(t);
    free(t);
}
END_TEST

START_TEST(hand_signed_es384_and_rs256_verify)
{
    char *t = tk_token("{\"alg\":\"ES384\",\"kid\":\"k-es384\"}", good_claims(), k_es384, "ES384",
                       NULL, 0);
    char *r = tk_token("{\"alg\":\"RS256\",\"kid\":\"k-rs256\"}", good_claims(), k_rs256, "RS256",
                       NULL, 0);

    expect_ok(t);
    expect_ok(r);
    free(t);
    free(r);
}
END_TEST

/* Sign with gw_auth_jwt_sign for each algorithm, then verify, both with
 * our verifier and (for the signature format) by hand in the test. */
START_TEST(sign_verify_round_trip_each_alg)
{
    static const struct {
        const char *spec;
        const char *alg;
    } cases[] = {
        {"P-256", "ES256"}, {"P-384", "ES384"}, {"RSA2048", "RS256"}, {"RSA2048", "RS384"}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY *k = tk_keygen(cases[i].spec);
        char *pem = tk_pem(k, true);
        struct gw_auth_keyset *own = NULL;
        struct base_arena *a = base_arena_new(0);
        struct base_err err = {0};
        json_t *claims = json_loads(good_claims(), 0, NULL);
        struct gw_auth_jwt *jwt = NULL;
        char *tok = NULL;
        size_t len = 0;

        ck_assert_int_eq(gw_auth_keyset_new(&own, &err), BASE_OK);
        ck_assert_int_eq(
            gw_auth_keyset_add_pem(own, pem, strlen(pem), "rt", cases[i].alg, true, &err), BASE_OK);
        ck_assert_int_eq(gw_auth_jwt_sign(a, own, NULL, "JWT", claims, &tok, &len, &err), BASE_OK);
        ck_assert_uint_eq(strlen(tok), len);
        ck_assert_int_eq(gw_auth_jwt_parse(a, tok, len, &jwt, &err), BASE_OK);
        ck_assert_str_eq(jwt->kid, "rt");
        ck_assert_str_eq(jwt->typ, "JWT");
        ck_assert_str_eq(gw_auth_alg_name(jwt->alg), cases[i].alg);
        if (cases[i].alg[0] == 'E') /* raw r||s, not DER */
            ck_assert_uint_eq(jwt->sig_len, strstr(cases[i].alg, "384") ? 96u : 64u);
        ck_assert_int_eq(gw_auth_jwt_verify(jwt, own, &err), BASE_OK);
        ck_assert_int_eq(gw_auth_jwt_check_claims(jwt, &expect_default, &err), BASE_OK);
        ck_assert_str_eq(gw_auth_jwt_claim_str(jwt, "sub"), "alice-secret-sub");
        json_decref(claims);
        base_arena_free(a);
        gw_auth_keyset_free(own);
        free(pem);
        EVP_PKEY_free(k);
    }
}
END_TEST

START_TEST(refuses_alg_none)
{
    char *t =
        tk_token("{\"alg\":\"none\",\"kid\":\"k-es256\"}", good_claims(), NULL, NULL, NULL, 0);
    char *u =
        tk_token("{\"alg\":\"NoNe\",\"kid\":\"k-es256\"}", good_claims(), NULL, NULL, NULL, 0);

    expect_refused(t, NULL, "unsigned tokens (alg none) are not accepted", "token.header.alg");
    expect_refused(u, NULL, "unsigned tokens (alg none) are not accepted", "token.header.alg");
    free(t);
    free(u);
}
END_TEST

START_TEST(refuses_hs256_signed_with_public_key)
{
    /* The classic confusion: HMAC keyed with the RSA public key's PEM. */
    char *t = tk_token("{\"alg\":\"HS256\",\"kid\":\"k-rs256\"}", good_claims(), NULL, "HS256",
                       pem_rs256_pub, strlen(pem_rs256_pub));

    expect_refused(t, NULL, "token algorithm is not supported", "token.header.alg");
    free(t);
}
END_TEST

START_TEST(refuses_rs_token_for_ec_key)
{
    char *t = tk_token("{\"alg\":\"RS256\",\"kid\":\"k-es256\"}", good_claims(), k_rs256, "RS256",
                       NULL, 0);
    char *u = tk_token("{\"alg\":\"ES384\",\"kid\":\"k-es256\"}", good_claims(), k_es384, "ES384",
                       NULL, 0);
    char *v = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-rs256\"}", good_claims(), k_es256, "ES256",
                       NULL, 0);

    expect_refused(t, NULL, "token algorithm does not match its key", "token.header.alg");
    expect_refused(u, NULL, "token algorithm does not match its key", "token.header.alg");
    expect_refused(v, NULL, "token algorithm does not match its key", "token.header.alg");
    free(t);
    free(u);
    free(v);
}
END_TEST

START_TEST(refuses_unsupported_algs)
{
    static const char *const algs[] = {"PS256", "ES512", "HS384", "RS512", "EdDSA", "es256"};

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char h[96];
        char *t;

        snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"k-es256\"}", algs[i]);
        t = tk_token(h, good_claims(), k_es256, "ES256", NULL, 0);
        expect_refused(t, NULL, "token algorithm is not supported", "token.header.alg");
        free(t);
    }
}
END_TEST

START_TEST(refuses_unknown_or_missing_kid)
{
    char *t =
        tk_token("{\"alg\":\"ES256\",\"kid\":\"nope\"}", good_claims(), k_es256, "ES256", NULL, 0);
    char *u = tk_token("{\"alg\":\"ES256\"}", good_claims(), k_es256, "ES256", NULL, 0);
    char *v = tk_token("{\"alg\":\"ES256\",\"kid\":7}", good_claims(), k_es256, "ES256", NULL, 0);

    expect_refused(t, NULL, "token key id (kid) is unknown", "token.header.kid");
    expect_refused(u, NULL, "token has no key id (kid)", "token.header.kid");
    expect_refused(v, NULL, "token header member has the wrong type or length", "token.header.kid");
    free(t);
    free(u);
    free(v);
}
END_TEST

START_TEST(refuses_signature_by_another_key)
{
    char *t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", good_claims(), k_other, "ES256",
                       NULL, 0);

    expect_refused(t, NULL, "token signature is invalid", "token.signature");
    free(t);
}
END_TEST

START_TEST(refuses_tampered_payload)
{
    char *t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", good_claims(), k_es256, "ES256",
                       NULL, 0);
    char evil[256];
    char *p;
    char *dot1 = strchr(t, '.');
    char *dot2 = strchr(dot1 + 1, '.');
    char buf[2048];

    snprintf(evil, sizeof(evil),
             "{\"iss\":\"" ISS "\",\"sub\":\"admin\",\"aud\":\"" AUD "\",\"exp\":%lld}", NOW + 300);
    p = tk_b64url(evil, strlen(evil));
    snprintf(buf, sizeof(buf), "%.*s.%s%s", (int)(dot1 - t), t, p, dot2);
    expect_refused(buf, NULL, "token signature is invalid", "token.signature");
    free(p);
    free(t);
}
END_TEST

START_TEST(refuses_tampered_signature)
{
    char *t = tk_token("{\"alg\":\"RS256\",\"kid\":\"k-rs256\"}", good_claims(), k_rs256, "RS256",
                       NULL, 0);
    char *sig = strrchr(t, '.') + 1;

    sig[5] = sig[5] == 'A' ? 'B' : 'A';
    expect_refused(t, NULL, "token signature is invalid", "token.signature");
    free(t);
}
END_TEST

START_TEST(refuses_der_and_zero_ec_signatures)
{
    char *t =
        tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", good_claims(), NULL, NULL, NULL, 0);
    unsigned char zeros[64] = {0};
    char *z = tk_b64url(zeros, sizeof(zeros));
    char buf[2048];
    /* A DER signature (what OpenSSL produces natively) is not a JWS ES256 one. */
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t der_len = sizeof(der);
    char *d;
    char input[1024];

    snprintf(buf, sizeof(buf), "%s%s", t, z);
    expect_refused(buf, NULL, "token signature is invalid", "token.signature");
    snprintf(input, sizeof(input), "%.*s", (int)(strrchr(t, '.') - t), t);
    ck_assert_int_eq(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k_es256), 1);
    ck_assert_int_eq(EVP_DigestSign(c, der, &der_len, (unsigned char *)input, strlen(input)), 1);
    d = tk_b64url(der, der_len);
    snprintf(buf, sizeof(buf), "%s%s", t, d);
    expect_refused(buf, NULL, "token signature is invalid", "token.signature");
    EVP_MD_CTX_free(c);
    free(d);
    free(z);
    free(t);
}
END_TEST

START_TEST(refuses_expired_with_leeway)
{
    char c[256];
    char *t;
    struct base_err err = {0};

    snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld}",
             NOW - 61);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token has expired", "token.exp");
    ck_assert_int_eq(run(t, strlen(t), NULL, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.issue_code, "expired");
    free(t);
    /* 30 s past exp is inside the 60 s clock-skew leeway. */
    snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld}",
             NOW - 30);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_ok(t);
    free(t);
}
END_TEST

START_TEST(refuses_nbf_and_iat_in_the_future)
{
    char c[256];
    char *t;

    snprintf(c, sizeof(c),
             "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld,\"nbf\":%lld}",
             NOW + 600, NOW + 120);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token is not valid yet", "token.nbf");
    free(t);
    snprintf(c, sizeof(c),
             "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld,\"iat\":%lld}",
             NOW + 600, NOW + 120);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token was issued in the future", "token.iat");
    free(t);
    snprintf(c, sizeof(c),
             "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld,\"nbf\":%lld}",
             NOW + 600, NOW + 45);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_ok(t); /* within leeway */
    free(t);
}
END_TEST

START_TEST(refuses_wrong_audience_and_issuer)
{
    char c[256];
    char *t;

    snprintf(c, sizeof(c),
             "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"https://other/fhir\",\"exp\":%lld}",
             NOW + 60);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token audience does not match", "token.aud");
    free(t);
    snprintf(c, sizeof(c),
             "{\"iss\":\"https://evil\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld}", NOW + 60);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token issuer does not match", "token.iss");
    free(t);
    /* aud may be an array containing us (RFC 7519 §4.1.3). */
    snprintf(c, sizeof(c),
             "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":[\"x\",\"" AUD "\"],\"exp\":%lld}",
             NOW + 60);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_ok(t);
    free(t);
    snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":[],\"exp\":%lld}", NOW + 60);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token claim aud has the wrong type", "token.aud");
    free(t);
}
END_TEST

START_TEST(refuses_missing_and_mistyped_claims)
{
    char c[256];
    char *t;

    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}",
                 "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\"}", k_es256, "ES256", NULL,
                 0);
    expect_refused(t, NULL, "token is missing required claim exp", "token.exp");
    free(t);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}",
                 "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":\"soon\"}",
                 k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token claim exp is not a NumericDate", "token.exp");
    free(t);
    snprintf(c, sizeof(c), "{\"iss\":7,\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld}", NOW + 9);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token claim iss has the wrong type or length", "token.iss");
    free(t);
    snprintf(c, sizeof(c),
             "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":9223372036854775807}");
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token claim exp is not a NumericDate", "token.exp");
    free(t);
    /* A fractional NumericDate is legal (RFC 7519 §2). */
    snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld.5}",
             NOW + 9);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_ok(t);
    free(t);
}
END_TEST

START_TEST(refuses_lifetime_beyond_bound)
{
    struct gw_auth_jwt_expect e = expect_default;
    char c[256];
    char *t;

    e.max_lifetime = 300;
    snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\",\"exp\":%lld}",
             NOW + 3600);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", c, k_es256, "ES256", NULL, 0);
    expect_refused(t, &e, "token lifetime exceeds 300 seconds", "token.exp");
    free(t);
}
END_TEST

START_TEST(refuses_bad_framing)
{
    char big[BASE_LIMIT_AUTH_MAX_TOKEN + 2];
    char *t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", good_claims(), k_es256, "ES256",
                       NULL, 0);
    char buf[4096];

    expect_refused("", NULL, "token is empty", "token");
    expect_refused("abc.def", NULL, "token is not a compact JWS (3 segments expected)", "token");
    expect_refused("a.b.c.d", NULL, "token is not a compact JWS (3 segments expected)", "token");
    expect_refused("a.b.c.d.e", NULL, "encrypted tokens (JWE) are not accepted", "token");
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect_refused(big, NULL, "token exceeds 8192 bytes", "token");
    /* padding, a non-alphabet character, a '+' from the standard alphabet */
    snprintf(buf, sizeof(buf), "%s=", t);
    expect_refused(buf, NULL, "token segment is not canonical base64url", "token.signature");
    snprintf(buf, sizeof(buf), "e!%s", t);
    expect_refused(buf, NULL, "token segment is not canonical base64url", "token.header");
    snprintf(buf, sizeof(buf), "%s", t);
    *strchr(buf, '.') = '+';
    expect_refused(buf, NULL, "token is not a compact JWS (3 segments expected)", "token");
    /* no signature segment */
    snprintf(buf, sizeof(buf), "%.*s", (int)(strrchr(t, '.') - t + 1), t);
    expect_refused(buf, NULL, "token is not signed", "token.signature");
    free(t);
}
END_TEST

START_TEST(refuses_non_canonical_trailing_bits)
{
    /* "e30" is "{}"; "e31" decodes to the same bytes with stray low bits. */
    char *t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", good_claims(), k_es256, "ES256",
                       NULL, 0);
    char *sig = strrchr(t, '.') + 1;
    size_t n = strlen(sig);
    /* 64 bytes → 86 chars, the last holds 4 bits of data and 2 unused. */
    char *p = &sig[n - 1];
    const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr(al, *p) - al);

    ck_assert_uint_eq(n, 86);
    *p = al[v | 1];
    if (v & 1)
        *p = al[v & ~1];
    expect_refused(t, NULL, "token segment is not canonical base64url", "token.signature");
    free(t);
}
END_TEST

START_TEST(refuses_bad_header_json)
{
    char *t;

    t = tk_token("[1]", good_claims(), k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token segment is not a JSON object", "token.header");
    free(t);
    t = tk_token("{\"alg\":\"ES256\",", good_claims(), k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token segment is not valid JSON within limits", "token.header");
    free(t);
    t = tk_token("{\"alg\":\"ES256\",\"alg\":\"none\"}", good_claims(), k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token segment is not valid JSON within limits", "token.header");
    free(t);
    t = tk_token("{\"kid\":\"k-es256\"}", good_claims(), k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token header has no algorithm", "token.header.alg");
    free(t);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\",\"crit\":[\"exp\"]}", good_claims(),
                 k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token header extensions (crit) are not supported",
                   "token.header.crit");
    free(t);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", "\"claims\"", k_es256, "ES256", NULL,
                 0);
    expect_refused(t, NULL, "token segment is not a JSON object", "token.payload");
    free(t);
    t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k-es256\"}", "{\"a\":[[[[[1]]]]]}", k_es256, "ES256",
                 NULL, 0);
    expect_refused(t, NULL, "token segment is not valid JSON within limits", "token.payload");
    free(t);
}
END_TEST

START_TEST(refuses_oversized_header_segment)
{
    char h[1200];
    char *t;

    snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"kid\":\"k-es256\",\"x\":\"%01100d\"}", 0);
    t = tk_token(h, good_claims(), k_es256, "ES256", NULL, 0);
    expect_refused(t, NULL, "token segment exceeds 1024 bytes", "token.header");
    free(t);
}
END_TEST

START_TEST(embedded_jwk_header_is_never_trusted)
{
    /* An attacker's own key in the header must not be used (jwk/jku/x5c). */
    char h[512];
    char *t;

    snprintf(h, sizeof(h),
             "{\"alg\":\"ES256\",\"kid\":\"attacker\",\"jku\":\"https://evil/jwks\","
             "\"jwk\":{\"kty\":\"EC\"}}");
    t = tk_token(h, good_claims(), k_other, "ES256", NULL, 0);
    expect_refused(t, NULL, "token key id (kid) is unknown", "token.header.kid");
    free(t);
}
END_TEST

Suite *gw_auth_jwt_suite(void)
{
    Suite *s = suite_create("gw_auth_jwt");
    TCase *tc = tcase_create("jwt");

    tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hand_signed_es256_verifies);
    tcase_add_test(tc, hand_signed_es384_and_rs256_verify);
    tcase_add_test(tc, sign_verify_round_trip_each_alg);
    tcase_add_test(tc, refuses_alg_none);
    tcase_add_test(tc, refuses_hs256_signed_with_public_key);
    tcase_add_test(tc, refuses_rs_token_for_ec_key);
    tcase_add_test(tc, refuses_unsupported_algs);
    tcase_add_test(tc, refuses_unknown_or_missing_kid);
    tcase_add_test(tc, refuses_signature_by_another_key);
    tcase_add_test(tc, refuses_tampered_payload);
    tcase_add_test(tc, refuses_tampered_signature);
    tcase_add_test(tc, refuses_der_and_zero_ec_signatures);
    tcase_add_test(tc, refuses_expired_with_leeway);
    tcase_add_test(tc, refuses_nbf_and_iat_in_the_future);
    tcase_add_test(tc, refuses_wrong_audience_and_issuer);
    tcase_add_test(tc, refuses_missing_and_mistyped_claims);
    tcase_add_test(tc, refuses_lifetime_beyond_bound);
    tcase_add_test(tc, refuses_bad_framing);
    tcase_add_test(tc, refuses_non_canonical_trailing_bits);
    tcase_add_test(tc, refuses_bad_header_json);
    tcase_add_test(tc, refuses_oversized_header_segment);
    tcase_add_test(tc, embedded_jwk_header_is_never_trusted);
    suite_add_tcase(s, tc);
    return s;
}
