/*
 * gateway/app/h_clinical.c — the cross-hospital record: GET /fhir/TYPE?
 * patient=ID&… and GET /fhir/Patient/ID/$everything, federated.
 *
 * The pipeline (docs/design/gateway.md "Pipeline"):
 *   pool thread: authenticate → role and scope (before anything is looked
 *   up) → purpose of use → parameters validated → MPI resolve → consents →
 *   policy decision → members to ask (consent-denied ones left out) →
 *   suspend → gw_fed_submit (each answer is scanned into the merge on the
 *   loop thread as it arrives);
 *   worker thread: merge finished → entries filtered by policy → consent
 *   notice → AuditEvent committed → answer → resume.
 * Nothing after gw_fed_submit() runs on the pool thread: from then on the
 * request belongs to the engine's callbacks.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/search/fhir_search.h"
#include "gateway/fed/gw_fed.h"
#include "gateway/http/gw_http_metrics.h"

const char *const gw_app_clinical_types[] = {
    "Encounter",           "Condition",
    "Observation",         "DiagnosticReport",
    "ImagingStudy",        "MedicationRequest",
    "MedicationStatement", "AllergyIntolerance",
    "Procedure",           "Immunization",
    "DocumentReference",   "CareTeam",
    "FamilyMemberHistory", "Goal",
};
const size_t gw_app_clinical_type_count = BASE_ARRAY_LEN(gw_app_clinical_types);

/* What a member's $everything may add beyond the compartment's clinical types:
 * R4 Patient-everything returns "any resource referenced from those" too —
 * who recorded (Practitioner, Organization), where (Location), the PACS
 * (Endpoint), specimens, drug definitions, and Provenance (found when the
 * demo region was assembled: the adapters send these and were refused). */
static const char *const everything_extra_types[] = {
    "Practitioner", "PractitionerRole", "Organization", "Location", "Endpoint",
    "Medication",   "Specimen",         "Provenance",   "Device",
};

#define CLINICAL_ROLES                                                                             \
    (GW_APP_ROLE(GW_AUTH_ROLE_CLINICIAN) | GW_APP_ROLE(GW_AUTH_ROLE_MEMBER_SYSTEM) |              \
     GW_APP_ROLE(GW_AUTH_ROLE_PATIENT))

/* The first entry of a page some of whose data consent withheld (search
 * mode outcome), saying so without saying what. */
#define CONSENT_NOTICE                                                                             \
    "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\","            \
    "\"code\":\"suppressed\",\"diagnostics\":\"some data withheld by patient consent\"}]}"

int
gw_app_clinical_type_index(const char *type)
{
    for (size_t i = 0; type != NULL && i < gw_app_clinical_type_count; i++) {
        if (strcmp(type, gw_app_clinical_types[i]) == 0)
            return (int)i;
    }
    return -1;
}

/* An entry without any interaction counts as searchable: some servers
 * list their types alone. */
static bool
searchable(const json_t *res)
{
    const json_t *ia = json_object_get(res, "interaction");
    const json_t *one;
    size_t i;

    if (!json_is_array(ia) || json_array_size(ia) == 0)
        return true;
    json_array_foreach(ia, i, one)
    {
        const char *code = json_string_value(json_object_get(one, "code"));

        if (code != NULL && strcmp(code, "search-type") == 0)
            return true;
    }
    return false;
}

bool
gw_app_capability_search_types(const char *text, size_t len, uint64_t *mask)
{
    json_t *cs = NULL;
    const json_t *rest;
    size_t i;
    bool listed = false;

    *mask = 0;
    if (text == NULL || fhir_json_parse(text, len, NULL, &cs, NULL) != BASE_OK)
        return false;
    json_array_foreach(json_object_get(cs, "rest"), i, rest)
    {
        const char *mode = json_string_value(json_object_get(rest, "mode"));
        const json_t *res;
        size_t k;

        if (mode != NULL && strcmp(mode, "server") != 0)
            continue;
        json_array_foreach(json_object_get(rest, "resource"), k, res)
        {
            int bit = gw_app_clinical_type_index(json_string_value(json_object_get(res, "type")));

            listed = true;
            if (bit >= 0 && searchable(res))
                *mask |= UINT64_C(1) << bit;
        }
    }
    json_decref(cs);
    return listed;
}

bool
gw_app_is_clinical_type(const char *type)
{
    for (size_t i = 0; type != NULL && i < gw_app_clinical_type_count; i++) {
        if (strcmp(type, gw_app_clinical_types[i]) == 0)
            return true;
    }
    return false;
}

/* Everything one federated request carries across threads (request arena). */
struct fed_req {
    struct gw_app *app;
    struct gw_http_req *r;
    struct gw_http_async *async;
    struct gw_app_caller c;
    const char *type;      /* NULL for $everything */
    const char *subtype;   /* search-type | $everything */
    enum fhir_event_kind kind;
    const char *person;    /* regional person id */
    const char *chain_system;                /* patient.identifier=SYSTEM|VALUE: SYSTEM */
    struct fhir_search_clause *chain_clause; /* its stand-in patient clause */
    const char *op_query; /* $everything: "&_since=…&_type=…" as sent, for the links */
    const char *patient_ref;
    struct gw_policy_consent *consent;
    struct gw_policy_decision decision;
    bool withheld;         /* a member was left out by consent */
    bool lenient;          /* Prefer: handling=lenient: unsupported parameters ignored */
    const char *inc_query; /* "&_include=…" passed on to the members; "" none */
    size_t n_ignored_inc;  /* :iterate includes lenient handling ignored */
    size_t n_asked;
    struct gw_fed_merge *merge;
    struct gw_fed_answer *answer;
    struct gw_fed_merge_opts mopts;
};

/* ------------------------------------------------------- the request -- */

static bool
deny(struct fed_req *f, const char *patient_ref, int rc, const char *code, const char *where,
     const char *msg)
{
    struct base_err err = {0};

    (void)base_err_set(&err, rc, code, where, "%s", msg);
    gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, patient_ref, &err);
    return false;
}

/* Role, scope, purpose — before anything about the patient is looked up. */
static bool
admit(struct fed_req *f)
{
    if (!gw_app_authenticate(f->app, f->r, &f->c))
        return false;
    if (f->type != NULL)
        return gw_app_require(f->app, f->r, &f->c, CLINICAL_ROLES, f->type, GW_AUTH_SEARCH,
                              f->kind, f->subtype) &&
               gw_app_purpose(f->app, f->r, &f->c, f->kind, f->subtype);
    /* $everything returns every clinical type: each must be allowed. */
    for (size_t i = 0; i < gw_app_clinical_type_count; i++) {
        if (!gw_app_require(f->app, f->r, &f->c, CLINICAL_ROLES, gw_app_clinical_types[i],
                            GW_AUTH_SEARCH, f->kind, f->subtype))
            return false;
    }
    return gw_app_purpose(f->app, f->r, &f->c, f->kind, f->subtype);
}

