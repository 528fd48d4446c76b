/* Table tests for the search query parser (fhir/search/query.c, value.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/search/fhir_search.h"

#define US_DAY   86400000000LL
#define T2020    1577836800000000LL /* 2020-01-01T00:00:00Z */
#define T2020MAR 1583020800000000LL /* 2020-03-01T00:00:00Z */

static struct base_arena *A;

static void
setup(void)
{
    A = base_arena_new(16u << 20);
}

static void
teardown(void)
{
    base_arena_free(A);
}

static struct fhir_search *
parse_ok(const char *type, const char *q)
{
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    int rc = fhir_search_parse(A, type, q, strlen(q), NULL, &s, &err);

    ck_assert_msg(rc == BASE_OK, "%s?%s: rc=%d where=%s msg=%s", type, q, rc, err.where, err.msg);
    return s;
}

/* ---- error table -------------------------------------------------------- */

static const struct {
    const char *type;
    const char *query;
    int rc;
    const char *where;
    const char *code;
} bad_cases[] = {
    {"Observation", "foo=bar", BASE_E_INVALID, "foo", "not-supported"},
    {"Observation", "subject.name=x", BASE_E_INVALID, "subject.name", "not-supported"},
    {"Observation", "_has:Observation:patient:code=1", BASE_E_INVALID,
     "_has:Observation:patient:code", "not-supported"},
    {"Observation", "_text=cancer", BASE_E_INVALID, "_text", "not-supported"},
    {"Observation", "date=2020-13", BASE_E_INVALID, "date", "value"},
    {"Observation", "date=2020-02-30", BASE_E_INVALID, "date", "value"},
    {"Observation", "date=xx2020", BASE_E_INVALID, "date", "value"},
    {"Observation", "date=2020-01-01T25:00", BASE_E_INVALID, "date", "value"},
    {"Observation", "date=2020-01-01T10", BASE_E_INVALID, "date", "value"},
    {"Observation", "date=2020-01-01Z", BASE_E_INVALID, "date", "value"},
    {"Observation", "date=", BASE_E_INVALID, "date", "value"},
    {"Observation", "date:exact=2020", BASE_E_INVALID, "date:exact", "invalid"},
    {"Observation", "code=", BASE_E_INVALID, "code", "value"},
    {"Observation", "code=|", BASE_E_INVALID, "code", "value"},
    {"Observation", "code=a|b|c", BASE_E_INVALID, "code", "value"},
    {"Observation", "code:below=http://loinc.org|1", BASE_E_INVALID, "code:below", "not-supported"},
    {"Observation", "code:in=http://vs", BASE_E_INVALID, "code:in", "not-supported"},
    {"Observation", "code:bogus=1", BASE_E_INVALID, "code:bogus", "invalid"},
    {"Observation", "code:contains=1", BASE_E_INVALID, "code:contains", "invalid"},
    {"Observation", "value-quantity=abc", BASE_E_INVALID, "value-quantity", "value"},
    {"Observation", "value-quantity=5.4|http://unitsofmeasure.org", BASE_E_INVALID,
     "value-quantity", "value"},
    {"Observation", "value-quantity=5.4|http://unitsofmeasure.org|", BASE_E_INVALID,
     "value-quantity", "value"},
    {"Observation", "value-quantity=+5", BASE_E_INVALID, "value-quantity", "value"},
    {"Observation", "subject=Bad Type/1", BASE_E_INVALID, "subject", "value"},
    {"Observation", "subject=Practitioner/1", BASE_E_INVALID, "subject", "value"},
    {"Observation", "patient:Group=1", BASE_E_INVALID, "patient:Group", "invalid"},
    {"Observation", "subject:Patient=Group/1", BASE_E_INVALID, "subject:Patient", "value"},
    {"Observation", "subject=Patient/", BASE_E_INVALID, "subject", "value"},
    {"Observation", "subject=a%20b", BASE_E_INVALID, "subject", "value"},
    {"Observation", "subject:identifier=", BASE_E_INVALID, "subject:identifier", "value"},
    {"Patient", "name:missing=maybe", BASE_E_INVALID, "name:missing", "value"},
    {"Patient", "name:text=x", BASE_E_INVALID, "name:text", "invalid"},
    {"Patient", "name=", BASE_E_INVALID, "name", "value"},
    {"Patient", "identifier:of-type=a|b", BASE_E_INVALID, "identifier:of-type", "value"},
    {"Patient", "_count=-1", BASE_E_INVALID, "_count", "value"},
    {"Patient", "_count=ten", BASE_E_INVALID, "_count", "value"},
    {"Patient", "_count=5&_count=6", BASE_E_INVALID, "_count", "invalid"},
    {"Patient", "_count:exact=5", BASE_E_INVALID, "_count:exact", "invalid"},
    {"Patient", "_summary=maybe", BASE_E_INVALID, "_summary", "value"},
    {"Patient", "_total=all", BASE_E_INVALID, "_total", "value"},
    {"Patient", "_pretty=yes", BASE_E_INVALID, "_pretty", "value"},
    {"Patient", "_sort=bogus", BASE_E_INVALID, "_sort", "not-supported"},
    {"Patient", "_sort=na me", BASE_E_INVALID, "_sort", "value"},
    {"Patient", "_elements=a b", BASE_E_INVALID, "_elements", "value"},
    {"Patient", "_include=patient", BASE_E_INVALID, "_include", "value"},
    {"Patient", "_include:deep=Patient:organization", BASE_E_INVALID, "_include:deep", "invalid"},
    {"Patient", "_cursor=a/b", BASE_E_INVALID, "_cursor", "value"},
    {"Patient", "_offset=-3", BASE_E_INVALID, "_offset", "value"},
    {"Patient", "name=%zz", BASE_E_INVALID, "name", "value"},
    {"Patient", "name=%", BASE_E_INVALID, "name", "value"},
    {"Patient", "name=%00", BASE_E_INVALID, "name", "value"},
    {"Patient", "name=%ff%fe", BASE_E_INVALID, "name", "value"},
    {"Patient", "na%zzme=x", BASE_E_INVALID, "query", "invalid"},
    {"Patient", "=x", BASE_E_INVALID, "query", "invalid"},
    {"Patient", "n%0Ame=x", BASE_E_INVALID, "(unprintable)", "not-supported"},
    {"Patient", "_lastUpdated=gt2020-01-01T00:00:00+25:00", BASE_E_INVALID, "_lastUpdated",
     "value"},
    {"Unicorn", "name=x", BASE_E_INVALID, "resourceType", "not-supported"},
    {"Patient", "_profile:contains=x", BASE_E_INVALID, "_profile:contains", "invalid"},
    {"Procedure", "instantiates-uri:contains=x", BASE_E_INVALID, "instantiates-uri:contains",
     "invalid"},
};

