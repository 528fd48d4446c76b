/*
 * Pushed and dropped inputs through the real daemon (issue #4): POST
 * /ingest/cda with every corpus document, POST /ingest/csv with the Synthea
 * export (bad rows reported by line and column, good rows stored, the
 * fail policy), POST /ingest/hl7v2 with a multi-message file, who may push,
 * and the CDA and CSV drop folders (done/ and failed/ with reports, hidden
 * and temporary names left alone, a file written in two steps taken whole).
 */
#include "test/integration/adapter_it.h"

static struct ait T;
static char cda_dir[600];
static char csv_dir[600];

static void
setup(void)
{
    const char *src = getenv("FHIRGATE_SRC");
    const char *dir = tu_tmpdir("ait-ingest");
    char extra[3000];

    ck_assert_ptr_nonnull(src);
    mkdir(dir, 0755);
    snprintf(cda_dir, sizeof(cda_dir), "%s/drop-cda", dir);
    snprintf(csv_dir, sizeof(csv_dir), "%s/drop-csv", dir);
    mkdir(cda_dir, 0755);
    mkdir(csv_dir, 0755);
    snprintf(extra, sizeof(extra),
             "[cda]\ndrop_dir = %s\n\n"
             "[csv \"patients\"]\nmapping = %s/adapters/csv/mappings/synthea/patients.map\n"
             "drop_dir = %s\n\n"
             "[csv \"strict\"]\nmapping = %s/adapters/csv/mappings/synthea/patients.map\n"
             "on_error = fail\n\n"
             "[csv \"conditions\"]\nmapping = %s/adapters/csv/mappings/synthea/conditions.map\n",
             cda_dir, src, csv_dir, src, src);
    ait_init(&T, "ait-ingest", extra);
    ait_start(&T);
}

static void
teardown(void)
{
    ck_assert_int_eq(ait_stop(&T, SIGTERM), 0);
}

static long
post(enum ait_who who, const char *path, const char *body, size_t len, json_t **out)
{
    struct tu_http_resp r = {0};
    long st = ait_http(&T, who, "POST", path, body, len, &r);

    if (out != NULL) {
        *out = NULL;
        if (r.body != NULL && fhir_json_parse(r.body, r.body_len, NULL, out, NULL) != BASE_OK)
            *out = NULL;
    }
    tu_http_resp_free(&r);
    return st;
}

static long
count_type(const char *type)
{
    char sql[200];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM store.resource WHERE res_type = '%s'", type);
    return ait_count(&T, sql);
}

/* ------------------------------------------------------------------ CDA -- */

static void
empty_store(void)
{
    ck_assert_int_ge(pt_sql(T.db,
                            "TRUNCATE store.resource, store.resource_history, store.identifier, "
                            "store.idx_token, store.idx_string, store.idx_date, "
                            "store.idx_reference, store.idx_quantity, store.idx_uri, "
                            "store.ingest_ledger",
                            NULL),
                     0);
}

/* Every corpus document into an empty store: stored whole, with the
 * original attached to its DocumentReference. */