/* The id of base + "/Patient/ID", or NULL. */
static const char *
under_base(const char *base, const char *url)
{
    size_t n = base != NULL ? strlen(base) : 0;

    while (n > 0 && base[n - 1] == '/')
        n--;
    if (url == NULL || n == 0 || strncmp(url, base, n) != 0 ||
        strncmp(url + n, "/Patient/", 9) != 0 || !gw_app_id_ok(url + n + 9))
        return NULL;
    return url + n + 9;
}

/* "https://gw.example/fhir/Patient/ID" names a Patient of this server as
 * "Patient/ID" does (R4 search.html#reference: a reference by absolute URL
 * under the server's own base is a local one) — under the configured base
 * or the one the client used (which our links carry); NULL for any other
 * URL. */
static const char *
own_patient_id(const struct fed_req *f, const char *url)
{
    const char *id = under_base(f->app->cfg->fhir_base, url);

    return id != NULL ? id : under_base(gw_http_req_base_url(f->r, f->app->cfg->fhir_base), url);
}

/* The regional id from patient= ("ID" or "Patient/ID", one value). */
static bool
patient_from_search(struct fed_req *f, const struct fhir_search *s)
{
    const char *id = NULL;
    size_t seen = 0;

    for (size_t i = 0; i < s->n_clauses; i++) {
        const struct fhir_search_clause *cl = &s->clauses[i];

        if (strcmp(cl->def->name, "patient") != 0 && strcmp(cl->def->name, "subject") != 0)
            continue;
        seen++;
        const char *own =
            cl->n_values == 1 ? own_patient_id(f, cl->values[0].u.reference.url) : NULL;
        /* subject:Patient=ID is patient=ID (R4 search.html#reference, :[type]) */
        bool typed = cl->modifier == FHIR_SEARCH_MOD_TYPE && cl->modifier_type != NULL &&
                     strcmp(cl->modifier_type, "Patient") == 0;
        if ((cl->modifier != FHIR_SEARCH_MOD_NONE && !typed) || cl->n_values != 1 ||
            (own == NULL && cl->values[0].u.reference.id == NULL) ||
            (cl->values[0].u.reference.type != NULL &&
             strcmp(cl->values[0].u.reference.type, "Patient") != 0))
            return deny(f, NULL, BASE_E_INVALID, "value", cl->name,
                        "patient must name one regional Patient id");
        id = own != NULL ? own : cl->values[0].u.reference.id;
    }
    if (seen != 1 || id == NULL)
        return deny(f, NULL, BASE_E_INVALID, "required", "patient",
                    "a federated search needs exactly one patient parameter");
    if (f->chain_system == NULL)
        f->person = id; /* chained: the identifier's value, set before */
    return true;
}

/* $everything (R4 Patient-everything) takes _since, _type, start, end and
 * _count; all but _count go to the members as they are, after a check. */
static bool
everything_query(struct fed_req *f, struct base_str *out)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct base_buf b;
    struct base_buf ops;
    int64_t lo;
    int64_t hi;
    char *q;

    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL * 2);
    base_buf_init(&ops, BASE_LIMIT_HTTP_MAX_URL);
    for (size_t i = 0; i < gw_http_req_query_count(f->r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(f->r, i);

        bool date = base_str_eq_cstr(p->name, "start") || base_str_eq_cstr(p->name, "end");

        if ((base_str_eq_cstr(p->name, "_since") || base_str_eq_cstr(p->name, "_type") || date) &&
            base_buf_appendf(&ops, "&%.*s=%.*s", (int)p->raw_name.len, p->raw_name.ptr,
                             (int)p->raw_value.len, p->raw_value.ptr) != BASE_OK)
            break;
        if (base_str_eq_cstr(p->name, "_since")) {
            if (!fhir_search_date_range(p->value.ptr, p->value.len, &lo, &hi)) {
                base_buf_fini(&b);
                base_buf_fini(&ops);
                return deny(f, NULL, BASE_E_INVALID, "value", "_since",
                            "_since must be an instant");
            }
        } else if (date) {
            /* care dates (R4 Patient-everything start/end: type date) */
            if (p->value.len > 10 ||
                !fhir_search_date_range(p->value.ptr, p->value.len, &lo, &hi)) {
                base_buf_fini(&b);
                base_buf_fini(&ops);
                return deny(f, NULL, BASE_E_INVALID, "value",
                            p->name.ptr[0] == 's' ? "start" : "end",
                            "start and end must be dates (YYYY, YYYY-MM or YYYY-MM-DD)");
            }
        } else if (base_str_eq_cstr(p->name, "_type")) {
            struct base_str rest = p->value;
            struct base_str one;

            while (rest.len > 0) {
                char *t;

                (void)base_str_cut(rest, ',', &one, &rest); /* the last: one = rest */
                t = base_str_dup0(a, one);
                if (t == NULL || !gw_app_is_clinical_type(t)) {
                    base_buf_fini(&b);
                    base_buf_fini(&ops);
                    return deny(f, NULL, BASE_E_INVALID, "value", "_type",
                                "_type must list federated resource types");
                }
            }
        } else if (!base_str_eq_cstr(p->name, "_count") && !base_str_eq_cstr(p->name, "_cursor") &&
                   !base_str_eq_cstr(p->name, "_format") && !base_str_eq_cstr(p->name, "_pretty")) {
            base_buf_fini(&b);
            base_buf_fini(&ops);
            return deny(f, NULL, BASE_E_INVALID, "invalid", "query",
                        "$everything takes _since, _type, start, end and _count only");
        } else if (base_buf_appendf(&b, "%s%.*s=%.*s", b.len > 0 ? "&" : "", (int)p->raw_name.len,
                                    p->raw_name.ptr, (int)p->raw_value.len,
                                    p->raw_value.ptr) != BASE_OK) {
            break;
        }
    }
    q = b.len > 0 ? base_buf_dup0(&b, a) : base_arena_strdup(a, "");
    f->op_query = ops.len > 0 ? base_buf_dup0(&ops, a) : "";
    base_buf_fini(&b);
    base_buf_fini(&ops);
    *out = base_str_from_cstr(q);
    return q != NULL && f->op_query != NULL;
}

/* The query the self and next links carry and a cursor is bound to: the
 * canonical search, and for $everything its own parameters as sent. */
static const char *
link_query(struct fed_req *f, const struct fhir_search *s)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    const char *q = fhir_search_canonical_query(a, s);

    if (q == NULL || f->op_query == NULL || f->op_query[0] == '\0')
        return q;
    return base_arena_sprintf(a, "%s%s", q, f->op_query);
}

/* The links' query: link_query and then _format / _pretty as sent, which
 * are no search parameters (the cursor is not bound to them) yet say how
 * the client wants the next page too. */
static const char *
links_query(struct fed_req *f, const char *q)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    const char *out = q;

    for (size_t i = 0; out != NULL && i < gw_http_req_query_count(f->r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(f->r, i);

        if (base_str_eq_cstr(p->name, "_format") || base_str_eq_cstr(p->name, "_pretty"))
            out = base_arena_sprintf(a, "%s%s%.*s=%.*s", out, out[0] != '\0' ? "&" : "",
                                     (int)p->raw_name.len, p->raw_name.ptr, (int)p->raw_value.len,
                                     p->raw_value.ptr);
    }
    return out;
}

