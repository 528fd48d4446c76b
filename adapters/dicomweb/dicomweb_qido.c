/*
 * QIDO-RS client (DICOM PS3.18 section 10.6, Search Transaction) on libcurl.
 *
 *   GET {root}/studies?PatientID=..&includefield=..&limit=N&offset=K
 *   GET {root}/studies/{uid}/series?...          (level >= series)
 *   GET {root}/studies/{uid}/instances?...       (level == instances)
 *   Accept: application/dicom+json
 *
 * Each answer is read into a capped buffer, checked as DICOM JSON and
 * paged until a page comes back empty, or shorter than `limit` without a
 * 299 Warning that more can be requested.  Every failure names
 * the PACS (its configured name, never the URL, which holds a patient id).
 * TLS peer and host verification are never turned off; plain http is only
 * possible when the configuration says so (a PACS on loopback).
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "adapters/dicomweb/dicomweb_int.h"
#include "adapters/mapkit/mapkit.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"

/* What each level asks for beyond the PS3.18 defaults. */
static const char study_fields[] =
    "00080020,00080030,00080050,00080051,00080061,00080090,00080201,00081030,00081032,00081060,"
    "00100010,00100020,00100021,00100024,00100030,00100040,00101002,00201206,00201208";
static const char series_fields[] =
    "0020000D,0020000E,00080060,0008103E,00180015,00200011,00200060,00080021,00080031,00201209";
static const char instance_fields[] = "0020000D,0020000E,00080016,00080018,00200013";

struct qido {
    const struct dicomweb_pacs *pacs;
    const struct dicomweb_limits *lim;
    const char *name;
    CURL *curl;
    struct curl_slist *headers;
    struct base_buf body;
    struct base_buf url;
    size_t max_response;
    bool too_big;
    bool more; /* the answer said more results can be requested */
    char errbuf[CURL_ERROR_SIZE];
    struct base_err *err;
};

static size_t
on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct qido *q = ctx;
    size_t len = size * n;

    if (q->body.len + len > q->max_response || base_buf_append(&q->body, p, len) != BASE_OK) {
        q->too_big = true;
        return 0; /* stops the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

/* PS3.18 8.3.4.4 (query result paging): an origin server that returns
 * fewer results than exist - fewer than `limit` too, when its own maximum
 * is lower - says so with "Warning: 299 <service>: ... additional results
 * can be requested".  A short page with it is not the last. */
static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct qido *q = ctx;
    size_t len = size * n;
    struct base_str h = {p, len};
    struct base_str name;
    struct base_str value;

    if (base_str_cut(h, ':', &name, &value) &&
        base_str_case_eq_cstr(base_str_trim(name), "warning")) {
        value = base_str_trim(value);
        q->more = q->more || (value.len >= 4 && memcmp(value.ptr, "299 ", 4) == 0);
    }
    return len;
}

static int
fail_detail(struct qido *q, int rc, const char *before, const char *after, const char *detail)
{
    char where[96];

    (void)snprintf(where, sizeof(where), "PACS %.80s", q->name);
    return base_err_set(q->err, rc, "transient", where, "%s%.60s%s%.100s", before, q->name, after,
                        detail);
}

/* "<before><PACS name><after>": every message names the PACS. */
static int
fail(struct qido *q, int rc, const char *before, const char *after)
{
    char where[96];

    (void)snprintf(where, sizeof(where), "PACS %.80s", q->name);
    return base_err_set(q->err, rc, rc == BASE_E_AUTH ? "security" : "transient", where,
                        "%s%.60s%s", before, q->name, after);
}

