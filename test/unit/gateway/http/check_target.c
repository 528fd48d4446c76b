/* Request-target parsing and the router (pure parts of gateway/http). */
#include <check.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_parse.h"

static struct base_arena *A;
static struct base_err E;
static const struct gw_http_target_limits LIM = {4096, 32, 64, 2048};

static void
setup(void)
{
    A = base_arena_new(1 << 20);
    memset(&E, 0, sizeof(E));
}

static void
teardown(void)
{
    base_arena_free(A);
}

static int
parse(const char *t, struct gw_http_target *out)
{
    memset(&E, 0, sizeof(E));
    return gw_http_target_parse(A, t, strlen(t), &LIM, out, &E);
}

START_TEST(splits_and_decodes)
{
    struct gw_http_target t;

    ck_assert_int_eq(parse("/fhir/Patient/a%2Fb/?identifier=urn%3Aoid%3A1%7C42&name=Zhang+San&"
                           "&flag&=v",
                           &t),
                     BASE_OK);
    ck_assert(base_str_eq_cstr(t.path, "/fhir/Patient/a%2Fb/"));
    ck_assert_uint_eq(t.segment_count, 3); /* trailing '/' adds none */
    ck_assert(base_str_eq_cstr(t.segments[0], "fhir"));
    ck_assert(base_str_eq_cstr(t.segments[2], "a/b"));
    ck_assert_uint_eq(t.param_count, 4);
    ck_assert(base_str_eq_cstr(t.params[0].name, "identifier"));
    ck_assert(base_str_eq_cstr(t.params[0].value, "urn:oid:1|42"));
    ck_assert(base_str_eq_cstr(t.params[0].raw_value, "urn%3Aoid%3A1%7C42"));
    ck_assert(base_str_eq_cstr(t.params[1].value, "Zhang San"));
    ck_assert(base_str_eq_cstr(t.params[2].name, "flag"));
    ck_assert_uint_eq(t.params[2].value.len, 0);
    ck_assert_uint_eq(t.params[3].name.len, 0);
    ck_assert(base_str_eq_cstr(t.params[3].value, "v"));
    ck_assert_str_eq(t.params[1].value.ptr, "Zhang San"); /* NUL-terminated */
}
END_TEST

START_TEST(root_double_slash_and_absolute_form)
{
    struct gw_http_target t;

    ck_assert_int_eq(parse("/", &t), BASE_OK);
    ck_assert_uint_eq(t.segment_count, 0);
    ck_assert_int_eq(parse("/a//b", &t), BASE_OK);
    ck_assert_uint_eq(t.segment_count, 3);
    ck_assert_uint_eq(t.segments[1].len, 0);
    ck_assert_int_eq(parse("https://gw.example:8443/fhir/metadata?x=1", &t), BASE_OK);
    ck_assert(base_str_eq_cstr(t.path, "/fhir/metadata"));
    ck_assert_uint_eq(t.param_count, 1);
    ck_assert_int_eq(parse("http://gw.example", &t), BASE_OK);
    ck_assert(base_str_eq_cstr(t.path, "/"));
    ck_assert_int_eq(parse("http://gw.example?a=b", &t), BASE_OK);
    ck_assert_uint_eq(t.param_count, 1);
    ck_assert_int_eq(parse("/x?\xe5", &t), BASE_E_PARSE); /* raw non-ASCII */
}
END_TEST

START_TEST(chinese_text_decodes_as_utf8)
{
    struct gw_http_target t;

    ck_assert_int_eq(parse("/fhir/Patient?name=%E5%BC%A0%E4%B8%89", &t), BASE_OK);
    ck_assert_str_eq(t.params[0].value.ptr, "\xe5\xbc\xa0\xe4\xb8\x89");
    /* raw UTF-8 (an IRI, as curl sends it) means the same, and what is
     * handed on is percent-encoded ASCII */
    ck_assert_int_eq(parse("/fhir/Patient?name=\xe5\xbc\xa0\xe4\xb8\x89&x=1", &t), BASE_OK);
    ck_assert_str_eq(t.params[0].value.ptr, "\xe5\xbc\xa0\xe4\xb8\x89");
    ck_assert(base_str_eq_cstr(t.query, "name=%E5%BC%A0%E4%B8%89&x=1"));
    ck_assert(base_str_eq_cstr(t.params[0].raw_value, "%E5%BC%A0%E4%B8%89"));
    ck_assert_int_eq(parse("/\xe4\xb8\xad/x", &t), BASE_OK);
    ck_assert_str_eq(t.segments[0].ptr, "\xe4\xb8\xad");
    /* not UTF-8, or a raw control character next to it: refused */
    ck_assert_int_eq(parse("/x?a=\xe4\xb8", &t), BASE_E_PARSE);
    ck_assert_int_eq(parse("/x?a=\xc0\x80", &t), BASE_E_PARSE);
    ck_assert_int_eq(parse("/x?a=\xe4\xb8\xad b", &t), BASE_E_PARSE);
}
END_TEST

