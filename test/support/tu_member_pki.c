/*
 * A throwaway PKI for federation tests, made with the OpenSSL API (EC
 * P-256, SHA-256, X.509 v3): the region CA, a foreign CA, a region-issued
 * server certificate for 127.0.0.1, the same from the foreign CA, an
 * expired one, and the gateway's client certificate.  Keys exist only
 * under the test's scratch directory.
 */
#include "test/support/tu_member.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static EVP_PKEY *
new_key(void)
{
    return EVP_EC_gen("P-256");
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return 0;
}

/* A certificate for `key` named cn, signed by issuer/ikey (self-signed when
 * issuer is NULL), valid from now+nb_s to now+na_s. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, long nb_s, long na_s,
          const char *const *exts)
{
    X509 *c = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    X509_NAME *name;

    if (c == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) == NULL)
        goto fail;
    X509_set_version(c, 2);
    X509_gmtime_adj(X509_getm_notBefore(c), nb_s);
    X509_gmtime_adj(X509_getm_notAfter(c), na_s);
    X509_set_pubkey(c, key);
    name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer != NULL ? X509_get_subject_name(issuer) : name);
    for (size_t i = 0; exts[i] != NULL; i += 2) {
        if (add_ext(c, issuer != NULL ? issuer : c, OBJ_txt2nid(exts[i]), exts[i + 1]) != 0)
            goto fail;
    }
    if (X509_sign(c, issuer != NULL ? ikey : key, EVP_sha256()) == 0)
        goto fail;
    BN_free(bn);
    return c;
fail:
    BN_free(bn);
    X509_free(c);
    return NULL;
}

static int
write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    int ok;

    if (f == NULL)
        return -1;
    if (key != NULL)
        chmod(path, 0600);
    ok = cert != NULL ? PEM_write_X509(f, cert)
                      : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

struct issued {
    X509 *cert;
    EVP_PKEY *key;
};

static int
issue(const char *dir, const char *name, const char *cn, struct issued *ca, long nb, long na,
      const char *const *exts, char *cert_path, char *key_path, struct issued *out)
{
    struct issued x = {NULL, new_key()};

    if (x.key != NULL)
        x.cert = make_cert(x.key, cn, ca != NULL ? ca->cert : NULL, ca != NULL ? ca->key : NULL, nb,
                           na, exts);
    snprintf(cert_path, 600, "%s/%s.crt", dir, name);
    snprintf(key_path, 600, "%s/%s.key", dir, name);
    if (x.cert == NULL || write_pem(cert_path, x.cert, NULL) != 0 ||
        write_pem(key_path, NULL, x.key) != 0) {
        X509_free(x.cert);
        EVP_PKEY_free(x.key);
        return -1;
    }
    if (out != NULL) {
        *out = x;
    } else {
        X509_free(x.cert);
        EVP_PKEY_free(x.key);
    }
    return 0;
}

static int
pki_make(const char *dir, struct tu_member_pki *o)
{
    static const char *const ca_ext[] = {"basicConstraints",
                                         "critical,CA:TRUE,pathlen:0",
                                         "keyUsage",
                                         "critical,keyCertSign,cRLSign",
                                         "subjectKeyIdentifier",
                                         "hash",
                                         NULL};
    static const char *const srv_ext[] = {"basicConstraints",
                                          "critical,CA:FALSE",
                                          "keyUsage",
                                          "critical,digitalSignature",
                                          "extendedKeyUsage",
                                          "serverAuth",
                                          "subjectAltName",
                                          "IP:127.0.0.1,DNS:localhost",
                                          "authorityKeyIdentifier",
                                          "keyid",
                                          NULL};
    static const char *const cli_ext[] = {"basicConstraints",
                                          "critical,CA:FALSE",
                                          "keyUsage",
                                          "critical,digitalSignature",
                                          "extendedKeyUsage",
                                          "clientAuth",
                                          "authorityKeyIdentifier",
                                          "keyid",
                                          NULL};
    struct issued ca = {NULL, NULL};
    struct issued other = {NULL, NULL};
    char other_ca[600];
    char other_ca_key[600];
    const long day = 86400;
    int rc = -1;

    memset(o, 0, sizeof(*o));
    snprintf(o->dir, sizeof(o->dir), "%s", dir);
    if (issue(dir, "ca", "Test Region CA", NULL, -4 * day, 2 * day, ca_ext, o->ca, o->ca_key,
              &ca) != 0 ||
        issue(dir, "other-ca", "Some Other CA", NULL, -4 * day, 2 * day, ca_ext, other_ca,
              other_ca_key, &other) != 0)
        goto out;
    if (issue(dir, "server", "127.0.0.1", &ca, -60, 2 * day, srv_ext, o->server_cert, o->server_key,
              NULL) != 0 ||
        issue(dir, "other", "127.0.0.1", &other, -60, 2 * day, srv_ext, o->other_cert, o->other_key,
              NULL) != 0 ||
        issue(dir, "expired", "127.0.0.1", &ca, -3 * day, -day, srv_ext, o->expired_cert,
              o->expired_key, NULL) != 0 ||
        issue(dir, "client", "gateway", &ca, -60, 2 * day, cli_ext, o->client_cert, o->client_key,
              NULL) != 0)
        goto out;
    rc = 0;
out:
    X509_free(ca.cert);
    EVP_PKEY_free(ca.key);
    X509_free(other.cert);
    EVP_PKEY_free(other.key);
    return rc;
}

int
tu_member_pki_make(struct tu_member_pki *o)
{
    const char *base = getenv("FHIRGATE_TEST_TMP");
    char dir[512];

    snprintf(dir, sizeof(dir), "%s/fed-pki-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    return pki_make(dir, o);
}

void
tu_member_pki_remove(const struct tu_member_pki *o)
{
    static const char *const names[] = {"ca", "other-ca", "server", "other", "expired", "client"};
    char path[600];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s.crt", o->dir, names[i]);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%s.key", o->dir, names[i]);
        unlink(path);
    }
    rmdir(o->dir);
}

char *
tu_member_obs(const char *id, const char *date, const char *ident_system, const char *ident_value)
{
    char ident[512] = "";
    char *out = malloc(1024);

    if (out == NULL)
        return NULL;
    if (ident_system != NULL)
        snprintf(ident, sizeof(ident), ",\"identifier\":[{\"system\":\"%s\",\"value\":\"%s\"}]",
                 ident_system, ident_value);
    snprintf(
        out, 1024,
        "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"meta\":{\"versionId\":\"1\","
        "\"lastUpdated\":\"2024-01-01T00:00:00Z\"}%s,\"status\":\"final\",\"code\":{\"coding\":"
        "[{\"system\":\"http://loinc.org\",\"code\":\"718-7\"}]},\"subject\":{\"reference\":"
        "\"Patient/p1\"},\"effectiveDateTime\":\"%s\",\"valueQuantity\":{\"value\":13.2,"
        "\"unit\":\"g/dL\"}}",
        id, ident, date);
    return out;
}
