/*
 * Narrative XHTML (https://hl7.org/fhir/R4/narrative.html#xhtml).
 *
 * The div is parsed with libxml2 as a SAX stream (no tree is built):
 * network access off (NONET), no entity substitution, no DTD loading, and
 * any document type declaration is refused before parsing, so neither
 * external entities nor entity expansion can be triggered.  Checks:
 *   - well-formed XML whose root is <div> in the XHTML namespace;
 *   - txt-1: only the basic HTML elements and attributes (HTML 4.0 chapters
 *     7-11 except 9.4, and 15 — font styles, font, center, rules —, <a>,
 *     images, style attributes; narrative.html, txt-1) — so no script, head,
 *     body, form, base, link, frames, objects, event handler attributes
 *     (on*) or javascript: URLs;
 *   - txt-2: some non-whitespace content (text or an image).
 */
#include "fhir/validate/validate_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "fhir/base/str.h"

#define XHTML_NS "http://www.w3.org/1999/xhtml"

/* Sorted, for the reader (lookups go through name_index). */
static const char *const allowed_elements[] = {
    "a",          "abbr",   "acronym", "address", "area", "b",     "basefont", "bdo",      "big",
    "blockquote", "br",     "caption", "center",  "cite", "code",  "col",      "colgroup", "dd",
    "dfn",        "dir",    "div",     "dl",      "dt",   "em",    "font",     "h1",       "h2",
    "h3",         "h4",     "h5",      "h6",      "hr",   "i",     "img",      "kbd",      "li",
    "map",        "menu",   "ol",      "p",       "pre",  "q",     "s",        "samp",     "small",
    "span",       "strike", "strong",  "sub",     "sup",  "table", "tbody",    "td",       "tfoot",
    "th",         "thead",  "tr",      "tt",      "u",    "ul",    "var",
};

/* HTML 4.0 attributes of those elements (core, i18n, tables, lists, links,
 * images, image maps, chapter 15's color and face), sorted.  xhtml_fast.c
 * keeps one bit per entry below its three bits for xmlns and xml:*. */
static const char *const allowed_attributes[] = {
    "abbr",        "accesskey",   "align",   "alt",      "axis",    "bgcolor",  "border",
    "cellpadding", "cellspacing", "char",    "charoff",  "charset", "cite",     "class",
    "clear",       "color",       "colspan", "compact",  "coords",  "datetime", "dir",
    "face",        "frame",       "headers", "height",   "href",    "hreflang", "hspace",
    "id",          "ismap",       "lang",    "longdesc", "name",    "nohref",   "noshade",
    "nowrap",      "rel",         "rev",     "rowspan",  "rules",   "scope",    "shape",
    "size",        "span",        "src",     "start",    "style",   "summary",  "tabindex",
    "title",       "type",        "usemap",  "valign",   "value",   "vspace",   "width",
};

struct xstate {
    xmlParserCtxtPtr ctxt;
    enum fhir_xhtml_fault fault;
    unsigned depth;
    unsigned in_p; /* depth of the outermost open p, 0 when none */
    bool has_content;
};

/*
 * Open-addressing indexes over the two lists, built once: a lookup is a
 * hash of the length and three bytes, a length compare and a memcmp (both
 * checkers look up every element and attribute name).
 */
#define NAME_SLOTS 256u

struct name_index {
    const char *const *list;
    unsigned char slot[NAME_SLOTS]; /* 0: empty, else list index + 1 */
    unsigned char len[NAME_SLOTS];  /* length of the name in the slot */
};

static struct name_index element_index = {.list = allowed_elements};
static struct name_index attribute_index = {.list = allowed_attributes};
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
/* Set once the indexes are built: every name lookup reads this flag (one
 * load) instead of calling pthread_once. */
static atomic_bool index_built;

_Static_assert(BASE_ARRAY_LEN(allowed_elements) < NAME_SLOTS / 2 &&
                   BASE_ARRAY_LEN(allowed_attributes) < NAME_SLOTS / 2,
               "name indexes stay at most half full");
_Static_assert(BASE_ARRAY_LEN(allowed_attributes) <= 61, "xhtml_fast.c: attribute bits 0-60");

static unsigned
name_hash(const char *name, size_t len)
{
    unsigned h = (unsigned)len * 97u + (unsigned char)name[0] * 31u +
                 (unsigned char)name[len - 1] * 7u + (unsigned char)name[len / 2];

    return h & (NAME_SLOTS - 1);
}

