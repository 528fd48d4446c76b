/*
 * gateway/app/h_mpi.c — patient index stewardship for administrators: the
 * review queue (possible matches the matcher would not decide alone),
 * merge, unmerge, split and a person's link history (gateway/mpi;
 * docs/design/mpi.md).  Every call is an audited admin action naming the
 * persons it touched; the index keeps who did what in its own history.
 *
 *   GET  /admin/mpi/reviews[?status=open|all][&_count=N][&_offset=N]
 *   POST /admin/mpi/reviews/{id}     {"decision": "same"|"not-same", "note"}
 *   POST /admin/mpi/merge            {"survivor", "merged", "reason"}
 *   POST /admin/mpi/merges/{id}/undo {"reason"}
 *   POST /admin/mpi/split            {"member", "system", "value", "reason"}
 *   GET  /admin/mpi/persons/{id}/history
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/gw_mpi.h"

#define ADMIN        GW_APP_ROLE(GW_AUTH_ROLE_ADMIN)
#define MPI_NOTE_MAX 500 /* reasons and notes, bytes */

static bool
admin(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
      enum gw_auth_interaction ia, enum fhir_event_kind kind, const char *subtype)
{
    return gw_app_authenticate(app, r, c) &&
           gw_app_require(app, r, c, ADMIN, NULL, ia, kind, subtype);
}

/* The caller as the index records its actor ("admin:<user>"). */
static const char *
actor(struct base_arena *a, const struct gw_app_caller *c)
{
    return base_arena_sprintf(a, "admin:%s", c->p->subject != NULL ? c->p->subject : "?");
}

/* A body string member, required or not, at most MPI_NOTE_MAX bytes. */
static bool
body_text(const json_t *body, const char *name, bool required, const char **out,
          struct base_err *err)
{
    const json_t *v = json_object_get(body, name);

    *out = json_string_value(v);
    if (v != NULL && *out == NULL) {
        (void)base_err_set(err, BASE_E_INVALID, "value", name, "%s must be a string", name);
        return false;
    }
    if (*out == NULL && required) {
        (void)base_err_set(err, BASE_E_INVALID, "required", name, "%s is required", name);
        return false;
    }
    if (*out != NULL && (strlen(*out) > MPI_NOTE_MAX || (required && (*out)[0] == '\0'))) {
        (void)base_err_set(err, BASE_E_INVALID, "value", name, "%s must be 1 to %d bytes", name,
                           MPI_NOTE_MAX);
        return false;
    }
    return true;
}

/* A positive decimal id from the path. */
static bool
path_id(struct gw_http_req *r, const char *name, int64_t *out)
{
    return base_str_to_i64(gw_http_req_param(r, name), out) && *out > 0;
}

static bool
query_count(struct gw_http_req *r, const char *name, uint64_t max, uint64_t *out)
{
    const char *v = gw_app_query(r, name);

    if (v == NULL)
        return true;
    return base_str_to_u64(base_str_from_cstr(v), out) && *out <= max;
}

/* The end of every handler: the refusal (audited) when rc says so, else
 * the answer `out` (audited, then sent). */
static void
finish(struct gw_app *app, struct gw_http_req *r, const struct gw_app_caller *c,
       const struct gw_app_audit *au, int rc, const struct base_err *err, json_t *out)
{
    if (rc != BASE_OK) {
        json_decref(out);
        gw_app_deny(app, r, c, au->kind, au->subtype, NULL, err);
        return;
    }
    if (out == NULL || fhir_json_tie(gw_http_req_arena(r), out) != BASE_OK)
        return;
    gw_app_answer_json(app, r, c, au, out);
}

