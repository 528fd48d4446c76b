/*
 * test/integration/check_gateway_api.c — bin/fhirgate-gateway for real:
 * HTTPS on a random port, a private PostgreSQL database, eight test member
 * hospitals over mTLS (three healthy, one slow past the deadline, one
 * answering 500, one invalid JSON, one with another CA's certificate, one
 * down).  Authentication, scopes, consent, break-the-glass, federation
 * with partial results, the audit trail (committed before every answer,
 * fail closed), regulators' and patients' views, members, users, the
 * portal's files, injection and traversal attempts.
 *
 * One gateway serves the whole suite (an unchecked fixture in the parent
 * process); each test runs in its own child and only talks HTTP and SQL.
 */
#include <check.h>
#include <ctype.h>
#include <strings.h>

#include "fhir/validate/fhir_validate.h"
#include "fhir/xml/fhir_xml.h"
#include "test/integration/gateway_it.h"
#include "test/support/jsonpath.h"
#include "test/support/runcli.h"

static struct git_gw G;
static struct git_member M[] = {
    {.id = "hosp-a", .name = "Hospital A", .mode = GIT_OK, .patients = {"p1", "p2", "p3", "p4"}},
    {.id = "hosp-b", .name = "Hospital B", .mode = GIT_OK, .patients = {"p1", "p3", "p4"}},
    {.id = "hosp-c", .name = "Hospital C", .mode = GIT_OK, .patients = {"p1"}},
    {.id = "hosp-d", .name = "Hospital D", .mode = GIT_SLOW, .patients = {"p2"}},
    {.id = "hosp-e",
     .name = "Hospital E",
     .mode = GIT_500,
     .patients = {"p2"},
     .serves = "Patient Observation"},
    {.id = "hosp-f", .name = "Hospital F", .mode = GIT_BADJSON, .patients = {"p2"}},
    {.id = "hosp-g", .name = "Hospital G", .mode = GIT_FOREIGN, .patients = {"p2"}},
    {.id = "hosp-h", .name = "Hospital H", .mode = GIT_DOWN, .patients = {"p2"}},
};
#define N_MEMBERS (sizeof(M) / sizeof(M[0]))

static pid_t MEMBERS;
static char *P1, *P2, *P3, *P4;                    /* regional person ids */
static char *T_ADMIN, *T_DR, *T_DRX, *T_REG, *T_PAT; /* access tokens */

#define PW "correct horse battery"

static void
consent(const char *person, const char *provision)
{
    char body[2048];
    struct git_resp r;

    snprintf(body, sizeof(body),
             "{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"coding\":[{"
             "\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":"
             "\"patient-privacy\"}]},\"category\":[{\"coding\":[{\"system\":\"http://loinc.org\","
             "\"code\":\"59284-0\"}]}],\"patient\":{\"reference\":\"Patient/%s\"},%s}",
             person, provision);
    r = git_req(&G, "POST", "/fhir/Consent", T_ADMIN, NULL, body, "application/fhir+json");
    ck_assert_msg(r.status == 201, "consent: %ld %s", r.status, r.body);
    git_resp_free(&r);
}

static void
setup(void)
{
    base_log_set_level(BASE_LOG_ERROR);
    git_prepare(&G, "gwapi");
    MEMBERS = git_members_spawn(M, N_MEMBERS, &G.pki, G.foreign_cert, G.foreign_key);
    git_write_conf(&G, M, N_MEMBERS, NULL);
    git_start(&G);
    git_seed(&G, &M[6], "p2");
    git_seed(&G, &M[7], "p2");
    P1 = git_person(&G, "p1", 3);
    P2 = git_person(&G, "p2", 6);
    P3 = git_person(&G, "p3", 2);
    P4 = git_person(&G, "p4", 2);
    if (!(P1 && P2 && P3 && P4)) {
        char *v = NULL;

        pt_sql(G.db, "SELECT string_agg(member_id || ':' || coalesce(resident_id, '-') || ':' || "
                     "person_id, ' ') FROM mpi.record", &v);
        fprintf(stderr, "P1 %s P2 %s P3 %s P4 %s records: %s\n", P1, P2, P3, P4, v);
    }
    ck_assert_msg(P1 && P2 && P3 && P4, "the identity pull did not link the test persons");
    git_user(&G, "admin", PW, GW_AUTH_ROLE_ADMIN, NULL, NULL);
    git_user(&G, "dr.a", PW, GW_AUTH_ROLE_CLINICIAN, "hosp-a", NULL);
    git_user(&G, "dr.x", PW, GW_AUTH_ROLE_CLINICIAN, "hosp-zz", NULL);
    git_user(&G, "reg", PW, GW_AUTH_ROLE_REGULATOR, NULL, NULL);
    git_user(&G, "pat1", PW, GW_AUTH_ROLE_PATIENT, NULL, P1);
    T_ADMIN = git_token(&G, "admin", PW);
    T_DR = git_token(&G, "dr.a", PW);
    T_DRX = git_token(&G, "dr.x", PW);
    T_REG = git_token(&G, "reg", PW);
    T_PAT = git_token(&G, "pat1", PW);
    ck_assert(T_ADMIN && T_DR && T_DRX && T_REG && T_PAT);
    /* p3 opts out entirely; p4 withholds what hosp-b holds. */
    consent(P3, "\"policyRule\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
                "CodeSystem/v3-ActCode\",\"code\":\"OPTOUT\"}]},\"provision\":{\"type\":\"deny\"}");
    consent(P4, "\"policyRule\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
                "CodeSystem/v3-ActCode\",\"code\":\"OPTIN\"}]},\"provision\":{\"type\":\"permit\","
                "\"provision\":[{\"type\":\"deny\",\"actor\":[{\"role\":{\"coding\":[{\"system\":"
                "\"http://terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":\"CST\"}]},"
                "\"reference\":{\"reference\":\"Organization/hosp-b\"}}]}]}");
}

static void
teardown(void)
{
    int st = 0;

    if (G.pid > 0 && waitpid(G.pid, &st, WNOHANG) == G.pid) {
        fprintf(stderr, "the gateway died: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        git_dump_log(&G);
        G.pid = 0;
    }
    (void)git_stop(&G, SIGTERM);
    git_members_kill(MEMBERS);
}

/* `tmpl` with its one "%s" replaced by `a` (no format strings from data). */
static void
fill(char *buf, size_t cap, const char *tmpl, const char *a)
{
    const char *at = strstr(tmpl, "%s");

    if (at == NULL) {
        snprintf(buf, cap, "%s", tmpl);
        return;
    }
    snprintf(buf, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, a, at + 2);
}

static char *
path(const char *tmpl, const char *a)
{
    static char buf[1024];

    fill(buf, sizeof(buf), tmpl, a);
    return buf;
}

static const char *
header(const struct git_resp *r, const char *name, char *buf, size_t cap)
{
    struct tu_http_resp t = {.headers = r->headers};

    return tu_http_header(&t, name, buf, cap);
}

/* ------------------------------------------------------- discovery -- */

START_TEST(metadata_is_a_valid_capability_statement)
{
    struct git_resp r = git_get(&G, "/fhir/metadata", NULL);
    struct fhir_validate_result vr = {0};
    json_t *cs = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(r.status, 200);
    ck_assert(fhir_json_parse(r.body, strlen(r.body), NULL, &cs, &err) == BASE_OK);
    ck_assert_int_eq(fhir_validate(cs, NULL, NULL, &vr, &err), BASE_OK);
    ck_assert_uint_eq(vr.errors, 0);
    ck_assert_str_eq(json_string_value(json_object_get(cs, "fhirVersion")), "4.0.1");
    ck_assert_ptr_nonnull(strstr(r.body, "\"DocumentReference\""));
    ck_assert_ptr_nonnull(strstr(r.body, "ihe-pix"));
    json_decref(cs);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/metadata?_format=xml", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<CapabilityStatement xmlns=\"http://hl7.org/fhir\""));
    git_resp_free(&r);
    r = git_get(&G, "/.well-known/smart-configuration", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(json_object_get(r.json, "token_endpoint"));
    git_resp_free(&r);
    /* where SMART App Launch 2.0 clients look: under the FHIR base */
    r = git_get(&G, "/fhir/.well-known/smart-configuration", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(json_object_get(r.json, "token_endpoint"));
    git_resp_free(&r);
    r = git_get(&G, "/.well-known/jwks.json", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_ge(json_array_size(json_object_get(r.json, "keys")), 1);
    git_resp_free(&r);
    r = git_get(&G, "/healthz", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "pass");
    git_resp_free(&r);
    r = git_get(&G, "/metrics", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate_audit_queue_depth"));
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate_fed_member"));
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate_member_up{member=\"hosp-a\"} 1"));
    git_resp_free(&r);
}
END_TEST

/* ------------------------------------------------------------- 401 -- */

/* A token signed with `key_file` (NULL: a new key nobody knows). */
static char *
mint(const char *key_file, const char *aud, long exp_delta, const char *kid_override)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_keyset *ks = NULL;
    struct base_err err = {0};
    long now = (long)time(NULL);
    json_t *claims;
    char *tok = NULL;
    size_t len = 0;
    char other[700];
    char pub[700];

    ck_assert(gw_auth_keyset_new(&ks, &err) == BASE_OK);
    if (key_file == NULL) {
        snprintf(other, sizeof(other), "%s/other.pem", G.dir);
        snprintf(pub, sizeof(pub), "%s/other.pub", G.dir);
        ck_assert(gw_audit_key_generate(other, pub, &err) == BASE_OK);
        key_file = other;
    }
    ck_assert(gw_auth_keyset_load_file(ks, key_file, kid_override, NULL, true, &err) == BASE_OK);
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "iss",
                       "https://127.0.0.1:1", "sub", "dr.a", "aud", aud, "exp",
                       (json_int_t)(now + exp_delta), "iat", (json_int_t)(now - 7200), "nbf",
                       (json_int_t)(now - 7200), "jti", "test-jti", "client_id", "portal",
                       "scope", "user/*.rs", "role", "clinician", "organization", "hosp-a",
                       "purpose_of_use", "TREAT");
    ck_assert(gw_auth_jwt_sign(a, ks, NULL, "at+jwt", claims, &tok, &len, &err) == BASE_OK);
    tok = strdup(tok);
    json_decref(claims);
    gw_auth_keyset_free(ks);
    base_arena_free(a);
    return tok;
}

static void
expect_401(const char *token)
{
    char buf[512];
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s", P1), token);

    ck_assert_msg(r.status == 401, "status %ld body %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")),
                     "OperationOutcome");
    ck_assert_ptr_nonnull(header(&r, "WWW-Authenticate", buf, sizeof(buf)));
    ck_assert_ptr_null(strstr(r.body, "Observation\""));
    git_resp_free(&r);
}

START_TEST(bad_tokens_are_401_and_audited)
{
    const char *aud = "https://127.0.0.1:1/fhir";
    long before = git_count(&G, "SELECT count(*) FROM audit.event WHERE http_status = 401");
    char *good = mint(G.auth_key, aud, 600, NULL);
    char *expired = mint(G.auth_key, aud, -3600, NULL);
    char *wrong_aud = mint(G.auth_key, "https://evil.example/fhir", 600, NULL);
    char *unknown_key = mint(NULL, aud, 600, NULL);
    char *wrong_kid = mint(G.auth_key, aud, 600, "no-such-kid");
    char *forged = strdup(good);
    char *dot = strchr(forged, '.');
    char none[4096];
    struct git_resp r;

    /* The hand-made token is accepted: the refusals below are real. */
    r = git_get(&G, path("/fhir/Observation?patient=%s", P1), good);
    ck_assert_int_eq(r.status, 200);
    git_resp_free(&r);
    expect_401(NULL);
    expect_401(expired);
    expect_401(wrong_aud);
    expect_401(unknown_key);
    expect_401(wrong_kid);
    /* payload changed, signature kept */
    dot[2] = dot[2] == 'A' ? 'B' : 'A';
    expect_401(forged);
    /* alg=none with the real payload and no signature */
    snprintf(none, sizeof(none), "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.%.*s.",
             (int)(strrchr(good, '.') - strchr(good, '.') - 1), strchr(good, '.') + 1);
    expect_401(none);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE http_status = 401"),
                     before + 6);
    /* a sign-in with an absurdly long name is refused and audited (as an
     * unknown user: names are at most BASE_LIMIT_AUTH_MAX_USERNAME bytes),
     * never a 503 from an audit column it would overflow */
    {
        static const char *const UNKNOWN = "SELECT count(*) FROM audit.event WHERE agent_user = "
                                           "'unknown' AND http_status IN (400, 401)";
        long unknown_before = git_count(&G, UNKNOWN);
        char body[4200];
        int k = snprintf(body, sizeof(body), "grant_type=password&password=x&username=");

        memset(body + k, 'n', 3000);
        body[k + 3000] = '\0';
        r = git_req(&G, "POST", "/auth/token", NULL, NULL, body,
                    "application/x-www-form-urlencoded");
        ck_assert_msg(r.status == 400 || r.status == 401, "%ld %s", r.status, r.body);
        git_resp_free(&r);
        ck_assert_int_eq(git_count(&G, UNKNOWN), unknown_before + 1);
    }
    free(good);
    free(expired);
    free(wrong_aud);
    free(unknown_key);
    free(wrong_kid);
    free(forged);
}
END_TEST

/* ------------------------------------------------------------- 403 -- */

START_TEST(forbidden_requests_are_403_and_audited)
{
    struct git_resp r;
    char *narrow;
    struct git_resp t;
    long before = git_count(&G, "SELECT count(*) FROM audit.event WHERE http_status = 403");

    /* a clinician whose organization is not a member */
    r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_DRX);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    /* a regulator has no clinical scope; an admin neither */
    r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_REG);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    /* a token narrowed to Patient cannot read Observations — the same
     * answer for a patient that does not exist (nothing revealed) */
    t = git_req(&G, "POST", "/auth/token", NULL, NULL,
                "grant_type=password&username=dr.a&password=" PW
                "&client_id=portal&scope=user/Patient.rs",
                "application/x-www-form-urlencoded");
    ck_assert_int_eq(t.status, 200);
    narrow = strdup(json_string_value(json_object_get(t.json, "access_token")));
    git_resp_free(&t);
    r = git_get(&G, path("/fhir/Observation?patient=%s", P1), narrow);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Observation?patient=00000000-0000-0000-0000-000000000000", narrow);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    free(narrow);
    /* consent: p3 opted out */
    r = git_get(&G, path("/fhir/Observation?patient=%s", P3), T_DR);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_nonnull(strstr(r.body, "consent"));
    git_resp_free(&r);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE http_status = 403"),
                     before + 5);
    {
        char sql[256];

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM audit.event WHERE http_status = 403 AND patient_ref = "
                 "'Patient/%s'",
                 P3);
        ck_assert_int_ge(git_count(&G, sql), 1);
    }
}
END_TEST

