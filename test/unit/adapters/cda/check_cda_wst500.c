/*
 * CDA documents in the style of China's WS/T 500 shared documents
 * (卫生信息共享文档: national OIDs under 2.16.156.10011, WS 363 data
 * elements, Chinese text and encodings), written for these tests from the
 * public generator templates' shape: each test pins one fix and fails
 * without it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

/* 肺炎 in GBK bytes, in a document that declares UTF-8 or nothing. */
#define GBK_FRAGMENT(decl)                                                                         \
    decl "<section xmlns=\"urn:hl7-org:v3\"><code code=\"11450-4\" "                               \
         "codeSystem=\"2.16.840.1.113883.6.1\"/><entry><observation classCode=\"OBS\" "            \
         "moodCode=\"EVN\"><code code=\"64572001\" codeSystem=\"2.16.840.1.113883.6.96\"/>"        \
         "<value xsi:type=\"CD\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"         \
         "<originalText>\xb7\xce\xd1\xd7</originalText></value></observation></entry></section>"

#define WST_COMPONENT(de, value, inner)                                                            \
    "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"" de                  \
    "\" codeSystem=\"2.16.156.10011.2.2.1\"/>" value inner "</observation></component>"

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
    /* GB/T 2261.2 marital status gains the HL7 v3 code next to it */
    ck_assert_str_eq(tu_json_str(p, "maritalStatus.coding.0.code"), "20");
    ck_assert_str_eq(tu_json_str(p, "maritalStatus.coding.1.code"), "M");
    json_decref(b);
}
END_TEST

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

START_TEST(wst_vital_signs_in_physical_exam)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION(
            "29545-1",
            WST_OBS("DE04.10.186.00",
                    "<value xsi:type=\"PQ\" value=\"36.8\" unit=\"\u6444\u6c0f\u5ea6\"/>", "")
                WST_OBS(
                    "DE04.10.126.00",
                    "<value xsi:type=\"ST\">\u76ae\u80a4\u65e0\u9ec4\u67d3</value>",
                    "") "<entry><organizer classCode=\"BATTERY\" "
                        "moodCode=\"EVN\"><statusCode/><component>"
                        "<observation classCode=\"OBS\" moodCode=\"EVN\"><code "
                        "code=\"DE04.10.174.00\" "
                        "codeSystem=\"2.16.156.10011.2.2.1\"/><value xsi:type=\"PQ\" value=\"120\" "
                        "unit=\"mmHg\"/></observation></component></organizer></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *temp = nth(b, "Observation", 0);
    json_t *sys = nth(b, "Observation", 1);

    /* the skin finding (text) is no observation of its own */
    ck_assert_uint_eq(count_type(b, "Observation"), 2);
    ck_assert_str_eq(tu_json_str(temp, "code.coding.1.code"), "8310-5");
    ck_assert_str_eq(tu_json_str(temp, "category.0.coding.0.code"), "vital-signs");
    ck_assert_str_eq(tu_json_str(temp, "valueQuantity.code"), "Cel");
    ck_assert_str_eq(tu_json_str(sys, "code.coding.1.code"), "8480-6");
    ck_assert_str_eq(tu_json_str(sys, "valueQuantity.code"), "mm[Hg]");
    json_decref(b);
}
END_TEST

START_TEST(wst_allergy_denied_is_no_known_allergy)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION(
            "48765-2",
            WST_OBS("DE02.10.023.00",
                    "<value xsi:type=\"ST\">\u5426\u8ba4\u836f\u7269\u8fc7\u654f\u53f2</value>", "")
                WST_OBS("DE02.10.022.00", "<value xsi:type=\"BL\" value=\"false\"/>", "") WST_OBS(
                    "DE02.10.023.00", "<value xsi:type=\"ST\">\u9752\u9709\u7d20</value>", "")));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "AllergyIntolerance"), 3);
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 0), "code.coding.0.code"),
                     "716186003");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 1), "code.coding.0.code"),
                     "716186003");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 2), "code.text"),
                     "\u9752\u9709\u7d20");
    json_decref(b);
}
END_TEST

