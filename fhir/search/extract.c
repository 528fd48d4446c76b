/*
 * Index values of a search parameter in a resource (R4 §3.1.1.4: which
 * element types each search type matches, and how).  The element's FHIR
 * type comes from a choice suffix when there is one, otherwise from the
 * JSON shape: the R4 types a parameter can reach are told apart by their
 * members (Coding has code/system, Identifier and ContactPoint have value,
 * Period has start/end, Timing has event/repeat, HumanName/Address their
 * parts), which is also how they are serialized.
 */
#include "fhir/search/search_int.h"

#include <string.h>

#include "fhir/json/fhir_json.h"

struct ex {
    struct base_arena *a;
    const json_t *resource;
    const struct fhir_search_param_def *def;
    struct fhir_search_index *v;
    size_t n;
    size_t cap;
};

static struct fhir_search_index *
new_value(struct ex *x, const json_t *node, int *rc)
{
    struct fhir_search_index *iv;

    if (x->n == BASE_LIMIT_SEARCH_MAX_INDEX_VALUES) {
        *rc = BASE_E_LIMIT;
        return NULL;
    }
    if (x->n == x->cap) {
        size_t ncap = x->cap == 0 ? 4 : x->cap * 2;
        struct fhir_search_index *nv = base_arena_grow(x->a, x->v, x->n, ncap, sizeof(*nv));

        if (nv == NULL) {
            *rc = BASE_E_NOMEM;
            return NULL;
        }
        x->v = nv;
        x->cap = ncap;
    }
    iv = &x->v[x->n++];
    memset(iv, 0, sizeof(*iv));
    iv->type = x->def->type;
    iv->node = node;
    return iv;
}

#define NEW_VALUE(iv, x, node)                                                                     \
    do {                                                                                           \
        int nv_rc_ = BASE_OK;                                                                      \
        (iv) = new_value((x), (node), &nv_rc_);                                                    \
        if ((iv) == NULL)                                                                          \
            return nv_rc_;                                                                         \
    } while (0)

/* ---- token ------------------------------------------------------------- */

static int
token_value(struct ex *x, const json_t *node, const char *system, const char *code,
            const char *text)
{
    struct fhir_search_index *iv;

    if (code == NULL && text == NULL)
        return BASE_OK;
    NEW_VALUE(iv, x, node);
    iv->u.token.system = system;
    iv->u.token.code = code;
    iv->u.token.text = text;
    return BASE_OK;
}

static bool
is_contact_system(const char *s)
{
    static const char *const sys[] = {"phone", "fax", "email", "pager", "url", "sms", "other"};

    for (size_t i = 0; s != NULL && i < BASE_ARRAY_LEN(sys); i++) {
        if (strcmp(s, sys[i]) == 0)
            return true;
    }
    return false;
}

static int
token_codeable_concept(struct ex *x, const json_t *cc)
{
    const json_t *codings = json_object_get(cc, "coding");
    const char *text = sp_get_str(cc, "text");

    for (size_t i = 0; i < json_array_size(codings); i++) {
        const json_t *c = json_array_get(codings, i);

        TRY(token_value(x, c, sp_get_str(c, "system"), sp_get_str(c, "code"),
                        sp_get_str(c, "display")));
    }
    /* CodeableConcept.text stays searchable with :text. */
    return text != NULL ? token_value(x, cc, NULL, NULL, text) : BASE_OK;
}

