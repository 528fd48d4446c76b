/*
 * FHIR XML text -> JSON tree (https://hl7.org/fhir/R4/xml.html), as the
 * SAX events of libxml2 arrive: no DOM, one frame per open element.
 *
 * Each frame knows the model type whose elements its children are, so a
 * child's name resolves (choice names included) to its element in one hash
 * probe, and the element decides the JSON form: a member or an array item,
 * a typed primitive (string, number with its exact text, boolean) with its
 * id and extensions in the "_name" member, a nested object, a resource
 * wrapped in an element (contained, entry.resource, ...), or the narrative,
 * whose events go to the canonical XHTML writer (xhtml.c).
 *
 * Problems that leave the document well-formed (unknown or misplaced
 * elements, foreign namespaces, stray attributes or text, bad values) are
 * reported as issues and the offending element is skipped; limits and
 * memory failures stop the parser.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/SAX2.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/model/fhir_model.h"
#include "fhir/model/gen/model_ids.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/xml/xml_int.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

_Static_assert(FHIR_MODEL_MAX_ELEMS <= 64, "element sets are 64-bit masks");

enum rkind {
    RF_OBJECT, /* a resource, datatype or backbone element: children are its elements */
    RF_PRIM,   /* a primitive: children are its extensions */
    RF_WRAP,   /* a Resource-typed element: one child named by a resource type */
    RF_DIV,    /* the narrative: events go to the XHTML writer */
    RF_SKIP    /* an element already reported: its subtree is ignored */
};

struct rframe {
    const struct fhir_model_type *type; /* OBJECT, PRIM: the type the children belong to */
    const struct fhir_model_elem *elem; /* PRIM, WRAP: the element in the parent's type */
    json_t *obj;          /* OBJECT: the object; PRIM: its "_name" object (NULL until needed) */
    json_t *parent;       /* PRIM, WRAP, DIV: the object that receives the value */
    const char *key;      /* PRIM, WRAP: JSON member name (a model string) */
    size_t slot;          /* PRIM, repeating: position in the "name"/"_name" arrays */
    uint64_t seen;        /* OBJECT, PRIM: elements present (bit = element index) */
    uint64_t prim_arrays; /* OBJECT: repeating primitives to tidy when it ends */
    size_t nest;          /* DIV: open narrative elements, the div included */
    int last;             /* OBJECT, PRIM: element index of the previous child, or -1 */
    uint8_t kind;         /* enum rkind */
    bool has_value;       /* PRIM: the value attribute was mapped */
    bool bad_value;       /* PRIM: a value attribute was reported unusable */
    bool filled;          /* WRAP: the resource element was seen */
    bool text_seen;       /* stray text was reported */
};

struct rstate {
    xmlParserCtxtPtr ctxt;
    const struct fhir_xml_limits *lim;
    json_t *oo;
    size_t oo_base; /* issues oo held before this document */
    struct base_err *err;
    bool err_was_clear; /* err held no error before this document */
    json_t *root;       /* the resource being built */
    json_t *dropped;    /* fhir_xml__stats.dropped, while reading */
    int rc;             /* BASE_E_LIMIT or BASE_E_NOMEM once parsing was stopped */
    struct fhir_xml__stats stats;
    size_t elements;                                /* start tags seen */
    size_t n;                                       /* frames in use */
    struct fhir_xml__xh xh;                         /* the narrative being read */
    struct base_buf div;                            /* its text */
    struct base_buf scratch;                        /* attribute values that need decoding */
    struct fhir_xml__seg segs[FHIR_XML__MAX_DEPTH]; /* location step of each frame */
    struct rframe frames[FHIR_XML__MAX_DEPTH];
};

/* --- problems ------------------------------------------------------------ */

/* Record that the element `e` of the object whose frames are segs[0..n) was
 * reported and left out (see fhir_xml__stats.dropped).  Bounded like the
 * issues: a drop always comes with one. */
