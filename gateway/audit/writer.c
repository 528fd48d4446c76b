/*
 * The audit writer: group commit onto this node's hash chain.
 *
 * Request threads call gw_audit_append(), which validates and copies the
 * record into an entry of its own (so a caller that gives up after
 * append_timeout_ms leaves nothing dangling), queues it and waits.  One
 * writer thread takes everything queued (up to batch_max), and in ONE
 * transaction: locks the chain head row (SELECT … FOR UPDATE: the chain is
 * serialized even if two processes share a chain by mistake), computes
 * seq/prev_hash/hash for each row, inserts them with one multi-row INSERT,
 * moves the head, maybe signs a checkpoint, and commits with
 * synchronous_commit on.  Then it wakes every waiter of the batch with the
 * same outcome: all committed, or none (fail closed).  While it commits,
 * new rows queue up and form the next batch, so the number of commits per
 * second stays bounded by the disk while rows per commit grow with load.
 */
#include "gateway/audit/gw_audit.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"
#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

#define PER_ROW_PARAMS 19
#define SHARED_PARAMS  2

enum entry_state { ENTRY_QUEUED, ENTRY_INFLIGHT, ENTRY_DONE };

/* One queued row.  Lives in its own arena; freed by whoever drops the last
 * of its two references (the waiter and the writer). */
struct entry {
    struct base_arena *arena;
    struct entry *next;
    unsigned refs;
    enum entry_state state;
    /* the row, owned */
    const char *event_text;
    size_t event_len;
    const char *col[GW_AUDIT__NCOLS]; /* text values by canonical column */
    const char *entities_literal;     /* text[] literal or NULL */
    /* outcome, written by the writer */
    int rc;
    struct base_err err;
    struct gw_audit_receipt receipt;
    char prev[65];
};

struct gw_audit {
    struct gw_db_pool *pool;
    struct gw_audit_config cfg;
    char chain_id[BASE_LIMIT_AUDIT_MAX_FIELD + 1];
    char node[BASE_LIMIT_AUDIT_MAX_FIELD + 1];
    struct gw_audit_key *key;
    pthread_mutex_t mu;
    pthread_cond_t work; /* writer waits here */
    pthread_cond_t done; /* appenders and flush wait here */
    struct entry *head;
    struct entry *tail;
    unsigned queued;
    unsigned inflight;
    bool stopping;
    bool thread_started;
    pthread_t thread;
    struct gw_audit_stats st;
    /* writer thread only */
    struct entry **batch;
    int64_t rows_since_cp;
    int64_t last_cp_ms;
    int ensured_month;        /* months since year 0 known to have partitions */
    int64_t ensure_retry_ms;
    bool have_cached;
    int64_t cached_seq;
    char cached_hash[65];
};

