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
#include "fhir/validate/gen/invariant_ids.h"

/* Strings SHALL NOT exceed 1MB (1024*1024 characters) (datatypes.html#string). */
#define FHIR_VALIDATE__STRING_MAX_CHARS (1024u * 1024u)

/* Path segments kept for locations; deeper paths are cut with "...". */
#define FHIR_VALIDATE__MAX_SEGS 160u

enum fhir_validate__sev { FHIR_VALIDATE__ERROR, FHIR_VALIDATE__WARNING };

/* One step of a location: ".name" then "[index]" when index >= 0. */
struct fhir_validate__seg {
    const char *name;
    size_t len;
    long index;
};

struct fhir_validate__ctx {
    json_t *oo;           /* NULL: count only */
    struct base_err *err; /* first error goes here (may be NULL) */
    size_t max_issues;
    size_t max_depth;
    bool no_warnings;
    int rc; /* BASE_E_NOMEM once the outcome could not grow */
    struct fhir_validate_result res;

    size_t depth; /* objects entered */
    bool depth_reported;

    /* Resource context (saved and restored around nested resources). */
    const json_t *root;  /* the resource whose contained[] local refs use */
    bool in_contained;   /* walking a contained resource */
    bool in_transaction; /* inside a transaction or batch Bundle */
    struct fhir_validate__dom3 *dom3; /* the root's contained resources (NULL: none) */

    size_t nsegs; /* segments in use (may exceed FHIR_VALIDATE__MAX_SEGS) */
    struct fhir_validate__seg segs[FHIR_VALIDATE__MAX_SEGS]; /* last: not cleared by ctx_init */
};

/* dom-3: which of the root's contained resources something refers to
 * ("#id" in a Reference or a uri, url or canonical anywhere in the root),
 * or which refer to the root ("#"). */
struct fhir_validate__dom3 {
    const json_t *contained; /* the root's contained array */
    size_t n;
    size_t current;   /* the contained resource being walked (when in_contained) */
    bool *referenced; /* n flags */
};
/* walk.c: a "#..." value (Reference.reference or a uri) at the current place. */
void fhir_validate__dom3_note(struct fhir_validate__ctx *c, struct base_str s);

/* Report a problem at the current location, with `extra` (NULL or a
 * property name of len bytes) appended as one more step. */
void fhir_validate__issue(struct fhir_validate__ctx *c, enum fhir_validate__sev sev,
                          const char *code, const char *extra, size_t extra_len, const char *fmt,
                          ...) BASE_PRINTF(6, 7);

static inline void
fhir_validate__push(struct fhir_validate__ctx *c, const char *name, size_t len, long index)
{
    if (c->nsegs < FHIR_VALIDATE__MAX_SEGS)
        c->segs[c->nsegs] = (struct fhir_validate__seg){name, len, index};
    c->nsegs++;
}

static inline void
fhir_validate__set_index(struct fhir_validate__ctx *c, long index)
{
    if (c->nsegs - 1 < FHIR_VALIDATE__MAX_SEGS)
        c->segs[c->nsegs - 1].index = index;
}

static inline void
fhir_validate__pop(struct fhir_validate__ctx *c)
{
    c->nsegs--;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* 0xFF in the lanes of v that are lo .. lo + n - 1 (one signed compare). */
static inline __m128i
fhir_validate__in_range(__m128i v, unsigned char lo, unsigned char n)
{
    return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - lo))),
                          _mm_set1_epi8((char)(-128 + n)));
}

/* The first byte from p on that `special` marks (0xFF lanes), sixteen at a
 * time; stops there or where fewer than 16 bytes remain.  `special` is a
 * static inline classifier, so each caller gets its own inlined loop. */
static inline const unsigned char *
fhir_validate__skip16(const unsigned char *p, const unsigned char *end, __m128i (*special)(__m128i))
{
    while (end - p >= 16) {
        unsigned bits =
            (unsigned)_mm_movemask_epi8(special(_mm_loadu_si128((const __m128i *)(const void *)p)));

        if (bits != 0)
            return p + __builtin_ctz(bits);
        p += 16;
    }
    return p;
}
#endif

