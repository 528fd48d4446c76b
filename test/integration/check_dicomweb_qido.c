/*
 * The QIDO-RS client against a real Orthanc with its DICOMweb plugin.
 *
 * The fixture starts Orthanc on two free loopback ports with a private
 * storage folder, waits until /system answers, uploads every DICOM file of
 * the shared corpus through the REST API, and derives a few more studies
 * for one patient (Orthanc's /modify) to exercise paging.  It stops Orthanc
 * when the test case ends, failed tests included; the child also dies with
 * the test runner (PR_SET_PDEATHSIG).
 *
 * Orthanc must run with "DefaultEncoding": "Utf8": otherwise it writes its
 * QIDO answers in Latin-1 and Chinese names lose every ideograph.
 */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapters/dicomweb/dicomweb.h"
#include "fhir/json/fhir_json.h"
#include "test/support/jsonpath.h"
#include "test/support/testutil.h"

#define ORTHANC_USER "gateway"
#define ORTHANC_PASS "s3cret"

static struct {
    pid_t pid;
    int http_port;
    char dir[512];
    char base[128];     /* http://127.0.0.1:PORT */
    char dicomweb[160]; /* .../dicom-web */
    int uploaded;
} orthanc;

static int
free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static size_t
sink(char *p, size_t s, size_t n, void *ctx)
{
    struct {
        char *buf;
        size_t len, cap;
    } *b = ctx;
    size_t len = s * n;

    if (b != NULL && b->len + len < b->cap) {
        memcpy(b->buf + b->len, p, len);
        b->len += len;
        b->buf[b->len] = '\0';
    }
    return len;
}

/* One REST call to Orthanc; returns the HTTP status, body in out (may be NULL). */
static long
rest(const char *method, const char *path, const void *body, size_t len, char *out, size_t cap)
{
    struct {
        char *buf;
        size_t len, cap;
    } b = {out, 0, cap};
    char url[512];
    long status = 0;
    CURL *c = curl_easy_init();

    snprintf(url, sizeof(url), "%s%s", orthanc.base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERPWD, ORTHANC_USER ":" ORTHANC_PASS);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out != NULL ? (void *)&b : NULL);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

static void
write_config(const char *path, int http_port, int dicom_port)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"Name\":\"fhirgate-test\",\"DefaultEncoding\":\"Utf8\","
            "\"StorageDirectory\":\"%s/db\",\"IndexDirectory\":\"%s/db\","
            "\"HttpPort\":%d,\"DicomPort\":%d,\"DicomAet\":\"FGTEST\","
            "\"RemoteAccessAllowed\":false,\"AuthenticationEnabled\":true,"
            "\"RegisteredUsers\":{\"" ORTHANC_USER "\":\"" ORTHANC_PASS "\"},"
            "\"Plugins\":[\"/usr/share/orthanc/plugins/libOrthancDicomWeb.so\"],"
            "\"DicomWeb\":{\"Enable\":true,\"Root\":\"/dicom-web/\",\"EnableWado\":true,"
            "\"WadoRoot\":\"/wado\",\"Host\":\"127.0.0.1:%d\",\"Ssl\":false}}\n",
            orthanc.dir, orthanc.dir, http_port, dicom_port, http_port);
    fclose(f);
}

static void
spawn(const char *config)
{
    char logdir[600];
    char logfile[600];

    snprintf(logdir, sizeof(logdir), "--logdir=%s", orthanc.dir);
    snprintf(logfile, sizeof(logfile), "%s/stdout.log", orthanc.dir);
    orthanc.pid = fork();
    ck_assert_int_ge(orthanc.pid, 0);
    if (orthanc.pid == 0) {
        int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test runner */
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("Orthanc", "Orthanc", logdir, config, (char *)NULL);
        _exit(127);
    }
}

static bool
wait_ready(void)
{
    for (int i = 0; i < 200; i++) { /* up to 20 s; usually 0.3 s */
        int st;

        if (waitpid(orthanc.pid, &st, WNOHANG) == orthanc.pid) {
            orthanc.pid = 0;
            return false;
        }
        if (rest("GET", "/system", NULL, 0, NULL, 0) == 200)
            return true;
        usleep(100000);
    }
    return false;
}

