/* Suspend/resume under concurrency, and the graceful stop. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http.h"
#include "gateway/http/gw_http_metrics.h"
#include "test/integration/http_fixture.h"

#define MAX_JOBS 512

struct job {
    struct gw_http_async *a;
    struct gw_http_req *r;
};

/* The "federation loop" of these tests: another thread that answers the
 * suspended requests when told to. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job jobs[MAX_JOBS];
    size_t count;      /* suspended so far */
    bool release;      /* answer everything queued */
    bool quit;
    size_t cancels;    /* cancel callbacks seen */
    size_t answered;
    size_t suspend_refused;
    pthread_t thread;
} Q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void
on_cancel(void *cls)
{
    (void)cls;
    pthread_mutex_lock(&Q.mu);
    Q.cancels++;
    pthread_mutex_unlock(&Q.mu);
}

static void
h_slow(struct gw_http_req *r, void *cls)
{
    struct gw_http_async *a = gw_http_suspend(r);

    (void)cls;
    if (a == NULL) {
        pthread_mutex_lock(&Q.mu);
        Q.suspend_refused++;
        pthread_mutex_unlock(&Q.mu);
        if (gw_http_respond_outcome(r, 503, "transient", NULL, "shutting down") != BASE_OK)
            abort();
        return;
    }
    gw_http_async_on_cancel(a, on_cancel, NULL);
    pthread_mutex_lock(&Q.mu);
    Q.jobs[Q.count].a = a;
    Q.jobs[Q.count].r = r;
    Q.count++;
    pthread_cond_broadcast(&Q.cv);
    pthread_mutex_unlock(&Q.mu);
}

static void
h_fast(struct gw_http_req *r, void *cls)
{
    (void)cls;
    if (gw_http_respond(r, 200, "text/plain", "fast", 4) != BASE_OK)
        abort();
}

static void
answer(struct job *j, size_t n)
{
    json_t *v = json_pack("{s:s, s:I}", "resourceType", "Basic", "n", (json_int_t)n);

    if (!gw_http_async_cancelled(j->a) && gw_http_respond_resource(j->r, 200, v) != BASE_OK)
        abort();
    json_decref(v);
    gw_http_resume(j->a);
}

static void *
worker_main(void *arg)
{
    size_t done = 0;

    (void)arg;
    pthread_mutex_lock(&Q.mu);
    for (;;) {
        while (!Q.quit && !(Q.release && done < Q.count))
            pthread_cond_wait(&Q.cv, &Q.mu);
        if (Q.release && done < Q.count) {
            struct job j = Q.jobs[done];
            size_t n = done++;

            pthread_mutex_unlock(&Q.mu);
            answer(&j, n); /* from this thread, not a pool thread */
            pthread_mutex_lock(&Q.mu);
            Q.answered++;
            continue;
        }
        if (Q.quit)
            break;
    }
    pthread_mutex_unlock(&Q.mu);
    return NULL;
}

static void
worker_start(void)
{
    Q.count = Q.cancels = Q.answered = Q.suspend_refused = 0;
    Q.release = Q.quit = false;
    ck_assert_int_eq(pthread_create(&Q.thread, NULL, worker_main, NULL), 0);
}

static void
worker_release(void)
{
    pthread_mutex_lock(&Q.mu);
    Q.release = true;
    pthread_cond_broadcast(&Q.cv);
    pthread_mutex_unlock(&Q.mu);
}

static void
worker_stop(void)
{
    pthread_mutex_lock(&Q.mu);
    Q.quit = true;
    pthread_cond_broadcast(&Q.cv);
    pthread_mutex_unlock(&Q.mu);
    pthread_join(Q.thread, NULL);
}

static size_t
queued(void)
{
    size_t n;

    pthread_mutex_lock(&Q.mu);
    n = Q.count;
    pthread_mutex_unlock(&Q.mu);
    return n;
}

static bool
wait_queued(size_t n, long ms)
{
    for (long t = 0; t < ms; t += 5) {
        if (queued() >= n)
            return true;
        usleep(5000);
    }
    return queued() >= n;
}

static const struct gw_http_route routes[] = {
    {"GET", "/slow", h_slow, NULL},
    {"GET", "/fast", h_fast, NULL},
    {"GET", "/metrics", gw_http_handle_metrics, NULL},
};

static struct fx F;

/* ---------------------------------------------- many clients at once -- */

struct batch {
    const char *url;
    size_t n;
    long status[MAX_JOBS];
    char *body[MAX_JOBS];
    size_t body_len[MAX_JOBS];
};

