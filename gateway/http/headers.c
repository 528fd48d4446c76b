/*
 * The request headers the gateway reads: media types (RFC 9110 8.3.1),
 * Accept and FHIR's _format (RFC 9110 12.5.1, FHIR R4 http.html#mime-type),
 * Prefer (RFC 7240), X-Purpose-Of-Use, Authorization (RFC 9110 11.6.2,
 * RFC 6750 2.1).
 */
#include "gateway/http/gw_http_parse.h"

#include <string.h>

#include "fhir/base/rd.h"

#define MAX_RANGES 32 /* Accept media ranges looked at; the rest are ignored */

/* RFC 9110 5.6.2 tchar */
static bool
is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void
skip_ows(struct base_rd *rd)
{
    char c;

    while (base_rd_peek(rd, &c) && (c == ' ' || c == '\t'))
        (void)base_rd_skip(rd, 1);
}

static struct base_str
take_token(struct base_rd *rd)
{
    size_t start = rd->off;
    char c;

    while (base_rd_peek(rd, &c) && is_tchar(c))
        (void)base_rd_skip(rd, 1);
    return base_str_make(rd->p + start, rd->off - start);
}

/* quoted-string (RFC 9110 5.6.4); returns the content with the quotes but
 * escapes kept — callers only compare simple values. */
static bool
take_quoted(struct base_rd *rd, struct base_str *out)
{
    size_t start;
    char c;

    if (!base_rd_peek(rd, &c) || c != '"')
        return false;
    (void)base_rd_skip(rd, 1);
    start = rd->off;
    while (base_rd_getc(rd, &c)) {
        if (c == '"') {
            *out = base_str_make(rd->p + start, rd->off - start - 1);
            return true;
        }
        if (c == '\\' && !base_rd_getc(rd, &c))
            return false;
        if ((unsigned char)c < 0x20 && c != '\t')
            return false;
    }
    return false;
}

static bool
take_value(struct base_rd *rd, struct base_str *out)
{
    char c;

    if (base_rd_peek(rd, &c) && c == '"')
        return take_quoted(rd, out);
    *out = take_token(rd);
    return out->len > 0;
}

enum sep {
    SEP_END,   /* the element ends: end of input or ',' (not consumed) */
    SEP_PARAM, /* ';' consumed: a parameter may follow */
    SEP_BAD
};

/* After an element or parameter: OWS, then ',' / end, or ';'. */
static enum sep
next_sep(struct base_rd *rd)
{
    char c;

    skip_ows(rd);
    if (!base_rd_peek(rd, &c) || c == ',')
        return SEP_END;
    if (c != ';')
        return SEP_BAD;
    (void)base_rd_skip(rd, 1);
    skip_ows(rd);
    return SEP_PARAM;
}

static int
bad_header(struct base_err *err, const char *header)
{
    return base_err_set(err, BASE_E_PARSE, "structure", header, "malformed %s header", header);
}

/* RFC 9110 12.4.2 weight: 0[.ddd] or 1[.000] */
static bool
parse_q(struct base_str v, double *out)
{
    double frac = 0;
    double scale = 0.1;

    if (v.len == 0 || v.len > 5 || (v.ptr[0] != '0' && v.ptr[0] != '1'))
        return false;
    if (v.len > 1 && v.ptr[1] != '.')
        return false;
    for (size_t i = 2; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return false;
        frac += (v.ptr[i] - '0') * scale;
        scale /= 10;
    }
    if (v.ptr[0] == '1' && frac > 0)
        return false;
    *out = (v.ptr[0] == '1') ? 1.0 : frac;
    return true;
}

/* One media type or range, up to ',' or the end. */
static bool
parse_media(struct base_rd *rd, struct gw_http_media_type *mt)
{
    char c;

    memset(mt, 0, sizeof(*mt));
    mt->q = 1.0;
    skip_ows(rd);
    mt->type = take_token(rd);
    if (mt->type.len == 0 || !base_rd_getc(rd, &c) || c != '/')
        return false;
    mt->subtype = take_token(rd);
    if (mt->subtype.len == 0)
        return false;
    for (;;) {
        struct base_str name;
        struct base_str value;
        enum sep sp = next_sep(rd);

        if (sp != SEP_PARAM)
            return sp == SEP_END;
        if (!base_rd_peek(rd, &c) || c == ',' || c == ';')
            continue; /* an empty parameter, as some clients send */
        name = take_token(rd);
        if (name.len == 0 || !base_rd_getc(rd, &c) || c != '=' || !take_value(rd, &value))
            return false;
        if (base_str_case_eq_cstr(name, "charset"))
            mt->charset = value;
        else if (base_str_case_eq_cstr(name, "fhirVersion"))
            mt->fhir_version = value;
        else if (base_str_case_eq_cstr(name, "q") && !parse_q(value, &mt->q))
            return false;
    }
}

