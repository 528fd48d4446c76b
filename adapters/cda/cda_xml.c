/*
 * Navigating a parsed CDA tree: namespaced element lookup, attributes,
 * text, XPath, and warnings that say where.
 */
#include <string.h>
#include <strings.h>

#include <libxml/xpathInternals.h>

#include "adapters/cda/cda_int.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "fhir/outcome/fhir_outcome.h"

const char *
cda_lookup(const struct cda_pair *t, size_t n, const char *key)
{
    for (size_t i = 0; key != NULL && i < n; i++) {
        if (strcmp(t[i].from, key) == 0)
            return t[i].to;
    }
    return NULL;
}

bool
cda_is(const xmlNode *n, const char *name)
{
    /* Fragments without a namespace were moved into urn:hl7-org:v3 when
     * the document was read (cda_parse.c), so one test fits both. */
    return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           strcmp((const char *)n->ns->href, CDA_NS) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr
cda_child(const xmlNode *parent, const char *name)
{
    if (parent == NULL)
        return NULL;
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
        if (cda_is(n, name))
            return n;
    }
    return NULL;
}

xmlNodePtr
cda_next(const xmlNode *cur, const char *name)
{
    for (xmlNodePtr n = cur->next; n != NULL; n = n->next) {
        if (cda_is(n, name))
            return n;
    }
    return NULL;
}

xmlNodePtr
cda_sdtc_child(const xmlNode *parent, const char *name)
{
    for (xmlNodePtr n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next) {
        const char *local = (const char *)n->name;

        if (n->type != XML_ELEMENT_NODE)
            continue;
        /* Declared: {urn:hl7-org:sdtc}name.  The C-CDA example fragments
         * use the prefix without declaring it: libxml2 then keeps the
         * literal name "sdtc:name" (as for an undeclared xsi:type). */
        if (n->ns != NULL && strcmp((const char *)n->ns->href, SDTC_NS) == 0 &&
            strcmp(local, name) == 0)
            return n;
        if (strncmp(local, "sdtc:", 5) == 0 && strcmp(local + 5, name) == 0)
            return n;
    }
    return NULL;
}

static bool
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* `s` without leading and trailing XML white space: CDA attributes are
 * codes, OIDs, numbers and times, which the schema's token types collapse,
 * and exports from fixed-width database columns pad ("I10  ").  Such a
 * value is invalid as a FHIR code or id. */
static const char *
trimmed(struct cda_ctx *c, const char *s)
{
    size_t len = strlen(s);
    const char *p = s;
    char *copy;

    while (is_space(*p))
        p++;
    while (len > (size_t)(p - s) && is_space(s[len - 1]))
        len--;
    if (p == s && s[len] == '\0')
        return s;
    copy = base_arena_strndup(c->arena, p, len - (size_t)(p - s));
    if (copy == NULL)
        (void)cda_nomem(c);
    return copy;
}

static const char *
attr_value(struct cda_ctx *c, const xmlAttr *a)
{
    xmlChar *v;
    const char *copy;

    if (a->children != NULL && a->children->next == NULL && a->children->type == XML_TEXT_NODE)
        return trimmed(c, (const char *)a->children->content);
    v = xmlNodeListGetString(a->doc, a->children, 1);
    if (v == NULL)
        return "";
    copy = trimmed(c, (const char *)v);
    if (copy == (const char *)v)
        copy = base_arena_strdup(c->arena, (const char *)v);
    xmlFree(v);
    if (copy == NULL)
        (void)cda_nomem(c);
    return copy;
}

const char *
cda_attr(struct cda_ctx *c, const xmlNode *n, const char *name)
{
    if (n == NULL)
        return NULL;
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
        if (a->ns == NULL && strcmp((const char *)a->name, name) == 0)
            return attr_value(c, a);
    }
    return NULL;
}

