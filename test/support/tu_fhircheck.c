/*
 * test/support/tu_fhircheck.c — validation of FHIR JSON answers in tests.
 */
#include "test/support/tu_fhircheck.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"

/* application/fhir+json in the header block, any case, with or without
 * parameters; several header blocks (redirects, 100 Continue) are fine. */
static bool
declares_fhir_json(const char *headers)
{
    return headers != NULL && strcasestr(headers, "content-type: application/fhir+json") != NULL;
}

void
tu_assert_fhir_body(const char *what, long status, const char *headers, const char *body,
                    size_t len)
{
    struct fhir_validate_result vr = {0};
    struct fhir_validate_opts vo = {0};
    struct base_err err = {0};
    json_t *oo;
    int rc;

    if (!declares_fhir_json(headers) || body == NULL || len == 0)
        return;
    oo = fhir_outcome_new();
    ck_assert_ptr_nonnull(oo);
    vo.no_warnings = true;
    rc = fhir_validate_json(body, len, &vo, oo, &vr, &err);
    if (rc != BASE_OK || vr.errors > 0) {
        char *issue = json_dumps(json_array_get(json_object_get(oo, "issue"), 0), JSON_COMPACT);

        ck_abort_msg("%s: the answer (%ld) is not valid FHIR: %zu error(s), first %s", what,
                     status, vr.errors, issue != NULL ? issue : err.msg);
    }
    json_decref(oo);
}

void
tu_assert_fhir_answer(const char *what, const struct tu_http_resp *r)
{
    tu_assert_fhir_body(what, r->status, r->headers, r->body, r->body_len);
}
