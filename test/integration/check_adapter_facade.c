/*
 * The adapter's FHIR facade over real HTTPS with mutual TLS (issue #3):
 * who may read what; search, paging, read, vread, XML and $everything
 * answers that are valid FHIR; the gateway's identity pull that never
 * skips a Patient; metadata, health, metrics and the code-mapping report.
 * The data come from the HL7 v2 corpus sent over MLLP to the real daemon.
 */
#include "test/integration/adapter_it.h"

#include <curl/curl.h>

#include "adapters/store/adapter_store.h"
#include "fhir/base/arena.h"
#include "fhir/search/fhir_search.h"

#define CODEMAP                                                                                    \
    "local_system,local_code,target_system,target_code,target_display\n"                           \
    "https://hosp-a.example/sid/code/OBX-3,GLUCOSE,LN,2345-7,Glucose\n"

static struct ait T;

static void
load_corpus(const struct ait *t)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("hl7v2/valid"), NULL, &n);
    int fd = ait_mllp_connect(t);

    for (size_t i = 0; i < n; i++) {
        char **msgs = NULL;
        size_t m;

        if (strstr(files[i], "PROVENANCE") != NULL || strstr(files[i], "fragment") != NULL)
            continue;
        m = ait_split_hl7(files[i], &msgs);
        for (size_t k = 0; k < m; k++) {
            char *ack;

            ait_mllp_send(fd, msgs[k], strlen(msgs[k]));
            ack = ait_mllp_ack(fd, 20000);
            ck_assert_msg(ack != NULL && strcmp(ait_msa(ack), ait_accepted(msgs[k])) == 0, "%s",
                          files[i]);
            free(ack);
        }
        ait_free_msgs(msgs);
    }
    close(fd);
    tu_free_list(files);
}

static void
setup(void)
{
    char dir[600];
    char path[700];
    FILE *f;
    char extra[800];

    snprintf(dir, sizeof(dir), "%s/codemaps", tu_tmpdir("ait-facade"));
    mkdir(tu_tmpdir("ait-facade"), 0755);
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/lab.csv", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(CODEMAP, f);
    fclose(f);
    snprintf(extra, sizeof(extra), "codemaps = %s\n", dir);
    ait_init(&T, "ait-facade", extra);
    ait_start(&T);
    load_corpus(&T);
}

static void
teardown(void)
{
    ck_assert_int_eq(ait_stop(&T, SIGTERM), 0);
}

/* First value of a query, malloc'd. */
static char *
scalar(const char *sql)
{
    char *v = NULL;

    ck_assert_int_ge(pt_sql(T.db, sql, &v), 0);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* The patient with the most Observations. */
static char *
busy_patient(void)
{
    return scalar("SELECT substring(content->'subject'->>'reference' from 9) FROM store.resource "
                  "WHERE res_type = 'Observation' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1");
}

static void
assert_searchset(const json_t *b)
{
    ck_assert_str_eq(tu_json_str(b, "resourceType"), "Bundle");
    ck_assert_str_eq(tu_json_str(b, "type"), "searchset");
    ait_assert_valid(b, "searchset Bundle");
}

/* ---------------------------------------------------------------- access -- */

START_TEST(only_the_gateway_reads_data)
{
    struct tu_http_resp r = {0};
    json_t *b;

    /* No certificate: refused before anything is read. */
    ait_http(&T, AIT_NONE, "GET", "/fhir/Patient", NULL, 0, &r);
    ck_assert_msg(r.status == 401 || r.status == 0, "no certificate: %ld", r.status);
    tu_http_resp_free(&r);
    /* A certificate of another CA, even with CN=gateway. */
    memset(&r, 0, sizeof(r));
    ait_http(&T, AIT_ALIEN, "GET", "/fhir/Patient", NULL, 0, &r);
    ck_assert_msg(r.status == 403 || r.status == 0, "other CA: %ld", r.status);
    ck_assert(r.body == NULL || strstr(r.body, "\"entry\"") == NULL);
    tu_http_resp_free(&r);
    /* A region certificate that is not the gateway's: 403 OperationOutcome. */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_OTHER, "GET", "/fhir/Patient", NULL, 0, &r), 403);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_OTHER, "GET", "/metrics", NULL, 0, &r), 403);
    tu_http_resp_free(&r);
    /* The gateway: data. */
    b = ait_get_json(&T, "/fhir/Patient?_count=5");
    assert_searchset(b);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 5);
    json_decref(b);
    /* TLS 1.2 at least (issue #3): a TLS 1.1 client gets no answer */
    {
        struct tu_http_opts o = {0};
        char url[200];

        snprintf(url, sizeof(url), "%s/fhir/metadata", T.base);
        o.ca_file = T.pki.p.ca;
        o.cert_file = T.pki.gw_cert;
        o.key_file = T.pki.gw_key;
        o.tls_min = CURL_SSLVERSION_TLSv1_1;
        o.tls_max = CURL_SSLVERSION_MAX_TLSv1_1;
        o.ciphers = "DEFAULT@SECLEVEL=0";
        memset(&r, 0, sizeof(r));
        tu_http_request(url, &o, &r);
        ck_assert_int_eq(r.status, 0);
        tu_http_resp_free(&r);
        o.tls_min = CURL_SSLVERSION_TLSv1_2;
        o.tls_max = CURL_SSLVERSION_MAX_TLSv1_2;
        o.ciphers = NULL;
        memset(&r, 0, sizeof(r));
        tu_http_request(url, &o, &r);
        ck_assert_int_eq(r.status, 200);
        tu_http_resp_free(&r);
    }
    /* metadata and health for any region client */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_OTHER, "GET", "/fhir/metadata", NULL, 0, &r), 200);
    tu_http_resp_free(&r);
}
END_TEST

/* --------------------------------------------------------------- search -- */

static long
entries(const char *path)
{
    json_t *b = ait_get_json(&T, path);
    long n;

    assert_searchset(b);
    n = (long)json_array_size(json_object_get(b, "entry"));
    json_decref(b);
    return n;
}

