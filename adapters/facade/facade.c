/*
 * The facade's server: routes, who may call what, and the answers every
 * handler shares.  The HTTP plumbing (TLS, client certificates, limits,
 * content negotiation) is gateway/http's.
 */
#include "adapters/facade/adapter_facade.h"

#include <string.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/xml/fhir_xml.h"
#include "gateway/http/gw_http_metrics.h"

const char *const adapter_facade_search_types[] = {
    "Patient",           "Encounter",           "Condition",
    "Observation",       "DiagnosticReport",    "ImagingStudy",
    "MedicationRequest", "MedicationStatement", "AllergyIntolerance",
    "Procedure",         "Immunization",        "DocumentReference",
    "CareTeam",          "FamilyMemberHistory", "Goal",
};
const size_t adapter_facade_search_type_count = BASE_ARRAY_LEN(adapter_facade_search_types);

/* The searchable types and what the converters write next to them (and
 * $everything returns as includes). */
const char *const adapter_facade_read_types[] = {
    "Patient",
    "Encounter",
    "Condition",
    "Observation",
    "DiagnosticReport",
    "ImagingStudy",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "Procedure",
    "Immunization",
    "DocumentReference",
    "CareTeam",
    "FamilyMemberHistory",
    "Goal",
    "ServiceRequest",
    "Specimen",
    "Provenance",
    "Practitioner",
    "Organization",
    "Location",
    "Endpoint",
    "Medication",
};
const size_t adapter_facade_read_type_count = BASE_ARRAY_LEN(adapter_facade_read_types);

bool
adapter_facade__type_in(const char *const *set, size_t n, struct base_str type)
{
    for (size_t i = 0; i < n; i++) {
        if (base_str_eq_cstr(type, set[i]))
            return true;
    }
    return false;
}

/* -------------------------------------------------------- authorization -- */