START_TEST(cda_corpus_posted)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("cda"), ".xml", &n);
    size_t len = 0;
    char *doc;
    json_t *resp;
    long conflicts = 0;

    ck_assert_uint_ge(n, 10);
    for (size_t i = 0; i < n; i++) {
        size_t entries;

        empty_store();
        doc = tu_read_file(files[i], &len);
        ck_assert_ptr_nonnull(doc);
        ck_assert_msg(post(AIT_HIS, "/ingest/cda", doc, len, &resp) == 200, "%s", files[i]);
        ck_assert_str_eq(tu_json_str(resp, "type"), "transaction-response");
        entries = json_array_size(json_object_get(resp, "entry"));
        ck_assert_uint_gt(entries, 0);
        ait_assert_valid(resp, "transaction-response");
        json_decref(resp);
        ck_assert_int_eq(count_type("DocumentReference"), 1);
        ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.resource"), (long)entries);
        free(doc);
    }
    /* All into one store: the C-CDA examples reuse entry ids across
     * documents, so some conditional updates become ambiguous — refused
     * whole with 412 and the entry named, never merged or half stored. */
    empty_store();
    for (size_t i = 0; i < n; i++) {
        long before = ait_count(&T, "SELECT count(*) FROM store.resource");
        long st;

        doc = tu_read_file(files[i], &len);
        st = post(AIT_HIS, "/ingest/cda", doc, len, &resp);
        ck_assert_msg(st == 200 || st == 412, "%s: %ld", files[i], st);
        if (st == 412) {
            conflicts++;
            ck_assert_str_eq(tu_json_str(resp, "issue.0.code"), "multiple-matches");
            ck_assert_ptr_nonnull(
                strstr(tu_json_str(resp, "issue.0.expression.0"), "Bundle.entry["));
            ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.resource"), before);
        }
        json_decref(resp);
        free(doc);
    }
    ck_assert_int_eq(count_type("DocumentReference"), (long)n - conflicts);
    ck_assert_int_gt(count_type("Condition"), 0);
    ck_assert_int_gt(count_type("Observation"), 0);
    /* the same document twice: the second time changes nothing */
    empty_store();
    doc = tu_read_file(files[0], &len);
    ck_assert_int_eq(post(AIT_HIS, "/ingest/cda", doc, len, NULL), 200);
    ck_assert_int_eq(post(AIT_HIS, "/ingest/cda", doc, len, NULL), 200);
    ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.resource WHERE version > 1"), 0);
    /* only ingest clients may push */
    ck_assert_int_eq(post(AIT_GATEWAY, "/ingest/cda", doc, len, NULL), 403);
    ck_assert_int_eq(post(AIT_OTHER, "/ingest/cda", doc, len, NULL), 403);
    free(doc);
    tu_free_list(files);
}
END_TEST

/* A C-CDA with a goal, a family history and a care team (the sections the
 * third CDA sweep mapped): each is searchable at the facade by the R4
 * parameters and comes back in the patient's $everything. */
