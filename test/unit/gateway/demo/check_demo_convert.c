/*
 * hosp-b's and img-c's files through the region's own converters: every
 * CDA document with cda_to_bundle, every CSV file with the CSV loader and
 * the shipped Synthea mapping, every resource they produce valid per
 * fhir_validate; every DICOM file well-formed (strict reader, and dcmdump
 * on a sample when dcmtk is installed).
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/cda/cda.h"
#include "adapters/csv/csv.h"
#include "adapters/label/adapter_label.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/runcli.h"
#include "test/support/tu_dicom.h"
#define DEMO_TEST_ONE_GENERATION
#include "test/unit/gateway/demo/demo_test.h"

static size_t
validate_entries(const json_t *bundle, const char *file, size_t *per_type_psy)
{
    const json_t *entries = json_object_get(bundle, "entry");

    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *res = json_object_get(json_array_get(entries, i), "resource");
        struct base_err err = {0};

        ck_assert_msg(fhir_validate(res, NULL, NULL, NULL, &err) == BASE_OK, "%s entry %zu: %s: %s",
                      file, i, err.where, err.msg);
        /* the labels the adapter adds at ingest: PSY for F00-F99 */
        if (per_type_psy != NULL && adapter_label_resource(res) > 0 &&
            base_str_eq_cstr(fhir_json_str(json_object_get(res, "resourceType")), "Condition"))
            (*per_type_psy)++;
    }
    return json_array_size(entries);
}

static bool
has_type(const json_t *bundle, const char *type, size_t *count)
{
    const json_t *entries = json_object_get(bundle, "entry");

    *count = 0;
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const json_t *res = json_object_get(json_array_get(entries, i), "resource");

        *count += base_str_eq_cstr(fhir_json_str(json_object_get(res, "resourceType")), type);
    }
    return *count > 0;
}

START_TEST(cda_documents)
{
    char cdadir[300];
    size_t n = 0;
    char **files;
    size_t resources = 0;
    size_t labelled = 0;
    size_t with_resid = 0;
    size_t family = 0;
    size_t goals = 0;

    snprintf(cdadir, sizeof(cdadir), "%s/hosp-b/cda", dir);
    files = tu_list_dir(cdadir, ".xml", &n);
    ck_assert_uint_eq(n, sum.cda_documents);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *xml = tu_read_file(files[i], &len);
        json_t *bundle = NULL;
        json_t *warnings = NULL;
        struct base_err err = {0};
        size_t k;

        ck_assert_msg(cda_to_bundle(xml, len, NULL, NULL, &bundle, &warnings, &err) == BASE_OK,
                      "%s: %s: %s", files[i], err.where, err.msg);
        ck_assert_msg(json_array_size(json_object_get(warnings, "issue")) == 0,
                      "%s: the converter skipped something", files[i]);
        resources += validate_entries(bundle, files[i], &labelled);
        ck_assert(has_type(bundle, "DocumentReference", &k) && k == 1);
        ck_assert(has_type(bundle, "Patient", &k) && k == 1);
        ck_assert(has_type(bundle, "Encounter", &k) && k == 1);
        with_resid += strstr(xml, "root=\"2.16.156.10011.1.3\"") != NULL;
        /* the portal's family history and goals come from these sections */
        family += has_type(bundle, "FamilyMemberHistory", &k) ? k : 0;
        goals += has_type(bundle, "Goal", &k) ? k : 0;
        json_decref(bundle);
        json_decref(warnings);
        free(xml);
    }
    ck_assert_uint_gt(resources, n * 10);
    ck_assert_uint_gt(labelled, 0); /* sensitive diagnoses reach the data */
    ck_assert_uint_gt(with_resid, n / 2);
    ck_assert_uint_gt(family, n / 4);
    ck_assert_uint_gt(goals, n / 8);
    tu_free_list(files);
}
END_TEST

static const char *const csv_order[] = {"patients",   "organizations", "providers",   "encounters",
                                        "conditions", "observations",  "medications", "allergies",
                                        "procedures", "immunizations"};

