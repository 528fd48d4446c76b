/*
 * test/integration/check_scaleout_failover.c — DESIGN.md §5 and issue #8 "Tests": two
 * gateway nodes behind HAProxy (the shipped deploy/haproxy/haproxy.cfg, TLS passthrough)
 * on loopback against one PostgreSQL, three light members (deploy/region-gen.sh).  A load
 * of federated searches runs through HAProxy; node gw-1 is killed with SIGKILL, later
 * restarted.  Asserted:
 *   - every request got an answer (200) — a request caught on the dying node is retried
 *     once by the client, as any client retries an idempotent GET whose connection broke;
 *   - answers kept coming while gw-1 was down, and gw-1 takes traffic again once HAProxy
 *     sees it healthy;
 *   - every answered request has exactly one committed AuditEvent (by X-Request-Id), also
 *     those gw-1 answered just before it died;
 *   - `fhirgate audit verify` finds every chain intact (gw-1's chains continue after the
 *     restart).
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>

#include "test/integration/scaleout_it.h"

#define LOAD_THREADS   6
#define MAX_SAMPLES    20000
#define NEW_CONN_EVERY 8 /* requests per connection: new connections spread over nodes */

struct sample {
    long long t0;    /* monotonic ms when sent */
    long long ms;    /* latency, retry included */
    long status;     /* final status (0: no answer) */
    bool retried;    /* the first attempt got no answer */
    char id[40];     /* X-Request-Id of the answer */
};

struct load {
    const struct so_region *r;
    char path[256];
    const char *token;
    atomic_bool stop;
    pthread_mutex_t mu; /* guards s, n */
    struct sample *s;
    size_t n;
};

static struct so_region R;

static long
load_once(struct load *l, struct tu_http_client **c, char *id, size_t cap)
{
    struct tu_http_opts o = {0};
    struct tu_http_resp t = {0};
    char auth[4096];
    char url[512];
    const char *h[2] = {auth, NULL};
    long status;

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", l->token);
    snprintf(url, sizeof(url), "%s%s", l->r->lb_base, l->path);
    o.headers = h;
    o.ca_file = l->r->ca_crt;
    o.timeout_ms = 15000;
    (void)tu_http_client_request(*c, url, &o, &t);
    status = t.status;
    id[0] = '\0';
    (void)tu_http_header(&t, "X-Request-Id", id, cap);
    tu_http_resp_free(&t);
    return status;
}

static void *
load_main(void *arg)
{
    struct load *l = arg;
    struct tu_http_client *c = NULL;
    unsigned k = 0;

    while (!atomic_load(&l->stop)) {
        struct sample s = {.t0 = pt_now_ms()};

        if (c == NULL || k++ % NEW_CONN_EVERY == 0) {
            tu_http_client_free(c);
            c = tu_http_client_new();
        }
        s.status = load_once(l, &c, s.id, sizeof(s.id));
        if (s.status == 0) {
            /* The connection broke (its node died): one retry on a new connection. */
            s.retried = true;
            tu_http_client_free(c);
            c = tu_http_client_new();
            s.status = load_once(l, &c, s.id, sizeof(s.id));
        }
        s.ms = pt_now_ms() - s.t0;
        pthread_mutex_lock(&l->mu);
        if (l->n < MAX_SAMPLES)
            l->s[l->n++] = s;
        pthread_mutex_unlock(&l->mu);
    }
    tu_http_client_free(c);
    return NULL;
}

/* How many answered requests have no committed AuditEvent; *answered counts them. */
static size_t
missing_audit(const struct load *l, size_t *answered)
{
    size_t n_rows = 0;
    char **rows = pt_column(R.db,
                            "SELECT request_id FROM audit.event WHERE subtype = 'search-type' "
                            "AND http_status = 200",
                            &n_rows);
    size_t missing = 0;

    ck_assert_ptr_nonnull(rows);
    *answered = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->s[i].status != 200)
            continue;
        (*answered)++;
        if (!pt_in(rows, n_rows, l->s[i].id))
            missing++;
    }
    for (size_t i = 0; i < n_rows; i++)
        free(rows[i]);
    free(rows);
    return missing;
}

/* Answers sent after `from` (monotonic ms) whose AuditEvent names node `node`. */
static size_t
answered_by(const struct load *l, const char *node, long long from)
{
    char sql[256];
    size_t n_rows = 0;
    char **rows;
    size_t n = 0;

    snprintf(sql, sizeof(sql),
             "SELECT request_id FROM audit.event WHERE subtype = 'search-type' AND node = '%s'",
             node);
    rows = pt_column(R.db, sql, &n_rows);
    ck_assert_ptr_nonnull(rows);
    for (size_t i = 0; i < l->n; i++)
        if (l->s[i].status == 200 && l->s[i].t0 >= from && pt_in(rows, n_rows, l->s[i].id))
            n++;
    for (size_t i = 0; i < n_rows; i++)
        free(rows[i]);
    free(rows);
    return n;
}

