/*
 * Problems and diagnoses -> Condition; allergies -> AllergyIntolerance
 * (C-CDA R2.1 Problem Observation 4.4, Allergy - Intolerance Observation
 * 4.7 and their status, reaction, severity and criticality observations;
 * value mappings from C-CDA on FHIR).
 */
#include <string.h>
#include <strings.h>

#include "adapters/cda/cda_int.h"
#include "fhir/json/fhir_json.h"

#define SCT        "http://snomed.info/sct"
#define TEMPLATE   "2.16.840.1.113883.10.20.22.4."
#define STATUS_OBS "33999-4" /* LOINC "Status" */

/* entryRelationship/observation of `act` with templateId `tmpl` or, when
 * tmpl is NULL or absent, with code `code`. */
static xmlNodePtr
related_obs(struct cda_ctx *c, const xmlNode *act, const char *tmpl, const char *code)
{
    CDA_EACH(rel, act, "entryRelationship")
    {
        xmlNodePtr o = cda_child(rel, "observation");
        const char *oc = cda_attr(c, cda_child(o, "code"), "code");

        if (o == NULL)
            continue;
        if ((tmpl != NULL && cda_has_template(c, o, tmpl)) ||
            (code != NULL && oc != NULL && strcmp(oc, code) == 0))
            return o;
    }
    return NULL;
}

static const char *
value_code(struct cda_ctx *c, const xmlNode *obs)
{
    return cda_attr(c, cda_child(obs, "value"), "code");
}

static json_t *
status_cc(const char *system, const char *code)
{
    return adapter_cc(system, code, NULL);
}

/* Author time of the act or of its wrapper. */
static const char *
recorded(struct cda_ctx *c, const xmlNode *act, const xmlNode *wrapper)
{
    const char *t = cda_ts(c, cda_child(cda_child(act, "author"), "time"), false);

    return t != NULL ? t : cda_ts(c, cda_child(cda_child(wrapper, "author"), "time"), false);
}

/* The coded value, else a CodeableConcept with the text of an ST value. */
static json_t *
value_concept(struct cda_ctx *c, const xmlNode *obs)
{
    xmlNodePtr v = cda_child(obs, "value");
    json_t *cc = cda_concept(c, v);
    const char *t;

    if (cc != NULL || v == NULL)
        return cc;
    t = cda_text(c, v);
    if (t[0] == '\0')
        return NULL;
    return json_pack("{s:s}", "text", t);
}

/* The value, else the observation's own text: exports that have no code
 * send <value xsi:type="CD" nullFlavor="OTH"/> and put the problem or the
 * reaction in <text> ("rash" + a reference into the narrative, Greenway).
 * C-CDA: the text references the narrative that names it. */
static json_t *
value_or_text(struct cda_ctx *c, const xmlNode *obs)
{
    json_t *cc = value_concept(c, obs);
    const char *t;

    if (cc != NULL)
        return cc;
    t = cda_narrative(c, cda_child(obs, "text"));
    if (t == NULL || t[0] == '\0')
        return NULL;
    return json_pack("{s:s}", "text", t);
}

/* statusCode "nullified" (HL7 ActStatus: entered in error) on the statement
 * or on its concern act.  FHIR says so with verificationStatus
 * entered-in-error, and then no clinicalStatus (R4 con-5, ait-2): an
 * allergy recorded by mistake was an active allergy before. */
static bool
nullified(struct cda_ctx *c, const xmlNode *obs, const xmlNode *concern)
{
    const char *s = cda_attr(c, cda_child(obs, "statusCode"), "code");
    const char *w = cda_attr(c, cda_child(concern, "statusCode"), "code");

    /* ...or on the act it belongs to (an Encounter Activity's diagnoses) */
    return c->within_nullified || (s != NULL && strcmp(s, "nullified") == 0) ||
           (w != NULL && strcmp(w, "nullified") == 0);
}

static int
entered_in_error(json_t *res, const char *system)
{
    (void)json_object_del(res, "clinicalStatus");
    return adapter_jset(res, "verificationStatus", status_cc(system, "entered-in-error"));
}

/* ---------------------------------------------------------------- Condition */

static const struct cda_pair problem_status[] = {
    {"55561003", "active"}, {"73425007", "inactive"}, {"413322009", "resolved"}};

/* Concern act (4.3, 4.30) statusCode, when the problem or allergy itself
 * has no status: a concern that is completed is no longer current. */
static const struct cda_pair concern_status[] = {{"active", "active"},
                                                 {"completed", "resolved"},
                                                 {"suspended", "inactive"},
                                                 {"aborted", "inactive"}};

static bool
is_concern(struct cda_ctx *c, const xmlNode *act)
{
    const char *code = cda_attr(c, cda_child(act, "code"), "code");

    return cda_has_template(c, act, TEMPLATE "3") || (code != NULL && strcmp(code, "CONC") == 0);
}

/* A negated Problem Observation whose value is the generic "Problem"
 * (55607006), "Disease", "Clinical finding" or "Diagnosis": C-CDA's "no
 * known problems" (HL7 example "No Known Problems").  It is not a refuted
 * condition named "Problem" but SNOMED 160245001 "No current problems or
 * disability", as C-CDA on FHIR maps it. */
