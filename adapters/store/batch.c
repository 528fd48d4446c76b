/*
 * Many messages, one database transaction, one commit: throughput is not
 * bound by one fsync per message.  Each Bundle runs inside its own
 * SAVEPOINT, so one that fails is rolled back alone and recorded (with the
 * acknowledgement the sender gets) while the others commit.
 */
#include "adapters/store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/log.h"
#include "fhir/outcome/fhir_outcome.h"

/* Best-effort cleanup whose failure changes nothing for the caller. */
static void
rollback(PGconn *c, const char *sql)
{
    struct base_err ignored = {0};

    if (st_command(c, sql, "roll back", &ignored) != BASE_OK)
        BASE_LOG(BASE_LOG_DEBUG, "store_rollback_failed", "sqlstate_in_detail=1");
}

static int
begin(PGconn *c, size_t n_entries, int64_t *ts, struct base_err *err)
{
    char n[24];
    const char *p[1] = {st_i64(n, sizeof(n), (int64_t)(n_entries > 0 ? n_entries : 1))};
    PGresult *r = NULL;

    ENSURE(PQtransactionStatus(c) == PQTRANS_IDLE, err, BASE_E_INVALID, "exception", NULL,
           "the connection is inside a transaction");
    TRY(st_command(c, "BEGIN", "start a transaction", err));
    /* First statement: the writers' lock and the lastUpdated times. */
    if (st_exec(c, "SELECT store.take_clock($1)", 1, p, PGRES_TUPLES_OK, "take the store clock", &r,
                err) != BASE_OK ||
        !st_col_i64(r, 0, 0, ts)) {
        PQclear(r);
        rollback(c, "ROLLBACK");
        return err->rc != BASE_OK ? err->rc
                                  : base_err_set(err, BASE_E_IO, "exception", NULL,
                                                 "could not take the store clock");
    }
    PQclear(r);
    return BASE_OK;
}

static size_t
count_entries(const struct adapter_store_item *items, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += json_array_size(json_object_get(items[i].bundle, "entry"));
    return total;
}

static int
check_item(const struct adapter_store_item *it, struct adapter_store_result *r)
{
    if (it->source == NULL)
        return BASE_OK;
    if (it->message_id == NULL || it->source[0] == '\0' || it->message_id[0] == '\0' ||
        strlen(it->source) > BASE_LIMIT_STORE_MAX_LEDGER_KEY ||
        strlen(it->message_id) > BASE_LIMIT_STORE_MAX_LEDGER_KEY) {
        (void)base_err_set(&r->err, BASE_E_INVALID, "invalid", "message id",
                           "message source and id must be 1 to %u bytes",
                           BASE_LIMIT_STORE_MAX_LEDGER_KEY);
        st_result_fail(r, BASE_E_INVALID, 400, NULL);
        return BASE_E_INVALID;
    }
    return BASE_OK;
}

/* A message refused before it became a Bundle: answer from the ledger if it
 * was seen, else record the refusal. */
static void
refused_item(const struct adapter_store_item *it, struct adapter_store_result *r)
{
    struct base_err why = {0};

    if (it->refused != NULL && it->refused->rc != BASE_OK)
        why = *it->refused;
    else
        (void)base_err_set(&why, BASE_E_INVALID, "invalid", NULL, "the message was refused");
    st_result_fail(r, why.rc, 400, &why);
}

/* Roll the failed Bundle back to its savepoint, then record it. */
static int
after_failure(PGconn *c, struct base_arena *a, const struct adapter_store_item *it,
              const struct st_ledger *lg, struct adapter_store_result *r, struct base_err *err)
{
    const char *ack = NULL;

    TRY(st_command(c, "ROLLBACK TO SAVEPOINT adapter_store_item", "roll back a Bundle", err));
    if (r->replayed)
        return BASE_OK;
    if (it->ack != NULL && it->ack(it->ack_ctx, r, a, &ack) == BASE_OK && ack != NULL &&
        strlen(ack) <= BASE_LIMIT_STORE_MAX_ACK)
        r->ack = ack;
    return st_ledger_failure(c, a, lg, r, err);
}

static int
apply_item(PGconn *c, struct base_arena *a, const struct adapter_store_opts *o,
           const struct adapter_store_item *it, int64_t *ts, struct adapter_store_result *r,
           struct base_err *err)
{
    struct st_ledger lg = {it->source, it->message_id, it->message_sha256};
    /* The savepoint rides with the Bundle's first statement and is
     * released with its write (st_exec_txn). */
    struct st_txn t = {"SAVEPOINT adapter_store_item", "RELEASE SAVEPOINT adapter_store_item",
                       false, false};
    int rc = BASE_OK;

