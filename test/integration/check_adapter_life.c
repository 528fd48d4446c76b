/*
 * The adapter's life: the configuration validated completely before
 * anything listens (each bad setting named), migrate = check, the embedded
 * database default, and self-registration with a gateway over mutual TLS
 * with retries (docs/design/region.md "Members").
 */
#include <pthread.h>

#include "fhir/base/log.h"
#include "gateway/http/gw_http.h"
#include "test/integration/adapter_it.h"
#include "test/support/runcli.h"

/* --------------------------------------------------- configuration -- */

/* Write `text` as a config next to t's and check it: exit status and
 * stderr. */
static int
check_conf(const struct ait *t, const char *text, char *err_out, size_t cap)
{
    char path[700];
    struct tu_run r;
    FILE *f;
    int st;

    snprintf(path, sizeof(path), "%s/check.conf", t->dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(tu_run((const char *[]){tu_bin("fhirgate-adapter"), "--config", path,
                                             "--check-config", NULL},
                            &r),
                     0);
    st = r.status;
    snprintf(err_out, cap, "%s", r.err != NULL ? r.err : "");
    tu_run_free(&r);
    return st;
}

/* The test's own valid config with `from` replaced by `to`. */
static char *
variant(const struct ait *t, const char *from, const char *to)
{
    char *conf = tu_read_file(t->conf, NULL);
    char *at;
    char *out;

    ck_assert_ptr_nonnull(conf);
    at = strstr(conf, from);
    ck_assert_msg(at != NULL, "no %s in the config", from);
    out = malloc(strlen(conf) + strlen(to) + 1);
    ck_assert_ptr_nonnull(out);
    snprintf(out, strlen(conf) + strlen(to) + 1, "%.*s%s%s", (int)(at - conf), conf, to,
             at + strlen(from));
    free(conf);
    return out;
}

START_TEST(config_checked_completely)
{
    static const struct {
        const char *from, *to, *expect;
    } bad[] = {
        {"[http]\n", "[http]\nplain_http = true\n", "plain_http"},
        {"[http]\n", "[http]\nclient_auth = optional\n", "client_auth"},
        {"member_id = hosp-a\n", "member_id = bad id!\n", "member_id"},
        {"member_id = hosp-a\n", "", "member_id"},
        {"log_level = info\n", "log_level = loud\n", "log_level"},
        {"log_level = info\n", "tz_offset = +25:00\n", "tz_offset"},
        {"[mllp]\n", "[mllp]\nbatch_max = 0\n", "batch_max"},
        {"[ingest]\n", "[ingest]\nclients = sha256:abc\n", "clients"},
        {"[mllp]\n", "[mllp]\ntls_cert = /nonexistent.crt\n", "tls_cert"},
        {"[http]\n", "[http]\nmax_bdy = 1M\n", "unknown key"},
        {"[hl7v2]\n", "[hl7v2]\nauthority = HIS\n", "authority"},
        {"[hl7v2]\n", "[hl7v2]\ncodemaps = /nonexistent\n", "codemaps"},
        {"url = env:AIT_DB_URL\n", "url = postgres-ish\n", "secret"},
        {"[ingest]\n", "[pacs]\nqido_url = http://127.0.0.1:1/dw\n\n[ingest]\n", "qido_url"},
        {"[ingest]\n", "[pacs]\nqido_url = https://pacs/dw\nauth = basic\nuser = u\n\n[ingest]\n",
         "auth"},
        {"[ingest]\n", "[csv \"x\"]\nmapping = /nonexistent.map\n\n[ingest]\n", "mapping"},
        {"[ingest]\n", "[gateway]\nurl = http://gw\n\n[ingest]\n", "[gateway]"},
    };
    struct ait t;
    char err[4096];
    char *conf;

    ait_init(&t, "ait-life-config", "");
    conf = tu_read_file(t.conf, NULL);
    setenv("AIT_DB_URL", t.url, 1);
    ck_assert_int_eq(check_conf(&t, conf, err, sizeof(err)), 0);
    free(conf);
    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        conf = variant(&t, bad[i].from, bad[i].to);
        ck_assert_msg(check_conf(&t, conf, err, sizeof(err)) == 1, "case %zu accepted", i);
        ck_assert_msg(strstr(err, bad[i].expect) != NULL || strstr(err, "check.conf:") != NULL,
                      "case %zu: %s", i, err);
        ck_assert_msg(strstr(err, "check.conf") != NULL, "case %zu names no place: %s", i, err);
        free(conf);
    }
    /* a bad code map: the file, line and column */
    {
        char dir[700];
        char csv[800];
        char extra[900];
        FILE *f;

        snprintf(dir, sizeof(dir), "%s/maps", t.dir);
        mkdir(dir, 0755);
        snprintf(csv, sizeof(csv), "%s/lab.csv", dir);
        f = fopen(csv, "w");
        fputs("local_system,local_code,target_system,target_code\nL,X,NOSUCH,1\n", f);
        fclose(f);
        snprintf(extra, sizeof(extra), "[hl7v2]\ncodemaps = %s\n", dir);
        conf = variant(&t, "[hl7v2]\n", extra);
        ck_assert_int_eq(check_conf(&t, conf, err, sizeof(err)), 1);
        ck_assert_ptr_nonnull(strstr(err, "lab.csv:2:"));
        free(conf);
    }
    /* usage */
    {
        struct tu_run r;

        ck_assert_int_eq(tu_run((const char *[]){tu_bin("fhirgate-adapter"), NULL}, &r), 0);
        ck_assert_int_eq(r.status, 2);
        tu_run_free(&r);
    }
}
END_TEST

