/*
 * The facade's pure parts: the CapabilityStatement (valid R4, exactly the
 * types and parameters served) and the searchset page writer (spliced
 * stored JSON, resource trees, links, total, an outcome entry).
 */
#include <check.h>
#include <string.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/search/fhir_search.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/jsonpath.h"

static void
assert_valid(const json_t *v)
{
    struct base_err err = {0};
    struct fhir_validate_opts vo = {0};

    vo.no_warnings = true;
    ck_assert_msg(fhir_validate(v, &vo, NULL, NULL, &err) == BASE_OK, "%s: %s", err.where, err.msg);
}

static const json_t *
resource_of(const json_t *cs, const char *type)
{
    const json_t *r;
    size_t i;

    json_array_foreach(tu_json_at(cs, "rest.0.resource"), i, r)
    {
        if (strcmp(tu_json_str(r, "type"), type) == 0)
            return r;
    }
    return NULL;
}

static bool
has_param(const json_t *res, const char *name)
{
    const json_t *p;
    size_t i;

    json_array_foreach(json_object_get(res, "searchParam"), i, p)
    {
        if (strcmp(tu_json_str(p, "name"), name) == 0)
            return true;
    }
    return false;
}

START_TEST(capability_statement)
{
    struct adapter_config cfg;
    json_t *cs;
    const json_t *r;

    memset(&cfg, 0, sizeof(cfg));
    cfg.name = "Hospital A";
    cfg.member_id = "hosp-a";
    cfg.public_url = "https://a.example/fhir";
    cfg.pacs_enabled = true;
    cfg.pacs_mode = ADAPTER_PACS_LIVE;
    cs = adapter_facade_capability(&cfg);
    ck_assert_ptr_nonnull(cs);
    assert_valid(cs);
    ck_assert_str_eq(tu_json_str(cs, "fhirVersion"), "4.0.1");
    ck_assert_str_eq(tu_json_str(cs, "implementation.url"), "https://a.example/fhir");
    /* every searchable type, with the parameters issue #3 asks for */
    for (size_t i = 0; i < adapter_facade_search_type_count; i++) {
        const char *t = adapter_facade_search_types[i];

        r = resource_of(cs, t);
        ck_assert_msg(r != NULL, "%s missing", t);
        ck_assert_msg(has_param(r, "_id") && has_param(r, "_lastUpdated"), "%s", t);
        ck_assert_str_eq(tu_json_str(r, "interaction.2.code"), "search-type");
    }
    ck_assert(has_param(resource_of(cs, "Observation"), "patient"));
    ck_assert(has_param(resource_of(cs, "Observation"), "code"));
    ck_assert(has_param(resource_of(cs, "Observation"), "category"));
    ck_assert(has_param(resource_of(cs, "Observation"), "date"));
    ck_assert(!has_param(resource_of(cs, "Condition"), "date")); /* R4 has none */
    ck_assert(has_param(resource_of(cs, "Patient"), "identifier"));
    ck_assert_str_eq(tu_json_str(resource_of(cs, "Patient"), "operation.0.name"), "everything");
    ck_assert_ptr_nonnull(tu_json_str(resource_of(cs, "ImagingStudy"), "documentation"));
    /* read-only types: read and vread, no search */
    r = resource_of(cs, "Provenance");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(json_array_size(json_object_get(r, "interaction")), 2);
    ck_assert_ptr_null(json_object_get(r, "searchParam"));
    json_decref(cs);
}
END_TEST

START_TEST(page_writer)
{
    struct base_arena *a = base_arena_new(0);
    struct adapter_page p;
    static const char pat[] = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}";
    struct adapter_store_row row = {"Patient", "p1",           2, 1700000000000000, false,
                                    pat,       sizeof(pat) - 1};
    struct fhir_bundle_link links[2] = {{"self", "https://a/fhir/Patient?_count=1"},
                                        {"next", "https://a/fhir/Patient?_count=1&_offset=1"}};
    json_t *tree =
        json_pack("{s:s, s:s, s:s}", "resourceType", "Observation", "id", "o1", "status", "final");
    json_t *oo = fhir_outcome_new();
    struct base_buf out;
    struct base_err err = {0};
    json_t *b = NULL;

    ck_assert_int_eq(fhir_outcome_add(oo, "error", "transient", "ImagingStudy", "PACS away"),
                     BASE_OK);
    json_object_set_new(tree, "code", json_pack("{s:s}", "text", "x"));
    ck_assert_int_eq(adapter_facade__page_init(&p, a, 2), BASE_OK);
    ck_assert_int_eq(adapter_facade__page_row(&p, &row, FHIR_BUNDLE_MODE_MATCH), BASE_OK);
    row.json = NULL; /* a deleted version is skipped */
    ck_assert_int_eq(adapter_facade__page_row(&p, &row, FHIR_BUNDLE_MODE_MATCH), BASE_OK);
    ck_assert_int_eq(adapter_facade__page_tree(&p, tree, FHIR_BUNDLE_MODE_INCLUDE), BASE_OK);
    ck_assert_uint_eq(p.n, 2);
    base_buf_init(&out, 1u << 20);
    ck_assert_int_eq(
        adapter_facade__page_write(&p, "https://a/fhir", links, 2, true, 7, oo, &out, &err),
        BASE_OK);
    ck_assert_int_eq(fhir_json_parse(out.data, out.len, NULL, &b, NULL), BASE_OK);
    assert_valid(b);
    ck_assert_str_eq(tu_json_str(b, "type"), "searchset");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 7);
    ck_assert_str_eq(tu_json_str(b, "link.1.relation"), "next");
    ck_assert_str_eq(tu_json_str(b, "entry.0.fullUrl"), "https://a/fhir/Patient/p1");
    ck_assert_str_eq(tu_json_str(b, "entry.1.search.mode"), "include");
    ck_assert_str_eq(tu_json_str(b, "entry.2.search.mode"), "outcome");
    ck_assert_str_eq(tu_json_str(b, "entry.2.resource.issue.0.diagnostics"), "PACS away");
    /* a full page refuses more */
    ck_assert_int_eq(adapter_facade__page_tree(&p, tree, FHIR_BUNDLE_MODE_MATCH), BASE_OK);
    ck_assert_int_eq(adapter_facade__page_tree(&p, tree, FHIR_BUNDLE_MODE_MATCH), BASE_E_LIMIT);
    json_decref(b);
    json_decref(tree);
    json_decref(oo);
    base_buf_fini(&out);
    base_arena_free(a);
}
END_TEST

Suite *
adapter_facade_unit_suite(void)
{
    Suite *s = suite_create("adapter_facade_unit");
    TCase *tc = tcase_create("facade");

    tcase_add_test(tc, capability_statement);
    tcase_add_test(tc, page_writer);
    suite_add_tcase(s, tc);
    return s;
}
