/* Access tokens: issue → verify → principal, role rules both ways, key
 * rotation, Bearer framing, the HTTP status and WWW-Authenticate mapping,
 * and form bodies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"
#include "test/unit/gateway/auth/auth_test.h"

#define NOW 1700000000LL

static EVP_PKEY *k_cur, *k_old;
static struct gw_auth_keyset *ks;
static struct gw_auth_token_config cfg;

static void
setup(void)
{
    char *pem;

    k_cur = tk_keygen("P-256");
    k_old = tk_keygen("RSA2048");
    ck_assert_int_eq(gw_auth_keyset_new(&ks, NULL), BASE_OK);
    pem = tk_pem(k_cur, true);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, pem, strlen(pem), "2026-11", NULL, true, NULL),
                     BASE_OK);
    free(pem);
    gw_auth_token_config_default(&cfg);
    cfg.issuer = "https://gw.test";
    cfg.audience = "https://gw.test/fhir";
}

static void
teardown(void)
{
    gw_auth_keyset_free(ks);
    EVP_PKEY_free(k_cur);
    EVP_PKEY_free(k_old);
}

static struct gw_auth_principal
clinician(struct base_arena *a)
{
    struct gw_auth_principal p = {0};

    p.role = GW_AUTH_ROLE_CLINICIAN;
    p.subject = "dr.wang";
    p.client_id = "portal";
    p.organization = "hospital-a";
    p.display_name = "王医生";
    p.purpose = GW_AUTH_POU_TREAT;
    ck_assert_int_eq(
        gw_auth_scopes_parse(a, base_str_from_cstr("openid user/*.rs"), &p.scopes, NULL), BASE_OK);
    return p;
}

START_TEST(issue_verify_round_trip)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_principal in = clinician(a);
    struct gw_auth_principal *out = NULL;
    struct base_err err = {0};
    char *tok = NULL;
    int64_t expires_in = 0;

    ck_assert_int_eq(gw_auth_token_issue(a, ks, &cfg, &in, NOW, &tok, &expires_in, &err), BASE_OK);
    ck_assert_int_eq(expires_in, GW_AUTH_USER_LIFETIME_DEFAULT);
    ck_assert_int_eq(gw_auth_token_verify(a, ks, &cfg, tok, strlen(tok), NOW + 10, &out, &err),
                     BASE_OK);
    ck_assert_int_eq(out->role, GW_AUTH_ROLE_CLINICIAN);
    ck_assert_str_eq(out->subject, "dr.wang");
    ck_assert_str_eq(out->client_id, "portal");
    ck_assert_str_eq(out->organization, "hospital-a");
    ck_assert_str_eq(out->display_name, "王医生");
    ck_assert_ptr_null(out->patient);
    ck_assert_int_eq(out->purpose, GW_AUTH_POU_TREAT);
    ck_assert_int_eq(out->issued_at, NOW);
    ck_assert_int_eq(out->expires_at, NOW + GW_AUTH_USER_LIFETIME_DEFAULT);
    ck_assert_uint_eq(strlen(out->token_id), 22);
    ck_assert(out->scopes.flags & GW_AUTH_SCOPE_OPENID);
    ck_assert(gw_auth_scope_allows(&out->scopes, "Observation", GW_AUTH_SEARCH));
    ck_assert(!gw_auth_scope_allows(&out->scopes, "Observation", GW_AUTH_CREATE));
    /* expired after its lifetime plus leeway */
    ck_assert_int_eq(gw_auth_token_verify(a, ks, &cfg, tok, strlen(tok),
                                          NOW + GW_AUTH_USER_LIFETIME_DEFAULT + 61, &out, &err),
                     BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "token has expired");
    ck_assert_uint_eq(gw_auth_http_status(&err), 401);
    base_arena_free(a);
}
END_TEST

START_TEST(member_system_gets_short_lifetime)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_principal p = {0};
    char *tok;
    int64_t life;

    p.role = GW_AUTH_ROLE_MEMBER_SYSTEM;
    p.subject = "hospital-a-his";
    p.organization = "hospital-a";
    p.purpose = GW_AUTH_POU_TREAT;
    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr("system/*.rs"), &p.scopes, NULL),
                     BASE_OK);
    ck_assert_int_eq(gw_auth_token_issue(a, ks, &cfg, &p, NOW, &tok, &life, NULL), BASE_OK);
    ck_assert_int_eq(life, GW_AUTH_SYSTEM_LIFETIME_DEFAULT);
    base_arena_free(a);
}
END_TEST

