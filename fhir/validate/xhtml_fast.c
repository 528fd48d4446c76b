/*
 * The narrative fast path: a purpose-built checker for the XHTML that
 * real narratives use (https://hl7.org/fhir/R4/narrative.html#xhtml).
 *
 * Like stream.c it is a filter, not a second validator: it returns true
 * only when it proves the div valid — well-formed XML 1.0, root <div> in
 * the XHTML namespace, txt-1's elements and attributes, no script, event
 * handler or javascript: URL, txt-2's content — and false for everything
 * else, invalid or merely unusual, which libxml2 (xhtml.c) then decides
 * with the exact fault.  So it accepts a strict subset of the XML grammar
 * and gives up on anything outside it:
 *   - the document is optional whitespace, one element, then whitespace
 *     and comments; no XML or document type declaration, no processing
 *     instruction, no CDATA section;
 *   - names are ASCII and must be on txt-1's lists; no namespace prefixes
 *     but xml:lang and xml:space; the only namespace declaration is the
 *     default one, spelled exactly "http://www.w3.org/1999/xhtml";
 *   - references are the five predefined entities and character references
 *     to XML Chars (XML 1.0 §4.1, §4.6, production [2]); URL-valued
 *     attributes and xmlns take no references at all;
 *   - characters are XML Chars: no C0 controls but tab, LF, CR, and no
 *     U+FFFE/U+FFFF (the caller guarantees UTF-8 without NUL);
 *   - "]]>" never occurs in text (XML 1.0 [14]); comments hold no "--" and
 *     no '<' (so the DOCTYPE pre-check could not disagree).
 * Nesting and size are bounded (fhir/base/limits.h) well below libxml2's
 * own limits.  test/fuzz/fuzz_xhtml_diff.c checks "true here => OK there"
 * against libxml2.
 */
#include "fhir/validate/validate_int.h"

#include <ctype.h>
#include <string.h>

#include "fhir/base/limits.h"

static const char xhtml_ns[] = "http://www.w3.org/1999/xhtml";

/* Byte classes of character data (text, attribute values, comments). */
enum {
    X_PLAIN = 0, /* any other byte of a valid UTF-8 text: an XML Char */
    X_SPACE = 1, /* XML S: space, tab, LF, CR */
    X_LT = 2,
    X_AMP = 3,
    X_BRACKET = 4, /* ']': "]]>" is not allowed in text */
    X_QUOTE = 5,   /* '"' and '\'': end an attribute value */
    X_DASH = 6,    /* '-': "--" ends a comment */
    X_EF = 7,      /* lead byte of U+F000-U+FFFF: U+FFFE/U+FFFF are not Chars */
    X_CTRL = 8     /* C0 controls other than tab, LF, CR */
};

static const unsigned char xclass[256] = {
    [0x00] = X_CTRL,   [0x01] = X_CTRL, [0x02] = X_CTRL,  [0x03] = X_CTRL,  [0x04] = X_CTRL,
    [0x05] = X_CTRL,   [0x06] = X_CTRL, [0x07] = X_CTRL,  [0x08] = X_CTRL,  ['\t'] = X_SPACE,
    ['\n'] = X_SPACE,  [0x0B] = X_CTRL, [0x0C] = X_CTRL,  ['\r'] = X_SPACE, [0x0E] = X_CTRL,
    [0x0F] = X_CTRL,   [0x10] = X_CTRL, [0x11] = X_CTRL,  [0x12] = X_CTRL,  [0x13] = X_CTRL,
    [0x14] = X_CTRL,   [0x15] = X_CTRL, [0x16] = X_CTRL,  [0x17] = X_CTRL,  [0x18] = X_CTRL,
    [0x19] = X_CTRL,   [0x1A] = X_CTRL, [0x1B] = X_CTRL,  [0x1C] = X_CTRL,  [0x1D] = X_CTRL,
    [0x1E] = X_CTRL,   [0x1F] = X_CTRL, [' '] = X_SPACE,  ['<'] = X_LT,     ['&'] = X_AMP,
    [']'] = X_BRACKET, ['"'] = X_QUOTE, ['\''] = X_QUOTE, ['-'] = X_DASH,   [0xEF] = X_EF,
};

