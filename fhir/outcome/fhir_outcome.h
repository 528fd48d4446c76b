/*
 * fhir/outcome/fhir_outcome.h — OperationOutcome resources.
 *
 * Every error that leaves a program over HTTP is an OperationOutcome; the
 * CLI prints the same issues one per line.  Messages are client-safe: they
 * never quote input values (see fhir/base/err.h).
 */
#ifndef FHIR_OUTCOME_FHIR_OUTCOME_H
#define FHIR_OUTCOME_FHIR_OUTCOME_H

#include <stdio.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

/* New empty OperationOutcome ({"resourceType":"OperationOutcome","issue":[]});
 * NULL when out of memory.  Caller owns the reference. */
json_t *fhir_outcome_new(void);

/*
 * Append one issue.  `severity` is fatal|error|warning|information, `code`
 * an IssueType code (structure, required, value, invariant, code-invalid,
 * not-found, security, forbidden, login, too-costly, timeout, exception,
 * processing, not-supported, business-rule, informational, transient, …).
 * `location` (FHIRPath-like, may be NULL) goes to `expression` (R4) and, for
 * older clients, `location`; `diagnostics` (may be NULL) is free text.
 * Returns BASE_OK or BASE_E_NOMEM.
 */
BASE_MUST_CHECK int fhir_outcome_add(json_t *oo, const char *severity, const char *code,
                                     const char *location, const char *diagnostics);

/* One-issue OperationOutcome (severity "error") from an error value. */
json_t *fhir_outcome_from_err(const struct base_err *err);

/* Number of issues with severity fatal or error. */
size_t fhir_outcome_error_count(const json_t *oo);

/*
 * Print every issue as "PREFIX: LOCATION: severity: code: diagnostics" (one
 * per line; LOCATION omitted when absent).  `prefix` is typically a file name.
 */
void fhir_outcome_print(FILE *out, const char *prefix, const json_t *oo);

#endif /* FHIR_OUTCOME_FHIR_OUTCOME_H */
