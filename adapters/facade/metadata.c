/*
 * GET /fhir/metadata — the CapabilityStatement (FHIR R4
 * capabilitystatement.html) of exactly what this adapter serves: read and
 * vread of the types it stores, search on the twelve clinical types with
 * every R4 search parameter of each (the store indexes them all), their
 * _include / _revinclude (non-iterate), and Patient $everything.  Any client with a region
 * certificate may read it (the gateway's health probe does).
 */
#include <stdio.h>
#include <string.h>

#include "adapters/facade/facade_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"

#define MAX_PARAMS 128

static json_t *
interactions(bool search)
{
    json_t *a = json_pack("[{s:s}, {s:s}]", "code", "read", "code", "vread");

    if (a != NULL && search)
        json_array_append_new(a, json_pack("{s:s}", "code", "search-type"));
    return a;
}

static json_t *
search_params(const char *type)
{
    const struct fhir_search_param_def *defs[MAX_PARAMS];
    size_t n = fhir_search_params_for(type, defs, MAX_PARAMS);
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n && i < MAX_PARAMS; i++) {
        /* _text, _content, _query, _list, _has … are not search parameters
         * this store evaluates; the meta ones (_id, _lastUpdated, _tag,
         * _profile, _security, _source) it does, and they are listed. */
        if (defs[i]->name[0] == '_' && strcmp(defs[i]->name, "_id") != 0 &&
            strcmp(defs[i]->name, "_lastUpdated") != 0 && strcmp(defs[i]->name, "_tag") != 0 &&
            strcmp(defs[i]->name, "_profile") != 0 && strcmp(defs[i]->name, "_security") != 0 &&
            strcmp(defs[i]->name, "_source") != 0)
            continue;
        json_array_append_new(a, json_pack("{s:s, s:s}", "name", defs[i]->name, "type",
                                           fhir_search_type_name(defs[i]->type)));
    }
    return a;
}

/* R4 CapabilityStatement.rest.resource.searchInclude: "Type:param" for
 * each reference parameter of the type, and "*". */
static json_t *
search_includes(const char *type)
{
    const struct fhir_search_param_def *defs[MAX_PARAMS];
    size_t n = fhir_search_params_for(type, defs, MAX_PARAMS);
    json_t *a = json_pack("[s]", "*");

    for (size_t i = 0; a != NULL && i < n && i < MAX_PARAMS; i++) {
        if (defs[i]->type == FHIR_SEARCH_REFERENCE)
            json_array_append_new(a, json_sprintf("%s:%s", type, defs[i]->name));
    }
    return a;
}

/* searchRevInclude: "Source:param" for each reference parameter of a
 * stored type that can point at `type`. */
static json_t *
search_revincludes(const char *type)
{
    json_t *a = json_array();

    for (size_t k = 0; a != NULL && k < adapter_facade_read_type_count; k++) {
        const char *src = adapter_facade_read_types[k];
        const struct fhir_search_param_def *defs[MAX_PARAMS];
        size_t n = fhir_search_params_for(src, defs, MAX_PARAMS);

        for (size_t i = 0; i < n && i < MAX_PARAMS; i++) {
            if (fhir_search_param_allows_target(defs[i], type, strlen(type)))
                json_array_append_new(a, json_sprintf("%s:%s", src, defs[i]->name));
        }
    }
    return a;
}

static json_t *
resource(const struct adapter_config *cfg, const char *type, bool search)
{
    /* reads answer If-None-Match and If-Modified-Since (read.c) */
    json_t *r = json_pack("{s:s, s:o, s:s, s:b, s:b, s:s}", "type", type, "interaction",
                          interactions(search), "versioning", "versioned", "readHistory", true,
                          "updateCreate", false, "conditionalRead", "full-support");

    if (r == NULL || !search)
        return r;
    json_object_set_new(r, "searchInclude", search_includes(type));
    json_object_set_new(r, "searchRevInclude", search_revincludes(type));
    json_object_set_new(r, "searchParam", search_params(type));
    if (strcmp(type, "Patient") == 0)
        json_object_set_new(
            r, "operation",
            json_pack("[{s:s, s:s, s:s}]", "name", "everything", "definition",
                      "http://hl7.org/fhir/OperationDefinition/Patient-everything", "documentation",
                      "paged by a keyset cursor (_count, _since, _type); start/end select by "
                      "care date (each type's clinical date)"));
    if (strcmp(type, "ImagingStudy") == 0 && cfg->pacs_enabled)
        json_object_set_new(
            r, "documentation",
            json_string(cfg->pacs_mode == ADAPTER_PACS_SYNC
                            ? "from the PACS, copied into the store periodically (QIDO-RS)"
                            : "asked from the PACS at request time when a patient is given "
                              "(QIDO-RS); a PACS that cannot answer adds an OperationOutcome "
                              "entry naming it"));
    return r;
}

static json_t *
resources(const struct adapter_config *cfg)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < adapter_facade_read_type_count; i++) {
        const char *t = adapter_facade_read_types[i];
        bool search = adapter_facade__type_in(
            adapter_facade_search_types, adapter_facade_search_type_count, base_str_from_cstr(t));

        json_array_append_new(a, resource(cfg, t, search));
    }
    return a;
}

json_t *
adapter_facade_capability(const struct adapter_config *cfg)
{
    char desc[400];

    snprintf(desc, sizeof(desc), "FHIR facade of %s (fhirgate member %s)", cfg->name,
             cfg->member_id);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:[s, s, s, s], "
        "s:[{s:s, s:s, s:{s:s}, s:o}]}",
        "resourceType", "CapabilityStatement", "status", "active", "date", "2026-11-28",
        "publisher", cfg->name, "kind", "instance", "software", "name", "fhirgate-adapter",
        "version", "1.0", "implementation", "description", desc, "url", cfg->public_url,
        "fhirVersion", "4.0.1", "format", "application/fhir+json", "json", "application/fhir+xml",
        "xml", "rest", "mode", "server", "documentation",
        "Search results are paged with _count (default 50, at most 1000) and _offset; "
        "_sort, _total=accurate, _summary (count, data, true, text), _elements are "
        "supported; _include and "
        "_revinclude (not :iterate) add at most 1000 resources to a page, returned whole.  "
        "A search sorted by _lastUpdated alone pages by key "
        "(_lastUpdated=gt the last row's time), so no row is ever skipped.",
        "security", "description",
        "Mutual TLS: client certificates issued by the region CA only; data is served only to "
        "the certificate configured as the gateway.",
        "resource", resources(cfg));
}

void
adapter_facade__h_metadata(struct gw_http_req *r, void *cls)
{
    struct adapter_facade *f = cls;
    json_t *cs = adapter_facade_capability(f->cfg);

    if (cs == NULL || fhir_json_tie(gw_http_req_arena(r), cs) != BASE_OK ||
        gw_http_respond_resource(r, 200, cs) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.respond", "could not answer metadata");
}
