/*
 * Constructs met in vendors' C-CDA exports (Cerner, Allscripts, Greenway,
 * Partners, NIST and HL7 samples) during a sweep of public documents.  The
 * documents here are minimal ones written for these tests that reproduce
 * one construct each; each test fails without its fix.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "adapters/cda/cda.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

/* A medication entry around `dose` and the consumable's `code`. */
#define MED(id, dose, code)                                                                        \
    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"INT\">"                        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.16\"/><id root=\"1.2.3\" extension=\"" id     \
    "\"/><statusCode code=\"active\"/><effectiveTime xsi:type=\"IVL_TS\"><low "                    \
    "value=\"20070814\"/>"                                                                         \
    "<high nullFlavor=\"UNK\"/></effectiveTime>" dose "<consumable><manufacturedProduct>"          \
    "<manufacturedMaterial>" code "</manufacturedMaterial></manufacturedProduct></consumable>"     \
    "</substanceAdministration></entry>"

/* ------------------------------------------------------------ medications */

/* unit="1" with the unit in the PQR translation's originalText */
START_TEST(dose_unit_from_translation)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        MED("A",
            "<doseQuantity value=\"0.1\" unit=\"1\"><translation value=\"0.1\">"
            "<originalText>mg</originalText></translation></doseQuantity>",
            "<code code=\"17326\" displayName=\"????\" codeSystem=\"2.16.840.1.113883.6.27\">"
            "<originalText>clonidine</originalText><translation nullFlavor=\"OTH\" "
            "codeSystem=\"2.16.840.1.113883.6.88\"/></code>")
            MED("B",
                "<doseQuantity value=\"2\"><translation value=\"2\" code=\"{tbl}\" "
                "codeSystem=\"2.16.840.1.113883.6.8\"/></doseQuantity>",
                "<code nullFlavor=\"OTH\"><originalText>aspirin</originalText>"
                "<translation code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/></code>")
                MED("C", "<doseQuantity value=\"5\" unit=\"1\"/>",
                    "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);
    json_t *m3 = nth(b, "MedicationStatement", 2);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 3);
    ck_assert_str_eq(tu_json_str(a, "dosage.0.doseAndRate.0.doseQuantity.unit"), "mg");
    /* a free-text unit claims no UCUM code */
    ck_assert_ptr_null(tu_json_at(a, "dosage.0.doseAndRate.0.doseQuantity.code"));
    /* "????" is what a charset conversion left of the name: no display */
    ck_assert_str_eq(tu_json_str(a, "medicationCodeableConcept.coding.0.code"), "17326");
    ck_assert_ptr_null(tu_json_at(a, "medicationCodeableConcept.coding.0.display"));
    ck_assert_str_eq(tu_json_str(a, "medicationCodeableConcept.text"), "clonidine");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.doseQuantity.code"), "{tbl}");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.doseQuantity.system"),
                     "http://unitsofmeasure.org");
    ck_assert_str_eq(tu_json_str(m2, "medicationCodeableConcept.coding.0.code"), "1191");
    ck_assert_ptr_null(tu_json_at(m3, "dosage.0.doseAndRate.0.doseQuantity.unit"));
    json_decref(b);
}
END_TEST

/* SXPR_TS of two phased PIVL_TS (08:00 and 20:00 daily), institutionSpecified
 * q8h (= three times a day), and the dosage parts next to the dose */
START_TEST(timing_and_dosage_parts)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        MED("A",
            "<effectiveTime xsi:type=\"SXPR_TS\" operator=\"A\"><comp xsi:type=\"PIVL_TS\">"
            "<phase><low value=\"198701010800\"/></phase><period value=\"1\" unit=\"d\"/></comp>"
            "<comp xsi:type=\"PIVL_TS\" operator=\"I\"><phase><low value=\"198701012000\"/></phase>"
            "<period value=\"1\" unit=\"d\"/></comp></effectiveTime>",
            "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")
            MED("B",
                "<effectiveTime xsi:type=\"PIVL_TS\" institutionSpecified=\"true\" operator=\"A\">"
                "<period value=\"8\" unit=\"h\"/></effectiveTime><doseQuantity value=\"1\"/>"
                "<rateQuantity value=\"100\" unit=\"mL/h\"/><maxDoseQuantity><numerator value=\"4\""
                " unit=\"{tbl}\"/><denominator value=\"1\" unit=\"d\"/></maxDoseQuantity>"
                "<entryRelationship typeCode=\"RSON\"><observation classCode=\"OBS\" "
                "moodCode=\"EVN\"><code code=\"404684003\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
                "<value xsi:type=\"CD\" code=\"25064002\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
                "</observation></entryRelationship><entryRelationship typeCode=\"SUBJ\" "
                "inversionInd=\"true\"><act classCode=\"ACT\" moodCode=\"INT\"><templateId "
                "root=\"2.16.840.1.113883.10.20.22.4.20\"/><code code=\"PINSTRUCT\" "
                "codeSystem=\"2.16.840.1.113883.5.4\"/><text>Take with food</text></act>"
                "</entryRelationship><precondition><criterion><value xsi:type=\"CD\" "
                "code=\"25064002\" codeSystem=\"2.16.840.1.113883.6.96\"/></criterion>"
                "</precondition>",
                "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);

    ck_assert_str_eq(tu_json_str(a, "dosage.0.timing.repeat.timeOfDay.0"), "08:00:00");
    ck_assert_str_eq(tu_json_str(a, "dosage.0.timing.repeat.timeOfDay.1"), "20:00:00");
    ck_assert_int_eq(json_integer_value(tu_json_at(a, "dosage.0.timing.repeat.frequency")), 2);
    ck_assert_str_eq(tu_json_str(a, "effectivePeriod.start"), "2007-08-14");
    ck_assert_int_eq(json_integer_value(tu_json_at(m2, "dosage.0.timing.repeat.frequency")), 3);
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.timing.repeat.periodUnit"), "d");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.rateQuantity.code"), "mL/h");
    ck_assert_ptr_nonnull(tu_json_at(m2, "dosage.0.doseAndRate.0.doseQuantity"));
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.maxDosePerPeriod.denominator.unit"), "d");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.patientInstruction"), "Take with food");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.asNeededCodeableConcept.coding.0.code"), "25064002");
    ck_assert_str_eq(tu_json_str(m2, "reasonCode.0.coding.0.code"), "25064002");
    json_decref(b);
}
END_TEST

