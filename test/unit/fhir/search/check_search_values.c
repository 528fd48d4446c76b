/* Building blocks of fhir/search: the table, decimals, dates, string
 * folding, the FHIRPath subset and extraction as the store sees it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "fhir/search/search_int.h"

static struct base_arena *A;

static void
setup(void)
{
    A = base_arena_new(8u << 20);
}

static void
teardown(void)
{
    base_arena_free(A);
}

START_TEST(table_is_sorted_and_compiles)
{
    size_t n;
    const struct fhir_search_param_def *t = sp_table_resources(&n);
    size_t nc;
    const struct fhir_search_param_def *c = sp_table_common(&nc);
    const struct fhir_search_param_def *all[128];

    ck_assert_uint_gt(n, 300);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(sp_expr_of(&t[i]) != NULL, "%s.%s does not compile", t[i].resource,
                      t[i].name);
        ck_assert_msg(strncmp(t[i].expression, t[i].resource, strlen(t[i].resource)) == 0 ||
                          t[i].expression[0] == '(',
                      "%s.%s", t[i].resource, t[i].name);
        if (i > 0) {
            int o = strcmp(t[i - 1].resource, t[i].resource);

            ck_assert_msg(o < 0 || (o == 0 && strcmp(t[i - 1].name, t[i].name) < 0),
                          "order at %s.%s", t[i].resource, t[i].name);
        }
        ck_assert_ptr_eq(fhir_search_param_find(t[i].resource, t[i].name, strlen(t[i].name)),
                         &t[i]);
    }
    for (size_t i = 0; i < nc; i++)
        ck_assert_ptr_nonnull(sp_expr_of(&c[i]));
    /* all twenty resource types of the brief */
    {
        static const char *const types[] = {"Patient",
                                            "Encounter",
                                            "Condition",
                                            "Observation",
                                            "DiagnosticReport",
                                            "ImagingStudy",
                                            "MedicationRequest",
                                            "MedicationStatement",
                                            "AllergyIntolerance",
                                            "Procedure",
                                            "Immunization",
                                            "DocumentReference",
                                            "ServiceRequest",
                                            "Specimen",
                                            "Organization",
                                            "Endpoint",
                                            "Practitioner",
                                            "Consent",
                                            "Provenance",
                                            "AuditEvent"};

        for (size_t i = 0; i < BASE_ARRAY_LEN(types); i++) {
            ck_assert_msg(fhir_search_resource_known(types[i]), "%s", types[i]);
            ck_assert_ptr_nonnull(fhir_search_param_find(types[i], "_id", 3));
            ck_assert_ptr_nonnull(fhir_search_param_find(types[i], "_lastUpdated", 12));
        }
    }
    ck_assert(!fhir_search_resource_known("Unicorn"));
    ck_assert_ptr_null(fhir_search_param_find("Unicorn", "_id", 3));
    ck_assert_ptr_null(fhir_search_param_find("Patient", "nam", 3));
    ck_assert_uint_eq(fhir_search_params_for("Patient", all, BASE_ARRAY_LEN(all)), 23 + 6);
    ck_assert_str_eq(all[0]->name, "active");
    ck_assert(fhir_search_param_allows_target(fhir_search_param_find("Observation", "subject", 7),
                                              "Group", 5));
    ck_assert(!fhir_search_param_allows_target(fhir_search_param_find("Observation", "subject", 7),
                                               "Grou", 4));
    ck_assert_str_eq(fhir_search_type_name(FHIR_SEARCH_QUANTITY), "quantity");
}
END_TEST

