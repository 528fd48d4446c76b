/*
 * One request's way through libmicrohttpd:
 *
 *   uri log callback   request line read: the request and its arena are made
 *   access, 1st call   headers complete: copied, target parsed, client
 *                      certificate checked, route matched, limits checked
 *   access, n-th call  body chunks appended (413 as soon as max_body is passed)
 *   access, last call  the handler runs; its answer is queued — never on the
 *                      first call, which would turn keep-alive off (measured
 *                      here: about five times less throughput)
 *   completed          access log, metrics, one reference dropped
 *
 * Errors found on the first call are queued at once only when a body would
 * follow (so it is not read; MHD then closes the connection); otherwise
 * they wait for the next call like any answer, keeping the connection.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http_int.h"

uint64_t
gw_http__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t
gw_http__now_ms(void)
{
    return (int64_t)(gw_http__now_ns() / 1000000u);
}

static void
set_wait(struct gw_http_conn *cc, enum gw_http__wait w, unsigned ms)
{
    if (cc == NULL)
        return;
    atomic_store(&cc->wait, (int)w);
    atomic_store(&cc->deadline_ms, ms == 0 ? 0 : gw_http__now_ms() + (int64_t)ms);
}

static void
make_id(struct gw_http_req *r)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[8];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* never expected; a clock-derived id still correlates the logs */
        uint64_t t = gw_http__now_ns();

        memcpy(b, &t, sizeof(b));
    }
    for (size_t i = 0; i < sizeof(b); i++) {
        r->id[2 * i] = hex[b[i] >> 4];
        r->id[2 * i + 1] = hex[b[i] & 15];
    }
    r->id[16] = '\0';
}

/*
 * We parse the raw target ourselves (gw_http_target_parse).  MHD would also
 * split the query into GET arguments, each costing a ~60-byte entry in the
 * connection's fixed memory pool: 100 short parameters would exhaust a
 * 7 KiB pool and the connection would be dropped before our own limits
 * could answer.  MHD 0.9.71+ finds the '?' before calling this callback and
 * parses what follows it afterwards (connection.c, parse_initial_message_line:
 * "log callback before we modify URI *or* args"), so ending the string right
 * after the '?' leaves it nothing to store.  The buffer is MHD's writable
 * read buffer; test check_http_server.c (many_query_parameters_...) guards
 * this against a library change.
 */
static void
hide_query_from_mhd(const char *uri)
{
    char *q = strchr(uri, '?');

    if (q != NULL && q[1] != '\0')
        q[1] = '\0';
}

void *
gw_http__uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct gw_http_server *s = cls;
    const union MHD_ConnectionInfo *ci;
    struct base_arena *a = base_arena_new(s->lim.arena_budget);
    struct gw_http_req *r;
    size_t len;

    if (a == NULL)
        return NULL;
    r = BASE_NEW(a, struct gw_http_req);
    if (r == NULL) {
        base_arena_free(a);
        return NULL;
    }
    r->srv = s;
    r->conn = conn;
    r->arena = a;
    atomic_init(&r->refs, 1u);
    r->t_start_ns = gw_http__now_ns();
    r->phase = GW_HTTP__PH_LINE;
    r->async.req = r;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    r->cc = ci != NULL ? ci->socket_context : NULL;
    len = strnlen(uri, s->lim.max_url + 1);
    r->raw_target_len = len;
    if (len <= s->lim.max_url)
        r->raw_target = base_arena_strndup(a, uri, len);
    hide_query_from_mhd(uri);
    base_buf_init(&r->body, s->lim.max_body);
    make_id(r);
    return r;
}

void
gw_http__req_unref(struct gw_http_req *r)
{
    if (r == NULL || atomic_fetch_sub(&r->refs, 1u) != 1u)
        return;
    gw_http__resp_release(&r->resp);
    gw_http__resp_release(&r->err_resp);
    if (r->async.lock_ready)
        pthread_mutex_destroy(&r->async.lock);
    base_buf_fini(&r->body);
    base_arena_free(r->arena); /* r lives in it */
}

/* ------------------------------------------------------- first call -- */

struct hdr_walk {
    struct gw_http_req *r;
    size_t count;
    size_t bytes;
    bool failed;
};

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
             const char *value, size_t value_size)
{
    struct hdr_walk *w = cls;

    (void)kind;
    (void)key;
    (void)value;
    w->count++;
    w->bytes += key_size + value_size + 4; /* "name: value\r\n" */
    return MHD_YES;
}

static enum MHD_Result
copy_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
            const char *value, size_t value_size)
{
    struct hdr_walk *w = cls;
    struct gw_http__reqhdr *h = &w->r->headers[w->count];
    char *name = base_arena_strndup(w->r->arena, key, key_size);

    (void)kind;
    h->value = base_arena_strndup(w->r->arena, value, value_size);
    if (name == NULL || h->value == NULL) {
        w->failed = true;
        return MHD_NO;
    }
    h->name = base_str_make(name, key_size);
    w->count++;
    return MHD_YES;
}

