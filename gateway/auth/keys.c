/*
 * The key set: the gateway's signing and verification keys (PEM files) and
 * registered clients' public keys (JWK Sets), each pinned to its JWS
 * algorithms.  Keys are EVP_PKEYs from OpenSSL 3; nothing here is mutable
 * after loading, so a loaded set can be shared by every request thread.
 */
#include "gateway/auth/gw_auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/keys_int.h"

struct gw_auth_keyset {
    struct gw_auth__key keys[BASE_LIMIT_AUTH_MAX_KEYS];
    size_t count;
};

/* PEM files of keys are small; anything larger is not a key file. */
#define MAX_PEM_FILE (64u << 10)
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192

static const struct {
    enum gw_auth_alg alg;
    const char *name;
} algs[] = {
    {GW_AUTH_ALG_RS256, "RS256"},
    {GW_AUTH_ALG_RS384, "RS384"},
    {GW_AUTH_ALG_ES256, "ES256"},
    {GW_AUTH_ALG_ES384, "ES384"},
};

const char *
gw_auth_alg_name(enum gw_auth_alg alg)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(algs); i++) {
        if (algs[i].alg == alg)
            return algs[i].name;
    }
    return "";
}

bool
gw_auth_alg_parse(struct base_str s, enum gw_auth_alg *out)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(algs); i++) {
        if (base_str_eq_cstr(s, algs[i].name)) {
            *out = algs[i].alg;
            return true;
        }
    }
    return false;
}

const EVP_MD *
gw_auth__alg_md(enum gw_auth_alg alg)
{
    return (alg == GW_AUTH_ALG_RS384 || alg == GW_AUTH_ALG_ES384) ? EVP_sha384() : EVP_sha256();
}

size_t
gw_auth__alg_ec_size(enum gw_auth_alg alg)
{
    switch (alg) {
    case GW_AUTH_ALG_ES256:
        return 32;
    case GW_AUTH_ALG_ES384:
        return 48;
    case GW_AUTH_ALG_RS256:
    case GW_AUTH_ALG_RS384:
        return 0;
    default:
        return 0;
    }
}

int
gw_auth_keyset_new(struct gw_auth_keyset **out, struct base_err *err)
{
    *out = base_calloc(1, sizeof(**out));
    ENSURE(*out != NULL, err, BASE_E_NOMEM, "exception", "keys", "out of memory");
    return BASE_OK;
}

void
gw_auth_keyset_free(struct gw_auth_keyset *ks)
{
    if (ks == NULL)
        return;
    for (size_t i = 0; i < ks->count; i++)
        EVP_PKEY_free(ks->keys[i].pkey); /* clears private components */
    OPENSSL_cleanse(ks, sizeof(*ks));
    base_free(ks);
}

static void
keyset_free_cb(void *obj)
{
    gw_auth_keyset_free(obj);
}

int
gw_auth_keyset_tie(struct base_arena *a, struct gw_auth_keyset *ks)
{
    return base_arena_on_free(a, keyset_free_cb, ks);
}

size_t
gw_auth_keyset_count(const struct gw_auth_keyset *ks)
{
    return ks->count;
}

const struct gw_auth__key *
gw_auth__keyset_at(const struct gw_auth_keyset *ks, size_t i)
{
    return i < ks->count ? &ks->keys[i] : NULL;
}

const struct gw_auth__key *
gw_auth__keyset_find(const struct gw_auth_keyset *ks, const char *kid, size_t kid_len)
{
    for (size_t i = 0; i < ks->count; i++) {
        const struct gw_auth__key *k = &ks->keys[i];

        if (strlen(k->kid) == kid_len && memcmp(k->kid, kid, kid_len) == 0)
            return k;
    }
    return NULL;
}

const struct gw_auth__key *
gw_auth__keyset_signing(const struct gw_auth_keyset *ks)
{
    for (size_t i = 0; i < ks->count; i++) {
        if (ks->keys[i].is_signing)
            return &ks->keys[i];
    }
    return NULL;
}

const char *
gw_auth_keyset_signing_kid(const struct gw_auth_keyset *ks)
{
    const struct gw_auth__key *k = gw_auth__keyset_signing(ks);

    return k != NULL ? k->kid : NULL;
}

/* ---------------------------------------------------------------- kinds -- */

enum gw_auth__kty
gw_auth__key_kind(EVP_PKEY *pkey)
{
    char group[64];
    int nid;

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        int bits = EVP_PKEY_get_bits(pkey);

        return (bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS) ? GW_AUTH__KTY_RSA : GW_AUTH__KTY_BAD;
    }
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1)
        return GW_AUTH__KTY_BAD;
    nid = OBJ_sn2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    if (nid == NID_X9_62_prime256v1)
        return GW_AUTH__KTY_P256;
    if (nid == NID_secp384r1)
        return GW_AUTH__KTY_P384;
    return GW_AUTH__KTY_BAD;
}

unsigned
gw_auth__kind_algs(enum gw_auth__kty kind)
{
    switch (kind) {
    case GW_AUTH__KTY_RSA:
        return GW_AUTH_ALG_RS256 | GW_AUTH_ALG_RS384;
    case GW_AUTH__KTY_P256:
        return GW_AUTH_ALG_ES256;
    case GW_AUTH__KTY_P384:
        return GW_AUTH_ALG_ES384;
    case GW_AUTH__KTY_BAD:
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ add -- */

static bool
kid_ok(const char *kid)
{
    size_t n = strlen(kid);

    if (n == 0 || n > BASE_LIMIT_AUTH_MAX_KID)
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)kid[i] < 0x21 || (unsigned char)kid[i] > 0x7e)
            return false;
    }
    return true;
}