START_TEST(cda_care_sections_are_served)
{
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>"
        "<templateId root=\"2.16.840.1.113883.10.20.22.1.2\" extension=\"2015-08-01\"/>"
        "<id root=\"1.2.3.4\" extension=\"CARE-DOC-1\"/>"
        "<code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\"/><title>CCD</title>"
        "<effectiveTime value=\"20230415103012-0500\"/>"
        "<confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/>"
        "<recordTarget><patientRole><id root=\"1.2.3.5\" extension=\"CARE-P1\"/><patient><name>"
        "<given>Jane</given><family>Care</family></name><administrativeGenderCode code=\"F\" "
        "codeSystem=\"2.16.840.1.113883.5.1\"/><birthTime value=\"19700502\"/></patient>"
        "</patientRole></recordTarget>"
        "<documentationOf><serviceEvent classCode=\"PCPR\"><effectiveTime><low "
        "value=\"20230101\"/><high value=\"20230415\"/></effectiveTime><performer "
        "typeCode=\"PRF\"><functionCode code=\"PCP\" codeSystem=\"2.16.840.1.113883.5.88\"/>"
        "<assignedEntity><id root=\"2.16.840.1.113883.4.6\" extension=\"1234567893\"/>"
        "<assignedPerson><name><given>Carl</given><family>Careful</family></name>"
        "</assignedPerson></assignedEntity></performer></serviceEvent></documentationOf>"
        "<component><structuredBody>"
        "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2.60\"/><code "
        "code=\"61146-7\" codeSystem=\"2.16.840.1.113883.6.1\"/><title>Goals</title><text>Lose "
        "weight</text><entry><observation classCode=\"OBS\" moodCode=\"GOL\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.121\"/><id root=\"1.9\" extension=\"G1\"/><code "
        "code=\"29463-7\" codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"Body weight\"/>"
        "<statusCode code=\"active\"/><effectiveTime><low value=\"20230101\"/></effectiveTime>"
        "<value xsi:type=\"PQ\" value=\"68\" unit=\"kg\"/></observation></entry></section>"
        "</component>"
        "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2.15\"/><code "
        "code=\"10157-6\" codeSystem=\"2.16.840.1.113883.6.1\"/><title>Family history</title>"
        "<text>Father: diabetes</text><entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.4.45\"/><id root=\"1.9\" "
        "extension=\"F1\"/><statusCode code=\"completed\"/><subject><relatedSubject "
        "classCode=\"PRS\"><code code=\"FTH\" codeSystem=\"2.16.840.1.113883.5.111\" "
        "displayName=\"Father\"/></relatedSubject></subject><component><observation "
        "classCode=\"OBS\" moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.46\"/>"
        "<id root=\"1.9\" extension=\"F1-1\"/><code code=\"64572001\" "
        "codeSystem=\"2.16.840.1.113883.6.96\"/><statusCode code=\"completed\"/><value "
        "xsi:type=\"CD\" code=\"44054006\" codeSystem=\"2.16.840.1.113883.6.96\" "
        "displayName=\"Diabetes mellitus type 2\"/></observation></component></organizer>"
        "</entry></section></component>"
        "</structuredBody></component></ClinicalDocument>";
    static const char *const types[] = {"Goal", "FamilyMemberHistory", "CareTeam"};
    char path[256];
    char *pid = NULL;
    json_t *b;

    empty_store();
    ck_assert_int_eq(post(AIT_HIS, "/ingest/cda", doc, sizeof(doc) - 1, NULL), 200);
    ck_assert_int_ge(pt_sql(T.db,
                            "SELECT id FROM store.resource WHERE res_type = 'Patient' AND "
                            "content->'identifier' @> '[{\"value\":\"CARE-P1\"}]'",
                            &pid),
                     0);
    ck_assert_ptr_nonnull(pid);
    for (size_t i = 0; i < BASE_ARRAY_LEN(types); i++) {
        snprintf(path, sizeof(path), "/fhir/%s?patient=%s", types[i], pid);
        b = ait_get_json(&T, path);
        ck_assert_ptr_nonnull(b);
        ait_assert_valid(b, path);
        ck_assert_msg(json_integer_value(json_object_get(b, "total")) == 1, "%s", path);
        ck_assert_str_eq(tu_json_str(b, "entry.0.resource.resourceType"), types[i]);
        json_decref(b);
    }
    b = ait_get_json(&T, "/fhir/Goal?lifecycle-status=active&start-date=2023-01-01");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 1);
    json_decref(b);
    b = ait_get_json(&T, "/fhir/FamilyMemberHistory?relationship=FTH&code=44054006");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 1);
    json_decref(b);
    b = ait_get_json(&T, "/fhir/FamilyMemberHistory?relationship=MTH");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 0);
    json_decref(b);
    snprintf(path, sizeof(path), "/fhir/Patient/%s/$everything", pid);
    b = ait_get_json(&T, path);
    ck_assert_ptr_nonnull(b);
    ait_assert_valid(b, path);
    for (size_t i = 0; i < BASE_ARRAY_LEN(types); i++) {
        char needle[64];

        snprintf(needle, sizeof(needle), "\"resourceType\":\"%s\"", types[i]);
        ck_assert_msg(ait_json_has(b, needle), "$everything lacks %s", types[i]);
    }
    json_decref(b);

    /* A store whose index an earlier build wrote (before these types had
     * parameters): the restarted adapter rebuilds it in the background. */
    ck_assert_int_ge(pt_sql(T.db, "UPDATE store.index_state SET fingerprint = 'older build'", NULL),
                     0);
    ck_assert_int_ge(pt_sql(T.db,
                            "DELETE FROM store.idx_reference WHERE res_type IN ('Goal', "
                            "'FamilyMemberHistory', 'CareTeam')",
                            NULL),
                     0);
    ck_assert_int_eq(ait_stop(&T, SIGTERM), 0);
    ait_start(&T);
    snprintf(path, sizeof(path), "/fhir/Goal?patient=%s", pid);
    for (int i = 0; i < 100; i++) {
        json_int_t total;

        b = ait_get_json(&T, path);
        total = json_integer_value(json_object_get(b, "total"));
        json_decref(b);
        if (total == 1)
            break;
        ck_assert_msg(i < 99, "Goal not found again after the reindex");
        usleep(100000);
    }
    /* the pass records its end in the step after its last batch */
    for (int i = 0; ait_count(&T, "SELECT count(*) FROM store.index_state WHERE pending IS NULL "
                                  "AND fingerprint <> 'older build'") != 1;
         i++) {
        ck_assert_msg(i < 100, "the reindex pass did not finish");
        usleep(100000);
    }
    {
        struct tu_http_resp m = {0};

        ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "GET", "/metrics", NULL, 0, &m), 200);
        ck_assert_ptr_nonnull(strstr(m.body, "fhirgate_adapter_reindex_running 0"));
        ck_assert_ptr_nonnull(strstr(m.body, "fhirgate_adapter_reindexed_resources_total "));
        ck_assert_ptr_null(strstr(m.body, "fhirgate_adapter_reindexed_resources_total 0\n"));
        tu_http_resp_free(&m);
    }
    free(pid);
}
END_TEST

