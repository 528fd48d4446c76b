/*
 * gateway/app/h_consent.c — patients' consents (FHIR R4 Consent, scope
 * patient-privacy) stored in the gateway database (registry.consent) and
 * read by the policy on every clinical request.
 *
 * Who may write: the patient, for their own record, and administrators.
 * This is decided by role: the SMART role ceilings of gateway/auth give
 * neither role a write scope on clinical types, and a consent is the
 * patient's own statement, not clinical data.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"

#define CONSENT_ROLES (GW_APP_ROLE(GW_AUTH_ROLE_PATIENT) | GW_APP_ROLE(GW_AUTH_ROLE_ADMIN))
#define READ_ROLES    (CONSENT_ROLES | GW_APP_ROLE(GW_AUTH_ROLE_CLINICIAN))

int
gw_app_consents_load(struct gw_db_conn *c, struct base_arena *a, const char *person,
                     json_t ***out, size_t *n, struct base_err *err)
{
    PGresult *res = NULL;
    int rows;

    *out = NULL;
    *n = 0;
    TRY(gw_db_exec(c, "consent.active",
                   "SELECT resource::text FROM registry.consent WHERE person = $1 AND "
                   "status = 'active' ORDER BY updated_at DESC LIMIT 33",
                   1, &person, &res, err));
    rows = PQntuples(res);
    *out = BASE_NEW_N(a, json_t *, (size_t)rows + 1);
    for (int i = 0; *out != NULL && i < rows; i++) {
        const char *text = gw_db_val(res, i, 0);
        json_t *v = NULL;

        if (fhir_json_parse(text, strlen(text), NULL, &v, err) != BASE_OK ||
            fhir_json_tie(a, v) != BASE_OK) {
            PQclear(res);
            return err->rc < 0 ? err->rc : BASE_E_NOMEM;
        }
        (*out)[(*n)++] = v;
    }
    PQclear(res);
    /* More than the policy considers: refuse rather than drop some. */
    return *out == NULL ? base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory")
                        : BASE_OK;
}

/* "Patient/<id>" of Consent.patient, or NULL. */
static const char *
consent_person(const json_t *consent)
{
    const char *ref = json_string_value(json_object_get(json_object_get(consent, "patient"),
                                                        "reference"));

    return ref != NULL && strncmp(ref, "Patient/", 8) == 0 && gw_app_id_ok(ref + 8) ? ref + 8
                                                                                 : NULL;
}

static bool
may_touch(const struct gw_app_caller *c, const char *person)
{
    if (c->p->role == GW_AUTH_ROLE_ADMIN)
        return true;
    return c->p->role == GW_AUTH_ROLE_PATIENT && c->p->patient != NULL && person != NULL &&
           strcmp(c->p->patient, person) == 0;
}

/* Validate as R4 and as something the policy can apply: 422 with every
 * issue otherwise. */
static bool
check_consent(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
              json_t *consent, enum fhir_event_kind kind)
{
    struct fhir_validate_opts vo = {.expect_type = "Consent", .no_warnings = true};
    struct base_err err = {0};
    struct gw_policy_consent *pc = NULL;
    const json_t *one[1] = {consent};
    json_t *oo = fhir_outcome_new();

    if (oo == NULL || fhir_json_tie(gw_http_req_arena(r), oo) != BASE_OK)
        return false;
    if (fhir_validate(consent, &vo, oo, NULL, &err) != BASE_OK) {
        struct gw_app_audit au = {.kind = kind, .subtype = "consent", .status = 422,
                                  .reason = "invalid"};

        au.reason = "validation";
        if (gw_app_audit(app, r, c, &au, &err) != BASE_OK) {
            gw_app_fail_audit(app, r);
            return false;
        }
        if (gw_http_respond_resource(r, 422, oo) != BASE_OK)
            return false;
        return false;
    }
    if (gw_policy_consent_compile(gw_http_req_arena(r), one, 1, gw_app_now_us(), &pc, &err) !=
        BASE_OK) {
        err.rc = BASE_E_INVALID;
        snprintf(err.issue_code, sizeof(err.issue_code), "%s", "business-rule");
        gw_app_deny(app, r, c, kind, "consent", NULL, &err);
        return false;
    }
    return true;
}

