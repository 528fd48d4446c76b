/* The member Bundle scanner: every field against a tree of the same text
 * (R4 examples), every error path, truncations, depth and size limits,
 * and the fast sort keys against fhir_search_sort_value(). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "gateway/fed/fed_int.h"
#include "gateway/fed/gw_fed.h"
#include "test/support/testutil.h"

static struct base_arena *A;

static void
setup(void)
{
    A = base_arena_new(0);
}

static void
teardown(void)
{
    base_arena_free(A);
}

static int
scan_opts(const char *text, size_t len, const struct gw_fed_scan_opts *o, struct gw_fed_scan *sc,
          struct base_err *err)
{
    return gw_fed_scan_bundle(A, text, len, o, sc, err);
}

static int
scan(const char *text, struct gw_fed_scan *sc, struct base_err *err)
{
    return scan_opts(text, strlen(text), NULL, sc, err);
}

/* A searchset with one entry holding `resource`. */
static char *
wrap(const char *resource, const char *mode)
{
    return base_arena_sprintf(A,
                              "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{"
                              "\"fullUrl\":\"urn:uuid:1\",\"resource\":%s,\"search\":{\"mode\":"
                              "\"%s\"}}]}",
                              resource, mode);
}

static const char *
sp(const struct gw_fed_scan *sc, struct gw_fed_span s, bool esc)
{
    return gw_fed_span_str(A, sc->text, s, esc);
}

/* ---- every field against the tree ------------------------------------------------ */

static void
check_codings(const struct gw_fed_scan *sc, const struct gw_fed_coding *c, size_t n,
              const json_t *arr, const char *second, bool esc)
{
    size_t k = 0;
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        json_t *code = json_object_get(v, second);

        if (code == NULL || !fhir_json_is_string(code))
            continue;
        ck_assert_uint_lt(k, n);
        ck_assert_str_eq(sp(sc, c[k].code, esc), json_string_value(code));
        json_t *sys = json_object_get(v, "system");
        if (sys != NULL && fhir_json_is_string(sys))
            ck_assert_str_eq(sp(sc, c[k].system, esc), json_string_value(sys));
        k++;
    }
    ck_assert_uint_eq(k, n);
}

static void
check_entry(const struct gw_fed_scan *sc, const struct gw_fed_entry *e, const json_t *r)
{
    const json_t *meta = json_object_get(r, "meta");
    json_t *copy = NULL;

    ck_assert_str_eq(sp(sc, e->type, e->escaped & GW_FED_ESC_TYPE),
                     json_string_value(json_object_get(r, "resourceType")));
    if (json_object_get(r, "id") != NULL)
        ck_assert_str_eq(sp(sc, e->id, e->escaped & GW_FED_ESC_ID),
                         json_string_value(json_object_get(r, "id")));
    else
        ck_assert_uint_eq(e->id.len, 0);
    if (json_object_get(meta, "versionId") != NULL)
        ck_assert_str_eq(sp(sc, e->version_id, e->escaped & GW_FED_ESC_VERSION),
                         json_string_value(json_object_get(meta, "versionId")));
    if (json_object_get(meta, "lastUpdated") != NULL)
        ck_assert_str_eq(sp(sc, e->last_updated, e->escaped & GW_FED_ESC_UPDATED),
                         json_string_value(json_object_get(meta, "lastUpdated")));
    ck_assert_uint_eq(e->meta.len > 0, meta != NULL);
    check_codings(sc, sc->codings + e->first_label, e->n_labels, json_object_get(meta, "security"),
                  "code", e->escaped & GW_FED_ESC_OTHER);
    /* identifiers with a value, then masterIdentifier */
    json_t *ids = json_array();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)r, key, v)
    { /* in text order, as the scanner meets them */
        if (strcmp(key, "masterIdentifier") == 0 ||
            (strcmp(key, "identifier") == 0 && json_is_object(v))) {
            json_array_append(ids, v);
        } else if (strcmp(key, "identifier") == 0) {
            size_t i;
            json_t *x;

            json_array_foreach(v, i, x) json_array_append(ids, x);
        }
    }
    check_codings(sc, sc->idents + e->first_ident, e->n_idents, ids, "value",
                  e->escaped & GW_FED_ESC_OTHER);
    json_decref(ids);
    /* the resource span is exactly the resource */
    ck_assert_int_eq(
        fhir_json_parse(sc->text + e->resource.off, e->resource.len, NULL, &copy, NULL), BASE_OK);
    ck_assert(fhir_json_equal(copy, r));
    json_decref(copy);
    /* captured dates are top-level members of the resource */
    for (size_t k = 0; k < e->n_dates; k++)
        ck_assert(e->date_seen & (1u << e->dates[k].elem));
}

