/*
 * Lexical checks of the FHIR R4 primitive types
 * (https://hl7.org/fhir/R4/datatypes.html#primitive).  Hand-written scanners
 * equivalent to the spec's regular expressions (whitespace in them is the
 * XML Schema \s: space, tab, CR, LF), plus the calendar rule the regexes
 * cannot express ("Dates SHALL be valid dates").  Pure functions.
 */
#include "fhir/validate/fhir_validate.h"

#include <stdint.h>
#include <string.h>

#include "fhir/validate/validate_int.h"

/* Character classes, one table lookup per byte. */
enum {
    C_DIGIT = 0x01, /* 0-9 */
    C_ID = 0x02,    /* [A-Za-z0-9\-\.] */
    C_SPACE = 0x04, /* XML Schema \s: space, tab, CR, LF */
    C_HEXL = 0x08   /* [0-9a-f] */
};

#define D (C_DIGIT | C_ID | C_HEXL)
#define U C_ID
#define L C_ID
#define H (C_ID | C_HEXL)
static const unsigned char cls[256] = {
    ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\r'] = C_SPACE, [' '] = C_SPACE, ['-'] = C_ID,
    ['.'] = C_ID,     ['0'] = D,        ['1'] = D,        ['2'] = D,       ['3'] = D,
    ['4'] = D,        ['5'] = D,        ['6'] = D,        ['7'] = D,       ['8'] = D,
    ['9'] = D,        ['A'] = U,        ['B'] = U,        ['C'] = U,       ['D'] = U,
    ['E'] = U,        ['F'] = U,        ['G'] = U,        ['H'] = U,       ['I'] = U,
    ['J'] = U,        ['K'] = U,        ['L'] = U,        ['M'] = U,       ['N'] = U,
    ['O'] = U,        ['P'] = U,        ['Q'] = U,        ['R'] = U,       ['S'] = U,
    ['T'] = U,        ['U'] = U,        ['V'] = U,        ['W'] = U,       ['X'] = U,
    ['Y'] = U,        ['Z'] = U,        ['a'] = H,        ['b'] = H,       ['c'] = H,
    ['d'] = H,        ['e'] = H,        ['f'] = H,        ['g'] = L,       ['h'] = L,
    ['i'] = L,        ['j'] = L,        ['k'] = L,        ['l'] = L,       ['m'] = L,
    ['n'] = L,        ['o'] = L,        ['p'] = L,        ['q'] = L,       ['r'] = L,
    ['s'] = L,        ['t'] = L,        ['u'] = L,        ['v'] = L,       ['w'] = L,
    ['x'] = L,        ['y'] = L,        ['z'] = L,
};
#undef D
#undef U
#undef L
#undef H

#if defined(__SSE2__)
#include <emmintrin.h>

static inline __m128i
load16(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* 0xFF in each byte of v in [lo, lo + n): "x - lo < n" unsigned, as a
 * signed compare shifted by 0x80 — exact for all 256 byte values. */
static inline __m128i
in_range(__m128i v, unsigned char lo, unsigned char n)
{
    return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - lo))),
                          _mm_set1_epi8((char)(-128 + n)));
}
#endif

/* What clean_blocks() looks for. */
enum block_rule {
    BLOCK_NO_SPACE, /* no byte <= 0x20 (so no XML Schema whitespace) */
    BLOCK_ID        /* [A-Za-z0-9\-\.] */
};

#if defined(__SSE2__)
static inline bool
block_ok(__m128i v, enum block_rule rule)
{
    const __m128i sp = _mm_set1_epi8(0x20);
    __m128i letter;
    __m128i other;

    if (rule == BLOCK_NO_SPACE)
        return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, sp), sp)) == 0;
    letter = in_range(_mm_or_si128(v, sp), 'a', 26);
    /* '-' '.' '/' '0'-'9' are 0x2D-0x39; '/' is not allowed */
    other = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')), in_range(v, '-', 13));
    return _mm_movemask_epi8(_mm_or_si128(letter, other)) == 0xFFFF;
}
#endif

/* Whole 16-byte blocks at the start of s that keep `rule`; the caller
 * checks from there on byte by byte (0 without SSE2). */
static size_t
clean_blocks(const char *s, size_t len, enum block_rule rule)
{
    size_t i = 0;

#if defined(__SSE2__)
    while (len - i >= 16 && block_ok(load16((const unsigned char *)s + i), rule))
        i += 16;
#else
    (void)s;
    (void)len;
    (void)rule;
#endif
    return i;
}

