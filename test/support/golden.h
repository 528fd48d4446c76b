/*
 * test/support/golden.h — data-driven golden cases for converters.
 *
 * Layout: test/golden/<format>/<case>/input.<ext> (plus optional
 * mapping.map for CSV) and either expected.json (the converter's output,
 * compared after parsing, so formatting and key order do not matter) or
 * expected.err (one line "rc issue_code where", e.g. "limit too-costly
 * ClinicalDocument").  UPDATE_GOLDEN=1 rewrites the expected files from the
 * actual results (review the diff before committing).  On a mismatch the
 * actual output is written to build/golden-actual/<format>/<case>.json.
 */
#ifndef TEST_SUPPORT_GOLDEN_H
#define TEST_SUPPORT_GOLDEN_H

#include <stddef.h>

#include <jansson.h>

#include "fhir/base/err.h"

/* Convert one case.  `dir` is the case folder (for side files such as a
 * mapping); data/len the input bytes. */
typedef int (*tu_golden_fn)(const char *dir, const char *data, size_t len, json_t **out,
                            struct base_err *err);

/* Run every case of `format`; prints one line per failure to stderr and
 * returns the number of failures.  *cases (optional) gets the case count. */
int tu_golden_run(const char *format, tu_golden_fn fn, size_t *cases);

#endif /* TEST_SUPPORT_GOLDEN_H */
