/*
 * demo-feed against a small MLLP listener run by the test (a thread on a
 * loopback port): acknowledgements AA / AE / AR, silence, a listener that
 * goes away and comes back, one that is never there, TLS with a
 * certificate made at test time, and the live stream.
 */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fhir/base/limits.h"
#include "test/support/runcli.h"
#include "test/unit/gateway/demo/demo_test.h"

#define FEED_FILES 40

static char gen[256];  /* a generation */
static char msgs[256]; /* the first FEED_FILES of its messages */
static struct gw_demo_summary sum;

static void
setup_once(void)
{
    demo_test_generate(GW_DEMO_DEFAULT_SEED, gen, &sum);
    demo_test_tmpdir(msgs);
    for (int i = 1; i <= FEED_FILES; i++) {
        char from[512];
        char to[512];
        size_t len = 0;
        char *data;
        FILE *f;

        snprintf(from, sizeof(from), "%s/hosp-a/hl7/%05d.hl7", gen, i);
        snprintf(to, sizeof(to), "%s/%05d.hl7", msgs, i);
        data = tu_read_file(from, &len);
        f = fopen(to, "wb");
        if (data == NULL || f == NULL || fwrite(data, 1, len, f) != len)
            abort();
        fclose(f);
        free(data);
    }
}

static void
teardown_once(void)
{
    demo_test_rmdir(gen);
    demo_test_rmdir(msgs);
}

/* ------------------------------------------------------------ listener -- */

enum answer {
    ANSWER_AA,
    ANSWER_AE,     /* at message `at` */
    ANSWER_AR,     /* at message `at` */
    ANSWER_SILENT, /* read, never answer */
    ANSWER_RESTART /* at message `at` (first time): close everything, listen again later */
};

struct listener {
    int fd;
    int port;
    pthread_t th;
    enum answer mode;
    int at;
    atomic_int stop;
    atomic_int received;
    atomic_int restarted;
    char ids[200][32]; /* MSH-10 of each message received, in order */
    char live_pid[200][32];
    SSL_CTX *tls;                        /* server side, when testing TLS */
    volatile sig_atomic_t *signal_after; /* set *signal_after when `at` messages arrived */
};

static int
listen_on(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(a);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return fd;
}

static int
port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

struct io {
    int fd;
    SSL *ssl;
};

static ssize_t
io_read(struct io *c, char *buf, size_t cap)
{
    return c->ssl != NULL ? SSL_read(c->ssl, buf, (int)cap) : recv(c->fd, buf, cap, 0);
}

static void
io_write(struct io *c, const char *buf, size_t len)
{
    if (c->ssl != NULL)
        SSL_write(c->ssl, buf, (int)len);
    else
        (void)send(c->fd, buf, len, MSG_NOSIGNAL);
}

static void
control_id_of(const char *msg, size_t len, char out[32])
{
    const char *p = msg;
    int f = 1;

    out[0] = '\0';
    for (size_t i = 3; i < len && msg[i] != '\r'; i++) {
        if (msg[i] == '|' && ++f == 10) {
            p = msg + i + 1;
            snprintf(out, 32, "%.*s", (int)strcspn(p, "|\r"), p);
            return;
        }
    }
}

static void
answer(struct listener *l, struct io *c, const char *ctrl, int n)
{
    char ack[512];
    const char *code = "AA";
    const char *err = "";

    if (l->mode == ANSWER_AE && n == l->at) {
        code = "AE";
        err = "ERR||PID^1^5|101^Required field missing^HL70357|E||||PID-5 required\r";
    } else if (l->mode == ANSWER_AR && n == l->at) {
        code = "AR";
        err = "ERR||MSH^1^9|207^Application internal error^HL70357|E||||store unavailable\r";
    }
    snprintf(ack, sizeof(ack),
             "\x0bMSH|^~\\&|FHIRGATE|REGION|HIS|HOSPA|20260101000000+0800||ACK|A%d|P|2.5\r"
             "MSA|%s|%s\r%s\x1c\r",
             n, code, ctrl, err);
    io_write(c, ack, strlen(ack));
}