/* Walk one resource (any type, by its resourceType). */
enum {
    FHIR_VALIDATE__RES_TOP = 0,
    FHIR_VALIDATE__RES_CONTAINED = 1, /* an item of DomainResource.contained */
    FHIR_VALIDATE__RES_NESTED = 2 /* Bundle.entry.resource, Parameters.parameter.resource, ... */
};
void fhir_validate__resource(struct fhir_validate__ctx *c, const json_t *v, unsigned how,
                             const char *expect);

/* Walk a value of type `t` (any kind) found in element `e` (may be NULL). */
void fhir_validate__value(struct fhir_validate__ctx *c, const json_t *v,
                          const struct fhir_model_type *t, const struct fhir_model_elem *e);

/* stream.c: validate JSON text without a tree.  Returns 0 when the text is
 * proven clean (any issues it reported — conditional-reference warnings —
 * are exact), BAIL (-1) when the caller must roll back what was reported
 * and run the tree path. */
int fhir_validate__stream(struct fhir_validate__ctx *c, const char *text, size_t len,
                          const char *expect);

/* xhtml.c: fhir_validate_xhtml() for text known to be UTF-8 without NUL
 * (strings from the JSON reader and the one-pass scanner). */
enum fhir_xhtml_fault fhir_validate__xhtml(const char *text, size_t len);
/* xhtml_fast.c: true when the purpose-built checker proves the narrative
 * valid; false means "not decided" (libxml2 then gives the verdict).  Same
 * precondition as fhir_validate__xhtml(). */
bool fhir_validate__xhtml_fast(const char *text, size_t len);
/* xhtml.c: txt-1's lists and URL rule, shared by both checkers. */
bool fhir_validate__xhtml_element_allowed(const char *name, size_t len);
/* xhtml.c: txt-1's element names of up to 7 bytes as words (byte i of the
 * name in bits 8i..8i+7, the rest 0), each in the slot
 * FHIR_VALIDATE__XHTML_WORD_SLOT gives it; other slots hold all ones
 * (0xFF is no name byte, so no word of a name equals it).  The
 * multiplier spreads the 58 names over 256 slots without a collision; a
 * name that collided would stay out (the list lookup decides it). */
#define FHIR_VALIDATE__XHTML_WORD_MULT    UINT64_C(0x23c49caea2cf62bb)
#define FHIR_VALIDATE__XHTML_WORD_SLOT(w) ((unsigned)(((w)*FHIR_VALIDATE__XHTML_WORD_MULT) >> 56))
/* kind[slot]: FHIR_VALIDATE__XHTML_BLOCK for the names
 * fhir_validate__xhtml_block() refuses inside a p, 0 for the others and
 * for empty slots (one table, one pointer for the fast path). */
#define FHIR_VALIDATE__XHTML_BLOCK 1u
struct fhir_validate__xhtml_words {
    uint64_t word[256];
    uint8_t kind[256];
};
const struct fhir_validate__xhtml_words *fhir_validate__xhtml_element_words(void);
int fhir_validate__xhtml_attribute_index(const char *name, size_t len); /* -1: not allowed */
bool fhir_validate__xhtml_url_attribute(const char *name, size_t len);
bool fhir_validate__xhtml_script_url(const char *value, size_t len);
/* div, blockquote, table, ol, ul, p: refused inside a p (xhtml.c) */
bool fhir_validate__xhtml_block(const char *name, size_t len);

/* primitive.c: how many bytes from p on are in the base64 alphabet
 * (A-Z a-z 0-9 + /) or spaces, the spaces among them added to *spaces;
 * may stop up to 15 bytes short of the first other byte, never past it. */
size_t fhir_validate__b64_run(const unsigned char *p, size_t len, size_t *spaces);

/* primitive.c: urn:uuid: and 8-4-4-4-12 hex digits, lower case only (the
 * R4 uuid regex) unless any_case. */
bool fhir_validate__uuid_urn(const char *s, size_t len, bool any_case);

/* primitive.c: what a uri/url/canonical value names (check_uri). */
enum fhir_validate__urn {
    FHIR_VALIDATE__URN_NONE,     /* neither urn:uuid: nor urn:oid: */
    FHIR_VALIDATE__URN_OK,       /* a valid lower-case uuid, or a valid oid */
    FHIR_VALIDATE__URN_UPPER,    /* a valid uuid with upper-case hex digits (warning) */
    FHIR_VALIDATE__URN_BAD_UUID, /* FHIR_PRIM_BAD_UUID */
    FHIR_VALIDATE__URN_BAD_OID   /* FHIR_PRIM_BAD_OID */
};
enum fhir_validate__urn fhir_validate__uri_urn(const char *s, size_t len);

