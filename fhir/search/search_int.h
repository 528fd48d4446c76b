/*
 * fhir/search/search_int.h — internals shared by the fhir/search files.
 */
#ifndef FHIR_SEARCH_SEARCH_INT_H
#define FHIR_SEARCH_SEARCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/arena.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "fhir/search/fhir_search.h"

/* ---- the table (params_r4.c) ------------------------------------------ */

const struct fhir_search_param_def *sp_table_common(size_t *n);
const struct fhir_search_param_def *sp_table_resources(size_t *n);

/* ---- the FHIRPath subset of the table (path.c) ---------------------------
 * The R4 expressions of the supported parameters use only: navigation
 * (a.b.c), unions (|), ofType(T) / as(T) / "x as T" on choice elements,
 * where(resolve() is T), where(child='literal'), and Patient.deceased's
 * "X.exists() and X != false".  They compile into this form once. */

#define SP_MAX_STEPS 8
#define SP_MAX_ALTS  6

enum sp_where {
    SP_WHERE_NONE,
    SP_WHERE_RESOLVE_IS, /* where(resolve() is T): a reference to a T */
    SP_WHERE_EQ          /* where(name='literal') */
};

struct sp_step {
    char name[40];    /* element name ("effective", "subject") */
    char of_type[24]; /* choice type filter ("Quantity"), "" for none */
    enum sp_where where;
    char where_a[32]; /* RESOLVE_IS: the type; EQ: the child name */
    char where_b[32]; /* EQ: the literal */
};

struct sp_path {
    struct sp_step steps[SP_MAX_STEPS];
    size_t n_steps;
};

struct sp_expr {
    struct sp_path alts[SP_MAX_ALTS];
    size_t n_alts;
    bool exists_not_false; /* "X.exists() and X != false": boolean token */
};

/* Compile `expr` for resource `root`; false when outside the subset. */
bool sp_compile(const char *expr, struct sp_expr *out);

/* The compiled form of a table entry (compiled once, thread-safe); NULL if
 * `def` is not from the table or its expression did not compile. */
const struct sp_expr *sp_expr_of(const struct fhir_search_param_def *def);

/* One element reached by a path. */
struct sp_node {
    const json_t *v;
    const char *type; /* FHIR type known from a choice suffix ("Period"), or NULL */
};

/* Evaluate `e` on `resource`; nodes in the arena.  BASE_E_LIMIT past max. */
int sp_eval(struct base_arena *a, const json_t *resource, const struct sp_expr *e,
            struct sp_node **out, size_t *n_out, size_t max);

/* Resource type a reference string points to, from "Type/id", an absolute
 * ".../Type/id[/_history/v]" or a "#id" into resource.contained; NULL/0. */
struct base_str sp_reference_type(const json_t *resource, struct base_str ref);

/* Is s a FHIR resource type name shape ([A-Z][A-Za-z]*)? */
bool sp_is_type_name(struct base_str s);

/* ---- decimals (dec.c) ------------------------------------------------- */

/* Half a unit of the last digit on each side: the implicit range of a
 * value's precision (R4 §3.1.1.4.1: 100 means [99.5, 100.5)). */
void sp_dec_precision_range(struct fhir_search_dec v, struct fhir_search_dec *low,
                            struct fhir_search_dec *high);
/* v ± |v|/10 (ap: "approximately", 10%). */
void sp_dec_approx_range(struct fhir_search_dec v, struct fhir_search_dec *low,
                         struct fhir_search_dec *high);

/* ---- dates (datetime.c) ----------------------------------------------- */

/* Like fhir_search_date_range, but a space may stand for the '+' of a
 * timezone (an unencoded '+' in a URL arrives as a space). */
bool sp_date_range_lenient(const char *s, size_t len, int64_t *low, int64_t *high);

/* ---- small helpers ---------------------------------------------------- */

/* Copy of a slice into the arena; NULL on exhaustion. */
static inline char *
sp_dup(struct base_arena *a, struct base_str s)
{
    return base_str_dup0(a, s);
}

/* String member `key` of object `o` as a C string (NULL when absent or not
 * a real string). */
const char *sp_get_str(const json_t *o, const char *key);

#endif /* FHIR_SEARCH_SEARCH_INT_H */
