/* HL7 v2 -> FHIR: shapes found in the fourth sweep of messages written by
 * others (Epic Beaker and other US LIS exports, a Chinese HIS ORM, Chinese
 * LIS ORU, Slovak and Icelandic ADT/ORU, legacy Windows-1252 senders).
 * Every message here is written for the test; each case reproduces one
 * shape and names what the Bundle must (not) hold. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/adapters/hl7v2/hl7_test.h"
#include "test/unit/adapters/hl7v2/sweep_case.h"

#define MSH(type, ver) "MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000+0800||" type "|S4|P|" ver "\n"
#define PID            "PID|1||MRN4^^^HIS^MR||LI^WEI||19800102|M\n"

/* ------------------------------------------------------------ identities -- */

static const struct sweep_case identity_cases[] = {
    /* PV1-50 '000000000': every patient without an alternate visit number
     * would share one Encounter (conditional update by it) */
    {"zeros as the visit number key nothing",
     MSH("ADT^A01", "2.2") PID
     "PV1|1|I|W1^1^A|||||||||||||||||||||||||||||||||||||||||||||||000000000\n",
     "placeholder (only zeros)",
     {{"Encounter", 0, "identifier[0].system", "urn:ietf:rfc:3986"},
      {"Encounter", 0, "hospitalization.preAdmissionIdentifier.value", ""}}},
    {"zeros as PV1-19, PV1-5 and PID-4",
     MSH("ADT^A01",
         "2.4") "PID|1||MRN4^^^HIS^MR|0|LI^WEI||19800102|M\n"
                "PV1|1|I|W1^1^A||0||||||||||||||000000|||||||||||||||||||||||||20240301080000\n",
     "placeholder (only zeros)",
     {{"Patient", 0, "identifier[1].value", ""},
      {"Encounter", 0, "identifier[0].system", "urn:ietf:rfc:3986"},
      {"Encounter", 0, "hospitalization.preAdmissionIdentifier.value", ""}}},
    /* Epic Beaker sends a filler number of zeros before the lab assigns one */
    {"an order number of zeros is no order number",
     MSH("ORM^O01", "2.3") PID "ORC|SC|475208|000000000^LA\n"
                               "OBR|1|475208|000000000^LA|LAB682^DRUG SCREEN^L|||20240301080000\n",
     "placeholder (only zeros)",
     {{"ServiceRequest", 0, "identifier[0].value", "475208"},
      {"ServiceRequest", 0, "identifier[1].value", ""}}},
    /* the MPI's OID or URI written in CX-4.1: one system at every member */
    {"an OID or URI in the assigning authority's namespace is the system",
     MSH("ADT^A08", "2.5") "PID|1||12345^^^2.16.840.1.113883.19.5^MR~"
                           "ABC^^^http://mpi.example.org/id^PI~X1^^^2.5^MR||DOE^J||19800101|M\n",
     NULL,
     {{"Patient", 0, "identifier[0].system", "urn:oid:2.16.840.1.113883.19.5"},
      {"Patient", 0, "identifier[1].system", "http://mpi.example.org/id"},
      {"Patient", 0, "identifier[2].system", "urn:fhirgate:member:HOSP/id/2.5"}}},
    {"a failed resident number in PID-19 is named as one",
     MSH("ADT^A04",
         "2.4") "PID|1||MRN4^^^HIS^MR||LI^WEI||19800102|M|||||||||||110105194912310021\n",
     "fails the GB 11643 check",
     {{"Patient", 0, "identifier[1].value", ""}}},
};

START_TEST(identities)
{
    check_case(&identity_cases[_i]);
}
END_TEST

/* ---------------------------------------------------------- demographics -- */