/* ----------------------------------------------------------------- values */

#define RES(id, value)                                                                             \
    "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "               \
    "extension=\"" id "\"/><code code=\"" id                                                       \
    "\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode "                                        \
    "code=\"completed\"/><effectiveTime value=\"20120101\"/>" value "</observation></component>"

/* IVL_INT is a Range, MO a currency Quantity; a type with no FHIR slot is
 * a warning, not a silent loss */
START_TEST(interval_money_and_unmapped_values)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "3.1", "30954-2",
        "<entry><organizer classCode=\"BATTERY\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"P\"/><code code=\"24323-8\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<statusCode code=\"completed\"/>" RES(
            "1-1", "<value xsi:type=\"IVL_INT\"><low value=\"1\"/><high value=\"3\"/></value>")
            RES("2-2", "<value xsi:type=\"MO\" value=\"12.50\" currency=\"USD\"/>")
                RES("3-3", "<value xsi:type=\"GLIST_PQ\"><head value=\"1\" "
                           "unit=\"s\"/></value>") "</organizer></entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);

    ck_assert_uint_eq(count_type(b, "Observation"), 3);
    ck_assert_ptr_nonnull(tu_json_at(nth(b, "Observation", 0), "valueRange.high.value"));
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "valueQuantity.system"),
                     "urn:iso:std:iso:4217");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "valueQuantity.code"), "USD");
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 1);
    ck_assert_ptr_nonnull(
        strstr(tu_json_str(warnings, "issue.0.diagnostics"), "value type is not mapped"));
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* -------------------------------------------- vital signs, planned acts */

/* the time on the Vital Signs Organizer only (vendors leave it off the
 * observations); planned procedures and immunizations are warned about */
START_TEST(vital_time_from_organizer_and_planned_acts)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION(
            "4.1", "8716-3",
            "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><id root=\"1.2.3\" "
            "extension=\"VS\"/><code code=\"46680005\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
            "<statusCode code=\"completed\"/><effectiveTime value=\"20120101103000-0500\"/>"
            "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
            "extension=\"V1\"/><code code=\"8302-2\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
            "<statusCode code=\"completed\"/><value xsi:type=\"PQ\" value=\"70\" "
            "unit=\"[in_i]\"/></observation></component></organizer></entry>")
            CCDA_SECTION("7.1", "47519-4",
                         "<entry><procedure classCode=\"PROC\" moodCode=\"INT\"><id root=\"1.2.3\" "
                         "extension=\"PX\"/><code code=\"73761001\" "
                         "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"new\"/>"
                         "</procedure></entry>")
                CCDA_SECTION("2.1", "11369-6",
                             "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"INT\">"
                             "<id root=\"1.2.3\" extension=\"IM\"/><statusCode code=\"active\"/>"
                             "<consumable><manufacturedProduct><manufacturedMaterial><code "
                             "code=\"33\" codeSystem=\"2.16.840.1.113883.12.292\"/>"
                             "</manufacturedMaterial></manufacturedProduct></consumable>"
                             "</substanceAdministration></entry>")
                    CCDA_SECTION("22.1", "46240-8",
                                 "<entry><encounter classCode=\"ENC\" moodCode=\"INT\"><id "
                                 "root=\"1.2.3\" extension=\"EN\"/><code code=\"99213\" "
                                 "codeSystem=\"2.16.840.1.113883.6.12\"/></encounter></entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);

    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "effectiveDateTime"),
                     "2012-01-01T10:30:00-05:00");
    ck_assert_uint_eq(count_type(b, "Procedure"), 0);
    ck_assert_uint_eq(count_type(b, "Immunization"), 0);
    ck_assert_uint_eq(count_type(b, "Encounter"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 3);
    ck_assert_str_eq(tu_json_str(warnings, "issue.2.code"), "not-supported");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "not-supported");
    ck_assert_str_eq(tu_json_str(warnings, "issue.1.code"), "not-supported");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------ "no data" entries */

/* Partners-style filler entries: a nullFlavored code whose only text says
 * there is nothing.  They name no drug, vaccine, procedure or problem; a
 * real drug known by text only ("Grandma's tea") still maps. */
