/*
 * gateway/mpi/match.c — Patient/$match (FHIR R4 patient-match; IHE PDQm
 * ITI-119 "Patient Demographics Match"): which regional persons a Patient a
 * client describes might be, graded.
 *
 * The evidence is the index's own (ingest.c), read without writing:
 *   - a valid resident identity number (GB 11643) held by a person, or a
 *     member's record number the client names (SYSTEM|VALUE): "certain";
 *   - the Fellegi-Sunter score against the persons the blocking keys find:
 *     at or above the upper threshold "probable", between the thresholds
 *     "possible", below nothing; a person holding a different valid
 *     resident identity number is never proposed ("certainly-not").
 * Bundle.entry.search.score is 1 for certain; for scored persons a linear
 * map of the score onto [0.5, 0.8) between the thresholds and [0.8, 0.99]
 * above (a display order, not a probability: the weights are log2 odds
 * estimated on synthetic data, docs/design/mpi.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/mpi_int.h"

#define MATCH_GRADE_URL "http://hl7.org/fhir/StructureDefinition/match-grade"

struct hit {
    int64_t pk;
    double score;
    const char *grade; /* certain | probable | possible */
};

struct hits {
    struct hit *v;
    size_t n, cap;
};

static void
hit_add(struct hits *h, int64_t pk, double score, const char *grade)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->v[i].pk == pk) {
            if (score > h->v[i].score) {
                h->v[i].score = score;
                h->v[i].grade = grade;
            }
            return;
        }
    }
    if (h->n < h->cap)
        h->v[h->n++] = (struct hit){pk, score, grade};
}

static int
by_score_desc(const void *x, const void *y)
{
    const struct hit *a = x;
    const struct hit *b = y;

    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return a->pk < b->pk ? -1 : a->pk > b->pk;
}

/* Persons holding the resident id or one of the named record numbers. */
static const char SQL_CERTAIN[] =
    "SELECT DISTINCT r.person_id FROM mpi.record r WHERE $1::text IS NOT NULL AND "
    "r.resident_id = $1 UNION SELECT r.person_id FROM mpi.identifier i JOIN mpi.record r ON "
    "r.id = i.record_id JOIN unnest($2::text[], $3::text[]) AS q(system, value) ON "
    "i.system = q.system AND i.value = q.value ORDER BY 1 LIMIT 100";

static int
certain_hits(PGconn *db, struct base_arena *a, const struct gw_mpi_identity *id, struct hits *h,
             struct base_err *err)
{
    const char *sys[GW_MPI_MAX_LOCAL_IDS];
    const char *val[GW_MPI_MAX_LOCAL_IDS];
    const char *p[3];
    PGresult *r;

