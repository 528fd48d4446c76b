/*
 * JSON tree -> FHIR XML text (https://hl7.org/fhir/R4/xml.html).
 *
 * The members of each object are first sorted into the type's element
 * slots (rejecting anything the model does not know), then written in
 * definition order: attributes (Element.id, Extension.url) on the start
 * tag, then child elements.  Primitives become <name value="..."/> with the
 * "_name" id and extensions merged in; Resource-typed elements wrap an
 * element named by the inner resourceType; the narrative div is parsed and
 * written in canonical form (xhtml.c).
 *
 * The output is built with an escaping writer rather than libxml2's tree
 * API: every byte of data passes fhir_xml__escape(), names come only from
 * the model, and the text goes straight into a bounded base_buf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/model/fhir_model.h"
#include "fhir/model/gen/model_ids.h"
#include "fhir/xml/xml_int.h"

/* Nesting of elements the writer follows (fhir_json_parse stops at 64). */
#define WRITE_MAX_DEPTH 200u

struct wctx {
    struct base_buf *out;
    struct base_err *err;
    bool pretty;
    bool started;  /* something was written: newlines go before tags */
    size_t indent; /* open elements, for pretty output */
    size_t nsegs;  /* location steps in use */
    struct fhir_xml__seg segs[WRITE_MAX_DEPTH * 2 + 4];
};

/* Members of one object sorted by element (index = element index). */
struct slots {
    const json_t *v[FHIR_MODEL_MAX_ELEMS]; /* "name" member */
    const json_t *x[FHIR_MODEL_MAX_ELEMS]; /* "_name" member */
    uint8_t choice[FHIR_MODEL_MAX_ELEMS];  /* choice alternative in use */
};

enum { OBJ_TOP = 1u, OBJ_RESOURCE = 2u };

static int BASE_PRINTF(6, 7) fail(struct wctx *w, int rc, const char *code, const char *extra,
                                  size_t extra_len, const char *fmt, ...)
{
    char where[sizeof(((struct base_err *)0)->where)];
    char msg[sizeof(((struct base_err *)0)->msg)];
    va_list ap;

    fhir_xml__render_path(w->segs, w->nsegs, extra, extra_len, where, sizeof(where));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return base_err_set(w->err, rc, code, where, "%s", msg);
}

static int
push(struct wctx *w, const char *name, size_t len, long index)
{
    if (w->nsegs >= BASE_ARRAY_LEN(w->segs))
        return fail(w, BASE_E_LIMIT, "too-costly", NULL, 0, "%s", "nesting exceeds the limit");
    w->segs[w->nsegs++] = (struct fhir_xml__seg){name, len, index};
    return BASE_OK;
}

static int
out_rc(struct wctx *w, int rc)
{
    if (rc == BASE_OK)
        return BASE_OK;
    if (rc == BASE_E_NOMEM)
        return base_err_set(w->err, rc, "exception", NULL, "out of memory");
    return base_err_set(w->err, BASE_E_LIMIT, "too-costly", NULL, "output exceeds the size limit");
}

static int
emit(struct wctx *w, const char *s, size_t n)
{
    return out_rc(w, base_buf_append(w->out, s, n));
}

static int
newline(struct wctx *w)
{
    static const char spaces[] = "                                ";

    if (!w->pretty || !w->started)
        return BASE_OK;
    TRY(emit(w, "\n", 1));
    for (size_t n = w->indent * 2; n > 0;) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

        TRY(emit(w, spaces, k));
        n -= k;
    }
    return BASE_OK;
}

static int
open_tag(struct wctx *w, const char *name, size_t len)
{
    TRY(newline(w));
    w->started = true;
    TRY(emit(w, "<", 1));
    return emit(w, name, len);
}

static int
close_tag(struct wctx *w, const char *name, size_t len)
{
    TRY(newline(w));
    TRY(emit(w, "</", 2));
    TRY(emit(w, name, len));
    return emit(w, ">", 1);
}

/* ` name="escaped"` for string data. */
static int
attribute(struct wctx *w, const char *name, struct base_str value)
{
    if (!fhir_xml__chars_ok(value.ptr, value.len))
        return fail(w, BASE_E_INVALID, "value", name, strlen(name), "%s",
                    "contains a character XML cannot carry");
    TRY(emit(w, " ", 1));
    TRY(emit(w, name, strlen(name)));
    TRY(emit(w, "=\"", 2));
    TRY(out_rc(w, fhir_xml__escape(w->out, value.ptr, value.len, true)));
    return emit(w, "\"", 1);
}

