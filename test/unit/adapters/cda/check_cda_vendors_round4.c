/*
 * Fourth sweep of other systems' documents: WS/T 500 generators seen in
 * Chinese EMR integration projects (门(急)诊病历 C0002, 西药处方 C0004,
 * 住院病案首页 C0032, 入院记录 C0034, 病历概要 C0001 filled in by a
 * hospital) and their FreeMarker / Java string templates, and HITSP C32 /
 * CCD 1.0 shapes.  Part of the
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
#define OBS(code, value, inner)                                                                    \
    "<observation classCode=\"OBS\" moodCode=\"EVN\">" DE(code) value inner "</observation>"
#define COMP(obs) "<entryRelationship typeCode=\"COMP\">" obs "</entryRelationship>"
#define ST(text)  "<value xsi:type=\"ST\">" text "</value>"

/* The request URL of the first entry of `type`. */
static const char *
url_of(const json_t *b, const char *type)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        const char *t = tu_json_str(e, "resource.resourceType");

        if (t != NULL && strcmp(t, type) == 0)
            return tu_json_str(e, "request.url");
    }
    return NULL;
}

/* A 西药处方 generator writes component/section straight under
 * ClinicalDocument (no structuredBody): every entry was lost silently. */
START_TEST(sections_without_structured_body)
{
    static const char doc[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><realmCode code=\"CN\"/>"
        "<id root=\"2.16.156.10011.1.1\" extension=\"CF-1\"/><code code=\"C0004\" "
        "codeSystem=\"2.16.156.10011.2.4\"/><recordTarget><patientRole><id "
        "root=\"2.16.156.10011.1.11\" extension=\"MZ0038811\"/><patient><name>陈建华</name>"
        "</patient></patientRole></recordTarget><component><section><code code=\"10160-0\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/><entry><substanceAdministration classCode=\"SBADM\" "
        "moodCode=\"EVN\"><doseQuantity value=\"0.5\" unit=\"g\"/><consumable><manufacturedProduct>"
        "<manufacturedLabeledDrug><code/><name>阿莫西林胶囊</name></manufacturedLabeledDrug>"
        "</manufacturedProduct></consumable></substanceAdministration></entry></section>"
        "</component></ClinicalDocument>";
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 1);
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 0), "medicationCodeableConcept.text"),
        "阿莫西林胶囊");
    ck_assert(has_issue(w, "structure", "no structuredBody"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* Templates write <id root="2.16.156.10011.1.11"/> (the outpatient number's
 * namespace) and <id root="2.16.156.10011.1.26"/> (departments) without a
 * number: as identifiers they made every such patient one Patient and
 * every department one Organization. */
START_TEST(wst_namespace_root_alone_identifies_nobody)
{
    static const char doc[] =
        WST_DOC("<id root=\"2.16.156.10011.1.11\"/><providerOrganization><id "
                "root=\"2.16.156.10011.1.26\"/><name>呼吸内科门诊</name></providerOrganization>",
                "");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);

    /* only the resident identity number of the header's patient is left */
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 1);
    ck_assert_str_eq(url_of(b, "Patient"),
                     "Patient?identifier=urn:oid:2.16.156.10011.1.3|110101199003077316");
    ck_assert_ptr_null(strstr(url_of(b, "Organization"), "2.16.156.10011.1.26"));
    json_decref(b);
}
END_TEST

/* Generators put the data element's name where they have no value:
 * ${xyPrescription.门急诊号!'门急诊号'}, extension="患者ID", "医疗卫生机构编号".
 * Every patient without a number shared the identifier "患者ID". */
