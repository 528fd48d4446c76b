/*
 * Index rows of a resource: fhir_search_extract() for every search
 * parameter of its type (the values fhir_search_match() compares, so the
 * SQL and the matcher agree by construction), appended column-wise to the
 * array parameters of store.write().  `_id` and `_lastUpdated` are left
 * out: store.resource has them as columns.
 */
#include "adapters/store/store_int.h"

#include <string.h>

#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"

#define MAX_PARAMS 128

void
st_rows_init(struct st_rows *r)
{
    for (size_t i = 0; i < ST_NCOLS; i++)
        st_arr_init(&r->c[i]);
    r->n_values = 0;
}

void
st_rows_fini(struct st_rows *r)
{
    for (size_t i = 0; i < ST_NCOLS; i++)
        st_arr_fini(&r->c[i]);
}

void
st_rows_reset(struct st_rows *r)
{
    for (size_t i = 0; i < ST_NCOLS; i++)
        st_arr_reset(&r->c[i]);
    r->n_values = 0;
}

static int
rows_rc(const struct st_rows *r)
{
    for (size_t i = 0; i < ST_NCOLS; i++) {
        if (r->c[i].rc != BASE_OK)
            return r->c[i].rc;
    }
    return BASE_OK;
}

/* ---- one value per type ------------------------------------------------------- */

/* Identifier.type.coding as [[system, code], …] for :of-type; NULL when the
 * element is not an Identifier with a typed value. */
static const char *
of_type_json(struct base_arena *a, const json_t *node)
{
    const json_t *codings = json_object_get(json_object_get(node, "type"), "coding");
    json_t *out;
    char *text = NULL;

    if (json_object_get(node, "value") == NULL || json_array_size(codings) == 0)
        return NULL;
    out = json_array();
    for (size_t i = 0; out != NULL && i < json_array_size(codings); i++) {
        const json_t *c = json_array_get(codings, i);
        const json_t *sys = json_object_get(c, "system");
        const json_t *code = json_object_get(c, "code");

        if (fhir_json_is_string(sys) && fhir_json_is_string(code))
            (void)json_array_append_new(
                out, json_pack("[ss]", json_string_value(sys), json_string_value(code)));
    }
    if (out != NULL && json_array_size(out) > 0)
        text = fhir_json_dump_arena(out, FHIR_JSON_COMPACT, a, NULL);
    json_decref(out);
    return text;
}

static int
add_token(struct st_rows *r, struct base_arena *a, const struct fhir_search_index *v)
{
    const char *text = v->u.token.text;
    const char *norm = text != NULL ? fhir_search_normalize(a, text, strlen(text)) : NULL;

    if (text != NULL && norm == NULL)
        return BASE_E_NOMEM;
    st_arr_text(&r->c[TK_SYSTEM], v->u.token.system);
    st_arr_text(&r->c[TK_CODE], v->u.token.code);
    st_arr_text(&r->c[TK_TEXT], norm);
    st_arr_text(&r->c[TK_TEXT_RAW], v->u.token.code == NULL ? text : NULL);
    st_arr_text(&r->c[TK_OF_TYPE], of_type_json(a, v->node));
    return BASE_OK;
}

static void
add_dec(struct st_arr *x, struct fhir_search_dec d)
{
    char buf[64];

    (void)fhir_search_dec_format(d, buf, sizeof(buf));
    st_arr_raw(x, buf);
}

static void
add_quantity(struct st_rows *r, const struct fhir_search_index *v)
{
    add_dec(&r->c[QT_LOW], v->u.quantity.low);
    add_dec(&r->c[QT_HIGH], v->u.quantity.high);
    st_arr_raw(&r->c[QT_LOW_OPEN], v->u.quantity.low_open ? "t" : "f");
    st_arr_raw(&r->c[QT_HIGH_OPEN], v->u.quantity.high_open ? "t" : "f");
    st_arr_text(&r->c[QT_SYSTEM], v->u.quantity.system);
    st_arr_text(&r->c[QT_CODE], v->u.quantity.code);
    st_arr_text(&r->c[QT_UNIT], v->u.quantity.unit);
}

