/*
 * test/integration/check_app_launch.c — SMART App Launch 2.0 standalone
 * launch against bin/fhirgate-gateway for real (HTTPS, a private
 * PostgreSQL, one member over mTLS): an app registered with `fhirgate
 * client add-app`, the browser's GET /auth/authorize, the sign-in form's
 * POST, the code redeemed with PKCE at /auth/token, and a FHIR read with
 * the token; then every refusal (PKCE, redirect URI, code reuse and
 * expiry, client, denial, lockout), the audit rows and the discovery
 * documents.
 */
#include <check.h>

#include <openssl/evp.h>

#include "test/integration/gateway_it.h"
#include "test/support/runcli.h"

static struct git_gw G;
static struct git_member M[] = {
    {.id = "hosp-a", .name = "Hospital A", .mode = GIT_OK, .patients = {"p1"}},
};

static pid_t MEMBERS;
static char *P1;

#define PW     "correct horse battery"
#define AUD    "https%3A%2F%2F127.0.0.1%3A1%2Ffhir"
#define CB     "https://app.example/cb"
#define CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
/* RFC 7636 Appendix B */
#define VERIFIER  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define PKCE      "&code_challenge=" CHALLENGE "&code_challenge_method=S256"
#define AUTHZ                                                                                      \
    "/auth/authorize?response_type=code&client_id=growth-chart&redirect_uri=" CB_ENC               \
    "&scope=launch%2Fpatient+patient%2F*.rs+openid+fhirUser&nonce=n1&aud=" AUD

static void
add_app(const char *id, const char *uri, const char *scope)
{
    struct tu_run run;

    /* --database, not the environment: this runs in the suite's own process
     * (an unchecked fixture), and the other suites must not inherit a URL */
    ck_assert_int_eq(tu_run((const char *[]){tu_bin("fhirgate"), "client", "add-app", id, "--name",
                                             "Growth <Chart>", "--redirect-uri", uri,
                                             "--redirect-uri", "http://127.0.0.1/native", "--scope",
                                             scope, "--database", G.db_url, NULL},
                            &run),
                     0);
    ck_assert_msg(run.status == 0, "add-app: %s", run.err);
    tu_run_free(&run);
}

static void
setup(void)
{
    base_log_set_level(BASE_LOG_ERROR);
    git_prepare(&G, "applaunch");
    MEMBERS = git_members_spawn(M, 1, &G.pki, G.foreign_cert, G.foreign_key);
    git_write_conf(&G, M, 1, NULL);
    git_start(&G);
    P1 = git_person(&G, "p1", 1);
    ck_assert_msg(P1 != NULL, "the identity pull did not link p1");
    git_user(&G, "pat1", PW, GW_AUTH_ROLE_PATIENT, NULL, P1);
    git_user(&G, "dr.a", PW, GW_AUTH_ROLE_CLINICIAN, "hosp-a", NULL);
    git_user(&G, "locky", PW, GW_AUTH_ROLE_PATIENT, NULL, P1);
    git_user(&G, "pat2", PW, GW_AUTH_ROLE_PATIENT, NULL, P1);
    git_user(&G, "dr_b@hosp-a", PW, GW_AUTH_ROLE_CLINICIAN, "hosp-a", NULL);
    git_user(&G, "adm", PW, GW_AUTH_ROLE_ADMIN, NULL, NULL);
    /* the name as the portal shows it */
    ck_assert_int_eq(
        pt_sql(G.db, "UPDATE auth.users SET display_name = '王医生' WHERE username = 'dr.a'", NULL),
        0);
    add_app("growth-chart", CB, "patient/*.rs user/*.rs openid fhirUser");
    add_app("offline-app", CB, "patient/*.rs openid fhirUser offline_access");
    add_app("other-app", "https://other.example/cb", "patient/*.rs");
}

static void
teardown(void)
{
    (void)git_stop(&G, SIGTERM);
    git_members_kill(MEMBERS);
}

/* ----------------------------------------------------------- helpers -- */