START_TEST(search_parameters)
{
    char *pid = busy_patient();
    char *other;
    char path[512];
    char sql[512];
    json_t *b;
    long n;

    /* patient= and subject= agree with the stored references */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM store.resource WHERE res_type = 'Observation' AND "
             "content->'subject'->>'reference' = 'Patient/%s'",
             pid);
    n = ait_count(&T, sql);
    ck_assert_int_gt(n, 0);
    snprintf(path, sizeof(path), "/fhir/Observation?patient=%s&_count=1000", pid);
    ck_assert_int_eq(entries(path), n);
    snprintf(path, sizeof(path), "/fhir/Observation?subject=Patient/%s&_count=1000", pid);
    ck_assert_int_eq(entries(path), n);
    snprintf(path, sizeof(path), "/fhir/Observation?patient=%s&status=final&_count=1000", pid);
    ck_assert_int_le(entries(path), n);
    snprintf(path, sizeof(path), "/fhir/Observation?patient=%s&date=ge1900&_count=1000", pid);
    ck_assert_int_le(entries(path), n);
    /* identifier=system|value finds exactly the patient */
    b = ait_get_json(&T, "/fhir/Patient?identifier=https://hosp-a.example/sid/id/test1|PATID1234");
    assert_searchset(b);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1);
    json_decref(b);
    /* code with system, category, _id, _lastUpdated */
    ck_assert_int_ge(entries("/fhir/Observation?code=http://loinc.org|2345-7"), 1); /* mapped */
    ck_assert_int_ge(entries("/fhir/Condition?category=encounter-diagnosis"), 1);
    snprintf(path, sizeof(path), "/fhir/Patient?_id=%s", pid);
    ck_assert_int_eq(entries(path), 1);
    ck_assert_int_eq(entries("/fhir/Patient?_lastUpdated=lt2000-01-01"), 0);
    ck_assert_int_gt(entries("/fhir/Encounter?_lastUpdated=gt2000-01-01&_count=1000"), 0);
    ck_assert_int_ge(entries("/fhir/DiagnosticReport?status=final,preliminary,corrected"), 1);
    /* The gateway's form: every local record of the person as one OR
     * list, its own _count, then _offset for the next page. */
    other = scalar("SELECT substring(content->'subject'->>'reference' from 9) FROM store.resource "
                   "WHERE res_type = 'Observation' GROUP BY 1 ORDER BY count(*) ASC, 1 LIMIT 1");
    ck_assert_str_ne(other, pid);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM store.resource WHERE res_type = 'Observation' AND "
             "content->'subject'->>'reference' IN ('Patient/%s', 'Patient/%s')",
             pid, other);
    n = ait_count(&T, sql);
    snprintf(path, sizeof(path), "/fhir/Observation?patient=Patient/%s,Patient/%s&_count=1000", pid,
             other);
    ck_assert_int_eq(entries(path), n);
    snprintf(path, sizeof(path),
             "/fhir/Observation?patient=Patient/%s,Patient/%s&status=final&_count=2&_offset=%ld",
             pid, other, n - 1);
    ck_assert_int_le(entries(path), 1);
    free(other);
    free(pid);
}
END_TEST

/* ------------------------------------- every type, every listed param -- */

/* A token value (system|code, or a bare code) without characters that
 * need escaping in a search value; identifiers are in store.identifier,
 * the other tokens in store.idx_token. */
static char *
sample_token(const char *type, const char *param, long *expect, char **needle)
{
    static const char safe[] = "~ '^[A-Za-z0-9._-]+$'";
    static const char safe_sys[] = "~ '^[A-Za-z0-9:/._-]*$'";
    bool ident = strcmp(param, "identifier") == 0;
    const char *code_col = ident ? "x.value" : "x.code";
    char from[300];
    char sql[1200];
    char *v = NULL;
    char *bar;

    if (ident)
        snprintf(from, sizeof(from),
                 "store.identifier x JOIN store.resource r ON r.pk = x.res_pk AND NOT r.deleted "
                 "WHERE x.res_type = '%s'",
                 type);
    else
        snprintf(from, sizeof(from),
                 "store.idx_token x JOIN store.resource r ON r.pk = x.res_pk AND NOT r.deleted "
                 "WHERE x.res_type = '%s' AND x.param = '%s'",
                 type, param);
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(x.system, '') || '|' || %s FROM %s AND %s %s AND "
             "coalesce(x.system, '') %s GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
             code_col, from, code_col, safe, safe_sys);
    if (pt_sql(T.db, sql, &v) < 0 || v == NULL)
        return NULL;
    bar = strchr(v, '|');
    *bar = '\0';
    snprintf(sql, sizeof(sql),
             "SELECT count(DISTINCT x.res_pk) FROM %s AND %s = '%s' AND coalesce(x.system, '') = "
             "'%s'",
             from, code_col, bar + 1, v);
    *expect = ait_count(&T, sql);
    *needle = malloc(strlen(bar + 1) + 3);
    sprintf(*needle, "\"%s\"", bar + 1);
    /* no system: "|code" means "no system" in FHIR search */
    *bar = '|';
    return v;
}

/* A value of `param` for `type` taken from the store's index tables, in
 * the search syntax (NULL when nothing of the type has one), and in *expect
 * the number of live resources having it; *needle gets a text each match
 * must contain (NULL: no text check). */
static char *
sample_value(const char *type, const char *param, const struct fhir_search_param_def *def,
             long *expect, char **needle)
{
    char sql[1200];
    char *v = NULL;
    static const char live[] = "JOIN store.resource r ON r.pk = x.res_pk AND NOT r.deleted";

    *needle = NULL;
    if (strcmp(param, "_id") == 0) {
        snprintf(sql, sizeof(sql),
                 "SELECT id FROM store.resource WHERE res_type = '%s' AND NOT deleted "
                 "ORDER BY id LIMIT 1",
                 type);
        if (pt_sql(T.db, sql, &v) < 0 || v == NULL)
            return NULL;
        *expect = 1;
        *needle = strdup(v);
        return v;
    }
    if (strcmp(param, "_lastUpdated") == 0) {
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM store.resource WHERE res_type = '%s' AND NOT deleted", type);
        *expect = ait_count(&T, sql);
        return strdup("gt2000-01-01");
    }
    if (def->type == FHIR_SEARCH_DATE) {
        snprintf(sql, sizeof(sql),
                 "SELECT count(DISTINCT x.res_pk) FROM store.idx_date x %s "
                 "WHERE x.res_type = '%s' AND x.param = '%s'",
                 live, type, param);
        *expect = ait_count(&T, sql);
        return strdup("ge1800-01-01");
    }
    if (def->type == FHIR_SEARCH_REFERENCE) {
        snprintf(sql, sizeof(sql),
                 "SELECT x.ref_id FROM store.idx_reference x %s WHERE x.res_type = '%s' AND "
                 "x.param = '%s' AND x.ref_type = 'Patient' GROUP BY 1 "
                 "ORDER BY count(*) DESC, 1 LIMIT 1",
                 live, type, param);
        if (pt_sql(T.db, sql, &v) < 0 || v == NULL)
            return NULL;
        snprintf(sql, sizeof(sql),
                 "SELECT count(DISTINCT x.res_pk) FROM store.idx_reference x %s WHERE "
                 "x.res_type = '%s' AND x.param = '%s' AND x.ref_type = 'Patient' AND "
                 "x.ref_id = '%s'",
                 live, type, param, v);
        *expect = ait_count(&T, sql);
        *needle = malloc(strlen(v) + 16);
        sprintf(*needle, "Patient/%s", v);
        free(v);
        return strdup(*needle);
    }
    ck_assert_int_eq(def->type, FHIR_SEARCH_TOKEN);
    return sample_token(type, param, expect, needle);
}

