/*
 * The fan-out engine: loop threads, each driving one libcurl multi handle
 * (the multi_socket API over epoll, woken by an eventfd), fed by a
 * mutex-guarded queue.
 * A request thread submits a job and returns at once; the loop starts the
 * job's transfers (subject to the circuit breaker and the concurrency
 * caps), finishes each as libcurl reports it or the job's deadline passes,
 * and calls the job's callback exactly once when every member has a
 * result.  So a request waiting on members holds no server thread (the
 * HTTP layer suspends it), and one slow member never delays the others
 * beyond the deadline.  This file: configuration, submission, start and
 * stop; loop.c: the loop itself.  docs/design/federation.md explains the
 * choices.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/base/str.h"
#include "gateway/fed/engine_int.h"

/* ---- submission ------------------------------------------------------------------------- */

static char *
dup_or_null(struct base_arena *a, const char *s, bool *oom)
{
    char *d = s != NULL ? base_arena_strdup(a, s) : NULL;

    *oom |= s != NULL && d == NULL;
    return d;
}

static int
job_copy_request(struct fed_job *j, size_t i, const struct gw_fed_request *q)
{
    struct gw_fed_result *r = &j->answer->results[i];
    bool oom = false;

    r->member_id = dup_or_null(j->arena, q->member_id, &oom);
    r->member_name =
        dup_or_null(j->arena, q->member_name != NULL ? q->member_name : q->member_id, &oom);
    r->base = dup_or_null(j->arena, q->base != NULL ? q->base : "", &oom);
    r->url = dup_or_null(j->arena, q->url, &oom);
    r->offset_paging = q->offset_paging;
    const char **h = BASE_NEW_N(j->arena, const char *, q->n_headers + 1);
    if (h == NULL || oom)
        return BASE_E_NOMEM;
    for (size_t k = 0; k < q->n_headers; k++) {
        h[k] = dup_or_null(j->arena, q->headers[k], &oom);
        if (h[k] == NULL || strpbrk(h[k], "\r\n") != NULL)
            return oom ? BASE_E_NOMEM : BASE_E_INVALID; /* no header injection */
    }
    j->headers[i] = h;
    j->n_headers[i] = q->n_headers;
    struct fed_xfer *x = &j->xfers[i];
    x->job = j;
    x->idx = i;
    base_buf_init(&x->body, j->max_body);
    return base_buf_tie(&x->body, j->arena);
}

static int
job_check(const struct gw_fed_job *job)
{
    if (job == NULL || job->n_requests == 0 || job->n_requests > BASE_LIMIT_FED_MAX_REQUESTS)
        return BASE_E_INVALID;
    for (size_t i = 0; i < job->n_requests; i++) {
        const struct gw_fed_request *q = &job->requests[i];

        if (q->member_id == NULL || q->member_id[0] == '\0' || q->url == NULL ||
            !base_utf8_valid(q->member_id, strlen(q->member_id), NULL) ||
            (q->member_name != NULL &&
             !base_utf8_valid(q->member_name, strlen(q->member_name), NULL)) ||
            (q->base != NULL && !base_utf8_valid(q->base, strlen(q->base), NULL)) ||
            q->n_headers > BASE_LIMIT_FED_MAX_HEADERS || (q->n_headers > 0 && q->headers == NULL))
            return BASE_E_INVALID;
    }
    return BASE_OK;
}

static int
job_new(struct gw_fed_engine *e, const struct gw_fed_job *job, struct fed_job **out)
{
    struct base_arena *a = base_arena_new(0);
    size_t n = job->n_requests;
    struct fed_job *j;

    if (a == NULL)
        return BASE_E_NOMEM;
    j = BASE_NEW(a, struct fed_job);
    if (j == NULL)
        goto nomem;
    j->arena = a;
    j->n = n;
    j->submitted_us = fed_now_us();
    j->deadline_us =
        j->submitted_us +
        (int64_t)(job->deadline_ms != 0 ? job->deadline_ms : e->cfg.deadline_ms) * 1000;
    j->member_timeout_ms = job->member_timeout_ms;
    j->max_body = job->max_body != 0 ? job->max_body : e->cfg.max_body;
    j->probe = job->probe;
    j->on_result = job->on_result;
    j->on_result_ctx = job->on_result_ctx;
    j->answer = BASE_NEW(a, struct gw_fed_answer);
    j->xfers = BASE_NEW_N(a, struct fed_xfer, n);
    j->headers = BASE_NEW_N(a, const char *const *, n);
    j->n_headers = BASE_NEW_N(a, size_t, n);
    if (j->answer == NULL || j->xfers == NULL || j->headers == NULL || j->n_headers == NULL ||
        (j->answer->results = BASE_NEW_N(a, struct gw_fed_result, n)) == NULL)
        goto nomem;
    j->answer->n_results = n;
    j->answer->arena = a;
    for (size_t i = 0; i < n; i++) {
        int rc = job_copy_request(j, i, &job->requests[i]);

        if (rc != BASE_OK) {
            base_arena_free(a);
            return rc;
        }
    }
    *out = j;
    return BASE_OK;
nomem:
    base_arena_free(a);
    return BASE_E_NOMEM;
}