/* A JWT segment decoded (base64url → base64 → bytes), NUL-terminated. */
static bool
jwt_segment(const char *in, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
    char b64[2048] = {0}; /* GCC's constprop sees len == 0 read it */
    size_t n = 0;
    int got;

    if (len + 4 > sizeof(b64) || (len + 3) / 4 * 3 > cap)
        return false;
    for (size_t i = 0; i < len; i++)
        b64[n++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (n % 4 != 0)
        b64[n++] = '=';
    got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (got < 0)
        return false;
    *out_len = (size_t)got - (len % 4 == 2 ? 2 : len % 4 == 3 ? 1 : 0);
    return true;
}

static const char *
header(const struct git_resp *r, const char *name, char *buf, size_t cap)
{
    struct tu_http_resp t = {.headers = r->headers};

    return tu_http_header(&t, name, buf, cap);
}

/* GET the authorize URL; the page's signed request (malloc). */
static char *
open_page(const char *url)
{
    struct git_resp r = git_get(&G, url, NULL);
    const char *k = "name=\"request\" value=\"";
    const char *p;
    char *req;

    ck_assert_msg(r.status == 200, "%s: %ld %s", url, r.status, r.body);
    p = strstr(r.body, k);
    ck_assert_ptr_nonnull(p);
    p += strlen(k);
    req = strndup(p, strcspn(p, "\""));
    git_resp_free(&r);
    return req;
}

static struct git_resp
submit(const char *req, const char *user, const char *pw, const char *action)
{
    char body[8192];

    snprintf(body, sizeof(body), "request=%s&username=%s&password=%s&action=%s", req, user, pw,
             action);
    return git_req(&G, "POST", "/auth/authorize", NULL, NULL, body,
                   "application/x-www-form-urlencoded");
}

/* `name`'s value in the Location header's query ("" when absent). */
static const char *
loc_param(const struct git_resp *r, const char *name)
{
    static char loc[4096];
    static char val[1024];
    char key[64];
    const char *p;

    ck_assert_msg(r->status == 302, "status %ld: %s", r->status, r->body);
    ck_assert_ptr_nonnull(header(r, "Location", loc, sizeof(loc)));
    snprintf(key, sizeof(key), "%s=", name);
    p = strstr(loc, key);
    val[0] = '\0';
    if (p != NULL && (p[-1] == '?' || p[-1] == '&'))
        snprintf(val, sizeof(val), "%.*s", (int)strcspn(p + strlen(key), "&"), p + strlen(key));
    return val;
}

/* Sign `user` in through the page at `url`; the code (malloc). */
static char *
sign_in_at(const char *url, const char *user)
{
    char *req = open_page(url);
    struct git_resp r = submit(req, user, PW, "approve");
    char loc[4096];
    char *code;

    free(req);
    ck_assert_msg(r.status == 302, "sign-in: %ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(header(&r, "Location", loc, sizeof(loc)));
    ck_assert(strncmp(loc, CB "?code=", strlen(CB "?code=")) == 0);
    code = strdup(loc_param(&r, "code"));
    git_resp_free(&r);
    return code;
}

/* Sign `user` in through the page for growth-chart; the code (malloc). */
static char *
sign_in(const char *user)
{
    return sign_in_at(AUTHZ PKCE "&state=s1", user);
}

static struct git_resp
redeem(const char *code, const char *client, const char *redirect_enc, const char *verifier)
{
    char body[2048];

    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&redirect_uri=%s&client_id=%s&code_verifier=%s",
             code, redirect_enc, client, verifier);
    return git_req(&G, "POST", "/auth/token", NULL, NULL, body,
                   "application/x-www-form-urlencoded");
}

static void
expect_oauth_error(struct git_resp *r, long status, const char *error)
{
    ck_assert_msg(r->status == status, "%ld %s", r->status, r->body);
    ck_assert_ptr_nonnull(r->json);
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "error")), error);
    git_resp_free(r);
}

/* ------------------------------------------------------------- tests -- */