START_TEST(kill_9_of_one_node_behind_haproxy_loses_no_answer_and_no_audit_row)
{
    struct load l = {.r = &R};
    pthread_t t[LOAD_THREADS];
    char *person;
    char *tok;
    char *out = NULL;
    long long t_kill;
    long long t_back;
    long long t_down = -1;
    size_t failed = 0;
    size_t retried = 0;
    size_t after_kill = 0;
    size_t answered = 0;
    long long worst = 0;

    so_region_make(&R, "so-failover", 3);
    for (size_t i = 0; i < 2; i++) {
        so_node_conf(&R, i, NULL);
        so_node_start(&R, i);
    }
    so_lb_start(&R);
    so_user(&R, "dr.wang");
    tok = so_token(&R, R.lb_base, "dr.wang");
    ck_assert_ptr_nonnull(tok);
    person = so_person(&R, 3, 30000);
    ck_assert_msg(person != NULL, "the MPI did not link the shared patient at 3 members");

    l.token = tok;
    snprintf(l.path, sizeof(l.path), "/fhir/Observation?patient=%s", person);
    l.s = calloc(MAX_SAMPLES, sizeof(*l.s));
    ck_assert_ptr_nonnull(l.s);
    pthread_mutex_init(&l.mu, NULL);
    atomic_init(&l.stop, false);
    for (size_t i = 0; i < LOAD_THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, load_main, &l), 0);

    usleep(2000 * 1000);
    t_kill = pt_now_ms();
    ck_assert(so_node_stop(&R, 0, SIGKILL));
    if (so_lb_wait(&R, "gw1", "DOWN", 10000))
        t_down = pt_now_ms() - t_kill;
    usleep(2000 * 1000);
    so_node_start(&R, 0); /* same node id, same port: its audit chains continue */
    ck_assert_msg(so_lb_wait(&R, "gw1", "UP", 10000), "HAProxy did not take gw-1 back");
    t_back = pt_now_ms();
    usleep(2000 * 1000);
    atomic_store(&l.stop, true);
    for (size_t i = 0; i < LOAD_THREADS; i++)
        pthread_join(t[i], NULL);

    for (size_t i = 0; i < l.n; i++) {
        failed += l.s[i].status != 200;
        retried += l.s[i].retried;
        after_kill += l.s[i].status == 200 && l.s[i].t0 >= t_kill && l.s[i].t0 < t_back;
        worst = l.s[i].ms > worst ? l.s[i].ms : worst;
    }
    fprintf(stderr,
            "scaleout_failover: %zu requests, %zu retried once, %zu failed, %zu answered while "
            "gw-1 was down or rejoining, worst latency %lld ms, HAProxy marked gw-1 down after "
            "%lld ms\n",
            l.n, retried, failed, after_kill, worst, t_down);
    ck_assert_uint_gt(l.n, 30);
    ck_assert_msg(failed == 0, "%zu of %zu requests got no answer", failed, l.n);
    ck_assert_msg(retried <= 2 * LOAD_THREADS, "%zu retries: more than the requests in flight",
                  retried);
    ck_assert_uint_ge(after_kill, 10);
    ck_assert_msg(t_down >= 0, "HAProxy never marked the killed node down");

    ck_assert_msg(missing_audit(&l, &answered) == 0, "answers without a committed AuditEvent");
    ck_assert_uint_eq(answered, l.n);
    ck_assert_uint_ge(answered_by(&l, "gw-2", t_kill), 10);
    ck_assert_msg(answered_by(&l, "gw-1", t_back) >= 1, "no answer from gw-1 after it rejoined");
    ck_assert_uint_ge(answered_by(&l, "gw-1", 0), 1);

    ck_assert_msg(so_audit_verify(&R, &out) == 0, "audit verify: %s", out);
    ck_assert_ptr_nonnull(strstr(out, "intact"));
    ck_assert_ptr_nonnull(strstr(out, "chain gw-1/"));
    ck_assert_ptr_nonnull(strstr(out, "chain gw-2/"));
    free(out);
    free(l.s);
    free(tok);
    free(person);
    so_region_free(&R);
}
END_TEST

Suite *
scaleout_failover_suite(void)
{
    Suite *s = suite_create("scaleout_failover");
    TCase *tc = tcase_create("failover");

    tcase_set_timeout(tc, 180);
    tcase_add_unchecked_fixture(tc, so_reap_setup, so_reap);
    tcase_add_test(tc, kill_9_of_one_node_behind_haproxy_loses_no_answer_and_no_audit_row);
    suite_add_tcase(s, tc);
    return s;
}
