/*
 * gateway/mpi/review.c — the review queue, merge, unmerge and link history.
 *
 * Every change of a record's person writes a link_history row; a merge also
 * remembers, in merge_record, the link each moved record had, so that an
 * unmerge restores exactly the previous links.  All of it runs under the
 * same advisory lock as ingest, so a decision never races a new link.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/mpi_int.h"

#define LOCK_SQL "SELECT pg_advisory_xact_lock(5066825)"

static const char *
i64s(struct base_arena *a, int64_t v)
{
    return base_arena_sprintf(a, "%lld", (long long)v);
}

/* ---- review queue ------------------------------------------------------------------- */

/* A record's demographics for a reviewer, as JSON text: member, local
 * value, name (Han, else pinyin), birthDate (as precise as known), gender. */
#define SQL_SUMMARY(t)                                                                             \
    "json_build_object('member', " t ".member_id, 'value', " t ".local_value, 'name', "            \
    "CASE WHEN " t ".name_han <> '' THEN " t ".name_han ELSE " t ".name_py END, 'birthDate', "     \
    "CASE WHEN " t ".birth_year > 0 THEN " t ".birth_year::text || CASE WHEN " t ".birth_month "   \
    "> 0 THEN '-' || lpad(" t ".birth_month::text, 2, '0') || CASE WHEN " t ".birth_day > 0 "      \
    "THEN '-' || lpad(" t ".birth_day::text, 2, '0') ELSE '' END ELSE '' END END, 'gender', "      \
    "CASE " t ".sex WHEN 1 THEN 'male' WHEN 2 THEN 'female' WHEN 3 THEN 'other' ELSE "             \
    "'unknown' END)"

/* clang-format off: the SQL reads better in its own lines */
static const char SQL_REVIEW_LIST[] =
    "SELECT v.id, v.status, v.score, v.reason, v.fields::text, r.member_id, r.local_system, "
    "r.local_value, pr.public_id, pc.public_id, "
    "to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "coalesce(v.decided_by, ''), coalesce(v.note, ''), " SQL_SUMMARY("r") "::text, "
    "coalesce((SELECT json_agg(" SQL_SUMMARY("c") " ORDER BY c.id) FROM mpi.record c "
    "WHERE c.person_id = v.candidate_person), '[]'::json)::text "
    "FROM mpi.review v JOIN mpi.record r ON r.id = v.record_id JOIN "
    "mpi.person pr ON pr.id = r.person_id JOIN mpi.person pc ON pc.id = v.candidate_person "
    "WHERE ($1::bool = false OR v.status = 'open') ORDER BY v.id DESC LIMIT $2::int OFFSET "
    "$3::int";
/* clang-format on */

/* Column `col` parsed as JSON, or `fallback` (a new reference) when not. */
static json_t *
json_col(const PGresult *r, int i, int col, json_t *fallback)
{
    const char *f = mpi_val(r, i, col);
    json_t *v = NULL;

    if (fhir_json_parse(f, strlen(f), NULL, &v, NULL) != BASE_OK)
        return fallback;
    json_decref(fallback);
    return v;
}

static json_t *
review_item(const PGresult *r, int i)
{
    json_t *fields = json_col(r, i, 4, json_array());
    json_t *rec = json_col(r, i, 13, json_object());
    json_t *cand = json_col(r, i, 14, json_array());

    json_object_set_new(rec, "system", json_string(mpi_val(r, i, 6)));
    return json_pack("{s:I, s:s, s:f, s:s, s:o, s:s, s:s, s:o, s:s, s:s, s:s, s:o}", "id",
                     (json_int_t)mpi_i64(r, i, 0), "status", mpi_val(r, i, 1), "score",
                     mpi_f64(r, i, 2), "reason", mpi_val(r, i, 3), "record", rec, "person",
                     mpi_val(r, i, 8), "candidate", mpi_val(r, i, 9), "candidateRecords", cand,
                     "created", mpi_val(r, i, 10), "decidedBy", mpi_val(r, i, 11), "note",
                     mpi_val(r, i, 12), "fields", fields);
}