START_TEST(standalone_launch_end_to_end)
{
    char *req = open_page(AUTHZ PKCE "&state=xyz%26%3C");
    struct git_resp r;
    char buf[1024];
    char url[512];
    char *code;
    char *token;
    long before = git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'authorize' "
                                "AND agent_user = 'pat1' AND http_status = 302");

    /* the page: escaped, framed by nobody, posting only to us and the app */
    r = git_get(&G, AUTHZ PKCE "&state=s", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "Growth &lt;Chart&gt;"));
    ck_assert_ptr_nonnull(header(&r, "Content-Type", buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(buf, "text/html"));
    ck_assert_ptr_nonnull(header(&r, "X-Frame-Options", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "DENY");
    ck_assert_ptr_nonnull(header(&r, "Content-Security-Policy", buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(buf, "form-action 'self' https://app.example;"));
    ck_assert_ptr_nonnull(strstr(buf, "frame-ancestors 'none'"));
    ck_assert_ptr_nonnull(header(&r, "Cache-Control", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "no-store");
    git_resp_free(&r);
    /* sign in: a redirect with the code and the state, echoed */
    r = submit(req, "pat1", PW, "approve");
    free(req);
    ck_assert_str_eq(loc_param(&r, "state"), "xyz%26%3C");
    code = strdup(loc_param(&r, "code"));
    ck_assert_uint_ge(strlen(code), 43);
    git_resp_free(&r);
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'authorize' "
                                   "AND agent_user = 'pat1' AND http_status = 302"),
                     before + 1);
    /* the store keeps only the code's hash */
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM auth.codes WHERE used_at IS NULL"), 1);
    /* redeem */
    r = redeem(code, "growth-chart", CB_ENC, VERIFIER);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "patient")), P1);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "token_type")), "Bearer");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "scope")),
                     "openid fhirUser launch/patient patient/*.rs");
    token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    /* the id_token names the patient's FHIR resource (SMART fhirUser) */
    {
        const char *id = json_string_value(json_object_get(r.json, "id_token"));
        const char *dot1 = id != NULL ? strchr(id, '.') : NULL;
        const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
        unsigned char claims[2048];
        size_t n = 0;
        char want[256];

        ck_assert_ptr_nonnull(dot2);
        ck_assert(jwt_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), claims, sizeof(claims) - 1,
                                   &n));
        claims[n] = '\0';
        snprintf(want, sizeof(want), "\"fhirUser\":\"https://127.0.0.1:1/fhir/Patient/%s\"", P1);
        ck_assert_msg(strstr((char *)claims, want) != NULL, "%s", claims);
        ck_assert_ptr_nonnull(strstr((char *)claims, "\"aud\":\"growth-chart\""));
        ck_assert_ptr_nonnull(strstr((char *)claims, "\"nonce\":\"n1\""));
    }
    git_resp_free(&r);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = "
                                   "'authorization_code' AND agent_user = 'pat1' AND "
                                   "http_status = 200"),
                     1);
    /* a FHIR read with it */
    snprintf(url, sizeof(url), "/fhir/Patient/%s", P1);
    r = git_get(&G, url, token);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "Patient");
    git_resp_free(&r);
    /* the code again: refused (RFC 6749 §4.1.2) */
    r = redeem(code, "growth-chart", CB_ENC, VERIFIER);
    expect_oauth_error(&r, 400, "invalid_grant");
    free(code);
    free(token);
}
END_TEST

/* The id_token's claims (a JSON object, decref'd by the caller). */
static json_t *
id_claims(const struct git_resp *r)
{
    const char *id = json_string_value(json_object_get(r->json, "id_token"));
    const char *dot1 = id != NULL ? strchr(id, '.') : NULL;
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    unsigned char claims[2048];
    size_t n = 0;
    json_t *v;

    ck_assert_ptr_nonnull(dot2);
    ck_assert(jwt_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), claims, sizeof(claims) - 1, &n));
    claims[n] = '\0';
    v = json_loads((const char *)claims, 0, NULL);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* Sign `user` in to growth-chart with `scope_enc`; redeem; the token
 * response (its access token in *token, malloc). */
static struct git_resp
app_sign_in(const char *user, const char *scope_enc, char **token)
{
    char url[1024];
    char *code;
    struct git_resp r;

    snprintf(url, sizeof(url),
             "/auth/authorize?response_type=code&client_id=growth-chart&redirect_uri=%s&scope=%s"
             "&state=s1&aud=%s%s",
             CB_ENC, scope_enc, AUD, PKCE);
    code = sign_in_at(url, user);
    r = redeem(code, "growth-chart", CB_ENC, VERIFIER);
    free(code);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    *token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    return r;
}

static void
expect_outcome(const char *path, const char *token, long status)
{
    struct git_resp r = git_get(&G, path, token);

    ck_assert_msg(r.status == status, "%s: %ld %s", path, r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")),
                     "OperationOutcome");
    git_resp_free(&r);
}

/* SMART App Launch 2.x §fhirUser for a clinician: the id_token names their
 * Practitioner, /me agrees, the same token reads it (audited), another
 * clinician's cannot, and an administrator can. */
