/*
 * Second sweep of vendors' documents (NIST certification samples, HL7
 * C-CDA-Examples social history, Allscripts, athenahealth, VA and others
 * from jmandel/sample_ccdas).  Part of the cda_vendors suite; the documents
 * here are minimal ones written for these tests, one construct each, and
 * each test fails without its fix.
 */
#include <check.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "fhir/json/fhir_json.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

/* An Allergy Concern Act around an allergy observation whose substance is
 * RxNorm `rx` and whose inner entryRelationships are `rels`. */
#define ALLERGY(id, rx, rels)                                                                      \
    "<entry><act classCode=\"ACT\" moodCode=\"EVN\">"                                              \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.30\"/><code code=\"CONC\" "                   \
    "codeSystem=\"2.16.840.1.113883.5.6\"/><statusCode code=\"active\"/>"                          \
    "<entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">"        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.7\"/><id root=\"1.2.3\" extension=\"" id      \
    "\"/><code code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/>"                          \
    "<statusCode code=\"completed\"/><value xsi:type=\"CD\" code=\"419511003\" "                   \
    "codeSystem=\"2.16.840.1.113883.6.96\"/><participant typeCode=\"CSM\"><participantRole "       \
    "classCode=\"MANU\"><playingEntity classCode=\"MMAT\"><code code=\"" rx "\" "                  \
    "codeSystem=\"2.16.840.1.113883.6.88\"/></playingEntity></participantRole></participant>" rels \
    "</observation></entryRelationship></act></entry>"

/* A Severity Observation (4.8) with `value`, as an entryRelationship. */
#define SEVERITY(value)                                                                            \
    "<entryRelationship typeCode=\"SUBJ\" inversionInd=\"true\"><observation classCode=\"OBS\" "   \
    "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.8\"/><code code=\"SEV\" "    \
    "codeSystem=\"2.16.840.1.113883.5.4\"/><statusCode code=\"completed\"/>" value                 \
    "</observation></entryRelationship>"

/* A Reaction Observation (4.9) of hives, with `inner` inside it. */
#define HIVES(inner)                                                                               \
    "<entryRelationship typeCode=\"MFST\" inversionInd=\"true\"><observation classCode=\"OBS\" "   \
    "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.9\"/><code "                 \
    "nullFlavor=\"NA\"/><statusCode code=\"completed\"/><value xsi:type=\"CD\" "                   \
    "code=\"247472004\" codeSystem=\"2.16.840.1.113883.6.96\"/>" inner                             \
    "</observation></entryRelationship>"

/* NIST samples grade with the whole Problem Severity value set ("Moderate
 * to severe", "Mild to moderate"), others with a local code and words. */
START_TEST(severity_ranges_and_words)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "6.1", "48765-2",
        ALLERGY("A", "7982",
                HIVES("") SEVERITY("<value xsi:type=\"CD\" code=\"371924009\" "
                                   "codeSystem=\"2.16.840.1.113883.6.96\"/>"))
            ALLERGY("B", "1191",
                    HIVES(SEVERITY("<value xsi:type=\"CD\" code=\"371923003\" "
                                   "codeSystem=\"2.16.840.1.113883.6.96\"/>")))
                ALLERGY("C", "2670",
                        HIVES(SEVERITY("<value xsi:type=\"CD\" code=\"S3\" codeSystem=\"1.2.3.9\" "
                                       "displayName=\"MILD\"/>")))
                    ALLERGY("D", "733",
                            HIVES(SEVERITY("<value xsi:type=\"CD\" nullFlavor=\"OTH\">"
                                           "<originalText>Severe</originalText></value>")))
                        ALLERGY("E", "4053",
                                HIVES(SEVERITY("<value xsi:type=\"CD\" "
                                               "nullFlavor=\"UNK\"/>")))));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "AllergyIntolerance"), 5);
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 0), "reaction.0.severity"), "severe");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 1), "reaction.0.severity"),
                     "moderate");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 2), "reaction.0.severity"), "mild");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 3), "reaction.0.severity"), "severe");
    ck_assert_ptr_null(tu_json_at(nth(b, "AllergyIntolerance", 4), "reaction.0.severity"));
    json_decref(b);
}
END_TEST

