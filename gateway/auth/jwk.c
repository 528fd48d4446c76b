/*
 * JSON Web Keys (RFC 7517, RFC 7518 §6): export of our public keys as a JWK
 * Set, import of clients' JWK Sets, and RFC 7638 thumbprints.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/keys_int.h"

/* Public members of a key, base64url, in an arena. */
struct jwk_pub {
    const char *kty; /* "EC" | "RSA" */
    const char *crv; /* EC only */
    const char *x, *y;
    const char *n, *e;
};

static char *
bn_b64(struct base_arena *a, const BIGNUM *bn, size_t pad)
{
    size_t len = pad != 0 ? pad : (size_t)BN_num_bytes(bn);
    unsigned char buf[1024]; /* 8192-bit modulus */
    char *s;

    if (len == 0 || len > sizeof(buf))
        return NULL;
    /* RFC 7518 §6.2.1.2: EC coordinates are full field length;
     * §6.3.1.1: RSA n and e use the minimum number of octets. */
    if (BN_bn2binpad(bn, buf, (int)len) < 0)
        return NULL;
    s = gw_auth__b64url_arena(a, buf, len);
    OPENSSL_cleanse(buf, sizeof(buf));
    return s;
}

static char *
bn_param_b64(struct base_arena *a, EVP_PKEY *pkey, const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    char *s = NULL;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) == 1)
        s = bn_b64(a, bn, pad);
    BN_free(bn);
    return s;
}

static int
pub_members(struct base_arena *a, EVP_PKEY *pkey, struct jwk_pub *out, struct base_err *err)
{
    enum gw_auth__kty kind = gw_auth__key_kind(pkey);
    size_t field = kind == GW_AUTH__KTY_P256 ? 32 : 48;

    memset(out, 0, sizeof(*out));
    if (kind == GW_AUTH__KTY_RSA) {
        out->kty = "RSA";
        out->n = bn_param_b64(a, pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        out->e = bn_param_b64(a, pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        ENSURE(out->n != NULL && out->e != NULL, err, BASE_E_INTERNAL, "exception", "key",
               "could not export RSA key");
        return BASE_OK;
    }
    ENSURE(kind != GW_AUTH__KTY_BAD, err, BASE_E_INVALID, "value", "key", "unsupported key");
    out->kty = "EC";
    out->crv = kind == GW_AUTH__KTY_P256 ? "P-256" : "P-384";
    out->x = bn_param_b64(a, pkey, OSSL_PKEY_PARAM_EC_PUB_X, field);
    out->y = bn_param_b64(a, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, field);
    ERR_clear_error();
    ENSURE(out->x != NULL && out->y != NULL, err, BASE_E_INTERNAL, "exception", "key",
           "could not export EC key");
    return BASE_OK;
}

int
gw_auth__jwk_thumbprint(EVP_PKEY *pkey, char *out, size_t cap, struct base_err *err)
{
    struct base_arena *a = base_arena_new(64u << 10);
    struct jwk_pub pub;
    unsigned char md[32];
    unsigned int md_len = 0;
    char *canon = NULL;
    char *b64 = NULL;
    int rc;

    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "key", "out of memory");
    rc = pub_members(a, pkey, &pub, err);
    if (rc != BASE_OK)
        goto out;
    /* RFC 7638 §3.2: required members only, lexicographic order, no spaces. */
    if (pub.n != NULL)
        canon = base_arena_sprintf(a, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", pub.e, pub.n);
    else
        canon = base_arena_sprintf(a, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                                   pub.crv, pub.x, pub.y);
    if (canon == NULL || EVP_Digest(canon, strlen(canon), md, &md_len, EVP_sha256(), NULL) != 1 ||
        (b64 = gw_auth__b64url_arena(a, md, md_len)) == NULL || strlen(b64) >= cap) {
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "key",
                          "could not compute key thumbprint");
        goto out;
    }
    memcpy(out, b64, strlen(b64) + 1);
out:
    base_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------- export -- */

static json_t *
key_to_jwk(struct base_arena *a, const struct gw_auth__key *k, struct base_err *err)
{
    struct jwk_pub pub;
    json_t *o;

    if (pub_members(a, k->pkey, &pub, err) != BASE_OK)
        return NULL;
    o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "kty", json_string(pub.kty));
    if (pub.crv != NULL) {
        json_object_set_new(o, "crv", json_string(pub.crv));
        json_object_set_new(o, "x", json_string(pub.x));
        json_object_set_new(o, "y", json_string(pub.y));
    } else {
        json_object_set_new(o, "n", json_string(pub.n));
        json_object_set_new(o, "e", json_string(pub.e));
    }
    json_object_set_new(o, "kid", json_string(k->kid));
    json_object_set_new(o, "alg", json_string(gw_auth_alg_name(k->sign_alg)));
    json_object_set_new(o, "use", json_string("sig"));
    return o;
}

int
gw_auth_keyset_jwks(const struct gw_auth_keyset *ks, struct base_buf *out, struct base_err *err)
{
    struct base_arena *a = base_arena_new(1u << 20);
    json_t *doc = json_object();
    json_t *keys = json_array();
    int rc = BASE_OK;

    if (a == NULL || doc == NULL || keys == NULL || json_object_set(doc, "keys", keys) != 0) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "jwks", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < gw_auth_keyset_count(ks); i++) {
        json_t *jwk = key_to_jwk(a, gw_auth__keyset_at(ks, i), err);

        if (jwk == NULL || json_array_append_new(keys, jwk) != 0) {
            rc = base_err_set(err, BASE_E_NOMEM, "exception", "jwks", "could not export keys");
            goto out;
        }
    }
    rc = fhir_json_dump(doc, FHIR_JSON_COMPACT, out, err);
out:
    json_decref(keys);
    json_decref(doc);
    base_arena_free(a);
    return rc;
}
