/*
 * Reading a CDA document safely, then driving the mapping.
 *
 * libxml2 options (STYLE.md 3.6): XML_PARSE_NONET, and XML_PARSE_NO_XXE on
 * libxml2 2.13+; never NOENT, DTDLOAD, DTDVALID, XINCLUDE or HUGE.  On top,
 * the SAX hooks below stop the parse at the first entity declaration or
 * external DTD: a CDA document needs neither (the CDA R2 schema is W3C XML
 * Schema), and they are how billion-laughs and XXE documents work.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlversion.h>
#include <libxml/xpathInternals.h>

#include "adapters/cda/cda_int.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "fhir/outcome/fhir_outcome.h"

struct cda_limits
cda_limits_default(void)
{
    struct cda_limits l = {
        .max_doc = BASE_LIMIT_CDA_MAX_DOC,
        .max_depth = BASE_LIMIT_CDA_MAX_DEPTH,
        .max_nodes = BASE_LIMIT_CDA_MAX_NODES,
        .max_entries = BASE_LIMIT_CDA_MAX_ENTRIES,
        .max_warnings = BASE_LIMIT_CDA_MAX_WARNINGS,
        .max_inflated = BASE_LIMIT_CDA_MAX_INFLATED,
    };
    return l;
}

/* What the SAX hooks saw; lives in the parser context's _private. */
struct parse_guard {
    bool refused;
    int first_error_line;
};

static void
refuse(void *ctx)
{
    xmlParserCtxtPtr p = ctx;
    struct parse_guard *g = p->_private;

    g->refused = true;
    xmlStopParser(p);
}

static void
on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                   const xmlChar *system_id)
{
    (void)name;
    /* <!DOCTYPE x SYSTEM "..."> names an external DTD: never wanted. */
    if (external_id != NULL || system_id != NULL)
        refuse(ctx);
}

static void
on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
               const xmlChar *system_id, xmlChar *content)
{
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    refuse(ctx);
}

static void
on_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr p = ctx;
    struct parse_guard *g = p->_private;

    /* Silent: the parser is pure.  Keep where the first real error was;
     * namespace warnings (undeclared xsi:) are tolerated. */
    if (e != NULL && e->level >= XML_ERR_ERROR && e->domain != XML_FROM_NAMESPACE &&
        g->first_error_line == 0)
        g->first_error_line = e->line > 0 ? e->line : 1;
}

static void
free_doc(void *d)
{
    xmlFreeDoc(d);
}

static int
parse_options(void)
{
    int o = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
            XML_PARSE_BIG_LINES;
#if LIBXML_VERSION >= 21300
    o |= XML_PARSE_NO_XXE;
#endif
    return o;
}

/* libxml2's encoding layer reports conversion failures through the
 * generic error function, not the parser's, and its default prints the
 * offending bytes -- document content, possibly patient data -- on
 * stderr.  The parse result already says where it failed. */
static void
quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* One parse of the bytes; `encoding` NULL follows the document.  *doc is
 * NULL unless the document is well-formed; guard says what went wrong. */
static int
parse_bytes(struct cda_ctx *c, const char *encoding, struct parse_guard *guard, xmlDocPtr *doc)
{
    xmlParserCtxtPtr p;

    xmlSetGenericErrorFunc(NULL, quiet); /* per thread in libxml2 */
    p = xmlNewParserCtxt();
    *doc = NULL;
    if (p == NULL)
        return cda_nomem(c);
    p->_private = guard;
    p->sax->internalSubset = on_internal_subset;
    p->sax->entityDecl = on_entity_decl;
    p->sax->serror = on_error;
    /* The length was checked against max_doc (<= INT_MAX) by the caller. */
    *doc = xmlCtxtReadMemory(p, c->xml, (int)c->xml_len, NULL, encoding, parse_options());
    if (*doc != NULL && (guard->refused || !p->wellFormed)) {
        xmlFreeDoc(*doc);
        *doc = NULL;
    }
    xmlFreeParserCtxt(p);
    return BASE_OK;
}

/* True when the XML declaration names no encoding or UTF-8 (and no UTF-16
 * byte order mark says otherwise): the document claims to be UTF-8. */
static bool
claims_utf8(const char *xml, size_t len)
{
    size_t n = len < 256 ? len : 256;
    char head[257];
    const char *enc;
    const char *end;

    if (n >= 2 && ((unsigned char)xml[0] == 0xFF || (unsigned char)xml[0] == 0xFE))
        return false;
    memcpy(head, xml, n);
    head[n] = '\0';
    end = strstr(head, "?>");
    enc = strstr(head, "encoding");
    if (strncmp(head, "<?xml", 5) != 0 || end == NULL || enc == NULL || enc > end)
        return true;
    enc += strcspn(enc, "\"'");
    return *enc != '\0' &&
           (strncasecmp(enc + 1, "utf-8", 5) == 0 || strncasecmp(enc + 1, "utf8", 4) == 0);
}