static int
token_object(struct ex *x, const struct sp_node *nd)
{
    const json_t *o = nd->v;
    const char *value = sp_get_str(o, "value");
    bool is_type = nd->type != NULL;

    if ((is_type && strcmp(nd->type, "CodeableConcept") == 0) || json_object_get(o, "coding") ||
        (value == NULL && sp_get_str(o, "code") == NULL && sp_get_str(o, "text") != NULL))
        return token_codeable_concept(x, o);
    if (value != NULL) {
        const char *sys = sp_get_str(o, "system");

        /* R4 token table: ContactPoint matches on value (no system);
         * Identifier on system|value, with Identifier.type.text for :text. */
        if ((is_type && strcmp(nd->type, "ContactPoint") == 0) || is_contact_system(sys) ||
            json_object_get(o, "rank") != NULL)
            return token_value(x, o, NULL, value, NULL);
        return token_value(x, o, sys, value, sp_get_str(json_object_get(o, "type"), "text"));
    }
    return token_value(x, o, sp_get_str(o, "system"), sp_get_str(o, "code"),
                       sp_get_str(o, "display"));
}

static int
token_node(struct ex *x, const struct sp_node *nd)
{
    if (fhir_json_is_string(nd->v))
        return token_value(x, nd->v, x->def->code_system, json_string_value(nd->v), NULL);
    if (json_is_boolean(nd->v))
        return token_value(x, nd->v, NULL, json_is_true(nd->v) ? "true" : "false", NULL);
    if (json_is_object(nd->v))
        return token_object(x, nd);
    return BASE_OK;
}

/* Patient.deceased.exists() and Patient.deceased != false: one boolean. */
static int
token_exists_not_false(struct ex *x, const struct sp_node *nodes, size_t n)
{
    bool yes = false;

    for (size_t i = 0; i < n; i++) {
        if (!json_is_false(nodes[i].v))
            yes = true;
    }
    return token_value(x, n > 0 ? nodes[0].v : x->resource, NULL, yes ? "true" : "false", NULL);
}

/* ---- string ------------------------------------------------------------ */

static int
string_value(struct ex *x, const json_t *node, const json_t *s)
{
    struct fhir_search_index *iv;

    if (!fhir_json_is_string(s))
        return BASE_OK;
    NEW_VALUE(iv, x, node);
    iv->u.string.value = json_string_value(s);
    iv->u.string.norm = fhir_search_normalize(x->a, json_string_value(s), json_string_length(s));
    return iv->u.string.norm != NULL ? BASE_OK : BASE_E_NOMEM;
}

/* R4: a string parameter on HumanName matches family, given, prefix,
 * suffix and text; on Address any of its parts. */
static int
string_node(struct ex *x, const struct sp_node *nd)
{
    static const char *const parts[] = {"family", "given",      "prefix", "suffix",
                                        "text",   "line",       "city",   "district",
                                        "state",  "postalCode", "country"};

    if (!json_is_object(nd->v))
        return string_value(x, nd->v, nd->v);
    for (size_t i = 0; i < BASE_ARRAY_LEN(parts); i++) {
        const json_t *p = json_object_get(nd->v, parts[i]);

        if (json_is_array(p)) {
            for (size_t k = 0; k < json_array_size(p); k++)
                TRY(string_value(x, nd->v, json_array_get(p, k)));
        } else {
            TRY(string_value(x, nd->v, p));
        }
    }
    return BASE_OK;
}

/* ---- date -------------------------------------------------------------- */

static bool
date_of(const json_t *s, int64_t *low, int64_t *high)
{
    struct base_str v = fhir_json_str(s);

    return v.len > 0 && fhir_search_date_range(v.ptr, v.len, low, high);
}

static int
date_value(struct ex *x, const json_t *node, int64_t low, int64_t high)
{
    struct fhir_search_index *iv;

    NEW_VALUE(iv, x, node);
    iv->u.date.low = low;
    iv->u.date.high = high;
    return BASE_OK;
}

/* R4 §3.1.1.4.2: a Period is [start, end] with open ends when absent. */
static int
date_period(struct ex *x, const json_t *p)
{
    const json_t *start = json_object_get(p, "start");
    const json_t *end = json_object_get(p, "end");
    int64_t lo = FHIR_SEARCH_TIME_MIN;
    int64_t hi = FHIR_SEARCH_TIME_MAX;
    int64_t ignore;

    if (start == NULL && end == NULL)
        return BASE_OK;
    if ((start != NULL && !date_of(start, &lo, &ignore)) ||
        (end != NULL && !date_of(end, &ignore, &hi)))
        return BASE_OK;
    return date_value(x, p, lo, hi);
}