static bool
refuse(struct gw_http_req *r, const char *what)
{
    const struct gw_http_client *cl = gw_http_req_client(r);

    BASE_LOG_REQ(BASE_LOG_WARN, gw_http_req_id(r), "adapter.forbidden", "client=%s route=%s",
                 cl != NULL && cl->subject_cn != NULL ? cl->subject_cn : "-",
                 gw_http_req_route(r) != NULL ? gw_http_req_route(r) : "-");
    if (gw_http_respond_outcome(r, 403, "forbidden", NULL, what) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer 403");
    return false;
}

bool
adapter_facade__allow_data(struct gw_http_req *r, struct adapter_facade *f)
{
    if (adapter_identity_match(&f->cfg->gateway, gw_http_req_client(r)))
        return true;
    return refuse(r, "this client certificate may not read data from this adapter");
}

bool
adapter_facade__allow_admin(struct gw_http_req *r, struct adapter_facade *f)
{
    const struct gw_http_client *cl = gw_http_req_client(r);

    if (adapter_identity_match(&f->cfg->gateway, cl) ||
        adapter_identity_any(f->cfg->admin_clients, f->cfg->n_admin_clients, cl))
        return true;
    return refuse(r, "this client certificate may not read the adapter's administration data");
}

bool
adapter_facade__allow_ingest(struct gw_http_req *r, struct adapter_facade *f)
{
    if (adapter_identity_any(f->cfg->ingest_clients, f->cfg->n_ingest_clients,
                             gw_http_req_client(r)))
        return true;
    return refuse(r, "this client certificate may not send data to this adapter");
}

/* ---------------------------------------------------------------- answers -- */

struct gw_db_conn *
adapter_facade__db(struct gw_http_req *r, struct adapter_facade *f)
{
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};

    if (gw_db_borrow(adapter_daemon_pool(f->d), &c, &err) == BASE_OK)
        return c;
    BASE_LOG_REQ(BASE_LOG_ERROR, gw_http_req_id(r), "adapter.db_unavailable", "detail=%s",
                 err.log_detail);
    if (gw_http_respond_outcome(r, 503, "transient", NULL, "the adapter's store is unavailable") !=
        BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer 503");
    return NULL;
}

void
adapter_facade__fail(struct gw_http_req *r, const struct base_err *err)
{
    struct base_err e = *err;

    /* An unknown or unsupported search parameter is a bad request (400),
     * not an unacceptable representation (gw_http maps not-supported to 406). */
    if (e.rc == BASE_E_INVALID && strcmp(e.issue_code, "not-supported") == 0)
        snprintf(e.issue_code, sizeof(e.issue_code), "%s", "invalid");
    if (e.rc == BASE_E_IO || e.rc == BASE_E_INTERNAL)
        BASE_LOG_REQ(BASE_LOG_ERROR, gw_http_req_id(r), "adapter.failed",
                     "rc=%s where=%s detail=%s", base_rc_name(e.rc), e.where, e.log_detail);
    if (e.rc == BASE_E_IO && e.issue_code[0] == '\0')
        snprintf(e.issue_code, sizeof(e.issue_code), "%s", "transient");
    if (gw_http_respond_error(r, &e) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer an error");
}

void
adapter_facade__send_text(struct gw_http_req *r, unsigned status, const char *json, size_t len)
{
    enum gw_http_format fmt = GW_HTTP_FORMAT_JSON;
    struct base_err err = {0};
    json_t *tree = NULL;
    int rc;

    if (gw_http_req_format(r, &fmt, &err) == BASE_OK && fmt == GW_HTTP_FORMAT_JSON &&
        !gw_http_req_pretty(r)) {
        rc = gw_http_respond_nocopy(r, status, "application/fhir+json; charset=utf-8", json, len);
    } else if (fhir_json_parse(json, len, NULL, &tree, &err) == BASE_OK &&
               fhir_json_tie(gw_http_req_arena(r), tree) == BASE_OK) {
        rc = gw_http_respond_resource(r, status, tree);
    } else {
        rc = gw_http_respond_error(r, &err);
    }
    if (rc != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer");
}

/* --------------------------------------------------------- admin, metrics -- */

void
adapter_facade__h_codemap(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    struct base_err err = {0};
    json_t *rep = NULL;

    if (!adapter_facade__allow_admin(r, f))
        return;
    if (adapter_daemon_codemap_report(f->d, &rep, &err) != BASE_OK) {
        BASE_LOG_REQ(BASE_LOG_ERROR, gw_http_req_id(r), "adapter.codemap_report", "detail=%s",
                     err.log_detail);
        if (gw_http_respond_outcome(r, 503, "transient", NULL,
                                    "the adapter's store is unavailable") != BASE_OK)
            BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer 503");
        return;
    }
    if (fhir_json_tie(gw_http_req_arena(r), rep) != BASE_OK ||
        gw_http_respond_json(r, 200, rep) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer the report");
}

void
adapter_facade__h_metrics(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;

    if (!adapter_facade__allow_admin(r, f))
        return;
    adapter_daemon_refresh_metrics(f->d);
    gw_http_handle_metrics(r, adapter_daemon_metrics(f->d));
}

/* ----------------------------------------------------------------- server -- */

static int
write_xml(const json_t *resource, bool pretty, struct base_buf *out, struct base_err *err)
{
    return fhir_xml_write(resource, pretty ? FHIR_XML_PRETTY : FHIR_XML_COMPACT, out, err);
}

static struct gw_http_route routes[] = {
    {"GET", "/healthz", gw_http_handle_healthz, NULL},
    {"GET", "/metrics", adapter_facade__h_metrics, NULL},
    {"GET", "/admin/codemap-report", adapter_facade__h_codemap, NULL},
    {"GET", "/fhir/metadata", adapter_facade__h_metadata, NULL},
    {"GET", "/fhir/Patient/{id}/$everything", adapter_facade__h_everything, NULL},
    {"GET", "/fhir/{type}/{id}/_history/{vid}", adapter_facade__h_vread, NULL},
    {"GET", "/fhir/{type}/{id}", adapter_facade__h_read, NULL},
    {"GET", "/fhir/{type}", adapter_facade__h_search, NULL},
    {"POST", "/fhir/{type}/_search", adapter_facade__h_search_post, NULL},
    {"POST", "/ingest/hl7v2", adapter_facade__h_ingest_hl7v2, NULL},
    {"POST", "/ingest/cda", adapter_facade__h_ingest_cda, NULL},
    {"POST", "/ingest/csv", adapter_facade__h_ingest_csv, NULL},
};

int
adapter_facade_start(struct adapter_daemon *d, struct adapter_facade **out, struct base_err *err)
{
    struct adapter_facade *f = base_calloc(1, sizeof(*f));
    struct gw_http_route *rt;

    if (f == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rt = base_calloc(BASE_ARRAY_LEN(routes), sizeof(*rt));
    if (rt == NULL) {
        base_free(f);
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    f->d = d;
    f->cfg = adapter_daemon_config(d);
    for (size_t i = 0; i < BASE_ARRAY_LEN(routes); i++) {
        rt[i] = routes[i];
        if (rt[i].handler != gw_http_handle_healthz)
            rt[i].cls = f;
    }
    f->http = f->cfg->http;
    f->http.routes = rt;
    f->http.route_count = BASE_ARRAY_LEN(routes);
    f->http.app = f;
    f->http.xml = write_xml;
    f->http.metrics = adapter_daemon_metrics(d);
    if (gw_http_server_start(&f->http, &f->srv, err) != BASE_OK) {
        base_free(rt);
        base_free(f);
        return err->rc;
    }
    *out = f;
    return BASE_OK;
}

unsigned
adapter_facade_port(const struct adapter_facade *f)
{
    return gw_http_server_port(f->srv);
}

void
adapter_facade_stop(struct adapter_facade *f, unsigned deadline_ms)
{
    if (f == NULL)
        return;
    (void)gw_http_server_stop(f->srv, deadline_ms);
    base_free((void *)f->http.routes);
    base_free(f);
}
