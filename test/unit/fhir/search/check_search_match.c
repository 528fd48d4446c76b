/*
 * Matcher table tests against real resources: the official R4 examples and
 * the Synthea bulk export of the shared corpus.  Each row is a query and
 * the exact set of resources it must select; the expected sets were worked
 * out by hand from the data (Synthea counts with UTC conversion of the
 * timestamps, e.g. 2016-12-31T22:58:16-05:00 is in 2017).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "test/support/testutil.h"

/* 2026-04-01T00:00:00Z: "now" for ap on dates. */
#define NOW_US 1775001600000000LL

struct set {
    json_t *res[256];
    size_t n;
};

static struct base_arena *A;

static void
setup(void)
{
    A = base_arena_new(64u << 20);
}

static void
teardown(void)
{
    base_arena_free(A);
}

static void
load_examples(struct set *s, const char *prefix)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);

    ck_assert_ptr_nonnull(files);
    s->n = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *text;
        const char *base = strrchr(files[i], '/') + 1;

        if (strncmp(base, prefix, strlen(prefix)) != 0)
            continue;
        text = tu_read_file(files[i], &len);
        ck_assert_ptr_nonnull(text);
        ck_assert_int_eq(fhir_json_parse(text, len, NULL, &s->res[s->n], NULL), BASE_OK);
        s->n++;
        free(text);
    }
    tu_free_list(files);
}

static void
load_ndjson(struct set *s, const char *name)
{
    size_t len = 0;
    char *text = tu_read_file(tu_corpus_path(name), &len);
    char *line = text;

    ck_assert_ptr_nonnull(text);
    s->n = 0;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t l = nl != NULL ? (size_t)(nl - line) : (size_t)(text + len - line);

        if (l > 0) {
            ck_assert_uint_lt(s->n, BASE_ARRAY_LEN(s->res));
            ck_assert_int_eq(fhir_json_parse(line, l, NULL, &s->res[s->n], NULL), BASE_OK);
            s->n++;
        }
        line += l + 1;
    }
    free(text);
}

static void
free_set(struct set *s)
{
    for (size_t i = 0; i < s->n; i++)
        json_decref(s->res[i]);
    s->n = 0;
}

/* Ids (first 8 characters) of the matching resources, sorted, space separated. */
static char *
run(struct set *s, const char *type, const char *query)
{
    struct fhir_search *srch = NULL;
    struct base_err err = {0};
    struct fhir_search_match_opts opt = {NOW_US, "https://gw.example/fhir"};
    static char out[4096];
    const char *ids[256];
    size_t n = 0;

    ck_assert_msg(fhir_search_parse(A, type, query, strlen(query), NULL, &srch, &err) == BASE_OK,
                  "%s: %s %s", query, err.where, err.msg);
    for (size_t i = 0; i < s->n; i++) {
        bool ok = false;

        ck_assert_int_eq(fhir_search_match(srch, s->res[i], &opt, A, &ok, &err), BASE_OK);
        if (ok)
            ids[n++] = json_string_value(json_object_get(s->res[i], "id"));
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t k = i; k > 0 && strcmp(ids[k - 1], ids[k]) > 0; k--) {
            const char *t = ids[k];

            ids[k] = ids[k - 1];
            ids[k - 1] = t;
        }
    }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t o = strlen(out);

        snprintf(out + o, sizeof(out) - o, "%s%.8s", i > 0 ? " " : "", ids[i]);
    }
    return out;
}

static size_t
count(struct set *s, const char *type, const char *query)
{
    const char *r = run(s, type, query);
    size_t n = r[0] != '\0';

    for (; *r != '\0'; r++)
        n += *r == ' ';
    return n;
}

/* ---- Observation examples ------------------------------------------------ */

