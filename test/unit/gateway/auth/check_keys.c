/* Key sets: PEM loading, rotation rules, JWKS export (checked by rebuilding
 * the keys from the JSON with OpenSSL directly) and JWKS import. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"
#include "test/unit/gateway/auth/auth_test.h"

/* RFC 7638 §3.1 example key and its thumbprint. */
#define RFC7638_N                                                                                  \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"      \
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"              \
    "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"   \
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_THUMB "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

static EVP_PKEY *k256, *k384, *krsa;

static void
setup(void)
{
    k256 = tk_keygen("P-256");
    k384 = tk_keygen("P-384");
    krsa = tk_keygen("RSA2048");
}

static void
teardown(void)
{
    EVP_PKEY_free(k256);
    EVP_PKEY_free(k384);
    EVP_PKEY_free(krsa);
}

static int
add(struct gw_auth_keyset *ks, EVP_PKEY *k, bool priv, const char *kid, const char *alg,
    bool signing, struct base_err *err)
{
    char *pem = tk_pem(k, priv);
    int rc = gw_auth_keyset_add_pem(ks, pem, strlen(pem), kid, alg, signing, err);

    free(pem);
    return rc;
}

START_TEST(pem_keys_infer_algorithm_and_thumbprint_kid)
{
    struct gw_auth_keyset *ks;
    struct base_err err = {0};
    const char *kid;

    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    ck_assert_int_eq(add(ks, k256, true, NULL, NULL, true, &err), BASE_OK);
    kid = gw_auth_keyset_signing_kid(ks);
    ck_assert_ptr_nonnull(kid);
    ck_assert_uint_eq(strlen(kid), 43); /* base64url of SHA-256 */
    ck_assert_int_eq(add(ks, krsa, false, "rsa-old", NULL, false, &err), BASE_OK);
    ck_assert_uint_eq(gw_auth_keyset_count(ks), 2);
    gw_auth_keyset_free(ks);
}
END_TEST

