/*
 * fhir/summary/fhir_summary.h — the subsets of a resource that R4's
 * _summary asks for (search.html#summary):
 *
 *   true  "a limited subset of elements from the resource ... solely of all
 *         supported elements that are marked as 'summary' in the base
 *         definition" (ElementDefinition.isSummary, R4 4.0.1; also inside
 *         backbone elements: Observation.component keeps code and value);
 *   text  "only the text element, the id element, the meta element, and
 *         only top-level mandatory elements".
 *
 * Either way the result also keeps resourceType, every element of minimum
 * cardinality 1 (so that it stays a valid resource) and is tagged SUBSETTED
 * (v3-ObservationValue), so that nobody takes it for the whole.  The
 * summary elements come from schemas/fhir/r4-summary.json.
 */
#ifndef FHIR_SUMMARY_FHIR_SUMMARY_H
#define FHIR_SUMMARY_FHIR_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum fhir_summary_mode { FHIR_SUMMARY_TRUE, FHIR_SUMMARY_TEXT };

/* Is `path` ("code", "component.code", a choice by its base name) a summary
 * element of resource type `type`? */
bool fhir_summary_is_element(const char *type, const char *path, size_t path_len);

/* The subset of `res` (a resource of a known type) into *out (a new
 * reference).  BASE_E_INVALID when it is not a resource of an R4 type,
 * BASE_E_NOMEM. */
int fhir_summary_subset(const json_t *res, enum fhir_summary_mode mode, json_t **out);

/* Tag a subset SUBSETTED (v3-ObservationValue) in its meta (R4
 * search.html#summary, #elements): also for _elements and _summary=data.
 * BASE_E_NOMEM. */
int fhir_summary_tag_subsetted(json_t *res);

#endif /* FHIR_SUMMARY_FHIR_SUMMARY_H */
