/*
 * DICOM JSON -> FHIR for what real PACS sent in the 2026-11 PACS sweep
 * (docs/design/converters.md, "Second sweep"): the same PatientID under two
 * issuers on one regional PACS, Issuer of Patient ID Qualifiers and Issuer
 * of Accession Number, ACR-NEMA dates and times passed on by Orthanc, CS
 * values in lower case, and answers with empty values, bulk data and
 * series of SR/KO/PR objects.  Every input is hand-written after what
 * Orthanc 1.10 / DICOMweb 1.7 answered for files made with dcmtk.
 */
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapters/dicomweb/dicomweb.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/jsonpath.h"
#include "test/support/testutil.h"

#define UID                "1.2.826.0.1.3680043.8.498.7700"
#define ATTR_S(tag, vr, v) "\"" tag "\":{\"vr\":\"" vr "\",\"Value\":[\"" v "\"]}"
#define TEXT50             "Ultrasound of the abdomen, liver, gallbladder, kid"
#define TEXT100            TEXT50 TEXT50

/* A study-level QIDO answer for PatientID SW-ISS holding two patients:
 * Li Hua of HOSP_A and another person of HOSP_B (a shared PACS). */
// clang-format off
static const char two_issuers[] =
    "[{" ATTR_S("0020000D", "UI", UID ".4") ","
    ATTR_S("00100020", "LO", "SW-ISS") ","
    ATTR_S("00100021", "LO", "HOSP_A") ","
    "\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Li^Hua\"}]}},"
    "{" ATTR_S("0020000D", "UI", UID ".7") ","
    ATTR_S("00100020", "LO", "SW-ISS") ","
    ATTR_S("00100021", "LO", "HOSP_B") ","
    "\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Other^Person\"}]}},"
    /* a series of the HOSP_B study (series answers carry no issuer) */
    "{" ATTR_S("0020000D", "UI", UID ".7") ","
    ATTR_S("0020000E", "UI", UID ".7.1") ","
    ATTR_S("00080060", "CS", "CT") "}]";
// clang-format on

static json_t *
convert(const char *text, const struct dicomweb_options *opt, json_t **warnings)
{
    struct base_err err = {0};
    json_t *b = NULL;

    ck_assert_msg(dicomweb_to_bundle(text, strlen(text), NULL, opt, &b, warnings, &err) == BASE_OK,
                  "%s: %s", err.where, err.msg);
    ck_assert_int_eq(fhir_validate(b, NULL, NULL, NULL, NULL), BASE_OK);
    return b;
}

/* The resources of one type in a Bundle, in order. */
static json_t *
of_type(const json_t *bundle, const char *type)
{
    json_t *out = json_array();
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        if (strcmp(tu_json_str(e, "resource.resourceType"), type) == 0)
            json_array_append(out, json_object_get(e, "resource"));
    }
    return out;
}

static const char *
full_url_of(const json_t *bundle, const json_t *res)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        if (json_object_get(e, "resource") == res)
            return tu_json_str(e, "fullUrl");
    }
    return "";
}

/* Regression: without a configured issuer the two patients were one
 * Patient (urn:fhirgate:dicom:patient-id|SW-ISS), and the HOSP_B study
 * pointed at Li Hua. */
START_TEST(same_patient_id_two_issuers_stay_two_patients)
{
    json_t *b = convert(two_issuers, NULL, NULL);
    json_t *patients = of_type(b, "Patient");
    json_t *studies = of_type(b, "ImagingStudy");

    ck_assert_uint_eq(json_array_size(patients), 2);
    ck_assert_uint_eq(json_array_size(studies), 2);
    ck_assert_str_eq(tu_json_str(patients, "0.identifier.0.system"),
                     "urn:fhirgate:dicom:patient-id:HOSP_A");
    ck_assert_str_eq(tu_json_str(patients, "1.identifier.0.system"),
                     "urn:fhirgate:dicom:patient-id:HOSP_B");
    for (size_t i = 0; i < 2; i++)
        ck_assert_str_eq(tu_json_str(json_array_get(studies, i), "subject.reference"),
                         full_url_of(b, json_array_get(patients, i)));
    json_decref(patients);
    json_decref(studies);
    json_decref(b);
}
END_TEST

