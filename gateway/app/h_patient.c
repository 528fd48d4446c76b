/*
 * gateway/app/h_patient.c — the regional patient index over HTTP: PDQm
 * (IHE ITI-78) search, PIXm (ITI-83) $ihe-pix, $match (ITI-119), and Patient read.
 */
#include "gateway/app/app_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/search/fhir_search.h"
#include "fhir/summary/fhir_summary.h"

#define PIX_MAX_TARGETS 16 /* targetSystem parameters of one ITI-83 query */

#define PATIENT_ROLES                                                                              \
    (GW_APP_ROLE(GW_AUTH_ROLE_CLINICIAN) | GW_APP_ROLE(GW_AUTH_ROLE_MEMBER_SYSTEM) |              \
     GW_APP_ROLE(GW_AUTH_ROLE_PATIENT))

/* Role, scope, active membership — before anything is looked up. */
static bool
admit(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
      enum gw_auth_interaction ia, enum fhir_event_kind kind, const char *subtype)
{
    struct base_err err = {0};

    if (!gw_app_authenticate(app, r, c) ||
        !gw_app_require(app, r, c, PATIENT_ROLES, "Patient", ia, kind, subtype) ||
        !gw_app_purpose(app, r, c, kind, subtype))
        return false;
    if ((c->p->role == GW_AUTH_ROLE_CLINICIAN || c->p->role == GW_AUTH_ROLE_MEMBER_SYSTEM) &&
        !gw_registry_is_active(app->registry, c->p->organization)) {
        (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "organization",
                           "%s", gw_policy_reason_message(GW_POLICY_R_NOT_MEMBER));
        gw_app_deny(app, r, c, kind, subtype, NULL, &err);
        return false;
    }
    return true;
}

/* SYSTEM|VALUE (FHIR token search syntax; '\|' escapes are not needed for
 * the systems we know). */
static bool
split_token(struct base_arena *a, const char *s, const char **system, const char **value)
{
    const char *bar = s != NULL ? strchr(s, '|') : NULL;

    if (bar == NULL || bar == s || bar[1] == '\0')
        return false;
    *system = base_arena_strndup(a, s, (size_t)(bar - s));
    *value = bar + 1;
    return *system != NULL;
}

/* The parameters that shape the answer rather than select persons. */
static int
control_param(struct base_arena *a, const struct gw_http_param *p, struct gw_mpi_pdq_query *q,
              bool *handled, struct base_err *err)
{
    uint64_t n;

    *handled = true;
    if (base_str_eq_cstr(p->name, "_count")) {
        /* more than the page allows is that page (R4 search.html#count: a
         * server "cannot return more" than asked, may return fewer) */
        ENSURE(base_str_to_u64(p->value, &n), err, BASE_E_INVALID, "value", "_count",
               "_count must be a number");
        q->count = n > GW_MPI_LIMIT_PDQ_COUNT ? GW_MPI_LIMIT_PDQ_COUNT : (size_t)n;
        /* _count=0 is _summary=count: the total alone (R4 search.html#count) */
        q->count_only = q->count_only || n == 0;
    } else if (base_str_eq_cstr(p->name, "_cursor")) {
        /* the next page starts after this person (the next link's token) */
        q->after = base_str_dup0(a, p->value);
        ENSURE(q->after != NULL && gw_app_id_ok(q->after), err, BASE_E_INVALID, "value", "_cursor",
               "_cursor must be the token of a next link");
    } else if (base_str_eq_cstr(p->name, "_summary")) {
        /* true, text and data subset the page (subset_entries) */
        ENSURE(base_str_eq_cstr(p->value, "count") || base_str_eq_cstr(p->value, "false") ||
                   base_str_eq_cstr(p->value, "true") || base_str_eq_cstr(p->value, "text") ||
                   base_str_eq_cstr(p->value, "data"),
               err, BASE_E_INVALID, "value", "_summary",
               "_summary must be true, text, data, count or false");
        q->count_only = q->count_only || base_str_eq_cstr(p->value, "count");
    } else if (base_str_eq_cstr(p->name, "_total")) {
        /* R4 search.html#total: the total is always counted, accurately */
        ENSURE(base_str_eq_cstr(p->value, "none") || base_str_eq_cstr(p->value, "estimate") ||
                   base_str_eq_cstr(p->value, "accurate"),
               err, BASE_E_INVALID, "value", "_total", "_total must be none, estimate or accurate");
    } else {
        /* _format and _pretty: the response layer's (ITI-78 2:3.78.4.1.2.4) */
        *handled = base_str_eq_cstr(p->name, "_format") || base_str_eq_cstr(p->name, "_pretty");
    }
    return BASE_OK;
}