static const struct {
    const char *q;
    const char *ids;
} obs_cases[] = {
    /* token with and without system, :not, :text, implicit code system */
    {"code=http://loinc.org|15074-8", "f001 unsat"},
    {"code=15074-8", "f001 unsat"},
    {"code=http://snomed.info/sct|15074-8", ""},
    {"code=|15074-8", ""},
    {"code=https://intranet.aumc.nl/labtestcodes|", "f204"},
    {"code=http://loinc.org|15074-8,http://loinc.org|8867-4", "f001 heart-ra unsat"},
    {"status=cancelled", "unsat"},
    {"status:not=final", "unsat"},
    {"status=http://hl7.org/fhir/observation-status|cancelled", "unsat"},
    {"code:text=glucose", "f001 unsat"},
    {"code:text=GLUCOSE%20%5BMoles", "f001 unsat"},
    /* dates: partial precision and every prefix, Period targets */
    {"date=ge2013", "10minute bgpanel ekg example f001 f002 f003 satO2 unsat"},
    {"date=2013-04", "f002 f003 unsat"},
    {"date=2013-04-02", ""},
    {"date=lt2000", "bmi body-hei body-tem heart-ra respirat vitals-p"},
    {"date=eb2000", "bmi body-hei body-tem heart-ra respirat vitals-p"},
    {"date=sa2013-04-02", "10minute bgpanel ekg example satO2"},
    {"date=ne1999-07-02", "10minute bgpanel blood-pr ekg example f001 f002 f003 satO2 unsat"},
    {"date=le2012-09-17", "blood-pr bmi body-hei body-tem heart-ra respirat vitals-p"},
    /* f001 is an open-ended Period: it is still going on */
    {"date=gt2016-03-28", "10minute bgpanel f001"},
    {"date=ap2016-04", "10minute example f001"},
    {"date=2015-02-19T08:30:35Z", "ekg"},
    {"date=2015-02-19T09:30:35%2B01:00", "ekg"},
    {"date=2015-02-19T08:30", "ekg"},
    {"date=2015-02-19T09:30", ""}, /* no timezone: UTC */
    {"date=ge2013&date=lt2014", "f001 f002 f003 unsat"},
    {"date:missing=true", "decimal f204 f205"},
    /* quantity: precision of the search value, prefixes, units */
    {"value-quantity=6.3", "f001"},
    {"value-quantity=6", "f001 f003"},
    {"value-quantity=6.30", "f001"},
    {"value-quantity=ap6.3", "f001 f003"},
    {"value-quantity=gt100", "example f204"},
    {"value-quantity=le16.2|http://unitsofmeasure.org|kg/m2", "bmi"},
    {"value-quantity=66.9", "body-hei"},
    {"value-quantity=185||[lb_av]", "example"},
    {"value-quantity=185||lbs", "example"},
    {"value-quantity=185|http://unitsofmeasure.org|kg", ""},
    {"value-quantity=sa122", "example"},
    {"value-quantity=eb26", "10minute bmi f001 f002 f003"},
    {"value-quantity=ne6.3", "10minute bmi body-hei body-tem example f002 f003 f204 heart-ra "
                             "respirat satO2"},
    /* decimal has 1e+18; f205 has ">60", open above */
    {"component-value-quantity=gt100", "blood-pr decimal f205"},
    {"combo-code=8480-6", "blood-pr"},
    /* references */
    {"subject=Patient/example",
     "blood-pr bmi body-hei body-tem example heart-ra respirat satO2 vitals-p"},
    {"patient=f001", "ekg f001 f002 f003 unsat"},
    {"subject:Patient=infant", "bgpanel"},
    {"subject=https://gw.example/fhir/Patient/infant", "bgpanel"},
    {"subject=https://other.example/fhir/Patient/infant", ""},
    {"patient:missing=true", "decimal"},
    {"_id=f001,f002", "f001 f002"},
};

START_TEST(observation_examples)
{
    struct set s;

    load_examples(&s, "Observation-");
    ck_assert_uint_eq(s.n, 19);
    ck_assert_str_eq(run(&s, "Observation", obs_cases[_i].q), obs_cases[_i].ids);
    free_set(&s);
}
END_TEST

/* ---- Patient examples: strings, tokens on Identifier / ContactPoint ---- */

static const struct {
    const char *q;
    const char *ids;
} pat_cases[] = {
    {"name=chal", "example"},
    {"name=CHALMERS", "example"},
    {"name=jim", "example"},
    {"name=roel", "f201"},
    {"family=van%20de", "f001"},
    {"family:exact=Chalmers", "example"},
    {"family:exact=chalmers", ""},
    {"given:contains=ete", "example f001"},
    {"name=%E5%BC%A0", "ch-examp"},
    {"name:contains=%E6%97%A0%E5%BF%8C", "ch-examp"},
    {"address-city=amster", "f001 f201"},
    {"address=%E4%B8%8A%E6%B5%B7", "ch-examp"},
    {"identifier=urn:oid:1.2.36.146.595.217.0.1|12345", "example"},
    {"identifier=12345", "example"},
    {"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345", "example"},
    {"identifier:text=bsn", "f201"},
    {"phone=%2B31612345678", "f201"},
    {"email=p.heuvel@gmail.com", "f001"},
    {"telecom=0648352638", "f001"},
    {"gender=female", "animal infant-t"},
    {"gender=http://hl7.org/fhir/administrative-gender|female", "animal infant-t"},
    {"birthdate=1974-12-25", "ch-examp example"},
    {"birthdate=1974", "ch-examp example"},
    {"birthdate=lt1950", "f001 glossy"},
    {"deceased=true", ""},
    {"active:missing=true", "infant-t"},
    {"active=true", "animal ch-examp dicom example f001 f201 glossy"},
};

