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

bool
mpi_uuid_syntax(const char *s)
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

int
mpi_person_by_public(PGconn *db, struct base_arena *a, const char *public_id, int64_t *pk,
                     struct base_err *err)
{
    const char *p[1] = {public_id};
    PGresult *r;

    ENSURE(mpi_uuid_syntax(public_id), err, BASE_E_NOTFOUND, "not-found", "Patient.id",
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
        return mpi_person_by_public(db, a, value, pk, err);
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

    TRY(mpi_person_by_public(db, a, person_id, &pk, err));
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
    int rc;

    rc = person_by_identifier(db, a, cfg, system, value, &pk, err);
    if (rc == BASE_E_NOTFOUND) {
        /* ITI-83 2:3.83.4.2.2.2: the profile's words, which consumers test */
        base_err_clear(err);
        return base_err_set(err, BASE_E_NOTFOUND, "not-found", "sourceIdentifier",
                            "sourceIdentifier Patient Identifier not found");
    }
    TRY(rc);
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
