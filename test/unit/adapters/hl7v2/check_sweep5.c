/* HL7 v2 -> FHIR: shapes found in the fifth sweep of messages written by
 * others (Chinese RIS and HIS interface documents, LIS and analyser
 * feeds, the v2.5.1 pharmacy examples).  Every message here is written
 * for the test; each case reproduces one shape and names what the Bundle
 * must (not) hold. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/adapters/hl7v2/hl7_test.h"
#include "test/unit/adapters/hl7v2/sweep_case.h"

#define MSH(type, ver) "MSH|^~\\&|LIS|HOSP|FG|REG|20240315100000+0800||" type "|S5|P|" ver "\n"
#define PID            "PID|1||MRN5^^^LIS^MR||WANG^LI||19900307|M\n"
#define OBR            "OBR|1|A1|L1|01^CBC^L|||20240315080000\n"

static const struct sweep_case result_cases[] = {
    /* analysers print exponents under NM; the value stayed text */
    {"exponent under NM",
     MSH("ORU^R01", "2.4") PID OBR "OBX|1|NM|PLT^Platelets^L||2.1E+2|10*9/L|125-350||||F\n"
                                   "OBX|2|NM|CREA^Creatinine^L||1.20e2|umol/L|||||F\n",
     NULL,
     {{"Observation", 0, "=valueQuantity.value", "2.1E2"},
      {"Observation", 0, "valueString", ""},
      {"Observation", 1, "=valueQuantity.value", "1.20E2"}}},
    /* one range per sex in OBX-7: it stayed text */
    {"sex-specific range, Chinese labels",
     MSH("ORU^R01", "2.4") PID OBR "OBX|1|NM|RBC^RBC^L||4.85|10*12/L|\xE7\x94\xB7"
                                   "4.3-5.8 \xE5\xA5\xB3"
                                   "3.8-5.1||||F\n",
     NULL,
     {{"Observation", 0, "=referenceRange[0].low.value", "4.3"},
      {"Observation", 0, "=referenceRange[0].high.value", "5.8"},
      {"Observation", 0, "referenceRange[0].appliesTo[0].coding[0].code", "248153007"},
      {"Observation", 0, "referenceRange[0].text",
       "\xE7\x94\xB7"
       "4.3-5.8"},
      {"Observation", 0, "=referenceRange[1].low.value", "3.8"},
      {"Observation", 0, "=referenceRange[1].high.value", "5.1"},
      {"Observation", 0, "referenceRange[1].appliesTo[0].coding[0].code", "248152002"},
      {"Observation", 0, "referenceRange[1].appliesTo[0].text", "\xE5\xA5\xB3"}}},
    {"sex-specific range, Latin labels",
     MSH("ORU^R01", "2.4") PID OBR "OBX|1|NM|HGB^Hb^L||152|g/L|M:130-175;F:115-150||||F\n",
     NULL,
     {{"Observation", 0, "=referenceRange[0].low.value", "130"},
      {"Observation", 0, "referenceRange[0].appliesTo[0].text", "M"},
      {"Observation", 0, "=referenceRange[1].high.value", "150"},
      {"Observation", 0, "referenceRange[1].text", "F:115-150"}}},
    /* no sex pair ("fL" holds an F; one label only): text as before */
    {"not a sex pair",
     MSH("ORU^R01", "2.4") PID OBR "OBX|1|NM|MCV^MCV^L||90|fL|80-100 fL||||F\n"
                                   "OBX|2|NM|HGB^Hb^L||152|g/L|M:130-175||||F\n",
     NULL,
     {{"Observation", 0, "=referenceRange[0].low.value", "80"},
      {"Observation", 0, "referenceRange[0].appliesTo[0].text", ""},
      {"Observation", 1, "referenceRange[0].text", "M:130-175"},
      {"Observation", 1, "referenceRange[1].text", ""}}},
    /* the dash of the adults' range split the whole text: the high end
     * became 125 for everyone and the low end was lost */
    {"age-specific range stays text",
     MSH("ORU^R01", "2.4") PID OBR
     "OBX|1|NM|ALP^ALP^L||280|U/L|\xE5\x84\xBF\xE7\xAB\xA5<500;\xE6\x88\x90\xE4\xBA\xBA"
     "45-125||||F\n",
     NULL,
     {{"Observation", 0, "=referenceRange[0].high.value", ""},
      {"Observation", 0, "=referenceRange[0].low.value", ""},
      {"Observation", 0, "referenceRange[0].text",
       "\xE5\x84\xBF\xE7\xAB\xA5<500;\xE6\x88\x90\xE4\xBA\xBA"
       "45-125"}}},
    /* one range per age group, the ages given in years: the first dash
     * ('0-14') made low 0 for every patient */
    {"age-specific ranges in years",
     MSH("ORU^R01", "2.4") PID OBR
     "OBX|1|NM|WBC^WBC^L||9.1|10*9/L|0-14\xE5\xB2\x81:5-12;>14\xE5\xB2\x81:3.5-9.5||||F\n"
     "OBX|2|NM|ALP^ALP^L||100|U/L|<1\xE5\xB2\x81\xEF\xBC\x9A"
     "80-400\xEF\xBC\x9B\xE2\x89\xA5"
     "1\xE5\xB2\x81\xEF\xBC\x9A"
     "45-125||||F\n",
     NULL,
     {{"Observation", 0, "=referenceRange[0].low.value", "5"},
      {"Observation", 0, "=referenceRange[0].high.value", "12"},
      {"Observation", 0, "=referenceRange[0].age.high.value", "14"},
      {"Observation", 0, "referenceRange[0].age.high.code", "a"},
      {"Observation", 0, "=referenceRange[1].age.low.value", "14"},
      {"Observation", 0, "=referenceRange[1].low.value", "3.5"},
      {"Observation", 1, "=referenceRange[0].age.high.value", "1"},
      {"Observation", 1, "=referenceRange[1].age.low.value", "1"},
      {"Observation", 1, "=referenceRange[1].high.value", "125"}}},
    /* several organisms in one OBX-5: all but the first were dropped */
    {"repeated coded value",
     MSH("ORU^R01", "2.5") PID OBR
     "OBX|1|CWE|600-7^Bacteria identified^LN||112283007^E. coli^SCT~56415008^K. "
     "pneumoniae^SCT||||||F\n",
     NULL,
     {{"Observation", 0, "valueCodeableConcept.coding[0].code", ""},
      {"Observation", 0, "component[0].code.coding[0].code", "600-7"},
      {"Observation", 0, "component[0].valueCodeableConcept.coding[0].code", "112283007"},
      {"Observation", 0, "component[1].code.coding[0].code", "600-7"},
      {"Observation", 0, "component[1].valueCodeableConcept.coding[0].code", "56415008"}}},
    /* a microscopy count sent as a range with its unit ('0-2' '/HP'):
     * valueString lost the unit */
    {"range value under ST",
     MSH("OUL^R21", "2.5") PID OBR "OBX|1|ST|WBCU^WBC urine^L||0-2|/HP|0-5||||F\n"
                                   "OBX|2|ST|PRO^Protein^L||-1-2|mg|||||F\n",
     NULL,
     {{"Observation", 0, "=valueRange.low.value", "0"},
      {"Observation", 0, "=valueRange.high.value", "2"},
      {"Observation", 0, "valueRange.high.code", "/[HPF]"},
      {"Observation", 0, "valueString", ""},
      {"Observation", 1, "valueString", "-1-2"}}},
    /* analyser histograms (ED) in one report were told apart by nothing */
    {"encapsulated data titled by OBX-3",
     MSH("ORU^R01", "2.3.1") PID OBR
     "OBX|1|ED|15000^WBC Histogram. Binary^99MRC||^Application^Octet-stream^Base64^AAEC|||||F\n"
     "OBX|2|ED|15100^RBC Histogram. Binary^99MRC||^Application^Octet-stream^Base64^AwQF|||||F\n",
     NULL,
     {{"DiagnosticReport", 0, "presentedForm[0].title", "WBC Histogram. Binary"},
      {"DiagnosticReport", 0, "presentedForm[1].title", "RBC Histogram. Binary"}}},
};

