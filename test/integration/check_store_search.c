/* The store's search against the in-memory matcher: for every query of a
 * table covering each parameter type, prefix and modifier, the ids the SQL
 * returns must be exactly the stored resources fhir_search_match() accepts
 * (and a _sort order it agrees with).  Also paging, totals, _elements,
 * _summary, the searchset Bundle, refusals, SQL injection attempts in
 * every parameter, and _include / _revinclude on data of their own. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/search/fhir_search.h"
#include "fhir/validate/fhir_validate.h"
#include "test/integration/store_corpus.h"

#define NOW_US 1767225600000000LL /* 2026-01-01T00:00:00Z, for `ap` */

static struct {
    json_t **res; /* every live stored resource, as stored (read back) */
    size_t n;
} g;

static void
load_stored(PGconn *c, struct base_arena *a)
{
    PGresult *r = PQexecParams(c, "SELECT content::text FROM store.resource WHERE NOT deleted", 0,
                               NULL, NULL, NULL, NULL, 0);

    (void)a;
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    g.n = (size_t)PQntuples(r);
    g.res = calloc(g.n, sizeof(*g.res));
    for (size_t i = 0; i < g.n; i++)
        g.res[i] = sit_json(PQgetvalue(r, (int)i, 0));
    PQclear(r);
}

static void
setup(void)
{
    static bool done;

    base_log_set_level(BASE_LOG_WARN);
    sc_setup(&done, "store_search", 400, 100, load_stored);
}

/* ---- the differential test --------------------------------------------------------- */

static const struct adapter_store_search_opts sopts = {SC_BASE, NOW_US};
static const struct fhir_search_match_opts mopts = {NOW_US, SC_BASE};

struct idlist {
    char **ids;
    const json_t **res;
    size_t n;
};

static int
collect(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct idlist *l = ctx;

    (void)mode;
    l->ids = realloc(l->ids, (l->n + 1) * sizeof(*l->ids));
    l->ids[l->n++] = strdup(row->id);
    return BASE_OK;
}

static int
cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* qsort/bsearch must not see a NULL array, even empty. */
static void
sort_ids(struct idlist *l)
{
    if (l->n > 0)
        qsort(l->ids, l->n, sizeof(char *), cmp_str);
}

static bool
has_id(const struct idlist *l, char *const *id)
{
    return l->n > 0 && bsearch(id, l->ids, l->n, sizeof(char *), cmp_str) != NULL;
}

static void
free_list(struct idlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    free(l->ids);
    free(l->res);
}

static const json_t *
find_res(const char *type, const char *id)
{
    for (size_t i = 0; i < g.n; i++) {
        if (strcmp(json_string_value(json_object_get(g.res[i], "resourceType")), type) == 0 &&
            strcmp(json_string_value(json_object_get(g.res[i], "id")), id) == 0)
            return g.res[i];
    }
    return NULL;
}

/* What the matcher selects among the stored resources of the type. */
static void
matcher_ids(struct base_arena *a, const struct fhir_search *s, struct idlist *out)
{
    for (size_t i = 0; i < g.n; i++) {
        bool ok = false;
        struct base_err err = {0};

        ck_assert_int_eq(fhir_search_match(s, g.res[i], &mopts, a, &ok, &err), BASE_OK);
        if (ok) {
            out->ids = realloc(out->ids, (out->n + 1) * sizeof(*out->ids));
            out->ids[out->n++] = strdup(json_string_value(json_object_get(g.res[i], "id")));
        }
    }
}

static void
check_order(struct base_arena *a, const struct fhir_search *s, const struct idlist *sql,
            const char *q)
{
    for (size_t i = 1; i < sql->n; i++) {
        const json_t *x = find_res(s->resource_type, sql->ids[i - 1]);
        const json_t *y = find_res(s->resource_type, sql->ids[i]);

        ck_assert_msg(fhir_search_compare(s, x, y, a) <= 0, "order differs at %zu for %s", i, q);
    }
}

static void
report(const char *type, const char *q, struct idlist *sql, struct idlist *m)
{
    fprintf(stderr, "MISMATCH %s?%s: sql %zu, matcher %zu\n", type, q, sql->n, m->n);
    for (size_t i = 0; i < sql->n; i++) {
        if (!has_id(m, &sql->ids[i]))
            fprintf(stderr, "  only sql: %s\n", sql->ids[i]);
    }
    for (size_t i = 0; i < m->n; i++) {
        if (!has_id(sql, &m->ids[i]))
            fprintf(stderr, "  only matcher: %s\n", m->ids[i]);
    }
}

static size_t nonempty;
static size_t total_queries;

/* Run one query both ways and compare. */
static void
differential(PGconn *c, const char *type, const char *query)
{
    struct base_arena *a = base_arena_new(0);
    char full[4096];
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    struct idlist sql = {0};
    struct idlist m = {0};
    struct adapter_store_page page;
    bool same;

    snprintf(full, sizeof(full), "%s%s_count=1000", query, query[0] != '\0' ? "&" : "");
    ck_assert_msg(fhir_search_parse(a, type, full, strlen(full), NULL, &s, &err) == BASE_OK,
                  "parse %s?%s: %s (%s)", type, query, err.msg, err.where);
    ck_assert_msg(adapter_store_search(c, a, s, &sopts, collect, &sql, &page, &err) == BASE_OK,
                  "search %s?%s: %s (%s) %s", type, query, err.msg, err.where, err.log_detail);
    ck_assert_ptr_null(page.next_cursor);
    if (s->n_sort > 0)
        check_order(a, s, &sql, query);
    matcher_ids(a, s, &m);
    sort_ids(&sql);
    sort_ids(&m);
    same = sql.n == m.n;
    for (size_t i = 0; same && i < sql.n; i++)
        same = strcmp(sql.ids[i], m.ids[i]) == 0;
    if (!same)
        report(type, query, &sql, &m);
    ck_assert_msg(same, "SQL and matcher disagree on %s?%s", type, query);
    ck_assert(page.has_total && page.total == sql.n);
    total_queries++;
    nonempty += sql.n > 0;
    free_list(&sql);
    free_list(&m);
    base_arena_free(a);
}

