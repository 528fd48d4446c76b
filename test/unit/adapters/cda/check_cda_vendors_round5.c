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
#include <stdlib.h>
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

#define COMP(obs) "<entryRelationship typeCode=\"COMP\">" obs "</entryRelationship>"
#define OBS(code, value)                                                                           \
    "<observation classCode=\"OBS\" moodCode=\"EVN\">" DE(code) value "</observation>"

/* 麻醉记录 (C0011): the drugs given go to a section coded 18610-6
 * (Medication administered), the anesthesia itself to 59774-0 (C-CDA's
 * Anesthesia Section, 2.16.840.1.113883.10.20.22.2.25): neither section
 * was read, so the anesthetic and its method were lost without a word. */
START_TEST(wst_anesthesia_and_drugs_administered)
{
    static const char doc[] = WST_DOC(
        "",
        WST_SECTION(
            "18610-6",
            "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><consumable>"
            "<manufacturedProduct><manufacturedLabeledDrug><code/><name>丙泊酚注射液</name>"
            "</manufacturedLabeledDrug></manufacturedProduct></consumable>"
            "</substanceAdministration></entry>")
            WST_SECTION("59774-0",
                        "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\"><code code=\"01\" "
                        "codeSystem=\"2.16.156.10011.2.3.1.159\" displayName=\"全身麻醉\"/>"
                        "<effectiveTime><low value=\"20240315\"/></effectiveTime>"
                        "</procedure></entry>"));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 1);
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 0), "medicationCodeableConcept.text"),
        "丙泊酚注射液");
    ck_assert_uint_eq(count_type(b, "Procedure"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 0), "code.coding.0.code"), "01");
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 0), "code.coding.0.system"),
                     "urn:oid:2.16.156.10011.2.3.1.159");
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 0), "performedDateTime"), "2024-03-15");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* 输血记录 (C0013): a transfusion is a procedure without a code in the
 * blood transfusion section (56836-0), the product as its COMP 输血品种代码:
 * it was lost.  Now a Procedure "Transfusion of blood product" (SNOMED CT
 * 116859006) that used that product. */
