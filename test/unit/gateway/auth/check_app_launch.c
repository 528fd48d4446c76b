/* The pure parts of SMART App Launch: PKCE (RFC 7636), redirect URI rules
 * (RFC 6749 §3.1.2, RFC 8252), redirect building, HTML escaping, and the
 * authorize request reader and checks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "gateway/auth/gw_auth.h"

/* RFC 7636 Appendix B */
#define VERIFIER  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

START_TEST(pkce_s256)
{
    char v128[129];

    ck_assert(gw_auth_pkce_s256_matches(VERIFIER, strlen(VERIFIER), CHALLENGE));
    ck_assert(!gw_auth_pkce_s256_matches(VERIFIER, strlen(VERIFIER) - 1, CHALLENGE));
    ck_assert(
        !gw_auth_pkce_s256_matches("eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 43, CHALLENGE));
    ck_assert(!gw_auth_pkce_s256_matches(VERIFIER, strlen(VERIFIER), VERIFIER));
    /* plain (challenge == verifier) never matches under S256 */
    ck_assert(!gw_auth_pkce_s256_matches(CHALLENGE, strlen(CHALLENGE), CHALLENGE));
    ck_assert(gw_auth_pkce_challenge_ok(CHALLENGE, 43));
    ck_assert(!gw_auth_pkce_challenge_ok(CHALLENGE, 42));
    ck_assert(!gw_auth_pkce_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", 43));
    /* the last character's unused bits must be zero (canonical base64url) */
    ck_assert(!gw_auth_pkce_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", 43));
    ck_assert(gw_auth_pkce_verifier_ok(VERIFIER, 43));
    ck_assert(!gw_auth_pkce_verifier_ok(VERIFIER, 42));
    memset(v128, 'a', 128);
    v128[128] = '\0';
    ck_assert(gw_auth_pkce_verifier_ok(v128, 128));
    ck_assert(
        !gw_auth_pkce_verifier_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa+", 54));
    ck_assert(gw_auth_pkce_verifier_ok("~.-_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 49));
    ck_assert(!gw_auth_pkce_verifier_ok(NULL, 0));
}
END_TEST

START_TEST(redirect_uri_rules)
{
    static const char *ok[] = {"https://app.example/cb", "https://app.example:8443/a/b?x=1",
                               "http://127.0.0.1/cb",    "http://127.0.0.1:51004/cb",
                               "http://[::1]:8080/",     "http://localhost:3000/callback",
                               "https://app.example"};
    static const char *bad[] = {"",
                                "http://app.example/cb",
                                "https://app.example/cb#frag",
                                "https://user@app.example/cb",
                                "https:///cb",
                                "https://app.example:/cb",
                                "https://app.example:123456/cb",
                                "com.example.app:/cb",
                                "javascript:alert(1)",
                                "https://app.example/c b",
                                "https://app.example/\"x",
                                "https://app.example/<x>",
                                "https://[::1/cb",
                                "https://app%2Eexample/cb",
                                "HTTPS://app.example/cb"};
    struct base_err err = {0};
    char longer[BASE_LIMIT_AUTH_MAX_REDIRECT_URI + 2];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        ck_assert_msg(gw_auth_redirect_uri_check(ok[i], &err) == BASE_OK, "%s: %s", ok[i], err.msg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        ck_assert_msg(gw_auth_redirect_uri_check(bad[i], &err) == BASE_E_INVALID, "%s", bad[i]);
        ck_assert_str_eq(err.where, "redirect_uri");
        /* the message never quotes the URI */
        ck_assert(bad[i][0] == '\0' || strstr(err.msg, bad[i]) == NULL);
    }
    memcpy(longer, "https://a/", 10);
    memset(longer + 10, 'x', sizeof(longer) - 11);
    longer[sizeof(longer) - 1] = '\0';
    ck_assert_int_eq(gw_auth_redirect_uri_check(longer, &err), BASE_E_INVALID);
    ck_assert_int_eq(gw_auth_redirect_uri_check(NULL, &err), BASE_E_INVALID);
}
END_TEST

START_TEST(redirect_uri_matching)
{
    ck_assert(gw_auth_redirect_uri_matches("https://app.example/cb", "https://app.example/cb"));
    ck_assert(!gw_auth_redirect_uri_matches("https://app.example/cb", "https://app.example/cb/"));
    ck_assert(!gw_auth_redirect_uri_matches("https://app.example/cb", "https://app.example/CB"));
    ck_assert(!gw_auth_redirect_uri_matches("https://app.example/cb", "https://app.example/cb?x"));
    ck_assert(
        !gw_auth_redirect_uri_matches("https://app.example/cb", "https://app.example:443/cb"));
    ck_assert(!gw_auth_redirect_uri_matches("https://app.example:8443/cb",
                                            "https://app.example:9443/cb"));
    /* RFC 8252 §7.3: loopback http may change its port, nothing else */
    ck_assert(gw_auth_redirect_uri_matches("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb"));
    ck_assert(gw_auth_redirect_uri_matches("http://127.0.0.1:80/cb", "http://127.0.0.1:1/cb"));
    ck_assert(gw_auth_redirect_uri_matches("http://[::1]/cb", "http://[::1]:9/cb"));
    ck_assert(!gw_auth_redirect_uri_matches("http://127.0.0.1/cb", "http://127.0.0.1:5/cb2"));
    ck_assert(!gw_auth_redirect_uri_matches("http://127.0.0.1/cb", "http://localhost:5/cb"));
    ck_assert(!gw_auth_redirect_uri_matches("http://127.0.0.1/cb", "https://127.0.0.1:5/cb"));
    ck_assert(!gw_auth_redirect_uri_matches("http://127.0.0.1/cb", "http://127.0.0.1:5/cb#x"));
    ck_assert(!gw_auth_redirect_uri_matches(NULL, "https://app.example/cb"));
}
END_TEST

START_TEST(redirect_building)
{
    struct base_arena *a = base_arena_new(0);
    const char *p1[] = {"code", "abc", "state", "a b&c=<'>", NULL};
    const char *p2[] = {"error", "access_denied", "state", NULL, NULL};

    ck_assert_str_eq(gw_auth_redirect_build(a, "https://app.example/cb", p1),
                     "https://app.example/cb?code=abc&state=a%20b%26c%3D%3C%27%3E");
    ck_assert_str_eq(gw_auth_redirect_build(a, "https://app.example/cb?x=1", p2),
                     "https://app.example/cb?x=1&error=access_denied");
    ck_assert_str_eq(gw_auth_redirect_build(a, "https://app.example/cb?", p2),
                     "https://app.example/cb?error=access_denied");
    ck_assert_str_eq(gw_auth_redirect_origin(a, "https://app.example:8443/cb?x"),
                     "https://app.example:8443");
    ck_assert_str_eq(gw_auth_redirect_origin(a, "http://127.0.0.1/cb"), "http://127.0.0.1");
    ck_assert_ptr_null(gw_auth_redirect_origin(a, "ftp://x/"));
    base_arena_free(a);
}
END_TEST

START_TEST(html_escaping)
{
    struct base_buf b;

    base_buf_init(&b, 1024);
    ck_assert_int_eq(gw_auth_html_escape(&b, "<script>alert(\"x\" & 'y')</script>"), BASE_OK);
    ck_assert_str_eq(b.data, "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
    base_buf_fini(&b);
    base_buf_init(&b, 1024);
    ck_assert_int_eq(gw_auth_html_escape(&b, "plain 文字"), BASE_OK);
    ck_assert_str_eq(b.data, "plain 文字");
    base_buf_fini(&b);
    base_buf_init(&b, 4);
    ck_assert_int_ne(gw_auth_html_escape(&b, "<<<<<<"), BASE_OK); /* bounded */
    base_buf_fini(&b);
}
END_TEST

static struct gw_auth_authz_request
read_ok(struct base_arena *a, const char *q)
{
    struct gw_auth_form f;
    struct gw_auth_authz_request rq;
    struct base_err err = {0};

    ck_assert_int_eq(gw_auth_form_parse(a, q, strlen(q), &f, &err), BASE_OK);
    ck_assert_msg(gw_auth_authz_request_read(a, &f, &rq, &err) == BASE_OK, "%s", err.msg);
    return rq;
}

static void
read_fails(struct base_arena *a, const char *q, int rc, const char *where)
{
    struct gw_auth_form f;
    struct gw_auth_authz_request rq;
    struct base_err err = {0};

    ck_assert_int_eq(gw_auth_form_parse(a, q, strlen(q), &f, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_authz_request_read(a, &f, &rq, &err), rc);
    ck_assert_str_eq(err.where, where);
}

#define BASE "client_id=c&redirect_uri=https%3A%2F%2Fa.example%2Fcb"

START_TEST(authz_request_reading)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_authz_request rq;
    const char *d = NULL;
    char q[4096];

    rq = read_ok(a, BASE "&response_type=code&scope=patient%2F*.rs&state=s&aud=https%3A%2F%2Fg"
                         "%2Ffhir&code_challenge=" CHALLENGE "&code_challenge_method=S256");
    ck_assert_str_eq(rq.redirect_uri, "https://a.example/cb");
    ck_assert_ptr_null(gw_auth_authz_request_check(a, &rq, "https://g/fhir", &d));
    ck_assert_str_eq(gw_auth_authz_request_check(a, &rq, "https://g/other", &d), "invalid_request");
    ck_assert_ptr_nonnull(strstr(d, "aud"));
    rq.code_challenge_method = "plain";
    ck_assert_str_eq(gw_auth_authz_request_check(a, &rq, "https://g/fhir", &d), "invalid_request");
    rq.code_challenge_method = "S256";
    rq.scope = "patient/Observation.zz";
    ck_assert_str_eq(gw_auth_authz_request_check(a, &rq, "https://g/fhir", &d), "invalid_scope");
    rq.response_type = NULL;
    ck_assert_str_eq(gw_auth_authz_request_check(a, &rq, "https://g/fhir", &d), "invalid_request");
    read_fails(a, "redirect_uri=https%3A%2F%2Fa.example%2Fcb", BASE_E_INVALID, "client_id");
    read_fails(a, "client_id=&redirect_uri=https%3A%2F%2Fa.example%2Fcb", BASE_E_INVALID,
               "client_id");
    read_fails(a, "client_id=c", BASE_E_INVALID, "redirect_uri");
    read_fails(a, "client_id=c&redirect_uri=http%3A%2F%2Fa.example%2Fcb", BASE_E_INVALID,
               "redirect_uri");
    memset(q, 0, sizeof(q));
    snprintf(q, sizeof(q), "%s", BASE "&state=");
    memset(q + strlen(q), 'x', BASE_LIMIT_AUTH_MAX_STATE + 1);
    read_fails(a, q, BASE_E_LIMIT, "state");
    base_arena_free(a);
}
END_TEST

Suite *
gw_auth_app_launch_suite(void)
{
    Suite *s = suite_create("gw_auth_app_launch");
    TCase *tc = tcase_create("pure");

    tcase_add_test(tc, pkce_s256);
    tcase_add_test(tc, redirect_uri_rules);
    tcase_add_test(tc, redirect_uri_matching);
    tcase_add_test(tc, redirect_building);
    tcase_add_test(tc, html_escaping);
    tcase_add_test(tc, authz_request_reading);
    suite_add_tcase(s, tc);
    return s;
}
