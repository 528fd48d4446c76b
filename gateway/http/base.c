/*
 * The base URL a client used, for the links it will follow as they are
 * (Bundle.link self/next/previous).  A client that reached us as
 * https://localhost:8443/fhir must get next links under that base, not
 * under the name in our configuration, which it may not resolve or whose
 * certificate name may differ (HAPI FHIR's default address strategy does
 * the same: the request's own URL).
 *
 * The authority is the request's Host (RFC 9110 7.2; HTTP/1.1 requires
 * it), the scheme that of the connection.  Behind a proxy that terminates
 * TLS or rewrites the path, `[http] trust_forwarded = true` adopts the
 * proxy's view: Forwarded (RFC 7239: the first element's host= and
 * proto=), else X-Forwarded-Host / X-Forwarded-Proto (first item), and
 * X-Forwarded-Prefix (a path the proxy strips).  Without it those headers
 * are ignored: any client can send them.  Anything malformed falls back to
 * the configured base, so a link is always absolute.
 */
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_int.h"

#define MAX_AUTHORITY 255
#define MAX_PREFIX    256

/* host [":" port]: a reg-name or IPv4 address (unreserved characters
 * only), or an IPv6 literal in brackets (RFC 3986 3.2.2). */
static bool
authority_ok(struct base_str h)
{
    size_t i = 0;

    if (h.len == 0 || h.len > MAX_AUTHORITY)
        return false;
    if (h.ptr[0] == '[') {
        for (i = 1; i < h.len && h.ptr[i] != ']'; i++) {
            char c = h.ptr[i];

            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return false;
        }
        if (i >= h.len || i == 1)
            return false;
        i++;
    } else {
        for (; i < h.len && h.ptr[i] != ':'; i++) {
            char c = h.ptr[i];

            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '.' || c == '-' || c == '_' || c == '~'))
                return false;
        }
        if (i == 0)
            return false;
    }
    if (i == h.len)
        return true;
    if (h.ptr[i] != ':' || h.len - i - 1 < 1 || h.len - i - 1 > 5)
        return false;
    for (i++; i < h.len; i++) {
        if (h.ptr[i] < '0' || h.ptr[i] > '9')
            return false;
    }
    return true;
}

/* "/a/b" of unreserved characters and '/', without a final '/'; "" ok. */
static bool
prefix_ok(struct base_str p)
{
    if (p.len == 0)
        return true;
    if (p.len > MAX_PREFIX || p.ptr[0] != '/')
        return false;
    for (size_t i = 0; i < p.len; i++) {
        char c = p.ptr[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '-' || c == '_' || c == '~' || c == '/'))
            return false;
        if (c == '/' && i + 1 < p.len && p.ptr[i + 1] == '/')
            return false;
    }
    return true;
}

/* The first item of a comma-separated header, trimmed. */
static struct base_str
first_item(const char *v)
{
    struct base_str head;
    struct base_str tail;
    struct base_str s = base_str_from_cstr(v);

    if (base_str_cut(s, ',', &head, &tail))
        s = head;
    return base_str_trim(s);
}

static struct base_str
unquote(struct base_str v)
{
    if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
        return base_str_make(v.ptr + 1, v.len - 2);
    return v;
}

/* RFC 7239 4: the first forwarded-element's host= and proto= (the proxy
 * nearest the client wrote it). */
static void
forwarded(const char *v, struct base_str *host, struct base_str *proto)
{
    struct base_str rest = first_item(v);
    struct base_str pair;

    while (rest.len > 0) {
        struct base_str name;
        struct base_str value;

        (void)base_str_cut(rest, ';', &pair, &rest); /* the last: pair = rest */
        if (!base_str_cut(base_str_trim(pair), '=', &name, &value))
            continue;
        if (base_str_case_eq_cstr(name, "host"))
            *host = unquote(value);
        else if (base_str_case_eq_cstr(name, "proto"))
            *proto = unquote(value);
    }
}

/* The path of `configured` ("https://gw.example/fhir" -> "/fhir"). */
static const char *
configured_path(const char *configured)
{
    const char *p = strstr(configured, "://");

    if (p == NULL)
        return "";
    p = strchr(p + 3, '/');
    return p != NULL ? p : "";
}

const char *
gw_http_base_url(struct base_arena *a, const struct gw_http_base_in *in, const char *configured)
{
    struct base_str host = base_str_from_cstr(in->host);
    struct base_str proto = base_str_from_cstr(in->tls ? "https" : "http");
    struct base_str prefix = BASE_STR_NULL;
    const char *url;

    if (configured == NULL)
        return NULL;
    if (in->trust_forwarded) {
        if (in->forwarded != NULL) {
            forwarded(in->forwarded, &host, &proto);
        } else {
            if (in->x_host != NULL)
                host = first_item(in->x_host);
            if (in->x_proto != NULL)
                proto = first_item(in->x_proto);
        }
        if (in->x_prefix != NULL) {
            prefix = first_item(in->x_prefix);
            while (prefix.len > 0 && prefix.ptr[prefix.len - 1] == '/')
                prefix.len--;
        }
    }
    if (!authority_ok(host) || !prefix_ok(prefix) ||
        !(base_str_case_eq_cstr(proto, "https") || base_str_case_eq_cstr(proto, "http")))
        return configured;
    url = base_arena_sprintf(
        a, "%s://%.*s%.*s%s", base_str_case_eq_cstr(proto, "https") ? "https" : "http",
        (int)host.len, host.ptr, (int)prefix.len, prefix.ptr, configured_path(configured));
    return url != NULL ? url : configured;
}

const char *
gw_http_req_base_url(struct gw_http_req *r, const char *configured)
{
    struct gw_http_base_in in = {
        .tls = r->srv->tls,
        .trust_forwarded = r->srv->cfg->trust_forwarded,
        .host = gw_http_req_header(r, "Host"),
        .forwarded = gw_http_req_header(r, "Forwarded"),
        .x_host = gw_http_req_header(r, "X-Forwarded-Host"),
        .x_proto = gw_http_req_header(r, "X-Forwarded-Proto"),
        .x_prefix = gw_http_req_header(r, "X-Forwarded-Prefix"),
    };

    return gw_http_base_url(r->arena, &in, configured);
}