START_TEST(clinician_fhir_user_is_a_readable_practitioner)
{
    const char *url = "https://127.0.0.1:1/fhir/Practitioner/dr.a";
    char *tok_a;
    char *tok_b;
    char *tok_adm;
    char *tok_pat;
    struct git_resp r;
    json_t *claims;
    const json_t *ident;
    long before = git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'read' AND "
                                "agent_user = 'dr.a' AND http_status = 200 AND "
                                "'Practitioner/dr.a' = ANY(entities)");

    r = app_sign_in("dr.a", "user%2F*.rs+openid+fhirUser", &tok_a);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "scope")),
                     "openid fhirUser user/*.rs");
    claims = id_claims(&r);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "fhirUser")), url);
    json_decref(claims);
    git_resp_free(&r);
    r = git_get(&G, "/me", tok_a);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "fhirUser")), url);
    git_resp_free(&r);
    /* the same token reads it */
    r = git_get(&G, "/fhir/Practitioner/dr.a", tok_a);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "Practitioner");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "id")), "dr.a");
    ck_assert(json_is_true(json_object_get(r.json, "active")));
    ident = json_array_get(json_object_get(r.json, "identifier"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ident, "system")), "urn:fhirgate:user");
    ck_assert_str_eq(json_string_value(json_object_get(ident, "value")), "dr.a");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "name"), 0), "text")),
                     "王医生");
    git_resp_free(&r);
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'read' AND "
                                   "agent_user = 'dr.a' AND http_status = 200 AND "
                                   "'Practitioner/dr.a' = ANY(entities)"),
                     before + 1);
    /* without fhirUser or a Practitioner scope, not even one's own */
    r = app_sign_in("dr.a", "user%2FObservation.rs+openid", &tok_b);
    claims = id_claims(&r);
    ck_assert_ptr_null(json_object_get(claims, "fhirUser"));
    json_decref(claims);
    git_resp_free(&r);
    r = git_get(&G, "/me", tok_b);
    ck_assert(json_is_null(json_object_get(r.json, "fhirUser")));
    git_resp_free(&r);
    expect_outcome("/fhir/Practitioner/dr.a", tok_b, 403);
    free(tok_b);
    /* another clinician: their own (a name a FHIR id cannot hold as is),
     * never dr.a's, and the same 403 for an id that names nobody */
    r = app_sign_in("dr_b@hosp-a", "user%2F*.rs+openid+fhirUser", &tok_b);
    claims = id_claims(&r);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "fhirUser")),
                     "https://127.0.0.1:1/fhir/Practitioner/drUbAhosp-a");
    json_decref(claims);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Practitioner/drUbAhosp-a", tok_b);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
    expect_outcome("/fhir/Practitioner/dr.a", tok_b, 403);
    expect_outcome("/fhir/Practitioner/nobody", tok_b, 403);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'read' AND "
                                   "agent_user = 'dr_b@hosp-a' AND http_status = 403"),
                     2);
    /* a patient is no Practitioner reader; an unreadable id is a 404 */
    r = app_sign_in("pat2", "patient%2F*.rs+openid+fhirUser", &tok_pat);
    git_resp_free(&r);
    expect_outcome("/fhir/Practitioner/dr.a", tok_pat, 403);
    expect_outcome("/fhir/Practitioner/Bad", tok_a, 404);
    /* the administrator reads anyone's; unknown and patients' ids are 404 */
    r = app_sign_in("adm", "user%2FOrganization.rs+openid+fhirUser", &tok_adm);
    claims = id_claims(&r);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "fhirUser")),
                     "https://127.0.0.1:1/fhir/Practitioner/adm");
    json_decref(claims);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Practitioner/dr.a", tok_adm);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
    expect_outcome("/fhir/Practitioner/nobody", tok_adm, 404);
    expect_outcome("/fhir/Practitioner/pat2", tok_adm, 404);
    free(tok_a);
    free(tok_b);
    free(tok_adm);
    free(tok_pat);
}
END_TEST