START_TEST(patient_examples)
{
    struct set s;

    load_examples(&s, "Patient-");
    ck_assert_uint_eq(s.n, 8);
    ck_assert_str_eq(run(&s, "Patient", pat_cases[_i].q), pat_cases[_i].ids);
    free_set(&s);
}
END_TEST

/* ---- Synthea NDJSON -------------------------------------------------------- */

START_TEST(synthea_sets)
{
    struct set s;

    load_ndjson(&s, "synthea/bulk-ndjson-10-patients/Condition.000.ndjson");
    ck_assert_uint_eq(s.n, 150);
    ck_assert_uint_eq(count(&s, "Condition", "code=http://snomed.info/sct|160903007"), 59);
    ck_assert_uint_eq(count(&s, "Condition", "code=160903007&onset-date=ge2012"), 14);
    ck_assert_uint_eq(count(&s, "Condition", "onset-date=ge2012"), 44);
    ck_assert_uint_eq(count(&s, "Condition", "code=http://loinc.org|160903007"), 0);
    free_set(&s);

    load_ndjson(&s, "synthea/bulk-ndjson-10-patients/Immunization.000.ndjson");
    ck_assert_uint_eq(count(&s, "Immunization",
                            "vaccine-code=http://hl7.org/fhir/sid/cvx|140&date=ge2015&date=lt2017"),
                      19);
    ck_assert_uint_eq(
        count(&s, "Immunization",
              "vaccine-code=140&patient=Patient/129c6ac7-8d06-89de-ad63-0204a93e76c3"),
        10);
    free_set(&s);

    load_ndjson(&s, "synthea/bulk-ndjson-10-patients/Patient.000.ndjson");
    ck_assert_str_eq(run(&s, "Patient", "deceased=true"), "129c6ac7 3af3708d 79a66c97");
    ck_assert_uint_eq(count(&s, "Patient", "deceased=false"), 10);
    ck_assert_uint_eq(count(&s, "Patient", "birthdate=1927-05-21"), 3);
    ck_assert_uint_eq(count(&s, "Patient", "birthdate=ge2000"), 3);
    ck_assert_uint_eq(count(&s, "Patient", "gender=male"), 4);
    ck_assert_str_eq(run(&s, "Patient", "given:contains=NE"),
                     "6a4160eb 79a66c97 7bc002fa a5cb8ce9 cbc86e51");
    ck_assert_str_eq(run(&s, "Patient", "family=o%27keefe"), "fb7c882a");
    ck_assert_uint_eq(count(&s, "Patient", "address-city=Emporia"), 3);
    ck_assert_uint_eq(count(&s, "Patient",
                            "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|SS|"
                            "999-94-5397"),
                      1);
    ck_assert_uint_eq(count(&s, "Patient",
                            "_profile=http://hl7.org/fhir/us/core/"
                            "StructureDefinition/us-core-patient"),
                      13);
    ck_assert_uint_eq(count(&s, "Patient", "_profile:below=http://hl7.org/fhir/us/core/"), 13);
    free_set(&s);
}
END_TEST

/* ---- synthetic cases: accents, edge types ---------------------------------- */

static json_t *
res(const char *text)
{
    json_t *v = NULL;

    ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &v, NULL), BASE_OK);
    return v;
}

static bool
matches(const json_t *r, const char *type, const char *q)
{
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    struct fhir_search_match_opts opt = {NOW_US, NULL};
    bool ok = false;

    ck_assert_msg(fhir_search_parse(A, type, q, strlen(q), NULL, &s, &err) == BASE_OK, "%s %s", q,
                  err.msg);
    ck_assert_int_eq(fhir_search_match(s, r, &opt, A, &ok, &err), BASE_OK);
    return ok;
}

