/*
 * Every message of the shared corpus (hl7v2/valid, hl7v2/line-endings)
 * converts: resource counts per type, and values checked against the
 * source text.  Files of several messages give a collection of Bundles.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/support/testutil.h"
#include "test/unit/adapters/hl7v2/hl7_test.h"

/* Convert a corpus file; the whole-file API, as the CLI uses it. */
static json_t *
convert_file(const char *rel)
{
    size_t len = 0;
    char *data = tu_read_file(tu_corpus_path(rel), &len);
    struct hl7v2_file_opts fo = {0};
    struct base_err err = {0};
    json_t *out = NULL;

    ck_assert_msg(data != NULL, "cannot read %s", rel);
    ck_assert_msg(hl7v2_convert_file(data, len, &fo, &out, &err) == BASE_OK, "%s: %s: %s", rel,
                  err.where, err.msg);
    th_assert_valid(out); /* a collection validates its Bundles too */
    free(data);
    return out;
}

/* "Patient=1,Encounter=1" over one Bundle or a collection of Bundles. */
static void
count_types(json_t *b, char *buf, size_t cap)
{
    static const char *const types[] = {"AllergyIntolerance",
                                        "Condition",
                                        "DiagnosticReport",
                                        "DocumentReference",
                                        "Encounter",
                                        "Immunization",
                                        "MedicationRequest",
                                        "Observation",
                                        "Patient",
                                        "Procedure",
                                        "Provenance",
                                        "ServiceRequest",
                                        "Specimen"};
    size_t o = 0;

    buf[0] = '\0';
    for (size_t t = 0; t < BASE_ARRAY_LEN(types); t++) {
        size_t n = 0;

        if (strcmp(th_str(b, "type"), "collection") == 0) {
            size_t i;
            json_t *e;

            json_array_foreach(json_object_get(b, "entry"), i, e) n +=
                th_count(json_object_get(e, "resource"), types[t]);
        } else {
            n = th_count(b, types[t]);
        }
        if (n > 0)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s=%zu", o > 0 ? "," : "", types[t], n);
    }
}