static bool
is_digit(char c)
{
    return (cls[(unsigned char)c] & C_DIGIT) != 0;
}

static bool
is_xs_space(char c)
{
    return (cls[(unsigned char)c] & C_SPACE) != 0;
}

/* n digits at s[*i], value in *out. */
static bool
digits(const char *s, size_t len, size_t *i, unsigned n, unsigned *out)
{
    unsigned v = 0;

    if (len - *i < n)
        return false;
    for (unsigned k = 0; k < n; k++) {
        char c = s[*i + k];

        if (!is_digit(c))
            return false;
        v = v * 10u + (unsigned)(c - '0');
    }
    *i += n;
    *out = v;
    return true;
}

static bool
expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4u == 0 && y % 100u != 0) || y % 400u == 0;

    return (m == 2 && leap) ? 29u : dim[m - 1];
}

/* Precision reached by a date part. */
enum date_prec { PREC_YEAR = 1, PREC_MONTH, PREC_DAY };

/*
 * YYYY(-MM(-DD)?)? at s[*i].  Year 0001-9999 (the regex excludes 0000).
 * Returns FHIR_PRIM_OK, BAD_FORMAT or BAD_DATE; *prec is the precision.
 */
static enum fhir_prim_fault
scan_date(const char *s, size_t len, size_t *i, enum date_prec *prec)
{
    unsigned y;
    unsigned m;
    unsigned d;

    if (!digits(s, len, i, 4, &y) || y == 0)
        return FHIR_PRIM_BAD_FORMAT;
    *prec = PREC_YEAR;
    if (*i == len || s[*i] != '-')
        return FHIR_PRIM_OK;
    (*i)++;
    if (!digits(s, len, i, 2, &m) || m < 1 || m > 12)
        return FHIR_PRIM_BAD_FORMAT;
    *prec = PREC_MONTH;
    if (*i == len || s[*i] != '-')
        return FHIR_PRIM_OK;
    (*i)++;
    if (!digits(s, len, i, 2, &d) || d < 1 || d > 31)
        return FHIR_PRIM_BAD_FORMAT;
    *prec = PREC_DAY;
    return d <= days_in_month(y, m) ? FHIR_PRIM_OK : FHIR_PRIM_BAD_DATE;
}

/* hh:mm:ss(.f+)? with hh 00-23, mm 00-59, ss 00-60. */
static bool
scan_time(const char *s, size_t len, size_t *i)
{
    unsigned h;
    unsigned m;
    unsigned sec;

    if (!digits(s, len, i, 2, &h) || h > 23 || !expect(s, len, i, ':') ||
        !digits(s, len, i, 2, &m) || m > 59 || !expect(s, len, i, ':') ||
        !digits(s, len, i, 2, &sec) || sec > 60)
        return false;
    if (*i < len && s[*i] == '.') {
        size_t start = ++(*i);

        while (*i < len && is_digit(s[*i]))
            (*i)++;
        if (*i == start)
            return false;
    }
    return true;
}

/* Z | (+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00) */
static bool
scan_zone(const char *s, size_t len, size_t *i)
{
    unsigned h;
    unsigned m;

    if (*i < len && s[*i] == 'Z') {
        (*i)++;
        return true;
    }
    if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
        return false;
    (*i)++;
    if (!digits(s, len, i, 2, &h) || !expect(s, len, i, ':') || !digits(s, len, i, 2, &m))
        return false;
    return (h <= 13 && m <= 59) || (h == 14 && m == 0);
}

static enum fhir_prim_fault
check_datetime(const char *s, size_t len, bool is_instant)
{
    size_t i = 0;
    enum date_prec prec;
    enum fhir_prim_fault f = scan_date(s, len, &i, &prec);

    if (f != FHIR_PRIM_OK && f != FHIR_PRIM_BAD_DATE)
        return f;
    if (i == len) {
        if (is_instant)
            return FHIR_PRIM_BAD_FORMAT; /* an instant is known to the second */
        return f;
    }
    /* a time needs a full date */
    if (prec != PREC_DAY || s[i] != 'T')
        return FHIR_PRIM_BAD_FORMAT;
    i++;
    if (!scan_time(s, len, &i))
        return FHIR_PRIM_BAD_FORMAT;
    if (i == len)
        return FHIR_PRIM_NO_TIMEZONE; /* "If hours and minutes are specified, a
                                       * time zone SHALL be populated" */
    if (!scan_zone(s, len, &i) || i != len)
        return FHIR_PRIM_BAD_FORMAT;
    return f;
}

