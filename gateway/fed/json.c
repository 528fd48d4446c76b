/*
 * Small helpers over JSON text the scanner has already validated: decode
 * escapes, skip a value, walk an object's members, write a string.  They
 * trust their input's syntax (never call them on unscanned text) but still
 * never read past `end`.
 */
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/str.h"
#include "gateway/fed/fed_int.h"

static int
hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0;
}

static uint32_t
hex4v(const char *p)
{
    return (uint32_t)(hexv(p[0]) << 12 | hexv(p[1]) << 8 | hexv(p[2]) << 4 | hexv(p[3]));
}

size_t
fed_json_unescape(const char *p, size_t len, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\\' || i + 1 >= len) {
            out[o++] = p[i];
            continue;
        }
        char c = p[++i];
        switch (c) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            uint32_t cp;

            if (i + 4 >= len)
                break;
            cp = hex4v(p + i + 1);
            i += 4;
            /* a validated high surrogate is always followed by \uDCxx */
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < len && p[i + 1] == '\\') {
                uint32_t lo = hex4v(p + i + 3);

                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += base_utf8_encode(cp, out + o);
            break;
        }
        default:
            out[o++] = c;
            break; /* " \ / */
        }
    }
    out[o] = '\0';
    return o;
}

const char *
fed_json_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static const char *
skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return end;
}

const char *
fed_json_skip_value(const char *p, const char *end)
{
    size_t depth = 0;

    p = fed_json_skip_ws(p, end);
    if (p >= end)
        return end;
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
            p++;
        return p;
    }
    while (p < end) {
        if (*p == '"') {
            p = skip_string(p, end);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return end;
}

void
fed_obj_iter_init(struct fed_obj_iter *it, const char *obj, const char *end)
{
    it->p = obj + 1; /* past '{' */
    it->end = end;
    it->first = true;
}

bool
fed_obj_iter_next(struct fed_obj_iter *it, char *keybuf, size_t keycap, size_t *key_len,
                  const char **member_start, const char **val, const char **val_end)
{
    const char *p = fed_json_skip_ws(it->p, it->end);
    const char *k;
    const char *ke;

    if (!it->first && p < it->end && *p == ',')
        p = fed_json_skip_ws(p + 1, it->end);
    if (p >= it->end || *p != '"')
        return false; /* '}' */
    it->first = false;
    *member_start = p;
    k = p + 1;
    ke = skip_string(p, it->end) - 1;
    if ((size_t)(ke - k) < keycap) {
        if (memchr(k, '\\', (size_t)(ke - k)) != NULL) {
            *key_len = fed_json_unescape(k, (size_t)(ke - k), keybuf);
        } else {
            memcpy(keybuf, k, (size_t)(ke - k));
            keybuf[ke - k] = '\0';
            *key_len = (size_t)(ke - k);
        }
    } else {
        *key_len = SIZE_MAX;
    }
    p = fed_json_skip_ws(ke + 1, it->end);
    p = fed_json_skip_ws(p + 1, it->end); /* past ':' */
    *val = p;
    *val_end = fed_json_skip_value(p, it->end);
    it->p = *val_end;
    return true;
}

int
fed_put_json_str(struct base_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    TRY(base_buf_putc(b, '"'));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        TRY(base_buf_append(b, s + run, i - run));
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};

            TRY(base_buf_append(b, esc, 2));
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

            TRY(base_buf_append(b, esc, 6));
        }
    }
    TRY(base_buf_append(b, s + run, len - run));
    return base_buf_putc(b, '"');
}

char *
gw_fed_span_str(struct base_arena *a, const char *text, struct gw_fed_span s, bool escaped)
{
    char *out = base_arena_alloc(a, (size_t)s.len + 1);

    if (out == NULL)
        return NULL;
    if (escaped) {
        fed_json_unescape(text + s.off, s.len, out);
    } else {
        memcpy(out, text + s.off, s.len);
        out[s.len] = '\0';
    }
    return out;
}

bool
gw_fed_span_eq(const char *text, struct gw_fed_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.len == n && memcmp(text + s.off, lit, n) == 0;
}

int64_t
fed_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
fed_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
