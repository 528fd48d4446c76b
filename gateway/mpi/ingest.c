/*
 * gateway/mpi/ingest.c — linking a reported identity to a regional person.
 *
 * Order of evidence:
 *   1. the same record reported again (member + local identifier): update;
 *   2. a valid resident identity number held by exactly one person: link
 *      deterministically, whatever the demographics say (names are typed
 *      differently at each hospital; the number is checked by GB 11643);
 *   3. Fellegi–Sunter score against the persons found through the blocking
 *      keys: >= upper links, [lower, upper) queues for review, else a new
 *      person.  A candidate whose records carry a different valid resident
 *      identity number is never linked nor proposed; a pair caught by the
 *      twin guard, or two persons above the upper threshold, go to review.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/mpi_int.h"

/* pg_advisory_xact_lock key serializing ingests ("MPI" in ASCII). */
#define INGEST_LOCK "5066825"
#define MAX_REVIEWS 5
#define ACTOR       "mpi"

struct plan {
    enum gw_mpi_outcome outcome;
    int64_t person_pk; /* link target (0: create a person) */
    const char *person_id;
    enum gw_mpi_link_type link;
    double score;
    struct mpi_cand *review[MAX_REVIEWS];
    const char *review_reason[MAX_REVIEWS];
    size_t n_review;
    bool any_blocked; /* a candidate was set aside for a different resident id */
};

struct gw_mpi_config
gw_mpi_config_default(void)
{
    struct gw_mpi_config c = {
        .upper = 25.0,
        .lower = 12.0,
        .person_system = GW_MPI_PERSON_SYSTEM_DEFAULT,
        .max_candidates = GW_MPI_LIMIT_CANDIDATES,
        .today = 0,
    };
    return c;
}

const char *
gw_mpi_outcome_name(enum gw_mpi_outcome o)
{
    switch (o) {
    case GW_MPI_CREATED:
        return "created";
    case GW_MPI_LINKED_DETERMINISTIC:
        return "linked-deterministic";
    case GW_MPI_LINKED_PROBABILISTIC:
        return "linked-probabilistic";
    case GW_MPI_REVIEW:
        return "review";
    case GW_MPI_UPDATED:
        return "updated";
    default:
        return "?";
    }
}

const char *
gw_mpi_link_type_name(enum gw_mpi_link_type t)
{
    switch (t) {
    case GW_MPI_LINK_DETERMINISTIC:
        return "deterministic";
    case GW_MPI_LINK_PROBABILISTIC:
        return "probabilistic";
    case GW_MPI_LINK_MANUAL:
        return "manual";
    case GW_MPI_LINK_SOLE:
        return "sole";
    default:
        return "?";
    }
}

int
mpi_history(PGconn *db, int64_t record_pk, const char *action, int64_t from_person,
            int64_t to_person, const char *link_type, double score, const char *actor,
            const char *reason, int64_t merge_id, struct base_err *err)
{
    char rec[24];
    char from[24];
    char to[24];
    char sc[32];
    char mid[24];
    const char *p[9];

    snprintf(rec, sizeof(rec), "%lld", (long long)record_pk);
    snprintf(from, sizeof(from), "%lld", (long long)from_person);
    snprintf(to, sizeof(to), "%lld", (long long)to_person);
    snprintf(sc, sizeof(sc), "%.4f", score);
    snprintf(mid, sizeof(mid), "%lld", (long long)merge_id);
    p[0] = rec;
    p[1] = action;
    p[2] = from_person > 0 ? from : NULL;
    p[3] = to_person > 0 ? to : NULL;
    p[4] = link_type;
    p[5] = sc;
    p[6] = actor;
    p[7] = reason;
    p[8] = merge_id > 0 ? mid : NULL;
    return mpi_cmd(db,
                   "INSERT INTO mpi.link_history (record_id, action, from_person, to_person, "
                   "link_type, score, actor, reason, merge_id) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   9, p, err);
}

/* ---- reading candidates --------------------------------------------------------- */

static struct mpi_cand *
find_cand(struct mpi_cand *c, size_t n, int64_t person_pk)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].person_pk == person_pk)
            return &c[i];
    }
    return NULL;
}

