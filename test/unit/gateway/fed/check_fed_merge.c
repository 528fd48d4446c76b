/* The federated merge: source tagging against a tree-based reference,
 * ordering, de-duplication, failures as OperationOutcome entries, totals,
 * the policy filter, streaming, paging across members with the signed
 * cursor (and its tampering). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
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

static json_t *
parse(const char *text, size_t len)
{
    json_t *v = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_json_parse(text, len, NULL, &v, &err) == BASE_OK, "%s at %s: %.200s",
                  err.msg, err.where, text);
    ck_assert_int_eq(fhir_json_tie(A, v), BASE_OK);
    return v;
}

static char *
dump(const json_t *v)
{
    return fhir_json_dump_arena(v, FHIR_JSON_COMPACT, A, NULL);
}

/* ---- tagging: against a tree edit ------------------------------------------------- */

static json_t *
member_coding(const char *id, const char *name)
{
    json_t *c = json_pack("{s:s, s:s}", "system", GW_FED_TAG_SYSTEM, "code", id);

    if (name != NULL)
        json_object_set_new(c, "display", json_string(name));
    return c;
}

/* The reference: parse, edit meta as a tree, dump. */
static char *
tag_reference(const char *resource, const char *source, const struct gw_fed_tag *tags, size_t n)
{
    json_t *r = json_deep_copy(parse(resource, strlen(resource)));
    json_t *meta = json_object_get(r, "meta");
    json_t *old;
    json_t *tag = json_array();

    if (meta == NULL) {
        meta = json_object();
        json_object_set_new(r, "meta", meta);
    }
    json_object_set_new(meta, "source", json_string(source));
    old = json_object_get(meta, "tag");
    for (size_t i = 0; json_is_array(old) && i < json_array_size(old); i++) {
        json_t *c = json_array_get(old, i);
        const char *sys = json_string_value(json_object_get(c, "system"));

        if (sys == NULL || strcmp(sys, GW_FED_TAG_SYSTEM) != 0)
            json_array_append(tag, c);
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(tag, member_coding(tags[i].member_id, tags[i].member_name));
    json_object_set_new(meta, "tag", tag);
    ck_assert_int_eq(fhir_json_tie(A, r), BASE_OK);
    return dump(r);
}

static char *
tag_spliced(const char *resource, const char *source, const struct gw_fed_tag *tags, size_t n)
{
    char *b = base_arena_sprintf(A,
                                 "{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
                                 "\"entry\":[{\"resource\":%s}]}",
                                 resource);
    struct gw_fed_scan sc;
    struct base_buf out;

    ck_assert_int_eq(gw_fed_scan_bundle(A, b, strlen(b), NULL, &sc, NULL), BASE_OK);
    base_buf_init(&out, 0);
    ck_assert_int_eq(gw_fed_tag_resource(&out, b, &sc.entries[0], source, tags, n), BASE_OK);
    char *r = dump(parse(out.data, out.len)); /* valid JSON, compact for comparison */
    base_buf_fini(&out);
    return r;
}

static const struct gw_fed_tag TAGS[] = {{"hosp-a", "Hospital \"A\" \xE5\x8C\xBB\xE9\x99\xA2"},
                                         {"hosp-b", NULL}};

START_TEST(tagging_equals_the_tree_edit_on_every_example)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);
    size_t done = 0;

    for (size_t f = 0; f < n; f++) {
        char *text = tu_read_file(files[f], NULL);
        json_t *tree = parse(text, strlen(text));

        if (strcmp(json_string_value(json_object_get(tree, "resourceType")), "Bundle") != 0) {
            const char *src = "https://a.example/fhir";

            ck_assert_str_eq(tag_spliced(text, src, TAGS, 2), tag_reference(text, src, TAGS, 2));
            ck_assert_str_eq(tag_spliced(text, src, TAGS, 1), tag_reference(text, src, TAGS, 1));
            done++;
        }
        free(text);
    }
    ck_assert_uint_gt(done, 80);
    tu_free_list(files);
}
END_TEST

START_TEST(tagging_edge_cases)
{
    static const char *const cases[] = {
        "{\"resourceType\":\"Observation\"}",
        "{ \"resourceType\" : \"Observation\" , \"meta\" : { } }",
        "{\"resourceType\":\"Observation\",\"meta\":{\"source\":\"urn:lab\",\"versionId\":\"2\"}}",
        "{\"resourceType\":\"Observation\",\"meta\":{\"tag\":[]}}",
        "{\"resourceType\":\"Observation\",\"meta\":{\"tag\":{\"code\":\"odd\"}}}",
        /* a member claiming another member's data: its tags go */
        "{\"resourceType\":\"Observation\",\"meta\":{\"tag\":[{\"system\":\"urn:fhirgate:member\","
        "\"code\":\"hosp-z\"},{\"system\":\"urn:x\",\"code\":\"keep\"},{\"system\":\"urn:fhirgate"
        "\\u003amember\",\"code\":\"hosp-y\"}],\"security\":[{\"code\":\"R\"}]}}",
        "{\"resourceType\":\"Observation\",\"meta\":{\"tag\":[{\"code\":\"a\"},{\"system\":"
        "\"urn:fhirgate:member\",\"code\":\"z\"}]},\"id\":\"x\"}",
        "{\"meta\":{\"lastUpdated\":\"2020\"},\"resourceType\":\"Observation\"}",
        "{\"resourceType\":\"Observation\",\n  \"meta\": {\n    \"tag\": [ {\"code\":\"b\"} ]\n  "
        "}\n}",
        /* names with escapes are the same names: replaced, not doubled */
        "{\"resourceType\":\"Observation\",\"meta\":{\"\\u0073ource\":\"urn:lab\","
        "\"versionId\":\"1\"}}",
        "{\"resourceType\":\"Observation\",\"meta\":{\"t\\u0061g\":[{\"code\":\"c\"}]}}",
        "{\"resourceType\":\"Observation\",\"meta\":{\"\\u0073\\u006f\\u0075\\u0072\\u0063\\u0065\":"
        "\"urn:lab\",\"\\u0074\\u0061\\u0067\":[{\"\\u0073\\u0079\\u0073\\u0074\\u0065\\u006d\":"
        "\"urn:fhirgate:member\",\"code\":\"hosp-z\"}]}}",
        /* neither source nor tag: meta copied whole, whitespace and all */
        "{\"resourceType\":\"Observation\",\"meta\":{ \"versionId\" : \"1\" \n},\"id\":\"y\"}",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_str_eq(tag_spliced(cases[i], "https://b/fhir", TAGS, 2),
                         tag_reference(cases[i], "https://b/fhir", TAGS, 2));
    }
}
END_TEST

/* ---- building member answers ----------------------------------------------------- */