/*
 * The ITI-78 query.  Under Prefer: handling=lenient (R4 search.html#errors)
 * a parameter or modifier the index does not search is ignored and marked
 * in `ignored` (left out of the self link, named in an outcome entry); a
 * bad value of one it does search is a 400 either way.
 */
static int
pdq_query(struct gw_http_req *r, struct gw_mpi_pdq_query *q, bool *ignored, size_t *n_ignored,
          struct base_err *err)
{
    struct base_arena *a = gw_http_req_arena(r);
    bool lenient = fhir_search_handling_from_prefer(gw_http_req_header(r, "Prefer"),
                                                    FHIR_SEARCH_STRICT) == FHIR_SEARCH_LENIENT;

    memset(q, 0, sizeof(*q));
    q->count = 20;
    *n_ignored = 0;
    for (size_t i = 0; i < gw_http_req_query_count(r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(r, i);
        bool handled = false;
        char *name;
        char *value;
        int rc;

        ignored[i] = false;
        TRY(control_param(a, p, q, &handled, err));
        if (handled)
            continue;
        name = base_str_dup0(a, p->name);
        value = base_str_dup0(a, p->value);
        ENSURE(name != NULL && value != NULL, err, BASE_E_NOMEM, "exception", NULL,
               "out of memory");
        rc = gw_mpi_pdq_param(a, q, name, value, err);
        if (rc != BASE_OK && strcmp(err->issue_code, "not-supported") == 0) {
            base_err_clear(err);
            /* strict: a 400 (R4 search.html#errors), not the 406 of a
             * format the server cannot produce */
            ENSURE(lenient, err, BASE_E_INVALID, "invalid", "query",
                   "unknown search parameter or modifier for Patient");
            ignored[i] = true;
            (*n_ignored)++;
            continue;
        }
        TRY(rc);
    }
    return BASE_OK;
}

/* Entities (the Patients returned) for the AuditEvent; a patient caller
 * sees only their own person (and no outcome: how many persons matched is
 * not theirs to know).  Otherwise outcome entries stay, uncounted. */
static size_t
collect_patients(struct base_arena *a, json_t *bundle, const char *only,
                 struct fhir_event_entity **out)
{
    json_t *entries = json_object_get(bundle, "entry");
    size_t n = json_array_size(entries);
    struct fhir_event_entity *ents = BASE_NEW_N(a, struct fhir_event_entity, n + 1);
    size_t k = 0;

