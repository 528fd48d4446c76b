/*
 * A fixed-size connection pool shared by threads.
 *
 * Slots are opened lazily.  A borrow takes a free slot (preferring one with
 * an open connection), checks an idle connection is still alive without a
 * round trip (gw_db__alive), and otherwise opens a new one outside the lock.
 * When opening fails the pool remembers until when it should not try again
 * (exponential back-off), and borrows during that window fail at once: a
 * missing server makes requests fail fast (503) instead of piling up, and
 * the first borrow after the window reconnects, so the service recovers by
 * itself when PostgreSQL comes back.
 */
#include "gateway/db/gw_db.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "gateway/db/db_int.h"

struct gw_db_pool {
    struct gw_db_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t freed; /* a slot was released */
    unsigned size;
    struct gw_db_conn *slots;
    int64_t retry_at_ms; /* no connect attempt before this (0 = now) */
    unsigned backoff_ms; /* current back-off, 0 while healthy */
    struct gw_db_pool_stats st;
    char url[]; /* copy of cfg.url */
};

int
gw_db_pool_new(const struct gw_db_config *cfg, struct gw_db_pool **out, struct base_err *err)
{
    struct gw_db_pool *p;
    pthread_condattr_t ca;
    size_t ulen;

    *out = NULL;
    ENSURE(cfg != NULL && cfg->url != NULL, err, BASE_E_INVALID, "required", "database",
           "no database URL configured");
    ENSURE(cfg->pool_size >= 1 && cfg->pool_size <= BASE_LIMIT_DB_POOL_MAX, err, BASE_E_INVALID,
           "value", "database.pool_size", "pool size must be between 1 and %u",
           BASE_LIMIT_DB_POOL_MAX);
    TRY(gw_db_url_check(cfg->url, err));
    ulen = strlen(cfg->url);
    p = base_calloc(1, sizeof(*p) + ulen + 1);
    ENSURE(p != NULL, err, BASE_E_NOMEM, "exception", "database", "out of memory");
    p->slots = base_calloc(cfg->pool_size, sizeof(*p->slots));
    if (p->slots == NULL) {
        base_free(p);
        return base_err_set(err, BASE_E_NOMEM, "exception", "database", "out of memory");
    }
    memcpy(p->url, cfg->url, ulen + 1);
    p->cfg = *cfg;
    p->cfg.url = p->url;
    p->size = cfg->pool_size;
    for (unsigned i = 0; i < p->size; i++) {
        p->slots[i].pool = p;
        p->slots[i].cfg = &p->cfg;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    p->st.size = p->size;
    *out = p;
    return BASE_OK;
}

void
gw_db_pool_free(struct gw_db_pool *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->size; i++) {
        BASE_ASSERT(!p->slots[i].in_use);
        gw_db__close(&p->slots[i]);
    }
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    base_free(p->slots);
    base_free(p);
}

/* Under p->mu: a free slot, preferring an open connection; NULL if none. */
static struct gw_db_conn *
pick_slot(struct gw_db_pool *p)
{
    struct gw_db_conn *closed = NULL;

    for (unsigned i = 0; i < p->size; i++) {
        struct gw_db_conn *c = &p->slots[i];

        if (c->in_use)
            continue;
        if (c->pg != NULL)
            return c;
        if (closed == NULL)
            closed = c;
    }
    return closed;
}

