/* Request-target parsing (RFC 9112 3.2, RFC 3986 2.1 percent-encoding). */
#include "gateway/http/gw_http_parse.h"

#include <string.h>

#include "fhir/base/arena.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decode %XX (and '+' as space when `plus`) into a NUL-terminated arena
 * copy.  The result must be UTF-8 without NUL, since it becomes a C string
 * and, for FHIR search values, text.
 */
static int
decode(struct base_arena *a, struct base_str raw, bool plus, const char *what, size_t index,
       struct base_str *out, struct base_err *err)
{
    char where[48];
    char *buf;
    size_t n = 0;

    snprintf(where, sizeof(where), "%s %zu", what, index + 1);
    buf = base_arena_alloc(a, raw.len + 1);
    if (buf == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory");
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.ptr[i];

        if (c == '%') {
            if (raw.len - i < 3 || hexval(raw.ptr[i + 1]) < 0 || hexval(raw.ptr[i + 2]) < 0)
                return base_err_set(err, BASE_E_PARSE, "structure", where,
                                    "invalid percent-encoding");
            c = (char)(hexval(raw.ptr[i + 1]) * 16 + hexval(raw.ptr[i + 2]));
            if (c == '\0')
                return base_err_set(err, BASE_E_PARSE, "structure", where,
                                    "encoded NUL is not allowed");
            i += 2;
        } else if (plus && c == '+') {
            c = ' ';
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    if (!base_utf8_valid(buf, n, NULL))
        return base_err_set(err, BASE_E_PARSE, "structure", where, "decoded text is not UTF-8");
    *out = base_str_make(buf, n);
    return BASE_OK;
}

/* RFC 9112 3.2: visible ASCII only; '#' (a fragment) never reaches a server. */
static int
check_bytes(const char *t, size_t len, struct base_err *err)
{
    char where[32];

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];

        if (c > 0x20 && c < 0x7f && c != '#')
            continue;
        snprintf(where, sizeof(where), "byte %zu", i + 1);
        return base_err_set(err, BASE_E_PARSE, "structure", where,
                            "request target contains a character that is not allowed");
    }
    return BASE_OK;
}

/*
 * Raw UTF-8 in a target is an IRI (RFC 3987), not a URI: browsers encode it,
 * but curl and many scripts send `?name=张三` as is.  When the whole target
 * is valid UTF-8, each byte >= 0x80 becomes %XX here, so that everything
 * after (spans, the query string handed on, members' URLs) is plain ASCII;
 * a target that is not UTF-8 is left for check_bytes to refuse.
 */
static int
encode_raw_utf8(struct base_arena *a, const char **target, size_t *len, struct base_err *err)
{
    const unsigned char *t = (const unsigned char *)*target;
    size_t high = 0;
    char *enc;
    size_t n = 0;

    for (size_t i = 0; i < *len; i++)
        high += t[i] >= 0x80;
    if (high == 0 || !base_utf8_valid(*target, *len, NULL))
        return BASE_OK;
    enc = base_arena_alloc(a, *len + 2 * high + 1);
    if (enc == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "url", "out of memory");
    for (size_t i = 0; i < *len; i++) {
        if (t[i] < 0x80) {
            enc[n++] = (char)t[i];
            continue;
        }
        enc[n++] = '%';
        enc[n++] = "0123456789ABCDEF"[t[i] >> 4];
        enc[n++] = "0123456789ABCDEF"[t[i] & 15];
    }
    enc[n] = '\0';
    *target = enc;
    *len = n;
    return BASE_OK;
}

/* absolute-form: skip "scheme://authority"; what follows is the path and
 * query, or only a query ("http://h?x"), or nothing ("http://h"). */
static struct base_str
strip_absolute_form(struct base_str t, bool *absolute)
{
    long colon = base_str_find_chr(t, ':', 0);
    size_t i;

    *absolute = false;
    if (t.len == 0 || t.ptr[0] == '/' || colon <= 0)
        return t;
    if ((size_t)colon + 3 > t.len || t.ptr[colon + 1] != '/' || t.ptr[colon + 2] != '/')
        return t;
    *absolute = true;
    for (i = (size_t)colon + 3; i < t.len && t.ptr[i] != '/' && t.ptr[i] != '?'; i++) {
    }
    return base_str_sub(t, i, t.len - i);
}

