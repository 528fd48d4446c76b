/*
 * gateway/app/app_int.h — internals of the gateway daemon's wiring
 * (gateway/app): the program state every handler reads, and the helpers
 * the handler files share.  Only gateway/app includes it.
 */
#ifndef GATEWAY_APP_APP_INT_H
#define GATEWAY_APP_APP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/err.h"
#include "fhir/event/fhir_event.h"
#include "gateway/app/gw_app.h"
#include "gateway/audit/gw_audit.h"
#include "gateway/auth/gw_auth.h"
#include "gateway/config/gw_config.h"
#include "gateway/db/gw_db.h"
#include "gateway/http/gw_http.h"
#include "gateway/mpi/gw_mpi.h"
#include "gateway/policy/gw_policy.h"
#include "gateway/registry/gw_registry.h"

struct base_arena;
struct gw_fed_engine;
struct gw_http_metric;
struct gw_http_static;
struct gw_app_workers;

/* Program state: built by gw_app_start(), read-only afterwards except
 * where a field says how it is guarded. */
struct gw_app {
    const struct gw_config *cfg;
    struct base_arena *arena;        /* start-up allocations */
    struct gw_db_pool *pool;         /* requests, registry, MPI */
    struct gw_db_pool *audit_pool;   /* the audit writers only */
    struct gw_audit *audit;
    struct gw_auth_keyset *keys;
    struct gw_auth_endpoint_config token_ep; /* backend set per request */
    struct gw_mpi_config mpi;
    struct gw_registry *registry;
    struct gw_http_metrics *metrics;
    struct gw_http_static *portal;   /* NULL: no portal folder */
    struct gw_http_server *http;
    struct gw_fed_engine *fed;
    struct gw_app_workers *workers;  /* merge, audit and answer after a fan-out */
    struct gw_http_route *routes;
    size_t n_routes;
    struct fhir_event_node node;
    struct gw_http_metric *m_denied;   /* fhirgate_requests_denied_total{reason} */
    struct gw_http_metric *m_audit_failed; /* fhirgate_audit_refused_requests_total */
    struct gw_http_metric *m_pulled;   /* fhirgate_mpi_pulled_total{member} */
    struct gw_http_metric *m_pull_lag; /* fhirgate_mpi_pull_lag_seconds{member} */
    struct gw_http_metric *m_fed;      /* fhirgate_fed_queries_total{kind,outcome} */

    pthread_t bg_thread;             /* probes, identity pull, registry refresh */
    bool bg_started;
    pthread_mutex_t bg_mu;           /* guards bg_stop */
    pthread_cond_t bg_cv;
    bool bg_stop;
    atomic_bool audit_ok;            /* the last append succeeded */
    atomic_bool db_ok;               /* the last database check succeeded */
};

/* ---------------------------------------------------------- requests -- */

/* What a handler learnt about the caller and the request's purpose. */
struct gw_app_caller {
    struct gw_auth_principal *p;
    enum gw_auth_pou pou;   /* purpose in force */
    const char *reason;     /* break-the-glass reason, or NULL */
    bool token_presented;
};

/* The audit facts of one request (besides who and what, which the
 * request and the caller give). */
struct gw_app_audit {
    enum fhir_event_kind kind;
    const char *subtype;       /* search-type, read, $everything, login, … */
    unsigned status;           /* HTTP status answered */
    const char *patient_ref;   /* "Patient/<person>" */
    const char *reason;        /* denial reason code or break-the-glass reason */
    bool break_glass;
    const struct fhir_event_entity *entities;
    const char *const *entity_members; /* member per entity, or NULL */
    size_t n_entities;
    enum fhir_event_alert alert; /* SECURITY_ALERT events */
    const char *user_override;   /* sign-ins: the name presented */
    const char *role_override;
    const char *org_override;
};

/*
 * Authenticate the Bearer token.  On failure answers 401 (with
 * WWW-Authenticate) — audited when a token was presented — and returns
 * false.  On success fills `c` (purpose from the token).
 */
bool gw_app_authenticate(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c);

/*
 * Require one of `roles` (a bit per enum gw_auth_role) and, when `type` is
 * not NULL, a scope granting `interaction` on it.  On failure answers 403
 * (audited with `kind`/`subtype`) and returns false.
 */
bool gw_app_require(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
                    unsigned roles, const char *type, enum gw_auth_interaction interaction,
                    enum fhir_event_kind kind, const char *subtype);
#define GW_APP_ROLE(r) (1u << (r))

/*
 * Read X-Purpose-Of-Use / X-Break-Glass-Reason into c->pou / c->reason.
 * Answers 400/403 (audited) and returns false for a malformed header or a
 * purpose the role may not claim.
 */
bool gw_app_purpose(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
                    enum fhir_event_kind kind, const char *subtype);

/*
 * Build the AuditEvent for this request and append it; returns only after
 * it is committed.  BASE_E_IO (fail closed: answer 503, no data) when it
 * could not be written.
 */
BASE_MUST_CHECK int gw_app_audit(struct gw_app *app, struct gw_http_req *r,
                                 const struct gw_app_caller *c, const struct gw_app_audit *a,
                                 struct base_err *err);

