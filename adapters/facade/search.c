/*
 * GET /fhir/TYPE?… — FHIR R4 search (search.html) over the adapter store.
 *
 * Every R4 search parameter of the type is accepted (the store indexes
 * them all, so the gateway can pass its parameters through); a parameter
 * R4 does not define for the type (Condition has no `date`) is refused
 * with 400 naming it.  Paging: `_count` (default 50, at most 1000) and
 * `_offset`; next/previous links carry `_offset`.  A search sorted by
 * `_lastUpdated` ascending alone — the gateway's identity pull — pages by
 * key instead: the next link asks `_lastUpdated=gt<last row's time>`,
 * which cannot skip a row however the data change between pages (the
 * store hands out unique, increasing lastUpdated times in commit order).
 *
 * ImagingStudy with a patient, when the PACS is live (mode live or both),
 * is answered from the PACS; a PACS that cannot answer adds an
 * OperationOutcome entry naming it (in mode both, next to the stored
 * studies).
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/search/fhir_search.h"

struct search_ctx {
    struct gw_http_req *r;
    struct adapter_facade *f;
    struct base_arena *a;
    struct fhir_search *s;
    const char *type;
    bool lenient; /* Prefer: handling=lenient */
    const char *link_base; /* the base the client used (gw_http_req_base_url) */
};

/* ------------------------------------------------------------------ links -- */

static bool
keyset(const struct fhir_search *s)
{
    return s->n_sort == 1 && !s->sort[0].desc && s->sort[0].def != NULL &&
           strcmp(s->sort[0].def->name, "_lastUpdated") == 0;
}

/* A lower bound on _lastUpdated ("gt…", "ge…"): implied by the keyset. */
static bool
lower_bound(const struct gw_http_param *p)
{
    return base_str_eq_cstr(p->name, "_lastUpdated") && p->value.len >= 2 &&
           (memcmp(p->value.ptr, "gt", 2) == 0 || memcmp(p->value.ptr, "ge", 2) == 0);
}

static bool
paging_param(const struct gw_http_param *p)
{
    return base_str_eq_cstr(p->name, "_offset") || base_str_eq_cstr(p->name, "_cursor");
}

/* _format and _pretty are not search parameters (the canonical query has
 * none), yet a client that asked for XML must get XML from the next link
 * too (HAPI keeps them in paging links): "&_format=…&_pretty=…" as sent. */
static const char *
presentation(struct search_ctx *x)
{
    struct base_buf b;
    char *out = NULL;
    int rc = BASE_OK;

    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL);
    for (size_t i = 0; rc == BASE_OK && i < gw_http_req_query_count(x->r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(x->r, i);

        if (base_str_eq_cstr(p->name, "_format") || base_str_eq_cstr(p->name, "_pretty"))
            rc = base_buf_appendf(&b, "&%.*s=%.*s", (int)p->raw_name.len, p->raw_name.ptr,
                                  (int)p->raw_value.len, p->raw_value.ptr);
    }
    if (rc == BASE_OK)
        out = b.len > 0 ? base_buf_dup0(&b, x->a) : base_arena_strdup(x->a, "");
    base_buf_fini(&b);
    return out;
}

/* The next page of a keyset search: the query as received, without its
 * paging and lower bounds on _lastUpdated, plus _lastUpdated=gt<last>. */
static char *
keyset_next(struct search_ctx *x, int64_t last_us)
{
    struct base_buf b;
    char when[40];
    char *url = NULL;
    int rc;

    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL * 4);
    rc = base_buf_appendf(&b, "%s/%s?", x->link_base, x->type);
    for (size_t i = 0; rc == BASE_OK && i < gw_http_req_query_count(x->r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(x->r, i);

        if (paging_param(p) || lower_bound(p))
            continue;
        rc = base_buf_appendf(&b, "%.*s=%.*s&", (int)p->raw_name.len, p->raw_name.ptr,
                              (int)p->raw_value.len, p->raw_value.ptr);
    }
    adapter_store_format_instant(last_us, when, sizeof(when));
    if (rc == BASE_OK)
        rc = base_buf_appendf(&b, "_lastUpdated=gt%s", when);
    if (rc == BASE_OK)
        url = base_buf_dup0(&b, x->a);
    base_buf_fini(&b);
    return url;
}

