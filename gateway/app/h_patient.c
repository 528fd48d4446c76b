/*
 * gateway/app/h_patient.c — the regional patient index over HTTP: PDQm
 * (IHE ITI-78) search, PIXm (ITI-83) $ihe-pix, $match (ITI-119), and Patient read.
 */
#include "gateway/app/app_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fhir/base/arena.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
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

/* The slot of an ITI-78 string parameter matched against the members'
 * Patients (the address ones, mothersMaidenName), or NULL. */
static const char **
address_param(struct base_str name, struct gw_mpi_pdq_query *q)
{
    if (base_str_eq_cstr(name, "address"))
        return &q->address;
    if (base_str_eq_cstr(name, "address-city"))
        return &q->address_city;
    if (base_str_eq_cstr(name, "address-state"))
        return &q->address_state;
    if (base_str_eq_cstr(name, "address-postalcode"))
        return &q->address_postalcode;
    if (base_str_eq_cstr(name, "address-country"))
        return &q->address_country;
    if (base_str_eq_cstr(name, "mothersMaidenName"))
        return &q->mothers_maiden_name;
    return NULL;
}

static bool
ascii_only(const char *s)
{
    while (*s != '\0' && (unsigned char)*s < 0x80)
        s++;
    return *s == '\0';
}

/*
 * A name part asked for again (R4 search.html#combining: repeated
 * parameters are ANDed) against the person's one such part: both hold only
 * when one value starts the other (case-insensitively), and then the longer
 * says it all; an :exact value must be that longer one.  Anything else
 * matches nobody.  A Han value and a pinyin one may both hold (the index
 * keeps both spellings), so the second is not applied: a wider answer, never
 * a missed person.
 */
static void
and_name(struct gw_mpi_pdq_query *q, const char **slot, bool *exact, const char *v, bool v_exact)
{
    const char *cur = *slot;
    size_t lc;
    size_t lv;

    if (cur == NULL) {
        *slot = v;
        *exact = v_exact;
        return;
    }
    if (ascii_only(cur) != ascii_only(v))
        return;
    lc = strlen(cur);
    lv = strlen(v);
    if (strncasecmp(cur, v, lc < lv ? lc : lv) != 0 || (lc < lv && *exact) ||
        (lv < lc && v_exact)) {
        q->matches_none = true;
        return;
    }
    if (lv > lc) {
        *slot = v;
        *exact = v_exact;
    } else if (lv == lc) {
        *exact = *exact || v_exact;
    }
}

/*
 * R4 search.html#combining: a bare comma separates alternatives (OR),
 * which the index does not search; "\," is a comma in the value.  For the
 * name, token and date parameters an OR list is refused, never searched as
 * one literal value (that answered "no match" for family=Li,Wang).  The
 * address ones and mothersMaidenName take the value as written: real
 * addresses hold commas and clients rarely escape them.
 */
static int
or_list(struct base_str name, char *v, struct base_err *err)
{
    static const char *const listed[] = {"_id",    "identifier", "name",    "family", "given",
                                         "gender", "birthdate",  "telecom", "phone",  "active"};
    size_t len = name.len;
    char *w = v;
    bool found = false;

    for (size_t i = 0; i < name.len; i++)
        if (name.ptr[i] == ':')
            len = i;
    for (size_t i = 0; !found && i < BASE_ARRAY_LEN(listed); i++)
        found = strlen(listed[i]) == len && memcmp(listed[i], name.ptr, len) == 0;
    if (!found)
        return BASE_OK;
    for (const char *r = v; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] == ',')
            r++;
        else if (r[0] == ',')
            return base_err_set(err, BASE_E_INVALID, "invalid", "query",
                                "a comma-separated list (OR) is not supported for Patient search; "
                                "send one search per value");
        *w++ = *r;
    }
    *w = '\0';
    return BASE_OK;
}

static int
pdq_param(struct base_arena *a, const struct gw_http_param *p, bool lenient,
          struct gw_mpi_pdq_query *q, struct base_err *err)
{
    char *v = base_str_dup0(a, p->value);
    uint64_t n;

