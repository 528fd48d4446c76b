/*
 * gateway/app/common.c — what every handler does: authenticate, enforce
 * role and scope before anything is looked up, read the purpose of use,
 * audit (IHE BALP, committed before the answer), answer.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/xml/fhir_xml.h"
#include "gateway/http/gw_http_metrics.h"
#include "gateway/http/gw_http_parse.h"

#define ROLE_SYSTEM "urn:fhirgate:role"

int64_t
gw_app_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
gw_app_now(void)
{
    return gw_app_now_us() / 1000000;
}

bool
gw_app_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;

    return n >= 1 && n <= 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

const char *
gw_app_query(struct gw_http_req *r, const char *name)
{
    struct base_str v;

    if (!gw_http_req_query(r, name, &v))
        return NULL;
    return base_str_dup0(gw_http_req_arena(r), v);
}

char *
gw_app_search_link(const struct gw_app *app, struct gw_http_req *r, const char *path,
                   const char *cursor)
{
    return gw_app_search_link_used(app, r, path, cursor, NULL);
}

char *
gw_app_search_link_used(const struct gw_app *app, struct gw_http_req *r, const char *path,
                        const char *cursor, const bool *ignored)
{
    struct base_buf u;
    const char *sep = "?";
    char *url = NULL;
    int rc;

    base_buf_init(&u, BASE_LIMIT_HTTP_MAX_URL * 2);
    /* under the base the client used, so it can follow the link as is */
    rc = base_buf_appendf(&u, "%s/%s", gw_http_req_base_url(r, app->cfg->fhir_base), path);
    for (size_t k = 0; rc == BASE_OK && k < gw_http_req_query_count(r); k++) {
        const struct gw_http_param *p = gw_http_req_query_at(r, k);

        if (base_str_eq_cstr(p->name, "_cursor") || (ignored != NULL && ignored[k]))
            continue;
        rc = base_buf_appendf(&u, "%s%.*s=%.*s", sep, (int)p->raw_name.len, p->raw_name.ptr,
                              (int)p->raw_value.len, p->raw_value.ptr);
        sep = "&";
    }
    if (rc == BASE_OK && cursor != NULL)
        rc = base_buf_appendf(&u, "%s_cursor=%s", sep, cursor);
    if (rc == BASE_OK)
        url = base_buf_dup0(&u, gw_http_req_arena(r));
    base_buf_fini(&u);
    return url;
}

void
gw_app_fail(struct gw_http_req *r, const struct base_err *err)
{
    if (gw_http_respond_error(r, err) != BASE_OK)
        return; /* the server answers 500 */
}

static void
count_denial(struct gw_app *app, const char *why)
{
    const char *labels[1] = {why};

    if (app->m_denied != NULL)
        gw_http_metric_add(app->m_denied, labels, 1);
}

void
gw_app_fail_audit(struct gw_app *app, struct gw_http_req *r)
{
    atomic_store(&app->audit_ok, false);
    if (app->m_audit_failed != NULL)
        gw_http_metric_add(app->m_audit_failed, NULL, 1);
    if (gw_http_set_header(r, "Retry-After", "1") != BASE_OK ||
        gw_http_respond_outcome(r, 503, "transient", NULL,
                                "the audit trail is unavailable; nothing was disclosed") !=
            BASE_OK)
        return;
}

struct gw_db_conn *
gw_app_db(struct gw_app *app, struct gw_http_req *r)
{
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};

    if (gw_db_borrow(app->pool, &c, &err) == BASE_OK) {
        atomic_store(&app->db_ok, true);
        return c;
    }
    atomic_store(&app->db_ok, false);
    BASE_LOG_REQ(BASE_LOG_WARN, gw_http_req_id(r), "db.unavailable", "where=%s", err.where);
    if (gw_http_set_header(r, "Retry-After", "1") != BASE_OK ||
        gw_http_respond_outcome(r, 503, "transient", NULL, "the database is unavailable") !=
            BASE_OK)
        return NULL;
    return NULL;
}

