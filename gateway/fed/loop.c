/*
 * A loop thread of the fan-out engine: take queued jobs, ask the breaker,
 * start what the concurrency caps allow, drive libcurl, finish transfers
 * (with one retry after a reset), expire jobs at their deadline, and hand
 * each complete job to its callback.  Everything here runs on the loop's
 * own thread; only the queue (loop->mu), the member table (members_mu, in
 * breaker.c) and the atomics are shared (engine_int.h).
 *
 * libcurl is driven through its multi_socket API over epoll rather than
 * curl_multi_perform + curl_multi_poll: one socket's readiness runs only
 * the transfers on that socket, and a member's answer is handed to
 * on_result as soon as its own socket has delivered it.  With perform,
 * every call walked all of a job's transfers, so the answers of a 73-member
 * job completed within one pass and reached the merge together, after the
 * last of them (docs/design/federation.md "Where the added latency went").
 */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/fed/engine_int.h"

/* ---- events: epoll, the wake eventfd, libcurl's socket and timer callbacks ---- */

void
fed_loop_wake(struct fed_loop *L)
{
    uint64_t one = 1;

    /* EAGAIN: the counter is saturated, the loop is awake anyway */
    if (L->wakefd >= 0 && write(L->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        BASE_LOG(BASE_LOG_WARN, "fed_wake", "errno=%d", errno);
}

/* libcurl tells which sockets to watch for what (CURLMOPT_SOCKETFUNCTION);
 * curl_multi_assign marks a socket as already in the epoll set. */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct fed_loop *L = userp;
    struct epoll_event ev = {0};

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        /* the socket may be closed already: then epoll dropped it itself */
        (void)epoll_ctl(L->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(L->multi, s, NULL);
        return 0;
    }
    ev.events = ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) |
                ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u);
    ev.data.fd = s;
    int op = socketp != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(L->epfd, op, s, &ev) != 0 &&
        epoll_ctl(L->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0) {
        /* the transfer then ends at its timeout, as a timeout */
        BASE_LOG(BASE_LOG_WARN, "fed_epoll", "errno=%d", errno);
        return 0;
    }
    if (socketp == NULL)
        curl_multi_assign(L->multi, s, L);
    return 0;
}

/* libcurl's single timer (CURLMOPT_TIMERFUNCTION): run the timeout action
 * at that moment; 0 ms means at the next turn. */
static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct fed_loop *L = userp;

    (void)multi;
    L->timer_us = timeout_ms < 0 ? -1 : fed_now_us() + (int64_t)timeout_ms * 1000;
    return 0;
}

int
fed_loop_init_events(struct fed_loop *L)
{
    struct epoll_event ev = {.events = EPOLLIN};

    L->timer_us = -1;
    L->epfd = epoll_create1(EPOLL_CLOEXEC);
    L->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev.data.fd = L->wakefd;
    if (L->epfd < 0 || L->wakefd < 0 || epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->wakefd, &ev) != 0 ||
        curl_multi_setopt(L->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(L->multi, CURLMOPT_SOCKETDATA, L) != CURLM_OK ||
        curl_multi_setopt(L->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
        curl_multi_setopt(L->multi, CURLMOPT_TIMERDATA, L) != CURLM_OK)
        return BASE_E_INTERNAL;
    return BASE_OK;
}

void
fed_loop_fini_events(struct fed_loop *L)
{
    if (L->epfd >= 0)
        close(L->epfd);
    if (L->wakefd >= 0)
        close(L->wakefd);
    L->epfd = L->wakefd = -1;
}

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
        fed_easy_forget(x->easy);
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
                fed_loop_wake(&e->loops[i]);
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
    if (x->easy == NULL && L->n_pool > 0)
        x->easy = L->pool[--L->n_pool];
    if (x->easy == NULL && (x->easy = curl_easy_init()) != NULL &&
        fed_easy_setup(L, x->easy) != BASE_OK) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        return BASE_E_INTERNAL;
    }
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

/* libcurl's timeout action when its timer is due (new transfers ask for
 * one at once), then what it finished. */
static void
run_timer(struct fed_loop *L)
{
    int running = 0;

    if (L->timer_us < 0 || L->timer_us > fed_now_us())
        return;
    L->timer_us = -1; /* the action sets the next one */
    curl_multi_socket_action(L->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_messages(L, fed_now_us());
}

/* Milliseconds until `next` or libcurl's timer, rounded up (0: now). */
static int
wait_ms(const struct fed_loop *L, int64_t next)
{
    int64_t at = L->timer_us >= 0 && L->timer_us < next ? L->timer_us : next;
    int64_t us = at - fed_now_us();

    return us <= 0 ? 0 : us >= 1000000 ? 1000 : (int)((us + 999) / 1000);
}

#define FED_EVENTS 64

/* Wait for sockets (or the timer, or a wake-up) and run the transfers of
 * each ready socket, draining what finished after each one: an answer is
 * final (and on_result runs) as soon as its own socket has delivered it. */
static void
wait_and_run(struct fed_loop *L, int64_t next)
{
    struct epoll_event ev[FED_EVENTS];
    int n = epoll_wait(L->epfd, ev, FED_EVENTS, wait_ms(L, next));

    for (int i = 0; i < n; i++) {
        int fd = ev[i].data.fd;
        int flags = 0;
        int running = 0;

        if (fd == L->wakefd) {
            uint64_t v;

            if (read(L->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                BASE_LOG(BASE_LOG_WARN, "fed_wake", "errno=%d", errno);
            continue;
        }
        if ((ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0)
            flags |= CURL_CSELECT_IN;
        if ((ev[i].events & EPOLLOUT) != 0)
            flags |= CURL_CSELECT_OUT;
        if ((ev[i].events & EPOLLERR) != 0)
            flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(L->multi, fd, flags, &running);
        drain_messages(L, fed_now_us());
    }
    run_timer(L);
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
        run_timer(L); /* transfers just added start now */
        int64_t next = expire(L, fed_now_us());
        if (L->pending_head != NULL) { /* slots freed above */
            start_pending(L);
            run_timer(L);
        }
        wait_and_run(L, next);
    }
    return NULL;
}
