#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/policy/gw_policy.h"
#include "test/support/testutil.h"

#define NOW_2026 1795000000000000LL /* 2026-11-17, UTC microseconds */

static json_t *
js(const char *text)
{
    json_t *v = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_json_parse(text, strlen(text), NULL, &v, &err) == BASE_OK, "%s", err.msg);
    return v;
}

#define CONSENT_HEAD                                                                               \
    "{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":"     \
    "\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},"      \
    "\"category\":[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}],"       \
    "\"patient\":{\"reference\":\"Patient/p1\"},"
#define POLICY(code)                                                                               \
    "\"policyRule\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\"," \
    "\"code\":\"" code "\"}]}"
#define CST(org)                                                                                   \
    "{\"role\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"                  \
    "v3-ParticipationType\",\"code\":\"CST\"}]},\"reference\":{\"reference\":\"Organization/" org  \
    "\"}}"

static struct gw_policy_consent *
compile1(struct base_arena *a, const char *text)
{
    json_t *c = js(text);
    const json_t *list[1] = {c};
    struct gw_policy_consent *pc = NULL;
    struct base_err err = {0};

    ck_assert_msg(gw_policy_consent_compile(a, list, 1, NOW_2026, &pc, &err) == BASE_OK, "%s",
                  err.msg);
    ck_assert_int_eq(fhir_json_tie(a, c), BASE_OK); /* rule strings point into c */
    return pc;
}

static struct gw_policy_request
clinician(enum gw_auth_pou pou, const char *reason)
{
    struct gw_policy_request r = {GW_AUTH_ROLE_CLINICIAN, true, pou, base_str_from_cstr(reason),
                                  false};

    return r;
}

static bool
allowed(const struct gw_policy_consent *c, const struct gw_policy_decision *d, const char *member,
        const char *type, const char *label)
{
    struct base_str l = base_str_from_cstr(label);

    return gw_policy_entry_allowed(c, d, base_str_from_cstr(member), base_str_from_cstr(type), &l,
                                   label != NULL ? 1 : 0);
}

START_TEST(roles_and_purposes)
{
    struct gw_policy_decision d;
    struct gw_policy_request r = clinician(GW_AUTH_POU_TREAT, NULL);

    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_ALLOW);
    ck_assert(d.unrestricted);
    r.org_is_active_member = false;
    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_DENY);
    ck_assert_int_eq(d.reason, GW_POLICY_R_NOT_MEMBER);
    r = clinician(GW_AUTH_POU_HCOMPL, NULL);
    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.reason, GW_POLICY_R_PURPOSE);
    r.role = GW_AUTH_ROLE_REGULATOR;
    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.reason, GW_POLICY_R_ROLE);
    r.role = GW_AUTH_ROLE_ADMIN;
    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.reason, GW_POLICY_R_ROLE);
    r.role = GW_AUTH_ROLE_PATIENT;
    r.pou = GW_AUTH_POU_PATRQT;
    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.reason, GW_POLICY_R_NOT_OWN);
    r.is_own_record = true;
    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_ALLOW);
    r.pou = GW_AUTH_POU_TREAT;
    gw_policy_decide(&r, NULL, &d);
    ck_assert_int_eq(d.reason, GW_POLICY_R_PURPOSE);
    ck_assert_str_eq(gw_policy_reason_code(GW_POLICY_R_CONSENT), "consent");
}
END_TEST

START_TEST(opt_out_denies_and_break_glass_overrides)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_policy_consent *c = compile1(a, CONSENT_HEAD POLICY("OPTOUT") "}");
    struct gw_policy_decision d;
    struct gw_policy_request r = clinician(GW_AUTH_POU_TREAT, NULL);

    ck_assert(gw_policy_consent_opts_out(c));
    gw_policy_decide(&r, c, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_DENY);
    ck_assert_int_eq(d.reason, GW_POLICY_R_CONSENT);
    ck_assert(gw_policy_member_denied(c, &d, base_str_from_cstr("hosp-a")));
    ck_assert(!allowed(c, &d, "hosp-a", "Observation", NULL));

    r = clinician(GW_AUTH_POU_ETREAT, "");
    gw_policy_decide(&r, c, &d);
    ck_assert_int_eq(d.reason, GW_POLICY_R_REASON);

    r = clinician(GW_AUTH_POU_ETREAT, "unconscious patient in the ER");
    gw_policy_decide(&r, c, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_ALLOW_BTG);
    ck_assert(d.btg);
    ck_assert(d.consent_overridden);
    ck_assert(!gw_policy_member_denied(c, &d, base_str_from_cstr("hosp-a")));
    ck_assert(allowed(c, &d, "hosp-a", "Observation", "PSY"));
    base_arena_free(a);
}
END_TEST

