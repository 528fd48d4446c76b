/*
 * gateway/registry/gw_registry.h — the member registry: which hospitals
 * belong to the region, where their adapters answer, which certificate
 * they register with, and how healthy they are.
 *
 * A member is an Organization (id = member id) with one Endpoint (its
 * adapter's FHIR base), status pending / active / disabled
 * (docs/design/region.md "Members").  Rows live in registry.member
 * (schemas/sql/gateway/0300_registry.sql); the daemon keeps an in-memory
 * copy (struct gw_registry) that request threads read without the
 * database, refreshed after every change and periodically, plus the
 * results of the health probes.
 *
 * Store functions take a borrowed connection and use parameterized SQL
 * only.  Errors: BASE_E_IO (database), BASE_E_NOTFOUND, BASE_E_CONFLICT
 * (a member registered with another certificate), BASE_E_INVALID (a field
 * the rules refuse; where names it, the message never quotes it).
 */
#ifndef GATEWAY_REGISTRY_GW_REGISTRY_H
#define GATEWAY_REGISTRY_GW_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct base_arena;
struct gw_db_conn;
struct gw_db_pool;

enum gw_registry_status {
    GW_REGISTRY_PENDING = 0, /* registered, waiting for an admin */
    GW_REGISTRY_ACTIVE,      /* asked in fan-outs and pulled for identities */
    GW_REGISTRY_DISABLED     /* kept, never asked */
};

const char *gw_registry_status_name(enum gw_registry_status s); /* "active" */
bool gw_registry_status_parse(const char *s, enum gw_registry_status *out);

/* Health as the probes saw it (zero when never probed). */
struct gw_registry_health {
    bool probed;          /* at least one probe finished */
    bool up;              /* the last probe succeeded */
    int64_t last_probe_ms; /* Unix ms of the last probe's end */
    int64_t last_up_ms;    /* Unix ms of the last successful probe */
    uint64_t latency_us;   /* of the last probe */
    uint64_t probes;
    uint64_t probe_failures;
    char last_error[32];  /* "timeout", "tls", … of the last failed probe */
    /* What the member's CapabilityStatement says it searches: a bit per
     * entry of the caller's type list (gw_registry_note_types); while
     * !types_known (no statement read, or one without a resource list)
     * the member is asked for every type. */
    bool types_known;
    uint64_t search_types;
};

struct gw_registry_member {
    const char *id;
    const char *name;
    const char *base;         /* FHIR base URL, no trailing '/' */
    enum gw_registry_status status;
    const char *cert_sha256;  /* lower-case hex, or NULL */
    const char *cert_subject; /* RFC 4514 DN, or NULL */
    const char *source;       /* admin | config | self */
    const char *created;      /* timestamps as the database writes them */
    const char *updated;
    struct gw_registry_health health;
};

/* Check the fields of a member before it is stored: id (gw_config rules),
 * name 1..200 bytes of UTF-8 without controls, base an absolute http(s)
 * URL (https unless `allow_http`) without query or fragment, cert_sha256
 * 64 lower-case hex digits when given.  BASE_E_INVALID, where = field. */
BASE_MUST_CHECK int gw_registry_member_check(const struct gw_registry_member *m, bool allow_http,
                                             struct base_err *err);

/* ------------------------------------------------------------ store -- */

/* Insert or update (id is the key) with every field of `m`. */
BASE_MUST_CHECK int gw_registry_put(struct gw_db_conn *c, const struct gw_registry_member *m,
                                    struct base_err *err);
/* Insert when missing; an existing row keeps its status (config seeding
 * must not re-enable a member an admin disabled). */
BASE_MUST_CHECK int gw_registry_seed(struct gw_db_conn *c, const struct gw_registry_member *m,
                                     struct base_err *err);

/*
 * An adapter registers itself (POST /members/register): a new member is
 * created pending (active when `auto_approve`); a known member presenting
 * the certificate it registered with gets its name and base updated; a
 * known member with another (or no recorded) certificate is
 * BASE_E_CONFLICT.  *out (in `a`) is the member afterwards; *created tells
 * whether it is new.
 */