START_TEST(wst_encounter_from_body_dates_and_places)
{
    static const char doc[] = WST_DOC_WITH(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        "<componentOf><encompassingEncounter><effectiveTime/>"
        "<location><healthCareFacility><serviceProviderOrganization>"
        "<asOrganizationPartOf><wholeOrganization><id root=\"2.16.156.10011.1.22\" "
        "extension=\"12\"/>"
        "<name>12\u5e8a</name><asOrganizationPartOf><wholeOrganization>"
        "<id root=\"2.16.156.10011.1.26\" extension=\"NK\"/><name>\u5185\u79d1</name>"
        "<asOrganizationPartOf><wholeOrganization><id root=\"2.16.156.10011.1.5\" "
        "extension=\"H001\"/><name>\u7b2c\u4e00\u533b\u9662</name></wholeOrganization>"
        "</asOrganizationPartOf></wholeOrganization></asOrganizationPartOf></wholeOrganization>"
        "</asOrganizationPartOf></serviceProviderOrganization></healthCareFacility></location>"
        "</encompassingEncounter></componentOf>",
        WST_SECTION(
            "11535-2",
            WST_OBS("DE06.00.092.00", "<value xsi:type=\"TS\" value=\"20240310080000+0800\"/>", "")
                WST_OBS("DE06.00.017.00", "<value xsi:type=\"TS\" value=\"20240320\"/>", "")));
    json_t *b = convert_ok(doc, NULL);
    json_t *enc = nth(b, "Encounter", 0);
    json_t *org = nth(b, "Organization", 0);

    ck_assert_str_eq(tu_json_str(enc, "period.start"), "2024-03-10T08:00:00+08:00");
    ck_assert_str_eq(tu_json_str(enc, "period.end"), "2024-03-20");
    ck_assert_str_eq(tu_json_str(enc, "status"), "finished");
    ck_assert_str_eq(tu_json_str(enc, "location.0.location.display"), "12\u5e8a");
    ck_assert_str_eq(tu_json_str(enc, "location.1.location.display"), "\u5185\u79d1");
    ck_assert_uint_eq(json_array_size(json_object_get(enc, "location")), 2);
    ck_assert_str_eq(tu_json_str(org, "identifier.0.value"), "H001");
    ck_assert_ptr_nonnull(tu_json_at(enc, "serviceProvider.reference"));
    json_decref(b);
}
END_TEST

START_TEST(wst_medication_labeled_drug)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION("10160-0",
                    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><text/>"
                    "<routeCode code=\"1\" codeSystem=\"2.16.156.10011.2.3.1.158\" "
                    "displayName=\"\u53e3\u670d\"/><doseQuantity value=\"0.5\" unit=\"g\"/>"
                    "<consumable><manufacturedProduct><manufacturedLabeledDrug><code/>"
                    "<name>\u963f\u83ab\u897f\u6797\u80f6\u56ca</name></manufacturedLabeledDrug>"
                    "</manufacturedProduct></consumable></substanceAdministration></entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *ms = nth(b, "MedicationStatement", 0);

    ck_assert_ptr_nonnull(ms);
    ck_assert_str_eq(tu_json_str(ms, "medicationCodeableConcept.text"),
                     "\u963f\u83ab\u897f\u6797\u80f6\u56ca");
    ck_assert_str_eq(tu_json_str(ms, "dosage.0.route.coding.0.code"), "1");
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 0);
    json_decref(warnings);
    json_decref(b);
}
END_TEST

START_TEST(wst_lab_result_unit_from_its_own_entry)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION(
            "30954-2",
            "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><statusCode/><component>"
            "<observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"DE04.30.015.00\" "
            "codeSystem=\"2.16.156.10011.2.2.1\"/><value xsi:type=\"REAL\" value=\"12.5\"/>"
            "<entryRelationship typeCode=\"COMP\"><observation classCode=\"OBS\" "
            "moodCode=\"EVN\"><code code=\"DE04.30.016.00\" "
            "codeSystem=\"2.16.156.10011.2.2.1\"/><value xsi:type=\"ST\">10^9/L</value>"
            "</observation></entryRelationship></observation></component></organizer>"
            "</entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *obs = nth(b, "Observation", 0);

    ck_assert_str_eq(tu_json_str(obs, "valueQuantity.unit"), "10^9/L");
    ck_assert_str_eq(tu_json_str(obs, "valueQuantity.code"), "10*9/L");
    json_decref(b);
}
END_TEST

