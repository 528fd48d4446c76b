/*
 * fhir/xml/xml_int.h — shared internals of fhir/xml (read.c, write.c,
 * value.c, xhtml.c, scan.c, path.c, ctxt.c).  Only fhir/xml includes it.
 */
#ifndef FHIR_XML_XML_INT_H
#define FHIR_XML_XML_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>

#include "fhir/base/buf.h"
#include "fhir/base/err.h"
#include "fhir/xml/fhir_xml.h"

/* Hard cap on element nesting, whatever the limits say: libxml2 stops at
 * 256 without XML_PARSE_HUGE, and the reader's frame stack is this deep. */
#define FHIR_XML__MAX_DEPTH 256u

/* --- locations (path.c) --------------------------------------------------- */

/* One step of a FHIRPath-like location: ".name" then "[index]" when
 * index >= 0.  A step with name NULL is not shown (the element that wraps
 * a resource's type name inside contained, entry.resource, ...). */
struct fhir_xml__seg {
    const char *name;
    size_t len;
    long index;
};

/* Render steps (plus `extra`, a last step without index, when not NULL)
 * as "Patient.name[0].given"; names that are not plausible FHIR names are
 * shown as "(invalid name)" — never echo client text. */
void fhir_xml__render_path(const struct fhir_xml__seg *segs, size_t n, const char *extra,
                           size_t extra_len, char *buf, size_t cap);

/* --- pre-scan (scan.c) ---------------------------------------------------- */

/*
 * Check what libxml2 should never be handed, before it is: bytes that are
 * not UTF-8 (or NUL), an encoding declaration other than UTF-8, any
 * "<!" declaration other than a comment or CDATA section (DOCTYPE, and with
 * it every entity), more than lim->max_attrs attributes in one tag (libxml2
 * 2.9 checks them pairwise) and attribute values over lim->max_value.
 * *body is set past a UTF-8 byte order mark.  BASE_E_PARSE / BASE_E_LIMIT
 * with err->where "line L, column C".
 */
BASE_MUST_CHECK int fhir_xml__prescan(const char *text, size_t len,
                                      const struct fhir_xml_limits *lim, size_t *body,
                                      struct base_err *err);

/* --- libxml2 parser contexts (ctxt.c) ------------------------------------ */

/*
 * This thread's push parser, reset and configured with the safe options
 * (NONET, no entity substitution, no DTD loading, no CDATA nodes, input
 * read as UTF-8, errors not printed) and an empty SAX handler for the
 * caller to fill.  NULL when out of memory.  The context is reused for the
 * thread's lifetime, so callers must not nest parses.
 */
xmlParserCtxtPtr fhir_xml__ctxt(void);

/* The SAX events a parse of ours listens to ("characters" also takes
 * ignorable whitespace and CDATA); the internal-subset handler must stop
 * the parser.  `state` becomes ctxt->_private. */
struct fhir_xml__sax {
    startElementNsSAX2Func start;
    endElementNsSAX2Func end;
    charactersSAXFunc characters;
    internalSubsetSAXFunc subset;
};

/* fhir_xml__ctxt() with `sax` installed and `state` as ctxt->_private. */
xmlParserCtxtPtr fhir_xml__ctxt_sax(const struct fhir_xml__sax *sax, void *state);

/* Bytes handed to libxml2's push parser per call (see fhir_xml__parse). */
#define FHIR_XML__PUSH_CHUNK ((size_t)64 * 1024)

/* Feed the whole input, in FHIR_XML__PUSH_CHUNK pieces.  Returns false when
 * libxml2 found the text not well-formed; *line, *col and *code (a libxml2
 * xmlParserErrors value, for fhir_xml__error_text) are its first error. */
bool fhir_xml__parse(xmlParserCtxtPtr ctxt, const char *text, size_t len, int *line, int *col,
                     int *code);

/* Client-safe description of a libxml2 error code (never libxml2's own
 * message, which quotes names and text from the document). */
const char *fhir_xml__error_text(int code);

/* --- canonical narrative XHTML (xhtml.c) --------------------------------- */

enum fhir_xml__xh_fault {
    FHIR_XML__XH_OK = 0,
    FHIR_XML__XH_ROOT,      /* root is not <div> in the XHTML namespace */
    FHIR_XML__XH_NAMESPACE, /* an element or attribute outside XHTML (and xml:) */
    FHIR_XML__XH_CHAR,      /* a character XML 1.0 cannot carry */
    FHIR_XML__XH_LIMIT,     /* longer than max */
    FHIR_XML__XH_NOMEM,
    FHIR_XML__XH_SYNTAX /* (fhir_xml__xhtml_canon) not well-formed, or a declaration */
};

