/*
 * Checkpoint signing keys: ECDSA on P-256 with SHA-256 through OpenSSL EVP
 * (FIPS 186-4; signatures are DER ECDSA-Sig-Value as in RFC 3279 2.2.3, the
 * form `openssl dgst -sha256 -verify` reads).  A key is identified by the
 * SHA-256 of its DER SubjectPublicKeyInfo.
 */
#include "gateway/audit/audit_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "gateway/db/gw_db.h"

struct gw_audit_key {
    EVP_PKEY *pkey;
    bool has_private;
    char id[65];
    char *public_pem;
};

void
gw_audit_key_free(struct gw_audit_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    base_free(k->public_pem);
    base_free(k);
}

const char *
gw_audit_key_id(const struct gw_audit_key *k)
{
    return k->id;
}

const char *
gw_audit_key_public_pem(const struct gw_audit_key *k)
{
    return k->public_pem;
}

bool
gw_audit__key_has_private(const struct gw_audit_key *k)
{
    return k != NULL && k->has_private;
}

static bool
is_p256(EVP_PKEY *pkey)
{
    char group[64];
    size_t glen = 0;

    if (!EVP_PKEY_is_a(pkey, "EC"))
        return false;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1)
        return false;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* Fill id and public_pem from k->pkey. */
static int
describe(struct gw_audit_key *k, struct base_err *err)
{
    unsigned char *der = NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    BIO *mem = NULL;
    char *p = NULL;
    long n;
    int len;
    int rc = BASE_OK;

    len = i2d_PUBKEY(k->pkey, &der);
    if (len <= 0 || EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1) {
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.key",
                          "could not encode the public key");
        goto out;
    }
    gw_audit__hex(md, 32, k->id);
    mem = BIO_new(BIO_s_mem());
    if (mem == NULL || PEM_write_bio_PUBKEY(mem, k->pkey) != 1 ||
        (n = BIO_get_mem_data(mem, &p)) <= 0) {
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.key",
                          "could not encode the public key");
        goto out;
    }
    k->public_pem = base_malloc((size_t)n + 1);
    if (k->public_pem == NULL) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "audit.key", "out of memory");
        goto out;
    }
    memcpy(k->public_pem, p, (size_t)n);
    k->public_pem[n] = '\0';
out:
    OPENSSL_free(der);
    BIO_free(mem);
    return rc;
}

static int
wrap(EVP_PKEY *pkey, bool has_private, struct gw_audit_key **out, struct base_err *err)
{
    struct gw_audit_key *k;
    int rc;

    if (!is_p256(pkey)) {
        EVP_PKEY_free(pkey);
        return base_err_set(err, BASE_E_INVALID, "value", "audit.signing_key",
                            "audit signing key must be an EC P-256 key");
    }
    k = base_calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return base_err_set(err, BASE_E_NOMEM, "exception", "audit.signing_key", "out of memory");
    }
    k->pkey = pkey;
    k->has_private = has_private;
    rc = describe(k, err);
    if (rc != BASE_OK) {
        gw_audit_key_free(k);
        return rc;
    }
    *out = k;
    return BASE_OK;
}

int
gw_audit__key_from_pem(const char *pem, size_t len, bool want_private, struct gw_audit_key **out,
                       struct base_err *err)
{
    BIO *b;
    EVP_PKEY *pkey = NULL;
    bool priv = false;

    *out = NULL;
    b = BIO_new_mem_buf(pem, (int)len);
    ENSURE(b != NULL, err, BASE_E_NOMEM, "exception", "audit.key", "out of memory");
    if (!want_private)
        pkey = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    if (pkey == NULL) {
        (void)BIO_reset(b);
        pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        priv = pkey != NULL;
    }
    BIO_free(b);
    ENSURE(pkey != NULL, err, BASE_E_INVALID, "value", "audit.key",
           want_private ? "not a PEM private key" : "not a PEM public or private key");
    return wrap(pkey, priv, out, err);
}

static int
load(const char *path, bool want_private, struct gw_audit_key **out, struct base_err *err)
{
    FILE *f;
    char buf[16384];
    size_t n;
    int rc;

    *out = NULL;
    f = fopen(path, "rb");
    ENSURE(f != NULL, err, BASE_E_IO, "not-found", "audit.signing_key", "could not open key file");
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    ENSURE(n < sizeof(buf), err, BASE_E_LIMIT, "too-costly", "audit.signing_key",
           "key file is too large");
    rc = gw_audit__key_from_pem(buf, n, want_private, out, err);
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

int
gw_audit_key_load_private(const char *path, struct gw_audit_key **out, struct base_err *err)
{
    return load(path, true, out, err);
}

int
gw_audit_key_load_public(const char *path, struct gw_audit_key **out, struct base_err *err)
{
    return load(path, false, out, err);
}

static int
write_pem(const char *path, EVP_PKEY *pkey, bool private_part, struct base_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_part ? 0600 : 0644);
    FILE *f;
    int ok;

    ENSURE(fd >= 0, err, BASE_E_IO, "exception", "audit.key", "could not create key file");
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return base_err_set(err, BASE_E_IO, "exception", "audit.key", "could not create key file");
    }
    ok = private_part ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
                      : PEM_write_PUBKEY(f, pkey);
    ok = (fclose(f) == 0) && ok;
    ENSURE(ok, err, BASE_E_IO, "exception", "audit.key", "could not write key file");
    return BASE_OK;
}