START_TEST(issue_refuses_principals_that_break_role_rules)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_principal p = clinician(a);
    struct base_err err = {0};
    char *tok;

    p.organization = NULL;
    ck_assert_int_eq(gw_auth_token_issue(a, ks, &cfg, &p, NOW, &tok, NULL, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "token.organization");
    base_err_clear(&err);
    p = clinician(a);
    p.role = GW_AUTH_ROLE_PATIENT;
    p.patient = "person-1";
    ck_assert_int_eq(gw_auth_token_issue(a, ks, &cfg, &p, NOW, &tok, NULL, &err), BASE_E_INVALID);
    base_err_clear(&err);
    p = clinician(a);
    p.purpose = GW_AUTH_POU_PATRQT;
    ck_assert_int_eq(gw_auth_token_issue(a, ks, &cfg, &p, NOW, &tok, NULL, &err), BASE_E_INVALID);
    base_err_clear(&err);
    p = clinician(a);
    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr("patient/*.rs"), &p.scopes, NULL),
                     BASE_OK);
    ck_assert_int_eq(gw_auth_token_issue(a, ks, &cfg, &p, NOW, &tok, NULL, &err), BASE_E_AUTH);
    base_arena_free(a);
}
END_TEST

/* Claims signed with our own key but shaped wrongly must still be refused. */
static int
verify_forged(const char *typ, const char *text, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    json_t *claims;
    char *tok;
    size_t len;
    struct gw_auth_principal *p;
    int rc;

    claims = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(claims);
    json_object_set_new(claims, "exp", json_integer(NOW + 100));
    json_object_set_new(claims, "iat", json_integer(NOW));
    ck_assert_int_eq(gw_auth_jwt_sign(a, ks, NULL, typ, claims, &tok, &len, NULL), BASE_OK);
    rc = gw_auth_token_verify(a, ks, &cfg, tok, len, NOW, &p, err);
    json_decref(claims);
    base_arena_free(a);
    return rc;
}

#define BASE_CLAIMS "\"iss\":\"https://gw.test\",\"aud\":\"https://gw.test/fhir\",\"jti\":\"j\""

START_TEST(verify_refuses_well_signed_but_wrong_tokens)
{
    struct base_err err = {0};
    const char *ok =
        "{" BASE_CLAIMS ",\"sub\":\"p1\",\"role\":\"patient\",\"patient\":\"person-1\","
        "\"purpose_of_use\":\"PATRQT\",\"scope\":\"patient/*.rs\"}";

    ck_assert_int_eq(verify_forged("at+jwt", ok, &err), BASE_OK);
    /* typ other than at+jwt: e.g. a client assertion or id token */
    ck_assert_int_eq(verify_forged("JWT", ok, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "token is not an access token");
    base_err_clear(&err);
    ck_assert_int_eq(verify_forged(NULL, ok, &err), BASE_E_AUTH);
    base_err_clear(&err);
    /* a patient with a user/ scope */
    ck_assert_int_eq(
        verify_forged("at+jwt",
                      "{" BASE_CLAIMS ",\"sub\":\"p1\",\"role\":\"patient\",\"patient\":"
                      "\"person-1\",\"purpose_of_use\":\"PATRQT\",\"scope\":\"user/*.rs\"}",
                      &err),
        BASE_E_AUTH);
    ck_assert_str_eq(err.issue_code, "login"); /* a bad token: 401, not 403 */
    base_err_clear(&err);
    ck_assert_int_eq(verify_forged("at+jwt",
                                   "{" BASE_CLAIMS ",\"sub\":\"x\",\"role\":\"superuser\","
                                   "\"purpose_of_use\":\"TREAT\",\"scope\":\"user/*.rs\"}",
                                   &err),
                     BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "token role is unknown");
    base_err_clear(&err);
    ck_assert_int_eq(verify_forged("at+jwt",
                                   "{" BASE_CLAIMS ",\"sub\":\"x\",\"role\":\"clinician\","
                                   "\"purpose_of_use\":\"TREAT\",\"scope\":\"user/*.rs\"}",
                                   &err),
                     BASE_E_AUTH);
    ck_assert_str_eq(err.where, "token.organization");
    base_err_clear(&err);
    ck_assert_int_eq(verify_forged("at+jwt",
                                   "{" BASE_CLAIMS ",\"sub\":\"x\",\"role\":\"clinician\","
                                   "\"organization\":\"h\",\"scope\":\"user/*.rs\"}",
                                   &err),
                     BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "token is missing required claim purpose_of_use");
    base_err_clear(&err);
    ck_assert_int_eq(verify_forged("at+jwt",
                                   "{" BASE_CLAIMS ",\"sub\":\"x\",\"role\":\"clinician\","
                                   "\"organization\":\"h\\u0001\",\"purpose_of_use\":\"TREAT\","
                                   "\"scope\":\"user/*.rs\"}",
                                   &err),
                     BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "token claim organization contains control characters");
}
END_TEST

START_TEST(rotation_old_key_still_verifies)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_keyset *old_ks;
    struct gw_auth_keyset *new_ks;
    struct gw_auth_principal in = clinician(a);
    struct gw_auth_principal *out;
    struct base_err err = {0};
    char *old_pem = tk_pem(k_old, true);
    char *cur_pem = tk_pem(k_cur, true);
    char *tok;

    /* before: the old RSA key signs */
    ck_assert_int_eq(gw_auth_keyset_new(&old_ks, NULL), BASE_OK);
    ck_assert_int_eq(
        gw_auth_keyset_add_pem(old_ks, old_pem, strlen(old_pem), "2026-10", NULL, true, NULL),
        BASE_OK);
    ck_assert_int_eq(gw_auth_token_issue(a, old_ks, &cfg, &in, NOW, &tok, NULL, NULL), BASE_OK);
    /* after: the new key signs, the old one only verifies */
    ck_assert_int_eq(gw_auth_keyset_new(&new_ks, NULL), BASE_OK);
    ck_assert_int_eq(
        gw_auth_keyset_add_pem(new_ks, cur_pem, strlen(cur_pem), "2026-11", NULL, true, NULL),
        BASE_OK);
    ck_assert_int_eq(
        gw_auth_keyset_add_pem(new_ks, old_pem, strlen(old_pem), "2026-10", NULL, false, NULL),
        BASE_OK);
    ck_assert_int_eq(gw_auth_token_verify(a, new_ks, &cfg, tok, strlen(tok), NOW, &out, &err),
                     BASE_OK);
    /* once the old key is retired, its tokens fail on kid */
    ck_assert_int_eq(gw_auth_token_verify(a, ks, &cfg, tok, strlen(tok), NOW, &out, &err),
                     BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "token key id (kid) is unknown");
    free(old_pem);
    free(cur_pem);
    gw_auth_keyset_free(old_ks);
    gw_auth_keyset_free(new_ks);
    base_arena_free(a);
}
END_TEST