static const char *
kind_name(const json_t *v)
{
    switch (fhir_json_kind(v)) {
    case FHIR_JSON_OBJECT:
        return "object";
    case FHIR_JSON_ARRAY:
        return "array";
    case FHIR_JSON_STRING:
        return "string";
    case FHIR_JSON_NUMBER:
        return "number";
    case FHIR_JSON_BOOL:
        return "boolean";
    default:
        return "null";
    }
}

/* Sort the members of `obj` (type t) into slots; unknown members and a
 * second alternative of a choice group are errors. */
static int
collect(struct wctx *w, const json_t *obj, const struct fhir_model_type *t, unsigned how,
        struct slots *s)
{
    memset(s->v, 0, sizeof(s->v[0]) * t->elem_count);
    memset(s->x, 0, sizeof(s->x[0]) * t->elem_count);
    for (void *it = json_object_iter((json_t *)(uintptr_t)obj); it != NULL;
         it = json_object_iter_next((json_t *)(uintptr_t)obj, it)) {
        const char *key = json_object_iter_key(it);
        size_t len = json_object_iter_key_len(it);
        struct fhir_model_match m;
        unsigned i;

        if ((how & OBJ_RESOURCE) && len == 12 && memcmp(key, "resourceType", 12) == 0)
            continue;
        if (!fhir_model_match_key(t, key, len, &m))
            return fail(w, BASE_E_INVALID, "structure", key, len, "unknown element for type %s",
                        t->name);
        i = m.elem_index;
        if (fhir_model_elem_is_choice(m.elem)) {
            if ((s->v[i] != NULL || s->x[i] != NULL) && s->choice[i] != m.choice_index)
                return fail(w, BASE_E_INVALID, "structure", key, len,
                            "more than one value for choice element %s[x]", m.elem->name);
            s->choice[i] = (uint8_t)m.choice_index;
        }
        if (m.is_ext)
            s->x[i] = json_object_iter_value(it);
        else
            s->v[i] = json_object_iter_value(it);
    }
    return BASE_OK;
}

/* Element.id and Extension.url: attributes with string values. */
static int
write_attrs(struct wctx *w, const struct fhir_model_type *t, const struct slots *s)
{
    for (unsigned i = 0; i < t->elem_count; i++) {
        const struct fhir_model_elem *e = &t->elems[i];

        if (!(e->flags & FHIR_MODEL_ELEM_XML_ATTR) || s->v[i] == NULL)
            continue;
        if (!fhir_json_is_string(s->v[i]))
            return fail(w, BASE_E_INVALID, "structure", e->name, e->name_len,
                        "expected a string, found %s", kind_name(s->v[i]));
        TRY(attribute(w, e->name, fhir_json_str(s->v[i])));
    }
    return BASE_OK;
}

static bool
has_children(const struct fhir_model_type *t, const struct slots *s)
{
    for (unsigned i = 0; i < t->elem_count; i++) {
        if (!(t->elems[i].flags & FHIR_MODEL_ELEM_XML_ATTR) && (s->v[i] != NULL || s->x[i] != NULL))
            return true;
    }
    return false;
}

static int write_children(struct wctx *w, const struct fhir_model_type *t, const struct slots *s);

/* After the start tag's attributes: "/>", or ">" children and the end tag. */
static int
finish_element(struct wctx *w, const char *name, size_t len, const struct fhir_model_type *t,
               const struct slots *s, bool kids)
{
    if (!kids)
        return emit(w, "/>", 2);
    TRY(emit(w, ">", 1));
    w->indent++;
    TRY(write_children(w, t, s));
    w->indent--;
    return close_tag(w, name, len);
}

/* <name attrs>children</name> for an object of type t. */
static int
write_object(struct wctx *w, const char *name, size_t len, const json_t *obj,
             const struct fhir_model_type *t, unsigned how)
{
    struct slots s;

    if (!json_is_object(obj))
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "expected an object, found %s",
                    kind_name(obj));
    TRY(collect(w, obj, t, how, &s));
    TRY(open_tag(w, name, len));
    if (how & OBJ_TOP)
        TRY(emit(w, " xmlns=\"" FHIR_XML_NS "\"", sizeof(FHIR_XML_NS) + 8));
    TRY(write_attrs(w, t, &s));
    return finish_element(w, name, len, t, &s, has_children(t, &s));
}

