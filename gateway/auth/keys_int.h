/*
 * gateway/auth/keys_int.h — key kinds and JWK conversion, shared by
 * keys.c and jwk.c.
 */
#ifndef GATEWAY_AUTH_KEYS_INT_H
#define GATEWAY_AUTH_KEYS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "gateway/auth/auth_int.h"
#include "gateway/auth/gw_auth.h"

enum gw_auth__kty {
    GW_AUTH__KTY_BAD = 0, /* anything we do not accept */
    GW_AUTH__KTY_RSA,     /* 2048..8192 bits */
    GW_AUTH__KTY_P256,
    GW_AUTH__KTY_P384
};

enum gw_auth__kty gw_auth__key_kind(EVP_PKEY *pkey);
/* enum gw_auth_alg bits a key of this kind may be used with. */
unsigned gw_auth__kind_algs(enum gw_auth__kty kind);

/* Add `pkey` (ownership taken, freed on failure); `alg` 0 = every
 * algorithm the key's kind allows. */
BASE_MUST_CHECK int gw_auth__keyset_put(struct gw_auth_keyset *ks, EVP_PKEY *pkey, const char *kid,
                                        unsigned alg, bool has_private, bool is_signing,
                                        struct base_err *err);

/* The i-th key (i < gw_auth_keyset_count()). */
const struct gw_auth__key *gw_auth__keyset_at(const struct gw_auth_keyset *ks, size_t i);

/* RFC 7638 JWK thumbprint (SHA-256, base64url) into `out` (cap >= 44). */
BASE_MUST_CHECK int gw_auth__jwk_thumbprint(EVP_PKEY *pkey, char *out, size_t cap,
                                            struct base_err *err);

#endif /* GATEWAY_AUTH_KEYS_INT_H */
