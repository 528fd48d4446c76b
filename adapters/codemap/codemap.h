/*
 * adapters/codemap/codemap.h — a hospital's local code -> standard code maps.
 *
 * One CSV file per local code system in a directory (UTF-8, RFC 4180
 * quoting, a header row naming the columns, any order, extra columns
 * ignored):
 *
 *   local_system,local_code,target_system,target_code,target_display
 *   99LAB,GLU,LN,2345-7,Glucose [Mass/volume] in Serum or Plasma
 *   99LAB,GLU,SCT,33747003,Glucose measurement
 *
 * local_system is what the converters see: a v2 coding system name
 * (CWE-3, "99LAB"), the field a code came from when the sender names no
 * system ("OBX-3"), or a system URI.  target_system is a URI or one of the
 * names LN/LOINC, SCT/SNOMED, I10/ICD-10, ICD-10-CN, UCUM, RXNORM, ATC,
 * GB/T 2261.1 …  Several rows for one local code give several standard
 * codings.  The converters keep the local coding and add the standard ones;
 * codes not found keep their local system and are counted in a report.
 *
 * A loaded map is immutable: share it between threads freely.  The report
 * is guarded by its own mutex.
 */
#ifndef ADAPTERS_CODEMAP_CODEMAP_H
#define ADAPTERS_CODEMAP_CODEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"

struct codemap;
struct codemap_report;

struct codemap_limits {
    size_t max_file;     /* bytes of one CSV file */
    size_t max_field;    /* bytes of one CSV field */
    size_t max_rows;     /* rows over all files */
    size_t max_unmapped; /* distinct unmapped codes kept per system in a report */
};

#define CODEMAP_LIMITS_DEFAULT                                                                     \
    ((struct codemap_limits){BASE_LIMIT_CODEMAP_MAX_FILE, BASE_LIMIT_CODEMAP_MAX_FIELD,            \
                             BASE_LIMIT_CODEMAP_MAX_ROWS, BASE_LIMIT_CODEMAP_MAX_UNMAPPED})

struct codemap_target {
    const char *system; /* canonical URI */
    const char *code;
    const char *display;               /* may be NULL */
    const struct codemap_target *next; /* another standard coding, or NULL */
};

/*
 * Load every "*.csv" file of `dir` (sorted by name).  A bad file or line
 * fails the whole load: err->where is "FILE:LINE:COLUMN" (COLUMN is the
 * 1-based byte column where the problem starts), err->msg says why.
 * Errors: BASE_E_IO (cannot read), BASE_E_PARSE, BASE_E_INVALID (missing
 * column, unknown target system, conflicting duplicate), BASE_E_LIMIT.
 */
BASE_MUST_CHECK int codemap_load_dir(const char *dir, const struct codemap_limits *lim,
                                     struct codemap **out, struct base_err *err);
/* The same for CSV text in memory; `name` is used in locations. */
BASE_MUST_CHECK int codemap_load_buffer(struct codemap *cm, const char *name, const char *data,
                                        size_t len, struct base_err *err);
/* An empty map (to fill with codemap_load_buffer). */
BASE_MUST_CHECK struct codemap *codemap_new(const struct codemap_limits *lim);
void codemap_free(struct codemap *cm);
size_t codemap_size(const struct codemap *cm); /* local codes mapped */

/* Standard codings for a local (system, code); NULL when unmapped.
 * `system` may be the v2 name or the URI the converter derived. */
const struct codemap_target *codemap_lookup(const struct codemap *cm, struct base_str system,
                                            struct base_str code);

/* Canonical URI for a target system name ("LN" -> "http://loinc.org");
 * NULL when the name is neither known nor a URI. */
const char *codemap_system_uri(struct base_str name);

/* An absolute URI the converters accept as a system: http(s): or urn:, no
 * whitespace or control bytes, and a valid FHIR uri (a urn:uuid or urn:oid
 * that is well formed). */
bool codemap_is_uri(struct base_str s);

/* --- hook for adapters/mapkit (the CDA and CSV converters) ----------------- */

struct adapter_coding;

/* The `ctx` of a struct adapter_codemap whose fn is codemap_adapter_fn. */
struct codemap_hook {
    const struct codemap *map;
    struct codemap_report *report; /* NULL: no counting */
};

/*
 * adapter_codemap_fn over a code map: the first standard coding of
 * (system, code) into *out (strings owned by the map), noted in the hook's
 * report as mapped or unmapped.  Use as
 *   struct codemap_hook hook = {map, report};
 *   opts.codemap = (struct adapter_codemap){codemap_adapter_fn, &hook};
 */
bool codemap_adapter_fn(void *hook, const char *system, const char *code,
                        struct adapter_coding *out);

/* --- report ----------------------------------------------------------------- */

BASE_MUST_CHECK struct codemap_report *codemap_report_new(size_t max_unmapped);
void codemap_report_free(struct codemap_report *r);
/* Count one local code seen by a converter (thread-safe). */
void codemap_report_note(struct codemap_report *r, struct base_str system, struct base_str code,
                         bool mapped);
/*
 * The report as JSON:
 *   {"systems":[{"system":"…","mapped":12,"unmapped":3,
 *                "unmapped_codes":["X1","X2"],"unmapped_codes_dropped":0}, …]}
 * sorted by system.  *out is a new reference; NULL on out of memory.
 */
json_t *codemap_report_json(struct codemap_report *r);

/*
 * Every count of the report, for a caller that keeps them elsewhere (the
 * adapter adds one message's counts to its store when the message
 * commits): per system, the uses of mapped codes (code NULL, mapped true),
 * the uses of each listed unmapped code, and the uses of unmapped codes
 * past the list's bound (code NULL, mapped false).  Counts are > 0.
 */
typedef void codemap_use_fn(void *ctx, const char *system, const char *code, bool mapped,
                            uint64_t count);
void codemap_report_foreach(struct codemap_report *r, codemap_use_fn *fn, void *ctx);

#endif /* ADAPTERS_CODEMAP_CODEMAP_H */
