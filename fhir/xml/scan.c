/*
 * The pre-scan: one pass over the raw bytes before libxml2 sees them.
 *
 * It follows only the lexical outline of XML 1.0 (section 2: comments,
 * CDATA sections, processing instructions, tags, quoted attribute values)
 * — enough to find what must never reach the parser:
 *   - UTF-16 (a byte-order mark or "<" next to a zero byte), an encoding
 *     declaration other than UTF-8 (both said as such, before the UTF-8
 *     check would call them "invalid UTF-8" somewhere further on), bytes
 *     that are not UTF-8 (FHIR XML is UTF-8; libxml2 would otherwise guess
 *     an encoding from the first bytes);
 *   - characters outside XML 1.0's Char production (section 2.2): NUL, the
 *     other C0 controls but tab, LF and CR, U+FFFE and U+FFFF.  They are not
 *     allowed anywhere in a document, and libxml2 names the error it meets
 *     next (an "unterminated tag" at the end of the element) rather than
 *     the character;
 *   - "<!" other than a comment or CDATA section: DOCTYPE, and with it
 *     every internal or external entity (XXE, "billion laughs");
 *   - tags with more than max_attrs attributes or namespace declarations
 *     (libxml2 2.9 compares every pair: 40 000 take seconds);
 *   - attribute values longer than max_value.
 * On malformed input the scan may stop early; libxml2 then reports the
 * syntax error itself.
 */
#include <stdio.h>
#include <string.h> /* memmem: _GNU_SOURCE (Makefile) */

#include "fhir/base/str.h"
#include "fhir/xml/xml_int.h"