static int
curl_failure(struct qido *q, CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return fail(q, BASE_E_UPSTREAM, "could not connect to PACS ", " (refused or down)");
    case CURLE_COULDNT_RESOLVE_HOST:
        return fail(q, BASE_E_UPSTREAM, "could not resolve the host of PACS ", "");
    case CURLE_OPERATION_TIMEDOUT:
        return fail(q, BASE_E_UPSTREAM, "PACS ", " did not answer in time");
    case CURLE_WRITE_ERROR:
        if (q->too_big)
            return fail(q, BASE_E_LIMIT, "answer from PACS ", " is too large");
        break;
    case CURLE_FILESIZE_EXCEEDED:
        return fail(q, BASE_E_LIMIT, "answer from PACS ", " is too large");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
        return fail(q, BASE_E_UPSTREAM, "TLS with PACS ", " failed (certificate not trusted)");
    case CURLE_UNSUPPORTED_PROTOCOL:
        return fail(q, BASE_E_UPSTREAM, "PACS ", " URL scheme is not allowed (https only)");
    default:
        break;
    }
    return fail(q, BASE_E_UPSTREAM, "request to PACS ", " failed");
}

static int
setup(struct qido *q)
{
    const struct dicomweb_pacs *p = q->pacs;
    CURL *c = curl_easy_init();

    q->curl = c;
    q->headers = curl_slist_append(NULL, "Accept: application/dicom+json");
    if (c == NULL || q->headers == NULL)
        return base_err_set(q->err, BASE_E_NOMEM, "exception", "qido", "out of memory");
    if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->headers) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, q) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERDATA, q) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, q->errbuf) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, p->allow_http ? "http,https" : "https") !=
            CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max_response) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         p->connect_timeout_ms > 0
                             ? p->connect_timeout_ms
                             : (long)BASE_LIMIT_DICOMWEB_CONNECT_MS) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                         p->timeout_ms > 0 ? p->timeout_ms
                                           : (long)BASE_LIMIT_DICOMWEB_TIMEOUT_MS) != CURLE_OK)
        return base_err_set(q->err, BASE_E_INTERNAL, "exception", "qido",
                            "could not configure the HTTP client");
    if (p->ca_file != NULL && curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file) != CURLE_OK)
        return fail(q, BASE_E_UPSTREAM, "could not use the CA file for PACS ", "");
    if (p->auth == DICOMWEB_AUTH_BASIC &&
        (curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK ||
         curl_easy_setopt(c, CURLOPT_USERNAME, p->user != NULL ? p->user : "") != CURLE_OK ||
         curl_easy_setopt(c, CURLOPT_PASSWORD, p->password != NULL ? p->password : "") != CURLE_OK))
        return fail(q, BASE_E_INTERNAL, "could not set credentials for PACS ", "");
    if (p->auth == DICOMWEB_AUTH_BEARER &&
        (curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) != CURLE_OK ||
         curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, p->token != NULL ? p->token : "") != CURLE_OK))
        return fail(q, BASE_E_INTERNAL, "could not set credentials for PACS ", "");
    return BASE_OK;
}

/* One GET; *page gets the checked datasets (empty array for 204). */
static int
get(struct qido *q, json_t **page)
{
    long status = 0;
    CURLcode cc;

    *page = NULL;
    base_buf_reset(&q->body);
    q->too_big = false;
    q->more = false;
    if (curl_easy_setopt(q->curl, CURLOPT_URL, q->url.data) != CURLE_OK)
        return fail(q, BASE_E_INTERNAL, "could not build the request to PACS ", "");
    cc = curl_easy_perform(q->curl);
    if (cc != CURLE_OK)
        return curl_failure(q, cc);
    (void)curl_easy_getinfo(q->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 401 || status == 403)
        return fail(q, BASE_E_AUTH, "PACS ", " refused the credentials");
    if (status == 204 || (status == 200 && q->body.len == 0)) {
        *page = json_array();
        return *page != NULL ? BASE_OK : BASE_E_NOMEM;
    }
    if (status != 200) {
        char detail[32];

        (void)snprintf(detail, sizeof(detail), " (HTTP %ld)", status);
        return fail_detail(q, BASE_E_UPSTREAM, "PACS ", " answered with an error", detail);
    }
    struct base_err perr = {0};
    if (dicomweb_parse(q->body.data, q->body.len, q->lim, page, &perr) != BASE_OK) {
        char detail[100];

        /* where the answer broke, not what it said (it may be patient data) */
        (void)snprintf(detail, sizeof(detail), " at %.80s", perr.where);
        return fail_detail(q, perr.rc == BASE_E_LIMIT ? BASE_E_LIMIT : BASE_E_UPSTREAM, "PACS ",
                           " sent an answer that is not valid DICOM JSON", detail);
    }
    return BASE_OK;
}

