/*
 * `fhirgate convert` for documents the adapters take besides HL7 v2: CDA,
 * CSV exports and DICOM JSON.  Thin wrappers: the converters are pure and
 * live in adapters/; here are the file reads and the messages.
 */
#include <stdio.h>

#include "adapters/cda/cda.h"
#include "fhir/outcome/fhir_outcome.h"
#include "gateway/cli/convert.h"

/* Skipped values are worth seeing but do not fail the conversion. */
static void
print_warnings(const struct cli_convert_opts *opts, json_t *warnings)
{
    if (warnings != NULL && json_array_size(json_object_get(warnings, "issue")) > 0)
        fhir_outcome_print(stderr, opts->source_name != NULL ? opts->source_name : "-", warnings);
    json_decref(warnings);
}

int
cli_convert_cda(const char *data, size_t len, const struct cli_convert_opts *opts, json_t **out,
                struct base_err *err)
{
    json_t *warnings = NULL;
    int rc = cda_to_bundle(data, len, NULL, NULL, out, &warnings, err);

    print_warnings(opts, warnings);
    return rc;
}
