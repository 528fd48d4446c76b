/*
 * Third sweep of other systems' documents (ONC 2015 Edition Cures Update
 * test data, athenahealth exports, HL7 C-CDA-Examples families not opened
 * before).  Part of the cda_vendors suite; the documents are minimal ones
 * written for these tests, one construct each, and each test fails
 * without its fix.
 */
#include <check.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "fhir/json/fhir_json.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

/* A US Realm header with `tail` after recordTarget/patientRole's `role`. */
#define DOC_WITH(role, tail, body)                                                                 \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:sdtc=\"urn:hl7-org:sdtc\" "                  \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                     \
    "<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>"                         \
    "<id root=\"1.2.3.4\" extension=\"R3\"/><code code=\"34133-9\" "                               \
    "codeSystem=\"2.16.840.1.113883.6.1\"/><effectiveTime value=\"20260226165619-0500\"/>"         \
    "<recordTarget><patientRole><id root=\"2.16.840.1.113883.3.564\" extension=\"P-1\"/>" role     \
    "<patient><name><given>Margaret</given><family>Thompson</family></name></patient>"             \
    "</patientRole></recordTarget>" tail "<component><structuredBody>" body                        \
    "</structuredBody></component></ClinicalDocument>"

/* athenahealth lists the patient as her own participant (RoleCode
 * ONESELF): she is not her own contact.  The ONC samples code relatives
 * in the Personal Relationship Role Type value set's OID: that is RoleCode. */
START_TEST(self_participant_and_value_set_as_code_system)
{
    static const char doc[] = DOC_WITH(
        "",
        "<participant typeCode=\"IND\"><associatedEntity classCode=\"PRS\"><code "
        "code=\"ONESELF\" codeSystem=\"2.16.840.1.113883.5.111\" displayName=\"self\"/>"
        "<telecom use=\"HP\" value=\"tel:+1-(555) 867-5309\"/><associatedPerson><name><given>"
        "MARGARET</given><family>THOMPSON</family></name></associatedPerson>"
        "</associatedEntity></participant><participant typeCode=\"IND\"><associatedEntity "
        "classCode=\"PRS\"><code code=\"GRPRN\" displayName=\"grandparent\" "
        "codeSystem=\"2.16.840.1.113883.1.11.19563\"/><associatedPerson><name><given>Robert"
        "</given><family>Garner</family></name></associatedPerson></associatedEntity>"
        "</participant>",
        "");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);

    ck_assert_uint_eq(json_array_size(json_object_get(p, "contact")), 1);
    ck_assert_str_eq(tu_json_str(p, "contact.0.name.family"), "Garner");
    ck_assert_str_eq(tu_json_str(p, "contact.0.relationship.1.coding.0.system"),
                     "http://terminology.hl7.org/CodeSystem/v3-RoleCode");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* athenahealth's serviceEvent performers: <functionCode code="UNK"
 * displayName="Primary Care Provider"/> -- a null flavor as the code of no
 * system -- is a role named by its words, not a coding "UNK".  Former
 * addresses carry their useablePeriod: the period is kept. */
