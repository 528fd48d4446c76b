/*
 * Search: one statement per page (plus a count when the total is asked
 * for, and one for the page's _include / _revinclude), rows streamed in
 * single-row mode, offset paging through an opaque _cursor, _elements /
 * _summary trimming, and the searchset Bundle.
 */
#include "adapters/store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "fhir/model/fhir_model.h"
#include "fhir/summary/fhir_summary.h"

#define ROW_COLUMNS "r.pk, r.res_type, r.id, r.version, r.last_updated, r.deleted, r.content::text"

/* ---- checks ------------------------------------------------------------------------------ */

static int
check_supported(const struct fhir_search *s, struct base_err *err)
{
    for (size_t i = 0; i < s->n_includes; i++)
        TRY(adapter_store_include_check(s, &s->includes[i], err));
    return BASE_OK;
}

static int
page_offset(const struct fhir_search *s, uint64_t *off, struct base_err *err)
{
    *off = s->offset;
    if (s->cursor != NULL)
        ENSURE(st_parse_u64(s->cursor, off), err, BASE_E_INVALID, "value", "_cursor",
               "malformed paging cursor");
    ENSURE(*off <= BASE_LIMIT_STORE_MAX_OFFSET, err, BASE_E_LIMIT, "too-costly",
           s->cursor != NULL ? "_cursor" : "_offset", "paging too deep; narrow the search");
    return BASE_OK;
}

/* ---- statements -------------------------------------------------------------------------- */

static int
where(struct st_sql *q, struct base_arena *a, const struct fhir_search *s,
      const struct adapter_store_search_opts *o, struct base_err *err)
{
    struct st_compile cc;

    st_compile_init(&cc, a, o);
    st_sql_add(q, " FROM store.resource r WHERE r.res_type = ");
    st_sql_param(q, s->resource_type, NULL);
    st_sql_add(q, " AND NOT r.deleted");
    return st_compile_where(q, &cc, s, err);
}

static int
count_rows(PGconn *c, struct base_arena *a, const struct fhir_search *s,
           const struct adapter_store_search_opts *o, uint64_t *total, struct base_err *err)
{
    struct st_sql q;
    PGresult *r = NULL;
    int64_t n = 0;

    st_sql_init(&q, a);
    st_sql_add(&q, "SELECT count(*)");
    TRY(where(&q, a, s, o, err));
    TRY(st_exec_sql(c, &q, PGRES_TUPLES_OK, "count search results", &r, err));
    if (!st_col_i64(r, 0, 0, &n) || n < 0) {
        PQclear(r);
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "bad count");
    }
    PQclear(r);
    *total = (uint64_t)n;
    return BASE_OK;
}

/* ---- _elements and _summary --------------------------------------------------------------- */

/*
 * Does the subset keep member `key` of a resource of type `t`?  Always id,
 * meta and resourceType; with _elements the elements named (a choice by its
 * base name: "value" keeps valueQuantity, and each primitive's "_name"
 * form) and, as R4 search.html#elements asks ("Servers SHOULD always return
 * mandatory elements whether they are requested or not"), every element of
 * minimum cardinality 1, so that the subset is still a valid resource;
 * with _summary=data everything but the narrative.
 */
static bool
keep_member(const struct fhir_search *s, const struct fhir_model_type *t, const char *key)
{
    struct fhir_model_match m;

    if (strcmp(key, "resourceType") == 0 || strcmp(key, "id") == 0 || strcmp(key, "meta") == 0)
        return true;
    if (s->n_elements == 0)
        return strcmp(key, "text") != 0; /* _summary=data */
    if (t == NULL || !fhir_model_match_key(t, key, strlen(key), &m))
        return false; /* not an element of the type: never asked for */
    if (m.elem->min >= 1)
        return true;
    for (size_t i = 0; i < s->n_elements; i++) {
        if (strlen(s->elements[i]) == m.elem->name_len &&
            memcmp(s->elements[i], m.elem->name, m.elem->name_len) == 0)
            return true;
    }
    return false;
}

