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
#include "fhir/json/fhir_json.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

/* A WS/T 500 header (GB/T 2261.1 gender, national OIDs) with patientRole
 * ids `ids` and the header's end `tail` (componentOf) around `body`. */
#define WST_DOC(ids, body) WST_DOC_WITH(ids, "", body)
#define WST_DOC_WITH(ids, tail, body)                                                              \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "                                                  \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                     \
    "<realmCode code=\"CN\"/><typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_MT000040\"/>" \
    "<templateId root=\"2.16.156.10011.2.1.1.69\"/>"                                               \
    "<id root=\"2.16.156.10011.1.1\" extension=\"RN-1\"/>"                                         \
    "<code code=\"C0049\" codeSystem=\"2.16.156.10011.2.4\"/><title>出院记录</title>"          \
    "<effectiveTime value=\"20240320093000\"/>"                                                    \
    "<recordTarget><patientRole>" ids "<patient>"                                                  \
    "<id root=\"2.16.156.10011.1.3\" extension=\"110101199003077316\"/><name>王小明</name>"     \
    "<administrativeGenderCode code=\"1\" codeSystem=\"2.16.156.10011.2.3.3.4\"/>"                 \
    "<maritalStatusCode code=\"20\" codeSystem=\"2.16.156.10011.2.3.3.5\"/>"                       \
    "</patient></patientRole></recordTarget>" tail "<component><structuredBody>" body              \
    "</structuredBody></component></ClinicalDocument>"

#define WST_SECTION(loinc, entries)                                                                \
    "<component><section><code code=\"" loinc                                                      \
    "\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/>" entries "</section></component>"

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
    /* GB/T 2261.2 marital status gains the HL7 v3 code next to it */
    ck_assert_str_eq(tu_json_str(p, "maritalStatus.coding.0.code"), "20");
    ck_assert_str_eq(tu_json_str(p, "maritalStatus.coding.1.code"), "M");
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

/* ------------------------------------------------------- result values */

#define RESULT(id, value, time)                                                                    \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"" id    \
    "\"/><code code=\"" id "\" codeSystem=\"2.16.840.1.113883.6.1\"/>" time value                  \
    "</observation></entry>"

static const char results_fragment[] =
    "<section xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
    "<code code=\"30954-2\" codeSystem=\"2.16.840.1.113883.6.1\"/>" RESULT(
        "lt", "<value xsi:type=\"PQ\" value=\"&lt;0.5\" unit=\"mg/dL\"/>",
        "") RESULT("ge", "<value xsi:type=\"PQ\" value=\" &gt;=60 \" unit=\"mL/min/{1.73_m2}\"/>",
                   "") RESULT("txt", "<value xsi:type=\"PQ\" value=\"trace\" unit=\"mg/dL\"/>",
                              "") RESULT("dot", "<value xsi:type=\"PQ\" value=\"5.\" unit=\"1\"/>",
                                         "") RESULT("cel",
                                                    "<value xsi:type=\"PQ\" value=\"37.5\" "
                                                    "unit=\"\u2103\"/>",
                                                    "") RESULT("age",
                                                               "<value xsi:type=\"PQ\" "
                                                               "value=\"34\" unit=\"\u5c81\"/>",
                                                               "")
        RESULT("wbc", "<value xsi:type=\"PQ\" value=\"12.5\" unit=\"10^9/L\"/>", "") RESULT(
            "odd", "<value xsi:type=\"PQ\" value=\"3\" unit=\"\u4e2a/HP\"/>",
            "") "<text><content ID=\"n1\">Nitrite negative</content></text>" RESULT("cd",
                                                                                    "<value "
                                                                                    "code="
                                                                                    "\"260385009\" "
                                                                                    "codeSystem="
                                                                                    "\"2.16.840.1."
                                                                                    "113883.6.96\">"
                                                                                    "<originalText>"
                                                                                    "<reference "
                                                                                    "value=\"n1\"/"
                                                                                    "></"
                                                                                    "originalText><"
                                                                                    "/value>",
                                                                                    "")
            RESULT("st", "<value>see report</value>", "") RESULT(
                "pq", "<value value=\"7.2\" unit=\"mmol/L\"/>",
                "") RESULT("per", "<value xsi:type=\"IVL_TS\"><low value=\"20200101\"/></value>",
                           "") RESULT("iso", "<value xsi:type=\"INT\" value=\"1\"/>",
                                      "<effectiveTime value=\"2024-03-20T09:30:00+08:00\"/>")
                RESULT("sql", "<value xsi:type=\"INT\" value=\"1\"/>",
                       "<effectiveTime value=\"2024-03-20 09:30:00\"/>")
                    RESULT("utc", "<value xsi:type=\"INT\" value=\"1\"/>",
                           "<effectiveTime value=\"2024-03-20T01:30:00.25Z\"/>")
                        RESULT("bad", "<value xsi:type=\"INT\" value=\"1\"/>",
                               "<effectiveTime value=\"2024-03-20 late\"/>")
                            RESULT("hh", "<value xsi:type=\"INT\" value=\"1\"/>",
                                   "<effectiveTime value=\"20240320093000+08\"/>")
                                RESULT(
                                    "isohh", "<value xsi:type=\"INT\" value=\"1\"/>",
                                    "<effectiveTime value=\"2024-03-20T09:30:00-05\"/>") "</"
                                                                                         "section>";