START_TEST(corpus_resources_scan_like_the_tree)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);
    size_t done = 0;

    ck_assert_uint_gt(n, 50);
    for (size_t f = 0; f < n; f++) {
        char *text = tu_read_file(files[f], NULL);
        json_t *tree = NULL;
        struct gw_fed_scan sc;
        struct base_err err = {0};

        ck_assert_ptr_nonnull(text);
        ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &tree, NULL), BASE_OK);
        const char *type = json_string_value(json_object_get(tree, "resourceType"));
        if (strcmp(type, "Bundle") != 0) {
            const char *mode = strcmp(type, "OperationOutcome") == 0 ? "outcome" : "match";
            char *b = wrap(text, mode);

            ck_assert_msg(scan(b, &sc, &err) == BASE_OK, "%s: %s at %s", files[f], err.msg,
                          err.where);
            ck_assert_uint_eq(sc.n_entries, 1);
            check_entry(&sc, &sc.entries[0], tree);
            ck_assert_str_eq(sp(&sc, sc.entries[0].full_url, false), "urn:uuid:1");
            done++;
        }
        json_decref(tree);
        free(text);
    }
    ck_assert_uint_gt(done, 80);
    tu_free_list(files);
}
END_TEST

START_TEST(official_searchsets)
{
    char *text =
        tu_read_file(tu_corpus_path("fhir-r4-examples/json/Bundle-bundle-example.json"), NULL);
    json_t *tree = NULL;
    struct gw_fed_scan sc;
    struct base_err err = {0};

    ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &tree, NULL), BASE_OK);
    ck_assert_int_eq(scan(text, &sc, &err), BASE_OK);
    ck_assert_uint_eq(sc.n_entries, json_array_size(json_object_get(tree, "entry")));
    ck_assert(sc.has_total);
    ck_assert_uint_eq(sc.total, (uint64_t)json_integer_value(json_object_get(tree, "total")));
    ck_assert_uint_gt(sc.next_url.len, 0);
    ck_assert_str_eq(sp(&sc, sc.next_url, sc.next_escaped),
                     "https://example.com/base/MedicationRequest?patient=347&searchId="
                     "ff15fd40-ff71-4b48-b366-09c706bed9d0&page=2");
    ck_assert_int_eq(sc.entries[0].mode, GW_FED_MODE_MATCH);
    ck_assert_int_eq(sc.entries[1].mode, GW_FED_MODE_INCLUDE);
    for (size_t i = 0; i < sc.n_entries; i++)
        check_entry(&sc, &sc.entries[i],
                    json_object_get(json_array_get(json_object_get(tree, "entry"), i), "resource"));
    json_decref(tree);
    free(text);
    text = tu_read_file(tu_corpus_path("fhir-r4-examples/json/Bundle-bundle-search-warning.json"),
                        NULL);
    ck_assert_int_eq(scan(text, &sc, &err), BASE_OK);
    ck_assert_int_eq(sc.entries[sc.n_entries - 1].mode, GW_FED_MODE_OUTCOME);
    free(text);
}
END_TEST

START_TEST(other_bundle_types_are_invalid)
{
    static const char *const files[] = {"Bundle-bundle-transaction.json", "Bundle-father.json",
                                        "Bundle-bundle-response.json", "Bundle-xds.json"};

    for (size_t i = 0; i < 4; i++) {
        char rel[128];
        struct gw_fed_scan sc;
        struct base_err err = {0};

        snprintf(rel, sizeof(rel), "fhir-r4-examples/json/%s", files[i]);
        char *text = tu_read_file(tu_corpus_path(rel), NULL);
        ck_assert_int_eq(scan(text, &sc, &err), BASE_E_INVALID);
        ck_assert_msg(strstr(err.msg, "searchset") != NULL, "%s: %s", files[i], err.msg);
        free(text);
    }
}
END_TEST

