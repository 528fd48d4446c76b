/* gateway/http over real sockets: routing, errors as OperationOutcomes,
 * limits, keep-alive, negotiation, headers, metrics, logs. */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http.h"
#include "test/integration/http_fixture.h"
#include "test/support/testutil.h"

static void
h_hello(struct gw_http_req *r, void *cls)
{
    json_t *v = json_pack("{s:s, s:s}", "resourceType", "Patient", "id", "p1");

    (void)cls;
    if (gw_http_respond_resource(r, 200, v) != BASE_OK)
        abort();
    json_decref(v);
}

static void
h_echo(struct gw_http_req *r, void *cls)
{
    struct base_str body = gw_http_req_body(r);
    struct base_str id = gw_http_req_param(r, "id");
    struct base_str q;
    char *text;

    (void)cls;
    (void)gw_http_req_query(r, "q", &q);
    text = base_arena_sprintf(gw_http_req_arena(r), "id=%.*s q=%.*s body=%zu segs=%zu",
                              (int)id.len, id.ptr, (int)q.len, q.ptr, body.len,
                              gw_http_req_segment_count(r));
    if (text == NULL || gw_http_respond(r, 200, "text/plain", text, strlen(text)) != BASE_OK)
        abort();
}

struct stream_state {
    size_t total;
};

static ssize_t
stream_chunk(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_state *st = cls;
    size_t n = st->total - (size_t)pos;

    if (pos >= st->total)
        return GW_HTTP_STREAM_END;
    if (n > max)
        n = max;
    if (n > 4000)
        n = 4000; /* several chunks */
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (pos + i) % 26);
    return (ssize_t)n;
}

static void
stream_free(void *cls)
{
    free(cls);
}

static void
h_stream(struct gw_http_req *r, void *cls)
{
    struct stream_state *st = malloc(sizeof(*st));

    (void)cls;
    st->total = 1000000;
    if (gw_http_respond_stream(r, 200, "text/plain", stream_chunk, st, stream_free) != BASE_OK)
        abort();
}

/* The base URL links would carry, for a server configured as gw.example. */
static void
h_base(struct gw_http_req *r, void *cls)
{
    const char *b = gw_http_req_base_url(r, "https://gw.example/fhir");

    (void)cls;
    if (gw_http_respond(r, 200, "text/plain", b, strlen(b)) != BASE_OK)
        abort();
}

static const struct gw_http_route routes[] = {
    {"GET", "/base", h_base, NULL},
    {"GET", "/stream", h_stream, NULL},
    {"GET", "/fhir/Patient/{id}", h_hello, NULL},
    {"POST", "/echo/{id}", h_echo, NULL},
    {"GET", "/echo/{id}", h_echo, NULL},
    {"GET", "/healthz", gw_http_handle_healthz, NULL},
    {"GET", "/metrics", gw_http_handle_metrics, NULL},
};

static struct fx F;

static void
start_default(void)
{
    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    fx_start(&F);
}