START_TEST(pem_refusals)
{
    struct gw_auth_keyset *ks;
    struct base_err err = {0};
    EVP_PKEY *small = tk_keygen("RSA1024");
    EVP_PKEY *p521 = tk_keygen("P-521");
    char *enc;
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;

    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    ck_assert_int_eq(add(ks, k256, false, "pub", NULL, true, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "signing key must be private");
    base_err_clear(&err);
    ck_assert_int_eq(add(ks, small, true, "small", NULL, false, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(add(ks, p521, true, "p521", NULL, false, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(add(ks, k256, true, "mis", "ES384", false, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "algorithm does not match the key type");
    base_err_clear(&err);
    ck_assert_int_eq(add(ks, krsa, true, "mis", "HS256", false, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, "garbage", 7, "g", NULL, false, &err),
                     BASE_E_INVALID);
    base_err_clear(&err);
    /* An encrypted key is refused, never prompted for. */
    ck_assert_int_eq(
        PEM_write_bio_PrivateKey(b, k256, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"pw"), 1);
    n = BIO_get_mem_data(b, &data);
    enc = strndup(data, (size_t)n);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, enc, strlen(enc), "enc", NULL, false, &err),
                     BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(add(ks, k256, true, "a", NULL, true, &err), BASE_OK);
    ck_assert_int_eq(add(ks, k384, true, "a", NULL, false, &err), BASE_E_CONFLICT);
    ck_assert_str_eq(err.msg, "duplicate key id");
    base_err_clear(&err);
    ck_assert_int_eq(add(ks, k384, true, "b", NULL, true, &err), BASE_E_CONFLICT);
    ck_assert_str_eq(err.msg, "key set already has a signing key");
    base_err_clear(&err);
    ck_assert_int_eq(add(ks, k384, true, "bad kid", NULL, false, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_keyset_load_file(ks, "/nonexistent/key.pem", NULL, NULL, false, &err),
                     BASE_E_IO);
    free(enc);
    BIO_free(b);
    EVP_PKEY_free(small);
    EVP_PKEY_free(p521);
    gw_auth_keyset_free(ks);
}
END_TEST

START_TEST(keyset_size_is_bounded)
{
    struct gw_auth_keyset *ks;
    struct base_err err = {0};
    char kid[16];

    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    for (unsigned i = 0; i < BASE_LIMIT_AUTH_MAX_KEYS; i++) {
        snprintf(kid, sizeof(kid), "k%u", i);
        ck_assert_int_eq(add(ks, k256, false, kid, NULL, false, &err), BASE_OK);
    }
    ck_assert_int_eq(add(ks, k256, false, "one-more", NULL, false, &err), BASE_E_LIMIT);
    gw_auth_keyset_free(ks);
}
END_TEST

START_TEST(load_file_reads_pem)
{
    char path[] = "/tmp/fhirgate-key-XXXXXX";
    int fd = mkstemp(path);
    char *pem = tk_pem(krsa, true);
    struct gw_auth_keyset *ks;
    struct base_err err = {0};

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
    close(fd);
    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_load_file(ks, path, "file", "RS384", true, &err), BASE_OK);
    ck_assert_str_eq(gw_auth_keyset_signing_kid(ks), "file");
    unlink(path);
    free(pem);
    gw_auth_keyset_free(ks);
}
END_TEST

/* Rebuild a public key from one JWK with OpenSSL directly. */
static EVP_PKEY *
key_from_jwk(const json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, kty, NULL);
    EVP_PKEY *k = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    unsigned char *a;
    unsigned char *b;
    size_t alen;
    size_t blen;

    unsigned char pt[97]; /* the builder reads it only in to_param() */

    if (strcmp(kty, "EC") == 0) {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));

        a = tk_b64url_decode(json_string_value(json_object_get(jwk, "x")), &alen);
        b = tk_b64url_decode(json_string_value(json_object_get(jwk, "y")), &blen);
        ck_assert_uint_eq(alen, strcmp(crv, "P-256") == 0 ? 32 : 48);
        ck_assert_uint_eq(blen, alen);
        pt[0] = 4;
        memcpy(pt + 1, a, alen);
        memcpy(pt + 1 + alen, b, blen);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, crv, 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + alen + blen);
    } else {
        a = tk_b64url_decode(json_string_value(json_object_get(jwk, "n")), &alen);
        b = tk_b64url_decode(json_string_value(json_object_get(jwk, "e")), &blen);
        ck_assert_uint_ne(a[0], 0); /* minimal octets (RFC 7518 §6.3.1.1) */
        n = BN_bin2bn(a, (int)alen, NULL);
        e = BN_bin2bn(b, (int)blen, NULL);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    }
    params = OSSL_PARAM_BLD_to_param(bld); /* the builder keeps n and e until here */
    BN_free(n);
    BN_free(e);
    ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    free(a);
    free(b);
    return k;
}

/* Verify a compact JWS with a key rebuilt from the JWKS, by hand. */
static void
verify_by_hand(const char *tok, EVP_PKEY *k, const char *alg)
{
    const char *dot = strrchr(tok, '.');
    size_t sig_len;
    unsigned char *sig = tk_b64url_decode(dot + 1, &sig_len);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    int der_len;

    if (alg[0] == 'E') {
        ECDSA_SIG *es = ECDSA_SIG_new();
        size_t half = sig_len / 2;

        ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL), BN_bin2bn(sig + half, (int)half, NULL));
        der_len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        free(sig);
        sig = malloc((size_t)der_len);
        memcpy(sig, der, (size_t)der_len);
        sig_len = (size_t)der_len;
        OPENSSL_free(der);
    }
    ck_assert_int_eq(
        EVP_DigestVerifyInit(c, NULL, strstr(alg, "384") ? EVP_sha384() : EVP_sha256(), NULL, k),
        1);
    ck_assert_int_eq(
        EVP_DigestVerify(c, sig, sig_len, (const unsigned char *)tok, (size_t)(dot - tok)), 1);
    EVP_MD_CTX_free(c);
    free(sig);
}