int
gw_mpi_review_list(PGconn *db, struct base_arena *a, bool open_only, size_t limit, size_t offset,
                   json_t **out, struct base_err *err)
{
    const char *p[3];
    PGresult *r;
    json_t *arr;

    if (limit == 0 || limit > GW_MPI_LIMIT_REVIEW_PAGE)
        limit = GW_MPI_LIMIT_REVIEW_PAGE;
    ENSURE(offset <= 100000000u, err, BASE_E_INVALID, "value", "offset", "offset too large");
    p[0] = open_only ? "true" : "false";
    p[1] = base_arena_sprintf(a, "%zu", limit);
    p[2] = base_arena_sprintf(a, "%zu", offset);
    ENSURE(p[1] && p[2], err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(mpi_q(db, a, SQL_REVIEW_LIST, 3, p, PGRES_TUPLES_OK, &r, err));
    arr = json_array();
    ENSURE(arr != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    for (int i = 0; i < PQntuples(r); i++) {
        if (json_array_append_new(arr, review_item(r, i)) != 0) {
            json_decref(arr);
            return base_err_set(err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
        }
    }
    *out = arr;
    return BASE_OK;
}

/* ---- merge ------------------------------------------------------------------------------- */

/* Two active, distinct persons without conflicting resident ids. */
static int
merge_check(PGconn *db, struct base_arena *a, int64_t s, int64_t m, struct base_err *err)
{
    const char *p[2] = {i64s(a, s), i64s(a, m)};
    PGresult *r;

    ENSURE(p[0] && p[1], err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    ENSURE(s != m, err, BASE_E_CONFLICT, "business-rule", "Patient",
           "cannot merge a person "
           "into itself");
    TRY(mpi_q(db, a, "SELECT count(*) FROM mpi.person WHERE id IN ($1, $2) AND status = 'active'",
              2, p, PGRES_TUPLES_OK, &r, err));
    ENSURE(mpi_i64(r, 0, 0) == 2, err, BASE_E_CONFLICT, "business-rule", "Patient",
           "both persons must be active");
    TRY(mpi_q(db, a,
              "SELECT count(DISTINCT resident_id) FROM mpi.record WHERE person_id IN ($1, $2) "
              "AND resident_id IS NOT NULL",
              2, p, PGRES_TUPLES_OK, &r, err));
    ENSURE(mpi_i64(r, 0, 0) <= 1, err, BASE_E_CONFLICT, "business-rule", "Patient.identifier",
           "the persons carry different resident identity numbers");
    return BASE_OK;
}

static const char SQL_MERGE[] =
    "WITH mg AS (INSERT INTO mpi.merge (survivor, merged, actor, reason) VALUES ($1, $2, $3, "
    "$4) RETURNING id), "
    "mr AS (INSERT INTO mpi.merge_record (merge_id, record_id, link_type, link_score) SELECT "
    "mg.id, r.id, r.link_type, r.link_score FROM mg, mpi.record r WHERE r.person_id = $2), "
    "hi AS (INSERT INTO mpi.link_history (record_id, action, from_person, to_person, link_type, "
    "score, actor, reason, merge_id) SELECT r.id, 'merge', $2, $1, 'manual', r.link_score, $3, "
    "$4, mg.id FROM mg, mpi.record r WHERE r.person_id = $2), "
    "up AS (UPDATE mpi.record SET person_id = $1, link_type = 'manual', linked_at = now() "
    "WHERE person_id = $2), "
    "pe AS (UPDATE mpi.person SET status = 'merged', merged_into = $1, updated_at = now() "
    "WHERE id = $2), "
    "rv AS (UPDATE mpi.review v SET status = 'superseded', decided_at = now(), decided_by = $3 "
    "FROM mpi.record r WHERE v.status = 'open' AND r.id = v.record_id AND ((r.person_id = $2 "
    "AND v.candidate_person = $1) OR (r.person_id = $1 AND v.candidate_person = $2))) "
    "SELECT id FROM mg";

int
mpi_merge_persons(PGconn *db, struct base_arena *a, int64_t s, int64_t m, const char *actor,
                  const char *reason, int64_t *merge_id, struct base_err *err)
{
    const char *p[4] = {i64s(a, s), i64s(a, m), actor, reason};
    PGresult *r;

    TRY(merge_check(db, a, s, m, err));
    TRY(mpi_q(db, a, SQL_MERGE, 4, p, PGRES_TUPLES_OK, &r, err));
    *merge_id = mpi_i64(r, 0, 0);
    return BASE_OK;
}

static int
active_pk(PGconn *db, struct base_arena *a, const char *public_id, int64_t *pk,
          struct base_err *err)
{
    const char *p[1] = {public_id};
    PGresult *r;
    bool ok = public_id != NULL && strlen(public_id) == 36;

    for (size_t i = 0; ok && i < 36; i++) {
        char c = public_id[i];

        ok = c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    ENSURE(ok, err, BASE_E_NOTFOUND, "not-found", "Patient.id", "no such person");
    TRY(mpi_q(db, a, "SELECT id FROM mpi.person WHERE public_id = $1::uuid FOR UPDATE", 1, p,
              PGRES_TUPLES_OK, &r, err));
    ENSURE(PQntuples(r) == 1, err, BASE_E_NOTFOUND, "not-found", "Patient.id", "no such person");
    *pk = mpi_i64(r, 0, 0);
    return BASE_OK;
}

/* Run fn inside BEGIN ... COMMIT with the MPI lock; ROLLBACK on error. */
struct tx_merge {
    const char *survivor;
    const char *merged;
    const char *actor;
    const char *reason;
    int64_t *merge_id;
};

static int
merge_body(PGconn *db, struct base_arena *a, void *arg, struct base_err *err)
{
    struct tx_merge *t = arg;
    int64_t s = 0;
    int64_t m = 0;

    TRY(active_pk(db, a, t->survivor, &s, err));
    TRY(active_pk(db, a, t->merged, &m, err));
    return mpi_merge_persons(db, a, s, m, t->actor, t->reason, t->merge_id, err);
}

typedef int (*tx_fn)(PGconn *db, struct base_arena *a, void *arg, struct base_err *err);

static int
in_tx(PGconn *db, tx_fn fn, void *arg, struct base_err *err)
{
    struct base_arena *a = base_arena_new(1u << 20);
    int rc;

    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    rc = mpi_begin(db, err);
    if (rc == BASE_OK)
        rc = mpi_cmd(db, LOCK_SQL, 0, NULL, err);
    if (rc == BASE_OK)
        rc = fn(db, a, arg, err);
    if (rc == BASE_OK)
        rc = mpi_commit(db, err);
    else
        mpi_rollback(db);
    base_arena_free(a);
    return rc;
}

int
gw_mpi_merge(PGconn *db, const char *survivor_id, const char *merged_id, const char *actor,
             const char *reason, int64_t *merge_id, struct base_err *err)
{
    struct tx_merge t = {survivor_id, merged_id, actor, reason, merge_id};

    ENSURE(actor != NULL && actor[0] != '\0', err, BASE_E_INVALID, "required", "actor",
           "the actor is required");
    return in_tx(db, merge_body, &t, err);
}

/* ---- unmerge ------------------------------------------------------------------------------ */

static const char SQL_UNMERGE[] =
    "WITH back AS (SELECT mr.record_id, mr.link_type, mr.link_score FROM mpi.merge_record mr "
    "JOIN mpi.record r ON r.id = mr.record_id WHERE mr.merge_id = $1 AND r.person_id = $2), "
    "hi AS (INSERT INTO mpi.link_history (record_id, action, from_person, to_person, link_type, "
    "score, actor, reason, merge_id) SELECT b.record_id, 'unmerge', $2, $3, b.link_type, "
    "b.link_score, $4, $5, $1 FROM back b), "
    "up AS (UPDATE mpi.record r SET person_id = $3, link_type = b.link_type, link_score = "
    "b.link_score, linked_at = now() FROM back b WHERE r.id = b.record_id), "
    "pe AS (UPDATE mpi.person SET status = 'active', merged_into = NULL, updated_at = now() "
    "WHERE id = $3), "
    "mg AS (UPDATE mpi.merge SET undone_at = now(), undone_by = $4, undo_reason = $5 WHERE id "
    "= $1) "
    "SELECT count(*) FROM back";

struct tx_unmerge {
    int64_t merge_id;
    const char *actor;
    const char *reason;
};

static int
unmerge_body(PGconn *db, struct base_arena *a, void *arg, struct base_err *err)
{
    struct tx_unmerge *t = arg;
    const char *p[5];
    PGresult *r;

    p[0] = i64s(a, t->merge_id);
    ENSURE(p[0] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(mpi_q(db, a,
              "SELECT m.survivor, m.merged, m.undone_at IS NOT NULL, s.status, d.merged_into = "
              "m.survivor FROM mpi.merge m JOIN mpi.person s ON s.id = m.survivor JOIN "
              "mpi.person d ON d.id = m.merged WHERE m.id = $1 FOR UPDATE OF m",
              1, p, PGRES_TUPLES_OK, &r, err));
    ENSURE(PQntuples(r) == 1, err, BASE_E_NOTFOUND, "not-found", "merge", "no such merge");
    ENSURE(mpi_val(r, 0, 2)[0] == 'f', err, BASE_E_CONFLICT, "business-rule", "merge",
           "merge already undone");
    /* A later merge of the survivor must be undone first: its records are
     * no longer where this merge put them. */
    ENSURE(strcmp(mpi_val(r, 0, 3), "active") == 0 && mpi_val(r, 0, 4)[0] == 't', err,
           BASE_E_CONFLICT, "business-rule", "merge", "undo the later merge first");
    p[1] = base_arena_strdup(a, mpi_val(r, 0, 0));
    p[2] = base_arena_strdup(a, mpi_val(r, 0, 1));
    p[3] = t->actor;
    p[4] = t->reason;
    ENSURE(p[1] && p[2], err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    return mpi_q(db, a, SQL_UNMERGE, 5, p, PGRES_TUPLES_OK, &r, err);
}

int
gw_mpi_unmerge(PGconn *db, int64_t merge_id, const char *actor, const char *reason,
               struct base_err *err)
{
    struct tx_unmerge t = {merge_id, actor, reason};

    ENSURE(actor != NULL && actor[0] != '\0', err, BASE_E_INVALID, "required", "actor",
           "the actor is required");
    return in_tx(db, unmerge_body, &t, err);
}

/* ---- decisions --------------------------------------------------------------------------------
 */

struct tx_decide {
    int64_t review_id;
    enum gw_mpi_decision decision;
    const char *actor;
    const char *note;
};

static int
decide_body(PGconn *db, struct base_arena *a, void *arg, struct base_err *err)
{
    struct tx_decide *t = arg;
    const char *p[4];
    PGresult *r;
    int64_t merge_id = 0;

    p[0] = i64s(a, t->review_id);
    ENSURE(p[0] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    /* the candidate may have been merged since: follow to the active person */
    TRY(mpi_q(db, a,
              "SELECT v.status, r.person_id, coalesce(c.merged_into, c.id) FROM mpi.review v "
              "JOIN mpi.record r ON r.id = v.record_id JOIN mpi.person c ON c.id = "
              "v.candidate_person WHERE v.id = $1 FOR UPDATE OF v",
              1, p, PGRES_TUPLES_OK, &r, err));
    ENSURE(PQntuples(r) == 1, err, BASE_E_NOTFOUND, "not-found", "review", "no such review item");
    ENSURE(strcmp(mpi_val(r, 0, 0), "open") == 0, err, BASE_E_CONFLICT, "business-rule", "review",
           "review item already decided");
    if (t->decision == GW_MPI_SAME_PERSON && mpi_i64(r, 0, 1) != mpi_i64(r, 0, 2))
        TRY(mpi_merge_persons(db, a, mpi_i64(r, 0, 2), mpi_i64(r, 0, 1), t->actor,
                              t->note != NULL ? t->note : "review decision", &merge_id, err));
    p[1] = t->decision == GW_MPI_SAME_PERSON ? "same" : "not-same";
    p[2] = t->actor;
    p[3] = t->note;
    return mpi_cmd(db,
                   "UPDATE mpi.review SET status = $2, decided_at = now(), decided_by = $3, "
                   "note = $4 WHERE id = $1",
                   4, p, err);
}

int
gw_mpi_review_decide(PGconn *db, int64_t review_id, enum gw_mpi_decision decision,
                     const char *actor, const char *note, struct base_err *err)
{
    struct tx_decide t = {review_id, decision, actor, note};

    ENSURE(actor != NULL && actor[0] != '\0', err, BASE_E_INVALID, "required", "actor",
           "the actor is required");
    ENSURE(decision == GW_MPI_SAME_PERSON || decision == GW_MPI_NOT_SAME, err, BASE_E_INVALID,
           "value", "decision", "unknown decision");
    return in_tx(db, decide_body, &t, err);
}

/* ---- split ------------------------------------------------------------------------------------
 */

struct tx_split {
    const char *member;
    const char *system;
    const char *value;
    const char *actor;
    const char *reason;
    char *out;
    size_t cap;
};

static const char SQL_SPLIT[] =
    "WITH np AS (INSERT INTO mpi.person DEFAULT VALUES RETURNING id, public_id), "
    "up AS (UPDATE mpi.record r SET person_id = np.id, link_type = 'manual', link_score = 0, "
    "linked_at = now() FROM np WHERE r.id = $1), "
    "hi AS (INSERT INTO mpi.link_history (record_id, action, from_person, to_person, link_type, "
    "score, actor, reason) SELECT $1, 'split', $2, np.id, 'manual', 0, $3, $4 FROM np) "
    "SELECT public_id FROM np";

static int
split_body(PGconn *db, struct base_arena *a, void *arg, struct base_err *err)
{
    struct tx_split *t = arg;
    const char *p[4] = {t->member, t->system, t->value, NULL};
    PGresult *r;

    TRY(mpi_q(db, a,
              "SELECT r.id, r.person_id, (SELECT count(*) FROM mpi.record x WHERE x.person_id = "
              "r.person_id) FROM mpi.record r WHERE r.member_id = $1 AND r.local_system = $2 "
              "AND r.local_value = $3 FOR UPDATE",
              3, p, PGRES_TUPLES_OK, &r, err));
    ENSURE(PQntuples(r) == 1, err, BASE_E_NOTFOUND, "not-found", "record", "no such record");
    ENSURE(mpi_i64(r, 0, 2) > 1, err, BASE_E_CONFLICT, "business-rule", "record",
           "the record is already alone");
    p[0] = base_arena_strdup(a, mpi_val(r, 0, 0));
    p[1] = base_arena_strdup(a, mpi_val(r, 0, 1));
    p[2] = t->actor;
    p[3] = t->reason;
    ENSURE(p[0] && p[1], err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(mpi_q(db, a, SQL_SPLIT, 4, p, PGRES_TUPLES_OK, &r, err));
    snprintf(t->out, t->cap, "%s", mpi_val(r, 0, 0));
    return BASE_OK;
}

int
gw_mpi_split(PGconn *db, const char *member, const char *system, const char *value,
             const char *actor, const char *reason, char *new_person_id, size_t cap,
             struct base_err *err)
{
    struct tx_split t = {member, system, value, actor, reason, new_person_id, cap};

    ENSURE(actor != NULL && actor[0] != '\0', err, BASE_E_INVALID, "required", "actor",
           "the actor is required");
    ENSURE(member && system && value && new_person_id && cap >= 40, err, BASE_E_INVALID, "required",
           "record", "member, system and value are required");
    return in_tx(db, split_body, &t, err);
}

/* ---- history ------------------------------------------------------------------------------------
 */

static const char SQL_HISTORY[] =
    "SELECT to_char(h.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), h.action, "
    "r.member_id, r.local_system, r.local_value, "
    "coalesce(pf.public_id::text, ''), coalesce(pt.public_id::text, ''), "
    "coalesce(h.link_type, ''), coalesce(h.score, 0), h.actor, coalesce(h.reason, ''), "
    "coalesce(h.merge_id, 0) FROM mpi.link_history h JOIN mpi.record r ON r.id = h.record_id "
    "LEFT JOIN mpi.person pf ON pf.id = h.from_person LEFT JOIN mpi.person pt ON pt.id = "
    "h.to_person WHERE h.from_person = $1 OR h.to_person = $1 ORDER BY h.id LIMIT 10000";

int
gw_mpi_history(PGconn *db, struct base_arena *a, const char *person_id, json_t **out,
               struct base_err *err)
{
    const char *p[1];
    PGresult *r;
    int64_t pk = 0;
    json_t *arr;

    TRY(mpi_begin(db, err));
    if (active_pk(db, a, person_id, &pk, err) != BASE_OK) {
        mpi_rollback(db);
        return err != NULL ? err->rc : BASE_E_NOTFOUND;
    }
    mpi_rollback(db); /* read only; releases the row lock */
    p[0] = i64s(a, pk);
    ENSURE(p[0] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(mpi_q(db, a, SQL_HISTORY, 1, p, PGRES_TUPLES_OK, &r, err));
    arr = json_array();
    ENSURE(arr != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *h = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:I}", "at", mpi_val(r, i, 0),
            "action", mpi_val(r, i, 1), "member", mpi_val(r, i, 2), "system", mpi_val(r, i, 3),
            "value", mpi_val(r, i, 4), "fromPerson", mpi_val(r, i, 5), "toPerson", mpi_val(r, i, 6),
            "linkType", mpi_val(r, i, 7), "score", mpi_f64(r, i, 8), "actor", mpi_val(r, i, 9),
            "reason", mpi_val(r, i, 10), "mergeId", (json_int_t)mpi_i64(r, i, 11));

        if (h == NULL || json_array_append_new(arr, h) != 0) {
            json_decref(arr);
            return base_err_set(err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
        }
    }
    *out = arr;
    return BASE_OK;
}
