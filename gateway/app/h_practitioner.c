/*
 * gateway/app/h_practitioner.c — GET /fhir/Practitioner/{id}: the
 * Practitioner a clinician, regulator or administrator is, which their
 * id_token's fhirUser names (SMART App Launch 2.x §fhirUser; an app reads
 * it with fhirclient's client.user.read()).  Built from the user store
 * (gw_auth_practitioner), so it is never stale and holds no more than the
 * account does.
 */
#include "gateway/app/app_int.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/gw_auth_store.h"

#define PERSON_ROLES                                                                               \
    (GW_APP_ROLE(GW_AUTH_ROLE_CLINICIAN) | GW_APP_ROLE(GW_AUTH_ROLE_REGULATOR) |                   \
     GW_APP_ROLE(GW_AUTH_ROLE_ADMIN))

/*
 * Who may read Practitioner/{id}: the user it is, with the fhirUser scope
 * (SMART: "permission to retrieve information about the current logged-in
 * user") or a scope reading Practitioner; and an administrator, who
 * manages the accounts anyway (/admin/users).  Anyone else is refused
 * before the store is asked, so the answer (403) is the same whether the
 * id names somebody or not.
 */
static bool
may_read(struct base_arena *a, const struct gw_auth_principal *p, const char *id,
         struct base_err *err)
{
    static const char prefix[] = "Practitioner/";
    const char *own = gw_auth_fhir_user(a, p);
    bool self = own != NULL && strncmp(own, prefix, sizeof(prefix) - 1) == 0 &&
                strcmp(own + sizeof(prefix) - 1, id) == 0;

    if (self && ((p->scopes.flags & GW_AUTH_SCOPE_FHIRUSER) != 0 ||
                 gw_auth_scope_allows(&p->scopes, "Practitioner", GW_AUTH_READ)))
        return true;
    if (!self && p->role == GW_AUTH_ROLE_ADMIN)
        return true;
    if (self)
        (void)base_err_set(err, BASE_E_AUTH, "forbidden", "scope",
                           "the token's scopes do not allow reading the user's Practitioner "
                           "(fhirUser or user/Practitioner.rs)");
    else
        (void)base_err_set(err, BASE_E_AUTH, "forbidden", "Practitioner.id",
                           "a user may read only their own Practitioner");
    return false;
}

void
gw_app_h_practitioner_read(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_READ, .subtype = "read", .status = 200};
    struct fhir_event_entity ent = {.type = "Practitioner"};
    char *id = base_str_dup0(a, gw_http_req_param(r, "id"));
    char username[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    struct gw_auth_user *u = NULL;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *out;
    int rc;

    if (id == NULL || !gw_app_authenticate(app, r, &c) ||
        !gw_app_require(app, r, &c, PERSON_ROLES, NULL, GW_AUTH_READ, FHIR_EVENT_READ, "read") ||
        !gw_app_purpose(app, r, &c, FHIR_EVENT_READ, "read"))
        return;
    if (!gw_app_id_ok(id) ||
        gw_auth_practitioner_username(id, username, sizeof(username), &err) != BASE_OK) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "Practitioner.id",
                           "no such practitioner");
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", NULL, &err);
        return;
    }
    if (!may_read(a, c.p, id, &err)) {
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_auth_user_get(gw_db_conn_pg(db), a, username, &u, &err);
    gw_db_release(db);
    /* a patient's account is their Patient: no Practitioner by that id */
    if (rc == BASE_OK && !gw_auth_role_has_practitioner(u->role))
        rc = BASE_E_NOTFOUND;
    if (rc == BASE_E_NOTFOUND) {
        memset(&err, 0, sizeof(err));
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "Practitioner.id",
                           "no such practitioner");
    }
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", NULL, &err);
        return;
    }
    out = gw_auth_practitioner(u);
    if (out == NULL || fhir_json_tie(a, out) != BASE_OK) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", NULL, &err);
        return;
    }
    ent.id = id;
    au.entities = &ent;
    au.n_entities = 1;
    gw_app_answer(app, r, &c, &au, out);
}
