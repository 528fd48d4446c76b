/*
 * JWT (RFC 7519) in JWS compact serialization (RFC 7515 §7.1): parse with
 * strict framing, verify with a key pinned to its algorithm, sign.
 *
 * Every refusal has its own client-safe message (tests and operators can
 * tell them apart) and none quotes the token.  Claims are never read
 * before the signature has been verified, except by the token endpoint to
 * find which client's keys to verify a client assertion with.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/auth_int.h"

#define AUTH_FAIL(err, where, ...) base_err_set((err), BASE_E_AUTH, "login", (where), __VA_ARGS__)

void
gw_auth__json_limits(struct fhir_json_limits *lim, size_t max_doc)
{
    lim->max_doc = max_doc;
    lim->max_depth = BASE_LIMIT_AUTH_MAX_JSON_DEPTH;
    lim->max_string = BASE_LIMIT_AUTH_MAX_JSON_STRING;
    lim->max_array = BASE_LIMIT_AUTH_MAX_JSON_ARRAY;
    lim->max_members = BASE_LIMIT_AUTH_MAX_JSON_MEMBERS;
}

/* ---------------------------------------------------------------- parse -- */

/* Decode one base64url segment into the arena. */
static int
decode_segment(struct base_arena *a, struct base_str seg, size_t max, const char *where,
               unsigned char **out, size_t *out_len, struct base_err *err)
{
    size_t cap = gw_auth__b64_decoded_cap(seg.len);

    ENSURE(cap <= max + 3, err, BASE_E_AUTH, "login", where, "token segment exceeds %zu bytes",
           max);
    *out = base_arena_alloc(a, cap + 1);
    ENSURE(*out != NULL, err, BASE_E_NOMEM, "exception", where, "out of memory");
    ENSURE(gw_auth__b64_decode(GW_AUTH__B64URL_NOPAD, seg.ptr, seg.len, *out, out_len), err,
           BASE_E_AUTH, "login", where, "token segment is not canonical base64url");
    ENSURE(*out_len <= max, err, BASE_E_AUTH, "login", where, "token segment exceeds %zu bytes",
           max);
    return BASE_OK;
}

/* Decode a segment that holds a JSON object. */
static int
decode_json_segment(struct base_arena *a, struct base_str seg, size_t max, const char *where,
                    json_t **out, struct base_err *err)
{
    struct fhir_json_limits lim;
    unsigned char *raw;
    size_t raw_len;
    struct base_err jerr = {0};

    TRY(decode_segment(a, seg, max, where, &raw, &raw_len, err));
    gw_auth__json_limits(&lim, max);
    if (fhir_json_parse((const char *)raw, raw_len, &lim, out, &jerr) != BASE_OK)
        return jerr.rc == BASE_E_NOMEM
                   ? base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory")
                   : AUTH_FAIL(err, where, "token segment is not valid JSON within limits");
    if (fhir_json_tie(a, *out) != BASE_OK) {
        *out = NULL;
        return base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory");
    }
    ENSURE(json_is_object(*out), err, BASE_E_AUTH, "login", where,
           "token segment is not a JSON object");
    return BASE_OK;
}

/* Split at '.', counting segments; JWE compact has five (RFC 7516 §7.1). */
static int
split_segments(const char *token, size_t len, struct base_str seg[3], struct base_err *err)
{
    size_t dots = 0;
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && token[i] != '.')
            continue;
        if (dots < 3)
            seg[dots] = base_str_make(token + start, i - start);
        if (i < len)
            dots++;
        start = i + 1;
    }
    ENSURE(dots != 4, err, BASE_E_AUTH, "login", "token",
           "encrypted tokens (JWE) are not accepted");
    ENSURE(dots == 2, err, BASE_E_AUTH, "login", "token",
           "token is not a compact JWS (3 segments expected)");
    return BASE_OK;
}

static const char *
header_string(struct base_arena *a, const json_t *header, const char *name, size_t max,
              const char *where, struct base_err *err, int *rc)
{
    const json_t *v = json_object_get(header, name);
    struct base_str s;
    char *copy;

    *rc = BASE_OK;
    if (v == NULL)
        return NULL;
    s = fhir_json_str(v);
    if (!fhir_json_is_string(v) || s.len == 0 || s.len > max) {
        *rc = AUTH_FAIL(err, where, "token header member has the wrong type or length");
        return NULL;
    }
    copy = base_str_dup0(a, s);
    if (copy == NULL)
        *rc = base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory");
    return copy;
}

/* RFC 7515 §4.1: alg is required; RFC 8725 §3.1: never accept "none", and
 * accept only algorithms we verify with an asymmetric key. */