START_TEST(every_field)
{
    const char *t =
        "\xEF\xBB\xBF {\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":12,"
        "\"link\":[{\"relation\":\"self\",\"url\":\"https://m/fhir/X\"},"
        "{\"relation\":\"next\",\"url\":\"https:\\/\\/m\\/fhir\\/Condition?_offset=2\"}],"
        "\"entry\":[{\"fullUrl\":\"https://m/fhir/Condition/c1\",\"search\":{\"mode\":\"include\"},"
        "\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\",\"meta\":{\"versionId\":"
        "\"7\",\"lastUpdated\":\"2024-02-03T04:05:06\\u002b08:00\",\"security\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\",\"code\":\"R\"},{\"code\":"
        "\"HIV\"}],\"tag\":[{\"code\":\"x\"}]},\"identifier\":[{\"system\":\"urn:a\",\"value\":"
        "\"1\"},{\"system\":\"urn:no-value\"},{\"value\":\"caf\\u00e9\"}],\"masterIdentifier\":"
        "{\"system\":\"urn:m\",\"value\":\"m1\"},\"onsetAge\":{\"value\":3},\"recordedDate\":"
        "\"2020-01-02\",\"abatementPeriod\":{\"start\":\"2021\"},\"effectiveTiming\":{},"
        "\"date\":\"2022\",\"issued\":\"2023\"}}]} \n";
    struct gw_fed_scan sc;
    struct base_err err = {0};

    ck_assert_int_eq(scan(t, &sc, &err), BASE_OK);
    ck_assert(sc.has_total && sc.total == 12);
    ck_assert_str_eq(sp(&sc, sc.next_url, sc.next_escaped), "https://m/fhir/Condition?_offset=2");
    const struct gw_fed_entry *e = &sc.entries[0];
    ck_assert_int_eq(e->mode, GW_FED_MODE_INCLUDE);
    ck_assert_str_eq(sp(&sc, e->full_url, false), "https://m/fhir/Condition/c1");
    ck_assert_str_eq(sp(&sc, e->version_id, false), "7");
    ck_assert(e->escaped & GW_FED_ESC_UPDATED);
    ck_assert_str_eq(sp(&sc, e->last_updated, true), "2024-02-03T04:05:06+08:00");
    ck_assert_uint_eq(e->n_labels, 2);
    ck_assert_str_eq(sp(&sc, sc.codings[e->first_label].code, false), "R");
    ck_assert_uint_eq(sc.codings[e->first_label + 1].system.len, 0);
    ck_assert_uint_eq(e->n_idents, 3); /* the one without value is left out */
    ck_assert_str_eq(sp(&sc, sc.idents[e->first_ident + 1].code, true), "caf\xC3\xA9");
    ck_assert_str_eq(sp(&sc, sc.idents[e->first_ident + 2].system, false), "urn:m");
    ck_assert_uint_eq(e->n_dates, GW_FED_MAX_DATE_FIELDS);
    ck_assert(e->dates_overflow);
    ck_assert_int_eq(e->dates[0].elem, GW_FED_DE_ONSET);
    ck_assert_int_eq(e->dates[0].form, GW_FED_DF_OTHER);
    ck_assert_int_eq(e->dates[1].elem, GW_FED_DE_RECORDED_DATE);
    ck_assert_int_eq(e->dates[1].form, GW_FED_DF_DATETIME);
    ck_assert_int_eq(e->dates[2].elem, GW_FED_DE_ABATEMENT);
    ck_assert_int_eq(e->dates[2].form, GW_FED_DF_PERIOD);
    ck_assert_int_eq(e->dates[3].form, GW_FED_DF_OTHER); /* Timing */
    ck_assert(e->date_seen & (1u << GW_FED_DE_ISSUED));
    ck_assert(gw_fed_span_eq(sc.text, e->type, "Condition"));
}
END_TEST

START_TEST(string_decoding)
{
    const char *t = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":"
                    "{\"resourceType\":\"Observation\",\"\\u0069d\":\"a\",\"meta\":{\"versionId\":"
                    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\ud83d\\ude00\"}}}]}";
    struct gw_fed_scan sc;

    ck_assert_int_eq(scan(t, &sc, NULL), BASE_OK);
    ck_assert_str_eq(sp(&sc, sc.entries[0].id, false), "a"); /* escaped name, plain value */
    ck_assert_str_eq(sp(&sc, sc.entries[0].version_id, true), "\"\\/\b\f\n\r\t\xF0\x9F\x98\x80");
}
END_TEST

/* The string loop takes 16, then 8 bytes at a time: each kind of byte that
 * needs attention, at every offset across those strides, is seen where it
 * is (decoded, or refused). */