    if (v == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    TRY(or_list(p->name, v, err));
    /* name, family and given take :exact (R4 search.html#string) */
    if (base_str_eq_cstr(p->name, "name:exact") || base_str_eq_cstr(p->name, "family:exact") ||
        base_str_eq_cstr(p->name, "given:exact")) {
        bool *exact = p->name.ptr[0] == 'n'   ? &q->name_exact
                      : p->name.ptr[0] == 'f' ? &q->family_exact
                                              : &q->given_exact;
        const char **slot = p->name.ptr[0] == 'n'   ? &q->name
                            : p->name.ptr[0] == 'f' ? &q->family
                                                    : &q->given;

        and_name(q, slot, exact, v, true);
        return BASE_OK;
    }
    if (base_str_eq_cstr(p->name, "_id")) {
        /* IHE ITI-78 (PDQm): the regional person id, as Patient/ID reads it */
        ENSURE(gw_app_id_ok(v), err, BASE_E_INVALID, "value", "_id", "_id must be a FHIR id");
        q->matches_none = q->matches_none || (q->id != NULL && strcmp(q->id, v) != 0);
        q->id = v;
        return BASE_OK;
    }
    if (base_str_eq_cstr(p->name, "telecom") || base_str_eq_cstr(p->name, "phone")) {
        /* token: "phone|138…" or the number alone (ITI-78 telecom) */
        const char *bar = strchr(v, '|');

        q->phone = bar != NULL ? bar + 1 : v;
        ENSURE(q->phone[0] != '\0' && strlen(q->phone) <= 64, err, BASE_E_INVALID, "value",
               "telecom", "telecom must be a phone number");
        return BASE_OK;
    }
    if (base_str_eq_cstr(p->name, "identifier")) {
        struct gw_mpi_resid resid;
        const char *bar = strchr(v, '|');

        /* R4 search.html#token: SYSTEM|VALUE, |VALUE (no system: none of
         * the index's identifiers) or VALUE alone (any system) */
        if (bar == NULL) {
            q->identifier_system = NULL;
            q->identifier_value = v;
        } else if (bar == v) {
            q->identifier_system = "";
            q->identifier_value = v + 1;
        } else {
            ENSURE(split_token(a, v, &q->identifier_system, &q->identifier_value), err,
                   BASE_E_INVALID, "value", "identifier", "identifier must be [SYSTEM|]VALUE");
        }
        ENSURE(q->identifier_value[0] != '\0', err, BASE_E_INVALID, "value", "identifier",
               "identifier must be [SYSTEM|]VALUE");
        /* GB 11643: a resident identity number is checked before use. */
        if (q->identifier_system != NULL && strcmp(q->identifier_system, GW_MPI_RESID_SYSTEM) == 0)
            TRY(gw_mpi_resid_parse(q->identifier_value, strlen(q->identifier_value), 0, &resid,
                                   err));
    } else if (base_str_eq_cstr(p->name, "name")) {
        and_name(q, &q->name, &q->name_exact, v, false);
    } else if (base_str_eq_cstr(p->name, "family")) {
        and_name(q, &q->family, &q->family_exact, v, false);
    } else if (base_str_eq_cstr(p->name, "given")) {
        and_name(q, &q->given, &q->given_exact, v, false);
    } else if (base_str_eq_cstr(p->name, "birthdate")) {
        TRY(gw_mpi_pdq_birthdate(q, v, err));
    } else if (base_str_eq_cstr(p->name, "gender")) {
        enum gw_mpi_sex sex = gw_mpi_norm_gender(v);

        ENSURE(sex != GW_MPI_SEX_UNKNOWN || strcmp(v, "unknown") == 0, err, BASE_E_INVALID, "value",
               "gender", "gender must be male, female, other or unknown");
        /* a person has one gender: two different ones match nobody */
        q->matches_none = q->matches_none || (q->sex != GW_MPI_SEX_UNKNOWN && sex != q->sex);
        q->sex = sex;
    } else if (address_param(p->name, q) != NULL) {
        /* string (R4 search.html#string); a part of an address, not a pattern */
        ENSURE(v[0] != '\0' && strlen(v) <= 128, err, BASE_E_INVALID, "value",
               p->name.ptr[0] == 'm' ? "mothersMaidenName" : "address",
               "the value must be 1 to 128 characters");
        *address_param(p->name, q) = v;
    } else if (base_str_eq_cstr(p->name, "active")) {
        /* ITI-78: every regional person is active (merged ones resolve to
         * the survivor), so false matches nobody */
        ENSURE(strcmp(v, "true") == 0 || strcmp(v, "false") == 0, err, BASE_E_INVALID, "value",
               "active", "active must be true or false");
        q->inactive_only = strcmp(v, "false") == 0;
    } else if (base_str_eq_cstr(p->name, "_count")) {
        /* more than the page allows is that page (R4 search.html#count: a
         * server "cannot return more" than asked, may return fewer) */
        ENSURE(base_str_to_u64(p->value, &n), err, BASE_E_INVALID, "value", "_count",
               "_count must be a number");
        q->count = n > GW_MPI_LIMIT_PDQ_COUNT ? GW_MPI_LIMIT_PDQ_COUNT : (size_t)n;
        /* _count=0 is _summary=count: the total alone (R4 search.html#count) */
        q->count_only = q->count_only || n == 0;
    } else if (base_str_eq_cstr(p->name, "_cursor")) {
        /* the next page starts after this person (the next link's token) */
        ENSURE(gw_app_id_ok(v), err, BASE_E_INVALID, "value", "_cursor",
               "_cursor must be the token of a next link");
        q->after = v;
    } else if (base_str_eq_cstr(p->name, "_summary")) {
        /* true, text and data subset the page (subset_entries) */
        ENSURE(strcmp(v, "count") == 0 || strcmp(v, "false") == 0 || strcmp(v, "true") == 0 ||
                   strcmp(v, "text") == 0 || strcmp(v, "data") == 0,
               err, BASE_E_INVALID, "value", "_summary",
               "_summary must be true, text, data, count or false");
        q->count_only = q->count_only || strcmp(v, "count") == 0;
    } else if (!base_str_eq_cstr(p->name, "_format") && !base_str_eq_cstr(p->name, "_pretty") &&
               !lenient) {
        /* Prefer: handling=lenient (R4 search.html#errors): ignored, as the
         * member registry and the clinical searches do */
        return base_err_set(err, BASE_E_INVALID, "invalid", "query",
                            "unknown search parameter or modifier for Patient");
    }
    return BASE_OK;
}

static int
pdq_query(struct gw_http_req *r, struct gw_mpi_pdq_query *q, struct base_err *err)
{
    bool has_name;

    bool lenient = fhir_search_handling_from_prefer(gw_http_req_header(r, "Prefer"),
                                                    FHIR_SEARCH_STRICT) == FHIR_SEARCH_LENIENT;

    memset(q, 0, sizeof(*q));
    q->count = 20;
    for (size_t i = 0; i < gw_http_req_query_count(r); i++)
        TRY(pdq_param(gw_http_req_arena(r), gw_http_req_query_at(r, i), lenient, q, err));
    has_name = q->name != NULL || q->family != NULL || q->given != NULL;
    /* No browsing the index: an id or identifier, or a name with a birth date. */
    ENSURE(q->id != NULL || q->identifier_value != NULL || (has_name && q->n_birth > 0), err,
           BASE_E_INVALID, "required", "query",
           "search needs _id, identifier, or a name with birthdate");
    return BASE_OK;
}

/* Entities (the Patients returned) for the AuditEvent; a patient caller
 * sees only their own person. */
static size_t
collect_patients(struct base_arena *a, json_t *bundle, const char *only,
                 struct fhir_event_entity **out)
{
    json_t *entries = json_object_get(bundle, "entry");
    size_t n = json_array_size(entries);
    struct fhir_event_entity *ents = BASE_NEW_N(a, struct fhir_event_entity, n + 1);
    size_t k = 0;

