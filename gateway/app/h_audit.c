/*
 * gateway/app/h_audit.c — the audit trail for regulators (AuditEvent
 * search, reports, chain verification, the break-the-glass review queue)
 * and for patients ("who looked at my record").  Every one of these
 * queries is itself audited.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "gateway/app/report_fmt.h"

#define REGULATOR GW_APP_ROLE(GW_AUTH_ROLE_REGULATOR)

static bool
regulator(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
          enum fhir_event_kind kind, const char *subtype)
{
    return gw_app_authenticate(app, r, c) &&
           gw_app_require(app, r, c, REGULATOR, "AuditEvent",
                          kind == FHIR_EVENT_SEARCH ? GW_AUTH_SEARCH : GW_AUTH_READ, kind,
                          subtype) &&
           gw_app_purpose(app, r, c, kind, subtype);
}

static bool
bad_param(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
          enum fhir_event_kind kind, const char *subtype, const char *where, const char *msg)
{
    struct base_err err = {0};

    (void)base_err_set(&err, BASE_E_INVALID, "value", where, "%s", msg);
    gw_app_deny(app, r, c, kind, subtype, NULL, &err);
    return false;
}

/* Microseconds since the epoch as a timestamptz literal. */
static char *
us_text(struct base_arena *a, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char buf[40];

    if (gmtime_r(&t, &tm) == NULL)
        return NULL;
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return base_arena_sprintf(a, "%s.%06lldZ", buf, (long long)(us % 1000000));
}

/* A FHIR date/dateTime/instant for a time bound; NULL when malformed. */
static const char *
time_param(struct base_arena *a, const char *s, bool upper)
{
    int64_t lo;
    int64_t hi;

    if (s == NULL || !fhir_search_date_range(s, strlen(s), &lo, &hi))
        return NULL;
    return us_text(a, upper ? hi : lo);
}

/* date=geX / gtX / ltX / leX / X (FHIR date search prefixes). */
static bool
date_bound(struct base_arena *a, const char *v, struct gw_audit_search *q)
{
    int64_t lo;
    int64_t hi;
    const char *d = v;
    char pfx[3] = {0};

    if (strlen(v) > 2 && v[0] >= 'a' && v[0] <= 'z') {
        memcpy(pfx, v, 2);
        d = v + 2;
    }
    if (!fhir_search_date_range(d, strlen(d), &lo, &hi))
        return false;
    if (pfx[0] == '\0' || strcmp(pfx, "eq") == 0) {
        q->from = us_text(a, lo);
        q->to = us_text(a, hi);
    } else if (strcmp(pfx, "ge") == 0) {
        q->from = us_text(a, lo);
    } else if (strcmp(pfx, "gt") == 0) {
        q->from = us_text(a, hi);
    } else if (strcmp(pfx, "lt") == 0) {
        q->to = us_text(a, lo);
    } else if (strcmp(pfx, "le") == 0) {
        q->to = us_text(a, hi);
    } else {
        return false;
    }
    return true;
}

static const char *
patient_ref(struct base_arena *a, const char *v)
{
    return strncmp(v, "Patient/", 8) == 0 ? v : base_arena_sprintf(a, "Patient/%s", v);
}

