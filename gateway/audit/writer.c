/*
 * The audit writers: leader/follower group commit onto hash chains.
 *
 * A node has `writers` slots, each with its own chain (the node's chain id,
 * or "ID/k" with several slots).  A caller of gw_audit_append() that finds
 * rows queued and a slot free becomes that slot's leader: it takes
 * everything queued (up to batch_max, oldest first, its own row among
 * them), writes it as ONE statement — the chain head moved by
 * compare-and-set, the rows, a signed checkpoint when one is due — which
 * commits on its own with synchronous_commit on, and wakes every caller of
 * the batch with the same outcome: all committed, or none (fail closed).
 * The other callers sleep on their own rows until done or until a slot
 * frees up for them to lead.  No row is handed to another thread, so one
 * client pays no hand-off, and under load rows queue up while the slots'
 * commits reach the disk and form the next batches.
 *
 * A timer thread signs checkpoints for chains that went quiet, and the
 * last ones at shutdown.
 */
#include "gateway/audit/gw_audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/log.h"
#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

#define PER_ROW_PARAMS 19

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
    "SELECT last_seq, last_hash, CASE WHEN last_recorded = '-infinity' THEN 0 "
    "ELSE (extract(epoch FROM last_recorded) * 1000000)::bigint END "
    "FROM audit.chain WHERE chain_id = $1",
    1};
static const struct gw_db_stmt stmt_head_lock = {
    "audit.head_lock",
    "SELECT last_seq, last_hash, CASE WHEN last_recorded = '-infinity' THEN 0 "
    "ELSE (extract(epoch FROM last_recorded) * 1000000)::bigint END "
    "FROM audit.chain WHERE chain_id = $1 FOR UPDATE",
    1};
static const struct gw_db_stmt stmt_chain_init = {
    "audit.chain_init", "INSERT INTO audit.chain (chain_id) VALUES ($1) ON CONFLICT DO NOTHING", 1};

/* Read the chain head into the writer's cache (creating the chain);
 * `lock`: and keep it locked until the end of the caller's transaction. */
static int
load_head(struct gw_audit__writer *w, struct gw_db_conn *c, bool lock, struct base_err *err)
{
    const struct gw_db_stmt *st = lock ? &stmt_head_lock : &stmt_head;
    const char *vals[1] = {w->chain_id};
    PGresult *res = NULL;
    int rc = BASE_OK;

    w->have_cached = false;
    TRY(gw_db_exec_stmt(c, st, vals, &res, err));
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = NULL;
        TRY(gw_db_exec_stmt(c, &stmt_chain_init, vals, NULL, err));
        TRY(gw_db_exec_stmt(c, st, vals, &res, err));
    }
    if (PQntuples(res) != 1 || !gw_db_val_i64(res, 0, 0, &w->cached_seq) ||
        strlen(PQgetvalue(res, 0, 1)) != 64 || !gw_db_val_i64(res, 0, 2, &w->cached_us))
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.head",
                          "audit chain head is unreadable");
    if (rc == BASE_OK) {
        snprintf(w->cached_hash, sizeof(w->cached_hash), "%s", PQgetvalue(res, 0, 1));
        w->have_cached = true;
    }
    PQclear(res);
    return rc;
}

/* Number the rows of the batch after the cached head, all at time
 * `recorded`, and hash each onto the previous one. */
