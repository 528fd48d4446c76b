/* HL7 v2 -> FHIR: shapes that real hospital feeds send and the samples do
 * not (IAM allergies, RXO pharmacy orders and TQ1 timing, OBX without a value
 * type, performing-lab persons, GB 18030 without MSH-18, …).  Every table row
 * names a message and what its Bundle must hold. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/adapters/hl7v2/hl7_test.h"

#define MSH(type, ver) "MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000+0800||" type "|C1|P|" ver "\n"
#define PID            "PID|1||MRN1^^^HIS^MR||LI^WEI||19800102|M\n"
#define PV1            "PV1|1|I|W1^101^A||||||||||||||||V100\n"

/* One expectation: the string at `path` of the k-th resource of `type`
 * ("" = must be absent). */
struct expect {
    const char *type;
    size_t k;
    const char *path;
    const char *want;
};

struct feed_case {
    const char *name;
    const char *msg;
    struct expect ex[12];
};

static void
check_case(const struct feed_case *t)
{
    json_t *b = th_convert(t->msg);

    for (size_t i = 0; i < BASE_ARRAY_LEN(t->ex) && t->ex[i].type != NULL; i++) {
        const struct expect *x = &t->ex[i];
        /* "@request.url": a member of the Bundle entry, not of the resource */
        json_t *r = x->path[0] == '@' ? th_entry(b, x->type, x->k) : th_res(b, x->type, x->k);
        const char *path = x->path + (x->path[0] == '@');

        ck_assert_msg(r != NULL, "%s: no %s #%zu", t->name, x->type, x->k);
        ck_assert_msg(strcmp(th_str(r, path), x->want) == 0, "%s: %s.%s is '%s', want '%s'",
                      t->name, x->type, x->path, th_str(r, path), x->want);
    }
    json_decref(b);
}

/* ------------------------------------------------------------------ IAM -- */

static const struct feed_case iam_cases[] = {
    {"ADT_A60 IAM, confirmed, coded reaction, own identifier",
     MSH("ADT^A60^ADT_A60",
         "2.5.1") "EVN|A60\n" PID PV1
                  "IAM|1|DA^Drug allergy^HL70127|7980^Penicillin G^RXNORM|SV^Severe^HL70128|"
                  "39579001^Anaphylaxis^SCT|A|ALG-1^HIS||AL||20100101||20100105||||C\n",
     {{"AllergyIntolerance", 0, "identifier[0].value", "ALG-1"},
      {"AllergyIntolerance", 0, "category[0]", "medication"},
      {"AllergyIntolerance", 0, "criticality", "high"},
      {"AllergyIntolerance", 0, "type", "allergy"},
      {"AllergyIntolerance", 0, "code.coding[0].system",
       "http://www.nlm.nih.gov/research/umls/rxnorm"},
      {"AllergyIntolerance", 0, "reaction[0].manifestation[0].coding[0].code", "39579001"},
      {"AllergyIntolerance", 0, "reaction[0].severity", "severe"},
      {"AllergyIntolerance", 0, "verificationStatus.coding[0].code", "confirmed"},
      {"AllergyIntolerance", 0, "clinicalStatus.coding[0].code", "active"},
      {"AllergyIntolerance", 0, "onsetDateTime", "2010-01-01"},
      {"AllergyIntolerance", 0, "recordedDate", "2010-01-05"}}},
    {"IAM-6 delete is entered-in-error without a clinical status (ait-2)",
     MSH("ADT^A60^ADT_A60", "2.5.1") PID "IAM|1|FA|F01^Peanut^L|MO|Rash|D|ALG-2\n",
     {{"AllergyIntolerance", 0, "verificationStatus.coding[0].code", "entered-in-error"},
      {"AllergyIntolerance", 0, "clinicalStatus.coding[0].code", ""},
      {"AllergyIntolerance", 0, "category[0]", "food"},
      {"AllergyIntolerance", 0, "reaction[0].manifestation[0].text", "Rash"}}},
    {"IAM-17 inactive, IAM-9 intolerance, no identifier",
     MSH("ADT^A60^ADT_A60", "2.5.1") PID "IAM|1|DA|ASA^Aspirin^L|MI||U|||IN||||||||I\n",
     {{"AllergyIntolerance", 0, "type", "intolerance"},
      {"AllergyIntolerance", 0, "clinicalStatus.coding[0].code", "inactive"},
      {"AllergyIntolerance", 0, "identifier[0].system", "urn:ietf:rfc:3986"},
      {"AllergyIntolerance", 0, "criticality", "low"}}},
};

START_TEST(iam_allergies)
{
    check_case(&iam_cases[_i]);
}
END_TEST

START_TEST(iam_without_allergen_is_skipped)
{
    json_t *b = th_convert(MSH("ADT^A60^ADT_A60", "2.5.1") PID "IAM|1|DA||SV|Rash|A\n");

    ck_assert_uint_eq(th_count(b, "AllergyIntolerance"), 0);
    json_decref(b);
}
END_TEST

/* Allergens sent as text alone under one local system (an allergy list
 * exported without codes): each is its own AllergyIntolerance. */