int
gw_fed_submit(struct gw_fed_engine *e, const struct gw_fed_job *job, gw_fed_done_fn done, void *ctx,
              struct base_err *err)
{
    struct fed_job *j = NULL;
    struct fed_loop *L;
    int rc;

    if (done == NULL || job_check(job) != BASE_OK)
        return base_err_set(err, BASE_E_INVALID, "exception", NULL, "malformed federation job");
    if (atomic_load(&e->stopping))
        return base_err_set(err, BASE_E_IO, "transient", NULL, "federation engine stopping");
    if (atomic_fetch_add(&e->queued, 1) >= e->cfg.max_queue) {
        atomic_fetch_sub(&e->queued, 1);
        return base_err_set(err, BASE_E_LIMIT, "transient", NULL, "too many federated queries");
    }
    rc = job_new(e, job, &j);
    if (rc != BASE_OK) {
        atomic_fetch_sub(&e->queued, 1);
        return base_err_set(err, rc, "exception", NULL,
                            rc == BASE_E_INVALID ? "malformed federation job" : "out of memory");
    }
    j->done = done;
    j->ctx = ctx;
    L = &e->loops[atomic_fetch_add(&e->next_loop, 1) % e->n_loops];
    pthread_mutex_lock(&L->mu);
    if (L->stop) {
        pthread_mutex_unlock(&L->mu);
        atomic_fetch_sub(&e->queued, 1);
        base_arena_free(j->arena);
        return base_err_set(err, BASE_E_IO, "transient", NULL, "federation engine stopping");
    }
    if (L->queue_tail != NULL)
        L->queue_tail->next = j;
    else
        L->queue_head = j;
    L->queue_tail = j;
    pthread_mutex_unlock(&L->mu);
    fed_loop_wake(L);
    return BASE_OK;
}

void
gw_fed_answer_free(struct gw_fed_answer *a)
{
    if (a != NULL)
        base_arena_free(a->arena);
}

