/* Request-target parsing and routing; own seeds in test/fuzz/corpus/route.  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
h(struct gw_http_req *r, void *cls)
{
    (void)r;
    (void)cls;
}

static const struct gw_http_route routes[] = {
    {"GET", "/fhir/metadata", h, NULL},
    {"GET", "/fhir/{type}", h, NULL},
    {"GET", "/fhir/{type}/{id}", h, NULL},
    {"GET", "/fhir/{type}/{id}/$everything", h, NULL},
    {"POST", "/fhir/{type}/_search", h, NULL},
    {"POST", "/auth/token", h, NULL},
    {"GET", "/*", h, NULL},
};

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"};

/* A decoded string must be what the header promises: NUL-terminated, no
 * NUL inside, valid UTF-8. */
static void
check_decoded(struct base_str s)
{
    if (s.ptr[s.len] != '\0' || strlen(s.ptr) != s.len || !base_utf8_valid(s.ptr, s.len, NULL))
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_http_target_limits lim = {8192, 32, 64, 2048};
    struct base_arena *a = base_arena_new(4u << 20);
    struct gw_http_router *rt = NULL;
    struct gw_http_target t;
    struct gw_http_match m;
    const char *method;

    if (a == NULL || size == 0)
        goto out;
    method = methods[data[0] % 6];
    if (gw_http_router_new(a, routes, BASE_ARRAY_LEN(routes), &rt, NULL) != BASE_OK)
        __builtin_trap();
    if (gw_http_target_parse(a, (const char *)data + 1, size - 1, &lim, &t, NULL) != BASE_OK)
        goto out;
    if (t.segment_count > lim.max_segments || t.param_count > lim.max_params)
        __builtin_trap();
    for (size_t i = 0; i < t.segment_count; i++)
        check_decoded(t.segments[i]);
    for (size_t i = 0; i < t.param_count; i++) {
        check_decoded(t.params[i].name);
        check_decoded(t.params[i].value);
    }
    if (gw_http_router_match(rt, method, t.segments, t.segment_count, &m) &&
        m.star_first + m.star_count != t.segment_count && m.star_count != 0)
        __builtin_trap();
out:
    base_arena_free(a);
    return 0;
}
