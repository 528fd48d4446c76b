/*
 * The scanner's lexical layer: strict RFC 8259 strings, numbers and
 * literals, objects and arrays with a callback per member / element,
 * duplicate member names, depth and size caps.  scan.c puts the Bundle's
 * structure on top of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "gateway/fed/scan_int.h"

/* ---- errors -------------------------------------------------------------------- */

int
sc_fail(struct sc *s, int rc, const char *issue, const char *what)
{
    char where[40];

    snprintf(where, sizeof(where), "byte %zu", (size_t)(s->p - s->base));
    if (s->entry >= 0)
        return base_err_set(s->err, rc, issue, where, "entry %ld: %s", s->entry, what);
    return base_err_set(s->err, rc, issue, where, "%s", what);
}

int
sc_syntax(struct sc *s)
{
    return sc_fail(s, BASE_E_PARSE, "structure", "not valid JSON");
}

/* ---- lexical layer ----------------------------------------------------------- */

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Which bytes of w need attention inside a string: '"', '\\', a control
 * character or a non-ASCII byte.  Little-endian, the lowest set bit marks
 * the first such byte exactly (the bit tricks can only report false
 * positives above a true one, where a borrow propagates). */
static inline uint64_t
special_mask(uint64_t w, bool u8)
{
    uint64_t q = w ^ (ONES * '"');
    uint64_t b = w ^ (ONES * '\\');
    uint64_t t = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w);

    return (u8 ? t : t | w) & HIGHS;
}

#if defined(__SSE2__)
/* The same test on 16 bytes (SSE2 is part of x86-64): bit i of the result
 * is set when byte i needs attention.  The signed compare with 0x20 takes
 * the control characters and every byte >= 0x80 at once. */
static inline unsigned
special_mask16(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i t = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));

    t = _mm_or_si128(t, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(t);
}

/* The same once the text is known to be UTF-8: bytes >= 0x80 are then
 * ordinary (only controls, '"' and '\\' stop the loop). */
static inline unsigned
special_mask16_u8(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i t = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));

    /* v <= 0x1F unsigned */
    t = _mm_or_si128(t, _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v));
    return (unsigned)_mm_movemask_epi8(t);
}
#endif

/* Length of the UTF-8 sequence at p (RFC 3629 table 3-7: no overlongs, no
 * surrogates, nothing past U+10FFFF), 0 when malformed. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    size_t n;

    if (c < 0xC2 || c > 0xF4)
        return 0;
    n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if ((size_t)(end - p) < n)
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    }
    return n;
}

/* Past the run of non-ASCII characters at p (*p >= 0x80), or NULL when
 * one of them is malformed.  Chinese text is runs of 3-byte sequences
 * (leads E1-EC and EE-EF take any continuation byte), checked inline
 * here; the rest goes through utf8_seq().  Without this, each CJK
 * character cost a trip through the 16-byte loop and a call. */
static const unsigned char *
utf8_run(const unsigned char *p, const unsigned char *end)
{
    while (p < end && *p >= 0x80) {
        unsigned char c = *p;

        if (c >= 0xE1 && c <= 0xEF && c != 0xED && end - p >= 3 && (p[1] & 0xC0) == 0x80 &&
            (p[2] & 0xC0) == 0x80) {
            p += 3;
            continue;
        }
        size_t n = utf8_seq(p, end);
        if (n == 0)
            return NULL;
        p += n;
    }
    return p;
}

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Four hex digits at p; -1 when malformed or short. */
static long
hex4(const unsigned char *p, const unsigned char *end)
{
    long v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);

        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* s->p just after a backslash.  RFC 8259 §7: a high surrogate must be
 * followed by an escaped low one; a lone low surrogate is not a character;
 * U+0000 is refused as FHIR strings cannot hold it. */
static int
sc_escape(struct sc *s)
{
    long cp;
    long lo;

    if (s->p >= s->end)
        return sc_syntax(s);
    switch (*s->p) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        s->p++;
        return BASE_OK;
    case 'u':
        break;
    default:
        return sc_syntax(s);
    }
    cp = hex4(s->p + 1, s->end);
    if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return sc_syntax(s);
    s->p += 5;
    if (cp < 0xD800 || cp > 0xDBFF)
        return BASE_OK;
    if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u')
        return sc_syntax(s);
    lo = hex4(s->p + 2, s->end);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return sc_syntax(s);
    s->p += 6;
    return BASE_OK;
}