/* Audit a refusal, then answer it (status from err).  If the audit fails
 * the answer is 503 instead. */
void gw_app_deny(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
                 enum fhir_event_kind kind, const char *subtype, const char *patient_ref,
                 const struct base_err *why);

/* Audit a successful answer, then send `resource` (negotiated) with
 * `status`; 503 when the audit fails. */
void gw_app_answer(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
                   const struct gw_app_audit *a, const json_t *resource);
/* The same with plain JSON (admin and audit APIs). */
void gw_app_answer_json(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
                        const struct gw_app_audit *a, const json_t *v);

/* Answer an error as an OperationOutcome (no audit: for requests that
 * never got past parsing, or after the audit was written). */
void gw_app_fail(struct gw_http_req *r, const struct base_err *err);
/* 503 "audit trail unavailable". */
void gw_app_fail_audit(struct gw_app *app, struct gw_http_req *r);

/* Borrow a pooled connection; answers 503 and returns NULL when none. */
struct gw_db_conn *gw_app_db(struct gw_app *app, struct gw_http_req *r);

/* Parse the request body as JSON (object); answers 400/415 and returns
 * NULL when it is not.  The tree is tied to the request arena. */
json_t *gw_app_body_json(struct gw_http_req *r);

/* A query parameter as a NUL-terminated string in the arena, or NULL. */
const char *gw_app_query(struct gw_http_req *r, const char *name);
/* A searchset link: `<fhir base>/<path>?` and the request's parameters as
 * sent, but `_cursor`, then `_cursor=<cursor>` when cursor is not NULL.
 * cursor NULL: the self link (R4 search.html: every search set carries
 * one, the server's statement of what it searched on).  NULL when out of
 * memory or too long for a URL. */
char *gw_app_search_link(const struct gw_app *app, struct gw_http_req *r, const char *path,
                         const char *cursor);
/* The same without the parameters marked in `ignored` (indexed as
 * gw_http_req_query_at; may be NULL): under lenient handling the self link
 * says what was actually searched (R4 search.html#errors). */
char *gw_app_search_link_used(const struct gw_app *app, struct gw_http_req *r, const char *path,
                              const char *cursor, const bool *ignored);

/* A FHIR logical id ([A-Za-z0-9.-]{1,64}, R4 datatypes.html#id): only
 * such ids are looked up or written into the audit trail. */
bool gw_app_id_ok(const char *id);

/* Now, in Unix seconds / microseconds. */
int64_t gw_app_now(void);
int64_t gw_app_now_us(void);

/* ---------------------------------------------------------- handlers -- */

/* Discovery, health and metrics (h_meta.c). */
void gw_app_h_metadata(struct gw_http_req *r, void *cls);
void gw_app_h_smart(struct gw_http_req *r, void *cls);
void gw_app_h_openid(struct gw_http_req *r, void *cls);
void gw_app_h_jwks(struct gw_http_req *r, void *cls);
void gw_app_h_healthz(struct gw_http_req *r, void *cls);
void gw_app_h_metrics(struct gw_http_req *r, void *cls);
void gw_app_h_portal_missing(struct gw_http_req *r, void *cls);
/* The CapabilityStatement (also used by tests through gw_app.h). */
json_t *gw_app_capability_statement(const struct gw_config *cfg);

/* Sign-in (h_token.c). */
void gw_app_h_token(struct gw_http_req *r, void *cls);
void gw_app_h_revoke(struct gw_http_req *r, void *cls);    /* POST /auth/revoke (RFC 7009) */
void gw_app_h_authorize(struct gw_http_req *r, void *cls); /* GET and POST /auth/authorize */
void gw_app_h_me(struct gw_http_req *r, void *cls);
/* GET /fhir/Practitioner/{id}: a user's own (h_practitioner.c). */
void gw_app_h_practitioner_read(struct gw_http_req *r, void *cls);

/* Patients (h_patient.c). */
void gw_app_h_patient_search(struct gw_http_req *r, void *cls);
void gw_app_h_patient_pix(struct gw_http_req *r, void *cls);
void gw_app_h_patient_pix_post(struct gw_http_req *r, void *cls);
void gw_app_h_patient_match(struct gw_http_req *r, void *cls);
void gw_app_h_patient_read(struct gw_http_req *r, void *cls);

/* Federated clinical data (h_clinical.c). */
void gw_app_h_everything(struct gw_http_req *r, void *cls);
void gw_app_h_everything_post(struct gw_http_req *r, void *cls);
/* h_mpi.c: patient index stewardship (admin) */
void gw_app_h_mpi_reviews(struct gw_http_req *r, void *cls);
void gw_app_h_mpi_review_decide(struct gw_http_req *r, void *cls);
void gw_app_h_mpi_merge(struct gw_http_req *r, void *cls);
void gw_app_h_mpi_unmerge(struct gw_http_req *r, void *cls);
void gw_app_h_mpi_split(struct gw_http_req *r, void *cls);
void gw_app_h_mpi_history(struct gw_http_req *r, void *cls);
void gw_app_h_clinical(struct gw_http_req *r, void *cls);
/* The federated types: DESIGN.md §3's, and those the CDA converter adds. */
extern const char *const gw_app_clinical_types[];
extern const size_t gw_app_clinical_type_count;
bool gw_app_is_clinical_type(const char *type);
/* Index of `type` in gw_app_clinical_types, or -1. */
int gw_app_clinical_type_index(const char *type);
/* The federated types a member's CapabilityStatement (JSON text) lists as
 * searchable, as bits of gw_app_clinical_type_index; false when it lists
 * no resources (a minimal statement says nothing: ask for every type). */
