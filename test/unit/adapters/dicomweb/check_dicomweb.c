/*
 * DICOM JSON -> ImagingStudy: the corpus datasets, person name groups,
 * grouping of QIDO/metadata answers, and rejection of malformed DICOM JSON
 * (tags, VRs, value types, lengths, depth).  The QIDO-RS client against a
 * real Orthanc is in test/integration/check_dicomweb_qido.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/dicomweb/dicomweb.h"
#include "fhir/validate/fhir_validate.h"
#include "fhir/json/fhir_json.h"
#include "test/support/golden.h"
#include "test/support/jsonpath.h"
#include "test/support/runcli.h"
#include "test/support/testutil.h"

static json_t *
entry(const json_t *bundle, const char *type)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        if (strcmp(tu_json_str(e, "resource.resourceType"), type) == 0)
            return json_object_get(e, "resource");
    }
    return NULL;
}

#define TEXT70 "0123456789012345678901234567890123456789012345678901234567890123456789"

static json_t *
bundle_of(const char *text, const struct dicomweb_options *opt, json_t **warnings)
{
    struct base_err err = {0};
    json_t *b = NULL;

    ck_assert_msg(dicomweb_to_bundle(text, strlen(text), NULL, opt, &b, warnings, &err) == BASE_OK,
                  "%s: %s", err.where, err.msg);
    return b;
}

START_TEST(corpus_instance_metadata)
{
    size_t len = 0;
    char *text =
        tu_read_file(tu_corpus_path("dicom/dicomweb-json/pydicom-test1.dicom+json.json"), &len);
    json_t *b = bundle_of(text, NULL, NULL);
    json_t *st = entry(b, "ImagingStudy");
    json_t *p = entry(b, "Patient");

    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 2); /* no Retrieve URL */
    ck_assert_str_eq(tu_json_str(st, "identifier.0.value"),
                     "urn:oid:1.3.6.1.4.1.5962.99.1.1516012269.2092621929.1509049565933.1720.0");
    ck_assert_str_eq(tu_json_str(st, "modality.0.code"), "MR");
    ck_assert_str_eq(tu_json_str(st, "started"), "2014-12-10");
    ck_assert_str_eq(tu_json_str(st, "description"), "M2197/PRO/BD Pelvis w");
    ck_assert_str_eq(tu_json_str(st, "procedureCode.0.coding.0.code"), "M2197");
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(st, "series"), 0), "number")),
                     10);
    ck_assert_str_eq(tu_json_str(st, "series.0.instance.0.sopClass.code"),
                     "urn:oid:1.2.840.10008.5.1.4.1.1.4");
    ck_assert_str_eq(tu_json_str(st, "series.0.instance.0.uid"),
                     "1.3.6.1.4.1.5962.99.1.1516012269.2092621929.1509049565933.2991.0");
    ck_assert_str_eq(tu_json_str(st, "subject.reference"),
                     tu_json_str(json_array_get(json_object_get(b, "entry"), 0), "fullUrl"));
    ck_assert_str_eq(tu_json_str(p, "identifier.0.value"), "NOID");
    ck_assert_str_eq(tu_json_str(p, "name.0.family"), "Prostate");
    ck_assert_str_eq(tu_json_str(p, "gender"), "male");
    ck_assert_ptr_null(json_object_get(st, "referrer")); /* the name was empty */
    json_decref(b);
    free(text);
}
END_TEST