static void
dropped(struct rstate *st, size_t n, const struct fhir_model_elem *e)
{
    char where[512];
    size_t used;

    if (st->dropped == NULL || json_object_size(st->dropped) >= st->lim->max_issues)
        return;
    fhir_xml__render_path(st->segs, n, NULL, 0, where, sizeof(where));
    used = strlen(where);
    if (used + e->name_len + 5 >= sizeof(where))
        return;
    where[used++] = '.';
    memcpy(where + used, e->name, e->name_len);
    used += e->name_len;
    if (fhir_model_elem_is_choice(e)) {
        memcpy(where + used, "[x]", 3);
        used += 3;
    }
    where[used] = '\0';
    if (json_object_set_new(st->dropped, where, json_true()) != 0)
        st->rc = BASE_E_NOMEM;
}

static void BASE_PRINTF(5, 6) issue(struct rstate *st, const char *code, const char *extra,
                                    size_t extra_len, const char *fmt, ...)
{
    char where[sizeof(((struct base_err *)0)->where)];
    char msg[160];
    char full[200];
    va_list ap;

    st->stats.errors++;
    fhir_xml__render_path(st->segs, st->n, extra, extra_len, where, sizeof(where));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "%s (line %d)", msg, xmlSAX2GetLineNumber(st->ctxt));
    (void)base_err_set(st->err, BASE_E_INVALID, code, where, "%s", full);
    if (st->oo == NULL)
        return;
    if (st->stats.issues >= st->lim->max_issues) {
        st->stats.truncated = true;
        return;
    }
    if (fhir_outcome_add(st->oo, "error", code, where[0] != '\0' ? where : NULL, full) != BASE_OK)
        st->rc = BASE_E_NOMEM;
    else
        st->stats.issues++;
}

static void
stop(struct rstate *st, int rc)
{
    if (st->rc == BASE_OK)
        st->rc = rc;
    xmlStopParser(st->ctxt);
}

static void
too_costly(struct rstate *st, const char *what)
{
    issue(st, "too-costly", NULL, 0, "%s exceeds the limit", what);
    stop(st, BASE_E_LIMIT);
}

/* A json_t constructor returned v; NULL means out of memory. */
static json_t *
check(struct rstate *st, json_t *v)
{
    if (v == NULL)
        stop(st, BASE_E_NOMEM);
    return v;
}

/* --- frames -------------------------------------------------------------- */

static struct rframe *
push(struct rstate *st, uint8_t kind, const char *name, size_t len, long index)
{
    struct rframe *f = &st->frames[st->n];

    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->last = -1;
    st->segs[st->n] = (struct fhir_xml__seg){name, len, index};
    st->n++;
    return f;
}

static json_t *
frame_obj(struct rstate *st, struct rframe *f)
{
    if (f->obj == NULL)
        f->obj = check(st, json_object());
    return f->obj;
}

/* "_name" for `key` in buf; false when it does not fit (never for R4 names). */
static bool
ext_key(const char *key, char *buf, size_t cap)
{
    size_t n = strlen(key);

    if (n + 2 > cap)
        return false;
    buf[0] = '_';
    memcpy(buf + 1, key, n + 1);
    return true;
}

/* obj[key] = v; takes v (which may be NULL after a failed constructor). */
static bool
set_member(struct rstate *st, json_t *obj, const char *key, json_t *v)
{
    if (v == NULL || obj == NULL || json_object_set_new(obj, key, v) != 0) {
        stop(st, BASE_E_NOMEM);
        return false;
    }
    return true;
}

static bool
append(struct rstate *st, json_t *arr, json_t *v)
{
    if (v == NULL || arr == NULL || json_array_append_new(arr, v) != 0) {
        stop(st, BASE_E_NOMEM);
        return false;
    }
    return true;
}

/* parent[key] = v, or append v to the array parent[key]; takes v.  On
 * success v stays valid as a borrowed reference (the parent holds it). */