static char *
obs(const char *id, const char *date, const char *ident, const char *extra)
{
    return base_arena_sprintf(
        A,
        "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"meta\":{\"versionId\":\"3\","
        "\"lastUpdated\":\"2024-01-01T00:00:00Z\"}%s%s%s,\"status\":\"final\",\"code\":{"
        "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\"}]},\"effectiveDateTime\":"
        "\"%s\"}",
        id, ident != NULL ? ",\"identifier\":[" : "", ident != NULL ? ident : "",
        ident != NULL ? "]" : "", id, date);
    (void)extra;
}

static char *
bundle(const char *const *res, size_t n, const char *extra)
{
    struct base_buf b;

    base_buf_init(&b, 0);
    ck_assert_int_eq(base_buf_appendf(&b, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"%s",
                                      extra != NULL ? extra : ""),
                     BASE_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(base_buf_appendf(&b, "%s{\"resource\":%s,\"search\":{\"mode\":\"match\"}}",
                                          i == 0 ? ",\"entry\":[" : ",", res[i]),
                         BASE_OK);
    ck_assert_int_eq(base_buf_append_cstr(&b, n > 0 ? "]}" : "}"), BASE_OK);
    char *s = base_buf_dup0(&b, A);
    base_buf_fini(&b);
    return s;
}

static struct gw_fed_result
ok(const char *id, const char *body)
{
    struct gw_fed_result r = {0};

    r.member_id = id;
    r.member_name = base_arena_sprintf(A, "Hospital %s", id);
    r.base = base_arena_sprintf(A, "https://%s.example/fhir", id);
    r.url = base_arena_sprintf(A, "https://%s.example/fhir/Observation?patient=1", id);
    r.status = 200;
    r.body = body;
    r.body_len = strlen(body);
    r.latency_us = 1500;
    r.attempts = 1;
    return r;
}

static const char *const OBS[] = {"Observation"};

static struct gw_fed_merge_opts
opts(void)
{
    struct gw_fed_merge_opts o = {0};

    o.base_url = "https://gw.example/fhir";
    o.path = "Observation";
    o.query = "patient=p1";
    o.types = OBS;
    o.n_types = 1;
    o.bundle_id = "b1";
    o.timestamp = "2024-05-06T07:08:09Z";
    return o;
}

static struct gw_fed_merge *
merge(const struct gw_fed_result *r, size_t n, const struct gw_fed_merge_opts *o, json_t **out)
{
    struct gw_fed_merge *m = NULL;
    struct base_buf b;
    struct base_err err = {0};

    ck_assert_int_eq(gw_fed_merge_new(A, r, n, o, &m, &err), BASE_OK);
    base_buf_init(&b, 0);
    ck_assert_int_eq(gw_fed_merge_write(m, &b), BASE_OK);
    *out = parse(b.data, b.len);
    base_buf_fini(&b);
    return m;
}

static const char *
entry_id(const json_t *b, size_t i)
{
    return json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "entry"), i), "resource"), "id"));
}

static size_t
n_entries(const json_t *b)
{
    return json_array_size(json_object_get(b, "entry"));
}

/* ---- ordering, tagging, totals -------------------------------------------------------- */

/* What the members are asked to sort by when the client gave no _sort: a
 * descending R4 DATE parameter of the type (so any R4 server, fhirgate's
 * adapter included, accepts it), on the element the default order reads
 * first; meta.lastUpdated for a type without a dated element. */
START_TEST(members_are_asked_for_the_default_order)
{
    static const struct {
        const char *type, *sort;
    } want[] = {
        {"Encounter", "-date"},
        {"Condition", "-recorded-date"},
        {"Observation", "-date"},
        {"DiagnosticReport", "-date"},
        {"ImagingStudy", "-started"},
        {"MedicationRequest", "-authoredon"},
        {"MedicationStatement", "-effective"},
        {"AllergyIntolerance", "-date"},
        {"Procedure", "-date"},
        {"Immunization", "-date"},
        {"DocumentReference", "-date"},
        {"CareTeam", "-date"},
        {"FamilyMemberHistory", "-date"},
        {"Goal", "-start-date"},
        {"ServiceRequest", "-authored"},
        {"Provenance", "-recorded"},
        {"Consent", "-date"},
        {"Patient", "-_lastUpdated"},
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *got = gw_fed_default_sort(want[i].type);
        const struct fhir_search_param_def *d;

        ck_assert_msg(got != NULL && strcmp(got, want[i].sort) == 0, "%s: %s", want[i].type,
                      got != NULL ? got : "(none)");
        d = fhir_search_param_find(want[i].type, got + 1, strlen(got + 1));
        ck_assert_msg(d != NULL && d->type == FHIR_SEARCH_DATE, "%s: %s", want[i].type, got);
    }
    /* CarePlan's default is `created`, which no parameter searches */
    ck_assert_ptr_null(gw_fed_default_sort("CarePlan"));
}
END_TEST

START_TEST(default_order_most_recent_first)
{
    const char *a[] = {obs("a1", "2024-03-01", NULL, NULL), obs("a2", "2024-01-01", NULL, NULL)};
    const char *b[] = {obs("b1", "2024-04-01", NULL, NULL), obs("b2", "2023-12-01", NULL, NULL)};
    const char *c[] = {obs("c1", "2024-02-01T10:00:00+08:00", NULL, NULL)};
    struct gw_fed_result r[3] = {ok("a", bundle(a, 2, ",\"total\":2")),
                                 ok("b", bundle(b, 2, ",\"total\":2")),
                                 ok("c", bundle(c, 1, ",\"total\":1"))};
    struct gw_fed_merge_opts o = opts();
    json_t *out;
    struct gw_fed_merge *m = merge(r, 3, &o, &out);
    static const char *const want[] = {"b1", "a1", "c1", "a2", "b2"};

    ck_assert_uint_eq(n_entries(out), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(entry_id(out, i), want[i]);
    ck_assert_str_eq(json_string_value(json_object_get(out, "type")), "searchset");
    ck_assert_str_eq(json_string_value(json_object_get(out, "id")), "b1");
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")), 5);
    json_t *e0 = json_array_get(json_object_get(out, "entry"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e0, "fullUrl")),
                     "https://b.example/fhir/Observation/b1");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e0, "search"), "mode")),
                     "match");
    json_t *meta = json_object_get(json_object_get(e0, "resource"), "meta");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "source")), "https://b.example/fhir");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "versionId")), "3");
    json_t *tag = json_array_get(json_object_get(meta, "tag"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(tag, "code")), "b");
    ck_assert_str_eq(json_string_value(json_object_get(tag, "display")), "Hospital b");
    json_t *link = json_array_get(json_object_get(out, "link"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(link, "relation")), "self");
    ck_assert_str_eq(json_string_value(json_object_get(link, "url")),
                     "https://gw.example/fhir/Observation?patient=p1");
    /* the audit list names every returned entity */
    const struct gw_fed_entity *ents;
    size_t ne;
    gw_fed_merge_entities(m, &ents, &ne);
    ck_assert_uint_eq(ne, 5);
    ck_assert_str_eq(ents[0].type, "Observation");
    ck_assert_str_eq(ents[0].id, "b1");
    ck_assert_str_eq(ents[0].version, "3");
    ck_assert_str_eq(ents[0].member_id, "b");
    struct gw_fed_merge_info info;
    gw_fed_merge_info(m, &info);
    ck_assert_uint_eq(info.n_ok, 3);
    ck_assert_ptr_null(info.next_cursor);
}
END_TEST