static const struct sweep_case patient_cases[] = {
    /* Chinese HIS: PID-5 "pinyin^汉字", not family^given */
    {"pinyin then characters are two names",
     MSH("ORM^O01", "2.4") "PID||77|77^^^HIS^PI||ZHANG SAN^张三||19800102|M\n",
     NULL,
     {{"Patient", 0, "name[0].text", "张三"},
      {"Patient", 0, "name[0].family", ""},
      {"Patient", 0, "name[0].extension[0].valueCode", "IDE"},
      {"Patient", 0, "name[1].text", "ZHANG SAN"},
      {"Patient", 0, "name[1].extension[0].valueCode", "SYL"},
      {"Patient", 0, "name[1].given[0]", ""}}},
    {"family^given in characters stays family and given",
     MSH("ADT^A04", "2.4") "PID||77|77^^^HIS^PI||张^三||19800102|M\n",
     NULL,
     {{"Patient", 0, "name[0].family", "张"}, {"Patient", 0, "name[0].given[0]", "三"}}},
    {"latin family and given stay family and given",
     MSH("ADT^A04", "2.4") "PID||77|77^^^HIS^PI||ZHANG^SAN||19800102|M\n",
     NULL,
     {{"Patient", 0, "name[0].family", "ZHANG"}, {"Patient", 0, "name[1].text", ""}}},
    /* the whole address in the street line, province and city as well */
    {"province and city already in the street line are not repeated",
     MSH("ADT^A04", "2.5") "PID|1||MRN4^^^HIS^MR||李^四||19800102|F|||"
                           "浙江省杭州市余杭区文一西路1号^^杭州^浙江^311100\n",
     NULL,
     {{"Patient", 0, "address[0].text", "浙江省杭州市余杭区文一西路1号"},
      {"Patient", 0, "address[0].city", "杭州"}}},
    {"a Chinese address in its parts reads from the province down",
     MSH("ADT^A04", "2.5") "PID|1||MRN4^^^HIS^MR||李^四||19800102|F|||"
                           "文一西路1号^^杭州市^浙江省^311100^CHN\n",
     NULL,
     {{"Patient", 0, "address[0].text", "浙江省杭州市文一西路1号"}}},
    {"latin parts of a mixed address keep a blank",
     MSH("ADT^A08", "2.3") "PID|1||MRN4^^^HIS^MR||李^四||19800102|F|||Main St 17^76137^上海\n",
     NULL,
     {{"Patient", 0, "address[0].text", "上海Main St 17 76137"}}},
    /* Chinese HIS fill PID-13 and PID-14 with the one mobile number */
    {"the same number in PID-13 and PID-14 is one contact",
     MSH("ADT^A04", "2.4") "PID|1||MRN4^^^HIS^MR||李^四||19800102|F|||||"
                           "^^^^^^13451052237|^^^^^^13451052237\n",
     NULL,
     {{"Patient", 0, "telecom[0].value", "13451052237"},
      {"Patient", 0, "telecom[0].use", "mobile"},
      {"Patient", 0, "telecom[1].value", ""}}},
    {"a number and an e-mail address in one XTN are two contacts",
     MSH("ADT^A31", "2.2") "PID|1||MRN4^^^HIS^MR||DOE^JO||19800102|F|||||"
                           "2024561000^^^jo@example.org|(000)000-0000\n",
     "placeholder (only zeros)",
     {{"Patient", 0, "telecom[0].value", "2024561000"},
      {"Patient", 0, "telecom[1].system", "email"},
      {"Patient", 0, "telecom[1].value", "jo@example.org"},
      {"Patient", 0, "telecom[2].value", ""}}},
    {"marital status O and U are null flavors",
     MSH("ADT^A04", "2.4") "PID|1||MRN4^^^HIS^MR||DOE^JO||19800102|F||||||||O\n",
     NULL,
     {{"Patient", 0, "maritalStatus.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"},
      {"Patient", 0, "maritalStatus.coding[0].code", "OTH"}}},
    {"marital status U",
     MSH("ADT^A04", "2.4") "PID|1||MRN4^^^HIS^MR||DOE^JO||19800102|F||||||||U\n",
     NULL,
     {{"Patient", 0, "maritalStatus.coding[0].code", "UNK"}}},
    /* a person's name where the XCN ID belongs */
    /* a HIS export's ISO date is longer than 8 characters and has no time */
    {"an ISO birth date gets no birth time",
     MSH("ADT^A04", "2.4") "PID|1||MRN4^^^HIS^MR||李^四||1990-03-07|F\n",
     NULL,
     {{"Patient", 0, "birthDate", "1990-03-07"},
      {"Patient", 0, "_birthDate.extension[0].url", ""}}},
    {"a birth time still is one",
     MSH("ADT^A04", "2.4") "PID|1||MRN4^^^HIS^MR||李^四||199003070830|F\n",
     NULL,
     {{"Patient", 0, "_birthDate.extension[0].valueDateTime", "1990-03-07T08:30:00+08:00"}}},
    /* PV1-10 holds the department in Chinese HIS; user-defined tables'
     * suggested values only are the table's codes */
    {"table-bound visit fields outside their tables",
     MSH("ADT^A01", "2.4") PID "PV1|1|I|W1^1^A|R||||||心内科||||7|||||V9|||||||||||||||||09\n"
                               "NK1|1|李^大|FTH^父亲||13900000000||NOK\n",
     NULL,
     {{"Encounter", 0, "serviceType.coding[0].system", "urn:fhirgate:member:HOSP/code/PV1-10"},
      {"Encounter", 0, "serviceType.coding[0].code", "心内科"},
      {"Encounter", 0, "type[0].coding[0].system", "http://terminology.hl7.org/CodeSystem/v2-0007"},
      {"Encounter", 0, "hospitalization.admitSource.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0023"},
      {"Encounter", 0, "hospitalization.dischargeDisposition.coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0112"},
      {"Patient", 0, "contact[0].relationship[0].coding[0].system",
       "urn:fhirgate:member:HOSP/code/NK1-7"}}},
    /* 门诊 MZ, 急诊 JZ, 住院 ZY: the pinyin initials HIS prefix visit numbers with */
    {"visit class as pinyin initials",
     MSH("ADT^A04", "2.4") PID "PV1|1|MZ|内科门诊||||||||||||||||MZ0001\n",
     NULL,
     {{"Encounter", 0, "class.code", "AMB"}}},
    {"visit class ZY",
     MSH("ADT^A01", "2.4") PID "PV1|1|zy|W1||||||||||||||||ZY0001\n",
     NULL,
     {{"Encounter", 0, "class.code", "IMP"}}},
    {"a name in the ID of an ordering provider",
     MSH("ORM^O01", "2.5") PID "ORC|NW|P2||||||||||李医生\n"
                               "OBR|1|P2||CBC^血常规^L\n",
     NULL,
     {{"ServiceRequest", 0, "requester.display", "李医生"},
      {"ServiceRequest", 0, "requester.identifier.value", ""}}},
};