void
gw_app_h_mpi_reviews(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {
        .kind = FHIR_EVENT_SEARCH, .subtype = "admin-mpi-reviews", .status = 200};
    const char *status = gw_app_query(r, "status");
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    uint64_t count = 50;
    uint64_t offset = 0;
    json_t *list = NULL;
    int rc;

    if (!admin(app, r, &c, GW_AUTH_SEARCH, FHIR_EVENT_SEARCH, au.subtype))
        return;
    if ((status != NULL && strcmp(status, "open") != 0 && strcmp(status, "all") != 0) ||
        !query_count(r, "_count", 500, &count) || count == 0 ||
        !query_count(r, "_offset", 1000000, &offset)) {
        (void)base_err_set(&err, BASE_E_INVALID, "value", "query",
                           "status is open or all, _count 1 to 500, _offset a number");
        gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_mpi_review_list(gw_db_conn_pg(db), a, status == NULL || strcmp(status, "open") == 0,
                            (size_t)count, (size_t)offset, &list, &err);
    gw_db_release(db);
    finish(app, r, &c, &au, rc, &err, rc == BASE_OK ? json_pack("{s:o}", "reviews", list) : NULL);
}

void
gw_app_h_mpi_review_decide(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {
        .kind = FHIR_EVENT_UPDATE, .subtype = "admin-mpi-review", .status = 200};
    enum gw_mpi_decision d = GW_MPI_NOT_SAME;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    const char *decision = NULL;
    const char *note = NULL;
    int64_t id = 0;
    json_t *body;
    int rc;

    if (!admin(app, r, &c, GW_AUTH_UPDATE, au.kind, au.subtype) ||
        (body = gw_app_body_json(r)) == NULL)
        return;
    rc = BASE_OK;
    if (!path_id(r, "id", &id))
        rc = base_err_set(&err, BASE_E_NOTFOUND, "not-found", "id", "no such review item");
    else if (!body_text(body, "decision", true, &decision, &err) ||
             !body_text(body, "note", false, &note, &err))
        rc = BASE_E_INVALID;
    else if (strcmp(decision, "same") == 0)
        d = GW_MPI_SAME_PERSON;
    else if (strcmp(decision, "not-same") != 0)
        rc = base_err_set(&err, BASE_E_INVALID, "value", "decision",
                          "decision must be same or not-same");
    if (rc == BASE_OK) {
        if ((db = gw_app_db(app, r)) == NULL)
            return;
        rc = gw_mpi_review_decide(gw_db_conn_pg(db), id, d, actor(a, &c), note, &err);
        gw_db_release(db);
    }
    au.reason = decision;
    finish(app, r, &c, &au, rc, &err,
           rc == BASE_OK ? json_pack("{s:I, s:s}", "id", (json_int_t)id, "decision", decision)
                         : NULL);
}

void
gw_app_h_mpi_merge(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {
        .kind = FHIR_EVENT_UPDATE, .subtype = "admin-mpi-merge", .status = 200};
    struct fhir_event_entity ents[2] = {{.type = "Patient"}, {.type = "Patient"}};
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    const char *survivor = NULL;
    const char *merged = NULL;
    const char *reason = NULL;
    int64_t merge_id = 0;
    json_t *body;
    int rc = BASE_E_INVALID;

    if (!admin(app, r, &c, GW_AUTH_UPDATE, au.kind, au.subtype) ||
        (body = gw_app_body_json(r)) == NULL)
        return;
    if (body_text(body, "survivor", true, &survivor, &err) &&
        body_text(body, "merged", true, &merged, &err) &&
        body_text(body, "reason", true, &reason, &err)) {
        if ((db = gw_app_db(app, r)) == NULL)
            return;
        rc = gw_mpi_merge(gw_db_conn_pg(db), survivor, merged, actor(a, &c), reason, &merge_id,
                          &err);
        gw_db_release(db);
    }
    ents[0].id = survivor;
    ents[1].id = merged;
    au.entities = ents;
    au.n_entities = 2;
    au.patient_ref = base_arena_sprintf(a, "Patient/%s", survivor);
    au.reason = reason;
    finish(app, r, &c, &au, rc, &err,
           rc == BASE_OK ? json_pack("{s:I, s:s, s:s}", "merge_id", (json_int_t)merge_id,
                                     "survivor", survivor, "merged", merged)
                         : NULL);
}

void
gw_app_h_mpi_unmerge(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {
        .kind = FHIR_EVENT_UPDATE, .subtype = "admin-mpi-unmerge", .status = 200};
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    const char *reason = NULL;
    int64_t id = 0;
    json_t *body;
    int rc = BASE_E_INVALID;

    if (!admin(app, r, &c, GW_AUTH_UPDATE, au.kind, au.subtype) ||
        (body = gw_app_body_json(r)) == NULL)
        return;
    if (!path_id(r, "id", &id))
        rc = base_err_set(&err, BASE_E_NOTFOUND, "not-found", "id", "no such merge");
    else if (body_text(body, "reason", true, &reason, &err)) {
        if ((db = gw_app_db(app, r)) == NULL)
            return;
        rc = gw_mpi_unmerge(gw_db_conn_pg(db), id, actor(a, &c), reason, &err);
        gw_db_release(db);
    }
    au.reason = reason;
    finish(app, r, &c, &au, rc, &err,
           rc == BASE_OK ? json_pack("{s:I, s:b}", "merge_id", (json_int_t)id, "undone", 1) : NULL);
}

void
gw_app_h_mpi_split(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {
        .kind = FHIR_EVENT_UPDATE, .subtype = "admin-mpi-split", .status = 200};
    struct fhir_event_entity ent = {.type = "Patient"};
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    const char *member = NULL;
    const char *system = NULL;
    const char *value = NULL;
    const char *reason = NULL;
    char person[48];
    json_t *body;
    int rc = BASE_E_INVALID;

    if (!admin(app, r, &c, GW_AUTH_UPDATE, au.kind, au.subtype) ||
        (body = gw_app_body_json(r)) == NULL)
        return;
    if (body_text(body, "member", true, &member, &err) &&
        body_text(body, "system", true, &system, &err) &&
        body_text(body, "value", true, &value, &err) &&
        body_text(body, "reason", true, &reason, &err)) {
        if ((db = gw_app_db(app, r)) == NULL)
            return;
        rc = gw_mpi_split(gw_db_conn_pg(db), member, system, value, actor(a, &c), reason, person,
                          sizeof(person), &err);
        gw_db_release(db);
    }
    if (rc == BASE_OK) {
        ent.id = base_arena_strdup(a, person);
        au.entities = &ent;
        au.n_entities = ent.id != NULL ? 1 : 0;
        au.patient_ref = base_arena_sprintf(a, "Patient/%s", person);
    }
    au.reason = reason;
    finish(app, r, &c, &au, rc, &err, rc == BASE_OK ? json_pack("{s:s}", "person", person) : NULL);
}

void
gw_app_h_mpi_history(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {
        .kind = FHIR_EVENT_READ, .subtype = "admin-mpi-history", .status = 200};
    char *id = base_str_dup0(a, gw_http_req_param(r, "id"));
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *list = NULL;
    int rc;

    if (id == NULL || !admin(app, r, &c, GW_AUTH_READ, au.kind, au.subtype))
        return;
    if (!gw_app_id_ok(id)) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "id", "no such person");
        gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_mpi_history(gw_db_conn_pg(db), a, id, &list, &err);
    gw_db_release(db);
    au.patient_ref = base_arena_sprintf(a, "Patient/%s", id);
    finish(app, r, &c, &au, rc, &err,
           rc == BASE_OK ? json_pack("{s:s, s:o}", "person", id, "history", list) : NULL);
}
