/* `fhirgate user …` run for real against the private PostgreSQL:
 * bootstrapping the first admin, adding users, refusals, list, disable,
 * passwd, unlock — and the admin then signing in through the endpoint. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/gw_auth.h"
#include "gateway/auth/gw_auth_store.h"
#include "test/integration/auth_it.h"
#include "test/support/testutil.h"
#include "test/unit/gateway/auth/auth_test.h"

static char env_db[1200];
static char tmp[1024];

static void
setup(void)
{
    char db[64];

    base_log_set_level(BASE_LOG_WARN);
    snprintf(db, sizeof(db), "auth_cli_%d", (int)getpid());
    it_make_database(db);
    snprintf(env_db, sizeof(env_db), "FHIRGATE_DATABASE_URL=%s", it_url);
    snprintf(tmp, sizeof(tmp), "%s", it_env("FHIRGATE_TEST_TMP"));
}

static const char *
path(const char *name)
{
    static char buf[4][1200];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmp, name);
    return buf[i];
}

static void
write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *
slurp(const char *p)
{
    char *s = tu_read_file(p, NULL);

    ck_assert_ptr_nonnull(s);
    return s;
}

/* fhirgate user ARGS... with stdin from `input` (text, may be NULL). */
static int
user_cmd(const char *input, const char *a1, const char *a2, const char *a3, const char *a4,
         const char *a5, const char *a6, const char *a7)
{
    const char *argv[] = {tu_bin("fhirgate"), "user", a1, a2, a3, a4, a5, a6, a7, NULL};
    const char *env[] = {env_db, NULL};

    if (input != NULL)
        write_file(path("stdin"), input);
    return it_run(argv, input != NULL ? path("stdin") : NULL, path("out"), path("err"), env);
}

static void
expect_err_at(const char *text, int line)
{
    char *e = slurp(path("err"));

    ck_assert_msg(strstr(e, text) != NULL, "line %d: stderr: %s", line, e);
    free(e);
}
#define expect_err_contains(text) expect_err_at((text), __LINE__)

