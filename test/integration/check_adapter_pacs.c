/*
 * The adapter against a real PACS (issue #4): Orthanc with its DICOMweb
 * plugin on loopback, the corpus DICOM files uploaded.  A periodic sync
 * copies a patient's studies into the store; a live ImagingStudy search
 * (and $everything) asks the PACS at request time, Chinese names kept; and
 * with the PACS stopped the answer carries an OperationOutcome naming it —
 * never an empty success.
 */
#include "test/integration/adapter_it.h"

#include "fhir/base/limits.h"
#include "test/support/tu_orthanc.h"

#define PACS_NAME  "orthanc-test"
#define PID_SYSTEM "https://hosp-a.example/sid/id/PACS"

static struct tu_orthanc pacs;

/* Orthanc with the corpus DICOM files (the truncated and meta-less ones
 * are refused by Orthanc: fine). */
static void
pacs_start(void)
{
    size_t n = 0;
    char **files;

    mkdir(tu_tmpdir("ait-pacs"), 0755);
    ck_assert_msg(tu_orthanc_start(&pacs, tu_tmpdir("ait-pacs")), "Orthanc did not start");
    files = tu_list_dir(tu_corpus_path("dicom"), ".dcm", &n);
    ck_assert_ptr_nonnull(files);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *data = tu_read_file(files[i], &len);

        (void)tu_orthanc_rest(&pacs, "POST", "/instances", data, len);
        free(data);
    }
    tu_free_list(files);
}

/* Stopped by SIGKILL, as a crashed PACS would be. */
static void
pacs_stop(void)
{
    if (pacs.pid > 0) {
        kill(pacs.pid, SIGKILL);
        waitpid(pacs.pid, NULL, 0);
        pacs.pid = 0;
    }
}

static void
start_adapter(struct ait *t, const char *name, const char *mode)
{
    char extra[1500];
    char secret[700];
    FILE *f;

    snprintf(secret, sizeof(secret), "%s/pacs.password", tu_tmpdir("ait-pacs"));
    f = fopen(secret, "w");
    ck_assert_ptr_nonnull(f);
    fputs(TU_ORTHANC_PASS "\n", f);
    fclose(f);
    snprintf(extra, sizeof(extra),
             "[pacs]\nname = " PACS_NAME "\nqido_url = %s\nallow_http = true\nauth = basic\n"
             "user = " TU_ORTHANC_USER "\npassword = file:%s\nmode = %s\nsync_interval = 1s\n"
             "level = instances\npatient_id_system = " PID_SYSTEM "\ntimeout = 5s\n",
             pacs.dicomweb, secret, mode);
    ait_init(t, name, extra);
    ait_start(t);
}

/* An ADT^A01 for the PACS's PatientID `pid`; returns the local Patient id. */
static char *
admit(const struct ait *t, const char *pid, unsigned k)
{
    char msg[1024];
    char sql[300];
    char *id = NULL;
    int fd = ait_mllp_connect(t);
    char *ack;
    int n = snprintf(msg, sizeof(msg),
                     "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^A01^ADT_A01|"
                     "IMG%u|P|2.5.1\rEVN|A01|20261128101500\rPID|1||%s^^^PACS^MR||Img^Pat%u||"
                     "19800101|F\r",
                     k, pid, k);

    ait_mllp_send(fd, msg, (size_t)n);
    ack = ait_mllp_ack(fd, 10000);
    ck_assert_msg(ack != NULL && strcmp(ait_msa(ack), "AA") == 0, "ADT not accepted");
    free(ack);
    close(fd);
    snprintf(sql, sizeof(sql),
             "SELECT r.id FROM store.resource r JOIN store.identifier i ON i.res_pk = r.pk "
             "WHERE r.res_type = 'Patient' AND i.value = '%s'",
             pid);
    ck_assert_int_eq(pt_sql(t->db, sql, &id), 1);
    return id;
}

static json_t *
studies_of(const struct ait *t, const char *patient)
{
    char path[256];

    snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=%s", patient);
    return ait_get_json(t, path);
}

/* The OperationOutcome entry of a searchset, or NULL. */
static const json_t *
outcome_entry(const json_t *b)
{
    const json_t *e;
    size_t i;

    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        if (strcmp(tu_json_str(e, "resource.resourceType"), "OperationOutcome") == 0)
            return e;
    }
    return NULL;
}