static const char *const OUTCOME_SYS[] = {"http://hl7.org/fhir/audit-event-outcome", NULL};
static const char *const PURPOSE_SYS[] = {"http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                          NULL};
static const char *const ACTION_SYS[] = {"http://hl7.org/fhir/audit-event-action", NULL};
static const char *const SUBTYPE_SYS[] = {"http://hl7.org/fhir/restful-interaction",
                                          "http://dicom.nema.org/resources/ontology/DCM", NULL};
static const char *const MEMBER_SYS[] = {"urn:fhirgate:member", NULL};

/* A token list into its slot, or *bad = the parameter when malformed. */
static void
token_param(struct base_arena *a, const char *name, const char *v,
            const char *const *systems, const char **slot, const char **bad)
{
    *slot = gw_audit_token_codes(a, v, systems);
    if (*slot == NULL)
        *bad = name;
}

static bool
search_param(struct base_arena *a, const struct gw_http_param *p, struct gw_audit_search *q,
             struct gw_app_audit_filter *content, const char **bad)
{
    char *v = base_str_dup0(a, p->value);
    uint64_t n;
    int rc;

    *bad = NULL;
    if (v == NULL)
        return false;
    rc = gw_app_audit_filter(a, p, content);
    if (rc != GW_APP_AUDIT_FILTER_NONE) {
        if (rc == GW_APP_AUDIT_FILTER_BAD)
            *bad = base_str_dup0(a, p->name);
        return true;
    }
    if (base_str_eq_cstr(p->name, "date")) {
        if (!date_bound(a, v, q))
            *bad = "date";
    } else if (base_str_eq_cstr(p->name, "agent")) {
        token_param(a, "agent", v, NULL, &q->agent, bad);
    } else if (base_str_eq_cstr(p->name, "patient")) {
        if (q->patient != NULL)
            *bad = "patient"; /* one patient: with patient.identifier too, say so */
        q->patient = patient_ref(a, v);
        if (q->patient == NULL || !gw_app_id_ok(q->patient + 8))
            *bad = "patient";
    } else if (base_str_eq_cstr(p->name, "patient.identifier")) {
        /* IHE ITI-81: resolved in the patient index by the caller below */
        if (q->patient != NULL || strchr(v, '|') == NULL || v[0] == '|' ||
            strchr(v, '|')[1] == '\0' || strchr(v, ',') != NULL)
            *bad = "patient.identifier";
        else
            q->patient = v; /* "SYSTEM|VALUE" until resolved */
    } else if (base_str_eq_cstr(p->name, "entity")) {
        q->entity = v;
    } else if (base_str_eq_cstr(p->name, "outcome")) {
        token_param(a, "outcome", v, OUTCOME_SYS, &q->outcome, bad);
    } else if (base_str_eq_cstr(p->name, "purpose")) {
        token_param(a, "purpose", v, PURPOSE_SYS, &q->purpose, bad);
    } else if (base_str_eq_cstr(p->name, "member")) {
        token_param(a, "member", v, MEMBER_SYS, &q->member, bad);
    } else if (base_str_eq_cstr(p->name, "action")) {
        token_param(a, "action", v, ACTION_SYS, &q->action, bad);
    } else if (base_str_eq_cstr(p->name, "subtype")) {
        token_param(a, "subtype", v, SUBTYPE_SYS, &q->subtype, bad);
    } else if (base_str_eq_cstr(p->name, "_sort")) {
        /* the trail is read newest first; that is the one order offered */
        if (strcmp(v, "-date") != 0)
            *bad = "_sort";
    } else if (base_str_eq_cstr(p->name, "_count")) {
        if (!base_str_to_u64(p->value, &n) || n < 1)
            *bad = "_count";
        else /* a larger page than allowed is the largest (search.html#count) */
            q->count = n > BASE_LIMIT_AUDIT_MAX_PAGE ? BASE_LIMIT_AUDIT_MAX_PAGE : (unsigned)n;
    } else if (base_str_eq_cstr(p->name, "_cursor")) {
        q->page = v;
    } else if (!base_str_eq_cstr(p->name, "_format") && !base_str_eq_cstr(p->name, "_pretty")) {
        *bad = "query";
    }
    return true;
}

/* A FHIR id ([A-Za-z0-9.-]) from an event's chain and seq: "gw-1.2-17"
 * (the chain's '/' and '_' written '.'; GET AuditEvent/ID reads it back). */
static char *
event_id(struct base_arena *a, const json_t *ev)
{
    char *id = base_arena_sprintf(a, "%s-%lld", json_string_value(json_object_get(ev, "chain")),
                                  (long long)json_integer_value(json_object_get(ev, "seq")));

    for (char *p = id; p != NULL && *p != '\0'; p++) {
        if (*p == '/' || *p == '_')
            *p = '.';
    }
    return id;
}

/* The searchset of AuditEvents from gw_audit_search's JSON. */
static json_t *
events_bundle(struct gw_app *app, struct gw_http_req *r, json_t *res)
{
    struct base_arena *a = gw_http_req_arena(r);
    json_t *b = fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, NULL, NULL);
    json_t *events = json_object_get(res, "events");
    const char *next = json_string_value(json_object_get(res, "next"));
    size_t i;
    json_t *ev;

    if (b == NULL || fhir_json_tie(a, b) != BASE_OK)
        return NULL;
    json_array_foreach(events, i, ev) {
        json_t *resource = json_object_get(ev, "resource");
        char *id = event_id(a, ev);

        if (id == NULL || !json_is_object(resource))
            continue;
        json_object_set_new(resource, "id", json_string(id));
        if (fhir_bundle_add_entry(b, fhir_bundle_full_url(a, app->cfg->fhir_base, "AuditEvent", id),
                                  json_incref(resource), FHIR_BUNDLE_MODE_MATCH,
                                  NULL) != BASE_OK)
            return NULL;
    }
    /* the same query, and with the next page's token */
    if (fhir_bundle_add_link(b, "self", gw_app_search_link(app, r, "AuditEvent", NULL)) !=
            BASE_OK ||
        (next != NULL && fhir_bundle_add_link(
                             b, "next", gw_app_search_link(app, r, "AuditEvent", next)) != BASE_OK))
        return NULL;
    return b;
}