/* At the first non-ASCII byte of the text: is all of the rest UTF-8?  One
 * vector pass (base_utf8_valid) then spares every later string its
 * character-by-character check; when the answer is no, the strings keep
 * that check, which finds the bad byte and says where. */
static bool
text_is_utf8_from(struct sc *s, const unsigned char *p)
{
    if (s->u8_tried)
        return false;
    s->u8_tried = true;
    if (!base_utf8_valid((const char *)p, (size_t)(s->end - p), NULL))
        return false;
    s->u8_from = p;
    return true;
}

/* The rest of a string from p (start: its contents), once something other
 * than a closing quote needs a look: an escape, a control character, a
 * non-ASCII byte, or the last bytes of the text.  Validates UTF-8 and
 * escapes on the way.  Locals rather than s->p, since stores through a
 * char pointer would otherwise force the compiler to reload. */
static __attribute__((noinline)) int
sc_string_rest(struct sc *s, const unsigned char *start, const unsigned char *p,
               struct gw_fed_span *span, bool *esc)
{
    const unsigned char *const end = s->end;

    *esc = false;
    bool u8 = s->u8_from != NULL && p >= s->u8_from;
    for (;;) {
#if defined(__SSE2__)
        if (end - p >= 16) {
            unsigned m = u8 ? special_mask16_u8(p) : special_mask16(p);

            if (m == 0) {
                p += 16;
                continue;
            }
            p += __builtin_ctz(m);
        } else
#endif
        if (end - p >= 8) {
            uint64_t w;

            memcpy(&w, p, 8);
            uint64_t m = special_mask(w, u8);
            if (m == 0) {
                p += 8;
                continue;
            }
            p += __builtin_ctzll(m) >> 3;
        } else if (p >= end) {
            break;
        }
        unsigned char c = *p;
        if (c == '"') {
            span->off = (uint32_t)(start - s->base);
            span->len = (uint32_t)(p - start);
            s->p = p + 1;
            return BASE_OK;
        }
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            p++;
            continue;
        }
        s->p = p;
        if (c == '\\') {
            *esc = true;
            s->p++;
            TRY(sc_escape(s));
        } else if (c < 0x20) {
            return sc_syntax(s);
        } else if (u8 || (u8 = text_is_utf8_from(s, p))) {
            s->p = p + 1;
        } else {
            const unsigned char *q = utf8_run(p, end);

            if (q == NULL)
                return sc_fail(s, BASE_E_PARSE, "structure", "invalid UTF-8");
            s->p = q;
        }
        p = s->p;
    }
    s->p = p;
    return sc_syntax(s);
}

/* A string at s->p ('"').  *span gets its contents, *esc whether it holds
 * escapes.  The hot path of the whole merge (about 50,000 strings per
 * 73-member query, most of them short names and codes): plain ASCII up to
 * the closing quote, 16 bytes at a time, with nothing to save or restore;
 * anything else goes on in sc_string_rest(). */
int
sc_string(struct sc *s, struct gw_fed_span *span, bool *esc)
{
    const unsigned char *p = s->p;
    const unsigned char *start;

    if (p >= s->end || *p != '"')
        return sc_syntax(s);
    start = ++p;
#if defined(__SSE2__)
    while (s->end - p >= 16) {
        unsigned m = special_mask16(p);

        if (m == 0) {
            p += 16;
            continue;
        }
        p += __builtin_ctz(m);
        if (*p != '"')
            break;
        span->off = (uint32_t)(start - s->base);
        span->len = (uint32_t)(p - start);
        s->p = p + 1;
        *esc = false;
        return BASE_OK;
    }
#endif
    return sc_string_rest(s, start, p, span, esc);
}

static bool
sc_digits(struct sc *s)
{
    const unsigned char *d = s->p;

    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > d;
}

/* RFC 8259 §6 number grammar. */
static int
sc_number(struct sc *s)
{
    if (sc_at(s, '-'))
        s->p++;
    if (sc_at(s, '0'))
        s->p++;
    else if (!sc_digits(s))
        return sc_syntax(s);
    if (sc_at(s, '.')) {
        s->p++;
        if (!sc_digits(s))
            return sc_syntax(s);
    }
    if (sc_at(s, 'e') || sc_at(s, 'E')) {
        s->p++;
        if (sc_at(s, '+') || sc_at(s, '-'))
            s->p++;
        if (!sc_digits(s))
            return sc_syntax(s);
    }
    return BASE_OK;
}