/* Issue #3: search for every type the gateway asks (DESIGN.md) with
 * patient, subject, identifier, date, code, category, status, _id and
 * _lastUpdated.  A parameter R4 defines for the type answers a valid
 * searchset of that type with as many matches as the store's index holds,
 * each match really holding the value; one it does not define is 400
 * naming it. */
START_TEST(every_type_every_listed_parameter)
{
    static const char *const types[] = {
        "Patient",           "Encounter",           "Condition",
        "Observation",       "DiagnosticReport",    "ImagingStudy",
        "MedicationRequest", "MedicationStatement", "AllergyIntolerance",
        "Procedure",         "Immunization",        "DocumentReference",
    };
    static const char *const params[] = {"patient",  "subject", "identifier", "date",        "code",
                                         "category", "status",  "_id",        "_lastUpdated"};
    unsigned checked = 0;

    for (size_t i = 0; i < BASE_ARRAY_LEN(types); i++) {
        for (size_t k = 0; k < BASE_ARRAY_LEN(params); k++) {
            const struct fhir_search_param_def *def =
                fhir_search_param_find(types[i], params[k], strlen(params[k]));
            struct tu_http_resp r = {0};
            char path[1500];
            char *needle = NULL;
            char *value;
            long expect = 0;
            json_t *b;
            const json_t *e;
            size_t n;

            if (def == NULL) {
                snprintf(path, sizeof(path), "/fhir/%s?%s=x", types[i], params[k]);
                ck_assert_msg(ait_http(&T, AIT_GATEWAY, "GET", path, NULL, 0, &r) == 400, "%s: %ld",
                              path, r.status);
                ck_assert_msg(strstr(r.body, params[k]) != NULL, "%s: not named", path);
                tu_http_resp_free(&r);
                continue;
            }
            value = sample_value(types[i], params[k], def, &expect, &needle);
            if (value == NULL) /* nothing of the type has it: an empty searchset */
                value =
                    strdup(strcmp(params[k], "patient") == 0 || strcmp(params[k], "subject") == 0
                               ? "Patient/none"
                               : "none");
            snprintf(path, sizeof(path), "/fhir/%s?%s=%s&_count=1000&_total=accurate", types[i],
                     params[k], value);
            b = ait_get_json(&T, path);
            assert_searchset(b);
            ck_assert_msg(json_integer_value(json_object_get(b, "total")) == expect,
                          "%s: total %lld, the index has %ld", path,
                          (long long)json_integer_value(json_object_get(b, "total")), expect);
            json_array_foreach(json_object_get(b, "entry"), n, e)
            {
                const json_t *res = json_object_get(e, "resource");

                ck_assert_str_eq(tu_json_str(e, "resource.resourceType"), types[i]);
                ck_assert_msg(needle == NULL || ait_json_has(res, needle), "%s: entry %zu lacks it",
                              path, n);
            }
            checked += expect > 0;
            json_decref(b);
            free(value);
            free(needle);
        }
    }
    ck_assert_uint_ge(checked, 40); /* the corpus exercises most pairs */
}
END_TEST

START_TEST(search_refusals)
{
    struct tu_http_resp r = {0};

    /* R4 Condition has no `date`: 400 naming it. */
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", "/fhir/Condition?date=2020", NULL, 0, &r),
                     400);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"date\""));
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET",
                              "/fhir/Encounter?_include:iterate=Encounter:patient", NULL, 0, &r),
                     400);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", "/fhir/Basic?code=x", NULL, 0, &r), 404);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(
        ait_http(&T, AIT_GATEWAY, "GET", "/fhir/Observation?date=notadate", NULL, 0, &r), 400);
    tu_http_resp_free(&r);
}
END_TEST

/* ------------------------------------------------ _include, _revinclude -- */

/* A Patient with three Observations, a DiagnosticReport of two of them,
 * and a Provenance, written into the daemon's store. */
static void
seed_includes(void)
{
    PGconn *c = PQconnectdb(T.url);
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_opts o = {NULL, 0};
    struct adapter_store_result res;
    json_t *b = json_pack(
        "{s:s, s:s, s:["
        "{s:{s:s, s:s, s:[{s:s}]}, s:{s:s, s:s}},"
        "{s:{s:s, s:s, s:s, s:{s:s}, s:{s:s}}, s:{s:s, s:s}},"
        "{s:{s:s, s:s, s:s, s:{s:s}, s:{s:s}}, s:{s:s, s:s}},"
        "{s:{s:s, s:s, s:s, s:{s:s}, s:{s:s}}, s:{s:s, s:s}},"
        "{s:{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:[{s:s}, {s:s}]}, s:{s:s, s:s}},"
        "{s:{s:s, s:s, s:s, s:[{s:{s:s}}], s:[{s:s}]}, s:{s:s, s:s}}]}",
        "resourceType", "Bundle", "type", "transaction", "entry",
        /* Patient */
        "resource", "resourceType", "Patient", "id", "fac-p1", "name", "family", "Include",
        "request", "method", "PUT", "url", "Patient/fac-p1",
        /* three Observations */
        "resource", "resourceType", "Observation", "id", "fac-o1", "status", "final", "code",
        "text", "a", "subject", "reference", "Patient/fac-p1", "request", "method", "PUT", "url",
        "Observation/fac-o1", "resource", "resourceType", "Observation", "id", "fac-o2", "status",
        "final", "code", "text", "b", "subject", "reference", "Patient/fac-p1", "request", "method",
        "PUT", "url", "Observation/fac-o2", "resource", "resourceType", "Observation", "id",
        "fac-o3", "status", "final", "code", "text", "c", "subject", "reference", "Patient/fac-p1",
        "request", "method", "PUT", "url", "Observation/fac-o3",
        /* a report of two of them */
        "resource", "resourceType", "DiagnosticReport", "id", "fac-r1", "status", "final", "code",
        "text", "panel", "subject", "reference", "Patient/fac-p1", "result", "reference",
        "Observation/fac-o1", "reference", "Observation/fac-o2", "request", "method", "PUT", "url",
        "DiagnosticReport/fac-r1",
        /* who wrote the Patient */
        "resource", "resourceType", "Provenance", "id", "fac-prov", "recorded",
        "2026-01-01T00:00:00Z", "agent", "who", "reference", "Patient/fac-p1", "target",
        "reference", "Patient/fac-p1", "request", "method", "PUT", "url", "Provenance/fac-prov");

    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(adapter_store_apply(c, a, &o, b, &res) == BASE_OK, "seed: %s at %s", res.err.msg,
                  res.err.where);
    json_decref(b);
    base_arena_free(a);
    PQfinish(c);
}