/* The patient filter of an identifier nobody has: a person id no person
 * has (ours are UUIDs), so that nothing matches. */
static const char NO_PERSON[] = "Patient/-";

/*
 * patient.identifier=SYSTEM|VALUE (IHE ITI-81 Retrieve ATNA Audit Event):
 * the regional person that identifier belongs to, whose accesses are
 * recorded under Patient/<person>.  An identifier nobody has matches no
 * event (an empty searchset, as for any search).
 */
static int
resolve_patient_identifier(struct gw_app *app, struct gw_db_conn *db, struct base_arena *a,
                           struct gw_audit_search *q, struct base_err *err)
{
    struct gw_mpi_person person;
    char *system;
    char *bar;
    int rc;

    if (q->patient == NULL || strncmp(q->patient, "Patient/", 8) == 0)
        return BASE_OK;
    system = base_arena_strdup(a, q->patient);
    if (system == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    bar = strchr(system, '|');
    *bar = '\0';
    rc = gw_mpi_resolve(gw_db_conn_pg(db), a, &app->mpi, system, bar + 1, &person, err);
    if (rc == BASE_E_NOTFOUND || rc == BASE_E_INVALID || rc == BASE_E_CONFLICT) {
        base_err_clear(err);
        q->patient = NO_PERSON;
        return BASE_OK;
    }
    if (rc != BASE_OK)
        return rc;
    q->patient = base_arena_sprintf(a, "Patient/%s", person.id);
    return q->patient != NULL ? BASE_OK
                              : base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
}

/* Compact JSON text in the arena; NULL when out of memory. */
static const char *
json_text(struct base_arena *a, const json_t *v)
{
    struct base_buf b;
    const char *out = NULL;

    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL * 8);
    if (fhir_json_dump(v, FHIR_JSON_COMPACT, &b, NULL) == BASE_OK)
        out = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return out;
}

void
gw_app_h_auditevent_search(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "audit-search", .status = 200};
    struct gw_audit_search q = {0};
    struct gw_app_audit_filter content = {NULL, NULL};
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *res = NULL;
    json_t *bundle;
    int rc;

    if (!regulator(app, r, &c, FHIR_EVENT_SEARCH, "audit-search"))
        return;
    for (size_t i = 0; i < gw_http_req_query_count(r); i++) {
        const char *bad = NULL;

        if (!search_param(a, gw_http_req_query_at(r, i), &q, &content, &bad))
            return;
        if (bad != NULL) {
            bad_param(app, r, &c, FHIR_EVENT_SEARCH, "audit-search", bad,
                      "unknown or malformed AuditEvent search parameter");
            return;
        }
    }
    if ((content.contains != NULL && (q.contains = json_text(a, content.contains)) == NULL) ||
        (content.strings != NULL && (q.strings = json_text(a, content.strings)) == NULL))
        return;
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = resolve_patient_identifier(app, db, a, &q, &err);
    if (rc == BASE_OK)
        rc = gw_audit_search(db, &q, &res, &err);
    gw_db_release(db);
    if (rc == BASE_OK && fhir_json_tie(a, res) != BASE_OK)
        return;
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "audit-search", NULL, &err);
        return;
    }
    bundle = events_bundle(app, r, res);
    if (bundle == NULL)
        return;
    au.patient_ref = q.patient != NO_PERSON ? q.patient : NULL; /* not a patient's ref */
    gw_app_answer(app, r, &c, &au, bundle);
}

