/*
 * test/fuzz/fuzz_auth_common.h — what the auth fuzz targets share: a
 * gateway key set with one fresh P-256 signing key ("k") and an endpoint
 * configuration on https://gw.test with the cheapest password parameters
 * (the fuzzers exercise parsing, not scrypt).
 */
#ifndef TEST_FUZZ_FUZZ_AUTH_COMMON_H
#define TEST_FUZZ_FUZZ_AUTH_COMMON_H

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fhir/base/log.h"
#include "gateway/auth/gw_auth.h"

/* Fill `cfg` around a new key set (kept for the process's life), which is
 * returned. */
static inline struct gw_auth_keyset *
fuzz_auth_config(struct gw_auth_endpoint_config *cfg, const struct gw_auth_backend *be)
{
    struct gw_auth_keyset *ks = NULL;
    EVP_PKEY *k;
    BIO *b;
    char *pem;
    long n;

    base_log_set_level(BASE_LOG_ERROR);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    b = BIO_new(BIO_s_mem());
    if (k == NULL || b == NULL || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
        gw_auth_keyset_new(&ks, NULL) != BASE_OK)
        __builtin_trap();
    n = BIO_get_mem_data(b, &pem);
    if (gw_auth_keyset_add_pem(ks, pem, (size_t)n, "k", NULL, true, NULL) != BASE_OK)
        __builtin_trap();
    BIO_free(b);
    EVP_PKEY_free(k);
    cfg->keys = ks;
    gw_auth_token_config_default(&cfg->tokens);
    cfg->tokens.issuer = "https://gw.test";
    cfg->tokens.audience = "https://gw.test/fhir";
    cfg->token_url = "https://gw.test/auth/token";
    gw_auth_lockout_policy_default(&cfg->lockout);
    cfg->pw_params =
        (struct gw_auth_pw_params){.alg = GW_AUTH_PW_SCRYPT, .log2_n = 10, .r = 1, .p = 1};
    cfg->backend = be;
    return ks;
}

#endif /* TEST_FUZZ_FUZZ_AUTH_COMMON_H */