static bool
attach(struct rstate *st, json_t *parent, const char *key, bool multiple, json_t *v)
{
    json_t *arr;

    if (v == NULL || parent == NULL) {
        json_decref(v);
        stop(st, BASE_E_NOMEM);
        return false;
    }
    if (!multiple)
        return set_member(st, parent, key, v);
    arr = json_object_get(parent, key);
    if (arr == NULL) {
        arr = json_array();
        if (!set_member(st, parent, key, arr)) {
            json_decref(v);
            return false;
        }
    }
    return append(st, arr, v);
}

static long
array_size(const json_t *parent, const char *key)
{
    return (long)json_array_size(json_object_get(parent, key));
}

/* --- values -------------------------------------------------------------- */

/* An attribute value as text (fhir_xml__att_text); empty slice with st->rc
 * set when out of memory. */
static struct base_str
att_text(struct rstate *st, const xmlChar *v, const xmlChar *end)
{
    struct base_str s;

    if (!fhir_xml__att_text((const char *)v, (const char *)end, &st->scratch, &s)) {
        stop(st, BASE_E_NOMEM);
        return BASE_STR_NULL;
    }
    return s;
}

static bool
all_space(const xmlChar *ch, int len)
{
    for (int i = 0; i < len; i++) {
        if (ch[i] != ' ' && ch[i] != '\t' && ch[i] != '\n' && ch[i] != '\r')
            return false;
    }
    return true;
}

/* --- attributes ---------------------------------------------------------- */

enum { ATT_ROOT = 1u, ATT_VALUE = 2u };

/* Element.id / Extension.url go into the frame's object, a primitive's
 * value into *value; xsi:schemaLocation is ignored on the root; anything
 * else is reported. */
static void
map_attrs(struct rstate *st, struct rframe *f, int nb, const xmlChar **a, unsigned how,
          struct base_str *value, bool *has_value)
{
    for (int i = 0; i < nb && st->rc == BASE_OK; i++, a += 5) {
        const char *name = (const char *)a[0];
        size_t len = strlen(name);
        const struct fhir_model_elem *e;

        if (a[2] != NULL) {
            if (!((how & ATT_ROOT) && strcmp((const char *)a[2], XSI_NS) == 0 &&
                  (strcmp(name, "schemaLocation") == 0 ||
                   strcmp(name, "noNamespaceSchemaLocation") == 0)))
                issue(st, "structure", NULL, 0, "%s", "attribute in a foreign namespace");
            continue;
        }
        if ((how & ATT_VALUE) && len == 5 && memcmp(name, "value", 5) == 0) {
            *value = att_text(st, a[3], a[4]);
            *has_value = true;
            continue;
        }
        e = f->type != NULL ? fhir_model_elem_find(f->type, name, len) : NULL;
        if (e == NULL || !(e->flags & FHIR_MODEL_ELEM_XML_ATTR)) {
            issue(st, "structure", NULL, 0, "unknown attribute for type %s",
                  f->type != NULL ? f->type->name : "Resource");
            continue;
        }
        struct base_str s = att_text(st, a[3], a[4]);

        if (st->rc == BASE_OK && frame_obj(st, f) != NULL)
            (void)set_member(st, f->obj, e->name, json_stringn_nocheck(s.ptr, s.len));
    }
}

/* --- start of an element -------------------------------------------------- */

static void
skip(struct rstate *st)
{
    (void)push(st, RF_SKIP, NULL, 0, -1);
}

/* A resource element (the root, or inside a wrapper): {"resourceType": ...}. */
static json_t *
new_resource(struct rstate *st, const xmlChar *localname, const xmlChar *uri,
             const struct fhir_model_type **type)
{
    const char *name = (const char *)localname;
    const struct fhir_model_type *t = fhir_model_type_find(name, strlen(name));
    json_t *obj;

    if (uri == NULL || strcmp((const char *)uri, FHIR_XML_NS) != 0) {
        issue(st, "structure", NULL, 0, "%s", "resource element is not in the FHIR namespace");
        return NULL;
    }
    if (t == NULL || t->kind != FHIR_MODEL_RESOURCE || (t->flags & FHIR_MODEL_TYPE_ABSTRACT)) {
        issue(st, "structure", NULL, 0, "%s", "element is not an R4 resource type");
        return NULL;
    }
    obj = check(st, json_object());
    if (obj != NULL && !set_member(st, obj, "resourceType", json_string(t->name))) {
        json_decref(obj);
        return NULL;
    }
    *type = t;
    return obj;
}