/* "mode Type/id" of each entry, joined by ", ". */
static char *
entry_list(const json_t *b)
{
    char *out = calloc(1, 8192);
    const json_t *e;
    size_t i;

    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        const json_t *res = json_object_get(e, "resource");
        char one[200];

        snprintf(one, sizeof(one), "%s%s %s/%s", i > 0 ? ", " : "",
                 json_string_value(json_object_get(json_object_get(e, "search"), "mode")),
                 json_string_value(json_object_get(res, "resourceType")),
                 json_string_value(json_object_get(res, "id")));
        strncat(out, one, 8191 - strlen(out));
    }
    return out;
}

static void
expect_entries(const char *path, const char *want)
{
    json_t *b = ait_get_json(&T, path);
    char *got = entry_list(b);

    assert_searchset(b);
    ck_assert_msg(strcmp(got, want) == 0, "GET %s: [%s], expected [%s]", path, got, want);
    free(got);
    json_decref(b);
}

/* A request as the gateway with one extra header (body may be NULL);
 * returns the status. */
static long
as_gateway(const char *method, const char *path, const char *header, const char *body,
           struct tu_http_resp *r)
{
    struct tu_http_opts o = {0};
    const char *h[2] = {header, NULL};
    char url[2048];

    o.method = method;
    o.body = body;
    o.body_len = body != NULL ? strlen(body) : 0;
    o.headers = h;
    o.ca_file = T.pki.p.ca;
    o.cert_file = T.pki.gw_cert;
    o.key_file = T.pki.gw_key;
    o.timeout_ms = 60000;
    snprintf(url, sizeof(url), "%s%s", T.base, path);
    tu_http_request(url, &o, r);
    tu_assert_fhir_answer(url, r);
    return r->status;
}

/* GET with Prefer: handling=lenient; returns the status. */
static long
get_lenient(const char *path, struct tu_http_resp *r)
{
    return as_gateway("GET", path, "Prefer: handling=lenient", NULL, r);
}

START_TEST(include_and_revinclude)
{
    struct tu_http_resp r = {0};
    json_t *b;

    seed_includes();
    /* three matches point at one Patient: it comes once, after them */
    expect_entries("/fhir/Observation?patient=fac-p1&_sort=_id&_include=Observation:patient",
                   "match Observation/fac-o1, match Observation/fac-o2, "
                   "match Observation/fac-o3, include Patient/fac-p1");
    /* the report's results, not the report again; a page of one with more
     * includes than _count */
    expect_entries("/fhir/DiagnosticReport?patient=fac-p1&_count=1"
                   "&_include=DiagnosticReport:result",
                   "match DiagnosticReport/fac-r1, include Observation/fac-o1, "
                   "include Observation/fac-o2");
    expect_entries("/fhir/Patient?_id=fac-p1&_revinclude=Provenance:target",
                   "match Patient/fac-p1, include Provenance/fac-prov");
    expect_entries("/fhir/Patient?_id=fac-p1&_revinclude=Provenance:target:Observation",
                   "match Patient/fac-p1");
    /* _count, total and links count matches only */
    b = ait_get_json(&T, "/fhir/Observation?patient=fac-p1&_sort=_id&_count=2"
                         "&_include=Observation:patient&_total=accurate");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 3);
    ck_assert_ptr_nonnull(ait_link(b, "next"));
    ck_assert_ptr_nonnull(strstr(ait_link(b, "next"), "_include=Observation:patient"));
    json_decref(b);
    /* _summary=count: no entries; _elements trims the matches only */
    b = ait_get_json(&T, "/fhir/Observation?patient=fac-p1&_include=Observation:patient"
                         "&_summary=count");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 0);
    json_decref(b);
    b = ait_get_json(&T, "/fhir/Observation?_id=fac-o1&_elements=status"
                         "&_include=Observation:patient");
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 2);
    ck_assert_ptr_null(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "entry"), 0), "resource"), "subject"));
    ck_assert_ptr_nonnull(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "entry"), 1), "resource"), "name"));
    ck_assert(!ait_json_has(json_array_get(json_object_get(b, "entry"), 1), "SUBSETTED"));
    json_decref(b);
    /* strict: an unknown or non-reference parameter and :iterate are 400
     * naming the parameter */
    {
        static const char *const bad[][2] = {
            {"/fhir/Observation?_include=Observation:nosuch", "_include"},
            {"/fhir/Observation?_include=Observation:code", "_include"},
            {"/fhir/Observation?_include:iterate=Observation:patient", "_include"},
            {"/fhir/Patient?_revinclude=Provenance:nosuch", "_revinclude"},
            {"/fhir/Patient?_revinclude:iterate=Provenance:target", "_revinclude"},
        };

        for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
            memset(&r, 0, sizeof(r));
            ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", bad[i][0], NULL, 0, &r), 400);
            ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
            ck_assert_msg(strstr(r.body, bad[i][1]) != NULL, "%s: %s", bad[i][0], r.body);
            tu_http_resp_free(&r);
        }
    }
    /* lenient: ignored with a warning entry; the good include still served */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(get_lenient("/fhir/Observation?patient=fac-p1&_sort=_id"
                                 "&_include:iterate=Observation:patient"
                                 "&_include=Observation:nosuch&_revinclude=Provenance:target",
                                 &r),
                     200);
    ck_assert_int_eq(fhir_json_parse(r.body, r.body_len, NULL, &b, NULL), BASE_OK);
    {
        char *got = entry_list(b);

        ck_assert_msg(strcmp(got, "match Observation/fac-o1, match Observation/fac-o2, "
                                  "match Observation/fac-o3, outcome OperationOutcome/(null)") == 0,
                      "%s", got);
        free(got);
    }
    ck_assert_ptr_nonnull(strstr(r.body, "\"warning\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"_include\""));
    ck_assert_ptr_nonnull(strstr(r.body, ":iterate"));
    json_decref(b);
    tu_http_resp_free(&r);
}
END_TEST

/* POST as the gateway with a body of type `ctype`. */
static long
post_form(const char *path, const char *body, const char *ctype, struct tu_http_resp *r)
{
    char ct[128];

    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    return as_gateway("POST", path, ct, body, r);
}

/* POST [type]/_search (FHIR R4 http.html#search) is the GET's search:
 * the same entries, URL and body parameters joined; only the gateway; a
 * body of another type is 415. */
