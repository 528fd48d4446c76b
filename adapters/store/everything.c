/*
 * Patient/ID/$everything (R4 OperationDefinition Patient-everything): the
 * Patient, its compartment, and what those resources point at.
 *
 * Compartment membership follows the R4 CompartmentDefinition "patient"
 * for the resource types the store indexes.  Pages are ordered by (kind,
 * key) and resumed from a keyset cursor "kind.key", so a page costs the
 * same wherever it is in a large record, and rows stream to the caller.
 */
#include "adapters/store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* R4 compartmentdefinition-patient.json, restricted to the types in the
 * search parameter table (fhir/search/params_r4.c). */
static const struct {
    const char *type;
    const char *param;
} compartment[] = {
    {"AllergyIntolerance", "asserter"},
    {"AllergyIntolerance", "patient"},
    {"AllergyIntolerance", "recorder"},
    {"AuditEvent", "patient"},
    {"CareTeam", "participant"},
    {"CareTeam", "patient"},
    {"Condition", "asserter"},
    {"Condition", "patient"},
    {"Consent", "patient"},
    {"DiagnosticReport", "subject"},
    {"DocumentReference", "author"},
    {"DocumentReference", "subject"},
    {"Encounter", "patient"},
    {"FamilyMemberHistory", "patient"},
    {"Goal", "patient"},
    {"ImagingStudy", "patient"},
    {"Immunization", "patient"},
    {"MedicationRequest", "subject"},
    {"MedicationStatement", "subject"},
    {"Observation", "performer"},
    {"Observation", "subject"},
    {"Patient", "link"},
    {"Procedure", "patient"},
    {"Procedure", "performer"},
    {"Provenance", "patient"},
    {"ServiceRequest", "performer"},
    {"ServiceRequest", "subject"},
    {"Specimen", "subject"},
};

/* The care dates of $everything's start/end (R4 Patient-everything: "the
 * date range relates to care dates, not record currency dates"): per type,
 * the date parameters that say when the care happened. */
static const struct {
    const char *type;
    const char *param;
} care_date[] = {
    {"AllergyIntolerance", "date"},
    {"CareTeam", "date"},
    {"Condition", "onset-date"},
    {"Condition", "recorded-date"},
    {"Consent", "date"},
    {"DiagnosticReport", "date"},
    {"DocumentReference", "date"},
    {"Encounter", "date"},
    {"FamilyMemberHistory", "date"},
    {"Goal", "start-date"},
    {"ImagingStudy", "started"},
    {"Immunization", "date"},
    {"MedicationRequest", "authoredon"},
    {"MedicationStatement", "effective"},
    {"Observation", "date"},
    {"Procedure", "date"},
    {"Provenance", "recorded"},
    {"ServiceRequest", "authored"},
    {"ServiceRequest", "occurrence"},
    {"AuditEvent", "date"},
};

size_t
st_compartment(const char **types, const char **params, size_t cap)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(compartment) && i < cap; i++) {
        types[i] = compartment[i].type;
        params[i] = compartment[i].param;
    }
    return BASE_ARRAY_LEN(compartment);
}

static bool
parse_cursor(const char *s, int *kind, int64_t *pk)
{
    char *end = NULL;
    long k;
    long long p;

    if (s == NULL || s[0] < '0' || s[0] > '2' || s[1] != '.')
        return false;
    k = s[0] - '0';
    p = strtoll(s + 2, &end, 10);
    if (end == s + 2 || *end != '\0' || p < 0)
        return false;
    *kind = (int)k;
    *pk = p;
    return true;
}

/* The rows of every page, before the cursor and the page limit. */
/* start/end: a compartment resource x of a type with a care date is kept
 * when one of its care dates meets the range (idx_date rows are [low, high)). */
static void
care_date_filter(struct st_sql *q, const struct adapter_store_everything *e, const char *dtypes,
                 const char *dparams)
{
    if (!e->has_start && !e->has_end)
        return;
    st_sql_add(q, " AND (x.res_type <> ALL (");
    st_sql_param(q, dtypes, "::text[]");
    st_sql_add(q, ") OR EXISTS (SELECT 1 FROM store.idx_date d JOIN unnest(");
    st_sql_param(q, dtypes, "::text[]");
    st_sql_add(q, ", ");
    st_sql_param(q, dparams, "::text[]");
    st_sql_add(q, ") AS c(t, p) ON c.t = x.res_type AND c.p = d.param WHERE d.res_pk = x.res_pk");
    if (e->has_start) {
        st_sql_add(q, " AND d.high > ");
        st_sql_param_i64(q, e->start_us, "::bigint");
    }
    if (e->has_end) {
        st_sql_add(q, " AND d.low < ");
        st_sql_param_i64(q, e->end_us, "::bigint");
    }
    st_sql_add(q, "))");
}

