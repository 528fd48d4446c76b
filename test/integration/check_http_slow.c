/* Slow and idle clients: slowloris, stalled bodies, idle keep-alive. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway/http/gw_http.h"
#include "test/integration/http_fixture.h"

static void
h_fast(struct gw_http_req *r, void *cls)
{
    (void)cls;
    if (gw_http_respond(r, 200, "text/plain", "fast", 4) != BASE_OK)
        abort();
}

static const struct gw_http_route routes[] = {
    {"GET", "/fast", h_fast, NULL},
    {"POST", "/fast", h_fast, NULL},
};

static struct fx F;

static long
ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

struct slow {
    unsigned port;
    const char *prefix; /* sent at once */
    long gap_ms;        /* then one byte per gap */
    long cut_ms;        /* when the server closed it (-1: never within 6 s) */
};

/* Trickle a header one byte at a time until the server hangs up. */
static void *
slow_main(void *arg)
{
    struct slow *s = arg;
    struct timespec t0;
    int fd = tu_tcp_connect(s->port);

    s->cut_ms = -1;
    if (fd < 0)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (s->prefix != NULL &&
        send(fd, s->prefix, strlen(s->prefix), MSG_NOSIGNAL) != (ssize_t)strlen(s->prefix))
        goto out;
    while (ms_since(&t0) < 6000) {
        char buf[64];
        ssize_t n;

        usleep((useconds_t)s->gap_ms * 1000);
        if (send(fd, "X", 1, MSG_NOSIGNAL) != 1) {
            s->cut_ms = ms_since(&t0);
            break;
        }
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            s->cut_ms = ms_since(&t0);
            break;
        }
    }
out:
    close(fd);
    return NULL;
}

static void
start_slow_limits(bool tls_off)
{
    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.plain_http = tls_off;
    F.cfg.limits.header_timeout_ms = 1000;
    F.cfg.limits.body_timeout_ms = 1000;
    F.cfg.limits.idle_timeout_ms = 1500;
    fx_start(&F);
}

START_TEST(slowloris_is_cut_and_others_are_served)
{
    enum { SLOW = 50 };
    static struct slow s[SLOW];
    pthread_t t[SLOW];
    struct timespec t0;
    long worst = 0;

    start_slow_limits(true);
    for (int i = 0; i < SLOW; i++) {
        s[i].port = gw_http_server_port(F.srv);
        s[i].prefix = "GET /fast HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        s[i].gap_ms = 100;
        ck_assert_int_eq(pthread_create(&t[i], NULL, slow_main, &s[i]), 0);
    }
    usleep(200000);
    /* while 50 clients trickle their headers, others are served at once */
    for (int i = 0; i < 30; i++) {
        struct tu_http_resp r;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        tu_http_request(fx_url(&F, "/fast"), NULL, &r);
        ck_assert_int_eq(r.status, 200);
        if (ms_since(&t0) > worst)
            worst = ms_since(&t0);
        tu_http_resp_free(&r);
    }
    ck_assert_msg(worst < 500, "a request took %ld ms", worst);
    for (int i = 0; i < SLOW; i++) {
        pthread_join(t[i], NULL);
        /* header_timeout is 1 s; the sweeper runs every 100 ms */
        ck_assert_msg(s[i].cut_ms >= 900 && s[i].cut_ms < 2500, "slow client %d cut after %ld ms",
                      i, s[i].cut_ms);
    }
    fx_stop(&F);
}
END_TEST

