/*
 * MSH-18 character sets (HL7 table 0211) and conversion to UTF-8 (iconv).
 *
 * Besides the table 0211 names, the spellings Chinese HIS and LIS actually
 * send are accepted: "GB18030", "GBK", "GB2312", "GB 2312", "CP936",
 * "UTF-8", "UTF8".  GBK and GB 2312 are subsets of GB 18030 (GB 18030-2005
 * is a superset of both byte-for-byte), so all three decode as GB18030.
 * Names are compared ignoring case, spaces, '-' and '_'.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "adapters/hl7v2/hl7v2_int.h"
#include "fhir/base/arena.h"

struct charset {
    const char *key;       /* normalised name: upper case, no space - _ */
    const char *canonical; /* what hl7v2_msg.charset reports */
    const char *iconv;     /* NULL: no conversion (UTF-8 and ASCII) */
};

static const struct charset charsets[] = {
    {"ASCII", "ASCII", NULL},
    {"USASCII", "ASCII", NULL},
    {"ISOIR6", "ASCII", NULL},
    {"UNICODEUTF8", "UTF-8", NULL},
    {"UTF8", "UTF-8", NULL},
    {"UNICODE", "UTF-8", NULL},  /* v2.3-2.4 "UNICODE": in practice UTF-8 on the wire */
    {"ISOIR192", "UTF-8", NULL}, /* DICOM's term (0008,0005), sent by PACS and RIS gateways */
    {"8859/1", "ISO-8859-1", "ISO-8859-1"},
    {"ISO88591", "ISO-8859-1", "ISO-8859-1"},
    {"ISOIR100", "ISO-8859-1", "ISO-8859-1"},
    {"LATIN1", "ISO-8859-1", "ISO-8859-1"},
    {"8859/2", "ISO-8859-2", "ISO-8859-2"},
    {"8859/3", "ISO-8859-3", "ISO-8859-3"},
    {"8859/4", "ISO-8859-4", "ISO-8859-4"},
    {"8859/5", "ISO-8859-5", "ISO-8859-5"},
    {"8859/6", "ISO-8859-6", "ISO-8859-6"},
    {"8859/7", "ISO-8859-7", "ISO-8859-7"},
    {"8859/8", "ISO-8859-8", "ISO-8859-8"},
    {"8859/9", "ISO-8859-9", "ISO-8859-9"},
    {"8859/15", "ISO-8859-15", "ISO-8859-15"},
    {"GB180302000", "GB18030", "GB18030"},
    {"GB180302005", "GB18030", "GB18030"},
    {"GB18030", "GB18030", "GB18030"},
    {"GBK", "GB18030", "GB18030"},
    {"CP936", "GB18030", "GB18030"},
    {"GB2312", "GB18030", "GB18030"},
    {"GB231280", "GB18030", "GB18030"},
    {"EUCCN", "GB18030", "GB18030"},
    /* not in table 0211, but what Windows-built HIS in Europe and America
     * write (and send): Latin-1 plus the 0x80-0x9F letters and quotes */
    {"CP1252", "WINDOWS-1252", "WINDOWS-1252"},
    {"WINDOWS1252", "WINDOWS-1252", "WINDOWS-1252"},
    {"BIG5", "BIG5", "BIG5"},
    {"KSX1001", "EUC-KR", "EUC-KR"},
};

static size_t
normalise(struct base_str name, char *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];

        if (c == ' ' || c == '-' || c == '_')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (n + 1 >= cap)
            return 0;
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

bool
hl7v2_charset_lookup(struct base_str name, const char **canonical, const char **iconv_name)
{
    char key[32];

    if (normalise(base_str_trim(name), key, sizeof(key)) == 0)
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(charsets); i++) {
        if (strcmp(key, charsets[i].key) == 0) {
            *canonical = charsets[i].canonical;
            *iconv_name = charsets[i].iconv;
            return true;
        }
    }
    return false;
}

static void
close_iconv(void *cd)
{
    iconv_close((iconv_t)cd);
}

int
hl7v2_charset_convert(struct base_arena *a, const char *iconv_name, struct base_str in,
                      size_t max_out, struct base_str *out, size_t *bad_off, struct base_err *err)
{
    iconv_t cd = iconv_open("UTF-8", iconv_name);
    size_t cap;
    char *buf;
    char *src = (char *)(uintptr_t)in.ptr; /* iconv's prototype is not const-correct */
    char *dst;
    size_t left_in = in.len;
    size_t left_out;

    if (cd == (iconv_t)-1)
        return base_err_set(err, BASE_E_INVALID, "not-supported", "MSH-18",
                            "character set conversion is not available on this system");
    TRY(base_arena_on_free(a, close_iconv, cd));
    /* Every supported source charset needs at most 3 UTF-8 bytes per input
     * byte: a single byte can be a BMP character beyond U+07FF (the euro
     * sign of 8859/15 and windows-1252, the LRM mark of 8859/8); a 2-byte
     * GB 18030, Big5 or KS X 1001 character becomes 3, a 4-byte one 4. */
    if (!base_mul_ok(in.len, 3, &cap) || !base_add_ok(cap, 4, &cap))
        return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "message too large");
    if (cap > max_out + 4)
        cap = max_out + 4;
    buf = base_arena_alloc(a, cap);
    if (buf == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    dst = buf;
    left_out = cap;
    if (iconv(cd, &src, &left_in, &dst, &left_out) == (size_t)-1) {
        if (errno == E2BIG)
            return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL,
                                "message exceeds the size limit after character set conversion");
        *bad_off = (size_t)(src - in.ptr);
        return BASE_E_PARSE;
    }
    if ((size_t)(dst - buf) > max_out)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL,
                            "message exceeds the size limit after character set conversion");
    *out = base_str_make(buf, (size_t)(dst - buf));
    return BASE_OK;
}