START_TEST(migrate_check_refuses_an_old_schema)
{
    struct ait t;
    struct tu_run r;
    char env[700];
    char *conf;
    FILE *f;

    ait_init(&t, "ait-life-migrate", "");
    conf = variant(&t, "url = env:AIT_DB_URL\n", "url = env:AIT_DB_URL\nmigrate = check\n");
    f = fopen(t.conf, "w");
    fputs(conf, f);
    fclose(f);
    free(conf);
    snprintf(env, sizeof(env), "%s", t.url);
    setenv("AIT_DB_URL", env, 1);
    ck_assert_int_eq(
        tu_run((const char *[]){tu_bin("fhirgate-adapter"), "--config", t.conf, NULL}, &r), 0);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "fhirgate migrate --target adapter"));
    tu_run_free(&r);
}
END_TEST

/* No database configured: a private cluster under the state folder. */
START_TEST(embedded_database_default)
{
    struct ait t;
    char state[700];
    char *conf;
    char *ack;
    int fd;
    FILE *f;
    static const char msg[] = "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^A01|E1|P|"
                              "2.5.1\rPID|1||EMB1^^^HOSP-A^MR||Emb^Pat||19800101|F\r";

    ait_init(&t, "ait-life-embedded", "");
    conf = variant(&t, "[database]\nurl = env:AIT_DB_URL\n", "");
    f = fopen(t.conf, "w");
    fputs(conf, f);
    fclose(f);
    free(conf);
    ait_start(&t);
    fd = ait_mllp_connect(&t);
    ait_mllp_send(fd, msg, sizeof(msg) - 1);
    ack = ait_mllp_ack(fd, 10000);
    ck_assert_str_eq(ait_msa(ack), "AA");
    free(ack);
    close(fd);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
    snprintf(state, sizeof(state), "%s/state/pg/data/PG_VERSION", t.dir);
    ck_assert_int_eq(access(state, F_OK), 0);
    /* the cluster stays for the next start; stop it for the test run */
    {
        char pg[700];
        struct tu_run r;

        snprintf(pg, sizeof(pg), "%s/state/pg", t.dir);
        ck_assert_int_eq(
            tu_run((const char *[]){"/bin/sh", "-c",
                                    "\"$FHIRGATE_SRC/deploy/pgctl.sh\" stop \"$0\"", pg, NULL},
                   &r),
            0);
        tu_run_free(&r);
    }
}
END_TEST

/* --------------------------------------------------------- registration -- */

static struct {
    pthread_mutex_t mu;
    int calls;
    char cn[128];
    char body[1024];
} gw = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""};

