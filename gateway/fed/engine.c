/*
 * The fan-out engine: loop threads, each driving one libcurl multi handle
 * (curl_multi_poll + curl_multi_wakeup), fed by a mutex-guarded queue.
 * A request thread submits a job and returns at once; the loop starts the
 * job's transfers (subject to the circuit breaker and the concurrency
 * caps), finishes each as libcurl reports it or the job's deadline passes,
 * and calls the job's callback exactly once when every member has a
 * result.  So a request waiting on members holds no server thread (the
 * HTTP layer suspends it), and one slow member never delays the others
 * beyond the deadline.  docs/design/federation.md explains the choices.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/base/str.h"
#include "gateway/fed/engine_int.h"

/* ---- jobs ---------------------------------------------------------------------------- */

static void
pending_push(struct fed_loop *L, struct fed_xfer *x)
{
    x->next_pending = NULL;
    x->prev_pending = L->pending_tail;
    if (L->pending_tail != NULL)
        L->pending_tail->next_pending = x;
    else
        L->pending_head = x;
    L->pending_tail = x;
    x->in_pending = true;
    atomic_fetch_add(&L->e->waiting, 1);
}

/* Out of the pending list at once, so a finished job leaves no pointer
 * into its (freed) memory behind. */
static void
pending_unlink(struct fed_loop *L, struct fed_xfer *x)
{
    if (!x->in_pending)
        return;
    if (x->prev_pending != NULL)
        x->prev_pending->next_pending = x->next_pending;
    else
        L->pending_head = x->next_pending;
    if (x->next_pending != NULL)
        x->next_pending->prev_pending = x->prev_pending;
    else
        L->pending_tail = x->prev_pending;
    x->next_pending = x->prev_pending = NULL;
    x->in_pending = false;
    atomic_fetch_sub(&L->e->waiting, 1);
}

static void
active_unlink(struct fed_loop *L, struct fed_job *j)
{
    if (j->prev != NULL)
        j->prev->next = j->next;
    else
        L->active = j->next;
    if (j->next != NULL)
        j->next->prev = j->prev;
    j->next = j->prev = NULL;
}

/* Every member has its result: hand the answer over (after which the job's
 * memory belongs to the callee). */
static void
job_complete(struct fed_loop *L, struct fed_job *j, bool active)
{
    if (active)
        active_unlink(L, j);
    j->answer->elapsed_us = (uint64_t)(fed_now_us() - j->submitted_us);
    j->done(j->answer, j->ctx);
}

static void
easy_release(struct fed_loop *L, struct fed_xfer *x)
{
    if (x->easy == NULL)
        return;
    if (x->running)
        curl_multi_remove_handle(L->multi, x->easy);
    x->running = false;
    if (L->n_pool < L->e->cfg.max_inflight) {
        curl_easy_reset(x->easy);
        L->pool[L->n_pool++] = x->easy;
    } else {
        curl_easy_cleanup(x->easy);
    }
    x->easy = NULL;
}

static void
slot_release(struct fed_loop *L, struct fed_xfer *x)
{
    struct gw_fed_engine *e = L->e;

    if (!x->holds_slot)
        return;
    x->holds_slot = false;
    atomic_fetch_sub(&e->inflight, 1);
    fed_member_release(e, x->member);
    /* a slot freed here may unblock another loop's pending transfers */
    if (atomic_load(&e->waiting) > 0) {
        for (unsigned i = 0; i < e->n_loops; i++) {
            if (&e->loops[i] != L)
                curl_multi_wakeup(e->loops[i].multi);
        }
    }
}

/* One member's result is final: tell the job's observer, count it. */
static void
result_final(struct fed_job *j, size_t idx)
{
    if (j->on_result != NULL)
        j->on_result(&j->answer->results[idx], idx, j->on_result_ctx);
    j->n_done++;
}

/* Record a result that is not a libcurl outcome (circuit open, deadline
 * before start, shutdown, setup failure). */
static void
xfer_fail(struct fed_loop *L, struct fed_xfer *x, enum gw_fed_error err, const char *detail)
{
    struct gw_fed_result *r = &x->job->answer->results[x->idx];

    r->error = err;
    r->detail = detail;
    r->attempts = x->attempts;
    if (x->t_start != 0)
        r->latency_us = (uint64_t)(fed_now_us() - x->t_start);
    pending_unlink(L, x);
    easy_release(L, x);
    slot_release(L, x);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    if (x->member != NULL)
        fed_breaker_done(L->e, x->member, err, 0, r->latency_us, x->t_start != 0, x->trial);
    x->done = true;
    result_final(x->job, x->idx);
}