START_TEST(null_flavor_code_without_system_and_address_period)
{
    static const char doc[] = DOC_WITH(
        "<addr use=\"HP\"><streetAddressLine>1234 SUNSET VLY DR</streetAddressLine><city>PALM "
        "DESERT</city><useablePeriod xsi:type=\"IVL_TS\"><low value=\"20250224\"/><high "
        "value=\"20250510\"/></useablePeriod></addr>",
        "<documentationOf><serviceEvent classCode=\"PCPR\"><performer typeCode=\"PRF\">"
        "<functionCode code=\"UNK\" displayName=\"Primary Care Provider\"/><assignedEntity><id "
        "extension=\"1234567890\" root=\"2.16.840.1.113883.4.6\"/><assignedPerson><name><given>"
        "Maria</given><family>Santos</family></name></assignedPerson></assignedEntity>"
        "</performer></serviceEvent></documentationOf>",
        "");
    json_t *b = convert_ok(doc, NULL);
    json_t *t = nth(b, "CareTeam", 0);
    json_t *p = nth(b, "Patient", 0);

    ck_assert_ptr_null(tu_json_at(t, "participant.0.role.0.coding"));
    ck_assert_str_eq(tu_json_str(t, "participant.0.role.0.text"), "Primary Care Provider");
    ck_assert_str_eq(tu_json_str(p, "address.0.period.start"), "2025-02-24");
    ck_assert_str_eq(tu_json_str(p, "address.0.period.end"), "2025-05-10");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

#define PROBLEM_OBS(code)                                                                          \
    "<observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "                                 \
    "root=\"2.16.840.1.113883.10.20.22.4.4\"/><code code=\"55607006\" "                            \
    "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/><value "               \
    "xsi:type=\"CD\" code=\"" code "\" codeSystem=\"2.16.840.1.113883.6.96\"/></observation>"
#define PROBLEM(neg, code)                                                                         \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\" " neg "><templateId "                  \
    "root=\"2.16.840.1.113883.10.20.22.4.4\"/><code code=\"55607006\" "                            \
    "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/><value "               \
    "xsi:type=\"CD\" code=\"" code "\" codeSystem=\"2.16.840.1.113883.6.96\"/></observation>"      \
    "</entry>"

/* negationInd is an xs:boolean underneath: "1", "TRUE" and padded values
 * negate as "true" does, and CDA R2.1's valueNegationInd too -- read as
 * not negated, "no asthma" became asthma. */
START_TEST(negation_spellings)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "5.1", "11450-4",
        PROBLEM("negationInd=\"1\"", "195967001") PROBLEM("negationInd=\" TRUE \"", "38341003")
            PROBLEM("valueNegationInd=\"true\"", "73211009") PROBLEM(
                "negationInd=\"false\"", "44054006") PROBLEM("negationInd=\"0\"", "22298006")));
    json_t *b = convert_ok(doc, NULL);

    ck_assert_uint_eq(count_type(b, "Condition"), 5);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(tu_json_str(nth(b, "Condition", i), "verificationStatus.coding.0.code"),
                         "refuted");
    ck_assert_ptr_null(tu_json_at(nth(b, "Condition", 3), "verificationStatus"));
    ck_assert_ptr_null(tu_json_at(nth(b, "Condition", 4), "verificationStatus"));
    json_decref(b);
}
END_TEST

#define MED(times)                                                                                 \
    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><templateId "            \
    "root=\"2.16.840.1.113883.10.20.22.4.16\"/><statusCode code=\"active\"/><effectiveTime "       \
    "xsi:type=\"IVL_TS\"><low value=\"20230801\"/></effectiveTime>" times                          \
    "<consumable><manufacturedProduct><manufacturedMaterial><code code=\"308191\" "                \
    "codeSystem=\"2.16.840.1.113883.6.88\"/></manufacturedMaterial></manufacturedProduct>"         \
    "</consumable></substanceAdministration></entry>"
#define Q12H                                                                                       \
    "<effectiveTime xsi:type=\"PIVL_TS\" operator=\"A\"><period value=\"12\" unit=\"h\"/>"         \
    "</effectiveTime>"

/* athenahealth: "every 12 hours" (PIVL_TS) and "with meals" (EIVL_TS C) as
 * two effectiveTimes are one Timing; the event was dropped.  Two periods
 * that differ cannot be one repeat: the first stays, with a warning. */