START_TEST(entries_that_say_there_is_nothing)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("1.1", "10160-0",
                     MED("A", "",
                         "<code nullFlavor=\"UNK\"><originalText>No medication data is "
                         "applicable</originalText></code>")
                         MED("B", "",
                             "<code nullFlavor=\"UNK\"><originalText>Noni juice"
                             "</originalText></code>"))
            CCDA_SECTION(
                "7.1", "47519-4",
                "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\"><id "
                "nullFlavor=\"NI\"/><code nullFlavor=\"UNK\"><originalText>None"
                "</originalText></code><statusCode code=\"completed\"/></procedure></entry>")
                CCDA_SECTION(
                    "2.1", "11369-6",
                    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><id "
                    "nullFlavor=\"UNK\"/><statusCode code=\"completed\"/><consumable>"
                    "<manufacturedProduct><manufacturedMaterial><code nullFlavor=\"UNK\">"
                    "<originalText>No immunization data is applicable</originalText></code>"
                    "</manufacturedMaterial></manufacturedProduct></consumable>"
                    "</substanceAdministration></entry>")
                    CCDA_SECTION("5.1", "11450-4",
                                 "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id "
                                 "root=\"1.2.3\" extension=\"PR\"/><code code=\"55607006\" "
                                 "codeSystem=\"2.16.840.1.113883.6.96\"/><value xsi:type=\"CD\" "
                                 "nullFlavor=\"OTH\"><originalText>No known problems."
                                 "</originalText></value></observation></entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 1);
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 0), "medicationCodeableConcept.text"),
        "Noni juice");
    ck_assert_uint_eq(count_type(b, "Procedure"), 0);
    ck_assert_uint_eq(count_type(b, "Immunization"), 0);
    ck_assert_uint_eq(count_type(b, "Condition"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 4);
    for (size_t i = 0; i < 4; i++) {
        char path[32];

        snprintf(path, sizeof(path), "issue.%zu.code", i);
        ck_assert_str_eq(tu_json_str(warnings, path), "informational");
    }
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* a Result Organizer without a time (the results carry it): the report
 * takes the results' time when they share one */
START_TEST(report_time_from_its_results)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "3.1", "30954-2",
        "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><id root=\"1.3.6\" "
        "extension=\"R1\"/><code code=\"2951-2\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<statusCode code=\"completed\"/>" RES("2951-2", "<value xsi:type=\"PQ\" value=\"141\" "
                                                         "unit=\"mmol/L\"/>")
            RES("2823-3",
                "<value xsi:type=\"PQ\" value=\"4.4\" "
                "unit=\"mmol/L\"/>") "</organizer></entry>"
                                     "<entry><organizer "
                                     "classCode=\"CLUSTER\" "
                                     "moodCode=\"EVN\"><id "
                                     "root=\"1.3.6\" "
                                     "extension=\"R2\"/><code "
                                     "code=\"2075-0\" "
                                     "codeSystem=\"2.16.840.1."
                                     "113883.6.1\"/>"
                                     "<statusCode "
                                     "code=\"completed\"/"
                                     "><component><observation "
                                     "classCode=\"OBS\" "
                                     "moodCode=\"EVN\"><id "
                                     "root=\"1.3.6\" "
                                     "extension=\"X\"/><code "
                                     "code=\"2075-0\" "
                                     "codeSystem=\"2.16.840.1."
                                     "113883.6.1\"/><effectiveTime "
                                     "value=\"20140101\"/>"
                                     "<value xsi:type=\"PQ\" "
                                     "value=\"1\" "
                                     "unit=\"mmol/L\"/></"
                                     "observation></component>" RES("2028-9", "<value "
                                                                              "xsi:type=\"PQ\" "
                                                                              "value=\"22\" "
                                                                              "unit=\"mmol/L\"/"
                                                                              ">") "</"
                                                                                   "organizer><"
                                                                                   "/entry>"));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "DiagnosticReport"), 2);
    ck_assert_str_eq(tu_json_str(nth(b, "DiagnosticReport", 0), "effectiveDateTime"), "2012-01-01");
    /* results of different times: no one time for the report */
    ck_assert_ptr_null(tu_json_at(nth(b, "DiagnosticReport", 1), "effectiveDateTime"));
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------ identifiers */

/* <id root="NPI"/> (no extension) and extension="UNK": no identifier, so two
 * people without an NPI are not made one Practitioner */