START_TEST(demographics)
{
    check_case(&patient_cases[_i]);
}
END_TEST

/* ---------------------------------------------------------------- results -- */

#define ORU(ver) MSH("ORU^R01^ORU_R01", ver) PID "OBR|1|P7|F7|CBC^Blood count^L|||20240301080000\n"

static const struct sweep_case result_cases[] = {
    /* v2.5.1 ORU: SPECIMEN group after the OBX; OBR-15 describes the same sample */
    {"OBR-15 and an SPM of the same order are one specimen",
     MSH("ORU^R01^ORU_R01", "2.5.1") PID
     "OBR|1|P8|F8|LAB90^HBA1C^L|||20240301080000||||||||Blood&Blood^^^Venous&Venous\n"
     "OBX|1|NM|HBA1C^HbA1c^L||6.2|%|4.0-6.0|H|||F\n"
     "SPM|1|||Blood^Blood^L||||Venous^Venous^L|||||||||20240301080000\n",
     NULL,
     {{"Specimen", 0, "#", "1"}, {"Specimen", 0, "type.coding[0].code", "Blood"}}},
    {"OBR-15 alone still gives a specimen",
     ORU("2.3") "OBX|1|NM|K^K^L||4.1|mmol/L|||||F\n"
                "OBR|2|P9|F9|U^Urine^L|||20240301080000||||||||URN\n",
     NULL,
     {{"Specimen", 0, "#", "1"}, {"Specimen", 0, "type.coding[0].code", "URN"}}},
    {"OBR-24 outside table 0074 is the sender's code",
     MSH("ORU^R01", "2.3") PID
     "OBR|1|P1|F1|X^X^L|||20240301080000|||||||||||||||||Microbiology|F\n",
     NULL,
     {{"DiagnosticReport", 0, "category[0].coding[0].system",
       "urn:fhirgate:member:HOSP/code/OBR-24"},
      {"DiagnosticReport", 0, "category[0].coding[0].code", "Microbiology"},
      {"DiagnosticReport", 0, "category[0].text", "Microbiology"}}},
    {"OBR-24 'Lab' is table 0074 LAB",
     MSH("ORM^O01", "2.3") PID "ORC|NW|P1\nOBR|1|P1||X^X^L|||20240301080000|||||||||||||||||Lab\n",
     NULL,
     {{"ServiceRequest", 0, "category[0].coding[0].system",
       "http://terminology.hl7.org/CodeSystem/v2-0074"},
      {"ServiceRequest", 0, "category[0].coding[0].code", "LAB"}}},
    {"OBR-24 in Chinese",
     MSH("ORM^O01", "2.4") PID "ORC|NW|P1\nOBR|1|P1||X^X^L||||||||||||||||||||病理\n",
     NULL,
     {{"ServiceRequest", 0, "category[0].coding[0].code", "病理"},
      {"ServiceRequest", 0, "category[0].text", "病理"}}},
    {"an abnormal flag outside table 0078 is text",
     ORU("2.3") "OBX|1|ST|BF^BF type^L||Other|||N/A|||F\n",
     "not in table 0078",
     {{"Observation", 0, "interpretation[0].coding[0].code", ""},
      {"Observation", 0, "interpretation[0].text", "N/A"}}},
    {"Chinese flag words and lower-case letters",
     ORU("2.4") "OBX|1|NM|GLU^血糖^L||7.8|mmol/L|3.9-6.1|偏高|||F\n"
                "OBX|2|ST|HBS^乙肝表面抗原^L||阳性(+)|||阳性|||F\n"
                "OBX|3|NM|K^血钾^L||3.0|mmol/L|3.5-5.3|l|||F\n",
     NULL,
     {{"Observation", 0, "interpretation[0].coding[0].code", "H"},
      {"Observation", 0, "interpretation[0].text", "偏高"},
      {"Observation", 1, "interpretation[0].coding[0].code", "POS"},
      {"Observation", 2, "interpretation[0].coding[0].code", "L"}}},
    {"value types NUM and TXT",
     ORU("2.3") "OBX|1|NUM|PH^pH^L||6.9|||N|||F\nOBX|2|TXT|T^Type^L||Other||||||F\n",
     "not in table 0125",
     {{"Observation", 0, "valueString", ""},
      {"Observation", 0, "valueQuantity.unit", ""},
      {"Observation", 1, "valueString", "Other"}}},
    {"a coded result under NM",
     ORU("2.5") "OBX|1|NM|HBSAG^HBsAg^L||POS^Positive^L||||||F\n",
     "coded value (CWE) under value type NM",
     {{"Observation", 0, "valueCodeableConcept.coding[0].code", "POS"},
      {"Observation", 0, "valueCodeableConcept.coding[0].display", "Positive"},
      {"Observation", 0, "valueString", ""}}},
    {"a decimal comma",
     ORU("2.5") "OBX|1|NM|HB^Hb^L||12,5|g/dL|||||F\nOBX|2|NM|X^X^L||1,500|/uL|||||F\n",
     "decimal comma",
     {{"Observation", 0, "valueQuantity.code", "g/dL"},
      {"Observation", 1, "valueString", "1,500"}}},
    {"units as LIS write them",
     ORU("2.5") "OBX|1|NM|HCT^HCT^L||0.41|L/L|||||F\n"
                "OBX|2|NM|AMOX^Dose^L||500|MG|||||F\n"
                "OBX|3|NM|EGFR^eGFR^L||95|mL/min/1.73 sq.m.|||||F\n"
                "OBX|4|NM|PT^凝血酶原时间^L||12.1|秒|||||F\n"
                "OBX|5|NM|TSH^TSH^L||2.1|mIU/ml|||||F\n"
                "OBX|6|NM|Y^Y^L||3|a|||||F\n",
     NULL,
     {{"Observation", 0, "valueQuantity.code", "L/L"},
      {"Observation", 1, "valueQuantity.code", "mg"},
      {"Observation", 2, "valueQuantity.code", "mL/min/{1.73_m2}"},
      {"Observation", 3, "valueQuantity.code", "s"},
      {"Observation", 4, "valueQuantity.code", "m[IU]/mL"},
      {"Observation", 5, "valueQuantity.code", "a"}}},
    /* "×10^9/L" with its '^' unescaped: the unit came out as "9/L" */
    {"cell counts behind a multiplication sign",
     ORU("2.3.1") "OBX|1|NM|WBC^白细胞^L||11.5|×10^9/L|3.5～9.5|↑|||F\n"
                  "OBX|2|NM|RBC^红细胞^L||4.5|x10^12/L|4.3-5.8||||F\n"
                  "OBX|3|NM|PLT^血小板^L||90|10^9/L|125－350|偏低|||F\n"
                  "OBX|4|NM|RBCU^尿红细胞^L||3|个/μL|≤25||||F\n",
     NULL,
     {{"Observation", 0, "valueQuantity.unit", "×10^9/L"},
      {"Observation", 0, "valueQuantity.code", "10*9/L"},
      {"Observation", 1, "valueQuantity.code", "10*12/L"},
      {"Observation", 2, "referenceRange[0].high.code", "10*9/L"},
      {"Observation", 3, "valueQuantity.code", "/uL"},
      {"Observation", 3, "referenceRange[0].high.code", "/uL"}}},
    {"upper case of a one-letter unit is not that unit",
     ORU("2.5") "OBX|1|NM|Y^Y^L||3|A|||||F\n",
     NULL,
     {{"Observation", 0, "valueQuantity.unit", "A"}, {"Observation", 0, "valueQuantity.code", ""}}},
    /* table 0396 'L' names no system: TXA-2 'RA' and OBX-3 'RA' are not one code */
    {"coding system L is the field's local system",
     ORU("2.5") "OBX|1|ST|RA^Rheumatoid factor^L||neg||||||F\n",
     NULL,
     {{"Observation", 0, "code.coding[0].system", "urn:fhirgate:member:HOSP/code/OBX-3"}}},
};

