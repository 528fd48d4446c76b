/*
 * gateway/app/h_members.c — members over HTTP: Organization and Endpoint
 * (read, search), an adapter's own registration with its region-issued
 * client certificate, and the admin API (list with health, add, approve,
 * disable, enable).  docs/design/region.md "Members".
 */
#include "gateway/app/app_int.h"

#include <string.h>
#include <strings.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
#include "gateway/fed/gw_fed.h"

#define ANY_ROLE                                                                                   \
    (GW_APP_ROLE(GW_AUTH_ROLE_CLINICIAN) | GW_APP_ROLE(GW_AUTH_ROLE_REGULATOR) |                  \
     GW_APP_ROLE(GW_AUTH_ROLE_ADMIN) | GW_APP_ROLE(GW_AUTH_ROLE_PATIENT) |                        \
     GW_APP_ROLE(GW_AUTH_ROLE_MEMBER_SYSTEM))
#define ADMIN GW_APP_ROLE(GW_AUTH_ROLE_ADMIN)

typedef json_t *(*as_fhir_fn)(const struct gw_registry_member *m);

static bool
matches(struct gw_http_req *r, const struct gw_registry_member *m, const char **bad)
{
    *bad = NULL;
    for (size_t i = 0; i < gw_http_req_query_count(r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(r, i);

        if (base_str_eq_cstr(p->name, "_id")) {
            if (!base_str_eq_cstr(p->value, m->id))
                return false;
        } else if (base_str_eq_cstr(p->name, "name")) {
            /* FHIR string search: starts with, case-insensitive (ASCII). */
            if (p->value.len > strlen(m->name) ||
                strncasecmp(m->name, p->value.ptr, p->value.len) != 0)
                return false;
        } else if (base_str_eq_cstr(p->name, "active") || base_str_eq_cstr(p->name, "status")) {
            bool want = base_str_eq_cstr(p->value, "true") || base_str_eq_cstr(p->value, "active");

            if (want != (m->status == GW_REGISTRY_ACTIVE))
                return false;
        } else if (!base_str_eq_cstr(p->name, "_format") &&
                   !base_str_eq_cstr(p->name, "_pretty")) {
            *bad = "query";
            return false;
        }
    }
    return true;
}

static void
registry_search(struct gw_http_req *r, struct gw_app *app, const char *type, as_fhir_fn fn)
{
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "search-type", .status = 200};
    struct gw_registry_member *ms = NULL;
    struct gw_app_caller c;
    struct base_err err = {0};
    size_t n = 0;
    json_t *b;

    if (!gw_app_authenticate(app, r, &c) ||
        !gw_app_require(app, r, &c, ANY_ROLE, NULL, GW_AUTH_SEARCH, FHIR_EVENT_SEARCH,
                        "search-type"))
        return;
    if (gw_registry_snapshot(app->registry, a, false, &ms, &n, &err) != BASE_OK ||
        (b = fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, NULL, NULL)) == NULL ||
        fhir_json_tie(a, b) != BASE_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *bad = NULL;

        if (!matches(r, &ms[i], &bad)) {
            if (bad != NULL) {
                (void)base_err_set(&err, BASE_E_INVALID, "not-supported", bad,
                                   "unknown search parameter (use _id, name, active)");
                gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "search-type", NULL, &err);
                return;
            }
            continue;
        }
        if (fhir_bundle_add_entry(b, fhir_bundle_full_url(a, app->cfg->fhir_base, type, ms[i].id),
                                  fn(&ms[i]), FHIR_BUNDLE_MODE_MATCH, NULL) != BASE_OK)
            return;
    }
    if (fhir_bundle_set_total(b, json_array_size(json_object_get(b, "entry"))) != BASE_OK)
        return;
    gw_app_answer(app, r, &c, &au, b);
}

static void
registry_read(struct gw_http_req *r, struct gw_app *app, const char *type, as_fhir_fn fn)
{
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_READ, .subtype = "read", .status = 200};
    struct fhir_event_entity ent = {.type = type};
    char *id = base_str_dup0(a, gw_http_req_param(r, "id"));
    struct gw_registry_member m;
    struct gw_app_caller c;
    struct base_err err = {0};
    json_t *v;

    if (id == NULL || !gw_app_authenticate(app, r, &c) ||
        !gw_app_require(app, r, &c, ANY_ROLE, NULL, GW_AUTH_READ, FHIR_EVENT_READ, "read"))
        return;
    if (!gw_registry_find(app->registry, a, id, &m)) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", type, "no such member");
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", NULL, &err);
        return;
    }
    v = fn(&m);
    if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
        return;
    ent.id = m.id;
    au.entities = &ent;
    au.n_entities = 1;
    gw_app_answer(app, r, &c, &au, v);
}