START_TEST(authorize_request_errors)
{
    struct git_resp r;
    char buf[1024];

    /* unregistered redirect URI: a 400 page, never a redirect */
    r = git_get(&G,
                "/auth/authorize?response_type=code&client_id=growth-chart&redirect_uri=https%3A"
                "%2F%2Fevil.example%2Fcb&scope=patient%2F*.rs&state=s1&aud=" AUD PKCE,
                NULL);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_null(header(&r, "Location", buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(r.body, "redirect URI is not registered"));
    git_resp_free(&r);
    /* unknown client: the same */
    r = git_get(&G,
                "/auth/authorize?response_type=code&client_id=nobody&redirect_uri=" CB_ENC
                "&scope=patient%2F*.rs&state=s1&aud=" AUD PKCE,
                NULL);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_null(header(&r, "Location", buf, sizeof(buf)));
    git_resp_free(&r);
    /* no PKCE, plain PKCE, wrong aud, bad scope: redirects with the state */
    r = git_get(&G, AUTHZ "&state=s1", NULL);
    ck_assert_str_eq(loc_param(&r, "error"), "invalid_request");
    ck_assert_str_eq(loc_param(&r, "state"), "s1");
    ck_assert_str_ne(loc_param(&r, "error_description"), "");
    git_resp_free(&r);
    r = git_get(&G, AUTHZ "&state=s1&code_challenge=" VERIFIER "&code_challenge_method=plain",
                NULL);
    ck_assert_str_eq(loc_param(&r, "error"), "invalid_request");
    ck_assert_str_eq(loc_param(&r, "state"), "s1");
    git_resp_free(&r);
    r = git_get(&G,
                "/auth/authorize?response_type=code&client_id=growth-chart&redirect_uri=" CB_ENC
                "&scope=patient%2F*.rs&state=s1&aud=https%3A%2F%2Fother.example%2Ffhir" PKCE,
                NULL);
    ck_assert_str_eq(loc_param(&r, "error"), "invalid_request");
    git_resp_free(&r);
    r = git_get(&G,
                "/auth/authorize?response_type=code&client_id=growth-chart&redirect_uri=" CB_ENC
                "&scope=system%2F*.rs&state=s1&aud=" AUD PKCE,
                NULL);
    ck_assert_str_eq(loc_param(&r, "error"), "invalid_scope");
    git_resp_free(&r);
    /* the user says no */
    {
        char *req = open_page(AUTHZ PKCE "&state=s2");

        r = submit(req, "", "", "deny");
        ck_assert_str_eq(loc_param(&r, "error"), "access_denied");
        ck_assert_str_eq(loc_param(&r, "state"), "s2");
        git_resp_free(&r);
        /* a tampered request is refused with a page */
        req[strlen(req) - 2] = req[strlen(req) - 2] == 'A' ? 'B' : 'A';
        r = submit(req, "pat1", PW, "approve");
        ck_assert_int_eq(r.status, 400);
        ck_assert_ptr_null(header(&r, "Location", buf, sizeof(buf)));
        git_resp_free(&r);
        free(req);
    }
}
END_TEST

START_TEST(code_redemption_errors)
{
    struct git_resp r;
    char *code;

    /* PKCE mismatch spends the code */
    code = sign_in("pat1");
    r = redeem(code, "growth-chart", CB_ENC, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect_oauth_error(&r, 400, "invalid_grant");
    r = redeem(code, "growth-chart", CB_ENC, VERIFIER);
    expect_oauth_error(&r, 400, "invalid_grant");
    free(code);
    /* another registered client cannot redeem it; an unknown one is no client */
    code = sign_in("pat1");
    r = redeem(code, "nobody", CB_ENC, VERIFIER);
    expect_oauth_error(&r, 401, "invalid_client");
    r = redeem(code, "other-app", "https%3A%2F%2Fother.example%2Fcb", VERIFIER);
    expect_oauth_error(&r, 400, "invalid_grant");
    free(code);
    /* another redirect URI than the request's */
    code = sign_in("pat1");
    r = redeem(code, "growth-chart", "http%3A%2F%2F127.0.0.1%2Fnative", VERIFIER);
    expect_oauth_error(&r, 400, "invalid_grant");
    free(code);
    /* expired (60 s): aged in the database rather than waited for */
    code = sign_in("pat1");
    ck_assert(pt_sql(G.db,
                     "UPDATE auth.codes SET expires_at = now() - interval '1 second' "
                     "WHERE used_at IS NULL",
                     NULL) >= 0);
    r = redeem(code, "growth-chart", CB_ENC, VERIFIER);
    expect_oauth_error(&r, 400, "invalid_grant");
    free(code);
    /* failures are audited, without the code */
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = "
                                   "'authorization_code' AND http_status = 400"),
                     5);
}
END_TEST

/* --------------------------------------------------- refresh tokens -- */

#define OFFLINE_AUTHZ                                                                              \
    "/auth/authorize?response_type=code&client_id=offline-app&redirect_uri=" CB_ENC                \
    "&scope=launch%2Fpatient+patient%2F*.rs+openid+fhirUser+offline_access&state=o1&aud=" AUD PKCE

/* `user` signs in for offline-app; the refresh token (malloc). */
static char *
offline_grant(const char *user)
{
    char *code = sign_in_at(OFFLINE_AUTHZ, user);
    struct git_resp r = redeem(code, "offline-app", CB_ENC, VERIFIER);
    char *rt;

    free(code);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    rt = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
    git_resp_free(&r);
    return rt;
}

static struct git_resp
refresh(const char *rt, const char *client)
{
    char body[1024];

    snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s&client_id=%s", rt,
             client);
    return git_req(&G, "POST", "/auth/token", NULL, NULL, body,
                   "application/x-www-form-urlencoded");
}

