/*
 * Strict RFC 8259 reader that builds jansson trees (see fhir_json.h for
 * the decimal-node convention).  One pass, no copies for strings without
 * escapes, depth bounded by the limits.
 */
#include "fhir/json/fhir_json.h"

#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/json_int.h"

struct pstate {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    struct fhir_json_limits lim;
    size_t depth;
    struct base_buf scratch; /* decoded strings with escapes, number text */
    struct base_err *err;
    bool err_ours; /* err held no error when the parse began */
};

struct fhir_json_limits
fhir_json_limits_default(void)
{
    struct fhir_json_limits l = {
        .max_doc = BASE_LIMIT_FHIR_MAX_DOC,
        .max_depth = BASE_LIMIT_FHIR_MAX_DEPTH,
        .max_string = BASE_LIMIT_FHIR_MAX_STRING,
        .max_array = BASE_LIMIT_FHIR_MAX_ARRAY,
        .max_members = BASE_LIMIT_FHIR_MAX_MEMBERS,
    };

    return l;
}

/* Errors say where (line, column) and why, never what the input held. */
static int
fail_at(struct pstate *ps, const unsigned char *at, int rc, const char *why)
{
    size_t line = 1;
    size_t col = 1;
    char where[64];

    for (const unsigned char *q = ps->start; q < at && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else if ((*q & 0xC0) != 0x80) {
            col++;
        }
    }
    snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
    return base_err_set(ps->err, rc, rc == BASE_E_LIMIT ? "too-costly" : "structure", where,
                        "%s", why);
}

static void
skip_ws(struct pstate *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int parse_value(struct pstate *ps, json_t **out);

static int
hex4(const unsigned char *p, uint32_t *out)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of a valid UTF-8 sequence at p (non-ASCII lead), or 0. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
    size_t bad;
    size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : 2;

    if ((size_t)(end - p) < n)
        return 0;
    if (!base_utf8_valid((const char *)p, n, &bad))
        return 0;
    return n;
}

static int
decode_escape(struct pstate *ps, const unsigned char **pp)
{
    const unsigned char *p = *pp; /* at the backslash */
    uint32_t cp;
    char enc[4];
    size_t n;
    char c;

    if (ps->end - p < 2)
        return fail_at(ps, p, BASE_E_PARSE, "unterminated string");
    switch (p[1]) {
    case '"':
        c = '"';
        break;
    case '\\':
        c = '\\';
        break;
    case '/':
        c = '/';
        break;
    case 'b':
        c = '\b';
        break;
    case 'f':
        c = '\f';
        break;
    case 'n':
        c = '\n';
        break;
    case 'r':
        c = '\r';
        break;
    case 't':
        c = '\t';
        break;
    case 'u':
        if (ps->end - p < 6 || hex4(p + 2, &cp) != 0)
            return fail_at(ps, p, BASE_E_PARSE, "invalid \\u escape");
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;

            if (ps->end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) != 0 ||
                lo < 0xDC00 || lo > 0xDFFF)
                return fail_at(ps, p, BASE_E_PARSE, "unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail_at(ps, p - 6, BASE_E_PARSE, "unpaired surrogate in \\u escape");
        }
        if (cp == 0)
            return fail_at(ps, p - 6, BASE_E_PARSE, "string contains U+0000");
        n = base_utf8_encode(cp, enc);
        *pp = p;
        return base_buf_append(&ps->scratch, enc, n) == BASE_OK
                   ? BASE_OK
                   : fail_at(ps, p, BASE_E_LIMIT, "string exceeds limit");
    default:
        return fail_at(ps, p, BASE_E_PARSE, "invalid escape in string");
    }
    *pp = p + 2;
    return base_buf_putc(&ps->scratch, c) == BASE_OK
               ? BASE_OK
               : fail_at(ps, p, BASE_E_LIMIT, "string exceeds limit");
}

/*
 * Parse a string at ps->p (the opening quote).  The result (s, len) points into the
 * input when there were no escapes, else into ps->scratch (valid until the
 * next string).
 */