struct fx {
    const unsigned char *p;
    const unsigned char *end;
    bool has_content;
    unsigned depth;
    /* names of the open elements, pointing into the text */
    const unsigned char *open[BASE_LIMIT_FHIR_XHTML_FAST_MAX_DEPTH];
    unsigned char open_len[BASE_LIMIT_FHIR_XHTML_FAST_MAX_DEPTH];
    /* "name>" of the open elements as one little-endian word for the
     * quick end tag (names of up to 7 bytes), 0 for the byte-wise one */
    uint64_t close[BASE_LIMIT_FHIR_XHTML_FAST_MAX_DEPTH];
    const struct fhir_validate__xhtml_words *words; /* fhir_validate__xhtml_element_words() */
};

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define QUICK_TAGS 1
#else
#define QUICK_TAGS 0
#endif

/* The low n + 1 bytes of a word: "name>" of an n-byte name (n <= 7). */
static inline uint64_t
close_mask(size_t n)
{
    return ~UINT64_C(0) >> (8 * (7 - n));
}

/* Opens element n (nlen bytes, already checked); false beyond the depth
 * limit. */
static bool
push(struct fx *x, const unsigned char *n, size_t nlen)
{
    uint64_t w = 0;

    if (x->depth >= BASE_LIMIT_FHIR_XHTML_FAST_MAX_DEPTH)
        return false;
    if (QUICK_TAGS && nlen <= 7 && x->end - n >= 8) {
        memcpy(&w, n, 8);
        w = (w & (close_mask(nlen) >> 8)) | ((uint64_t)'>' << (8 * nlen));
    }
    x->open[x->depth] = n;
    x->open_len[x->depth] = (unsigned char)nlen;
    x->close[x->depth] = w;
    x->depth++;
    return true;
}

/* Is a p open?  Asked only when a block element opens (a paragraph holds
 * inline content only, xhtml.c fhir_validate__xhtml_block), so the tags
 * that are not blocks, and every end tag, pay nothing for the rule. */
static bool
in_paragraph(const struct fx *x)
{
    for (unsigned i = 1; i < x->depth; i++) {
        if (x->open_len[i] == 1 && x->open[i][0] == 'p')
            return true;
    }
    return false;
}

static bool
is_space(unsigned char c)
{
    return xclass[c] == X_SPACE;
}

/* Skips S; true when there was some. */
static bool
skip_space(struct fx *x)
{
    const unsigned char *start = x->p;

    while (x->p < x->end && is_space(*x->p))
        x->p++;
    return x->p != start;
}

/* U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML Chars. */
static bool
is_nonchar(const unsigned char *p, const unsigned char *end)
{
    return end - p >= 3 && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF);
}

/* XML 1.0 [2] Char, for character references. */
static bool
is_xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* Value of a hex digit, -1 for any other byte: the low nibble, plus 9
 * for the letters (A-F and a-f are 0x41-0x46 and 0x61-0x66). */
static int
hex_value(unsigned char c)
{
    if (!isxdigit(c))
        return -1;
    return (c & 0x0F) + (c >= 'A' ? 9 : 0);
}

/*
 * A reference at x->p ('&'): "&#N;", "&#xH;" to an XML Char, or one of the
 * five predefined entities.  *is_space tells whether it stands for XML
 * whitespace (which is not txt-2 content).
 */