int
gw_audit_key_generate(const char *private_path, const char *public_path, struct base_err *err)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    int rc;

    ENSURE(pkey != NULL, err, BASE_E_INTERNAL, "exception", "audit.key",
           "could not generate a key");
    rc = write_pem(private_path, pkey, true, err);
    if (rc == BASE_OK && public_path != NULL)
        rc = write_pem(public_path, pkey, false, err);
    EVP_PKEY_free(pkey);
    return rc;
}

int
gw_audit__sign(const struct gw_audit_key *k, const void *data, size_t len, unsigned char **sig,
               size_t *sig_len, struct base_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *out = NULL;
    size_t n = 0;
    int rc = BASE_OK;

    *sig = NULL;
    *sig_len = 0;
    if (md == NULL || !k->has_private ||
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
        EVP_DigestSign(md, NULL, &n, data, len) != 1 || (out = base_malloc(n)) == NULL ||
        EVP_DigestSign(md, out, &n, data, len) != 1) {
        base_free(out);
        out = NULL;
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.checkpoint",
                          "could not sign the checkpoint");
    }
    EVP_MD_CTX_free(md);
    *sig = out;
    *sig_len = out != NULL ? n : 0;
    return rc;
}

bool
gw_audit__verify_sig(const struct gw_audit_key *k, const void *data, size_t len,
                     const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok;

    ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
         EVP_DigestVerify(md, sig, sig_len, data, len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

int
gw_audit__cp_sign(const struct gw_audit_key *k, struct gw_audit__cp *cp, char signed_at[32],
                  char **sig_hex, struct base_err *err)
{
    struct base_buf text;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    int rc;

    *sig_hex = NULL;
    gw_audit__format_time(gw_audit__now_us(), signed_at);
    cp->signed_at = signed_at;
    cp->key_id = gw_audit_key_id(k);
    base_buf_init(&text, 4096);
    rc = gw_audit__cp_canonical(cp, &text);
    if (rc == BASE_OK)
        rc = gw_audit__sign(k, text.data, text.len, &sig, &sig_len, err);
    base_buf_fini(&text);
    if (rc != BASE_OK)
        return rc;
    *sig_hex = base_malloc(2 * sig_len + 3);
    if (*sig_hex == NULL) {
        base_free(sig);
        return base_err_set(err, BASE_E_NOMEM, "exception", "audit.checkpoint", "out of memory");
    }
    (*sig_hex)[0] = '\\';
    (*sig_hex)[1] = 'x';
    gw_audit__hex(sig, sig_len, *sig_hex + 2);
    base_free(sig);
    return BASE_OK;
}

int
gw_audit__insert_checkpoint(struct gw_db_conn *c, const struct gw_audit_key *k,
                            struct gw_audit__cp *cp, struct base_err *err)
{
    char signed_at[32];
    char seq[24];
    char *sig_hex = NULL;
    const char *vals[8];
    int rc;

    TRY(gw_audit__cp_sign(k, cp, signed_at, &sig_hex, err));
    snprintf(seq, sizeof(seq), "%" PRId64, cp->seq);
    vals[0] = cp->chain_id;
    vals[1] = seq;
    vals[2] = cp->hash;
    vals[3] = cp->row_time;
    vals[4] = cp->signed_at;
    vals[5] = cp->kind;
    vals[6] = cp->key_id;
    vals[7] = sig_hex;
    rc = gw_db_exec(c, "audit.checkpoint",
                    "INSERT INTO audit.checkpoint (chain_id, seq, hash, row_time, signed_at, kind, "
                    "key_id, signature) VALUES ($1, $2::bigint, $3, $4::timestamptz, "
                    "$5::timestamptz, $6, $7, $8::bytea)",
                    8, vals, NULL, err);
    cp->signed_at = NULL;
    base_free(sig_hex);
    return rc;
}

int
gw_audit__register_key(struct gw_db_conn *c, const struct gw_audit_key *k, struct base_err *err)
{
    const char *vals[2] = {k->id, k->public_pem};

    return gw_db_exec(c, "audit.register_key",
                      "INSERT INTO audit.signing_key (key_id, public_pem) VALUES ($1, $2) "
                      "ON CONFLICT (key_id) DO NOTHING",
                      2, vals, NULL, err);
}