/* ---------------------------------------------------- _include -- */

/*
 * _include / _revinclude (R4 search.html#include) are passed on to the
 * members, each of which adds what its own matches refer to (or are
 * referred to by) as include entries; the merge keeps a member's includes
 * with the page its matches are on.  Here: which includes go on, and which
 * resource types they may bring back — each of them must be readable under
 * the caller's scopes (403 otherwise, as a search of that type would be),
 * and a member's include entry of any other type fails that member.
 * :iterate would need the members' answers to ask again: not supported.
 */
struct inc_types {
    const char **v;
    size_t n, cap;
    bool any;   /* some include may return any type */
    bool added; /* the include being planned named a type (new or not) */
};

static int
inc_add_type(struct base_arena *a, struct inc_types *t, const char *type, size_t len)
{
    t->added = true;
    for (size_t i = 0; i < t->n; i++) {
        if (strlen(t->v[i]) == len && memcmp(t->v[i], type, len) == 0)
            return BASE_OK;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap == 0 ? 8 : t->cap * 2;
        const char **nv = base_arena_grow(a, t->v, t->n, cap, sizeof(*nv));

        if (nv == NULL)
            return BASE_E_NOMEM;
        t->v = nv;
        t->cap = cap;
    }
    t->v[t->n] = base_arena_strndup(a, type, len);
    return t->v[t->n++] == NULL ? BASE_E_NOMEM : BASE_OK;
}

/* The targets of reference parameter `def` (all of them, or `only`). */
static int
inc_add_targets(struct base_arena *a, struct inc_types *t, const struct fhir_search_param_def *def,
                const char *only)
{
    const char *p = def->targets;

    if (only != NULL)
        return fhir_search_param_allows_target(def, only, strlen(only))
                   ? inc_add_type(a, t, only, strlen(only))
                   : BASE_OK;
    if (p == NULL) {
        t->any = t->added = true;
        return BASE_OK;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, " ");

        if (n > 0)
            TRY(inc_add_type(a, t, p, n));
        p += n;
        p += *p == ' ';
    }
    return BASE_OK;
}

/* One _include=Source:param[:Target] (or Source:* / *), checked by
 * fhir_search_include_check, on a search of `type`: the types it may add
 * (none when Source is another type: its parameters do not reach from
 * this type's matches). */
static int
inc_forward(struct base_arena *a, const char *type, const struct fhir_search_include *inc,
            struct inc_types *t)
{
    const struct fhir_search_param_def *defs[160];
    size_t n;
    int rc = BASE_OK;

    if (!inc->wildcard && strcmp(inc->source_type, type) != 0)
        return BASE_OK;
    if (inc->wildcard || strcmp(inc->param, "*") == 0) {
        n = fhir_search_params_for(type, defs, BASE_ARRAY_LEN(defs));
        for (size_t i = 0; i < n && i < BASE_ARRAY_LEN(defs) && rc == BASE_OK; i++) {
            if (defs[i]->type == FHIR_SEARCH_REFERENCE)
                rc = inc_add_targets(a, t, defs[i], inc->wildcard ? NULL : inc->target_type);
        }
        return rc;
    }
    return inc_add_targets(a, t, fhir_search_param_find(type, inc->param, strlen(inc->param)),
                           inc->target_type);
}

/* One checked _revinclude=Source:param[:Target]: Source, when param can
 * refer to the searched type. */
static int
inc_reverse(struct base_arena *a, const char *type, const struct fhir_search_include *inc,
            struct inc_types *t)
{
    const struct fhir_search_param_def *def;

    if (inc->wildcard) {
        t->any = t->added = true;
        return BASE_OK;
    }
    if (inc->target_type != NULL && strcmp(inc->target_type, type) != 0)
        return BASE_OK;
    if (strcmp(inc->param, "*") != 0) {
        def = fhir_search_param_find(inc->source_type, inc->param, strlen(inc->param));
        if (!fhir_search_param_allows_target(def, type, strlen(type)))
            return BASE_OK;
    }
    return inc_add_type(a, t, inc->source_type, strlen(inc->source_type));
}

static bool
inc_query_add(struct base_buf *b, const struct fhir_search_include *inc)
{
    const char *name = inc->rev ? "_revinclude" : "_include";

    if (inc->wildcard)
        return base_buf_appendf(b, "&%s=*", name) == BASE_OK;
    return base_buf_appendf(b, "&%s=%s:%s%s%s", name, inc->source_type, inc->param,
                            inc->target_type != NULL ? ":" : "",
                            inc->target_type != NULL ? inc->target_type : "") == BASE_OK;
}

/* Every type `t` names must be readable by the caller; "any" stands for
 * every type a member may send (those $everything allows). */
static bool
inc_scopes(struct fed_req *f, struct inc_types *t)
{
    struct base_arena *a = gw_http_req_arena(f->r);

    if (t->any) {
        if (inc_add_type(a, t, "Patient", 7) != BASE_OK)
            return false;
        for (size_t i = 0; i < gw_app_clinical_type_count; i++) {
            const char *c = gw_app_clinical_types[i];

            if (inc_add_type(a, t, c, strlen(c)) != BASE_OK)
                return false;
        }
        for (size_t i = 0; i < BASE_ARRAY_LEN(everything_extra_types); i++) {
            const char *c = everything_extra_types[i];

            if (inc_add_type(a, t, c, strlen(c)) != BASE_OK)
                return false;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        if (!gw_app_require(f->app, f->r, &f->c, CLINICAL_ROLES, t->v[i], GW_AUTH_SEARCH, f->kind,
                            f->subtype))
            return false;
    }
    return true;
}

static bool
plan_includes(struct fed_req *f, const struct fhir_search *s)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct inc_types t = {0};
    struct base_buf b;
    int rc = BASE_OK;

    f->inc_query = "";
    if (s->n_includes == 0)
        return true;
    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL);
    for (size_t i = 0; i < s->n_includes && rc == BASE_OK; i++) {
        const struct fhir_search_include *inc = &s->includes[i];
        struct base_err err = {0};

        if (fhir_search_include_check(inc, &err) != BASE_OK) {
            if (f->lenient) {
                f->n_ignored_inc++;
                continue;
            }
            base_buf_fini(&b);
            /* an unsupported parameter is a bad request (400), not 406 */
            snprintf(err.issue_code, sizeof(err.issue_code), "%s", "invalid");
            gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, NULL, &err);
            return false;
        }
        t.added = false;
        rc = inc->rev ? inc_reverse(a, f->type, inc, &t) : inc_forward(a, f->type, inc, &t);
        /* an include that can add nothing is not passed on; one whose types
         * an earlier include named already still is (other resources) */
        if (rc == BASE_OK && t.added && !inc_query_add(&b, inc))
            rc = BASE_E_NOMEM;
    }
    if (rc == BASE_OK && b.len > 0)
        f->inc_query = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    if (rc != BASE_OK || f->inc_query == NULL)
        return deny(f, NULL, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (!inc_scopes(f, &t))
        return false;
    f->mopts.include_types = t.v;
    f->mopts.n_include_types = t.n;
    return true;
}

