/*
 * gateway/http/gw_http.h — the HTTP(S) server both daemons use.
 *
 * libmicrohttpd 0.9.75 with GnuTLS underneath: an internal epoll thread per
 * core (thread pool), TLS 1.2/1.3 only, optional or mandatory client
 * certificates checked against the region CA, a route table, one arena per
 * request, FHIR responses with content negotiation, OperationOutcome errors,
 * asynchronous handlers (suspend/resume), limits answered with the right
 * status, access logs, metrics and a graceful shutdown.  The design notes
 * and the measured figures are in docs/design/http.md.
 *
 * Threads: handlers run on MHD's pool threads.  A request, with its arena,
 * is touched by one thread at a time: the pool thread until the handler
 * returns, or — after gw_http_suspend() — the holder of the async handle
 * until it calls gw_http_resume().
 *
 * Companion headers: gw_http_parse.h (pure parsers of the request target and
 * the headers the gateway reads), gw_http_metrics.h (Prometheus registry),
 * gw_http_static.h (the portal's static files).
 */
#ifndef GATEWAY_HTTP_GW_HTTP_H
#define GATEWAY_HTTP_GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/conf.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"

struct base_arena;
struct gw_http_metrics;
struct gw_http_req;
struct gw_http_server;
struct gw_http_async;

/* GnuTLS priorities: TLS 1.3 and 1.2 only, ECDHE with AEAD ciphers only.
 * MHD's default (and GnuTLS "NORMAL") would also accept TLS 1.0 and 1.1. */
#define GW_HTTP_TLS_PRIORITIES                                                                     \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"           \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/* Content-Security-Policy sent on every response: no inline script (script
 * falls back to default-src 'self'), no plugins, no framing, nothing from
 * other origins.  Kept short: response headers share MHD's small
 * per-connection memory with the request (see docs/design/http.md). */
#define GW_HTTP_DEFAULT_CSP                                                                        \
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "              \
    "form-action 'self'; frame-ancestors 'none'"

/* ------------------------------------------------------------ config -- */

struct gw_http_limits {
    size_t max_body;            /* bytes of a request body -> 413 */
    size_t max_url;             /* bytes of the request target -> 414 */
    size_t max_header;          /* bytes of all request header lines -> 431 */
    size_t max_params;          /* query parameters -> 414 */
    size_t max_param_len;       /* bytes of one raw query parameter -> 414 */
    size_t max_segments;        /* path segments -> 414 */
    unsigned max_connections;   /* open connections in all (beyond: closed at accept) */
    unsigned max_per_ip;        /* open connections per client address (0 = no limit) */
    size_t conn_memory;         /* MHD per-connection pool (request line + headers + buffers) */
    unsigned idle_timeout_ms;   /* a connection with no traffic is closed (also keep-alive) */
    unsigned header_timeout_ms; /* accept (TLS handshake included) to complete headers */
    unsigned body_timeout_ms;   /* complete headers to complete body */
    size_t arena_budget;        /* bytes one request may allocate */
};

/* Defaults from fhir/base/limits.h. */
struct gw_http_limits gw_http_limits_default(void);

/* How MHD's pool threads wait for sockets.  poll is the default: with
 * libmicrohttpd 0.9.75 + GnuTLS, epoll spins on a connection whose TLS
 * handshake record arrived only in part (measured: 20 such connections
 * cost 40% of a core until cut), so one client could burn the CPU; poll
 * waits properly.  epoll scales better past a few thousand connections
 * per thread; choose it only behind a proxy that completes handshakes. */
enum gw_http_event_loop {
    GW_HTTP_LOOP_POLL,
    GW_HTTP_LOOP_EPOLL
};

enum gw_http_client_auth {
    GW_HTTP_CLIENT_AUTH_NONE,     /* no certificate requested */
    GW_HTTP_CLIENT_AUTH_OPTIONAL, /* requested; absent = anonymous, invalid = 403 */
    GW_HTTP_CLIENT_AUTH_REQUIRED  /* absent = 401, invalid = 403 */
};

/* Serialize a FHIR resource (a jansson tree from fhir/json) as FHIR XML. */
typedef int (*gw_http_xml_fn)(const json_t *resource, bool pretty, struct base_buf *out,
                              struct base_err *err);

typedef void (*gw_http_handler_fn)(struct gw_http_req *req, void *cls);

