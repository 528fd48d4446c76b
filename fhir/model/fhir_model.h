/*
 * fhir/model/fhir_model.h — the FHIR R4 type model: every resource, datatype
 * and backbone element with its elements in definition order.
 *
 * The tables are generated (fhir/model/gen/, from schemas/fhir/ by `make
 * gen`) and are constant data: no initialisation, no allocation, safe from
 * any thread.  Lookups by name use hash tables laid out at generation time,
 * so they cost one hash of the name and (almost always) one comparison.
 *
 * The structs below are read-only views into those tables.  Callers may read
 * every field documented here; fields marked "private" belong to the lookup
 * code.  Pointers returned by this module live for the whole program.
 *
 * Vocabulary (https://hl7.org/fhir/R4/elementdefinition.html):
 *   - A *type* is a primitive ("string"), a complex datatype ("HumanName"), a
 *     resource ("Patient"), or a *backbone* element defined inline in another
 *     type, named by its path ("Patient.contact", "Dosage.doseAndRate").
 *   - An *element* is one member of a type.  A *choice group* ("value[x]")
 *     is one element with several allowed types; in JSON (and XML) it appears
 *     as the base name plus the type name with an upper-case first letter
 *     ("valueQuantity").
 *   - A primitive element may carry id/extension in the JSON property
 *     "_name" (https://hl7.org/fhir/R4/json.html#primitive).
 *   - A *contentReference* element ("#Observation.referenceRange") reuses a
 *     backbone type defined elsewhere; its `type` is that backbone type.
 */
#ifndef FHIR_MODEL_FHIR_MODEL_H
#define FHIR_MODEL_FHIR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum fhir_model_kind {
    FHIR_MODEL_PRIMITIVE = 1, /* boolean, string, dateTime, ... */
    FHIR_MODEL_COMPLEX = 2,   /* datatypes: HumanName, Quantity, Element, ... */
    FHIR_MODEL_RESOURCE = 3,  /* Patient, ...; also abstract Resource, DomainResource */
    FHIR_MODEL_BACKBONE = 4   /* inline element type: "Patient.contact" */
};

/* The primitive types of https://hl7.org/fhir/R4/datatypes.html#primitive. */
enum fhir_model_prim {
    FHIR_PRIM_NONE = 0, /* not a primitive type */
    FHIR_PRIM_BASE64BINARY,
    FHIR_PRIM_BOOLEAN,
    FHIR_PRIM_CANONICAL,
    FHIR_PRIM_CODE,
    FHIR_PRIM_DATE,
    FHIR_PRIM_DATETIME,
    FHIR_PRIM_DECIMAL,
    FHIR_PRIM_ID,
    FHIR_PRIM_INSTANT,
    FHIR_PRIM_INTEGER,
    FHIR_PRIM_MARKDOWN,
    FHIR_PRIM_OID,
    FHIR_PRIM_POSITIVEINT,
    FHIR_PRIM_STRING,
    FHIR_PRIM_TIME,
    FHIR_PRIM_UNSIGNEDINT,
    FHIR_PRIM_URI,
    FHIR_PRIM_URL,
    FHIR_PRIM_UUID,
    FHIR_PRIM_XHTML
};

enum fhir_model_binding {
    FHIR_BINDING_NONE = 0,
    FHIR_BINDING_REQUIRED,
    FHIR_BINDING_EXTENSIBLE,
    FHIR_BINDING_PREFERRED,
    FHIR_BINDING_EXAMPLE
};

/* How a required value set can be checked (see fhir_model_vs_check). */
enum fhir_model_vs_kind {
    FHIR_VS_CODES = 1,     /* expanded: a finite list of (system, code) */
    FHIR_VS_MIME_TYPE = 2, /* BCP 13 media types: syntax only */
    FHIR_VS_CURRENCY = 3,  /* ISO 4217: syntax only (three upper-case letters) */
    FHIR_VS_UNCHECKED = 4  /* not enumerable here (UCUM, some LOINC lists) */
};

/* Type flags. */
#define FHIR_MODEL_TYPE_ABSTRACT 0x01u /* Resource, DomainResource, Element, BackboneElement */