START_TEST(silent_tls_connection_is_cut)
{
    struct timespec t0;
    int fd;

    {
        static struct tu_pki p;

        ck_assert_int_eq(tu_pki_make("slow-pki", &p), 0);
        fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
        F.cfg.plain_http = false;
        F.cfg.cert_file = p.server_cert;
        F.cfg.key_file = p.server_key;
        F.cfg.limits.header_timeout_ms = 1000;
        fx_start(&F);
    }
    fd = tu_tcp_connect(gw_http_server_port(F.srv));
    ck_assert_int_ge(fd, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* no TLS handshake at all: cut at the header deadline */
    ck_assert(tu_tcp_wait_closed(fd, 4000));
    ck_assert_msg(ms_since(&t0) >= 900 && ms_since(&t0) < 2500, "cut after %ld ms",
                  ms_since(&t0));
    close(fd);
    fx_stop(&F);
}
END_TEST

START_TEST(stalled_body_is_cut)
{
    static const char req[] = "POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789";
    struct timespec t0;
    int fd;

    start_slow_limits(true);
    fd = tu_tcp_connect(gw_http_server_port(F.srv));
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert(tu_tcp_wait_closed(fd, 4000));
    ck_assert_msg(ms_since(&t0) >= 900 && ms_since(&t0) < 2500, "cut after %ld ms",
                  ms_since(&t0));
    close(fd);
    fx_stop(&F);
}
END_TEST

START_TEST(idle_keep_alive_is_closed)
{
    static const char req[] = "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n";
    struct timespec t0;
    char buf[1024];
    ssize_t n;
    int fd;

    start_slow_limits(true);
    fd = tu_tcp_connect(gw_http_server_port(F.srv));
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    n = recv(fd, buf, sizeof(buf) - 1, 0);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200"));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* the connection stays open for keep-alive, then idles out */
    ck_assert(tu_tcp_wait_closed(fd, 5000));
    ck_assert_msg(ms_since(&t0) >= 1300 && ms_since(&t0) < 3500, "closed after %ld ms",
                  ms_since(&t0));
    close(fd);
    fx_stop(&F);
}
END_TEST

static double
cpu_seconds(void)
{
    struct rusage u;

    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* Measured with libmicrohttpd 0.9.75: under epoll, a TLS record that
 * arrived in part makes the pool thread spin until the connection is cut.
 * The default event loop must not. */
static double
partial_hello_cpu(enum gw_http_event_loop loop)
{
    static struct tu_pki p;
    int fds[20];
    double c0;
    double used;

    ck_assert_int_eq(tu_pki_make("spin-pki", &p), 0);
    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.plain_http = false;
    F.cfg.cert_file = p.server_cert;
    F.cfg.key_file = p.server_key;
    F.cfg.event_loop = loop;
    fx_start(&F);
    for (int i = 0; i < 20; i++) {
        fds[i] = tu_tcp_connect(gw_http_server_port(F.srv));
        ck_assert_int_ge(fds[i], 0);
        ck_assert_int_eq(send(fds[i], "\x16\x03\x01", 3, MSG_NOSIGNAL), 3);
    }
    usleep(100000);
    c0 = cpu_seconds();
    usleep(1000000);
    used = cpu_seconds() - c0;
    for (int i = 0; i < 20; i++)
        close(fds[i]);
    fx_stop(&F);
    return used;
}

START_TEST(partial_tls_records_do_not_spin)
{
    double poll_cpu = partial_hello_cpu(GW_HTTP_LOOP_POLL);
    double epoll_cpu = partial_hello_cpu(GW_HTTP_LOOP_EPOLL);

    ck_assert_msg(poll_cpu < 0.05, "poll loop used %.3f s of CPU in 1 s", poll_cpu);
    /* the control shows what the default avoids */
    ck_assert_msg(epoll_cpu > 0.1, "epoll loop used only %.3f s (library fixed?)", epoll_cpu);
}
END_TEST

Suite *http_slow_suite(void)
{
    Suite *s = suite_create("http_slow");
    TCase *tc = tcase_create("slow");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, slowloris_is_cut_and_others_are_served);
    tcase_add_test(tc, silent_tls_connection_is_cut);
    tcase_add_test(tc, stalled_body_is_cut);
    tcase_add_test(tc, idle_keep_alive_is_closed);
    tcase_add_test(tc, partial_tls_records_do_not_spin);
    suite_add_tcase(s, tc);
    return s;
}