/*
 * GET /fhir/AuditEvent/ID (R4 read): one event, by the id its searchset
 * entry carries, so that the entries' fullUrl resolve.  404 for an id that
 * names no event (or is not of that form).
 */
void
gw_app_h_auditevent_read(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_READ, .subtype = "audit-read", .status = 200};
    char *id = base_str_dup0(a, gw_http_req_param(r, "id"));
    struct gw_audit_search q = {0};
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *res = NULL;
    json_t *ev;
    char *dash;
    int rc;

    if (id == NULL || !regulator(app, r, &c, FHIR_EVENT_READ, au.subtype))
        return;
    dash = strrchr(id, '-');
    if (!gw_app_id_ok(id) || dash == NULL || dash == id || dash[1] == '\0' ||
        strspn(dash + 1, "0123456789") != strlen(dash + 1) || strlen(dash + 1) > 18) {
        (void)base_err_set(&err, BASE_E_NOTFOUND, "not-found", "AuditEvent.id", "no such event");
        gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        return;
    }
    *dash = '\0';
    q.event_chain = id;
    q.event_seq = dash + 1;
    q.count = 1;
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_audit_search(db, &q, &res, &err);
    gw_db_release(db);
    if (rc == BASE_OK && fhir_json_tie(a, res) != BASE_OK)
        return;
    ev = json_array_get(json_object_get(res, "events"), 0);
    if (rc == BASE_OK && !json_is_object(json_object_get(ev, "resource")))
        rc = base_err_set(&err, BASE_E_NOTFOUND, "not-found", "AuditEvent.id", "no such event");
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, au.kind, au.subtype, NULL, &err);
        return;
    }
    *dash = '-';
    json_object_set_new(json_object_get(ev, "resource"), "id", json_string(event_id(a, ev)));
    gw_app_answer(app, r, &c, &au, json_object_get(ev, "resource"));
}

/* ------------------------------------------------------------ report -- */

static bool
report_opts(struct gw_app *app, struct gw_http_req *r, struct gw_app_caller *c,
            struct gw_audit_report_opts *o, const char **format)
{
    struct base_arena *a = gw_http_req_arena(r);
    const char *night = gw_app_query(r, "night");
    const char *factor = gw_app_query(r, "factor");
    const char *min = gw_app_query(r, "min");
    const char *tz = gw_app_query(r, "tz");
    unsigned s = 0;
    unsigned e = 0;
    int used = 0;
    char *end = NULL;

    memset(o, 0, sizeof(*o));
    o->from = time_param(a, gw_app_query(r, "from"), false);
    o->to = time_param(a, gw_app_query(r, "to"), true);
    if (o->from == NULL || o->to == NULL)
        return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", "from",
                         "from and to are required dates (YYYY-MM-DD or an instant)");
    /* both are instants in one fixed-width form, so text order is time order */
    if (strcmp(o->from, o->to) > 0)
        return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", "to",
                         "to must not be before from");
    o->tz = tz != NULL ? tz : app->cfg->report_tz;
    if (strlen(o->tz) > 63 ||
        strspn(o->tz, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+-") !=
            strlen(o->tz))
        return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", "tz",
                         "tz must be a time zone name");
    o->night_start = app->cfg->night_start;
    o->night_end = app->cfg->night_end;
    if (night != NULL) {
        if (sscanf(night, "%2u-%2u%n", &s, &e, &used) != 2 || night[used] != '\0' || s > 23 ||
            e > 23)
            return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", "night",
                             "night must be START-END hours such as 22-6");
        o->night_start = s;
        o->night_end = e;
    }
    o->volume_factor = app->cfg->volume_factor;
    if (factor != NULL) {
        o->volume_factor = strtod(factor, &end);
        if (end == factor || *end != '\0' || !(o->volume_factor >= 1 && o->volume_factor <= 1000))
            return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", "factor",
                             "factor must be a number from 1 to 1000");
    }
    o->volume_min = app->cfg->volume_min;
    if (min != NULL) {
        uint64_t v;

        if (!base_str_to_u64(base_str_from_cstr(min), &v) || v < 1 || v > 1000000)
            return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", "min",
                             "min must be a whole number from 1");
        o->volume_min = (unsigned)v;
    }
    o->max_list = 500;
    o->member = gw_app_query(r, "member");
    o->user = gw_app_query(r, "user");
    if ((o->member != NULL && strlen(o->member) > 256) || (o->user != NULL && strlen(o->user) > 256))
        return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", o->user ? "user" : "member",
                         "member and user are at most 256 characters");
    *format = gw_app_query(r, "format");
    if (*format == NULL)
        *format = "json";
    if (strcmp(*format, "json") != 0 && strcmp(*format, "csv") != 0 &&
        strcmp(*format, "html") != 0)
        return bad_param(app, r, c, FHIR_EVENT_SEARCH, "report", "format",
                         "format must be json, csv or html");
    return true;
}

