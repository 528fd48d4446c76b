/*
 * Case- and accent-insensitive text for string search.  R4 §3.1.1.4.6:
 * "By default, a field matches a string query if the value of the field
 * equals or starts with the supplied parameter value, after both have been
 * normalized by case and accent."  No Unicode library is linked, so the
 * folding covers the scripts patient names are written in here: Latin
 * (with pinyin tone marks), Greek, Cyrillic, combining marks (NFD input),
 * and full-width ASCII as typed with Chinese input methods.  CJK has no
 * case and passes through.
 */
#include "fhir/search/search_int.h"

#include <string.h>

#include "fhir/base/buf.h"

/* Base letters of U+00C0..U+00FF ('1' = "ae", '2' = "ss", '.' = keep). */
static const char latin1[65] = "aaaaaa1ceeeeiiiidnooooo.ouuuuy.2"
                               "aaaaaa1ceeeeiiiidnooooo.ouuuuy.y";
/* Base letters of U+0100..U+017F ('3' = "ij", '4' = "oe"). */
static const char latin_ext_a[129] = "aaaaaaccccccccdd"
                                     "ddeeeeeeeeeegggg"
                                     "gggghhhhiiiiiiii"
                                     "ii33jjkkklllllll"
                                     "lllnnnnnnnnnoooo"
                                     "oo44rrrrrrssssss"
                                     "ssttttttuuuuuuuu"
                                     "uuuuwwyyyzzzzzzs";

static uint32_t
fold_greek(uint32_t cp)
{
    static const struct {
        uint16_t from;
        uint16_t to;
    } g[] = {{0x386, 0x3B1}, {0x388, 0x3B5}, {0x389, 0x3B7}, {0x38A, 0x3B9}, {0x38C, 0x3BF},
             {0x38E, 0x3C5}, {0x38F, 0x3C9}, {0x390, 0x3B9}, {0x3AA, 0x3B9}, {0x3AB, 0x3C5},
             {0x3AC, 0x3B1}, {0x3AD, 0x3B5}, {0x3AE, 0x3B7}, {0x3AF, 0x3B9}, {0x3B0, 0x3C5},
             {0x3C2, 0x3C3}, {0x3CA, 0x3B9}, {0x3CB, 0x3C5}, {0x3CC, 0x3BF}, {0x3CD, 0x3C5},
             {0x3CE, 0x3C9}};

    for (size_t i = 0; i < BASE_ARRAY_LEN(g); i++) {
        if (g[i].from == cp)
            return g[i].to;
    }
    if (cp >= 0x391 && cp <= 0x3A9)
        return cp + 0x20;
    return cp;
}

/* Pinyin third-tone and ü letters U+01CD..U+01DC. */
static const char pinyin[17] = "aaiioouuuuuuuuuu";

/* Fold one code point; returns a replacement string in `out` (ASCII) or
 * sets *cp_out to a code point to encode.  Returns 0 to drop it. */
static int
fold(uint32_t cp, char out[3], uint32_t *cp_out)
{
    char c = 0;

    *cp_out = cp;
    if (cp < 0x80) {
        out[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        return 1;
    }
    if (cp >= 0x300 && cp <= 0x36F)
        return 0; /* combining diacritical marks */
    if (cp >= 0xC0 && cp <= 0xFF)
        c = latin1[cp - 0xC0];
    else if (cp >= 0x100 && cp <= 0x17F)
        c = latin_ext_a[cp - 0x100];
    else if (cp >= 0x1CD && cp <= 0x1DC)
        c = pinyin[cp - 0x1CD];
    else if (cp >= 0xFF01 && cp <= 0xFF5E)
        return fold(cp - 0xFF01 + 0x21, out, cp_out); /* full-width ASCII */
    else if (cp == 0x3000)
        c = ' '; /* ideographic space */
    if (c == '1' || c == '3' || c == '4' || c == '2') {
        const char *two = c == '1' ? "ae" : c == '2' ? "ss" : c == '3' ? "ij" : "oe";

        memcpy(out, two, 2);
        return 2;
    }
    if (c != 0 && c != '.') {
        out[0] = c;
        return 1;
    }
    if (cp >= 0x386 && cp <= 0x3CE)
        *cp_out = fold_greek(cp);
    else if (cp >= 0x400 && cp <= 0x40F)
        *cp_out = cp == 0x401 ? 0x435 : cp + 0x50; /* Ё -> е as well */
    else if (cp >= 0x410 && cp <= 0x42F)
        *cp_out = cp + 0x20;
    else if (cp == 0x451)
        *cp_out = 0x435;
    return -1;
}

/* Decode one UTF-8 sequence (input is already valid UTF-8 from the JSON
 * reader or the query decoder; a bad byte is taken as Latin-1). */
static uint32_t
decode(const unsigned char *p, size_t len, size_t *used)
{
    uint32_t cp = p[0];
    size_t n = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;

    if (n == 1 || n > len || cp < 0xC2) {
        *used = 1;
        return cp;
    }
    cp &= (uint32_t)(0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *used = 1;
            return p[0];
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *used = n;
    return cp;
}

char *
fhir_search_normalize(struct base_arena *a, const char *s, size_t len)
{
    /* Folding never grows text by more than a factor of two ("æ" is
     * two bytes in and two out; ASCII stays one). */
    size_t cap;
    char *out;
    size_t o = 0;

    if (!base_mul_ok(len, 2, &cap) || !base_add_ok(cap, 1, &cap))
        return NULL;
    out = base_arena_alloc(a, cap);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t used;
        uint32_t cp = decode((const unsigned char *)s + i, len - i, &used);
        char rep[3];
        uint32_t cp2;
        int n = fold(cp, rep, &cp2);

        i += used;
        if (n > 0) {
            memcpy(out + o, rep, (size_t)n);
            o += (size_t)n;
        } else if (n < 0) {
            char enc[4];
            size_t e = base_utf8_encode(cp2, enc);

            memcpy(out + o, enc, e);
            o += e;
        }
    }
    out[o] = '\0';
    return out;
}
