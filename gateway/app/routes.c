/*
 * gateway/app/routes.c — the gateway's route table (docs/design/
 * gateway-api.md).  First match wins, so literal paths come before the
 * `{param}` patterns that would also match them.
 */
#include "gateway/app/app_int.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/http/gw_http_static.h"

/* The search handlers by type; everything else is a federated type (the
 * clinical handler refuses the rest). */
static const struct {
    const char *type;
    gw_http_handler_fn fn;
} SEARCHES[] = {
    {"Patient", gw_app_h_patient_search},   {"AuditEvent", gw_app_h_auditevent_search},
    {"Consent", gw_app_h_consent_search},   {"Organization", gw_app_h_org_search},
    {"Endpoint", gw_app_h_endpoint_search},
};

/*
 * POST [type]/_search (FHIR R4 http.html#search; HAPI's and SMART clients'
 * choice for long or sensitive queries, which then stay out of URLs and
 * proxy logs): the form's parameters join the URL's and the GET search of
 * that type answers, so it is the same search with the same checks, audit
 * (which records the joined query) and links.
 */
static void
h_search_post(struct gw_http_req *r, void *cls)
{
    struct base_str type = gw_http_req_param(r, "type");

    if (!gw_http_take_search_form(r))
        return;
    for (size_t i = 0; i < BASE_ARRAY_LEN(SEARCHES); i++) {
        if (base_str_eq_cstr(type, SEARCHES[i].type)) {
            SEARCHES[i].fn(r, cls);
            return;
        }
    }
    gw_app_h_clinical(r, cls);
}

/*
 * Any other GET under /fhir: a FHIR 404 (R4 http.html#read: "resource type
 * not supported"), not the portal's "no such file".  A clinical resource's
 * own address is at its member (entry.fullUrl, meta.source, reached by the
 * gateway only); the gateway answers searches for one patient, which is
 * where consent and audit apply.
 */
static void
h_fhir_unknown(struct gw_http_req *r, void *cls)
{
    size_t n = gw_http_req_segment_count(r);
    char type[64];
    struct base_str t = n >= 2 ? gw_http_req_segment(r, 1) : BASE_STR_NULL;
    const char *msg = "no such FHIR endpoint here";

    (void)cls;
    if (n == 3 && t.len < sizeof(type)) {
        memcpy(type, t.ptr, t.len);
        type[t.len] = '\0';
        if (gw_app_is_clinical_type(type))
            msg = "the gateway does not read single clinical resources: each lives at its "
                  "member (entry.fullUrl, meta.source); search with patient= and _id=";
    }
    if (gw_http_respond_outcome(r, 404, "not-supported", NULL, msg) != BASE_OK)
        return;
}

