/*
 * The fast path of fhir_validate_json(): validate FHIR JSON text in one pass
 * without building a tree.
 *
 * It tokenizes the text (the grammar and limits of fhir/json's reader) and
 * checks each member against the model as it goes, like walk.c does on a
 * tree.  It is a filter, not a second validator: it either proves the
 * document clean — no issue at all, or only the conditional-reference
 * warnings, which it reports exactly as walk.c does — or it gives up
 * ("bails"), and the caller discards what it reported and runs the
 * reference path (fhir_json_parse + the tree walk) for the exact issues.
 * So every problem, every rare construct (escaped names, \u escapes, null,
 * arrays in "_name", unknown elements, resourceType not first, ...) and
 * every doubt simply bails; soundness only needs "clean here => clean
 * there", which the differential tests and the fuzz target check.
 */
#include "fhir/validate/validate_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"

#define BAIL (-1)

/* Every bail is the rare way out (the caller then runs the tree path):
 * telling the compiler keeps the clean path straight. */
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define STEP(expr)                                                                                 \
    do {                                                                                           \
        if (UNLIKELY((expr) < 0))                                                                  \
            return BAIL;                                                                           \
    } while (0)

_Static_assert(FHIR_MODEL_MAX_ELEMS <= 64, "element bit sets are one uint64_t");

#define MAX_CONTAINED_IDS 64
/* Decoded strings up to this size (with the NUL) need no allocation. */
#define SMALL_SCRATCH 4096
#define MAX_LOCAL_REFS    64

/* Transaction state of the enclosing Bundle (conditional references). */
enum tx_state {
    TX_NO,
    TX_YES,
    TX_UNKNOWN /* a Bundle whose type was not seen yet */
};

/* A Bundle being read: what its entries showed so far (bdl-2..bdl-4,
 * bdl-7, bdl-11, bdl-12 are decided at its end, when its type is known
 * wherever it stood). */
struct bstate {
    size_t urls_start; /* its entries' fullUrls: sctx.urls from here on */
    size_t entries;
    unsigned first_rt; /* type index + 1 of the first entry's resource, 0: none */
    bool any_req, any_noreq, any_resp, any_noresp, any_search;
};

/* One root resource: its contained ids and the local references to check. */
struct scope {
    struct base_str ids[MAX_CONTAINED_IDS];
    bool back[MAX_CONTAINED_IDS]; /* contained resource k refers to the root ("#") */
    size_t n_ids;
    struct base_str refs[MAX_LOCAL_REFS]; /* Reference.reference "#id" */
    size_t n_refs;
    struct base_str urirefs[MAX_LOCAL_REFS]; /* uri, url, canonical "#id" (dom-3) */
    size_t n_urirefs;
};

struct sctx {
    struct fhir_validate__ctx *c;
    const unsigned char *p;
    const unsigned char *end;
    struct fhir_json_limits lim;
    size_t jdepth;       /* objects + arrays, as the reader counts */
    struct scope *scope; /* the current root resource */
    enum tx_state tx;
    bool meta_of_contained;  /* walking the meta of a contained resource */
    struct base_buf scratch; /* decoded strings */
    char *small;             /* SMALL_SCRATCH bytes on the stack: most decoded strings */
    bool in_contained;       /* reading a contained resource */
    bool back;               /* and it has referred to its container ("#": dom-3) */
    struct bstate *bundle;   /* the innermost Bundle */
    struct base_buf urls;    /* struct url_vid: the open Bundles' entries (bdl-7) */
    unsigned last_rt;        /* type index + 1 of the last resource read */
    struct base_str last_vid; /* and its meta.versionId (when last_vid_has) */
    bool last_vid_has;
    struct base_str meta_vid; /* the last Meta's versionId (when meta_vid_has) */
    bool meta_vid_has;
    bool bufs_ready;          /* urls and codings initialised (first use) */
    struct base_buf codings;  /* struct coding_key: the open Observations' codings (obs-7) */
    unsigned collect;         /* the codings being read go to `codings`, in this group */
    size_t obs_codings_start; /* the innermost Observation's first in `codings` */
};

/* A Coding's system and code (obs-7): group 1 for Observation.code, 2 for
 * a component's code.  Codings that are equal (FHIRPath: every property)
 * have equal keys, so where no keys are equal, no codings are. */
struct coding_key {
    struct base_str system;
    struct base_str code;
    bool has_system;
    bool has_code;
    unsigned group;
};

/* An entry's fullUrl and its resource's meta.versionId (bdl-7). */
struct url_vid {
    struct base_str url;
    struct base_str vid;
    bool has_vid;
};

/* What a child object tells its holder for the holder's invariants (the
 * bounds of a Range, a Bundle's identifier). */
struct kid {
    uint64_t seen; /* its child elements present */
    struct fhir_validate__qty q;
    unsigned collect; /* in: a CodeableConcept whose codings go to sctx.codings */
};

/* What an object tells the element that holds it. */
struct sobj {
    const struct fhir_model_valueset *vs; /* in: required binding of the element */
    struct kid *kid;      /* in: where to leave what the holder needs (NULL: nothing) */
    struct base_str code; /* out: Coding/Quantity code, system (when has_*) */
    struct base_str system;
    struct base_str id; /* out: a resource's id (when has_id) */
    /* set by sobj_init(), together */
    bool want_code; /* in: keep code and system */
    bool has_code;
    bool has_system;
    bool any_member; /* out: CodeableConcept codings vs `vs` */
    bool any_checked;
    bool has_extension; /* out: "extension" present */
    bool has_id;
};

/* An sobj without zeroing the values it may never keep (most objects keep
 * none): the flags say which are set. */
static inline void
sobj_init(struct sobj *o, const struct fhir_model_valueset *vs, bool want_code, struct kid *kid)
{
    o->vs = vs;
    o->kid = kid;
    o->want_code = want_code;
    o->has_code = false;
    o->has_system = false;
    o->any_member = false;
    o->any_checked = false;
    o->has_extension = false;
    o->has_id = false;
}

/* A kept value, or the empty string when it was not kept. */
static inline struct base_str
kept(struct base_str v, bool has)
{
    return has ? v : (struct base_str){NULL, 0};
}

enum {
    OBJ_PLAIN = 0,
    OBJ_RESOURCE = 1,
    OBJ_PRIM_EXT = 2,
    OBJ_CONTAINED = 4 /* with OBJ_RESOURCE: an item of contained */
};

/* String flags. */
#define STR_ESCAPED 0x1u /* has a backslash escape */
#define STR_CTRL    0x2u /* an escape decodes to a control character (\b, \f) */

static int value(struct sctx *s, const struct fhir_model_type *t, const struct fhir_model_elem *e,
                 struct sobj *cc_acc, struct kid *kid);
static int resource(struct sctx *s, unsigned how, const char *expect);

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static bool
is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Pretty-printed documents indent every member: runs of a newline and
 * spaces are skipped sixteen bytes at a time. */
static void
skip_ws_run(struct sctx *s)
{
    const unsigned char *p = s->p;

#if defined(__SSE2__)
    /* the common run: a newline and the next line's indentation */
    if (*p == '\n' && s->end - p >= 17) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(p + 1)), _mm_set1_epi8(' ')));

        if (m != 0xFFFFu && p[1 + __builtin_ctz(~m)] > ' ') {
            s->p = p + 1 + __builtin_ctz(~m);
            return;
        }
    }
    while (s->end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i w = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
        unsigned m = (unsigned)_mm_movemask_epi8(w);

        if (m != 0xFFFFu) {
            s->p = p + __builtin_ctz(~m);
            return;
        }
        p += 16;
    }
#endif
    while (p < s->end && is_ws(*p))
        p++;
    s->p = p;
}

static inline void
skip_ws(struct sctx *s)
{
    /* one compare for compact JSON and most tokens */
    if (s->p < s->end && *s->p <= ' ') {
        /* the one space after ':' in pretty-printed JSON */
        if (*s->p == ' ' && s->end - s->p > 1 && s->p[1] > ' ')
            s->p++;
        else
            skip_ws_run(s);
    }
}

/* skip_ws() where pretty-printed JSON breaks the line — after the ','
 * between members and before an object's '}' — with the newline and up to
 * 15 spaces of indentation inline (only there: inlined at every skip_ws()
 * it cost compact JSON more than it saved). */
static inline void
skip_ws_line(struct sctx *s)
{
#if defined(__SSE2__)
    const unsigned char *p = s->p;

    if (p < s->end && *p == '\n' && s->end - p >= 17) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(p + 1)), _mm_set1_epi8(' ')));

        if (m != 0xFFFFu && p[1 + __builtin_ctz(~m)] > ' ') {
            s->p = p + 1 + __builtin_ctz(~m);
            return;
        }
    }
#endif
    skip_ws(s);
}

static inline int
expect_char(struct sctx *s, unsigned char ch)
{
    if (!(s->p < s->end && *s->p == ch)) { /* compact JSON: no space before it */
        skip_ws(s);
        if (UNLIKELY(s->p >= s->end || *s->p != ch))
            return BAIL;
    }
    s->p++;
    return 0;
}

static int
enter(struct sctx *s)
{
    if (UNLIKELY(++s->jdepth > s->lim.max_depth))
        return BAIL;
    s->p++;
    return 0;
}

/* Bytes of a valid UTF-8 sequence at p (lead byte >= 0x80), 0 when invalid. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
    size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : 2;

    if ((size_t)(end - p) < n || !base_utf8_valid((const char *)p, n, NULL))
        return 0;
    return n;
}

#if defined(__SSE2__)
/* Skip bytes that need no look (printable ASCII but '"' and '\\'), sixteen at
 * a time; stops at the first other byte or where fewer than 16 remain. */
/* '"', '\\' and bytes below 0x20 or from 0x80 (the signed compare makes
 * those negative). */
static inline __m128i
json_special(__m128i v)
{
    return _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
        _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
}

static inline const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *end)
{
    return fhir_validate__skip16(p, end, json_special);
}
#else
/* Portable build: fhir/json's scanner (eight bytes at a time). */
static inline const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *end)
{
    return p + fhir_json_plain_len((const char *)p, (size_t)(end - p), false);
}
#endif

/*
 * A string at s->p (the opening quote): the raw text between the quotes in
 * *raw.  Same grammar as the reader; \u escapes bail (rare in FHIR).
 */
/* The string at s->p closes at p: its raw text, flags f. */
static inline int
end_string(struct sctx *s, const unsigned char *p, unsigned f, struct base_str *raw,
           unsigned *flags)
{
    raw->ptr = (const char *)s->p + 1;
    raw->len = (size_t)(p - s->p - 1);
    if (UNLIKELY(raw->len > s->lim.max_string))
        return BAIL;
    s->p = p + 1;
    *flags = f;
    return 0;
}

/* The flags an escape's second byte gives the string, 0 for the escapes
 * that bail (\u, which is rare in FHIR, and invalid ones). */
static const unsigned char escape_flags[256] = {
    ['"'] = STR_ESCAPED,
    ['\\'] = STR_ESCAPED,
    ['/'] = STR_ESCAPED,
    ['n'] = STR_ESCAPED,
    ['r'] = STR_ESCAPED,
    ['t'] = STR_ESCAPED,
    ['b'] = STR_ESCAPED | STR_CTRL,
    ['f'] = STR_ESCAPED | STR_CTRL,
};

