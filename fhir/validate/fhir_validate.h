/*
 * fhir/validate/fhir_validate.h — validate FHIR R4 resources against the
 * core definitions (fhir/model).
 *
 * Input is a jansson tree from fhir_json_parse() (decimal nodes understood;
 * see fhir/json/fhir_json.h).  The validator walks it once and checks, by
 * the R4 specification (https://hl7.org/fhir/R4/json.html, datatypes.html,
 * narrative.html, references.html):
 *   - resourceType present and a concrete R4 resource type;
 *   - every property is an element of its type (unknown elements);
 *   - JSON types (string / number / boolean / object / array), arrays
 *     versus single values and max cardinality, no empty objects, arrays or
 *     strings, null only as an array placeholder of the "_name" form;
 *   - every primitive's lexical format (see fhir_validate_primitive());
 *   - the "_name" form: contents (id, extension), array alignment;
 *   - choice groups "value[x]": one alternative at most, allowed types only;
 *   - required elements (min 1), also satisfied by "_name" alone;
 *   - codes of required bindings (code, Coding, CodeableConcept, Quantity);
 *   - invariants ele-1 (content), ext-1 (extension or value), dom-2 (no
 *     nested contained), dom-3 (contained resources are referred to),
 *     dom-4/dom-5 (no meta.versionId/lastUpdated/security in contained),
 *     ref-1 (local references resolve to a contained resource), sqty-1,
 *     per-1, rng-2, the Quantity profiles', Timing's, the Bundle's bdl-*,
 *     obs-6/obs-7, and every R4 error invariant that only asks which child
 *     elements are present (docs/design/validate.md "Invariants");
 *   - Reference.reference forms: "Type/id[/_history/vid]", "#id", absolute
 *     URL, "urn:uuid:", "urn:oid:", and conditional "Type?query" inside
 *     transaction and batch Bundles;
 *   - contained resources, Bundle.entry.resource, Bundle.entry.response
 *     .outcome and Parameters.parameter.resource, recursively, by their own
 *     resourceType.
 *
 * Every problem becomes one OperationOutcome issue (severity, IssueType code,
 * FHIRPath-like location "Patient.name[0].given[1]", client-safe message
 * that never quotes the value).  All problems are reported, up to
 * opts->max_issues.  Issue codes used: structure, required, value,
 * code-invalid, invariant, too-long, too-costly.
 *
 * Thread-safe: no global state except libxml2's one-time initialisation.
 */
#ifndef FHIR_VALIDATE_FHIR_VALIDATE_H
#define FHIR_VALIDATE_FHIR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/model/fhir_model.h"

struct fhir_validate_opts {
    size_t max_issues;       /* issues reported at most (0: BASE_LIMIT_FHIR_MAX_ISSUES) */
    size_t max_depth;        /* nesting of objects walked (0: BASE_LIMIT_FHIR_MAX_DEPTH) */
    const char *expect_type; /* required resourceType (e.g. from the URL), or NULL */
    bool no_warnings;        /* report errors only */
};

struct fhir_validate_result {
    size_t errors;   /* issues of severity error or fatal (all of them, even
                      * beyond max_issues) */
    size_t warnings; /* issues of severity warning */
    size_t issues;   /* issues appended to the OperationOutcome */
    bool truncated;  /* more problems were found than max_issues */
    bool fast;       /* fhir_validate_json() settled it without building a tree */
};

/*
 * Validate one resource.  `opts` may be NULL (defaults).  When `oo` is not
 * NULL (an OperationOutcome from fhir_outcome_new()), every problem is
 * appended to it as an issue; with `oo` NULL only counts are kept, which is
 * the cheap path (no strings are built).  `out` may be NULL.
 *
 * Returns BASE_OK when the resource has no errors (warnings allowed),
 * BASE_E_INVALID when it has at least one (`err` then describes the first:
 * issue code, location, message), BASE_E_NOMEM when the OperationOutcome
 * could not grow.
 */
BASE_MUST_CHECK int fhir_validate(const json_t *resource, const struct fhir_validate_opts *opts,
                                  json_t *oo, struct fhir_validate_result *out,
                                  struct base_err *err);

/*
 * Validate FHIR JSON text (len bytes): the same issues, in the same order,
 * as fhir_json_parse() followed by fhir_validate().  A parse failure is
 * reported like a validation problem (one issue of code structure or
 * too-costly, located "line L, column C") and gives BASE_E_INVALID.
 *
 * This is the fast entry point for bodies that arrive as text: a one-pass
 * validator works on the text itself, without building a tree, and settles
 * every document it can prove clean (out->fast); anything else — every
 * document with an error, and rare constructs — goes through the parser and
 * the tree walk.  Other arguments and results as fhir_validate().
 */
BASE_MUST_CHECK int fhir_validate_json(const char *text, size_t len,
                                       const struct fhir_validate_opts *opts, json_t *oo,
                                       struct fhir_validate_result *out, struct base_err *err);

/* Number of errors in `resource` (0 = valid).  Never allocates. */
size_t fhir_validate_error_count(const json_t *resource);

/*
 * Validate a value of any type against the model (for builders and adapters
 * checking a fragment, e.g. a CodeableConcept).  `path` names the value in
 * locations ("Observation.code").  Results as fhir_validate().
 */
BASE_MUST_CHECK int fhir_validate_value(const json_t *value, const struct fhir_model_type *type,
                                        const char *path, const struct fhir_validate_opts *opts,
                                        json_t *oo, struct fhir_validate_result *out,
                                        struct base_err *err);