START_TEST(corpus_pn_dataset_has_no_study)
{
    size_t len = 0;
    char *text =
        tu_read_file(tu_corpus_path("dicom/dicomweb-json/pydicom-test_PN.dicom+json.json"), &len);
    json_t *warnings = NULL;
    json_t *b = bundle_of(text, NULL, &warnings);
    json_t *ds = NULL;
    struct base_err err = {0};

    /* valid DICOM JSON (nested sequences included), but nothing to map */
    ck_assert_int_eq(dicomweb_parse(text, len, NULL, &ds, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(ds), 1);
    ck_assert_ptr_null(json_object_get(b, "entry"));
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.expression.0"), "dataset[0]");
    json_decref(ds);
    json_decref(b);
    json_decref(warnings);
    free(text);
}
END_TEST

START_TEST(person_name_groups)
{
    size_t len = 0;
    char *text = tu_read_file("test/golden/dicomweb/qido_studies_zh/input.json", &len);
    json_t *b = bundle_of(text, NULL, NULL);
    json_t *p = entry(b, "Patient");
    json_t *st = entry(b, "ImagingStudy");

    ck_assert_uint_eq(json_array_size(json_object_get(p, "name")), 3);
    ck_assert_str_eq(tu_json_str(p, "name.0.text"), "San Zhang");
    ck_assert_str_eq(tu_json_str(p, "name.0.extension.0.valueCode"), "ABC");
    ck_assert_str_eq(tu_json_str(p, "name.1.text"), "张三");
    ck_assert_str_eq(tu_json_str(p, "name.1.family"), "张");
    ck_assert_str_eq(tu_json_str(p, "name.1.given.0"), "三");
    ck_assert_str_eq(tu_json_str(p, "name.1.extension.0.valueCode"), "IDE");
    ck_assert_str_eq(tu_json_str(p, "name.2.extension.0.valueCode"), "SYL");
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"), "urn:oid:2.16.156.10011.1.12");
    ck_assert_str_eq(tu_json_str(p, "birthDate"), "1980-01-01");
    ck_assert_str_eq(tu_json_str(st, "subject.display"), "张三");
    ck_assert_str_eq(tu_json_str(st, "referrer.display"), "李四");
    ck_assert_str_eq(tu_json_str(st, "started"), "2024-03-15T09:30:15.250+08:00");
    ck_assert_str_eq(tu_json_str(st, "identifier.1.type.coding.0.code"), "ACSN");
    ck_assert_int_eq(json_integer_value(json_object_get(st, "numberOfInstances")), 131);
    /* the WADO-RS address travels inside the study (contained Endpoint) */
    ck_assert_str_eq(tu_json_str(st, "endpoint.0.reference"), "#wado");
    ck_assert_str_eq(tu_json_str(st, "contained.0.resourceType"), "Endpoint");
    ck_assert_str_eq(tu_json_str(st, "contained.0.address"), "https://pacs.example.org/dicom-web");
    ck_assert_ptr_null(entry(b, "Endpoint"));
    /* every entry carries the identifier its conditional update names */
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        ck_assert_msg(tu_entry_keyed(e), "entry %zu is keyed on an identifier it lacks", i);
    }
    json_decref(b);
    free(text);
}
END_TEST

/* Other Patient IDs Sequence: the resident identity number a regional PACS
 * carries next to its own record number becomes a second identifier; an
 * item without an OID issuer is left out. */
START_TEST(other_patient_ids_become_identifiers)
{
    static const char text[] =
        "[{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1.2.826.0.1.3680043.8.498.7\"]},"
        "\"00100020\":{\"vr\":\"LO\",\"Value\":[\"IC500418\"]},"
        "\"00100021\":{\"vr\":\"LO\",\"Value\":[\"2.16.156.99.3\"]},"
        "\"00101002\":{\"vr\":\"SQ\",\"Value\":["
        "{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"370102196102127299\"]},"
        "\"00100021\":{\"vr\":\"LO\",\"Value\":[\"2.16.156.10011.1.3\"]},"
        "\"00100022\":{\"vr\":\"CS\",\"Value\":[\"TEXT\"]}},"
        "{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"X-1\"]},"
        "\"00100021\":{\"vr\":\"LO\",\"Value\":[\"OTHERPACS\"]}}]}}]";
    json_t *b = bundle_of(text, NULL, NULL);
    json_t *p = entry(b, "Patient");

    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 2);
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"), "urn:oid:2.16.156.99.3");
    ck_assert_str_eq(tu_json_str(p, "identifier.0.value"), "IC500418");
    ck_assert_str_eq(tu_json_str(p, "identifier.1.system"), "urn:oid:2.16.156.10011.1.3");
    ck_assert_str_eq(tu_json_str(p, "identifier.1.value"), "370102196102127299");
    ck_assert_int_eq(fhir_validate(p, NULL, NULL, NULL, NULL), BASE_OK);
    json_decref(b);
}
END_TEST