    for (size_t i = 0; ents != NULL && i < json_array_size(entries);) {
        json_t *res = json_object_get(json_array_get(entries, i), "resource");
        const char *id = json_string_value(json_object_get(res, "id"));

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

/* The self link, and the next one (after the page's last person) when
 * more follow (R4 search.html#paging). */
static int
pdq_links(const struct gw_app *app, struct gw_http_req *r, json_t *bundle, bool more)
{
    json_t *entries = json_object_get(bundle, "entry");
    json_t *last = json_array_get(entries, json_array_size(entries) - 1);
    const char *last_id =
        json_string_value(json_object_get(json_object_get(last, "resource"), "id"));

    TRY(fhir_bundle_add_link(bundle, "self", gw_app_search_link(app, r, "Patient", NULL)));
    if (more && last_id != NULL)
        TRY(fhir_bundle_add_link(bundle, "next", gw_app_search_link(app, r, "Patient", last_id)));
    return BASE_OK;
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
    int rc;

    if (!admit(app, r, &c, GW_AUTH_SEARCH, FHIR_EVENT_SEARCH, "search-type"))
        return;
    if (pdq_query(r, &q, &err) != BASE_OK) {
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
    if (rc == BASE_OK &&
        (fhir_json_tie(a, bundle) != BASE_OK || pdq_links(app, r, bundle, more) != BASE_OK))
        rc = base_err_set(&err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (rc != BASE_OK) {
        gw_app_deny(app, r, &c, FHIR_EVENT_SEARCH, "search-type", NULL, &err);
        return;
    }
    au.n_entities = collect_patients(
        a, bundle, c.p->role == GW_AUTH_ROLE_PATIENT ? c.p->patient : NULL, &ents);
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
