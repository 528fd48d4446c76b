/*
 * CDA documents as other hospitals' systems write them, in the style of
 * US C-CDA R2.1 exports (written for these tests; WS/T 500 documents are in
 * check_cda_wst500.c): each test pins one fix and fails without it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "fhir/json/fhir_json.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

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

/* ------------------------------------------------------------ reading */

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

START_TEST(comment_activities_become_notes)
{
    static const char frag[] =
        "<section xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<code code=\"30954-2\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<text><paragraph ID=\"c1\">Specimen slightly hemolyzed.</paragraph></text><entry>"
        "<observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"K\"/>"
        "<code code=\"2823-3\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<value xsi:type=\"PQ\" value=\"5.9\" unit=\"mmol/L\"/>"
        "<entryRelationship typeCode=\"SUBJ\" inversionInd=\"true\"><act classCode=\"ACT\" "
        "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.64\"/>"
        "<code code=\"48767-8\" codeSystem=\"2.16.840.1.113883.6.1\"/><text><reference "
        "value=\"#c1\"/></text></act></entryRelationship></observation></entry></section>";
    struct cda_options opt = {.patient_ref = "Patient/1"};
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(frag, NULL, &opt, NULL, &err, &rc);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "note.0.text"),
                     "Specimen slightly hemolyzed.");
    json_decref(b);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *
cda_realworld_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("cda_realworld");
    TCase *values = tcase_create("values");
    TCase *sections = tcase_create("sections");
    TCase *reading = tcase_create("reading");

    tcase_add_test(values, quantity_comparator_and_text);
    tcase_add_test(values, units_that_are_not_ucum);
    tcase_add_test(values, values_without_xsi_type);
    tcase_add_test(values, iso_and_sql_timestamps);
    tcase_add_test(values, result_without_time_takes_the_organizers);
    tcase_add_test(values, nested_result_organizers);
    tcase_add_test(values, immunization_with_the_hitsp_cvx_oid);
    tcase_add_test(values, comment_activities_become_notes);
    tcase_add_test(sections, encounters_section);
    tcase_add_test(sections, social_history_section);
    tcase_add_test(sections, encounter_fragment_with_undeclared_prefixes);
    tcase_add_test(sections, medication_event_timing_and_dose_range);
    tcase_add_test(sections, completed_concern_is_not_an_active_problem);
    tcase_add_test(sections, no_known_drug_allergy_as_value);
    tcase_add_test(sections, health_concerns_section);
    tcase_add_test(reading, padded_attribute_values);
    tcase_add_test(reading, warnings_are_capped);
    suite_add_tcase(s, values);
    suite_add_tcase(s, sections);
    suite_add_tcase(s, reading);
    return s;
}