bool
cda_no_known_problems(struct cda_ctx *c, const xmlNode *obs)
{
    static const char *const generic[] = {"55607006", "64572001", "404684003", "282291009"};
    xmlNodePtr v = cda_child(obs, "value");
    const char *code = cda_attr(c, v, "code");
    const char *sys = cda_attr(c, v, "codeSystem");

    if (!cda_negated(c, obs) || code == NULL || sys == NULL ||
        strcmp(sys, "2.16.840.1.113883.6.96") != 0)
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(generic); i++) {
        if (strcmp(code, generic[i]) == 0)
            return true;
    }
    return false;
}

static int
condition_status(struct cda_ctx *c, json_t *res, const xmlNode *obs, const xmlNode *concern,
                 bool abated)
{
    xmlNodePtr st = related_obs(c, obs, TEMPLATE "6", STATUS_OBS);
    const char *s = CDA_LOOKUP(problem_status, value_code(c, st));

    if (s == NULL && !abated && concern != NULL && is_concern(c, concern))
        s = CDA_LOOKUP(concern_status, cda_attr(c, cda_child(concern, "statusCode"), "code"));
    if (s == NULL)
        s = abated ? "resolved" : "active";
    /* FHIR R4 con-4: an abated condition is inactive, resolved or in remission */
    if (abated && strcmp(s, "active") == 0)
        s = "resolved";
    TRY(adapter_jset(res, "clinicalStatus",
                     status_cc("http://terminology.hl7.org/CodeSystem/condition-clinical", s)));
    if (cda_negated(c, obs) && !cda_no_known_problems(c, obs))
        TRY(adapter_jset(
            res, "verificationStatus",
            status_cc("http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted")));
    if (nullified(c, obs, concern))
        return entered_in_error(res, "http://terminology.hl7.org/CodeSystem/condition-ver-status");
    return BASE_OK;
}

/* Age Observation (C-CDA 4.31, SNOMED 445518008 "Age at onset") -> onsetAge
 * when the problem has no onset date (NIST samples send both).  FHIR age-1:
 * a positive value in a UCUM unit of time, else nothing. */
json_t *
cda_onset_age(struct cda_ctx *c, const xmlNode *obs)
{
    static const char *const units[] = {"a", "mo", "wk", "d", "h", "min"};
    xmlNodePtr age = related_obs(c, obs, TEMPLATE "31", "445518008");
    json_t *q = cda_quantity(c, cda_child(age, "value"));
    const char *code = q != NULL ? json_string_value(json_object_get(q, "code")) : NULL;
    json_t *v = q != NULL ? json_object_get(q, "value") : NULL;

    for (size_t i = 0; code != NULL && i < BASE_ARRAY_LEN(units); i++) {
        if (strcmp(code, units[i]) == 0 && fhir_json_number_double(v) > 0)
            return q;
    }
    if (q != NULL)
        (void)cda_warn(c, age, "value",
                       "age at onset is not a positive age in years, months, "
                       "weeks, days, hours or minutes; skipped");
    json_decref(q);
    return NULL;
}

static int
condition_body(struct cda_ctx *c, json_t *res, xmlNodePtr obs, xmlNodePtr concern,
               enum cda_kind kind, json_t *code)
{
    xmlNodePtr time = cda_child(obs, "effectiveTime");
    const char *onset = cda_ts(c, time, false);
    const char *abate = cda_ts(c, cda_child(time, "high"), false);
    const char *diagnosed = NULL;

    /* code first: it is consumed even when a later step fails */
    TRY(adapter_jset(res, "code", code));
    if (onset == NULL)
        onset = cda_ts(c, cda_child(time, "low"), false);
    /* WS/T 500's effectiveTime on a diagnosis element is the date of the
     * diagnosis (初步诊断日期, 修正诊断日期, DE05.01.058.00), not when the
     * disease began: the Condition was recorded then */
    if (cda_wst_element(c, obs) != NULL) {
        diagnosed = onset;
        onset = NULL;
    }
    TRY(condition_status(c, res, obs, concern, abate != NULL));
    if (kind == CDA_CONCERN)
        /* C-CDA on FHIR / US Core: health concerns have their own category
         * (FHIR R4's Condition.category binding is extensible) */
        TRY(adapter_jpush(res, "category",
                          status_cc("http://hl7.org/fhir/us/core/CodeSystem/condition-category",
                                    "health-concern")));
    else
        TRY(adapter_jpush(
            res, "category",
            status_cc("http://terminology.hl7.org/CodeSystem/condition-category",
                      kind == CDA_DIAGNOSIS ? "encounter-diagnosis" : "problem-list-item")));
    TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    if (kind == CDA_DIAGNOSIS && c->encounter != NULL)
        TRY(adapter_jset(res, "encounter", adapter_reference(c->encounter, NULL)));
    TRY(adapter_jset_str(res, "onsetDateTime", onset));
    json_t *age = onset == NULL ? cda_onset_age(c, obs) : NULL;
    /* ...or on the act around it, next to the problem (Practice Fusion) */
    if (age == NULL && onset == NULL && concern != NULL)
        age = cda_onset_age(c, concern);
    if (age != NULL)
        TRY(adapter_jset(res, "onsetAge", age));
    TRY(adapter_jset_str(res, "abatementDateTime", abate));
    TRY(cda_body_sites(c, res, obs));
    const char *rec = recorded(c, obs, concern);
    return adapter_jset_str(res, "recordedDate", rec != NULL ? rec : diagnosed);
}