static json_t *
result(json_t *b, const char *code)
{
    json_t *r;

    for (size_t i = 0; (r = nth(b, "Observation", i)) != NULL; i++) {
        if (strcmp(tu_json_str(r, "code.coding.0.code"), code) == 0)
            return r;
    }
    ck_abort_msg("no observation %s", code);
    return NULL;
}

static json_t *
convert_results(json_t **warnings)
{
    struct cda_options opt = {.default_tz = "+08:00", .patient_ref = "Patient/1"};
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(results_fragment, NULL, &opt, warnings, &err, &rc);

    ck_assert_msg(rc == BASE_OK, "%s: %s", err.where, err.msg);
    return b;
}

START_TEST(quantity_comparator_and_text)
{
    json_t *warnings = NULL;
    json_t *b = convert_results(&warnings);
    char num[32];

    ck_assert_str_eq(tu_json_str(result(b, "lt"), "valueQuantity.comparator"), "<");
    ck_assert_str_eq(tu_json_str(result(b, "ge"), "valueQuantity.comparator"), ">=");
    ck_assert_str_eq(tu_json_str(result(b, "ge"), "valueQuantity.code"), "mL/min/{1.73_m2}");
    ck_assert_str_eq(tu_json_str(result(b, "txt"), "valueString"), "trace mg/dL");
    struct base_str five = fhir_json_number_text(
        tu_json_at(result(b, "dot"), "valueQuantity.value"), num, sizeof(num));
    ck_assert(five.len == 1 && five.ptr[0] == '5');
    ck_assert_ptr_null(tu_json_at(result(b, "dot"), "valueQuantity.unit"));
    /* the text result is kept and said so, without quoting it (the other
     * warning is the invalid time of "bad") */
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 2);
    ck_assert_ptr_nonnull(strstr(tu_json_str(warnings, "issue.0.diagnostics"), "kept as text"));
    ck_assert_ptr_null(strstr(tu_json_str(warnings, "issue.0.diagnostics"), "trace"));
    json_decref(warnings);
    json_decref(b);
}
END_TEST

START_TEST(units_that_are_not_ucum)
{
    json_t *b = convert_results(NULL);

    ck_assert_str_eq(tu_json_str(result(b, "cel"), "valueQuantity.code"), "Cel");
    ck_assert_str_eq(tu_json_str(result(b, "cel"), "valueQuantity.unit"), "\u2103");
    ck_assert_str_eq(tu_json_str(result(b, "age"), "valueQuantity.code"), "a");
    ck_assert_str_eq(tu_json_str(result(b, "wbc"), "valueQuantity.code"), "10*9/L");
    ck_assert_str_eq(tu_json_str(result(b, "wbc"), "valueQuantity.unit"), "10^9/L");
    /* a unit that cannot be UCUM keeps its text and claims no code */
    ck_assert_str_eq(tu_json_str(result(b, "odd"), "valueQuantity.unit"), "\u4e2a/HP");
    ck_assert_ptr_null(tu_json_at(result(b, "odd"), "valueQuantity.system"));
    ck_assert_ptr_null(tu_json_at(result(b, "odd"), "valueQuantity.code"));
    json_decref(b);
}
END_TEST

