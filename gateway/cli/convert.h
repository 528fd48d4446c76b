/*
 * gateway/cli/convert.h — the converters behind `fhirgate convert`.
 *
 * A converter turns one input file's bytes into one FHIR resource (a
 * Bundle when the input gives several resources).  It is pure: no I/O.
 */
#ifndef GATEWAY_CLI_CONVERT_H
#define GATEWAY_CLI_CONVERT_H

#include <stddef.h>

#include <jansson.h>

#include "fhir/base/err.h"

struct cli_convert_opts {
    const char *mapping_path; /* --mapping FILE (CSV), else NULL */
    const char *codemap_dir;  /* --codemaps DIR (local code maps), else NULL */
    const char *source_name;  /* input file name, for Provenance/diagnostics */
};

/* Convert `data`/`len`; on success *out is a new reference. */
typedef int (*cli_convert_fn)(const char *data, size_t len, const struct cli_convert_opts *opts,
                              json_t **out, struct base_err *err);

struct cli_converter {
    const char *from; /* value of --from */
    const char *what; /* one line for --help */
    cli_convert_fn fn;
};

/* FHIR JSON in: parse (and so check) the document and pass it through. */
int cli_convert_fhir_json(const char *data, size_t len, const struct cli_convert_opts *opts,
                          json_t **out, struct base_err *err);

/* CDA R2, CSV (opts->mapping_path required) and DICOM JSON: convert_docs.c. */
int cli_convert_cda(const char *data, size_t len, const struct cli_convert_opts *opts,
                    json_t **out, struct base_err *err);
int cli_convert_csv(const char *data, size_t len, const struct cli_convert_opts *opts,
                    json_t **out, struct base_err *err);
int cli_convert_dicom_json(const char *data, size_t len, const struct cli_convert_opts *opts,
                           json_t **out, struct base_err *err);

/* HL7 v2 in: adapters/hl7v2 (files of many messages give a collection of
 * transaction Bundles); --codemaps DIR applies local code maps. */
int cli_convert_hl7v2(const char *data, size_t len, const struct cli_convert_opts *opts,
                      json_t **out, struct base_err *err);

#endif /* GATEWAY_CLI_CONVERT_H */