    for (size_t i = 0; ents != NULL && i < json_array_size(entries);) {
        json_t *e = json_array_get(entries, i);
        json_t *res = json_object_get(e, "resource");
        const char *id = json_string_value(json_object_get(res, "id"));
        const char *mode = json_string_value(json_object_get(json_object_get(e, "search"), "mode"));

        if (mode != NULL && strcmp(mode, "outcome") == 0 && only == NULL) {
            i++;
            continue;
        }
        if (id == NULL || (only != NULL && strcmp(id, only) != 0)) {
            json_array_remove(entries, i);
            continue;
        }
        ents[k].type = "Patient";
        ents[k++].id = base_arena_strdup(a, id);
        i++;
    }
    if (only != NULL)
        json_object_set_new(bundle, "total", json_integer((json_int_t)k));
    /* JSON FHIR has no empty arrays (json.html): no match has no entry */
    if (json_array_size(entries) == 0)
        json_object_del(bundle, "entry");
    *out = ents;
    return ents != NULL ? k : 0;
}

/* The self link (the parameters searched on), and the next one (after the
 * page's last person) when more follow (R4 search.html#paging). */
static int
pdq_links(const struct gw_app *app, struct gw_http_req *r, json_t *bundle, bool more,
          const bool *ignored)
{
    json_t *entries = json_object_get(bundle, "entry");
    const char *last_id = NULL;

    for (size_t i = json_array_size(entries); last_id == NULL && i > 0; i--)
        last_id = json_string_value(
            json_object_get(json_object_get(json_array_get(entries, i - 1), "resource"), "id"));
    TRY(fhir_bundle_add_link(bundle, "self",
                             gw_app_search_link_used(app, r, "Patient", NULL, ignored)));
    if (more && last_id != NULL)
        TRY(fhir_bundle_add_link(bundle, "next",
                                 gw_app_search_link_used(app, r, "Patient", last_id, ignored)));
    return BASE_OK;
}

/* Under lenient handling, which parameters were not searched on: an
 * outcome entry naming them (never their values). */
static int
ignored_outcome(struct gw_http_req *r, json_t *bundle, const bool *ignored, size_t n_ignored)
{
    struct base_buf names;
    json_t *oo;
    int rc = BASE_OK;

    if (n_ignored == 0)
        return BASE_OK;
    base_buf_init(&names, 512);
    for (size_t i = 0; rc == BASE_OK && i < gw_http_req_query_count(r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(r, i);

        if (ignored[i])
            rc = base_buf_appendf(&names, "%s\"%.*s\"", names.len > 0 ? ", " : "", (int)p->name.len,
                                  p->name.ptr);
    }
    if (rc == BASE_E_LIMIT)
        rc = BASE_OK; /* the names that fit */
    oo = fhir_outcome_new();
    if (rc == BASE_OK && oo != NULL) {
        char *msg = base_arena_sprintf(gw_http_req_arena(r), "not searched on (unsupported): %.*s",
                                       (int)names.len, names.data != NULL ? names.data : "");

        rc = msg != NULL ? fhir_outcome_add(oo, "warning", "not-supported", NULL, msg)
                         : BASE_E_NOMEM;
    }
    if (rc == BASE_OK && oo != NULL && json_object_get(bundle, "entry") == NULL)
        json_object_set_new(bundle, "entry", json_array());
    if (rc == BASE_OK && oo != NULL &&
        json_array_append_new(
            json_object_get(bundle, "entry"),
            json_pack("{s:O, s:{s:s}}", "resource", oo, "search", "mode", "outcome")) != 0)
        rc = BASE_E_NOMEM;
    json_decref(oo);
    base_buf_fini(&names);
    return oo == NULL ? BASE_E_NOMEM : rc;
}

/* _summary=true|text|data (R4 search.html#summary): each Patient of the
 * page subset (fhir/summary; data: all but the narrative), tagged. */
static int
subset_entries(struct gw_http_req *r, json_t *bundle)
{
    struct base_str v;
    size_t i;
    json_t *e;

    if (!gw_http_req_query(r, "_summary", &v) || base_str_eq_cstr(v, "false") ||
        base_str_eq_cstr(v, "count"))
        return BASE_OK;
    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        json_t *res = json_object_get(e, "resource");
        json_t *sub = NULL;
        int rc;

        if (base_str_eq_cstr(v, "data")) {
            json_object_del(res, "text");
            rc = fhir_summary_tag_subsetted(res);
        } else {
            rc = fhir_summary_subset(
                res, base_str_eq_cstr(v, "true") ? FHIR_SUMMARY_TRUE : FHIR_SUMMARY_TEXT, &sub);
            if (rc == BASE_OK && json_object_set_new(e, "resource", sub) != 0)
                rc = BASE_E_NOMEM;
        }
        if (rc != BASE_OK)
            return rc;
    }
    return BASE_OK;
}

void
gw_app_h_patient_search(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_caller c;
    struct gw_mpi_pdq_query q;
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "search-type", .status = 200};
    struct fhir_event_entity *ents = NULL;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *bundle = NULL;
    bool summary_count;
    bool more = false;
    bool *ignored;
    size_t n_ignored = 0;
    int rc;

