/* HTTPS: protocol versions, client certificates (mTLS) and identity. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/http/gw_http.h"
#include "test/integration/http_fixture.h"

static struct tu_pki P;         /* the region CA with server + client certs */
static struct tu_pki OTHER;     /* another CA */
static char expired_cert[600], expired_key[600];
static char future_cert[600], future_key[600];
static char revoked_cert[600], revoked_key[600];

static void
make_pki(void)
{
    static bool done;

    if (done)
        return;
    ck_assert_int_eq(tu_pki_make("tls-region", &P), 0);
    ck_assert_int_eq(tu_pki_make("tls-other", &OTHER), 0);
    ck_assert_int_eq(tu_ca((const char *[]){"client", P.dir, "old", "--not-before",
                                            "20200101000000Z", "--not-after", "20200201000000Z",
                                            NULL},
                           expired_cert, sizeof(expired_cert), expired_key, sizeof(expired_key)),
                     0);
    ck_assert_int_eq(tu_ca((const char *[]){"client", P.dir, "future", "--not-before",
                                            "20400101000000Z", "--not-after", "20410101000000Z",
                                            NULL},
                           future_cert, sizeof(future_cert), future_key, sizeof(future_key)),
                     0);
    ck_assert_int_eq(tu_ca((const char *[]){"client", P.dir, "gone", NULL}, revoked_cert,
                           sizeof(revoked_cert), revoked_key, sizeof(revoked_key)),
                     0);
    ck_assert_int_eq(tu_ca((const char *[]){"revoke", P.dir, "gone", NULL}, NULL, 0, NULL, 0), 0);
    done = true;
}

/* The handler shows what it was told about the client. */
static void
h_whoami(struct gw_http_req *r, void *cls)
{
    const struct gw_http_client *c = gw_http_req_client(r);
    json_t *v;

    (void)cls;
    v = json_pack("{s:b, s:b, s:s?, s:s?, s:s?, s:s?, s:s, s:s?}", "present", c->present,
                  "verified", c->verified, "cn", c->subject_cn, "o", c->subject_o, "dn",
                  c->subject_dn, "issuer", c->issuer_dn, "sha256", c->sha256, "reason", c->reason);
    if (v == NULL || gw_http_respond_json(r, 200, v) != BASE_OK)
        abort();
    json_decref(v);
}

static const struct gw_http_route routes[] = {
    {"GET", "/whoami", h_whoami, NULL},
};

static struct fx F;

static void
start_tls(enum gw_http_client_auth auth, const char *priorities, const char *crl)
{
    make_pki();
    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.plain_http = false;
    F.cfg.cert_file = P.server_cert;
    F.cfg.key_file = P.server_key;
    F.cfg.client_ca_file = P.ca;
    F.cfg.client_crl_file = crl;
    F.cfg.client_auth = auth;
    F.cfg.tls_priorities = priorities;
    fx_start(&F);
}

static json_t *
whoami(const char *cert, const char *key, long *status, char *reason, size_t cap)
{
    struct tu_http_opts o = {.ca_file = P.ca, .cert_file = cert, .key_file = key};
    struct tu_http_resp r;
    json_t *v = NULL;

    tu_http_request(fx_url(&F, "/whoami"), &o, &r);
    *status = r.status;
    reason[0] = '\0';
    if (r.status == 200) {
        v = json_loadb(r.body, r.body_len, 0, NULL);
    } else if (r.status != 0) {
        json_t *oo = json_loadb(r.body, r.body_len, 0, NULL);
        const char *d = json_string_value(
            json_object_get(json_array_get(json_object_get(oo, "issue"), 0), "diagnostics"));

        snprintf(reason, cap, "%s", d != NULL ? d : "");
        json_decref(oo);
    }
    tu_http_resp_free(&r);
    return v;
}