/* Serve one connection; returns false when the listener should restart. */
static bool
serve(struct listener *l, struct io *c)
{
    static char buf[1 << 20];
    size_t len = 0;

    while (!atomic_load(&l->stop)) {
        struct pollfd p = {c->fd, POLLIN, 0};
        size_t start;
        size_t mlen;
        size_t used;
        ssize_t r;

        if ((c->ssl == NULL || SSL_pending(c->ssl) == 0) && poll(&p, 1, 50) <= 0)
            continue;
        r = io_read(c, buf + len, sizeof(buf) - len);
        if (r <= 0)
            return true;
        len += (size_t)r;
        while (gw_demo_mllp_find(buf, len, sizeof(buf), &start, &mlen, &used, NULL) == 1) {
            int n = atomic_fetch_add(&l->received, 1) + 1;
            char ctrl[32];

            control_id_of(buf + start, mlen, ctrl);
            if (n <= 200) {
                snprintf(l->ids[n - 1], 32, "%s", ctrl);
                if (strncmp(ctrl, "HAL", 3) == 0) {
                    const char *pid = memmem(buf + start, mlen, "\rPID|1||", 8);

                    snprintf(l->live_pid[n - 1], 32, "%.*s", pid != NULL ? 10 : 0,
                             pid != NULL ? pid + 8 : "");
                }
            }
            memmove(buf, buf + used, len - used);
            len -= used;
            if (l->mode == ANSWER_RESTART && n == l->at && !atomic_load(&l->restarted))
                return false;
            if (l->signal_after != NULL && n == l->at)
                *l->signal_after = 1;
            if (l->mode != ANSWER_SILENT)
                answer(l, c, ctrl, n);
        }
    }
    return true;
}

static void *
listener_main(void *arg)
{
    struct listener *l = arg;

    while (!atomic_load(&l->stop)) {
        struct pollfd p = {l->fd, POLLIN, 0};
        struct io c = {-1, NULL};
        bool keep;

        if (poll(&p, 1, 50) <= 0)
            continue;
        c.fd = accept(l->fd, NULL, NULL);
        if (c.fd < 0)
            continue;
        if (l->tls != NULL) {
            c.ssl = SSL_new(l->tls);
            SSL_set_fd(c.ssl, c.fd);
            if (SSL_accept(c.ssl) != 1) {
                SSL_free(c.ssl);
                close(c.fd);
                continue;
            }
        }
        keep = serve(l, &c);
        if (c.ssl != NULL)
            SSL_free(c.ssl);
        close(c.fd);
        if (!keep) {
            /* the listener "restarts": gone for a while, then back on its port */
            close(l->fd);
            usleep(400 * 1000);
            l->fd = listen_on(l->port);
            atomic_store(&l->restarted, 1);
        }
    }
    return NULL;
}

static void
start(struct listener *l, enum answer mode, int at)
{
    memset(l, 0, sizeof(*l));
    l->mode = mode;
    l->at = at;
    l->fd = listen_on(0);
    l->port = port_of(l->fd);
    ck_assert_int_eq(pthread_create(&l->th, NULL, listener_main, l), 0);
}

static void
stop(struct listener *l)
{
    atomic_store(&l->stop, 1);
    pthread_join(l->th, NULL);
    close(l->fd);
}

static struct gw_demo_feed_opts
opts(const struct listener *l, char port[8])
{
    struct gw_demo_feed_opts o = {.host = "127.0.0.1",
                                  .port = port,
                                  .from_dir = msgs,
                                  .interval_ms = 10,
                                  .ack_timeout_ms = 3000,
                                  .retry_ms = 5000,
                                  .quiet = true};

    snprintf(port, 8, "%d", l->port);
    return o;
}

/* One feed run against one listener: begin() starts the listener and
 * fills default options, feed() runs the feed and stops the listener. */
struct run {
    struct listener l;
    struct gw_demo_feed_opts o;
    struct gw_demo_feed_stats st;
    struct base_err err;
    char port[8];
    char manifest[300];
};

static void
begin(struct run *r, enum answer mode, int at)
{
    memset(r, 0, sizeof(*r));
    start(&r->l, mode, at);
    r->o = opts(&r->l, r->port);
    snprintf(r->manifest, sizeof(r->manifest), "%s/manifest.json", gen);
}