START_TEST(groups_series_and_instances)
{
    size_t len = 0;
    char *text = tu_read_file("test/golden/dicomweb/metadata_series_instances/input.json", &len);
    struct base_err err = {0};
    json_t *ds = NULL;
    json_t *studies = NULL;
    struct dicomweb_options opt = {
        .patient_ref = "Patient/9", .wado_base = "https://w/dw", .default_tz = "+08:00"};

    ck_assert_int_eq(dicomweb_parse(text, len, NULL, &ds, &err), BASE_OK);
    ck_assert_int_eq(dicomweb_studies(ds, &opt, &studies, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(studies), 1);
    json_t *st = json_array_get(studies, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(st, "numberOfSeries")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(st, "numberOfInstances")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(st, "modality")), 2);
    ck_assert_str_eq(tu_json_str(st, "series.0.bodySite.code"), "12738006");
    ck_assert_str_eq(tu_json_str(st, "series.0.started"), "2020-02-02T10:10:10+08:00");
    ck_assert_uint_eq(json_array_size(json_object_get(
                          json_array_get(json_object_get(st, "series"), 0), "instance")),
                      2);
    ck_assert_str_eq(tu_json_str(st, "series.1.laterality.code"), "7771000");
    ck_assert_str_eq(tu_json_str(st, "subject.reference"), "Patient/9");
    ck_assert_str_eq(tu_json_str(st, "contained.0.address"), "https://w/dw");
    json_decref(studies);
    json_decref(ds);
    free(text);
}
END_TEST

/* ------------------------------------------------------------ negative */

static void
rejects(const char *text, const struct dicomweb_limits *lim, int rc, const char *where)
{
    struct base_err err = {0};
    json_t *ds = NULL;

    ck_assert_int_eq(dicomweb_parse(text, strlen(text), lim, &ds, &err), rc);
    ck_assert_ptr_null(ds);
    if (where != NULL)
        ck_assert_str_eq(err.where, where);
}

START_TEST(rejects_bad_tags_and_vrs)
{
    rejects("{\"0020000D\":{\"vr\":\"LO\",\"Value\":[\"1.2\"]}}", NULL, BASE_E_INVALID,
            "dataset[0].0020000D");
    rejects("{\"00100010\":{\"vr\":\"XX\",\"Value\":[\"a\"]}}", NULL, BASE_E_INVALID,
            "dataset[0].00100010");
    rejects("{\"0010001G\":{\"vr\":\"LO\",\"Value\":[\"a\"]}}", NULL, BASE_E_INVALID, NULL);
    rejects("{\"00100020\":{\"Value\":[\"a\"]}}", NULL, BASE_E_INVALID, "dataset[0].00100020");
    rejects("[{\"0020000d\":{\"vr\":\"UI\",\"Value\":[\"1\"]},"
            "\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1\"]}}]",
            NULL, BASE_E_INVALID, "dataset[0].0020000D");
    rejects("{\"00100020\":{\"vr\":\"LO\",\"Value\":\"a\"}}", NULL, BASE_E_INVALID, NULL);
    rejects("{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"a\"],\"BulkDataURI\":\"x\"}}", NULL,
            BASE_E_INVALID, NULL);
    rejects("[1]", NULL, BASE_E_INVALID, "dataset[0]");
    rejects("\"x\"", NULL, BASE_E_INVALID, "dataset");
    rejects("{\"00100020\":", NULL, BASE_E_PARSE, NULL);
}
END_TEST