START_TEST(bootstrap_then_manage_users)
{
    char *out;
    PGconn *c;
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_user *u;
    bool match = false;

    /* the first admin, password from stdin (a deploy script's pipe) */
    ck_assert_msg(
        user_cmd("first-admin-password\n", "bootstrap", "Admin", NULL, NULL, NULL, NULL, NULL) == 0,
        "%s", slurp(path("err")));
    out = slurp(path("out"));
    ck_assert_str_eq(out, "created admin admin\n");
    free(out);
    /* again: nothing changes, still success (idempotent for deploy scripts) */
    ck_assert_int_eq(
        user_cmd("another-password-x\n", "bootstrap", "admin2", NULL, NULL, NULL, NULL, NULL), 0);
    expect_err_contains("an admin already exists; nothing changed");
    /* a clinician, password from a file */
    write_file(path("pw"), "clinician-pass-1\n");
    ck_assert_int_eq(user_cmd(NULL, "add", "dr.zhao", "--role", "clinician", "--organization",
                              "hospital-a", "--password-file"),
                     2); /* --password-file without its value */
    {
        char pw[1200];
        const char *argv[] = {tu_bin("fhirgate"),
                              "user",
                              "add",
                              "dr.zhao",
                              "--role",
                              "clinician",
                              "--organization",
                              "hospital-a",
                              "--display-name",
                              "赵医生",
                              "--password-file",
                              pw,
                              NULL};
        const char *env[] = {env_db, NULL};

        snprintf(pw, sizeof(pw), "%s", path("pw")); /* path() reuses its buffers */
        ck_assert_int_eq(it_run(argv, NULL, path("out"), path("err"), env), 0);
        ck_assert_int_eq(it_run(argv, NULL, path("out"), path("err"), env), 1);
        expect_err_contains("already exists");
    }
    /* refusals */
    ck_assert_int_eq(
        user_cmd("clinician-pass-1\n", "add", "dr.x", "--role", "clinician", NULL, NULL, NULL), 2);
    expect_err_contains("member organization");
    ck_assert_int_eq(user_cmd("short\n", "add", "reg.1", "--role", "regulator", NULL, NULL, NULL),
                     1);
    expect_err_contains("at least 12 characters");
    ck_assert_int_eq(
        user_cmd("patient-pass-12\n", "add", "p.1", "--role", "patient", NULL, NULL, NULL), 2);
    ck_assert_int_eq(user_cmd("x\n", "add", "bad name", "--role", "admin", NULL, NULL, NULL), 2);
    ck_assert_int_eq(user_cmd("x\n", "add", "y", "--role", "superuser", NULL, NULL, NULL), 2);
    ck_assert_int_eq(user_cmd(NULL, "frobnicate", NULL, NULL, NULL, NULL, NULL, NULL), 2);
    ck_assert_int_eq(user_cmd("patient-pass-12\n", "add", "li.mei", "--role", "patient",
                              "--patient", "person-7", NULL),
                     0);
    /* list */
    ck_assert_int_eq(user_cmd(NULL, "list", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    out = slurp(path("out"));
    ck_assert_ptr_nonnull(strstr(out, "admin"));
    ck_assert_ptr_nonnull(strstr(out, "dr.zhao"));
    ck_assert_ptr_nonnull(strstr(out, "hospital-a"));
    ck_assert_ptr_nonnull(strstr(out, "li.mei"));
    ck_assert_ptr_null(strstr(out, "$scrypt$"));
    free(out);
    /* disable, enable, passwd, unlock */
    ck_assert_int_eq(user_cmd(NULL, "disable", "dr.zhao", NULL, NULL, NULL, NULL, NULL), 0);
    c = it_connect();
    ck_assert_int_eq(gw_auth_user_get(c, a, "dr.zhao", &u, NULL), BASE_OK);
    ck_assert(!u->is_enabled);
    ck_assert_int_eq(user_cmd(NULL, "enable", "dr.zhao", NULL, NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(user_cmd(NULL, "disable", "nobody", NULL, NULL, NULL, NULL, NULL), 1);
    expect_err_contains("no such user");
    ck_assert_int_eq(
        user_cmd("a-brand-new-password\n", "passwd", "dr.zhao", NULL, NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(gw_auth_user_get(c, a, "dr.zhao", &u, NULL), BASE_OK);
    ck_assert(u->is_enabled);
    ck_assert_int_eq(
        gw_auth_password_verify("a-brand-new-password", 20, u->password_hash, &match, NULL),
        BASE_OK);
    ck_assert(match);
    ck_assert_ptr_nonnull(strstr(u->password_hash, "$scrypt$ln=15,r=8,p=3$"));
    ck_assert_int_eq(user_cmd(NULL, "unlock", "dr.zhao", NULL, NULL, NULL, NULL, NULL), 0);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(bootstrapped_admin_signs_in)
{
    PGconn *c;
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_keyset *ks;
    struct gw_auth_endpoint_config cfg;
    struct gw_auth_backend be;
    struct gw_auth_token_response r;
    EVP_PKEY *k = tk_keygen("P-256");
    char *pem = tk_pem(k, true);
    const char *body = "grant_type=password&username=admin&password=first-admin-password";

    /* the first test bootstrapped "admin"; make sure it exists in this run */
    (void)user_cmd("first-admin-password\n", "bootstrap", "admin", NULL, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(gw_auth_keyset_new(&ks, NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_keyset_add_pem(ks, pem, strlen(pem), NULL, NULL, true, NULL), BASE_OK);
    c = it_connect();
    gw_auth_backend_pg(&be, c);
    tk_endpoint_config(&cfg, ks, &be);
    gw_auth_pw_params_default(&cfg.pw_params);
    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, body, strlen(body), "127.0.0.1",
                                                 (int64_t)time(NULL), &r),
                     BASE_OK);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "user/Organization.cruds"));
    ck_assert_int_eq(r.event.role, GW_AUTH_ROLE_ADMIN);
    PQfinish(c);
    free(pem);
    EVP_PKEY_free(k);
    gw_auth_keyset_free(ks);
    base_arena_free(a);
}
END_TEST

START_TEST(needs_a_database)
{
    const char *argv[] = {tu_bin("fhirgate"), "user", "list", NULL};
    const char *bad[] = {"FHIRGATE_DATABASE_URL=postgresql:///x?host=/nonexistent", NULL};

    ck_assert_int_eq(it_run(argv, NULL, path("out"), path("err"), NULL), 2);
    ck_assert_int_eq(it_run(argv, NULL, path("out"), path("err"), bad), 1);
    expect_err_contains("could not connect to the database");
}
END_TEST

Suite *gw_auth_cli_integ_suite(void)
{
    Suite *s = suite_create("gw_auth_cli");
    TCase *tc = tcase_create("cli");

    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, bootstrap_then_manage_users);
    tcase_add_test(tc, bootstrapped_admin_signs_in);
    tcase_add_test(tc, needs_a_database);
    suite_add_tcase(s, tc);
    return s;
}