static int
scan_string_general(struct sctx *s, struct base_str *raw, unsigned *flags)
{
    const unsigned char *p = s->p + 1;
    const unsigned char *end = s->end;
    unsigned f = 0;

    for (;;) {
        unsigned ch;

        p = skip_plain(p, end);
        if (UNLIKELY(p >= end))
            return BAIL;
        ch = *p;
        /* escapes first: narratives have one every few dozen bytes */
        if (ch == '\\') {
            unsigned ef;

            if (UNLIKELY(end - p < 2))
                return BAIL;
            ef = escape_flags[p[1]];
            if (UNLIKELY(ef == 0))
                return BAIL; /* \u escapes and invalid escapes */
            f |= ef;
            p += 2;
            continue;
        }
        if (ch >= 0x20 && ch < 0x80 && ch != '"') {
            p++;
            continue;
        }
        if (ch == '"')
            break;
        if (UNLIKELY(ch < 0x20))
            return BAIL;
        {
            size_t n = utf8_seq(p, end);

            if (UNLIKELY(n == 0))
                return BAIL;
            p += n;
        }
    }
    return end_string(s, p, f, raw, flags);
}

/*
 * The common case inline: plain ASCII up to the closing quote; anything
 * else (escapes, UTF-8, controls, a string in the last bytes of the text)
 * starts over on the general scanner.
 */
static inline int
scan_string(struct sctx *s, struct base_str *raw, unsigned *flags)
{
    const unsigned char *p = skip_plain(s->p + 1, s->end);

    if (p >= s->end || *p != '"')
        return scan_string_general(s, raw, flags);
    return end_string(s, p, 0, raw, flags);
}

#if defined(__SSE2__)
static inline __m128i
is_quote(__m128i v)
{
    return _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
}
#endif

/*
 * A member name at s->p ('"'): the bytes up to the next '"'.  Only the
 * model's property names are accepted after it, and those are ASCII
 * letters, digits and '_' (check_model.c), so a name with an escape, a
 * control or a non-ASCII byte fails that lookup and bails whatever its end
 * (an escaped quote leaves its backslash in the name): one compare a byte.
 */
static inline int
scan_key(struct sctx *s, struct base_str *key)
{
    const unsigned char *p = s->p + 1;

#if defined(__SSE2__)
    p = fhir_validate__skip16(p, s->end, is_quote);
#endif
    while (p < s->end && *p != '"')
        p++;
    if (UNLIKELY(p >= s->end))
        return BAIL;
    key->ptr = (const char *)s->p + 1;
    key->len = (size_t)(p - s->p - 1);
    s->p = p + 1;
    return 0;
}

/* What the escapes the scanner lets through stand for (\b \f \n \r \t
 * \" \\ \/; \u bails there). */
static const char unescaped[256] = {
    ['b'] = '\b', ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r',
    ['t'] = '\t', ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',
};

/* The decoded text of a scanned string (into scratch when escaped).  The
 * text is never longer than the raw string, so scratch is sized once and
 * written directly. */
static int
decode(struct sctx *s, struct base_str raw, unsigned flags, struct base_str *out)
{
    const char *p = raw.ptr;
    const char *end = raw.ptr + raw.len;
    char *o;

    if (!(flags & STR_ESCAPED)) {
        *out = raw;
        return 0;
    }
    if (raw.len < SMALL_SCRATCH) {
        o = s->small;
    } else {
        base_buf_reset(&s->scratch);
        if (UNLIKELY(base_buf_reserve(&s->scratch, raw.len) != BASE_OK))
            return BAIL;
        o = s->scratch.data;
    }
    out->ptr = o;
#if defined(__SSE2__)
    /* sixteen bytes copied a step up to the next backslash (narratives
     * escape every attribute's quotes and line break: a memchr and a
     * memcpy call each cost more).  A store never passes o + 16 <= the
     * output's start + raw.len, since o - start <= p - raw.ptr. */
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));

        _mm_storeu_si128((__m128i *)(void *)o, v);
        if (bits == 0) {
            p += 16;
            o += 16;
            continue;
        }
        p += __builtin_ctz(bits);
        o += __builtin_ctz(bits);
        *o++ = unescaped[(unsigned char)p[1]]; /* the scanner saw p[1] */
        p += 2;
    }
#endif
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t n = (size_t)((bs != NULL ? bs : end) - p);

        memcpy(o, p, n);
        o += n;
        if (bs == NULL)
            break;
        *o++ = unescaped[(unsigned char)bs[1]];
        p = bs + 2;
    }
    *o = '\0'; /* there is room: the text stays a C string */
    out->len = (size_t)(o - out->ptr);
    return 0;
}

/* Number literal at s->p; its text in *lit.  The token runs to the first
 * byte that cannot be part of a number, and must then be a whole JSON
 * number: the reader accepts exactly those. */
static int
scan_number(struct sctx *s, struct base_str *lit)
{
    const unsigned char *q = s->p;

    while (q < s->end && ((*q >= '0' && *q <= '9') || *q == '-' || *q == '+' || *q == '.' ||
                          *q == 'e' || *q == 'E'))
        q++;
    lit->ptr = (const char *)s->p;
    lit->len = (size_t)(q - s->p);
    if (UNLIKELY(lit->len > s->lim.max_string || !fhir_json_number_syntax_ok(lit->ptr, lit->len)))
        return BAIL;
    s->p = q;
    return 0;
}

static bool
is_lit(struct sctx *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* ----------------------------------------------------------- primitives -- */

static bool
is_b64_data(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_B64_AVX2 1

/*
 * The groups of the bytes of v, 0 in the lanes that are neither base64
 * data nor a space (not_b64_or_space32 makes those 0xFF), by the two
 * nibbles of each byte: a byte is allowed when the groups its high nibble
 * allows (hi_groups) and those its low nibble is in (lo_groups) share a
 * bit.  Groups: 1 = 0x20 ' ', 0x2B '+', 0x2F '/'; 2 = 0x30-0x39;
 * 4 = 0x41-0x4F, 0x61-0x6F; 8 = 0x50-0x5A, 0x70-0x7A.  Bytes from 0x80
 * look up 0 (pshufb's rule for an index with the high bit set).
 */
__attribute__((target("avx2"))) static inline __m256i
b64_groups32(__m256i v)
{
    const __m256i hi_groups = _mm256_setr_epi8(0, 0, 1, 2, 4, 8, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                               1, 2, 4, 8, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i lo_groups = _mm256_setr_epi8(
        1 | 2 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8,
        2 | 4 | 8, 2 | 4 | 8, 4 | 8, 1 | 4, 4, 4, 4, 1 | 4, 1 | 2 | 8, 2 | 4 | 8, 2 | 4 | 8,
        2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 4 | 8, 1 | 4,
        4, 4, 4, 1 | 4);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
    __m256i groups =
        _mm256_and_si256(_mm256_shuffle_epi8(hi_groups, hi), _mm256_shuffle_epi8(lo_groups, v));

    return groups;
}

__attribute__((target("avx2"))) static inline __m256i
not_b64_or_space32(__m256i v)
{
    return _mm256_cmpeq_epi8(b64_groups32(v), _mm256_setzero_si256());
}

__attribute__((target("avx2"))) static inline size_t
lane_sum32(__m256i counts)
{
    __m256i sad = _mm256_sad_epu8(counts, _mm256_setzero_si256());

    return (size_t)_mm256_extract_epi64(sad, 0) + (size_t)_mm256_extract_epi64(sad, 1) +
           (size_t)_mm256_extract_epi64(sad, 2) + (size_t)_mm256_extract_epi64(sad, 3);
}

/* fhir_validate__b64_run() 128 and then 64 bytes a step with AVX2 (half
 * the instructions of SSE2 on an attachment); the last bytes, and the
 * block with another byte, are left to it. */
__attribute__((target("avx2"))) static size_t
b64_run_avx2(const unsigned char *p, size_t len, size_t *spaces)
{
    const __m256i sp = _mm256_set1_epi8(' ');
    __m256i counts = _mm256_setzero_si256();
    size_t i = 0;

    /* the lanes count spaces modulo 256, so *spaces gains them modulo 4
     * exactly (256 is a multiple of 4): all base64_plain's rule needs */
    while (len - i >= 128) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 32));
        __m256i v2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 64));
        __m256i v3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 96));
        /* a lane of one of the four without a group is a 0 in their minimum */
        __m256i bad =
            _mm256_cmpeq_epi8(_mm256_min_epu8(_mm256_min_epu8(b64_groups32(v0), b64_groups32(v1)),
                                              _mm256_min_epu8(b64_groups32(v2), b64_groups32(v3))),
                              _mm256_setzero_si256());

        if (!_mm256_testz_si256(bad, _mm256_set1_epi8(-1)))
            break;
        counts = _mm256_sub_epi8(
            counts,
            _mm256_add_epi8(_mm256_add_epi8(_mm256_cmpeq_epi8(v0, sp), _mm256_cmpeq_epi8(v1, sp)),
                            _mm256_add_epi8(_mm256_cmpeq_epi8(v2, sp), _mm256_cmpeq_epi8(v3, sp))));
        i += 128;
    }
    while (len - i >= 64) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 32));

        if (!_mm256_testz_si256(_mm256_or_si256(not_b64_or_space32(v0), not_b64_or_space32(v1)),
                                _mm256_set1_epi8(-1)))
            break;
        counts = _mm256_sub_epi8(
            counts, _mm256_add_epi8(_mm256_cmpeq_epi8(v0, sp), _mm256_cmpeq_epi8(v1, sp)));
        i += 64;
    }
    *spaces += lane_sum32(counts);
    return i + fhir_validate__b64_run(p + i, len - i, spaces);
}
#endif

/* Base64 data and spaces from p on (fhir_validate__b64_run's contract,
 * but the spaces are added modulo 4 only). */
static size_t
b64_run(const unsigned char *p, size_t len, size_t *spaces)
{
#if defined(HAVE_B64_AVX2)
    if (__builtin_cpu_supports("avx2"))
        return b64_run_avx2(p, len, spaces);
#endif
    return fhir_validate__b64_run(p, len, spaces);
}

/*
 * A base64Binary string at s->p ('"') made of alphabet, '=' and spaces
 * only — the form attachments take in JSON — checked with check_base64's
 * rule (primitive.c) in the pass that finds its end, instead of a scan and
 * then a check (the examples' 750 KB attachment is two thirds of their
 * bytes).  False, with s->p unchanged, sends the string down the general
 * path, which decides it; true only where that path would accept it.
 */
static bool
base64_plain(struct sctx *s)
{
    const unsigned char *q = s->p + 1;
    const unsigned char *r = q;
    size_t spaces = 0;
    size_t pad = 0;
    size_t len;

    for (;; r++) {
        if (pad == 0)
            r += b64_run(r, (size_t)(s->end - r), &spaces);
        if (r >= s->end)
            return false;
        if (*r == '"')
            break;
        if (*r == ' ')
            spaces++;
        else if (*r == '=')
            pad++;
        else if (!is_b64_data(*r) || pad > 0)
            return false; /* escapes, other bytes, data after padding */
    }
    len = (size_t)(r - q);
    if (len == 0 || len > s->lim.max_string || (len - spaces) % 4 != 0 || pad > 2)
        return false;
    s->p = r + 1;
    return true;
}

