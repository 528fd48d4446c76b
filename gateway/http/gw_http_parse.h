/*
 * gateway/http/gw_http_parse.h — pure parsers for the untrusted parts of an
 * HTTP request: the request target (path and query), the router, and the
 * headers the gateway reads (Accept, Content-Type, Prefer,
 * X-Purpose-Of-Use, Authorization).
 *
 * No I/O, no globals, no logging: bytes plus limits in, a model or a
 * struct base_err out.  Error messages say where (segment, parameter,
 * byte), never the value.  Each has a fuzz target (test/fuzz/fuzz_route.c,
 * test/fuzz/fuzz_http_headers.c).
 */
#ifndef GATEWAY_HTTP_GW_HTTP_PARSE_H
#define GATEWAY_HTTP_GW_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"
#include "gateway/http/gw_http.h"

struct base_arena;

/* ----------------------------------------------------- request target -- */

struct gw_http_target_limits {
    size_t max_url;       /* bytes of the whole target */
    size_t max_segments;  /* path segments */
    size_t max_params;    /* query parameters */
    size_t max_param_len; /* bytes of one raw "name=value" */
};

struct gw_http_target {
    struct base_str path;          /* raw path, starts with '/' */
    struct base_str query;         /* raw query without '?' (empty if none) */
    struct base_str *segments;     /* decoded, NUL-terminated; a trailing '/' adds none */
    size_t segment_count;
    struct gw_http_param *params;  /* in order; empty "&&" pieces skipped */
    size_t param_count;
};

/*
 * Parse an origin-form (RFC 9112 3.2.1) or absolute-form (3.2.2; scheme and
 * authority are skipped) request target.  Path segments are
 * percent-decoded; query names and values are decoded with '+' as space
 * (HTML form encoding, what FHIR clients send).  Raw UTF-8 (an IRI, RFC
 * 3987: what curl sends for `?name=张三`) is taken as its %XX form, and the
 * spans (query, raw names and values) then point into that ASCII copy.
 * Refused with BASE_E_PARSE: no leading '/', a control, space or '#' byte,
 * non-ASCII bytes that are not UTF-8, a bad %-escape, a decoded NUL,
 * decoded bytes that are not UTF-8.  BASE_E_LIMIT
 * (issue "too-long"): a limit of `lim` exceeded.  All output in `a`.
 */
BASE_MUST_CHECK int gw_http_target_parse(struct base_arena *a, const char *target, size_t len,
                                         const struct gw_http_target_limits *lim,
                                         struct gw_http_target *out, struct base_err *err);

/* ------------------------------------------------------------- router -- */

struct gw_http_router;

struct gw_http_match {
    const struct gw_http_route *route; /* NULL: no route for this method */
    size_t index;                      /* of the route in the table */
    struct base_str params[8];         /* `{name}` values in pattern order */
    struct base_str param_names[8];   /* slices of the pattern */
    size_t param_count;
    size_t star_first;                 /* first segment matched by '*' */
    size_t star_count;
    char allow[64];                    /* when no route: the methods that would match ("GET, HEAD") */
};

/* Compile a route table (patterns checked: segments, braces, '*' last, at
 * most 8 parameters, known method).  BASE_E_INVALID names the route. */
BASE_MUST_CHECK int gw_http_router_new(struct base_arena *a, const struct gw_http_route *routes,
                                       size_t count, struct gw_http_router **out,
                                       struct base_err *err);

/* Match decoded segments.  Returns true and fills `m` when a route of this
 * method matches; false otherwise, with m->allow listing the methods of
 * routes that match the path (empty: 404, else 405). */
bool gw_http_router_match(const struct gw_http_router *rt, const char *method,
                          const struct base_str *segments, size_t count, struct gw_http_match *m);

/* ------------------------------------------------------------ headers -- */

struct gw_http_media_type {
    struct base_str type;         /* lower-cased copy not made: compare case-insensitively */
    struct base_str subtype;
    struct base_str charset;      /* parameter value, unquoted; empty when absent */
    struct base_str fhir_version; /* parameter value; empty when absent */
    double q;                     /* Accept weight 0..1 (1 when absent) */
};

/* One media type (Content-Type): type "/" subtype *( OWS ";" OWS token "="
 * ( token / quoted-string ) ) (RFC 9110 8.3.1).  BASE_E_PARSE when malformed. */
BASE_MUST_CHECK int gw_http_media_type_parse(struct base_str s, struct gw_http_media_type *out,
                                             struct base_err *err);

/*
 * Choose the response format.  `format` is the `_format` parameter (NULL
 * when absent), which wins over `accept` (the Accept header, NULL when
 * absent).  JSON is the default (no Accept, an Accept that does not
 * parse, or one whose best match is a wildcard).  BASE_E_INVALID (issue
 * "not-supported", answered with 406) when `_format` is unknown, when only
 * XML is acceptable and `xml_available` is false, when every acceptable
 * type demands another fhirVersion than 4.0, or when Accept names only
 * types we cannot produce (text/html, application/pdf) or refuses ours
 * with q=0.  Media ranges past the 32nd are ignored.
 */
BASE_MUST_CHECK int gw_http_negotiate(const struct base_str *format, const struct base_str *accept,
                                      bool xml_available, enum gw_http_format *out,
                                      struct base_err *err);

