/*
 * Family History section (C-CDA R2.1 2.15) -> FamilyMemberHistory.
 *
 * One Family History Organizer (4.45) is one relative: its subject/
 * relatedSubject names the relation (HL7 v3 RoleCode FamilyMember), sex,
 * birth and death; each Family History Observation (4.46) under it is one
 * condition, with an Age Observation (4.31) as onsetAge and a Family History
 * Death Observation (4.47, "Dead") as the outcome and contributedToDeath
 * (C-CDA on FHIR's Family History mapping).  Exports that skip the organizer
 * put the subject on the observation itself; it is read there too.
 *
 * Negation: FHIR R4 has no way to say "no family history of X" on one
 * condition (FamilyMemberHistory.condition has no negation, and the
 * resource's dataAbsentReason says the history is unknown, not absent).  A
 * negated observation is therefore never a condition: it is left out with a
 * warning and stays in the attached document.
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

#define TEMPLATE "2.16.840.1.113883.10.20.22.4."
#define ROLECODE "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

/* The relatedSubject of a Family History Organizer or Observation. */
static xmlNodePtr
related_subject(const xmlNode *act)
{
    return cda_child(cda_child(act, "subject"), "relatedSubject");
}

/* Family History Death Observation (4.47) under a Family History
 * Observation: its value (SNOMED 419099009 "Dead"), else NULL. */
static xmlNodePtr
death_observation(struct cda_ctx *c, const xmlNode *obs)
{
    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr o = cda_child(rel, "observation");
        const char *type = cda_attr(c, rel, "typeCode");
        const char *v = cda_attr(c, cda_child(o, "value"), "code");

        if (o == NULL || cda_negated(c, o))
            continue;
        if (cda_has_template(c, o, TEMPLATE "47") ||
            (type != NULL && strcmp(type, "CAUS") == 0 && v != NULL && strcmp(v, "419099009") == 0))
            return o;
    }
    return NULL;
}

/* Relation, name, sex, birth and death of the relative. */
static int
relative(struct cda_ctx *c, json_t *res, const xmlNode *rs)
{
    xmlNodePtr person = cda_child(rs, "subject");
    json_t *rel = cda_concept(c, cda_child(rs, "code"));
    const char *sex = cda_gender(c, cda_child(person, "administrativeGenderCode"));
    const char *name = cda_text(c, cda_child(person, "name"));
    const char *ind = cda_attr(c, cda_sdtc_child(person, "deceasedInd"), "value");
    const char *died = cda_ts(c, cda_sdtc_child(person, "deceasedTime"), true);

    /* relationship is 1..1: a relative the export does not name is a
     * "family member" (v3 RoleCode FAMMEMB) */
    if (rel == NULL)
        rel = adapter_cc(ROLECODE, "FAMMEMB", "family member");
    TRY(adapter_jset(res, "relationship", rel));
    if (!cda_filler_text(name))
        TRY(adapter_jset_str(res, "name", name));
    if (sex != NULL)
        TRY(adapter_jset(res, "sex",
                         adapter_cc("http://hl7.org/fhir/administrative-gender", sex, NULL)));
    TRY(adapter_jset_str(res, "bornDate", cda_ts(c, cda_child(person, "birthTime"), true)));
    if (died != NULL)
        return adapter_jset_str(res, "deceasedDate", died);
    if (ind != NULL && (strcmp(ind, "true") == 0 || strcmp(ind, "false") == 0))
        return adapter_jset(res, "deceasedBoolean", json_boolean(strcmp(ind, "true") == 0));
    return BASE_OK;
}

