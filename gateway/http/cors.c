/*
 * Cross-origin requests (the Fetch standard's CORS protocol) for browser apps
 * served from another origin — a SMART app calling the FHIR API, say.  Off
 * unless `cors_origins` lists origins: the portal is same-origin and needs
 * none of it.
 *
 * An allowed Origin gets Access-Control-Allow-Origin with that origin (or
 * "*" when so configured), Vary: Origin and the headers a FHIR client reads
 * (Location, ETag…).  Never Access-Control-Allow-Credentials: the API takes
 * bearer tokens, which a page sends explicitly, so no cookie of ours ever
 * rides along with a cross-origin request.  A preflight (OPTIONS with
 * Access-Control-Request-Method) is answered by the framework, before
 * authentication, as browsers send it without credentials: 204 with the
 * methods the path has and the request headers a FHIR client may send, or
 * 403 for an origin not listed (no CORS headers: the browser then refuses).
 */
#include <string.h>
#include <strings.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_int.h"
#include "gateway/http/gw_http_parse.h"

/* What a FHIR client sends (R4 http.html: Prefer, If-Match, If-None-Exist,
 * If-None-Match, If-Modified-Since; SMART: Authorization) and our own. */
static const char *const allowed_request_headers[] = {
    "accept",           "accept-language", "authorization", "content-type",      "prefer",
    "if-match",         "if-none-match",   "if-none-exist", "if-modified-since", "x-request-id",
    "x-purpose-of-use",
};

/* WWW-Authenticate: a browser app must read RFC 6750's error=invalid_token
 * to know a refresh will help; Retry-After for 429/503; the members counts
 * of a federated answer. */
#define EXPOSED_HEADERS                                                                            \
    "Location, Content-Location, ETag, Last-Modified, X-Request-Id, X-Ingest-Result, "             \
    "WWW-Authenticate, Retry-After, X-Members-Asked, X-Members-Answered"

/* "https://host[:port]" or "http://…": scheme, host and port only (RFC 6454
 * 6.2, as browsers serialize an origin), stored lower case. */