START_TEST(path_subset)
{
    struct sp_expr e;

    ck_assert(
        sp_compile("(Observation.value as Quantity) | (Observation.value as SampledData)", &e));
    ck_assert_uint_eq(e.n_alts, 2);
    ck_assert_str_eq(e.alts[0].steps[0].name, "value");
    ck_assert_str_eq(e.alts[0].steps[0].of_type, "Quantity");
    ck_assert(sp_compile("(Observation.value.ofType(CodeableConcept)).text", &e));
    ck_assert_uint_eq(e.alts[0].n_steps, 2);
    ck_assert_str_eq(e.alts[0].steps[1].name, "text");
    ck_assert(sp_compile("Patient.telecom.where(system='email')", &e));
    ck_assert_int_eq(e.alts[0].steps[0].where, SP_WHERE_EQ);
    ck_assert_str_eq(e.alts[0].steps[0].where_b, "email");
    ck_assert(sp_compile("AuditEvent.agent.who.where(resolve() is Patient)", &e));
    ck_assert_str_eq(e.alts[0].steps[1].where_a, "Patient");
    ck_assert(sp_compile("Patient.deceased.exists() and Patient.deceased != false", &e));
    ck_assert(e.exists_not_false);
    ck_assert(!sp_compile("Patient.name.first()", &e));
    ck_assert(!sp_compile("Patient.deceased.exists() and Patient.active != false", &e));
    ck_assert(!sp_compile("Patient..name", &e));
    ck_assert(!sp_compile("(Patient.name", &e));
    ck_assert(!sp_compile("Patient.a.b.c.d.e.f.g.h.i", &e));
}
END_TEST

static const struct {
    const char *in;
    const char *out;
} dec_cases[] = {
    {"5.4", "5.4"},       {"5.40", "5.40"},
    {"-0.001", "-0.001"}, {"100", "100"},
    {"1e2", "100"},       {"1.5e30", "15e29"},
    {"0.0", "0"},         {"-12.50", "-12.50"},
    {"1E-2", "0.01"},     {"123456789012345678901", "123456789012345670000"},
};

START_TEST(decimals)
{
    struct fhir_search_dec d;
    struct fhir_search_dec e;
    char buf[48];

    ck_assert(fhir_search_dec_parse(dec_cases[_i].in, strlen(dec_cases[_i].in), &d));
    fhir_search_dec_format(d, buf, sizeof(buf));
    ck_assert_str_eq(buf, dec_cases[_i].out);
    ck_assert(fhir_search_dec_parse(buf, strlen(buf), &e));
    ck_assert_int_eq(fhir_search_dec_cmp(d, e), 0);
}
END_TEST

START_TEST(decimal_order_and_errors)
{
    struct fhir_search_dec a;
    struct fhir_search_dec b;
    static const char *const bad[] = {"", "+1", ".5", "1.", "1e", "0x10", "1e999", "--1", "1 "};

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++)
        ck_assert_msg(!fhir_search_dec_parse(bad[i], strlen(bad[i]), &a), "%s", bad[i]);
    ck_assert(fhir_search_dec_parse("5.45", 4, &a));
    ck_assert(fhir_search_dec_parse("5.4500", 6, &b));
    ck_assert_int_eq(fhir_search_dec_cmp(a, b), 0);
    ck_assert(fhir_search_dec_parse("-1e2", 4, &b));
    ck_assert_int_eq(fhir_search_dec_cmp(a, b), 1);
    ck_assert_int_eq(fhir_search_dec_cmp(b, a), -1);
    ck_assert(fhir_search_dec_parse("1e-300", 6, &b));
    ck_assert_int_eq(fhir_search_dec_cmp(a, b), 1);
    ck_assert(fhir_search_dec_parse("0", 1, &b));
    ck_assert_int_eq(fhir_search_dec_cmp(b, a), -1);
    ck_assert(fhir_search_dec_double(a) > 5.44 && fhir_search_dec_double(a) < 5.46);
}
END_TEST