static void
start_root(struct rstate *st, const xmlChar *localname, const xmlChar *uri, int nb,
           const xmlChar **attrs)
{
    const struct fhir_model_type *t = NULL;
    json_t *obj = new_resource(st, localname, uri, &t);
    struct rframe *f;
    bool has_value = false;
    struct base_str value;

    if (obj == NULL) {
        skip(st);
        return;
    }
    st->root = obj;
    f = push(st, RF_OBJECT, t->name, t->name_len, -1);
    f->type = t;
    f->obj = obj;
    map_attrs(st, f, nb, attrs, ATT_ROOT, &value, &has_value);
}

static void
start_wrapped(struct rstate *st, struct rframe *wrap, const xmlChar *localname, const xmlChar *uri,
              int nb, const xmlChar **attrs)
{
    const struct fhir_model_type *t = NULL;
    json_t *obj;
    struct rframe *f;
    bool has_value = false;
    struct base_str value;

    if (wrap->filled) {
        issue(st, "structure", NULL, 0, "%s", "more than one resource in one element");
        skip(st);
        return;
    }
    wrap->filled = true;
    obj = new_resource(st, localname, uri, &t);
    if (obj == NULL) {
        skip(st);
        return;
    }
    if (!attach(st, wrap->parent, wrap->key, fhir_model_elem_is_multiple(wrap->elem), obj))
        return;
    f = push(st, RF_OBJECT, NULL, 0, -1); /* locations read "contained[0].id" */
    f->type = t;
    f->obj = obj;
    map_attrs(st, f, nb, attrs, 0, &value, &has_value);
}

/* A datatype or backbone element. */
static void
start_complex(struct rstate *st, struct rframe *top, const struct fhir_model_match *m,
              const char *key, int nb, const xmlChar **attrs)
{
    bool multiple = fhir_model_elem_is_multiple(m->elem);
    json_t *parent = frame_obj(st, top);
    long index = multiple ? array_size(parent, key) : -1;
    json_t *obj = json_object();
    struct rframe *f;
    bool has_value = false;
    struct base_str value;

    if (!attach(st, parent, key, multiple, obj))
        return;
    f = push(st, RF_OBJECT, key, strlen(key), index);
    f->type = m->type;
    f->obj = obj;
    map_attrs(st, f, nb, attrs, 0, &value, &has_value);
}

static void
start_wrap(struct rstate *st, struct rframe *top, const struct fhir_model_match *m, const char *key,
           int nb, const xmlChar **attrs)
{
    json_t *parent = frame_obj(st, top);
    bool multiple = fhir_model_elem_is_multiple(m->elem);
    struct rframe *f = push(st, RF_WRAP, key, strlen(key), multiple ? array_size(parent, key) : -1);
    bool has_value = false;
    struct base_str value;

    f->parent = parent;
    f->elem = m->elem;
    f->key = key;
    map_attrs(st, f, nb, attrs, 0, &value, &has_value);
}

/* The "name"/"_name" pair of a repeating primitive: one more slot each
 * (v, which may be NULL for "no value", goes into the first). */
static void
prim_slot(struct rstate *st, json_t *parent, const char *key, json_t *v, size_t *slot)
{
    char xk[96];
    json_t *vals = json_object_get(parent, key);
    json_t *exts;

    if (!ext_key(key, xk, sizeof(xk))) {
        json_decref(v);
        return;
    }
    if (vals == NULL) {
        vals = json_array();
        exts = json_array();
        if (!set_member(st, parent, key, vals) || !set_member(st, parent, xk, exts)) {
            json_decref(v);
            return;
        }
    }
    exts = json_object_get(parent, xk);
    *slot = json_array_size(vals);
    if (append(st, vals, v != NULL ? v : json_null()))
        (void)append(st, exts, json_null());
}