START_TEST(string_specials_at_every_offset)
{
    static const struct {
        const char *raw;     /* inside the JSON string */
        const char *decoded; /* NULL: the scan must fail */
    } kinds[] = {{"\\\"", "\""},        {"\\n", "\n"},    {"\xC3\xA9", "\xC3\xA9"},
                 {"\xE4\xB8\xAD", "\xE4\xB8\xAD"}, {"\x01", NULL},     {"\x1F", NULL},
                 {"\xFF", NULL},             {"\xE4\xB8", NULL}};
    /* without and with Chinese text before: the second has the rest of the
     * answer checked as UTF-8 at once (jscan.c text_is_utf8_from) */
    static const char *const leads[] = {"", "\"text\":\"\xE4\xB8\xAD\xE6\x96\x87\","};

    for (size_t k = 0; k < 2 * sizeof(kinds) / sizeof(kinds[0]); k++) {
        const char *lead = leads[k % 2];

        for (size_t off = 0; off <= 40; off++) {
            char pad[64];
            char t[512];
            char want[128];
            struct gw_fed_scan sc;
            struct base_err err = {0};
            int rc;

            memset(pad, 'a', off);
            pad[off] = '\0';
            snprintf(t, sizeof(t),
                     "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{"
                     "\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o\",%s\"meta\":{"
                     "\"versionId\":\"%s%sbbbbbbbbbbbbbbbbbbbb\"}}}]}",
                     lead, pad, kinds[k / 2].raw);
            rc = scan(t, &sc, &err);
            if (kinds[k / 2].decoded == NULL) {
                ck_assert_msg(rc == BASE_E_PARSE, "kind %zu at %zu: rc %d", k, off, rc);
                continue;
            }
            ck_assert_msg(rc == BASE_OK, "kind %zu at %zu: %s", k, off, err.msg);
            snprintf(want, sizeof(want), "%s%sbbbbbbbbbbbbbbbbbbbb", pad, kinds[k / 2].decoded);
            ck_assert_str_eq(sp(&sc, sc.entries[0].version_id, true), want);
        }
    }
}
END_TEST

/* ---- errors -------------------------------------------------------------------------- */

struct bad {
    const char *text;
    int rc;
    const char *msg; /* substring of err.msg */
};

#define B(body) "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[" body "]}"
#define R(res)  B("{\"resource\":" res "}")

