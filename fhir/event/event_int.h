/*
 * fhir/event/event_int.h — small JSON helpers shared by the event builders.
 */
#ifndef FHIR_EVENT_EVENT_INT_H
#define FHIR_EVENT_EVENT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "fhir/base/arena.h"
#include "fhir/base/err.h"

/* Coding {system, code, display?}; NULL on failure. */
json_t *ev_coding(const char *system, const char *code, const char *display);
/* CodeableConcept {coding: [Coding]}. */
json_t *ev_cc(const char *system, const char *code, const char *display);
/* Identifier {system?, value}. */
json_t *ev_identifier(const char *system, const char *value);
/* AuditEvent.agent.network {address, type}: 5 URI, 2 IP address, 1 name. */
json_t *ev_network(const char *address);
/* o[key] = string; BASE_E_INVALID when not UTF-8, BASE_E_NOMEM. */
int ev_set_str(json_t *o, const char *key, const char *value);
/* RFC 4648 base64 in base_malloc'd memory (base_free it); NULL on failure. */
char *ev_base64(const char *data, size_t len);
/* "Type/id" with Type == want (or any type when want is NULL). */
bool ev_reference_ok(const char *ref, const char *want);
/* Resource type name, FHIR id, optional version id. */
bool ev_entity_ok(const char *type, const char *id, const char *version);

#endif /* FHIR_EVENT_EVENT_INT_H */
