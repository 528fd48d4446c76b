/*
 * _include and _revinclude (FHIR R4 search.html §3.1.1.5.4), non-iterate:
 * the resources a page's matches point at through the named reference
 * parameters, and those that point at the page's matches.  One statement
 * per page over store.idx_reference for every include together: the
 * page's keys and ids and the (parameter, target) / (source, parameter)
 * pairs travel as array parameters, never as SQL text.
 */
#include "adapters/store/store_int.h"

#include <string.h>

#include "fhir/search/fhir_search.h"

#define ROW_COLUMNS "r.pk, r.res_type, r.id, r.version, r.last_updated, r.deleted, r.content::text"
#define MAX_PARAMS  128

int
adapter_store_include_check(const struct fhir_search *s, const struct fhir_search_include *inc,
                            struct base_err *err)
{
    (void)s; /* the store serves every include the R4 table allows */
    return fhir_search_include_check(inc, err);
}

/* ---- what to look for ------------------------------------------------------------------- */

/* The (parameter, target) pairs of the _includes and (source, parameter)
 * pairs of the _revincludes that can add something for type `type`; NULL
 * elements mean "any". */
struct pairs {
    struct st_arr fwd_param;
    struct st_arr fwd_target;
    struct st_arr rev_source;
    struct st_arr rev_param;
};

/* Every reference parameter of `type` (R4: Source:* and *). */
static void
all_references(struct pairs *p, const char *type, const char *target)
{
    const struct fhir_search_param_def *defs[MAX_PARAMS];
    size_t n = fhir_search_params_for(type, defs, MAX_PARAMS);

    for (size_t i = 0; i < n && i < MAX_PARAMS; i++) {
        if (defs[i]->type != FHIR_SEARCH_REFERENCE)
            continue;
        st_arr_text(&p->fwd_param, defs[i]->name);
        st_arr_text(&p->fwd_target, target);
    }
}

static void
add_include(struct pairs *p, const char *type, const struct fhir_search_include *inc)
{
    bool any_param = inc->wildcard || strcmp(inc->param, "*") == 0;

    if (!inc->rev) {
        /* only the searched type's own parameters reach from its matches */
        if (!inc->wildcard && strcmp(inc->source_type, type) != 0)
            return;
        if (any_param) {
            all_references(p, type, inc->target_type);
            return;
        }
        st_arr_text(&p->fwd_param, inc->param);
        st_arr_text(&p->fwd_target, inc->target_type);
        return;
    }
    /* a _revinclude's target must be the searched type to meet the matches */
    if (!inc->wildcard && inc->target_type != NULL && strcmp(inc->target_type, type) != 0)
        return;
    st_arr_text(&p->rev_source, inc->wildcard ? NULL : inc->source_type);
    st_arr_text(&p->rev_param, any_param ? NULL : inc->param);
}

/* ---- the statement ---------------------------------------------------------------------- */

static const char *
arr_dup(struct base_arena *a, struct st_arr *x)
{
    const char *t = st_arr_get(x);

    return t != NULL ? base_arena_strdup(a, t) : NULL;
}