/* A Condition of `code` (consumed) for `obs`, keyed by the ids of `key_at`. */
static int
emit_condition(struct cda_ctx *c, json_t *code, xmlNodePtr obs, xmlNodePtr concern,
               enum cda_kind kind, const xmlNode *key_at)
{
    json_t *res = cda_resource(c, "Condition");

    if (res == NULL) {
        json_decref(code);
        return cda_nomem(c);
    }
    if (condition_body(c, res, obs, concern, kind, code) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, key_at, "Condition", NULL);
}

/* WS/T 500 sections list data elements, one observation each: a diagnosis
 * section also carries the admission state, dates and orders as text.
 * Only these elements name a diagnosis: */
static const char *const wst_diagnosis_elements[] = {
    "DE05.01.024.00", /* 诊断代码 (ICD-10) */
    "DE05.01.025.00", /* 诊断名称 */
    "DE05.10.130.00", /* 中医病名 / 证候代码 (GB/T 15657) */
    "DE05.10.172.00", /* 中医病名 / 证候名称 */
    /* 既往常见疾病种类代码 (健康档案, 转诊记录: a past disease from a code
     * table, 1 高血压, 2 糖尿病...): dropped as "not a diagnosis" */
    "DE02.10.021.00",
};

static bool
is_wst_diagnosis(const char *element)
{
    for (size_t i = 0; element != NULL && i < BASE_ARRAY_LEN(wst_diagnosis_elements); i++) {
        if (strcmp(element, wst_diagnosis_elements[i]) == 0)
            return true;
    }
    return false;
}

/* Whether a WS/T 500 diagnosis observation names its code itself: a coded
 * value, or a diagnosis element among its COMP observations. */
static bool
wst_has_code(struct cda_ctx *c, const xmlNode *obs)
{
    const char *code = cda_attr(c, cda_child(obs, "value"), "code");

    if (code != NULL && !cda_blank(code))
        return true;
    CDA_EACH(rel, obs, "entryRelationship")
    {
        if (is_wst_diagnosis(cda_wst_element(c, cda_child(rel, "observation"))))
            return true;
    }
    return false;
}

/*
 * WS/T 500 generators (会诊记录 C0045, 转科记录, 病程记录 templates) also
 * write a diagnosis as two entries side by side: its name (诊断名称
 * DE05.01.025.00, 中医病名/证候名称 DE05.10.172.00, an ST) and next its code
 * (DE05.01.024.00, DE05.10.130.00, a CD), each a data element of its own
 * instead of the code as the name's COMP observation.  Each became a
 * Condition: one diagnosis twice, once without its code.  The code entry
 * that follows a name entry without a code is that name's code: the
 * observation carrying it, or NULL.
 */
static xmlNodePtr
wst_split_code(struct cda_ctx *c, const xmlNode *name_obs)
{
    const char *e = cda_wst_element(c, name_obs);
    const char *want;
    xmlNodePtr next;
    xmlNodePtr code_obs;

    if (e == NULL || name_obs->parent == NULL || !cda_is(name_obs->parent, "entry"))
        return NULL;
    if (strcmp(e, "DE05.01.025.00") == 0)
        want = "DE05.01.024.00";
    else if (strcmp(e, "DE05.10.172.00") == 0)
        want = "DE05.10.130.00";
    else
        return NULL;
    if (wst_has_code(c, name_obs))
        return NULL;
    next = cda_next(name_obs->parent, "entry");
    code_obs = next != NULL ? cda_child(next, "observation") : NULL;
    e = cda_wst_element(c, code_obs);
    if (e == NULL || strcmp(e, want) != 0 || cda_child(code_obs, "entryRelationship") != NULL)
        return NULL;
    return code_obs;
}

/* The code entry `obs` when the name entry before it took it. */
static bool
wst_split_taken(struct cda_ctx *c, const xmlNode *obs)
{
    const xmlNode *prev;

    if (obs->parent == NULL || !cda_is(obs->parent, "entry"))
        return false;
    for (prev = obs->parent->prev; prev != NULL && !cda_is(prev, "entry"); prev = prev->prev)
        ;
    return prev != NULL && wst_split_code(c, cda_child(prev, "observation")) == obs;
}

/* A WS/T 500 diagnosis: the name (ST) on the observation, its code (CD) on
 * the observation itself, on a COMP entryRelationship observation, or on
 * the code entry next to it (wst_split_code). */
