/*
 * GET /fhir/TYPE/ID and /fhir/TYPE/ID/_history/V (FHIR R4 http.html#read,
 * #vread): the stored JSON as is, with ETag W/"version" and Last-Modified
 * (304 to a conditional read that holds it, #cread);
 * 404 for nothing, 410 Gone for a deleted resource.  An ImagingStudy a
 * live search served (no row: [pacs] mode live) is read from the PACS.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http_parse.h"

/* The stored JSON with its version as ETag and its lastUpdated as
 * Last-Modified; 304 without a body when the client's If-None-Match or
 * If-Modified-Since says it holds this version (R4 http.html#cread). */
static void
answer_row(struct gw_http_req *r, const struct adapter_store_row *row)
{
    char etag[32];
    char date[64];
    time_t updated = (time_t)(row->last_updated_us / 1000000);

    snprintf(etag, sizeof(etag), "W/\"%u\"", row->version);
    gw_http_date_format(updated, date, sizeof(date));
    if (gw_http_set_header(r, "ETag", etag) != BASE_OK ||
        gw_http_set_header(r, "Last-Modified", date) != BASE_OK)
        return;
    if (gw_http_not_modified(r, etag, updated)) {
        if (gw_http_respond_empty(r, 304) != BASE_OK)
            BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer");
        return;
    }
    adapter_facade__send_text(r, 200, row->json, row->len);
}

/* Type and id from the path, or an answer (404/400) and false. */
static bool
identity(struct gw_http_req *r, struct base_arena *a, char **type, char **id)
{
    struct base_str t = gw_http_req_param(r, "type");
    struct base_str i = gw_http_req_param(r, "id");
    struct base_err err = {0};

    if (!adapter_facade__type_in(adapter_facade_read_types, adapter_facade_read_type_count, t)) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-supported", "type",
                           "this adapter does not serve that resource type");
        adapter_facade__fail(r, &err);
        return false;
    }
    if (!adapter_store_id_ok(i.ptr, i.len)) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "id", "no such resource");
        adapter_facade__fail(r, &err);
        return false;
    }
    *type = base_str_dup0(a, t);
    *id = base_str_dup0(a, i);
    return *type != NULL && *id != NULL;
}

static void
not_found(struct gw_http_req *r, const struct base_err *err)
{
    if (err->rc == BASE_E_NOTFOUND && strcmp(err->issue_code, "deleted") == 0) {
        if (gw_http_respond_outcome(r, 410, "deleted", NULL, "the resource was deleted") != BASE_OK)
            return;
        return;
    }
    adapter_facade__fail(r, err);
}

/* ImagingStudy when the PACS is asked live: a study a live search served
 * has no row; ask the PACS again.  True when answered (the study, or the
 * PACS's failure); false leaves the store's 404 to the caller. */
static bool
live_study(struct gw_http_req *r, struct adapter_facade *f, const char *type, const char *id)
{
    struct base_arena *a = gw_http_req_arena(r);
    struct base_err err = {0};
    json_t *study = NULL;
    int rc;

    if (strcmp(type, "ImagingStudy") != 0 || !f->cfg->pacs_enabled ||
        f->cfg->pacs_mode == ADAPTER_PACS_SYNC)
        return false;
    rc = adapter_pacs_live_read(f->d, a, id, &study, &err);
    if (rc == BASE_E_NOTFOUND)
        return false;
    if (rc != BASE_OK) {
        adapter_facade__fail(r, &err);
        return true;
    }
    if (gw_http_respond_resource(r, 200, study) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer");
    return true;
}

void
adapter_facade__h_read(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct adapter_store_row row;
    struct base_err err = {0};
    struct gw_db_conn *c;
    char *type = NULL;
    char *id = NULL;
    int rc;

    if (!adapter_facade__allow_data(r, f) || !identity(r, a, &type, &id) ||
        (c = adapter_facade__db(r, f)) == NULL)
        return;
    rc = adapter_store_read(gw_db_conn_pg(c), a, type, id, &row, &err);
    gw_db_release(c);
    if (rc == BASE_OK)
        answer_row(r, &row);
    else if (err.rc != BASE_E_NOTFOUND || strcmp(err.issue_code, "deleted") == 0 ||
             !live_study(r, f, type, id))
        not_found(r, &err);
}

void
adapter_facade__h_vread(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct base_str v = gw_http_req_param(r, "vid");
    struct adapter_store_row row;
    struct base_err err = {0};
    struct gw_db_conn *c;
    char *type = NULL;
    char *id = NULL;
    uint64_t version = 0;
    int rc;

    if (!adapter_facade__allow_data(r, f) || !identity(r, a, &type, &id))
        return;
    if (!base_str_to_u64(v, &version) || version == 0 || version > UINT32_MAX) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "_history", "no such version");
        adapter_facade__fail(r, &err);
        return;
    }
    if ((c = adapter_facade__db(r, f)) == NULL)
        return;
    rc = adapter_store_vread(gw_db_conn_pg(c), a, type, id, (uint32_t)version, &row, &err);
    gw_db_release(c);
    if (rc != BASE_OK)
        not_found(r, &err);
    else
        answer_row(r, &row);
}