/* Goals by their start (Goal.start[x]: a date, or a concept that dates
 * nothing), family history by its date, care teams by their period: the
 * CDA converter's types in the default order, as the tree would put them. */
START_TEST(default_order_of_goals_family_history_care_teams)
{
    static const char *const types[] = {"Goal", "FamilyMemberHistory", "CareTeam"};
    const char *a[] = {
        "{\"resourceType\":\"Goal\",\"id\":\"g1\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/1\"},"
        "\"startDate\":\"2024-01-01\"}",
        "{\"resourceType\":\"Goal\",\"id\":\"g2\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/1\"},"
        "\"startCodeableConcept\":{\"text\":\"after discharge\"}}",
        "{\"resourceType\":\"FamilyMemberHistory\",\"id\":\"f1\",\"status\":\"completed\","
        "\"patient\":{\"reference\":\"Patient/1\"},\"date\":\"2024-03-05\",\"relationship\":{"
        "\"text\":\"father\"}}",
    };
    const char *b[] = {
        "{\"resourceType\":\"Goal\",\"id\":\"g3\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/1\"},"
        "\"startDate\":\"2024-06-01\"}",
        "{\"resourceType\":\"CareTeam\",\"id\":\"t1\",\"subject\":{\"reference\":\"Patient/1\"},"
        "\"period\":{\"start\":\"2024-02-01\",\"end\":\"2024-12-31\"}}",
    };
    struct gw_fed_result r[2] = {ok("a", bundle(a, 3, NULL)), ok("b", bundle(b, 2, NULL))};
    struct gw_fed_merge_opts o = opts();
    json_t *out;
    static const char *const want[] = {"g3", "f1", "t1", "g1", "g2"};

    o.path = "Goal";
    o.types = types;
    o.n_types = 3;
    (void)merge(r, 2, &o, &out);
    ck_assert_uint_eq(n_entries(out), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(entry_id(out, i), want[i]);
}
END_TEST

static struct fhir_search *
search(const char *q)
{
    struct fhir_search *s = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_search_parse(A, "Observation", q, strlen(q), NULL, &s, &err) == BASE_OK,
                  "%s", err.msg);
    return s;
}

START_TEST(explicit_sort_keys)
{
    const char *a[] = {obs("29463-7", "2024-03-01", NULL, NULL),
                       obs("8867-4", "2024-01-01", NULL, NULL)};
    const char *b[] = {obs("718-7", "2024-04-01", NULL, NULL)};
    struct gw_fed_result r[2] = {ok("a", bundle(a, 2, NULL)), ok("b", bundle(b, 1, NULL))};
    struct gw_fed_merge_opts o = opts();
    json_t *out;

    o.search = search("_sort=date");
    merge(r, 2, &o, &out);
    ck_assert_str_eq(entry_id(out, 0), "8867-4");
    ck_assert_str_eq(entry_id(out, 2), "718-7");
    /* a token key: the scanner cannot read it, the entry's tree does */
    o.search = search("_sort=code");
    merge(r, 2, &o, &out);
    ck_assert_str_eq(entry_id(out, 0), "29463-7");
    ck_assert_str_eq(entry_id(out, 1), "718-7");
    ck_assert_str_eq(entry_id(out, 2), "8867-4");
    o.search = search("_sort=-code,date");
    merge(r, 2, &o, &out);
    ck_assert_str_eq(entry_id(out, 0), "8867-4");
    o.search = search("_sort=-_lastUpdated,-date");
    merge(r, 2, &o, &out);
    ck_assert_str_eq(entry_id(out, 0), "718-7");
    ck_assert_ptr_null(json_object_get(out, "total")); /* members gave none */
}
END_TEST

START_TEST(duplicates_fold_into_one_entry_naming_both)
{
    const char *same = "{\"system\":\"urn:oid:2.16.840.1.113883.4.642.99\",\"value\":\"L-77\"}";
    const char *bare = "{\"value\":\"123\"}";
    const char *a[] = {obs("a1", "2024-03-01", same, NULL), obs("a2", "2024-02-01", bare, NULL),
                       obs("a1", "2024-03-01", NULL, NULL)};
    const char *b[] = {obs("b1", "2024-03-01", same, NULL), obs("b2", "2024-01-01", bare, NULL)};
    struct gw_fed_result r[2] = {ok("a", bundle(a, 3, ",\"total\":3")),
                                 ok("b", bundle(b, 2, ",\"total\":2"))};
    struct gw_fed_merge_opts o = opts();
    json_t *out;
    struct gw_fed_merge *m = merge(r, 2, &o, &out);
    struct gw_fed_merge_info info;

    gw_fed_merge_info(m, &info);
    /* a1 = b1 by identifier; a1 twice from one member; bare values differ */
    ck_assert_uint_eq(n_entries(out), 3);
    ck_assert_uint_eq(info.n_duplicates, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")), 3);
    ck_assert_str_eq(entry_id(out, 0), "a1");
    json_t *tags = json_object_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(out, "entry"), 0), "resource"), "meta"),
        "tag");
    ck_assert_uint_eq(json_array_size(tags), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 1), "code")), "b");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 1), "display")),
                     "Hospital b");
    const struct gw_fed_entity *ents;
    size_t ne;
    gw_fed_merge_entities(m, &ents, &ne);
    ck_assert_uint_eq(ents[0].n_also, 1);
    ck_assert_str_eq(ents[0].also_from[0], "b");
    ck_assert_uint_eq(ents[1].n_also, 0);
}
END_TEST

/* The same identifier written with escapes by one member and plainly by
 * another is the same identifier (the keys are compared decoded). */
