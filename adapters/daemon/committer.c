/*
 * The batch committer: one thread, one dedicated database connection.
 *
 * Jobs (converted messages, document Bundles, PACS studies) queue here from
 * every source.  The thread takes what is queued — waiting up to
 * batch_latency for a batch to fill after the first job arrives, at most
 * batch_max jobs — and applies it with adapter_store_apply_batch(): ONE
 * transaction, ONE commit (one fsync), each Bundle in its own savepoint
 * with its ledger row and its acknowledgement recorded before the commit.
 * Only after COMMIT returns are the jobs' done callbacks run, which is
 * where ACKs are released: a message whose ACK the sender saw is durable
 * (issue #3, "no ACK before the commit").  While one batch commits, the
 * next one accumulates, so the batch grows with the load (group commit).
 *
 * A batch that fails as a whole (connection lost, COMMIT failed) is retried
 * on a new connection for a few seconds — the ledger makes a retry of a
 * batch that did commit after all answer from the ledger instead of
 * applying it twice — and then failed: nothing of it is acknowledged as
 * accepted (AR / 503), and the senders retry.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"

#define RETRY_WINDOW_MS 5000u /* how long a failing batch is retried */

struct adapter_committer {
    struct adapter_daemon *d;
    pthread_mutex_t mu; /* guards the queue, n, draining, stop */
    pthread_cond_t cv;
    struct adapter_job *head;
    struct adapter_job *tail;
    size_t n;
    bool draining; /* no new jobs; commit what is queued, then stop */
    bool started;
    pthread_t th;
    struct gw_db_conn *conn; /* committer thread only */
};

int64_t
adapter__now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
deadline_after(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    ts->tv_sec += (time_t)(ms / 1000u) + ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

/* ------------------------------------------------------------ database -- */

static int
connect_db(struct adapter_committer *c, struct base_err *err)
{
    struct gw_db_config dc;

    if (c->conn != NULL && gw_db_conn_ok(c->conn))
        return BASE_OK;
    gw_db_conn_free(c->conn);
    c->conn = NULL;
    gw_db_config_defaults(&dc);
    dc.url = c->d->db_url;
    dc.application_name = "fhirgate-adapter-committer";
    dc.statement_timeout_ms = c->d->cfg->db_statement_timeout_ms;
    TRY(gw_db_connect(&dc, &c->conn, err));
    /* Durable whatever the server's default: an ACK promises the message
     * survives a crash. */
    return gw_db_exec(c->conn, "committer.durable",
                      "SELECT set_config('synchronous_commit', 'on', false)", 0, NULL, NULL, err);
}

/* The results live in the batch arena: copy what the job's owner reads
 * after the batch (entries and the acknowledgement) into the job's arena. */
static void
keep_result(struct adapter_job *j)
{
    struct adapter_store_result *r = &j->result;
    struct adapter_store_entry *e = NULL;

    if (r->ack != NULL)
        r->ack = base_arena_strdup(j->a, r->ack);
    if (r->n_entries > 0 && (e = BASE_NEW_N(j->a, struct adapter_store_entry, r->n_entries))) {
        for (size_t i = 0; i < r->n_entries; i++) {
            e[i] = r->entries[i];
            e[i].type = r->entries[i].type ? base_arena_strdup(j->a, r->entries[i].type) : NULL;
            e[i].id = r->entries[i].id ? base_arena_strdup(j->a, r->entries[i].id) : NULL;
        }
    }
    r->entries = e;
    if (e == NULL)
        r->n_entries = 0;
}

static int
apply_once(struct adapter_committer *c, struct adapter_job **jobs, size_t n, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_item *items;
    struct adapter_store_result *res;
    struct adapter_store_opts o = {c->d->cfg->public_url, 0};
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    items = BASE_NEW_N(a, struct adapter_store_item, n);
    res = BASE_NEW_N(a, struct adapter_store_result, n);
    rc = items == NULL || res == NULL
             ? base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory")
             : connect_db(c, err);
    for (size_t i = 0; rc == BASE_OK && i < n; i++)
        items[i] = jobs[i]->item;
    if (rc == BASE_OK)
        rc = adapter_store_apply_batch(gw_db_conn_pg(c->conn), a, &o, items, n, res, err);
    for (size_t i = 0; rc == BASE_OK && i < n; i++) {
        jobs[i]->result = res[i];
        keep_result(jobs[i]);
    }
    base_arena_free(a);
    return rc;
}

/* A broken connection is replaced and the batch tried again. */
static int
apply(struct adapter_committer *c, struct adapter_job **jobs, size_t n, struct base_err *err)
{
    struct timespec t0;
    struct timespec now;
    unsigned backoff = 50;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        base_err_clear(err);
        rc = apply_once(c, jobs, n, err);
        if (rc == BASE_OK || rc == BASE_E_NOMEM || rc == BASE_E_LIMIT)
            return rc;
        if (c->conn != NULL && gw_db_conn_ok(c->conn) && rc != BASE_E_IO)
            return rc;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
            RETRY_WINDOW_MS)
            return rc;
        BASE_LOG(BASE_LOG_WARN, "adapter.commit_retry", "messages=%zu rc=%s backoff_ms=%u", n,
                 base_rc_name(rc), backoff);
        gw_db_conn_free(c->conn);
        c->conn = NULL;
        nanosleep(&(struct timespec){0, (long)backoff * 1000000L}, NULL);
        backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
    }
}