START_TEST(break_the_glass_is_allowed_flagged_reported_and_reviewed)
{
    const char *btg[] = {"X-Purpose-Of-Use: ETREAT",
                         "X-Break-Glass-Reason: unconscious in the emergency room", NULL};
    const char *no_reason[] = {"X-Purpose-Of-Use: ETREAT", NULL};
    char buf[128];
    char sql[512];
    char body[512];
    char *chain = NULL;
    struct git_resp r;

    r = git_req(&G, "GET", path("/fhir/Observation?patient=%s", P3), T_DR, no_reason, NULL, NULL);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    r = git_req(&G, "GET", path("/fhir/Observation?patient=%s", P3), T_DR, btg, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 4);
    ck_assert_str_eq(header(&r, "X-Break-Glass", buf, sizeof(buf)), "true");
    git_resp_free(&r);
    snprintf(sql, sizeof(sql),
             "SELECT chain_id || ' ' || seq FROM audit.event WHERE break_glass AND patient_ref = "
             "'Patient/%s' AND reason = 'unconscious in the emergency room' AND purpose = "
             "'ETREAT' AND http_status = 200",
             P3);
    ck_assert_int_eq(pt_sql(G.db, sql, &chain), 1);
    ck_assert_ptr_nonnull(chain);
    /* in the review queue and in the report */
    r = git_get(&G, "/audit/break-glass", T_REG);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "unconscious in the emergency room"));
    git_resp_free(&r);
    r = git_get(&G, "/audit/report?from=2000-01-01&to=2100-01-01", T_REG);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_ge(json_array_size(json_object_get(r.json, "break_glass")), 1);
    git_resp_free(&r);
    /* the review, audited; twice is a conflict */
    {
        char c[128];
        long long seq = 0;

        ck_assert_int_eq(sscanf(chain, "%127s %lld", c, &seq), 2);
        snprintf(body, sizeof(body),
                 "{\"chain\":\"%s\",\"seq\":%lld,\"decision\":\"justified\",\"note\":\"ok\"}", c,
                 seq);
    }
    r = git_req(&G, "POST", "/audit/break-glass/review", T_REG, NULL, body, "application/json");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
    r = git_req(&G, "POST", "/audit/break-glass/review", T_REG, NULL, body, "application/json");
    ck_assert_int_eq(r.status, 409);
    git_resp_free(&r);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype = 'btg-review' "
                                   "AND http_status = 200"),
                     1);
    r = git_get(&G, "/audit/break-glass?status=reviewed", T_REG);
    ck_assert_ptr_nonnull(strstr(r.body, "justified"));
    git_resp_free(&r);
    free(chain);
}
END_TEST

/* ------------------------------------------------------ federation -- */

START_TEST(search_across_three_members_returns_tagged_entries_audited_first)
{
    char rid[64];
    char sql[512];
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s&code=http://loinc.org|2345-7",
                                         P1),
                                T_DR);

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 6);
    ck_assert_uint_eq(git_entries(r.json, "outcome"), 0);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 2);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-b"), 2);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-c"), 2);
    ck_assert_str_eq(header(&r, "X-Members-Answered", rid, sizeof(rid)), "3");
    /* the page streams out of the merge (issue #5): chunked, no length */
    ck_assert_str_eq(header(&r, "Transfer-Encoding", rid, sizeof(rid)), "chunked");
    ck_assert_ptr_null(header(&r, "Content-Length", rid, sizeof(rid)));
    ck_assert_ptr_nonnull(header(&r, "X-Request-Id", rid, sizeof(rid)));
    /* its AuditEvent is committed and names all six entities */
    snprintf(sql, sizeof(sql),
             "SELECT cardinality(entities) FROM audit.event WHERE request_id = '%s' AND "
             "patient_ref = 'Patient/%s' AND http_status = 200",
             rid, P1);
    ck_assert_int_eq(git_count(&G, sql), 6);
    git_resp_free(&r);
    /* the same as FHIR XML */
    {
        const char *accept[] = {"Accept: application/fhir+xml", NULL};

        r = git_req(&G, "GET", path("/fhir/Observation?patient=%s", P1), T_DR, accept, NULL,
                    NULL);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_ptr_nonnull(strstr(r.body, "<Bundle xmlns=\"http://hl7.org/fhir\""));
        ck_assert_ptr_nonnull(strstr(r.body, "urn:fhirgate:member"));
        git_resp_free(&r);
    }
    /* a representation or FHIR version it cannot give is 406, before any
     * member is asked (R4 http.html#version-parameter) */
    {
        const char *v3[] = {"Accept: application/fhir+json; fhirVersion=3.0", NULL};
        const char *v4[] = {"Accept: application/fhir+json; fhirVersion=4.0", NULL};

        r = git_req(&G, "GET", path("/fhir/Observation?patient=%s", P1), T_DR, v3, NULL, NULL);
        ck_assert_int_eq(r.status, 406);
        ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
        git_resp_free(&r);
        r = git_req(&G, "GET", path("/fhir/Observation?patient=%s", P1), T_DR, v4, NULL, NULL);
        ck_assert_int_eq(r.status, 200);
        git_resp_free(&r);
        r = git_get(&G, path("/fhir/Observation?patient=%s&_format=turtle", P1), T_DR);
        ck_assert_int_eq(r.status, 406);
        git_resp_free(&r);
    }
    /* a parameter fhir/search refuses never reaches a member */
    r = git_get(&G, path("/fhir/Observation?patient=%s&bogus=1", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=%s&date=notadate", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
}
END_TEST

/* POST [type]/_search (FHIR R4 http.html#search): the form's parameters,
 * joined with the URL's, make the same search as a GET — same answer, same
 * audit — and the same refusals. */
START_TEST(search_by_post_is_the_same_search)
{
    const char *form = "application/x-www-form-urlencoded";
    char body[8192];
    char rid[64];
    char sql[512];
    char resid[19];
    struct git_resp r;

    snprintf(body, sizeof(body), "patient=%s&code=http%%3A%%2F%%2Floinc.org%%7C2345-7", P1);
    r = git_req(&G, "POST", "/fhir/Observation/_search", T_DR, NULL, body, form);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 6);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 2);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-c"), 2);
    ck_assert_ptr_nonnull(header(&r, "X-Request-Id", rid, sizeof(rid)));
    snprintf(sql, sizeof(sql),
             "SELECT cardinality(entities) FROM audit.event WHERE request_id = '%s' AND "
             "patient_ref = 'Patient/%s' AND http_status = 200 AND subtype = 'search-type'",
             rid, P1);
    ck_assert_int_eq(git_count(&G, sql), 6);
    git_resp_free(&r);
    /* URL and body together, with a charset on the type */
    r = git_req(&G, "POST", path("/fhir/Observation/_search?patient=%s", P1), T_DR, NULL,
                "code=http://loinc.org|2345-7", "application/x-www-form-urlencoded; charset=UTF-8");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 6);
    git_resp_free(&r);
    /* no body: the URL's parameters alone, as the GET */
    r = git_get(&G, path("/fhir/Observation?patient=%s&_count=4", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    size_t n_get = git_entries(r.json, "match");
    git_resp_free(&r);
    r = git_req(&G, "POST", path("/fhir/Observation/_search?patient=%s&_count=4", P1), T_DR,
                NULL, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_gt(n_get, 0);
    ck_assert_uint_eq(git_entries(r.json, "match"), n_get);
    git_resp_free(&r);
    /* the MPI's search too (PDQm) */
    git_resid("p1", resid);
    snprintf(body, sizeof(body), "identifier=urn%%3Aoid%%3A2.16.156.10011.1.3%%7C%s", resid);
    r = git_req(&G, "POST", "/fhir/Patient/_search", T_DR, NULL, body, form);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 1);
    ck_assert_ptr_nonnull(strstr(r.body, P1));
    git_resp_free(&r);
    /* raw UTF-8 in the form (what curl -d and browsers' forms send) and a
     * final line break are taken; bytes that are not UTF-8 are not */
    r = git_req(&G, "POST", "/fhir/Patient/_search", T_DR, NULL,
                "family=\xE5\xBC\xA0&birthdate=1980-01-01\r\n", form);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_ge(git_entries(r.json, "match"), 4);
    git_resp_free(&r);
    r = git_req(&G, "POST", "/fhir/Patient/_search", T_DR, NULL,
                "family=\xFF\xFE&birthdate=1980-01-01", form);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* refusals: another body type, an unknown parameter, a bad escape, too
     * many parameters, a type not served, and still a token */
    r = git_req(&G, "POST", "/fhir/Observation/_search", T_DR, NULL, "{\"patient\":\"x\"}",
                "application/fhir+json");
    ck_assert_int_eq(r.status, 415);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    git_resp_free(&r);
    snprintf(body, sizeof(body), "patient=%s&bogus=1", P1);
    r = git_req(&G, "POST", "/fhir/Observation/_search", T_DR, NULL, body, form);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_req(&G, "POST", "/fhir/Observation/_search", T_DR, NULL, "patient=%zz", form);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_null(strstr(r.body, "%zz"));
    git_resp_free(&r);
    {
        size_t n = 0;

        for (int i = 0; i < 1500 && n + 8 < sizeof(body); i++)
            n += (size_t)snprintf(body + n, sizeof(body) - n, "%sa=%d", i > 0 ? "&" : "", i % 10);
        r = git_req(&G, "POST", "/fhir/Observation/_search", T_DR, NULL, body, form);
        ck_assert_int_eq(r.status, 413);
        git_resp_free(&r);
    }
    r = git_req(&G, "POST", "/fhir/Basic/_search", T_DR, NULL, "patient=x", form);
    ck_assert_int_eq(r.status, 404);
    git_resp_free(&r);
    snprintf(body, sizeof(body), "patient=%s", P1);
    r = git_req(&G, "POST", "/fhir/Observation/_search", NULL, NULL, body, form);
    ck_assert_int_eq(r.status, 401);
    git_resp_free(&r);
}
END_TEST

/* patient.identifier=SYSTEM|VALUE (IHE MHD ITI-67, clients that know a
 * resident identity number or a hospital's record number): resolved in the
 * patient index; the same matches as patient=ID, and the links name the
 * person so that paging works. */
static void
chained_patient_identifier(size_t n)
{
    char resid[19];
    char q[512];
    struct git_resp r;
    const char *self;

    git_resid("p1", resid);
    snprintf(q, sizeof(q), "/fhir/Observation?patient.identifier=urn:oid:2.16.156.10011.1.3%%7C%s",
             resid);
    r = git_get(&G, q, T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), n);
    self = tu_json_str(r.json, "link.0.url");
    ck_assert_ptr_nonnull(self);
    ck_assert_ptr_nonnull(strstr(self, P1));
    git_resp_free(&r);
    /* a member's own record number names the same person */
    r = git_get(&G,
                "/fhir/Observation?subject:Patient.identifier=urn:fhirgate:test:hosp-a:mrn|"
                "MRN-p1-hosp-a",
                T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), n);
    git_resp_free(&r);
    /* unknown, malformed, twice, or with patient= as well */
    r = git_get(&G, "/fhir/Observation?patient.identifier=urn:x|nobody", T_DR);
    ck_assert_int_eq(r.status, 404);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Observation?patient.identifier=nobody", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    snprintf(q, sizeof(q), "/fhir/Observation?patient.identifier=urn:x|a&patient=%s", P1);
    r = git_get(&G, q, T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* a patient learns nothing about other people's identifiers */
    r = git_get(&G, "/fhir/Observation?patient.identifier=urn:x|nobody", T_PAT);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    snprintf(q, sizeof(q), "/fhir/Observation?patient.identifier=urn:oid:2.16.156.10011.1.3|%s",
             resid);
    r = git_get(&G, q, T_PAT);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
}

/* A Patient named by its absolute URL under the gateway's own base
 * (public_url + /fhir) is that Patient; under any other base it is not. A
 * GET elsewhere under /fhir is a FHIR 404, not the portal's. */
START_TEST(own_absolute_patient_urls_and_unknown_fhir_paths)
{
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_DR);
    size_t n;

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    n = git_entries(r.json, "match");
    ck_assert_uint_gt(n, 0);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=https://127.0.0.1:1/fhir/Patient/%s", P1),
                T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), n);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?subject=https://127.0.0.1:1/fhir/Patient/%s", P1),
                T_DR);
    ck_assert_int_eq(r.status, 200);
    git_resp_free(&r);
    /* the :[type] modifier of a reference parameter: subject:Patient=ID */
    r = git_get(&G, path("/fhir/Observation?subject:Patient=%s", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), n);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?subject:Group=%s", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    chained_patient_identifier(n);
    r = git_get(&G, path("/fhir/Observation?patient=https://elsewhere.example/fhir/Patient/%s", P1),
                T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=https://127.0.0.1:1/fhir/Group/%s", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Observation/some-id", T_DR);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "\"OperationOutcome\""));
    ck_assert_ptr_nonnull(strstr(r.body, "fullUrl"));
    ck_assert_ptr_null(strstr(r.body, "some-id"));
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Nonsense/a/b", NULL);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "\"OperationOutcome\""));
    git_resp_free(&r);
}
END_TEST

/* Prefer: handling=lenient (R4 search.html#errors): what the gateway does
 * not support is ignored — not passed to the members, who would refuse it —
 * and said so in an OperationOutcome entry; strict, it is a 400. */