START_TEST(duplicates_fold_across_escaped_identifiers)
{
    const char *plain = "{\"system\":\"urn:oid:1.2.3\",\"value\":\"L-77\"}";
    const char *escaped = "{\"system\":\"urn:\\u006fid:1.2.3\",\"value\":\"L-\\u0037\\u0037\"}";
    const char *other = "{\"system\":\"urn:oid:1.2.3\",\"value\":\"L-78\"}";
    const char *a[] = {obs("a1", "2024-03-01", plain, NULL), obs("a2", "2024-02-01", other, NULL)};
    const char *b[] = {obs("b1", "2024-01-01", escaped, NULL)};
    struct gw_fed_result r[2] = {ok("a", bundle(a, 2, NULL)), ok("b", bundle(b, 1, NULL))};
    struct gw_fed_merge_opts o = opts();
    json_t *out;
    struct gw_fed_merge *m = merge(r, 2, &o, &out);
    struct gw_fed_merge_info info;
    const struct gw_fed_entity *ents;
    size_t ne;

    gw_fed_merge_info(m, &info);
    ck_assert_uint_eq(n_entries(out), 2);
    ck_assert_uint_eq(info.n_duplicates, 1);
    ck_assert_str_eq(entry_id(out, 0), "a1");
    ck_assert_str_eq(entry_id(out, 1), "a2");
    gw_fed_merge_entities(m, &ents, &ne);
    ck_assert_uint_eq(ents[0].n_also, 1);
    ck_assert_str_eq(ents[0].also_from[0], "b");
}
END_TEST

START_TEST(failures_become_outcome_entries)
{
    const char *a[] = {obs("a1", "2024-03-01", NULL, NULL)};
    const char *patient[] = {"{\"resourceType\":\"Patient\",\"id\":\"p\"}"};
    struct gw_fed_result r[6] = {ok("a", bundle(a, 1, ",\"total\":1")),
                                 ok("t", ""),
                                 ok("x", "{"),
                                 ok("p", bundle(patient, 1, NULL)),
                                 ok("n", bundle(a, 1,
                                                ",\"link\":[{\"relation\":\"next\","
                                                "\"url\":\"https://evil.example/x\"}]")),
                                 ok("z", "")};
    r[1].error = GW_FED_E_TIMEOUT;
    r[1].detail = "no complete answer within 3000 ms";
    r[1].latency_us = 3000400;
    r[1].body = NULL;
    r[5].error = GW_FED_E_CIRCUIT_OPEN;
    r[5].detail = "circuit open after 5 consecutive failures";
    struct gw_fed_merge_opts o = opts();
    json_t *out;
    struct gw_fed_merge *m = merge(r, 6, &o, &out);

    ck_assert_uint_eq(n_entries(out), 6);
    ck_assert_ptr_null(json_object_get(out, "total"));
    static const char *const want[][3] = {{"t", "timeout", "3001"},
                                          {"x", "invalid", NULL},
                                          {"p", "invalid", NULL},
                                          {"n", "invalid", NULL},
                                          {"z", "transient", NULL}};
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(json_object_get(out, "entry"), i);
        json_t *res = json_object_get(e, "resource");
        json_t *issue = json_array_get(json_object_get(res, "issue"), 0);
        const char *diag = json_string_value(json_object_get(issue, "diagnostics"));

        ck_assert_str_eq(json_string_value(json_object_get(res, "resourceType")),
                         "OperationOutcome");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "search"), "mode")),
                         "outcome");
        ck_assert_str_eq(json_string_value(json_object_get(issue, "code")), want[i][1]);
        ck_assert_str_eq(json_string_value(json_object_get(issue, "severity")), "warning");
        ck_assert_ptr_nonnull(strstr(diag, want[i][0]));
        ck_assert_ptr_nonnull(strstr(diag, "Hospital"));
        json_t *coding =
            json_array_get(json_object_get(json_object_get(issue, "details"), "coding"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(coding, "code")), want[i][0]);
        json_t *lat = json_array_get(json_object_get(issue, "extension"), 0);
        if (want[i][2] != NULL)
            ck_assert_int_eq(json_integer_value(json_object_get(lat, "valueInteger")),
                             strtol(want[i][2], NULL, 10));
    }
    ck_assert_str_eq(entry_id(out, 5), "a1");
    const struct gw_fed_failure *fl;
    size_t nf;
    gw_fed_merge_failures(m, &fl, &nf);
    ck_assert_uint_eq(nf, 5);
    ck_assert_int_eq(fl[1].error, GW_FED_E_INVALID);
    ck_assert_ptr_nonnull(strstr(fl[2].detail, "not asked for"));
    ck_assert_ptr_nonnull(strstr(fl[3].detail, "next link"));
}
END_TEST

START_TEST(member_outcomes_pass_through_tagged)
{
    const char *t = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":"
                    "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"warning\","
                    "\"code\":\"processing\"}]},\"search\":{\"mode\":\"outcome\"}}]}";
    struct gw_fed_result r[1] = {ok("a", t)};
    struct gw_fed_merge_opts o = opts();
    json_t *out;

    merge(r, 1, &o, &out);
    json_t *res = json_object_get(json_array_get(json_object_get(out, "entry"), 0), "resource");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "meta"), "source")),
                     "https://a.example/fhir");
}
END_TEST

static bool
no_restricted(const struct gw_fed_entry_info *e, void *ctx)
{
    int *seen = ctx;

    for (size_t i = 0; i < e->n_security; i++) {
        (*seen)++;
        if (strcmp(e->security[i].code, "R") == 0 && e->security[i].system != NULL &&
            strcmp(e->security[i].system,
                   "http://terminology.hl7.org/CodeSystem/v3-Confidentiality") == 0)
            return false;
    }
    return true;
}

START_TEST(policy_filter_sees_labels_and_hides_the_total)
{
    const char *restricted =
        "{\"resourceType\":\"Observation\",\"id\":\"r1\",\"meta\":{\"security\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\",\"code\":\"R\"},{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"HIV\"}]},"
        "\"effectiveDateTime\":\"2024-06-01\"}";
    const char *a[] = {restricted, obs("a1", "2024-03-01", NULL, NULL)};
    struct gw_fed_result r[1] = {ok("a", bundle(a, 2, ",\"total\":2"))};
    struct gw_fed_merge_opts o = opts();
    int seen = 0;
    json_t *out;

    o.admit = no_restricted;
    o.admit_ctx = &seen;
    struct gw_fed_merge *m = merge(r, 1, &o, &out);
    struct gw_fed_merge_info info;
    gw_fed_merge_info(m, &info);
    ck_assert_uint_eq(n_entries(out), 1);
    ck_assert_str_eq(entry_id(out, 0), "a1");
    ck_assert_uint_eq(info.n_filtered, 1);
    ck_assert_int_ge(seen, 1);
    ck_assert_ptr_null(json_object_get(out, "total"));
}
END_TEST

/* ---- _include ------------------------------------------------------------------ */

static struct gw_fed_cursor_keys keys(void);