START_TEST(cda_refusals)
{
    static const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM "
                              "\"file:///etc/passwd\">]><ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
                              "&x;</ClinicalDocument>";
    json_t *oo = NULL;
    long st;

    st = post(AIT_HIS, "/ingest/cda", "not xml", 7, &oo);
    ck_assert_int_eq(st, 400);
    ck_assert_str_eq(tu_json_str(oo, "resourceType"), "OperationOutcome");
    json_decref(oo);
    st = post(AIT_HIS, "/ingest/cda", xxe, sizeof(xxe) - 1, &oo);
    ck_assert_msg(st == 400 || st == 403, "XXE: %ld", st);
    ck_assert_str_eq(tu_json_str(oo, "resourceType"), "OperationOutcome");
    json_decref(oo);
    ck_assert_int_eq(count_type("DocumentReference"), 0);
}
END_TEST

/* ------------------------------------------------------------------ CSV -- */

static const json_t *
issue_at(const json_t *oo, const char *loc_prefix)
{
    const json_t *is;
    size_t i;

    json_array_foreach(json_object_get(oo, "issue"), i, is)
    {
        const char *loc = tu_json_str(is, "expression.0");

        if (loc != NULL && strncmp(loc, loc_prefix, strlen(loc_prefix)) == 0)
            return is;
    }
    return NULL;
}