/*
 * patient.identifier=SYSTEM|VALUE (and subject.identifier,
 * subject:Patient.identifier): the chained search IHE MHD's Find Document
 * References and many clients use when they know the patient's identifier
 * (a resident identity number, a hospital's record number) but not the
 * regional id.  The gateway resolves it in its own patient index, so the
 * members see their local ids as for patient=ID.  Here: the parameter is
 * taken out of the query and a stand-in patient clause put in its place,
 * which names the person once resolve_chained() has found it.
 */
#define CHAIN_STAND_IN "chained-patient-identifier"

static bool
is_chained_patient(struct base_str name)
{
    return base_str_eq_cstr(name, "patient.identifier") ||
           base_str_eq_cstr(name, "subject.identifier") ||
           base_str_eq_cstr(name, "subject:Patient.identifier");
}

static bool
chained_query(struct fed_req *f, struct base_str *q)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    const struct gw_http_param *chain = NULL;
    struct base_str sys, val;
    struct base_buf b;
    bool ok = true;
    char *out;

    for (size_t i = 0; i < gw_http_req_query_count(f->r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(f->r, i);

        if (!is_chained_patient(p->name))
            continue;
        if (chain != NULL)
            return deny(f, NULL, BASE_E_INVALID, "required", "patient",
                        "a federated search needs exactly one patient parameter");
        chain = p;
    }
    if (chain == NULL)
        return true;
    if (!base_str_cut(chain->value, '|', &sys, &val) || sys.len == 0 || val.len == 0 ||
        base_str_find_chr(val, ',', 0) >= 0)
        return deny(f, NULL, BASE_E_INVALID, "value", "patient.identifier",
                    "patient.identifier must be one SYSTEM|VALUE");
    f->chain_system = base_str_dup0(a, sys);
    f->person = base_str_dup0(a, val);
    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL * 2);
    for (size_t i = 0; ok && i < gw_http_req_query_count(f->r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(f->r, i);

        ok = p == chain || base_buf_appendf(&b, "%.*s=%.*s&", (int)p->raw_name.len, p->raw_name.ptr,
                                            (int)p->raw_value.len, p->raw_value.ptr) == BASE_OK;
    }
    ok = ok && base_buf_appendf(&b, "%s=%s",
                                base_str_eq_cstr(chain->name, "patient.identifier") ? "patient"
                                                                                    : "subject",
                                CHAIN_STAND_IN) == BASE_OK;
    out = ok ? base_buf_dup0(&b, a) : NULL;
    base_buf_fini(&b);
    if (out == NULL || f->chain_system == NULL || f->person == NULL)
        return deny(f, NULL, BASE_E_LIMIT, "too-costly", "query", "query too long");
    *q = base_str_from_cstr(out);
    return true;
}

/* The stand-in clause, to be pointed at the person once resolved. */
static void
find_stand_in(struct fed_req *f, struct fhir_search *s)
{
    for (size_t i = 0; f->chain_system != NULL && i < s->n_clauses; i++) {
        if (s->clauses[i].raw_value != NULL && strcmp(s->clauses[i].raw_value, CHAIN_STAND_IN) == 0)
            f->chain_clause = &s->clauses[i];
    }
}

static bool
parse_search(struct fed_req *f, struct fhir_search **out)
{
    struct fhir_search_options opt = fhir_search_options_default();
    struct base_str q = gw_http_req_query_string(f->r);
    struct base_err err = {0};

    if (f->type == NULL && !everything_query(f, &q))
        return false;
    if (f->type != NULL && !chained_query(f, &q))
        return false;

    opt.handling = fhir_search_handling_from_prefer(gw_http_req_header(f->r, "Prefer"),
                                                    FHIR_SEARCH_STRICT);
    opt.default_count = f->app->cfg->page_default;
    opt.max_count = f->app->cfg->page_max;
    if (fhir_search_parse(gw_http_req_arena(f->r), f->type != NULL ? f->type : "Patient",
                          q.ptr != NULL ? q.ptr : "", q.len, &opt, out, &err) != BASE_OK) {
        /* An unknown parameter is a bad request (400), not an
         * unacceptable representation (406). */
        if (strcmp(err.issue_code, "not-supported") == 0)
            snprintf(err.issue_code, sizeof(err.issue_code), "%s", "invalid");
        gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, NULL, &err);
        return false;
    }
    /* Under lenient handling (R4 search.html#errors) an unsupported
     * parameter is ignored and said so; strict, it is a 400. */
    f->lenient = opt.handling == FHIR_SEARCH_LENIENT;
    if (f->type == NULL)
        return true;
    if (!plan_includes(f, *out) || !patient_from_search(f, *out))
        return false;
    find_stand_in(f, *out);
    return true;
}

/* A parameter lenient handling ignored: the members (strict) would refuse
 * it, so it is not passed on either. */
static bool
ignored_here(const struct fhir_search *s, struct base_str name)
{
    for (size_t i = 0; i < s->n_warnings; i++) {
        if (base_str_eq_cstr(name, s->warnings[i].param))
            return true;
    }
    return false;
}

/* The member-side query: every parameter as received except the ones the
 * gateway handles itself (patient, paging, presentation) and the ones it
 * ignored (lenient handling); _include/_revinclude as plan_includes chose. */
static char *
member_query(struct fed_req *f, const struct fhir_search *s)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct base_buf b;
    char *out;

    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL * 2);
    for (size_t i = 0; i < gw_http_req_query_count(f->r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(f->r, i);
        struct base_str base = p->name;
        long colon = base_str_find_chr(base, ':', 0);
        long dot = base_str_find_chr(base, '.', 0);

        if (colon >= 0)
            base.len = (size_t)colon;
        if (dot >= 0 && (size_t)dot < base.len)
            base.len = (size_t)dot; /* patient.identifier: resolved here */
        if (base_str_eq_cstr(base, "patient") || base_str_eq_cstr(base, "subject") ||
            base_str_eq_cstr(base, "_cursor") || base_str_eq_cstr(base, "_format") ||
            base_str_eq_cstr(base, "_pretty") || base_str_eq_cstr(base, "_count") ||
            base_str_eq_cstr(base, "_offset") || base_str_eq_cstr(base, "_include") ||
            base_str_eq_cstr(base, "_revinclude") || ignored_here(s, p->name))
            continue; /* includes: from f->inc_query, below */
        if (base_buf_appendf(&b, "&%.*s=%.*s", (int)p->raw_name.len, p->raw_name.ptr,
                            (int)p->raw_value.len, p->raw_value.ptr) != BASE_OK)
            break;
    }
    /* Without a _sort the merge's order is "most recent first"; each
     * member must answer in it, or the first page holds its oldest. */
    const char *sort = f->type != NULL && s->n_sort == 0 ? gw_fed_default_sort(f->type) : NULL;
    if (sort != NULL && base_buf_appendf(&b, "&_sort=%s", sort) != BASE_OK) {
        base_buf_fini(&b);
        return NULL;
    }
    if (base_buf_appendf(&b, "%s&_count=%u", f->inc_query != NULL ? f->inc_query : "", s->count) !=
        BASE_OK) {
        base_buf_fini(&b);
        return NULL;
    }
    out = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return out;
}