static bool
reference(struct fx *x, bool *is_space_out)
{
    static const char *const predefined[] = {"lt;", "gt;", "amp;", "apos;", "quot;"};
    const unsigned char *p = x->p + 1;
    uint32_t v = 0;
    unsigned digits = 0;

    if (p < x->end && *p != '#') {
        for (size_t i = 0; i < BASE_ARRAY_LEN(predefined); i++) {
            size_t n = strlen(predefined[i]);

            if ((size_t)(x->end - p) >= n && memcmp(p, predefined[i], n) == 0) {
                x->p = p + n;
                *is_space_out = false;
                return true;
            }
        }
        return false; /* an entity no DTD declares (&nbsp; is HTML, not XML) */
    }
    p++;
    if (p < x->end && *p == 'x') {
        for (p++; p < x->end && hex_value(*p) >= 0 && digits < 8; p++, digits++)
            v = v * 16u + (uint32_t)hex_value(*p);
    } else {
        for (; p < x->end && *p >= '0' && *p <= '9' && digits < 8; p++, digits++)
            v = v * 10u + (uint32_t)(*p - '0');
    }
    if (digits == 0 || p >= x->end || *p != ';' || !is_xml_char(v))
        return false;
    x->p = p + 1;
    *is_space_out = v == 0x9 || v == 0xA || v == 0xD || v == 0x20;
    return true;
}

#if defined(__SSE2__)
/* Text bytes that need a look once the text has content: '<', '&', ']',
 * 0xEF and C0 controls but LF and tab (narratives' indentation is text). */
static inline __m128i
text_special(__m128i v)
{
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('<')), _mm_cmpeq_epi8(v, _mm_set1_epi8('&'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(']')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xEF))));
    /* unsigned v <= 0x1F */
    __m128i ctrl = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));

    __m128i lf_tab = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')));

    return _mm_or_si128(m, _mm_andnot_si128(lf_tab, ctrl));
}

static const unsigned char *
skip_text(const unsigned char *p, const unsigned char *end)
{
    return fhir_validate__skip16(p, end, text_special);
}
#else
/* Portable build: the byte loop looks at every byte. */
static const unsigned char *
skip_text(const unsigned char *p, const unsigned char *end)
{
    (void)end;
    return p;
}
#endif

/* Character data up to the next '<' (XML 1.0 [14] and [67]). */
static bool
char_data(struct fx *x)
{
    const unsigned char *p = x->p;
    const unsigned char *end = x->end;
    bool content = x->has_content;

    for (;;) {
        if (content)
            p = skip_text(p, end);
        if (p >= end)
            break;
        switch (xclass[*p]) {
        case X_SPACE: /* indentation between tags: no content */
            p++;
            break;
        case X_PLAIN:
        case X_QUOTE:
        case X_DASH:
            content = true;
            p++;
            break;
        case X_LT:
            x->p = p;
            x->has_content = content;
            return true;
        case X_AMP: {
            bool sp;

            x->p = p;
            if (!reference(x, &sp))
                return false;
            content |= !sp;
            p = x->p;
            break;
        }
        case X_BRACKET:
            if (end - p >= 3 && p[1] == ']' && p[2] == '>')
                return false;
            content = true;
            p++;
            break;
        case X_EF:
            if (is_nonchar(p, end))
                return false;
            content = true;
            p++;
            break;
        default:
            return false; /* control character */
        }
    }
    x->p = p;
    x->has_content = content;
    return true;
}

/* An ASCII name of letters, digits and ':' (enough for every allowed name;
 * anything longer or stranger fails the list lookups). */