START_TEST(strings_fold_case_and_accents)
{
    json_t *p =
        res("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"M\xc3\xbcller-\xc5\x81\xc3\xb3"
            "dz\","
            "\"given\":[\"Jos\xc3\xa9\",\"\xc3\x86lfred\"]},{\"text\":\"L\xc7\x9a Y\xc3\xa1ng\"},"
            "{\"family\":\"\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2\"},"
            "{\"family\":\"\xce\x86\xce\xbd\xce\xbd\xce\xb1\"}]}");

    ck_assert(matches(p, "Patient", "family=muller"));
    ck_assert(matches(p, "Patient", "family=MUELLER") == false);
    ck_assert(matches(p, "Patient", "name=muller-lodz"));
    ck_assert(matches(p, "Patient", "given=jose"));
    ck_assert(matches(p, "Patient", "given=JOS%C3%89"));
    ck_assert(matches(p, "Patient", "given=aelf"));
    ck_assert(matches(p, "Patient", "name=lu%20yang"));
    ck_assert(matches(p, "Patient", "name=%D0%B8%D0%B2%D0%B0%D0%BD"));    /* иван */
    ck_assert(matches(p, "Patient", "name=%CE%B1%CE%BD%CE%BD%CE%B1"));    /* αννα */
    ck_assert(matches(p, "Patient", "name=%EF%BC%AA%EF%BD%8F%EF%BD%93")); /* full-width Jos */
    ck_assert(matches(p, "Patient", "name:exact=Jos%C3%A9"));
    ck_assert(!matches(p, "Patient", "name:exact=Jose"));
    ck_assert(matches(p, "Patient", "family:contains=LODZ"));
    ck_assert(!matches(p, "Patient", "family=lodz"));
    ck_assert(matches(p, "Patient", "name:missing=false"));
    ck_assert(matches(p, "Patient", "birthdate:missing=true"));
    json_decref(p);
}
END_TEST

START_TEST(dates_against_periods_and_timing)
{
    json_t *open_end =
        res("{\"resourceType\":\"Encounter\",\"period\":{\"start\":\"2020-03-04T10:00:00Z\"}}");
    json_t *timing = res("{\"resourceType\":\"Observation\",\"effectiveTiming\":"
                         "{\"event\":[\"2021-01-05\",\"2021-02-10T08:00:00Z\"]}}");
    json_t *events =
        res("{\"resourceType\":\"MedicationRequest\",\"dosageInstruction\":[{\"timing\":"
            "{\"event\":[\"2021-01-05\",\"2021-02-10T08:00:00Z\"]}}]}");

    ck_assert(matches(open_end, "Encounter", "date=ge2021"));
    ck_assert(matches(open_end, "Encounter", "date=gt2030"));
    ck_assert(!matches(open_end, "Encounter", "date=2020"));
    ck_assert(!matches(open_end, "Encounter", "date=lt2020-03-04T10:00"));
    ck_assert(matches(open_end, "Encounter", "date=lt2020-03-04T10:01"));
    ck_assert(!matches(open_end, "Encounter", "date=sa2020"));
    ck_assert(matches(open_end, "Encounter", "date=sa2020-03-03"));
    ck_assert(!matches(open_end, "Encounter", "date=eb2099"));
    ck_assert(matches(open_end, "Encounter", "date=ne2020"));
    ck_assert(matches(timing, "Observation", "date=2021"));
    ck_assert(!matches(timing, "Observation", "date=2021-01"));
    /* R4 ge: above the value, or inside it; a span that starts earlier is neither */
    ck_assert(!matches(timing, "Observation", "date=ge2021-02-10"));
    ck_assert(matches(timing, "Observation", "date=gt2020"));
    ck_assert(!matches(timing, "Observation", "date=le2021-01-05"));
    ck_assert(matches(timing, "Observation", "date=le2021-01-06"));
    ck_assert(!matches(timing, "Observation", "date=eb2021-02-10T08:00:00Z"));
    ck_assert(matches(timing, "Observation", "date=eb2021-02-10T08:00:01Z"));
    /* MedicationRequest.date is the events themselves, each its own value */
    ck_assert(matches(events, "MedicationRequest", "date=2021-01"));
    ck_assert(matches(events, "MedicationRequest", "date=eb2021-02-10T08:00:00Z"));
    ck_assert(!matches(events, "MedicationRequest", "date=2022"));
    json_decref(open_end);
    json_decref(timing);
    json_decref(events);
}
END_TEST

