/* OBX value types, reference ranges, flags, statuses and units. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/adapters/hl7v2/hl7_test.h"

#define HEAD                                                                                       \
    "MSH|^~\\&|LIS|LAB|FG|REG|20240301083000+0800||ORU^R01|C1|P|2.5.1\n"                           \
    "PID|1||MRN1^^^HIS^MR||DOE^JOHN\n"                                                             \
    "OBR|1||F1^LIS|CBC^Blood count^L|||20240301070000|||||||||||||||||HM|F\n"

/* The first Observation of HEAD + one OBX line (type, value, unit, range, flags, status). */
static json_t *
obs(json_t **bundle, const char *type, const char *value, const char *unit, const char *range,
    const char *flags, const char *status)
{
    char text[2048];

    snprintf(text, sizeof(text), HEAD "OBX|1|%s|X1^Test^L||%s|%s|%s|%s|||%s\n", type, value, unit,
             range, flags, status);
    *bundle = th_convert(text);
    return th_res(*bundle, "Observation", 0);
}

/* An analyser's OBX for a parameter it did not measure (Mindray BC-5380:
 * 'OBX|7|NM|704-7^BAS#^LN|||10*9/L|0.00-0.10||||F') has no value: the
 * Observation says why (dataAbsentReason), from OBX-11 where it can. */
START_TEST(observation_without_value_says_why)
{
    static const struct {
        const char *type;
        const char *value;
        const char *status;
        const char *reason;
    } cases[] = {
        {"NM", "", "F", "unknown"},     {"NM", "", "X", "error"},
        {"ST", "", "N", "not-performed"}, {"CWE", "", "I", "unknown"},
        {"DT", "2024139", "F", "unknown"}, /* an invalid date is no value */
        {"NM", "4.5", "F", NULL},       {"ST", "seen", "F", NULL},
        {"CWE", "POS^Positive^L", "F", NULL},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        json_t *b;
        json_t *o = obs(&b, cases[i].type, cases[i].value, "", "", "", cases[i].status);

        ck_assert_ptr_nonnull(o);
        if (cases[i].reason == NULL) {
            ck_assert_ptr_null(json_object_get(o, "dataAbsentReason"));
        } else {
            ck_assert_str_eq(th_str(o, "dataAbsentReason.coding[0].code"), cases[i].reason);
            ck_assert_str_eq(th_str(o, "dataAbsentReason.coding[0].system"),
                             "http://terminology.hl7.org/CodeSystem/data-absent-reason");
        }
        json_decref(b);
    }
}
END_TEST

/* A code sent under LN that is no LOINC code ('WBC^White Blood Cell
 * Count^LN', 'tortor^tellus^LN' in de-identified pathology) is the
 * sender's own code: only LOINC-shaped codes with a valid check digit, and
 * LA/LP answer and part codes, keep http://loinc.org. */
