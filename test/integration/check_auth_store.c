/* The auth stores against the private PostgreSQL: users, bootstrap, clients,
 * lockout, jti replay, and the token endpoint wired to the PG backend. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/gw_auth.h"
#include "gateway/auth/gw_auth_store.h"
#include "test/integration/auth_it.h"
#include "test/unit/gateway/auth/auth_test.h"

#define NOW 1700000000LL

static const struct gw_auth_pw_params fast = {
    .alg = GW_AUTH_PW_SCRYPT, .log2_n = 10, .r = 8, .p = 1};

/* Unchecked fixtures run in the parent, once per test case; both cases
 * share one database. */
static void
setup(void)
{
    static bool done;
    char db[64];

    if (done)
        return;
    done = true;
    base_log_set_level(BASE_LOG_WARN);
    snprintf(db, sizeof(db), "auth_store_%d", (int)getpid());
    it_make_database(db);
}

static struct gw_auth_user
user(const char *name, enum gw_auth_role role, const char *org, const char *patient, const char *pw,
     char hash[GW_AUTH_PW_HASH_MAX])
{
    struct gw_auth_user u = {0};

    ck_assert_int_eq(gw_auth_password_hash(pw, strlen(pw), &fast, hash, GW_AUTH_PW_HASH_MAX, NULL),
                     BASE_OK);
    u.username = name;
    u.display_name = name;
    u.role = role;
    u.organization = org;
    u.patient = patient;
    u.is_enabled = true;
    u.password_hash = hash;
    return u;
}

START_TEST(users_crud)
{
    PGconn *c = it_connect();
    struct base_arena *a = base_arena_new(0);
    char h[GW_AUTH_PW_HASH_MAX];
    struct gw_auth_user u =
        user("dr.li", GW_AUTH_ROLE_CLINICIAN, "hospital-b", NULL, "doctor-password", h);
    struct gw_auth_user *got = NULL;
    struct gw_auth_user *list = NULL;
    struct base_err err = {0};
    size_t n = 0;
    bool match = false;

    ck_assert_int_eq(gw_auth_user_create(c, &u, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_user_create(c, &u, &err), BASE_E_CONFLICT);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_user_get(c, a, "dr.li", &got, &err), BASE_OK);
    ck_assert_str_eq(got->organization, "hospital-b");
    ck_assert_ptr_null(got->patient);
    ck_assert(got->is_enabled);
    ck_assert_int_eq(got->role, GW_AUTH_ROLE_CLINICIAN);
    ck_assert_int_eq(
        gw_auth_password_verify("doctor-password", 15, got->password_hash, &match, NULL), BASE_OK);
    ck_assert(match);
    ck_assert_int_eq(gw_auth_user_get(c, a, "nobody", &got, &err), BASE_E_NOTFOUND);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(gw_auth_user_set_enabled(c, "dr.li", false, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_user_get(c, a, "dr.li", &got, &err), BASE_OK);
    ck_assert(!got->is_enabled);
    ck_assert_int_eq(gw_auth_user_set_enabled(c, "nobody", false, &err), BASE_E_NOTFOUND);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_user_set_password(c, "dr.li", "$scrypt$x", &err), BASE_OK);
    ck_assert_int_eq(gw_auth_user_list(c, a, &list, &n, &err), BASE_OK);
    ck_assert_uint_ge(n, 1);
    for (size_t i = 0; i < n; i++)
        ck_assert_ptr_null(list[i].password_hash); /* never listed */
    /* rules checked before SQL; the table's CHECKs back them up */
    u.username = "Dr.Li";
    ck_assert_int_eq(gw_auth_user_create(c, &u, &err), BASE_E_INVALID);
    base_err_clear(&err);
    u = user("p.zhang", GW_AUTH_ROLE_PATIENT, NULL, NULL, "patient-password", h);
    ck_assert_int_eq(gw_auth_user_create(c, &u, &err), BASE_E_INVALID);
    base_err_clear(&err);
    {
        const char *p[1] = {"x"};
        PGresult *r = PQexecParams(c,
                                   "INSERT INTO auth.users (username, role, password_hash)"
                                   " VALUES ($1, 'clinician', '$x')",
                                   1, NULL, p, NULL, NULL, 0);

        ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR); /* clinician without org */
        PQclear(r);
    }
    base_arena_free(a);
    PQfinish(c);
}
END_TEST

