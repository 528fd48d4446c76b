/* Bundle builders: trees, paging links and the streaming writer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"

static struct base_arena *A;

static void
setup(void)
{
    A = base_arena_new(4u << 20);
}

static void
teardown(void)
{
    base_arena_free(A);
}

static json_t *
parse(const char *text)
{
    json_t *v = NULL;

    ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &v, NULL), BASE_OK);
    return v;
}

static char *
dump(const json_t *v)
{
    return fhir_json_dump_arena(v, FHIR_JSON_COMPACT, A, NULL);
}

START_TEST(searchset_with_outcome_and_order)
{
    json_t *b = fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, "b1", "2026-01-02T03:04:05Z");
    json_t *oo = fhir_outcome_new();

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(fhir_bundle_add_entry(b, "https://gw/fhir/Patient/p1",
                                           parse("{\"resourceType\":\"Patient\",\"id\":\"p1\"}"),
                                           FHIR_BUNDLE_MODE_MATCH, "0.85"),
                     BASE_OK);
    ck_assert_int_eq(
        fhir_outcome_add(oo, "warning", "timeout", NULL, "member hospital-b timed out"), BASE_OK);
    ck_assert_int_eq(fhir_bundle_add_outcome(b, oo), BASE_OK);
    /* total and link set after the entries still come before them */
    ck_assert_int_eq(fhir_bundle_add_link(b, "self", "https://gw/fhir/Patient?name=x"), BASE_OK);
    ck_assert_int_eq(fhir_bundle_set_total(b, 1), BASE_OK);
    ck_assert_str_eq(
        dump(b), "{\"resourceType\":\"Bundle\",\"id\":\"b1\",\"type\":\"searchset\","
                 "\"timestamp\":\"2026-01-02T03:04:05Z\",\"total\":1,\"link\":[{\"relation\":"
                 "\"self\",\"url\":\"https://gw/fhir/Patient?name=x\"}],\"entry\":[{\"fullUrl\":"
                 "\"https://gw/fhir/Patient/p1\",\"resource\":{\"resourceType\":\"Patient\","
                 "\"id\":\"p1\"},\"search\":{\"mode\":\"match\",\"score\":0.85}},{\"resource\":"
                 "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"warning\","
                 "\"code\":\"timeout\",\"diagnostics\":\"member hospital-b timed out\"}]},"
                 "\"search\":{\"mode\":\"outcome\"}}]}");
    ck_assert_int_eq(fhir_bundle_add_entry(b, NULL, json_object(), FHIR_BUNDLE_MODE_MATCH, "x"),
                     BASE_E_INVALID);
    ck_assert_int_eq(fhir_bundle_add_entry(b, NULL, NULL, FHIR_BUNDLE_MODE_MATCH, NULL),
                     BASE_E_NOMEM);
    json_decref(b);
}
END_TEST

START_TEST(collection_and_responses)
{
    json_t *c = fhir_bundle_new(FHIR_BUNDLE_COLLECTION, NULL, NULL);
    json_t *r = fhir_bundle_new(FHIR_BUNDLE_TRANSACTION_RESPONSE, NULL, NULL);
    struct fhir_bundle_response resp = {"201 Created", "Patient/p1/_history/1", "W/\"1\"",
                                        "2026-01-02T03:04:05Z", NULL};
    struct fhir_bundle_response bad = {NULL, NULL, NULL, NULL, NULL};

    ck_assert_int_eq(fhir_bundle_add_entry(c, "urn:uuid:1", parse("{\"resourceType\":\"Basic\"}"),
                                           FHIR_BUNDLE_MODE_NONE, NULL),
                     BASE_OK);
    ck_assert_str_eq(dump(c), "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":"
                              "[{\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"resourceType\":"
                              "\"Basic\"}}]}");
    ck_assert_int_eq(fhir_bundle_add_response(r, NULL, &resp), BASE_OK);
    resp.status = "400 Bad Request";
    resp.outcome = fhir_outcome_new();
    resp.location = resp.etag = resp.last_modified = NULL;
    ck_assert_int_eq(fhir_bundle_add_response(r, NULL, &resp), BASE_OK);
    ck_assert_str_eq(dump(r),
                     "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\",\"entry\":"
                     "[{\"response\":{\"status\":\"201 Created\",\"location\":"
                     "\"Patient/p1/_history/1\",\"etag\":\"W/\\\"1\\\"\",\"lastModified\":"
                     "\"2026-01-02T03:04:05Z\"}},{\"response\":{\"status\":\"400 Bad Request\","
                     "\"outcome\":{\"resourceType\":\"OperationOutcome\",\"issue\":[]}}}]}");
    ck_assert_int_eq(fhir_bundle_add_response(r, NULL, &bad), BASE_E_INVALID);
    ck_assert_str_eq(fhir_bundle_type_code(FHIR_BUNDLE_BATCH_RESPONSE), "batch-response");
    ck_assert_str_eq(fhir_bundle_type_code(FHIR_BUNDLE_HISTORY), "history");
    json_decref(c);
    json_decref(r);
}
END_TEST

