/*
 * Checkpoint keys and signatures, including a cross-check with the
 * `openssl` command line: what the gateway signs, anyone can verify with
 * standard tools.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "gateway/audit/audit_int.h"
#include "test/support/pgtest.h"

static char dir[256];
static char priv[300];
static char pub[300];

static void
setup(void)
{
    struct base_err err = {0};

    snprintf(dir, sizeof(dir), "/tmp/fhirgate-sign.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(priv, sizeof(priv), "%s/key.pem", dir);
    snprintf(pub, sizeof(pub), "%s/pub.pem", dir);
    ck_assert_int_eq(gw_audit_key_generate(priv, pub, &err), BASE_OK);
}

static void
teardown(void)
{
    const char *rm[] = {"/bin/rm", "-rf", dir, NULL};

    pt_run(rm, NULL);
}

static void
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

START_TEST(generated_keys_load_and_identify)
{
    struct gw_audit_key *k = NULL;
    struct gw_audit_key *p = NULL;
    struct base_err err = {0};
    unsigned char *der = NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65];
    FILE *f;
    EVP_PKEY *raw;
    int len;

    ck_assert_int_eq(gw_audit_key_load_private(priv, &k, &err), BASE_OK);
    ck_assert_int_eq(gw_audit_key_load_public(pub, &p, &err), BASE_OK);
    ck_assert(gw_audit__key_has_private(k));
    ck_assert(!gw_audit__key_has_private(p));
    ck_assert_str_eq(gw_audit_key_id(k), gw_audit_key_id(p));
    ck_assert_ptr_nonnull(strstr(gw_audit_key_public_pem(k), "BEGIN PUBLIC KEY"));
    /* the id is the SHA-256 of the DER SubjectPublicKeyInfo */
    f = fopen(pub, "r");
    raw = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    len = i2d_PUBKEY(raw, &der);
    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
    gw_audit__hex(md, 32, hex);
    ck_assert_str_eq(gw_audit_key_id(p), hex);
    OPENSSL_free(der);
    EVP_PKEY_free(raw);
    /* the public half of a private key file also serves for verifying */
    gw_audit_key_free(p);
    ck_assert_int_eq(gw_audit_key_load_public(priv, &p, &err), BASE_OK);
    ck_assert_str_eq(gw_audit_key_id(k), gw_audit_key_id(p));
    gw_audit_key_free(k);
    gw_audit_key_free(p);
}
END_TEST

START_TEST(sign_and_verify)
{
    struct gw_audit_key *k = NULL;
    struct gw_audit_key *other = NULL;
    struct base_err err = {0};
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    char opriv[320];

    ck_assert_int_eq(gw_audit_key_load_private(priv, &k, &err), BASE_OK);
    ck_assert_int_eq(gw_audit__sign(k, "abc", 3, &sig, &sig_len, &err), BASE_OK);
    ck_assert(gw_audit__verify_sig(k, "abc", 3, sig, sig_len));
    ck_assert(!gw_audit__verify_sig(k, "abd", 3, sig, sig_len));
    sig[sig_len / 2] ^= 1;
    ck_assert(!gw_audit__verify_sig(k, "abc", 3, sig, sig_len));
    sig[sig_len / 2] ^= 1;
    snprintf(opriv, sizeof(opriv), "%s/other.pem", dir);
    ck_assert_int_eq(gw_audit_key_generate(opriv, NULL, &err), BASE_OK);
    ck_assert_int_eq(gw_audit_key_load_private(opriv, &other, &err), BASE_OK);
    ck_assert(!gw_audit__verify_sig(other, "abc", 3, sig, sig_len));
    base_free(sig);
    gw_audit_key_free(other);
    /* a public key cannot sign */
    ck_assert_int_eq(gw_audit_key_load_public(pub, &other, &err), BASE_OK);
    ck_assert_int_eq(gw_audit__sign(other, "abc", 3, &sig, &sig_len, &err), BASE_E_INTERNAL);
    ck_assert_ptr_null(sig);
    gw_audit_key_free(other);
    gw_audit_key_free(k);
}
END_TEST