START_TEST(namespace_only_and_unk_ids_identify_nobody)
{
    static const char hdr[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" extension=\"D\"/>"
        "<code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<effectiveTime value=\"20130701\"/><recordTarget><patientRole><id root=\"1.2.3\" "
        "extension=\"P\"/></patientRole></recordTarget>"
        "<author><time value=\"20130701\"/><assignedAuthor><id root=\"2.16.840.1.113883.4.6\" "
        "extension=\"UNK\"/><assignedPerson><name><family>One</family></name></assignedPerson>"
        "</assignedAuthor></author>"
        "<legalAuthenticator><time value=\"20130701\"/><signatureCode code=\"S\"/><assignedEntity>"
        "<id root=\"2.16.840.1.113883.4.6\"/><assignedPerson><name><family>Two</family></name>"
        "</assignedPerson></assignedEntity></legalAuthenticator>"
        "<component><structuredBody/></component></ClinicalDocument>";
    json_t *b = convert_ok(hdr, NULL);

    ck_assert_uint_eq(count_type(b, "Practitioner"), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *p = nth(b, "Practitioner", i);

        ck_assert_str_ne(tu_json_str(p, "identifier.0.system"), "http://hl7.org/fhir/sid/us-npi");
        ck_assert_str_ne(tu_json_str(p, "identifier.0.value"), "urn:oid:2.16.840.1.113883.4.6");
    }
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------ problems, allergies */

/* value nullFlavor="OTH" and the name in the observation's <text> (with a
 * reference into the narrative): the reaction and the problem are that
 * text, not lost */
START_TEST(reaction_and_problem_named_by_their_text)
{
    static const char doc[] = CCDA_DOC(
        "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2.6.1\"/><code "
        "code=\"48765-2\" codeSystem=\"2.16.840.1.113883.6.1\"/><text><table><tbody><tr>"
        "<td ID=\"n3\">codeine sulfate</td><td ID=\"r3\">nausea</td></tr></tbody></table></text>"
        "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"AC\"/>"
        "<code code=\"48765-2\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"active\"/>"
        "<entryRelationship typeCode=\"SUBJ\" inversionInd=\"true\"><observation classCode=\"OBS\" "
        "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.7\"/><id root=\"1.2.3\" "
        "extension=\"AL\"/><code code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/>"
        "<value xsi:type=\"CD\" code=\"419199007\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<participant typeCode=\"CSM\"><participantRole><playingEntity><code nullFlavor=\"NA\">"
        "<originalText><reference value=\"#n3\"/></originalText></code></playingEntity>"
        "</participantRole></participant><entryRelationship typeCode=\"MFST\" "
        "inversionInd=\"true\">"
        "<observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.9\"/><code code=\"ASSERTION\" "
        "codeSystem=\"2.16.840.1.113883.5.4\"/><text>nausea<reference value=\"#r3\"/></text>"
        "<value xsi:type=\"CD\" nullFlavor=\"OTH\"/></observation></entryRelationship>"
        "</observation></entryRelationship></act></entry></section></component>" CCDA_SECTION(
            "5.1", "11450-4",
            "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
            "extension=\"PR\"/><code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
            "<text>Chronic low back pain</text><value xsi:type=\"CD\" nullFlavor=\"OTH\"/>"
            "</observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *al = nth(b, "AllergyIntolerance", 0);

    ck_assert_str_eq(tu_json_str(al, "code.text"), "codeine sulfate");
    ck_assert_str_eq(tu_json_str(al, "reaction.0.manifestation.0.text"), "nausea");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.text"), "Chronic low back pain");
    json_decref(b);
}
END_TEST

/* dose forms written as units are no UCUM codes; US spellings map */
START_TEST(dose_form_units_are_not_ucum)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("1.1", "10160-0",
                     MED("A", "<doseQuantity value=\"2\" unit=\"tablet\"/>",
                         "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")
                         MED("B", "<doseQuantity value=\"90\" unit=\"mcg\"/>",
                             "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")
                             MED("C", "<doseQuantity value=\"81\" unit=\"milliGRAM(s)\"/>",
                                 "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")
                                 MED("D", "<doseQuantity value=\"1\" unit=\"{beats}/min\"/>",
                                     "<code code=\"1191\" "
                                     "codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);

    /* a word is no UCUM unit; an annotation in braces may be one */
    ck_assert_ptr_null(
        tu_json_at(nth(b, "MedicationStatement", 2), "dosage.0.doseAndRate.0.doseQuantity.code"));
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 3), "dosage.0.doseAndRate.0.doseQuantity.code"),
        "{beats}/min");

    ck_assert_str_eq(tu_json_str(a, "dosage.0.doseAndRate.0.doseQuantity.unit"), "tablet");
    ck_assert_ptr_null(tu_json_at(a, "dosage.0.doseAndRate.0.doseQuantity.system"));
    ck_assert_ptr_null(tu_json_at(a, "dosage.0.doseAndRate.0.doseQuantity.code"));
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.doseQuantity.unit"), "mcg");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.doseQuantity.code"), "ug");
    json_decref(b);
}
END_TEST

/* <content ID="x"/> (empty) as the reference target, the name written in
 * the originalText itself: the text is not lost */
START_TEST(empty_reference_target_falls_back_to_own_text)
{
    static const char doc[] = CCDA_DOC(
        "<component><section><code code=\"11450-4\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
        "<text><table><tbody><tr><td><content ID=\"P1\"/>Asthma</td></tr></tbody></table></text>"
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"PR\"/><code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value xsi:type=\"CD\" nullFlavor=\"OTH\"><originalText>Mild asthma"
        "<reference value=\"#P1\"/></originalText></value></observation></entry>"
        "</section></component>");
    json_t *b = convert_ok(doc, NULL);

    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.text"), "Mild asthma");
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------- encounters */

/* CPT E/M codes (99213 office visit, 99223 hospital care, 99284 ED) give
 * Encounter.class when no ActCode is sent; an unknown CPT stays UNK */
START_TEST(encounter_class_from_cpt_em_codes)
{
#define ENC(id, cpt)                                                                               \
    "<entry><encounter classCode=\"ENC\" moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"" id      \
    "\"/><code code=\"" cpt "\" codeSystem=\"2.16.840.1.113883.6.12\"/><effectiveTime "            \
    "value=\"20100701\"/></encounter></entry>"
    static const char doc[] = CCDA_DOC(CCDA_SECTION("22.1", "46240-8",
                                                    ENC("E1", "99213") ENC("E2", "99223")
                                                        ENC("E3", "99284") ENC("E4", "36415")));
#undef ENC
    static const char *const want[] = {"AMB", "IMP", "EMER", "UNK"};
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "Encounter"), 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(tu_json_str(nth(b, "Encounter", i), "class.code"), want[i]);
    json_decref(b);
}
END_TEST

/* "every 4-6 hours" (PIVL_TS period as IVL_PQ) -> period + periodMax;
 * institutionSpecified period ".5" d -> twice a day (HL7 C-CDA examples) */
