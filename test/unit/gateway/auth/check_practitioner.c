/* The user's FHIR resource (SMART App Launch 2.x §fhirUser): Practitioner
 * ids from user names and back, the Practitioner itself, and which
 * principal names which resource. */
#include <check.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"

START_TEST(id_round_trip)
{
    static const struct {
        const char *user;
        const char *id;
    } cases[] = {
        {"dr.wang", "dr.wang"},
        {"li_ming@h1", "liUmingAh1"},
        {"a-b.c_d@e", "a-b.cUdAe"},
        {"7", "7"},
    };
    char id[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    char user[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    struct base_err err = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(gw_auth_practitioner_id(cases[i].user, id, sizeof(id), &err), BASE_OK);
        ck_assert_str_eq(id, cases[i].id);
        ck_assert_int_eq(gw_auth_practitioner_username(id, user, sizeof(user), &err), BASE_OK);
        ck_assert_str_eq(user, cases[i].user);
    }
}
END_TEST

START_TEST(id_refusals)
{
    static const char *const bad_ids[] = {
        "",
        "Dr.wang", /* upper case other than U and A names nobody */
        ".x",
        "Ux", /* a user name starts with a letter or digit */
        "a b",
        "a/b",
        "a%40b",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
        /* the raw characters: such an id would not map back to itself */
        "ds.7an@",
        "li_ming",
    };
    char out[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    struct base_err err = {0};

    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        memset(&err, 0, sizeof(err));
        ck_assert_int_eq(gw_auth_practitioner_username(bad_ids[i], out, sizeof(out), &err),
                         BASE_E_NOTFOUND);
        ck_assert_str_eq(err.where, "Practitioner.id");
        ck_assert_ptr_null(strstr(err.msg, bad_ids[i][0] != '\0' ? bad_ids[i] : "\x01"));
    }
    ck_assert_int_eq(gw_auth_practitioner_username(NULL, out, sizeof(out), &err), BASE_E_NOTFOUND);
    ck_assert_int_eq(gw_auth_practitioner_id("bad name", out, sizeof(out), &err), BASE_E_INVALID);
    ck_assert_int_eq(gw_auth_practitioner_id("dr.wang", out, 4, &err), BASE_E_INVALID);
}
END_TEST

START_TEST(practitioner_resource)
{
    struct gw_auth_user u = {7,    "zhang_wei", "张伟", GW_AUTH_ROLE_CLINICIAN, "hospital-a",
                             NULL, true,        "$hash"};
    json_t *p = gw_auth_practitioner(&u);
    const json_t *ident;
    char *text;

    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(json_string_value(json_object_get(p, "resourceType")), "Practitioner");
    ck_assert_str_eq(json_string_value(json_object_get(p, "id")), "zhangUwei");
    ident = json_array_get(json_object_get(p, "identifier"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ident, "system")), "urn:fhirgate:user");
    ck_assert_str_eq(json_string_value(json_object_get(ident, "value")), "zhang_wei");
    ck_assert(json_is_true(json_object_get(p, "active")));
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(p, "name"), 0), "text")),
        "张伟");
    text = json_dumps(p, 0);
    ck_assert_ptr_null(strstr(text, "$hash"));
    ck_assert_ptr_null(strstr(text, "hospital-a")); /* R4 Practitioner has no organization */
    free(text);
    json_decref(p);
    /* a disabled account is inactive; no display name, no name */
    u.is_enabled = false;
    u.display_name = NULL;
    u.role = GW_AUTH_ROLE_ADMIN;
    p = gw_auth_practitioner(&u);
    ck_assert(json_is_false(json_object_get(p, "active")));
    ck_assert_ptr_null(json_object_get(p, "name"));
    json_decref(p);
    /* a patient is their Patient, never a Practitioner */
    u.role = GW_AUTH_ROLE_PATIENT;
    ck_assert_ptr_null(gw_auth_practitioner(&u));
    ck_assert_ptr_null(gw_auth_practitioner(NULL));
}
END_TEST

START_TEST(fhir_user_per_role)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_principal p = {.role = GW_AUTH_ROLE_CLINICIAN, .subject = "dr.wang"};

    ck_assert_str_eq(gw_auth_fhir_user(a, &p), "Practitioner/dr.wang");
    p.role = GW_AUTH_ROLE_REGULATOR;
    p.subject = "reg@nhc";
    ck_assert_str_eq(gw_auth_fhir_user(a, &p), "Practitioner/regAnhc");
    p.role = GW_AUTH_ROLE_ADMIN;
    ck_assert_str_eq(gw_auth_fhir_user(a, &p), "Practitioner/regAnhc");
    p.role = GW_AUTH_ROLE_PATIENT;
    p.patient = "person-42";
    ck_assert_str_eq(gw_auth_fhir_user(a, &p), "Patient/person-42");
    p.patient = NULL;
    ck_assert_ptr_null(gw_auth_fhir_user(a, &p));
    p.role = GW_AUTH_ROLE_MEMBER_SYSTEM;
    p.subject = "hospital-a";
    ck_assert_ptr_null(gw_auth_fhir_user(a, &p));
    base_arena_free(a);
}
END_TEST

Suite *
gw_auth_practitioner_suite(void)
{
    Suite *s = suite_create("gw_auth_practitioner");
    TCase *tc = tcase_create("practitioner");

    tcase_add_test(tc, id_round_trip);
    tcase_add_test(tc, id_refusals);
    tcase_add_test(tc, practitioner_resource);
    tcase_add_test(tc, fhir_user_per_role);
    suite_add_tcase(s, tc);
    return s;
}