/* One Family History Observation -> condition[] (true in *added). */
static int
add_condition(struct cda_ctx *c, json_t *res, const xmlNode *obs, bool *added)
{
    json_t *code = cda_concept(c, cda_child(obs, "value"));
    xmlNodePtr death = death_observation(c, obs);
    json_t *cond;
    json_t *age;

    if (code == NULL || cda_says_nothing(code)) {
        json_decref(code);
        return cda_warn(c, obs, "required",
                        "family history observation names no condition; "
                        "skipped");
    }
    /* "no known problems" of the relative (HL7 example: mother alive, a
     * negated generic Problem) is a finding of its own, as for the patient */
    if (cda_no_known_problems(c, obs)) {
        json_decref(code);
        code =
            adapter_cc("http://snomed.info/sct", "160245001", "No current problems or disability");
        if (code == NULL)
            return BASE_E_NOMEM;
    } else if (cda_negated(c, obs)) {
        json_decref(code);
        return cda_warn(c, obs, "not-supported",
                        "negated family history observation (no history of a condition): FHIR "
                        "R4 cannot say that on a condition; kept in the attached document");
    }
    cond = json_object();
    if (cond == NULL) {
        json_decref(code);
        return BASE_E_NOMEM;
    }
    if (adapter_jset(cond, "code", code) != BASE_OK) { /* consumes code */
        json_decref(cond);
        return BASE_E_NOMEM;
    }
    TRY(adapter_jpush(res, "condition", cond));
    *added = true;
    age = cda_onset_age(c, obs);
    if (age != NULL)
        TRY(adapter_jset(cond, "onsetAge", age));
    if (death == NULL)
        return BASE_OK;
    json_t *outcome = cda_concept(c, cda_child(death, "value"));
    if (outcome != NULL)
        TRY(adapter_jset(cond, "outcome", outcome));
    TRY(adapter_jset(cond, "contributedToDeath", json_true()));
    /* the relative died; a date from the subject wins */
    if (json_object_get(res, "deceasedDate") == NULL)
        TRY(adapter_jset(res, "deceasedBoolean", json_true()));
    return BASE_OK;
}

static int
family_body(struct cda_ctx *c, json_t *res, xmlNodePtr act, bool *any)
{
    const char *st = cda_attr(c, cda_child(act, "statusCode"), "code");

    /* FamilyMemberHistory.status: completed, or entered-in-error for a
     * nullified organizer (HL7 ActStatus) */
    TRY(adapter_jset_str(res, "status",
                         st != NULL && strcmp(st, "nullified") == 0 ? "entered-in-error"
                                                                    : "completed"));
    TRY(adapter_jset(res, "patient", adapter_reference(c->patient, NULL)));
    TRY(relative(c, res, related_subject(act)));
    if (cda_is(act, "observation"))
        return add_condition(c, res, act, any);
    CDA_EACH(comp, act, "component")
    {
        xmlNodePtr obs = cda_child(comp, "observation");

        if (obs != NULL && cda_attr(c, obs, "nullFlavor") == NULL)
            TRY(add_condition(c, res, obs, any));
    }
    return BASE_OK;
}

int
cda_map_family_history(struct cda_ctx *c, xmlNodePtr act)
{
    json_t *res;
    bool have;
    bool any = false;

    /* WS/T 500 documents write the family history as one text data element
     * (家族史 DE02.10.103.00): no relative, no coded condition; it stays in
     * the attached original. */
    if (cda_wst_element(c, act) != NULL)
        return BASE_OK;
    TRY(cda_need_patient(c, act, &have));
    if (!have)
        return BASE_OK;
    res = cda_resource(c, "FamilyMemberHistory");
    if (res == NULL)
        return cda_nomem(c);
    if (family_body(c, res, act, &any) != BASE_OK) {
        json_decref(res);
        return c->err->rc != 0 ? c->err->rc : cda_nomem(c);
    }
    /* A relative with nothing said of them (every observation negated or
     * empty) is no family history. */
    if (!any && json_object_get(res, "deceasedBoolean") == NULL &&
        json_object_get(res, "deceasedDate") == NULL) {
        json_decref(res);
        return cda_warn(c, act, "informational",
                        "family history entry records no condition of the relative; no "
                        "FamilyMemberHistory");
    }
    return cda_emit(c, res, act, "FamilyMemberHistory", NULL);
}