START_TEST(iam_allergens_given_as_text_stay_apart)
{
    json_t *b = th_convert(MSH("ADT^A60^ADT_A60", "2.5") PID
                           "IAM|1||^Aspirin^L||Hives\n"
                           "IAM|2||^Latex^L||Hives\n"
                           "IAM|3||^Latex^L||Hives\n"
                           "DG1|1||^Asthma^L\n"
                           "DG1|2||^Eczema^L\n");

    ck_assert_uint_eq(th_count(b, "AllergyIntolerance"), 2);
    ck_assert_str_eq(th_str(th_res(b, "AllergyIntolerance", 0), "code.text"), "Aspirin");
    ck_assert_str_eq(th_str(th_res(b, "AllergyIntolerance", 1), "code.text"), "Latex");
    ck_assert_uint_eq(th_count(b, "Condition"), 2);
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------ RXO, TQ1 -- */

static const struct feed_case med_cases[] = {
    {"OMP_O09: ORC, TQ1 before RXO, RXR",
     MSH("OMP^O09^OMP_O09", "2.5.1") PID PV1
     "ORC|NW|RX100^HIS|||||||20241105083000|||D1^SUN^YI\n"
     "TQ1|1|1^TAB|BID^Twice daily^HL70335||||20241105|20241112\n"
     "RXO|860975^Metformin 500 MG Oral Tablet^RXNORM|500||mg|TAB||||||14|TAB|2\n"
     "RXR|PO^Oral^HL70162\n",
     {{"MedicationRequest", 0, "identifier[0].value", "RX100"},
      {"MedicationRequest", 0, "status", "active"},
      {"MedicationRequest", 0, "intent", "order"},
      {"MedicationRequest", 0, "medicationCodeableConcept.coding[0].code", "860975"},
      {"MedicationRequest", 0, "dosageInstruction[0].doseAndRate[0].doseQuantity.code", "mg"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.code.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0335"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.code.coding[0].code", "BID"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.start",
       "2024-11-05"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.end", "2024-11-12"},
      {"MedicationRequest", 0, "dosageInstruction[0].route.coding[0].code", "PO"},
      {"MedicationRequest", 0, "requester.display", "YI SUN"}}},
    {"ORM_O01 v2.3 pharmacy order: RXO, timing in ORC-7",
     MSH("ORM^O01", "2.3") PID "ORC|NW|RX200|||||^Q8H^^20240301080000^20240305|||||D1^SUN^YI\n"
                               "RXO|A001^Aspirin^HOSP|100||mg|TAB\n",
     {{"MedicationRequest", 0, "identifier[0].value", "RX200"},
      {"MedicationRequest", 0, "medicationCodeableConcept.coding[0].code", "A001"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.code.coding[0].code", "Q8H"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.start",
       "2024-03-01T08:00:00+08:00"}}},
    {"RDE_O11: RXO details the RXE, which is the order; TQ1 after RXE",
     MSH("RDE^O11^RDE_O11", "2.5.1") PID "ORC|NW|RX300^HIS\n"
                                         "RXO|OTHER^Other drug^L|1||g\n"
                                         "RXE||A002^Cefuroxime^HOSP|1.5||g\n"
                                         "TQ1|1||Q12H||||20241105080000\n",
     {{"MedicationRequest", 0, "medicationCodeableConcept.coding[0].code", "A002"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.code.coding[0].code", "Q12H"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.start",
       "2024-11-05T08:00:00+08:00"}}},
    {"RXO-20 / RXE-27 indications without a system keep their own field's local system",
     MSH("OMP^O09", "2.5.1") PID "ORC|NW|RX500\nRXO|A5^Drug^L|1||g||||||||||||||||HTN\n",
     {{"MedicationRequest", 0, "reasonCode[0].coding[0].system",
       "urn:fhirgate:member:HOSP/code/RXO-20"}}},
    {"RXE-1 TQ (v2.4) with a locally coded pattern",
     MSH("RDE^O11", "2.4") PID "ORC|NW|RX400\n"
                               "RXE|^TID&Three times a day&99FREQ|A003^Drug^HOSP|1||g\n",
     {{"MedicationRequest", 0, "dosageInstruction[0].timing.code.coding[0].code", "TID"}}},
    {"RDE: two RXE after one ORC are two requests, the order number their group",
     MSH("RDE^O11", "2.5") PID "ORC|NW|RX900\nRXE||A1^Drug A^L|1||mg\nRXE||B2^Drug B^L|2||mg\n",
     {{"MedicationRequest", 0, "identifier[0].value", "RX900"},
      {"MedicationRequest", 1, "medicationCodeableConcept.coding[0].code", "B2"},
      {"MedicationRequest", 1, "groupIdentifier.value", "RX900"},
      {"MedicationRequest", 1, "identifier[0].system", "urn:ietf:rfc:3986"}}},
    {"ORM_O01 v2.4: the whole sig in RXO-3 (not a number) is kept as the dosage text",
     MSH("ORM^O01", "2.4") PID "ORC|NW|RX600\nRXO|^AMOXICILLIN 250MG||250 MG PO TID x7D\n",
     {{"MedicationRequest", 0, "medicationCodeableConcept.text", "AMOXICILLIN 250MG"},
      {"MedicationRequest", 0, "dosageInstruction[0].text", "250 MG PO TID x7D"}}},
    {"RXE with instructions and a maximum only: a quantity, and the text stays",
     MSH("RDE^O11", "2.5") PID "ORC|NW|RX700\nRXE||A7^Drug^HOSP||2|mg||^Take with food\n",
     {{"MedicationRequest", 0, "dosageInstruction[0].text", "Take with food"},
      {"MedicationRequest", 0, "dosageInstruction[0].doseAndRate[0].doseQuantity.code", "mg"}}},
    {"RXE with instructions and a text minimum: both kept",
     MSH("RDE^O11", "2.5") PID "ORC|NW|RX800\nRXE||A8^Drug^HOSP|1-2||TAB||^At night\n",
     {{"MedicationRequest", 0, "dosageInstruction[0].text", "At night; 1-2"},
      {"MedicationRequest", 0, "dosageInstruction[0].doseAndRate[0].doseQuantity.unit", ""}}},
};

/* immunization histories: several RXA under one ORC, VXR and RSP */
static const struct feed_case imm_cases[] = {
    {"VXR_V03: each RXA of one ORC is its own Immunization",
     MSH("VXR^V03^VXR_V03", "2.4") "MSA|AA|Q1\n" PID "ORC|RE|H1\n"
     "RXA|0|1|20260115|20260115|08^Hep B^CVX|0.5|mL\n"
     "RXA|0|2|20260315|20260315|20^DTaP^CVX|0.5|mL\n",
     {{"Immunization", 0, "vaccineCode.coding[0].code", "08"},
      {"Immunization", 0, "identifier[0].value", "H1"},
      {"Immunization", 1, "vaccineCode.coding[0].code", "20"},
      {"Immunization", 1, "occurrenceDateTime", "2026-03-15"},
      {"Immunization", 1, "identifier[0].system", "urn:ietf:rfc:3986"}}},
    {"RSP_K11 forecast: CVX 998 (no vaccine administered) is not done",
     MSH("RSP^K11^RSP_K11", "2.5.1") "MSA|AA|Q2\nQAK|Q2|OK\n" PID "ORC|RE|F1\n"
     "RXA|0|999|20260509|20260509|998^No vaccine administered^CVX|999\n",
     {{"Immunization", 0, "status", "not-done"},
      {"Immunization", 0, "doseQuantity.unit", ""}}},
};

START_TEST(immunization_histories)
{
    check_case(&imm_cases[_i]);
}
END_TEST

static const struct feed_case order_cases[] = {
    {"VXU: an ED certificate has no report to carry it: its own DocumentReference",
     MSH("VXU^V04^VXU_V04", "2.5.1") PID "ORC|RE|V1\n"
     "RXA|0|1|20260509153000||94^MMRV^CVX|0.5|mL\n"
     "OBX|1|ED|11369-6^Immunization certificate^LN||^application^pdf^Base64^JVBERi0xLjQK||||||F"
     "|||20260509160000\n",
     {{"DocumentReference", 0, "type.coding[0].code", "11369-6"},
      {"DocumentReference", 0, "content[0].attachment.contentType", "application/pdf"},
      {"DocumentReference", 0, "content[0].attachment.data", "JVBERi0xLjQK"},
      {"DocumentReference", 0, "date", "2026-05-09T16:00:00+08:00"},
      {"DocumentReference", 0, "status", "current"}}},
    {"OML: an RP attached to the order is a DocumentReference it points to",
     MSH("OML^O21^OML_O21", "2.5.1") PID "ORC|NW|P7\nOBR|1|P7||SCAN^Slide scan^L\n"
     "OBX|1|RP|SLD^Digital slide^L||http://pacs.example/slide/7^^IM^MRXS||||||F\n",
     {{"DocumentReference", 0, "content[0].attachment.url", "http://pacs.example/slide/7"}}},
    {"OML_O21 v2.5: priority from TQ1-9",
     MSH("OML^O21^OML_O21", "2.5.1") PID "ORC|NW|P1\nTQ1|1||||||||S^Stat^HL70485\n"
                                         "OBR|1|P1||CBC^CBC^L\n",
     {{"ServiceRequest", 0, "priority", "stat"}}},
    {"ORM_O01 v2.3: priority from OBR-27.6",
     MSH("ORM^O01", "2.3") PID "ORC|NW|P2\nOBR|1|P2||CBC^CBC^L|||||||||||||||||||||||^^^^^A\n",
     {{"ServiceRequest", 0, "priority", "asap"}}},
    {"ORM_O01 v2.3: priority from ORC-7.6",
     MSH("ORM^O01", "2.3") PID "ORC|NW|P3|||||^^^^^R\nOBR|1|P3||CBC^CBC^L\n",
     {{"ServiceRequest", 0, "priority", "routine"}}},
};

START_TEST(order_attachment_is_its_supporting_info)
{
    json_t *b = th_convert(order_cases[1].msg);

    ck_assert_str_eq(th_str(th_res(b, "ServiceRequest", 0), "supportingInfo[0].reference"),
                     th_str(th_entry(b, "DocumentReference", 0), "fullUrl"));
    json_decref(b);
}
END_TEST

START_TEST(order_priorities)
{
    check_case(&order_cases[_i]);
}
END_TEST

START_TEST(pharmacy_orders)
{
    check_case(&med_cases[_i]);
}
END_TEST

START_TEST(rde_maps_one_request_per_order)
{
    json_t *b = th_convert(med_cases[2].msg);

    ck_assert_uint_eq(th_count(b, "MedicationRequest"), 1);
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------------ OBX -- */

#define ORU(ver)                                                                                   \
    MSH("ORU^R01", ver) PID "OBR|1|P1|F1|CBC^Blood count^L|||20240301080000|||||||||||||||||F\n"

static const struct feed_case obx_cases[] = {
    {"table 0396 ISO3166_1 is ISO 3166 in FHIR",
     ORU("2.5.1") "OBX|1|CWE|78746-5^Country of Birth^LN||USA^United States^ISO3166_1||||||F\n",
     {{"Observation", 0, "valueCodeableConcept.coding[0].system", "urn:iso:std:iso:3166"}}},
    {"two OBX under one OBX-21 instance identifier: both kept, the later by position",
     ORU("2.8") "OBX|1|ST|A^A^L||first||||||F||||||||||OI7^LAB\n"
                "OBX|2|ST|B^B^L||second||||||F||||||||||OI7^LAB\n",
     {{"Observation", 0, "valueString", "first"},
      {"Observation", 0, "identifier[0].value", "OI7"},
      {"Observation", 1, "valueString", "second"},
      {"Observation", 1, "identifier[0].system", "urn:ietf:rfc:3986"}}},
    {"a number sent as ST with its unit is a quantity; text, and a number without a unit, stay "
     "text",
     ORU("2.3") "OBX|1|ST|WEIGHT^Weight^L||65.5|kg|||||F\n"
                "OBX|2|TX|VL^Viral load^L||< 20|^Copies/mL|||||F\n"
                "OBX|3|ST|NOTE^Note^L||see report|kg|||||F\n"
                "OBX|4|ST|CNT^Count^L||12||||||F\n",
     {{"Observation", 0, "valueString", ""},
      {"Observation", 0, "valueQuantity.code", "kg"},
      {"Observation", 1, "valueQuantity.comparator", "<"},
      {"Observation", 1, "valueQuantity.unit", "Copies/mL"},
      {"Observation", 2, "valueString", "see report"},
      {"Observation", 3, "valueString", "12"}}},
    {"OBX-7 with its ends as subcomponents (Spanish LIS '4.50&5.90')",
     ORU("2.5.1") "OBX|1|NM|RBC^Hematies^L||4.46|mill/mm3|4.50&5.90|||A|F\n",
     {{"Observation", 0, "referenceRange[0].text", "4.50&5.90"},
      {"Observation", 0, "referenceRange[0].low.unit", "mill/mm3"},
      {"Observation", 0, "referenceRange[0].high.unit", "mill/mm3"}}},
    {"v2.3 OBX without OBX-2: a number keeps its quantity",
     ORU("2.3") "OBX|1||RBC^Red cells^L||4.5|10*6/uL|4.2-5.4||||F\n",
     {{"Observation", 0, "valueQuantity.code", "10*6/uL"}, {"Observation", 0, "valueString", ""}}},
    {"OBX without OBX-2: a comparator and a number",
     ORU("2.3") "OBX|1||CRP^CRP^L||<0.5|mg/L||||||F\n",
     {{"Observation", 0, "valueQuantity.comparator", "<"},
      {"Observation", 0, "valueQuantity.unit", "mg/L"}}},
    {"OBX without OBX-2: text stays text",
     ORU("2.3") "OBX|1||MORPH^Morphology^L||Normal|||||F\n",
     {{"Observation", 0, "valueString", "Normal"}, {"Observation", 0, "valueQuantity.unit", ""}}},
    {"coding systems named by OID or long name get their canonical URI",
     ORU("2.5.1") "OBX|1|CWE|2345-7^Glucose^2.16.840.1.113883.6.1||"
                  "27268008^Salmonella^SNOMED^A01.0^Typhoid^2.16.840.1.113883.6.3||||||F\n",
     {{"Observation", 0, "code.coding[0].system", "http://loinc.org"},
      {"Observation", 0, "valueCodeableConcept.coding[0].system", "http://snomed.info/sct"},
      {"Observation", 0, "valueCodeableConcept.coding[1].system",
       "http://hl7.org/fhir/sid/icd-10"}}},
    {"v2.3 OBX-15 producer's ID is the performing lab when OBX-23 is empty",
     ORU("2.3") "OBX|1|NM|K^K^L||4.0|mmol/L|||||F||||LAB1^Central Lab\n",
     {{"Observation", 0, "performer[0].display", "Central Lab"},
      {"Observation", 0, "performer[0].identifier.value", "LAB1"}}},
    {"ED media subtype: a real type/subtype is kept, anything else is octet-stream",
     ORU("2.5.1") "OBX|1|ED|PDF^Report^L||^AP^Application/PDF^Base64^QUJD||||||F\n"
                  "OBX|2|ED|X^X^L||^AP^P8859/8\\F\\DF^Base64^QUJD||||||F\n",
     {{"DiagnosticReport", 0, "presentedForm[0].contentType", "application/pdf"},
      {"DiagnosticReport", 0, "presentedForm[1].contentType", "application/octet-stream"}}},
    {"an empty first repetition: the value is the next one",
     ORU("2.3") "OBX|1|NM|X^X^L||~7.5|mmol/L||||F\nOBX|2|CWE|Y^Y^L||~POS^Positive^L||||F\n",
     {{"Observation", 0, "valueQuantity.code", "mmol/L"},
      {"Observation", 1, "valueCodeableConcept.coding[0].code", "POS"}}},
    {"OBX without OBX-2: repeated numbers are text",
     ORU("2.3") "OBX|1||X^X^L||1~2|||||F\n",
     {{"Observation", 0, "valueString", "1\n2"}}},
    {"OBX-25 medical director and OBX-18 equipment (ELR 2.5.1)",
     ORU("2.5.1") "OBX|1|NM|2345-7^Glucose^LN||6.2|mmol/L|||||F|||||T1^TECH^ONE||AN-7^LAB"
                  "|||||Central Lab^D|1 Lab Rd^^Shenyang|P9^PATH^OLOGIST^^^DR\n",
     {{"Observation", 0, "performer[0].identifier.value", "T1"},
      {"Observation", 0, "performer[1].display", "Central Lab"},
      {"Observation", 0, "performer[2].identifier.value", "P9"},
      {"Observation", 0, "performer[2].display", "DR OLOGIST PATH"},
      {"Observation", 0, "device.identifier.value", "AN-7"}}},
    {"Chinese LIS: unescaped 10^9/L unit, arrow flags, doubled-dash range",
     ORU("2.4") "OBX|1|NM|WBC^WBC^L||12.5|10^9/L|125--350|\xE2\x86\x91|||F\n"
                "OBX|2|NM|HGB^HGB^L||100|g/L||\xE2\x86\x93\xE2\x86\x93|||F\n"
                "OBX|3|NM|GLU^GLU^L||7.8|mmol/L|-5--1|H\xE2\x86\x91|||F\n"
                "OBX|4|NM|X^X^L||1|10^9^L||\xE2\x86\x91\xE2\x86\x93|||F\n",
     {{"Observation", 0, "valueQuantity.code", "10*9/L"},
      {"Observation", 0, "valueQuantity.unit", "10^9/L"},
      {"Observation", 0, "referenceRange[0].high.code", "10*9/L"},
      {"Observation", 0, "interpretation[0].coding[0].code", "H"},
      {"Observation", 0, "interpretation[0].text", "\xE2\x86\x91"},
      {"Observation", 1, "interpretation[0].coding[0].code", "LL"},
      {"Observation", 2, "interpretation[0].coding[0].code", "H"},
      {"Observation", 2, "interpretation[0].text", "H\xE2\x86\x91"},
      {"Observation", 3, "valueQuantity.code", ""},
      {"Observation", 3, "interpretation[0].coding[0].system", ""},
      {"Observation", 3, "interpretation[0].text", "\xE2\x86\x91\xE2\x86\x93"}}},
};

START_TEST(observation_values_and_performers)
{
    check_case(&obx_cases[_i]);
}
END_TEST

START_TEST(doubled_dash_ranges)
{
    json_t *b = th_convert(obx_cases[BASE_ARRAY_LEN(obx_cases) - 1].msg);

    ck_assert_str_eq(th_num(th_res(b, "Observation", 0), "referenceRange[0].low.value"), "125");
    ck_assert_str_eq(th_num(th_res(b, "Observation", 0), "referenceRange[0].high.value"), "350");
    ck_assert_str_eq(th_num(th_res(b, "Observation", 2), "referenceRange[0].low.value"), "-5");
    ck_assert_str_eq(th_num(th_res(b, "Observation", 2), "referenceRange[0].high.value"), "-1");
    json_decref(b);
}
END_TEST

/* One requisition (ORC-2/OBR-2) or accession number (OBR-3) shared by
 * several OBR with different tests: each test keeps its own resource */
START_TEST(tests_sharing_an_order_number_stay_apart)
{
    json_t *b = th_convert(MSH("OML^O21^OML_O21", "2.4") PID "ORC|NW|RQ1\n"
                           "OBR|1|RQ1||24331-1^Lipid panel^LN\n"
                           "OBR|2|RQ1||4548-4^HbA1c^LN\n"
                           "OBR|3|RQ1||4548-4^HbA1c^LN\n");
    json_t *r;

    ck_assert_uint_eq(th_count(b, "ServiceRequest"), 2);
    ck_assert_str_eq(th_str(th_res(b, "ServiceRequest", 0), "identifier[0].value"), "RQ1");
    ck_assert_str_eq(th_str(th_res(b, "ServiceRequest", 1), "code.coding[0].code"), "4548-4");
    ck_assert_str_eq(th_str(th_res(b, "ServiceRequest", 1), "requisition.value"), "RQ1");
    ck_assert_str_eq(th_str(th_res(b, "ServiceRequest", 1), "identifier[0].system"),
                     "urn:ietf:rfc:3986");
    json_decref(b);
    b = th_convert(ORU("2.4") "OBX|1|NM|2093-3^Chol^LN||5.1|mmol/L||||F\n"
                              "OBR|2|P1|F1|4548-4^HbA1c^LN|||20240301080000|||||||||||||||||F\n"
                              "OBX|1|NM|4548-4^HbA1c^LN||48|mmol/mol||||F\n");
    ck_assert_uint_eq(th_count(b, "DiagnosticReport"), 2);
    r = th_res(b, "DiagnosticReport", 1);
    ck_assert_str_eq(th_str(r, "code.coding[0].code"), "4548-4");
    ck_assert_str_eq(th_str(r, "result[0].reference"), th_str(th_entry(b, "Observation", 1), "fullUrl"));
    json_decref(b);
}
END_TEST

/* Cerner-style OBX-7: the range, then its ends as components */
START_TEST(range_with_its_ends_as_components)
{
    json_t *b = th_convert(ORU("2.3") "OBX|1|NM|TRIG^Triglyceride^L||72|mg/dL|35-150^35^150||||F\n"
                                      "OBX|2|NM|HDL^HDL^L||62|mg/dL|>40^>40||||F\n"
                                      "OBX|3|NM|X^X^L||1|mg/dL|^0.5^2||||F\n"
                                      "OBX|4|NM|Y^Y^L||1|10^9/L|see^note||||F\n");
    json_t *o;

    o = th_res(b, "Observation", 0);
    ck_assert_str_eq(th_num(o, "referenceRange[0].low.value"), "35");
    ck_assert_str_eq(th_num(o, "referenceRange[0].high.value"), "150");
    ck_assert_str_eq(th_str(o, "referenceRange[0].text"), "35-150");
    o = th_res(b, "Observation", 1);
    ck_assert_str_eq(th_num(o, "referenceRange[0].low.value"), "40");
    ck_assert_ptr_null(th_at(o, "referenceRange[0].high"));
    ck_assert_str_eq(th_str(o, "referenceRange[0].text"), ">40");
    o = th_res(b, "Observation", 2);
    ck_assert_str_eq(th_num(o, "referenceRange[0].low.value"), "0.5");
    ck_assert_str_eq(th_num(o, "referenceRange[0].high.value"), "2");
    /* no number in the components: an unescaped separator, the text is kept whole */
    o = th_res(b, "Observation", 3);
    ck_assert_ptr_null(th_at(o, "referenceRange[0].low"));
    ck_assert_str_eq(th_str(o, "referenceRange[0].text"), "see^note");
    json_decref(b);
}
END_TEST

/* -------------------------------------------------------- demographics -- */

static const struct feed_case pid_cases[] = {
    {"XAD-1 SAD: the whole line with its parts is kept; a bare house number gets its street",
     MSH("ADT^A04", "2.5") "PID|1||M5^^^H^MR||A^B||19800101|F|||Lindenweg 12&Lindenweg&12^^Kiel"
                           "~1000&Hospital Lane^Ste. 123^Ann Arbor\n",
     {{"Patient", 0, "address[0].line[0]", "Lindenweg 12"},
      {"Patient", 0, "address[1].line[0]", "1000 Hospital Lane"},
      {"Patient", 0, "address[1].line[1]", "Ste. 123"}}},
    {"PD1-3 primary facility and PD1-4 primary care provider are the general practitioners; "
     "XPN-14 professional suffix",
     MSH("ADT^A01", "2.8") "PID|1||M7^^^H^MR||Mulder^Geert^^III^DR^^L^^^^^^^PhD||19610615|M\n"
                           "PD1|||Praktijk Centrum^L^^^^NPIAA^XX^^^123457|998874^van Dongen^Johanna"
                           "^^^DR^^^NPIAA^L\n",
     {{"Patient", 0, "name[0].suffix[0]", "III"},
      {"Patient", 0, "name[0].suffix[1]", "PhD"},
      {"Patient", 0, "generalPractitioner[0].type", "Organization"},
      {"Patient", 0, "generalPractitioner[0].identifier.value", "123457"},
      {"Patient", 0, "generalPractitioner[0].display", "Praktijk Centrum"},
      {"Patient", 0, "generalPractitioner[1].type", "Practitioner"},
      {"Patient", 0, "generalPractitioner[1].identifier.value", "998874"},
      {"Patient", 0, "generalPractitioner[1].display", "DR Johanna van Dongen"}}},
    {"Chinese LIS numbering its id types (CX-5 '21'): the sender's code, not table 0203's",
     MSH("OUL^R24^OUL_R24", "2.5.1") "PID|||000825544200^^^^21~^^^^51~M9^^^H^MR||YANG^NANA\n",
     {{"Patient", 0, "identifier[0].type.coding[0].system", "urn:fhirgate:member:HOSP/code/CX-5"},
      {"Patient", 0, "identifier[0].type.coding[0].code", "21"},
      {"Patient", 0, "identifier[1].type.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0203"}}},
    {"CX-5 outside table 0203 (a CX-4 split with '^' shifts 'ISO' into it, as in PHLIP ELR "
     "samples; local words such as MRN) is the sender's code; table codes and NNxxx are not",
     MSH("ORU^R01", "2.5.1") "PID|1||36363636^^^MPI&2.16.840.1.113883.19.3.2.1&ISO^MR~"
                             "444333333^^^&2.16.840.1.113883.4.1^ISO^SS~P77^^^H^MRN~"
                             "0502908365^^^CPR^NNDNK||Everyman^Adam\n",
     {{"Patient", 0, "identifier[0].type.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0203"},
      {"Patient", 0, "identifier[1].type.coding[0].system", "urn:fhirgate:member:HOSP/code/CX-5"},
      {"Patient", 0, "identifier[1].type.coding[0].code", "ISO"},
      {"Patient", 0, "identifier[2].type.coding[0].system", "urn:fhirgate:member:HOSP/code/CX-5"},
      {"Patient", 0, "identifier[3].type.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0203"},
      {"Patient", 0, "identifier[3].type.coding[0].code", "NNDNK"}}},
    {"XTN shifted by one component: the equipment type in XTN-5 is no country code",
     MSH("VXU^V04", "2.5.1") "PID|1||M6^^^H^MR||A^B||19800101|F|||||^PRN^^^PH^555^5550100"
                             "~^PRN^^^CP^555^5550101~^WPN^PH^^49^30^1234567~^PRN^PH^^+44^20^7946\n",
     {{"Patient", 0, "telecom[0].value", "(555) 5550100"},
      {"Patient", 0, "telecom[0].system", "phone"},
      {"Patient", 0, "telecom[1].use", "mobile"},
      {"Patient", 0, "telecom[2].value", "+49 (30) 1234567"},
      {"Patient", 0, "telecom[3].value", "+44 (20) 7946"}}},
    {"a phone field without a digit ('UNKNOWN', a code shifted into NK1-6) is no number",
     MSH("ORU^R01", "2.5.1") "PID|1||M8^^^H^MR||A^B||||||||UNKNOWN~^PRN^PH^^^555^5550100\n"
                             "NK1|1|JONES^SARAH||555-4321||SPO\n",
     {{"Patient", 0, "telecom[0].value", "(555) 5550100"},
      {"Patient", 0, "telecom[1].value", ""},
      {"Patient", 0, "contact[0].telecom[0].value", ""},
      {"Patient", 0, "contact[0].name.family", "JONES"}}},
    {"a phone number in XTN-4 with equipment type PH (Danish feeds) is a phone, not an e-mail",
     MSH("ORM^O01", "2.4") "PID|||0502908365^^^CPR^NNDN||F^O||19900205|M|||||^^PH^+4583363014"
                           "~^NET^X.400^a@b.dk~^^^c@d.dk~^^FX^e@f.dk\n",
     {{"Patient", 0, "telecom[0].system", "phone"},
      {"Patient", 0, "telecom[0].value", "+4583363014"},
      {"Patient", 0, "telecom[1].system", "email"},
      {"Patient", 0, "telecom[2].system", "email"},
      {"Patient", 0, "telecom[3].system", "email"}}},
    {"WinningSoft-style PID: authority as HD universal id (&SFZH), PID-2 repeating PID-3",
     MSH("ADT^A01", "2.4") "PID|1|55^^^&PATID|55^^^&PATID~110101199003070011^^^&SFZH||ZHANG^SAN"
                           "||19900307000000|M\n",
     {{"Patient", 0, "identifier[0].value", "55"},
      {"Patient", 0, "identifier[1].system", "urn:oid:2.16.156.10011.1.3"},
      {"Patient", 0, "identifier[1].value", "110101199003070011"},
      {"Patient", 0, "identifier[2].value", ""}}},
    {"SQL Server's 1900-01-01 in PV1-45 of an admission is no discharge",
     MSH("ADT^A01", "2.4") PID "PV1|1|I|W1||||||||||||||||V7|||||||||||||||||||||||||"
                               "20160615092300|19000101000000\n",
     {{"Encounter", 0, "status", "in-progress"},
      {"Encounter", 0, "period.start", "2016-06-15T09:23:00+08:00"},
      {"Encounter", 0, "period.end", ""}}},
    {"a discharge dated before the admission is omitted (FHIR per-1)",
     MSH("ADT^A08", "2.4") PID "PV1|1|I|W1||||||||||||||||V8|||||||||||||||||||||||||"
                               "20160615092300|20150101080000\n",
     {{"Encounter", 0, "status", "in-progress"}, {"Encounter", 0, "period.end", ""}}},
    {"PID-8 written as a word (\"female\") is the FHIR code it names; an unknown value is none",
     MSH("SIU^S12", "2.4") "PID|1||M8^^^H^MR||AL-ALI^FATIMA||19650117|female\n"
                           "PID|2||M9^^^H^MR||AL-ALI^OMAR||19600101|XYZ\n",
     {{"Patient", 0, "gender", "female"}, {"Patient", 1, "gender", ""}}},
    {"v2.2 feed: national number in PID-2, MRN (typed \"MRN\") in PID-3 is the key",
     MSH("ADT^A01", "2.2") "PID||4857773456|70012345^^^RXH^MRN||GREEN^ALICE||19650412|F\n",
     {{"Patient", 0, "@request.url",
       "Patient?identifier=urn:fhirgate:member:HOSP/id/RXH|70012345"}}},
    {"PID-3 typed with a local type still beats an untyped PID-4",
     MSH("ADT^A08", "2.4") "PID|1||J123^^^H^JZK|A99||WANG^WU\n",
     {{"Patient", 0, "@request.url", "Patient?identifier=urn:fhirgate:member:HOSP/id/H|J123"}}},
    {"an account number in PID-3 does not beat a PID-2 record number",
     MSH("ADT^A08", "2.4") "PID|1|R77^^^H^MR|AC1^^^H^AN||WANG^WU\n",
     {{"Patient", 0, "@request.url", "Patient?identifier=urn:fhirgate:member:HOSP/id/H|R77"}}},
    {"PID-11 birth address and PID-23 go to patient-birthPlace, not address",
     MSH("ADT^A01", "2.5") "PID|1||M1^^^H^MR||LI^WEI||19800101|M|||1 Main Rd^^Shenyang^^^CHN^H~"
                           "^^Dalian^Liaoning^^CHN^BR\n",
     {{"Patient", 0, "address[0].city", "Shenyang"},
      {"Patient", 0, "address[1].city", ""},
      {"Patient", 0, "extension[0].url",
       "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"},
      {"Patient", 0, "extension[0].valueAddress.city", "Dalian"}}},
    {"PID-23 birth place text",
     MSH("ADT^A01", "2.5") "PID|1||M1^^^H^MR||LI^WEI||||||||||||||||||Shanghai\n",
     {{"Patient", 0, "extension[0].valueAddress.text", "Shanghai"}}},
    {"NK1-3 bare table 0063 code gets the v2-0063 system; a local one stays local",
     MSH("ADT^A01", "2.5") PID "NK1|1|LI^LEI|FTH|||||\nNK1|2|LI^MEI|03^Daughter\n",
     {{"Patient", 0, "contact[0].relationship[0].coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0063"},
      {"Patient", 0, "contact[0].relationship[0].coding[0].code", "FTH"},
      {"Patient", 0, "contact[1].relationship[0].coding[0].system",
       "urn:fhirgate:member:HOSP/code/NK1-3"}}},
    {"a bare Chinese mobile number is a mobile phone; a landline keeps the field's use",
     MSH("ADT^A08",
         "2.4") "PID|1||M1^^^H^MR||LI^WEI||||||||13800138000~010-12345678|+86 13912345678\n",
     {{"Patient", 0, "telecom[0].use", "mobile"},
      {"Patient", 0, "telecom[1].use", "home"},
      {"Patient", 0, "telecom[2].use", "mobile"}}},
    {"PID-15 ISO 639 language -> BCP 47",
     MSH("ADT^A08", "2.5") "PID|1||M1^^^H^MR||LI^WEI||||||||||ZH^Chinese^ISO639\n",
     {{"Patient", 0, "communication[0].language.coding[0].system", "urn:ietf:bcp:47"},
      {"Patient", 0, "communication[0].language.coding[0].code", "zh"}}},
    {"PV2-3 reason, PV2-11 length of stay, PV2-25 priority",
     MSH("ADT^A03", "2.5") PID PV1 "PV2|||R07.9^Chest pain^I10||||||||9||||||||||||||1\n",
     {{"Encounter", 0, "reasonCode[0].coding[0].code", "R07.9"},
      {"Encounter", 0, "length.code", "d"},
      {"Encounter", 0, "priority.coding[0].code", "EM"}}},
    {"RXR-1 bare table 0162 route",
     MSH("RDE^O11", "2.5") PID "ORC|NW|RX1\nRXE||A1^Drug^L|1||g\nRXR|IV\n",
     {{"MedicationRequest", 0, "dosageInstruction[0].route.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0162"}}},
};

START_TEST(demographics_and_tables)
{
    check_case(&pid_cases[_i]);
}
END_TEST

/* ------------------------------------------------------------ date/time -- */

static const struct {
    const char *in;   /* PV1-44 as sent */
    const char *want; /* Encounter.period.start; "" = omitted (warned) */
} date_cases[] = {
    {"20241105083015", "2024-11-05T08:30:15+08:00"},
    {"20241105083015.1234+0530", "2024-11-05T08:30:15.1234+05:30"},
    {"2024-11-05 08:30:15", "2024-11-05T08:30:15+08:00"},
    {"2024-11-05T08:30:15.5-05:00", "2024-11-05T08:30:15.5-05:00"},
    {"2024-11-05 08:30", "2024-11-05T08:30:00+08:00"},
    {"2024/11/05 08:30", "2024-11-05T08:30:00+08:00"},
    {"2024-11-05", "2024-11-05"},
    {"2024-13-05", ""},
    {"2024-11-05 8:30", ""},
    {"2024/11-05", ""},
    {"2024-11-05x", ""},
    /* 16 digits: hundredths without the point; 18 ending in an offset that
     * lost its sign ("0700") is invalid, not ten-thousandths */
    {"2024110508301512", "2024-11-05T08:30:15.12+08:00"},
    /* ISO 8601 basic format (DICOM gateways) */
    {"20241105T083015", "2024-11-05T08:30:15+08:00"},
    {"20241105T0830-0500", "2024-11-05T08:30:00-05:00"},
    {"20241105T08", ""},
    {"20241105X083015", ""},
    {"202411050830150700", ""},
    {"202411050830151234", "2024-11-05T08:30:15.1234+08:00"},
};

START_TEST(iso_8601_dates_from_his_exports)
{
    char msg[512];
    json_t *b;

    snprintf(msg, sizeof(msg),
             "MSH|^~\\&|HIS|HOSP|FG|REG|2024-11-05 08:30:15||ADT^A01|C1|P|2.4\n" PID
             "PV1|1|I|W1||||||||||||||||V100|||||||||||||||||||||||||%s\n",
             date_cases[_i].in);
    b = th_convert(msg);
    ck_assert_msg(strcmp(th_str(th_res(b, "Encounter", 0), "period.start"), date_cases[_i].want) ==
                      0,
                  "%s -> '%s', want '%s'", date_cases[_i].in,
                  th_str(th_res(b, "Encounter", 0), "period.start"), date_cases[_i].want);
    /* MSH-7 in the same form gives the Provenance its time */
    ck_assert_str_eq(th_str(th_res(b, "Provenance", 0), "recorded"), "2024-11-05T08:30:15+08:00");
    json_decref(b);
}
END_TEST

/* ------------------------------------------------- national numbers -- */

/* Does converting `text` warn with a message containing `what`? */
static bool
warned(const char *text, const char *what)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(text);
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};
    bool found = false;

    ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &b, &err), BASE_OK);
    for (size_t i = 0; i < b->nwarnings; i++)
        found = found || strstr(b->warnings[i].msg, what) != NULL;
    free(s);
    base_arena_free(a);
    return found;
}

