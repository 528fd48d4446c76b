/*
 * The federation engine against real HTTPS members (test/support/
 * tu_member.c: OpenSSL servers with real certificates, mTLS): fan-out,
 * merge, every fault a member can show, deadlines asserted by the clock,
 * retries, connection reuse, circuit breaker, 200 concurrent jobs,
 * shutdown, and paging across members with the signed cursor.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "gateway/fed/gw_fed.h"
#include "test/support/testutil.h"
#include "test/support/tu_member.h"

static struct tu_member_pki PKI;

static void
setup(void)
{
    ck_assert_int_eq(tu_member_pki_make(&PKI), 0);
}

static void
teardown(void)
{
    tu_member_pki_remove(&PKI);
}

static int64_t
ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct gw_fed_engine *
engine(unsigned failures, unsigned open_ms)
{
    struct gw_fed_config c = gw_fed_config_default();
    struct gw_fed_engine *e = NULL;
    struct base_err err = {0};

    c.ca_file = PKI.ca;
    c.cert_file = PKI.client_cert;
    c.key_file = PKI.client_key;
    c.loops = 2;
    /* the test members are one thread on a shared, loaded machine: give a
     * cold start's dozens of handshakes room (members are real hosts in
     * production, where the 1 s default applies) */
    c.connect_ms = 10000;
    if (failures != 0)
        c.breaker.failures = failures;
    if (open_ms != 0)
        c.breaker.open_ms = open_ms;
    ck_assert_int_eq(gw_fed_engine_new(&c, &e, &err), BASE_OK);
    return e;
}

/* ---- waiting for callbacks ------------------------------------------------------- */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct gw_fed_answer *answer;
    int calls;
};

static void
on_done(struct gw_fed_answer *a, void *ctx)
{
    struct waiter *w = ctx;

    pthread_mutex_lock(&w->mu);
    if (w->answer != NULL)
        gw_fed_answer_free(w->answer);
    w->answer = a;
    w->calls++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void
merge_as_it_arrives(const struct gw_fed_result *r, size_t idx, void *ctx)
{
    ck_assert_int_eq(gw_fed_merge_add(ctx, idx, r, NULL), BASE_OK);
}

static struct gw_fed_answer *
run_with(struct gw_fed_engine *e, const struct gw_fed_request *rq, size_t n, unsigned deadline_ms,
         int64_t *elapsed_ms, struct gw_fed_merge *m)
{
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0};
    struct gw_fed_job job = {.requests = rq,
                             .n_requests = n,
                             .deadline_ms = deadline_ms,
                             .on_result = m != NULL ? merge_as_it_arrives : NULL,
                             .on_result_ctx = m};
    int64_t t0 = ms_now();

    ck_assert_int_eq(gw_fed_submit(e, &job, on_done, &w, NULL), BASE_OK);
    pthread_mutex_lock(&w.mu);
    while (w.calls == 0)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    if (elapsed_ms != NULL)
        *elapsed_ms = ms_now() - t0;
    usleep(20000); /* a second (wrong) callback would show up here */
    ck_assert_int_eq(w.calls, 1);
    return w.answer;
}

static struct gw_fed_answer *
run(struct gw_fed_engine *e, const struct gw_fed_request *rq, size_t n, unsigned deadline_ms,
    int64_t *elapsed_ms)
{
    return run_with(e, rq, n, deadline_ms, elapsed_ms, NULL);
}

/* ---- members and requests -------------------------------------------------------- */

struct fleet {
    struct tu_member_spec *specs;
    struct gw_fed_request *rq;
    char (*urls)[256];
    char (*bases)[128];
    char (*ids)[32];
    char ***entries;
    size_t n;
    struct tu_members *ms;
};

/* n light members, member i with `per` Observations dated so that they
 * interleave across members. */
static void
fleet_make(struct fleet *f, size_t n, size_t per)
{
    memset(f, 0, sizeof(*f));
    f->n = n;
    f->specs = calloc(n, sizeof(*f->specs));
    f->rq = calloc(n, sizeof(*f->rq));
    f->urls = calloc(n, sizeof(*f->urls));
    f->bases = calloc(n, sizeof(*f->bases));
    f->ids = calloc(n, sizeof(*f->ids));
    f->entries = calloc(n, sizeof(*f->entries));
    for (size_t i = 0; i < n; i++) {
        snprintf(f->ids[i], sizeof(f->ids[i]), "hosp-%zu", i);
        f->entries[i] = calloc(per + 1, sizeof(char *));
        for (size_t k = 0; k < per; k++) {
            char id[64];
            char date[64];

            snprintf(id, sizeof(id), "o%zu-%zu", i, k);
            /* member order: newest first, as a member sorting -date would */
            snprintf(date, sizeof(date), "2024-%02zu-%02zuT10:00:00Z", 12 - k % 12, 1 + i % 28);
            f->entries[i][k] = tu_member_obs(id, date, NULL, NULL);
        }
        f->specs[i] = (struct tu_member_spec){
            f->ids[i], TU_MEMBER_SERVE, 0,     NULL, (const char *const *)f->entries[i],
            per,       false,           false, NULL, NULL,
            0};
    }
}