/* The primitives whose JSON form is not a string (json.html#primitive). */
#define PRIM_BIT(p)     (1u << (p))
#define PRIM_NOT_STRING                                                                            \
    (PRIM_BIT(FHIR_PRIM_BOOLEAN) | PRIM_BIT(FHIR_PRIM_DECIMAL) | PRIM_BIT(FHIR_PRIM_INTEGER) |     \
     PRIM_BIT(FHIR_PRIM_POSITIVEINT) | PRIM_BIT(FHIR_PRIM_UNSIGNEDINT))
/* Free text: fhir_validate_primitive() only limits its length. */
#define PRIM_TEXT (PRIM_BIT(FHIR_PRIM_STRING) | PRIM_BIT(FHIR_PRIM_MARKDOWN))
_Static_assert(FHIR_PRIM_XHTML < 32, "primitive kinds fit a 32-bit set");

/*
 * Fast accepts for the commonest checks.  Each says true only where the
 * general checker (primitive.c, rules.c) accepts the same text; false
 * decides nothing — the caller then asks the general checker.
 */

/* Two ASCII digits as a number, 100 when either is not a digit. */
static inline unsigned
dig2(const unsigned char *p)
{
    unsigned a = (unsigned)p[0] - '0';
    unsigned b = (unsigned)p[1] - '0';

    return (a < 10 && b < 10) ? a * 10 + b : 100;
}

/* Year 0001-9999, month 1-12, a day of that month (scan_date). */
static inline bool
calendar_ok(unsigned y, unsigned m, unsigned d)
{
    static const unsigned char dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (y == 0 || m < 1 || m > 12 || d < 1)
        return false;
    if (d <= dim[m])
        return true;
    return m == 2 && d == 29 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

/* YYYY-MM-DD at s (10 bytes there): a real calendar date, year 0001-9999
 * (scan_date in primitive.c). */
static bool
fast_full_date(const unsigned char *s)
{
    unsigned hi = dig2(s);
    unsigned lo = dig2(s + 2);
    unsigned m = dig2(s + 5);
    unsigned d = dig2(s + 8);

    if (hi > 99 || lo > 99 || s[4] != '-' || s[7] != '-')
        return false;
    return calendar_ok(hi * 100 + lo, m, d);
}

#if defined(__SSE2__)
/* YYYY-MM-DDThh:mm (16 bytes at s): digits and separators in one compare,
 * then the ranges of scan_date and scan_time. */
static inline bool
fast_date_hour_minute(const unsigned char *s)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    unsigned digit = (unsigned)_mm_movemask_epi8(fhir_validate__in_range(v, '0', 10));
    unsigned sep = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(v, _mm_setr_epi8(0, 0, 0, 0, '-', 0, 0, '-', 0, 0, 'T', 0, 0, ':', 0, 0)));
#define N2(i) ((unsigned)(s[i] - '0') * 10u + (unsigned)(s[(i) + 1] - '0'))

    /* digits at 0-3, 5-6, 8-9, 11-12, 14-15; '-' '-' 'T' ':' at 4, 7, 10, 13 */
    if ((digit & 0xDB6Fu) != 0xDB6Fu || (sep & 0x2490u) != 0x2490u)
        return false;
    return calendar_ok(N2(0) * 100u + N2(2), N2(5), N2(8)) && N2(11) <= 23 && N2(14) <= 59;
#undef N2
}
#endif

/* date YYYY-MM-DD; dateTime and instant YYYY-MM-DDThh:mm:ss(.f+)?(Z|+hh:mm)
 * with the ranges of scan_time and scan_zone (primitive.c).  Partial dates
 * and times without a zone are left to the general checker. */
static bool
fast_datetime(enum fhir_model_prim prim, const unsigned char *s, size_t len)
{
    size_t i = 19;
    unsigned zh;
    unsigned zm;

    if (len == 10)
        return prim != FHIR_PRIM_INSTANT && fast_full_date(s);
    if (prim == FHIR_PRIM_DATE || len < 20)
        return false;
#if defined(__SSE2__)
    if (!fast_date_hour_minute(s))
        return false;
#else
    if (!fast_full_date(s) || s[10] != 'T' || dig2(s + 11) > 23 || s[13] != ':' ||
        dig2(s + 14) > 59)
        return false;
#endif
    if (s[16] != ':' || dig2(s + 17) > 60)
        return false;
    if (s[i] == '.') {
        while (++i < len && (unsigned)s[i] - '0' < 10)
            ;
        if (i == 20)
            return false;
    }
    if (i < len && s[i] == 'Z')
        return i + 1 == len;
    if (len - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
        return false;
    zh = dig2(s + i + 1);
    zm = dig2(s + i + 4);
    return (zh <= 13 && zm <= 59) || (zh == 14 && zm == 0);
}

#define PRIM_DATES                                                                                 \
    (PRIM_BIT(FHIR_PRIM_DATE) | PRIM_BIT(FHIR_PRIM_DATETIME) | PRIM_BIT(FHIR_PRIM_INSTANT))

#if defined(__SSE2__)
/* Lanes that are not id characters [A-Za-z0-9\-\.] ('-' '.' '/' and the
 * digits are 0x2D-0x39; '/' is not one). */
static inline __m128i
not_id_byte(__m128i v)
{
    __m128i ok = _mm_or_si128(fhir_validate__in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26),
                              fhir_validate__in_range(v, '-', 13));

    return _mm_or_si128(_mm_cmpeq_epi8(ok, _mm_setzero_si128()),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8('/')));
}

/* Lanes that are not ASCII letters or digits. */
static inline __m128i
not_alnum(__m128i v)
{
    return _mm_cmpeq_epi8(
        _mm_or_si128(fhir_validate__in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26),
                     fhir_validate__in_range(v, '0', 10)),
        _mm_setzero_si128());
}

static inline __m128i
is_space_byte(__m128i v)
{
    return _mm_cmpeq_epi8(v, _mm_set1_epi8(' '));
}

/* True when no byte of p[0..len) is one that `bad` marks, sixteen at a
 * time; a string shorter than 16 bytes is read as the 16 from p on, when
 * the text has them (`limit`), its own lanes masked.  False when it has
 * such a byte or the text is too short to tell. */
static inline bool
none_of(const unsigned char *p, size_t len, const unsigned char *limit, __m128i (*bad)(__m128i))
{
    size_t i = 0;

    if (len < 16) {
        if (limit - p < 16)
            return false;
        return ((unsigned)_mm_movemask_epi8(bad(_mm_loadu_si128((const __m128i *)(const void *)p))) &
                ((1u << len) - 1u)) == 0;
    }
    for (; len - i >= 16; i += 16) {
        if (_mm_movemask_epi8(bad(_mm_loadu_si128((const __m128i *)(const void *)(p + i)))) != 0)
            return false;
    }
    return i == len ||
           _mm_movemask_epi8(bad(_mm_loadu_si128((const __m128i *)(const void *)(p + len - 16)))) ==
               0;
}
#endif

/* Types whose unescaped JSON strings without a space are valid, apart
 * from what a URN names: \S* for uri, url and canonical (uri_check() then
 * looks at urn:uuid and urn:oid), [^\s]+(\s[^\s]+)* for code
 * (datatypes.html; an unescaped JSON string has no tab, LF or CR). */
#define PRIM_NO_SPACE                                                                              \
    (PRIM_BIT(FHIR_PRIM_URI) | PRIM_BIT(FHIR_PRIM_URL) | PRIM_BIT(FHIR_PRIM_CANONICAL) |           \
     PRIM_BIT(FHIR_PRIM_CODE))

/*
 * fhir_validate_primitive(prim, s, len) == FHIR_PRIM_OK for a string
 * without escapes (raw text or decoded), the commonest forms first:
 * full dates, codes without a space, ids (not for uri, url and canonical:
 * uri_check() decides those, warning included).  `limit` is the end of
 * the buffer s lies in (a short string is read 16 bytes at once when the
 * buffer has them).
 */
static inline bool
prim_ok(enum fhir_model_prim prim, const char *s, size_t len, const unsigned char *limit)
{
    const unsigned char *u = (const unsigned char *)s;

    if (UNLIKELY(len == 0))
        return false; /* every primitive's text is non-empty */
    if ((PRIM_BIT(prim) & PRIM_DATES) && fast_datetime(prim, u, len))
        return true;
#if defined(__SSE2__)
    if (prim == FHIR_PRIM_CODE && none_of(u, len, limit, is_space_byte))
        return true;
    if (prim == FHIR_PRIM_ID && len <= 64 && none_of(u, len, limit, not_id_byte))
        return true;
#else
    (void)limit;
#endif
    return fhir_validate_primitive(prim, s, len) == FHIR_PRIM_OK;
}

static inline bool
is_alnum(unsigned char c)
{
    return (unsigned)c - '0' < 10 || (unsigned)(c | 0x20) - 'a' < 26;
}

/* The 36 characters of a lower-case uuid (8-4-4-4-12 hex digits). */
static bool
fast_uuid_body(const unsigned char *u)
{
#if defined(__SSE2__)
    /* three loads cover bytes 0-15, 16-31 and 20-35; each lane is a hex
     * digit or a '-', and the '-' are exactly at 8, 13, 18 and 23 */
    __m128i v[3] = {_mm_loadu_si128((const __m128i *)(const void *)u),
                    _mm_loadu_si128((const __m128i *)(const void *)(u + 16)),
                    _mm_loadu_si128((const __m128i *)(const void *)(u + 20))};
    static const unsigned dashes[3] = {1u << 8 | 1u << 13, 1u << 2 | 1u << 7, 1u << 3};
    bool ok = true;

    for (unsigned k = 0; k < 3; k++) {
        __m128i hex = _mm_or_si128(fhir_validate__in_range(v[k], '0', 10),
                                   fhir_validate__in_range(v[k], 'a', 6));
        unsigned dash = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v[k], _mm_set1_epi8('-')));

        ok &= dash == dashes[k] && ((unsigned)_mm_movemask_epi8(hex) | dash) == 0xFFFFu;
    }
    return ok;
#else
    for (unsigned k = 0; k < 36; k++) {
        unsigned c = u[k];

        if (k == 8 || k == 13 || k == 18 || k == 23) {
            if (c != '-')
                return false;
        } else if (!(c - '0' < 10 || c - 'a' < 6)) {
            return false;
        }
    }
    return true;
#endif
}

/*
 * fhir_validate__reference_form() for the forms bulk data is made of —
 * urn:uuid, Type/id and Type?query — or -1 to ask it.  Type is letters and
 * digits only: a ':' (a scheme), '+', '-' or '.' before the '/' or '?' is
 * left to the general function, and so is every form it would refuse.
 */
static inline __attribute__((always_inline)) int
fast_reference(struct base_str r, const unsigned char *limit)
{
    const unsigned char *u = (const unsigned char *)r.ptr;
    size_t i = 0;

    if (r.len == 45 && memcmp(u, "urn:uuid:", 9) == 0)
        return fast_uuid_body(u + 9) ? FHIR_VALIDATE__REF_OK : -1;
#if defined(__SSE2__)
    if (limit - u >= 32) {
        /* the type name, up to 31 letters and digits, in two loads */
        uint32_t m = (uint32_t)_mm_movemask_epi8(
                         not_alnum(_mm_loadu_si128((const __m128i *)(const void *)u))) |
                     (uint32_t)_mm_movemask_epi8(
                         not_alnum(_mm_loadu_si128((const __m128i *)(const void *)(u + 16))))
                         << 16;

        if (m == 0)
            return -1;
        i = (size_t)__builtin_ctz(m);
        if (i > r.len)
            i = r.len;
    } else
#endif
    {
        while (i < r.len && is_alnum(u[i]))
            i++;
    }
    if (i == 0 || i >= r.len || (u[i] != '/' && u[i] != '?'))
        return -1;
    if (fhir_model__resource_type(r.ptr, i) == 0)
        return -1;
    if (u[i] == '?')
        return FHIR_VALIDATE__REF_CONDITIONAL;
    /* Type/id without a version */
    if (!prim_ok(FHIR_PRIM_ID, r.ptr + i + 1, r.len - i - 1, limit))
        return -1; /* "/_history/" and every refusal */
    return FHIR_VALIDATE__REF_OK;
}

