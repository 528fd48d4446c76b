/*
 * adapters/hl7v2/jtree.h — a small JSON tree in an arena, for building FHIR
 * resources fast.
 *
 * jansson allocates every node and hashes every key; a mapped message makes
 * hundreds of nodes, so the mapper builds into this bump-allocated tree and
 * writes JSON text once.  Two properties the mapper relies on:
 *   - empty strings, objects and arrays are never written (FHIR forbids
 *     empty elements), recursively: an object whose members are all empty
 *     is itself omitted;
 *   - numbers are kept as literal text (FHIR decimals keep their digits).
 * Builders never fail: on arena exhaustion they flag the builder and return
 * a scratch node; check hl7v2_jb_failed() once at the end.
 */
#ifndef ADAPTERS_HL7V2_JTREE_H
#define ADAPTERS_HL7V2_JTREE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/base/str.h"

struct base_arena;

enum hl7v2_jkind {
    HL7V2_J_OBJ,
    HL7V2_J_ARR,
    HL7V2_J_STR,
    HL7V2_J_NUM, /* literal number text */
    HL7V2_J_TRUE,
    HL7V2_J_FALSE
};

struct hl7v2_j {
    enum hl7v2_jkind kind;
    uint32_t klen;         /* strlen(key) */
    const char *key;       /* member name (static string), NULL in arrays */
    struct base_str s;     /* string value or number literal */
    struct hl7v2_j *first; /* children */
    struct hl7v2_j *last;
    struct hl7v2_j *next; /* next sibling */
};

/* Nodes are taken from the arena this many at a time: a mapped message
 * makes ~600, and one arena call each was a tenth of building the tree. */
#define HL7V2_J_SLAB 64

struct hl7v2_jb {
    struct base_arena *a;
    bool failed;
    struct hl7v2_j *slab; /* nodes carved HL7V2_J_SLAB at a time */
    size_t nslab;         /* nodes left in slab */
    struct hl7v2_j scratch; /* returned after a failure */
};

void hl7v2_jb_init(struct hl7v2_jb *jb, struct base_arena *a);
bool hl7v2_jb_failed(const struct hl7v2_jb *jb);

struct hl7v2_j *hl7v2_j_new(struct hl7v2_jb *jb, enum hl7v2_jkind kind);
/* Add a member (parent is an object, key a static string) or, with key
 * NULL, an array element.  Return the new child.  Members stay unique: an
 * object or array member that exists already is returned instead (get or
 * create), a second scalar under the same key is dropped, and adding an
 * array under an existing array key appends its elements. */
/* The builders with the key's length given (the member lookup and the
 * writer need it).  Use the inline forms below: keys are string literals
 * nearly everywhere, so there the length folds to a constant instead of a
 * strlen per member. */
struct hl7v2_j *hl7v2_j_obj_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key,
                              size_t klen);
struct hl7v2_j *hl7v2_j_arr_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key,
                              size_t klen);
void hl7v2_j_str_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen,
                   struct base_str s);
void hl7v2_j_num_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen,
                   struct base_str lit);
void hl7v2_j_bool_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen,
                    bool v);
void hl7v2_j_add_k(struct hl7v2_j *parent, const char *key, size_t klen, struct hl7v2_j *child);
struct hl7v2_j *hl7v2_j_get_k(const struct hl7v2_j *obj, const char *key, size_t klen);

static inline size_t
hl7v2_j_klen(const char *key)
{
    return key != NULL ? strlen(key) : 0;
}

static inline struct hl7v2_j *
hl7v2_j_obj(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key)
{
    return hl7v2_j_obj_k(jb, parent, key, hl7v2_j_klen(key));
}

static inline struct hl7v2_j *
hl7v2_j_arr(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key)
{
    return hl7v2_j_arr_k(jb, parent, key, hl7v2_j_klen(key));
}

static inline void
hl7v2_j_str(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, struct base_str s)
{
    if (s.len > 0)
        hl7v2_j_str_k(jb, parent, key, hl7v2_j_klen(key), s);
}

static inline void
hl7v2_j_cstr(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, const char *s)
{
    hl7v2_j_str(jb, parent, key, (struct base_str){s, s != NULL ? strlen(s) : 0});
}

static inline void
hl7v2_j_num(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, struct base_str lit)
{
    if (lit.len > 0)
        hl7v2_j_num_k(jb, parent, key, hl7v2_j_klen(key), lit);
}

static inline void
hl7v2_j_bool(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, bool v)
{
    hl7v2_j_bool_k(jb, parent, key, hl7v2_j_klen(key), v);
}

/* Attach an existing node (built detached with hl7v2_j_new) as a member. */
static inline void
hl7v2_j_add(struct hl7v2_j *parent, const char *key, struct hl7v2_j *child)
{
    hl7v2_j_add_k(parent, key, hl7v2_j_klen(key), child);
}

/* Member by key (first match), NULL when absent. */
static inline struct hl7v2_j *
hl7v2_j_get(const struct hl7v2_j *obj, const char *key)
{
    return hl7v2_j_get_k(obj, key, hl7v2_j_klen(key));
}

/* Would the node be written at all (not empty after pruning)? */
bool hl7v2_j_present(const struct hl7v2_j *j);
/* Array elements that would be written. */
size_t hl7v2_j_count(const struct hl7v2_j *arr);

/* Copy a formatted string into the arena (never NULL: "" on failure). */
struct base_str hl7v2_j_fmt(struct hl7v2_jb *jb, const char *fmt, ...) BASE_PRINTF(2, 3);

/* Write compact JSON.  BASE_E_LIMIT when `out` is full. */
BASE_MUST_CHECK int hl7v2_j_write(const struct hl7v2_j *j, struct base_buf *out);

#endif /* ADAPTERS_HL7V2_JTREE_H */