START_TEST(date_ranges)
{
    int64_t lo;
    int64_t hi;
    static const char *const bad[] = {"20",
                                      "2020-1",
                                      "2020-00",
                                      "2021-02-29",
                                      "2020-01-01T",
                                      "2020-01-01T10:60",
                                      "2020-01-01T10:00:61",
                                      "2020-01-01T10:00:00.",
                                      "0000",
                                      "2020-01-01T10:00:00+1:00",
                                      "2020-01-01T10:00:00 01:00",
                                      "2020-01-01T10:00:00.1234567890Z"};

    ck_assert(fhir_search_date_range("2024-02", 7, &lo, &hi));
    ck_assert_int_eq((hi - lo) / 86400000000LL, 29); /* leap year */
    ck_assert(fhir_search_date_range("2023", 4, &lo, &hi));
    ck_assert_int_eq((hi - lo) / 86400000000LL, 365);
    ck_assert(fhir_search_date_range("1900-02", 7, &lo, &hi));
    ck_assert_int_eq((hi - lo) / 86400000000LL, 28);
    ck_assert(fhir_search_date_range("1969-12-31T23:59:59Z", 20, &lo, &hi));
    ck_assert_int_eq(lo, -1000000);
    ck_assert(fhir_search_date_range("2020-01-01T00:00:00.5-01:00", 27, &lo, &hi));
    ck_assert_int_eq(lo, 1577836800000000LL + 3600000000LL + 500000);
    ck_assert_int_eq(hi - lo, 100000);
    ck_assert(fhir_search_date_range("9999-12", 7, &lo, &hi));
    ck_assert(fhir_search_date_range("2016-12-31T23:59:60Z", 20, &lo, &hi));
    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++)
        ck_assert_msg(!fhir_search_date_range(bad[i], strlen(bad[i]), &lo, &hi), "%s", bad[i]);
    ck_assert(sp_date_range_lenient("2020-01-01T10:00:00 01:00", 25, &lo, &hi));
}
END_TEST

START_TEST(normalization)
{
    static const struct {
        const char *in;
        const char *out;
    } n[] = {
        {"ABC xyz", "abc xyz"},
        {"Jos\xc3\xa9 M\xc3\xbcller", "jose muller"},
        {"\xc3\x86\xc3\x9f\xc5\x92\xc4\xb2", "aessoeij"},
        {"\xc5\x81\xc3\xb3"
         "d\xc5\xba",
         "lodz"},
        {"l\xc7\x9a n\xc7\x9a", "lu nu"},                             /* pinyin tones */
        {"Jose\xcc\x81", "jose"},                                     /* NFD */
        {"\xd0\x81\xd0\x96\xd0\x9a", "\xd0\xb5\xd0\xb6\xd0\xba"},     /* ЁЖК -> ежк */
        {"\xce\x86\xce\xa3\xcf\x82", "\xce\xb1\xcf\x83\xcf\x83"},     /* ΆΣς -> ασσ */
        {"\xef\xbc\xa1\xef\xbd\x82\xe3\x80\x80\xef\xbc\x91", "ab 1"}, /* full width */
        {"\xe5\xbc\xa0\xe4\xb8\x89", "\xe5\xbc\xa0\xe4\xb8\x89"},     /* CJK unchanged */
        {"\xff", "y"},                                                /* stray byte */
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(n); i++) {
        char *o = fhir_search_normalize(A, n[i].in, strlen(n[i].in));

        ck_assert_ptr_nonnull(o);
        ck_assert_msg(strcmp(o, n[i].out) == 0, "%zu: %s", i, o);
    }
}
END_TEST

static json_t *
res(const char *text)
{
    json_t *v = NULL;

    ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &v, NULL), BASE_OK);
    return v;
}