static bool
origin_syntax_ok(const char *o)
{
    const char *host;
    size_t n = strlen(o);

    if (strncmp(o, "https://", 8) == 0)
        host = o + 8;
    else if (strncmp(o, "http://", 7) == 0)
        host = o + 7;
    else
        return false;
    if (*host == '\0' || n > 255)
        return false;
    for (const char *p = host; *p != '\0'; p++) {
        char c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == ':' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

int
gw_http__cors_init(struct gw_http_server *s, struct base_err *err)
{
    const struct gw_http_config *cfg = s->cfg;

    s->cors_count = 0;
    s->cors_any = false;
    if (cfg->cors_origin_count == 0)
        return BASE_OK;
    s->cors_origins = BASE_NEW_N(s->arena, const char *, cfg->cors_origin_count);
    if (s->cors_origins == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < cfg->cors_origin_count; i++) {
        char *o = base_arena_strdup(s->arena, cfg->cors_origins[i]);

        if (o == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        if (strcmp(o, "*") == 0) {
            s->cors_any = true;
            continue;
        }
        for (char *p = o; *p != '\0'; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        if (!origin_syntax_ok(o))
            return base_err_set(err, BASE_E_INVALID, "value", "cors_origins",
                                "cors_origins: item %zu is not an origin "
                                "(https://host[:port], no path) or *",
                                i + 1);
        s->cors_origins[s->cors_count++] = o;
    }
    return BASE_OK;
}

/* The Access-Control-Allow-Origin value for this request, or NULL. */
const char *
gw_http__cors_allow(const struct gw_http_req *r)
{
    const struct gw_http_server *s = r->srv;
    const char *origin;

    if (s->cors_count == 0 && !s->cors_any)
        return NULL;
    origin = gw_http_req_header(r, "Origin");
    if (origin == NULL || origin[0] == '\0')
        return NULL;
    if (s->cors_any)
        return "*";
    for (size_t i = 0; i < s->cors_count; i++) {
        if (strcasecmp(origin, s->cors_origins[i]) == 0)
            return s->cors_origins[i];
    }
    return NULL;
}

bool
gw_http__cors_add_headers(const struct gw_http_req *r, struct MHD_Response *mr)
{
    const char *allow = gw_http__cors_allow(r);
    bool ok = true;

    if (r->srv->cors_count == 0 && !r->srv->cors_any)
        return true;
    /* the answer depends on Origin even when it is refused (caches) */
    ok &= MHD_add_response_header(mr, "Vary", "Origin") == MHD_YES;
    if (allow == NULL)
        return ok;
    ok &= MHD_add_response_header(mr, "Access-Control-Allow-Origin", allow) == MHD_YES;
    ok &= MHD_add_response_header(mr, "Access-Control-Expose-Headers", EXPOSED_HEADERS) == MHD_YES;
    return ok;
}

bool
gw_http__cors_is_preflight(const struct gw_http_req *r)
{
    return (r->srv->cors_count > 0 || r->srv->cors_any) && strcmp(r->method, "OPTIONS") == 0 &&
           gw_http_req_header(r, "Origin") != NULL &&
           gw_http_req_header(r, "Access-Control-Request-Method") != NULL;
}

/* Access-Control-Request-Headers (Fetch: a comma list of header names) ->
 * the same names, trimmed, ", "-joined in `out`; every one must be one a
 * FHIR client sends. */
int
gw_http_cors_request_headers(const char *want, char *out, size_t cap, struct base_err *err)
{
    struct base_str rest = base_str_from_cstr(want != NULL ? want : "");
    size_t len = 0;

    if (cap == 0)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "Access-Control-Request-Headers",
                            "too many requested headers");
    out[0] = '\0';
    while (rest.len > 0) {
        struct base_str tok;
        bool known = false;

        (void)base_str_cut(rest, ',', &tok, &rest);
        tok = base_str_trim(tok);
        if (tok.len == 0)
            continue;
        for (size_t i = 0; i < BASE_ARRAY_LEN(allowed_request_headers) && !known; i++)
            known = tok.len == strlen(allowed_request_headers[i]) &&
                    strncasecmp(tok.ptr, allowed_request_headers[i], tok.len) == 0;
        if (!known)
            return base_err_set(err, BASE_E_AUTH, "forbidden", "Access-Control-Request-Headers",
                                "a requested header is not allowed");
        if (len + tok.len + 3 > cap)
            return base_err_set(err, BASE_E_LIMIT, "too-long", "Access-Control-Request-Headers",
                                "too many requested headers");
        if (len > 0) {
            memcpy(out + len, ", ", 2);
            len += 2;
        }
        memcpy(out + len, tok.ptr, tok.len);
        len += tok.len;
        out[len] = '\0';
    }
    return BASE_OK;
}

int
gw_http__cors_preflight(struct gw_http_req *r, struct base_err *err)
{
    struct gw_http_target_limits tl = {r->srv->lim.max_url, r->srv->lim.max_segments,
                                       r->srv->lim.max_params, r->srv->lim.max_param_len};
    const char *want = gw_http_req_header(r, "Access-Control-Request-Method");
    char headers[512];
    struct gw_http_match m;

    if (gw_http__cors_allow(r) == NULL)
        return base_err_set(err, BASE_E_AUTH, "forbidden", "Origin",
                            "cross-origin requests from this origin are not allowed");
    if (r->raw_target == NULL)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "url",
                            "request target longer than %zu bytes", r->srv->lim.max_url);
    TRY(gw_http_target_parse(r->arena, r->raw_target, r->raw_target_len, &tl, &r->target, err));
    if (!gw_http_router_match(r->srv->router, want, r->target.segments, r->target.segment_count,
                              &m)) {
        if (m.allow[0] == '\0')
            return base_err_set(err, BASE_E_NOTFOUND, "not-found", "url", "no such resource");
        return base_err_set(err, BASE_E_AUTH, "forbidden", "Access-Control-Request-Method",
                            "method not allowed for this resource");
    }
    TRY(gw_http_cors_request_headers(gw_http_req_header(r, "Access-Control-Request-Headers"),
                                     headers, sizeof(headers), err));
    (void)gw_http_router_match(r->srv->router, "OPTIONS", r->target.segments,
                               r->target.segment_count, &m); /* every method the path has */
    if (gw_http_respond_empty(r, 204) != BASE_OK ||
        gw_http_set_header(r, "Access-Control-Allow-Methods",
                           m.allow[0] != '\0' ? m.allow : want) != BASE_OK ||
        (headers[0] != '\0' &&
         gw_http_set_header(r, "Access-Control-Allow-Headers", headers) != BASE_OK) ||
        gw_http_set_header(r, "Access-Control-Max-Age", "600") != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return BASE_OK;
}