START_TEST(rejects_malformed_and_unknown)
{
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    const char *q = bad_cases[_i].query;
    int rc = fhir_search_parse(A, bad_cases[_i].type, q, strlen(q), NULL, &s, &err);

    ck_assert_msg(rc == bad_cases[_i].rc, "%s: rc=%d", q, rc);
    ck_assert_ptr_null(s);
    ck_assert_msg(strcmp(err.where, bad_cases[_i].where) == 0, "%s: where=%s", q, err.where);
    ck_assert_msg(strcmp(err.issue_code, bad_cases[_i].code) == 0, "%s: code=%s", q,
                  err.issue_code);
    /* never echo the value */
    ck_assert_ptr_null(strstr(err.msg, "zz"));
    ck_assert_ptr_null(strstr(err.msg, "2020"));
}
END_TEST

START_TEST(lenient_ignores_unknown_with_warnings)
{
    struct fhir_search_options opt = fhir_search_options_default();
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    const char *q = "foo=1&name=smith&subject.name=x&_sort=bogus,-birthdate";
    json_t *oo = fhir_outcome_new();

    opt.handling =
        fhir_search_handling_from_prefer("return=minimal, handling=lenient", FHIR_SEARCH_STRICT);
    ck_assert_int_eq(opt.handling, FHIR_SEARCH_LENIENT);
    ck_assert_int_eq(fhir_search_parse(A, "Patient", q, strlen(q), &opt, &s, &err), BASE_OK);
    ck_assert_uint_eq(s->n_clauses, 1);
    ck_assert_str_eq(s->clauses[0].def->name, "name");
    ck_assert_uint_eq(s->n_warnings, 3);
    ck_assert_str_eq(s->warnings[0].param, "foo");
    ck_assert_str_eq(s->warnings[1].param, "subject.name");
    ck_assert_str_eq(s->warnings[2].param, "_sort");
    ck_assert_uint_eq(s->n_sort, 1);
    ck_assert(s->sort[0].desc);
    ck_assert_int_eq(fhir_search_warnings_to_outcome(s, oo), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), 3);
    json_decref(oo);
    /* malformed values stay errors when lenient */
    q = "birthdate=20x";
    ck_assert_int_eq(fhir_search_parse(A, "Patient", q, strlen(q), &opt, &s, &err), BASE_E_INVALID);
    ck_assert_int_eq(fhir_search_handling_from_prefer(NULL, FHIR_SEARCH_LENIENT),
                     FHIR_SEARCH_LENIENT);
    ck_assert_int_eq(fhir_search_handling_from_prefer("handling=strict", FHIR_SEARCH_LENIENT),
                     FHIR_SEARCH_STRICT);
}
END_TEST

