/*
 * The tree walk: one pass over a resource, checking each JSON property
 * against the model (https://hl7.org/fhir/R4/json.html).
 *
 * For every object the members are matched to elements through the type's
 * generated hash table; a small per-object array records which elements
 * (and which choice alternative) were seen, which gives required elements,
 * choice groups and ext-1/ele-1 without a second pass.
 */
#include "fhir/validate/validate_int.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/json/fhir_json.h"

#define SEEN_VAL 0x01u /* "name" present */
#define SEEN_EXT 0x02u /* "_name" present */

/* Per-object bookkeeping, on the stack (FHIR_MODEL_MAX_ELEMS is small). */
struct frame {
    unsigned char seen[FHIR_MODEL_MAX_ELEMS];
    unsigned char choice[FHIR_MODEL_MAX_ELEMS];
    size_t non_id;  /* members other than "id" */
    bool has_under; /* some member name starts with '_' */
};

enum {
    OBJ_PLAIN = 0,
    OBJ_RESOURCE = 1, /* the object is a resource: resourceType is allowed */
    OBJ_PRIM_EXT = 2  /* the "_name" object of a primitive */
};

static void walk_object(struct fhir_validate__ctx *c, const json_t *obj,
                        const struct fhir_model_type *t, unsigned how, struct frame *fr);

static const char *
json_kind_name(const json_t *v)
{
    switch (fhir_json_kind(v)) {
    case FHIR_JSON_OBJECT:
        return "an object";
    case FHIR_JSON_ARRAY:
        return "an array";
    case FHIR_JSON_STRING:
        return "a string";
    case FHIR_JSON_NUMBER:
        return "a number";
    case FHIR_JSON_BOOL:
        return "a boolean";
    case FHIR_JSON_NULL:
        return "null";
    default:
        return "unknown";
    }
}

static void
wrong_json_type(struct fhir_validate__ctx *c, const json_t *v, const char *want,
                const struct fhir_model_type *t)
{
    fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                         "expected %s for type %s, found %s", want, t->name, json_kind_name(v));
}

/* Strings SHOULD NOT contain characters below U+0020 other than TAB, CR and
 * LF (datatypes.html#string); they cannot be written as XML 1.0. */
static bool
has_control_chars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
            return true;
    }
    return false;
}

/* A uri naming urn:uuid with upper-case hex digits: a uuid (RFC 4122 reads
 * either case), but datatypes.html: "For UUID (urn:uuid:53fefa32-...) use
 * all lowercase". */
void
fhir_validate__warn_uuid_case(struct fhir_validate__ctx *c)
{
    fhir_validate__issue(c, FHIR_VALIDATE__WARNING, "value", NULL, 0,
                         "urn:uuid with upper-case hex digits (datatypes.html: use all "
                         "lowercase)");
}

static void
prim_fault(struct fhir_validate__ctx *c, enum fhir_prim_fault f, const struct fhir_model_type *t)
{
    fhir_validate__issue(c, FHIR_VALIDATE__ERROR, f == FHIR_PRIM_TOO_LONG ? "too-long" : "value",
                         NULL, 0, "value %s for type %s", fhir_prim_fault_text(f), t->name);
}

static void
walk_number_prim(struct fhir_validate__ctx *c, const json_t *v, const struct fhir_model_type *t)
{
    char buf[40];
    struct base_str text;
    enum fhir_prim_fault f;

    if (!fhir_json_is_number(v)) {
        wrong_json_type(c, v, "a number", t);
        return;
    }
    if (t->prim == FHIR_PRIM_DECIMAL) {
        if (json_is_real(v)) {
            double d = json_real_value(v);

            if (d != d || d - d != 0.0)
                prim_fault(c, FHIR_PRIM_BAD_FORMAT, t); /* NaN or infinity */
        }
        return; /* the reader guarantees the decimal grammar of literals */
    }
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        json_int_t lo = t->prim == FHIR_PRIM_POSITIVEINT   ? 1
                        : t->prim == FHIR_PRIM_UNSIGNEDINT ? 0
                                                           : INT32_MIN;

        if (n < lo || n > INT32_MAX)
            prim_fault(c, FHIR_PRIM_OUT_OF_RANGE, t);
        return;
    }
    text = fhir_json_number_text(v, buf, sizeof(buf));
    f = fhir_validate_primitive(t->prim, text.ptr, text.len);
    if (f != FHIR_PRIM_OK)
        prim_fault(c, f, t);
}

