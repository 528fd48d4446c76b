/*
 * Provenance for resources an adapter converted from a hospital's message
 * or document (FHIR R4 Provenance; agent types from provenance-participant-
 * type, activity from v3-DataOperation).  The original message identifier
 * (HL7 v2 MSH-10, CDA ClinicalDocument.id, …) is the entity with role
 * "source", so every converted resource traces back to what the hospital
 * sent.
 */
#include "fhir/event/event_int.h"
#include "fhir/event/fhir_event.h"

#include <string.h>

#define SYS_PROV_PART "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
#define SYS_DATA_OP   "http://terminology.hl7.org/CodeSystem/v3-DataOperation"

static bool
target_ok(const char *t)
{
    /* "Type/id" or "Type/id/_history/v" */
    const char *h = t != NULL ? strstr(t, "/_history/") : NULL;
    char buf[160];

    if (h == NULL)
        return ev_reference_ok(t, NULL);
    if ((size_t)(h - t) >= sizeof(buf))
        return false;
    memcpy(buf, t, (size_t)(h - t));
    buf[h - t] = '\0';
    return ev_reference_ok(buf, NULL) && ev_entity_ok("X", "x", h + 10);
}

static int
check(const struct fhir_event_provenance *p, struct base_err *err)
{
    ENSURE(p != NULL && p->n_targets > 0 && p->targets != NULL, err, BASE_E_INVALID, "required",
           "Provenance.target", "at least one target is required");
    for (size_t i = 0; i < p->n_targets; i++)
        ENSURE(target_ok(p->targets[i]), err, BASE_E_INVALID, "value", "Provenance.target",
               "malformed target reference");
    ENSURE(ev_reference_ok(p->device_reference, "Device"), err, BASE_E_INVALID, "required",
           "Provenance.agent.who", "the adapter device reference is required");
    ENSURE(ev_reference_ok(p->org_reference, "Organization"), err, BASE_E_INVALID, "required",
           "Provenance.agent.onBehalfOf", "the member organization reference is required");
    ENSURE(p->source_value != NULL && p->source_value[0] != '\0', err, BASE_E_INVALID, "required",
           "Provenance.entity.what", "the source message identifier is required");
    return BASE_OK;
}

static json_t *
ref(const char *reference, const char *display)
{
    json_t *r = json_pack("{s:s}", "reference", reference);

    if (r != NULL && display != NULL && ev_set_str(r, "display", display) != BASE_OK) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static int
fill(json_t *pv, const struct fhir_event_provenance *p, const char *when)
{
    json_t *targets = json_array();
    json_t *what =
        json_pack("{s:o}", "identifier", ev_identifier(p->source_system, p->source_value));
    bool create = p->activity == FHIR_EVENT_ACTIVITY_CREATE;

    if (targets == NULL || json_object_set_new(pv, "target", targets) != 0 || what == NULL) {
        json_decref(what);
        return BASE_E_NOMEM;
    }
    for (size_t i = 0; i < p->n_targets; i++) {
        if (json_array_append_new(targets, ref(p->targets[i], NULL)) != 0) {
            json_decref(what);
            return BASE_E_NOMEM;
        }
    }
    if (p->source_display != NULL && ev_set_str(what, "display", p->source_display) != BASE_OK) {
        json_decref(what);
        return BASE_E_INVALID;
    }
    if (ev_set_str(pv, "recorded", when) != BASE_OK ||
        json_object_set_new(
            pv, "activity",
            ev_cc(SYS_DATA_OP, create ? "CREATE" : "UPDATE", create ? "create" : "update")) != 0 ||
        json_object_set_new(pv, "agent",
                            json_pack("[{s:o, s:o, s:o}, {s:o, s:o}]", "type",
                                      ev_cc(SYS_PROV_PART, "assembler", "Assembler"), "who",
                                      ref(p->device_reference, p->device_display), "onBehalfOf",
                                      ref(p->org_reference, p->org_display), "type",
                                      ev_cc(SYS_PROV_PART, "custodian", "Custodian"), "who",
                                      ref(p->org_reference, p->org_display))) != 0 ||
        json_object_set_new(pv, "entity",
                            json_pack("[{s:s, s:o}]", "role", "source", "what", what)) != 0)
        return BASE_E_NOMEM;
    return BASE_OK;
}

json_t *
fhir_event_provenance_build(const struct fhir_event_provenance *p, struct base_err *err)
{
    char when[40];
    json_t *pv;

    if (check(p, err) != BASE_OK)
        return NULL;
    if (fhir_event_format_instant(p->recorded_us, p->tz_offset_min, when, sizeof(when)) == 0) {
        (void)base_err_set(err, BASE_E_INVALID, "value", "Provenance.recorded",
                           "recorded time out of range");
        return NULL;
    }
    pv = json_pack("{s:s}", "resourceType", "Provenance");
    if (pv != NULL && p->id != NULL && ev_set_str(pv, "id", p->id) != BASE_OK) {
        json_decref(pv);
        pv = NULL;
    }
    if (pv == NULL || fill(pv, p, when) != BASE_OK) {
        json_decref(pv);
        (void)base_err_set(err, BASE_E_NOMEM, "exception", NULL, "could not build Provenance");
        return NULL;
    }
    return pv;
}