static const struct bad bad_cases[] = {
    {"", BASE_E_PARSE, "JSON"},
    {"   ", BASE_E_PARSE, "JSON"},
    {"[]", BASE_E_INVALID, "not a JSON object"},
    {"null", BASE_E_INVALID, "not a JSON object"},
    {"\"x\"", BASE_E_INVALID, "not a JSON object"},
    {"{", BASE_E_PARSE, "JSON"},
    {"<html>", BASE_E_PARSE, "JSON"},
    {"{\"resourceType\":\"Patient\"}", BASE_E_INVALID, "not a Bundle"},
    {"{\"resourceType\":\"Bundle\"}", BASE_E_INVALID, "searchset"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"collection\"}", BASE_E_INVALID, "searchset"},
    {"{\"resourceType\":\"Bundle\",\"type\":5}", BASE_E_INVALID, "Bundle.type"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":00}", BASE_E_PARSE, "JSON"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":012}", BASE_E_PARSE, "JSON"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":{}}", BASE_E_INVALID,
     "Bundle.entry"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":{}}", BASE_E_INVALID,
     "Bundle.link"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[3]}", BASE_E_INVALID, "link"},
    {B("1"), BASE_E_INVALID, "entry 0: not an object"},
    {B("{}"), BASE_E_INVALID, "without a resource"},
    {B("{\"resource\":[]}"), BASE_E_INVALID, "resource is not an object"},
    {B("{\"search\":[]}"), BASE_E_INVALID, "search is not an object"},
    {B("{\"fullUrl\":1}"), BASE_E_INVALID, "fullUrl"},
    {R("{}"), BASE_E_INVALID, "without resourceType"},
    {R("{\"resourceType\":5}"), BASE_E_INVALID, "not a string"},
    {R("{\"resourceType\":\"patient\"}"), BASE_E_INVALID, "type name"},
    {R("{\"resourceType\":\"Pat1ent\"}"), BASE_E_INVALID, "type name"},
    {R("{\"resourceType\":\"Patient\",\"id\":\"a b\"}"), BASE_E_INVALID, "FHIR id"},
    {R("{\"resourceType\":\"Patient\",\"id\":\"\"}"), BASE_E_INVALID, "FHIR id"},
    {R("{\"resourceType\":\"Patient\",\"id\":"
       "\"01234567890123456789012345678901234567890123456789012345678901234\"}"),
     BASE_E_INVALID, "FHIR id"},
    {R("{\"resourceType\":\"Patient\",\"id\":1}"), BASE_E_INVALID, "id is not a string"},
    {R("{\"resourceType\":\"Patient\",\"meta\":[]}"), BASE_E_INVALID, "meta is not an object"},
    {R("{\"resourceType\":\"Patient\",\"meta\":{\"security\":{}}}"), BASE_E_INVALID,
     "meta.security"},
    {R("{\"resourceType\":\"Patient\",\"meta\":{\"security\":[1]}}"), BASE_E_INVALID,
     "meta.security"},
    {R("{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":1}}"), BASE_E_INVALID, "versionId"},
    {R("{\"resourceType\":\"Patient\",\"meta\":{\"lastUpdated\":[]}}"), BASE_E_INVALID,
     "lastUpdated"},
    {R("{\"resourceType\":\"Patient\",\"identifier\":\"x\"}"), BASE_E_INVALID, "identifier"},
    {R("{\"resourceType\":\"Patient\",\"identifier\":[\"x\"]}"), BASE_E_INVALID, "identifier"},
    {R("{\"resourceType\":\"Patient\",\"masterIdentifier\":[]}"), BASE_E_INVALID,
     "masterIdentifier"},
    {B("{\"resource\":{\"resourceType\":\"Patient\"},\"search\":{\"mode\":\"bogus\"}}"),
     BASE_E_INVALID, "search.mode"},
    {B("{\"resource\":{\"resourceType\":\"Patient\"},\"search\":{\"mode\":1}}"), BASE_E_INVALID,
     "search.mode"},
    {B("{\"resource\":{\"resourceType\":\"Patient\"},\"search\":{\"mode\":\"outcome\"}}"),
     BASE_E_INVALID, "not an OperationOutcome"},
    /* duplicates, also through escapes and in large objects */
    {"{\"resourceType\":\"Bundle\",\"resourceType\":\"Bundle\",\"type\":\"searchset\"}",
     BASE_E_PARSE, "duplicate"},
    {R("{\"resourceType\":\"Patient\",\"id\":\"a\",\"\\u0069d\":\"b\"}"), BASE_E_PARSE,
     "duplicate"},
    {R("{\"resourceType\":\"Patient\",\"x\":{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,"
       "\"g\":1,\"h\":1,\"i\":1,\"j\":1,\"k\":1,\"a\":2}}"),
     BASE_E_PARSE, "duplicate"},
    /* UTF-8 (RFC 3629) */
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xC0\x80\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xC1\xBF\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE0\x80\xAF\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xED\xA0\x80\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xF0\x80\x80\x80\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xF4\x90\x80\x80\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xF5\x80\x80\x80\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE2\x82\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\x80\"}"), BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xFF\"}"), BASE_E_PARSE, "UTF-8"},
    /* after Chinese text, once the rest of the answer is checked as a whole
     * (jscan.c text_is_utf8_from): its faults are still found, and where */
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE4\xB8\xAD\xE6\x96\x87\",\"y\":\"\xC0\x80\"}"),
     BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE4\xB8\xAD\",\"y\":\"\xE4\xB8\xAD\xE4\xB8\"}"),
     BASE_E_PARSE, "UTF-8"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE4\xB8\xAD\",\"y\":\"a\x01\"}"), BASE_E_PARSE,
     "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE4\xB8\xAD\",\"y\":\"\xE6\x96\x87" "0123456789abcdef\n\"}"),
     BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE4\xB8\xAD" "0123456789abcdef\x1F\xE4\xB8\xAD\"}"),
     BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\xE4\xB8\xAD\",\xE4\xB8\xAD:1}"), BASE_E_PARSE,
     "JSON"},
    /* escapes (RFC 8259 §7) and control characters */
    {R("{\"resourceType\":\"Patient\",\"x\":\"\\u0000\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\\ud800\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\\udc00\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\\ud800\\u0041\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\\ud800\\n\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\\u12\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"\\x\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"a\x01\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"a\nb\"}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":\"abc"), BASE_E_PARSE, "JSON"},
    /* numbers and literals (RFC 8259 §6) */
    {R("{\"resourceType\":\"Patient\",\"x\":01}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":1.}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":.5}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":-}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":1e}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":+1}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":tru}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":nul}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":NaN}"), BASE_E_PARSE, "JSON"},
    /* structure */
    {R("{\"resourceType\":\"Patient\",}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\":[1,]}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\" \"x\":1}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",\"x\" 1}"), BASE_E_PARSE, "JSON"},
    {R("{\"resourceType\":\"Patient\",x:1}"), BASE_E_PARSE, "JSON"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\"} x", BASE_E_PARSE, "JSON"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}{}", BASE_E_PARSE, "JSON"},
    /* total */
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":-1}", BASE_E_INVALID, "total"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1.5}", BASE_E_INVALID, "total"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1e3}", BASE_E_INVALID, "total"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":\"3\"}", BASE_E_INVALID,
     "total"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":18446744073709551616}",
     BASE_E_INVALID, "total"},
};