/* A transfer libcurl finished (or that we stopped at the deadline). */
static void
xfer_finish(struct fed_loop *L, struct fed_xfer *x, CURLcode cc)
{
    struct gw_fed_result *r = &x->job->answer->results[x->idx];

    fed_xfer_result(x, cc, r);
    easy_release(L, x);
    slot_release(L, x);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    fed_breaker_done(L->e, x->member, r->error, r->status, r->latency_us, true, x->trial);
    x->done = true;
    result_final(x->job, x->idx);
}

static int
build_headers(struct fed_xfer *x)
{
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/fhir+json");

    for (size_t i = 0; h != NULL && i < x->job->n_headers[x->idx]; i++) {
        struct curl_slist *n = curl_slist_append(h, x->job->headers[x->idx][i]);

        if (n == NULL) {
            curl_slist_free_all(h);
            return BASE_E_NOMEM;
        }
        h = n;
    }
    x->headers = h;
    return h != NULL ? BASE_OK : BASE_E_NOMEM;
}

/* Start (or restart) one attempt: an easy handle, options, into the multi. */
static int
xfer_launch(struct fed_loop *L, struct fed_xfer *x, int64_t now)
{
    int64_t left_ms = (x->job->deadline_us - now) / 1000;
    unsigned timeout = x->job->member_timeout_ms;

    if (left_ms <= 0)
        return BASE_E_LIMIT;
    if (timeout == 0 || timeout > left_ms)
        timeout = (unsigned)left_ms;
    if (x->easy == NULL)
        x->easy = L->n_pool > 0 ? L->pool[--L->n_pool] : curl_easy_init();
    if (x->easy == NULL || (x->headers == NULL && build_headers(x) != BASE_OK))
        return BASE_E_NOMEM;
    base_buf_reset(&x->body);
    x->too_large = false;
    x->errbuf[0] = '\0';
    TRY(fed_xfer_setup(L, x, timeout));
    x->attempts++;
    x->t_start = now;
    x->t_end = 0;
    if (curl_multi_add_handle(L->multi, x->easy) != CURLM_OK)
        return BASE_E_INTERNAL;
    x->running = true;
    return BASE_OK;
}

/* Take a global and a member slot; *global_full tells which one failed. */
static bool
slot_take(struct gw_fed_engine *e, struct fed_xfer *x, bool *global_full)
{
    unsigned cur = atomic_load(&e->inflight);

    *global_full = false;
    do {
        if (cur >= e->cfg.max_inflight) {
            *global_full = true;
            return false;
        }
    } while (!atomic_compare_exchange_weak(&e->inflight, &cur, cur + 1));
    if (!fed_member_slot(e, x->member)) {
        atomic_fetch_sub(&e->inflight, 1);
        return false;
    }
    x->holds_slot = true;
    return true;
}

/* Start what the caps allow, in arrival order; a member at its own cap
 * does not hold up the others. */
static void
start_pending(struct fed_loop *L)
{
    struct fed_xfer *x = L->pending_head;
    int64_t now = fed_now_us();

    while (x != NULL) {
        /* if x's job completes below, every transfer of it is done and out
         * of the list, so `next` (still pending) belongs to another job */
        struct fed_xfer *next = x->next_pending;
        bool global_full;

        if (!slot_take(L->e, x, &global_full)) {
            if (global_full)
                return;
            x = next;
            continue;
        }
        pending_unlink(L, x);
        int rc = xfer_launch(L, x, now);
        if (rc != BASE_OK) {
            xfer_fail(L, x, rc == BASE_E_LIMIT ? GW_FED_E_TIMEOUT : GW_FED_E_INTERNAL,
                      rc == BASE_E_LIMIT ? "deadline passed before the request could start"
                                         : "could not set up the request");
            if (x->job->n_done == x->job->n)
                job_complete(L, x->job, true);
        }
        x = next;
    }
}

/* A new job: breaker decisions now, transfers into the pending FIFO. */
static void
job_start(struct fed_loop *L, struct fed_job *j)
{
    int64_t now = fed_now_us();

    j->prev = NULL;
    j->next = L->active;
    if (L->active != NULL)
        L->active->prev = j;
    L->active = j;
    for (size_t i = 0; i < j->n; i++) {
        struct fed_xfer *x = &j->xfers[i];
        unsigned failures = 0;
        enum fed_admit ad = fed_breaker_admit(L->e, j->answer->results[i].member_id, j->probe, now,
                                              &x->member, &failures);

        if (ad == FED_REJECT) {
            xfer_fail(L, x, GW_FED_E_CIRCUIT_OPEN,
                      base_arena_sprintf(j->arena, "circuit open after %u consecutive failures",
                                         failures));
            continue;
        }
        x->trial = ad == FED_ADMIT_TRIAL;
        pending_push(L, x);
    }
    if (j->n_done == j->n)
        job_complete(L, j, true);
}