START_TEST(pivl_and_eivl_are_one_timing)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        MED(Q12H "<effectiveTime xsi:type=\"EIVL_TS\" operator=\"A\"><event code=\"C\"/>"
                 "</effectiveTime>") MED(Q12H "<effectiveTime xsi:type=\"PIVL_TS\" "
                                              "operator=\"A\"><period value=\"8\" unit=\"h\"/>"
                                              "</effectiveTime>")));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *r1 = tu_json_at(nth(b, "MedicationStatement", 0), "dosage.0.timing.repeat");
    json_t *r2 = tu_json_at(nth(b, "MedicationStatement", 1), "dosage.0.timing.repeat");

    ck_assert(fhir_json_number_double(json_object_get(r1, "period")) == 12.0);
    ck_assert_str_eq(tu_json_str(r1, "when.0"), "C");
    ck_assert(fhir_json_number_double(json_object_get(r2, "period")) == 12.0);
    ck_assert(has_issue(w, "not-supported", "further dosing frequency"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* A WS/T 500 病历概要 generator writes "-" and 无 into every slot it has
 * nothing for: a health card number "-" would be one identifier shared by
 * every patient without a card (and the gateway links patients by
 * identifier); postal code "-" is none. */
START_TEST(wst_filler_identifier_and_address_parts)
{
    static const char doc[] = WST_DOC("<id root=\"2.16.156.10011.1.19\" extension=\"-\"/>"
                                      "<id root=\"2.16.156.10011.1.2\" extension=\"无\"/>"
                                      "<addr use=\"H\"><houseNumber>黄埔大道西421号</houseNumber>"
                                      "<streetName>-</streetName><city>广州市</city>"
                                      "<postalCode>-</postalCode></addr>",
                                      "");
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);

    /* only the resident identity number is left */
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 1);
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"), "urn:oid:2.16.156.10011.1.3");
    ck_assert_str_eq(tu_json_str(p, "address.0.line.0"), "黄埔大道西421号");
    ck_assert_ptr_null(tu_json_at(p, "address.0.postalCode"));
    json_decref(b);
}
END_TEST

/* ABO 血型 code 5 不详 and Rh(D) code 4 未查 (GB code tables) are the
 * absence of a result, not results; the 卫生事件 section (no LOINC code)
 * holds the event's diagnosis. */
START_TEST(wst_unknown_results_and_health_event_diagnosis)
{
    static const char doc[] =
        WST_DOC("", WST_SECTION("30954-2",
                                "<entry><organizer classCode=\"BATTERY\" "
                                "moodCode=\"EVN\"><statusCode/>"
                                "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><code "
                                "code=\"DE04.50.001.00\" "
                                "codeSystem=\"2.16.156.10011.2.2.1\"/><value "
                                "xsi:type=\"CD\" code=\"5\" codeSystem=\"2.16.156.10011.2.3.1.85\" "
                                "displayName=\"不详\"/></observation></"
                                "component><component><observation "
                                "classCode=\"OBS\" moodCode=\"EVN\"><code code=\"DE04.50.010.00\" "
                                "codeSystem=\"2.16.156.10011.2.2.1\"/><value xsi:type=\"CD\" "
                                "code=\"4\" "
                                "codeSystem=\"2.16.156.10011.2.3.1.250\" "
                                "displayName=\"未查\"/></observation>"
                                "</component><component><observation classCode=\"OBS\" "
                                "moodCode=\"EVN\"><code "
                                "code=\"DE04.50.001.00\" "
                                "codeSystem=\"2.16.156.10011.2.2.1\"/><value "
                                "xsi:type=\"CD\" code=\"1\" codeSystem=\"2.16.156.10011.2.3.1.85\" "
                                "displayName=\"A型\"/></observation></component></organizer></"
                                "entry>") "<component><section><code "
                                          "displayName=\"卫生事件\"/><text/>" WST_OBS("DE08.10.026."
                                                                                      "00",
                                                                                      "<value "
                                                                                      "xsi:type="
                                                                                      "\"ST\">"
                                                                                      "神经内科病房"
                                                                                      "</value>",
                                                                                      "")
                                              WST_OBS("DE05.01.024.00",
                                                      "<value xsi:type=\"CD\" code=\"D18.000\" "
                                                      "codeSystem=\"2.16.156.10011.2.3.3.11\" "
                                                      "displayName=\"血管瘤\"/>",
                                                      "") "</section></component>");
    json_t *b = convert_ok(doc, NULL);

    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "dataAbsentReason.coding.0.code"),
                     "unknown");
    ck_assert_ptr_null(tu_json_at(nth(b, "Observation", 0), "valueCodeableConcept"));
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 1), "dataAbsentReason.coding.0.code"),
                     "not-performed");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 2), "valueCodeableConcept.coding.0.code"),
                     "1");
    ck_assert_uint_eq(count_type(b, "Condition"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "code.coding.0.code"), "D18.000");
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 0), "category.0.coding.0.code"),
                     "encounter-diagnosis");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* Practice Fusion: the Age Observation sits on the Encounter Diagnosis act
 * next to the Problem Observation -- it is the problem's onset age, not a
 * problem "with no coded value"; a Service Delivery Location with only an
 * address is named by it. */