static void
walk_primitive(struct fhir_validate__ctx *c, const json_t *v, const struct fhir_model_type *t)
{
    struct base_str s;
    enum fhir_prim_fault f;

    switch (t->prim) {
    case FHIR_PRIM_BOOLEAN:
        if (!json_is_boolean(v))
            wrong_json_type(c, v, "a boolean", t);
        return;
    case FHIR_PRIM_INTEGER:
    case FHIR_PRIM_POSITIVEINT:
    case FHIR_PRIM_UNSIGNEDINT:
    case FHIR_PRIM_DECIMAL:
        walk_number_prim(c, v, t);
        return;
    default:
        break;
    }
    if (!fhir_json_is_string(v)) {
        wrong_json_type(c, v, "a string", t);
        return;
    }
    s = fhir_json_str(v);
    if (t->prim == FHIR_PRIM_XHTML) {
        /* jansson strings are UTF-8; only a NUL could sneak in via a builder */
        enum fhir_xhtml_fault x = memchr(s.ptr, '\0', s.len) != NULL
                                      ? FHIR_XHTML_NOT_WELL_FORMED
                                      : fhir_validate__xhtml(s.ptr, s.len);

        if (x != FHIR_XHTML_OK)
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR,
                                 x == FHIR_XHTML_NOT_WELL_FORMED || x == FHIR_XHTML_DOCTYPE ||
                                         x == FHIR_XHTML_ROOT || x == FHIR_XHTML_IN_PARAGRAPH
                                     ? "value"
                                     : "invariant",
                                 NULL, 0, "narrative %s", fhir_xhtml_fault_text(x));
        return;
    }
    f = fhir_validate_primitive(t->prim, s.ptr, s.len);
    if (f != FHIR_PRIM_OK) {
        prim_fault(c, f, t);
        return;
    }
    if (t->prim == FHIR_PRIM_URI || t->prim == FHIR_PRIM_URL || t->prim == FHIR_PRIM_CANONICAL) {
        if (s.ptr[0] == '#')
            fhir_validate__dom3_note(c, s);
        if (fhir_validate__uri_urn(s.ptr, s.len) == FHIR_VALIDATE__URN_UPPER)
            fhir_validate__warn_uuid_case(c);
        return;
    }
    if ((t->prim == FHIR_PRIM_STRING || t->prim == FHIR_PRIM_MARKDOWN) &&
        has_control_chars(s.ptr, s.len))
        fhir_validate__issue(
            c, FHIR_VALIDATE__WARNING, "value", NULL, 0,
            "string contains control characters other than tab, carriage return and "
            "line feed");
}

void
fhir_validate__value(struct fhir_validate__ctx *c, const json_t *v, const struct fhir_model_type *t,
                     const struct fhir_model_elem *e)
{
    struct frame fr;

    switch (t->kind) {
    case FHIR_MODEL_PRIMITIVE:
        walk_primitive(c, v, t);
        break;
    case FHIR_MODEL_RESOURCE:
        fhir_validate__resource(
            c, v,
            (e != NULL && e->name_len == 9 && memcmp(e->name, "contained", 9) == 0)
                ? FHIR_VALIDATE__RES_CONTAINED
                : FHIR_VALIDATE__RES_NESTED,
            (t->flags & FHIR_MODEL_TYPE_ABSTRACT) ? NULL : t->name);
        return;
    default:
        if (!json_is_object(v)) {
            wrong_json_type(c, v, "an object", t);
            return;
        }
        walk_object(c, v, t, OBJ_PLAIN, &fr);
        break;
    }
    if (e != NULL && e->valueset != NULL)
        fhir_validate__binding(c, v, t, e);
}