int
adapter_store_subset(const struct fhir_search *s, const json_t *res, json_t **out)
{
    json_t *kept = json_object();
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    const struct fhir_model_type *t = rt != NULL ? fhir_model_type_find(rt, strlen(rt)) : NULL;
    const char *key;
    json_t *v;
    int rc = kept != NULL ? BASE_OK : BASE_E_NOMEM;

    *out = NULL;
    if (s->summary == FHIR_SEARCH_SUMMARY_TRUE || s->summary == FHIR_SEARCH_SUMMARY_TEXT) {
        json_decref(kept);
        return fhir_summary_subset(
            res, s->summary == FHIR_SEARCH_SUMMARY_TRUE ? FHIR_SUMMARY_TRUE : FHIR_SUMMARY_TEXT,
            out);
    }
    json_object_foreach((json_t *)res, key, v)
    {
        if (rc == BASE_OK && keep_member(s, t, key) && json_object_set(kept, key, v) != 0)
            rc = BASE_E_NOMEM;
    }
    if (rc == BASE_OK)
        rc = fhir_summary_tag_subsetted(kept);
    if (rc != BASE_OK) {
        json_decref(kept);
        return rc;
    }
    *out = kept;
    return BASE_OK;
}

static int
trim(struct base_arena *a, const struct fhir_search *s, const struct adapter_store_row *in,
     struct adapter_store_row *out)
{
    json_t *res = NULL;
    json_t *kept = NULL;
    int rc = fhir_json_parse(in->json, in->len, NULL, &res, NULL);

    if (rc == BASE_OK)
        rc = adapter_store_subset(s, res, &kept);
    *out = *in;
    if (rc == BASE_OK) {
        out->json = fhir_json_dump_arena(kept, FHIR_JSON_COMPACT, a, &out->len);
        rc = out->json != NULL ? BASE_OK : BASE_E_NOMEM;
    }
    json_decref(res);
    json_decref(kept);
    return rc;
}

bool
adapter_store_search_trims(const struct fhir_search *s)
{
    return s->n_elements > 0 || s->summary == FHIR_SEARCH_SUMMARY_DATA ||
           s->summary == FHIR_SEARCH_SUMMARY_TRUE || s->summary == FHIR_SEARCH_SUMMARY_TEXT;
}

int
adapter_store_search_check(const struct fhir_search *s, struct base_err *err)
{
    return check_supported(s, err);
}

/* ---- streaming ----------------------------------------------------------------------------- */

struct sctx {
    const struct fhir_search *s;
    struct base_arena *a;
    adapter_store_row_fn fn;
    void *ctx;
    struct base_err *err;
    struct st_arr pks; /* the page's keys and ids, when there are includes */
    struct st_arr ids;
};