/* A Timing spans its events and its repeat.boundsPeriod. */
static int
date_timing(struct ex *x, const json_t *t)
{
    const json_t *events = json_object_get(t, "event");
    const json_t *bounds = json_object_get(json_object_get(t, "repeat"), "boundsPeriod");
    int64_t lo = FHIR_SEARCH_TIME_MAX;
    int64_t hi = FHIR_SEARCH_TIME_MIN;
    bool any = false;

    for (size_t i = 0; i < json_array_size(events); i++) {
        int64_t l;
        int64_t h;

        if (date_of(json_array_get(events, i), &l, &h)) {
            lo = l < lo ? l : lo;
            hi = h > hi ? h : hi;
            any = true;
        }
    }
    if (json_is_object(bounds)) {
        int64_t l = FHIR_SEARCH_TIME_MIN;
        int64_t h = FHIR_SEARCH_TIME_MAX;
        int64_t ignore;
        const json_t *s = json_object_get(bounds, "start");
        const json_t *e = json_object_get(bounds, "end");

        if ((s == NULL || date_of(s, &l, &ignore)) && (e == NULL || date_of(e, &ignore, &h)) &&
            (s != NULL || e != NULL)) {
            lo = l < lo ? l : lo;
            hi = h > hi ? h : hi;
            any = true;
        }
    }
    return any ? date_value(x, t, lo, hi) : BASE_OK;
}

static int
date_node(struct ex *x, const struct sp_node *nd)
{
    int64_t lo;
    int64_t hi;

    if (fhir_json_is_string(nd->v))
        return date_of(nd->v, &lo, &hi) ? date_value(x, nd->v, lo, hi) : BASE_OK;
    if (!json_is_object(nd->v))
        return BASE_OK;
    if (json_object_get(nd->v, "event") != NULL || json_object_get(nd->v, "repeat") != NULL ||
        (nd->type != NULL && strcmp(nd->type, "Timing") == 0))
        return date_timing(x, nd->v);
    return date_period(x, nd->v);
}

/* ---- reference --------------------------------------------------------- */

/* "Type/id" or "Type/id/_history/v" at the end of `s`; false otherwise. */
static bool
split_type_id(struct base_arena *a, struct base_str s, const char **type, const char **id,
              const char **version)
{
    struct base_str seg[4];
    size_t n = 0;
    size_t end = s.len;

    for (size_t i = s.len; i-- > 0 && n < 4;) {
        if (s.ptr[i] == '/' || i == 0) {
            size_t from = s.ptr[i] == '/' ? i + 1 : 0;

            seg[n++] = base_str_sub(s, from, end - from);
            end = i;
        }
    }
    if (n >= 4 && base_str_eq_cstr(seg[1], "_history") && sp_is_type_name(seg[3]) &&
        seg[2].len > 0 && seg[0].len > 0) {
        *type = sp_dup(a, seg[3]);
        *id = sp_dup(a, seg[2]);
        *version = sp_dup(a, seg[0]);
        return *type != NULL && *id != NULL && *version != NULL;
    }
    if (n >= 2 && sp_is_type_name(seg[1]) && seg[0].len > 0) {
        *type = sp_dup(a, seg[1]);
        *id = sp_dup(a, seg[0]);
        return *type != NULL && *id != NULL;
    }
    return false;
}