START_TEST(bearer_header_and_challenge)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_principal in = clinician(a);
    struct gw_auth_principal *out;
    struct base_err err = {0};
    struct base_buf ch;
    char *tok;
    char hdr[2048];

    ck_assert_int_eq(gw_auth_token_issue(a, ks, &cfg, &in, NOW, &tok, NULL, NULL), BASE_OK);
    snprintf(hdr, sizeof(hdr), "bearer   %s ", tok);
    ck_assert_int_eq(gw_auth_bearer_verify(a, ks, &cfg, hdr, strlen(hdr), NOW, &out, &err),
                     BASE_OK);
    ck_assert_str_eq(out->subject, "dr.wang");

    ck_assert_int_eq(gw_auth_bearer_verify(a, ks, &cfg, NULL, 0, NOW, &out, &err), BASE_E_AUTH);
    base_buf_init(&ch, 0);
    ck_assert_int_eq(gw_auth_challenge(&err, &ch), BASE_OK);
    ck_assert_str_eq(ch.data, "Bearer realm=\"fhirgate\"");
    ck_assert_uint_eq(gw_auth_http_status(&err), 401);
    base_buf_reset(&ch);
    base_err_clear(&err);

    ck_assert_int_eq(gw_auth_bearer_verify(a, ks, &cfg, "Basic YTpi", 10, NOW, &out, &err),
                     BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "authorization scheme must be Bearer");
    base_err_clear(&err);

    snprintf(hdr, sizeof(hdr), "Bearer %sx", tok);
    ck_assert_int_eq(gw_auth_bearer_verify(a, ks, &cfg, hdr, strlen(hdr), NOW, &out, &err),
                     BASE_E_AUTH);
    ck_assert_int_eq(gw_auth_challenge(&err, &ch), BASE_OK);
    ck_assert_ptr_nonnull(strstr(ch.data, "error=\"invalid_token\""));
    ck_assert_ptr_null(strstr(ch.data, tok));
    base_buf_reset(&ch);
    base_err_clear(&err);

    (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "scope", "scope does not allow \"x\"");
    ck_assert_uint_eq(gw_auth_http_status(&err), 403);
    ck_assert_int_eq(gw_auth_challenge(&err, &ch), BASE_OK);
    ck_assert_str_eq(ch.data, "Bearer realm=\"fhirgate\", error=\"insufficient_scope\", "
                              "error_description=\"scope does not allow  x \"");
    base_err_clear(&err);
    (void)base_err_set(&err, BASE_E_AUTH, "throttled", "x", "slow down");
    ck_assert_uint_eq(gw_auth_http_status(&err), 429);
    base_err_clear(&err);
    (void)base_err_set(&err, BASE_E_IO, "exception", "x", "db");
    ck_assert_uint_eq(gw_auth_http_status(&err), 503);
    base_buf_fini(&ch);
    base_arena_free(a);
}
END_TEST

