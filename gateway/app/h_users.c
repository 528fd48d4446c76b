/*
 * gateway/app/h_users.c — portal users for the admin page: list, add,
 * disable, enable, unlock (gateway/auth stores; passwords hashed with the
 * current parameters and never returned).
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/auth/gw_auth_store.h"

#define ADMIN GW_APP_ROLE(GW_AUTH_ROLE_ADMIN)

static bool
admin(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c, const char *subtype)
{
    return gw_app_authenticate(app, r, c) &&
           gw_app_require(app, r, c, ADMIN, NULL, GW_AUTH_UPDATE, FHIR_EVENT_UPDATE, subtype);
}

static json_t *
user_json(const struct gw_auth_user *u)
{
    return json_pack("{s:s, s:o, s:s, s:o, s:o, s:b}", "username", u->username, "display_name",
                     u->display_name != NULL ? json_string(u->display_name) : json_null(), "role",
                     gw_auth_role_name(u->role), "organization",
                     u->organization != NULL ? json_string(u->organization) : json_null(),
                     "patient", u->patient != NULL ? json_string(u->patient) : json_null(),
                     "enabled", u->is_enabled);
}

void
gw_app_h_admin_users(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "admin-users", .status = 200};
    struct gw_auth_user *users = NULL;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    size_t n = 0;
    json_t *list;
    json_t *out;
    int rc;

    if (!admin(app, r, &c, "admin-users") || (db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_auth_user_list(gw_db_conn_pg(db), a, &users, &n, &err);
    gw_db_release(db);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "admin-users", NULL, &err);
        return;
    }
    list = json_array();
    for (size_t i = 0; list != NULL && i < n; i++)
        json_array_append_new(list, user_json(&users[i]));
    out = json_pack("{s:o}", "users", list);
    if (out == NULL || fhir_json_tie(a, out) != BASE_OK)
        return;
    gw_app_answer_json(app, r, &c, &au, out);
}

static int
user_from_body(struct base_arena *a, const json_t *body, struct gw_auth_user *u, char *name,
               size_t cap, struct base_err *err)
{
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *role = json_string_value(json_object_get(body, "role"));

    memset(u, 0, sizeof(*u));
    ENSURE(username != NULL, err, BASE_E_INVALID, "required", "username", "username is required");
    TRY(gw_auth_username_normalize(username, strlen(username), name, cap, err));
    ENSURE(role != NULL && gw_auth_role_parse(base_str_from_cstr(role), &u->role), err,
           BASE_E_INVALID, "value", "role", "role must be clinician, regulator, admin or patient");
    u->username = name;
    u->display_name = json_string_value(json_object_get(body, "display_name"));
    u->organization = json_string_value(json_object_get(body, "organization"));
    u->patient = json_string_value(json_object_get(body, "patient"));
    u->is_enabled = true;
    (void)a;
    return gw_auth_user_check(u, err);
}

void
gw_app_h_admin_user_add(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_CREATE, .subtype = "admin-user-add",
                              .status = 201};
    struct gw_auth_pw_params pw;
    struct gw_auth_user u;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    char name[BASE_LIMIT_AUTH_MAX_USERNAME + 2];
    char hash[GW_AUTH_PW_HASH_MAX];
    const char *password;
    json_t *body;
    json_t *v;
    int rc;

    if (!admin(app, r, &c, "admin-user-add") || (body = gw_app_body_json(r)) == NULL)
        return;
    password = json_string_value(json_object_get(body, "password"));
    rc = user_from_body(a, body, &u, name, sizeof(name), &err);
    if (rc == BASE_OK && password == NULL)
        rc = base_err_set(&err, BASE_E_INVALID, "required", "password", "password is required");
    if (rc == BASE_OK)
        rc = gw_auth_password_check_policy(password, strlen(password), name, &err);
    if (rc == BASE_E_INVALID && strcmp(err.where, "password") == 0)
        snprintf(err.issue_code, sizeof(err.issue_code), "%s", "business-rule");
    gw_auth_pw_params_default(&pw);
    if (rc == BASE_OK)
        rc = gw_auth_password_hash(password, strlen(password), &pw, hash, sizeof(hash), &err);
    /* The body's copy of the password goes with the arena; wipe ours. */
    if (password != NULL)
        OPENSSL_cleanse((void *)password, strlen(password));
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_CREATE, "admin-user-add", NULL, &err);
        return;
    }
    u.password_hash = hash;
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_auth_user_create(gw_db_conn_pg(db), &u, &err);
    gw_db_release(db);
    OPENSSL_cleanse(hash, sizeof(hash));
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_CREATE, "admin-user-add", NULL, &err);
        return;
    }
    au.reason = u.username;
    v = user_json(&u);
    if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
        return;
    gw_app_answer_json(app, r, &c, &au, v);
}

void
gw_app_h_admin_user_action(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_UPDATE, .status = 200};
    char *name = base_str_dup0(a, gw_http_req_param(r, "name"));
    char *action = base_str_dup0(a, gw_http_req_param(r, "action"));
    char norm[BASE_LIMIT_AUTH_MAX_USERNAME + 2];
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *v;
    int rc;

    if (name == NULL || action == NULL || !admin(app, r, &c, "admin-user"))
        return;
    au.subtype = base_arena_sprintf(a, "admin-user-%s", action);
    rc = gw_auth_username_normalize(name, strlen(name), norm, sizeof(norm), &err);
    if (rc == BASE_OK && strcmp(action, "disable") != 0 && strcmp(action, "enable") != 0 &&
        strcmp(action, "unlock") != 0)
        rc = base_err_set(&err, BASE_E_NOTFOUND, "not-found", "action",
                          "actions are disable, enable and unlock");
    if (rc == BASE_OK && (db = gw_app_db(app, r)) == NULL)
        return;
    if (rc == BASE_OK) {
        PGconn *pg = gw_db_conn_pg(db);

        rc = strcmp(action, "unlock") == 0
                 ? gw_auth_throttle_clear(pg, norm, &err)
                 : gw_auth_user_set_enabled(pg, norm, strcmp(action, "enable") == 0, &err);
        gw_db_release(db);
    }
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_UPDATE, au.subtype, NULL, &err);
        return;
    }
    au.reason = norm;
    v = json_pack("{s:s, s:s}", "username", norm, "done", action);
    if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
        return;
    gw_app_answer_json(app, r, &c, &au, v);
}
