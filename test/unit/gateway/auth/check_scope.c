/* SMART scopes: parser table, permission checks, intersection, role rules;
 * roles and purposes of use. */
#include <check.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"

static const struct {
    const char *in;
    int rc;
    const char *formatted; /* canonical text after parsing */
} parse_cases[] = {
    {"user/Observation.read", BASE_OK, "user/Observation.read"},
    {"patient/*.read", BASE_OK, "patient/*.read"},
    {"system/AuditEvent.read", BASE_OK, "system/AuditEvent.read"},
    {"user/*.*", BASE_OK, "user/*.*"},
    {"user/Patient.write", BASE_OK, "user/Patient.write"},
    {"user/Observation.rs", BASE_OK, "user/Observation.rs"},
    {"system/*.cruds", BASE_OK, "system/*.cruds"},
    {"patient/Observation.r", BASE_OK, "patient/Observation.r"},
    {"user/Observation.cd", BASE_OK, "user/Observation.cd"},
    {"openid fhirUser user/Encounter.rs", BASE_OK, "openid fhirUser user/Encounter.rs"},
    {"  launch   profile user/Encounter.s  ", BASE_OK, "user/Encounter.s"},
    {"offline_access", BASE_OK, "offline_access"},
    /* duplicates merge; a v1 read and a v2 c merge into v2 */
    {"user/Observation.r user/Observation.s", BASE_OK, "user/Observation.rs"},
    {"user/Observation.read user/Observation.c", BASE_OK, "user/Observation.crs"},
    /* v2 query restrictions parse but are never granted or written */
    {"patient/Observation.rs?category=laboratory", BASE_OK, ""},
    {"", BASE_OK, ""},
    {"user/Observation.sr", BASE_E_INVALID, NULL},
    {"user/Observation.rr", BASE_E_INVALID, NULL},
    {"user/Observation.x", BASE_E_INVALID, NULL},
    {"user/Observation.", BASE_E_INVALID, NULL},
    {"user/Observation", BASE_E_INVALID, NULL},
    {"user/observation.read", BASE_E_INVALID, NULL},
    {"user/Obs-ervation.read", BASE_E_INVALID, NULL},
    {"user/.read", BASE_E_INVALID, NULL},
    {"patient/", BASE_E_INVALID, NULL},
    {"user/Observation.read?x=1", BASE_E_INVALID, NULL},
    {"user/Observation.rs?", BASE_E_INVALID, NULL},
    {"user/Observation.rs\"", BASE_E_INVALID, NULL},
    {"user/Observation.r\\s", BASE_E_INVALID, NULL},
};

START_TEST(parse_table)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        struct base_arena *a = base_arena_new(0);
        struct gw_auth_scopes s;
        struct base_err err = {0};
        int rc = gw_auth_scopes_parse(a, base_str_from_cstr(parse_cases[i].in), &s, &err);

        ck_assert_msg(rc == parse_cases[i].rc, "case %zu (%s): rc %d", i, parse_cases[i].in, rc);
        if (rc == BASE_OK) {
            struct base_buf b;

            base_buf_init(&b, 0);
            ck_assert_int_eq(gw_auth_scopes_format(&s, &b, &err), BASE_OK);
            ck_assert_msg(strcmp(b.data != NULL ? b.data : "", parse_cases[i].formatted) == 0,
                          "case %zu: got '%s'", i, b.data != NULL ? b.data : "");
            base_buf_fini(&b);
        } else {
            ck_assert_ptr_nonnull(strstr(err.where, "scope["));
        }
        base_arena_free(a);
    }
}
END_TEST

START_TEST(parse_limits)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_scopes s;
    struct base_err err = {0};
    char big[BASE_LIMIT_AUTH_MAX_SCOPE_LEN + 32];
    char many[BASE_LIMIT_AUTH_MAX_SCOPES * 8 + 8] = "";

    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "user/", 5);
    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(big), &s, &err), BASE_E_LIMIT);
    base_err_clear(&err);
    for (unsigned i = 0; i <= BASE_LIMIT_AUTH_MAX_SCOPES; i++)
        memcpy(many + i * 7, "openid ", 8);
    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(many), &s, &err), BASE_E_LIMIT);
    base_arena_free(a);
}
END_TEST