static void
add_reference(struct st_rows *r, const struct fhir_search_index *v)
{
    st_arr_text(&r->c[RF_TYPE], v->u.reference.type);
    st_arr_text(&r->c[RF_ID], v->u.reference.id);
    st_arr_text(&r->c[RF_VERSION], v->u.reference.version);
    st_arr_text(&r->c[RF_URL], v->u.reference.url);
    st_arr_text(&r->c[RF_ID_SYSTEM], v->u.reference.id_system);
    st_arr_text(&r->c[RF_ID_VALUE], v->u.reference.id_value);
}

/* The first two columns of every table: resource position and parameter. */
static struct st_arr *
head(struct st_rows *r, enum fhir_search_type t)
{
    switch (t) {
    case FHIR_SEARCH_TOKEN:
        return &r->c[TK_RES];
    case FHIR_SEARCH_STRING:
        return &r->c[ST_RES];
    case FHIR_SEARCH_DATE:
        return &r->c[DT_RES];
    case FHIR_SEARCH_REFERENCE:
        return &r->c[RF_RES];
    case FHIR_SEARCH_QUANTITY:
    case FHIR_SEARCH_NUMBER:
        return &r->c[QT_RES];
    case FHIR_SEARCH_URI:
        return &r->c[UR_RES];
    default:
        return NULL;
    }
}

static int
add_value(struct st_rows *r, struct base_arena *a, const struct fhir_search_param_def *def,
          const struct fhir_search_index *v, int res)
{
    struct st_arr *h = head(r, def->type);

    if (h == NULL)
        return BASE_E_INTERNAL;
    st_arr_i64(&h[0], res);
    st_arr_text(&h[1], def->name);
    switch (def->type) {
    case FHIR_SEARCH_TOKEN:
        return add_token(r, a, v);
    case FHIR_SEARCH_STRING:
        st_arr_text(&r->c[ST_VALUE], v->u.string.value);
        st_arr_text(&r->c[ST_NORM], v->u.string.norm);
        return BASE_OK;
    case FHIR_SEARCH_DATE:
        st_arr_i64(&r->c[DT_LOW], v->u.date.low);
        st_arr_i64(&r->c[DT_HIGH], v->u.date.high);
        return BASE_OK;
    case FHIR_SEARCH_REFERENCE:
        add_reference(r, v);
        return BASE_OK;
    case FHIR_SEARCH_QUANTITY:
    case FHIR_SEARCH_NUMBER:
        add_quantity(r, v);
        return BASE_OK;
    case FHIR_SEARCH_URI:
        st_arr_text(&r->c[UR_VALUE], v->u.uri.value);
        return BASE_OK;
    default:
        return BASE_E_INTERNAL;
    }
}

/* ---- identifiers ---------------------------------------------------------------- */

static int
push_ident(struct base_arena *a, const char ***sys, const char ***val, size_t *n, size_t *cap,
           const char *system, const char *value)
{
    if (*n == *cap) {
        size_t ncap = *cap == 0 ? 4 : *cap * 2;
        const char **ns = base_arena_grow(a, *sys, *n, ncap, sizeof(char *));
        const char **nv = base_arena_grow(a, *val, *n, ncap, sizeof(char *));

        if (ns == NULL || nv == NULL)
            return BASE_E_NOMEM;
        *sys = ns;
        *val = nv;
        *cap = ncap;
    }
    (*sys)[*n] = system;
    (*val)[(*n)++] = value;
    return BASE_OK;
}