/* The partner of property `key`: "_key" for "key" and the reverse. */
static const json_t *
partner_of(const json_t *obj, const char *key, size_t len, bool is_ext)
{
    char buf[80];

    if (is_ext)
        return json_object_getn(obj, key + 1, len - 1);
    if (len + 1 > sizeof(buf))
        return NULL;
    buf[0] = '_';
    memcpy(buf + 1, key, len);
    return json_object_getn(obj, buf, len + 1);
}

/* The "_name" object of one primitive value: id and extension; ele-1 needs
 * a value or an extension. */
static void
walk_prim_ext_obj(struct fhir_validate__ctx *c, const json_t *v, const struct fhir_model_type *t,
                  bool has_value)
{
    struct frame fr;

    if (!json_is_object(v)) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                             "expected an object for the extensions of a primitive, found %s",
                             json_kind_name(v));
        return;
    }
    walk_object(c, v, t, OBJ_PRIM_EXT, &fr);
    if (!has_value && json_object_size(v) > 0 && json_object_get(v, "extension") == NULL)
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", NULL, 0,
                             "element has neither a value nor extensions (ele-1)");
}

static bool
item_present(const json_t *arr, size_t i)
{
    const json_t *x = json_array_get(arr, i);

    return x != NULL && !json_is_null(x);
}

/* A repeating element's value: a non-empty array.  Returns its size, or 0
 * after reporting why it is not one. */
static size_t
expect_array(struct fhir_validate__ctx *c, const json_t *v)
{
    if (!json_is_array(v)) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                             "expected an array (the element repeats), found %s",
                             json_kind_name(v));
        return 0;
    }
    if (json_array_size(v) == 0) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                             "array must not be empty");
        return 0;
    }
    return json_array_size(v);
}

/* "_name": the id/extension side of a primitive element. */
static void
walk_ext_form(struct fhir_validate__ctx *c, const json_t *obj, const json_t *v,
              const struct fhir_model_match *m, const char *key, size_t len)
{
    const json_t *partner = partner_of(obj, key, len, true);
    size_t n;

    if (!fhir_model_elem_is_multiple(m->elem)) {
        if (json_is_array(v)) {
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                                 "expected a single value, found an array (max cardinality 1)");
            return;
        }
        walk_prim_ext_obj(c, v, m->type, partner != NULL && !json_is_null(partner));
        return;
    }
    n = expect_array(c, v);
    if (n == 0)
        return;
    if (partner != NULL && (!json_is_array(partner) || json_array_size(partner) != n))
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                             "the value array and its extension array must have the same length");
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);
        bool has_value = partner != NULL && json_is_array(partner) && item_present(partner, i);

        fhir_validate__set_index(c, (long)i);
        if (json_is_null(item)) {
            if (!has_value)
                fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                                     partner != NULL
                                         ? "null in both the value array and its extension array"
                                         : "null in the extension array without a value array");
            continue;
        }
        walk_prim_ext_obj(c, item, m->type, has_value);
    }
    fhir_validate__set_index(c, -1);
}

/* "name": the value side. */
static void
walk_member(struct fhir_validate__ctx *c, const json_t *obj, const json_t *v,
            const struct fhir_model_match *m, const char *key, size_t len)
{
    const struct fhir_model_elem *e = m->elem;
    const json_t *partner = NULL;
    bool partner_looked = false;
    size_t n;

    if (!fhir_model_elem_is_multiple(e)) {
        if (json_is_array(v)) {
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                                 "expected a single value, found an array (max cardinality 1)");
            return;
        }
        if (json_is_null(v)) {
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                                 "null is not a value (only a placeholder in arrays)");
            return;
        }
        fhir_validate__value(c, v, m->type, e);
        return;
    }
    n = expect_array(c, v);
    if (n == 0) {
        /* a single value where an array belongs is still checked */
        if (!json_is_array(v) && !json_is_null(v))
            fhir_validate__value(c, v, m->type, e);
        return;
    }
    if (e->max != FHIR_MODEL_MAX_UNBOUNDED && n > e->max)
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                             "more than %u values (max cardinality)", (unsigned)e->max);
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);

        fhir_validate__set_index(c, (long)i);
        if (!json_is_null(item)) {
            fhir_validate__value(c, item, m->type, e);
            continue;
        }
        /* null only holds the place of a value that has extensions in "_name" */
        if (!partner_looked && fhir_model_type_is_primitive(m->type)) {
            partner = partner_of(obj, key, len, false);
            partner_looked = true;
        }
        /* with a "_name" array present, walk_ext_form() checks alignment */
        if (partner == NULL || !json_is_array(partner))
            fhir_validate__issue(
                c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                "null in an array is only allowed with extensions at the same index "
                "in the \"_\" array");
    }
    fhir_validate__set_index(c, -1);
}