/* ---------------------------------------------------- MPI and policy -- */

struct local {
    const char *member;
    struct base_buf ids; /* "Patient/a,Patient/b" */
};

static int
locals_load(struct fed_req *f, struct gw_db_conn *c, PGresult **out, struct base_err *err)
{
    const char *v[1] = {f->person};

    return gw_db_exec(c, "clinical.locals",
                      "SELECT r.member_id, r.resource->>'id' FROM mpi.record r "
                      "JOIN mpi.person p ON p.id = r.person_id WHERE p.public_id = $1::uuid "
                      "AND r.resource->>'id' IS NOT NULL ORDER BY r.member_id, r.id",
                      1, v, out, err);
}

/* Resolve (following merges), load consents, decide. */
static bool
decide(struct fed_req *f, struct gw_db_conn *c, PGresult **locals)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct gw_mpi_person person;
    struct gw_policy_request pr = {0};
    struct base_err err = {0};
    json_t **consents = NULL;
    size_t n = 0;
    int rc;

    rc = gw_mpi_resolve(gw_db_conn_pg(c), a, &f->app->mpi, f->app->mpi.person_system, f->person,
                        &person, &err);
    if (rc == BASE_E_NOTFOUND || rc == BASE_E_INVALID)
        return deny(f, NULL, BASE_E_NOTFOUND, "not-found", "patient", "no such patient");
    if (rc != BASE_OK) {
        gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, NULL, &err);
        return false;
    }
    f->person = person.id;
    f->patient_ref = base_arena_sprintf(a, "Patient/%s", person.id);
    if (gw_app_consents_load(c, a, person.id, &consents, &n, &err) != BASE_OK ||
        gw_policy_consent_compile(a, (const json_t *const *)consents, n, gw_app_now_us(),
                                  &f->consent, &err) != BASE_OK) {
        /* A consent we cannot read or apply means no sharing (fail closed). */
        return deny(f, f->patient_ref, BASE_E_IO, "transient", "Consent",
                    "the patient's consent could not be evaluated");
    }
    pr.role = f->c.p->role;
    pr.org_is_active_member = f->c.p->organization != NULL &&
                              gw_registry_is_active(f->app->registry, f->c.p->organization);
    pr.pou = f->c.pou;
    pr.reason = base_str_from_cstr(f->c.reason);
    pr.is_own_record = f->c.p->patient != NULL && strcmp(f->c.p->patient, person.id) == 0;
    if (pr.role == GW_AUTH_ROLE_MEMBER_SYSTEM)
        pr.role = GW_AUTH_ROLE_CLINICIAN; /* a member's system acts for its clinicians */
    gw_policy_decide(&pr, f->consent, &f->decision);
    if (f->decision.verdict == GW_POLICY_DENY)
        return deny(f, f->patient_ref, BASE_E_AUTH,
                    f->decision.reason == GW_POLICY_R_CONSENT ? "security" : "forbidden",
                    gw_policy_reason_code(f->decision.reason),
                    gw_policy_reason_message(f->decision.reason));
    return locals_load(f, c, locals, &err) == BASE_OK ||
           deny(f, f->patient_ref, BASE_E_IO, "transient", "mpi", "the patient index failed");
}

/* ------------------------------------------------------- member list -- */

static bool
admit_entry(const struct gw_fed_entry_info *e, void *ctx)
{
    struct fed_req *f = ctx;
    struct base_str labels[BASE_LIMIT_FED_MAX_LABELS];
    size_t n = e->n_security < BASE_ARRAY_LEN(labels) ? e->n_security : BASE_ARRAY_LEN(labels);

    for (size_t i = 0; i < n; i++)
        labels[i] = base_str_from_cstr(e->security[i].code);
    return gw_policy_entry_allowed(f->consent, &f->decision, base_str_from_cstr(e->member_id),
                                   base_str_from_cstr(e->type), labels, n);
}

/* One request per active member holding the person, not denied by
 * consent; *n_out of them in `rq`. */
static size_t
build_requests(struct fed_req *f, PGresult *locals, const char *query, const char *path_tail,
               const struct gw_fed_cursor *cursor, struct gw_fed_request *rq, size_t cap)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct gw_registry_member *ms = NULL;
    size_t nm = 0;
    size_t k = 0;
    const char **hdr = BASE_NEW_N(a, const char *, 1);

    if (hdr != NULL)
        hdr[0] = base_arena_sprintf(a, "X-Request-Id: %s", gw_http_req_id(f->r));
    if (gw_registry_snapshot(f->app->registry, a, true, &ms, &nm, &(struct base_err){0}) !=
        BASE_OK)
        return 0;
    for (size_t i = 0; i < nm && k < cap; i++) {
        struct base_buf ids;
        char *idlist;
        char *first;
        const struct gw_fed_member_state *st = NULL;

        base_buf_init(&ids, 4096);
        for (int row = 0; row < PQntuples(locals); row++) {
            if (strcmp(gw_db_val(locals, row, 0), ms[i].id) != 0)
                continue;
            /* $everything is one Patient's operation: the member's first
             * record; a search takes them all (patient=a,b is OR). */
            if ((f->type == NULL && ids.len > 0) ||
                base_buf_appendf(&ids, "%sPatient/%s", ids.len > 0 ? "," : "",
                                gw_db_val(locals, row, 1)) != BASE_OK)
                break;
        }
        idlist = ids.len > 0 ? base_buf_dup0(&ids, a) : NULL;
        base_buf_fini(&ids);
        if (idlist == NULL)
            continue;
        if (gw_policy_member_denied(f->consent, &f->decision, base_str_from_cstr(ms[i].id))) {
            f->withheld = true;
            continue;
        }
        if (cursor != NULL && ((st = gw_fed_cursor_find(cursor, ms[i].id)) == NULL || st->done))
            continue;
        if (f->type != NULL && !gw_registry_health_searches(
                                   &ms[i].health, (unsigned)gw_app_clinical_type_index(f->type)))
            continue; /* its CapabilityStatement does not search that type */
        first = f->type != NULL
                    ? base_arena_sprintf(a, "%s/%s?patient=%s%s", ms[i].base, f->type, idlist,
                                         query)
                    : base_arena_sprintf(a, "%s/%s/%s%s", ms[i].base, idlist, path_tail,
                                         query[0] == '&' ? query + 1 : query);
        rq[k].member_id = ms[i].id;
        rq[k].member_name = ms[i].name;
        rq[k].base = ms[i].base;
        rq[k].url = st != NULL ? gw_fed_page_url(a, ms[i].base, first, st) : first;
        rq[k].headers = hdr;
        rq[k].n_headers = hdr != NULL && hdr[0] != NULL ? 1 : 0;
        rq[k].offset_paging = true;
        if (rq[k].url != NULL)
            k++;
    }
    return k;
}