static int
feed(struct run *r)
{
    int rc = gw_demo_feed_run(&r->o, &r->st, &r->err);

    stop(&r->l);
    return rc;
}

/* --------------------------------------------------------------- tests -- */

START_TEST(replays_in_order)
{
    struct run r;

    begin(&r, ANSWER_AA, 0);
    ck_assert_int_eq(feed(&r), BASE_OK);
    ck_assert_uint_eq(r.st.sent, FEED_FILES);
    ck_assert_uint_eq(r.st.reconnects, 0);
    ck_assert_int_eq(atomic_load(&r.l.received), FEED_FILES);
    for (int i = 0; i < FEED_FILES; i++) {
        char want[16];

        snprintf(want, sizeof(want), "HA%08d", i + 1);
        ck_assert_str_eq(r.l.ids[i], want);
    }
}
END_TEST

START_TEST(skip)
{
    struct run r;

    begin(&r, ANSWER_AA, 0);
    r.o.skip = 35;
    ck_assert_int_eq(feed(&r), BASE_OK);
    ck_assert_uint_eq(r.st.sent, 5);
    ck_assert_str_eq(r.l.ids[0], "HA00000036");
}
END_TEST

START_TEST(stops_on_ae)
{
    struct run r;

    begin(&r, ANSWER_AE, 5);
    ck_assert_int_eq(feed(&r), BASE_E_UPSTREAM);
    ck_assert_uint_eq(r.st.sent, 4);
    ck_assert_str_eq(r.err.where, "00005.hl7");
    ck_assert_ptr_nonnull(strstr(r.err.msg, "AE"));
    ck_assert_ptr_nonnull(strstr(r.err.msg, "PID-5 required"));
    ck_assert_int_eq(atomic_load(&r.l.received), 5);
}
END_TEST

START_TEST(stops_on_ar)
{
    struct run r;

    begin(&r, ANSWER_AR, 1);
    ck_assert_int_eq(feed(&r), BASE_E_UPSTREAM);
    ck_assert_uint_eq(r.st.sent, 0);
    ck_assert_ptr_nonnull(strstr(r.err.msg, "AR: store unavailable"));
}
END_TEST

START_TEST(stops_when_no_ack_comes)
{
    struct run r;

    begin(&r, ANSWER_SILENT, 0);
    r.o.ack_timeout_ms = 300;
    ck_assert_int_eq(feed(&r), BASE_E_UPSTREAM);
    ck_assert_str_eq(r.err.issue_code, "timeout");
    ck_assert_str_eq(r.err.where, "00001.hl7");
    ck_assert_uint_eq(r.st.sent, 0);
}
END_TEST

START_TEST(reconnects_when_the_listener_restarts)
{
    struct run r;

    begin(&r, ANSWER_RESTART, 10);
    ck_assert_int_eq(feed(&r), BASE_OK);
    ck_assert_uint_eq(r.st.sent, FEED_FILES);
    ck_assert_uint_ge(r.st.reconnects, 1);
    ck_assert(atomic_load(&r.l.restarted));
    /* message 10 went twice: once to the listener that died, once again */
    ck_assert_int_eq(atomic_load(&r.l.received), FEED_FILES + 1);
    ck_assert_str_eq(r.l.ids[9], "HA00000010");
    ck_assert_str_eq(r.l.ids[10], "HA00000010");
    ck_assert_str_eq(r.l.ids[FEED_FILES], "HA00000040");
}
END_TEST

START_TEST(gives_up_on_a_listener_that_is_not_there)
{
    struct run r;

    begin(&r, ANSWER_AA, 0);
    stop(&r.l); /* the port is free again: nobody listens */
    r.o.retry_ms = 600;
    ck_assert_int_eq(gw_demo_feed_run(&r.o, &r.st, &r.err), BASE_E_UPSTREAM);
    ck_assert_ptr_nonnull(strstr(r.err.msg, "could not be reached"));
    ck_assert_uint_eq(r.st.sent, 0);
}
END_TEST