START_TEST(element_name_as_identifier_is_none)
{
    static const char doc[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><realmCode code=\"CN\"/><id "
        "root=\"2.16.156.10011.1.1\" extension=\"RN001\"/><recordTarget><patientRole><id "
        "root=\"1.2.156.112635.1.2.1.3\" extension=\"患者ID\"/><id root=\"2.16.156.10011.1.11\" "
        "extension=\"门急诊号\"/><patient><id root=\"2.16.156.10011.1.3\" "
        "extension=\"患者身份证件号码\"/><name>贾小明</name></patient></patientRole>"
        "</recordTarget><custodian><assignedCustodian><representedCustodianOrganization><id "
        "root=\"2.16.156.10011.1.5\" extension=\"医疗卫生机构编号\"/><name>某医院</name>"
        "</representedCustodianOrganization></assignedCustodian></custodian><component>"
        "<structuredBody/></component></ClinicalDocument>";
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *p = nth(b, "Patient", 0);

    /* a key derived from the document, linking no one */
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 1);
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"), "urn:ietf:rfc:3986");
    ck_assert_str_eq(tu_json_str(nth(b, "Organization", 0), "identifier.0.system"),
                     "urn:ietf:rfc:3986");
    ck_assert(has_issue(w, "value", "Chinese characters without digits"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* The same generator's defaults for a drug it did not have: a
 * MedicationStatement of "药物名称" by route "用药途径代码", and a
 * pharmacist named "处方审核药剂师签名".  A rate without a unit is no rate. */
START_TEST(element_names_as_values_are_none)
{
    static const char doc[] = WST_DOC_WITH(
        "",
        "<legalAuthenticator><assignedEntity><id root=\"2.16.156.10011.1.4\" extension=\"\"/>"
        "<assignedPerson><name>处方审核药剂师签名</name></assignedPerson></assignedEntity>"
        "</legalAuthenticator>",
        WST_SECTION("10160-0",
                    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\">"
                    "<routeCode code=\"用药途径代码\" codeSystem=\"2.16.156.10011.2.3.1.158\" "
                    "displayName=\"用药途径\"/><consumable><manufacturedProduct>"
                    "<manufacturedLabeledDrug><name>药物名称</name></manufacturedLabeledDrug>"
                    "</manufacturedProduct></consumable></substanceAdministration></entry>"
                    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\">"
                    "<routeCode code=\"1\" codeSystem=\"2.16.156.10011.2.3.1.158\" "
                    "displayName=\"口服\"/><rateQuantity value=\"3\" unit=\"\"/><consumable>"
                    "<manufacturedProduct><manufacturedLabeledDrug><name>阿莫西林胶囊</name>"
                    "</manufacturedLabeledDrug></manufacturedProduct></consumable>"
                    "</substanceAdministration></entry>"));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *m = nth(b, "MedicationStatement", 0);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 1);
    ck_assert_str_eq(tu_json_str(m, "medicationCodeableConcept.text"), "阿莫西林胶囊");
    ck_assert_ptr_null(tu_json_at(m, "dosage.0.doseAndRate"));
    ck_assert_uint_eq(count_type(b, "Practitioner"), 0);
    ck_assert(has_issue(w, "value", "rateQuantity without a unit"));
    json_decref(w);
    json_decref(b);
}
END_TEST

#define DX_ORGANIZER(name, code)                                                                   \
    "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><statusCode/><component>" OBS(       \
        "DE05.01.025.00", ST(name), "") "</component><component>" OBS("DE05.01.024.00",            \
                                                                      "<value xsi:type=\"CD\" "    \
                                                                      "code=\"" code               \
                                                                      "\" codeSystem=\"2.16.156."  \
                                                                      "10011.2.3.3.11.3\"/>",      \
                                                                      "") "</component>"           \
                                                                          "</organizer></entry>"

/* 住院病案首页 groups each diagnosis as an organizer of 名称 and 编码 data
 * elements: every diagnosis of the front page was dropped without a word.
 * An organizer of no diagnosis element (颅脑损伤昏迷时间) is none. */
START_TEST(wst_diagnosis_organizers)
{
    static const char doc[] = WST_DOC(
        "",
        WST_SECTION("11535-2", DX_ORGANIZER("急性非ST段抬高型心肌梗死", "I21.400")
                                   DX_ORGANIZER("2型糖尿病", "E11.900") DX_ORGANIZER("", ""))
            WST_SECTION("11450-4",
                        "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><component>" OBS(
                            "DE05.10.138.01", "<value xsi:type=\"PQ\" value=\"2\" unit=\"d\"/>",
                            "") "</component></organizer></entry>"));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *dx = nth(b, "Condition", 0);

    ck_assert_uint_eq(count_type(b, "Condition"), 2);
    ck_assert_str_eq(tu_json_str(dx, "code.coding.0.code"), "I21.400");
    ck_assert_str_eq(tu_json_str(dx, "code.text"), "急性非ST段抬高型心肌梗死");
    ck_assert_str_eq(tu_json_str(dx, "category.0.coding.0.code"), "encounter-diagnosis");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 1), "code.coding.0.code"), "E11.900");
    ck_assert(has_issue(w, "informational", "no information"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

#define ALLERGY_ACT(flag, desc)                                                                    \
    "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><code nullFlavor=\"NA\"/><entryRelationship "  \
    "typeCode=\"SUBJ\">" OBS("DE02.10.023.00", "<value xsi:type=\"BL\" value=\"" flag "\"/>",      \
                             "<participant typeCode=\"CSM\"><participantRole classCode=\"MANU\">"  \
                             "<playingEntity classCode=\"MMAT\">" DE(                              \
                                 "DE02.10.022.00") "<desc xsi:type=\"ST\">" desc "</desc>"         \
                                                   "</playingEntity></participantRole>"            \
                                                   "</participant>") "</entryRelationship></act>"  \
                                                                     "</entry>"

/* 住院病案首页: the allergen is the playingEntity's desc, its code the data
 * element 过敏药物.  The allergy was to "DE02.10.022.00" -- and a false
 * 过敏史标志 was an active allergy too. */
START_TEST(wst_allergy_flag_and_desc)
{
    static const char doc[] =
        WST_DOC("", WST_SECTION("48765-2", ALLERGY_ACT("true", "青霉素") ALLERGY_ACT("false", "")));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "AllergyIntolerance"), 2);
    ck_assert_ptr_null(tu_json_at(nth(b, "AllergyIntolerance", 0), "code.coding"));
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 0), "code.text"), "青霉素");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 1), "code.coding.0.code"),
                     "716186003");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* 门(急)诊病历: a true 过敏史标志 whose COMP 过敏史 says what the allergy is
 * ("allergy names no substance; skipped" before); 入院记录: 过敏史 in the
 * past history section, dropped with the other history elements. */