/* Writes SAX events of a narrative as its canonical text (see fhir_xml.h). */
struct fhir_xml__xh {
    struct base_buf *out; /* appended to */
    size_t start;         /* out->len when the div began */
    size_t max;           /* most bytes of the narrative */
    size_t depth;         /* open elements */
    bool pending;         /* a start tag still needs ">" or "/>" */
    int fault;            /* enum fhir_xml__xh_fault: first problem */
};

void fhir_xml__xh_init(struct fhir_xml__xh *x, struct base_buf *out, size_t max);
void fhir_xml__xh_start(struct fhir_xml__xh *x, const xmlChar *localname, const xmlChar *uri,
                        int nb_attributes, const xmlChar **attributes);
/* self_closed: the source spelled the element `<x/>` (fhir_xml__self_closed);
 * an empty one written `<x></x>` keeps that spelling unless its content model
 * is EMPTY (`<br/>`). */
void fhir_xml__xh_end(struct fhir_xml__xh *x, const xmlChar *localname, bool self_closed);
/* In an endElementNs handler: was the element an empty-element tag `<x/>`? */
bool fhir_xml__self_closed(xmlParserCtxtPtr ctxt);
void fhir_xml__xh_text(struct fhir_xml__xh *x, const xmlChar *ch, size_t len);
/* Call after the root's end tag: FHIR_XML__XH_OK when the text is complete. */
int fhir_xml__xh_finish(struct fhir_xml__xh *x);

/* Parse narrative text (a JSON "div" string) and append its canonical form
 * to `out`.  Returns enum fhir_xml__xh_fault. */
int fhir_xml__xhtml_canon(const char *text, size_t len, size_t max, struct base_buf *out);

/* Client-safe text for a fault ("is not well-formed XHTML"). */
const char *fhir_xml__xh_fault_text(int fault);

/* --- the reader (read.c) ------------------------------------------------ */

struct fhir_xml__stats {
    size_t errors;  /* problems found (all of them) */
    size_t issues;  /* issues appended to the OperationOutcome */
    bool truncated; /* more problems than lim->max_issues */
    /* Locations ("Group.characteristic[0].value[x]", the validator's form of
     * a missing element) of elements the reader reported and left out of the
     * tree (an unusable value, a narrative it refused, an element in a
     * foreign namespace), as the keys of an object; the caller owns it.
     * fhir_xml_validate drops the validator's "missing required element"
     * at these places: the element is there, its problem is already said. */
    json_t *dropped;
};

/* fhir_xml_read() that also returns the counts (for fhir_xml_validate). */
BASE_MUST_CHECK int fhir_xml__read(const char *text, size_t len, const struct fhir_xml_limits *lim,
                                   json_t *oo, json_t **out, struct base_err *err,
                                   struct fhir_xml__stats *stats);

/* --- values (value.c) ---------------------------------------------------- */

/*
 * libxml2's SAX2 interface, without entity substitution, hands every '&'
 * of an attribute value over as the five characters "&#38;" (a raw '&'
 * cannot occur in well-formed XML).  fhir_xml__att_run() returns the
 * length of the plain run at *p and moves *p past it and the "&#38;" that
 * ends it (*amp: one '&' of the value follows the run).
 */
size_t fhir_xml__att_run(const char **p, const char *end, bool *amp);

/* The attribute value [v, end) as text: a slice of it, or of `scratch`
 * when it held a '&'.  False when out of memory. */
BASE_MUST_CHECK bool fhir_xml__att_text(const char *v, const char *end, struct base_buf *scratch,
                                        struct base_str *out);

struct fhir_model_type;

/* The JSON value of a primitive's value attribute by the type: boolean,
 * number (as fhir_json_parse builds it: integers, decimal nodes), string.
 * *bad (and NULL) when the text cannot be the type's JSON form; NULL
 * without *bad when out of memory. */
json_t *fhir_xml__prim_json(const struct fhir_model_type *t, struct base_str s, bool *bad);

/* --- escaping (xhtml.c) --------------------------------------------------- */

/* Is this UTF-8 text free of characters XML 1.0 cannot carry (C0 controls
 * other than tab, LF, CR; U+FFFE; U+FFFF)?  Input must be valid UTF-8. */
bool fhir_xml__chars_ok(const char *s, size_t len);

/* Offset of the first such character in valid UTF-8 text, or len. */
size_t fhir_xml__bad_char(const char *s, size_t len);

/* Append `s` escaped for an attribute value in double quotes (& < > " and
 * tab, LF, CR as character references) or for text (& < > ").  The caller
 * has checked fhir_xml__chars_ok.  BASE_E_LIMIT / BASE_E_NOMEM. */
BASE_MUST_CHECK int fhir_xml__escape(struct base_buf *out, const char *s, size_t len, bool attr);

#endif /* FHIR_XML_XML_INT_H */