void
gw_audit_config_defaults(struct gw_audit_config *c)
{
    memset(c, 0, sizeof(*c));
    c->queue_max = 8192;
    c->batch_max = 512;
    c->append_timeout_ms = 5000;
    c->checkpoint_rows = 1000;
    c->checkpoint_ms = 60000;
    c->partitions_ahead = 3;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
abs_deadline(struct timespec *ts, int64_t at_ms)
{
    ts->tv_sec = (time_t)(at_ms / 1000);
    ts->tv_nsec = (long)(at_ms % 1000) * 1000000L;
}

static int64_t
clock_now_us(const struct gw_audit *a)
{
    return a->cfg.clock_us != NULL ? a->cfg.clock_us() : gw_audit__now_us();
}

static int
month_index(int64_t us)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;

    gmtime_r(&s, &tm);
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

/* ------------------------------------------------------- partitions -- */

/* Keep partitions created ahead, in a small transaction of its own with a
 * short lock timeout: creating a partition locks the parent table, and must
 * neither stall other nodes' writes for long nor fail a batch. */
static void
ensure_partitions(struct gw_audit *a, struct gw_db_conn *c, bool force)
{
    struct base_err err = {0};
    int64_t now_us = clock_now_us(a);
    int month = month_index(now_us);
    char from[32];
    char months[16];
    const char *vals[2] = {from, months};
    int rc;

    if (!force && (month + 1 <= a->ensured_month || mono_ms() < a->ensure_retry_ms))
        return;
    gw_audit__format_time(now_us, from);
    snprintf(months, sizeof(months), "%u", a->cfg.partitions_ahead);
    rc = gw_db_begin(c, NULL, &err);
    if (rc == BASE_OK)
        rc = gw_db_set_local(c, "lock_timeout", "250ms", &err);
    if (rc == BASE_OK)
        rc = gw_db_exec(c, "audit.ensure_partitions",
                        "SELECT audit.ensure_partitions($1::timestamptz, $2::integer)", 2, vals,
                        NULL, &err);
    if (rc == BASE_OK)
        rc = gw_db_commit(c, &err);
    if (rc != BASE_OK) {
        gw_db_rollback(c);
        a->ensure_retry_ms = mono_ms() + 10000;
        BASE_LOG(BASE_LOG_WARN, "audit.partitions", "could not create partitions ahead: %s (%s)",
                 err.msg, err.log_detail);
        return;
    }
    a->ensured_month = month + (int)a->cfg.partitions_ahead - 1;
}

/* ------------------------------------------------------------ batch -- */

static const struct gw_db_stmt stmt_head = {
    "audit.head",
    "SELECT last_seq, last_hash, " GW_AUDIT__TIME_SQL(
        "greatest(coalesce($2::timestamptz, clock_timestamp()), last_recorded)") ", "
    "set_config('synchronous_commit', 'on', true) "
    "FROM audit.chain WHERE chain_id = $1 FOR UPDATE",
    2};
static const struct gw_db_stmt stmt_chain_init = {
    "audit.chain_init", "INSERT INTO audit.chain (chain_id) VALUES ($1) ON CONFLICT DO NOTHING",
    1};
static const struct gw_db_stmt stmt_head_move = {
    "audit.head_move",
    "UPDATE audit.chain SET last_seq = $2::bigint, last_hash = $3, "
    "last_recorded = $4::timestamptz WHERE chain_id = $1",
    4};

struct head {
    int64_t seq;
    char hash[65];
    char recorded[32];
};

static int
lock_head(struct gw_audit *a, struct gw_db_conn *c, struct head *h, struct base_err *err)
{
    char clock_text[32];
    const char *vals[2] = {a->chain_id, NULL};
    PGresult *res = NULL;
    int rc;

    if (a->cfg.clock_us != NULL) {
        gw_audit__format_time(a->cfg.clock_us(), clock_text);
        vals[1] = clock_text;
    }
    TRY(gw_db_exec_stmt(c, &stmt_head, vals, &res, err));
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = NULL;
        TRY(gw_db_exec_stmt(c, &stmt_chain_init, vals, NULL, err));
        TRY(gw_db_exec_stmt(c, &stmt_head, vals, &res, err));
    }
    rc = BASE_OK;
    if (PQntuples(res) != 1 || !gw_db_val_i64(res, 0, 0, &h->seq) ||
        strlen(PQgetvalue(res, 0, 1)) != 64 || strlen(PQgetvalue(res, 0, 2)) >= sizeof(h->recorded))
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.head",
                          "audit chain head is unreadable");
    if (rc == BASE_OK) {
        snprintf(h->hash, sizeof(h->hash), "%s", PQgetvalue(res, 0, 1));
        snprintf(h->recorded, sizeof(h->recorded), "%s", PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

/* Number the rows of the batch and hash each onto the previous one. */
static int
chain_rows(struct gw_audit *a, struct entry **b, unsigned n, const struct head *h,
           struct base_err *err)
{
    const char *prev = h->hash;

    for (unsigned i = 0; i < n; i++) {
        struct entry *e = b[i];
        struct gw_audit__canon cn;

        e->receipt.seq = h->seq + 1 + i;
        snprintf(e->receipt.recorded, sizeof(e->receipt.recorded), "%s", h->recorded);
        snprintf(e->prev, sizeof(e->prev), "%s", prev);
        for (int k = 0; k < GW_AUDIT__NCOLS; k++)
            gw_audit__canon_set(&cn, (enum gw_audit__col)k, e->col[k]);
        {
            char seq[24];

            snprintf(seq, sizeof(seq), "%" PRId64, e->receipt.seq);
            gw_audit__canon_set(&cn, GW_AUDIT__CHAIN, a->chain_id);
            gw_audit__canon_set(&cn, GW_AUDIT__SEQ, seq);
            gw_audit__canon_set(&cn, GW_AUDIT__RECORDED, e->receipt.recorded);
            gw_audit__canon_set(&cn, GW_AUDIT__PREV, e->prev);
            cn.v[GW_AUDIT__EVENT] = e->event_text;
            cn.len[GW_AUDIT__EVENT] = e->event_len;
            if (gw_audit__row_hash(&cn, e->receipt.hash) != BASE_OK)
                return base_err_set(err, BASE_E_INTERNAL, "exception", "audit.hash",
                                    "could not hash the audit row");
        }
        prev = e->receipt.hash;
    }
    return BASE_OK;
}

static int
insert_rows(struct gw_audit *a, struct gw_db_conn *c, struct entry **b, unsigned n,
            const char *recorded, struct base_err *err)
{
    static const char cols[] =
        "INSERT INTO audit.event (chain_id, recorded_at, seq, event, event_text, action, subtype, "
        "outcome, http_status, agent_user, agent_role, agent_org, patient_ref, entities, purpose, "
        "break_glass, reason, request_id, node, client_addr, prev_hash, hash) VALUES ";
    size_t nvals = SHARED_PARAMS + (size_t)n * PER_ROW_PARAMS;
    const char **vals = base_calloc(nvals, sizeof(*vals));
    char (*seqs)[24] = base_calloc(n, sizeof(*seqs));
    struct base_buf sql;
    int rc = BASE_OK;

    base_buf_init(&sql, 0);
    if (vals == NULL || seqs == NULL) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "audit.insert", "out of memory");
        goto out;
    }
    vals[0] = a->chain_id;
    vals[1] = recorded;
    rc = base_buf_append(&sql, cols, sizeof(cols) - 1);
    for (unsigned i = 0; i < n && rc == BASE_OK; i++) {
        const struct entry *e = b[i];
        const char **v = vals + SHARED_PARAMS + (size_t)i * PER_ROW_PARAMS;
        unsigned p = SHARED_PARAMS + i * PER_ROW_PARAMS + 1; /* $p = v[0] */

        snprintf(seqs[i], sizeof(seqs[i]), "%" PRId64, e->receipt.seq);
        v[0] = seqs[i];
        v[1] = e->event_text;
        v[2] = e->col[GW_AUDIT__ACTION];
        v[3] = e->col[GW_AUDIT__SUBTYPE];
        v[4] = e->col[GW_AUDIT__OUTCOME];
        v[5] = e->col[GW_AUDIT__STATUS];
        v[6] = e->col[GW_AUDIT__USER];
        v[7] = e->col[GW_AUDIT__ROLE];
        v[8] = e->col[GW_AUDIT__ORG];
        v[9] = e->col[GW_AUDIT__PATIENT];
        v[10] = e->entities_literal;
        v[11] = e->col[GW_AUDIT__PURPOSE];
        v[12] = e->col[GW_AUDIT__BREAK_GLASS];
        v[13] = e->col[GW_AUDIT__REASON];
        v[14] = e->col[GW_AUDIT__REQUEST];
        v[15] = e->col[GW_AUDIT__NODE];
        v[16] = e->col[GW_AUDIT__CLIENT];
        v[17] = e->prev;
        v[18] = e->receipt.hash;
        rc = base_buf_appendf(
            &sql,
            "%s($1, $2::timestamptz, $%u::bigint, $%u::text::jsonb, $%u::text, $%u, $%u, $%u, "
            "$%u::integer, $%u, $%u, $%u, $%u, $%u::text[], $%u, $%u::boolean, $%u, $%u, $%u, "
            "$%u, $%u, $%u)",
            i > 0 ? "," : "", p, p + 1, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8,
            p + 9, p + 10, p + 11, p + 12, p + 13, p + 14, p + 15, p + 16, p + 17, p + 18);
    }
    if (rc != BASE_OK) {
        rc = base_err_set(err, rc, "exception", "audit.insert", "could not build the insert");
        goto out;
    }
    rc = gw_db_exec(c, "audit.insert", sql.data, (int)nvals, vals, NULL, err);
out:
    base_buf_fini(&sql);
    base_free(vals);
    base_free(seqs);
    return rc;
}