/* GET {root}{path}?{query}&includefield=..&limit=..&offset=.. page after
 * page, appending every dataset to `into` (at most `max`). */
static int
get_all(struct qido *q, const char *path, const char *patient_id, const char *fields, size_t max,
        json_t *into)
{
    size_t limit = q->pacs->page_size > 0 ? q->pacs->page_size : BASE_LIMIT_DICOMWEB_PAGE;

    /* the next offset follows what came, not what was asked: a PACS whose
     * maximum is below `limit` sends shorter pages (and a 299 Warning) */
    for (size_t offset = 0, n = 0;; offset += n) {
        json_t *page = NULL;

        base_buf_reset(&q->url);
        if (base_buf_append_cstr(&q->url, q->pacs->base_url) != BASE_OK ||
            base_buf_append_cstr(&q->url, path) != BASE_OK ||
            base_buf_append_cstr(&q->url, "?") != BASE_OK ||
            (patient_id != NULL && (base_buf_append_cstr(&q->url, "PatientID=") != BASE_OK ||
                                    adapter_url_encode(&q->url, patient_id, NULL) != BASE_OK ||
                                    base_buf_putc(&q->url, '&') != BASE_OK)) ||
            base_buf_appendf(&q->url, "includefield=%s&limit=%zu&offset=%zu", fields, limit,
                             offset) != BASE_OK)
            return fail(q, BASE_E_LIMIT, "request URL for PACS ", " is too long");
        TRY(get(q, &page));
        n = json_array_size(page);
        if (json_array_size(into) + n > max) {
            json_decref(page);
            return fail(q, BASE_E_LIMIT, "PACS ", " holds more studies than allowed");
        }
        if (json_array_extend(into, page) != 0) {
            json_decref(page);
            return base_err_set(q->err, BASE_E_NOMEM, "exception", "qido", "out of memory");
        }
        json_decref(page);
        if (n == 0 || (n < limit && !q->more))
            return BASE_OK;
    }
}

/* Series and instances of each study found. */
static int
deeper(struct qido *q, json_t *studies, enum dicomweb_level level, json_t *all)
{
    size_t max = q->lim->max_datasets;
    size_t i;
    json_t *st;

    json_array_foreach(studies, i, st)
    {
        struct base_str uid = dw_str(st, DW_STUDY_UID, 0);
        char path[128];

        if (!adapter_oid_valid(uid) || uid.len > 64)
            continue; /* it goes into a URL path: a UID, nothing else */
        (void)snprintf(path, sizeof(path), "/studies/%.*s/series", (int)uid.len, uid.ptr);
        TRY(get_all(q, path, NULL, series_fields, max, all));
        if (level < DICOMWEB_INSTANCES)
            continue;
        (void)snprintf(path, sizeof(path), "/studies/%.*s/instances", (int)uid.len, uid.ptr);
        TRY(get_all(q, path, NULL, instance_fields, max, all));
    }
    return BASE_OK;
}

/* Series and instance answers may leave out the study's UID (PS3.18
 * table 10.6.3-3 lists it for study-level queries only): add it. */
static int
tag_study(json_t *datasets, size_t from, struct base_str uid)
{
    for (size_t i = from; i < json_array_size(datasets); i++) {
        json_t *ds = json_array_get(datasets, i);

        if (dw_str(ds, DW_STUDY_UID, 0).len == 0 &&
            json_object_set_new(ds, DW_STUDY_UID,
                                json_pack("{s:s,s:[s%]}", "vr", "UI", "Value", uid.ptr, uid.len)) !=
                0)
            return BASE_E_NOMEM;
    }
    return BASE_OK;
}

static bool
patient_id_ok(const char *id)
{
    size_t n = 0;

    /* LO, at most 64 characters; no QIDO wildcard (* ?) or multi-value (\)
     * characters, which would widen an exact match (PS3.4 C.2.2.2). */
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++, n++) {
        if (*p < 0x20 || *p == 0x7f || *p == '*' || *p == '?' || *p == '\\')
            return false;
    }
    return n > 0 && n <= 64 && base_utf8_valid(id, n, NULL);
}

