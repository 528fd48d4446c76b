/* Request accessors. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_int.h"

const char *
gw_http_req_method(const struct gw_http_req *r)
{
    return r->method;
}

const char *
gw_http_req_id(const struct gw_http_req *r)
{
    return r->id;
}

struct base_arena *
gw_http_req_arena(struct gw_http_req *r)
{
    return r->arena;
}

void *
gw_http_req_app(const struct gw_http_req *r)
{
    return r->srv->cfg->app;
}

const char *
gw_http_req_route(const struct gw_http_req *r)
{
    return r->matched ? r->match.route->pattern : NULL;
}

bool
gw_http_req_is_tls(const struct gw_http_req *r)
{
    return r->srv->tls;
}

const char *
gw_http_req_remote_addr(const struct gw_http_req *r)
{
    return r->cc != NULL ? r->cc->addr : "-";
}

const struct gw_http_client *
gw_http_req_client(const struct gw_http_req *r)
{
    return &r->client;
}

struct base_str
gw_http_req_path(const struct gw_http_req *r)
{
    return r->target.path;
}

size_t
gw_http_req_segment_count(const struct gw_http_req *r)
{
    return r->target.segment_count;
}

struct base_str
gw_http_req_segment(const struct gw_http_req *r, size_t i)
{
    return i < r->target.segment_count ? r->target.segments[i] : BASE_STR_NULL;
}

struct base_str
gw_http_req_param(const struct gw_http_req *r, const char *name)
{
    for (size_t i = 0; r->matched && i < r->match.param_count; i++) {
        if (base_str_eq_cstr(r->match.param_names[i], name))
            return r->match.params[i];
    }
    return BASE_STR_NULL;
}

size_t
gw_http_req_star(const struct gw_http_req *r, size_t *out_first)
{
    if (out_first != NULL)
        *out_first = r->match.star_first;
    return r->matched ? r->match.star_count : 0;
}

struct base_str
gw_http_req_query_string(const struct gw_http_req *r)
{
    return r->target.query;
}

size_t
gw_http_req_query_count(const struct gw_http_req *r)
{
    return r->target.param_count;
}

const struct gw_http_param *
gw_http_req_query_at(const struct gw_http_req *r, size_t i)
{
    return i < r->target.param_count ? &r->target.params[i] : NULL;
}

bool
gw_http_req_query(const struct gw_http_req *r, const char *name, struct base_str *out)
{
    for (size_t i = 0; i < r->target.param_count; i++) {
        if (base_str_eq_cstr(r->target.params[i].name, name)) {
            *out = r->target.params[i].value;
            return true;
        }
    }
    *out = BASE_STR_NULL;
    return false;
}

const char *
gw_http_req_header(const struct gw_http_req *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++) {
        if (base_str_case_eq_cstr(r->headers[i].name, name))
            return r->headers[i].value;
    }
    return NULL;
}

struct base_str
gw_http_req_body(const struct gw_http_req *r)
{
    return base_buf_str(&r->body);
}

/* "application/x-www-form-urlencoded", parameters such as a charset
 * allowed (the form's bytes are ASCII either way). */
static bool
is_form_type(const char *ct)
{
    struct base_str s = base_str_from_cstr(ct);
    const char *semi = ct != NULL ? memchr(s.ptr, ';', s.len) : NULL;

    if (semi != NULL)
        s.len = (size_t)(semi - s.ptr);
    return ct != NULL &&
           base_str_case_eq_cstr(base_str_trim(s), "application/x-www-form-urlencoded");
}

bool
gw_http_req_body_is_form(const struct gw_http_req *r)
{
    return gw_http_req_body(r).len == 0 || is_form_type(gw_http_req_header(r, "Content-Type"));
}

int
gw_http_req_adopt_form(struct gw_http_req *r, struct base_err *err)
{
    struct base_str body = gw_http_req_body(r);

    if (!gw_http_req_body_is_form(r))
        return base_err_set(err, BASE_E_INVALID, "not-supported", "Content-Type",
                            "search parameters must be sent as "
                            "application/x-www-form-urlencoded");
    /* a final line break some clients add is not a parameter's */
    while (body.len > 0 && (body.ptr[body.len - 1] == '\n' || body.ptr[body.len - 1] == '\r'))
        body.len--;
    return gw_http_req_adopt_query(r, body.ptr, body.len, err);
}

int
gw_http_req_adopt_query(struct gw_http_req *r, const char *query, size_t len, struct base_err *err)
{
    const struct gw_http_limits *lim = &r->srv->lim;
    struct base_str body = {query, len};
    struct gw_http_target form;
    struct gw_http_target_limits tl;
    struct gw_http_param *all;
    char *text;
    char *q;
    size_t n;

    if (body.len == 0)
        return BASE_OK;
    if (!base_utf8_valid(body.ptr, body.len, NULL))
        return base_err_set(err, BASE_E_PARSE, "structure", "body", "the form is not UTF-8");
    /* the body is a query without the '?': parse it as the target "/?body"
     * (whose parser takes raw UTF-8 as the WHATWG form parser does) */
    text = base_arena_alloc(r->arena, body.len + 3);
    if (text == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    memcpy(text, "/?", 2);
    memcpy(text + 2, body.ptr, body.len);
    text[body.len + 2] = '\0';
    n = body.len + 2;
    tl = (struct gw_http_target_limits){
        n, 1,
        lim->max_params > r->target.param_count ? lim->max_params - r->target.param_count : 0,
        lim->max_param_len};
    if (gw_http_target_parse(r->arena, text, n, &tl, &form, err) != BASE_OK) {
        /* a body is not a URL: too many or too long parameters are 413 */
        if (err->rc == BASE_E_LIMIT)
            snprintf(err->issue_code, sizeof(err->issue_code), "%s", "too-costly");
        return err->rc;
    }
    n = r->target.param_count + form.param_count;
    all = BASE_NEW_N(r->arena, struct gw_http_param, n + 1);
    q = base_arena_sprintf(r->arena, "%.*s%s%.*s", (int)r->target.query.len,
                           r->target.query.ptr != NULL ? r->target.query.ptr : "",
                           r->target.query.len > 0 && form.query.len > 0 ? "&" : "",
                           (int)form.query.len, form.query.ptr != NULL ? form.query.ptr : "");
    if (all == NULL || q == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (r->target.param_count > 0)
        memcpy(all, r->target.params, r->target.param_count * sizeof(*all));
    if (form.param_count > 0)
        memcpy(all + r->target.param_count, form.params, form.param_count * sizeof(*all));
    r->target.params = all;
    r->target.param_count = n;
    r->target.query = (struct base_str){q, strlen(q)};
    return BASE_OK;
}