size_t
fhir_json_plain_len(const char *text, size_t len, bool utf8_is_plain)
{
    return utf8_is_plain ? fhir_json__plain_len(text, len, true)
                         : fhir_json__plain_len(text, len, false);
}

/* Inline in its two callers (member names, string values): it runs for
 * nearly every token of a FHIR document. */
static inline __attribute__((always_inline)) int
parse_string(struct pstate *ps, const char **s, size_t *len)
{
    const unsigned char *p = ps->p + 1;
    const unsigned char *run = p;
    bool escaped = false;

    for (;;) {
        unsigned c;

        p += fhir_json__plain_len((const char *)p, (size_t)(ps->end - p), false);
        if (p >= ps->end)
            return fail_at(ps, ps->p, BASE_E_PARSE, "unterminated string");
        c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail_at(ps, p, BASE_E_PARSE,
                           c == 0 ? "string contains a NUL byte"
                                  : "unescaped control character in string");
        if (c >= 0x80) {
            size_t n = utf8_seq(p, ps->end);

            if (n == 0)
                return fail_at(ps, p, BASE_E_PARSE, "invalid UTF-8 in string");
            p += n;
            continue;
        }
        /* backslash */
        if (!escaped) {
            base_buf_reset(&ps->scratch);
            escaped = true;
        }
        if (base_buf_append(&ps->scratch, run, (size_t)(p - run)) != BASE_OK)
            return fail_at(ps, p, BASE_E_LIMIT, "string exceeds limit");
        TRY(decode_escape(ps, &p));
        run = p;
    }
    if (escaped) {
        if (base_buf_append(&ps->scratch, run, (size_t)(p - run)) != BASE_OK)
            return fail_at(ps, p, BASE_E_LIMIT, "string exceeds limit");
        *s = ps->scratch.data;
        *len = ps->scratch.len;
    } else {
        *s = (const char *)ps->p + 1;
        *len = (size_t)(p - ps->p - 1);
    }
    if (*len > ps->lim.max_string)
        return fail_at(ps, ps->p, BASE_E_LIMIT, "string exceeds limit");
    ps->p = p + 1;
    return BASE_OK;
}

/* Length of the JSON number at p (RFC 8259 grammar), 0 if none; sets is_int. */
static size_t
scan_number(const unsigned char *p, const unsigned char *end, bool *is_int)
{
    const unsigned char *q = p;

    *is_int = true;
    if (q < end && *q == '-')
        q++;
    if (q >= end)
        return 0;
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    } else {
        return 0;
    }
    if (q < end && *q == '.') {
        *is_int = false;
        q++;
        if (q >= end || *q < '0' || *q > '9')
            return 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        *is_int = false;
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || *q < '0' || *q > '9')
            return 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    return (size_t)(q - p);
}

bool
fhir_json_number_syntax_ok(const char *text, size_t len)
{
    bool is_int;

    return len > 0 && scan_number((const unsigned char *)text,
                                  (const unsigned char *)text + len, &is_int) == len;
}

json_t *
fhir_json_decimal(const char *text, size_t len)
{
    char small[64];
    char *tmp = small;
    json_t *v;

    if (!fhir_json_number_syntax_ok(text, len))
        return NULL;
    if (len + 1 > sizeof(small)) {
        tmp = base_malloc(len + 1);
        if (tmp == NULL)
            return NULL;
    }
    tmp[0] = '\0';
    memcpy(tmp + 1, text, len);
    v = json_stringn_nocheck(tmp, len + 1);
    if (tmp != small)
        base_free(tmp);
    return v;
}