/* Choice groups: one alternative, in value or "_name" form. */
static bool
note_choice(struct fhir_validate__ctx *c, struct frame *fr, const struct fhir_model_match *m,
            unsigned bit, const char *key, size_t len)
{
    unsigned char *seen = &fr->seen[m->elem_index];

    if ((*seen & bit) || (*seen != 0 && fr->choice[m->elem_index] != m->choice_index)) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", key, len,
                             "more than one value for choice element %s[x]", m->elem->name);
        return false;
    }
    fr->choice[m->elem_index] = (unsigned char)m->choice_index;
    return true;
}

static void
walk_members(struct fhir_validate__ctx *c, const json_t *obj, const struct fhir_model_type *t,
             unsigned how, struct frame *fr)
{
    for (void *it = json_object_iter(fhir_validate__mut(obj)); it != NULL;
         it = json_object_iter_next(fhir_validate__mut(obj), it)) {
        const char *key = json_object_iter_key(it);
        size_t len = json_object_iter_key_len(it);
        const json_t *v = json_object_iter_value(it);
        struct fhir_model_match m;
        unsigned bit;

        if (len == 12 && (how & OBJ_RESOURCE) && memcmp(key, "resourceType", 12) == 0)
            continue;
        if (!(len == 2 && key[0] == 'i' && key[1] == 'd'))
            fr->non_id++;
        if (!fhir_model_match_key(t, key, len, &m)) {
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", key, len,
                                 "unknown element for type %s", t->name);
            continue;
        }
        bit = m.is_ext ? SEEN_EXT : SEEN_VAL;
        if (fhir_model_elem_is_choice(m.elem) && !note_choice(c, fr, &m, bit, key, len))
            continue;
        fr->seen[m.elem_index] |= (unsigned char)bit;
        if (m.is_ext) {
            fhir_validate__push(c, key + 1, len - 1, -1);
            walk_ext_form(c, obj, v, &m, key, len);
        } else {
            fhir_validate__push(c, key, len, -1);
            walk_member(c, obj, v, &m, key, len);
        }
        fhir_validate__pop(c);
    }
}

static void
check_required(struct fhir_validate__ctx *c, const struct fhir_model_type *t,
               const struct frame *fr)
{
    char name[72];

    for (size_t i = 0; i < t->elem_count; i++) {
        const struct fhir_model_elem *e = &t->elems[i];
        size_t n = e->name_len;

        if (e->min == 0 || fr->seen[i] != 0)
            continue;
        memcpy(name, e->name, n);
        if (fhir_model_elem_is_choice(e)) {
            memcpy(name + n, "[x]", 3);
            n += 3;
        }
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "required", name, n,
                             "missing required element (min %u)", (unsigned)e->min);
    }
}

