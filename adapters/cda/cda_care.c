/*
 * Goals and care teams (C-CDA on FHIR's Goal and CareTeam mappings):
 *   Goal Observation (C-CDA R2.1 4.121, moodCode GOL) -> Goal
 *   Care Team Organizer (C-CDA R2.1 Companion Guide / C-CDA 2.2, 4.500)
 *     and its Care Team Member Acts (4.500.1)        -> CareTeam
 *   documentationOf/serviceEvent/performer (CDA R2 header Performer1: the
 *     clinicians of the service the document summarises) -> CareTeam
 *
 * The adapter's store keeps any resource type (conditional updates on the
 * identifier, docs/design/store.md); the facade serves the types it lists
 * (docs/design/converters.md says which).
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

#define TEMPLATE "2.16.840.1.113883.10.20.22.4."
#define SCT_OID  "2.16.840.1.113883.6.96"

/* ----------------------------------------------------------------- Goal -- */

/* Act statusCode -> Goal.lifecycleStatus (R4 goal-status, required). */
static const struct cda_pair goal_status[] = {
    {"active", "active"},
    {"completed", "completed"},
    {"cancelled", "cancelled"},
    {"aborted", "cancelled"},
    {"suspended", "on-hold"},
    {"new", "proposed"},
    {"nullified", "entered-in-error"},
};

/* Priority Preference (4.143) values, SNOMED CT -> R4 goal-priority. */
static const struct cda_pair goal_priority[] = {
    {"394849002", "high-priority"},   /* High priority */
    {"394848005", "medium-priority"}, /* Normal priority */
    {"394847000", "low-priority"},    /* Low priority */
};

/* Observation value[x] as cda_set_value writes it -> Goal.target.detail[x]
 * (R4 allows Quantity, Range, CodeableConcept, string, boolean, integer,
 * Ratio; a time or a null flavor is no detail). */
static const struct cda_pair goal_detail[] = {
    {"valueQuantity", "detailQuantity"},
    {"valueRange", "detailRange"},
    {"valueCodeableConcept", "detailCodeableConcept"},
    {"valueString", "detailString"},
    {"valueBoolean", "detailBoolean"},
    {"valueInteger", "detailInteger"},
    {"valueRatio", "detailRatio"},
};

static int
goal_priority_of(struct cda_ctx *c, json_t *res, const xmlNode *obs)
{
    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr o = cda_child(rel, "observation");
        xmlNodePtr v = cda_child(o, "value");
        const char *p = CDA_LOOKUP(goal_priority, cda_attr(c, v, "code"));
        const char *sys = cda_attr(c, v, "codeSystem");

        if (p == NULL || sys == NULL || strcmp(sys, SCT_OID) != 0)
            continue;
        return adapter_jset(
            res, "priority",
            adapter_cc("http://terminology.hl7.org/CodeSystem/goal-priority", p, NULL));
    }
    return BASE_OK;
}

/* The target: the value as detail (measured by the goal's code; gol-1
 * wants a measure wherever there is a detail) and effectiveTime/high as
 * the due date. */
static int
goal_target(struct cda_ctx *c, json_t *res, const xmlNode *obs, const json_t *code)
{
    const char *due = cda_ts(c, cda_child(cda_child(obs, "effectiveTime"), "high"), true);
    json_t *value = json_object();
    json_t *t = json_object();
    int rc = BASE_E_NOMEM;

    if (value == NULL || t == NULL)
        goto out;
    if (code != NULL && cda_child(obs, "value") != NULL) {
        if (cda_set_value(c, value, cda_child(obs, "value")) != BASE_OK)
            goto out;
        for (size_t i = 0; i < BASE_ARRAY_LEN(goal_detail); i++) {
            json_t *v = json_object_get(value, goal_detail[i].from);

            if (v != NULL && json_object_set(t, goal_detail[i].to, v) != 0)
                goto out;
        }
    }
    if (json_object_size(t) > 0 && adapter_jset(t, "measure", json_deep_copy(code)) != BASE_OK)
        goto out;
    if (adapter_jset_str(t, "dueDate", due) != BASE_OK)
        goto out;
    rc = json_object_size(t) > 0 ? adapter_jpush(res, "target", json_incref(t)) : BASE_OK;
out:
    json_decref(value);
    json_decref(t);
    return rc;
}

/* Who set the goal: the patient (author coded ONESELF, C-CDA's "patient
 * authored" pattern) or a clinician. */
static int
goal_expressed_by(struct cda_ctx *c, json_t *res, const xmlNode *obs)
{
    xmlNodePtr aa = cda_child(cda_child(obs, "author"), "assignedAuthor");
    const char *role = cda_attr(c, cda_child(aa, "code"), "code");
    const char *ref = NULL;

    if (aa == NULL)
        return BASE_OK;
    if (role != NULL && strcmp(role, "ONESELF") == 0)
        ref = c->patient;
    else
        TRY(cda_map_practitioner(c, aa, &ref));
    return ref != NULL ? adapter_jset(res, "expressedBy", adapter_reference(ref, NULL)) : BASE_OK;
}

