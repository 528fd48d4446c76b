/* Building answers: FHIR negotiation, OperationOutcome, headers, queueing. */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "gateway/http/gw_http_int.h"

#define CT_FHIR_JSON "application/fhir+json; charset=utf-8"
#define CT_FHIR_XML  "application/fhir+xml; charset=utf-8"
#define CT_JSON      "application/json; charset=utf-8"

/* Served when even an OperationOutcome cannot be built (out of memory). */
static const char fallback_500[] = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                                   "\"error\",\"code\":\"exception\",\"diagnostics\":"
                                   "\"request failed\"}]}";
static const char fallback_503[] = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                                   "\"error\",\"code\":\"transient\",\"diagnostics\":"
                                   "\"server is shutting down\"}]}";

unsigned
gw_http_status_for_err(const struct base_err *err)
{
    const char *ic = err != NULL ? err->issue_code : "";

    switch (err != NULL ? err->rc : BASE_E_INTERNAL) {
    case BASE_E_PARSE:
        return 400;
    case BASE_E_INVALID:
        if (strcmp(ic, "business-rule") == 0 || strcmp(ic, "invariant") == 0 ||
            strcmp(ic, "processing") == 0)
            return 422;
        if (strcmp(ic, "not-supported") == 0)
            return 406;
        return 400;
    case BASE_E_LIMIT:
        if (strcmp(ic, "too-long") == 0)
            return 414;
        if (strcmp(ic, "throttled") == 0)
            return 429;
        return 413;
    case BASE_E_AUTH:
        if (strcmp(ic, "login") == 0 || strcmp(ic, "unknown") == 0 || strcmp(ic, "expired") == 0)
            return 401;
        return 403;
    case BASE_E_NOTFOUND:
        return 404;
    case BASE_E_CONFLICT:
        return 409;
    case BASE_E_UPSTREAM:
        return strcmp(ic, "timeout") == 0 ? 504 : 502;
    case BASE_E_IO:
        return strcmp(ic, "transient") == 0 ? 503 : 500;
    default:
        return 500;
    }
}

/* ------------------------------------------------------------ headers -- */