START_TEST(sync_copies_studies_into_the_store)
{
    struct ait t;
    char *mr;
    json_t *b;
    long n = 0;

    start_adapter(&t, "ait-pacs-sync", "sync");
    mr = admit(&t, "4MR1", 1);
    for (int i = 0; i < 150 && n == 0; i++) {
        usleep(100000);
        n = ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = 'ImagingStudy'");
    }
    if (n != 1)
        ait_dump_log(&t);
    ck_assert_int_eq(n, 1);
    b = studies_of(&t, mr);
    ait_assert_valid(b, "searchset");
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.identifier.0.value"),
                     "urn:oid:1.3.6.1.4.1.5962.1.2.4.20040826185059.5457");
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.modality.0.code"), "MR");
    json_decref(b);
    /* another round changes nothing */
    usleep(2500000);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'ImagingStudy' AND version > 1"),
                     0);
    free(mr);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

/* An imaging centre: no HIS feed, so `discover` takes every patient the PACS
 * holds (Patient from the DICOM patient module, studies), and a repeat changes
 * nothing. */
START_TEST(discover_takes_every_pacs_patient)
{
    struct ait t;
    char *body = NULL;
    size_t len = 0;
    json_t *sts;
    json_t *ids = json_object();
    json_t *st;
    size_t k;
    long want_patients;
    long want_studies = 0;
    long n = 0;

    /* What the PACS holds under a PatientID (a study without one cannot be
     * asked for by patient, so it is not expected). */
    ck_assert_int_eq(tu_orthanc_get(&pacs, "/dicom-web/studies?includefield=00100020",
                                    "application/dicom+json", &body, &len),
                     200);
    sts = json_loads(body, 0, NULL);
    free(body);
    json_array_foreach(sts, k, st)
    {
        const char *pid = json_string_value(
            json_array_get(json_object_get(json_object_get(st, "00100020"), "Value"), 0));

        if (pid == NULL || pid[0] == '\0')
            continue;
        want_studies++;
        json_object_set_new(ids, pid, json_true());
    }
    want_patients = (long)json_object_size(ids);
    json_decref(sts);
    json_decref(ids);
    ck_assert_int_gt(want_patients, 1);
    start_adapter(&t, "ait-pacs-discover", "sync\ndiscover = true");
    for (int i = 0; i < 300 && n < want_studies; i++) {
        usleep(100000);
        n = ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = 'ImagingStudy'");
    }
    if (n != want_studies)
        ait_dump_log(&t);
    ck_assert_int_eq(n, want_studies);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'Patient'"),
                     want_patients);
    /* another round changes nothing */
    usleep(2500000);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type IN "
                                   "('Patient', 'ImagingStudy') AND version > 1"),
                     0);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

/* -------------------------------------------- a PACS behind a token -- */

#define PACS_TOKEN "tok-7c1e0f"

/* nginx in front of Orthanc the way sites put a token gateway before a
 * PACS: a request without `Authorization: Bearer PACS_TOKEN` gets 401,
 * the others go on to Orthanc with its Basic credentials.  Foreground
 * (daemon off), dies with the runner; the port in *port. */