json_t *
gw_app_body_json(struct gw_http_req *r)
{
    struct base_str body = gw_http_req_body(r);
    const char *ct = gw_http_req_header(r, "Content-Type");
    struct base_err err = {0};
    enum gw_http_format fmt;
    json_t *v = NULL;

    if (ct == NULL ||
        gw_http_body_format(base_str_from_cstr(ct), true, &fmt, &err) != BASE_OK) {
        if (gw_http_respond_outcome(r, 415, "not-supported", "Content-Type",
                                    "the body must be FHIR JSON or FHIR XML") != BASE_OK)
            return NULL;
        return NULL;
    }
    if (fmt == GW_HTTP_FORMAT_XML) {
        if (fhir_xml_read(body.ptr, body.len, NULL, NULL, &v, &err) != BASE_OK) {
            json_decref(v);
            gw_app_fail(r, &err);
            return NULL;
        }
    } else if (fhir_json_parse(body.ptr, body.len, NULL, &v, &err) != BASE_OK) {
        gw_app_fail(r, &err);
        return NULL;
    }
    if (fhir_json_tie(gw_http_req_arena(r), v) != BASE_OK) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "out of memory") != BASE_OK)
            return NULL;
        return NULL;
    }
    if (!json_is_object(v)) {
        if (gw_http_respond_outcome(r, 400, "structure", NULL, "the body must be a JSON object") !=
            BASE_OK)
            return NULL;
        return NULL;
    }
    return v;
}

/* ------------------------------------------------------------- audit -- */

static const char *
role_display(enum gw_auth_role role)
{
    switch (role) {
    case GW_AUTH_ROLE_CLINICIAN:
        return "Clinician";
    case GW_AUTH_ROLE_REGULATOR:
        return "Regulator";
    case GW_AUTH_ROLE_ADMIN:
        return "Administrator";
    case GW_AUTH_ROLE_PATIENT:
        return "Patient";
    case GW_AUTH_ROLE_MEMBER_SYSTEM:
        return "Member system";
    case GW_AUTH_ROLE_NONE:
    default:
        return "Unknown";
    }
}

static enum fhir_event_outcome
outcome_for(unsigned status)
{
    if (status < 400)
        return FHIR_EVENT_SUCCESS;
    if (status < 500)
        return FHIR_EVENT_MINOR_FAILURE;
    if (status == 503)
        return FHIR_EVENT_MAJOR_FAILURE;
    return FHIR_EVENT_SERIOUS_FAILURE;
}

/* The raw request as BALP records it: method, path and query. */
static const char *
raw_query(struct gw_http_req *r, size_t *len)
{
    struct base_str path = gw_http_req_path(r);
    struct base_str q = gw_http_req_query_string(r);
    char *s = base_arena_sprintf(gw_http_req_arena(r), "%s %.*s%s%.*s", gw_http_req_method(r),
                                 (int)path.len, path.ptr, q.len > 0 ? "?" : "", (int)q.len,
                                 q.ptr != NULL ? q.ptr : "");

    *len = s != NULL ? strlen(s) : 0;
    return s;
}

/* AuditEvent.entity.detail "member" on each returned entity: two members'
 * Observation/1 are different records, and the regulator must see which
 * hospital's was disclosed. */
static void
tag_entity_members(json_t *ae, const struct gw_app_audit *a, bool has_patient, bool has_query)
{
    json_t *list = json_object_get(ae, "entity");
    size_t off = (has_patient ? 1u : 0u) + (has_query ? 1u : 0u);

    for (size_t i = 0; a->entity_members != NULL && i < a->n_entities; i++) {
        json_t *e = json_array_get(list, off + i);

        if (e != NULL && a->entity_members[i] != NULL)
            json_object_set_new(e, "detail",
                                json_pack("[{s:s, s:s}]", "type", "member", "valueString",
                                          a->entity_members[i]));
    }
}

/* "Type/id" of each entity for the indexed column. */
static const char **
entity_refs(struct base_arena *arena, const struct gw_app_audit *a)
{
    const char **refs = BASE_NEW_N(arena, const char *, a->n_entities + 1);

    for (size_t i = 0; refs != NULL && i < a->n_entities; i++) {
        refs[i] = base_arena_sprintf(arena, "%s/%s", a->entities[i].type, a->entities[i].id);
        if (refs[i] == NULL)
            return NULL;
    }
    return refs;
}

static void
fill_user(struct gw_http_req *r, const struct gw_app_caller *c, const struct gw_app_audit *a,
          struct fhir_event_user *u)
{
    const struct gw_auth_principal *p = c != NULL ? c->p : NULL;
    struct base_arena *arena = gw_http_req_arena(r);
    enum gw_auth_role role = p != NULL ? p->role : GW_AUTH_ROLE_NONE;
    const char *org = a->org_override != NULL ? a->org_override
                                              : (p != NULL ? p->organization : NULL);

    memset(u, 0, sizeof(*u));
    u->id = a->user_override != NULL ? a->user_override : (p != NULL ? p->subject : "anonymous");
    u->id_system = "urn:fhirgate:user";
    u->name = p != NULL ? p->display_name : NULL;
    u->role_system = ROLE_SYSTEM;
    u->role_code = a->role_override != NULL ? a->role_override : gw_auth_role_name(role);
    u->role_display = a->role_override != NULL ? NULL : role_display(role);
    if (org != NULL)
        u->org_reference = base_arena_sprintf(arena, "Organization/%s", org);
    u->network_address = gw_http_req_remote_addr(r);
}