START_TEST(search_by_post)
{
    char *pid = busy_patient();
    char path[512];
    char body[512];
    struct tu_http_resp r = {0};
    json_t *b = NULL;

    snprintf(path, sizeof(path), "/fhir/Observation?patient=%s&_count=1000", pid);
    long n = entries(path);
    ck_assert_int_gt(n, 0);
    snprintf(body, sizeof(body), "patient=%s&_count=1000", pid);
    ck_assert_int_eq(post_form("/fhir/Observation/_search", body,
                               "application/x-www-form-urlencoded", &r),
                     200);
    ck_assert_int_eq(fhir_json_parse(r.body, r.body_len, NULL, &b, NULL), BASE_OK);
    assert_searchset(b);
    ck_assert_int_eq((long)json_array_size(json_object_get(b, "entry")), n);
    json_decref(b);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    snprintf(path, sizeof(path), "/fhir/Observation/_search?patient=%s", pid);
    ck_assert_int_eq(post_form(path, "_count=1000&status=final,amended,corrected,preliminary",
                               "application/x-www-form-urlencoded;charset=utf-8", &r),
                     200);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(post_form("/fhir/Observation/_search", body, "application/fhir+json", &r),
                     415);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(post_form("/fhir/Condition/_search", "date=2020",
                               "application/x-www-form-urlencoded", &r),
                     400);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_OTHER, "POST", "/fhir/Observation/_search", body,
                              strlen(body), &r),
                     403);
    tu_http_resp_free(&r);
    /* Prefer: handling=lenient (R4 search.html#errors): what is not
     * supported is ignored and listed in an OperationOutcome entry */
    {
        static const char *const queries[] = {"foo=1", "_include:iterate=Observation:subject"};

        for (size_t i = 0; i < 2; i++) {
            char url[1024];

            memset(&r, 0, sizeof(r));
            snprintf(url, sizeof(url), "/fhir/Observation?patient=%s&%s&_count=1000", pid,
                     queries[i]);
            ck_assert_msg(get_lenient(url, &r) == 200, "%s: %ld %s", queries[i], r.status, r.body);
            ck_assert_int_eq(fhir_json_parse(r.body, r.body_len, NULL, &b, NULL), BASE_OK);
            ck_assert_int_eq((long)json_array_size(json_object_get(b, "entry")), n + 1);
            ck_assert_ptr_nonnull(strstr(r.body, "\"OperationOutcome\""));
            ck_assert_ptr_nonnull(strstr(r.body, i == 0 ? "\"foo\"" : "_include"));
            json_decref(b);
            tu_http_resp_free(&r);
        }
        memset(&r, 0, sizeof(r));
    }
    free(pid);
}
END_TEST

/* Following next links visits every resource exactly once. */
START_TEST(paging_visits_everything_once)
{
    long total = ait_count(&T, "SELECT count(*) FROM store.resource WHERE res_type = "
                               "'Observation' AND NOT deleted");
    char url[2048] = "/fhir/Observation?_count=7";
    char **seen = calloc((size_t)total + 1, sizeof(char *));
    long n = 0;
    int pages = 0;

    ck_assert_int_gt(total, 14);
    for (;;) {
        json_t *b = ait_get_json(&T, url);
        const char *next = ait_link(b, "next");
        json_t *e;
        size_t i;

        assert_searchset(b);
        pages++;
        json_array_foreach(json_object_get(b, "entry"), i, e)
        {
            const char *id = tu_json_str(e, "resource.id");

            ck_assert_int_lt(n, total);
            for (long k = 0; k < n; k++)
                ck_assert_str_ne(seen[k], id);
            seen[n++] = strdup(id);
        }
        if (next == NULL) {
            json_decref(b);
            break;
        }
        snprintf(url, sizeof(url), "%s", next);
        json_decref(b);
    }
    ck_assert_int_eq(n, total);
    ck_assert_int_eq(pages, (int)((total + 6) / 7));
    for (long k = 0; k < n; k++)
        free(seen[k]);
    free(seen);
}
END_TEST

/* ---------------------------------------------------------- identity pull -- */

static void
send_adt(const char *event, const char *mrn, const char *family, unsigned k)
{
    char msg[1024];
    int fd = ait_mllp_connect(&T);
    char *ack;
    int n = snprintf(msg, sizeof(msg),
                     "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^%s^ADT_A01|"
                     "PULL%u|P|2.5.1\rEVN|%s|20261128101500\rPID|1||%s^^^HOSP-A^MR||%s^Pat||"
                     "19800101|F\r",
                     event, k, event, mrn, family);

    ait_mllp_send(fd, msg, (size_t)n);
    ack = ait_mllp_ack(fd, 10000);
    ck_assert_msg(ack != NULL && strcmp(ait_msa(ack), "AA") == 0, "ADT not accepted");
    free(ack);
    close(fd);
}

/* Patient?_sort=_lastUpdated pages by key: patients updated or created
 * while the puller pages are seen later, none existing at the start is
 * skipped, and lastUpdated never goes back. */
START_TEST(identity_pull_never_skips)
{
    char **ids = NULL;
    size_t n_ids = 0;
    char url[2048] = "/fhir/Patient?_sort=_lastUpdated&_count=3";
    char last[64] = "";
    char *seen[4096];
    size_t n_seen = 0;
    unsigned k = 0;

    ids = pt_column(T.db, "SELECT id FROM store.resource WHERE res_type = 'Patient'", &n_ids);
    ck_assert_uint_gt(n_ids, 6);
    for (int page = 0; page < 1000; page++) {
        json_t *b = ait_get_json(&T, url);
        const char *next = ait_link(b, "next");
        json_t *e;
        size_t i;

        assert_searchset(b);
        json_array_foreach(json_object_get(b, "entry"), i, e)
        {
            const char *lu = tu_json_str(e, "resource.meta.lastUpdated");

            ck_assert_str_gt(lu, last); /* increasing, no repeats */
            snprintf(last, sizeof(last), "%s", lu);
            ck_assert_uint_lt(n_seen, 4096);
            seen[n_seen++] = strdup(tu_json_str(e, "resource.id"));
        }
        /* Meanwhile the HIS changes the data: a patient already seen is
         * updated (it moves to the end), and a new one arrives. */
        if (page < 3 && n_seen > 0) {
            char mrn[32];

            snprintf(mrn, sizeof(mrn), "PULLNEW%u", k);
            send_adt("A01", mrn, "New", k++);
            send_adt("A08", "PATID1234", page == 0 ? "Changed" : "Again", k++);
        }
        if (next == NULL) {
            json_decref(b);
            break;
        }
        ck_assert_ptr_nonnull(strstr(next, "_lastUpdated=gt"));
        snprintf(url, sizeof(url), "%s", next);
        json_decref(b);
    }
    for (size_t i = 0; i < n_ids; i++) {
        bool found = false;

        for (size_t j = 0; j < n_seen && !found; j++)
            found = strcmp(ids[i], seen[j]) == 0;
        ck_assert_msg(found, "patient %s was skipped", ids[i]);
        free(ids[i]);
    }
    free(ids);
    /* the new patients were pulled too */
    ck_assert_uint_ge(n_seen, n_ids + 3);
    for (size_t j = 0; j < n_seen; j++)
        free(seen[j]);
}
END_TEST