    memset(r, 0, sizeof(*r));
    if (check_item(it, r) != BASE_OK) {
        lg.source = NULL; /* a bad key cannot be recorded */
    } else if (it->bundle == NULL) {
        struct st_plan empty;
        struct st_replay rp;

        memset(&empty, 0, sizeof(empty));
        empty.a = a;
        if (lg.source != NULL && st_match(c, &t, &empty, &lg, &rp, err) == BASE_OK && rp.hit)
            (void)st_replay_result(a, &rp, r);
        else
            refused_item(it, r);
    } else if (st_apply_one(c, &t, a, o, it->bundle, &lg, it->ack, it->ack_ctx, ts, r) !=
               BASE_OK) {
        BASE_LOG(BASE_LOG_DEBUG, "store_bundle_refused", "status=%d", r->status);
    }
    if (!st_conn_ok(c))
        return base_err_set(err, BASE_E_IO, "transient", NULL, "database connection lost");
    if (!t.set)
        rc = st_command(c, t.savepoint, "set a savepoint", err);
    if (rc == BASE_OK && r->rc != BASE_OK && !r->replayed)
        rc = after_failure(c, a, it, &lg, r, err);
    if (rc == BASE_OK && !t.released)
        rc = st_command(c, t.release, "release a savepoint", err);
    return rc;
}

static void
fail_all(struct adapter_store_result *results, size_t n, const struct base_err *err)
{
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(results[i]));
        st_result_fail(&results[i], err->rc != BASE_OK ? err->rc : BASE_E_IO, 503, err);
    }
}

int
adapter_store_apply_batch(PGconn *c, struct base_arena *a, const struct adapter_store_opts *o,
                          const struct adapter_store_item *items, size_t n,
                          struct adapter_store_result *results, struct base_err *err_out)
{
    struct base_err local = {0};
    struct base_err *err = err_out != NULL ? err_out : &local;
    int64_t ts = 0;
    int rc;

    ENSURE(n <= BASE_LIMIT_STORE_MAX_BATCH, err, BASE_E_LIMIT, "too-costly", NULL,
           "too many messages in one batch");
    rc = begin(c, count_entries(items, n), &ts, err);
    for (size_t i = 0; rc == BASE_OK && i < n; i++)
        rc = apply_item(c, a, o, &items[i], &ts, &results[i], err);
    if (rc == BASE_OK)
        rc = st_code_uses_add(c, items, results, n, err);
    if (rc == BASE_OK)
        rc = st_command(c, "COMMIT", "commit", err);
    else if (st_conn_ok(c) && PQtransactionStatus(c) != PQTRANS_IDLE)
        rollback(c, "ROLLBACK");
    if (rc != BASE_OK) {
        fail_all(results, n, err);
        BASE_LOG(BASE_LOG_WARN, "store_batch_failed", "messages=%zu rc=%s", n, base_rc_name(rc));
    }
    return rc;
}

int
adapter_store_apply(PGconn *c, struct base_arena *a, const struct adapter_store_opts *o,
                    const json_t *bundle, struct adapter_store_result *out)
{
    struct base_err err = {0};
    int64_t ts = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = begin(c, json_array_size(json_object_get(bundle, "entry")), &ts, &err);
    if (rc != BASE_OK) {
        st_result_fail(out, rc, 0, &err);
        return out->rc;
    }
    rc = st_apply_one(c, NULL, a, o, bundle, NULL, NULL, NULL, &ts, out);
    if (rc != BASE_OK) {
        rollback(c, "ROLLBACK");
        return out->rc;
    }
    if (st_command(c, "COMMIT", "commit", &err) != BASE_OK)
        st_result_fail(out, err.rc, 503, &err);
    return out->rc;
}

/* ---- the transaction-response Bundle ----------------------------------------------------- */

static const char *
status_text(int status)
{
    switch (status) {
    case 201:
        return "201 Created";
    case 204:
        return "204 No Content";
    default:
        return "200 OK";
    }
}

static int
add_response(struct base_arena *a, json_t *b, const struct adapter_store_entry *e)
{
    struct fhir_bundle_response resp = {status_text(e->status), NULL, NULL, NULL, NULL};
    char when[40];

    if (e->id != NULL && e->version > 0) {
        resp.location = base_arena_sprintf(a, "%s/%s/_history/%u", e->type, e->id, e->version);
        resp.etag = base_arena_sprintf(a, "W/\"%u\"", e->version);
        if (resp.location == NULL || resp.etag == NULL)
            return BASE_E_NOMEM;
    }
    if (e->last_updated_us != 0 &&
        adapter_store_format_instant(e->last_updated_us, when, sizeof(when)) > 0)
        resp.last_modified = when;
    return fhir_bundle_add_response(b, NULL, &resp);
}

json_t *
adapter_store_response(struct base_arena *a, const struct adapter_store_result *r)
{
    json_t *b;

    if (r->rc != BASE_OK)
        return fhir_outcome_from_err(&r->err);
    b = fhir_bundle_new(FHIR_BUNDLE_TRANSACTION_RESPONSE, NULL, NULL);
    for (size_t i = 0; b != NULL && i < r->n_entries; i++) {
        if (add_response(a, b, &r->entries[i]) != BASE_OK) {
            json_decref(b);
            return NULL;
        }
    }
    return b;
}
