/*
 * Password hashing with OpenSSL's slow KDFs, stored as self-describing PHC
 * strings so parameters can be raised later without a flag day:
 *   $scrypt$ln=15,r=8,p=3$SALT$HASH          (RFC 7914)
 *   $pbkdf2-sha256$i=600000$SALT$HASH        (RFC 8018, HMAC-SHA-256)
 * SALT and HASH are B64 without padding (PHC string format).  Parameters
 * read back from the database are bounded so a bad row cannot make a
 * sign-in burn unbounded memory or time.
 */
#include "gateway/auth/gw_auth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "gateway/auth/auth_int.h"

#define SALT_LEN        16
#define HASH_LEN        32
#define MIN_SALT        8
#define MAX_SALT        64
#define MIN_HASH        16
#define MAX_HASH        64
#define SCRYPT_MAXMEM   ((uint64_t)256 << 20) /* 128 * r * N bytes must fit */
#define PBKDF2_MIN_NEW  600000u               /* OWASP 2023 for PBKDF2-HMAC-SHA256 */
#define PBKDF2_MIN_READ 1000u                 /* older imported hashes still verify */
#define PBKDF2_MAX      10000000u

struct pw_hash {
    struct gw_auth_pw_params params;
    unsigned char salt[MAX_SALT];
    size_t salt_len;
    unsigned char hash[MAX_HASH];
    size_t hash_len;
};

void
gw_auth_pw_params_default(struct gw_auth_pw_params *p)
{
    memset(p, 0, sizeof(*p));
    p->alg = GW_AUTH_PW_SCRYPT;
    p->log2_n = 15;
    p->r = 8;
    p->p = 3;
    p->iterations = PBKDF2_MIN_NEW;
}

static bool
scrypt_params_ok(unsigned log2_n, unsigned r, unsigned p)
{
    if (log2_n < 10 || log2_n > 22 || r < 1 || r > 32 || p < 1 || p > 16)
        return false;
    return (uint64_t)128 * r * ((uint64_t)1 << log2_n) <= SCRYPT_MAXMEM;
}

static bool
params_ok(const struct gw_auth_pw_params *p, unsigned pbkdf2_min)
{
    switch (p->alg) {
    case GW_AUTH_PW_SCRYPT:
        return scrypt_params_ok(p->log2_n, p->r, p->p);
    case GW_AUTH_PW_PBKDF2:
        return p->iterations >= pbkdf2_min && p->iterations <= PBKDF2_MAX;
    default:
        return false;
    }
}

static bool
derive(const char *pw, size_t len, const struct gw_auth_pw_params *p, const unsigned char *salt,
       size_t salt_len, unsigned char *out, size_t out_len)
{
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *ctx = NULL;
    uint64_t n = (uint64_t)1 << p->log2_n;
    uint32_t r = p->r;
    uint32_t par = p->p;
    uint64_t maxmem = SCRYPT_MAXMEM + ((uint64_t)1 << 20);
    OSSL_PARAM params[7];
    char empty[1] = "";
    bool ok = false;

    if (p->alg == GW_AUTH_PW_PBKDF2) {
        ok = PKCS5_PBKDF2_HMAC(len > 0 ? pw : empty, (int)len, salt, (int)salt_len,
                               (int)p->iterations, EVP_sha256(), (int)out_len, out) == 1;
        ERR_clear_error();
        return ok;
    }
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                                  len > 0 ? (void *)(uintptr_t)pw : empty, len);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt, salt_len);
    params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
    params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par);
    params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
    params[6] = OSSL_PARAM_construct_end();
    kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    ERR_clear_error();
    return ok;
}

