/* What the store maintains in resources and writes to its index (no
 * database): instants, ids, the content hash, meta, index rows, business
 * identifiers, and the Patient compartment table. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/store_int.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "test/unit/adapters/store/store_test.h"

START_TEST(instants_have_microseconds)
{
    char buf[40];
    int64_t lo = 0;
    int64_t hi = 0;
    int64_t t = INT64_C(1767225600123456);

    ck_assert_uint_eq(adapter_store_format_instant(0, buf, sizeof(buf)), 27);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z");
    ck_assert_uint_gt(adapter_store_format_instant(t, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2026-01-01T00:00:00.123456Z");
    /* exactly one microsecond wide for _lastUpdated searches */
    ck_assert(fhir_search_date_range(buf, strlen(buf), &lo, &hi));
    ck_assert_int_eq(lo, t);
    ck_assert_int_eq(hi, t + 1);
    ck_assert_uint_eq(adapter_store_format_instant(-1, buf, sizeof(buf)), 27);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999999Z");
    ck_assert_uint_eq(adapter_store_format_instant(t, buf, 10), 0);
    ck_assert_uint_eq(adapter_store_format_instant(INT64_MAX, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(ids_and_types)
{
    const char *a = st_new_id(A);
    const char *b = st_new_id(A);

    ck_assert_uint_eq(strlen(a), 36);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(a[14], '4');
    ck_assert(strchr("89ab", a[19]) != NULL);
    ck_assert(adapter_store_id_ok(a, strlen(a)));
    ck_assert(adapter_store_id_ok("a.B-9", 5));
    ck_assert(!adapter_store_id_ok("", 0));
    ck_assert(!adapter_store_id_ok("a/b", 3));
    ck_assert(!adapter_store_id_ok("a b", 3));
    ck_assert(!adapter_store_id_ok("x'y", 3));
    ck_assert(
        !adapter_store_id_ok("0123456789012345678901234567890123456789012345678901234567890123"
                             "4",
                             65));
    ck_assert(st_type_ok("Patient", 7));
    ck_assert(!st_type_ok("patient", 7));
    ck_assert(!st_type_ok("Pat1ent", 7));
    ck_assert(!st_type_ok("", 0));
}
END_TEST

START_TEST(content_hash_ignores_meta)
{
    json_t *x = js("{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"versionId\":\"1\"},"
                   "\"active\":true,\"name\":[{\"family\":\"Li\"}]}");
    json_t *y = js("{\"resourceType\":\"Patient\",\"id\":\"p\",\"active\":true,\"meta\":{"
                   "\"versionId\":\"7\",\"lastUpdated\":\"2020-01-01T00:00:00Z\",\"tag\":[{"
                   "\"code\":\"t\"}]},\"name\":[{\"family\":\"Li\"}]}");
    json_t *z = js("{\"resourceType\":\"Patient\",\"id\":\"p\",\"active\":true,\"name\":[{"
                   "\"family\":\"Lu\"}]}");
    json_t *d1 = js("{\"resourceType\":\"Observation\",\"valueQuantity\":{\"value\":1.50}}");
    json_t *d2 = js("{\"resourceType\":\"Observation\",\"valueQuantity\":{\"value\":1.5}}");
    char hx[65];
    char hy[65];
    char hz[65];
    char h1[65];
    char h2[65];
    const char *text = NULL;
    json_t *back;

    ck_assert_int_eq(st_content(A, x, 0, 0, hx, NULL, NULL), BASE_OK);
    ck_assert_int_eq(st_content(A, y, 0, 0, hy, NULL, NULL), BASE_OK);
    ck_assert_int_eq(st_content(A, z, 0, 0, hz, NULL, NULL), BASE_OK);
    ck_assert_int_eq(st_content(A, d1, 0, 0, h1, NULL, NULL), BASE_OK);
    ck_assert_int_eq(st_content(A, d2, 0, 0, h2, NULL, NULL), BASE_OK);
    ck_assert_uint_eq(strlen(hx), 64);
    ck_assert_str_eq(hx, hy);
    ck_assert_str_ne(hx, hz);
    ck_assert_str_ne(h1, h2); /* decimal text is content */
    /* the resource keeps its meta */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(y, "meta"), "versionId")),
                     "7");
    /* with a version: the text to store, meta set, the same hash */
    ck_assert_int_eq(st_content(A, y, 8, INT64_C(1767225600000000), hz, &text, NULL), BASE_OK);
    ck_assert_str_eq(hz, hx);
    back = js(text);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(back, "meta"), "versionId")),
                     "8");
    ck_assert_ptr_nonnull(json_object_get(json_object_get(back, "meta"), "tag"));
    ck_assert_ptr_nonnull(json_object_get(back, "name"));
    json_decref(back);
    /* a resource with nothing but meta */
    ck_assert_int_eq(st_content(A, d1, 1, 0, h1, &text, NULL), BASE_OK);
    json_decref(x);
    x = js("{\"meta\":{}}");
    ck_assert_int_eq(st_content(A, x, 1, 0, h1, &text, NULL), BASE_OK);
    ck_assert_str_eq(text, "{\"meta\":{\"versionId\":\"1\",\"lastUpdated\":"
                           "\"1970-01-01T00:00:00.000000Z\"}}");
    json_decref(x);
    json_decref(y);
    json_decref(z);
    json_decref(d1);
    json_decref(d2);
}
END_TEST