START_TEST(values_without_xsi_type)
{
    json_t *b = convert_results(NULL);

    ck_assert_str_eq(tu_json_str(result(b, "cd"), "valueCodeableConcept.coding.0.code"),
                     "260385009");
    /* a narrative reference without its '#' still resolves */
    ck_assert_str_eq(tu_json_str(result(b, "cd"), "valueCodeableConcept.text"), "Nitrite negative");
    ck_assert_str_eq(tu_json_str(result(b, "st"), "valueString"), "see report");
    ck_assert_str_eq(tu_json_str(result(b, "pq"), "valueQuantity.code"), "mmol/L");
    ck_assert_str_eq(tu_json_str(result(b, "per"), "valuePeriod.start"), "2020-01-01");
    json_decref(b);
}
END_TEST

START_TEST(iso_and_sql_timestamps)
{
    json_t *warnings = NULL;
    json_t *b = convert_results(&warnings);

    ck_assert_str_eq(tu_json_str(result(b, "iso"), "effectiveDateTime"),
                     "2024-03-20T09:30:00+08:00");
    /* no zone written: the configured one, as for HL7 TS values */
    ck_assert_str_eq(tu_json_str(result(b, "sql"), "effectiveDateTime"),
                     "2024-03-20T09:30:00+08:00");
    ck_assert_str_eq(tu_json_str(result(b, "utc"), "effectiveDateTime"),
                     "2024-03-20T01:30:00.25+00:00");
    ck_assert_ptr_null(tu_json_at(result(b, "bad"), "effectiveDateTime"));
    /* a zone of hours only */
    ck_assert_str_eq(tu_json_str(result(b, "hh"), "effectiveDateTime"),
                     "2024-03-20T09:30:00+08:00");
    ck_assert_str_eq(tu_json_str(result(b, "isohh"), "effectiveDateTime"),
                     "2024-03-20T09:30:00-05:00");
    ck_assert_str_eq(tu_json_str(warnings, "issue.1.diagnostics"), "invalid timestamp; skipped");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* ------------------------------------------------ C-CDA R2.1 sections */

/* A US Realm header (C-CDA R2.1) around `body`. */
#define CCDA_DOC(body)                                                                             \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:sdtc=\"urn:hl7-org:sdtc\" "                  \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                     \
    "<realmCode code=\"US\"/><typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>" \
    "<templateId root=\"2.16.840.1.113883.10.20.22.1.2\" extension=\"2015-08-01\"/>"               \
    "<id root=\"1.2.840.114350.1.13.999.2.7.8.688883.1\" extension=\"DOC1\"/>"                     \
    "<code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\"/><title>CCD</title>"              \
    "<effectiveTime value=\"20230415103012-0500\"/>"                                               \
    "<recordTarget><patientRole><id root=\"1.2.840.114350.1.13.999.2.7.5.737384.14\" "             \
    "extension=\"E1\"/><patient><name><given>Jane</given><family>Doe</family></name>"              \
    "<administrativeGenderCode code=\"F\" codeSystem=\"2.16.840.1.113883.5.1\"/>"                  \
    "<birthTime value=\"19700502\"/></patient></patientRole></recordTarget>"                       \
    "<component><structuredBody>" body "</structuredBody></component></ClinicalDocument>"

#define CCDA_SECTION(tmpl, loinc, entries)                                                         \
    "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2." tmpl                    \
    "\" extension=\"2015-08-01\"/><code code=\"" loinc                                             \
    "\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/>" entries "</section></component>"

static const char encounters_doc[] =
    CCDA_DOC(CCDA_SECTION(
        "22.1", "46240-8",
        "<entry><encounter classCode=\"ENC\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.49\" extension=\"2015-08-01\"/>"
        "<id root=\"1.2.3.95\" extension=\"E1\"/>"
        "<code code=\"99213\" codeSystem=\"2.16.840.1.113883.6.12\" displayName=\"Office visit\">"
        "<translation code=\"AMB\" codeSystem=\"2.16.840.1.113883.5.4\"/></code>"
        "<effectiveTime><low value=\"20230301090000-0500\"/>"
        "<high value=\"20230301093000-0500\"/></effectiveTime>"
        "<sdtc:dischargeDispositionCode code=\"01\" codeSystem=\"2.16.840.1.113883.12.112\"/>"
        "<performer><assignedEntity><id root=\"2.16.840.1.113883.4.6\" extension=\"1234567893\"/>"
        "<assignedPerson><name><given>Adam</given><family>Smith</family></name></assignedPerson>"
        "</assignedEntity></performer>"
        "<participant typeCode=\"LOC\"><participantRole classCode=\"SDLOC\">"
        "<playingEntity classCode=\"PLC\"><name>Madison Clinic</name></playingEntity>"
        "</participantRole></participant>"
        "<entryRelationship typeCode=\"RSON\"><observation classCode=\"OBS\" moodCode=\"EVN\">"
        "<code code=\"404684003\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value xsi:type=\"CD\" code=\"29857009\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "</observation></entryRelationship>"
        "<entryRelationship typeCode=\"COMP\"><act classCode=\"ACT\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.80\" extension=\"2015-08-01\"/>"
        "<code code=\"29308-4\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">"
        "<id root=\"1.2.3.94\" extension=\"DX1\"/>"
        "<code code=\"282291009\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value xsi:type=\"CD\" code=\"J06.9\" codeSystem=\"2.16.840.1.113883.6.90\"/>"
        "</observation></entryRelationship></act></entryRelationship>"
        "</encounter></entry>"
        "<entry><encounter classCode=\"ENC\" moodCode=\"INT\"><id root=\"1.2.3.95\" "
        "extension=\"E2\"/>"
        "<code code=\"99214\" codeSystem=\"2.16.840.1.113883.6.12\"/>"
        "<effectiveTime value=\"20231201\"/></encounter></entry>")
                 CCDA_SECTION("17", "29762-2",
                              "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">"
                              "<templateId root=\"2.16.840.1.113883.10.20.22.4.78\"/>"
                              "<id root=\"1.2.3.96\" extension=\"S1\"/>"
                              "<code code=\"72166-2\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
                              "<statusCode code=\"completed\"/><effectiveTime value=\"20230415\"/>"
                              "<value xsi:type=\"CD\" code=\"8517006\" "
                              "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entry>"));

START_TEST(encounters_section)
{
    json_t *b = convert_ok(encounters_doc, NULL);
    json_t *enc = nth(b, "Encounter", 0);
    json_t *dx = nth(b, "Condition", 0);
    size_t i;
    json_t *e;
    const char *enc_url = NULL;

    ck_assert_uint_eq(count_type(b, "Encounter"), 1); /* the planned one is not */
    ck_assert_str_eq(tu_json_str(enc, "class.code"), "AMB");
    ck_assert_str_eq(tu_json_str(enc, "type.0.coding.0.code"), "99213");
    ck_assert_str_eq(tu_json_str(enc, "status"), "finished");
    ck_assert_str_eq(tu_json_str(enc, "period.end"), "2023-03-01T09:30:00-05:00");
    ck_assert_str_eq(tu_json_str(enc, "location.0.location.display"), "Madison Clinic");
    ck_assert_str_eq(tu_json_str(enc, "reasonCode.0.coding.0.code"), "29857009");
    ck_assert_str_eq(tu_json_str(enc, "hospitalization.dischargeDisposition.coding.0.code"), "01");
    ck_assert_ptr_nonnull(tu_json_at(enc, "participant.0.individual.reference"));
    ck_assert_str_eq(tu_json_str(enc, "identifier.0.value"), "E1");
    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        if (json_object_get(e, "resource") == enc)
            enc_url = tu_json_str(e, "fullUrl");
    }
    ck_assert_str_eq(tu_json_str(dx, "code.coding.0.code"), "J06.9");
    ck_assert_str_eq(tu_json_str(dx, "category.0.coding.0.code"), "encounter-diagnosis");
    ck_assert_str_eq(tu_json_str(dx, "encounter.reference"), enc_url);
    json_decref(b);
}
END_TEST