START_TEST(age_on_diagnosis_act_and_location_by_address)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "22.1", "46240-8",
        "<entry><encounter classCode=\"ENC\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.49\"/><id root=\"1.9\" extension=\"E1\"/><code "
        "code=\"99213\" codeSystem=\"2.16.840.1.113883.6.12\"/><effectiveTime value=\"20150622\"/>"
        "<participant typeCode=\"LOC\"><participantRole classCode=\"SDLOC\"><code "
        "nullFlavor=\"NI\"/>"
        "<addr><streetAddressLine>Neighborhood Physicians Practice</streetAddressLine><city>"
        "Beaverton</city></addr></participantRole></participant><entryRelationship "
        "typeCode=\"REFR\"><act classCode=\"ACT\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.80\"/><code code=\"29308-4\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/><entryRelationship typeCode=\"SUBJ\"><observation "
        "classCode=\"OBS\" moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.4\"/>"
        "<code code=\"282291009\" codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode "
        "code=\"completed\"/><value xsi:type=\"CD\" code=\"238131007\" "
        "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entryRelationship>"
        "<entryRelationship typeCode=\"SUBJ\" inversionInd=\"true\"><observation classCode=\"OBS\" "
        "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.31\"/><code "
        "code=\"445518008\" codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/>"
        "<value xsi:type=\"PQ\" value=\"36\" unit=\"a\"/></observation></entryRelationship></act>"
        "</entryRelationship></encounter></entry>"));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *cond = nth(b, "Condition", 0);

    ck_assert_uint_eq(count_type(b, "Condition"), 1);
    ck_assert_str_eq(tu_json_str(cond, "onsetAge.code"), "a");
    ck_assert_uint_eq(json_array_size(json_object_get(w, "issue")), 0);
    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "location.0.location.display"),
                     "Neighborhood Physicians Practice, Beaverton");
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

#define LAB(id, unit, interp)                                                                      \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "                          \
    "root=\"2.16.840.1.113883.10.20.22.4.2\"/><id root=\"1.9\" extension=\"" id "\"/><code "       \
    "code=\"6690-2\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"completed\"/>"       \
    "<effectiveTime value=\"20170824\"/><value xsi:type=\"PQ\" value=\"5.5\" unit=\"" unit         \
    "\"/>" interp "</observation></entry>"

/* US lab shorthand in PQ units: K/uL claimed kelvin per microlitre as its
 * UCUM code, x10E3/uL and IU/L were no UCUM at all.  The unit text stays;
 * the code is the UCUM one.  interpretationCode without its codeSystem
 * (<interpretationCode code="H"/>) is HL7 ObservationInterpretation. */
