/* Header parsers, content negotiation and the error-to-status table. */
#include <check.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_parse.h"

static struct base_err E;

#define S(lit) base_str_from_cstr(lit)

START_TEST(media_types)
{
    struct gw_http_media_type mt;

    ck_assert_int_eq(gw_http_media_type_parse(S("application/fhir+json"), &mt, &E), BASE_OK);
    ck_assert(base_str_eq_cstr(mt.type, "application"));
    ck_assert(base_str_eq_cstr(mt.subtype, "fhir+json"));
    ck_assert_uint_eq(mt.charset.len, 0);
    ck_assert_int_eq(gw_http_media_type_parse(S(" application/fhir+json ; charset=UTF-8;"
                                                "fhirVersion=\"4.0\" "),
                                              &mt, &E),
                     BASE_OK);
    ck_assert(base_str_eq_cstr(mt.charset, "UTF-8"));
    ck_assert(base_str_eq_cstr(mt.fhir_version, "4.0"));
    static const char *bad[] = {"", "json", "application/", "/json", "a/b c", "a/b;x",
                                "a/b;x=", "a/b;=v", "a/b;x=\"open", "a/b,c/d", "a/b;q=2"};
    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        memset(&E, 0, sizeof(E));
        ck_assert_msg(gw_http_media_type_parse(S(bad[i]), &mt, &E) == BASE_E_PARSE, "%s", bad[i]);
        ck_assert_str_eq(E.where, "Content-Type");
    }
}
END_TEST

static int
neg(const char *format, const char *accept, bool xml, enum gw_http_format *out)
{
    struct base_str f = S(format);
    struct base_str a = S(accept);

    memset(&E, 0, sizeof(E));
    return gw_http_negotiate(format != NULL ? &f : NULL, accept != NULL ? &a : NULL, xml, out, &E);
}

