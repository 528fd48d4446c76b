/*
 * gateway/app/h_meta.c — what needs no token: the CapabilityStatement,
 * SMART discovery, the JWK Set, health, metrics, and the answer at / when
 * no portal is installed.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "gateway/http/gw_http_metrics.h"

#define GATEWAY_VERSION "0.1.0"
#define SMART_OAUTH_URIS "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

/* ------------------------------------------------- CapabilityStatement -- */

static json_t *
interactions(const char *const *codes)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && codes[i] != NULL; i++)
        json_array_append_new(a, json_pack("{s:s}", "code", codes[i]));
    return a;
}

static json_t *
search_param(const char *name, const char *type, const char *doc)
{
    json_t *p = json_pack("{s:s, s:s}", "name", name, "type", type);

    if (p != NULL && doc != NULL)
        json_object_set_new(p, "documentation", json_string(doc));
    return p;
}

/* Every parameter the gateway validates and passes on for `type` (the
 * R4 table of fhir/search), plus the paging and sorting ones it honours. */
static json_t *
type_params(const char *type)
{
    const struct fhir_search_param_def *defs[128];
    size_t n = fhir_search_params_for(type, defs, BASE_ARRAY_LEN(defs));
    json_t *a = json_array();

    if (n > BASE_ARRAY_LEN(defs))
        n = BASE_ARRAY_LEN(defs);
    for (size_t i = 0; a != NULL && i < n; i++) {
        /* Common parameters the gateway does not pass on. */
        if (strcmp(defs[i]->name, "_text") == 0 || strcmp(defs[i]->name, "_content") == 0 ||
            strcmp(defs[i]->name, "_list") == 0 || strcmp(defs[i]->name, "_query") == 0 ||
            strcmp(defs[i]->name, "_has") == 0)
            continue;
        json_array_append_new(
            a, search_param(defs[i]->name, fhir_search_type_name(defs[i]->type),
                            strcmp(defs[i]->name, "patient") == 0 ||
                                    strcmp(defs[i]->name, "subject") == 0
                                ? "the regional Patient id, or chained: "
                                  "patient.identifier=SYSTEM|VALUE (resolved in the regional "
                                  "patient index); one patient per search"
                                : NULL));
    }
    return a;
}

/* searchInclude: every reference parameter of `type`, and "*". */
static json_t *
type_includes(const char *type)
{
    const struct fhir_search_param_def *defs[128];
    size_t n = fhir_search_params_for(type, defs, BASE_ARRAY_LEN(defs));
    json_t *a = json_array();

    if (n > BASE_ARRAY_LEN(defs))
        n = BASE_ARRAY_LEN(defs);
    json_array_append_new(a, json_string("*"));
    for (size_t i = 0; a != NULL && i < n; i++) {
        if (defs[i]->type == FHIR_SEARCH_REFERENCE && defs[i]->name[0] != '_')
            json_array_append_new(a, json_pack("s++", type, ":", defs[i]->name));
    }
    return a;
}

/* searchRevInclude: the reference parameters of the types a member serves
 * that may point at `type`. */
static json_t *
type_revincludes(const char *type)
{
    static const char *const extra[] = {"Patient", "Provenance"};
    json_t *a = json_array();

    for (size_t k = 0; a != NULL && k < gw_app_clinical_type_count + BASE_ARRAY_LEN(extra); k++) {
        const char *src = k < gw_app_clinical_type_count ? gw_app_clinical_types[k]
                                                         : extra[k - gw_app_clinical_type_count];
        const struct fhir_search_param_def *defs[128];
        size_t n = fhir_search_params_for(src, defs, BASE_ARRAY_LEN(defs));

        if (n > BASE_ARRAY_LEN(defs))
            n = BASE_ARRAY_LEN(defs);
        for (size_t i = 0; i < n; i++) {
            if (defs[i]->type == FHIR_SEARCH_REFERENCE && defs[i]->name[0] != '_' &&
                fhir_search_param_allows_target(defs[i], type, strlen(type)))
                json_array_append_new(a, json_pack("s++", src, ":", defs[i]->name));
        }
    }
    return a;
}

static json_t *
clinical_resource(const char *type)
{
    static const char *const ia[] = {"search-type", NULL};
    json_t *r =
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:s}", "type", type, "interaction", interactions(ia),
                  "searchParam", type_params(type), "searchInclude", type_includes(type),
                  "searchRevInclude", type_revincludes(type), "documentation",
                  "federated: every member holding the patient is asked; patient= "
                  "(the regional person id) is required; _include/_revinclude go to the "
                  "members (not :iterate), each adding what its own matches refer to");

    return r;
}