static int
header(struct base_arena *a, const char *v, struct gw_auth_credentials *c, struct base_err *err)
{
    return gw_auth_header_parse(a, v, strlen(v), c, err);
}

START_TEST(authorization_header_framing)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_credentials c;
    struct base_err err = {0};
    char big[BASE_LIMIT_AUTH_MAX_HEADER + 8];

    ck_assert_int_eq(header(a, "Bearer abc.def-_~+/==", &c, &err), BASE_OK);
    ck_assert_int_eq(c.scheme, GW_AUTH_SCHEME_BEARER);
    ck_assert(base_str_eq_cstr(c.token, "abc.def-_~+/=="));
    /* RFC 7617 §2 example: Aladdin / open sesame */
    ck_assert_int_eq(header(a, "BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c, &err), BASE_OK);
    ck_assert_int_eq(c.scheme, GW_AUTH_SCHEME_BASIC);
    ck_assert_str_eq(c.user, "Aladdin");
    ck_assert_str_eq(c.password, "open sesame");
    ck_assert_int_eq(header(a, "", &c, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "request has no access token");
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Digest abc", &c, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "authorization scheme is not supported");
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Bearer", &c, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "authorization header has no credentials");
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Bearer a b", &c, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "authorization credentials are malformed");
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Bearer =abc", &c, &err), BASE_E_AUTH);
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Bearer a=b", &c, &err), BASE_E_AUTH);
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Basic QWxhZGRpbg==", &c, &err), BASE_E_AUTH); /* no colon */
    ck_assert_str_eq(err.msg, "basic credentials need a user-id and a password");
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", &c, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "basic credentials are not valid base64");
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Basic YTpiAWM=", &c, &err), BASE_E_AUTH); /* "a:b\x01c" */
    ck_assert_str_eq(err.msg, "basic credentials contain control characters");
    base_err_clear(&err);
    ck_assert_int_eq(header(a, "Basic YTr/", &c, &err), BASE_E_AUTH); /* "a:\xff" */
    ck_assert_str_eq(err.msg, "basic credentials are not UTF-8");
    base_err_clear(&err);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "Bearer ", 7);
    ck_assert_int_eq(header(a, big, &c, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.msg, "authorization header exceeds 8192 bytes");
    base_arena_free(a);
}
END_TEST

START_TEST(form_bodies)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_form f;
    struct base_err err = {0};
    const char *body = "grant_type=password&username=dr.wang&password=p%40ss+w%C3%B6rd&&scope=";
    char many[512] = "";

    ck_assert_int_eq(gw_auth_form_parse(a, body, strlen(body), &f, &err), BASE_OK);
    ck_assert_uint_eq(f.count, 4);
    ck_assert_str_eq(gw_auth_form_get(&f, "password"), "p@ss wörd");
    ck_assert_str_eq(gw_auth_form_get(&f, "scope"), "");
    ck_assert_ptr_null(gw_auth_form_get(&f, "client_id"));
    ck_assert_int_eq(gw_auth_form_parse(a, "a=1&a=2", 7, &f, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.msg, "request repeats a field");
    ck_assert_str_eq(err.where, "form[1]");
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_form_parse(a, "a=%4", 4, &f, &err), BASE_E_PARSE);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_form_parse(a, "a=%zz", 5, &f, &err), BASE_E_PARSE);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_form_parse(a, "a=%00", 5, &f, &err), BASE_E_PARSE);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_form_parse(a, "a=%ff", 5, &f, &err), BASE_E_PARSE);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_form_parse(a, "=x", 2, &f, &err), BASE_E_PARSE);
    base_err_clear(&err);
    for (unsigned i = 0, at = 0; i <= BASE_LIMIT_AUTH_MAX_FORM_FIELDS; i++)
        at += (unsigned)snprintf(many + at, sizeof(many) - at, "k%u=v&", i);
    ck_assert_int_eq(gw_auth_form_parse(a, many, strlen(many), &f, &err), BASE_E_LIMIT);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_form_parse(a, many, BASE_LIMIT_AUTH_MAX_FORM + 1, &f, &err),
                     BASE_E_LIMIT);
    base_arena_free(a);
}
END_TEST

Suite *gw_auth_token_suite(void)
{
    Suite *s = suite_create("gw_auth_token");
    TCase *tc = tcase_create("token");

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, issue_verify_round_trip);
    tcase_add_test(tc, member_system_gets_short_lifetime);
    tcase_add_test(tc, issue_refuses_principals_that_break_role_rules);
    tcase_add_test(tc, verify_refuses_well_signed_but_wrong_tokens);
    tcase_add_test(tc, rotation_old_key_still_verifies);
    tcase_add_test(tc, bearer_header_and_challenge);
    tcase_add_test(tc, authorization_header_framing);
    tcase_add_test(tc, form_bodies);
    suite_add_tcase(s, tc);
    return s;
}