/* Element flags. */
#define FHIR_MODEL_ELEM_MULTIPLE    0x01u /* max > 1: a JSON array */
#define FHIR_MODEL_ELEM_CHOICE      0x02u /* a choice group "name[x]" */
#define FHIR_MODEL_ELEM_CONTENT_REF 0x04u /* type reused via contentReference */
#define FHIR_MODEL_ELEM_XML_ATTR                                                                   \
    0x08u                              /* Element.id, Extension.url: an XML                        \
                                        * attribute, so no "_name" form */
#define FHIR_MODEL_ELEM_BACKBONE 0x10u /* type is a backbone defined here */

#define FHIR_MODEL_MAX_UNBOUNDED UINT32_MAX /* max = "*" */

struct fhir_model_type;
struct fhir_model_valueset;

/* One allowed type of a choice group. */
struct fhir_model_choice {
    const struct fhir_model_type *type;
    const char *json_name; /* "valueQuantity" (NUL-terminated) */
    uint16_t json_name_len;
};

struct fhir_model_elem {
    const char *name;                           /* "gender"; choice base "value" */
    const struct fhir_model_type *type;         /* NULL for a choice group */
    const struct fhir_model_choice *choices;    /* choice groups: choice_count entries */
    const struct fhir_model_valueset *valueset; /* required binding with a table, else NULL */
    const char *binding_url;                    /* bound value set (any strength), or NULL */
    uint32_t max;                               /* 1, or FHIR_MODEL_MAX_UNBOUNDED */
    uint16_t name_len;
    uint8_t min; /* 0 or 1 in R4 core */
    uint8_t choice_count;
    uint8_t binding; /* enum fhir_model_binding */
    uint8_t flags;   /* FHIR_MODEL_ELEM_* */
};

/* Private: one accepted JSON property name of a type. */
struct fhir_model_key {
    uint64_t a; /* fhir_model__words() of the name */
    uint64_t b;
    const char *name;
    uint16_t len;
    uint16_t elem;  /* index into the type's elements */
    uint8_t choice; /* index into elem->choices (choice groups) */
    uint8_t is_ext; /* 1: the "_name" form; FHIR_MODEL__KEY_BASE: a choice
                     * group's base name (not a JSON property) */
};
#define FHIR_MODEL__KEY_BASE 2u

struct fhir_model_type {
    uint64_t required_mask;              /* bit i: element i has min >= 1 (<= 64 elements) */
    const char *name;                    /* "Patient", "string", "Patient.contact" */
    const struct fhir_model_elem *elems; /* elem_count elements, definition order */
    const struct fhir_model_key *keys;   /* private */
    const uint32_t *key_slots;           /* private: hash slots, FHIR_MODEL__SLOT_* */
    uint16_t name_len;
    uint16_t elem_count;
    uint16_t key_mask;      /* private */
    uint16_t key_seed;      /* private: fhir_model__mix_seeded() seed of the key table */
    uint16_t index;         /* position in the type table */
    uint8_t kind;           /* enum fhir_model_kind */
    uint8_t prim;           /* enum fhir_model_prim */
    uint8_t flags;          /* FHIR_MODEL_TYPE_* */
    uint8_t required_count; /* elements with min >= 1 */
};

/* Private: one code of an expanded value set. */
struct fhir_model_code {
    const char *system;
    const char *code;
    uint16_t system_len;
    uint16_t code_len;
};

struct fhir_model_valueset {
    const char *url;                     /* canonical URL with "|version" */
    const struct fhir_model_code *codes; /* private */
    const uint16_t *slots;               /* private */
    uint16_t code_count;
    uint16_t mask; /* private */
    uint8_t kind;  /* enum fhir_model_vs_kind */
};

/* Result of matching a JSON property name against a type. */
struct fhir_model_match {
    const struct fhir_model_elem *elem;
    const struct fhir_model_type *type; /* the concrete type (choice resolved) */
    unsigned elem_index;                /* index of elem in its type */
    unsigned choice_index;              /* index in elem->choices (choice groups) */
    bool is_ext;                        /* the "_name" form */
};

/* Number of types (named types and backbone types). */
size_t fhir_model_type_count(void);
/* Type by position, 0 <= i < fhir_model_type_count(); NULL when out of range. */
const struct fhir_model_type *fhir_model_type_at(size_t i);

/* Type by name: "Patient", "HumanName", "dateTime", "Patient.contact".
 * `name` need not be NUL-terminated.  NULL when unknown. */