/*
 * One route.  `method` is "GET", "POST", … or "*" (any); a GET route also
 * answers HEAD.  `pattern` is a path of literal segments, `{name}`
 * segments (one non-empty segment, read with gw_http_req_param()) and an
 * optional final `*` (zero or more segments, gw_http_req_star()).  Literal
 * segments compare after percent-decoding, case-sensitively.  The first
 * matching route in table order wins; a path that matches only routes of
 * other methods gets 405 with Allow, no match at all 404.
 */
struct gw_http_route {
    const char *method;
    const char *pattern;
    gw_http_handler_fn handler;
    void *cls; /* handed to the handler */
};

struct gw_http_config {
    const char *name;            /* for logs ("gateway", "adapter") */
    const char *bind;            /* IP address to listen on; default "127.0.0.1" */
    unsigned port;               /* 0 = any free port (see gw_http_server_port) */
    bool plain_http;             /* serve plain HTTP (tests, behind a TLS proxy); default HTTPS */
    const char *cert_file;       /* PEM server certificate chain (HTTPS) */
    const char *key_file;        /* PEM private key (HTTPS) */
    const char *client_ca_file;  /* PEM region CA: client certificates must chain to it */
    const char *client_crl_file; /* optional PEM CRL of that CA */
    enum gw_http_client_auth client_auth;
    const char *tls_priorities;  /* NULL = GW_HTTP_TLS_PRIORITIES */
    unsigned threads;            /* pool threads; 0 = one per online CPU */
    enum gw_http_event_loop event_loop;
    struct gw_http_limits limits;
    const struct gw_http_route *routes;
    size_t route_count;
    void *app;                   /* program state for handlers: gw_http_req_app() */
    gw_http_xml_fn xml;          /* NULL: XML cannot be produced (406 when only XML is accepted) */
    struct gw_http_metrics *metrics; /* NULL: the server makes its own registry */
    const char *csp;             /* NULL = GW_HTTP_DEFAULT_CSP */
    unsigned hsts_max_age_s;     /* Strict-Transport-Security on HTTPS; 0 = not sent */
    bool trust_request_id;       /* adopt a well-formed incoming X-Request-Id (behind a proxy) */
    bool trust_forwarded;        /* links follow Forwarded / X-Forwarded-* (behind a proxy) */
    /* origins whose browser pages may call us (CORS, gateway/http/cors.c):
     * "https://host[:port]" items or "*"; none = no CORS headers at all */
    const char *const *cors_origins;
    size_t cors_origin_count;
};

/* Defaults: loopback, HTTPS, no client certificates, default limits. */
void gw_http_config_init(struct gw_http_config *c);

/*
 * The keys gw_http_config_from_conf() reads, for the program's schema of
 * its HTTP section (see docs/design/http.md for each key):
 *   listen (host:port), plain_http, cert, key, client_ca, client_crl,
 *   client_auth (none|optional|required), tls_priorities, threads,
 *   event_loop (poll|epoll),
 *   max_body, max_url, max_header, max_params, max_param_len, max_segments,
 *   max_connections, max_connections_per_ip, connection_memory,
 *   idle_timeout, header_timeout, body_timeout, request_memory,
 *   hsts_max_age, content_security_policy, trust_request_id, trust_forwarded,
 *   cors_origins.
 */
extern const struct base_conf_key gw_http_conf_keys[];
extern const size_t gw_http_conf_key_count;

/* Fill `c` (initialised with gw_http_config_init) from a config section
 * declared with gw_http_conf_keys.  Strings live in `a`.  Errors name the
 * file, line and key. */
BASE_MUST_CHECK int gw_http_config_from_conf(struct gw_http_config *c,
                                             const struct base_conf_section *s,
                                             struct base_arena *a, struct base_err *err);

/* ------------------------------------------------------------ server -- */

/*
 * Validate `cfg` (routes, files, TLS settings), load the certificates and
 * start listening.  `cfg` and everything it points to (routes, strings)
 * must outlive the server.  Errors: BASE_E_INVALID (bad configuration,
 * where = the setting), BASE_E_IO (a file cannot be read, the address
 * cannot be bound), BASE_E_NOMEM.
 */
BASE_MUST_CHECK int gw_http_server_start(const struct gw_http_config *cfg,
                                         struct gw_http_server **out, struct base_err *err);