static int
sc_literal(struct sc *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return sc_syntax(s);
    s->p += n;
    return BASE_OK;
}

/* ---- member names ------------------------------------------------------------- */

/* A cheap hash of a member name: its length and first and last 8 bytes.
 * Names that collide are compared in full, so quality only costs time. */
static inline __attribute__((always_inline)) uint64_t
name_hash(const char *p, size_t n, const unsigned char *end)
{
    uint64_t a = 0;
    uint64_t b = 0;

    if ((const unsigned char *)p + 8 <= end) {
        memcpy(&a, p, 8); /* within the text; bytes past the name masked off */
        if (n < 8)
            a &= (1ULL << (8 * n)) - 1;
    } else {
        for (size_t i = 0; i < n && i < 8; i++)
            a |= (uint64_t)(unsigned char)p[i] << (8 * i);
    }
    if (n > 8)
        memcpy(&b, p + n - 8, 8);
    uint64_t h = (a ^ (uint64_t)n * 0x9E3779B97F4A7C15ULL) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
    return (h ^ b) * 0x94D049BB133111EBULL;
}

/* The key stack is full: double it (rare, out of the inlined path). */
static __attribute__((noinline)) int
grow_keys(struct sc *s)
{
    size_t cap = s->cap_keys == 0 ? 64 : s->cap_keys * 2;
    struct sc_key *nk = base_arena_grow(s->a, s->keys, s->n_keys, cap, sizeof(*nk));

    if (nk == NULL)
        return sc_fail(s, BASE_E_NOMEM, "exception", "out of memory");
    s->keys = nk;
    s->cap_keys = cap;
    return BASE_OK;
}

/* Once per member name of every object: kept inline. */
static inline __attribute__((always_inline)) int
push_key(struct sc *s, struct gw_fed_span k, bool esc, uint64_t hash)
{
    if (s->n_keys == s->cap_keys)
        TRY(grow_keys(s));
    s->keys[s->n_keys++] = (struct sc_key){hash, k.off, k.len, esc};
    return BASE_OK;
}

static int
cmp_key_hash(const void *x, const void *y)
{
    uint64_t a = ((const struct sc_key *)x)->hash;
    uint64_t b = ((const struct sc_key *)y)->hash;

    return a < b ? -1 : a > b;
}

/* Same decoded name?  Called only when the hashes agree. */
static bool
same_key(struct sc *s, const struct sc_key *x, const struct sc_key *y)
{
    const char *t = (const char *)s->base;

    if (!x->esc && !y->esc)
        return x->len == y->len && memcmp(t + x->off, t + y->off, x->len) == 0;
    char *dx = base_arena_alloc(s->a, (size_t)x->len + 1);
    char *dy = base_arena_alloc(s->a, (size_t)y->len + 1);
    if (dx == NULL || dy == NULL)
        return true; /* out of memory: refuse rather than risk a duplicate */
    size_t nx = x->esc ? fed_json_unescape(t + x->off, x->len, dx) : x->len;
    size_t ny = y->esc ? fed_json_unescape(t + y->off, y->len, dy) : y->len;
    if (!x->esc)
        memcpy(dx, t + x->off, nx);
    if (!y->esc)
        memcpy(dy, t + y->off, ny);
    return nx == ny && memcmp(dx, dy, nx) == 0;
}

/* Names of the object whose keys start at keys[from]: any twice?  Objects
 * of FHIR's usual size pairwise on the hashes (cheaper than sorting), the
 * rare large ones sorted by hash (O(k log k)). */
static int
check_duplicates(struct sc *s, size_t from)
{
    struct sc_key *k = s->keys + from;
    size_t n = s->n_keys - from;

    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (k[i].hash == k[j].hash && same_key(s, &k[i], &k[j]))
                    return sc_fail(s, BASE_E_PARSE, "structure", "duplicate member name");
            }
        }
        return BASE_OK;
    }
    qsort(k, n, sizeof(*k), cmp_key_hash);
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && k[j - 1].hash == k[i].hash; j--) {
            if (same_key(s, &k[i], &k[j - 1]))
                return sc_fail(s, BASE_E_PARSE, "structure", "duplicate member name");
        }
    }
    return BASE_OK;
}