START_TEST(social_history_section)
{
    json_t *b = convert_ok(encounters_doc, NULL);
    json_t *obs = nth(b, "Observation", 0);

    ck_assert_str_eq(tu_json_str(obs, "code.coding.0.code"), "72166-2");
    ck_assert_str_eq(tu_json_str(obs, "category.0.coding.0.code"), "social-history");
    ck_assert_str_eq(tu_json_str(obs, "valueCodeableConcept.coding.0.code"), "8517006");
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------ medications */

START_TEST(medication_event_timing_and_dose_range)
{
    static const char frag[] =
        "<section xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<code code=\"10160-0\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\">"
        "<id root=\"1.2.3\" extension=\"M2\"/><statusCode code=\"completed\"/>"
        "<effectiveTime xsi:type=\"IVL_TS\"><low value=\"20220101\"/><high value=\"20220110\"/>"
        "</effectiveTime><effectiveTime xsi:type=\"EIVL_TS\" operator=\"A\"><event code=\"HS\"/>"
        "</effectiveTime><doseQuantity><low value=\"1\" unit=\"{tbl}\"/>"
        "<high value=\"2\" unit=\"{tbl}\"/></doseQuantity><consumable><manufacturedProduct>"
        "<manufacturedMaterial><code nullFlavor=\"UNK\"><originalText>Melatonin 3 mg</originalText>"
        "</code></manufacturedMaterial></manufacturedProduct></consumable>"
        "</substanceAdministration></entry></section>";
    struct cda_options opt = {.patient_ref = "Patient/1"};
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(frag, NULL, &opt, NULL, &err, &rc);
    json_t *ms = nth(b, "MedicationStatement", 0);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_str_eq(tu_json_str(ms, "medicationCodeableConcept.text"), "Melatonin 3 mg");
    ck_assert_str_eq(tu_json_str(ms, "dosage.0.timing.repeat.when.0"), "HS");
    ck_assert_str_eq(tu_json_str(ms, "dosage.0.doseAndRate.0.doseRange.high.code"), "{tbl}");
    ck_assert_ptr_nonnull(tu_json_at(ms, "dosage.0.doseAndRate.0.doseRange.low.value"));
    ck_assert_str_eq(tu_json_str(ms, "effectivePeriod.end"), "2022-01-10");
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

/* ------------------------------------------------ problems, allergies */

static const char concern_doc[] = CCDA_DOC(
    CCDA_SECTION(
        "5.1", "11450-4",
        "<entry><act classCode=\"ACT\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.3\"/>"
        "<code code=\"CONC\" codeSystem=\"2.16.840.1.113883.5.6\"/>"
        "<statusCode code=\"completed\"/><effectiveTime><low value=\"2019\"/>"
        "<high nullFlavor=\"UNK\"/></effectiveTime>"
        "<entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">"
        "<id root=\"1.2.3.93\" extension=\"PR9\"/>"
        "<code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<effectiveTime><low value=\"2019\"/><high nullFlavor=\"UNK\"/></effectiveTime>"
        "<value xsi:type=\"CD\" code=\"195967001\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "</observation></entryRelationship></act></entry>")
        CCDA_SECTION("6.1", "48765-2",
                     "<entry><act classCode=\"ACT\" moodCode=\"EVN\">"
                     "<code code=\"CONC\" codeSystem=\"2.16.840.1.113883.5.6\"/>"
                     "<statusCode code=\"active\"/><entryRelationship typeCode=\"SUBJ\">"
                     "<observation classCode=\"OBS\" moodCode=\"EVN\">"
                     "<id root=\"1.2.3.92\" extension=\"AL9\"/>"
                     "<code code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/>"
                     "<value xsi:type=\"CD\" code=\"409137002\" "
                     "codeSystem=\"2.16.840.1.113883.6.96\" displayName=\"No known drug allergy\"/>"
                     "</observation></entryRelationship></act></entry>"));

START_TEST(completed_concern_is_not_an_active_problem)
{
    json_t *b = convert_ok(concern_doc, NULL);
    json_t *cond = nth(b, "Condition", 0);

    ck_assert_str_eq(tu_json_str(cond, "code.coding.0.code"), "195967001");
    ck_assert_str_eq(tu_json_str(cond, "clinicalStatus.coding.0.code"), "resolved");
    json_decref(b);
}
END_TEST

START_TEST(no_known_drug_allergy_as_value)
{
    json_t *warnings = NULL;
    json_t *b = convert_ok(concern_doc, &warnings);
    json_t *al = nth(b, "AllergyIntolerance", 0);

    ck_assert_ptr_nonnull(al);
    ck_assert_str_eq(tu_json_str(al, "code.coding.0.code"), "409137002");
    ck_assert_ptr_null(tu_json_at(al, "verificationStatus"));
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 0);
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------ contacts */

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

/* ------------------------------------------------------------- limits */

START_TEST(warnings_are_capped)
{
    static const char head[] = "<section xmlns=\"urn:hl7-org:v3\"><code code=\"30954-2\" "
                               "codeSystem=\"2.16.840.1.113883.6.1\"/>";
    static const char entry[] = "<entry><observation/></entry>";
    size_t n = 5000;
    size_t len = sizeof(head) + n * (sizeof(entry) - 1) + sizeof("</section>");
    char *xml = malloc(len);
    struct cda_limits lim = cda_limits_default();
    struct base_err err = {0};
    json_t *warnings = NULL;
    json_t *b;
    size_t o = 0;
    int rc;

    ck_assert_ptr_nonnull(xml);
    memcpy(xml, head, sizeof(head) - 1);
    o = sizeof(head) - 1;
    for (size_t i = 0; i < n; i++, o += sizeof(entry) - 1)
        memcpy(xml + o, entry, sizeof(entry) - 1);
    memcpy(xml + o, "</section>", sizeof("</section>"));
    lim.max_warnings = 10;
    b = convert_text(xml, &lim, NULL, &warnings, &err, &rc);
    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 11);
    ck_assert_str_eq(tu_json_str(warnings, "issue.10.diagnostics"),
                     "4990 further warnings omitted");
    ck_assert_str_eq(tu_json_str(warnings, "issue.10.code"), "too-costly");
    json_decref(warnings);
    json_decref(b);
    free(xml);
}
END_TEST

/* ------------------------------------------------------------ encodings */

/* 肺炎 in GBK bytes, in a document that declares UTF-8 or nothing. */
#define GBK_FRAGMENT(decl)                                                                         \
    decl "<section xmlns=\"urn:hl7-org:v3\"><code code=\"11450-4\" "                               \
         "codeSystem=\"2.16.840.1.113883.6.1\"/><entry><observation classCode=\"OBS\" "            \
         "moodCode=\"EVN\"><code code=\"64572001\" codeSystem=\"2.16.840.1.113883.6.96\"/>"        \
         "<value xsi:type=\"CD\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"         \
         "<originalText>\xb7\xce\xd1\xd7</originalText></value></observation></entry></section>"

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

START_TEST(result_without_time_takes_the_organizers)
{
    static const char frag[] =
        "<section xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<code code=\"30954-2\" codeSystem=\"2.16.840.1.113883.6.1\"/><entry>"
        "<organizer classCode=\"BATTERY\" moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"O\"/>"
        "<code code=\"24323-8\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<statusCode code=\"completed\"/><effectiveTime><low value=\"20230410083000-0500\"/>"
        "<high value=\"20230410083000-0500\"/></effectiveTime>"
        "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"A\"/><code code=\"2345-7\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<value xsi:type=\"PQ\" value=\"98\" unit=\"mg/dL\"/></observation></component>"
        "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"B\"/><code code=\"2951-2\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<effectiveTime value=\"20230410090000-0500\"/>"
        "<value xsi:type=\"PQ\" value=\"140\" unit=\"mmol/L\"/></observation></component>"
        "</organizer></entry></section>";
    struct cda_options opt = {.patient_ref = "Patient/1"};
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(frag, NULL, &opt, NULL, &err, &rc);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "effectiveDateTime"),
                     "2023-04-10T08:30:00-05:00");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "effectiveDateTime"),
                     "2023-04-10T09:00:00-05:00");
    json_decref(b);
}
END_TEST