static void
upload_corpus(void)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("dicom"), ".dcm", &n);

    ck_assert_ptr_nonnull(files);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *data = tu_read_file(files[i], &len);

        /* the truncated and meta-less files are refused by Orthanc: fine */
        if (data != NULL && rest("POST", "/instances", data, len, NULL, 0) == 200)
            orthanc.uploaded++;
        free(data);
    }
    tu_free_list(files);
}

/* Copies of four patients' studies under PatientID PAGING-1 (Orthanc
 * modifies patients, not studies, when PatientID changes), so that one
 * patient has more studies than one page holds. */
static void
derive_paging_studies(void)
{
    static const char *const ids[] = {"77654033", "1CT1", "4MR1", "SCSFREN"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(ids); i++) {
        char body[256];
        char out[4096];
        json_t *arr = NULL;

        snprintf(body, sizeof(body), "{\"Level\":\"Patient\",\"Query\":{\"PatientID\":\"%s\"}}",
                 ids[i]);
        ck_assert_int_eq(rest("POST", "/tools/find", body, strlen(body), out, sizeof(out)), 200);
        ck_assert_int_eq(fhir_json_parse(out, strlen(out), NULL, &arr, NULL), BASE_OK);
        ck_assert_uint_eq(json_array_size(arr), 1);
        char path[128];
        snprintf(path, sizeof(path), "/patients/%s/modify",
                 json_string_value(json_array_get(arr, 0)));
        snprintf(body, sizeof(body),
                 "{\"Replace\":{\"PatientID\":\"PAGING-1\",\"PatientName\":\"Paging^Test\"},"
                 "\"Force\":true}");
        ck_assert_int_eq(rest("POST", path, body, strlen(body), NULL, 0), 200);
        json_decref(arr);
    }
}

/* A regional PACS holding two hospitals' patients under one PatientID:
 * copies of 4MR1's study as SHARED-1 of issuer HOSP_A, and of 1CT1's as
 * SHARED-1 of HOSP_B (Orthanc keys patients by PatientID alone). */
static void
derive_shared_patient_id(void)
{
    static const char *const ids[][2] = {{"4MR1", "HOSP_A"}, {"1CT1", "HOSP_B"}};

    for (size_t i = 0; i < BASE_ARRAY_LEN(ids); i++) {
        char body[256];
        char out[4096];
        char path[128];
        json_t *arr = NULL;

        snprintf(body, sizeof(body), "{\"Level\":\"Patient\",\"Query\":{\"PatientID\":\"%s\"}}",
                 ids[i][0]);
        ck_assert_int_eq(rest("POST", "/tools/find", body, strlen(body), out, sizeof(out)), 200);
        ck_assert_int_eq(fhir_json_parse(out, strlen(out), NULL, &arr, NULL), BASE_OK);
        ck_assert_uint_eq(json_array_size(arr), 1);
        snprintf(path, sizeof(path), "/patients/%s/modify",
                 json_string_value(json_array_get(arr, 0)));
        snprintf(body, sizeof(body),
                 "{\"Replace\":{\"PatientID\":\"SHARED-1\",\"IssuerOfPatientID\":\"%s\"},"
                 "\"Force\":true}",
                 ids[i][1]);
        ck_assert_int_eq(rest("POST", path, body, strlen(body), NULL, 0), 200);
        json_decref(arr);
    }
}