static void
run_cli(const char *const *argv)
{
    struct tu_run run;

    ck_assert_int_eq(tu_run(argv, &run), 0);
    ck_assert_msg(run.status == 0, "%s", run.err);
    tu_run_free(&run);
}

START_TEST(refresh_tokens_rotate_and_revoke)
{
    const char *bin = tu_bin("fhirgate");
    struct git_resp r;
    char where[256];
    char buf[256];
    char url[512];
    char *code;
    char *rt1, *rt2;

    /* the code grant with offline_access: a refresh token, stored hashed */
    code = sign_in_at(OFFLINE_AUTHZ, "pat1");
    r = redeem(code, "offline-app", CB_ENC, VERIFIER);
    free(code);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "scope")),
                     "openid fhirUser launch/patient offline_access patient/*.rs");
    rt1 = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
    ck_assert_uint_eq(strlen(rt1), 43);
    ck_assert_ptr_nonnull(header(&r, "Cache-Control", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "no-store");
    ck_assert_ptr_nonnull(header(&r, "Pragma", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "no-cache");
    git_resp_free(&r);
    snprintf(where, sizeof(where),
             "SELECT count(*) FROM auth.refresh_tokens WHERE token_hash = '%s'", rt1);
    ck_assert_int_eq(git_count(&G, where), 0);
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM auth.refresh_tokens WHERE username = "
                                   "'pat1' AND expires_at > now() + interval '29 days'"),
                     1);
    /* refreshed: a working access token and the next refresh token */
    r = refresh(rt1, "offline-app");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "patient")), P1);
    rt2 = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
    ck_assert_str_ne(rt2, rt1);
    snprintf(url, sizeof(url), "/fhir/Patient/%s", P1);
    {
        char *token = strdup(json_string_value(json_object_get(r.json, "access_token")));

        git_resp_free(&r);
        r = git_get(&G, url, token);
        free(token);
    }
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
    /* the spent one again: refused, and the family with it */
    r = refresh(rt1, "offline-app");
    expect_oauth_error(&r, 400, "invalid_grant");
    r = refresh(rt2, "offline-app");
    expect_oauth_error(&r, 400, "invalid_grant");
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = "
                                   "'refresh_token' AND agent_user = 'pat1' AND http_status = 200"),
                     1);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = "
                                   "'refresh_token' AND reason = 'refresh-token-reused'"),
                     1);
    free(rt1);
    free(rt2);
    /* disabling the user revokes: enabling again does not bring it back */
    rt1 = offline_grant("pat2");
    run_cli((const char *[]){bin, "user", "disable", "pat2", "--database", G.db_url, NULL});
    run_cli((const char *[]){bin, "user", "enable", "pat2", "--database", G.db_url, NULL});
    r = refresh(rt1, "offline-app");
    expect_oauth_error(&r, 400, "invalid_grant");
    free(rt1);
    /* and so does a new password */
    rt1 = offline_grant("pat2");
    {
        char pwfile[512];
        FILE *f;

        snprintf(pwfile, sizeof(pwfile), "%s/applaunch-pw", getenv("FHIRGATE_TEST_TMP"));
        f = fopen(pwfile, "w");
        ck_assert_ptr_nonnull(f);
        fputs(PW "!\n", f);
        fclose(f);
        run_cli((const char *[]){bin, "user", "passwd", "pat2", "--password-file", pwfile,
                                 "--database", G.db_url, NULL});
        f = fopen(pwfile, "w");
        ck_assert_ptr_nonnull(f);
        fputs(PW "\n", f);
        fclose(f);
        run_cli((const char *[]){bin, "user", "passwd", "pat2", "--password-file", pwfile,
                                 "--database", G.db_url, NULL});
    }
    r = refresh(rt1, "offline-app");
    expect_oauth_error(&r, 400, "invalid_grant");
    free(rt1);
    /* so does disabling the app */
    rt1 = offline_grant("pat2");
    run_cli((const char *[]){bin, "client", "disable-app", "offline-app", "--database", G.db_url,
                             NULL});
    r = refresh(rt1, "offline-app");
    expect_oauth_error(&r, 401, "invalid_client");
    run_cli(
        (const char *[]){bin, "client", "enable-app", "offline-app", "--database", G.db_url, NULL});
    r = refresh(rt1, "offline-app");
    expect_oauth_error(&r, 400, "invalid_grant");
    free(rt1);
    /* RFC 7009: the app revokes it; errors are OAuth JSON, never cached */
    rt1 = offline_grant("pat1");
    {
        char body[256];

        snprintf(body, sizeof(body), "token=%s&client_id=offline-app", rt1);
        r = git_req(&G, "POST", "/auth/revoke", NULL, NULL, body,
                    "application/x-www-form-urlencoded");
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        git_resp_free(&r);
    }
    r = refresh(rt1, "offline-app");
    ck_assert_ptr_nonnull(header(&r, "Content-Type", buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(buf, "application/json"));
    ck_assert_ptr_nonnull(header(&r, "Cache-Control", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "no-store");
    ck_assert_ptr_nonnull(header(&r, "Pragma", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "no-cache");
    expect_oauth_error(&r, 400, "invalid_grant");
    r = git_req(&G, "POST", "/auth/revoke", NULL, NULL, "token=x&client_id=nobody",
                "application/x-www-form-urlencoded");
    expect_oauth_error(&r, 401, "invalid_client");
    /* RFC 6749 §5.2: HTTP client authentication (client_secret_basic) is
     * not used here: 401 with a challenge naming the scheme tried */
    {
        const char *hdr[] = {"Authorization: Basic b2ZmbGluZS1hcHA6c2VjcmV0", NULL};

        r = git_req(&G, "POST", "/auth/token", NULL, hdr, "grant_type=client_credentials",
                    "application/x-www-form-urlencoded");
        ck_assert_ptr_nonnull(header(&r, "WWW-Authenticate", buf, sizeof(buf)));
        ck_assert_str_eq(buf, "Basic realm=\"fhirgate\"");
        expect_oauth_error(&r, 401, "invalid_client");
    }
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'revoke' "
                                   "AND http_status = 200"),
                     1);
    free(rt1);
    /* RFC 6749 §4.1.2: the code replayed ends the grant made from it */
    code = sign_in_at(OFFLINE_AUTHZ, "pat1");
    r = redeem(code, "offline-app", CB_ENC, VERIFIER);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    rt1 = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
    git_resp_free(&r);
    r = redeem(code, "offline-app", CB_ENC, VERIFIER);
    expect_oauth_error(&r, 400, "invalid_grant");
    r = refresh(rt1, "offline-app");
    expect_oauth_error(&r, 400, "invalid_grant");
    free(rt1);
    free(code);
    /* an app registered without offline_access gets no refresh token */
    code = sign_in("pat1");
    r = redeem(code, "growth-chart", CB_ENC, VERIFIER);
    free(code);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_null(json_object_get(r.json, "refresh_token"));
    git_resp_free(&r);
}
END_TEST