/* Whether the raw bytes look Chinese: the marks of a Chinese document (a
 * WS/T 500 or other national OID 2.16.156, <realmCode code="CN"/>), or
 * high bytes that come in pairs as GBK characters do (GB2312 hanzi are two
 * bytes of 0xA1-0xFE) rather than alone between ASCII letters as
 * Windows-1252 accents do ("Ren\xe9e"). */
static bool
looks_chinese(const char *xml, size_t len)
{
    static const char *const marks[] = {"2.16.156.", "code=\"CN\"", "code='CN'"};
    const unsigned char *u = (const unsigned char *)xml;
    size_t pairs = 0;
    size_t singles = 0;

    for (size_t at = 0; at < len; at++) {
        if (u[at] < 0x80)
            continue;
        if (at + 1 < len && u[at] >= 0xA1 && u[at + 1] >= 0xA1) {
            pairs++;
            at++;
        } else {
            singles++;
        }
    }
    if (pairs > singles)
        return true;
    for (size_t i = 0; i < BASE_ARRAY_LEN(marks); i++) {
        size_t m = strlen(marks[i]);

        for (size_t at = 0; at + m <= len; at++) {
            if (xml[at] == marks[i][0] && memcmp(xml + at, marks[i], m) == 0)
                return true;
        }
    }
    return false;
}

static int
read_doc(struct cda_ctx *c)
{
    struct parse_guard guard = {0};

    TRY(parse_bytes(c, NULL, &guard, &c->doc));
    if (c->doc == NULL && !guard.refused && claims_utf8(c->xml, c->xml_len) &&
        !base_utf8_valid(c->xml, c->xml_len, NULL)) {
        /* Bytes that are not UTF-8 cannot be read as declared.  Chinese
         * systems write GBK without saying so (or while declaring UTF-8):
         * GB18030, a superset of GBK and GB2312.  US and European exports
         * write Windows-1252 the same way ("Jos\xe9"), which GB18030 would
         * turn into Chinese characters.  The document's own marks say
         * which: the CN realm or a Chinese national OID. */
        static const char *const chinese[] = {"GB18030", "WINDOWS-1252", "ISO-8859-1"};
        static const char *const western[] = {"WINDOWS-1252", "ISO-8859-1", "GB18030"};
        const char *const *order = looks_chinese(c->xml, c->xml_len) ? chinese : western;

        for (size_t i = 0; i < 3 && c->doc == NULL; i++) {
            struct parse_guard retry = {0};

            TRY(parse_bytes(c, order[i], &retry, &c->doc));
            if (c->doc != NULL &&
                fhir_outcome_add(
                    c->warnings, "warning", "value", "ClinicalDocument",
                    base_arena_sprintf(c->arena, "document is not UTF-8 as it declares; read as %s",
                                       order[i])) != BASE_OK) {
                xmlFreeDoc(c->doc);
                c->doc = NULL;
                return cda_nomem(c);
            }
        }
    }
    if (guard.refused)
        return base_err_set(c->err, BASE_E_INVALID, "security", "ClinicalDocument",
                            "document declares entities or an external DTD, which are refused");
    if (c->doc == NULL) {
        char where[32];

        (void)snprintf(where, sizeof(where), "line %d",
                       guard.first_error_line > 0 ? guard.first_error_line : 1);
        return base_err_set(c->err, BASE_E_PARSE, "structure", where, "not well-formed XML");
    }
    if (base_arena_on_free(c->arena, free_doc, c->doc) != BASE_OK) {
        xmlFreeDoc(c->doc);
        c->doc = NULL;
        return cda_nomem(c);
    }
    return BASE_OK;
}

/* One visit of the limit walk: count, record narrative IDs, and move
 * namespace-less fragment elements into urn:hl7-org:v3. */
static int
visit(struct cda_ctx *c, xmlNodePtr n, xmlNsPtr adopt, size_t *nodes)
{
    (*nodes)++;
    if (n->type != XML_ELEMENT_NODE)
        return BASE_OK;
    if (adopt != NULL && n->ns == NULL)
        n->ns = adopt;
    for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
        (*nodes)++;
        if (a->ns == NULL && strcmp((const char *)a->name, "ID") == 0 && a->children != NULL &&
            a->children->type == XML_TEXT_NODE)
            /* duplicate IDs: the first one wins (add fails, which is fine) */
            (void)xmlHashAddEntry(c->ids, a->children->content, n);
    }
    return BASE_OK;
}

/* Iterative pre-order walk (no recursion driven by input depth). */
static int
walk_limits(struct cda_ctx *c, xmlNodePtr root, xmlNsPtr adopt)
{
    size_t nodes = 0;
    size_t depth = 1;
    xmlNodePtr n = root;

    while (n != NULL) {
        TRY(visit(c, n, adopt, &nodes));
        ENSURE(nodes <= c->lim->max_nodes, c->err, BASE_E_LIMIT, "too-costly", "ClinicalDocument",
               "document exceeds %zu nodes", c->lim->max_nodes);
        if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
            depth++;
            ENSURE(depth <= c->lim->max_depth, c->err, BASE_E_LIMIT, "too-costly", cda_where(c, n),
                   "document nests deeper than %zu elements", c->lim->max_depth);
            n = n->children;
            continue;
        }
        while (n != NULL && n != root && n->next == NULL) {
            n = n->parent;
            depth--;
        }
        n = (n == NULL || n == root) ? NULL : n->next;
    }
    return BASE_OK;
}

