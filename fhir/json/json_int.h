/*
 * fhir/json/json_int.h — the string scanner shared by the reader (parse.c)
 * and the writer (dump.c); only fhir/json includes it.  Inline so that each
 * caller gets a copy specialised for its constant `utf8_is_plain`.
 */
#ifndef FHIR_JSON_JSON_INT_H
#define FHIR_JSON_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define FHIR_JSON__ONES  UINT64_C(0x0101010101010101)
#define FHIR_JSON__HIGHS UINT64_C(0x8080808080808080)

/*
 * Bytes of w (little-endian order) that a string cannot hold as they are —
 * '"', '\\', below 0x20 and, unless utf8_is_plain, from 0x80 — as the high
 * bit of each byte.  The lowest set bit is exact (borrows only make false
 * alarms above a true one), which is all the scanner needs.
 */
static inline uint64_t
fhir_json__special8(uint64_t w, bool utf8_is_plain)
{
    uint64_t q = w ^ (FHIR_JSON__ONES * '"');
    uint64_t b = w ^ (FHIR_JSON__ONES * '\\');
    uint64_t m = ((q - FHIR_JSON__ONES) & ~q) | ((b - FHIR_JSON__ONES) & ~b) |
                 ((w - FHIR_JSON__ONES * 0x20) & ~w);

    return (utf8_is_plain ? m : m | w) & FHIR_JSON__HIGHS;
}

static inline uint64_t
fhir_json__load_le64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    if (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        v = __builtin_bswap64(v);
    return v;
}

/* Per byte: bit 0 plain when UTF-8 is plain, bit 1 plain as ASCII (the
 * rule of fhir_json__special8, for the last bytes of a string). */
#define FHIR_JSON__PB(c)                                                                           \
    (((c) >= 0x20 && (c) != '"' && (c) != '\\') ? ((c) < 0x80 ? 3 : 1) : 0)
#define FHIR_JSON__PB4(c)                                                                          \
    FHIR_JSON__PB(c), FHIR_JSON__PB((c) + 1), FHIR_JSON__PB((c) + 2), FHIR_JSON__PB((c) + 3)
#define FHIR_JSON__PB16(c)                                                                         \
    FHIR_JSON__PB4(c), FHIR_JSON__PB4((c) + 4), FHIR_JSON__PB4((c) + 8), FHIR_JSON__PB4((c) + 12)
#define FHIR_JSON__PB64(c)                                                                         \
    FHIR_JSON__PB16(c), FHIR_JSON__PB16((c) + 16), FHIR_JSON__PB16((c) + 32),                      \
        FHIR_JSON__PB16((c) + 48)

static const unsigned char fhir_json__plain_byte[256] = {
    FHIR_JSON__PB64(0), FHIR_JSON__PB64(64), FHIR_JSON__PB64(128), FHIR_JSON__PB64(192)};

static inline size_t
fhir_json__plain_len(const char *text, size_t len, bool utf8_is_plain)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + len;
#if defined(__SSE2__)
    const unsigned char top = utf8_is_plain ? 0xFF : 0x7F;
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    /* unsigned "v < 0x20": max(v, 0x1F) == 0x1F; "v > top": max(v, top) != top */
    const __m128i c1f = _mm_set1_epi8(0x1F);
    const __m128i ctop = _mm_set1_epi8((char)top);

    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i special =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f));
        unsigned bits = (unsigned)_mm_movemask_epi8(special) |
                        ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, ctop), ctop));

        bits &= 0xFFFFu;
        if (bits != 0)
            return (size_t)(p - (const unsigned char *)text) + (size_t)__builtin_ctz(bits);
        p += 16;
    }
#endif
    /* the last bytes (everything without SSE2): eight at a time, then one */
    while (end - p >= 8) {
        uint64_t m = fhir_json__special8(fhir_json__load_le64(p), utf8_is_plain);

        if (m != 0) {
            p += (unsigned)__builtin_ctzll(m) >> 3;
            break;
        }
        p += 8;
    }
    /* short strings (most keys and values) end here: a table lookup per byte */
    while (p < end && (fhir_json__plain_byte[*p] & (utf8_is_plain ? 1u : 2u)))
        p++;
    return (size_t)(p - (const unsigned char *)text);
}

#endif /* FHIR_JSON_JSON_INT_H */