/* A Problem Observation with `time` and an Age Observation of `age`. */
#define AGED_PROBLEM(id, time, age)                                                                \
    "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><templateId "                                  \
    "root=\"2.16.840.1.113883.10.20.22.4.3\"/><code code=\"CONC\" "                                \
    "codeSystem=\"2.16.840.1.113883.5.6\"/><statusCode code=\"active\"/>"                          \
    "<entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">"        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.4\"/><id root=\"1.2.3\" extension=\"" id      \
    "\"/><code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"                          \
    "<statusCode code=\"completed\"/>" time "<value xsi:type=\"CD\" code=\"195967001\" "           \
    "codeSystem=\"2.16.840.1.113883.6.96\"/><entryRelationship typeCode=\"SUBJ\" "                 \
    "inversionInd=\"true\"><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "           \
    "root=\"2.16.840.1.113883.10.20.22.4.31\"/><code code=\"445518008\" "                          \
    "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/>" age                  \
    "</observation></entryRelationship></observation></entryRelationship></act></entry>"

/* Age at onset (C-CDA 4.31) when the onset date is unknown -> onsetAge;
 * FHIR age-1 wants a positive time in UCUM, so other values give nothing. */
START_TEST(problem_age_at_onset)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "5.1", "11450-4",
        AGED_PROBLEM("A", "<effectiveTime><low nullFlavor=\"UNK\"/></effectiveTime>",
                     "<value xsi:type=\"PQ\" value=\"65\" unit=\"a\"/>")
            AGED_PROBLEM("B", "<effectiveTime><low value=\"20120806\"/></effectiveTime>",
                         "<value xsi:type=\"PQ\" value=\"65\" unit=\"a\"/>")
                AGED_PROBLEM("C", "", "<value xsi:type=\"PQ\" value=\"3\" unit=\"kg\"/>")
                    AGED_PROBLEM("D", "", "<value xsi:type=\"PQ\" value=\"0\" unit=\"mo\"/>")));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *a = nth(b, "Condition", 0);

    ck_assert_uint_eq(count_type(b, "Condition"), 4);
    ck_assert_str_eq(tu_json_str(a, "onsetAge.code"), "a");
    ck_assert_str_eq(tu_json_str(a, "onsetAge.system"), "http://unitsofmeasure.org");
    ck_assert_double_eq(fhir_json_number_double(tu_json_at(a, "onsetAge.value")), 65);
    /* a date wins: onset[x] is one choice */
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 1), "onsetDateTime"), "2012-08-06");
    ck_assert_ptr_null(tu_json_at(nth(b, "Condition", 1), "onsetAge"));
    ck_assert_ptr_null(tu_json_at(nth(b, "Condition", 2), "onsetAge"));
    ck_assert_ptr_null(tu_json_at(nth(b, "Condition", 3), "onsetAge"));
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 2);
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* HL7 "Unknown if Pregnant": the Pregnancy Observation nullFlavored UNK is
 * a status (unknown), not an entry that says nothing. */
START_TEST(unknown_if_pregnant)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "17", "29762-2",
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\" nullFlavor=\"UNK\">"
        "<templateId root=\"2.16.840.1.113883.10.20.15.3.8\"/><id root=\"1.2.3\" extension=\"P\"/>"
        "<code code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/>"
        "<statusCode code=\"completed\"/><effectiveTime value=\"20110410\"/>"
        "<value xsi:type=\"CD\" code=\"77386006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "</observation></entry>"
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\" nullFlavor=\"NI\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.38\"/>"
        "<code code=\"229819007\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<statusCode code=\"completed\"/></observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_uint_eq(count_type(b, "Observation"), 1);
    ck_assert_str_eq(tu_json_str(o, "code.coding.1.code"), "82810-3");
    ck_assert_str_eq(tu_json_str(o, "valueCodeableConcept.coding.0.code"), "261665006");
    ck_assert_str_eq(tu_json_str(o, "effectiveDateTime"), "2011-04-10");
    json_decref(b);
}
END_TEST

/* A medication whose narrative is a table row and whose Medication Status
 * observation says Active while statusCode says completed (Allscripts). */
#define ROW_MED(id, status, value)                                                                 \
    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"INT\">"                        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.16\"/><id root=\"1.2.3\" extension=\"" id     \
    "\"/><text><reference value=\"#row" id "\"/></text><statusCode code=\"" status "\"/>"          \
    "<consumable><manufacturedProduct><manufacturedMaterial><code code=\"749780\" "                \
    "codeSystem=\"2.16.840.1.113883.6.88\"/></manufacturedMaterial></manufacturedProduct>"         \
    "</consumable><entryRelationship typeCode=\"REFR\"><observation classCode=\"OBS\" "            \
    "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.1.47\"/><code "                   \
    "code=\"33999-4\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"completed\"/>"      \
    "<value xsi:type=\"CE\" code=\"" value "\" codeSystem=\"2.16.840.1.113883.6.96\"/>"            \
    "</observation></entryRelationship></substanceAdministration></entry>"