START_TEST(lenient_handling_ignores_and_says_so)
{
    const char *lenient[] = {"Prefer: handling=lenient", NULL};
    char v[16];
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_DR);
    size_t n = git_entries(r.json, "match");

    ck_assert_uint_gt(n, 0);
    git_resp_free(&r);
    r = git_req(&G, "GET", path("/fhir/Observation?patient=%s&foo=bar", P1), T_DR, lenient, NULL,
                NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), n);
    ck_assert_uint_eq(git_entries(r.json, "outcome"), 1);
    ck_assert_ptr_nonnull(strstr(r.body, "\"foo\""));
    ck_assert_str_eq(header(&r, "X-Members-Answered", v, sizeof(v)), "3");
    git_resp_free(&r);
    r = git_req(
        &G, "GET",
        path("/fhir/Observation?patient=%s&_include:iterate=Observation:subject&_count=2", P1),
        T_DR, lenient, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 2);
    ck_assert_uint_eq(git_entries(r.json, "include"), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "_include"));
    ck_assert_str_eq(header(&r, "X-Members-Answered", v, sizeof(v)), "3");
    git_resp_free(&r);
    /* _summary=true and text: the members subset (R4 search.html#summary)
     * and tag what they send */
    r = git_req(&G, "GET", path("/fhir/Observation?patient=%s&_summary=true&_count=2", P1), T_DR,
                lenient, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 2);
    ck_assert_msg(strstr(r.body, "SUBSETTED") != NULL, "%s", r.body);
    ck_assert_ptr_null(tu_json_at(r.json, "entry.0.resource.text"));
    ck_assert_ptr_nonnull(tu_json_at(r.json, "entry.0.resource.code"));
    ck_assert_str_eq(header(&r, "X-Members-Answered", v, sizeof(v)), "3");
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=%s&_summary=text&_count=50", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_gt(git_entries(r.json, "match"), 0);
    for (size_t i = 0; i < json_array_size(json_object_get(r.json, "entry")); i++) {
        json_t *res =
            json_object_get(json_array_get(json_object_get(r.json, "entry"), i), "resource");

        if (strcmp(tu_json_str(res, "resourceType"), "Observation") != 0)
            continue;
        ck_assert_ptr_null(json_object_get(res, "subject"));
        ck_assert_ptr_null(json_object_get(res, "valueQuantity"));
        ck_assert_ptr_nonnull(json_object_get(res, "status"));
    }
    git_resp_free(&r);
    /* strict (the default): both are 400 */
    r = git_get(&G, path("/fhir/Observation?patient=%s&foo=bar", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=%s&_include:iterate=Observation:subject", P1),
                T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
}
END_TEST

/* _include / _revinclude (R4 search.html#include) are planned here and go
 * to the members (which add the included resources: check_demo, with real
 * adapters); every type an include may return must be readable under the
 * token's scopes (403), a parameter that is not a reference is 400. */
START_TEST(includes_are_checked_at_the_gateway)
{
    char v[16];
    struct git_resp r = git_get(
        &G, path("/fhir/Observation?patient=%s&_include=Observation:patient&_count=50", P1), T_DR);

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(header(&r, "X-Members-Answered", v, sizeof(v)), "3");
    ck_assert_uint_gt(git_entries(r.json, "match"), 0);
    git_resp_free(&r);
    /* two revincludes of one type both go on (each brings other resources);
     * the members' include entries come back after the matches */
    r = git_get(&G,
                path("/fhir/Observation?patient=%s&_revinclude=Provenance:target"
                     "&_revinclude=Provenance:entity&_count=50",
                     P1),
                T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "-target\""));
    ck_assert_ptr_nonnull(strstr(r.body, "-entity\""));
    ck_assert_uint_ge(git_entries(r.json, "include"), 2);
    git_resp_free(&r);
    /* a token that may read Observations but not Patients: 403 */
    {
        struct git_resp t = git_req(&G, "POST", "/auth/token", NULL, NULL,
                                    "grant_type=password&username=dr.a&password=" PW
                                    "&client_id=portal&scope=user/Observation.rs",
                                    "application/x-www-form-urlencoded");
        char *narrow;

        ck_assert_int_eq(t.status, 200);
        narrow = strdup(json_string_value(json_object_get(t.json, "access_token")));
        git_resp_free(&t);
        r = git_get(&G, path("/fhir/Observation?patient=%s&_count=1", P1), narrow);
        ck_assert_int_eq(r.status, 200);
        git_resp_free(&r);
        r = git_get(&G, path("/fhir/Observation?patient=%s&_include=Observation:patient", P1),
                    narrow);
        ck_assert_int_eq(r.status, 403);
        git_resp_free(&r);
        r = git_get(&G, path("/fhir/Observation?patient=%s&_include=*", P1), narrow);
        ck_assert_int_eq(r.status, 403);
        git_resp_free(&r);
        /* an include of another type's parameter adds nothing: no scope needed */
        r = git_get(
            &G, path("/fhir/Observation?patient=%s&_include=DiagnosticReport:result&_count=1", P1),
            narrow);
        ck_assert_int_eq(r.status, 200);
        git_resp_free(&r);
        free(narrow);
    }
    /* not a reference parameter; an unknown one */
    r = git_get(&G, path("/fhir/Observation?patient=%s&_include=Observation:code", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "_include"));
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=%s&_revinclude=Provenance:nonsense", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "_revinclude"));
    git_resp_free(&r);
    /* the same refusals as a member's (fhir_search_include_check): an
     * unknown source type, a Target the parameter cannot refer to */
    r = git_get(&G, path("/fhir/Observation?patient=%s&_include=Nonsense:*", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=%s&_include=Observation:patient:Device", P1),
                T_DR);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "target type"));
    git_resp_free(&r);
}
END_TEST

START_TEST(failing_members_give_partial_results_within_the_deadline)
{
    long long t0 = pt_now_ms();
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s", P2), T_DR);
    long long ms = pt_now_ms() - t0;

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_int_lt(ms, 1500 + 1500);
    ck_assert_uint_eq(git_entries(r.json, "match"), 2);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 2);
    ck_assert_uint_eq(git_entries(r.json, "outcome"), 5);
    ck_assert(git_outcome_mentions(r.json, "hosp-d"));
    ck_assert(git_outcome_mentions(r.json, "hosp-e"));
    ck_assert(git_outcome_mentions(r.json, "hosp-f"));
    ck_assert(git_outcome_mentions(r.json, "hosp-g"));
    ck_assert(git_outcome_mentions(r.json, "hosp-h"));
    ck_assert_ptr_nonnull(strstr(r.body, "urn:fhirgate:fed:latency-ms"));
    git_resp_free(&r);
}
END_TEST

/* A member whose CapabilityStatement does not list a type is not asked for
 * it (an older or third-party member: no failure to report), once a probe
 * has read the statement; one that lists it is asked. */
START_TEST(members_are_asked_only_for_types_they_serve)
{
    struct git_resp r = {0};
    bool skipped = false;

    for (int i = 0; i < 50 && !skipped; i++) {
        r = git_get(&G, path("/fhir/Condition?patient=%s", P2), T_DR);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        skipped = !git_outcome_mentions(r.json, "hosp-e");
        if (!skipped) {
            git_resp_free(&r);
            usleep(100000);
        }
    }
    ck_assert_msg(skipped, "hosp-e was asked for Condition, which it does not serve");
    /* the others, which publish no resource list, are still asked */
    ck_assert(git_outcome_mentions(r.json, "hosp-f"));
    ck_assert(git_outcome_mentions(r.json, "hosp-h"));
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=%s", P2), T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert(git_outcome_mentions(r.json, "hosp-e"));
    git_resp_free(&r);
}
END_TEST

START_TEST(consent_withholds_a_member_and_says_so)
{
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s", P4), T_DR);
    json_t *first;

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    /* the notice is the page's first entry, an outcome */
    first = json_array_get(json_object_get(r.json, "entry"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(first, "search"), "mode")),
                     "outcome");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(json_object_get(first, "resource"), "issue"),
                                        0),
                         "code")),
                     "suppressed");
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 2);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-b"), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "some data withheld by patient consent"));
    ck_assert_ptr_null(strstr(r.body, "hosp-b"));
    git_resp_free(&r);
}
END_TEST

/* Follow a $everything page's next link: it carries `param`, and the page
 * it leads to is answered without any Observation. */
static void
next_page_without_observations(const json_t *b, const char *param)
{
    const char *next = NULL;
    struct git_resp r2;
    size_t i;
    json_t *l;

    json_array_foreach(json_object_get(b, "link"), i, l)
    {
        if (strcmp(json_string_value(json_object_get(l, "relation")), "next") == 0)
            next = json_string_value(json_object_get(l, "url"));
    }
    ck_assert_ptr_nonnull(next);
    ck_assert_ptr_nonnull(strstr(next, param));
    r2 = git_get(&G, strstr(next, "/fhir/"), T_DR);
    ck_assert_msg(r2.status == 200, "%ld %s", r2.status, r2.body);
    ck_assert_ptr_null(strstr(r2.body, "\"Observation\""));
    git_resp_free(&r2);
}

START_TEST(everything_gathers_every_member)
{
    struct git_resp r = git_get(&G, path("/fhir/Patient/%s/$everything", P1), T_DR);

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 3);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-b"), 3);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-c"), 3);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s/$everything?name=x", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* _type: checked here (one type, a list), passed on to the members */
    r = git_get(&G, path("/fhir/Patient/%s/$everything?_type=Observation,Condition", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 3);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s/$everything?_type=Condition", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 1);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s/$everything?_type=Observation,Bogus", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* start/end (care dates): checked here, passed on to the members, kept
     * in the links */
    r = git_get(&G, path("/fhir/Patient/%s/$everything?start=3000&_count=1", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    next_page_without_observations(r.json, "start=3000");
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s/$everything?start=3000", P1), T_DR);
    ck_assert_ptr_null(strstr(r.body, "\"Observation\""));
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s/$everything?start=2000&end=2999-12", P1), T_DR);
    ck_assert_uint_eq(git_tagged(r.json, "hosp-a"), 3);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s/$everything?end=2021-13", P1), T_DR);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.expression.0"), "end");
    git_resp_free(&r);
    /* by POST (HAPI's client does): nothing, a form, a Parameters resource */
    {
        static const char fhir[] = "application/fhir+json";
        static const char *const bad[] = {
            "{\"resourceType\":\"Patient\"}",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_type\"}]}",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"name\","
            "\"valueString\":\"x\"}]}",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_since\","
            "\"valueString\":\"not a date\"}]}",
        };
        char p[256];

        snprintf(p, sizeof(p), "/fhir/Patient/%s/$everything", P1);
        r = git_req(&G, "POST", p, T_DR, NULL, NULL, NULL);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_eq(git_tagged(r.json, "hosp-b"), 3);
        git_resp_free(&r);
        r = git_req(&G, "POST", p, T_DR, NULL, "_type=Condition",
                    "application/x-www-form-urlencoded");
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_eq(git_tagged(r.json, "hosp-b"), 1);
        git_resp_free(&r);
        r = git_req(&G, "POST", p, T_DR, NULL,
                    "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_type\","
                    "\"valueString\":\"Condition\"},{\"name\":\"_count\",\"valueInteger\":50},"
                    "{\"name\":\"_since\",\"valueInstant\":\"2020-01-01T00:00:00Z\"}]}",
                    fhir);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_eq(git_tagged(r.json, "hosp-b"), 1);
        git_resp_free(&r);
        r = git_req(&G, "POST", p, T_DR, NULL,
                    "<Parameters xmlns=\"http://hl7.org/fhir\"><parameter><name value=\"_type\"/>"
                    "<valueString value=\"Condition\"/></parameter></Parameters>",
                    "application/fhir+xml");
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_eq(git_tagged(r.json, "hosp-b"), 1);
        git_resp_free(&r);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            r = git_req(&G, "POST", p, T_DR, NULL, bad[i], fhir);
            ck_assert_msg(r.status == 400, "%s: %ld %s", bad[i], r.status, r.body);
            git_resp_free(&r);
        }
        r = git_req(&G, "POST", p, T_DR, NULL, "x", "text/plain");
        ck_assert_int_eq(r.status, 415);
        git_resp_free(&r);
        r = git_req(&G, "POST", p, NULL, NULL, "", NULL);
        ck_assert_int_eq(r.status, 401);
        git_resp_free(&r);
    }
    /* the next page keeps _type: its link carries it, the members get it again */
    r = git_get(&G, path("/fhir/Patient/%s/$everything?_type=Condition&_count=1", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    next_page_without_observations(r.json, "_type=Condition");
    git_resp_free(&r);
}
END_TEST

START_TEST(paging_follows_the_next_link)
{
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s&_count=4", P1), T_DR);
    const char *next = NULL;
    size_t i;
    json_t *l;
    size_t total;

    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(git_entries(r.json, "match"), 4);
    json_array_foreach(json_object_get(r.json, "link"), i, l) {
        if (strcmp(json_string_value(json_object_get(l, "relation")), "next") == 0)
            next = json_string_value(json_object_get(l, "url"));
    }
    ck_assert_ptr_nonnull(next);
    next = strstr(next, "/fhir/");
    {
        struct git_resp r2 = git_get(&G, next, T_DR);

        ck_assert_msg(r2.status == 200, "%ld %s", r2.status, r2.body);
        total = git_entries(r2.json, "match");
        ck_assert_uint_eq(total, 2);
        git_resp_free(&r2);
        /* another user cannot replay the cursor */
        r2 = git_get(&G, next, T_PAT);
        ck_assert_int_eq(r2.status, 400);
        git_resp_free(&r2);
    }
    git_resp_free(&r);
}
END_TEST

/* Without _sort the answer is most recent first (gateway-api.md §5): the
 * members are asked for that order, since the merge takes a prefix of each
 * member's list — the test members answer oldest first unless asked. */
START_TEST(default_order_is_newest_first_on_the_first_page)
{
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s&_count=1", P1), T_DR);
    size_t i;
    json_t *e;
    const char *when = NULL;

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 1);
    json_array_foreach(json_object_get(r.json, "entry"), i, e)
    {
        json_t *res = json_object_get(e, "resource");

        if (strcmp(json_string_value(json_object_get(res, "resourceType")), "Observation") == 0)
            when = json_string_value(json_object_get(res, "effectiveDateTime"));
    }
    /* each member's newest is 2026-02-…, its oldest 2026-01-… */
    ck_assert_ptr_nonnull(when);
    ck_assert_msg(strncmp(when, "2026-02-", 8) == 0, "first page holds %s", when);
    git_resp_free(&r);
}
END_TEST

/* The url of `relation` in an XML searchset, malloc'd (NULL: none). */
static char *
xml_link(const struct git_resp *r, const char *relation)
{
    json_t *b = NULL;
    size_t i;
    json_t *l;
    char *out = NULL;

    ck_assert_int_eq(fhir_xml_read(r->body, strlen(r->body), NULL, NULL, &b, NULL), BASE_OK);
    json_array_foreach(json_object_get(b, "link"), i, l)
    {
        if (strcmp(json_string_value(json_object_get(l, "relation")), relation) == 0)
            out = strdup(json_string_value(json_object_get(l, "url")));
    }
    json_decref(b);
    return out;
}

/*
 * What FHIR clients other than the portal do (HAPI's client, fhir.js, test
 * kits): reach the gateway under another name and follow the next link as
 * it is, keep _format across pages, send an Accept we cannot satisfy,
 * OPTIONS, and rely on the CapabilityStatement and on lenient handling.
 */