static const bool name_byte[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, [':'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,
    ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
    ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,
    ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,
    ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static size_t
name(struct fx *x)
{
    const unsigned char *start = x->p;
    const unsigned char *p = start;

    while (p < x->end && name_byte[*p])
        p++;
    x->p = p;
    return (size_t)(p - start);
}

/*
 * A quoted attribute value at x->p (XML 1.0 [10]); its raw text in *v.
 * References are allowed only when allow_refs.
 */
static bool
att_value(struct fx *x, bool allow_refs, const unsigned char **v, size_t *vlen)
{
    unsigned char quote;
    const unsigned char *start;

    if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
        return false;
    quote = *x->p++;
    start = x->p;
    while (x->p < x->end && *x->p != quote) {
        switch (xclass[*x->p]) {
        case X_LT:
        case X_CTRL:
            return false;
        case X_AMP: {
            bool sp;

            if (!allow_refs || !reference(x, &sp))
                return false;
            continue;
        }
        case X_EF:
            if (is_nonchar(x->p, x->end))
                return false;
            break;
        default:
            break;
        }
        x->p++;
    }
    if (x->p >= x->end)
        return false;
    *v = start;
    *vlen = (size_t)(x->p - start);
    x->p++;
    return true;
}

/* Bits of the attributes seen on one tag: the allowed list's indices, then
 * these three (duplicates are not well-formed, XML 1.0 §3.1). */
enum { ATT_XMLNS = 61, ATT_XML_LANG = 62, ATT_XML_SPACE = 63 };

/* One attribute at x->p; *has_ns when it declared the XHTML namespace. */
static bool
attribute(struct fx *x, uint64_t *seen, bool *has_ns)
{
    const unsigned char *n = x->p;
    size_t nlen = name(x);
    const unsigned char *v;
    size_t vlen;
    int bit;
    bool is_url = false;
    bool is_space_att = false;

    if (nlen == 5 && memcmp(n, "xmlns", 5) == 0) {
        bit = ATT_XMLNS;
    } else if (nlen == 8 && memcmp(n, "xml:lang", 8) == 0) {
        bit = ATT_XML_LANG;
    } else if (nlen == 9 && memcmp(n, "xml:space", 9) == 0) {
        bit = ATT_XML_SPACE;
        is_space_att = true;
    } else {
        /* on* handlers are not on the list */
        bit = fhir_validate__xhtml_attribute_index((const char *)n, nlen);
        if (bit < 0)
            return false;
        is_url = fhir_validate__xhtml_url_attribute((const char *)n, nlen);
    }
    _Static_assert(ATT_XMLNS < 64 && ATT_XML_SPACE < 64, "one uint64_t of attribute bits");
    if (*seen & (UINT64_C(1) << bit))
        return false;
    *seen |= UINT64_C(1) << bit;
    skip_space(x);
    if (x->p >= x->end || *x->p != '=')
        return false;
    x->p++;
    skip_space(x);
    if (!att_value(x, bit != ATT_XMLNS && !is_url && !is_space_att, &v, &vlen))
        return false;
    if (bit == ATT_XMLNS) {
        if (vlen != sizeof(xhtml_ns) - 1 || memcmp(v, xhtml_ns, vlen) != 0)
            return false;
        *has_ns = true;
    }
    if (is_space_att && !(vlen == 7 && memcmp(v, "default", 7) == 0) &&
        !(vlen == 8 && memcmp(v, "preserve", 8) == 0))
        return false;
    if (is_url && fhir_validate__xhtml_script_url((const char *)v, vlen))
        return false;
    return true;
}

/* The elements narratives use most — a b i p q, td tr th br li, div, span,
 * table — all on txt-1's list, without the list lookup (which decides every
 * other name). */
static bool
common_element(const unsigned char *n, size_t len)
{
    switch (len) {
    case 1:
        return n[0] == 'a' || n[0] == 'b' || n[0] == 'i' || n[0] == 'p' || n[0] == 'q';
    case 2:
        return (n[0] == 't' && (n[1] == 'd' || n[1] == 'r' || n[1] == 'h')) ||
               (n[0] == 'b' && n[1] == 'r') || (n[0] == 'l' && n[1] == 'i');
    case 3:
        return n[0] == 'd' && n[1] == 'i' && n[2] == 'v';
    case 4:
        return memcmp(n, "span", 4) == 0;
    case 5:
        return memcmp(n, "table", 5) == 0;
    default:
        return false;
    }
}

/* A start tag at x->p ('<'); an element that is not empty is pushed. */
static bool
start_tag(struct fx *x)
{
    const unsigned char *n;
    size_t nlen;
    uint64_t seen = 0;
    bool has_ns = false;

    x->p++;
    n = x->p;
    nlen = name(x);
    if (!common_element(n, nlen) && !fhir_validate__xhtml_element_allowed((const char *)n, nlen))
        return false;
    if (x->depth == 0 && !(nlen == 3 && n[0] == 'd' && n[1] == 'i' && n[2] == 'v'))
        return false;
    if (nlen == 3 && n[0] == 'i' && n[1] == 'm' && n[2] == 'g')
        x->has_content = true; /* txt-2: an image is content */
    if (fhir_validate__xhtml_block((const char *)n, nlen) && in_paragraph(x))
        return false; /* libxml2 reports it (xhtml.c) */
    for (;;) {
        bool had_space = skip_space(x);

        if (x->p >= x->end)
            return false;
        if (*x->p == '>') {
            x->p++;
            break;
        }
        if (*x->p == '/') {
            if (x->end - x->p < 2 || x->p[1] != '>')
                return false;
            x->p += 2;
            return x->depth > 0 || has_ns; /* an empty root has no content anyway */
        }
        if (!had_space || !attribute(x, &seen, &has_ns))
            return false;
    }
    if (x->depth == 0 && !has_ns)
        return false; /* the root must be in the XHTML namespace */
    return push(x, n, nlen);
}

/* An end tag at x->p ("</"), matching the innermost open element. */
static bool
end_tag(struct fx *x)
{
    const unsigned char *n;
    size_t nlen;

    x->p += 2;
    n = x->p;
    nlen = name(x);
    if (x->depth == 0 || nlen != x->open_len[x->depth - 1])
        return false;
    for (size_t i = 0; i < nlen; i++) {
        if (n[i] != x->open[x->depth - 1][i])
            return false;
    }
    skip_space(x);
    if (x->p >= x->end || *x->p != '>')
        return false;
    x->p++;
    x->depth--;
    return true;
}

/* A comment at x->p ("<!--"), XML 1.0 [15]: no "--" inside. */
static bool
comment(struct fx *x)
{
    const unsigned char *p;

    if (x->end - x->p < 4 || memcmp(x->p, "<!--", 4) != 0)
        return false;
    for (p = x->p + 4; p < x->end; p++) {
        switch (xclass[*p]) {
        case X_DASH:
            if (x->end - p >= 2 && p[1] == '-') {
                if (x->end - p < 3 || p[2] != '>')
                    return false;
                x->p = p + 3;
                return true;
            }
            break;
        case X_LT:
        case X_CTRL:
            return false;
        case X_EF:
            if (is_nonchar(p, x->end))
                return false;
            break;
        default:
            break;
        }
    }
    return false;
}

#if QUICK_TAGS
/* Name bytes (name_byte's set: letters, digits, ':') of 16 bytes. */
static inline unsigned
name_lanes(__m128i v)
{
    __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));

    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(fhir_validate__in_range(lower, 'a', 26), fhir_validate__in_range(v, '0', 11)));
}
#endif