START_TEST(table_row_text_and_medication_status_observation)
{
    static const char doc[] = CCDA_DOC(
        "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2.1.1\"/>"
        "<code code=\"10160-0\" codeSystem=\"2.16.840.1.113883.6.1\"/><text><table><tbody>"
        "<tr ID=\"rowA\"><td>Azithromycin 500 MG Oral Tablet</td><td><content>Take as "
        "needed.</content></td></tr><tr ID=\"rowB\"><td><paragraph>one</paragraph>"
        "<paragraph>two</paragraph>three<br/>four</td></tr><tr ID=\"rowC\"><td>"
        "<content>x</content><content>y</content></td></tr></tbody></table></text>" ROW_MED(
            "A", "completed", "55561003") ROW_MED("B", "active", "73425007")
            ROW_MED("C", "aborted", "55561003") "</section></component>");
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "MedicationStatement", 0);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 3);
    /* cells, paragraphs and line breaks separate words; inline content does not */
    ck_assert_str_eq(tu_json_str(a, "dosage.0.text"),
                     "Azithromycin 500 MG Oral Tablet Take as needed.");
    ck_assert_str_eq(tu_json_str(nth(b, "MedicationStatement", 1), "dosage.0.text"),
                     "one two three four");
    ck_assert_str_eq(tu_json_str(nth(b, "MedicationStatement", 2), "dosage.0.text"), "xy");
    ck_assert_str_eq(tu_json_str(a, "status"), "active");
    ck_assert_str_eq(tu_json_str(nth(b, "MedicationStatement", 1), "status"), "completed");
    /* a stopped activity stays stopped whatever the status observation says */
    ck_assert_str_eq(tu_json_str(nth(b, "MedicationStatement", 2), "status"), "stopped");
    json_decref(b);
}
END_TEST

/* A Result Organizer of time `time` around one result of `inner`. */
#define PANEL(id, time, inner)                                                                     \
    "<entry><organizer classCode=\"BATTERY\" moodCode=\"EVN\"><templateId "                        \
    "root=\"2.16.840.1.113883.10.20.22.4.1\"/><id root=\"1.2.3\" extension=\"" id "\"/>"           \
    "<code code=\"57021-8\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode "                    \
    "code=\"completed\"/>" time "<component><observation classCode=\"OBS\" moodCode=\"EVN\">"      \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.2\"/><id root=\"1.2.3\" extension=\"r" id     \
    "\"/><code code=\"26515-7\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode "                \
    "code=\"completed\"/><effectiveTime value=\"20140213103700-0600\"/>" inner                     \
    "</observation></component></organizer></entry>"

/* HL7 "Results Unit Non-UCUM": PQ nullFlavor OTH, the number and the lab's
 * unit in the translation, reference range bounds alike; HL7 "Result with
 * greater than": an organizer time that cannot be read (13 digits). */
START_TEST(non_ucum_quantities_and_unreadable_report_time)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "3.1", "30954-2",
        PANEL("A", "<effectiveTime><low value=\"2014021301037-0600\"/></effectiveTime>",
              "<value xsi:type=\"PQ\" nullFlavor=\"OTH\"><translation value=\"152\" "
              "nullFlavor=\"OTH\"><originalText>THOUS/MCL</originalText></translation></value>"
              "<referenceRange><observationRange><value xsi:type=\"IVL_PQ\"><low "
              "nullFlavor=\"OTH\"><translation value=\"150\" nullFlavor=\"OTH\"><originalText>"
              "THOUS/MCL</originalText></translation></low><high nullFlavor=\"OTH\">"
              "<translation value=\"400\" nullFlavor=\"OTH\"><originalText>THOUS/MCL"
              "</originalText></translation></high></value></observationRange></referenceRange>")
            PANEL("B", "", "<value xsi:type=\"PQ\" nullFlavor=\"OTH\"/>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "Observation", 0);

    ck_assert_uint_eq(count_type(b, "Observation"), 2);
    ck_assert_double_eq(fhir_json_number_double(tu_json_at(a, "valueQuantity.value")), 152);
    ck_assert_str_eq(tu_json_str(a, "valueQuantity.unit"), "THOUS/MCL");
    ck_assert_ptr_null(tu_json_at(a, "valueQuantity.code")); /* not UCUM */
    ck_assert_ptr_null(tu_json_at(a, "dataAbsentReason"));
    ck_assert_double_eq(fhir_json_number_double(tu_json_at(a, "referenceRange.0.low.value")), 150);
    ck_assert_double_eq(fhir_json_number_double(tu_json_at(a, "referenceRange.0.high.value")), 400);
    /* a PQ OTH with nothing in it still says why there is no value */
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "dataAbsentReason.coding.0.code"),
                     "unsupported");
    /* the organizer's unreadable time gives way to its results' */
    ck_assert_str_eq(tu_json_str(nth(b, "DiagnosticReport", 0), "effectiveDateTime"),
                     "2014-02-13T10:37:00-06:00");
    json_decref(b);
}
END_TEST