const char *
cda_xsi_type(struct cda_ctx *c, const xmlNode *n)
{
    const char *t = NULL;

    if (n == NULL)
        return NULL;
    for (const xmlAttr *a = n->properties; a != NULL && t == NULL; a = a->next) {
        /* Declared: {XSI}type.  Undeclared prefix (four corpus files): libxml2
         * keeps the attribute under the literal name "xsi:type". */
        if ((a->ns != NULL && strcmp((const char *)a->ns->href, XSI_NS) == 0 &&
             strcmp((const char *)a->name, "type") == 0) ||
            (a->ns == NULL && strcmp((const char *)a->name, "xsi:type") == 0))
            t = attr_value(c, a);
    }
    if (t != NULL && strchr(t, ':') != NULL)
        t = strchr(t, ':') + 1; /* "cda:PQ" -> "PQ" */
    return t;
}

bool
cda_has_template(struct cda_ctx *c, const xmlNode *n, const char *root)
{
    CDA_EACH(t, n, "templateId")
    {
        const char *r = cda_attr(c, t, "root");

        if (r != NULL && strcmp(r, root) == 0)
            return true;
    }
    return false;
}

/* A WS 363 data element identifier: "DE" dd.dd.ddd.dd ("DE04.10.174.00"). */
static bool
data_element_shaped(const char *v)
{
    static const char shape[] = "DE99.99.999.99";

    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (v[i] == '\0' || (shape[i] == '9' ? (v[i] < '0' || v[i] > '9') : v[i] != shape[i]))
            return false;
    }
    return v[sizeof(shape) - 1] == '\0';
}

const char *
cda_wst_element(struct cda_ctx *c, const xmlNode *obs)
{
    xmlNodePtr code = cda_child(obs, "code");
    const char *system = cda_attr(c, code, "codeSystem");
    const char *v = cda_attr(c, code, "code");

    /* 健康档案 (WS/T 483-era) generators write the data element without
     * its code system: <code code="DE04.10.174.00" displayName="收缩压"/>.
     * The identifier's shape is WS 363's own; such vital signs lost their
     * LOINC codes, diagnoses their reading as data elements. */
    if (system == NULL && v != NULL && data_element_shaped(v))
        return v;
    if (system == NULL || strcmp(system, CDA_WST_DATA_ELEMENTS) != 0)
        return NULL;
    return v;
}

bool
cda_negated(struct cda_ctx *c, const xmlNode *act)
{
    const char *v = cda_attr(c, act, "negationInd");

    /* CDA's bl is "true"|"false", but it is an xs:boolean underneath, and
     * generators write "1", "TRUE" or pad it.  Reading any of those as not
     * negated would turn "no history of X" into X, so they all negate.
     * CDA R2.1's valueNegationInd (the value is what is negated: "not
     * tender") negates the finding the same way. */
    if (v == NULL)
        v = cda_attr(c, act, "valueNegationInd");
    if (v == NULL)
        return false;
    struct base_str t = base_str_trim(base_str_from_cstr(v));
    return (t.len == 4 && strncasecmp(t.ptr, "true", 4) == 0) || (t.len == 1 && t.ptr[0] == '1');
}

bool
cda_blank(const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    }
    return true;
}

/* Narrative elements (CDA R2 NarrativeBlock) whose edges separate words:
 * the cells of a table row, paragraphs, list items, line breaks.  A
 * reference to a <tr> (Allscripts) read "TabletMedication taken" when
 * the cells' texts were joined as they are. */
static bool
separates_words(const xmlNode *n)
{
    static const char *const names[] = {"td",    "th",      "tr",      "thead", "tbody",
                                        "tfoot", "table",   "list",    "item",  "paragraph",
                                        "br",    "caption", "footnote"};

    if (n->type != XML_ELEMENT_NODE)
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(names); i++) {
        if (cda_is(n, names[i]))
            return true;
    }
    return false;
}

struct text_out {
    char *out; /* NULL: count only */
    size_t len;
    bool space;
};

/* Runs of XML white space (XML 1.0 section 2.3 S) become one space; none
 * leads. */
static void
put_text(struct text_out *t, const xmlChar *p)
{
    for (; p != NULL && *p != '\0'; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            t->space = t->len > 0;
            continue;
        }
        if (t->space) {
            if (t->out != NULL)
                t->out[t->len] = ' ';
            t->len++;
        }
        t->space = false;
        if (t->out != NULL)
            t->out[t->len] = (char)*p;
        t->len++;
    }
}