/* Candidate records, with the name counts for the frequency-based weight
 * and, per record, whether its person holds a resident id other than ours
 * (one round trip). */
static const char SQL_CANDIDATES[] =
    "SELECT x.* FROM (SELECT DISTINCT record_id FROM mpi.block WHERE key = ANY($1::text[]) "
    "LIMIT $2::int) b CROSS JOIN LATERAL (SELECT " MPI_RECORD_COLS ", "
    "(SELECT n FROM mpi.name_freq WHERE key = '*'), "
    "(SELECT n FROM mpi.name_freq WHERE key = $3), "
    "(SELECT n FROM mpi.name_freq WHERE key = $4), "
    "($5::text IS NOT NULL AND EXISTS (SELECT 1 FROM mpi.record x WHERE x.person_id = "
    "r.person_id AND x.resident_id <> $5)) "
    "FROM mpi.record r JOIN mpi.person p ON p.id = r.person_id WHERE r.id = b.record_id) x";

static void
keep_best(struct mpi_cand *c, size_t *n, const struct mpi_row *row, const struct gw_mpi_score *s,
          bool blocked)
{
    struct mpi_cand *x = find_cand(c, *n, row->person_pk);

    if (x == NULL) {
        x = &c[(*n)++];
        x->person_pk = row->person_pk;
        x->person_id = row->person_id;
        x->score.total = -1e9;
    }
    if (s->resid_conflict || blocked)
        x->blocked = true;
    if (s->total > x->score.total) {
        x->score = *s;
        x->record_pk = row->record_id;
    }
}

static int
by_score_desc(const void *x, const void *y)
{
    double a = ((const struct mpi_cand *)x)->score.total;
    double b = ((const struct mpi_cand *)y)->score.total;

    return a < b ? 1 : a > b ? -1 : 0;
}