static int
reference_string(struct ex *x, struct fhir_search_index *iv, const char *ref)
{
    struct base_str r = base_str_from_cstr(ref);
    struct base_str t;

    if (r.len > 1 && r.ptr[0] == '#') {
        t = sp_reference_type(x->resource, r);
        iv->u.reference.type = t.len > 0 ? sp_dup(x->a, t) : NULL;
        iv->u.reference.id = ref;
        return BASE_OK;
    }
    if (strstr(ref, "://") != NULL || strncmp(ref, "urn:", 4) == 0) {
        iv->u.reference.url = ref;
        (void)split_type_id(x->a, r, &iv->u.reference.type, &iv->u.reference.id,
                            &iv->u.reference.version);
        return BASE_OK;
    }
    if (!split_type_id(x->a, r, &iv->u.reference.type, &iv->u.reference.id,
                       &iv->u.reference.version))
        iv->u.reference.id = ref; /* a bare id: keep it for id-only searches */
    return BASE_OK;
}

static int
reference_node(struct ex *x, const struct sp_node *nd)
{
    struct fhir_search_index *iv;
    const json_t *o = nd->v;

    if (fhir_json_is_string(o)) {
        /* canonical / uri: "url|version" (R4 §3.1.1.4.7.1) */
        const char *s = json_string_value(o);
        const char *bar = strchr(s, '|');

        NEW_VALUE(iv, x, o);
        iv->u.reference.url = bar == NULL ? s : base_arena_strndup(x->a, s, (size_t)(bar - s));
        iv->u.reference.version = bar == NULL ? NULL : bar + 1;
        return iv->u.reference.url != NULL ? BASE_OK : BASE_E_NOMEM;
    }
    if (!json_is_object(o))
        return BASE_OK;
    {
        const char *ref = sp_get_str(o, "reference");
        const json_t *ident = json_object_get(o, "identifier");

        if (ref == NULL && ident == NULL)
            return BASE_OK;
        NEW_VALUE(iv, x, o);
        if (ref != NULL)
            TRY(reference_string(x, iv, ref));
        if (iv->u.reference.type == NULL)
            iv->u.reference.type = sp_get_str(o, "type");
        iv->u.reference.id_system = sp_get_str(ident, "system");
        iv->u.reference.id_value = sp_get_str(ident, "value");
    }
    return BASE_OK;
}

/* ---- quantity, number, uri -------------------------------------------- */

static bool
dec_of(const json_t *v, struct fhir_search_dec *out)
{
    char buf[48];
    struct base_str t = fhir_json_number_text(v, buf, sizeof(buf));

    return t.len > 0 && fhir_search_dec_parse(t.ptr, t.len, out);
}

static int
quantity_single(struct ex *x, const json_t *q)
{
    struct fhir_search_index *iv;
    struct fhir_search_dec d;
    const char *cmp = sp_get_str(q, "comparator");
    const char *currency = sp_get_str(q, "currency");

    if (!dec_of(json_object_get(q, "value"), &d))
        return BASE_OK;
    NEW_VALUE(iv, x, q);
    iv->u.quantity.low = d;
    iv->u.quantity.high = d;
    /* Quantity.comparator "<" / ">" makes the value an open bound. */
    iv->u.quantity.low_open = cmp != NULL && cmp[0] == '<';
    iv->u.quantity.high_open = cmp != NULL && cmp[0] == '>';
    iv->u.quantity.system = currency != NULL ? "urn:iso:std:iso:4217" : sp_get_str(q, "system");
    iv->u.quantity.code = currency != NULL ? currency : sp_get_str(q, "code");
    iv->u.quantity.unit = sp_get_str(q, "unit");
    return BASE_OK;
}

static int
quantity_range(struct ex *x, const json_t *r)
{
    struct fhir_search_index *iv;
    const json_t *lo = json_object_get(r, "low");
    const json_t *hi = json_object_get(r, "high");
    const json_t *unit_src = lo != NULL ? lo : hi;
    struct fhir_search_dec l = {0, 0};
    struct fhir_search_dec h = {0, 0};
    bool has_l = dec_of(json_object_get(lo, "value"), &l);
    bool has_h = dec_of(json_object_get(hi, "value"), &h);

    if (!has_l && !has_h)
        return BASE_OK;
    NEW_VALUE(iv, x, r);
    iv->u.quantity.low = has_l ? l : h;
    iv->u.quantity.high = has_h ? h : l;
    iv->u.quantity.low_open = !has_l;
    iv->u.quantity.high_open = !has_h;
    iv->u.quantity.system = sp_get_str(unit_src, "system");
    iv->u.quantity.code = sp_get_str(unit_src, "code");
    iv->u.quantity.unit = sp_get_str(unit_src, "unit");
    return BASE_OK;
}

