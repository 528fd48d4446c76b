/*
 * test/support/tu_fhircheck.c — validation of FHIR JSON answers in tests.
 */
#include "test/support/tu_fhircheck.h"

#include <stdio.h>
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

char *
tu_fhir_body_problem(const char *headers, const char *body, size_t len)
{
    struct fhir_validate_result vr = {0};
    struct fhir_validate_opts vo = {0};
    struct base_err err = {0};
    char *issue;
    char *out = NULL;
    json_t *oo;
    int rc;

    if (!declares_fhir_json(headers) || body == NULL || len == 0)
        return NULL;
    if ((oo = fhir_outcome_new()) == NULL)
        return strdup("out of memory");
    vo.no_warnings = true;
    rc = fhir_validate_json(body, len, &vo, oo, &vr, &err);
    if (rc != BASE_OK || vr.errors > 0) {
        issue = json_dumps(json_array_get(json_object_get(oo, "issue"), 0), JSON_COMPACT);
        if (asprintf(&out, "%zu error(s), first %s", vr.errors, issue != NULL ? issue : err.msg) <
            0)
            out = strdup("not valid");
        free(issue);
    }
    json_decref(oo);
    return out;
}
