/* Reading transaction Bundles into a plan (no database): every refusal
 * names the entry and element, conditional criteria take the identifier
 * fast path when they can, and nothing from the Bundle is quoted. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/store_int.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "test/unit/adapters/store/store_test.h"

static struct base_arena *A;
static const struct adapter_store_opts opts = {"https://h.example/fhir/", 0};

/* A transaction with one entry. */
static json_t *
one(const char *entry)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[%s]}", entry);
    return js(text);
}

START_TEST(plans_the_usual_shapes)
{
    json_t *b = js(
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"resourceType\":\"Patient\"},\"request\":"
        "{\"method\":\"PUT\",\"url\":\"Patient?identifier=urn:mrn%7CM1\"}},"
        "{\"resource\":{\"resourceType\":\"Location\"},\"request\":{\"method\":\"PUT\","
        "\"url\":\"Location?identifier=L-9\"}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o1\"},\"request\":{\"method\":"
        "\"PUT\",\"url\":\"https://h.example/fhir/Observation/o1\",\"ifMatch\":\"W/\\\"3\\\"\"}},"
        "{\"resource\":{\"resourceType\":\"Practitioner\"},\"request\":{\"method\":\"POST\","
        "\"url\":\"Practitioner\",\"ifNoneExist\":\"identifier=%7Cnpi-1\"}},"
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Condition?code=123&patient=Patient/p\"}},"
        "{\"resource\":{\"resourceType\":\"Device\"},\"request\":{\"method\":\"POST\","
        "\"url\":\"Device\"}}]}");
    struct st_plan p;
    struct base_err err = {0};
    int status = 0;

    ck_assert_int_eq(st_plan_bundle(A, &opts, b, &p, &status, &err), BASE_OK);
    ck_assert_uint_eq(p.n, 6);
    ck_assert_int_eq(p.e[0].find, ST_FIND_IDENTIFIER);
    ck_assert_int_eq(p.e[0].iq_form, 's');
    ck_assert_str_eq(p.e[0].iq_system, "urn:mrn");
    ck_assert_str_eq(p.e[0].iq_value, "M1");
    ck_assert_str_eq(p.e[0].full_url, "urn:uuid:1");
    /* a type outside the parameter table: identifier criteria still work */
    ck_assert_int_eq(p.e[1].find, ST_FIND_IDENTIFIER);
    ck_assert_int_eq(p.e[1].iq_form, 'c');
    ck_assert_int_eq(p.e[2].find, ST_FIND_ID);
    ck_assert_str_eq(p.e[2].url_id, "o1");
    ck_assert_uint_eq(p.e[2].if_match, 3);
    ck_assert_int_eq(p.e[3].method, ST_POST);
    ck_assert_int_eq(p.e[3].find, ST_FIND_IDENTIFIER);
    ck_assert_int_eq(p.e[3].iq_form, 'n');
    ck_assert_int_eq(p.e[4].method, ST_DELETE);
    ck_assert_int_eq(p.e[4].find, ST_FIND_SEARCH);
    ck_assert_uint_eq(p.e[4].search->n_clauses, 2);
    ck_assert_int_eq(p.e[5].find, ST_FIND_NEW);
    /* the plan owns copies: the Bundle may go */
    ck_assert_ptr_ne(p.e[0].resource,
                     json_object_get(json_array_get(json_object_get(b, "entry"), 0), "resource"));
    json_decref(b);
}
END_TEST

/* entry, expected where, expected status */
static const char *const refusals[][3] = {
    {"{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1\"}}", "Bundle.entry[0].request.method",
     "400"},
    {"{\"request\":{\"url\":\"Patient/1\"}}", "Bundle.entry[0].request.method", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\"}}",
     "Bundle.entry[0].request.url", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"}}", "Bundle.entry[0].request", "400"},
    {"{\"request\":{\"method\":\"PUT\",\"url\":\"patient/1\"}}", "Bundle.entry[0].request.url",
     "400"},
    {"{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/a_b\"}}", "Bundle.entry[0].request.url",
     "400"},
    {"{\"request\":{\"method\":\"PUT\",\"url\":\"https://elsewhere/Patient/1\"}}",
     "Bundle.entry[0].request.url", "400"},
    {"{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/1\"}}", "Bundle.entry[0].resource", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\",\"id\":7},\"request\":{\"method\":\"PUT\","
     "\"url\":\"Patient/1\"}}",
     "Bundle.entry[0].resource.id", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\","
     "\"url\":\"Patient/1\"}}",
     "Bundle.entry[0].request.url", "400"},
    {"{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient\"}}", "Bundle.entry[0].request.url",
     "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":"
     "\"Patient/1\",\"ifNoneExist\":\"identifier=x\"}}",
     "Bundle.entry[0].request.ifNoneExist", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":"
     "\"Patient\",\"ifMatch\":\"W/\\\"1\\\"\"}}",
     "Bundle.entry[0].request.ifMatch", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":"
     "\"Patient/1\",\"ifMatch\":\"3\"}}",
     "Bundle.entry[0].request.ifMatch", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":"
     "\"Patient?\"}}",
     "Bundle.entry[0].request.url", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":"
     "\"Patient?name:nonsense=x\"}}",
     "Bundle.entry[0].request.url", "400"},
    {"{\"resource\":{\"resourceType\":\"Location\"},\"request\":{\"method\":\"PUT\",\"url\":"
     "\"Location?name=x\"}}",
     "Bundle.entry[0].request.url", "400"},
    {"{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":"
     "\"Patient?_include=Patient:link\"}}",
     "Bundle.entry[0].request.url", "400"},
    {"7", "Bundle.entry[0].request", "400"},
};