static enum fhir_prim_fault
check_date(const char *s, size_t len)
{
    size_t i = 0;
    enum date_prec prec;
    enum fhir_prim_fault f = scan_date(s, len, &i, &prec);

    if (f == FHIR_PRIM_BAD_FORMAT)
        return f;
    return i == len ? f : FHIR_PRIM_BAD_FORMAT;
}

static enum fhir_prim_fault
check_time(const char *s, size_t len)
{
    size_t i = 0;

    return scan_time(s, len, &i) && i == len ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT;
}

/* [A-Za-z0-9\-\.]{1,64} */
static enum fhir_prim_fault
check_id(const char *s, size_t len)
{
    if (len > 64)
        return FHIR_PRIM_BAD_FORMAT;
    for (size_t i = clean_blocks(s, len, BLOCK_ID); i < len; i++) {
        if (!(cls[(unsigned char)s[i]] & C_ID))
            return FHIR_PRIM_BAD_FORMAT;
    }
    return FHIR_PRIM_OK;
}

/* [^\s]+(\s[^\s]+)*: no leading/trailing whitespace, single separators. */
static enum fhir_prim_fault
check_code(const char *s, size_t len)
{
    size_t clean = clean_blocks(s, len, BLOCK_NO_SPACE);

    if (is_xs_space(s[0]) || is_xs_space(s[len - 1]))
        return FHIR_PRIM_BAD_FORMAT;
    /* a pair that ends in the clean blocks has no space at its end */
    for (size_t i = clean > 1 ? clean : 1; i < len; i++) {
        if (is_xs_space(s[i]) && is_xs_space(s[i - 1]))
            return FHIR_PRIM_BAD_FORMAT;
    }
    return FHIR_PRIM_OK;
}

static enum fhir_prim_fault check_oid(const char *s, size_t len);

/* \S*, and the urn:uuid or urn:oid a value names (fhir_validate__uri_urn) */
static enum fhir_prim_fault
check_uri(const char *s, size_t len)
{
    for (size_t i = clean_blocks(s, len, BLOCK_NO_SPACE); i < len; i++) {
        if (is_xs_space(s[i]))
            return FHIR_PRIM_BAD_FORMAT;
    }
    switch (fhir_validate__uri_urn(s, len)) {
    case FHIR_VALIDATE__URN_BAD_UUID:
        return FHIR_PRIM_BAD_UUID;
    case FHIR_VALIDATE__URN_BAD_OID:
        return FHIR_PRIM_BAD_OID;
    default:
        return FHIR_PRIM_OK;
    }
}

/* urn:oid:[0-2](\.(0|[1-9][0-9]*))+ */
static enum fhir_prim_fault
check_oid(const char *s, size_t len)
{
    size_t i = 8;
    unsigned arcs = 0;

    if (len < 10 || memcmp(s, "urn:oid:", 8) != 0 || s[i] < '0' || s[i] > '2')
        return FHIR_PRIM_BAD_FORMAT;
    i++;
    while (i < len) {
        size_t start;

        if (s[i] != '.')
            return FHIR_PRIM_BAD_FORMAT;
        start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start || (s[start] == '0' && i - start > 1))
            return FHIR_PRIM_BAD_FORMAT;
        arcs++;
    }
    return arcs > 0 ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT;
}

static bool
is_hex(char c, bool any_case)
{
    return (cls[(unsigned char)c] & C_HEXL) != 0 || (any_case && c >= 'A' && c <= 'F');
}

bool
fhir_validate__uuid_urn(const char *s, size_t len, bool any_case)
{
    static const unsigned char groups[] = {8, 4, 4, 4, 12};
    const char *p = s + 9;

    if (len != 45 || memcmp(s, "urn:uuid:", 9) != 0)
        return false;
    for (size_t g = 0; g < sizeof(groups); g++) {
        if (g > 0 && *p++ != '-')
            return false;
        for (const char *end = p + groups[g]; p < end; p++) {
            if (!is_hex(*p, any_case))
                return false;
        }
    }
    return true;
}