/* With the member's issuer known, another issuer's study never gets the
 * member's patient: left out of a live answer (patient_ref), and of a
 * Bundle when that issuer has no OID to name its patient by. */
START_TEST(foreign_issuer_is_not_the_members_patient)
{
    struct dicomweb_options opt = {.patient_ref = "Patient/7", .patient_issuer = "HOSP_A"};
    struct base_err err = {0};
    json_t *ds = NULL;
    json_t *studies = NULL;
    json_t *warnings = NULL;

    ck_assert_int_eq(dicomweb_parse(two_issuers, strlen(two_issuers), NULL, &ds, &err), BASE_OK);
    ck_assert_int_eq(dicomweb_studies(ds, &opt, &studies, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(studies), 1);
    ck_assert_str_eq(tu_json_str(studies, "0.identifier.0.value"), "urn:oid:" UID ".4");
    ck_assert_ptr_null(json_object_get(json_array_get(studies, 0), "series"));
    json_decref(studies);
    json_decref(ds);

    opt = (struct dicomweb_options){.patient_id_system = "http://hosp-a.example/mrn",
                                    .patient_issuer = "HOSP_A"};
    json_t *b = convert(two_issuers, &opt, &warnings);
    json_t *patients = of_type(b, "Patient");
    ck_assert_uint_eq(json_array_size(patients), 1);
    ck_assert_str_eq(tu_json_str(patients, "0.identifier.0.system"), "http://hosp-a.example/mrn");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.expression.0"), "dataset[1]");
    json_decref(patients);
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* PS3.3 10.14: the issuer's OID in Universal Entity ID (0040,0032) of the
 * Issuer of Patient ID Qualifiers (0010,0024) — what dcm4chee-arc and IHE
 * PIX-style feeds write — names the record-number system; a
 * patient_id_system "urn:oid:" of that OID makes it the member's own, and
 * another OID a foreign issuer whose Patient keeps its own system. */
START_TEST(issuer_qualifiers_name_the_system)
{
    // clang-format off
    static const char text[] =
        "[{" ATTR_S("0020000D", "UI", UID ".4") ","
        ATTR_S("00100020", "LO", "SW-ISS") ","
        ATTR_S("00100021", "LO", "HOSP_A") ","
        "\"00100024\":{\"vr\":\"SQ\",\"Value\":[{"
        ATTR_S("00400032", "UT", "2.16.156.99.1") "," ATTR_S("00400033", "CS", "ISO") "}]},"
        /* Other Patient IDs: the resident identity number, its issuer only
         * in the qualifiers */
        "\"00101002\":{\"vr\":\"SQ\",\"Value\":[{"
        ATTR_S("00100020", "LO", "110101199003070000") ","
        "\"00100024\":{\"vr\":\"SQ\",\"Value\":[{"
        ATTR_S("00400032", "UT", "2.16.156.10011.1.3") "}]}}]},"
        "\"00080051\":{\"vr\":\"SQ\",\"Value\":[{"
        ATTR_S("00400031", "UT", "RIS_A") ","
        ATTR_S("00400032", "UT", "1.2.156.112604.1.2.1") ","
        ATTR_S("00400033", "CS", "ISO") "}]},"
        ATTR_S("00080050", "SH", "ACC-77") "},"
        /* the same PatientID from an issuer named by another OID */
        "{" ATTR_S("0020000D", "UI", UID ".9") ","
        ATTR_S("00100020", "LO", "SW-ISS") ","
        "\"00100024\":{\"vr\":\"SQ\",\"Value\":[{"
        ATTR_S("00400032", "UT", "2.16.156.99.2") "}]}}]";
    // clang-format on
    json_t *b = convert(text, NULL, NULL);
    json_t *patients = of_type(b, "Patient");
    json_t *studies = of_type(b, "ImagingStudy");

    ck_assert_uint_eq(json_array_size(patients), 2);
    ck_assert_str_eq(tu_json_str(patients, "0.identifier.0.system"), "urn:oid:2.16.156.99.1");
    ck_assert_str_eq(tu_json_str(patients, "0.identifier.1.system"), "urn:oid:2.16.156.10011.1.3");
    ck_assert_str_eq(tu_json_str(patients, "0.identifier.1.value"), "110101199003070000");
    ck_assert_str_eq(tu_json_str(patients, "1.identifier.0.system"), "urn:oid:2.16.156.99.2");
    ck_assert_str_eq(tu_json_str(studies, "0.identifier.1.system"), "urn:oid:1.2.156.112604.1.2.1");
    ck_assert_str_eq(tu_json_str(studies, "0.identifier.1.value"), "ACC-77");
    ck_assert_str_eq(tu_json_str(studies, "0.identifier.1.assigner.display"), "RIS_A");
    json_decref(patients);
    json_decref(studies);
    json_decref(b);

    struct dicomweb_options opt = {.patient_id_system = "urn:oid:2.16.156.99.1"};
    b = convert(text, &opt, NULL);
    patients = of_type(b, "Patient");
    ck_assert_uint_eq(json_array_size(patients), 2);
    ck_assert_str_eq(tu_json_str(patients, "0.identifier.0.system"), "urn:oid:2.16.156.99.1");
    ck_assert_str_eq(tu_json_str(patients, "1.identifier.0.system"), "urn:oid:2.16.156.99.2");
    json_decref(patients);
    json_decref(b);

    /* the member's OID system and a PACS that names the issuer only by a
     * local name: the member's study stays (it cannot be told foreign) */
    struct base_err err = {0};
    json_t *ds = NULL;
    json_t *live = NULL;
    opt.patient_ref = "Patient/7";
    ck_assert_int_eq(dicomweb_parse(two_issuers, strlen(two_issuers), NULL, &ds, &err), BASE_OK);
    ck_assert_int_eq(dicomweb_studies(ds, &opt, &live, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(live), 2);
    json_decref(live);
    json_decref(ds);
}
END_TEST

/* PS3.5 6.2: readers should accept the ACR-NEMA "yyyy.mm.dd" and
 * "hh:mm:ss.frac"; Orthanc passes them (and "yyyy-mm-dd") on as they are.
 * CS values in lower case (sex, body part, laterality) still say what they
 * mean.  Regression: started, birthDate, gender, the SNOMED body site and
 * the laterality were lost. */
START_TEST(acr_nema_dates_and_lower_case_codes)
{
    // clang-format off
    static const char text[] =
        "[{" ATTR_S("0020000D", "UI", UID ".8") ","
        ATTR_S("0020000E", "UI", UID ".8.1") ","
        ATTR_S("00100020", "LO", "SW-BAD") ","
        ATTR_S("00080020", "DA", "2024.03.15") ","
        ATTR_S("00080030", "TM", "09:30:15.123") ","
        ATTR_S("00080201", "SH", "+0800") ","
        ATTR_S("00080021", "DA", "2024-03-15") ","
        ATTR_S("00100030", "DA", "1990.02.03") ","
        ATTR_S("00100040", "CS", "f") ","
        ATTR_S("00180015", "CS", "Chest") ","
        ATTR_S("00200060", "CS", "l") "}]";
    // clang-format on
    json_t *b = convert(text, NULL, NULL);
    json_t *patients = of_type(b, "Patient");
    json_t *p = json_array_get(patients, 0);
    json_t *studies = of_type(b, "ImagingStudy");

    ck_assert_str_eq(tu_json_str(studies, "0.started"), "2024-03-15T09:30:15.123+08:00");
    ck_assert_str_eq(tu_json_str(studies, "0.series.0.started"), "2024-03-15");
    ck_assert_str_eq(tu_json_str(studies, "0.series.0.bodySite.code"), "43799004");
    ck_assert_str_eq(tu_json_str(studies, "0.series.0.laterality.code"), "7771000");
    ck_assert_str_eq(tu_json_str(p, "birthDate"), "1990-02-03");
    ck_assert_str_eq(tu_json_str(p, "gender"), "female");
    json_decref(patients);
    json_decref(studies);
    json_decref(b);
}
END_TEST

/* What else the sweep's answers held, read as it means: no Study Date
 * (no started), an empty Value array, modality left out (OT), IS/DS as
 * padded or signed strings, an InlineBinary and a BulkDataURI, SR/KO/PR
 * series, a retired attribute, a Study Description beyond LO's 64. */
START_TEST(sweep_answers_map_to_valid_fhir)
{
    // clang-format off
    static const char text[] =
        "[{" ATTR_S("0020000D", "UI", UID ".6") ","
        "\"00080020\":{\"vr\":\"DA\",\"Value\":[]},"
        "\"00080061\":{\"vr\":\"CS\"},"
        ATTR_S("00201206", "IS", "  3") ","
        ATTR_S("00101030", "DS", "+1e3") ","
        ATTR_S("00101020", "DS", "  1.50") ","
        /* retired Data Set Type (0008,0040) */
        "\"00080040\":{\"vr\":\"US\",\"Value\":[1]},"
        "\"00081030\":{\"vr\":\"LO\",\"Value\":[\"" TEXT100 "\"]},"
        "\"00091010\":{\"vr\":\"OB\",\"InlineBinary\":\"AAEC\"},"
        "\"7FE00010\":{\"vr\":\"OW\",\"BulkDataURI\":\"http://pacs/bulk/1\"}},"
        "{" ATTR_S("0020000D", "UI", UID ".6") ","
        ATTR_S("0020000E", "UI", UID ".6.1") ","
        ATTR_S("00080060", "CS", "SR") ","
        ATTR_S("00201209", "IS", "1") "},"
        "{" ATTR_S("0020000D", "UI", UID ".6") ","
        ATTR_S("0020000E", "UI", UID ".6.2") ","
        ATTR_S("00080060", "CS", "KO") "},"
        "{" ATTR_S("0020000D", "UI", UID ".6") ","
        ATTR_S("0020000E", "UI", UID ".6.3") ","
        ATTR_S("00080016", "UI", "1.2.840.10008.5.1.4.1.1.11.1") ","
        ATTR_S("00080018", "UI", UID ".6.3.1") ","
        ATTR_S("00200013", "IS", "+5") "},"
        "{" ATTR_S("0020000D", "UI", UID ".6") ","
        ATTR_S("0020000E", "UI", UID ".6.4") "}]";
    // clang-format on
    json_t *b = convert(text, NULL, NULL);
    json_t *studies = of_type(b, "ImagingStudy");
    json_t *st = json_array_get(studies, 0);

    ck_assert_ptr_null(json_object_get(st, "started"));
    ck_assert_int_eq(json_integer_value(json_object_get(st, "numberOfSeries")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(st, "series")), 4);
    ck_assert_str_eq(tu_json_str(st, "series.0.modality.code"), "SR");
    ck_assert_str_eq(tu_json_str(st, "series.1.modality.code"), "KO");
    ck_assert_str_eq(tu_json_str(st, "series.2.modality.code"), "OT");
    ck_assert_str_eq(tu_json_str(st, "series.2.instance.0.uid"), UID ".6.3.1");
    ck_assert_int_eq(json_integer_value(tu_json_at(st, "series.2.instance.0.number")), 5);
    ck_assert_uint_eq(strlen(tu_json_str(st, "description")), 100);
    json_decref(studies);
    json_decref(b);
}
END_TEST

/* A PACS whose own maximum (2 results) is below the client's limit (3),
 * as PS3.18 8.3.4.4 lets an origin server: each capped page says "Warning:
 * 299" that more can be requested; 5 studies in all.  It answers one
 * request a connection, records the offsets asked, and stops when its
 * listening socket is shut down. */
struct capped_pacs {
    int fd;
    int offsets[8];
    int seen;
};

static void *
capped_pacs_run(void *arg)
{
    struct capped_pacs *c = arg;

    for (;;) {
        char req[2048];
        char body[1024];
        char resp[1536];
        size_t blen = 0;
        int fd = accept(c->fd, NULL, NULL);
        ssize_t got = fd >= 0 ? read(fd, req, sizeof(req) - 1) : -1;
        const char *off;
        int offset;
        int count;

        if (fd < 0)
            return NULL; /* shut down */
        if (got <= 0) {
            close(fd);
            continue;
        }
        req[got] = '\0';
        off = strstr(req, "offset=");
        offset = off != NULL ? atoi(off + 7) : 0;
        if (c->seen < 8)
            c->offsets[c->seen++] = offset;
        count = offset >= 5 ? 0 : (5 - offset < 2 ? 5 - offset : 2);
        blen += (size_t)snprintf(body + blen, sizeof(body) - blen, "[");
        for (int i = 0; i < count; i++)
            blen += (size_t)snprintf(body + blen, sizeof(body) - blen,
                                     "%s{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"" UID ".%d\"]},"
                                     "\"00100020\":{\"vr\":\"LO\",\"Value\":[\"SW-PAGE\"]}}",
                                     i > 0 ? "," : "", 100 + offset + i);
        blen += (size_t)snprintf(body + blen, sizeof(body) - blen, "]");
        int n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\n"
                         "%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         offset + count < 5 ? "Warning: 299 capped-pacs: There are additional "
                                              "results that can be requested\r\n"
                                            : "",
                         blen, body);
        if (write(fd, resp, (size_t)n) != n)
            c->seen = 99; /* the test fails on the count */
        close(fd);
    }
    return NULL;
}

/* Regression: the client stopped at the first short page (2 < 3) and, had
 * it gone on, would have asked offset 3 and skipped a study. */
START_TEST(paging_follows_a_pacs_with_a_lower_maximum)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    struct capped_pacs c = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct base_err err = {0};
    json_t *studies = NULL;
    pthread_t t;
    char url[96];

    ck_assert_int_eq(bind(c.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(c.fd, 4), 0);
    ck_assert_int_eq(getsockname(c.fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/dicom-web", ntohs(a.sin_port));
    ck_assert_int_eq(pthread_create(&t, NULL, capped_pacs_run, &c), 0);
    struct dicomweb_pacs p = {.name = "capped-pacs",
                              .base_url = url,
                              .allow_http = true,
                              .page_size = 3,
                              .timeout_ms = 5000};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = dicomweb_qido_patient(&p, "SW-PAGE", DICOMWEB_STUDIES, NULL, NULL, &studies, &err);
    shutdown(c.fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(t, NULL);
    close(c.fd);
    ck_assert_msg(rc == BASE_OK, "%s", err.msg);
    ck_assert_uint_eq(json_array_size(studies), 5);
    /* three pages (then the Other Patient IDs lookup, PS3.18 10.4) */
    ck_assert_int_ge(c.seen, 3);
    ck_assert_int_eq(c.offsets[0], 0);
    ck_assert_int_eq(c.offsets[1], 2);
    ck_assert_int_eq(c.offsets[2], 4);
    ck_assert_str_eq(tu_json_str(studies, "4.identifier.0.value"), "urn:oid:" UID ".104");
    json_decref(studies);
    curl_global_cleanup();
}
END_TEST

/* Binary values copied into DICOM JSON keep their PS3.5 6.2 padding: a
 * trailing NUL (UI, and wrongly LO/SH) arrives as "\u0000" before the
 * closing quote.  It is padding, not content: read without it.  A NUL
 * inside a value is still refused, and an escaped backslash before
 * "u0000" is text, not an escape. */
START_TEST(nul_padding_is_not_part_of_a_value)
{
    // clang-format off
    static const char padded[] =
        "[{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"" UID ".9\\u0000\"]},"
        ATTR_S("00100020", "LO", "SW-NUL") ","
        "\"00081030\":{\"vr\":\"LO\",\"Value\":[\"CT1 abdomen\\u0000\\u0000\"]},"
        "\"00081032\":{\"vr\":\"SQ\",\"Value\":[{"
            "\"00080100\":{\"vr\":\"SH\",\"Value\":[\"CTABDOM\\u0000\"]},"
            "\"00080104\":{\"vr\":\"LO\",\"Value\":[\"CT1 abdomen\"]}}]},"
        "\"00081060\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Wang^Wei\"}]},"
        "\"0008103E\":{\"vr\":\"LO\",\"Value\":[\"C:\\\\u0000\"]}}]";
    static const char inner[] =
        "[{" ATTR_S("0020000D", "UI", UID ".9") ","
        "\"00081030\":{\"vr\":\"LO\",\"Value\":[\"CT1\\u0000abdomen\"]}}]";
    // clang-format on
    json_t *b = convert(padded, NULL, NULL);
    json_t *studies = of_type(b, "ImagingStudy");
    struct base_err err = {0};
    json_t *none = NULL;

    ck_assert_str_eq(tu_json_str(studies, "0.identifier.0.value"), "urn:oid:" UID ".9");
    ck_assert_str_eq(tu_json_str(studies, "0.description"), "CT1 abdomen");
    ck_assert_str_eq(tu_json_str(studies, "0.procedureCode.0.coding.0.code"), "CTABDOM");
    json_decref(studies);
    json_decref(b);
    ck_assert_int_eq(dicomweb_to_bundle(inner, strlen(inner), NULL, NULL, &none, NULL, &err),
                     BASE_E_PARSE);
    ck_assert_ptr_null(none);
    ck_assert_ptr_nonnull(strstr(err.msg, "U+0000"));
}
END_TEST

/* An anonymiser's or a modality's PatientID "0" / "00000000" names nobody:
 * keyed on it, every such study of the PACS would belong to one Patient.
 * The study keeps the name as the subject's display, with a warning. */
START_TEST(zero_patient_id_makes_no_patient)
{
    // clang-format off
    static const char text[] =
        "[{" ATTR_S("0020000D", "UI", UID ".10") ","
        ATTR_S("00100020", "LO", "00000000") ","
        "\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Anonymized\"}]}},"
        "{" ATTR_S("0020000D", "UI", UID ".11") ","
        ATTR_S("00100020", "LO", "0") "}]";
    // clang-format on
    json_t *warnings = NULL;
    json_t *b = convert(text, NULL, &warnings);
    json_t *patients = of_type(b, "Patient");
    json_t *studies = of_type(b, "ImagingStudy");

    ck_assert_uint_eq(json_array_size(patients), 0);
    ck_assert_uint_eq(json_array_size(studies), 2);
    ck_assert_ptr_null(
        json_object_get(json_object_get(json_array_get(studies, 0), "subject"), "reference"));
    ck_assert_ptr_null(
        json_object_get(json_object_get(json_array_get(studies, 1), "subject"), "reference"));
    ck_assert_ptr_nonnull(strstr(tu_json_str(warnings, "issue.0.diagnostics"), "placeholder"));
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.expression.0"), "PatientID (0010,0020)");
    json_decref(patients);
    json_decref(studies);
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* The build finds suites by their one-line signature. */
// clang-format off
Suite *dicomweb_sweep_suite(void)
// clang-format on
{
    Suite *s = suite_create("dicomweb_sweep");
    TCase *tc = tcase_create("sweep");

    tcase_add_test(tc, same_patient_id_two_issuers_stay_two_patients);
    tcase_add_test(tc, foreign_issuer_is_not_the_members_patient);
    tcase_add_test(tc, issuer_qualifiers_name_the_system);
    tcase_add_test(tc, acr_nema_dates_and_lower_case_codes);
    tcase_add_test(tc, sweep_answers_map_to_valid_fhir);
    tcase_add_test(tc, paging_follows_a_pacs_with_a_lower_maximum);
    tcase_add_test(tc, nul_padding_is_not_part_of_a_value);
    tcase_add_test(tc, zero_patient_id_makes_no_patient);
    suite_add_tcase(s, tc);
    return s;
}