START_TEST(rejects_wrong_value_types)
{
    rejects("{\"00280010\":{\"vr\":\"US\",\"Value\":[\"two\"]}}", NULL, BASE_E_INVALID,
            "dataset[0].00280010");
    rejects("{\"00200013\":{\"vr\":\"IS\",\"Value\":[\"twelve\"]}}", NULL, BASE_E_INVALID, NULL);
    rejects("{\"00100020\":{\"vr\":\"LO\",\"Value\":[7]}}", NULL, BASE_E_INVALID, NULL);
    rejects("{\"00100010\":{\"vr\":\"PN\",\"Value\":[\"A=B=C=D\"]}}", NULL, BASE_E_INVALID,
            "dataset[0].00100010");
    rejects("{\"00100010\":{\"vr\":\"PN\",\"Value\":[7]}}", NULL, BASE_E_INVALID, NULL);
    rejects("{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Kanji\":\"x\"}]}}", NULL, BASE_E_INVALID,
            NULL);
    rejects("{\"00081032\":{\"vr\":\"SQ\",\"Value\":[\"x\"]}}", NULL, BASE_E_INVALID, NULL);
    rejects("{\"7FE00010\":{\"vr\":\"OW\",\"Value\":[1]}}", NULL, BASE_E_INVALID, NULL);
    rejects("{\"00209165\":{\"vr\":\"AT\",\"Value\":[\"0010ZZ10\"]}}", NULL, BASE_E_INVALID, NULL);
}
END_TEST

START_TEST(rejects_values_too_long)
{
    char buf[512];
    char big[300];

    memset(big, '1', 65);
    big[65] = '\0';
    snprintf(buf, sizeof(buf), "{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"%s\"]}}", big);
    rejects(buf, NULL, BASE_E_INVALID, "dataset[0].0020000D");
    /* LO counts characters: 64 ideographs (192 bytes) fit, 65 do not */
    size_t o = 0;
    for (int i = 0; i < 64; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "\xe5\xbc\xa0");
    snprintf(buf, sizeof(buf), "{\"00081030\":{\"vr\":\"LO\",\"Value\":[\"%s\"]}}", big);
    json_t *ds = NULL;
    ck_assert_int_eq(dicomweb_parse(buf, strlen(buf), NULL, &ds, NULL), BASE_OK);
    json_decref(ds);
    /* beyond the VR's length a text value is still read (vendors write
     * longer LO/SH/PN than PS3.5 allows); only UI and AT are fixed */
    snprintf(buf, sizeof(buf), "{\"00081030\":{\"vr\":\"LO\",\"Value\":[\"%s\xe5\xbc\xa0\"]}}",
             big);
    ck_assert_int_eq(dicomweb_parse(buf, strlen(buf), NULL, &ds, NULL), BASE_OK);
    json_decref(ds);
    rejects("{\"00209165\":{\"vr\":\"AT\",\"Value\":[\"001000100\"]}}", NULL, BASE_E_INVALID,
            "dataset[0].00209165");
    /* UT has no fixed bound: the configured max_text applies */
    struct dicomweb_limits lim = dicomweb_limits_default();
    lim.max_text = 10;
    rejects("{\"00204000\":{\"vr\":\"LT\",\"Value\":[\"short\"]},"
            "\"00400400\":{\"vr\":\"UT\",\"Value\":[\"more than ten\"]}}",
            &lim, BASE_E_LIMIT, "dataset[0].00400400");
}
END_TEST