/* Parameters of SQL_CANDIDATES (5). */
static int
candidate_params(struct base_arena *a, const struct gw_mpi_config *cfg,
                 const struct gw_mpi_identity *id, const char **p, struct base_err *err)
{
    const char **keys;
    size_t nk = 0;

    TRY(mpi_block_keys(a, id, &keys));
    while (keys[nk] != NULL)
        nk++;
    p[0] = mpi_pg_array(a, keys, nk);
    p[1] = base_arena_sprintf(a, "%zu", cfg->max_candidates);
    p[2] = base_arena_sprintf(a, "h:%s", id->name_han);
    p[3] = base_arena_sprintf(a, "p:%s", id->name_py);
    p[4] = id->has_resid ? id->resid.number : NULL;
    ENSURE(p[0] && p[1] && p[2] && p[3], err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    return BASE_OK;
}

/* Score every candidate record; keep the best pair per person, best first. */
static int
score_rows(struct base_arena *a, const struct gw_mpi_identity *id, const PGresult *r,
           struct mpi_cand **out, size_t *n_out, struct base_err *err)
{
    struct gw_mpi_name_freq freq;
    size_t n = 0;
    struct mpi_cand *c = BASE_NEW_N(a, struct mpi_cand, (size_t)PQntuples(r) + 1);

    ENSURE(c != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    for (int i = 0; i < PQntuples(r); i++) {
        struct mpi_row row;
        struct gw_mpi_score s;

        freq.n_total = (double)mpi_i64(r, i, MPI_RECORD_NCOLS);
        freq.n_han = (double)mpi_i64(r, i, MPI_RECORD_NCOLS + 1);
        freq.n_py = (double)mpi_i64(r, i, MPI_RECORD_NCOLS + 2);
        TRY(mpi_row_from_result(a, r, i, &row));
        gw_mpi_score_pair(id, &row.id, &freq, &s);
        keep_best(c, &n, &row, &s, mpi_val(r, i, MPI_RECORD_NCOLS + 3)[0] == 't');
    }
    /* best first, so the review items kept are the likeliest */
    qsort(c, n, sizeof(*c), by_score_desc);
    *out = c;
    *n_out = n;
    return BASE_OK;
}

int
mpi_scored_candidates(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                      const struct gw_mpi_identity *id, struct mpi_cand **out, size_t *n,
                      struct base_err *err)
{
    const char *p[5];
    PGresult *r;

    TRY(candidate_params(a, cfg, id, p, err));
    TRY(mpi_q(db, a, SQL_CANDIDATES, 5, p, PGRES_TUPLES_OK, &r, err));
    return score_rows(a, id, r, out, n, err);
}

/* ---- deciding ------------------------------------------------------------------------ */

static void
add_review(struct plan *pl, struct mpi_cand *c, const char *reason)
{
    if (pl->n_review < MAX_REVIEWS) {
        pl->review[pl->n_review] = c;
        pl->review_reason[pl->n_review] = reason;
        pl->n_review++;
    }
}

/* Bits by which the best person must beat the runner-up above the upper
 * threshold (2^4 = 16 times likelier) for an automatic link. */
#define CLEAR_MARGIN 4.0
/* Proposals more than 2^8 times less likely than the best are noise for a
 * reviewer. */
#define REVIEW_SPAN 8.0

static void
decide(const struct gw_mpi_config *cfg, struct mpi_cand *c, size_t n, struct plan *pl)
{
    struct mpi_cand *best = NULL;
    double second = -1e9;

    for (size_t i = 0; i < n; i++) {
        if (c[i].blocked || c[i].score.twin_guard)
            continue;
        if (best == NULL || c[i].score.total > best->score.total) {
            second = best != NULL ? best->score.total : second;
            best = &c[i];
        } else if (c[i].score.total > second) {
            second = c[i].score.total;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!c[i].blocked && c[i].score.total > pl->score)
            pl->score = c[i].score.total;
        pl->any_blocked = pl->any_blocked || c[i].blocked;
    }
    /* Two persons above the threshold are often one human split earlier
     * (a record that only reached review); link to the clearly better one
     * and let a reviewer join the other. */
    bool clear = best != NULL && best->score.total >= cfg->upper &&
                 (second < cfg->upper || best->score.total - second >= CLEAR_MARGIN);
    if (clear) {
        pl->outcome = GW_MPI_LINKED_PROBABILISTIC;
        pl->person_pk = best->person_pk;
        pl->person_id = best->person_id;
        pl->link = GW_MPI_LINK_PROBABILISTIC;
        pl->score = best->score.total;
    }
    /* Proposals: after a clear link only the other persons above the upper
     * threshold (probably the same human, split earlier); otherwise the
     * persons above the lower one and within REVIEW_SPAN bits of the top. */
    double floor = clear ? cfg->upper : cfg->lower;
    if (!clear && n > 0 && c[0].score.total - REVIEW_SPAN > floor)
        floor = c[0].score.total - REVIEW_SPAN;
    for (size_t i = 0; i < n; i++) {
        if (c[i].blocked || c[i].score.total < floor || (clear && &c[i] == best))
            continue;
        add_review(pl, &c[i],
                   c[i].score.twin_guard            ? "twin-guard"
                   : c[i].score.total >= cfg->upper ? "ambiguous"
                                                    : "score");
    }
    if (!clear) {
        pl->outcome = pl->n_review > 0 ? GW_MPI_REVIEW : GW_MPI_CREATED;
        pl->link = GW_MPI_LINK_SOLE;
    }
}

/* Persons holding this valid resident identity number ($1 NULL: none). */
static const char SQL_BY_RESID[] =
    "SELECT p.id, p.public_id FROM (SELECT DISTINCT person_id FROM mpi.record WHERE "
    "resident_id = $1) r CROSS JOIN LATERAL (SELECT id, public_id FROM mpi.person WHERE id = "
    "r.person_id AND status = 'active') p ORDER BY p.id LIMIT 5";

/* The record links deterministically; a person without the number that it
 * matches above the upper threshold is probably the same human, reported
 * earlier without the number: propose joining them. */
static void
propose_bridges(const struct gw_mpi_config *cfg, struct mpi_cand *c, size_t n, struct plan *pl)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].person_pk != pl->person_pk && !c[i].blocked && !c[i].score.twin_guard &&
            c[i].score.total >= cfg->upper)
            add_review(pl, &c[i], "bridge");
    }
}