/* First instance of a study: its series and SOP instance UIDs. */
static int
first_instance(struct qido *q, struct base_str study, char *series, char *sop, size_t cap)
{
    json_t *found = NULL;
    struct base_str s;
    struct base_str i;

    base_buf_reset(&q->url);
    if (base_buf_appendf(&q->url, "%s/studies/%.*s/instances?includefield=0020000E,00080018&limit=1",
                         q->pacs->base_url, (int)study.len, study.ptr) != BASE_OK)
        return BASE_E_LIMIT;
    TRY(get(q, &found));
    s = dw_str(json_array_get(found, 0), DW_SERIES_UID, 0);
    i = dw_str(json_array_get(found, 0), DW_SOP_INSTANCE, 0);
    /* they go into a URL path: UIDs only (PS3.5 9.1: digits and dots) */
    if (!adapter_oid_valid(s) || !adapter_oid_valid(i) || s.len >= cap || i.len >= cap) {
        json_decref(found);
        return BASE_E_NOTFOUND;
    }
    (void)snprintf(series, cap, "%.*s", (int)s.len, s.ptr);
    (void)snprintf(sop, cap, "%.*s", (int)i.len, i.ptr);
    json_decref(found);
    return BASE_OK;
}

/*
 * The Other Patient IDs Sequence (0010,1002) — where a regional PACS keeps
 * the resident identity number — is not a "main" tag for every PACS: Orthanc
 * 1.10 leaves it out of QIDO answers whatever includefield says.  When the
 * studies came back without it, read it from one instance's WADO-RS
 * metadata (PS3.18 10.4) and copy it onto every study (the query matched
 * one PatientID, so one patient).  Optional: a PACS that cannot answer this
 * still gives its studies, and the error of this attempt is not reported.
 */
static void
fill_other_ids(struct qido *q, json_t *studies)
{
    /* with the Issuer of Patient ID Qualifiers (0010,0024), also left out */
    static const char *const patient_seqs[] = {DW_OTHER_IDS, DW_ISSUER_QUAL};
    struct base_err *saved = q->err;
    struct base_err ignored = {0};
    json_t *meta = NULL;
    const json_t *seq;
    char series[72];
    char sop[72];
    struct base_str uid = dw_str(json_array_get(studies, 0), DW_STUDY_UID, 0);

    if (json_array_size(studies) == 0 || !adapter_oid_valid(uid) || uid.len > 64 ||
        json_object_get(json_array_get(studies, 0), DW_OTHER_IDS) != NULL)
        return;
    q->err = &ignored;
    if (first_instance(q, uid, series, sop, sizeof(series)) != BASE_OK)
        goto out;
    base_buf_reset(&q->url);
    if (base_buf_appendf(&q->url, "%s/studies/%.*s/series/%s/instances/%s/metadata",
                         q->pacs->base_url, (int)uid.len, uid.ptr, series, sop) != BASE_OK ||
        get(q, &meta) != BASE_OK)
        goto out;
    /* Only onto the studies of the same issuer as the first: the same
     * PatientID under another issuer is another patient (PS3.3 C.7.1.1),
     * whose studies must not get this one's resident identity number. */
    struct base_str issuer = dw_str(json_array_get(studies, 0), DW_ISSUER, 0);
    for (size_t k = 0; k < BASE_ARRAY_LEN(patient_seqs); k++) {
        seq = json_object_get(json_array_get(meta, 0), patient_seqs[k]);
        for (size_t i = 0; seq != NULL && i < json_array_size(studies); i++) {
            json_t *st = json_array_get(studies, i);

            if (base_str_eq(dw_str(st, DW_ISSUER, 0), issuer) &&
                json_object_get(st, patient_seqs[k]) == NULL)
                (void)json_object_set(st, patient_seqs[k], (json_t *)seq);
        }
    }
out:
    json_decref(meta);
    q->err = saved;
}