static bool
allows(const char *scopes, const char *type, enum gw_auth_interaction i)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_scopes s;
    bool r;

    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(scopes), &s, NULL), BASE_OK);
    r = gw_auth_scope_allows(&s, type, i);
    base_arena_free(a);
    return r;
}

START_TEST(allows_per_interaction)
{
    ck_assert(allows("user/Observation.read", "Observation", GW_AUTH_READ));
    ck_assert(allows("user/Observation.read", "Observation", GW_AUTH_SEARCH));
    ck_assert(!allows("user/Observation.read", "Observation", GW_AUTH_CREATE));
    ck_assert(!allows("user/Observation.read", "Condition", GW_AUTH_READ));
    ck_assert(allows("user/*.read", "Condition", GW_AUTH_VREAD));
    ck_assert(allows("patient/*.*", "Condition", GW_AUTH_DELETE));
    ck_assert(allows("user/Observation.write", "Observation", GW_AUTH_UPDATE));
    ck_assert(allows("user/Observation.write", "Observation", GW_AUTH_PATCH));
    ck_assert(!allows("user/Observation.write", "Observation", GW_AUTH_READ));
    ck_assert(allows("user/Observation.s", "Observation", GW_AUTH_SEARCH));
    ck_assert(allows("user/Observation.s", "Observation", GW_AUTH_HISTORY_TYPE));
    ck_assert(!allows("user/Observation.s", "Observation", GW_AUTH_READ));
    ck_assert(allows("user/Observation.r", "Observation", GW_AUTH_HISTORY_INSTANCE));
    ck_assert(allows("system/AuditEvent.read", "AuditEvent", GW_AUTH_SEARCH));
    ck_assert(!allows("system/AuditEvent.read", "Observation", GW_AUTH_SEARCH));
    ck_assert(!allows("patient/Observation.rs?category=laboratory", "Observation", GW_AUTH_READ));
    ck_assert(!allows("openid fhirUser", "Patient", GW_AUTH_READ));
    ck_assert(!allows("", "Patient", GW_AUTH_READ));
    ck_assert(!allows("user/*.rs", NULL, GW_AUTH_READ));
    ck_assert(!allows("user/*.rs", "Patient", (enum gw_auth_interaction)99));
}
END_TEST

static char *
narrow(struct base_arena *a, const char *x, const char *y)
{
    struct gw_auth_scopes sx;
    struct gw_auth_scopes sy;
    struct gw_auth_scopes out;
    struct base_buf b;
    char *s;

    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(x), &sx, NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(y), &sy, NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_scopes_intersect(a, &sx, &sy, &out, NULL), BASE_OK);
    base_buf_init(&b, 0);
    ck_assert_int_eq(gw_auth_scopes_format(&out, &b, NULL), BASE_OK);
    s = base_arena_strdup(a, b.data != NULL ? b.data : "");
    base_buf_fini(&b);
    return s;
}

START_TEST(intersection)
{
    struct base_arena *a = base_arena_new(0);

    ck_assert_str_eq(narrow(a, "user/*.*", "user/*.rs"), "user/*.read");
    ck_assert_str_eq(narrow(a, "user/*.cruds", "user/Observation.rs"), "user/Observation.rs");
    ck_assert_str_eq(narrow(a, "user/Observation.read", "user/*.rs"), "user/Observation.read");
    ck_assert_str_eq(narrow(a, "user/Observation.read", "patient/*.rs"), "");
    ck_assert_str_eq(narrow(a, "user/Observation.c", "user/*.rs"), "");
    ck_assert_str_eq(narrow(a, "user/Observation.read", "user/Condition.rs"), "");
    ck_assert_str_eq(narrow(a, "openid user/Patient.r", "openid fhirUser user/*.r"),
                     "openid user/Patient.r");
    ck_assert_str_eq(
        narrow(a, "system/Observation.rs system/Condition.rs", "system/*.r system/Condition.s"),
        "system/Observation.r system/Condition.rs");
    base_arena_free(a);
}
END_TEST

