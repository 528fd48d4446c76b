/*
 * gateway/registry/fhir.c — members as FHIR R4 Organization and Endpoint
 * resources (docs/design/region.md "Members"), and as admin-API JSON.
 */
#include "gateway/registry/gw_registry.h"

#include <stdio.h>
#include <time.h>

static json_t *
coding(const char *system, const char *code)
{
    return json_pack("{s:s, s:s}", "system", system, "code", code);
}

json_t *
gw_registry_organization(const struct gw_registry_member *m)
{
    char endpoint[96];

    snprintf(endpoint, sizeof(endpoint), "Endpoint/%s", m->id);
    return json_pack("{s:s, s:s, s:[{s:s, s:s}], s:b, s:[{s:[o]}], s:s, s:[{s:s}]}",
                     "resourceType", "Organization", "id", m->id, "identifier", "system",
                     GW_REGISTRY_MEMBER_SYSTEM, "value", m->id, "active",
                     m->status == GW_REGISTRY_ACTIVE, "type", "coding",
                     coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov"),
                     "name", m->name, "endpoint", "reference", endpoint);
}

static const char *
endpoint_status(enum gw_registry_status s)
{
    switch (s) {
    case GW_REGISTRY_ACTIVE:
        return "active";
    case GW_REGISTRY_PENDING:
        return "suspended";
    case GW_REGISTRY_DISABLED:
        return "off";
    default:
        return "error";
    }
}

json_t *
gw_registry_endpoint(const struct gw_registry_member *m)
{
    char org[96];
    json_t *ep;

    snprintf(org, sizeof(org), "Organization/%s", m->id);
    ep = json_pack("{s:s, s:s, s:s, s:o, s:s, s:{s:s, s:s}, s:[{s:[o]}], s:[s], s:s}",
                   "resourceType", "Endpoint", "id", m->id, "status", endpoint_status(m->status),
                   "connectionType",
                   coding("http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                          "hl7-fhir-rest"),
                   "name", m->name, "managingOrganization", "reference", org, "display", m->name,
                   "payloadType", "coding",
                   coding("http://terminology.hl7.org/CodeSystem/endpoint-payload-type", "any"),
                   "payloadMimeType", "application/fhir+json", "address", m->base);
    if (ep != NULL && m->cert_sha256 != NULL)
        json_object_set_new(ep, "extension",
                            json_pack("[{s:s, s:s}]", "url", GW_REGISTRY_EXT_CERT, "valueString",
                                      m->cert_sha256));
    return ep;
}

static json_t *
time_or_null(int64_t ms)
{
    char buf[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
        return json_null();
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *
str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

json_t *
gw_registry_member_json(const struct gw_registry_member *m)
{
    const struct gw_registry_health *h = &m->health;
    json_t *health = json_pack(
        "{s:b, s:b, s:o, s:o, s:I, s:I, s:I, s:o}", "probed", h->probed, "up", h->probed && h->up,
        "last_probe", time_or_null(h->last_probe_ms), "last_seen", time_or_null(h->last_up_ms),
        "latency_ms", (json_int_t)(h->latency_us / 1000u), "probes", (json_int_t)h->probes,
        "probe_failures", (json_int_t)h->probe_failures, "last_error",
        h->probe_failures > 0 ? json_string(h->last_error) : json_null());

    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o}", "id", m->id, "name",
                     m->name, "base", m->base, "status", gw_registry_status_name(m->status),
                     "cert_sha256", str_or_null(m->cert_sha256), "cert_subject",
                     str_or_null(m->cert_subject), "source", m->source, "registered",
                     str_or_null(m->created), "updated", str_or_null(m->updated), "health",
                     health != NULL ? health : json_null());
}