START_TEST(sql_injection_strings_are_data)
{
    PGconn *c = it_connect();
    struct base_arena *a = base_arena_new(0);
    struct base_err err = {0};
    struct gw_auth_user *got;
    const char *evil = "x'); DROP TABLE auth.users; --";
    char *count;

    ck_assert_int_eq(gw_auth_jti_claim(c, evil, evil, NOW + 60, NOW, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_jti_claim(c, evil, evil, NOW + 60, NOW, &err), BASE_E_CONFLICT);
    ck_assert_int_eq(gw_auth_user_get(c, a, evil, &got, &err), BASE_E_NOTFOUND);
    count = it_scalar(c, "SELECT count(*) FROM auth.users", 0, NULL);
    ck_assert_ptr_nonnull(count); /* the table is still there */
    free(count);
    base_arena_free(a);
    PQfinish(c);
}
END_TEST

START_TEST(bootstrap_first_admin_once)
{
    PGconn *c = it_connect();
    char h[GW_AUTH_PW_HASH_MAX];
    struct gw_auth_user u = user("root.admin", GW_AUTH_ROLE_ADMIN, NULL, NULL, "admin-password", h);
    struct base_err err = {0};
    bool created = false;
    char *n;

    ck_assert_msg(gw_auth_user_bootstrap_admin(c, &u, &created, &err) == BASE_OK, "%s %s", err.msg,
                  err.log_detail);
    ck_assert(created);
    u.username = "second.admin";
    ck_assert_int_eq(gw_auth_user_bootstrap_admin(c, &u, &created, &err), BASE_OK);
    ck_assert(!created);
    n = it_scalar(c, "SELECT count(*) FROM auth.users WHERE role = 'admin'", 0, NULL);
    ck_assert_str_eq(n, "1");
    free(n);
    u.role = GW_AUTH_ROLE_CLINICIAN;
    u.organization = "h";
    ck_assert_int_eq(gw_auth_user_bootstrap_admin(c, &u, &created, &err), BASE_E_INVALID);
    PQfinish(c);
}
END_TEST

START_TEST(lockout_per_user_and_address)
{
    PGconn *c = it_connect();
    struct gw_auth_lockout_policy pol;
    struct gw_auth_throttle t;
    struct base_err err = {0};

    gw_auth_lockout_policy_default(&pol);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(gw_auth_throttle_fail(c, "victim", "10.1.1.1", &pol, NOW + i, &t, &err),
                         BASE_OK);
        ck_assert(!t.is_locked);
    }
    ck_assert_int_eq(gw_auth_throttle_fail(c, "victim", "10.1.1.1", &pol, NOW + 5, &t, &err),
                     BASE_OK);
    ck_assert(t.is_locked);
    ck_assert(!t.by_address);
    ck_assert_int_eq(t.retry_after, pol.lock_duration);
    ck_assert_int_eq(gw_auth_throttle_check(c, "victim", "10.9.9.9", NOW + 100, &t, &err), BASE_OK);
    ck_assert(t.is_locked);
    ck_assert_int_eq(t.retry_after, pol.lock_duration - 95);
    ck_assert_int_eq(gw_auth_throttle_check(c, "other", "10.1.1.1", NOW + 100, &t, &err), BASE_OK);
    ck_assert(!t.is_locked);
    /* the lock ends on time */
    ck_assert_int_eq(
        gw_auth_throttle_check(c, "victim", "10.1.1.1", NOW + 5 + pol.lock_duration, &t, &err),
        BASE_OK);
    ck_assert(!t.is_locked);
    /* an administrator's unlock clears it at once */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(gw_auth_throttle_fail(c, "v2", "10.1.1.2", &pol, NOW, &t, &err), BASE_OK);
    ck_assert(t.is_locked);
    ck_assert_int_eq(gw_auth_throttle_clear(c, "v2", &err), BASE_OK);
    ck_assert_int_eq(gw_auth_throttle_check(c, "v2", "10.7.7.7", NOW, &t, &err), BASE_OK);
    ck_assert(!t.is_locked);
    /* failures spread beyond the window never lock */
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(gw_auth_throttle_fail(c, "slow", "10.3.3.3", &pol,
                                               NOW + (int64_t)i * (pol.window + 1), &t, &err),
                         BASE_OK);
        ck_assert(!t.is_locked);
    }
    /* twenty names from one address lock the address */
    for (int i = 0; i < 20; i++) {
        char name[32];

        snprintf(name, sizeof(name), "spray%d", i);
        ck_assert_int_eq(gw_auth_throttle_fail(c, name, "10.6.6.6", &pol, NOW, &t, &err), BASE_OK);
    }
    ck_assert(t.is_locked);
    ck_assert(t.by_address);
    ck_assert_int_eq(gw_auth_throttle_purge(c, NOW + 10 * pol.window, &err), BASE_OK);
    PQfinish(c);
}
END_TEST

