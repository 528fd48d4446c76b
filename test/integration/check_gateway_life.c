/*
 * test/integration/check_gateway_life.c — the gateway's life cycle, each
 * test with its own gateway: configuration refused before anything
 * starts, `migrate = check` on an unmigrated database, graceful SIGTERM
 * with a federated request in flight, and kill -9 under load — every 200
 * a client received has its AuditEvent committed.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>

#include "test/integration/gateway_it.h"
#include "test/support/runcli.h"

#define PW "correct horse battery"

static struct git_gw G;
static struct git_member M[] = {
    {.id = "hosp-a", .name = "Hospital A", .mode = GIT_OK, .patients = {"p1"}},
    {.id = "hosp-d", .name = "Hospital D", .mode = GIT_SLOW, .patients = {"p1"}},
};

static void
start(const char *name, size_t n_members)
{
    base_log_set_level(BASE_LOG_ERROR);
    git_prepare(&G, name);
    for (size_t i = 0; i < n_members; i++)
        git_member_start(&M[i], &G.pki, G.foreign_cert, G.foreign_key);
    git_write_conf(&G, M, n_members, NULL);
    git_start(&G);
}

static void
stop_members(size_t n)
{
    for (size_t i = 0; i < n; i++)
        git_member_stop(&M[i]);
}

START_TEST(a_bad_config_is_refused_before_anything_starts)
{
    const char *bin = tu_bin("fhirgate-gateway");
    char conf[700];
    struct tu_run run;
    FILE *f;

    git_prepare(&G, "gwlife-conf");
    snprintf(conf, sizeof(conf), "%s/bad.conf", G.dir);
    f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "[node]\nid = gw\npublic_url = https://x.example\n[auth]\nsigning_key = %s\n"
               "[federation]\ndeadline = soon\n",
            G.auth_key);
    fclose(f);
    ck_assert_int_eq(tu_run((const char *[]){bin, "--config", conf, "--check-config", NULL}, &run),
                     0);
    ck_assert_int_eq(run.status, 1);
    ck_assert_ptr_nonnull(strstr(run.err, "bad.conf:7"));
    ck_assert_ptr_nonnull(strstr(run.err, "deadline"));
    tu_run_free(&run);
    /* a literal secret is refused and never echoed */
    f = fopen(conf, "w");
    fprintf(f, "[node]\nid = gw\npublic_url = https://x.example\n[auth]\nsigning_key = %s\n"
               "[database]\nurl = postgresql://u:hunter2@db/x\n",
            G.auth_key);
    fclose(f);
    ck_assert_int_eq(tu_run((const char *[]){bin, "--config", conf, NULL}, &run), 0);
    ck_assert_int_eq(run.status, 1);
    ck_assert_ptr_null(strstr(run.err, "hunter2"));
    tu_run_free(&run);
    /* a key file that does not exist */
    f = fopen(conf, "w");
    fprintf(f, "[node]\nid = gw\npublic_url = https://x.example\n[auth]\n"
               "signing_key = /nonexistent/key.pem\n");
    fclose(f);
    ck_assert_int_eq(tu_run((const char *[]){bin, "--config", conf, "--check-config", NULL}, &run),
                     0);
    ck_assert_int_eq(run.status, 1);
    ck_assert_ptr_nonnull(strstr(run.err, "auth.signing_key"));
    tu_run_free(&run);
    ck_assert_int_eq(tu_run((const char *[]){bin, "--bogus", NULL}, &run), 0);
    ck_assert_int_eq(run.status, 2);
    tu_run_free(&run);
}
END_TEST

START_TEST(migrate_check_refuses_an_unmigrated_database)
{
    const char *bin = tu_bin("fhirgate-gateway");
    struct tu_run run;

    git_prepare(&G, "gwlife-check");
    git_write_conf(&G, NULL, 0, NULL);
    {
        /* switch the written config to migrate = check */
        char *text = tu_read_file(G.conf, NULL);
        char *at = strstr(text, "migrate = auto");
        FILE *f = fopen(G.conf, "w");

        ck_assert_ptr_nonnull(at);
        fprintf(f, "%.*smigrate = check%s", (int)(at - text), text, at + 14);
        fclose(f);
        free(text);
    }
    setenv("GIT_DB_URL", G.db_url, 1);
    ck_assert_int_eq(tu_run((const char *[]){bin, "--config", G.conf, NULL}, &run), 0);
    ck_assert_int_eq(run.status, 1);
    ck_assert_msg(strstr(run.err, "fhirgate migrate") != NULL, "%s", run.err);
    tu_run_free(&run);
}
END_TEST

struct slow_call {
    struct git_gw *g;
    const char *token;
    const char *person;
    long status;
    char *body;
};