/* ---- the loop ------------------------------------------------------------------------- */

/* `now`: when the perform that finished these transfers returned, so a
 * member's latency never includes what the loop does with the answers of
 * others (on_result callbacks) before it gets to this one. */
static void
drain_messages(struct fed_loop *L, int64_t now)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(L->multi, &left)) != NULL) {
        struct fed_xfer *x = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode cc = msg->data.result;
        x->t_end = now;
        if (fed_xfer_retry(x, cc, now)) {
            curl_multi_remove_handle(L->multi, x->easy);
            x->running = false;
            BASE_LOG(BASE_LOG_INFO, "fed_retry", "member=%s cause=reset",
                     x->job->answer->results[x->idx].member_id);
            if (xfer_launch(L, x, now) == BASE_OK)
                continue;
            xfer_fail(L, x, GW_FED_E_RESET, "connection reset; the retry could not start");
        } else {
            xfer_finish(L, x, cc);
        }
        if (x->job->n_done == x->job->n)
            job_complete(L, x->job, true);
    }
}

/* Jobs past their deadline: whatever is still out is a timeout now. */
static int64_t
expire(struct fed_loop *L, int64_t now)
{
    int64_t next = now + 1000000;
    struct fed_job *j = L->active;

    while (j != NULL) {
        struct fed_job *nj = j->next;

        if (j->deadline_us > now) {
            next = j->deadline_us < next ? j->deadline_us : next;
            j = nj;
            continue;
        }
        for (size_t i = 0; i < j->n; i++) {
            struct fed_xfer *x = &j->xfers[i];

            if (x->done)
                continue;
            if (x->running) {
                x->t_end = now;
                xfer_finish(L, x, CURLE_OPERATION_TIMEDOUT);
            } else
                xfer_fail(L, x, GW_FED_E_TIMEOUT, "deadline passed before the request could start");
        }
        job_complete(L, j, true);
        j = nj;
    }
    return next;
}

/* Fail everything the loop holds (engine stopping). */
static void
fail_all(struct fed_loop *L, struct fed_job *queued)
{
    while (queued != NULL) {
        struct fed_job *nj = queued->next;

        for (size_t i = 0; i < queued->n; i++) {
            queued->answer->results[i].error = GW_FED_E_SHUTDOWN;
            queued->answer->results[i].detail = "gateway shutting down";
            result_final(queued, i);
        }
        atomic_fetch_sub(&L->e->queued, 1);
        job_complete(L, queued, false);
        queued = nj;
    }
    while (L->active != NULL) {
        struct fed_job *j = L->active;

        for (size_t i = 0; i < j->n; i++) {
            if (!j->xfers[i].done)
                xfer_fail(L, &j->xfers[i], GW_FED_E_SHUTDOWN, "gateway shutting down");
        }
        job_complete(L, j, true);
    }
    L->pending_head = L->pending_tail = NULL;
}

static void *
loop_main(void *arg)
{
    struct fed_loop *L = arg;

    for (;;) {
        pthread_mutex_lock(&L->mu);
        struct fed_job *q = L->queue_head;
        bool stop = L->stop;
        L->queue_head = L->queue_tail = NULL;
        pthread_mutex_unlock(&L->mu);
        if (stop) {
            fail_all(L, q);
            break;
        }
        while (q != NULL) {
            struct fed_job *nj = q->next;

            atomic_fetch_sub(&L->e->queued, 1);
            job_start(L, q);
            q = nj;
        }
        start_pending(L);
        int running = 0;
        curl_multi_perform(L->multi, &running);
        drain_messages(L, fed_now_us());
        int64_t next = expire(L, fed_now_us());
        if (L->pending_head != NULL) { /* slots freed above */
            start_pending(L);
            curl_multi_perform(L->multi, &running);
            drain_messages(L, fed_now_us()); /* never sleep on a finished transfer */
        }
        int64_t wait = (next - fed_now_us()) / 1000 + 1;
        curl_multi_poll(L->multi, NULL, 0, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait, NULL);
    }
    return NULL;
}

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
    curl_multi_wakeup(L->multi);
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
    pthread_mutex_init(&L->mu, NULL);
    L->multi = curl_multi_init();
    L->pool = base_calloc(e->cfg.max_inflight, sizeof(CURL *));
    if (L->multi == NULL || L->pool == NULL)
        return BASE_E_INTERNAL;
    curl_multi_setopt(L->multi, CURLMOPT_MAXCONNECTS, (long)e->cfg.max_connections);
    curl_multi_setopt(L->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e->cfg.max_per_member);
    if (pthread_create(&L->thread, NULL, loop_main, L) != 0)
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
        if (L->multi != NULL)
            curl_multi_wakeup(L->multi);
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