START_TEST(get_route_answers_fhir_json)
{
    struct tu_http_resp r;
    char h[256];

    start_default();
    tu_http_request(fx_url(&F, "/fhir/Patient/p1"), NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(tu_http_header(&r, "Content-Type", h, sizeof(h)),
                     "application/fhir+json; charset=utf-8");
    ck_assert_str_eq(r.body, "{\"resourceType\":\"Patient\",\"id\":\"p1\"}");
    ck_assert_ptr_nonnull(tu_http_header(&r, "X-Request-Id", h, sizeof(h)));
    ck_assert_uint_eq(strlen(h), 16);
    ck_assert_str_eq(tu_http_header(&r, "X-Content-Type-Options", h, sizeof(h)), "nosniff");
    ck_assert_str_eq(tu_http_header(&r, "X-Frame-Options", h, sizeof(h)), "DENY");
    ck_assert_str_eq(tu_http_header(&r, "Cache-Control", h, sizeof(h)), "no-store");
    ck_assert_ptr_nonnull(tu_http_header(&r, "Content-Security-Policy", h, sizeof(h)));
    ck_assert_ptr_nonnull(strstr(h, "frame-ancestors 'none'"));
    ck_assert_ptr_null(strstr(h, "unsafe-inline"));
    ck_assert_str_eq(tu_http_header(&r, "Referrer-Policy", h, sizeof(h)), "no-referrer");
    /* no HSTS over plain HTTP (RFC 6797 7.2) */
    ck_assert_ptr_null(tu_http_header(&r, "Strict-Transport-Security", h, sizeof(h)));
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

START_TEST(unknown_path_is_404_outcome)
{
    struct tu_http_resp r;

    start_default();
    tu_http_request(fx_url(&F, "/nope"), NULL, &r);
    ck_assert_int_eq(r.status, 404);
    fx_assert_outcome(&r, "not-found");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

/* GET /base with `hdr` (may be NULL); the body, in a static buffer. */
static const char *
base_with(const char *hdr, const char *hdr2)
{
    static char out[256];
    const char *h[3] = {hdr, hdr2, NULL};
    struct tu_http_opts o = {.headers = h};
    struct tu_http_resp r;

    tu_http_request(fx_url(&F, "/base"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    snprintf(out, sizeof(out), "%s", r.body);
    tu_http_resp_free(&r);
    return out;
}

/* Links follow the base the client used (Host), and a proxy's Forwarded /
 * X-Forwarded-* only when trust_forwarded says so; anything malformed
 * gives the configured base. */
START_TEST(base_url_follows_host_and_trusted_proxies)
{
    char want[128];

    start_default();
    snprintf(want, sizeof(want), "http://127.0.0.1:%u/fhir", gw_http_server_port(F.srv));
    ck_assert_str_eq(base_with(NULL, NULL), want);
    ck_assert_str_eq(base_with("Host: localhost:9443", NULL), "http://localhost:9443/fhir");
    ck_assert_str_eq(base_with("Host: [::1]:9443", NULL), "http://[::1]:9443/fhir");
    ck_assert_str_eq(base_with("Host: a/b", NULL), "https://gw.example/fhir");
    ck_assert_str_eq(base_with("Host: a:99999x", NULL), "https://gw.example/fhir");
    ck_assert_str_eq(base_with("Host: a\"b", NULL), "https://gw.example/fhir");
    /* not trusted: ignored */
    ck_assert_str_eq(base_with("Host: localhost", "X-Forwarded-Host: evil.example"),
                     "http://localhost/fhir");
    ck_assert_str_eq(base_with("Host: localhost", "Forwarded: host=evil.example;proto=https"),
                     "http://localhost/fhir");
    fx_stop(&F);

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.trust_forwarded = true;
    fx_start(&F);
    ck_assert_str_eq(
        base_with("X-Forwarded-Host: gw.example:8443, proxy.local", "X-Forwarded-Proto: https"),
        "https://gw.example:8443/fhir");
    ck_assert_str_eq(base_with("Forwarded: for=192.0.2.1;proto=https;host=\"gw.example\", "
                               "for=10.0.0.1;host=inner",
                               NULL),
                     "https://gw.example/fhir");
    ck_assert_str_eq(base_with("X-Forwarded-Prefix: /region/", "X-Forwarded-Host: gw.example"),
                     "http://gw.example/region/fhir");
    /* malformed: the configured base */
    ck_assert_str_eq(base_with("X-Forwarded-Proto: gopher", NULL), "https://gw.example/fhir");
    ck_assert_str_eq(base_with("X-Forwarded-Prefix: /a/../b?", NULL), "https://gw.example/fhir");
    ck_assert_str_eq(base_with("Forwarded: host=\"a b\"", NULL), "https://gw.example/fhir");
    fx_stop(&F);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
    struct tu_http_opts o = {.method = "DELETE"};
    struct tu_http_resp r;
    char h[128];

    start_default();
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(tu_http_header(&r, "Allow", h, sizeof(h)), "POST, GET, HEAD, OPTIONS");
    fx_assert_outcome(&r, "not-supported");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST


START_TEST(path_and_query_are_decoded)
{
    struct tu_http_resp r;

    start_default();
    tu_http_request(fx_url(&F, "/echo/a%20b?q=%E5%BC%A0+x&other=1"), NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "id=a b q=\xe5\xbc\xa0 x body=0 segs=2");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

START_TEST(bad_targets_are_400_outcomes)
{
    static const char *bad[] = {"/echo/%zz", "/echo/a%00b", "/echo/%C3%28", "/echo/x?q=%2"};
    struct tu_http_resp r;

    start_default();
    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        tu_http_request(fx_url(&F, bad[i]), NULL, &r);
        ck_assert_msg(r.status == 400, "%s: %ld", bad[i], r.status);
        fx_assert_outcome(&r, "structure");
        tu_http_resp_free(&r);
    }
    fx_stop(&F);
}
END_TEST

START_TEST(head_has_no_body)
{
    struct tu_http_opts o = {.method = "HEAD"};
    struct tu_http_resp r;

    start_default();
    tu_http_request(fx_url(&F, "/fhir/Patient/p1"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

static void
long_path(char *path, size_t n)
{
    memset(path, 'a', n);
    memcpy(path, "/echo/", 6);
    path[n] = '\0';
}

START_TEST(long_url_is_414_outcome)
{
    static char path[20000];
    struct tu_http_resp r;

    start_default();
    /* over max_url (4096): our 414 with an OperationOutcome */
    long_path(path, 5000);
    tu_http_request(fx_url(&F, path), NULL, &r);
    ck_assert_int_eq(r.status, 414);
    fx_assert_outcome(&r, "too-long");
    tu_http_resp_free(&r);
    /* beyond the connection's memory: MHD's own 414 */
    long_path(path, 12000);
    tu_http_request(fx_url(&F, path), NULL, &r);
    ck_assert_int_eq(r.status, 414);
    tu_http_resp_free(&r);
    /* too many query parameters is the same answer */
    {
        char q[1024] = "/echo/x?";

        for (int i = 0; i < 70; i++)
            snprintf(q + strlen(q), sizeof(q) - strlen(q), "p%d=1&", i);
        tu_http_request(fx_url(&F, q), NULL, &r);
        ck_assert_int_eq(r.status, 414);
        fx_assert_outcome(&r, "too-long");
        tu_http_resp_free(&r);
    }
    fx_stop(&F);
}
END_TEST

START_TEST(many_query_parameters_do_not_exhaust_connection_memory)
{
    static char q[8000];
    struct tu_http_resp r;
    size_t k;

    /* MHD would keep an entry per parameter in the 7 KiB connection pool
     * and drop the connection; the URI log callback hides the query from it */
    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.limits.max_params = 2000;
    F.cfg.limits.max_url = 6000;
    fx_start(&F);
    k = (size_t)snprintf(q, sizeof(q), "/echo/x?q=v");
    for (int i = 0; i < 1400; i++)
        k += (size_t)snprintf(q + k, sizeof(q) - k, "&a=1");
    tu_http_request(fx_url(&F, q), NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "id=x q=v body=0 segs=2");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

START_TEST(limits_must_fit_the_connection_memory)
{
    struct gw_http_server *s = NULL;
    struct base_err err = {0};

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.limits.max_url = 7000;
    ck_assert_int_eq(gw_http_server_start(&F.cfg, &s, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "connection_memory");
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(big_headers_are_431)
{
    static char hdr[3000];
    const char *hs[] = {hdr, NULL};
    struct tu_http_opts o = {.headers = hs};
    struct tu_http_resp r;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.limits.max_header = 2048;
    fx_start(&F);
    memset(hdr, 'x', sizeof(hdr) - 1);
    memcpy(hdr, "X-Big: ", 7);
    hdr[sizeof(hdr) - 1] = '\0';
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 431);
    fx_assert_outcome(&r, "too-long");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

START_TEST(body_over_limit_by_length_is_413)
{
    size_t n = 200000;
    char *body = calloc(1, n);
    struct tu_http_opts o = {.body = body, .body_len = n};
    struct tu_http_resp r;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.limits.max_body = 100000;
    fx_start(&F);
    /* Every time: the client is still sending when the answer is ready, and
     * must still get it (the body is drained, not reset mid-send). */
    for (int i = 0; i < 40; i++) {
        tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
        ck_assert_msg(r.status == 413, "try %d: status %ld", i, r.status);
        fx_assert_outcome(&r, "too-costly");
        tu_http_resp_free(&r);
    }
    /* exactly at the limit is fine */
    o.body_len = 100000;
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "id=x q= body=100000 segs=2");
    tu_http_resp_free(&r);
    free(body);
    fx_stop(&F);
}
END_TEST

START_TEST(chunked_body_over_limit_is_413)
{
    size_t n = 600000;
    char *body = calloc(1, n);
    struct tu_http_opts o = {.body = body, .body_len = n, .chunked = true};
    struct tu_http_resp r;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.limits.max_body = 64 * 1024;
    fx_start(&F);
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 413);
    fx_assert_outcome(&r, "too-costly");
    tu_http_resp_free(&r);
    /* far beyond the limit the connection is cut instead of read on */
    o.body_len = n = 4u << 20;
    body = realloc(body, n);
    memset(body, 0, n);
    o.body = body;
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 0);
    tu_http_resp_free(&r);
    /* a chunked body under the limit arrives whole */
    o.body_len = 60000;
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "id=x q= body=60000 segs=2");
    tu_http_resp_free(&r);
    free(body);
    fx_stop(&F);
}
END_TEST

START_TEST(keep_alive_serves_many_requests_on_one_connection)
{
    struct tu_http_client *c = tu_http_client_new();
    long connects = 0;

    start_default();
    for (int i = 0; i < 100; i++) {
        struct tu_http_resp r;

        tu_http_client_request(c, fx_url(&F, "/fhir/Patient/p1"), NULL, &r);
        ck_assert_int_eq(r.status, 200);
        connects += r.connects;
        tu_http_resp_free(&r);
    }
    ck_assert_int_eq(connects, 1);
    /* an error answer does not cost the connection either */
    {
        struct tu_http_resp r;

        tu_http_client_request(c, fx_url(&F, "/nope"), NULL, &r);
        ck_assert_int_eq(r.status, 404);
        tu_http_resp_free(&r);
        tu_http_client_request(c, fx_url(&F, "/fhir/Patient/p1"), NULL, &r);
        ck_assert_int_eq(r.connects, 0);
        tu_http_resp_free(&r);
    }
    tu_http_client_free(c);
    fx_stop(&F);
}
END_TEST

static int
fake_xml(const json_t *res, bool pretty, struct base_buf *out, struct base_err *err)
{
    (void)err;
    return base_buf_appendf(out, "<%s xmlns=\"http://hl7.org/fhir\"/>%s",
                            json_string_value(json_object_get(res, "resourceType")),
                            pretty ? "\n" : "");
}

static long
get_status(const char *path, const char *accept, char *ct, size_t cap, char **body)
{
    const char *hs[] = {accept, NULL};
    struct tu_http_opts o = {.headers = accept != NULL ? hs : NULL};
    struct tu_http_resp r;
    long st;

    tu_http_request(fx_url(&F, path), &o, &r);
    st = r.status;
    if (ct != NULL && tu_http_header(&r, "Content-Type", ct, cap) == NULL)
        ct[0] = '\0';
    if (body != NULL)
        *body = strdup(r.body);
    tu_http_resp_free(&r);
    return st;
}

START_TEST(negotiation_without_xml)
{
    char ct[128];
    char *body;

    start_default();
    ck_assert_int_eq(get_status("/fhir/Patient/p1?_format=xml", NULL, ct, sizeof(ct), &body), 406);
    ck_assert_str_eq(ct, "application/fhir+json; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(body, "OperationOutcome"));
    free(body);
    ck_assert_int_eq(get_status("/fhir/Patient/p1", "Accept: application/fhir+xml", NULL, 0, NULL),
                     406);
    ck_assert_int_eq(get_status("/fhir/Patient/p1",
                                "Accept: application/fhir+xml, application/fhir+json;q=0.5", ct,
                                sizeof(ct), NULL),
                     200);
    ck_assert_str_eq(ct, "application/fhir+json; charset=utf-8");
    /* only types the server cannot produce: 406, an OperationOutcome (JSON) */
    ck_assert_int_eq(get_status("/fhir/Patient/p1", "Accept: text/html", ct, sizeof(ct), &body),
                     406);
    ck_assert_str_eq(ct, "application/fhir+json; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(body, "\"not-supported\""));
    free(body);
    ck_assert_int_eq(get_status("/fhir/Patient/p1", "Accept: text/html, */*;q=0.1", NULL, 0, NULL),
                     200);
    ck_assert_int_eq(get_status("/fhir/Patient/p1",
                                "Accept: application/fhir+json; fhirVersion=3.0", NULL, 0, NULL),
                     406);
    ck_assert_int_eq(get_status("/fhir/Patient/p1?_format=turtle", NULL, NULL, 0, NULL), 406);
    ck_assert_int_eq(get_status("/fhir/Patient/p1?_pretty=true", NULL, NULL, 0, &body), 200);
    ck_assert_str_eq(body, "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"p1\"\n}\n");
    free(body);
    fx_stop(&F);
}
END_TEST

START_TEST(negotiation_with_xml_serializer)
{
    char ct[128];
    char *body;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.xml = fake_xml;
    fx_start(&F);
    ck_assert_int_eq(get_status("/fhir/Patient/p1?_format=xml", NULL, ct, sizeof(ct), &body), 200);
    ck_assert_str_eq(ct, "application/fhir+xml; charset=utf-8");
    ck_assert_str_eq(body, "<Patient xmlns=\"http://hl7.org/fhir\"/>");
    free(body);
    ck_assert_int_eq(get_status("/fhir/Patient/p1", "Accept: application/xml", ct, sizeof(ct),
                                NULL),
                     200);
    ck_assert_str_eq(ct, "application/fhir+xml; charset=utf-8");
    /* _format wins over Accept (FHIR R4 http.html#mime-type) */
    ck_assert_int_eq(get_status("/fhir/Patient/p1?_format=json", "Accept: application/fhir+xml",
                                ct, sizeof(ct), NULL),
                     200);
    ck_assert_str_eq(ct, "application/fhir+json; charset=utf-8");
    /* errors follow the negotiated format too */
    ck_assert_int_eq(get_status("/nope?_format=xml", NULL, ct, sizeof(ct), &body), 404);
    ck_assert_str_eq(body, "<OperationOutcome xmlns=\"http://hl7.org/fhir\"/>");
    free(body);
    fx_stop(&F);
}
END_TEST

START_TEST(healthz_and_port)
{
    char *body;

    start_default();
    ck_assert_uint_gt(gw_http_server_port(F.srv), 0);
    ck_assert_int_eq(get_status("/healthz", NULL, NULL, 0, &body), 200);
    ck_assert_str_eq(body, "{\"status\":\"pass\"}");
    free(body);
    fx_stop(&F);
}
END_TEST

START_TEST(binds_only_the_configured_address)
{
    struct tu_http_resp r;
    char url[64];

    start_default();
    snprintf(url, sizeof(url), "http://127.0.0.2:%u/healthz", gw_http_server_port(F.srv));
    tu_http_request(url, NULL, &r);
    ck_assert_int_eq(r.status, 0); /* nothing listens there: not 0.0.0.0 */
    tu_http_resp_free(&r);
    tu_http_request(fx_url(&F, "/healthz"), NULL, &r);
    ck_assert_int_eq(r.status, 200);
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

/* Prometheus text format 0.0.4: a sample line is NAME[{LABELS}] VALUE, each
 * family announced by # TYPE before its samples. */
static const char *
prom_check(const char *text, int *samples)
{
    char typed[64][128];
    size_t ntyped = 0;

    *samples = 0;
    for (const char *l = text; *l != '\0';) {
        const char *eol = strchr(l, '\n');
        char line[1024];
        char name[128];
        const char *p;
        char *end;
        size_t nl;
        bool known = false;

        if (eol == NULL)
            return "last line not terminated";
        snprintf(line, sizeof(line), "%.*s", (int)(eol - l), l);
        l = eol + 1;
        if (strncmp(line, "# HELP ", 7) == 0)
            continue;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char type[32];

            if (sscanf(line + 7, "%127s %31s", name, type) != 2 ||
                (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram")))
                return "bad TYPE line";
            snprintf(typed[ntyped++ % 64], 128, "%s", name);
            continue;
        }
        p = line;
        nl = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
        if (nl == 0 || nl >= sizeof(name))
            return "bad metric name";
        snprintf(name, sizeof(name), "%.*s", (int)nl, p);
        for (size_t i = 0; i < ntyped && i < 64; i++) {
            size_t tl = strlen(typed[i]);

            if (strncmp(name, typed[i], tl) == 0 &&
                (name[tl] == '\0' || !strcmp(name + tl, "_bucket") || !strcmp(name + tl, "_sum") ||
                 !strcmp(name + tl, "_count")))
                known = true;
        }
        if (!known)
            return "sample without TYPE";
        p += nl;
        if (*p == '{') {
            for (p++; *p != '}';) {
                size_t ln = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

                if (ln == 0 || p[ln] != '=' || p[ln + 1] != '"')
                    return "bad label";
                for (p += ln + 2; *p != '"'; p++) {
                    if (*p == '\0')
                        return "unterminated label value";
                    if (*p == '\\')
                        p++;
                }
                p++;
                if (*p == ',')
                    p++;
                else if (*p != '}')
                    return "bad label separator";
            }
            p++;
        }
        if (*p++ != ' ')
            return "no space before value";
        if (strcmp(p, "+Inf") != 0 && strcmp(p, "-Inf") != 0 && strcmp(p, "NaN") != 0) {
            (void)strtod(p, &end);
            if (end == p || *end != '\0')
                return "bad value";
        }
        (*samples)++;
    }
    return NULL;
}

START_TEST(metrics_are_prometheus_text)
{
    char ct[128];
    char *body;
    const char *why;
    int samples;

    start_default();
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(get_status("/fhir/Patient/p1", NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(get_status("/nope", NULL, NULL, 0, NULL), 404);
    ck_assert_int_eq(get_status("/metrics", NULL, ct, sizeof(ct), &body), 200);
    ck_assert_str_eq(ct, "text/plain; version=0.0.4; charset=utf-8");
    why = prom_check(body, &samples);
    ck_assert_msg(why == NULL, "%s in:\n%s", why, body);
    ck_assert_int_gt(samples, 10);
    ck_assert_ptr_nonnull(strstr(body, "fhirgate_http_requests_total{method=\"GET\",route=\"/fhir/"
                                       "Patient/{id}\",status=\"200\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(body, "fhirgate_http_requests_total{method=\"GET\",route=\"-\","
                                       "status=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(body, "fhirgate_http_request_duration_seconds_count{route=\"/fhir/"
                                       "Patient/{id}\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(body, "fhirgate_http_connections "));
    free(body);
    fx_stop(&F);
}
END_TEST

START_TEST(streamed_body_arrives_whole)
{
    struct tu_http_resp r;
    char h[64];

    start_default();
    tu_http_request(fx_url(&F, "/stream"), NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 1000000);
    for (size_t i = 0; i < r.body_len; i++)
        ck_assert_int_eq(r.body[i], 'a' + (int)(i % 26));
    ck_assert_str_eq(tu_http_header(&r, "Transfer-Encoding", h, sizeof(h)), "chunked");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

static void
expect_ok(int fd)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[512];
    ssize_t n;

    ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    n = recv(fd, buf, sizeof(buf) - 1, 0);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200"));
}

static void
open_three(int *fds)
{
    for (int i = 0; i < 3; i++) {
        fds[i] = tu_tcp_connect(gw_http_server_port(F.srv));
        ck_assert_int_ge(fds[i], 0);
    }
    usleep(100000);
}

/* Per client address: MHD accepts the connection over the limit and
 * closes it at once; those within it are served. */
START_TEST(per_ip_connection_limit)
{
    int fds[3];
    int extra;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.limits.max_per_ip = 3;
    fx_start(&F);
    open_three(fds);
    extra = tu_tcp_connect(gw_http_server_port(F.srv));
    ck_assert_int_ge(extra, 0); /* the kernel accepts; MHD closes it */
    ck_assert(tu_tcp_wait_closed(extra, 2000));
    close(extra);
    for (int i = 0; i < 3; i++) {
        expect_ok(fds[i]);
        close(fds[i]);
    }
    fx_stop(&F);
}
END_TEST

/* In all: MHD stops accepting, so the next connection waits in the
 * kernel's queue until one of the others goes. */
START_TEST(total_connection_limit)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    struct pollfd p;
    int fds[3];
    int extra;

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.threads = 1; /* MHD splits the limit between pool threads */
    F.cfg.limits.max_connections = 3;
    fx_start(&F);
    open_three(fds);
    extra = tu_tcp_connect(gw_http_server_port(F.srv));
    ck_assert_int_ge(extra, 0);
    ck_assert_int_eq(send(extra, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    p = (struct pollfd){extra, POLLIN, 0};
    ck_assert_int_eq(poll(&p, 1, 800), 0); /* not served while three are open */
    close(fds[0]);
    p.revents = 0;
    ck_assert_int_eq(poll(&p, 1, 3000), 1); /* now it is */
    {
        char buf[512];
        ssize_t n = recv(extra, buf, sizeof(buf) - 1, 0);

        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200"));
    }
    expect_ok(fds[1]);
    close(fds[1]);
    close(fds[2]);
    close(extra);
    fx_stop(&F);
}
END_TEST

START_TEST(request_id_from_a_trusted_proxy)
{
    const char *good[] = {"X-Request-Id: haproxy-7f3a.19", NULL};
    const char *bad[] = {"X-Request-Id: evil\"id with spaces", NULL};
    struct tu_http_opts o = {.headers = good};
    struct tu_http_resp r;
    char h[128];

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.trust_request_id = true;
    fx_start(&F);
    tu_http_request(fx_url(&F, "/healthz"), &o, &r);
    ck_assert_str_eq(tu_http_header(&r, "X-Request-Id", h, sizeof(h)), "haproxy-7f3a.19");
    tu_http_resp_free(&r);
    o.headers = bad;
    tu_http_request(fx_url(&F, "/healthz"), &o, &r);
    ck_assert_uint_eq(strlen(tu_http_header(&r, "X-Request-Id", h, sizeof(h))), 16);
    tu_http_resp_free(&r);
    fx_stop(&F);
    /* untrusted by default */
    start_default();
    o.headers = good;
    tu_http_request(fx_url(&F, "/healthz"), &o, &r);
    ck_assert_str_ne(tu_http_header(&r, "X-Request-Id", h, sizeof(h)), "haproxy-7f3a.19");
    tu_http_resp_free(&r);
    fx_stop(&F);
}
END_TEST

/* CORS: nothing unless origins are listed; then the listed ones only, the
 * preflight answered before any handler, never with credentials. */
START_TEST(cors_only_for_listed_origins)
{
    static const char *const origins[] = {"https://App.Example", "http://127.0.0.1:9000"};
    static const char *const star[] = {"*"};
    static const char *const bad[] = {"https://app.example/path"};
    const char *from_app[] = {"Origin: https://app.example", NULL};
    const char *from_evil[] = {"Origin: https://evil.example", NULL};
    const char *preflight[] = {"Origin: https://app.example", "Access-Control-Request-Method: POST",
                               "Access-Control-Request-Headers: Authorization, content-type", NULL};
    const char *preflight_evil[] = {"Origin: https://evil.example",
                                    "Access-Control-Request-Method: POST", NULL};
    const char *preflight_hdr[] = {"Origin: https://app.example",
                                   "Access-Control-Request-Method: POST",
                                   "Access-Control-Request-Headers: x-evil", NULL};
    const char *preflight_del[] = {"Origin: https://app.example",
                                   "Access-Control-Request-Method: DELETE", NULL};
    struct tu_http_opts o = {.headers = from_app};
    struct tu_http_resp r;
    struct base_err err = {0};
    char h[256];

    /* off by default: no CORS header; OPTIONS is a plain one (204 with Allow),
     * which grants a browser nothing */
    start_default();
    tu_http_request(fx_url(&F, "/fhir/Patient/p1"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(tu_http_header(&r, "Access-Control-Allow-Origin", h, sizeof(h)));
    ck_assert_ptr_null(tu_http_header(&r, "Vary", h, sizeof(h)));
    tu_http_resp_free(&r);
    o.method = "OPTIONS";
    o.headers = preflight;
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 204);
    ck_assert_str_eq(tu_http_header(&r, "Allow", h, sizeof(h)), "POST, GET, HEAD, OPTIONS");
    ck_assert_ptr_null(tu_http_header(&r, "Access-Control-Allow-Origin", h, sizeof(h)));
    ck_assert_ptr_null(tu_http_header(&r, "Access-Control-Allow-Methods", h, sizeof(h)));
    tu_http_resp_free(&r);
    fx_stop(&F);

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.cors_origins = origins;
    F.cfg.cors_origin_count = BASE_ARRAY_LEN(origins);
    fx_start(&F);
    o = (struct tu_http_opts){.headers = from_app};
    tu_http_request(fx_url(&F, "/fhir/Patient/p1"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(tu_http_header(&r, "Access-Control-Allow-Origin", h, sizeof(h)),
                     "https://app.example");
    ck_assert_str_eq(tu_http_header(&r, "Vary", h, sizeof(h)), "Origin");
    ck_assert_ptr_nonnull(
        strstr(tu_http_header(&r, "Access-Control-Expose-Headers", h, sizeof(h)), "Location"));
    /* a browser app reads error=invalid_token (RFC 6750 3.1) to refresh */
    ck_assert_ptr_nonnull(strstr(tu_http_header(&r, "Access-Control-Expose-Headers", h, sizeof(h)),
                                 "WWW-Authenticate"));
    ck_assert_ptr_null(tu_http_header(&r, "Access-Control-Allow-Credentials", h, sizeof(h)));
    tu_http_resp_free(&r);
    o.headers = from_evil;
    tu_http_request(fx_url(&F, "/fhir/Patient/p1"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(tu_http_header(&r, "Access-Control-Allow-Origin", h, sizeof(h)));
    ck_assert_str_eq(tu_http_header(&r, "Vary", h, sizeof(h)), "Origin");
    tu_http_resp_free(&r);
    /* the preflight: 204, the path's methods, the requested headers */
    o = (struct tu_http_opts){.method = "OPTIONS", .headers = preflight};
    tu_http_request(fx_url(&F, "/echo/x"), &o, &r);
    ck_assert_int_eq(r.status, 204);
    ck_assert_str_eq(tu_http_header(&r, "Access-Control-Allow-Origin", h, sizeof(h)),
                     "https://app.example");
    ck_assert_str_eq(tu_http_header(&r, "Access-Control-Allow-Methods", h, sizeof(h)),
                     "POST, GET, HEAD");
    ck_assert_str_eq(tu_http_header(&r, "Access-Control-Allow-Headers", h, sizeof(h)),
                     "Authorization, content-type");
    ck_assert_str_eq(tu_http_header(&r, "Access-Control-Max-Age", h, sizeof(h)), "600");
    ck_assert_uint_eq(r.body_len, 0);
    tu_http_resp_free(&r);
    const struct {
        const char **headers;
        const char *path;
        long status;
        bool acao;
    } refused[] = {{preflight_evil, "/echo/x", 403, false},
                   {preflight_hdr, "/echo/x", 403, true},
                   {preflight_del, "/echo/x", 403, true},
                   {preflight, "/nope", 404, true}};
    for (size_t i = 0; i < BASE_ARRAY_LEN(refused); i++) {
        o = (struct tu_http_opts){.method = "OPTIONS", .headers = refused[i].headers};
        tu_http_request(fx_url(&F, refused[i].path), &o, &r);
        ck_assert_msg(r.status == refused[i].status, "case %zu: %ld", i, r.status);
        fx_assert_outcome(&r, NULL);
        ck_assert_msg((tu_http_header(&r, "Access-Control-Allow-Origin", h, sizeof(h)) != NULL) ==
                          refused[i].acao,
                      "case %zu", i);
        ck_assert_ptr_null(tu_http_header(&r, "Access-Control-Allow-Methods", h, sizeof(h)));
        tu_http_resp_free(&r);
    }
    fx_stop(&F);

    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.cors_origins = star;
    F.cfg.cors_origin_count = 1;
    fx_start(&F);
    o = (struct tu_http_opts){.headers = from_evil};
    tu_http_request(fx_url(&F, "/fhir/Patient/p1"), &o, &r);
    ck_assert_str_eq(tu_http_header(&r, "Access-Control-Allow-Origin", h, sizeof(h)), "*");
    tu_http_resp_free(&r);
    fx_stop(&F);

    /* an origin with a path is a configuration error naming the key */
    fx_init_plain(&F, routes, BASE_ARRAY_LEN(routes));
    F.cfg.cors_origins = bad;
    F.cfg.cors_origin_count = 1;
    ck_assert_int_eq(gw_http_server_start(&F.cfg, &F.srv, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "cors_origins");
    F.srv = NULL;
}
END_TEST

START_TEST(access_log_names_route_not_path_or_query)
{
    char path[256];
    char *log;
    int fd;

    snprintf(path, sizeof(path), "%s/access.log", tu_tmpdir("http-log"));
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    base_log_set_fd(fd);
    start_default();
    base_log_set_level(BASE_LOG_INFO);
    ck_assert_int_eq(get_status("/echo/MRN-SECRET-42?q=Zhang%20San", NULL, NULL, 0, NULL), 200);
    fx_stop(&F);
    base_log_set_fd(2);
    close(fd);
    log = tu_read_file(path, NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "route=/echo/{id} status=200"));
    ck_assert_ptr_nonnull(strstr(log, "\"req_id\":\""));
    ck_assert_ptr_null(strstr(log, "MRN-SECRET-42"));
    ck_assert_ptr_null(strstr(log, "Zhang"));
    free(log);
}
END_TEST

Suite *http_server_suite(void)
{
    Suite *s = suite_create("http_server");
    TCase *tc = tcase_create("server");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, get_route_answers_fhir_json);
    tcase_add_test(tc, unknown_path_is_404_outcome);
    tcase_add_test(tc, wrong_method_is_405_with_allow);
    tcase_add_test(tc, base_url_follows_host_and_trusted_proxies);
    tcase_add_test(tc, path_and_query_are_decoded);
    tcase_add_test(tc, bad_targets_are_400_outcomes);
    tcase_add_test(tc, head_has_no_body);
    tcase_add_test(tc, long_url_is_414_outcome);
    tcase_add_test(tc, many_query_parameters_do_not_exhaust_connection_memory);
    tcase_add_test(tc, limits_must_fit_the_connection_memory);
    tcase_add_test(tc, big_headers_are_431);
    tcase_add_test(tc, body_over_limit_by_length_is_413);
    tcase_add_test(tc, chunked_body_over_limit_is_413);
    tcase_add_test(tc, keep_alive_serves_many_requests_on_one_connection);
    tcase_add_test(tc, negotiation_without_xml);
    tcase_add_test(tc, negotiation_with_xml_serializer);
    tcase_add_test(tc, healthz_and_port);
    tcase_add_test(tc, binds_only_the_configured_address);
    tcase_add_test(tc, metrics_are_prometheus_text);
    tcase_add_test(tc, access_log_names_route_not_path_or_query);
    tcase_add_test(tc, streamed_body_arrives_whole);
    tcase_add_test(tc, per_ip_connection_limit);
    tcase_add_test(tc, total_connection_limit);
    tcase_add_test(tc, request_id_from_a_trusted_proxy);
    tcase_add_test(tc, cors_only_for_listed_origins);
    suite_add_tcase(s, tc);
    return s;
}