/*
 * A uri, url or canonical that starts with urn:uuid: or urn:oid: names a
 * uuid or an oid, which the HL7 validator checks ("UUIDs must be valid and
 * lowercase", a valid OID): the 36 characters of a uuid, 8-4-4-4-12 hex
 * digits, then the end or a #fragment (the HL7 validator strips one);
 * an oid by the R4 oid regex.  Upper-case hex digits are a uuid all the
 * same (RFC 4122 section 3: case-insensitive on input; the official R4
 * example CapabilityStatement-example has one), but datatypes.html says
 * "For UUID (urn:uuid:53fefa32-...) use all lowercase", so the validator
 * warns.  Other URNs and URIs are not looked at.
 */
enum fhir_validate__urn
fhir_validate__uri_urn(const char *s, size_t len)
{
    if (len < 8 || memcmp(s, "urn:", 4) != 0)
        return FHIR_VALIDATE__URN_NONE;
    if (len >= 9 && memcmp(s, "urn:uuid:", 9) == 0) {
        size_t n = len > 45 && s[45] == '#' ? 45 : len;

        if (fhir_validate__uuid_urn(s, n, false))
            return FHIR_VALIDATE__URN_OK;
        return fhir_validate__uuid_urn(s, n, true) ? FHIR_VALIDATE__URN_UPPER
                                                   : FHIR_VALIDATE__URN_BAD_UUID;
    }
    if (memcmp(s, "urn:oid:", 8) == 0)
        return check_oid(s, len) == FHIR_PRIM_OK ? FHIR_VALIDATE__URN_OK
                                                 : FHIR_VALIDATE__URN_BAD_OID;
    return FHIR_VALIDATE__URN_NONE;
}

/* urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} */
static enum fhir_prim_fault
check_uuid(const char *s, size_t len)
{
    return fhir_validate__uuid_urn(s, len, false) ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT;
}

/* Byte classes for base64Binary, as bits so that the AND of eight classes
 * is B64_DATA only when all eight are data (table lookups keep the 750 KB
 * attachments of real documents cheap). */
enum { B64_BAD = 0, B64_DATA = 1, B64_PAD = 2, B64_SPACE = 4 };

static const unsigned char b64_class[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1,  ['D'] = 1,  ['E'] = 1,  ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1,  ['L'] = 1,  ['M'] = 1,  ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1,  ['T'] = 1,  ['U'] = 1,  ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1,  ['b'] = 1,  ['c'] = 1,  ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1,  ['j'] = 1,  ['k'] = 1,  ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1,  ['r'] = 1,  ['s'] = 1,  ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1,  ['z'] = 1,  ['0'] = 1,  ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1,  ['8'] = 1,  ['9'] = 1, ['+'] = 1, ['/'] = 1,
    ['='] = 2, [' '] = 4, ['\t'] = 4, ['\n'] = 4, ['\r'] = 4,
};

#if defined(__SSE2__)
/* 0xFF in each byte of v that is in the base64 alphabet.  Ranges are
 * checked as "x - lo < n" in signed arithmetic shifted by 0x80, exact for
 * all 256 byte values; x | 0x20 folds A-Z onto a-z. */
static inline __m128i
b64_is_data(__m128i v)
{
    __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26);
    /* '/' (0x2F) and the digits (0x30-0x39) are one range */
    __m128i slash_digit = in_range(v, '/', 11);
    __m128i plus = _mm_cmpeq_epi8(v, _mm_set1_epi8('+'));

    return _mm_or_si128(_mm_or_si128(letter, slash_digit), plus);
}

/* Set bits of a 16-bit mask (no POPCNT in baseline x86-64: the builtin
 * would be a library call). */
static inline unsigned
bits16(unsigned m)
{
    m = m - ((m >> 1) & 0x5555u);
    m = (m & 0x3333u) + ((m >> 2) & 0x3333u);
    m = (m + (m >> 4)) & 0x0F0Fu;
    return (m + (m >> 8)) & 0x1Fu;
}

/* Sum of the sixteen unsigned bytes of v. */
static inline size_t
lane_sum(__m128i v)
{
    __m128i sad = _mm_sad_epu8(v, _mm_setzero_si128());

    return (size_t)_mm_cvtsi128_si32(sad) + (size_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(sad, sad));
}

static inline unsigned
spaces_in(__m128i is_space)
{
    return bits16((unsigned)_mm_movemask_epi8(is_space));
}

/* Bytes of the base64 alphabet or spaces from p on: 64 at a time while all
 * are, then 16 at a time (stops at the first other byte or where fewer
 * than 16 remain); the spaces among them are added to *spaces. */