int
gw_http_media_type_parse(struct base_str s, struct gw_http_media_type *out, struct base_err *err)
{
    struct base_rd rd;

    base_rd_init(&rd, s.ptr, s.len);
    if (!parse_media(&rd, out) || !base_rd_empty(&rd))
        return bad_header(err, "Content-Type");
    return BASE_OK;
}

/* ------------------------------------------------------- negotiation -- */

struct candidate {
    const char *type;
    const char *subtype;
    enum gw_http_format fmt;
};

static const struct candidate candidates[] = {
    {"application", "fhir+json", GW_HTTP_FORMAT_JSON}, {"application", "json", GW_HTTP_FORMAT_JSON},
    {"application", "json+fhir", GW_HTTP_FORMAT_JSON}, {"text", "json", GW_HTTP_FORMAT_JSON},
    {"application", "fhir+xml", GW_HTTP_FORMAT_XML},   {"application", "xml", GW_HTTP_FORMAT_XML},
    {"application", "xml+fhir", GW_HTTP_FORMAT_XML},   {"text", "xml", GW_HTTP_FORMAT_XML},
};

static bool
version_ok(struct base_str v)
{
    return v.len == 0 || base_str_eq_cstr(v, "4.0") || base_str_starts_with(v, "4.0.");
}

/* Specificity of `range` for `c`: 3 exact, 2 type/ *, 1 * / *, 0 none. */
static int
specificity(const struct gw_http_media_type *range, const struct candidate *c)
{
    bool any_type = base_str_eq_cstr(range->type, "*");
    bool any_sub = base_str_eq_cstr(range->subtype, "*");

    if (any_type)
        return any_sub ? 1 : 0;
    if (!base_str_case_eq_cstr(range->type, c->type))
        return 0;
    if (any_sub)
        return 2;
    return base_str_case_eq_cstr(range->subtype, c->subtype) ? 3 : 0;
}

struct accept_result {
    double q[2];         /* best weight per format, -1 when no range applies */
    bool version_refused; /* a range applied but demanded another FHIR version */
};

static void
score(const struct gw_http_media_type *ranges, size_t n, struct accept_result *res)
{
    res->q[0] = res->q[1] = -1;
    res->version_refused = false;
    for (size_t c = 0; c < BASE_ARRAY_LEN(candidates); c++) {
        int best = 0;
        double q = -1;

        for (size_t i = 0; i < n; i++) {
            int sp = specificity(&ranges[i], &candidates[c]);

            if (sp == 0)
                continue;
            if (!version_ok(ranges[i].fhir_version)) {
                res->version_refused = true;
                continue;
            }
            /* RFC 9110 12.5.1: the most specific range decides */
            if (sp > best || (sp == best && ranges[i].q > q)) {
                best = sp;
                q = ranges[i].q;
            }
        }
        if (q > res->q[candidates[c].fmt])
            res->q[candidates[c].fmt] = q;
    }
}

static size_t
parse_accept(struct base_str accept, struct gw_http_media_type *ranges)
{
    struct base_rd rd;
    size_t n = 0;
    char c;

    base_rd_init(&rd, accept.ptr, accept.len);
    while (!base_rd_empty(&rd) && n < MAX_RANGES) {
        skip_ows(&rd);
        if (base_rd_peek(&rd, &c) && c == ',') {
            (void)base_rd_skip(&rd, 1);
            continue;
        }
        if (!parse_media(&rd, &ranges[n]))
            return 0; /* malformed: treated as absent */
        n++;
    }
    return n;
}

static int
not_acceptable(struct base_err *err, const char *where, const char *msg)
{
    return base_err_set(err, BASE_E_INVALID, "not-supported", where, "%s", msg);
}