/* Goal.description (1..1): the goal's code, or its coded value when the
 * code is null-flavored; the narrative names it when nothing is coded. */
static json_t *
goal_description(struct cda_ctx *c, const xmlNode *obs, json_t **measure)
{
    json_t *code = cda_concept(c, cda_child(obs, "code"));
    const char *text = cda_narrative(c, cda_child(obs, "text"));

    *measure = NULL;
    if (code != NULL) {
        json_t *desc = json_deep_copy(code);

        *measure = code;
        /* the narrative says what is wanted ("Lose weight to 150 lb"),
         * the code only what is measured (Body weight) */
        if (desc != NULL && text != NULL && text[0] != '\0' &&
            json_object_get(desc, "text") == NULL &&
            adapter_jset_str(desc, "text", text) != BASE_OK) {
            json_decref(desc);
            return NULL;
        }
        return desc;
    }
    code = cda_concept(c, cda_child(obs, "value"));
    if (code != NULL)
        return code;
    if (text != NULL && text[0] != '\0')
        return json_pack("{s:s}", "text", text);
    return NULL;
}

static int
goal_body(struct cda_ctx *c, json_t *res, xmlNodePtr obs, json_t *desc, const json_t *measure)
{
    const char *st = CDA_LOOKUP(goal_status, cda_attr(c, cda_child(obs, "statusCode"), "code"));
    xmlNodePtr et = cda_child(obs, "effectiveTime");
    const char *start = cda_ts(c, et, true);

    TRY(adapter_jset(res, "description", desc));
    TRY(adapter_jset_str(res, "lifecycleStatus", st != NULL ? st : "active"));
    TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    if (start == NULL)
        start = cda_ts(c, cda_child(et, "low"), true);
    TRY(adapter_jset_str(res, "startDate", start));
    TRY(goal_target(c, res, obs, measure));
    TRY(goal_priority_of(c, res, obs));
    return goal_expressed_by(c, res, obs);
}

int
cda_map_goal(struct cda_ctx *c, xmlNodePtr obs)
{
    const char *mood = cda_attr(c, obs, "moodCode");
    json_t *measure = NULL;
    json_t *desc;
    json_t *res;
    bool have;
    int rc;

    if (mood != NULL && strcmp(mood, "GOL") != 0)
        return cda_warn(c, obs, "not-supported",
                        "observation in the Goals section is not a goal (moodCode is not GOL); "
                        "kept in the attached document");
    if (cda_negated(c, obs))
        return cda_warn(c, obs, "not-supported",
                        "negated goal observation; kept in the attached document");
    TRY(cda_need_patient(c, obs, &have));
    if (!have)
        return BASE_OK;
    desc = goal_description(c, obs, &measure);
    if (desc == NULL || cda_says_nothing(desc)) {
        json_decref(desc);
        json_decref(measure);
        return desc == NULL ? cda_warn(c, obs, "required", "goal has no code or text; skipped")
                            : cda_warn_nothing(c, obs);
    }
    res = cda_resource(c, "Goal");
    if (res == NULL) {
        json_decref(desc);
        json_decref(measure);
        return cda_nomem(c);
    }
    rc = goal_body(c, res, obs, desc, measure);
    json_decref(measure);
    if (rc != BASE_OK) {
        json_decref(res);
        return c->err->rc != 0 ? c->err->rc : cda_nomem(c);
    }
    return cda_emit(c, res, obs, "Goal", NULL);
}

/* ------------------------------------------------------------- CareTeam -- */

/* Care Team Organizer statusCode -> R4 care-team-status. */
static const struct cda_pair team_status[] = {
    {"active", "active"},
    {"completed", "inactive"},
    {"suspended", "suspended"},
    {"aborted", "inactive"},
    {"cancelled", "inactive"},
    {"new", "proposed"},
    {"nullified", "entered-in-error"},
};

/* One performer (assignedEntity) -> participant: the person, else the
 * organization, in the role its functionCode (CDA R2 header; sdtc: in
 * entries) or, failing that, its own code names. */
