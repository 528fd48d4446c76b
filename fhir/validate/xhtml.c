/*
 * Narrative XHTML (https://hl7.org/fhir/R4/narrative.html#xhtml).
 *
 * The div is parsed with libxml2 as a SAX stream (no tree is built):
 * network access off (NONET), no entity substitution, no DTD loading, and
 * any document type declaration is refused before parsing, so neither
 * external entities nor entity expansion can be triggered.  Checks:
 *   - well-formed XML whose root is <div> in the XHTML namespace;
 *   - txt-1: only the basic HTML elements and attributes (HTML 4.0 chapters
 *     7-11 except 9.4, 12, images, style attributes) — so no script, head,
 *     body, form, base, link, frames, objects, event handler attributes
 *     (on*) or javascript: URLs;
 *   - txt-2: some non-whitespace content (text or an image).
 */
#include "fhir/validate/validate_int.h"

#include <pthread.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "fhir/base/str.h"

#define XHTML_NS "http://www.w3.org/1999/xhtml"

/* Sorted; bsearch by strcmp. */
static const char *const allowed_elements[] = {
    "a",  "abbr",    "acronym", "address", "area",   "b",        "bdo", "big",   "blockquote",
    "br", "caption", "cite",    "code",    "col",    "colgroup", "dd",  "dfn",   "div",
    "dl", "dt",      "em",      "h1",      "h2",     "h3",       "h4",  "h5",    "h6",
    "hr", "i",       "img",     "kbd",     "li",     "map",      "ol",  "p",     "pre",
    "q",  "samp",    "small",   "span",    "strong", "sub",      "sup", "table", "tbody",
    "td", "tfoot",   "th",      "thead",   "tr",     "tt",       "ul",  "var",
};

/* HTML 4.0 attributes of those elements (core, i18n, tables, lists, links,
 * images, image maps), sorted. */
static const char *const allowed_attributes[] = {
    "abbr",        "accesskey",   "align",   "alt",      "axis",     "bgcolor", "border",
    "cellpadding", "cellspacing", "char",    "charoff",  "charset",  "cite",    "class",
    "clear",       "colspan",     "compact", "coords",   "datetime", "dir",     "frame",
    "headers",     "height",      "href",    "hreflang", "hspace",   "id",      "ismap",
    "lang",        "longdesc",    "name",    "nohref",   "noshade",  "nowrap",  "rel",
    "rev",         "rowspan",     "rules",   "scope",    "shape",    "size",    "span",
    "src",         "start",       "style",   "summary",  "tabindex", "title",   "type",
    "usemap",      "valign",      "value",   "vspace",   "width",
};

struct xstate {
    xmlParserCtxtPtr ctxt;
    enum fhir_xhtml_fault fault;
    unsigned depth;
    bool has_content;
};

static int
cmp_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static bool
in_list(const char *name, const char *const *list, size_t n)
{
    return bsearch(name, list, n, sizeof(*list), cmp_name) != NULL;
}

static void
set_fault(struct xstate *st, enum fhir_xhtml_fault f)
{
    if (st->fault == FHIR_XHTML_OK) {
        st->fault = f;
        xmlStopParser(st->ctxt);
    }
}

/* "javascript:" (any case, leading whitespace ignored) in a URL attribute. */
static bool
is_script_url(const xmlChar *v, const xmlChar *end)
{
    static const char js[] = "javascript:";
    size_t n = sizeof(js) - 1;

    while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
        v++;
    if ((size_t)(end - v) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = (char)v[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != js[i])
            return false;
    }
    return true;
}

static void
check_attribute(struct xstate *st, const xmlChar **a)
{
    const char *name = (const char *)a[0];
    const char *prefix = (const char *)a[1];

    if (prefix != NULL) {
        /* xml:lang and xml:space are the only prefixed attributes allowed */
        if (strcmp(prefix, "xml") != 0 || (strcmp(name, "lang") != 0 && strcmp(name, "space") != 0))
            set_fault(st, FHIR_XHTML_ATTRIBUTE);
        return;
    }
    if ((name[0] == 'o' || name[0] == 'O') && (name[1] == 'n' || name[1] == 'N')) {
        set_fault(st, FHIR_XHTML_SCRIPT); /* event handler */
        return;
    }
    if (!in_list(name, allowed_attributes, BASE_ARRAY_LEN(allowed_attributes))) {
        set_fault(st, FHIR_XHTML_ATTRIBUTE);
        return;
    }
    if ((strcmp(name, "href") == 0 || strcmp(name, "src") == 0 || strcmp(name, "longdesc") == 0 ||
         strcmp(name, "cite") == 0 || strcmp(name, "usemap") == 0) &&
        is_script_url(a[3], a[4]))
        set_fault(st, FHIR_XHTML_SCRIPT);
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
         int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
         const xmlChar **attributes)
{
    struct xstate *st = ((xmlParserCtxtPtr)ctx)->_private;
    const char *name = (const char *)localname;

    (void)prefix;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    if (st->fault != FHIR_XHTML_OK)
        return;
    if (uri == NULL || strcmp((const char *)uri, XHTML_NS) != 0) {
        set_fault(st, st->depth == 0 ? FHIR_XHTML_ROOT : FHIR_XHTML_ELEMENT);
        return;
    }
    if (st->depth == 0 && strcmp(name, "div") != 0) {
        set_fault(st, FHIR_XHTML_ROOT);
        return;
    }
    st->depth++;
    if (strcmp(name, "script") == 0) {
        set_fault(st, FHIR_XHTML_SCRIPT);
        return;
    }
    if (!in_list(name, allowed_elements, BASE_ARRAY_LEN(allowed_elements))) {
        set_fault(st, FHIR_XHTML_ELEMENT);
        return;
    }
    if (strcmp(name, "img") == 0)
        st->has_content = true;
    for (int i = 0; i < nb_attributes && st->fault == FHIR_XHTML_OK; i++)
        check_attribute(st, attributes + 5 * i);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    struct xstate *st = ((xmlParserCtxtPtr)ctx)->_private;

    (void)localname;
    (void)prefix;
    (void)uri;
    if (st->depth > 0)
        st->depth--;
}