static int
chain_rows(struct gw_audit__writer *w, unsigned n, const char *recorded, struct base_err *err)
{
    const char *prev = w->cached_hash;

    for (unsigned i = 0; i < n; i++) {
        struct gw_audit__entry *e = w->batch[i];
        struct gw_audit__canon cn;
        char seq[24];

        e->receipt.seq = w->cached_seq + 1 + i;
        snprintf(e->receipt.recorded, sizeof(e->receipt.recorded), "%s", recorded);
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

/* Shared parameters: $1 chain, $2 recorded, $3/$4 new head seq/hash,
 * $5/$6 expected head seq/hash, and with a checkpoint $7 signed_at,
 * $8 key id, $9 signature. */
#define SHARED_PARAMS     6
#define CHECKPOINT_PARAMS 3

/*
 * The whole batch is ONE statement, so it commits (or not) on its own in
 * one round trip:
 *   - moved: the chain head advances, but only from the head this writer
 *     knows (compare-and-set; a second process on the same chain, or a
 *     lost commit reply, makes it match nothing and the batch is redone
 *     from the real head), and synchronous_commit is switched on for the
 *     statement's transaction whatever the server default;
 *   - cp: a signed checkpoint at the last row, when one is due;
 *   - the rows, inserted only when the head moved.
 * Only placeholders are formatted into the SQL text; values are parameters.
 */
static int
build_sql(unsigned n, bool with_cp, struct base_buf *sql)
{
    unsigned shared = SHARED_PARAMS + (with_cp ? CHECKPOINT_PARAMS : 0);

    TRY(base_buf_append_cstr(
        sql, "WITH moved AS (UPDATE audit.chain SET last_seq = $3::bigint, last_hash = $4, "
             "last_recorded = $2::timestamptz WHERE chain_id = $1 AND last_seq = $5::bigint "
             "AND last_hash = $6 AND set_config('synchronous_commit', 'on', true) IS NOT NULL "
             "RETURNING 1)"));
    if (with_cp)
        TRY(base_buf_append_cstr(
            sql, ", cp AS (INSERT INTO audit.checkpoint (chain_id, seq, hash, row_time, "
                 "signed_at, kind, key_id, signature) SELECT $1, $3::bigint, $4, "
                 "$2::timestamptz, $7::timestamptz, 'interval', $8, $9::bytea "
                 "WHERE EXISTS (SELECT 1 FROM moved))"));
    TRY(base_buf_append_cstr(
        sql, " INSERT INTO audit.event (chain_id, recorded_at, seq, event_text, action, "
             "subtype, outcome, http_status, agent_user, agent_role, agent_org, patient_ref, "
             "entities, purpose, break_glass, reason, request_id, node, client_addr, prev_hash, "
             "hash) SELECT * FROM (VALUES "));
    for (unsigned i = 0; i < n; i++) {
        unsigned p = shared + i * PER_ROW_PARAMS + 1; /* $p is the row's first */

        TRY(base_buf_appendf(
            sql,
            "%s($1, $2::timestamptz, $%u::bigint, $%u, $%u, $%u, $%u, $%u::integer, $%u, $%u, "
            "$%u, $%u, $%u::text[], $%u, $%u::boolean, $%u, $%u, $%u, $%u, $%u, $%u)",
            i > 0 ? "," : "", p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8, p + 9,
            p + 10, p + 11, p + 12, p + 13, p + 14, p + 15, p + 16, p + 17, p + 18));
    }
    return base_buf_append_cstr(sql, ") AS v WHERE EXISTS (SELECT 1 FROM moved)");
}

int
gw_audit__build_statements(struct gw_audit *a, struct base_err *err)
{
    static unsigned instances;
    unsigned id = __atomic_add_fetch(&instances, 1, __ATOMIC_RELAXED);

    for (unsigned cp = 0; cp < 2; cp++) {
        for (unsigned n = 1; n <= GW_AUDIT__PREPARED_ROWS; n++) {
            struct gw_db_stmt *st = &a->stmts[cp][n - 1];
            struct base_buf sql;

            base_buf_init(&sql, 0);
            if (build_sql(n, cp == 1, &sql) != BASE_OK) {
                base_buf_fini(&sql);
                return base_err_set(err, BASE_E_NOMEM, "exception", "audit", "out of memory");
            }
            snprintf(a->stmt_names[cp][n - 1], sizeof(a->stmt_names[cp][n - 1]),
                     "audit.batch.%u.%u.%u", id, cp, n);
            st->name = a->stmt_names[cp][n - 1];
            st->sql = sql.data; /* owned; freed in gw_audit__free_statements */
            st->nparams = (int)(SHARED_PARAMS + (cp == 1 ? CHECKPOINT_PARAMS : 0) +
                                n * PER_ROW_PARAMS);
        }
    }
    return BASE_OK;
}

void
gw_audit__free_statements(struct gw_audit *a)
{
    for (unsigned cp = 0; cp < 2; cp++) {
        for (unsigned n = 0; n < GW_AUDIT__PREPARED_ROWS; n++) {
            /* the SQL text came from a base_buf */
            base_free((void *)(uintptr_t)a->stmts[cp][n].sql);
            a->stmts[cp][n].sql = NULL;
        }
    }
}

struct batch_vals {
    const char **vals;
    char (*seqs)[24];
    char head_seq[24];
    char signed_at[32];
    char *sig_hex;
};

static int
fill_vals(struct gw_audit__writer *w, unsigned n, const char *recorded, bool with_cp,
          struct batch_vals *bv, struct base_err *err)
{
    const struct gw_audit__entry *last = w->batch[n - 1];
    unsigned shared = SHARED_PARAMS + (with_cp ? CHECKPOINT_PARAMS : 0);

    snprintf(bv->head_seq, sizeof(bv->head_seq), "%" PRId64, w->cached_seq);
    for (unsigned i = 0; i < n; i++) {
        snprintf(bv->seqs[i], sizeof(bv->seqs[i]), "%" PRId64, w->batch[i]->receipt.seq);
        row_params(w->batch[i], bv->seqs[i], bv->vals + shared + (size_t)i * PER_ROW_PARAMS);
    }
    bv->vals[0] = w->chain_id;
    bv->vals[1] = recorded;
    bv->vals[2] = bv->seqs[n - 1];
    bv->vals[3] = last->receipt.hash;
    bv->vals[4] = bv->head_seq;
    bv->vals[5] = w->cached_hash;
    if (with_cp) {
        struct gw_audit__cp cp = {
            w->chain_id, last->receipt.seq, last->receipt.hash, recorded, NULL, "interval", NULL};

        TRY(gw_audit__cp_sign(w->a->key, &cp, bv->signed_at, &bv->sig_hex, err));
        bv->vals[6] = bv->signed_at;
        bv->vals[7] = gw_audit_key_id(w->a->key);
        bv->vals[8] = bv->sig_hex;
    }
    return BASE_OK;
}

/* Run the batch statement; *inserted = rows written (0: the head moved). */
static int
run_batch(struct gw_audit__writer *w, struct gw_db_conn *c, unsigned n, const char *recorded,
          bool with_cp, long *inserted, struct base_err *err)
{
    size_t nvals = SHARED_PARAMS + (with_cp ? CHECKPOINT_PARAMS : 0) + (size_t)n * PER_ROW_PARAMS;
    struct batch_vals bv = {base_calloc(nvals, sizeof(char *)), base_calloc(n, 24), "", "", NULL};
    struct base_buf sql;
    PGresult *res = NULL;
    int rc;

    *inserted = 0;
    base_buf_init(&sql, 0);
    if (bv.vals == NULL || bv.seqs == NULL ||
        (n > GW_AUDIT__PREPARED_ROWS && build_sql(n, with_cp, &sql) != BASE_OK)) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "audit.insert", "out of memory");
        goto out;
    }
    rc = fill_vals(w, n, recorded, with_cp, &bv, err);
    if (rc == BASE_OK && n <= GW_AUDIT__PREPARED_ROWS)
        rc = gw_db_exec_stmt(c, &w->a->stmts[with_cp][n - 1], bv.vals, &res, err);
    else if (rc == BASE_OK)
        rc = gw_db_exec(c, "audit.insert", sql.data, (int)nvals, bv.vals, &res, err);
    if (rc == BASE_OK)
        *inserted = strtol(PQcmdTuples(res), NULL, 10);
out:
    PQclear(res);
    base_buf_fini(&sql);
    base_free(bv.vals);
    base_free(bv.seqs);
    base_free(bv.sig_hex);
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

/* One attempt from the cached head.  *moved is set when the head was not
 * where this writer thought (nothing written). */
static int
write_once(struct gw_audit__writer *w, struct gw_db_conn *c, unsigned n, bool *moved,
           struct base_err *err)
{
    int64_t t0 = gw_audit__now_us();
    int64_t at = clock_now_us(w->a);
    bool with_cp = checkpoint_due(w, n);
    char recorded[32];
    long inserted = 0;

    *moved = false;
    if (!w->have_cached)
        TRY(load_head(w, c, false, err));
    /* never before the chain's last row: times are monotonic per chain */
    gw_audit__format_time(at > w->cached_us ? at : w->cached_us, recorded);
    TRY(chain_rows(w, n, recorded, err));
    TRY(run_batch(w, c, n, recorded, with_cp, &inserted, err));
    BASE_LOG(BASE_LOG_DEBUG, "audit.batch", "chain=%s rows=%u us=%lld", w->chain_id, n,
             (long long)(gw_audit__now_us() - t0));
    if (inserted == 0) {
        *moved = true;
        w->have_cached = false;
        return base_err_set(err, BASE_E_CONFLICT, "conflict", "audit.head",
                            "audit chain head moved");
    }
    ENSURE(inserted == (long)n, err, BASE_E_INTERNAL, "exception", "audit.insert",
           "audit batch partly inserted");
    w->cached_seq = w->batch[n - 1]->receipt.seq;
    w->cached_us = at > w->cached_us ? at : w->cached_us;
    snprintf(w->cached_hash, sizeof(w->cached_hash), "%s", w->batch[n - 1]->receipt.hash);
    w->rows_since_cp += n;
    if (with_cp)
        checkpoint_signed(w);
    return BASE_OK;
}

/*
 * The slow path, after the head moved under this writer (another process
 * writes the same chain — a misconfiguration — or a commit reply was lost):
 * lock the head for the length of a transaction so that the retry cannot
 * be overtaken again.
 */
static int
write_locked(struct gw_audit__writer *w, struct gw_db_conn *c, unsigned n, struct base_err *err)
{
    bool moved = false;
    int rc;

    TRY(gw_db_begin(c, NULL, err));
    rc = load_head(w, c, true, err);
    if (rc == BASE_OK)
        rc = write_once(w, c, n, &moved, err);
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    if (rc != BASE_OK)
        gw_db_rollback(c);
    return rc;
}

static void
log_moved(struct gw_audit__writer *w)
{
    int64_t now = gw_audit__mono_ms();

    if (!w->have_cached_once || now - w->moved_logged_ms < 60000)
        return;
    w->moved_logged_ms = now;
    BASE_LOG(BASE_LOG_ERROR, "audit.chain_moved",
             "chain head changed outside this writer (another process on the same chain, or "
             "tampering): chain=%s",
             w->chain_id);
}

static int
write_batch(struct gw_audit__writer *w, unsigned n, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    bool moved = false;
    int rc;

    TRY(gw_db_borrow(w->a->pool, &c, err));
    gw_audit__ensure_partitions(w, c, false);
    rc = write_once(w, c, n, &moved, err);
    if (rc != BASE_OK && !moved && gw_db_conn_ok(c) &&
        strcmp(gw_db_conn_sqlstate(c), "23514") == 0) {
        /* no partition for these rows yet (the clock ran past the horizon) */
        gw_audit__ensure_partitions(w, c, true);
        base_err_clear(err);
        rc = write_once(w, c, n, &moved, err);
    }
    if (rc != BASE_OK && moved) {
        log_moved(w);
        base_err_clear(err);
        rc = write_locked(w, c, n, err);
    }
    if (rc != BASE_OK)
        w->have_cached = false; /* the outcome may be unknown: reload next time */
    else
        w->have_cached_once = true;
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
                        "SELECT last_seq, last_hash, " GW_AUDIT__TIME_SQL(
                            "last_recorded") " FROM audit.chain WHERE chain_id = $1 FOR UPDATE",
                        1, vals, &res, err);
    if (rc == BASE_OK && (PQntuples(res) != 1 || !gw_db_val_i64(res, 0, 0, &seq)))
        rc = base_err_set(err, BASE_E_INTERNAL, "exception", "audit.head",
                          "audit chain head is unreadable");
    if (rc == BASE_OK && seq > 0) {
        struct gw_audit__cp cp = {
            w->chain_id, seq, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), NULL, kind, NULL};

        rc = gw_audit__insert_checkpoint(c, w->a->key, &cp, err);
    }
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    PQclear(res);
    gw_db_release(c);
    if (rc == BASE_OK)
        checkpoint_signed(w);
    return rc;
}