START_TEST(references_and_quantities_edge_cases)
{
    json_t *c = res("{\"resourceType\":\"Condition\",\"contained\":[{\"resourceType\":\"Patient\","
                    "\"id\":\"p1\"}],\"subject\":{\"reference\":\"#p1\"},"
                    "\"asserter\":{\"identifier\":{\"system\":\"urn:oid:9\",\"value\":\"d-7\"}},"
                    "\"onsetRange\":{\"low\":{\"value\":10,\"unit\":\"a\",\"system\":"
                    "\"http://unitsofmeasure.org\",\"code\":\"a\"}},"
                    "\"evidence\":[{\"detail\":[{\"reference\":\"Observation/o1/_history/3\"}]}]}");
    json_t *ai = res("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":"
                     "\"http://other/fhir/Patient/9\"},\"valueQuantity\":{\"value\":5,"
                     "\"comparator\":\"<\",\"code\":\"mg\"}}");

    ck_assert(matches(c, "Condition", "patient:missing=false"));
    ck_assert(matches(c, "Condition", "asserter:identifier=urn:oid:9|d-7"));
    ck_assert(!matches(c, "Condition", "asserter:identifier=urn:oid:8|d-7"));
    ck_assert(matches(c, "Condition", "onset-age=gt50"));
    ck_assert(matches(c, "Condition", "onset-age=ge10||a"));
    ck_assert(!matches(c, "Condition", "onset-age=lt10"));
    ck_assert(!matches(c, "Condition", "onset-age=10"));
    ck_assert(matches(c, "Condition", "evidence-detail=Observation/o1"));
    ck_assert(matches(c, "Condition", "evidence-detail=Observation/o1/_history/3"));
    ck_assert(!matches(c, "Condition", "evidence-detail=Observation/o1/_history/2"));
    ck_assert(matches(ai, "Observation", "subject=http://other/fhir/Patient/9"));
    ck_assert(!matches(ai, "Observation", "subject=Patient/9"));
    ck_assert(matches(ai, "Observation", "value-quantity=lt1"));
    ck_assert(!matches(ai, "Observation", "value-quantity=gt5"));
    ck_assert(!matches(ai, "Observation", "value-quantity=5"));
    json_decref(c);
    json_decref(ai);
}
END_TEST

START_TEST(sorting)
{
    struct set s;
    struct fhir_search *srch = NULL;
    struct base_err err = {0};
    const char *q = "_sort=-date,code";

    load_examples(&s, "Observation-");
    ck_assert_int_eq(fhir_search_parse(A, "Observation", q, strlen(q), NULL, &srch, &err), BASE_OK);
    for (size_t i = 1; i < s.n; i++) {
        for (size_t k = i; k > 0 && fhir_search_compare(srch, s.res[k - 1], s.res[k], A) > 0; k--) {
            json_t *t = s.res[k];

            s.res[k] = s.res[k - 1];
            s.res[k - 1] = t;
        }
    }
    /* newest first (open-ended f001 has the highest end), undated last */
    ck_assert_str_eq(json_string_value(json_object_get(s.res[0], "id")), "f001");
    ck_assert_str_eq(json_string_value(json_object_get(s.res[1], "id")), "bgpanel");
    ck_assert_str_eq(json_string_value(json_object_get(s.res[s.n - 1], "id")), "decimal");
    for (size_t i = 1; i + 3 < s.n; i++) {
        struct fhir_search_sortval a;
        struct fhir_search_sortval b;

        ck_assert_int_eq(fhir_search_sort_value(A, s.res[i - 1], &srch->sort[0], &a, NULL), 0);
        ck_assert_int_eq(fhir_search_sort_value(A, s.res[i], &srch->sort[0], &b, NULL), 0);
        ck_assert_int_le(fhir_search_sortval_cmp(&a, &b, true), 0);
    }
    free_set(&s);
}
END_TEST

Suite *fhir_search_match_suite(void)
{
    Suite *s = suite_create("fhir_search_match");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, observation_examples, 0, (int)BASE_ARRAY_LEN(obs_cases));
    tcase_add_loop_test(tc, patient_examples, 0, (int)BASE_ARRAY_LEN(pat_cases));
    tcase_add_test(tc, synthea_sets);
    tcase_add_test(tc, strings_fold_case_and_accents);
    tcase_add_test(tc, dates_against_periods_and_timing);
    tcase_add_test(tc, references_and_quantities_edge_cases);
    tcase_add_test(tc, sorting);
    suite_add_tcase(s, tc);
    return s;
}