START_TEST(wst_lab_item_is_one_observation)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION(
            "30954-2",
            "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><statusCode/>" WST_COMPONENT(
                "DE04.30.019.00",
                "<effectiveTime value=\"20240309073000+0800\"/>"
                "<value xsi:type=\"ST\">6690-2</value>",
                "<entryRelationship typeCode=\"COMP\"><observation classCode=\"OBS\" "
                "moodCode=\"EVN\"><code code=\"DE04.50.134.00\" "
                "codeSystem=\"2.16.156.10011.2.2.1\"/><value xsi:type=\"ST\">\u8840</value>"
                "</observation></entryRelationship>")
                WST_COMPONENT("DE04.30.020.00",
                              "<value xsi:type=\"ST\">\u767d\u7ec6\u80de\u8ba1\u6570</value>",
                              "") WST_COMPONENT("DE04.30.017.00",
                                                "<value xsi:type=\"CD\" code=\"1\" "
                                                "codeSystem=\"2.16.156.10011.2.3.2.38\" "
                                                "displayName=\"\u5f02\u5e38\"/>",
                                                "")
                    WST_COMPONENT(
                        "DE04.30.015.00", "<value xsi:type=\"REAL\" value=\"12.5\"/>",
                        "<entryRelationship typeCode=\"COMP\"><observation "
                        "classCode=\"OBS\" "
                        "moodCode=\"EVN\"><code code=\"DE04.30.016.00\" "
                        "codeSystem=\"2.16.156.10011.2.2.1\"/><value "
                        "xsi:type=\"ST\">10^9/L</value></observation></"
                        "entryRelationship>") "</organizer></entry>"
                                              "<entry><organizer classCode=\"CLUSTER\" "
                                              "moodCode=\"EVN\"><statusCode/"
                                              ">" WST_COMPONENT(
                                                  "DE04.30.019.00",
                                                  "<value xsi:type=\"ST\">HBsAg</value>", "")
                                                  WST_COMPONENT("DE04.30.017.00",
                                                                "<value xsi:type=\"CD\" code=\"0\" "
                                                                "codeSystem=\"2.16.156.10011.2.3.2."
                                                                "38\"/>",
                                                                "") "</organizer></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *wbc = nth(b, "Observation", 0);
    json_t *hbs = nth(b, "Observation", 1);

    ck_assert_uint_eq(count_type(b, "Observation"), 2);
    ck_assert_uint_eq(count_type(b, "DiagnosticReport"), 0);
    ck_assert_str_eq(tu_json_str(wbc, "code.coding.0.system"), "http://loinc.org");
    ck_assert_str_eq(tu_json_str(wbc, "code.coding.0.code"), "6690-2");
    ck_assert_str_eq(tu_json_str(wbc, "code.text"), "\u767d\u7ec6\u80de\u8ba1\u6570");
    ck_assert_str_eq(tu_json_str(wbc, "valueQuantity.code"), "10*9/L");
    ck_assert_str_eq(tu_json_str(wbc, "interpretation.0.coding.0.display"), "\u5f02\u5e38");
    ck_assert_str_eq(tu_json_str(wbc, "effectiveDateTime"), "2024-03-09T07:30:00+08:00");
    /* a laboratory's own item code has no system to name: text only */
    ck_assert_ptr_null(tu_json_at(hbs, "code.coding"));
    ck_assert_str_eq(tu_json_str(hbs, "code.text"), "HBsAg");
    json_decref(b);
}
END_TEST

START_TEST(empty_values_are_no_data)
{
    /* generators fill every template slot, value="" where there is no data */
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION("8716-3",
                    WST_OBS("DE04.10.186.00", "<value xsi:type=\"PQ\" value=\"\" unit=\"\"/>", "")
                        WST_OBS("DE04.10.081.00", "<value xsi:type=\"INT\" value=\"\"/>", "")
                            WST_OBS("DE04.10.118.00", "<value xsi:type=\"TS\" value=\"\"/>", "")));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);

    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 0);
    ck_assert_ptr_null(tu_json_at(nth(b, "Observation", 0), "valueQuantity"));
    ck_assert_ptr_null(tu_json_at(nth(b, "Observation", 1), "valueInteger"));
    json_decref(warnings);
    json_decref(b);
}
END_TEST