static int
store(struct gw_db_conn *db, struct base_arena *a, json_t *consent, const char *id,
      const char *person, const char *author, bool is_new, struct base_err *err)
{
    PGresult *res = NULL;
    const char *status = json_string_value(json_object_get(consent, "status"));
    char *text;
    const char *v[5];

    TRY(gw_db_begin(db, NULL, err));
    if (is_new) {
        const char *iv[3] = {person, status != NULL ? status : "", author};

        if (gw_db_exec(db, "consent.insert",
                       "INSERT INTO registry.consent (person, status, resource, author) VALUES "
                       "($1, $2, '{}', $3) RETURNING id, version, to_char(updated_at AT TIME "
                       "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                       3, iv, &res, err) != BASE_OK)
            goto fail;
    } else {
        const char *uv[3] = {id, status != NULL ? status : "", author};

        if (gw_db_exec(db, "consent.bump",
                       "UPDATE registry.consent SET version = version + 1, status = $2, "
                       "author = $3, updated_at = now() WHERE id = $1::uuid RETURNING id, "
                       "version, to_char(updated_at AT TIME ZONE 'UTC', "
                       "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                       3, uv, &res, err) != BASE_OK)
            goto fail;
    }
    if (PQntuples(res) != 1 || gw_db_res_tie(a, res) != BASE_OK) {
        (void)base_err_set(err, BASE_E_NOTFOUND, "not-found", "Consent.id", "no such consent");
        goto fail;
    }
    json_object_set_new(consent, "id", json_string(gw_db_val(res, 0, 0)));
    json_object_set_new(consent, "meta",
                        json_pack("{s:s, s:s}", "versionId", gw_db_val(res, 0, 1), "lastUpdated",
                                  gw_db_val(res, 0, 2)));
    text = fhir_json_dump_arena(consent, FHIR_JSON_COMPACT, a, NULL);
    v[0] = gw_db_val(res, 0, 0);
    v[1] = text;
    if (text == NULL ||
        gw_db_exec(db, "consent.body",
                   "UPDATE registry.consent SET resource = $2::jsonb WHERE id = $1::uuid", 2, v,
                   NULL, err) != BASE_OK)
        goto fail;
    return gw_db_commit(db, err);
fail:
    gw_db_rollback(db);
    return err->rc < 0 ? err->rc : BASE_E_IO;
}

static void
write_consent(struct gw_http_req *r, struct gw_app *app, const char *id)
{
    struct base_arena *a = gw_http_req_arena(r);
    enum fhir_event_kind kind = id == NULL ? FHIR_EVENT_CREATE : FHIR_EVENT_UPDATE;
    struct gw_app_audit au = {.kind = kind, .subtype = "consent", .status = id == NULL ? 201 : 200};
    struct fhir_event_entity ent = {.type = "Consent"};
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    const char *person;
    json_t *consent;

    if (!gw_app_authenticate(app, r, &c) ||
        !gw_app_require(app, r, &c, CONSENT_ROLES, NULL, GW_AUTH_CREATE, kind, "consent"))
        return;
    if ((consent = gw_app_body_json(r)) == NULL)
        return;
    person = consent_person(consent);
    if (!may_touch(&c, person)) {
        (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "Consent.patient",
                           "a consent may be written only for your own record");
        gw_app_deny(app, r, &c, kind, "consent", NULL, &err);
        return;
    }
    if (id != NULL)
        json_object_set_new(consent, "id", json_string(id));
    if (!check_consent(app, r, &c, consent, kind) || (db = gw_app_db(app, r)) == NULL)
        return;
    if (store(db, a, consent, id, person, c.p->subject, id == NULL, &err) != BASE_OK) {
        gw_db_release(db);
        gw_app_deny(app, r, &c, kind, "consent", NULL, &err);
        return;
    }
    gw_db_release(db);
    ent.id = json_string_value(json_object_get(consent, "id"));
    ent.version = json_string_value(json_object_get(json_object_get(consent, "meta"),
                                                    "versionId"));
    au.entities = &ent;
    au.n_entities = 1;
    au.patient_ref = base_arena_sprintf(a, "Patient/%s", person);
    if (id == NULL &&
        gw_http_set_header(r, "Location",
                           base_arena_sprintf(a, "%s/Consent/%s/_history/%s",
                                              app->cfg->fhir_base, ent.id, ent.version)) !=
            BASE_OK)
        return;
    gw_app_answer(app, r, &c, &au, consent);
}

void
gw_app_h_consent_create(struct gw_http_req *r, void *cls)
{
    write_consent(r, cls, NULL);
}

void
gw_app_h_consent_update(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    char *id = base_str_dup0(gw_http_req_arena(r), gw_http_req_param(r, "id"));
    struct base_err err = {0};
    struct gw_db_conn *db;
    PGresult *res = NULL;
    bool known;

    if (id == NULL)
        return;
    if (strlen(id) != 36 || strspn(id, "0123456789abcdef-") != 36) {
        if (gw_http_respond_outcome(r, 404, "not-found", NULL, "no such consent") != BASE_OK)
            return;
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    known = gw_db_exec(db, "consent.exists",
                       "SELECT 1 FROM registry.consent WHERE id = $1::uuid", 1,
                       (const char *const *)&id, &res, &err) == BASE_OK &&
            PQntuples(res) == 1;
    PQclear(res);
    gw_db_release(db);
    if (!known) {
        if (gw_http_respond_outcome(r, 404, "not-found", NULL, "no such consent") != BASE_OK)
            return;
        return;
    }
    write_consent(r, app, id);
}

/* The consents of one person, or one consent by id. */
static void
read_consents(struct gw_http_req *r, struct gw_app *app, const char *person, const char *id)
{
    struct base_arena *a = gw_http_req_arena(r);
    enum fhir_event_kind kind = id != NULL ? FHIR_EVENT_READ : FHIR_EVENT_SEARCH;
    struct gw_app_audit au = {.kind = kind, .subtype = "consent", .status = 200};
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    PGresult *res = NULL;
    json_t *bundle;
    int rc;

    if (!gw_app_authenticate(app, r, &c) ||
        !gw_app_require(app, r, &c, READ_ROLES, "Consent",
                        id != NULL ? GW_AUTH_READ : GW_AUTH_SEARCH, kind, "consent"))
        return;
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = id != NULL ? gw_db_exec(db, "consent.get",
                                 "SELECT resource::text, person FROM registry.consent WHERE "
                                 "id = $1::uuid",
                                 1, &id, &res, &err)
                    : gw_db_exec(db, "consent.list",
                                 "SELECT resource::text, person FROM registry.consent WHERE "
                                 "person = $1 ORDER BY updated_at DESC LIMIT 100",
                                 1, &person, &res, &err);
    gw_db_release(db);
    if (rc != BASE_OK || gw_db_res_tie(a, res) != BASE_OK) {
        gw_app_deny(app, r, &c, kind, "consent", NULL, &err);
        return;
    }
    if (id != NULL && PQntuples(res) == 1)
        person = gw_db_val(res, 0, 1);
    /* Clinicians may see consents (they explain withheld data); patients
     * only their own. */
    if (c.p->role == GW_AUTH_ROLE_PATIENT && !may_touch(&c, person)) {
        (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "patient",
                           "%s", gw_policy_reason_message(GW_POLICY_R_NOT_OWN));
        gw_app_deny(app, r, &c, kind, "consent", NULL, &err);
        return;
    }
    if (id != NULL && PQntuples(res) != 1) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "Consent.id", "no such consent");
        gw_app_deny(app, r, &c, kind, "consent", NULL, &err);
        return;
    }
    au.patient_ref = person != NULL ? base_arena_sprintf(a, "Patient/%s", person) : NULL;
    bundle = id != NULL ? NULL : fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, NULL, NULL);
    for (int i = 0; i < PQntuples(res); i++) {
        const char *text = gw_db_val(res, i, 0);
        json_t *v = NULL;

        if (fhir_json_parse(text, strlen(text), NULL, &v, &err) != BASE_OK)
            continue;
        if (id != NULL) {
            if (fhir_json_tie(a, v) != BASE_OK)
                return;
            gw_app_answer(app, r, &c, &au, v);
            return;
        }
        if (fhir_bundle_add_entry(bundle, fhir_bundle_full_url(a, app->cfg->fhir_base, "Consent",
                                                               json_string_value(json_object_get(
                                                                   v, "id"))),
                                  v, FHIR_BUNDLE_MODE_MATCH, NULL) != BASE_OK)
            break;
    }
    if (bundle == NULL || fhir_json_tie(a, bundle) != BASE_OK ||
        fhir_bundle_set_total(bundle, json_array_size(json_object_get(bundle, "entry"))) !=
            BASE_OK)
        return;
    gw_app_answer(app, r, &c, &au, bundle);
}

void
gw_app_h_consent_search(struct gw_http_req *r, void *cls)
{
    const char *p = gw_app_query(r, "patient");

    if (p != NULL && strncmp(p, "Patient/", 8) == 0)
        p += 8;
    if (!gw_app_id_ok(p)) {
        if (gw_http_respond_outcome(r, 400, "required", "patient",
                                    "patient must be a regional Patient id") != BASE_OK)
            return;
        return;
    }
    read_consents(r, cls, p, NULL);
}

void
gw_app_h_consent_read(struct gw_http_req *r, void *cls)
{
    char *id = base_str_dup0(gw_http_req_arena(r), gw_http_req_param(r, "id"));

    if (id == NULL)
        return;
    if (strlen(id) != 36 || strspn(id, "0123456789abcdef-") != 36) {
        if (gw_http_respond_outcome(r, 404, "not-found", NULL, "no such consent") != BASE_OK)
            return;
        return;
    }
    read_consents(r, cls, NULL, id);
}
