/*
 * fhir/search/fhir_search.h — FHIR R4 search: parameter definitions, query
 * parsing, index-value extraction, matching and sorting.  Pure: no SQL, no
 * I/O; everything is allocated in the caller's arena.
 *
 * Two users share one code path (FHIR R4 §3.1.1 "Search"):
 *   - the adapter's PostgreSQL store calls fhir_search_extract() for every
 *     parameter of a resource it writes and stores the typed values in its
 *     index tables, and turns a parsed struct fhir_search into SQL itself;
 *   - the gateway (and tests) evaluate a parsed search against a resource
 *     with fhir_search_match(), which uses the same extraction.
 *
 * Error texts never quote a value from the query (it may be patient data);
 * err->where names the parameter as written ("date", "subject:Patient").
 */
#ifndef FHIR_SEARCH_FHIR_SEARCH_H
#define FHIR_SEARCH_FHIR_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct base_arena;

/* ------------------------------------------------------------------------
 * Parameter definitions (params_r4.c: the table, read like the spec)
 * ---------------------------------------------------------------------- */

enum fhir_search_type {
    FHIR_SEARCH_NUMBER,
    FHIR_SEARCH_DATE,
    FHIR_SEARCH_STRING,
    FHIR_SEARCH_TOKEN,
    FHIR_SEARCH_REFERENCE,
    FHIR_SEARCH_QUANTITY,
    FHIR_SEARCH_URI
};

struct fhir_search_param_def {
    const char *resource; /* "Observation"; "Resource" for the common ones */
    const char *name;     /* "code", "_lastUpdated" */
    enum fhir_search_type type;
    const char *expression;  /* FHIRPath as published in R4 search-parameters */
    const char *targets;     /* reference targets, space separated; NULL = any */
    const char *code_system; /* implicit system of a bound `code` element, or NULL */
};

/* Definition of `name` (name_len bytes, no modifier) for `resource_type`,
 * including the common parameters; NULL when unknown. */
const struct fhir_search_param_def *fhir_search_param_find(const char *resource_type,
                                                           const char *name, size_t name_len);

/* Every definition that applies to `resource_type` (its own, then the
 * common ones) into out[0..cap); returns how many exist (may exceed cap). */
size_t fhir_search_params_for(const char *resource_type, const struct fhir_search_param_def **out,
                              size_t cap);

/* The whole table: the resource types' own parameters (sorted by type,
 * then name) in *res, the common ones in *common.  What a store indexes
 * follows it, so its fingerprint says when stored index rows are stale. */
void fhir_search_params_table(const struct fhir_search_param_def **res, size_t *n_res,
                              const struct fhir_search_param_def **common, size_t *n_common);

/* Is `type` one of the resource types whose parameters the table holds? */
bool fhir_search_resource_known(const char *type);

/* Is `type` (len bytes) a target the reference parameter `def` allows? */
bool fhir_search_param_allows_target(const struct fhir_search_param_def *def, const char *type,
                                     size_t len);

const char *fhir_search_type_name(enum fhir_search_type t); /* "token", … */

/* ------------------------------------------------------------------------
 * Values shared by parsing and extraction
 * ---------------------------------------------------------------------- */

/* An exact decimal: mant × 10^exp, at most 17 significant digits.  Keeps
 * the precision of its text ("5.40" is {540, -2}). */
struct fhir_search_dec {
    int64_t mant;
    int32_t exp;
};

/* Parse decimal text (JSON number grammar, leading '+' refused). */
BASE_MUST_CHECK bool fhir_search_dec_parse(const char *s, size_t len, struct fhir_search_dec *out);
/* -1, 0, 1 by value (5.40 == 5.4). */
int fhir_search_dec_cmp(struct fhir_search_dec a, struct fhir_search_dec b);
/* Shortest decimal text of d ("-12.5", "0.001", "1.5e30"); cap >= 48. */
size_t fhir_search_dec_format(struct fhir_search_dec d, char *buf, size_t cap);
double fhir_search_dec_double(struct fhir_search_dec d);

/* Dates are [low, high) in microseconds since 1970-01-01T00:00:00Z. */
#define FHIR_SEARCH_TIME_MIN INT64_MIN /* open start */
#define FHIR_SEARCH_TIME_MAX INT64_MAX /* open end */

/*
 * A FHIR date, dateTime or instant ("2020", "2020-03", "2020-03-04",
 * "2020-03-04T10:00" (search only), "…T10:00:05.25+08:00") as the range it
 * denotes at its precision.  Without a timezone the time is taken as UTC.
 * Returns false when the text is not such a value.
 */