static void
fleet_start(struct fleet *f)
{
    f->ms = tu_members_start(&PKI, f->specs, f->n);
    ck_assert_ptr_nonnull(f->ms);
    for (size_t i = 0; i < f->n; i++) {
        snprintf(f->bases[i], sizeof(f->bases[i]), "%s", tu_members_base(f->ms, i));
        snprintf(f->urls[i], sizeof(f->urls[i]), "%s/Observation?patient=Patient/p1", f->bases[i]);
        f->rq[i] =
            (struct gw_fed_request){f->ids[i], f->ids[i], f->bases[i], f->urls[i], NULL, 0, true};
    }
}

static void
fleet_free(struct fleet *f)
{
    tu_members_stop(f->ms);
    for (size_t i = 0; i < f->n; i++) {
        for (size_t k = 0; f->entries[i] != NULL && f->entries[i][k] != NULL; k++)
            free(f->entries[i][k]);
        free(f->entries[i]);
    }
    free(f->specs);
    free(f->rq);
    free(f->urls);
    free(f->bases);
    free(f->ids);
    free(f->entries);
}

static void
expect(const struct gw_fed_answer *ans, size_t i, enum gw_fed_error want)
{
    ck_assert_msg(ans->results[i].error == want, "member %zu: %s (%s), wanted %s", i,
                  gw_fed_error_name(ans->results[i].error),
                  ans->results[i].detail != NULL ? ans->results[i].detail : "-",
                  gw_fed_error_name(want));
}

/* ---- merging and reading the result ------------------------------------------------ */

static const char *const OBS[] = {"Observation"};

static json_t *
merge_json(struct base_arena *a, const struct gw_fed_answer *ans, const struct gw_fed_merge_opts *o,
           struct gw_fed_merge **mout)
{
    struct gw_fed_merge_opts d = {0};
    struct gw_fed_merge *m = NULL;
    struct base_buf out;
    json_t *v = NULL;
    struct base_err err = {0};

    if (o == NULL) {
        d.base_url = "https://gw.test/fhir";
        d.path = "Observation";
        d.query = "patient=p1";
        d.types = OBS;
        d.n_types = 1;
        o = &d;
    }
    ck_assert_int_eq(gw_fed_merge_new(a, ans->results, ans->n_results, o, &m, &err), BASE_OK);
    base_buf_init(&out, 0);
    ck_assert_int_eq(gw_fed_merge_write(m, &out), BASE_OK);
    ck_assert_msg(fhir_json_parse(out.data, out.len, NULL, &v, &err) == BASE_OK,
                  "merged Bundle does not parse: %s at %s", err.msg, err.where);
    base_buf_fini(&out);
    if (mout != NULL)
        *mout = m;
    return v;
}

static size_t
count_mode(const json_t *bundle, const char *mode)
{
    size_t n = 0;
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        const char *m = json_string_value(json_object_get(json_object_get(e, "search"), "mode"));

        n += m != NULL && strcmp(m, mode) == 0;
    }
    return n;
}