static bool
checkpoint_due(const struct gw_audit *a, unsigned more_rows)
{
    if (a->key == NULL || a->rows_since_cp + more_rows == 0)
        return false;
    return a->rows_since_cp + more_rows >= a->cfg.checkpoint_rows ||
           mono_ms() - a->last_cp_ms >= a->cfg.checkpoint_ms;
}

/* After the commit of a checkpoint (writer thread). */
static void
checkpoint_signed(struct gw_audit *a)
{
    a->rows_since_cp = 0;
    a->last_cp_ms = mono_ms();
    pthread_mutex_lock(&a->mu);
    a->st.checkpoints++;
    pthread_mutex_unlock(&a->mu);
}

static int
sign_checkpoint(struct gw_audit *a, struct gw_db_conn *c, int64_t seq, const char *hash,
                const char *row_time, const char *kind, struct base_err *err)
{
    struct gw_audit__cp cp = {a->chain_id, seq, hash, row_time, NULL, kind, NULL};

    return gw_audit__insert_checkpoint(c, a->key, &cp, err);
}

static int
write_tx(struct gw_audit *a, struct gw_db_conn *c, struct entry **b, unsigned n, bool *signed_cp,
         struct base_err *err)
{
    struct head h;
    char seq[24];
    const char *mv[4];
    const struct entry *last = b[n - 1];
    int rc;

