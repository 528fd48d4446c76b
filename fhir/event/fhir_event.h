/*
 * fhir/event/fhir_event.h — AuditEvent (IHE BALP) and Provenance builders.
 *
 * AuditEvents follow IHE ITI Basic Audit Log Patterns (BALP) on FHIR R4:
 * RESTful interactions are type audit-event-type#rest with a
 * restful-interaction subtype; the client is DICOM "Source Role ID"
 * (110153) and the server "Destination Role ID" (110152) for query, create,
 * update and delete, reversed for read; the user is the requestor.  One
 * AuditEvent per search names the patient, the query (base64 of the raw
 * query, role 24) and every returned entity.  Login/logout use DICOM User
 * Authentication (110114), alerts DICOM Security Alert (110113).
 *
 * Builders validate what they are given (required parts, code shapes) and
 * return BASE_E_INVALID naming the field; they never quote values.
 */
#ifndef FHIR_EVENT_FHIR_EVENT_H
#define FHIR_EVENT_FHIR_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

enum fhir_event_kind {
    FHIR_EVENT_SEARCH,        /* rest / search-type, action E */
    FHIR_EVENT_READ,          /* rest / read, action R */
    FHIR_EVENT_VREAD,         /* rest / vread, action R */
    FHIR_EVENT_OPERATION,     /* rest / operation ($everything, $ihe-pix), action E */
    FHIR_EVENT_CREATE,        /* rest / create, action C */
    FHIR_EVENT_UPDATE,        /* rest / update, action U */
    FHIR_EVENT_DELETE,        /* rest / delete, action D */
    FHIR_EVENT_LOGIN,         /* DCM 110114 / 110122, action E */
    FHIR_EVENT_LOGOUT,        /* DCM 110114 / 110123, action E */
    FHIR_EVENT_SECURITY_ALERT /* DCM 110113 / alert subtype, action E */
};

/* AuditEvent.outcome (R4 audit-event-outcome). */
enum fhir_event_outcome {
    FHIR_EVENT_SUCCESS = 0,
    FHIR_EVENT_MINOR_FAILURE = 4,   /* e.g. denied by policy, bad request */
    FHIR_EVENT_SERIOUS_FAILURE = 8, /* e.g. a member failed */
    FHIR_EVENT_MAJOR_FAILURE = 12   /* e.g. the service was unavailable */
};

/* DICOM Security Alert subtypes (DCM, PS3.16 CID 403). */
enum fhir_event_alert {
    FHIR_EVENT_ALERT_NONE,
    FHIR_EVENT_ALERT_EMERGENCY_OVERRIDE_STARTED, /* 110127: break-the-glass */
    FHIR_EVENT_ALERT_EMERGENCY_OVERRIDE_STOPPED, /* 110138 */
    FHIR_EVENT_ALERT_NODE_AUTHENTICATION,        /* 110126: a bad certificate */
    FHIR_EVENT_ALERT_SECURITY_CONFIGURATION,     /* 110129 */
    FHIR_EVENT_ALERT_RESTRICTED_FUNCTION,        /* 110132 */
    FHIR_EVENT_ALERT_SECURITY_ROLES_CHANGED,     /* 110136 */
    FHIR_EVENT_ALERT_USER_ATTRIBUTES_CHANGED     /* 110137 */
};

/* The human user (BALP agent "user": information recipient, requestor). */
struct fhir_event_user {
    const char *id;          /* login / subject id (required) */
    const char *id_system;   /* URI of the user namespace, may be NULL */
    const char *reference;   /* "Practitioner/…" when known, may be NULL */
    const char *name;        /* display name, may be NULL */
    const char *role_system; /* role coding, may be NULL */
    const char *role_code;
    const char *role_display;
    const char *org_reference; /* "Organization/…" of the member, may be NULL */
    const char *org_display;
    const char *network_address; /* used when there is no client agent */
};

/* The client application (SMART client / portal). */
struct fhir_event_client {
    const char *id;              /* client_id (required) */
    const char *name;            /* may be NULL */
    const char *network_address; /* IP or host the request came from */
};

/* The gateway node: AuditEvent.source (observer) and the server agent. */
struct fhir_event_node {
    const char *site;             /* "region-gateway" */
    const char *device_reference; /* "Device/gateway-node-1", may be NULL */
    const char *name;             /* observer display (required) */
    const char *base_url;         /* the FHIR base it serves, may be NULL */
};

/* A resource returned / read / written. */
struct fhir_event_entity {
    const char *type; /* "Observation" */
    const char *id;
    const char *version; /* meta.versionId, may be NULL */
};

struct fhir_event_audit {
    enum fhir_event_kind kind;
    const char *id;      /* AuditEvent.id, may be NULL */
    int64_t recorded_us; /* UTC microseconds */
    int tz_offset_min;   /* offset of the node's clock for the text (+480 = +08:00) */
    enum fhir_event_outcome outcome;
    const char *outcome_desc;   /* client-safe text, required when outcome != 0 */
    const char *purpose_of_use; /* v3 PurposeOfUse code ("TREAT", "ETREAT", …), may be NULL */
    const char *purpose_text;   /* e.g. the break-the-glass reason, may be NULL */
    const struct fhir_event_user *user;     /* may be NULL (system-to-system) */
    const struct fhir_event_client *client; /* may be NULL */
    const struct fhir_event_node *node;     /* required */
    const char *patient_reference;          /* "Patient/…" the access concerns, may be NULL */
    const char *query; /* raw request (method, path, query) for search/operation */
    size_t query_len;
    const char *query_description;            /* the cleaned (canonical) query, may be NULL */
    const struct fhir_event_entity *entities; /* returned / touched entities */
    size_t n_entities;
    enum fhir_event_alert alert; /* SECURITY_ALERT only */
    const char *request_id;      /* X-Request-Id, may be NULL */
};

/* Build the AuditEvent (caller owns the reference).  NULL on error, with
 * err set: BASE_E_INVALID naming the missing/malformed field, BASE_E_NOMEM. */
json_t *fhir_event_audit_build(const struct fhir_event_audit *ev, struct base_err *err);

/* FHIR instant text of a UTC time shown at an offset, with milliseconds
 * ("2026-11-28T22:33:20.123+08:00"); cap >= 40.  Returns the length, or
 * 0 when the time is outside years 1..9999. */
size_t fhir_event_format_instant(int64_t utc_us, int tz_offset_min, char *buf, size_t cap);

/* ---- Provenance of converted resources ------------------------------------ */

enum fhir_event_activity {
    FHIR_EVENT_ACTIVITY_CREATE, /* v3-DataOperation CREATE */
    FHIR_EVENT_ACTIVITY_UPDATE  /* v3-DataOperation UPDATE */
};

struct fhir_event_provenance {
    const char *id;             /* may be NULL */
    const char *const *targets; /* "Observation/o1/_history/1", … (at least one) */
    size_t n_targets;
    int64_t recorded_us;
    int tz_offset_min;
    enum fhir_event_activity activity;
    const char *device_reference; /* the adapter: "Device/adapter-hospital-a" (required) */
    const char *device_display;
    const char *org_reference; /* the member: "Organization/hospital-a" (required) */
    const char *org_display;
    const char *source_system;  /* original message / document identifier system */
    const char *source_value;   /* e.g. MSH-10, a CDA id root^extension (required) */
    const char *source_display; /* "HL7 v2 ORU^R01", may be NULL */
};

json_t *fhir_event_provenance_build(const struct fhir_event_provenance *p, struct base_err *err);

#endif /* FHIR_EVENT_FHIR_EVENT_H */