/* A concern act of template `tmpl` around a Problem Observation coded `code`
 * whose value is `value`. */
#define CONCERN(tmpl, id, code, value)                                                             \
    "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><templateId "                                  \
    "root=\"2.16.840.1.113883.10.20.22.4." tmpl "\"/><code code=\"75310-3\" "                      \
    "codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"active\"/><entryRelationship "       \
    "typeCode=\"REFR\"><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "               \
    "root=\"2.16.840.1.113883.10.20.22.4.4\"/><id root=\"1.2.3\" extension=\"" id "\"/><code "     \
    "code=\"" code "\" codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/>"    \
    "<value xsi:type=\"CD\" code=\"" value "\" codeSystem=\"2.16.840.1.113883.6.96\"/>"            \
    "</observation></entryRelationship></act></entry>"

/* HL7 Care Plan: a Risk Concern Act (4.136) of "Malignant neoplastic
 * disease" must not become a Condition saying the patient has it. */
START_TEST(risk_concern_is_not_a_condition)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "58", "75310-3",
        CONCERN("132", "A", "75326-9", "409623005") CONCERN("136", "B", "55607006", "363346000")
            CONCERN("132", "C", "281694009", "363346000")));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);

    ck_assert_uint_eq(count_type(b, "Condition"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.coding.0.code"), "409623005");
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 2);
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "not-supported");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* A WS/T 500 检查报告 generator writes NA into every slot the HIS left
 * empty: no telephone, doctor, ward, diagnosis or time of that text. */
START_TEST(generator_na_fillers)
{
    static const char doc[] = WST_DOC_WITH(
        "<id root=\"2.16.156.10011.1.11\" extension=\"MZ1\"/><id root=\"2.16.156.10011.1.12\" "
        "extension=\"NA\"/><telecom value=\"NA\"/>",
        "<legalAuthenticator><time/><signatureCode/><assignedEntity><id extension=\"NA\" "
        "root=\"2.16.156.10011.1.4\"/><code displayName=\"审核医师\"/><assignedPerson>"
        "<name>NA</name></assignedPerson></assignedEntity></legalAuthenticator>"
        "<componentOf><encompassingEncounter><effectiveTime/><location><healthCareFacility>"
        "<serviceProviderOrganization><asOrganizationPartOf><wholeOrganization><id "
        "extension=\"NA\" root=\"2.16.156.10011.1.22\"/><name>NA</name><asOrganizationPartOf>"
        "<wholeOrganization><id extension=\"C1\" root=\"2.16.156.10011.1.26\"/><name>心内科</name>"
        "</wholeOrganization></asOrganizationPartOf></wholeOrganization></asOrganizationPartOf>"
        "</serviceProviderOrganization></healthCareFacility></location></encompassingEncounter>"
        "</componentOf>",
        WST_SECTION("29548-5", WST_OBS("DE05.01.024.00",
                                       "<effectiveTime value=\"NA\"/><value xsi:type=\"CD\" "
                                       "code=\"NA\" displayName=\"NA\" "
                                       "codeSystem=\"2.16.156.10011.2.3.3.11\"/>",
                                       "")) /* a local lab code NA is sodium: kept */
        WST_SECTION("30954-2", WST_OBS("DE04.30.009.00",
                                       "<effectiveTime value=\"20240311\"/><value xsi:type=\"CD\" "
                                       "code=\"NA\" displayName=\"Na\" codeSystem=\"1.2.3.4\"/>",
                                       "")));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *p = nth(b, "Patient", 0);

    ck_assert_ptr_null(tu_json_at(p, "telecom"));
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 2);
    ck_assert_uint_eq(count_type(b, "Practitioner"), 0);
    ck_assert_uint_eq(count_type(b, "Condition"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(nth(b, "Encounter", 0), "location")), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "location.0.location.display"), "心内科");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "valueCodeableConcept.coding.0.code"),
                     "NA");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "informational");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* mTuitive op notes: a Problem Observation nested directly in an empty one
 * (no entryRelationship), its value nullFlavor OTH with an ICD-9
 * translation.  The diagnosis is mapped, with a structure warning. */