/* Copy the headers into the arena: a suspended request's holder may read
 * them after MHD has moved on, and the total size is checked (431). */
static int
copy_headers(struct gw_http_req *r, struct base_err *err)
{
    struct hdr_walk w = {.r = r};

    (void)MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, count_header, &w);
    if (w.bytes > r->srv->lim.max_header)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "headers",
                            "request headers exceed %zu bytes", r->srv->lim.max_header);
    r->headers = BASE_NEW_N(r->arena, struct gw_http__reqhdr, w.count + 1);
    if (r->headers == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    w.count = 0;
    (void)MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, copy_header, &w);
    if (w.failed)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    r->header_count = w.count;
    return BASE_OK;
}

/* Content-Length / Transfer-Encoding: is a body coming, and how big. */
static int
body_framing(struct gw_http_req *r, struct base_err *err)
{
    const char *cl = gw_http_req_header(r, "Content-Length");
    const char *te = gw_http_req_header(r, "Transfer-Encoding");

    if (te != NULL)
        r->has_body = true;
    if (cl != NULL) {
        if (!base_str_to_u64(base_str_from_cstr(cl), &r->content_length))
            return base_err_set(err, BASE_E_PARSE, "structure", "Content-Length",
                                "invalid Content-Length");
        r->has_body = r->has_body || r->content_length > 0;
    }
    if (r->content_length > r->srv->lim.max_body)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", "body",
                            "request body exceeds %zu bytes", r->srv->lim.max_body);
    return BASE_OK;
}

/* Adopt a proxy's X-Request-Id when configured and harmless in logs. */
static void
adopt_request_id(struct gw_http_req *r)
{
    const char *in = gw_http_req_header(r, "X-Request-Id");
    size_t n;

    if (!r->srv->cfg->trust_request_id || in == NULL)
        return;
    n = strnlen(in, sizeof(r->id));
    if (n == 0 || n >= sizeof(r->id))
        return;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return;
    }
    memcpy(r->id, in, n + 1);
}

