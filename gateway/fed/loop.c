/*
 * A loop thread of the fan-out engine: take queued jobs, ask the breaker,
 * start what the concurrency caps allow, drive libcurl, finish transfers
 * (with one retry after a reset), expire jobs at their deadline, and hand
 * each complete job to its callback.  Everything here runs on the loop's
 * own thread; only the queue (loop->mu), the member table (members_mu, in
 * breaker.c) and the atomics are shared (engine_int.h).
 */
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
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

void *
fed_loop_main(void *arg)
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