/* "line L, column C" (1-based, columns in bytes) of offset `off`. */
static int
fail_at(struct base_err *err, int rc, const char *code, const char *text, size_t off,
        const char *msg)
{
    char where[64];
    size_t line = 1;
    size_t line_start = 0;

    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    snprintf(where, sizeof(where), "line %zu, column %zu", line, off - line_start + 1);
    return base_err_set(err, rc, code, where, "%s", msg);
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The encoding pseudo-attribute of an XML declaration [p, end), if any,
 * must name UTF-8 (XML 1.0 section 4.3.3). */
static bool
encoding_ok(const char *p, const char *end)
{
    const char *e = memmem(p, (size_t)(end - p), "encoding", 8);
    char q;
    const char *v;

    if (e == NULL)
        return true;
    e += 8;
    while (e < end && is_space(*e))
        e++;
    if (e >= end || *e != '=')
        return false;
    e++;
    while (e < end && is_space(*e))
        e++;
    if (e >= end || (*e != '"' && *e != '\''))
        return false;
    q = *e++;
    v = memchr(e, q, (size_t)(end - e));
    return v != NULL && base_str_case_eq_cstr(base_str_make(e, (size_t)(v - e)), "UTF-8");
}

/* Past the terminator `term` searched from p, or NULL when absent. */
static const char *
skip_to(const char *p, const char *end, const char *term, size_t n)
{
    const char *t = memmem(p, (size_t)(end - p), term, n);

    return t != NULL ? t + n : NULL;
}

struct scan {
    const char *text;
    const char *end;
    const struct fhir_xml_limits *lim;
    struct base_err *err;
};

/* A start tag from its '<'; sets *next past its '>' (NULL: stop scanning). */
static int
scan_tag(const struct scan *s, const char *p, const char **next)
{
    size_t attrs = 0;

    for (p++; p < s->end; p++) {
        char c = *p;

        if (c == '"' || c == '\'') {
            const char *q = memchr(p + 1, c, (size_t)(s->end - p - 1));

            if (q == NULL)
                break;
            if ((size_t)(q - p - 1) > s->lim->max_value)
                return fail_at(s->err, BASE_E_LIMIT, "too-costly", s->text, (size_t)(p - s->text),
                               "attribute value exceeds the size limit");
            p = q;
        } else if (c == '=') {
            if (++attrs > s->lim->max_attrs)
                return fail_at(s->err, BASE_E_LIMIT, "too-costly", s->text, (size_t)(p - s->text),
                               "too many attributes on one element");
        } else if (c == '>') {
            *next = p + 1;
            return BASE_OK;
        } else if (c == '<') {
            break;
        }
    }
    *next = NULL;
    return BASE_OK;
}

/* One markup construct at p ('<'); *next past it (NULL: stop scanning). */
static int
scan_markup(const struct scan *s, const char *p, const char **next)
{
    size_t rem = (size_t)(s->end - p);

    if (rem >= 4 && memcmp(p, "<!--", 4) == 0) {
        *next = skip_to(p + 4, s->end, "-->", 3);
    } else if (rem >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
        *next = skip_to(p + 9, s->end, "]]>", 3);
    } else if (rem >= 2 && p[1] == '!') {
        return fail_at(s->err, BASE_E_PARSE, "structure", s->text, (size_t)(p - s->text),
                       "document type declarations and entities are not allowed");
    } else if (rem >= 2 && p[1] == '?') {
        *next = skip_to(p + 2, s->end, "?>", 2);
    } else if (rem >= 2 && p[1] == '/') {
        *next = skip_to(p + 2, s->end, ">", 1);
    } else {
        return scan_tag(s, p, next);
    }
    return BASE_OK;
}

/* UTF-16 in either byte order, with or without a byte-order mark: the
 * first character of an XML document is '<' or a BOM (XML 1.0 appendix F). */
static bool
looks_utf16(const char *t, size_t len)
{
    return len >= 2 && ((t[0] == '\xFF' && t[1] == '\xFE') || (t[0] == '\xFE' && t[1] == '\xFF') ||
                        (t[0] == '<' && t[1] == '\0') || (t[0] == '\0' && t[1] == '<'));
}

/* A document is markup from its first character on (XML 1.0 section 2.1:
 * prolog, then the root element); only the whitespace libxml2 tolerates may
 * come first.  Plain text or JSON sent as XML is said to be that, where
 * libxml2 would call it "empty". */
static int
check_start(const char *text, size_t len, size_t body, struct base_err *err)
{
    size_t i = body;

    while (i < len && is_space(text[i]))
        i++;
    if (i == len)
        return fail_at(err, BASE_E_PARSE, "structure", text, i, "the document is empty");
    if (text[i] != '<')
        return fail_at(err, BASE_E_PARSE, "structure", text, i,
                       "the document does not start with XML markup");
    return BASE_OK;
}

/* The XML declaration at p, if any, names UTF-8 or no encoding. */
static int
check_declaration(const char *text, const char *p, const char *end, struct base_err *err)
{
    const char *close;

    if ((size_t)(end - p) < 6 || memcmp(p, "<?xml", 5) != 0 || !is_space(p[5]))
        return BASE_OK;
    close = skip_to(p + 5, end, "?>", 2);
    if (close != NULL && !encoding_ok(p + 5, close))
        return fail_at(err, BASE_E_PARSE, "structure", text, (size_t)(p - text),
                       "the document encoding must be UTF-8");
    return BASE_OK;
}

int
fhir_xml__prescan(const char *text, size_t len, const struct fhir_xml_limits *lim, size_t *body,
                  struct base_err *err)
{
    struct scan s = {text, text + len, lim, err};
    size_t bad = 0;
    const char *p;

    if (len > lim->max_doc)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL,
                            "document exceeds the size limit");
    if (looks_utf16(text, len))
        return fail_at(err, BASE_E_PARSE, "structure", text, 0,
                       "the document is UTF-16; FHIR XML must be UTF-8");
    *body = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    TRY(check_start(text, len, *body, err));
    TRY(check_declaration(text, text + *body, s.end, err));
    if (!base_utf8_valid(text, len, &bad))
        return fail_at(err, BASE_E_PARSE, "structure", text, bad, "invalid UTF-8");
    bad = fhir_xml__bad_char(text, len);
    if (bad < len)
        return fail_at(err, BASE_E_PARSE, "structure", text, bad,
                       text[bad] == '\0' ? "NUL character in document"
                                         : "character not allowed in XML (XML 1.0 section 2.2)");
    p = text + *body;
    while (p != NULL && p < s.end) {
        const char *lt = memchr(p, '<', (size_t)(s.end - p));

        if (lt == NULL)
            break;
        TRY(scan_markup(&s, lt, &p));
    }
    return BASE_OK;
}