/* --------------------------------------------------------- answering -- */

static void
count(struct gw_app *app, const char *kind, const char *outcome)
{
    const char *labels[2] = {kind, outcome};

    if (app->m_fed != NULL)
        gw_http_metric_add(app->m_fed, labels, 1);
}

/* The entities of the page for the AuditEvent (every returned one). */
static void
audit_entities(struct fed_req *f, struct gw_app_audit *au)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    const struct gw_fed_entity *ents = NULL;
    size_t n = 0;
    struct fhir_event_entity *out;
    const char **members;

    gw_fed_merge_entities(f->merge, &ents, &n);
    out = BASE_NEW_N(a, struct fhir_event_entity, n + 1);
    members = BASE_NEW_N(a, const char *, n + 1);
    if (out == NULL || members == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].id == NULL)
            continue;
        out[au->n_entities].type = ents[i].type;
        out[au->n_entities].id = ents[i].id;
        out[au->n_entities].version = ents[i].version;
        members[au->n_entities++] = ents[i].member_id;
    }
    au->entities = out;
    au->entity_members = members;
}

static bool
set_headers(struct fed_req *f, const struct gw_fed_merge_info *info)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%zu", f->n_asked);
    if (gw_http_set_header(f->r, "X-Members-Asked", buf) != BASE_OK)
        return false;
    snprintf(buf, sizeof(buf), "%zu", info->n_ok);
    if (gw_http_set_header(f->r, "X-Members-Answered", buf) != BASE_OK)
        return false;
    return !f->decision.btg || gw_http_set_header(f->r, "X-Break-Glass", "true") == BASE_OK;
}

static bool
wants_xml(struct gw_http_req *r)
{
    struct base_err err = {0};
    enum gw_http_format fmt = GW_HTTP_FORMAT_JSON;

    return gw_http_req_format(r, &fmt, &err) == BASE_OK && fmt == GW_HTTP_FORMAT_XML;
}

/* XML: the page is written whole, read back as a tree and converted. */
static void
respond_xml(struct fed_req *f, const char *text, size_t len)
{
    struct base_err err = {0};
    json_t *tree = NULL;

    if (text != NULL && fhir_json_parse(text, len, NULL, &tree, &err) == BASE_OK &&
        fhir_json_tie(gw_http_req_arena(f->r), tree) == BASE_OK) {
        if (gw_http_respond_resource(f->r, 200, tree) != BASE_OK)
            return;
        return;
    }
    if (gw_http_respond_outcome(f->r, 500, "exception", NULL, "could not build the answer") !=
        BASE_OK)
        return;
}

/* JSON: the page streams out of the merge, one entry at a time, while the
 * member answers it splices from stay alive; they are freed with the
 * response.  The merge lives in the request's arena, which outlasts every
 * read but maybe not the response, so the free function must not touch it. */
struct page_stream {
    struct gw_fed_merge *merge;
    struct gw_fed_answer *answer;
};

static ssize_t
page_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct page_stream *ps = cls;
    ssize_t n = gw_fed_merge_read(ps->merge, buf, max);

    (void)pos;
    if (n > 0)
        return n;
    return n == 0 ? GW_HTTP_STREAM_END : GW_HTTP_STREAM_ERROR;
}

static void
page_done(void *cls)
{
    struct page_stream *ps = cls;

    gw_fed_answer_free(ps->answer);
    base_free(ps);
}

/* On success the member answers belong to the response (f->answer NULL). */
static void
respond_stream(struct fed_req *f)
{
    struct page_stream *ps = base_malloc(sizeof(*ps));

    if (ps == NULL) {
        if (gw_http_respond_outcome(f->r, 500, "exception", NULL, "out of memory") != BASE_OK)
            return;
        return;
    }
    ps->merge = f->merge;
    ps->answer = f->answer;
    f->answer = NULL;
    /* on failure page_done has run: the answers are gone either way */
    if (gw_http_respond_stream(f->r, 200, "application/fhir+json; charset=utf-8", page_read, ps,
                               page_done) != BASE_OK)
        return;
}

static bool
ignored_any(const struct fed_req *f)
{
    return f->mopts.search != NULL && (f->mopts.search->n_warnings > 0 || f->n_ignored_inc > 0);
}

/* The page's first entry: the consent notice and what lenient handling
 * ignored (R4 search.html#errors: an OperationOutcome in the Bundle);
 * NULL when out of memory, which gw_fed_merge_lead_outcome refuses. */
static const char *
lead_outcome(struct fed_req *f, bool consent)
{
    const struct fhir_search *s = f->mopts.search;
    json_t *oo;
    struct base_buf b;
    char *text = NULL;

    if (consent && !ignored_any(f))
        return CONSENT_NOTICE;
    oo = fhir_outcome_new();
    base_buf_init(&b, 0);
    if (oo != NULL && fhir_search_warnings_to_outcome(s, oo) == BASE_OK &&
        (f->n_ignored_inc == 0 ||
         fhir_outcome_add(oo, "warning", "not-supported", "_include",
                          "_include/_revinclude with :iterate, or naming no reference "
                          "parameter, is not supported; ignored") == BASE_OK) &&
        (!consent || fhir_outcome_add(oo, "information", "suppressed", NULL,
                                      "some data withheld by patient consent") == BASE_OK) &&
        fhir_json_dump(oo, FHIR_JSON_COMPACT, &b, NULL) == BASE_OK)
        text = base_buf_dup0(&b, gw_http_req_arena(f->r));
    base_buf_fini(&b);
    json_decref(oo);
    return text;
}