/* ----------------------------------------------------- leaders, timer -- */

void
gw_audit__entry_unref(struct gw_audit__entry *e)
{
    if (--e->refs > 0)
        return;
    pthread_cond_destroy(&e->done);
    base_arena_free(e->arena);
}

void
gw_audit__cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
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

/* Under a->mu: give the slot back; the oldest waiting row's caller (if any)
 * may lead next. */
static void
release_slot(struct gw_audit__writer *w)
{
    struct gw_audit *a = w->a;

    w->busy = false;
    if (a->head != NULL)
        pthread_cond_signal(&a->head->done);
    else if (a->inflight == 0)
        pthread_cond_broadcast(&a->drained);
}

/* Under a->mu: hand the outcome to every row of the batch. */
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
        pthread_cond_signal(&e->done);
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
    a->writing--;
    release_slot(w);
}

static struct gw_audit__writer *
free_slot(struct gw_audit *a)
{
    for (unsigned i = 0; i < a->nwriters; i++) {
        if (!a->writers[i].busy)
            return &a->writers[i];
    }
    return NULL;
}

/*
 * Under a->mu: may a caller open a slot now?  Each transaction costs the
 * server a WAL flush and a round of statement overhead whatever its size
 * (about half of PostgreSQL's CPU per row when rows go one by one), so
 * while one batch is being written the rows that arrive wait for it and go
 * together in the next, and another slot opens only once spill_rows are
 * queued: slots in parallel are for a backlog, not for every request.
 */
