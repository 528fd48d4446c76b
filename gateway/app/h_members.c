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
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/search/fhir_search.h"
#include "fhir/validate/fhir_validate.h"
#include "gateway/fed/gw_fed.h"

#define ANY_ROLE                                                                                   \
    (GW_APP_ROLE(GW_AUTH_ROLE_CLINICIAN) | GW_APP_ROLE(GW_AUTH_ROLE_REGULATOR) |                  \
     GW_APP_ROLE(GW_AUTH_ROLE_ADMIN) | GW_APP_ROLE(GW_AUTH_ROLE_PATIENT) |                        \
     GW_APP_ROLE(GW_AUTH_ROLE_MEMBER_SYSTEM))
#define ADMIN GW_APP_ROLE(GW_AUTH_ROLE_ADMIN)

typedef json_t *(*as_fhir_fn)(const struct gw_registry_member *m);

/* Prefer: handling=lenient (R4 search.html#errors): unknown parameters are
 * ignored rather than refused. */
static bool
lenient(const struct gw_http_req *r)
{
    return fhir_search_handling_from_prefer(gw_http_req_header(r, "Prefer"), FHIR_SEARCH_STRICT) ==
           FHIR_SEARCH_LENIENT;
}

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
        } else if (!base_str_eq_cstr(p->name, "_format") && !base_str_eq_cstr(p->name, "_pretty") &&
                   !lenient(r)) {
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
                (void)base_err_set(&err, BASE_E_INVALID, "invalid", bad,
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

/* ------------------------------------------- FHIR form of registration -- */

/* region.md "Members": an admin may also register a member as FHIR
 * resources.  POST /fhir/Endpoint creates or updates the member its
 * managingOrganization names (address = FHIR base, status active /
 * suspended (pending) / off (disabled), the certificate fingerprint in
 * GW_REGISTRY_EXT_CERT); POST /fhir/Organization then renames it or sets
 * it active/inactive.  Both are validated as R4 first (422). */

static bool
valid_resource(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
               json_t *res, const char *type, const char *subtype)
{
    struct fhir_validate_opts vo = {.expect_type = type, .no_warnings = true};
    struct base_err err = {0};
    json_t *oo = fhir_outcome_new();

    if (oo == NULL || fhir_json_tie(gw_http_req_arena(r), oo) != BASE_OK)
        return false;
    if (fhir_validate(res, &vo, oo, NULL, &err) == BASE_OK)
        return true;
    {
        struct gw_app_audit au = {.kind = FHIR_EVENT_CREATE, .subtype = subtype, .status = 422,
                                  .reason = "validation"};

        if (gw_app_audit(app, r, c, &au, &err) != BASE_OK) {
            gw_app_fail_audit(app, r);
            return false;
        }
    }
    if (gw_http_respond_resource(r, 422, oo) != BASE_OK)
        return false;
    return false;
}

static const char *
org_id(const json_t *ref_obj)
{
    const char *ref = json_string_value(json_object_get(ref_obj, "reference"));

    return ref != NULL && strncmp(ref, "Organization/", 13) == 0 ? ref + 13 : NULL;
}

static const char *
cert_ext(const json_t *res)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(res, "extension"), i, e) {
        const char *url = json_string_value(json_object_get(e, "url"));

        if (url != NULL && strcmp(url, GW_REGISTRY_EXT_CERT) == 0)
            return json_string_value(json_object_get(e, "valueString"));
    }
    return NULL;
}

static void
answer_member(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
              struct gw_app_audit *au, const char *id, const char *type, as_fhir_fn fn)
{
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_registry_member out;
    struct fhir_event_entity ent = {.type = type};
    struct base_err err = {0};
    struct gw_db_conn *db = gw_app_db(app, r);
    json_t *v;
    int rc;

