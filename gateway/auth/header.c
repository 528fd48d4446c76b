/*
 * The Authorization request header (RFC 7235 §4.2): Bearer tokens
 * (RFC 6750 §2.1) and Basic credentials (RFC 7617), and what a failed
 * check turns into on the wire (status and WWW-Authenticate, RFC 6750 §3).
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/auth_int.h"

#define WHERE_HEADER "Authorization"
#define MSG_MISSING  "request has no access token"
#define MSG_SCHEME   "authorization scheme is not supported"
#define MSG_NOBEARER "authorization scheme must be Bearer"

static bool
is_sp(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool
b64token_ok(struct base_str t)
{
    size_t i = 0;

    for (; i < t.len; i++) {
        char c = t.ptr[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'))
            break;
    }
    if (i == 0)
        return false;
    while (i < t.len && t.ptr[i] == '=')
        i++;
    return i == t.len;
}

static int
parse_basic(struct base_arena *a, struct base_str cred, struct gw_auth_credentials *out,
            struct base_err *err)
{
    size_t cap = gw_auth__b64_decoded_cap(cred.len);
    unsigned char *raw = base_arena_alloc(a, cap);
    char *plain;
    size_t n = 0;
    long colon;

    ENSURE(raw != NULL, err, BASE_E_NOMEM, "exception", WHERE_HEADER, "out of memory");
    ENSURE(gw_auth__b64_decode(GW_AUTH__B64_PAD, cred.ptr, cred.len, raw, &n), err, BASE_E_AUTH,
           "login", WHERE_HEADER, "basic credentials are not valid base64");
    plain = gw_auth__secret_dup(a, (const char *)raw, n);
    memset(raw, 0, cap);
    ENSURE(plain != NULL, err, BASE_E_NOMEM, "exception", WHERE_HEADER, "out of memory");
    ENSURE(base_utf8_valid(plain, n, NULL), err, BASE_E_AUTH, "login", WHERE_HEADER,
           "basic credentials are not UTF-8");
    /* RFC 7617 §2: no control characters in user-id or password. */
    for (size_t i = 0; i < n; i++) {
        ENSURE((unsigned char)plain[i] >= 0x20 && plain[i] != 0x7f, err, BASE_E_AUTH, "login",
               WHERE_HEADER, "basic credentials contain control characters");
    }
    colon = base_str_find_chr(base_str_make(plain, n), ':', 0);
    ENSURE(colon > 0, err, BASE_E_AUTH, "login", WHERE_HEADER,
           "basic credentials need a user-id and a password");
    out->user = base_arena_strndup(a, plain, (size_t)colon);
    out->password = plain + colon + 1;
    ENSURE(out->user != NULL, err, BASE_E_NOMEM, "exception", WHERE_HEADER, "out of memory");
    return BASE_OK;
}

int
gw_auth_header_parse(struct base_arena *a, const char *value, size_t len,
                     struct gw_auth_credentials *out, struct base_err *err)
{
    struct base_str v = base_str_make(value, len);
    size_t i = 0;
    struct base_str scheme;
    struct base_str cred;

    memset(out, 0, sizeof(*out));
    ENSURE(len <= BASE_LIMIT_AUTH_MAX_HEADER, err, BASE_E_AUTH, "login", WHERE_HEADER,
           "authorization header exceeds %u bytes", BASE_LIMIT_AUTH_MAX_HEADER);
    v = base_str_trim(v);
    ENSURE(v.len > 0, err, BASE_E_AUTH, "login", WHERE_HEADER, MSG_MISSING);
    while (i < v.len && !is_sp(v.ptr[i]))
        i++;
    scheme = base_str_make(v.ptr, i);
    while (i < v.len && is_sp(v.ptr[i]))
        i++;
    cred = base_str_sub(v, i, v.len - i);
    if (base_str_case_eq_cstr(scheme, "Bearer"))
        out->scheme = GW_AUTH_SCHEME_BEARER;
    else if (base_str_case_eq_cstr(scheme, "Basic"))
        out->scheme = GW_AUTH_SCHEME_BASIC;
    ENSURE(out->scheme != 0, err, BASE_E_AUTH, "login", WHERE_HEADER, MSG_SCHEME);
    ENSURE(cred.len > 0, err, BASE_E_AUTH, "login", WHERE_HEADER,
           "authorization header has no credentials");
    ENSURE(b64token_ok(cred), err, BASE_E_AUTH, "login", WHERE_HEADER,
           "authorization credentials are malformed");
    if (out->scheme == GW_AUTH_SCHEME_BASIC)
        return parse_basic(a, cred, out, err);
    out->token = cred;
    return BASE_OK;
}

int
gw_auth_bearer_verify(struct base_arena *a, const struct gw_auth_keyset *ks,
                      const struct gw_auth_token_config *cfg, const char *value, size_t len,
                      int64_t now, struct gw_auth_principal **out, struct base_err *err)
{
    struct gw_auth_credentials cred;

    *out = NULL;
    ENSURE(value != NULL, err, BASE_E_AUTH, "login", WHERE_HEADER, MSG_MISSING);
    TRY(gw_auth_header_parse(a, value, len, &cred, err));
    ENSURE(cred.scheme == GW_AUTH_SCHEME_BEARER, err, BASE_E_AUTH, "login", WHERE_HEADER,
           MSG_NOBEARER);
    return gw_auth_token_verify(a, ks, cfg, cred.token.ptr, cred.token.len, now, out, err);
}

unsigned
gw_auth_http_status(const struct base_err *err)
{
    switch (err->rc) {
    case BASE_OK:
        return 200;
    case BASE_E_AUTH:
        if (strcmp(err->issue_code, "forbidden") == 0)
            return 403;
        if (strcmp(err->issue_code, "throttled") == 0)
            return 429;
        return 401;
    case BASE_E_IO:
        return 503;
    case BASE_E_NOTFOUND:
        return 404;
    case BASE_E_PARSE:
    case BASE_E_INVALID:
    case BASE_E_LIMIT:
        return 400;
    default:
        return 500;
    }
}

/* error_description is a quoted-string: keep it to safe printable ASCII. */
static int
append_quoted(struct base_buf *out, const char *s)
{
    TRY(base_buf_putc(out, '"'));
    for (; *s != '\0'; s++) {
        char c = (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
                     ? ' '
                     : *s;

        TRY(base_buf_putc(out, c));
    }
    return base_buf_putc(out, '"');
}

int
gw_auth_challenge(const struct base_err *err, struct base_buf *out)
{
    const char *code = "invalid_token";

    TRY(base_buf_append_cstr(out, "Bearer realm=\"fhirgate\""));
    /* RFC 6750 §3.1: no error code when the request carried no Bearer
     * credentials at all (none, or another scheme). */
    if (strcmp(err->msg, MSG_MISSING) == 0 || strcmp(err->msg, MSG_SCHEME) == 0 ||
        strcmp(err->msg, MSG_NOBEARER) == 0)
        return BASE_OK;
    if (strcmp(err->issue_code, "forbidden") == 0)
        code = "insufficient_scope";
    TRY(base_buf_appendf(out, ", error=\"%s\", error_description=", code));
    return append_quoted(out, err->msg);
}