/* The OperationOutcome issue of the failed member `id`, or NULL. */
static json_t *
outcome_of(const json_t *bundle, const char *id)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        json_t *r = json_object_get(e, "resource");
        json_t *issue = json_array_get(json_object_get(r, "issue"), 0);
        json_t *c = json_array_get(json_object_get(json_object_get(issue, "details"), "coding"), 0);
        const char *code = json_string_value(json_object_get(c, "code"));

        if (code != NULL && strcmp(code, id) == 0)
            return issue;
    }
    return NULL;
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(three_members_with_different_data)
{
    static const char *const files[] = {"Observation-f001.json",
                                        "Observation-bmi.json",
                                        "Observation-body-height.json",
                                        "Observation-heart-rate.json",
                                        "Observation-f002.json",
                                        "Observation-satO2.json",
                                        "Observation-body-temperature.json",
                                        "Observation-respiratory-rate.json",
                                        "Observation-f003.json"};
    char *bodies[9];
    struct fleet f;
    struct base_arena *a = base_arena_new(0);

    fleet_make(&f, 3, 0);
    for (size_t i = 0; i < 9; i++) {
        char rel[128];

        snprintf(rel, sizeof(rel), "fhir-r4-examples/json/%s", files[i]);
        bodies[i] = tu_read_file(tu_corpus_path(rel), NULL);
        ck_assert_ptr_nonnull(bodies[i]);
    }
    for (size_t i = 0; i < 3; i++) {
        f.specs[i].entries = (const char *const *)&bodies[3 * i];
        f.specs[i].n_entries = 3;
    }
    fleet_start(&f);
    struct gw_fed_engine *e = engine(0, 0);
    int64_t ms;
    struct gw_fed_answer *ans = run(e, f.rq, 3, 3000, &ms);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(ans->results[i].error, GW_FED_OK);
        ck_assert_int_eq(ans->results[i].status, 200);
        ck_assert_int_eq(ans->results[i].http_version, 1);
    }
    json_t *b = merge_json(a, ans, NULL, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 9);
    ck_assert_int_eq(count_mode(b, "match"), 9);
    /* every entry tagged with its member and meta.source = its base */
    size_t i;
    json_t *en;
    int64_t prev = INT64_MAX;
    json_array_foreach(json_object_get(b, "entry"), i, en)
    {
        json_t *meta = json_object_get(json_object_get(en, "resource"), "meta");
        const char *src = json_string_value(json_object_get(meta, "source"));
        json_t *tag = json_array_get(json_object_get(meta, "tag"), 0);
        const char *code = json_string_value(json_object_get(tag, "code"));
        const char *eff = json_string_value(
            json_object_get(json_object_get(en, "resource"), "effectiveDateTime"));
        json_t *per = json_object_get(json_object_get(en, "resource"), "effectivePeriod");

        ck_assert_ptr_nonnull(code);
        size_t m = (size_t)(code[5] - '0');
        ck_assert_str_eq(src, f.bases[m]);
        ck_assert_str_eq(json_string_value(json_object_get(tag, "system")), GW_FED_TAG_SYSTEM);
        ck_assert(strncmp(json_string_value(json_object_get(en, "fullUrl")), f.bases[m],
                          strlen(f.bases[m])) == 0);
        if (eff == NULL && per != NULL)
            eff = json_string_value(json_object_get(per, "start"));
        if (eff != NULL) { /* most recent first */
            int64_t lo;
            int64_t hi;

            ck_assert(fhir_search_date_range(eff, strlen(eff), &lo, &hi));
            (void)lo;
            ck_assert_int_le(hi, prev);
            prev = hi;
        }
    }
    /* the members saw the FHIR JSON media type */
    char line[256];
    char accept[128];
    tu_members_last(f.ms, 0, line, sizeof(line), accept, sizeof(accept));
    ck_assert_str_eq(accept, "application/fhir+json");
    ck_assert_str_eq(line, "GET /fhir/Observation?patient=Patient/p1");
    json_decref(b);
    gw_fed_answer_free(ans);
    gw_fed_engine_free(e);
    fleet_free(&f);
    for (size_t k = 0; k < 9; k++)
        free(bodies[k]);
    base_arena_free(a);
}
END_TEST

static void
many_members(size_t n)
{
    struct fleet f;
    struct base_arena *a = base_arena_new(0);
    struct gw_fed_engine *e;
    int64_t ms;

    fleet_make(&f, n, 2);
    fleet_start(&f);
    e = engine(0, 0);
    struct gw_fed_answer *ans = run(e, f.rq, n, 15000, &ms);
    for (size_t i = 0; i < n; i++)
        expect(ans, i, GW_FED_OK);
    json_t *b = merge_json(a, ans, NULL, NULL);
    ck_assert_int_eq(count_mode(b, "match"), 2 * n);
    ck_assert_int_eq(count_mode(b, "outcome"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 2 * n);
    printf("fed: %zu members answered in %lld ms (cold: TLS handshakes)\n", n, (long long)ms);
    gw_fed_answer_free(ans);
    /* jobs go round-robin to the two loops, each with its own connection
     * cache: after one job per loop, connections are reused */
    for (int k = 0; k < 3; k++) {
        ans = run(e, f.rq, n, k == 0 ? 15000 : 3000, &ms);
        for (size_t i = 0; i < n; i++)
            expect(ans, i, GW_FED_OK);
        gw_fed_answer_free(ans);
    }
    printf("fed: %zu members answered in %lld ms (warm)\n", n, (long long)ms);
    ck_assert_int_lt(ms, 3000);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(tu_members_requests(f.ms, i), 4);
        ck_assert_int_le(tu_members_connections(f.ms, i), 2);
    }
    json_decref(b);
    gw_fed_engine_free(e);
    fleet_free(&f);
    base_arena_free(a);
}