static int
build_and_append(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
                 const struct gw_app_audit *a, struct base_err *err)
{
    struct base_arena *arena = gw_http_req_arena(r);
    const struct gw_auth_principal *p = c != NULL ? c->p : NULL;
    struct fhir_event_user user;
    struct fhir_event_client client = {0};
    struct fhir_event_audit ev = {0};
    struct gw_audit_record rec = {0};
    const char *purpose = c != NULL && c->pou != GW_AUTH_POU_NONE ? gw_auth_pou_code(c->pou)
                                                                   : NULL;
    char outcome[4];
    char action[2] = {0};
    json_t *ae;
    int rc;

    fill_user(r, c, a, &user);
    client.id = p != NULL && p->client_id != NULL ? p->client_id : "unknown";
    client.network_address = gw_http_req_remote_addr(r);
    ev.kind = a->kind;
    ev.recorded_us = gw_app_now_us();
    ev.tz_offset_min = app->cfg->tz_offset_min;
    ev.outcome = outcome_for(a->status);
    ev.outcome_desc = ev.outcome != FHIR_EVENT_SUCCESS
                          ? (a->reason != NULL && !a->break_glass ? a->reason : "refused")
                          : NULL;
    ev.purpose_of_use = purpose;
    ev.purpose_text = a->break_glass ? a->reason : NULL;
    ev.user = &user;
    ev.client = &client;
    ev.node = &app->node;
    ev.patient_reference = a->patient_ref;
    ev.query = raw_query(r, &ev.query_len);
    ev.entities = a->entities;
    ev.n_entities = a->n_entities;
    ev.alert = a->alert;
    ev.request_id = gw_http_req_id(r);
    ae = fhir_event_audit_build(&ev, err);
    if (ae == NULL)
        return err->rc < 0 ? err->rc : BASE_E_INVALID;
    tag_entity_members(ae, a, a->patient_ref != NULL, ev.query != NULL);
    if (fhir_json_tie(arena, ae) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    snprintf(outcome, sizeof(outcome), "%d", (int)ev.outcome);
    action[0] = *json_string_value(json_object_get(ae, "action"));
    rec.event = ae;
    rec.action = action;
    rec.subtype = a->subtype;
    rec.outcome = outcome;
    rec.http_status = (int)a->status;
    rec.agent_user = user.id;
    rec.agent_role = user.role_code;
    rec.agent_org = a->org_override != NULL ? a->org_override
                                            : (p != NULL ? p->organization : NULL);
    rec.patient_ref = a->patient_ref;
    rec.entities = entity_refs(arena, a);
    rec.entity_count = rec.entities != NULL ? a->n_entities : 0;
    rec.purpose = purpose;
    rec.break_glass = a->break_glass;
    rec.reason = a->reason;
    rec.request_id = gw_http_req_id(r);
    rec.client_addr = gw_http_req_remote_addr(r);
    rc = gw_audit_append(app->audit, &rec, NULL, err);
    atomic_store(&app->audit_ok, rc == BASE_OK);
    return rc;
}

int
gw_app_audit(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
             const struct gw_app_audit *a, struct base_err *err)
{
    int rc = build_and_append(app, r, c, a, err);

    if (rc != BASE_OK)
        BASE_LOG_REQ(BASE_LOG_ERROR, gw_http_req_id(r), "audit.refused", "where=%s rc=%d",
                     err->where, rc);
    return rc;
}

void
gw_app_deny(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
            enum fhir_event_kind kind, const char *subtype, const char *patient_ref,
            const struct base_err *why)
{
    struct gw_app_audit a = {0};
    struct base_err err = {0};
    const char *code = why->issue_code[0] != '\0' ? why->issue_code : "forbidden";

    a.kind = kind;
    a.subtype = subtype;
    a.status = gw_http_status_for_err(why);
    a.patient_ref = patient_ref;
    a.reason = why->where[0] != '\0' ? why->where : code;
    count_denial(app, code);
    if (gw_app_audit(app, r, c, &a, &err) != BASE_OK) {
        gw_app_fail_audit(app, r);
        return;
    }
    gw_app_fail(r, why);
}

static bool
audit_first(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
            const struct gw_app_audit *a)
{
    struct base_err err = {0};

    if (gw_app_audit(app, r, c, a, &err) == BASE_OK)
        return true;
    gw_app_fail_audit(app, r);
    return false;
}

void
gw_app_answer(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
              const struct gw_app_audit *a, const json_t *resource)
{
    if (!audit_first(app, r, c, a))
        return;
    if (gw_http_respond_resource(r, a->status, resource) != BASE_OK)
        return;
}

void
gw_app_answer_json(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
                   const struct gw_app_audit *a, const json_t *v)
{
    if (!audit_first(app, r, c, a))
        return;
    if (gw_http_respond_json(r, a->status, v) != BASE_OK)
        return;
}

/* ------------------------------------------------------ authenticate -- */

static void
challenge(struct gw_http_req *r, const struct base_err *err)
{
    struct base_buf b;
    char *v = NULL;

    base_buf_init(&b, 1024);
    if (gw_auth_challenge(err, &b) == BASE_OK)
        v = base_buf_dup0(&b, gw_http_req_arena(r));
    base_buf_fini(&b);
    if (v != NULL && gw_http_set_header(r, "WWW-Authenticate", v) != BASE_OK)
        return;
}

bool
gw_app_authenticate(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c)
{
    const char *h = gw_http_req_header(r, "Authorization");
    struct base_err err = {0};
    struct gw_auth_principal *p = NULL;

    memset(c, 0, sizeof(*c));
    c->token_presented = h != NULL;
    if (gw_auth_bearer_verify(gw_http_req_arena(r), app->keys, &app->token_ep.tokens, h,
                              h != NULL ? strlen(h) : 0, gw_app_now(), &p, &err) == BASE_OK) {
        c->p = p;
        c->pou = p->purpose;
        return true;
    }
    /* Token failures are always 401 here (RFC 6750 §3.1 invalid_token);
     * 403 is for what a valid token may not do. */
    if (err.rc != BASE_E_AUTH || strcmp(err.issue_code, "expired") != 0)
        snprintf(err.issue_code, sizeof(err.issue_code), "%s", "login");
    err.rc = BASE_E_AUTH;
    challenge(r, &err);
    count_denial(app, "token");
    if (c->token_presented) {
        struct gw_app_audit a = {0};
        struct base_err aerr = {0};

        a.kind = FHIR_EVENT_SECURITY_ALERT;
        a.alert = FHIR_EVENT_ALERT_NODE_AUTHENTICATION;
        a.subtype = "token-refused";
        a.status = 401;
        a.reason = err.where[0] != '\0' ? err.where : "token";
        a.user_override = "unauthenticated";
        if (gw_app_audit(app, r, NULL, &a, &aerr) != BASE_OK) {
            gw_app_fail_audit(app, r);
            return false;
        }
    }
    gw_app_fail(r, &err);
    return false;
}

bool
gw_app_require(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
               unsigned roles, const char *type, enum gw_auth_interaction interaction,
               enum fhir_event_kind kind, const char *subtype)
{
    struct base_err err = {0};

    if ((roles & GW_APP_ROLE(c->p->role)) == 0) {
        (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "role",
                           "this role may not use this interaction");
        gw_app_deny(app, r, c, kind, subtype, NULL, &err);
        return false;
    }
    if (type != NULL && !gw_auth_scope_allows(&c->p->scopes, type, interaction)) {
        (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "scope",
                           "the token's scopes do not allow this interaction on %s", type);
        gw_app_deny(app, r, c, kind, subtype, NULL, &err);
        return false;
    }
    return true;
}

bool
gw_app_purpose(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
               enum fhir_event_kind kind, const char *subtype)
{
    const char *h = gw_http_req_header(r, "X-Purpose-Of-Use");
    const char *reason = gw_http_req_header(r, "X-Break-Glass-Reason");
    struct base_str sys;
    struct base_str code;
    struct base_err err = {0};
    enum gw_auth_pou pou;

    if (h != NULL) {
        if (gw_http_purpose_parse(base_str_from_cstr(h), &sys, &code, &err) != BASE_OK ||
            (sys.len > 0 && !base_str_eq_cstr(sys, GW_AUTH_POU_SYSTEM)) ||
            !gw_auth_pou_parse(code, &pou)) {
            base_err_set(&err, BASE_E_INVALID, "value", "X-Purpose-Of-Use",
                         "unknown purpose of use");
            gw_app_deny(app, r, c, kind, subtype, NULL, &err);
            return false;
        }
        if (!gw_auth_role_allows_pou(c->p->role, pou)) {
            (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "X-Purpose-Of-Use",
                               "this role may not claim that purpose of use");
            gw_app_deny(app, r, c, kind, subtype, NULL, &err);
            return false;
        }
        c->pou = pou;
    }
    c->reason = reason;
    return true;
}