static json_t *
patient_resource(void)
{
    static const char *const ia[] = {"read", "search-type", NULL};
    json_t *params = json_array();

    json_array_append_new(params, search_param("_id", "token", "the regional person id"));
    json_array_append_new(params, search_param("identifier", "token",
                                               "resident id, regional id or a member's record "
                                               "number (SYSTEM|VALUE, or VALUE in any system); "
                                               "SYSTEM| alone: that domain's identifiers only"));
    json_array_append_new(params, search_param("name", "string",
                                               "Han characters or pinyin; :exact, :contains; "
                                               "every ITI-78 parameter alone is a search, "
                                               "at most 1000 matches paged through"));
    json_array_append_new(params, search_param("family", "string", NULL));
    json_array_append_new(params, search_param("given", "string", NULL));
    json_array_append_new(params, search_param("birthdate", "date",
                                               "prefixes eq ne gt lt ge le sa eb; "
                                               "a date to the day at most"));
    json_array_append_new(params, search_param("gender", "token", NULL));
    json_array_append_new(params,
                          search_param("telecom", "token", "a phone number in any usual form"));
    json_array_append_new(params, search_param("phone", "token", "as telecom"));
    json_array_append_new(params,
                          search_param("active", "token", "regional persons are all active"));
    json_array_append_new(params, search_param("address", "string",
                                               "any part of any address a member reported "
                                               "(contains by default)"));
    json_array_append_new(params, search_param("address-city", "string", NULL));
    json_array_append_new(params, search_param("address-state", "string", NULL));
    json_array_append_new(params, search_param("address-postalcode", "string", NULL));
    json_array_append_new(params, search_param("address-country", "string", NULL));
    json_array_append_new(params, search_param("mothersMaidenName", "string",
                                               "IHE PDQm: the patient-mothersMaidenName "
                                               "extension (HL7 v2 PID-6)"));
    return json_pack(
        "{s:s, s:[s], s:o, s:o, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "type", "Patient",
        "supportedProfile",
        "https://profiles.ihe.net/ITI/PDQm/StructureDefinition/IHE.PDQm.Patient", "interaction",
        interactions(ia), "searchParam", params, "operation", "name", "everything", "definition",
        "http://hl7.org/fhir/OperationDefinition/Patient-everything", "name", "ihe-pix",
        "definition", "https://profiles.ihe.net/ITI/PIXm/OperationDefinition/IHE.PIXm.pix", "name",
        "match", "definition", "http://hl7.org/fhir/OperationDefinition/Patient-match");
}

static json_t *
audit_resource(void)
{
    static const char *const ia[] = {"read", "search-type", NULL};
    /* the columns' parameters, then those from the events' content
     * (audit_filter.c) */
    static const char *const params[][3] = {
        {"date", "date", NULL},
        {"agent", "token", "user id"},
        {"patient", "reference", NULL},
        {"entity", "reference", NULL},
        {"outcome", "token", NULL},
        {"purpose", "token", "purpose of use"},
        {"member", "token", "the agent's organization"},
        {"action", "token", NULL},
        {"subtype", "token", NULL},
        {"type", "token", NULL},
        {"agent-role", "token", NULL},
        {"altid", "token", NULL},
        {"policy", "uri", NULL},
        {"entity-type", "token", NULL},
        {"entity-role", "token", NULL},
        {"site", "token", NULL},
        {"source", "reference", NULL},
        {"address", "string", NULL},
        {"agent-name", "string", NULL},
        {"entity-name", "string", NULL},
    };
    json_t *list = json_array();

    for (size_t i = 0; i < BASE_ARRAY_LEN(params); i++)
        json_array_append_new(list, search_param(params[i][0], params[i][1], params[i][2]));
    return json_pack("{s:s, s:o, s:o}", "type", "AuditEvent", "interaction", interactions(ia),
                     "searchParam", list);
}

static json_t *
simple_resource(const char *type, const char *const *ia, const char *param, const char *ptype)
{
    json_t *r = json_pack("{s:s, s:o}", "type", type, "interaction", interactions(ia));

    if (r != NULL && param != NULL)
        json_object_set_new(r, "searchParam", json_pack("[o]", search_param(param, ptype, NULL)));
    return r;
}

/* Organization and Endpoint: the registry's members, searched by _id, name
 * (starts with) and active (h_members.c). */
static json_t *
registry_resource(const char *type, const char *const *ia)
{
    json_t *r = simple_resource(type, ia, "_id", "token");
    json_t *params = json_object_get(r, "searchParam");

    json_array_append_new(params, search_param("name", "string", "the member's name"));
    json_array_append_new(params, search_param("active", "token", "the member is active"));
    return r;
}