/* `resid`: persons holding the record's resident id; `c`: scored candidates. */
static int
plan_link(struct base_arena *a, const struct gw_mpi_config *cfg, const PGresult *resid,
          struct mpi_cand *c, size_t n, struct plan *pl, struct base_err *err)
{
    if (PQntuples(resid) == 1) {
        pl->outcome = GW_MPI_LINKED_DETERMINISTIC;
        pl->person_pk = mpi_i64(resid, 0, 0);
        pl->person_id = base_arena_strdup(a, mpi_val(resid, 0, 1));
        pl->link = GW_MPI_LINK_DETERMINISTIC;
        pl->score = 0;
        ENSURE(pl->person_id != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
        propose_bridges(cfg, c, n, pl);
        return BASE_OK;
    }
    if (PQntuples(resid) > 1) {
        /* Several persons share it (after an unmerge or a split): a human decides. */
        struct mpi_cand *h = BASE_NEW_N(a, struct mpi_cand, (size_t)PQntuples(resid));

        ENSURE(h != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
        for (int i = 0; i < PQntuples(resid); i++) {
            h[i].person_pk = mpi_i64(resid, i, 0);
            h[i].person_id = mpi_val(resid, i, 1);
            add_review(pl, &h[i], "resident-id");
        }
        pl->outcome = GW_MPI_REVIEW;
        pl->link = GW_MPI_LINK_SOLE;
        return BASE_OK;
    }
    decide(cfg, c, n, pl);
    return BASE_OK;
}

static const char *
fields_json(struct base_arena *a, const struct gw_mpi_score *s)
{
    json_t *arr = json_array();

    if (arr == NULL || fhir_json_tie(a, arr) != BASE_OK)
        return NULL;
    for (int f = 0; f < GW_MPI_F_COUNT; f++) {
        json_t *o = json_pack("{s:s, s:s, s:f}", "field", gw_mpi_field_name(f), "level",
                              gw_mpi_level_name(s->level[f]), "weight",
                              (double)(int)(s->weight[f] * 100.0) / 100.0);

        if (o == NULL || json_array_append_new(arr, o) != 0)
            return NULL;
    }
    return fhir_json_dump_arena(arr, 0, a, NULL);
}

static int
open_reviews(PGconn *db, struct base_arena *a, int64_t record_pk, const struct plan *pl,
             struct base_err *err)
{
    for (size_t i = 0; i < pl->n_review; i++) {
        const struct mpi_cand *c = pl->review[i];
        const char *p[5];

        p[0] = base_arena_sprintf(a, "%lld", (long long)record_pk);
        p[1] = base_arena_sprintf(a, "%lld", (long long)c->person_pk);
        p[2] = base_arena_sprintf(a, "%.4f", c->score.total);
        p[3] = fields_json(a, &c->score);
        p[4] = pl->review_reason[i];
        ENSURE(p[0] && p[1] && p[2] && p[3], err, BASE_E_NOMEM, "exception", "mpi",
               "out of memory");
        TRY(mpi_cmd(db,
                    "INSERT INTO mpi.review (record_id, candidate_person, score, fields, reason) "
                    "VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT DO NOTHING",
                    5, p, err));
    }
    return BASE_OK;
}

/* Parameters $1..$17 of the record's demographic columns. */
static int
demo_params(struct base_arena *a, const struct gw_mpi_identity *id, const json_t *patient,
            const char **p, struct base_err *err)
{
    p[0] = id->has_resid ? id->resid.number : NULL;
    p[1] = id->name_han;
    p[2] = id->name_py;
    p[3] = id->name_py_family;
    p[4] = id->name_py_given;
    p[5] = id->name_latin_only ? "t" : "f";
    p[6] = base_arena_sprintf(a, "%d", id->birth_year);
    p[7] = base_arena_sprintf(a, "%d", id->birth_month);
    p[8] = base_arena_sprintf(a, "%d", id->birth_day);
    p[9] = base_arena_sprintf(a, "%d", (int)id->sex);
    p[10] = mpi_pg_array(a, id->phone, id->n_phone);
    p[11] = id->addr_province;
    p[12] = id->addr_city;
    p[13] = id->addr_district;
    p[14] = id->addr_detail;
    p[15] = patient != NULL ? fhir_json_dump_arena(patient, 0, a, NULL) : NULL;
    for (int i = 6; i <= 10; i++)
        ENSURE(p[i] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    ENSURE(patient == NULL || p[15] != NULL, err, BASE_E_NOMEM, "exception", "mpi",
           "out of memory");
    return BASE_OK;
}

/* Identifier and blocking-key arrays ($1 systems, $2 values, $3 keys). */
static int
key_params(struct base_arena *a, const struct gw_mpi_identity *id, const char **p,
           struct base_err *err)
{
    const char *sys[GW_MPI_MAX_LOCAL_IDS];
    const char *val[GW_MPI_MAX_LOCAL_IDS];
    const char **keys;
    size_t nk = 0;

    for (size_t i = 0; i < id->n_local; i++) {
        sys[i] = id->local[i].system;
        val[i] = id->local[i].value;
    }
    TRY(mpi_block_keys(a, id, &keys));
    while (keys[nk] != NULL)
        nk++;
    p[0] = mpi_pg_array(a, sys, id->n_local);
    p[1] = mpi_pg_array(a, val, id->n_local);
    p[2] = mpi_pg_array(a, keys, nk);
    ENSURE(p[0] && p[1] && p[2], err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    return BASE_OK;
}

/* One round trip: the record, its identifiers, blocking keys, name counts
 * and the first history row. */
static const char SQL_INSERT_RECORD[] =
    "WITH np AS (INSERT INTO mpi.person SELECT WHERE $4::bigint IS NULL RETURNING id, "
    "public_id), "
    "rec AS (INSERT INTO mpi.record (member_id, local_system, local_value, person_id, "
    "link_type, link_score, resident_id, name_han, name_py, name_py_family, name_py_given, "
    "name_latin_only, birth_year, birth_month, birth_day, sex, phones, addr_province, "
    "addr_city, addr_district, addr_detail, resource) VALUES ($1, $2, $3, coalesce($4::bigint, "
    "(SELECT id FROM np)), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::text[], "
    "$18, $19, $20, $21, $22::jsonb) RETURNING id, person_id), "
    "ids AS (INSERT INTO mpi.identifier (system, value, record_id) SELECT s, v, rec.id FROM "
    "rec, unnest($23::text[], $24::text[]) AS t(s, v) ON CONFLICT DO NOTHING), "
    "blk AS (INSERT INTO mpi.block (key, record_id) SELECT k, rec.id FROM rec, "
    "unnest($25::text[]) AS k ON CONFLICT DO NOTHING), "
    "frq AS (INSERT INTO mpi.name_freq (key, n) SELECT k, 1 FROM unnest($26::text[]) AS k "
    "ON CONFLICT (key) DO UPDATE SET n = mpi.name_freq.n + 1), "
    "his AS (INSERT INTO mpi.link_history (record_id, action, to_person, link_type, score, "
    "actor) SELECT rec.id, 'link', rec.person_id, $5, $6, '" ACTOR "' FROM rec) "
    "SELECT rec.id, rec.person_id, (SELECT public_id FROM np) FROM rec";

/* Insert the record (and, when pl->person_pk is 0, its new person: the
 * plan gets the person's keys). */
static int
insert_record(PGconn *db, struct base_arena *a, const struct gw_mpi_identity *id,
              const json_t *patient, struct plan *pl, int64_t *record_pk, struct base_err *err)
{
    const char *p[26];
    const char *freq[3] = {"*", NULL, NULL};
    size_t nf = 1;
    PGresult *r;

    p[0] = id->member;
    p[1] = id->key.system;
    p[2] = id->key.value;
    p[3] = pl->person_pk > 0 ? base_arena_sprintf(a, "%lld", (long long)pl->person_pk) : "";
    p[4] = gw_mpi_link_type_name(pl->link);
    p[5] = base_arena_sprintf(a, "%.4f", pl->link == GW_MPI_LINK_PROBABILISTIC ? pl->score : 0);
    TRY(demo_params(a, id, patient, p + 6, err));
    TRY(key_params(a, id, p + 22, err));
    if (id->name_han[0] != '\0')
        freq[nf++] = base_arena_sprintf(a, "h:%s", id->name_han);
    if (id->name_py[0] != '\0')
        freq[nf++] = base_arena_sprintf(a, "p:%s", id->name_py);
    p[25] = mpi_pg_array(a, freq, nf);
    ENSURE(p[3] && p[5] && p[25] && freq[nf - 1], err, BASE_E_NOMEM, "exception", "mpi",
           "out of memory");
    if (pl->person_pk == 0)
        p[3] = NULL;
    TRY(mpi_q(db, a, SQL_INSERT_RECORD, 26, p, PGRES_TUPLES_OK, &r, err));
    *record_pk = mpi_i64(r, 0, 0);
    if (pl->person_pk == 0) {
        pl->person_pk = mpi_i64(r, 0, 1);
        pl->person_id = mpi_val(r, 0, 2);
    }
    return BASE_OK;
}

static const char SQL_UPDATE_RECORD[] =
    "WITH upd AS (UPDATE mpi.record SET resident_id = $2, name_han = $3, name_py = $4, "
    "name_py_family = $5, name_py_given = $6, name_latin_only = $7, birth_year = $8, "
    "birth_month = $9, birth_day = $10, sex = $11, phones = $12::text[], addr_province = $13, "
    "addr_city = $14, addr_district = $15, addr_detail = $16, resource = $17::jsonb, "
    "updated_at = now() WHERE id = $1 RETURNING id), "
    "di AS (DELETE FROM mpi.identifier WHERE record_id = $1 AND NOT (system, value) IN "
    "(SELECT * FROM unnest($18::text[], $19::text[]))), "
    "ii AS (INSERT INTO mpi.identifier (system, value, record_id) SELECT s, v, $1 FROM "
    "unnest($18::text[], $19::text[]) AS t(s, v) ON CONFLICT DO NOTHING), "
    "db AS (DELETE FROM mpi.block WHERE record_id = $1 AND NOT key = ANY($20::text[])), "
    "ib AS (INSERT INTO mpi.block (key, record_id) SELECT k, $1 FROM unnest($20::text[]) AS k "
    "ON CONFLICT DO NOTHING) "
    "SELECT id FROM upd";

/* A record reported again: refresh it and keep its link.  If it now carries
 * a valid resident id that another person holds, propose that person. */
static int
update_record(PGconn *db, struct base_arena *a, const struct gw_mpi_identity *id,
              const json_t *patient, int64_t record_pk, int64_t person_pk, const PGresult *resid,
              struct gw_mpi_ingest_result *out, struct base_err *err)
{
    const char *p[20];
    PGresult *r;
    struct plan pl;

    memset(&pl, 0, sizeof(pl));
    p[0] = base_arena_sprintf(a, "%lld", (long long)record_pk);
    ENSURE(p[0] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(demo_params(a, id, patient, p + 1, err));
    TRY(key_params(a, id, p + 17, err));
    TRY(mpi_q(db, a, SQL_UPDATE_RECORD, 20, p, PGRES_TUPLES_OK, &r, err));
    TRY(mpi_history(db, record_pk, "update", person_pk, person_pk, NULL, 0, ACTOR,
                    "demographics updated", 0, err));
    out->outcome = GW_MPI_UPDATED;
    for (int i = 0; i < PQntuples(resid); i++) {
        struct mpi_cand *c = BASE_NEW(a, struct mpi_cand);

        ENSURE(c != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
        c->person_pk = mpi_i64(resid, i, 0);
        if (c->person_pk != person_pk)
            add_review(&pl, c, "resident-id");
    }
    out->n_review = pl.n_review;
    return open_reviews(db, a, record_pk, &pl, err);
}

static const char SQL_FIND_RECORD[] =
    "SELECT r.id, r.person_id, p.public_id FROM mpi.record r JOIN mpi.person p ON p.id = "
    "r.person_id WHERE r.member_id = $1 AND r.local_system = $2 AND r.local_value = $3";

enum { RD_BEGIN, RD_LOCK, RD_FIND, RD_RESID, RD_CANDIDATES, RD_COUNT };

/* Everything the decision needs, read in one round trip: the transaction
 * starts, the ingest lock is taken, then the record, the persons holding its
 * resident id and the scored candidates are read. */
static int
read_phase(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
           const struct gw_mpi_identity *id, struct mpi_stmt *st, struct base_err *err)
{
    const char **find = BASE_NEW_N(a, const char *, 3);
    const char **resid = BASE_NEW_N(a, const char *, 1);
    const char **cands = BASE_NEW_N(a, const char *, 5);

    ENSURE(find && resid && cands, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    find[0] = id->member;
    find[1] = id->key.system;
    find[2] = id->key.value;
    resid[0] = id->has_resid ? id->resid.number : NULL;
    TRY(candidate_params(a, cfg, id, cands, err));
    st[RD_BEGIN] = (struct mpi_stmt){"BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL};
    st[RD_LOCK] = (struct mpi_stmt){"SELECT pg_advisory_xact_lock(" INGEST_LOCK ")", 0, NULL,
                                    PGRES_TUPLES_OK, NULL};
    st[RD_FIND] = (struct mpi_stmt){SQL_FIND_RECORD, 3, find, PGRES_TUPLES_OK, NULL};
    st[RD_RESID] = (struct mpi_stmt){SQL_BY_RESID, 1, resid, PGRES_TUPLES_OK, NULL};
    st[RD_CANDIDATES] = (struct mpi_stmt){SQL_CANDIDATES, 5, cands, PGRES_TUPLES_OK, NULL};
    return mpi_pipeline(db, a, st, RD_COUNT, err);
}

/*
 * A member's own merge (HL7 v2 A40 and its kin, mapped to Patient.link):
 * the retired record says "replaced-by Patient/Y", the survivor "replaces
 * Patient/X", each a record of the same member.  That member asserts one
 * person, so the index follows as IHE PIX (ITI-8 merge) does: the retired
 * record's person is merged into the survivor's (gw_mpi_unmerge can undo
 * it).  Whichever of the two reports arrives second makes the merge.
 * Persons with different valid resident ids are not merged (a warning):
 * that needs a person to decide.
 */
static const char SQL_MEMBER_RECORD[] =
    "SELECT r.person_id, p.public_id FROM mpi.record r JOIN mpi.person p ON p.id = r.person_id "
    "WHERE r.member_id = $1 AND r.resource->>'id' = $2 AND p.status = 'active' LIMIT 1";

/* "Patient/ID" or ".../Patient/ID" → ID (in `a`), else NULL. */
static const char *
local_patient_id(struct base_arena *a, const char *ref)
{
    const char *at = ref != NULL ? strstr(ref, "Patient/") : NULL;

    if (at == NULL || (at != ref && at[-1] != '/') || at[8] == '\0' || strchr(at + 8, '/'))
        return NULL;
    return base_arena_strdup(a, at + 8);
}

static int
follow_member_merge(PGconn *db, struct base_arena *a, const char *member, const json_t *patient,
                    int64_t person_pk, struct gw_mpi_ingest_result *out, struct base_err *err)
{
    const json_t *links = json_object_get(patient, "link");
    const json_t *l;
    size_t i;

    json_array_foreach((json_t *)links, i, l)
    {
        const char *type = json_string_value(json_object_get(l, "type"));
        const char *other = local_patient_id(
            a, json_string_value(json_object_get(json_object_get(l, "other"), "reference")));
        bool retired = type != NULL && strcmp(type, "replaced-by") == 0;
        const char *p[2] = {member, other};
        int64_t merge_id = 0;
        int64_t other_pk;
        PGresult *r;
        int rc;

        if (other == NULL || (!retired && (type == NULL || strcmp(type, "replaces") != 0)))
            continue;
        TRY(mpi_q(db, a, SQL_MEMBER_RECORD, 2, p, PGRES_TUPLES_OK, &r, err));
        if (PQntuples(r) != 1 || (other_pk = mpi_i64(r, 0, 0)) == person_pk)
            continue; /* not reported yet (its own report will merge), or done */
        rc = retired ? mpi_merge_persons(db, a, other_pk, person_pk, ACTOR,
                                         "merged at the member (Patient.link replaced-by)",
                                         &merge_id, err)
                     : mpi_merge_persons(db, a, person_pk, other_pk, ACTOR,
                                         "merged at the member (Patient.link replaces)", &merge_id,
                                         err);
        if (rc == BASE_E_CONFLICT) {
            BASE_LOG(BASE_LOG_WARN, "mpi_member_merge", "member=%s merge not followed: %s", member,
                     err->msg);
            base_err_clear(err);
            continue;
        }
        TRY(rc);
        if (retired) {
            snprintf(out->person_id, sizeof(out->person_id), "%s", mpi_val(r, 0, 1));
            person_pk = other_pk;
        }
        out->member_merges++;
    }
    return BASE_OK;
}

/* The person a record is linked to now. */
static int
record_person(PGconn *db, struct base_arena *a, int64_t record_pk, int64_t *person_pk,
              struct base_err *err)
{
    const char *p[1] = {base_arena_sprintf(a, "%lld", (long long)record_pk)};
    PGresult *r;

    ENSURE(p[0] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(mpi_q(db, a, "SELECT person_id FROM mpi.record WHERE id = $1", 1, p, PGRES_TUPLES_OK, &r,
              err));
    ENSURE(PQntuples(r) == 1, err, BASE_E_INTERNAL, "exception", "mpi", "record vanished");
    *person_pk = mpi_i64(r, 0, 0);
    return BASE_OK;
}

/* Runs the whole transaction; the caller commits or rolls back. */
static int
ingest_tx(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
          const struct gw_mpi_identity *id, const json_t *patient, struct gw_mpi_ingest_result *out,
          struct base_err *err)
{
    struct mpi_stmt st[RD_COUNT];
    struct plan pl;
    struct mpi_cand *c = NULL;
    size_t n = 0;
    int64_t record_pk = 0;
    const PGresult *found;

    memset(&pl, 0, sizeof(pl));
    TRY(read_phase(db, a, cfg, id, st, err));
    found = st[RD_FIND].res;
    if (PQntuples(found) == 1) {
        snprintf(out->person_id, sizeof(out->person_id), "%s", mpi_val(found, 0, 2));
        TRY(update_record(db, a, id, patient, mpi_i64(found, 0, 0), mpi_i64(found, 0, 1),
                          st[RD_RESID].res, out, err));
        return follow_member_merge(db, a, id->member, patient, mpi_i64(found, 0, 1), out, err);
    }
    TRY(score_rows(a, id, st[RD_CANDIDATES].res, &c, &n, err));
    TRY(plan_link(a, cfg, st[RD_RESID].res, c, n, &pl, err));
    TRY(insert_record(db, a, id, patient, &pl, &record_pk, err));
    TRY(open_reviews(db, a, record_pk, &pl, err));
    out->outcome = pl.outcome;
    out->score = pl.score;
    out->n_review = pl.n_review;
    out->resid_conflict = pl.any_blocked;
    snprintf(out->person_id, sizeof(out->person_id), "%s", pl.person_id);
    if (json_object_get(patient, "link") == NULL)
        return BASE_OK;
    int64_t person_pk = 0;
    TRY(record_person(db, a, record_pk, &person_pk, err));
    return follow_member_merge(db, a, id->member, patient, person_pk, out, err);
}

int
gw_mpi_ingest(PGconn *db, const struct gw_mpi_config *cfg, const struct gw_mpi_identity *id,
              const json_t *patient, struct gw_mpi_ingest_result *out, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    int rc;

    memset(out, 0, sizeof(*out));
    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    rc = ingest_tx(db, a, cfg, id, patient, out, err);
    if (rc == BASE_OK)
        rc = mpi_commit(db, err);
    else
        mpi_rollback(db);
    if (rc == BASE_OK)
        BASE_LOG(BASE_LOG_DEBUG, "mpi_ingest", "outcome=%s score=%.2f reviews=%zu",
                 gw_mpi_outcome_name(out->outcome), out->score, out->n_review);
    base_arena_free(a);
    return rc;
}

int
gw_mpi_ingest_identity(PGconn *db, const struct gw_mpi_config *cfg, const char *member,
                       const json_t *patient, struct gw_mpi_ingest_result *out,
                       struct base_err *err)
{
    struct base_arena *a = base_arena_new(4u << 20);
    struct gw_mpi_identity id;
    int rc;

    memset(out, 0, sizeof(*out));
    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    rc = gw_mpi_identity_from_patient(a, member, patient, cfg->today, &id, err);
    if (rc == BASE_OK)
        rc = gw_mpi_ingest(db, cfg, &id, patient, out, err);
    base_arena_free(a);
    return rc;
}