static int
query(struct qido *q, const char *patient_id, enum dicomweb_level level, json_t *all)
{
    size_t max_studies =
        q->pacs->max_studies > 0 ? q->pacs->max_studies : BASE_LIMIT_DICOMWEB_MAX_STUDIES;

    TRY(setup(q));
    TRY(get_all(q, "/studies", patient_id, study_fields, max_studies, all));
    fill_other_ids(q, all);
    if (level == DICOMWEB_STUDIES)
        return BASE_OK;
    size_t nstudies = json_array_size(all);
    json_t *studies = json_array();
    if (studies == NULL || json_array_extend(studies, all) != 0) {
        json_decref(studies);
        return base_err_set(q->err, BASE_E_NOMEM, "exception", "qido", "out of memory");
    }
    for (size_t i = 0; i < nstudies; i++) {
        size_t before = json_array_size(all);
        json_t *one = json_pack("[O]", json_array_get(studies, i));
        int rc = one != NULL ? deeper(q, one, level, all) : BASE_E_NOMEM;

        json_decref(one);
        if (rc == BASE_OK)
            rc = tag_study(all, before, dw_str(json_array_get(studies, i), DW_STUDY_UID, 0));
        if (rc != BASE_OK) {
            json_decref(studies);
            return rc;
        }
    }
    json_decref(studies);
    return BASE_OK;
}

/* Run the patient query; *all gets the checked datasets. */
static int
qido_datasets(const struct dicomweb_pacs *pacs, const char *patient_id, enum dicomweb_level level,
              const struct dicomweb_limits *lim, json_t **all, struct base_err *err)
{
    struct dicomweb_limits deflim = dicomweb_limits_default();
    struct qido q = {.pacs = pacs, .lim = lim != NULL ? lim : &deflim, .err = err};
    int rc;

    *all = NULL;
    q.name = pacs->name != NULL ? pacs->name : "(unnamed)";
    q.max_response = pacs->max_response > 0 ? pacs->max_response : q.lim->max_doc;
    if (patient_id == NULL || !patient_id_ok(patient_id))
        return base_err_set(err, BASE_E_INVALID, "value", "PatientID",
                            "patient id is empty, too long or contains * ? \\ or controls");
    if (pacs->base_url == NULL)
        return base_err_set(err, BASE_E_INVALID, "required", "pacs", "PACS has no base URL");
    *all = json_array();
    if (*all == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "qido", "out of memory");
    base_buf_init(&q.body, q.max_response + 1);
    base_buf_init(&q.url, BASE_LIMIT_HTTP_MAX_URL);
    rc = query(&q, patient_id, level, *all);
    curl_slist_free_all(q.headers);
    if (q.curl != NULL)
        curl_easy_cleanup(q.curl);
    base_buf_fini(&q.body);
    base_buf_fini(&q.url);
    if (rc != BASE_OK) {
        json_decref(*all);
        *all = NULL;
    }
    return rc;
}

static struct dicomweb_options
options_for(const struct dicomweb_pacs *pacs, const struct dicomweb_options *opt)
{
    struct dicomweb_options o = opt != NULL ? *opt : (struct dicomweb_options){0};

    if (o.wado_base == NULL)
        o.wado_base = pacs->base_url;
    if (o.pacs_name == NULL)
        o.pacs_name = pacs->name;
    return o;
}

int
dicomweb_qido_patient(const struct dicomweb_pacs *pacs, const char *patient_id,
                      enum dicomweb_level level, const struct dicomweb_limits *lim,
                      const struct dicomweb_options *opt, json_t **studies, struct base_err *err)
{
    struct dicomweb_options o = options_for(pacs, opt);
    json_t *all = NULL;
    int rc;

    *studies = NULL;
    rc = qido_datasets(pacs, patient_id, level, lim, &all, err);
    if (rc == BASE_OK)
        rc = dicomweb_studies(all, &o, studies, err);
    json_decref(all);
    return rc;
}

int
dicomweb_qido_patient_bundle(const struct dicomweb_pacs *pacs, const char *patient_id,
                             enum dicomweb_level level, const struct dicomweb_limits *lim,
                             const struct dicomweb_options *opt, json_t **bundle,
                             json_t **warnings, struct base_err *err)
{
    struct dicomweb_options o = options_for(pacs, opt);
    json_t *all = NULL;
    int rc;

    *bundle = NULL;
    if (warnings != NULL)
        *warnings = NULL;
    rc = qido_datasets(pacs, patient_id, level, lim, &all, err);
    if (rc == BASE_OK)
        rc = dicomweb_datasets_to_bundle(all, &o, bundle, warnings, err);
    json_decref(all);
    return rc;
}