static void
deadline_ts(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void
give_back(struct gw_db_pool *p, struct gw_db_conn *c)
{
    pthread_mutex_lock(&p->mu);
    c->in_use = false;
    p->st.borrowed--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

static int
open_slot(struct gw_db_pool *p, struct gw_db_conn *c, struct base_err *err)
{
    int64_t now = gw_db__now_ms();
    int rc;

    pthread_mutex_lock(&p->mu);
    if (p->retry_at_ms > now) {
        p->st.unavailable++;
        pthread_mutex_unlock(&p->mu);
        return base_err_set(err, BASE_E_IO, "transient", "db.connect",
                            "database unavailable (reconnecting)");
    }
    pthread_mutex_unlock(&p->mu);
    rc = gw_db__open(c, err);
    pthread_mutex_lock(&p->mu);
    if (rc == BASE_OK) {
        if (p->backoff_ms != 0)
            BASE_LOG(BASE_LOG_INFO, "db.reconnected", "after_backoff_ms=%u", p->backoff_ms);
        p->backoff_ms = 0;
        p->retry_at_ms = 0;
        p->st.reconnects++;
        p->st.open++;
    } else {
        p->backoff_ms = p->backoff_ms == 0 ? p->cfg.reconnect_min_ms : p->backoff_ms * 2;
        if (p->backoff_ms > p->cfg.reconnect_max_ms)
            p->backoff_ms = p->cfg.reconnect_max_ms;
        p->retry_at_ms = gw_db__now_ms() + p->backoff_ms;
        p->st.unavailable++;
        BASE_LOG(BASE_LOG_WARN, "db.unavailable", "retry_in_ms=%u", p->backoff_ms);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void
drop_conn(struct gw_db_pool *p, struct gw_db_conn *c)
{
    if (c->pg == NULL)
        return;
    gw_db__close(c);
    pthread_mutex_lock(&p->mu);
    p->st.open--;
    p->st.broken++;
    pthread_mutex_unlock(&p->mu);
}

int
gw_db_borrow(struct gw_db_pool *p, struct gw_db_conn **out, struct base_err *err)
{
    struct gw_db_conn *c;
    struct timespec until;
    int rc;

    *out = NULL;
    deadline_ts(&until, p->cfg.borrow_timeout_ms);
    pthread_mutex_lock(&p->mu);
    while ((c = pick_slot(p)) == NULL) {
        if (pthread_cond_timedwait(&p->freed, &p->mu, &until) != 0 && (c = pick_slot(p)) == NULL) {
            p->st.exhausted++;
            pthread_mutex_unlock(&p->mu);
            BASE_LOG(BASE_LOG_WARN, "db.pool_exhausted", "size=%u wait_ms=%u", p->size,
                     p->cfg.borrow_timeout_ms);
            return base_err_set(err, BASE_E_IO, "transient", "db.pool",
                                "database connection pool exhausted");
        }
    }
    c->in_use = true;
    p->st.borrowed++;
    pthread_mutex_unlock(&p->mu);

    if (c->pg != NULL && !gw_db__alive(c))
        drop_conn(p, c);
    if (c->pg == NULL) {
        rc = open_slot(p, c, err);
        if (rc != BASE_OK) {
            give_back(p, c);
            return rc;
        }
    }
    pthread_mutex_lock(&p->mu);
    p->st.borrows++;
    pthread_mutex_unlock(&p->mu);
    *out = c;
    return BASE_OK;
}

void
gw_db_release(struct gw_db_conn *c)
{
    struct base_err ignored = {0};
    struct gw_db_pool *p;

    if (c == NULL)
        return;
    p = c->pool;
    BASE_ASSERT(p != NULL && c->in_use);
    if (c->pg != NULL && !c->broken) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);

        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
            gw_db_rollback(c);
        else if (ts != PQTRANS_IDLE)
            c->broken = true;
    }
    if (c->pg != NULL && !c->broken && c->timeout_ms != p->cfg.statement_timeout_ms &&
        gw_db_conn_set_timeout(c, p->cfg.statement_timeout_ms, &ignored) != BASE_OK)
        c->broken = true;
    if (c->broken || (c->pg != NULL && PQstatus(c->pg) != CONNECTION_OK))
        drop_conn(p, c);
    give_back(p, c);
}

int
gw_db_pool_ping(struct gw_db_pool *p, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    int rc;

    TRY(gw_db_borrow(p, &c, err));
    rc = gw_db_exec(c, "db.ping", "SELECT 1", 0, NULL, NULL, err);
    gw_db_release(c);
    return rc;
}

void
gw_db_pool_stats(struct gw_db_pool *p, struct gw_db_pool_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
}
