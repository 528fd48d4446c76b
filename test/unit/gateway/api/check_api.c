/*
 * test/unit/gateway/api/check_api.c — pure parts of the gateway's HTTP
 * API: the CapabilityStatement (valid R4, states the federated types and
 * operations), logical id checks, and the regulators' report in CSV and
 * HTML (escaping, formula injection).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/facade/adapter_facade.h"
#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/validate/fhir_validate.h"
#include "gateway/app/app_int.h"
#include "gateway/app/report_fmt.h"

START_TEST(capability_statement_is_valid_and_complete)
{
    struct gw_config cfg = {.node_id = "gw-1",
                            .public_url = "https://gw.example.org",
                            .fhir_base = "https://gw.example.org/fhir"};
    json_t *cs = gw_app_capability_statement(&cfg);
    struct fhir_validate_result vr = {0};
    struct base_err err = {0};
    json_t *res;
    size_t i;
    json_t *r;
    size_t clinical = 0;
    bool practitioner = false;

    ck_assert_ptr_nonnull(cs);
    ck_assert_msg(fhir_validate(cs, NULL, NULL, &vr, &err) == BASE_OK, "%s: %s", err.where,
                  err.msg);
    res = json_object_get(json_array_get(json_object_get(cs, "rest"), 0), "resource");
    json_array_foreach(res, i, r) {
        const char *type = json_string_value(json_object_get(r, "type"));

        if (gw_app_is_clinical_type(type)) {
            char *params = json_dumps(json_object_get(r, "searchParam"), 0);

            clinical++;
            /* every federated type takes patient= */
            ck_assert_ptr_nonnull(strstr(params, "\"patient\""));
            free(params);
        }
        /* the user's own Practitioner (SMART fhirUser): read, nothing more */
        if (strcmp(type, "Practitioner") == 0) {
            const json_t *ia = json_object_get(r, "interaction");

            practitioner = true;
            ck_assert_uint_eq(json_array_size(ia), 1);
            ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ia, 0), "code")),
                             "read");
        }
    }
    ck_assert(practitioner);
    ck_assert_uint_eq(clinical, gw_app_clinical_type_count);
    /* DESIGN.md's eleven, and what the CDA converter adds (goals, family
     * history, care team) */
    ck_assert_uint_eq(gw_app_clinical_type_count, 14);
    json_decref(cs);
}
END_TEST

/* GET /fhir/metadata?mode=terse (R4 http.html#capabilities): still a valid
 * CapabilityStatement, tagged SUBSETTED, every resource type with its
 * interactions and nothing else, and the security a SMART client reads to
 * find the OAuth endpoints. */
START_TEST(capability_statement_terse)
{
    struct gw_config cfg = {.node_id = "gw-1",
                            .public_url = "https://gw.example.org",
                            .fhir_base = "https://gw.example.org/fhir"};
    json_t *full = gw_app_capability_statement(&cfg);
    json_t *cs = gw_app_capability_terse(full);
    struct fhir_validate_result vr = {0};
    struct base_err err = {0};
    json_t *rest;
    json_t *r;
    size_t i;
    char *text;
    char *full_text;

    ck_assert_ptr_nonnull(cs);
    ck_assert_msg(fhir_validate(cs, NULL, NULL, &vr, &err) == BASE_OK, "%s: %s", err.where,
                  err.msg);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(cs, "meta"), "tag"), 0), "code")),
        "SUBSETTED");
    ck_assert_str_eq(json_string_value(json_object_get(cs, "fhirVersion")), "4.0.1");
    ck_assert_str_eq(json_string_value(json_object_get(cs, "kind")), "instance");
    ck_assert(json_equal(json_object_get(cs, "format"), json_object_get(full, "format")));
    rest = json_array_get(json_object_get(cs, "rest"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(cs, "rest")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(rest, "mode")), "server");
    ck_assert(
        json_equal(json_object_get(rest, "security"),
                   json_object_get(json_array_get(json_object_get(full, "rest"), 0), "security")));
    ck_assert_uint_eq(json_array_size(json_object_get(rest, "resource")),
                      json_array_size(json_object_get(
                          json_array_get(json_object_get(full, "rest"), 0), "resource")));
    json_array_foreach(json_object_get(rest, "resource"), i, r)
    {
        ck_assert_uint_eq(json_object_size(r), 2);
        ck_assert_ptr_nonnull(json_string_value(json_object_get(r, "type")));
        ck_assert_uint_gt(json_array_size(json_object_get(r, "interaction")), 0);
    }
    text = json_dumps(cs, JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, "searchParam"));
    ck_assert_ptr_null(strstr(text, "operation"));
    ck_assert_ptr_null(json_object_get(cs, "description"));
    ck_assert_ptr_nonnull(strstr(text, "https://gw.example.org/auth/authorize"));
    full_text = json_dumps(full, JSON_COMPACT);
    ck_assert_uint_lt(strlen(text) * 2, strlen(full_text));
    free(full_text);
    free(text);
    json_decref(cs);
    json_decref(full);
}
END_TEST