static char *
offset_url(struct search_ctx *x, const char *query, const char *offset)
{
    const char *q = query != NULL ? query : "";
    const char *pres = presentation(x);
    char *all;

    if (pres == NULL)
        return NULL;
    /* the canonical query, then _format/_pretty (their '&' dropped when first) */
    all = base_arena_sprintf(x->a, "%s%s", q, q[0] ? pres : pres + (pres[0] == '&'));
    if (all == NULL)
        return NULL;
    if (offset == NULL || offset[0] == '\0')
        return base_arena_sprintf(x->a, "%s/%s%s%s", x->link_base, x->type, all[0] ? "?" : "", all);
    return base_arena_sprintf(x->a, "%s/%s?%s%s_offset=%s", x->link_base, x->type, all,
                              all[0] ? "&" : "", offset);
}

static size_t
page_links(struct search_ctx *x, const struct adapter_store_page *pg, const struct adapter_page *p,
           struct fhir_bundle_link *links)
{
    const char *q = fhir_search_canonical_query(x->a, x->s);
    size_t n = 0;

    links[n++] = (struct fhir_bundle_link){"self", offset_url(x, q, pg->self_cursor)};
    if (pg->next_cursor != NULL && keyset(x->s) && p->n > 0)
        links[n++] =
            (struct fhir_bundle_link){"next", keyset_next(x, p->rows[p->n - 1].last_updated_us)};
    else if (pg->next_cursor != NULL)
        links[n++] = (struct fhir_bundle_link){"next", offset_url(x, q, pg->next_cursor)};
    if (pg->prev_cursor != NULL && !keyset(x->s))
        links[n++] = (struct fhir_bundle_link){"previous", offset_url(x, q, pg->prev_cursor)};
    for (size_t i = 0; i < n; i++) {
        if (links[i].url == NULL)
            return 0;
    }
    return n;
}

/* ----------------------------------------------------------------- answer -- */

static void
send_page(struct search_ctx *x, const struct adapter_page *p, const struct fhir_bundle_link *links,
          size_t n_links, bool has_total, uint64_t total, const json_t *outcome)
{
    struct base_buf *out = BASE_NEW(x->a, struct base_buf);
    struct base_err err = {0};

    if (out == NULL) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        adapter_facade__fail(x->r, &err);
        return;
    }
    base_buf_init(out, BASE_LIMIT_HTTP_MAX_RESPONSE);
    if (base_buf_tie(out, x->a) != BASE_OK ||
        adapter_facade__page_write(p, x->f->cfg->public_url, links, n_links, has_total, total,
                                   outcome, out, &err) != BASE_OK) {
        if (err.rc == BASE_OK)
            (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "could not write the page");
        adapter_facade__fail(x->r, &err);
        return;
    }
    adapter_facade__send_text(x->r, 200, out->data, out->len);
}

/* The stored results, with `outcome` (may be NULL) as an extra entry. */
static void
stored(struct search_ctx *x, const json_t *outcome)
{
    struct adapter_store_search_opts so = {x->f->cfg->public_url, 0};
    struct fhir_bundle_link links[3];
    struct adapter_store_page pg;
    struct adapter_page p;
    struct base_err err = {0};
    struct gw_db_conn *c;
    size_t n_links;
    int rc;

    /* the whole page is kept before it is written: a page whose includes
     * pass the limit is refused, never cut */
    if (adapter_facade__page_init(
            &p, x->a, x->s->count + (x->s->n_includes > 0 ? BASE_LIMIT_STORE_MAX_INCLUDED : 0)) !=
        BASE_OK) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        adapter_facade__fail(x->r, &err);
        return;
    }
    if ((c = adapter_facade__db(x->r, x->f)) == NULL)
        return;
    rc = adapter_store_search(gw_db_conn_pg(c), x->a, x->s, &so, adapter_facade__page_row, &p, &pg,
                              &err);
    gw_db_release(c);
    if (rc != BASE_OK) {
        if (err.rc == BASE_OK)
            (void)base_err_set(&err, rc, "exception", NULL, "search failed");
        adapter_facade__fail(x->r, &err);
        return;
    }
    n_links = page_links(x, &pg, &p, links);
    send_page(x, &p, links, n_links, pg.has_total, pg.total, outcome);
}

