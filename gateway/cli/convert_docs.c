/*
 * `fhirgate convert` for documents the adapters take besides HL7 v2: CDA,
 * CSV exports and DICOM JSON.  Thin wrappers: the converters are pure and
 * live in adapters/; here are the file reads and the messages.
 */
#include <stdio.h>

#include "adapters/cda/cda.h"
#include "adapters/csv/csv.h"
#include "adapters/dicomweb/dicomweb.h"
#include "fhir/base/arena.h"
#include "fhir/outcome/fhir_outcome.h"
#include "gateway/cli/cli.h"
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

static int
print_row_error(void *ctx, const struct csv_row_error *e)
{
    (void)ctx;
    fprintf(stderr, "%s: %s: error: %s: %s\n", e->file, e->err->where, e->err->issue_code,
            e->err->msg);
    return BASE_OK;
}

int
cli_convert_csv(const char *data, size_t len, const struct cli_convert_opts *opts, json_t **out,
                struct base_err *err)
{
    struct csv_load_options lo = {.source_name = opts->source_name};
    struct csv_mapping *m = NULL;
    struct csv_report rep = {0};
    size_t mlen = 0;
    char *text;
    int rc;

    if (opts->mapping_path == NULL)
        return base_err_set(err, BASE_E_INVALID, "required", "--mapping",
                            "csv input needs --mapping FILE (see adapters/csv/mappings)");
    text = cli_read_file(opts->mapping_path, 0, &mlen);
    if (text == NULL)
        return base_err_set(err, BASE_E_IO, "exception", "--mapping", "could not read mapping");
    rc = csv_mapping_parse(text, mlen, NULL, &m, err);
    base_free(text);
    if (rc != BASE_OK) {
        fprintf(stderr, "%s: %s: %s\n", opts->mapping_path, err->where, err->msg);
        return rc;
    }
    rc = csv_convert(m, data, len, NULL, &lo, print_row_error, NULL, out, &rep, err);
    csv_mapping_free(m);
    if (rep.rows_bad > 0)
        fprintf(stderr, "%s: %zu of %zu rows rejected, %zu resources converted\n",
                opts->source_name != NULL ? opts->source_name : "-", rep.rows_bad, rep.rows,
                rep.resources);
    return rc;
}

int
cli_convert_dicom_json(const char *data, size_t len, const struct cli_convert_opts *opts,
                       json_t **out, struct base_err *err)
{
    json_t *warnings = NULL;
    int rc = dicomweb_to_bundle(data, len, NULL, NULL, out, &warnings, err);

    print_warnings(opts, warnings);
    return rc;
}