/* Rules tied to particular datatypes. */
static void
check_type_rules(struct fhir_validate__ctx *c, const json_t *obj, const struct fhir_model_type *t,
                 const struct frame *fr)
{
    if (fhir_validate__type_flags[t->index] &
        (FHIR_VALIDATE__TF_RULES | FHIR_VALIDATE__TF_VALUES)) {
        uint64_t present = 0;

        for (size_t i = 0; i < t->elem_count; i++)
            present |= (uint64_t)(fr->seen[i] != 0) << i;
        fhir_validate__invariants(c, obj, t, present);
    }
    switch (t->index) {
    case FHIR_T_EXTENSION: {
        /* ext-1: "Must have either extensions or value[x], not both" */
        bool has_ext = fr->seen[FHIR_E_EXTENSION_EXTENSION] != 0;
        bool has_val = fr->seen[FHIR_E_EXTENSION_VALUE] != 0;

        if (has_ext == has_val)
            fhir_validate__issue(
                c, FHIR_VALIDATE__ERROR, "invariant", NULL, 0,
                "extension must have either extensions or value[x], not both (ext-1)");
        break;
    }
    case FHIR_T_REFERENCE:
        fhir_validate__reference(c, obj);
        break;
    case FHIR_T_SIMPLEQUANTITY:
        if (json_object_get(obj, "comparator") != NULL)
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", "comparator", 10,
                                 "a SimpleQuantity has no comparator (sqty-1)");
        break;
    default:
        break;
    }
}

static void
walk_object(struct fhir_validate__ctx *c, const json_t *obj, const struct fhir_model_type *t,
            unsigned how, struct frame *fr)
{
    if (c->depth >= c->max_depth) {
        if (!c->depth_reported)
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "too-costly", NULL, 0,
                                 "nesting exceeds the limit of %zu levels", c->max_depth);
        c->depth_reported = true;
        return;
    }
    if (json_object_size(obj) == 0) {
        /* "objects are never empty" (json.html); a resource may be bare */
        if (!(how & OBJ_RESOURCE))
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                                 "object must not be empty");
        if (t->required_count == 0)
            return;
    }
    memset(fr->seen, 0, t->elem_count);
    fr->non_id = 0;
    c->depth++;
    walk_members(c, obj, t, how, fr);
    c->depth--;
    if (t->required_count > 0)
        check_required(c, t, fr);
    if (how == OBJ_PLAIN && fr->non_id == 0 && json_object_size(obj) > 0)
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", NULL, 0,
                             "element has no content other than an id (ele-1)");
    check_type_rules(c, obj, t, fr);
}

void
fhir_validate__dom3_note(struct fhir_validate__ctx *c, struct base_str s)
{
    struct fhir_validate__dom3 *d = c->dom3;

    if (d == NULL)
        return;
    if (s.len == 1) { /* "#": the container, from inside a contained resource */
        if (c->in_contained && d->current < d->n)
            d->referenced[d->current] = true;
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        struct base_str id = fhir_json_str(json_object_get(json_array_get(d->contained, i), "id"));

        if (id.len == s.len - 1 && memcmp(id.ptr, s.ptr + 1, id.len) == 0)
            d->referenced[i] = true;
    }
}

/* dom-3: "If the resource is contained in another resource, it SHALL be
 * referred to from elsewhere in the resource or SHALL refer to the
 * containing resource" — '#'+id among the root's references and uri,
 * url and canonical values, or a "#" inside it.  A contained resource
 * without an id is not reported ('#'+id is empty). */
static void
check_dom3(struct fhir_validate__ctx *c, const struct fhir_validate__dom3 *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const json_t *res = json_array_get(d->contained, i);

        /* not a resource (reported as such), or no id */
        if (d->referenced[i] || !json_is_object(res) ||
            !fhir_json_is_string(json_object_get(res, "resourceType")) ||
            !fhir_json_is_string(json_object_get(res, "id")))
            continue;
        fhir_validate__push(c, "contained", 9, (long)i);
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", NULL, 0,
                             "a contained resource must be referred to from elsewhere in the "
                             "resource, or refer to it (dom-3)");
        fhir_validate__pop(c);
    }
}