START_TEST(bad_inputs)
{
    const struct bad *c = &bad_cases[_i];
    struct gw_fed_scan sc;
    struct base_err err = {0};
    int rc = scan(c->text, &sc, &err);

    ck_assert_msg(rc == c->rc, "case %d: rc %d (%s), wanted %d", _i, rc, err.msg, c->rc);
    ck_assert_msg(strstr(err.msg, c->msg) != NULL, "case %d: message '%s' lacks '%s'", _i, err.msg,
                  c->msg);
    ck_assert_ptr_nonnull(strstr(err.where, "byte "));
}
END_TEST

static const char *const good_cases[] = {
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}",
    " \t\r\n{ \"type\" : \"searchset\" , \"resourceType\" : \"Bundle\" , \"entry\" : [ ] } \n",
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0,\"entry\":[]}",
    R("{\"resourceType\":\"Patient\",\"x\":[-0.5e+10,0,1E-2,true,false,null,{},[],"
      "\"\\ud83d\\ude00\"]}"),
    R("{\"resourceType\":\"Patient\",\"x\":\"\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80\"}"),
    R("{\"resourceType\":\"Patient\",\"x\":{\"id\":1,\"meta\":2}}"), /* nested: not resource fields
                                                                      */
    R("{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"x "
      "y\"}]}"),
};

START_TEST(good_inputs)
{
    struct gw_fed_scan sc;
    struct base_err err = {0};

    ck_assert_msg(scan(good_cases[_i], &sc, &err) == BASE_OK, "case %d: %s at %s", _i, err.msg,
                  err.where);
}
END_TEST

START_TEST(types_asked_for)
{
    static const char *const obs[] = {"Observation"};
    struct gw_fed_scan_opts o = {0, 0, obs, 1, NULL, 0};
    struct gw_fed_scan sc;
    struct base_err err = {0};
    const char *ok = B("{\"resource\":{\"resourceType\":\"Observation\"}},"
                       "{\"resource\":{\"resourceType\":\"OperationOutcome\"},"
                       "\"search\":{\"mode\":\"outcome\"}}");
    const char *bad = R("{\"resourceType\":\"Patient\"}");

    ck_assert_int_eq(scan_opts(ok, strlen(ok), &o, &sc, &err), BASE_OK);
    ck_assert_int_eq(scan_opts(bad, strlen(bad), &o, &sc, &err), BASE_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "not asked for"));
}
END_TEST

START_TEST(every_truncation_fails)
{
    char *text =
        tu_read_file(tu_corpus_path("fhir-r4-examples/json/Bundle-bundle-example.json"), NULL);
    size_t len = strlen(text);

    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    for (size_t n = 0; n < len; n++) {
        struct gw_fed_scan sc;
        struct base_err err = {0};

        ck_assert_msg(scan_opts(text, n, NULL, &sc, &err) != BASE_OK, "prefix %zu accepted", n);
    }
    free(text);
}
END_TEST

static char *
nested(size_t depth)
{
    /* Bundle(1) > entry(2) > entry object(3) > resource(4) > x arrays */
    char *s = base_arena_alloc(A, 200 + 2 * depth);
    size_t o = (size_t)sprintf(s, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":"
                                  "[{\"resource\":{\"resourceType\":\"Patient\",\"x\":");

    for (size_t i = 0; i < depth - 4; i++)
        s[o++] = '[';
    for (size_t i = 0; i < depth - 4; i++)
        s[o++] = ']';
    strcpy(s + o, "}}]}");
    return s;
}

START_TEST(depth_limit)
{
    struct gw_fed_scan sc;
    struct base_err err = {0};

    ck_assert_int_eq(scan(nested(BASE_LIMIT_FHIR_MAX_DEPTH), &sc, &err), BASE_OK);
    ck_assert_int_eq(scan(nested(BASE_LIMIT_FHIR_MAX_DEPTH + 1), &sc, &err), BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "too deep"));
    ck_assert_int_eq(scan(nested(100000), &sc, &err), BASE_E_LIMIT); /* no stack overflow */
    struct gw_fed_scan_opts o = {8, 0, NULL, 0, NULL, 0};
    const char *t = nested(9);
    ck_assert_int_eq(scan_opts(t, strlen(t), &o, &sc, &err), BASE_E_LIMIT);
}
END_TEST