/* NI is the generic "national unique individual identifier": an
 * Australian IHI ('8003609962001101^^^AUSHIC^NI', 16 digits) is no Chinese
 * resident number that failed its check; one of that number's length
 * under NI, or any value under a Chinese type, still is. */
START_TEST(foreign_national_identifier_is_not_a_failed_resident_number)
{
    static const char ihi[] = MSH("ORU^R01", "2.3.1")
        "PID|1||34800963752^^^AUSHIC^MC~8003609962001101^^^AUSHIC^NI~99999999^^^unknown^MR||"
        "GILMOURST^LOURDESPQ\n";
    json_t *b = th_convert(ihi);
    json_t *ids = th_at(th_res(b, "Patient", 0), "identifier");

    ck_assert(!warned(ihi, "GB 11643"));
    ck_assert_uint_eq(json_array_size(ids), 3);
    ck_assert_str_eq(th_str(ids, "[1].value"), "8003609962001101");
    ck_assert_str_eq(th_str(ids, "[1].type.coding[0].code"), "NI");
    json_decref(b);
    /* an 18-character number under NI that fails GB 11643, and a short
     * one under the Chinese type SFZ, are warned */
    ck_assert(warned(MSH("ADT^A01", "2.4") "PID|1||MRN1^^^HIS^MR~110101199003071731^^^HIS^NI||"
                                           "LI^WEI\n",
                     "GB 11643"));
    ck_assert(warned(MSH("ADT^A01", "2.4") "PID|1||MRN1^^^HIS^MR~1234^^^HIS^SFZ||LI^WEI\n",
                     "GB 11643"));
}
END_TEST