/* Top-level identifier element(s) of a type the parameter table does not know. */
static int
plain_identifiers(struct base_arena *a, const json_t *resource, const char ***sys,
                  const char ***val, size_t *n)
{
    const json_t *ids = json_object_get(resource, "identifier");
    size_t cap = 0;
    size_t count = json_is_array(ids) ? json_array_size(ids) : ids != NULL ? 1 : 0;

    for (size_t i = 0; i < count; i++) {
        const json_t *id = json_is_array(ids) ? json_array_get(ids, i) : ids;
        const json_t *v = json_object_get(id, "value");
        const json_t *s = json_object_get(id, "system");

        if (fhir_json_is_string(v))
            TRY(push_ident(a, sys, val, n, &cap,
                           fhir_json_is_string(s) ? json_string_value(s) : NULL,
                           json_string_value(v)));
    }
    return BASE_OK;
}

int
st_identifiers(struct base_arena *a, const json_t *resource, const char *type,
               const char ***systems, const char ***values, size_t *n, struct base_err *err)
{
    const struct fhir_search_param_def *def = fhir_search_param_find(type, "identifier", 10);
    struct fhir_search_index *v = NULL;
    size_t nv = 0;
    size_t cap = 0;

    *systems = NULL;
    *values = NULL;
    *n = 0;
    if (def == NULL || def->type != FHIR_SEARCH_TOKEN)
        return plain_identifiers(a, resource, systems, values, n);
    TRY(fhir_search_extract(a, resource, def, &v, &nv, err));
    for (size_t i = 0; i < nv; i++) {
        if (v[i].u.token.code != NULL)
            TRY(push_ident(a, systems, values, n, &cap, v[i].u.token.system, v[i].u.token.code));
    }
    return BASE_OK;
}

/* ---- one resource ------------------------------------------------------------------ */

static bool
served_by_columns(const struct fhir_search_param_def *def)
{
    return strcmp(def->name, "_id") == 0 || strcmp(def->name, "_lastUpdated") == 0;
}

static int
add_identifiers(struct st_rows *r, struct base_arena *a, const json_t *resource, const char *type,
                int res, struct base_err *err)
{
    const char **sys = NULL;
    const char **val = NULL;
    size_t n = 0;

    TRY(st_identifiers(a, resource, type, &sys, &val, &n, err));
    for (size_t i = 0; i < n; i++) {
        st_arr_i64(&r->c[ID_RES], res);
        st_arr_text(&r->c[ID_SYSTEM], sys[i]);
        st_arr_text(&r->c[ID_VALUE], val[i]);
    }
    return BASE_OK;
}

static int
add_resource(struct st_rows *r, struct base_arena *a, const json_t *resource, const char *type,
             int res, struct base_err *err)
{
    const struct fhir_search_param_def *defs[MAX_PARAMS];
    size_t nd = fhir_search_params_for(type, defs, MAX_PARAMS);

    ENSURE(nd <= MAX_PARAMS, err, BASE_E_INTERNAL, "exception", type, "too many parameters");
    for (size_t i = 0; i < nd; i++) {
        struct fhir_search_index *v = NULL;
        size_t nv = 0;

        if (served_by_columns(defs[i]))
            continue;
        TRY(fhir_search_extract(a, resource, defs[i], &v, &nv, err));
        for (size_t k = 0; k < nv; k++) {
            int rc = add_value(r, a, defs[i], &v[k], res);

            if (rc != BASE_OK)
                return base_err_set(err, rc, "exception", defs[i]->name, "indexing failed");
        }
        r->n_values += nv;
    }
    return add_identifiers(r, a, resource, type, res, err);
}

int
st_rows_add(struct st_rows *r, struct base_arena *scratch, const json_t *resource, const char *type,
            int res, struct base_err *err)
{
    struct base_arena *a = base_arena_child(scratch, 0);
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = add_resource(r, a, resource, type, res, err);
    base_arena_free(a);
    if (rc == BASE_OK && rows_rc(r) != BASE_OK)
        rc = base_err_set(err, rows_rc(r), "too-costly", type, "index values too large");
    return rc;
}