static void
h_register(struct gw_http_req *r, void *cls)
{
    const struct gw_http_client *cl = gw_http_req_client(r);
    struct base_str body = gw_http_req_body(r);
    int call;

    (void)cls;
    pthread_mutex_lock(&gw.mu);
    call = ++gw.calls;
    snprintf(gw.cn, sizeof(gw.cn), "%s", cl != NULL && cl->subject_cn ? cl->subject_cn : "");
    snprintf(gw.body, sizeof(gw.body), "%.*s", (int)body.len, body.ptr);
    pthread_mutex_unlock(&gw.mu);
    if (call == 1) { /* the gateway is busy once: the adapter retries */
        ck_assert_int_eq(gw_http_respond_outcome(r, 503, "transient", NULL, "try later"), BASE_OK);
        return;
    }
    static const char answer[] = "{\"member\":\"hosp-a\",\"status\":\"pending\"}";

    ck_assert_int_eq(gw_http_respond(r, 202, "application/json", answer, sizeof(answer) - 1),
                     BASE_OK);
}

START_TEST(registers_with_the_gateway)
{
    static const struct gw_http_route routes[] = {{"POST", "/members/register", h_register, NULL}};
    struct gw_http_config c;
    struct gw_http_server *srv = NULL;
    struct base_err err = {0};
    char adapter_cert[600];
    char adapter_key[600];
    char extra[2000];
    struct ait t;
    json_t *body = NULL;
    char *log;
    char logp[700];

    ait_pki_make(&t.pki, "ait-life-register");
    ait_client(t.pki.p.dir, "hosp-a", adapter_cert, adapter_key);
    base_log_set_level(BASE_LOG_WARN);
    gw_http_config_init(&c);
    c.name = "fake-gateway";
    c.cert_file = t.pki.p.server_cert;
    c.key_file = t.pki.p.server_key;
    c.client_ca_file = t.pki.p.ca;
    c.client_auth = GW_HTTP_CLIENT_AUTH_REQUIRED;
    c.routes = routes;
    c.route_count = 1;
    c.threads = 1;
    ck_assert_msg(gw_http_server_start(&c, &srv, &err) == BASE_OK, "%s", err.msg);
    snprintf(extra, sizeof(extra),
             "[gateway]\nurl = https://localhost:%u\nca = %s\nclient_cert = %s\nclient_key = %s\n"
             "retry_max = 2s\n",
             gw_http_server_port(srv), t.pki.p.ca, adapter_cert, adapter_key);
    ait_init(&t, "ait-life-register", extra);
    ait_start(&t);
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&gw.mu);
        int calls = gw.calls;
        pthread_mutex_unlock(&gw.mu);
        if (calls >= 2)
            break;
        usleep(100000);
    }
    ck_assert_int_eq(gw.calls, 2); /* one failure, one retry, then done */
    ck_assert_str_eq(gw.cn, "hosp-a");
    ck_assert_int_eq(fhir_json_parse(gw.body, strlen(gw.body), NULL, &body, NULL), BASE_OK);
    ck_assert_str_eq(tu_json_str(body, "member"), "hosp-a");
    ck_assert_str_eq(tu_json_str(body, "name"), "Hospital A");
    ck_assert_int_eq(strncmp(tu_json_str(body, "base"), t.base, strlen(t.base)), 0);
    json_decref(body);
    snprintf(logp, sizeof(logp), "%s/adapter.err", t.dir);
    /* the adapter logs the answer after the gateway sent it: wait for it */
    for (int i = 0; i < 100; i++) {
        log = tu_read_file(logp, NULL);
        if (log != NULL && strstr(log, "member_status=pending") != NULL)
            break;
        free(log);
        log = NULL;
        usleep(100000);
    }
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "adapter.registered"));
    ck_assert_ptr_nonnull(strstr(log, "member_status=pending"));
    free(log);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
    (void)gw_http_server_stop(srv, 1000);
}
END_TEST

Suite *
adapter_life_suite(void)
{
    Suite *s = suite_create("adapter_life");
    TCase *tc = tcase_create("life");

    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, config_checked_completely);
    tcase_add_test(tc, migrate_check_refuses_an_old_schema);
    tcase_add_test(tc, embedded_database_default);
    tcase_add_test(tc, registers_with_the_gateway);
    suite_add_tcase(s, tc);
    return s;
}