/* Why a primitive's text is invalid (FHIR_PRIM_OK when it is valid). */
enum fhir_prim_fault {
    FHIR_PRIM_OK = 0,
    FHIR_PRIM_BAD_FORMAT,   /* does not match the type's lexical form */
    FHIR_PRIM_BAD_DATE,     /* well formed, but no such calendar date */
    FHIR_PRIM_NO_TIMEZONE,  /* a time of day without a time zone */
    FHIR_PRIM_OUT_OF_RANGE, /* integer outside the type's range */
    FHIR_PRIM_EMPTY,        /* "" (https://hl7.org/fhir/R4/json.html: no empty values) */
    FHIR_PRIM_TOO_LONG,     /* string over 1 MiB characters (datatypes.html#string) */
    FHIR_PRIM_BAD_UUID,     /* a uri/url/canonical naming a malformed urn:uuid */
    FHIR_PRIM_BAD_OID       /* a uri/url/canonical naming a malformed urn:oid */
};

/*
 * Check the text of a string-valued primitive (everything except boolean,
 * integer, positiveInt, unsignedInt and decimal, whose JSON form is a
 * number or boolean — for those pass the literal text, e.g. "42", "1.50").
 * xhtml is checked by fhir_validate_xhtml().  Pure, no allocation.
 * Formats (R4 datatypes.html regexes, with calendar checks):
 *   id          [A-Za-z0-9\-\.]{1,64}
 *   code        [^\s]+(\s[^\s]+)*
 *   uri/url/canonical  \S*   (no whitespace); a value that starts with
 *               urn:uuid: names a uuid (8-4-4-4-12 hex digits, either case —
 *               upper case draws a warning from the validator — and an
 *               optional #fragment), one that starts with urn:oid: an oid
 *               (the oid regex below), as the HL7 validator checks them
 *   oid         urn:oid:[0-2](\.(0|[1-9][0-9]*))+
 *   uuid        urn:uuid: + lower-case 8-4-4-4-12 hex
 *   date        YYYY, YYYY-MM, YYYY-MM-DD (real dates, leap years)
 *   dateTime    date, or YYYY-MM-DDThh:mm:ss[.f+](Z|(+|-)hh:mm) — a time needs a zone
 *   instant     YYYY-MM-DDThh:mm:ss[.f+](Z|(+|-)hh:mm)
 *   time        hh:mm:ss[.f+]    (hh 00-23; ss may be 60, a leap second)
 *   decimal     -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 *   integer     -?(0|[1-9][0-9]*) in 32 bits; positiveInt >= 1; unsignedInt >= 0
 *   base64Binary RFC 4648 alphabet (+ and /), '=' padding, whitespace ignored
 *   string/markdown  non-empty, at most 1 MiB characters
 */
enum fhir_prim_fault fhir_validate_primitive(enum fhir_model_prim prim, const char *text,
                                             size_t len);

/* Client-safe text for a fault ("is not a valid dateTime"), for messages. */
const char *fhir_prim_fault_text(enum fhir_prim_fault f);

enum fhir_xhtml_fault {
    FHIR_XHTML_OK = 0,
    FHIR_XHTML_NOT_WELL_FORMED, /* not well-formed XML (undeclared entities too) */
    FHIR_XHTML_DOCTYPE,         /* a <!DOCTYPE ...> or other declaration */
    FHIR_XHTML_ROOT,            /* root is not <div> in the XHTML namespace */
    FHIR_XHTML_ELEMENT,         /* an element outside txt-1's list or namespace */
    FHIR_XHTML_ATTRIBUTE,       /* an attribute outside txt-1's list */
    FHIR_XHTML_SCRIPT,          /* script element, on* handler, javascript: URL */
    FHIR_XHTML_EMPTY,           /* no non-whitespace text and no image (txt-2) */
    FHIR_XHTML_IN_PARAGRAPH,    /* div, blockquote, table, ol, ul or p inside a p */
    FHIR_XHTML_NOMEM
};

/*
 * Check narrative XHTML (Narrative.div, https://hl7.org/fhir/R4/narrative.html):
 * well-formed, root div in the XHTML namespace, txt-1 and txt-2.  A
 * purpose-built checker settles the common valid narratives; everything it
 * does not prove valid is parsed with libxml2 (SAX, NONET, no entity
 * substitution, declarations refused), so neither ever reads files or the
 * network or expands entities, and every fault comes from libxml2.
 */
enum fhir_xhtml_fault fhir_validate_xhtml(const char *text, size_t len);

/*
 * The two halves of fhir_validate_xhtml(), for differential tests and fuzzing:
 * fhir_validate_xhtml_fast() is true only for narratives the purpose-built
 * checker proves valid (false means "not decided", not "invalid");
 * fhir_validate_xhtml_libxml2() is the libxml2 reference checker.  Invariant:
 * fast true implies libxml2 FHIR_XHTML_OK.
 */
bool fhir_validate_xhtml_fast(const char *text, size_t len);
enum fhir_xhtml_fault fhir_validate_xhtml_libxml2(const char *text, size_t len);
const char *fhir_xhtml_fault_text(enum fhir_xhtml_fault f);

/*
 * Does the valid dateTime `start` come after the valid dateTime `end`, as
 * Period's per-1 reads it?  A precision one of them lacks leaves the order
 * open (false), and a date without a zone may lie in any zone.  Converters
 * ask before writing a Period, so that what they write validates.
 */
bool fhir_validate_period_inverted(const char *start, size_t slen, const char *end, size_t elen);

/* The order of two valid FHIR decimals by value (-1, 0, 1), exactly, at any
 * precision: what Range's rng-2 compares. */
int fhir_validate_decimal_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif /* FHIR_VALIDATE_FHIR_VALIDATE_H */