START_TEST(limits_depth_datasets_values_size)
{
    struct dicomweb_limits lim = dicomweb_limits_default();
    char deep[4096] = "";
    size_t o = 0;

    lim.max_depth = 3;
    for (int i = 0; i < 5; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o,
                              "{\"00081032\":{\"vr\":\"SQ\",\"Value\":[");
    o += (size_t)snprintf(deep + o, sizeof(deep) - o, "{}");
    for (int i = 0; i < 5; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "]}}");
    rejects(deep, &lim, BASE_E_LIMIT, NULL);
    lim = dicomweb_limits_default();
    lim.max_datasets = 2;
    rejects("[{},{},{}]", &lim, BASE_E_LIMIT, "dataset");
    lim = dicomweb_limits_default();
    lim.max_values = 2;
    rejects("{\"00080061\":{\"vr\":\"CS\",\"Value\":[\"CT\",\"MR\",\"US\"]}}", &lim, BASE_E_LIMIT,
            NULL);
    lim = dicomweb_limits_default();
    lim.max_doc = 8;
    rejects("{\"00080061\":{\"vr\":\"CS\"}}", &lim, BASE_E_LIMIT, NULL);
}
END_TEST

START_TEST(study_uid_required_for_studies)
{
    struct base_err err = {0};
    json_t *ds = NULL;
    json_t *studies = NULL;
    const char *text = "[{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"P\"]}}]";

    ck_assert_int_eq(dicomweb_parse(text, strlen(text), NULL, &ds, &err), BASE_OK);
    ck_assert_int_eq(dicomweb_studies(ds, NULL, &studies, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "dataset[0]");
    json_decref(ds);
}
END_TEST

/* What real PACS and toolkits send that bends PS3.18 annex F but says what
 * it means: each is read, and the study keeps what it claims. */
START_TEST(tolerates_real_pacs_quirks)
{
    static const char text[] =
        "[{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1.2.826.0.1.3680043.8.498.9\"]},"
        /* US as a numeric string (dicomweb-client's recorded answers) */
        "\"00280010\":{\"vr\":\"US\",\"Value\":[\"512\"]},"
        /* a DS longer than 16 bytes, a vendor LO longer than 64 */
        "\"00101030\":{\"vr\":\"DS\",\"Value\":[\"75.1234567890123456\"]},"
        "\"00091001\":{\"vr\":\"LO\",\"Value\":[\"" TEXT70 "\"]},"
        /* PN in its PS3.5 string form */
        "\"00100010\":{\"vr\":\"PN\",\"Value\":[\"Yamada^Tarou=\xe5\xb1\xb1\xe7\x94\xb0^"
        "\xe5\xa4\xaa\xe9\x83\x8e\"]},"
        "\"00100020\":{\"vr\":\"LO\",\"Value\":[\"P9\"]},"
        /* counts written as reals, modalities unsplit and in lower case */
        "\"00201206\":{\"vr\":\"IS\",\"Value\":[\"2.0\"]},"
        "\"00201208\":{\"vr\":\"IS\",\"Value\":[1e2]},"
        "\"00080061\":{\"vr\":\"CS\",\"Value\":[\"ct\\\\PT\",null,\"CT\",\"C-T\"]},"
        /* an offset without its sign costs the time, not the date */
        "\"00080020\":{\"vr\":\"DA\",\"Value\":[\"20240315\"]},"
        "\"00080030\":{\"vr\":\"TM\",\"Value\":[\"093015\"]},"
        "\"00080201\":{\"vr\":\"SH\",\"Value\":[\"0800\"]}},"
        /* a series with a lower-case modality and a chest */
        "{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1.2.826.0.1.3680043.8.498.9\"]},"
        "\"0020000E\":{\"vr\":\"UI\",\"Value\":[\"1.2.826.0.1.3680043.8.498.9.1\"]},"
        "\"00080060\":{\"vr\":\"CS\",\"Value\":[\" pt \"]},"
        "\"00180015\":{\"vr\":\"CS\",\"Value\":[\"CHEST\"]}}]";
    json_t *b = bundle_of(text, NULL, NULL);
    json_t *st = entry(b, "ImagingStudy");
    json_t *p = entry(b, "Patient");

    ck_assert_str_eq(tu_json_str(p, "name.0.family"), "Yamada");
    ck_assert_str_eq(tu_json_str(p, "name.1.text"), "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e");
    ck_assert_str_eq(tu_json_str(p, "name.1.extension.0.valueCode"), "IDE");
    ck_assert_int_eq(json_integer_value(json_object_get(st, "numberOfSeries")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(st, "numberOfInstances")), 100);
    ck_assert_uint_eq(json_array_size(json_object_get(st, "modality")), 2);
    ck_assert_str_eq(tu_json_str(st, "modality.0.code"), "CT");
    ck_assert_str_eq(tu_json_str(st, "modality.1.code"), "PT");
    ck_assert_str_eq(tu_json_str(st, "started"), "2024-03-15");
    ck_assert_str_eq(tu_json_str(st, "series.0.modality.code"), "PT");
    ck_assert_str_eq(tu_json_str(st, "series.0.bodySite.code"), "43799004");
    ck_assert_int_eq(fhir_validate(st, NULL, NULL, NULL, NULL), BASE_OK);
    ck_assert_int_eq(fhir_validate(p, NULL, NULL, NULL, NULL), BASE_OK);
    json_decref(b);
}
END_TEST

/* -------------------------------------------------------------- CLI */

START_TEST(cli_converts_dicom_json)
{
    const char *argv[] = {tu_bin("fhirgate"), "convert", "--from", "dicom-json",
                    tu_corpus_path("dicom/dicomweb-json/pydicom-test1.dicom+json.json"),
                    NULL};
    const char *bad[] = {tu_bin("fhirgate"), "convert", "--from", "dicom-json",
                   "test/golden/dicomweb/wrong_vr/input.json", NULL};
    struct tu_run r;
    json_t *b = NULL;

    ck_assert_int_eq(tu_run(argv, &r), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(fhir_json_parse(r.out, r.out_len, NULL, &b, NULL), BASE_OK);
    ck_assert_str_eq(tu_json_str(entry(b, "ImagingStudy"), "modality.0.code"), "MR");
    json_decref(b);
    tu_run_free(&r);
    ck_assert_int_eq(tu_run(bad, &r), 0);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "dataset[0].0020000D: attribute has a VR its tag never has"));
    tu_run_free(&r);
}
END_TEST

