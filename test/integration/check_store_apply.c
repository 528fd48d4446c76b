/* The adapter store's writes against the private PostgreSQL: transaction
 * Bundles (create, re-apply, update, conditional semantics, atomicity),
 * batches with savepoints and the ingest ledger, concurrency, delete,
 * read/vread and the changed-since pull. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "test/integration/store_it.h"
#include "test/support/jsonpath.h"

static const struct adapter_store_opts opts = {"https://hosp-a.example/fhir", 0};

static void
setup(void)
{
    static bool done;
    char db[64];

    if (done)
        return;
    done = true;
    base_log_set_level(BASE_LOG_WARN);
    snprintf(db, sizeof(db), "store_apply_%d", (int)getpid());
    sit_make_database(db);
}

/* An HL7 ADT-like transaction: Patient by MRN, Encounter by visit number
 * referencing it through urn:uuid. */
/* The digits after the first character ("M1001" -> 1001). */
static long
num(const char *s)
{
    return strtol(s + 1, NULL, 10);
}

static json_t *
adt(const char *mrn, const char *family, const char *visit)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
             "{\"fullUrl\":\"urn:uuid:11111111-0000-4000-8000-%012ld\","
             "\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
             "\"urn:mrn\",\"value\":\"%s\"}],\"name\":[{\"family\":\"%s\",\"given\":[\"Wei\"]}],"
             "\"gender\":\"male\",\"birthDate\":\"1980-01-01\"},"
             "\"request\":{\"method\":\"PUT\",\"url\":\"Patient?identifier=urn:mrn|%s\"}},"
             "{\"fullUrl\":\"urn:uuid:22222222-0000-4000-8000-%012ld\","
             "\"resource\":{\"resourceType\":\"Encounter\",\"identifier\":[{\"system\":"
             "\"urn:visit\",\"value\":\"%s\"}],\"status\":\"in-progress\",\"class\":{\"system\":"
             "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},"
             "\"subject\":{\"reference\":\"urn:uuid:11111111-0000-4000-8000-%012ld\"},"
             "\"period\":{\"start\":\"2024-03-01T08:00:00+08:00\"}},"
             "\"request\":{\"method\":\"PUT\",\"url\":\"Encounter?identifier=urn:visit|%s\"}}]}",
             num(mrn), mrn, family, mrn, num(visit), visit, num(mrn), visit);
    return sit_json(text);
}

static void
must_apply(PGconn *c, struct base_arena *a, json_t *b, struct adapter_store_result *r)
{
    int rc = adapter_store_apply(c, a, &opts, b, r);

    ck_assert_msg(rc == BASE_OK, "apply failed: %d %s at %s (%s)", r->status, r->err.msg,
                  r->err.where, r->err.log_detail);
    json_decref(b);
}

static long long
versions(PGconn *c, const char *type, const char *id)
{
    const char *p[2] = {type, id};

    return sit_count(c,
                     "SELECT count(*) FROM store.resource_history h JOIN store.resource r"
                     " ON r.pk = h.pk WHERE r.res_type = $1 AND r.id = $2",
                     2, p);
}

START_TEST(apply_creates_and_links)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    struct adapter_store_row row;
    struct base_err err = {0};
    json_t *enc;
    char ref[128];

    must_apply(c, a, adt("M1001", "Li", "V5001"), &r);
    ck_assert_int_eq(r.n_entries, 2);
    ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_CREATED);
    ck_assert_int_eq(r.entries[0].status, 201);
    ck_assert_int_eq(r.entries[0].version, 1);
    ck_assert(adapter_store_id_ok(r.entries[0].id, strlen(r.entries[0].id)));
    ck_assert_int_eq(adapter_store_read(c, a, "Encounter", r.entries[1].id, &row, &err), BASE_OK);
    enc = sit_json(row.json);
    snprintf(ref, sizeof(ref), "Patient/%s", r.entries[0].id);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(enc, "subject"), "reference")), ref);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(enc, "meta"), "versionId")),
                     "1");
    ck_assert_str_eq(json_string_value(json_object_get(enc, "id")), r.entries[1].id);
    json_decref(enc);
    /* the response Bundle */
    enc = adapter_store_response(a, &r);
    ck_assert_ptr_nonnull(enc);
    ck_assert_str_eq(json_string_value(json_object_get(enc, "type")), "transaction-response");
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(enc, "entry"), 0), "response"),
            "status")),
        "201 Created");
    json_decref(enc);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* A conditional create whose resource carries its own id keeps that id
 * (regression: the id string was freed when the store set "id", then read
 * for the write — found by ASan through the adapter's PACS sync). */
START_TEST(conditional_create_keeps_the_resources_own_id)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    struct adapter_store_row row;
    struct base_err err = {0};

    must_apply(c, a,
               sit_json("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
                        "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"own-id-7\","
                        "\"identifier\":[{\"system\":\"urn:x\",\"value\":\"OWN7\"}]},"
                        "\"request\":{\"method\":\"PUT\","
                        "\"url\":\"Patient?identifier=urn:x|OWN7\"}}]}"),
               &r);
    ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_CREATED);
    ck_assert_str_eq(r.entries[0].id, "own-id-7");
    ck_assert_int_eq(adapter_store_read(c, a, "Patient", "own-id-7", &row, &err), BASE_OK);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(reapply_makes_no_new_version)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r1;
    struct adapter_store_result r2;
    const char *p[1] = {"M1002"};

    must_apply(c, a, adt("M1002", "Wang", "V5002"), &r1);
    must_apply(c, a, adt("M1002", "Wang", "V5002"), &r2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(r2.entries[i].action, ADAPTER_STORE_UNCHANGED);
        ck_assert_str_eq(r2.entries[i].id, r1.entries[i].id);
        ck_assert_int_eq(r2.entries[i].version, 1);
        ck_assert_int_eq(r2.entries[i].last_updated_us, r1.entries[i].last_updated_us);
    }
    ck_assert_int_eq(versions(c, "Patient", r1.entries[0].id), 0);
    ck_assert_int_eq(sit_count(c,
                               "SELECT count(*) FROM store.identifier WHERE res_type = 'Patient'"
                               " AND value = $1",
                               1, p),
                     1);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(update_keeps_history)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r1;
    struct adapter_store_result r2;
    struct adapter_store_row row;
    struct base_err err = {0};

    must_apply(c, a, adt("M1003", "Zhao", "V5003"), &r1);
    must_apply(c, a, adt("M1003", "Qian", "V5003"), &r2);
    ck_assert_int_eq(r2.entries[0].action, ADAPTER_STORE_UPDATED);
    ck_assert_int_eq(r2.entries[0].version, 2);
    ck_assert_str_eq(r2.entries[0].id, r1.entries[0].id);
    ck_assert_int_gt(r2.entries[0].last_updated_us, r1.entries[0].last_updated_us);
    ck_assert_int_eq(r2.entries[1].action, ADAPTER_STORE_UNCHANGED);
    ck_assert_int_eq(versions(c, "Patient", r1.entries[0].id), 1);
    ck_assert_int_eq(adapter_store_read(c, a, "Patient", r1.entries[0].id, &row, &err), BASE_OK);
    ck_assert_int_eq(row.version, 2);
    ck_assert_ptr_nonnull(strstr(row.json, "Qian"));
    ck_assert_int_eq(adapter_store_vread(c, a, "Patient", r1.entries[0].id, 1, &row, &err),
                     BASE_OK);
    ck_assert_int_eq(row.version, 1);
    ck_assert_ptr_nonnull(strstr(row.json, "Zhao"));
    ck_assert_ptr_nonnull(strstr(row.json, "\"versionId\": \"1\""));
    ck_assert_int_eq(adapter_store_vread(c, a, "Patient", r1.entries[0].id, 3, &row, &err),
                     BASE_E_NOTFOUND);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