START_TEST(encounter_fragment_with_undeclared_prefixes)
{
    /* As the C-CDA example fragments: no namespace, xsi: and sdtc: used
     * without being declared, the diagnosis as an ICD-9 translation. */
    static const char frag[] =
        "<section><code code=\"46240-8\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<text><content ID=\"D1\">Heart failure</content></text>"
        "<entry><encounter moodCode=\"EVN\" classCode=\"ENC\">"
        "<id root=\"248b2c03-2013-e138-07d1-001A64958C30\"/>"
        "<code code=\"99238\" codeSystem=\"2.16.840.1.113883.6.12\">"
        "<translation code=\"IMP\" codeSystem=\"2.16.840.1.113883.5.4\"/></code>"
        "<effectiveTime xsi:type=\"IVL_TS\"><low value=\"201410281222-0500\"/>"
        "<high value=\"201410311504-0500\"/></effectiveTime>"
        "<sdtc:dischargeDispositionCode code=\"04\" codeSystem=\"2.16.840.1.113883.6.301.5\"/>"
        "<entryRelationship typeCode=\"SUBJ\"><act moodCode=\"EVN\" classCode=\"ACT\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.33\"/>"
        "<code code=\"11535-2\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"active\"/>"
        "<entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">"
        "<id root=\"20cdd1a0-6136-4939-802f-edfebe9320bc\"/>"
        "<code code=\"282291009\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value xsi:type=\"CD\" nullFlavor=\"OTH\"><originalText><reference value=\"#D1\"/>"
        "</originalText><translation code=\"428.0\" codeSystem=\"2.16.840.1.113883.6.103\"/>"
        "</value></observation></entryRelationship></act></entryRelationship>"
        "</encounter></entry></section>";
    struct cda_options opt = {.patient_ref = "Patient/1"};
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(frag, NULL, &opt, NULL, &err, &rc);
    json_t *enc = nth(b, "Encounter", 0);
    json_t *dx = nth(b, "Condition", 0);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_str_eq(tu_json_str(enc, "class.code"), "IMP");
    ck_assert_str_eq(tu_json_str(enc, "period.start"), "2014-10-28T12:22:00-05:00");
    ck_assert_str_eq(tu_json_str(enc, "hospitalization.dischargeDisposition.coding.0.code"), "04");
    ck_assert_str_eq(tu_json_str(enc, "hospitalization.dischargeDisposition.coding.0.system"),
                     "https://www.nubc.org/CodeSystem/PatDischargeStatus");
    ck_assert_str_eq(tu_json_str(dx, "code.coding.0.system"), "http://hl7.org/fhir/sid/icd-9-cm");
    ck_assert_str_eq(tu_json_str(dx, "code.text"), "Heart failure");
    ck_assert_str_eq(tu_json_str(dx, "category.0.coding.0.code"), "encounter-diagnosis");
    ck_assert_str_eq(tu_json_str(dx, "clinicalStatus.coding.0.code"), "active");
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------- document */

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

START_TEST(nested_result_organizers)
{
    /* A microbiology-style battery whose components are panels */
    static const char frag[] =
        "<section xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<code code=\"30954-2\" codeSystem=\"2.16.840.1.113883.6.1\"/><entry>"
        "<organizer classCode=\"BATTERY\" moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"P\"/>"
        "<code code=\"630-4\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode "
        "code=\"completed\"/>"
        "<effectiveTime value=\"20230410\"/><component><organizer classCode=\"CLUSTER\" "
        "moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"S\"/>"
        "<code code=\"29576-6\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<statusCode code=\"completed\"/><component><observation classCode=\"OBS\" "
        "moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"A\"/>"
        "<code code=\"18862-3\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<value xsi:type=\"CD\" code=\"S\" codeSystem=\"2.16.840.1.113883.5.83\"/>"
        "</observation></component></organizer></component></organizer></entry></section>";
    struct cda_options opt = {.patient_ref = "Patient/1"};
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(frag, NULL, &opt, NULL, &err, &rc);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_uint_eq(count_type(b, "Observation"), 1);
    ck_assert_uint_eq(count_type(b, "DiagnosticReport"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "DiagnosticReport", 0), "code.coding.0.code"), "29576-6");
    json_decref(b);
}
END_TEST