START_TEST(results)
{
    check_case(&result_cases[_i]);
}
END_TEST

/* ---------------------------------------------------------------- orders -- */

static const struct sweep_case order_cases[] = {
    /* RDE_O11 with the TQ1 after the RXE: RXE-1 (only a start time) took
     * the timing first and the TQ1's repeat pattern and end were lost */
    {"a TQ1 after the RXE is its timing",
     MSH("RDE^O11^RDE_O11", "2.5") PID "ORC|NW|CF1|||||^^^20240301090000^^R||20240301090000\n"
                                       "RXE|^^^20240301090000^^R|869^阿莫西林胶囊^L|0.5||g\n"
                                       "RXR|PO^口服^HL70162\n"
                                       "TQ1|1||TID^一日三次^HL70335||||20240301090000|"
                                       "20240308090000\n",
     NULL,
     {{"MedicationRequest", 0, "dosageInstruction[0].timing.code.coding[0].code", "TID"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.end",
       "2024-03-08T09:00:00+08:00"}}},
    {"without a TQ1 the RXE-1 timing stays",
     MSH("RDE^O11^RDE_O11", "2.3") PID
     "ORC|NW|CF2\n"
     "RXE|1^TID^^20240301090000^20240308090000|869^Amox^L|0.5||g\n",
     NULL,
     {{"MedicationRequest", 0, "dosageInstruction[0].timing.code.coding[0].code", "TID"},
      {"MedicationRequest", 0, "dosageInstruction[0].timing.repeat.boundsPeriod.end",
       "2024-03-08T09:00:00+08:00"}}},
};