    *signed_cp = false;
    TRY(gw_db_begin(c, NULL, err));
    TRY(lock_head(a, c, &h, err));
    if (a->have_cached && (h.seq != a->cached_seq || strcmp(h.hash, a->cached_hash) != 0))
        BASE_LOG(BASE_LOG_ERROR, "audit.chain_moved",
                 "chain head changed outside this writer: expected seq %" PRId64
                 " found %" PRId64 " (another process on the same chain, or tampering)",
                 a->cached_seq, h.seq);
    TRY(chain_rows(a, b, n, &h, err));
    TRY(insert_rows(a, c, b, n, h.recorded, err));
    snprintf(seq, sizeof(seq), "%" PRId64, last->receipt.seq);
    mv[0] = a->chain_id;
    mv[1] = seq;
    mv[2] = last->receipt.hash;
    mv[3] = last->receipt.recorded;
    TRY(gw_db_exec_stmt(c, &stmt_head_move, mv, NULL, err));
    if (checkpoint_due(a, n)) {
        rc = sign_checkpoint(a, c, last->receipt.seq, last->receipt.hash, last->receipt.recorded,
                             "interval", err);
        if (rc != BASE_OK)
            return rc;
        *signed_cp = true;
    }
    return gw_db_commit(c, err);
}

static int
write_batch(struct gw_audit *a, struct entry **b, unsigned n, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    bool signed_cp = false;
    int rc;

    TRY(gw_db_borrow(a->pool, &c, err));
    ensure_partitions(a, c, false);
    rc = write_tx(a, c, b, n, &signed_cp, err);
    if (rc != BASE_OK && gw_db_conn_ok(c) && strcmp(gw_db_conn_sqlstate(c), "23514") == 0) {
        /* no partition for these rows (clock ran past the horizon): make
         * them and try once more */
        gw_db_rollback(c);
        ensure_partitions(a, c, true);
        base_err_clear(err);
        rc = write_tx(a, c, b, n, &signed_cp, err);
    }
    if (rc != BASE_OK) {
        gw_db_rollback(c);
        a->have_cached = false;
    } else {
        const struct entry *last = b[n - 1];

        a->have_cached = true;
        a->cached_seq = last->receipt.seq;
        snprintf(a->cached_hash, sizeof(a->cached_hash), "%s", last->receipt.hash);
        a->rows_since_cp += n;
        if (signed_cp)
            checkpoint_signed(a);
    }
    gw_db_release(c);
    return rc;
}

/* A checkpoint while idle: rows were written since the last one and
 * checkpoint_ms has passed (or the writer is stopping). */
static int
checkpoint_only(struct gw_audit *a, const char *kind, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    struct head h;
    PGresult *res = NULL;
    const char *vals[1] = {a->chain_id};
    int rc;

    TRY(gw_db_borrow(a->pool, &c, err));
    rc = gw_db_begin(c, NULL, err);
    if (rc == BASE_OK)
        rc = gw_db_exec(c, "audit.head_read",
                        "SELECT last_seq, last_hash, " GW_AUDIT__TIME_SQL("last_recorded")
                        " FROM audit.chain WHERE chain_id = $1 FOR UPDATE",
                        1, vals, &res, err);
    if (rc == BASE_OK && (PQntuples(res) != 1 || !gw_db_val_i64(res, 0, 0, &h.seq)))
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.head",
                          "audit chain head is unreadable");
    if (rc == BASE_OK && h.seq > 0)
        rc = sign_checkpoint(a, c, h.seq, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), kind, err);
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    PQclear(res);
    gw_db_release(c);
    if (rc == BASE_OK)
        checkpoint_signed(a);
    return rc;
}

/* ----------------------------------------------------------- thread -- */

static void
entry_unref(struct entry *e)
{
    /* called with a->mu held */
    if (--e->refs == 0)
        base_arena_free(e->arena);
}