static size_t
batch_write(void *data, size_t size, size_t nmemb, void *cls)
{
    char **body = cls;
    size_t add = size * nmemb;
    size_t old = *body != NULL ? strlen(*body) : 0;
    char *p = realloc(*body, old + add + 1);

    if (p == NULL)
        return 0;
    memcpy(p + old, data, add);
    p[old + add] = '\0';
    *body = p;
    return add;
}

/* n concurrent GETs, each on its own connection (curl multi). */
static void *
batch_main(void *arg)
{
    struct batch *b = arg;
    CURLM *m = curl_multi_init();
    CURL *e[MAX_JOBS];
    int running = 0;

    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    for (size_t i = 0; i < b->n; i++) {
        e[i] = curl_easy_init();
        b->body[i] = NULL;
        curl_easy_setopt(e[i], CURLOPT_URL, b->url);
        curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e[i], CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(e[i], CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, batch_write);
        curl_easy_setopt(e[i], CURLOPT_WRITEDATA, &b->body[i]);
        curl_multi_add_handle(m, e[i]);
    }
    do {
        curl_multi_perform(m, &running);
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    } while (running > 0);
    for (size_t i = 0; i < b->n; i++) {
        curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &b->status[i]);
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
    }
    curl_multi_cleanup(m);
    return NULL;
}

static long
ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

START_TEST(two_hundred_suspended_requests_all_answered_from_another_thread)
{
    static struct batch b;
    struct tu_http_resp r;
    struct timespec t0;
    pthread_t client;
    bool seen[MAX_JOBS] = {false};
    const char *no_labels = NULL;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.threads = 2;
    fx_start(&F);
    worker_start();
    b.url = strdup(fx_url(&F, "/slow"));
    b.n = 200;
    ck_assert_int_eq(pthread_create(&client, NULL, batch_main, &b), 0);
    ck_assert_msg(wait_queued(200, 20000), "only %zu suspended", queued());
    /* all 200 wait, yet the two pool threads are free for others */
    ck_assert_double_eq(gw_http_metric_value(
                            (struct gw_http_metric *)gw_http_metrics_add(
                                gw_http_server_metrics(F.srv), GW_HTTP_METRIC_GAUGE,
                                "fhirgate_http_suspended", NULL, NULL, NULL, 0),
                            &no_labels),
                        200);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20; i++) {
        tu_http_request(fx_url(&F, "/fast"), NULL, &r);
        ck_assert_int_eq(r.status, 200);
        tu_http_resp_free(&r);
    }
    ck_assert_msg(ms_since(&t0) < 2000, "fast requests took %ld ms", ms_since(&t0));
    worker_release();
    pthread_join(client, NULL);
    for (size_t i = 0; i < b.n; i++) {
        json_t *v;
        json_int_t n;

        ck_assert_msg(b.status[i] == 200, "request %zu: %ld", i, b.status[i]);
        v = json_loads(b.body[i], 0, NULL);
        ck_assert_ptr_nonnull(v);
        n = json_integer_value(json_object_get(v, "n"));
        ck_assert(n >= 0 && n < 200 && !seen[n]);
        seen[n] = true;
        json_decref(v);
        free(b.body[i]);
    }
    worker_stop();
    ck_assert_uint_eq(Q.answered, 200);
    ck_assert_uint_eq(gw_http_server_stop(F.srv, 2000), 0);
    F.srv = NULL;
    free((void *)b.url);
}
END_TEST

/* ------------------------------------------- clients that give up -- */

/* n clients that each give up after timeout_ms (curl closes the socket). */
static void
impatient_clients(const char *url, size_t n, long timeout_ms)
{
    CURLM *m = curl_multi_init();
    CURL *e[MAX_JOBS];
    int running = 0;

    for (size_t i = 0; i < n; i++) {
        e[i] = curl_easy_init();
        curl_easy_setopt(e[i], CURLOPT_URL, url);
        curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e[i], CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(e[i], CURLOPT_FORBID_REUSE, 1L);
        curl_multi_add_handle(m, e[i]);
    }
    do {
        curl_multi_perform(m, &running);
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 50, NULL);
    } while (running > 0);
    for (size_t i = 0; i < n; i++) {
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
    }
    curl_multi_cleanup(m);
}

static double
suspended_gauge(void)
{
    const char *no_labels = NULL;

    return gw_http_metric_value(
        (struct gw_http_metric *)gw_http_metrics_add(gw_http_server_metrics(F.srv),
                                                     GW_HTTP_METRIC_GAUGE,
                                                     "fhirgate_http_suspended", NULL, NULL, NULL,
                                                     0),
        &no_labels);
}

/* Clients that leave while their request is suspended (a doctor closing the
 * page during a slow fan-out): when the answer comes, MHD finds the socket
 * closed and never calls the handler again.  The request must still leave
 * the server's suspended list — it was freed while listed (use after free
 * under ASan, and a stop that waited for ever). */