static void
orthanc_start(void)
{
    const char *tmp = getenv("FHIRGATE_TEST_TMP");
    char config[600];
    int dicom_port;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(&orthanc, 0, sizeof(orthanc));
    snprintf(orthanc.dir, sizeof(orthanc.dir), "%s/orthanc.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(orthanc.dir));
    orthanc.http_port = free_port();
    dicom_port = free_port();
    ck_assert_int_gt(orthanc.http_port, 0);
    snprintf(orthanc.base, sizeof(orthanc.base), "http://127.0.0.1:%d", orthanc.http_port);
    snprintf(orthanc.dicomweb, sizeof(orthanc.dicomweb), "%s/dicom-web", orthanc.base);
    snprintf(config, sizeof(config), "%s/orthanc.json", orthanc.dir);
    write_config(config, orthanc.http_port, dicom_port);
    spawn(config);
    ck_assert_msg(wait_ready(), "Orthanc did not start (log in %s)", orthanc.dir);
    upload_corpus();
    derive_paging_studies();
    derive_shared_patient_id();
}

static void
orthanc_kill(void)
{
    if (orthanc.pid <= 0)
        return;
    kill(orthanc.pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* a clean stop takes ~5 s */
        if (waitpid(orthanc.pid, NULL, WNOHANG) == orthanc.pid) {
            orthanc.pid = 0;
            return;
        }
        usleep(100000);
    }
    kill(orthanc.pid, SIGKILL);
    waitpid(orthanc.pid, NULL, 0);
    orthanc.pid = 0;
}

static void
orthanc_stop(void)
{
    char cmd[700];

    orthanc_kill();
    /* the storage folder goes with the scratch directory; remove it if ours */
    if (getenv("FHIRGATE_TEST_TMP") == NULL && strncmp(orthanc.dir, "/tmp/orthanc.", 13) == 0) {
        snprintf(cmd, sizeof(cmd), "%s", orthanc.dir);
        pid_t p = fork();
        if (p == 0) {
            execlp("rm", "rm", "-rf", cmd, (char *)NULL);
            _exit(127);
        }
        if (p > 0)
            waitpid(p, NULL, 0);
    }
    curl_global_cleanup();
}

/* ------------------------------------------------------------- helpers */

static struct dicomweb_pacs
pacs(void)
{
    struct dicomweb_pacs p = {.name = "orthanc-test",
                              .base_url = orthanc.dicomweb,
                              .auth = DICOMWEB_AUTH_BASIC,
                              .user = ORTHANC_USER,
                              .password = ORTHANC_PASS,
                              .allow_http = true,
                              .timeout_ms = 10000};
    return p;
}

static json_t *
query_ok(const struct dicomweb_pacs *p, const char *pid, enum dicomweb_level level)
{
    struct dicomweb_options opt = {.patient_ref = "Patient/p1"};
    struct base_err err = {0};
    json_t *studies = NULL;
    int rc = dicomweb_qido_patient(p, pid, level, NULL, &opt, &studies, &err);

    ck_assert_msg(rc == BASE_OK, "%s: %s", err.where, err.msg);
    return studies;
}

static long long
i_at(const json_t *v, const char *key)
{
    return json_integer_value(json_object_get(v, key));
}

/* --------------------------------------------------------------- tests */

START_TEST(corpus_uploaded)
{
    /* 15 files; the truncated, the meta-less and one odd charset file are refused */
    ck_assert_int_ge(orthanc.uploaded, 12);
}
END_TEST

START_TEST(studies_of_a_patient)
{
    struct dicomweb_pacs p = pacs();
    json_t *s = query_ok(&p, "4MR1", DICOMWEB_STUDIES);
    json_t *st = json_array_get(s, 0);

    ck_assert_uint_eq(json_array_size(s), 1);
    ck_assert_str_eq(tu_json_str(st, "resourceType"), "ImagingStudy");
    ck_assert_str_eq(tu_json_str(st, "identifier.0.system"), "urn:dicom:uid");
    ck_assert_str_eq(tu_json_str(st, "identifier.0.value"),
                     "urn:oid:1.3.6.1.4.1.5962.1.2.4.20040826185059.5457");
    ck_assert_str_eq(tu_json_str(st, "status"), "available");
    ck_assert_str_eq(tu_json_str(st, "modality.0.system"),
                     "http://dicom.nema.org/resources/ontology/DCM");
    ck_assert_str_eq(tu_json_str(st, "modality.0.code"), "MR");
    ck_assert_str_eq(tu_json_str(st, "subject.reference"), "Patient/p1");
    ck_assert_str_eq(tu_json_str(st, "subject.display"), "MR1 CompressedSamples");
    ck_assert_ptr_nonnull(strstr(tu_json_str(st, "started"), "2004-08-26"));
    ck_assert_int_eq(i_at(st, "numberOfSeries"), 1);
    ck_assert_int_ge(i_at(st, "numberOfInstances"), 1);
    ck_assert_str_eq(tu_json_str(st, "endpoint.0.reference"), "#wado");
    ck_assert_str_eq(tu_json_str(st, "contained.0.resourceType"), "Endpoint");
    ck_assert_str_eq(tu_json_str(st, "contained.0.address"), orthanc.dicomweb);
    ck_assert_str_eq(tu_json_str(st, "contained.0.connectionType.code"), "dicom-wado-rs");
    json_decref(s);
}
END_TEST

START_TEST(chinese_names)
{
    struct dicomweb_pacs p = pacs();
    json_t *utf8 = query_ok(&p, "X1EXAMPLE", DICOMWEB_STUDIES); /* ISO_IR 192 */
    json_t *gb = query_ok(&p, "X2EXAMPLE", DICOMWEB_STUDIES);   /* GB18030 */
    json_t *jp = query_ok(&p, "H31EXAMPLE", DICOMWEB_STUDIES);  /* ISO 2022 IR 87 */

    ck_assert_uint_eq(json_array_size(utf8), 1);
    ck_assert_str_eq(tu_json_str(utf8, "0.subject.display"), "王小東");
    ck_assert_uint_eq(json_array_size(gb), 1);
    ck_assert_str_eq(tu_json_str(gb, "0.subject.display"), "王小东");
    ck_assert_str_eq(tu_json_str(jp, "0.subject.display"), "山田太郎");
    json_decref(utf8);
    json_decref(gb);
    json_decref(jp);
}
END_TEST

START_TEST(series_and_instances)
{
    struct dicomweb_pacs p = pacs();
    json_t *s = query_ok(&p, "1CT1", DICOMWEB_INSTANCES);
    json_t *st = json_array_get(s, 0);

    ck_assert_uint_eq(json_array_size(s), 1);
    ck_assert_str_eq(tu_json_str(st, "series.0.uid"),
                     "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322");
    ck_assert_str_eq(tu_json_str(st, "series.0.modality.code"), "CT");
    ck_assert_str_eq(tu_json_str(st, "series.0.instance.0.sopClass.system"), "urn:ietf:rfc:3986");
    ck_assert_str_eq(tu_json_str(st, "series.0.instance.0.sopClass.code"),
                     "urn:oid:1.2.840.10008.5.1.4.1.1.2");
    ck_assert_int_eq(i_at(json_array_get(json_object_get(st, "series"), 0), "numberOfInstances"),
                     1);
    json_decref(s);
    /* series level only: no instances, body part from (0018,0015) */
    s = query_ok(&p, "77654033", DICOMWEB_SERIES);
    ck_assert_str_eq(tu_json_str(s, "0.series.0.modality.code"), "CR");
    ck_assert_str_eq(tu_json_str(s, "0.series.0.bodySite.code"), "122494005"); /* CSPINE */
    ck_assert_str_eq(tu_json_str(s, "0.series.0.bodySite.system"), "http://snomed.info/sct");
    ck_assert_ptr_null(json_object_get(
        json_array_get(json_object_get(json_array_get(s, 0), "series"), 0), "instance"));
    json_decref(s);
}
END_TEST

START_TEST(pages_through_many_studies)
{
    struct dicomweb_pacs p = pacs();
    struct base_err err = {0};
    json_t *s;

    p.page_size = 3;
    s = query_ok(&p, "PAGING-1", DICOMWEB_STUDIES);
    ck_assert_uint_eq(json_array_size(s), 4);
    json_decref(s);
    p.max_studies = 2;
    ck_assert_int_eq(dicomweb_qido_patient(&p, "PAGING-1", DICOMWEB_STUDIES, NULL, NULL, &s, &err),
                     BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "orthanc-test"));
}
END_TEST