START_TEST(wst_allergy_description_and_past_history)
{
    static const char doc[] = WST_DOC(
        "", WST_SECTION(
                "48765-2",
                "<entry>" OBS("DE02.10.023.00", "<value xsi:type=\"BL\" value=\"true\"/>",
                              COMP(OBS("DE05.01.022.00", ST("青霉素过敏，皮疹"), ""))) "</entry>")
                WST_SECTION("11348-0", "<entry>" OBS("DE02.10.022.00", ST("磺胺类药物过敏"),
                                                     "") "</entry>"
                                                         "<entry>" OBS("DE02.10."
                                                                       "061.00",
                                                                       ST("阑尾"
                                                                          "切除"
                                                                          "术"),
                                                                       "") "</"
                                                                           "entr"
                                                                           "y>"));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "AllergyIntolerance"), 2);
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 0), "code.text"), "青霉素过敏，皮疹");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 1), "code.text"), "磺胺类药物过敏");
    ck_assert_uint_eq(count_type(b, "Condition"), 0);
    json_decref(b);
}
END_TEST

/* 入院途径 (admission route, 2.16.156.10011.2.3.1.270) coded on the
 * encompassingEncounter is how the patient came in: "门诊" was the type of
 * a hospital stay of class UNK.  A visit coded 门诊 in a local table is
 * ambulatory. */
START_TEST(wst_admission_route_and_visit_words)
{
    static const char route[] = WST_DOC_WITH(
        "",
        "<componentOf><encompassingEncounter><code code=\"2\" displayName=\"门诊\" "
        "codeSystem=\"2.16.156.10011.2.3.1.270\"/><effectiveTime><low value=\"20230511\"/>"
        "</effectiveTime></encompassingEncounter></componentOf>",
        "");
    static const char visit[] =
        WST_DOC_WITH("",
                     "<componentOf><encompassingEncounter><code code=\"03\" "
                     "codeSystem=\"1.2.156.112635.1.1.80\" "
                     "displayName=\"门诊\"/><effectiveTime/></encompassingEncounter></componentOf>",
                     "");
    json_t *b = convert_ok(route, NULL);
    json_t *e = nth(b, "Encounter", 0);

    ck_assert_str_eq(tu_json_str(e, "class.code"), "IMP");
    ck_assert_ptr_null(tu_json_at(e, "type"));
    ck_assert_str_eq(tu_json_str(e, "hospitalization.admitSource.coding.0.code"), "2");
    assert_bundle_valid(b);
    json_decref(b);
    b = convert_ok(visit, NULL);
    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "class.code"), "AMB");
    json_decref(b);
}
END_TEST

