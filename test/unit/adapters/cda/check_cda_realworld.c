/*
 * CDA documents as other hospitals' systems write them (written for these
 * tests in the styles of C-CDA R2.1 exports and China's WS/T 500 shared
 * documents): each test pins one fix and fails without it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

/* A WS/T 500 header (GB/T 2261.1 gender, national OIDs) around `body`. */
#define WST_DOC(ids, body)                                                                         \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "                                                  \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                     \
    "<realmCode code=\"CN\"/><typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_MT000040\"/>" \
    "<templateId root=\"2.16.156.10011.2.1.1.69\"/>"                                               \
    "<id root=\"2.16.156.10011.1.1\" extension=\"RN-1\"/>"                                         \
    "<code code=\"C0049\" codeSystem=\"2.16.156.10011.2.4\"/><title>出院记录</title>"              \
    "<effectiveTime value=\"20240320093000\"/>"                                                    \
    "<recordTarget><patientRole>" ids "<patient>"                                                  \
    "<id root=\"2.16.156.10011.1.3\" extension=\"110101199003077316\"/><name>王小明</name>"        \
    "<administrativeGenderCode code=\"1\" codeSystem=\"2.16.156.10011.2.3.3.4\"/>"                 \
    "</patient></patientRole></recordTarget>"                                                      \
    "<component><structuredBody>" body "</structuredBody></component></ClinicalDocument>"

#define WST_SECTION(loinc, entries)                                                                \
    "<component><section><code code=\"" loinc "\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/>"  \
    entries "</section></component>"

#define WST_OBS(de, value, inner)                                                                  \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"" de                      \
    "\" codeSystem=\"2.16.156.10011.2.2.1\"/>" value inner "</observation></entry>"

static json_t *
convert_ok(const char *xml, json_t **warnings)
{
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(xml, NULL, NULL, warnings, &err, &rc);

    ck_assert_msg(rc == BASE_OK, "%s: %s", err.where, err.msg);
    return b;
}

/* ------------------------------------------------------------ identifiers */

START_TEST(empty_extension_is_no_identifier)
{
    /* WS/T 500 exports write extension="" for a number the patient lacks */
    static const char doc[] = WST_DOC("<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>"
                                      "<id root=\"2.16.156.10011.1.19\" extension=\"\"/>"
                                      "<id root=\"2.16.156.10011.1.11\" extension=\" \"/>",
                                      "");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);
    json_t *ids = json_object_get(p, "identifier");

    ck_assert_uint_eq(json_array_size(ids), 2);
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"), "urn:oid:2.16.156.10011.1.12");
    ck_assert_str_eq(tu_json_str(p, "identifier.1.system"), "urn:oid:2.16.156.10011.1.3");
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------ WS/T 500 diagnoses */

START_TEST(wst_diagnosis_section_maps_only_diagnoses)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION(
            "11535-2",
            WST_OBS("DE05.10.148.00", "<value xsi:type=\"ST\">患者因发热入院</value>", "")
                WST_OBS("DE06.00.092.00", "<value xsi:type=\"TS\" value=\"20240310080000\"/>", "")
                    WST_OBS("DE05.01.025.00", "<value xsi:type=\"ST\">社区获得性肺炎</value>",
                            "<entryRelationship typeCode=\"COMP\"><observation classCode=\"OBS\" "
                            "moodCode=\"EVN\"><code code=\"DE05.01.024.00\" "
                            "codeSystem=\"2.16.156.10011.2.2.1\"/><value xsi:type=\"CD\" "
                            "code=\"J18.901\" codeSystem=\"2.16.156.10011.2.3.3.11.3\" "
                            "displayName=\"社区获得性肺炎\"/></observation></entryRelationship>")
                        WST_OBS("DE05.01.024.00",
                                "<value xsi:type=\"CD\" code=\"I10.x00\" "
                                "codeSystem=\"2.16.156.10011.2.3.3.11.3\"/>",
                                "") WST_OBS("DE06.00.287.00",
                                            "<value xsi:type=\"ST\">注意休息</value>", "")));
    json_t *b = convert_ok(doc, NULL);
    json_t *first = nth(b, "Condition", 0);
    json_t *second = nth(b, "Condition", 1);

    /* admission state, admission date and discharge orders are no conditions */
    ck_assert_uint_eq(count_type(b, "Condition"), 2);
    ck_assert_str_eq(tu_json_str(first, "code.text"), "社区获得性肺炎");
    ck_assert_str_eq(tu_json_str(first, "code.coding.0.code"), "J18.901");
    ck_assert_str_eq(tu_json_str(first, "code.coding.0.system"),
                     "urn:oid:2.16.156.10011.2.3.3.11.3");
    ck_assert_str_eq(tu_json_str(first, "category.0.coding.0.code"), "encounter-diagnosis");
    ck_assert_str_eq(tu_json_str(second, "code.coding.0.code"), "I10.x00");
    json_decref(b);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *cda_realworld_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("cda_realworld");
    TCase *ids = tcase_create("identifiers");
    TCase *wst = tcase_create("wst500");

    tcase_add_test(ids, empty_extension_is_no_identifier);
    tcase_add_test(wst, wst_diagnosis_section_maps_only_diagnoses);
    suite_add_tcase(s, ids);
    suite_add_tcase(s, wst);
    return s;
}