/* The same PatientID from two issuers is two patients: the live answer for
 * HOSP_A's patient leaves HOSP_B's study out, and a Bundle keeps them
 * apart (regression: one Patient with both studies). */
START_TEST(shared_patient_id_of_two_issuers)
{
    struct dicomweb_pacs p = pacs();
    struct dicomweb_options opt = {.patient_ref = "Patient/p1", .patient_issuer = "HOSP_A"};
    struct base_err err = {0};
    json_t *s = NULL;
    json_t *b = NULL;

    ck_assert_int_eq(dicomweb_qido_patient(&p, "SHARED-1", DICOMWEB_SERIES, NULL, &opt, &s, &err),
                     BASE_OK);
    ck_assert_uint_eq(json_array_size(s), 1);
    ck_assert_str_eq(tu_json_str(s, "0.series.0.modality.code"), "MR"); /* 4MR1's */
    json_decref(s);
    ck_assert_int_eq(
        dicomweb_qido_patient_bundle(&p, "SHARED-1", DICOMWEB_STUDIES, NULL, NULL, &b, NULL, &err),
        BASE_OK);
    ck_assert_uint_eq(tu_bundle_count(b, "Patient"), 2);
    ck_assert_uint_eq(tu_bundle_count(b, "ImagingStudy"), 2);
    json_decref(b);
}
END_TEST