/* Each break-the-glass item gets its review (or null). */
static void
attach_reviews(struct gw_db_conn *db, json_t *report)
{
    json_t *list = json_object_get(report, "break_glass");
    size_t i;
    json_t *item;

    json_array_foreach(list, i, item) {
        char seq[24];
        const char *v[2] = {json_string_value(json_object_get(item, "chain")), seq};
        PGresult *res = NULL;

        snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(json_object_get(item,
                                                                                         "seq")));
        if (v[0] == NULL || gw_db_exec(db, "btg.review.one",
                                       "SELECT decision, note, reviewer, to_char(reviewed_at AT "
                                       "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM "
                                       "registry.btg_review WHERE chain_id = $1 AND seq = $2::bigint",
                                       2, v, &res, &(struct base_err){0}) != BASE_OK)
            continue;
        json_object_set_new(item, "review",
                            PQntuples(res) == 1
                                ? json_pack("{s:s, s:s, s:s, s:s}", "decision",
                                            gw_db_val(res, 0, 0), "note", gw_db_val(res, 0, 1),
                                            "reviewer", gw_db_val(res, 0, 2), "time",
                                            gw_db_val(res, 0, 3))
                                : json_null());
        PQclear(res);
    }
}

void
gw_app_h_report(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "audit-report",
                              .status = 200};
    struct gw_audit_report_opts o;
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    const char *format = NULL;
    json_t *report = NULL;
    struct base_buf b;
    char *text = NULL;
    int rc;

    if (!regulator(app, r, &c, FHIR_EVENT_SEARCH, "audit-report") ||
        !report_opts(app, r, &c, &o, &format))
        return;
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_audit_report(db, &o, &report, &err);
    if (rc == BASE_OK)
        attach_reviews(db, report);
    gw_db_release(db);
    if (rc == BASE_OK && fhir_json_tie(a, report) != BASE_OK)
        return;
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "audit-report", NULL, &err);
        return;
    }
    if (strcmp(format, "json") == 0) {
        gw_app_answer_json(app, r, &c, &au, report);
        return;
    }
    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_RESPONSE);
    if ((strcmp(format, "csv") == 0 ? gw_app_report_csv(report, &b)
                                    : gw_app_report_html(report, &b)) == BASE_OK)
        text = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    if (text == NULL) {
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "could not render the report") !=
            BASE_OK)
            return;
        return;
    }
    if (gw_app_audit(app, r, &c, &au, &err) != BASE_OK) {
        gw_app_fail_audit(app, r);
        return;
    }
    if ((strcmp(format, "csv") == 0 &&
         gw_http_set_header(r, "Content-Disposition",
                            "attachment; filename=\"fhirgate-report.csv\"") != BASE_OK) ||
        gw_http_respond_nocopy(r, 200,
                               strcmp(format, "csv") == 0 ? "text/csv; charset=utf-8"
                                                          : "text/html; charset=utf-8",
                               text, strlen(text)) != BASE_OK)
        return;
}

/* ------------------------------------------------------------ verify -- */

static const char *
problem_name(enum gw_audit_problem_kind k)
{
    switch (k) {
    case GW_AUDIT_INTACT:
        return "intact";
    case GW_AUDIT_CHANGED:
        return "changed";
    case GW_AUDIT_REMOVED:
        return "removed";
    case GW_AUDIT_INSERTED:
        return "inserted";
    case GW_AUDIT_REWRITTEN:
        return "rewritten";
    case GW_AUDIT_BAD_CHECKPOINT:
        return "bad-checkpoint";
    default:
        return "unknown";
    }
}