START_TEST(csv_files)
{
    size_t rows = 0;

    for (size_t f = 0; f < BASE_ARRAY_LEN(csv_order); f++) {
        char path[600];
        size_t mlen = 0;
        size_t len = 0;
        char *map_text;
        char *data;
        struct csv_limits lim = csv_limits_default();
        struct csv_mapping *map = NULL;
        struct csv_load_options opt = {.source_name = csv_order[f], .on_error = CSV_ON_ERROR_FAIL};
        struct csv_report rep = {0};
        struct base_err err = {0};
        json_t *bundle = NULL;

        snprintf(path, sizeof(path), "adapters/csv/mappings/synthea/%s.map", csv_order[f]);
        map_text = tu_read_file(path, &mlen);
        ck_assert_msg(map_text != NULL, "no mapping %s", path);
        ck_assert_int_eq(csv_mapping_parse(map_text, mlen, &lim, &map, &err), BASE_OK);
        snprintf(path, sizeof(path), "%s/hosp-b/csv/%s.csv", dir, csv_order[f]);
        data = tu_read_file(path, &len);
        ck_assert_ptr_nonnull(data);
        ck_assert_msg(csv_convert(map, data, len, &lim, &opt, NULL, NULL, &bundle, &rep, &err) ==
                          BASE_OK,
                      "%s: %s: %s", csv_order[f], err.where, err.msg);
        ck_assert_uint_eq(rep.rows_bad, 0);
        ck_assert_uint_gt(rep.rows, 0);
        ck_assert_uint_eq(validate_entries(bundle, csv_order[f], NULL), rep.resources);
        rows += rep.rows;
        json_decref(bundle);
        csv_mapping_free(map);
        free(map_text);
        free(data);
    }
    ck_assert_uint_eq(rows, sum.csv_rows);
}
END_TEST

/* ---------------------------------------------------------------- DICOM -- */

static char **dcm;
static size_t dcm_n;

static int
collect_dcm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    size_t len = strlen(path);

    (void)st;
    (void)ftw;
    if (flag == FTW_F && len > 4 && strcmp(path + len - 4, ".dcm") == 0) {
        dcm = realloc(dcm, (dcm_n + 1) * sizeof(*dcm));
        dcm[dcm_n++] = strdup(path);
    }
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct dcm_seen {
    bool uids_ok;
    int pn_groups; /* PatientName with an ideographic group */
};

static void
dcm_cb(void *ctx, const struct tu_dcm_elem *e)
{
    struct dcm_seen *s = ctx;

    if (strcmp(e->vr, "UI") == 0) {
        char v[80];
        size_t n = e->len < 79 ? e->len : 79;

        memcpy(v, e->val, n);
        while (n > 0 && v[n - 1] == '\0')
            n--;
        v[n] = '\0';
        s->uids_ok = s->uids_ok && n > 0 && n <= 64 && strspn(v, "0123456789.") == n;
    }
    if (e->tag == 0x00100010 && memchr(e->val, '=', e->len) != NULL)
        s->pn_groups++;
}

START_TEST(dicom_files)
{
    char root[300];
    size_t ideographic = 0;

    snprintf(root, sizeof(root), "%s/img-c/dicom", dir);
    dcm = NULL;
    dcm_n = 0;
    ck_assert_int_eq(nftw(root, collect_dcm, 16, FTW_PHYS), 0);
    ck_assert_uint_eq(dcm_n, sum.dicom_files);
    qsort(dcm, dcm_n, sizeof(*dcm), cmp_str);
    for (size_t i = 0; i < dcm_n; i++) {
        size_t len = 0;
        char *data = tu_read_file(dcm[i], &len);
        struct dcm_seen s = {true, 0};
        char why[128];
        char cs[32];

        ck_assert_msg(tu_dcm_walk((const uint8_t *)data, len, dcm_cb, &s, why) == 0, "%s: %s",
                      dcm[i], why);
        ck_assert_msg(s.uids_ok, "%s: a UID is not valid", dcm[i]);
        ck_assert(tu_dcm_string((const uint8_t *)data, len, 0x00080005, cs, sizeof(cs)));
        ck_assert_str_eq(cs, "ISO_IR 192");
        ideographic += s.pn_groups > 0;
        free(data);
    }
    ck_assert_uint_gt(ideographic, dcm_n / 2);
    /* dcmtk reads a sample without a complaint */
    for (size_t i = 0; i < dcm_n && access("/usr/bin/dcmdump", X_OK) == 0; i += dcm_n / 20 + 1) {
        const char *argv[] = {"/usr/bin/dcmdump", "-q", "+E", dcm[i], NULL};
        struct tu_run r;

        ck_assert_int_eq(tu_run(argv, &r), 0);
        ck_assert_msg(r.status == 0 && r.err_len == 0, "dcmdump %s: %s", dcm[i], r.err);
        tu_run_free(&r);
    }
    for (size_t i = 0; i < dcm_n; i++)
        free(dcm[i]);
    free(dcm);
}
END_TEST

Suite *
demo_convert_suite(void)
{
    Suite *s = suite_create("demo_convert");
    TCase *tc = tcase_create("converters");

    tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, cda_documents);
    tcase_add_test(tc, csv_files);
    tcase_add_test(tc, dicom_files);
    suite_add_tcase(s, tc);
    return s;
}
