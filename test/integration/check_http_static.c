/* The portal's static files: MIME types, caching, traversal. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/http/gw_http.h"
#include "gateway/http/gw_http_static.h"
#include "test/integration/http_fixture.h"

static struct fx F;
static struct gw_http_static *ST;
static char root[600];
static struct gw_http_route routes[1];

static void
put(const char *rel, const char *data)
{
    char path[800];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(data, f);
    fclose(f);
}

static void
start_static(void)
{
    char path[800];
    char target[800];
    struct base_err err = {0};
    const char *base = tu_tmpdir("static");

    snprintf(root, sizeof(root), "%s/www", base);
    mkdir(root, 0755);
    snprintf(path, sizeof(path), "%s/sub", root);
    mkdir(path, 0755);
    put("index.html", "<!doctype html><title>portal</title>");
    put("app.js", "console.log(1);\n");
    put("style.css", "body{}\n");
    put("logo.png", "\x89PNG");
    put("data.bin", "x");
    put("sub/index.html", "<p>sub</p>");
    put(".secret", "token");
    snprintf(path, sizeof(path), "%s/outside.txt", base);
    {
        FILE *f = fopen(path, "w");

        ck_assert_ptr_nonnull(f);
        fputs("outside", f);
        fclose(f);
    }
    /* symlinks: one inside the root, three leading out */
    snprintf(path, sizeof(path), "%s/link.js", root);
    (void)unlink(path);
    ck_assert_int_eq(symlink("app.js", path), 0);
    snprintf(path, sizeof(path), "%s/escape", root);
    (void)unlink(path);
    ck_assert_int_eq(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof(path), "%s/up", root);
    (void)unlink(path);
    ck_assert_int_eq(symlink("..", path), 0);
    snprintf(path, sizeof(path), "%s/rel-escape", root);
    snprintf(target, sizeof(target), "../outside.txt");
    (void)unlink(path);
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(gw_http_static_new(root, 3600, &ST, &err), BASE_OK);
    routes[0] = (struct gw_http_route){"GET", "/*", gw_http_static_handler, ST};
    fx_init_plain(&F, routes, 1);
    fx_start(&F);
}

static void
stop_static(void)
{
    fx_stop(&F);
    gw_http_static_free(ST);
    ST = NULL;
}

static long
fetch(const char *path, const char *hdr, struct tu_http_resp *r)
{
    const char *hs[] = {hdr, NULL};
    struct tu_http_opts o = {.headers = hdr != NULL ? hs : NULL, .path_as_is = true};

    tu_http_request(fx_url(&F, path), &o, r);
    return r->status;
}

START_TEST(mime_types_and_cache_headers)
{
    static const struct {
        const char *path;
        const char *type;
        const char *cache;
    } cases[] = {
        {"/", "text/html; charset=utf-8", "no-cache"},
        {"/index.html", "text/html; charset=utf-8", "no-cache"},
        {"/app.js", "text/javascript; charset=utf-8", "public, max-age=3600"},
        {"/style.css", "text/css; charset=utf-8", "public, max-age=3600"},
        {"/logo.png", "image/png", "public, max-age=3600"},
        {"/data.bin", "application/octet-stream", "public, max-age=3600"},
        {"/sub/", "text/html; charset=utf-8", "no-cache"},
        {"/sub", "text/html; charset=utf-8", "no-cache"},
        {"/link.js", "text/javascript; charset=utf-8", "public, max-age=3600"},
    };
    struct tu_http_resp r;
    char h[256];

    start_static();
    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        ck_assert_msg(fetch(cases[i].path, NULL, &r) == 200, "%s: %ld", cases[i].path, r.status);
        ck_assert_str_eq(tu_http_header(&r, "Content-Type", h, sizeof(h)), cases[i].type);
        ck_assert_str_eq(tu_http_header(&r, "Cache-Control", h, sizeof(h)), cases[i].cache);
        ck_assert_ptr_nonnull(tu_http_header(&r, "ETag", h, sizeof(h)));
        ck_assert_ptr_nonnull(tu_http_header(&r, "Last-Modified", h, sizeof(h)));
        ck_assert_ptr_nonnull(strstr(h, " GMT"));
        ck_assert_ptr_nonnull(tu_http_header(&r, "Content-Security-Policy", h, sizeof(h)));
        ck_assert_str_eq(tu_http_header(&r, "X-Content-Type-Options", h, sizeof(h)), "nosniff");
        tu_http_resp_free(&r);
    }
    ck_assert_int_eq(fetch("/", NULL, &r), 200);
    ck_assert_str_eq(r.body, "<!doctype html><title>portal</title>");
    tu_http_resp_free(&r);
    stop_static();
}
END_TEST