START_TEST(lab_unit_shorthand_and_bare_interpretation)
{
    static const struct {
        const char *unit;
        const char *ucum;
    } want[] = {
        {"K/uL", "10*3/uL"}, {"x10E3/uL", "10*3/uL"}, {"10^9/L", "10*9/L"}, {"M/uL", "10*6/uL"},
        {"IU/L", "[IU]/L"},  {"mIU/mL", "m[IU]/mL"},  {"mcg/dL", "ug/dL"},  {"mm/hr", "mm/h"},
        {"/hpf", "/[HPF]"},  {"mg/dL", "mg/dL"},      {"mEq/L", "mEq/L"},
    };
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("3.1", "30954-2",
                     LAB("1", "K/uL", "<interpretationCode code=\"H\"/>") LAB("2", "x10E3/uL", "")
                         LAB("3", "10^9/L", "") LAB("4", "M/uL", "") LAB("5", "IU/L", "")
                             LAB("6", "mIU/mL", "") LAB("7", "mcg/dL", "") LAB("8", "mm/hr", "")
                                 LAB("9", "/hpf", "") LAB("10", "mg/dL", "")
                                     LAB("11", "mEq/L", "<interpretationCode code=\"HIGH\"/>")));
    json_t *b = convert_ok(doc, NULL);

    for (size_t i = 0; i < BASE_ARRAY_LEN(want); i++) {
        json_t *o = nth(b, "Observation", i);

        ck_assert_str_eq(tu_json_str(o, "valueQuantity.unit"), want[i].unit);
        ck_assert_str_eq(tu_json_str(o, "valueQuantity.code"), want[i].ucum);
    }
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "interpretation.0.coding.0.system"),
                     "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation");
    /* a local code that is not in the table is not claimed */
    ck_assert_ptr_null(tu_json_at(nth(b, "Observation", 10), "interpretation.0.coding.0.system"));
    json_decref(b);
}
END_TEST

/* A DS4P Privacy Annotation (organizer 2.16.840.1.113883.3.3251.1.4) of
 * Security Observations with `values`. */
#define ANNOTATION(values)                                                                         \
    "<organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><templateId "                               \
    "root=\"2.16.840.1.113883.3.3251.1.4\"/><statusCode code=\"active\"/>" values "</organizer>"
#define SECOBS(obs, code, sys)                                                                     \
    "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "                      \
    "root=\"2.16.840.1.113883.3.445.21\"/><code code=\"" obs "\" "                                 \
    "codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"CE\" code=\"" code "\" "              \
    "codeSystem=\"" sys "\"/></observation></component>"
#define MEDX(id, rx, marks)                                                                        \
    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\"><templateId "            \
    "root=\"2.16.840.1.113883.10.20.22.4.16\"/><id root=\"1.9\" extension=\"" id "\"/>"            \
    "<statusCode code=\"active\"/><consumable><manufacturedProduct><manufacturedMaterial><code "   \
    "code=\"" rx "\" codeSystem=\"2.16.840.1.113883.6.88\"/></manufacturedMaterial>"               \
    "</manufacturedProduct></consumable>" marks "</substanceAdministration></entry>"

/* ONC "security tags" samples (DS4P): a restricted document, a section of
 * its own confidentiality, an entry marked R + ETH (substance use, 42 CFR
 * Part 2).  The gateway decides access on meta.security: the markings
 * reach the resources; the annotations themselves are no entries. */
