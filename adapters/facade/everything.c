/*
 * GET /fhir/Patient/ID/$everything (R4 OperationDefinition
 * Patient-everything): the Patient, its compartment and what that points
 * at, one page at a time (`_count`, default 50, at most 1000) with a keyset
 * cursor in the next link, so a record of any size is answered in bounded
 * memory and each page costs the same.  `_since` and `_type` as the spec
 * defines them, and `start`/`end`: care dates, by each type's clinical date
 * (adapters/store/everything.c).
 *
 * With a live PACS (mode live) the first page also carries the patient's
 * imaging studies from the PACS, or an OperationOutcome entry naming the
 * PACS when it cannot answer.
 */
#include <string.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/search/fhir_search.h"

struct ev_req {
    struct adapter_store_everything e;
    const char *query; /* _count, _since, _type for the links (percent-encoded as received) */
};

static int
add_query(struct base_arena *a, const char **q, const struct gw_http_param *p)
{
    *q = base_arena_sprintf(a, "%s%s%.*s=%.*s", *q, (*q)[0] ? "&" : "", (int)p->raw_name.len,
                            p->raw_name.ptr, (int)p->raw_value.len, p->raw_value.ptr);
    return *q != NULL ? BASE_OK : BASE_E_NOMEM;
}

static int
read_types(struct base_arena *a, struct ev_req *ev, struct base_str v, struct base_err *err)
{
    size_t n = 1;
    size_t k = 0;
    const char **types;

    for (size_t i = 0; i < v.len; i++)
        n += v.ptr[i] == ',';
    types = BASE_NEW_N(a, const char *, n);
    ENSURE(types != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    while (v.len > 0 && k < n) {
        struct base_str head;
        struct base_str tail;
        char *t;

        (void)base_str_cut(v, ',', &head, &tail);
        t = base_str_dup0(a, head);
        ENSURE(t != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        ENSURE(fhir_search_resource_known(t), err, BASE_E_INVALID, "value", "_type",
               "unknown resource type");
        types[k++] = t;
        v = tail;
    }
    ev->e.types = types;
    ev->e.n_types = k;
    return BASE_OK;
}

static int
parse_params(struct gw_http_req *r, struct base_arena *a, struct ev_req *ev, struct base_err *err)
{
    ev->query = "";
    for (size_t i = 0; i < gw_http_req_query_count(r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(r, i);
        uint64_t n = 0;
        int64_t lo = 0;
        int64_t hi = 0;

        if (base_str_eq_cstr(p->name, "_count")) {
            ENSURE(base_str_to_u64(p->value, &n) && n >= 1, err, BASE_E_INVALID, "value", "_count",
                   "expected a positive integer");
            ev->e.count =
                n > BASE_LIMIT_SEARCH_MAX_COUNT ? BASE_LIMIT_SEARCH_MAX_COUNT : (uint32_t)n;
            TRY(add_query(a, &ev->query, p));
        } else if (base_str_eq_cstr(p->name, "_since")) {
            ENSURE(fhir_search_date_range(p->value.ptr, p->value.len, &lo, &hi), err,
                   BASE_E_INVALID, "value", "_since", "expected an instant");
            ev->e.since_us = lo;
            TRY(add_query(a, &ev->query, p));
        } else if (base_str_eq_cstr(p->name, "_type")) {
            TRY(read_types(a, ev, p->value, err));
            TRY(add_query(a, &ev->query, p));
        } else if (base_str_eq_cstr(p->name, "start") || base_str_eq_cstr(p->name, "end")) {
            bool start = p->name.ptr[0] == 's';

            /* type date: YYYY, YYYY-MM or YYYY-MM-DD, the whole of it */
            ENSURE(p->value.len <= 10 &&
                       fhir_search_date_range(p->value.ptr, p->value.len, &lo, &hi),
                   err, BASE_E_INVALID, "value", start ? "start" : "end",
                   "expected a date (YYYY, YYYY-MM or YYYY-MM-DD)");
            if (start) {
                ev->e.start_us = lo;
                ev->e.has_start = true;
            } else {
                ev->e.end_us = hi;
                ev->e.has_end = true;
            }
            TRY(add_query(a, &ev->query, p));
        } else if (base_str_eq_cstr(p->name, "_cursor")) {
            ev->e.cursor = base_str_dup0(a, p->value);
        } else if (base_str_eq_cstr(p->name, "_total")) {
            ev->e.total = base_str_eq_cstr(p->value, "accurate");
        } else if (base_str_eq_cstr(p->name, "_format") || base_str_eq_cstr(p->name, "_pretty")) {
            TRY(add_query(a, &ev->query, p)); /* the next page in the format asked for */
        } else {
            char where[64];

            snprintf(where, sizeof(where), "%.*s", (int)(p->name.len < 40 ? p->name.len : 40),
                     p->name.ptr);
            return base_err_set(err, BASE_E_INVALID, "invalid", where,
                                "parameter not supported by $everything here");
        }
    }
    if (ev->e.count == 0)
        ev->e.count = BASE_LIMIT_SEARCH_DEFAULT_COUNT;
    return BASE_OK;
}

static char *
ev_url(struct base_arena *a, const char *base, const char *id, const char *query,
       const char *cursor)
{
    if (cursor == NULL)
        return base_arena_sprintf(a, "%s/Patient/%s/$everything%s%s", base, id, query[0] ? "?" : "",
                                  query);
    return base_arena_sprintf(a, "%s/Patient/%s/$everything?%s%s_cursor=%s", base, id, query,
                              query[0] ? "&" : "", cursor);
}

/* start/end for a live study: its care date is `started`; one without it
 * is left out, as the store leaves out a resource without a care date. */
static bool
live_in_range(const json_t *study, const struct adapter_store_everything *e)
{
    const char *started = json_string_value(json_object_get(study, "started"));
    int64_t lo;
    int64_t hi;

    if (!e->has_start && !e->has_end)
        return true;
    if (started == NULL || !fhir_search_date_range(started, strlen(started), &lo, &hi))
        return false;
    return (!e->has_start || hi > e->start_us) && (!e->has_end || lo < e->end_us);
}

/* Live imaging for the first page (mode live only: in mode both the
 * synced studies are already in the store). */
static const json_t *
add_live(struct gw_http_req *r, struct adapter_facade *f, const char *id,
         const struct adapter_store_everything *e, struct adapter_page *p)
{
    struct base_arena *a = gw_http_req_arena(r);
    struct base_err err = {0};
    json_t *studies = NULL;
    json_t *oo;
    char msg[300];
    size_t i;
    json_t *st;

    if (adapter_pacs_live(f->d, a, id, &studies, &err) == BASE_OK) {
        json_array_foreach(studies, i, st)
        {
            if (live_in_range(st, e) &&
                adapter_facade__page_tree(p, st, FHIR_BUNDLE_MODE_MATCH) != BASE_OK)
                break;
        }
        return NULL;
    }
    if (err.rc == BASE_E_NOTFOUND)
        return NULL;
    snprintf(msg, sizeof(msg), "imaging studies are missing: %s", err.msg);
    oo = fhir_outcome_new();
    if (oo == NULL || fhir_outcome_add(oo, "error", "transient", "ImagingStudy", msg) != BASE_OK ||
        fhir_json_tie(a, oo) != BASE_OK)
        return NULL;
    return oo;
}

void
adapter_facade__h_everything(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct adapter_store_search_opts so = {f->cfg->public_url, 0};
    struct ev_req ev;
    struct adapter_store_page pg;
    struct adapter_page p;
    struct fhir_bundle_link links[2];
    struct base_buf *out = BASE_NEW(a, struct base_buf);
    struct base_err err = {0};
    const json_t *oo = NULL;
    struct gw_db_conn *c;
    char *id = base_str_dup0(a, gw_http_req_param(r, "id"));
    const char *base = gw_http_req_base_url(r, f->cfg->public_url); /* for the links */
    size_t n_links = 0;
    int rc;

    memset(&ev, 0, sizeof(ev));
    if (!adapter_facade__allow_data(r, f))
        return;
    if (id == NULL || out == NULL || !adapter_store_id_ok(id, strlen(id))) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "id", "no such patient");
        adapter_facade__fail(r, &err);
        return;
    }
    ev.e.patient_id = id;
    if (parse_params(r, a, &ev, &err) != BASE_OK ||
        adapter_facade__page_init(&p, a, ev.e.count + BASE_LIMIT_DICOMWEB_MAX_STUDIES) != BASE_OK) {
        adapter_facade__fail(r, &err);
        return;
    }
    if ((c = adapter_facade__db(r, f)) == NULL)
        return;
    rc = adapter_store_everything(gw_db_conn_pg(c), a, &ev.e, &so, adapter_facade__page_row, &p,
                                  &pg, &err);
    gw_db_release(c);
    if (rc != BASE_OK) {
        adapter_facade__fail(r, &err);
        return;
    }
    if (ev.e.cursor == NULL && f->cfg->pacs_enabled && f->cfg->pacs_mode == ADAPTER_PACS_LIVE &&
        (ev.e.n_types == 0 ||
         adapter_facade__type_in(ev.e.types, ev.e.n_types, BASE_STR_LIT("ImagingStudy"))))
        oo = add_live(r, f, id, &ev.e, &p);
    links[n_links++] =
        (struct fhir_bundle_link){"self", ev_url(a, base, id, ev.query, ev.e.cursor)};
    if (pg.next_cursor != NULL)
        links[n_links++] =
            (struct fhir_bundle_link){"next", ev_url(a, base, id, ev.query, pg.next_cursor)};
    base_buf_init(out, BASE_LIMIT_HTTP_MAX_RESPONSE);
    if (links[0].url == NULL || (n_links > 1 && links[1].url == NULL) ||
        base_buf_tie(out, a) != BASE_OK ||
        adapter_facade__page_write(&p, f->cfg->public_url, links, n_links, pg.has_total, pg.total,
                                   oo, out, &err) != BASE_OK) {
        if (err.rc == BASE_OK)
            (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "could not write the page");
        adapter_facade__fail(r, &err);
        return;
    }
    adapter_facade__send_text(r, 200, out->data, out->len);
}