START_TEST(lockout_applies_to_the_sign_in_page)
{
    char *req = open_page(AUTHZ PKCE "&state=s3");
    struct git_resp r;

    for (int i = 0; i < 5; i++) {
        r = submit(req, "locky", "wrong password here", "approve");
        ck_assert_int_eq(r.status, 400);
        ck_assert_ptr_nonnull(strstr(r.body, "Invalid user name or password"));
        ck_assert_ptr_null(strstr(r.body, "wrong password here"));
        git_resp_free(&r);
    }
    /* locked: the right password is refused too, here and at the token endpoint */
    r = submit(req, "locky", PW, "approve");
    ck_assert_int_eq(r.status, 429);
    git_resp_free(&r);
    r = git_req(&G, "POST", "/auth/token", NULL, NULL,
                "grant_type=password&username=locky&password=correct+horse+battery",
                "application/x-www-form-urlencoded");
    ck_assert_int_eq(r.status, 429);
    git_resp_free(&r);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'authorize' "
                                   "AND agent_user = 'locky' AND reason = 'bad-password'"),
                     5);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'authorize' "
                                   "AND agent_user = 'locky' AND reason = 'locked'"),
                     1);
    free(req);
}
END_TEST

START_TEST(discovery_advertises_the_launch)
{
    struct git_resp r = git_get(&G, "/fhir/.well-known/smart-configuration", NULL);
    char *text = json_dumps(r.json, JSON_COMPACT);

    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "authorization_endpoint")),
                     "https://127.0.0.1:1/auth/authorize");
    ck_assert_ptr_nonnull(strstr(text, "\"response_types_supported\":[\"code\"]"));
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "issuer")), "https://127.0.0.1:1");
    ck_assert_ptr_nonnull(strstr(text, "\"code_challenge_methods_supported\":[\"S256\"]"));
    ck_assert_ptr_nonnull(strstr(text, "\"authorization_code\""));
    ck_assert_ptr_nonnull(strstr(text, "\"launch-standalone\""));
    ck_assert_ptr_nonnull(strstr(text, "\"client-public\""));
    ck_assert_ptr_nonnull(strstr(text, "\"context-standalone-patient\""));
    ck_assert_ptr_nonnull(strstr(text, "\"sso-openid-connect\""));
    ck_assert_ptr_nonnull(strstr(text, "\"permission-offline\""));
    ck_assert_ptr_nonnull(strstr(text, "\"authorize-post\""));
    ck_assert_ptr_nonnull(strstr(text, "\"refresh_token\""));
    ck_assert_ptr_nonnull(
        strstr(text, "\"revocation_endpoint\":\"https://127.0.0.1:1/auth/revoke\""));
    free(text);
    git_resp_free(&r);
    /* authorize-post: the request POSTed shows the same sign-in page */
    r = git_req(&G, "POST", "/auth/authorize", NULL, NULL, strchr(AUTHZ PKCE "&state=p1", '?') + 1,
                "application/x-www-form-urlencoded");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "name=\"request\""));
    git_resp_free(&r);
    r = git_get(&G, "/.well-known/openid-configuration", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "issuer")), "https://127.0.0.1:1");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "jwks_uri")),
                     "https://127.0.0.1:1/.well-known/jwks.json");
    git_resp_free(&r);
    r = git_get(&G, "/fhir/metadata", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"url\":\"authorize\""));
    ck_assert_ptr_nonnull(strstr(r.body, "https://127.0.0.1:1/auth/authorize"));
    git_resp_free(&r);
    /* R4 http.html#capabilities: the terse form keeps the OAuth endpoints
     * a SMART client falls back to, drops the search parameters; an
     * unknown mode is an error, not the full statement */
    r = git_get(&G, "/fhir/metadata?mode=terse", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "https://127.0.0.1:1/auth/authorize"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"SUBSETTED\""));
    ck_assert_ptr_null(strstr(r.body, "searchParam"));
    git_resp_free(&r);
    r = git_get(&G, "/fhir/metadata?mode=normative", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "searchParam"));
    git_resp_free(&r);
    r = git_get(&G, "/fhir/metadata?mode=brief", NULL);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")),
                     "OperationOutcome");
    git_resp_free(&r);
}
END_TEST