static void
start_prim(struct rstate *st, struct rframe *top, const struct fhir_model_match *m, const char *key,
           int nb, const xmlChar **attrs)
{
    bool multiple = fhir_model_elem_is_multiple(m->elem);
    json_t *parent = frame_obj(st, top);
    struct rframe *f = push(st, RF_PRIM, key, strlen(key), multiple ? array_size(parent, key) : -1);
    struct base_str text = BASE_STR_NULL;
    bool has_value = false;
    json_t *v = NULL;

    f->type = m->type;
    f->elem = m->elem;
    f->parent = parent;
    f->key = key;
    map_attrs(st, f, nb, attrs, ATT_VALUE, &text, &has_value);
    if (st->rc != BASE_OK || parent == NULL)
        return;
    if (has_value) {
        v = fhir_xml__prim_json(m->type, text, &f->bad_value);
        if (f->bad_value)
            issue(st, "value", NULL, 0, "value is not a valid %s", m->type->name);
        else if (check(st, v) == NULL)
            return;
    }
    f->has_value = v != NULL;
    if (multiple) {
        top->prim_arrays |= UINT64_C(1) << m->elem_index;
        prim_slot(st, parent, key, v, &f->slot);
    } else if (v != NULL) {
        (void)attach(st, parent, key, false, v);
    }
}

static void
start_div(struct rstate *st, struct rframe *top, const struct fhir_model_elem *elem,
          const xmlChar *localname, const xmlChar *uri, int nb, const xmlChar **attrs)
{
    struct rframe *f = push(st, RF_DIV, "div", 3, -1);

    f->elem = elem;
    f->parent = frame_obj(st, top);
    f->nest = 1;
    base_buf_reset(&st->div);
    fhir_xml__xh_init(&st->xh, &st->div, st->lim->max_string);
    fhir_xml__xh_start(&st->xh, localname, uri, nb, attrs);
}

/* A child of a resource, datatype, backbone element or primitive. */
static void
start_child(struct rstate *st, struct rframe *top, const xmlChar *localname, const xmlChar *uri,
            int nb, const xmlChar **attrs)
{
    const char *name = (const char *)localname;
    size_t len = strlen(name);
    struct fhir_model_match m;
    bool is_div;
    const char *key;

    if (!fhir_model_match_key(top->type, name, len, &m) || m.is_ext ||
        (m.elem->flags & FHIR_MODEL_ELEM_XML_ATTR)) {
        issue(st, "structure", name, len, "unknown element for type %s", top->type->name);
        skip(st);
        return;
    }
    is_div = m.type->prim == FHIR_PRIM_XHTML;
    if (uri == NULL || strcmp((const char *)uri, is_div ? FHIR_XML_XHTML_NS : FHIR_XML_NS) != 0) {
        issue(st, "structure", name, len, "%s",
              is_div ? "narrative div is not in the XHTML namespace"
                     : "element is not in the FHIR namespace");
        dropped(st, st->n, m.elem);
        skip(st);
        return;
    }
    if ((top->seen >> m.elem_index) & 1u) {
        if (!fhir_model_elem_is_multiple(m.elem)) {
            issue(st, "structure", name, len, "%s",
                  fhir_model_elem_is_choice(m.elem) ? "more than one value for a choice element"
                                                    : "element occurs more than once (max 1)");
            skip(st);
            return;
        }
        if ((int)m.elem_index != top->last)
            issue(st, "structure", name, len, "%s", "repetitions of an element must be adjacent");
    } else if ((int)m.elem_index < top->last) {
        issue(st, "structure", name, len, "%s", "element out of order (definition order)");
    }
    top->seen |= UINT64_C(1) << m.elem_index;
    top->last = (int)m.elem_index;
    key = fhir_model_elem_is_choice(m.elem) ? m.elem->choices[m.choice_index].json_name
                                            : m.elem->name;
    if (is_div)
        start_div(st, top, m.elem, localname, uri, nb, attrs);
    else if (m.type->kind == FHIR_MODEL_PRIMITIVE)
        start_prim(st, top, &m, key, nb, attrs);
    else if (m.type->kind == FHIR_MODEL_RESOURCE)
        start_wrap(st, top, &m, key, nb, attrs);
    else
        start_complex(st, top, &m, key, nb, attrs);
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
         int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
         const xmlChar **attributes)
{
    struct rstate *st = ((xmlParserCtxtPtr)ctx)->_private;
    struct rframe *top = st->n > 0 ? &st->frames[st->n - 1] : NULL;

    (void)prefix;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    if (st->rc != BASE_OK)
        return;
    if (++st->elements > st->lim->max_elements) {
        too_costly(st, "number of elements");
        return;
    }
    if (st->n + (top != NULL && top->kind == RF_DIV ? top->nest - 1 : 0) >= st->lim->max_depth) {
        too_costly(st, "element nesting");
        return;
    }
    if (top == NULL) {
        start_root(st, localname, uri, nb_attributes, attributes);
    } else if (top->kind == RF_DIV) {
        top->nest++;
        fhir_xml__xh_start(&st->xh, localname, uri, nb_attributes, attributes);
    } else if (top->kind == RF_SKIP) {
        skip(st);
    } else if (top->kind == RF_WRAP) {
        start_wrapped(st, top, localname, uri, nb_attributes, attributes);
    } else {
        start_child(st, top, localname, uri, nb_attributes, attributes);
    }
}