START_TEST(wst_transfusion_is_a_procedure)
{
    static const char doc[] = WST_DOC(
        "",
        WST_SECTION(
            "56836-0",
            "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\"><effectiveTime>"
            "<high value=\"20240314\"/></effectiveTime>" COMP(
                OBS("DE08.50.040.00", "<value xsi:type=\"CD\" code=\"2\" "
                                      "codeSystem=\"2.16.156.10011.2.3.1.251\" "
                                      "displayName=\"悬浮红细胞\"/>"))
                COMP(OBS(
                    "DE06.00.267.00",
                    "<value xsi:type=\"PQ\" value=\"400\" unit=\"mL\"/>")) "</procedure></entry>"
                                                                           /* a procedure naming
                                                                              nothing stays skipped
                                                                            */
                                                                           "<entry><procedure "
                                                                           "classCode=\"PROC\" "
                                                                           "moodCode=\"EVN\">"
                                                                           "<effectiveTime "
                                                                           "value=\"20240314\"/></"
                                                                           "procedure></entry>"));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *p = nth(b, "Procedure", 0);

    ck_assert_uint_eq(count_type(b, "Procedure"), 1);
    ck_assert_str_eq(tu_json_str(p, "code.coding.0.system"), "http://snomed.info/sct");
    ck_assert_str_eq(tu_json_str(p, "code.coding.0.code"), "116859006");
    ck_assert_str_eq(tu_json_str(p, "code.text"), "输血: 悬浮红细胞");
    ck_assert_str_eq(tu_json_str(p, "usedCode.0.coding.0.code"), "2");
    ck_assert_str_eq(tu_json_str(p, "performedPeriod.end"), "2024-03-14");
    ck_assert(has_issue(w, "required", "procedure names nothing"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* 麻醉记录 fills the dose's unit with the route's code (unit="4") and
 * names the unit in COMP 药物使用剂量单位 (DE08.50.024.00): the dose was
 * "2 4" with the UCUM code "4".  A unit that is none (absent, digits only)
 * gives way to the element's; a real unit stays. */
START_TEST(wst_dose_unit_element)
{
#define DOSE_DOC(unit)                                                                             \
    WST_DOC("",                                                                                    \
            WST_SECTION("10160-0",                                                                 \
                        "<entry><substanceAdministration classCode=\"SBADM\" "                     \
                        "moodCode=\"EVN\"><doseQuantity value=\"2\" " unit                         \
                        "/><consumable><manufacturedProduct><manufacturedLabeledDrug><code/>"      \
                        "<name>丙泊酚注射液</name></manufacturedLabeledDrug>"                \
                        "</manufacturedProduct></consumable>" COMP(OBS(                            \
                            "DE08.50.024.00", ST("mg"))) "</substanceAdministration></entry>"))
    static const char route_code[] = DOSE_DOC("unit=\"4\"");
    static const char no_unit[] = DOSE_DOC("");
    static const char real_unit[] = DOSE_DOC("unit=\"mL\"");
#undef DOSE_DOC
    static const char *const docs[] = {route_code, no_unit, real_unit};
    static const char *const want[] = {"mg", "mg", "mL"};

    for (size_t i = 0; i < 3; i++) {
        json_t *b = convert_ok(docs[i], NULL);
        json_t *m = nth(b, "MedicationStatement", 0);

        ck_assert_str_eq(tu_json_str(m, "dosage.0.doseAndRate.0.doseQuantity.unit"), want[i]);
        ck_assert_str_eq(tu_json_str(m, "dosage.0.doseAndRate.0.doseQuantity.code"), want[i]);
        assert_bundle_valid(b);
        json_decref(b);
    }
}
END_TEST

/* WS/T 500 headers seldom code the visit: a 出院小结's stay was of class
 * UNK.  The document type says it: inpatient records and nursing records
 * are IMP, 急诊留观病历 (C0003) EMER; 门(急)诊病历 (C0002) may be either. */
START_TEST(wst_document_type_gives_encounter_class)
{
    static const char doc[] = WST_DOC_WITH(
        "",
        "<componentOf><encompassingEncounter><effectiveTime><low value=\"20240310\"/>"
        "<high value=\"20240320\"/></effectiveTime></encompassingEncounter></componentOf>",
        "");
    static const struct {
        const char *type, *klass;
    } cases[] = {{"C0049", "IMP"}, {"C0053", "IMP"}, {"C0020", "IMP"}, {"C0003", "EMER"},
                 {"C0002", "UNK"}, {"C0010", "UNK"}, {"C00491", "UNK"}};

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char text[sizeof(doc) + 8];
        const char *at = strstr(doc, "C0049");
        json_t *b;

        ck_assert_ptr_nonnull(at);
        (void)snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - doc), doc, cases[i].type, at + 5);
        b = convert_ok(text, NULL);
        ck_assert_msg(strcmp(tu_json_str(nth(b, "Encounter", 0), "class.code"), cases[i].klass) ==
                          0,
                      "%s", cases[i].type);
        assert_bundle_valid(b);
        json_decref(b);
    }
}
END_TEST

/* 死亡记录 (C0050): the time of death is a body entry (死亡日期时间
 * DE02.01.036.00), and the direct cause of death sits in a section named
 * 死亡原因章节 without a code.  The Patient stayed alive and the cause was
 * lost. */