bool gw_app_capability_search_types(const char *text, size_t len, uint64_t *mask);

/* Consents (h_consent.c). */
void gw_app_h_consent_create(struct gw_http_req *r, void *cls);
void gw_app_h_consent_update(struct gw_http_req *r, void *cls);
void gw_app_h_consent_search(struct gw_http_req *r, void *cls);
void gw_app_h_consent_read(struct gw_http_req *r, void *cls);
/* The active consents of a person (as JSON trees in `a`) for the policy. */
BASE_MUST_CHECK int gw_app_consents_load(struct gw_db_conn *c, struct base_arena *a,
                                         const char *person, json_t ***out, size_t *n,
                                         struct base_err *err);

/* AuditEvent search parameters answered from the events' content
 * (audit_filter.c): JSON for gw_audit_search's `contains` and `strings`,
 * built up over the query's parameters (arrays tied to the arena). */
struct gw_app_audit_filter {
    json_t *contains;
    json_t *strings;
};
enum { GW_APP_AUDIT_FILTER_NONE, GW_APP_AUDIT_FILTER_OK, GW_APP_AUDIT_FILTER_BAD };
/* NONE: not such a parameter; BAD: malformed (or an unsupported modifier). */
int gw_app_audit_filter(struct base_arena *a, const struct gw_http_param *p,
                        struct gw_app_audit_filter *f);

/* Audit trail for regulators and patients (h_audit.c). */
void gw_app_h_auditevent_search(struct gw_http_req *r, void *cls);
void gw_app_h_auditevent_read(struct gw_http_req *r, void *cls);
void gw_app_h_report(struct gw_http_req *r, void *cls);
void gw_app_h_verify(struct gw_http_req *r, void *cls);
void gw_app_h_btg_list(struct gw_http_req *r, void *cls);
void gw_app_h_btg_review(struct gw_http_req *r, void *cls);
void gw_app_h_my_accesses(struct gw_http_req *r, void *cls);

/* Members (h_members.c). */
void gw_app_h_org_search(struct gw_http_req *r, void *cls);
void gw_app_h_org_read(struct gw_http_req *r, void *cls);
void gw_app_h_endpoint_search(struct gw_http_req *r, void *cls);
void gw_app_h_endpoint_read(struct gw_http_req *r, void *cls);
void gw_app_h_member_register(struct gw_http_req *r, void *cls);
void gw_app_h_org_create(struct gw_http_req *r, void *cls);
void gw_app_h_endpoint_create(struct gw_http_req *r, void *cls);
void gw_app_h_admin_members(struct gw_http_req *r, void *cls);
void gw_app_h_admin_member_add(struct gw_http_req *r, void *cls);
void gw_app_h_admin_member_action(struct gw_http_req *r, void *cls);

/* Users (h_users.c). */
void gw_app_h_admin_users(struct gw_http_req *r, void *cls);
void gw_app_h_admin_user_add(struct gw_http_req *r, void *cls);
void gw_app_h_admin_user_action(struct gw_http_req *r, void *cls);

/* The route table (routes.c). */
BASE_MUST_CHECK int gw_app_routes(struct gw_app *app, struct base_err *err);

/* ------------------------------------------------------- background -- */

/* Federation engine, workers, probes and identity pull (fed.c, pull.c). */
BASE_MUST_CHECK int gw_app_fed_start(struct gw_app *app, struct base_err *err);
void gw_app_fed_stop(struct gw_app *app);
/* One round of health probes of every active member (blocks until done). */
void gw_app_probe_round(struct gw_app *app);
/* One round of identity pulls from every active member (blocks). */
void gw_app_pull_round(struct gw_app *app);
/* Delete expired authorization codes, assertion ids and sign-in throttle
 * rows (purge.c; blocks on one pooled connection). */
void gw_app_purge_round(struct gw_app *app);
/* Queue fn(ctx) on a worker thread (never blocks); false when stopping. */
bool gw_app_work(struct gw_app *app, void (*fn)(void *ctx), void *ctx);
/* Submit a job and wait for its answer (background thread only). */
struct gw_fed_job;
struct gw_fed_answer;
struct gw_fed_answer *gw_app_fed_run(struct gw_app *app, const struct gw_fed_job *job,
                                     struct base_err *err);
/* Per-member federation statistics for the admin API (JSON), or NULL. */
json_t *gw_app_fed_member_stats(struct gw_app *app, const char *member_id);
/* Append the federation engine's Prometheus text. */
BASE_MUST_CHECK int gw_app_fed_metrics(struct gw_app *app, struct base_buf *out);

#endif /* GATEWAY_APP_APP_INT_H */