void
gw_app_h_verify(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "audit-verify",
                              .status = 200};
    struct gw_audit_verify_opts o = {0};
    struct gw_audit_verify_result res = {0};
    const char *from = gw_app_query(r, "from");
    const char *to = gw_app_query(r, "to");
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *v;
    int rc;

    if (!regulator(app, r, &c, FHIR_EVENT_SEARCH, "audit-verify"))
        return;
    o.from = from != NULL ? time_param(a, from, false) : NULL;
    o.to = to != NULL ? time_param(a, to, true) : NULL;
    if ((from != NULL && o.from == NULL) || (to != NULL && o.to == NULL)) {
        bad_param(app, r, &c, FHIR_EVENT_SEARCH, "audit-verify", "from",
                  "from and to must be dates or instants");
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    /* Verification streams the whole range: give it minutes, not the
     * request timeout. */
    rc = gw_db_conn_set_timeout(db, 300000, &err);
    if (rc == BASE_OK)
        rc = gw_audit_verify(db, &o, &res, &err);
    gw_db_release(db);
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "audit-verify", NULL, &err);
        return;
    }
    v = json_pack("{s:b, s:I, s:I, s:I, s:I, s:o}", "intact", res.intact, "chains",
                  (json_int_t)res.chains, "chains_bad", (json_int_t)res.chains_bad, "rows",
                  (json_int_t)res.rows, "checkpoints", (json_int_t)res.checkpoints,
                  "first_problem",
                  res.intact ? json_null()
                             : json_pack("{s:s, s:s, s:I, s:s, s:s}", "kind",
                                         problem_name(res.first.kind), "chain",
                                         res.first.chain_id, "seq", (json_int_t)res.first.seq,
                                         "time", res.first.time, "detail", res.first.detail));
    if (v == NULL || fhir_json_tie(a, v) != BASE_OK)
        return;
    gw_app_answer_json(app, r, &c, &au, v);
}

/* ------------------------------------------------- break-the-glass -- */

void
gw_app_h_btg_list(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "btg-queue", .status = 200};
    const char *status = gw_app_query(r, "status");
    const char *from = gw_app_query(r, "from");
    const char *to = gw_app_query(r, "to");
    const char *v[3];
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    PGresult *res = NULL;
    json_t *items;
    int rc;

    if (!regulator(app, r, &c, FHIR_EVENT_SEARCH, "btg-queue"))
        return;
    status = status != NULL ? status : "open";
    if (strcmp(status, "open") != 0 && strcmp(status, "reviewed") != 0 &&
        strcmp(status, "all") != 0) {
        bad_param(app, r, &c, FHIR_EVENT_SEARCH, "btg-queue", "status",
                  "status must be open, reviewed or all");
        return;
    }
    v[0] = from != NULL ? time_param(a, from, false) : "-infinity";
    v[1] = to != NULL ? time_param(a, to, true) : "infinity";
    v[2] = status;
    if (v[0] == NULL || v[1] == NULL) {
        bad_param(app, r, &c, FHIR_EVENT_SEARCH, "btg-queue", "from",
                  "from and to must be dates or instants");
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_db_exec(
        db, "btg.queue",
        "SELECT json_build_object('chain', e.chain_id, 'seq', e.seq, 'time', "
        "to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'user', "
        "e.agent_user, 'role', e.agent_role, 'member', e.agent_org, 'patient', e.patient_ref, "
        "'reason', e.reason, 'status', e.http_status, 'review', CASE WHEN v.chain_id IS NULL "
        "THEN NULL ELSE json_build_object('decision', v.decision, 'note', v.note, 'reviewer', "
        "v.reviewer, 'time', to_char(v.reviewed_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) END)::text FROM audit.event e LEFT JOIN "
        "registry.btg_review v ON v.chain_id = e.chain_id AND v.seq = e.seq WHERE e.break_glass "
        "AND e.recorded_at >= $1::timestamptz AND e.recorded_at < $2::timestamptz AND "
        "($3 = 'all' OR ($3 = 'open') = (v.chain_id IS NULL)) ORDER BY e.recorded_at DESC "
        "LIMIT 1000",
        3, v, &res, &err);
    gw_db_release(db);
    if (rc != BASE_OK || gw_db_res_tie(a, res) != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "btg-queue", NULL, &err);
        return;
    }
    items = json_array();
    for (int i = 0; items != NULL && i < PQntuples(res); i++) {
        const char *t = gw_db_val(res, i, 0);
        json_t *it = NULL;

        if (fhir_json_parse(t, strlen(t), NULL, &it, &err) == BASE_OK)
            json_array_append_new(items, it);
    }
    v[0] = NULL;
    {
        json_t *out = json_pack("{s:o}", "items", items);

        if (out == NULL || fhir_json_tie(a, out) != BASE_OK)
            return;
        gw_app_answer_json(app, r, &c, &au, out);
    }
}