START_TEST(csv_posted_with_bad_rows)
{
    size_t len = 0;
    char *csv = tu_read_file(tu_corpus_path("csv/synthea-csv/patients.csv"), &len);
    char *bad;
    json_t *oo = NULL;
    char *nl;

    ck_assert_ptr_nonnull(csv);
    ck_assert_int_eq(post(AIT_HIS, "/ingest/csv?mapping=patients", csv, len, &oo), 200);
    ck_assert(ait_json_has(oo, "rows 40"));
    json_decref(oo);
    ck_assert_int_eq(count_type("Patient"), 40);
    /* Break the birth date of the 2nd data row (line 3): reported, skipped,
     * the other 39 rows stored (again: no new versions). */
    bad = strdup(csv);
    nl = strchr(strchr(bad, '\n') + 1, '\n') + 1; /* line 3 */
    memcpy(strchr(nl, ';') + 1, "99/99/1983", 10);
    ck_assert_int_eq(post(AIT_HIS, "/ingest/csv?mapping=patients", bad, len, &oo), 200);
    ck_assert_ptr_nonnull(issue_at(oo, "line 3, column "));
    ck_assert_str_eq(tu_json_str(issue_at(oo, "line 3, column "), "severity"), "warning");
    ck_assert_ptr_nonnull(
        strstr(tu_json_str(issue_at(oo, "line 3, column "), "diagnostics"), "BIRTHDATE"));
    json_decref(oo);
    ck_assert_int_eq(count_type("Patient"), 40);
    ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.resource WHERE version > 1"), 0);
    /* on_error = fail: the load stops at the bad row (422 with the report) */
    ck_assert_int_eq(post(AIT_HIS, "/ingest/csv?mapping=strict", bad, len, &oo), 422);
    ck_assert_str_eq(tu_json_str(issue_at(oo, "line 3, column "), "severity"), "error");
    json_decref(oo);
    ck_assert_int_eq(post(AIT_HIS, "/ingest/csv?mapping=nope", csv, len, NULL), 404);
    ck_assert_int_eq(post(AIT_HIS, "/ingest/csv", csv, len, NULL), 400);
    ck_assert_int_eq(post(AIT_GATEWAY, "/ingest/csv?mapping=patients", csv, len, NULL), 403);
    /* Conditions reference encounters the export does not include:
     * every one is refused by name of its place in the load, none stored
     * half-linked. */
    free(csv);
    csv = tu_read_file(tu_corpus_path("csv/synthea-csv/conditions.csv"), &len);
    ck_assert_int_eq(post(AIT_HIS, "/ingest/csv?mapping=conditions", csv, len, &oo), 200);
    ck_assert_ptr_nonnull(issue_at(oo, "Bundle 1, entry 0"));
    ck_assert_ptr_nonnull(strstr(tu_json_str(issue_at(oo, "Bundle 1, entry 0"), "diagnostics"),
                                 "conditional reference"));
    json_decref(oo);
    ck_assert_int_eq(count_type("Condition"), 0);
    free(csv);
    free(bad);
}
END_TEST

/* ---------------------------------------------------------------- HL7 v2 -- */

START_TEST(hl7v2_posted)
{
    /* the second has no patient identifier (PID-3): AE */
    static const char mixed[] =
        "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^A04^ADT_A01|PUSH1|P|2.5.1\r"
        "EVN|A04|20261128101500\rPID|1||PUSH-1^^^HOSP-A^MR||Push^One||19800101|F\r"
        "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101600||ADT^A04^ADT_A01|PUSH2|P|2.5.1\r"
        "EVN|A04|20261128101600\rPID|1||||Push^Two||19800101|F\r";
    size_t len = 0;
    char *file = tu_read_file(tu_corpus_path("hl7v2/valid/hapi-oml-o21-batch.hl7"), &len);
    struct tu_http_resp r = {0};
    char hdr[128];
    size_t acks = 0;

    ck_assert_int_eq(ait_http(&T, AIT_HIS, "POST", "/ingest/hl7v2", file, len, &r), 200);
    for (const char *p = r.body; (p = strstr(p, "MSA|AA|")) != NULL; p++)
        acks++;
    ck_assert_uint_ge(acks, 10);
    ck_assert_ptr_null(strstr(r.body, "MSA|AE|"));
    ck_assert_ptr_nonnull(tu_http_header(&r, "X-Ingest-Result", hdr, sizeof(hdr)));
    ck_assert_ptr_nonnull(strstr(hdr, "0 rejected"));
    tu_http_resp_free(&r);
    /* A good and a bad message in one file: an ACK each, in order. */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_HIS, "POST", "/ingest/hl7v2", mixed, sizeof(mixed) - 1, &r),
                     200);
    ck_assert_ptr_nonnull(strstr(r.body, "MSA|AA|PUSH1"));
    ck_assert_ptr_nonnull(strstr(r.body, "MSA|AE|PUSH2"));
    ck_assert(strstr(r.body, "MSA|AA|PUSH1") < strstr(r.body, "MSA|AE|PUSH2"));
    ck_assert_ptr_nonnull(strstr(r.body, "\rERR|"));
    ck_assert_ptr_nonnull(tu_http_header(&r, "X-Ingest-Result", hdr, sizeof(hdr)));
    ck_assert_str_eq(hdr, "1 accepted, 1 rejected");
    tu_http_resp_free(&r);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_HIS, "POST", "/ingest/hl7v2", "nothing", 7, &r), 400);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    /* only the [ingest] clients may push: the gateway may not */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ait_http(&T, AIT_GATEWAY, "POST", "/ingest/hl7v2", file, len, &r), 403);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    free(file);
}
END_TEST

