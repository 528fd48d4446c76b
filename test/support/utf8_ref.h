/*
 * test/support/utf8_ref.h — RFC 3629 §4's table of well-formed UTF-8
 * sequences, written out on its own, byte range by byte range: the oracle
 * base_utf8_valid() is checked against (unit test and fuzz target).
 */
#ifndef TEST_SUPPORT_UTF8_REF_H
#define TEST_SUPPORT_UTF8_REF_H

#include <stdbool.h>
#include <stddef.h>

/* Valid?  *bad = offset of the first byte of the first bad sequence (n when
 * valid). */
static inline bool
utf8_ref_valid(const unsigned char *s, size_t n, size_t *bad)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        unsigned lo = 0x80;
        unsigned hi = 0xBF;
        size_t k;
        bool ok = true;

        if (c <= 0x7F) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c == 0xE0) {
            k = 2;
            lo = 0xA0;
        } else if (c == 0xED) {
            k = 2;
            hi = 0x9F;
        } else if (c >= 0xE1 && c <= 0xEF) {
            k = 2;
        } else if (c == 0xF0) {
            k = 3;
            lo = 0x90;
        } else if (c == 0xF4) {
            k = 3;
            hi = 0x8F;
        } else if (c >= 0xF1 && c <= 0xF3) {
            k = 3;
        } else {
            break;
        }
        if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
            break;
        for (size_t j = 2; j <= k; j++)
            ok &= (s[i + j] & 0xC0) == 0x80;
        if (!ok)
            break;
        i += k + 1;
    }
    *bad = i;
    return i == n;
}

#endif /* TEST_SUPPORT_UTF8_REF_H */
