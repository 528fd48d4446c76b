/* JWT parse / verify / claims, access-token verification and JWK Set import
 * on hostile bytes; a parsed claims set re-signed by us must verify.
 * No shared-corpus folder holds tokens; own seeds in test/fuzz/corpus/jwt.  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_auth_keyset *ks;
static struct gw_auth_token_config cfg;

/* One EC signing key and one RSA verification key, made once per process. */
static void
init(void)
{
    static const char *const specs[] = {"P-256", "RSA"};

    if (ks != NULL || gw_auth_keyset_new(&ks, NULL) != BASE_OK)
        return;
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY *k = i == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", specs[i])
                             : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        BIO *b = BIO_new(BIO_s_mem());
        char *pem;
        long n;

        if (k == NULL || b == NULL ||
            PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
            __builtin_trap();
        n = BIO_get_mem_data(b, &pem);
        if (gw_auth_keyset_add_pem(ks, pem, (size_t)n, i == 0 ? "k-es" : "k-rs", NULL, i == 0,
                                   NULL) != BASE_OK)
            __builtin_trap();
        BIO_free(b);
        EVP_PKEY_free(k);
    }
    gw_auth_token_config_default(&cfg);
    cfg.issuer = "https://gw.test";
    cfg.audience = "https://gw.test/fhir";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(16u << 20);
    const char *text = (const char *)data;
    int outcome = 0; /* results only matter in that the calls return */
    struct gw_auth_jwt *jwt = NULL;
    struct gw_auth_principal *p = NULL;
    struct gw_auth_keyset *client = NULL;
    struct gw_auth_jwt_expect e = {.issuer = "https://gw.test", .now = 1700000000, .leeway = 60};
    char *tok = NULL;
    size_t len = 0;

    init();
    if (a == NULL)
        return 0;
    outcome += gw_auth_token_verify(a, ks, &cfg, text, size, 1700000000, &p, NULL);
    if (gw_auth_jwt_parse(a, text, size, &jwt, NULL) == BASE_OK) {
        outcome += gw_auth_jwt_verify(jwt, ks, NULL);
        outcome += gw_auth_jwt_check_claims(jwt, &e, NULL);
        /* whatever claims parsed, our own signature over them must verify */
        if (gw_auth_jwt_sign(a, ks, NULL, "JWT", jwt->claims, &tok, &len, NULL) == BASE_OK) {
            struct gw_auth_jwt *again = NULL;

            if (gw_auth_jwt_parse(a, tok, len, &again, NULL) != BASE_OK ||
                gw_auth_jwt_verify(again, ks, NULL) != BASE_OK)
                __builtin_trap();
        }
    }
    if (gw_auth_keyset_new(&client, NULL) == BASE_OK) {
        outcome += gw_auth_keyset_add_jwks(client, text, size, NULL);
        gw_auth_keyset_free(client);
    }
    base_arena_free(a);
    (void)outcome;
    return 0;
}