/* Add the PatientIDs of one page to `ids` (first occurrence only; `seen`
 * is the set). */
static int
collect_ids(const json_t *page, json_t *seen, json_t *ids)
{
    size_t i;
    const json_t *ds;

    json_array_foreach(page, i, ds)
    {
        struct base_str v = dw_str(ds, DW_PATIENT_ID, 0);
        char id[72];

        if (v.len == 0 || v.len >= sizeof(id))
            continue;
        (void)snprintf(id, sizeof(id), "%.*s", (int)v.len, v.ptr);
        if (!patient_id_ok(id) || json_object_get(seen, id) != NULL)
            continue;
        if (json_object_set_new(seen, id, json_true()) != 0 ||
            json_array_append_new(ids, json_string(id)) != 0)
            return BASE_E_NOMEM;
    }
    return BASE_OK;
}

/* GET {root}/studies?includefield=00100020&limit=..&offset=.. until a short
 * page; each page is reduced to its PatientIDs at once, so memory follows
 * the number of patients, not of studies. */
static int
list_ids(struct qido *q, size_t max, json_t *ids)
{
    size_t limit = q->pacs->page_size > 0 ? q->pacs->page_size : BASE_LIMIT_DICOMWEB_PAGE;
    json_t *seen = json_object();
    int rc = seen != NULL ? setup(q) : BASE_E_NOMEM;

    for (size_t offset = 0, n = 0; rc == BASE_OK; offset += n) {
        json_t *page = NULL;

        base_buf_reset(&q->url);
        if (base_buf_appendf(&q->url, "%s/studies?includefield=%s&limit=%zu&offset=%zu",
                             q->pacs->base_url, DW_PATIENT_ID, limit, offset) != BASE_OK) {
            rc = fail(q, BASE_E_LIMIT, "request URL for PACS ", " is too long");
            break;
        }
        rc = get(q, &page);
        if (rc != BASE_OK)
            break;
        n = json_array_size(page);
        rc = collect_ids(page, seen, ids);
        json_decref(page);
        if (rc == BASE_E_NOMEM)
            rc = base_err_set(q->err, BASE_E_NOMEM, "exception", "qido", "out of memory");
        if (rc != BASE_OK || n == 0 || (n < limit && !q->more))
            break;
        if (offset + n >= max)
            rc = fail(q, BASE_E_LIMIT, "PACS ", " holds more studies than allowed");
    }
    json_decref(seen);
    return rc;
}

int
dicomweb_qido_patient_ids(const struct dicomweb_pacs *pacs, const struct dicomweb_limits *lim,
                          size_t max, json_t **ids, struct base_err *err)
{
    struct dicomweb_limits deflim = dicomweb_limits_default();
    struct qido q = {.pacs = pacs, .lim = lim != NULL ? lim : &deflim, .err = err};
    int rc;

    *ids = NULL;
    q.name = pacs->name != NULL ? pacs->name : "(unnamed)";
    q.max_response = pacs->max_response > 0 ? pacs->max_response : q.lim->max_doc;
    if (pacs->base_url == NULL)
        return base_err_set(err, BASE_E_INVALID, "required", "pacs", "PACS has no base URL");
    *ids = json_array();
    if (*ids == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "qido", "out of memory");
    base_buf_init(&q.body, q.max_response + 1);
    base_buf_init(&q.url, BASE_LIMIT_HTTP_MAX_URL);
    rc = list_ids(&q, max > 0 ? max : BASE_LIMIT_DICOMWEB_MAX_LISTED, *ids);
    curl_slist_free_all(q.headers);
    if (q.curl != NULL)
        curl_easy_cleanup(q.curl);
    base_buf_fini(&q.body);
    base_buf_fini(&q.url);
    if (rc != BASE_OK) {
        json_decref(*ids);
        *ids = NULL;
    }
    return rc;
}