/* ------------------------------------------------------------ PID-19 -- */

/* PID-19 as feeds fill it: real numbers become the SS identifier;
 * placeholders (LabCorp's 'SSN# HERE', ELR test data's 999-99-9999) and
 * numbers the SSA never issues are warned and left out, since an
 * identifier shared by unrelated patients would link them. */
static const struct {
    const char *pid19;
    const char *want; /* "" = no SS identifier */
} ssn_cases[] = {
    {"123-45-6789", "123-45-6789"}, {"123456789", "123456789"}, {"123 45 6789", "123 45 6789"},
    {"SSN# HERE", ""},              {"999-99-9999", ""},        {"000-12-3456", ""},
    {"666-12-3456", ""},            {"123-00-4567", ""},        {"123-45-0000", ""},
    {"12345678", ""},               {"1234567890", ""},
};

START_TEST(pid19_social_security_number)
{
    char msg[512];
    json_t *b;
    json_t *ids;
    json_t *id;
    size_t i;
    const char *got = "";

    snprintf(msg, sizeof(msg), "%sPID|1||MRN1^^^HIS^MR||LI^WEI||19800102|M|||||||||||%s\n",
             MSH("ADT^A08", "2.5"), ssn_cases[_i].pid19);
    b = th_convert(msg);
    ids = th_at(th_res(b, "Patient", 0), "identifier");
    json_array_foreach(ids, i, id)
    {
        if (strcmp(th_str(id, "type.coding[0].code"), "SS") == 0)
            got = th_str(id, "value");
    }
    ck_assert_msg(strcmp(got, ssn_cases[_i].want) == 0, "%s -> '%s'", ssn_cases[_i].pid19, got);
    /* the record number stays the key either way */
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "identifier[0].value"), "MRN1");
    json_decref(b);
}
END_TEST