START_TEST(wst_death_record)
{
    static const char named_section[] =
        "<component><section><code displayName=\"死亡原因章节\"/><text/>" WST_OBS(
            "DE02.01.036.00", "<value xsi:type=\"TS\" value=\"20240302\"/>",
            "") "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">" DE("DE05.01.025.00")
            ST("心源性休克")
                COMP(OBS("DE05.01.024.00",
                         "<value xsi:type=\"CD\" code=\"R57.000\" "
                         "codeSystem=\"2.16.156.10011.2.3.3.11\"/>")) "</observation>"
                                                                      "</entry></section>"
                                                                      "</component>";
    static const char doc[] = WST_DOC("", "%s");
    static const char other[] =
        "<component><section><code displayName=\"尸检意见章节\"/><text/>" WST_OBS(
            "DE05.01.024.00",
            "<value xsi:type=\"CD\" code=\"R57.000\" codeSystem=\"2.16.156.10011.2.3.3.11\"/>",
            "") "</section></component>";
    char text[sizeof(doc) + sizeof(named_section) + sizeof(other)];
    json_t *b;

    (void)snprintf(text, sizeof(text), doc, named_section);
    b = convert_ok(text, NULL);
    ck_assert_str_eq(tu_json_str(nth(b, "Patient", 0), "deceasedDateTime"), "2024-03-02");
    ck_assert_uint_eq(count_type(b, "Condition"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.coding.0.code"), "R57.000");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.text"), "心源性休克");
    assert_bundle_valid(b);
    json_decref(b);
    /* other sections without a code are still not read as diagnoses */
    (void)snprintf(text, sizeof(text), doc, other);
    b = convert_ok(text, NULL);
    ck_assert_uint_eq(count_type(b, "Condition"), 0);
    ck_assert_ptr_null(tu_json_at(nth(b, "Patient", 0), "deceasedDateTime"));
    json_decref(b);
}
END_TEST

/* 一般护理记录 (C0017) lists 血氧饱和度 (DE04.50.149.00) among the vital
 * signs: it had no LOINC code, so no reader found the oxygen saturation. */
START_TEST(wst_oxygen_saturation_loinc)
{
    static const char doc[] = WST_DOC(
        "", WST_SECTION("8716-3", WST_OBS("DE04.50.149.00",
                                          "<value xsi:type=\"PQ\" value=\"97\" unit=\"%\"/>", "")));
    json_t *b = convert_ok(doc, NULL);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_str_eq(tu_json_str(o, "code.coding.1.system"), "http://loinc.org");
    ck_assert_str_eq(tu_json_str(o, "code.coding.1.code"), "2708-6");
    ck_assert_str_eq(tu_json_str(o, "category.0.coding.0.code"), "vital-signs");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* 一般护理记录 (C0017) fills 过敏史 with "NA" when the HIS has no entry: it
 * was an active AllergyIntolerance to "NA".  A real description still maps,
 * and a denial is still "no known allergy". */
START_TEST(wst_allergy_filler_is_no_allergy)
{
    static const char doc[] =
        WST_DOC("", WST_SECTION("48765-2",
                                WST_OBS("DE02.10.022.00", ST("NA"), "")
                                    WST_OBS("DE02.10.022.00", ST("None"), "")
                                        WST_OBS("DE02.10.022.00", ST("青霉素"), "")
                                            WST_OBS("DE02.10.022.00", ST("否认药物过敏史"), "")));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    /* "None" and the denial: no known allergy; NA: nothing */
    ck_assert_uint_eq(count_type(b, "AllergyIntolerance"), 3);
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 0), "code.coding.0.code"),
                     "716186003");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 1), "code.text"), "青霉素");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 2), "code.coding.0.code"),
                     "716186003");
    ck_assert(has_issue(w, "informational", "no information"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* 健康档案 follow-up records (WS/T 483 era, 高血压患者随访服务) write the
 * data element without its code system and code every drug with a
 * placeholder, naming it only in <name>: the blood pressure had no LOINC
 * code and the drug no name.  A code that only looks like a data element
 * ("DE04.10.174", "XDE04.10.174.00") is none. */
START_TEST(ehr_followup_without_code_systems)
{
    static const char doc[] = WST_DOC(
        "", WST_SECTION("8716-3",
                        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code "
                        "code=\"DE04.10.174.00\" displayName=\"收缩压\"/><value xsi:type=\"PQ\" "
                        "value=\"120\" unit=\"mmHg\"/></observation></entry>"
                        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code "
                        "code=\"DE04.10.206.00\" displayName=\"心率\"/><value xsi:type=\"PQ\" "
                        "value=\"78\" unit=\"次/min\"/></observation></entry>"
                        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code "
                        "code=\"DE04.10.174\" displayName=\"收缩压\"/><value xsi:type=\"PQ\" "
                        "value=\"121\" unit=\"mmHg\"/></observation></entry>")
                WST_SECTION(
                    "10160-0",
                    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\">"
                    "<consumable><manufacturedProduct><manufacturedLabeledDrug><code "
                    "code=\"DE9999999999999\" displayName=\"药品名称代码\"/><name>氢氯噻嗪</name>"
                    "</manufacturedLabeledDrug></manufacturedProduct></consumable>"
                    "</substanceAdministration></entry>"));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "code.coding.1.code"), "8480-6");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "code.coding.1.code"), "8867-4");
    ck_assert_ptr_null(tu_json_at(nth(b, "Observation", 2), "code.coding.1"));
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 0), "medicationCodeableConcept.text"),
        "氢氯噻嗪");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* 检验记录 (C0007) writes 检验项目代码 as a CD (code="718-7" with the test's
 * name as displayName), not as text: the organizer was not read as one
 * test but as three Observations coded by data element. */