    if (db == NULL)
        return;
    rc = gw_registry_get(db, a, id, &out, &err);
    gw_db_release(db);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, c, au->kind, au->subtype, NULL, &err);
        return;
    }
    refresh(app);
    v = fn(&out);
    if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
        return;
    ent.id = out.id;
    au->entities = &ent;
    au->n_entities = 1;
    if (gw_http_set_header(r, "Location",
                           base_arena_sprintf(a, "%s/%s/%s", app->cfg->fhir_base, ent.type,
                                              out.id)) != BASE_OK)
        return;
    gw_app_answer(app, r, c, au, v);
}

void
gw_app_h_endpoint_create(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_CREATE, .subtype = "fhir-Endpoint",
                              .status = 201};
    const char *status;
    struct gw_registry_member m = {.source = "admin"};
    struct gw_registry_member cur;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *ep;
    int rc;

    if (!admin(app, r, &c, GW_AUTH_CREATE, FHIR_EVENT_CREATE, au.subtype) ||
        (ep = gw_app_body_json(r)) == NULL ||
        !valid_resource(app, r, &c, ep, "Endpoint", au.subtype))
        return;
    m.id = org_id(json_object_get(ep, "managingOrganization"));
    m.base = json_string_value(json_object_get(ep, "address"));
    m.name = json_string_value(json_object_get(json_object_get(ep, "managingOrganization"),
                                               "display"));
    if (m.name == NULL)
        m.name = json_string_value(json_object_get(ep, "name"));
    m.cert_sha256 = cert_ext(ep);
    status = json_string_value(json_object_get(ep, "status"));
    m.status = status != NULL && strcmp(status, "active") == 0      ? GW_REGISTRY_ACTIVE
               : status != NULL && strcmp(status, "suspended") == 0 ? GW_REGISTRY_PENDING
                                                                    : GW_REGISTRY_DISABLED;
    rc = gw_registry_member_check(&m, app->cfg->fed_allow_http, &err);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    if (gw_registry_get(db, a, m.id, &cur, &(struct base_err){0}) == BASE_OK) {
        au.status = 200;
        m.source = cur.source;
        m.cert_subject = cur.cert_subject;
        if (m.cert_sha256 == NULL)
            m.cert_sha256 = cur.cert_sha256;
    }
    rc = gw_registry_put(db, &m, &err);
    gw_db_release(db);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        return;
    }
    answer_member(app, r, &c, &au, m.id, "Endpoint", gw_registry_endpoint);
}

void
gw_app_h_org_create(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_UPDATE, .subtype = "fhir-Organization",
                              .status = 200};
    struct gw_registry_member cur;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    const char *id;
    const char *name;
    json_t *active;
    json_t *org;
    int rc;

    if (!admin(app, r, &c, GW_AUTH_CREATE, FHIR_EVENT_UPDATE, au.subtype) ||
        (org = gw_app_body_json(r)) == NULL ||
        !valid_resource(app, r, &c, org, "Organization", au.subtype))
        return;
    id = json_string_value(json_object_get(org, "id"));
    name = json_string_value(json_object_get(org, "name"));
    active = json_object_get(org, "active");
    if (id == NULL || (db = gw_app_db(app, r)) == NULL) {
        if (id == NULL) {
            (void)base_err_set(&err, BASE_E_INVALID, "required", "Organization.id",
                               "the Organization id is the member id");
            gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        }
        return;
    }
    rc = gw_registry_get(db, a, id, &cur, &err);
    if (rc == BASE_E_NOTFOUND)
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "Organization.id",
                           "register the member's Endpoint first (POST /fhir/Endpoint)");
    if (rc == BASE_OK) {
        if (name != NULL)
            cur.name = name;
        if (json_is_boolean(active))
            cur.status = json_is_true(active) ? GW_REGISTRY_ACTIVE : GW_REGISTRY_DISABLED;
        rc = gw_registry_member_check(&cur, app->cfg->fed_allow_http, &err);
        if (rc == BASE_OK)
            rc = gw_registry_put(db, &cur, &err);
    }
    gw_db_release(db);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        return;
    }
    answer_member(app, r, &c, &au, id, "Organization", gw_registry_organization);
}