START_TEST(no_match_is_empty)
{
    struct dicomweb_pacs p = pacs();
    json_t *s = query_ok(&p, "NOBODY-HERE", DICOMWEB_SERIES);

    ck_assert(json_is_array(s));
    ck_assert_uint_eq(json_array_size(s), 0);
    json_decref(s);
}
END_TEST

static void
expect_error(const struct dicomweb_pacs *p, const char *pid, int rc, const char *words)
{
    struct base_err err = {0};
    json_t *s = NULL;

    ck_assert_int_eq(dicomweb_qido_patient(p, pid, DICOMWEB_STUDIES, NULL, NULL, &s, &err), rc);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err.msg, words) != NULL, "message '%s' lacks '%s'", err.msg, words);
    /* never the URL or the patient id */
    ck_assert_ptr_null(strstr(err.msg, "127.0.0.1"));
    ck_assert_ptr_null(strstr(err.msg, pid));
}

START_TEST(refused_credentials_and_bad_input)
{
    struct dicomweb_pacs p = pacs();

    p.password = "wrong";
    expect_error(&p, "4MR1", BASE_E_AUTH, "PACS orthanc-test refused the credentials");
    p = pacs();
    p.auth = DICOMWEB_AUTH_BEARER;
    p.token = "not-a-token";
    expect_error(&p, "4MR1", BASE_E_AUTH, "refused the credentials");
    p = pacs();
    expect_error(&p, "4MR*", BASE_E_INVALID, "patient id");
    expect_error(&p, "A\\B", BASE_E_INVALID, "patient id");
    p.allow_http = false; /* https only: a plain-http PACS is not used */
    expect_error(&p, "4MR1", BASE_E_UPSTREAM, "PACS orthanc-test");
    p = pacs();
    p.max_response = 64;
    expect_error(&p, "4MR1", BASE_E_LIMIT, "too large");
}
END_TEST

START_TEST(silent_pacs_times_out)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct dicomweb_pacs p = pacs();
    char url[128];
    struct timespec t0;
    struct timespec t1;

    /* listens (the kernel completes the handshake) but never answers */
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/dicom-web", ntohs(a.sin_port));
    p.base_url = url;
    p.name = "silent-pacs";
    p.timeout_ms = 800;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_error(&p, "4MR1", BASE_E_UPSTREAM, "PACS silent-pacs did not answer in time");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
    close(fd);
}
END_TEST

START_TEST(stopped_pacs_is_an_error)
{
    struct dicomweb_pacs p = pacs();
    json_t *s = query_ok(&p, "4MR1", DICOMWEB_STUDIES);

    json_decref(s);
    /* The PACS goes down.  This runs in Check's test child, which cannot
     * reap Orthanc (the runner's child): SIGKILL closes its sockets at once,
     * and the fixture's teardown reaps it. */
    kill(orthanc.pid, SIGKILL);
    usleep(300000);
    expect_error(&p, "4MR1", BASE_E_UPSTREAM, "could not connect to PACS orthanc-test");
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *dicomweb_qido_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("dicomweb_qido");
    TCase *tc = tcase_create("orthanc");

    tcase_add_unchecked_fixture(tc, orthanc_start, orthanc_stop);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, corpus_uploaded);
    tcase_add_test(tc, studies_of_a_patient);
    tcase_add_test(tc, chinese_names);
    tcase_add_test(tc, series_and_instances);
    tcase_add_test(tc, pages_through_many_studies);
    tcase_add_test(tc, shared_patient_id_of_two_issuers);
    tcase_add_test(tc, no_match_is_empty);
    tcase_add_test(tc, refused_credentials_and_bad_input);
    tcase_add_test(tc, silent_pacs_times_out);
    tcase_add_test(tc, stopped_pacs_is_an_error); /* last: it stops Orthanc */
    suite_add_tcase(s, tc);
    return s;
}