/* The official example "consent-example-Out": opt out of sharing what
 * custodian Organization/f001 holds. */
START_TEST(official_opt_out_of_one_custodian)
{
    struct base_arena *a = base_arena_new(0);
    size_t len;
    char *text = tu_read_file(tu_corpus_path("fhir-r4-examples/json/"
                                             "Consent-consent-example-Out.json"),
                              &len);
    struct gw_policy_consent *c;
    struct gw_policy_decision d;
    struct gw_policy_request r = clinician(GW_AUTH_POU_TREAT, NULL);

    ck_assert_ptr_nonnull(text);
    c = compile1(a, text);
    ck_assert(!gw_policy_consent_opts_out(c));
    ck_assert(gw_policy_consent_restricts(c));
    gw_policy_decide(&r, c, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_ALLOW);
    ck_assert(!d.unrestricted);
    ck_assert(gw_policy_member_denied(c, &d, base_str_from_cstr("f001")));
    ck_assert(!gw_policy_member_denied(c, &d, base_str_from_cstr("f002")));
    ck_assert(!allowed(c, &d, "f001", "Condition", NULL));
    ck_assert(allowed(c, &d, "f002", "Condition", NULL));
    free(text);
    base_arena_free(a);
}
END_TEST

START_TEST(sensitive_labels_are_withheld)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_policy_consent *c = compile1(
        a, CONSENT_HEAD POLICY("OPTIN") ",\"provision\":{\"provision\":[{\"type\":\"deny\","
                                        "\"securityLabel\":[{\"system\":\"http://terminology.hl7."
                                        "org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"},{\"code\":"
                                        "\"HIV\"}]}]}}");
    struct gw_policy_decision d;
    struct gw_policy_request r = clinician(GW_AUTH_POU_TREAT, NULL);

    gw_policy_decide(&r, c, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_ALLOW);
    ck_assert(!gw_policy_member_denied(c, &d, base_str_from_cstr("hosp-a")));
    ck_assert(!allowed(c, &d, "hosp-a", "Condition", "PSY"));
    ck_assert(!allowed(c, &d, "hosp-b", "Observation", "HIV"));
    ck_assert(allowed(c, &d, "hosp-a", "Condition", "ETH"));
    ck_assert(allowed(c, &d, "hosp-a", "Condition", NULL));
    base_arena_free(a);
}
END_TEST

START_TEST(opt_out_with_an_exception_for_one_member)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_policy_consent *c = compile1(
        a, CONSENT_HEAD POLICY("OPTOUTE") ",\"provision\":{\"provision\":[{\"actor\":[" CST(
               "hosp-a") "]}]}}");
    struct gw_policy_decision d;
    struct gw_policy_request r = clinician(GW_AUTH_POU_TREAT, NULL);

    ck_assert(!gw_policy_consent_opts_out(c)); /* the exception keeps hosp-a shared */
    gw_policy_decide(&r, c, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_ALLOW);
    ck_assert(allowed(c, &d, "hosp-a", "Observation", NULL));
    ck_assert(!allowed(c, &d, "hosp-b", "Observation", NULL));
    ck_assert(!gw_policy_member_denied(c, &d, base_str_from_cstr("hosp-a")));
    /* hosp-b holds nothing that may be shared, but the root deny has a
     * permit below it, so hosp-b is still asked and its entries filtered */
    ck_assert(!allowed(c, &d, "hosp-b", "Encounter", "PSY"));
    base_arena_free(a);
}
END_TEST