static int
parse_number(struct pstate *ps, json_t **out)
{
    bool is_int;
    size_t n = scan_number(ps->p, ps->end, &is_int);
    int64_t iv;

    if (n == 0)
        return fail_at(ps, ps->p, BASE_E_PARSE, "invalid number");
    if (n > ps->lim.max_string)
        return fail_at(ps, ps->p, BASE_E_LIMIT, "number exceeds limit");
    if (is_int && !(n == 2 && ps->p[0] == '-' && ps->p[1] == '0') &&
        base_str_to_i64(base_str_make((const char *)ps->p, n), &iv)) {
        *out = json_integer(iv);
    } else {
        *out = fhir_json_decimal((const char *)ps->p, n);
    }
    if (*out == NULL)
        return fail_at(ps, ps->p, BASE_E_NOMEM, "out of memory");
    ps->p += n;
    return BASE_OK;
}

static int
parse_literal(struct pstate *ps, json_t **out)
{
    size_t rem = (size_t)(ps->end - ps->p);

    if (rem >= 4 && memcmp(ps->p, "true", 4) == 0) {
        *out = json_true();
        ps->p += 4;
    } else if (rem >= 5 && memcmp(ps->p, "false", 5) == 0) {
        *out = json_false();
        ps->p += 5;
    } else if (rem >= 4 && memcmp(ps->p, "null", 4) == 0) {
        *out = json_null();
        ps->p += 4;
    } else {
        return fail_at(ps, ps->p, BASE_E_PARSE, "unexpected character");
    }
    return BASE_OK;
}

static int
enter(struct pstate *ps)
{
    if (++ps->depth > ps->lim.max_depth)
        return fail_at(ps, ps->p, BASE_E_LIMIT, "nesting exceeds depth limit");
    ps->p++;
    return BASE_OK;
}

/*
 * An error after a member name: "duplicate member name" if the object has
 * that name already (what the reader reported before looking further),
 * else `rc` — set here with `why` at `at`, or already set when `why` is NULL.
 */
static int
duplicate_or(struct pstate *ps, json_t *obj, const char *key, size_t key_len,
             const unsigned char *key_at, const unsigned char *at, int rc, const char *why)
{
    if (json_object_getn(obj, key, key_len) != NULL) {
        if (ps->err_ours)
            ps->err->rc = 0; /* the later error is not the first one */
        return fail_at(ps, key_at, BASE_E_PARSE, "duplicate member name");
    }
    return why != NULL ? fail_at(ps, at, rc, why) : rc;
}

static int
parse_object_member(struct pstate *ps, json_t *obj, size_t size)
{
    const char *key = NULL;
    size_t key_len = 0;
    char *owned = NULL;
    json_t *val = NULL;
    const unsigned char *key_at;
    int rc = BASE_OK;

    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '"')
        return fail_at(ps, ps->p, BASE_E_PARSE, "expected a member name");
    key_at = ps->p;
    TRY(parse_string(ps, &key, &key_len));
    if (key == ps->scratch.data) {
        /* the value may reuse scratch: keep the key */
        owned = base_malloc(key_len + 1);
        if (owned == NULL)
            return fail_at(ps, key_at, BASE_E_NOMEM, "out of memory");
        memcpy(owned, key, key_len);
        key = owned;
    }
    /* A duplicate is found by the insertion (the size does not grow), not by
     * a lookup before it: one hash per member instead of two.  The error
     * paths below look it up, so a duplicate is still what is reported first. */
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') {
        rc = duplicate_or(ps, obj, key, key_len, key_at, ps->p, BASE_E_PARSE, "expected ':'");
        goto out;
    }
    ps->p++;
    rc = parse_value(ps, &val);
    if (rc != BASE_OK) {
        rc = duplicate_or(ps, obj, key, key_len, key_at, NULL, rc, NULL);
        goto out;
    }
    if (size >= ps->lim.max_members) {
        json_decref(val);
        rc = duplicate_or(ps, obj, key, key_len, key_at, key_at, BASE_E_LIMIT,
                          "object exceeds member limit");
        goto out;
    }
    if (json_object_setn_new_nocheck(obj, key, key_len, val) != 0)
        rc = fail_at(ps, key_at, BASE_E_NOMEM, "out of memory");
    else if (json_object_size(obj) == size) /* replaced: the key was there */
        rc = fail_at(ps, key_at, BASE_E_PARSE, "duplicate member name");