void
gw_app_h_org_search(struct gw_http_req *r, void *cls)
{
    registry_search(r, cls, "Organization", gw_registry_organization);
}

void
gw_app_h_org_read(struct gw_http_req *r, void *cls)
{
    registry_read(r, cls, "Organization", gw_registry_organization);
}

void
gw_app_h_endpoint_search(struct gw_http_req *r, void *cls)
{
    registry_search(r, cls, "Endpoint", gw_registry_endpoint);
}

void
gw_app_h_endpoint_read(struct gw_http_req *r, void *cls)
{
    registry_read(r, cls, "Endpoint", gw_registry_endpoint);
}

/* ---------------------------------------------------- registration -- */

static void
refresh(struct gw_app *app)
{
    struct base_err err = {0};

    if (gw_registry_refresh(app->registry, &err) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "registry.refresh", "where=%s", err.where);
}

static int
member_from_body(const json_t *body, const char *id_key, struct gw_registry_member *m)
{
    memset(m, 0, sizeof(*m));
    m->id = json_string_value(json_object_get(body, id_key));
    m->name = json_string_value(json_object_get(body, "name"));
    m->base = json_string_value(json_object_get(body, "base"));
    m->cert_sha256 = json_string_value(json_object_get(body, "cert_sha256"));
    return BASE_OK;
}

/* POST /members/register: the caller is an adapter proving itself with a
 * client certificate of the region CA whose CN is the member id. */
void
gw_app_h_member_register(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    const struct gw_http_client *cl = gw_http_req_client(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_CREATE, .subtype = "member-register",
                              .role_override = "member-system"};
    struct gw_registry_member m;
    struct gw_registry_member out;
    struct base_err err = {0};
    struct gw_db_conn *db;
    bool created = false;
    json_t *body;
    json_t *v;
    int rc;

    if (cl == NULL || !cl->present || !cl->verified || cl->subject_cn == NULL) {
        au.kind = FHIR_EVENT_SECURITY_ALERT;
        au.alert = FHIR_EVENT_ALERT_NODE_AUTHENTICATION;
        au.status = cl != NULL && cl->present ? 403 : 401;
        au.reason = "client-certificate";
        au.user_override = cl != NULL && cl->subject_cn != NULL ? cl->subject_cn : "anonymous";
        (void)base_err_set(&err, BASE_E_AUTH, au.status == 401 ? "login" : "security",
                           "certificate",
                           "registration needs a client certificate issued by the region CA");
        if (gw_app_audit(app, r, NULL, &au, &(struct base_err){0}) != BASE_OK) {
            gw_app_fail_audit(app, r);
            return;
        }
        gw_app_fail(r, &err);
        return;
    }
    au.user_override = cl->subject_cn;
    au.org_override = cl->subject_cn;
    if ((body = gw_app_body_json(r)) == NULL)
        return;
    (void)member_from_body(body, "member", &m);
    m.cert_sha256 = cl->sha256;
    m.cert_subject = cl->subject_dn;
    rc = gw_registry_member_check(&m, app->cfg->fed_allow_http, &err);
    if (rc == BASE_OK && strcmp(m.id, cl->subject_cn) != 0)
        rc = base_err_set(&err, BASE_E_AUTH, "forbidden", "member",
                          "the certificate does not name this member");
    if (rc == BASE_OK) {
        if ((db = gw_app_db(app, r)) == NULL)
            return;
        rc = gw_registry_register(db, a, &m, app->cfg->auto_approve, &out, &created, &err);
        gw_db_release(db);
    }
    au.status = rc == BASE_OK ? (out.status == GW_REGISTRY_ACTIVE ? 201 : 202)
                              : gw_http_status_for_err(&err);
    if (rc != BASE_OK) {
        au.reason = err.where;
        if (gw_app_audit(app, r, NULL, &au, &(struct base_err){0}) != BASE_OK) {
            gw_app_fail_audit(app, r);
            return;
        }
        gw_app_fail(r, &err);
        return;
    }
    refresh(app);
    v = json_pack("{s:s, s:s, s:b}", "member", out.id, "status",
                  gw_registry_status_name(out.status), "created", created);
    if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
        return;
    gw_app_answer_json(app, r, NULL, &au, v);
}

/* --------------------------------------------------------- admin API -- */

