/*
 * Redirect URIs of public app clients: what may be registered, how a
 * presented one is matched, and how the answer is appended to it.
 * Pure functions.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"

/* An absolute http(s) URI split at its authority. */
struct uri_parts {
    bool is_https;
    struct base_str host; /* as written, brackets included for IPv6 */
    struct base_str port; /* digits, or empty */
    const char *rest;     /* path, query: everything after the authority */
};

/* RFC 3986 §2: unreserved, reserved and '%'; '#' is excluded because a
 * redirect URI must not carry a fragment (RFC 6749 §3.1.2). */
static bool
uri_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~:/?[]@!$&'()*+,;=%", c) != NULL);
}

static bool
host_char(char c, bool in_brackets)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || (in_brackets && c == ':');
}

/* Split `uri`; false when it is not an absolute http(s) URI we accept. */
static bool
split(const char *uri, struct uri_parts *out)
{
    const char *p;
    const char *h;

    memset(out, 0, sizeof(*out));
    if (strncmp(uri, "https://", 8) == 0) {
        out->is_https = true;
        p = uri + 8;
    } else if (strncmp(uri, "http://", 7) == 0) {
        p = uri + 7;
    } else {
        return false;
    }
    h = p;
    if (*p == '[') {
        for (p++; *p != ']'; p++) {
            if (!host_char(*p, true))
                return false;
        }
        p++;
    } else {
        while (host_char(*p, false))
            p++;
    }
    out->host = (struct base_str){h, (size_t)(p - h)};
    if (out->host.len == 0 || out->host.len == 2)
        return false;
    if (*p == ':') {
        const char *d = ++p;

        while (*p >= '0' && *p <= '9')
            p++;
        out->port = (struct base_str){d, (size_t)(p - d)};
        if (out->port.len == 0 || out->port.len > 5)
            return false;
    }
    /* Anything else in the authority ('@' user info, '%' escapes) ends it badly. */
    if (*p != '\0' && *p != '/' && *p != '?')
        return false;
    out->rest = p;
    return true;
}

static bool
is_loopback(struct base_str host)
{
    return base_str_eq_cstr(host, "127.0.0.1") || base_str_eq_cstr(host, "[::1]") ||
           base_str_eq_cstr(host, "localhost");
}

int
gw_auth_redirect_uri_check(const char *uri, struct base_err *err)
{
    struct uri_parts u;
    size_t len = uri != NULL ? strlen(uri) : 0;

    ENSURE(len > 0 && len <= BASE_LIMIT_AUTH_MAX_REDIRECT_URI, err, BASE_E_INVALID, "value",
           "redirect_uri", "a redirect URI has 1-%u bytes", BASE_LIMIT_AUTH_MAX_REDIRECT_URI);
    for (size_t i = 0; i < len; i++) {
        ENSURE(uri_char(uri[i]), err, BASE_E_INVALID, "value", "redirect_uri",
               "a redirect URI may not contain a fragment, spaces or characters outside RFC 3986");
    }
    ENSURE(split(uri, &u), err, BASE_E_INVALID, "value", "redirect_uri",
           "a redirect URI must be an absolute https:// (or loopback http://) URI with a host "
           "and no user info");
    ENSURE(u.is_https || is_loopback(u.host), err, BASE_E_INVALID, "value", "redirect_uri",
           "http:// redirect URIs must point to 127.0.0.1, [::1] or localhost (RFC 8252)");
    return BASE_OK;
}

bool
gw_auth_redirect_uri_matches(const char *registered, const char *presented)
{
    struct uri_parts r;
    struct uri_parts p;

    if (registered == NULL || presented == NULL)
        return false;
    if (strcmp(registered, presented) == 0)
        return true;
    /* RFC 8252 §7.3: a native app listens on an ephemeral loopback port,
     * so only the port may differ, and only for loopback http. */
    if (!split(registered, &r) || r.is_https || !is_loopback(r.host) ||
        gw_auth_redirect_uri_check(presented, &(struct base_err){0}) != BASE_OK ||
        !split(presented, &p) || p.is_https)
        return false;
    return base_str_eq(r.host, p.host) && strcmp(r.rest, p.rest) == 0;
}

char *
gw_auth_redirect_origin(struct base_arena *a, const char *uri)
{
    struct uri_parts u;

    if (uri == NULL || !split(uri, &u))
        return NULL;
    return base_arena_strndup(a, uri, (size_t)(u.rest - uri));
}

static int
append_encoded(struct base_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            TRY(base_buf_putc(b, (char)*p));
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            TRY(base_buf_append(b, esc, 3));
        }
    }
    return BASE_OK;
}

char *
gw_auth_redirect_build(struct base_arena *a, const char *uri, const char *const *pairs)
{
    struct base_buf b;
    char sep = strchr(uri, '?') != NULL ? '&' : '?';
    char *out = NULL;
    int rc;

    base_buf_init(&b, BASE_LIMIT_AUTH_MAX_REDIRECT_URI * 8);
    rc = base_buf_append_cstr(&b, uri);
    /* A registered URI ending in '?' (or '&') already has its separator. */
    if (b.len > 0 && (b.data[b.len - 1] == '?' || b.data[b.len - 1] == '&'))
        sep = '\0';
    for (size_t i = 0; rc == BASE_OK && pairs[i] != NULL; i += 2) {
        if (pairs[i + 1] == NULL)
            continue;
        if (sep != '\0')
            rc = base_buf_putc(&b, sep);
        if (rc == BASE_OK)
            rc = append_encoded(&b, pairs[i]);
        if (rc == BASE_OK)
            rc = base_buf_putc(&b, '=');
        if (rc == BASE_OK)
            rc = append_encoded(&b, pairs[i + 1]);
        sep = '&';
    }
    if (rc == BASE_OK)
        out = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return out;
}