/* The TCP port actually bound (useful with port 0). */
unsigned gw_http_server_port(const struct gw_http_server *s);

/* The registry the server records its own metrics in. */
struct gw_http_metrics *gw_http_server_metrics(const struct gw_http_server *s);

/* True once gw_http_server_stop() has begun. */
bool gw_http_server_draining(const struct gw_http_server *s);

/*
 * Graceful stop: stop accepting connections at once; let requests in
 * flight (suspended ones included) finish for up to `deadline_ms` (answers
 * sent meanwhile carry "Connection: close"); then cancel the suspended
 * requests still waiting (their holders' cancel callbacks run, and the
 * client gets 503); then close everything and free the server.  Returns
 * how many requests had to be cancelled.  `s` is invalid afterwards.
 */
size_t gw_http_server_stop(struct gw_http_server *s, unsigned deadline_ms);

/* ----------------------------------------------------------- request -- */

/* The client certificate, as checked on this connection. */
struct gw_http_client {
    bool present;           /* a certificate was presented */
    bool verified;          /* chains to the region CA, in its validity period, clientAuth
                             * purpose, not revoked */
    unsigned tls_status;    /* GnuTLS verification status bits (0 when verified) */
    const char *reason;     /* why not verified ("expired", "unknown issuer", …), or NULL */
    const char *subject_cn; /* first CN of the subject, or NULL */
    const char *subject_o;  /* first O of the subject, or NULL */
    const char *subject_dn; /* RFC 4514 subject DN, or NULL */
    const char *issuer_dn;  /* RFC 4514 issuer DN, or NULL */
    char sha256[65];        /* lower-case hex SHA-256 of the DER certificate, or "" */
};

/* One query parameter: raw as received and percent/plus-decoded.  Decoded
 * strings are NUL-terminated (a decoded NUL is refused with 400). */
struct gw_http_param {
    struct base_str name;
    struct base_str value;
    struct base_str raw_name;
    struct base_str raw_value;
};

/* Everything below returns data that lives as long as the request (its
 * arena), unless said otherwise. */
const char *gw_http_req_method(const struct gw_http_req *r); /* "GET", "POST", … */
const char *gw_http_req_id(const struct gw_http_req *r);     /* also sent as X-Request-Id */
struct base_arena *gw_http_req_arena(struct gw_http_req *r);
void *gw_http_req_app(const struct gw_http_req *r);          /* gw_http_config.app */
const char *gw_http_req_route(const struct gw_http_req *r);  /* matched pattern, or NULL */
bool gw_http_req_is_tls(const struct gw_http_req *r);
const char *gw_http_req_remote_addr(const struct gw_http_req *r); /* "203.0.113.9" / "::1" */
const struct gw_http_client *gw_http_req_client(const struct gw_http_req *r);

/* Path: raw (percent-encoded, without the query) and decoded segments. */
struct base_str gw_http_req_path(const struct gw_http_req *r);
size_t gw_http_req_segment_count(const struct gw_http_req *r);
struct base_str gw_http_req_segment(const struct gw_http_req *r, size_t i);
/* A `{name}` of the matched route (decoded); empty when there is none. */
struct base_str gw_http_req_param(const struct gw_http_req *r, const char *name);
/* Segments matched by the route's final `*`: index of the first, and count. */
size_t gw_http_req_star(const struct gw_http_req *r, size_t *out_first);

/* Query: raw string (without '?'), parameters in order, first value by name. */
struct base_str gw_http_req_query_string(const struct gw_http_req *r);
size_t gw_http_req_query_count(const struct gw_http_req *r);
const struct gw_http_param *gw_http_req_query_at(const struct gw_http_req *r, size_t i);
bool gw_http_req_query(const struct gw_http_req *r, const char *name, struct base_str *out);

/*
 * The base URL the client used, for links it follows as they are (Bundle
 * self/next): scheme of the connection + Host + the path of `configured`
 * ("https://gw.example/fhir" -> "/fhir").  With cfg.trust_forwarded, a
 * proxy's Forwarded (RFC 7239) or X-Forwarded-Host/-Proto/-Prefix decide.
 * A missing or malformed authority gives `configured` itself.
 */
const char *gw_http_req_base_url(struct gw_http_req *r, const char *configured);

/* Request headers (names case-insensitive); NULL when absent.  For a
 * header sent several times, the first. */