/* Runs on a worker: finish the merge, audit, answer, resume. */
static void
finish(void *ctx)
{
    struct fed_req *f = ctx;
    struct base_arena *a = gw_http_req_arena(f->r);
    struct gw_app_audit au = {.kind = f->kind, .subtype = f->subtype, .status = 200};
    struct gw_fed_merge_info info = {0};
    struct base_err err = {0};
    bool xml = wants_xml(f->r);
    char *text = NULL;
    size_t len = 0;

    au.patient_ref = f->patient_ref;
    au.break_glass = f->decision.btg;
    au.reason = f->decision.btg ? f->c.reason : NULL;
    if (gw_fed_merge_finish(f->merge, &err) != BASE_OK) {
        gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, f->patient_ref, &err);
        goto out;
    }
    gw_fed_merge_info(f->merge, &info);
    if (info.n_ok == 0 && info.n_members > 0) {
        count(f->app, f->subtype, "unavailable");
        (void)base_err_set(&err, BASE_E_IO, "transient", "members",
                           "no member holding this patient answered");
        gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, f->patient_ref, &err);
        goto out;
    }
    if ((f->withheld || info.n_filtered > 0 || ignored_any(f)) &&
        gw_fed_merge_lead_outcome(f->merge, lead_outcome(f, f->withheld || info.n_filtered > 0)) !=
            BASE_OK) {
        if (gw_http_respond_outcome(f->r, 500, "exception", NULL, "could not build the answer") !=
            BASE_OK)
            goto out;
        goto out;
    }
    if (xml) {
        struct base_buf b;

        base_buf_init(&b, BASE_LIMIT_HTTP_MAX_RESPONSE);
        if (gw_fed_merge_write(f->merge, &b) == BASE_OK)
            text = base_buf_dup0(&b, a);
        len = b.len;
        base_buf_fini(&b);
        if (text == NULL) {
            if (gw_http_respond_outcome(f->r, 500, "exception", NULL,
                                        "could not build the answer") != BASE_OK)
                goto out;
            goto out;
        }
    }
    audit_entities(f, &au);
    /* Fail closed: the AuditEvent is committed before any byte leaves. */
    if (gw_app_audit(f->app, f->r, &f->c, &au, &err) != BASE_OK) {
        count(f->app, f->subtype, "audit-failed");
        gw_app_fail_audit(f->app, f->r);
        goto out;
    }
    count(f->app, f->subtype, info.n_ok < info.n_members ? "partial" : "complete");
    if (!set_headers(f, &info))
        goto out;
    if (xml)
        respond_xml(f, text, len);
    else
        respond_stream(f);
out:
    gw_fed_answer_free(f->answer);
    f->answer = NULL;
    gw_http_resume(f->async);
}

static void
on_result(const struct gw_fed_result *res, size_t idx, void *ctx)
{
    struct fed_req *f = ctx;
    struct base_err err = {0};

    if (gw_fed_merge_add(f->merge, idx, res, &err) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "fed.merge.add", "member=%s where=%s", res->member_id, err.where);
}

static void
on_done(struct gw_fed_answer *answer, void *ctx)
{
    struct fed_req *f = ctx;

    f->answer = answer;
    if (!gw_app_work(f->app, finish, f)) {
        /* Stopping: answer without data (never on the loop thread's
         * audit path). */
        gw_fed_answer_free(answer);
        f->answer = NULL;
        if (gw_http_respond_outcome(f->r, 503, "transient", NULL, "the gateway is stopping") !=
            BASE_OK) {
            gw_http_resume(f->async);
            return;
        }
        gw_http_resume(f->async);
    }
}

/* An empty searchset when no member holds the person (still audited). */
static void
answer_empty(struct fed_req *f)
{
    struct gw_app_audit au = {.kind = f->kind, .subtype = f->subtype, .status = 200};
    json_t *b = json_pack("{s:s, s:s, s:i, s:[]}", "resourceType", "Bundle", "type", "searchset",
                          "total", 0, "entry");

    if (b == NULL || fhir_json_tie(gw_http_req_arena(f->r), b) != BASE_OK)
        return;
    if (f->withheld)
        json_array_append_new(json_object_get(b, "entry"),
                              json_pack("{s:{s:s, s:[{s:s, s:s, s:s}]}, s:{s:s}}", "resource",
                                        "resourceType", "OperationOutcome", "issue", "severity",
                                        "information", "code", "suppressed", "diagnostics",
                                        "some data withheld by patient consent", "search",
                                        "mode", "outcome"));
    if (f->withheld)
        json_object_del(b, "total");
    au.patient_ref = f->patient_ref;
    au.break_glass = f->decision.btg;
    au.reason = f->decision.btg ? f->c.reason : NULL;
    gw_app_answer(f->app, f->r, &f->c, &au, b);
}

/* The paging cursor keys every node shares (config federation.cursor_key). */
static void
cursor_keys(const struct gw_config *cfg, struct gw_fed_cursor_keys *k)
{
    memset(k, 0, sizeof(*k));
    k->current_id = 1;
    memcpy(k->current, cfg->cursor_key, sizeof(k->current));
    k->has_previous = cfg->has_cursor_key_previous;
    k->previous_id = 0;
    memcpy(k->previous, cfg->cursor_key_previous, sizeof(k->previous));
}

static bool
setup_merge(struct fed_req *f, const struct fhir_search *s, const struct gw_fed_cursor *cursor,
            size_t n)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct gw_fed_merge_opts *o = &f->mopts;
    struct gw_fed_cursor_keys *keys = BASE_NEW(a, struct gw_fed_cursor_keys);
    struct base_err err = {0};
    const char *bound;

    if (keys == NULL)
        return false;
    cursor_keys(f->app->cfg, keys);
    o->base_url = gw_http_req_base_url(f->r, f->app->cfg->fhir_base); /* the client's */
    o->path = f->type != NULL ? f->type
                              : base_arena_sprintf(a, "Patient/%s/$everything", f->person);
    bound = link_query(f, s);
    o->query = bound != NULL ? links_query(f, bound) : NULL;
    o->search = s;
    o->count = s->count;
    if (f->type != NULL) {
        const char **t = BASE_NEW_N(a, const char *, 1);

        if (t == NULL)
            return false;
        t[0] = f->type;
        o->types = t;
        o->n_types = 1;
    } else {
        /* $everything: the Patient itself, every federated type and what
         * those refer to. */
        size_t n_extra = BASE_ARRAY_LEN(everything_extra_types);
        const char **t = BASE_NEW_N(a, const char *, gw_app_clinical_type_count + 1 + n_extra);

        if (t == NULL)
            return false;
        t[0] = "Patient";
        memcpy(t + 1, gw_app_clinical_types, gw_app_clinical_type_count * sizeof(*t));
        memcpy(t + 1 + gw_app_clinical_type_count, everything_extra_types, n_extra * sizeof(*t));
        o->types = t;
        o->n_types = gw_app_clinical_type_count + 1 + n_extra;
        /* a member may mark what its matches refer to as include entries */
        o->include_types = t;
        o->n_include_types = o->n_types;
    }
    o->cursor = cursor;
    o->self_cursor = s->cursor;
    o->keys = keys;
    o->binding = base_arena_sprintf(a, "%s|%s|%s|%s", f->c.p->subject, f->person, o->path,
                                    bound != NULL ? bound : "");
    o->admit = admit_entry;
    o->admit_ctx = f;
    return gw_fed_merge_start(a, n, o, &f->merge, &err) == BASE_OK;
}

static bool
decode_cursor(struct fed_req *f, const struct fhir_search *s, const char *path,
              const char *query, struct gw_fed_cursor **out)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct gw_fed_cursor_keys keys;
    struct base_err err = {0};
    const char *binding;

    *out = NULL;
    if (s->cursor == NULL)
        return true;
    cursor_keys(f->app->cfg, &keys);
    binding = base_arena_sprintf(a, "%s|%s|%s|%s", f->c.p->subject, f->person, path,
                                 query != NULL ? query : "");
    *out = BASE_NEW(a, struct gw_fed_cursor);
    if (*out == NULL || binding == NULL ||
        gw_fed_cursor_decode(a, &keys, s->cursor, binding, gw_app_now(), *out, &err) != BASE_OK) {
        (void)base_err_set(&err, BASE_E_INVALID, "invalid", "_cursor",
                           "the paging cursor is invalid or expired");
        gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, f->patient_ref, &err);
        return false;
    }
    return true;
}

