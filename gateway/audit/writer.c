/*
 * The audit writers: group commit onto hash chains.
 *
 * Each writer thread owns one chain (the node's chain id, or "ID/k" when a
 * node runs several writers) and loops: take everything queued (up to
 * batch_max), then in ONE transaction lock the chain head row (SELECT … FOR
 * UPDATE — so even two processes given the same chain by mistake stay
 * serialized), compute seq/prev_hash/hash for each row, insert them with
 * one multi-row INSERT that also moves the head, maybe sign a checkpoint,
 * and commit with synchronous_commit on.  Every waiter of the batch then
 * gets the same outcome: all committed, or none (fail closed).
 *
 * While one writer waits for its commit to reach the disk, new rows queue
 * up for the next batch — or for another writer, which is why a node runs
 * more than one: their transactions overlap in the server (CPU for one,
 * WAL flush for the other) instead of taking turns.
 */
#include "gateway/audit/gw_audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/log.h"
#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

#define PER_ROW_PARAMS 19
#define SHARED_PARAMS  4

int64_t
gw_audit__mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
gw_audit__abs_deadline(struct timespec *ts, int64_t at_ms)
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
void
gw_audit__ensure_partitions(struct gw_audit__writer *w, struct gw_db_conn *c, bool force)
{
    struct gw_audit *a = w->a;
    struct base_err err = {0};
    int64_t now_us = clock_now_us(a);
    int month = month_index(now_us);
    char from[32];
    char months[16];
    const char *vals[2] = {from, months};
    int rc;

    if (!force && (month + 1 <= w->ensured_month || gw_audit__mono_ms() < w->ensure_retry_ms))
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
        w->ensure_retry_ms = gw_audit__mono_ms() + 10000;
        BASE_LOG(BASE_LOG_WARN, "audit.partitions", "could not create partitions ahead: %s (%s)",
                 err.msg, err.log_detail);
        return;
    }
    w->ensured_month = month + (int)a->cfg.partitions_ahead - 1;
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

struct head {
    int64_t seq;
    char hash[65];
    char recorded[32];
};