START_TEST(every_error_path)
{
    static const struct {
        const char *t;
        int rc;
        const char *where;
    } cases[] = {
        {"", BASE_E_PARSE, "url"},
        {"fhir/metadata", BASE_E_PARSE, "url"},
        {"*", BASE_E_PARSE, "url"},
        {"/a b", BASE_E_PARSE, "byte 3"},
        {"/a\tb", BASE_E_PARSE, "byte 3"},
        {"/a#frag", BASE_E_PARSE, "byte 3"},
        {"/a\x7f", BASE_E_PARSE, "byte 3"},
        {"/a%", BASE_E_PARSE, "path segment 1"},
        {"/a%4", BASE_E_PARSE, "path segment 1"},
        {"/x/a%G0", BASE_E_PARSE, "path segment 2"},
        {"/a%00b", BASE_E_PARSE, "path segment 1"},
        {"/a%C3%28", BASE_E_PARSE, "path segment 1"},
        {"/a?x=%zz", BASE_E_PARSE, "query parameter 1"},
        {"/a?x=1&%00=2", BASE_E_PARSE, "query parameter 2"},
        {"/a?x=%ED%A0%80", BASE_E_PARSE, "query parameter 1"}, /* a surrogate */
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        struct gw_http_target t;

        ck_assert_msg(parse(cases[i].t, &t) == cases[i].rc, "case %zu", i);
        ck_assert_str_eq(E.where, cases[i].where);
    }
}
END_TEST

START_TEST(limits)
{
    struct gw_http_target_limits lim = {16, 3, 2, 5};
    struct gw_http_target t;

    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_target_parse(A, "/0123456789abcdef", 17, &lim, &t, &E), BASE_E_LIMIT);
    ck_assert_str_eq(E.issue_code, "too-long");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_target_parse(A, "/a/b/c/d", 8, &lim, &t, &E), BASE_E_LIMIT);
    ck_assert_str_eq(E.where, "path");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_target_parse(A, "/a?a&b&c", 8, &lim, &t, &E), BASE_E_LIMIT);
    ck_assert_str_eq(E.where, "query");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_target_parse(A, "/a?abcdef", 9, &lim, &t, &E), BASE_E_LIMIT);
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_target_parse(A, "/a/b/c?a&b", 10, &lim, &t, &E), BASE_OK);
}
END_TEST

START_TEST(out_of_memory_is_reported)
{
    struct base_arena *tiny = base_arena_new(64);
    struct gw_http_target t;

    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_target_parse(tiny, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                                "aaaaaaaaaaaaaa/b?c=d",
                                          73, &LIM, &t, &E),
                     BASE_E_NOMEM);
    base_arena_free(tiny);
}
END_TEST

/* ------------------------------------------------------------- router -- */

static void
h(struct gw_http_req *r, void *cls)
{
    (void)r;
    (void)cls;
}

static const struct gw_http_route routes[] = {
    {"GET", "/fhir/metadata", h, NULL},
    {"GET", "/fhir/{type}/{id}", h, NULL},
    {"PUT", "/fhir/{type}/{id}", h, NULL},
    {"GET", "/fhir/{type}/{id}/$everything", h, NULL},
    {"POST", "/auth/token", h, NULL},
    {"*", "/any", h, NULL},
    {"GET", "/", h, NULL},
    {"GET", "/static/*", h, NULL},
};

static bool
match(struct gw_http_router *rt, const char *method, const char *path, struct gw_http_match *m)
{
    struct gw_http_target t;

    ck_assert_int_eq(parse(path, &t), BASE_OK);
    return gw_http_router_match(rt, method, t.segments, t.segment_count, m);
}