/* The text under `top` in document order, without recursion (the tree is
 * as deep as the parser's limit allows).  Entity declarations are refused
 * by the parser and CDATA is merged, so text nodes hold all the text. */
static void
walk_text(const xmlNode *top, struct text_out *t)
{
    const xmlNode *n = top;

    for (;;) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
            put_text(t, n->content);
        else if (n != top && separates_words(n))
            t->space = t->len > 0;
        if ((n->type == XML_ELEMENT_NODE || n == top) && n->children != NULL) {
            n = n->children;
            continue;
        }
        while (n != top && n->next == NULL) {
            n = n->parent;
            if (n != top && separates_words(n))
                t->space = t->len > 0;
        }
        if (n == top)
            return;
        n = n->next;
    }
}

const char *
cda_text(struct cda_ctx *c, const xmlNode *n)
{
    struct text_out t = {0};

    if (n == NULL)
        return "";
    walk_text(n, &t);
    if (t.len == 0)
        return "";
    t.out = base_arena_alloc(c->arena, t.len + 1);
    if (t.out == NULL) {
        (void)cda_nomem(c);
        return "";
    }
    t.len = 0;
    t.space = false;
    walk_text(n, &t);
    t.out[t.len] = '\0';
    return t.out;
}

static void
free_xpath_obj(void *p)
{
    xmlXPathFreeObject(p);
}

int
cda_xpath(struct cda_ctx *c, xmlNodePtr from, const char *expr, xmlNodeSetPtr *out)
{
    xmlXPathObjectPtr r;

    *out = NULL;
    c->xp->node = from;
    r = xmlXPathEvalExpression((const xmlChar *)expr, c->xp);
    if (r == NULL)
        return base_err_set(c->err, BASE_E_INTERNAL, "exception", "xpath",
                            "could not evaluate a document query");
    if (base_arena_on_free(c->arena, free_xpath_obj, r) != BASE_OK)
        return cda_nomem(c);
    if (r->type == XPATH_NODESET)
        *out = r->nodesetval;
    return BASE_OK;
}

/* 1-based position among same-named element siblings (XPath style). */
static size_t
sibling_index(const xmlNode *n)
{
    size_t i = 1;

    for (const xmlNode *p = n->prev; p != NULL; p = p->prev) {
        if (p->type == XML_ELEMENT_NODE &&
            strcmp((const char *)p->name, (const char *)n->name) == 0)
            i++;
    }
    return i;
}

const char *
cda_where(struct cda_ctx *c, const xmlNode *n)
{
    /* Our own path: libxml2's xmlGetNodePath() writes "*" for every element
     * in a default namespace, which is every CDA element. */
    const xmlNode *chain[BASE_LIMIT_CDA_MAX_DEPTH + 1];
    size_t depth = 0;
    const char *path = "";

    for (const xmlNode *p = n;
         p != NULL && p->type == XML_ELEMENT_NODE && depth < BASE_ARRAY_LEN(chain); p = p->parent)
        chain[depth++] = p;
    while (depth > 0 && path != NULL) {
        const xmlNode *e = chain[--depth];
        size_t i = sibling_index(e);

        path = i > 1 ? base_arena_sprintf(c->arena, "%s/%s[%zu]", path, e->name, i)
                     : base_arena_sprintf(c->arena, "%s/%s", path, e->name);
    }
    return path != NULL ? path : "ClinicalDocument";
}

int
cda_warn(struct cda_ctx *c, const xmlNode *n, const char *code, const char *msg)
{
    /* Capped before the location is built: finding it walks siblings, so
     * unbounded warnings would cost time quadratic in the entries. */
    if (c->warning_count >= c->lim->max_warnings) {
        c->warnings_omitted++;
        return BASE_OK;
    }
    if (fhir_outcome_add(c->warnings, "warning", code, cda_where(c, n), msg) != BASE_OK)
        return cda_nomem(c);
    c->warning_count++;
    return BASE_OK;
}

int
cda_nomem(struct cda_ctx *c)
{
    return base_err_set(c->err, BASE_E_NOMEM, "exception", "ClinicalDocument", "out of memory");
}