START_TEST(jwks_export_rebuilds_verifying_keys)
{
    struct gw_auth_keyset *ks;
    struct base_err err = {0};
    struct base_buf out;
    struct base_arena *a = base_arena_new(0);
    json_t *doc;
    json_t *keys;
    json_t *claims = json_pack("{s:s}", "sub", "x");
    static const char *const kids[] = {"ec256", "ec384", "rsa"};
    static const char *const algs[] = {"ES256", "ES384", "RS384"};

    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    ck_assert_int_eq(add(ks, k256, true, "ec256", NULL, true, &err), BASE_OK);
    ck_assert_int_eq(add(ks, k384, true, "ec384", NULL, false, &err), BASE_OK);
    ck_assert_int_eq(add(ks, krsa, true, "rsa", "RS384", false, &err), BASE_OK);
    base_buf_init(&out, 0);
    ck_assert_int_eq(gw_auth_keyset_jwks(ks, &out, &err), BASE_OK);
    ck_assert_ptr_null(strstr(out.data, "\"d\"")); /* never private material */
    doc = json_loads(out.data, 0, NULL);
    keys = json_object_get(doc, "keys");
    ck_assert_uint_eq(json_array_size(keys), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *jwk = json_array_get(keys, i);
        EVP_PKEY *rebuilt = key_from_jwk(jwk);
        char *tok;
        size_t len;

        ck_assert_str_eq(json_string_value(json_object_get(jwk, "kid")), kids[i]);
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "alg")), algs[i]);
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "use")), "sig");
        ck_assert_int_eq(EVP_PKEY_eq(rebuilt, i == 0 ? k256 : i == 1 ? k384 : krsa), 1);
        ck_assert_int_eq(gw_auth_jwt_sign(a, ks, kids[i], NULL, claims, &tok, &len, &err), BASE_OK);
        verify_by_hand(tok, rebuilt, algs[i]);
        EVP_PKEY_free(rebuilt);
    }
    json_decref(doc);
    json_decref(claims);
    base_buf_fini(&out);
    base_arena_free(a);
    gw_auth_keyset_free(ks);
}
END_TEST

START_TEST(jwks_export_import_round_trip)
{
    struct gw_auth_keyset *ks;
    struct gw_auth_keyset *pub;
    struct base_err err = {0};
    struct base_buf out;
    struct base_arena *a = base_arena_new(0);
    json_t *claims = json_pack("{s:s}", "sub", "x");
    struct gw_auth_jwt *jwt;
    char *tok;
    size_t len;

    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_new(&pub, &err), BASE_OK);
    ck_assert_int_eq(add(ks, krsa, true, "r", "RS384", true, &err), BASE_OK);
    ck_assert_int_eq(add(ks, k384, true, "e", NULL, false, &err), BASE_OK);
    base_buf_init(&out, 0);
    ck_assert_int_eq(gw_auth_keyset_jwks(ks, &out, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_add_jwks(pub, out.data, out.len, &err), BASE_OK);
    ck_assert_uint_eq(gw_auth_keyset_count(pub), 2);
    ck_assert_ptr_null(gw_auth_keyset_signing_kid(pub));
    ck_assert_int_eq(gw_auth_jwt_sign(a, ks, "e", NULL, claims, &tok, &len, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_jwt_parse(a, tok, len, &jwt, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_jwt_verify(jwt, pub, &err), BASE_OK);
    /* a public key cannot sign */
    ck_assert_int_eq(gw_auth_jwt_sign(a, pub, "e", NULL, claims, &tok, &len, &err), BASE_E_INVALID);
    json_decref(claims);
    base_buf_fini(&out);
    base_arena_free(a);
    gw_auth_keyset_free(ks);
    gw_auth_keyset_free(pub);
}
END_TEST

START_TEST(jwks_import_rfc7638_thumbprint)
{
    struct gw_auth_keyset *ks;
    struct base_err err = {0};
    const char *jwks = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}]}";
    struct base_buf out;

    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_add_jwks(ks, jwks, strlen(jwks), &err), BASE_OK);
    base_buf_init(&out, 0);
    ck_assert_int_eq(gw_auth_keyset_jwks(ks, &out, &err), BASE_OK);
    ck_assert_ptr_nonnull(strstr(out.data, "\"kid\":\"" RFC7638_THUMB "\""));
    ck_assert_ptr_nonnull(strstr(out.data, "\"n\":\"" RFC7638_N "\""));
    base_buf_fini(&out);
    gw_auth_keyset_free(ks);
}
END_TEST