/* type, query: every search type, prefix and modifier the parser accepts. */
static const char *const queries[][2] = {
    /* token: code, system|code, |code, system|, :not, :text, :of-type, :missing, booleans */
    {"Patient", "gender=male"},
    {"Patient", "gender=http://hl7.org/fhir/administrative-gender|female"},
    {"Patient", "gender:not=male"},
    {"Patient", "gender:missing=true"},
    {"Patient", "gender:missing=false"},
    {"Patient", "identifier=http://hl7.org/fhir/sid/us-ssn|999-94-5397"},
    {"Patient", "identifier=999-94-5397"},
    {"Patient", "identifier=|999-94-5397"},
    {"Patient", "identifier=http://hospital.smarthealthit.org|"},
    {"Patient", "identifier:text=medical"},
    {"Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|"
                "79a66c97-6131-3213-f3c9-4606946ab056"},
    {"Patient", "active=true"},
    {"Patient", "active:missing=true"},
    {"Patient", "deceased=true"},
    {"Patient", "deceased=false"},
    {"Patient", "telecom=555-810-7203"},
    {"Patient", "phone=555-810-7203,(03) 5555 6473"},
    {"Patient", "language=urn:ietf:bcp:47|en-US"},
    {"Observation", "code=http://loinc.org|15074-8"},
    {"Observation", "code=15074-8,2339-0"},
    {"Observation", "code:text=glucose"},
    {"Observation", "code:text=créat"},
    {"Observation", "code:not=http://loinc.org|15074-8"},
    {"Observation", "code:missing=true"},
    {"Observation", "category=vital-signs"},
    {"Observation", "category=http://terminology.hl7.org/CodeSystem/observation-category|"},
    {"Observation", "status=final,amended"},
    {"Observation", "status:not=final"},
    {"Observation", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|FILL|O14"},
    {"Observation", "identifier:text=filler"},
    {"Observation", "value-concept=http://snomed.info/sct|260385010"},
    {"Observation", "value-concept:text=finding text 1"},
    {"Observation", "component-code=8480-6"},
    {"Observation", "combo-code=8480-6"},
    {"Condition", "clinical-status=active"},
    {"Condition", "code=http://snomed.info/sct|160903007"},
    {"Condition", "category=encounter-diagnosis"},
    {"Encounter", "class=AMB"},
    {"Encounter", "class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP,EMER"},
    {"Encounter", "type=185347001"},
    {"Encounter", "status=finished"},
    {"Immunization", "vaccine-code=http://hl7.org/fhir/sid/cvx|140"},
    {"Immunization", "status=completed"},
    {"AllergyIntolerance", "criticality=low"},
    {"AllergyIntolerance", "category=medication"},
    {"AllergyIntolerance", "type=allergy"},
    {"MedicationRequest", "intent=order&status=stopped"},
    {"MedicationRequest", "code=http://www.nlm.nih.gov/research/umls/rxnorm|314076"},
    {"DocumentReference", "type=http://loinc.org|51847-2"},
    {"Organization", "type=prov"},
    {"Practitioner", "identifier=http://hl7.org/fhir/sid/us-npi|9999974493"},
    /* _id, _tag, _security, _profile, _source */
    {"Patient", "_id=79a66c97-6131-3213-f3c9-4606946ab056,example"},
    {"Patient", "_id:not=example"},
    {"Patient", "_id=|example"},
    {"Patient", "_id=http://x|example"},
    {"Patient", "_id:missing=false"},
    {"Observation", "_tag=urn:tag|t3"},
    {"Observation", "_tag:missing=false"},
    {"Patient", "_security:missing=true"},
    /* uri: exact, :below, :above */
    {"Patient", "_profile=http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"},
    {"Patient", "_profile:below=http://hl7.org/fhir/us/core"},
    {"Observation", "_profile:above=http://example.org/StructureDefinition/lab-obs/v2"},
    {"Observation", "_profile:missing=true"},
    {"Patient", "_source:missing=true"},
    /* string: prefix (case and accents folded), :exact, :contains, HumanName/Address parts */
    {"Patient", "family=upt"},
    {"Patient", "family=UPTON904"},
    {"Patient", "family:exact=Upton904"},
    {"Patient", "family:exact=upton904"},
    {"Patient", "family:contains=ton"},
    {"Patient", "name=mar"},
    {"Patient", "name=chalmers,windsor"},
    {"Patient", "given=jim"},
    {"Patient", "address=emporia"},
    {"Patient", "address-city=Haysville"},
    {"Patient", "address-state=KS"},
    {"Patient", "address-postalcode:missing=true"},
    {"Patient", "address:contains=park"},
    {"Observation", "value-string=unicode"},
    {"Observation", "value-string=élevé"},
    {"Observation", "value-string:exact=élevé 1"},
    {"Observation", "value-string:contains=血"},
    {"Observation", "value-string=pinyin xuetang"},
    {"Organization", "name=hill"},
    {"Organization", "name:contains=HOSPITAL"},
    {"Organization", "address-city=cunningham"},
    {"Practitioner", "name=dr"},
    /* date: every prefix, partial precisions, Periods open at either end */
    {"Patient", "birthdate=1927"},
    {"Patient", "birthdate=1960-04-13"},
    {"Patient", "birthdate=1981-11"},
    {"Patient", "birthdate=ne1927-05-21"},
    {"Patient", "birthdate=gt1990"},
    {"Patient", "birthdate=lt1950-01-01"},
    {"Patient", "birthdate=ge1978-05-12"},
    {"Patient", "birthdate=le1963-07"},
    {"Patient", "birthdate=sa2000"},
    {"Patient", "birthdate=eb1960"},
    {"Patient", "birthdate=ap1980"},
    {"Patient", "birthdate=ge1950&birthdate=lt1990"},
    {"Patient", "birthdate:missing=true"},
    {"Observation", "date=2020"},
    {"Observation", "date=2020-03"},
    {"Observation", "date=2020-03-04"},
    {"Observation", "date=gt2020-06"},
    {"Observation", "date=lt2019-06"},
    {"Observation", "date=ge2020-03-15"},
    {"Observation", "date=le2020-03"},
    {"Observation", "date=sa2020"},
    {"Observation", "date=eb2020-02"},
    {"Observation", "date=ap2020-06-15"},
    {"Observation", "date=ne2020"},
    {"Observation", "date=2020-03-04T12:30:00%2B08:00"},
    {"Observation", "date=gt2020-03-04T04:30:00Z"},
    {"Observation", "date:missing=true"},
    {"Encounter", "date=ge2010-01-01"},
    {"Encounter", "date=1989-10-04"},
    {"Encounter", "date=lt1995&date=gt1980"},
    {"Condition", "onset-date=ge2000"},
    {"Condition", "abatement-date:missing=true"},
    {"Condition", "recorded-date=lt2010"},
    {"Immunization", "date=ge2015&date=lt2017"},
    {"Procedure", "date=ge2015"},
    {"Procedure", "date=ap2019-06"},
    {"MedicationRequest", "authoredon=lt2000"},
    {"AllergyIntolerance", "date=ge1990"},
    {"DocumentReference", "date=1987"},
    {"Patient", "_lastUpdated=gt2020-01-01"},
    {"Patient", "_lastUpdated=lt2020-01-01"},
    {"Patient", "_lastUpdated=ge2020&_lastUpdated=le2099"},
    {"Patient", "_lastUpdated=ne2020"},
    {"Patient", "_lastUpdated:missing=true"},
    /* quantity: precision for eq/ne, exact for order prefixes, ap, units, open ends */
    {"Observation", "value-quantity=5.4"},
    {"Observation", "value-quantity=5.40"},
    {"Observation", "value-quantity=100"},
    {"Observation", "value-quantity=1e2"},
    {"Observation", "value-quantity=ne5.4"},
    {"Observation", "value-quantity=gt99.5"},
    {"Observation", "value-quantity=lt0"},
    {"Observation", "value-quantity=le-3.5"},
    {"Observation", "value-quantity=ge1500"},
    {"Observation", "value-quantity=sa12"},
    {"Observation", "value-quantity=eb12"},
    {"Observation", "value-quantity=ap100"},
    {"Observation", "value-quantity=0.001"},
    {"Observation", "value-quantity=5.4|http://unitsofmeasure.org|mmol/L"},
    {"Observation", "value-quantity=gt1|http://unitsofmeasure.org|mg/dL"},
    {"Observation", "value-quantity=gt1||lbs"},
    {"Observation", "value-quantity=gt1||mmol/L"},
    {"Observation", "value-quantity:missing=true"},
    {"Observation", "component-value-quantity=120"},
    {"Observation", "combo-value-quantity=gt100"},
    {"Condition", "onset-age=gt50"},
    {"Condition", "onset-age=lt45"},
    {"Condition", "onset-age=40"},
    {"Condition", "onset-age=sa40"},
    {"Condition", "onset-age=eb60"},
    {"Condition", "onset-age=ap80|http://unitsofmeasure.org|a"},
    {"Condition", "onset-age=ne40"},
    {"Encounter", "length=gt0"},
    /* reference: Type/id, id alone, :[Type], absolute on/off this server, :identifier */
    {"Observation", "subject=Patient/79a66c97-6131-3213-f3c9-4606946ab056"},
    {"Observation", "patient=79a66c97-6131-3213-f3c9-4606946ab056"},
    {"Observation", "subject:Patient=129c6ac7-8d06-89de-ad63-0204a93e76c3"},
    {"Observation", "subject=" SC_BASE "/Patient/129c6ac7-8d06-89de-ad63-0204a93e76c3"},
    {"Observation",
     "subject=https://other.example/fhir/Patient/3af3708d-41f1-cd80-f3dd-ec5ac76072bf"},
    {"Observation", "subject:identifier=urn:mrn|X19"},
    {"Observation", "subject:identifier=X38"},
    {"Observation", "subject:missing=true"},
    {"Observation", "performer=Practitioner/example"},
    {"Observation", "subject=Patient/example&code=29463-7"},
    {"Encounter", "patient=Patient/7bc002fa-dc52-17d6-1563-fd8901826f7d"},
    {"Encounter", "participant:missing=false"},
    {"Encounter", "service-provider:missing=false"},
    {"Condition", "patient=Patient/79a66c97-6131-3213-f3c9-4606946ab056,Patient/example"},
    {"Condition", "subject:Patient=79a66c97-6131-3213-f3c9-4606946ab056"},
    {"Immunization", "patient=Patient/6a4160eb-a793-2f86-2302-378626f46cce"},
    {"DocumentReference", "subject=Patient/7bc002fa-dc52-17d6-1563-fd8901826f7d"},
    {"Patient", "general-practitioner:missing=false"},
    {"Patient", "link:missing=false"},
    {"DiagnosticReport", "result=Observation/f001"},
    {"Provenance", "target:missing=false"},
    /* what the CDA converter adds: goals, family history, care teams */
    {"Goal", "patient=Patient/79a66c97-6131-3213-f3c9-4606946ab056"},
    {"Goal", "lifecycle-status=active"},
    {"Goal", "lifecycle-status=http://hl7.org/fhir/goal-status|completed"},
    {"Goal", "achievement-status=achieved"},
    {"Goal", "start-date=2023"},
    {"Goal", "start-date=ge2023-02-01"},
    {"Goal", "start-date:missing=true"},
    {"Goal", "target-date=lt2024-06"},
    {"Goal", "_sort=-start-date,_id"},
    {"FamilyMemberHistory", "patient=3af3708d-41f1-cd80-f3dd-ec5ac76072bf"},
    {"FamilyMemberHistory", "relationship=FTH"},
    {"FamilyMemberHistory", "code=http://snomed.info/sct|22298006"},
    {"FamilyMemberHistory", "sex=male"},
    {"FamilyMemberHistory", "sex:missing=true"},
    {"FamilyMemberHistory", "status=partial"},
    {"FamilyMemberHistory", "date=ge2023-06&_sort=date"},
    {"CareTeam", "status=active"},
    {"CareTeam", "date=2023-06-01"},
    {"CareTeam", "date=lt2022-03"},
    {"CareTeam", "participant=Patient/a4a401d1-a46a-eb4a-8a38-760d5d79d6ec"},
    {"CareTeam", "subject=Patient/8e1a0a7c-e308-444b-075a-3c2b1f60f881&status=inactive"},
    /* several parameters, result parameters, _sort keys of every type */
    {"Observation", "code=15074-8&status=final&date=ge2019"},
    {"Observation", "patient=79a66c97-6131-3213-f3c9-4606946ab056&_sort=-date"},
    {"Observation", "_sort=date"},
    {"Observation", "_sort=-value-quantity"},
    {"Observation", "_sort=status,-date"},
    {"Observation", "_sort=code"},
    {"Observation", "_sort=-code"},
    {"Observation", "_sort=subject"},
    {"Observation", "_sort=_tag,_id"},
    {"Patient", "_sort=family"},
    {"Patient", "_sort=-birthdate,family"},
    {"Patient", "_sort=-_lastUpdated"},
    {"Patient", "_sort=_id"},
    {"Encounter", "_sort=-date&class=AMB"},
    {"Condition", "_sort=onset-age"},
    {"Condition", "_sort=-onset-age"},
    {"Patient", "_sort=_profile"},
    {"Practitioner", ""},
    {"Endpoint", "status=active"},
    {"Consent", "status=active"},
    {"AuditEvent", "date=gt2000"},
    {"ImagingStudy", "modality=DX,MR"},
    {"MedicationStatement", "status:missing=false"},
};

START_TEST(sql_agrees_with_matcher)
{
    PGconn *c = sit_connect();

    for (size_t i = 0; i < BASE_ARRAY_LEN(queries); i++)
        differential(c, queries[i][0], queries[i][1]);
    /* The table must exercise real data, not empty sets. */
    ck_assert_msg(nonempty * 10 >= total_queries * 7, "only %zu of %zu queries found anything",
                  nonempty, total_queries);
    fprintf(stderr, "store differential: %zu queries, %zu non-empty, %zu resources\n",
            total_queries, nonempty, g.n);
    PQfinish(c);
}
END_TEST

/* ---- paging, totals, subsetting, Bundles ------------------------------------------ */

static struct fhir_search *
parse(struct base_arena *a, const char *type, const char *q)
{
    struct fhir_search *s = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_search_parse(a, type, q, strlen(q), NULL, &s, &err) == BASE_OK,
                  "parse %s: %s (%s)", q, err.msg, err.where);
    return s;
}