const char *gw_http_req_header(const struct gw_http_req *r, const char *name);
/* Does a GET's If-None-Match (else If-Modified-Since) say the client holds
 * this representation (`etag`, `last_modified`), so that 304 is the answer
 * (RFC 9110 13.2.2)? */
bool gw_http_not_modified(const struct gw_http_req *r, const char *etag, time_t last_modified);
/* Complete request body (empty for none); at most limits.max_body bytes. */
struct base_str gw_http_req_body(const struct gw_http_req *r);

/*
 * FHIR search by POST (R4 http.html#search: POST [base]/[type]/_search):
 * the body's application/x-www-form-urlencoded parameters are appended to
 * the URL's, and the query string becomes both joined by '&', so that a
 * handler reads them exactly as a GET's.  Decoded and limited as the URL's
 * query is (limits.max_params counts both together), after raw UTF-8 in the
 * body is percent-encoded and a final line break dropped; BASE_E_PARSE
 * names the parameter or byte (or says the body is not UTF-8), BASE_E_LIMIT
 * ("too-costly") says which limit.
 * gw_http_req_body_is_form() first: the caller answers 415 otherwise.
 */
bool gw_http_req_body_is_form(const struct gw_http_req *r); /* true for no body */
BASE_MUST_CHECK int gw_http_req_adopt_form(struct gw_http_req *r, struct base_err *err);
/* The same for parameters a handler derived itself (`query`: a form,
 * percent-encoded, without '?'), e.g. from an operation's Parameters. */
BASE_MUST_CHECK int gw_http_req_adopt_query(struct gw_http_req *r, const char *query, size_t len,
                                            struct base_err *err);

/* --------------------------------------------------------- responses --
 * A handler answers by calling exactly one gw_http_respond_*() (or
 * suspends).  The response is sent when the handler returns (or on
 * resume).  Every response gets X-Request-Id and the security headers;
 * responses without their own Cache-Control get "no-store" (patient data
 * must not sit in caches).  On failure (BASE_E_NOMEM, BASE_E_INVALID for a
 * header value with CR/LF) nothing is set and the client gets 500. */

enum gw_http_format {
    GW_HTTP_FORMAT_JSON,
    GW_HTTP_FORMAT_XML
};

/*
 * The representation the client asked for: `_format` wins over Accept
 * (FHIR R4 http.html#mime-type); default JSON.  BASE_E_INVALID (with
 * err->msg for a 406) when only XML is acceptable and no serializer is
 * registered, or `_format` names something else, or a fhirVersion other
 * than 4.0 is required.
 */
BASE_MUST_CHECK int gw_http_req_format(const struct gw_http_req *r, enum gw_http_format *out,
                                       struct base_err *err);
/* `_pretty=true` was given. */
bool gw_http_req_pretty(const struct gw_http_req *r);

/* Body bytes copied into the request arena. */
BASE_MUST_CHECK int gw_http_respond(struct gw_http_req *r, unsigned status,
                                    const char *content_type, const void *body, size_t len);
/* Body and content type borrowed: they must stay valid until the request
 * ends (request arena or static storage). */
BASE_MUST_CHECK int gw_http_respond_nocopy(struct gw_http_req *r, unsigned status,
                                           const char *content_type, const char *body,
                                           size_t len);
/* No body (204, 304, …). */
BASE_MUST_CHECK int gw_http_respond_empty(struct gw_http_req *r, unsigned status);
/*
 * A FHIR resource, negotiated: application/fhir+json (charset utf-8), or
 * application/fhir+xml through the registered serializer; `_pretty`
 * honoured.  Answers 406 (OperationOutcome) itself when no acceptable
 * format can be produced, and 500 when serialization fails.
 */
BASE_MUST_CHECK int gw_http_respond_resource(struct gw_http_req *r, unsigned status,
                                             const json_t *resource);
/* Plain JSON (application/json), not negotiated (health, SMART discovery). */
BASE_MUST_CHECK int gw_http_respond_json(struct gw_http_req *r, unsigned status,
                                         const json_t *v);
/* An OperationOutcome for `err`, with the status of gw_http_status_for_err(). */
BASE_MUST_CHECK int gw_http_respond_error(struct gw_http_req *r, const struct base_err *err);
/* An OperationOutcome with one issue; `where` may be NULL. */
BASE_MUST_CHECK int gw_http_respond_outcome(struct gw_http_req *r, unsigned status,
                                            const char *issue_code, const char *where,
                                            const char *msg);