static bool
header_name_ok(const char *n)
{
    if (n == NULL || n[0] == '\0')
        return false;
    for (; *n != '\0'; n++) {
        char c = *n;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* No CR, LF or NUL: a value can never split the response (RFC 9110 5.5). */
static bool
header_value_ok(const char *v)
{
    for (; v != NULL && *v != '\0'; v++) {
        if (*v == '\r' || *v == '\n')
            return false;
    }
    return v != NULL;
}

int
gw_http__resp_header(struct gw_http_req *r, struct gw_http__resp *resp, const char *name,
                     const char *value)
{
    struct gw_http__hdr *h;

    if (!header_name_ok(name) || !header_value_ok(value))
        return BASE_E_INVALID;
    h = BASE_NEW(r->arena, struct gw_http__hdr);
    if (h == NULL || (h->name = base_arena_strdup(r->arena, name)) == NULL ||
        (h->value = base_arena_strdup(r->arena, value)) == NULL)
        return BASE_E_NOMEM;
    h->next = resp->headers;
    resp->headers = h;
    if (strcasecmp(name, "Cache-Control") == 0)
        resp->has_cache_control = true;
    /* A page that must post elsewhere (the OAuth2 sign-in page) states its
     * own policy; a second header would only be intersected with ours. */
    if (strcasecmp(name, "Content-Security-Policy") == 0)
        resp->has_csp = true;
    return BASE_OK;
}

int
gw_http_set_header(struct gw_http_req *r, const char *name, const char *value)
{
    return gw_http__resp_header(r, &r->resp, name, value);
}

/* -------------------------------------------------- setting answers -- */

/* Forget a previous body (a handler may answer again after a failure). */
static void
drop_body(struct gw_http__resp *resp)
{
    if (resp->kind == GW_HTTP__BODY_FD && resp->fd >= 0)
        close(resp->fd);
    if (resp->kind == GW_HTTP__BODY_STREAM && resp->stream_free != NULL)
        resp->stream_free(resp->stream_cls);
    resp->kind = GW_HTTP__BODY_NONE;
    resp->fd = -1;
    resp->stream = NULL;
    resp->stream_free = NULL;
}

static void
set_buf(struct gw_http__resp *resp, unsigned status, const char *ct, const char *body, size_t len)
{
    drop_body(resp);
    resp->set = true;
    resp->status = status;
    resp->content_type = ct;
    resp->kind = GW_HTTP__BODY_BUF;
    resp->body = body;
    resp->len = len;
}

/* Start a new answer: validate, copy the content type, forget an earlier
 * body.  Nothing changes on failure. */
static int
begin(struct gw_http_req *r, unsigned status, const char *content_type, bool copy_type,
      enum gw_http__body_kind kind)
{
    const char *ct = content_type;

    if (status < 100 || status > 599 || (content_type != NULL && !header_value_ok(content_type)))
        return BASE_E_INVALID;
    if (content_type != NULL && copy_type && (ct = base_arena_strdup(r->arena, content_type)) == NULL)
        return BASE_E_NOMEM;
    drop_body(&r->resp);
    r->resp.set = true;
    r->resp.status = status;
    r->resp.content_type = ct;
    r->resp.kind = kind;
    return BASE_OK;
}

int
gw_http_respond_nocopy(struct gw_http_req *r, unsigned status, const char *content_type,
                       const char *body, size_t len)
{
    TRY(begin(r, status, content_type, false, GW_HTTP__BODY_BUF));
    r->resp.body = body;
    r->resp.len = len;
    return BASE_OK;
}

int
gw_http_respond(struct gw_http_req *r, unsigned status, const char *content_type,
                const void *body, size_t len)
{
    char *copy = base_arena_memdup(r->arena, len > 0 ? body : "", len);

    if (copy == NULL)
        return BASE_E_NOMEM;
    TRY(begin(r, status, content_type, true, GW_HTTP__BODY_BUF));
    r->resp.body = copy;
    r->resp.len = len;
    return BASE_OK;
}

int
gw_http_respond_empty(struct gw_http_req *r, unsigned status)
{
    return begin(r, status, NULL, false, GW_HTTP__BODY_NONE);
}

int
gw_http_respond_stream(struct gw_http_req *r, unsigned status, const char *content_type,
                       gw_http_stream_fn fn, void *cls, void (*free_fn)(void *cls))
{
    int rc = fn != NULL ? begin(r, status, content_type, true, GW_HTTP__BODY_STREAM)
                        : BASE_E_INVALID;

    if (rc != BASE_OK) {
        if (free_fn != NULL)
            free_fn(cls); /* the callee owns cls from the call on */
        return rc;
    }
    r->resp.stream = fn;
    r->resp.stream_cls = cls;
    r->resp.stream_free = free_fn;
    return BASE_OK;
}

int
gw_http_respond_fd(struct gw_http_req *r, unsigned status, const char *content_type, int fd,
                   uint64_t off, uint64_t len)
{
    int rc = fd >= 0 ? begin(r, status, content_type, true, GW_HTTP__BODY_FD) : BASE_E_INVALID;

    if (rc != BASE_OK) {
        if (fd >= 0)
            close(fd); /* the callee owns fd from the call on */
        return rc;
    }
    r->resp.fd = fd;
    r->resp.off = off;
    r->resp.fd_len = len;
    return BASE_OK;
}

/* ------------------------------------------------------ negotiation -- */

bool
gw_http_req_pretty(const struct gw_http_req *r)
{
    struct base_str v;

    return gw_http_req_query(r, "_pretty", &v) && base_str_eq_cstr(v, "true");
}

int
gw_http_req_format(const struct gw_http_req *r, enum gw_http_format *out, struct base_err *err)
{
    struct base_str format;
    struct base_str accept;
    const char *a = gw_http_req_header(r, "Accept");
    bool has_format = gw_http_req_query(r, "_format", &format);

    accept = base_str_from_cstr(a);
    return gw_http_negotiate(has_format ? &format : NULL, a != NULL ? &accept : NULL,
                             r->srv->cfg->xml != NULL, out, err);
}

/* Serialize into a buffer owned by r's arena. */
static int
serialize(struct gw_http_req *r, const json_t *v, enum gw_http_format fmt, bool pretty,
          struct base_buf **out, struct base_err *err)
{
    struct base_buf *b = BASE_NEW(r->arena, struct base_buf);

    if (b == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    base_buf_init(b, BASE_LIMIT_HTTP_MAX_RESPONSE);
    TRY(base_buf_tie(b, r->arena));
    if (fmt == GW_HTTP_FORMAT_XML)
        TRY(r->srv->cfg->xml(v, pretty, b, err));
    else
        TRY(fhir_json_dump(v, pretty ? FHIR_JSON_PRETTY : FHIR_JSON_COMPACT, b, err));
    *out = b;
    return BASE_OK;
}

/* An OperationOutcome answer into `out`; never fails (static fallback). */
void
gw_http__outcome_resp(struct gw_http_req *r, unsigned status, const char *issue_code,
                      const char *where, const char *msg, struct gw_http__resp *out)
{
    enum gw_http_format fmt = GW_HTTP_FORMAT_JSON;
    struct base_err ferr = {0};
    struct base_buf *b = NULL;
    json_t *oo = fhir_outcome_new();

    /* a framework error may come before the query is parsed: JSON then */
    if (r->target.path.len == 0 || gw_http_req_format(r, &fmt, &ferr) != BASE_OK)
        fmt = GW_HTTP_FORMAT_JSON;
    if (oo == NULL || fhir_outcome_add(oo, "error", issue_code != NULL ? issue_code : "exception",
                                       where, msg) != BASE_OK ||
        serialize(r, oo, fmt, r->target.path.len > 0 && gw_http_req_pretty(r), &b, &ferr) !=
            BASE_OK) {
        json_decref(oo);
        set_buf(out, status, CT_FHIR_JSON, status == 503 ? fallback_503 : fallback_500,
                status == 503 ? sizeof(fallback_503) - 1 : sizeof(fallback_500) - 1);
        return;
    }
    json_decref(oo);
    set_buf(out, status, fmt == GW_HTTP_FORMAT_XML ? CT_FHIR_XML : CT_FHIR_JSON, b->data, b->len);
}

int
gw_http_respond_outcome(struct gw_http_req *r, unsigned status, const char *issue_code,
                        const char *where, const char *msg)
{
    if (status < 100 || status > 599)
        return BASE_E_INVALID;
    gw_http__outcome_resp(r, status, issue_code, where, msg, &r->resp);
    return BASE_OK;
}

int
gw_http_respond_error(struct gw_http_req *r, const struct base_err *err)
{
    const char *msg = err != NULL && err->msg[0] != '\0' ? err->msg : "request failed";

    if (err != NULL && err->log_detail[0] != '\0')
        BASE_LOG_REQ(BASE_LOG_WARN, r->id, "http_error", "rc=%s detail=%s",
                     base_rc_name(err->rc), err->log_detail);
    return gw_http_respond_outcome(r, gw_http_status_for_err(err),
                                   err != NULL ? err->issue_code : "exception",
                                   err != NULL ? err->where : NULL, msg);
}

int
gw_http_respond_resource(struct gw_http_req *r, unsigned status, const json_t *resource)
{
    enum gw_http_format fmt;
    struct base_err err = {0};
    struct base_buf *b;

    if (status < 100 || status > 599)
        return BASE_E_INVALID;
    if (gw_http_req_format(r, &fmt, &err) != BASE_OK)
        return gw_http_respond_outcome(r, 406, "not-supported", err.where, err.msg);
    if (serialize(r, resource, fmt, gw_http_req_pretty(r), &b, &err) != BASE_OK) {
        BASE_LOG_REQ(BASE_LOG_ERROR, r->id, "http_serialize_failed", "rc=%s where=%s",
                     base_rc_name(err.rc), err.where);
        return gw_http_respond_outcome(r, 500, "exception", NULL, "could not serialize the answer");
    }
    set_buf(&r->resp, status, fmt == GW_HTTP_FORMAT_XML ? CT_FHIR_XML : CT_FHIR_JSON, b->data,
            b->len);
    return BASE_OK;
}

int
gw_http_respond_json(struct gw_http_req *r, unsigned status, const json_t *v)
{
    struct base_err err = {0};
    struct base_buf *b;

    if (status < 100 || status > 599)
        return BASE_E_INVALID;
    TRY(serialize(r, v, GW_HTTP_FORMAT_JSON, gw_http_req_pretty(r), &b, &err));
    set_buf(&r->resp, status, CT_JSON, b->data, b->len);
    return BASE_OK;
}

/* ------------------------------------------------------------ queue -- */

static struct MHD_Response *
make_mhd_response(struct gw_http__resp *resp)
{
    struct MHD_Response *mr = NULL;

    switch (resp->kind) {
    case GW_HTTP__BODY_NONE:
        return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    case GW_HTTP__BODY_BUF:
        /* arena or static memory: lives until the request completes */
        return MHD_create_response_from_buffer(resp->len, (void *)resp->body,
                                               MHD_RESPMEM_PERSISTENT);
    case GW_HTTP__BODY_FD:
        mr = MHD_create_response_from_fd_at_offset64(resp->fd_len, resp->fd, resp->off);
        if (mr != NULL)
            resp->fd = -1; /* MHD closes it now */
        return mr;
    case GW_HTTP__BODY_STREAM:
        mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, resp->stream,
                                               resp->stream_cls, resp->stream_free);
        if (mr != NULL)
            resp->stream_free = NULL; /* MHD calls it now */
        return mr;
    default:
        BASE_ASSERT_UNREACHABLE();
        return NULL;
    }
}

static bool
add_standard_headers(struct gw_http_req *r, const struct gw_http__resp *resp,
                     struct MHD_Response *mr)
{
    struct gw_http_server *s = r->srv;
    bool ok = true;

    if (resp->content_type != NULL)
        ok &= MHD_add_response_header(mr, "Content-Type", resp->content_type) == MHD_YES;
    for (const struct gw_http__hdr *h = resp->headers; h != NULL; h = h->next)
        ok &= MHD_add_response_header(mr, h->name, h->value) == MHD_YES;
    if (!resp->has_cache_control)
        ok &= MHD_add_response_header(mr, "Cache-Control", "no-store") == MHD_YES;
    ok &= MHD_add_response_header(mr, "X-Request-Id", r->id) == MHD_YES;
    ok &= MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff") == MHD_YES;
    ok &= MHD_add_response_header(mr, "X-Frame-Options", "DENY") == MHD_YES;
    ok &= MHD_add_response_header(mr, "Referrer-Policy", "no-referrer") == MHD_YES;
    if (!resp->has_csp)
        ok &= MHD_add_response_header(mr, "Content-Security-Policy", s->csp) == MHD_YES;
    if (s->hsts != NULL)
        ok &= MHD_add_response_header(mr, "Strict-Transport-Security", s->hsts) == MHD_YES;
    if (atomic_load(&s->draining))
        ok &= MHD_add_response_header(mr, "Connection", "close") == MHD_YES;
    ok &= gw_http__cors_add_headers(r, mr);
    return ok;
}

/* The fixed answers when nothing else can be sent. */
static const struct gw_http__resp resp_500 = {
    .set = true, .status = 500, .content_type = CT_FHIR_JSON, .kind = GW_HTTP__BODY_BUF,
    .body = fallback_500, .len = sizeof(fallback_500) - 1, .fd = -1};
static const struct gw_http__resp resp_503 = {
    .set = true, .status = 503, .content_type = CT_FHIR_JSON, .kind = GW_HTTP__BODY_BUF,
    .body = fallback_503, .len = sizeof(fallback_503) - 1, .fd = -1};

static struct MHD_Response *
build(struct gw_http_req *r, struct gw_http__resp *resp)
{
    struct MHD_Response *mr = make_mhd_response(resp);

    if (mr != NULL && !add_standard_headers(r, resp, mr)) {
        MHD_destroy_response(mr);
        mr = NULL;
    }
    return mr;
}

enum MHD_Result
gw_http__queue(struct gw_http_req *r, const struct gw_http__resp *cresp)
{
    /* make_mhd_response() only writes to FD and STREAM answers, which are
     * never the static ones */
    struct gw_http__resp *resp = (struct gw_http__resp *)(uintptr_t)cresp;
    struct MHD_Response *mr = NULL;
    enum MHD_Result rc;

    if (resp == NULL || !resp->set)
        resp = (struct gw_http__resp *)(uintptr_t)&resp_500;
    mr = build(r, resp);
    if (mr == NULL) {
        resp = (struct gw_http__resp *)(uintptr_t)(resp->status == 503 ? &resp_503 : &resp_500);
        mr = build(r, resp);
        if (mr == NULL)
            return MHD_NO;
    }
    r->phase = GW_HTTP__PH_QUEUED;
    r->status_sent = resp->status;
    rc = MHD_queue_response(r->conn, resp->status, mr);
    MHD_destroy_response(mr);
    return rc;
}

enum MHD_Result
gw_http__queue_unavailable(struct gw_http_req *r)
{
    return gw_http__queue(r, &resp_503);
}

/* Release what a response that was never queued still holds. */
void
gw_http__resp_release(struct gw_http__resp *resp)
{
    drop_body(resp);
}
