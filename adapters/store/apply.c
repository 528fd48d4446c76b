/*
 * Applying one transaction Bundle inside the caller's transaction: plan
 * (no database), look up (one round trip), decide, rewrite references,
 * finish, then write everything and the ledger row in one call of
 * store.write().  A message whose ledger row exists is answered from it.
 */
#include "adapters/store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/json/fhir_json.h"

/* Arrays of the resources and index rows, the ledger, then one jsonb
 * argument per resource (VARIADIC: each is parsed once, straight to jsonb). */
#define WRITE_FIXED 51

enum { W_OP, W_PK, W_TYPE, W_ID, W_VERSION, W_TS, W_HASH, W_NCOLS };

int
st_status_of(int rc, const struct base_err *err)
{
    (void)err;
    switch (rc) {
    case BASE_OK:
        return 200;
    case BASE_E_INVALID:
    case BASE_E_PARSE:
        return 400;
    case BASE_E_NOTFOUND:
        return 404;
    case BASE_E_CONFLICT:
        return 409;
    case BASE_E_LIMIT:
        return 413;
    case BASE_E_IO:
        return 503;
    default:
        return 500;
    }
}

void
st_result_fail(struct adapter_store_result *r, int rc, int status, const struct base_err *err)
{
    r->rc = rc < 0 ? rc : BASE_E_INTERNAL;
    r->status = status >= 400 ? status : st_status_of(r->rc, err);
    if (err != NULL && err != &r->err)
        r->err = *err;
    if (r->err.rc == BASE_OK)
        (void)base_err_set(&r->err, r->rc, "exception", NULL, "the Bundle was not applied");
    r->entries = NULL;
    r->n_entries = 0;
}

/* ---- the ledger's copy of a result ----------------------------------------------------- */