/*
 * A streamed body of unknown length (chunked).  `fn` is called on the
 * pool thread with the offset so far and a buffer; it returns the number of
 * bytes written (> 0), GW_HTTP_STREAM_END, or GW_HTTP_STREAM_ERROR (the
 * connection is cut).  It must not block.  `free_fn(cls)` (may be NULL)
 * runs once when the response is done.
 */
#define GW_HTTP_STREAM_END   ((ssize_t)-1)
#define GW_HTTP_STREAM_ERROR ((ssize_t)-2)
typedef ssize_t (*gw_http_stream_fn)(void *cls, uint64_t pos, char *buf, size_t max);
BASE_MUST_CHECK int gw_http_respond_stream(struct gw_http_req *r, unsigned status,
                                           const char *content_type, gw_http_stream_fn fn,
                                           void *cls, void (*free_fn)(void *cls));
/* `len` bytes of the open file `fd` from `off`; the server closes fd. */
BASE_MUST_CHECK int gw_http_respond_fd(struct gw_http_req *r, unsigned status,
                                       const char *content_type, int fd, uint64_t off,
                                       uint64_t len);
/* Add a response header (copied).  Call before or after respond_*(). */
BASE_MUST_CHECK int gw_http_set_header(struct gw_http_req *r, const char *name,
                                       const char *value);

/* The HTTP status for an error value (STYLE.md 3.4):
 * PARSE 400; INVALID 400, or 422 for issue codes business-rule, invariant,
 * processing; LIMIT 413, or 414 for "too-long", 429 for "throttled";
 * AUTH 401 for login/unknown/expired, else 403; NOTFOUND 404; CONFLICT 409;
 * UPSTREAM 502, or 504 for "timeout"; IO 503 for "transient", else 500;
 * NOMEM, INTERNAL and anything else 500. */
unsigned gw_http_status_for_err(const struct base_err *err);

/* ---------------------------------------------------------- async -----
 * A handler that must wait (federation fan-out) suspends its request:
 *
 *   struct gw_http_async *a = gw_http_suspend(req);
 *   if (a == NULL) { respond 503 and return; }
 *   hand (a, req) to the worker; return;         <- frees the pool thread
 *   ... later, on the worker's thread:
 *   (void)gw_http_respond_resource(req, 200, bundle);
 *   gw_http_resume(a);                          <- req is no longer yours
 *
 * Between suspend and resume the worker owns the request (its arena, its
 * accessors, the respond functions).  gw_http_resume() may be called from
 * any thread, exactly once; the response the worker set is sent (none:
 * 500).  A suspended request holds no pool thread and no connection
 * deadline.  On shutdown, requests still suspended at the deadline are
 * cancelled: their cancel callback runs (on the stopping thread), the
 * client gets 503, and the worker's later gw_http_resume() just releases
 * the request; the request stays valid for the worker until then.
 */
BASE_MUST_CHECK struct gw_http_async *gw_http_suspend(struct gw_http_req *r);
void gw_http_resume(struct gw_http_async *a);
/* Has the server cancelled this request (shutdown)?  Thread-safe. */
bool gw_http_async_cancelled(struct gw_http_async *a);
/* Called once if the request is cancelled before it is resumed. */
void gw_http_async_on_cancel(struct gw_http_async *a, void (*fn)(void *cls), void *cls);

/* --------------------------------------------------- ready handlers -- */

/* GET /healthz: {"status":"pass"} 200, or {"status":"fail"} 503 while the
 * server is draining.  cls: unused. */
void gw_http_handle_healthz(struct gw_http_req *r, void *cls);
/* For a POST [type]/_search handler: take the form's parameters into the
 * query (gw_http_req_adopt_form) and return true, or answer 415 (another
 * body type) or the parse / limit error and return false. */
bool gw_http_take_search_form(struct gw_http_req *r);
/* GET /metrics: the server's registry (or `cls`, a struct gw_http_metrics *,
 * when not NULL) in Prometheus text format 0.0.4. */
void gw_http_handle_metrics(struct gw_http_req *r, void *cls);

#endif /* GATEWAY_HTTP_GW_HTTP_H */