START_TEST(clients_follow_links_under_their_own_base)
{
    struct git_gw lg = G; /* the same gateway, reached as localhost */
    const char *lenient[] = {"Prefer: handling=lenient", NULL};
    const char *pdf[] = {"Accept: application/pdf", NULL};
    const char *forwarded[] = {"X-Forwarded-Host: evil.example", NULL};
    struct git_resp r;
    char h[128];
    char want[128];
    char *next;
    const json_t *res;
    size_t i;
    bool org_name = false;

    snprintf(lg.base, sizeof(lg.base), "https://localhost:%u", G.port);
    snprintf(want, sizeof(want), "https://localhost:%u/fhir/Observation?", G.port);
    r = git_get(&lg, path("/fhir/Observation?patient=%s&_count=2&_format=xml", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(header(&r, "Content-Type", h, sizeof(h)),
                     "application/fhir+xml; charset=utf-8");
    next = xml_link(&r, "next");
    ck_assert_ptr_nonnull(next);
    ck_assert_msg(strncmp(next, want, strlen(want)) == 0, "next link %s", next);
    ck_assert_msg(strstr(next, "_format=xml") != NULL, "next link %s", next);
    git_resp_free(&r);
    /* followed as it is: the next page, in XML */
    r = git_get(&lg, next + strlen(lg.base), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(header(&r, "Content-Type", h, sizeof(h)),
                     "application/fhir+xml; charset=utf-8");
    free(next);
    next = xml_link(&r, "self");
    ck_assert_msg(strncmp(next, want, strlen(want)) == 0, "self link %s", next);
    free(next);
    git_resp_free(&r);
    /* X-Forwarded-* from a client is not trusted without trust_forwarded */
    r = git_req(&lg, "GET", path("/fhir/Observation?patient=%s&_count=2", P1), T_DR, forwarded,
                NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, "evil.example"));
    ck_assert_ptr_nonnull(strstr(r.body, want));
    git_resp_free(&r);
    /* a patient named by its absolute URL under the base the client used */
    {
        char q[512];

        snprintf(q, sizeof(q), "/fhir/Observation?patient=https://localhost:%u/fhir/Patient/%s",
                 G.port, P1);
        r = git_get(&lg, q, T_DR);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_gt(git_entries(r.json, "match"), 0);
        git_resp_free(&r);
    }
    /* PDQm pages under the client's base too */
    r = git_get(&lg, path("/fhir/Patient?_id=%s", P1), T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
                                     json_array_get(json_object_get(r.json, "link"), 0), "url")),
                                 "https://localhost:"));
    git_resp_free(&r);
    /* 406 for an Accept naming only what the gateway cannot produce */
    r = git_req(&G, "GET", "/fhir/metadata", NULL, pdf, NULL, NULL);
    ck_assert_int_eq(r.status, 406);
    ck_assert_ptr_nonnull(strstr(r.body, "\"not-supported\""));
    git_resp_free(&r);
    r = git_req(&G, "GET", path("/fhir/Observation?patient=%s", P1), T_DR, pdf, NULL, NULL);
    ck_assert_int_eq(r.status, 406);
    git_resp_free(&r);
    /* OPTIONS: 204 with the methods; DELETE: 405 naming them */
    r = git_req(&G, "OPTIONS", "/fhir/Observation/_search", NULL, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 204);
    ck_assert_ptr_nonnull(strstr(header(&r, "Allow", h, sizeof(h)), "POST"));
    ck_assert_ptr_nonnull(strstr(h, "OPTIONS"));
    git_resp_free(&r);
    r = git_req(&G, "DELETE", "/fhir/metadata", NULL, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(header(&r, "Allow", h, sizeof(h)), "GET, HEAD, OPTIONS");
    git_resp_free(&r);
    /* the CapabilityStatement: registry parameters listed, no system-level
     * operation (Patient's are on Patient) */
    r = git_get(&G, "/fhir/metadata", NULL);
    ck_assert_ptr_null(
        json_object_get(json_array_get(json_object_get(r.json, "rest"), 0), "operation"));
    json_array_foreach(
        json_object_get(json_array_get(json_object_get(r.json, "rest"), 0), "resource"), i, res)
    {
        if (strcmp(json_string_value(json_object_get(res, "type")), "Organization") == 0) {
            char *t = json_dumps(json_object_get(res, "searchParam"), JSON_COMPACT);

            org_name = strstr(t, "\"name\"") != NULL && strstr(t, "\"active\"") != NULL;
            free(t);
        }
    }
    ck_assert(org_name);
    git_resp_free(&r);
    /* the registry searches honour Prefer: handling */
    r = git_get(&G, "/fhir/Organization?foo=bar", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_req(&G, "GET", "/fhir/Organization?foo=bar", T_DR, lenient, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
}
END_TEST

/* The url of `relation` in a Bundle's links, from "/fhir/" on (what
 * git_get takes); NULL when there is no such link. */
static const char *
link_path(json_t *bundle, const char *relation)
{
    size_t i;
    json_t *l;

    json_array_foreach(json_object_get(bundle, "link"), i, l)
    {
        if (strcmp(json_string_value(json_object_get(l, "relation")), relation) == 0)
            return strstr(json_string_value(json_object_get(l, "url")), "/fhir/");
    }
    return NULL;
}

/* PDQm pages: every page has its self link (R4 search.html: "all search
 * sets include the self link"), Bundle.total counts every match, and the
 * next links lead through each person once. */
START_TEST(pdqm_pages_follow_next_links)
{
    struct git_resp all = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01", T_DR);
    size_t n_all = git_entries(all.json, "match");
    char *seen = calloc(1, 64 * 40);
    size_t n_seen = 0;
    char next[1024];

    ck_assert_int_eq(all.status, 200);
    ck_assert_uint_ge(n_all, 4);
    ck_assert_int_eq(json_integer_value(json_object_get(all.json, "total")), (json_int_t)n_all);
    ck_assert_str_eq(link_path(all.json, "self"),
                     "/fhir/Patient?family=Zhang&birthdate=1980-01-01");
    ck_assert_ptr_null(link_path(all.json, "next"));
    snprintf(next, sizeof(next), "%s", "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_count=3");
    for (int page = 0; next[0] != '\0'; page++) {
        struct git_resp r = git_get(&G, next, T_DR);
        const char *nl;
        size_t i;
        json_t *e;

        ck_assert_msg(r.status == 200, "%s: %ld %s", next, r.status, r.body);
        ck_assert_int_le(page, 10);
        ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), (json_int_t)n_all);
        ck_assert_ptr_nonnull(link_path(r.json, "self"));
        ck_assert_uint_le(git_entries(r.json, "match"), 3);
        json_array_foreach(json_object_get(r.json, "entry"), i, e)
        {
            const char *id =
                json_string_value(json_object_get(json_object_get(e, "resource"), "id"));

            ck_assert_ptr_nonnull(id);
            ck_assert_msg(strstr(seen, id) == NULL, "%s seen twice", id);
            ck_assert_uint_lt(n_seen, 63);
            strcat(seen, id);
            strcat(seen, " ");
            n_seen++;
            ck_assert_ptr_nonnull(strstr(all.body, id));
        }
        nl = link_path(r.json, "next");
        snprintf(next, sizeof(next), "%s", nl != NULL ? nl : "");
        /* a page that says more follow is full */
        if (nl != NULL)
            ck_assert_uint_eq(git_entries(r.json, "match"), 3);
        git_resp_free(&r);
    }
    ck_assert_uint_eq(n_seen, n_all);
    free(seen);
    git_resp_free(&all);
    /* a token that is no id is refused, not ignored */
    all = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_cursor=%27--", T_DR);
    ck_assert_int_eq(all.status, 400);
    git_resp_free(&all);
    /* a patient sees only themselves: no next page that would name another */
    all = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_count=1", T_PAT);
    ck_assert_msg(all.status == 200, "%ld %s", all.status, all.body);
    ck_assert_ptr_null(link_path(all.json, "next"));
    git_resp_free(&all);
}
END_TEST

/* ------------------------------------------------------------ MPI -- */

/* Repeated PDQm parameters are ANDed (R4 search.html#combining), whatever
 * their order; Prefer: handling=lenient ignores an unsupported one. */
START_TEST(pdqm_repeated_parameters_and_lenient_handling)
{
    static const char base[] = "/fhir/Patient?birthdate=1980-01-01&";
    static const struct {
        const char *query;
        bool all; /* every Zhang born that day, else nobody */
    } cases[] = {{"family=Zhang&family=Zha", true},        {"family=Zha&family=zhang", true},
                 {"family=Zhang&family=Wang", false},      {"family=Wang&family=Zhang", false},
                 {"family:exact=Zha&family=Zhang", false}, {"family=Zhang&name=Zhang", true},
                 {"family=Zhang&_id=a1&_id=b2", false}};
    const char *lenient[] = {"Prefer: handling=lenient", NULL};
    struct git_resp r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01", T_DR);
    size_t all = git_entries(r.json, "match");
    size_t male;
    char q[256];

    ck_assert_uint_ge(all, 4);
    git_resp_free(&r);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(q, sizeof(q), "%s%s", base, cases[i].query);
        r = git_get(&G, q, T_DR);
        ck_assert_msg(r.status == 200, "%s: %ld %s", q, r.status, r.body);
        ck_assert_msg(git_entries(r.json, "match") == (cases[i].all ? all : 0), "%s: %zu", q,
                      git_entries(r.json, "match"));
        git_resp_free(&r);
    }
    /* one person, one gender */
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&gender=male", T_DR);
    male = git_entries(r.json, "match");
    ck_assert_uint_gt(male, 0);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&gender=female&gender=male",
                T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(git_entries(r.json, "match"), 0);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&gender=male&gender=male",
                T_DR);
    ck_assert_uint_eq(git_entries(r.json, "match"), male);
    git_resp_free(&r);
    /* strict by default; lenient ignores what it does not support, never a
     * bad value of what it does */
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_sort=family", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_req(&G, "GET",
                "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_sort=family&_total=accurate",
                T_DR, lenient, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), all);
    git_resp_free(&r);
    r = git_req(&G, "GET", "/fhir/Patient?family=Zhang&birthdate=1980-01-01&gender=yes", T_DR,
                lenient, NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_req(&G, "GET", "/fhir/Patient?gender=yes&_sort=family", T_DR, lenient, NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* an OR list (R4 search.html#combining) is searched as alternatives;
     * "\," is a comma in the value, and an address takes its commas as
     * written */
    {
        static const struct {
            const char *query;
            bool all;
        } ors[] = {{"family=Wang,Zhang&birthdate=1980-01-01", true},
                   {"family=Zhang&birthdate=1980-01-01&gender=male,female", true},
                   {"family=Zhang&birthdate=1980-01-01&gender=female,other", false},
                   {"identifier=urn:x%7Ca,urn:y%7Cb", false},
                   {"identifier=urn:x%7Ca%2Curn:y%7Cb", false},
                   {"family=Zhang%5C,Wang&birthdate=1980-01-01", false},
                   {"family=Zhang&birthdate=1980-01-01&address=Room%203,%20Building%205", false}};

        for (size_t i = 0; i < sizeof(ors) / sizeof(ors[0]); i++) {
            snprintf(q, sizeof(q), "/fhir/Patient?%s", ors[i].query);
            r = git_get(&G, q, T_DR);
            ck_assert_msg(r.status == 200, "%s: %ld %s", q, r.status, r.body);
            ck_assert_msg(git_entries(r.json, "match") == (ors[i].all ? all : 0), "%s: %zu", q,
                          git_entries(r.json, "match"));
            git_resp_free(&r);
        }
    }
}
END_TEST

/* What IHE PDQm consumers (ITI-78) and PIXm consumers (ITI-83) send, as the
 * Gazelle tools and HAPI-based clients do. */
START_TEST(pdqm_as_ihe_consumers_send_it)
{
    const char *lenient[] = {"Prefer: handling=lenient", NULL};
    struct git_resp r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01", T_DR);
    size_t all = git_entries(r.json, "match");
    const char *self;
    char q[512];

    ck_assert_uint_ge(all, 4);
    git_resp_free(&r);
    /* ITI-78 2:3.78.4.1.2.1: every parameter alone is a search; each answer
     * is a page of at most _count, Bundle.total counting all */
    {
        static const char *const alone[] = {"family=Zhang", "gender=male",
                                            "name=Zhang",   "birthdate=1980-01-01",
                                            "given=San",    "gender=male&birthdate=1980-01-01",
                                            "active=true"};

        for (size_t i = 0; i < sizeof(alone) / sizeof(alone[0]); i++) {
            snprintf(q, sizeof(q), "/fhir/Patient?%s&_count=2", alone[i]);
            r = git_get(&G, q, T_DR);
            ck_assert_msg(r.status == 200, "%s: %ld %s", q, r.status, r.body);
            ck_assert_msg(git_entries(r.json, "match") == 2, "%s", q);
            ck_assert_int_ge(json_integer_value(json_object_get(r.json, "total")), (json_int_t)all);
            ck_assert_ptr_nonnull(link_path(r.json, "next"));
            git_resp_free(&r);
        }
    }
    /* _total (R4 search.html#total, as HAPI clients send it): counted anyway */
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_total=accurate", T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), (json_int_t)all);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=Zhang&_total=maybe", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* :contains and :exact on the string parameters (R4 search.html#string) */
    {
        static const struct {
            const char *query;
            bool all;
        } mods[] = {{"family:contains=han", true},      {"family:contains=wan", false},
                    {"given:contains=an", true},        {"name:contains=angsa", true},
                    {"family:exact=Zhang", true},       {"family:exact=Zhan", false},
                    {"address:contains=999", false},    {"family=Zhang,Li&given:exact=San", true},
                    {"address-city:exact=jinan", false}};

        for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
            snprintf(q, sizeof(q), "/fhir/Patient?%s&birthdate=1980-01-01", mods[i].query);
            r = git_get(&G, q, T_DR);
            ck_assert_msg(r.status == 200, "%s: %ld %s", q, r.status, r.body);
            ck_assert_msg(git_entries(r.json, "match") == (mods[i].all ? all : 0), "%s: %zu", q,
                          git_entries(r.json, "match"));
            git_resp_free(&r);
        }
        /* only p1 has an address: 250000 */
        r = git_get(&G, "/fhir/Patient?address:contains=5000&address-postalcode:exact=250000",
                    T_DR);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_eq(git_entries(r.json, "match"), 1);
        git_resp_free(&r);
    }
    /* identifier OR list: either record number */
    r = git_get(&G,
                "/fhir/Patient?identifier=urn:fhirgate:test:hosp-a:mrn%7CMRN-p1-hosp-a,"
                "urn:fhirgate:test:hosp-a:mrn%7CMRN-p3-hosp-a",
                T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 2);
    ck_assert_ptr_nonnull(strstr(r.body, P1));
    ck_assert_ptr_nonnull(strstr(r.body, P3));
    git_resp_free(&r);
    /* ITI-78 "Populating Which Domains are Returned": SYSTEM| keeps that
     * domain's identifiers only; an unknown domain is 404 "targetSystem not
     * found" (Case 4) */
    r = git_get(&G,
                "/fhir/Patient?family=Zhang&birthdate=1980-01-01&identifier="
                "urn:fhirgate:test:hosp-b:mrn%7C",
                T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_gt(git_entries(r.json, "match"), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "hosp-b:mrn"));
    ck_assert_ptr_null(strstr(r.body, "hosp-a:mrn"));
    ck_assert_ptr_null(strstr(r.body, GW_MPI_RESID_SYSTEM));
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=Zhang&identifier=urn:oid:1.2.3.4.5%7C", T_DR);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.code"), "not-found");
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.diagnostics"), "targetSystem not found");
    git_resp_free(&r);
    /* lenient: what was ignored is out of the self link, and said so */
    r = git_req(&G, "GET", "/fhir/Patient?family=Zhang&_sort=family&birthdate=1980-01-01&foo:bar=1",
                T_DR, lenient, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), all);
    ck_assert_uint_eq(git_entries(r.json, "outcome"), 1);
    self = link_path(r.json, "self");
    ck_assert_ptr_nonnull(self);
    ck_assert_ptr_nonnull(strstr(self, "family=Zhang"));
    ck_assert_ptr_nonnull(strstr(self, "birthdate=1980-01-01"));
    ck_assert_ptr_null(strstr(self, "_sort"));
    ck_assert_ptr_null(strstr(self, "foo"));
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), (json_int_t)all);
    git_resp_free(&r);
    /* ITI-78 2:3.78.4.1.2.4: suppliers answer XML too, outcome entry included */
    r = git_req(&G, "GET", "/fhir/Patient?family=Zhang&_sort=family&_format=xml&_count=2", T_DR,
                lenient, NULL, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "<Bundle xmlns=\"http://hl7.org/fhir\">"));
    ck_assert_ptr_nonnull(strstr(r.body, "<OperationOutcome"));
    ck_assert_ptr_nonnull(strstr(r.body, "<relation value=\"next\"/>"));
    git_resp_free(&r);
    /* ITI-83: a known domain without that identifier is 404 with the
     * profile's OperationOutcome */
    r = git_get(&G, "/fhir/Patient/$ihe-pix?sourceIdentifier=urn:fhirgate:test:hosp-a:mrn|nobody",
                T_DR);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.code"), "not-found");
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.diagnostics"),
                     "sourceIdentifier Patient Identifier not found");
    git_resp_free(&r);
}
END_TEST

/* ITI-83 by POST (a Parameters body or a form, as HAPI's client and
 * consumers keeping identifiers out of URLs send it) answers as the GET;
 * more targetSystems than the gateway reads are refused, not cut short. */