static char *
with_includes(const char *matches_bundle, const char *const *inc, size_t n)
{
    struct base_buf b;
    size_t len = strlen(matches_bundle);

    /* matches_bundle ends in "]}" (it has entries): append before it */
    ck_assert(len > 2 && strcmp(matches_bundle + len - 2, "]}") == 0);
    base_buf_init(&b, 0);
    ck_assert_int_eq(base_buf_append(&b, matches_bundle, len - 2), BASE_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(
            base_buf_appendf(&b, ",{\"resource\":%s,\"search\":{\"mode\":\"include\"}}", inc[i]),
            BASE_OK);
    ck_assert_int_eq(base_buf_append_cstr(&b, "]}"), BASE_OK);
    char *r = base_buf_dup0(&b, A);
    base_buf_fini(&b);
    return r;
}

static const char *
entry_mode(const json_t *b, size_t i)
{
    return json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "entry"), i), "search"), "mode"));
}

static const char *
patient(const char *id, const char *label)
{
    return base_arena_sprintf(A, "{\"resourceType\":\"Patient\",\"id\":\"%s\"%s}", id,
                              label != NULL
                                  ? base_arena_sprintf(A,
                                                       ",\"meta\":{\"security\":[{\"system\":"
                                                       "\"http://terminology.hl7.org/CodeSystem/"
                                                       "v3-ActCode\",\"code\":\"%s\"}]}",
                                                       label)
                                  : "");
}

static bool
no_hiv(const struct gw_fed_entry_info *e, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < e->n_security; i++) {
        if (strcmp(e->security[i].code, "HIV") == 0)
            return false;
    }
    return true;
}

/* Includes stay with the page their member's matches are on, after the
 * matches, tagged like them, counted in the audit list but not in the
 * page size; a member none of whose matches made the page adds none. */
START_TEST(includes_follow_their_members_matches)
{
    const char *a[] = {obs("a1", "2024-03-01", NULL, NULL), obs("a2", "2024-01-01", NULL, NULL)};
    const char *b[] = {obs("b1", "2024-04-01", NULL, NULL)};
    const char *c[] = {obs("c1", "2020-01-01", NULL, NULL)};
    const char *ia[] = {patient("pa", NULL)};
    const char *ib[] = {patient("pb", NULL), patient("pb2", "HIV")};
    const char *ic[] = {patient("pc", "HIV")}; /* c is not on the page: never checked */
    static const char *const PAT[] = {"Patient"};
    struct gw_fed_result r[3] = {ok("a", with_includes(bundle(a, 2, NULL), ia, 1)),
                                 ok("b", with_includes(bundle(b, 1, NULL), ib, 2)),
                                 ok("c", with_includes(bundle(c, 1, NULL), ic, 1))};
    struct gw_fed_merge_opts o = opts();
    struct gw_fed_cursor_keys k = keys();
    json_t *out;

    o.include_types = PAT;
    o.n_include_types = 1;
    o.count = 3; /* b1 a1 a2: c1 is on the next page, and so is pc */
    o.keys = &k;
    o.binding = "u|p";
    o.now = 1700000000;
    o.admit = no_hiv;
    struct gw_fed_merge *m = merge(r, 3, &o, &out);
    static const char *const want[] = {"b1", "a1", "a2", "pa", "pb"};
    static const char *const modes[] = {"match", "match", "match", "include", "include"};

    ck_assert_uint_eq(n_entries(out), 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(entry_id(out, i), want[i]);
        ck_assert_str_eq(entry_mode(out, i), modes[i]);
    }
    /* tagged with the member it came from */
    json_t *e3 = json_array_get(json_object_get(out, "entry"), 3);
    ck_assert_str_eq(json_string_value(json_object_get(e3, "fullUrl")),
                     "https://a.example/fhir/Patient/pa");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(e3, "resource"), "meta"), "source")),
                     "https://a.example/fhir");
    const struct gw_fed_entity *ents;
    size_t ne;
    gw_fed_merge_entities(m, &ents, &ne);
    ck_assert_uint_eq(ne, 5); /* what left is audited: includes too */
    ck_assert_str_eq(ents[4].type, "Patient");
    ck_assert_str_eq(ents[4].id, "pb");
    ck_assert_str_eq(ents[4].member_id, "b");
    struct gw_fed_merge_info info;
    gw_fed_merge_info(m, &info);
    ck_assert_uint_eq(info.n_entries, 3);
    ck_assert_uint_eq(info.n_filtered, 1); /* pb2: consent; pc never reached the page */
    ck_assert_ptr_nonnull(info.next_cursor);
}
END_TEST

/* Include entries of a type not asked for fail that member (as a match of
 * the wrong type does); with no include types given, any include does. */
START_TEST(includes_of_types_not_asked_for_fail_the_member)
{
    const char *a[] = {obs("a1", "2024-03-01", NULL, NULL)};
    const char *b[] = {obs("b1", "2024-04-01", NULL, NULL)};
    const char *ia[] = {patient("pa", NULL)};
    const char *ib[] = {obs("x1", "2024-01-01", NULL, NULL)};
    static const char *const PAT[] = {"Patient"};
    struct gw_fed_result r[2] = {ok("a", with_includes(bundle(a, 1, NULL), ia, 1)),
                                 ok("b", with_includes(bundle(b, 1, NULL), ib, 1))};
    struct gw_fed_merge_opts o = opts();
    json_t *out;

    o.include_types = PAT;
    o.n_include_types = 1;
    struct gw_fed_merge *m = merge(r, 2, &o, &out);
    struct gw_fed_merge_info info;
    gw_fed_merge_info(m, &info);
    ck_assert_uint_eq(info.n_ok, 1);
    /* the failure outcome, then a1 and its include */
    ck_assert_str_eq(entry_mode(out, 0), "outcome");
    ck_assert_str_eq(entry_id(out, 1), "a1");
    ck_assert_str_eq(entry_id(out, 2), "pa");
    ck_assert_uint_eq(n_entries(out), 3);

    o.include_types = NULL;
    o.n_include_types = 0;
    m = merge(r, 2, &o, &out);
    gw_fed_merge_info(m, &info);
    ck_assert_uint_eq(info.n_ok, 0);
}
END_TEST

