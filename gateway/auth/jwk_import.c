/*
 * Import of a client's JWK Set (RFC 7517 §5): the public keys it registered
 * for SMART Backend Services client assertions.
 */
#include "gateway/auth/gw_auth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/keys_int.h"

#define JWKS_MAX_STRING 16384u /* x5c certificates are the longest members */
#define RSA_MAX_N_BYTES 1024u  /* 8192 bits */
#define RSA_MAX_E_BYTES 8u

/* Where-strings like "jwks.keys[3].x". */
static const char *
where(char *buf, size_t cap, size_t i, const char *member)
{
    snprintf(buf, cap, "jwks.keys[%zu]%s%s", i, member[0] != '\0' ? "." : "", member);
    return buf;
}

static bool
has_private_member(const json_t *jwk)
{
    /* RFC 7518 §6.2.2, §6.3.2, §6.4: private and symmetric key members. */
    static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(priv); i++) {
        if (json_object_get(jwk, priv[i]) != NULL)
            return true;
    }
    return false;
}

/* RFC 7517 §4.2/§4.3: a key for something other than signatures is skipped. */
static bool
usable_for_signatures(const json_t *jwk)
{
    const json_t *use = json_object_get(jwk, "use");
    const json_t *ops = json_object_get(jwk, "key_ops");
    size_t i;
    const json_t *op;

    if (use != NULL && !base_str_eq_cstr(fhir_json_str(use), "sig"))
        return false;
    if (ops == NULL)
        return true;
    json_array_foreach(ops, i, op)
    {
        if (base_str_eq_cstr(fhir_json_str(op), "verify"))
            return true;
    }
    return false;
}

/* Decode a base64url member of exactly `want` bytes (or 1..`want` when
 * `exact` is false). */
static bool
member_bytes(const json_t *jwk, const char *name, unsigned char *out, size_t want, bool exact,
             size_t *out_len)
{
    struct base_str s = fhir_json_str(json_object_get(jwk, name));

    if (s.len == 0 || gw_auth__b64_decoded_cap(s.len) > want + 3)
        return false;
    {
        unsigned char tmp[RSA_MAX_N_BYTES + 3];

        if (!gw_auth__b64_decode(GW_AUTH__B64URL_NOPAD, s.ptr, s.len, tmp, out_len) ||
            *out_len == 0 || *out_len > want || (exact && *out_len != want))
            return false;
        memcpy(out, tmp, *out_len);
    }
    return true;
}

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY_CTX *check = NULL;
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    /* The point must lie on the curve / the modulus must be sane. */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return pkey;
}

static EVP_PKEY *
ec_from_jwk(const json_t *jwk, bool is_p384)
{
    size_t field = is_p384 ? 48 : 32;
    unsigned char pt[1 + 2 * 48];
    size_t n;
    OSSL_PARAM params[3];
    char p256[] = "prime256v1"; /* OSSL_PARAM wants a mutable buffer */
    char p384[] = "secp384r1";

    /* SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y. */
    pt[0] = 0x04;
    if (!member_bytes(jwk, "x", pt + 1, field, true, &n) ||
        !member_bytes(jwk, "y", pt + 1 + field, field, true, &n))
        return NULL;
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, is_p384 ? p384 : p256, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * field);
    params[2] = OSSL_PARAM_construct_end();
    return pkey_fromdata("EC", params);
}