const struct fhir_model_type *fhir_model_type_find(const char *name, size_t len);

/* Is `name` a concrete R4 resource type (a valid resourceType)? */
bool fhir_model_is_resource_type(const char *name, size_t len);

/*
 * Resolve the JSON property `key` (len bytes) of an object of type `t`:
 * "gender", "_gender", "valueQuantity", "_valueString".  Returns false when
 * `t` has no such property ("resourceType" is not an element; callers of
 * resources handle it).  Fills *out on success.
 */
bool fhir_model_match_key(const struct fhir_model_type *t, const char *key, size_t len,
                          struct fhir_model_match *out);

/* Element by name in definition order ("gender", choice base "value"); NULL when absent. */
const struct fhir_model_elem *fhir_model_elem_find(const struct fhir_model_type *t,
                                                   const char *name, size_t len);

static inline bool
fhir_model_type_is_primitive(const struct fhir_model_type *t)
{
    return t->kind == FHIR_MODEL_PRIMITIVE;
}

static inline bool
fhir_model_elem_is_multiple(const struct fhir_model_elem *e)
{
    return (e->flags & FHIR_MODEL_ELEM_MULTIPLE) != 0;
}

static inline bool
fhir_model_elem_is_choice(const struct fhir_model_elem *e)
{
    return (e->flags & FHIR_MODEL_ELEM_CHOICE) != 0;
}

/* Is the (single) type of `e` primitive?  False for choice groups. */
static inline bool
fhir_model_elem_is_primitive(const struct fhir_model_elem *e)
{
    return e->type != NULL && e->type->kind == FHIR_MODEL_PRIMITIVE;
}

/* Number of allowed types: choice_count for a choice group, else 1. */
static inline size_t
fhir_model_elem_type_count(const struct fhir_model_elem *e)
{
    return (e->flags & FHIR_MODEL_ELEM_CHOICE) ? e->choice_count : 1u;
}

/* The i-th allowed type (i < fhir_model_elem_type_count(e)). */
static inline const struct fhir_model_type *
fhir_model_elem_type(const struct fhir_model_elem *e, size_t i)
{
    return (e->flags & FHIR_MODEL_ELEM_CHOICE) ? e->choices[i].type : e->type;
}

/* Name of a type or primitive kind for messages ("dateTime"). */
const char *fhir_model_prim_name(enum fhir_model_prim p);

/* Value set by canonical URL, with or without "|version"; NULL when the
 * model has no table for it (only value sets bound `required` are kept). */
const struct fhir_model_valueset *fhir_model_valueset_find(const char *url, size_t len);

enum fhir_model_vs_result {
    FHIR_VS_MEMBER = 0,     /* the code is in the value set */
    FHIR_VS_NOT_MEMBER = 1, /* it is not (or the system does not match) */
    FHIR_VS_NOT_CHECKED = 2 /* the value set cannot be checked here */
};

/*
 * Is `code` (code_len bytes) in `vs`?  `system` NULL means "any system"
 * (a bare `code` element); otherwise the code must come from that system.
 * For syntax-only value sets (media types, currencies) the code's syntax is
 * checked and `system` is ignored.
 */
enum fhir_model_vs_result fhir_model_vs_check(const struct fhir_model_valueset *vs,
                                              const char *system, size_t system_len,
                                              const char *code, size_t code_len);

/*
 * Private: the hash of the generated tables (schemas/gen/gen_tables.py
 * computes the same).  Names are short, so it reads a few fixed-size
 * little-endian words (first and last 8 bytes; first and last 4 bytes; or
 * first, middle and last byte) and mixes them with the length: a few
 * multiplications instead of a loop over every byte.
 */
static inline uint64_t
fhir_model__le(const char *s, size_t n)
{
    uint64_t v8;
    uint32_t v4;

    if (n == 8) {
        memcpy(&v8, s, 8);
        return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? __builtin_bswap64(v8) : v8;
    }
    memcpy(&v4, s, 4);
    return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? __builtin_bswap32(v4) : v4;
}

/* Private: the words a name is hashed and compared by.  For names of up to
 * 16 bytes they cover every byte, so equal words mean equal names. */
struct fhir_model__words {
    uint64_t a;
    uint64_t b;
};