START_TEST(wst_procedure_section_elements)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        WST_SECTION(
            "47519-4",
            "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\"><code code=\"\" "
            "codeSystem=\"2.16.156.10011.2.3.3.12\"/><entryRelationship typeCode=\"COMP\">"
            "<observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"DE06.00.094.00\" "
            "codeSystem=\"2.16.156.10011.2.2.1\"/><value "
            "xsi:type=\"ST\">\u9611\u5c3e\u5207\u9664\u672f</value>"
            "</observation></entryRelationship></procedure></entry>" WST_OBS(
                "DE06.00.093.00",
                "<value xsi:type=\"CD\" code=\"47.0900\" codeSystem=\"2.16.156.10011.2.3.3.12\"/>",
                "") WST_OBS("DE06.00.094.00",
                            "<value xsi:type=\"ST\">\u9611\u5c3e\u5207\u9664\u672f</value>", "")
                WST_OBS("DE06.00.095.00", "<value xsi:type=\"TS\" value=\"20240312\"/>", "")));
    json_t *b = convert_ok(doc, NULL);

    /* the name and time elements describe the procedures, they are none */
    ck_assert_uint_eq(count_type(b, "Procedure"), 2);
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 0), "code.text"),
                     "\u9611\u5c3e\u5207\u9664\u672f");
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 1), "code.coding.0.code"), "47.0900");
    json_decref(b);
}
END_TEST

START_TEST(titles_named_without_a_code)
{
    /* WS/T 500 names titles and panels by displayName alone */
    static const char doc[] = WST_DOC_WITH(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        "<legalAuthenticator><time/><signatureCode/><assignedEntity>"
        "<id root=\"2.16.156.10011.1.4\" extension=\"D0001\"/><code "
        "displayName=\"\u79d1\u4e3b\u4efb\"/>"
        "<assignedPerson><name>\u5f20\u4e3b\u4efb</name></assignedPerson></assignedEntity>"
        "</legalAuthenticator>",
        "");
    json_t *b = convert_ok(doc, NULL);
    json_t *pr = nth(b, "Practitioner", 0);

    ck_assert_str_eq(tu_json_str(pr, "qualification.0.code.text"), "\u79d1\u4e3b\u4efb");
    ck_assert_ptr_null(tu_json_at(pr, "qualification.0.code.coding"));
    json_decref(b);
}
END_TEST

START_TEST(patient_contacts)
{
    static const char doc[] = WST_DOC_WITH(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        "<participant typeCode=\"NOT\"><associatedEntity classCode=\"ECON\">"
        "<code code=\"1\" codeSystem=\"2.16.156.10011.2.3.3.8\" displayName=\"\u914d\u5076\"/>"
        "<telecom value=\"tel:13900000000\"/><associatedPerson><name>\u674e\u534e</name>"
        "</associatedPerson></associatedEntity></participant>"
        "<participant typeCode=\"IND\"><associatedEntity classCode=\"NOK\"/></participant>",
        "");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);

    /* the next of kin without any detail is left out (FHIR R4 pat-1) */
    ck_assert_uint_eq(json_array_size(json_object_get(p, "contact")), 1);
    ck_assert_str_eq(tu_json_str(p, "contact.0.relationship.0.coding.0.code"), "C");
    ck_assert_str_eq(tu_json_str(p, "contact.0.relationship.1.coding.0.display"), "\u914d\u5076");
    ck_assert_str_eq(tu_json_str(p, "contact.0.name.text"), "\u674e\u534e");
    ck_assert_str_eq(tu_json_str(p, "contact.0.telecom.0.value"), "13900000000");
    json_decref(b);
}
END_TEST

START_TEST(bare_phone_numbers_and_emails)
{
    static const char doc[] = WST_DOC("<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>"
                                      "<telecom value=\"13900000000\"/>"
                                      "<telecom value=\"(010) 6512-3456\" use=\"WP\"/>"
                                      "<telecom value=\"wang@example.cn\"/>"
                                      "<telecom value=\"see chart\"/>",
                                      "");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);

    ck_assert_str_eq(tu_json_str(p, "telecom.0.system"), "phone");
    ck_assert_str_eq(tu_json_str(p, "telecom.1.system"), "phone");
    ck_assert_str_eq(tu_json_str(p, "telecom.2.system"), "email");
    ck_assert_str_eq(tu_json_str(p, "telecom.3.system"), "other");
    json_decref(b);
}
END_TEST