/* A visit the HIS never numbers (no PV1-19) nor dates (no PV1-44):
 * admission, update and discharge land on one Encounter, finished. */
START_TEST(hl7v2_unnumbered_visit_is_one_encounter)
{
#define VISIT_MSG(ev, id, ts)                                                                      \
    "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|" ts "||ADT^" ev "^ADT_A01|" id "|P|2.3\r"               \
    "EVN|" ev "|" ts "\rPID|1||VISIT-1^^^HOSP-A^MR||Visit^One||19800101|F\r"                       \
    "PV1|1|I|2000^2012^01||||004777^ATTEND^AARON^A|||SUR||||ADM|A0\r"
    static const char seq[] = VISIT_MSG("A01", "VIS1", "20261128080000")
        VISIT_MSG("A08", "VIS2", "20261128100000") VISIT_MSG("A03", "VIS3", "20261129093000");
#undef VISIT_MSG
    struct tu_http_resp r = {0};
    char hdr[128];
    char *v = NULL;

    ck_assert_int_eq(ait_http(&T, AIT_HIS, "POST", "/ingest/hl7v2", seq, sizeof(seq) - 1, &r),
                     200);
    ck_assert_ptr_nonnull(tu_http_header(&r, "X-Ingest-Result", hdr, sizeof(hdr)));
    ck_assert_str_eq(hdr, "3 accepted, 0 rejected");
    tu_http_resp_free(&r);
    ck_assert_int_ge(
        pt_sql(T.db,
               "SELECT count(*) || ' ' || string_agg(e.content->>'status', ',') "
               "FROM store.resource e JOIN store.resource p ON p.res_type = 'Patient' "
               "AND NOT p.deleted AND p.content->'identifier' @> '[{\"value\":\"VISIT-1\"}]' "
               "WHERE e.res_type = 'Encounter' AND NOT e.deleted "
               "AND e.content->'subject'->>'reference' = 'Patient/' || p.id",
               &v),
        0);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "1 finished");
    free(v);
}
END_TEST

/* --------------------------------------------------------- drop folders -- */

static bool
wait_file(const char *path, long ms)
{
    for (long w = 0; w < ms; w += 100) {
        if (access(path, F_OK) == 0)
            return true;
        usleep(100000);
    }
    return false;
}

static void
write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