BASE_MUST_CHECK bool fhir_search_date_range(const char *s, size_t len, int64_t *low, int64_t *high);

/* Case- and accent-insensitive form of UTF-8 text (lower case, Latin /
 * Greek / Cyrillic diacritics and pinyin tone marks removed, full-width
 * ASCII folded).  NULL when the arena is exhausted. */
char *fhir_search_normalize(struct base_arena *a, const char *s, size_t len);

/* ------------------------------------------------------------------------
 * Extraction: the typed index values of one parameter in one resource
 * ---------------------------------------------------------------------- */

struct fhir_search_index {
    enum fhir_search_type type;
    const json_t *node; /* the element it came from (borrowed from the resource) */
    union {
        struct {
            const char *system; /* NULL: none */
            const char *code;   /* NULL: text only (CodeableConcept.text) */
            const char *text;   /* display / CodeableConcept.text / Identifier.type.text */
        } token;
        struct {
            const char *value; /* as in the resource */
            const char *norm;  /* fhir_search_normalize(value) */
        } string;
        struct {
            int64_t low; /* FHIR_SEARCH_TIME_MIN when open */
            int64_t high;
        } date;
        struct {
            const char *type;      /* "Patient"; NULL when unknown */
            const char *id;        /* NULL for a URN, canonical or identifier-only */
            const char *version;   /* _history version or canonical |version */
            const char *url;       /* absolute URL, URN or canonical; NULL if relative */
            const char *id_system; /* Reference.identifier, for :identifier */
            const char *id_value;
        } reference;
        struct {
            struct fhir_search_dec low; /* == high for a single value */
            struct fhir_search_dec high;
            bool low_open;      /* Range without low / comparator "<" */
            bool high_open;     /* Range without high / comparator ">" */
            const char *system; /* unit system */
            const char *code;   /* unit code */
            const char *unit;   /* human unit */
        } quantity;             /* also number (no units) */
        struct {
            const char *value;
        } uri;
    } u;
};

/*
 * Evaluate `def` on `resource` and return its index values in *out (arena
 * array, *n_out entries; none when the element is absent).  Elements whose
 * text is not a valid value of their type (a malformed date) are skipped,
 * not errors: the store indexes what it can.  BASE_E_LIMIT past
 * BASE_LIMIT_SEARCH_MAX_INDEX_VALUES, BASE_E_NOMEM, BASE_E_INVALID when
 * `resource` is not a resource of def->resource.
 */
BASE_MUST_CHECK int fhir_search_extract(struct base_arena *a, const json_t *resource,
                                        const struct fhir_search_param_def *def,
                                        struct fhir_search_index **out, size_t *n_out,
                                        struct base_err *err);

/* ------------------------------------------------------------------------
 * Parsed searches (the AST)
 * ---------------------------------------------------------------------- */

enum fhir_search_modifier {
    FHIR_SEARCH_MOD_NONE,
    FHIR_SEARCH_MOD_EXACT,
    FHIR_SEARCH_MOD_CONTAINS,
    FHIR_SEARCH_MOD_MISSING,
    FHIR_SEARCH_MOD_NOT,
    FHIR_SEARCH_MOD_TEXT,
    FHIR_SEARCH_MOD_ABOVE,
    FHIR_SEARCH_MOD_BELOW,
    FHIR_SEARCH_MOD_IDENTIFIER,
    FHIR_SEARCH_MOD_TYPE, /* reference :[Type]; the type is in clause.modifier_type */
    FHIR_SEARCH_MOD_OF_TYPE
};

enum fhir_search_prefix {
    FHIR_SEARCH_EQ,
    FHIR_SEARCH_NE,
    FHIR_SEARCH_GT,
    FHIR_SEARCH_LT,
    FHIR_SEARCH_GE,
    FHIR_SEARCH_LE,
    FHIR_SEARCH_SA,
    FHIR_SEARCH_EB,
    FHIR_SEARCH_AP
};

enum fhir_search_token_form {
    FHIR_SEARCH_TOKEN_CODE,        /* code: any system */
    FHIR_SEARCH_TOKEN_SYSTEM_CODE, /* system|code */
    FHIR_SEARCH_TOKEN_NO_SYSTEM,   /* |code: no system */
    FHIR_SEARCH_TOKEN_SYSTEM_ANY   /* system|: any code in the system */
};