int
hl7v2_charset_encode(struct base_arena *a, const char *iconv_name, struct base_str in,
                     struct base_str *out, struct base_err *err)
{
    iconv_t cd = iconv_open(iconv_name, "UTF-8");
    char *src = (char *)(uintptr_t)in.ptr;
    size_t left_in = in.len;
    size_t cap = in.len + 16; /* no supported charset is longer than UTF-8 */
    size_t left_out = cap;
    char *buf;
    char *dst;

    if (cd == (iconv_t)-1)
        return base_err_set(err, BASE_E_INVALID, "not-supported", "MSH-18",
                            "character set conversion is not available on this system");
    TRY(base_arena_on_free(a, close_iconv, cd));
    buf = base_arena_alloc(a, cap);
    if (buf == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    dst = buf;
    if (iconv(cd, &src, &left_in, &dst, &left_out) == (size_t)-1)
        return base_err_set(err, BASE_E_INVALID, "value", NULL,
                            "text cannot be represented in the message character set");
    *out = base_str_make(buf, (size_t)(dst - buf));
    return BASE_OK;
}

/* Do the high bytes look like GB 18030 text rather than single-byte
 * Latin-1?  Most Chinese characters are GB 2312 ones, whose trail byte is
 * high too; an accented Latin-1 letter followed by an ASCII letter ("ü" +
 * "l") forms a pair with an ASCII trail.  Ask for at least half of the
 * pairs to have a high trail byte. */
static bool
gb_pairs_plausible(const char *p, size_t len)
{
    size_t pairs = 0;
    size_t high = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)p[i];

        if (b < 0x81 || b == 0xFF || i + 1 >= len)
            continue;
        if ((unsigned char)p[i + 1] >= 0x30 && (unsigned char)p[i + 1] <= 0x39) {
            i += 3; /* four-byte sequence */
            continue;
        }
        pairs++;
        high += (unsigned char)p[i + 1] >= 0x80;
        i++;
    }
    return pairs > 0 && high * 2 >= pairs;
}

/* Does a CJK unified ideograph (U+3400-U+9FFF, the BMP blocks names and
 * addresses use) appear in this UTF-8 text? */
static bool
has_cjk(const char *p, size_t len)
{
    for (size_t i = 0; i + 2 < len; i++) {
        unsigned char b0 = (unsigned char)p[i];

        if (b0 >= 0xE3 && b0 <= 0xE9 && !(b0 == 0xE3 && (unsigned char)p[i + 1] < 0x90))
            return true;
    }
    return false;
}

/* MSH-18 empty (no configured default) or saying ASCII / UTF-8, and the
 * bytes are not UTF-8: a Chinese HIS that never sets MSH-18, or sets it
 * wrong, sends GB 18030 (GBK).  Decode it as
 * GB 18030 when the byte pairs look like Chinese text, the whole message
 * converts and the result holds Chinese characters; otherwise leave it to
 * the UTF-8 check, which rejects it with the byte position.  Latin-1 bytes
 * can decode "validly" as GB 18030 too, hence the checks, the warning, and
 * the advice to configure default_charset for a sender known to use
 * another character set. */
bool
hl7v2_charset_guess_gb18030(struct base_arena *a, struct base_str *in, size_t max)
{
    struct base_str conv;
    struct base_err ignored = {0};
    size_t bad = 0;

    if (base_utf8_valid(in->ptr, in->len, &bad) || !gb_pairs_plausible(in->ptr, in->len))
        return false;
    if (hl7v2_charset_convert(a, "GB18030", *in, max, &conv, &bad, &ignored) != BASE_OK ||
        !has_cjk(conv.ptr, conv.len))
        return false;
    *in = conv;
    return true;
}

/* MSH-18 says an ISO 8859 set but every byte above 0x7F is part of a
 * well-formed multi-byte UTF-8 sequence (at least one): an interface that
 * moved to UTF-8 and kept its MSH-18.  Read as 8859, "Müller" would come
 * out "MÃ¼ller".  Real 8859 text is almost never valid UTF-8: a letter
 * such as ü (0xFC) or é (0xE9) is followed by ASCII, not by the 0x80-0xBF
 * continuation bytes UTF-8 needs. */
bool
hl7v2_charset_is_utf8_text(struct base_str in)
{
    size_t bad = 0;

    for (size_t i = 0; i < in.len; i++) {
        if ((unsigned char)in.ptr[i] >= 0x80)
            return base_utf8_valid(in.ptr, in.len, &bad);
    }
    return false;
}
