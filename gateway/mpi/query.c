/*
 * gateway/mpi/query.c — resolve, the regional Patient, PIXm and PDQm.
 *
 * IHE ITI-83 (PIXm) answers a Parameters resource with targetIdentifier and
 * targetId; ITI-78 (PDQm) a searchset Bundle of Patients.  The regional
 * Patient carries every identifier of the person: the regional one, the
 * resident identity number, and each member's local identifiers with the
 * member as Identifier.assigner, so a caller (federation) can query each
 * member with its own local identifier.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/mpi_int.h"

#define MPI_MOTHERS_MAIDEN_NAME_URL                                                                \
    "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"

static bool
uuid_syntax(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];

        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Public id -> active person pk, following merges. */
static int
person_by_public(PGconn *db, struct base_arena *a, const char *public_id, int64_t *pk,
                 struct base_err *err)
{
    const char *p[1] = {public_id};
    PGresult *r;

    ENSURE(uuid_syntax(public_id), err, BASE_E_NOTFOUND, "not-found", "Patient.id",
           "no such person");
    TRY(mpi_q(db, a,
              "WITH RECURSIVE chain(id, merged_into, depth) AS (SELECT id, merged_into, 0 FROM "
              "mpi.person WHERE public_id = $1::uuid UNION ALL SELECT p.id, p.merged_into, "
              "c.depth + 1 FROM mpi.person p JOIN chain c ON p.id = c.merged_into WHERE c.depth "
              "< 32) SELECT id FROM chain WHERE merged_into IS NULL",
              1, p, PGRES_TUPLES_OK, &r, err));
    ENSURE(PQntuples(r) == 1, err, BASE_E_NOTFOUND, "not-found", "Patient.id", "no such person");
    *pk = mpi_i64(r, 0, 0);
    return BASE_OK;
}

