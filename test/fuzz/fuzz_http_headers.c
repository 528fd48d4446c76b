/* The request headers the gateway reads: Accept/_format, Content-Type,
 * Prefer, X-Purpose-Of-Use, Authorization, Access-Control-Request-Headers,
 * If-None-Match, HTTP dates and the links' base URL (Host, Forwarded,
 * X-Forwarded-*); own seeds in
 * test/fuzz/corpus/http_headers.  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A slice handed back must lie inside the input. */
static void
inside(struct base_str s, const uint8_t *data, size_t size)
{
    if (s.len > 0 && ((const uint8_t *)s.ptr < data || (const uint8_t *)s.ptr + s.len > data + size))
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_str in = base_str_make((const char *)data, size);
    struct gw_http_media_type mt;
    struct gw_http_prefer p;
    struct gw_http_authorization az;
    struct base_str sys;
    struct base_str code;
    enum gw_http_format f;
    char cstr[4096];

    if (gw_http_media_type_parse(in, &mt, NULL) == BASE_OK) {
        inside(mt.type, data, size);
        inside(mt.charset, data, size);
        if (mt.q < 0 || mt.q > 1)
            __builtin_trap();
    }
    for (int xml = 0; xml < 2; xml++) {
        if (gw_http_negotiate(NULL, &in, xml, &f, NULL) == BASE_OK && f == GW_HTTP_FORMAT_XML &&
            !xml)
            __builtin_trap(); /* never XML when it cannot be produced */
        if (gw_http_negotiate(&in, NULL, xml, &f, NULL) == BASE_OK && f == GW_HTTP_FORMAT_XML &&
            !xml)
            __builtin_trap();
        if (gw_http_body_format(in, xml, &f, NULL) == BASE_OK && f == GW_HTTP_FORMAT_XML && !xml)
            __builtin_trap();
    }
    if (gw_http_prefer_parse(in, &p, NULL) == BASE_OK && (unsigned)p.ret > GW_HTTP_RETURN_OUTCOME)
        __builtin_trap();
    if (gw_http_purpose_parse(in, &sys, &code, NULL) == BASE_OK) {
        inside(sys, data, size);
        inside(code, data, size);
        if (code.len == 0 || code.len > 64)
            __builtin_trap();
    }
    if (gw_http_authorization_parse(in, 8192, &az, NULL) == BASE_OK) {
        inside(az.scheme, data, size);
        inside(az.credentials, data, size);
        if (az.credentials.len == 0)
            __builtin_trap();
    }
    if (size < sizeof(cstr) && memchr(data, 0, size) == NULL) {
        struct base_str tok;

        memcpy(cstr, data, size);
        cstr[size] = '\0';
        if (gw_http_bearer_token(cstr, 8192, &tok, NULL) == BASE_OK && tok.len == 0)
            __builtin_trap();
        /* links' base URL: the input as every header it reads; the answer
         * is the configured base or an absolute URL ending in its path */
        {
            static const char conf[] = "https://gw.example/fhir";
            struct base_arena *a = base_arena_new(1u << 16);
            struct gw_http_base_in bi = {size % 2 == 0, true, cstr, NULL, cstr, cstr, cstr};
            const char *u;

            for (int fw = 0; a != NULL && fw < 2; fw++) {
                bi.forwarded = fw ? cstr : NULL;
                u = gw_http_base_url(a, &bi, conf);
                if (u == NULL ||
                    (u != conf &&
                     (strncmp(u, "http", 4) != 0 || strstr(u, "://") == NULL ||
                      strcmp(u + strlen(u) - 5, "/fhir") != 0 || strpbrk(u, " \"<>?#") != NULL)))
                    __builtin_trap();
            }
            base_arena_free(a);
        }
        /* CORS: what comes out fits, and is never longer than what went in
         * plus the ", " separators */
        {
            char allow[64];

            if (gw_http_cors_request_headers(cstr, allow, sizeof(allow), NULL) == BASE_OK &&
                (strlen(allow) >= sizeof(allow) || strlen(allow) > 2 * size + 2))
                __builtin_trap();
        }
        /* conditional GET: a date that parses formats back to itself; a
         * list naming "*" matches any tag */
        {
            time_t t;
            char back[64];

            if (gw_http_date_parse(cstr, &t)) {
                gw_http_date_format(t, back, sizeof(back));
                if (!gw_http_date_parse(back, &t))
                    __builtin_trap();
            }
            if (strcmp(cstr, "*") == 0 && !gw_http_etag_matches(cstr, "W/\"1\""))
                __builtin_trap();
            (void)gw_http_etag_matches(cstr, cstr);
        }
    }
    return 0;
}