/* ------------------------------------------------------------- live PACS -- */

/* Does this clause name Patients (`patient=`, `subject=`, `subject:Patient=`)? */
static bool
patient_clause(const struct fhir_search_clause *c)
{
    if (c->def == NULL ||
        (strcmp(c->def->name, "patient") != 0 && strcmp(c->def->name, "subject") != 0))
        return false;
    return c->modifier == FHIR_SEARCH_MOD_NONE ||
           (c->modifier == FHIR_SEARCH_MOD_TYPE && c->modifier_type != NULL &&
            strcmp(c->modifier_type, "Patient") == 0);
}

/* The local Patient ids of the first `patient=`/`subject=` clause whose
 * values all name a Patient (the gateway sends every local record of a
 * person as one OR list: `patient=Patient/a,Patient/b`); 0 when there is
 * none.  Other clauses filter the studies afterwards. */
static size_t
patients_of(const struct fhir_search *s, const char **ids, size_t cap)
{
    for (size_t i = 0; i < s->n_clauses; i++) {
        const struct fhir_search_clause *c = &s->clauses[i];
        size_t n = 0;

        if (!patient_clause(c) || c->n_values == 0 || c->n_values > cap)
            continue;
        for (size_t k = 0; k < c->n_values; k++) {
            const struct fhir_search_value *v = &c->values[k];

            if (v->u.reference.id == NULL || v->u.reference.version != NULL ||
                (v->u.reference.type != NULL && strcmp(v->u.reference.type, "Patient") != 0))
                break;
            ids[n++] = v->u.reference.id;
        }
        if (n == c->n_values)
            return n;
    }
    return 0;
}

static json_t *
pacs_outcome(struct search_ctx *x, const struct base_err *err)
{
    json_t *oo = fhir_outcome_new();
    char msg[300];
    const char *code = err->rc == BASE_E_UPSTREAM && strcmp(err->issue_code, "timeout") == 0
                           ? "timeout"
                           : "transient";

    snprintf(msg, sizeof(msg), "imaging studies are missing: %s", err->msg);
    if (oo == NULL || fhir_outcome_add(oo, "error", code, "ImagingStudy", msg) != BASE_OK ||
        fhir_json_tie(x->a, oo) != BASE_OK)
        return NULL;
    return oo;
}

static int
by_search(const void *pa, const void *pb, void *cls)
{
    struct search_ctx *x = cls;

    return fhir_search_compare(x->s, *(json_t *const *)pa, *(json_t *const *)pb, x->a);
}

/* The PACS's studies, filtered by every clause, sorted, one page, with
 * `outcome` (may be NULL: a PACS that failed for some of the patients) as
 * an extra entry. */
