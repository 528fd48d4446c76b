/*
 * Narrative XHTML in one canonical text form, and XML escaping.
 *
 * FHIR JSON carries Narrative.div as a string, FHIR XML as elements
 * (https://hl7.org/fhir/R4/narrative.html#xhtml).  Both directions write the
 * div from parser events the same way (the form is described in
 * fhir_xml.h), so converting twice changes nothing and the official JSON
 * examples, all already in this form, come back byte for byte.
 */
#include <stdint.h>
#include <string.h>

#include "fhir/xml/xml_int.h"

/* Does the 8-byte word hold a byte below 0x20 or a 0xEF (the lead byte of
 * U+FFFE and U+FFFF)?  Exact for "no"; a "yes" is checked byte by byte
 * (the borrow of the subtraction can flag a byte after a flagged one). */
static bool
word_suspect(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t high = 0x8080808080808080u;
    uint64_t ef = w ^ (ones * 0xEF);

    return (((w - ones * 0x20) & ~w) | ((ef - ones) & ~ef)) & high;
}

size_t
fhir_xml__bad_char(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c;
        uint64_t w;

        if (len - i >= 8) {
            memcpy(&w, p + i, 8);
            if (!word_suspect(w)) {
                i += 8;
                continue;
            }
        }
        c = p[i];
        /* XML 1.0 section 2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] |
         * [#xE000-#xFFFD] | [#x10000-#x10FFFF]; valid UTF-8 already
         * excludes surrogates */
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return i;
        if (c == 0xEF && i + 2 < len && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF))
            return i;
        i++;
    }
    return len;
}

bool
fhir_xml__chars_ok(const char *s, size_t len)
{
    return fhir_xml__bad_char(s, len) == len;
}

int
fhir_xml__escape(struct base_buf *out, const char *s, size_t len, bool attr)
{
    size_t run = 0;

    for (size_t i = 0; i < len; i++) {
        const char *rep;

        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\r': /* XML 1.0 section 2.11: a raw CR would read back as LF */
            rep = "&#13;";
            break;
        case '\t': /* section 3.3.3: raw tab and LF in attributes read back as spaces */
            rep = attr ? "&#9;" : NULL;
            break;
        case '\n':
            rep = attr ? "&#10;" : NULL;
            break;
        default:
            rep = NULL;
            break;
        }
        if (rep == NULL)
            continue;
        TRY(base_buf_append(out, s + run, i - run));
        TRY(base_buf_append_cstr(out, rep));
        run = i + 1;
    }
    return base_buf_append(out, s + run, len - run);
}

/* --- the canonical writer ----------------------------------------------- */

void
fhir_xml__xh_init(struct fhir_xml__xh *x, struct base_buf *out, size_t max)
{
    memset(x, 0, sizeof(*x));
    x->out = out;
    x->start = out->len;
    x->max = max;
}

static void
fault(struct fhir_xml__xh *x, int f)
{
    if (x->fault == FHIR_XML__XH_OK)
        x->fault = f;
}

static void
check_rc(struct fhir_xml__xh *x, int rc)
{
    if (rc == BASE_E_NOMEM)
        fault(x, FHIR_XML__XH_NOMEM);
    else if (rc != BASE_OK || x->out->len - x->start > x->max)
        fault(x, FHIR_XML__XH_LIMIT);
}

static void
emit(struct fhir_xml__xh *x, const char *s, size_t n)
{
    if (x->fault == FHIR_XML__XH_OK)
        check_rc(x, base_buf_append(x->out, s, n));
}

static void
emit_escaped(struct fhir_xml__xh *x, const char *s, size_t n, bool attr)
{
    if (x->fault == FHIR_XML__XH_OK)
        check_rc(x, fhir_xml__escape(x->out, s, n, attr));
}

static void
close_pending(struct fhir_xml__xh *x)
{
    if (x->pending) {
        emit(x, ">", 1);
        x->pending = false;
    }
}

/* An attribute value from libxml2's SAX2 interface (see fhir_xml__att_run). */
static void
emit_att_value(struct fhir_xml__xh *x, const xmlChar *v, const xmlChar *end)
{
    const char *p = (const char *)v;
    const char *e = (const char *)end;

    while (p < e) {
        const char *run = p;
        bool amp;
        size_t n = fhir_xml__att_run(&p, e, &amp);

        emit_escaped(x, run, n, true);
        if (amp)
            emit(x, "&amp;", 5);
    }
}

static void
emit_attribute(struct fhir_xml__xh *x, const xmlChar **a)
{
    const char *name = (const char *)a[0];
    const char *prefix = (const char *)a[1];

    emit(x, " ", 1);
    if (prefix != NULL) {
        /* xml:lang and friends are the only prefixed attributes XHTML has */
        if (strcmp(prefix, "xml") != 0) {
            fault(x, FHIR_XML__XH_NAMESPACE);
            return;
        }
        emit(x, "xml:", 4);
    }
    emit(x, name, strlen(name));
    emit(x, "=\"", 2);
    emit_att_value(x, a[3], a[4]);
    emit(x, "\"", 1);
}