int
gw_app_routes(struct gw_app *app, struct base_err *err)
{
    const struct gw_http_route table[] = {
        /* discovery, health, sign-in: no token */
        {"GET", "/fhir/metadata", gw_app_h_metadata, app},
        {"GET", "/.well-known/smart-configuration", gw_app_h_smart, app},
        /* SMART App Launch 2.0 discovers it under the FHIR base URL */
        {"GET", "/fhir/.well-known/smart-configuration", gw_app_h_smart, app},
        {"GET", "/.well-known/openid-configuration", gw_app_h_openid, app},
        {"GET", "/.well-known/jwks.json", gw_app_h_jwks, app},
        {"GET", "/healthz", gw_app_h_healthz, app},
        {"GET", "/metrics", gw_app_h_metrics, app},
        {"POST", "/auth/token", gw_app_h_token, app},
        {"POST", "/auth/revoke", gw_app_h_revoke, app},
        {"GET", "/auth/authorize", gw_app_h_authorize, app},
        {"POST", "/auth/authorize", gw_app_h_authorize, app},
        {"POST", "/members/register", gw_app_h_member_register, app},
        /* the caller */
        {"GET", "/me", gw_app_h_me, app},
        {"GET", "/me/accesses", gw_app_h_my_accesses, app},
        /* patients (MPI) */
        {"GET", "/fhir/Patient/$ihe-pix", gw_app_h_patient_pix, app},
        {"POST", "/fhir/Patient/$ihe-pix", gw_app_h_patient_pix_post, app},
        {"POST", "/fhir/Patient/$match", gw_app_h_patient_match, app},
        {"GET", "/fhir/Patient/{id}/$everything", gw_app_h_everything, app},
        {"POST", "/fhir/Patient/{id}/$everything", gw_app_h_everything_post, app},
        {"GET", "/fhir/Patient/{id}", gw_app_h_patient_read, app},
        {"GET", "/fhir/Patient", gw_app_h_patient_search, app},
        /* the signed-in user's own resource (SMART fhirUser) */
        {"GET", "/fhir/Practitioner/{id}", gw_app_h_practitioner_read, app},
        /* audit trail */
        {"GET", "/fhir/AuditEvent", gw_app_h_auditevent_search, app},
        {"GET", "/fhir/AuditEvent/{id}", gw_app_h_auditevent_read, app},
        {"GET", "/audit/report", gw_app_h_report, app},
        {"GET", "/audit/verify", gw_app_h_verify, app},
        {"GET", "/audit/break-glass", gw_app_h_btg_list, app},
        {"POST", "/audit/break-glass/review", gw_app_h_btg_review, app},
        /* consents */
        {"POST", "/fhir/Consent", gw_app_h_consent_create, app},
        {"GET", "/fhir/Consent", gw_app_h_consent_search, app},
        {"GET", "/fhir/Consent/{id}", gw_app_h_consent_read, app},
        {"PUT", "/fhir/Consent/{id}", gw_app_h_consent_update, app},
        /* members */
        {"GET", "/fhir/Organization", gw_app_h_org_search, app},
        {"GET", "/fhir/Organization/{id}", gw_app_h_org_read, app},
        {"POST", "/fhir/Organization", gw_app_h_org_create, app},
        {"POST", "/fhir/Endpoint", gw_app_h_endpoint_create, app},
        {"GET", "/fhir/Endpoint", gw_app_h_endpoint_search, app},
        {"GET", "/fhir/Endpoint/{id}", gw_app_h_endpoint_read, app},
        {"GET", "/admin/members", gw_app_h_admin_members, app},
        {"POST", "/admin/members", gw_app_h_admin_member_add, app},
        {"POST", "/admin/members/{id}/{action}", gw_app_h_admin_member_action, app},
        {"GET", "/admin/mpi/reviews", gw_app_h_mpi_reviews, app},
        {"POST", "/admin/mpi/reviews/{id}", gw_app_h_mpi_review_decide, app},
        {"POST", "/admin/mpi/merge", gw_app_h_mpi_merge, app},
        {"POST", "/admin/mpi/merges/{id}/undo", gw_app_h_mpi_unmerge, app},
        {"POST", "/admin/mpi/split", gw_app_h_mpi_split, app},
        {"GET", "/admin/mpi/persons/{id}/history", gw_app_h_mpi_history, app},
        {"GET", "/admin/users", gw_app_h_admin_users, app},
        {"POST", "/admin/users", gw_app_h_admin_user_add, app},
        {"POST", "/admin/users/{name}/{action}", gw_app_h_admin_user_action, app},
        /* the federated clinical types */
        {"GET", "/fhir/{type}", gw_app_h_clinical, app},
        /* every search above, by POST */
        {"POST", "/fhir/{type}/_search", h_search_post, app},
        {"GET", "/fhir/*", h_fhir_unknown, app},
        /* the portal */
        {"GET", "/*", app->portal != NULL ? gw_http_static_handler : gw_app_h_portal_missing,
         app->portal != NULL ? (void *)app->portal : (void *)app},
    };

    app->routes = base_arena_memdup(app->arena, table, sizeof(table));
    if (app->routes == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "routes", "out of memory");
    app->n_routes = BASE_ARRAY_LEN(table);
    return BASE_OK;
}