/* ---------------------------------------------------- no visit number -- */

START_TEST(visit_without_number_is_keyed_by_admit_time)
{
    json_t *a01 = th_convert(MSH("ADT^A01", "2.3") PID
                             "PV1|1|I|W1^1^2||||D1^DOC^A|||||||||||||||||||||||||||||||||||||"
                             "202411050800\nDG1|1||I10^HTN^I10\n");
    json_t *a03 = th_convert(MSH("ADT^A03", "2.3") PID
                             "PV1|1|I|W1^1^2||||D1^DOC^A|||||||||||||||||||||||||||||||||||||"
                             "202411050800|202411080930\n");
    json_t *e = th_res(a01, "Encounter", 0);

    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(th_str(e, "class.code"), "IMP");
    ck_assert_str_eq(th_str(e, "period.start"), "2024-11-05T08:00:00+08:00");
    ck_assert_str_eq(th_str(e, "identifier[0].system"), "urn:ietf:rfc:3986");
    ck_assert_str_eq(th_str(th_res(a01, "Condition", 0), "encounter.reference"),
                     th_str(th_entry(a01, "Encounter", 0), "fullUrl"));
    /* the discharge updates the same visit */
    ck_assert_str_eq(th_str(th_entry(a03, "Encounter", 0), "request.url"),
                     th_str(th_entry(a01, "Encounter", 0), "request.url"));
    ck_assert_str_eq(th_str(th_res(a03, "Encounter", 0), "status"), "finished");
    json_decref(a01);
    json_decref(a03);
}
END_TEST