START_TEST(orders)
{
    check_case(&order_cases[_i]);
}
END_TEST

/* --------------------------------------------------------- character sets -- */

static json_t *
convert_bytes(const char *bytes, size_t len)
{
    struct base_arena *a = base_arena_new(0);
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};
    json_t *tree = NULL;

    ck_assert_msg(hl7v2_convert(a, bytes, len, NULL, NULL, NULL, &b, &err) == BASE_OK,
                  "convert failed: %s: %s", err.where, err.msg);
    ck_assert_int_eq(hl7v2_bundle_tree(b, &tree, &err), BASE_OK);
    th_assert_valid(tree);
    base_arena_free(a);
    return tree;
}

/* Windows-built HIS send windows-1252 and say so (not a table 0211 name) */
START_TEST(windows_1252)
{
    static const char msg[] = "MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000||ADT^A04|W1|P|2.3||||||"
                              "CP1252\rPID|1||M1^^^HIS^MR||M\xFCller^J\x80rg||19500101|M\r";
    json_t *b = convert_bytes(msg, sizeof(msg) - 1);

    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "name[0].family"), "Müller");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "name[0].given[0]"), "J€rg");
    json_decref(b);
}
END_TEST

/* PACS and RIS gateways write DICOM's term for UTF-8 */
START_TEST(dicom_utf8_term)
{
    json_t *b = th_convert("MSH|^~\\&|RIS|HOSP|FG|REG|20240301083000||ADT^A08|D1|P|2.5||||||"
                           "ISO_IR 192\nPID|1||M1^^^HIS^MR||王^小明||19800101|M\n");

    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "name[0].text"), "王小明");
    json_decref(b);
}
END_TEST

