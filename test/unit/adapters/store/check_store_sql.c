/* SQL building blocks of the store (no database): array literals, numbered
 * parameters, prefix ranges, and the search compiler's invariant that no
 * value ever becomes SQL text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/store_int.h"
#include "fhir/base/arena.h"
#include "fhir/search/fhir_search.h"
#include "test/unit/adapters/store/store_test.h"

START_TEST(array_literals_escape_quotes_and_backslashes)
{
    struct st_arr x;

    st_arr_init(&x);
    ck_assert_str_eq(st_arr_get(&x), "{}");
    st_arr_text(&x, "plain");
    st_arr_text(&x, NULL);
    st_arr_text(&x, "");
    st_arr_text(&x, "a\"b\\c,{d}");
    st_arr_textn(&x, "NULL", 4);
    st_arr_i64(&x, -42);
    st_arr_raw(&x, "1.5e3");
    ck_assert_str_eq(st_arr_get(&x),
                     "{\"plain\",NULL,\"\",\"a\\\"b\\\\c,{d}\",\"NULL\",-42,1.5e3}");
    /* get does not close the array for good: appending goes on */
    st_arr_i64(&x, 7);
    ck_assert_str_eq(st_arr_get(&x),
                     "{\"plain\",NULL,\"\",\"a\\\"b\\\\c,{d}\",\"NULL\",-42,1.5e3,7}");
    st_arr_reset(&x);
    ck_assert_str_eq(st_arr_get(&x), "{}");
    st_arr_fini(&x);
}
END_TEST

START_TEST(statements_number_their_parameters)
{
    struct st_sql q;

    st_sql_init(&q, A);
    st_sql_add(&q, "SELECT 1 WHERE a = ");
    st_sql_param(&q, "x'); DROP", NULL);
    st_sql_add(&q, " AND b = ");
    st_sql_param_i64(&q, 5, "::bigint");
    st_sql_add(&q, " AND c IS ");
    st_sql_param(&q, NULL, "::text");
    ck_assert_str_eq(st_sql_text(&q), "SELECT 1 WHERE a = $1 AND b = $2::bigint AND c IS $3::text");
    ck_assert_int_eq(q.n, 3);
    ck_assert_str_eq(q.params[0], "x'); DROP");
    ck_assert_str_eq(q.params[1], "5");
    ck_assert_ptr_null(q.params[2]);
}
END_TEST

START_TEST(prefix_successor)
{
    ck_assert_str_eq(st_prefix_successor(A, "abc"), "abd");
    ck_assert_str_eq(st_prefix_successor(A, "az"), "a{");
    ck_assert_str_eq(st_prefix_successor(A, "\xc3\xa9"), "\xc3\xaa");           /* é -> ê */
    ck_assert_str_eq(st_prefix_successor(A, "x\xe8\xa1\x80"), "x\xe8\xa1\x81"); /* 血 -> next */
    ck_assert_str_eq(st_prefix_successor(A, "a\xf4\x8f\xbf\xbf"), "b");         /* U+10FFFF */
    ck_assert_str_eq(st_prefix_successor(A, "\xed\x9f\xbf"), "\xee\x80\x80"); /* skip surrogates */
    ck_assert_str_eq(st_prefix_successor(A, "\x7f"), "\xc2\x80");
    ck_assert_ptr_null(st_prefix_successor(A, ""));
    ck_assert_ptr_null(st_prefix_successor(A, "\xf4\x8f\xbf\xbf"));
}
END_TEST

/* Every query of a broad table compiles to SQL that carries the values only
 * as parameters: the text has no quote, no statement separator, no
 * comment, and no placeholder beyond the parameters. */
static const char *const compiled[][2] = {
    {"Patient", "family='; DROP TABLE x; --&given:exact=O'Keefe&name:contains=a\\,b"},
    {"Patient", "identifier=sys|v'1,|v2,sys|&identifier:of-type=s|MR|v&identifier:text=x"},
    {"Patient", "birthdate=ge1980&birthdate=ap1990-06&_lastUpdated=gt2020&_lastUpdated=le2021"},
    {"Patient", "_id=a,b&_id:not=c&_id:missing=false&gender:missing=true&_sort=-family,_id"},
    {"Patient", "_profile:below=http://x/'y&_profile:above=http://z&_source=u"},
    {"Observation", "value-quantity=5.4|http://unitsofmeasure.org|mg&value-quantity=ap1e3||x"},
    {"Observation", "value-quantity=ne5,gt6,lt7,ge8,le9,sa10,eb11&_sort=-value-quantity"},
    {"Observation", "subject=Patient/1&subject=https://h.example/fhir/Patient/2"
                    "&subject:identifier=a|b&subject:Patient=3&_sort=subject,code"},
    {"Observation", "date=ne2020&date=sa2020&date=eb2020&date=le2020-03-04T10:00:00Z"},
    {"Observation", "code:not=1&code:text=x&code:missing=false&_tag=a|b&_sort=_lastUpdated"},
};

