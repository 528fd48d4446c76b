#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/outcome/fhir_outcome.h"

START_TEST(from_err_carries_code_location_and_message)
{
    struct base_err err = {0};
    json_t *oo;
    json_t *issue;

    (void)base_err_set(&err, BASE_E_INVALID, "value", "Patient.birthDate", "invalid date");
    oo = fhir_outcome_from_err(&err);
    ck_assert_ptr_nonnull(oo);
    issue = json_array_get(json_object_get(oo, "issue"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(issue, "severity")), "error");
    ck_assert_str_eq(json_string_value(json_object_get(issue, "code")), "value");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(issue, "expression"), 0)),
                     "Patient.birthDate");
    ck_assert_str_eq(json_string_value(json_object_get(issue, "diagnostics")), "invalid date");
    ck_assert_uint_eq(fhir_outcome_error_count(oo), 1);
    json_decref(oo);
}
END_TEST

START_TEST(print_one_line_per_issue)
{
    json_t *oo = fhir_outcome_new();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ck_assert_int_eq(fhir_outcome_add(oo, "warning", "informational", NULL, "note"), BASE_OK);
    ck_assert_int_eq(fhir_outcome_add(oo, "error", "required", "Patient.link[0].type", "missing"),
                     BASE_OK);
    ck_assert_uint_eq(fhir_outcome_error_count(oo), 1);
    fhir_outcome_print(f, "p.json", oo);
    fclose(f);
    ck_assert_str_eq(text, "p.json: warning: informational: note\n"
                           "p.json: Patient.link[0].type: error: required: missing\n");
    free(text);
    json_decref(oo);
}
END_TEST

Suite *fhir_outcome_suite(void)
{
    Suite *s = suite_create("fhir_outcome");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, from_err_carries_code_location_and_message);
    tcase_add_test(tc, print_one_line_per_issue);
    suite_add_tcase(s, tc);
    return s;
}
