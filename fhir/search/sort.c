/*
 * _sort support (R4 §3.1.1.5.3): sort keys from the same index values the
 * matcher uses.  Ascending takes the lowest value of a multi-valued
 * element, descending the highest; resources without a value come last.
 */
#include "fhir/search/search_int.h"

#include <string.h>

static int
str_cmp(const char *x, const char *y)
{
    return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

/* Order of two index values of the same type (low ends; date high end
 * for descending keys). */
static int
index_cmp(const struct fhir_search_sortval *x, const struct fhir_search_sortval *y)
{
    switch (x->type) {
    case FHIR_SEARCH_DATE:
        return x->time < y->time ? -1 : x->time > y->time ? 1 : 0;
    case FHIR_SEARCH_NUMBER:
    case FHIR_SEARCH_QUANTITY:
        return fhir_search_dec_cmp(x->num, y->num);
    default: {
        int c = str_cmp(x->str, y->str);

        return c != 0 ? c : str_cmp(x->str2, y->str2);
    }
    }
}

static int
to_sortval(struct base_arena *a, const struct fhir_search_index *iv, bool desc,
           struct fhir_search_sortval *sv)
{
    memset(sv, 0, sizeof(*sv));
    sv->present = true;
    sv->type = iv->type;
    switch (iv->type) {
    case FHIR_SEARCH_DATE:
        sv->time = desc ? iv->u.date.high : iv->u.date.low;
        return BASE_OK;
    case FHIR_SEARCH_NUMBER:
    case FHIR_SEARCH_QUANTITY:
        sv->num = desc ? iv->u.quantity.high : iv->u.quantity.low;
        return BASE_OK;
    case FHIR_SEARCH_STRING:
        sv->str = iv->u.string.norm;
        return BASE_OK;
    case FHIR_SEARCH_TOKEN:
        sv->str = iv->u.token.code != NULL ? iv->u.token.code : iv->u.token.text;
        sv->str2 = iv->u.token.system;
        return BASE_OK;
    case FHIR_SEARCH_REFERENCE:
        sv->str = iv->u.reference.url;
        if (sv->str == NULL && iv->u.reference.type != NULL && iv->u.reference.id != NULL)
            sv->str = base_arena_sprintf(a, "%s/%s", iv->u.reference.type, iv->u.reference.id);
        else if (sv->str == NULL)
            sv->str = iv->u.reference.id != NULL ? iv->u.reference.id : iv->u.reference.id_value;
        return BASE_OK;
    case FHIR_SEARCH_URI:
        sv->str = iv->u.uri.value;
        return BASE_OK;
    default:
        return BASE_E_INTERNAL;
    }
}

int
fhir_search_sort_value(struct base_arena *a, const json_t *resource,
                       const struct fhir_search_sort_key *key, struct fhir_search_sortval *out,
                       struct base_err *err)
{
    struct fhir_search_index *iv = NULL;
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    out->type = key->def->type;
    TRY(fhir_search_extract(a, resource, key->def, &iv, &n, err));
    for (size_t i = 0; i < n; i++) {
        struct fhir_search_sortval cand;
        int c;

        TRY(to_sortval(a, &iv[i], key->desc, &cand));
        if (cand.str == NULL && cand.type != FHIR_SEARCH_DATE && cand.type != FHIR_SEARCH_NUMBER &&
            cand.type != FHIR_SEARCH_QUANTITY)
            continue;
        c = out->present ? index_cmp(&cand, out) : -1;
        if (!out->present || (key->desc ? c > 0 : c < 0))
            *out = cand;
    }
    return BASE_OK;
}

int
fhir_search_sortval_cmp(const struct fhir_search_sortval *x, const struct fhir_search_sortval *y,
                        bool desc)
{
    int c;

    if (!x->present || !y->present)
        return x->present == y->present ? 0 : x->present ? -1 : 1;
    c = index_cmp(x, y);
    return desc ? -c : c;
}

int
fhir_search_compare(const struct fhir_search *s, const json_t *x, const json_t *y,
                    struct base_arena *scratch)
{
    int result = 0;

    for (size_t i = 0; result == 0 && i < s->n_sort; i++) {
        struct base_arena *a = base_arena_child(scratch, 0);
        struct fhir_search_sortval vx;
        struct fhir_search_sortval vy;

        if (a == NULL)
            return 0;
        if (fhir_search_sort_value(a, x, &s->sort[i], &vx, NULL) == BASE_OK &&
            fhir_search_sort_value(a, y, &s->sort[i], &vy, NULL) == BASE_OK)
            result = fhir_search_sortval_cmp(&vx, &vy, s->sort[i].desc);
        base_arena_free(a);
    }
    return result;
}