static void *
slow_call(void *arg)
{
    struct slow_call *c = arg;
    char p[256];
    struct git_resp r;

    snprintf(p, sizeof(p), "/fhir/Observation?patient=%s", c->person);
    r = git_get(c->g, p, c->token);
    c->status = r.status;
    c->body = r.body;
    r.body = NULL;
    git_resp_free(&r);
    return NULL;
}

START_TEST(sigterm_finishes_the_request_in_flight)
{
    struct slow_call call = {0};
    pthread_t t;
    char *person;
    char *tok;

    start("gwlife-term", 2);
    person = git_person(&G, "p1", 2);
    ck_assert_ptr_nonnull(person);
    git_user(&G, "dr.a", PW, GW_AUTH_ROLE_CLINICIAN, "hosp-a", NULL);
    tok = git_token(&G, "dr.a", PW);
    ck_assert_ptr_nonnull(tok);
    call.g = &G;
    call.token = tok;
    call.person = person;
    ck_assert_int_eq(pthread_create(&t, NULL, slow_call, &call), 0);
    usleep(500 * 1000); /* the fan-out waits for the slow member */
    ck_assert_int_eq(git_stop(&G, SIGTERM), 0);
    pthread_join(t, NULL);
    ck_assert_msg(call.status == 200, "%ld %s", call.status, call.body);
    ck_assert_ptr_nonnull(strstr(call.body, "hosp-d"));
    ck_assert_int_ge(git_count(&G, "SELECT count(*) FROM audit.event WHERE http_status = 200 AND "
                                   "subtype = 'search-type'"),
                     1);
    free(call.body);
    free(tok);
    free(person);
    stop_members(2);
}
END_TEST

#define LOAD_THREADS 4
#define MAX_IDS      4096

struct load {
    struct git_gw *g;
    const char *token;
    const char *person;
    atomic_bool stop;
    pthread_mutex_t mu; /* guards ids, n */
    char (*ids)[40];
    size_t n;
};

static void *
load_main(void *arg)
{
    struct load *l = arg;
    char p[256];

    snprintf(p, sizeof(p), "/fhir/Observation?patient=%s", l->person);
    while (!atomic_load(&l->stop)) {
        struct git_resp r = git_get(l->g, p, l->token);
        struct tu_http_resp t = {.headers = r.headers};
        char id[40];

        if (r.status == 200 && tu_http_header(&t, "X-Request-Id", id, sizeof(id)) != NULL) {
            pthread_mutex_lock(&l->mu);
            if (l->n < MAX_IDS)
                snprintf(l->ids[l->n++], 40, "%s", id);
            pthread_mutex_unlock(&l->mu);
        }
        if (r.status == 0) {
            git_resp_free(&r);
            break;
        }
        git_resp_free(&r);
    }
    return NULL;
}

START_TEST(kill_9_under_load_loses_no_audit_row_of_an_answer)
{
    struct load l = {.g = &G};
    pthread_t t[LOAD_THREADS];
    char *person;
    char *tok;
    size_t missing = 0;

    start("gwlife-kill", 1);
    person = git_person(&G, "p1", 1);
    ck_assert_ptr_nonnull(person);
    git_user(&G, "dr.a", PW, GW_AUTH_ROLE_CLINICIAN, "hosp-a", NULL);
    tok = git_token(&G, "dr.a", PW);
    ck_assert_ptr_nonnull(tok);
    l.token = tok;
    l.person = person;
    l.ids = calloc(MAX_IDS, 40);
    pthread_mutex_init(&l.mu, NULL);
    atomic_init(&l.stop, false);
    for (size_t i = 0; i < LOAD_THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, load_main, &l), 0);
    usleep(1500 * 1000);
    (void)git_stop(&G, SIGKILL);
    atomic_store(&l.stop, true);
    for (size_t i = 0; i < LOAD_THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_gt(l.n, 5);
    for (size_t i = 0; i < l.n; i++) {
        char sql[256];

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM audit.event WHERE request_id = '%s' AND http_status = 200",
                 l.ids[i]);
        if (git_count(&G, sql) != 1)
            missing++;
    }
    ck_assert_msg(missing == 0, "%zu of %zu answers have no committed AuditEvent", missing, l.n);
    free(l.ids);
    free(tok);
    free(person);
    stop_members(1);
}
END_TEST

Suite *
gateway_life_suite(void)
{
    Suite *s = suite_create("gateway_life");
    TCase *tc = tcase_create("life");

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, a_bad_config_is_refused_before_anything_starts);
    tcase_add_test(tc, migrate_check_refuses_an_unmigrated_database);
    tcase_add_test(tc, sigterm_finishes_the_request_in_flight);
    tcase_add_test(tc, kill_9_under_load_loses_no_audit_row_of_an_answer);
    suite_add_tcase(s, tc);
    return s;
}