START_TEST(negotiation)
{
    enum gw_http_format f;

    ck_assert_int_eq(neg(NULL, NULL, false, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(neg(NULL, "*/*", true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(neg(NULL, "application/fhir+xml", true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_XML);
    ck_assert_int_eq(neg(NULL, "application/fhir+xml", false, &f), BASE_E_INVALID);
    ck_assert_str_eq(E.issue_code, "not-supported");
    ck_assert_int_eq(neg(NULL, "text/xml;q=0.9, application/json;q=0.1", true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_XML);
    ck_assert_int_eq(neg(NULL, "text/xml;q=0.9, application/json;q=0.1", false, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    /* the most specific range decides: JSON excluded although the wildcard allows it */
    ck_assert_int_eq(neg(NULL, "*/*, application/fhir+json;q=0, application/json;q=0, "
                               "text/json;q=0, application/json+fhir;q=0",
                         true, &f),
                     BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_XML);
    ck_assert_int_eq(neg(NULL, "application/fhir+json;q=0", false, &f), BASE_E_INVALID);
    /* only types we cannot produce: 406 (RFC 9110 15.5.7) */
    ck_assert_int_eq(neg(NULL, "text/html,application/xhtml+xml", false, &f), BASE_E_INVALID);
    ck_assert_str_eq(E.issue_code, "not-supported");
    ck_assert_str_eq(E.where, "Accept");
    ck_assert_int_eq(neg(NULL, "application/pdf", true, &f), BASE_E_INVALID);
    /* a browser's Accept: XML wins over the wildcard when XML is available */
    ck_assert_int_eq(
        neg(NULL, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true, &f),
        BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_XML);
    ck_assert_int_eq(neg(NULL, "text/html, */*;q=0.1", false, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(neg(NULL, "application/fhir+xml;q=0.5, application/fhir+json;q=0.9", true, &f),
                     BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(neg(NULL, "application/*;q=0.5", true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(neg(NULL, "application/fhir+json; fhirVersion=4.0", false, &f), BASE_OK);
    ck_assert_int_eq(neg(NULL, "application/fhir+json; fhirVersion=4.0.1", false, &f), BASE_OK);
    ck_assert_int_eq(neg(NULL, "application/fhir+json; fhirVersion=3.0", false, &f),
                     BASE_E_INVALID);
    ck_assert_int_eq(neg(NULL, "garbage;;;", false, &f), BASE_OK); /* ignored */
    /* _format wins */
    ck_assert_int_eq(neg("json", "application/fhir+xml", true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(neg("application/fhir json", NULL, false, &f), BASE_OK); /* '+' as space */
    ck_assert_int_eq(neg("xml", NULL, true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_XML);
    ck_assert_int_eq(neg("text/xml", NULL, false, &f), BASE_E_INVALID);
    ck_assert_str_eq(E.where, "_format");
    ck_assert_int_eq(neg("ttl", NULL, true, &f), BASE_E_INVALID);
    /* the DSTU2 types, as Accept takes them; unencoded '+' as a space */
    ck_assert_int_eq(neg("application/json fhir", "application/fhir+xml", true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(neg("application/xml+fhir", NULL, true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_XML);
    ck_assert_int_eq(neg("application/fhir+turtle", NULL, true, &f), BASE_E_INVALID);
}
END_TEST

static const char *
base_of(struct base_arena *a, bool trust, const char *host, const char *fw, const char *xh,
        const char *xp, const char *xpre)
{
    struct gw_http_base_in in = {true, trust, host, fw, xh, xp, xpre};

    return gw_http_base_url(a, &in, "https://gw.example/fhir");
}

START_TEST(base_url)
{
    struct base_arena *a = base_arena_new(1 << 16);

    ck_assert_str_eq(base_of(a, false, "localhost:8443", NULL, NULL, NULL, NULL),
                     "https://localhost:8443/fhir");
    ck_assert_str_eq(base_of(a, false, "[2001:db8::1]", NULL, NULL, NULL, NULL),
                     "https://[2001:db8::1]/fhir");
    /* untrusted forwarding headers change nothing */
    ck_assert_str_eq(base_of(a, false, "h", "host=x;proto=http", "y", "http", "/p"),
                     "https://h/fhir");
    /* trusted: Forwarded first, else X-Forwarded-*; the prefix either way */
    ck_assert_str_eq(base_of(a, true, "h", "proto=http;host=\"x:81\", host=z", "y", "https", "/p/"),
                     "http://x:81/p/fhir");
    ck_assert_str_eq(base_of(a, true, "h", NULL, "y, z", "HTTP", NULL), "http://y/fhir");
    ck_assert_str_eq(base_of(a, true, "h", "for=192.0.2.1", NULL, NULL, NULL), "https://h/fhir");
    /* every malformed part gives the configured base */
    {
        static const char *const bad_hosts[] = {"",     "a/b", "a b", "a:",      "a:123456",
                                                "a:8x", "[",   "[]",  "[::1",    "[g::1]",
                                                "a\"b", ":80", "a@b", "[::1]x80"};

        for (size_t i = 0; i < BASE_ARRAY_LEN(bad_hosts); i++)
            ck_assert_msg(strcmp(base_of(a, false, bad_hosts[i], NULL, NULL, NULL, NULL),
                                 "https://gw.example/fhir") == 0,
                          "%s", bad_hosts[i]);
    }
    ck_assert_str_eq(base_of(a, false, NULL, NULL, NULL, NULL, NULL), "https://gw.example/fhir");
    ck_assert_str_eq(base_of(a, true, "h", NULL, NULL, "gopher", NULL), "https://gw.example/fhir");
    ck_assert_str_eq(base_of(a, true, "h", NULL, NULL, NULL, "p"), "https://gw.example/fhir");
    ck_assert_str_eq(base_of(a, true, "h", NULL, NULL, NULL, "/a//b"), "https://gw.example/fhir");
    ck_assert_str_eq(base_of(a, true, "h", NULL, NULL, NULL, "/a?b"), "https://gw.example/fhir");
    ck_assert_ptr_null(gw_http_base_url(a, &(struct gw_http_base_in){0}, NULL));
    base_arena_free(a);
}
END_TEST

static int
body(const char *ct, bool xml, enum gw_http_format *out)
{
    memset(&E, 0, sizeof(E));
    return gw_http_body_format(S(ct), xml, out, &E);
}

START_TEST(body_formats)
{
    enum gw_http_format f;

    ck_assert_int_eq(body("application/fhir+json", false, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_JSON);
    ck_assert_int_eq(body("application/json; charset=utf-8", false, &f), BASE_OK);
    ck_assert_int_eq(body("application/fhir+xml", true, &f), BASE_OK);
    ck_assert_int_eq(f, GW_HTTP_FORMAT_XML);
    ck_assert_int_eq(body("application/fhir+xml", false, &f), BASE_E_INVALID);
    ck_assert_str_eq(E.issue_code, "not-supported");
    ck_assert_int_eq(body("application/json; charset=latin1", false, &f), BASE_E_INVALID);
    ck_assert_int_eq(body("application/fhir+json; fhirVersion=1.0", false, &f), BASE_E_INVALID);
    ck_assert_int_eq(body("text/plain", false, &f), BASE_E_INVALID);
    ck_assert_int_eq(body("bogus", false, &f), BASE_E_INVALID);
}
END_TEST

static int
prefer(const char *s, struct gw_http_prefer *p)
{
    memset(&E, 0, sizeof(E));
    return gw_http_prefer_parse(S(s), p, &E);
}

START_TEST(prefer_header)
{
    struct gw_http_prefer p;

    ck_assert_int_eq(prefer("return=minimal", &p), BASE_OK);
    ck_assert_int_eq(p.ret, GW_HTTP_RETURN_MINIMAL);
    ck_assert_int_eq(prefer("handling=strict, return=OperationOutcome", &p), BASE_OK);
    ck_assert_int_eq(p.handling, GW_HTTP_HANDLING_STRICT);
    ck_assert_int_eq(p.ret, GW_HTTP_RETURN_OUTCOME);
    ck_assert_int_eq(prefer("respond-async; wait=10, HANDLING=lenient,,return=\"representation\"",
                            &p),
                     BASE_OK);
    ck_assert(p.respond_async);
    ck_assert_int_eq(p.handling, GW_HTTP_HANDLING_LENIENT);
    ck_assert_int_eq(p.ret, GW_HTTP_RETURN_REPRESENTATION);
    ck_assert_int_eq(prefer("unknown=1, return=bogus", &p), BASE_OK);
    ck_assert_int_eq(p.ret, GW_HTTP_RETURN_DEFAULT);
    ck_assert_int_eq(prefer("", &p), BASE_OK);
    ck_assert_int_eq(prefer("=x", &p), BASE_E_PARSE);
    ck_assert_str_eq(E.where, "Prefer");
    ck_assert_int_eq(prefer("return=", &p), BASE_E_PARSE);
    ck_assert_int_eq(prefer("return=\"x", &p), BASE_E_PARSE);
    ck_assert_int_eq(prefer("a b", &p), BASE_E_PARSE);
    ck_assert_int_eq(prefer("a; =b", &p), BASE_E_PARSE);
}
END_TEST

START_TEST(purpose_of_use)
{
    struct base_str sys;
    struct base_str code;

    ck_assert_int_eq(gw_http_purpose_parse(S(" TREAT "), &sys, &code, &E), BASE_OK);
    ck_assert(base_str_eq_cstr(code, "TREAT"));
    ck_assert_uint_eq(sys.len, 0);
    ck_assert_int_eq(gw_http_purpose_parse(S("http://terminology.hl7.org/CodeSystem/v3-ActReason|"
                                             "ETREAT"),
                                           &sys, &code, &E),
                     BASE_OK);
    ck_assert(base_str_eq_cstr(sys, "http://terminology.hl7.org/CodeSystem/v3-ActReason"));
    ck_assert(base_str_eq_cstr(code, "ETREAT"));
    static const char *bad[] = {"", "TRE AT", "a|", "|TREAT", "sys tem|TREAT", "T\"REAT",
                                "x|y|z"};
    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        memset(&E, 0, sizeof(E));
        ck_assert_msg(gw_http_purpose_parse(S(bad[i]), &sys, &code, &E) == BASE_E_PARSE, "%s",
                      bad[i]);
        ck_assert_str_eq(E.where, "X-Purpose-Of-Use");
    }
    {
        char longcode[80];

        memset(longcode, 'A', 65);
        longcode[65] = '\0';
        ck_assert_int_eq(gw_http_purpose_parse(S(longcode), &sys, &code, &E), BASE_E_PARSE);
    }
}
END_TEST

START_TEST(authorization_framing)
{
    struct gw_http_authorization az;
    struct base_str tok;

    ck_assert_int_eq(gw_http_authorization_parse(S("Bearer eyJh.eyJz.c2ln"), 8192, &az, &E),
                     BASE_OK);
    ck_assert(base_str_eq_cstr(az.scheme, "Bearer"));
    ck_assert(base_str_eq_cstr(az.credentials, "eyJh.eyJz.c2ln"));
    ck_assert_int_eq(gw_http_authorization_parse(S("Basic dXNlcjpwYXNz=="), 8192, &az, &E),
                     BASE_OK);
    static const char *bad[] = {"Bearer", "Bearer ", " Bearer", "Bearer a b", "Bearer a=b",
                                "Bearer a,b", "Bearer \"a\"", "Be@rer abc", "Bearer a\tb"};
    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        memset(&E, 0, sizeof(E));
        ck_assert_msg(gw_http_authorization_parse(S(bad[i]), 8192, &az, &E) == BASE_E_PARSE,
                      "'%s'", bad[i]);
    }
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_authorization_parse(S("Bearer abcdef"), 8, &az, &E), BASE_E_LIMIT);
    ck_assert_str_eq(E.issue_code, "too-long");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_bearer_token("bearer abc.def", 100, &tok, &E), BASE_OK);
    ck_assert(base_str_eq_cstr(tok, "abc.def"));
    ck_assert_int_eq(gw_http_bearer_token(NULL, 100, &tok, &E), BASE_E_AUTH);
    ck_assert_str_eq(E.issue_code, "login");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_bearer_token("Basic abc", 100, &tok, &E), BASE_E_AUTH);
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(gw_http_bearer_token("Bearer a b", 100, &tok, &E), BASE_E_AUTH);
    ck_assert_uint_eq(tok.len, 0);
}
END_TEST

static unsigned
st(int rc, const char *issue)
{
    struct base_err e = {0};

    base_err_set(&e, rc, issue, NULL, "x");
    return gw_http_status_for_err(&e);
}

START_TEST(error_status_table)
{
    ck_assert_uint_eq(st(BASE_E_PARSE, "structure"), 400);
    ck_assert_uint_eq(st(BASE_E_INVALID, "value"), 400);
    ck_assert_uint_eq(st(BASE_E_INVALID, "invariant"), 422);
    ck_assert_uint_eq(st(BASE_E_INVALID, "business-rule"), 422);
    ck_assert_uint_eq(st(BASE_E_INVALID, "processing"), 422);
    ck_assert_uint_eq(st(BASE_E_INVALID, "not-supported"), 406);
    ck_assert_uint_eq(st(BASE_E_LIMIT, "too-costly"), 413);
    ck_assert_uint_eq(st(BASE_E_LIMIT, "too-long"), 414);
    ck_assert_uint_eq(st(BASE_E_LIMIT, "throttled"), 429);
    ck_assert_uint_eq(st(BASE_E_AUTH, "login"), 401);
    ck_assert_uint_eq(st(BASE_E_AUTH, "expired"), 401);
    ck_assert_uint_eq(st(BASE_E_AUTH, "unknown"), 401);
    ck_assert_uint_eq(st(BASE_E_AUTH, "forbidden"), 403);
    ck_assert_uint_eq(st(BASE_E_AUTH, "security"), 403);
    ck_assert_uint_eq(st(BASE_E_NOTFOUND, "not-found"), 404);
    ck_assert_uint_eq(st(BASE_E_CONFLICT, "conflict"), 409);
    ck_assert_uint_eq(st(BASE_E_UPSTREAM, "exception"), 502);
    ck_assert_uint_eq(st(BASE_E_UPSTREAM, "timeout"), 504);
    ck_assert_uint_eq(st(BASE_E_IO, "transient"), 503);
    ck_assert_uint_eq(st(BASE_E_IO, "exception"), 500);
    ck_assert_uint_eq(st(BASE_E_NOMEM, "exception"), 500);
    ck_assert_uint_eq(st(BASE_E_INTERNAL, "exception"), 500);
    ck_assert_uint_eq(gw_http_status_for_err(NULL), 500);
}
END_TEST

/* CORS preflight: the requested header names a FHIR client sends, joined;
 * any other is refused, and a list that does not fit is an error. */
START_TEST(cors_request_headers)
{
    static const struct {
        const char *in;
        int rc;
        const char *out;
    } t[] = {
        {NULL, BASE_OK, ""},
        {"", BASE_OK, ""},
        {" Authorization ,content-type,, PREFER", BASE_OK, "Authorization, content-type, PREFER"},
        {"if-none-exist", BASE_OK, "if-none-exist"},
        {"authorization, x-evil", BASE_E_AUTH, NULL},
        {"authorizationx", BASE_E_AUTH, NULL},
        {"accept,accept,accept,accept,accept,accept,accept,accept,accept,accept", BASE_E_LIMIT,
         NULL},
    };
    char out[40];

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct base_err err = {0};
        int rc = gw_http_cors_request_headers(t[i].in, out, sizeof(out), &err);

        ck_assert_msg(rc == t[i].rc, "case %zu: %d", i, rc);
        if (rc == BASE_OK)
            ck_assert_str_eq(out, t[i].out);
        else
            ck_assert_str_eq(err.where, "Access-Control-Request-Headers");
    }
}
END_TEST

/* Conditional GET (RFC 9110 13.1.2, 13.1.3): IMF-fixdate both ways, and
 * If-None-Match by weak comparison. */
START_TEST(conditional_get)
{
    static const struct {
        const char *inm;
        const char *etag;
        bool match;
    } tags[] = {
        {"W/\"1\"", "W/\"1\"", true},
        {"\"1\"", "W/\"1\"", true},
        {"W/\"2\", W/\"1\"", "W/\"1\"", true},
        {"W/\"2\"", "W/\"1\"", false},
        {"*", "W/\"7\"", true},
        {"\"1\"", "\"10\"", false},
        {"", "\"1\"", false},
        {" ,  ,", "\"1\"", false},
        {"W/\"1", "W/\"1\"", false},
    };
    static const char *const bad_dates[] = {
        "Sunday, 06-Nov-94 08:49:37 GMT", /* RFC 850: ignored, not guessed */
        "Sun Nov  6 08:49:37 1994",       /* asctime */
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1969 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "",
    };
    char out[40];
    time_t t;

    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        ck_assert_msg(gw_http_etag_matches(tags[i].inm, tags[i].etag) == tags[i].match, "case %zu",
                      i);
    ck_assert(gw_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    ck_assert_int_eq((long long)t, 784111777LL);
    gw_http_date_format(t, out, sizeof(out));
    ck_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    gw_http_date_format((time_t)1795910400, out, sizeof(out));
    ck_assert_str_eq(out, "Sun, 29 Nov 2026 00:00:00 GMT");
    for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++)
        ck_assert_msg(!gw_http_date_parse(bad_dates[i], &t), "%s", bad_dates[i]);
}
END_TEST

Suite *gw_http_headers_suite(void)
{
    Suite *s = suite_create("gw_http_headers");
    TCase *tc = tcase_create("headers");

    tcase_add_test(tc, media_types);
    tcase_add_test(tc, negotiation);
    tcase_add_test(tc, base_url);
    tcase_add_test(tc, body_formats);
    tcase_add_test(tc, prefer_header);
    tcase_add_test(tc, purpose_of_use);
    tcase_add_test(tc, authorization_framing);
    tcase_add_test(tc, error_status_table);
    tcase_add_test(tc, cors_request_headers);
    tcase_add_test(tc, conditional_get);
    suite_add_tcase(s, tc);
    return s;
}