START_TEST(pixm_by_post_and_bounded_targets)
{
    static const char src[] = "urn:fhirgate:test:hosp-a:mrn|MRN-p1-hosp-a";
    char body[4096];
    struct git_resp r;
    size_t n;

    snprintf(body, sizeof(body),
             "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"sourceIdentifier\","
             "\"valueString\":\"%s\"},{\"name\":\"targetSystem\",\"valueUri\":"
             "\"urn:fhirgate:test:hosp-b:mrn\"}]}",
             src);
    r = git_req(&G, "POST", "/fhir/Patient/$ihe-pix", T_DR, NULL, body, "application/fhir+json");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tu_json_str(r.json, "resourceType"), "Parameters");
    ck_assert_ptr_nonnull(strstr(r.body, "MRN-p1-hosp-b"));
    ck_assert_ptr_null(strstr(r.body, "MRN-p1-hosp-c"));
    git_resp_free(&r);
    r = git_req(&G, "POST", "/fhir/Patient/$ihe-pix", T_DR, NULL,
                "sourceIdentifier=urn%3Afhirgate%3Atest%3Ahosp-a%3Amrn%7CMRN-p1-hosp-a",
                "application/x-www-form-urlencoded");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "MRN-p1-hosp-c"));
    git_resp_free(&r);
    /* the same refusals as the GET */
    r = git_req(&G, "POST", "/fhir/Patient/$ihe-pix", T_DR, NULL,
                "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":"
                "\"sourceIdentifier\",\"valueString\":\"urn:x|nobody\"}]}",
                "application/fhir+json");
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.code"), "code-invalid");
    git_resp_free(&r);
    r = git_req(&G, "POST", "/fhir/Patient/$ihe-pix", T_DR, NULL, "{\"resourceType\":\"Patient\"}",
                "application/fhir+json");
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* 17 targetSystems: the 17th would have been dropped, and its domain's
     * identifiers left out of the answer without a word */
    n = (size_t)snprintf(body, sizeof(body), "/fhir/Patient/$ihe-pix?sourceIdentifier=%s", src);
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "&targetSystem=urn:fhirgate:test:hosp-b:mrn");
    r = git_get(&G, body, T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
    snprintf(body + n, sizeof(body) - n, "&targetSystem=urn:fhirgate:test:hosp-c:mrn");
    r = git_get(&G, body, T_DR);
    ck_assert_msg(r.status == 400, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.expression.0"), "targetSystem");
    git_resp_free(&r);
}
END_TEST

/* ITI-78 searches mothersMaidenName: the Patient found shows it (R4
 * patient-mothersMaidenName), and no other member extension. */
START_TEST(pdqm_patient_shows_mothers_maiden_name)
{
    struct git_resp r =
        git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&mothersMaidenName=li", T_DR);
    const char *v;

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 1);
    ck_assert_str_eq(tu_json_str(r.json, "entry.0.resource.extension.0.url"),
                     "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName");
    v = tu_json_str(r.json, "entry.0.resource.extension.0.valueString");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(strncasecmp(v, "li", 2), 0);
    ck_assert_ptr_null(tu_json_str(r.json, "entry.0.resource.extension.1.url"));
    git_resp_free(&r);
}
END_TEST

START_TEST(pdqm_and_pixm)
{
    char resid[19];
    char p[256];
    struct git_resp r;

    git_resid("p1", resid);
    snprintf(p, sizeof(p), "/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|%s", resid);
    r = git_get(&G, p, T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 1);
    ck_assert_ptr_nonnull(strstr(r.body, P1));
    ck_assert_ptr_nonnull(strstr(r.body, "MRN-p1-hosp-c"));
    git_resp_free(&r);
    /* a token without a system matches any system (R4 search.html#token):
     * a member's record number, the resident id, the regional id; "|VALUE"
     * is an identifier with no system, which the index never holds */
    {
        const char *value_only[] = {"MRN-p1-hosp-a", resid, P1};

        for (size_t i = 0; i < sizeof(value_only) / sizeof(value_only[0]); i++) {
            snprintf(p, sizeof(p), "/fhir/Patient?identifier=%s", value_only[i]);
            r = git_get(&G, p, T_DR);
            ck_assert_msg(r.status == 200, "%s: %ld %s", p, r.status, r.body);
            ck_assert_msg(git_entries(r.json, "match") == 1, "%s", p);
            ck_assert_ptr_nonnull(strstr(r.body, P1));
            git_resp_free(&r);
        }
        static const struct {
            const char *query;
            int status;
        } none[] = {{"identifier=%7CMRN-p1-hosp-a", 200},
                    {"identifier=MRN-p1-hosp-a&gender=female", 200},
                    {"identifier=nobody-at-all", 200},
                    {"identifier=urn:x%7C", 404}, /* ITI-78 Case 4: no such domain */
                    {"identifier=%7C", 400}};
        for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
            snprintf(p, sizeof(p), "/fhir/Patient?%s", none[i].query);
            r = git_get(&G, p, T_DR);
            ck_assert_msg(r.status == none[i].status, "%s: %ld", p, r.status);
            if (r.status == 200)
                ck_assert_msg(git_entries(r.json, "match") == 0, "%s", p);
            git_resp_free(&r);
        }
    }
    /* a wrong GB 11643 check character is refused */
    resid[17] = resid[17] == '0' ? '1' : '0';
    snprintf(p, sizeof(p), "/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|%s", resid);
    r = git_get(&G, p, T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* no listing of the whole index */
    r = git_get(&G, "/fhir/Patient?_count=5", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_ge(git_entries(r.json, "match"), 4);
    git_resp_free(&r);
    /* a prefix of the family name is a match; with :exact it is not; an
     * unknown modifier or parameter is a 400 */
    r = git_get(&G, "/fhir/Patient?family=Zha&birthdate=1980-01-01", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_ge(git_entries(r.json, "match"), 4);
    git_resp_free(&r);
    /* raw UTF-8 in the URL (what curl sends) is the same as its %XX form */
    r = git_get(&G, "/fhir/Patient?family=\xE5\xBC\xA0&birthdate=1980-01-01", T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_ge(git_entries(r.json, "match"), 4);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=%E5%BC%A0&birthdate=1980-01-01", T_DR);
    ck_assert_uint_ge(git_entries(r.json, "match"), 4);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family:exact=Zha&birthdate=1980-01-01", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(git_entries(r.json, "match"), 0);
    /* no match: total 0 and no entry array (JSON FHIR has no empty arrays) */
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), 0);
    ck_assert_ptr_null(json_object_get(r.json, "entry"));
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family:exact=Zhang&birthdate=1980-01-01", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_ge(git_entries(r.json, "match"), 4);
    git_resp_free(&r);
    /* IHE ITI-78 address and active: only p1's records carry an address */
    {
        static const struct {
            const char *query;
            int matches; /* -1: 400 */
        } pdq[] = {
            {"family=Zhang&birthdate=1980-01-01&address-city=%E6%B5%8E%E5%8D%97", 1},
            {"family=Zhang&birthdate=1980-01-01&address-city=jinan", 0},
            {"family=Zhang&birthdate=1980-01-01&address=%E6%B3%89%E5%9F%8E%E8%B7%AF", 1},
            {"family=Zhang&birthdate=1980-01-01&address=250000", 1},
            {"family=Zhang&birthdate=1980-01-01&address-postalcode=2500", 1},
            {"family=Zhang&birthdate=1980-01-01&address-country=cn", 1},
            {"family=Zhang&birthdate=1980-01-01&address-state=%E5%B1%B1%E4%B8%9C", 1},
            {"family=Zhang&birthdate=1980-01-01&address-city=%25", 0},
            {"family=Zhang&birthdate=1980-01-01&address-city=", -1},
            {"family=Zhang&birthdate=1980-01-01&mothersMaidenName=li", 1},
            {"family=Zhang&birthdate=1980-01-01&mothersMaidenName=Wang", 0},
            {"family=Zhang&birthdate=1980-01-01&active=false", 0},
            {"family=Zhang&birthdate=1980-01-01&active=yes", -1},
        };
        char q[512];
        char resid1[19];
        char resid2[19];

        for (size_t i = 0; i < sizeof(pdq) / sizeof(pdq[0]); i++) {
            snprintf(q, sizeof(q), "/fhir/Patient?%s", pdq[i].query);
            r = git_get(&G, q, T_DR);
            if (pdq[i].matches < 0) {
                ck_assert_msg(r.status == 400, "%s: %ld", q, r.status);
            } else {
                ck_assert_msg(r.status == 200, "%s: %ld %s", q, r.status, r.body);
                ck_assert_msg(git_entries(r.json, "match") == (size_t)pdq[i].matches, "%s: %zu", q,
                              git_entries(r.json, "match"));
                if (pdq[i].matches == 1)
                    ck_assert_ptr_nonnull(strstr(r.body, P1));
            }
            git_resp_free(&r);
        }
        git_resid("p1", resid1);
        r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&active=true", T_DR);
        ck_assert_uint_ge(git_entries(r.json, "match"), 4);
        git_resp_free(&r);
        /* a larger _count than the page allows is that page, not an error */
        r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_count=100000", T_DR);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_ge(git_entries(r.json, "match"), 4);
        git_resp_free(&r);
        /* _count=0 and _summary=count: the total alone (R4 search.html#count) */
        {
            const char *counts[] = {"_count=0", "_summary=count", "_summary=count&_count=1"};

            r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01", T_DR);
            json_int_t all = json_integer_value(json_object_get(r.json, "total"));
            git_resp_free(&r);
            ck_assert_int_ge(all, 4);
            for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
                snprintf(q, sizeof(q), "/fhir/Patient?family=Zhang&birthdate=1980-01-01&%s",
                         counts[i]);
                r = git_get(&G, q, T_DR);
                ck_assert_msg(r.status == 200, "%s: %ld %s", q, r.status, r.body);
                ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), all);
                ck_assert_ptr_null(json_object_get(r.json, "entry"));
                git_resp_free(&r);
            }
            snprintf(q, sizeof(q), "/fhir/Patient?identifier=%s&_summary=count", resid1);
            r = git_get(&G, q, T_DR);
            ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), 1);
            ck_assert_ptr_null(json_object_get(r.json, "entry"));
            git_resp_free(&r);
            /* a patient counts themselves only */
            r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_summary=count",
                        T_PAT);
            ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
            ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), 1);
            ck_assert_ptr_null(json_object_get(r.json, "entry"));
            git_resp_free(&r);
            /* _summary=true: R4's summary elements of each Patient, tagged */
            r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_summary=true", T_DR);
            ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
            ck_assert_ptr_nonnull(tu_json_at(r.json, "entry.0.resource.name"));
            ck_assert_str_eq(tu_json_str(r.json, "entry.0.resource.meta.tag.0.code"), "SUBSETTED");
            git_resp_free(&r);
            r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_summary=text", T_DR);
            ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
            ck_assert_ptr_null(tu_json_at(r.json, "entry.0.resource.name"));
            ck_assert_ptr_nonnull(tu_json_at(r.json, "entry.0.resource.id"));
            git_resp_free(&r);
            r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&_summary=maybe", T_DR);
            ck_assert_int_eq(r.status, 400);
            git_resp_free(&r);
        }
        git_resid("p1", resid1);
        /* with an identifier, the other parameters still apply (all of a
         * search's parameters do) */
        snprintf(q, sizeof(q),
                 "/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|%s&address-city=%%E6%%B5%%8E",
                 resid1);
        r = git_get(&G, q, T_DR);
        ck_assert_uint_eq(git_entries(r.json, "match"), 1);
        git_resp_free(&r);
        git_resid("p2", resid2);
        snprintf(q, sizeof(q),
                 "/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|%s&address-city=%%E6%%B5%%8E",
                 resid2);
        r = git_get(&G, q, T_DR);
        ck_assert_uint_eq(git_entries(r.json, "match"), 0);
        git_resp_free(&r);
        snprintf(q, sizeof(q),
                 "/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|%s&gender=female", resid1);
        r = git_get(&G, q, T_DR);
        ck_assert_uint_eq(git_entries(r.json, "match"), 0);
        git_resp_free(&r);
    }
    /* birthdate with the R4 date prefixes (search.html#prefix): every
     * Zhang here was born on 1980-01-01, so each query finds all or none */
    {
        static const struct {
            const char *birthdate;
            int all; /* 1: every Zhang, 0: none, -1: 400 */
        } bd[] = {
            {"birthdate=ge1980-01-01", 1},
            {"birthdate=le1980-01-01", 1},
            {"birthdate=gt1980-01-01", 0},
            {"birthdate=lt1980-01-01", 0},
            {"birthdate=ne1980-01-01", 0},
            {"birthdate=sa1979-12-31", 1},
            {"birthdate=sa1980-01-01", 0},
            {"birthdate=eb1980-01-02", 1},
            {"birthdate=eb1980-01-01", 0},
            {"birthdate=eq1980", 1},
            {"birthdate=1980-01", 1},
            {"birthdate=1980-02", 0},
            {"birthdate=ne1980-02", 1},
            {"birthdate=gt1979", 1},
            {"birthdate=gt1980", 0},
            {"birthdate=le1980", 1},
            {"birthdate=lt1980", 0},
            {"birthdate=ge1981", 0},
            {"birthdate=ge1979&birthdate=lt1981", 1},
            {"birthdate=ge1981&birthdate=lt1979", 0},
            {"birthdate=ap1980-01-01", -1},
            {"birthdate=xx1980-01-01", -1},
            {"birthdate=ge1980-13-01", -1},
            {"birthdate=ge", -1},
            {"birthdate=1980-01-01T08:00:00Z", -1},
            {"birthdate=1980&birthdate=1980&birthdate=1980&birthdate=1980&birthdate=1980", -1},
        };
        char q[256];
        size_t all;

        r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01", T_DR);
        all = git_entries(r.json, "match");
        ck_assert_uint_ge(all, 4);
        git_resp_free(&r);
        for (size_t i = 0; i < sizeof(bd) / sizeof(bd[0]); i++) {
            snprintf(q, sizeof(q), "/fhir/Patient?family=Zhang&%s", bd[i].birthdate);
            r = git_get(&G, q, T_DR);
            if (bd[i].all < 0) {
                ck_assert_msg(r.status == 400, "%s: %ld", q, r.status);
                ck_assert_str_eq(tu_json_str(r.json, "issue.0.expression.0"), "birthdate");
            } else {
                ck_assert_msg(r.status == 200, "%s: %ld %s", q, r.status, r.body);
                ck_assert_msg(git_entries(r.json, "match") == (bd[i].all ? all : 0), "%s: %zu", q,
                              git_entries(r.json, "match"));
            }
            git_resp_free(&r);
        }
    }
    r = git_get(&G, "/fhir/Patient?family:missing=true&birthdate=1980-01-01", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&foo=1", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G,
                "/fhir/Patient/$ihe-pix?sourceIdentifier=urn:fhirgate:test:hosp-a:mrn|MRN-p1-hosp-a",
                T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "MRN-p1-hosp-b"));
    git_resp_free(&r);
    /* IHE ITI-83: a domain the index does not know is 400 (source) or 403
     * (target); a known domain without that identifier is 404 */
    r = git_get(&G, "/fhir/Patient/$ihe-pix?sourceIdentifier=urn:x|nobody", T_DR);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.code"), "code-invalid");
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.diagnostics"),
                     "sourceIdentifier Assigning Authority not found");
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient/$ihe-pix?sourceIdentifier=urn:fhirgate:test:hosp-a:mrn|nobody",
                T_DR);
    ck_assert_int_eq(r.status, 404);
    git_resp_free(&r);
    r = git_get(&G,
                "/fhir/Patient/$ihe-pix?sourceIdentifier=urn:fhirgate:test:hosp-a:mrn|MRN-p1-hosp-a"
                "&targetSystem=urn:fhirgate:test:hosp-b:mrn&targetSystem=urn:x",
                T_DR);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(tu_json_str(r.json, "issue.0.diagnostics"), "targetSystem not found");
    git_resp_free(&r);
    r = git_get(&G,
                "/fhir/Patient/$ihe-pix?sourceIdentifier=urn:fhirgate:test:hosp-a:mrn|MRN-p1-hosp-a"
                "&targetSystem=urn:fhirgate:test:hosp-b:mrn",
                T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "MRN-p1-hosp-b"));
    ck_assert_ptr_null(strstr(r.body, "MRN-p1-hosp-c"));
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s", P1), T_DR);
    ck_assert_int_eq(r.status, 200);
    git_resp_free(&r);
    /* Patient/$match (R4 patient-match, IHE ITI-119) */
    {
        char body[1024];
        static const char demo[] =
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"resource\","
            "\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zhang\","
            "\"given\":[\"San\"]}],\"birthDate\":\"1980-01-01\",\"gender\":\"male\"}}%s]}";

        char since[32];
        time_t t0 = time(NULL) - 1;

        strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
        git_resid("p1", resid);
        snprintf(body, sizeof(body),
                 "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"resource\","
                 "\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                 "\"urn:oid:2.16.156.10011.1.3\",\"value\":\"%s\"}]}}]}",
                 resid);
        r = git_req(&G, "POST", "/fhir/Patient/$match", T_DR, NULL, body, "application/fhir+json");
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_eq(git_entries(r.json, "match"), 1);
        ck_assert_ptr_nonnull(strstr(r.body, P1));
        ck_assert_str_eq(tu_json_str(r.json, "entry.0.search.extension.0.valueCode"), "certain");
        ck_assert_ptr_nonnull(strstr(r.body, "\"score\":1.000"));
        git_resp_free(&r);
        /* demographics shared by several persons here: graded, none certain */
        snprintf(body, sizeof(body), demo, "");
        r = git_req(&G, "POST", "/fhir/Patient/$match", T_DR, NULL, body, "application/fhir+json");
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_ge(git_entries(r.json, "match"), 4);
        ck_assert_ptr_null(strstr(r.body, "\"certain\""));
        git_resp_free(&r);
        snprintf(body, sizeof(body), demo,
                 ",{\"name\":\"onlyCertainMatches\",\"valueBoolean\":true}");
        r = git_req(&G, "POST", "/fhir/Patient/$match", T_DR, NULL, body, "application/fhir+json");
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(git_entries(r.json, "match"), 0);
        git_resp_free(&r);
        snprintf(body, sizeof(body), demo, ",{\"name\":\"count\",\"valueInteger\":2}");
        r = git_req(&G, "POST", "/fhir/Patient/$match", T_DR, NULL, body, "application/fhir+json");
        ck_assert_uint_eq(git_entries(r.json, "match"), 2);
        git_resp_free(&r);
        /* refusals: a patient caller, unknown parameters, no Patient */
        snprintf(body, sizeof(body), demo, "");
        r = git_req(&G, "POST", "/fhir/Patient/$match", T_PAT, NULL, body, "application/fhir+json");
        ck_assert_int_eq(r.status, 403);
        git_resp_free(&r);
        snprintf(body, sizeof(body), demo, ",{\"name\":\"foo\",\"valueString\":\"x\"}");
        r = git_req(&G, "POST", "/fhir/Patient/$match", T_DR, NULL, body, "application/fhir+json");
        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
        r = git_req(&G, "POST", "/fhir/Patient/$match", T_DR, NULL,
                    "{\"resourceType\":\"Parameters\"}", "application/fhir+json");
        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
        /* the match is in the audit trail, naming the person it returned */
        snprintf(body, sizeof(body), "/fhir/AuditEvent?patient=%s&agent=dr.a&date=ge%s", P1, since);
        r = git_get(&G, body, T_REG);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        /* the certain match and the demographic one named p1 (count=2 may not) */
        ck_assert_uint_ge(git_entries(r.json, "match"), 2);
        ck_assert_ptr_nonnull(strstr(r.body, "\"code\":\"operation\""));
        git_resp_free(&r);
    }
    /* _id (IHE ITI-78) finds that person alone, and nothing when unknown */
    r = git_get(&G, path("/fhir/Patient?_id=%s", P1), T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_eq(git_entries(r.json, "match"), 1);
    ck_assert_ptr_nonnull(strstr(r.body, P1));
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?_id=00000000-0000-4000-8000-000000000000", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(git_entries(r.json, "match"), 0);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?_id=a%20b", T_DR);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* a phone number alone is a search (ITI-78: each parameter alone) */
    r = git_get(&G, "/fhir/Patient?telecom=13800138000", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(git_entries(r.json, "match"), 0);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Patient?family=Zhang&birthdate=1980-01-01&phone=phone|139", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(git_entries(r.json, "match"), 0);
    git_resp_free(&r);
}
END_TEST