START_TEST(success_resets_user_counter)
{
    PGconn *c = it_connect();
    struct gw_auth_lockout_policy pol;
    struct gw_auth_throttle t;

    gw_auth_lockout_policy_default(&pol);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(gw_auth_throttle_fail(c, "forgetful", "10.2.2.2", &pol, NOW, &t, NULL),
                         BASE_OK);
    ck_assert_int_eq(gw_auth_throttle_success(c, "forgetful", NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_throttle_fail(c, "forgetful", "10.2.2.2", &pol, NOW, &t, NULL),
                     BASE_OK);
    ck_assert(!t.is_locked);
    PQfinish(c);
}
END_TEST

START_TEST(jti_replay_cache)
{
    PGconn *c = it_connect();
    struct base_err err = {0};

    ck_assert_int_eq(gw_auth_jti_claim(c, "client-a", "j-1", NOW + 300, NOW, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_jti_claim(c, "client-a", "j-1", NOW + 300, NOW + 10, &err),
                     BASE_E_CONFLICT);
    base_err_clear(&err);
    /* another issuer may use the same jti */
    ck_assert_int_eq(gw_auth_jti_claim(c, "client-b", "j-1", NOW + 300, NOW, &err), BASE_OK);
    /* after expiry the entry no longer blocks (the assertion itself is dead) */
    ck_assert_int_eq(gw_auth_jti_claim(c, "client-a", "j-1", NOW + 900, NOW + 301, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_jti_purge(c, NOW + 10000, &err), BASE_OK);
    PQfinish(c);
}
END_TEST

START_TEST(app_clients_and_codes)
{
    PGconn *c = it_connect();
    PGconn *c2 = it_connect();
    struct base_arena *a = base_arena_new(0);
    struct base_err err = {0};
    const char *uris[] = {"https://app.example/cb", "http://127.0.0.1/cb"};
    const char *bad_uris[] = {"http://app.example/cb"};
    struct gw_auth_app_client app = {"chart", "Chart's \"app\"",     uris,
                                     2,       "patient/*.rs openid", true};
    struct gw_auth_app_client bad = app;
    struct gw_auth_app_client *got = NULL;
    struct gw_auth_app_client *list = NULL;
    struct gw_auth_code code = {"Ab9CmBJ0gJt0ZMK6OSJ3tUPJ7KjQzgb5L4vJ0Eu1y2w",
                                "chart",
                                "https://app.example/cb",
                                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                                "pat1",
                                "patient/*.rs",
                                "n-1",
                                NOW + 60};
    struct gw_auth_code *taken = NULL;
    size_t n = 0;

    ck_assert_msg(gw_auth_app_client_put(c, &app, &err) == BASE_OK, "%s", err.msg);
    ck_assert_int_eq(gw_auth_app_client_get(c, a, "chart", &got, &err), BASE_OK);
    ck_assert_str_eq(got->display_name, "Chart's \"app\"");
    ck_assert_uint_eq(got->redirect_count, 2);
    ck_assert_str_eq(got->redirect_uris[1], "http://127.0.0.1/cb");
    ck_assert(got->is_enabled);
    ck_assert_int_eq(gw_auth_app_client_get(c, a, "nobody", &got, &err), BASE_E_NOTFOUND);
    ck_assert_int_eq(gw_auth_app_client_set_enabled(c, "chart", false, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_app_client_list(c, a, &list, &n, &err), BASE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(!list[0].is_enabled);
    ck_assert_int_eq(gw_auth_app_client_set_enabled(c, "nobody", true, &err), BASE_E_NOTFOUND);
    /* refusals before any SQL */
    bad.redirect_uris = bad_uris;
    bad.redirect_count = 1;
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_app_client_put(c, &bad, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "redirect_uri");
    bad = app;
    bad.redirect_count = 0;
    ck_assert_int_eq(gw_auth_app_client_put(c, &bad, &err), BASE_E_INVALID);
    bad = app;
    bad.allowed_scopes = "openid";
    ck_assert_int_eq(gw_auth_app_client_put(c, &bad, &err), BASE_E_INVALID);
    bad = app;
    bad.client_id = "has space";
    ck_assert_int_eq(gw_auth_app_client_put(c, &bad, &err), BASE_E_INVALID);
    /* a code is taken once, whichever connection (gateway node) asks first */
    ck_assert_msg(gw_auth_code_put(c, &code, &err) == BASE_OK, "%s", err.msg);
    ck_assert_int_eq(gw_auth_code_put(c, &code, &err), BASE_E_CONFLICT);
    ck_assert_int_eq(gw_auth_code_take(c2, a, code.code_hash, NOW, &taken, &err), BASE_OK);
    ck_assert_str_eq(taken->username, "pat1");
    ck_assert_str_eq(taken->nonce, "n-1");
    ck_assert_str_eq(taken->code_challenge, code.code_challenge);
    ck_assert_int_eq(taken->expires_at, NOW + 60);
    ck_assert_int_eq(gw_auth_code_take(c, a, code.code_hash, NOW, &taken, &err), BASE_E_NOTFOUND);
    /* expired: not handed out (and spent) */
    code.code_hash = "Zz9CmBJ0gJt0ZMK6OSJ3tUPJ7KjQzgb5L4vJ0Eu1y2w";
    code.nonce = NULL;
    ck_assert_int_eq(gw_auth_code_put(c, &code, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_code_take(c, a, code.code_hash, NOW + 60, &taken, &err),
                     BASE_E_NOTFOUND);
    ck_assert_int_eq(gw_auth_code_take(c, a, "nope", NOW, &taken, &err), BASE_E_NOTFOUND);
    ck_assert_int_eq(gw_auth_code_purge(c, NOW + 1000, &err), BASE_OK);
    PQfinish(c);
    PQfinish(c2);
    base_arena_free(a);
}
END_TEST

/* ------------------------------------------- endpoint with PG backend -- */

static EVP_PKEY *gw_key, *client_key;

static void
keys_setup(void)
{
    setup();
    gw_key = tk_keygen("P-256");
    client_key = tk_keygen("P-384");
}

static void
keys_teardown(void)
{
    EVP_PKEY_free(gw_key);
    EVP_PKEY_free(client_key);
}

static void
endpoint_config(struct gw_auth_endpoint_config *cfg, struct gw_auth_backend *be, PGconn *c,
                struct gw_auth_keyset **ks)
{
    char *pem = tk_pem(gw_key, true);

    ck_assert_int_eq(gw_auth_keyset_new(ks, NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_add_pem(*ks, pem, strlen(pem), "gw", NULL, true, NULL),
                     BASE_OK);
    free(pem);
    gw_auth_backend_pg(be, c);
    tk_endpoint_config(cfg, *ks, be);
}

START_TEST(endpoint_client_credentials_through_postgres)
{
    PGconn *c = it_connect();
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_endpoint_config cfg;
    struct gw_auth_backend be;
    struct gw_auth_keyset *ks;
    struct gw_auth_client cl = {"hosp-c-his", "Hospital C", GW_AUTH_ROLE_MEMBER_SYSTEM,
                                "hospital-c", NULL,         "system/*.rs",
                                true};
    struct gw_auth_token_response r;
    struct base_err err = {0};
    char claims[512];
    char body[4096];
    char *tok;
    char *jwks = tk_jwks(client_key, "ck", NULL);

    cl.jwks = jwks;
    ck_assert_msg(gw_auth_client_put(c, &cl, &err) == BASE_OK, "%s %s", err.msg, err.log_detail);
    free(jwks);
    cl.jwks = "{\"keys\":[]}";
    ck_assert_int_eq(gw_auth_client_put(c, &cl, &err), BASE_E_INVALID);
    endpoint_config(&cfg, &be, c, &ks);
    snprintf(
        claims, sizeof(claims),
        "{\"iss\":\"hosp-c-his\",\"sub\":\"hosp-c-his\",\"aud\":\"https://gw.test/auth/token\","
        "\"exp\":%lld,\"jti\":\"pg-1\"}",
        NOW + 200);
    tok = tk_token("{\"alg\":\"ES384\",\"kid\":\"ck\",\"typ\":\"JWT\"}", claims, client_key,
                   "ES384", NULL, 0);
    snprintf(body, sizeof(body),
             "grant_type=client_credentials&scope=system/Observation.rs&client_assertion_type="
             "urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=%s",
             tok);
    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, body, strlen(body), "10.0.0.1", NOW, &r),
                     BASE_OK);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, body, strlen(body), "10.0.0.1", NOW, &r),
                     BASE_OK);
    ck_assert_uint_eq(r.status, 401);
    ck_assert_str_eq(r.event.reason, "assertion-replayed");
    ck_assert_int_eq(gw_auth_client_set_enabled(c, "hosp-c-his", false, &err), BASE_OK);
    free(tok);
    gw_auth_keyset_free(ks);
    base_arena_free(a);
    PQfinish(c);
}
END_TEST

START_TEST(endpoint_password_lockout_through_postgres)
{
    PGconn *c = it_connect();
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_endpoint_config cfg;
    struct gw_auth_backend be;
    struct gw_auth_keyset *ks;
    struct gw_auth_token_response r;
    char h[GW_AUTH_PW_HASH_MAX];
    struct gw_auth_user u =
        user("nurse.wu", GW_AUTH_ROLE_CLINICIAN, "hospital-a", NULL, "nurse-password", h);
    const char *good = "grant_type=password&username=nurse.wu&password=nurse-password";
    const char *bad = "grant_type=password&username=nurse.wu&password=guess";
    struct gw_auth_principal *p;

    ck_assert_int_eq(gw_auth_user_create(c, &u, NULL), BASE_OK);
    endpoint_config(&cfg, &be, c, &ks);
    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, good, strlen(good), "10.4.4.4", NOW, &r),
                     BASE_OK);
    ck_assert_msg(r.status == 200, "%s", r.body);
    {
        json_t *j = json_loads(r.body, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "access_token"));

        ck_assert_int_eq(gw_auth_token_verify(a, ks, &cfg.tokens, t, strlen(t), NOW, &p, NULL),
                         BASE_OK);
        ck_assert_str_eq(p->organization, "hospital-a");
        json_decref(j);
    }
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(
            gw_auth_token_endpoint_body(&cfg, a, bad, strlen(bad), "10.4.4.4", NOW, &r), BASE_OK);
        ck_assert_uint_eq(r.status, 400);
    }
    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, good, strlen(good), "10.4.4.4", NOW, &r),
                     BASE_OK);
    ck_assert_uint_eq(r.status, 429);
    ck_assert_str_eq(r.event.reason, "locked");
    ck_assert_int_gt(r.retry_after, 0);
    gw_auth_keyset_free(ks);
    base_arena_free(a);
    PQfinish(c);
}
END_TEST