static int
encode(const struct pw_hash *h, char *out, size_t cap, struct base_err *err)
{
    struct base_buf b;
    int rc;

    base_buf_init(&b, GW_AUTH_PW_HASH_MAX - 1);
    if (h->params.alg == GW_AUTH_PW_SCRYPT)
        rc = base_buf_appendf(&b, "$scrypt$ln=%u,r=%u,p=%u$", h->params.log2_n, h->params.r,
                              h->params.p);
    else
        rc = base_buf_appendf(&b, "$pbkdf2-sha256$i=%u$", h->params.iterations);
    if (rc == BASE_OK)
        rc = gw_auth__b64_encode(GW_AUTH__B64_NOPAD, h->salt, h->salt_len, &b);
    if (rc == BASE_OK)
        rc = base_buf_putc(&b, '$');
    if (rc == BASE_OK)
        rc = gw_auth__b64_encode(GW_AUTH__B64_NOPAD, h->hash, h->hash_len, &b);
    if (rc == BASE_OK && b.len + 1 > cap)
        rc = BASE_E_LIMIT;
    if (rc == BASE_OK)
        memcpy(out, b.data, b.len + 1);
    base_buf_fini(&b);
    ENSURE(rc == BASE_OK, err, rc, "exception", "password", "could not encode password hash");
    return BASE_OK;
}

int
gw_auth_password_hash(const char *pw, size_t len, const struct gw_auth_pw_params *p, char *out,
                      size_t cap, struct base_err *err)
{
    struct pw_hash h = {.params = *p, .salt_len = SALT_LEN, .hash_len = HASH_LEN};
    int rc;

    ENSURE(params_ok(p, PBKDF2_MIN_NEW), err, BASE_E_INVALID, "value", "password",
           "password hash parameters are out of range");
    ENSURE(len <= BASE_LIMIT_AUTH_MAX_PASSWORD, err, BASE_E_INVALID, "value", "password",
           "password exceeds %u bytes", BASE_LIMIT_AUTH_MAX_PASSWORD);
    ENSURE(RAND_bytes(h.salt, SALT_LEN) == 1, err, BASE_E_INTERNAL, "exception", "password",
           "no randomness for the salt");
    ENSURE(derive(pw, len, p, h.salt, h.salt_len, h.hash, h.hash_len), err, BASE_E_INTERNAL,
           "exception", "password", "could not hash password");
    rc = encode(&h, out, cap, err);
    OPENSSL_cleanse(&h, sizeof(h));
    return rc;
}

/* --------------------------------------------------------------- decode -- */

static bool
read_uint(const char **s, const char *key, unsigned *out)
{
    size_t klen = strlen(key);
    unsigned long v = 0;
    const char *p = *s;

    if (strncmp(p, key, klen) != 0)
        return false;
    p += klen;
    if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 100000000ul)
            return false;
    }
    *out = (unsigned)v;
    *s = p;
    return true;
}

static bool
read_b64(const char **s, char stop, unsigned char *out, size_t min, size_t max, size_t *out_len)
{
    const char *end = strchr(*s, stop);
    size_t len = end != NULL ? (size_t)(end - *s) : strlen(*s);
    unsigned char tmp[MAX_HASH + 3];

    if (len == 0 || gw_auth__b64_decoded_cap(len) > sizeof(tmp) ||
        !gw_auth__b64_decode(GW_AUTH__B64_NOPAD, *s, len, tmp, out_len) || *out_len < min ||
        *out_len > max)
        return false;
    memcpy(out, tmp, *out_len);
    *s += len;
    return true;
}

static bool
decode_params(const char **s, struct gw_auth_pw_params *p)
{
    memset(p, 0, sizeof(*p));
    if (strncmp(*s, "$scrypt$", 8) == 0) {
        *s += 8;
        p->alg = GW_AUTH_PW_SCRYPT;
        return read_uint(s, "ln=", &p->log2_n) && read_uint(s, ",r=", &p->r) &&
               read_uint(s, ",p=", &p->p) && params_ok(p, PBKDF2_MIN_READ);
    }
    if (strncmp(*s, "$pbkdf2-sha256$", 15) == 0) {
        *s += 15;
        p->alg = GW_AUTH_PW_PBKDF2;
        return read_uint(s, "i=", &p->iterations) && params_ok(p, PBKDF2_MIN_READ);
    }
    return false;
}