static void
everything_rows(struct st_sql *q, const struct adapter_store_everything *e,
                const struct st_compile *cc, const char *const arr[5])
{
    const char *ctypes = arr[0];
    const char *cparams = arr[1];

    st_sql_add(q, "WITH m AS (SELECT u.pk, min(u.kind) AS kind FROM ("
                  "SELECT r.pk, 0 AS kind FROM store.resource r WHERE r.res_type = 'Patient'"
                  " AND r.id = ");
    st_sql_param(q, e->patient_id, NULL);
    st_sql_add(q, " AND NOT r.deleted UNION ALL SELECT x.res_pk, 1 FROM store.idx_reference x"
                  " WHERE left(x.ref_id, 100) = left(");
    st_sql_param(q, e->patient_id, "::text");
    st_sql_add(q, ", 100) AND x.ref_id = ");
    st_sql_param(q, e->patient_id, NULL);
    st_sql_add(q, " AND x.ref_type = 'Patient' AND ");
    st_compile_local_url(q, cc);
    st_sql_add(q, " AND (x.res_type, x.param) IN (SELECT * FROM unnest(");
    st_sql_param(q, ctypes, "::text[]");
    st_sql_add(q, ", ");
    st_sql_param(q, cparams, "::text[]");
    st_sql_add(q, "))");
    care_date_filter(q, e, arr[3], arr[4]);
    st_sql_add(q, ") u GROUP BY u.pk),"
                  " inc AS (SELECT DISTINCT t.pk, 2 AS kind FROM m"
                  " JOIN store.idx_reference x ON x.res_pk = m.pk"
                  " JOIN store.resource t ON t.res_type = x.ref_type AND t.id = x.ref_id"
                  " AND NOT t.deleted WHERE ");
    st_compile_local_url(q, cc);
    st_sql_add(q, " AND NOT EXISTS (SELECT 1 FROM m m2 WHERE m2.pk = t.pk)),"
                  " a AS (SELECT pk, kind FROM m UNION ALL SELECT pk, kind FROM inc)");
}

static void
everything_filter(struct st_sql *q, const struct adapter_store_everything *e, const char *types)
{
    st_sql_add(q, " FROM a JOIN store.resource r ON r.pk = a.pk WHERE NOT r.deleted");
    if (e->since_us != 0) {
        st_sql_add(q, " AND r.last_updated >= ");
        st_sql_param_i64(q, e->since_us, "::bigint");
    }
    if (types != NULL) {
        st_sql_add(q, " AND r.res_type = ANY (");
        st_sql_param(q, types, "::text[]");
        st_sql_add(q, ")");
    }
}

struct ectx {
    adapter_store_row_fn fn;
    void *ctx;
    int kind;
    int64_t pk;
};

static int
everything_row(void *vctx, const PGresult *r, const struct adapter_store_row *row)
{
    struct ectx *x = vctx;
    int64_t kind = 0;

    if (!st_col_i64(r, 0, 7, &kind) || !st_col_i64(r, 0, 0, &x->pk))
        return BASE_E_INTERNAL;
    x->kind = (int)kind;
    return x->fn(x->ctx, row, kind == 2 ? FHIR_BUNDLE_MODE_INCLUDE : FHIR_BUNDLE_MODE_MATCH);
}

/* Compartment and _type parameters as array literals. */
static int
arrays(struct base_arena *a, const struct adapter_store_everything *e, const char *out[5],
       struct base_err *err)
{
    const char **ctypes = &out[0];
    const char **cparams = &out[1];
    const char **types = &out[2];
    struct st_arr x[5];
    int rc = BASE_OK;