/* --- end of an element ---------------------------------------------------- */

static bool
all_null(const json_t *arr)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (!json_is_null(json_array_get(arr, i)))
            return false;
    }
    return true;
}

/* JSON form of repeating primitives: "name" only when some item has a
 * value, "_name" only when some item has an id or extension. */
static void
tidy(struct rframe *f)
{
    if (f->prim_arrays == 0)
        return;
    for (unsigned i = 0; i < f->type->elem_count; i++) {
        const char *key = f->type->elems[i].name;
        char xk[96];

        if (!((f->prim_arrays >> i) & 1u) || !ext_key(key, xk, sizeof(xk)))
            continue;
        if (all_null(json_object_get(f->obj, key)))
            (void)json_object_del(f->obj, key);
        if (all_null(json_object_get(f->obj, xk)))
            (void)json_object_del(f->obj, xk);
    }
}

static void
end_prim(struct rstate *st, struct rframe *f)
{
    bool multiple = fhir_model_elem_is_multiple(f->elem);
    char xk[96];

    if (!ext_key(f->key, xk, sizeof(xk))) {
        json_decref(f->obj);
        f->obj = NULL;
        return;
    }
    if (!f->has_value && f->obj == NULL) {
        if (!f->bad_value)
            issue(st, "structure", NULL, 0, "%s",
                  "primitive element has no value attribute, id or extension");
        else
            dropped(st, st->n - 1, f->elem);
        if (multiple) {
            (void)json_array_remove(json_object_get(f->parent, f->key), f->slot);
            (void)json_array_remove(json_object_get(f->parent, xk), f->slot);
        }
        return;
    }
    if (f->obj == NULL)
        return;
    if (!multiple)
        (void)set_member(st, f->parent, xk, f->obj);
    else if (json_array_set_new(json_object_get(f->parent, xk), f->slot, f->obj) != 0)
        stop(st, BASE_E_NOMEM);
    f->obj = NULL;
}