    if (!id->has_resid && id->n_local == 0)
        return BASE_OK;
    for (size_t i = 0; i < id->n_local; i++) {
        sys[i] = id->local[i].system;
        val[i] = id->local[i].value;
    }
    p[0] = id->has_resid ? id->resid.number : NULL;
    p[1] = mpi_pg_array(a, sys, id->n_local);
    p[2] = mpi_pg_array(a, val, id->n_local);
    ENSURE(p[1] != NULL && p[2] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(mpi_q(db, a, SQL_CERTAIN, 3, p, PGRES_TUPLES_OK, &r, err));
    for (int i = 0; i < PQntuples(r); i++)
        hit_add(h, mpi_i64(r, i, 0), 1.0, "certain");
    return BASE_OK;
}

static double
display_score(const struct gw_mpi_config *cfg, double total)
{
    double span = cfg->upper - cfg->lower;
    double x;

    if (total >= cfg->upper) {
        x = (total - cfg->upper) / (span > 0 ? span : 1.0);
        return 0.8 + 0.19 * (x > 1.0 ? 1.0 : x);
    }
    x = (total - cfg->lower) / (span > 0 ? span : 1.0);
    return 0.5 + 0.3 * (x < 0 ? 0 : x);
}

static int
scored_hits(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
            const struct gw_mpi_identity *id, struct hits *h, struct base_err *err)
{
    struct mpi_cand *c = NULL;
    size_t n = 0;

    TRY(mpi_scored_candidates(db, a, cfg, id, &c, &n, err));
    for (size_t i = 0; i < n; i++) {
        double t = c[i].score.total;

        if (c[i].blocked || t < cfg->lower)
            continue;
        /* the twin guard (same household, another name) caps at possible */
        hit_add(h, c[i].person_pk, display_score(cfg, t),
                t >= cfg->upper && !c[i].score.twin_guard ? "probable" : "possible");
    }
    return BASE_OK;
}

static int
add_entry(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg, const struct hit *h,
          const char *base_url, json_t *entries, struct base_err *err)
{
    json_t *pt = NULL;
    json_t *e;
    char score[16];

    TRY(mpi_patient_of(db, a, cfg, h->pk, &pt, err));
    int len = snprintf(score, sizeof(score), "%.3f", h->score);

    e = json_pack("{s:o, s:{s:s, s:o, s:[{s:s, s:s}]}}", "resource", pt, "search", "mode", "match",
                  "score", fhir_json_decimal(score, (size_t)len), "extension", "url",
                  MATCH_GRADE_URL, "valueCode", h->grade);
    return mpi_entry_append(a, base_url, entries, e, err);
}

int
gw_mpi_match(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
             const json_t *patient, const struct gw_mpi_match_opts *o, const char *base_url,
             json_t **out, struct base_err *err)
{
    struct gw_mpi_identity id;
    struct hits h = {0};
    size_t count =
        o->count == 0 || o->count > GW_MPI_LIMIT_PDQ_COUNT ? GW_MPI_LIMIT_PDQ_COUNT : o->count;
    size_t certain = 0;
    json_t *bundle;
    json_t *entries;

    TRY(gw_mpi_identity_for_match(a, patient, cfg->today, &id, err));
    /* enough to tell people apart: an identifier, or a name with a birth date */
    ENSURE(id.has_resid || id.n_local > 0 ||
               (((id.name_han != NULL && id.name_han[0] != '\0') ||
                 (id.name_py != NULL && id.name_py[0] != '\0')) &&
                id.birth_year > 0),
           err, BASE_E_INVALID, "required", "Patient",
           "$match needs an identifier, or a name with a birth date");
    h.cap = GW_MPI_LIMIT_CANDIDATES + 100;
    h.v = BASE_NEW_N(a, struct hit, h.cap);
    ENSURE(h.v != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(certain_hits(db, a, &id, &h, err));
    if (!o->only_certain)
        TRY(scored_hits(db, a, cfg, &id, &h, err));
    qsort(h.v, h.n, sizeof(*h.v), by_score_desc);
    for (size_t i = 0; i < h.n; i++)
        certain += strcmp(h.v[i].grade, "certain") == 0;
    bundle = json_pack("{s:s, s:s, s:i, s:[]}", "resourceType", "Bundle", "type", "searchset",
                       "total", 0, "entry");
    ENSURE(bundle != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(fhir_json_tie(a, bundle));
    entries = json_object_get(bundle, "entry");
    /* onlyCertainMatches: one certain person, or nothing (R4 patient-match:
     * "if there are multiple potential matches ... should not return" them) */
    for (size_t i = 0; i < h.n && json_array_size(entries) < count; i++) {
        if (o->only_certain && certain != 1)
            break;
        TRY(add_entry(db, a, cfg, &h.v[i], base_url, entries, err));
    }
    json_object_set_new(bundle, "total", json_integer((json_int_t)json_array_size(entries)));
    if (json_array_size(entries) == 0)
        json_object_del(bundle, "entry"); /* JSON FHIR has no empty arrays */
    *out = json_incref(bundle);
    return BASE_OK;
}