/* PV1-2 outside table 0004: Chinese HIS words and their pinyin (Mindray
 * analysers' 'PV1|1|Zhuyuan|ICU^^chuanghao') map to the v3 class; another
 * code stays the sender's, not table 0004's. */
static const struct {
    const char *pv1_2;
    const char *system;
    const char *code;
} class_cases[] = {
    {"Zhuyuan", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP"},
    {"住院", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP"},
    {"menzhen", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"},
    {"急诊", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER"},
    {"R", "http://terminology.hl7.org/CodeSystem/v2-0004", "R"},
    {"DAYCASE", "urn:fhirgate:member:HOSP/code/PV1-2", "DAYCASE"},
};

START_TEST(patient_class_outside_table_0004)
{
    char msg[512];
    json_t *b;

    snprintf(msg, sizeof(msg), "%s" PID "PV1|1|%s|W1|||||||||||||||||V1^^^HIS^VN\n",
             MSH("ADT^A01", "2.4"), class_cases[_i].pv1_2);
    b = th_convert(msg);
    ck_assert_str_eq(th_str(th_res(b, "Encounter", 0), "class.system"), class_cases[_i].system);
    ck_assert_str_eq(th_str(th_res(b, "Encounter", 0), "class.code"), class_cases[_i].code);
    json_decref(b);
}
END_TEST

/* The classic v2 example visit (`PV1|1|I|2000^2012^01||||004777^ATTEND^…`):
 * no visit number, no admit time.  Admission, update, transfer and
 * discharge are one Encounter, keyed by the patient and the class; the
 * event times and the location, which change, are not in the key. */
#define PV1_NO_NUMBER(loc) "PV1|1|I|" loc "||||004777^ATTEND^AARON^A|||SUR||||ADM|A0\n"

START_TEST(visit_without_number_or_admit_time_is_the_current_visit)
{
    static const char *const later[] = {
        MSH("ADT^A08", "2.3") "EVN|A08|202411061000\n" PID PV1_NO_NUMBER("2000^2012^01"),
        MSH("ADT^A02", "2.3") "EVN|A02|202411070900\n" PID PV1_NO_NUMBER("3000^3001^02"),
        MSH("ADT^A03", "2.3") "EVN|A03|202411080930\n" PID PV1_NO_NUMBER("3000^3001^02"),
    };
    json_t *a01 = th_convert(MSH("ADT^A01", "2.3") "EVN|A01|202411050800\n" PID
                                 PV1_NO_NUMBER("2000^2012^01") "DG1|1||I10^HTN^I10\n");
    json_t *outpatient = th_convert(MSH("ADT^A04", "2.3") "EVN|A04|202411050800\n" PID
                                        "PV1|1|O|CLINIC\n");
    json_t *e = th_entry(a01, "Encounter", 0);

    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(th_str(e, "resource.class.code"), "IMP");
    ck_assert_str_eq(th_str(e, "resource.status"), "in-progress");
    ck_assert_str_eq(th_str(e, "resource.identifier[0].system"), "urn:ietf:rfc:3986");
    ck_assert_str_eq(th_str(th_res(a01, "Condition", 0), "encounter.reference"),
                     th_str(e, "fullUrl"));
    for (size_t i = 0; i < BASE_ARRAY_LEN(later); i++) {
        json_t *b = th_convert(later[i]);
        json_t *l = th_entry(b, "Encounter", 0);

        ck_assert_msg(l != NULL, "message %zu: no Encounter", i);
        ck_assert_str_eq(th_str(l, "fullUrl"), th_str(e, "fullUrl"));
        ck_assert_str_eq(th_str(l, "request.url"), th_str(e, "request.url"));
        if (i == 2)
            ck_assert_str_eq(th_str(l, "resource.status"), "finished");
        json_decref(b);
    }
    /* an appointment (SIU) is about a visit to come: no current-visit
     * Encounter from it */
    {
        json_t *siu = th_convert(MSH("SIU^S12", "2.5") "SCH|A1|A1\n" PID "PV1|1|O|CLINIC\n");

        ck_assert_uint_eq(th_count(siu, "Encounter"), 0);
        ck_assert_uint_eq(th_count(siu, "Patient"), 1);
        json_decref(siu);
    }
    /* an outpatient visit of the same patient is another Encounter */
    ck_assert_str_ne(th_str(th_entry(outpatient, "Encounter", 0), "request.url"),
                     th_str(e, "request.url"));
    ck_assert_str_eq(th_str(th_res(outpatient, "Encounter", 0), "class.code"), "AMB");
    json_decref(a01);
    json_decref(outpatient);
}
END_TEST

/* A PV1 that says nothing about a visit gives no Encounter: empty, class
 * N (not applicable, table 0004), or class U / none without a location. */
static const char *const no_visit_pv1[] = {
    "PV1|1\n", "PV1|1|N\n", "PV1|1|NA|W1\n", "PV1|1|U\n", "PV1|1||||||D1^DOC\n", "PV1|\n",
};

START_TEST(pv1_without_visit_gives_no_encounter)
{
    char msg[512];
    json_t *b;

    snprintf(msg, sizeof(msg), "%s%s", MSH("ORU^R01", "2.5.1") PID, no_visit_pv1[_i]);
    b = th_convert(msg);
    ck_assert_uint_eq(th_count(b, "Encounter"), 0);
    ck_assert_uint_eq(th_count(b, "Patient"), 1);
    json_decref(b);
    /* with a location, an unknown class is a visit (class UNK) */
    b = th_convert(MSH("ORU^R01", "2.5.1") PID "PV1|1|U|W1^1^2\n");
    ck_assert_uint_eq(th_count(b, "Encounter"), 1);
    ck_assert_str_eq(th_str(th_res(b, "Encounter", 0), "location[0].location.display"),
                     "W1 1 2");
    json_decref(b);
}
END_TEST

/* ------------------------------------------------ specimen-first groups -- */

#define OUL_R22                                                                                    \
    MSH("OUL^R22^OUL_R22", "2.5.1")                                                                \
    PID "SPM|1|S1&LAB||BLD^Blood^HL70487|||||||||||||20240101070000\n"                             \
        "OBR|1|P1|F1|CBC^CBC^L||||||||||||||||||||||F\n"                                           \
        "ORC|SC|P1|F1||CM\n"                                                                       \
        "OBX|1|NM|HGB^Hgb^L||13|g/dL|||||F\n"                                                      \
        "SPM|2|S2&LAB||UR^Urine^HL70487\n"                                                         \
        "OBR|2|P2|F2|UA^Urinalysis^L||||||||||||||||||||||F\n"                                     \
        "ORC|SC|P2|F2||CM\n"                                                                       \
        "OBX|1|NM|PH^pH^L||6||||||F\n"

START_TEST(oul_r22_specimen_heads_its_orders)
{
    json_t *b = th_convert(OUL_R22);
    json_t *s1 = th_entry(b, "Specimen", 0);
    json_t *s2 = th_entry(b, "Specimen", 1);

    ck_assert_uint_eq(th_count(b, "DiagnosticReport"), 2);
    ck_assert_str_eq(th_str(th_res(b, "Specimen", 1), "identifier[0].value"), "S2");
    /* the ORC after the OBR keeps the OBX in that report */
    ck_assert_uint_eq(json_array_size(th_at(th_res(b, "DiagnosticReport", 0), "result")), 1);
    ck_assert_uint_eq(json_array_size(th_at(th_res(b, "DiagnosticReport", 1), "result")), 1);
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "specimen[0].reference"),
                     th_str(s1, "fullUrl"));
    ck_assert_uint_eq(json_array_size(th_at(th_res(b, "DiagnosticReport", 0), "specimen")), 1);
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 1), "specimen[0].reference"),
                     th_str(s2, "fullUrl"));
    ck_assert_str_eq(th_str(th_res(b, "Observation", 0), "specimen.reference"),
                     th_str(s1, "fullUrl"));
    ck_assert_str_eq(th_str(th_res(b, "Observation", 1), "specimen.reference"),
                     th_str(s2, "fullUrl"));
    json_decref(b);
}
END_TEST