static json_t *
resources(void)
{
    static const char *const read_search[] = {"read", "search-type", NULL};
    static const char *const consent_ia[] = {"read", "update", "search-type", "create", NULL};
    static const char *const read_only[] = {"read", NULL};
    json_t *list = json_array();

    json_array_append_new(list, patient_resource());
    for (size_t i = 0; i < gw_app_clinical_type_count; i++)
        json_array_append_new(list, clinical_resource(gw_app_clinical_types[i]));
    json_array_append_new(list, audit_resource());
    json_array_append_new(list, simple_resource("Consent", consent_ia, "patient", "reference"));
    json_array_append_new(list, registry_resource("Organization", read_search));
    json_array_append_new(list, registry_resource("Endpoint", read_search));
    /* the signed-in user's own (SMART fhirUser; h_practitioner.c) */
    json_array_append_new(list, simple_resource("Practitioner", read_only, NULL, NULL));
    return list;
}

static json_t *
security(const struct gw_config *cfg)
{
    char token[600];
    char authorize[600];

    snprintf(token, sizeof(token), "%s/auth/token", cfg->public_url);
    snprintf(authorize, sizeof(authorize), "%s/auth/authorize", cfg->public_url);
    return json_pack(
        "{s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}]}], s:b, s:[{s:[{s:s, s:s}]}], s:s}", "extension",
        "url", SMART_OAUTH_URIS, "extension", "url", "token", "valueUri", token, "url", "authorize",
        "valueUri", authorize, "cors", cfg->http.cors_origin_count > 0, "service", "coding",
        "system", "http://terminology.hl7.org/CodeSystem/restful-security-service", "code",
        "SMART-on-FHIR", "description",
        "OAuth2 bearer tokens (SMART App Launch standalone launch with PKCE for registered apps; "
        "SMART Backend Services; password grant for portal users where enabled); see "
        "/.well-known/smart-configuration");
}

json_t *
gw_app_capability_statement(const struct gw_config *cfg)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:[s, s, s, s], "
        /* no rest.operation: $everything, $ihe-pix and $match are operations
         * on Patient (rest.resource.operation), none is system-level */
        "s:[{s:s, s:s, s:o, s:o}]}",
        "resourceType", "CapabilityStatement", "status", "active", "date", "2026-11-28",
        "publisher", "fhirgate", "kind", "instance", "description",
        "fhirgate regional gateway: patient index (PDQm, PIXm), federated read-only access to "
        "member hospitals' records, audit trail (IHE BALP)",
        "software", "name", "fhirgate-gateway", "version", GATEWAY_VERSION, "implementation",
        "description", cfg->node_id, "url", cfg->fhir_base, "fhirVersion", "4.0.1", "format",
        "application/fhir+json", "json", "application/fhir+xml", "xml", "rest", "mode", "server",
        "documentation",
        "errors are OperationOutcomes; federated answers report each failed member as an "
        "OperationOutcome entry (search.mode = outcome)",
        "security", security(cfg), "resource", resources());
}

/* What a terse rest.resource keeps: the type and what can be done with it. */
static json_t *
terse_resource(const json_t *full)
{
    json_t *r = json_object();

    if (r == NULL || json_object_set(r, "type", json_object_get(full, "type")) != 0 ||
        json_object_set(r, "interaction", json_object_get(full, "interaction")) != 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *
gw_app_capability_terse(const json_t *full)
{
    /* R4 meta.tag SUBSETTED: a client must not take the subset for the
     * whole (resource.html#tag, v3-ObservationValue). */
    json_t *cs = json_pack("{s:{s:[{s:s, s:s, s:s}]}}", "meta", "tag", "system",
                           "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code",
                           "SUBSETTED", "display", "subsetted");
    const json_t *rest = json_array_get(json_object_get(full, "rest"), 0);
    json_t *trest = json_pack("{s:O, s:O, s:[]}", "mode", json_object_get(rest, "mode"), "security",
                              json_object_get(rest, "security"), "resource");
    static const char *const keep[] = {"resourceType",   "status",      "date",
                                       "publisher",      "kind",        "software",
                                       "implementation", "fhirVersion", "format"};
    const json_t *res = json_object_get(rest, "resource");
    const json_t *r;
    size_t i;
    bool ok = cs != NULL && trest != NULL && json_is_object(rest);

    for (i = 0; ok && i < BASE_ARRAY_LEN(keep); i++) {
        const json_t *v = json_object_get(full, keep[i]);

        ok = v == NULL || json_object_set(cs, keep[i], (json_t *)v) == 0;
    }
    json_array_foreach(res, i, r)
    {
        ok =
            ok && json_array_append_new(json_object_get(trest, "resource"), terse_resource(r)) == 0;
    }
    if (ok) {
        ok = json_object_set_new(cs, "rest", json_pack("[o]", trest)) == 0; /* "o" steals */
        trest = NULL;
    }
    if (!ok) {
        json_decref(trest);
        json_decref(cs);
        return NULL;
    }
    return cs;
}

/* R4 http.html#capabilities: GET [base]/metadata{?mode=[mode]}, where mode
 * is full (the default), normative (all of ours is: CapabilityStatement is
 * normative in R4) or terse. */
void
gw_app_h_metadata(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    json_t *cs;
    struct base_str mode = {0};
    bool terse = false;

    if (gw_http_req_query(r, "mode", &mode)) {
        terse = base_str_eq_cstr(mode, "terse");
        if (!terse && !base_str_eq_cstr(mode, "full") && !base_str_eq_cstr(mode, "normative")) {
            if (gw_http_respond_outcome(r, 400, "value", "mode",
                                        "mode must be full, normative or terse") != BASE_OK)
                return;
            return;
        }
    }
    cs = gw_app_capability_statement(app->cfg);
    if (terse && cs != NULL) {
        json_t *full = cs;

        cs = gw_app_capability_terse(full);
        json_decref(full);
    }
    if (cs == NULL || fhir_json_tie(gw_http_req_arena(r), cs) != BASE_OK) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "out of memory") != BASE_OK)
            return;
        return;
    }
    if (gw_http_set_header(r, "Cache-Control", "no-cache") != BASE_OK ||
        gw_http_respond_resource(r, 200, cs) != BASE_OK)
        return;
}

