/*
 * One page of results as a searchset Bundle, written by splicing the
 * stored JSON (fhir/bundle's writer): rows are collected first (the header
 * needs the next link and the total), at most one page of them.
 */
#include <string.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"

int
adapter_facade__page_init(struct adapter_page *p, struct base_arena *a, size_t cap)
{
    memset(p, 0, sizeof(*p));
    p->a = a;
    p->cap = cap + 1;
    p->rows = BASE_NEW_N(a, struct adapter_page_row, p->cap);
    return p->rows != NULL ? BASE_OK : BASE_E_NOMEM;
}

int
adapter_facade__page_row(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct adapter_page *p = ctx;
    struct adapter_page_row *o;

    if (row->json == NULL)
        return BASE_OK; /* a deleted version: not part of a searchset */
    if (p->n >= p->cap)
        return BASE_E_LIMIT;
    o = &p->rows[p->n];
    o->type = base_arena_strdup(p->a, row->type);
    o->id = base_arena_strdup(p->a, row->id);
    o->json = base_arena_memdup(p->a, row->json, row->len);
    o->len = row->len;
    o->last_updated_us = row->last_updated_us;
    o->mode = mode;
    if (o->type == NULL || o->id == NULL || o->json == NULL)
        return BASE_E_NOMEM;
    p->n++;
    return BASE_OK;
}

int
adapter_facade__page_tree(struct adapter_page *p, const json_t *res, enum fhir_bundle_mode mode)
{
    struct adapter_page_row *o;
    const char *id = json_string_value(json_object_get(res, "id"));
    const char *type = json_string_value(json_object_get(res, "resourceType"));

    if (p->n >= p->cap)
        return BASE_E_LIMIT;
    o = &p->rows[p->n];
    memset(o, 0, sizeof(*o));
    o->type = type != NULL ? base_arena_strdup(p->a, type) : NULL;
    o->id = id != NULL ? base_arena_strdup(p->a, id) : NULL;
    o->tree = res;
    o->mode = mode;
    if (type == NULL || (id != NULL && o->id == NULL) || o->type == NULL)
        return BASE_E_NOMEM;
    p->n++;
    return BASE_OK;
}

/* Serialize the page (entries, then outcome entries) into `out`. */
int
adapter_facade__page_write(const struct adapter_page *p, const char *base,
                           const struct fhir_bundle_link *links, size_t n_links, bool has_total,
                           uint64_t total, const json_t *outcome, struct base_buf *out,
                           struct base_err *err)
{
    struct fhir_bundle_header h = {
        FHIR_BUNDLE_SEARCHSET, NULL, NULL, has_total, total, links, n_links};
    struct fhir_bundle_writer w;

    TRY(fhir_bundle_writer_begin(&w, out, &h));
    for (size_t i = 0; i < p->n; i++) {
        const struct adapter_page_row *row = &p->rows[i];
        char *url = row->id != NULL ? fhir_bundle_full_url(p->a, base, row->type, row->id) : NULL;

        if (row->id != NULL && url == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        if (row->tree != NULL)
            TRY(fhir_bundle_writer_entry(&w, url, row->tree, row->mode, NULL));
        else
            TRY(fhir_bundle_writer_entry_raw(&w, url, row->json, row->len, row->mode, NULL, err));
    }
    if (outcome != NULL)
        TRY(fhir_bundle_writer_entry(&w, NULL, outcome, FHIR_BUNDLE_MODE_OUTCOME, NULL));
    return fhir_bundle_writer_end(&w);
}