static void
end_div(struct rstate *st, struct rframe *f)
{
    int fault = fhir_xml__xh_finish(&st->xh);

    if (fault == FHIR_XML__XH_NOMEM) {
        stop(st, BASE_E_NOMEM);
    } else if (fault != FHIR_XML__XH_OK) {
        issue(st, "value", NULL, 0, "%s", fhir_xml__xh_fault_text(fault));
        dropped(st, st->n - 1, f->elem);
    } else {
        (void)set_member(st, f->parent, "div", json_stringn_nocheck(st->div.data, st->div.len));
    }
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    struct rstate *st = ((xmlParserCtxtPtr)ctx)->_private;
    struct rframe *f;

    (void)prefix;
    (void)uri;
    if (st->rc != BASE_OK || st->n == 0)
        return;
    f = &st->frames[st->n - 1];
    switch (f->kind) {
    case RF_DIV:
        fhir_xml__xh_end(&st->xh, localname, fhir_xml__self_closed(ctx));
        if (--f->nest > 0)
            return;
        end_div(st, f);
        break;
    case RF_PRIM:
        end_prim(st, f);
        break;
    case RF_OBJECT:
        tidy(f);
        break;
    case RF_WRAP:
        if (!f->filled)
            issue(st, "structure", NULL, 0, "%s", "element must contain a resource");
        break;
    default:
        break;
    }
    st->n--;
}

static void
on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct rstate *st = ((xmlParserCtxtPtr)ctx)->_private;
    struct rframe *f;

    if (st->rc != BASE_OK || st->n == 0 || len <= 0)
        return;
    f = &st->frames[st->n - 1];
    if (f->kind == RF_DIV) {
        fhir_xml__xh_text(&st->xh, ch, (size_t)len);
    } else if (f->kind != RF_SKIP && !f->text_seen && !all_space(ch, len)) {
        f->text_seen = true;
        issue(st, "structure", NULL, 0, "%s", "text content is not allowed here");
    }
}

/* Belt and braces: the pre-scan already refuses every declaration. */
static void
on_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
    struct rstate *st = ((xmlParserCtxtPtr)ctx)->_private;

    (void)name;
    (void)ext_id;
    (void)sys_id;
    issue(st, "structure", NULL, 0, "%s", "document type declarations are not allowed");
    stop(st, BASE_E_PARSE);
}

/* --- entry points ---------------------------------------------------------- */

struct fhir_xml_limits
fhir_xml_limits_default(void)
{
    return (struct fhir_xml_limits){
        .max_doc = BASE_LIMIT_FHIR_MAX_DOC,
        .max_depth = BASE_LIMIT_FHIR_XML_MAX_DEPTH,
        .max_elements = BASE_LIMIT_FHIR_XML_MAX_ELEMENTS,
        .max_attrs = BASE_LIMIT_FHIR_XML_MAX_ATTRS,
        .max_value = BASE_LIMIT_FHIR_XML_MAX_VALUE,
        .max_string = BASE_LIMIT_FHIR_MAX_STRING,
        .max_issues = BASE_LIMIT_FHIR_MAX_ISSUES,
    };
}

bool
fhir_xml_sniff(const char *text, size_t len)
{
    size_t i = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return i < len && text[i] == '<';
}

/* A problem found before or instead of the SAX walk: one issue. */
static int
whole_doc_issue(struct rstate *st, int rc, const struct base_err *e)
{
    st->stats.errors++;
    (void)base_err_set(st->err, rc, e->issue_code, e->where, "%s", e->msg);
    if (st->oo != NULL && st->stats.issues < st->lim->max_issues) {
        if (fhir_outcome_add(st->oo, "error", e->issue_code, e->where[0] ? e->where : NULL,
                             e->msg) != BASE_OK)
            return BASE_E_NOMEM;
        st->stats.issues++;
    }
    return rc;
}

/* A document that is not well-formed has no content to report on: what the
 * SAX walk said about the part before the error (elements "unknown" only
 * because an end tag is missing, say) would mislead, so it is withdrawn and
 * the syntax error is the one issue. */
static void
withdraw_issues(struct rstate *st)
{
    json_t *issues = st->oo != NULL ? json_object_get(st->oo, "issue") : NULL;

    while (issues != NULL && json_array_size(issues) > st->oo_base)
        (void)json_array_remove(issues, json_array_size(issues) - 1);
    if (st->err_was_clear)
        base_err_clear(st->err);
    st->stats = (struct fhir_xml__stats){0};
    if (st->dropped != NULL)
        (void)json_object_clear(st->dropped);
}