static long long
live_count(PGconn *c, const char *type)
{
    const char *p[1] = {type};

    return sit_count(c, "SELECT count(*) FROM store.resource WHERE res_type = $1 AND NOT deleted",
                     1, p);
}

START_TEST(paging_walks_every_row_once)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct idlist all = {0};
    struct adapter_store_page page;
    struct base_err err = {0};
    const char *cursor = NULL;
    int pages = 0;
    long long n = live_count(c, "Observation");

    do {
        char q[256];
        struct fhir_search *s;
        size_t before = all.n;

        snprintf(q, sizeof(q), "_count=37&_sort=-date,_id%s%s", cursor != NULL ? "&_cursor=" : "",
                 cursor != NULL ? cursor : "");
        s = parse(a, "Observation", q);
        ck_assert_int_eq(adapter_store_search(c, a, s, &sopts, collect, &all, &page, &err),
                         BASE_OK);
        ck_assert_uint_le(all.n - before, 37);
        if (cursor != NULL) {
            ck_assert_str_eq(page.self_cursor, cursor);
            ck_assert_ptr_nonnull(page.prev_cursor);
        } else {
            ck_assert_ptr_null(page.prev_cursor);
        }
        cursor = page.next_cursor;
        pages++;
    } while (cursor != NULL);
    ck_assert_int_eq((long long)all.n, n);
    ck_assert(page.has_total);
    ck_assert_int_eq((long long)page.total, n);
    sort_ids(&all);
    for (size_t i = 1; i < all.n; i++)
        ck_assert_str_ne(all.ids[i - 1], all.ids[i]);
    ck_assert_int_eq(pages, (int)((n + 36) / 37));
    free_list(&all);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(totals_and_summary_count)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct idlist rows = {0};
    struct adapter_store_page page;
    struct base_err err = {0};
    long long n = live_count(c, "Observation");

    ck_assert_int_eq(adapter_store_search(c, a, parse(a, "Observation", "_count=5&_total=accurate"),
                                          &sopts, collect, &rows, &page, &err),
                     BASE_OK);
    ck_assert_uint_eq(rows.n, 5);
    ck_assert(page.has_total);
    ck_assert_int_eq((long long)page.total, n);
    ck_assert_ptr_nonnull(page.next_cursor);
    free_list(&rows);
    memset(&rows, 0, sizeof(rows));
    ck_assert_int_eq(adapter_store_search(c, a, parse(a, "Observation", "_count=5"), &sopts,
                                          collect, &rows, &page, &err),
                     BASE_OK);
    ck_assert(!page.has_total); /* not asked for, and not free */
    free_list(&rows);
    memset(&rows, 0, sizeof(rows));
    ck_assert_int_eq(adapter_store_search(c, a,
                                          parse(a, "Observation", "status=final&_summary=count"),
                                          &sopts, collect, &rows, &page, &err),
                     BASE_OK);
    ck_assert_uint_eq(rows.n, 0);
    ck_assert(page.has_total);
    ck_assert_int_eq((long long)page.total,
                     sit_count(c,
                               "SELECT count(*) FROM store.resource WHERE res_type ="
                               " 'Observation' AND NOT deleted AND content->>'status' = 'final'",
                               0, NULL));
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

