/*
 * fhir/xml/fhir_xml.h — FHIR R4 XML <-> FHIR JSON trees.
 *
 * FHIR's XML form (https://hl7.org/fhir/R4/xml.html) carries the same content
 * as its JSON form (https://hl7.org/fhir/R4/json.html); this module converts
 * between XML text and the jansson trees of fhir/json, with the type model
 * (fhir/model) deciding what the text alone cannot:
 *   - elements appear in definition order (not JSON member order);
 *   - the root element is the resource type, in the namespace
 *     http://hl7.org/fhir; a Resource-typed element (contained,
 *     Bundle.entry.resource, Parameters.parameter.resource, ...) wraps one
 *     element named by the inner resource's type;
 *   - primitives are elements with a `value` attribute; their `id` and
 *     extensions (the JSON "_name" form) sit on the same element; repeating
 *     primitives become aligned "name"/"_name" arrays with nulls;
 *   - Element.id and Extension.url are attributes;
 *   - choice elements use their typed names ("valueQuantity");
 *   - which elements repeat (JSON arrays, even with one occurrence) and
 *     which primitives are numbers or booleans in JSON;
 *   - decimals keep their text exactly (decimal nodes, fhir/json);
 *   - Narrative.div is real XHTML in the XHTML namespace in XML and a
 *     string in JSON.  Both directions write it in one canonical form:
 *     root <div xmlns="http://www.w3.org/1999/xhtml">, XHTML elements
 *     unprefixed, attributes in document order with double quotes, text
 *     escaping & < > " (attributes also tab, LF, CR as character
 *     references), empty elements as in the source (<td/> or <td></td>)
 *     but those of EMPTY content model always <br/>, comments and processing
 *     instructions dropped, CDATA as text.  This is the form of every
 *     narrative in the official R4 JSON examples, so they survive
 *     JSON -> XML -> JSON byte for byte.
 *
 * Reading is done with libxml2 as a SAX stream (no DOM): network off,
 * no entity substitution, no DTD loading, and any document type declaration
 * is refused before libxml2 sees it (no XXE, no entity expansion).  Input
 * must be UTF-8.  Limits: fhir_xml_limits (defaults in fhir/base/limits.h).
 *
 * Thread-safe: each thread keeps one reusable libxml2 parser context.
 */
#ifndef FHIR_XML_FHIR_XML_H
#define FHIR_XML_FHIR_XML_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/validate/fhir_validate.h"

/* Media type for content negotiation (https://hl7.org/fhir/R4/http.html#mime-type). */
#define FHIR_XML_MEDIA_TYPE "application/fhir+xml"
#define FHIR_XML_NS         "http://hl7.org/fhir"
#define FHIR_XML_XHTML_NS   "http://www.w3.org/1999/xhtml"

struct fhir_xml_limits {
    size_t max_doc;      /* bytes of input */
    size_t max_depth;    /* element nesting (at most 256, libxml2's own cap) */
    size_t max_elements; /* elements in the document (narrative included) */
    size_t max_attrs;    /* attributes plus namespace declarations of one tag */
    size_t max_value;    /* bytes of one attribute value */
    size_t max_string;   /* bytes of one narrative (its JSON string) */
    size_t max_issues;   /* problems reported in the OperationOutcome */
};

/* Defaults from fhir/base/limits.h. */
struct fhir_xml_limits fhir_xml_limits_default(void);

/*
 * Read a FHIR XML resource (len bytes, need not be NUL-terminated) into a
 * JSON tree exactly as fhir_json_parse() would build it from the resource's
 * JSON form.  `lim` may be NULL (defaults).  Every problem is appended to
 * `oo` (an OperationOutcome from fhir_outcome_new(), may be NULL) as an
 * issue located by a FHIRPath-like path ("Patient.name[0].given[1]") with
 * the line number in the message; `err` (may be NULL) gets the first.
 *
 * Returns:
 *   BASE_OK        *out is the resource (a new reference).
 *   BASE_E_INVALID well-formed XML that does not map cleanly: unknown
 *                  element or attribute, wrong namespace, element out of
 *                  order or repeated beyond max 1, primitive without value,
 *                  id or extension, text where none is allowed, bad
 *                  number/boolean text, invalid narrative.  *out holds
 *                  everything that did map (callers may validate it for
 *                  the remaining problems), or NULL when the root element
 *                  is not a FHIR resource.
 *   BASE_E_PARSE   not well-formed, not UTF-8, or a document type
 *                  declaration (err->where "line L, column C"); *out NULL.
 *   BASE_E_LIMIT   a limit of `lim` exceeded; *out NULL.
 *   BASE_E_NOMEM
 */
BASE_MUST_CHECK int fhir_xml_read(const char *text, size_t len, const struct fhir_xml_limits *lim,
                                  json_t *oo, json_t **out, struct base_err *err);

enum fhir_xml_write_flags {
    FHIR_XML_COMPACT = 0,
    FHIR_XML_PRETTY = 1u << 0,        /* two-space indent (never inside narrative) */
    FHIR_XML_NO_DECLARATION = 1u << 1 /* omit <?xml version="1.0" encoding="UTF-8"?> */
};

/*
 * Append the XML form of the resource `res` (a tree as from fhir_json_parse)
 * to `out`.  The tree must be structurally valid FHIR (every member an
 * element of its type, arrays exactly where elements repeat, JSON types
 * matching primitives, aligned "_name" arrays, well-formed narrative);
 * otherwise nothing usable is written and the error names the location
 * (BASE_E_INVALID, issue code structure or value).  Strings holding
 * characters XML 1.0 cannot carry (control characters other than tab, LF,
 * CR; U+FFFE, U+FFFF) are refused the same way.  BASE_E_LIMIT when `out`
 * reaches its maximum or nesting exceeds 256.  `out` may hold a partial
 * document on error.
 */
BASE_MUST_CHECK int fhir_xml_write(const json_t *res, unsigned flags, struct base_buf *out,
                                   struct base_err *err);

/*
 * Validate a FHIR XML resource: fhir_xml_read() and then fhir_validate() on
 * the tree, so an XML document gets the same issues as its JSON form, plus
 * the XML-only ones (order, namespaces, attributes).  A document that is
 * not well-formed or over a limit gives one issue (code structure or
 * too-costly).  Arguments and results as fhir_validate_json(); out->errors
 * counts the reader's problems too.
 */
BASE_MUST_CHECK int fhir_xml_validate(const char *text, size_t len,
                                      const struct fhir_validate_opts *opts, json_t *oo,
                                      struct fhir_validate_result *out, struct base_err *err);

/* Does `text` look like XML (first byte after an optional UTF-8 BOM and
 * whitespace is '<')?  For picking a reader by content. */
bool fhir_xml_sniff(const char *text, size_t len);

#endif /* FHIR_XML_FHIR_XML_H */