START_TEST(thirty_members)
{
    many_members(30);
}
END_TEST

START_TEST(seventy_three_members)
{
    many_members(73);
}
END_TEST

/* Every fault a member can show, at once, under one deadline. */
START_TEST(faults_give_partial_results_within_the_deadline)
{
    enum { GOOD = 3, N = 14 };
    struct fleet f;
    struct base_arena *a = base_arena_new(0);
    static const char *const patient[] = {"{\"resourceType\":\"Patient\",\"id\":\"p1\"}"};
    const unsigned deadline = 1500;

    fleet_make(&f, N, 2);
    for (size_t i = GOOD; i < N; i++)
        f.specs[i].n_entries = 0;
    f.specs[4].mode = TU_MEMBER_SILENT;
    f.specs[5].mode = TU_MEMBER_SLOW;
    f.specs[5].delay_ms = 40;
    f.specs[5].body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}";
    f.specs[6].status = 500;
    f.specs[6].body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[]}";
    f.specs[7].body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{";
    f.specs[8].mode = TU_MEMBER_CLOSE_MID;
    f.specs[8].entries = f.specs[0].entries;
    f.specs[8].n_entries = 2;
    f.specs[9].cert = PKI.other_cert;
    f.specs[9].key = PKI.other_key;
    f.specs[10].cert = PKI.expired_cert;
    f.specs[10].key = PKI.expired_key;
    f.specs[11].entries = patient; /* a Patient in an Observation search */
    f.specs[11].n_entries = 1;
    f.specs[12].body = "{\"resourceType\":\"Bundle\",\"type\":\"collection\"}";
    fleet_start(&f);
    /* member 3 is down: its port refuses connections; member 13's host is
     * up but its server hangs before TLS */
    snprintf(f.urls[3], sizeof(f.urls[3]), "https://127.0.0.1:%u/fhir/Observation",
             tu_member_closed_port());
    int hole = -1;
    snprintf(f.urls[13], sizeof(f.urls[13]), "https://127.0.0.1:%u/fhir/Observation",
             tu_member_blackhole_port(&hole));
    ck_assert_int_ge(hole, 0);
    struct gw_fed_engine *e = engine(0, 0);
    int64_t ms;
    struct gw_fed_merge_opts mo = {0};
    struct gw_fed_merge *inc = NULL;
    mo.base_url = "https://gw.test/fhir";
    mo.path = "Observation";
    mo.query = "patient=p1";
    mo.types = OBS;
    mo.n_types = 1;
    ck_assert_int_eq(gw_fed_merge_start(a, N, &mo, &inc, NULL), BASE_OK);
    struct gw_fed_answer *ans = run_with(e, f.rq, N, deadline, &ms, inc);

    ck_assert_msg(ms <= deadline + 400, "took %lld ms", (long long)ms);
    static const enum gw_fed_error want[N] = {GW_FED_OK,
                                              GW_FED_OK,
                                              GW_FED_OK,
                                              GW_FED_E_REFUSED,
                                              GW_FED_E_TIMEOUT,
                                              GW_FED_E_TIMEOUT,
                                              GW_FED_E_HTTP_STATUS,
                                              GW_FED_OK,
                                              GW_FED_E_RESET,
                                              GW_FED_E_TLS,
                                              GW_FED_E_TLS,
                                              GW_FED_OK,
                                              GW_FED_OK,
                                              GW_FED_E_TIMEOUT};
    for (size_t i = 0; i < N; i++)
        ck_assert_msg(ans->results[i].error == want[i], "member %zu: %s (%s)", i,
                      gw_fed_error_name(ans->results[i].error), ans->results[i].detail);
    ck_assert_ptr_nonnull(strstr(ans->results[9].detail, "TLS"));
    ck_assert_ptr_nonnull(strstr(ans->results[10].detail, "expired"));
    ck_assert_int_eq(ans->results[6].status, 500);
    ck_assert_int_ge(ans->results[4].latency_us, (deadline - 50) * 1000ull);

    struct gw_fed_merge *m = NULL;
    json_t *b = merge_json(a, ans, NULL, &m);
    ck_assert_int_eq(count_mode(b, "match"), 2 * GOOD);
    ck_assert_int_eq(count_mode(b, "outcome"), N - GOOD);
    ck_assert_ptr_null(json_object_get(b, "total")); /* not every member gave one */
    static const char *const code[N] = {
        NULL,      NULL,        NULL,        "transient", "timeout", "timeout", "exception",
        "invalid", "transient", "exception", "exception", "invalid", "invalid", "timeout"};
    for (size_t i = GOOD; i < N; i++) {
        json_t *issue = outcome_of(b, f.ids[i]);

        ck_assert_msg(issue != NULL, "no outcome for member %zu", i);
        ck_assert_str_eq(json_string_value(json_object_get(issue, "code")), code[i]);
        const char *diag = json_string_value(json_object_get(issue, "diagnostics"));
        ck_assert_ptr_nonnull(strstr(diag, f.ids[i]));
        json_t *ext = json_array_get(json_object_get(issue, "extension"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(ext, "url")), GW_FED_EXT_LATENCY);
        ck_assert(json_is_integer(json_object_get(ext, "valueInteger")));
    }
    const struct gw_fed_failure *fl;
    size_t nf;
    gw_fed_merge_failures(m, &fl, &nf);
    ck_assert_uint_eq(nf, N - GOOD);
    /* merged as the answers arrived (on the loop thread): the same text */
    struct base_buf t1;
    struct base_buf t2;
    struct gw_fed_merge *one = NULL;
    base_buf_init(&t1, 0);
    base_buf_init(&t2, 0);
    ck_assert_int_eq(gw_fed_merge_finish(inc, NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_new(a, ans->results, N, &mo, &one, NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_write(inc, &t1), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_write(one, &t2), BASE_OK);
    ck_assert_str_eq(t1.data, t2.data);
    base_buf_fini(&t1);
    base_buf_fini(&t2);
    json_decref(b);
    gw_fed_answer_free(ans);
    gw_fed_engine_free(e);
    fleet_free(&f);
    close(hole);
    base_arena_free(a);
}
END_TEST

START_TEST(reset_is_retried_once)
{
    struct fleet f;
    struct gw_fed_engine *e;

    fleet_make(&f, 2, 1);
    f.specs[0].mode = TU_MEMBER_RESET_FIRST;
    f.specs[1].mode = TU_MEMBER_RESET_ALWAYS;
    fleet_start(&f);
    e = engine(0, 0);
    struct gw_fed_answer *ans = run(e, f.rq, 2, 3000, NULL);
    expect(ans, 0, GW_FED_OK);
    ck_assert_int_eq(ans->results[0].attempts, 2);
    expect(ans, 1, GW_FED_E_RESET);
    ck_assert_int_eq(ans->results[1].attempts, 2);
    ck_assert_int_eq(tu_members_requests(f.ms, 1), 2);
    gw_fed_answer_free(ans);
    gw_fed_engine_free(e);
    fleet_free(&f);
}
END_TEST

START_TEST(body_cap_and_concurrency_caps)
{
    struct fleet f;
    struct gw_fed_config c = gw_fed_config_default();
    struct gw_fed_engine *e = NULL;
    struct waiter w[12];

    fleet_make(&f, 1, 3);
    f.specs[0].delay_ms = 100;
    fleet_start(&f);
    c.ca_file = PKI.ca;
    c.cert_file = PKI.client_cert;
    c.key_file = PKI.client_key;
    c.max_per_member = 2;
    c.http1_only = true; /* one request per connection: connections = concurrency */
    ck_assert_int_eq(gw_fed_engine_new(&c, &e, NULL), BASE_OK);
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 12; i++) {
        pthread_mutex_init(&w[i].mu, NULL);
        pthread_cond_init(&w[i].cv, NULL);
    }
    /* ten jobs at once to one slow member: at most two at a time */
    struct gw_fed_job job = {.requests = f.rq, .n_requests = 1, .deadline_ms = 5000};
    int64_t t0 = ms_now();
    for (int i = 1; i < 11; i++)
        ck_assert_int_eq(gw_fed_submit(e, &job, on_done, &w[i], NULL), BASE_OK);
    for (int i = 1; i < 11; i++) {
        pthread_mutex_lock(&w[i].mu);
        while (w[i].calls == 0)
            pthread_cond_wait(&w[i].cv, &w[i].mu);
        pthread_mutex_unlock(&w[i].mu);
    }
    int64_t ms = ms_now() - t0;
    for (int i = 1; i < 11; i++)
        expect(w[i].answer, 0, GW_FED_OK);
    ck_assert_int_le(tu_members_connections(f.ms, 0), 2);
    ck_assert_int_ge(ms, 5 * 100 - 50); /* 10 requests, 2 at a time, 100 ms each */
    /* an answer over the per-member cap is refused, not truncated */
    struct gw_fed_job small = {.requests = f.rq, .n_requests = 1, .deadline_ms = 3000,
                               .max_body = 100};
    ck_assert_int_eq(gw_fed_submit(e, &small, on_done, &w[0], NULL), BASE_OK);
    pthread_mutex_lock(&w[0].mu);
    while (w[0].calls == 0)
        pthread_cond_wait(&w[0].cv, &w[0].mu);
    pthread_mutex_unlock(&w[0].mu);
    expect(w[0].answer, 0, GW_FED_E_TOO_LARGE);
    ck_assert_ptr_null(w[0].answer->results[0].body);
    for (int i = 0; i < 11; i++)
        gw_fed_answer_free(w[i].answer);
    gw_fed_engine_free(e);
    fleet_free(&f);
}
END_TEST

START_TEST(connections_are_reused_across_jobs)
{
    struct fleet f;
    struct gw_fed_engine *e;

    fleet_make(&f, 1, 3);
    fleet_start(&f);
    e = engine(0, 0);
    for (int k = 0; k < 5; k++) {
        struct gw_fed_answer *ans = run(e, f.rq, 1, 3000, NULL);

        expect(ans, 0, GW_FED_OK);
        gw_fed_answer_free(ans);
    }
    ck_assert_int_eq(tu_members_requests(f.ms, 0), 5);
    ck_assert_int_le(tu_members_connections(f.ms, 0), 2); /* one per loop */
    gw_fed_engine_free(e);
    fleet_free(&f);
}
END_TEST

START_TEST(circuit_breaker_opens_and_closes)
{
    struct fleet f;
    struct gw_fed_engine *e;
    struct base_arena *a = base_arena_new(0);

    fleet_make(&f, 1, 1);
    f.specs[0].status = 500;
    fleet_start(&f);
    e = engine(3, 300);
    for (int k = 0; k < 3; k++) {
        struct gw_fed_answer *ans = run(e, f.rq, 1, 3000, NULL);

        expect(ans, 0, GW_FED_E_HTTP_STATUS);
        gw_fed_answer_free(ans);
    }
    /* open: answered at once, the member is not asked */
    int64_t ms;
    struct gw_fed_answer *ans = run(e, f.rq, 1, 3000, &ms);
    ck_assert_int_eq(ans->results[0].error, GW_FED_E_CIRCUIT_OPEN);
    ck_assert_int_eq(ans->results[0].attempts, 0);
    ck_assert_int_lt(ms, 250);
    ck_assert_int_eq(tu_members_requests(f.ms, 0), 3);
    gw_fed_answer_free(ans);
    struct gw_fed_member_stats *st;
    size_t n;
    ck_assert_int_eq(gw_fed_stats(e, a, &st, &n), BASE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(st[0].state, GW_FED_OPEN);
    ck_assert_uint_eq(st[0].by_error[GW_FED_E_HTTP_STATUS], 3);
    ck_assert_uint_eq(st[0].by_error[GW_FED_E_CIRCUIT_OPEN], 1);
    ck_assert_uint_eq(st[0].requests, 4);
    /* a health probe goes through an open circuit; failing, it keeps it open */
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0};
    struct gw_fed_job probe = {
        .requests = f.rq, .n_requests = 1, .deadline_ms = 3000, .probe = true};
    ck_assert_int_eq(gw_fed_submit(e, &probe, on_done, &w, NULL), BASE_OK);
    pthread_mutex_lock(&w.mu);
    while (w.calls == 0)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    expect(w.answer, 0, GW_FED_E_HTTP_STATUS);
    gw_fed_answer_free(w.answer);
    ck_assert_int_eq(tu_members_requests(f.ms, 0), 4);
    ans = run(e, f.rq, 1, 3000, NULL);
    expect(ans, 0, GW_FED_E_CIRCUIT_OPEN);
    gw_fed_answer_free(ans);
    /* repaired: after open_ms the next request is the trial, and closes it */
    tu_members_set_mode(f.ms, 0, TU_MEMBER_SERVE, 200);
    usleep(350 * 1000);
    ans = run(e, f.rq, 1, 3000, NULL);
    expect(ans, 0, GW_FED_OK);
    gw_fed_answer_free(ans);
    ck_assert_int_eq(gw_fed_stats(e, a, &st, &n), BASE_OK);
    ck_assert_int_eq(st[0].state, GW_FED_CLOSED);
    ck_assert_uint_eq(st[0].consecutive_failures, 0);
    ck_assert_int_gt(st[0].last_contact_ms, 0);
    struct base_buf text;
    base_buf_init(&text, 0);
    ck_assert_int_eq(gw_fed_metrics_text(e, &text), BASE_OK);
    ck_assert_ptr_nonnull(strstr(text.data, "fhirgate_fed_member_requests_total{member=\"hosp-0\","
                                            "result=\"http-status\"} 4"));
    ck_assert_ptr_nonnull(
        strstr(text.data, "fhirgate_fed_member_circuit_state{member=\"hosp-0\"} 0"));
    base_buf_fini(&text);
    gw_fed_engine_free(e);
    fleet_free(&f);
    base_arena_free(a);
}
END_TEST

/* ---- concurrency and shutdown ---------------------------------------------------- */

struct counter {
    atomic_int calls;
    atomic_int ok;
    atomic_int per_job[200];
};

struct counted {
    struct counter *c;
    int job;
};

static void
on_counted(struct gw_fed_answer *a, void *ctx)
{
    struct counted *k = ctx;
    bool all_ok = true;

    for (size_t i = 0; i < a->n_results; i++)
        all_ok &= a->results[i].error == GW_FED_OK;
    atomic_fetch_add(&k->c->per_job[k->job], 1);
    atomic_fetch_add(&k->c->ok, all_ok);
    atomic_fetch_add(&k->c->calls, 1);
    gw_fed_answer_free(a);
}

struct submitter {
    struct gw_fed_engine *e;
    struct fleet *f;
    struct counted *ks;
    int from, to;
};

static void *
submit_some(void *arg)
{
    struct submitter *s = arg;

    for (int j = s->from; j < s->to; j++) {
        struct gw_fed_job job = {.requests = s->f->rq, .n_requests = s->f->n, .deadline_ms = 10000};

        ck_assert_int_eq(gw_fed_submit(s->e, &job, on_counted, &s->ks[j], NULL), BASE_OK);
    }
    return NULL;
}

START_TEST(two_hundred_concurrent_jobs)
{
    struct fleet f;
    struct gw_fed_engine *e;
    static struct counter c;
    static struct counted ks[200];
    pthread_t th[4];
    struct submitter sub[4];

    memset(&c, 0, sizeof(c));
    fleet_make(&f, 5, 3);
    fleet_start(&f);
    e = engine(0, 0);
    for (int j = 0; j < 200; j++)
        ks[j] = (struct counted){&c, j};
    for (int t = 0; t < 4; t++) {
        sub[t] = (struct submitter){e, &f, ks, t * 50, t * 50 + 50};
        pthread_create(&th[t], NULL, submit_some, &sub[t]);
    }
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    for (int k = 0; k < 3000 && atomic_load(&c.calls) < 200; k++)
        usleep(10000);
    ck_assert_int_eq(atomic_load(&c.calls), 200);
    ck_assert_int_eq(atomic_load(&c.ok), 200);
    for (int j = 0; j < 200; j++)
        ck_assert_int_eq(atomic_load(&c.per_job[j]), 1);
    gw_fed_engine_free(e);
    ck_assert_int_eq(atomic_load(&c.calls), 200);
    fleet_free(&f);
}
END_TEST

START_TEST(stop_fails_queued_and_running_jobs)
{
    struct fleet f;
    struct gw_fed_engine *e;
    static struct counter c;
    static struct counted ks[20];

    memset(&c, 0, sizeof(c));
    fleet_make(&f, 3, 1);
    f.specs[0].mode = TU_MEMBER_SILENT;
    fleet_start(&f);
    e = engine(0, 0);
    for (int j = 0; j < 20; j++) {
        struct gw_fed_job job = {.requests = f.rq, .n_requests = f.n, .deadline_ms = 20000};

        ks[j] = (struct counted){&c, j};
        ck_assert_int_eq(gw_fed_submit(e, &job, on_counted, &ks[j], NULL), BASE_OK);
    }
    usleep(200 * 1000); /* some running, waiting on the silent member */
    int64_t t0 = ms_now();
    gw_fed_engine_stop(e);
    ck_assert_int_lt(ms_now() - t0, 1000);
    ck_assert_int_eq(atomic_load(&c.calls), 20);
    ck_assert_int_eq(atomic_load(&c.ok), 0);
    struct gw_fed_job job = {.requests = f.rq, .n_requests = f.n, .deadline_ms = 1000};
    ck_assert_int_eq(gw_fed_submit(e, &job, on_counted, &ks[0], NULL), BASE_E_IO);
    gw_fed_engine_free(e);
    ck_assert_int_eq(atomic_load(&c.calls), 20);
    fleet_free(&f);
}
END_TEST

START_TEST(submit_rejects_bad_jobs)
{
    struct gw_fed_engine *e = engine(0, 0);
    struct gw_fed_request rq = {
        "m", NULL, "https://127.0.0.1:1/fhir", "https://127.0.0.1:1/x", NULL, 0, false};
    const char *bad_header[] = {"X-A: 1\r\nX-Injected: 2"};
    struct gw_fed_job job = {.requests = &rq, .n_requests = 1, .deadline_ms = 100};
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0};

    job.n_requests = 0;
    ck_assert_int_eq(gw_fed_submit(e, &job, on_done, &w, NULL), BASE_E_INVALID);
    job.n_requests = 1;
    rq.member_id = NULL;
    ck_assert_int_eq(gw_fed_submit(e, &job, on_done, &w, NULL), BASE_E_INVALID);
    rq.member_id = "m";
    rq.headers = bad_header;
    rq.n_headers = 1;
    ck_assert_int_eq(gw_fed_submit(e, &job, on_done, &w, NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_fed_submit(e, &job, NULL, &w, NULL), BASE_E_INVALID);
    rq.n_headers = 0;
    /* http:// is refused unless configured (HTTPS only) */
    rq.url = "http://127.0.0.1:1/fhir/x";
    struct gw_fed_answer *ans = run(e, &rq, 1, 1000, NULL);
    ck_assert_int_eq(ans->results[0].error, GW_FED_E_INTERNAL);
    gw_fed_answer_free(ans);
    usleep(10000);
    ck_assert_int_eq(w.calls, 0);
    gw_fed_engine_free(e);
    /* a CA file is required, and a key goes with a certificate */
    struct gw_fed_config c = gw_fed_config_default();
    ck_assert_int_eq(gw_fed_engine_new(&c, &e, NULL), BASE_E_INVALID);
    c.ca_file = PKI.ca;
    c.cert_file = PKI.client_cert;
    ck_assert_int_eq(gw_fed_engine_new(&c, &e, NULL), BASE_E_INVALID);
}
END_TEST

START_TEST(member_without_client_certificate_refuses)
{
    struct fleet f;
    struct gw_fed_config c = gw_fed_config_default();
    struct gw_fed_engine *e = NULL;

    fleet_make(&f, 1, 1);
    fleet_start(&f);
    c.ca_file = PKI.ca; /* no client certificate: mTLS fails */
    ck_assert_int_eq(gw_fed_engine_new(&c, &e, NULL), BASE_OK);
    struct gw_fed_answer *ans = run(e, f.rq, 1, 2000, NULL);
    ck_assert_msg(ans->results[0].error == GW_FED_E_TLS || ans->results[0].error == GW_FED_E_RESET,
                  "%s", gw_fed_error_name(ans->results[0].error));
    gw_fed_answer_free(ans);
    gw_fed_engine_free(e);
    fleet_free(&f);
}
END_TEST

Suite *fed_engine_suite(void)
{
    Suite *s = suite_create("fed_engine");
    TCase *tc = tcase_create("engine");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, three_members_with_different_data);
    tcase_add_test(tc, thirty_members);
    tcase_add_test(tc, seventy_three_members);
    tcase_add_test(tc, faults_give_partial_results_within_the_deadline);
    tcase_add_test(tc, reset_is_retried_once);
    tcase_add_test(tc, body_cap_and_concurrency_caps);
    tcase_add_test(tc, connections_are_reused_across_jobs);
    tcase_add_test(tc, circuit_breaker_opens_and_closes);
    tcase_add_test(tc, two_hundred_concurrent_jobs);
    tcase_add_test(tc, stop_fails_queued_and_running_jobs);
    tcase_add_test(tc, submit_rejects_bad_jobs);
    tcase_add_test(tc, member_without_client_certificate_refuses);
    suite_add_tcase(s, tc);
    return s;
}