struct texts {
    json_t *res[8];
    size_t n;
};

static int
keep_json(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct texts *t = ctx;

    (void)mode;
    if (t->n < 8)
        t->res[t->n++] = sit_json(row->json);
    return BASE_OK;
}

static bool
has_subsetted(const json_t *r)
{
    const json_t *tags = json_object_get(json_object_get(r, "meta"), "tag");

    for (size_t i = 0; i < json_array_size(tags); i++) {
        if (strcmp(json_string_value(json_object_get(json_array_get(tags, i), "code")),
                   "SUBSETTED") == 0)
            return true;
    }
    return false;
}

START_TEST(elements_and_summary_data_subset)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct texts t = {{NULL}, 0};
    struct adapter_store_page page;
    struct base_err err = {0};

    ck_assert_int_eq(
        adapter_store_search(c, a, parse(a, "Observation", "_id=syn-1&_elements=status,value"),
                             &sopts, keep_json, &t, &page, &err),
        BASE_OK);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "status"));
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "valueQuantity"));
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "id"));
    /* mandatory elements stay (search.html#elements), so the subset is
     * still a valid Observation: code (1..1) is kept unasked */
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "code"));
    ck_assert_ptr_null(json_object_get(t.res[0], "subject"));
    ck_assert_uint_eq(fhir_validate_error_count(t.res[0]), 0);
    ck_assert(has_subsetted(t.res[0]));
    json_decref(t.res[0]);
    t.n = 0;
    ck_assert_int_eq(adapter_store_search(c, a, parse(a, "Patient", "_id=example&_summary=data"),
                                          &sopts, keep_json, &t, &page, &err),
                     BASE_OK);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_ptr_null(json_object_get(t.res[0], "text"));
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "name"));
    ck_assert(has_subsetted(t.res[0]));
    json_decref(t.res[0]);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* _summary=true / text (R4 search.html#summary, fhir/summary): the
 * summary elements (or text, id, meta and the mandatory ones), tagged. */
START_TEST(summary_true_and_text_subset)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct texts t = {{NULL}, 0};
    struct adapter_store_page page;
    struct base_err err = {0};

    ck_assert_int_eq(adapter_store_search(c, a, parse(a, "Observation", "_id=syn-1&_summary=true"),
                                          &sopts, keep_json, &t, &page, &err),
                     BASE_OK);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "status"));
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "valueQuantity"));
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "subject"));
    ck_assert_ptr_null(json_object_get(t.res[0], "text"));
    ck_assert_uint_eq(fhir_validate_error_count(t.res[0]), 0);
    ck_assert(has_subsetted(t.res[0]));
    json_decref(t.res[0]);
    t.n = 0;
    ck_assert_int_eq(adapter_store_search(c, a, parse(a, "Observation", "_id=syn-1&_summary=text"),
                                          &sopts, keep_json, &t, &page, &err),
                     BASE_OK);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "status")); /* 1..1 */
    ck_assert_ptr_nonnull(json_object_get(t.res[0], "code"));   /* 1..1 */
    ck_assert_ptr_null(json_object_get(t.res[0], "valueQuantity"));
    ck_assert_ptr_null(json_object_get(t.res[0], "subject"));
    ck_assert_uint_eq(fhir_validate_error_count(t.res[0]), 0);
    ck_assert(has_subsetted(t.res[0]));
    json_decref(t.res[0]);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(unsupported_requests_are_refused_by_name)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct idlist rows = {0};
    struct adapter_store_page page;
    static const char *const bad[][2] = {
        {"_include:iterate=Observation:patient", "_include"},
        {"_revinclude=Provenance:nosuch", "_revinclude"},
        {"_cursor=abc", "_cursor"},
        {"_offset=100000000", "_offset"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        struct base_err err = {0};
        int rc = adapter_store_search(c, a, parse(a, "Observation", bad[i][0]), &sopts, collect,
                                      &rows, &page, &err);

        ck_assert_msg(rc == BASE_E_INVALID || rc == BASE_E_LIMIT, "%s: rc %d", bad[i][0], rc);
        ck_assert_str_eq(err.where, bad[i][1]);
        ck_assert_ptr_null(strstr(err.msg, "1=1"));
    }
    ck_assert_uint_eq(rows.n, 0);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(searchset_bundle_has_links_and_entries)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct base_buf out;
    struct base_err err = {0};
    json_t *b;
    const json_t *links;
    const json_t *e0;
    char full[256];

    base_buf_init(&out, 64u << 20);
    ck_assert_int_eq(
        adapter_store_search_bundle(
            c, a,
            parse(a, "Observation",
                  "patient=Patient/79a66c97-6131-3213-f3c9-4606946ab056&_sort=-date&_count=3"),
            &sopts, &out, &err),
        BASE_OK);
    b = sit_json(out.data);
    ck_assert_str_eq(json_string_value(json_object_get(b, "type")), "searchset");
    links = json_object_get(b, "link");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(links, 0), "relation")),
                     "self");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(links, 1), "relation")),
                     "next");
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(json_array_get(links, 1), "url")),
               SC_BASE "/Observation?patient="));
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(json_array_get(links, 1), "url")), "_cursor=3"));
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 3);
    e0 = json_array_get(json_object_get(b, "entry"), 0);
    snprintf(full, sizeof(full), SC_BASE "/Observation/%s",
             json_string_value(json_object_get(json_object_get(e0, "resource"), "id")));
    ck_assert_str_eq(json_string_value(json_object_get(e0, "fullUrl")), full);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e0, "search"), "mode")),
                     "match");
    json_decref(b);
    base_buf_fini(&out);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* ---- SQL injection ---------------------------------------------------------------- */