static json_t *
put_patient(const char *id, const char *mrn)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
             "{\"resourceType\":\"Patient\",\"id\":\"%s\",\"identifier\":[{\"system\":"
             "\"urn:mrn\",\"value\":\"%s\"}]},\"request\":{\"method\":\"PUT\","
             "\"url\":\"Patient/%s\"}}]}",
             id, mrn, id);
    return sit_json(text);
}

START_TEST(conditional_update_with_two_matches_is_412)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    json_t *b;

    must_apply(c, a, put_patient("dup-a", "M-DUP"), &r);
    ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_CREATED);
    ck_assert_str_eq(r.entries[0].id, "dup-a");
    must_apply(c, a, put_patient("dup-b", "M-DUP"), &r);
    b = adt("M-DUP", "Sun", "V5099");
    ck_assert_int_eq(adapter_store_apply(c, a, &opts, b, &r), BASE_E_CONFLICT);
    ck_assert_int_eq(r.status, 412);
    ck_assert_str_eq(r.err.issue_code, "multiple-matches");
    ck_assert_str_eq(r.err.where, "Bundle.entry[0].request");
    ck_assert_ptr_null(strstr(r.err.msg, "M-DUP"));
    ck_assert_int_eq(
        sit_count(c, "SELECT count(*) FROM store.identifier WHERE value = 'V5099'", 0, NULL), 0);
    json_decref(b);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* A good Patient plus an Observation whose value PostgreSQL cannot store
 * (numeric overflow at write time): nothing of the Bundle remains. */