static void
free_hash(void *h)
{
    xmlHashFree(h, NULL);
}

static void
free_xpath_ctx(void *x)
{
    xmlXPathFreeContext(x);
}

/* Check the root, normalise fragments, build the XPath context. */
static int
prepare(struct cda_ctx *c, xmlNodePtr *out_root)
{
    xmlNodePtr root = xmlDocGetRootElement(c->doc);
    xmlNsPtr adopt = NULL;
    const char *name = root != NULL ? (const char *)root->name : "";

    ENSURE(root != NULL && (strcmp(name, "ClinicalDocument") == 0 || strcmp(name, "section") == 0),
           c->err, BASE_E_INVALID, "structure", "ClinicalDocument",
           "not a CDA document (root element is neither ClinicalDocument nor section)");
    if (root->ns == NULL) {
        /* C-CDA example fragments (a bare <section>) carry no namespace. */
        adopt = xmlNewNs(root, (const xmlChar *)CDA_NS, NULL);
        if (adopt == NULL)
            return cda_nomem(c);
    }
    ENSURE(root->ns == NULL || strcmp((const char *)root->ns->href, CDA_NS) == 0, c->err,
           BASE_E_INVALID, "structure", "ClinicalDocument",
           "root element is not in the urn:hl7-org:v3 namespace");
    c->ids = xmlHashCreate(64);
    if (c->ids == NULL || base_arena_on_free(c->arena, free_hash, c->ids) != BASE_OK)
        return cda_nomem(c);
    TRY(walk_limits(c, root, adopt));
    c->xp = xmlXPathNewContext(c->doc);
    if (c->xp == NULL || base_arena_on_free(c->arena, free_xpath_ctx, c->xp) != BASE_OK)
        return cda_nomem(c);
    if (xmlXPathRegisterNs(c->xp, (const xmlChar *)"hl7", (const xmlChar *)CDA_NS) != 0 ||
        xmlXPathRegisterNs(c->xp, (const xmlChar *)"sdtc", (const xmlChar *)SDTC_NS) != 0)
        return cda_nomem(c);
    *out_root = root;
    return BASE_OK;
}

static int
convert(struct cda_ctx *c)
{
    xmlNodePtr root = NULL;

    ENSURE(c->xml_len <= c->lim->max_doc && c->xml_len <= (size_t)INT32_MAX, c->err, BASE_E_LIMIT,
           "too-costly", "ClinicalDocument", "document exceeds %zu bytes", c->lim->max_doc);
    TRY(read_doc(c));
    TRY(prepare(c, &root));
    TRY(adapter_tx_init(&c->tx, c->lim->max_entries, c->err));
    c->doc_authors = json_array();
    if (c->doc_authors == NULL ||
        base_arena_on_free(c->arena, (base_cleanup_fn)json_decref, c->doc_authors) != BASE_OK)
        return cda_nomem(c);
    TRY(cda_map_header(c, root));
    TRY(cda_map_service_event_team(c, root));
    TRY(cda_map_sections(c, root));
    TRY(cda_map_document(c, root));
    if (c->warnings_omitted > 0) {
        char msg[96];

        (void)snprintf(msg, sizeof(msg), "%zu further warnings omitted", c->warnings_omitted);
        if (fhir_outcome_add(c->warnings, "warning", "too-costly", "ClinicalDocument", msg) !=
            BASE_OK)
            return cda_nomem(c);
    }
    return c->err->rc != 0 ? c->err->rc : BASE_OK;
}

int
cda_to_bundle(const char *xml, size_t len, const struct cda_limits *lim,
              const struct cda_options *opt, json_t **out, json_t **warnings, struct base_err *err)
{
    static const struct cda_options no_options = {0};
    struct cda_limits deflim = cda_limits_default();
    struct base_err local = {0};
    struct cda_ctx c = {0};
    int rc;

    *out = NULL;
    if (warnings != NULL)
        *warnings = NULL;
    c.lim = lim != NULL ? lim : &deflim;
    c.opt = opt != NULL ? opt : &no_options;
    c.err = err != NULL ? err : &local;
    c.xml = xml;
    c.xml_len = len;
    c.arena = base_arena_new(0);
    c.warnings = fhir_outcome_new();
    if (c.arena == NULL || c.warnings == NULL) {
        rc = base_err_set(c.err, BASE_E_NOMEM, "exception", "ClinicalDocument", "out of memory");
        goto out;
    }
    rc = convert(&c);
    if (rc == BASE_OK) {
        *out = adapter_tx_take(&c.tx);
        if (warnings != NULL) {
            *warnings = c.warnings;
            c.warnings = NULL;
        }
    }
out:
    adapter_tx_fini(&c.tx);
    json_decref(c.warnings);
    base_arena_free(c.arena);
    return rc;
}