/* A boolean or number primitive at s->p (not a string); a number's text
 * in *out_str when it is not NULL. */
static int
literal(struct sctx *s, enum fhir_model_prim prim, struct base_str *out_str)
{
    struct base_str raw;

    if (UNLIKELY(!(PRIM_BIT(prim) & PRIM_NOT_STRING)))
        return BAIL;
    if (prim == FHIR_PRIM_BOOLEAN)
        return is_lit(s, "true", 4) || is_lit(s, "false", 5) ? 0 : BAIL;
    STEP(scan_number(s, &raw));
    if (out_str != NULL)
        *out_str = raw;
    /* for literals the tree's range check and this agree on validity */
    return prim == FHIR_PRIM_DECIMAL || fhir_validate_primitive(prim, raw.ptr, raw.len) == FHIR_PRIM_OK
               ? 0
               : BAIL;
}

/* What primitive() and string_general() return besides 0 and BAIL: the
 * value is valid, with the upper-case urn:uuid warning walk.c gives it
 * (its caller reports it where the value is). */
#define WARN_UUID_CASE 1

#define PRIM_URIS                                                                                  \
    (PRIM_BIT(FHIR_PRIM_URI) | PRIM_BIT(FHIR_PRIM_URL) | PRIM_BIT(FHIR_PRIM_CANONICAL))

/* The part of an oid after "urn:oid:": [0-2](\.(0|[1-9][0-9]*))+ (the
 * oid regex, primitive.c's check_oid). */
static bool
fast_oid(const unsigned char *p, size_t n)
{
    size_t i = 1;

    if (n < 3 || p[0] < '0' || p[0] > '2')
        return false;
    while (i < n) {
        size_t start;

        if (p[i] != '.')
            return false;
        start = ++i;
        while (i < n && (unsigned)p[i] - '0' < 10)
            i++;
        if (i == start || (p[start] == '0' && i - start > 1))
            return false;
    }
    return true;
}

/* A uri, url or canonical (any text): fhir_validate_primitive() and the
 * urn:uuid case (walk.c). */
static int
uri_general(enum fhir_model_prim prim, const char *s, size_t len)
{
    if (fhir_validate_primitive(prim, s, len) != FHIR_PRIM_OK)
        return BAIL;
    return fhir_validate__uri_urn(s, len) == FHIR_VALIDATE__URN_UPPER ? WARN_UUID_CASE : 0;
}

/* The same for an unescaped string (raw JSON text holds no tab, LF or
 * CR): without a space and not a URN — nearly every one — it is valid;
 * urn:uuid with a lower-case uuid is checked inline. */
static inline int
uri_check(enum fhir_model_prim prim, const char *s, size_t len, const unsigned char *limit)
{
    const unsigned char *u = (const unsigned char *)s;

#if defined(__SSE2__)
    if (LIKELY(len > 0) && none_of(u, len, limit, is_space_byte)) {
        if (len < 8 || memcmp(u, "urn:", 4) != 0)
            return 0;
        if (len == 45 && memcmp(u + 4, "uuid:", 5) == 0 && fast_uuid_body(u + 9))
            return 0;
        if (memcmp(u + 4, "oid:", 4) == 0 && fast_oid(u + 8, len - 8))
            return 0;
    }
#else
    (void)u;
    (void)limit;
#endif
    return uri_general(prim, s, len);
}

/* A uri, url or canonical "#..." (raw text): "#" in a contained resource
 * refers to its container, "#id" to a contained resource (dom-3). */
static int
note_local_uri(struct sctx *s, struct base_str v)
{
    if (v.len == 1) {
        s->back |= s->in_contained;
        return 0;
    }
    if (UNLIKELY(s->scope == NULL || s->scope->n_urirefs >= MAX_LOCAL_REFS))
        return BAIL;
    s->scope->urirefs[s->scope->n_urirefs++] = (struct base_str){v.ptr + 1, v.len - 1};
    return 0;
}

/* Report the warning WARN_UUID_CASE stands for, at the current location. */
static void
warn_uuid_case(struct sctx *s)
{
    fhir_validate__warn_uuid_case(s->c);
}

/* A string primitive at s->p ('"'), every case: base64 attachments,
 * narratives, escapes, bound codes, values kept for the holder. */
static int
string_general(struct sctx *s, const struct fhir_model_type *t, const struct fhir_model_elem *e,
               struct base_str *out_str)
{
    enum fhir_model_prim prim = (enum fhir_model_prim)t->prim;
    struct base_str raw;
    struct base_str v;
    unsigned flags;
    int rc = 0;

    if (t->prim == FHIR_PRIM_BASE64BINARY && out_str == NULL &&
        (e == NULL || e->valueset == NULL) && base64_plain(s))
        return 0;
    STEP(scan_string(s, &raw, &flags));
    if (UNLIKELY((flags & STR_CTRL) || raw.len == 0))
        return BAIL;
    STEP(decode(s, raw, flags, &v));
    if (t->prim == FHIR_PRIM_XHTML)
        return fhir_validate__xhtml(v.ptr, v.len) == FHIR_XHTML_OK ? 0 : BAIL;
    /* free text within the length limit needs no call.  prim_ok's no-space
     * shortcut for URIs and codes holds for raw JSON text only: a decoded
     * escape can be a tab, LF or CR ("http://x/a\tb"), so escaped ones go
     * to the general checker */
    if (PRIM_BIT(prim) & PRIM_URIS) {
        rc = (flags & STR_ESCAPED) ? uri_general(prim, v.ptr, v.len)
                                   : uri_check(prim, v.ptr, v.len, s->end);
        if (UNLIKELY(rc < 0))
            return BAIL;
        /* a "#id" kept must point into the text: escaped ones bail */
        if (UNLIKELY(v.ptr[0] == '#') && ((flags & STR_ESCAPED) || note_local_uri(s, v) < 0))
            return BAIL;
    } else if (!((PRIM_BIT(prim) & PRIM_TEXT) && v.len <= FHIR_VALIDATE__STRING_MAX_CHARS) &&
               !((flags & STR_ESCAPED) && (PRIM_BIT(prim) & PRIM_NO_SPACE)
                     ? fhir_validate_primitive(prim, v.ptr, v.len) == FHIR_PRIM_OK
                     : prim_ok(prim, v.ptr, v.len,
                               (flags & STR_ESCAPED) ? (const unsigned char *)v.ptr + v.len
                                                     : s->end))) {
        return BAIL;
    }
    if (e != NULL && e->valueset != NULL &&
        (t->prim == FHIR_PRIM_CODE || t->prim == FHIR_PRIM_STRING || t->prim == FHIR_PRIM_URI) &&
        !(e->valueset->kind == FHIR_VS_MIME_TYPE && fhir_validate__shorthand_format(e, v)) &&
        fhir_model_vs_check(e->valueset, NULL, 0, v.ptr, v.len) == FHIR_VS_NOT_MEMBER)
        return BAIL;
    if (out_str != NULL) {
        /* captured values point into the text: escaped ones are not kept */
        if (UNLIKELY(flags & STR_ESCAPED))
            return BAIL;
        *out_str = v;
    }
    return rc;
}

/* Primitives string_general() handles from the start. */
#define PRIM_GENERAL (PRIM_BIT(FHIR_PRIM_BASE64BINARY) | PRIM_BIT(FHIR_PRIM_XHTML))

static inline __attribute__((always_inline)) int
primitive_inline(struct sctx *s, const struct fhir_model_type *t, const struct fhir_model_elem *e,
                 struct base_str *out_str)
{
    enum fhir_model_prim prim = (enum fhir_model_prim)t->prim;
    const unsigned char *start = s->p;
    struct base_str raw;
    unsigned flags;

    /* callers stand on the value (whitespace skipped) */
    if (UNLIKELY(s->p >= s->end))
        return BAIL;
    if (*s->p != '"')
        return literal(s, prim, out_str);
    if (UNLIKELY(PRIM_BIT(prim) & PRIM_NOT_STRING))
        return BAIL;
    if ((PRIM_BIT(prim) & PRIM_GENERAL) || (e != NULL && e->valueset != NULL))
        return string_general(s, t, e, out_str);
    /* the common case, kept small: an unescaped string checked by its type
     * (and kept for the holder: a Reference's reference, a resource's id) */
    STEP(scan_string(s, &raw, &flags));
    if (flags != 0) {
        s->p = start;
        return string_general(s, t, e, out_str);
    }
    if (UNLIKELY(raw.len == 0))
        return BAIL;
    if (out_str != NULL)
        *out_str = raw;
    if ((PRIM_BIT(prim) & PRIM_TEXT) && raw.len <= FHIR_VALIDATE__STRING_MAX_CHARS)
        return 0;
    if (PRIM_BIT(prim) & PRIM_URIS) {
        if (UNLIKELY(raw.ptr[0] == '#'))
            STEP(note_local_uri(s, raw));
        return uri_check(prim, raw.ptr, raw.len, s->end);
    }
    return prim_ok(prim, raw.ptr, raw.len, s->end) ? 0 : BAIL;
}

/* A primitive value at s->p; the member loop's single primitives (the
 * commonest member) get the body inline, the other callers this call. */
static int
primitive(struct sctx *s, const struct fhir_model_type *t, const struct fhir_model_elem *e,
          struct base_str *out_str)
{
    return primitive_inline(s, t, e, out_str);
}

/* -------------------------------------------------------------- objects -- */

/* What an object has seen so far: bit sets, so that a new object costs no
 * clearing and a member a few bit operations. */
struct frame {
    uint64_t val;                   /* bit i: element i seen as "name" */
    uint64_t ext;                   /* bit i: element i seen as "_name" */
    uint64_t ext_without_extension; /* "_name" objects that need the value */
    /* choice[i]: the choice of choice element i, written whenever bit i is set */
    unsigned char choice[FHIR_MODEL_MAX_ELEMS];
    /* values the object's own invariants compare (cap_slot()) */
    struct base_str cap[4];
    bool cap_has[4];
    unsigned entry_rt;  /* Bundle.entry: type index + 1 of its resource */
    uint64_t capmask;   /* the elements kept in cap[] (cap_mask), when it keeps any */
    uint64_t kidmask;   /* the elements whose objects report to it (kid_mask) */
    struct kid kids[2]; /* what children tell it: a Range's low and high, a
                         * Bundle's identifier, an Observation's code */
};

/* The Quantity family (Quantity and its R4 profiles, which share its
 * elements). */
static bool
is_quantity(const struct fhir_model_type *t)
{
    return fhir_validate__is_coded(t) && t->index != FHIR_T_CODING;
}