/* 辅助检查项目 "胸部X线" with its COMP 辅助检查结果: the finding was lost and
 * the examination's name was the value of a laboratory result. */
START_TEST(wst_ancillary_exam_and_its_finding)
{
    static const char doc[] = WST_DOC(
        "",
        WST_SECTION("30954-2",
                    "<entry>" OBS("DE04.30.010.00", ST("胸部X线"),
                                  COMP(OBS("DE04.30.009.00", ST("双肺纹理增粗"), ""))) "</entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_str_eq(tu_json_str(o, "code.text"), "胸部X线");
    ck_assert_str_eq(tu_json_str(o, "valueString"), "双肺纹理增粗");
    ck_assert_ptr_null(tu_json_at(o, "category"));
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* 入院记录's TCM diagnosis is a disease and a syndrome (病 + 证): the
 * syndrome, the second name/code pair, was dropped.  The element's date is
 * when it was diagnosed, not the onset. */
START_TEST(wst_tcm_disease_and_syndrome)
{
    static const char doc[] = WST_DOC(
        "", WST_SECTION("11450-4",
                        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">" DE(
                            "DE05.10.172.00") "<effectiveTime value=\"20210917\"/>" ST("头痛")
                            COMP(OBS("DE05.10.130.00",
                                     "<value xsi:type=\"CD\" code=\"BNG020\" "
                                     "codeSystem=\"2.16.156.10011.2.3.3.14\"/>",
                                     "")) COMP(OBS("DE05.10.172.00", ST("瘀血阻络证"), ""))
                                COMP(OBS("DE05.10.130.00",
                                         "<value xsi:type=\"CD\" code=\"ZYXX30\" "
                                         "codeSystem=\"2.16.156.10011.2.3.3.14\"/>",
                                         "")) "</observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *disease = nth(b, "Condition", 0);
    json_t *syndrome = nth(b, "Condition", 1);

    ck_assert_uint_eq(count_type(b, "Condition"), 2);
    ck_assert_str_eq(tu_json_str(disease, "code.coding.0.code"), "BNG020");
    ck_assert_str_eq(tu_json_str(disease, "recordedDate"), "2021-09-17");
    ck_assert_ptr_null(tu_json_at(disease, "onsetDateTime"));
    ck_assert_str_eq(tu_json_str(syndrome, "code.coding.0.code"), "ZYXX30");
    ck_assert_str_eq(tu_json_str(syndrome, "code.text"), "瘀血阻络证");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* Java string templates concatenate a missing value as "null": a revised
 * diagnosis slot (code="null" in the main-diagnosis ICD-10 sub-table, the
 * template's fixed displayName) was a Condition "null"; a weight of "null"
 * was the text "null kg". */
START_TEST(wst_java_null_slots)
{
    static const char doc[] = WST_DOC(
        "",
        WST_SECTION("11450-4", "<entry>" OBS("DE05.01.025.00", ST("null"),
                                             COMP(OBS("DE05.01.024.00",
                                                      "<value xsi:type=\"CD\" code=\"null\" "
                                                      "displayName=\"创伤性脑损伤\" "
                                                      "codeSystem=\"2.16.156.10011.2.3.3.11.3\"/>",
                                                      ""))) "</entry>")
            WST_SECTION("8716-3",
                        "<entry>" OBS("DE04.10.188.00",
                                      "<value xsi:type=\"PQ\" value=\"null\" unit=\"kg\"/>",
                                      "") "</entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_uint_eq(count_type(b, "Condition"), 0);
    ck_assert_ptr_null(tu_json_at(o, "valueString"));
    ck_assert_str_eq(tu_json_str(o, "dataAbsentReason.coding.0.code"), "unknown");
    json_decref(b);
}
END_TEST

/* HITSP C32 / CCD 1.0 (the HL7 CCD sample's shapes): the adverse event type
 * on the allergy observation's code, no value; Severity under CCD's own
 * template (2.16.840.1.113883.10.20.1.55, code SEV) -- type, category and
 * severity were lost.  Vital signs coded in SNOMED CT get their LOINC. */
START_TEST(ccd1_allergy_type_severity_and_snomed_vitals)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION(
            "6.1", "48765-2",
            "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><templateId "
            "root=\"2.16.840.1.113883.10.20.1.27\"/><code nullFlavor=\"NA\"/><entryRelationship "
            "typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
            "root=\"2.16.840.1.113883.10.20.1.18\"/><code code=\"416098002\" "
            "codeSystem=\"2.16.840.1.113883.6.96\"/><participant typeCode=\"CSM\"><participantRole>"
            "<playingEntity><code code=\"70618\" codeSystem=\"2.16.840.1.113883.6.88\"/>"
            "</playingEntity></participantRole></participant><entryRelationship typeCode=\"SUBJ\" "
            "inversionInd=\"true\"><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
            "root=\"2.16.840.1.113883.10.20.1.55\"/><code code=\"SEV\" "
            "codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"CD\" code=\"24484000\" "
            "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entryRelationship>"
            "<entryRelationship typeCode=\"MFST\" inversionInd=\"true\"><observation "
            "classCode=\"OBS\" moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.1.54\"/>"
            "<value xsi:type=\"CD\" code=\"247472004\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
            "</observation></entryRelationship></observation></entryRelationship></act></entry>")
            CCDA_SECTION("4.1", "8716-3",
                         "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code "
                         "code=\"50373000\" codeSystem=\"2.16.840.1.113883.6.96\"/><effectiveTime "
                         "value=\"19991114\"/><value xsi:type=\"PQ\" value=\"177\" "
                         "unit=\"cm\"/></observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "AllergyIntolerance", 0);

    ck_assert_str_eq(tu_json_str(a, "type"), "allergy");
    ck_assert_str_eq(tu_json_str(a, "category.0"), "medication");
    ck_assert_str_eq(tu_json_str(a, "reaction.0.severity"), "severe");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "code.coding.1.code"), "8302-2");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* The ONC "empty" C-CDA R2.1 test data say "No Known Drug Allergies" by
 * negating the drug allergy type with a null-flavored substance: that is
 * SNOMED 409137002, not the unqualified "no known allergy". */
START_TEST(negated_allergy_type_is_no_known_of_that_type)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "6.1", "48765-2",
        "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.30\"/><code code=\"CONC\" "
        "codeSystem=\"2.16.840.1.113883.5.6\"/><statusCode code=\"active\"/><entryRelationship "
        "typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\" "
        "negationInd=\"true\"><templateId root=\"2.16.840.1.113883.10.20.22.4.7\"/><code "
        "code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"CD\" "
        "code=\"416098002\" codeSystem=\"2.16.840.1.113883.6.96\"/><participant "
        "typeCode=\"CSM\"><participantRole><playingEntity><code nullFlavor=\"NA\"/>"
        "</playingEntity></participantRole></participant></observation></entryRelationship>"
        "</act></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "AllergyIntolerance", 0);

    ck_assert_str_eq(tu_json_str(a, "code.coding.0.code"), "409137002");
    ck_assert_ptr_null(tu_json_at(a, "verificationStatus"));
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* Chinese HIS exports and Java date formats write dates as 2019年5月10日,
 * 2019/05/10 13:44:03, 2019-5-10 or 20190510 134403: all were "invalid
 * timestamp", and the patient lost the birth date the patient index
 * matches on.  Impossible dates are still refused. */
START_TEST(local_date_forms)
{
    static const char *const forms[] = {"2019年5月10日", "2019年05月10日 13时44分",
                                        "2019/05/10 13:44:03", "2019-5-10", "20190510 134403"};
    char doc[1024];

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        (void)snprintf(doc, sizeof(doc),
                       "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" "
                       "extension=\"D1\"/><recordTarget><patientRole><id root=\"1.2.4\" "
                       "extension=\"P1\"/><patient><birthTime value=\"%s\"/></patient>"
                       "</patientRole></recordTarget><component><structuredBody/></component>"
                       "</ClinicalDocument>",
                       forms[i]);
        json_t *b = convert_ok(doc, NULL);

        ck_assert_msg(tu_json_str(nth(b, "Patient", 0), "birthDate") != NULL &&
                          strcmp(tu_json_str(nth(b, "Patient", 0), "birthDate"), "2019-05-10") == 0,
                      "%s", forms[i]);
        json_decref(b);
    }
    (void)snprintf(
        doc, sizeof(doc),
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" extension=\"D1\"/>"
        "<recordTarget><patientRole><id root=\"1.2.4\" extension=\"P1\"/><patient>"
        "<birthTime value=\"2019/13/40\"/></patient></patientRole></recordTarget>"
        "<component><structuredBody/></component></ClinicalDocument>");
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    ck_assert_ptr_null(tu_json_at(nth(b, "Patient", 0), "birthDate"));
    ck_assert(has_issue(w, "value", "invalid timestamp"));
    json_decref(w);
    json_decref(b);
}
END_TEST

/* A HIS without the resident identity number writes zeros: as the only
 * id of patient after patient it keyed one Patient for all of them. */
START_TEST(placeholder_resident_id_keys_no_patient)
{
    static const char doc[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><realmCode code=\"CN\"/><id "
        "root=\"2.16.156.10011.1.1\" extension=\"RN9\"/><recordTarget><patientRole><patient><id "
        "root=\"2.16.156.10011.1.3\" extension=\"000000000000000000\"/><name>赵六</name>"
        "</patient></patientRole></recordTarget><component><structuredBody/></component>"
        "</ClinicalDocument>";
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    ck_assert_ptr_null(strstr(url_of(b, "Patient"), "000000"));
    ck_assert(has_issue(w, "value", "one digit repeated"));
    json_decref(w);
    json_decref(b);
}
END_TEST

/* 生命体征测量记录 templates write 体温 unit="C"; US exports "F" and "deg C":
 * as UCUM, C is the coulomb and F the farad -- a temperature of 36.8
 * coulombs. */
START_TEST(bare_temperature_units)
{
    static const char doc[] = WST_DOC(
        "",
        WST_SECTION("8716-3", "<entry>" OBS("DE04.10.186.00",
                                            "<effectiveTime value=\"20240101\"/><value "
                                            "xsi:type=\"PQ\" value=\"36.8\" unit=\"C\"/>",
                                            "") "</entry><entry>" OBS("DE04.10.186.00",
                                                                      "<effectiveTime "
                                                                      "value=\"20240101\"/><value "
                                                                      "xsi:type=\"PQ\" "
                                                                      "value=\"98.6\" "
                                                                      "unit=\"F\"/>",
                                                                      "") "</entry>"));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "valueQuantity.code"), "Cel");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "valueQuantity.unit"), "C");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "valueQuantity.code"), "[degF]");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* Chinese exports drop the GB/T 2261.1 system (code="2"), or write the word
 * (code="男", code="" displayName="女性"): all were "unknown".  The code
 * still wins over a template's fixed display. */
START_TEST(gender_without_system_or_as_words)
{
    static const struct {
        const char *attrs, *want;
    } cases[] = {
        {"code=\"2\"", "female"},
        {"code=\"男\"", "male"},
        {"code=\"\" displayName=\"女性\"", "female"},
        {"code=\"2\" displayName=\"男性\" codeSystem=\"2.16.156.10011.2.3.3.4\"", "female"},
        {"code=\"UN\" codeSystem=\"2.16.840.1.113883.5.1\"", "other"},
    };
    char doc[768];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        (void)snprintf(doc, sizeof(doc),
                       "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" "
                       "extension=\"D1\"/><recordTarget><patientRole><id root=\"1.2.4\" "
                       "extension=\"P1\"/><patient><administrativeGenderCode %s/></patient>"
                       "</patientRole></recordTarget><component><structuredBody/></component>"
                       "</ClinicalDocument>",
                       cases[i].attrs);
        json_t *b = convert_ok(doc, NULL);
        const char *g = tu_json_str(nth(b, "Patient", 0), "gender");

        ck_assert_msg(g != NULL && strcmp(g, cases[i].want) == 0, "%s", cases[i].attrs);
        json_decref(b);
    }
}
END_TEST

/* A Result Organizer nullified (recorded in error): the DiagnosticReport
 * said entered-in-error while its result stayed a final glucose. */
START_TEST(results_of_a_nullified_panel)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "3.1", "30954-2",
        "<entry><organizer classCode=\"BATTERY\" moodCode=\"EVN\"><code code=\"24323-8\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"nullified\"/><effectiveTime "
        "value=\"20200101\"/><component><observation classCode=\"OBS\" moodCode=\"EVN\"><code "
        "code=\"2345-7\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode "
        "code=\"completed\"/><value xsi:type=\"PQ\" value=\"95\" unit=\"mg/dL\"/>"
        "</observation></component></organizer></entry>"));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_str_eq(tu_json_str(nth(b, "DiagnosticReport", 0), "status"), "entered-in-error");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "status"), "entered-in-error");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* An Encounter Activity nullified (recorded in error) kept its Encounter
 * Diagnosis as an active Condition of an encounter entered-in-error. */