START_TEST(router_matches_in_order_with_params_and_star)
{
    struct gw_http_router *rt;
    struct gw_http_match m;

    ck_assert_int_eq(gw_http_router_new(A, routes, BASE_ARRAY_LEN(routes), &rt, &E), BASE_OK);
    ck_assert(match(rt, "GET", "/fhir/metadata", &m));
    ck_assert_uint_eq(m.index, 0);
    ck_assert(match(rt, "GET", "/fhir/Patient/p%201", &m));
    ck_assert_uint_eq(m.index, 1);
    ck_assert_uint_eq(m.param_count, 2);
    ck_assert(base_str_eq_cstr(m.param_names[0], "type"));
    ck_assert(base_str_eq_cstr(m.params[0], "Patient"));
    ck_assert(base_str_eq_cstr(m.param_names[1], "id"));
    ck_assert(base_str_eq_cstr(m.params[1], "p 1"));
    ck_assert(match(rt, "HEAD", "/fhir/Patient/1", &m)); /* GET answers HEAD */
    ck_assert_uint_eq(m.index, 1);
    ck_assert(match(rt, "PUT", "/fhir/Patient/1", &m));
    ck_assert_uint_eq(m.index, 2);
    ck_assert(match(rt, "GET", "/fhir/Patient/1/$everything", &m));
    ck_assert_uint_eq(m.index, 3);
    ck_assert(match(rt, "DELETE", "/any", &m));
    ck_assert(match(rt, "GET", "/", &m));
    ck_assert_uint_eq(m.index, 6);
    ck_assert(match(rt, "GET", "/static", &m));
    ck_assert_uint_eq(m.star_count, 0);
    ck_assert(match(rt, "GET", "/static/js/app.js", &m));
    ck_assert_uint_eq(m.star_first, 1);
    ck_assert_uint_eq(m.star_count, 2);
}
END_TEST

START_TEST(router_404_and_405)
{
    struct gw_http_router *rt;
    struct gw_http_match m;

    ck_assert_int_eq(gw_http_router_new(A, routes, BASE_ARRAY_LEN(routes), &rt, &E), BASE_OK);
    ck_assert(!match(rt, "GET", "/nope", &m));
    ck_assert_str_eq(m.allow, "");
    ck_assert(!match(rt, "DELETE", "/fhir/Patient/1", &m));
    ck_assert_str_eq(m.allow, "GET, HEAD, PUT");
    ck_assert(!match(rt, "GET", "/auth/token", &m));
    ck_assert_str_eq(m.allow, "POST");
    /* an empty or dot segment never fills a parameter */
    ck_assert(!match(rt, "GET", "/fhir/Patient/..", &m));
    ck_assert(!match(rt, "GET", "/fhir//1", &m));
    ck_assert(!match(rt, "GET", "/fhir/./1", &m));
    /* literal segments are case-sensitive */
    ck_assert(!match(rt, "GET", "/FHIR/metadata", &m));
}
END_TEST

START_TEST(router_refuses_bad_patterns)
{
    static const char *bad[] = {"", "fhir", "/a/*/b", "/{}", "/{a", "/a}", "/{a}b}", "/x{a}",
                                "/a//b", "/*x"};
    struct gw_http_router *rt;

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        struct gw_http_route r = {"GET", bad[i], h, NULL};

        memset(&E, 0, sizeof(E));
        ck_assert_msg(gw_http_router_new(A, &r, 1, &rt, &E) == BASE_E_INVALID, "%s", bad[i]);
        ck_assert_str_eq(E.where, "route 1");
    }
    {
        struct gw_http_route r[2] = {{"GET", "/ok", h, NULL}, {"FETCH", "/x", h, NULL}};

        memset(&E, 0, sizeof(E));
        ck_assert_int_eq(gw_http_router_new(A, r, 2, &rt, &E), BASE_E_INVALID);
        ck_assert_str_eq(E.where, "route 2");
    }
    {
        struct gw_http_route r = {"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", h, NULL};

        memset(&E, 0, sizeof(E));
        ck_assert_int_eq(gw_http_router_new(A, &r, 1, &rt, &E), BASE_E_INVALID);
    }
    {
        struct gw_http_route r = {"GET", "/x", NULL, NULL};

        memset(&E, 0, sizeof(E));
        ck_assert_int_eq(gw_http_router_new(A, &r, 1, &rt, &E), BASE_E_INVALID);
    }
}
END_TEST

Suite *gw_http_target_suite(void)
{
    Suite *s = suite_create("gw_http_target");
    TCase *tc = tcase_create("target");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, splits_and_decodes);
    tcase_add_test(tc, root_double_slash_and_absolute_form);
    tcase_add_test(tc, chinese_text_decodes_as_utf8);
    tcase_add_test(tc, every_error_path);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, out_of_memory_is_reported);
    tcase_add_test(tc, router_matches_in_order_with_params_and_star);
    tcase_add_test(tc, router_404_and_405);
    tcase_add_test(tc, router_refuses_bad_patterns);
    suite_add_tcase(s, tc);
    return s;
}
