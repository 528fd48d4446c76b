/* Ready-made handlers the programs wire: /healthz and /metrics. */
#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "gateway/http/gw_http_int.h"

void
gw_http_handle_healthz(struct gw_http_req *r, void *cls)
{
    bool draining = atomic_load(&r->srv->draining);
    static const char pass[] = "{\"status\":\"pass\"}";
    static const char fail[] = "{\"status\":\"fail\"}";

    (void)cls;
    /* application/health+json (draft-inadarei-api-health-check) */
    if (gw_http_respond_nocopy(r, draining ? 503 : 200, "application/health+json",
                               draining ? fail : pass,
                               draining ? sizeof(fail) - 1 : sizeof(pass) - 1) != BASE_OK)
        return;
}

void
gw_http_handle_metrics(struct gw_http_req *r, void *cls)
{
    struct gw_http_metrics *m = cls != NULL ? cls : r->srv->metrics;
    struct base_buf *b = BASE_NEW(r->arena, struct base_buf);

    if (b == NULL)
        return;
    base_buf_init(b, BASE_LIMIT_HTTP_MAX_RESPONSE);
    if (base_buf_tie(b, r->arena) != BASE_OK || gw_http_metrics_render(m, b) != BASE_OK) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "could not render metrics") !=
            BASE_OK)
            return; /* the dispatcher answers 500 */
        return;
    }
    if (gw_http_respond_nocopy(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                               b->data != NULL ? b->data : "", b->len) != BASE_OK)
        return;
}

bool
gw_http_take_search_form(struct gw_http_req *r)
{
    struct base_err err = {0};

    if (!gw_http_req_body_is_form(r)) {
        if (gw_http_respond_outcome(r, 415, "not-supported", "Content-Type",
                                    "search parameters must be sent as "
                                    "application/x-www-form-urlencoded") != BASE_OK)
            return false;
        return false;
    }
    if (gw_http_req_adopt_form(r, &err) != BASE_OK) {
        if (gw_http_respond_error(r, &err) != BASE_OK)
            return false;
        return false;
    }
    return true;
}