static int
parse_error(struct rstate *st, int line, int col, int code)
{
    struct base_err e = {0};
    char where[64];

    withdraw_issues(st);
    snprintf(where, sizeof(where), "line %d, column %d", line, col);
    /* libxml2 says "end of document" both for content after the root and
     * for a document cut off inside it (push mode); an element still open
     * tells the second, the commoner (a transfer cut short) */
    (void)base_err_set(&e, BASE_E_PARSE, "structure", where, "%s",
                       code == XML_ERR_DOCUMENT_END && st->n > 0
                           ? "the document ends before its root element is closed"
                           : fhir_xml__error_text(code));
    return whole_doc_issue(st, BASE_E_PARSE, &e);
}

static void
clamp_limits(struct fhir_xml_limits *l)
{
    if (l->max_depth == 0 || l->max_depth > FHIR_XML__MAX_DEPTH)
        l->max_depth = FHIR_XML__MAX_DEPTH;
    if (l->max_doc > BASE_LIMIT_FHIR_MAX_DOC)
        l->max_doc = BASE_LIMIT_FHIR_MAX_DOC; /* keeps the length within libxml2's int */
}

static void
release(struct rstate *st)
{
    for (size_t i = 0; i < st->n; i++) {
        if (st->frames[i].kind == RF_PRIM)
            json_decref(st->frames[i].obj); /* not yet attached */
    }
    json_decref(st->dropped);
    base_buf_fini(&st->div);
    base_buf_fini(&st->scratch);
    base_free(st);
}

static const struct fhir_xml__sax handlers = {on_start, on_end, on_chars, on_subset};

static int
run(struct rstate *st, const char *text, size_t len)
{
    size_t body = 0;
    struct base_err e = {0};
    xmlParserCtxtPtr ctxt;
    int line;
    int col;
    int code;
    bool ok;
    int rc = fhir_xml__prescan(text, len, st->lim, &body, &e);

    if (rc != BASE_OK)
        return whole_doc_issue(st, rc, &e);
    ctxt = fhir_xml__ctxt_sax(&handlers, st);
    if (ctxt == NULL)
        return BASE_E_NOMEM;
    st->ctxt = ctxt;
    ok = fhir_xml__parse(ctxt, text + body, len - body, &line, &col, &code);
    ctxt->_private = NULL;
    if (st->rc != BASE_OK)
        return st->rc;
    if (!ok)
        return parse_error(st, line, col, code);
    return st->stats.errors > 0 ? BASE_E_INVALID : BASE_OK;
}

int
fhir_xml__read(const char *text, size_t len, const struct fhir_xml_limits *lim, json_t *oo,
               json_t **out, struct base_err *err, struct fhir_xml__stats *stats)
{
    struct fhir_xml_limits l = lim != NULL ? *lim : fhir_xml_limits_default();
    struct rstate *st = base_malloc(sizeof(*st));
    int rc;

    *out = NULL;
    if (st == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    clamp_limits(&l);
    memset(st, 0, offsetof(struct rstate, segs));
    st->lim = &l;
    st->oo = oo;
    st->oo_base = oo != NULL ? json_array_size(json_object_get(oo, "issue")) : 0;
    st->err = err;
    st->err_was_clear = err != NULL && err->rc == 0;
    base_buf_init(&st->div, 0);
    base_buf_init(&st->scratch, 0);
    if (stats != NULL && (st->dropped = json_object()) == NULL) {
        release(st);
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    rc = run(st, text, len);
    if (rc == BASE_E_NOMEM)
        (void)base_err_set(err, rc, "exception", NULL, "out of memory");
    if (rc == BASE_OK || rc == BASE_E_INVALID)
        *out = st->root;
    else
        json_decref(st->root);
    if (stats != NULL) {
        *stats = st->stats;
        stats->dropped = st->dropped; /* the caller's now */
        st->dropped = NULL;
    }
    release(st);
    return rc;
}

int
fhir_xml_read(const char *text, size_t len, const struct fhir_xml_limits *lim, json_t *oo,
              json_t **out, struct base_err *err)
{
    return fhir_xml__read(text, len, lim, oo, out, err, NULL);
}