/* A resource: the element named by its resourceType. */
static int
write_resource(struct wctx *w, const json_t *obj, unsigned how)
{
    struct base_str rt = fhir_json_str(json_object_get(obj, "resourceType"));
    const struct fhir_model_type *t;

    if (!json_is_object(obj))
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "expected a resource, found %s",
                    kind_name(obj));
    t = rt.len > 0 ? fhir_model_type_find(rt.ptr, rt.len) : NULL;
    if (t == NULL || t->kind != FHIR_MODEL_RESOURCE || (t->flags & FHIR_MODEL_TYPE_ABSTRACT))
        return fail(w, BASE_E_INVALID, "structure", "resourceType", 12, "%s",
                    "missing or unknown resourceType");
    if (how & OBJ_TOP)
        TRY(push(w, t->name, t->name_len, -1));
    TRY(write_object(w, t->name, t->name_len, obj, t, how | OBJ_RESOURCE));
    if (how & OBJ_TOP)
        w->nsegs--;
    return BASE_OK;
}

/* The text of a primitive's value attribute (JSON type checked). */
static int
value_text(struct wctx *w, const struct fhir_model_type *t, const json_t *v, char *buf, size_t cap,
           struct base_str *out)
{
    switch (t->prim) {
    case FHIR_PRIM_BOOLEAN:
        if (!json_is_boolean(v))
            break;
        *out = json_is_true(v) ? BASE_STR_LIT("true") : BASE_STR_LIT("false");
        return BASE_OK;
    case FHIR_PRIM_INTEGER:
    case FHIR_PRIM_POSITIVEINT:
    case FHIR_PRIM_UNSIGNEDINT:
    case FHIR_PRIM_DECIMAL:
        if (!fhir_json_is_number(v))
            break;
        *out = fhir_json_number_text(v, buf, cap);
        return BASE_OK;
    default:
        if (!fhir_json_is_string(v))
            break;
        *out = fhir_json_str(v);
        return BASE_OK;
    }
    return fail(w, BASE_E_INVALID, "structure", NULL, 0, "wrong JSON type for %s", t->name);
}

/* One primitive element: <name id=".." value="..">extensions</name>. */
static int
write_prim(struct wctx *w, const char *name, size_t len, const struct fhir_model_type *t,
           const json_t *v, const json_t *x)
{
    struct slots s;
    char buf[64];
    struct base_str text;
    bool kids = false;

    if (v == NULL && x == NULL)
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s", "null without id or extension");
    if (x != NULL) {
        if (!json_is_object(x))
            return fail(w, BASE_E_INVALID, "structure", NULL, 0,
                        "expected an object in the \"_\" form, found %s", kind_name(x));
        /* `"_gender": {}` alone would be <gender/>, which says nothing and
         * which xml.html (and so the reader) refuses */
        if (v == NULL && json_object_size(x) == 0)
            return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s",
                        "empty object without a value");
        TRY(collect(w, x, t, 0, &s));
        kids = has_children(t, &s);
    }
    if (v != NULL)
        TRY(value_text(w, t, v, buf, sizeof(buf), &text));
    TRY(open_tag(w, name, len));
    if (x != NULL)
        TRY(write_attrs(w, t, &s));
    if (v != NULL)
        TRY(attribute(w, "value", text));
    return finish_element(w, name, len, t, &s, kids);
}

static int
write_div(struct wctx *w, const json_t *v, const json_t *x)
{
    struct base_str s = fhir_json_str(v);
    int f;

    if (x != NULL || !fhir_json_is_string(v))
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s", "narrative must be a string");
    TRY(newline(w));
    f = fhir_xml__xhtml_canon(s.ptr, s.len, BASE_LIMIT_FHIR_MAX_STRING, w->out);
    if (f == FHIR_XML__XH_NOMEM)
        return out_rc(w, BASE_E_NOMEM);
    if (f != FHIR_XML__XH_OK)
        return fail(w, f == FHIR_XML__XH_LIMIT ? BASE_E_LIMIT : BASE_E_INVALID, "value", NULL, 0,
                    "%s", fhir_xml__xh_fault_text(f));
    return BASE_OK;
}

/* A repeating primitive: aligned "name" and "_name" arrays. */
static int
write_prim_array(struct wctx *w, const char *name, size_t len, const struct fhir_model_type *t,
                 const json_t *v, const json_t *x)
{
    size_t n = v != NULL ? json_array_size(v) : json_array_size(x);

    if ((v != NULL && !json_is_array(v)) || (x != NULL && !json_is_array(x)))
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s", "expected an array");
    if (v != NULL && x != NULL && json_array_size(x) != n)
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s",
                    "the \"_\" array does not align with the values");
    if (n == 0)
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s", "empty array");
    for (size_t k = 0; k < n; k++) {
        const json_t *vk = v != NULL ? json_array_get(v, k) : NULL;
        const json_t *xk = x != NULL ? json_array_get(x, k) : NULL;

        vk = json_is_null(vk) ? NULL : vk;
        xk = json_is_null(xk) ? NULL : xk;
        w->segs[w->nsegs - 1].index = (long)k;
        TRY(write_prim(w, name, len, t, vk, xk));
    }
    return BASE_OK;
}

