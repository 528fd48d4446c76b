/*
 * gateway/app/fed.c — the federation engine as the daemon runs it: start
 * and stop, the worker threads that finish federated requests (merge,
 * audit, answer: the audit append blocks until committed, so it never
 * runs on a libcurl loop thread), the members' health probes, and the
 * per-member statistics for the admin API and /metrics.
 */
#include "gateway/app/app_int.h"

#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "gateway/fed/gw_fed.h"
#include "gateway/http/gw_http_metrics.h"

/* ------------------------------------------------------------ workers -- */

struct work {
    void (*fn)(void *ctx);
    void *ctx;
    struct work *next;
};

struct gw_app_workers {
    pthread_mutex_t mu; /* guards head, tail, stop */
    pthread_cond_t cv;
    struct work *head;
    struct work *tail;
    bool stop;
    pthread_t *threads;
    size_t n;
};

static void *
worker_main(void *arg)
{
    struct gw_app_workers *w = arg;

    for (;;) {
        struct work *job;

        pthread_mutex_lock(&w->mu);
        while (w->head == NULL && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        job = w->head;
        if (job == NULL) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        w->head = job->next;
        if (w->head == NULL)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        job->fn(job->ctx);
        base_free(job);
    }
}

/* Queue fn(ctx) on a worker.  Never blocks (the caller may be a loop
 * thread).  false when out of memory or stopping. */
bool
gw_app_work(struct gw_app *app, void (*fn)(void *ctx), void *ctx)
{
    struct gw_app_workers *w = app->workers;
    struct work *job = base_calloc(1, sizeof(*job));
    bool ok;

    if (job == NULL)
        return false;
    job->fn = fn;
    job->ctx = ctx;
    pthread_mutex_lock(&w->mu);
    ok = !w->stop;
    if (ok) {
        if (w->tail != NULL)
            w->tail->next = job;
        else
            w->head = job;
        w->tail = job;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    if (!ok)
        base_free(job);
    return ok;
}

static int
workers_start(struct gw_app *app, unsigned n, struct base_err *err)
{
    struct gw_app_workers *w = base_calloc(1, sizeof(*w));

    if (w == NULL || (w->threads = base_calloc(n, sizeof(pthread_t))) == NULL) {
        base_free(w);
        return base_err_set(err, BASE_E_NOMEM, "exception", "workers", "out of memory");
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    app->workers = w;
    for (; w->n < n; w->n++) {
        if (pthread_create(&w->threads[w->n], NULL, worker_main, w) != 0)
            return base_err_set(err, BASE_E_INTERNAL, "exception", "workers",
                                "could not start a worker thread");
    }
    return BASE_OK;
}

/* Drain the queue (every queued job still runs: each holds a suspended
 * request that must be answered), then join. */
static void
workers_stop(struct gw_app *app)
{
    struct gw_app_workers *w = app->workers;

    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    base_free(w->threads);
    base_free(w);
    app->workers = NULL;
}

/* ------------------------------------------------------------- engine -- */

int
gw_app_fed_start(struct gw_app *app, struct base_err *err)
{
    const struct gw_config *cfg = app->cfg;
    struct gw_fed_config fc = gw_fed_config_default();

    fc.ca_file = cfg->fed_ca;
    fc.cert_file = cfg->fed_cert;
    fc.key_file = cfg->fed_key;
    fc.allow_http = cfg->fed_allow_http;
    fc.loops = cfg->fed_loops;
    if (cfg->fed_max_inflight > 0)
        fc.max_inflight = cfg->fed_max_inflight;
    if (cfg->fed_max_per_member > 0)
        fc.max_per_member = cfg->fed_max_per_member;
    fc.deadline_ms = cfg->fed_deadline_ms;
    fc.max_body = cfg->fed_max_body;
    fc.breaker.failures = cfg->fed_breaker_failures;
    fc.breaker.open_ms = cfg->fed_breaker_open_ms;
    TRY(gw_fed_engine_new(&fc, &app->fed, err));
    return workers_start(app, cfg->fed_workers, err);
}

void
gw_app_fed_stop(struct gw_app *app)
{
    /* The engine first: its stop fails every job still out, whose
     * callbacks queue work; then the workers finish that work. */
    if (app->fed != NULL)
        gw_fed_engine_stop(app->fed);
    workers_stop(app);
    gw_fed_engine_free(app->fed);
    app->fed = NULL;
}

int
gw_app_fed_metrics(struct gw_app *app, struct base_buf *out)
{
    return app->fed != NULL ? gw_fed_metrics_text(app->fed, out) : BASE_OK;
}

json_t *
gw_app_fed_member_stats(struct gw_app *app, const char *member_id)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_fed_member_stats *st = NULL;
    size_t n = 0;
    json_t *v = NULL;

    if (a == NULL)
        return NULL;
    if (app->fed != NULL && gw_fed_stats(app->fed, a, &st, &n) == BASE_OK) {
        for (size_t i = 0; i < n && v == NULL; i++) {
            const struct gw_fed_member_stats *s = &st[i];
            uint64_t ok = s->requests - s->errors;

            if (strcmp(s->member_id, member_id) != 0)
                continue;
            v = json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:I, s:s, s:I}", "breaker",
                          gw_fed_breaker_state_name(s->state), "requests",
                          (json_int_t)s->requests, "errors", (json_int_t)s->errors, "error_rate",
                          s->requests > 0 ? (double)s->errors / (double)s->requests : 0.0,
                          "mean_latency_ms",
                          (json_int_t)(ok > 0 ? s->latency_sum_us / s->requests / 1000u : 0),
                          "last_contact_ms", (json_int_t)s->last_contact_ms, "last_success_ms",
                          (json_int_t)s->last_success_ms, "last_error",
                          s->errors > 0 ? gw_fed_error_name(s->last_error) : "",
                          "inflight", (json_int_t)s->inflight);
        }
    }
    base_arena_free(a);
    return v;
}