START_TEST(tls12_and_tls13_work)
{
    struct tu_http_opts o12 = {.ca_file = NULL, .tls_max = CURL_SSLVERSION_MAX_TLSv1_2};
    struct tu_http_opts o13 = {.tls_min = CURL_SSLVERSION_TLSv1_3};
    struct tu_http_resp r;
    char h[128];

    start_tls(GW_HTTP_CLIENT_AUTH_NONE, NULL, NULL);
    o12.ca_file = o13.ca_file = P.ca;
    tu_http_request(fx_url(&F, "/whoami"), &o12, &r);
    ck_assert_msg(r.status == 200, "%s", r.error);
    ck_assert_str_eq(r.tls_version, "TLSv1.2");
    ck_assert_str_eq(tu_http_header(&r, "Strict-Transport-Security", h, sizeof(h)),
                     "max-age=31536000; includeSubDomains");
    tu_http_resp_free(&r);
    tu_http_request(fx_url(&F, "/whoami"), &o13, &r);
    ck_assert_msg(r.status == 200, "%s", r.error);
    ck_assert_str_eq(r.tls_version, "TLSv1.3");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

/* A client that offers only TLS 1.0 (or 1.1), with OpenSSL's security
 * level lowered so that the client itself is willing. */
static long
old_tls_status(long min, long max, char *ver, size_t cap)
{
    struct tu_http_opts o = {.ca_file = P.ca, .tls_min = min, .tls_max = max,
                             .ciphers = "DEFAULT@SECLEVEL=0"};
    struct tu_http_resp r;
    long st;

    tu_http_request(fx_url(&F, "/whoami"), &o, &r);
    st = r.status;
    snprintf(ver, cap, "%s", r.tls_version);
    tu_http_resp_free(&r);
    return st;
}

START_TEST(tls10_and_tls11_are_refused)
{
    char ver[16];

    start_tls(GW_HTTP_CLIENT_AUTH_NONE, NULL, NULL);
    ck_assert_int_eq(old_tls_status(CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0, ver,
                                    sizeof(ver)),
                     0);
    ck_assert_int_eq(old_tls_status(CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_1, ver,
                                    sizeof(ver)),
                     0);
    fx_stop(&F);
    /* control: the same clients get through to a server with GnuTLS's
     * permissive defaults, so the refusal above is the server's doing */
    start_tls(GW_HTTP_CLIENT_AUTH_NONE, "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1", NULL);
    ck_assert_int_eq(old_tls_status(CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0, ver,
                                    sizeof(ver)),
                     200);
    ck_assert_str_eq(ver, "TLSv1");
    ck_assert_int_eq(old_tls_status(CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_1, ver,
                                    sizeof(ver)),
                     200);
    ck_assert_str_eq(ver, "TLSv1.1");
    fx_stop(&F);
}
END_TEST

START_TEST(mtls_without_certificate_is_401)
{
    struct tu_http_opts o = {.ca_file = NULL};
    struct tu_http_resp r;

    start_tls(GW_HTTP_CLIENT_AUTH_REQUIRED, NULL, NULL);
    o.ca_file = P.ca;
    tu_http_request(fx_url(&F, "/whoami"), &o, &r);
    ck_assert_int_eq(r.status, 401);
    fx_assert_outcome(&r, "login");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

static void
expect_refused(const char *cert, const char *key, const char *why)
{
    char reason[256];
    long st;
    json_t *v = whoami(cert, key, &st, reason, sizeof(reason));

    ck_assert_ptr_null(v);
    ck_assert_int_eq(st, 403);
    ck_assert_msg(strstr(reason, why) != NULL, "reason '%s' lacks '%s'", reason, why);
}

START_TEST(mtls_refuses_foreign_expired_future_and_wrong_purpose)
{
    start_tls(GW_HTTP_CLIENT_AUTH_REQUIRED, NULL, NULL);
    expect_refused(OTHER.client_cert, OTHER.client_key, "unknown issuer");
    expect_refused(expired_cert, expired_key, "expired");
    expect_refused(future_cert, future_key, "not yet valid");
    /* a server certificate of the right CA is not a client certificate */
    expect_refused(P.server_cert, P.server_key, "not issued for client authentication");
    fx_stop(&F);
}
END_TEST

START_TEST(mtls_refuses_revoked_certificate)
{
    char reason[256];
    long st;
    json_t *v;

    start_tls(GW_HTTP_CLIENT_AUTH_REQUIRED, NULL, P.crl);
    expect_refused(revoked_cert, revoked_key, "revoked");
    v = whoami(P.client_cert, P.client_key, &st, reason, sizeof(reason));
    ck_assert_int_eq(st, 200);
    json_decref(v);
    fx_stop(&F);
}
END_TEST

static void
sha256_of(const char *pem, char out[65])
{
    FILE *f = fopen(pem, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char md[32];
    unsigned n = 0;

    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_digest(x, EVP_sha256(), md, &n), 1);
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    X509_free(x);
    fclose(f);
}

START_TEST(mtls_identity_reaches_the_handler)
{
    char reason[256];
    char fp[65];
    long st;
    json_t *v;

    start_tls(GW_HTTP_CLIENT_AUTH_REQUIRED, NULL, P.crl);
    v = whoami(P.client_cert, P.client_key, &st, reason, sizeof(reason));
    ck_assert_msg(st == 200, "status %ld: %s", st, reason);
    ck_assert(json_is_true(json_object_get(v, "present")));
    ck_assert(json_is_true(json_object_get(v, "verified")));
    ck_assert_str_eq(json_string_value(json_object_get(v, "cn")), "hospital-a.example");
    ck_assert_str_eq(json_string_value(json_object_get(v, "o")), "Hospital A");
    /* RFC 4514 order: the last RDN first (as nginx's $ssl_client_s_dn) */
    ck_assert_str_eq(json_string_value(json_object_get(v, "dn")),
                     "O=Hospital A,CN=hospital-a.example");
    ck_assert_str_eq(json_string_value(json_object_get(v, "issuer")), "CN=fhirgate region CA");
    sha256_of(P.client_cert, fp);
    ck_assert_str_eq(json_string_value(json_object_get(v, "sha256")), fp);
    ck_assert(json_is_null(json_object_get(v, "reason")));
    json_decref(v);
    fx_stop(&F);
}
END_TEST

START_TEST(optional_mtls_allows_anonymous_but_not_bad_certificates)
{
    char reason[256];
    long st;
    json_t *v;

    start_tls(GW_HTTP_CLIENT_AUTH_OPTIONAL, NULL, NULL);
    v = whoami(NULL, NULL, &st, reason, sizeof(reason));
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_false(json_object_get(v, "present")));
    ck_assert(json_is_false(json_object_get(v, "verified")));
    json_decref(v);
    expect_refused(OTHER.client_cert, OTHER.client_key, "unknown issuer");
    v = whoami(P.client_cert, P.client_key, &st, reason, sizeof(reason));
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_true(json_object_get(v, "verified")));
    json_decref(v);
    fx_stop(&F);
}
END_TEST