static int
check_client(struct gw_http_req *r, struct base_err *err)
{
    struct gw_http_server *s = r->srv;
    struct gw_http_conn *cc = r->cc;

    if (cc == NULL)
        return BASE_OK;
    if (!cc->tls_checked)
        gw_http__tls_identify(s, r->conn, cc);
    if (gw_http__client_copy(r, &cc->client) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (!s->tls || s->cfg->client_auth == GW_HTTP_CLIENT_AUTH_NONE)
        return BASE_OK;
    if (!cc->client.present) {
        if (s->cfg->client_auth == GW_HTTP_CLIENT_AUTH_REQUIRED)
            return base_err_set(err, BASE_E_AUTH, "login", "client certificate",
                                "a client certificate is required");
        return BASE_OK;
    }
    if (!cc->client.verified)
        return base_err_set(err, BASE_E_AUTH, "security", "client certificate",
                            "client certificate refused: %s", cc->client.reason);
    return BASE_OK;
}

/* Allow: the methods of the routes that match the path, and OPTIONS,
 * which the framework answers for each of them (RFC 9110 10.2.1). */
static const char *
allow_value(struct gw_http_req *r)
{
    const char *v = base_arena_sprintf(r->arena, "%s, OPTIONS", r->match.allow);

    return v != NULL ? v : r->match.allow;
}

/*
 * OPTIONS on a path we serve (RFC 9110 9.3.7), that is not a CORS preflight
 * (cors.c answers those): 204 with Allow, the methods a client may use
 * there.  FHIR R4 discovers capabilities with GET [base]/metadata; this is
 * what generic HTTP tooling asks.
 */
static int
answer_options(struct gw_http_req *r, struct base_err *err)
{
    if (gw_http_respond_empty(r, 204) != BASE_OK ||
        gw_http_set_header(r, "Allow", allow_value(r)) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    r->preflight = true; /* answered: r->resp is queued on the last call */
    return BASE_OK;
}

static int
route(struct gw_http_req *r, struct base_err *err)
{
    struct gw_http_target_limits tl = {r->srv->lim.max_url, r->srv->lim.max_segments,
                                       r->srv->lim.max_params, r->srv->lim.max_param_len};

    if (r->raw_target == NULL)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "url",
                            "request target longer than %zu bytes", r->srv->lim.max_url);
    TRY(gw_http_target_parse(r->arena, r->raw_target, r->raw_target_len, &tl, &r->target, err));
    r->matched = gw_http_router_match(r->srv->router, r->method, r->target.segments,
                                      r->target.segment_count, &r->match);
    if (r->matched)
        return BASE_OK;
    if (r->match.allow[0] != '\0' && strcmp(r->method, "OPTIONS") == 0)
        return answer_options(r, err);
    if (r->match.allow[0] != '\0')
        return base_err_set(err, BASE_E_INVALID, "not-supported", "method",
                            "method not allowed for this resource");
    return base_err_set(err, BASE_E_NOTFOUND, "not-found", "url", "no such resource");
}

/* The status for a framework error: like gw_http_status_for_err, plus
 * 405 for a known path with another method and 431 for header size. */
static unsigned
framework_status(const struct gw_http_req *r, const struct base_err *err)
{
    if (err->rc == BASE_E_INVALID && strcmp(err->where, "method") == 0)
        return 405;
    if (err->rc == BASE_E_LIMIT && strcmp(err->where, "headers") == 0)
        return 431;
    if (err->rc == BASE_E_LIMIT && strcmp(err->where, "body") == 0)
        return 413;
    (void)r;
    return gw_http_status_for_err(err);
}

static void
set_framework_error(struct gw_http_req *r, const struct base_err *err)
{
    unsigned status = framework_status(r, err);

    gw_http__outcome_resp(r, status, err->issue_code, err->where, err->msg, &r->err_resp);
    if (status == 405 && gw_http__resp_header(r, &r->err_resp, "Allow", allow_value(r)) != BASE_OK)
        r->err_resp.status = 500;
    r->has_err_resp = true;
}

static size_t drain_max(const struct gw_http_req *r);

/*
 * A declared body over the limit: answering at once closes the connection
 * while the client is still sending, and the peer's TCP stack then resets
 * it — measured: curl reported no response at all in 1 run of 3 instead of
 * the 413.  Like nginx's lingering close, a body small enough to drain is
 * read and discarded and the 413 goes out when it ends.  A client that asked
 * for 100-continue is answered at once: it has sent nothing yet.
 */
static bool
drain_then_answer(const struct gw_http_req *r, const struct base_err *err)
{
    const char *expect = gw_http_req_header(r, "Expect");

    if (err->rc != BASE_E_LIMIT || strcmp(err->where, "body") != 0)
        return false;
    if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
        return false;
    return r->content_length <= drain_max(r);
}

static enum MHD_Result
first_call(struct gw_http_req *r, const char *method)
{
    struct gw_http_server *s = r->srv;
    struct base_err err = {0};
    int rc;

    r->phase = GW_HTTP__PH_BODY;
    r->counted = true;
    atomic_fetch_add(&s->inflight, 1u);
    gw_http_metric_add(s->m_inflight, NULL, 1);
    r->method = base_arena_strdup(r->arena, method);
    if (r->method == NULL)
        return MHD_NO;
    rc = copy_headers(r, &err);
    if (rc == BASE_OK)
        rc = body_framing(r, &err);
    if (rc == BASE_OK || err.rc == BASE_E_LIMIT)
        adopt_request_id(r);
    if (rc == BASE_OK)
        rc = check_client(r, &err);
    if (rc == BASE_OK && gw_http__cors_is_preflight(r)) {
        rc = gw_http__cors_preflight(r, &err);
        r->preflight = rc == BASE_OK;
    } else if (rc == BASE_OK) {
        rc = route(r, &err);
    }
    set_wait(r->cc, r->has_body ? GW_HTTP__WAIT_BODY : GW_HTTP__WAIT_NONE,
             r->has_body ? s->lim.body_timeout_ms : 0);
    if (rc == BASE_OK)
        return MHD_YES;
    set_framework_error(r, &err);
    if (!r->has_body)
        return MHD_YES; /* answered on the next call: keeps the connection */
    if (drain_then_answer(r, &err))
        return MHD_YES;
    return gw_http__queue(r, &r->err_resp);
}

/* ------------------------------------------------------------ body -- */

/*
 * libmicrohttpd 0.9.75 refuses MHD_queue_response() while a body is still
 * arriving (measured: it returns MHD_NO and the connection is reset), so a
 * body that outgrows max_body without a Content-Length (chunked) cannot be
 * answered at that moment.  It is dropped from memory at once, the rest is
 * read and discarded, and 413 goes out when the request ends — unless the
 * client sends more than DRAIN_MAX further bytes, which cuts the connection.
 * (A declared Content-Length over the limit is answered on the first call.)
 */
#define DRAIN_MIN (1u << 20)

static size_t
drain_max(const struct gw_http_req *r)
{
    return r->srv->lim.max_body > DRAIN_MIN ? r->srv->lim.max_body : DRAIN_MIN;
}

static enum MHD_Result
body_chunk(struct gw_http_req *r, const char *data, size_t *len)
{
    struct base_err err = {0};
    size_t n = *len;

    *len = 0;
    r->bytes_in += n;
    if (r->phase == GW_HTTP__PH_QUEUED)
        return MHD_YES;
    if (r->has_err_resp) {
        r->drained += n;
        if (r->drained <= drain_max(r))
            return MHD_YES;
        BASE_LOG_REQ(BASE_LOG_INFO, r->id, "http_body_cut", "drained=%zu", r->drained);
        return MHD_NO; /* closes the connection */
    }
    if (base_buf_append(&r->body, data, n) == BASE_OK)
        return MHD_YES;
    base_buf_fini(&r->body);
    base_err_set(&err, BASE_E_LIMIT, "too-costly", "body", "request body exceeds %zu bytes",
                 r->srv->lim.max_body);
    set_framework_error(r, &err);
    return MHD_YES;
}

/* ---------------------------------------------------------- handler -- */

static enum MHD_Result
run_handler(struct gw_http_req *r)
{
    const struct gw_http_route *rt = r->match.route;

    set_wait(r->cc, GW_HTTP__WAIT_NONE, 0);
    rt->handler(r, rt->cls);
    if (r->async_used)
        return MHD_YES; /* r may already belong to another thread: touch nothing */
    if (!r->resp.set) {
        BASE_LOG_REQ(BASE_LOG_ERROR, r->id, "http_no_response", "route=%s", rt->pattern);
        gw_http__outcome_resp(r, 500, "exception", NULL, "request failed", &r->resp);
    }
    return gw_http__queue(r, &r->resp);
}

enum MHD_Result
gw_http__access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                const char *version, const char *upload, size_t *upload_len, void **req_cls)
{
    struct gw_http_req *r = *req_cls;

    (void)url;
    (void)version;
    if (r == NULL) {
        /* the uri log callback could not allocate: no request to answer */
        (void)cls;
        (void)conn;
        return MHD_NO;
    }
    switch (r->phase) {
    case GW_HTTP__PH_LINE:
        return first_call(r, method);
    case GW_HTTP__PH_BODY:
        if (*upload_len > 0)
            return body_chunk(r, upload, upload_len);
        if (r->has_err_resp)
            return gw_http__queue(r, &r->err_resp);
        if (r->preflight)
            return gw_http__queue(r, &r->resp);
        return run_handler(r);
    case GW_HTTP__PH_SUSPENDED:
        return gw_http__async_answer(r);
    case GW_HTTP__PH_QUEUED:
        *upload_len = 0;
        return MHD_YES;
    default:
        BASE_ASSERT_UNREACHABLE();
        return MHD_NO;
    }
}

