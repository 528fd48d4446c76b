/*
 * _summary=true and _summary=text subsets (fhir/summary):
 *   - the summary elements are R4's isSummary ones (spot checks, from the
 *     R4 resource pages' "Σ" flags);
 *   - every official R4 example, subset either way, is still a valid
 *     resource (mandatory elements stay), is tagged SUBSETTED, keeps only
 *     summary (or text/id/meta/mandatory) elements, and the input is not
 *     changed.
 */
#include <check.h>
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "fhir/model/fhir_model.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/summary/fhir_summary.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/jsonpath.h"
#include "test/support/testutil.h"

static bool
is(const char *type, const char *path)
{
    return fhir_summary_is_element(type, path, strlen(path));
}

START_TEST(summary_elements_are_r4s)
{
    ck_assert(is("Patient", "name"));
    ck_assert(is("Patient", "birthDate"));
    ck_assert(is("Patient", "deceased")); /* a choice, by its base name */
    ck_assert(!is("Patient", "photo"));
    ck_assert(!is("Patient", "contact"));
    ck_assert(!is("Patient", "text"));
    ck_assert(is("Observation", "value"));
    ck_assert(is("Observation", "component.code"));
    ck_assert(!is("Observation", "component.interpretation"));
    ck_assert(!is("Observation", "referenceRange"));
    ck_assert(!is("Observation", "note"));
    ck_assert(is("MedicationRequest", "dosageInstruction") == false);
    ck_assert(is("Encounter", "subject"));
    ck_assert(!is("Encounter", "period")); /* no Σ in R4 */
    ck_assert(!is("NoSuchType", "id"));
    ck_assert(!is("Patient", "name.given")); /* inside a data type: not listed */
}
END_TEST

static bool
has_subsetted(const json_t *res)
{
    size_t i;
    const json_t *tag;

    json_array_foreach(tu_json_at(res, "meta.tag"), i, tag)
    {
        if (strcmp(json_string_value(json_object_get(tag, "code")), "SUBSETTED") == 0)
            return true;
    }
    return false;
}

/* Every member of the subset is a summary element, or mandatory, or (text)
 * text/id/meta; backbone elements the same, one level down. */
static void
only_allowed(const json_t *res, enum fhir_summary_mode mode, const char *file)
{
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    const struct fhir_model_type *t = fhir_model_type_find(rt, strlen(rt));
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)res, key, v)
    {
        struct fhir_model_match m;

        /* contained stays when what is kept points into it (ref-1) */
        if (strcmp(key, "resourceType") == 0 || strcmp(key, "contained") == 0)
            continue;
        ck_assert_msg(fhir_model_match_key(t, key, strlen(key), &m), "%s: %s", file, key);
        if (mode == FHIR_SUMMARY_TEXT)
            ck_assert_msg(m.elem->min >= 1 || strcmp(m.elem->name, "text") == 0 ||
                              strcmp(m.elem->name, "id") == 0 || strcmp(m.elem->name, "meta") == 0,
                          "%s: text kept %s", file, key);
        else
            ck_assert_msg(m.elem->min >= 1 || is(rt, m.elem->name), "%s: true kept %s", file, key);
    }
}

/* Errors in a subset.  _summary=text keeps the mandatory elements only
 * (search.html#summary), so an invariant that needs an optional element —
 * cpb-1 (rest, messaging or document), ppc-1 (policy or policyRule),
 * bdl-9/bdl-10 (a document's identifier and timestamp) — may fail on a
 * text subset, which is tagged SUBSETTED; every other error counts. */
static size_t
errors_but_text_invariants(const json_t *sub, enum fhir_summary_mode mode)
{
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result r;
    json_t *issues;
    size_t n = 0;

    ck_assert_ptr_nonnull(oo);
    ck_assert_int_ne(fhir_validate(sub, NULL, oo, &r, NULL), BASE_E_NOMEM);
    issues = json_object_get(oo, "issue");
    for (size_t i = 0; i < json_array_size(issues); i++) {
        const json_t *is = json_array_get(issues, i);

        if (strcmp(json_string_value(json_object_get(is, "severity")), "error") != 0)
            continue;
        if (mode == FHIR_SUMMARY_TEXT &&
            strcmp(json_string_value(json_object_get(is, "code")), "invariant") == 0)
            continue;
        n++;
    }
    json_decref(oo);
    return n;
}