/* One search value (one of the comma-separated alternatives). */
struct fhir_search_value {
    enum fhir_search_prefix prefix; /* EQ when absent or not applicable */
    const char *text;               /* unescaped value, prefix removed */
    union {
        struct {
            enum fhir_search_token_form form;
            const char *system;
            const char *code;
            const char *type_system; /* :of-type only */
            const char *type_code;
        } token;
        struct {
            const char *norm; /* normalized text for default / :contains */
        } string;
        struct {
            int64_t low;
            int64_t high;
        } date;
        struct {
            const char *type;    /* NULL when only an id was given */
            const char *id;      /* NULL for an absolute URL off this server / canonical */
            const char *version; /* "_history/v" or canonical "|v" */
            const char *url;     /* absolute URL or canonical as given */
        } reference;
        struct {
            struct fhir_search_dec value;
            struct fhir_search_dec low; /* implicit range from the text's precision */
            struct fhir_search_dec high;
            const char *system; /* NULL: any */
            const char *code;   /* NULL: any */
        } quantity;             /* number too */
        bool missing;           /* :missing=true|false */
    } u;
};

/* One parameter occurrence: its values are ORed; clauses are ANDed. */
struct fhir_search_clause {
    const struct fhir_search_param_def *def;
    const char *name;      /* as written, with modifier ("subject:Patient") */
    const char *raw_value; /* percent-decoded value, escapes kept */
    enum fhir_search_modifier modifier;
    const char *modifier_type; /* FHIR_SEARCH_MOD_TYPE: the resource type */
    struct fhir_search_value *values;
    size_t n_values;
};

struct fhir_search_sort_key {
    const struct fhir_search_param_def *def;
    bool desc; /* "-name" */
};

struct fhir_search_include {
    bool rev;      /* _revinclude */
    bool iterate;  /* :iterate (or R3 :recurse) */
    bool wildcard; /* "*" */
    const char *source_type;
    const char *param;
    const char *target_type; /* NULL when not given */
};

/* Can one _include/_revinclude be served at all: not :iterate, a known
 * source type, a reference parameter of it (or "*"), a Target that
 * parameter may refer to.  BASE_E_INVALID naming "_include" or
 * "_revinclude" otherwise (issue not-supported for :iterate, else value). */
BASE_MUST_CHECK int fhir_search_include_check(const struct fhir_search_include *inc,
                                              struct base_err *err);

enum fhir_search_summary {
    FHIR_SEARCH_SUMMARY_ABSENT,
    FHIR_SEARCH_SUMMARY_TRUE,
    FHIR_SEARCH_SUMMARY_TEXT,
    FHIR_SEARCH_SUMMARY_DATA,
    FHIR_SEARCH_SUMMARY_COUNT,
    FHIR_SEARCH_SUMMARY_FALSE
};

enum fhir_search_total {
    FHIR_SEARCH_TOTAL_ABSENT,
    FHIR_SEARCH_TOTAL_NONE,
    FHIR_SEARCH_TOTAL_ESTIMATE,
    FHIR_SEARCH_TOTAL_ACCURATE
};

/* A parameter ignored under lenient handling. */
struct fhir_search_warning {
    const char *param; /* the name as written, or "(unprintable)" */
    const char *msg;   /* client-safe reason */
};

struct fhir_search {
    const char *resource_type;
    struct fhir_search_clause *clauses; /* ANDed */
    size_t n_clauses;
    uint32_t count;     /* effective page size (default or capped _count) */
    bool count_given;   /* _count was in the query */
    bool count_capped;  /* _count exceeded the maximum */
    uint64_t offset;    /* _offset (0 when absent) */
    const char *cursor; /* _cursor: opaque paging cursor, NULL when absent */
    struct fhir_search_sort_key *sort;
    size_t n_sort;
    const char **elements; /* _elements */
    size_t n_elements;
    enum fhir_search_summary summary;
    enum fhir_search_total total;
    const char *format;                   /* _format as given (NULL when absent) */
    int pretty;                           /* _pretty: -1 absent, 0 false, 1 true */
    struct fhir_search_include *includes; /* parsed so callers can refuse them */
    size_t n_includes;
    struct fhir_search_warning *warnings;
    size_t n_warnings;
};

/* Prefer: handling=strict|lenient (FHIR R4 §3.1.1.5.12). */
enum fhir_search_handling {
    FHIR_SEARCH_STRICT, /* unknown / unsupported parameters are errors */
    FHIR_SEARCH_LENIENT /* they are ignored and listed as warnings */
};

struct fhir_search_options {
    enum fhir_search_handling handling;
    size_t max_query; /* bytes of the query string */
    size_t max_params;
    size_t max_param_len;
    size_t max_or_values;
    uint32_t default_count;
    uint32_t max_count;
};