size_t
fhir_validate__b64_run(const unsigned char *p, size_t len, size_t *spaces)
{
    const __m128i sp = _mm_set1_epi8(' ');
    size_t i = 0;
    size_t n_sp = 0;
    /* per-lane space counts (each compare is 0 or -1), summed before a
     * lane could pass 255 */
    __m128i counts = _mm_setzero_si128();
    unsigned blocks = 0;

    while (len - i >= 64) {
        __m128i v0 = load16(p + i);
        __m128i v1 = load16(p + i + 16);
        __m128i v2 = load16(p + i + 32);
        __m128i v3 = load16(p + i + 48);
        __m128i s0 = _mm_cmpeq_epi8(v0, sp);
        __m128i s1 = _mm_cmpeq_epi8(v1, sp);
        __m128i s2 = _mm_cmpeq_epi8(v2, sp);
        __m128i s3 = _mm_cmpeq_epi8(v3, sp);
        __m128i ok = _mm_and_si128(
            _mm_and_si128(_mm_or_si128(b64_is_data(v0), s0), _mm_or_si128(b64_is_data(v1), s1)),
            _mm_and_si128(_mm_or_si128(b64_is_data(v2), s2), _mm_or_si128(b64_is_data(v3), s3)));

        if (_mm_movemask_epi8(ok) != 0xFFFF)
            break;
        counts = _mm_sub_epi8(counts, _mm_add_epi8(_mm_add_epi8(s0, s1), _mm_add_epi8(s2, s3)));
        if (++blocks == 63) {
            n_sp += lane_sum(counts);
            counts = _mm_setzero_si128();
            blocks = 0;
        }
        i += 64;
    }
    n_sp += lane_sum(counts);
    while (len - i >= 16) {
        __m128i v = load16(p + i);
        __m128i s = _mm_cmpeq_epi8(v, sp);
        unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(b64_is_data(v), s));

        if (ok != 0xFFFFu) {
            unsigned k = (unsigned)__builtin_ctz(~ok);
            unsigned sm = (unsigned)_mm_movemask_epi8(s) & ((1u << k) - 1u);

            *spaces += n_sp + bits16(sm);
            return i + k;
        }
        n_sp += spaces_in(s);
        i += 16;
    }
    *spaces += n_sp;
    return i;
}
#else
size_t
fhir_validate__b64_run(const unsigned char *p, size_t len, size_t *spaces)
{
    size_t i = 0;

    for (; i < len && (b64_class[p[i]] == B64_DATA || p[i] == ' '); i++)
        *spaces += p[i] == ' ';
    return i;
}
#endif

/*
 * RFC 4648 base64.  The R4 regex (\s*([0-9a-zA-Z\+\=]){4}\s*)+ omits '/',
 * a known defect: xs:base64Binary, which the XML form uses, allows it, and
 * so do real attachments.  Whitespace between characters is ignored.
 */
static enum fhir_prim_fault
check_base64(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    size_t n = 0;
    size_t pad = 0;

    while (i < len) {
        /* fast path over runs of data characters and spaces (lines of
         * MIME-style base64 are 76 characters between breaks) */
        if (pad == 0) {
            size_t spaces = 0;
            size_t run = fhir_validate__b64_run(p + i, len - i, &spaces);

            i += run;
            n += run - spaces;
        }
        if (i >= len)
            break;
        switch (b64_class[p[i]]) {
        case B64_DATA:
            if (pad > 0)
                return FHIR_PRIM_BAD_FORMAT; /* data after padding */
            n++;
            break;
        case B64_PAD:
            pad++;
            n++;
            break;
        case B64_SPACE:
            break;
        default:
            return FHIR_PRIM_BAD_FORMAT;
        }
        i++;
    }
    return (n % 4 == 0 && pad <= 2) ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static enum fhir_prim_fault
check_decimal(const char *s, size_t len)
{
    size_t i = 0;
    size_t start;

    if (i < len && s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i]))
        return FHIR_PRIM_BAD_FORMAT;
    if (s[i] == '0')
        i++;
    else
        while (i < len && is_digit(s[i]))
            i++;
    if (i < len && s[i] == '.') {
        start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return FHIR_PRIM_BAD_FORMAT;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return FHIR_PRIM_BAD_FORMAT;
    }
    return i == len ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT;
}