START_TEST(streaming_in_small_pieces_gives_the_same_text)
{
    const char *a[] = {obs("a1", "2024-03-01", NULL, NULL), obs("a2", "2024-01-01", NULL, NULL)};
    struct gw_fed_result r[2] = {ok("a", bundle(a, 2, NULL)), ok("t", "")};
    struct gw_fed_merge_opts o = opts();
    struct gw_fed_merge *m1 = NULL;
    struct gw_fed_merge *m2 = NULL;
    struct base_buf whole;
    struct base_buf pieces;
    char buf[7];
    ssize_t n;

    r[1].error = GW_FED_E_REFUSED;
    ck_assert_int_eq(gw_fed_merge_new(A, r, 2, &o, &m1, NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_new(A, r, 2, &o, &m2, NULL), BASE_OK);
    base_buf_init(&whole, 0);
    base_buf_init(&pieces, 0);
    ck_assert_int_eq(gw_fed_merge_write(m1, &whole), BASE_OK);
    while ((n = gw_fed_merge_read(m2, buf, sizeof(buf))) > 0)
        ck_assert_int_eq(base_buf_append(&pieces, buf, (size_t)n), BASE_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(gw_fed_merge_read(m2, buf, sizeof(buf)), 0); /* stays at the end */
    ck_assert_uint_eq(whole.len, pieces.len);
    ck_assert(memcmp(whole.data, pieces.data, whole.len) == 0);
    parse(whole.data, whole.len);
    base_buf_fini(&whole);
    base_buf_fini(&pieces);
}
END_TEST

START_TEST(empty_and_bad_options)
{
    struct gw_fed_merge_opts o = opts();
    struct gw_fed_merge *m = NULL;
    json_t *out;
    struct base_err err = {0};

    merge(NULL, 0, &o, &out);
    ck_assert_ptr_null(json_object_get(out, "entry")); /* FHIR has no empty arrays */
    ck_assert_int_eq(gw_fed_merge_new(A, NULL, 0, NULL, &m, &err), BASE_E_INVALID);
}
END_TEST

START_TEST(incremental_merge_equals_the_one_shot)
{
    const char *a[] = {obs("a1", "2024-03-01", NULL, NULL), obs("a2", "2024-01-01", NULL, NULL)};
    const char *b[] = {obs("b1", "2024-04-01", NULL, NULL)};
    struct gw_fed_result r[3] = {ok("a", bundle(a, 2, NULL)), ok("b", bundle(b, 1, NULL)),
                                 ok("c", "{")};
    struct gw_fed_merge_opts o = opts();
    struct gw_fed_merge *m1 = NULL;
    struct gw_fed_merge *m2 = NULL;
    struct base_buf t1;
    struct base_buf t2;
    struct base_err err = {0};
    char buf[8];

    ck_assert_int_eq(gw_fed_merge_new(A, r, 3, &o, &m1, NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_start(A, 3, &o, &m2, NULL), BASE_OK);
    /* in arrival order, not request order */
    ck_assert_int_eq(gw_fed_merge_add(m2, 2, &r[2], NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_add(m2, 0, &r[0], NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_read(m2, buf, sizeof(buf)), -1);          /* not finished */
    ck_assert_int_eq(gw_fed_merge_finish(m2, &err), BASE_E_INVALID);        /* b missing */
    ck_assert_int_eq(gw_fed_merge_add(m2, 0, &r[0], NULL), BASE_E_INVALID); /* twice */
    ck_assert_int_eq(gw_fed_merge_add(m2, 3, &r[1], NULL), BASE_E_INVALID); /* out of range */
    ck_assert_int_eq(gw_fed_merge_start(A, 3, &o, &m2, NULL), BASE_OK);
    for (size_t i = 3; i-- > 0;)
        ck_assert_int_eq(gw_fed_merge_add(m2, i, &r[i], NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_finish(m2, NULL), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_finish(m2, NULL), BASE_E_INVALID);
    base_buf_init(&t1, 0);
    base_buf_init(&t2, 0);
    ck_assert_int_eq(gw_fed_merge_write(m1, &t1), BASE_OK);
    ck_assert_int_eq(gw_fed_merge_write(m2, &t2), BASE_OK);
    ck_assert_str_eq(t1.data, t2.data);
    base_buf_fini(&t1);
    base_buf_fini(&t2);
}
END_TEST

START_TEST(registry_strings_must_be_utf8)
{
    const char *a[] = {obs("a1", "2024-03-01", NULL, NULL)};
    struct gw_fed_result r[1] = {ok("a", bundle(a, 1, NULL))};
    struct gw_fed_merge_opts o = opts();
    struct gw_fed_merge *m = NULL;

    r[0].member_name = "Hospital \xff";
    ck_assert_int_eq(gw_fed_merge_new(A, r, 1, &o, &m, NULL), BASE_E_INVALID);
    r[0].member_name = NULL;
    r[0].base = "https://x/\xc0\x80";
    ck_assert_int_eq(gw_fed_merge_new(A, r, 1, &o, &m, NULL), BASE_E_INVALID);
}
END_TEST

/* The writer entry the merge splices with: only the braces are checked again. */
START_TEST(checked_splice)
{
    struct fhir_bundle_header h = {FHIR_BUNDLE_SEARCHSET, NULL, NULL, false, 0, NULL, 0};
    struct fhir_bundle_writer w;
    struct base_buf out;

    base_buf_init(&out, 0);
    ck_assert_int_eq(fhir_bundle_writer_begin(&w, &out, &h), BASE_OK);
    ck_assert_int_eq(
        fhir_bundle_writer_entry_checked(&w, NULL, "[]", 2, FHIR_BUNDLE_MODE_MATCH, NULL),
        BASE_E_INVALID);
    ck_assert_int_eq(
        fhir_bundle_writer_entry_checked(&w, NULL, "{", 1, FHIR_BUNDLE_MODE_MATCH, NULL),
        BASE_E_INVALID);
    ck_assert_int_eq(
        fhir_bundle_writer_entry_checked(&w, NULL, NULL, 0, FHIR_BUNDLE_MODE_MATCH, NULL),
        BASE_E_INVALID);
    ck_assert_int_eq(fhir_bundle_writer_entry_checked(&w, "urn:uuid:1", "{\"a\":1}", 7,
                                                      FHIR_BUNDLE_MODE_MATCH, NULL),
                     BASE_OK);
    ck_assert_int_eq(fhir_bundle_writer_end(&w), BASE_OK);
    ck_assert_str_eq(out.data, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":"
                               "[{\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"a\":1},"
                               "\"search\":{\"mode\":\"match\"}}]}");
    base_buf_fini(&out);
}
END_TEST

/* ---- the cursor --------------------------------------------------------------------- */

static struct gw_fed_cursor_keys
keys(void)
{
    struct gw_fed_cursor_keys k;

    memset(&k, 0, sizeof(k));
    k.current_id = 2;
    memset(k.current, 0x42, sizeof(k.current));
    k.has_previous = true;
    k.previous_id = 1;
    memset(k.previous, 0x17, sizeof(k.previous));
    return k;
}

START_TEST(cursor_round_trip_and_tamper)
{
    struct gw_fed_cursor_keys k = keys();
    struct gw_fed_member_state st[3] = {{"hosp-a", 12, NULL, false},
                                        {"hosp-b", 3, "/Observation?pg=7&x=%C3%A9", false},
                                        {"hosp-c", 0, NULL, true}};
    struct gw_fed_cursor c = {st, 3, 0};
    struct gw_fed_cursor d;
    char *tok = NULL;
    struct base_err err = {0};
    const int64_t now = 1700000000;

    ck_assert_int_eq(gw_fed_cursor_encode(A, &k, &c, "user|person|q", 600, now, &tok, &err),
                     BASE_OK);
    ck_assert_uint_eq(
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        strlen(tok));
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, tok, "user|person|q", now + 1, &d, &err), BASE_OK);
    ck_assert_uint_eq(d.n_members, 2); /* done members are left out */
    ck_assert_str_eq(d.members[0].member_id, "hosp-a");
    ck_assert_uint_eq(d.members[0].offset, 12);
    ck_assert_ptr_null(d.members[0].page_url);
    ck_assert_str_eq(d.members[1].page_url, "/Observation?pg=7&x=%C3%A9");
    ck_assert_uint_eq(d.members[1].offset, 3);
    ck_assert_int_eq(d.expires, now + 600);
    ck_assert_ptr_nonnull(gw_fed_cursor_find(&d, "hosp-b"));
    ck_assert_ptr_null(gw_fed_cursor_find(&d, "hosp-c"));
    /* every single-character change is refused */
    size_t len = strlen(tok);
    for (size_t i = 0; i < len; i++) {
        char *t = base_arena_strdup(A, tok);

        t[i] = t[i] == 'A' ? 'B' : 'A';
        err = (struct base_err){0};
        ck_assert_msg(gw_fed_cursor_decode(A, &k, t, "user|person|q", now, &d, &err) ==
                          BASE_E_INVALID,
                      "tampered position %zu accepted", i);
        ck_assert_str_eq(err.issue_code, "invalid");
    }
    /* truncated, extended, garbage, empty */
    char *t = base_arena_strndup(A, tok, len - 1);
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, t, "user|person|q", now, &d, NULL),
                     BASE_E_INVALID);
    t = base_arena_sprintf(A, "%sAA", tok);
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, t, "user|person|q", now, &d, NULL),
                     BASE_E_INVALID);
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, "not a cursor!", "x", now, &d, NULL),
                     BASE_E_INVALID);
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, "", "x", now, &d, NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, NULL, "x", now, &d, NULL), BASE_E_INVALID);
    /* another search, expired, rotated keys */
    err = (struct base_err){0};
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, tok, "user|other|q", now, &d, &err),
                     BASE_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "another search"));
    err = (struct base_err){0};
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, tok, "user|person|q", now + 600, &d, &err),
                     BASE_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "expired"));
    struct gw_fed_cursor_keys k2 = k;
    k2.current_id = 3;
    memset(k2.current, 0x99, sizeof(k2.current));
    k2.previous_id = 2;
    memcpy(k2.previous, k.current, sizeof(k2.previous));
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k2, tok, "user|person|q", now, &d, NULL), BASE_OK);
    k2.has_previous = false;
    err = (struct base_err){0};
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k2, tok, "user|person|q", now, &d, &err),
                     BASE_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown key"));
    k2 = k;
    k2.current[0] ^= 1; /* same id, another key: a forgery */
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k2, tok, "user|person|q", now, &d, NULL),
                     BASE_E_INVALID);
}
END_TEST