static int
check_role(const char *scopes, enum gw_auth_role role, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_scopes s;
    int rc;

    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(scopes), &s, NULL), BASE_OK);
    rc = gw_auth_scopes_check_role(&s, role, err);
    base_arena_free(a);
    return rc;
}

START_TEST(role_rules)
{
    struct base_err err = {0};

    ck_assert_int_eq(check_role("patient/*.rs", GW_AUTH_ROLE_PATIENT, NULL), BASE_OK);
    ck_assert_int_eq(check_role("patient/Observation.read", GW_AUTH_ROLE_PATIENT, NULL), BASE_OK);
    ck_assert_int_eq(check_role("user/Observation.rs", GW_AUTH_ROLE_PATIENT, &err), BASE_E_AUTH);
    ck_assert_str_eq(err.issue_code, "forbidden");
    ck_assert_str_eq(err.where, "scope[0]");
    ck_assert_int_eq(check_role("patient/Observation.c", GW_AUTH_ROLE_PATIENT, NULL), BASE_E_AUTH);
    ck_assert_int_eq(check_role("user/*.rs openid", GW_AUTH_ROLE_CLINICIAN, NULL), BASE_OK);
    ck_assert_int_eq(check_role("system/*.rs", GW_AUTH_ROLE_CLINICIAN, NULL), BASE_E_AUTH);
    ck_assert_int_eq(check_role("user/AuditEvent.rs", GW_AUTH_ROLE_REGULATOR, NULL), BASE_OK);
    ck_assert_int_eq(check_role("system/AuditEvent.read", GW_AUTH_ROLE_REGULATOR, NULL), BASE_OK);
    ck_assert_int_eq(check_role("user/Observation.rs", GW_AUTH_ROLE_REGULATOR, NULL), BASE_E_AUTH);
    ck_assert_int_eq(check_role("user/Organization.cruds", GW_AUTH_ROLE_ADMIN, NULL), BASE_OK);
    ck_assert_int_eq(check_role("user/Patient.r", GW_AUTH_ROLE_ADMIN, NULL), BASE_E_AUTH);
    ck_assert_int_eq(check_role("system/*.rs", GW_AUTH_ROLE_MEMBER_SYSTEM, NULL), BASE_OK);
    ck_assert_int_eq(check_role("system/*.c", GW_AUTH_ROLE_MEMBER_SYSTEM, NULL), BASE_E_AUTH);
    /* users may let an app keep access (refresh tokens); systems never */
    ck_assert_int_eq(check_role("offline_access", GW_AUTH_ROLE_CLINICIAN, NULL), BASE_OK);
    ck_assert_int_eq(check_role("online_access", GW_AUTH_ROLE_PATIENT, NULL), BASE_OK);
    ck_assert_int_eq(check_role("offline_access", GW_AUTH_ROLE_MEMBER_SYSTEM, NULL), BASE_E_AUTH);
    ck_assert_int_eq(check_role("user/*.rs", GW_AUTH_ROLE_NONE, NULL), BASE_E_AUTH);
}
END_TEST

static bool
within(const char *s, const char *ceiling)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_scopes x;
    struct gw_auth_scopes y;
    bool ok;

    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(s), &x, NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_scopes_parse(a, base_str_from_cstr(ceiling), &y, NULL), BASE_OK);
    ok = gw_auth_scopes_within(&x, &y);
    base_arena_free(a);
    return ok;
}

/* RFC 6749 §6: a refresh may narrow the grant, never widen it. */
START_TEST(within_allows_narrowing_only)
{
    ck_assert(within("patient/*.rs offline_access", "patient/*.rs offline_access openid"));
    ck_assert(within("patient/Observation.r", "patient/*.rs"));
    ck_assert(within("patient/Observation.read", "patient/*.rs"));
    ck_assert(within("", "patient/*.rs"));
    ck_assert(!within("patient/*.rs", "patient/Observation.rs"));
    ck_assert(!within("patient/*.cruds", "patient/*.rs"));
    ck_assert(!within("user/*.rs", "patient/*.rs"));
    ck_assert(!within("patient/*.rs openid", "patient/*.rs"));
    ck_assert(!within("patient/*.rs online_access", "patient/*.rs offline_access"));
    /* a restricted ceiling scope covers nothing (its restriction is not kept) */
    ck_assert(!within("patient/Observation.rs", "patient/Observation.rs?category=laboratory"));
}
END_TEST