/* Note a match for the page's includes (column 0 is r.pk). */
static int
note_match(struct sctx *x, const PGresult *r, const struct adapter_store_row *row)
{
    int64_t pk = 0;

    if (x->s->n_includes == 0)
        return BASE_OK;
    if (!st_col_i64(r, 0, 0, &pk))
        return base_err_set(x->err, BASE_E_INTERNAL, "exception", NULL, "bad row key");
    st_arr_i64(&x->pks, pk);
    st_arr_text(&x->ids, row->id);
    if (x->pks.rc != BASE_OK || x->ids.rc != BASE_OK)
        return base_err_set(x->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return BASE_OK;
}

static int
search_row(void *vctx, const PGresult *r, const struct adapter_store_row *row)
{
    struct sctx *x = vctx;
    struct adapter_store_row out;
    struct base_arena *scratch;
    int rc;

    TRY(note_match(x, r, row));
    if (!adapter_store_search_trims(x->s) || row->json == NULL)
        return x->fn(x->ctx, row, FHIR_BUNDLE_MODE_MATCH);
    scratch = base_arena_child(x->a, 0);
    if (scratch == NULL)
        return base_err_set(x->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = trim(scratch, x->s, row, &out);
    if (rc == BASE_OK)
        rc = x->fn(x->ctx, &out, FHIR_BUNDLE_MODE_MATCH);
    else
        rc = base_err_set(x->err, rc, "exception", "_elements", "could not subset a resource");
    base_arena_free(scratch);
    return rc;
}

static const char *
u64_text(struct base_arena *a, uint64_t v)
{
    return base_arena_sprintf(a, "%" PRIu64, v);
}

static void
page_links(struct base_arena *a, uint64_t off, uint32_t count, bool more,
           struct adapter_store_page *page)
{
    page->self_cursor = off > 0 ? u64_text(a, off) : NULL;
    page->next_cursor = more ? u64_text(a, off + count) : NULL;
    if (off > 0)
        page->prev_cursor = off > count ? u64_text(a, off - count) : "";
}

/* The page's matches, streamed to x->fn; *more when there is a next page. */
static int
page_rows(PGconn *c, struct sctx *x, const struct adapter_store_search_opts *o, uint64_t off,
          size_t *n_rows, bool *more)
{
    const struct fhir_search *s = x->s;
    struct st_stream st = {search_row, x, 0, s->count, 0};
    struct st_sql q;

    /* Sort and page on keys alone, then fetch the page's resources: the
     * JSON of rows that do not make the page is never read. */
    st_sql_init(&q, x->a);
    st_sql_add(&q, "SELECT " ROW_COLUMNS " FROM (SELECT r.pk");
    TRY(st_compile_sort_keys(&q, s, x->err));
    TRY(where(&q, x->a, s, o, x->err));
    st_sql_add(&q, " ORDER BY ");
    st_compile_order_by(&q, s, "");
    st_sql_add(&q, " LIMIT ");
    st_sql_param_i64(&q, (int64_t)s->count + 1, "::bigint");
    st_sql_add(&q, " OFFSET ");
    st_sql_param_i64(&q, (int64_t)off, "::bigint");
    st_sql_add(&q, ") AS page JOIN store.resource r ON r.pk = page.pk ORDER BY ");
    st_compile_order_by(&q, s, "page.");
    TRY(st_stream_rows(c, &q, "search", &st, x->err));
    *n_rows = st.n_rows;
    /* One row more than a page was asked for: there is a next page. */
    *more = st.n_seen > st.max_rows;
    return BASE_OK;
}

/* The matches, then what the includes add to them. */
static int
matches_and_includes(PGconn *c, struct sctx *x, const struct adapter_store_search_opts *o,
                     uint64_t off, size_t *n_rows, bool *more)
{
    struct st_include_page ip = {&x->pks, &x->ids, 0};
    int rc;

    st_arr_init(&x->pks);
    st_arr_init(&x->ids);
    rc = page_rows(c, x, o, off, n_rows, more);
    ip.n = *n_rows;
    if (rc == BASE_OK)
        rc = st_include_rows(c, x->a, x->s, o, &ip, x->fn, x->ctx, x->err);
    st_arr_fini(&x->pks);
    st_arr_fini(&x->ids);
    return rc;
}

int
adapter_store_search(PGconn *c, struct base_arena *a, const struct fhir_search *s,
                     const struct adapter_store_search_opts *o, adapter_store_row_fn fn, void *ctx,
                     struct adapter_store_page *page, struct base_err *err)
{
    struct sctx x = {s, a, fn, ctx, err, {{0}, 0, 0}, {{0}, 0, 0}};
    uint64_t off = 0;
    bool more = false;
    bool only_count = s->summary == FHIR_SEARCH_SUMMARY_COUNT || s->count == 0;

    memset(page, 0, sizeof(*page));
    TRY(check_supported(s, err));
    TRY(page_offset(s, &off, err));
    if (only_count || s->total == FHIR_SEARCH_TOTAL_ACCURATE) {
        TRY(count_rows(c, a, s, o, &page->total, err));
        page->has_total = true;
    }
    if (only_count)
        return BASE_OK;
    TRY(matches_and_includes(c, &x, o, off, &page->n_rows, &more));
    page_links(a, off, s->count, more, page);
    /* The total is exact for free when this is the last page. */
    if (!page->has_total && page->next_cursor == NULL && (off == 0 || page->n_rows > 0)) {
        page->has_total = true;
        page->total = off + page->n_rows;
    }
    return BASE_OK;
}