/* One byte can become three UTF-8 bytes (the euro sign of 8859/15 and
 * windows-1252): a message of mostly such bytes outgrew a buffer sized
 * for two and was rejected as too large. */
START_TEST(single_byte_to_three_utf8_bytes)
{
    char msg[1024];
    size_t n = (size_t)snprintf(msg, sizeof(msg),
                                "MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000||ADT^A04|E1|P|2.5||||||"
                                "8859/15\rPID|1||M1^^^HIS^MR||DOE^J||19500101|M|||");
    json_t *b;

    memset(msg + n, 0xA4, 600); /* € in 8859/15 */
    n += 600;
    msg[n++] = '\r';
    b = convert_bytes(msg, n);
    ck_assert_uint_eq(strlen(th_str(th_res(b, "Patient", 0), "address[0].line[0]")), 1800);
    json_decref(b);
}
END_TEST

Suite *hl7v2_sweep4_suite(void);

Suite *
hl7v2_sweep4_suite(void)
{
    Suite *s = suite_create("hl7v2_sweep4");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, identities, 0, (int)BASE_ARRAY_LEN(identity_cases));
    tcase_add_loop_test(tc, demographics, 0, (int)BASE_ARRAY_LEN(patient_cases));
    tcase_add_loop_test(tc, results, 0, (int)BASE_ARRAY_LEN(result_cases));
    tcase_add_loop_test(tc, orders, 0, (int)BASE_ARRAY_LEN(order_cases));
    tcase_add_test(tc, windows_1252);
    tcase_add_test(tc, dicom_utf8_term);
    tcase_add_test(tc, single_byte_to_three_utf8_bytes);
    suite_add_tcase(s, tc);
    return s;
}