START_TEST(wst_lab_item_code_as_cd)
{
    static const char doc[] = WST_DOC(
        "",
        WST_SECTION("30954-2",
                    "<entry><organizer classCode=\"BATTERY\" moodCode=\"EVN\"><component>" OBS(
                        "DE04.30.019.00",
                        "<value xsi:type=\"CD\" code=\"718-7\" "
                        "codeSystem=\"2.16.840.1.113883.6.1\" "
                        "displayName=\"血红蛋白\"/>") "</component>"
                                                      "<component>" OBS(
                                                          "DE04.30.015.00",
                                                          "<value xsi:type=\"PQ\" value=\"65\" "
                                                          "unit=\"g/L\"/>") "</component></"
                                                                            "organizer></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_uint_eq(count_type(b, "Observation"), 1);
    ck_assert_str_eq(tu_json_str(o, "code.coding.0.code"), "718-7");
    ck_assert_str_eq(tu_json_str(o, "code.text"), "血红蛋白");
    ck_assert_str_eq(tu_json_str(o, "valueQuantity.unit"), "g/L");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* Identifier values typed through a CJK IME come in full-width digits and
 * letters (a JAHIS check-up CDA's insurance numbers "１３１", a HIS form's
 * 身份证号 ending in "Ｘ"): the same number in ASCII in another document was
 * another identifier, and the patient was not linked. */
START_TEST(fullwidth_identifier_values)
{
    static const char doc[] =
        WST_DOC("<id root=\"2.16.156.10011.1.12\" extension=\"ＺＹ２０２４１\"/>", "");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);

    ck_assert_str_eq(tu_json_str(p, "identifier.0.value"), "ZY20241");
    /* the conditional update keys on the ASCII value too */
    for (size_t i = 0; i < json_array_size(json_object_get(b, "entry")); i++) {
        const json_t *e = json_array_get(json_object_get(b, "entry"), i);
        const char *url = tu_json_str(e, "request.url");

        if (url != NULL && strncmp(url, "Patient?", 8) == 0)
            ck_assert_ptr_nonnull(strstr(url, "|ZY20241"));
    }
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* C-CDA's Anesthesia Section (59774-0, 2.16.840.1.113883.10.20.22.2.25)
 * lists the anesthetics as Medication Activities beside the anesthesia
 * procedure: once the section was read, the drugs were still dropped. */
START_TEST(ccda_anesthesia_section_drugs)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "25", "59774-0",
        "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\"><code code=\"50697003\" "
        "codeSystem=\"2.16.840.1.113883.6.96\" displayName=\"General anesthesia\"/>"
        "<statusCode code=\"completed\"/><effectiveTime value=\"20230415\"/></procedure></entry>"
        "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><statusCode "
        "code=\"completed\"/><effectiveTime xsi:type=\"IVL_TS\"><low value=\"20230415\"/>"
        "</effectiveTime><consumable><manufacturedProduct><manufacturedMaterial><code "
        "code=\"8782\" codeSystem=\"2.16.840.1.113883.6.88\" displayName=\"propofol\"/>"
        "</manufacturedMaterial></manufacturedProduct></consumable></substanceAdministration>"
        "</entry>"));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "Procedure"), 1);
    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 1);
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 0), "medicationCodeableConcept.coding.0.code"),
        "8782");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* 健康档案 转诊记录 / 个人基本信息 list past diseases as 既往常见疾病种类代码
 * (DE02.10.021.00) with a coded value (1 高血压): as a data element that
 * names no diagnosis it was dropped with the other history elements. */