/* dom-2, dom-4, dom-5: what a contained resource may not carry. */
static void
check_contained(struct fhir_validate__ctx *c, const json_t *res)
{
    const json_t *meta = json_object_get(res, "meta");

    if (json_object_get(res, "contained") != NULL)
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", "contained", 9,
                             "a contained resource must not contain resources (dom-2)");
    if (!json_is_object(meta))
        return;
    if (json_object_get(meta, "versionId") != NULL || json_object_get(meta, "lastUpdated") != NULL)
        fhir_validate__issue(
            c, FHIR_VALIDATE__ERROR, "invariant", "meta", 4,
            "a contained resource must not have meta.versionId or meta.lastUpdated "
            "(dom-4)");
    if (json_object_get(meta, "security") != NULL)
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", "meta", 4,
                             "a contained resource must not have security labels (dom-5)");
}

static bool
bundle_is_transaction(const json_t *res)
{
    struct base_str ty = fhir_json_str(json_object_get(res, "type"));

    return base_str_eq_cstr(ty, "transaction") || base_str_eq_cstr(ty, "batch");
}

void
fhir_validate__resource(struct fhir_validate__ctx *c, const json_t *v, unsigned how,
                        const char *expect)
{
    const json_t *rt;
    const struct fhir_model_type *t;
    struct base_str name;
    const json_t *saved_root = c->root;
    bool saved_contained = c->in_contained;
    bool saved_tx = c->in_transaction;
    struct fhir_validate__dom3 *saved_dom3 = c->dom3;
    struct fhir_validate__dom3 dom3 = {NULL, 0, 0, NULL};
    bool flags[16];
    struct frame fr;

    if (!json_is_object(v)) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", NULL, 0,
                             "expected a resource object, found %s", json_kind_name(v));
        return;
    }
    rt = json_object_get(v, "resourceType");
    if (rt == NULL) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "required", "resourceType", 12,
                             "missing resourceType");
        return;
    }
    if (!fhir_json_is_string(rt)) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", "resourceType", 12,
                             "resourceType must be a string");
        return;
    }
    name = fhir_json_str(rt);
    t = fhir_model_type_find(name.ptr, name.len);
    if (t == NULL || t->kind != FHIR_MODEL_RESOURCE || (t->flags & FHIR_MODEL_TYPE_ABSTRACT)) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "structure", "resourceType", 12,
                             "resourceType is not an R4 resource type");
        return;
    }
    if (expect != NULL && strcmp(expect, t->name) != 0) {
        fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "value", "resourceType", 12,
                             "resourceType is %s, expected %s", t->name, expect);
        return;
    }
    if (c->nsegs == 0)
        fhir_validate__push(c, t->name, t->name_len, -1);
    if (how == FHIR_VALIDATE__RES_CONTAINED) {
        c->in_contained = true;
        check_contained(c, v);
        if (c->dom3 != NULL) {
            /* which one: dom3_note() marks "#" for it */
            c->dom3->current = c->dom3->n;
            for (size_t i = 0; i < c->dom3->n; i++) {
                if (json_array_get(c->dom3->contained, i) == v)
                    c->dom3->current = i;
            }
        }
    } else {
        const json_t *contained = json_object_get(v, "contained");

        c->root = v;
        c->in_contained = false;
        c->dom3 = NULL;
        if (json_is_array(contained) && json_array_size(contained) > 0) {
            dom3.contained = contained;
            dom3.n = json_array_size(contained);
            dom3.referenced = dom3.n <= 16 ? flags : calloc(dom3.n, sizeof(bool));
            if (dom3.referenced == NULL)
                c->rc = BASE_E_NOMEM;
            else {
                memset(dom3.referenced, 0, dom3.n * sizeof(bool));
                c->dom3 = &dom3;
            }
        }
        /* entries of a transaction inherit it; a Bundle decides for itself */
        if (t->index == FHIR_T_BUNDLE)
            c->in_transaction = bundle_is_transaction(v);
    }
    walk_object(c, v, t, OBJ_RESOURCE, &fr);
    if (how != FHIR_VALIDATE__RES_CONTAINED && c->dom3 != NULL)
        check_dom3(c, c->dom3);
    if (dom3.referenced != NULL && dom3.referenced != flags)
        free(dom3.referenced);
    c->dom3 = saved_dom3;
    c->root = saved_root;
    c->in_contained = saved_contained;
    c->in_transaction = saved_tx;
}