static void
on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct xstate *st = ((xmlParserCtxtPtr)ctx)->_private;

    for (int i = 0; i < len && !st->has_content; i++) {
        if (ch[i] != ' ' && ch[i] != '\t' && ch[i] != '\n' && ch[i] != '\r')
            st->has_content = true;
    }
}

static void
on_error(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e; /* never printed: the message could quote the narrative */
}

/*
 * One push parser per thread, reset for each narrative: creating a parser
 * context (dictionary, buffers) costs more than parsing a typical div.  The
 * dictionary keeps the element names seen; it is rebuilt when it grows past
 * DICT_MAX names, so hostile input cannot grow it without bound.
 */
#define DICT_MAX 4096

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static pthread_key_t xml_key;

static void
ctxt_free(void *p)
{
    xmlFreeParserCtxt(p);
}

static void
xml_init(void)
{
    xmlInitParser();
    if (pthread_key_create(&xml_key, ctxt_free) != 0)
        BASE_ASSERT(!"pthread_key_create failed");
}

static xmlParserCtxtPtr
thread_ctxt(void)
{
    xmlParserCtxtPtr ctxt;

    (void)pthread_once(&xml_once, xml_init);
    ctxt = pthread_getspecific(xml_key);
    if (ctxt != NULL && ctxt->dict != NULL && xmlDictSize(ctxt->dict) > DICT_MAX) {
        xmlFreeParserCtxt(ctxt);
        ctxt = NULL;
        (void)pthread_setspecific(xml_key, NULL);
    }
    if (ctxt != NULL) {
        xmlCtxtResetPush(ctxt, NULL, 0, NULL, NULL);
        return ctxt;
    }
    ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
    if (ctxt != NULL && pthread_setspecific(xml_key, ctxt) != 0) {
        xmlFreeParserCtxt(ctxt);
        ctxt = NULL;
    }
    return ctxt;
}

/* A DOCTYPE (and with it any entity declaration) has no place in a div. */
static bool
has_doctype(const char *s, size_t len)
{
    const char *p = s;
    const char *end = s + len;

    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        if (end - p >= 2 && p[1] == '!' && !(end - p >= 4 && p[2] == '-' && p[3] == '-') &&
            !(end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0))
            return true;
        p++;
    }
    return false;
}

enum fhir_xhtml_fault
fhir_validate__xhtml(const char *text, size_t len)
{
    struct xstate st = {0};
    xmlParserCtxtPtr ctxt;
    xmlSAXHandlerPtr sax;

    if (len == 0)
        return FHIR_XHTML_EMPTY;
    if (len > INT32_MAX)
        return FHIR_XHTML_NOT_WELL_FORMED;
    if (has_doctype(text, len))
        return FHIR_XHTML_DOCTYPE;
    ctxt = thread_ctxt();
    if (ctxt == NULL)
        return FHIR_XHTML_NOMEM;
    (void)xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                      XML_PARSE_NOCDATA);
    sax = ctxt->sax;
    memset(sax, 0, sizeof(*sax));
    sax->initialized = XML_SAX2_MAGIC;
    sax->startElementNs = on_start;
    sax->endElementNs = on_end;
    sax->characters = on_chars;
    sax->cdataBlock = on_chars;
    sax->serror = on_error;
    ctxt->_private = &st;
    ctxt->userData = ctxt;
    st.ctxt = ctxt;
    (void)xmlParseChunk(ctxt, text, (int)len, 1);
    if (st.fault == FHIR_XHTML_OK && !ctxt->wellFormed)
        st.fault = FHIR_XHTML_NOT_WELL_FORMED;
    if (st.fault == FHIR_XHTML_OK && !st.has_content)
        st.fault = FHIR_XHTML_EMPTY;
    ctxt->_private = NULL;
    return st.fault;
}

enum fhir_xhtml_fault
fhir_validate_xhtml(const char *text, size_t len)
{
    /* JSON strings are UTF-8 without NUL; anything else would make libxml2
     * guess another encoding from the first bytes */
    if (len > 0 && (memchr(text, '\0', len) != NULL || !base_utf8_valid(text, len, NULL)))
        return FHIR_XHTML_NOT_WELL_FORMED;
    return fhir_validate__xhtml(text, len);
}

const char *
fhir_xhtml_fault_text(enum fhir_xhtml_fault f)
{
    switch (f) {
    case FHIR_XHTML_OK:
        return "is valid";
    case FHIR_XHTML_NOT_WELL_FORMED:
        return "is not well-formed XHTML";
    case FHIR_XHTML_DOCTYPE:
        return "must not contain a document type declaration";
    case FHIR_XHTML_ROOT:
        return "must have a root div element in the XHTML namespace";
    case FHIR_XHTML_ELEMENT:
        return "contains an element not allowed in narrative (txt-1)";
    case FHIR_XHTML_ATTRIBUTE:
        return "contains an attribute not allowed in narrative (txt-1)";
    case FHIR_XHTML_SCRIPT:
        return "contains a script, event handler or javascript URL (txt-1)";
    case FHIR_XHTML_EMPTY:
        return "has no non-whitespace content (txt-2)";
    case FHIR_XHTML_NOMEM:
        return "could not be checked: out of memory";
    default:
        return "is invalid";
    }
}