/*
 * Take ownership of `pkey` (freed on failure) and add it.  `alg` 0 means
 * every algorithm its kind allows (client keys without "alg"); `sign_alg`
 * is then the first of them.
 */
int
gw_auth__keyset_put(struct gw_auth_keyset *ks, EVP_PKEY *pkey, const char *kid, unsigned alg,
                    bool has_private, bool is_signing, struct base_err *err)
{
    enum gw_auth__kty kind = gw_auth__key_kind(pkey);
    unsigned allowed = gw_auth__kind_algs(kind);
    struct gw_auth__key *k;
    int rc;

    if (kind == GW_AUTH__KTY_BAD) {
        rc = base_err_set(err, BASE_E_INVALID, "value", "key",
                          "key must be RSA (2048-8192 bits) or EC P-256/P-384");
        goto fail;
    }
    if (alg != 0 && (alg & allowed) != alg) {
        rc = base_err_set(err, BASE_E_INVALID, "value", "key.alg",
                          "algorithm does not match the key type");
        goto fail;
    }
    if (!kid_ok(kid)) {
        rc = base_err_set(err, BASE_E_INVALID, "value", "key.kid",
                          "key id must be 1-%u printable characters", BASE_LIMIT_AUTH_MAX_KID);
        goto fail;
    }
    if (gw_auth__keyset_find(ks, kid, strlen(kid)) != NULL) {
        rc = base_err_set(err, BASE_E_CONFLICT, "duplicate", "key.kid", "duplicate key id");
        goto fail;
    }
    if (is_signing && !has_private) {
        rc = base_err_set(err, BASE_E_INVALID, "value", "key", "signing key must be private");
        goto fail;
    }
    if (is_signing && gw_auth__keyset_signing(ks) != NULL) {
        rc = base_err_set(err, BASE_E_CONFLICT, "duplicate", "key",
                          "key set already has a signing key");
        goto fail;
    }
    if (ks->count >= BASE_LIMIT_AUTH_MAX_KEYS) {
        rc = base_err_set(err, BASE_E_LIMIT, "too-costly", "keys", "key set exceeds %u keys",
                          BASE_LIMIT_AUTH_MAX_KEYS);
        goto fail;
    }
    k = &ks->keys[ks->count++];
    memset(k, 0, sizeof(*k));
    memcpy(k->kid, kid, strlen(kid) + 1);
    k->algs = alg != 0 ? alg : allowed;
    k->sign_alg = (enum gw_auth_alg)(k->algs & (~k->algs + 1u)); /* lowest bit */
    k->pkey = pkey;
    k->has_private = has_private;
    k->is_signing = is_signing;
    return BASE_OK;
fail:
    EVP_PKEY_free(pkey);
    return rc;
}

/* OpenSSL would prompt on the terminal for an encrypted PEM; refuse instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static EVP_PKEY *
read_pem(const char *pem, size_t len, bool *out_private)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = NULL;

    if (bio == NULL)
        return NULL;
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    *out_private = pkey != NULL;
    if (pkey == NULL && BIO_reset(bio) == 1)
        pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error(); /* the queue is per thread: leave it clean */
    return pkey;
}

int
gw_auth_keyset_add_pem(struct gw_auth_keyset *ks, const char *pem, size_t len, const char *kid,
                       const char *alg, bool is_signing, struct base_err *err)
{
    enum gw_auth_alg a = 0;
    bool has_private = false;
    EVP_PKEY *pkey;
    char thumb[64];

    ENSURE(len > 0 && len <= MAX_PEM_FILE, err, BASE_E_INVALID, "value", "key",
           "key file must be 1 byte to %u KiB", MAX_PEM_FILE >> 10);
    ENSURE(alg == NULL || gw_auth_alg_parse(base_str_from_cstr(alg), &a), err, BASE_E_INVALID,
           "value", "key.alg", "unsupported algorithm (use RS256, RS384, ES256 or ES384)");
    pkey = read_pem(pem, len, &has_private);
    ENSURE(pkey != NULL, err, BASE_E_INVALID, "value", "key",
           "not an unencrypted PEM private or public key");
    if (kid == NULL) {
        if (gw_auth__jwk_thumbprint(pkey, thumb, sizeof(thumb), err) != BASE_OK) {
            EVP_PKEY_free(pkey);
            return err != NULL ? err->rc : BASE_E_INVALID;
        }
        kid = thumb;
    }
    return gw_auth__keyset_put(ks, pkey, kid, (unsigned)a, has_private, is_signing, err);
}

int
gw_auth_keyset_load_file(struct gw_auth_keyset *ks, const char *path, const char *kid,
                         const char *alg, bool is_signing, struct base_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int rc;

    ENSURE(f != NULL, err, BASE_E_IO, "exception", "key file", "could not open key file: %s",
           strerror(errno));
    buf = base_malloc(MAX_PEM_FILE + 1);
    if (buf == NULL) {
        fclose(f);
        return base_err_set(err, BASE_E_NOMEM, "exception", "key file", "out of memory");
    }
    n = fread(buf, 1, MAX_PEM_FILE + 1, f);
    if (ferror(f))
        rc = base_err_set(err, BASE_E_IO, "exception", "key file", "could not read key file");
    else if (n > MAX_PEM_FILE)
        rc = base_err_set(err, BASE_E_INVALID, "value", "key file", "key file exceeds %u KiB",
                          MAX_PEM_FILE >> 10);
    else
        rc = gw_auth_keyset_add_pem(ks, buf, n, kid, alg, is_signing, err);
    fclose(f);
    OPENSSL_cleanse(buf, MAX_PEM_FILE + 1);
    base_free(buf);
    return rc;
}