/* ----------------------------------------------------------- golden */

static int
golden_dicomweb(const char *dir, const char *data, size_t len, json_t **out, struct base_err *err)
{
    (void)dir;
    return dicomweb_to_bundle(data, len, NULL, NULL, out, NULL, err);
}

START_TEST(golden_cases)
{
    size_t cases = 0;

    ck_assert_int_eq(tu_golden_run("dicomweb", golden_dicomweb, &cases), 0);
    ck_assert_uint_ge(cases, 4);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *dicomweb_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("dicomweb");
    TCase *map = tcase_create("mapping");
    TCase *neg = tcase_create("negative");

    tcase_add_test(map, corpus_instance_metadata);
    tcase_add_test(map, corpus_pn_dataset_has_no_study);
    tcase_add_test(map, person_name_groups);
    tcase_add_test(map, other_patient_ids_become_identifiers);
    tcase_add_test(map, groups_series_and_instances);
    tcase_add_test(map, tolerates_real_pacs_quirks);
    tcase_add_test(map, golden_cases);
    tcase_add_test(map, cli_converts_dicom_json);
    tcase_add_test(neg, rejects_bad_tags_and_vrs);
    tcase_add_test(neg, rejects_wrong_value_types);
    tcase_add_test(neg, rejects_values_too_long);
    tcase_add_test(neg, limits_depth_datasets_values_size);
    tcase_add_test(neg, study_uid_required_for_studies);
    suite_add_tcase(s, map);
    suite_add_tcase(s, neg);
    return s;
}