static bool
admin(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
      enum gw_auth_interaction ia, enum fhir_event_kind kind, const char *subtype)
{
    return gw_app_authenticate(app, r, c) &&
           gw_app_require(app, r, c, ADMIN, "Organization", ia, kind, subtype);
}

void
gw_app_h_admin_members(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "admin-members",
                              .status = 200};
    struct gw_registry_member *ms = NULL;
    struct gw_app_caller c;
    struct base_err err = {0};
    size_t n = 0;
    json_t *list;
    json_t *out;

    if (!admin(app, r, &c, GW_AUTH_SEARCH, FHIR_EVENT_SEARCH, "admin-members"))
        return;
    if (gw_registry_snapshot(app->registry, a, false, &ms, &n, &err) != BASE_OK ||
        (list = json_array()) == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *m = gw_registry_member_json(&ms[i]);
        json_t *fed = gw_app_fed_member_stats(app, ms[i].id);

        if (m != NULL)
            json_object_set_new(m, "federation", fed != NULL ? fed : json_null());
        json_array_append_new(list, m);
    }
    out = json_pack("{s:o}", "members", list);
    if (out == NULL || fhir_json_tie(a, out) != BASE_OK)
        return;
    gw_app_answer_json(app, r, &c, &au, out);
}

void
gw_app_h_admin_member_add(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_CREATE, .subtype = "admin-member-add",
                              .status = 201};
    const char *status;
    struct gw_registry_member m;
    struct gw_registry_member out;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *body;
    int rc;

    if (!admin(app, r, &c, GW_AUTH_CREATE, FHIR_EVENT_CREATE, "admin-member-add") ||
        (body = gw_app_body_json(r)) == NULL)
        return;
    (void)member_from_body(body, "id", &m);
    m.source = "admin";
    status = json_string_value(json_object_get(body, "status"));
    m.status = GW_REGISTRY_ACTIVE;
    rc = gw_registry_member_check(&m, app->cfg->fed_allow_http, &err);
    if (rc == BASE_OK && status != NULL && !gw_registry_status_parse(status, &m.status))
        rc = base_err_set(&err, BASE_E_INVALID, "value", "status",
                          "status must be pending, active or disabled");
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_CREATE, "admin-member-add", NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_registry_get(db, a, m.id, &out, &(struct base_err){0}) == BASE_OK
             ? base_err_set(&err, BASE_E_CONFLICT, "duplicate", "id", "the member exists already")
             : gw_registry_put(db, &m, &err);
    if (rc == BASE_OK)
        rc = gw_registry_get(db, a, m.id, &out, &err);
    gw_db_release(db);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_CREATE, "admin-member-add", NULL, &err);
        return;
    }
    refresh(app);
    {
        json_t *v = gw_registry_member_json(&out);

        if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
            return;
        gw_app_answer_json(app, r, &c, &au, v);
    }
}

void
gw_app_h_admin_member_action(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_UPDATE, .subtype = "admin-member",
                              .status = 200};
    char *id = base_str_dup0(a, gw_http_req_param(r, "id"));
    char *action = base_str_dup0(a, gw_http_req_param(r, "action"));
    struct gw_registry_member out;
    enum gw_registry_status st;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    int rc;

    if (id == NULL || action == NULL ||
        !admin(app, r, &c, GW_AUTH_UPDATE, FHIR_EVENT_UPDATE, "admin-member"))
        return;
    if (strcmp(action, "approve") == 0 || strcmp(action, "enable") == 0) {
        st = GW_REGISTRY_ACTIVE;
    } else if (strcmp(action, "disable") == 0) {
        st = GW_REGISTRY_DISABLED;
    } else {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "action",
                           "actions are approve, enable and disable");
        gw_app_deny(app, r, &c, FHIR_EVENT_UPDATE, "admin-member", NULL, &err);
        return;
    }
    au.subtype = base_arena_sprintf(a, "admin-member-%s", action);
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_registry_set_status(db, id, st, &err);
    if (rc == BASE_OK)
        rc = gw_registry_get(db, a, id, &out, &err);
    gw_db_release(db);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_UPDATE, au.subtype, NULL, &err);
        return;
    }
    /* A member back in service starts with a closed circuit. */
    if (st == GW_REGISTRY_ACTIVE && app->fed != NULL)
        gw_fed_breaker_reset(app->fed, id);
    refresh(app);
    {
        json_t *v = gw_registry_member_json(&out);

        if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
            return;
        gw_app_answer_json(app, r, &c, &au, v);
    }
}