START_TEST(replaced_document_relates_to_its_parent)
{
    static const char doc[] = WST_DOC_WITH(
        "<id root=\"2.16.156.10011.1.12\" extension=\"ZY001\"/>",
        "<relatedDocument typeCode=\"RPLC\"><parentDocument><id root=\"2.16.156.10011.1.1\" "
        "extension=\"RN-0\"/><setId/><versionNumber/></parentDocument></relatedDocument>"
        "<relatedDocument typeCode=\"RPLC\"><parentDocument><id/></parentDocument>"
        "</relatedDocument>",
        "");
    json_t *b = convert_ok(doc, NULL);
    json_t *dr = nth(b, "DocumentReference", 0);

    ck_assert_uint_eq(json_array_size(json_object_get(dr, "relatesTo")), 1);
    ck_assert_str_eq(tu_json_str(dr, "relatesTo.0.code"), "replaces");
    ck_assert_str_eq(tu_json_str(dr, "relatesTo.0.target.identifier.value"), "RN-0");
    ck_assert_str_eq(tu_json_str(dr, "relatesTo.0.target.identifier.system"),
                     "urn:oid:2.16.156.10011.1.1");
    json_decref(b);
}
END_TEST

START_TEST(undeclared_gbk_is_read_as_gb18030)
{
    static const char *const docs[] = {
        GBK_FRAGMENT(""),
        GBK_FRAGMENT("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
    };
    struct cda_options opt = {.patient_ref = "Patient/1"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(docs); i++) {
        struct base_err err = {0};
        json_t *warnings = NULL;
        int rc;
        json_t *b = convert_text(docs[i], NULL, &opt, &warnings, &err, &rc);

        ck_assert_msg(rc == BASE_OK, "%zu: %s: %s", i, err.where, err.msg);
        ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.text"), "\u80ba\u708e");
        ck_assert_str_eq(tu_json_str(warnings, "issue.0.diagnostics"),
                         "document is not UTF-8 as it declares; read as GB18030");
        json_decref(warnings);
        json_decref(b);
    }
}
END_TEST

START_TEST(declared_encoding_is_not_second_guessed)
{
    /* Declared ISO-8859-1: those bytes are valid Latin-1, read as such. */
    static const char latin1[] = GBK_FRAGMENT("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>");
    /* Not UTF-8 and not well-formed either: still refused, with the line */
    static const char broken[] = GBK_FRAGMENT("") "<";
    struct cda_options opt = {.patient_ref = "Patient/1"};
    struct base_err err = {0};
    json_t *warnings = NULL;
    int rc;
    json_t *b = convert_text(latin1, NULL, &opt, &warnings, &err, &rc);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 0);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.text"), "\u00b7\u00ce\u00d1\u00d7");
    json_decref(warnings);
    json_decref(b);
    b = convert_text(broken, NULL, &opt, NULL, &err, &rc);
    ck_assert_int_eq(rc, BASE_E_PARSE);
    ck_assert_ptr_null(b);
    ck_assert_str_eq(err.where, "line 1");
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *
cda_wst500_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("cda_wst500");
    TCase *header = tcase_create("header");
    TCase *body = tcase_create("body");
    TCase *reading = tcase_create("reading");

    tcase_add_test(header, empty_extension_is_no_identifier);
    tcase_add_test(header, patient_contacts);
    tcase_add_test(header, titles_named_without_a_code);
    tcase_add_test(header, bare_phone_numbers_and_emails);
    tcase_add_test(header, replaced_document_relates_to_its_parent);
    tcase_add_test(header, wst_encounter_from_body_dates_and_places);
    tcase_add_test(body, wst_diagnosis_section_maps_only_diagnoses);
    tcase_add_test(body, wst_vital_signs_in_physical_exam);
    tcase_add_test(body, wst_allergy_denied_is_no_known_allergy);
    tcase_add_test(body, wst_medication_labeled_drug);
    tcase_add_test(body, wst_lab_result_unit_from_its_own_entry);
    tcase_add_test(body, wst_lab_item_is_one_observation);
    tcase_add_test(body, empty_values_are_no_data);
    tcase_add_test(body, wst_procedure_section_elements);
    tcase_add_test(reading, undeclared_gbk_is_read_as_gb18030);
    tcase_add_test(reading, declared_encoding_is_not_second_guessed);
    suite_add_tcase(s, header);
    suite_add_tcase(s, body);
    suite_add_tcase(s, reading);
    return s;
}