START_TEST(endpoint_reports_store_outage)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_endpoint_config cfg;
    struct gw_auth_backend be;
    struct gw_auth_keyset *ks;
    struct gw_auth_token_response r;
    PGconn *c = it_connect();
    const char *good = "grant_type=password&username=nurse.wu&password=nurse-password";

    endpoint_config(&cfg, &be, c, &ks);
    PQfinish(c);
    c = PQconnectdb("postgresql:///nope?host=/nonexistent&connect_timeout=1");
    be.ctx = c;
    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, good, strlen(good), "10.5.5.5", NOW, &r),
                     BASE_OK);
    ck_assert_uint_eq(r.status, 503);
    ck_assert_ptr_null(strstr(r.body, "SELECT"));
    PQfinish(c);
    gw_auth_keyset_free(ks);
    base_arena_free(a);
}
END_TEST

Suite *gw_auth_store_integ_suite(void)
{
    Suite *s = suite_create("gw_auth_store");
    TCase *tc = tcase_create("store");
    TCase *te = tcase_create("endpoint");

    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, users_crud);
    tcase_add_test(tc, sql_injection_strings_are_data);
    tcase_add_test(tc, bootstrap_first_admin_once);
    tcase_add_test(tc, lockout_per_user_and_address);
    tcase_add_test(tc, success_resets_user_counter);
    tcase_add_test(tc, jti_replay_cache);
    tcase_add_test(tc, app_clients_and_codes);
    suite_add_tcase(s, tc);
    tcase_add_unchecked_fixture(te, keys_setup, keys_teardown);
    tcase_set_timeout(te, 120);
    tcase_add_test(te, endpoint_client_credentials_through_postgres);
    tcase_add_test(te, endpoint_password_lockout_through_postgres);
    tcase_add_test(te, endpoint_reports_store_outage);
    suite_add_tcase(s, te);
    return s;
}