START_TEST(observation_directly_in_observation)
{
    static const char doc[] = CCDA_DOC(
        "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2.34\"/>"
        "<code code=\"10219-4\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/><entry><act "
        "classCode=\"ACT\" moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.65\"/>"
        "<entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.4\"/><observation classCode=\"OBS\" "
        "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.4\"/><code "
        "code=\"282291009\" codeSystem=\"2.16.840.1.113883.6.96\"/><value xsi:type=\"CD\" "
        "nullFlavor=\"OTH\"><translation code=\"366.16\" codeSystem=\"2.16.840.1.113883.6.103\"/>"
        "</value></observation></observation></entryRelationship></act></entry></section>"
        "</component>");
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);

    ck_assert_uint_eq(count_type(b, "Condition"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.coding.0.code"), "366.16");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "structure");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* Allscripts Enterprise: procedures of nothing (<code nullFlavor="UNK"/>,
 * no text) close the list; a panel is coded CPT "UNK" with its name. */
START_TEST(procedures_of_nothing_and_unk_codes)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION(
            "7.1", "47519-4",
            "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\"><templateId "
            "root=\"2.16.840.1.113883.10.20.22.4.14\"/><id root=\"1.2.3\" extension=\"0\"/>"
            "<code nullFlavor=\"UNK\"/><statusCode code=\"active\"/><effectiveTime><low "
            "nullFlavor=\"UNK\"/></effectiveTime></procedure></entry>")
            CCDA_SECTION("3.1", "30954-2",
                         "<entry><organizer classCode=\"BATTERY\" moodCode=\"EVN\"><templateId "
                         "root=\"2.16.840.1.113883.10.20.22.4.1\"/><code code=\"UNK\" "
                         "codeSystem=\"2.16.840.1.113883.6.12\" displayName=\"CO2\"/><statusCode "
                         "code=\"active\"/><effectiveTime value=\"20130711002700\"/><component>"
                         "<observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"2028-9\" "
                         "codeSystem=\"2.16.840.1.113883.6.1\"/><value xsi:type=\"PQ\" "
                         "value=\"25.2\" unit=\"mmol/L\"/></observation></component></organizer>"
                         "</entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *r = nth(b, "DiagnosticReport", 0);

    ck_assert_uint_eq(count_type(b, "Procedure"), 0);
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "required");
    /* no CPT code "UNK"; the name stays as text */
    ck_assert_ptr_null(tu_json_at(r, "code.coding"));
    ck_assert_str_eq(tu_json_str(r, "code.text"), "CO2");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* A WS/T 500 prescription item (manufacturedLabeledDrug named only) whose
 * rateQuantity `rate` is its frequency (用药频率). */
#define WST_RX(rate)                                                                               \
    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN \"><doseQuantity "         \
    "value=\"250\" unit=\"mg\"/>" rate                                                             \
    "<consumable><manufacturedProduct><manufacturedLabeledDrug>"                                   \
    "<code/><name>阿莫西林胶囊</name></manufacturedLabeledDrug></manufacturedProduct></"     \
    "consumable>"                                                                                  \
    "</substanceAdministration></entry>"

/* 3 次/日 is three times a day (Timing), not a rate of 3 "次/日"; an
 * infusion rate stays a rate; a fractional frequency is a warning. */
START_TEST(wst_frequency_in_rate_quantity)
{
    static const char doc[] = WST_DOC(
        "<id root=\"2.16.156.10011.1.11\" extension=\"MZ1\"/>",
        WST_SECTION("10160-0", WST_RX("<rateQuantity value=\"3\" unit=\"次/日\"/>")
                                   WST_RX("<rateQuantity value=\"2\" unit=\"/wk\"/>")
                                       WST_RX("<rateQuantity value=\"90\" unit=\"mL/h\"/>")
                                           WST_RX("<rateQuantity value=\"1.5\" unit=\"次/日\"/>")));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *m = nth(b, "MedicationStatement", 0);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 4);
    ck_assert_str_eq(tu_json_str(m, "medicationCodeableConcept.text"), "阿莫西林胶囊");
    ck_assert_int_eq(json_integer_value(tu_json_at(m, "dosage.0.timing.repeat.frequency")), 3);
    ck_assert_str_eq(tu_json_str(m, "dosage.0.timing.repeat.periodUnit"), "d");
    ck_assert_ptr_null(tu_json_at(m, "dosage.0.doseAndRate.0.rateQuantity"));
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 1), "dosage.0.timing.repeat.periodUnit"), "wk");
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 2), "dosage.0.doseAndRate.0.rateQuantity.code"),
        "mL/h");
    ck_assert_ptr_null(tu_json_at(nth(b, "MedicationStatement", 3), "dosage.0.timing"));
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 1);
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* A result observation of value `value`. */
#define MONEY(id, value)                                                                           \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"" id    \
    "\"/><code code=\"DE07.00.004.00\" codeSystem=\"2.16.156.10011.2.2.1\"/>" value                \
    "</observation></entry>"