START_TEST(period_ranges_and_institution_days)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        MED("A",
            "<effectiveTime xsi:type=\"PIVL_TS\" operator=\"A\"><period xsi:type=\"IVL_PQ\">"
            "<low value=\"4\" unit=\"h\"/><high value=\"6\" unit=\"h\"/></period></effectiveTime>",
            "<code code=\"1049529\" codeSystem=\"2.16.840.1.113883.6.88\"/>")
            MED("B",
                "<effectiveTime xsi:type=\"PIVL_TS\" institutionSpecified=\"true\" operator=\"A\">"
                "<period unit=\"d\" value=\".5\"/></effectiveTime>",
                "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);

    ck_assert_ptr_nonnull(tu_json_at(a, "dosage.0.timing.repeat.period"));
    ck_assert_ptr_nonnull(tu_json_at(a, "dosage.0.timing.repeat.periodMax"));
    ck_assert_str_eq(tu_json_str(a, "dosage.0.timing.repeat.periodUnit"), "h");
    ck_assert_int_eq(json_integer_value(tu_json_at(m2, "dosage.0.timing.repeat.frequency")), 2);
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.timing.repeat.periodUnit"), "d");
    json_decref(b);
}
END_TEST

/* ---------------------------------------------------------- nonXMLBody */

#define NXB_DOC(body)                                                                              \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" extension=\"NX\"/>"             \
    "<code code=\"11506-3\" codeSystem=\"2.16.840.1.113883.6.1\"/><effectiveTime "                 \
    "value=\"20140101\"/><recordTarget><patientRole><id root=\"1.2.3\" extension=\"P\"/>"          \
    "</patientRole></recordTarget><component><nonXMLBody>" body "</nonXMLBody></component>"        \
    "</ClinicalDocument>"

/* a deflated body that is cut short is not attached as its media type (it
 * would be a broken PDF; whole ones are inflated, suite cda_care); an
 * empty one is not attached at all; the document always is */
START_TEST(compressed_and_empty_non_xml_bodies)
{
    static const char deflated[] =
        NXB_DOC("<text mediaType=\"application/pdf\" representation=\"B64\" compression=\"DF\">"
                "eJwLycgsVgCi4vzcVAWH</text>");
    static const char empty[] = NXB_DOC("<text/>");
    json_t *warnings = NULL;
    json_t *b = convert_ok(deflated, &warnings);

    ck_assert_uint_eq(json_array_size(tu_json_at(nth(b, "DocumentReference", 0), "content")), 1);
    ck_assert_str_eq(
        tu_json_str(nth(b, "DocumentReference", 0), "content.0.attachment.contentType"),
        "application/hl7-cda+xml");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "invalid");
    json_decref(warnings);
    json_decref(b);
    b = convert_ok(empty, NULL);
    ck_assert_uint_eq(json_array_size(tu_json_at(nth(b, "DocumentReference", 0), "content")), 1);
    json_decref(b);
}
END_TEST

/* a unitless dose counted in administrationUnitCode (C-CDA R2.1: "1" +
 * C48542 Tablet) takes that unit, coded in NCI, not UCUM */
START_TEST(dose_unit_from_administration_unit_code)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        MED("A",
            "<doseQuantity value=\"1\"/><administrationUnitCode code=\"C48542\" "
            "displayName=\"Tablet\" codeSystem=\"2.16.840.1.113883.3.26.1.1\"/>",
            "<code code=\"866924\" codeSystem=\"2.16.840.1.113883.6.88\"/>")
            MED("B", "<doseQuantity value=\"2\"/><administrationUnitCode code=\"PUFF\"/>",
                "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);

    ck_assert_str_eq(tu_json_str(a, "dosage.0.doseAndRate.0.doseQuantity.unit"), "Tablet");
    ck_assert_str_eq(tu_json_str(a, "dosage.0.doseAndRate.0.doseQuantity.code"), "C48542");
    ck_assert_str_eq(tu_json_str(a, "dosage.0.doseAndRate.0.doseQuantity.system"),
                     "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl");
    /* no code system: the unit text only (qty-3) */
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.doseQuantity.unit"), "PUFF");
    ck_assert_ptr_null(tu_json_at(m2, "dosage.0.doseAndRate.0.doseQuantity.code"));
    json_decref(b);
}
END_TEST

/* a vital sign left blank (value="", WS/T 500 generators and C-CDA
 * exports alike) says "unknown" rather than carrying nothing (vs-2) */
START_TEST(blank_vital_sign_is_data_absent)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "4.1", "8716-3",
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"V\"/>"
        "<code code=\"8867-4\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode "
        "code=\"completed\"/><effectiveTime value=\"20121024\"/><value xsi:type=\"PQ\" value=\"\" "
        "unit=\"/min\"/></observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_ptr_null(tu_json_at(o, "valueQuantity"));
    ck_assert_str_eq(tu_json_str(o, "dataAbsentReason.coding.0.code"), "unknown");
    json_decref(b);
}
END_TEST

/* an interval whose end precedes its start would break FHIR per-1: the end
 * is dropped with a warning; <center/> alone is a point */
START_TEST(inverted_and_centered_intervals)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"M1\"/><effectiveTime xsi:type=\"IVL_TS\"><low value=\"20120301\"/>"
        "<high value=\"20120201\"/></effectiveTime><consumable><manufacturedProduct>"
        "<manufacturedMaterial><code code=\"1\" codeSystem=\"2.16.840.1.113883.6.88\"/>"
        "</manufacturedMaterial></manufacturedProduct></consumable></substanceAdministration></"
        "entry>"
        "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"M2\"/><effectiveTime xsi:type=\"IVL_TS\"><center value=\"20120305\"/>"
        "</effectiveTime><consumable><manufacturedProduct><manufacturedMaterial><code code=\"2\" "
        "codeSystem=\"2.16.840.1.113883.6.88\"/></manufacturedMaterial></manufacturedProduct>"
        "</consumable></substanceAdministration></entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *a = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);

    ck_assert_str_eq(tu_json_str(a, "effectivePeriod.start"), "2012-03-01");
    ck_assert_ptr_null(tu_json_at(a, "effectivePeriod.end"));
    ck_assert_ptr_nonnull(strstr(tu_json_str(warnings, "issue.0.diagnostics"), "ends before"));
    ck_assert_str_eq(tu_json_str(m2, "effectivePeriod.start"), "2012-03-05");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* low above high (value, reference range, dose range) would break FHIR
 * rng-2: the value is kept as text, the bounds are not kept */