START_TEST(checkpoint_signature_verifies_with_openssl)
{
    struct gw_audit_key *k = NULL;
    struct base_err err = {0};
    struct gw_audit__cp cp = {"gw-a", 42,         "ab12", "2026-01-31T23:59:59.123456Z",
                              NULL,   "interval", NULL};
    char signed_at[32];
    char *sig_hex = NULL;
    unsigned char sig[256];
    long sig_len;
    struct base_buf text;
    char msg[320];
    char sigf[320];
    char *out = NULL;
    const char *argv[] = {"/usr/bin/openssl", "dgst", "-sha256", "-verify", pub,
                          "-signature",       sigf,   msg,       NULL};

    ck_assert_int_eq(gw_audit_key_load_private(priv, &k, &err), BASE_OK);
    ck_assert_int_eq(gw_audit__cp_sign(k, &cp, signed_at, &sig_hex, &err), BASE_OK);
    ck_assert(strncmp(sig_hex, "\\x30", 4) == 0); /* DER SEQUENCE */
    ck_assert_str_eq(cp.key_id, gw_audit_key_id(k));
    ck_assert_uint_eq(strlen(cp.signed_at), 27);
    sig_len = gw_audit__unhex(sig_hex, sig, sizeof(sig));
    ck_assert_int_gt(sig_len, 60);
    base_buf_init(&text, 0);
    ck_assert_int_eq(gw_audit__cp_canonical(&cp, &text), BASE_OK);
    snprintf(msg, sizeof(msg), "%s/cp.txt", dir);
    snprintf(sigf, sizeof(sigf), "%s/cp.sig", dir);
    write_file(msg, text.data, text.len);
    write_file(sigf, sig, (size_t)sig_len);
    ck_assert_int_eq(pt_run(argv, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "Verified OK"));
    free(out);
    /* and a changed checkpoint does not */
    text.data[text.len - 2] ^= 1;
    write_file(msg, text.data, text.len);
    ck_assert_int_ne(pt_run(argv, &out), 0);
    free(out);
    base_buf_fini(&text);
    base_free(sig_hex);
    gw_audit_key_free(k);
}
END_TEST

START_TEST(bad_keys_are_refused)
{
    struct gw_audit_key *k = NULL;
    struct base_err err = {0};
    char path[320];
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    FILE *f;

    ck_assert_int_eq(gw_audit_key_load_private("/nonexistent/key.pem", &k, &err), BASE_E_IO);
    base_err_clear(&err);
    snprintf(path, sizeof(path), "%s/garbage.pem", dir);
    write_file(path, "not a key\n", 10);
    ck_assert_int_eq(gw_audit_key_load_private(path, &k, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_audit_key_load_public(path, &k, &err), BASE_E_INVALID);
    base_err_clear(&err);
    /* a public key is not a private key */
    ck_assert_int_eq(gw_audit_key_load_private(pub, &k, &err), BASE_E_INVALID);
    base_err_clear(&err);
    snprintf(path, sizeof(path), "%s/rsa.pem", dir);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    ck_assert_int_eq(gw_audit_key_load_private(path, &k, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "audit signing key must be an EC P-256 key");
    base_err_clear(&err);
    snprintf(path, sizeof(path), "%s/p384.pem", dir);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, p384, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    ck_assert_int_eq(gw_audit_key_load_private(path, &k, &err), BASE_E_INVALID);
    ck_assert_ptr_null(k);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
    base_err_clear(&err);
    ck_assert_int_eq(gw_audit_key_generate("/nonexistent/dir/k.pem", NULL, &err), BASE_E_IO);
}
END_TEST

Suite *audit_sign_suite(void)
{
    Suite *s = suite_create("audit_sign");
    TCase *tc = tcase_create("sign");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, generated_keys_load_and_identify);
    tcase_add_test(tc, sign_and_verify);
    tcase_add_test(tc, checkpoint_signature_verifies_with_openssl);
    tcase_add_test(tc, bad_keys_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
