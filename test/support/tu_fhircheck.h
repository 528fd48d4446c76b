/*
 * test/support/tu_fhircheck.h — every FHIR JSON answer a test receives
 * must be valid FHIR R4.
 *
 * A real client (HAPI's, fhir.js, a SMART app) refuses or misreads an
 * invalid Bundle, so a server bug of that kind is a failed test wherever
 * the answer passes through a test, not only where a test thinks to look.
 */
#ifndef TEST_SUPPORT_TU_FHIRCHECK_H
#define TEST_SUPPORT_TU_FHIRCHECK_H

#include <check.h>
#include <stdlib.h>

#include "test/support/tu_http.h"

/* NULL when `body` is not declared application/fhir+json in `headers` or
 * has no validation errors (warnings are allowed); otherwise a description
 * of the first problem with its location (malloc'd).  Check-free, so that
 * benchmarks can link test/support too. */
char *tu_fhir_body_problem(const char *headers, const char *body, size_t len);

/* Fails the running Check test when the answer is not valid FHIR, naming
 * `what` (e.g. "GET /fhir/Patient?...") and the problem. */
static inline void
tu_assert_fhir_body(const char *what, long status, const char *headers, const char *body,
                    size_t len)
{
    char *problem = tu_fhir_body_problem(headers, body, len);

    if (problem != NULL)
        ck_abort_msg("%s: the answer (%ld) is not valid FHIR: %s", what, status, problem);
}

static inline void
tu_assert_fhir_answer(const char *what, const struct tu_http_resp *r)
{
    tu_assert_fhir_body(what, r->status, r->headers, r->body, r->body_len);
}

#endif