static void
live_page(struct search_ctx *x, json_t *studies, const json_t *outcome)
{
    struct fhir_search_match_opts mo = {0, x->f->cfg->public_url};
    size_t n = json_array_size(studies);
    json_t **keep = BASE_NEW_N(x->a, json_t *, n + 1);
    bool only_count = x->s->summary == FHIR_SEARCH_SUMMARY_COUNT || x->s->count == 0;
    struct adapter_store_page pg = {0};
    struct fhir_bundle_link links[3];
    struct base_err err = {0};
    struct adapter_page p;
    size_t k = 0;

    if (keep == NULL || adapter_facade__page_init(&p, x->a, x->s->count) != BASE_OK) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        adapter_facade__fail(x->r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        bool ok = false;

        if (fhir_search_match(x->s, json_array_get(studies, i), &mo, x->a, &ok, NULL) == BASE_OK &&
            ok)
            keep[k++] = json_array_get(studies, i);
    }
    if (x->s->n_sort > 0)
        qsort_r(keep, k, sizeof(*keep), by_search, x);
    for (size_t i = x->s->offset; !only_count && i < k && p.n < x->s->count; i++) {
        json_t *sub = NULL;

        /* _elements / _summary=data: the same subset the store makes */
        if (adapter_store_search_trims(x->s) &&
            (adapter_store_subset(x->s, keep[i], &sub) != BASE_OK ||
             fhir_json_tie(x->a, sub) != BASE_OK)) {
            (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
            adapter_facade__fail(x->r, &err);
            return;
        }
        (void)adapter_facade__page_tree(&p, sub != NULL ? sub : keep[i], FHIR_BUNDLE_MODE_MATCH);
    }
    pg.has_total = true;
    pg.total = k;
    pg.self_cursor = x->s->offset > 0
                         ? base_arena_sprintf(x->a, "%llu", (unsigned long long)x->s->offset)
                         : NULL;
    if (!only_count && x->s->offset + x->s->count < k)
        pg.next_cursor =
            base_arena_sprintf(x->a, "%llu", (unsigned long long)(x->s->offset + x->s->count));
    send_page(x, &p, links, page_links(x, &pg, &p, links), true, k, outcome);
}

/* Append the studies of `more` not yet in `all` (two local records of one
 * person may share a PACS PatientID: the same study, the same id). */
static int
merge_studies(json_t *all, json_t *more)
{
    json_t *st;
    size_t i;

    json_array_foreach(more, i, st)
    {
        const char *id = json_string_value(json_object_get(st, "id"));
        bool seen = false;
        json_t *old;
        size_t k;

        json_array_foreach(all, k, old)
        {
            if (id != NULL && base_str_eq_cstr(fhir_json_str(json_object_get(old, "id")), id)) {
                seen = true;
                break;
            }
        }
        if (!seen && json_array_append(all, st) != 0)
            return BASE_E_NOMEM;
    }
    return BASE_OK;
}

static void
live(struct search_ctx *x, const char *const *patients, size_t n)
{
    const struct adapter_config *cfg = x->f->cfg;
    struct base_err err = {0};
    json_t *all = json_array();
    size_t asked = 0;
    bool failed = false;

    if (all == NULL || fhir_json_tie(x->a, all) != BASE_OK) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        adapter_facade__fail(x->r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct base_err why = {0};
        json_t *studies = NULL;
        int rc = adapter_pacs_live(x->f->d, x->a, patients[i], &studies, &why);

        if (rc == BASE_OK) {
            asked++;
            if (merge_studies(all, studies) != BASE_OK) {
                (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
                adapter_facade__fail(x->r, &err);
                return;
            }
            continue;
        }
        /* No such patient, or none the PACS knows: nothing to ask. */
        if (rc == BASE_E_NOTFOUND)
            continue;
        BASE_LOG_REQ(BASE_LOG_WARN, gw_http_req_id(x->r), "adapter.pacs_failed", "rc=%s",
                     base_rc_name(rc));
        if (!failed)
            err = why;
        failed = true;
    }
    if (!failed && asked == 0) {
        stored(x, NULL);
        return;
    }
    /* Never an empty success: the answer says the PACS is missing.  In
     * mode both the stored studies stand in for it. */
    if (failed && cfg->pacs_mode == ADAPTER_PACS_BOTH) {
        stored(x, pacs_outcome(x, &err));
        return;
    }
    live_page(x, all, failed ? pacs_outcome(x, &err) : NULL);
}

/* ----------------------------------------------------------------- handler -- */

/* Add a warning for an include lenient handling ignores. */
static bool
warn_ignored(struct search_ctx *x, const char *param, const char *msg)
{
    struct fhir_search *s = x->s;
    struct fhir_search_warning *w = BASE_NEW_N(x->a, struct fhir_search_warning, s->n_warnings + 1);
    const char *m = base_arena_sprintf(x->a, "%s; ignored", msg);
    const char *where = base_arena_strdup(x->a, param);

    if (w == NULL || m == NULL || where == NULL)
        return false;
    if (s->n_warnings > 0)
        memcpy(w, s->warnings, s->n_warnings * sizeof(*w));
    w[s->n_warnings] = (struct fhir_search_warning){where, m};
    s->warnings = w;
    s->n_warnings++;
    return true;
}

/* Keep the includes `ok` accepts; the others are a 400 naming them, or
 * under lenient handling (R4 search.html#errors) ignored and said so like
 * every other parameter it ignores. */
static bool
keep_includes(struct search_ctx *x,
              int (*ok)(const struct fhir_search *, const struct fhir_search_include *,
                        struct base_err *))
{
    struct fhir_search *s = x->s;
    size_t kept = 0;

    for (size_t i = 0; i < s->n_includes; i++) {
        struct base_err err = {0};

        if (ok(s, &s->includes[i], &err) == BASE_OK) {
            s->includes[kept++] = s->includes[i];
            continue;
        }
        if (!x->lenient) {
            adapter_facade__fail(x->r, &err);
            return false;
        }
        if (!warn_ignored(x, err.where, err.msg)) {
            (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
            adapter_facade__fail(x->r, &err);
            return false;
        }
    }
    s->n_includes = kept;
    return true;
}

static bool
parse(struct search_ctx *x)
{
    struct fhir_search_options opt = fhir_search_options_default();
    struct base_str q = gw_http_req_query_string(x->r);
    struct base_err err = {0};

    opt.handling =
        fhir_search_handling_from_prefer(gw_http_req_header(x->r, "Prefer"), FHIR_SEARCH_STRICT);
    x->lenient = opt.handling == FHIR_SEARCH_LENIENT;
    if (fhir_search_parse(x->a, x->type, q.ptr != NULL ? q.ptr : "", q.len, &opt, &x->s, &err) !=
        BASE_OK) {
        adapter_facade__fail(x->r, &err);
        return false;
    }
    return keep_includes(x, adapter_store_include_check);
}

/* Studies asked from the PACS at request time are not in the store: no
 * include can start from them. */
static int
no_live_include(const struct fhir_search *s, const struct fhir_search_include *inc,
                struct base_err *err)
{
    (void)s;
    return base_err_set(err, BASE_E_INVALID, "not-supported", inc->rev ? "_revinclude" : "_include",
                        "includes are not supported on studies asked from the PACS");
}

/* What lenient handling ignored, as the page's OperationOutcome entry; NULL
 * when nothing was (or out of memory: the page goes without it). */
static const json_t *
ignored_outcome(struct search_ctx *x)
{
    json_t *oo;

    if (x->s->n_warnings == 0)
        return NULL;
    oo = fhir_outcome_new();
    if (oo == NULL || fhir_json_tie(x->a, oo) != BASE_OK) {
        json_decref(oo);
        return NULL;
    }
    if (fhir_search_warnings_to_outcome(x->s, oo) != BASE_OK)
        return NULL;
    return oo;
}

void
adapter_facade__h_search(struct gw_http_req *r, void *cls)
{
    struct search_ctx x = {r, cls, gw_http_req_arena(r), NULL, NULL, false, NULL};
    struct base_str t = gw_http_req_param(r, "type");
    struct base_err err = {0};
    const char *patients[BASE_LIMIT_SEARCH_MAX_OR_VALUES];
    size_t n;

    if (!adapter_facade__allow_data(r, x.f))
        return;
    if (!adapter_facade__type_in(adapter_facade_search_types, adapter_facade_search_type_count,
                                 t)) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-supported", "type",
                           "this adapter does not search that resource type");
        adapter_facade__fail(r, &err);
        return;
    }
    x.type = base_str_dup0(x.a, t);
    x.link_base = gw_http_req_base_url(r, x.f->cfg->public_url);
    if (x.type == NULL || !parse(&x))
        return;
    if (strcmp(x.type, "ImagingStudy") == 0 && x.f->cfg->pacs_enabled &&
        x.f->cfg->pacs_mode != ADAPTER_PACS_SYNC &&
        (n = patients_of(x.s, patients, BASE_LIMIT_SEARCH_MAX_OR_VALUES)) > 0) {
        /* what the store would refuse is refused before the PACS is asked */
        if (adapter_store_search_check(x.s, &err) != BASE_OK) {
            adapter_facade__fail(r, &err);
            return;
        }
        if (!keep_includes(&x, no_live_include))
            return;
        live(&x, patients, n);
        return;
    }
    stored(&x, ignored_outcome(&x));
}

/* POST [type]/_search (FHIR R4 http.html#search): the form's parameters
 * join the URL's, then it is the same search as the GET. */
void
adapter_facade__h_search_post(struct gw_http_req *r, void *cls)
{
    if (adapter_facade__allow_data(r, cls) && gw_http_take_search_form(r))
        adapter_facade__h_search(r, cls);
}