out:
    base_free(owned);
    return rc;
}

static int
parse_object(struct pstate *ps, json_t **out)
{
    json_t *obj;
    size_t n = 0;
    int rc;

    TRY(enter(ps));
    obj = json_object();
    if (obj == NULL)
        return fail_at(ps, ps->p, BASE_E_NOMEM, "out of memory");
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        goto done;
    }
    for (;;) {
        /* members so far: every one was new, or the parse stopped */
        rc = parse_object_member(ps, obj, n++);
        if (rc != BASE_OK)
            goto fail;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        rc = fail_at(ps, ps->p, BASE_E_PARSE,
                     ps->p >= ps->end ? "unterminated object" : "expected ',' or '}'");
        goto fail;
    }
done:
    ps->depth--;
    *out = obj;
    return BASE_OK;
fail:
    json_decref(obj);
    return rc;
}

static int
parse_array(struct pstate *ps, json_t **out)
{
    json_t *arr;
    size_t n = 0;
    int rc;

    TRY(enter(ps));
    arr = json_array();
    if (arr == NULL)
        return fail_at(ps, ps->p, BASE_E_NOMEM, "out of memory");
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        goto done;
    }
    for (;;) {
        json_t *val = NULL;

        if (n++ >= ps->lim.max_array) {
            rc = fail_at(ps, ps->p, BASE_E_LIMIT, "array exceeds element limit");
            goto fail;
        }
        rc = parse_value(ps, &val);
        if (rc != BASE_OK)
            goto fail;
        if (json_array_append_new(arr, val) != 0) {
            rc = fail_at(ps, ps->p, BASE_E_NOMEM, "out of memory");
            goto fail;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            break;
        }
        rc = fail_at(ps, ps->p, BASE_E_PARSE,
                     ps->p >= ps->end ? "unterminated array" : "expected ',' or ']'");
        goto fail;
    }
done:
    ps->depth--;
    *out = arr;
    return BASE_OK;
fail:
    json_decref(arr);
    return rc;
}

static int
parse_value(struct pstate *ps, json_t **out)
{
    const char *s = NULL;
    size_t len = 0;

    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail_at(ps, ps->p, BASE_E_PARSE, "unexpected end of input");
    switch (*ps->p) {
    case '{':
        return parse_object(ps, out);
    case '[':
        return parse_array(ps, out);
    case '"':
        TRY(parse_string(ps, &s, &len));
        *out = json_stringn_nocheck(s, len);
        if (*out == NULL)
            return fail_at(ps, ps->p, BASE_E_NOMEM, "out of memory");
        return BASE_OK;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return parse_number(ps, out);
    default:
        return parse_literal(ps, out);
    }
}

int
fhir_json_parse(const char *text, size_t len, const struct fhir_json_limits *lim, json_t **out,
                struct base_err *err)
{
    struct pstate ps;
    json_t *v = NULL;
    int rc;

    *out = NULL;
    memset(&ps, 0, sizeof(ps));
    ps.lim = lim != NULL ? *lim : fhir_json_limits_default();
    ps.start = (const unsigned char *)text;
    ps.p = ps.start;
    ps.end = ps.start + (text == NULL ? 0 : len);
    ps.err = err;
    ps.err_ours = err != NULL && err->rc == 0;
    if (len > ps.lim.max_doc)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", "byte 0",
                            "document exceeds size limit of %zu bytes", ps.lim.max_doc);
    base_buf_init(&ps.scratch, ps.lim.max_string + 8);
    /* RFC 8259 §8.1: a parser may ignore a byte order mark; real senders add one. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3;
    rc = parse_value(&ps, &v);
    if (rc == BASE_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            rc = fail_at(&ps, ps.p, BASE_E_PARSE, "unexpected data after the JSON value");
            json_decref(v);
            v = NULL;
        }
    }
    base_buf_fini(&ps.scratch);
    *out = v;
    return rc;
}