void
fhir_xml__xh_start(struct fhir_xml__xh *x, const xmlChar *localname, const xmlChar *uri,
                   int nb_attributes, const xmlChar **attributes)
{
    const char *name = (const char *)localname;

    if (x->fault != FHIR_XML__XH_OK)
        return;
    if (uri == NULL || strcmp((const char *)uri, FHIR_XML_XHTML_NS) != 0) {
        fault(x, x->depth == 0 ? FHIR_XML__XH_ROOT : FHIR_XML__XH_NAMESPACE);
        return;
    }
    if (x->depth == 0 && strcmp(name, "div") != 0) {
        fault(x, FHIR_XML__XH_ROOT);
        return;
    }
    close_pending(x);
    emit(x, "<", 1);
    emit(x, name, strlen(name));
    if (x->depth == 0)
        emit(x, " xmlns=\"" FHIR_XML_XHTML_NS "\"", sizeof(FHIR_XML_XHTML_NS) + 8);
    for (int i = 0; i < nb_attributes; i++)
        emit_attribute(x, attributes + 5 * i);
    x->pending = true;
    x->depth++;
}

/* XHTML 1.0 Appendix C.2/C.3 (HTML compatibility): an element whose content
 * model is EMPTY is written minimized (`<br/>`: `<br></br>` reads as two
 * breaks in HTML); any other empty element keeps its source spelling, since
 * `<span/>` or `<a name="x"/>` opens an element an HTML parser never closes,
 * while the official examples write `<td/>` (kept byte for byte). */
static bool
empty_content_model(const char *name)
{
    static const char *const names[] = {"br",    "hr",   "img",  "col",  "area",
                                        "param", "base", "meta", "link", "input"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

void
fhir_xml__xh_end(struct fhir_xml__xh *x, const xmlChar *localname, bool self_closed)
{
    const char *name = (const char *)localname;

    if (x->fault != FHIR_XML__XH_OK || x->depth == 0)
        return;
    x->depth--;
    if (x->pending && (self_closed || empty_content_model(name))) {
        emit(x, "/>", 2);
        x->pending = false;
        return;
    }
    close_pending(x);
    emit(x, "</", 2);
    emit(x, name, strlen(name));
    emit(x, ">", 1);
}

void
fhir_xml__xh_text(struct fhir_xml__xh *x, const xmlChar *ch, size_t len)
{
    if (x->fault != FHIR_XML__XH_OK || x->depth == 0 || len == 0)
        return;
    close_pending(x);
    emit_escaped(x, (const char *)ch, len, false);
}

int
fhir_xml__xh_finish(struct fhir_xml__xh *x)
{
    if (x->fault == FHIR_XML__XH_OK && (x->depth != 0 || x->out->len == x->start))
        fault(x, FHIR_XML__XH_ROOT);
    return x->fault;
}

const char *
fhir_xml__xh_fault_text(int f)
{
    switch (f) {
    case FHIR_XML__XH_ROOT:
        return "narrative must have a root div element in the XHTML namespace";
    case FHIR_XML__XH_NAMESPACE:
        return "narrative has an element or attribute outside the XHTML namespace";
    case FHIR_XML__XH_CHAR:
        return "narrative has a character XML cannot carry";
    case FHIR_XML__XH_LIMIT:
        return "narrative exceeds the size limit";
    case FHIR_XML__XH_NOMEM:
        return "out of memory";
    case FHIR_XML__XH_SYNTAX:
        return "narrative is not well-formed XHTML";
    default:
        return "narrative is invalid";
    }
}

/* --- parsing a narrative string (the writer's side) ---------------------- */

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
         int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
         const xmlChar **attributes)
{
    (void)prefix;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    fhir_xml__xh_start(((xmlParserCtxtPtr)ctx)->_private, localname, uri, nb_attributes,
                       attributes);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void)prefix;
    (void)uri;
    fhir_xml__xh_end(((xmlParserCtxtPtr)ctx)->_private, localname, fhir_xml__self_closed(ctx));
}

static void
on_chars(void *ctx, const xmlChar *ch, int len)
{
    fhir_xml__xh_text(((xmlParserCtxtPtr)ctx)->_private, ch, len > 0 ? (size_t)len : 0);
}

/* Belt and braces: the pre-scan already refuses every declaration. */
static void
on_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
    xmlParserCtxtPtr ctxt = ctx;

    (void)name;
    (void)ext_id;
    (void)sys_id;
    fault(ctxt->_private, FHIR_XML__XH_SYNTAX);
    xmlStopParser(ctxt);
}

static const struct fhir_xml__sax handlers = {on_start, on_end, on_chars, on_subset};

int
fhir_xml__xhtml_canon(const char *text, size_t len, size_t max, struct base_buf *out)
{
    struct fhir_xml_limits lim = fhir_xml_limits_default();
    struct fhir_xml__xh x;
    xmlParserCtxtPtr ctxt;
    size_t body = 0;
    int line;
    int col;
    int code;
    bool ok;

    lim.max_doc = max;
    if (!fhir_xml__chars_ok(text, len)) /* before the pre-scan, which refuses them too */
        return FHIR_XML__XH_CHAR;
    if (fhir_xml__prescan(text, len, &lim, &body, NULL) != BASE_OK)
        return FHIR_XML__XH_SYNTAX;
    fhir_xml__xh_init(&x, out, max);
    ctxt = fhir_xml__ctxt_sax(&handlers, &x);
    if (ctxt == NULL)
        return FHIR_XML__XH_NOMEM;
    ok = fhir_xml__parse(ctxt, text + body, len - body, &line, &col, &code);
    ctxt->_private = NULL;
    if (x.fault == FHIR_XML__XH_OK && !ok)
        return FHIR_XML__XH_SYNTAX;
    return fhir_xml__xh_finish(&x);
}