START_TEST(inverted_ranges)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION(
            "3.1", "30954-2",
            "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
            "extension=\"R1\"/><code code=\"2345-7\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
            "<effectiveTime value=\"20120101\"/><value xsi:type=\"IVL_PQ\"><low value=\"9\" "
            "unit=\"mg/dL\"/><high value=\"3\" unit=\"mg/dL\"/></value><referenceRange>"
            "<observationRange><text>70-110</text><value xsi:type=\"IVL_PQ\"><low "
            "value=\"110\" unit=\"mg/dL\"/><high value=\"70\" unit=\"mg/dL\"/></value>"
            "</observationRange></referenceRange></observation></entry>")
            CCDA_SECTION("1.1", "10160-0",
                         MED("A",
                             "<doseQuantity><low value=\"2\"/><high value=\"1\"/></doseQuantity>",
                             "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_str_eq(tu_json_str(o, "valueString"), "9-3 mg/dL");
    ck_assert_ptr_null(tu_json_at(o, "valueRange"));
    ck_assert_ptr_null(tu_json_at(o, "referenceRange.0.low"));
    ck_assert_str_eq(tu_json_str(o, "referenceRange.0.text"), "70-110");
    ck_assert_ptr_null(tu_json_at(nth(b, "MedicationStatement", 0), "dosage.0.doseAndRate"));
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 3);
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* the QRDA Reason template under a negated act (no typeCode, as the HL7
 * "Medication Refused" example sends it) is why it was not done;
 * an RSON indication on a procedure is its reasonCode */
START_TEST(reasons_for_acts_not_done)
{
#define REASON(type)                                                                               \
    "<entryRelationship" type "><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "      \
    "root=\"2.16.840.1.113883.10.20.24.3.88\" extension=\"2014-12-01\"/><code code=\"77301-0\" "   \
    "codeSystem=\"2.16.840.1.113883.6.1\"/><value xsi:type=\"CD\" code=\"105480006\" "             \
    "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entryRelationship>"
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("1.1", "10160-0",
                     "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\" "
                     "negationInd=\"true\"><id root=\"1.2.3\" extension=\"M\"/><statusCode "
                     "code=\"completed\"/><effectiveTime value=\"20180315\"/><consumable>"
                     "<manufacturedProduct><manufacturedMaterial><code code=\"314076\" "
                     "codeSystem=\"2.16.840.1.113883.6.88\"/></manufacturedMaterial>"
                     "</manufacturedProduct></consumable>" REASON("") "</substanceAdministration>"
                                                                      "</entry>")
            CCDA_SECTION(
                "7.1", "47519-4",
                "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\" negationInd=\"true\">"
                "<id root=\"1.2.3\" extension=\"P1\"/><code code=\"73761001\" "
                "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/>" REASON(
                    "") "</procedure></entry>"
                        "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\"><id "
                        "root=\"1.2.3\" extension=\"P2\"/><code code=\"80146002\" "
                        "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode "
                        "code=\"completed\"/>" REASON(" typeCode=\"RSON\"") "</procedure>"
                                                                            "</entry>"));
#undef REASON
    json_t *b = convert_ok(doc, NULL);
    json_t *ms = nth(b, "MedicationStatement", 0);

    ck_assert_str_eq(tu_json_str(ms, "status"), "not-taken");
    ck_assert_str_eq(tu_json_str(ms, "statusReason.0.coding.0.code"), "105480006");
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 0), "status"), "not-done");
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 0), "statusReason.coding.0.code"),
                     "105480006");
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 1), "reasonCode.0.coding.0.code"),
                     "105480006");
    json_decref(b);
}
END_TEST

/* Operative / Procedure Note sections that carry Problem Observations:
 * pre-, post-operative and post-procedure diagnoses, complications */
START_TEST(procedure_note_diagnosis_sections)
{
#define DX(tmpl, loinc, id, sct)                                                                   \
    "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2." tmpl                    \
    "\"/><code code=\"" loinc                                                                      \
    "\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/><entry><act classCode=\"ACT\" "               \
    "moodCode=\"EVN\"><entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" "        \
    "moodCode=\"EVN\"><id root=\"1.2.3\" extension=\"" id "\"/><code code=\"282291009\" "          \
    "codeSystem=\"2.16.840.1.113883.6.96\"/><value xsi:type=\"CD\" code=\"" sct "\" "              \
    "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entryRelationship></act></entry>"      \
    "</section></component>"
    static const char doc[] =
        CCDA_DOC(DX("34", "10219-4", "D1", "74400008") DX("35", "10218-6", "D2", "74400008")
                     DX("36", "59769-0", "D3", "74400008") DX("37", "55109-3", "D4", "131148009"));
#undef DX
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "Condition"), 4);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 3), "code.coding.0.code"), "131148009");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "category.0.coding.0.code"),
                     "encounter-diagnosis");
    json_decref(b);
}
END_TEST

/* a clinical statement that is itself nullFlavored asserts nothing: HL7
 * "Unknown Immunization Status" (substanceAdministration nullFlavor="NI",
 * which still names a vaccine and a date) is no Immunization */