static json_t *
wst_diagnosis(struct cda_ctx *c, const xmlNode *obs)
{
    json_t *cc = cda_concept(c, cda_child(obs, "value"));
    const xmlNode *split = cc == NULL ? wst_split_code(c, obs) : NULL;
    const char *name;

    if (split != NULL)
        cc = cda_concept(c, cda_child(split, "value"));

    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr inner = cda_child(rel, "observation");

        if (cc != NULL)
            break;
        if (is_wst_diagnosis(cda_wst_element(c, inner)))
            cc = cda_concept(c, cda_child(inner, "value"));
    }
    name = cda_text(c, cda_child(obs, "value"));
    if (cda_filler_text(name)) /* "null", 无, a generator's "诊断名称" */
        name = "";
    if (cc == NULL)
        return name[0] != '\0' ? json_pack("{s:s}", "text", name) : NULL;
    if (name[0] != '\0' && json_object_get(cc, "text") == NULL &&
        adapter_jset_str(cc, "text", name) != BASE_OK) {
        json_decref(cc);
        return NULL;
    }
    return cc;
}

/* A WS/T 500 TCM diagnosis (入院记录, 出院记录: 中医病名名称 DE05.10.172.00
 * with COMP 病名代码, 证候名称, 证候代码) is two: the disease (病) and the
 * syndrome (证) are diagnosed together, each with its GB/T 15657 code.
 * The syndrome is the second name/code pair of the COMP observations; it
 * was dropped.  *code gets it (NULL when there is none), *at the
 * observation that carries it. */
static json_t *
wst_syndrome(struct cda_ctx *c, const xmlNode *obs, const xmlNode **at)
{
    size_t codes = 0;
    size_t names = 0;
    const char *name = "";
    json_t *cc = NULL;

    *at = NULL;
    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr inner = cda_child(rel, "observation");
        const char *e = cda_wst_element(c, inner);

        if (e == NULL)
            continue;
        if (strcmp(e, "DE05.10.130.00") == 0 && ++codes == 2 && cc == NULL) {
            cc = cda_concept(c, cda_child(inner, "value"));
            *at = *at != NULL ? *at : inner;
        } else if (strcmp(e, "DE05.10.172.00") == 0 && ++names == 1) {
            name = cda_text(c, cda_child(inner, "value"));
            *at = inner;
        }
    }
    if (cda_filler_text(name))
        name = "";
    if (cc == NULL)
        return name[0] != '\0' ? json_pack("{s:s}", "text", name) : NULL;
    if (name[0] != '\0' && json_object_get(cc, "text") == NULL &&
        adapter_jset_str(cc, "text", name) != BASE_OK) {
        json_decref(cc);
        return NULL;
    }
    return cc;
}

static int
map_syndrome(struct cda_ctx *c, xmlNodePtr obs, xmlNodePtr concern, enum cda_kind kind)
{
    const xmlNode *at = NULL;
    json_t *code = wst_syndrome(c, obs, &at);

    if (code == NULL)
        return BASE_OK;
    return emit_condition(c, code, obs, concern, kind, at);
}

/* A Risk Concern Act (C-CDA 4.136) holds what the patient is at risk of
 * (HL7 Care Plan example: "Finding of at risk" with the value Malignant
 * neoplastic disease).  A Condition of that value would say the patient
 * has the disease; FHIR R4 has no "at risk of" Condition, so it stays in
 * the attached document, with a warning. */
static bool
is_risk(struct cda_ctx *c, const xmlNode *obs, const xmlNode *concern)
{
    const char *code = cda_attr(c, cda_child(obs, "code"), "code");

    return cda_has_template(c, concern, TEMPLATE "136") ||
           (code != NULL && strcmp(code, "281694009") == 0);
}

/* Observations a concern or diagnosis act carries next to its Problem
 * Observations that say something about them, not a problem of their own:
 * Age Observation (4.31, Practice Fusion puts the age at onset on the
 * Encounter Diagnosis act), Problem Status (4.6), Priority Preference
 * (4.143).  As Conditions they were "no coded value" warnings, or worse. */
static bool
problem_attribute(struct cda_ctx *c, const xmlNode *obs)
{
    static const char *const templates[] = {TEMPLATE "31", TEMPLATE "6", TEMPLATE "143"};
    static const char *const codes[] = {"445518008", STATUS_OBS, "225773000"};
    const char *code = cda_attr(c, cda_child(obs, "code"), "code");

    for (size_t i = 0; i < BASE_ARRAY_LEN(templates); i++) {
        if (cda_has_template(c, obs, templates[i]))
            return true;
    }
    for (size_t i = 0; code != NULL && i < BASE_ARRAY_LEN(codes); i++) {
        if (strcmp(code, codes[i]) == 0)
            return true;
    }
    return false;
}