static int
lock_head(struct gw_audit__writer *w, struct gw_db_conn *c, struct head *h, struct base_err *err)
{
    char clock_text[32];
    const char *vals[2] = {w->chain_id, NULL};
    PGresult *res = NULL;
    int rc;

    if (w->a->cfg.clock_us != NULL) {
        gw_audit__format_time(w->a->cfg.clock_us(), clock_text);
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
chain_rows(struct gw_audit__writer *w, struct gw_audit__entry **b, unsigned n,
           const struct head *h, struct base_err *err)
{
    const char *prev = h->hash;

    for (unsigned i = 0; i < n; i++) {
        struct gw_audit__entry *e = b[i];
        struct gw_audit__canon cn;
        char seq[24];

        e->receipt.seq = h->seq + 1 + i;
        snprintf(e->receipt.recorded, sizeof(e->receipt.recorded), "%s", h->recorded);
        snprintf(e->prev, sizeof(e->prev), "%s", prev);
        snprintf(seq, sizeof(seq), "%" PRId64, e->receipt.seq);
        for (int k = 0; k < GW_AUDIT__NCOLS; k++)
            gw_audit__canon_set(&cn, (enum gw_audit__col)k, e->col[k]);
        gw_audit__canon_set(&cn, GW_AUDIT__CHAIN, w->chain_id);
        gw_audit__canon_set(&cn, GW_AUDIT__SEQ, seq);
        gw_audit__canon_set(&cn, GW_AUDIT__RECORDED, e->receipt.recorded);
        gw_audit__canon_set(&cn, GW_AUDIT__PREV, e->prev);
        cn.v[GW_AUDIT__EVENT] = e->event_text;
        cn.len[GW_AUDIT__EVENT] = e->event_len;
        if (gw_audit__row_hash(&cn, e->receipt.hash) != BASE_OK)
            return base_err_set(err, BASE_E_INTERNAL, "exception", "audit.hash",
                                "could not hash the audit row");
        prev = e->receipt.hash;
    }
    return BASE_OK;
}

static void
row_params(const struct gw_audit__entry *e, const char *seq, const char **v)
{
    v[0] = seq;
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
}

/*
 * One statement for the batch: the rows, and (in a data-modifying WITH) the
 * chain head moved to the last of them.  Only placeholders are formatted
 * into the SQL text; every value is a parameter.
 */
static int
insert_rows(struct gw_audit__writer *w, struct gw_db_conn *c, struct gw_audit__entry **b,
            unsigned n, const char *recorded, struct base_err *err)
{
    static const char head[] =
        "WITH moved AS (UPDATE audit.chain SET last_seq = $3::bigint, last_hash = $4, "
        "last_recorded = $2::timestamptz WHERE chain_id = $1) "
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
    vals[0] = w->chain_id;
    vals[1] = recorded;
    rc = base_buf_append(&sql, head, sizeof(head) - 1);
    for (unsigned i = 0; i < n && rc == BASE_OK; i++) {
        unsigned p = SHARED_PARAMS + i * PER_ROW_PARAMS + 1; /* $p is the row's first */

        snprintf(seqs[i], sizeof(seqs[i]), "%" PRId64, b[i]->receipt.seq);
        row_params(b[i], seqs[i], vals + (p - 1));
        rc = base_buf_appendf(
            &sql,
            "%s($1, $2::timestamptz, $%u::bigint, $%u::text::jsonb, $%u::text, $%u, $%u, $%u, "
            "$%u::integer, $%u, $%u, $%u, $%u, $%u::text[], $%u, $%u::boolean, $%u, $%u, $%u, "
            "$%u, $%u, $%u)",
            i > 0 ? "," : "", p, p + 1, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8,
            p + 9, p + 10, p + 11, p + 12, p + 13, p + 14, p + 15, p + 16, p + 17, p + 18);
    }
    vals[2] = seqs[n - 1];
    vals[3] = b[n - 1]->receipt.hash;
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
checkpoint_due(const struct gw_audit__writer *w, unsigned more_rows)
{
    if (w->a->key == NULL || w->rows_since_cp + more_rows == 0)
        return false;
    return w->rows_since_cp + more_rows >= w->a->cfg.checkpoint_rows ||
           gw_audit__mono_ms() - w->last_cp_ms >= w->a->cfg.checkpoint_ms;
}

/* After the commit of a checkpoint. */
static void
checkpoint_signed(struct gw_audit__writer *w)
{
    w->rows_since_cp = 0;
    w->last_cp_ms = gw_audit__mono_ms();
    pthread_mutex_lock(&w->a->mu);
    w->a->st.checkpoints++;
    pthread_mutex_unlock(&w->a->mu);
}

static int
sign_checkpoint(struct gw_audit__writer *w, struct gw_db_conn *c, int64_t seq, const char *hash,
                const char *row_time, const char *kind, struct base_err *err)
{
    struct gw_audit__cp cp = {w->chain_id, seq, hash, row_time, NULL, kind, NULL};

    return gw_audit__insert_checkpoint(c, w->a->key, &cp, err);
}

static int
write_tx(struct gw_audit__writer *w, struct gw_db_conn *c, struct gw_audit__entry **b,
         unsigned n, bool *signed_cp, struct base_err *err)
{
    const struct gw_audit__entry *last = b[n - 1];
    struct head h;

    *signed_cp = false;
    TRY(gw_db_begin(c, NULL, err));
    TRY(lock_head(w, c, &h, err));
    if (w->have_cached && (h.seq != w->cached_seq || strcmp(h.hash, w->cached_hash) != 0))
        BASE_LOG(BASE_LOG_ERROR, "audit.chain_moved",
                 "chain head changed outside this writer: expected seq %" PRId64
                 " found %" PRId64 " (another process on the same chain, or tampering)",
                 w->cached_seq, h.seq);
    TRY(chain_rows(w, b, n, &h, err));
    TRY(insert_rows(w, c, b, n, h.recorded, err));
    if (checkpoint_due(w, n)) {
        TRY(sign_checkpoint(w, c, last->receipt.seq, last->receipt.hash, last->receipt.recorded,
                            "interval", err));
        *signed_cp = true;
    }
    return gw_db_commit(c, err);
}

static int
write_batch(struct gw_audit__writer *w, unsigned n, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    bool signed_cp = false;
    int rc;

    TRY(gw_db_borrow(w->a->pool, &c, err));
    gw_audit__ensure_partitions(w, c, false);
    rc = write_tx(w, c, w->batch, n, &signed_cp, err);
    if (rc != BASE_OK && gw_db_conn_ok(c) && strcmp(gw_db_conn_sqlstate(c), "23514") == 0) {
        /* no partition for these rows (the clock ran past the horizon):
         * make them and try once more */
        gw_db_rollback(c);
        gw_audit__ensure_partitions(w, c, true);
        base_err_clear(err);
        rc = write_tx(w, c, w->batch, n, &signed_cp, err);
    }
    if (rc != BASE_OK) {
        gw_db_rollback(c);
        w->have_cached = false;
    } else {
        const struct gw_audit__entry *last = w->batch[n - 1];

        w->have_cached = true;
        w->cached_seq = last->receipt.seq;
        snprintf(w->cached_hash, sizeof(w->cached_hash), "%s", last->receipt.hash);
        w->rows_since_cp += n;
        if (signed_cp)
            checkpoint_signed(w);
    }
    gw_db_release(c);
    return rc;
}

/* A checkpoint while idle (rows written since the last one, and
 * checkpoint_ms has passed) or when stopping. */
static int
checkpoint_only(struct gw_audit__writer *w, const char *kind, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    PGresult *res = NULL;
    const char *vals[1] = {w->chain_id};
    int64_t seq = 0;
    int rc;

    TRY(gw_db_borrow(w->a->pool, &c, err));
    rc = gw_db_begin(c, NULL, err);
    if (rc == BASE_OK)
        rc = gw_db_exec(c, "audit.head_read",
                        "SELECT last_seq, last_hash, " GW_AUDIT__TIME_SQL("last_recorded")
                        " FROM audit.chain WHERE chain_id = $1 FOR UPDATE",
                        1, vals, &res, err);
    if (rc == BASE_OK && (PQntuples(res) != 1 || !gw_db_val_i64(res, 0, 0, &seq)))
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.head",
                          "audit chain head is unreadable");
    if (rc == BASE_OK && seq > 0)
        rc = sign_checkpoint(w, c, seq, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), kind, err);
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    PQclear(res);
    gw_db_release(c);
    if (rc == BASE_OK)
        checkpoint_signed(w);
    return rc;
}

/* ----------------------------------------------------------- thread -- */

void
gw_audit__entry_unref(struct gw_audit__entry *e)
{
    if (--e->refs == 0)
        base_arena_free(e->arena);
}

/* Under a->mu: move up to batch_max queued rows into w->batch. */
static unsigned
take_batch(struct gw_audit__writer *w)
{
    struct gw_audit *a = w->a;
    unsigned n = 0;

    while (a->head != NULL && n < a->cfg.batch_max) {
        struct gw_audit__entry *e = a->head;

        a->head = e->next;
        e->next = NULL;
        e->state = GW_AUDIT__INFLIGHT;
        w->batch[n++] = e;
    }
    if (a->head == NULL)
        a->tail = NULL;
    a->queued -= n;
    a->inflight += n;
    return n;
}

/* Under a->mu: hand the outcome to every waiter of the batch. */
static void
finish_batch(struct gw_audit__writer *w, unsigned n, int rc, const struct base_err *err)
{
    struct gw_audit *a = w->a;

    for (unsigned i = 0; i < n; i++) {
        struct gw_audit__entry *e = w->batch[i];

        e->rc = rc;
        if (rc != BASE_OK)
            e->err = *err;
        e->state = GW_AUDIT__DONE;
        gw_audit__entry_unref(e);
    }
    if (rc == BASE_OK) {
        a->st.appended += n;
        a->st.batches++;
        if (n > a->st.max_batch)
            a->st.max_batch = n;
    } else {
        a->st.failed += n;
    }
    a->inflight -= n;
    pthread_cond_broadcast(&a->done);
}

/* Under a->mu: wait for rows, or until an idle checkpoint is due.
 * Returns false when stopping with nothing left to write. */
static bool
wait_for_work(struct gw_audit__writer *w, bool *idle_checkpoint)
{
    struct gw_audit *a = w->a;

    *idle_checkpoint = false;
    while (a->head == NULL && !a->stopping) {
        /* rows not yet covered by a checkpoint: wake up when it is due */
        if (a->key != NULL && w->rows_since_cp > 0) {
            struct timespec until;
            int64_t due = w->last_cp_ms + a->cfg.checkpoint_ms;

            gw_audit__abs_deadline(&until, due);
            if (gw_audit__mono_ms() >= due ||
                pthread_cond_timedwait(&a->work, &a->mu, &until) != 0) {
                *idle_checkpoint = a->head == NULL;
                return true;
            }
        } else {
            pthread_cond_wait(&a->work, &a->mu);
        }
    }
    return a->head != NULL;
}

void *
gw_audit__writer_main(void *arg)
{
    struct gw_audit__writer *w = arg;
    struct gw_audit *a = w->a;

    pthread_mutex_lock(&a->mu);
    for (;;) {
        struct base_err err = {0};
        bool idle_cp = false;
        unsigned n;
        int rc;

        if (!wait_for_work(w, &idle_cp))
            break;
        if (idle_cp) {
            pthread_mutex_unlock(&a->mu);
            if (checkpoint_only(w, "interval", &err) != BASE_OK) {
                BASE_LOG(BASE_LOG_WARN, "audit.checkpoint", "could not sign a checkpoint: %s (%s)",
                         err.msg, err.log_detail);
                w->last_cp_ms = gw_audit__mono_ms(); /* retry after another interval */
            }
            pthread_mutex_lock(&a->mu);
            continue;
        }
        n = take_batch(w);
        /* more queued than this batch takes: let another writer start */
        if (a->head != NULL)
            pthread_cond_signal(&a->work);
        pthread_mutex_unlock(&a->mu);
        rc = write_batch(w, n, &err);
        if (rc != BASE_OK)
            BASE_LOG(BASE_LOG_ERROR, "audit.write_failed", "rows=%u where=%s msg=%s detail=%s", n,
                     err.where, err.msg, err.log_detail);
        pthread_mutex_lock(&a->mu);
        finish_batch(w, n, rc, &err);
    }
    pthread_mutex_unlock(&a->mu);
    if (a->key != NULL && w->rows_since_cp > 0) {
        struct base_err err = {0};

        if (checkpoint_only(w, "shutdown", &err) != BASE_OK)
            BASE_LOG(BASE_LOG_WARN, "audit.checkpoint", "could not sign the last checkpoint: %s",
                     err.msg);
    }
    return NULL;
}