static bool
may_open_slot(const struct gw_audit *a)
{
    return a->writing == 0 || a->queued >= a->cfg.spill_rows;
}

bool
gw_audit__lead(struct gw_audit *a)
{
    struct gw_audit__writer *w;
    struct base_err err = {0};
    unsigned n;
    int rc;

    if (a->head == NULL || !may_open_slot(a) || (w = free_slot(a)) == NULL)
        return false;
    w->busy = true;
    if (++a->writing > a->st.peak_slots)
        a->st.peak_slots = a->writing;
    n = take_batch(w);
    pthread_mutex_unlock(&a->mu);
    rc = write_batch(w, n, &err);
    if (rc != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "audit.write_failed", "rows=%u where=%s msg=%s detail=%s", n,
                 err.where, err.msg, err.log_detail);
    pthread_mutex_lock(&a->mu);
    finish_batch(w, n, rc, &err);
    return true;
}

/* Under a->mu: sign a checkpoint on an idle chain with rows not yet
 * covered when one is due (or `kind` is "shutdown"). */
static void
idle_checkpoints(struct gw_audit *a, const char *kind, bool force)
{
    for (unsigned i = 0; i < a->nwriters; i++) {
        struct gw_audit__writer *w = &a->writers[i];
        struct base_err err = {0};

        if (w->busy || a->key == NULL || w->rows_since_cp == 0 ||
            (!force && gw_audit__mono_ms() - w->last_cp_ms < a->cfg.checkpoint_ms))
            continue;
        w->busy = true;
        pthread_mutex_unlock(&a->mu);
        if (checkpoint_only(w, kind, &err) != BASE_OK) {
            BASE_LOG(BASE_LOG_WARN, "audit.checkpoint", "could not sign a checkpoint: %s (%s)",
                     err.msg, err.log_detail);
            w->last_cp_ms = gw_audit__mono_ms(); /* retry after another interval */
        }
        pthread_mutex_lock(&a->mu);
        release_slot(w);
    }
}

/*
 * The timer: checkpoints for chains that went quiet with rows not yet
 * covered, and at shutdown — once the callers have drained the queue — a
 * last checkpoint on every chain that needs one.
 */
void *
gw_audit__timer_main(void *arg)
{
    struct gw_audit *a = arg;

    pthread_mutex_lock(&a->mu);
    while (!a->stopping) {
        struct timespec until;
        int64_t step = a->cfg.checkpoint_ms < 1000 ? a->cfg.checkpoint_ms : 1000;

        gw_audit__abs_deadline(&until, gw_audit__mono_ms() + step);
        pthread_cond_timedwait(&a->tick, &a->mu, &until);
        if (!a->stopping)
            idle_checkpoints(a, "interval", false);
    }
    while (a->queued > 0 || a->inflight > 0)
        pthread_cond_wait(&a->drained, &a->mu);
    idle_checkpoints(a, "shutdown", true);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}