START_TEST(cursor_size_limit)
{
    struct gw_fed_cursor_keys k = keys();
    struct gw_fed_member_state st[40];
    struct gw_fed_cursor c = {st, 40, 0};
    char *tok = NULL;
    struct base_err err = {0};
    char *url = base_arena_alloc(A, 201);

    memset(url, 'x', 200);
    url[0] = '/';
    url[200] = '\0';
    for (int i = 0; i < 40; i++)
        st[i] = (struct gw_fed_member_state){base_arena_sprintf(A, "m%d", i), 1, url, false};
    ck_assert_int_eq(gw_fed_cursor_encode(A, &k, &c, "b", 60, 1, &tok, &err), BASE_E_LIMIT);
    ck_assert_ptr_null(tok);
}
END_TEST

START_TEST(page_urls)
{
    struct gw_fed_member_state off = {"a", 40, NULL, false};
    struct gw_fed_member_state zero = {"a", 0, NULL, false};
    struct gw_fed_member_state link = {"a", 3, "/Observation?pg=8", false};
    struct gw_fed_member_state done = {"a", 0, NULL, true};
    const char *first = "https://a/fhir/Observation?patient=Patient/1&_count=10";

    ck_assert_str_eq(gw_fed_page_url(A, "https://a/fhir", first, &off),
                     "https://a/fhir/Observation?patient=Patient/1&_count=10&_offset=40");
    ck_assert_str_eq(
        gw_fed_page_url(A, "https://a/fhir", "https://a/fhir/Patient/1/$everything", &off),
        "https://a/fhir/Patient/1/$everything?_offset=40");
    ck_assert_str_eq(gw_fed_page_url(A, "https://a/fhir", first, &zero), first);
    ck_assert_str_eq(gw_fed_page_url(A, "https://a/fhir", first, NULL), first);
    ck_assert_str_eq(gw_fed_page_url(A, "https://a/fhir/", first, &link),
                     "https://a/fhir/Observation?pg=8");
    ck_assert_ptr_null(gw_fed_page_url(A, "https://a/fhir", first, &done));
}
END_TEST

/* ---- paging across members ------------------------------------------------------------ */

/* A member in memory: its entries (newest first, as a member sorting
 * -date answers) served by offset, or by its own next links. */
struct fake {
    const char *id;
    char **entries;
    size_t n;
    bool links_only;
};

static char *
fake_page(const struct fake *f, size_t start, size_t count)
{
    size_t end = start + count < f->n ? start + count : f->n;
    char *extra = end < f->n
                      ? base_arena_sprintf(A,
                                           ",\"total\":%zu,\"link\":[{\"relation\":\"next\","
                                           "\"url\":\"https://%s.example/fhir/Observation?"
                                           "patient=1&%s=%zu\"}]",
                                           f->n, f->id, f->links_only ? "pg" : "_offset", end)
                      : base_arena_sprintf(A, ",\"total\":%zu", f->n);

    return bundle((const char *const *)f->entries + start, end - start, extra);
}