static int
build(struct st_sql *q, const struct st_compile *cc, const char *type,
      const struct st_include_page *pg, struct pairs *p, struct base_err *err)
{
    const char *pks = arr_dup(q->a, pg->pks);
    const char *ids = arr_dup(q->a, pg->ids);
    const char *fp = arr_dup(q->a, &p->fwd_param);
    const char *ft = arr_dup(q->a, &p->fwd_target);
    const char *rs = arr_dup(q->a, &p->rev_source);
    const char *rp = arr_dup(q->a, &p->rev_param);
    bool fwd = p->fwd_param.n > 0;

    /* an array that failed would travel as NULL and silently match nothing */
    ENSURE(pks != NULL && ids != NULL && fp != NULL && ft != NULL && rs != NULL && rp != NULL, err,
           BASE_E_NOMEM, "exception", NULL, "out of memory");
    st_sql_add(q, "WITH inc AS (");
    if (fwd) {
        st_sql_add(q, "SELECT t.pk FROM store.idx_reference x JOIN unnest(");
        st_sql_param(q, fp, "::text[]");
        st_sql_add(q, ", ");
        st_sql_param(q, ft, "::text[]");
        st_sql_add(q, ") AS f(param, target) ON x.param = f.param"
                      " AND (f.target IS NULL OR x.ref_type = f.target)"
                      " JOIN store.resource t ON t.res_type = x.ref_type AND t.id = x.ref_id"
                      " WHERE x.res_pk = ANY (");
        st_sql_param(q, pks, "::bigint[]");
        st_sql_add(q, ") AND ");
        st_compile_local_url(q, cc);
    }
    if (p->rev_param.n > 0) {
        if (fwd)
            st_sql_add(q, " UNION ");
        /* ids are FHIR ids (at most 64 characters): left(ref_id, 100) is
         * the indexed key of idx_reference_id */
        st_sql_add(q, "SELECT x.res_pk AS pk FROM store.idx_reference x JOIN unnest(");
        st_sql_param(q, rs, "::text[]");
        st_sql_add(q, ", ");
        st_sql_param(q, rp, "::text[]");
        st_sql_add(q, ") AS v(source, param) ON (v.source IS NULL OR x.res_type = v.source)"
                      " AND (v.param IS NULL OR x.param = v.param)"
                      " WHERE left(x.ref_id, 100) = ANY (");
        st_sql_param(q, ids, "::text[]");
        st_sql_add(q, ") AND x.ref_id = ANY (");
        st_sql_param(q, ids, "::text[]");
        st_sql_add(q, ") AND x.ref_type = ");
        st_sql_param(q, type, NULL);
        st_sql_add(q, " AND ");
        st_compile_local_url(q, cc);
    }
    /* each once, never a match of the page, never a deleted one; keys are
     * sorted and cut before any content is read */
    st_sql_add(q, ") SELECT " ROW_COLUMNS " FROM (SELECT DISTINCT t.pk, t.res_type, t.id"
                  " FROM inc JOIN store.resource t ON t.pk = inc.pk WHERE NOT t.deleted"
                  " AND t.pk <> ALL (");
    st_sql_param(q, pks, "::bigint[]");
    st_sql_add(q, ") ORDER BY t.res_type, t.id LIMIT ");
    st_sql_param_i64(q, (int64_t)BASE_LIMIT_STORE_MAX_INCLUDED + 1, "::bigint");
    st_sql_add(q, ") AS k JOIN store.resource r ON r.pk = k.pk ORDER BY k.res_type, k.id");
    return BASE_OK;
}

struct ictx {
    adapter_store_row_fn fn;
    void *ctx;
};

static int
include_row(void *vctx, const PGresult *r, const struct adapter_store_row *row)
{
    struct ictx *x = vctx;

    (void)r;
    return x->fn(x->ctx, row, FHIR_BUNDLE_MODE_INCLUDE);
}

/* Which parameter a limit error names: _include unless only _revinclude was asked. */
static const char *
limit_name(const struct fhir_search *s)
{
    for (size_t i = 0; i < s->n_includes; i++) {
        if (!s->includes[i].rev)
            return "_include";
    }
    return "_revinclude";
}

int
st_include_rows(PGconn *c, struct base_arena *a, const struct fhir_search *s,
                const struct adapter_store_search_opts *o, const struct st_include_page *pg,
                adapter_store_row_fn fn, void *ctx, struct base_err *err)
{
    struct ictx x = {fn, ctx};
    struct st_stream st = {include_row, &x, 0, BASE_LIMIT_STORE_MAX_INCLUDED, 0};
    struct st_compile cc;
    struct st_sql q;
    struct pairs p;
    int rc = BASE_OK;

    if (s->n_includes == 0 || pg->n == 0)
        return BASE_OK;
    st_arr_init(&p.fwd_param);
    st_arr_init(&p.fwd_target);
    st_arr_init(&p.rev_source);
    st_arr_init(&p.rev_param);
    for (size_t i = 0; i < s->n_includes; i++)
        add_include(&p, s->resource_type, &s->includes[i]);
    if (p.fwd_param.n == 0 && p.rev_param.n == 0)
        goto out; /* nothing of the searched type's can be reached */
    st_compile_init(&cc, a, o);
    st_sql_init(&q, a);
    rc = build(&q, &cc, s->resource_type, pg, &p, err);
    if (rc == BASE_OK)
        rc = st_stream_rows(c, &q, "include", &st, err);
    if (rc == BASE_OK && st.n_seen > st.max_rows)
        rc = base_err_set(err, BASE_E_LIMIT, "too-costly", limit_name(s),
                          "too many included resources; narrow the search or lower _count");
out:
    st_arr_fini(&p.fwd_param);
    st_arr_fini(&p.fwd_target);
    st_arr_fini(&p.rev_source);
    st_arr_fini(&p.rev_param);
    return rc;
}