/* ------------------------------------------------------- patients -- */

START_TEST(a_patient_sees_their_record_and_who_looked)
{
    struct git_resp r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_PAT);

    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Observation?patient=%s", P2), T_PAT);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    /* make sure dr.a looked */
    r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_DR);
    git_resp_free(&r);
    {
        /* the doctor's display name, as the patient will read it */
        PGconn *db = PQconnectdb(G.db_url);
        PGresult *res = PQexec(db, "UPDATE auth.users SET display_name = '王医生' "
                                   "WHERE username = 'dr.a'");

        ck_assert_str_eq(PQcmdStatus(res), "UPDATE 1");
        PQclear(res);
        PQfinish(db);
    }
    r = git_get(&G, "/me/accesses", T_PAT);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "\"dr.a\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"user_name\":\"王医生\""));
    ck_assert_ptr_nonnull(strstr(r.body, "Hospital A"));
    git_resp_free(&r);
    r = git_get(&G, "/me/accesses", T_DR);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    r = git_get(&G, "/me", T_PAT);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "patient")), P1);
    git_resp_free(&r);
}
END_TEST

/* ------------------------------------------------------ regulator -- */

/* ------------------------------------------------- MPI stewardship -- */

/* One member Patient straight into the index (as an identity report). */
static struct gw_mpi_ingest_result
mpi_ingest(const char *member, const char *mrn, const char *name, const char *birth,
           const char *phone)
{
    PGconn *db = PQconnectdb(G.db_url);
    struct gw_mpi_config cfg = gw_mpi_config_default();
    struct gw_mpi_ingest_result res;
    struct base_err err = {0};
    json_t *p =
        json_pack("{s:s, s:s, s:[{s:s, s:s}], s:[{s:s}], s:s, s:s}", "resourceType", "Patient",
                  "id", mrn, "identifier", "system", "urn:x:steward:mrn", "value", mrn, "name",
                  "text", name, "birthDate", birth, "gender", "female");

    if (phone != NULL)
        json_object_set_new(p, "telecom",
                            json_pack("[{s:s, s:s}]", "system", "phone", "value", phone));
    ck_assert(PQstatus(db) == CONNECTION_OK);
    ck_assert_msg(gw_mpi_ingest_identity(db, &cfg, member, p, &res, &err) == BASE_OK, "%s",
                  err.msg);
    json_decref(p);
    PQfinish(db);
    return res;
}

static long
post_json(const char *path, const char *token, const char *body, json_t **out)
{
    struct git_resp r = git_req(&G, "POST", path, token, NULL, body, "application/json");
    long st = r.status;

    if (out != NULL)
        *out = json_incref(r.json);
    git_resp_free(&r);
    return st;
}

/* Administrators work the review queue, merge, undo and split, each an
 * audited action; nobody else may. */
START_TEST(mpi_stewardship_by_admins)
{
    struct gw_mpi_ingest_result a =
        mpi_ingest("hosp-a", "ST-1", "周八", "1975-06-07", "13700000000");
    struct gw_mpi_ingest_result b = mpi_ingest("hosp-b", "ST-2", "周八", "1975-07-06", NULL);
    struct gw_mpi_ingest_result c = mpi_ingest("hosp-c", "ST-3", "韩九", "1966-01-01", NULL);
    struct git_resp r;
    char body[512];
    char path[256];
    json_t *v = NULL;
    int64_t review = 0;
    int64_t merge = 0;
    size_t i;
    json_t *it;

    ck_assert_int_eq(b.outcome, GW_MPI_REVIEW);
    /* the queue */
    r = git_get(&G, "/admin/mpi/reviews", T_ADMIN);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_array_foreach(json_object_get(r.json, "reviews"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(json_object_get(it, "record"), "value")),
                   "ST-2") == 0) {
            review = json_integer_value(json_object_get(it, "id"));
            /* the match weights per field are numbers */
            ck_assert(json_is_number(
                json_object_get(json_array_get(json_object_get(it, "fields"), 0), "weight")));
            /* both sides' demographics, for the person deciding */
            ck_assert_str_eq(tu_json_str(it, "record.name"), "周八");
            ck_assert_str_eq(tu_json_str(it, "record.birthDate"), "1975-07-06");
            ck_assert_str_eq(tu_json_str(it, "candidateRecords.0.value"), "ST-1");
            ck_assert_str_eq(tu_json_str(it, "candidateRecords.0.gender"), "female");
        }
    }
    ck_assert_int_gt(review, 0);
    git_resp_free(&r);
    r = git_get(&G, "/admin/mpi/reviews", T_DR);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    r = git_get(&G, "/admin/mpi/reviews?status=maybe", T_ADMIN);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    /* decide: same person; a second decision conflicts */
    snprintf(path, sizeof(path), "/admin/mpi/reviews/%lld", (long long)review);
    ck_assert_int_eq(post_json(path, T_ADMIN, "{\"decision\":\"perhaps\"}", NULL), 400);
    ck_assert_int_eq(post_json(path, T_DR, "{\"decision\":\"same\"}", NULL), 403);
    ck_assert_int_eq(post_json(path, T_ADMIN, "{\"decision\":\"same\",\"note\":\"ID seen\"}", NULL),
                     200);
    ck_assert_int_eq(post_json(path, T_ADMIN, "{\"decision\":\"same\"}", NULL), 409);
    ck_assert_int_eq(
        post_json("/admin/mpi/reviews/999999999", T_ADMIN, "{\"decision\":\"same\"}", NULL), 404);
    ck_assert_int_eq(git_count(&G, "SELECT count(DISTINCT person_id) FROM mpi.record WHERE "
                                   "local_value IN ('ST-1', 'ST-2')"),
                     1);
    /* merge a third record's person in, then undo it */
    snprintf(body, sizeof(body),
             "{\"survivor\":\"%s\",\"merged\":\"%s\",\"reason\":\"same "
             "woman, paper chart\"}",
             a.person_id, c.person_id);
    ck_assert_int_eq(post_json("/admin/mpi/merge", T_ADMIN, body, &v), 200);
    merge = json_integer_value(json_object_get(v, "merge_id"));
    json_decref(v);
    ck_assert_int_gt(merge, 0);
    ck_assert_int_eq(post_json("/admin/mpi/merge", T_ADMIN, body, NULL), 409);
    ck_assert_int_eq(git_count(&G, "SELECT count(DISTINCT person_id) FROM mpi.record WHERE "
                                   "local_value IN ('ST-1', 'ST-2', 'ST-3')"),
                     1);
    /* the merged person's own id still reads: inactive, pointing at the survivor */
    snprintf(path, sizeof(path), "/fhir/Patient/%s", c.person_id);
    r = git_get(&G, path, T_DR);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tu_json_str(r.json, "id"), c.person_id);
    ck_assert(json_is_false(json_object_get(r.json, "active")));
    ck_assert_str_eq(tu_json_str(r.json, "link.0.type"), "replaced-by");
    ck_assert_ptr_nonnull(strstr(tu_json_str(r.json, "link.0.other.reference"), a.person_id));
    git_resp_free(&r);
    snprintf(path, sizeof(path), "/admin/mpi/persons/%s/history", a.person_id);
    r = git_get(&G, path, T_ADMIN);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "admin:admin"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"merge\""));
    git_resp_free(&r);
    snprintf(path, sizeof(path), "/admin/mpi/merges/%lld/undo", (long long)merge);
    ck_assert_int_eq(post_json(path, T_ADMIN, "{}", NULL), 400); /* a reason is required */
    ck_assert_int_eq(post_json(path, T_ADMIN, "{\"reason\":\"wrong chart\"}", NULL), 200);
    ck_assert_int_eq(post_json(path, T_ADMIN, "{\"reason\":\"again\"}", NULL), 409);
    ck_assert_int_eq(git_count(&G, "SELECT count(DISTINCT person_id) FROM mpi.record WHERE "
                                   "local_value IN ('ST-1', 'ST-3')"),
                     2);
    /* split one record back out */
    ck_assert_int_eq(post_json("/admin/mpi/split", T_ADMIN,
                               "{\"member\":\"hosp-b\",\"system\":\"urn:x:steward:mrn\","
                               "\"value\":\"ST-2\",\"reason\":\"not her\"}",
                               &v),
                     200);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(v, "person")));
    json_decref(v);
    ck_assert_int_eq(git_count(&G, "SELECT count(DISTINCT person_id) FROM mpi.record WHERE "
                                   "local_value IN ('ST-1', 'ST-2')"),
                     2);
    ck_assert_int_eq(post_json("/admin/mpi/split", T_ADMIN,
                               "{\"member\":\"hosp-b\",\"system\":\"urn:x:steward:mrn\","
                               "\"value\":\"nobody\",\"reason\":\"x\"}",
                               NULL),
                     404);
    /* every action is in the audit trail */
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE subtype LIKE "
                                   "'admin-mpi-%' AND agent_user = 'admin'"),
                     8);
}
END_TEST

/* The first `chars` UTF-8 characters of s (at most all of it), ASCII
 * letters in the other case, percent-encoded for a query. */
static void
query_text(const char *s, size_t skip, size_t chars, bool flip, char *out, size_t cap)
{
    size_t o = 0;
    size_t seen = 0;

    for (size_t i = 0; s[i] != '\0' && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c & 0xC0) != 0x80 && seen++ == skip + chars)
            break;
        if (seen <= skip)
            continue;
        if (flip && isalpha(c))
            c = (unsigned char)(islower(c) ? toupper(c) : tolower(c));
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
    }
    out[o] = '\0';
}

static size_t
audit_matches(const char *query)
{
    char p[512];
    struct git_resp r;
    size_t n;

    snprintf(p, sizeof(p), "/fhir/AuditEvent?%s&_count=1000", query);
    r = git_get(&G, p, T_REG);
    ck_assert_msg(r.status == 200, "%s: %ld %s", p, r.status, r.body);
    n = git_entries(r.json, "match");
    ck_assert_msg(n < 1000, "%s: a full page", p);
    git_resp_free(&r);
    return n;
}

/*
 * R4 AuditEvent search parameters answered from the events' content (the
 * ones an IHE ITI-81 Audit Consumer uses): each is checked against a query
 * known to select the same events, on dr.a's events (dr.a does nothing
 * while this runs; the regulator's own searches are audited as hers).
 */
