/*
 * gateway/app/report_fmt.h — the regulators' report (JSON from
 * gw_audit_report) as CSV or HTML.  Pure: a tree in, text out.
 */
#ifndef GATEWAY_APP_REPORT_FMT_H
#define GATEWAY_APP_REPORT_FMT_H

#include <jansson.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"

/* Append the report as CSV (RFC 4180, CRLF lines).  BASE_E_LIMIT when
 * `b` is full. */
BASE_MUST_CHECK int gw_app_report_csv(const json_t *report, struct base_buf *b);
/* Append the report as an HTML page (every value escaped). */
BASE_MUST_CHECK int gw_app_report_html(const json_t *report, struct base_buf *b);

#endif /* GATEWAY_APP_REPORT_FMT_H */