/* SPM-2 written as an EI ('S1^GASTRO', the namespace of the order numbers)
 * where EIP is due: each specimen is its own, not all one "filler id"
 * GASTRO; a real EIP (placer^filler) keeps the filler as its identity. */
START_TEST(specimen_id_written_as_ei)
{
    json_t *b = th_convert(
        "MSH|^~\\&|OP|WARD|LIS|LAB|20240101101010||OML^O21^OML_O21|C1|P|2.5.1\n" PID
        "ORC|NW|O1^GASTRO\n"
        "OBR|1|O1^GASTRO||GTT^Glucose tolerance^L\n"
        "SPM|1|S1^GASTRO||SER\n"
        "SPM|2|S2^GASTRO||SER\n"
        "SPM|3|P3^F3||SER\n");

    ck_assert_uint_eq(th_count(b, "Specimen"), 3);
    ck_assert_str_eq(th_str(th_res(b, "Specimen", 0), "identifier[0].value"), "S1");
    ck_assert_str_eq(th_str(th_res(b, "Specimen", 1), "identifier[0].value"), "S2");
    ck_assert(strstr(th_str(th_res(b, "Specimen", 1), "identifier[0].system"), "GASTRO") != NULL);
    ck_assert_str_eq(th_str(th_res(b, "Specimen", 2), "identifier[0].type.coding[0].code"),
                     "FILL");
    ck_assert_str_eq(th_str(th_res(b, "Specimen", 2), "identifier[0].value"), "F3");
    json_decref(b);
}
END_TEST