START_TEST(size_limits)
{
    struct gw_fed_scan sc;
    struct base_err err = {0};
    struct base_buf b;
    struct gw_fed_scan_opts o = {0, 10, NULL, 0, NULL, 0};

    /* entries */
    base_buf_init(&b, 0);
    ck_assert_int_eq(base_buf_append_cstr(&b, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
                                              "\"entry\":["),
                     BASE_OK);
    for (int i = 0; i < 11; i++)
        ck_assert_int_eq(base_buf_appendf(&b, "%s{\"resource\":{\"resourceType\":\"Patient\"}}",
                                          i > 0 ? "," : ""),
                         BASE_OK);
    ck_assert_int_eq(base_buf_append_cstr(&b, "]}"), BASE_OK);
    ck_assert_int_eq(scan_opts(b.data, b.len, &o, &sc, &err), BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "too many entries"));
    ck_assert_int_eq(scan_opts(b.data, b.len, NULL, &sc, &err), BASE_OK);
    ck_assert_uint_eq(sc.n_entries, 11);
    /* members of one object */
    base_buf_reset(&b);
    ck_assert_int_eq(
        base_buf_append_cstr(&b, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\""), BASE_OK);
    for (unsigned i = 0; i < BASE_LIMIT_FHIR_MAX_MEMBERS; i++)
        ck_assert_int_eq(base_buf_appendf(&b, ",\"k%u\":0", i), BASE_OK);
    ck_assert_int_eq(base_buf_append_cstr(&b, "}"), BASE_OK);
    err = (struct base_err){0};
    ck_assert_int_eq(scan_opts(b.data, b.len, NULL, &sc, &err), BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "too many members"));
    /* 9,000 distinct names pass the duplicate check quickly; one repeat fails it */
    base_buf_reset(&b);
    ck_assert_int_eq(
        base_buf_append_cstr(&b, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\""), BASE_OK);
    for (unsigned i = 0; i < 9000; i++)
        ck_assert_int_eq(base_buf_appendf(&b, ",\"k%u\":0", i), BASE_OK);
    ck_assert_int_eq(scan_opts(b.data, b.len - 0, NULL, &sc, &err), BASE_E_PARSE); /* no '}' */
    ck_assert_int_eq(base_buf_append_cstr(&b, "}"), BASE_OK);
    ck_assert_int_eq(scan_opts(b.data, b.len, NULL, &sc, &err), BASE_OK);
    b.len--;
    ck_assert_int_eq(base_buf_append_cstr(&b, ",\"k4500\":1}"), BASE_OK);
    err = (struct base_err){0};
    ck_assert_int_eq(scan_opts(b.data, b.len, NULL, &sc, &err), BASE_E_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate"));
    /* security labels are never dropped: too many fails the answer */
    base_buf_reset(&b);
    ck_assert_int_eq(base_buf_append_cstr(&b, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
                                              "\"entry\":[{\"resource\":{\"resourceType\":"
                                              "\"Patient\",\"meta\":{\"security\":["),
                     BASE_OK);
    for (unsigned i = 0; i <= BASE_LIMIT_FED_MAX_LABELS; i++)
        ck_assert_int_eq(base_buf_appendf(&b, "%s{\"code\":\"c%u\"}", i ? "," : "", i), BASE_OK);
    ck_assert_int_eq(base_buf_append_cstr(&b, "]}}}]}"), BASE_OK);
    err = (struct base_err){0};
    ck_assert_int_eq(scan_opts(b.data, b.len, NULL, &sc, &err), BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "security labels"));
    base_buf_fini(&b);
}
END_TEST

START_TEST(garbage_never_crashes)
{
    unsigned seed = 12345;
    char buf[512];
    char *base = wrap("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"security\":"
                      "[{\"code\":\"R\"}]},\"effectivePeriod\":{\"start\":\"2020\"}}",
                      "match");
    size_t len = strlen(base);

    for (int round = 0; round < 20000; round++) {
        struct gw_fed_scan sc;

        memcpy(buf, base, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % len] = (char)(seed >> 16);
        }
        int rc = gw_fed_scan_bundle(A, buf, len, NULL, &sc, NULL);
        json_t *v = NULL;
        int prc = fhir_json_parse(buf, len, NULL, &v, NULL);
        /* what the scanner accepts, the strict reader accepts */
        ck_assert(rc != BASE_OK || prc == BASE_OK);
        json_decref(v);
    }
}
END_TEST

/* ---- sort keys --------------------------------------------------------------------- */

/* Every DATE parameter with a plain "Type.element" expression, asc and desc,
 * over every R4 example of that type: the scanner's key equals the
 * tree's. */