START_TEST(every_example_subsets_to_a_valid_resource)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);
    size_t done = 0;
    size_t smaller = 0;

    ck_assert_uint_gt(n, 100);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *text = tu_read_file(files[i], &len);
        json_t *res = NULL;
        char *before;

        ck_assert_ptr_nonnull(text);
        if (fhir_json_parse(text, len, NULL, &res, NULL) != BASE_OK ||
            fhir_validate_error_count(res) != 0) {
            free(text);
            json_decref(res);
            continue;
        }
        before = json_dumps(res, JSON_SORT_KEYS | JSON_COMPACT);
        for (int m = FHIR_SUMMARY_TRUE; m <= FHIR_SUMMARY_TEXT; m++) {
            json_t *sub = NULL;

            ck_assert_int_eq(fhir_summary_subset(res, (enum fhir_summary_mode)m, &sub), BASE_OK);
            ck_assert_msg(errors_but_text_invariants(sub, (enum fhir_summary_mode)m) == 0,
                          "%s (%s) does not validate", files[i],
                          m == FHIR_SUMMARY_TRUE ? "true" : "text");
            ck_assert_msg(has_subsetted(sub), "%s: no SUBSETTED tag", files[i]);
            only_allowed(sub, (enum fhir_summary_mode)m, files[i]);
            smaller += json_object_size(sub) < json_object_size(res);
            json_decref(sub);
        }
        {
            char *after = json_dumps(res, JSON_SORT_KEYS | JSON_COMPACT);

            ck_assert_msg(strcmp(before, after) == 0, "%s: the input was changed", files[i]);
            free(after);
        }
        free(before);
        free(text);
        json_decref(res);
        done++;
    }
    ck_assert_uint_gt(done, 100);
    ck_assert_uint_gt(smaller, done); /* most subsets leave something out */
    tu_free_list(files);
}
END_TEST

START_TEST(observation_components_keep_their_summary)
{
    const char *text =
        "{\"resourceType\":\"Observation\",\"id\":\"bp\",\"text\":{\"status\":\"generated\","
        "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">BP</div>\"},"
        "\"status\":\"final\",\"code\":{\"text\":\"BP\"},\"note\":[{\"text\":\"n\"}],"
        "\"referenceRange\":[{\"text\":\"normal\"}],"
        "\"component\":[{\"code\":{\"text\":\"sys\"},\"valueQuantity\":{\"value\":120},"
        "\"interpretation\":[{\"text\":\"N\"}]}],\"valueString\":\"x\",\"_status\":{\"id\":\"s\"}}";
    json_t *res = NULL;
    json_t *sub = NULL;

    ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &res, NULL), BASE_OK);
    ck_assert_int_eq(fhir_summary_subset(res, FHIR_SUMMARY_TRUE, &sub), BASE_OK);
    ck_assert_ptr_null(json_object_get(sub, "text"));
    ck_assert_ptr_null(json_object_get(sub, "note"));
    ck_assert_ptr_null(json_object_get(sub, "referenceRange"));
    ck_assert_ptr_nonnull(tu_json_at(sub, "component.0.valueQuantity"));
    ck_assert_ptr_nonnull(tu_json_at(sub, "component.0.code"));
    ck_assert_ptr_null(tu_json_at(sub, "component.0.interpretation"));
    ck_assert_ptr_nonnull(json_object_get(sub, "valueString"));
    ck_assert_ptr_nonnull(json_object_get(sub, "_status"));
    json_decref(sub);
    ck_assert_int_eq(fhir_summary_subset(res, FHIR_SUMMARY_TEXT, &sub), BASE_OK);
    ck_assert_ptr_nonnull(json_object_get(sub, "text"));
    ck_assert_ptr_nonnull(json_object_get(sub, "status")); /* 1..1 */
    ck_assert_ptr_nonnull(json_object_get(sub, "code"));   /* 1..1 */
    ck_assert_ptr_null(json_object_get(sub, "valueString"));
    ck_assert_ptr_null(json_object_get(sub, "component"));
    ck_assert_str_eq(tu_json_str(sub, "meta.tag.0.code"), "SUBSETTED");
    ck_assert_ptr_null(json_object_get(res, "meta")); /* the input keeps no tag */
    json_decref(sub);
    json_object_set_new(res, "resourceType", json_string("NoSuchType"));
    ck_assert_int_eq(fhir_summary_subset(res, FHIR_SUMMARY_TRUE, &sub), BASE_E_INVALID);
    ck_assert_ptr_null(sub);
    json_decref(res);
}
END_TEST

Suite *
summary_suite(void)
{
    Suite *s = suite_create("summary");
    TCase *tc = tcase_create("summary");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, summary_elements_are_r4s);
    tcase_add_test(tc, every_example_subsets_to_a_valid_resource);
    tcase_add_test(tc, observation_components_keep_their_summary);
    suite_add_tcase(s, tc);
    return s;
}
