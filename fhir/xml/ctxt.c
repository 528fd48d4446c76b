/*
 * One libxml2 push parser per thread, reset for every document: creating a
 * context (dictionary, buffers, SAX handler) costs more than parsing a
 * typical narrative, and the writer parses one per narrative.
 *
 * Options (never NOENT, DTDLOAD, DTDVALID, DTDATTR, XINCLUDE or HUGE):
 * NONET (no network), NOCDATA (CDATA arrives as text), IGNORE_ENC (the
 * input is UTF-8, checked by the pre-scan), NO_XXE where libxml2 has it,
 * and no error printing (libxml2's messages quote the document).
 */
#include <pthread.h>
#include <string.h>

#include <libxml/parserInternals.h>

#include "fhir/xml/xml_int.h"

/* The dictionary keeps every name seen; past this many the context is
 * rebuilt, so hostile input cannot grow it across documents. */
#define DICT_MAX 4096

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

static void
ctxt_free(void *p)
{
    xmlFreeParserCtxt(p);
}

static void
init_once(void)
{
    xmlInitParser();
    if (pthread_key_create(&key, ctxt_free) != 0)
        BASE_ASSERT(!"pthread_key_create failed");
}

/* The first error libxml2 met in the document being parsed: it names the
 * cause, where the last names a consequence (a '<' inside an attribute
 * value is reported, then the "unterminated tag" it leaves). */
static _Thread_local struct {
    int code;
    int line;
    int col;
} first;

static void
quiet(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    /* never printed: the message quotes the document */
    if (e != NULL && e->level >= XML_ERR_ERROR && first.code == 0) {
        first.code = e->code;
        first.line = e->line;
        first.col = e->int2;
    }
}

static int
safe_options(void)
{
    int o = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC | XML_PARSE_NOERROR |
            XML_PARSE_NOWARNING;

#ifdef XML_PARSE_NO_XXE /* libxml2 >= 2.13 */
    o |= XML_PARSE_NO_XXE;
#endif
    return o;
}

xmlParserCtxtPtr
fhir_xml__ctxt(void)
{
    xmlParserCtxtPtr ctxt;

    (void)pthread_once(&once, init_once);
    ctxt = pthread_getspecific(key);
    if (ctxt != NULL && ctxt->dict != NULL && xmlDictSize(ctxt->dict) > DICT_MAX) {
        xmlFreeParserCtxt(ctxt);
        ctxt = NULL;
        (void)pthread_setspecific(key, NULL);
    }
    if (ctxt != NULL) {
        xmlCtxtResetPush(ctxt, NULL, 0, NULL, NULL);
    } else {
        ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
        if (ctxt == NULL)
            return NULL;
        if (pthread_setspecific(key, ctxt) != 0) {
            xmlFreeParserCtxt(ctxt);
            return NULL;
        }
    }
    first.code = 0;
    (void)xmlCtxtUseOptions(ctxt, safe_options());
    memset(ctxt->sax, 0, sizeof(*ctxt->sax));
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    ctxt->sax->serror = quiet;
    ctxt->userData = ctxt;
    ctxt->_private = NULL;
    return ctxt;
}

xmlParserCtxtPtr
fhir_xml__ctxt_sax(const struct fhir_xml__sax *sax, void *state)
{
    xmlParserCtxtPtr ctxt = fhir_xml__ctxt();

    if (ctxt == NULL)
        return NULL;
    ctxt->sax->startElementNs = sax->start;
    ctxt->sax->endElementNs = sax->end;
    ctxt->sax->characters = sax->characters;
    ctxt->sax->ignorableWhitespace = sax->characters;
    ctxt->sax->cdataBlock = sax->characters;
    ctxt->sax->internalSubset = sax->subset;
    ctxt->_private = state;
    return ctxt;
}

/* libxml2 (parser.c, xmlParseElementStart and the push parser's START_TAG
 * state) calls endElementNs for `<x/>` right after consuming "/>", and for
 * `</x>` right after its '>': the two bytes before the cursor tell the
 * spellings apart (an end tag's are a name character or whitespace and '>').
 * The consumed bytes are still in the buffer: it is only shrunk between
 * parsing steps, keeping some bytes before the cursor. */