char *
st_entries_json(struct base_arena *a, const struct adapter_store_result *r)
{
    json_t *arr = json_array();
    char *text = NULL;

    for (size_t i = 0; arr != NULL && i < r->n_entries; i++) {
        const struct adapter_store_entry *e = &r->entries[i];

        if (json_array_append_new(arr, json_pack("{s:s, s:s?, s:I, s:I, s:s, s:i}", "type", e->type,
                                                 "id", e->id, "version", (json_int_t)e->version,
                                                 "lastUpdated", (json_int_t)e->last_updated_us,
                                                 "action", adapter_store_action_name(e->action),
                                                 "status", e->status)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (arr != NULL)
        text = fhir_json_dump_arena(arr, FHIR_JSON_COMPACT, a, NULL);
    json_decref(arr);
    return text;
}

static enum adapter_store_action
action_of(const char *s)
{
    static const enum adapter_store_action all[] = {ADAPTER_STORE_CREATED, ADAPTER_STORE_UPDATED,
                                                    ADAPTER_STORE_UNCHANGED, ADAPTER_STORE_DELETED,
                                                    ADAPTER_STORE_MATCHED};

    for (size_t i = 0; s != NULL && i < BASE_ARRAY_LEN(all); i++) {
        if (strcmp(s, adapter_store_action_name(all[i])) == 0)
            return all[i];
    }
    return ADAPTER_STORE_MATCHED;
}

static const char *
dup_str(struct base_arena *a, const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? base_arena_strdup(a, s) : NULL;
}

static int
replay_entries(struct base_arena *a, const json_t *arr, struct adapter_store_result *r)
{
    size_t n = json_array_size(arr);

    r->entries = BASE_NEW_N(a, struct adapter_store_entry, n + 1);
    if (r->entries == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        struct adapter_store_entry *e = &r->entries[i];

        e->type = dup_str(a, o, "type");
        e->id = dup_str(a, o, "id");
        e->version = (uint32_t)json_integer_value(json_object_get(o, "version"));
        e->last_updated_us = json_integer_value(json_object_get(o, "lastUpdated"));
        e->action = action_of(json_string_value(json_object_get(o, "action")));
        e->status = (int)json_integer_value(json_object_get(o, "status"));
    }
    r->n_entries = n;
    return BASE_OK;
}

/* Answer a repeated message with what the ledger says was answered. */
int
st_replay_result(struct base_arena *a, const struct st_replay *rp, struct adapter_store_result *r)
{
    json_t *info = NULL;
    struct base_err perr = {0};
    int rc = fhir_json_parse(rp->info, strlen(rp->info), NULL, &info, &perr);

    if (rc != BASE_OK)
        return base_err_set(&r->err, BASE_E_INTERNAL, "exception", NULL, "bad ledger row");
    r->replayed = true;
    r->status = rp->status;
    r->ack = dup_str(a, info, "ack");
    if (rp->status < 300) {
        r->rc = BASE_OK;
        rc = replay_entries(a, json_object_get(info, "result"), r);
    } else {
        int code = rp->status == 404                        ? BASE_E_NOTFOUND
                   : rp->status == 409 || rp->status == 412 ? BASE_E_CONFLICT
                   : rp->status >= 500                      ? BASE_E_IO
                                                            : BASE_E_INVALID;
        const char *issue = json_string_value(json_object_get(info, "issue"));
        const char *msg = json_string_value(json_object_get(info, "msg"));

        (void)base_err_set(&r->err, code, issue != NULL ? issue : "processing",
                           json_string_value(json_object_get(info, "where")), "%s",
                           msg != NULL ? msg : "the message was refused before");
        r->rc = code;
    }
    json_decref(info);
    return rc == BASE_OK ? r->rc : base_err_set(&r->err, rc, "exception", NULL, "out of memory");
}

/* ---- the write ------------------------------------------------------------------------ */

struct write {
    struct st_arr w[W_NCOLS];
    struct st_rows rows;
    const struct st_entry **writes; /* in write order */
    int n;
};

static void
write_init(struct write *wr)
{
    for (size_t i = 0; i < W_NCOLS; i++)
        st_arr_init(&wr->w[i]);
    st_rows_init(&wr->rows);
    wr->writes = NULL;
    wr->n = 0;
}

static void
write_fini(struct write *wr)
{
    for (size_t i = 0; i < W_NCOLS; i++)
        st_arr_fini(&wr->w[i]);
    st_rows_fini(&wr->rows);
}

static int
add_write(struct write *wr, struct base_arena *a, const struct st_entry *e, struct base_err *err)
{
    char op[2] = {e->op, '\0'};

    st_arr_text(&wr->w[W_OP], op);
    st_arr_i64(&wr->w[W_PK], e->pk);
    st_arr_text(&wr->w[W_TYPE], e->type);
    st_arr_text(&wr->w[W_ID], e->id);
    st_arr_i64(&wr->w[W_VERSION], e->new_version);
    st_arr_i64(&wr->w[W_TS], e->ts);
    st_arr_text(&wr->w[W_HASH], e->hash);
    wr->writes[wr->n++] = e;
    if (e->op == 'd')
        return BASE_OK;
    return st_rows_add(&wr->rows, a, e->resource, e->type, wr->n, err);
}

/* "SELECT store.write($1, …, $51, VARIADIC ARRAY[$52::jsonb, …]::jsonb[])" */
static const char *
write_sql(struct base_arena *a, int n)
{
    struct base_buf b;
    char *out = NULL;
    int rc;

    base_buf_init(&b, 1u << 20);
    rc = base_buf_append_cstr(&b, "SELECT store.write(");
    for (int i = 1; rc == BASE_OK && i <= WRITE_FIXED; i++)
        rc = base_buf_appendf(&b, "$%d, ", i);
    if (rc == BASE_OK)
        rc = base_buf_append_cstr(&b, "VARIADIC ARRAY[");
    for (int i = 0; rc == BASE_OK && i < n; i++)
        rc = base_buf_appendf(&b, "%s$%d::jsonb", i > 0 ? ", " : "", WRITE_FIXED + 1 + i);
    if (rc == BASE_OK)
        rc = base_buf_append_cstr(&b, "]::jsonb[])");
    if (rc == BASE_OK)
        out = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return out;
}

static const char *
hash_param(struct base_arena *a, const unsigned char *h)
{
    char *s;

    if (h == NULL || (s = base_arena_alloc(a, 67)) == NULL)
        return NULL;
    memcpy(s, "\\x", 2);
    st_hex(h, 32, s + 2);
    return s;
}

static int
run_write(PGconn *c, struct st_txn *t, struct base_arena *a, struct write *wr,
          const struct st_ledger *lg, const struct adapter_store_result *r, struct base_err *err)
{
    const char **p = BASE_NEW_N(a, const char *, (size_t)(WRITE_FIXED + wr->n + 1));
    bool keyed = lg != NULL && lg->source != NULL;
    PGresult *res = NULL;
    size_t k = 0;

    if (wr->n == 0 && !keyed)
        return BASE_OK; /* nothing changed and nothing to record */
    ENSURE(p != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < W_NCOLS; i++)
        p[k++] = st_arr_get(&wr->w[i]);
    for (size_t i = 0; i < ST_NCOLS; i++)
        p[k++] = st_arr_get(&wr->rows.c[i]);
    for (size_t i = 0; i < k; i++)
        ENSURE(p[i] != NULL, err, BASE_E_LIMIT, "too-costly", NULL, "Bundle too large to write");
    p[k++] = keyed ? lg->source : NULL;
    p[k++] = keyed ? lg->message_id : NULL;
    p[k++] = keyed ? "200" : NULL;
    p[k++] = keyed ? hash_param(a, lg->sha256) : NULL;
    p[k++] = keyed ? r->ack : NULL;
    p[k++] = keyed ? st_entries_json(a, r) : NULL;
    for (int i = 0; i < wr->n; i++)
        p[k++] = wr->writes[i]->content; /* NULL for a delete */
    TRY(st_exec_txn(c, t, true, write_sql(a, wr->n), (int)k, p, PGRES_TUPLES_OK,
                    "write the Bundle", &res, err));
    PQclear(res);
    return BASE_OK;
}

static int
write_plan(PGconn *c, struct st_txn *t, struct base_arena *a, struct st_plan *p,
           const struct st_ledger *lg, const struct adapter_store_result *r,
           struct base_err *err)
{
    struct write wr;
    int rc = BASE_OK;

    write_init(&wr);
    wr.writes = BASE_NEW_N(a, const struct st_entry *, p->n + 1);
    if (wr.writes == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; rc == BASE_OK && i < p->n; i++) {
        if (p->e[i].write)
            rc = add_write(&wr, a, &p->e[i], err);
    }
    if (rc == BASE_OK)
        rc = run_write(c, t, a, &wr, lg, r, err);
    write_fini(&wr);
    return rc;
}

/* ---- one Bundle -------------------------------------------------------------------------- */

static int
results_of(struct base_arena *a, const struct st_plan *p, struct adapter_store_result *r)
{
    r->entries = BASE_NEW_N(a, struct adapter_store_entry, p->n + 1);
    if (r->entries == NULL)
        return base_err_set(&r->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < p->n; i++)
        st_entry_result(&p->e[i], &r->entries[i]);
    r->n_entries = p->n;
    r->rc = BASE_OK;
    r->status = 200;
    return BASE_OK;
}

static int
call_ack(adapter_store_ack_fn ack, void *ctx, struct base_arena *a, struct adapter_store_result *r)
{
    const char *text = NULL;

    if (ack == NULL)
        return BASE_OK;
    TRY(ack(ctx, r, a, &text));
    ENSURE(text == NULL || strlen(text) <= BASE_LIMIT_STORE_MAX_ACK, &r->err, BASE_E_LIMIT,
           "too-costly", NULL, "acknowledgement too long");
    r->ack = text;
    return BASE_OK;
}

/* Everything after the plan; returns the status for a failure in *status. */
static int
apply_plan(PGconn *c, struct st_txn *t, struct base_arena *a, struct st_plan *p,
           const struct st_ledger *lg, adapter_store_ack_fn ack, void *ack_ctx, int64_t *ts,
           struct adapter_store_result *r, int *status)
{
    struct st_replay rp;
    struct base_err *err = &r->err;

    TRY(st_match(c, t, p, lg, &rp, err));
    if (rp.hit)
        return st_replay_result(a, &rp, r);
    TRY(st_decide(p, status, err));
    TRY(st_rewrite_references(c, p, status, err));
    TRY(st_finish(p, ts, err));
    TRY(results_of(a, p, r));
    TRY(call_ack(ack, ack_ctx, a, r));
    return write_plan(c, t, a, p, lg, r, err);
}

/* A refused plan may still be a repeated message: the ledger answers it. */
static int
replay_refused(PGconn *c, struct st_txn *t, struct base_arena *a, const struct st_ledger *lg,
               struct adapter_store_result *r)
{
    struct st_plan empty;
    struct st_replay rp;
    struct base_err lerr = {0};

    memset(&empty, 0, sizeof(empty));
    empty.a = a;
    if (lg == NULL || lg->source == NULL || st_match(c, t, &empty, lg, &rp, &lerr) != BASE_OK ||
        !rp.hit)
        return BASE_E_NOTFOUND;
    memset(r, 0, sizeof(*r));
    return st_replay_result(a, &rp, r) == BASE_OK || r->replayed ? BASE_OK : BASE_E_NOTFOUND;
}

int
st_apply_one(PGconn *c, struct st_txn *t, struct base_arena *a,
             const struct adapter_store_opts *o, const json_t *bundle,
             const struct st_ledger *lg, adapter_store_ack_fn ack, void *ack_ctx, int64_t *ts,
             struct adapter_store_result *r)
{
    struct st_plan p;
    int status = 400;
    int rc;

    memset(r, 0, sizeof(*r));
    rc = st_plan_bundle(a, o, bundle, &p, &status, &r->err);
    if (rc != BASE_OK) {
        if (replay_refused(c, t, a, lg, r) == BASE_OK)
            return r->rc;
        st_result_fail(r, rc, status, NULL);
        return r->rc;
    }
    status = 0;
    rc = apply_plan(c, t, a, &p, lg, ack, ack_ctx, ts, r, &status);
    if (rc != BASE_OK && !r->replayed)
        st_result_fail(r, rc, status, NULL);
    return r->rc;
}

/* ---- the ledger row of a failure --------------------------------------------------------- */

int
st_ledger_failure(PGconn *c, struct base_arena *a, const struct st_ledger *lg,
                  const struct adapter_store_result *r, struct base_err *err)
{
    char status[16];
    const char *p[8];
    PGresult *res = NULL;

    if (lg == NULL || lg->source == NULL || r->replayed)
        return BASE_OK;
    snprintf(status, sizeof(status), "%d", r->status);
    p[0] = lg->source;
    p[1] = lg->message_id;
    p[2] = status;
    p[3] = r->err.issue_code[0] != '\0' ? r->err.issue_code : NULL;
    p[4] = r->err.where[0] != '\0' ? r->err.where : NULL;
    p[5] = r->err.msg[0] != '\0' ? r->err.msg : NULL;
    p[6] = hash_param(a, lg->sha256);
    p[7] = r->ack;
    TRY(st_exec(c,
                "INSERT INTO store.ingest_ledger (source, message_id, status, issue_code,"
                " location, message, message_hash, ack) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT DO NOTHING",
                8, p, PGRES_COMMAND_OK, "record the message", &res, err));
    PQclear(res);
    return BASE_OK;
}