START_TEST(immunization_with_the_hitsp_cvx_oid)
{
    static const char frag[] =
        "<section xmlns=\"urn:hl7-org:v3\"><code code=\"11369-6\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/><entry><substanceAdministration "
        "classCode=\"SBADM\" moodCode=\"EVN\" negationInd=\"false\"><id root=\"1.2.3\" "
        "extension=\"I\"/><statusCode code=\"completed\"/><effectiveTime value=\"20101015\"/>"
        "<consumable><manufacturedProduct><manufacturedMaterial><code code=\"88\" "
        "codeSystem=\"2.16.840.1.113883.6.59\"/></manufacturedMaterial></manufacturedProduct>"
        "</consumable></substanceAdministration></entry></section>";
    struct cda_options opt = {.patient_ref = "Patient/1"};
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(frag, NULL, &opt, NULL, &err, &rc);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_str_eq(tu_json_str(nth(b, "Immunization", 0), "vaccineCode.coding.0.system"),
                     "http://hl7.org/fhir/sid/cvx");
    json_decref(b);
}
END_TEST

#define WST_COMPONENT(de, value, inner)                                                            \
    "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"" de                  \
    "\" codeSystem=\"2.16.156.10011.2.2.1\"/>" value inner "</observation></component>"

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

START_TEST(padded_attribute_values)
{
    /* fixed-width database columns: "F ", " 38341003 ", an OID with spaces */
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "5.1", "11450-4",
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\" P1 \"/><code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value xsi:type=\"CD\" code=\" 38341003 \" codeSystem=\" 2.16.840.1.113883.6.96 \" "
        "displayName=\" Hypertension&#10;\"/></observation></entry>"
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"P2\"/><code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value xsi:type=\"CD\" code=\"   \" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "</observation></entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *cond = nth(b, "Condition", 0);

    ck_assert_uint_eq(count_type(b, "Condition"), 1); /* a blank code is no code */
    ck_assert_str_eq(tu_json_str(cond, "code.coding.0.code"), "38341003");
    ck_assert_str_eq(tu_json_str(cond, "code.coding.0.system"), "http://snomed.info/sct");
    ck_assert_str_eq(tu_json_str(cond, "code.coding.0.display"), "Hypertension");
    ck_assert_str_eq(tu_json_str(cond, "identifier.0.value"), "P1");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "required");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