static const char *const payloads[] = {
    "' OR '1'='1",
    "1; DROP TABLE store.resource; --",
    "x') OR (1=1) --",
    "$1",
    "%' OR 1=1 --",
    "Patient/1' OR 'x'='x",
    "\"; SELECT pg_sleep(5); --",
    "\\' UNION SELECT content FROM store.resource --",
    "{\"a\",\"b\"}",
    "1e5; DELETE FROM store.identifier",
};

static void
encode(const char *in, char *out, size_t cap)
{
    size_t k = 0;

    for (; *in != '\0' && k + 4 < cap; in++) {
        unsigned char ch = (unsigned char)*in;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            out[k++] = (char)ch;
        else
            k += (size_t)snprintf(out + k, cap - k, "%%%02X", ch);
    }
    out[k] = '\0';
}

/* Every parameter of the type, with every payload: parsed values run as
 * parameters and agree with the matcher; refused values name the
 * parameter and quote nothing. */
static void
inject_type(PGconn *c, const char *type)
{
    const struct fhir_search_param_def *defs[128];
    size_t nd = fhir_search_params_for(type, defs, 128);

    for (size_t i = 0; i < nd; i++) {
        for (size_t k = 0; k < BASE_ARRAY_LEN(payloads); k++) {
            struct base_arena *a = base_arena_new(0);
            struct fhir_search *s = NULL;
            struct base_err err = {0};
            char enc[512];
            char q[1024];

            encode(payloads[k], enc, sizeof(enc));
            snprintf(q, sizeof(q), "%s=%s", defs[i]->name, enc);
            if (fhir_search_parse(a, type, q, strlen(q), NULL, &s, &err) != BASE_OK) {
                ck_assert_str_eq(err.where, defs[i]->name);
                ck_assert_ptr_null(strstr(err.msg, "1=1"));
                ck_assert_ptr_null(strstr(err.msg, "DROP"));
            } else {
                differential(c, type, q);
            }
            base_arena_free(a);
        }
    }
}

START_TEST(injection_strings_are_only_values)
{
    PGconn *c = sit_connect();
    long long before = sit_count(c, "SELECT count(*) FROM store.resource", 0, NULL);
    long long idents = sit_count(c, "SELECT count(*) FROM store.identifier", 0, NULL);

    inject_type(c, "Patient");
    inject_type(c, "Observation");
    inject_type(c, "Encounter");
    ck_assert_int_eq(sit_count(c, "SELECT count(*) FROM store.resource", 0, NULL), before);
    ck_assert_int_eq(sit_count(c, "SELECT count(*) FROM store.identifier", 0, NULL), idents);
    PQfinish(c);
}
END_TEST

/* ---- _include and _revinclude ----------------------------------------------------- */