/* What a member's CapabilityStatement says it searches (the gateway asks a
 * member only for those types once a probe has read it). */
START_TEST(capability_search_types)
{
    static const char minimal[] = "{\"resourceType\":\"CapabilityStatement\",\"status\":"
                                  "\"active\",\"kind\":\"instance\",\"fhirVersion\":\"4.0.1\"}";
    static const char listed[] =
        "{\"resourceType\":\"CapabilityStatement\",\"rest\":["
        "{\"mode\":\"client\",\"resource\":[{\"type\":\"Encounter\"}]},"
        "{\"mode\":\"server\",\"resource\":["
        "{\"type\":\"Patient\",\"interaction\":[{\"code\":\"read\"},{\"code\":\"search-type\"}]},"
        "{\"type\":\"Observation\",\"interaction\":[{\"code\":\"search-type\"}]},"
        "{\"type\":\"Condition\",\"interaction\":[{\"code\":\"read\"}]},"
        "{\"type\":\"Goal\"},"
        "{\"type\":\"Unknown\",\"interaction\":[{\"code\":\"search-type\"}]}]}]}";
    uint64_t mask = 1;

    ck_assert(!gw_app_capability_search_types(minimal, sizeof(minimal) - 1, &mask));
    ck_assert_uint_eq(mask, 0);
    ck_assert(!gw_app_capability_search_types("{\"rest\":", 8, &mask));
    ck_assert(!gw_app_capability_search_types(NULL, 0, &mask));
    ck_assert(gw_app_capability_search_types(listed, sizeof(listed) - 1, &mask));
    ck_assert_uint_eq(mask, (UINT64_C(1) << gw_app_clinical_type_index("Observation")) |
                                (UINT64_C(1) << gw_app_clinical_type_index("Goal")));
    ck_assert_int_eq(gw_app_clinical_type_index("Patient"), -1);
    ck_assert_int_eq(gw_app_clinical_type_index("Encounter"), 0);
    {
        /* our own adapter's statement: every federated type is searched */
        struct adapter_config cfg = {0};
        json_t *cs;
        char *text;

        cfg.name = "Hospital A";
        cfg.member_id = "hosp-a";
        cfg.public_url = "https://hosp-a.example/fhir";
        cs = adapter_facade_capability(&cfg);
        text = json_dumps(cs, 0);
        ck_assert(gw_app_capability_search_types(text, strlen(text), &mask));
        ck_assert_uint_eq(mask, (UINT64_C(1) << gw_app_clinical_type_count) - 1);
        free(text);
        json_decref(cs);
    }
    {
        struct gw_registry_health h = {0};

        ck_assert(gw_registry_health_searches(&h, 3)); /* not known: asked */
        h.types_known = true;
        h.search_types = UINT64_C(1) << 2;
        ck_assert(gw_registry_health_searches(&h, 2));
        ck_assert(!gw_registry_health_searches(&h, 3));
        ck_assert(gw_registry_health_searches(&h, (unsigned)-1)); /* not a federated type */
    }
}
END_TEST