/* From the decision on: members, merge, suspend, submit. */
static void
fan_out(struct fed_req *f, PGresult *locals, const struct fhir_search *s)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct gw_fed_request *rq = BASE_NEW_N(a, struct gw_fed_request, BASE_LIMIT_FED_MAX_REQUESTS);
    const char *query = member_query(f, s);
    const char *path = f->type != NULL ? f->type
                                       : base_arena_sprintf(a, "Patient/%s/$everything",
                                                            f->person);
    struct gw_fed_cursor *cursor = NULL;
    struct gw_fed_job job = {0};
    struct base_err err = {0};
    size_t n;

    if (rq == NULL || query == NULL || path == NULL ||
        !decode_cursor(f, s, path, link_query(f, s), &cursor))
        return;
    n = build_requests(f, locals, query, "$everything?", cursor, rq, BASE_LIMIT_FED_MAX_REQUESTS);
    if (n == 0) {
        answer_empty(f);
        return;
    }
    f->n_asked = n;
    if (!setup_merge(f, s, cursor, n)) {
        if (gw_http_respond_outcome(f->r, 500, "exception", NULL, "could not prepare the merge") !=
            BASE_OK)
            return;
        return;
    }
    job.requests = rq;
    job.n_requests = n;
    job.deadline_ms = f->app->cfg->fed_deadline_ms;
    job.member_timeout_ms = f->app->cfg->fed_member_timeout_ms;
    job.on_result = on_result;
    job.on_result_ctx = f;
    f->async = gw_http_suspend(f->r);
    if (f->async == NULL) {
        if (gw_http_respond_outcome(f->r, 503, "transient", NULL, "the gateway is stopping") !=
            BASE_OK)
            return;
        return;
    }
    /* From here the request belongs to the engine's callbacks. */
    if (gw_fed_submit(f->app->fed, &job, on_done, f, &err) != BASE_OK) {
        if (gw_http_set_header(f->r, "Retry-After", "1") != BASE_OK ||
            gw_http_respond_outcome(f->r, 503, "transient", NULL,
                                    "too many federated queries in progress") != BASE_OK) {
            gw_http_resume(f->async);
            return;
        }
        gw_http_resume(f->async);
    }
}

/* A representation we can answer in (R4 http.html#mime-type and
 * #version-parameter: an unsupported fhirVersion is 406), decided before
 * any member is asked; the page streams without another look. */
static bool
acceptable(struct fed_req *f)
{
    struct base_err err = {0};
    enum gw_http_format fmt;

    if (gw_http_req_format(f->r, &fmt, &err) == BASE_OK)
        return true;
    gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, NULL, &err);
    return false;
}

/* patient.identifier → the regional person.  A caller who may only see
 * their own record learns nothing about other identifiers: 403 whether the
 * identifier is known or not. */
static bool
resolve_chained(struct fed_req *f)
{
    struct base_arena *a = gw_http_req_arena(f->r);
    struct gw_mpi_person person;
    struct base_err err = {0};
    struct gw_db_conn *db;
    int rc;

    if ((db = gw_app_db(f->app, f->r)) == NULL)
        return false;
    rc = gw_mpi_resolve(gw_db_conn_pg(db), a, &f->app->mpi, f->chain_system, f->person, &person,
                        &err);
    gw_db_release(db);
    if (rc != BASE_OK && f->c.p->role == GW_AUTH_ROLE_PATIENT)
        return deny(f, NULL, BASE_E_AUTH, "forbidden", "patient",
                    gw_policy_reason_message(GW_POLICY_R_NOT_OWN));
    if (rc == BASE_E_NOTFOUND || rc == BASE_E_INVALID)
        return deny(f, NULL, BASE_E_NOTFOUND, "not-found", "patient.identifier",
                    "no patient has this identifier");
    if (rc == BASE_E_CONFLICT)
        return deny(f, NULL, BASE_E_CONFLICT, "multiple-matches", "patient.identifier",
                    "the identifier names more than one person");
    if (rc != BASE_OK) {
        gw_app_deny(f->app, f->r, &f->c, f->kind, f->subtype, NULL, &err);
        return false;
    }
    f->person = person.id;
    if (f->chain_clause != NULL)
        f->chain_clause->raw_value = person.id; /* self and next links name the person */
    return true;
}

static void
run(struct fed_req *f)
{
    struct fhir_search *s = NULL;
    struct gw_db_conn *db;
    PGresult *locals = NULL;
    bool ok;

    if (!admit(f) || !acceptable(f) || !parse_search(f, &s))
        return;
    if (f->chain_system != NULL && !resolve_chained(f))
        return;
    if (f->c.p->role == GW_AUTH_ROLE_PATIENT &&
        (f->c.p->patient == NULL || strcmp(f->c.p->patient, f->person) != 0)) {
        (void)deny(f, NULL, BASE_E_AUTH, "forbidden", "patient",
                   gw_policy_reason_message(GW_POLICY_R_NOT_OWN));
        return;
    }
    if ((db = gw_app_db(f->app, f->r)) == NULL)
        return;
    ok = decide(f, db, &locals);
    gw_db_release(db);
    if (!ok)
        return;
    if (gw_db_res_tie(gw_http_req_arena(f->r), locals) != BASE_OK)
        return;
    fan_out(f, locals, s);
}

static struct fed_req *
new_req(struct gw_http_req *r, void *cls)
{
    struct fed_req *f = BASE_NEW(gw_http_req_arena(r), struct fed_req);

    if (f == NULL)
        return NULL;
    f->app = cls;
    f->r = r;
    return f;
}

void
gw_app_h_clinical(struct gw_http_req *r, void *cls)
{
    struct fed_req *f = new_req(r, cls);
    char *type = base_str_dup0(gw_http_req_arena(r), gw_http_req_param(r, "type"));

    if (f == NULL || type == NULL)
        return;
    if (!gw_app_is_clinical_type(type)) {
        if (gw_http_respond_outcome(r, 404, "not-supported", NULL,
                                    "this resource type is not served here") != BASE_OK)
            return;
        return;
    }
    f->type = type;
    f->kind = FHIR_EVENT_SEARCH;
    f->subtype = "search-type";
    run(f);
}

void
gw_app_h_everything(struct gw_http_req *r, void *cls)
{
    struct fed_req *f = new_req(r, cls);

    if (f == NULL)
        return;
    f->person = base_str_dup0(gw_http_req_arena(r), gw_http_req_param(r, "id"));
    f->kind = FHIR_EVENT_OPERATION;
    f->subtype = "$everything";
    if (f->person != NULL)
        run(f);
}