static void
check_paging(struct fake *fk, size_t nf, size_t count, size_t expect_total)
{
    struct gw_fed_cursor_keys k = keys();
    struct gw_fed_cursor cur;
    const struct gw_fed_cursor *pc = NULL;
    char *token = NULL;
    char **seen = calloc(expect_total + 1, sizeof(char *));
    size_t n_seen = 0;
    int64_t last = INT64_MAX;

    for (int page = 0; page < 100; page++) {
        struct gw_fed_result r[8];
        size_t nr = 0;

        for (size_t i = 0; i < nf; i++) {
            const struct gw_fed_member_state *st = gw_fed_cursor_find(pc, fk[i].id);
            size_t start = 0;

            if (pc != NULL && st == NULL)
                continue;                           /* done */
            if (st != NULL && st->page_url != NULL) /* the first page has no pg= */
                start = strstr(st->page_url, "pg=") != NULL
                            ? (size_t)strtoul(strstr(st->page_url, "pg=") + 3, NULL, 10)
                            : 0;
            else if (st != NULL)
                start = (size_t)st->offset;
            r[nr] = ok(fk[i].id, fake_page(&fk[i], start, count));
            r[nr].offset_paging = !fk[i].links_only;
            if (st != NULL && st->page_url != NULL)
                r[nr].url = gw_fed_page_url(A, r[nr].base, r[nr].url, st);
            nr++;
        }
        struct gw_fed_merge_opts o = opts();
        o.count = (uint32_t)count;
        o.keys = &k;
        o.binding = "u|p";
        o.cursor = pc;
        o.self_cursor = token;
        o.now = 1700000000;
        json_t *out;
        struct gw_fed_merge *m = merge(r, nr, &o, &out);
        struct gw_fed_merge_info info;
        gw_fed_merge_info(m, &info);
        ck_assert_uint_le(n_entries(out), count);
        for (size_t i = 0; i < n_entries(out); i++) {
            const char *date = json_string_value(json_object_get(
                json_object_get(json_array_get(json_object_get(out, "entry"), i), "resource"),
                "effectiveDateTime"));
            int64_t lo;
            int64_t hi;

            ck_assert(fhir_search_date_range(date, strlen(date), &lo, &hi));
            ck_assert_msg(hi <= last, "page %d entry %zu out of order", page, i);
            last = hi;
            ck_assert_uint_lt(n_seen, expect_total);
            seen[n_seen++] = base_arena_strdup(A, entry_id(out, i));
        }
        if (info.next_cursor == NULL)
            break;
        json_t *next = json_array_get(json_object_get(out, "link"), 1);
        ck_assert_str_eq(json_string_value(json_object_get(next, "relation")), "next");
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(next, "url")), "_cursor="));
        ck_assert_int_eq(gw_fed_cursor_decode(A, &k, info.next_cursor, "u|p", o.now, &cur, NULL),
                         BASE_OK);
        pc = &cur;
        token = base_arena_strdup(A, info.next_cursor);
    }
    ck_assert_uint_eq(n_seen, expect_total);
    for (size_t i = 0; i < n_seen; i++) {
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(seen[i], seen[j]) != 0, "%s twice", seen[i]);
    }
    free(seen);
}

static struct fake
fake(const char *id, size_t n, int day0, bool links_only)
{
    struct fake f = {id, base_arena_alloc(A, (n + 1) * sizeof(char *)), n, links_only};

    for (size_t i = 0; i < n; i++) {
        char *date = base_arena_sprintf(A, "2024-%02d-%02dT00:00:00Z", 12 - (int)(i / 28),
                                        28 - (int)(i % 28) - day0 % 3);
        f.entries[i] = obs(base_arena_sprintf(A, "%s%zu", id, i), date, NULL, NULL);
    }
    return f;
}

START_TEST(paging_across_members)
{
    struct fake fk[4] = {fake("a", 7, 0, false), fake("b", 5, 1, true), fake("c", 0, 0, false),
                         fake("d", 11, 2, false)};

    check_paging(fk, 4, 4, 23);
    check_paging(fk, 4, 1, 23);
    check_paging(fk, 4, 50, 23);
    check_paging(fk, 2, 3, 12);
}
END_TEST

START_TEST(a_failed_member_is_asked_again_on_the_next_page)
{
    struct gw_fed_cursor_keys k = keys();
    struct fake fa = fake("a", 6, 0, false);
    struct gw_fed_result r[2] = {ok("a", fake_page(&fa, 0, 3)), ok("b", "")};
    struct gw_fed_merge_opts o = opts();
    struct gw_fed_cursor cur;
    json_t *out;

    r[1].error = GW_FED_E_TIMEOUT;
    o.count = 3;
    o.keys = &k;
    o.binding = "x";
    o.now = 1700000000;
    struct gw_fed_merge *m = merge(r, 2, &o, &out);
    struct gw_fed_merge_info info;
    gw_fed_merge_info(m, &info);
    ck_assert_ptr_nonnull(info.next_cursor);
    ck_assert_int_eq(gw_fed_cursor_decode(A, &k, info.next_cursor, "x", o.now, &cur, NULL),
                     BASE_OK);
    const struct gw_fed_member_state *sb = gw_fed_cursor_find(&cur, "b");
    ck_assert_ptr_nonnull(sb);
    ck_assert_uint_eq(sb->offset, 0);
    ck_assert(!sb->done);
    ck_assert_uint_eq(gw_fed_cursor_find(&cur, "a")->offset, 3);
}
END_TEST

Suite *fed_merge_suite(void)
{
    Suite *s = suite_create("fed_merge");
    TCase *tc = tcase_create("merge");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tagging_equals_the_tree_edit_on_every_example);
    tcase_add_test(tc, tagging_edge_cases);
    tcase_add_test(tc, members_are_asked_for_the_default_order);
    tcase_add_test(tc, default_order_most_recent_first);
    tcase_add_test(tc, default_order_of_goals_family_history_care_teams);
    tcase_add_test(tc, explicit_sort_keys);
    tcase_add_test(tc, duplicates_fold_into_one_entry_naming_both);
    tcase_add_test(tc, duplicates_fold_across_escaped_identifiers);
    tcase_add_test(tc, failures_become_outcome_entries);
    tcase_add_test(tc, member_outcomes_pass_through_tagged);
    tcase_add_test(tc, policy_filter_sees_labels_and_hides_the_total);
    tcase_add_test(tc, includes_follow_their_members_matches);
    tcase_add_test(tc, includes_of_types_not_asked_for_fail_the_member);
    tcase_add_test(tc, streaming_in_small_pieces_gives_the_same_text);
    tcase_add_test(tc, empty_and_bad_options);
    tcase_add_test(tc, incremental_merge_equals_the_one_shot);
    tcase_add_test(tc, registry_strings_must_be_utf8);
    tcase_add_test(tc, checked_splice);
    tcase_add_test(tc, cursor_round_trip_and_tamper);
    tcase_add_test(tc, cursor_size_limit);
    tcase_add_test(tc, page_urls);
    tcase_add_test(tc, paging_across_members);
    tcase_add_test(tc, a_failed_member_is_asked_again_on_the_next_page);
    suite_add_tcase(s, tc);
    return s;
}