static inline struct fhir_model__words
fhir_model__words(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    struct fhir_model__words w = {0, 0};

    if (len >= 8) {
        w.a = fhir_model__le(s, 8);
        w.b = fhir_model__le(s + len - 8, 8);
    } else if (len >= 4) {
        w.a = fhir_model__le(s, 4) | fhir_model__le(s + len - 4, 4) << 32;
    } else if (len > 0) {
        w.a = (uint64_t)u[0] | (uint64_t)u[len / 2] << 8 | (uint64_t)u[len - 1] << 16;
    }
    return w;
}

/* A type's key table is hashed with a seed the generator chose so that its
 * keys do not collide: a lookup is one probe.  Seed 0 is fhir_model__mix. */
static inline uint32_t
fhir_model__mix_seeded(struct fhir_model__words w, size_t len, uint32_t seed)
{
    uint64_t x = w.a * UINT64_C(0x9E3779B97F4A7C15) + w.b * UINT64_C(0xC2B2AE3D27D4EB4F) +
                 (uint64_t)len + (uint64_t)seed * UINT64_C(0xD6E8FEB86659FD93);

    x ^= x >> 29;
    x *= UINT64_C(0xBF58476D1CE4E5B9);
    return (uint32_t)(x >> 32);
}

static inline uint32_t
fhir_model__mix(struct fhir_model__words w, size_t len)
{
    uint64_t x =
        w.a * UINT64_C(0x9E3779B97F4A7C15) + w.b * UINT64_C(0xC2B2AE3D27D4EB4F) + (uint64_t)len;

    x ^= x >> 29;
    x *= UINT64_C(0xBF58476D1CE4E5B9);
    return (uint32_t)(x >> 32);
}

static inline uint32_t
fhir_model__hash(const char *s, size_t len)
{
    return fhir_model__mix(fhir_model__words(s, len), len);
}

/*
 * Private: a key slot holds the key's index + 1 and, copied from the key,
 * its element, choice and form (is_ext), so that a scanner can go on with
 * them while the comparison with the key's name is still being loaded.
 */
#define FHIR_MODEL__SLOT_KEY(s)    ((s) & 0xFFFFu)
#define FHIR_MODEL__SLOT_ELEM(s)   (((s) >> 16) & 0x3Fu)
#define FHIR_MODEL__SLOT_CHOICE(s) (((s) >> 22) & 0x3Fu)
#define FHIR_MODEL__SLOT_IS_EXT(s) (((s) >> 28) & 0x3u)

/*
 * Private: the slot of `t` for the JSON property `key` (len bytes), any
 * form (value, "_name", choice base), or 0.  Inline so that a scanner
 * calling it once per member pays neither a call nor a copy into a
 * struct fhir_model_match; fhir_model_match_key() is the public form.
 */
static inline uint32_t
fhir_model__key_slot(const struct fhir_model_type *t, const char *key, size_t len)
{
    struct fhir_model__words w = fhir_model__words(key, len);
    uint32_t mask = t->key_mask;

    for (uint32_t i = fhir_model__mix_seeded(w, len, t->key_seed) & mask;; i = (i + 1) & mask) {
        uint32_t s = t->key_slots[i];
        const struct fhir_model_key *k;

        if (s == 0)
            return 0;
        k = &t->keys[FHIR_MODEL__SLOT_KEY(s) - 1];
        /* the words cover names up to 16 bytes; longer ones compare the middle */
        if (k->len == len && k->a == w.a && k->b == w.b &&
            (len <= 16 || memcmp(k->name + 8, key + 8, len - 16) == 0))
            return s;
    }
}

/*
 * Private: each type's JSON property lookup as generated code
 * (fhir/model/gen/model_keys.c), indexed by the type's index:
 * fhir_model__key_fns[t->index](key, len) == fhir_model__key_slot(t, key,
 * len) for every name, found by a switch on the length and compares of the
 * name's words with constants — no hash, no load of the key — for the
 * one-pass validator's member loop.
 */
extern uint32_t (*const fhir_model__key_fns[])(const char *key, size_t len);

/* Private: the index + 1 of the concrete resource type named name[0..len),
 * 0 for any other name (generated like fhir_model__key_fns); the one-pass
 * validator's resourceType and relative references. */
uint32_t fhir_model__resource_type(const char *name, size_t len);

#endif /* FHIR_MODEL_FHIR_MODEL_H */
