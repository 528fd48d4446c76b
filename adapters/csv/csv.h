/*
 * adapters/csv/csv.h — CSV exports (RFC 4180) to FHIR R4, streaming.
 *
 * Two layers:
 *
 *  1. csv_reader: an incremental RFC 4180 tokenizer.  Feed it bytes in any
 *     chunking; it calls back once per record.  Quoted fields, doubled
 *     quotes, CR/LF/CRLF line ends (also inside quotes), a UTF-8 BOM, and a
 *     delimiter given or detected from the first line (, ; TAB |).  Memory
 *     is bounded by the limits, whatever the file size.  A malformed record
 *     (broken quotes, too many columns, a field or record over its limit) is
 *     reported with its line and column and skipped; parsing resumes at the
 *     next record -- for an unbalanced quote that swallowed later lines, at
 *     the line after the one where the bad record started, so good rows
 *     after a bad one are never lost.
 *
 *  2. csv_load: a declarative mapping file (see docs/design/converters.md
 *     and adapters/csv/mappings/) turns each row -- or each group of
 *     consecutive rows -- into one FHIR resource, keyed by a business
 *     identifier, and hands out transaction Bundles of up to `batch_rows`
 *     resources through a callback.  Bad rows are reported (file, line,
 *     column, column name) and skipped or fail the load, as configured.
 *     A UTF-16 export (BOM) is decoded; a header that is not UTF-8 under a
 *     mapping without `encoding` is read as GB18030 when valid there.
 *
 * Pure: no file or network I/O; callers feed bytes.
 */
#ifndef ADAPTERS_CSV_CSV_H
#define ADAPTERS_CSV_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"

struct csv_limits {
    size_t max_columns; /* fields per record */
    size_t max_field;   /* bytes of one field (decoded) */
    size_t max_record;  /* bytes of one record as written (quotes included) */
    size_t max_mapping; /* bytes of a mapping file */
    size_t max_rules;   /* rules in a mapping file */
    size_t max_group;   /* rows merged into one resource */
};

/* Defaults from fhir/base/limits.h (BASE_LIMIT_CSV_*). */
struct csv_limits csv_limits_default(void);

/* ------------------------------------------------------------- reader */

struct csv_record {
    size_t line; /* physical line (1-based) where the record starts */
    size_t nfields;
    const struct base_str *field; /* nfields slices, valid during the callback */
    const size_t *field_line;     /* line of each field's first byte */
    const size_t *field_col;      /* column (1-based byte offset in its line) of each field */
};

/* Return BASE_OK to go on; a negative code stops the feed with that code. */
typedef int (*csv_record_fn)(void *ctx, const struct csv_record *rec);
/* A malformed record (already skipped).  err->where is "line L, column C".
 * Return BASE_OK to go on, negative to stop. */
typedef int (*csv_syntax_fn)(void *ctx, size_t line, size_t column, const struct base_err *err);

struct csv_reader; /* opaque; heap */

/* `delimiter` 0 = detect from the first line.  BASE_E_NOMEM. */
BASE_MUST_CHECK int csv_reader_new(char delimiter, const struct csv_limits *lim,
                                   csv_record_fn on_record, csv_syntax_fn on_syntax, void *ctx,
                                   struct csv_reader **out);
/* Feed the next bytes.  Returns BASE_OK or the first negative code a
 * callback returned (or BASE_E_NOMEM). */
BASE_MUST_CHECK int csv_reader_feed(struct csv_reader *r, const char *data, size_t len);
/* End of input: flushes the last record (with or without a final newline). */
BASE_MUST_CHECK int csv_reader_finish(struct csv_reader *r);
char csv_reader_delimiter(const struct csv_reader *r); /* 0 until known */
void csv_reader_free(struct csv_reader *r);

/* ------------------------------------------------------------ mapping */

struct csv_mapping; /* opaque; immutable once parsed; may be shared */

/*
 * Parse a mapping file.  Errors: BASE_E_PARSE / BASE_E_INVALID with
 * err->where "mapping line N", BASE_E_LIMIT, BASE_E_NOMEM.
 */
BASE_MUST_CHECK int csv_mapping_parse(const char *text, size_t len, const struct csv_limits *lim,
                                      struct csv_mapping **out, struct base_err *err);
void csv_mapping_free(struct csv_mapping *m);
const char *csv_mapping_resource(const struct csv_mapping *m); /* "Patient" */

/* --------------------------------------------------------------- load */

enum csv_on_error {
    CSV_ON_ERROR_MAPPING = 0, /* as the mapping file says (default: skip) */
    CSV_ON_ERROR_SKIP,        /* report the row, go on */
    CSV_ON_ERROR_FAIL         /* report the row, stop the load */
};

struct csv_load_options {
    const char *source_name;    /* file name in row errors ("-" if NULL) */
    enum csv_on_error on_error; /* overrides the mapping's on-error */
    size_t batch_rows;          /* resources per Bundle (0: default) */
    const char *default_tz;     /* zone for times without one ("+08:00"); NULL: date only */
};

struct csv_row_error {
    const char *file;
    size_t line;             /* physical line of the row */
    size_t column;           /* byte column in that line (1-based), 0 if none */
    const char *column_name; /* header name of the field, or NULL */
    const struct base_err *err;
};

struct csv_report {
    size_t rows;      /* data rows read (header excluded) */
    size_t rows_ok;   /* rows that contributed to a resource */
    size_t rows_bad;  /* rows reported and skipped */
    size_t resources; /* resources emitted */
    size_t bundles;   /* Bundles emitted */
};

/* A finished Bundle (new reference; the callee owns it).  Return BASE_OK or
 * a negative code to stop the load. */
typedef int (*csv_bundle_fn)(void *ctx, json_t *bundle);
typedef int (*csv_row_error_fn)(void *ctx, const struct csv_row_error *e);

struct csv_load; /* opaque; heap */

BASE_MUST_CHECK int csv_load_new(const struct csv_mapping *m, const struct csv_limits *lim,
                                 const struct csv_load_options *opt, csv_bundle_fn on_bundle,
                                 csv_row_error_fn on_row_error, void *ctx, struct csv_load **out,
                                 struct base_err *err);
/*
 * Feed bytes.  Errors: what a callback returned; BASE_E_INVALID when the
 * header lacks a column the mapping needs (where "line 1"); the row's error
 * when on-error is fail; BASE_E_NOMEM.
 */
BASE_MUST_CHECK int csv_load_feed(struct csv_load *l, const char *data, size_t len,
                                  struct base_err *err);
/* Flush the last row, group and Bundle; fill *report (may be NULL). */
BASE_MUST_CHECK int csv_load_finish(struct csv_load *l, struct csv_report *report,
                                    struct base_err *err);
void csv_load_free(struct csv_load *l);

/* Everything at once (CLI, tests): one Bundle with every resource.  Row
 * errors go to on_row_error (may be NULL). */
BASE_MUST_CHECK int csv_convert(const struct csv_mapping *m, const char *data, size_t len,
                                const struct csv_limits *lim, const struct csv_load_options *opt,
                                csv_row_error_fn on_row_error, void *ctx, json_t **out,
                                struct csv_report *report, struct base_err *err);

#endif /* ADAPTERS_CSV_CSV_H */