/* ---- containers ------------------------------------------------------------------ */

static int
sc_enter(struct sc *s)
{
    if (++s->depth > s->max_depth)
        return sc_fail(s, BASE_E_LIMIT, "too-costly", "nesting too deep");
    s->p++;
    sc_ws(s);
    return BASE_OK;
}

/* One member name: its span, hash of the decoded name, and (for the
 * callback) a decoded copy when it holds escapes. */
static int
sc_member_name(struct sc *s, const char **key, size_t *key_len)
{
    struct gw_fed_span k;
    bool esc;

    TRY(sc_string(s, &k, &esc));
    const char *raw = (const char *)s->base + k.off;
    if (!esc) {
        *key = raw;
        *key_len = k.len;
        return push_key(s, k, false, name_hash(raw, k.len, s->end));
    }
    /* Rare: "\u0069d" is "id".  Decode for the hash and the callback. */
    char *d = base_arena_alloc(s->a, (size_t)k.len + 1);
    if (d == NULL)
        return sc_fail(s, BASE_E_NOMEM, "exception", "out of memory");
    size_t n = fed_json_unescape(raw, k.len, d);
    TRY(push_key(s, k, true, name_hash(d, n, (const unsigned char *)d + n)));
    *key = d;
    *key_len = n;
    return BASE_OK;
}

/* An object at s->p; fn consumes each member's value. */
int
sc_object(struct sc *s, sc_member_fn fn, void *ctx)
{
    size_t from = s->n_keys;
    size_t n = 0;

    TRY(sc_enter(s));
    if (sc_at(s, '}')) {
        s->p++;
        s->depth--;
        return BASE_OK;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;

        if (++n > BASE_LIMIT_FHIR_MAX_MEMBERS)
            return sc_fail(s, BASE_E_LIMIT, "too-costly", "too many members in an object");
        TRY(sc_member_name(s, &key, &key_len));
        sc_ws(s);
        if (!sc_at(s, ':'))
            return sc_syntax(s);
        s->p++;
        sc_ws(s);
        TRY(fn(s, key, key_len, ctx));
        sc_ws(s);
        if (sc_at(s, ',')) {
            s->p++;
            sc_ws(s);
            continue;
        }
        if (!sc_at(s, '}'))
            return sc_syntax(s);
        s->p++;
        break;
    }
    TRY(check_duplicates(s, from));
    s->n_keys = from;
    s->depth--;
    return BASE_OK;
}

int
sc_array(struct sc *s, sc_elem_fn fn, void *ctx)
{
    size_t i = 0;

    TRY(sc_enter(s));
    if (sc_at(s, ']')) {
        s->p++;
        s->depth--;
        return BASE_OK;
    }
    for (;; i++) {
        if (i >= BASE_LIMIT_FHIR_MAX_ARRAY)
            return sc_fail(s, BASE_E_LIMIT, "too-costly", "too many elements in an array");
        TRY(fn(s, i, ctx));
        sc_ws(s);
        if (sc_at(s, ',')) {
            s->p++;
            sc_ws(s);
            continue;
        }
        if (!sc_at(s, ']'))
            return sc_syntax(s);
        s->p++;
        break;
    }
    s->depth--;
    return BASE_OK;
}

static int
any_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    (void)key;
    (void)key_len;
    (void)ctx;
    return sc_value(s);
}

static int
any_elem(struct sc *s, size_t index, void *ctx)
{
    (void)index;
    (void)ctx;
    return sc_value(s);
}

int
sc_value(struct sc *s)
{
    struct gw_fed_span span;
    bool esc;

    if (s->p >= s->end)
        return sc_syntax(s);
    switch (*s->p) {
    case '{':
        return sc_object(s, any_member, NULL);
    case '[':
        return sc_array(s, any_elem, NULL);
    case '"':
        return sc_string(s, &span, &esc);
    case 't':
        return sc_literal(s, "true", 4);
    case 'f':
        return sc_literal(s, "false", 5);
    case 'n':
        return sc_literal(s, "null", 4);
    default:
        return sc_number(s);
    }
}