/* Their own database: the differential cases above must not see these. */
static void
include_setup(void)
{
    static bool done;
    char db[64];
    json_t *res[64];
    size_t n = 0;
    json_t *big[1002];
    PGconn *c;
    struct base_arena *a;

    if (done)
        return;
    done = true;
    base_log_set_level(BASE_LOG_WARN);
    snprintf(db, sizeof(db), "store_include_%d", (int)getpid());
    sit_make_database(db);
    c = sit_connect();
    a = base_arena_new(0);
    res[n++] = json_pack("{s:s, s:s, s:[{s:s}]}", "resourceType", "Patient", "id", "inc-p1", "name",
                         "family", "One");
    res[n++] = json_pack("{s:s, s:s, s:[{s:s}]}", "resourceType", "Patient", "id", "inc-p2", "name",
                         "family", "Two");
    res[n++] = json_pack("{s:s, s:s}", "resourceType", "Practitioner", "id", "inc-dr1");
    res[n++] = json_pack("{s:s, s:s, s:s}", "resourceType", "Organization", "id", "inc-org1",
                         "name", "Lab");
    /* o01..o10 of inc-p1, o11 (absolute, this server) and o12 of inc-p2 */
    for (int i = 1; i <= 12; i++) {
        char id[32];
        char subj[128];

        snprintf(id, sizeof(id), "inc-o%02d", i);
        snprintf(subj, sizeof(subj), "%sPatient/inc-p%d", i == 11 ? SC_BASE "/" : "",
                 i <= 10 ? 1 : 2);
        res[n++] = json_pack("{s:s, s:s, s:s, s:{s:[{s:s, s:s}]}, s:{s:s}}", "resourceType",
                             "Observation", "id", id, "status", "final", "code", "coding", "system",
                             "urn:test:inc", "code", "inc", "subject", "reference", subj);
    }
    json_object_set_new(res[4], "performer",
                        json_pack("[{s:s}, {s:s}]", "reference", "Practitioner/inc-dr1",
                                  "reference", "Organization/inc-org1"));
    /* another server's Practitioner/inc-dr1 is not ours */
    json_object_set_new(
        res[5], "performer",
        json_pack("[{s:s}]", "reference", "https://elsewhere.example/fhir/Practitioner/inc-dr1"));
    json_object_set_new(res[8], "hasMember",
                        json_pack("[{s:s}, {s:s}]", "reference", "Observation/inc-o01", "reference",
                                  "Observation/inc-o06"));
    for (int i = 1; i <= 5; i++) {
        char id[32];

        snprintf(id, sizeof(id), "inc-res%d", i);
        res[n++] =
            json_pack("{s:s, s:s, s:s, s:{s:[{s:s, s:s}]}, s:{s:s}}", "resourceType", "Observation",
                      "id", id, "status", "final", "code", "coding", "system", "urn:test:inc",
                      "code", "res", "subject", "reference", "Patient/inc-p2");
    }
    res[n++] = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:[{s:s}, {s:s}, {s:s}]}",
                         "resourceType", "DiagnosticReport", "id", "inc-rep-a", "status", "final",
                         "code", "text", "panel", "subject", "reference", "Patient/inc-p1",
                         "result", "reference", "Observation/inc-res1", "reference",
                         "Observation/inc-res2", "reference", "Observation/inc-res3");
    res[n++] = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:[{s:s}, {s:s}]}", "resourceType",
                         "DiagnosticReport", "id", "inc-rep-b", "status", "final", "code", "text",
                         "panel", "subject", "reference", "Patient/inc-p1", "result", "reference",
                         "Observation/inc-res3", "reference", "Observation/inc-res4");
    res[n++] = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:[{s:s}]}", "resourceType",
                         "DiagnosticReport", "id", "inc-rep-c", "status", "final", "code", "text",
                         "panel", "subject", "reference", "Patient/inc-p1", "result", "reference",
                         "Observation/inc-res5");
    res[n++] =
        json_pack("{s:s, s:s, s:s, s:[{s:{s:s}}], s:[{s:s}]}", "resourceType", "Provenance", "id",
                  "inc-prov1", "recorded", "2026-01-01T00:00:00Z", "agent", "who", "reference",
                  "Practitioner/inc-dr1", "target", "reference", "Patient/inc-p1");
    res[n++] = json_pack("{s:s, s:s, s:s, s:[{s:{s:s}}], s:[{s:s}, {s:s}]}", "resourceType",
                         "Provenance", "id", "inc-prov2", "recorded", "2026-01-01T00:00:00Z",
                         "agent", "who", "reference", "Practitioner/inc-dr1", "target", "reference",
                         "Patient/inc-p1", "reference", "Observation/inc-o01");
    res[n++] =
        json_pack("{s:s, s:s, s:s, s:[{s:{s:s}}], s:[{s:s}]}", "resourceType", "Provenance", "id",
                  "inc-prov3", "recorded", "2026-01-01T00:00:00Z", "agent", "who", "reference",
                  "Practitioner/inc-dr1", "target", "reference", "Patient/inc-p2");
    res[n++] = json_pack("{s:s, s:s}", "resourceType", "Patient", "id", "inc-big");
    sc_apply(c, a, sc_put_bundle(res, n));
    for (size_t i = 0; i < n; i++)
        json_decref(res[i]);
    /* 1001 Observations of inc-big: one more than a page may include */
    for (int i = 0; i < 1001; i++) {
        char id[32];

        snprintf(id, sizeof(id), "big-%04d", i);
        big[i] = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s}}", "resourceType", "Observation", "id",
                           id, "status", "final", "code", "text", "big", "subject", "reference",
                           "Patient/inc-big");
    }
    sc_apply(c, a, sc_put_bundle(big, 1001));
    for (int i = 0; i < 1001; i++)
        json_decref(big[i]);
    /* a deleted result is never included */
    sc_apply(c, a,
             json_pack("{s:s, s:s, s:[{s:{s:s, s:s}}]}", "resourceType", "Bundle", "type",
                       "transaction", "entry", "request", "method", "DELETE", "url",
                       "Observation/inc-res5"));
    base_arena_free(a);
    PQfinish(c);
}

/* Rows of a page as "mode Type/id" lines, in order. */
struct rowlog {
    char lines[2100][64];
    size_t n;
    size_t n_match;
    json_t *json[4]; /* the first rows, parsed */
};

static int
log_row(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct rowlog *l = ctx;

    ck_assert_uint_lt(l->n, BASE_ARRAY_LEN(l->lines));
    /* matches first, then includes */
    if (mode == FHIR_BUNDLE_MODE_MATCH) {
        ck_assert_uint_eq(l->n, l->n_match);
        l->n_match++;
    }
    if (l->n < BASE_ARRAY_LEN(l->json))
        l->json[l->n] = sit_json(row->json);
    snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%s %s/%s",
             mode == FHIR_BUNDLE_MODE_MATCH ? "match" : "include", row->type, row->id);
    return BASE_OK;
}

static void
rowlog_free(struct rowlog *l)
{
    for (size_t i = 0; i < l->n && i < BASE_ARRAY_LEN(l->json); i++)
        json_decref(l->json[i]);
    free(l);
}