static EVP_PKEY *
rsa_from_jwk(const json_t *jwk)
{
    unsigned char n_bytes[RSA_MAX_N_BYTES];
    unsigned char e_bytes[RSA_MAX_E_BYTES];
    size_t n_len;
    size_t e_len;
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;

    if (!member_bytes(jwk, "n", n_bytes, sizeof(n_bytes), false, &n_len) ||
        !member_bytes(jwk, "e", e_bytes, sizeof(e_bytes), false, &e_len))
        return NULL;
    n = BN_bin2bn(n_bytes, (int)n_len, NULL);
    e = BN_bin2bn(e_bytes, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n == NULL || e == NULL || bld == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto out;
    pkey = pkey_fromdata("RSA", params);
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

/*
 * One key of the set.  Returns BASE_OK when added, 1 when skipped (a key
 * type, curve, use or algorithm we do not use), or an error.
 */
static int
add_jwk(struct gw_auth_keyset *ks, const json_t *jwk, size_t i, struct base_err *err)
{
    char w[64];
    struct base_str kty = fhir_json_str(json_object_get(jwk, "kty"));
    struct base_str crv = fhir_json_str(json_object_get(jwk, "crv"));
    const json_t *alg_v = json_object_get(jwk, "alg");
    const json_t *kid_v = json_object_get(jwk, "kid");
    enum gw_auth_alg alg = 0;
    EVP_PKEY *pkey = NULL;
    char kid[BASE_LIMIT_AUTH_MAX_KID + 1];

    ENSURE(json_is_object(jwk), err, BASE_E_INVALID, "structure", where(w, sizeof(w), i, ""),
           "key must be an object");
    ENSURE(kty.len > 0, err, BASE_E_INVALID, "required", where(w, sizeof(w), i, "kty"),
           "key type is missing");
    ENSURE(!has_private_member(jwk), err, BASE_E_INVALID, "security", where(w, sizeof(w), i, ""),
           "key set must not contain private key material");
    ENSURE(alg_v == NULL || fhir_json_is_string(alg_v), err, BASE_E_INVALID, "value",
           where(w, sizeof(w), i, "alg"), "alg must be a string");
    if (!usable_for_signatures(jwk) ||
        (alg_v != NULL && !gw_auth_alg_parse(fhir_json_str(alg_v), &alg)))
        return 1;
    if (base_str_eq_cstr(kty, "EC") &&
        (base_str_eq_cstr(crv, "P-256") || base_str_eq_cstr(crv, "P-384")))
        pkey = ec_from_jwk(jwk, base_str_eq_cstr(crv, "P-384"));
    else if (base_str_eq_cstr(kty, "RSA"))
        pkey = rsa_from_jwk(jwk);
    else
        return 1;
    ENSURE(pkey != NULL, err, BASE_E_INVALID, "value", where(w, sizeof(w), i, ""),
           "key parameters are not a valid public key");
    if (kid_v != NULL) {
        struct base_str k = fhir_json_str(kid_v);

        if (k.len == 0 || k.len > BASE_LIMIT_AUTH_MAX_KID) {
            EVP_PKEY_free(pkey);
            return base_err_set(err, BASE_E_INVALID, "value", where(w, sizeof(w), i, "kid"),
                                "kid must be a string of 1-%u bytes", BASE_LIMIT_AUTH_MAX_KID);
        }
        memcpy(kid, k.ptr, k.len);
        kid[k.len] = '\0';
    } else if (gw_auth__jwk_thumbprint(pkey, kid, sizeof(kid), err) != BASE_OK) {
        EVP_PKEY_free(pkey);
        return err != NULL ? err->rc : BASE_E_INTERNAL;
    }
    if (gw_auth__keyset_put(ks, pkey, kid, (unsigned)alg, false, false, err) != BASE_OK) {
        if (err == NULL)
            return BASE_E_INVALID;
        snprintf(err->where, sizeof(err->where), "jwks.keys[%zu]", i);
        return err->rc;
    }
    return BASE_OK;
}

int
gw_auth_keyset_add_jwks(struct gw_auth_keyset *ks, const char *json, size_t len,
                        struct base_err *err)
{
    struct fhir_json_limits lim;
    json_t *doc = NULL;
    const json_t *keys;
    size_t added = 0;
    int rc;

    gw_auth__json_limits(&lim, BASE_LIMIT_AUTH_MAX_JWKS);
    lim.max_string = JWKS_MAX_STRING;
    rc = fhir_json_parse(json, len, &lim, &doc, err);
    if (rc != BASE_OK)
        return rc;
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        rc = base_err_set(err, BASE_E_INVALID, "structure", "jwks.keys",
                          "key set must be an object with a keys array");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        rc = add_jwk(ks, json_array_get(keys, i), i, err);
        if (rc < 0)
            goto out;
        added += rc == BASE_OK;
    }
    rc = added > 0 ? BASE_OK
                   : base_err_set(err, BASE_E_INVALID, "value", "jwks.keys",
                                  "key set has no usable signature key");
out:
    json_decref(doc);
    return rc;
}