static void
audit_content_params(void)
{
    struct git_resp r;
    char name[256];
    char head[64];
    char tail[256];
    char role[96];
    char q[512];
    size_t all = audit_matches("agent=dr.a");
    const char *full;
    const char *code;

    ck_assert_uint_gt(all, 0);
    r = git_get(&G, "/fhir/AuditEvent?agent=dr.a&_count=1", T_REG);
    full = tu_json_str(r.json, "entry.0.resource.agent.0.name");
    code = tu_json_str(r.json, "entry.0.resource.agent.0.role.0.coding.0.code");
    ck_assert_msg(full != NULL && strlen(full) >= 2 && code != NULL, "%s", r.body);
    query_text(full, 0, 1000, false, name, sizeof(name));
    query_text(full, 0, 2, true, head, sizeof(head)); /* a prefix, in the other case */
    query_text(full, 1, 1000, true, tail, sizeof(tail));
    query_text(code, 0, 1000, false, role, sizeof(role));
    git_resp_free(&r);

    ck_assert_uint_eq(audit_matches("agent=dr.a&type=http://terminology.hl7.org/CodeSystem/"
                                    "audit-event-type|rest,http://dicom.nema.org/resources/"
                                    "ontology/DCM|110114"),
                      all);
    ck_assert_uint_eq(audit_matches("agent=dr.a&type=rest&type=http://elsewhere.example|rest"), 0);
    /* string: "starts with", ignoring case (some events, such as sign-ins,
     * name no agent); :exact is the whole value, case and all */
    snprintf(q, sizeof(q), "agent=dr.a&agent-name:exact=%s", name);
    size_t named = audit_matches(q);
    ck_assert_uint_gt(named, 0);
    ck_assert_uint_le(named, all);
    snprintf(q, sizeof(q), "agent=dr.a&agent-name=%s", head);
    ck_assert_uint_eq(audit_matches(q), named);
    snprintf(q, sizeof(q), "agent=dr.a&agent-name:contains=%s", tail);
    ck_assert_uint_eq(audit_matches(q), named);
    snprintf(q, sizeof(q), "agent=dr.a&agent-name:exact=%s", head);
    ck_assert_uint_eq(audit_matches(q), 0);
    snprintf(q, sizeof(q), "agent=dr.a&agent-role=%s", role);
    ck_assert_uint_eq(audit_matches(q), all);
    snprintf(q, sizeof(q), "agent=dr.a&agent-role=not-%s", role);
    ck_assert_uint_eq(audit_matches(q), 0);
    /* the tests' client is on the loopback */
    ck_assert_uint_eq(audit_matches("agent=dr.a&address=127.0"), all);
    ck_assert_uint_eq(audit_matches("agent=dr.a&address:contains=0.0.1"), all);
    ck_assert_uint_eq(audit_matches("agent=dr.a&address:exact=127.0"), 0);
    ck_assert_uint_eq(audit_matches("agent=dr.a&address=10.,192.168."), 0);
    /* BALP: the patient is an entity of type 1 (person), role 1 (patient) */
    snprintf(q, sizeof(q), "agent=dr.a&patient=%s", P1);
    size_t mine = audit_matches(q);
    snprintf(q, sizeof(q),
             "agent=dr.a&patient=%s&entity-type=http://terminology.hl7.org/CodeSystem/"
             "audit-entity-type|1&entity-role=1",
             P1);
    ck_assert_uint_gt(mine, 0);
    ck_assert_uint_eq(audit_matches(q), mine);
    snprintf(q, sizeof(q), "agent=dr.a&patient=%s&entity-role=http://elsewhere.example|1", P1);
    ck_assert_uint_eq(audit_matches(q), 0);
    ck_assert_uint_eq(audit_matches("agent=dr.a&site=no-such-site"), 0);
    ck_assert_uint_eq(audit_matches("agent=dr.a&altid=nobody"), 0);
    ck_assert_uint_eq(audit_matches("agent=dr.a&source=Device/none"), 0);
    ck_assert_uint_eq(audit_matches("agent=dr.a&policy=urn:none"), 0);
    ck_assert_uint_eq(audit_matches("agent=dr.a&entity-name=nothing"), 0);
    /* malformed or unsupported: 400 naming the parameter */
    {
        static const char *const bad[] = {"type=",           "type=a|b|c",
                                          "address:below=1", "agent-role:not=x",
                                          "entity-type=,1",  "agent-name="};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(q, sizeof(q), "/fhir/AuditEvent?%s", bad[i]);
            r = git_get(&G, q, T_REG);
            ck_assert_msg(r.status == 400, "%s: %ld", q, r.status);
            git_resp_free(&r);
        }
    }
    r = git_get(&G, "/fhir/metadata", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "\"entity-role\""));
    git_resp_free(&r);
}

START_TEST(regulator_searches_reports_and_verifies)
{
    struct git_resp r;
    char p[256];

    snprintf(p, sizeof(p), "/fhir/AuditEvent?patient=%s&agent=dr.a&date=ge2000-01-01&_count=5",
             P1);
    r = git_get(&G, p, T_REG);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_uint_ge(git_entries(r.json, "match"), 1);
    ck_assert_ptr_nonnull(strstr(r.body, "\"AuditEvent\""));
    /* the self link states the search as received */
    ck_assert_str_eq(link_path(r.json, "self"), p);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/AuditEvent?outcome=4&member=hosp-a", T_REG);
    ck_assert_int_eq(r.status, 200);
    git_resp_free(&r);
    /* an entry's fullUrl reads that event (R4 read) */
    {
        char full[512];
        char bad[600];

        r = git_get(&G, "/fhir/AuditEvent?_count=1", T_REG);
        snprintf(full, sizeof(full), "%s",
                 strstr(tu_json_str(r.json, "entry.0.fullUrl"), "/fhir/"));
        snprintf(bad, sizeof(bad), "%s", tu_json_str(r.json, "entry.0.resource.id"));
        git_resp_free(&r);
        r = git_get(&G, full, T_REG);
        ck_assert_msg(r.status == 200, "%s: %ld %s", full, r.status, r.body);
        ck_assert_str_eq(tu_json_str(r.json, "resourceType"), "AuditEvent");
        ck_assert_str_eq(tu_json_str(r.json, "id"), bad);
        git_resp_free(&r);
        r = git_get(&G, full, T_DR);
        ck_assert_int_eq(r.status, 403);
        git_resp_free(&r);
        snprintf(bad, sizeof(bad), "%s999999999", full);
        r = git_get(&G, bad, T_REG);
        ck_assert_int_eq(r.status, 404);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent/no-such-chain-1", T_REG);
        ck_assert_int_eq(r.status, 404);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent/nodash", T_REG);
        ck_assert_int_eq(r.status, 404);
        git_resp_free(&r);
    }
    /* IHE ITI-81's patient.identifier: the same events as patient=<person> */
    {
        char resid[19];
        size_t n;

        snprintf(p, sizeof(p), "/fhir/AuditEvent?patient=%s&agent=dr.a&_count=1000", P1);
        r = git_get(&G, p, T_REG);
        n = git_entries(r.json, "match");
        ck_assert_uint_gt(n, 0);
        git_resp_free(&r);
        git_resid("p1", resid);
        snprintf(p, sizeof(p),
                 "/fhir/AuditEvent?patient.identifier=urn:oid:2.16.156.10011.1.3|%s&agent=dr.a"
                 "&_count=1000",
                 resid);
        r = git_get(&G, p, T_REG);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_uint_eq(git_entries(r.json, "match"), n);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?patient.identifier=urn:x|nobody", T_REG);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(git_entries(r.json, "match"), 0);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?patient.identifier=nobody", T_REG);
        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
        snprintf(p, sizeof(p), "/fhir/AuditEvent?patient=%s&patient.identifier=urn:x|y", P1);
        r = git_get(&G, p, T_REG);
        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
    }
    /* tokens (R4 search.html#token): a list is any of its values, a system
     * must be the code's own, "-date" is the order the trail is read in */
    {
        static const struct {
            const char *query;
            const char *same_as; /* NULL: nothing */
        } tokens[] = {
            {"purpose=http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT", "purpose=TREAT"},
            {"purpose=|TREAT", "purpose=TREAT"},
            {"purpose=http://elsewhere.example/cs|TREAT", NULL},
            {"outcome=http://hl7.org/fhir/audit-event-outcome|4", "outcome=4"},
            {"subtype=http://hl7.org/fhir/restful-interaction|search-type", "subtype=search-type"},
            {"member=urn:fhirgate:member|hosp-a", "member=hosp-a"},
            {"agent=dr.a,nobody-at-all", "agent=dr.a"},
            {"purpose=TREAT&_sort=-date", "purpose=TREAT"},
        };
        char q1[256];
        char q2[256];

        for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
            snprintf(q1, sizeof(q1), "/fhir/AuditEvent?%s&_count=1000", tokens[i].query);
            r = git_get(&G, q1, T_REG);
            ck_assert_msg(r.status == 200, "%s: %ld %s", q1, r.status, r.body);
            size_t n = git_entries(r.json, "match");
            git_resp_free(&r);
            if (tokens[i].same_as == NULL) {
                ck_assert_msg(n == 0, "%s: %zu", q1, n);
                continue;
            }
            snprintf(q2, sizeof(q2), "/fhir/AuditEvent?%s&_count=1000", tokens[i].same_as);
            r = git_get(&G, q2, T_REG);
            ck_assert_msg(n > 0 && n == git_entries(r.json, "match"), "%s: %zu", q1, n);
            git_resp_free(&r);
        }
        /* a list is the union of its members (each of these searches is
         * audited with outcome 0 itself: the third sees the first two) */
        r = git_get(&G, "/fhir/AuditEvent?outcome=0&_count=1000", T_REG);
        size_t n0 = git_entries(r.json, "match");
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?outcome=4&_count=1000", T_REG);
        size_t n4 = git_entries(r.json, "match");
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?outcome=0,4&_count=1000", T_REG);
        ck_assert_uint_gt(n0, 0);
        ck_assert_uint_gt(n4, 0);
        ck_assert_uint_lt(n0 + n4 + 2, 1000);
        ck_assert_uint_eq(git_entries(r.json, "match"), n0 + n4 + 2);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?_sort=date", T_REG);
        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?_count=5000", T_REG);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_le(git_entries(r.json, "match"), 1000);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?outcome=0,", T_REG);
        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
        r = git_get(&G, "/fhir/AuditEvent?agent=%22x%22", T_REG);
        ck_assert_int_eq(r.status, 400);
        git_resp_free(&r);
    }
    audit_content_params();
    r = git_get(&G, "/fhir/AuditEvent?date=garbage", T_REG);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/AuditEvent", T_DR);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    r = git_get(&G, "/audit/report?from=2000-01-01&to=2100-01-01&format=csv", T_REG);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "per_member,"));
    git_resp_free(&r);
    r = git_get(&G, "/audit/report?from=2100-01-01&to=2000-01-01", T_REG);
    ck_assert_int_eq(r.status, 400); /* a period that ends before it starts */
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    git_resp_free(&r);
    r = git_get(&G, "/audit/report?from=2026-01-01&to=2026-01-01", T_REG);
    ck_assert_int_eq(r.status, 200); /* one whole day */
    git_resp_free(&r);
    r = git_get(&G, "/audit/report?from=2000-01-01&to=2100-01-01&format=html", T_REG);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<table"));
    git_resp_free(&r);
    /* the member and clinician filters narrow every section */
    r = git_get(&G, "/audit/report?from=2000-01-01&to=2100-01-01&user=dr.a", T_REG);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    {
        json_t *pc = json_object_get(r.json, "per_clinician");
        size_t i;
        json_t *row;

        ck_assert_uint_ge(json_array_size(pc), 1);
        json_array_foreach(pc, i, row)
            ck_assert_str_eq(json_string_value(json_object_get(row, "user")), "dr.a");
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(r.json, "period"), "user")),
            "dr.a");
    }
    git_resp_free(&r);
    r = git_get(&G, "/audit/report?from=2000-01-01&to=2100-01-01&member=no-such-member", T_REG);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r.json, "totals"),
                                                        "events")),
                     0);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "per_clinician")), 0);
    git_resp_free(&r);
    r = git_get(&G, "/audit/report?from=2000-01-01", T_REG);
    ck_assert_int_eq(r.status, 400);
    git_resp_free(&r);
    r = git_get(&G, "/audit/verify", T_REG);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert(json_is_true(json_object_get(r.json, "intact")));
    git_resp_free(&r);
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE agent_user = 'reg' AND "
                                   "subtype = 'audit-report'"),
                     2);
}
END_TEST

/* --------------------------------------------------------- members -- */

START_TEST(members_health_registration_and_admin)
{
    struct tu_http_opts o = {0};
    struct tu_http_resp tr = {0};
    const char *body = "{\"member\":\"hosp-new\",\"name\":\"New Hospital\","
                       "\"base\":\"https://127.0.0.1:9/fhir\"}";
    const char *ct[] = {"Content-Type: application/json", NULL};
    char url[256];
    struct git_resp r;
    size_t i;
    json_t *m;
    bool seen_a = false;
    bool seen_h = false;

    r = git_get(&G, "/admin/members", T_ADMIN);
    ck_assert_int_eq(r.status, 200);
    json_array_foreach(json_object_get(r.json, "members"), i, m) {
        const char *id = json_string_value(json_object_get(m, "id"));
        json_t *h = json_object_get(m, "health");

        if (strcmp(id, "hosp-a") == 0)
            seen_a = json_is_true(json_object_get(h, "up"));
        if (strcmp(id, "hosp-h") == 0)
            seen_h = json_is_false(json_object_get(h, "up"));
    }
    ck_assert(seen_a && seen_h);
    git_resp_free(&r);
    r = git_get(&G, "/admin/members", T_DR);
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    /* an adapter registers with its region-issued certificate: pending */
    snprintf(url, sizeof(url), "%s/members/register", G.base);
    o.method = "POST";
    o.body = body;
    o.body_len = strlen(body);
    o.headers = ct;
    o.ca_file = G.pki.ca;
    o.cert_file = G.reg_cert;
    o.key_file = G.reg_key;
    ck_assert_int_eq(tu_http_request(url, &o, &tr), 0);
    ck_assert_msg(tr.status == 202, "%ld %s", tr.status, tr.body);
    ck_assert_ptr_nonnull(strstr(tr.body, "pending"));
    tu_http_resp_free(&tr);
    /* without a certificate: 401; with one naming another member: 403 */
    o.cert_file = NULL;
    o.key_file = NULL;
    ck_assert_int_eq(tu_http_request(url, &o, &tr), 0);
    ck_assert_int_eq(tr.status, 401);
    tu_http_resp_free(&tr);
    o.cert_file = G.pki.client_cert;
    o.key_file = G.pki.client_key;
    ck_assert_int_eq(tu_http_request(url, &o, &tr), 0);
    ck_assert_int_eq(tr.status, 403);
    tu_http_resp_free(&tr);
    r = git_req(&G, "POST", "/admin/members/hosp-new/approve", T_ADMIN, NULL, "", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"active\""));
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Organization?bogus=1", T_DR);
    ck_assert_int_eq(r.status, 400); /* an unknown parameter: a bad request, not 406 */
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Organization?_id=hosp-new", T_DR);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(git_entries(r.json, "match"), 1);
    git_resp_free(&r);
    r = git_get(&G, "/fhir/Endpoint/hosp-a", T_DR);
    ck_assert_int_eq(r.status, 200);
    git_resp_free(&r);
    /* the FHIR form: an Endpoint registers, an Organization renames */
    r = git_req(&G, "POST", "/fhir/Endpoint", T_ADMIN, NULL,
                "{\"resourceType\":\"Endpoint\",\"status\":\"suspended\",\"connectionType\":"
                "{\"system\":\"http://terminology.hl7.org/CodeSystem/endpoint-connection-type\","
                "\"code\":\"hl7-fhir-rest\"},\"payloadType\":[{\"text\":\"any\"}],"
                "\"managingOrganization\":{\"reference\":\"Organization/hosp-fhir\","
                "\"display\":\"FHIR Hospital\"},\"address\":\"https://127.0.0.1:7/fhir\"}",
                "application/fhir+json");
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "suspended");
    git_resp_free(&r);
    r = git_req(&G, "POST", "/fhir/Organization", T_ADMIN, NULL,
                "{\"resourceType\":\"Organization\",\"id\":\"hosp-fhir\",\"active\":true,"
                "\"name\":\"FHIR Hospital 2\"}",
                "application/fhir+json");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert(json_is_true(json_object_get(r.json, "active")));
    git_resp_free(&r);
    r = git_req(&G, "POST", "/fhir/Endpoint", T_ADMIN, NULL,
                "{\"resourceType\":\"Endpoint\",\"status\":\"bogus\"}",
                "application/fhir+json");
    ck_assert_int_eq(r.status, 422);
    git_resp_free(&r);
    r = git_req(&G, "POST", "/fhir/Organization", T_DR, NULL,
                "{\"resourceType\":\"Organization\",\"id\":\"hosp-fhir\"}",
                "application/fhir+json");
    ck_assert_int_eq(r.status, 403);
    git_resp_free(&r);
    r = git_req(&G, "POST", "/admin/users", T_ADMIN, NULL,
                "{\"username\":\"dr.new\",\"password\":\"a long enough password\",\"role\":"
                "\"clinician\",\"organization\":\"hosp-a\"}",
                "application/json");
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    git_resp_free(&r);
    r = git_req(&G, "POST", "/admin/users", T_ADMIN, NULL,
                "{\"username\":\"dr.weak\",\"password\":\"short\",\"role\":\"clinician\","
                "\"organization\":\"hosp-a\"}",
                "application/json");
    ck_assert_int_eq(r.status, 422);
    git_resp_free(&r);
    r = git_get(&G, "/admin/users", T_ADMIN);
    ck_assert_ptr_nonnull(strstr(r.body, "dr.new"));
    ck_assert_ptr_null(strstr(r.body, "scrypt"));
    git_resp_free(&r);
}
END_TEST