int
cda_map_condition(struct cda_ctx *c, xmlNodePtr obs, xmlNodePtr concern, enum cda_kind kind)
{
    const char *element;
    json_t *code;
    bool have;

    /* mTuitive op notes nest the Problem Observation directly in an empty
     * one (observation/observation, no entryRelationship: not CDA R2).  The
     * inner one is read, with a warning naming the outer. */
    if (cda_child(obs, "value") == NULL && cda_child(obs, "observation") != NULL) {
        TRY(cda_warn(c, obs, "structure",
                     "observation directly inside an observation (no entryRelationship, not CDA "
                     "R2); the inner one is mapped"));
        while (cda_child(obs, "value") == NULL && cda_child(obs, "observation") != NULL)
            obs = cda_child(obs, "observation");
    }
    if (concern != NULL && problem_attribute(c, obs))
        return BASE_OK; /* read with the problem it describes */
    element = cda_wst_element(c, obs);
    /* WS/T 500 入院记录 (C0034) and its kin put 过敏史 (DE02.10.022.00) and
     * 过敏史标志 (DE02.10.023.00) in the past history section: an allergy
     * there was dropped with the other history elements. */
    if (element != NULL &&
        (strcmp(element, "DE02.10.022.00") == 0 || strcmp(element, "DE02.10.023.00") == 0))
        return cda_map_allergy(c, obs, NULL);
    /* Other data elements (入院情况, 出院医嘱, dates) are not conditions;
     * they stay in the attached original. */
    if (element != NULL && !is_wst_diagnosis(element))
        return BASE_OK;
    if (element != NULL && wst_split_taken(c, obs))
        return BASE_OK; /* mapped with the name entry before it */
    if (is_risk(c, obs, concern))
        return cda_warn(c, obs, "not-supported",
                        "a risk (Risk Concern Act, 'Finding of at risk') is not a condition the "
                        "patient has; kept in the attached document");
    TRY(cda_need_patient(c, obs, &have));
    if (!have)
        return BASE_OK;
    /* The problem is the observation's value; its code says "Problem",
     * "Diagnosis" (C-CDA) or names the data element (WS/T 500). */
    code = element != NULL ? wst_diagnosis(c, obs) : value_or_text(c, obs);
    /* code="NA", or a WS/T 500 template's blank diagnosis slot (code=""
     * displayName=""): the generator had none -- nothing said, nothing
     * missing */
    if (code == NULL &&
        (element != NULL || cda_filler_text(cda_attr(c, cda_child(obs, "value"), "code"))))
        return cda_warn_nothing(c, obs);
    if (code == NULL)
        return cda_warn(c, obs, "required", "problem observation has no coded value; skipped");
    if (cda_says_nothing(code)) {
        json_decref(code);
        return cda_warn_nothing(c, obs);
    }
    if (element == NULL && cda_no_known_problems(c, obs)) {
        json_decref(code);
        code = adapter_cc(SCT, "160245001", "No current problems or disability");
        if (code == NULL)
            return cda_nomem(c);
    }
    TRY(emit_condition(c, code, obs, concern, kind, obs));
    if (element != NULL && strcmp(element, "DE05.10.172.00") == 0)
        return map_syndrome(c, obs, concern, kind);
    return BASE_OK;
}

/* WS/T 500 住院病案首页 (C0032) and its kin group one diagnosis as an
 * organizer (CLUSTER) of data elements: 诊断名称 DE05.01.025.00 (ST),
 * 诊断编码 DE05.01.024.00 (CD), 入院病情 DE09.00.104.00...  The section
 * paths took observations only, so every admission, discharge, outpatient
 * and pathology diagnosis of the front page was lost without a word.  One
 * organizer of one code and one name is one Condition (the code, the name
 * as its text); an organizer listing several diagnoses maps each; one
 * with no diagnosis element (颅脑损伤昏迷时间) is none. */
int
cda_map_condition_organizer(struct cda_ctx *c, xmlNodePtr org, enum cda_kind kind)
{
    xmlNodePtr code_obs = NULL;
    xmlNodePtr name_obs = NULL;
    size_t codes = 0;
    size_t names = 0;
    json_t *code;
    bool have;

    CDA_EACH(comp, org, "component")
    {
        xmlNodePtr obs = cda_child(comp, "observation");
        const char *e = cda_wst_element(c, obs);

        if (e == NULL || !is_wst_diagnosis(e))
            continue;
        if (strcmp(e, "DE05.01.024.00") == 0 || strcmp(e, "DE05.10.130.00") == 0) {
            codes++;
            code_obs = code_obs != NULL ? code_obs : obs;
        } else {
            names++;
            name_obs = name_obs != NULL ? name_obs : obs;
        }
    }
    if (codes + names == 0)
        return BASE_OK;
    if (codes > 1 || names > 1) {
        CDA_EACH(comp, org, "component")
        {
            xmlNodePtr obs = cda_child(comp, "observation");
            const char *e = cda_wst_element(c, obs);

            if (e != NULL && (strcmp(e, "DE05.01.024.00") == 0 ||
                              strcmp(e, "DE05.10.130.00") == 0 || codes == 0))
                TRY(cda_map_condition(c, obs, NULL, kind));
        }
        return BASE_OK;
    }
    TRY(cda_need_patient(c, org, &have));
    if (!have)
        return BASE_OK;
    code = code_obs != NULL ? cda_concept(c, cda_child(code_obs, "value")) : NULL;
    const char *name = name_obs != NULL ? cda_text(c, cda_child(name_obs, "value")) : "";
    if (name[0] != '\0' && cda_filler_text(name))
        name = "";
    if (code == NULL && code_obs != NULL) /* a name written inside the CD */
        name = name[0] != '\0' ? name : cda_text(c, cda_child(code_obs, "value"));
    if (code == NULL && name[0] != '\0')
        code = json_pack("{s:s}", "text", name);
    else if (code != NULL && name[0] != '\0' && json_object_get(code, "text") == NULL &&
             adapter_jset_str(code, "text", name) != BASE_OK) {
        json_decref(code);
        return cda_nomem(c);
    }
    if (code == NULL || cda_says_nothing(code)) {
        json_decref(code);
        return cda_warn_nothing(c, org);
    }
    return emit_condition(c, code, code_obs != NULL ? code_obs : name_obs, NULL, kind, org);
}