START_TEST(resource_class_and_inactive_consents)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_policy_consent *c = compile1(
        a, CONSENT_HEAD POLICY("OPTIN") ",\"provision\":{\"provision\":[{\"type\":\"deny\","
                                        "\"class\":[{\"system\":\"http://hl7.org/fhir/"
                                        "resource-types\",\"code\":\"MedicationStatement\"}]}]}}");
    struct gw_policy_consent *c2;
    struct gw_policy_consent *c3;
    struct gw_policy_decision d;
    struct gw_policy_request r = clinician(GW_AUTH_POU_TREAT, NULL);

    gw_policy_decide(&r, c, &d);
    ck_assert(!allowed(c, &d, "hosp-a", "MedicationStatement", NULL));
    ck_assert(allowed(c, &d, "hosp-a", "MedicationRequest", NULL));

    c2 = compile1(a, "{\"resourceType\":\"Consent\",\"status\":\"inactive\",\"scope\":{\"coding\":"
                     "[{\"code\":\"patient-privacy\"}]}," POLICY("OPTOUT") "}");
    ck_assert(!gw_policy_consent_restricts(c2));
    /* expired: the period ended in 2016 */
    c3 = compile1(a, CONSENT_HEAD POLICY("OPTOUT") ",\"provision\":{\"period\":{\"start\":"
                                                   "\"2015-01-01\",\"end\":\"2016-01-01\"}}}");
    gw_policy_decide(&r, c3, &d);
    ck_assert_int_eq(d.verdict, GW_POLICY_ALLOW);
    ck_assert(d.unrestricted);
    base_arena_free(a);
}
END_TEST

START_TEST(limits_fail_closed)
{
    struct base_arena *a = base_arena_new(0);
    const json_t *many[GW_POLICY_MAX_CONSENTS + 1];
    json_t *one = js(CONSENT_HEAD POLICY("OPTOUT") "}");
    json_t *deep = js(CONSENT_HEAD POLICY("OPTIN") ",\"provision\":{\"provision\":[{\"provision\":"
                                                   "[{\"provision\":[{\"provision\":[{"
                                                   "\"provision\":[{}]}]}]}]}]}}");
    struct gw_policy_consent *c = NULL;
    struct base_err err = {0};
    const json_t *list[1] = {deep};

    for (size_t i = 0; i < GW_POLICY_MAX_CONSENTS + 1; i++)
        many[i] = one;
    ck_assert_int_eq(gw_policy_consent_compile(a, many, GW_POLICY_MAX_CONSENTS + 1, NOW_2026, &c,
                                               &err),
                     BASE_E_LIMIT);
    base_err_clear(&err);
    ck_assert_int_eq(gw_policy_consent_compile(a, list, 1, NOW_2026, &c, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "Consent.provision");
    json_decref(one);
    json_decref(deep);
    base_arena_free(a);
}
END_TEST

START_TEST(break_glass_reasons)
{
    ck_assert(gw_policy_reason_ok(BASE_STR_LIT("patient unconscious")));
    ck_assert(gw_policy_reason_ok(BASE_STR_LIT("\xe6\x82\xa3\xe8\x80\x85\xe6\x98\x8f\xe8\xbf\xb7"
                                               "\xe6\x80\xa5\xe6\x95\x91"))); /* 患者昏迷急救 */
    ck_assert(!gw_policy_reason_ok(BASE_STR_LIT("   ")));
    ck_assert(!gw_policy_reason_ok(BASE_STR_LIT("short")));
    ck_assert(!gw_policy_reason_ok(BASE_STR_LIT("reason with\na newline")));
    ck_assert(!gw_policy_reason_ok(BASE_STR_LIT("bad utf8 \xC3\x28 here")));
}
END_TEST

Suite *gw_policy_suite(void)
{
    Suite *s = suite_create("gw_policy");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, roles_and_purposes);
    tcase_add_test(tc, opt_out_denies_and_break_glass_overrides);
    tcase_add_test(tc, official_opt_out_of_one_custodian);
    tcase_add_test(tc, sensitive_labels_are_withheld);
    tcase_add_test(tc, opt_out_with_an_exception_for_one_member);
    tcase_add_test(tc, resource_class_and_inactive_consents);
    tcase_add_test(tc, limits_fail_closed);
    tcase_add_test(tc, break_glass_reasons);
    suite_add_tcase(s, tc);
    return s;
}