START_TEST(member_cli)
{
    const char *bin = tu_bin("fhirgate");
    struct tu_run run;

    setenv("FHIRGATE_DATABASE_URL", G.db_url, 1);
    ck_assert_int_eq(tu_run((const char *[]){bin, "member", "add", "hosp-cli", "--name",
                                             "CLI Hospital", "--base", "https://cli.example/fhir",
                                             "--status", "pending", NULL},
                            &run),
                     0);
    ck_assert_int_eq(run.status, 0);
    tu_run_free(&run);
    ck_assert_int_eq(tu_run((const char *[]){bin, "member", "list", NULL}, &run), 0);
    ck_assert_int_eq(run.status, 0);
    ck_assert_ptr_nonnull(strstr(run.out, "hosp-cli"));
    ck_assert_ptr_nonnull(strstr(run.out, "pending"));
    tu_run_free(&run);
    ck_assert_int_eq(tu_run((const char *[]){bin, "member", "approve", "hosp-cli", NULL}, &run),
                     0);
    ck_assert_int_eq(run.status, 0);
    tu_run_free(&run);
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM registry.member WHERE id = 'hosp-cli' "
                                   "AND status = 'active'"),
                     1);
    ck_assert_int_eq(tu_run((const char *[]){bin, "member", "disable", "hosp-cli", NULL}, &run),
                     0);
    tu_run_free(&run);
    ck_assert_int_eq(tu_run((const char *[]){bin, "member", "enable", "nobody", NULL}, &run), 0);
    ck_assert_int_eq(run.status, 1);
    tu_run_free(&run);
    ck_assert_int_eq(tu_run((const char *[]){bin, "member", "add", "Bad Id!", "--name", "x",
                                             "--base", "https://x.example/fhir", NULL},
                            &run),
                     0);
    ck_assert_int_eq(run.status, 1);
    tu_run_free(&run);
    ck_assert_int_eq(tu_run((const char *[]){bin, "member", "frobnicate", NULL}, &run), 0);
    ck_assert_int_eq(run.status, 2);
    tu_run_free(&run);
}
END_TEST

/* The background thread deletes what no longer protects anything:
 * expired authorization codes and assertion ids, throttle rows whose
 * window and lock have ended (purge_interval = 1s here); live rows stay. */
START_TEST(expired_sign_in_rows_are_purged)
{
    /* One statement, so that the count is of what it inserted: the purge
     * thread may run at any moment after the commit (it did, in a loaded
     * run, between separate inserts and a separate count). */
    static const char seed_all[] =
        "WITH c AS (INSERT INTO auth.codes (code_hash, client_id, redirect_uri, code_challenge, "
        " username, scope, expires_at) VALUES "
        "(repeat('a', 43), 'app', 'https://app.example/cb', repeat('c', 43), 'dr.a', 'openid', "
        " now() - interval '1 minute'), "
        "(repeat('b', 43), 'app', 'https://app.example/cb', repeat('c', 43), 'dr.a', 'openid', "
        " now() + interval '1 hour') RETURNING 1), "
        "j AS (INSERT INTO auth.jti_seen (issuer, jti, expires_at) VALUES "
        "('purge-test', 'old', now() - interval '1 minute'), "
        "('purge-test', 'live', now() + interval '1 hour') RETURNING 1), "
        "t AS (INSERT INTO auth.login_throttle (kind, key, failures, window_start, locked_until) "
        " VALUES "
        "('user', 'purge-test-old', 3, now() - interval '1 day', now() - interval '1 hour'), "
        "('user', 'purge-test-locked', 9, now() - interval '1 day', now() + interval '1 hour'), "
        "('user', 'purge-test-live', 1, now(), NULL) RETURNING 1) "
        "SELECT (SELECT count(*) FROM c) + (SELECT count(*) FROM j) + (SELECT count(*) FROM t)";
    static const char *const cleanup[] = {
        "DELETE FROM auth.codes WHERE code_hash = repeat('b', 43)",
        "DELETE FROM auth.jti_seen WHERE issuer = 'purge-test'",
        "DELETE FROM auth.login_throttle WHERE key LIKE 'purge-test-%'"};
    static const char left[] =
        "SELECT (SELECT count(*) FROM auth.codes WHERE code_hash IN (repeat('a', 43), "
        " repeat('b', 43))) + (SELECT count(*) FROM auth.jti_seen WHERE issuer = 'purge-test') "
        " + (SELECT count(*) FROM auth.login_throttle WHERE key LIKE 'purge-test-%')";
    long long until = pt_now_ms() + 10000;
    long n;

    ck_assert_int_eq(git_count(&G, seed_all), 7);
    while ((n = git_count(&G, left)) > 4 && pt_now_ms() < until)
        usleep(100 * 1000);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM auth.codes WHERE code_hash = "
                                   "repeat('b', 43)"),
                     1);
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM auth.jti_seen WHERE jti = 'live'"), 1);
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM auth.login_throttle WHERE key IN "
                                   "('purge-test-locked', 'purge-test-live')"),
                     2);
    for (int i = 0; i < 3; i++) /* the live rows go too: the next run starts clean */
        ck_assert_int_eq(pt_sql(G.db, cleanup[i], NULL), 0);
}
END_TEST

/* -------------------------------------------------------- hostile -- */

/* No database text in an answer.  A searchset's self link states the
 * query as the client sent it (R4 search.html), so the client's own query
 * string is blanked first: whatever remains is the server's. */
static void
no_leak(const struct git_resp *r, const char *what)
{
    static const char *const bad[] = {"SQL", "sql", "syntax", "postgres", "ERROR:", "SELECT",
                                      "pg_", "relation "};
    const char *q = strchr(what, '?');
    char *body = r->body != NULL ? strdup(r->body) : NULL;

    ck_assert_msg(r->status > 0 && r->status < 500, "%s: status %ld %s", what, r->status,
                  r->body);
    for (char *at = body;
         q != NULL && q[1] != '\0' && at != NULL && (at = strstr(at, q + 1)) != NULL;)
        memset(at, '.', strlen(q + 1));
    for (size_t i = 0; body != NULL && i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(strstr(body, bad[i]) == NULL, "answer mentions %s: %s", bad[i], r->body);
    free(body);
}

START_TEST(sql_injection_attempts_change_nothing)
{
    static const char *const inj[] = {
        "%27%3B%20DROP%20TABLE%20audit.event%3B--", "1%27%20OR%20%271%27%3D%271",
        "%22%29%3B%20DELETE%20FROM%20registry.member%3B--", "%5C%27%20UNION%20SELECT%201--"};
    static const char *const tmpl[] = {
        "/fhir/Observation?patient=%s",
        "/fhir/Observation?patient=P1&code=%s",
        "/fhir/Observation?patient=P1&date=%s",
        "/fhir/Observation?patient=P1&_sort=%s",
        "/fhir/Observation?patient=P1&_cursor=%s",
        "/fhir/Patient?identifier=urn:x|%s",
        "/fhir/Patient?family=%s&birthdate=1980-01-01",
        "/fhir/Patient/$ihe-pix?sourceIdentifier=%s",
        "/fhir/Patient/%s",
        "/fhir/Consent?patient=%s",
        "/fhir/AuditEvent?agent=%s",
        "/fhir/AuditEvent?patient=%s",
        "/fhir/AuditEvent?entity=%s&member=x",
        "/fhir/AuditEvent?_cursor=%s",
        "/audit/report?from=%s&to=2100-01-01",
        "/fhir/Organization?name=%s",
        "/fhir/Endpoint/%s",
    };
    long members = git_count(&G, "SELECT count(*) FROM registry.member");

    for (size_t i = 0; i < sizeof(inj) / sizeof(inj[0]); i++) {
        for (size_t k = 0; k < sizeof(tmpl) / sizeof(tmpl[0]); k++) {
            char p[1024];
            const char *tok = strstr(tmpl[k], "AuditEvent") != NULL ||
                                      strstr(tmpl[k], "/audit/") != NULL
                                  ? T_REG
                                  : T_DR;
            struct git_resp r;
            char *at;

            fill(p, sizeof(p), tmpl[k], inj[i]);
            if ((at = strstr(p, "P1")) != NULL)
                memcpy(at, "p1", 2);
            r = git_get(&G, p, tok);
            no_leak(&r, p);
            git_resp_free(&r);
        }
        {
            char h1[256];
            char h2[256];
            const char *hs[] = {h1, h2, NULL};
            struct git_resp r;

            snprintf(h1, sizeof(h1), "X-Purpose-Of-Use: %s", "TREAT'; DROP TABLE x;--");
            snprintf(h2, sizeof(h2), "X-Break-Glass-Reason: %s", "'); DELETE FROM audit.event;--");
            r = git_req(&G, "GET", path("/fhir/Observation?patient=%s", P1), T_DR, hs, NULL,
                        NULL);
            no_leak(&r, "headers");
            git_resp_free(&r);
        }
    }
    ck_assert_int_eq(git_count(&G, "SELECT count(*) FROM registry.member"), members);
    ck_assert_int_gt(git_count(&G, "SELECT count(*) FROM audit.event"), 0);
}
END_TEST

START_TEST(static_files_refuse_traversal_and_bodies_are_bounded)
{
    static const char *const bad[] = {"/../secret.txt", "/%2e%2e/secret.txt",
                                      "/..%2fsecret.txt", "/.env", "/portal/../../secret.txt"};
    struct git_resp r = git_get(&G, "/", NULL);
    char big[80 * 1024];

    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate portal"));
    git_resp_free(&r);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = git_get(&G, bad[i], NULL);
        ck_assert_msg(r.status >= 400 && r.status < 500, "%s: %ld", bad[i], r.status);
        ck_assert(r.body == NULL || strstr(r.body, "outside the portal") == NULL);
        git_resp_free(&r);
    }
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    r = git_req(&G, "POST", "/fhir/Consent", T_ADMIN, NULL, big, "application/fhir+json");
    ck_assert_int_eq(r.status, 413);
    git_resp_free(&r);
}
END_TEST

START_TEST(audit_store_locked_means_503_and_no_data)
{
    PGconn *c = PQconnectdb(G.db_url);
    PGresult *res;
    struct git_resp r;

    ck_assert(PQstatus(c) == CONNECTION_OK);
    res = PQexec(c, "BEGIN; LOCK TABLE audit.event IN ACCESS EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_DR);
    ck_assert_msg(r.status == 503, "%ld %s", r.status, r.body);
    ck_assert_ptr_null(strstr(r.body, "\"Observation\""));
    ck_assert_ptr_null(strstr(r.body, "obs-"));
    git_resp_free(&r);
    r = git_get(&G, path("/fhir/Patient/%s", P1), T_DR);
    ck_assert_int_eq(r.status, 503);
    ck_assert_ptr_null(strstr(r.body, "Zhang"));
    git_resp_free(&r);
    res = PQexec(c, "ROLLBACK");
    PQclear(res);
    PQfinish(c);
    r = git_get(&G, path("/fhir/Observation?patient=%s", P1), T_DR);
    ck_assert_int_eq(r.status, 200);
    git_resp_free(&r);
}
END_TEST

Suite *
gateway_api_suite(void)
{
    Suite *s = suite_create("gateway_api");
    TCase *tc = tcase_create("api");

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, metadata_is_a_valid_capability_statement);
    tcase_add_test(tc, bad_tokens_are_401_and_audited);
    tcase_add_test(tc, forbidden_requests_are_403_and_audited);
    tcase_add_test(tc, break_the_glass_is_allowed_flagged_reported_and_reviewed);
    tcase_add_test(tc, search_across_three_members_returns_tagged_entries_audited_first);
    tcase_add_test(tc, search_by_post_is_the_same_search);
    tcase_add_test(tc, own_absolute_patient_urls_and_unknown_fhir_paths);
    tcase_add_test(tc, lenient_handling_ignores_and_says_so);
    tcase_add_test(tc, includes_are_checked_at_the_gateway);
    tcase_add_test(tc, failing_members_give_partial_results_within_the_deadline);
    tcase_add_test(tc, members_are_asked_only_for_types_they_serve);
    tcase_add_test(tc, consent_withholds_a_member_and_says_so);
    tcase_add_test(tc, everything_gathers_every_member);
    tcase_add_test(tc, paging_follows_the_next_link);
    tcase_add_test(tc, default_order_is_newest_first_on_the_first_page);
    tcase_add_test(tc, pdqm_pages_follow_next_links);
    tcase_add_test(tc, clients_follow_links_under_their_own_base);
    tcase_add_test(tc, expired_sign_in_rows_are_purged);
    tcase_add_test(tc, pdqm_and_pixm);
    tcase_add_test(tc, pdqm_repeated_parameters_and_lenient_handling);
    tcase_add_test(tc, pdqm_as_ihe_consumers_send_it);
    tcase_add_test(tc, pixm_by_post_and_bounded_targets);
    tcase_add_test(tc, pdqm_patient_shows_mothers_maiden_name);
    tcase_add_test(tc, a_patient_sees_their_record_and_who_looked);
    tcase_add_test(tc, regulator_searches_reports_and_verifies);
    tcase_add_test(tc, mpi_stewardship_by_admins);
    tcase_add_test(tc, members_health_registration_and_admin);
    tcase_add_test(tc, member_cli);
    tcase_add_test(tc, sql_injection_attempts_change_nothing);
    tcase_add_test(tc, static_files_refuse_traversal_and_bodies_are_bounded);
    tcase_add_test(tc, audit_store_locked_means_503_and_no_data);
    suite_add_tcase(s, tc);
    return s;
}