START_TEST(refuses_bad_input)
{
    struct run r;
    char bad[256];
    char path[300];
    FILE *f;

    begin(&r, ANSWER_AA, 0);
    r.o.from_dir = "/nonexistent/fhirgate";
    ck_assert_int_eq(gw_demo_feed_run(&r.o, &r.st, &r.err), BASE_E_IO);
    demo_test_tmpdir(bad);
    snprintf(path, sizeof(path), "%s/00001.hl7", bad);
    f = fopen(path, "w");
    fputs("PID|1||x\r", f);
    fclose(f);
    r.o.from_dir = bad;
    memset(&r.err, 0, sizeof(r.err));
    ck_assert_int_eq(gw_demo_feed_run(&r.o, &r.st, &r.err), BASE_E_INVALID);
    r.o.from_dir = msgs;
    r.o.live = true;
    r.o.manifest = path; /* not a manifest */
    memset(&r.err, 0, sizeof(r.err));
    ck_assert_int_eq(feed(&r), BASE_E_INVALID);
    ck_assert_str_eq(r.err.where, "--manifest");
    demo_test_rmdir(bad);
}
END_TEST

START_TEST(live_results)
{
    struct run r;
    json_t *m = demo_test_manifest(gen);
    json_t *recs = json_object_get(json_object_get(m, "shared_patient"), "records");
    const char *star_mrn = NULL;

    begin(&r, ANSWER_AA, 0);
    r.o.live = true;
    r.o.max_live = 6;
    r.o.manifest = r.manifest;
    ck_assert_int_eq(feed(&r), BASE_OK);
    ck_assert_uint_eq(r.st.sent, FEED_FILES + 6);
    ck_assert_uint_eq(r.st.live, 6);
    for (size_t k = 0; k < json_array_size(recs); k++) {
        json_t *rec = json_array_get(recs, k);

        if (strcmp(json_string_value(json_object_get(rec, "member")), "hosp-a") == 0)
            star_mrn = json_string_value(json_object_get(rec, "mrn"));
    }
    /* the first live result is the shared patient's; every one a new id */
    ck_assert_str_eq(r.l.live_pid[FEED_FILES], star_mrn);
    for (int i = FEED_FILES; i < FEED_FILES + 6; i++) {
        ck_assert(strncmp(r.l.ids[i], "HAL", 3) == 0);
        ck_assert_uint_eq(strlen(r.l.live_pid[i]), 10);
        for (int j = FEED_FILES; j < i; j++)
            ck_assert_str_ne(r.l.ids[i], r.l.ids[j]);
    }
    json_decref(m);
}
END_TEST

static volatile sig_atomic_t stop_flag;

START_TEST(stops_cleanly_when_told)
{
    struct run r;

    begin(&r, ANSWER_AA, FEED_FILES + 2);
    stop_flag = 0;
    r.l.signal_after = &stop_flag;
    r.o.live = true; /* until told to stop */
    r.o.manifest = r.manifest;
    r.o.stop = &stop_flag;
    ck_assert_int_eq(feed(&r), BASE_OK);
    ck_assert_uint_ge(r.st.sent, FEED_FILES + 1);
    ck_assert_uint_le(r.st.sent, FEED_FILES + 2);
}
END_TEST

/* ------------------------------------------------------------------ TLS -- */

static bool
make_cert(const char *d)
{
    char key[300];
    char cert[300];
    const char *argv[] = {"/usr/bin/openssl",
                          "req",
                          "-x509",
                          "-newkey",
                          "rsa:2048",
                          "-nodes",
                          "-days",
                          "1",
                          "-subj",
                          "/CN=127.0.0.1",
                          "-addext",
                          "subjectAltName=IP:127.0.0.1",
                          "-keyout",
                          key,
                          "-out",
                          cert,
                          NULL};
    struct tu_run r;
    bool ok;

    snprintf(key, sizeof(key), "%s/key.pem", d);
    snprintf(cert, sizeof(cert), "%s/cert.pem", d);
    if (access(argv[0], X_OK) != 0 || tu_run(argv, &r) != 0)
        return false;
    ok = r.status == 0;
    tu_run_free(&r);
    return ok;
}