    if (!admit(app, r, &c, GW_AUTH_SEARCH, FHIR_EVENT_SEARCH, "search-type"))
        return;
    ignored = BASE_NEW_N(a, bool, gw_http_req_query_count(r) + 1);
    if (ignored == NULL) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "search-type", NULL, &err);
        return;
    }
    if (pdq_query(r, &q, ignored, &n_ignored, &err) != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "search-type", NULL, &err);
        return;
    }
    /* a patient counts only themselves: their count is found as their
     * search is, then the entry left out */
    summary_count = q.count_only;
    if (c.p->role == GW_AUTH_ROLE_PATIENT)
        q.count_only = false;
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_mpi_pdq_search(gw_db_conn_pg(db), a, &app->mpi, &q, app->cfg->fhir_base, &bundle, &more,
                           &err);
    gw_db_release(db);
    /* a patient's page keeps only themselves: no next page (its token
     * would name another person) */
    more = more && !summary_count && c.p->role != GW_AUTH_ROLE_PATIENT;
    if (rc == BASE_OK && (fhir_json_tie(a, bundle) != BASE_OK ||
                          pdq_links(app, r, bundle, more, ignored) != BASE_OK))
        rc = base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "search-type", NULL, &err);
        return;
    }
    au.n_entities = collect_patients(
        a, bundle, c.p->role == GW_AUTH_ROLE_PATIENT ? c.p->patient : NULL, &ents);
    if (ignored_outcome(r, bundle, ignored, n_ignored) != BASE_OK) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "search-type", NULL, &err);
        return;
    }
    au.entities = ents;
    if (au.n_entities == 1)
        au.patient_ref = base_arena_sprintf(a, "Patient/%s", ents[0].id);
    if (summary_count)
        json_object_del(bundle, "entry");
    else if (subset_entries(r, bundle) != BASE_OK) {
        (void)base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "search-type", NULL, &err);
        return;
    }
    gw_app_answer(app, r, &c, &au, bundle);
}

/*
 * IHE ITI-83's answers for domains the index does not know: the source
 * identifier's → 400 "sourceIdentifier Assigning Authority not found",
 * a target's → 403 "targetSystem not found" (both issue code code-invalid).
 */
static int
pix_domains(PGconn *db, struct base_arena *a, const struct gw_app *app, const char *system,
            const char *const *targets, size_t nt, struct base_err *err)
{
    bool known = false;

    TRY(gw_mpi_domain_known(db, a, &app->mpi, system, &known, err));
    if (!known)
        return base_err_set(err, BASE_E_INVALID, "code-invalid", "sourceIdentifier",
                            "sourceIdentifier Assigning Authority not found");
    for (size_t i = 0; i < nt; i++) {
        TRY(gw_mpi_domain_known(db, a, &app->mpi, targets[i], &known, err));
        if (!known)
            return base_err_set(err, BASE_E_AUTH, "code-invalid", "targetSystem",
                                "targetSystem not found");
    }
    return BASE_OK;
}