static pid_t
token_proxy(unsigned *port)
{
    const char *d = tu_tmpdir("ait-pacs-nginx");
    char conf[700];
    char errlog[700];

    mkdir(d, 0755);
    chmod(d, 0755);
    snprintf(conf, sizeof(conf), "%s/nginx.conf", d);
    snprintf(errlog, sizeof(errlog), "%s/nginx.err", d);
    for (int attempt = 0; attempt < 5; attempt++) {
        FILE *f = fopen(conf, "w");
        pid_t pid;

        *port = (unsigned)ait_free_port();
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s warn;\n"
                "events { worker_connections 64; }\n"
                "http { access_log off; client_body_temp_path %s/t; proxy_temp_path %s/t;\n"
                "  fastcgi_temp_path %s/t; uwsgi_temp_path %s/t; scgi_temp_path %s/t;\n"
                "  server { listen 127.0.0.1:%u;\n"
                "    location / {\n"
                "      if ($http_authorization != \"Bearer " PACS_TOKEN "\") { return 401; }\n"
                "      proxy_buffering off; proxy_pass %s;\n"
                "      proxy_set_header Authorization \"Basic Z2F0ZXdheTpzM2NyZXQ=\"; } } }\n",
                d, errlog, d, d, d, d, d, *port, pacs.base);
        fclose(f);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            execlp("nginx", "nginx", "-e", errlog, "-p", d, "-c", conf, (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 50; i++) {
            int fd;

            if (waitpid(pid, NULL, WNOHANG) == pid)
                break; /* the port was taken: another one */
            if ((fd = tu_tcp_connect(*port)) >= 0) {
                close(fd);
                return pid;
            }
            usleep(100000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    ck_abort_msg("nginx does not start (deploy/install-deps.sh installs it)");
    return -1;
}

/* [pacs] auth = bearer: the token goes to the PACS (through a proxy that
 * refuses requests without it) and the live search answers. */
START_TEST(live_search_with_a_bearer_token)
{
    unsigned port = 0;
    pid_t proxy = token_proxy(&port);
    struct tu_http_resp r = {0};
    struct tu_http_opts o = {0};
    char extra[1500];
    char secret[700];
    char url[200];
    struct ait t;
    char *mr;
    json_t *b;
    FILE *f;

    /* the proxy really refuses a request without the token */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/dicom-web/studies", port);
    o.method = "GET";
    o.timeout_ms = 10000;
    tu_http_request(url, &o, &r);
    ck_assert_int_eq(r.status, 401);
    tu_http_resp_free(&r);
    snprintf(secret, sizeof(secret), "%s/pacs.token", tu_tmpdir("ait-pacs-nginx"));
    f = fopen(secret, "w");
    ck_assert_ptr_nonnull(f);
    fputs(PACS_TOKEN "\n", f);
    fclose(f);
    snprintf(extra, sizeof(extra),
             "[pacs]\nname = " PACS_NAME "\nqido_url = http://127.0.0.1:%u/dicom-web\n"
             "allow_http = true\nauth = bearer\ntoken = file:%s\nmode = live\n"
             "level = studies\npatient_id_system = " PID_SYSTEM "\ntimeout = 5s\n",
             port, secret);
    ait_init(&t, "ait-pacs-bearer", extra);
    ait_start(&t);
    mr = admit(&t, "1CT1", 4);
    b = studies_of(&t, mr);
    ait_assert_valid(b, "searchset");
    ck_assert_ptr_null(outcome_entry(b));
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.subject.reference") + 8, mr);
    json_decref(b);
    free(mr);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
    kill(proxy, SIGTERM);
    waitpid(proxy, NULL, 0);
}
END_TEST

/* As many patients as one search parameter takes (the gateway's limit
 * too): each asked, the one the PACS knows answered. */
static void
most_patients(const struct ait *t, const char *mr)
{
    char path[2048];
    size_t len = (size_t)snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=Patient/%s", mr);
    json_t *b;

    for (unsigned i = 1; i < BASE_LIMIT_SEARCH_MAX_OR_VALUES; i++)
        len += (size_t)snprintf(path + len, sizeof(path) - len, ",Patient/p%u", i);
    ck_assert_uint_lt(len, sizeof(path) - 1);
    b = ait_get_json(t, path);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    json_decref(b);
}

START_TEST(live_search_then_pacs_down)
{
    struct ait t;
    char *mr;
    char *zh;
    json_t *b;
    const json_t *oo;
    struct tu_http_resp r = {0};
    char study[80];
    char path[256];

    start_adapter(&t, "ait-pacs-live", "live");
    mr = admit(&t, "1CT1", 2);
    zh = admit(&t, "X1EXAMPLE", 3);
    b = studies_of(&t, mr);
    ait_assert_valid(b, "searchset");
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_str_eq(tu_json_str(b, "entry.0.search.mode"), "match");
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.series.0.modality.code"), "CT");
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.contained.0.resourceType"), "Endpoint");
    ck_assert_int_eq(strncmp(tu_json_str(b, "entry.0.resource.subject.reference"), "Patient/", 8),
                     0);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.subject.reference") + 8, mr);
    snprintf(study, sizeof(study), "%s", tu_json_str(b, "entry.0.resource.id"));
    json_decref(b);
    /* the study a live search served reads back by id (nothing stored) */
    snprintf(path, sizeof(path), "/fhir/ImagingStudy/%s", study);
    b = ait_get_json(&t, path);
    ait_assert_valid(b, "ImagingStudy");
    ck_assert_str_eq(tu_json_str(b, "resourceType"), "ImagingStudy");
    ck_assert_str_eq(tu_json_str(b, "id"), study);
    ck_assert_str_eq(tu_json_str(b, "subject.reference") + 8, mr);
    json_decref(b);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&t, AIT_GATEWAY, "GET",
                              "/fhir/ImagingStudy/00000000-0000-5000-8000-000000000000", NULL, 0,
                              &r),
                     404);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    /* ISO_IR 192: the ideographic name survives */
    b = studies_of(&t, zh);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.subject.display"), "王小東");
    json_decref(b);
    /* The gateway's form: every local record of the person as one OR
     * list, its other parameters passed through, offset paging. */
    snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=Patient/%s,Patient/%s&_count=10", mr,
             zh);
    b = ait_get_json(&t, path);
    ait_assert_valid(b, "searchset");
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 2);
    ck_assert_ptr_null(outcome_entry(b));
    json_decref(b);
    snprintf(path, sizeof(path),
             "/fhir/ImagingStudy?patient=Patient/%s,Patient/%s&modality=CT&_count=10", mr, zh);
    b = ait_get_json(&t, path);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.subject.reference") + 8, mr);
    json_decref(b);
    snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=Patient/%s,Patient/%s&_count=1", mr,
             zh);
    b = ait_get_json(&t, path);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_ptr_nonnull(ait_link(b, "next"));
    ck_assert_ptr_nonnull(strstr(ait_link(b, "next"), "_offset=1"));
    json_decref(b);
    snprintf(path, sizeof(path),
             "/fhir/ImagingStudy?patient=Patient/%s,Patient/%s&_count=1&_offset=1", mr, zh);
    b = ait_get_json(&t, path);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_ptr_null(ait_link(b, "next"));
    json_decref(b);
    /* _summary=count, _elements and refusals as for stored searches */
    snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=Patient/%s,Patient/%s&_summary=count",
             mr, zh);
    b = ait_get_json(&t, path);
    ait_assert_valid(b, "searchset");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 0);
    json_decref(b);
    snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=%s&_elements=modality", mr);
    b = ait_get_json(&t, path);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.modality.0.code"), "CT");
    ck_assert_ptr_null(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "entry"), 0), "resource"), "series"));
    ck_assert(ait_json_has(b, "SUBSETTED"));
    json_decref(b);
    /* _summary=true on live answers: R4's summary elements, tagged */
    snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=%s&_summary=true", mr);
    b = ait_get_json(&t, path);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.modality.0.code"), "CT");
    ck_assert_ptr_nonnull(tu_json_at(b, "entry.0.resource.subject"));
    ck_assert(ait_json_has(b, "SUBSETTED"));
    json_decref(b);
    /* an unknown local patient among them asks nothing for it */
    snprintf(path, sizeof(path), "/fhir/ImagingStudy?patient=Patient/%s,Patient/no-such&_count=10",
             mr);
    b = ait_get_json(&t, path);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    json_decref(b);
    most_patients(&t, mr);
    /* nothing stored: live is live */
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'ImagingStudy'"),
                     0);
    /* $everything carries the live studies */
    snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything", mr);
    b = ait_get_json(&t, path);
    ait_assert_valid(b, "$everything");
    ck_assert(ait_json_has(b, "\"ImagingStudy\""));
    json_decref(b);
    /* start/end select live studies by their start, as the store does */
    {
        char dated[256];

        snprintf(dated, sizeof(dated), "/fhir/Patient/%s/$everything?start=1900&end=2999", mr);
        b = ait_get_json(&t, dated);
        ck_assert(ait_json_has(b, "\"ImagingStudy\""));
        json_decref(b);
        snprintf(dated, sizeof(dated), "/fhir/Patient/%s/$everything?start=3000", mr);
        b = ait_get_json(&t, dated);
        ait_assert_valid(b, "$everything");
        ck_assert(!ait_json_has(b, "\"ImagingStudy\""));
        json_decref(b);
    }
    /* The PACS goes down: an OperationOutcome naming it, not silence. */
    pacs_stop();
    b = studies_of(&t, mr);
    ait_assert_valid(b, "searchset");
    oo = outcome_entry(b);
    ck_assert_ptr_nonnull(oo);
    ck_assert_str_eq(tu_json_str(oo, "search.mode"), "outcome");
    ck_assert_ptr_nonnull(strstr(tu_json_str(oo, "resource.issue.0.diagnostics"), PACS_NAME));
    ck_assert_str_eq(tu_json_str(oo, "resource.issue.0.severity"), "error");
    json_decref(b);
    b = ait_get_json(&t, path);
    ck_assert_ptr_nonnull(outcome_entry(b));
    json_decref(b);
    /* a read of a live study: the PACS's failure, named, never a 404 */
    snprintf(path, sizeof(path), "/fhir/ImagingStudy/%s", study);
    memset(&r, 0, sizeof(r));
    ait_http(&t, AIT_GATEWAY, "GET", path, NULL, 0, &r);
    ck_assert_msg(r.status == 502 || r.status == 504, "PACS down, read: %ld", r.status);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    ck_assert_ptr_nonnull(strstr(r.body, PACS_NAME));
    tu_http_resp_free(&r);
    free(mr);
    free(zh);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

Suite *
adapter_pacs_suite(void)
{
    Suite *s = suite_create("adapter_pacs");
    TCase *tc = tcase_create("pacs");

    tcase_set_timeout(tc, 600);
    tcase_add_unchecked_fixture(tc, pacs_start, pacs_stop);
    /* the live test stops the PACS: it runs last */
    tcase_add_test(tc, sync_copies_studies_into_the_store);
    tcase_add_test(tc, discover_takes_every_pacs_patient);
    tcase_add_test(tc, live_search_with_a_bearer_token);
    tcase_add_test(tc, live_search_then_pacs_down);
    suite_add_tcase(s, tc);
    return s;
}