START_TEST(diagnoses_of_a_nullified_encounter)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "22.1", "46240-8",
        "<entry><encounter classCode=\"ENC\" moodCode=\"EVN\"><code code=\"99213\" "
        "codeSystem=\"2.16.840.1.113883.6.12\"/><statusCode code=\"nullified\"/><effectiveTime "
        "value=\"20200101\"/><entryRelationship typeCode=\"REFR\"><act classCode=\"ACT\" "
        "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.80\"/><statusCode "
        "code=\"active\"/><entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" "
        "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.4\"/><value "
        "xsi:type=\"CD\" code=\"44054006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "</observation></entryRelationship></act></entryRelationship></encounter></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *dx = nth(b, "Condition", 0);

    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "status"), "entered-in-error");
    ck_assert_str_eq(tu_json_str(dx, "verificationStatus.coding.0.code"), "entered-in-error");
    ck_assert_ptr_null(tu_json_at(dx, "clinicalStatus"));
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* Two recordTargets (a mother and her newborn): every entry became the
 * mother's without a word.  Different patients are refused, naming where;
 * the same patient twice is read once. */
START_TEST(several_record_targets)
{
#define TWO_TARGETS(second)                                                                        \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" extension=\"D2\"/>"             \
    "<recordTarget><patientRole><id root=\"1.2.4\" extension=\"MOTHER\"/></patientRole>"           \
    "</recordTarget><recordTarget><patientRole><id root=\"1.2.4\" extension=\"" second "\"/>"      \
    "</patientRole></recordTarget><component><structuredBody/></component></ClinicalDocument>"
    static const char two[] = TWO_TARGETS("BABY");
    static const char same[] = TWO_TARGETS("MOTHER");
    struct base_err err = {0};
    json_t *w = NULL;
    int rc;
    json_t *b = convert_text(two, NULL, NULL, NULL, &err, &rc);

    ck_assert_int_eq(rc, BASE_E_INVALID);
    ck_assert_ptr_null(b);
    ck_assert_str_eq(err.where, "/ClinicalDocument/recordTarget[2]");
    b = convert_ok(same, &w);
    ck_assert_uint_eq(count_type(b, "Patient"), 1);
    ck_assert(has_issue(w, "duplicate", "recordTarget repeated"));
    json_decref(w);
    json_decref(b);
#undef TWO_TARGETS
}
END_TEST