void
gw_app_h_patient_pix(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_caller c;
    struct gw_app_audit au = {.kind = FHIR_EVENT_OPERATION, .subtype = "$ihe-pix", .status = 200};
    const char *targets[PIX_MAX_TARGETS + 2] = {0};
    const char *system = NULL;
    const char *value = NULL;
    const char *src = gw_app_query(r, "sourceIdentifier");
    struct base_err err = {0};
    struct gw_db_conn *db;
    size_t nt = 0;
    json_t *out = NULL;
    int rc;

    if (!admit(app, r, &c, GW_AUTH_SEARCH, FHIR_EVENT_OPERATION, "$ihe-pix"))
        return;
    for (size_t i = 0; i < gw_http_req_query_count(r) && nt <= PIX_MAX_TARGETS; i++) {
        const struct gw_http_param *p = gw_http_req_query_at(r, i);

        if (base_str_eq_cstr(p->name, "targetSystem"))
            targets[nt++] = base_str_dup0(a, p->value);
    }
    /* more domains than we look at is refused, never silently cut short
     * (the answer would carry domains the caller left out) */
    if (nt > PIX_MAX_TARGETS) {
        (void)base_err_set(&err, BASE_E_INVALID, "too-costly", "targetSystem",
                           "at most %d targetSystem parameters", PIX_MAX_TARGETS);
        gw_app_deny(app, r, &c, FHIR_EVENT_OPERATION, "$ihe-pix", NULL, &err);
        return;
    }
    targets[nt] = NULL;
    if (src == NULL || !split_token(a, src, &system, &value)) {
        (void)base_err_set(&err, BASE_E_INVALID, "required", "sourceIdentifier",
                           "sourceIdentifier must be SYSTEM|VALUE");
        gw_app_deny(app, r, &c, FHIR_EVENT_OPERATION, "$ihe-pix", NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = pix_domains(gw_db_conn_pg(db), a, app, system, targets, nt, &err);
    if (rc == BASE_OK)
        rc = gw_mpi_pix(gw_db_conn_pg(db), a, &app->mpi, system, value, nt > 0 ? targets : NULL,
                        &out, &err);
    gw_db_release(db);
    if (rc == BASE_OK && fhir_json_tie(a, out) != BASE_OK)
        rc = base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_OPERATION, "$ihe-pix", NULL, &err);
        return;
    }
    gw_app_answer(app, r, &c, &au, out);
}

/*
 * The read of a person merged into another: that id's own Patient, no
 * longer active, pointing at the survivor (R4 Patient.link "replaced-by":
 * "must no longer be used ... the link points forward to another patient
 * resource that must be used in lieu").  A read answers with the id asked
 * for; the survivor's record is one more read away.
 */
static json_t *
merged_person_patient(struct base_arena *a, const struct gw_app *app, const char *id, const char *survivor)
{
    json_t *p = json_pack("{s:s, s:s, s:[{s:s, s:s}], s:b, s:[{s:{s:s}, s:s}]}", "resourceType",
                          "Patient", "id", id, "identifier", "system", app->mpi.person_system,
                          "value", id, "active", 0, "link", "other", "reference",
                          base_arena_sprintf(a, "Patient/%s", survivor), "type", "replaced-by");

    if (p != NULL && fhir_json_tie(a, p) != BASE_OK)
        p = NULL;
    return p;
}

void
gw_app_h_patient_read(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_caller c;
    struct gw_app_audit au = {.kind = FHIR_EVENT_READ, .subtype = "read", .status = 200};
    struct fhir_event_entity ent = {.type = "Patient"};
    char *id = base_str_dup0(a, gw_http_req_param(r, "id"));
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *out = NULL;
    int rc;

    if (id == NULL || !admit(app, r, &c, GW_AUTH_READ, FHIR_EVENT_READ, "read"))
        return;
    if (!gw_app_id_ok(id)) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "Patient.id", "no such person");
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", NULL, &err);
        return;
    }
    au.patient_ref = base_arena_sprintf(a, "Patient/%s", id);
    if (c.p->role == GW_AUTH_ROLE_PATIENT && (c.p->patient == NULL || strcmp(c.p->patient, id))) {
        (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "Patient.id", "%s",
                           gw_policy_reason_message(GW_POLICY_R_NOT_OWN));
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_mpi_person_patient(gw_db_conn_pg(db), a, &app->mpi, id, &out, &err);
    gw_db_release(db);
    if (rc == BASE_OK && fhir_json_tie(a, out) != BASE_OK)
        rc = base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_READ, "read", rc == BASE_E_NOTFOUND ? NULL
                                                                              : au.patient_ref,
                    &err);
        return;
    }
    if (strcmp(json_string_value(json_object_get(out, "id")), id) != 0 &&
        (out = merged_person_patient(a, app, id, json_string_value(json_object_get(out, "id")))) == NULL)
        return;
    ent.id = json_string_value(json_object_get(out, "id"));
    au.entities = &ent;
    au.n_entities = ent.id != NULL ? 1 : 0;
    gw_app_answer(app, r, &c, &au, out);
}