static int
split_path(struct base_arena *a, struct base_str path, const struct gw_http_target_limits *lim,
           struct gw_http_target *out, struct base_err *err)
{
    size_t count = 0;
    size_t k = 0;
    size_t start = 1;

    /* count segments first: "/" has none, a trailing '/' adds none */
    for (size_t i = 1; i <= path.len; i++) {
        if (i == path.len || path.ptr[i] == '/') {
            if (!(i == path.len && i == start))
                count++;
            start = i + 1;
        }
    }
    if (count > lim->max_segments)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "path",
                            "path has more than %zu segments", lim->max_segments);
    out->segments = BASE_NEW_N(a, struct base_str, count + 1);
    if (out->segments == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "path", "out of memory");
    start = 1;
    for (size_t i = 1; i <= path.len && k < count; i++) {
        if (i == path.len || path.ptr[i] == '/') {
            TRY(decode(a, base_str_sub(path, start, i - start), false, "path segment", k,
                       &out->segments[k], err));
            k++;
            start = i + 1;
        }
    }
    out->segment_count = count;
    return BASE_OK;
}

static int
split_query(struct base_arena *a, struct base_str q, const struct gw_http_target_limits *lim,
            struct gw_http_target *out, struct base_err *err)
{
    size_t count = 0;
    size_t k = 0;
    size_t start = 0;

    for (size_t i = 0; i <= q.len; i++) {
        if (i == q.len || q.ptr[i] == '&') {
            if (i > start)
                count++;
            if (i - start > lim->max_param_len)
                return base_err_set(err, BASE_E_LIMIT, "too-long", "query",
                                    "query parameter longer than %zu bytes", lim->max_param_len);
            start = i + 1;
        }
    }
    if (count > lim->max_params)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "query",
                            "more than %zu query parameters", lim->max_params);
    out->params = BASE_NEW_N(a, struct gw_http_param, count + 1);
    if (out->params == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "query", "out of memory");
    start = 0;
    for (size_t i = 0; i <= q.len; i++) {
        struct gw_http_param *p;
        struct base_str piece;

        if (!(i == q.len || q.ptr[i] == '&'))
            continue;
        piece = base_str_sub(q, start, i - start);
        start = i + 1;
        if (piece.len == 0)
            continue;
        p = &out->params[k];
        (void)base_str_cut(piece, '=', &p->raw_name, &p->raw_value);
        TRY(decode(a, p->raw_name, true, "query parameter", k, &p->name, err));
        TRY(decode(a, p->raw_value, true, "query parameter", k, &p->value, err));
        k++;
    }
    out->param_count = k;
    return BASE_OK;
}

int
gw_http_target_parse(struct base_arena *a, const char *target, size_t len,
                     const struct gw_http_target_limits *lim, struct gw_http_target *out,
                     struct base_err *err)
{
    struct base_str t = base_str_make(target, len);
    struct base_str path;
    struct base_str query;
    bool absolute;

    memset(out, 0, sizeof(*out));
    if (len > lim->max_url)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "url",
                            "request target longer than %zu bytes", lim->max_url);
    TRY(encode_raw_utf8(a, &target, &len, err));
    t = base_str_make(target, len);
    TRY(check_bytes(target, len, err));
    t = strip_absolute_form(t, &absolute);
    if (absolute && (t.len == 0 || t.ptr[0] == '?')) {
        path = BASE_STR_LIT("/");
        query = t.len > 0 ? base_str_sub(t, 1, t.len - 1) : BASE_STR_NULL;
    } else if (t.len == 0 || t.ptr[0] != '/') {
        return base_err_set(err, BASE_E_PARSE, "structure", "url",
                            "request target must start with '/'");
    } else {
        (void)base_str_cut(t, '?', &path, &query);
    }
    out->path = path;
    out->query = query;
    TRY(split_path(a, path, lim, out, err));
    return split_query(a, query, lim, out, err);
}