START_TEST(drop_folders)
{
    size_t len = 0;
    char *doc = tu_read_file(tu_corpus_path("cda/Progress_Note.xml"), &len);
    char *csv = tu_read_file(tu_corpus_path("csv/synthea-csv/patients.csv"), &len);
    size_t csv_len = len;
    char p1[800];
    char p2[800];
    char *report;
    FILE *f;

    /* CDA: written under a hidden name, then renamed (the atomic way) */
    snprintf(p1, sizeof(p1), "%s/.note.xml", cda_dir);
    write_file(p1, doc, strlen(doc));
    snprintf(p2, sizeof(p2), "%s/note.xml", cda_dir);
    usleep(1000000);
    ck_assert_int_eq(access(p1, F_OK), 0); /* hidden: left alone */
    ck_assert_int_eq(rename(p1, p2), 0);
    snprintf(p1, sizeof(p1), "%s/done/note.xml.report", cda_dir);
    ck_assert_msg(wait_file(p1, 10000), "CDA not taken");
    report = tu_read_file(p1, NULL);
    ck_assert_ptr_nonnull(strstr(report, "stored"));
    free(report);
    ck_assert_int_eq(count_type("DocumentReference"), 1);
    /* the document itself moved to done/ */
    ck_assert_int_ne(access(p2, F_OK), 0);
    snprintf(p1, sizeof(p1), "%s/done/note.xml", cda_dir);
    ck_assert_int_eq(access(p1, F_OK), 0);
    /* a broken document goes to failed/ with the reason (an upper-case
     * extension, as Windows exporters write it, is taken too) */
    snprintf(p1, sizeof(p1), "%s/broken.XML", cda_dir);
    write_file(p1, "<ClinicalDocument", 17);
    snprintf(p1, sizeof(p1), "%s/failed/broken.XML.report", cda_dir);
    ck_assert_msg(wait_file(p1, 10000), "broken CDA not moved to failed/");
    report = tu_read_file(p1, NULL);
    ck_assert_ptr_nonnull(strstr(report, "error"));
    free(report);
    snprintf(p1, sizeof(p1), "%s/failed/broken.XML", cda_dir);
    ck_assert_int_eq(access(p1, F_OK), 0);
    snprintf(p1, sizeof(p1), "%s/broken.XML", cda_dir);
    ck_assert_int_ne(access(p1, F_OK), 0);
    /* CSV written in two steps, in place: taken only when complete */
    snprintf(p1, sizeof(p1), "%s/patients.csv", csv_dir);
    f = fopen(p1, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(csv, 1, csv_len / 2, f), csv_len / 2);
    fflush(f);
    usleep(120000);
    ck_assert_uint_eq(fwrite(csv + csv_len / 2, 1, csv_len - csv_len / 2, f),
                      csv_len - csv_len / 2);
    fclose(f);
    /* a temporary name is never taken */
    snprintf(p2, sizeof(p2), "%s/later.csv.tmp", csv_dir);
    write_file(p2, csv, csv_len);
    snprintf(p1, sizeof(p1), "%s/done/patients.csv.report", csv_dir);
    ck_assert_msg(wait_file(p1, 10000), "CSV not taken");
    report = tu_read_file(p1, NULL);
    ck_assert_ptr_nonnull(strstr(report, "rows 40"));
    ck_assert_ptr_nonnull(strstr(report, "resources stored 40"));
    free(report);
    ck_assert_int_eq(count_type("Patient"), 41); /* 40 + the CDA's */
    ck_assert_int_eq(access(p2, F_OK), 0);
    free(doc);
    free(csv);
}
END_TEST

/* Issue #4: a CSV export far larger than memory streams through
 * the drop folder in bounded memory.  160 MB of rows that all fail (a
 * broken birth date: reported, skipped — nothing to store, so this is the
 * reader, the mapper and the report alone): the adapter's resident memory
 * grows by far less than the file, and the report counts every row. */
START_TEST(big_csv_drop_in_bounded_memory)
{
    const size_t target = 160u << 20;
    size_t len = 0;
    char *csv = tu_read_file(tu_corpus_path("csv/synthea-csv/patients.csv"), &len);
    char *row = strchr(csv, '\n') + 1;
    char *row_end = strchr(row, '\n') + 1;
    size_t row_len = (size_t)(row_end - row);
    char hidden[800];
    char path[800];
    char want[64];
    size_t rows = 0;
    size_t written = 0;
    long base_kb;
    long peak_kb = 0;
    char *report;
    FILE *f;

    memcpy(strchr(row, ';') + 1, "99/99/1983", 10); /* the birth date of the first data row */
    snprintf(hidden, sizeof(hidden), "%s/.big.csv", csv_dir);
    f = fopen(hidden, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(csv, 1, (size_t)(row - csv), f), (size_t)(row - csv));
    for (; written < target; written += row_len, rows++)
        ck_assert_uint_eq(fwrite(row, 1, row_len, f), row_len);
    fclose(f);
    free(csv);
    base_kb = ait_rss_kb(&T);
    ck_assert_int_gt(base_kb, 0);
    snprintf(path, sizeof(path), "%s/big.csv", csv_dir);
    ck_assert_int_eq(rename(hidden, path), 0);
    snprintf(path, sizeof(path), "%s/done/big.csv.report", csv_dir);
    for (int i = 0; i < 6000 && access(path, F_OK) != 0; i++) {
        long kb = ait_rss_kb(&T);

        if (kb > peak_kb)
            peak_kb = kb;
        usleep(50000);
    }
    ck_assert_msg(access(path, F_OK) == 0, "the big CSV was not processed within 5 minutes");
    report = tu_read_file(path, NULL);
    snprintf(want, sizeof(want), "rows %zu", rows);
    ck_assert_msg(strstr(report, want) != NULL, "report lacks '%s'", want);
    ck_assert_ptr_nonnull(strstr(report, "more issues not listed"));
    free(report);
#ifndef __SANITIZE_ADDRESS__ /* ASan's quarantine keeps freed memory resident */
    ck_assert_msg(peak_kb - base_kb < 48 * 1024, "RSS grew by %ld KiB for a %zu MiB file",
                  peak_kb - base_kb, target >> 20);
#endif
    snprintf(path, sizeof(path), "%s/done/big.csv", csv_dir);
    unlink(path);
}
END_TEST