START_TEST(clients_that_leave_while_suspended_are_forgotten)
{
    struct tu_http_resp r;
    struct timespec t0;
    double left = -1;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.threads = 2;
    fx_start(&F);
    worker_start();
    impatient_clients(fx_url(&F, "/slow"), 50, 300);
    ck_assert_msg(wait_queued(50, 10000), "only %zu suspended", queued());
    worker_release(); /* answers for clients that are gone */
    for (int i = 0; i < 200 && left != 0; i++) {
        usleep(10000);
        left = suspended_gauge();
    }
    ck_assert_msg(left == 0, "%.0f requests still listed as suspended", left);
    tu_http_request(fx_url(&F, "/fast"), NULL, &r);
    ck_assert_int_eq(r.status, 200);
    tu_http_resp_free(&r);
    worker_stop();
    ck_assert_uint_eq(Q.answered, 50);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_uint_eq(gw_http_server_stop(F.srv, 5000), 0);
    F.srv = NULL;
    ck_assert_msg(ms_since(&t0) < 3000, "stop took %ld ms", ms_since(&t0));
}
END_TEST

/* ------------------------------------------------------ graceful stop -- */

struct one {
    char url[32768];
    long status;
};

static void *
one_main(void *arg)
{
    struct one *o = arg;
    struct tu_http_opts opt = {.timeout_ms = 20000};
    struct tu_http_resp r;

    tu_http_request(o->url, &opt, &r);
    o->status = r.status;
    tu_http_resp_free(&r);
    return NULL;
}

static void *
release_later(void *arg)
{
    (void)arg;
    usleep(300000);
    worker_release();
    return NULL;
}

START_TEST(graceful_stop_finishes_in_flight_requests)
{
    static struct one o[10];
    pthread_t t[10];
    pthread_t rel;
    struct tu_http_resp r;
    static char url[32768];
    size_t cancelled;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    fx_start(&F);
    worker_start();
    for (int i = 0; i < 10; i++) {
        snprintf(o[i].url, sizeof(o[i].url), "%s", fx_url(&F, "/slow"));
        ck_assert_int_eq(pthread_create(&t[i], NULL, one_main, &o[i]), 0);
    }
    ck_assert(wait_queued(10, 10000));
    snprintf(url, sizeof(url), "%s", fx_url(&F, "/fast"));
    /* the answers come 300 ms into the stop, well within its deadline */
    ck_assert_int_eq(pthread_create(&rel, NULL, release_later, NULL), 0);
    cancelled = gw_http_server_stop(F.srv, 5000);
    F.srv = NULL;
    ck_assert_uint_eq(cancelled, 0);
    for (int i = 0; i < 10; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(o[i].status, 200);
    }
    pthread_join(rel, NULL);
    worker_stop();
    ck_assert_uint_eq(Q.answered, 10);
    ck_assert_uint_eq(Q.cancels, 0);
    /* and nothing listens any more */
    tu_http_request(url, NULL, &r);
    ck_assert_int_eq(r.status, 0);
    tu_http_resp_free(&r);
}
END_TEST

START_TEST(stop_deadline_cancels_the_stragglers_with_503)
{
    static struct one o[5];
    pthread_t t[5];
    size_t cancelled;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    fx_start(&F);
    worker_start();
    for (int i = 0; i < 5; i++) {
        snprintf(o[i].url, sizeof(o[i].url), "%s", fx_url(&F, "/slow"));
        ck_assert_int_eq(pthread_create(&t[i], NULL, one_main, &o[i]), 0);
    }
    ck_assert(wait_queued(5, 10000));
    cancelled = gw_http_server_stop(F.srv, 300);
    F.srv = NULL;
    ck_assert_uint_eq(cancelled, 5);
    ck_assert_uint_eq(Q.cancels, 5);
    for (int i = 0; i < 5; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(o[i].status, 503);
    }
    /* the worker resumes after the server is gone: only releases them */
    worker_release();
    worker_stop();
    ck_assert_uint_eq(Q.answered, 5);
}
END_TEST

Suite *http_async_suite(void)
{
    Suite *s = suite_create("http_async");
    TCase *tc = tcase_create("async");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, two_hundred_suspended_requests_all_answered_from_another_thread);
    tcase_add_test(tc, graceful_stop_finishes_in_flight_requests);
    tcase_add_test(tc, clients_that_leave_while_suspended_are_forgotten);
    tcase_add_test(tc, stop_deadline_cancels_the_stragglers_with_503);
    suite_add_tcase(s, tc);
    return s;
}