START_TEST(identity_pull_cursor_form)
{
    json_t *b = ait_get_json(&T, "/fhir/Patient?_sort=_lastUpdated&_count=2");
    const char *lu = tu_json_str(b, "entry.1.resource.meta.lastUpdated");
    char url[512];
    json_t *b2;

    ck_assert_ptr_nonnull(lu);
    /* the gateway's own form: _lastUpdated=ge<cursor> (and gt) */
    snprintf(url, sizeof(url), "/fhir/Patient?_lastUpdated=ge%s&_sort=_lastUpdated&_count=2", lu);
    b2 = ait_get_json(&T, url);
    ck_assert_str_eq(tu_json_str(b2, "entry.0.resource.meta.lastUpdated"), lu);
    json_decref(b2);
    snprintf(url, sizeof(url), "/fhir/Patient?_lastUpdated=gt%s&_sort=_lastUpdated&_count=2", lu);
    b2 = ait_get_json(&T, url);
    ck_assert_str_gt(tu_json_str(b2, "entry.0.resource.meta.lastUpdated"), lu);
    json_decref(b2);
    json_decref(b);
}
END_TEST

/* ----------------------------------------------------------- $everything -- */

static size_t
everything_ids(const char *first, char ***out)
{
    char url[2048];
    char **ids = calloc(10000, sizeof(char *));
    size_t n = 0;

    snprintf(url, sizeof(url), "%s", first);
    for (int page = 0; page < 500; page++) {
        json_t *b = ait_get_json(&T, url);
        const char *next = ait_link(b, "next");
        json_t *e;
        size_t i;

        assert_searchset(b);
        json_array_foreach(json_object_get(b, "entry"), i, e)
        {
            char id[200];

            snprintf(id, sizeof(id), "%s/%s", tu_json_str(e, "resource.resourceType"),
                     tu_json_str(e, "resource.id"));
            ck_assert_uint_lt(n, 10000);
            ids[n++] = strdup(id);
        }
        if (next == NULL) {
            json_decref(b);
            break;
        }
        snprintf(url, sizeof(url), "%s", next);
        json_decref(b);
    }
    *out = ids;
    return n;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(everything_pages_agree)
{
    char *pid = busy_patient();
    char path[256];
    char **small = NULL;
    char **big = NULL;
    size_t n_small;
    size_t n_big;
    json_t *b;

    snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything?_count=1000", pid);
    b = ait_get_json(&T, path);
    assert_searchset(b);
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.resourceType"), "Patient");
    ck_assert_str_eq(tu_json_str(b, "entry.0.resource.id"), pid);
    json_decref(b);
    n_big = everything_ids(path, &big);
    snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything?_count=3", pid);
    n_small = everything_ids(path, &small);
    ck_assert_uint_gt(n_big, 5);
    ck_assert_uint_eq(n_small, n_big);
    qsort(small, n_small, sizeof(char *), cmp_str);
    qsort(big, n_big, sizeof(char *), cmp_str);
    for (size_t i = 0; i < n_big; i++) {
        ck_assert_str_eq(small[i], big[i]);
        if (i > 0)
            ck_assert_str_ne(big[i], big[i - 1]); /* no duplicates */
    }
    for (size_t i = 0; i < n_big; i++) {
        free(small[i]);
        free(big[i]);
    }
    free(small);
    free(big);
    /* start/end (care dates): a range the record lies in keeps what has a
     * care date; one far in the future keeps the Patient and what has none;
     * small pages carry the range in their links */
    {
        char **in = NULL;
        char **later = NULL;
        char **in_small = NULL;
        size_t n_in;
        size_t n_later;
        size_t n_in_small;
        struct tu_http_resp r = {0};
        static const char *const bad[] = {"start=2021-13", "end=2021-01-01T10:00:00Z",
                                          "start=yesterday"};

        snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything?start=1900&end=2100&_count=1000",
                 pid);
        n_in = everything_ids(path, &in);
        snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything?start=1900&end=2100&_count=3",
                 pid);
        n_in_small = everything_ids(path, &in_small);
        snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything?start=2200-01-01", pid);
        n_later = everything_ids(path, &later);
        ck_assert_uint_gt(n_in, 5);
        ck_assert_uint_le(n_in, n_big);
        ck_assert_uint_eq(n_in_small, n_in);
        ck_assert_uint_ge(n_later, 1);
        ck_assert_uint_lt(n_later, n_in);
        ck_assert_int_eq(strncmp(later[0], "Patient/", 8), 0);
        for (size_t i = 0; i < n_later; i++)
            ck_assert_msg(strncmp(later[i], "Observation/", 12) != 0 &&
                              strncmp(later[i], "Encounter/", 10) != 0,
                          "%s has a care date, none after 2200", later[i]);
        for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
            snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything?%s", pid, bad[i]);
            ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", path, NULL, 0, &r), 400);
            tu_http_resp_free(&r);
        }
        for (size_t i = 0; i < n_in; i++)
            free(in[i]);
        for (size_t i = 0; i < n_in_small; i++)
            free(in_small[i]);
        for (size_t i = 0; i < n_later; i++)
            free(later[i]);
        free(in);
        free(in_small);
        free(later);
    }
    free(pid);
    /* _type narrows it */
    snprintf(path, sizeof(path), "/fhir/Patient/nobody-here/$everything");
    {
        struct tu_http_resp r = {0};

        ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", path, NULL, 0, &r), 404);
        tu_http_resp_free(&r);
    }
}
END_TEST

/* ------------------------------------------------------ read, vread, XML -- */