START_TEST(ds4p_security_labels)
{
    static const char doc[] = CCDA_DOC(
        "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2.1.1\"/><code "
        "code=\"10160-0\" codeSystem=\"2.16.840.1.113883.6.1\"/><confidentialityCode code=\"N\" "
        "codeSystem=\"2.16.840.1.113883.5.25\"/><text/>" MEDX(
            "M1", "1010600",
            "<entryRelationship typeCode=\"COMP\">" ANNOTATION(
                SECOBS("SECCLASSOBS", "R", "2.16.840.1.113883.5.25")
                    SECOBS("SECSENSOBS", "ETH", "2.16.840.1.113883.5.4")) "</entryRelationship>")
            MEDX("M2", "209459",
                 "") "</section></component>"
                     "<component><section><templateId "
                     "root=\"2.16.840.1.113883.10.20.22.2.3.1\"/><code "
                     "code=\"30954-2\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/>"
                     "<entry typeCode=\"COMP\"><templateId "
                     "root=\"2.16.840.1.113883.3.3251.1.9\"/>" ANNOTATION(SECOBS(
                         "SECSENSOBS", "HIV",
                         "2.16.840.1.113883.5.4")) "</entry>"
                                                   "<entry><observation classCode=\"OBS\" "
                                                   "moodCode=\"EVN\">"
                                                   "<templateId "
                                                   "root=\"2.16.840.1.113883.10.20.22.4.2\"/>"
                                                   "<code code=\"2345-7\" "
                                                   "codeSystem=\"2.16.840.1.113883.6.1\"/"
                                                   "><statusCode "
                                                   "code=\"completed\"/><effectiveTime "
                                                   "value=\"20150622\"/>"
                                                   "<value xsi:type=\"PQ\" value=\"90\" "
                                                   "unit=\"mg/dL\"/>"
                                                   "</observation></entry></section></component>");
    json_t *b = convert_ok(doc, NULL);
    json_t *m1 = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);
    json_t *o = nth(b, "Observation", 0);

    ck_assert_uint_eq(count_type(b, "DiagnosticReport"), 0); /* the annotation is none */
    ck_assert_uint_eq(count_type(b, "Observation"), 1);
    ck_assert_uint_eq(json_array_size(tu_json_at(m1, "meta.security")), 3);
    ck_assert_str_eq(tu_json_str(m1, "meta.security.0.code"), "R");
    ck_assert_str_eq(tu_json_str(m1, "meta.security.0.system"),
                     "http://terminology.hl7.org/CodeSystem/v3-Confidentiality");
    ck_assert_str_eq(tu_json_str(m1, "meta.security.1.code"), "ETH");
    ck_assert_str_eq(tu_json_str(m1, "meta.security.1.system"),
                     "http://terminology.hl7.org/CodeSystem/v3-ActCode");
    ck_assert_str_eq(tu_json_str(m1, "meta.security.2.code"), "N"); /* the section's */
    ck_assert_uint_eq(json_array_size(tu_json_at(m2, "meta.security")), 1);
    ck_assert_str_eq(tu_json_str(o, "meta.security.0.code"), "HIV"); /* section marking */
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* A WS/T 500 检验报告 FreeMarker template sent unfilled: "${...}" is no
 * name and no identifier -- as data every such patient shared the
 * resident ID "${patient.patientId!}". */
START_TEST(unfilled_template_placeholders)
{
    static const char doc[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><realmCode code=\"CN\"/>"
        "<id root=\"2.16.156.10011.1.1\" extension=\"T-1\"/><recordTarget>"
        "<patientRole><id root=\"2.16.156.10011.1.11\" "
        "extension=\"{{mzh}}\"/><patient><id root=\"2.16.156.10011.1.3\" "
        "extension=\"${patient.patientId!}\"/><name>${patient.patientName!}"
        "</name></patient></patientRole></recordTarget><author><assignedAuthor>"
        "<id root=\"2.16.156.10011.1.7\" extension=\"#{doctorId}\"/>"
        "<assignedPerson><name>&lt;%= doctor %&gt;</name></assignedPerson>"
        "</assignedAuthor></author></ClinicalDocument>";
    json_t *b = convert_ok(doc, NULL);
    json_t *p = nth(b, "Patient", 0);

    ck_assert_ptr_null(tu_json_at(p, "name"));
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"), "urn:ietf:rfc:3986"); /* derived */
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 1);
    ck_assert_uint_eq(count_type(b, "Practitioner"), 0);
    json_decref(b);
}
END_TEST