#if QUICK_TAGS
/* "img" as the little-endian word start_tag_quick() loads */
#define IMG_WORD ((uint64_t)'i' | (uint64_t)'m' << 8 | (uint64_t)'g' << 16)
#endif

/*
 * The start tag every narrative is made of, "<name>" with a name of up to
 * 15 bytes, at *pp ('<') with 17 bytes of text from there: the name found
 * in one load, one of up to 7 bytes looked up as one word.  Returns 1 when
 * done (*pp past the tag), 0 when the element is not allowed or too deep
 * (start_tag() would refuse it too), -1 for markup() to read the tag
 * (attributes, "/>", space, a longer name, comments, PIs).
 */
static inline int
start_tag_quick(struct fx *x, const unsigned char **pp)
{
#if QUICK_TAGS
    const unsigned char *n = *pp + 1;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)n);
    unsigned bits = ~name_lanes(v) & 0xFFFFu;
    size_t nlen;
    uint64_t key = 0;
    unsigned kind;

    if (bits == 0)
        return -1;
    nlen = (size_t)__builtin_ctz(bits);
    if (nlen == 0 || n[nlen] != '>')
        return -1;
    if (nlen <= 7) {
        /* txt-1's names by one multiply and compare (xhtml.c's table) */
        key = (uint64_t)_mm_cvtsi128_si64(v) & (close_mask(nlen) >> 8);
        if (key == IMG_WORD)
            x->has_content = true; /* txt-2: an image is content */
        unsigned slot = FHIR_VALIDATE__XHTML_WORD_SLOT(key);

        if (x->words->word[slot] == key)
            kind = x->words->kind[slot];
        else if (fhir_validate__xhtml_element_allowed((const char *)n, nlen))
            kind =
                fhir_validate__xhtml_block((const char *)n, nlen) ? FHIR_VALIDATE__XHTML_BLOCK : 0;
        else
            return 0;
        key |= (uint64_t)'>' << (8 * nlen);
    } else if (fhir_validate__xhtml_element_allowed((const char *)n, nlen)) {
        kind = fhir_validate__xhtml_block((const char *)n, nlen) ? FHIR_VALIDATE__XHTML_BLOCK : 0;
    } else {
        return 0;
    }
    if (x->depth >= BASE_LIMIT_FHIR_XHTML_FAST_MAX_DEPTH)
        return 0;
    if (kind != 0 && in_paragraph(x))
        return 0; /* a block inside a p: libxml2 reports it (xhtml.c) */
    x->open[x->depth] = n;
    x->open_len[x->depth] = (unsigned char)nlen;
    x->close[x->depth] = key;
    x->depth++;
    *pp = n + nlen + 1;
    return 1;