void
cda_vendors_round4_tcases(Suite *s)
{
    TCase *t = tcase_create("round4");

    tcase_add_test(t, sections_without_structured_body);
    tcase_add_test(t, wst_namespace_root_alone_identifies_nobody);
    tcase_add_test(t, element_name_as_identifier_is_none);
    tcase_add_test(t, element_names_as_values_are_none);
    tcase_add_test(t, wst_diagnosis_organizers);
    tcase_add_test(t, wst_allergy_flag_and_desc);
    tcase_add_test(t, wst_allergy_description_and_past_history);
    tcase_add_test(t, wst_admission_route_and_visit_words);
    tcase_add_test(t, wst_ancillary_exam_and_its_finding);
    tcase_add_test(t, wst_tcm_disease_and_syndrome);
    tcase_add_test(t, wst_java_null_slots);
    tcase_add_test(t, ccd1_allergy_type_severity_and_snomed_vitals);
    tcase_add_test(t, negated_allergy_type_is_no_known_of_that_type);
    tcase_add_test(t, local_date_forms);
    tcase_add_test(t, placeholder_resident_id_keys_no_patient);
    tcase_add_test(t, bare_temperature_units);
    tcase_add_test(t, gender_without_system_or_as_words);
    tcase_add_test(t, results_of_a_nullified_panel);
    tcase_add_test(t, diagnoses_of_a_nullified_encounter);
    tcase_add_test(t, several_record_targets);
    suite_add_tcase(s, t);
}
