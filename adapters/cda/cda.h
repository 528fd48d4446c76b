/*
 * adapters/cda/cda.h — HL7 CDA R2 documents (C-CDA R2.1, China's WS/T 500
 * shared documents) to a FHIR R4 transaction Bundle.
 *
 * One call converts one document:
 *   header recordTarget          -> Patient
 *   author / legalAuthenticator  -> Practitioner (+ Organization)
 *   custodian, providerOrganization, serviceProvider -> Organization
 *   componentOf/encompassingEncounter -> Encounter
 *   structured sections with coded entries, by templateId or LOINC section
 *   code (see the table in cda_sections.c):
 *     problems, admission/discharge diagnoses -> Condition
 *     medications (incl. admission/discharge) -> MedicationStatement
 *     allergies                              -> AllergyIntolerance
 *     results                                -> DiagnosticReport + Observation
 *     vital signs                            -> Observation
 *     procedures                             -> Procedure
 *     immunizations                          -> Immunization
 *     goals                                  -> Goal
 *     family history                         -> FamilyMemberHistory
 *     care teams, documentationOf/serviceEvent performers -> CareTeam
 *   section confidentialityCode and DS4P privacy annotations -> the
 *     mapped resources' meta.security
 *   the whole document -> DocumentReference with the original XML as an
 *     attachment (application/hl7-cda+xml, base64, SHA-1, size), so nothing
 *     that is not mapped is lost; a nonXMLBody (PDF, text, or a reference;
 *     deflate/gzip/zlib-compressed ones inflated, up to max_inflated)
 *     becomes a second attachment.
 *
 * Every resource carries a business identifier (the CDA id, or one derived
 * deterministically from the document id and the entry's position), and the
 * Bundle entries are conditional updates on it (adapters/mapkit), so
 * re-ingesting the same document changes nothing.
 *
 * Security (STYLE.md 3.6): libxml2 with XML_PARSE_NONET (+ NO_XXE where the
 * library has it), never entity substitution or DTD loading; a document that
 * declares entities or an external DTD is refused (billion laughs, XXE);
 * element depth and node count are capped by `struct cda_limits`.
 *
 * Pure: no I/O, no logging.  Values that cannot be mapped (an invalid date,
 * an entry without a patient) are skipped and reported as warnings; they
 * are still in the attached original.
 */
#ifndef ADAPTERS_CDA_CDA_H
#define ADAPTERS_CDA_CDA_H

#include <stddef.h>

#include <jansson.h>

#include "adapters/mapkit/mapkit.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct cda_limits {
    size_t max_doc;      /* bytes of one document */
    size_t max_depth;    /* element nesting */
    size_t max_nodes;    /* nodes (elements, text, attributes) in the tree */
    size_t max_entries;  /* resources in the resulting Bundle */
    size_t max_warnings; /* issues listed in the warnings; the rest counted */
    size_t max_inflated; /* bytes a compressed nonXMLBody may inflate to */
};

/* Defaults from fhir/base/limits.h (BASE_LIMIT_CDA_*). */
struct cda_limits cda_limits_default(void);

struct cda_options {
    /* Offset for CDA times that carry none ("+08:00"); NULL keeps only the
     * date of such times rather than inventing a zone. */
    const char *default_tz;
    /* Reference (e.g. "Patient/123" or a urn:uuid) used for the subject when
     * the input has no recordTarget (a section fragment); NULL: entries that
     * need a patient are skipped with a warning. */
    const char *patient_ref;
    /* Local code -> standard code map (adapters/codemap); fn NULL: none. */
    struct adapter_codemap codemap;
};

/*
 * Convert one CDA document (`xml`, `len` bytes, need not be NUL-terminated).
 * On success *out is a new reference to a transaction Bundle and, when
 * `warnings` is not NULL, *warnings a new OperationOutcome listing what was
 * skipped (empty issue list when nothing was).  `opt` may be NULL.
 * Errors: BASE_E_LIMIT (size, depth, nodes, entries), BASE_E_PARSE (not
 * well-formed XML: err->where "line L"), BASE_E_INVALID (not a CDA document
 * or section, or refused DTD/entities: issue "security"), BASE_E_NOMEM.
 */
BASE_MUST_CHECK int cda_to_bundle(const char *xml, size_t len, const struct cda_limits *lim,
                                  const struct cda_options *opt, json_t **out, json_t **warnings,
                                  struct base_err *err);

#endif /* ADAPTERS_CDA_CDA_H */