START_TEST(etag_and_last_modified_give_304)
{
    struct tu_http_resp r;
    char etag[128];
    char lm[128];
    char hdr[300];

    start_static();
    ck_assert_int_eq(fetch("/app.js", NULL, &r), 200);
    ck_assert_ptr_nonnull(tu_http_header(&r, "ETag", etag, sizeof(etag)));
    ck_assert_ptr_nonnull(tu_http_header(&r, "Last-Modified", lm, sizeof(lm)));
    tu_http_resp_free(&r);
    snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
    ck_assert_int_eq(fetch("/app.js", hdr, &r), 304);
    ck_assert_uint_eq(r.body_len, 0);
    tu_http_resp_free(&r);
    snprintf(hdr, sizeof(hdr), "If-None-Match: \"other\", W/%s", etag);
    ck_assert_int_eq(fetch("/app.js", hdr, &r), 304);
    tu_http_resp_free(&r);
    ck_assert_int_eq(fetch("/app.js", "If-None-Match: \"other\"", &r), 200);
    ck_assert_str_eq(r.body, "console.log(1);\n");
    tu_http_resp_free(&r);
    snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", lm);
    ck_assert_int_eq(fetch("/app.js", hdr, &r), 304);
    tu_http_resp_free(&r);
    ck_assert_int_eq(fetch("/app.js", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", &r), 200);
    tu_http_resp_free(&r);
    ck_assert_int_eq(fetch("/app.js", "If-Modified-Since: yesterday", &r), 200);
    tu_http_resp_free(&r);
    stop_static();
}
END_TEST

START_TEST(traversal_is_refused)
{
    static const struct {
        const char *path;
        long status;
    } cases[] = {
        {"/../outside.txt", 403},
        {"/sub/../../outside.txt", 403},
        {"/%2e%2e/outside.txt", 403},
        {"/%2E%2E/outside.txt", 403},
        {"/sub/..%2f..%2foutside.txt", 403},
        {"/..%5coutside.txt", 403},
        {"/./app.js", 403},
        {"/escape", 403},
        {"/up/outside.txt", 403},
        {"/rel-escape", 403},
        {"/a%00b", 400},
        {"/.secret", 404},
        {"/sub//index.html", 404},
        {"/missing.js", 404},
    };
    struct tu_http_resp r;

    start_static();
    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        ck_assert_msg(fetch(cases[i].path, NULL, &r) == cases[i].status, "%s: %ld",
                      cases[i].path, r.status);
        ck_assert_ptr_null(strstr(r.body, "outside"));
        ck_assert_ptr_null(strstr(r.body, "root:"));
        fx_assert_outcome(&r, NULL);
        tu_http_resp_free(&r);
    }
    stop_static();
}
END_TEST

START_TEST(head_gives_length_without_body)
{
    struct tu_http_opts o = {.method = "HEAD"};
    struct tu_http_resp r;
    char h[64];

    start_static();
    tu_http_request(fx_url(&F, "/app.js"), &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(tu_http_header(&r, "Content-Length", h, sizeof(h)), "16");
    ck_assert_uint_eq(r.body_len, 0);
    tu_http_resp_free(&r);
    stop_static();
}
END_TEST

Suite *http_static_suite(void)
{
    Suite *s = suite_create("http_static");
    TCase *tc = tcase_create("static");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, mime_types_and_cache_headers);
    tcase_add_test(tc, etag_and_last_modified_give_304);
    tcase_add_test(tc, traversal_is_refused);
    tcase_add_test(tc, head_gives_length_without_body);
    suite_add_tcase(s, tc);
    return s;
}