static const struct {
    const char *file;
    const char *counts;
} expected[] = {
    {"valid/ADT-A01-01.hl7", "AllergyIntolerance=1,Condition=1,Encounter=1,Observation=1,Patient=1,"
                             "Procedure=1,Provenance=1"},
    {"valid/ADT-A01-02.hl7", "Encounter=1,Patient=1,Provenance=1"},
    {"valid/ADT-A04-01.hl7", "AllergyIntolerance=1,Condition=1,Encounter=1,Observation=1,Patient=1,"
                             "Procedure=1,Provenance=1"},
    {"valid/ADT-A08-01.hl7", "AllergyIntolerance=1,Condition=1,Encounter=1,Observation=1,Patient=1,"
                             "Procedure=1,Provenance=1"},
    {"valid/ADT-A28-01.hl7",
     "AllergyIntolerance=1,Condition=1,Observation=1,Patient=1,Procedure=1,Provenance=1"},
    {"valid/ADT-A31-01.hl7",
     "AllergyIntolerance=1,Condition=1,Observation=1,Patient=1,Procedure=1,Provenance=1"},
    {"valid/ADT-A40-01.hl7", "Patient=2,Provenance=1"},
    {"valid/ADT-A40-02.hl7", "Patient=4,Provenance=1"},
    {"valid/ADT01-23.hl7", "Condition=1,Encounter=1,Patient=1,Provenance=1"},
    /* no visit number, but an admit time: the visit is keyed by it (the
     * PV1 without either in MDM-T02-03, OUL-R22-01, hapi-messages-multi
     * and the OML batches: by the patient and the class) */
    {"valid/ADT04-251.hl7", "Encounter=1,Patient=1,Provenance=1"},
    {"valid/DFT-P03-01.hl7",
     "Condition=2,Encounter=1,Observation=1,Patient=1,Procedure=1,Provenance=1"},
    {"valid/LAB-ORM-1.hl7", "Encounter=1,Patient=1,Provenance=1,ServiceRequest=1"},
    {"valid/LAB-ORU-1.hl7", "DiagnosticReport=2,Observation=10,Patient=1,Provenance=1,Specimen=1"},
    {"valid/LAB-ORU-2.hl7", "DiagnosticReport=2,Observation=10,Patient=1,Provenance=1,Specimen=1"},
    {"valid/LRI_2.0-NG_CBC_Typ_Message.hl7",
     "DiagnosticReport=1,Observation=28,Patient=1,Provenance=1,Specimen=1"},
    {"valid/MDM-T02-01.hl7", "DocumentReference=1,Encounter=1,Patient=1,Provenance=1"},
    {"valid/MDM-T02-03.hl7", "DocumentReference=1,Encounter=1,Patient=1,Provenance=1"},
    {"valid/MDM_01.hl7", "Encounter=1,Patient=1,Provenance=1"},
    {"valid/OMG-O19-01.hl7", "AllergyIntolerance=1,Condition=1,DocumentReference=6,Encounter=2,"
                             "Observation=4,Patient=1,Provenance=1,ServiceRequest=2,Specimen=1"},
    {"valid/OML-O21-01.hl7", "AllergyIntolerance=1,Condition=1,DocumentReference=2,Encounter=1,"
                             "Observation=2,Patient=1,"
                             "Provenance=1,ServiceRequest=1,Specimen=1"},
    {"valid/ORM-O01-01.hl7", "AllergyIntolerance=1,Condition=1,Encounter=1,Observation=1,Patient=1,"
                             "Provenance=1,ServiceRequest=1"},
    /* one Specimen: the SPM; OBR-15 of the same order is not a second one */
    {"valid/ORU-R01-01.hl7",
     "DiagnosticReport=1,DocumentReference=1,Encounter=1,Observation=2,Patient=1,Provenance=1,"
     "Specimen=1"},
    {"valid/ORU-R01-RMGEAD.hl7", "DiagnosticReport=1,Observation=1,Patient=1,Provenance=1"},
    {"valid/OUL-R22-01.hl7",
     "DiagnosticReport=1,Encounter=1,Observation=2,Patient=1,Provenance=1,Specimen=1"},
    {"valid/PC1-Problem-Add-v2.3.1.hl7", "Condition=1,Patient=1,Provenance=1"},
    {"valid/RDE-O11-01.hl7",
     "Encounter=1,MedicationRequest=1,Observation=1,Patient=1,Provenance=1"},
    {"valid/SIU-S12-01.hl7", "Condition=1,Encounter=1,Observation=1,Patient=1,Provenance=1"},
    {"valid/SIU-S14-01.hl7", "Patient=1,Provenance=1"},
    {"valid/VXU-V04-01.hl7", "Encounter=1,Immunization=1,Observation=5,Patient=1,Provenance=1"},
    {"valid/efferent-Sample-ADT.txt", "Encounter=1,Patient=1,Provenance=1"},
    {"valid/efferent-Sample-ORM.txt", "Encounter=1,Patient=1,Provenance=1,ServiceRequest=1"},
    {"valid/hapi-adt-a01-doc-example.txt", "Encounter=1,Patient=1,Provenance=1"},
    {"valid/hapi-adt-a03.txt", "Encounter=1,Patient=1,Procedure=1,Provenance=1"},
    {"valid/hapi-cv04-chem-zseg.hl7", "Patient=1,Provenance=1"},
    {"valid/hapi-messages-multi.txt",
     "DiagnosticReport=3,Encounter=15,Patient=15,Provenance=15,ServiceRequest=3"},
    {"valid/hapi-omd-o03-rep.txt", "Encounter=1,Patient=1,Provenance=1"},
    {"valid/hapi-oml-o21-batch.hl7",
     "DiagnosticReport=5,Encounter=9,Observation=23,Patient=13,Provenance=11,ServiceRequest=13,"
     "Specimen=36"},
    {"valid/hapi-segmentfinder-a24-custom-enc.hl7", "Patient=2,Provenance=1"},
    {"valid/nhapi-OML_O21_messages.txt",
     "Encounter=5,Observation=2,Patient=7,Provenance=5,ServiceRequest=13,Specimen=19"},
    {"line-endings/ORU-multiline-short-mixed.hl7",
     "DiagnosticReport=1,Encounter=1,Observation=4,Patient=1,Provenance=1"},
    {"line-endings/sample_unix.hl7",
     "AllergyIntolerance=2,Condition=1,Encounter=1,Observation=1,Patient=1,Provenance=1"},
    {"line-endings/sample_win.hl7",
     "AllergyIntolerance=2,Condition=1,Encounter=1,Observation=1,Patient=1,Provenance=1"},
};