static const struct sweep_case other_cases[] = {
    /* CX-5 '01' (WS 364.3 identity-document type: 居民身份证) on a valid
     * number: it stayed a member-local identifier, so the same person
     * could not be linked across members by it */
    {"identity document type 01",
     MSH("ADT^A02", "2.6") "PID|||140202199201305536^^^^01~^^^^110119120||^X\n",
     NULL,
     {{"Patient", 0, "identifier[0].system", "urn:oid:2.16.156.10011.1.3"},
      {"Patient", 0, "identifier[0].value", "140202199201305536"}}},
    /* a number failing GB 11643 under the national OID was published
     * under the national system (and the warning said "local") */
    {"failed resident id under the national OID",
     MSH("ADT^A04", "2.5") "PID|1||330102197001017777^^^&2.16.156.10011.1.3&ISO^NNCHN~"
                           "M1^^^HIS^MR||^X\n",
     "kept as a local identifier",
     {{"Patient", 0, "identifier[0].system", "urn:fhirgate:member:HOSP/id"},
      {"Patient", 0, "identifier[0].value", "330102197001017777"}}},
    /* CX-4 USSSA (table 0363: the Social Security Administration): the
     * SSN became a member-local identifier beside PID-19's; a placeholder
     * stays local (it would link strangers) */
    {"SSN under the USSSA authority",
     MSH("ADT^A01", "2.3.1") "PID|1||P1^^^ADT1^MR~123456789^^^USSSA^SS~999999999^^^USSSA^SS||"
                             "SMITH^W||19610615|M|||||||||||123456789\n",
     NULL,
     {{"Patient", 0, "identifier[1].system", "http://hl7.org/fhir/sid/us-ssn"},
      {"Patient", 0, "identifier[1].value", "123456789"},
      {"Patient", 0, "identifier[2].system", "urn:fhirgate:member:HOSP/id/USSSA"},
      {"Patient", 0, "identifier[3].value", ""}}},
    /* '01' on a number that is no resident id: a local identifier */
    {"type 01 on another number",
     MSH("ADT^A02", "2.6") "PID|||P0001^^^^01||^X\n",
     NULL,
     {{"Patient", 0, "identifier[0].value", "P0001"},
      {"Patient", 0, "identifier[0].type.coding[0].code", "01"}}},
    /* OBR-13 (relevant clinical information) was dropped; TQ1-7, the
     * booked start of an imaging request without OBR-7, too */
    {"clinical information and booked start",
     MSH("OMG^O19", "2.5") PID "ORC|NW|JC1^HIS|||SC\nTQ1|1||||||20240316100000||R\n"
                               "OBR|1|JC1^HIS||US001^Abdominal US^L|||||||||History^3 days "
                               "pain\n",
     NULL,
     {{"ServiceRequest", 0, "occurrenceDateTime", "2024-03-16T10:00:00+08:00"},
      {"ServiceRequest", 0, "note[0].text", "History; 3 days pain"}}},
    /* RAS_O17 (drug given): its RXA was dropped without a word */
    {"administration outside immunization",
     MSH("RAS^O17", "2.6") PID "ORC|RE|YZ1^HIS\nRXA|0|1|20240315100000|20240315100500|"
                               "86001^Ceftriaxone^YP|1|g\n",
     "drug administration (RXA outside an immunization message) not mapped",
     {{"Patient", 0, "identifier[0].value", "MRN5"}}},
    /* RIS/PACS interfaces write 'characters^pinyin': it became given name
     * 'zhangsanfeng' of family '张三丰' */
    {"characters then pinyin",
     MSH("ADT^A01", "2.3") "PID|||263656||\xE5\xBC\xA0\xE4\xB8\x89\xE4\xB8\xB0^zhangsanfeng||"
                           "19770101|M\n",
     NULL,
     {{"Patient", 0, "name[0].text", "\xE5\xBC\xA0\xE4\xB8\x89\xE4\xB8\xB0"},
      {"Patient", 0, "name[0].given[0]", ""},
      {"Patient", 0, "name[1].text", "zhangsanfeng"},
      {"Patient", 0, "name[1].extension[0].valueCode", "SYL"}}},
    /* one character is a family name alone: family and given as sent */
    {"family in characters, given in Latin",
     MSH("ADT^A01", "2.3") "PID|||263656||\xE5\xBC\xA0^San||19770101|M\n",
     NULL,
     {{"Patient", 0, "name[0].family", "\xE5\xBC\xA0"}, {"Patient", 0, "name[0].given[0]", "San"}}},
    /* the v2.5.1 4A "e-mail only" order: the sig in RXO-6 was dropped */
    {"pharmacy instructions",
     MSH("ORM^O01", "2.2") PID "ORC|NW|1000^OE||||E\n"
                               "RXO||||||500 mg Polycillin Q6H for 10 days, dispense 40 Tablets\n",
     "no give code",
     {{"MedicationRequest", 0, "note[0].text",
       "500 mg Polycillin Q6H for 10 days, dispense 40 Tablets"}}},
    /* TQ-3 duration "D10" (ten days) and "X4" (four times) were dropped */
    {"timing duration and count",
     MSH("ORM^O01", "2.2") PID "ORC|NW|1000^OE||||E|^Q6H^D10^^^R\n"
                               "RXO|^Polycillin 500 mg TAB^|500||MG|||||Y||40\n"
                               "ORC|NW|1001^OE||||E|^BID^X4\n"
                               "RXO|^Paracetamol 500 mg TAB^|500||MG\n",
     NULL,
     {{"MedicationRequest", 0, "=dosageInstruction[0].timing.repeat.boundsDuration.value", "10"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsDuration.code", "d"},
      {"MedicationRequest", 1, "=dosageInstruction[0].timing.repeat.count", "4"},
      {"MedicationRequest", 1, "=dosageInstruction[0].timing.repeat.boundsDuration.value", ""}}},
};

/* Found by fuzz_hl7v2 on the fifth sweep's seeds: a Period whose end is
 * before its start (Period per-1), or a Range whose low is above its high
 * (rng-2), made the Bundle invalid wherever v2 gives
 * a start and an end -- CX-7/8, OBX DR values, OBR-7/8, SPM-17, TQ1-7/8 --
 * and PV1-44/45 on one day was let through (dates were compared, not
 * times).  The end is left out and warned about. */
static const struct sweep_case fuzz_cases[] = {
    {"identifier valid to before valid from",
     MSH("ADT^A04", "2.5") "PID|1||P1^^^HIS^MR^^20240101^20200101||^X\n",
     "period ends before it starts",
     {{"Patient", 0, "identifier[0].period.start", "2024-01-01"},
      {"Patient", 0, "identifier[0].period.end", ""}}},
    {"DR value ending before it starts",
     MSH("ORU^R01", "2.5") PID OBR "OBX|1|DR|X1^Range^L||20240301^20240201||||||F\n",
     "period ends before it starts",
     {{"Observation", 0, "valuePeriod.start", "2024-03-01"},
      {"Observation", 0, "valuePeriod.end", ""}}},
    {"observation end before its start",
     MSH("ORU^R01", "2.5") PID "OBR|1|A1|L1|01^CBC^L|||20240315080000+0800|20240314080000+0800\n"
                               "OBX|1|NM|X2^Hb^L||140|g/L|||||F\n",
     "period ends before it starts",
     {{"DiagnosticReport", 0, "effectivePeriod.start", "2024-03-15T08:00:00+08:00"},
      {"DiagnosticReport", 0, "effectivePeriod.end", ""}}},
    {"specimen collected until before it was collected",
     MSH("OUL^R22", "2.5.1") PID "SPM|1|S1||BLD^Blood^HL70487|||||||||||||"
                                 "20240315090000+0800^20240315080000+0800\n",
     "period ends before it starts",
     {{"Specimen", 0, "collection.collectedPeriod.start", "2024-03-15T09:00:00+08:00"},
      {"Specimen", 0, "collection.collectedPeriod.end", ""}}},
    {"TQ1 end before its start",
     MSH("RDE^O11", "2.5.1") PID "ORC|NW|RX310^HIS\nRXE||A2^Drug^HOSP|1||g\n"
                                 "TQ1|1||Q12H||||20241105080000|20241101080000\n",
     "period ends before it starts",
     {{"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.start",
       "2024-11-05T08:00:00+08:00"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.end", ""}}},
    /* the same, for a Range (rng-2): RXE-3 minimum above RXE-4 maximum */
    {"minimum dose above the maximum",
     MSH("RDE^O11^RDE_O11", "2.5.1") PID "ORC|NW|RX311^HIS\nRXE||A2^Drug^HOSP|500|250|mg\n",
     "minimum dose above the maximum",
     {{"MedicationRequest", 0, "dosageInstruction[0].doseAndRate[0].doseRange.low.value", ""},
      {"MedicationRequest", 0, "dosageInstruction[0].text", "500; 250"}}},
    /* and a system: a CX-4 universal id "urn:uuid:" + more than a uuid was
     * taken as the identifier's system, which the validator refuses */
    {"a malformed urn:uuid as the assigning authority",
     MSH("ADT^A04", "2.5") "PID|1||P9^^^&urn:uuid:873c3318-94b6-53d3-bbe1-3eeef0f72e53X&URI^MR"
                           "||^X\n",
     NULL,
     {{"Patient", 0, "identifier[0].value", "P9"},
      {"Patient", 0, "identifier[0].system",
       "urn:fhirgate:member:HOSP/id/urn:uuid:873c3318-94b6-53d3-bbe1-3eeef0f72e53X"}}},
    {"discharged an hour before admission, on the same day",
     MSH("ADT^A03", "2.5") PID "PV1|1|I|W1^1^1||||||||||||||||V77|||||||||||||||||||||||||"
                               "202403151000|202403150900\n",
     "discharge before admission",
     {{"Encounter", 0, "period.start", "2024-03-15T10:00:00+08:00"},
      {"Encounter", 0, "period.end", ""}}},
};

START_TEST(fuzz_findings)
{
    check_case(&fuzz_cases[_i]);
}
END_TEST

START_TEST(results)
{
    check_case(&result_cases[_i]);
}
END_TEST

START_TEST(others)
{
    check_case(&other_cases[_i]);
}
END_TEST

Suite *hl7v2_sweep5_suite(void);

Suite *
hl7v2_sweep5_suite(void)
{
    Suite *s = suite_create("hl7v2_sweep5");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, results, 0, (int)BASE_ARRAY_LEN(result_cases));
    tcase_add_loop_test(tc, others, 0, (int)BASE_ARRAY_LEN(other_cases));
    tcase_add_loop_test(tc, fuzz_findings, 0, (int)BASE_ARRAY_LEN(fuzz_cases));
    suite_add_tcase(s, tc);
    return s;
}