START_TEST(client_cli_lists_and_refuses)
{
    const char *bin = tu_bin("fhirgate");
    struct tu_run run;

    setenv("FHIRGATE_DATABASE_URL", G.db_url, 1);
    ck_assert_int_eq(tu_run((const char *[]){bin, "client", "list", NULL}, &run), 0);
    ck_assert_int_eq(run.status, 0);
    ck_assert_ptr_nonnull(strstr(run.out, "growth-chart"));
    ck_assert_ptr_nonnull(strstr(run.out, "redirect https://app.example/cb"));
    tu_run_free(&run);
    ck_assert_int_eq(
        tu_run((const char *[]){bin, "client", "add-app", "bad", "--redirect-uri",
                                "http://app.example/cb", "--scope", "patient/*.rs", NULL},
               &run),
        0);
    ck_assert_int_eq(run.status, 1);
    ck_assert_ptr_nonnull(strstr(run.err, "redirect_uri"));
    tu_run_free(&run);
    ck_assert_int_eq(tu_run((const char *[]){bin, "client", "add-app", "bad", NULL}, &run), 0);
    ck_assert_int_eq(run.status, 2);
    tu_run_free(&run);
    /* a disabled app can no longer start a sign-in */
    ck_assert_int_eq(
        tu_run((const char *[]){bin, "client", "disable-app", "other-app", NULL}, &run), 0);
    ck_assert_int_eq(run.status, 0);
    tu_run_free(&run);
    {
        struct git_resp r = git_get(&G,
                                    "/auth/authorize?response_type=code&client_id=other-app&"
                                    "redirect_uri=https%3A%2F%2Fother.example%2Fcb&scope=patient"
                                    "%2F*.rs&aud=" AUD PKCE,
                                    NULL);

        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
    }
    unsetenv("FHIRGATE_DATABASE_URL");
}
END_TEST

Suite *
app_launch_suite(void)
{
    Suite *s = suite_create("app_launch");
    TCase *tc = tcase_create("launch");

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, standalone_launch_end_to_end);
    tcase_add_test(tc, clinician_fhir_user_is_a_readable_practitioner);
    tcase_add_test(tc, authorize_request_errors);
    tcase_add_test(tc, code_redemption_errors);
    tcase_add_test(tc, refresh_tokens_rotate_and_revoke);
    tcase_add_test(tc, lockout_applies_to_the_sign_in_page);
    tcase_add_test(tc, discovery_advertises_the_launch);
    tcase_add_test(tc, client_cli_lists_and_refuses);
    suite_add_tcase(s, tc);
    return s;
}