/* ---- engine life cycle ---------------------------------------------------------------- */

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    struct gw_fed_engine *e = ud;

    (void)h;
    (void)access;
    pthread_mutex_lock(&e->share_mu[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    struct gw_fed_engine *e = ud;

    (void)h;
    pthread_mutex_unlock(&e->share_mu[data]);
}

struct gw_fed_config
gw_fed_config_default(void)
{
    struct gw_fed_config c;

    memset(&c, 0, sizeof(c));
    c.loops = 1;
    c.max_inflight = BASE_LIMIT_FED_MAX_INFLIGHT;
    c.max_per_member = BASE_LIMIT_FED_MAX_PER_MEMBER;
    c.max_queue = BASE_LIMIT_FED_MAX_QUEUE;
    c.deadline_ms = BASE_LIMIT_FED_DEADLINE_MS;
    c.connect_ms = BASE_LIMIT_FED_CONNECT_MS;
    c.max_body = BASE_LIMIT_FED_MAX_BODY;
    c.breaker.failures = BASE_LIMIT_FED_BREAKER_FAILURES;
    c.breaker.open_ms = BASE_LIMIT_FED_BREAKER_OPEN_MS;
    return c;
}

/* The engine outlives any arena: its strings are heap copies. */
static char *
fed_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = base_malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static int
config_fill(struct gw_fed_engine *e, const struct gw_fed_config *in)
{
    struct gw_fed_config d = gw_fed_config_default();
    struct gw_fed_config *c = &e->cfg;

    *c = *in;
    c->ca_file = c->cert_file = c->key_file = NULL; /* copied below */
#define DFLT(f)                                                                                    \
    if (c->f == 0)                                                                                 \
    c->f = d.f
    DFLT(loops);
    DFLT(max_inflight);
    DFLT(max_per_member);
    DFLT(max_queue);
    DFLT(deadline_ms);
    DFLT(connect_ms);
    DFLT(max_body);
    DFLT(breaker.failures);
    DFLT(breaker.open_ms);
#undef DFLT
    if (c->max_connections == 0)
        c->max_connections = 4 * c->max_inflight / c->loops + 16;
    if (c->loops > 64 || (in->ca_file == NULL && !c->allow_http) ||
        (in->cert_file == NULL) != (in->key_file == NULL))
        return BASE_E_INVALID;
    if ((in->ca_file != NULL && (c->ca_file = fed_strdup(in->ca_file)) == NULL) ||
        (in->cert_file != NULL && (c->cert_file = fed_strdup(in->cert_file)) == NULL) ||
        (in->key_file != NULL && (c->key_file = fed_strdup(in->key_file)) == NULL))
        return BASE_E_NOMEM;
    return BASE_OK;
}

static int
loop_init(struct gw_fed_engine *e, struct fed_loop *L)
{
    L->e = e;
    L->epfd = L->wakefd = -1;
    pthread_mutex_init(&L->mu, NULL);
    L->multi = curl_multi_init();
    L->pool = base_calloc(e->cfg.max_inflight, sizeof(CURL *));
    if (L->multi == NULL || L->pool == NULL || fed_loop_init_events(L) != BASE_OK)
        return BASE_E_INTERNAL;
    curl_multi_setopt(L->multi, CURLMOPT_MAXCONNECTS, (long)e->cfg.max_connections);
    curl_multi_setopt(L->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e->cfg.max_per_member);
    if (pthread_create(&L->thread, NULL, fed_loop_main, L) != 0)
        return BASE_E_INTERNAL;
    L->started = true;
    return BASE_OK;
}

/* With CURLOPT_NOSIGNAL (required with threads) libcurl leaves SIGPIPE
 * alone, and a member closing its end while OpenSSL writes would kill the
 * process: ignore it, unless the program already handles it. */
static void
ignore_sigpipe(void)
{
    struct sigaction old;

    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

int
gw_fed_engine_new(const struct gw_fed_config *cfg, struct gw_fed_engine **out, struct base_err *err)
{
    struct gw_fed_engine *e;

    *out = NULL;
    ignore_sigpipe();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "libcurl init failed");
    e = base_calloc(1, sizeof(*e));
    if (e == NULL) {
        curl_global_cleanup();
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    pthread_mutex_init(&e->members_mu, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&e->share_mu[i], NULL);
    if (config_fill(e, cfg) != BASE_OK) {
        gw_fed_engine_free(e);
        return base_err_set(err, BASE_E_INVALID, "exception", NULL,
                            "federation config needs a CA file, and a key with the certificate");
    }
    e->overflow.id = (char *)"(other)";
    e->share = curl_share_init();
    e->loops = base_calloc(e->cfg.loops, sizeof(*e->loops));
    if (e->share == NULL || e->loops == NULL ||
        curl_share_setopt(e->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(e->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(e->share, CURLSHOPT_USERDATA, e) != CURLSHE_OK ||
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        gw_fed_engine_free(e);
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "libcurl share setup failed");
    }
    for (unsigned i = 0; i < e->cfg.loops; i++) {
        e->n_loops = i + 1;
        if (loop_init(e, &e->loops[i]) != BASE_OK) {
            gw_fed_engine_free(e);
            return base_err_set(err, BASE_E_INTERNAL, "exception", NULL,
                                "cannot start a federation loop");
        }
    }
    *out = e;
    return BASE_OK;
}

void
gw_fed_engine_stop(struct gw_fed_engine *e)
{
    if (e == NULL || e->stopped)
        return;
    atomic_store(&e->stopping, true);
    for (unsigned i = 0; i < e->n_loops; i++) {
        struct fed_loop *L = &e->loops[i];

        pthread_mutex_lock(&L->mu);
        L->stop = true;
        pthread_mutex_unlock(&L->mu);
        fed_loop_wake(L);
    }
    for (unsigned i = 0; i < e->n_loops; i++) {
        if (e->loops[i].started)
            pthread_join(e->loops[i].thread, NULL);
        e->loops[i].started = false;
    }
    e->stopped = true;
}

void
gw_fed_engine_free(struct gw_fed_engine *e)
{
    if (e == NULL)
        return;
    gw_fed_engine_stop(e);
    for (unsigned i = 0; i < e->n_loops; i++) {
        struct fed_loop *L = &e->loops[i];

        for (size_t k = 0; k < L->n_pool; k++)
            curl_easy_cleanup(L->pool[k]);
        base_free(L->pool);
        if (L->multi != NULL)
            curl_multi_cleanup(L->multi);
        fed_loop_fini_events(L);
        pthread_mutex_destroy(&L->mu);
    }
    base_free(e->loops);
    if (e->share != NULL)
        curl_share_cleanup(e->share);
    fed_members_free(e);
    base_free((void *)e->cfg.ca_file);
    base_free((void *)e->cfg.cert_file);
    base_free((void *)e->cfg.key_file);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&e->share_mu[i]);
    pthread_mutex_destroy(&e->members_mu);
    base_free(e);
    curl_global_cleanup();
}