START_TEST(limits_are_enforced)
{
    struct fhir_search_options opt = fhir_search_options_default();
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    char q[4096];
    size_t o = 0;

    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(q + o, sizeof(q) - o, "%s%d", i ? "," : "code=", i);
    ck_assert_int_eq(fhir_search_parse(A, "Observation", q, o, &opt, &s, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "code");
    opt.max_params = 2;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(fhir_search_parse(A, "Observation", "a=1&b=2&c=3", 11, &opt, &s, &err),
                     BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "query");
    opt = fhir_search_options_default();
    opt.max_param_len = 4;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(fhir_search_parse(A, "Observation", "code=12345", 10, &opt, &s, &err),
                     BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "code");
    opt = fhir_search_options_default();
    opt.max_query = 8;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(fhir_search_parse(A, "Observation", "code=12345", 10, &opt, &s, &err),
                     BASE_E_LIMIT);
    memset(q, 'x', sizeof(q));
    memcpy(q, "_sort=", 6);
    for (int i = 0; i < 10; i++)
        q[6 + 2 * i + 1] = ',';
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(fhir_search_parse(A, "Patient", q, 26, NULL, &s, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "_sort");
}
END_TEST

/* ---- positive cases ------------------------------------------------------ */

START_TEST(token_forms_and_escapes)
{
    struct fhir_search *s = parse_ok(
        "Observation", "code=http://loinc.org|1234-5,%7C9,sys%7C,plain&code=a%5C%2Cb%5C%7Cc");
    const struct fhir_search_clause *c = &s->clauses[0];

    ck_assert_uint_eq(s->n_clauses, 2);
    ck_assert_uint_eq(c->n_values, 4);
    ck_assert_int_eq(c->values[0].u.token.form, FHIR_SEARCH_TOKEN_SYSTEM_CODE);
    ck_assert_str_eq(c->values[0].u.token.system, "http://loinc.org");
    ck_assert_str_eq(c->values[0].u.token.code, "1234-5");
    ck_assert_int_eq(c->values[1].u.token.form, FHIR_SEARCH_TOKEN_NO_SYSTEM);
    ck_assert_str_eq(c->values[1].u.token.code, "9");
    ck_assert_int_eq(c->values[2].u.token.form, FHIR_SEARCH_TOKEN_SYSTEM_ANY);
    ck_assert_str_eq(c->values[2].u.token.system, "sys");
    ck_assert_int_eq(c->values[3].u.token.form, FHIR_SEARCH_TOKEN_CODE);
    ck_assert_str_eq(c->values[3].u.token.code, "plain");
    /* "\," and "\|" do not split; they unescape */
    ck_assert_uint_eq(s->clauses[1].n_values, 1);
    ck_assert_int_eq(s->clauses[1].values[0].u.token.form, FHIR_SEARCH_TOKEN_CODE);
    ck_assert_str_eq(s->clauses[1].values[0].u.token.code, "a,b|c");
    s = parse_ok("Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|"
                            "12345&gender:not=male&identifier:text=passport&name=a%5C%5Cb%5C%24");
    ck_assert_int_eq(s->clauses[0].modifier, FHIR_SEARCH_MOD_OF_TYPE);
    ck_assert_str_eq(s->clauses[0].values[0].u.token.type_code, "MR");
    ck_assert_str_eq(s->clauses[0].values[0].u.token.code, "12345");
    ck_assert_int_eq(s->clauses[1].modifier, FHIR_SEARCH_MOD_NOT);
    ck_assert_int_eq(s->clauses[2].modifier, FHIR_SEARCH_MOD_TEXT);
    ck_assert_str_eq(s->clauses[2].values[0].u.string.norm, "passport");
    ck_assert_str_eq(s->clauses[3].values[0].text, "a\\b$");
}
END_TEST

static const struct {
    const char *q;
    enum fhir_search_prefix prefix;
    long long low;
    long long high;
} date_cases[] = {
    {"date=2020", FHIR_SEARCH_EQ, T2020, 1609459200000000LL},
    {"date=eq2020-03", FHIR_SEARCH_EQ, T2020MAR, 1585699200000000LL},
    {"date=ne2020-03-04", FHIR_SEARCH_NE, T2020MAR + 3 * US_DAY, T2020MAR + 4 * US_DAY},
    {"date=gt2020-03-04T10:00", FHIR_SEARCH_GT, T2020MAR + 3 * US_DAY + 36000000000LL,
     T2020MAR + 3 * US_DAY + 36060000000LL},
    {"date=lt2020-03-04T10:00:05Z", FHIR_SEARCH_LT, T2020MAR + 3 * US_DAY + 36005000000LL,
     T2020MAR + 3 * US_DAY + 36006000000LL},
    {"date=ge2020-03-04T10:00:05.25%2B01:00", FHIR_SEARCH_GE, T2020MAR + 3 * US_DAY + 32405250000LL,
     T2020MAR + 3 * US_DAY + 32405260000LL},
    /* an unencoded '+' arrives as a space */
    {"date=le2020-03-04T10:00:05+01:00", FHIR_SEARCH_LE, T2020MAR + 3 * US_DAY + 32405000000LL,
     T2020MAR + 3 * US_DAY + 32406000000LL},
    {"date=sa2020-03-04T10:00:05-05:30", FHIR_SEARCH_SA, T2020MAR + 3 * US_DAY + 55805000000LL,
     T2020MAR + 3 * US_DAY + 55806000000LL},
    {"date=eb2020-02", FHIR_SEARCH_EB, T2020 + 31 * US_DAY, T2020MAR},
    {"date=ap2020-02-29", FHIR_SEARCH_AP, T2020MAR - US_DAY, T2020MAR},
    {"date=2019-12-31T23:59:59.999999Z", FHIR_SEARCH_EQ, T2020 - 1, T2020},
};

START_TEST(date_prefixes_and_precision)
{
    struct fhir_search *s = parse_ok("Observation", date_cases[_i].q);
    const struct fhir_search_value *v = &s->clauses[0].values[0];

    ck_assert_int_eq(v->prefix, date_cases[_i].prefix);
    ck_assert_msg(v->u.date.low == date_cases[_i].low, "%s low %lld", date_cases[_i].q,
                  (long long)v->u.date.low);
    ck_assert_msg(v->u.date.high == date_cases[_i].high, "%s high %lld", date_cases[_i].q,
                  (long long)v->u.date.high);
}
END_TEST

START_TEST(quantity_number_and_precision)
{
    struct fhir_search *s =
        parse_ok("Observation", "value-quantity=5.4|http://unitsofmeasure.org|mg,le5.40||mg,ap100,"
                                "gt-1e2");
    const struct fhir_search_value *v = s->clauses[0].values;
    char buf[48];

    ck_assert_uint_eq(s->clauses[0].n_values, 4);
    ck_assert_int_eq(v[0].prefix, FHIR_SEARCH_EQ);
    ck_assert_str_eq(v[0].u.quantity.system, "http://unitsofmeasure.org");
    ck_assert_str_eq(v[0].u.quantity.code, "mg");
    fhir_search_dec_format(v[0].u.quantity.low, buf, sizeof(buf));
    ck_assert_str_eq(buf, "5.35");
    fhir_search_dec_format(v[0].u.quantity.high, buf, sizeof(buf));
    ck_assert_str_eq(buf, "5.45");
    ck_assert_int_eq(v[1].prefix, FHIR_SEARCH_LE);
    ck_assert_ptr_null(v[1].u.quantity.system);
    ck_assert_str_eq(v[1].u.quantity.code, "mg");
    fhir_search_dec_format(v[1].u.quantity.low, buf, sizeof(buf));
    ck_assert_str_eq(buf, "5.395");
    ck_assert_int_eq(v[2].prefix, FHIR_SEARCH_AP);
    fhir_search_dec_format(v[2].u.quantity.low, buf, sizeof(buf));
    ck_assert_str_eq(buf, "99.5");
    ck_assert_int_eq(v[3].prefix, FHIR_SEARCH_GT);
    fhir_search_dec_format(v[3].u.quantity.value, buf, sizeof(buf));
    ck_assert_str_eq(buf, "-100");
    ck_assert_str_eq(v[3].text, "-1e2");
}
END_TEST

START_TEST(reference_forms)
{
    struct fhir_search *s =
        parse_ok("Observation",
                 "subject=Patient/123,456,http://other.org/fhir/Patient/9,Patient/1/_history/2"
                 "&patient=p7&subject:Patient=42&subject:identifier=urn:oid:1.2|MRN-1"
                 "&subject:missing=false");
    const struct fhir_search_value *v = s->clauses[0].values;

    ck_assert_str_eq(v[0].u.reference.type, "Patient");
    ck_assert_str_eq(v[0].u.reference.id, "123");
    ck_assert_ptr_null(v[1].u.reference.type); /* subject has several targets */
    ck_assert_str_eq(v[1].u.reference.id, "456");
    ck_assert_str_eq(v[2].u.reference.url, "http://other.org/fhir/Patient/9");
    ck_assert_str_eq(v[3].u.reference.version, "2");
    /* patient has one target, so a bare id means Patient/id */
    ck_assert_str_eq(s->clauses[1].values[0].u.reference.type, "Patient");
    ck_assert_int_eq(s->clauses[2].modifier, FHIR_SEARCH_MOD_TYPE);
    ck_assert_str_eq(s->clauses[2].modifier_type, "Patient");
    ck_assert_str_eq(s->clauses[2].values[0].u.reference.type, "Patient");
    ck_assert_int_eq(s->clauses[3].modifier, FHIR_SEARCH_MOD_IDENTIFIER);
    ck_assert_str_eq(s->clauses[3].values[0].u.token.system, "urn:oid:1.2");
    ck_assert_str_eq(s->clauses[3].values[0].u.token.code, "MRN-1");
    ck_assert_int_eq(s->clauses[4].modifier, FHIR_SEARCH_MOD_MISSING);
    ck_assert(!s->clauses[4].values[0].u.missing);
    s = parse_ok("Procedure", "instantiates-canonical=http://x.org/PlanDefinition/p%7C1.0");
    ck_assert_str_eq(s->clauses[0].values[0].u.reference.url, "http://x.org/PlanDefinition/p");
    ck_assert_str_eq(s->clauses[0].values[0].u.reference.version, "1.0");
}
END_TEST

START_TEST(string_uri_and_modifiers)
{
    struct fhir_search *s =
        parse_ok("Patient", "name=Jos%C3%A9&family:exact=M%C3%BCller&given:contains=ann"
                            "&name=%E5%BC%A0+%E4%B8%89&_profile:below=http://hl7.org/fhir/us");

    ck_assert_str_eq(s->clauses[0].values[0].u.string.norm, "jose");
    ck_assert_int_eq(s->clauses[1].modifier, FHIR_SEARCH_MOD_EXACT);
    ck_assert_str_eq(s->clauses[1].values[0].text, "M\xc3\xbcller");
    ck_assert_int_eq(s->clauses[2].modifier, FHIR_SEARCH_MOD_CONTAINS);
    ck_assert_str_eq(s->clauses[3].values[0].text, "\xe5\xbc\xa0 \xe4\xb8\x89");
    ck_assert_int_eq(s->clauses[4].modifier, FHIR_SEARCH_MOD_BELOW);
    ck_assert_str_eq(s->clauses[4].values[0].text, "http://hl7.org/fhir/us");
}
END_TEST

START_TEST(result_parameters)
{
    struct fhir_search *s = parse_ok(
        "Observation", "code=1&_count=5000&_sort=-date,code,_lastUpdated&_elements=id,code"
                       "&_summary=count&_total=accurate&_format=json&_pretty=true"
                       "&_include=Observation:subject:Patient&_revinclude:iterate=Provenance:target"
                       "&_cursor=abc-123&_offset=20&_id=a,b&_lastUpdated=gt2020");

    ck_assert_uint_eq(s->count, 1000);
    ck_assert(s->count_given);
    ck_assert(s->count_capped);
    ck_assert_uint_eq(s->n_sort, 3);
    ck_assert(s->sort[0].desc);
    ck_assert_str_eq(s->sort[0].def->name, "date");
    ck_assert(!s->sort[1].desc);
    ck_assert_str_eq(s->sort[2].def->name, "_lastUpdated");
    ck_assert_uint_eq(s->n_elements, 2);
    ck_assert_str_eq(s->elements[1], "code");
    ck_assert_int_eq(s->summary, FHIR_SEARCH_SUMMARY_COUNT);
    ck_assert_int_eq(s->total, FHIR_SEARCH_TOTAL_ACCURATE);
    ck_assert_str_eq(s->format, "json");
    ck_assert_int_eq(s->pretty, 1);
    ck_assert_uint_eq(s->n_includes, 2);
    ck_assert(!s->includes[0].rev);
    ck_assert_str_eq(s->includes[0].target_type, "Patient");
    ck_assert(s->includes[1].rev);
    ck_assert(s->includes[1].iterate);
    ck_assert_str_eq(s->cursor, "abc-123");
    ck_assert_uint_eq(s->offset, 20);
    ck_assert_uint_eq(s->n_clauses, 3);
    ck_assert_str_eq(s->clauses[1].def->name, "_id");
    ck_assert_uint_eq(s->clauses[1].n_values, 2);
    s = parse_ok("Observation", "");
    ck_assert_uint_eq(s->count, 50);
    ck_assert(!s->count_given);
    ck_assert_int_eq(s->pretty, -1);
}
END_TEST

START_TEST(canonical_query_round_trips)
{
    struct fhir_search *s = parse_ok(
        "Observation", "code=http%3A%2F%2Floinc.org%7C1234-5&&date=ge2012&_count=10&_format=xml"
                       "&_sort=-date&_cursor=zz&subject:Patient=1&value-string=a+b");
    char *c = fhir_search_canonical_query(A, s);
    struct fhir_search *again;

    ck_assert_str_eq(c, "code=http://loinc.org%7C1234-5&date=ge2012&subject:Patient=1"
                        "&value-string=a%20b&_sort=-date&_count=10");
    again = parse_ok("Observation", c);
    ck_assert_str_eq(fhir_search_canonical_query(A, again), c);
}
END_TEST

Suite *fhir_search_parse_suite(void)
{
    Suite *s = suite_create("fhir_search_parse");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, rejects_malformed_and_unknown, 0,
                        (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, lenient_ignores_unknown_with_warnings);
    tcase_add_test(tc, limits_are_enforced);
    tcase_add_test(tc, token_forms_and_escapes);
    tcase_add_loop_test(tc, date_prefixes_and_precision, 0,
                        (int)(sizeof(date_cases) / sizeof(date_cases[0])));
    tcase_add_test(tc, quantity_number_and_precision);
    tcase_add_test(tc, reference_forms);
    tcase_add_test(tc, string_uri_and_modifiers);
    tcase_add_test(tc, result_parameters);
    tcase_add_test(tc, canonical_query_round_trips);
    suite_add_tcase(s, tc);
    return s;
}