START_TEST(compiled_sql_carries_no_values)
{
    struct adapter_store_search_opts o = {"https://h.example/fhir", 1};
    struct st_compile cc;
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    struct st_sql q;
    const char *text;

    ck_assert_int_eq(fhir_search_parse(A, compiled[_i][0], compiled[_i][1], strlen(compiled[_i][1]),
                                       NULL, &s, &err),
                     BASE_OK);
    st_compile_init(&cc, A, &o);
    st_sql_init(&q, A);
    ck_assert_int_eq(st_compile_where(&q, &cc, s, &err), BASE_OK);
    text = st_sql_text(&q);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strchr(text, '\'') == NULL && strchr(text, ';') == NULL &&
                      strstr(text, "--") == NULL,
                  "value leaked into SQL: %s", text);
    for (const char *p = strchr(text, '$'); p != NULL; p = strchr(p + 1, '$'))
        ck_assert_int_le(strtol(p + 1, NULL, 10), q.n);
    ck_assert_int_gt(q.n, 0);
    /* the sort keys are code too */
    st_sql_init(&q, A);
    ck_assert_int_eq(st_compile_sort_keys(&q, s, &err), BASE_OK);
    ck_assert_ptr_null(strchr(st_sql_text(&q) != NULL ? st_sql_text(&q) : "", ';'));
}
END_TEST

/* adapter_store_include_check(): what can be served, and what is refused by name. */
static const struct {
    const char *type;
    const char *q;
    int rc;
    const char *issue;
} includes[] = {
    {"Observation", "_include=Observation:patient", BASE_OK, NULL},
    {"Observation", "_include=Observation:performer:Organization", BASE_OK, NULL},
    {"Observation", "_include=*", BASE_OK, NULL},
    {"Observation", "_include=Observation:*", BASE_OK, NULL},
    {"Observation", "_include=DiagnosticReport:result", BASE_OK, NULL}, /* adds nothing */
    {"Patient", "_revinclude=Provenance:target", BASE_OK, NULL},
    {"Patient", "_revinclude=Provenance:target:Observation", BASE_OK, NULL},
    {"Patient", "_revinclude=*", BASE_OK, NULL},
    {"Observation", "_include=Observation:nosuch", BASE_E_INVALID, "value"},
    {"Observation", "_include=Observation:code", BASE_E_INVALID, "value"},
    {"Observation", "_include=Nosuch:patient", BASE_E_INVALID, "value"},
    {"Observation", "_include=Observation:patient:Organization", BASE_E_INVALID, "value"},
    {"Observation", "_include:iterate=Observation:patient", BASE_E_INVALID, "not-supported"},
    {"Observation", "_include:recurse=*", BASE_E_INVALID, "not-supported"},
    {"Patient", "_revinclude=Provenance:recorded", BASE_E_INVALID, "value"},
    {"Patient", "_revinclude:iterate=Provenance:target", BASE_E_INVALID, "not-supported"},
};

START_TEST(include_check_serves_or_names_the_parameter)
{
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    const char *q = includes[_i].q;

    ck_assert_int_eq(fhir_search_parse(A, includes[_i].type, q, strlen(q), NULL, &s, &err),
                     BASE_OK);
    ck_assert_uint_eq(s->n_includes, 1);
    ck_assert_msg(adapter_store_include_check(s, &s->includes[0], &err) == includes[_i].rc, "%s",
                  q);
    if (includes[_i].rc != BASE_OK) {
        ck_assert_str_eq(err.issue_code, includes[_i].issue);
        ck_assert_str_eq(err.where, s->includes[0].rev ? "_revinclude" : "_include");
        /* the store's own check refuses it the same way */
        memset(&err, 0, sizeof(err));
        ck_assert_int_eq(adapter_store_search_check(s, &err), includes[_i].rc);
    }
}
END_TEST

Suite *adapter_store_sql_suite(void);

Suite *
adapter_store_sql_suite(void)
{
    Suite *s = suite_create("adapter_store_sql");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, array_literals_escape_quotes_and_backslashes);
    tcase_add_test(tc, statements_number_their_parameters);
    tcase_add_test(tc, prefix_successor);
    tcase_add_loop_test(tc, compiled_sql_carries_no_values, 0, (int)BASE_ARRAY_LEN(compiled));
    tcase_add_loop_test(tc, include_check_serves_or_names_the_parameter, 0,
                        (int)BASE_ARRAY_LEN(includes));
    suite_add_tcase(s, tc);
    return s;
}