START_TEST(paging_links)
{
    struct fhir_bundle_paging p = {
        "https://gw.example/fhir/", "Observation", "patient=p1&_count=10", "c2", "c3", "", true};
    json_t *links = fhir_bundle_paging_links(A, &p);
    json_t *b = fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, NULL, NULL);

    ck_assert_str_eq(dump(links),
                     "[{\"relation\":\"self\",\"url\":\"https://gw.example/fhir/Observation?"
                     "patient=p1&_count=10&_cursor=c2\"},{\"relation\":\"first\",\"url\":"
                     "\"https://gw.example/fhir/Observation?patient=p1&_count=10\"},"
                     "{\"relation\":\"previous\",\"url\":\"https://gw.example/fhir/Observation?"
                     "patient=p1&_count=10\"},{\"relation\":\"next\",\"url\":"
                     "\"https://gw.example/fhir/Observation?patient=p1&_count=10&_cursor=c3\"}]");
    json_decref(links);
    ck_assert_str_eq(fhir_bundle_page_url(A, "https://h/fhir", "Patient", NULL, "a b/c"),
                     "https://h/fhir/Patient?_cursor=a%20b%2Fc");
    ck_assert_str_eq(fhir_bundle_page_url(A, "https://h/fhir", "Patient", "", NULL),
                     "https://h/fhir/Patient");
    ck_assert_str_eq(fhir_bundle_full_url(A, "https://h/fhir//", "Patient", "p1"),
                     "https://h/fhir/Patient/p1");
    p.next_cursor = NULL;
    p.prev_cursor = "c1";
    p.first = false;
    ck_assert_int_eq(fhir_bundle_add_paging_links(A, b, &p), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "link")), 2);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(b, "link"), 1), "url")),
        "https://gw.example/fhir/Observation?patient=p1&_count=10&_cursor=c1");
    ck_assert_int_eq(fhir_bundle_add_paging_links(A, b, &p), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "link")), 4);
    json_decref(b);
}
END_TEST

START_TEST(writer_splices_entries)
{
    struct base_buf out;
    struct fhir_bundle_writer w;
    struct fhir_bundle_link links[] = {{"self", "https://gw/fhir/Observation?patient=p&_count=2"}};
    struct fhir_bundle_header h = {
        FHIR_BUNDLE_SEARCHSET, "m1", "2026-01-02T03:04:05+08:00", true, 2, links, 1};
    const char *member = "  {\"resourceType\":\"Observation\",\"id\":\"o1\",\"valueQuantity\":"
                         "{\"value\":1.50},\"note\":[{\"text\":\"\\u00e9 \\\"q\\\"\"}]}\n";
    json_t *oo = fhir_outcome_new();
    json_t *again;
    json_t *tree;
    struct base_err err = {0};

    base_buf_init(&out, 1u << 20);
    ck_assert_int_eq(fhir_bundle_writer_begin(&w, &out, &h), BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_entry_raw(&w, "https://a.example/fhir/Observation/o1",
                                                  member, strlen(member), FHIR_BUNDLE_MODE_MATCH,
                                                  NULL, &err),
                     BASE_OK);
    ck_assert_int_eq(fhir_outcome_add(oo, "error", "timeout", NULL, "member b: timeout 3000 ms"),
                     BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_entry(&w, NULL, oo, FHIR_BUNDLE_MODE_OUTCOME, NULL),
                     BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_end(&w), BASE_OK);
    ck_assert_int_eq(fhir_json_parse(out.data, out.len, NULL, &again, NULL), BASE_OK);
    /* the same Bundle built as a tree */
    tree = fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, "m1", "2026-01-02T03:04:05+08:00");
    ck_assert_int_eq(fhir_bundle_set_total(tree, 2), BASE_OK);
    ck_assert_int_eq(fhir_bundle_add_link(tree, links[0].relation, links[0].url), BASE_OK);
    ck_assert_int_eq(fhir_bundle_add_entry(tree, "https://a.example/fhir/Observation/o1",
                                           parse(member), FHIR_BUNDLE_MODE_MATCH, NULL),
                     BASE_OK);
    ck_assert_int_eq(fhir_bundle_add_outcome(tree, oo), BASE_OK);
    ck_assert(fhir_json_equal(again, tree));
    /* decimal text survives the splice */
    ck_assert_ptr_nonnull(strstr(out.data, "{\"value\":1.50}"));
    json_decref(again);
    json_decref(tree);
    base_buf_fini(&out);
}
END_TEST