    for (size_t i = 0; i < 5; i++)
        st_arr_init(&x[i]);
    for (size_t i = 0; i < BASE_ARRAY_LEN(compartment); i++) {
        st_arr_text(&x[0], compartment[i].type);
        st_arr_text(&x[1], compartment[i].param);
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(care_date); i++) {
        st_arr_text(&x[3], care_date[i].type);
        st_arr_text(&x[4], care_date[i].param);
    }
    out[3] = base_arena_strdup(a, st_arr_get(&x[3]) != NULL ? st_arr_get(&x[3]) : "");
    out[4] = base_arena_strdup(a, st_arr_get(&x[4]) != NULL ? st_arr_get(&x[4]) : "");
    for (size_t i = 0; i < e->n_types; i++) {
        if (!st_type_ok(e->types[i], strlen(e->types[i])))
            rc = base_err_set(err, BASE_E_INVALID, "value", "_type", "malformed resource type");
        st_arr_text(&x[2], e->types[i]);
    }
    *ctypes = base_arena_strdup(a, st_arr_get(&x[0]) != NULL ? st_arr_get(&x[0]) : "");
    *cparams = base_arena_strdup(a, st_arr_get(&x[1]) != NULL ? st_arr_get(&x[1]) : "");
    *types = e->n_types > 0 && st_arr_get(&x[2]) != NULL ? base_arena_strdup(a, st_arr_get(&x[2]))
                                                         : NULL;
    for (size_t i = 0; i < 5; i++)
        st_arr_fini(&x[i]);
    if (rc == BASE_OK && (*ctypes == NULL || *cparams == NULL || out[3] == NULL || out[4] == NULL ||
                          (e->n_types > 0 && !*types)))
        rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return rc;
}

static int
everything_total(PGconn *c, struct base_arena *a, const struct adapter_store_everything *e,
                 const struct st_compile *cc, const char *const arr[5], uint64_t *total,
                 struct base_err *err)
{
    struct st_sql q;
    PGresult *r = NULL;
    int64_t n = 0;

    st_sql_init(&q, a);
    everything_rows(&q, e, cc, arr);
    st_sql_add(&q, " SELECT count(*)");
    everything_filter(&q, e, arr[2]);
    TRY(st_exec_sql(c, &q, PGRES_TUPLES_OK, "count $everything", &r, err));
    if (!st_col_i64(r, 0, 0, &n) || n < 0) {
        PQclear(r);
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "bad count");
    }
    PQclear(r);
    *total = (uint64_t)n;
    return BASE_OK;
}

int
adapter_store_everything(PGconn *c, struct base_arena *a, const struct adapter_store_everything *e,
                         const struct adapter_store_search_opts *o, adapter_store_row_fn fn,
                         void *ctx, struct adapter_store_page *page, struct base_err *err)
{
    struct ectx x = {fn, ctx, 0, 0};
    struct st_stream st = {everything_row, &x, 0, 0, 0};
    struct st_compile cc;
    struct adapter_store_row pat;
    struct st_sql q;
    const char *arr[5];
    int kind = -1;
    int64_t after = 0;
    uint32_t count = e->count == 0                            ? BASE_LIMIT_SEARCH_DEFAULT_COUNT
                     : e->count > BASE_LIMIT_SEARCH_MAX_COUNT ? BASE_LIMIT_SEARCH_MAX_COUNT
                                                              : e->count;

    memset(page, 0, sizeof(*page));
    ENSURE(e->cursor == NULL || parse_cursor(e->cursor, &kind, &after), err, BASE_E_INVALID,
           "value", "_cursor", "malformed paging cursor");
    TRY(adapter_store_read(c, a, "Patient", e->patient_id, &pat, err));
    TRY(arrays(a, e, arr, err));
    st_compile_init(&cc, a, o);
    if (e->total) {
        TRY(everything_total(c, a, e, &cc, arr, &page->total, err));
        page->has_total = true;
    }
    st_sql_init(&q, a);
    everything_rows(&q, e, &cc, arr);
    st_sql_add(&q, " SELECT r.pk, r.res_type, r.id, r.version, r.last_updated, r.deleted,"
                   " r.content::text, a.kind");
    everything_filter(&q, e, arr[2]);
    if (e->cursor != NULL) {
        st_sql_add(&q, " AND (a.kind, r.pk) > (");
        st_sql_param_i64(&q, kind, "::integer");
        st_sql_add(&q, ", ");
        st_sql_param_i64(&q, after, "::bigint");
        st_sql_add(&q, ")");
    }
    st_sql_add(&q, " ORDER BY a.kind, r.pk LIMIT ");
    st_sql_param_i64(&q, (int64_t)count + 1, "::bigint");
    st.max_rows = count;
    TRY(st_stream_rows(c, &q, "read $everything", &st, err));
    page->n_rows = st.n_rows;
    page->self_cursor = e->cursor;
    if (st.n_seen > st.max_rows)
        page->next_cursor = base_arena_sprintf(a, "%d.%" PRId64, x.kind, x.pk);
    return BASE_OK;
}