static int
quantity_node(struct ex *x, const struct sp_node *nd)
{
    if (!json_is_object(nd->v))
        return BASE_OK;
    if (json_object_get(nd->v, "low") != NULL || json_object_get(nd->v, "high") != NULL)
        return quantity_range(x, nd->v);
    /* SampledData is listed by value-quantity but holds no single value;
     * like other servers we do not index its samples. */
    return quantity_single(x, nd->v);
}

static int
number_node(struct ex *x, const struct sp_node *nd)
{
    struct fhir_search_index *iv;
    struct fhir_search_dec d;

    if (!dec_of(nd->v, &d))
        return BASE_OK;
    NEW_VALUE(iv, x, nd->v);
    iv->u.quantity.low = d;
    iv->u.quantity.high = d;
    return BASE_OK;
}

static int
uri_node(struct ex *x, const struct sp_node *nd)
{
    struct fhir_search_index *iv;

    if (!fhir_json_is_string(nd->v))
        return BASE_OK;
    NEW_VALUE(iv, x, nd->v);
    iv->u.uri.value = json_string_value(nd->v);
    return BASE_OK;
}

/* ---- entry point -------------------------------------------------------- */

static int
extract_node(struct ex *x, const struct sp_node *nd)
{
    switch (x->def->type) {
    case FHIR_SEARCH_TOKEN:
        return token_node(x, nd);
    case FHIR_SEARCH_STRING:
        return string_node(x, nd);
    case FHIR_SEARCH_DATE:
        return date_node(x, nd);
    case FHIR_SEARCH_REFERENCE:
        return reference_node(x, nd);
    case FHIR_SEARCH_QUANTITY:
        return quantity_node(x, nd);
    case FHIR_SEARCH_NUMBER:
        return number_node(x, nd);
    case FHIR_SEARCH_URI:
        return uri_node(x, nd);
    default:
        return BASE_E_INTERNAL;
    }
}

int
fhir_search_extract(struct base_arena *a, const json_t *resource,
                    const struct fhir_search_param_def *def, struct fhir_search_index **out,
                    size_t *n_out, struct base_err *err)
{
    struct ex x = {a, resource, def, NULL, 0, 0};
    const struct sp_expr *e = sp_expr_of(def);
    const char *rt = sp_get_str(resource, "resourceType");
    struct sp_node *nodes = NULL;
    size_t n = 0;
    int rc;

    *out = NULL;
    *n_out = 0;
    ENSURE(e != NULL, err, BASE_E_INVALID, "not-supported", def != NULL ? def->name : NULL,
           "search parameter has no supported expression");
    ENSURE(rt != NULL && (strcmp(def->resource, "Resource") == 0 || strcmp(def->resource, rt) == 0),
           err, BASE_E_INVALID, "invalid", def->name, "resource type does not match parameter");
    rc = sp_eval(a, resource, e, &nodes, &n, BASE_LIMIT_SEARCH_MAX_INDEX_VALUES);
    if (rc == BASE_OK && e->exists_not_false)
        rc = token_exists_not_false(&x, nodes, n);
    for (size_t i = 0; rc == BASE_OK && !e->exists_not_false && i < n; i++)
        rc = extract_node(&x, &nodes[i]);
    if (rc != BASE_OK)
        return base_err_set(err, rc, rc == BASE_E_LIMIT ? "too-costly" : "exception", def->name,
                            rc == BASE_E_LIMIT ? "too many values for one search parameter"
                                               : "out of memory extracting search values");
    *out = x.v;
    *n_out = x.n;
    return BASE_OK;
}