static int
check_header(struct base_arena *a, struct gw_auth_jwt *jwt, struct base_err *err)
{
    const json_t *alg = json_object_get(jwt->header, "alg");
    struct base_str name = fhir_json_str(alg);
    int rc;

    ENSURE(alg != NULL && fhir_json_is_string(alg), err, BASE_E_AUTH, "login", "token.header.alg",
           "token header has no algorithm");
    ENSURE(!base_str_case_eq_cstr(name, "none"), err, BASE_E_AUTH, "login", "token.header.alg",
           "unsigned tokens (alg none) are not accepted");
    ENSURE(gw_auth_alg_parse(name, &jwt->alg), err, BASE_E_AUTH, "login", "token.header.alg",
           "token algorithm is not supported");
    /* RFC 7515 §4.1.11: we understand no extension, so any crit is fatal. */
    ENSURE(json_object_get(jwt->header, "crit") == NULL, err, BASE_E_AUTH, "login",
           "token.header.crit", "token header extensions (crit) are not supported");
    jwt->kid =
        header_string(a, jwt->header, "kid", BASE_LIMIT_AUTH_MAX_KID, "token.header.kid", err, &rc);
    TRY(rc);
    jwt->typ = header_string(a, jwt->header, "typ", 64, "token.header.typ", err, &rc);
    TRY(rc);
    /* jku, x5u, jwk and x5c are ignored: keys only ever come from our key
     * set or the client's registration, never from the token itself. */
    return BASE_OK;
}

int
gw_auth_jwt_parse(struct base_arena *a, const char *token, size_t len, struct gw_auth_jwt **out,
                  struct base_err *err)
{
    struct base_str seg[3] = {BASE_STR_NULL, BASE_STR_NULL, BASE_STR_NULL};
    struct gw_auth_jwt *jwt;
    unsigned char *sig;

    *out = NULL;
    ENSURE(token != NULL && len > 0, err, BASE_E_AUTH, "login", "token", "token is empty");
    ENSURE(len <= BASE_LIMIT_AUTH_MAX_TOKEN, err, BASE_E_AUTH, "login", "token",
           "token exceeds %u bytes", BASE_LIMIT_AUTH_MAX_TOKEN);
    TRY(split_segments(token, len, seg, err));
    jwt = BASE_NEW(a, struct gw_auth_jwt);
    ENSURE(jwt != NULL, err, BASE_E_NOMEM, "exception", "token", "out of memory");
    TRY(decode_json_segment(a, seg[0], BASE_LIMIT_AUTH_MAX_JOSE_HEADER, "token.header",
                            &jwt->header, err));
    TRY(check_header(a, jwt, err));
    TRY(decode_json_segment(a, seg[1], BASE_LIMIT_AUTH_MAX_CLAIMS, "token.payload", &jwt->claims,
                            err));
    ENSURE(seg[2].len > 0, err, BASE_E_AUTH, "login", "token.signature", "token is not signed");
    TRY(decode_segment(a, seg[2], 1024, "token.signature", &sig, &jwt->sig_len, err));
    jwt->sig = sig;
    jwt->signing_input = base_str_make(token, seg[0].len + 1 + seg[1].len);
    *out = jwt;
    return BASE_OK;
}

/* --------------------------------------------------------------- verify -- */

/* RFC 7518 §3.4: ES signatures are R || S, each the size of the group
 * order; OpenSSL wants DER.  Returns a DER buffer (OPENSSL_free) or NULL. */
static unsigned char *
ec_raw_to_der(const unsigned char *sig, size_t half, int *out_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
    unsigned char *der = NULL;

    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NULL;
    }
    *out_len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es); /* frees r and s */
    if (*out_len <= 0) {
        OPENSSL_free(der);
        return NULL;
    }
    return der;
}

static bool
verify_with(const struct gw_auth__key *key, enum gw_auth_alg alg, struct base_str input,
            const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    size_t half = gw_auth__alg_ec_size(alg);
    bool ok = false;

    if (md == NULL)
        return false;
    if (half != 0) {
        int der_len = 0;

        if (sig_len != 2 * half || (der = ec_raw_to_der(sig, half, &der_len)) == NULL)
            goto out;
        sig = der;
        sig_len = (size_t)der_len;
    }
    ok = EVP_DigestVerifyInit(md, NULL, gw_auth__alg_md(alg), NULL, key->pkey) == 1 &&
         EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input.ptr, input.len) == 1;
out:
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

int
gw_auth_jwt_verify(const struct gw_auth_jwt *jwt, const struct gw_auth_keyset *ks,
                   struct base_err *err)
{
    const struct gw_auth__key *key;