static bool
review_body(struct gw_http_req *r, json_t *body, const char **chain, char *seq, size_t cap,
            const char **decision, const char **note)
{
    json_t *s = json_object_get(body, "seq");

    *chain = json_string_value(json_object_get(body, "chain"));
    *decision = json_string_value(json_object_get(body, "decision"));
    *note = json_string_value(json_object_get(body, "note"));
    if (*note == NULL)
        *note = "";
    (void)r;
    if (*chain == NULL || strlen(*chain) > 128 || !json_is_integer(s) ||
        json_integer_value(s) < 1 || *decision == NULL ||
        (strcmp(*decision, "justified") != 0 && strcmp(*decision, "unjustified") != 0) ||
        strlen(*note) > 2000)
        return false;
    snprintf(seq, cap, "%lld", (long long)json_integer_value(s));
    return true;
}

void
gw_app_h_btg_review(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_CREATE, .subtype = "btg-review", .status = 200};
    const char *chain;
    const char *decision;
    const char *note;
    char seq[24];
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    PGresult *res = NULL;
    json_t *body;
    json_t *out;
    int rc;

    if (!gw_app_authenticate(app, r, &c) ||
        !gw_app_require(app, r, &c, REGULATOR, "AuditEvent", GW_AUTH_READ, FHIR_EVENT_CREATE,
                        "btg-review") ||
        (body = gw_app_body_json(r)) == NULL)
        return;
    if (!review_body(r, body, &chain, seq, sizeof(seq), &decision, &note)) {
        bad_param(app, r, &c, FHIR_EVENT_CREATE, "btg-review", "body",
                  "body must be {chain, seq, decision: justified|unjustified, note?}");
        return;
    }
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    {
        const char *v[6] = {chain, seq, decision, note, c.p->subject, NULL};

        /* Only a break-the-glass event can be reviewed, and only once. */
        rc = gw_db_exec(db, "btg.review",
                        "INSERT INTO registry.btg_review (chain_id, seq, decision, note, reviewer) "
                        "SELECT e.chain_id, e.seq, $3, $4, $5 FROM audit.event e WHERE "
                        "e.chain_id = $1 AND e.seq = $2::bigint AND e.break_glass "
                        "RETURNING (SELECT patient_ref FROM audit.event WHERE chain_id = $1 AND "
                        "seq = $2::bigint LIMIT 1)",
                        5, v, &res, &err);
    }
    gw_db_release(db);
    if (rc == BASE_OK && PQntuples(res) == 0)
        rc = base_err_set(&err, BASE_E_NOTFOUND, "not-found", "seq",
                          "no break-the-glass event with that chain and seq");
    if (rc == BASE_E_CONFLICT)
        (void)base_err_set(&err, BASE_E_CONFLICT, "conflict", "seq",
                           "that event has been reviewed already");
    if (rc != BASE_OK) {
        PQclear(res);
        gw_app_deny(app, r, &c, FHIR_EVENT_CREATE, "btg-review", NULL, &err);
        return;
    }
    au.patient_ref = base_arena_strdup(a, gw_db_val(res, 0, 0) != NULL ? gw_db_val(res, 0, 0)
                                                                       : "");
    if (au.patient_ref != NULL && au.patient_ref[0] == '\0')
        au.patient_ref = NULL;
    PQclear(res);
    au.reason = decision;
    out = json_pack("{s:s, s:I, s:s, s:s, s:s}", "chain", chain, "seq",
                    (json_int_t)strtoll(seq, NULL, 10), "decision", decision, "note", note,
                    "reviewer", c.p->subject);
    if (out == NULL || fhir_json_tie(a, out) != BASE_OK)
        return;
    gw_app_answer_json(app, r, &c, &au, out);
}