/* Strings the writer itself escapes (fullUrl, links) come back unchanged,
 * escapes at the start, the middle and the end of runs. */
START_TEST(writer_escapes_its_own_strings)
{
    static const char *const urls[] = {"https://a.example/fhir/Observation/o1", "\"", "a\"b\\c",
                                       "\x01x\n\t", "\xC3\xA9\x1F", "end\\"};
    struct fhir_bundle_link links[] = {{"self", "https://gw/fhir/Observation?q=\"x\""}};
    struct fhir_bundle_header h = {FHIR_BUNDLE_SEARCHSET, "m1", NULL, false, 0, links, 1};
    const char *member = "{\"resourceType\":\"Observation\",\"id\":\"o1\"}";

    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct base_buf out;
        struct fhir_bundle_writer w;
        json_t *again = NULL;
        json_t *e;

        base_buf_init(&out, 1u << 20);
        ck_assert_int_eq(fhir_bundle_writer_begin(&w, &out, &h), BASE_OK);
        ck_assert_int_eq(fhir_bundle_writer_entry_raw(&w, urls[i], member, strlen(member),
                                                      FHIR_BUNDLE_MODE_MATCH, NULL, NULL),
                         BASE_OK);
        ck_assert_int_eq(fhir_bundle_writer_end(&w), BASE_OK);
        ck_assert_msg(fhir_json_parse(out.data, out.len, NULL, &again, NULL) == BASE_OK,
                      "url %zu: %s", i, out.data);
        e = json_array_get(json_object_get(again, "entry"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(e, "fullUrl")), urls[i]);
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(again, "link"), 0), "url")),
                         links[0].url);
        json_decref(again);
        base_buf_fini(&out);
    }
}
END_TEST

static int
write_obs(struct base_buf *out, void *ctx)
{
    return base_buf_append_cstr(out, ctx);
}

static int
write_fails(struct base_buf *out, void *ctx)
{
    int rc = base_buf_append_cstr(out, "{\"resourceType\""); /* half written, then fails */

    (void)ctx;
    (void)rc;
    return BASE_E_NOMEM;
}

/* A resource written by a callback straight into the Bundle: the same
 * text as a splice; what is not an object, and nothing else, is dropped
 * (the Bundle stays whole); the callback's own error sticks. */
START_TEST(writer_entry_from_a_callback)
{
    struct fhir_bundle_header h = {FHIR_BUNDLE_SEARCHSET, "m1", NULL, false, 0, NULL, 0};
    const char *res = "{\"resourceType\":\"Observation\",\"id\":\"o1\"}";
    struct base_buf a;
    struct base_buf b;
    struct fhir_bundle_writer wa;
    struct fhir_bundle_writer wb;
    json_t *v = NULL;

    base_buf_init(&a, 1u << 20);
    base_buf_init(&b, 1u << 20);
    ck_assert_int_eq(fhir_bundle_writer_begin(&wa, &a, &h), BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_begin(&wb, &b, &h), BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_entry_checked(&wa, "urn:x:1", res, strlen(res),
                                                      FHIR_BUNDLE_MODE_MATCH, NULL),
                     BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_entry_checked_fn(&wb, "urn:x:1", write_obs, (void *)res,
                                                         FHIR_BUNDLE_MODE_MATCH, NULL),
                     BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_entry_checked_fn(&wb, "urn:x:2", write_obs,
                                                         (void *)"[1]", FHIR_BUNDLE_MODE_MATCH,
                                                         NULL),
                     BASE_E_INVALID);
    ck_assert_int_eq(fhir_bundle_writer_end(&wa), BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_end(&wb), BASE_OK);
    ck_assert_str_eq(a.data, b.data);
    ck_assert_int_eq(fhir_json_parse(b.data, b.len, NULL, &v, NULL), BASE_OK);
    json_decref(v);
    base_buf_reset(&b);
    ck_assert_int_eq(fhir_bundle_writer_begin(&wb, &b, &h), BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_entry_checked_fn(&wb, NULL, write_fails, NULL,
                                                         FHIR_BUNDLE_MODE_MATCH, NULL),
                     BASE_E_NOMEM);
    ck_assert_int_eq(fhir_bundle_writer_end(&wb), BASE_E_NOMEM);
    base_buf_fini(&a);
    base_buf_fini(&b);
}
END_TEST