START_TEST(ehr_past_disease_element)
{
    static const char doc[] = WST_DOC(
        "", WST_SECTION("11348-0",
                        WST_OBS("DE02.10.021.00",
                                "<value xsi:type=\"CD\" code=\"2\" "
                                "codeSystem=\"2.16.156.10011.2.3.2.41\" displayName=\"糖尿病\"/>",
                                "") WST_OBS("DE02.10.026.00", ST("10年前阑尾切除"), "")));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "Condition"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.coding.0.display"), "糖尿病");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "category.0.coding.0.code"),
                     "problem-list-item");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* An encounter that ends an hour before it starts, on the same day: the
 * interval check compared dates only, so Encounter.period broke per-1 and
 * the whole Bundle was invalid (the HL7 v2 mapping had the same blind spot,
 * found by fuzz_hl7v2).  Now the instants are compared; the end is skipped. */
START_TEST(interval_ending_earlier_the_same_day)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "22.1", "46240-8",
        "<entry><encounter classCode=\"ENC\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"E9\"/><code code=\"99213\" codeSystem=\"2.16.840.1.113883.6.12\"/>"
        "<effectiveTime><low value=\"20240315100000+0800\"/><high "
        "value=\"20240315090000+0800\"/></effectiveTime></encounter></entry>"));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    char *warned = json_dumps(w, 0);

    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "period.start"),
                     "2024-03-15T10:00:00+08:00");
    ck_assert_ptr_null(tu_json_at(nth(b, "Encounter", 0), "period.end"));
    ck_assert_ptr_nonnull(strstr(warned, "interval ends before it starts"));
    assert_bundle_valid(b);
    free(warned);
    json_decref(w);
    json_decref(b);
}
END_TEST

void
cda_vendors_round5_tcases(Suite *s)
{
    TCase *t = tcase_create("round5");

    tcase_add_test(t, wst_diagnosis_name_and_code_as_two_entries);
    tcase_add_test(t, wst_anesthesia_and_drugs_administered);
    tcase_add_test(t, wst_transfusion_is_a_procedure);
    tcase_add_test(t, wst_dose_unit_element);
    tcase_add_test(t, wst_document_type_gives_encounter_class);
    tcase_add_test(t, wst_death_record);
    tcase_add_test(t, wst_oxygen_saturation_loinc);
    tcase_add_test(t, wst_allergy_filler_is_no_allergy);
    tcase_add_test(t, ehr_followup_without_code_systems);
    tcase_add_test(t, wst_lab_item_code_as_cd);
    tcase_add_test(t, fullwidth_identifier_values);
    tcase_add_test(t, ccda_anesthesia_section_drugs);
    tcase_add_test(t, interval_ending_earlier_the_same_day);
    tcase_add_test(t, ehr_past_disease_element);
    suite_add_tcase(s, t);
}