/* ------------------------------------------------------- AllergyIntolerance */

struct allergy_type {
    const char *sct;      /* observation value (C-CDA Allergy and Intolerance Type) */
    const char *type;     /* allergy | intolerance | NULL */
    const char *category; /* food | medication | environment | NULL */
};

static const struct allergy_type allergy_types[] = {
    {"419199007", "allergy", NULL},
    {"418038007", NULL, NULL},
    {"420134006", NULL, NULL},
    {"416098002", "allergy", "medication"},
    {"59037007", "intolerance", "medication"},
    {"419511003", NULL, "medication"},
    {"414285001", "allergy", "food"},
    {"235719002", "intolerance", "food"},
    {"418471000", NULL, "food"},
    {"426232007", "allergy", "environment"},
    {"418545001", NULL, "environment"},
};

static const struct cda_pair allergy_status[] = {
    {"55561003", "active"}, {"73425007", "inactive"}, {"413322009", "resolved"}};
/* C-CDA Problem Severity value set (2.16.840.1.113883.3.88.12.3221.6.8) onto
 * FHIR's three grades; a range counts as its worse end (NIST samples send
 * 371924009 "Moderate to severe" and 371923003 "Mild to moderate"). */
static const struct cda_pair severity[] = {{"255604002", "mild"},   {"371923003", "moderate"},
                                           {"6736007", "moderate"}, {"371924009", "severe"},
                                           {"24484000", "severe"},  {"399166001", "severe"}};
static const struct cda_pair criticality[] = {
    {"CRITH", "high"}, {"CRITL", "low"}, {"CRITU", "unable-to-assess"}};

static int
allergy_kind(struct cda_ctx *c, json_t *res, const xmlNode *obs)
{
    const char *v = value_code(c, obs);

    /* HITSP C83 (C32) codes the adverse event type on the observation's
     * code, with no value ("drug allergy" 416098002) */
    if (v == NULL)
        v = cda_attr(c, cda_child(obs, "code"), "code");

    for (size_t i = 0; v != NULL && i < BASE_ARRAY_LEN(allergy_types); i++) {
        if (strcmp(allergy_types[i].sct, v) != 0)
            continue;
        TRY(adapter_jset_str(res, "type", allergy_types[i].type));
        if (allergy_types[i].category != NULL)
            TRY(adapter_jpush(res, "category", json_string(allergy_types[i].category)));
        return BASE_OK;
    }
    return BASE_OK;
}

/* SNOMED CT "no known ..." findings some exports put in the allergy
 * observation's value instead of negating it. */
static const struct cda_pair no_known_allergy[] = {
    {"716186003", "allergy"},
    {"409137002", "drug"},
    {"429625007", "food"},
    {"428607008", "environmental"},
};

/* A negated allergy of a type and no substance ("no drug allergy": the
 * ONC/HL7 "No Known Drug Allergies" examples negate 416098002 with a
 * null-flavored playingEntity) is the SNOMED CT "no known ..." of that
 * type (C-CDA on FHIR), not the bare "no known allergy". */
static json_t *
no_known_of_type(struct cda_ctx *c, const xmlNode *obs)
{
    static const struct {
        const char *type, *code, *display;
    } kinds[] = {
        {"416098002", "409137002", "No known drug allergy"},
        {"419511003", "409137002", "No known drug allergy"},
        {"59037007", "409137002", "No known drug allergy"},
        {"414285001", "429625007", "No known food allergy"},
        {"235719002", "429625007", "No known food allergy"},
        {"418471000", "429625007", "No known food allergy"},
        {"426232007", "428607008", "No known environmental allergy"},
        {"418545001", "428607008", "No known environmental allergy"},
    };
    const char *v = value_code(c, obs);

    for (size_t i = 0; v != NULL && cda_negated(c, obs) && i < BASE_ARRAY_LEN(kinds); i++) {
        if (strcmp(v, kinds[i].type) == 0)
            return adapter_cc(SCT, kinds[i].code, kinds[i].display);
    }
    return adapter_cc(SCT, "716186003", "No known allergy");
}

/* A value that says there is no allergy: a false flag (WS/T 500 过敏史标志)
 * or text such as 否认药物过敏史 / 无 / "No known allergies" -- which must
 * not become an allergy to a substance named by that text. */