START_TEST(health_concerns_section)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "58", "75310-3",
        "<entry><act classCode=\"ACT\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.132\" extension=\"2015-08-01\"/>"
        "<id root=\"1.2.3.91\" extension=\"HC1\"/><code code=\"75310-3\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"active\"/>"
        "<entryRelationship typeCode=\"REFR\"><observation classCode=\"OBS\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.4\" extension=\"2015-08-01\"/>"
        "<id root=\"1.2.3.91\" extension=\"HC1O\"/>"
        "<code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value xsi:type=\"CD\" code=\"233604007\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "</observation></entryRelationship>"
        "<entryRelationship typeCode=\"SPRT\"><observation classCode=\"OBS\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.2\"/><id root=\"1.2.3.91\" "
        "extension=\"R\"/>"
        "<code code=\"6690-2\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<value xsi:type=\"PQ\" value=\"12\" unit=\"10*3/uL\"/></observation></entryRelationship>"
        "</act></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *cond = nth(b, "Condition", 0);

    /* the supporting result is evidence, not a condition */
    ck_assert_uint_eq(count_type(b, "Condition"), 1);
    ck_assert_str_eq(tu_json_str(cond, "code.coding.0.code"), "233604007");
    ck_assert_str_eq(tu_json_str(cond, "category.0.coding.0.code"), "health-concern");
    json_decref(b);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *
cda_realworld_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("cda_realworld");
    TCase *ids = tcase_create("identifiers");
    TCase *wst = tcase_create("wst500");
    TCase *values = tcase_create("values");
    TCase *sections = tcase_create("sections");
    TCase *limits = tcase_create("reading");

    tcase_add_test(ids, empty_extension_is_no_identifier);
    tcase_add_test(wst, wst_diagnosis_section_maps_only_diagnoses);
    tcase_add_test(wst, wst_vital_signs_in_physical_exam);
    tcase_add_test(wst, wst_allergy_denied_is_no_known_allergy);
    tcase_add_test(wst, wst_encounter_from_body_dates_and_places);
    tcase_add_test(wst, wst_medication_labeled_drug);
    tcase_add_test(wst, wst_lab_result_unit_from_its_own_entry);
    tcase_add_test(wst, wst_lab_item_is_one_observation);
    tcase_add_test(values, quantity_comparator_and_text);
    tcase_add_test(values, units_that_are_not_ucum);
    tcase_add_test(values, values_without_xsi_type);
    tcase_add_test(values, iso_and_sql_timestamps);
    tcase_add_test(sections, encounters_section);
    tcase_add_test(sections, social_history_section);
    tcase_add_test(sections, encounter_fragment_with_undeclared_prefixes);
    tcase_add_test(sections, medication_event_timing_and_dose_range);
    tcase_add_test(sections, completed_concern_is_not_an_active_problem);
    tcase_add_test(sections, no_known_drug_allergy_as_value);
    tcase_add_test(sections, health_concerns_section);
    tcase_add_test(ids, patient_contacts);
    tcase_add_test(ids, padded_attribute_values);
    tcase_add_test(ids, bare_phone_numbers_and_emails);
    tcase_add_test(ids, replaced_document_relates_to_its_parent);
    tcase_add_test(values, result_without_time_takes_the_organizers);
    tcase_add_test(values, nested_result_organizers);
    tcase_add_test(values, immunization_with_the_hitsp_cvx_oid);
    tcase_add_test(limits, warnings_are_capped);
    tcase_add_test(limits, undeclared_gbk_is_read_as_gb18030);
    tcase_add_test(limits, declared_encoding_is_not_second_guessed);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, ids);
    suite_add_tcase(s, sections);
    suite_add_tcase(s, values);
    suite_add_tcase(s, wst);
    return s;
}