/* The Quantity profiles with invariants on values (age-1, cnt-3, dis-1,
 * mqty-1). */
static bool
is_qty_profile(const struct fhir_model_type *t)
{
    return t->index == FHIR_T_AGE || t->index == FHIR_T_COUNT || t->index == FHIR_T_DISTANCE ||
           t->index == FHIR_T_MONEYQUANTITY;
}

/* Which of the frame's cap[] keeps single primitive element `elem` of t
 * for the object's own invariants, -1 for none. */
static int
cap_slot(const struct fhir_model_type *t, unsigned how, unsigned elem, const struct sobj *out)
{
    switch (t->index) {
    case FHIR_T_PERIOD:
        return elem == FHIR_VE_PERIOD_START ? 0 : elem == FHIR_VE_PERIOD_END ? 1 : -1;
    case FHIR_VT_TIMING_REPEAT:
        return elem == FHIR_VE_TIMING_REPEAT_DURATION ? 0
               : elem == FHIR_VE_TIMING_REPEAT_PERIOD ? 1
                                                      : -1;
    case FHIR_T_TRIGGERDEFINITION:
        return elem == FHIR_VE_TRIGGERDEFINITION_TYPE ? 0 : -1;
    case FHIR_VT_BUNDLE_ENTRY:
        return elem == FHIR_VE_BUNDLE_ENTRY_FULLURL ? 0 : -1;
    case FHIR_T_BUNDLE:
        return (how & OBJ_RESOURCE) && elem == FHIR_VE_BUNDLE_TYPE ? 0 : -1;
    default:
        break;
    }
    if (!(is_qty_profile(t) || (out->kid != NULL && is_quantity(t))))
        return -1;
    switch (elem) {
    case FHIR_VE_QUANTITY_VALUE:
        return 0;
    case FHIR_VE_QUANTITY_UNIT:
        return 1;
    case FHIR_VE_QUANTITY_SYSTEM:
        return out->want_code ? -1 : 2; /* else kept in out->system */
    case FHIR_VE_QUANTITY_CODE:
        return out->want_code ? -1 : 3;
    default:
        return -1;
    }
}

#define BIT(e) (UINT64_C(1) << (e))

/* The elements cap_slot() keeps: bit i for element i. */
static uint64_t
cap_mask(const struct fhir_model_type *t, unsigned how, const struct sobj *out)
{
    switch (t->index) {
    case FHIR_T_PERIOD:
        return BIT(FHIR_VE_PERIOD_START) | BIT(FHIR_VE_PERIOD_END);
    case FHIR_VT_TIMING_REPEAT:
        return BIT(FHIR_VE_TIMING_REPEAT_DURATION) | BIT(FHIR_VE_TIMING_REPEAT_PERIOD);
    case FHIR_T_TRIGGERDEFINITION:
        return BIT(FHIR_VE_TRIGGERDEFINITION_TYPE);
    case FHIR_VT_BUNDLE_ENTRY:
        return BIT(FHIR_VE_BUNDLE_ENTRY_FULLURL);
    case FHIR_T_BUNDLE:
        return (how & OBJ_RESOURCE) ? BIT(FHIR_VE_BUNDLE_TYPE) : 0;
    default:
        break;
    }
    if (!(is_qty_profile(t) || (out->kid != NULL && is_quantity(t))))
        return 0;
    return BIT(FHIR_VE_QUANTITY_VALUE) | BIT(FHIR_VE_QUANTITY_UNIT) |
           (out->want_code ? 0 : BIT(FHIR_VE_QUANTITY_SYSTEM) | BIT(FHIR_VE_QUANTITY_CODE));
}

#undef BIT

/* A Quantity's parts from what its object kept. */
static void
qty_parts(const struct frame *fr, const struct sobj *out, uint64_t seen,
          struct fhir_validate__qty *q)
{
    q->value = fr->cap[0];
    q->has_value = fr->cap_has[0];
    q->unit = fr->cap[1];
    q->has_unit = fr->cap_has[1];
    q->has_system = fr->cap_has[2] || out->has_system;
    q->system = fr->cap_has[2] ? fr->cap[2] : kept(out->system, out->has_system);
    q->has_code = fr->cap_has[3] || out->has_code;
    q->code = fr->cap_has[3] ? fr->cap[3] : kept(out->code, out->has_code);
    q->value_el = (seen >> FHIR_VE_QUANTITY_VALUE) & 1u;
    q->comparator_el = (seen >> FHIR_VE_QUANTITY_COMPARATOR) & 1u;
    q->unit_el = (seen >> FHIR_VE_QUANTITY_UNIT) & 1u;
    q->system_el = (seen >> FHIR_VE_QUANTITY_SYSTEM) & 1u;
    q->code_el = (seen >> FHIR_VE_QUANTITY_CODE) & 1u;
}

static bool
key_is(struct base_str k, const char *lit, size_t n)
{
    return k.len == n && memcmp(k.ptr, lit, n) == 0;
}

/* Which member values the object keeps for its holder. */
static inline __attribute__((always_inline)) struct base_str *
capture_slot(const struct fhir_model_type *t, unsigned how, struct base_str key, struct sobj *out,
             struct base_str *ref, bool **flag)
{
    if (how & OBJ_RESOURCE) {
        if (key_is(key, "id", 2)) {
            *flag = &out->has_id;
            return &out->id;
        }
        return NULL;
    }
    if (t->index == FHIR_T_REFERENCE) {
        if (!key_is(key, "reference", 9))
            return NULL;
        *flag = NULL;
        return ref;
    }
    if (t->index == FHIR_T_META) {
        /* meta.versionId, for the entry that holds the resource (bdl-7) */
        if (!key_is(key, "versionId", 9))
            return NULL;
        *flag = &out->has_id;
        return &out->id;
    }
    if (out->want_code && fhir_validate__is_coded(t)) {
        if (key_is(key, "code", 4)) {
            *flag = &out->has_code;
            return &out->code;
        }
        if (key_is(key, "system", 6)) {
            *flag = &out->has_system;
            return &out->system;
        }
    }
    return NULL;
}

/* The value side of element `e` of `owner`, of type `type` (choice
 * resolved): array or single. */
static inline __attribute__((always_inline)) int
member_value(struct sctx *s, const struct fhir_model_type *owner, const struct fhir_model_elem *e,
             const struct fhir_model_type *type, struct sobj *out, struct base_str *capture,
             bool *capture_flag, struct kid *kid)
{
    struct sobj *cc_acc = NULL;
    size_t n = 0;

    /* codings of a CodeableConcept bound `required` count for the concept */
    if (owner->index == FHIR_T_CODEABLECONCEPT && out->vs != NULL &&
        key_is((struct base_str){e->name, e->name_len}, "coding", 6))
        cc_acc = out;
    skip_ws(s);
    if (UNLIKELY(s->p >= s->end || *s->p == 'n'))
        return BAIL; /* null */
    if (!fhir_model_elem_is_multiple(e)) {
        if (UNLIKELY(*s->p == '['))
            return BAIL;
        if (capture != NULL && type->kind == FHIR_MODEL_PRIMITIVE) {
            int rc = primitive(s, type, e, capture);

            if (UNLIKELY(rc != 0)) {
                if (rc < 0)
                    return BAIL;
                warn_uuid_case(s);
            }
            if (capture_flag != NULL)
                *capture_flag = true;
            return 0;
        }
        return value(s, type, e, cc_acc, kid);
    }
    if (UNLIKELY(*s->p != '['))
        return BAIL;
    STEP(enter(s));
    skip_ws(s);
    if (UNLIKELY(s->p < s->end && *s->p == ']'))
        return BAIL; /* empty array */
    for (;;) {
        if (UNLIKELY(n >= s->lim.max_array))
            return BAIL;
        fhir_validate__set_index(s->c, (long)n);
        skip_ws(s);
        if (UNLIKELY(s->p >= s->end || *s->p == 'n'))
            return BAIL;
        STEP(value(s, type, e, cc_acc, NULL));
        n++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            break;
        }
        return BAIL;
    }
    s->jdepth--;
    fhir_validate__set_index(s->c, -1);
    if (UNLIKELY(e->max != FHIR_MODEL_MAX_UNBOUNDED && n > e->max))
        return BAIL;
    return 0;
}

/* The value of Bundle.type decides conditional references in entries. */
static enum tx_state
bundle_tx(struct base_str type)
{
    return (base_str_eq_cstr(type, "transaction") || base_str_eq_cstr(type, "batch")) ? TX_YES
                                                                                      : TX_NO;
}

static int object_members_plain(struct sctx *s, const struct fhir_model_type *t, unsigned how,
                                struct sobj *out, struct frame *fr, bool first_done);
static int object_members_rules(struct sctx *s, const struct fhir_model_type *t, unsigned how,
                                struct sobj *out, struct frame *fr, bool first_done);

/* The types whose objects take object_members_rules(): invariants on
 * values or presence, values kept, children that report. */
#define TF_RULES_LOOP                                                                              \
    (FHIR_VALIDATE__TF_RULES | FHIR_VALIDATE__TF_VALUES | FHIR_VALIDATE__TF_CAPTURE |              \
     FHIR_VALIDATE__TF_KIDS)

/* The member loop for an object of type t: most objects have no
 * invariants beyond structure and take the plain loop, which does nothing
 * for them (the same code, instantiated twice). */
static inline __attribute__((always_inline)) int
object_members(struct sctx *s, const struct fhir_model_type *t, unsigned how, struct sobj *out,
               struct frame *fr, bool first_done)
{
    if (UNLIKELY((fhir_validate__type_flags[t->index] & TF_RULES_LOOP) || out->kid != NULL))
        return object_members_rules(s, t, how, out, fr, first_done);
    return object_members_plain(s, t, how, out, fr, first_done);
}

/* An object of complex type `t` at s->p ('{'); inline in value(). */
static inline __attribute__((always_inline)) int
object(struct sctx *s, const struct fhir_model_type *t, unsigned how, struct sobj *out)
{
    struct frame fr;

    if (UNLIKELY(s->p >= s->end || *s->p != '{'))
        return BAIL;
    if (UNLIKELY(s->c->depth >= s->c->max_depth))
        return BAIL;
    STEP(enter(s));
    return object_members(s, t, how, out, &fr, false);
}

/* Is `bits` exactly element "id" of `t` (ele-1: an element with only an id)? */
static inline __attribute__((always_inline)) bool
only_id(const struct fhir_model_type *t, uint64_t bits)
{
    const struct fhir_model_elem *e;

    if (bits == 0 || (bits & (bits - 1)) != 0)
        return false;
    e = &t->elems[__builtin_ctzll(bits)];
    return e->name_len == 2 && memcmp(e->name, "id", 2) == 0;
}

/* Append to urls or codings, which are set up on first use (most
 * documents need neither). */
static int
keep_append(struct sctx *s, struct base_buf *b, const void *p, size_t n)
{
    if (!s->bufs_ready) {
        base_buf_init(&s->urls, 0);
        base_buf_init(&s->codings, 0);
        s->bufs_ready = true;
    }
    return base_buf_append(b, p, n) == BASE_OK ? 0 : BAIL;
}

/* Does a fullUrl repeat among this Bundle's entries (bdl-7; the tree
 * path then decides with meta.versionId)? */
static bool
same_entry_url(const struct url_vid *a, const struct url_vid *b)
{
    return base_str_eq(a->url, b->url) && a->has_vid == b->has_vid &&
           (!a->has_vid || base_str_eq(a->vid, b->vid));
}