/* rules.c */
enum fhir_validate__ref_form {
    FHIR_VALIDATE__REF_OK,          /* Type/id[/_history/v], absolute URL, urn:uuid, urn:oid, "#" */
    FHIR_VALIDATE__REF_LOCAL,       /* "#id": must match a contained resource (ref-1) */
    FHIR_VALIDATE__REF_CONDITIONAL, /* "Type?query": only resolvable in transactions */
    FHIR_VALIDATE__REF_BAD_UUID,
    FHIR_VALIDATE__REF_BAD_OID,
    FHIR_VALIDATE__REF_BAD_URI,
    FHIR_VALIDATE__REF_BAD_TYPE,
    FHIR_VALIDATE__REF_BAD
};
enum fhir_validate__ref_form fhir_validate__reference_form(struct base_str s);
void fhir_validate__warn_conditional(struct fhir_validate__ctx *c);
/* walk.c: the upper-case urn:uuid warning, at the current location. */
void fhir_validate__warn_uuid_case(struct fhir_validate__ctx *c);
void fhir_validate__reference(struct fhir_validate__ctx *c, const json_t *ref_obj);
/* Coding and the Quantity family: types whose code/system a binding checks. */
bool fhir_validate__is_coded(const struct fhir_model_type *t);
/* Is `code` (from `system` when has_system) in `vs`?  *checked is false
 * when the value set cannot be checked or the code is empty. */
bool fhir_validate__code_member(const struct fhir_model_valueset *vs, struct base_str system,
                                bool has_system, struct base_str code, bool *checked);
/* The xml, json and ttl shorthands where R4 takes them for a media type:
 * CapabilityStatement.format, the TestScript operations' accept and
 * contentType, the assertions' contentType. */
bool fhir_validate__shorthand_format(const struct fhir_model_elem *e, struct base_str s);
void fhir_validate__binding(struct fhir_validate__ctx *c, const json_t *v,
                            const struct fhir_model_type *t, const struct fhir_model_elem *e);

/* ----------------------------------------------------------- invariants --
 * gen/invariants.c: the R4 invariants that only ask which child elements
 * are present, as truth tables (schemas/gen/gen_invariants.py).  Rule r of
 * type t is one of fhir_validate__rules[at[t->index] .. at[t->index + 1]);
 * it holds when bit `index` of r.table is set, bit i of index being "child
 * element r.elems[i] is present" (with a value or only extensions).
 * invariants.c: the invariants that look at values, for both paths. */
struct fhir_validate__rule {
    uint64_t table;
    const char *key;   /* "obs-6" */
    const char *human; /* the definition's human text */
    unsigned char elems[6];
    unsigned char n;
};
extern const struct fhir_validate__rule fhir_validate__rules[];
extern const uint16_t fhir_validate__rule_at[];
/* Per type (index): */
#define FHIR_VALIDATE__TF_RULES   0x1u  /* presence rules in fhir_validate__rules */
#define FHIR_VALIDATE__TF_VALUES  0x2u  /* invariants on values (invariants.c) */
#define FHIR_VALIDATE__TF_WALK    0x4u  /* stream.c: its members need the special walk */
#define FHIR_VALIDATE__TF_CAPTURE 0x8u  /* stream.c: keeps single primitive members */
#define FHIR_VALIDATE__TF_KIDS    0x10u /* stream.c: children report to it (struct kid) */
extern const uint8_t fhir_validate__type_flags[];

/* Does rule r fail for the child elements in `present` (bit i: element i)? */
static inline bool
fhir_validate__rule_fails(const struct fhir_validate__rule *r, uint64_t present)
{
    unsigned idx = 0;

    for (unsigned i = 0; i < r->n; i++)
        idx |= (unsigned)((present >> r->elems[i]) & 1u) << i;
    return ((r->table >> idx) & 1u) == 0;
}

/* Does any presence rule of type t fail? */
static inline bool
fhir_validate__rules_fail(const struct fhir_model_type *t, uint64_t present)
{
    for (unsigned i = fhir_validate__rule_at[t->index]; i < fhir_validate__rule_at[t->index + 1];
         i++) {
        if (fhir_validate__rule_fails(&fhir_validate__rules[i], present))
            return true;
    }
    return false;
}

