/*
 * test/unit/gateway/registry/check_registry.c — member records: the field
 * checks (each refusal), status names, and the FHIR Organization and
 * Endpoint built from a member, validated against R4.
 */
#include <check.h>
#include <string.h>

#include "fhir/validate/fhir_validate.h"
#include "gateway/registry/gw_registry.h"

static struct gw_registry_member
good(void)
{
    struct gw_registry_member m = {.id = "hosp-a",
                                   .name = "Hospital A 第一医院",
                                   .base = "https://a.example:9443/fhir",
                                   .status = GW_REGISTRY_ACTIVE,
                                   .cert_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef"
                                                  "0123456789abcdef",
                                   .cert_subject = "O=Hospital A,CN=hosp-a",
                                   .source = "admin"};

    return m;
}

START_TEST(a_good_member_passes)
{
    struct gw_registry_member m = good();
    struct base_err err = {0};

    ck_assert_int_eq(gw_registry_member_check(&m, false, &err), BASE_OK);
    m.cert_sha256 = NULL;
    m.cert_subject = NULL;
    ck_assert_int_eq(gw_registry_member_check(&m, false, &err), BASE_OK);
}
END_TEST

START_TEST(each_bad_field_is_named)
{
    static const struct {
        const char *field;
        const char *value;
        bool allow_http;
    } bad[] = {
        {"id", "Hosp A", false},           {"id", "", false},
        {"id", NULL, false},               {"name", "", false},
        {"name", "tab\there", false},      {"base", "http://a.example/fhir", false},
        {"base", "https://a.example/fhir/", false}, {"base", "https://a.example/fhir?x=1", false},
        {"base", "ftp://a.example/fhir", true},     {"base", "https://a", false},
        {"cert_sha256", "ABCDEF", false},  {"cert_sha256", "0123", false},
        {"cert_subject", "bad\nline", false},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gw_registry_member m = good();
        struct base_err err = {0};

        if (strcmp(bad[i].field, "id") == 0)
            m.id = bad[i].value;
        else if (strcmp(bad[i].field, "name") == 0)
            m.name = bad[i].value;
        else if (strcmp(bad[i].field, "base") == 0)
            m.base = bad[i].value;
        else if (strcmp(bad[i].field, "cert_sha256") == 0)
            m.cert_sha256 = bad[i].value;
        else
            m.cert_subject = bad[i].value;
        ck_assert_int_eq(gw_registry_member_check(&m, bad[i].allow_http, &err), BASE_E_INVALID);
        ck_assert_msg(strcmp(err.where, bad[i].field == NULL ? "" : bad[i].field) == 0 ||
                          (strcmp(bad[i].field, "id") == 0 && strcmp(err.where, "member") == 0),
                      "case %zu: where %s", i, err.where);
    }
    /* plain http only where allowed (tests) */
    {
        struct gw_registry_member m = good();
        struct base_err err = {0};

        m.base = "http://127.0.0.1:8080/fhir";
        ck_assert_int_eq(gw_registry_member_check(&m, true, &err), BASE_OK);
    }
}
END_TEST

START_TEST(status_names_round_trip)
{
    enum gw_registry_status s;

    for (int i = GW_REGISTRY_PENDING; i <= GW_REGISTRY_DISABLED; i++) {
        ck_assert(gw_registry_status_parse(gw_registry_status_name((enum gw_registry_status)i),
                                           &s));
        ck_assert_int_eq((int)s, i);
    }
    ck_assert(!gw_registry_status_parse("Active", &s));
    ck_assert(!gw_registry_status_parse(NULL, &s));
    ck_assert_str_eq(gw_registry_status_name((enum gw_registry_status)9), "unknown");
}
END_TEST

static void
assert_valid(json_t *res, const char *type)
{
    struct fhir_validate_opts o = {.expect_type = type};
    struct fhir_validate_result vr = {0};
    struct base_err err = {0};

    ck_assert_ptr_nonnull(res);
    ck_assert_msg(fhir_validate(res, &o, NULL, &vr, &err) == BASE_OK, "%s: %s: %s", type,
                  err.where, err.msg);
    json_decref(res);
}

START_TEST(organization_and_endpoint_are_valid_r4)
{
    struct gw_registry_member m = good();
    json_t *ep;

    for (int st = GW_REGISTRY_PENDING; st <= GW_REGISTRY_DISABLED; st++) {
        m.status = (enum gw_registry_status)st;
        assert_valid(gw_registry_organization(&m), "Organization");
        assert_valid(gw_registry_endpoint(&m), "Endpoint");
    }
    ep = gw_registry_endpoint(&m);
    ck_assert_str_eq(json_string_value(json_object_get(ep, "status")), "off");
    ck_assert_str_eq(json_string_value(json_object_get(ep, "address")), m.base);
    ck_assert_ptr_nonnull(json_object_get(ep, "extension"));
    json_decref(ep);
    m.cert_sha256 = NULL;
    ep = gw_registry_endpoint(&m);
    ck_assert_ptr_null(json_object_get(ep, "extension"));
    json_decref(ep);
}
END_TEST

START_TEST(member_json_for_the_admin_api)
{
    struct gw_registry_member m = good();
    json_t *v;

    m.health.probed = true;
    m.health.up = true;
    m.health.last_probe_ms = 1795000000000;
    m.health.last_up_ms = 1795000000000;
    m.health.latency_us = 12000;
    v = gw_registry_member_json(&m);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "active");
    ck_assert(json_is_true(json_object_get(json_object_get(v, "health"), "up")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(v, "health"),
                                                        "latency_ms")),
                     12);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "health"), "last_seen")),
                     "2026-11-18T11:06:40Z");
    json_decref(v);
}
END_TEST

Suite *
gw_registry_suite(void)
{
    Suite *s = suite_create("gw_registry");
    TCase *tc = tcase_create("registry");

    tcase_add_test(tc, a_good_member_passes);
    tcase_add_test(tc, each_bad_field_is_named);
    tcase_add_test(tc, status_names_round_trip);
    tcase_add_test(tc, organization_and_endpoint_are_valid_r4);
    tcase_add_test(tc, member_json_for_the_admin_api);
    suite_add_tcase(s, tc);
    return s;
}