/* ----------------------------------------------------------- the thread -- */

/* Take up to batch_max jobs; waits for the first and then up to
 * batch_latency for more.  Returns 0 when stopping with nothing queued. */
static size_t
take_batch(struct adapter_committer *c, struct adapter_job **out, size_t max)
{
    struct timespec until;
    size_t n = 0;

    pthread_mutex_lock(&c->mu);
    while (c->n == 0 && !c->draining)
        pthread_cond_wait(&c->cv, &c->mu);
    if (c->n > 0 && c->n < max && !c->draining && c->d->cfg->batch_latency_ms > 0) {
        deadline_after(&until, c->d->cfg->batch_latency_ms);
        while (c->n < max && !c->draining &&
               pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
            ;
    }
    while (n < max && c->head != NULL) {
        out[n++] = c->head;
        c->head = c->head->next;
        c->n--;
    }
    if (c->head == NULL)
        c->tail = NULL;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static void
finish(struct adapter_committer *c, struct adapter_job **jobs, size_t n, int rc,
       const struct base_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (rc != BASE_OK) {
            memset(&jobs[i]->result, 0, sizeof(jobs[i]->result));
            jobs[i]->result.rc = rc;
            jobs[i]->result.status = 503;
            jobs[i]->result.err = *err;
        }
        adapter__metrics_job(c->d, jobs[i], rc);
        jobs[i]->done(jobs[i], rc); /* may free the job */
    }
}

static void *
committer_main(void *arg)
{
    struct adapter_committer *c = arg;
    size_t max = c->d->cfg->batch_max;
    struct adapter_job **jobs = base_calloc(max, sizeof(*jobs));
    size_t n;

    if (jobs == NULL) {
        BASE_LOG(BASE_LOG_ERROR, "adapter.committer", "out of memory");
        return NULL;
    }
    while ((n = take_batch(c, jobs, max)) > 0) {
        struct base_err err = {0};
        int64_t t0 = adapter__now_us();
        int rc = apply(c, jobs, n, &err);

        if (rc != BASE_OK)
            BASE_LOG(BASE_LOG_ERROR, "adapter.commit_failed", "messages=%zu rc=%s where=%s", n,
                     base_rc_name(rc), err.where);
        gw_http_metric_observe(c->d->m.batch_size, NULL, (double)n);
        gw_http_metric_observe(c->d->m.commit_time, NULL, (double)(adapter__now_us() - t0) / 1e6);
        finish(c, jobs, n, rc, &err);
    }
    base_free(jobs);
    return NULL;
}

/* -------------------------------------------------------------- the API -- */

int
adapter__committer_new(struct adapter_daemon *d, struct adapter_committer **out,
                       struct base_err *err)
{
    struct adapter_committer *c = base_calloc(1, sizeof(*c));
    pthread_condattr_t ca;

    if (c == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    c->d = d;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* Connect now: a database that refuses us stops the start. */
    if (connect_db(c, err) != BASE_OK || pthread_create(&c->th, NULL, committer_main, c) != 0) {
        if (err->rc == BASE_OK)
            (void)base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "no committer thread");
        adapter__committer_free(c);
        return err->rc;
    }
    c->started = true;
    *out = c;
    return BASE_OK;
}

int
adapter__committer_submit(struct adapter_committer *c, struct adapter_job *j, struct base_err *err)
{
    int rc = BASE_OK;

    j->next = NULL;
    if (j->enqueued_us == 0)
        j->enqueued_us = adapter__now_us();
    pthread_mutex_lock(&c->mu);
    if (c->draining) {
        rc = base_err_set(err, BASE_E_IO, "transient", NULL, "the adapter is shutting down");
    } else if (c->n >= c->d->cfg->queue_max) {
        rc = base_err_set(err, BASE_E_LIMIT, "throttled", NULL,
                          "too many messages waiting for the store");
    } else {
        if (c->tail != NULL)
            c->tail->next = j;
        else
            c->head = j;
        c->tail = j;
        c->n++;
        if (c->n == 1 || c->n >= c->d->cfg->batch_max)
            pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

size_t
adapter__committer_queued(struct adapter_committer *c)
{
    size_t n;

    pthread_mutex_lock(&c->mu);
    n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void
adapter__committer_drain(struct adapter_committer *c)
{
    if (c == NULL || !c->started)
        return;
    pthread_mutex_lock(&c->mu);
    c->draining = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    c->started = false;
}

void
adapter__committer_free(struct adapter_committer *c)
{
    if (c == NULL)
        return;
    adapter__committer_drain(c);
    gw_db_conn_free(c->conn);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    base_free(c);
}

/* ------------------------------------------------------ waiting for one -- */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
};

static void
wake(struct adapter_job *j, int batch_rc)
{
    struct waiter *w = j->ctx;

    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->rc = batch_rc;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int
adapter__submit_wait(struct adapter_daemon *d, struct adapter_job *j, struct base_err *err)
{
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, BASE_OK};

    j->done = wake;
    j->ctx = &w;
    TRY(adapter__committer_submit(d->committer, j, err));
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    if (w.rc != BASE_OK)
        return base_err_set(err, w.rc, "transient", NULL, "the store is unavailable");
    return BASE_OK;
}