static bool
urls_repeat(struct sctx *s, const struct bstate *b)
{
    size_t n = s->urls.len / sizeof(struct url_vid) - b->urls_start;
    const struct url_vid *u;
    size_t size = 16;
    uint32_t *slots;

    if (n < 2)
        return false; /* (and urls may be unset: no entry had a fullUrl) */
    u = (const struct url_vid *)(void *)s->urls.data + b->urls_start;
    if (n <= 8) {
        for (size_t i = 1; i < n; i++) {
            for (size_t k = 0; k < i; k++) {
                if (same_entry_url(&u[i], &u[k]))
                    return true;
            }
        }
        return false;
    }
    while (size < 2 * n)
        size *= 2;
    slots = calloc(size, sizeof(*slots));
    if (slots == NULL)
        return true; /* the tree path decides */
    for (size_t i = 0; i < n; i++) {
        uint64_t h = 14695981039346656037ull;
        size_t at;

        for (size_t k = 0; k < u[i].url.len; k++)
            h = (h ^ (unsigned char)u[i].url.ptr[k]) * 1099511628211ull;
        for (at = (size_t)h & (size - 1); slots[at] != 0; at = (at + 1) & (size - 1)) {
            if (same_entry_url(&u[slots[at] - 1], &u[i])) {
                free(slots);
                return true;
            }
        }
        slots[at] = (uint32_t)i + 1;
    }
    free(slots);
    return false;
}

/* The end of a Bundle.entry: what bdl-2..bdl-4, bdl-7, bdl-11 and bdl-12
 * need, kept for the Bundle; bdl-8. */
static int
entry_end(struct sctx *s, const struct frame *fr, uint64_t seen)
{
    struct bstate *b = s->bundle;
    bool req = (seen >> FHIR_VE_BUNDLE_ENTRY_REQUEST) & 1u;
    bool resp = (seen >> FHIR_VE_BUNDLE_ENTRY_RESPONSE) & 1u;

    if (UNLIKELY(b == NULL))
        return BAIL;
    if (b->entries++ == 0)
        b->first_rt = fr->entry_rt;
    b->any_req |= req;
    b->any_noreq |= !req;
    b->any_resp |= resp;
    b->any_noresp |= !resp;
    b->any_search |= (seen >> FHIR_VE_BUNDLE_ENTRY_SEARCH) & 1u;
    if (fr->cap_has[0]) {
        struct url_vid uv = {fr->cap[0], fr->cap[1], fr->cap_has[1]};

        if (UNLIKELY(memchr(fr->cap[0].ptr, '_', fr->cap[0].len) != NULL &&
                     memmem(fr->cap[0].ptr, fr->cap[0].len, "/_history/", 10) != NULL))
            return BAIL; /* bdl-8 */
        STEP(keep_append(s, &s->urls, &uv, sizeof(uv)));
    }
    return 0;
}

/* The end of a Bundle: bdl-1..bdl-4, bdl-7, bdl-9..bdl-12 (invariants.c's
 * bundle() reports them). */
static int
bundle_end(struct sctx *s, const struct frame *fr, const struct kid *ident)
{
    const struct bstate *b = s->bundle;
    uint64_t seen = fr->val | fr->ext;
    enum fhir_validate__btype bt =
        fr->cap_has[0] ? fhir_validate__bundle_type(fr->cap[0]) : FHIR_VALIDATE__BT_UNKNOWN;

    if (UNLIKELY(bt == FHIR_VALIDATE__BT_UNKNOWN || b == NULL))
        return BAIL;
    if (UNLIKELY(((seen >> FHIR_VE_BUNDLE_TOTAL) & 1u) && bt != FHIR_VALIDATE__BT_SEARCHSET &&
                 bt != FHIR_VALIDATE__BT_HISTORY))
        return BAIL; /* bdl-1 */
    if (UNLIKELY(b->any_search && bt != FHIR_VALIDATE__BT_SEARCHSET))
        return BAIL; /* bdl-2 */
    if (UNLIKELY(fhir_validate__bt_request(bt) ? b->any_noreq : b->any_req))
        return BAIL; /* bdl-3 */
    if (UNLIKELY(fhir_validate__bt_response(bt) ? b->any_noresp : b->any_resp))
        return BAIL; /* bdl-4 */
    if (bt == FHIR_VALIDATE__BT_DOCUMENT &&
        (!((seen >> FHIR_VE_BUNDLE_IDENTIFIER) & 1u) ||
         !((ident->seen >> FHIR_VE_IDENTIFIER_SYSTEM) & 1u) ||
         !((ident->seen >> FHIR_VE_IDENTIFIER_VALUE) & 1u) ||
         !((fr->val >> FHIR_VE_BUNDLE_TIMESTAMP) & 1u) ||
         (b->first_rt != 0 && b->first_rt != FHIR_T_COMPOSITION + 1u)))
        return BAIL; /* bdl-9, bdl-10, bdl-11 (no first resource: unknown) */
    if (UNLIKELY(bt == FHIR_VALIDATE__BT_MESSAGE && b->first_rt != 0 &&
                 b->first_rt != FHIR_T_MESSAGEHEADER + 1u))
        return BAIL; /* bdl-12 */
    if (bt != FHIR_VALIDATE__BT_HISTORY && urls_repeat(s, b))
        return BAIL; /* bdl-7 */
    return 0;
}

/* obs-7: does a component's coding have the system and code of one of
 * the Observation's own (the codings of the innermost open Observation)? */
static bool
codings_meet(const struct sctx *s)
{
    const struct coding_key *k = (const struct coding_key *)(void *)s->codings.data;
    size_t n = s->codings.len / sizeof(*k);
    size_t from = s->obs_codings_start;

    if (n <= from)
        return false; /* (and codings may be unset) */

    for (size_t i = from; i < n; i++) {
        if (k[i].group != 1)
            continue;
        for (size_t j = from; j < n; j++) {
            if (k[j].group == 2 && k[j].has_system == k[i].has_system &&
                k[j].has_code == k[i].has_code &&
                (!k[i].has_system || base_str_eq(k[j].system, k[i].system)) &&
                (!k[i].has_code || base_str_eq(k[j].code, k[i].code)))
                return true;
        }
    }
    return false;
}

/* The invariants on values (invariants.c) of the types that have them. */
static int
value_rules(struct sctx *s, const struct fhir_model_type *t, unsigned how, struct sobj *out,
            const struct frame *fr, uint64_t seen, const struct kid *kids)
{
    struct fhir_validate__qty q;

    switch (t->index) {
    case FHIR_T_PERIOD:
        if (fr->cap_has[0] && fr->cap_has[1] &&
            fhir_validate__dt_after(fr->cap[0].ptr, fr->cap[0].len, fr->cap[1].ptr, fr->cap[1].len))
            return BAIL; /* per-1 */
        return 0;
    case FHIR_T_RANGE:
        if (((fr->val >> FHIR_VE_RANGE_LOW) & 1u) && ((fr->val >> FHIR_VE_RANGE_HIGH) & 1u) &&
            fhir_validate__qty_above(&kids[0].q, &kids[1].q))
            return BAIL; /* rng-2 */
        return 0;
    case FHIR_T_AGE:
    case FHIR_T_COUNT:
    case FHIR_T_DISTANCE:
    case FHIR_T_MONEYQUANTITY:
        qty_parts(fr, out, seen, &q);
        return fhir_validate__qty_profile(t, &q) != NULL ? BAIL : 0;
    case FHIR_VT_TIMING_REPEAT:
        if ((seen >> FHIR_VE_TIMING_REPEAT_OFFSET) & 1u)
            return BAIL; /* tim-9: the tree path looks at the when codes */
        if ((fr->cap_has[0] && fhir_validate__dec_sign(fr->cap[0].ptr, fr->cap[0].len) < 0) ||
            (fr->cap_has[1] && fhir_validate__dec_sign(fr->cap[1].ptr, fr->cap[1].len) < 0))
            return BAIL; /* tim-4, tim-5 */
        return 0;
    case FHIR_T_TRIGGERDEFINITION:
        if (fr->cap_has[0] &&
            fhir_validate__trd3_fails(fr->cap[0], (seen >> FHIR_VE_TRIGGERDEFINITION_NAME) & 1u,
                                      (seen >> FHIR_VE_TRIGGERDEFINITION_TIMING) & 1u,
                                      (seen >> FHIR_VE_TRIGGERDEFINITION_DATA) & 1u))
            return BAIL; /* trd-3 */
        return 0;
    case FHIR_T_OBSERVATION:
        /* obs-7: with a value and components, a component coded like the
         * Observation (same system and code: the tree path compares the
         * whole codings) */
        if (((seen >> FHIR_VE_OBSERVATION_VALUE) & 1u) &&
            ((seen >> FHIR_VE_OBSERVATION_COMPONENT) & 1u) && codings_meet(s))
            return BAIL;
        return 0;
    case FHIR_T_BUNDLE:
        return (how & OBJ_RESOURCE) ? bundle_end(s, fr, &kids[0]) : 0;
    case FHIR_VT_BUNDLE_ENTRY:
        return entry_end(s, fr, seen);
    default:
        return 0;
    }
}

static inline __attribute__((always_inline)) int
check_end(struct sctx *s, const struct fhir_model_type *t, unsigned how, struct sobj *out,
          const struct frame *fr, struct base_str ref, bool has_ref, const bool rules)
{
    uint64_t seen = fr->val | fr->ext;
    unsigned tf = rules ? fhir_validate__type_flags[t->index] : 0;
    int form;

    if (UNLIKELY(seen == 0 && !(how & OBJ_RESOURCE)))
        return BAIL; /* empty object */
    if (UNLIKELY((t->required_mask & ~seen) != 0))
        return BAIL; /* a required element is missing */
    if (UNLIKELY(how == OBJ_PLAIN && fr->ext == 0 && only_id(t, fr->val)))
        return BAIL; /* ele-1: only an id */
    if (UNLIKELY((fr->ext_without_extension & ~fr->val) != 0))
        return BAIL; /* ele-1: "_name" with neither value nor extension */
    switch (t->index) {
    case FHIR_T_EXTENSION:
        if (UNLIKELY(((seen >> FHIR_E_EXTENSION_EXTENSION) & 1u) == ((seen >> FHIR_E_EXTENSION_VALUE) & 1u)))
            return BAIL; /* ext-1 */
        break;
    case FHIR_T_SIMPLEQUANTITY:
        if (UNLIKELY((seen >> FHIR_E_SIMPLEQUANTITY_COMPARATOR) & 1u))
            return BAIL; /* sqty-1 */
        break;
    case FHIR_T_META:
        /* the resource it belongs to keeps its versionId (bdl-7) */
        s->meta_vid = out->id;
        s->meta_vid_has = out->has_id;
        break;
    case FHIR_T_REFERENCE:
        if (!has_ref)
            break;
        form = fast_reference(ref, s->end);
        if (form < 0) {
            form = (int)fhir_validate__reference_form(ref);
            if (ref.len == 1 && ref.ptr[0] == '#')
                s->back |= s->in_contained; /* dom-3: refers to its container */
        }
        switch (form) {
        case FHIR_VALIDATE__REF_OK:
            break;
        case FHIR_VALIDATE__REF_LOCAL:
            if (UNLIKELY(s->scope == NULL || s->scope->n_refs >= MAX_LOCAL_REFS))
                return BAIL;
            s->scope->refs[s->scope->n_refs].ptr = ref.ptr + 1;
            s->scope->refs[s->scope->n_refs].len = ref.len - 1;
            s->scope->n_refs++;
            break;
        case FHIR_VALIDATE__REF_CONDITIONAL:
            if (UNLIKELY(s->tx == TX_UNKNOWN))
                return BAIL;
            if (s->tx == TX_NO)
                fhir_validate__warn_conditional(s->c);
            break;
        default:
            return BAIL;
        }
        break;
    default:
        break;
    }
    if (UNLIKELY(tf & (FHIR_VALIDATE__TF_VALUES | FHIR_VALIDATE__TF_RULES))) {
        if (tf & FHIR_VALIDATE__TF_VALUES)
            STEP(value_rules(s, t, how, out, fr, seen, fr->kids));
        /* the invariants that only ask which children are present */
        if ((tf & FHIR_VALIDATE__TF_RULES) && fhir_validate__rules_fail(t, seen))
            return BAIL;
    }
    if (how == OBJ_PRIM_EXT)
        out->has_extension = (seen >> FHIR_E_PRIMITIVE_EXTENSION) & 1u;
    if (rules && out->kid != NULL) {
        out->kid->seen = seen;
        if (is_quantity(t))
            qty_parts(fr, out, seen, &out->kid->q);
    }
    return 0;
}

