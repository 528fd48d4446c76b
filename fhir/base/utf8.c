/*
 * UTF-8 well-formedness (RFC 3629 §4: no overlongs, no surrogates, nothing
 * past U+10FFFF) — the check every string from outside goes through, so it
 * has a vector path: Chinese text, where nearly every character is a
 * 3-byte sequence, took the byte-at-a-time path through every string.
 *
 * The vector path is the "lookup" algorithm of Keiser and Lemire,
 * "Validating UTF-8 In Less Than One Instruction Per Byte" (Software:
 * Practice and Experience, 2021): each byte's high nibble and the previous
 * byte's two nibbles index three 16-entry tables whose AND names the error
 * the pair would be, and 3rd/4th continuation bytes are checked against
 * the leads two and three bytes back.  It needs SSSE3's byte shuffle, so it
 * is chosen at run time; the scalar loop remains for other CPUs, short
 * inputs, and to find the offset of the first bad byte.
 */
#include <stdint.h>
#include <string.h>

#include "fhir/base/str.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define UTF8_VECTOR 1
#include <tmmintrin.h>
#endif

static bool
utf8_scalar(const char *p, size_t len, size_t *bad_off)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t need;
        uint32_t cp;
        uint32_t min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            goto bad;
        }
        if (len - i <= need)
            goto bad;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += need + 1;
    }
    return true;
bad:
    if (bad_off != NULL)
        *bad_off = i;
    return false;
}

#if defined(UTF8_VECTOR)
/* What a (previous byte, byte) pair would be if it were an error. */
#define TOO_SHORT      (1 << 0) /* a lead not followed by a continuation */
#define TOO_LONG       (1 << 1) /* ASCII followed by a continuation */
#define OVERLONG_3     (1 << 2) /* E0 80..9F */
#define TOO_LARGE      (1 << 3) /* F4 90..BF, F5.. */
#define SURROGATE      (1 << 4) /* ED A0..BF */
#define OVERLONG_2     (1 << 5) /* C0, C1 */
#define TOO_LARGE_1000 (1 << 6) /* F5.. 80..8F */
#define OVERLONG_4     (1 << 6) /* F0 80..8F */
#define TWO_CONTS      (1 << 7) /* a continuation after a continuation */
#define CARRY          (TOO_SHORT | TOO_LONG | TWO_CONTS)

#define T(x) ((char)(x))

__attribute__((target("ssse3"))) static inline __m128i
nibble_lookup(__m128i table, __m128i idx)
{
    return _mm_shuffle_epi8(table, idx);
}

__attribute__((target("ssse3"))) static __m128i
block_errors(__m128i in, __m128i prev)
{
    const __m128i byte1_high = _mm_setr_epi8(
        T(TOO_LONG), T(TOO_LONG), T(TOO_LONG), T(TOO_LONG), T(TOO_LONG), T(TOO_LONG),
        T(TOO_LONG), T(TOO_LONG), T(TWO_CONTS), T(TWO_CONTS), T(TWO_CONTS), T(TWO_CONTS),
        T(TOO_SHORT | OVERLONG_2), T(TOO_SHORT), T(TOO_SHORT | OVERLONG_3 | SURROGATE),
        T(TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4));
    const __m128i byte1_low = _mm_setr_epi8(
        T(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4), T(CARRY | OVERLONG_2), T(CARRY),
        T(CARRY), T(CARRY | TOO_LARGE), T(CARRY | TOO_LARGE | TOO_LARGE_1000),
        T(CARRY | TOO_LARGE | TOO_LARGE_1000), T(CARRY | TOO_LARGE | TOO_LARGE_1000),
        T(CARRY | TOO_LARGE | TOO_LARGE_1000), T(CARRY | TOO_LARGE | TOO_LARGE_1000),
        T(CARRY | TOO_LARGE | TOO_LARGE_1000), T(CARRY | TOO_LARGE | TOO_LARGE_1000),
        T(CARRY | TOO_LARGE | TOO_LARGE_1000), T(CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE),
        T(CARRY | TOO_LARGE | TOO_LARGE_1000), T(CARRY | TOO_LARGE | TOO_LARGE_1000));
    const __m128i byte2_high = _mm_setr_epi8(
        T(TOO_SHORT), T(TOO_SHORT), T(TOO_SHORT), T(TOO_SHORT), T(TOO_SHORT), T(TOO_SHORT),
        T(TOO_SHORT), T(TOO_SHORT),
        T(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4),
        T(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE),
        T(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
        T(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE), T(TOO_SHORT),
        T(TOO_SHORT), T(TOO_SHORT), T(TOO_SHORT));
    const __m128i nib = _mm_set1_epi8(0x0F);
    __m128i prev1 = _mm_alignr_epi8(in, prev, 15);
    __m128i prev2 = _mm_alignr_epi8(in, prev, 14);
    __m128i prev3 = _mm_alignr_epi8(in, prev, 13);
    __m128i sc = _mm_and_si128(
        _mm_and_si128(
            nibble_lookup(byte1_high, _mm_and_si128(_mm_srli_epi16(prev1, 4), nib)),
            nibble_lookup(byte1_low, _mm_and_si128(prev1, nib))),
        nibble_lookup(byte2_high, _mm_and_si128(_mm_srli_epi16(in, 4), nib)));
    /* a byte two after an E0..EF or three after an F0..F7 must be a
     * continuation: exactly where sc says TWO_CONTS */
    __m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8(T(0xE0 - 0x80)));
    __m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8(T(0xF0 - 0x80)));
    __m128i must = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8(T(0x80)));

    return _mm_xor_si128(must, sc);
}

/* Leads in the last three bytes whose sequence the block does not finish. */
__attribute__((target("ssse3"))) static __m128i
block_incomplete(__m128i in)
{
    const __m128i max = _mm_setr_epi8(T(0xFF), T(0xFF), T(0xFF), T(0xFF), T(0xFF), T(0xFF),
                                      T(0xFF), T(0xFF), T(0xFF), T(0xFF), T(0xFF), T(0xFF),
                                      T(0xFF), T(0xF0 - 1), T(0xE0 - 1), T(0xC0 - 1));

    return _mm_subs_epu8(in, max);
}

__attribute__((target("ssse3"))) static bool
utf8_vector(const unsigned char *p, size_t len)
{
    __m128i prev = _mm_setzero_si128();
    __m128i err = _mm_setzero_si128();
    __m128i incomplete = _mm_setzero_si128();
    unsigned char tail[16];

    for (size_t i = 0; i < len; i += 16) {
        __m128i in;

        if (len - i >= 16) {
            in = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        } else {
            /* zeros after the end: a sequence cut short there is TOO_SHORT */
            memset(tail, 0, sizeof(tail));
            memcpy(tail, p + i, len - i);
            in = _mm_loadu_si128((const __m128i *)(const void *)tail);
        }
        if (_mm_movemask_epi8(in) == 0) {
            err = _mm_or_si128(err, incomplete); /* ASCII after an unfinished lead */
        } else {
            err = _mm_or_si128(err, block_errors(in, prev));
            incomplete = block_incomplete(in);
        }
        prev = in;
    }
    err = _mm_or_si128(err, incomplete);
    return _mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) == 0xFFFF;
}
#endif

bool
base_utf8_valid(const char *p, size_t len, size_t *bad_off)
{
#if defined(UTF8_VECTOR)
    if (len >= 16 && __builtin_cpu_supports("ssse3") &&
        utf8_vector((const unsigned char *)p, len))
        return true;
#endif
    return utf8_scalar(p, len, bad_off);
}
