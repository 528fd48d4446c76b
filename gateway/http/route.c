/* The route table: patterns compiled once, matched against decoded segments. */
#include "gateway/http/gw_http_parse.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"

#define MAX_PARAMS 8

struct compiled_seg {
    struct base_str text; /* literal text, or the parameter name */
    bool is_param;
};

struct compiled_route {
    const struct gw_http_route *def;
    struct compiled_seg *segs;
    size_t seg_count;
    bool star; /* final '*' */
};

struct gw_http_router {
    struct compiled_route *routes;
    size_t count;
};

static const char *const known_methods[] = {"GET",     "HEAD",  "POST",   "PUT", "PATCH",
                                            "DELETE", "OPTIONS", "*"};

static bool
method_known(const char *m)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(known_methods); i++) {
        if (strcmp(m, known_methods[i]) == 0)
            return true;
    }
    return false;
}

static int
bad_route(size_t i, struct base_err *err, const char *why)
{
    char where[32];

    snprintf(where, sizeof(where), "route %zu", i + 1);
    return base_err_set(err, BASE_E_INVALID, "invalid", where, "invalid route pattern: %s", why);
}

static int
compile_seg(struct base_str s, bool last, struct compiled_route *cr, size_t i,
            size_t *params, struct base_err *err)
{
    struct compiled_seg *cs = &cr->segs[cr->seg_count];

    if (base_str_eq_cstr(s, "*")) {
        if (!last)
            return bad_route(i, err, "'*' must be the last segment");
        cr->star = true;
        return BASE_OK;
    }
    if (s.len >= 2 && s.ptr[0] == '{' && s.ptr[s.len - 1] == '}') {
        if (s.len == 2 || base_str_find_chr(s, '{', 1) >= 0 ||
            base_str_find_chr(s, '}', 0) != (long)s.len - 1)
            return bad_route(i, err, "bad {parameter}");
        if (++*params > MAX_PARAMS)
            return bad_route(i, err, "more than 8 parameters");
        cs->text = base_str_sub(s, 1, s.len - 2);
        cs->is_param = true;
    } else {
        if (s.len == 0 || base_str_find_chr(s, '{', 0) >= 0 || base_str_find_chr(s, '}', 0) >= 0 ||
            base_str_find_chr(s, '*', 0) >= 0)
            return bad_route(i, err, "empty segment or stray '{', '}' or '*'");
        cs->text = s;
    }
    cr->seg_count++;
    return BASE_OK;
}

static int
compile_route(struct base_arena *a, const struct gw_http_route *def, size_t i,
              struct compiled_route *cr, struct base_err *err)
{
    struct base_str p = base_str_from_cstr(def->pattern);
    size_t n = 0;
    size_t params = 0;
    size_t start = 1;

    if (def->method == NULL || !method_known(def->method) || def->handler == NULL)
        return bad_route(i, err, "unknown method or no handler");
    if (p.len == 0 || p.ptr[0] != '/')
        return bad_route(i, err, "must start with '/'");
    for (size_t k = 1; k < p.len; k++)
        n += p.ptr[k] == '/';
    cr->def = def;
    cr->segs = BASE_NEW_N(a, struct compiled_seg, n + 1);
    if (cr->segs == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (p.len == 1)
        return BASE_OK; /* "/" */
    for (size_t k = 1; k <= p.len; k++) {
        if (k == p.len || p.ptr[k] == '/') {
            TRY(compile_seg(base_str_sub(p, start, k - start), k == p.len, cr, i, &params, err));
            start = k + 1;
        }
    }
    return BASE_OK;
}

int
gw_http_router_new(struct base_arena *a, const struct gw_http_route *routes, size_t count,
                   struct gw_http_router **out, struct base_err *err)
{
    struct gw_http_router *rt = BASE_NEW(a, struct gw_http_router);

    *out = NULL;
    if (rt == NULL || (rt->routes = BASE_NEW_N(a, struct compiled_route, count + 1)) == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < count; i++)
        TRY(compile_route(a, &routes[i], i, &rt->routes[i], err));
    rt->count = count;
    *out = rt;
    return BASE_OK;
}

/* Dot segments never fill a {parameter}: an id of "." or ".." is never
 * meant, and refusing it here keeps traversal away from handlers. */
static bool
param_ok(struct base_str s)
{
    return s.len > 0 && !base_str_eq_cstr(s, ".") && !base_str_eq_cstr(s, "..");
}

static bool
path_matches(const struct compiled_route *cr, const struct base_str *segs, size_t count,
             struct gw_http_match *m)
{
    size_t np = 0;

    if (cr->star ? count < cr->seg_count : count != cr->seg_count)
        return false;
    for (size_t i = 0; i < cr->seg_count; i++) {
        const struct compiled_seg *cs = &cr->segs[i];

        if (!cs->is_param) {
            if (!base_str_eq(cs->text, segs[i]))
                return false;
            continue;
        }
        if (!param_ok(segs[i]))
            return false;
        if (m != NULL) {
            m->params[np] = segs[i];
            m->param_names[np] = cs->text;
        }
        np++;
    }
    if (m != NULL) {
        m->param_count = np;
        m->star_first = cr->seg_count;
        m->star_count = count - cr->seg_count;
    }
    return true;
}

static bool
method_matches(const char *route_method, const char *method)
{
    if (strcmp(route_method, "*") == 0 || strcmp(route_method, method) == 0)
        return true;
    return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static void
allow_add(char *allow, size_t cap, const char *m)
{
    size_t len = strlen(allow);
    char token[16];

    snprintf(token, sizeof(token), "%s", m);
    /* "GET, HEAD": skip duplicates */
    for (const char *p = allow; (p = strstr(p, token)) != NULL; p += strlen(token)) {
        bool starts = p == allow || p[-1] == ' ';
        bool ends = p[strlen(token)] == '\0' || p[strlen(token)] == ',';

        if (starts && ends)
            return;
    }
    snprintf(allow + len, cap - len, "%s%s", len > 0 ? ", " : "", token);
}

bool
gw_http_router_match(const struct gw_http_router *rt, const char *method,
                     const struct base_str *segments, size_t count, struct gw_http_match *m)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < rt->count; i++) {
        const struct compiled_route *cr = &rt->routes[i];

        if (!method_matches(cr->def->method, method) || !path_matches(cr, segments, count, m))
            continue;
        m->route = cr->def;
        m->index = i;
        return true;
    }
    /* 405 needs the methods that would have matched (RFC 9110 15.5.6) */
    for (size_t i = 0; i < rt->count; i++) {
        const struct compiled_route *cr = &rt->routes[i];

        if (!path_matches(cr, segments, count, NULL))
            continue;
        if (strcmp(cr->def->method, "*") == 0)
            continue;
        allow_add(m->allow, sizeof(m->allow), cr->def->method);
        if (strcmp(cr->def->method, "GET") == 0)
            allow_add(m->allow, sizeof(m->allow), "HEAD");
    }
    return false;
}
