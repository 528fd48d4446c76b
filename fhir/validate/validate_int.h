/*
 * fhir/validate/validate_int.h — shared state of the validator's files
 * (validate.c: context, issues, API; walk.c: the tree walk; rules.c:
 * references, bindings and invariants).  Only fhir/validate includes it.
 */
#ifndef FHIR_VALIDATE_VALIDATE_INT_H
#define FHIR_VALIDATE_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"
#include "fhir/model/fhir_model.h"
#include "fhir/model/gen/model_ids.h"
#include "fhir/validate/fhir_validate.h"

/* Path segments kept for locations; deeper paths are cut with "...". */
#define VAL__MAX_SEGS 160u

enum val__sev {
    VAL__ERROR,
    VAL__WARNING
};

/* One step of a location: ".name" then "[index]" when index >= 0. */
struct val__seg {
    const char *name;
    size_t len;
    long index;
};

struct val__ctx {
    json_t *oo;              /* NULL: count only */
    struct base_err *err;    /* first error goes here (may be NULL) */
    size_t max_issues;
    size_t max_depth;
    bool no_warnings;
    int rc;                  /* BASE_E_NOMEM once the outcome could not grow */
    struct fhir_validate_result res;

    size_t depth;            /* objects entered */
    bool depth_reported;

    /* Resource context (saved and restored around nested resources). */
    const json_t *root;      /* the resource whose contained[] local refs use */
    bool in_contained;       /* walking a contained resource */
    bool in_transaction;     /* inside a transaction or batch Bundle */

    size_t nsegs;            /* segments in use (may exceed VAL__MAX_SEGS) */
    struct val__seg segs[VAL__MAX_SEGS]; /* last: not cleared by ctx_init */
};

/* Report a problem at the current location, with `extra` (NULL or a
 * property name of len bytes) appended as one more step. */
void val__issue(struct val__ctx *c, enum val__sev sev, const char *code, const char *extra,
                size_t extra_len, const char *fmt, ...) BASE_PRINTF(6, 7);

static inline void
val__push(struct val__ctx *c, const char *name, size_t len, long index)
{
    if (c->nsegs < VAL__MAX_SEGS)
        c->segs[c->nsegs] = (struct val__seg){name, len, index};
    c->nsegs++;
}

static inline void
val__set_index(struct val__ctx *c, long index)
{
    if (c->nsegs - 1 < VAL__MAX_SEGS)
        c->segs[c->nsegs - 1].index = index;
}

static inline void
val__pop(struct val__ctx *c)
{
    c->nsegs--;
}

/* Walk one resource (any type, by its resourceType). */
enum {
    VAL__RES_TOP = 0,
    VAL__RES_CONTAINED = 1, /* an item of DomainResource.contained */
    VAL__RES_NESTED = 2     /* Bundle.entry.resource, Parameters.parameter.resource, ... */
};
void val__resource(struct val__ctx *c, const json_t *v, unsigned how, const char *expect);

/* Walk a value of type `t` (any kind) found in element `e` (may be NULL). */
void val__value(struct val__ctx *c, const json_t *v, const struct fhir_model_type *t,
                const struct fhir_model_elem *e);

/* stream.c: validate JSON text without a tree.  Returns 0 when the text is
 * proven clean (any issues it reported — conditional-reference warnings —
 * are exact), BAIL (-1) when the caller must roll back what was reported
 * and run the tree path. */
int val__stream(struct val__ctx *c, const char *text, size_t len, const char *expect);

/* xhtml.c: fhir_validate_xhtml() for text known to be UTF-8 without NUL
 * (strings from the JSON reader and the one-pass scanner). */
enum fhir_xhtml_fault val__xhtml(const char *text, size_t len);

/* rules.c */
enum val__ref_form {
    VAL__REF_OK,          /* Type/id[/_history/v], absolute URL, urn:uuid, urn:oid, "#" */
    VAL__REF_LOCAL,       /* "#id": must match a contained resource (ref-1) */
    VAL__REF_CONDITIONAL, /* "Type?query": only resolvable in transactions */
    VAL__REF_BAD_UUID,
    VAL__REF_BAD_OID,
    VAL__REF_BAD_URI,
    VAL__REF_BAD_TYPE,
    VAL__REF_BAD
};
enum val__ref_form val__reference_form(struct base_str s);
void val__warn_conditional(struct val__ctx *c);
void val__reference(struct val__ctx *c, const json_t *ref_obj);
/* Coding and the Quantity family: types whose code/system a binding checks. */
bool val__is_coded(const struct fhir_model_type *t);
/* Is `code` (from `system` when has_system) in `vs`?  *checked is false
 * when the value set cannot be checked or the code is empty. */
bool val__code_member(const struct fhir_model_valueset *vs, struct base_str system,
                      bool has_system, struct base_str code, bool *checked);
/* CapabilityStatement.format shorthand codes (xml, json, ttl). */
bool val__shorthand_format(const struct fhir_model_elem *e, struct base_str s);
void val__binding(struct val__ctx *c, const json_t *v, const struct fhir_model_type *t,
                  const struct fhir_model_elem *e);

/* jansson's iteration API takes non-const pointers although it does not
 * modify the object; this is the one place that casts. */
static inline json_t *
val__mut(const json_t *v)
{
    return (json_t *)(uintptr_t)v;
}

#endif /* FHIR_VALIDATE_VALIDATE_INT_H */