START_TEST(tls)
{
    struct run r;
    char d[256];
    char cert[300];
    char key[300];

    demo_test_tmpdir(d);
    if (!make_cert(d)) {
        demo_test_rmdir(d);
        return; /* no openssl CLI: nothing to test against */
    }
    snprintf(cert, sizeof(cert), "%s/cert.pem", d);
    snprintf(key, sizeof(key), "%s/key.pem", d);
    begin(&r, ANSWER_AA, 0);
    r.l.tls = SSL_CTX_new(TLS_server_method());
    ck_assert_int_eq(SSL_CTX_use_certificate_file(r.l.tls, cert, SSL_FILETYPE_PEM), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(r.l.tls, key, SSL_FILETYPE_PEM), 1);
    r.o.tls_ca = cert;
    r.o.skip = 30;
    ck_assert_int_eq(gw_demo_feed_run(&r.o, &r.st, &r.err), BASE_OK);
    ck_assert_uint_eq(r.st.sent, FEED_FILES - 30);
    /* a name the certificate does not carry: refused, never sent */
    r.o.tls_name = "hospital.example";
    r.o.retry_ms = 300;
    ck_assert_int_eq(feed(&r), BASE_E_UPSTREAM);
    ck_assert_uint_eq(r.st.sent, 0);
    SSL_CTX_free(r.l.tls);
    demo_test_rmdir(d);
}
END_TEST

/* ------------------------------------------------------------------ CLI -- */

START_TEST(cli)
{
    struct tu_run r;
    char out[256];
    const char *help[] = {tu_bin("fhirgate"), "demo-data", "--help", NULL};
    const char *bad[] = {tu_bin("fhirgate"), "demo-data", "--seed", "x", "--out", "/tmp/x", NULL};
    const char *nofrom[] = {tu_bin("fhirgate"), "demo-feed", "--mllp", "127.0.0.1:1", NULL};
    const char *badport[] = {tu_bin("fhirgate"), "demo-feed", "--mllp", "127.0.0.1",
                             "--from",           "x",         NULL};
    const char *badint[] = {tu_bin("fhirgate"), "demo-feed", "--mllp", "h:1", "--from", "x",
                            "--interval",       "2h",        NULL};

    if (access(tu_bin("fhirgate"), X_OK) != 0)
        return; /* the runner sets FHIRGATE_BIN under make */
    ck_assert_int_eq(tu_run(help, &r), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "--seed"));
    tu_run_free(&r);
    ck_assert_int_eq(tu_run(bad, &r), 0);
    ck_assert_int_eq(r.status, 2);
    tu_run_free(&r);
    ck_assert_int_eq(tu_run(nofrom, &r), 0);
    ck_assert_int_eq(r.status, 2);
    tu_run_free(&r);
    ck_assert_int_eq(tu_run(badport, &r), 0);
    ck_assert_int_eq(r.status, 2);
    tu_run_free(&r);
    ck_assert_int_eq(tu_run(badint, &r), 0);
    ck_assert_int_eq(r.status, 2);
    tu_run_free(&r);
    demo_test_tmpdir(out);
    {
        const char *gen_argv[] = {tu_bin("fhirgate"), "demo-data", "--out", out, NULL};
        char line[128];

        ck_assert_int_eq(tu_run(gen_argv, &r), 0);
        ck_assert_int_eq(r.status, 0);
        snprintf(line, sizeof(line), "patient shared: urn:oid:2.16.156.10011.1.3|%s\n",
                 sum.shared_resident_id);
        ck_assert_ptr_nonnull(strstr(r.out, line));
        tu_run_free(&r);
    }
    demo_test_rmdir(out);
}
END_TEST

Suite *
demo_feed_suite(void)
{
    Suite *s = suite_create("demo_feed");
    TCase *tc = tcase_create("mllp");

    tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, replays_in_order);
    tcase_add_test(tc, skip);
    tcase_add_test(tc, stops_on_ae);
    tcase_add_test(tc, stops_on_ar);
    tcase_add_test(tc, stops_when_no_ack_comes);
    tcase_add_test(tc, reconnects_when_the_listener_restarts);
    tcase_add_test(tc, gives_up_on_a_listener_that_is_not_there);
    tcase_add_test(tc, refuses_bad_input);
    tcase_add_test(tc, live_results);
    tcase_add_test(tc, stops_cleanly_when_told);
    tcase_add_test(tc, tls);
    tcase_add_test(tc, cli);
    suite_add_tcase(s, tc);
    return s;
}