/* Persons holding system|value; BASE_E_CONFLICT when more than one. */
static int
person_by_identifier(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                     const char *system, const char *value, int64_t *pk, struct base_err *err)
{
    PGresult *r;
    const char *p[2] = {system, value};

    ENSURE(system != NULL && value != NULL && strlen(system) <= GW_MPI_LIMIT_SYSTEM &&
               strlen(value) <= GW_MPI_LIMIT_VALUE,
           err, BASE_E_INVALID, "value", "identifier", "identifier missing or too long");
    if (strcmp(system, cfg->person_system) == 0)
        return person_by_public(db, a, value, pk, err);
    if (strcmp(system, GW_MPI_RESID_SYSTEM) == 0) {
        struct gw_mpi_resid rid;

        TRY(gw_mpi_resid_parse(value, strlen(value), cfg->today, &rid, err));
        p[0] = base_arena_strdup(a, rid.number);
        ENSURE(p[0] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
        TRY(mpi_q(db, a, "SELECT DISTINCT person_id FROM mpi.record WHERE resident_id = $1 LIMIT 2",
                  1, p, PGRES_TUPLES_OK, &r, err));
    } else {
        TRY(mpi_q(db, a,
                  "SELECT DISTINCT r.person_id FROM mpi.identifier i JOIN mpi.record r ON r.id = "
                  "i.record_id WHERE i.system = $1 AND i.value = $2 LIMIT 2",
                  2, p, PGRES_TUPLES_OK, &r, err));
    }
    ENSURE(PQntuples(r) > 0, err, BASE_E_NOTFOUND, "not-found", "identifier",
           "identifier not known");
    ENSURE(PQntuples(r) == 1, err, BASE_E_CONFLICT, "multiple-matches", "identifier",
           "identifier held by more than one person");
    *pk = mpi_i64(r, 0, 0);
    return BASE_OK;
}

static const char SQL_LINKS[] =
    "SELECT p.public_id, r.member_id, i.system, i.value, r.link_type, r.link_score, "
    "r.resident_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id JOIN "
    "mpi.identifier i ON i.record_id = r.id WHERE p.id = $1 ORDER BY r.member_id, r.id, "
    "(i.system = r.local_system AND i.value = r.local_value) DESC, i.system, i.value";

static enum gw_mpi_link_type
link_type_of(const char *s)
{
    if (strcmp(s, "deterministic") == 0)
        return GW_MPI_LINK_DETERMINISTIC;
    if (strcmp(s, "probabilistic") == 0)
        return GW_MPI_LINK_PROBABILISTIC;
    if (strcmp(s, "manual") == 0)
        return GW_MPI_LINK_MANUAL;
    return GW_MPI_LINK_SOLE;
}

static int
load_person(PGconn *db, struct base_arena *a, int64_t pk, struct gw_mpi_person *out,
            struct base_err *err)
{
    char pks[24];
    const char *p[1] = {pks};
    PGresult *r;
    int n;

    snprintf(pks, sizeof(pks), "%lld", (long long)pk);
    TRY(mpi_q(db, a, SQL_LINKS, 1, p, PGRES_TUPLES_OK, &r, err));
    n = PQntuples(r);
    memset(out, 0, sizeof(*out));
    out->resident_id = "";
    out->links = BASE_NEW_N(a, struct gw_mpi_link, (size_t)n + 1);
    ENSURE(out->links != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    if (n == 0) {
        /* a person always has a record; reaching here means a race */
        return base_err_set(err, BASE_E_NOTFOUND, "not-found", "Patient", "no such person");
    }
    out->id = mpi_val(r, 0, 0);
    for (int i = 0; i < n; i++) {
        struct gw_mpi_link *l = &out->links[out->n_links++];

        l->member = mpi_val(r, i, 1);
        l->system = mpi_val(r, i, 2);
        l->value = mpi_val(r, i, 3);
        l->type = link_type_of(mpi_val(r, i, 4));
        l->score = mpi_f64(r, i, 5);
        if (out->resident_id[0] == '\0')
            out->resident_id = mpi_val(r, i, 6);
    }
    return BASE_OK;
}

int
gw_mpi_resolve(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
               const char *system, const char *value, struct gw_mpi_person *out,
               struct base_err *err)
{
    int64_t pk = 0;

    TRY(person_by_identifier(db, a, cfg, system, value, &pk, err));
    return load_person(db, a, pk, out, err);
}

/* ---- FHIR output ---------------------------------------------------------------- */

static json_t *
identifier_json(const char *system, const char *value, const char *member, const char *type)
{
    json_t *id = json_pack("{s:s, s:s}", "system", system, "value", value);

    if (id == NULL)
        return NULL;
    if (type != NULL)
        json_object_set_new(id, "type",
                            json_pack("{s:[{s:s, s:s}]}", "coding", "system",
                                      "http://terminology.hl7.org/CodeSystem/v2-0203", "code",
                                      type));
    if (member != NULL)
        json_object_set_new(id, "assigner",
                            json_pack("{s:{s:s, s:s}, s:s}", "identifier", "system",
                                      GW_MPI_MEMBER_SYSTEM, "value", member, "display", member));
    return id;
}

/* Organization/<member> when the member id is a valid FHIR id, which the
 * registry's ids are; the identifier names it in any case. */
static void
set_assigner_ref(json_t *id, const char *member)
{
    json_t *as = json_object_get(id, "assigner");
    size_t n = strlen(member);
    bool ok = n >= 1 && n <= 64;

    for (size_t i = 0; ok && i < n; i++) {
        char c = member[i];

        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '.';
    }
    if (as == NULL)
        return;
    if (ok) {
        char ref[96];

        snprintf(ref, sizeof(ref), "Organization/%s", member);
        json_object_set_new(as, "reference", json_string(ref));
    }
}

static json_t *
person_identifiers(const struct gw_mpi_config *cfg, const struct gw_mpi_person *ps)
{
    json_t *arr = json_array();

    if (arr == NULL)
        return NULL;
    json_array_append_new(arr, identifier_json(cfg->person_system, ps->id, NULL, NULL));
    if (ps->resident_id[0] != '\0')
        json_array_append_new(arr,
                              identifier_json(GW_MPI_RESID_SYSTEM, ps->resident_id, NULL, "NNCHN"));
    for (size_t i = 0; i < ps->n_links; i++) {
        json_t *id =
            identifier_json(ps->links[i].system, ps->links[i].value, ps->links[i].member, NULL);

        if (id == NULL)
            continue;
        set_assigner_ref(id, ps->links[i].member);
        json_array_append_new(arr, id);
    }
    return arr;
}

/* The most complete, then most recent, reported Patient of the person. */
static int
best_resource(PGconn *db, struct base_arena *a, int64_t pk, json_t **out, struct base_err *err)
{
    char pks[24];
    const char *p[1] = {pks};
    PGresult *r;

    *out = NULL;
    snprintf(pks, sizeof(pks), "%lld", (long long)pk);
    TRY(mpi_q(db, a,
              "SELECT resource FROM mpi.record WHERE person_id = $1 AND resource IS NOT NULL "
              "ORDER BY (name_han <> '' OR name_py <> '')::int + (birth_day > 0)::int + (sex > "
              "0)::int + (cardinality(phones) > 0)::int + (addr_district <> '')::int DESC, "
              "updated_at DESC, id DESC LIMIT 1",
              1, p, PGRES_TUPLES_OK, &r, err));
    if (PQntuples(r) == 1) {
        const char *t = mpi_val(r, 0, 0);

        TRY(fhir_json_parse(t, strlen(t), NULL, out, err));
        TRY(fhir_json_tie(a, *out));
    }
    return BASE_OK;
}

/* The one extension ITI-78 searches (mothersMaidenName), so that a
 * consumer sees why a person matched; the members' other extensions are
 * theirs and stay out of the regional Patient. */
static void
copy_mothers_maiden_name(const json_t *src, json_t *pt)
{
    json_t *exts = NULL;
    json_t *ex;
    size_t i;

    json_array_foreach(json_object_get(src, "extension"), i, ex)
    {
        const char *url = json_string_value(json_object_get(ex, "url"));

        if (url == NULL || strcmp(url, MPI_MOTHERS_MAIDEN_NAME_URL) != 0 ||
            !json_is_string(json_object_get(ex, "valueString")))
            continue;
        if (exts == NULL && (exts = json_array()) == NULL)
            return;
        json_array_append(exts, ex);
    }
    if (exts != NULL)
        json_object_set_new(pt, "extension", exts);
}

int
mpi_patient_of(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg, int64_t pk,
               json_t **out, struct base_err *err)
{
    struct gw_mpi_person ps;
    json_t *src = NULL;
    json_t *pt;
    static const char *const copy[] = {
        "name",    "telecom",       "gender",          "birthDate",
        "address", "maritalStatus", "deceasedBoolean", "deceasedDateTime"};

    TRY(load_person(db, a, pk, &ps, err));
    TRY(best_resource(db, a, pk, &src, err));
    pt = json_pack("{s:s, s:s, s:o, s:b}", "resourceType", "Patient", "id", ps.id, "identifier",
                   person_identifiers(cfg, &ps), "active", 1);
    ENSURE(pt != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    for (size_t i = 0; src != NULL && i < BASE_ARRAY_LEN(copy); i++) {
        json_t *v = json_object_get(src, copy[i]);

        if (v != NULL)
            json_object_set(pt, copy[i], v);
    }
    copy_mothers_maiden_name(src, pt);
    *out = pt;
    return BASE_OK;
}

int
gw_mpi_person_patient(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                      const char *person_id, json_t **out, struct base_err *err)
{
    int64_t pk = 0;

    TRY(person_by_public(db, a, person_id, &pk, err));
    return mpi_patient_of(db, a, cfg, pk, out, err);
}

int
gw_mpi_domain_known(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                    const char *system, bool *known, struct base_err *err)
{
    const char *p[1] = {system};
    PGresult *r;

    *known = system != NULL &&
             (strcmp(system, cfg->person_system) == 0 || strcmp(system, GW_MPI_RESID_SYSTEM) == 0);
    if (*known || system == NULL || strlen(system) > GW_MPI_LIMIT_SYSTEM)
        return BASE_OK;
    /* the identifier table's key starts with the system: one index probe */
    TRY(mpi_q(db, a, "SELECT EXISTS (SELECT 1 FROM mpi.identifier WHERE system = $1)", 1, p,
              PGRES_TUPLES_OK, &r, err));
    *known = strcmp(mpi_val(r, 0, 0), "t") == 0;
    return BASE_OK;
}

static bool
wanted(const char *system, const char *const *targets)
{
    if (targets == NULL || targets[0] == NULL)
        return true;
    for (size_t i = 0; targets[i] != NULL; i++) {
        if (strcmp(system, targets[i]) == 0)
            return true;
    }
    return false;
}

int
gw_mpi_pix(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg, const char *system,
           const char *value, const char *const *target_systems, json_t **out, struct base_err *err)
{
    int64_t pk = 0;
    struct gw_mpi_person ps;
    json_t *ids;
    json_t *params;
    json_t *arr;
    char ref[64];

    TRY(person_by_identifier(db, a, cfg, system, value, &pk, err));
    TRY(load_person(db, a, pk, &ps, err));
    ids = person_identifiers(cfg, &ps);
    ENSURE(ids != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    params = json_pack("{s:s, s:[]}", "resourceType", "Parameters", "parameter");
    if (params == NULL) {
        json_decref(ids);
        return base_err_set(err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    }
    arr = json_object_get(params, "parameter");
    for (size_t i = 0; i < json_array_size(ids); i++) {
        json_t *id = json_array_get(ids, i);
        const char *s = json_string_value(json_object_get(id, "system"));
        const char *v = json_string_value(json_object_get(id, "value"));

        /* ITI-83: the source identifier itself is not a target */
        if ((strcmp(s, system) == 0 && strcmp(v, value) == 0) || !wanted(s, target_systems))
            continue;
        json_array_append_new(
            arr, json_pack("{s:s, s:O}", "name", "targetIdentifier", "valueIdentifier", id));
    }
    json_decref(ids);
    snprintf(ref, sizeof(ref), "Patient/%s", ps.id);
    json_array_append_new(
        arr, json_pack("{s:s, s:{s:s}}", "name", "targetId", "valueReference", "reference", ref));
    *out = params;
    return BASE_OK;
}

/* ---- PDQm ---------------------------------------------------------------------------- */

static int
norm_query_name(struct base_arena *a, const char *s, const char **han, const char **py,
                struct base_err *err)
{
    const char *syl;

    *han = *py = NULL;
    if (s == NULL || s[0] == '\0')
        return BASE_OK;
    TRY(gw_mpi_norm_name(a, s, strlen(s), han, py, &syl, err));
    if ((*han)[0] == '\0')
        *han = NULL;
    if ((*py)[0] == '\0')
        *py = NULL;
    return BASE_OK;
}

/* A Han query matches the same characters (or a romanized record with the
 * same pinyin); a pinyin query matches by sound, Han records included.  A
 * value matches when a name part starts with it (R4 search.html#string:
 * `name=赵` or `name=zhao` finds 赵浩, by the family name), the whole name
 * with :exact ($11-$13).  The normalized values hold Han characters or
 * a-z only, so they are safe in a LIKE pattern. */
#define PDQ_SELECT                                                                                 \
    "SELECT DISTINCT r.person_id FROM mpi.record r WHERE "                                         \
    "($1::text IS NULL OR (CASE WHEN $11::bool THEN r.name_han = $1 "                              \
    "  ELSE r.name_han LIKE $1 || '%' END) OR (r.name_han = '' AND "                               \
    "  (r.name_py = $2 OR r.name_py_given || r.name_py_family = $2))) AND "                        \
    "($2::text IS NULL OR $1::text IS NOT NULL OR r.name_py_given || r.name_py_family = $2 OR "    \
    " (CASE WHEN $11::bool THEN r.name_py = $2 ELSE r.name_py LIKE $2 || '%' OR "                  \
    "  r.name_py_given LIKE $2 || '%' END)) AND "                                                  \
    "($3::text IS NULL OR r.name_han LIKE $3 || '%' OR (r.name_han = '' AND "                      \
    " r.name_py_family = $4)) AND "                                                                \
    "($4::text IS NULL OR $3::text IS NOT NULL OR (CASE WHEN $12::bool THEN "                      \
    " r.name_py_family = $4 ELSE r.name_py_family LIKE $4 || '%' END)) AND "                       \
    "($5::text IS NULL OR (CASE WHEN $13::bool THEN r.name_py_given = $5 "                         \
    " ELSE r.name_py_given LIKE $5 || '%' END)) AND "                                              \
    "($6::text[] IS NULL OR (r.birth_year > 0 AND NOT EXISTS (SELECT 1 FROM "                      \
    " unnest($6::text[], $7::int[], $8::int[]) c(op, lo, hi), LATERAL (SELECT "                    \
    "  r.birth_year * 10000 + greatest(r.birth_month, 1) * 100 + greatest(r.birth_day, 1) AS lo, " \
    "  r.birth_year * 10000 + (CASE WHEN r.birth_month = 0 THEN 12 ELSE r.birth_month END) * 100 " \
    "  + (CASE WHEN r.birth_day = 0 THEN 31 ELSE r.birth_day END) AS hi) rb WHERE NOT "            \
    " (CASE c.op WHEN 'eq' THEN rb.lo >= c.lo AND rb.hi <= c.hi "                                  \
    "  WHEN 'ne' THEN NOT (rb.lo >= c.lo AND rb.hi <= c.hi) "                                      \
    "  WHEN 'gt' THEN rb.hi > c.hi WHEN 'lt' THEN rb.lo < c.lo "                                   \
    "  WHEN 'ge' THEN rb.hi > c.hi OR (rb.lo >= c.lo AND rb.hi <= c.hi) "                          \
    "  WHEN 'le' THEN rb.lo < c.lo OR (rb.lo >= c.lo AND rb.hi <= c.hi) "                          \
    "  WHEN 'sa' THEN rb.lo > c.hi WHEN 'eb' THEN rb.hi < c.lo ELSE false END)))) AND "            \
    "($9::int = 0 OR r.sex = $9::int) AND "                                                        \
    "($14::text IS NULL OR r.person_id = (SELECT p.id FROM mpi.person p "                          \
    " WHERE p.public_id::text = $14::text)) AND "                                                  \
    "($15::text IS NULL OR $15::text = ANY(r.phones)) AND "                                        \
    "($16::bigint IS NULL OR r.person_id = $16::bigint) AND "                                      \
    "($17::text IS NULL AND $18::text IS NULL AND $19::text IS NULL AND $20::text IS NULL AND "    \
    " $21::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN "                  \
    " jsonb_typeof(r.resource->'address') = 'array' THEN r.resource->'address' ELSE '[]' END) ad " \
    " WHERE ($17::text IS NULL OR EXISTS (SELECT 1 FROM (SELECT ad->>'text' UNION ALL "            \
    "   SELECT ad->>'city' UNION ALL SELECT ad->>'district' UNION ALL SELECT ad->>'state' "        \
    "   UNION ALL SELECT ad->>'postalCode' UNION ALL SELECT ad->>'country' UNION ALL "             \
    "   SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(ad->'line') = 'array' "            \
    "   THEN ad->'line' ELSE '[]' END)) part(v) WHERE strpos(lower(part.v), lower($17)) > 0)) "    \
    " AND ($18::text IS NULL OR starts_with(lower(ad->>'city'), lower($18))) "                     \
    " AND ($19::text IS NULL OR starts_with(lower(ad->>'state'), lower($19))) "                    \
    " AND ($20::text IS NULL OR starts_with(lower(ad->>'postalCode'), lower($20))) "               \
    " AND ($21::text IS NULL OR starts_with(lower(ad->>'country'), lower($21))))) AND "            \
    "($22::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN "                  \
    " jsonb_typeof(r.resource->'extension') = 'array' THEN r.resource->'extension' ELSE '[]' "     \
    " END) ex WHERE ex->>'url' = "                                                                 \
    " '" MPI_MOTHERS_MAIDEN_NAME_URL "' AND "                                                      \
    " starts_with(lower(ex->>'valueString'), lower($22)))) "

/* One page: the persons after $23 (a public id), in person order, so that
 * a page's last entry is where the next one starts. */
static const char SQL_PDQ[] =
    PDQ_SELECT "AND ($23::text IS NULL OR r.person_id > (SELECT p.id FROM mpi.person p "
               " WHERE p.public_id::text = $23::text)) ORDER BY r.person_id LIMIT $10::int";
/* _summary=count and Bundle.total: every match counted ($10, the page
 * size, and $23, where the page starts, unused) */
static const char SQL_PDQ_COUNT[] =
    "SELECT count(*) FROM (" PDQ_SELECT ") x WHERE $10::int >= 0 AND ($23::text IS NULL OR true)";

/* The birthdate constraints as three array literals ($6 ops, $7 lo, $8 hi);
 * all NULL when there are none. */
static int
birth_arrays(struct base_arena *a, const struct gw_mpi_pdq_query *q, const char *out[3],
             struct base_err *err)
{
    char ops[GW_MPI_LIMIT_PDQ_BIRTHDATES * 4 + 3] = "{";
    char lo[GW_MPI_LIMIT_PDQ_BIRTHDATES * 12 + 3] = "{";
    char hi[GW_MPI_LIMIT_PDQ_BIRTHDATES * 12 + 3] = "{";

    out[0] = out[1] = out[2] = NULL;
    if (q->n_birth == 0)
        return BASE_OK;
    for (size_t i = 0; i < q->n_birth && i < GW_MPI_LIMIT_PDQ_BIRTHDATES; i++) {
        const char *sep = i > 0 ? "," : "";

        snprintf(ops + strlen(ops), sizeof(ops) - strlen(ops), "%s%s", sep, q->birth[i].op);
        snprintf(lo + strlen(lo), sizeof(lo) - strlen(lo), "%s%d", sep, q->birth[i].lo);
        snprintf(hi + strlen(hi), sizeof(hi) - strlen(hi), "%s%d", sep, q->birth[i].hi);
    }
    out[0] = base_arena_sprintf(a, "%s}", ops);
    out[1] = base_arena_sprintf(a, "%s}", lo);
    out[2] = base_arena_sprintf(a, "%s}", hi);
    ENSURE(out[0] != NULL && out[1] != NULL && out[2] != NULL, err, BASE_E_NOMEM, "exception",
           "mpi", "out of memory");
    return BASE_OK;
}

int
gw_mpi_pdq_birthdate(struct gw_mpi_pdq_query *q, const char *value, struct base_err *err)
{
    static const char *const prefixes[] = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"};
    struct gw_mpi_date_bound b = {"eq", 0, 0};
    const char *s = value;
    int y, m, d;

    ENSURE(q->n_birth < GW_MPI_LIMIT_PDQ_BIRTHDATES, err, BASE_E_INVALID, "too-costly", "birthdate",
           "at most %d birthdate parameters", GW_MPI_LIMIT_PDQ_BIRTHDATES);
    if (s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z') {
        size_t k = 0;

        while (k < sizeof(prefixes) / sizeof(prefixes[0]) && strncmp(s, prefixes[k], 2) != 0)
            k++;
        /* ap ("approximately") is for the server to define (R4
         * search.html#prefix); a birth date search should say what it means */
        ENSURE(k < sizeof(prefixes) / sizeof(prefixes[0]), err, BASE_E_INVALID, "value",
               "birthdate", "birthdate prefixes are eq, ne, gt, lt, ge, le, sa and eb");
        memcpy(b.op, s, 2);
        s += 2;
    }
    /* a date, to the day at most: birthDate is a FHIR date */
    ENSURE(strlen(s) <= 10 && gw_mpi_norm_birth_date(s, strlen(s), &y, &m, &d), err, BASE_E_INVALID,
           "value", "birthdate",
           "birthdate must be a date (YYYY, YYYY-MM or "
           "YYYY-MM-DD), with an optional prefix");
    b.lo = y * 10000 + (m > 0 ? m : 1) * 100 + (d > 0 ? d : 1);
    b.hi = y * 10000 + (m > 0 ? m : 12) * 100 + (d > 0 ? d : 31);
    q->birth[q->n_birth++] = b;
    return BASE_OK;
}

/* `pk` > 0: only that person (found by identifier), the other parameters
 * narrowing it as they narrow a search by name (the parameters of a search
 * all apply, R4 search.html). */
static int
pdq_persons(PGconn *db, struct base_arena *a, const struct gw_mpi_pdq_query *q, int64_t pk,
            size_t count, bool count_only, PGresult **out, struct base_err *err)
{
    const char *p[23];
    char phone[24];
    const char *fam_py;
    const char *given_han;

    TRY(norm_query_name(a, q->name, &p[0], &p[1], err));
    TRY(norm_query_name(a, q->family, &p[2], &fam_py, err));
    TRY(norm_query_name(a, q->given, &given_han, &p[4], err));
    p[3] = fam_py;
    ENSURE(p[0] || p[1] || p[2] || p[3] || p[4] || q->n_birth > 0 || q->id != NULL || pk > 0, err,
           BASE_E_INVALID, "too-costly", "Patient", "a name, birth date or identifier is required");
    TRY(birth_arrays(a, q, &p[5], err));
    p[8] = base_arena_sprintf(a, "%d", (int)q->sex);
    p[9] = base_arena_sprintf(a, "%zu", count);
    p[10] = q->name_exact ? "true" : "false";
    p[11] = q->family_exact ? "true" : "false";
    p[12] = q->given_exact ? "true" : "false";
    p[13] = q->id;
    p[14] = NULL;
    if (q->phone != NULL) {
        /* as the records keep them; a number that is no number matches none */
        if (gw_mpi_norm_phone(q->phone, strlen(q->phone), phone) == GW_MPI_PHONE_NONE)
            snprintf(phone, sizeof(phone), "%s", "-");
        p[14] = phone;
    }
    p[15] = pk > 0 ? base_arena_sprintf(a, "%lld", (long long)pk) : NULL;
    p[16] = q->address;
    p[17] = q->address_city;
    p[18] = q->address_state;
    p[19] = q->address_postalcode;
    p[20] = q->address_country;
    p[21] = q->mothers_maiden_name;
    p[22] = pk > 0 ? NULL : q->after;
    for (int i = 8; i < 10; i++)
        ENSURE(p[i] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    ENSURE(pk <= 0 || p[15] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    return mpi_q(db, a, count_only && pk <= 0 ? SQL_PDQ_COUNT : SQL_PDQ, 23, p, PGRES_TUPLES_OK,
                 out, err);
}

/*
 * The persons (at most `max`, in `pks`) a PDQm identifier token names: with
 * a system, those holding SYSTEM|VALUE (a search returns every one, where
 * PIXm needs exactly one); without (R4 search.html#token: "[code]" matches
 * any system), those holding VALUE in any member's system, as their
 * resident id, or as their regional id.  An unknown or malformed value
 * finds nobody: a search answers with an empty searchset.
 */
static int
persons_by_token(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                 const char *system, const char *value, size_t max, int64_t *pks, size_t *n,
                 struct base_err *err)
{
    struct gw_mpi_resid rid;
    const char *p[4] = {value, NULL, NULL, NULL};
    PGresult *r;
    int64_t pk = 0;

    *n = 0;
    ENSURE(strlen(value) <= GW_MPI_LIMIT_VALUE &&
               (system == NULL || strlen(system) <= GW_MPI_LIMIT_SYSTEM),
           err, BASE_E_INVALID, "value", "identifier", "identifier too long");
    if (system != NULL && strcmp(system, cfg->person_system) != 0 &&
        strcmp(system, GW_MPI_RESID_SYSTEM) != 0) {
        p[1] = system;
        p[2] = base_arena_sprintf(a, "%zu", max);
        ENSURE(p[2] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
        TRY(mpi_q(db, a,
                  "SELECT DISTINCT r.person_id FROM mpi.identifier i JOIN mpi.record r ON r.id = "
                  "i.record_id WHERE i.system = $2 AND i.value = $1 ORDER BY 1 LIMIT $3::int",
                  3, p, PGRES_TUPLES_OK, &r, err));
        for (int i = 0; i < PQntuples(r); i++)
            pks[(*n)++] = mpi_i64(r, i, 0);
        return BASE_OK;
    }
    if (system == NULL || strcmp(system, cfg->person_system) == 0) {
        int rc = person_by_public(db, a, value, &pk, err);

        if (rc != BASE_E_NOTFOUND)
            TRY(rc);
        base_err_clear(err);
        if (system != NULL) {
            if (pk > 0)
                pks[(*n)++] = pk;
            return BASE_OK;
        }
    }
    /* GB 11643: a resident identity number is checked before use; a value
     * that is none is looked up as the other kinds only */
    if (gw_mpi_resid_parse(value, strlen(value), cfg->today, &rid, err) == BASE_OK)
        p[1] = base_arena_strdup(a, rid.number);
    else if (system != NULL)
        return BASE_OK;
    base_err_clear(err);
    p[2] = system != NULL ? "t" : "f"; /* the resident id system alone */
    p[3] = base_arena_sprintf(a, "%zu", max);
    ENSURE(p[3] != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(mpi_q(db, a,
              "SELECT person_id FROM (SELECT r.person_id FROM mpi.identifier i JOIN mpi.record r "
              "ON r.id = i.record_id WHERE NOT $3::bool AND i.value = $1 UNION "
              "SELECT person_id FROM mpi.record WHERE resident_id = $2) x "
              "ORDER BY 1 LIMIT $4::int",
              4, p, PGRES_TUPLES_OK, &r, err));
    for (int i = 0; i < PQntuples(r) && *n < max; i++)
        if (mpi_i64(r, i, 0) != pk)
            pks[(*n)++] = mpi_i64(r, i, 0);
    if (pk > 0 && *n < max)
        pks[(*n)++] = pk;
    return BASE_OK;
}

int
mpi_entry_append(struct base_arena *a, const char *base_url, json_t *entries, json_t *e,
                 struct base_err *err)
{
    ENSURE(e != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    if (base_url != NULL) {
        const json_t *pt = json_object_get(e, "resource");
        char *url = base_arena_sprintf(a, "%s/Patient/%s", base_url,
                                       json_string_value(json_object_get(pt, "id")));

        if (url != NULL)
            json_object_set_new(e, "fullUrl", json_string(url));
    }
    json_array_append_new(entries, e);
    return BASE_OK;
}

static int
bundle_add(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg, int64_t pk,
           const char *base_url, json_t *entries, struct base_err *err)
{
    json_t *pt = NULL;

    TRY(mpi_patient_of(db, a, cfg, pk, &pt, err));
    return mpi_entry_append(a, base_url, entries,
                            json_pack("{s:o, s:{s:s}}", "resource", pt, "search", "mode", "match"),
                            err);
}

/* A page of persons by the demographic parameters: `count` of them and
 * whether more follow (one more is asked for); `total` every match (counted
 * apart only when the page does not show them all). */
static int
pdq_page(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
         const struct gw_mpi_pdq_query *q, size_t count, const char *base_url, json_t *entries,
         size_t *total, bool *more, struct base_err *err)
{
    PGresult *r;
    size_t n;

    TRY(pdq_persons(db, a, q, 0, count + 1, false, &r, err));
    n = (size_t)PQntuples(r);
    *more = n > count;
    for (size_t i = 0; i < n && i < count; i++)
        TRY(bundle_add(db, a, cfg, mpi_i64(r, (int)i, 0), base_url, entries, err));
    if (!*more && q->after == NULL) {
        *total = n;
        return BASE_OK;
    }
    TRY(pdq_persons(db, a, q, 0, count, true, &r, err));
    *total = (size_t)mpi_i64(r, 0, 0);
    return BASE_OK;
}

int
gw_mpi_pdq_search(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                  const struct gw_mpi_pdq_query *q, const char *base_url, json_t **out, bool *more,
                  struct base_err *err)
{
    size_t count =
        q->count == 0 || q->count > GW_MPI_LIMIT_PDQ_COUNT ? GW_MPI_LIMIT_PDQ_COUNT : q->count;
    json_t *bundle = json_pack("{s:s, s:s, s:i, s:[]}", "resourceType", "Bundle", "type",
                               "searchset", "total", 0, "entry");
    json_t *entries;
    size_t total = 0;
    bool more_local = false;
    int rc = BASE_OK;

    if (more == NULL)
        more = &more_local;
    *more = false;
    ENSURE(bundle != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(fhir_json_tie(a, bundle));
    entries = json_object_get(bundle, "entry");
    if (q->inactive_only || q->matches_none) {
        /* active=false: every person the index returns is active */
    } else if (q->identifier_value != NULL) {
        int64_t pks[GW_MPI_LIMIT_PDQ_COUNT];
        size_t n = 0;

        /* one page: an identifier names a handful of persons at most */
        rc = persons_by_token(db, a, cfg, q->identifier_system, q->identifier_value, count, pks, &n,
                              err);
        /* the other parameters (_id, name, gender, address…) narrow them */
        for (size_t k = 0; rc == BASE_OK && k < n; k++) {
            PGresult *r;

            rc = pdq_persons(db, a, q, pks[k], 1, false, &r, err);
            for (int i = 0; rc == BASE_OK && i < PQntuples(r); i++) {
                total++;
                if (!q->count_only)
                    rc = bundle_add(db, a, cfg, mpi_i64(r, i, 0), base_url, entries, err);
            }
        }
    } else if (q->count_only) {
        PGresult *r;

        TRY(pdq_persons(db, a, q, 0, count, true, &r, err));
        total = (size_t)mpi_i64(r, 0, 0);
    } else {
        rc = pdq_page(db, a, cfg, q, count, base_url, entries, &total, more, err);
    }
    TRY(rc);
    json_object_set_new(bundle, "total", json_integer((json_int_t)total));
    *out = json_incref(bundle);
    return BASE_OK;
}