/* WS/T 500 writes MO currency="元": CNY in ISO 4217; a currency that is no
 * ISO code is only the unit's text. */
START_TEST(money_currency_names)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("3.1", "30954-2",
                     MONEY("A", "<value xsi:type=\"MO\" value=\"35.5\" currency=\"元\"/>")
                         MONEY("B", "<value xsi:type=\"MO\" value=\"2\" currency=\"dollars\"/>")
                             MONEY("C", "<value xsi:type=\"MO\" value=\"2\" currency=\"EUR\"/>")));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "valueQuantity.code"), "CNY");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "valueQuantity.unit"), "元");
    ck_assert_ptr_null(tu_json_at(nth(b, "Observation", 1), "valueQuantity.code"));
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "valueQuantity.unit"), "dollars");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 2), "valueQuantity.code"), "EUR");
    json_decref(b);
}
END_TEST

/* HL7 samples: <text><reference value="#Med1"/> 2 puffs QID PRN
 * wheezing</text> -- the directions next to the reference are kept; the
 * same words twice are not. */
START_TEST(reference_and_own_words)
{
    static const char doc[] = CCDA_DOC(
        "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2.1.1\"/>"
        "<code code=\"10160-0\" codeSystem=\"2.16.840.1.113883.6.1\"/><text><content "
        "ID=\"Med1\">Proventil inhalant</content></text>"
        "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><text><reference "
        "value=\"#Med1\"/> 2 puffs QID PRN wheezing</text><consumable><manufacturedProduct>"
        "<manufacturedMaterial><code code=\"573621\" codeSystem=\"2.16.840.1.113883.6.88\">"
        "<originalText>Proventil inhalant<reference value=\"#Med1\"/></originalText></code>"
        "</manufacturedMaterial></manufacturedProduct></consumable></substanceAdministration>"
        "</entry></section></component>");
    json_t *b = convert_ok(doc, NULL);
    json_t *m = nth(b, "MedicationStatement", 0);

    ck_assert_str_eq(tu_json_str(m, "dosage.0.text"),
                     "Proventil inhalant 2 puffs QID PRN wheezing");
    ck_assert_str_eq(tu_json_str(m, "medicationCodeableConcept.text"), "Proventil inhalant");
    json_decref(b);
}
END_TEST

void
cda_vendors_round2_tcases(Suite *s)
{
    TCase *t = tcase_create("round2");

    tcase_add_test(t, severity_ranges_and_words);
    tcase_add_test(t, problem_age_at_onset);
    tcase_add_test(t, unknown_if_pregnant);
    tcase_add_test(t, table_row_text_and_medication_status_observation);
    tcase_add_test(t, non_ucum_quantities_and_unreadable_report_time);
    tcase_add_test(t, risk_concern_is_not_a_condition);
    tcase_add_test(t, generator_na_fillers);
    tcase_add_test(t, observation_directly_in_observation);
    tcase_add_test(t, procedures_of_nothing_and_unk_codes);
    tcase_add_test(t, wst_frequency_in_rate_quantity);
    tcase_add_test(t, money_currency_names);
    tcase_add_test(t, reference_and_own_words);
    suite_add_tcase(s, t);
}
