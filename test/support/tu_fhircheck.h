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

#include "test/support/tu_http.h"

/* Fails the running Check test when `r` is declared application/fhir+json
 * and its body has validation errors (warnings are allowed); names `what`
 * (e.g. "GET /fhir/Patient?...") and the first problem's location. */
void tu_assert_fhir_answer(const char *what, const struct tu_http_resp *r);

/* The same for a body and raw header block held elsewhere. */
void tu_assert_fhir_body(const char *what, long status, const char *headers, const char *body,
                         size_t len);

#endif
