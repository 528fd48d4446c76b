/*
 * Searchset Bundles of a page.  The header (total, next link) is only known
 * after the page's rows, so the rows of one page are kept (a page is at
 * most the search maximum) and then written with the streaming writer,
 * their stored JSON spliced, not re-parsed.
 */
#include "adapters/store/store_int.h"

#include <string.h>

#include "fhir/search/fhir_search.h"

struct kept {
    const char *type;
    const char *id;
    const char *json;
    size_t len;
    enum fhir_bundle_mode mode;
};

struct collect {
    struct base_arena *a;
    struct kept *rows;
    size_t n;
    size_t cap;
};

static int
collect_row(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct collect *c = ctx;
    struct kept *k;

    if (row->json == NULL)
        return BASE_OK;
    if (c->n == c->cap) {
        size_t ncap = c->cap == 0 ? 16 : c->cap * 2;
        struct kept *nr = base_arena_grow(c->a, c->rows, c->n, ncap, sizeof(*nr));

        if (nr == NULL)
            return BASE_E_NOMEM;
        c->rows = nr;
        c->cap = ncap;
    }
    k = &c->rows[c->n];
    k->type = base_arena_strdup(c->a, row->type);
    k->id = base_arena_strdup(c->a, row->id);
    k->json = base_arena_memdup(c->a, row->json, row->len);
    k->len = row->len;
    k->mode = mode;
    if (k->type == NULL || k->id == NULL || k->json == NULL)
        return BASE_E_NOMEM;
    c->n++;
    return BASE_OK;
}

/* self, next, previous links of a page under base/path?query. */
static size_t
links(struct base_arena *a, const char *base, const char *path, const char *query,
      const struct adapter_store_page *page, struct fhir_bundle_link out[3])
{
    size_t n = 0;

    if (base == NULL)
        return 0;
    out[n].relation = "self";
    out[n++].url = fhir_bundle_page_url(a, base, path, query, page->self_cursor);
    if (page->next_cursor != NULL) {
        out[n].relation = "next";
        out[n++].url = fhir_bundle_page_url(a, base, path, query, page->next_cursor);
    }
    if (page->prev_cursor != NULL) {
        out[n].relation = "previous";
        out[n++].url = fhir_bundle_page_url(
            a, base, path, query, page->prev_cursor[0] != '\0' ? page->prev_cursor : NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].url == NULL)
            return SIZE_MAX;
    }
    return n;
}

static int
write_page(struct base_arena *a, const char *base, const char *path, const char *query,
           const struct adapter_store_page *page, const struct collect *rows, struct base_buf *out,
           struct base_err *err)
{
    struct fhir_bundle_link l[3];
    size_t nl = links(a, base, path, query, page, l);
    struct fhir_bundle_header h = {FHIR_BUNDLE_SEARCHSET, NULL, NULL, page->has_total,
                                   page->total,           l,    nl};
    struct fhir_bundle_writer w;

    ENSURE(nl != SIZE_MAX, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (fhir_bundle_writer_begin(&w, out, &h) != BASE_OK)
        return base_err_set(err, w.rc, "too-costly", NULL, "result too large");
    for (size_t i = 0; i < rows->n; i++) {
        const struct kept *k = &rows->rows[i];
        const char *full = base != NULL ? fhir_bundle_full_url(a, base, k->type, k->id) : NULL;

        TRY(fhir_bundle_writer_entry_raw(&w, full, k->json, k->len, k->mode, NULL, err));
    }
    if (fhir_bundle_writer_end(&w) != BASE_OK)
        return base_err_set(err, w.rc, "too-costly", NULL, "result too large");
    return BASE_OK;
}

int
adapter_store_search_bundle(PGconn *c, struct base_arena *a, const struct fhir_search *s,
                            const struct adapter_store_search_opts *o, struct base_buf *out,
                            struct base_err *err)
{
    struct collect rows = {a, NULL, 0, 0};
    struct adapter_store_page page;
    const char *base = o != NULL ? o->base_url : NULL;
    const char *query = fhir_search_canonical_query(a, s);

    ENSURE(query != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    TRY(adapter_store_search(c, a, s, o, collect_row, &rows, &page, err));
    return write_page(a, base, s->resource_type, query, &page, &rows, out, err);
}

static const char *
everything_query(struct base_arena *a, const struct adapter_store_everything *e)
{
    struct base_buf b;
    char *out = NULL;
    int rc;

    base_buf_init(&b, 1u << 16);
    rc = e->count > 0 ? base_buf_appendf(&b, "_count=%u", e->count) : BASE_OK;
    for (size_t i = 0; rc == BASE_OK && i < e->n_types; i++)
        rc = base_buf_appendf(&b, "%s%s", i == 0 ? (b.len > 0 ? "&_type=" : "_type=") : ",",
                              e->types[i]);
    if (rc == BASE_OK && e->since_us != 0) {
        char when[40];

        if (adapter_store_format_instant(e->since_us, when, sizeof(when)) > 0)
            rc = base_buf_appendf(&b, "%s_since=%s", b.len > 0 ? "&" : "", when);
    }
    if (rc == BASE_OK)
        out = b.len > 0 ? base_buf_dup0(&b, a) : base_arena_strdup(a, "");
    base_buf_fini(&b);
    return out;
}

int
adapter_store_everything_bundle(PGconn *c, struct base_arena *a,
                                const struct adapter_store_everything *e,
                                const struct adapter_store_search_opts *o, struct base_buf *out,
                                struct base_err *err)
{
    struct collect rows = {a, NULL, 0, 0};
    struct adapter_store_page page;
    const char *base = o != NULL ? o->base_url : NULL;
    const char *path;
    const char *query = everything_query(a, e);

    ENSURE(query != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    TRY(adapter_store_everything(c, a, e, o, collect_row, &rows, &page, err));
    path = base_arena_sprintf(a, "Patient/%s/$everything", e->patient_id);
    ENSURE(path != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return write_page(a, base, path, query, &page, &rows, out, err);
}
