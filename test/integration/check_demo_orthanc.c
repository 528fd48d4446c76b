/*
 * img-c's DICOM files in a real Orthanc: every file is accepted, and the
 * studies come back through the region's QIDO-RS client
 * (dicomweb_qido_patient) with the Chinese names intact, the modalities,
 * and the series and instance counts the files hold.
 */
#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/cda/cda.h"
#include "adapters/dicomweb/dicomweb.h"
#include "fhir/base/arena.h"
#include "fhir/validate/fhir_validate.h"
#include "gateway/mpi/gw_mpi.h"
#include "test/support/tu_orthanc.h"
#include "test/unit/gateway/demo/demo_test.h"

static char gen[256];
static struct gw_demo_summary sum;
static struct tu_orthanc pacs;
static size_t uploaded;
static size_t dcm_files;

static int
upload(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    size_t len = 0;
    char *data;

    (void)st;
    (void)ftw;
    if (flag != FTW_F || strstr(path, ".dcm") == NULL)
        return 0;
    dcm_files++;
    data = tu_read_file(path, &len);
    if (data != NULL && tu_orthanc_rest(&pacs, "POST", "/instances", data, len) == 200)
        uploaded++;
    free(data);
    return 0;
}

static void
setup_once(void)
{
    const char *tmp = getenv("FHIRGATE_TEST_TMP");
    char root[300];

    curl_global_init(CURL_GLOBAL_DEFAULT);
    demo_test_generate(GW_DEMO_DEFAULT_SEED, gen, &sum);
    if (!tu_orthanc_available())
        return;
    if (!tu_orthanc_start(&pacs, tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp"))
        return;
    snprintf(root, sizeof(root), "%s/img-c/dicom", gen);
    nftw(root, upload, 16, FTW_PHYS);
}

static void
teardown_once(void)
{
    tu_orthanc_stop(&pacs);
    demo_test_rmdir(gen);
}

static struct dicomweb_pacs
client(void)
{
    struct dicomweb_pacs p = {.name = "img-c",
                              .base_url = pacs.dicomweb,
                              .auth = DICOMWEB_AUTH_BASIC,
                              .user = TU_ORTHANC_USER,
                              .password = TU_ORTHANC_PASS,
                              .allow_http = true,
                              .timeout_ms = 20000};
    return p;
}

START_TEST(every_file_accepted)
{
    ck_assert_msg(tu_orthanc_available(), "Orthanc is not installed (deploy/install-deps.sh)");
    ck_assert_msg(pacs.pid > 0, "Orthanc did not start (log in %s)", pacs.dir);
    ck_assert_uint_eq(dcm_files, sum.dicom_files);
    ck_assert_uint_eq(uploaded, dcm_files);
}
END_TEST

/* Studies, series and instances on disk for one PatientID. */
static void
on_disk(const char *mrn, size_t *studies, size_t *instances)
{
    char d[600];
    DIR *top;
    struct dirent *e;

    *studies = 0;
    *instances = 0;
    snprintf(d, sizeof(d), "%s/img-c/dicom/%s", gen, mrn);
    top = opendir(d);
    ck_assert_ptr_nonnull(top);
    while ((e = readdir(top)) != NULL) {
        char sd[900];
        size_t n = 0;
        char **list;

        if (e->d_name[0] == '.')
            continue;
        snprintf(sd, sizeof(sd), "%s/%s", d, e->d_name);
        list = tu_list_dir(sd, ".dcm", &n);
        tu_free_list(list);
        (*studies)++;
        *instances += n;
    }
    closedir(top);
}

static const char *
han_only(const char *name, char *out, size_t cap)
{
    size_t n = 0;

    for (; *name != '\0' && n + 1 < cap; name++) {
        if (*name != ' ')
            out[n++] = *name;
    }
    out[n] = '\0';
    return out;
}

static void
check_patient(const json_t *rec, bool expect_ct)
{
    struct dicomweb_pacs p = client();
    const char *mrn = json_string_value(json_object_get(rec, "mrn"));
    const char *name = json_string_value(json_object_get(rec, "name"));
    struct base_err err = {0};
    json_t *studies = NULL;
    size_t want_studies;
    size_t want_instances;
    size_t got_instances = 0;
    bool ct = false;
    char han[128];

    on_disk(mrn, &want_studies, &want_instances);
    ck_assert_msg(dicomweb_qido_patient(&p, mrn, DICOMWEB_INSTANCES, NULL, NULL, &studies, &err) ==
                      BASE_OK,
                  "%s: %s", err.where, err.msg);
    ck_assert_uint_eq(json_array_size(studies), want_studies);
    for (size_t i = 0; i < json_array_size(studies); i++) {
        json_t *s = json_array_get(studies, i);
        const char *display =
            json_string_value(json_object_get(json_object_get(s, "subject"), "display"));
        const json_t *mod = json_array_get(json_object_get(s, "modality"), 0);

        ck_assert_msg(fhir_validate(s, NULL, NULL, NULL, &err) == BASE_OK, "%s: %s", err.where,
                      err.msg);
        ck_assert_ptr_nonnull(display);
        if (!json_boolean_value(json_object_get(rec, "latin")) && name[0] & 0x80)
            ck_assert_msg(strcmp(display, han_only(name, han, sizeof(han))) == 0,
                          "name came back as '%s'", display);
        ct |= strcmp(json_string_value(json_object_get(mod, "code")), "CT") == 0;
        got_instances += (size_t)json_integer_value(json_object_get(s, "numberOfInstances"));
        ck_assert_int_ge(json_integer_value(json_object_get(s, "numberOfSeries")), 1);
        ck_assert_int_le(json_integer_value(json_object_get(s, "numberOfSeries")), 3);
    }
    ck_assert_uint_eq(got_instances, want_instances);
    if (expect_ct)
        ck_assert(ct);
    json_decref(studies);
}

START_TEST(shared_patient_comes_back)
{
    json_t *m = demo_test_manifest(gen);
    json_t *recs = json_object_get(json_object_get(m, "shared_patient"), "records");

    ck_assert_int_gt(pacs.pid, 0);
    for (size_t k = 0; k < json_array_size(recs); k++) {
        json_t *r = json_array_get(recs, k);

        if (strcmp(json_string_value(json_object_get(r, "member")), "img-c") == 0)
            check_patient(r, true);
    }
    json_decref(m);
}
END_TEST

START_TEST(every_patient_comes_back)
{
    json_t *m = demo_test_manifest(gen);
    json_t *people = json_object_get(m, "patients");
    size_t checked = 0;

    ck_assert_int_gt(pacs.pid, 0);
    for (size_t i = 0; i < json_array_size(people); i++) {
        json_t *recs = json_object_get(json_array_get(people, i), "records");

        for (size_t k = 0; k < json_array_size(recs); k++) {
            json_t *r = json_array_get(recs, k);
            json_t *errs = json_object_get(r, "errors");
            bool romanized = false;

            if (strcmp(json_string_value(json_object_get(r, "member")), "img-c") != 0)
                continue;
            for (size_t e = 0; e < json_array_size(errs); e++)
                romanized |= strcmp(json_string_value(json_array_get(errs, e)), "romanized") == 0;
            json_object_set_new(r, "latin", json_boolean(romanized));
            check_patient(r, false);
            checked++;
        }
    }
    ck_assert_uint_eq(checked, sum.records[2]);
    json_decref(m);
}
END_TEST

/* The Patient a converter made, from a transaction Bundle (borrowed). */
static json_t *
patient_of(json_t *bundle)
{
    json_t *entries = json_object_get(bundle, "entry");

    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *res = json_object_get(json_array_get(entries, i), "resource");

        if (base_str_eq_cstr(fhir_json_str(json_object_get(res, "resourceType")), "Patient"))
            return res;
    }
    return NULL;
}

/* hosp-b's Patient for the record `mrn`, from its first CDA document. */
static json_t *
cda_patient_bundle(const char *mrn)
{
    char cdadir[300];
    char needle[64];
    size_t n = 0;
    char **files;
    json_t *bundle = NULL;

    snprintf(cdadir, sizeof(cdadir), "%s/hosp-b/cda", gen);
    snprintf(needle, sizeof(needle), "extension=\"%s\"", mrn);
    files = tu_list_dir(cdadir, ".xml", &n);
    for (size_t i = 0; i < n && bundle == NULL; i++) {
        size_t len = 0;
        char *xml = tu_read_file(files[i], &len);

        if (strstr(xml, needle) != NULL)
            ck_assert_int_eq(cda_to_bundle(xml, len, NULL, NULL, &bundle, NULL, NULL), BASE_OK);
        free(xml);
    }
    tu_free_list(files);
    ck_assert_ptr_nonnull(bundle);
    return bundle;
}

/* img-c's Patient for `mrn`, as the adapter's PACS sync makes it: the
 * DICOMweb client asks the PACS (QIDO-RS, plus one instance's WADO-RS
 * metadata for the Other Patient IDs Sequence that carries the resident
 * identity number) and converts the answer into a transaction Bundle. */
static json_t *
pacs_patient_bundle(const char *mrn)
{
    struct dicomweb_pacs p = client();
    json_t *bundle = NULL;
    struct base_err err = {0};

    ck_assert_msg(dicomweb_qido_patient_bundle(&p, mrn, DICOMWEB_STUDIES, NULL, NULL, &bundle,
                                               NULL, &err) == BASE_OK,
                  "%s: %s", err.where, err.msg);
    return bundle;
}

/* The shared patient's img-c record reaches the MPI with the resident id
 * from the Other Patient IDs Sequence, so it links deterministically; its
 * demographics alone must also score above the automatic link threshold
 * against their hosp-b record (for PACS that do not send the sequence). */
START_TEST(shared_patient_links_at_the_imaging_centre)
{
    json_t *m = demo_test_manifest(gen);
    json_t *recs = json_object_get(json_object_get(m, "shared_patient"), "records");
    const char *mrn[3] = {NULL, NULL, NULL};
    struct base_arena *a = base_arena_new(0);
    struct gw_mpi_identity img;
    struct gw_mpi_identity hosp;
    struct gw_mpi_score sc;
    struct base_err err = {0};
    json_t *b_img;
    json_t *b_hosp;

    ck_assert_int_gt(pacs.pid, 0);
    for (size_t k = 0; k < 3; k++) {
        json_t *r = json_array_get(recs, k);

        mrn[k] = json_string_value(json_object_get(r, "mrn"));
    }
    b_img = pacs_patient_bundle(mrn[2]);
    b_hosp = cda_patient_bundle(mrn[1]);
    ck_assert_int_eq(
        gw_mpi_identity_from_patient(a, "img-c", patient_of(b_img), 20261128, &img, &err), BASE_OK);
    ck_assert_int_eq(
        gw_mpi_identity_from_patient(a, "hosp-b", patient_of(b_hosp), 20261128, &hosp, &err),
        BASE_OK);
    ck_assert_msg(img.has_resid, "the PACS answer lost the Other Patient IDs Sequence");
    ck_assert(hosp.has_resid);
    ck_assert_str_eq(img.resid.number, hosp.resid.number);
    gw_mpi_score_pair(&img, &hosp, NULL, &sc);
    ck_assert_int_eq(sc.level[GW_MPI_F_NAME], GW_MPI_L_EXACT);
    ck_assert_int_eq(sc.level[GW_MPI_F_BIRTH], GW_MPI_L_EXACT);
    ck_assert_msg(sc.total >= gw_mpi_config_default().upper, "score %.2f", sc.total);
    /* With the MPI's name frequencies, when the imaging record comes last
     * (its name then already held by the two hospital records of a region
     * of this size), demographics alone still reach the review queue —
     * never lost; the resident id above is what links it automatically. */
    struct gw_mpi_name_freq freq = {2, 2,
                                    (double)(sum.records[0] + sum.records[1] + sum.records[2])};
    struct gw_mpi_score late;
    gw_mpi_score_pair(&img, &hosp, &freq, &late);
    ck_assert_msg(late.total >= gw_mpi_config_default().lower, "score %.2f", late.total);
    fprintf(stderr,
            "demo_orthanc: shared patient, img-c vs hosp-b record: %.1f bits (static u), "
            "%.1f bits (ingested last); link at %.0f, review from %.0f\n",
            sc.total, late.total, gw_mpi_config_default().upper, gw_mpi_config_default().lower);
    json_decref(b_img);
    json_decref(b_hosp);
    base_arena_free(a);
    json_decref(m);
}
END_TEST

Suite *
demo_orthanc_suite(void)
{
    Suite *s = suite_create("demo_orthanc");
    TCase *tc = tcase_create("pacs");

    tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_file_accepted);
    tcase_add_test(tc, shared_patient_comes_back);
    tcase_add_test(tc, every_patient_comes_back);
    tcase_add_test(tc, shared_patient_links_at_the_imaging_centre);
    suite_add_tcase(s, tc);
    return s;
}