START_TEST(writer_rejects_bad_splices)
{
    static const char *const bad[] = {
        "{\"a\":1}]},{\"resource\":{\"resourceType\":\"Patient\"}",
        "[1,2]",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":01}",
        "{\"a\":\"\x01\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\xc3\x28\"}",
        "{\"a\" 1}",
        "{\"a\":tru}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":\"open}",
        "",
        "{} {}",
    };
    struct base_buf out;
    struct fhir_bundle_writer w;
    struct fhir_bundle_header h = {FHIR_BUNDLE_SEARCHSET, NULL, NULL, false, 0, NULL, 0};

    base_buf_init(&out, 1u << 20);
    ck_assert_int_eq(fhir_bundle_writer_begin(&w, &out, &h), BASE_OK);
    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        struct base_err err = {0};

        ck_assert_msg(fhir_bundle_writer_entry_raw(&w, NULL, bad[i], strlen(bad[i]),
                                                   FHIR_BUNDLE_MODE_MATCH, NULL,
                                                   &err) == BASE_E_PARSE,
                      "%zu accepted", i);
        ck_assert_str_eq(err.issue_code, "structure");
        ck_assert(strncmp(err.where, "byte ", 5) == 0);
    }
    {
        struct base_err err = {0};
        char nest[600];
        size_t o = 0;

        for (int i = 0; i < 80; i++)
            o += (size_t)snprintf(nest + o, sizeof(nest) - o, "{\"a\":");
        nest[o++] = '1';
        for (int i = 0; i < 80; i++)
            nest[o++] = '}';
        ck_assert_int_eq(
            fhir_bundle_writer_entry_raw(&w, NULL, nest, o, FHIR_BUNDLE_MODE_MATCH, NULL, &err),
            BASE_E_LIMIT);
    }
    /* a bad score or fullUrl leaves the Bundle intact */
    ck_assert_int_eq(
        fhir_bundle_writer_entry_raw(&w, NULL, "{}", 2, FHIR_BUNDLE_MODE_MATCH, "1,2", NULL),
        BASE_E_INVALID);
    ck_assert_int_eq(
        fhir_bundle_writer_entry_raw(&w, "bad\xff", "{}", 2, FHIR_BUNDLE_MODE_MATCH, NULL, NULL),
        BASE_E_INVALID);
    ck_assert_int_eq(fhir_bundle_writer_end(&w), BASE_OK);
    /* no entries: no empty "entry" array (FHIR JSON forbids empty arrays) */
    ck_assert_str_eq(out.data, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}");
    ck_assert_int_eq(fhir_bundle_writer_end(&w), BASE_E_INVALID);
    {
        json_t *empty = json_object();

        /* after end, entries are refused (the tree is only borrowed) */
        ck_assert_int_eq(fhir_bundle_writer_entry(&w, NULL, empty, FHIR_BUNDLE_MODE_MATCH, NULL),
                         BASE_E_INVALID);
        json_decref(empty);
    }
    base_buf_fini(&out);
}
END_TEST

START_TEST(writer_limit_is_sticky)
{
    struct base_buf out;
    struct fhir_bundle_writer w;
    struct fhir_bundle_header h = {FHIR_BUNDLE_SEARCHSET, NULL, NULL, false, 0, NULL, 0};
    const char *r = "{\"resourceType\":\"Observation\",\"id\":\"0123456789\"}";

    base_buf_init(&out, 200);
    ck_assert_int_eq(fhir_bundle_writer_begin(&w, &out, &h), BASE_OK);
    ck_assert_int_eq(
        fhir_bundle_writer_entry_raw(&w, NULL, r, strlen(r), FHIR_BUNDLE_MODE_MATCH, NULL, NULL),
        BASE_OK);
    ck_assert_int_eq(
        fhir_bundle_writer_entry_raw(&w, NULL, r, strlen(r), FHIR_BUNDLE_MODE_MATCH, NULL, NULL),
        BASE_E_LIMIT);
    ck_assert_int_eq(fhir_bundle_writer_end(&w), BASE_E_LIMIT);
    base_buf_fini(&out);
}
END_TEST

Suite *fhir_bundle_suite(void)
{
    Suite *s = suite_create("fhir_bundle");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, searchset_with_outcome_and_order);
    tcase_add_test(tc, collection_and_responses);
    tcase_add_test(tc, paging_links);
    tcase_add_test(tc, writer_splices_entries);
    tcase_add_test(tc, writer_escapes_its_own_strings);
    tcase_add_test(tc, writer_entry_from_a_callback);
    tcase_add_test(tc, writer_rejects_bad_splices);
    tcase_add_test(tc, writer_limit_is_sticky);
    suite_add_tcase(s, tc);
    return s;
}
