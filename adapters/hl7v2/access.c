/*
 * Access to a parsed message: segments, fields, repetitions, components,
 * subcomponents (found on demand in the field slices), and escape decoding
 * (HL7 v2.5.1 ch. 2.7).
 */
#include <string.h>

#include "adapters/hl7v2/hl7v2_int.h"
#include "fhir/base/arena.h"

const struct hl7v2_seg *
hl7v2_seg_find(const struct hl7v2_msg *m, const char *id, size_t from, size_t *at)
{
    for (size_t i = from; i < m->nsegs; i++) {
        if (memcmp(m->segs[i].id, id, 3) == 0) {
            if (at != NULL)
                *at = i;
            return &m->segs[i];
        }
    }
    return NULL;
}

struct base_str
hl7v2_field(const struct hl7v2_seg *s, size_t n)
{
    if (s == NULL || n == 0 || n > s->nfields)
        return BASE_STR_NULL;
    return s->fields[n - 1];
}

/* The k-th (1-based) piece of `s` split at `delim`. */
static struct base_str
piece(struct base_str s, char delim, size_t k)
{
    const char *p = s.ptr;
    const char *end;

    if (k == 0 || s.len == 0)
        return BASE_STR_NULL;
    end = s.ptr + s.len; /* after the check: ptr may be NULL when len is 0 */
    if (delim == 0)
        return k == 1 ? s : BASE_STR_NULL;
    while (--k > 0) {
        const char *d = memchr(p, delim, (size_t)(end - p));

        if (d == NULL)
            return BASE_STR_NULL;
        p = d + 1;
    }
    {
        const char *d = memchr(p, delim, (size_t)(end - p));

        return base_str_make(p, (size_t)((d != NULL ? d : end) - p));
    }
}

struct base_str
hl7v2_rep(const struct hl7v2_msg *m, struct base_str field, size_t r)
{
    return piece(field, m->d.rep, r);
}

size_t
hl7v2_rep_count(const struct hl7v2_msg *m, struct base_str field)
{
    size_t n = 1;

    if (field.len == 0)
        return 0;
    if (m->d.rep == 0)
        return 1;
    for (size_t i = 0; i < field.len; i++)
        n += field.ptr[i] == m->d.rep;
    return n;
}

struct base_str
hl7v2_comp(const struct hl7v2_msg *m, struct base_str rep, size_t c)
{
    return piece(rep, m->d.comp, c);
}

struct base_str
hl7v2_sub(const struct hl7v2_msg *m, struct base_str comp, size_t s)
{
    return piece(comp, m->d.sub, s);
}

struct base_str
hl7v2_get(const struct hl7v2_msg *m, const struct hl7v2_seg *seg, size_t n, size_t r, size_t c,
          size_t s)
{
    struct base_str v = hl7v2_field(seg, n);

    /* MSH-1 and MSH-2 hold the delimiters themselves: never split them. */
    if (seg != NULL && seg->index == 1 && n <= 2)
        return v;
    if (r > 0)
        v = hl7v2_rep(m, v, r);
    if (c > 0)
        v = hl7v2_comp(m, v, c);
    if (c > 0 && s > 0)
        v = hl7v2_sub(m, v, s);
    return v;
}

bool
hl7v2_is_null(struct base_str raw)
{
    return raw.len == 2 && raw.ptr[0] == '"' && raw.ptr[1] == '"';
}

/* ------------------------------------------------------------- escapes -- */

static bool
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

static unsigned
hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    return (unsigned)(c - 'A' + 10);
}

static bool
all_hex(struct base_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!is_hex(s.ptr[i]))
            return false;
    }
    return true;
}

/* Optional signed decimal argument of a formatting command ("", "2", "-3"). */
static bool
fmt_arg_ok(struct base_str s, bool sign_allowed)
{
    size_t i = 0;

    if (s.len > 0 && sign_allowed && (s.ptr[0] == '+' || s.ptr[0] == '-'))
        i = 1;
    if (s.len - i > 4)
        return false;
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    }
    return true;
}

static bool
format_command_ok(struct base_str b)
{
    struct base_str arg = b.len >= 3 ? base_str_sub(b, 3, b.len - 3) : BASE_STR_NULL;

    if (b.len < 3 || b.ptr[0] != '.')
        return false;
    if (base_str_starts_with(b, ".br") || base_str_starts_with(b, ".fi") ||
        base_str_starts_with(b, ".nf") || base_str_starts_with(b, ".ce"))
        return b.len == 3;
    if (base_str_starts_with(b, ".sp") || base_str_starts_with(b, ".sk"))
        return fmt_arg_ok(arg, false);
    if (base_str_starts_with(b, ".in") || base_str_starts_with(b, ".ti"))
        return fmt_arg_ok(arg, true);
    return false;
}