/* ------------------------------------------------------- completion -- */

static const char *
termination(enum MHD_RequestTerminationCode why)
{
    switch (why) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read-error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client-abort";
    default:
        return "other";
    }
}

static void
record(struct gw_http_req *r, enum MHD_RequestTerminationCode why)
{
    struct gw_http_server *s = r->srv;
    double secs = (double)(gw_http__now_ns() - r->t_start_ns) / 1e9;
    const char *route = r->matched ? r->match.route->pattern : "-";
    const char *cn = r->client.verified && r->client.subject_cn != NULL ? r->client.subject_cn
                                                                          : "-";
    char status[8];
    const char *labels[3];

    snprintf(status, sizeof(status), "%u", r->status_sent);
    labels[0] = r->method != NULL ? r->method : "-";
    labels[1] = route;
    labels[2] = status;
    if (r->method != NULL) {
        gw_http_metric_add(s->m_requests, labels, 1);
        gw_http_metric_observe(s->m_latency, labels + 1, secs);
    }
    /* Route pattern, never the raw path (ids, identifiers); no query. */
    BASE_LOG_REQ(BASE_LOG_INFO, r->id, "http_access",
                 "method=%s route=%s status=%u ms=%.3f client=%s tls=%d bytes_in=%zu end=%s",
                 labels[0], route, r->status_sent, secs * 1000.0, cn, s->tls ? 1 : 0,
                 r->bytes_in, termination(why));
}

void
gw_http__completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                   enum MHD_RequestTerminationCode why)
{
    struct gw_http_server *s = cls;
    struct gw_http_req *r = *req_cls;

    (void)conn;
    if (r == NULL)
        return;
    *req_cls = NULL;
    if (r->method != NULL || r->status_sent != 0)
        record(r, why);
    if (r->counted) {
        atomic_fetch_sub(&s->inflight, 1u);
        gw_http_metric_add(s->m_inflight, NULL, -1);
    }
    set_wait(r->cc, GW_HTTP__WAIT_IDLE, s->lim.idle_timeout_ms);
    if (r->async_used)
        gw_http__async_unlink(r); /* the client left while it was suspended */
    gw_http__req_unref(r);
}