START_TEST(fast_sort_keys_equal_the_tree)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);
    size_t compared = 0;

    for (size_t f = 0; f < n; f++) {
        char *text = tu_read_file(files[f], NULL);
        json_t *tree = NULL;

        ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &tree, NULL), BASE_OK);
        const char *type = json_string_value(json_object_get(tree, "resourceType"));
        const struct fhir_search_param_def *defs[256];
        size_t nd = fhir_search_params_for(type, defs, 256);
        struct gw_fed_scan sc;
        char *b = wrap(text, strcmp(type, "OperationOutcome") == 0 ? "outcome" : "match");

        if (strcmp(type, "Bundle") != 0 && nd > 0 && nd <= 256) {
            ck_assert_int_eq(scan(b, &sc, NULL), BASE_OK);
            for (size_t d = 0; d < nd; d++) {
                for (int desc = 0; desc < 2; desc++) {
                    struct fhir_search_sort_key key = {defs[d], desc != 0};
                    struct fhir_search_sortval fast;
                    struct fhir_search_sortval slow;

                    if (!fed_sort_fast(&sc, &sc.entries[0], &key, &fast))
                        continue;
                    ck_assert_int_eq(fhir_search_sort_value(A, tree, &key, &slow, NULL), BASE_OK);
                    ck_assert_msg(fast.present == slow.present &&
                                      (!fast.present || fast.time == slow.time),
                                  "%s %s desc=%d", files[f], defs[d]->name, desc);
                    compared++;
                }
            }
        }
        json_decref(tree);
        free(text);
    }
    ck_assert_uint_gt(compared, 100);
    tu_free_list(files);
}
END_TEST

START_TEST(default_order_keys)
{
    static const struct {
        const char *res;
        const char *expect; /* the instant the key stands for (its high end) */
    } cases[] = {
        {"{\"resourceType\":\"Observation\",\"effectiveDateTime\":\"2020-03-04\"}",
         "2020-03-04T23:59:59.999999Z"},
        {"{\"resourceType\":\"Observation\",\"issued\":\"2021-01-01T00:00:00Z\"}",
         "2021-01-01T00:00:00Z"},
        {"{\"resourceType\":\"Encounter\",\"period\":{\"start\":\"2019-05-06T07:08:09Z\",\"end\":"
         "\"2030\"}}",
         "2019-05-06T07:08:09Z"},
        {"{\"resourceType\":\"Encounter\",\"period\":{\"end\":\"2019-05-06T07:08:09Z\"}}",
         "2019-05-06T07:08:09Z"},
        {"{\"resourceType\":\"Condition\",\"onsetDateTime\":\"2018-01-01T00:00:00Z\"}",
         "2018-01-01T00:00:00Z"},
        {"{\"resourceType\":\"Condition\",\"recordedDate\":\"2017-01-01T00:00:00Z\","
         "\"onsetDateTime\":\"2018-01-01T00:00:00Z\"}",
         "2017-01-01T00:00:00Z"},
        {"{\"resourceType\":\"Patient\",\"meta\":{\"lastUpdated\":\"2016-01-01T00:00:00Z\"}}",
         "2016-01-01T00:00:00Z"},
        {"{\"resourceType\":\"Procedure\",\"performedString\":\"yesterday\",\"meta\":"
         "{\"lastUpdated\":\"2015-01-01T00:00:00Z\"}}",
         "2015-01-01T00:00:00Z"},
        {"{\"resourceType\":\"Immunization\",\"occurrenceDateTime\":\"2014-01-01T00:00:00Z\"}",
         "2014-01-01T00:00:00Z"},
        {"{\"resourceType\":\"Patient\"}", NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_fed_scan sc;
        struct fhir_search_sortval v;
        int64_t lo;
        int64_t hi;

        ck_assert_int_eq(scan(wrap(cases[i].res, "match"), &sc, NULL), BASE_OK);
        fed_sort_default(&sc, &sc.entries[0], &v);
        if (cases[i].expect == NULL) {
            ck_assert(!v.present);
            continue;
        }
        ck_assert(fhir_search_date_range(cases[i].expect, strlen(cases[i].expect), &lo, &hi));
        ck_assert_msg(v.present && v.time == hi, "case %zu", i);
    }
}
END_TEST

Suite *fed_scan_suite(void)
{
    Suite *s = suite_create("fed_scan");
    TCase *tc = tcase_create("scan");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, corpus_resources_scan_like_the_tree);
    tcase_add_test(tc, official_searchsets);
    tcase_add_test(tc, other_bundle_types_are_invalid);
    tcase_add_test(tc, every_field);
    tcase_add_test(tc, string_decoding);
    tcase_add_test(tc, string_specials_at_every_offset);
    tcase_add_loop_test(tc, bad_inputs, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_loop_test(tc, good_inputs, 0, (int)(sizeof(good_cases) / sizeof(good_cases[0])));
    tcase_add_test(tc, types_asked_for);
    tcase_add_test(tc, every_truncation_fails);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, size_limits);
    tcase_add_test(tc, garbage_never_crashes);
    tcase_add_test(tc, fast_sort_keys_equal_the_tree);
    tcase_add_test(tc, default_order_keys);
    suite_add_tcase(s, tc);
    return s;
}