/* statusCode "nullified" (entered in error) on a problem, an allergy or
 * their concern act: medications, results, procedures and immunizations
 * said entered-in-error already; a Condition and an AllergyIntolerance
 * became active ones. */
START_TEST(nullified_problem_and_allergy)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("5.1", "11450-4",
                     "<entry><act classCode=\"ACT\" moodCode=\"EVN\"><templateId "
                     "root=\"2.16.840.1.113883.10.20.22.4.3\"/><code code=\"CONC\" "
                     "codeSystem=\"2.16.840.1.113883.5.6\"/><statusCode code=\"nullified\"/>"
                     "<entryRelationship typeCode=\"SUBJ\">" PROBLEM_OBS(
                         "44054006") "</entryRelationship></act></entry>"
                                     "<entry>" PROBLEM_OBS("38341003") "</entry>")
            CCDA_SECTION("6.1", "48765-2",
                         "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
                         "root=\"2.16.840.1.113883.10.20.22.4.7\"/><code code=\"ASSERTION\" "
                         "codeSystem=\"2.16.840.1.113883.5.4\"/><statusCode code=\"nullified\"/>"
                         "<value xsi:type=\"CD\" code=\"419511003\" "
                         "codeSystem=\"2.16.840.1.113883.6.96\"/><participant typeCode=\"CSM\">"
                         "<participantRole><playingEntity><code code=\"7980\" "
                         "codeSystem=\"2.16.840.1.113883.6.88\"/></playingEntity></participantRole>"
                         "</participant></observation></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *c0 = nth(b, "Condition", 0);
    json_t *a0 = nth(b, "AllergyIntolerance", 0);

    ck_assert_str_eq(tu_json_str(c0, "verificationStatus.coding.0.code"), "entered-in-error");
    ck_assert_ptr_null(tu_json_at(c0, "clinicalStatus")); /* con-5 */
    ck_assert_str_eq(tu_json_str(nth(b, "Condition", 1), "clinicalStatus.coding.0.code"), "active");
    ck_assert_str_eq(tu_json_str(a0, "verificationStatus.coding.0.code"), "entered-in-error");
    ck_assert_ptr_null(tu_json_at(a0, "clinicalStatus")); /* ait-2 */
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* A negated observation says its value was NOT found.  Results, social
 * history and vital signs mapped it as found: HBsAg "Positive", "current
 * every day smoker".  No Observation now (a warning); a negated Pregnancy
 * Observation is "Not pregnant". */
START_TEST(negated_observations_are_not_findings)
{
    static const char doc[] = CCDA_DOC(
        CCDA_SECTION("3.1", "30954-2",
                     "<entry><observation classCode=\"OBS\" moodCode=\"EVN\" negationInd=\"true\">"
                     "<code code=\"7905-3\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode "
                     "code=\"completed\"/><effectiveTime value=\"20200101\"/><value "
                     "xsi:type=\"CD\" code=\"10828004\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
                     "</observation></entry>")
            CCDA_SECTION("17", "29762-2",
                         "<entry><observation classCode=\"OBS\" moodCode=\"EVN\" "
                         "negationInd=\"true\"><code code=\"72166-2\" "
                         "codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"completed\"/>"
                         "<effectiveTime value=\"20200101\"/><value xsi:type=\"CD\" "
                         "code=\"449868002\" codeSystem=\"2.16.840.1.113883.6.96\"/></observation>"
                         "</entry><entry><observation classCode=\"OBS\" moodCode=\"EVN\" "
                         "negationInd=\"true\"><templateId "
                         "root=\"2.16.840.1.113883.10.20.15.3.8\"/><code code=\"ASSERTION\" "
                         "codeSystem=\"2.16.840.1.113883.5.4\"/><statusCode code=\"completed\"/>"
                         "<effectiveTime value=\"20200101\"/><value xsi:type=\"CD\" "
                         "code=\"77386006\" codeSystem=\"2.16.840.1.113883.6.96\"/></observation>"
                         "</entry>"));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    ck_assert_uint_eq(count_type(b, "Observation"), 1);
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "code.coding.1.code"), "82810-3");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "valueCodeableConcept.coding.0.code"),
                     "60001007");
    ck_assert(has_issue(w, "not-supported", "negated observation"));
    json_decref(w);
    json_decref(b);
}
END_TEST

