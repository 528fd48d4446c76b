#include "fhir/outcome/fhir_outcome.h"

#include <string.h>

json_t *
fhir_outcome_new(void)
{
    return json_pack("{s:s, s:[]}", "resourceType", "OperationOutcome", "issue");
}

int
fhir_outcome_add(json_t *oo, const char *severity, const char *code, const char *location,
                 const char *diagnostics)
{
    json_t *issues = json_object_get(oo, "issue");
    json_t *issue;

    if (issues == NULL || !json_is_array(issues))
        return BASE_E_INTERNAL;
    issue = json_pack("{s:s, s:s}", "severity", severity, "code", code);
    if (issue == NULL)
        return BASE_E_NOMEM;
    if (diagnostics != NULL && diagnostics[0] != '\0' &&
        json_object_set_new(issue, "diagnostics", json_string(diagnostics)) != 0)
        goto nomem;
    if (location != NULL && location[0] != '\0') {
        if (json_object_set_new(issue, "location", json_pack("[s]", location)) != 0 ||
            json_object_set_new(issue, "expression", json_pack("[s]", location)) != 0)
            goto nomem;
    }
    if (json_array_append_new(issues, issue) != 0)
        return BASE_E_NOMEM;
    return BASE_OK;
nomem:
    json_decref(issue);
    return BASE_E_NOMEM;
}

json_t *
fhir_outcome_from_err(const struct base_err *err)
{
    json_t *oo = fhir_outcome_new();
    const char *code = (err != NULL && err->issue_code[0] != '\0') ? err->issue_code : "exception";
    const char *msg = (err != NULL && err->msg[0] != '\0') ? err->msg : "request failed";

    if (oo == NULL)
        return NULL;
    if (fhir_outcome_add(oo, "error", code, err != NULL ? err->where : NULL, msg) != BASE_OK) {
        json_decref(oo);
        return NULL;
    }
    return oo;
}

size_t
fhir_outcome_error_count(const json_t *oo)
{
    json_t *issues = json_object_get(oo, "issue");
    size_t n = 0;

    for (size_t i = 0; i < json_array_size(issues); i++) {
        const char *sev = json_string_value(json_object_get(json_array_get(issues, i), "severity"));

        if (sev != NULL && (strcmp(sev, "error") == 0 || strcmp(sev, "fatal") == 0))
            n++;
    }
    return n;
}

void
fhir_outcome_print(FILE *out, const char *prefix, const json_t *oo)
{
    json_t *issues = json_object_get(oo, "issue");

    for (size_t i = 0; i < json_array_size(issues); i++) {
        json_t *is = json_array_get(issues, i);
        json_t *expr = json_object_get(is, "expression");
        const char *loc = json_string_value(json_array_get(expr, 0));
        const char *sev = json_string_value(json_object_get(is, "severity"));
        const char *code = json_string_value(json_object_get(is, "code"));
        const char *diag = json_string_value(json_object_get(is, "diagnostics"));

        fprintf(out, "%s: ", prefix != NULL ? prefix : "-");
        if (loc != NULL)
            fprintf(out, "%s: ", loc);
        fprintf(out, "%s: %s: %s\n", sev != NULL ? sev : "error", code != NULL ? code : "exception",
                diag != NULL ? diag : "");
    }
}