/* Defaults from fhir/base/limits.h, strict handling. */
struct fhir_search_options fhir_search_options_default(void);

/* Handling named by a Prefer header value ("handling=lenient, return=…");
 * `dflt` when the header is NULL or says nothing about handling. */
enum fhir_search_handling fhir_search_handling_from_prefer(const char *prefer,
                                                           enum fhir_search_handling dflt);

/*
 * Parse the query string of `GET [base]/[resource_type]?query` (raw,
 * percent-encoded, without '?'; '+' means space as in HTML forms).
 * Unknown, unsupported and malformed parameters are BASE_E_INVALID with
 * issue code "invalid"/"not-supported"/"value" and err->where naming the
 * parameter; under lenient handling unknown and unsupported ones become
 * warnings instead (malformed values of known parameters stay errors: a
 * silently dropped filter would widen the result).  BASE_E_LIMIT past a
 * limit, BASE_E_NOMEM.  `opt` may be NULL for the defaults.
 */
BASE_MUST_CHECK int fhir_search_parse(struct base_arena *a, const char *resource_type,
                                      const char *query, size_t len,
                                      const struct fhir_search_options *opt,
                                      struct fhir_search **out, struct base_err *err);

/*
 * The query the search stands for, for Bundle.link self/next: accepted
 * parameters in their received order, percent-encoded, then _sort,
 * _count, _elements, _summary, _total, _include, _revinclude; paging
 * (_cursor, _offset) and presentation (_format, _pretty) left out.  NULL
 * when the arena is exhausted.
 */
char *fhir_search_canonical_query(struct base_arena *a, const struct fhir_search *s);

/* Append the lenient-mode warnings to an OperationOutcome (severity
 * warning, code not-supported, location = parameter). */
BASE_MUST_CHECK int fhir_search_warnings_to_outcome(const struct fhir_search *s, json_t *oo);

/* ------------------------------------------------------------------------
 * Matching and sorting
 * ---------------------------------------------------------------------- */

struct fhir_search_match_opts {
    int64_t now_us;       /* "now" for ap on dates; 0 = the real clock */
    const char *base_url; /* this server's base ("https://h/fhir"): absolute
                             references under it match relative ones; may be NULL */
};

/*
 * Does `resource` satisfy every clause of `s` (R4 semantics for each type,
 * prefix and modifier)?  *out is set on BASE_OK.  `scratch` holds
 * temporaries only; a child arena is used and released per call.  `opt`
 * may be NULL.
 */
BASE_MUST_CHECK int fhir_search_match(const struct fhir_search *s, const json_t *resource,
                                      const struct fhir_search_match_opts *opt,
                                      struct base_arena *scratch, bool *out, struct base_err *err);

/* Does one clause hold for `resource`? (fhir_search_match is the AND of these.) */
BASE_MUST_CHECK int fhir_search_match_clause(const struct fhir_search_clause *c,
                                             const json_t *resource,
                                             const struct fhir_search_match_opts *opt,
                                             struct base_arena *scratch, bool *out,
                                             struct base_err *err);

/* A precomputed sort key of one resource for one _sort key.  Compute it
 * once per resource, then compare: O(n) extractions for an O(n log n) sort. */
struct fhir_search_sortval {
    bool present; /* false: the resource has no value (sorts last) */
    enum fhir_search_type type;
    int64_t time;               /* date: low (ascending) or high (descending) */
    struct fhir_search_dec num; /* number / quantity */
    const char *str;            /* string (normalized), token code, reference, uri */
    const char *str2;           /* token system */
};

/* Ascending keys take the lowest value of a multi-valued element and
 * descending keys the highest (R4 §3.1.1.4.3). */
BASE_MUST_CHECK int fhir_search_sort_value(struct base_arena *a, const json_t *resource,
                                           const struct fhir_search_sort_key *key,
                                           struct fhir_search_sortval *out, struct base_err *err);

/* Order of two keys for `desc`; absent values come last either way. */
int fhir_search_sortval_cmp(const struct fhir_search_sortval *x,
                            const struct fhir_search_sortval *y, bool desc);

/* qsort-style comparator over resources for s->sort (stable ties: 0).
 * Errors (out of memory) compare as equal. */
int fhir_search_compare(const struct fhir_search *s, const json_t *x, const json_t *y,
                        struct base_arena *scratch);

#endif /* FHIR_SEARCH_FHIR_SEARCH_H */
