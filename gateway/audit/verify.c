/*
 * `audit verify`: recompute the hash chains over a range.
 *
 * Everything runs in one REPEATABLE READ READ ONLY transaction (one
 * consistent snapshot, even while the gateway keeps writing), with two
 * cursors per chain — rows and checkpoints, both in sequence order — so
 * memory stays bounded whatever the number of rows.  Each chain starts at
 * its anchor: the latest signed checkpoint before --from (or the latest
 * archive checkpoint when months were dropped), else the chain's first row.
 * The hashes are recomputed here, from the raw column values, never by
 * functions stored in the database being checked.
 */
#include "gateway/audit/gw_audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/log.h"
#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

#define MAX_DB_KEYS 256

struct vctx {
    struct gw_db_conn *c;
    const struct gw_audit_verify_opts *o;
    struct gw_audit_verify_result *res;
    char from[32];
    char to[32];
    const struct gw_audit_key *trusted;
    struct gw_audit_key *db_keys[MAX_DB_KEYS];
    unsigned ndb_keys;
    unsigned fetch;
};

/* One checkpoint row: seq, hash, row_time, signed_at, kind, key_id, signature. */
struct cprow {
    int64_t seq;
    const char *hash;
    const char *row_time;
    const char *signed_at;
    const char *kind;
    const char *key_id;
    const char *sig;
};

#define CP_COLUMNS                                                                                 \
    "seq, hash, " GW_AUDIT__TIME_SQL("row_time") ", " GW_AUDIT__TIME_SQL(                          \
        "signed_at") ", kind, key_id, signature"

static bool
cprow_read(const PGresult *res, int r, struct cprow *cp)
{
    if (!gw_db_val_i64(res, r, 0, &cp->seq))
        return false;
    cp->hash = PQgetvalue(res, r, 1);
    cp->row_time = PQgetvalue(res, r, 2);
    cp->signed_at = PQgetvalue(res, r, 3);
    cp->kind = PQgetvalue(res, r, 4);
    cp->key_id = PQgetvalue(res, r, 5);
    cp->sig = PQgetvalue(res, r, 6);
    return true;
}

static const struct gw_audit_key *
find_key(const struct vctx *v, const char *key_id)
{
    if (v->trusted != NULL)
        return strcmp(gw_audit_key_id(v->trusted), key_id) == 0 ? v->trusted : NULL;
    for (unsigned i = 0; i < v->ndb_keys; i++) {
        if (strcmp(gw_audit_key_id(v->db_keys[i]), key_id) == 0)
            return v->db_keys[i];
    }
    return NULL;
}

/* Is the checkpoint signed by a trusted key?  On false, `why` says why. */
static bool
cp_signature_ok(const struct vctx *v, const char *chain_id, const struct cprow *cp,
                const char **why)
{
    const struct gw_audit_key *k = find_key(v, cp->key_id);
    struct gw_audit__cp in = {chain_id,      cp->seq,  cp->hash,  cp->row_time,
                              cp->signed_at, cp->kind, cp->key_id};
    struct base_buf text;
    unsigned char sig[256];
    long sig_len;
    bool ok;

    if (k == NULL) {
        *why = v->trusted != NULL ? "signed by a key other than the one given"
                                  : "signed by an unknown key";
        return false;
    }
    sig_len = gw_audit__unhex(cp->sig, sig, sizeof(sig));
    base_buf_init(&text, 4096);
    ok = sig_len > 0 && gw_audit__cp_canonical(&in, &text) == BASE_OK &&
         gw_audit__verify_sig(k, text.data, text.len, sig, (size_t)sig_len);
    base_buf_fini(&text);
    if (!ok)
        *why = "its signature does not verify";
    return ok;
}

/* ----------------------------------------------------------- set-up -- */

static int
normalize_time(struct vctx *v, const char *in, char out[32], const char *where,
               struct base_err *err)
{
    const char *vals[1] = {in};
    PGresult *res = NULL;
    int rc;