static bool
decode(const char *encoded, struct pw_hash *h)
{
    const char *s = encoded;

    if (encoded == NULL || strnlen(encoded, GW_AUTH_PW_HASH_MAX) >= GW_AUTH_PW_HASH_MAX ||
        !decode_params(&s, &h->params) || *s++ != '$' ||
        !read_b64(&s, '$', h->salt, MIN_SALT, MAX_SALT, &h->salt_len) || *s++ != '$' ||
        !read_b64(&s, '\0', h->hash, MIN_HASH, MAX_HASH, &h->hash_len))
        return false;
    return *s == '\0';
}

int
gw_auth_password_verify(const char *pw, size_t len, const char *encoded, bool *out_match,
                        struct base_err *err)
{
    struct pw_hash h;
    unsigned char got[MAX_HASH];
    int rc = BASE_OK;

    *out_match = false;
    ENSURE(decode(encoded, &h), err, BASE_E_INVALID, "value", "password_hash",
           "stored password hash is not readable");
    if (len > BASE_LIMIT_AUTH_MAX_PASSWORD)
        goto out; /* cannot match: no password that long was ever accepted */
    if (!derive(pw, len, &h.params, h.salt, h.salt_len, got, h.hash_len)) {
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "password", "could not hash password");
        goto out;
    }
    *out_match = CRYPTO_memcmp(got, h.hash, h.hash_len) == 0;
out:
    OPENSSL_cleanse(got, sizeof(got));
    OPENSSL_cleanse(&h, sizeof(h));
    return rc;
}

bool
gw_auth_password_needs_rehash(const char *encoded, const struct gw_auth_pw_params *p)
{
    struct pw_hash h;
    bool weaker;

    if (!decode(encoded, &h) || h.params.alg != p->alg)
        return true;
    if (p->alg == GW_AUTH_PW_SCRYPT)
        weaker = h.params.log2_n < p->log2_n || h.params.r < p->r || h.params.p < p->p;
    else
        weaker = h.params.iterations < p->iterations;
    return weaker || h.salt_len < SALT_LEN || h.hash_len < HASH_LEN;
}

void
gw_auth_password_dummy_verify(const char *pw, size_t len, const struct gw_auth_pw_params *p)
{
    static const unsigned char salt[SALT_LEN] = {0};
    unsigned char out[HASH_LEN];

    if (params_ok(p, PBKDF2_MIN_READ) && len <= BASE_LIMIT_AUTH_MAX_PASSWORD)
        (void)derive(pw, len, p, salt, sizeof(salt), out, sizeof(out));
    OPENSSL_cleanse(out, sizeof(out));
}

/* --------------------------------------------------------------- policy -- */

int
gw_auth_password_check_policy(const char *pw, size_t len, const char *username,
                              struct base_err *err)
{
    size_t chars = 0;

    ENSURE(len <= BASE_LIMIT_AUTH_MAX_PASSWORD, err, BASE_E_INVALID, "value", "password",
           "password exceeds %u bytes", BASE_LIMIT_AUTH_MAX_PASSWORD);
    ENSURE(base_utf8_valid(pw, len, NULL), err, BASE_E_INVALID, "value", "password",
           "password is not valid UTF-8");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];

        ENSURE(c >= 0x20 && c != 0x7f, err, BASE_E_INVALID, "value", "password",
               "password contains control characters");
        chars += (c & 0xc0) != 0x80; /* count code points, not bytes */
    }
    ENSURE(chars >= BASE_LIMIT_AUTH_MIN_PASSWORD, err, BASE_E_INVALID, "value", "password",
           "password must have at least %u characters", BASE_LIMIT_AUTH_MIN_PASSWORD);
    ENSURE(username == NULL || strlen(username) != len || strncasecmp(pw, username, len) != 0, err,
           BASE_E_INVALID, "value", "password", "password must differ from the user name");
    return BASE_OK;
}