static int
negotiate_format_param(struct base_str f, bool xml_available, enum gw_http_format *out,
                       struct base_err *err)
{
    /* R4 http.html#mime, and the DSTU2 types clients still send (as Accept
     * takes them); a '+' left unencoded in a query arrives as a space */
    static const char *const json[] = {"json",
                                       "application/json",
                                       "text/json",
                                       "application/fhir+json",
                                       "application/fhir json",
                                       "application/json+fhir",
                                       "application/json fhir"};
    static const char *const xml[] = {"xml",
                                      "text/xml",
                                      "application/xml",
                                      "application/fhir+xml",
                                      "application/fhir xml",
                                      "application/xml+fhir",
                                      "application/xml fhir"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(json); i++) {
        if (base_str_case_eq_cstr(f, json[i])) {
            *out = GW_HTTP_FORMAT_JSON;
            return BASE_OK;
        }
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(xml); i++) {
        if (!base_str_case_eq_cstr(f, xml[i]))
            continue;
        if (!xml_available)
            return not_acceptable(err, "_format", "XML responses are not available");
        *out = GW_HTTP_FORMAT_XML;
        return BASE_OK;
    }
    return not_acceptable(err, "_format", "unsupported _format");
}

int
gw_http_negotiate(const struct base_str *format, const struct base_str *accept,
                  bool xml_available, enum gw_http_format *out, struct base_err *err)
{
    struct gw_http_media_type ranges[MAX_RANGES];
    struct accept_result res;
    size_t n;

    *out = GW_HTTP_FORMAT_JSON;
    if (format != NULL)
        return negotiate_format_param(*format, xml_available, out, err);
    if (accept == NULL || (n = parse_accept(*accept, ranges)) == 0)
        return BASE_OK;
    score(ranges, n, &res);
    if (res.q[GW_HTTP_FORMAT_XML] > 0 && res.q[GW_HTTP_FORMAT_XML] > res.q[GW_HTTP_FORMAT_JSON]) {
        if (xml_available) {
            *out = GW_HTTP_FORMAT_XML;
            return BASE_OK;
        }
        if (res.q[GW_HTTP_FORMAT_JSON] > 0)
            return BASE_OK;
        return not_acceptable(err, "Accept", "only XML is acceptable and XML is not available");
    }
    if (res.q[GW_HTTP_FORMAT_JSON] > 0)
        return BASE_OK;
    if (res.version_refused)
        return not_acceptable(err, "Accept", "only FHIR version 4.0 is available");
    /* Every range refused (q=0) or named only types we cannot produce
     * (text/html, application/pdf): 406 (RFC 9110 15.5.7), which FHIR
     * clients and test kits expect rather than a representation they did
     * not ask for.  A browser's Accept ends with * / * and gets JSON. */
    return not_acceptable(err, "Accept", "no acceptable representation");
}

int
gw_http_body_format(struct base_str content_type, bool xml_available, enum gw_http_format *out,
                    struct base_err *err)
{
    struct gw_http_media_type mt;
    struct base_err perr = {0};

    if (gw_http_media_type_parse(content_type, &mt, &perr) != BASE_OK)
        return not_acceptable(err, "Content-Type", "malformed Content-Type");
    if (mt.charset.len > 0 && !base_str_case_eq_cstr(mt.charset, "utf-8"))
        return not_acceptable(err, "Content-Type", "request body must be UTF-8");
    for (size_t c = 0; c < BASE_ARRAY_LEN(candidates); c++) {
        if (!base_str_case_eq_cstr(mt.type, candidates[c].type) ||
            !base_str_case_eq_cstr(mt.subtype, candidates[c].subtype))
            continue;
        if (!version_ok(mt.fhir_version))
            return not_acceptable(err, "Content-Type", "only FHIR version 4.0 is accepted");
        if (candidates[c].fmt == GW_HTTP_FORMAT_XML && !xml_available)
            break;
        *out = candidates[c].fmt;
        return BASE_OK;
    }
    return not_acceptable(err, "Content-Type", "unsupported request body media type");
}

/* ------------------------------------------------------------ Prefer -- */

static void
record_preference(struct gw_http_prefer *p, struct base_str name, struct base_str value)
{
    if (base_str_case_eq_cstr(name, "return")) {
        if (base_str_eq_cstr(value, "minimal"))
            p->ret = GW_HTTP_RETURN_MINIMAL;
        else if (base_str_eq_cstr(value, "representation"))
            p->ret = GW_HTTP_RETURN_REPRESENTATION;
        else if (base_str_eq_cstr(value, "OperationOutcome"))
            p->ret = GW_HTTP_RETURN_OUTCOME;
    } else if (base_str_case_eq_cstr(name, "handling")) {
        if (base_str_case_eq_cstr(value, "strict"))
            p->handling = GW_HTTP_HANDLING_STRICT;
        else if (base_str_case_eq_cstr(value, "lenient"))
            p->handling = GW_HTTP_HANDLING_LENIENT;
    } else if (base_str_case_eq_cstr(name, "respond-async")) {
        p->respond_async = true;
    }
}

