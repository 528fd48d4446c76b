/*
 * fhirgate validate [--format json|ndjson|xml] [--type TYPE] [--errors-only]
 *                   [--max-issues N] FILE...
 *
 * Validates each FILE ("-" for stdin) against FHIR R4 and prints every
 * problem on stderr as "FILE: LOCATION: severity: code: message" (for
 * NDJSON, FILE is "FILE:LINE").  Exit 0 when every resource is valid
 * (warnings allowed), 1 otherwise, 2 on a usage error.
 *
 * Input formats are a table: a format turns bytes into resources and hands
 * each to validate_one(); FHIR XML joins by adding a row whose function
 * converts the document to a JSON tree and calls validate_one().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"
#include "fhir/xml/fhir_xml.h"
#include "gateway/cli/cli.h"

struct vopts {
    struct fhir_validate_opts v;
    const char *format; /* NULL: by file name */
};

/* Print the problems of one resource; true when it is valid. */
static bool
report(const char *label, json_t *oo, const struct fhir_validate_result *r, int rc)
{
    fhir_outcome_print(stderr, label, oo);
    if (r->truncated)
        fprintf(stderr, "%s: more than %zu problems; the rest are not shown\n", label,
                json_array_size(json_object_get(oo, "issue")));
    if (rc == BASE_E_NOMEM)
        fprintf(stderr, "%s: could not validate: out of memory\n", label);
    json_decref(oo);
    return rc == BASE_OK;
}

/* Validate one JSON resource text; print its problems; true when valid.
 * (A format that yields a tree, such as FHIR XML converted to JSON, calls
 * fhir_validate() on the tree and report() the same way.) */
static bool
validate_one(const char *label, const char *data, size_t len, const struct vopts *o)
{
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result r = {0};

    if (oo == NULL) {
        fprintf(stderr, "%s: could not validate: out of memory\n", label);
        return false;
    }
    return report(label, oo, &r, fhir_validate_json(data, len, &o->v, oo, &r, NULL));
}

typedef bool (*input_fn)(const char *path, const char *data, size_t len, const struct vopts *o);

/* FHIR XML: converted to a tree and validated by the same rules
 * (fhir_xml_validate), plus what only XML can get wrong. */
static bool
input_xml(const char *path, const char *data, size_t len, const struct vopts *o)
{
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result r = {0};

    if (oo == NULL) {
        fprintf(stderr, "%s: could not validate: out of memory\n", path);
        return false;
    }
    return report(path, oo, &r, fhir_xml_validate(data, len, &o->v, oo, &r, NULL));
}

/* Without --format, a document that starts with '<' is XML. */
static bool
input_json(const char *path, const char *data, size_t len, const struct vopts *o)
{
    if (o->format == NULL && fhir_xml_sniff(data, len))
        return input_xml(path, data, len, o);
    return validate_one(path, data, len, o);
}

/* One resource per line (FHIR Bulk Data NDJSON); blank lines are skipped. */
static bool
input_ndjson(const char *path, const char *data, size_t len, const struct vopts *o)
{
    bool ok = true;
    size_t line = 0;
    const char *p = data;
    const char *end = data + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;
        char label[4096];
        bool blank = true;

        line++;
        for (const char *q = p; q < eol && blank; q++)
            blank = (*q == ' ' || *q == '\t' || *q == '\r');
        if (!blank) {
            snprintf(label, sizeof(label), "%s:%zu", path, line);
            ok &= validate_one(label, p, (size_t)(eol - p), o);
        }
        p = eol + (nl != NULL);
    }
    return ok;
}

/* Sorted by name; the first matching suffix picks the format when
 * --format is not given. */
static const struct {
    const char *name;
    const char *suffix;
    input_fn fn;
} formats[] = {
    {"json", ".json", input_json},
    {"ndjson", ".ndjson", input_ndjson},
    {"xml", ".xml", input_xml},
};

static input_fn
pick_format(const char *name, const char *path)
{
    size_t pl = strlen(path);

    for (size_t i = 0; i < BASE_ARRAY_LEN(formats); i++) {
        size_t sl = strlen(formats[i].suffix);

        if (name != NULL ? strcmp(name, formats[i].name) == 0
                         : (pl >= sl && strcmp(path + pl - sl, formats[i].suffix) == 0))
            return formats[i].fn;
    }
    return name == NULL ? input_json : NULL;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: fhirgate validate [--format json|ndjson|xml] [--type TYPE] [--errors-only]\n"
               "                         [--max-issues N] FILE...\n\n"
               "Validates FHIR R4 resources (\"-\" reads stdin) against the R4 core\n"
               "definitions and prints each problem on stderr as\n"
               "  FILE: LOCATION: severity: code: message\n"
               "The format follows the file name (.ndjson: one resource per line, .xml:\n"
               "FHIR XML, else JSON, or XML when the content starts with '<') unless\n"
               "--format is given.  --type requires that resourceType.\n"
               "Exit status: 0 all valid (warnings allowed), 1 a problem, 2 usage.\n");
}

static bool
parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);

    if (s[0] < '0' || s[0] > '9' || end == NULL || *end != '\0' || v == 0 || v > 1000000)
        return false;
    *out = (size_t)v;
    return true;
}

int
cli_cmd_validate(int argc, char **argv)
{
    struct vopts o = {0};
    int first_file = 0;
    bool ok = true;

    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            o.format = argv[++i];
        } else if (strcmp(a, "--type") == 0 && i + 1 < argc) {
            o.v.expect_type = argv[++i];
        } else if (strcmp(a, "--errors-only") == 0) {
            o.v.no_warnings = true;
        } else if (strcmp(a, "--max-issues") == 0 && i + 1 < argc) {
            if (!parse_size(argv[++i], &o.v.max_issues)) {
                fprintf(stderr, "fhirgate validate: bad value for --max-issues\n");
                return CLI_USAGE;
            }
        } else if (strcmp(a, "--") == 0) {
            first_file = i + 1;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "fhirgate validate: bad argument '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file == 0 || first_file >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (o.format != NULL && pick_format(o.format, "") == NULL) {
        fprintf(stderr, "fhirgate validate: unknown format '%s'\n", o.format);
        return CLI_USAGE;
    }
    for (int i = first_file; i < argc; i++) {
        size_t len;
        char *data = cli_read_file(argv[i], BASE_LIMIT_FHIR_MAX_DOC, &len);

        if (data == NULL) {
            ok = false;
            continue;
        }
        ok &= pick_format(o.format, argv[i])(argv[i], data, len, &o);
        base_free(data);
    }
    return ok ? CLI_OK : CLI_FAILED;
}