START_TEST(loinc_codes_are_checked)
{
    static const struct {
        const char *obx3;
        const char *system;
    } cases[] = {
        {"6690-2^WBC^LN", "http://loinc.org"},
        {"718-7^Hgb^LN", "http://loinc.org"},
        {"94500-6^SARS-CoV-2^2.16.840.1.113883.6.1", "http://loinc.org"},
        {"LA18592-8^In range^LN", "http://loinc.org"},
        {"WBC^White Blood Cell Count^LN", "urn:fhirgate:member:LAB/code/OBX-3"},
        {"6690-3^WBC^LN", "urn:fhirgate:member:LAB/code/OBX-3"},
        {"6690^WBC^LN", "urn:fhirgate:member:LAB/code/OBX-3"},
        {"-2^WBC^LN", "urn:fhirgate:member:LAB/code/OBX-3"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char text[512];
        json_t *b;

        snprintf(text, sizeof(text), HEAD "OBX|1|NM|%s||5|||||F\n", cases[i].obx3);
        b = th_convert(text);
        ck_assert_msg(strcmp(th_str(th_res(b, "Observation", 0), "code.coding[0].system"),
                             cases[i].system) == 0,
                      "%s -> %s", cases[i].obx3,
                      th_str(th_res(b, "Observation", 0), "code.coding[0].system"));
        json_decref(b);
    }
}
END_TEST

START_TEST(nm_keeps_the_decimal_text)
{
    struct {
        const char *v2;
        const char *json;
    } cases[] = {
        {"1.50", "1.50"},  {"0.001", "0.001"},
        {"-3.0", "-3.0"},  {"120", "120"},
        {"+5", "5"},       {"007", "7"},
        {".5", "0.5"},     {"5.", "5"},
        {"-.25", "-0.25"}, {" 4.2 ", "4.2"},
        {"0", "0"},        {"12345678901234567890.123", "12345678901234567890.123"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        json_t *b;
        json_t *o = obs(&b, "NM", cases[i].v2, "mg/dL", "", "", "F");

        ck_assert_msg(strcmp(th_num(o, "valueQuantity.value"), cases[i].json) == 0, "%s -> %s",
                      cases[i].v2, th_num(o, "valueQuantity.value"));
        ck_assert(fhir_json_is_number(th_at(o, "valueQuantity.value")));
        json_decref(b);
    }
}
END_TEST

START_TEST(nm_with_comparator_or_text)
{
    json_t *b;
    json_t *o = obs(&b, "NM", "<0.5", "ng/mL", "", "", "F");

    ck_assert_str_eq(th_str(o, "valueQuantity.comparator"), "<");
    ck_assert_str_eq(th_num(o, "valueQuantity.value"), "0.5");
    json_decref(b);
    o = obs(&b, "NM", ">=100", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueQuantity.comparator"), ">=");
    json_decref(b);
    o = obs(&b, "NM", "see note", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueString"), "see note");
    json_decref(b);
}
END_TEST

START_TEST(units_map_to_ucum)
{
    struct {
        const char *unit;
        const char *code;
        const char *text;
    } cases[] = {
        {"mg/dl", "mg/dL", "mg/dl"},          {"mmol/L^^UCUM", "mmol/L", "mmol/L"},
        {"10*9/L^^UCUM", "10*9/L", "10*9/L"}, {"×10\\S\\9/L", "10*9/L", "×10^9/L"},
        {"K/uL", "10*3/uL", "K/uL"},          {"μmol/L", "umol/L", "μmol/L"},
        {"IU/L", "[IU]/L", "IU/L"},           {"mmHg", "mm[Hg]", "mmHg"},
        {"g/L^克每升", "g/L", "克每升"},
        /* Australian pathology ('^' escaped), ELR newborn screening */
        {"x10\\S\\9/L", "10*9/L", "x10^9/L"},
        {"x10\\S\\12/L", "10*12/L", "x10^12/L"},
        {"mL/min/1.73m\\S\\2", "mL/min/{1.73_m2}", "mL/min/1.73m^2"},
        {"seconds", "s", "seconds"},
        {"grams", "g", "grams"},
        {"ML^ML^ISO+", "mL", "ML"},
        {"{Ratio}", "{Ratio}", "{Ratio}"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        json_t *b;
        json_t *o = obs(&b, "NM", "1", cases[i].unit, "", "", "F");

        ck_assert_msg(strcmp(th_str(o, "valueQuantity.code"), cases[i].code) == 0, "%s",
                      cases[i].unit);
        ck_assert_str_eq(th_str(o, "valueQuantity.unit"), cases[i].text);
        ck_assert_str_eq(th_str(o, "valueQuantity.system"), "http://unitsofmeasure.org");
        json_decref(b);
    }
    {
        json_t *b;
        json_t *o = obs(&b, "NM", "1", "tera.l-1", "", "", "F");

        ck_assert_str_eq(th_str(o, "valueQuantity.unit"), "tera.l-1");
        ck_assert_ptr_null(th_at(o, "valueQuantity.system")); /* qty-3: no code, no system */
        json_decref(b);
    }
    /* not annotations: a brace inside, a blank, an empty pair */
    for (size_t i = 0; i < 3; i++) {
        static const char *const bad[] = {"{a{b}", "{a b}", "{}"};
        json_t *b;
        json_t *o = obs(&b, "NM", "1", bad[i], "", "", "F");

        ck_assert_msg(th_at(o, "valueQuantity.system") == NULL, "%s", bad[i]);
        json_decref(b);
    }
}
END_TEST

START_TEST(structured_numeric)
{
    json_t *b;
    json_t *o = obs(&b, "SN", "^1^:^128", "", "", "", "F");

    ck_assert_str_eq(th_num(o, "valueRatio.numerator.value"), "1");
    ck_assert_str_eq(th_num(o, "valueRatio.denominator.value"), "128");
    json_decref(b);
    o = obs(&b, "SN", "^10^-^20", "mg", "", "", "F");
    ck_assert_str_eq(th_num(o, "valueRange.low.value"), "10");
    ck_assert_str_eq(th_num(o, "valueRange.high.value"), "20");
    ck_assert_str_eq(th_str(o, "valueRange.high.code"), "mg");
    json_decref(b);
    o = obs(&b, "SN", "<^0.05", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueQuantity.comparator"), "<");
    ck_assert_str_eq(th_num(o, "valueQuantity.value"), "0.05");
    json_decref(b);
    o = obs(&b, "SN", "^2^+", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueString"), "2+");
    json_decref(b);
    o = obs(&b, "SN", "=^7", "", "", "", "F");
    ck_assert_ptr_null(th_at(o, "valueQuantity.comparator"));
    ck_assert_str_eq(th_num(o, "valueQuantity.value"), "7");
    json_decref(b);
    /* a bare number, its comparator component missing (LIMS simulators) */
    o = obs(&b, "SN", "103.4", "umol/L", "", "", "F");
    ck_assert_ptr_null(th_at(o, "valueQuantity.comparator"));
    ck_assert_str_eq(th_num(o, "valueQuantity.value"), "103.4");
    ck_assert_str_eq(th_str(o, "valueQuantity.code"), "umol/L");
    json_decref(b);
    o = obs(&b, "SN", "1+", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueString"), "1+");
    json_decref(b);
}
END_TEST

START_TEST(text_types)
{
    json_t *b;
    json_t *o = obs(&b, "TX", "first line~second line", "", "", "", "F");

    ck_assert_str_eq(th_str(o, "valueString"), "first line\nsecond line");
    json_decref(b);
    o = obs(&b, "FT", "a\\.br\\b \\H\\bold\\N\\ \\T\\ c", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueString"), "a\nb bold & c");
    json_decref(b);
    o = obs(&b, "ST", "检验正常", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueString"), "检验正常");
    json_decref(b);
    o = obs(&b, "", "untyped", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueString"), "untyped");
    json_decref(b);
}
END_TEST

START_TEST(coded_values)
{
    json_t *b;
    json_t *o = obs(&b, "CWE", "260373001^Detected^SCT^D^Det^L^^^Positive", "", "", "", "F");

    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].system"), "http://snomed.info/sct");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].code"), "260373001");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].display"), "Detected");
    /* CWE-6 'L' (table 0396: local general code) names no system: the field does */
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[1].system"),
                     "urn:fhirgate:member:LAB/code/OBX-5");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.text"), "Positive");
    json_decref(b);
    o = obs(&b, "CWE", "A  B\\X09\\C^x^L", "", "", "", "F"); /* FHIR code: single inner spaces */
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].code"), "A B C");
    json_decref(b);
    o = obs(&b, "CE", "^Negative", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.text"), "Negative");
    json_decref(b);
    o = obs(&b, "ID", "Y", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].code"), "Y");
    json_decref(b);
    /* UNII (FDA substances) and MDC (ISO/IEEE 11073-10101) have FHIR
     * systems; ISO+ (ISO 2955 units) has none and stays the sender's (it
     * was labelled as 11073-10101) */
    o = obs(&b, "CWE", "226971^Shellfish^UNII", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].system"),
                     "http://fdasis.nlm.nih.gov");
    json_decref(b);
    o = obs(&b, "CWE", "150456^MDC_PULS_OXIM_SAT_O2^MDC", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].system"),
                     "urn:iso:std:iso:11073:10101");
    json_decref(b);
    o = obs(&b, "CWE", "ML^milliliter^ISO+", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueCodeableConcept.coding[0].system"),
                     "urn:fhirgate:member:LAB/code/ISO%2B");
    json_decref(b);
}
END_TEST

START_TEST(dates_and_times)
{
    json_t *b;
    json_t *o = obs(&b, "DT", "20240229", "", "", "", "F");

    ck_assert_str_eq(th_str(o, "valueDateTime"), "2024-02-29");
    json_decref(b);
    o = obs(&b, "TS", "202402291530", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueDateTime"), "2024-02-29T15:30:00+08:00");
    json_decref(b);
    o = obs(&b, "DTM", "20240229153045.123-0500", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueDateTime"), "2024-02-29T15:30:45.123-05:00");
    json_decref(b);
    o = obs(&b, "DT", "20230229", "", "", "", "F"); /* not a leap year: dropped */
    ck_assert_ptr_null(th_at(o, "valueDateTime"));
    json_decref(b);
    o = obs(&b, "TM", "0930", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valueTime"), "09:30:00");
    json_decref(b);
    o = obs(&b, "DR", "20240101^20240131", "", "", "", "F");
    ck_assert_str_eq(th_str(o, "valuePeriod.start"), "2024-01-01");
    ck_assert_str_eq(th_str(o, "valuePeriod.end"), "2024-01-31");
    json_decref(b);
}
END_TEST

START_TEST(quantities_and_money)
{
    json_t *b;
    json_t *o = obs(&b, "CQ", "72^kg&kilogram&UCUM", "", "", "", "F");

    ck_assert_str_eq(th_num(o, "valueQuantity.value"), "72");
    json_decref(b);
    o = obs(&b, "MO", "12.50^CNY", "", "", "", "F");
    ck_assert_str_eq(th_num(o, "valueQuantity.value"), "12.50");
    ck_assert_str_eq(th_str(o, "valueQuantity.code"), "CNY");
    ck_assert_str_eq(th_str(o, "valueQuantity.system"), "urn:iso:std:iso:4217");
    json_decref(b);
}
END_TEST

START_TEST(encapsulated_data_goes_to_the_report)
{
    json_t *b =
        th_convert(HEAD "OBX|1|ED|PDF^Report^L||LIS^AP^PDF^Base64^JVBE\\.br\\Ri0xLjQK||||||F\n"
                        "OBX|2|RP|IMG^Image^L||https://pacs.example/1^PACS^IM^JPEG||||||F\n"
                        "OBX|3|RP|IMG^Image^L||http://pacs/a b?x=1\\T\\y=\xc3\xa9^PACS^IM^JPEG||||||F\n");
    json_t *dr = th_res(b, "DiagnosticReport", 0);

    ck_assert_uint_eq(th_count(b, "Observation"), 0);
    ck_assert_str_eq(th_str(dr, "presentedForm[0].contentType"), "application/pdf");
    ck_assert_str_eq(th_str(dr, "presentedForm[0].data"), "JVBERi0xLjQK"); /* line break dropped */
    ck_assert_str_eq(th_num(dr, "presentedForm[0].size"), "9");
    ck_assert_str_eq(th_str(dr, "presentedForm[1].url"), "https://pacs.example/1");
    ck_assert_str_eq(th_str(dr, "presentedForm[1].contentType"), "image/jpeg");
    /* FHIR url has no whitespace: encoded as RFC 3987 turns an IRI into a URI (fuzz find) */
    ck_assert_str_eq(th_str(dr, "presentedForm[2].url"), "http://pacs/a%20b?x=1&y=%C3%A9");
    json_decref(b);
    b = th_convert(HEAD "OBX|1|ED|T^Text^L||^TEXT^^A^hello||||||F\n"
                        "OBX|2|ED|H^Hex^L||^AP^octet-stream^Hex^48690A||||||F\n"
                        "OBX|3|ED|B^Bad^L||^AP^PDF^Base64^@@@||||||F\n");
    dr = th_res(b, "DiagnosticReport", 0);
    ck_assert_str_eq(th_str(dr, "presentedForm[0].data"), "aGVsbG8=");
    ck_assert_str_eq(th_str(dr, "presentedForm[0].contentType"), "text/plain");
    ck_assert_str_eq(th_str(dr, "presentedForm[1].data"), "SGkK");
    ck_assert_uint_eq(json_array_size(th_at(dr, "presentedForm")), 2); /* bad base64 dropped */
    json_decref(b);
    /* padding: completed when short, rejected when too long (fuzz find: "…bmc===") */
    b = th_convert(HEAD "OBX|1|ED|A^A^L||^AP^PDF^Base64^QUI||||||F\n"
                        "OBX|2|ED|B^B^L||^AP^PDF^Base64^QQ=||||||F\n"
                        "OBX|3|ED|C^C^L||^AP^PDF^Base64^QUI==||||||F\n"
                        "OBX|4|ED|D^D^L||^AP^PDF^Base64^QUJDQ=||||||F\n");
    dr = th_res(b, "DiagnosticReport", 0);
    ck_assert_str_eq(th_str(dr, "presentedForm[0].data"), "QUI=");
    ck_assert_str_eq(th_num(dr, "presentedForm[0].size"), "2");
    ck_assert_str_eq(th_str(dr, "presentedForm[1].data"), "QQ==");
    ck_assert_str_eq(th_num(dr, "presentedForm[1].size"), "1");
    ck_assert_uint_eq(json_array_size(th_at(dr, "presentedForm")), 2);
    json_decref(b);
}
END_TEST

START_TEST(large_attachment)
{
    /* a 6 MB base64 PDF: the writer must not reserve 6 bytes per byte */
    size_t n = 6u << 20;
    char *text = malloc(n + 512);
    int k = snprintf(text, 512, HEAD "OBX|1|ED|PDF^Report^L||^AP^PDF^Base64^");
    json_t *b;

    memset(text + k, 'A', n);
    strcpy(text + k + n, "||||||F\n");
    b = th_convert(text);
    ck_assert_uint_eq(strlen(th_str(th_res(b, "DiagnosticReport", 0), "presentedForm[0].data")), n);
    json_decref(b);
    free(text);
}
END_TEST

START_TEST(reference_ranges)
{
    struct {
        const char *range;
        const char *low;
        const char *high;
    } cases[] = {
        {"3.5-5.0", "3.5", "5.0"}, {"3.5 - 5.0", "3.5", "5.0"}, {"<5", "", "5"},
        {"<=5", "", "5"},          {">1.2", "1.2", ""},         {"-1-1", "-1", "1"},
        {"negative", "", ""},
        /* half ranges are text only: the lone side is not a checked decimal (fuzz find) */
        {"+N\\R\\", "", ""},   {"5-", "", ""},               {"3.5\\R\\5.5", "3.5", "5.5"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        json_t *b;
        json_t *o = obs(&b, "NM", "4", "mmol/L", cases[i].range, "", "F");

        ck_assert_msg(strcmp(th_num(o, "referenceRange[0].low.value"), cases[i].low) == 0,
                      "%s low %s", cases[i].range, th_num(o, "referenceRange[0].low.value"));
        ck_assert_msg(strcmp(th_num(o, "referenceRange[0].high.value"), cases[i].high) == 0,
                      "%s high", cases[i].range);
        if (strchr(cases[i].range, '\\') == NULL) /* else the text is unescaped */
            ck_assert_str_eq(th_str(o, "referenceRange[0].text"), cases[i].range);
        if (cases[i].low[0] != '\0')
            ck_assert_str_eq(th_str(o, "referenceRange[0].low.code"), "mmol/L");
        json_decref(b);
    }
}
END_TEST

START_TEST(abnormal_flags)
{
    json_t *b;
    json_t *o = obs(&b, "NM", "9", "", "", "HH~A", "F");

    ck_assert_str_eq(th_str(o, "interpretation[0].coding[0].system"),
                     "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation");
    ck_assert_str_eq(th_str(o, "interpretation[0].coding[0].code"), "HH");
    ck_assert_str_eq(th_str(o, "interpretation[1].coding[0].code"), "A");
    json_decref(b);
    /* not a table 0078 code: no coding in v2-0078, the flag as text */
    o = obs(&b, "NM", "9", "", "", "HIGH", "F");
    ck_assert_str_eq(th_str(o, "interpretation[0].coding[0].system"), "");
    ck_assert_str_eq(th_str(o, "interpretation[0].text"), "HIGH");
    json_decref(b);
}
END_TEST

START_TEST(result_statuses)
{
    const char *map[][2] = {{"F", "final"},
                            {"P", "preliminary"},
                            {"C", "corrected"},
                            {"A", "amended"},
                            {"D", "entered-in-error"},
                            {"W", "entered-in-error"},
                            {"I", "registered"},
                            {"X", "cancelled"},
                            {"R", "preliminary"},
                            {"S", "preliminary"},
                            {"U", "final"},
                            {"", "unknown"}};

    for (size_t i = 0; i < BASE_ARRAY_LEN(map); i++) {
        json_t *b;
        json_t *o = obs(&b, "NM", "1", "", "", "", map[i][0]);

        ck_assert_str_eq(th_str(o, "status"), map[i][1]);
        json_decref(b);
    }
}
END_TEST

START_TEST(observation_context)
{
    json_t *b = th_convert(HEAD "OBX|1|NM|X1^Test^L|1|4||||||F|||20240301071500||1^TECH^T|MTH^"
                                "Method^L||||||LabOrg^^^^^^^^^L1\n");
    json_t *o = th_res(b, "Observation", 0);

    ck_assert_str_eq(th_str(o, "effectiveDateTime"), "2024-03-01T07:15:00+08:00");
    ck_assert_str_eq(th_str(o, "performer[0].display"), "T TECH");
    ck_assert_str_eq(th_str(o, "performer[1].display"), "LabOrg");
    ck_assert_str_eq(th_str(o, "method.coding[0].code"), "MTH");
    ck_assert_str_eq(th_str(o, "category[0].coding[0].code"), "laboratory"); /* OBR-24 HM */
    ck_assert_str_eq(th_str(o, "subject.reference"), th_str(th_entry(b, "Patient", 0), "fullUrl"));
    json_decref(b);
}
END_TEST

Suite *hl7v2_obx_suite(void);

Suite *
hl7v2_obx_suite(void)
{
    Suite *s = suite_create("hl7v2_obx");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, nm_keeps_the_decimal_text);
    tcase_add_test(tc, loinc_codes_are_checked);
    tcase_add_test(tc, observation_without_value_says_why);
    tcase_add_test(tc, nm_with_comparator_or_text);
    tcase_add_test(tc, units_map_to_ucum);
    tcase_add_test(tc, structured_numeric);
    tcase_add_test(tc, text_types);
    tcase_add_test(tc, coded_values);
    tcase_add_test(tc, dates_and_times);
    tcase_add_test(tc, quantities_and_money);
    tcase_add_test(tc, encapsulated_data_goes_to_the_report);
    tcase_add_test(tc, large_attachment);
    tcase_add_test(tc, reference_ranges);
    tcase_add_test(tc, abnormal_flags);
    tcase_add_test(tc, result_statuses);
    tcase_add_test(tc, observation_context);
    suite_add_tcase(s, tc);
    return s;
}