/* v2.8 OUL_R22: the OBR's participations (PRT) come between it and its
 * ORC; the ORC still belongs to that OBR, so the OBX after it stay in the
 * report */
START_TEST(oul_r22_orc_after_the_obr_participations)
{
    json_t *b = th_convert(MSH("OUL^R22^OUL_R22", "2.8") PID
                           "SPM|1|S9&LIS||119297000^Blood^SCT\n"
                           "OBR|1|P9^HIS|F9^LIS|SCAN^Slide scan^L\n"
                           "PRT||AD||AD||PPT||Lab\n"
                           "ORC|SC|P9^HIS|F9^LIS||CM\n"
                           "PRT||AD||AD||PPT||Lab\n"
                           "OBX|1|ED|IMG^Image^L|1|^IM^JPEG^Base64^SGVsbG8=||||||F\n");

    ck_assert_uint_eq(th_count(b, "DiagnosticReport"), 1);
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "presentedForm[0].contentType"),
                     "image/jpeg");
    json_decref(b);
}
END_TEST

Suite *hl7v2_feeds_suite(void);

Suite *
hl7v2_feeds_suite(void)
{
    Suite *s = suite_create("hl7v2_feeds");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, iam_allergies, 0, (int)BASE_ARRAY_LEN(iam_cases));
    tcase_add_test(tc, iam_without_allergen_is_skipped);
    tcase_add_test(tc, iam_allergens_given_as_text_stay_apart);
    tcase_add_loop_test(tc, pharmacy_orders, 0, (int)BASE_ARRAY_LEN(med_cases));
    tcase_add_loop_test(tc, order_priorities, 0, (int)BASE_ARRAY_LEN(order_cases));
    tcase_add_test(tc, rde_maps_one_request_per_order);
    tcase_add_loop_test(tc, observation_values_and_performers, 0, (int)BASE_ARRAY_LEN(obx_cases));
    tcase_add_test(tc, doubled_dash_ranges);
    tcase_add_test(tc, range_with_its_ends_as_components);
    tcase_add_loop_test(tc, demographics_and_tables, 0, (int)BASE_ARRAY_LEN(pid_cases));
    tcase_add_test(tc, foreign_national_identifier_is_not_a_failed_resident_number);
    tcase_add_loop_test(tc, pid19_social_security_number, 0, BASE_ARRAY_LEN(ssn_cases));
    tcase_add_test(tc, visit_without_number_is_keyed_by_admit_time);
    tcase_add_test(tc, visit_without_number_or_admit_time_is_the_current_visit);
    tcase_add_loop_test(tc, patient_class_outside_table_0004, 0, BASE_ARRAY_LEN(class_cases));
    tcase_add_loop_test(tc, pv1_without_visit_gives_no_encounter, 0, BASE_ARRAY_LEN(no_visit_pv1));
    tcase_add_test(tc, oul_r22_specimen_heads_its_orders);
    tcase_add_loop_test(tc, immunization_histories, 0, (int)BASE_ARRAY_LEN(imm_cases));
    tcase_add_test(tc, order_attachment_is_its_supporting_info);
    tcase_add_test(tc, tests_sharing_an_order_number_stay_apart);
    tcase_add_test(tc, oul_r22_orc_after_the_obr_participations);
    tcase_add_test(tc, specimen_id_written_as_ei);
    tcase_add_loop_test(tc, iso_8601_dates_from_his_exports, 0, (int)BASE_ARRAY_LEN(date_cases));
    suite_add_tcase(s, tc);
    return s;
}
