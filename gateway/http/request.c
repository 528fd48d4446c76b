/* Request accessors. */
#include <string.h>
#include <strings.h>

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