static void
import_fails(const char *jwks, int rc, const char *msg)
{
    struct gw_auth_keyset *ks;
    struct base_err err = {0};

    ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_add_jwks(ks, jwks, strlen(jwks), &err), rc);
    if (msg != NULL)
        ck_assert_str_eq(err.msg, msg);
    gw_auth_keyset_free(ks);
}

START_TEST(jwks_import_refusals)
{
    char buf[4096];
    const char *x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const char *y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    import_fails("not json", BASE_E_PARSE, NULL);
    import_fails("{\"keys\":{}}", BASE_E_INVALID, "key set must be an object with a keys array");
    import_fails("{\"keys\":[]}", BASE_E_INVALID, "key set has no usable signature key");
    import_fails("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", BASE_E_INVALID,
                 "key set must not contain private key material");
    snprintf(
        buf, sizeof(buf),
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"AA\"}]}", x,
        y);
    import_fails(buf, BASE_E_INVALID, "key set must not contain private key material");
    /* skipped: encryption key, unknown kty, unsupported alg, other curve */
    snprintf(
        buf, sizeof(buf),
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"use\":\"enc\"},"
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"alg\":\"ES512\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"%s\",\"y\":\"%s\"}]}",
        x, y, x, y, x, y);
    import_fails(buf, BASE_E_INVALID, "key set has no usable signature key");
    /* the RFC 7517 Appendix A.1 point is valid; flipping y takes it off the curve */
    snprintf(
        buf, sizeof(buf),
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"1\"}]}",
        x, "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1");
    import_fails(buf, BASE_E_INVALID, NULL);
    snprintf(buf, sizeof(buf),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%sAA\",\"y\":\"%s\"}]}", x, y);
    import_fails(buf, BASE_E_INVALID, "key parameters are not a valid public key");
    snprintf(buf, sizeof(buf),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\","
             "\"alg\":\"RS256\"}]}",
             x, y);
    import_fails(buf, BASE_E_INVALID, NULL);
    snprintf(
        buf, sizeof(buf),
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"a\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"a\"}]}",
        x, y, x, y);
    import_fails(buf, BASE_E_CONFLICT, "duplicate key id");
    snprintf(buf, sizeof(buf),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", x, y);
    {
        struct gw_auth_keyset *ks;
        struct base_err err = {0};

        ck_assert_int_eq(gw_auth_keyset_new(&ks, &err), BASE_OK);
        ck_assert_int_eq(gw_auth_keyset_add_jwks(ks, buf, strlen(buf), &err), BASE_OK);
        gw_auth_keyset_free(ks);
    }
    /* a small RSA modulus */
    import_fails("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", BASE_E_INVALID,
                 NULL);
}
END_TEST

Suite *gw_auth_keys_suite(void)
{
    Suite *s = suite_create("gw_auth_keys");
    TCase *tc = tcase_create("keys");

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pem_keys_infer_algorithm_and_thumbprint_kid);
    tcase_add_test(tc, pem_refusals);
    tcase_add_test(tc, keyset_size_is_bounded);
    tcase_add_test(tc, load_file_reads_pem);
    tcase_add_test(tc, jwks_export_rebuilds_verifying_keys);
    tcase_add_test(tc, jwks_export_import_round_trip);
    tcase_add_test(tc, jwks_import_rfc7638_thumbprint);
    tcase_add_test(tc, jwks_import_refusals);
    suite_add_tcase(s, tc);
    return s;
}