static bool
denies_allergy(struct cda_ctx *c, const xmlNode *obs)
{
    static const char *const denials[] = {
        "\u5426\u8ba4", /* 否认 denies */
        "\u65e0",       /* 无 none */
        "no known",     "none", "nka", "nkda",
    };
    xmlNodePtr v = cda_child(obs, "value");
    const char *type = cda_xsi_type(c, v);
    const char *flag = cda_attr(c, v, "value");
    const char *t;

    if (type != NULL && strcmp(type, "BL") == 0)
        return flag != NULL && strcmp(flag, "false") == 0;
    if (cda_attr(c, v, "code") != NULL)
        return false;
    t = cda_text(c, v);
    for (size_t i = 0; i < BASE_ARRAY_LEN(denials); i++) {
        if (strncasecmp(t, denials[i], strlen(denials[i])) == 0)
            return true;
    }
    return false;
}

/* Substance: participant/participantRole/playingEntity/code; for "no known
 * allergy" (negated, no substance) SNOMED 716186003 as C-CDA on FHIR does;
 * WS/T 500 documents may only have a text value. */
/* WS/T 500: a data element (过敏史 DE02.10.022.00, 过敏源...) whose text
 * names what the patient is allergic to -- the playingEntity's desc, or
 * a COMP observation under the 过敏史标志 flag ("青霉素过敏，皮疹"). */
static json_t *
wst_allergen(struct cda_ctx *c, const xmlNode *obs, const xmlNode *pe)
{
    const char *t = cda_text(c, cda_child(pe, "desc"));

    if (t[0] == '\0')
        t = cda_text(c, cda_child(pe, "name"));
    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr inner = cda_child(rel, "observation");

        if (t[0] != '\0')
            break;
        if (cda_wst_element(c, inner) != NULL &&
            cda_attr(c, cda_child(inner, "value"), "code") == NULL)
            t = cda_text(c, cda_child(inner, "value"));
    }
    if (t[0] == '\0' || cda_filler_text(t))
        return NULL;
    return json_pack("{s:s}", "text", t);
}

static json_t *
allergy_code(struct cda_ctx *c, const xmlNode *obs, bool *nka)
{
    xmlNodePtr part = cda_child(cda_child(obs, "participant"), "participantRole");
    /* one WS/T 500 住院病案首页 generator spells it partivipantRole */
    xmlNodePtr pe =
        cda_child(part != NULL ? part : cda_child(cda_child(obs, "participant"), "partivipantRole"),
                  "playingEntity");
    xmlNodePtr pcode = cda_child(pe, "code");
    const char *psys = cda_attr(c, pcode, "codeSystem");
    json_t *cc;

    *nka = false;
    /* WS/T 500 codes the entity by data element (过敏药物 DE02.10.022.00)
     * and names the drug in its desc: the element is no allergen.  Its
     * 过敏史标志 (BL) says whether there is an allergy at all -- read
     * first: "false" was an active allergy to "过敏药物" before. */
    if (psys != NULL && strcmp(psys, CDA_WST_DATA_ELEMENTS) == 0)
        pcode = NULL;
    if (cda_wst_element(c, obs) != NULL) {
        if (denies_allergy(c, obs)) {
            *nka = true;
            return adapter_cc(SCT, "716186003", "No known allergy");
        }
        if (pcode == NULL && (cc = wst_allergen(c, obs, pe)) != NULL)
            return cc;
    }
    cc = cda_concept(c, pcode);
    if (cc != NULL)
        return cc;
    if (CDA_LOOKUP(no_known_allergy, value_code(c, obs)) != NULL) {
        *nka = true;
        return value_concept(c, obs);
    }
    if (cda_negated(c, obs) || denies_allergy(c, obs)) {
        *nka = true;
        return no_known_of_type(c, obs);
    }
    if (cda_text(c, cda_child(pe, "name"))[0] != '\0')
        return json_pack("{s:s}", "text", cda_text(c, cda_child(pe, "name")));
    xmlNodePtr v = cda_child(obs, "value");
    return cda_attr(c, v, "code") == NULL ? value_concept(c, obs) : NULL;
}

/* The grade of a Severity Observation (4.8): its code, else the words of
 * its display name or text -- exports with a local or null-flavored code
 * still write "Moderate" -- read as the code table does. */
static const char *
severity_of(struct cda_ctx *c, const xmlNode *sev_obs)
{
    static const struct cda_pair words[] = {
        {"fatal", "severe"}, {"severe", "severe"}, {"moderate", "moderate"}, {"mild", "mild"}};
    xmlNodePtr v = cda_child(sev_obs, "value");
    const char *sev = CDA_LOOKUP(severity, cda_attr(c, v, "code"));
    const char *t = cda_attr(c, v, "displayName");

    if (sev != NULL || sev_obs == NULL)
        return sev;
    if (t == NULL || t[0] == '\0')
        t = cda_text(c, cda_child(v, "originalText"));
    if (t == NULL || t[0] == '\0')
        t = cda_narrative(c, cda_child(sev_obs, "text"));
    for (size_t i = 0; t != NULL && i < BASE_ARRAY_LEN(words); i++) {
        if (strcasestr(t, words[i].from) != NULL)
            return words[i].to;
    }
    return NULL;
}