/* Run Type?q; returns the rc, the rows in *out (free with rowlog_free). */
static int
inc_search(const char *type, const char *q, struct rowlog **out, struct adapter_store_page *page,
           struct base_err *err)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_page pg;
    int rc;

    *out = calloc(1, sizeof(**out));
    rc = adapter_store_search(c, a, parse(a, type, q), &sopts, log_row, *out,
                              page != NULL ? page : &pg, err);
    if (page != NULL && rc == BASE_OK) {
        /* cursors live in the arena */
        page->self_cursor = page->self_cursor ? strdup(page->self_cursor) : NULL;
        page->next_cursor = page->next_cursor ? strdup(page->next_cursor) : NULL;
        page->prev_cursor = NULL;
    }
    base_arena_free(a);
    PQfinish(c);
    return rc;
}

/* The include lines of Type?q, joined by ", " (the matches are checked to
 * be `n_match`). */
static char *
includes_of(const char *type, const char *q, size_t n_match)
{
    struct rowlog *l;
    struct base_err err = {0};
    char *out = calloc(1, 2100 * 64);

    ck_assert_msg(inc_search(type, q, &l, NULL, &err) == BASE_OK, "%s?%s: %s (%s)", type, q,
                  err.msg, err.where);
    ck_assert_msg(l->n_match == n_match, "%s?%s: %zu matches", type, q, l->n_match);
    for (size_t i = l->n_match; i < l->n; i++) {
        if (i > l->n_match)
            strcat(out, ", ");
        strcat(out, l->lines[i] + strlen("include "));
    }
    rowlog_free(l);
    return out;
}

static void
expect_includes(const char *type, const char *q, size_t n_match, const char *want)
{
    char *got = includes_of(type, q, n_match);

    ck_assert_msg(strcmp(got, want) == 0, "%s?%s: included [%s], expected [%s]", type, q, got,
                  want);
    free(got);
}

START_TEST(include_follows_references_once)
{
    /* ten matches point at one Patient: it comes once */
    expect_includes("Observation", "patient=inc-p1&_include=Observation:patient&_count=100", 10,
                    "Patient/inc-p1");
    expect_includes("Observation", "patient=inc-p1&_count=100", 10, "");
    /* a relative and an absolute reference under this server's base alike */
    expect_includes("Observation", "_id=inc-o11,inc-o12&_include=Observation:subject", 2,
                    "Patient/inc-p2");
    /* results shared by two reports come once; the deleted one never */
    expect_includes("DiagnosticReport", "patient=inc-p1&_include=DiagnosticReport:result", 3,
                    "Observation/inc-res1, Observation/inc-res2, Observation/inc-res3, "
                    "Observation/inc-res4");
    expect_includes("DiagnosticReport", "_id=inc-rep-c&_include=DiagnosticReport:result", 1, "");
    /* a match of the page is not included again */
    expect_includes("Observation", "_id=inc-o01,inc-o05&_include=Observation:has-member", 2,
                    "Observation/inc-o06");
    /* another server's resource is not ours to include */
    expect_includes("Observation", "_id=inc-o02&_include=Observation:performer", 1, "");
    /* an include of another source type adds nothing (R4 3.1.1.5.4) */
    expect_includes("Observation", "_id=inc-o01&_include=DiagnosticReport:result", 1, "");
    /* nothing matched: nothing included */
    expect_includes("Observation", "_id=nosuch&_include=Observation:patient", 0, "");
}
END_TEST

START_TEST(include_target_and_wildcards)
{
    expect_includes("Observation", "_id=inc-o01&_include=Observation:performer", 1,
                    "Organization/inc-org1, Practitioner/inc-dr1");
    expect_includes("Observation", "_id=inc-o01&_include=Observation:performer:Organization", 1,
                    "Organization/inc-org1");
    expect_includes("Observation", "_id=inc-o01&_include=Observation:performer:Practitioner", 1,
                    "Practitioner/inc-dr1");
    expect_includes("Observation", "_id=inc-o01&_include=Observation:subject:Group", 1, "");
    /* every reference parameter, ordered by type then id */
    expect_includes("Observation", "_id=inc-o01&_include=*", 1,
                    "Organization/inc-org1, Patient/inc-p1, Practitioner/inc-dr1");
    expect_includes("Observation", "_id=inc-o01&_include=Observation:*", 1,
                    "Organization/inc-org1, Patient/inc-p1, Practitioner/inc-dr1");
    expect_includes("Observation", "_id=inc-o01&_include=Observation:*:Patient", 1,
                    "Patient/inc-p1");
    /* two includes reaching the same resource: once */
    expect_includes("Observation",
                    "_id=inc-o01&_include=Observation:patient&_include=Observation:subject", 1,
                    "Patient/inc-p1");
}
END_TEST

START_TEST(revinclude_finds_what_points_at_the_page)
{
    expect_includes("Patient", "_id=inc-p1&_revinclude=Provenance:target", 1,
                    "Provenance/inc-prov1, Provenance/inc-prov2");
    expect_includes("Patient", "_id=inc-p1&_revinclude=Provenance:target:Patient", 1,
                    "Provenance/inc-prov1, Provenance/inc-prov2");
    expect_includes("Patient", "_id=inc-p1&_revinclude=Provenance:target:Observation", 1, "");
    expect_includes("Patient", "_id=inc-p2&_revinclude=Provenance:patient", 1,
                    "Provenance/inc-prov3");
    expect_includes("Observation", "_id=inc-o01&_revinclude=Provenance:target", 1,
                    "Provenance/inc-prov2");
    expect_includes("Observation", "_id=inc-res3&_revinclude=DiagnosticReport:result", 1,
                    "DiagnosticReport/inc-rep-a, DiagnosticReport/inc-rep-b");
    /* both directions in one page, in one order */
    expect_includes("Observation",
                    "_id=inc-o01&_include=Observation:patient&_revinclude=Provenance:target", 1,
                    "Patient/inc-p1, Provenance/inc-prov2");
    /* _revinclude=*: whatever points at the match */
    expect_includes("Practitioner", "_id=inc-dr1&_revinclude=*", 1,
                    "Observation/inc-o01, Provenance/inc-prov1, Provenance/inc-prov2, "
                    "Provenance/inc-prov3");
}
END_TEST

START_TEST(include_per_page)
{
    struct adapter_store_page page;
    struct base_err err = {0};
    struct rowlog *l;
    char q[256];

    ck_assert_int_eq(inc_search("Observation",
                                "code=urn:test:inc|inc&_sort=_id&_count=10"
                                "&_include=Observation:patient&_total=accurate",
                                &l, &page, &err),
                     BASE_OK);
    /* _count, total and paging count matches only */
    ck_assert_uint_eq(l->n_match, 10);
    ck_assert_uint_eq(l->n, 11);
    ck_assert_str_eq(l->lines[10], "include Patient/inc-p1");
    ck_assert_uint_eq(page.n_rows, 10);
    ck_assert(page.has_total);
    ck_assert_uint_eq(page.total, 12);
    ck_assert_ptr_nonnull(page.next_cursor);
    snprintf(q, sizeof(q),
             "code=urn:test:inc|inc&_sort=_id&_count=10&_include=Observation:patient"
             "&_cursor=%s",
             page.next_cursor);
    free((char *)page.next_cursor);
    rowlog_free(l);
    /* the second page includes only what its own matches point at */
    expect_includes("Observation", q, 2, "Patient/inc-p2");
}
END_TEST