/* The format of a request body from its Content-Type: FHIR/plain JSON, or
 * FHIR/plain XML when `xml_available`; charset, when given, must be UTF-8.
 * BASE_E_INVALID with issue "not-supported" (answered with 415) otherwise. */
BASE_MUST_CHECK int gw_http_body_format(struct base_str content_type, bool xml_available,
                                        enum gw_http_format *out, struct base_err *err);

enum gw_http_prefer_return {
    GW_HTTP_RETURN_DEFAULT,
    GW_HTTP_RETURN_MINIMAL,
    GW_HTTP_RETURN_REPRESENTATION,
    GW_HTTP_RETURN_OUTCOME
};

enum gw_http_prefer_handling {
    GW_HTTP_HANDLING_DEFAULT,
    GW_HTTP_HANDLING_STRICT,
    GW_HTTP_HANDLING_LENIENT
};

struct gw_http_prefer {
    enum gw_http_prefer_return ret;
    enum gw_http_prefer_handling handling;
    bool respond_async;
};

/* Prefer (RFC 7240): preferences the gateway knows are recorded, unknown
 * ones and unknown values ignored (RFC 7240 2).  BASE_E_PARSE when the
 * header is not a list of preferences. */
BASE_MUST_CHECK int gw_http_prefer_parse(struct base_str s, struct gw_http_prefer *out,
                                         struct base_err *err);

/*
 * X-Purpose-Of-Use: a v3 PurposeOfUse code ("TREAT", "ETREAT", …),
 * optionally "system|code".  The code is 1..64 of [A-Za-z0-9._-], the
 * system 1..256 URI characters.  out_system is empty when absent.
 */
BASE_MUST_CHECK int gw_http_purpose_parse(struct base_str s, struct base_str *out_system,
                                          struct base_str *out_code, struct base_err *err);

struct gw_http_authorization {
    struct base_str scheme;      /* as sent; compare case-insensitively */
    struct base_str credentials; /* token68 (RFC 9110 11.2), without surrounding space */
};

/* Authorization framing: auth-scheme 1*SP token68, nothing else.
 * BASE_E_PARSE when malformed, BASE_E_LIMIT (issue "too-long") beyond
 * `max_len` bytes. */
BASE_MUST_CHECK int gw_http_authorization_parse(struct base_str s, size_t max_len,
                                                struct gw_http_authorization *out,
                                                struct base_err *err);

/* "Bearer <token>" (RFC 6750 2.1): the token, or BASE_E_AUTH (issue
 * "login") when the header is absent, not Bearer, or malformed. */
BASE_MUST_CHECK int gw_http_bearer_token(const char *header, size_t max_len,
                                         struct base_str *out, struct base_err *err);

/*
 * CORS preflight: Access-Control-Request-Headers (`want`, may be NULL) as
 * the ", "-joined list to allow, into `out` (cap bytes, NUL-terminated).
 * BASE_E_AUTH when a name is not one a FHIR client sends (gateway/http/
 * cors.c), BASE_E_LIMIT when the list does not fit.
 */
BASE_MUST_CHECK int gw_http_cors_request_headers(const char *want, char *out, size_t cap,
                                                 struct base_err *err);

/* ------------------------------------------------------- base URL -- */

/* What gw_http_req_base_url() reads from a request (header values, NULL
 * when absent). */
struct gw_http_base_in {
    bool tls;              /* the connection's scheme: https, else http */
    bool trust_forwarded;  /* [http] trust_forwarded */
    const char *host;      /* Host */
    const char *forwarded; /* Forwarded (RFC 7239) */
    const char *x_host;    /* X-Forwarded-Host */
    const char *x_proto;   /* X-Forwarded-Proto */
    const char *x_prefix;  /* X-Forwarded-Prefix */
};

/*
 * The base URL for links: scheme "://" authority [prefix] and the path of
 * `configured` ("https://gw.example/fhir" -> "/fhir"); the forwarded
 * headers count only with trust_forwarded.  `configured` itself when the
 * authority (a reg-name or IPv4 of unreserved characters, or a bracketed
 * IPv6 literal; an optional port of 1-5 digits; at most 255 bytes), the
 * proto (http or https) or the prefix ('/' and unreserved characters, no
 * "//", at most 256 bytes) is malformed, or the arena is exhausted.
 */
const char *gw_http_base_url(struct base_arena *a, const struct gw_http_base_in *in,
                             const char *configured);

/* ------------------------------------------------ conditional GET -- */

/* IMF-fixdate (RFC 9110 5.6.7), independent of the locale; cap >= 30. */
void gw_http_date_format(time_t t, char *out, size_t cap);
/* Parse an IMF-fixdate; false for anything else (the header is then
 * ignored, RFC 9110 13.1.3). */
bool gw_http_date_parse(const char *s, time_t *out);
/* If-None-Match `inm` ("*" or a list of entity tags) against our `etag`,
 * by weak comparison (RFC 9110 13.1.2: a GET ignores W/). */
bool gw_http_etag_matches(const char *inm, const char *etag);

#endif /* GATEWAY_HTTP_GW_HTTP_PARSE_H */