START_TEST(restrict_to_role_narrows)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_scopes s;
    struct gw_auth_scopes out;
    struct base_buf b;

    ck_assert_int_eq(
        gw_auth_scopes_parse(a, base_str_from_cstr("patient/*.* user/*.* openid"), &s, NULL),
        BASE_OK);
    ck_assert_int_eq(gw_auth_scopes_restrict_to_role(a, &s, GW_AUTH_ROLE_PATIENT, &out, NULL),
                     BASE_OK);
    base_buf_init(&b, 0);
    ck_assert_int_eq(gw_auth_scopes_format(&out, &b, NULL), BASE_OK);
    ck_assert_str_eq(b.data, "openid patient/*.read");
    base_buf_fini(&b);
    base_arena_free(a);
}
END_TEST

START_TEST(roles_and_purposes)
{
    enum gw_auth_role r;
    enum gw_auth_pou p;

    ck_assert(gw_auth_role_parse(base_str_from_cstr("member-system"), &r));
    ck_assert_int_eq(r, GW_AUTH_ROLE_MEMBER_SYSTEM);
    ck_assert(!gw_auth_role_parse(base_str_from_cstr("Clinician"), &r));
    ck_assert_str_eq(gw_auth_role_name(GW_AUTH_ROLE_REGULATOR), "regulator");
    ck_assert_str_eq(gw_auth_role_name(GW_AUTH_ROLE_NONE), "none");
    ck_assert(gw_auth_pou_parse(base_str_from_cstr("ETREAT"), &p));
    ck_assert(gw_auth_pou_is_emergency(p));
    ck_assert(!gw_auth_pou_is_emergency(GW_AUTH_POU_TREAT));
    ck_assert(!gw_auth_pou_parse(base_str_from_cstr("treat"), &p));
    ck_assert_str_eq(gw_auth_pou_code(GW_AUTH_POU_HCOMPL), "HCOMPL");
    ck_assert_str_eq(gw_auth_pou_display(GW_AUTH_POU_TREAT), "treatment");
    ck_assert_int_eq(gw_auth_role_default_pou(GW_AUTH_ROLE_CLINICIAN), GW_AUTH_POU_TREAT);
    ck_assert_int_eq(gw_auth_role_default_pou(GW_AUTH_ROLE_PATIENT), GW_AUTH_POU_PATRQT);
    ck_assert(gw_auth_role_allows_pou(GW_AUTH_ROLE_CLINICIAN, GW_AUTH_POU_ETREAT));
    ck_assert(!gw_auth_role_allows_pou(GW_AUTH_ROLE_PATIENT, GW_AUTH_POU_ETREAT));
    ck_assert(!gw_auth_role_allows_pou(GW_AUTH_ROLE_REGULATOR, GW_AUTH_POU_TREAT));
    ck_assert(!gw_auth_role_allows_pou(GW_AUTH_ROLE_NONE, GW_AUTH_POU_TREAT));
    /* every role's default purpose is one it may claim, and its default
     * scopes lie within its ceiling */
    for (int role = GW_AUTH_ROLE_CLINICIAN; role <= GW_AUTH_ROLE_MEMBER_SYSTEM; role++) {
        ck_assert(gw_auth_role_allows_pou(role, gw_auth_role_default_pou(role)));
        ck_assert_int_eq(check_role(gw_auth_role_default_scopes(role), role, NULL), BASE_OK);
    }
}
END_TEST

Suite *gw_auth_scope_suite(void)
{
    Suite *s = suite_create("gw_auth_scope");
    TCase *tc = tcase_create("scope");

    tcase_add_test(tc, parse_table);
    tcase_add_test(tc, parse_limits);
    tcase_add_test(tc, allows_per_interaction);
    tcase_add_test(tc, intersection);
    tcase_add_test(tc, role_rules);
    tcase_add_test(tc, within_allows_narrowing_only);
    tcase_add_test(tc, restrict_to_role_narrows);
    tcase_add_test(tc, roles_and_purposes);
    suite_add_tcase(s, tc);
    return s;
}