START_TEST(include_limit_is_an_error)
{
    struct base_err err = {0};
    struct rowlog *l;
    PGconn *c;
    struct base_arena *a;

    ck_assert_int_eq(
        inc_search("Patient", "_id=inc-big&_revinclude=Observation:subject", &l, NULL, &err),
        BASE_E_LIMIT);
    ck_assert_str_eq(err.issue_code, "too-costly");
    ck_assert_str_eq(err.where, "_revinclude");
    rowlog_free(l);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(inc_search("Patient",
                                "_id=inc-big&_include=Patient:link&_revinclude=Observation:subject",
                                &l, NULL, &err),
                     BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "_include");
    rowlog_free(l);
    /* one fewer: exactly the limit is served */
    c = sit_connect();
    a = base_arena_new(0);
    sc_apply(c, a,
             json_pack("{s:s, s:s, s:[{s:{s:s, s:s}}]}", "resourceType", "Bundle", "type",
                       "transaction", "entry", "request", "method", "DELETE", "url",
                       "Observation/big-0000"));
    base_arena_free(a);
    PQfinish(c);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(
        inc_search("Patient", "_id=inc-big&_revinclude=Observation:subject", &l, NULL, &err),
        BASE_OK);
    ck_assert_uint_eq(l->n_match, 1);
    ck_assert_uint_eq(l->n, 1 + BASE_LIMIT_STORE_MAX_INCLUDED);
    ck_assert_str_eq(l->lines[1], "include Observation/big-0001");
    rowlog_free(l);
}
END_TEST

START_TEST(include_refusals_name_the_parameter)
{
    static const char *const bad[][3] = {
        {"_include=Observation:nosuch", "_include", "value"},
        {"_include=Observation:code", "_include", "value"},
        {"_include=Nosuch:patient", "_include", "value"},
        {"_include=Observation:patient:Organization", "_include", "value"},
        {"_include:iterate=Observation:patient", "_include", "not-supported"},
        {"_include:recurse=Observation:patient", "_include", "not-supported"},
        {"_revinclude=Provenance:nosuch", "_revinclude", "value"},
        {"_revinclude=Provenance:recorded", "_revinclude", "value"},
        {"_revinclude:iterate=Provenance:target", "_revinclude", "not-supported"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        struct base_err err = {0};
        struct rowlog *l;

        ck_assert_msg(inc_search("Observation", bad[i][0], &l, NULL, &err) == BASE_E_INVALID, "%s",
                      bad[i][0]);
        ck_assert_str_eq(err.where, bad[i][1]);
        ck_assert_str_eq(err.issue_code, bad[i][2]);
        ck_assert_uint_eq(l->n, 0);
        rowlog_free(l);
    }
}
END_TEST

START_TEST(include_with_summary_and_elements)
{
    struct adapter_store_page page;
    struct base_err err = {0};
    struct rowlog *l;

    /* _summary=count: the total of matches, no entries at all */
    ck_assert_int_eq(inc_search("Observation",
                                "patient=inc-p1&_include=Observation:patient&_summary=count", &l,
                                &page, &err),
                     BASE_OK);
    ck_assert_uint_eq(l->n, 0);
    ck_assert(page.has_total);
    ck_assert_uint_eq(page.total, 10);
    rowlog_free(l);
    /* _elements trims the matches; the included Patient comes whole */
    ck_assert_int_eq(inc_search("Observation",
                                "_id=inc-o01&_elements=status&_include=Observation:patient", &l,
                                NULL, &err),
                     BASE_OK);
    ck_assert_uint_eq(l->n, 2);
    ck_assert_ptr_null(json_object_get(l->json[0], "subject"));
    ck_assert(has_subsetted(l->json[0]));
    ck_assert_str_eq(l->lines[1], "include Patient/inc-p1");
    ck_assert_ptr_nonnull(json_object_get(l->json[1], "name"));
    ck_assert(!has_subsetted(l->json[1]));
    rowlog_free(l);
}
END_TEST

START_TEST(include_bundle_entries_say_include)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct base_buf out;
    struct base_err err = {0};
    const json_t *entries;
    json_t *b;

    base_buf_init(&out, 64u << 20);
    ck_assert_int_eq(adapter_store_search_bundle(
                         c, a, parse(a, "Observation", "_id=inc-o01&_include=Observation:patient"),
                         &sopts, &out, &err),
                     BASE_OK);
    b = sit_json(out.data);
    entries = json_object_get(b, "entry");
    ck_assert_uint_eq(json_array_size(entries), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(entries, 1), "search"), "mode")),
                     "include");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(entries, 1), "fullUrl")),
                     SC_BASE "/Patient/inc-p1");
    ck_assert_ptr_nonnull(strstr(
        json_string_value(json_object_get(json_array_get(json_object_get(b, "link"), 0), "url")),
        "_include=Observation:patient"));
    json_decref(b);
    base_buf_fini(&out);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

Suite *store_search_suite(void);

Suite *
store_search_suite(void)
{
    Suite *s = suite_create("store_search");
    TCase *tc = tcase_create("differential");

    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sql_agrees_with_matcher);
    tcase_add_test(tc, injection_strings_are_only_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, paging_walks_every_row_once);
    tcase_add_test(tc, totals_and_summary_count);
    tcase_add_test(tc, elements_and_summary_data_subset);
    tcase_add_test(tc, summary_true_and_text_subset);
    tcase_add_test(tc, unsupported_requests_are_refused_by_name);
    tcase_add_test(tc, searchset_bundle_has_links_and_entries);
    suite_add_tcase(s, tc);
    /* last: its fixture points sit_url at a database of its own */
    tc = tcase_create("include");
    tcase_add_unchecked_fixture(tc, include_setup, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, include_follows_references_once);
    tcase_add_test(tc, include_target_and_wildcards);
    tcase_add_test(tc, revinclude_finds_what_points_at_the_page);
    tcase_add_test(tc, include_per_page);
    tcase_add_test(tc, include_refusals_name_the_parameter);
    tcase_add_test(tc, include_with_summary_and_elements);
    tcase_add_test(tc, include_bundle_entries_say_include);
    tcase_add_test(tc, include_limit_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}