START_TEST(meta_is_set_and_kept)
{
    json_t *r = js("{\"resourceType\":\"Patient\",\"meta\":{\"tag\":[{\"code\":\"t\"}],"
                   "\"versionId\":\"9\"}}");
    json_t *bare = js("{\"resourceType\":\"Patient\"}");
    const json_t *meta;

    ck_assert_int_eq(st_set_meta(r, 3, INT64_C(1767225600000001)), BASE_OK);
    meta = json_object_get(r, "meta");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "versionId")), "3");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "lastUpdated")),
                     "2026-01-01T00:00:00.000001Z");
    ck_assert_ptr_nonnull(json_object_get(meta, "tag"));
    ck_assert_int_eq(st_set_meta(bare, 1, 0), BASE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(bare, "meta"), "versionId")),
                     "1");
    json_decref(r);
    json_decref(bare);
}
END_TEST

START_TEST(index_rows_of_an_observation)
{
    json_t *o =
        js("{\"resourceType\":\"Observation\",\"id\":\"o\",\"meta\":{\"lastUpdated\":"
           "\"2026-01-01T00:00:00.000000Z\",\"tag\":[{\"system\":\"urn:t\",\"code\":\"x\"}]},"
           "\"identifier\":[{\"type\":{\"coding\":[{\"system\":\"urn:ty\",\"code\":\"FILL\"}]},"
           "\"system\":\"urn:o\",\"value\":\"O\\\"1\"}],\"status\":\"final\",\"code\":{\"text\":"
           "\"Glucose\"},\"subject\":{\"reference\":\"Patient/p\"},\"effectiveDateTime\":\"2020\","
           "\"valueQuantity\":{\"value\":5.40,\"comparator\":\"<\",\"unit\":\"mg\"}}");
    struct st_rows r;
    struct base_err err = {0};

    st_rows_init(&r);
    ck_assert_int_eq(st_rows_add(&r, A, o, "Observation", 2, &err), BASE_OK);
    /* code text-only, identifier with its type, status, _tag */
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[TK_TEXT_RAW]), "\"Glucose\""));
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[TK_TEXT]), "\"glucose\""));
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[TK_CODE]), "\"O\\\"1\""));
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[TK_OF_TYPE]), "urn:ty"));
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[TK_PARAM]), "\"_tag\""));
    ck_assert_ptr_null(strstr(st_arr_get(&r.c[TK_PARAM]), "\"_id\""));
    ck_assert_ptr_null(strstr(st_arr_get(&r.c[DT_PARAM]), "_lastUpdated"));
    ck_assert_str_eq(st_arr_get(&r.c[DT_LOW]), "{1577836800000000}");
    ck_assert_str_eq(st_arr_get(&r.c[DT_RES]), "{2}");
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[QT_LOW]), "5.40"));
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[QT_LOW_OPEN]), "t"));
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[RF_ID]), "\"p\""));
    ck_assert_ptr_nonnull(strstr(st_arr_get(&r.c[RF_TYPE]), "\"Patient\""));
    ck_assert_str_eq(st_arr_get(&r.c[ID_VALUE]), "{\"O\\\"1\"}");
    ck_assert_uint_gt(r.n_values, 8);
    st_rows_reset(&r);
    ck_assert_str_eq(st_arr_get(&r.c[TK_CODE]), "{}");
    st_rows_fini(&r);
    json_decref(o);
}
END_TEST