#else
    (void)x;
    (void)pp;
    return -1;
#endif
}

/*
 * The end tag "</name>" of the innermost element (x->depth > 0) at *pp,
 * when its name has up to 7 bytes and 10 bytes of text are there: one
 * compare.  False leaves the tag to end_tag() (which also decides every
 * mismatch).
 */
static inline bool
end_tag_quick(struct fx *x, const unsigned char **pp)
{
    unsigned d = x->depth - 1;
    uint64_t w;

    if (!QUICK_TAGS || x->close[d] == 0)
        return false;
    memcpy(&w, *pp + 2, 8);
    if ((w & close_mask(x->open_len[d])) != x->close[d])
        return false;
    *pp += 3 + x->open_len[d];
    x->depth = d;
    return true;
}

/* Markup at x->p ('<') inside the root element. */
static bool
markup(struct fx *x)
{
    if (x->end - x->p < 2)
        return false;
    switch (x->p[1]) {
    case '/':
        return end_tag(x);
    case '!':
        return comment(x);
    case '?':
        return false; /* processing instruction */
    default:
        return start_tag(x);
    }
}

/* The root start tag, "<div xmlns=...>" exactly as narratives write it
 * without a look at its parts; any other spelling goes to start_tag(). */
static bool
root_tag(struct fx *x)
{
    static const char root[] = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
    size_t n = sizeof(root) - 1;

    if ((size_t)(x->end - x->p) >= n && memcmp(x->p, root, n) == 0) {
        x->p += n;
        return push(x, x->p - n + 1, 3);
    }
    return start_tag(x);
}

bool
fhir_validate__xhtml_fast(const char *text, size_t len)
{
    struct fx x;
    const unsigned char *p;

    if (len == 0 || len > BASE_LIMIT_FHIR_XHTML_FAST_MAX_LEN)
        return false;
    x.p = (const unsigned char *)text;
    x.end = x.p + len;
    x.has_content = false;
    x.depth = 0;
    x.words = fhir_validate__xhtml_element_words();
    skip_space(&x);
    if (x.p >= x.end || *x.p != '<' || !root_tag(&x))
        return false;
    p = x.p;
    while (x.depth > 0) {
        if (p >= x.end)
            return false;
        if (*p != '<') {
            x.p = p;
            if (!char_data(&x) || x.p >= x.end)
                return false;
            p = x.p;
        }
        /* the quick tags with the position in a register */
        if (x.end - p >= 17) {
            if (p[1] == '/') {
                if (end_tag_quick(&x, &p))
                    continue;
            } else {
                int r = start_tag_quick(&x, &p);

                if (r == 1)
                    continue;
                if (r == 0)
                    return false;
            }
        }
        x.p = p;
        if (!markup(&x))
            return false;
        p = x.p;
    }
    x.p = p;
    /* after the root: whitespace and comments (XML 1.0 [27] Misc) */
    for (;;) {
        skip_space(&x);
        if (x.p >= x.end)
            break;
        if (!comment(&x))
            return false;
    }
    return x.has_content;
}