START_TEST(null_flavored_statement_is_no_resource)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("2.1", "11369-6",
                     "<entry><substanceAdministration moodCode=\"EVN\" classCode=\"SBADM\" "
                     "negationInd=\"false\" nullFlavor=\"NI\"><id root=\"1.2.3\" extension=\"I\"/>"
                     "<statusCode code=\"completed\"/><effectiveTime value=\"199911\"/><consumable>"
                     "<manufacturedProduct><manufacturedMaterial><code nullFlavor=\"OTH\">"
                     "<originalText>Vaccination</originalText><translation code=\"71181003\" "
                     "codeSystem=\"2.16.840.1.113883.6.96\"/></code></manufacturedMaterial>"
                     "</manufacturedProduct></consumable></substanceAdministration></entry>")
            CCDA_SECTION("6.1", "48765-2",
                         "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><entryRelationship "
                         "typeCode=\"SUBJ\"><observation nullFlavor=\"NASK\" classCode=\"OBS\" "
                         "moodCode=\"EVN\"><value xsi:type=\"CD\" code=\"419199007\" "
                         "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entryRelationship>"
                         "</act></entry>"));
    json_t *warnings = NULL;
    json_t *b = convert_ok(doc, &warnings);

    ck_assert_uint_eq(count_type(b, "Immunization"), 0);
    ck_assert_uint_eq(count_type(b, "AllergyIntolerance"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 2);
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "informational");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* ---------------------------------------------------------- encodings */

/* a US document in Windows-1252 that says nothing (or UTF-8): read as
 * Windows-1252, not as GB18030 (which made "Renée Müller" Chinese) */
START_TEST(undeclared_western_bytes_are_windows_1252)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><realmCode "
        "code=\"US\"/><id root=\"1.2.3\" extension=\"L\"/><code code=\"34133-9\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/><effectiveTime value=\"20140101\"/><recordTarget>"
        "<patientRole><id root=\"1.2.3\" extension=\"P\"/><patient><name><given>Ren\xe9"
        "e \x93Z\x94</given><family>M\xfcller</family></name></patient></patientRole>"
        "</recordTarget><component><structuredBody/></component></ClinicalDocument>";
    json_t *warnings = NULL;
    FILE *sink = tmpfile();
    int saved = dup(STDERR_FILENO);
    json_t *b;
    json_t *p;

    /* libxml2 printed the bytes it could not convert -- document content --
     * on stderr */
    ck_assert_ptr_nonnull(sink);
    ck_assert_int_ge(saved, 0);
    fflush(stderr);
    ck_assert_int_ge(dup2(fileno(sink), STDERR_FILENO), 0);
    b = convert_ok(doc, &warnings);
    fflush(stderr);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    ck_assert_int_eq(ftell(sink), 0);
    fclose(sink);
    p = nth(b, "Patient", 0);
    ck_assert_str_eq(tu_json_str(p, "name.0.family"), "M\xc3\xbcller");
    ck_assert_str_eq(tu_json_str(p, "name.0.given.0"), "Ren\xc3\xa9"
                                                       "e \xe2\x80\x9cZ\xe2\x80\x9d");
    ck_assert_ptr_nonnull(strstr(tu_json_str(warnings, "issue.0.diagnostics"), "WINDOWS-1252"));
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* the Pregnancy Observation is coded ASSERTION: it gains LOINC 82810-3 */
START_TEST(pregnancy_observation_gets_a_question)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "17", "29762-2",
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.15.3.8\"/><id root=\"1.2.3\" extension=\"PG\"/><code "
        "code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/><effectiveTime><low "
        "value=\"20110410\"/></effectiveTime><value xsi:type=\"CD\" code=\"77386006\" "
        "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_str_eq(tu_json_str(o, "code.coding.1.code"), "82810-3");
    ck_assert_str_eq(tu_json_str(o, "valueCodeableConcept.coding.0.code"), "77386006");
    json_decref(b);
}
END_TEST

/* <originalText><reference value="Topical Ointment"/></originalText>: the
 * words in the reference are the text (Greenway, Kinsights); an id that
 * resolves nowhere is not */
START_TEST(reference_holding_the_text_itself)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        MED("A",
            "<routeCode nullFlavor=\"UNC\"><originalText><reference value=\"Topical Ointment\"/>"
            "</originalText></routeCode>",
            "<code code=\"204135\" codeSystem=\"2.16.840.1.113883.6.88\"/>")
            MED("B",
                "<routeCode nullFlavor=\"UNC\"><originalText><reference value=\"ID0EAAB\"/>"
                "</originalText></routeCode>",
                "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_str_eq(tu_json_str(nth(b, "MedicationStatement", 0), "dosage.0.route.text"),
                     "Topical Ointment");
    ck_assert_ptr_null(tu_json_at(nth(b, "MedicationStatement", 1), "dosage.0.route"));
    json_decref(b);
}
END_TEST

/* "No known problems" (negated, value 55607006 Problem) is SNOMED 160245001
 * No current problems, not a refuted condition named "Problem"; a negated
 * specific problem stays refuted */
START_TEST(no_known_problems)
{
#define NEG(id, sct)                                                                               \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\" negationInd=\"true\"><id "             \
    "root=\"1.2.3\" extension=\"" id "\"/><code code=\"64572001\" "                                \
    "codeSystem=\"2.16.840.1.113883.6.96\"/><value xsi:type=\"CD\" code=\"" sct "\" "              \
    "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entry>"
    static const char doc[] =
        CCDA_DOC(CCDA_SECTION("5.1", "11450-4", NEG("N1", "55607006") NEG("N2", "44054006")));
#undef NEG
    json_t *b = convert_ok(doc, NULL);
    json_t *none = nth(b, "Condition", 0);
    json_t *dm = nth(b, "Condition", 1);

    ck_assert_str_eq(tu_json_str(none, "code.coding.0.code"), "160245001");
    ck_assert_ptr_null(tu_json_at(none, "verificationStatus"));
    ck_assert_str_eq(tu_json_str(dm, "code.coding.0.code"), "44054006");
    ck_assert_str_eq(tu_json_str(dm, "verificationStatus.coding.0.code"), "refuted");
    json_decref(b);
}
END_TEST