START_TEST(bad_entry_fails_the_whole_bundle)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    json_t *b = sit_json(
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:p\",\"resource\":{\"resourceType\":\"Patient\","
        "\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"M-ATOMIC\"}]},"
        "\"request\":{\"method\":\"PUT\",\"url\":\"Patient?identifier=urn:mrn|M-ATOMIC\"}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":"
        "\"x\"},\"subject\":{\"reference\":\"urn:uuid:p\"},\"valueQuantity\":{\"value\":"
        "1e999999}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}");
    json_t *b2 = sit_json(
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\","
        "\"value\":\"M-ATOMIC\"}]},\"request\":{\"method\":\"PUT\","
        "\"url\":\"Patient?identifier=urn:mrn|M-ATOMIC\"}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\"},"
        "\"request\":{\"method\":\"POST\",\"url\":\"Observation/123\"}}]}");

    ck_assert_int_ne(adapter_store_apply(c, a, &opts, b, &r), BASE_OK);
    ck_assert_int_ge(r.status, 400);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ck_assert_int_eq(adapter_store_apply(c, a, &opts, b2, &r), BASE_E_INVALID);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.err.where, "Bundle.entry[1].request.url");
    ck_assert_int_eq(
        sit_count(c, "SELECT count(*) FROM store.identifier WHERE value = 'M-ATOMIC'", 0, NULL), 0);
    json_decref(b);
    json_decref(b2);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* urn:uuid links are rewritten in references, Attachment.url and the
 * narrative, but an Identifier.value that happens to hold the same URN (the
 * HL7 v2 converter's fallback business identifier) stays as it is. */
START_TEST(rewrites_links_but_not_identifiers)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    struct adapter_store_row row;
    struct base_err err = {0};
    char want[160];
    static const char text[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001\",\"resource\":{"
        "\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":"
        "\"M-LINK\"}]},\"request\":{\"method\":\"PUT\",\"url\":\"Patient?identifier=urn:mrn|"
        "M-LINK\"}},"
        "{\"fullUrl\":\"urn:uuid:aaaaaaaa-0000-4000-8000-000000000002\",\"resource\":{"
        "\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"identifier\":[{"
        "\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:aaaaaaaa-0000-4000-8000-"
        "000000000002\"}],\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http:"
        "//www.w3.org/1999/xhtml\\\">See <a href=\\\"urn:uuid:aaaaaaaa-0000-4000-8000-"
        "000000000001\\\">the patient</a></div>\"},\"subject\":{\"reference\":\"urn:uuid:"
        "aaaaaaaa-0000-4000-8000-000000000001\"},\"content\":[{\"attachment\":{\"url\":"
        "\"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001\"}}]},\"request\":{\"method\":\"PUT\","
        "\"url\":\"DocumentReference?identifier=urn:ietf:rfc:3986|urn:uuid:aaaaaaaa-0000-4000-"
        "8000-000000000002\"}}]}";

    must_apply(c, a, sit_json(text), &r);
    ck_assert_int_eq(adapter_store_read(c, a, "DocumentReference", r.entries[1].id, &row, &err),
                     BASE_OK);
    snprintf(want, sizeof(want), "\"reference\": \"Patient/%s\"", r.entries[0].id);
    ck_assert_msg(strstr(row.json, want) != NULL, "%s", row.json);
    snprintf(want, sizeof(want), "\"url\": \"Patient/%s\"", r.entries[0].id);
    ck_assert_msg(strstr(row.json, want) != NULL, "%s", row.json);
    snprintf(want, sizeof(want), "href=\\\"Patient/%s\\\"", r.entries[0].id);
    ck_assert_msg(strstr(row.json, want) != NULL, "%s", row.json);
    ck_assert_ptr_nonnull(strstr(row.json, "\"value\": \"urn:uuid:aaaaaaaa-0000-4000-8000-"
                                           "000000000002\""));
    ck_assert_ptr_null(strstr(row.json, "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"));
    /* and so the conditional update finds it again next time */
    must_apply(c, a, sit_json(text), &r);
    ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_UNCHANGED);
    ck_assert_int_eq(r.entries[1].action, ADAPTER_STORE_UNCHANGED);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

static int
ack_text(void *ctx, const struct adapter_store_result *r, struct base_arena *a, const char **ack)
{
    int *calls = ctx;

    (*calls)++;
    *ack = base_arena_sprintf(a, "MSA|%s|call%d", r->rc == BASE_OK ? "AA" : "AE", *calls);
    return BASE_OK;
}

START_TEST(batch_isolates_a_bad_bundle_and_replays)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result res[3];
    struct adapter_store_item items[3];
    struct base_err err = {0};
    json_t *b[3] = {adt("M2001", "Zhou", "V6001"), put_patient("bad!id", "M2002"),
                    adt("M2003", "Wu", "V6003")};
    int calls = 0;
    const char *ids[3] = {"msg-1", "msg-2", "msg-3"};

    for (size_t i = 0; i < 3; i++)
        items[i] = (struct adapter_store_item){.bundle = b[i],
                                               .source = "LAB^HOSP-A",
                                               .message_id = ids[i],
                                               .ack = ack_text,
                                               .ack_ctx = &calls};
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, items, 3, res, &err), BASE_OK);
    ck_assert_int_eq(res[0].rc, BASE_OK);
    ck_assert_int_ne(res[1].rc, BASE_OK);
    ck_assert_int_eq(res[1].status, 400);
    ck_assert_int_eq(res[2].rc, BASE_OK);
    ck_assert_str_eq(res[1].ack, "MSA|AE|call2");
    ck_assert_int_eq(sit_count(c, "SELECT count(*) FROM store.ingest_ledger", 0, NULL), 3);
    ck_assert_int_eq(sit_count(c,
                               "SELECT count(*) FROM store.identifier WHERE value IN"
                               " ('M2001', 'M2003', 'V6001', 'V6003')",
                               0, NULL),
                     4);
    /* The same three messages again: nothing changes, the same answers. */
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, items, 3, res, &err), BASE_OK);
    for (size_t i = 0; i < 3; i++)
        ck_assert(res[i].replayed);
    ck_assert_int_eq(calls, 3);
    ck_assert_str_eq(res[0].ack, "MSA|AA|call1");
    ck_assert_str_eq(res[1].ack, "MSA|AE|call2");
    ck_assert_int_eq(res[1].status, 400);
    ck_assert_int_eq(res[2].n_entries, 2);
    ck_assert_int_eq(res[2].entries[0].action, ADAPTER_STORE_CREATED);
    ck_assert_int_eq(sit_count(c, "SELECT count(*) FROM store.resource_history", 0, NULL) >= 0, 1);
    ck_assert_int_eq(
        sit_count(c, "SELECT count(*) FROM store.identifier WHERE value = 'M2001'", 0, NULL), 1);
    for (size_t i = 0; i < 3; i++)
        json_decref(b[i]);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* The code-map report's counts go with the data: added when a message
 * commits and changes the store, never for a repeat or a refused Bundle. */
