/*
 * adapters/csv/csv_int.h — the parsed form of a mapping file, shared by the
 * mapping parser (csv_map.c), the row evaluator (csv_eval.c) and the loader
 * (csv_load.c).
 */
#ifndef ADAPTERS_CSV_CSV_INT_H
#define ADAPTERS_CSV_CSV_INT_H

#include "adapters/csv/csv.h"
#include "fhir/base/arena.h"
#include "fhir/base/buf.h"

/* One step of an element path: `name`, `name[3]`, `name[+]`, `name[=]`. */
enum csv_seg_op {
    SEG_FIELD, /* plain member */
    SEG_INDEX, /* name[N] */
    SEG_NEW,   /* name[+]: a new array element (per row) */
    SEG_LAST   /* name[=]: the element the last [+] made (or a new one) */
};

struct csv_seg {
    const char *name;
    enum csv_seg_op op;
    size_t index; /* SEG_INDEX */
};

struct csv_path {
    struct csv_seg *seg;
    size_t n;
};

/* A column reference {A,B?}: the first of the names present in the
 * header; optional ones may be missing from it. */
struct csv_colref {
    const char **names;
    size_t nnames;
    bool optional;
};

struct csv_part {
    const char *literal; /* when colref == SIZE_MAX */
    size_t colref;       /* index into mapping->colrefs */
};

struct csv_template {
    struct csv_part *parts;
    size_t nparts;
};

enum csv_xf_kind {
    XF_DATE,       /* date FORMAT... -> FHIR date */
    XF_DATETIME,   /* datetime FORMAT... -> FHIR dateTime */
    XF_DECIMAL,    /* -> JSON number, text kept; `comparator`: after one */
    XF_COMPARATOR, /* "<0.5" -> "<" (Quantity.comparator), no comparator -> nothing */
    XF_INTEGER,    /* -> JSON integer (32-bit) */
    XF_BOOLEAN,    /* true/false/yes/no/y/n/1/0 -> JSON boolean */
    XF_MAP,        /* map A=x B=y *=z -> code */
    XF_REF,        /* ref Type System -> {"reference": "Type?identifier=System|v"} */
    XF_UUID,       /* -> "urn:uuid:<v5 uuid of the value>" */
    XF_UPPER,
    XF_LOWER
};

struct csv_transform {
    enum csv_xf_kind kind;
    const char **args;
    size_t nargs;
};

enum csv_cond_op {
    COND_SET, /* when COL     : not empty */
    COND_EQ,  /* when COL=x   */
    COND_NE,  /* when COL!=x  */
    COND_NUM, /* when COL~number  : a decimal number */
    COND_TEXT /* when COL!~number : not empty, not a number */
};

struct csv_cond {
    size_t colref;
    enum csv_cond_op op;
    const char *value;
};

/* PATH = TEMPLATE [| TRANSFORM ARGS]... [when COND]... [required] */
struct csv_rule {
    size_t line; /* in the mapping file */
    struct csv_path path;
    struct csv_template tpl;
    struct csv_transform *xf;
    size_t nxf;
    struct csv_cond *cond;
    size_t ncond;
    bool required;
};

struct csv_mapping {
    struct base_arena *arena; /* everything below lives here */
    const char *resource;
    char delimiter;       /* 0: detect */
    const char *encoding; /* NULL: UTF-8 */
    enum csv_on_error on_error;
    const char *id_system; /* identity SYSTEM TEMPLATE [| transforms] */
    struct csv_rule identity;
    bool grouped;
    struct csv_template group;
    const char **nulls; /* `null` directive: cells read as empty (NULL: the default) */
    size_t nnulls;
    const char **columns; /* `columns` directive: names when there is no header */
    size_t ncolumns;
    struct csv_rule *rules;
    size_t nrules;
    struct csv_colref *colrefs;
    size_t ncolrefs;
};

/* ---- csv_eval.c ------------------------------------------------------ */

/* The cells a mapping reads as empty (its `null` directive, or the default). */
const char *const *csv_mapping_nulls(const struct csv_mapping *m, size_t *n);

/* One data row as the evaluator sees it. */
struct csv_row {
    const struct csv_record *rec;
    const size_t *colidx;     /* per colref: field index, or SIZE_MAX if absent */
    const char *const *names; /* header names */
    const char *default_tz;
    void *iconv; /* iconv_t for non-UTF-8 files, or NULL */
    const char *const *nulls; /* cells read as empty */
    size_t nnulls;
    struct base_buf *scratch;
    struct base_buf *conv;
};

/* Where a row error points: the field that caused it. */
struct csv_blame {
    size_t column;    /* byte column, 0 if none */
    const char *name; /* column name, or NULL */
};

/*
 * Evaluate `rule` for `row`: *out is the value to store (new reference) or
 * NULL when the rule does not apply (condition false, or empty value).
 * Errors (BASE_E_INVALID with a message, blame filled): a transform failed
 * or a required value is empty.
 */
BASE_MUST_CHECK int csv_eval_rule(const struct csv_mapping *m, const struct csv_rule *rule,
                                  const struct csv_row *row, json_t **out, struct csv_blame *blame,
                                  struct base_err *err);
/* Expand a template to text (no transforms) into row->scratch. */
BASE_MUST_CHECK int csv_expand(const struct csv_template *t, const struct csv_row *row,
                               struct csv_blame *blame, struct base_err *err);
/* Store `v` (consumed) at `path` in `res`; a member that is already set
 * keeps its first value.  BASE_E_INVALID when the path runs into a value of
 * another shape (a mapping mistake). */
BASE_MUST_CHECK int csv_path_set(json_t *res, const struct csv_path *path, json_t *v,
                                 struct base_err *err);

/* ---- csv_date.c ------------------------------------------------------ */

/* Text in one of `formats` ("YYYY-MM-DD", "M/D/YYYY", "YYYY-MM-DDThh:mm:ss",
 * or "iso" for ISO 8601 / FHIR forms) to a FHIR date or dateTime. Returns
 * the length written, 0 when no format matches. */
size_t csv_date_parse(struct base_str text, const char *const *formats, size_t nformats,
                      bool want_date, const char *default_tz, char *out, size_t cap);

#endif /* ADAPTERS_CSV_CSV_INT_H */