START_TEST(start_fails_on_bad_tls_material)
{
    struct gw_http_server *s = NULL;
    struct base_err err = {0};

    make_pki();
    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.plain_http = false;
    F.cfg.cert_file = "/nonexistent/server.crt";
    F.cfg.key_file = P.server_key;
    ck_assert_int_eq(gw_http_server_start(&F.cfg, &s, &err), BASE_E_IO);
    ck_assert_str_eq(err.where, "cert");
    memset(&err, 0, sizeof(err));
    F.cfg.cert_file = P.server_cert;
    F.cfg.tls_priorities = "NOT-A-PRIORITY";
    ck_assert_int_eq(gw_http_server_start(&F.cfg, &s, &err), BASE_E_IO);
    memset(&err, 0, sizeof(err));
    F.cfg.tls_priorities = NULL;
    F.cfg.client_auth = GW_HTTP_CLIENT_AUTH_REQUIRED;
    F.cfg.client_ca_file = NULL;
    ck_assert_int_eq(gw_http_server_start(&F.cfg, &s, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "client_ca");
    memset(&err, 0, sizeof(err));
    F.cfg.client_ca_file = P.ca;
    F.cfg.client_crl_file = OTHER.crl; /* signed by another CA */
    ck_assert_int_eq(gw_http_server_start(&F.cfg, &s, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "client_crl");
    ck_assert_ptr_null(s);
}
END_TEST

Suite *http_tls_suite(void)
{
    Suite *s = suite_create("http_tls");
    TCase *tc = tcase_create("tls");

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, make_pki, NULL);
    tcase_add_test(tc, tls12_and_tls13_work);
    tcase_add_test(tc, tls10_and_tls11_are_refused);
    tcase_add_test(tc, mtls_without_certificate_is_401);
    tcase_add_test(tc, mtls_refuses_foreign_expired_future_and_wrong_purpose);
    tcase_add_test(tc, mtls_refuses_revoked_certificate);
    tcase_add_test(tc, mtls_identity_reaches_the_handler);
    tcase_add_test(tc, optional_mtls_allows_anonymous_but_not_bad_certificates);
    tcase_add_test(tc, start_fails_on_bad_tls_material);
    suite_add_tcase(s, tc);
    return s;
}