BASE_MUST_CHECK int gw_registry_register(struct gw_db_conn *c, struct base_arena *a,
                                         const struct gw_registry_member *m, bool auto_approve,
                                         struct gw_registry_member *out, bool *created,
                                         struct base_err *err);

BASE_MUST_CHECK int gw_registry_get(struct gw_db_conn *c, struct base_arena *a, const char *id,
                                    struct gw_registry_member *out, struct base_err *err);
/* Every member ordered by id (at most 10,000). */
BASE_MUST_CHECK int gw_registry_list(struct gw_db_conn *c, struct base_arena *a,
                                     struct gw_registry_member **out, size_t *n,
                                     struct base_err *err);
/* BASE_E_NOTFOUND for an unknown id. */
BASE_MUST_CHECK int gw_registry_set_status(struct gw_db_conn *c, const char *id,
                                           enum gw_registry_status s, struct base_err *err);

/* ------------------------------------------------------------ cache -- */

struct gw_registry;

/* The in-memory copy, loaded from the pool (the database need not be up:
 * the cache is empty until a refresh succeeds). */
BASE_MUST_CHECK int gw_registry_new(struct gw_db_pool *pool, struct gw_registry **out,
                                    struct base_err *err);
void gw_registry_free(struct gw_registry *r);

/* Reload every member from the database (health kept).  Thread-safe. */
BASE_MUST_CHECK int gw_registry_refresh(struct gw_registry *r, struct base_err *err);

/* A copy of the members (all, or only active ones) with their health, in
 * `a`, ordered by id.  Thread-safe. */
BASE_MUST_CHECK int gw_registry_snapshot(struct gw_registry *r, struct base_arena *a,
                                         bool active_only, struct gw_registry_member **out,
                                         size_t *n, struct base_err *err);
/* Is `id` an active member right now? */
bool gw_registry_is_active(struct gw_registry *r, const char *id);
/* Copy one member (any status) into `a`; false when unknown. */
bool gw_registry_find(struct gw_registry *r, struct base_arena *a, const char *id,
                      struct gw_registry_member *out);

/* Record the outcome of one health probe. */
void gw_registry_note_probe(struct gw_registry *r, const char *id, bool ok, uint64_t latency_us,
                            const char *error, int64_t now_ms);

/* Record the types a member's CapabilityStatement lists as searchable
 * (bit i: the caller's type i); known = false forgets them. */
void gw_registry_note_types(struct gw_registry *r, const char *id, bool known, uint64_t mask);
/* Does the member search type bit `bit`, as far as its statement says
 * (true while unknown)? */
bool gw_registry_health_searches(const struct gw_registry_health *h, unsigned bit);

/* Counts for /healthz and /metrics. */
void gw_registry_counts(struct gw_registry *r, size_t *active, size_t *up);

/* ------------------------------------------------------------- FHIR -- */

/* The member as an R4 Organization (id, identifier urn:fhirgate:member,
 * active, name, endpoint reference).  New reference, NULL when out of
 * memory. */
json_t *gw_registry_organization(const struct gw_registry_member *m);
/* Its Endpoint (id = member id, status active|suspended|off, connectionType
 * hl7-fhir-rest, payloadType, address, managingOrganization, certificate
 * fingerprint in extension GW_REGISTRY_EXT_CERT). */
json_t *gw_registry_endpoint(const struct gw_registry_member *m);
/* {"id","name","base","status","cert_sha256","cert_subject","source",
 *  "registered","updated","health":{…}} for the admin API. */
json_t *gw_registry_member_json(const struct gw_registry_member *m);

#define GW_REGISTRY_MEMBER_SYSTEM "urn:fhirgate:member"
#define GW_REGISTRY_EXT_CERT      "urn:fhirgate:endpoint:cert-sha256"

#endif /* GATEWAY_REGISTRY_GW_REGISTRY_H */