    ENSURE(jwt->kid != NULL, err, BASE_E_AUTH, "login", "token.header.kid",
           "token has no key id (kid)");
    key = gw_auth__keyset_find(ks, jwt->kid, strlen(jwt->kid));
    ENSURE(key != NULL, err, BASE_E_AUTH, "login", "token.header.kid",
           "token key id (kid) is unknown");
    /* RFC 8725 §3.1: the key decides the algorithm, not the token. */
    ENSURE((key->algs & (unsigned)jwt->alg) != 0, err, BASE_E_AUTH, "login", "token.header.alg",
           "token algorithm does not match its key");
    ENSURE(verify_with(key, jwt->alg, jwt->signing_input, jwt->sig, jwt->sig_len), err, BASE_E_AUTH,
           "login", "token.signature", "token signature is invalid");
    return BASE_OK;
}

/* ----------------------------------------------------------------- sign -- */

static unsigned char *
ec_der_to_raw(struct base_arena *a, const unsigned char *der, size_t der_len, size_t half)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r;
    const BIGNUM *s;
    unsigned char *raw = base_arena_alloc(a, 2 * half);

    if (es == NULL || raw == NULL) {
        ECDSA_SIG_free(es);
        return NULL;
    }
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, raw, (int)half) < 0 || BN_bn2binpad(s, raw + half, (int)half) < 0)
        raw = NULL;
    ECDSA_SIG_free(es);
    return raw;
}

static int
sign_input(struct base_arena *a, const struct gw_auth__key *key, struct base_str input,
           unsigned char **out, size_t *out_len, struct base_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    size_t half = gw_auth__alg_ec_size(key->sign_alg);
    int rc = BASE_OK;

    if (md == NULL ||
        EVP_DigestSignInit(md, NULL, gw_auth__alg_md(key->sign_alg), NULL, key->pkey) != 1 ||
        EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)input.ptr, input.len) != 1 ||
        (sig = base_arena_alloc(a, sig_len)) == NULL ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input.ptr, input.len) != 1) {
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "token", "could not sign token");
        goto out;
    }
    if (half != 0 && (sig = ec_der_to_raw(a, sig, sig_len, half)) == NULL) {
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "token", "could not sign token");
        goto out;
    }
    *out = sig;
    *out_len = half != 0 ? 2 * half : sig_len;
out:
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return rc;
}

static int
append_b64_json(const json_t *v, struct base_buf *out, struct base_err *err)
{
    struct base_buf text;
    int rc;

    base_buf_init(&text, BASE_LIMIT_AUTH_MAX_TOKEN);
    rc = fhir_json_dump(v, FHIR_JSON_COMPACT, &text, err);
    if (rc == BASE_OK)
        rc = gw_auth__b64_encode(GW_AUTH__B64URL_NOPAD, (const unsigned char *)text.data, text.len,
                                 out);
    base_buf_fini(&text);
    return rc;
}

int
gw_auth_jwt_sign(struct base_arena *a, const struct gw_auth_keyset *ks, const char *kid,
                 const char *typ, const json_t *claims, char **out, size_t *out_len,
                 struct base_err *err)
{
    const struct gw_auth__key *key =
        kid != NULL ? gw_auth__keyset_find(ks, kid, strlen(kid)) : gw_auth__keyset_signing(ks);
    json_t *header = NULL;
    struct base_buf tok;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    int rc;

    ENSURE(key != NULL, err, BASE_E_NOTFOUND, "not-found", "keys", "no such signing key");
    ENSURE(key->has_private, err, BASE_E_INVALID, "value", "keys", "signing needs a private key");
    header = json_pack("{s:s, s:s}", "alg", gw_auth_alg_name(key->sign_alg), "kid", key->kid);
    ENSURE(header != NULL, err, BASE_E_NOMEM, "exception", "token", "out of memory");
    if (typ != NULL)
        json_object_set_new(header, "typ", json_string(typ));
    base_buf_init(&tok, BASE_LIMIT_AUTH_MAX_TOKEN);
    rc = append_b64_json(header, &tok, err);
    if (rc == BASE_OK && (rc = base_buf_putc(&tok, '.')) == BASE_OK)
        rc = append_b64_json(claims, &tok, err);
    if (rc == BASE_OK)
        rc = sign_input(a, key, base_buf_str(&tok), &sig, &sig_len, err);
    if (rc == BASE_OK && (rc = base_buf_putc(&tok, '.')) == BASE_OK)
        rc = gw_auth__b64_encode(GW_AUTH__B64URL_NOPAD, sig, sig_len, &tok);
    if (rc == BASE_OK && (*out = base_buf_dup0(&tok, a)) == NULL)
        rc = BASE_E_NOMEM;
    if (rc != BASE_OK)
        rc = base_err_set(err, rc, "exception", "token", "could not build token");
    else
        *out_len = tok.len;
    base_buf_fini(&tok);
    json_decref(header);
    return rc;
}