static int
add_member(struct cda_ctx *c, json_t *team, const xmlNode *performer, const xmlNode *when)
{
    xmlNodePtr ae = cda_child(performer, "assignedEntity");
    xmlNodePtr fn = cda_child(performer, "functionCode");
    const char *ref = NULL;
    const char *org = NULL;
    json_t *p;
    json_t *role;
    json_t *period;

    if (ae == NULL || cda_attr(c, ae, "nullFlavor") != NULL)
        return BASE_OK;
    TRY(cda_map_practitioner(c, ae, &ref));
    TRY(cda_map_organization(c, cda_child(ae, "representedOrganization"), &org));
    if (ref == NULL) { /* an organization is the member */
        ref = org;
        org = NULL;
    }
    if (ref == NULL)
        return BASE_OK; /* no one to name */
    if (fn == NULL)
        fn = cda_sdtc_child(performer, "functionCode");
    role = cda_concept(c, fn);
    if (role == NULL)
        role = cda_concept(c, cda_child(ae, "code"));
    p = json_pack("{s:o}", "member", adapter_reference(ref, NULL));
    if (p == NULL) {
        json_decref(role);
        return BASE_E_NOMEM;
    }
    if (role != NULL && adapter_jpush(p, "role", role) != BASE_OK) {
        json_decref(p);
        return BASE_E_NOMEM;
    }
    /* whom the clinician acts for (ctm-1: only a Practitioner member has one) */
    if (org != NULL && adapter_jset(p, "onBehalfOf", adapter_reference(org, NULL)) != BASE_OK) {
        json_decref(p);
        return BASE_E_NOMEM;
    }
    period = cda_period(c, when);
    if (period != NULL && adapter_jset(p, "period", period) != BASE_OK) {
        json_decref(p);
        return BASE_E_NOMEM;
    }
    return adapter_jpush(team, "participant", p);
}

/* The common part of both care teams, and its emission when anyone is
 * in it (a CareTeam without participants says nothing). */
static int
emit_team(struct cda_ctx *c, json_t *res, const xmlNode *act, const xmlNode *time)
{
    json_t *period = cda_period(c, time);

    if (json_array_size(json_object_get(res, "participant")) == 0) {
        json_decref(period);
        json_decref(res);
        return cda_warn(c, act, "informational", "care team names no member; no CareTeam");
    }
    if (adapter_jset(res, "subject", adapter_reference(c->patient, NULL)) != BASE_OK ||
        (period != NULL && adapter_jset(res, "period", period) != BASE_OK)) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, act, "CareTeam", NULL);
}

static int
team_body(struct cda_ctx *c, json_t *res, const xmlNode *org)
{
    const char *st = CDA_LOOKUP(team_status, cda_attr(c, cda_child(org, "statusCode"), "code"));
    const char *name = cda_narrative(c, cda_child(cda_child(org, "code"), "originalText"));

    TRY(adapter_jset_str(res, "status", st));
    if (name != NULL && !cda_filler_text(name))
        TRY(adapter_jset_str(res, "name", name));
    CDA_EACH(perf, org, "performer") /* the team's lead */
    TRY(add_member(c, res, perf, NULL));
    CDA_EACH(comp, org, "component")
    {
        xmlNodePtr act = cda_child(comp, "act");
        xmlNodePtr obs = cda_child(comp, "observation");

        /* Care Team Type Observation (4.500.2) -> category */
        if (obs != NULL && cda_has_template(c, obs, TEMPLATE "500.2")) {
            json_t *cat = cda_concept(c, cda_child(obs, "value"));

            if (cat != NULL)
                TRY(adapter_jpush(res, "category", cat));
        }
        if (act == NULL || cda_negated(c, act) || cda_attr(c, act, "nullFlavor") != NULL)
            continue;
        CDA_EACH(perf, act, "performer")
        TRY(add_member(c, res, perf, cda_child(act, "effectiveTime")));
    }
    return BASE_OK;
}

int
cda_map_care_team(struct cda_ctx *c, xmlNodePtr organizer)
{
    json_t *res;
    bool have;

    if (!cda_is(organizer, "organizer"))
        return BASE_OK;
    TRY(cda_need_patient(c, organizer, &have));
    if (!have)
        return BASE_OK;
    res = cda_resource(c, "CareTeam");
    if (res == NULL)
        return cda_nomem(c);
    if (team_body(c, res, organizer) != BASE_OK) {
        json_decref(res);
        return c->err->rc != 0 ? c->err->rc : cda_nomem(c);
    }
    return emit_team(c, res, organizer, cda_child(organizer, "effectiveTime"));
}

int
cda_map_service_event_team(struct cda_ctx *c, xmlNodePtr root)
{
    CDA_EACH(doc_of, root, "documentationOf")
    {
        xmlNodePtr se = cda_child(doc_of, "serviceEvent");
        json_t *res;

        if (se == NULL || cda_child(se, "performer") == NULL || c->patient == NULL)
            continue;
        res = cda_resource(c, "CareTeam");
        if (res == NULL)
            return cda_nomem(c);
        CDA_EACH(perf, se, "performer")
        {
            if (add_member(c, res, perf, cda_child(perf, "time")) != BASE_OK) {
                json_decref(res);
                return c->err->rc != 0 ? c->err->rc : cda_nomem(c);
            }
        }
        TRY(emit_team(c, res, se, cda_child(se, "effectiveTime")));
    }
    return BASE_OK;
}