static int
add_reaction(struct cda_ctx *c, json_t *res, const xmlNode *rx, const char *default_sev)
{
    json_t *manif = value_or_text(c, rx);
    xmlNodePtr sev_obs = related_obs(c, rx, TEMPLATE "8", "SEV");
    const char *sev = severity_of(c, sev_obs);
    json_t *r;

    if (manif == NULL) /* reaction.manifestation is 1..* */
        return BASE_OK;
    r = json_object();
    if (r == NULL || adapter_jpush(r, "manifestation", manif) != BASE_OK) {
        json_decref(r);
        return BASE_E_NOMEM;
    }
    TRY(adapter_jset_str(r, "severity", sev != NULL ? sev : default_sev));
    TRY(adapter_jset_str(r, "onset", cda_time_point(c, cda_child(rx, "effectiveTime"))));
    return adapter_jpush(res, "reaction", r);
}

static int
allergy_reactions(struct cda_ctx *c, json_t *res, const xmlNode *obs)
{
    /* Older C-CDA put Severity (4.8) on the allergy itself; CCD 1.0 / HITSP
     * C32 too, under its own template (2.16.840.1.113883.10.20.1.55), coded
     * SEV: found by the code. */
    xmlNodePtr sev_obs = related_obs(c, obs, TEMPLATE "8", "SEV");
    const char *sev = severity_of(c, sev_obs);
    xmlNodePtr crit = related_obs(c, obs, TEMPLATE "145", NULL);

    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr rx = cda_child(rel, "observation");
        const char *type = cda_attr(c, rel, "typeCode");

        /* a negated Reaction Observation ("no hives") is no manifestation */
        if (rx != NULL && !cda_negated(c, rx) &&
            ((type != NULL && strcmp(type, "MFST") == 0) || cda_has_template(c, rx, TEMPLATE "9")))
            TRY(add_reaction(c, res, rx, sev));
    }
    return adapter_jset_str(res, "criticality", CDA_LOOKUP(criticality, value_code(c, crit)));
}

static int
allergy_status_of(struct cda_ctx *c, json_t *res, const xmlNode *obs, const xmlNode *concern,
                  bool nka)
{
    xmlNodePtr st = related_obs(c, obs, TEMPLATE "28", STATUS_OBS);
    const char *s = CDA_LOOKUP(allergy_status, value_code(c, st));

    if (s == NULL && cda_child(cda_child(obs, "effectiveTime"), "high") != NULL &&
        cda_attr(c, cda_child(cda_child(obs, "effectiveTime"), "high"), "value") != NULL)
        s = "resolved";
    if (s == NULL)
        s = CDA_LOOKUP(concern_status, cda_attr(c, cda_child(concern, "statusCode"), "code"));
    /* FHIR R4 ait-1: clinicalStatus is required unless entered-in-error */
    TRY(adapter_jset(res, "clinicalStatus",
                     status_cc("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                               s != NULL ? s : "active")));
    if (cda_negated(c, obs) && !nka)
        TRY(adapter_jset(
            res, "verificationStatus",
            status_cc("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                      "refuted")));
    if (nullified(c, obs, concern))
        return entered_in_error(
            res, "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification");
    return BASE_OK;
}

static int
allergy_body(struct cda_ctx *c, json_t *res, xmlNodePtr obs, xmlNodePtr concern, json_t *code,
             bool nka)
{
    TRY(adapter_jset(res, "code", code)); /* first: consumed even on failure */
    TRY(allergy_status_of(c, res, obs, concern, nka));
    TRY(allergy_kind(c, res, obs));
    TRY(adapter_jset(res, "patient", adapter_reference(c->patient, NULL)));
    TRY(adapter_jset_str(res, "onsetDateTime",
                         cda_ts(c, cda_child(cda_child(obs, "effectiveTime"), "low"), false)));
    TRY(adapter_jset_str(res, "recordedDate", recorded(c, obs, concern)));
    return allergy_reactions(c, res, obs);
}

int
cda_map_allergy(struct cda_ctx *c, xmlNodePtr obs, xmlNodePtr concern)
{
    json_t *code;
    json_t *res;
    bool nka;
    bool have;

    TRY(cda_need_patient(c, obs, &have));
    if (!have)
        return BASE_OK;
    code = allergy_code(c, obs, &nka);
    if (code == NULL)
        return cda_warn(c, obs, "required", "allergy names no substance; skipped");
    /* a WS/T 500 护理记录 generator writes 过敏史 "NA" when the HIS has none:
     * an active allergy to "NA" (fillers as for problems and procedures) */
    if (!nka && cda_says_nothing(code)) {
        json_decref(code);
        return cda_warn_nothing(c, obs);
    }
    res = cda_resource(c, "AllergyIntolerance");
    if (res == NULL) {
        json_decref(code);
        return cda_nomem(c);
    }
    if (allergy_body(c, res, obs, concern, code, nka) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, obs, "AllergyIntolerance", NULL);
}