/*
 * The Parameters of Patient/$match (R4 patient-match): `resource` (the
 * Patient), `onlyCertainMatches`, `count`.  Anything else is refused, as an
 * unknown search parameter is.
 */
static int
match_params(const json_t *params, const json_t **patient, struct gw_mpi_match_opts *o,
             struct base_err *err)
{
    const char *rt = json_string_value(json_object_get(params, "resourceType"));
    const json_t *list = json_object_get(params, "parameter");
    const json_t *p;
    size_t i;

    *patient = NULL;
    memset(o, 0, sizeof(*o));
    o->count = 10;
    ENSURE(rt != NULL && strcmp(rt, "Parameters") == 0, err, BASE_E_INVALID, "structure",
           "Parameters", "the body must be a Parameters resource");
    json_array_foreach((json_t *)list, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        const json_t *v;

        ENSURE(name != NULL, err, BASE_E_INVALID, "required", "Parameters.parameter.name",
               "every parameter needs a name");
        if (strcmp(name, "resource") == 0) {
            v = json_object_get(p, "resource");
            ENSURE(*patient == NULL && json_is_object(v), err, BASE_E_INVALID, "structure",
                   "Parameters.parameter.resource", "one Patient resource is expected");
            *patient = v;
        } else if (strcmp(name, "onlyCertainMatches") == 0) {
            v = json_object_get(p, "valueBoolean");
            ENSURE(json_is_boolean(v), err, BASE_E_INVALID, "value",
                   "Parameters.parameter.valueBoolean", "onlyCertainMatches must be a boolean");
            o->only_certain = json_is_true(v);
        } else if (strcmp(name, "count") == 0) {
            v = json_object_get(p, "valueInteger");
            ENSURE(json_is_integer(v) && json_integer_value(v) >= 1, err, BASE_E_INVALID, "value",
                   "Parameters.parameter.valueInteger", "count must be a positive integer");
            o->count = (size_t)json_integer_value(v);
        } else {
            return base_err_set(err, BASE_E_INVALID, "value", "Parameters.parameter.name",
                                "unknown $match parameter");
        }
    }
    ENSURE(*patient != NULL, err, BASE_E_INVALID, "required", "Parameters.parameter.resource",
           "$match needs the Patient to match");
    return BASE_OK;
}

/* POST /fhir/Patient/$match: clinicians and member systems; a patient may
 * not probe the index for others. */
void
gw_app_h_patient_match(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_caller c;
    struct gw_app_audit au = {.kind = FHIR_EVENT_OPERATION, .subtype = "$match", .status = 200};
    struct fhir_event_entity *ents = NULL;
    struct gw_mpi_match_opts o;
    const json_t *patient = NULL;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *params;
    json_t *bundle = NULL;
    int rc;

    if (!admit(app, r, &c, GW_AUTH_SEARCH, FHIR_EVENT_OPERATION, "$match"))
        return;
    if (c.p->role == GW_AUTH_ROLE_PATIENT) {
        (void)base_err_set(&err, BASE_E_AUTH, "forbidden", "Patient/$match",
                           "$match is for clinicians and member systems");
        gw_app_deny(app, r, &c, FHIR_EVENT_OPERATION, "$match", NULL, &err);
        return;
    }
    if ((params = gw_app_body_json(r)) == NULL)
        return;
    if (match_params(params, &patient, &o, &err) != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_OPERATION, "$match", NULL, &err);
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_mpi_match(gw_db_conn_pg(db), a, &app->mpi, patient, &o, app->cfg->fhir_base, &bundle,
                      &err);
    gw_db_release(db);
    if (rc == BASE_OK && fhir_json_tie(a, bundle) != BASE_OK)
        rc = base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_OPERATION, "$match", NULL, &err);
        return;
    }
    au.n_entities = collect_patients(a, bundle, NULL, &ents);
    au.entities = ents;
    if (au.n_entities == 1)
        au.patient_ref = base_arena_sprintf(a, "Patient/%s", ents[0].id);
    gw_app_answer(app, r, &c, &au, bundle);
}