START_TEST(code_uses_count_once_with_the_data)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result res[3];
    struct adapter_store_item items[3];
    struct base_err err = {0};
    char *long_code = base_arena_alloc(a, 5000);
    const struct adapter_store_code_use u0[] = {{"urn:local:lab", "GLU9", false, 2},
                                                {"urn:local:lab", NULL, true, 3},
                                                {"urn:local:lab", "K+", false, 1}};
    const struct adapter_store_code_use u1[] = {{"urn:local:lab", "BAD", false, 5}};
    const struct adapter_store_code_use u2[] = {{"urn:local:lab", "GLU9", false, 1},
                                                {"", "X", false, 1}, /* no system: left out */
                                                {"urn:local:lab", long_code, false, 4}};
    json_t *b[3] = {adt("M3001", "Qian", "V7001"), put_patient("bad!id", "M3002"),
                    adt("M3003", "Sun", "V7003")};
    const char *ids[3] = {"cu-1", "cu-2", "cu-3"};
    const char *fresh[3] = {"cu-4", "cu-5", "cu-6"};
    json_t *rep = NULL;
    char *first = NULL;

    memset(long_code, 'Z', 4999);
    long_code[4999] = '\0';
    items[0] = (struct adapter_store_item){.bundle = b[0],
                                           .source = "LAB^HOSP-A",
                                           .message_id = ids[0],
                                           .code_uses = u0,
                                           .n_code_uses = 3};
    items[1] = (struct adapter_store_item){.bundle = b[1],
                                           .source = "LAB^HOSP-A",
                                           .message_id = ids[1],
                                           .code_uses = u1,
                                           .n_code_uses = 1};
    items[2] = (struct adapter_store_item){.bundle = b[2],
                                           .source = "LAB^HOSP-A",
                                           .message_id = ids[2],
                                           .code_uses = u2,
                                           .n_code_uses = 3};
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, items, 3, res, &err), BASE_OK);
    ck_assert_int_ne(res[1].rc, BASE_OK);
    ck_assert_int_eq(adapter_store_code_report(c, &rep, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(rep, "systems")), 1);
    ck_assert_str_eq(tu_json_str(rep, "systems.0.system"), "urn:local:lab");
    ck_assert_int_eq(json_integer_value(tu_json_at(rep, "systems.0.mapped")), 3);
    ck_assert_int_eq(json_integer_value(tu_json_at(rep, "systems.0.unmapped")), 8);
    ck_assert_uint_eq(json_array_size(tu_json_at(rep, "systems.0.unmapped_codes")), 2);
    ck_assert_str_eq(tu_json_str(rep, "systems.0.unmapped_codes.0"), "GLU9");
    ck_assert_str_eq(tu_json_str(rep, "systems.0.unmapped_codes.1"), "K+");
    /* the over-long code is counted, not listed */
    ck_assert_int_eq(json_integer_value(tu_json_at(rep, "systems.0.unmapped_codes_dropped")), 4);
    ck_assert_str_eq(tu_json_str(rep, "systems.0.unmapped_code_uses.0.code"), "GLU9");
    ck_assert_int_eq(json_integer_value(tu_json_at(rep, "systems.0.unmapped_code_uses.0.uses")), 3);
    ck_assert_int_eq(json_integer_value(tu_json_at(rep, "systems.0.unmapped_code_uses.1.uses")), 1);
    ck_assert_int_eq(strlen(tu_json_str(rep, "systems.0.last_seen")), 20);
    first = json_dumps(rep, JSON_SORT_KEYS);
    json_decref(rep);

    /* The same messages again (the ledger answers), then the same content
     * under new control ids (nothing changes): the report stays. */
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, items, 3, res, &err), BASE_OK);
    ck_assert(res[0].replayed);
    for (size_t i = 0; i < 3; i++)
        items[i].message_id = fresh[i];
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, items, 3, res, &err), BASE_OK);
    ck_assert(!res[0].replayed);
    ck_assert_int_eq(res[0].entries[0].action, ADAPTER_STORE_UNCHANGED);
    ck_assert_int_eq(adapter_store_code_report(c, &rep, &err), BASE_OK);
    json_object_del(json_array_get(json_object_get(rep, "systems"), 0), "last_seen");
    {
        json_t *was = json_loads(first, 0, NULL);

        json_object_del(json_array_get(json_object_get(was, "systems"), 0), "last_seen");
        ck_assert_msg(json_equal(was, rep), "the report changed on a repeat");
        json_decref(was);
    }
    free(first);
    json_decref(rep);
    for (size_t i = 0; i < 3; i++)
        json_decref(b[i]);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* A feed sending free text as codes cannot grow the list without bound:
 * past the limit per system, a new code's uses are counted as unlisted. */
START_TEST(code_uses_list_is_bounded_per_system)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    size_t n = BASE_LIMIT_CODEMAP_MAX_UNMAPPED + 2;
    struct adapter_store_code_use *u = BASE_NEW_N(a, struct adapter_store_code_use, n);
    struct adapter_store_result res[1];
    struct adapter_store_item it;
    struct base_err err = {0};
    json_t *b = adt("M3101", "Li", "V7101");
    json_t *rep = NULL;
    const json_t *sys;
    size_t i;

    for (i = 0; i < n; i++)
        u[i] = (struct adapter_store_code_use){"urn:local:free-text",
                                               base_arena_sprintf(a, "T%05zu", i), false, 1};
    it = (struct adapter_store_item){.bundle = b, .code_uses = u, .n_code_uses = n};
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, &it, 1, res, &err), BASE_OK);
    ck_assert_int_eq(adapter_store_code_report(c, &rep, &err), BASE_OK);
    json_array_foreach(json_object_get(rep, "systems"), i, sys)
    {
        if (strcmp(tu_json_str(sys, "system"), "urn:local:free-text") != 0)
            continue;
        ck_assert_int_eq(json_integer_value(json_object_get(sys, "unmapped")), (json_int_t)n);
        ck_assert_uint_eq(json_array_size(json_object_get(sys, "unmapped_codes")),
                          BASE_LIMIT_CODEMAP_MAX_UNMAPPED);
        ck_assert_int_eq(json_integer_value(json_object_get(sys, "unmapped_codes_dropped")), 2);
        break;
    }
    ck_assert_msg(sys != NULL, "the system is not in the report");
    json_decref(rep);
    json_decref(b);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(refused_message_is_recorded)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result res[1];
    struct base_err why = {0};
    struct base_err err = {0};
    int calls = 0;
    struct adapter_store_item it;

    (void)base_err_set(&why, BASE_E_PARSE, "structure", "MSH-9", "message type missing");
    it = (struct adapter_store_item){.refused = &why,
                                     .source = "ADT^HOSP-A",
                                     .message_id = "bad-1",
                                     .ack = ack_text,
                                     .ack_ctx = &calls};
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, &it, 1, res, &err), BASE_OK);
    ck_assert_int_ne(res[0].rc, BASE_OK);
    ck_assert_str_eq(res[0].err.where, "MSH-9");
    ck_assert_str_eq(res[0].ack, "MSA|AE|call1");
    ck_assert_int_eq(adapter_store_apply_batch(c, a, &opts, &it, 1, res, &err), BASE_OK);
    ck_assert(res[0].replayed);
    ck_assert_str_eq(res[0].ack, "MSA|AE|call1");
    ck_assert_str_eq(res[0].err.where, "MSH-9");
    ck_assert_int_eq(calls, 1);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* Two connections apply overlapping Bundles (the same patients in
 * different orders) at once: one resource per business identifier. */