START_TEST(clinical_types_and_ids)
{
    ck_assert(gw_app_is_clinical_type("Observation"));
    ck_assert(gw_app_is_clinical_type("DocumentReference"));
    ck_assert(gw_app_is_clinical_type("Goal"));
    ck_assert(gw_app_is_clinical_type("FamilyMemberHistory"));
    ck_assert(gw_app_is_clinical_type("CareTeam"));
    ck_assert(!gw_app_is_clinical_type("Patient"));
    ck_assert(!gw_app_is_clinical_type("AuditEvent"));
    ck_assert(!gw_app_is_clinical_type("observation"));
    ck_assert(!gw_app_is_clinical_type(NULL));
    ck_assert(gw_app_id_ok("5f0c1d2e-aaaa-bbbb-cccc-0123456789ab"));
    ck_assert(gw_app_id_ok("a.b-c"));
    ck_assert(!gw_app_id_ok(""));
    ck_assert(!gw_app_id_ok(NULL));
    ck_assert(!gw_app_id_ok("a b"));
    ck_assert(!gw_app_id_ok("x'; DROP TABLE t;--"));
    ck_assert(!gw_app_id_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
END_TEST

static json_t *
sample_report(void)
{
    return json_pack(
        "{s:{s:s, s:s, s:s}, s:{s:i, s:i}, s:[{s:s, s:i}], s:[], s:[{s:s, s:i}], "
        "s:[{s:s, s:s, s:i}], s:[{s:s, s:s}], s:{s:[{s:s, s:i}]}, s:{s:[]}}",
        "period", "from", "2026-11-01", "to", "2026-12-01", "tz", "UTC", "totals", "events", 10,
        "accesses", 7, "per_member", "member", "=HYPERLINK(\"http://evil\")", "accesses", 3,
        "per_clinician", "per_day", "day", "2026-11-02", "accesses", 7, "denials", "user",
        "dr,\"quoted\"", "reason", "consent", "status", 403, "break_glass", "user",
        "<script>alert(1)</script>", "reason", "unconscious & alone", "unusual_hours", "users",
        "user", "+night", "accesses", 2, "unusual_volume", "users");
}

START_TEST(report_csv_escapes_and_defuses_formulas)
{
    json_t *rep = sample_report();
    struct base_buf b;
    char *text;

    base_buf_init(&b, 1 << 20);
    ck_assert_int_eq(gw_app_report_csv(rep, &b), BASE_OK);
    ck_assert_int_eq(base_buf_append(&b, "", 1), BASE_OK);
    text = b.data;
    ck_assert_ptr_nonnull(strstr(text, "section,name,value\r\n"));
    ck_assert_ptr_nonnull(strstr(text, "totals,events,10\r\n"));
    ck_assert_ptr_nonnull(strstr(text, "section,member,accesses\r\n"));
    /* a formula becomes text; quotes doubled */
    ck_assert_ptr_nonnull(strstr(text, "per_member,\"'=HYPERLINK(\"\"http://evil\"\")\",3"));
    ck_assert_ptr_nonnull(strstr(text, "\"dr,\"\"quoted\"\"\""));
    ck_assert_ptr_nonnull(strstr(text, "unusual_hours,\"'+night\",2"));
    ck_assert_ptr_null(strstr(text, "\nper_clinician"));
    base_buf_fini(&b);
    json_decref(rep);
}
END_TEST

START_TEST(report_html_escapes_everything)
{
    json_t *rep = sample_report();
    struct base_buf b;
    char *text;

    base_buf_init(&b, 1 << 20);
    ck_assert_int_eq(gw_app_report_html(rep, &b), BASE_OK);
    ck_assert_int_eq(base_buf_append(&b, "", 1), BASE_OK);
    text = b.data;
    ck_assert_ptr_null(strstr(text, "<script>"));
    ck_assert_ptr_nonnull(strstr(text, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(text, "unconscious &amp; alone"));
    ck_assert_ptr_nonnull(strstr(text, "<h2>Break-the-glass accesses</h2>"));
    ck_assert_ptr_nonnull(strstr(text, "<p>none</p>"));
    base_buf_fini(&b);
    json_decref(rep);
}
END_TEST

START_TEST(report_rendering_respects_the_buffer_limit)
{
    json_t *rep = sample_report();
    struct base_buf b;

    base_buf_init(&b, 64);
    ck_assert_int_eq(gw_app_report_csv(rep, &b), BASE_E_LIMIT);
    base_buf_fini(&b);
    base_buf_init(&b, 64);
    ck_assert_int_eq(gw_app_report_html(rep, &b), BASE_E_LIMIT);
    base_buf_fini(&b);
    json_decref(rep);
}
END_TEST

Suite *
gw_api_suite(void)
{
    Suite *s = suite_create("gw_api");
    TCase *tc = tcase_create("api");

    tcase_add_test(tc, capability_statement_is_valid_and_complete);
    tcase_add_test(tc, clinical_types_and_ids);
    tcase_add_test(tc, capability_statement_terse);
    tcase_add_test(tc, capability_search_types);
    tcase_add_test(tc, report_csv_escapes_and_defuses_formulas);
    tcase_add_test(tc, report_html_escapes_everything);
    tcase_add_test(tc, report_rendering_respects_the_buffer_limit);
    suite_add_tcase(s, tc);
    return s;
}