START_TEST(read_vread_xml)
{
    char *pid = busy_patient();
    char path[256];
    char etag[64];
    char lastmod[64];
    struct tu_http_resp r = {0};
    json_t *p;
    json_t *xml_tree = NULL;

    snprintf(path, sizeof(path), "/fhir/Patient/%s", pid);
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", path, NULL, 0, &r), 200);
    ck_assert_ptr_nonnull(tu_http_header(&r, "ETag", etag, sizeof(etag)));
    ck_assert_int_eq(strncmp(etag, "W/\"", 3), 0);
    ck_assert_int_eq(fhir_json_parse(r.body, r.body_len, NULL, &p, NULL), BASE_OK);
    ait_assert_valid(p, "Patient");
    ck_assert_ptr_nonnull(tu_http_header(&r, "Last-Modified", lastmod, sizeof(lastmod)));
    tu_http_resp_free(&r);
    /* conditional read (R4 http.html#cread, RFC 9110 13.1): the version the
     * client holds is a 304 without a body; another version, or an older
     * date, the resource */
    {
        static const struct {
            const char *header;
            const char *value; /* NULL: the ETag (If-None-Match) or Last-Modified */
            long status;
        } cr[] = {{"If-None-Match", NULL, 304},
                  {"If-None-Match", "W/\"999\", *", 304},
                  {"If-None-Match", "W/\"999\"", 200},
                  {"If-Modified-Since", NULL, 304},
                  {"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT", 200},
                  {"If-Modified-Since", "yesterday", 200}};

        for (size_t i = 0; i < sizeof(cr) / sizeof(cr[0]); i++) {
            const char *v = cr[i].value != NULL                     ? cr[i].value
                            : strstr(cr[i].header, "Since") != NULL ? lastmod
                                                                    : etag;
            char h[160];

            snprintf(h, sizeof(h), "%s: %s", cr[i].header, v);
            memset(&r, 0, sizeof(r));
            ck_assert_msg(as_gateway("GET", path, h, NULL, &r) == cr[i].status, "%s: %ld", h,
                          r.status);
            if (cr[i].status == 304)
                ck_assert_uint_eq(r.body_len, 0);
            tu_http_resp_free(&r);
        }
    }
    /* vread of version 1 */
    snprintf(path, sizeof(path), "/fhir/Patient/%s/_history/1", pid);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", path, NULL, 0, &r), 200);
    tu_http_resp_free(&r);
    /* XML, read back into the same resource */
    snprintf(path, sizeof(path), "/fhir/Patient/%s?_format=xml", pid);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", path, NULL, 0, &r), 200);
    ck_assert_int_eq(fhir_xml_read(r.body, r.body_len, NULL, NULL, &xml_tree, NULL), BASE_OK);
    ck_assert(fhir_json_equal(xml_tree, p));
    tu_http_resp_free(&r);
    /* a searchset in XML too */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(
        ait_http(&T, AIT_GATEWAY, "GET", "/fhir/Observation?_count=3&_format=xml", NULL, 0, &r),
        200);
    ck_assert_ptr_nonnull(strstr(r.body, "<Bundle xmlns=\"http://hl7.org/fhir\">"));
    tu_http_resp_free(&r);
    /* not found */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", "/fhir/Patient/no-such-id", NULL, 0, &r),
                     404);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    json_decref(p);
    json_decref(xml_tree);
    free(pid);
}
END_TEST

/* ------------------------------------------ what other FHIR clients expect -- */

/* A Bundle's link `rel` from an answer in either format, malloc'd. */
static char *
link_of(const struct tu_http_resp *r, const char *rel)
{
    json_t *b = NULL;
    const char *u;
    char *out;

    if (strstr(r->body, "<Bundle") != NULL)
        ck_assert_int_eq(fhir_xml_read(r->body, r->body_len, NULL, NULL, &b, NULL), BASE_OK);
    else
        ck_assert_int_eq(fhir_json_parse(r->body, r->body_len, NULL, &b, NULL), BASE_OK);
    u = ait_link(b, rel);
    out = u != NULL ? strdup(u) : NULL;
    json_decref(b);
    return out;
}

/*
 * What HAPI's client, fhir.js and test kits do that our gateway does not:
 * reach the server under another name (localhost) and follow next links as
 * they are, ask for XML by _format and expect it on every page, send an
 * Accept the server cannot satisfy (406, R4 http.html#mime-type), ask
 * OPTIONS, and read the CapabilityStatement's formats and parameters.
 */
START_TEST(links_negotiation_and_methods_as_clients_use_them)
{
    struct tu_http_resp r = {0};
    char url[512];
    char h[128];
    char *next;
    json_t *cs;
    const json_t *res;
    size_t i;
    bool tag = false;

    /* links under the base the client used, _format kept: page 2 is XML */
    snprintf(url, sizeof(url), "https://localhost:%u/fhir/Observation?_count=2&_format=xml",
             T.https);
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", url, NULL, 0, &r), 200);
    ck_assert_str_eq(tu_http_header(&r, "Content-Type", h, sizeof(h)),
                     "application/fhir+xml; charset=utf-8");
    next = link_of(&r, "next");
    ck_assert_ptr_nonnull(next);
    snprintf(url, sizeof(url), "https://localhost:%u/fhir/Observation?", T.https);
    ck_assert_msg(strncmp(next, url, strlen(url)) == 0, "next link %s", next);
    ck_assert_msg(strstr(next, "_format=xml") != NULL, "next link %s", next);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", next, NULL, 0, &r), 200);
    ck_assert_str_eq(tu_http_header(&r, "Content-Type", h, sizeof(h)),
                     "application/fhir+xml; charset=utf-8");
    free(next);
    next = link_of(&r, "self");
    ck_assert_msg(strncmp(next, url, strlen(url)) == 0, "self link %s", next);
    free(next);
    tu_http_resp_free(&r);
    /* the identity pull's key-set links and POST _search too */
    snprintf(url, sizeof(url),
             "https://localhost:%u/fhir/Patient?_sort=_lastUpdated&_count=2&_pretty=true", T.https);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", url, NULL, 0, &r), 200);
    next = link_of(&r, "next");
    ck_assert_ptr_nonnull(next);
    ck_assert_msg(strncmp(next, "https://localhost:", 18) == 0 && strstr(next, "_pretty=true"),
                  "next link %s", next);
    free(next);
    tu_http_resp_free(&r);
    snprintf(url, sizeof(url), "https://localhost:%u/fhir/Observation/_search?_format=json",
             T.https);
    {
        const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
        struct tu_http_opts o = {.method = "POST",
                                 .body = "_count=2",
                                 .body_len = 8,
                                 .headers = form,
                                 .ca_file = T.pki.p.ca,
                                 .cert_file = T.pki.gw_cert,
                                 .key_file = T.pki.gw_key,
                                 .timeout_ms = 60000};

        memset(&r, 0, sizeof(r));
        tu_http_request(url, &o, &r);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    }
    next = link_of(&r, "next");
    ck_assert_msg(next != NULL && strncmp(next, "https://localhost:", 18) == 0 &&
                      strstr(next, "_format=json") != NULL && strstr(next, "_count=2") != NULL,
                  "next link %s", next != NULL ? next : "(none)");
    free(next);
    tu_http_resp_free(&r);
    /* an Accept naming only what the server cannot produce: 406 */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(
        as_gateway("GET", "/fhir/Observation?_count=1", "Accept: application/pdf", NULL, &r), 406);
    ck_assert_ptr_nonnull(strstr(r.body, "\"not-supported\""));
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(as_gateway("GET", "/fhir/metadata", "Accept: text/html", NULL, &r), 406);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(as_gateway("GET", "/fhir/metadata", "Accept: text/html, */*;q=0.1", NULL, &r),
                     200);
    tu_http_resp_free(&r);
    /* OPTIONS: 204 and the methods; a wrong method: 405 naming them */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "OPTIONS", "/fhir/Observation", NULL, 0, &r), 204);
    ck_assert_str_eq(tu_http_header(&r, "Allow", h, sizeof(h)), "GET, HEAD, OPTIONS");
    ck_assert_uint_eq(r.body_len, 0);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "OPTIONS", "/fhir/Observation/_search", NULL, 0, &r),
                     204);
    ck_assert_ptr_nonnull(strstr(tu_http_header(&r, "Allow", h, sizeof(h)), "POST"));
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "DELETE", "/fhir/Observation/x", NULL, 0, &r), 405);
    ck_assert_str_eq(tu_http_header(&r, "Allow", h, sizeof(h)), "GET, HEAD, OPTIONS");
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    /* HEAD where GET works: the headers, no body */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "HEAD", "/fhir/Observation?_count=1", NULL, 0, &r),
                     200);
    ck_assert_str_eq(tu_http_header(&r, "Content-Type", h, sizeof(h)),
                     "application/fhir+json; charset=utf-8");
    ck_assert_uint_eq(r.body_len, 0);
    tu_http_resp_free(&r);
    /* the CapabilityStatement lists the MIME types and the meta parameters
     * the store evaluates (_tag answered above as any other) */
    cs = ait_get_json(&T, "/fhir/metadata");
    ck_assert(ait_json_has(json_object_get(cs, "format"), "\"application/fhir+json\""));
    ck_assert(ait_json_has(json_object_get(cs, "format"), "\"application/fhir+xml\""));
    json_array_foreach(json_object_get(json_array_get(json_object_get(cs, "rest"), 0), "resource"),
                       i, res)
    {
        if (strcmp(tu_json_str(res, "type"), "Observation") == 0)
            tag = ait_json_has(json_object_get(res, "searchParam"), "\"_tag\"");
    }
    ck_assert(tag);
    json_decref(cs);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(
        ait_http(&T, AIT_GATEWAY, "GET", "/fhir/Observation?_tag=urn:x|y", NULL, 0, &r), 200);
    tu_http_resp_free(&r);
}
END_TEST