/* a problem's targetSiteCode is its bodySite; the laterality qualifier
 * stays in the text (HL7 "Problem TargetSiteCode Qualifier") */
START_TEST(problem_body_site_with_laterality)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "5.1", "11450-4",
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><id root=\"1.2.3\" "
        "extension=\"P\"/>"
        "<code code=\"55607006\" codeSystem=\"2.16.840.1.113883.6.96\"/><value xsi:type=\"CD\" "
        "nullFlavor=\"OTH\"><originalText>Below Knee Amputation</originalText><translation "
        "code=\"V49.75\" codeSystem=\"2.16.840.1.113883.6.103\"/></value><targetSiteCode "
        "code=\"30021000\" codeSystem=\"2.16.840.1.113883.6.96\" displayName=\"Lower leg "
        "structure\"><qualifier><name code=\"272741003\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<value code=\"7771000\" codeSystem=\"2.16.840.1.113883.6.96\" displayName=\"Left\"/>"
        "</qualifier></targetSiteCode></observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *cond = nth(b, "Condition", 0);

    ck_assert_str_eq(tu_json_str(cond, "code.coding.0.code"), "V49.75");
    ck_assert_str_eq(tu_json_str(cond, "bodySite.0.coding.0.code"), "30021000");
    ck_assert_str_eq(tu_json_str(cond, "bodySite.0.text"), "Left Lower leg structure");
    json_decref(b);
}
END_TEST

/* "Failed attempted procedure" under a completed procedure -> outcome,
 * the narrative reason as its text (HL7 "Procedure Unsuccessful") */
START_TEST(unsuccessful_procedure_outcome)
{
    static const char doc[] = CCDA_DOC(
        "<component><section><code code=\"47519-4\" codeSystem=\"2.16.840.1.113883.6.1\"/><text>"
        "<content ID=\"why\">Image unreadable</content></text><entry><procedure moodCode=\"EVN\" "
        "classCode=\"PROC\"><id root=\"1.2.3\" extension=\"X\"/><code code=\"168731009\" "
        "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/><effectiveTime "
        "value=\"20220331\"/><entryRelationship typeCode=\"SUBJ\" inversionInd=\"true\"><act "
        "classCode=\"ACT\" moodCode=\"EVN\"><code code=\"103709008\" "
        "codeSystem=\"2.16.840.1.113883.6.96\"/><text><reference value=\"#why\"/></text></act>"
        "</entryRelationship></procedure></entry></section></component>");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Procedure", 0);

    ck_assert_str_eq(tu_json_str(p, "status"), "completed");
    ck_assert_str_eq(tu_json_str(p, "outcome.coding.0.code"), "103709008");
    ck_assert_str_eq(tu_json_str(p, "outcome.text"), "Image unreadable");
    json_decref(b);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *
cda_vendors_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("cda_vendors");
    TCase *meds = tcase_create("medications");

    TCase *values = tcase_create("values");

    tcase_add_test(meds, dose_unit_from_translation);
    tcase_add_test(meds, timing_and_dosage_parts);
    tcase_add_test(meds, dose_form_units_are_not_ucum);
    tcase_add_test(meds, period_ranges_and_institution_days);
    tcase_add_test(meds, dose_unit_from_administration_unit_code);
    tcase_add_test(meds, reasons_for_acts_not_done);
    tcase_add_test(meds, unsuccessful_procedure_outcome);
    tcase_add_test(values, interval_money_and_unmapped_values);
    tcase_add_test(values, vital_time_from_organizer_and_planned_acts);
    tcase_add_test(values, blank_vital_sign_is_data_absent);
    tcase_add_test(values, inverted_and_centered_intervals);
    tcase_add_test(values, inverted_ranges);
    tcase_add_test(values, entries_that_say_there_is_nothing);
    tcase_add_test(values, null_flavored_statement_is_no_resource);
    tcase_add_test(values, report_time_from_its_results);
    tcase_add_test(values, reaction_and_problem_named_by_their_text);
    tcase_add_test(values, no_known_problems);
    tcase_add_test(values, problem_body_site_with_laterality);
    tcase_add_test(values, empty_reference_target_falls_back_to_own_text);
    tcase_add_test(values, reference_holding_the_text_itself);
    tcase_add_test(values, encounter_class_from_cpt_em_codes);
    tcase_add_test(values, procedure_note_diagnosis_sections);
    tcase_add_test(values, pregnancy_observation_gets_a_question);
    TCase *ids = tcase_create("identifiers");

    tcase_add_test(ids, namespace_only_and_unk_ids_identify_nobody);
    TCase *body = tcase_create("body");

    tcase_add_test(body, compressed_and_empty_non_xml_bodies);
    tcase_add_test(body, undeclared_western_bytes_are_windows_1252);
    suite_add_tcase(s, ids);
    suite_add_tcase(s, body);
    suite_add_tcase(s, meds);
    suite_add_tcase(s, values);
    cda_vendors_round2_tcases(s);
    cda_vendors_round3_tcases(s);
    cda_vendors_round4_tcases(s);
    cda_vendors_round5_tcases(s);
    return s;
}