/* ------------------------------------------------------ ledger retention -- */

static void
setup_retention(void)
{
    ait_init_ingest(&T, "ait-retention", "ledger_retention = 2s\n", "");
    ait_start(&T);
}

static long
push(const char *msg, const char *want)
{
    struct tu_http_resp r = {0};
    long st = ait_http(&T, AIT_HIS, "POST", "/ingest/hl7v2", msg, strlen(msg), &r);

    ck_assert_msg(r.body != NULL && strstr(r.body, want) != NULL, "%ld %s", st, r.body);
    tu_http_resp_free(&r);
    return st;
}

/* Ledger rows older than [ingest] ledger_retention are deleted; a resend
 * after its row is gone is applied again and changes nothing. */
START_TEST(ledger_rows_expire)
{
    static const char msg[] =
        "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^A04^ADT_A01|KEEP1|P|2.5.1\r"
        "EVN|A04|20261128101500\rPID|1||KEEP-1^^^HOSP-A^MR||Keep^One||19800101|F\r";
    long long until = pt_now_ms() + 15000;

    ck_assert_int_eq(push(msg, "MSA|AA|KEEP1"), 200);
    ck_assert_int_eq(pt_sql(T.db,
                            "INSERT INTO store.ingest_ledger (source, message_id, received_at, "
                            "status) VALUES ('OLD|SENDER', 'OLD1', now() - interval '1 day', 200)",
                            NULL),
                     0);
    ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.ingest_ledger"), 2);
    while (ait_count(&T, "SELECT count(*) FROM store.ingest_ledger") > 0 && pt_now_ms() < until)
        usleep(200 * 1000);
    ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.ingest_ledger"), 0);
    ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'Patient'"),
                     1);
    /* the resend: AA again, the same one Patient in the same version */
    ck_assert_int_eq(push(msg, "MSA|AA|KEEP1"), 200);
    ck_assert_int_eq(ait_count(&T, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'Patient' AND version = 1"),
                     1);
}
END_TEST

Suite *
adapter_ingest_suite(void)
{
    Suite *s = suite_create("adapter_ingest");
    TCase *tc = tcase_create("ingest");

    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, cda_corpus_posted);
    tcase_add_test(tc, cda_care_sections_are_served);
    tcase_add_test(tc, cda_refusals);
    tcase_add_test(tc, csv_posted_with_bad_rows);
    tcase_add_test(tc, hl7v2_posted);
    tcase_add_test(tc, hl7v2_unnumbered_visit_is_one_encounter);
    tcase_add_test(tc, drop_folders);
    tcase_add_test(tc, big_csv_drop_in_bounded_memory);
    suite_add_tcase(s, tc);
    tc = tcase_create("retention");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup_retention, teardown);
    tcase_add_test(tc, ledger_rows_expire);
    suite_add_tcase(s, tc);
    return s;
}