static void
index_build(struct name_index *ix, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(ix->list[i]);
        unsigned h = name_hash(ix->list[i], len);

        while (ix->slot[h] != 0)
            h = (h + 1) & (NAME_SLOTS - 1);
        ix->slot[h] = (unsigned char)(i + 1);
        ix->len[h] = (unsigned char)len;
    }
}

/* fhir_validate__xhtml_element_words()'s table */
static struct fhir_validate__xhtml_words element_words;

static void
words_build(void)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(element_words.word); i++)
        element_words.word[i] = ~UINT64_C(0);
    for (size_t i = 0; i < BASE_ARRAY_LEN(allowed_elements); i++) {
        const char *n = allowed_elements[i];
        size_t len = strlen(n);
        uint64_t w = 0;
        unsigned slot;

        if (len > 7)
            continue;
        for (size_t k = 0; k < len; k++)
            w |= (uint64_t)(unsigned char)n[k] << (8 * k);
        slot = FHIR_VALIDATE__XHTML_WORD_SLOT(w);
        if (element_words.word[slot] == ~UINT64_C(0)) {
            element_words.word[slot] = w;
            element_words.kind[slot] =
                fhir_validate__xhtml_block(n, len) ? FHIR_VALIDATE__XHTML_BLOCK : 0;
        }
    }
}

static void
indexes_build(void)
{
    index_build(&element_index, BASE_ARRAY_LEN(allowed_elements));
    index_build(&attribute_index, BASE_ARRAY_LEN(allowed_attributes));
    words_build();
    atomic_store_explicit(&index_built, true, memory_order_release);
}

/* memcmp(a, b, len) == 0 for names of a few bytes, without the call. */
static bool
same_bytes(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (a[i] != b[i])
            return false;
    }
    return true;
}

/* Index of name[0..len) in the indexed list, -1 when absent. */
static int
index_find(struct name_index *ix, const char *name, size_t len)
{
    if (!atomic_load_explicit(&index_built, memory_order_acquire))
        (void)pthread_once(&index_once, indexes_build);
    if (len == 0 || len > 16)
        return -1;
    for (unsigned h = name_hash(name, len);; h = (h + 1) & (NAME_SLOTS - 1)) {
        unsigned s = ix->slot[h];

        if (s == 0)
            return -1;
        if (ix->len[h] == len && same_bytes(ix->list[s - 1], name, len))
            return (int)(s - 1);
    }
}

bool
fhir_validate__xhtml_element_allowed(const char *name, size_t len)
{
    return index_find(&element_index, name, len) >= 0;
}

const struct fhir_validate__xhtml_words *
fhir_validate__xhtml_element_words(void)
{
    if (!atomic_load_explicit(&index_built, memory_order_acquire))
        (void)pthread_once(&index_once, indexes_build);
    return &element_words;
}

int
fhir_validate__xhtml_attribute_index(const char *name, size_t len)
{
    return index_find(&attribute_index, name, len);
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
/*
 * A paragraph holds inline content only: the FHIR XHTML schema
 * (fhir-xhtml.xsd: p is of type Inline) and HTML 4.01 section 9.3.1
 * (<!ELEMENT P - O (%inline;)*>).  Of the block elements the schema keeps
 * out of p, those the HL7 validator refuses inside a p at any depth
 * (XhtmlValidator, HTML_BLOCK_LIST) are refused here too; the rest
 * (headings, pre, dl, hr, address inside p) and other content-model rules
 * are not checked.
 */
bool
fhir_validate__xhtml_block(const char *name, size_t len)
{
    switch (len) {
    case 1:
        return name[0] == 'p';
    case 2:
        return (name[0] == 'o' || name[0] == 'u') && name[1] == 'l';
    case 3:
        return memcmp(name, "div", 3) == 0;
    case 5:
        return memcmp(name, "table", 5) == 0;
    case 10:
        return memcmp(name, "blockquote", 10) == 0;
    default:
        return false;
    }
}

bool
fhir_validate__xhtml_script_url(const char *v, size_t len)
{
    static const char js[] = "javascript:";
    size_t n = sizeof(js) - 1;
    const char *end = v + len;

    while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
        v++;
    if ((size_t)(end - v) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != js[i])
            return false;
    }
    return true;
}

