/*
 * test/unit/gateway/auth/auth_test.h — helpers for the auth unit tests:
 * key generation, and tokens built by hand with OpenSSL directly (an
 * implementation independent of gateway/auth, so the tests can forge
 * exactly the tokens an attacker would).
 */
#ifndef TEST_UNIT_GATEWAY_AUTH_AUTH_TEST_H
#define TEST_UNIT_GATEWAY_AUTH_AUTH_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gateway/auth/gw_auth.h"

#define TK_UNUSED __attribute__((unused))

/* "P-256", "P-384", "RSA2048", "RSA3072", "RSA1024" (too small), "P-521". */
static TK_UNUSED EVP_PKEY *
tk_keygen(const char *spec)
{
    EVP_PKEY *k;

    if (strncmp(spec, "RSA", 3) == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)strtoul(spec + 3, NULL, 10));
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", spec);
    ck_assert_ptr_nonnull(k);
    return k;
}

/* PEM text of a key (malloc'd). */
static TK_UNUSED char *
tk_pem(EVP_PKEY *k, bool private_key)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    char *out;

    ck_assert(private_key ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1
                          : PEM_write_bio_PUBKEY(b, k) == 1);
    n = BIO_get_mem_data(b, &data);
    out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

static TK_UNUSED char *
tk_b64url(const void *p, size_t len)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *in = p;
    char *out = malloc(len * 4 / 3 + 4);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = al[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = al[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    return out;
}

static TK_UNUSED unsigned char *
tk_b64url_decode(const char *s, size_t *out_len)
{
    unsigned char *out = malloc(strlen(s) + 1);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    for (; *s != '\0'; s++) {
        const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const char *p = strchr(al, *s);

        ck_assert_ptr_nonnull(p);
        acc = acc << 6 | (uint32_t)(p - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

/* Raw JWS signature of `input` with `k` for alg ("ES256", "RS384", "HS256"
 * uses `hmac_key` as the HMAC secret).  malloc'd, length in *out_len. */
static TK_UNUSED unsigned char *
tk_sign(EVP_PKEY *k, const char *alg, const char *input, const void *hmac_key, size_t hmac_len,
        size_t *out_len)
{
    const EVP_MD *md = strstr(alg, "384") != NULL ? EVP_sha384() : EVP_sha256();
    unsigned char *sig;
    size_t len = 0;
    EVP_MD_CTX *c;

    if (alg[0] == 'H') {
        sig = malloc(64);
        ck_assert_ptr_nonnull(
            EVP_Q_mac(NULL, "HMAC", NULL, strstr(alg, "384") ? "SHA384" : "SHA256", NULL, hmac_key,
                      hmac_len, (const unsigned char *)input, strlen(input), sig, 64, out_len));
        return sig;
    }
    c = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit(c, NULL, md, NULL, k), 1);
    ck_assert_int_eq(EVP_DigestSign(c, NULL, &len, (const unsigned char *)input, strlen(input)), 1);
    sig = malloc(len);
    ck_assert_int_eq(EVP_DigestSign(c, sig, &len, (const unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(c);
    if (alg[0] == 'E') { /* DER -> r || s (RFC 7518 §3.4) */
        size_t half = strstr(alg, "384") != NULL ? 48 : 32;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        unsigned char *raw = malloc(2 * half);

        ck_assert_ptr_nonnull(es);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half);
        ECDSA_SIG_free(es);
        free(sig);
        sig = raw;
        len = 2 * half;
    }
    *out_len = len;
    return sig;
}

/* header.claims.signature built by hand.  `alg` NULL leaves the signature
 * segment empty.  malloc'd. */
static TK_UNUSED char *
tk_token(const char *header, const char *claims, EVP_PKEY *k, const char *alg, const void *hmac_key,
         size_t hmac_len)
{
    char *h = tk_b64url(header, strlen(header));
    char *c = tk_b64url(claims, strlen(claims));
    size_t n = strlen(h) + strlen(c) + 2;
    char *input = malloc(n);
    char *tok;
    char *s = NULL;

    snprintf(input, n, "%s.%s", h, c);
    if (alg != NULL) {
        size_t sig_len;
        unsigned char *sig = tk_sign(k, alg, input, hmac_key, hmac_len, &sig_len);

        s = tk_b64url(sig, sig_len);
        free(sig);
    }
    n = strlen(input) + (s != NULL ? strlen(s) : 0) + 2;
    tok = malloc(n);
    snprintf(tok, n, "%s.%s", input, s != NULL ? s : "");
    free(h);
    free(c);
    free(input);
    free(s);
    return tok;
}

/* The public JWK Set of one key (malloc'd), as a client would register it. */
static TK_UNUSED char *
tk_jwks(EVP_PKEY *k, const char *kid, const char *alg)
{
    struct gw_auth_keyset *ks;
    char *pem = tk_pem(k, false);
    struct base_buf b;
    char *out;

    ck_assert_int_eq(gw_auth_keyset_new(&ks, NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, pem, strlen(pem), kid, alg, false, NULL), BASE_OK);
    base_buf_init(&b, 0);
    ck_assert_int_eq(gw_auth_keyset_jwks(ks, &b, NULL), BASE_OK);
    out = strdup(b.data);
    base_buf_fini(&b);
    gw_auth_keyset_free(ks);
    free(pem);
    return out;
}

/* The token endpoint configuration every test uses: issuer https://gw.test,
 * password grant on for client "portal", default lockout, fast scrypt. */
static TK_UNUSED void
tk_endpoint_config(struct gw_auth_endpoint_config *cfg, const struct gw_auth_keyset *ks,
                   const struct gw_auth_backend *be)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->keys = ks;
    gw_auth_token_config_default(&cfg->tokens);
    cfg->tokens.issuer = "https://gw.test";
    cfg->tokens.audience = "https://gw.test/fhir";
    cfg->token_url = "https://gw.test/auth/token";
    cfg->jwks_url = "https://gw.test/.well-known/jwks.json";
    cfg->password_grant = true;
    cfg->portal_client_id = "portal";
    gw_auth_lockout_policy_default(&cfg->lockout);
    cfg->pw_params =
        (struct gw_auth_pw_params){.alg = GW_AUTH_PW_SCRYPT, .log2_n = 10, .r = 8, .p = 1};
    cfg->backend = be;
}

#endif /* TEST_UNIT_GATEWAY_AUTH_AUTH_TEST_H */