bool
fhir_xml__self_closed(xmlParserCtxtPtr ctxt)
{
    xmlParserInputPtr in = ctxt->input;

    return in != NULL && in->cur != NULL && in->base != NULL && in->cur - in->base >= 2 &&
           in->cur[-1] == '>' && in->cur[-2] == '/';
}

bool
fhir_xml__parse(xmlParserCtxtPtr ctxt, const char *text, size_t len, int *line, int *col, int *code)
{
    xmlErrorPtr e;
    size_t off = 0;

    *line = 0;
    *col = 0;
    *code = 0;
    /* In pieces: without XML_PARSE_HUGE, libxml2 2.9 halts a push parser
     * whose buffer holds more than XML_MAX_LOOKUP_LIMIT (10,000,000) bytes
     * ("Huge input lookup"), which a document fed whole over 10 MB does
     * once parsed; fed in pieces, what it has consumed is dropped as it
     * goes.  The pre-scan has bounded len by max_doc. */
    do {
        size_t n = len - off < FHIR_XML__PUSH_CHUNK ? len - off : FHIR_XML__PUSH_CHUNK;

        (void)xmlParseChunk(ctxt, text + off, (int)n, off + n == len);
        off += n;
    } while (off < len && ctxt->wellFormed && ctxt->instate != XML_PARSER_EOF);
    if (ctxt->wellFormed)
        return true;
    e = xmlCtxtGetLastError(ctxt);
    if (first.code != 0) {
        *line = first.line;
        *col = first.col;
        *code = first.code;
    } else if (e != NULL) {
        *line = e->line;
        *col = e->int2;
        *code = e->code;
    }
    return false;
}

const char *
fhir_xml__error_text(int code)
{
    switch (code) {
    case XML_ERR_DOCUMENT_EMPTY:
        return "the document is empty";
    case XML_ERR_DOCUMENT_START:
        return "no root element";
    case XML_ERR_DOCUMENT_END:
    case XML_ERR_EXTRA_CONTENT:
        return "content after the root element";
    case XML_ERR_TAG_NAME_MISMATCH:
    case XML_ERR_NOT_WELL_BALANCED:
        return "end tag does not match start tag";
    case XML_ERR_TAG_NOT_FINISHED:
    case XML_ERR_LTSLASH_REQUIRED:
    case XML_ERR_GT_REQUIRED:
        return "unterminated tag";
    case XML_ERR_LT_IN_ATTRIBUTE:
    case XML_ERR_ATTRIBUTE_NOT_STARTED:
    case XML_ERR_ATTRIBUTE_NOT_FINISHED:
    case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
    case XML_ERR_STRING_NOT_STARTED:
    case XML_ERR_STRING_NOT_CLOSED:
        return "malformed attribute";
    case XML_ERR_ATTRIBUTE_REDEFINED:
        return "attribute given twice";
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
    case XML_ERR_ENTITYREF_SEMICOL_MISSING:
        return "undeclared or malformed entity reference";
    case XML_ERR_INVALID_CHAR:
    case XML_ERR_INVALID_CHARREF:
    case XML_ERR_INVALID_DEC_CHARREF:
    case XML_ERR_INVALID_HEX_CHARREF:
        return "character not allowed in XML";
    case XML_ERR_COMMENT_NOT_FINISHED:
    case XML_ERR_HYPHEN_IN_COMMENT:
        return "malformed comment";
    case XML_ERR_CDATA_NOT_FINISHED:
    case XML_ERR_MISPLACED_CDATA_END:
        return "malformed CDATA section";
    case XML_ERR_RESERVED_XML_NAME:
    case XML_ERR_XMLDECL_NOT_FINISHED:
    case XML_ERR_XMLDECL_NOT_STARTED:
        return "malformed or misplaced XML declaration";
    case XML_ERR_NAME_REQUIRED: /* "<" or "&" with no name after it */
        return "name expected after '<' or '&' (as text they are written &lt; and &amp;)";
    case XML_ERR_NAME_TOO_LONG:
        return "malformed name";
    case XML_ERR_NO_MEMORY:
        return "out of memory";
    default:
        return "the document is not well-formed XML";
    }
}