/* Attributes whose value is a URL (HTML 4 %URI; of the allowed elements). */
bool
fhir_validate__xhtml_url_attribute(const char *name, size_t len)
{
    return (len == 4 && memcmp(name, "href", 4) == 0) ||
           (len == 3 && memcmp(name, "src", 3) == 0) ||
           (len == 8 && memcmp(name, "longdesc", 8) == 0) ||
           (len == 4 && memcmp(name, "cite", 4) == 0) ||
           (len == 6 && memcmp(name, "usemap", 6) == 0);
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
    if (fhir_validate__xhtml_attribute_index(name, strlen(name)) < 0) {
        set_fault(st, FHIR_XHTML_ATTRIBUTE);
        return;
    }
    if (fhir_validate__xhtml_url_attribute(name, strlen(name)) &&
        fhir_validate__xhtml_script_url((const char *)a[3], (size_t)(a[4] - a[3])))
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
    if (!fhir_validate__xhtml_element_allowed(name, strlen(name))) {
        set_fault(st, FHIR_XHTML_ELEMENT);
        return;
    }
    if (strcmp(name, "img") == 0)
        st->has_content = true;
    if (st->in_p != 0 && fhir_validate__xhtml_block(name, strlen(name))) {
        set_fault(st, FHIR_XHTML_IN_PARAGRAPH);
        return;
    }
    if (st->in_p == 0 && strcmp(name, "p") == 0)
        st->in_p = st->depth;
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
    if (st->depth < st->in_p)
        st->in_p = 0;
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
 * A fresh push parser for each narrative.  A parser reset with
 * xmlCtxtResetPush() does not behave like a new one on every input (on a
 * truncated start tag, "<d.", one reports the element first and the other
 * only the error), so reusing one per thread made a fault depend on the
 * narratives checked before it on that thread.  The creation cost matters
 * little now: only narratives the fast path (xhtml_fast.c) does not settle
 * get here.
 */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
    xmlInitParser();
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

/* Feed libxml2 in pieces: without XML_PARSE_HUGE, libxml2 2.9 halts a push
 * parser holding more than XML_MAX_LOOKUP_LIMIT (10,000,000) bytes ("Huge
 * input lookup"), which a narrative fed whole over 10 MB does once parsed. */
static void
push_all(xmlParserCtxtPtr ctxt, const char *text, size_t len)
{
    enum { PIECE = 64 * 1024 };
    size_t off = 0;

    do {
        size_t n = len - off < PIECE ? len - off : PIECE;

        (void)xmlParseChunk(ctxt, text + off, (int)n, off + n == len);
        off += n;
    } while (off < len && ctxt->wellFormed && ctxt->instate != XML_PARSER_EOF);
}

/* The libxml2 checker: the reference, and the verdict on everything the
 * purpose-built checker (xhtml_fast.c) does not settle. */
static enum fhir_xhtml_fault
libxml2_check(const char *text, size_t len)
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
    (void)pthread_once(&xml_once, xml_init);
    ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
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
    push_all(ctxt, text, len);
    if (st.fault == FHIR_XHTML_OK && !ctxt->wellFormed)
        st.fault = FHIR_XHTML_NOT_WELL_FORMED;
    if (st.fault == FHIR_XHTML_OK && !st.has_content)
        st.fault = FHIR_XHTML_EMPTY;
    xmlFreeParserCtxt(ctxt);
    return st.fault;
}

enum fhir_xhtml_fault
fhir_validate__xhtml(const char *text, size_t len)
{
    if (fhir_validate__xhtml_fast(text, len))
        return FHIR_XHTML_OK;
    return libxml2_check(text, len);
}

/* JSON strings are UTF-8 without NUL; anything else would make libxml2
 * guess another encoding from the first bytes. */
static bool
is_json_text(const char *text, size_t len)
{
    return len == 0 || (memchr(text, '\0', len) == NULL && base_utf8_valid(text, len, NULL));
}

enum fhir_xhtml_fault
fhir_validate_xhtml(const char *text, size_t len)
{
    if (!is_json_text(text, len))
        return FHIR_XHTML_NOT_WELL_FORMED;
    return fhir_validate__xhtml(text, len);
}

bool
fhir_validate_xhtml_fast(const char *text, size_t len)
{
    return is_json_text(text, len) && fhir_validate__xhtml_fast(text, len);
}

enum fhir_xhtml_fault
fhir_validate_xhtml_libxml2(const char *text, size_t len)
{
    if (!is_json_text(text, len))
        return FHIR_XHTML_NOT_WELL_FORMED;
    return libxml2_check(text, len);
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
    case FHIR_XHTML_IN_PARAGRAPH:
        return "has a div, blockquote, table, ol, ul or p inside a p (a paragraph holds "
               "inline content only)";
    case FHIR_XHTML_EMPTY:
        return "has no non-whitespace content (txt-2)";
    case FHIR_XHTML_NOMEM:
        return "could not be checked: out of memory";
    default:
        return "is invalid";
    }
}