static unsigned
take_batch(struct gw_audit *a)
{
    unsigned n = 0;

    while (a->head != NULL && n < a->cfg.batch_max) {
        struct entry *e = a->head;

        a->head = e->next;
        e->next = NULL;
        e->state = ENTRY_INFLIGHT;
        a->batch[n++] = e;
    }
    if (a->head == NULL)
        a->tail = NULL;
    a->queued -= n;
    a->inflight = n;
    return n;
}

static void
finish_batch(struct gw_audit *a, unsigned n, int rc, const struct base_err *err)
{
    for (unsigned i = 0; i < n; i++) {
        struct entry *e = a->batch[i];

        e->rc = rc;
        if (rc != BASE_OK)
            e->err = *err;
        e->state = ENTRY_DONE;
        entry_unref(e);
    }
    if (rc == BASE_OK) {
        a->st.appended += n;
        a->st.batches++;
        if (n > a->st.max_batch)
            a->st.max_batch = n;
    } else {
        a->st.failed += n;
    }
    a->inflight = 0;
    pthread_cond_broadcast(&a->done);
}

static void *
writer_main(void *arg)
{
    struct gw_audit *a = arg;

    pthread_mutex_lock(&a->mu);
    for (;;) {
        struct base_err err = {0};
        unsigned n;
        int rc;

        while (a->head == NULL && !a->stopping) {
            /* rows not yet covered by a checkpoint: wake up when it is due */
            if (a->key != NULL && a->rows_since_cp > 0) {
                struct timespec until;

                abs_deadline(&until, a->last_cp_ms + a->cfg.checkpoint_ms);
                if (mono_ms() >= a->last_cp_ms + a->cfg.checkpoint_ms ||
                    pthread_cond_timedwait(&a->work, &a->mu, &until) != 0)
                    break;
            } else {
                pthread_cond_wait(&a->work, &a->mu);
            }
        }
        if (a->head == NULL) {
            if (a->stopping)
                break;
            pthread_mutex_unlock(&a->mu);
            if (checkpoint_only(a, "interval", &err) != BASE_OK) {
                BASE_LOG(BASE_LOG_WARN, "audit.checkpoint", "could not sign a checkpoint: %s (%s)",
                         err.msg, err.log_detail);
                a->last_cp_ms = mono_ms(); /* retry after another interval */
            }
            pthread_mutex_lock(&a->mu);
            continue;
        }
        n = take_batch(a);
        pthread_mutex_unlock(&a->mu);
        rc = write_batch(a, a->batch, n, &err);
        if (rc != BASE_OK)
            BASE_LOG(BASE_LOG_ERROR, "audit.write_failed", "rows=%u where=%s msg=%s detail=%s", n,
                     err.where, err.msg, err.log_detail);
        pthread_mutex_lock(&a->mu);
        finish_batch(a, n, rc, &err);
    }
    pthread_mutex_unlock(&a->mu);
    if (a->key != NULL && a->rows_since_cp > 0) {
        struct base_err err = {0};

        if (checkpoint_only(a, "shutdown", &err) != BASE_OK)
            BASE_LOG(BASE_LOG_WARN, "audit.checkpoint", "could not sign the last checkpoint: %s",
                     err.msg);
    }
    return NULL;
}

/* --------------------------------------------------------------- api -- */

int
gw_audit_new(struct gw_db_pool *pool, const struct gw_audit_config *cfg, struct gw_audit **out,
             struct base_err *err)
{
    struct gw_audit *a;
    pthread_condattr_t ca;
    struct gw_db_conn *c = NULL;
    struct base_err soft = {0};
    int rc;