    out[0] = '\0';
    if (in == NULL)
        return BASE_OK;
    rc = gw_db_exec(v->c, "audit.verify_time", "SELECT " GW_AUDIT__TIME_SQL("$1::timestamptz"), 1,
                    vals, &res, err);
    if (rc == BASE_E_INVALID) {
        if (err != NULL)
            snprintf(err->where, sizeof(err->where), "%s", where);
        return rc;
    }
    if (rc == BASE_OK)
        snprintf(out, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

static int
load_db_keys(struct vctx *v, struct base_err *err)
{
    PGresult *res = NULL;

    TRY(gw_db_exec(v->c, "audit.verify_keys",
                   "SELECT key_id, public_pem FROM audit.signing_key ORDER BY key_id", 0, NULL,
                   &res, err));
    for (int r = 0; r < PQntuples(res) && v->ndb_keys < MAX_DB_KEYS; r++) {
        struct gw_audit_key *k = NULL;
        const char *pem = PQgetvalue(res, r, 1);

        if (gw_audit__key_from_pem(pem, strlen(pem), false, &k, NULL) == BASE_OK)
            v->db_keys[v->ndb_keys++] = k;
    }
    PQclear(res);
    return BASE_OK;
}

/* ------------------------------------------------------------ chain -- */

struct chain_run {
    struct vctx *v;
    const char *chain_id;
    struct gw_audit__chk chk;
    uint64_t rows;
    uint64_t cps;
    int64_t first_seq;
    /* checkpoint cursor buffer */
    PGresult *cpres;
    int cpi;
    bool cp_eof;
    int64_t cp_after; /* checkpoints with seq > this are still to come */
    int64_t good_cp;  /* seq of the last checkpoint that matched (or the anchor) */
};

static int
open_cursors(struct chain_run *cr, int64_t after_seq, int64_t cp_after, struct base_err *err)
{
    char seq[24];
    char cpseq[24];
    const char *rv[3] = {cr->chain_id, seq, cr->v->to[0] != '\0' ? cr->v->to : NULL};
    const char *cv[2] = {cr->chain_id, cpseq};

    snprintf(seq, sizeof(seq), "%" PRId64, after_seq);
    snprintf(cpseq, sizeof(cpseq), "%" PRId64, cp_after);
    /* entities: each element as a canonical field, concatenated */
    TRY(gw_db_exec(
        cr->v->c, "audit.verify_rows",
        "DECLARE fg_rows NO SCROLL CURSOR FOR SELECT seq, " GW_AUDIT__TIME_SQL(
            "recorded_at") ", prev_hash, hash, action, subtype, outcome, "
                           "http_status::text, agent_user, agent_role, agent_org, patient_ref, "
                           "CASE WHEN entities IS NULL THEN NULL ELSE coalesce((SELECT string_agg("
                           "coalesce(octet_length(x)::text || ':' || x || E'\\n', E'-\\n'), '' "
                           "ORDER BY i) FROM unnest(entities) WITH ORDINALITY AS u(x, i)), '') "
                           "END, "
                           "purpose, CASE WHEN break_glass THEN 'true' ELSE 'false' END, reason, "
                           "request_id, node, client_addr, event_text FROM audit.event "
                           "WHERE chain_id = $1 AND seq > $2::bigint "
                           "AND ($3::timestamptz IS NULL OR recorded_at <= $3::timestamptz) "
                           "ORDER BY seq, hash",
        3, rv, NULL, err));
    TRY(gw_db_exec(cr->v->c, "audit.verify_checkpoints",
                   "DECLARE fg_cps NO SCROLL CURSOR FOR SELECT " CP_COLUMNS
                   " FROM audit.checkpoint WHERE chain_id = $1 AND seq > $2::bigint "
                   "ORDER BY seq, id",
                   2, cv, NULL, err));
    PQclear(cr->cpres);
    cr->cpres = NULL;
    cr->cpi = 0;
    cr->cp_eof = false;
    cr->cp_after = cp_after;
    return BASE_OK;
}

static int
close_cursors(struct chain_run *cr, struct base_err *err)
{
    TRY(gw_db_exec(cr->v->c, "audit.verify_close", "CLOSE fg_rows", 0, NULL, NULL, err));
    return gw_db_exec(cr->v->c, "audit.verify_close", "CLOSE fg_cps", 0, NULL, NULL, err);
}

/* The next checkpoint (without consuming it), or NULL at the end. */
static int
peek_cp(struct chain_run *cr, struct cprow *out, bool *have, struct base_err *err)
{
    *have = false;
    if (cr->cpres != NULL && cr->cpi < PQntuples(cr->cpres)) {
        *have = cprow_read(cr->cpres, cr->cpi, out);
        return BASE_OK;
    }
    if (cr->cp_eof)
        return BASE_OK;
    PQclear(cr->cpres);
    cr->cpres = NULL;
    cr->cpi = 0;
    TRY(gw_db_exec(cr->v->c, "audit.verify_fetch", "FETCH FORWARD 500 FROM fg_cps", 0, NULL,
                   &cr->cpres, err));
    if (PQntuples(cr->cpres) == 0) {
        cr->cp_eof = true;
        return BASE_OK;
    }
    *have = cprow_read(cr->cpres, 0, out);
    return BASE_OK;
}

static void
next_cp(struct chain_run *cr, const struct cprow *cp)
{
    cr->cpi++;
    cr->cp_after = cp->seq;
}

/* Check the checkpoints that fall on the accepted row `seq`. */
static int
check_cps_at(struct chain_run *cr, int64_t seq, const char *hash, const char *time,
             struct base_err *err)
{
    for (;;) {
        struct cprow cp;
        bool have;
        const char *why = NULL;

        TRY(peek_cp(cr, &cp, &have, err));
        if (!have || cp.seq > seq)
            return BASE_OK;
        if (!cp_signature_ok(cr->v, cr->chain_id, &cp, &why)) {
            gw_audit__chk_fail(&cr->chk, GW_AUDIT_BAD_CHECKPOINT, cp.seq, cp.row_time,
                               "checkpoint signed at %s: %s", cp.signed_at, why);
            return BASE_OK;
        }
        if (cp.seq == seq && (strcmp(cp.hash, hash) != 0 || strcmp(cp.row_time, time) != 0)) {
            gw_audit__chk_fail(&cr->chk, GW_AUDIT_REWRITTEN, cp.seq, time,
                               "rows %" PRId64 "..%" PRId64 " no longer hash to the checkpoint "
                               "signed at %s (re-hashed after a change)",
                               cr->good_cp + 1, cp.seq, cp.signed_at);
            return BASE_OK;
        }
        cr->good_cp = cp.seq;
        cr->cps++;
        next_cp(cr, &cp);
    }
}

static int
row_to_canon(const PGresult *res, int r, const char *chain_id, struct gw_audit__canon *cn)
{
    /* result columns: 0 seq, 1 time, 2 prev, 3 hash, 4.. the canonical
     * columns from ACTION on, in order, event_text last */
    static const enum gw_audit__col cols[] = {
        GW_AUDIT__ACTION,   GW_AUDIT__SUBTYPE, GW_AUDIT__OUTCOME,     GW_AUDIT__STATUS,
        GW_AUDIT__USER,     GW_AUDIT__ROLE,    GW_AUDIT__ORG,         GW_AUDIT__PATIENT,
        GW_AUDIT__ENTITIES, GW_AUDIT__PURPOSE, GW_AUDIT__BREAK_GLASS, GW_AUDIT__REASON,
        GW_AUDIT__REQUEST,  GW_AUDIT__NODE,    GW_AUDIT__CLIENT,      GW_AUDIT__EVENT};

    gw_audit__canon_set(cn, GW_AUDIT__CHAIN, chain_id);
    gw_audit__canon_set(cn, GW_AUDIT__SEQ, PQgetvalue(res, r, 0));
    gw_audit__canon_set(cn, GW_AUDIT__RECORDED, PQgetvalue(res, r, 1));
    gw_audit__canon_set(cn, GW_AUDIT__PREV, PQgetvalue(res, r, 2));
    for (size_t i = 0; i < BASE_ARRAY_LEN(cols); i++) {
        int col = 4 + (int)i;

        cn->v[cols[i]] = gw_db_val(res, r, col);
        cn->len[cols[i]] = cn->v[cols[i]] != NULL ? (size_t)PQgetlength(res, r, col) : 0;
    }
    return BASE_OK;
}

static int
feed_rows(struct chain_run *cr, const PGresult *res, struct base_err *err)
{
    for (int r = 0; r < PQntuples(res) && !cr->chk.done; r++) {
        struct gw_audit__canon cn;
        struct gw_audit__vrow row;
        char computed[65];

        row_to_canon(res, r, cr->chain_id, &cn);
        if (!gw_db_val_i64(res, r, 0, &row.seq) || gw_audit__row_hash(&cn, computed) != BASE_OK)
            return base_err_set(err, BASE_E_INTERNAL, "exception", "audit.verify",
                                "could not hash a row");
        row.time = PQgetvalue(res, r, 1);
        row.prev_hash = PQgetvalue(res, r, 2);
        row.hash = PQgetvalue(res, r, 3);
        row.computed = computed;
        if (!gw_audit__chk_feed(&cr->chk, &row))
            continue;
        if (cr->rows == 0)
            cr->first_seq = row.seq;
        cr->rows++;
        TRY(check_cps_at(cr, row.seq, row.hash, row.time, err));
    }
    return BASE_OK;
}

static int
stream_rows(struct chain_run *cr, struct base_err *err)
{
    char fetch_sql[64];

    snprintf(fetch_sql, sizeof(fetch_sql), "FETCH FORWARD %u FROM fg_rows", cr->v->fetch);
    while (!cr->chk.done) {
        PGresult *res = NULL;
        int rc;

        TRY(gw_db_exec(cr->v->c, "audit.verify_fetch", fetch_sql, 0, NULL, &res, err));
        if (PQntuples(res) == 0) {
            PQclear(res);
            break;
        }
        rc = feed_rows(cr, res, err);
        PQclear(res);
        TRY(rc);
    }
    gw_audit__chk_end(&cr->chk);
    return BASE_OK;
}

/* Rows after the chain head were never written by a gateway writer (it
 * moves the head in the same transaction): name the first one. */
static int
beyond_head(struct chain_run *cr, int64_t head_seq, struct base_err *err)
{
    char seq[24];
    const char *vals[2] = {cr->chain_id, seq};
    PGresult *res = NULL;

    snprintf(seq, sizeof(seq), "%" PRId64, head_seq + 1);
    TRY(gw_db_exec(cr->v->c, "audit.verify_beyond",
                   "SELECT " GW_AUDIT__TIME_SQL(
                       "recorded_at") " FROM audit.event "
                                      "WHERE chain_id = $1 AND seq = $2::bigint LIMIT 1",
                   2, vals, &res, err));
    gw_audit__chk_fail(&cr->chk, GW_AUDIT_INSERTED, head_seq + 1,
                       PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "",
                       "it lies beyond the chain head (seq %" PRId64 ")", head_seq);
    PQclear(res);
    return BASE_OK;
}

/* After the last row: checkpoints beyond it, and the chain head. */
static int
check_tail(struct chain_run *cr, struct base_err *err)
{
    const char *vals[1] = {cr->chain_id};
    PGresult *res = NULL;
    struct cprow cp;
    bool have;
    int64_t head_seq;

    TRY(peek_cp(cr, &cp, &have, err));
    if (have && (cr->v->to[0] == '\0' || strcmp(cp.row_time, cr->v->to) <= 0)) {
        const char *why = NULL;

        if (!cp_signature_ok(cr->v, cr->chain_id, &cp, &why))
            gw_audit__chk_fail(&cr->chk, GW_AUDIT_BAD_CHECKPOINT, cp.seq, cp.row_time,
                               "checkpoint signed at %s: %s", cp.signed_at, why);
        else
            gw_audit__chk_fail(&cr->chk, GW_AUDIT_REMOVED, cr->chk.next_seq, cr->chk.last_time,
                               "rows %" PRId64 "..%" PRId64
                               " are missing: a checkpoint was signed at seq %" PRId64,
                               cr->chk.next_seq, cp.seq, cp.seq);
        return BASE_OK;
    }
    if (cr->v->to[0] != '\0')
        return BASE_OK; /* a range: the head is beyond it */
    TRY(gw_db_exec(cr->v->c, "audit.verify_head",
                   "SELECT last_seq, last_hash FROM audit.chain WHERE chain_id = $1", 1, vals, &res,
                   err));
    if (PQntuples(res) == 0) {
        if (cr->chk.last_seq > 0)
            gw_audit__chk_fail(&cr->chk, GW_AUDIT_CHANGED, cr->chk.last_seq, cr->chk.last_time,
                               "the chain head record is missing");
    } else if (gw_db_val_i64(res, 0, 0, &head_seq)) {
        if (head_seq > cr->chk.last_seq)
            gw_audit__chk_fail(&cr->chk, GW_AUDIT_REMOVED, cr->chk.last_seq + 1, cr->chk.last_time,
                               "rows %" PRId64 "..%" PRId64
                               " are missing: the chain head says %" PRId64,
                               cr->chk.last_seq + 1, head_seq, head_seq);
        else if (head_seq < cr->chk.last_seq)
            TRY(beyond_head(cr, head_seq, err));
        else if (head_seq > 0 && strcmp(PQgetvalue(res, 0, 1), cr->chk.hash) != 0)
            gw_audit__chk_fail(&cr->chk, GW_AUDIT_CHANGED, head_seq, cr->chk.last_time,
                               "its hash differs from the chain head's");
    }
    PQclear(res);
    return BASE_OK;
}

/* The anchor: a signed checkpoint to start from, or the chain's beginning. */
static int
find_anchor(struct chain_run *cr, struct cprow *anchor, bool *have, PGresult **keep,
            struct base_err *err)
{
    const char *vals[2] = {cr->chain_id, cr->v->from[0] != '\0' ? cr->v->from : NULL};
    PGresult *res = NULL;

    *have = false;
    TRY(gw_db_exec(cr->v->c, "audit.verify_anchor",
                   "SELECT " CP_COLUMNS " FROM audit.checkpoint WHERE chain_id = $1 AND "
                   "(kind = 'archive' OR ($2::timestamptz IS NOT NULL AND "
                   "row_time < $2::timestamptz)) ORDER BY seq DESC, id DESC LIMIT 1",
                   2, vals, &res, err));
    if (PQntuples(res) == 1 && cprow_read(res, 0, anchor)) {
        *have = true;
        *keep = res;
        return BASE_OK;
    }
    PQclear(res);
    return BASE_OK;
}

static void
print_result(const struct chain_run *cr)
{
    FILE *f = cr->v->o->out;
    const struct gw_audit_problem *p = &cr->chk.problem;
    static const char *const what[] = {"intact",   "changed",   "removed",
                                       "inserted", "rewritten", "invalid"};

    if (f == NULL)
        return;
    if (!cr->chk.done) {
        if (cr->rows == 0)
            fprintf(f, "chain %s: intact: no rows in range, %" PRIu64 " checkpoints verified\n",
                    cr->chain_id, cr->cps);
        else
            fprintf(f,
                    "chain %s: intact: rows %" PRId64 "..%" PRId64 " (%" PRIu64 " rows), %" PRIu64
                    " checkpoints verified\n",
                    cr->chain_id, cr->first_seq, cr->chk.last_seq, cr->rows, cr->cps);
        return;
    }
    if (p->kind == GW_AUDIT_BAD_CHECKPOINT)
        fprintf(f, "chain %s: checkpoint at seq %" PRId64 " (%s) is invalid: %s\n", cr->chain_id,
                p->seq, p->time[0] != '\0' ? p->time : "time unknown", p->detail);
    else if (p->kind == GW_AUDIT_REMOVED)
        fprintf(f, "chain %s: row seq %" PRId64 " (%s%s) was removed: %s\n", cr->chain_id, p->seq,
                p->time[0] != '\0' ? "after " : "at the start", p->time, p->detail);
    else
        fprintf(f, "chain %s: row seq %" PRId64 " (%s) was %s: %s\n", cr->chain_id, p->seq,
                p->time[0] != '\0' ? p->time : "time unknown", what[p->kind], p->detail);
}

static int
verify_chain(struct vctx *v, const char *chain_id, struct base_err *err)
{
    struct chain_run cr;
    struct cprow anchor;
    PGresult *anchor_res = NULL;
    bool have = false;
    int rc;

    memset(&cr, 0, sizeof(cr));
    cr.v = v;
    cr.chain_id = chain_id;
    TRY(find_anchor(&cr, &anchor, &have, &anchor_res, err));
    if (have) {
        const char *why = NULL;

        gw_audit__chk_init(&cr.chk, chain_id, anchor.seq, anchor.hash, anchor.row_time);
        if (!cp_signature_ok(v, chain_id, &anchor, &why))
            gw_audit__chk_fail(&cr.chk, GW_AUDIT_BAD_CHECKPOINT, anchor.seq, anchor.row_time,
                               "checkpoint signed at %s (the starting point): %s", anchor.signed_at,
                               why);
        else
            cr.cps++;
        cr.good_cp = anchor.seq;
    } else {
        gw_audit__chk_init(&cr.chk, chain_id, 0, GW_AUDIT__ZERO_HASH, "");
    }
    PQclear(anchor_res);
    rc = BASE_OK;
    if (!cr.chk.done) {
        rc = open_cursors(&cr, cr.chk.last_seq, cr.chk.last_seq, err);
        if (rc == BASE_OK)
            rc = stream_rows(&cr, err);
        if (rc == BASE_OK && !cr.chk.done)
            rc = check_tail(&cr, err);
        if (rc == BASE_OK)
            rc = close_cursors(&cr, err);
    }
    PQclear(cr.cpres);
    if (rc != BASE_OK)
        return rc;
    print_result(&cr);
    v->res->chains++;
    v->res->rows += cr.rows;
    v->res->checkpoints += cr.cps;
    if (cr.chk.done) {
        v->res->chains_bad++;
        if (v->res->intact) {
            v->res->intact = false;
            v->res->first = cr.chk.problem;
        }
    }
    return BASE_OK;
}

static int
list_chains(struct vctx *v, PGresult **out, struct base_err *err)
{
    const char *vals[1] = {v->o->chain_id};

    /* Chains with rows (a loose index scan over the primary key: cheap on
     * millions of rows), with a head, or with checkpoints. */
    return gw_db_exec(v->c, "audit.verify_chains",
                      "WITH RECURSIVE ev AS ("
                      " SELECT min(chain_id) AS id FROM audit.event"
                      " UNION ALL"
                      " SELECT (SELECT min(chain_id) FROM audit.event WHERE chain_id > ev.id)"
                      " FROM ev WHERE ev.id IS NOT NULL)"
                      " SELECT id FROM (SELECT id FROM ev WHERE id IS NOT NULL"
                      " UNION SELECT chain_id FROM audit.chain"
                      " UNION SELECT DISTINCT chain_id FROM audit.checkpoint) s"
                      " WHERE $1::text IS NULL OR id = $1 ORDER BY id",
                      1, vals, out, err);
}

static int
verify_all(struct vctx *v, struct base_err *err)
{
    PGresult *chains = NULL;
    int rc;

    TRY(gw_db_begin(v->c, "REPEATABLE READ READ ONLY", err));
    TRY(normalize_time(v, v->o->from, v->from, "from", err));
    TRY(normalize_time(v, v->o->to, v->to, "to", err));
    if (v->trusted == NULL) {
        TRY(load_db_keys(v, err));
        if (v->o->out != NULL)
            fprintf(v->o->out,
                    "note: checkpoint signatures checked against the %u key(s) stored "
                    "in the database; give --key for independent assurance\n",
                    v->ndb_keys);
    }
    TRY(list_chains(v, &chains, err));
    rc = BASE_OK;
    for (int r = 0; r < PQntuples(chains) && rc == BASE_OK; r++)
        rc = verify_chain(v, PQgetvalue(chains, r, 0), err);
    PQclear(chains);
    if (rc == BASE_OK)
        rc = gw_db_commit(v->c, err);
    return rc;
}

int
gw_audit_verify(struct gw_db_conn *c, const struct gw_audit_verify_opts *o,
                struct gw_audit_verify_result *res, struct base_err *err)
{
    struct base_err ignored = {0};
    struct vctx *v;
    int rc;

    memset(res, 0, sizeof(*res));
    res->intact = true;
    v = base_calloc(1, sizeof(*v));
    ENSURE(v != NULL, err, BASE_E_NOMEM, "exception", "audit.verify", "out of memory");
    v->c = c;
    v->o = o;
    v->res = res;
    v->trusted = o->key;
    v->fetch = o->fetch_rows > 0 ? o->fetch_rows : 2000;
    /* A long read: no statement timeout while it runs. */
    rc = gw_db_conn_set_timeout(c, 0, err);
    if (rc == BASE_OK)
        rc = verify_all(v, err);
    if (rc != BASE_OK)
        gw_db_rollback(c);
    for (unsigned i = 0; i < v->ndb_keys; i++)
        gw_audit_key_free(v->db_keys[i]);
    base_free(v);
    (void)ignored;
    return rc;
}