START_TEST(extraction_for_the_store)
{
    json_t *o = res("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"lastUpdated\":"
                    "\"2021-05-06T07:08:09.123Z\",\"tag\":[{\"system\":\"s\",\"code\":\"t\"}]},"
                    "\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                    "\"code\":\"1-8\",\"display\":\"X\"}],\"text\":\"Glucose\"},"
                    "\"subject\":{\"reference\":\"Patient/p1/_history/2\"},"
                    "\"effectivePeriod\":{\"start\":\"2021\"},"
                    "\"valueQuantity\":{\"value\":1.50,\"unit\":\"mg\",\"system\":"
                    "\"http://unitsofmeasure.org\",\"code\":\"mg\"}}");
    struct fhir_search_index *v;
    size_t n;
    char buf[48];
    struct base_err err = {0};

    ck_assert_int_eq(
        fhir_search_extract(A, o, fhir_search_param_find("Observation", "code", 4), &v, &n, &err),
        BASE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[0].u.token.system, "http://loinc.org");
    ck_assert_str_eq(v[0].u.token.code, "1-8");
    ck_assert_str_eq(v[0].u.token.text, "X");
    ck_assert_ptr_null(v[1].u.token.code);
    ck_assert_str_eq(v[1].u.token.text, "Glucose");
    ck_assert_int_eq(
        fhir_search_extract(A, o, fhir_search_param_find("Observation", "status", 6), &v, &n, &err),
        BASE_OK);
    ck_assert_str_eq(v[0].u.token.system, "http://hl7.org/fhir/observation-status");
    ck_assert_int_eq(fhir_search_extract(A, o, fhir_search_param_find("Observation", "patient", 7),
                                         &v, &n, &err),
                     BASE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0].u.reference.type, "Patient");
    ck_assert_str_eq(v[0].u.reference.id, "p1");
    ck_assert_str_eq(v[0].u.reference.version, "2");
    ck_assert_int_eq(
        fhir_search_extract(A, o, fhir_search_param_find("Observation", "date", 4), &v, &n, &err),
        BASE_OK);
    ck_assert_int_eq(v[0].u.date.low, 1609459200000000LL);
    ck_assert_int_eq(v[0].u.date.high, FHIR_SEARCH_TIME_MAX);
    ck_assert_int_eq(
        fhir_search_extract(A, o, fhir_search_param_find("Observation", "value-quantity", 14), &v,
                            &n, &err),
        BASE_OK);
    fhir_search_dec_format(v[0].u.quantity.low, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1.50");
    ck_assert_int_eq(v[0].u.quantity.low.exp, -2); /* 1.50 keeps its precision */
    ck_assert_str_eq(v[0].u.quantity.code, "mg");
    ck_assert_int_eq(fhir_search_extract(A, o,
                                         fhir_search_param_find("Observation", "_lastUpdated", 12),
                                         &v, &n, &err),
                     BASE_OK);
    ck_assert_int_eq(v[0].u.date.high - v[0].u.date.low, 1000);
    ck_assert_int_eq(
        fhir_search_extract(A, o, fhir_search_param_find("Observation", "_tag", 4), &v, &n, &err),
        BASE_OK);
    ck_assert_str_eq(v[0].u.token.code, "t");
    /* a parameter of another type */
    ck_assert_int_eq(
        fhir_search_extract(A, o, fhir_search_param_find("Patient", "name", 4), &v, &n, &err),
        BASE_E_INVALID);
    ck_assert_str_eq(err.where, "name");
    json_decref(o);
}
END_TEST

START_TEST(extraction_limit)
{
    json_t *p = json_pack("{s:s, s:[]}", "resourceType", "Patient", "identifier");
    json_t *ids = json_object_get(p, "identifier");
    struct fhir_search_index *v;
    size_t n;
    struct base_err err = {0};

    for (unsigned i = 0; i <= BASE_LIMIT_SEARCH_MAX_INDEX_VALUES; i++)
        json_array_append_new(ids, json_pack("{s:s}", "value", "x"));
    ck_assert_int_eq(fhir_search_extract(A, p, fhir_search_param_find("Patient", "identifier", 10),
                                         &v, &n, &err),
                     BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "identifier");
    json_decref(p);
}
END_TEST

Suite *fhir_search_values_suite(void)
{
    Suite *s = suite_create("fhir_search_values");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, table_is_sorted_and_compiles);
    tcase_add_test(tc, path_subset);
    tcase_add_loop_test(tc, decimals, 0, (int)BASE_ARRAY_LEN(dec_cases));
    tcase_add_test(tc, decimal_order_and_errors);
    tcase_add_test(tc, date_ranges);
    tcase_add_test(tc, normalization);
    tcase_add_test(tc, extraction_for_the_store);
    tcase_add_test(tc, extraction_limit);
    suite_add_tcase(s, tc);
    return s;
}
