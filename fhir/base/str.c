#include "fhir/base/str.h"

#include <string.h>

#include "fhir/base/arena.h"

struct base_str
base_str_from_cstr(const char *s)
{
    struct base_str r = {s, s != NULL ? strlen(s) : 0};

    return r;
}

struct base_str
base_str_make(const char *p, size_t len)
{
    struct base_str r = {p, len};

    return r;
}

bool
base_str_eq(struct base_str a, struct base_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool
base_str_eq_cstr(struct base_str a, const char *s)
{
    return base_str_eq(a, base_str_from_cstr(s));
}

static char
ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool
base_str_case_eq_cstr(struct base_str a, const char *s)
{
    size_t n = strlen(s);

    if (n != a.len)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower(a.ptr[i]) != ascii_lower(s[i]))
            return false;
    }
    return true;
}

bool
base_str_starts_with(struct base_str s, const char *prefix)
{
    size_t n = strlen(prefix);

    return s.len >= n && (n == 0 || memcmp(s.ptr, prefix, n) == 0);
}

bool
base_str_ends_with(struct base_str s, const char *suffix)
{
    size_t n = strlen(suffix);

    return s.len >= n && (n == 0 || memcmp(s.ptr + s.len - n, suffix, n) == 0);
}

long
base_str_find_chr(struct base_str s, char c, size_t from)
{
    const char *hit;

    if (from >= s.len)
        return -1;
    hit = memchr(s.ptr + from, c, s.len - from);
    return hit == NULL ? -1 : (long)(hit - s.ptr);
}

struct base_str
base_str_sub(struct base_str s, size_t from, size_t len)
{
    if (from > s.len)
        from = s.len;
    if (len > s.len - from)
        len = s.len - from;
    if (s.ptr == NULL)
        return s; /* an empty slice may have no pointer; NULL + 0 is undefined */
    return base_str_make(s.ptr + from, len);
}

struct base_str
base_str_trim(struct base_str s)
{
    while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t' || s.ptr[0] == '\r' ||
                         s.ptr[0] == '\n')) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t' ||
                         s.ptr[s.len - 1] == '\r' || s.ptr[s.len - 1] == '\n'))
        s.len--;
    return s;
}

bool
base_str_cut(struct base_str s, char c, struct base_str *head, struct base_str *tail)
{
    long at = base_str_find_chr(s, c, 0);

    if (at < 0) {
        *head = s;
        *tail = base_str_make(s.ptr != NULL ? s.ptr + s.len : NULL, 0);
        return false;
    }
    *head = base_str_make(s.ptr, (size_t)at);
    *tail = base_str_make(s.ptr + at + 1, s.len - (size_t)at - 1);
    return true;
}

char *
base_str_dup0(struct base_arena *a, struct base_str s)
{
    return base_arena_strndup(a, s.ptr, s.len);
}

bool
base_str_to_u64(struct base_str s, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0 || s.len > 20)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d;

        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
        d = (unsigned)(s.ptr[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool
base_str_to_i64(struct base_str s, int64_t *out)
{
    bool neg = false;
    uint64_t u;

    if (s.len > 0 && (s.ptr[0] == '-' || s.ptr[0] == '+')) {
        neg = s.ptr[0] == '-';
        s = base_str_sub(s, 1, s.len - 1);
    }
    if (!base_str_to_u64(s, &u))
        return false;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return false;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
        return true;
    }
    if (u > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)u;
    return true;
}

size_t
base_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return 0;
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}