/*
 * Does a member of this object need more than its value checked: a value
 * kept for the holder (capture_slot), the rules on resources' members
 * (dom-2, dom-4, dom-5, Bundle.type)?  Most objects (HumanName, Coding
 * without a binding, backbone elements) do not, and their members skip
 * those tests.
 */
static bool
members_special(const struct fhir_model_type *t, unsigned how, const struct sobj *out, unsigned tf)
{
    return (how & OBJ_RESOURCE) || (tf & FHIR_VALIDATE__TF_WALK) || out->kid != NULL ||
           (out->want_code && fhir_validate__is_coded(t));
}

/* After the key of a member of a resource, Reference, Meta or coded type:
 * the rules on the key, and where its value goes (NULL: nowhere). */
static inline __attribute__((always_inline)) int
special_key(struct sctx *s, const struct fhir_model_type *t, unsigned how, struct base_str key,
            struct sobj *out, struct base_str *ref, bool *has_ref, struct base_str **cap,
            bool **cap_flag)
{
    /* dom-2: no nested contained */
    if (UNLIKELY((how & OBJ_CONTAINED) && key_is(key, "contained", 9)))
        return BAIL;
    *cap_flag = NULL;
    *cap = capture_slot(t, how, key, out, ref, cap_flag);
    if (*cap == ref)
        *cap_flag = has_ref;
    if ((how & OBJ_RESOURCE) && (how & OBJ_CONTAINED) && key_is(key, "meta", 4))
        s->meta_of_contained = true;
    if (s->meta_of_contained && t->index == FHIR_T_META &&
        (key_is(key, "versionId", 9) || key_is(key, "lastUpdated", 11) ||
         key_is(key, "security", 8)))
        return BAIL; /* dom-4, dom-5 */
    return 0;
}

/* The elements kid_for() gives a kid (or, for a CodeableConcept, the
 * codings it collects for obs-7). */
static uint64_t
kid_mask(const struct fhir_model_type *t, unsigned how, const struct sobj *out)
{
    switch (t->index) {
    case FHIR_T_RANGE:
        return (UINT64_C(1) << FHIR_VE_RANGE_LOW) | (UINT64_C(1) << FHIR_VE_RANGE_HIGH);
    case FHIR_T_BUNDLE:
        return UINT64_C(1) << FHIR_VE_BUNDLE_IDENTIFIER;
    case FHIR_T_OBSERVATION:
        return (how & OBJ_RESOURCE) ? UINT64_C(1) << FHIR_VE_OBSERVATION_CODE : 0;
    case FHIR_VT_OBSERVATION_COMPONENT:
        return UINT64_C(1) << FHIR_VE_OBSERVATION_COMPONENT_CODE;
    case FHIR_T_CODEABLECONCEPT:
        return out->kid != NULL && out->kid->collect != 0
                   ? UINT64_C(1) << FHIR_VE_CODEABLECONCEPT_CODING
                   : 0;
    default:
        return 0;
    }
}

/* Where the child object of member `elem` tells this object what its
 * invariants need (objects of TF_KIDS types, and a CodeableConcept whose
 * codings count for obs-7), NULL for nowhere. */
static struct kid *
kid_for(struct sctx *s, const struct fhir_model_type *t, unsigned how, unsigned elem,
        const struct sobj *out, struct frame *fr)
{
    struct kid *kid = NULL;

    switch (t->index) {
    case FHIR_T_RANGE:
        if (elem == FHIR_VE_RANGE_LOW || elem == FHIR_VE_RANGE_HIGH)
            kid = &fr->kids[elem == FHIR_VE_RANGE_HIGH];
        break;
    case FHIR_T_BUNDLE:
        if (elem == FHIR_VE_BUNDLE_IDENTIFIER)
            kid = &fr->kids[0];
        break;
    case FHIR_T_OBSERVATION:
    case FHIR_VT_OBSERVATION_COMPONENT:
        /* obs-7: the codings of the Observation's and its components' codes */
        if ((t->index == FHIR_T_OBSERVATION && (how & OBJ_RESOURCE) &&
             elem == FHIR_VE_OBSERVATION_CODE) ||
            (t->index == FHIR_VT_OBSERVATION_COMPONENT &&
             elem == FHIR_VE_OBSERVATION_COMPONENT_CODE)) {
            kid = &fr->kids[0];
            kid->collect = t->index == FHIR_T_OBSERVATION ? 1u : 2u;
            return kid;
        }
        break;
    case FHIR_T_CODEABLECONCEPT:
        if (elem == FHIR_VE_CODEABLECONCEPT_CODING)
            s->collect = out->kid->collect; /* its codings (value()) */
        break;
    default:
        break;
    }
    if (kid != NULL)
        kid->collect = 0;
    return kid;
}

/* A "_name" member: an object with id and extension. */
static int
ext_member(struct sctx *s, const struct fhir_model_type *type, const struct fhir_model_elem *e,
           struct base_str key, struct frame *fr, uint64_t bit)
{
    struct sobj sub;

    sobj_init(&sub, NULL, false, NULL);
    fhir_validate__push(s->c, key.ptr + 1, key.len - 1, -1);
    skip_ws(s);
    if (UNLIKELY(fhir_model_elem_is_multiple(e) || s->p >= s->end || *s->p != '{'))
        return BAIL;
    STEP(object(s, type, OBJ_PRIM_EXT, &sub));
    if (!sub.has_extension)
        fr->ext_without_extension |= bit;
    fhir_validate__pop(s->c);
    return 0;
}

/* The member loop; `rules` (a constant: object_members_plain() and
 * object_members_rules()) adds what invariants need: values kept, children
 * that report, the checks at the end. */
static inline __attribute__((always_inline)) int
members_loop(struct sctx *s, const struct fhir_model_type *t, unsigned how, struct sobj *out,
             struct frame *fr, bool first_done, const bool rules)
{
    struct fhir_validate__ctx *c = s->c;
    struct base_str ref = {NULL, 0};
    bool has_ref = false;
    unsigned tf = rules ? fhir_validate__type_flags[t->index] : 0;
    bool special = rules ? members_special(t, how, out, tf)
                         : (how & OBJ_RESOURCE) || t->index == FHIR_T_REFERENCE ||
                               t->index == FHIR_T_META ||
                               (out->want_code && fhir_validate__is_coded(t));
    /* the members that leave the plain path: all of a special object's,
     * and those kept for the object's invariants (fr->capmask) */
    uint64_t slow = special ? ~UINT64_C(0) : 0;

    fr->val = 0;
    fr->ext = 0;
    fr->ext_without_extension = 0;
    if (rules && ((tf & FHIR_VALIDATE__TF_CAPTURE) || out->kid != NULL)) {
        fr->capmask = cap_mask(t, how, out);
        slow |= fr->capmask;
        memset(fr->cap_has, 0, sizeof(fr->cap_has));
        fr->entry_rt = 0;
    } else if (rules) {
        fr->capmask = 0; /* read for every member of a special object */
    }
    if (rules)
        fr->kidmask = (tf & FHIR_VALIDATE__TF_KIDS) || out->kid != NULL ? kid_mask(t, how, out) : 0;
    c->depth++;
    skip_ws(s);
    if (!first_done && s->p < s->end && *s->p == '}') {
        s->p++;
        goto done;
    }
    for (;;) {
        struct base_str key;
        uint32_t k;
        unsigned elem;
        unsigned choice;
        bool is_ext;
        const struct fhir_model_elem *e;
        const struct fhir_model_type *type;
        uint64_t bit;
        bool *cap_flag = NULL;
        struct base_str *cap = NULL;
        struct kid *kid = NULL;
        int rc;

        if (first_done) {
            /* compact JSON: the ',' between members follows the value */
            if (!(s->p < s->end && *s->p == ',')) {
                /* compact JSON: the '}' follows; pretty: a line break */
                if (!(s->p < s->end && *s->p == '}'))
                    skip_ws_line(s);
                if (s->p < s->end && *s->p == '}') {
                    s->p++;
                    break;
                }
                if (UNLIKELY(s->p >= s->end || *s->p != ','))
                    return BAIL;
            }
            s->p++;
        }
        first_done = true;
        if (!(s->p < s->end && *s->p == '"')) { /* compact JSON: the name follows */
            skip_ws_line(s);
            if (UNLIKELY(s->p >= s->end || *s->p != '"'))
                return BAIL;
        }
        STEP(scan_key(s, &key));
        k = fhir_model__key_fns[t->index](key.ptr, key.len);
        if (UNLIKELY(k == 0 || FHIR_MODEL__SLOT_IS_EXT(k) == FHIR_MODEL__KEY_BASE))
            return BAIL; /* escaped or unknown names, resourceType again */
        elem = FHIR_MODEL__SLOT_ELEM(k);
        choice = FHIR_MODEL__SLOT_CHOICE(k);
        is_ext = FHIR_MODEL__SLOT_IS_EXT(k) != 0;
        e = &t->elems[elem];
        bit = UINT64_C(1) << elem;
        if (LIKELY(!is_ext && !((fr->val | fr->ext) & bit))) {
            /* the commonest: the element's value, first seen */
            fr->val |= bit;
        } else {
            if (((is_ext ? fr->ext : fr->val) & bit) ||
                (((fr->val | fr->ext) & bit) && fhir_model_elem_is_choice(e) &&
                 fr->choice[elem] != choice))
                return BAIL; /* duplicate name or a second choice */
            if (is_ext)
                fr->ext |= bit;
            else
                fr->val |= bit;
        }
        if (fhir_model_elem_is_choice(e)) {
            fr->choice[elem] = (unsigned char)choice; /* only choices compare it */
            type = e->choices[choice].type;
        } else {
            type = e->type;
        }
        STEP(expect_char(s, ':'));
        if (is_ext) {
            STEP(ext_member(s, type, e, key, fr, bit));
            continue;
        }
        if (UNLIKELY(slow & bit)) {
            if (special) {
                STEP(special_key(s, t, how, key, out, &ref, &has_ref, &cap, &cap_flag));
                /* children that report to it */
                if (rules && UNLIKELY(fr->kidmask & bit))
                    kid = kid_for(s, t, how, elem, out, fr);
            }
            if (rules && UNLIKELY(cap == NULL && (fr->capmask & bit))) {
                /* kept for the object's invariants (cap_slot) */
                int slot = cap_slot(t, how, elem, out);

                cap = &fr->cap[slot];
                cap_flag = &fr->cap_has[slot];
            }
        }
        if (cap == NULL && type->kind == FHIR_MODEL_PRIMITIVE && !fhir_model_elem_is_multiple(e)) {
            /* the commonest member: a single primitive, which proves itself
             * clean or bails — it reports nothing but the rare upper-case
             * urn:uuid warning, so it needs no path step otherwise (null and
             * arrays bail in primitive()) */
            skip_ws(s);
            rc = primitive_inline(s, type, e, NULL);
            if (UNLIKELY(rc != 0)) {
                if (rc < 0)
                    return BAIL;
                fhir_validate__push(c, key.ptr, key.len, -1);
                warn_uuid_case(s);
                fhir_validate__pop(c);
            }
            continue;
        }
        fhir_validate__push(c, key.ptr, key.len, -1);
        STEP(member_value(s, t, e, type, out, cap, cap_flag, kid));
        if (special) {
            if ((how & OBJ_RESOURCE) && key_is(key, "meta", 4)) {
                s->meta_of_contained = false;
                fr->cap[2] = s->meta_vid; /* read back by resource() (bdl-7) */
                fr->cap_has[2] = s->meta_vid_has;
            }
            if (rules) {
                s->collect = 0;
                /* entries that follow know whether this is a transaction (a
                 * contained Bundle inherits, like walk.c's: never a root) */
                if (t->index == FHIR_T_BUNDLE && elem == FHIR_VE_BUNDLE_TYPE &&
                    !(how & OBJ_CONTAINED))
                    s->tx = bundle_tx(fr->cap_has[0] ? fr->cap[0] : (struct base_str){NULL, 0});
                if (t->index == FHIR_VT_BUNDLE_ENTRY && elem == FHIR_VE_BUNDLE_ENTRY_RESOURCE) {
                    fr->entry_rt = s->last_rt;
                    fr->cap[1] = s->last_vid; /* bdl-7 */
                    fr->cap_has[1] = s->last_vid_has;
                }
            }
        }
        fhir_validate__pop(c);
    }
done:
    c->depth--;
    s->jdepth--;
    return check_end(s, t, how, out, fr, ref, has_ref, rules);
}

