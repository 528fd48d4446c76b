/*
 * Suspend and resume (MHD_ALLOW_SUSPEND_RESUME).
 *
 * MHD's rules: MHD_suspend_connection() only from the access handler;
 * MHD_resume_connection() from any thread, only on a suspended connection
 * of a running daemon; MHD_stop_daemon() with a connection still suspended
 * is a panic.  So: the state of each suspension is PENDING until either
 * its holder resumes it or shutdown cancels it, whichever comes first under
 * the suspension's lock, and only that transition calls
 * MHD_resume_connection().  While PENDING the daemon cannot be stopped
 * (stop waits until every suspension has been answered), so the call is
 * always on a live, suspended connection.  The pool thread then answers
 * (the holder's response, or 503 when cancelled) and takes the request off
 * the server's list.
 */
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http_int.h"

struct gw_http_async *
gw_http_suspend(struct gw_http_req *r)
{
    struct gw_http_server *s = r->srv;
    struct gw_http_async *a = &r->async;

    if (r->async_used || r->phase != GW_HTTP__PH_BODY)
        return NULL; /* only once, and only from a handler */
    if (!a->lock_ready) {
        if (pthread_mutex_init(&a->lock, NULL) != 0)
            return NULL;
        a->lock_ready = true;
    }
    pthread_mutex_lock(&s->async_lock);
    if (s->cancelling) {
        pthread_mutex_unlock(&s->async_lock);
        return NULL; /* shutting down: the handler answers 503 itself */
    }
    atomic_fetch_add(&r->refs, 1u); /* the holder's */
    a->state = GW_HTTP__ASYNC_PENDING;
    a->linked = true;
    a->prev = NULL;
    a->next = s->suspended;
    if (s->suspended != NULL)
        s->suspended->prev = a;
    s->suspended = a;
    r->async_used = true;
    r->phase = GW_HTTP__PH_SUSPENDED;
    atomic_fetch_add(&s->n_suspended, 1u);
    gw_http_metric_add(s->m_suspended, NULL, 1);
    /* under async_lock, so shutdown cannot resume it before it is suspended */
    (void)MHD_suspend_connection(r->conn);
    pthread_mutex_unlock(&s->async_lock);
    return a;
}

void
gw_http_resume(struct gw_http_async *a)
{
    struct gw_http_req *r;

    if (a == NULL)
        return;
    r = a->req;
    pthread_mutex_lock(&a->lock);
    if (a->state == GW_HTTP__ASYNC_PENDING) {
        a->state = GW_HTTP__ASYNC_RESUMED;
        MHD_resume_connection(r->conn);
    }
    pthread_mutex_unlock(&a->lock);
    gw_http__req_unref(r); /* the holder's reference */
}

bool
gw_http_async_cancelled(struct gw_http_async *a)
{
    bool c;

    pthread_mutex_lock(&a->lock);
    c = a->state == GW_HTTP__ASYNC_CANCELLED;
    pthread_mutex_unlock(&a->lock);
    return c;
}

void
gw_http_async_on_cancel(struct gw_http_async *a, void (*fn)(void *cls), void *cls)
{
    pthread_mutex_lock(&a->lock);
    a->on_cancel = fn;
    a->cancel_cls = cls;
    pthread_mutex_unlock(&a->lock);
}

/* Take a resumed request off the server's list, once: from the access handler's call
 * after the resume, or from the completed callback when the client had gone and MHD
 * never calls the handler again. */
void
gw_http__async_unlink(struct gw_http_req *r)
{
    struct gw_http_server *s = r->srv;
    struct gw_http_async *a = &r->async;
    bool was = false;

    pthread_mutex_lock(&s->async_lock);
    if (a->linked) {
        if (a->prev != NULL)
            a->prev->next = a->next;
        else
            s->suspended = a->next;
        if (a->next != NULL)
            a->next->prev = a->prev;
        a->prev = a->next = NULL;
        a->linked = false;
        was = true;
    }
    pthread_mutex_unlock(&s->async_lock);
    if (was) {
        atomic_fetch_sub(&s->n_suspended, 1u);
        gw_http_metric_add(s->m_suspended, NULL, -1);
    }
}

/* The access handler's call after a resume, on the connection's thread. */
enum MHD_Result
gw_http__async_answer(struct gw_http_req *r)
{
    struct gw_http_async *a = &r->async;
    int state;

    pthread_mutex_lock(&a->lock);
    state = a->state;
    pthread_mutex_unlock(&a->lock);
    if (state == GW_HTTP__ASYNC_PENDING)
        return MHD_YES; /* not ours to answer yet (never expected) */
    gw_http__async_unlink(r);
    if (state == GW_HTTP__ASYNC_CANCELLED)
        return gw_http__queue_unavailable(r);
    if (!r->resp.set) {
        BASE_LOG_REQ(BASE_LOG_ERROR, r->id, "http_no_response", "route=%s resumed",
                     r->match.route != NULL ? r->match.route->pattern : "-");
        return gw_http__queue(r, NULL);
    }
    return gw_http__queue(r, &r->resp);
}

struct cancel_call {
    struct gw_http_req *req;
    void (*fn)(void *cls);
    void *cls;
};

/* Cancel one suspension; returns true when it was still pending. */
static bool
cancel_one(struct gw_http_async *a, struct cancel_call *call)
{
    bool was_pending = false;

    pthread_mutex_lock(&a->lock);
    if (a->state == GW_HTTP__ASYNC_PENDING) {
        a->state = GW_HTTP__ASYNC_CANCELLED;
        MHD_resume_connection(a->req->conn);
        was_pending = true;
        call->fn = a->on_cancel;
        call->cls = a->cancel_cls;
        if (call->fn != NULL) {
            call->req = a->req;
            atomic_fetch_add(&a->req->refs, 1u); /* alive while the callback runs */
        }
    }
    pthread_mutex_unlock(&a->lock);
    return was_pending;
}

size_t
gw_http__async_cancel_all(struct gw_http_server *s)
{
    struct cancel_call *calls = NULL;
    size_t n = 0;
    size_t cancelled = 0;

    pthread_mutex_lock(&s->async_lock);
    s->cancelling = true;
    for (struct gw_http_async *a = s->suspended; a != NULL; a = a->next)
        n++;
    if (n > 0)
        calls = base_calloc(n, sizeof(*calls));
    n = 0;
    for (struct gw_http_async *a = s->suspended; a != NULL; a = a->next) {
        struct cancel_call one = {0};

        if (!cancel_one(a, calls != NULL ? &calls[n] : &one))
            continue;
        cancelled++;
        if (calls != NULL) {
            n++;
        } else if (one.req != NULL) {
            /* out of memory: the callback cannot be called outside the lock;
             * MHD's own reference keeps the request alive, so this is safe */
            BASE_LOG(BASE_LOG_WARN, "http_cancel_callback_skipped", "reason=nomem");
            gw_http__req_unref(one.req);
        }
    }
    pthread_mutex_unlock(&s->async_lock);
    /* callbacks outside every lock: they may call gw_http_resume() */
    for (size_t i = 0; i < n; i++) {
        if (calls[i].fn != NULL) {
            calls[i].fn(calls[i].cls);
            gw_http__req_unref(calls[i].req);
        }
    }
    base_free(calls);
    return cancelled;
}