struct racer {
    int seed;
    int failures;
};

static void *
race(void *arg)
{
    struct racer *rc = arg;
    PGconn *c = PQconnectdb(sit_url);
    struct base_arena *a = base_arena_new(0);

    for (int round = 0; round < 20; round++) {
        char mrn[32];
        char visit[32];
        int k = rc->seed == 0 ? round % 5 : 4 - round % 5;
        struct adapter_store_result r;
        json_t *b;

        snprintf(mrn, sizeof(mrn), "M%d", 3000 + k);
        snprintf(visit, sizeof(visit), "V%d", 7000 + k);
        b = adt(mrn, round % 2 == 0 ? "Race" : "Racer", visit);
        if (adapter_store_apply(c, a, &opts, b, &r) != BASE_OK)
            rc->failures++;
        json_decref(b);
    }
    base_arena_free(a);
    PQfinish(c);
    return NULL;
}

START_TEST(concurrent_writers_make_no_duplicates)
{
    PGconn *c = sit_connect();
    pthread_t t[2];
    struct racer r[2] = {{0, 0}, {1, 0}};

    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(r[0].failures + r[1].failures, 0);
    ck_assert_int_eq(sit_count(c,
                               "SELECT count(*) FROM store.identifier WHERE res_type = 'Patient'"
                               " AND value BETWEEN 'M3000' AND 'M3004'",
                               0, NULL),
                     5);
    ck_assert_int_eq(sit_count(c,
                               "SELECT count(DISTINCT res_pk) FROM store.identifier"
                               " WHERE value BETWEEN 'V7000' AND 'V7004'",
                               0, NULL),
                     5);
    PQfinish(c);
}
END_TEST