START_TEST(every_corpus_message_converts)
{
    char rel[256];
    char counts[512];
    json_t *b;

    snprintf(rel, sizeof(rel), "hl7v2/%s", expected[_i].file);
    b = convert_file(rel);
    count_types(b, counts, sizeof(counts));
    ck_assert_msg(strcmp(counts, expected[_i].counts) == 0, "%s:\n got %s\nwant %s",
                  expected[_i].file, counts, expected[_i].counts);
    json_decref(b);
}
END_TEST

START_TEST(no_corpus_file_is_left_out)
{
    const char *dirs[] = {"hl7v2/valid", "hl7v2/line-endings"};
    size_t seen = 0;

    for (size_t d = 0; d < BASE_ARRAY_LEN(dirs); d++) {
        size_t n = 0;
        char **files = tu_list_dir(tu_corpus_path(dirs[d]), NULL, &n);

        for (size_t i = 0; i < n; i++) {
            if (strstr(files[i], "uuencoded-escaped-fragment") == NULL) /* not a message */
                seen++;
        }
        tu_free_list(files);
    }
    ck_assert_uint_eq(seen, BASE_ARRAY_LEN(expected));
}
END_TEST

START_TEST(adt_values_match_the_source)
{
    json_t *b = convert_file("hl7v2/valid/ADT-A01-01.hl7");
    json_t *p = th_res(b, "Patient", 0);
    json_t *o = th_res(b, "Observation", 0);

    /* PID|1|1234567^…|PATID1234^5^M11^test1&2.16.1&HCD^MR^…|…|EVERYMAN&&&&Aniston^ADAM^A^III^Dr.^MD^D
     */
    ck_assert_str_eq(th_str(p, "identifier[0].value"), "PATID1234");
    ck_assert_str_eq(th_str(p, "name[0].family"), "EVERYMAN");
    ck_assert_str_eq(th_str(p, "name[0].given[0]"), "ADAM");
    ck_assert_str_eq(th_str(p, "name[0].use"), "usual");
    ck_assert_str_eq(th_str(p, "gender"), "male");
    /* OBX|27|NM|8867-4^heartrate^LN||60~120|beats/min^^ISO|70-80|A^A^HL7nnnn~B^B|||S */
    ck_assert_str_eq(th_str(o, "code.coding[0].code"), "8867-4");
    ck_assert_str_eq(th_num(o, "valueQuantity.value"), "60");
    ck_assert_str_eq(th_str(o, "valueQuantity.unit"), "beats/min");
    ck_assert_str_eq(th_str(o, "status"), "preliminary");
    json_decref(b);
}
END_TEST

START_TEST(lab_values_keep_their_decimal_text)
{
    json_t *b = convert_file("hl7v2/valid/LAB-ORU-1.hl7");
    json_t *ery = th_res(b, "Observation", 1);
    json_t *hct = th_res(b, "Observation", 3);
    json_t *lri;
    json_t *hgb;

    /* OBX|2|NM|11273-0^ERYTHROCYTES^LN||4.06|tera.l-1||N|||P */
    ck_assert_str_eq(th_str(ery, "code.coding[0].code"), "11273-0");
    ck_assert_str_eq(th_num(ery, "valueQuantity.value"), "4.06");
    ck_assert_str_eq(th_str(ery, "valueQuantity.unit"), "tera.l-1");
    /* OBX|4|NM|20570-8^HEMATOCRIT^LN||40.1|%||N|||P */
    ck_assert_str_eq(th_num(hct, "valueQuantity.value"), "40.1");
    ck_assert_str_eq(th_str(hct, "valueQuantity.code"), "%");
    ck_assert_str_eq(th_str(hct, "status"), "preliminary");
    json_decref(b);
    lri = convert_file("hl7v2/valid/LRI_2.0-NG_CBC_Typ_Message.hl7");
    /* OBX|2|NM|718-7^Hemoglobin…||12.5|g/mL^grams per milliliter^UCUM|13 to 18|L */
    hgb = th_res(lri, "Observation", 1);
    ck_assert_str_eq(th_num(hgb, "valueQuantity.value"), "12.5");
    ck_assert_str_eq(th_str(hgb, "valueQuantity.code"), "g/mL");
    ck_assert_str_eq(th_num(hgb, "referenceRange[0].low.value"), "13");
    ck_assert_str_eq(th_str(hgb, "interpretation[0].coding[0].code"), "L");
    json_decref(lri);
}
END_TEST