/* token [ BWS "=" BWS word ] *( OWS ";" [ OWS token [ BWS "=" BWS word ] ] ) */
static bool
parse_preference(struct base_rd *rd, struct gw_http_prefer *p)
{
    struct base_str name = take_token(rd);
    struct base_str value = BASE_STR_NULL;
    bool first = true;
    enum sep sp;
    char c;

    if (name.len == 0)
        return false;
    for (;;) {
        skip_ows(rd);
        if (base_rd_peek(rd, &c) && c == '=') {
            (void)base_rd_skip(rd, 1);
            skip_ows(rd);
            if (!take_value(rd, &value))
                return false;
            skip_ows(rd);
        }
        if (first)
            record_preference(p, name, value);
        first = false;
        sp = next_sep(rd);
        if (sp != SEP_PARAM)
            return sp == SEP_END;
        name = take_token(rd);
        if (name.len == 0 && base_rd_peek(rd, &c) && c != ',' && c != ';')
            return false;
    }
}

int
gw_http_prefer_parse(struct base_str s, struct gw_http_prefer *out, struct base_err *err)
{
    struct base_rd rd;
    char c;

    memset(out, 0, sizeof(*out));
    base_rd_init(&rd, s.ptr, s.len);
    for (;;) {
        skip_ows(&rd);
        if (!base_rd_peek(&rd, &c))
            return BASE_OK;
        if (c == ',') {
            (void)base_rd_skip(&rd, 1);
            continue;
        }
        if (!parse_preference(&rd, out))
            return bad_header(err, "Prefer");
    }
}

/* --------------------------------------------------- purpose of use -- */

static bool
code_ok(struct base_str s)
{
    if (s.len == 0 || s.len > 64)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool
system_ok(struct base_str s)
{
    if (s.len == 0 || s.len > 256)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];

        if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{}|", (int)c) != NULL)
            return false;
    }
    return true;
}

int
gw_http_purpose_parse(struct base_str s, struct base_str *out_system, struct base_str *out_code,
                      struct base_err *err)
{
    struct base_str sys;
    struct base_str code;

    s = base_str_trim(s);
    if (base_str_cut(s, '|', &sys, &code)) {
        if (!system_ok(sys))
            return bad_header(err, "X-Purpose-Of-Use");
    } else {
        code = s;
        sys = BASE_STR_NULL;
    }
    if (!code_ok(code))
        return bad_header(err, "X-Purpose-Of-Use");
    *out_system = sys;
    *out_code = code;
    return BASE_OK;
}

/* ----------------------------------------------------- Authorization -- */

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool
token68_ok(struct base_str t)
{
    size_t i = 0;

    while (i < t.len) {
        char c = t.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-._~+/", c) != NULL) ||
            c == '\0')
            break;
        i++;
    }
    if (i == 0)
        return false;
    while (i < t.len && t.ptr[i] == '=')
        i++;
    return i == t.len;
}

int
gw_http_authorization_parse(struct base_str s, size_t max_len, struct gw_http_authorization *out,
                            struct base_err *err)
{
    struct base_rd rd;
    size_t start;
    char c;

    memset(out, 0, sizeof(*out));
    if (s.len > max_len)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "Authorization",
                            "Authorization header longer than %zu bytes", max_len);
    s = base_str_trim(s);
    base_rd_init(&rd, s.ptr, s.len);
    out->scheme = take_token(&rd);
    if (out->scheme.len == 0 || !base_rd_peek(&rd, &c) || c != ' ')
        return bad_header(err, "Authorization");
    while (base_rd_peek(&rd, &c) && c == ' ')
        (void)base_rd_skip(&rd, 1);
    start = rd.off;
    out->credentials = base_str_make(rd.p + start, rd.len - start);
    if (!token68_ok(out->credentials))
        return bad_header(err, "Authorization");
    return BASE_OK;
}

int
gw_http_bearer_token(const char *header, size_t max_len, struct base_str *out,
                     struct base_err *err)
{
    struct gw_http_authorization az;
    struct base_err perr = {0};

    *out = BASE_STR_NULL;
    if (header == NULL)
        return base_err_set(err, BASE_E_AUTH, "login", "Authorization", "bearer token required");
    if (gw_http_authorization_parse(base_str_from_cstr(header), max_len, &az, &perr) != BASE_OK)
        return base_err_set(err, BASE_E_AUTH, "login", "Authorization",
                            "malformed Authorization header");
    if (!base_str_case_eq_cstr(az.scheme, "Bearer"))
        return base_err_set(err, BASE_E_AUTH, "login", "Authorization",
                            "Authorization scheme must be Bearer");
    *out = az.credentials;
    return BASE_OK;
}