int
hl7v2_escape_check(struct base_str body, const char **why, bool *local)
{
    *local = false;
    if (body.len == 0) {
        *why = "empty escape sequence";
        return BASE_E_PARSE;
    }
    switch (body.ptr[0]) {
    case 'F':
    case 'S':
    case 'T':
    case 'R':
    case 'E':
    case 'H':
    case 'N':
        if (body.len == 1)
            return BASE_OK;
        break;
    case 'X':
        if (body.len >= 3 && (body.len - 1) % 2 == 0 && all_hex(base_str_sub(body, 1, body.len)))
            return BASE_OK;
        *why = "hexadecimal escape needs an even number of hex digits";
        return BASE_E_PARSE;
    case 'Z':
        *local = true;
        return BASE_OK;
    case 'C':
    case 'M':
        *why = "character set switching escapes (\\C, \\M) are not supported";
        return BASE_E_PARSE;
    case '.':
        if (format_command_ok(body))
            return BASE_OK;
        *why = "unknown formatting escape";
        return BASE_E_PARSE;
    default:
        break;
    }
    *why = "unknown escape sequence";
    return BASE_E_PARSE;
}

/* Repeat count of a .sp/.sk argument, capped so that output stays bounded. */
static size_t
fmt_count(struct base_str arg)
{
    size_t n = 0;

    for (size_t i = 0; i < arg.len; i++)
        n = n * 10u + (size_t)(arg.ptr[i] - '0');
    if (arg.len == 0)
        n = 1;
    return n > 8 ? 8 : n;
}

/* Append the decoded form of one escape body; returns bytes written. */
static size_t
decode_one(const struct hl7v2_msg *m, struct base_str b, char *o, bool *hex)
{
    size_t n = 0;

    switch (b.ptr[0]) {
    case 'F':
        o[0] = m->d.field;
        return 1;
    case 'S':
        o[0] = m->d.comp;
        return 1;
    case 'T':
        o[0] = m->d.sub;
        return 1;
    case 'R':
        o[0] = m->d.rep;
        return 1;
    case 'E':
        o[0] = m->d.esc;
        return 1;
    case 'X':
        *hex = true;
        for (size_t i = 1; i + 1 < b.len; i += 2)
            o[n++] = (char)(hex_val(b.ptr[i]) << 4 | hex_val(b.ptr[i + 1]));
        return n;
    case '.':
        if (base_str_starts_with(b, ".br") || base_str_starts_with(b, ".ce")) {
            o[0] = '\n';
            return 1;
        }
        if (base_str_starts_with(b, ".sp") || base_str_starts_with(b, ".sk")) {
            char c = b.ptr[2] == 'p' ? '\n' : ' ';

            n = fmt_count(base_str_sub(b, 3, b.len - 3));
            memset(o, c, n);
            return n;
        }
        return 0; /* .fi .nf .in .ti: layout only */
    default:
        return 0; /* \H\ \N\ highlighting, \Z..\ local: no text */
    }
}

static int
check_decoded(struct base_str s, struct base_err *err)
{
    size_t bad = 0;

    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];

        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            return base_err_set(err, BASE_E_PARSE, "value", NULL,
                                "hexadecimal escape decodes to a control character");
    }
    if (!base_utf8_valid(s.ptr, s.len, &bad))
        return base_err_set(err, BASE_E_PARSE, "value", NULL,
                            "hexadecimal escape decodes to bytes that are not UTF-8");
    return BASE_OK;
}

int
hl7v2_unescape(struct base_arena *a, const struct hl7v2_msg *m, struct base_str raw,
               struct base_str *out, struct base_err *err)
{
    const char *e;
    size_t nesc = 0;
    size_t cap;
    size_t o = 0;
    char *buf;
    bool hex = false;

    if (m->d.esc == 0 || raw.len == 0 || (e = memchr(raw.ptr, m->d.esc, raw.len)) == NULL) {
        *out = raw;
        return BASE_OK;
    }
    for (size_t i = (size_t)(e - raw.ptr); i < raw.len; i++)
        nesc += raw.ptr[i] == m->d.esc;
    /* each sequence is >= 3 input bytes and <= 8 output bytes */
    cap = raw.len + 8 * (nesc / 2 + 1);
    buf = base_arena_alloc(a, cap);
    if (buf == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < raw.len;) {
        const char *close;

        if (raw.ptr[i] != m->d.esc) {
            buf[o++] = raw.ptr[i++];
            continue;
        }
        close = memchr(raw.ptr + i + 1, m->d.esc, raw.len - i - 1);
        if (close == NULL || close == raw.ptr + i + 1) {
            /* validated by the tokenizer; keep any remainder literally */
            buf[o++] = raw.ptr[i++];
            continue;
        }
        o += decode_one(m, base_str_make(raw.ptr + i + 1, (size_t)(close - raw.ptr) - i - 1),
                        buf + o, &hex);
        i = (size_t)(close - raw.ptr) + 1;
    }
    *out = base_str_make(buf, o);
    return hex ? check_decoded(*out, err) : BASE_OK;
}