START_TEST(refuses_bad_entries)
{
    json_t *b = one(refusals[_i][0]);
    struct st_plan p;
    struct base_err err = {0};
    int status = 0;

    ck_assert_int_eq(st_plan_bundle(A, &opts, b, &p, &status, &err), BASE_E_INVALID);
    ck_assert_msg(strcmp(err.where, refusals[_i][1]) == 0, "case %d: where %s", _i, err.where);
    ck_assert_int_eq(status, (int)strtol(refusals[_i][2], NULL, 10));
    ck_assert_str_ne(err.issue_code, "");
    ck_assert_str_ne(err.msg, "");
    json_decref(b);
}
END_TEST

START_TEST(refuses_bad_bundles)
{
    static const char *const bad[][2] = {
        {"{\"resourceType\":\"Patient\"}", "Bundle.resourceType"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"batch\"}", "Bundle.type"},
        {"{\"resourceType\":\"Bundle\"}", "Bundle.type"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":{}}", "Bundle.entry"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
         "{\"fullUrl\":\"urn:uuid:x\",\"resource\":{\"resourceType\":\"Patient\"},\"request\":{"
         "\"method\":\"POST\",\"url\":\"Patient\"}},{\"fullUrl\":\"urn:uuid:x\",\"resource\":{"
         "\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}",
         "Bundle.entry[1].fullUrl"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        json_t *b = js(bad[i][0]);
        struct st_plan p;
        struct base_err err = {0};
        int status = 0;

        ck_assert_int_eq(st_plan_bundle(A, &opts, b, &p, &status, &err), BASE_E_INVALID);
        ck_assert_str_eq(err.where, bad[i][1]);
        ck_assert_int_eq(status, 400);
        json_decref(b);
    }
}
END_TEST

START_TEST(entry_limit)
{
    json_t *b = js("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[]}");
    json_t *entries = json_object_get(b, "entry");
    struct st_plan p;
    struct base_err err = {0};
    int status = 0;

    for (unsigned i = 0; i <= BASE_LIMIT_STORE_MAX_ENTRIES; i++)
        json_array_append_new(entries, json_object());
    ck_assert_int_eq(st_plan_bundle(A, &opts, b, &p, &status, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "Bundle.entry");
    json_decref(b);
}
END_TEST

START_TEST(empty_transaction_is_fine)
{
    json_t *b = js("{\"resourceType\":\"Bundle\",\"type\":\"transaction\"}");
    struct st_plan p;
    struct base_err err = {0};
    int status = 0;

    ck_assert_int_eq(st_plan_bundle(A, &opts, b, &p, &status, &err), BASE_OK);
    ck_assert_uint_eq(p.n, 0);
    json_decref(b);
}
END_TEST

/* The planner never quotes a value from the Bundle in an error. */
START_TEST(errors_quote_nothing)
{
    json_t *b = one("{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":"
                    "\"PUT\",\"url\":\"Patient?birthdate=SECRET-VALUE\"}}");
    struct st_plan p;
    struct base_err err = {0};
    int status = 0;

    ck_assert_int_eq(st_plan_bundle(A, &opts, b, &p, &status, &err), BASE_E_INVALID);
    ck_assert_ptr_null(strstr(err.msg, "SECRET"));
    ck_assert_ptr_null(strstr(err.where, "SECRET"));
    ck_assert_ptr_nonnull(strstr(err.msg, "birthdate"));
    json_decref(b);
}
END_TEST

Suite *adapter_store_plan_suite(void);

Suite *
adapter_store_plan_suite(void)
{
    Suite *s = suite_create("adapter_store_plan");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plans_the_usual_shapes);
    tcase_add_loop_test(tc, refuses_bad_entries, 0, (int)BASE_ARRAY_LEN(refusals));
    tcase_add_test(tc, refuses_bad_bundles);
    tcase_add_test(tc, entry_limit);
    tcase_add_test(tc, empty_transaction_is_fine);
    tcase_add_test(tc, errors_quote_nothing);
    suite_add_tcase(s, tc);
    return s;
}