    *out = NULL;
    ENSURE(cfg != NULL && cfg->chain_id != NULL && cfg->chain_id[0] != '\0' &&
               strlen(cfg->chain_id) < sizeof(a->chain_id) &&
               base_utf8_valid(cfg->chain_id, strlen(cfg->chain_id), NULL),
           err, BASE_E_INVALID, "required", "audit.chain_id", "audit chain id is required");
    ENSURE(cfg->batch_max >= 1 && cfg->batch_max <= BASE_LIMIT_AUDIT_MAX_BATCH, err,
           BASE_E_INVALID, "value", "audit.batch_max", "batch size must be 1..%u",
           BASE_LIMIT_AUDIT_MAX_BATCH);
    ENSURE(cfg->queue_max >= 1 && cfg->queue_max <= BASE_LIMIT_AUDIT_MAX_QUEUE, err,
           BASE_E_INVALID, "value", "audit.queue_max", "queue size must be 1..%u",
           BASE_LIMIT_AUDIT_MAX_QUEUE);
    ENSURE(cfg->partitions_ahead >= 2 && cfg->partitions_ahead <= 24, err, BASE_E_INVALID, "value",
           "audit.partitions_ahead", "partitions ahead must be 2..24");
    ENSURE(cfg->checkpoint_rows >= 1 && cfg->checkpoint_ms >= 1, err, BASE_E_INVALID, "value",
           "audit.checkpoint", "checkpoint interval must be positive");
    ENSURE(cfg->node == NULL || strlen(cfg->node) < sizeof(a->node), err, BASE_E_INVALID, "value",
           "audit.node", "node name is too long");
    a = base_calloc(1, sizeof(*a));
    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    a->batch = base_calloc(cfg->batch_max, sizeof(*a->batch));
    if (a->batch == NULL) {
        base_free(a);
        return base_err_set(err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    }
    a->pool = pool;
    a->cfg = *cfg;
    snprintf(a->chain_id, sizeof(a->chain_id), "%s", cfg->chain_id);
    snprintf(a->node, sizeof(a->node), "%s", cfg->node != NULL ? cfg->node : cfg->chain_id);
    a->cfg.chain_id = a->chain_id;
    a->cfg.node = a->node;
    a->cfg.signing_key = NULL;
    a->last_cp_ms = mono_ms();
    if (cfg->signing_key != NULL) {
        rc = gw_audit_key_load_private(cfg->signing_key, &a->key, err);
        if (rc != BASE_OK) {
            base_free(a->batch);
            base_free(a);
            return rc;
        }
    } else {
        BASE_LOG(BASE_LOG_WARN, "audit.no_signing_key",
                 "no audit signing key configured: checkpoints are not signed");
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->work, &ca);
    pthread_cond_init(&a->done, &ca);
    pthread_condattr_destroy(&ca);

    /* Best effort: the database may be down now and come up later. */
    if (gw_db_borrow(pool, &c, &soft) == BASE_OK) {
        ensure_partitions(a, c, true);
        if (a->key != NULL && gw_audit__register_key(c, a->key, &soft) != BASE_OK)
            BASE_LOG(BASE_LOG_WARN, "audit.register_key", "could not record the public key: %s",
                     soft.msg);
        gw_db_release(c);
    } else {
        BASE_LOG(BASE_LOG_WARN, "audit.start", "database not reachable yet: %s", soft.msg);
    }
    if (pthread_create(&a->thread, NULL, writer_main, a) != 0) {
        gw_audit_free(a);
        return base_err_set(err, BASE_E_INTERNAL, "exception", "audit",
                            "could not start the audit writer");
    }
    a->thread_started = true;
    *out = a;
    return BASE_OK;
}

void
gw_audit_free(struct gw_audit *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_cond_broadcast(&a->work);
    pthread_mutex_unlock(&a->mu);
    if (a->thread_started)
        pthread_join(a->thread, NULL);
    /* entries still queued were drained by the writer before it stopped */
    pthread_cond_destroy(&a->work);
    pthread_cond_destroy(&a->done);
    pthread_mutex_destroy(&a->mu);
    gw_audit_key_free(a->key);
    base_free(a->batch);
    base_free(a);
}

/* --------------------------------------------------------- building -- */

static int
copy_field(struct entry *e, enum gw_audit__col col, const char *v, const char *where,
           struct base_err *err)
{
    size_t n;