START_TEST(delete_and_recreate)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    struct adapter_store_row row;
    struct base_err err = {0};

    must_apply(c, a, put_patient("del-1", "M-DEL"), &r);
    must_apply(c, a,
               sit_json("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
                        "\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/del-1\"}}]}"),
               &r);
    ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_DELETED);
    ck_assert_int_eq(r.entries[0].status, 204);
    ck_assert_int_eq(r.entries[0].version, 2);
    ck_assert_int_eq(adapter_store_read(c, a, "Patient", "del-1", &row, &err), BASE_E_NOTFOUND);
    ck_assert_str_eq(err.issue_code, "deleted");
    ck_assert_int_eq(
        sit_count(c, "SELECT count(*) FROM store.identifier WHERE value = 'M-DEL'", 0, NULL), 0);
    /* deleting again is a no-op; PUT brings it back as version 3 */
    must_apply(c, a,
               sit_json("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
                        "\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/del-1\"}}]}"),
               &r);
    ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_MATCHED);
    must_apply(c, a, put_patient("del-1", "M-DEL"), &r);
    ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_CREATED);
    ck_assert_int_eq(r.entries[0].version, 3);
    base_err_clear(&err);
    ck_assert_int_eq(adapter_store_read(c, a, "Patient", "del-1", &row, &err), BASE_OK);
    ck_assert_int_eq(row.version, 3);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(if_none_exist_and_conditional_reference)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r1;
    struct adapter_store_result r2;
    struct adapter_store_row row;
    struct base_err err = {0};
    const char *post = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
                       "\"resource\":{\"resourceType\":\"Practitioner\",\"identifier\":[{"
                       "\"system\":\"urn:npi\",\"value\":\"N-1\"}]},\"request\":{\"method\":"
                       "\"POST\",\"url\":\"Practitioner\",\"ifNoneExist\":"
                       "\"identifier=urn:npi%7CN-1\"}}]}";
    char ref[128];
    json_t *nobody;

    must_apply(c, a, sit_json(post), &r1);
    ck_assert_int_eq(r1.entries[0].action, ADAPTER_STORE_CREATED);
    must_apply(c, a, sit_json(post), &r2);
    ck_assert_int_eq(r2.entries[0].action, ADAPTER_STORE_MATCHED);
    ck_assert_str_eq(r2.entries[0].id, r1.entries[0].id);
    must_apply(c, a,
               sit_json("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
                        "\"resource\":{\"resourceType\":\"Encounter\",\"status\":\"finished\","
                        "\"class\":{\"code\":\"AMB\"},\"participant\":[{\"individual\":{"
                        "\"reference\":\"Practitioner?identifier=urn:npi|N-1\"}}]},"
                        "\"request\":{\"method\":\"POST\",\"url\":\"Encounter\"}}]}"),
               &r2);
    ck_assert_int_eq(adapter_store_read(c, a, "Encounter", r2.entries[0].id, &row, &err), BASE_OK);
    snprintf(ref, sizeof(ref), "\"reference\": \"Practitioner/%s\"", r1.entries[0].id);
    ck_assert_msg(strstr(row.json, ref) != NULL, "%s", row.json);
    /* a conditional reference that matches nothing fails the Bundle */
    nobody = sit_json("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
                      "\"resource\":{\"resourceType\":\"Encounter\",\"status\":\"finished\","
                      "\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient?"
                      "identifier=urn:mrn|NOBODY\"}},\"request\":{\"method\":\"POST\",\"url\":"
                      "\"Encounter\"}}]}");
    ck_assert_int_eq(adapter_store_apply(c, a, &opts, nobody, &r2), BASE_E_CONFLICT);
    json_decref(nobody);
    ck_assert_int_eq(r2.status, 412);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(overlapping_entries_and_bad_shapes_are_refused)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    static const char *const bad[][2] = {
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{"
         "\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/x1\"}},"
         "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":"
         "\"Patient/x1\"}}]}",
         "Bundle.entry[1].request"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[]}", "Bundle.type"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":{"
         "\"method\":\"GET\",\"url\":\"Patient/x\"}}]}",
         "Bundle.entry[0].request.method"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{"
         "\"resourceType\":\"Observation\"},\"request\":{\"method\":\"POST\",\"url\":"
         "\"Patient\"}}]}",
         "Bundle.entry[0].resource.resourceType"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":\"urn:"
         "uuid:a\",\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\","
         "\"url\":\"Patient\"}},{\"fullUrl\":\"urn:uuid:a\",\"resource\":{\"resourceType\":"
         "\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}",
         "Bundle.entry[1].fullUrl"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{"
         "\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":"
         "\"Patient?foo=bar\"}}]}",
         "Bundle.entry[0].request.url"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{"
         "\"resourceType\":\"Patient\",\"id\":\"a\"},\"request\":{\"method\":\"PUT\",\"url\":"
         "\"Patient/b\"}}]}",
         "Bundle.entry[0].resource.id"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{"
         "\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/a\","
         "\"ifMatch\":\"W/\\\"x\\\"\"}}]}",
         "Bundle.entry[0].request.ifMatch"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        json_t *b = sit_json(bad[i][0]);

        ck_assert_int_ne(adapter_store_apply(c, a, &opts, b, &r), BASE_OK);
        ck_assert_int_eq(r.status, 400);
        ck_assert_msg(strcmp(r.err.where, bad[i][1]) == 0, "case %zu: where %s", i, r.err.where);
        json_decref(b);
    }
    ck_assert_int_eq(sit_count(c, "SELECT count(*) FROM store.resource WHERE id = 'x1'", 0, NULL),
                     0);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

static int
collect_ids(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    int *n = ctx;

    (void)row;
    (void)mode;
    (*n)++;
    return BASE_OK;
}

START_TEST(changed_since_pages_without_gaps)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    struct adapter_store_page page;
    struct base_err err = {0};
    int64_t since = 0;
    int seen = 0;
    int pages = 0;
    long long total = sit_count(c,
                                "SELECT count(*) FROM store.resource WHERE res_type ="
                                " 'Patient' AND NOT deleted",
                                0, NULL);

    for (int i = 0; i < 7; i++) {
        char mrn[16];
        char visit[16];

        snprintf(mrn, sizeof(mrn), "M%d", 4000 + i);
        snprintf(visit, sizeof(visit), "V%d", 8000 + i);
        must_apply(c, a, adt(mrn, "Chen", visit), &r);
    }
    do {
        ck_assert_int_eq(
            adapter_store_changed_since(c, a, "Patient", since, 3, collect_ids, &seen, &page, &err),
            BASE_OK);
        pages++;
        if (page.next_cursor != NULL)
            since = strtoll(page.next_cursor, NULL, 10);
    } while (page.next_cursor != NULL);
    ck_assert_int_eq(seen, total + 7);
    ck_assert_int_ge(pages, 3);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

/* Sequential scans of the store's tables since the statistics were last
 * flushed, as the server counts them (`c`'s own pending counts flushed first). */
static long long
store_seq_scans(PGconn *c)
{
    PQclear(PQexec(c, "SELECT pg_stat_force_next_flush()"));
    PQclear(PQexec(c, "SELECT 1")); /* the flush happens when c goes idle */
    return sit_count(c,
                     "SELECT sum(seq_scan) FROM pg_stat_user_tables WHERE schemaname = 'store'"
                     " AND relname IN ('resource', 'resource_history', 'identifier', 'idx_token',"
                     " 'idx_string', 'idx_date', 'idx_reference', 'idx_quantity', 'idx_uri')",
                     0, NULL);
}

/* The write path probes keys; it must never scan a table, whatever the
 * planner thinks of the tables' sizes when a session first plans it.  With
 * generic plans an unnest counts as 100 rows, and against tables of a few
 * hundred to a few hundred thousand rows that made scans and hash joins
 * look cheaper: every message then read the whole store (0014_store_keyed_plans.sql).
 * A database of its own, so that no other test's reads are counted. */
START_TEST(writes_probe_keys_never_scan)
{
    char saved[sizeof(sit_url)];
    char db[64];
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_result r;
    PGconn *c;

    memcpy(saved, sit_url, sizeof(saved));
    snprintf(db, sizeof(db), "store_plans_%d", (int)getpid());
    sit_make_database(db);
    c = sit_connect();
    for (int i = 0; i < 300; i++) {
        char mrn[16];
        char visit[16];

        snprintf(mrn, sizeof(mrn), "M%d", 20000 + i);
        snprintf(visit, sizeof(visit), "V%d", 30000 + i);
        must_apply(c, a, adt(mrn, "Sun", visit), &r);
    }
    PQclear(PQexec(c, "ANALYZE"));
    long long before = store_seq_scans(c);
    PQfinish(c);

    c = sit_connect(); /* a new session plans the write path afresh */
    for (int i = 0; i < 20; i++) {
        char mrn[16];
        char visit[16];

        snprintf(mrn, sizeof(mrn), "M%d", 20000 + i); /* an update: new name */
        snprintf(visit, sizeof(visit), "V%d", 30000 + i);
        must_apply(c, a, adt(mrn, "Zhou", visit), &r);
        ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_UPDATED);
        snprintf(mrn, sizeof(mrn), "M%d", 40000 + i); /* and a create */
        snprintf(visit, sizeof(visit), "V%d", 50000 + i);
        must_apply(c, a, adt(mrn, "Wu", visit), &r);
        ck_assert_int_eq(r.entries[0].action, ADAPTER_STORE_CREATED);
    }
    ck_assert_int_ge(before, 0);
    ck_assert_int_eq(store_seq_scans(c) - before, 0);
    PQfinish(c);
    base_arena_free(a);
    memcpy(sit_url, saved, sizeof(sit_url));
}
END_TEST

/* Every index table's rows as one digest: equal digests, equal rows. */
static char *
index_digest(PGconn *c)
{
    static const char sql[] =
        "SELECT md5(concat_ws('|',"
        " (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM (SELECT res_pk, res_type, param,"
        "  system, code, text_norm, text_raw, of_type FROM store.idx_token) x),"
        " (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM (SELECT res_pk, res_type, param,"
        "  value, norm FROM store.idx_string) x),"
        " (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM (SELECT res_pk, res_type, param,"
        "  low, high FROM store.idx_date) x),"
        " (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM (SELECT res_pk, res_type, param,"
        "  ref_type, ref_id, ref_version, ref_url, id_system, id_value FROM store.idx_reference) "
        "x),"
        " (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM (SELECT res_pk, res_type, param,"
        "  low, high, low_open, high_open, system, code, unit FROM store.idx_quantity) x),"
        " (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM (SELECT res_pk, res_type, param,"
        "  value FROM store.idx_uri) x),"
        " (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM (SELECT res_pk, res_type, system,"
        "  value FROM store.identifier) x)))";
    PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    char *d;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    d = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return d;
}

static void
exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);

    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s", PQerrorMessage(c));
    PQclear(r);
}

static size_t
run_steps(PGconn *c, const char *fp, size_t batch, size_t max_steps, bool *finished)
{
    size_t total = 0;
    struct base_err err = {0};

    *finished = false;
    for (size_t i = 0; i < max_steps && !*finished; i++) {
        size_t n = 0;

        ck_assert_msg(adapter_store_reindex_step(c, fp, batch, &n, finished, &err) == BASE_OK,
                      "%s (%s)", err.msg, err.log_detail);
        ck_assert_uint_le(n, batch);
        total += n;
    }
    return total;
}

/* A store whose index rows an earlier build wrote (another parameter table,
 * or none recorded) is reindexed to exactly the rows this build's writes
 * make; an interrupted pass resumes, a newer one supersedes it. */
START_TEST(stale_index_is_rebuilt)
{
    PGconn *c = sit_connect();
    char fp[65];
    char *want;
    char *got;
    bool needed = true;
    bool finished = false;
    struct base_err err = {0};
    long long live = sit_count(c, "SELECT count(*) FROM store.resource WHERE NOT deleted", 0, NULL);

    ck_assert_int_eq(adapter_store_index_fingerprint(fp, &err), BASE_OK);
    ck_assert_uint_eq(strlen(fp), 64);
    ck_assert_int_gt(live, 20);
    /* the migration found resources already here: index rows of an unknown
     * build ('') — a pass is needed; then none */
    ck_assert_int_eq(adapter_store_reindex_begin(c, fp, &needed, &err), BASE_OK);
    ck_assert(needed);
    want = index_digest(c);
    ck_assert_uint_eq(run_steps(c, fp, 1000, 10, &finished), (size_t)live);
    ck_assert(finished);
    got = index_digest(c);
    ck_assert_str_eq(got, want); /* the pass writes what the writes wrote */
    free(got);
    ck_assert_int_eq(adapter_store_reindex_begin(c, fp, &needed, &err), BASE_OK);
    ck_assert(!needed);

    /* an older build's rows: some missing, one wrong */
    exec_ok(c, "UPDATE store.index_state SET fingerprint = 'older build'");
    exec_ok(c, "DELETE FROM store.idx_token WHERE res_type = 'Patient'");
    exec_ok(c, "DELETE FROM store.idx_reference WHERE res_pk IN "
               "(SELECT pk FROM store.resource WHERE res_type = 'Encounter' LIMIT 3)");
    exec_ok(c, "UPDATE store.idx_date SET low = 0");
    got = index_digest(c);
    ck_assert_str_ne(got, want);
    free(got);
    ck_assert_int_eq(adapter_store_reindex_begin(c, fp, &needed, &err), BASE_OK);
    ck_assert(needed);
    /* interrupted after two small steps; resumed by the next start */
    ck_assert_uint_eq(run_steps(c, fp, 5, 2, &finished), 10);
    ck_assert(!finished);
    ck_assert_int_gt(sit_count(c, "SELECT next_pk FROM store.index_state", 0, NULL), 0);
    ck_assert_int_eq(adapter_store_reindex_begin(c, fp, &needed, &err), BASE_OK);
    ck_assert(needed);
    ck_assert_int_gt(sit_count(c, "SELECT next_pk FROM store.index_state", 0, NULL), 0);
    ck_assert_uint_eq(run_steps(c, fp, 7, 1000, &finished), (size_t)live - 10);
    ck_assert(finished);
    got = index_digest(c);
    ck_assert_str_eq(got, want);
    free(got);
    {
        const char *p[1] = {fp};

        ck_assert_int_eq(sit_count(c,
                                   "SELECT count(*) FROM store.index_state WHERE pending IS NULL "
                                   "AND finished_at IS NOT NULL AND fingerprint = $1",
                                   1, p),
                         1);
    }

    /* a pass superseded by another build's stops without writing */
    exec_ok(c, "UPDATE store.index_state SET fingerprint = 'older build'");
    ck_assert_int_eq(adapter_store_reindex_begin(c, fp, &needed, &err), BASE_OK);
    ck_assert_int_eq(adapter_store_reindex_begin(c, "another build", &needed, &err), BASE_OK);
    ck_assert_uint_eq(run_steps(c, fp, 5, 1, &finished), 0);
    ck_assert(finished);
    ck_assert_int_eq(sit_count(c,
                               "SELECT count(*) FROM store.index_state WHERE pending = "
                               "'another build'",
                               0, NULL),
                     1);
    /* and this build takes over again */
    ck_assert_int_eq(adapter_store_reindex_begin(c, fp, &needed, &err), BASE_OK);
    ck_assert(needed);
    ck_assert_uint_eq(run_steps(c, fp, 1000, 10, &finished), (size_t)live);
    ck_assert(finished);
    ck_assert_int_eq(adapter_store_reindex_step(c, fp, 0, &(size_t){0}, &finished, &err),
                     BASE_E_INVALID);
    free(want);
    PQfinish(c);
}
END_TEST

/* A step reads about 8 MB of stored content at most (always one
 * resource), whatever the batch: documents with attachments must not
 * come back as one result of hundreds of megabytes. */
START_TEST(reindex_step_is_bounded_by_bytes)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    char fp[65];
    char sql[200];
    bool needed = false;
    bool finished = false;
    struct base_err err = {0};
    size_t n = 0;
    long long first = -1;

    ck_assert_int_eq(adapter_store_index_fingerprint(fp, &err), BASE_OK);
    /* three documents of ~6 MB of random base64 each (pglz cannot shrink
     * them much) */
    for (int d = 0; d < 3; d++) {
        size_t len = 6u << 20;
        char *data = malloc(len + 1);
        json_t *b;
        struct adapter_store_result r;
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint32_t x = 2463534242u + (uint32_t)d;

        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data[i] = b64[x & 63];
        }
        data[len] = '\0';
        b = json_pack("{s:s, s:s, s:[{s:{s:s, s:s, s:s, s:[{s:{s:s, s:s}}]}, s:{s:s, s:s}}]}",
                      "resourceType", "Bundle", "type", "transaction", "entry", "resource",
                      "resourceType", "DocumentReference", "id",
                      d == 0   ? "big-0"
                      : d == 1 ? "big-1"
                               : "big-2",
                      "status", "current", "content", "attachment", "contentType",
                      "application/pdf", "data", data, "request", "method", "PUT", "url",
                      d == 0   ? "DocumentReference/big-0"
                      : d == 1 ? "DocumentReference/big-1"
                               : "DocumentReference/big-2");
        free(data);
        ck_assert_ptr_nonnull(b);
        must_apply(c, a, b, &r);
        if (first < 0) {
            const char *p[1] = {"big-0"};

            first = sit_count(c,
                              "SELECT pk FROM store.resource WHERE res_type = "
                              "'DocumentReference' AND id = $1",
                              1, p);
        }
    }
    ck_assert_int_gt(first, 0);
    ck_assert_int_eq(adapter_store_reindex_begin(c, fp, &needed, &err), BASE_OK);
    snprintf(sql, sizeof(sql),
             "UPDATE store.index_state SET fingerprint = 'older build', pending = '%s', "
             "next_pk = %lld",
             fp, first);
    exec_ok(c, sql);
    ck_assert_int_eq(adapter_store_reindex_step(c, fp, 1000, &n, &finished, &err), BASE_OK);
    ck_assert_uint_eq(n, 2); /* 0 + ~6 MB < 8 MB: two; the third waits */
    ck_assert(!finished);
    ck_assert_int_eq(adapter_store_reindex_step(c, fp, 1000, &n, &finished, &err), BASE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(adapter_store_reindex_step(c, fp, 1000, &n, &finished, &err), BASE_OK);
    ck_assert(finished);
    base_arena_free(a);
    PQfinish(c);
}
END_TEST

Suite *store_apply_suite(void);

Suite *
store_apply_suite(void)
{
    Suite *s = suite_create("store_apply");
    TCase *tc = tcase_create("apply");

    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, apply_creates_and_links);
    tcase_add_test(tc, reapply_makes_no_new_version);
    tcase_add_test(tc, conditional_create_keeps_the_resources_own_id);
    tcase_add_test(tc, update_keeps_history);
    tcase_add_test(tc, conditional_update_with_two_matches_is_412);
    tcase_add_test(tc, bad_entry_fails_the_whole_bundle);
    tcase_add_test(tc, batch_isolates_a_bad_bundle_and_replays);
    tcase_add_test(tc, refused_message_is_recorded);
    tcase_add_test(tc, code_uses_count_once_with_the_data);
    tcase_add_test(tc, code_uses_list_is_bounded_per_system);
    tcase_add_test(tc, concurrent_writers_make_no_duplicates);
    tcase_add_test(tc, delete_and_recreate);
    tcase_add_test(tc, if_none_exist_and_conditional_reference);
    tcase_add_test(tc, overlapping_entries_and_bad_shapes_are_refused);
    tcase_add_test(tc, changed_since_pages_without_gaps);
    tcase_add_test(tc, rewrites_links_but_not_identifiers);
    tcase_add_test(tc, writes_probe_keys_never_scan);
    tcase_add_test(tc, stale_index_is_rebuilt); /* last two: they rewrite the index */
    tcase_add_test(tc, reindex_step_is_bounded_by_bytes);
    suite_add_tcase(s, tc);
    return s;
}