/* ------------------------------------------- metadata, health, metrics -- */

START_TEST(metadata_health_metrics_report)
{
    json_t *cs = ait_get_json(&T, "/fhir/metadata");
    struct tu_http_resp r = {0};
    json_t *rep;
    bool mapped = false;
    json_t *sys;
    size_t i;

    ck_assert_str_eq(tu_json_str(cs, "resourceType"), "CapabilityStatement");
    ait_assert_valid(cs, "CapabilityStatement");
    /* R4 rest.resource.searchInclude / searchRevInclude */
    json_array_foreach(json_object_get(json_array_get(json_object_get(cs, "rest"), 0), "resource"),
                       i, sys)
    {
        const char *type = json_string_value(json_object_get(sys, "type"));

        /* reads answer conditional requests (read_vread_xml) */
        ck_assert_str_eq(tu_json_str(sys, "conditionalRead"), "full-support");
        if (strcmp(type, "Observation") == 0)
            ck_assert(
                ait_json_has(json_object_get(sys, "searchInclude"), "\"Observation:patient\""));
        if (strcmp(type, "Patient") == 0)
            ck_assert(
                ait_json_has(json_object_get(sys, "searchRevInclude"), "\"Provenance:target\""));
        if (strcmp(type, "DiagnosticReport") == 0)
            ck_assert(
                ait_json_has(json_object_get(sys, "searchInclude"), "\"DiagnosticReport:result\""));
    }
    ck_assert(!ait_json_has(cs, "_revinclude are not"));
    json_decref(cs);
    ck_assert_int_eq(ait_http(&T, AIT_OTHER, "GET", "/healthz", NULL, 0, &r), 200);
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", "/metrics", NULL, 0, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate_adapter_ingest_messages_total{kind=\"hl7v2\""));
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate_adapter_acks_total{code=\"AA\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate_adapter_batch_size_count"));
    ck_assert_ptr_nonnull(strstr(r.body, "fhirgate_adapter_codemap_codes{"));
    tu_http_resp_free(&r);
    rep = ait_get_json(&T, "/admin/codemap-report");
    json_array_foreach(json_object_get(rep, "systems"), i, sys)
    {
        const json_t *codes = json_object_get(sys, "unmapped_codes");
        const char *code = json_string_value(json_array_get(codes, 0));
        char sql[700];
        size_t k;
        json_t *c;

        if (strcmp(json_string_value(json_object_get(sys, "system")),
                   "https://hosp-a.example/sid/code/OBX-3") != 0)
            continue;
        mapped = json_integer_value(json_object_get(sys, "mapped")) > 0;
        /* Issue #3: an unmapped code is counted, listed, and kept with its
         * local system in what was stored. */
        ck_assert_int_gt(json_integer_value(json_object_get(sys, "unmapped")), 0);
        ck_assert_ptr_nonnull(code);
        json_array_foreach(codes, k, c)
            ck_assert_str_ne(json_string_value(c), "GLUCOSE"); /* that one is mapped */
        ck_assert_ptr_null(strstr(code, "$$"));
        /* in an Observation's code, or a DocumentReference's type (an ED
         * result under the same OBX-3 code) */
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM store.resource r WHERE r.res_type IN ('Observation', "
                 "'DocumentReference') AND jsonb_path_exists(r.content, "
                 "'$.**.coding[*] ? (@.system == $s && @.code == $c)', jsonb_build_object('s', "
                 "'https://hosp-a.example/sid/code/OBX-3', 'c', $$%s$$::text))",
                 code);
        ck_assert_msg(ait_count(&T, sql) > 0, "code %s not stored", code);
    }
    ck_assert(mapped);
    /* Issue #3: the same messages again change nothing — the report's
     * counts included (they are kept in the store with the data). */
    load_corpus(&T);
    {
        json_t *again = ait_get_json(&T, "/admin/codemap-report");

        json_array_foreach(json_object_get(rep, "systems"), i, sys)
            json_object_del(sys, "last_seen");
        json_array_foreach(json_object_get(again, "systems"), i, sys)
            json_object_del(sys, "last_seen");
        ck_assert_msg(json_equal(rep, again), "a resent message was counted again");
        json_decref(again);
    }
    json_decref(rep);
    /* the report is for the gateway and admin_clients only */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_OTHER, "GET", "/admin/codemap-report", NULL, 0, &r), 403);
    tu_http_resp_free(&r);
}
END_TEST

Suite *
adapter_facade_suite(void)
{
    Suite *s = suite_create("adapter_facade");
    TCase *tc = tcase_create("facade");

    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, only_the_gateway_reads_data);
    tcase_add_test(tc, search_parameters);
    tcase_add_test(tc, every_type_every_listed_parameter);
    tcase_add_test(tc, search_refusals);
    tcase_add_test(tc, include_and_revinclude);
    tcase_add_test(tc, search_by_post);
    tcase_add_test(tc, paging_visits_everything_once);
    tcase_add_test(tc, identity_pull_never_skips);
    tcase_add_test(tc, identity_pull_cursor_form);
    tcase_add_test(tc, everything_pages_agree);
    tcase_add_test(tc, read_vread_xml);
    tcase_add_test(tc, metadata_health_metrics_report);
    tcase_add_test(tc, links_negotiation_and_methods_as_clients_use_them);
    suite_add_tcase(s, tc);
    return s;
}