/* ------------------------------------------------ who looked at me -- */


/* A patient recognises "Dr 邓凤雨", not a login name: each access gets the
 * user's display name (user_name) where one is set.  One query for the
 * page; the names travel as a JSON parameter, never in the SQL text. */
static void
add_user_names(struct gw_db_conn *db, json_t *out)
{
    json_t *items = json_object_get(out, "accesses");
    json_t *names = json_array();
    char *param = NULL;
    PGresult *res = NULL;
    struct base_err err = {0};
    size_t i;
    json_t *it;

    json_array_foreach(items, i, it) {
        json_t *u = json_object_get(it, "user");

        if (json_is_string(u))
            json_array_append(names, u);
    }
    param = json_array_size(names) > 0 ? json_dumps(names, JSON_COMPACT) : NULL;
    json_decref(names);
    if (param == NULL)
        return;
    if (gw_db_exec(db, "audit.user_names",
                   "SELECT username, display_name FROM auth.users WHERE display_name <> '' AND "
                   "username IN (SELECT jsonb_array_elements_text($1::jsonb))",
                   1, (const char *[]){param}, &res, &err) == BASE_OK) {
        json_array_foreach(items, i, it) {
            const char *u = json_string_value(json_object_get(it, "user"));

            for (int row = 0; u != NULL && row < PQntuples(res); row++) {
                if (strcmp(gw_db_val(res, row, 0), u) == 0)
                    json_object_set_new(it, "user_name", json_string(gw_db_val(res, row, 1)));
            }
        }
        PQclear(res);
    }
    free(param);
}

void
gw_app_h_my_accesses(struct gw_http_req *r, void *cls)
{
    struct gw_app *app = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct gw_app_audit au = {.kind = FHIR_EVENT_SEARCH, .subtype = "my-accesses", .status = 200};
    const char *from = gw_app_query(r, "from");
    const char *to = gw_app_query(r, "to");
    const char *count = gw_app_query(r, "_count");
    struct gw_app_caller c;
    struct base_err err = {0};
    struct gw_db_conn *db;
    json_t *out = NULL;
    uint64_t n = 50;
    size_t i;
    json_t *it;
    int rc;

    if (!gw_app_authenticate(app, r, &c) ||
        !gw_app_require(app, r, &c, GW_APP_ROLE(GW_AUTH_ROLE_PATIENT), NULL, GW_AUTH_SEARCH,
                        FHIR_EVENT_SEARCH, "my-accesses"))
        return;
    if ((from != NULL && (from = time_param(a, from, false)) == NULL) ||
        (to != NULL && (to = time_param(a, to, true)) == NULL) ||
        (count != NULL &&
         (!base_str_to_u64(base_str_from_cstr(count), &n) || n < 1 || n > 1000))) {
        bad_param(app, r, &c, FHIR_EVENT_SEARCH, "my-accesses", "query",
                  "from/to must be dates, _count 1 to 1000");
        return;
    }
    au.patient_ref = base_arena_sprintf(a, "Patient/%s", c.p->patient);
    if ((db = gw_app_db(app, r)) == NULL)
        return;
    rc = gw_audit_patient_accesses(db, au.patient_ref, from, to, (unsigned)n,
                                   gw_app_query(r, "_cursor"), &out, &err);
    if (rc == BASE_OK)
        add_user_names(db, out);
    gw_db_release(db);
    if (rc == BASE_OK && fhir_json_tie(a, out) != BASE_OK)
        return;
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "my-accesses", NULL, &err);
        return;
    }
    json_array_foreach(json_object_get(out, "accesses"), i, it) {
        struct gw_registry_member m;
        const char *member = json_string_value(json_object_get(it, "member"));

        json_object_set_new(it, "member_name",
                            member != NULL && gw_registry_find(app->registry, a, member, &m)
                                ? json_string(m.name)
                                : json_null());
    }
    gw_app_answer_json(app, r, &c, &au, out);
}