/* ------------------------------------------------------ SMART, JWKS -- */

static void
send_discovery(struct gw_http_req *r, json_t *doc)
{
    if (doc == NULL || fhir_json_tie(gw_http_req_arena(r), doc) != BASE_OK) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "out of memory") != BASE_OK)
            return;
        return;
    }
    if (gw_http_set_header(r, "Cache-Control", "no-cache") != BASE_OK ||
        gw_http_respond_json(r, 200, doc) != BASE_OK)
        return;
}

void
gw_app_h_smart(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;

    send_discovery(r, gw_auth_smart_configuration(&app->token_ep));
}

/* OpenID Connect Discovery (SMART "sso-openid-connect"): at the issuer. */
void
gw_app_h_openid(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;

    send_discovery(r, gw_auth_openid_configuration(&app->token_ep));
}

void
gw_app_h_jwks(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_buf b;
    struct base_err err = {0};
    char *text = NULL;

    base_buf_init(&b, 1u << 20);
    if (gw_auth_keyset_jwks(app->keys, &b, &err) == BASE_OK)
        text = base_buf_dup0(&b, gw_http_req_arena(r));
    base_buf_fini(&b);
    if (text == NULL) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "could not export the keys") !=
            BASE_OK)
            return;
        return;
    }
    if (gw_http_set_header(r, "Cache-Control", "public, max-age=300") != BASE_OK ||
        gw_http_respond_nocopy(r, 200, "application/jwk-set+json", text, strlen(text)) != BASE_OK)
        return;
}

/* ---------------------------------------------------- health, metrics -- */

void
gw_app_h_healthz(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_err err = {0};
    struct gw_audit_stats st;
    bool db = gw_db_pool_ping(app->pool, &err) == BASE_OK;
    bool audit_db = gw_db_pool_ping(app->audit_pool, &err) == BASE_OK;
    bool audit = audit_db && atomic_load(&app->audit_ok);
    bool draining = gw_http_server_draining(app->http);
    size_t active = 0;
    size_t up = 0;
    json_t *v;

    atomic_store(&app->db_ok, db);
    gw_audit_stats(app->audit, &st);
    gw_registry_counts(app->registry, &active, &up);
    v = json_pack("{s:s, s:s, s:{s:s, s:s, s:I, s:I, s:I}}", "status",
                  db && audit_db && !draining ? "pass" : "fail", "node", app->cfg->node_id,
                  "checks", "database", db ? "up" : "down", "audit",
                  audit ? "up" : (audit_db ? "failing" : "down"), "audit_queue",
                  (json_int_t)st.queued, "members_up", (json_int_t)up, "members_total",
                  (json_int_t)active);
    if (v == NULL || fhir_json_tie(gw_http_req_arena(r), v) != BASE_OK)
        return;
    if (gw_http_respond_json(r, db && audit_db && !draining ? 200 : 503, v) != BASE_OK)
        return;
}

void
gw_app_h_metrics(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_buf b;
    char *text = NULL;

    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_RESPONSE);
    if (gw_http_metrics_render(app->metrics, &b) == BASE_OK &&
        gw_app_fed_metrics(app, &b) == BASE_OK)
        text = base_buf_dup0(&b, gw_http_req_arena(r));
    base_buf_fini(&b);
    if (text == NULL) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "could not render metrics") !=
            BASE_OK)
            return;
        return;
    }
    if (gw_http_respond_nocopy(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
                               strlen(text)) != BASE_OK)
        return;
}

void
gw_app_h_portal_missing(struct gw_http_req *r, void *cls)
{
    (void)cls;
    if (gw_http_respond_outcome(r, 404, "not-found", NULL, "the web portal is not installed") !=
        BASE_OK)
        return;
}