static int
write_item(struct wctx *w, const char *name, size_t len, const struct fhir_model_type *t,
           const json_t *item)
{
    if (t->kind != FHIR_MODEL_RESOURCE)
        return write_object(w, name, len, item, t, 0);
    TRY(open_tag(w, name, len));
    TRY(emit(w, ">", 1));
    w->indent++;
    TRY(write_resource(w, item, 0));
    w->indent--;
    return close_tag(w, name, len);
}

/* Complex, backbone and Resource-typed elements, single or repeating. */
static int
write_complex(struct wctx *w, const char *name, size_t len, const struct fhir_model_elem *e,
              const struct fhir_model_type *t, const json_t *v)
{
    if (!fhir_model_elem_is_multiple(e)) {
        if (json_is_array(v))
            return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s",
                        "expected a single value, found an array");
        return write_item(w, name, len, t, v);
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s", "expected a non-empty array");
    for (size_t k = 0; k < json_array_size(v); k++) {
        w->segs[w->nsegs - 1].index = (long)k;
        TRY(write_item(w, name, len, t, json_array_get(v, k)));
    }
    return BASE_OK;
}

static int
write_member(struct wctx *w, const struct fhir_model_elem *e, const struct slots *s, unsigned i)
{
    const struct fhir_model_type *t = e->type;
    const char *name = e->name;
    size_t len = e->name_len;

    if (fhir_model_elem_is_choice(e)) {
        t = e->choices[s->choice[i]].type;
        name = e->choices[s->choice[i]].json_name;
        len = e->choices[s->choice[i]].json_name_len;
    }
    if (t->kind != FHIR_MODEL_PRIMITIVE)
        return write_complex(w, name, len, e, t, s->v[i]);
    if (t->prim == FHIR_PRIM_XHTML)
        return write_div(w, s->v[i], s->x[i]);
    if (fhir_model_elem_is_multiple(e))
        return write_prim_array(w, name, len, t, s->v[i], s->x[i]);
    if (json_is_array(s->v[i]) || json_is_array(s->x[i]))
        return fail(w, BASE_E_INVALID, "structure", NULL, 0, "%s",
                    "expected a single value, found an array");
    return write_prim(w, name, len, t, json_is_null(s->v[i]) ? NULL : s->v[i], s->x[i]);
}

static int
write_children(struct wctx *w, const struct fhir_model_type *t, const struct slots *s)
{
    if (w->indent > WRITE_MAX_DEPTH)
        return fail(w, BASE_E_LIMIT, "too-costly", NULL, 0, "%s", "nesting exceeds the limit");
    for (unsigned i = 0; i < t->elem_count; i++) {
        const struct fhir_model_elem *e = &t->elems[i];
        const char *name = e->name;
        size_t len = e->name_len;

        if ((e->flags & FHIR_MODEL_ELEM_XML_ATTR) || (s->v[i] == NULL && s->x[i] == NULL))
            continue;
        if (fhir_model_elem_is_choice(e)) {
            name = e->choices[s->choice[i]].json_name;
            len = e->choices[s->choice[i]].json_name_len;
        }
        TRY(push(w, name, len, -1));
        TRY(write_member(w, e, s, i));
        w->nsegs--;
    }
    return BASE_OK;
}

int
fhir_xml_write(const json_t *res, unsigned flags, struct base_buf *out, struct base_err *err)
{
    struct wctx *w = base_malloc(sizeof(*w));
    int rc;

    if (w == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    memset(w, 0, offsetof(struct wctx, segs));
    w->out = out;
    w->err = err;
    w->pretty = (flags & FHIR_XML_PRETTY) != 0;
    rc = BASE_OK;
    if (!(flags & FHIR_XML_NO_DECLARATION)) {
        rc = emit(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38);
        w->started = true;
    }
    if (rc == BASE_OK)
        rc = write_resource(w, res, OBJ_TOP);
    if (rc == BASE_OK && w->pretty)
        rc = emit(w, "\n", 1);
    base_free(w);
    return rc;
}