/* ------------------------------------------------------------- probes -- */

/* Waits for one job's callback (the background thread may block). */
struct sync_job {
    pthread_mutex_t mu; /* guards answer, done */
    pthread_cond_t cv;
    struct gw_fed_answer *answer;
    bool done;
};

static void
sync_done(struct gw_fed_answer *answer, void *ctx)
{
    struct sync_job *s = ctx;

    pthread_mutex_lock(&s->mu);
    s->answer = answer;
    s->done = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

struct gw_fed_answer *
gw_app_fed_run(struct gw_app *app, const struct gw_fed_job *job, struct base_err *err)
{
    struct sync_job s = {.answer = NULL, .done = false};
    struct gw_fed_answer *answer;

    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    if (gw_fed_submit(app->fed, job, sync_done, &s, err) != BASE_OK) {
        pthread_cond_destroy(&s.cv);
        pthread_mutex_destroy(&s.mu);
        return NULL;
    }
    pthread_mutex_lock(&s.mu);
    while (!s.done)
        pthread_cond_wait(&s.cv, &s.mu);
    answer = s.answer;
    pthread_mutex_unlock(&s.mu);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return answer;
}

static int64_t
now_ms(void)
{
    return gw_app_now_us() / 1000;
}

/* A probe answer must be a CapabilityStatement, not any 200 page. */
static bool
probe_ok(const struct gw_fed_result *res)
{
    return res->error == GW_FED_OK && res->body != NULL &&
           strstr(res->body, "\"CapabilityStatement\"") != NULL;
}

static void
note_probes(struct gw_app *app, const struct gw_fed_answer *ans)
{
    struct gw_http_metric *up = gw_http_metrics_add(app->metrics, GW_HTTP_METRIC_GAUGE,
                                                    "fhirgate_member_up",
                                                    "1 when the member's last probe succeeded",
                                                    "member", NULL, 0);
    struct gw_http_metric *lat = gw_http_metrics_add(
        app->metrics, GW_HTTP_METRIC_GAUGE, "fhirgate_member_probe_latency_seconds",
        "latency of the member's last probe", "member", NULL, 0);

    for (size_t i = 0; i < ans->n_results; i++) {
        const struct gw_fed_result *res = &ans->results[i];
        const char *labels[1] = {res->member_id};
        bool ok = probe_ok(res);

        gw_registry_note_probe(app->registry, res->member_id, ok, res->latency_us,
                               res->error == GW_FED_OK ? "invalid" : gw_fed_error_name(res->error),
                               now_ms());
        if (ok) {
            /* a member is not asked for a type its statement leaves out
             * (an older or a third-party member): no failure to report */
            uint64_t mask = 0;
            bool known = gw_app_capability_search_types(res->body, res->body_len, &mask);

            gw_registry_note_types(app->registry, res->member_id, known, mask);
        }
        if (up != NULL)
            gw_http_metric_set(up, labels, ok ? 1 : 0);
        if (lat != NULL)
            gw_http_metric_set(lat, labels, (double)res->latency_us / 1e6);
        if (!ok && res->error == GW_FED_OK)
            gw_fed_note_invalid(app->fed, res->member_id);
    }
}

void
gw_app_probe_round(struct gw_app *app)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_registry_member *ms = NULL;
    struct gw_fed_request *rq;
    struct gw_fed_job job = {0};
    struct gw_fed_answer *ans;
    struct base_err err = {0};
    size_t n = 0;

    if (a == NULL || gw_registry_snapshot(app->registry, a, true, &ms, &n, &err) != BASE_OK ||
        n == 0 || (rq = BASE_NEW_N(a, struct gw_fed_request, n)) == NULL) {
        base_arena_free(a);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        rq[i].member_id = ms[i].id;
        rq[i].member_name = ms[i].name;
        rq[i].base = ms[i].base;
        rq[i].url = base_arena_sprintf(a, "%s/metadata", ms[i].base);
    }
    job.requests = rq;
    job.n_requests = n < BASE_LIMIT_FED_MAX_REQUESTS ? n : BASE_LIMIT_FED_MAX_REQUESTS;
    job.deadline_ms = app->cfg->probe_timeout_ms;
    job.probe = true;
    ans = gw_app_fed_run(app, &job, &err);
    if (ans != NULL) {
        note_probes(app, ans);
        gw_fed_answer_free(ans);
    }
    base_arena_free(a);
}