/* per-1: is dateTime a certainly after dateTime b?  Both valid dateTimes.
 * Compared as FHIRPath compares them (precision by precision; seconds
 * with their fraction as one decimal; times with their zones): true only
 * when the order is decided and wrong.  A date without a time against a
 * time is decided only when it holds for every zone (-14:00 .. +14:00) the
 * date could be in, since a date has none. */
bool fhir_validate__dt_after(const char *a, size_t alen, const char *b, size_t blen);

/* Exact order of two JSON number literals (valid JSON numbers): -1, 0, 1. */
int fhir_validate__dec_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Sign of a number literal: -1, 0, 1; is it a whole number? */
int fhir_validate__dec_sign(const char *s, size_t len);
bool fhir_validate__dec_whole(const char *s, size_t len);

/* A Quantity's parts, as both paths see them: *_el the element is present
 * (value or extensions), has_* it has a value (string; value a number
 * literal). */
struct fhir_validate__qty {
    struct base_str value, unit, system, code;
    bool has_value, has_unit, has_system, has_code;
    bool value_el, comparator_el, unit_el, system_el, code_el;
};
/* rng-2: is low certainly above high?  Only bounds in the same unit (same
 * system and code, or neither and the same unit text) without comparators
 * are compared; units are not converted. */
bool fhir_validate__qty_above(const struct fhir_validate__qty *low,
                              const struct fhir_validate__qty *high);
/* age-1, cnt-3, dis-1, mqty-1 on a value of type t: the key of the rule
 * that fails, or NULL (also for other types). */
const char *fhir_validate__qty_profile(const struct fhir_model_type *t,
                                       const struct fhir_validate__qty *q);
/* The human text of the hand-written invariant `key`. */
const char *fhir_validate__invariant_text(const char *key);

/* The Bundle.type codes (bundle-type, required), 0 for none of them. */
enum fhir_validate__btype {
    FHIR_VALIDATE__BT_UNKNOWN = 0,
    FHIR_VALIDATE__BT_DOCUMENT,
    FHIR_VALIDATE__BT_MESSAGE,
    FHIR_VALIDATE__BT_TRANSACTION,
    FHIR_VALIDATE__BT_TRANSACTION_RESPONSE,
    FHIR_VALIDATE__BT_BATCH,
    FHIR_VALIDATE__BT_BATCH_RESPONSE,
    FHIR_VALIDATE__BT_HISTORY,
    FHIR_VALIDATE__BT_SEARCHSET,
    FHIR_VALIDATE__BT_COLLECTION
};
enum fhir_validate__btype fhir_validate__bundle_type(struct base_str s);
/* bdl-3 / bdl-4: must (true) or must not (false) an entry of a Bundle of
 * this type have request / response? */
static inline bool
fhir_validate__bt_request(enum fhir_validate__btype b)
{
    return b == FHIR_VALIDATE__BT_BATCH || b == FHIR_VALIDATE__BT_TRANSACTION ||
           b == FHIR_VALIDATE__BT_HISTORY;
}
static inline bool
fhir_validate__bt_response(enum fhir_validate__btype b)
{
    return b == FHIR_VALIDATE__BT_BATCH_RESPONSE || b == FHIR_VALIDATE__BT_TRANSACTION_RESPONSE ||
           b == FHIR_VALIDATE__BT_HISTORY;
}
/* tim-9's event codes an offset cannot go with. */
bool fhir_validate__tim9_code(struct base_str s);
/* trd-3: does TriggerDefinition.type `type` need name, timing or data
 * that is absent? */
bool fhir_validate__trd3_fails(struct base_str type, bool has_name, bool has_timing, bool has_data);

/* invariants.c, tree path: the invariants of the object `obj` of type t
 * whose children's presence is `present`. */
void fhir_validate__invariants(struct fhir_validate__ctx *c, const json_t *obj,
                               const struct fhir_model_type *t, uint64_t present);

/* jansson's iteration API takes non-const pointers although it does not
 * modify the object; this is the one place that casts. */
static inline json_t *
fhir_validate__mut(const json_t *v)
{
    return (json_t *)(uintptr_t)v;
}

#endif /* FHIR_VALIDATE_VALIDATE_INT_H */