/* A negated Reaction Observation ("no hives") became a manifestation. */
START_TEST(negated_reaction_is_no_manifestation)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "6.1", "48765-2",
        "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.7\"/><code code=\"ASSERTION\" "
        "codeSystem=\"2.16.840.1.113883.5.4\"/><statusCode code=\"completed\"/><value "
        "xsi:type=\"CD\" code=\"419511003\" codeSystem=\"2.16.840.1.113883.6.96\"/><participant "
        "typeCode=\"CSM\"><participantRole><playingEntity><code code=\"7980\" "
        "codeSystem=\"2.16.840.1.113883.6.88\"/></playingEntity></participantRole></participant>"
        "<entryRelationship typeCode=\"MFST\" inversionInd=\"true\"><observation classCode=\"OBS\" "
        "moodCode=\"EVN\" negationInd=\"true\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.9\"/>"
        "<code code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"CD\" "
        "code=\"247472004\" codeSystem=\"2.16.840.1.113883.6.96\"/></observation>"
        "</entryRelationship><entryRelationship typeCode=\"MFST\" inversionInd=\"true\">"
        "<observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.9\"/><code code=\"ASSERTION\" "
        "codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"CD\" code=\"422587007\" "
        "codeSystem=\"2.16.840.1.113883.6.96\"/></observation></entryRelationship></observation>"
        "</entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "AllergyIntolerance", 0);

    ck_assert_uint_eq(json_array_size(json_object_get(a, "reaction")), 1);
    ck_assert_str_eq(tu_json_str(a, "reaction.0.manifestation.0.coding.0.code"), "422587007");
    json_decref(b);
}
END_TEST

/* The unfilled 检验报告 template's diagnosis slot (code="" displayName="")
 * says nothing: an informational issue, not "required". */
START_TEST(wst_blank_diagnosis_slot)
{
    static const char doc[] =
        WST_DOC("", WST_SECTION("29548-5", WST_OBS("DE05.01.024.00",
                                                   "<value xsi:type=\"CD\" code=\"\" "
                                                   "codeSystem=\"2.16.156.10011.2.3.3.11.3\" "
                                                   "displayName=\"\"/>",
                                                   "")));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    ck_assert_uint_eq(count_type(b, "Condition"), 0);
    ck_assert_str_eq(tu_json_str(w, "issue.0.code"), "informational");
    json_decref(w);
    json_decref(b);
}
END_TEST

void
cda_vendors_round3_tcases(Suite *s)
{
    TCase *t = tcase_create("round3");

    tcase_add_test(t, self_participant_and_value_set_as_code_system);
    tcase_add_test(t, null_flavor_code_without_system_and_address_period);
    tcase_add_test(t, negation_spellings);
    tcase_add_test(t, pivl_and_eivl_are_one_timing);
    tcase_add_test(t, wst_filler_identifier_and_address_parts);
    tcase_add_test(t, wst_unknown_results_and_health_event_diagnosis);
    tcase_add_test(t, age_on_diagnosis_act_and_location_by_address);
    tcase_add_test(t, lab_unit_shorthand_and_bare_interpretation);
    tcase_add_test(t, ds4p_security_labels);
    tcase_add_test(t, unfilled_template_placeholders);
    tcase_add_test(t, nullified_problem_and_allergy);
    tcase_add_test(t, negated_observations_are_not_findings);
    tcase_add_test(t, negated_reaction_is_no_manifestation);
    tcase_add_test(t, wst_blank_diagnosis_slot);
    suite_add_tcase(s, t);
}
