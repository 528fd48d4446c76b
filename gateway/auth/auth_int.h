/*
 * gateway/auth/auth_int.h — declarations shared by the files of the auth
 * module only.
 */
#ifndef GATEWAY_AUTH_AUTH_INT_H
#define GATEWAY_AUTH_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "gateway/auth/gw_auth.h"

struct base_arena;

/* --- base64 (RFC 4648) ---------------------------------------------------- */

enum gw_auth__b64 {
    GW_AUTH__B64URL_NOPAD, /* §5 alphabet, no '=' (JWS, RFC 7515 §2) */
    GW_AUTH__B64_NOPAD,    /* §4 alphabet, no '=' (PHC strings) */
    GW_AUTH__B64_PAD       /* §4 alphabet, canonical '=' padding (HTTP Basic) */
};

/* Bytes needed to decode `len` characters (an upper bound). */
size_t gw_auth__b64_decoded_cap(size_t len);
/*
 * Strict decode: only the alphabet of `kind`, padding exactly as `kind`
 * says, and unused trailing bits zero (so every byte string has exactly one
 * accepted encoding).  `out` needs gw_auth__b64_decoded_cap(len) bytes.
 * Returns false on any deviation.
 */
bool gw_auth__b64_decode(enum gw_auth__b64 kind, const char *in, size_t len, unsigned char *out,
                         size_t *out_len);
/* Encode into `out` (appends; NUL kept by base_buf). */
BASE_MUST_CHECK int gw_auth__b64_encode(enum gw_auth__b64 kind, const unsigned char *in, size_t len,
                                        struct base_buf *out);
/* Encode into a NUL-terminated arena string; NULL when out of memory. */
char *gw_auth__b64url_arena(struct base_arena *a, const unsigned char *in, size_t len);

/* --- secrets ------------------------------------------------------------- */

/* Copy of `len` bytes (+NUL) in the arena, wiped with OPENSSL_cleanse when
 * the arena is freed.  NULL when out of memory. */
char *gw_auth__secret_dup(struct base_arena *a, const char *p, size_t len);

/* --- keys ---------------------------------------------------------------- */

struct gw_auth__key {
    char kid[BASE_LIMIT_AUTH_MAX_KID + 1];
    unsigned algs;             /* enum gw_auth_alg bits this key may be used with */
    enum gw_auth_alg sign_alg; /* the algorithm used when signing with it */
    EVP_PKEY *pkey;
    bool has_private;
    bool is_signing;
};

/* Key by kid, or NULL. */
const struct gw_auth__key *gw_auth__keyset_find(const struct gw_auth_keyset *ks, const char *kid,
                                                size_t kid_len);
/* The signing key, or NULL. */
const struct gw_auth__key *gw_auth__keyset_signing(const struct gw_auth_keyset *ks);

/* Digest of an algorithm (SHA-256 / SHA-384); bytes of r and s for ES*, 0
 * for RS*. */
const EVP_MD *gw_auth__alg_md(enum gw_auth_alg alg);
size_t gw_auth__alg_ec_size(enum gw_auth_alg alg);

/* --- JSON limits for JOSE headers and claims -------------------------- */

struct fhir_json_limits;
void gw_auth__json_limits(struct fhir_json_limits *lim, size_t max_doc);

/* --- tokens -------------------------------------------------------------- */

/* A fresh random token id (128 bits, base64url) in the arena, or NULL. */
char *gw_auth__jti_new(struct base_arena *a);

/* A NumericDate claim already checked by gw_auth_jwt_check_claims(), in
 * whole seconds; 0 when absent. */
int64_t gw_auth__claim_date(const struct gw_auth_jwt *jwt, const char *name);

/* --- errors --------------------------------------------------------------- */

/* Re-label an error already set as BASE_E_AUTH (token failures are all
 * 401s, whatever layer found them).  Returns BASE_E_AUTH. */
int gw_auth__as_auth(struct base_err *err);

#endif /* GATEWAY_AUTH_AUTH_INT_H */