    if (v == NULL)
        return BASE_OK;
    n = strnlen(v, BASE_LIMIT_AUDIT_MAX_FIELD + 1);
    ENSURE(n <= BASE_LIMIT_AUDIT_MAX_FIELD, err, BASE_E_LIMIT, "too-long", where,
           "audit field exceeds %u bytes", BASE_LIMIT_AUDIT_MAX_FIELD);
    ENSURE(base_utf8_valid(v, n, NULL), err, BASE_E_INVALID, "value", where,
           "audit field is not valid UTF-8");
    e->col[col] = base_arena_strndup(e->arena, v, n);
    ENSURE(e->col[col] != NULL, err, BASE_E_NOMEM, "exception", where, "out of memory");
    return BASE_OK;
}

static int
canonical_event(struct entry *e, const struct gw_audit_record *rec, struct base_err *err)
{
    json_t *parsed = NULL;
    const json_t *ev = rec->event;
    struct base_buf out;
    int rc;

    if (ev == NULL) {
        struct fhir_json_limits lim = fhir_json_limits_default();

        ENSURE(rec->event_json != NULL, err, BASE_E_INVALID, "required", "AuditEvent",
               "no AuditEvent given");
        lim.max_doc = BASE_LIMIT_AUDIT_MAX_EVENT;
        TRY(fhir_json_parse(rec->event_json, rec->event_len, &lim, &parsed, err));
        ev = parsed;
    }
    rc = BASE_OK;
    if (!json_is_object(ev) ||
        !base_str_eq_cstr(fhir_json_str(json_object_get(ev, "resourceType")), "AuditEvent"))
        rc = base_err_set(err, BASE_E_INVALID, "invalid", "AuditEvent.resourceType",
                          "not an AuditEvent");
    base_buf_init(&out, BASE_LIMIT_AUDIT_MAX_EVENT);
    /* Sorted keys, no whitespace, decimals verbatim: the same event always
     * gives the same text, and PostgreSQL's jsonb accepts it. */
    if (rc == BASE_OK && (rc = fhir_json_dump(ev, FHIR_JSON_SORT_KEYS, &out, err)) != BASE_OK)
        base_err_set(err, rc, "too-long", "AuditEvent", "AuditEvent exceeds %u bytes",
                     BASE_LIMIT_AUDIT_MAX_EVENT);
    if (rc == BASE_OK) {
        e->event_text = base_buf_dup0(&out, e->arena);
        e->event_len = out.len;
        if (e->event_text == NULL)
            rc = base_err_set(err, BASE_E_NOMEM, "exception", "AuditEvent", "out of memory");
    }
    base_buf_fini(&out);
    json_decref(parsed);
    return rc;
}

static int
build_entities(struct entry *e, const struct gw_audit_record *rec, struct base_err *err)
{
    struct base_buf canon;
    struct base_buf lit;
    int rc = BASE_OK;

    if (rec->entities == NULL || rec->entity_count == 0)
        return BASE_OK;
    ENSURE(rec->entity_count <= BASE_LIMIT_AUDIT_MAX_ENTITIES, err, BASE_E_LIMIT, "too-costly",
           "audit.entities", "more than %u entities", BASE_LIMIT_AUDIT_MAX_ENTITIES);
    for (size_t i = 0; i < rec->entity_count; i++) {
        const char *v = rec->entities[i];
        size_t n = v != NULL ? strnlen(v, BASE_LIMIT_AUDIT_MAX_FIELD + 1) : 0;

        ENSURE(v != NULL && n <= BASE_LIMIT_AUDIT_MAX_FIELD && base_utf8_valid(v, n, NULL), err,
               BASE_E_INVALID, "value", "audit.entities", "entity %zu is missing, too long or not UTF-8", i);
    }
    base_buf_init(&canon, 0);
    base_buf_init(&lit, 0);
    if (gw_audit__entities_canon(rec->entities, rec->entity_count, &canon) != BASE_OK ||
        gw_audit__entities_literal(rec->entities, rec->entity_count, &lit) != BASE_OK ||
        (e->col[GW_AUDIT__ENTITIES] = base_buf_dup0(&canon, e->arena)) == NULL ||
        (e->entities_literal = base_buf_dup0(&lit, e->arena)) == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "audit.entities", "out of memory");
    base_buf_fini(&canon);
    base_buf_fini(&lit);
    return rc;
}

static int
build_entry(struct gw_audit *a, const struct gw_audit_record *rec, struct entry **out,
            struct base_err *err)
{
    struct base_arena *arena = base_arena_new(0);
    struct entry *e;
    char status[16];
    int rc;