START_TEST(other_message_types_match_the_source)
{
    json_t *b = convert_file("hl7v2/valid/VXU-V04-01.hl7");

    /* RXA|0|1|20210818||49281021588^TENIVAC^NDC|0.5|mL^mL^UCUM */
    ck_assert_str_eq(th_str(th_res(b, "Immunization", 0), "vaccineCode.coding[0].code"),
                     "49281021588");
    ck_assert_str_eq(th_str(th_res(b, "Immunization", 0), "vaccineCode.coding[0].system"),
                     "http://hl7.org/fhir/sid/ndc");
    ck_assert_str_eq(th_num(th_res(b, "Immunization", 0), "doseQuantity.value"), "0.5");
    json_decref(b);
    b = convert_file("hl7v2/valid/RDE-O11-01.hl7");
    ck_assert_str_eq(
        th_str(th_res(b, "MedicationRequest", 0), "medicationCodeableConcept.coding[0].code"),
        "0143963401");
    ck_assert_str_eq(
        th_str(th_res(b, "MedicationRequest", 0), "dosageInstruction[0].route.coding[0].code"),
        "IV");
    json_decref(b);
    b = convert_file("hl7v2/valid/PC1-Problem-Add-v2.3.1.hl7");
    ck_assert_str_eq(th_str(th_res(b, "Condition", 0), "code.coding[0].system"),
                     "http://hl7.org/fhir/sid/icd-9-cm");
    ck_assert_str_eq(th_str(th_res(b, "Condition", 0), "code.coding[0].code"), "596.5");
    json_decref(b);
    b = convert_file("hl7v2/valid/MDM-T02-03.hl7");
    ck_assert_str_eq(th_str(th_res(b, "DocumentReference", 0), "content[0].attachment.contentType"),
                     "text/plain; charset=utf-8");
    json_decref(b);
}
END_TEST

START_TEST(line_ending_oddities_leave_no_trace)
{
    json_t *b = convert_file("hl7v2/line-endings/sample_win.hl7");
    json_t *al = th_res(b, "AllergyIntolerance", 1);

    /* AL1|2|DRUG|00001433^TRAMADOL||SEIZURES~VOMITING\r  (literal "\r") */
    ck_assert_str_eq(th_str(al, "reaction[0].manifestation[1].text"), "VOMITING");
    ck_assert_str_eq(th_str(al, "category[0]"), "medication");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "name[0].family"), "DOE");
    json_decref(b);
}
END_TEST

START_TEST(multi_message_files)
{
    json_t *b = convert_file("hl7v2/valid/hapi-messages-multi.txt");
    json_t *second = th_at(b, "entry[1].resource");

    ck_assert_str_eq(th_str(b, "type"), "collection");
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 18);
    /* message 2 uses MSH-2 "^~\}": PID …|WASHINGTON-HARPER^VOLA^K */
    ck_assert_str_eq(th_str(th_res(second, "Patient", 0), "name[0].family"), "WASHINGTON-HARPER");
    ck_assert_str_eq(th_str(second, "type"), "transaction");
    json_decref(b);
    b = convert_file("hl7v2/valid/hapi-segmentfinder-a24-custom-enc.hl7");
    /* field separator '^', components '~': PID^1^^11111~~~FOO&&0363~NI~…^^SMITH~JOHN~TEST */
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "name[0].family"), "SMITH");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "name[0].given[0]"), "JOHN");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "identifier[0].value"), "11111");
    json_decref(b);
}
END_TEST

Suite *hl7v2_corpus_suite(void);

Suite *
hl7v2_corpus_suite(void)
{
    Suite *s = suite_create("hl7v2_corpus");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_corpus_message_converts, 0, (int)BASE_ARRAY_LEN(expected));
    tcase_add_test(tc, no_corpus_file_is_left_out);
    tcase_add_test(tc, adt_values_match_the_source);
    tcase_add_test(tc, lab_values_keep_their_decimal_text);
    tcase_add_test(tc, other_message_types_match_the_source);
    tcase_add_test(tc, line_ending_oddities_leave_no_trace);
    tcase_add_test(tc, multi_message_files);
    suite_add_tcase(s, tc);
    return s;
}
