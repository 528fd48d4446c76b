/*
 * Fifth sweep of other systems' documents: WS/T 500 FreeMarker templates of
 * all 53 document types from a Chinese integration project (会诊记录,
 * 输血记录, 住院医嘱, 麻醉记录, 分娩记录, 护理记录, 知情同意书, ...) filled
 * in, and C-CDA R2.1 exports of EHR vendors not used before.  Part of the
 * cda_vendors suite; each document is a minimal one written for the test,
 * one construct each, and each test fails without its fix.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

#define DE(code) "<code code=\"" code "\" codeSystem=\"2.16.156.10011.2.2.1\"/>"
#define ST(text) "<value xsi:type=\"ST\">" text "</value>"
#define CD(code) "<value xsi:type=\"CD\" code=\"" code "\" codeSystem=\"2.16.156.10011.2.3.3.14\"/>"

/* 会诊记录 (C0045) writes each diagnosis as two entries side by side, the
 * name (ST) and then its code (CD), each its own data element: one
 * diagnosis became two Conditions, one of them without a code. */
START_TEST(wst_diagnosis_name_and_code_as_two_entries)
{
    static const char doc[] =
        WST_DOC("", WST_SECTION("29548-5",
                                WST_OBS("DE05.01.025.00", ST("2型糖尿病"), "")
                                    WST_OBS("DE05.01.024.00",
                                            "<value xsi:type=\"CD\" code=\"E11.900\" "
                                            "codeSystem=\"2.16.156.10011.2.3.3.11\"/>",
                                            "") WST_OBS("DE05.10.172.00", ST("消渴病"), "")
                                        WST_OBS("DE05.10.130.00", CD("BNV060"), "")
                                            WST_OBS("DE05.10.172.00", ST("气阴两虚证"), "")
                                                WST_OBS("DE05.10.130.00", CD("ZYV260"), "")
                                                    WST_OBS("DE05.10.172.00", ST("眩晕病"), "")));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "Condition"), 4);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.coding.0.code"), "E11.900");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.text"), "2型糖尿病");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 1), "code.coding.0.code"), "BNV060");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 1), "code.text"), "消渴病");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 2), "code.coding.0.code"), "ZYV260");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 2), "code.text"), "气阴两虚证");
    /* a name with no code after it stays a Condition of that name */
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 3), "code.text"), "眩晕病");
    ck_assert_ptr_null(tu_json_at(nth(b, "Condition", 3), "code.coding"));
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

void
cda_vendors_round5_tcases(Suite *s)
{
    TCase *t = tcase_create("round5");

    tcase_add_test(t, wst_diagnosis_name_and_code_as_two_entries);
    suite_add_tcase(s, t);
}
