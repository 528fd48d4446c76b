/*
 * fhirgate convert --from FORMAT --to fhir-json|fhir-xml [--mapping M]
 *                  [--codemaps DIR] FILE
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "adapters/codemap/codemap.h"
#include "adapters/hl7v2/hl7v2_map.h"
#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/xml/fhir_xml.h"
#include "gateway/cli/cli.h"
#include "gateway/cli/convert.h"

static int
convert_fhir_xml(const char *data, size_t len, const struct cli_convert_opts *opts, json_t **out,
                 struct base_err *err)
{
    int rc;

    (void)opts;
    rc = fhir_xml_read(data, len, NULL, NULL, out, err);
    if (rc != BASE_OK) {
        json_decref(*out); /* a partial tree is no conversion */
        *out = NULL;
    }
    return rc;
}

/* One line per input format, sorted by name. */
static const struct cli_converter converters[] = {
    {"cda", "HL7 CDA R2 document (C-CDA, WS/T 500) as a transaction Bundle", cli_convert_cda},
    {"csv", "CSV export, with --mapping FILE, as a transaction Bundle", cli_convert_csv},
    {"dicom-json", "DICOM JSON (QIDO-RS, WADO-RS metadata) as ImagingStudy", cli_convert_dicom_json},
    {"fhir-json", "FHIR R4 JSON (checked and re-serialized)", cli_convert_fhir_json},
    {"fhir-xml", "FHIR R4 XML", convert_fhir_xml},
    {"hl7v2", "HL7 v2 ER7 messages, files and batches -> transaction Bundle", cli_convert_hl7v2},
};

int
cli_convert_fhir_json(const char *data, size_t len, const struct cli_convert_opts *opts,
                      json_t **out, struct base_err *err)
{
    (void)opts;
    return fhir_json_parse(data, len, NULL, out, err);
}

static void
hl7v2_warning(void *ctx, size_t index, uint32_t line, const char *where, const char *msg)
{
    fprintf(stderr, "%s: message %zu (line %u): %s: warning: %s\n", (const char *)ctx, index + 1,
            (unsigned)line, where, msg);
}

int
cli_convert_hl7v2(const char *data, size_t len, const struct cli_convert_opts *opts, json_t **out,
                  struct base_err *err)
{
    struct hl7v2_map_opts mo = HL7V2_MAP_OPTS_DEFAULT;
    struct hl7v2_file_opts fo = {.map = &mo, .on_warning = hl7v2_warning,
                                 .ctx = (void *)(uintptr_t)opts->source_name};
    struct codemap *cm = NULL;
    int rc;

    if (opts->codemap_dir != NULL) {
        TRY(codemap_load_dir(opts->codemap_dir, NULL, &cm, err));
        mo.codemap = cm;
        mo.codemap_report = codemap_report_new(0);
    }
    rc = hl7v2_convert_file(data, len, &fo, out, err);
    if (mo.codemap_report != NULL) {
        json_t *rep = codemap_report_json(mo.codemap_report);
        struct base_buf text;

        base_buf_init(&text, 0);
        if (rep != NULL && fhir_json_dump(rep, FHIR_JSON_COMPACT, &text, NULL) == BASE_OK)
            fprintf(stderr, "%s: code maps: %s\n", opts->source_name, text.data);
        base_buf_fini(&text);
        json_decref(rep);
    }
    codemap_report_free(mo.codemap_report);
    codemap_free(cm);
    return rc;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: fhirgate convert --from FORMAT [--to fhir-json|fhir-xml] [--mapping FILE]\n"
               "                        [--codemaps DIR] FILE\n\n"
               "Converts FILE (\"-\" for stdin) to FHIR R4 and prints it on stdout; a Bundle\n"
               "when the input gives several resources.  Input formats:\n");
    for (size_t i = 0; i < sizeof(converters) / sizeof(converters[0]); i++)
        fprintf(f, "  %-11s %s\n", converters[i].from, converters[i].what);
    fprintf(f, "Output formats: fhir-json, fhir-xml\n");
}

static const struct cli_converter *
find_converter(const char *from)
{
    for (size_t i = 0; i < sizeof(converters) / sizeof(converters[0]); i++) {
        if (strcmp(converters[i].from, from) == 0)
            return &converters[i];
    }
    return NULL;
}

static int
write_output(const json_t *res, const char *to)
{
    struct base_buf b;
    struct base_err err = {0};
    int rc = CLI_FAILED;
    bool xml = strcmp(to, "fhir-xml") == 0;

    if (!xml && strcmp(to, "fhir-json") != 0) {
        fprintf(stderr, "fhirgate convert: unknown output format '%s'\n", to);
        return CLI_USAGE;
    }
    base_buf_init(&b, 0);
    if ((xml ? fhir_xml_write(res, FHIR_XML_PRETTY, &b, &err)
             : fhir_json_dump(res, FHIR_JSON_PRETTY, &b, &err)) == BASE_OK &&
        fwrite(b.data, 1, b.len, stdout) == b.len)
        rc = CLI_OK;
    else
        fprintf(stderr, "fhirgate convert: could not write output: %s\n", err.msg);
    base_buf_fini(&b);
    return rc;
}

int
cli_cmd_convert(int argc, char **argv)
{
    struct cli_convert_opts opts = {0};
    const char *from = NULL;
    const char *to = "fhir-json";
    const char *file = NULL;
    const struct cli_converter *conv;
    struct base_err err = {0};
    json_t *res = NULL;
    char *data;
    size_t len;
    int rc;

    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--from") == 0       ? &from
                            : strcmp(argv[i], "--to") == 0       ? &to
                            : strcmp(argv[i], "--mapping") == 0  ? &opts.mapping_path
                            : strcmp(argv[i], "--codemaps") == 0 ? &opts.codemap_dir
                                                                 : NULL;

        if (slot != NULL && i + 1 < argc) {
            *slot = argv[++i];
        } else if (slot == NULL && argv[i][0] != '-' && file == NULL) {
            file = argv[i];
        } else if (slot == NULL && strcmp(argv[i], "-") == 0 && file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "fhirgate convert: bad argument '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (from == NULL || file == NULL) {
        usage(stderr);
        return CLI_USAGE;
    }
    conv = find_converter(from);
    if (conv == NULL) {
        fprintf(stderr, "fhirgate convert: unknown input format '%s'\n", from);
        return CLI_USAGE;
    }
    data = cli_read_file(file, 0, &len);
    if (data == NULL)
        return CLI_FAILED;
    opts.source_name = file;
    rc = conv->fn(data, len, &opts, &res, &err);
    base_free(data);
    if (rc != BASE_OK) {
        fprintf(stderr, "%s: %s%s%s\n", file, err.where, err.where[0] ? ": " : "", err.msg);
        return CLI_FAILED;
    }
    rc = write_output(res, to);
    json_decref(res);
    return rc;
}