static int
object_members_plain(struct sctx *s, const struct fhir_model_type *t, unsigned how,
                     struct sobj *out, struct frame *fr, bool first_done)
{
    return members_loop(s, t, how, out, fr, first_done, false);
}

static int
object_members_rules(struct sctx *s, const struct fhir_model_type *t, unsigned how,
                     struct sobj *out, struct frame *fr, bool first_done)
{
    return members_loop(s, t, how, out, fr, first_done, true);
}

/* ------------------------------------------------------------ resources -- */

static bool
among(const struct base_str *v, size_t n, struct base_str x)
{
    for (size_t i = 0; i < n; i++) {
        if (base_str_eq(v[i], x))
            return true;
    }
    return false;
}

static int
check_local_refs(const struct scope *sc)
{
    for (size_t i = 0; i < sc->n_refs; i++) {
        if (UNLIKELY(!among(sc->ids, sc->n_ids, sc->refs[i])))
            return BAIL; /* ref-1 */
    }
    /* dom-3: every contained resource is referred to, or refers to the root */
    for (size_t k = 0; k < sc->n_ids; k++) {
        if (!sc->back[k] && !among(sc->refs, sc->n_refs, sc->ids[k]) &&
            UNLIKELY(!among(sc->urirefs, sc->n_urirefs, sc->ids[k])))
            return BAIL;
    }
    return 0;
}

static int
resource(struct sctx *s, unsigned how, const char *expect)
{
    struct fhir_validate__ctx *c = s->c;
    struct base_str key;
    struct base_str name;
    unsigned flags;
    const struct fhir_model_type *t;
    struct scope scope;
    struct scope *saved_scope = s->scope;
    enum tx_state saved_tx = s->tx;
    struct bstate *saved_bundle = s->bundle;
    struct bstate bs;
    size_t saved_codings = s->codings.len / sizeof(struct coding_key);
    size_t saved_obs = s->obs_codings_start;
    struct sobj out;
    struct frame fr;
    uint32_t idx;
    int rc;

    skip_ws(s);
    if (UNLIKELY(s->p >= s->end || *s->p != '{' || c->depth >= c->max_depth))
        return BAIL;
    STEP(enter(s));
    skip_ws(s);
    /* resourceType first (it nearly always is; otherwise the tree decides) */
    if (UNLIKELY(s->p >= s->end || *s->p != '"'))
        return BAIL;
    STEP(scan_string(s, &key, &flags));
    if (UNLIKELY(flags != 0 || !key_is(key, "resourceType", 12)))
        return BAIL;
    STEP(expect_char(s, ':'));
    skip_ws(s);
    if (UNLIKELY(s->p >= s->end || *s->p != '"'))
        return BAIL;
    STEP(scan_string(s, &name, &flags));
    idx = flags == 0 ? fhir_model__resource_type(name.ptr, name.len) : 0;
    t = idx != 0 ? fhir_model_type_at(idx - 1) : NULL;
    if (t == NULL || t->kind != FHIR_MODEL_RESOURCE || (t->flags & FHIR_MODEL_TYPE_ABSTRACT) ||
        (expect != NULL && strcmp(expect, t->name) != 0))
        return BAIL;
    if (c->nsegs == 0)
        fhir_validate__push(c, t->name, t->name_len, -1);
    if (how & OBJ_CONTAINED) {
        s->in_contained = true;
        s->back = false;
    } else {
        scope.n_ids = 0;
        scope.n_refs = 0;
        scope.n_urirefs = 0;
        s->scope = &scope;
        if (t->index == FHIR_T_BUNDLE)
            s->tx = TX_UNKNOWN;
    }
    if (t->index == FHIR_T_OBSERVATION)
        s->obs_codings_start = s->codings.len / sizeof(struct coding_key);
    if (t->index == FHIR_T_BUNDLE) {
        /* its entries report to it (entry_end, bundle_end) */
        bs = (struct bstate){.urls_start = s->urls.len / sizeof(struct url_vid)};
        s->bundle = &bs;
    }
    sobj_init(&out, NULL, false, NULL);
    fr.cap_has[2] = false; /* its meta.versionId, when it has one (object_members) */
    rc = object_members(s, t, OBJ_RESOURCE | (how & OBJ_CONTAINED), &out, &fr, true);
    if (t->index == FHIR_T_BUNDLE) {
        s->bundle = saved_bundle;
        s->urls.len = bs.urls_start * sizeof(struct url_vid);
    }
    if (t->index == FHIR_T_OBSERVATION) {
        s->codings.len = saved_codings * sizeof(struct coding_key);
        s->obs_codings_start = saved_obs;
    }
    s->last_rt = t->index + 1u;
    s->last_vid = fr.cap[2];
    s->last_vid_has = fr.cap_has[2];
    if (rc == 0 && !(how & OBJ_CONTAINED))
        rc = check_local_refs(&scope);
    if (rc == 0 && (how & OBJ_CONTAINED) && out.has_id) {
        if (UNLIKELY(saved_scope == NULL || saved_scope->n_ids >= MAX_CONTAINED_IDS))
            return BAIL;
        saved_scope->back[saved_scope->n_ids] = s->back;
        saved_scope->ids[saved_scope->n_ids++] = out.id;
    }
    if (how & OBJ_CONTAINED)
        s->in_contained = false; /* contained resources do not nest (dom-2) */
    s->scope = saved_scope;
    s->tx = saved_tx;
    return rc;
}

/* A value of type `t` at s->p.  Inline in member_value(), its one caller
 * (twice: single and array): an object then costs no call on the way in. */
static inline __attribute__((always_inline)) int
value(struct sctx *s, const struct fhir_model_type *t, const struct fhir_model_elem *e,
      struct sobj *cc_acc, struct kid *kid)
{
    struct sobj out;
    bool checked;
    bool member;
    int rc;

    switch (t->kind) {
    case FHIR_MODEL_PRIMITIVE:
        rc = primitive(s, t, e, NULL);
        if (UNLIKELY(rc > 0)) {
            warn_uuid_case(s);
            rc = 0;
        }
        return rc;
    case FHIR_MODEL_RESOURCE:
        return resource(s,
                        (e != NULL && e->name_len == 9 && memcmp(e->name, "contained", 9) == 0)
                            ? OBJ_CONTAINED
                            : 0,
                        (t->flags & FHIR_MODEL_TYPE_ABSTRACT) ? NULL : t->name);
    default:
        break;
    }
    sobj_init(&out, e != NULL ? e->valueset : NULL,
              (e != NULL && e->valueset != NULL) || cc_acc != NULL, kid);
    if (UNLIKELY(s->collect != 0)) {
        /* a coding of an Observation's or a component's code (obs-7) */
        unsigned group = s->collect;
        struct coding_key ck;

        if (UNLIKELY(t->index != FHIR_T_CODING))
            return BAIL;
        s->collect = 0;
        out.want_code = true;
        STEP(object(s, t, OBJ_PLAIN, &out));
        s->collect = group;
        ck = (struct coding_key){kept(out.system, out.has_system), kept(out.code, out.has_code),
                                 out.has_system, out.has_code, group};
        STEP(keep_append(s, &s->codings, &ck, sizeof(ck)));
    } else {
        STEP(object(s, t, OBJ_PLAIN, &out));
    }
    if (cc_acc != NULL) {
        member = fhir_validate__code_member(cc_acc->vs, kept(out.system, out.has_system),
                                            out.has_system, kept(out.code, out.has_code), &checked);
        cc_acc->any_member |= member;
        cc_acc->any_checked |= checked;
    }
    if (out.vs == NULL)
        return 0;
    if (t->index == FHIR_T_CODEABLECONCEPT)
        return (!out.any_member && out.any_checked) ? BAIL : 0;
    if (!fhir_validate__is_coded(t))
        return 0;
    member = fhir_validate__code_member(out.vs, kept(out.system, out.has_system), out.has_system,
                                        kept(out.code, out.has_code), &checked);
    return (!member && checked) ? BAIL : 0;
}

int
fhir_validate__stream(struct fhir_validate__ctx *c, const char *text, size_t len,
                      const char *expect)
{
    struct sctx s = {0};
    char small[SMALL_SCRATCH];
    int rc;

    s.c = c;
    s.small = small;
    s.lim = fhir_json_limits_default();
    if (UNLIKELY(len > s.lim.max_doc))
        return BAIL;
    s.p = (const unsigned char *)text;
    s.end = s.p + len;
    s.tx = TX_NO;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        s.p += 3;
    base_buf_init(&s.scratch, s.lim.max_string + 8);

    rc = resource(&s, 0, expect);
    if (rc == 0) {
        skip_ws(&s);
        if (s.p != s.end)
            rc = BAIL;
    }
    if (s.bufs_ready) {
        base_buf_fini(&s.urls);
        base_buf_fini(&s.codings);
    }
    base_buf_fini(&s.scratch);
    return rc;
}
