/*
 * POST /ingest/hl7v2, /ingest/cda, /ingest/csv?mapping=NAME — for hospital
 * systems that push instead of speaking MLLP or dropping files.  Only the
 * client-certificate identities in [ingest] clients may call them.  Each
 * goes through the same pipeline as MLLP (labels, validation, the batch
 * committer) and answers after the commit:
 *   hl7v2  the ACKs, one per message, in order (x-application/hl7-v2+er7);
 *   cda    the transaction-response Bundle, or an OperationOutcome;
 *   csv    an OperationOutcome report: each bad row as "line L, column C"
 *          (warning when skipped, error when it failed the load), refused
 *          resources, and the counts.
 */
#include <string.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"

#define CSV_CHUNK (64u << 10) /* the body reaches the loader in pieces of this */

static void
answer_tree(struct gw_http_req *r, unsigned status, json_t *v)
{
    if (v == NULL || fhir_json_tie(gw_http_req_arena(r), v) != BASE_OK ||
        gw_http_respond_resource(r, status, v) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer");
}

void
adapter_facade__h_ingest_hl7v2(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    struct base_str body = gw_http_req_body(r);
    struct adapter_ingest_counts n;
    struct base_buf *acks = BASE_NEW(gw_http_req_arena(r), struct base_buf);
    struct base_err err = {0};
    char hdr[64];

    if (!adapter_facade__allow_ingest(r, f))
        return;
    if (acks == NULL) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        adapter_facade__fail(r, &err);
        return;
    }
    base_buf_init(acks, 64u << 20);
    if (base_buf_tie(acks, gw_http_req_arena(r)) != BASE_OK ||
        adapter_ingest_hl7v2(f->d, body.ptr != NULL ? body.ptr : "", body.len, acks, &n, &err) !=
            BASE_OK) {
        adapter_facade__fail(r, &err);
        return;
    }
    snprintf(hdr, sizeof(hdr), "%zu accepted, %zu rejected", n.accepted, n.rejected);
    BASE_LOG_REQ(BASE_LOG_INFO, gw_http_req_id(r), "adapter.ingest_hl7v2",
                 "messages=%zu accepted=%zu rejected=%zu", n.messages, n.accepted, n.rejected);
    if (gw_http_set_header(r, "X-Ingest-Result", hdr) != BASE_OK ||
        gw_http_respond_nocopy(r, 200, "x-application/hl7-v2+er7; charset=utf-8",
                               acks->data != NULL ? acks->data : "", acks->len) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer");
}

void
adapter_facade__h_ingest_cda(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    struct base_str body = gw_http_req_body(r);
    struct base_err err = {0};
    json_t *resp = NULL;
    unsigned status = 0;
    int rc;

    if (!adapter_facade__allow_ingest(r, f))
        return;
    rc = adapter_ingest_cda(f->d, gw_http_req_arena(r), body.ptr != NULL ? body.ptr : "", body.len,
                            &resp, &status, &err);
    if (rc == BASE_OK) {
        answer_tree(r, 200, resp);
        return;
    }
    if (resp != NULL && err.rc != BASE_E_IO) {
        answer_tree(r, status, resp);
        return;
    }
    json_decref(resp);
    adapter_facade__fail(r, &err);
}

void
adapter_facade__h_ingest_csv(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    struct base_str body = gw_http_req_body(r);
    struct base_str mapping = BASE_STR_NULL;
    struct adapter_csv_job *j = NULL;
    struct base_err err = {0};
    struct csv_report counts;
    json_t *report = NULL;
    char *name;
    int rc;

    if (!adapter_facade__allow_ingest(r, f))
        return;
    if (!gw_http_req_query(r, "mapping", &mapping) || mapping.len == 0) {
        (void)base_err_set(&err, BASE_E_INVALID, "required", "mapping",
                           "the mapping parameter names the CSV layout");
        adapter_facade__fail(r, &err);
        return;
    }
    name = base_str_dup0(gw_http_req_arena(r), mapping);
    rc = name != NULL ? adapter_csv_begin(f->d, name, "request body", &j, &err) : BASE_E_NOMEM;
    for (size_t off = 0; rc == BASE_OK && off < body.len; off += CSV_CHUNK) {
        size_t n = body.len - off < CSV_CHUNK ? body.len - off : CSV_CHUNK;

        rc = adapter_csv_feed(j, body.ptr + off, n, &err);
    }
    if (rc != BASE_OK && j != NULL && err.rc != BASE_E_IO && err.rc != BASE_E_NOMEM) {
        /* The load stopped on a row (on-error fail): report what happened. */
        struct base_err end_err = {0};

        if (adapter_csv_end(j, &report, &counts, &end_err) != BASE_OK)
            BASE_LOG_REQ(BASE_LOG_DEBUG, gw_http_req_id(r), "adapter.csv_end", "rc=%s",
                         base_rc_name(end_err.rc));
        answer_tree(r, 422, report);
        return;
    }
    if (rc != BASE_OK) {
        adapter_csv_abort(j);
        adapter_facade__fail(r, &err);
        return;
    }
    rc = adapter_csv_end(j, &report, &counts, &err);
    if (rc != BASE_OK && err.rc == BASE_E_IO) {
        json_decref(report);
        adapter_facade__fail(r, &err);
        return;
    }
    BASE_LOG_REQ(BASE_LOG_INFO, gw_http_req_id(r), "adapter.ingest_csv",
                 "rows=%zu bad=%zu resources=%zu", counts.rows, counts.rows_bad, counts.resources);
    answer_tree(r, rc == BASE_OK ? 200 : 422, report);
}