    *out = NULL;
    ENSURE(arena != NULL, err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    e = BASE_NEW(arena, struct entry);
    if (e == NULL) {
        base_arena_free(arena);
        return base_err_set(err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    }
    e->arena = arena;
    snprintf(status, sizeof(status), "%d", rec->http_status);
    rc = canonical_event(e, rec, err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__ACTION, rec->action, "audit.action", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__SUBTYPE, rec->subtype, "audit.subtype", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__OUTCOME, rec->outcome, "audit.outcome", err);
    if (rc == BASE_OK && rec->http_status != 0)
        rc = copy_field(e, GW_AUDIT__STATUS, status, "audit.http_status", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__USER, rec->agent_user, "audit.agent_user", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__ROLE, rec->agent_role, "audit.agent_role", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__ORG, rec->agent_org, "audit.agent_org", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__PATIENT, rec->patient_ref, "audit.patient_ref", err);
    if (rc == BASE_OK)
        rc = build_entities(e, rec, err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__PURPOSE, rec->purpose, "audit.purpose", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__BREAK_GLASS, rec->break_glass ? "true" : "false",
                        "audit.break_glass", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__REASON, rec->reason, "audit.reason", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__REQUEST, rec->request_id, "audit.request_id", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__NODE, rec->node != NULL ? rec->node : a->node, "audit.node",
                        err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__CLIENT, rec->client_addr, "audit.client_addr", err);
    if (rc != BASE_OK) {
        base_arena_free(arena);
        return rc;
    }
    *out = e;
    return BASE_OK;
}

#ifdef FHIRGATE_BENCH_NOOP_AUDIT
/* The `bench` build variant: audit writes replaced by nothing, only to
 * measure what auditing costs (issue #6 benchmark).  Never shipped. */
int
gw_audit_append(struct gw_audit *a, const struct gw_audit_record *rec,
                struct gw_audit_receipt *out, struct base_err *err)
{
    (void)a;
    (void)rec;
    (void)err;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    return BASE_OK;
}
#else
static void
unlink_queued(struct gw_audit *a, struct entry *e)
{
    struct entry **pp = &a->head;
    struct entry *prev = NULL;

    while (*pp != NULL && *pp != e) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp != e)
        return;
    *pp = e->next;
    if (a->tail == e)
        a->tail = prev;
    a->queued--;
}

int
gw_audit_append(struct gw_audit *a, const struct gw_audit_record *rec,
                struct gw_audit_receipt *out, struct base_err *err)
{
    struct entry *e = NULL;
    struct timespec until;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    rc = build_entry(a, rec, &e, err);
    if (rc != BASE_OK) {
        pthread_mutex_lock(&a->mu);
        a->st.rejected++;
        pthread_mutex_unlock(&a->mu);
        return rc;
    }
    abs_deadline(&until, mono_ms() + a->cfg.append_timeout_ms);
    pthread_mutex_lock(&a->mu);
    if (a->stopping || a->queued >= a->cfg.queue_max) {
        a->st.rejected++;
        pthread_mutex_unlock(&a->mu);
        base_arena_free(e->arena);
        return base_err_set(err, BASE_E_IO, "transient", "audit",
                            a->stopping ? "audit trail is shutting down" : "audit queue is full");
    }
    e->refs = 2;
    e->state = ENTRY_QUEUED;
    if (a->tail != NULL)
        a->tail->next = e;
    else
        a->head = e;
    a->tail = e;
    a->queued++;
    pthread_cond_signal(&a->work);
    while (e->state != ENTRY_DONE) {
        if (pthread_cond_timedwait(&a->done, &a->mu, &until) == 0 || e->state == ENTRY_DONE)
            continue;
        /* Waited too long: give up.  A row still queued is withdrawn; one
         * being written may still commit (the request fails anyway: an
         * extra audit row is harmless, a missing one is not). */
        if (e->state == ENTRY_QUEUED) {
            unlink_queued(a, e);
            e->refs--;
        }
        a->st.failed++;
        entry_unref(e);
        pthread_mutex_unlock(&a->mu);
        return base_err_set(err, BASE_E_IO, "timeout", "audit",
                            "audit record was not committed in time");
    }
    rc = e->rc;
    if (rc == BASE_OK && out != NULL)
        *out = e->receipt;
    if (rc != BASE_OK && err != NULL && err->rc == 0)
        *err = e->err;
    entry_unref(e);
    pthread_mutex_unlock(&a->mu);
    return rc;
}
#endif

int
gw_audit_flush(struct gw_audit *a, unsigned timeout_ms, struct base_err *err)
{
    struct timespec until;

    abs_deadline(&until, mono_ms() + timeout_ms);
    pthread_mutex_lock(&a->mu);
    while (a->queued > 0 || a->inflight > 0) {
        if (pthread_cond_timedwait(&a->done, &a->mu, &until) != 0 &&
            (a->queued > 0 || a->inflight > 0)) {
            pthread_mutex_unlock(&a->mu);
            return base_err_set(err, BASE_E_IO, "timeout", "audit",
                                "audit queue did not drain in time");
        }
    }
    pthread_mutex_unlock(&a->mu);
    return BASE_OK;
}

void
gw_audit_stats(struct gw_audit *a, struct gw_audit_stats *out)
{
    pthread_mutex_lock(&a->mu);
    *out = a->st;
    out->queued = a->queued;
    pthread_mutex_unlock(&a->mu);
}