START_TEST(identifiers_of_any_type)
{
    json_t *loc = js("{\"resourceType\":\"Location\",\"identifier\":[{\"system\":\"urn:l\","
                     "\"value\":\"L1\"},{\"value\":\"L2\"},{\"system\":\"urn:x\"}]}");
    json_t *doc = js("{\"resourceType\":\"DocumentReference\",\"masterIdentifier\":{\"system\":"
                     "\"urn:m\",\"value\":\"D0\"},\"identifier\":[{\"value\":\"D1\"}]}");
    const char **sys = NULL;
    const char **val = NULL;
    size_t n = 0;

    ck_assert_int_eq(st_identifiers(A, loc, "Location", &sys, &val, &n, NULL), BASE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(sys[0], "urn:l");
    ck_assert_str_eq(val[1], "L2");
    ck_assert_ptr_null(sys[1]);
    /* a known type uses its identifier search parameter: masterIdentifier too */
    ck_assert_int_eq(st_identifiers(A, doc, "DocumentReference", &sys, &val, &n, NULL), BASE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(val[0], "D0");
    json_decref(loc);
    json_decref(doc);
}
END_TEST

/* Every compartment pair is a reference parameter of the table. */
START_TEST(compartment_pairs_are_reference_parameters)
{
    const char *types[64];
    const char *params[64];
    size_t n = st_compartment(types, params, 64);

    ck_assert_uint_ge(n, 20);
    for (size_t i = 0; i < n; i++) {
        const struct fhir_search_param_def *d =
            fhir_search_param_find(types[i], params[i], strlen(params[i]));

        ck_assert_msg(d != NULL && d->type == FHIR_SEARCH_REFERENCE, "%s.%s", types[i], params[i]);
        ck_assert(fhir_search_param_allows_target(d, "Patient", 7));
    }
}
END_TEST

START_TEST(status_of_errors)
{
    ck_assert_int_eq(st_status_of(BASE_OK, NULL), 200);
    ck_assert_int_eq(st_status_of(BASE_E_INVALID, NULL), 400);
    ck_assert_int_eq(st_status_of(BASE_E_NOTFOUND, NULL), 404);
    ck_assert_int_eq(st_status_of(BASE_E_CONFLICT, NULL), 409);
    ck_assert_int_eq(st_status_of(BASE_E_LIMIT, NULL), 413);
    ck_assert_int_eq(st_status_of(BASE_E_IO, NULL), 503);
    ck_assert_int_eq(st_status_of(BASE_E_NOMEM, NULL), 500);
    ck_assert_str_eq(adapter_store_action_name(ADAPTER_STORE_UNCHANGED), "unchanged");
}
END_TEST

Suite *adapter_store_content_suite(void);

Suite *
adapter_store_content_suite(void)
{
    Suite *s = suite_create("adapter_store_content");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, instants_have_microseconds);
    tcase_add_test(tc, ids_and_types);
    tcase_add_test(tc, content_hash_ignores_meta);
    tcase_add_test(tc, meta_is_set_and_kept);
    tcase_add_test(tc, index_rows_of_an_observation);
    tcase_add_test(tc, identifiers_of_any_type);
    tcase_add_test(tc, compartment_pairs_are_reference_parameters);
    tcase_add_test(tc, status_of_errors);
    suite_add_tcase(s, tc);
    return s;
}
