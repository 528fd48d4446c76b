/*
 * _sort for the compiled search (R4 §3.1.1.5.3): each key is a correlated
 * subquery over the parameter's index rows, the lowest value for an
 * ascending key and the highest for a descending one, absent values last
 * — the order fhir_search_sort_value / fhir_search_sortval_cmp define.
 */
#include "adapters/store/store_int.h"

#include <string.h>

#include "fhir/search/fhir_search.h"

/* ---- _sort --------------------------------------------------------------------------------- */

/* Sort key expression of one index value (fhir/search/sort.c to_sortval). */
static const char *
sort_expr(enum fhir_search_type t, bool desc)
{
    switch (t) {
    case FHIR_SEARCH_DATE:
    case FHIR_SEARCH_NUMBER:
    case FHIR_SEARCH_QUANTITY:
        return desc ? "max(x.high)" : "min(x.low)";
    case FHIR_SEARCH_STRING:
        return desc ? "max(x.norm)" : "min(x.norm)";
    case FHIR_SEARCH_TOKEN:
        /* (code or text, system) compared in order: one string with a
         * separator below every printable character. */
        return desc ? "max(coalesce(x.code, x.text_raw) || chr(1) || coalesce(x.system, ''))"
                    : "min(coalesce(x.code, x.text_raw) || chr(1) || coalesce(x.system, ''))";
    case FHIR_SEARCH_REFERENCE:
        return desc ? "max(coalesce(x.ref_url, x.ref_type || '/' || x.ref_id, x.ref_id, "
                      "x.id_value))"
                    : "min(coalesce(x.ref_url, x.ref_type || '/' || x.ref_id, x.ref_id, "
                      "x.id_value))";
    case FHIR_SEARCH_URI:
        return desc ? "max(x.value)" : "min(x.value)";
    default:
        return NULL;
    }
}

/* Sort key i of s as ", <expr> AS k<i>" (a select-list item). */
static int
sort_item(struct st_sql *q, const struct fhir_search_sort_key *k, size_t i, struct base_err *err)
{
    static const char *const alias[] = {" AS k0", " AS k1", " AS k2", " AS k3",
                                        " AS k4", " AS k5", " AS k6", " AS k7"};

    ENSURE(i < BASE_ARRAY_LEN(alias), err, BASE_E_LIMIT, "too-costly", "_sort",
           "too many sort keys");
    st_sql_add(q, ", ");
    if (strcmp(k->def->name, "_id") == 0) {
        st_sql_add(q, "r.id");
    } else if (strcmp(k->def->name, "_lastUpdated") == 0) {
        st_sql_add(q, "r.last_updated");
    } else {
        const char *e = sort_expr(k->def->type, k->desc);

        ENSURE(e != NULL, err, BASE_E_INVALID, "not-supported", "_sort",
               "cannot sort by this parameter");
        st_sql_add(q, "(SELECT ");
        st_sql_add(q, e);
        st_sql_add(q, " FROM ");
        st_sql_add(q, st_table_of(k->def->type));
        st_sql_add(q, " x WHERE x.res_pk = r.pk AND x.param = ");
        st_sql_param(q, k->def->name, NULL);
        st_sql_add(q, ")");
    }
    st_sql_add(q, alias[i]);
    return BASE_OK;
}

int
st_compile_sort_keys(struct st_sql *q, const struct fhir_search *s, struct base_err *err)
{
    for (size_t i = 0; i < s->n_sort; i++)
        TRY(sort_item(q, &s->sort[i], i, err));
    return BASE_OK;
}

void
st_compile_order_by(struct st_sql *q, const struct fhir_search *s, const char *prefix)
{
    static const char *const key[] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"};

    for (size_t i = 0; i < s->n_sort && i < BASE_ARRAY_LEN(key); i++) {
        st_sql_add(q, prefix);
        st_sql_add(q, key[i]);
        st_sql_add(q, s->sort[i].desc ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
    }
    st_sql_add(q, prefix);
    st_sql_add(q, "pk");
}
