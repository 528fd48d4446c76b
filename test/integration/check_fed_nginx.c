/*
 * The engine against a member that offers HTTP/2 (nginx with mTLS): the
 * transfer negotiates h2 through ALPN, and concurrent jobs to that member
 * multiplex over one connection instead of opening more.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "gateway/fed/gw_fed.h"
#include "test/support/tu_member.h"

static struct tu_member_pki PKI;
static char PID_FILE[700];

static void
setup(void)
{
    ck_assert_int_eq(tu_member_pki_make(&PKI), 0);
}

static void
teardown(void)
{
    FILE *f = fopen(PID_FILE, "r");
    long p = 0;

    if (f != NULL && fscanf(f, "%ld", &p) == 1 && p > 0)
        kill((pid_t)p, SIGQUIT);
    if (f != NULL)
        fclose(f);
    usleep(200 * 1000);
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "%s/m.json", PKI.dir);
    unlink(cmd);
    snprintf(cmd, sizeof(cmd), "%s/nginx.conf", PKI.dir);
    unlink(cmd);
    snprintf(cmd, sizeof(cmd), "%s/nginx.err", PKI.dir);
    unlink(cmd);
    snprintf(cmd, sizeof(cmd), "%s/access.log", PKI.dir);
    unlink(cmd);
    unlink(PID_FILE);
    snprintf(cmd, sizeof(cmd), "%s/t", PKI.dir);
    rmdir(cmd);
    tu_member_pki_remove(&PKI);
}

/* Start nginx serving `body` for any path on a free port; the port. */
static unsigned
nginx_member(const char *body)
{
    char path[700];
    FILE *f;

    snprintf(path, sizeof(path), "%s/m.json", PKI.dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(body, f);
    fclose(f);
    /* nginx workers run as nobody: the answer must be readable (keys stay 0600) */
    chmod(path, 0644);
    chmod(PKI.dir, 0755);
    snprintf(PID_FILE, sizeof(PID_FILE), "%s/nginx.pid", PKI.dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        unsigned port = tu_member_closed_port();
        const char *d = PKI.dir;

        snprintf(path, sizeof(path), "%s/nginx.conf", d);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "worker_processes 1; pid %s; error_log %s/nginx.err warn;\n"
                "events { worker_connections 256; }\n"
                "http { log_format c '$connection $server_protocol';\n"
                "  access_log %s/access.log c; client_body_temp_path %s/t; proxy_temp_path %s/t;\n"
                "  fastcgi_temp_path %s/t; uwsgi_temp_path %s/t; scgi_temp_path %s/t;\n"
                "  server { listen 127.0.0.1:%u ssl http2; root %s;\n"
                "    ssl_certificate %s; ssl_certificate_key %s;\n"
                "    ssl_client_certificate %s; ssl_verify_client on;\n"
                "    ssl_protocols TLSv1.2 TLSv1.3; default_type application/fhir+json;\n"
                "    location / { try_files /m.json =404; } } }\n",
                PID_FILE, d, d, d, d, d, d, d, port, d, PKI.server_cert, PKI.server_key, PKI.ca);
        fclose(f);
        pid_t pid = fork();
        if (pid == 0) {
            char errlog[700];

            snprintf(errlog, sizeof(errlog), "%s/nginx.err", d);
            execlp("nginx", "nginx", "-e", errlog, "-p", d, "-c", path, (char *)NULL);
            _exit(127);
        }
        int st = 0;
        waitpid(pid, &st, 0); /* nginx daemonizes: the parent returns at once */
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && access(PID_FILE, R_OK) == 0)
            return port;
    }
    ck_abort_msg("nginx does not start (deploy/install-deps.sh installs it)");
    return 0;
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct gw_fed_answer *a[8];
    int n;
};

static void
on_done(struct gw_fed_answer *a, void *ctx)
{
    struct waiter *w = ctx;

    pthread_mutex_lock(&w->mu);
    w->a[w->n++] = a;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

START_TEST(http2_member_multiplexes)
{
    const char *body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1,\"entry\":"
                       "[{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"n1\"}}]}";
    unsigned port = nginx_member(body);
    char base[64];
    char url[128];
    struct gw_fed_config c = gw_fed_config_default();
    struct gw_fed_engine *e = NULL;
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {NULL}, 0};

    snprintf(base, sizeof(base), "https://127.0.0.1:%u/fhir", port);
    snprintf(url, sizeof(url), "%s/Observation?patient=Patient/1", base);
    c.ca_file = PKI.ca;
    c.cert_file = PKI.client_cert;
    c.key_file = PKI.client_key;
    ck_assert_int_eq(gw_fed_engine_new(&c, &e, NULL), BASE_OK);
    struct gw_fed_request rq = {"n", "Nginx Hospital", base, url, NULL, 0, false};
    struct gw_fed_job job = {.requests = &rq, .n_requests = 1, .deadline_ms = 5000};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(gw_fed_submit(e, &job, on_done, &w, NULL), BASE_OK);
    pthread_mutex_lock(&w.mu);
    while (w.n < 8)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    for (int i = 0; i < 8; i++) {
        const struct gw_fed_result *r = &w.a[i]->results[0];

        ck_assert_msg(r->error == GW_FED_OK, "%s", r->detail);
        ck_assert_int_eq(r->http_version, 2);
        ck_assert_str_eq(r->content_type, "application/fhir+json");
        ck_assert_uint_eq(r->body_len, strlen(body));
        gw_fed_answer_free(w.a[i]);
    }
    /* one connection carried the 8 concurrent requests.  nginx writes a
     * log line after the response has gone out, so the client may finish
     * first: wait (bounded) until all 8 lines are there. */
    char logp[700];
    char line[128];
    long first = -1;
    int lines = 0;
    snprintf(logp, sizeof(logp), "%s/access.log", PKI.dir);
    for (int tries = 0; tries < 100; tries++) {
        FILE *lf = fopen(logp, "r");

        ck_assert_ptr_nonnull(lf);
        lines = 0;
        first = -1;
        while (fgets(line, sizeof(line), lf) != NULL) {
            long conn = strtol(line, NULL, 10);

            ck_assert_ptr_nonnull(strstr(line, "HTTP/2.0"));
            if (first < 0)
                first = conn;
            ck_assert_int_eq(conn, first);
            lines++;
        }
        fclose(lf);
        if (lines >= 8)
            break;
        usleep(20000);
    }
    ck_assert_int_eq(lines, 8);
    gw_fed_engine_free(e);
    /* the same member, HTTP/1.1 only when so configured */
    c.http1_only = true;
    ck_assert_int_eq(gw_fed_engine_new(&c, &e, NULL), BASE_OK);
    w.n = 0;
    ck_assert_int_eq(gw_fed_submit(e, &job, on_done, &w, NULL), BASE_OK);
    pthread_mutex_lock(&w.mu);
    while (w.n < 1)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    ck_assert_int_eq(w.a[0]->results[0].http_version, 1);
    gw_fed_answer_free(w.a[0]);
    gw_fed_engine_free(e);
}
END_TEST

Suite *fed_nginx_suite(void)
{
    Suite *s = suite_create("fed_nginx");
    TCase *tc = tcase_create("http2");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, http2_member_multiplexes);
    suite_add_tcase(s, tc);
    return s;
}