/* -?(0|[1-9][0-9]*) within [min, 2^31-1]; positiveInt/unsignedInt have no sign. */
static enum fhir_prim_fault
check_integer(const char *s, size_t len, int64_t min)
{
    size_t i = 0;
    bool neg = false;
    int64_t v = 0;

    if (s[0] == '-') {
        if (min >= 0)
            return FHIR_PRIM_BAD_FORMAT;
        neg = true;
        i = 1;
    }
    if (i >= len || (s[i] == '0' && len - i > 1))
        return FHIR_PRIM_BAD_FORMAT;
    for (; i < len; i++) {
        if (!is_digit(s[i]))
            return FHIR_PRIM_BAD_FORMAT;
        if (v <= INT64_C(1) << 40)
            v = v * 10 + (s[i] - '0');
    }
    if (neg)
        v = -v;
    return (v < min || v > INT32_MAX) ? FHIR_PRIM_OUT_OF_RANGE : FHIR_PRIM_OK;
}

/* 1 MiB characters: count code points only when the bytes could exceed it. */
static enum fhir_prim_fault
check_string(const char *s, size_t len)
{
    size_t chars = 0;

    if (len <= FHIR_VALIDATE__STRING_MAX_CHARS)
        return FHIR_PRIM_OK;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    return chars > FHIR_VALIDATE__STRING_MAX_CHARS ? FHIR_PRIM_TOO_LONG : FHIR_PRIM_OK;
}

enum fhir_prim_fault
fhir_validate_primitive(enum fhir_model_prim prim, const char *s, size_t len)
{
    if (len == 0)
        return FHIR_PRIM_EMPTY;
    switch (prim) {
    case FHIR_PRIM_STRING:
    case FHIR_PRIM_MARKDOWN:
        return check_string(s, len);
    case FHIR_PRIM_ID:
        return check_id(s, len);
    case FHIR_PRIM_CODE:
        return check_code(s, len);
    case FHIR_PRIM_URI:
    case FHIR_PRIM_URL:
    case FHIR_PRIM_CANONICAL:
        return check_uri(s, len);
    case FHIR_PRIM_OID:
        return check_oid(s, len);
    case FHIR_PRIM_UUID:
        return check_uuid(s, len);
    case FHIR_PRIM_DATE:
        return check_date(s, len);
    case FHIR_PRIM_DATETIME:
        return check_datetime(s, len, false);
    case FHIR_PRIM_INSTANT:
        return check_datetime(s, len, true);
    case FHIR_PRIM_TIME:
        return check_time(s, len);
    case FHIR_PRIM_BASE64BINARY:
        return check_base64(s, len);
    case FHIR_PRIM_DECIMAL:
        return check_decimal(s, len);
    case FHIR_PRIM_INTEGER:
        return check_integer(s, len, INT32_MIN);
    case FHIR_PRIM_UNSIGNEDINT:
        return check_integer(s, len, 0);
    case FHIR_PRIM_POSITIVEINT:
        return check_integer(s, len, 1);
    case FHIR_PRIM_BOOLEAN:
        return (len == 4 && memcmp(s, "true", 4) == 0) || (len == 5 && memcmp(s, "false", 5) == 0)
                   ? FHIR_PRIM_OK
                   : FHIR_PRIM_BAD_FORMAT;
    case FHIR_PRIM_XHTML:
        return FHIR_PRIM_OK; /* structure checked by fhir_validate_xhtml() */
    case FHIR_PRIM_NONE:
        return FHIR_PRIM_BAD_FORMAT;
    default:
        return FHIR_PRIM_BAD_FORMAT;
    }
}

const char *
fhir_prim_fault_text(enum fhir_prim_fault f)
{
    switch (f) {
    case FHIR_PRIM_OK:
        return "is valid";
    case FHIR_PRIM_BAD_FORMAT:
        return "has an invalid format";
    case FHIR_PRIM_BAD_DATE:
        return "is not a valid calendar date";
    case FHIR_PRIM_NO_TIMEZONE:
        return "has a time without a time zone";
    case FHIR_PRIM_OUT_OF_RANGE:
        return "is out of range";
    case FHIR_PRIM_EMPTY:
        return "is empty";
    case FHIR_PRIM_TOO_LONG:
        return "exceeds 1048576 characters";
    case FHIR_PRIM_BAD_UUID:
        return "names a urn:uuid that is not a valid uuid (8-4-4-4-12 hex digits)";
    case FHIR_PRIM_BAD_OID:
        return "names a urn:oid that is not a valid oid";
    default:
        return "is invalid";
    }
}
