/*
 * Medication Activity (C-CDA 4.16) -> MedicationStatement, Immunization
 * Activity (4.52) -> Immunization, Procedure Activity (4.12/4.13/4.14) ->
 * Procedure.  Status tables follow C-CDA on FHIR (ActStatus -> FHIR).
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

static const struct cda_pair med_status[] = {
    {"active", "active"},
    {"completed", "completed"},
    {"aborted", "stopped"},
    {"cancelled", "not-taken"},
    {"suspended", "on-hold"},
    {"held", "on-hold"},
    {"nullified", "entered-in-error"},
    {"new", "intended"},
};

static const struct cda_pair proc_status[] = {
    {"completed", "completed"}, {"active", "in-progress"},
    {"aborted", "stopped"},     {"cancelled", "not-done"},
    {"new", "preparation"},     {"held", "on-hold"},
    {"suspended", "on-hold"},   {"nullified", "entered-in-error"},
};

/* UCUM units of PIVL_TS/period -> Timing.repeat.periodUnit (units-of-time). */
static const struct cda_pair period_units[] = {
    {"s", "s"}, {"min", "min"}, {"h", "h"}, {"d", "d"}, {"wk", "wk"}, {"mo", "mo"}, {"a", "a"},
};

static const char *
status_code(struct cda_ctx *c, const xmlNode *act)
{
    return cda_attr(c, cda_child(act, "statusCode"), "code");
}

static bool
mood_is(struct cda_ctx *c, const xmlNode *act, const char *mood)
{
    const char *m = cda_attr(c, act, "moodCode");

    return m == NULL ? strcmp(mood, "EVN") == 0 : strcmp(m, mood) == 0;
}

/* consumable/manufacturedProduct/manufacturedMaterial, or the other
 * choice of CDA R2 (POCD_MT000040.ManufacturedProduct): the
 * manufacturedLabeledDrug that WS/T 500 and C32-era exports use. */
static xmlNodePtr
material(const xmlNode *sbadm)
{
    xmlNodePtr product = cda_child(cda_child(sbadm, "consumable"), "manufacturedProduct");
    xmlNodePtr m = cda_child(product, "manufacturedMaterial");

    return m != NULL ? m : cda_child(product, "manufacturedLabeledDrug");
}

static json_t *
material_concept(struct cda_ctx *c, const xmlNode *mat)
{
    json_t *cc = cda_concept(c, cda_child(mat, "code"));
    const char *name = cda_text(c, cda_child(mat, "name"));

    if (cc == NULL && name[0] != '\0')
        cc = json_pack("{s:s}", "text", name);
    return cc;
}

static const char *
author_time(struct cda_ctx *c, const xmlNode *act)
{
    return cda_ts(c, cda_child(cda_child(act, "author"), "time"), false);
}

/* ------------------------------------------------------ MedicationStatement */

static json_t *
pivl_timing(struct cda_ctx *c, const xmlNode *et)
{
    xmlNodePtr period = cda_child(et, "period");
    const char *unit = CDA_LOOKUP(period_units, cda_attr(c, period, "unit"));
    json_t *value = adapter_decimal(base_str_from_cstr(cda_attr(c, period, "value")));

    if (unit == NULL || value == NULL) {
        json_decref(value);
        return NULL;
    }
    return json_pack("{s:{s:i,s:o,s:s}}", "repeat", "frequency", 1, "period", value, "periodUnit",
                     unit);
}

/* EIVL_TS (HL7 V3 Data Types R1): an event such as HS (at bedtime) or ACM
 * (before breakfast) from v3 TimingEvent, whose codes FHIR's event-timing
 * value set includes as they are -> Timing.repeat.when. */
static json_t *
eivl_timing(struct cda_ctx *c, const xmlNode *et)
{
    const char *event = cda_attr(c, cda_child(et, "event"), "code");

    if (event == NULL || cda_blank(event))
        return NULL;
    return json_pack("{s:{s:[s]}}", "repeat", "when", event);
}

static int
medication_timing(struct cda_ctx *c, json_t *res, json_t *dosage, const xmlNode *sbadm)
{
    CDA_EACH(et, sbadm, "effectiveTime")
    {
        const char *t = cda_xsi_type(c, et);

        if (t != NULL && (strcmp(t, "PIVL_TS") == 0 || strcmp(t, "EIVL_TS") == 0)) {
            json_t *timing = t[0] == 'P' ? pivl_timing(c, et) : eivl_timing(c, et);

            if (timing != NULL && json_object_get(dosage, "timing") == NULL)
                TRY(adapter_jset(dosage, "timing", timing));
            else
                json_decref(timing);
            continue;
        }
        if ((t != NULL && strcmp(t, "IVL_TS") != 0 && strcmp(t, "TS") != 0) ||
            json_object_get(res, "effectivePeriod") != NULL ||
            json_object_get(res, "effectiveDateTime") != NULL)
            continue;
        if (cda_attr(c, et, "value") != NULL)
            TRY(adapter_jset_str(res, "effectiveDateTime", cda_ts(c, et, false)));
        else {
            json_t *p = cda_period(c, et);

            if (p != NULL)
                TRY(adapter_jset(res, "effectivePeriod", p));
        }
    }
    return BASE_OK;
}

/* doseQuantity: a PQ, or an IVL_PQ ("1-2 tablets") -> doseRange. */
static int
dose_and_rate(struct cda_ctx *c, json_t *dosage, const xmlNode *dq)
{
    xmlNodePtr low = cda_child(dq, "low");
    xmlNodePtr high = cda_child(dq, "high");
    json_t *range;
    json_t *q;

    if (low == NULL && high == NULL) {
        q = cda_quantity(c, dq);
        return q != NULL
                   ? adapter_jpush(dosage, "doseAndRate", json_pack("{s:o}", "doseQuantity", q))
                   : BASE_OK;
    }
    range = json_object();
    if (range == NULL)
        return BASE_E_NOMEM;
    q = cda_quantity(c, low);
    if (q != NULL && adapter_jset(range, "low", q) != BASE_OK)
        goto nomem;
    q = cda_quantity(c, high);
    if (q != NULL && adapter_jset(range, "high", q) != BASE_OK)
        goto nomem;
    if (json_object_size(range) == 0) {
        json_decref(range);
        return BASE_OK;
    }
    return adapter_jpush(dosage, "doseAndRate", json_pack("{s:o}", "doseRange", range));
nomem:
    json_decref(range);
    return BASE_E_NOMEM;
}

/* Each part is built right where it is stored, so a failure leaks nothing
 * (adapter_jset consumes its value even when it fails). */
static int
dosage_parts(struct cda_ctx *c, json_t *dosage, json_t *res, const xmlNode *sbadm)
{
    json_t *route = cda_concept(c, cda_child(sbadm, "routeCode"));

    if (route != NULL)
        TRY(adapter_jset(dosage, "route", route));
    TRY(dose_and_rate(c, dosage, cda_child(sbadm, "doseQuantity")));
    TRY(adapter_jset_str(dosage, "text", cda_narrative(c, cda_child(sbadm, "text"))));
    return medication_timing(c, res, dosage, sbadm);
}

static int
medication_dosage(struct cda_ctx *c, json_t *res, const xmlNode *sbadm)
{
    json_t *dosage = json_object();

    if (dosage == NULL)
        return BASE_E_NOMEM;
    if (dosage_parts(c, dosage, res, sbadm) != BASE_OK) {
        json_decref(dosage);
        return BASE_E_NOMEM;
    }
    if (json_object_size(dosage) == 0) {
        json_decref(dosage);
        return BASE_OK;
    }
    return adapter_jpush(res, "dosage", dosage);
}

static int
medication_body(struct cda_ctx *c, json_t *res, xmlNodePtr sbadm, json_t *med)
{
    const char *st = CDA_LOOKUP(med_status, status_code(c, sbadm));

    TRY(adapter_jset(res, "medicationCodeableConcept", med));
    if (cda_negated(c, sbadm))
        st = "not-taken";
    if (st == NULL)
        st = mood_is(c, sbadm, "INT") ? "intended" : "unknown";
    TRY(adapter_jset_str(res, "status", st));
    TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    TRY(adapter_jset_str(res, "dateAsserted", author_time(c, sbadm)));
    return medication_dosage(c, res, sbadm);
}

/* A resource from an entry whose main code was found: body fills it
 * (storing `code`, which is always consumed), then into the Bundle. */
typedef int (*body_fn)(struct cda_ctx *c, json_t *res, xmlNodePtr act, json_t *code);

static int
build(struct cda_ctx *c, xmlNodePtr act, const char *type, json_t *code, body_fn body)
{
    json_t *res = cda_resource(c, type);

    if (res == NULL) {
        json_decref(code);
        return cda_nomem(c);
    }
    if (body(c, res, act, code) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, act, type, NULL);
}

int
cda_map_medication(struct cda_ctx *c, xmlNodePtr sbadm)
{
    json_t *med;
    bool have;

    TRY(cda_need_patient(c, sbadm, &have));
    if (!have)
        return BASE_OK;
    med = material_concept(c, material(sbadm));
    if (med == NULL)
        return cda_warn(c, sbadm, "required", "medication names no drug; skipped");
    return build(c, sbadm, "MedicationStatement", med, medication_body);
}

/* ------------------------------------------------------------ Immunization */

static int
add_performers(struct cda_ctx *c, json_t *res, const xmlNode *act)
{
    CDA_EACH(perf, act, "performer")
    {
        const char *ref = NULL;

        TRY(cda_map_practitioner(c, cda_child(perf, "assignedEntity"), &ref));
        if (ref != NULL)
            TRY(adapter_jpush(res, "performer",
                              json_pack("{s:o}", "actor", adapter_reference(ref, NULL))));
    }
    return BASE_OK;
}

static int
immunization_extras(struct cda_ctx *c, json_t *res, xmlNodePtr sbadm, const xmlNode *mat)
{
    static const struct {
        const char *cda;
        const char *fhir;
    } coded[] = {{"routeCode", "route"}, {"approachSiteCode", "site"}};
    const char *maker = NULL;
    xmlNodePtr product = mat != NULL ? mat->parent : NULL;
    json_t *dose;

    for (size_t i = 0; i < BASE_ARRAY_LEN(coded); i++) {
        json_t *cc = cda_concept(c, cda_child(sbadm, coded[i].cda));

        if (cc != NULL)
            TRY(adapter_jset(res, coded[i].fhir, cc));
    }
    dose = cda_quantity(c, cda_child(sbadm, "doseQuantity"));
    if (dose != NULL)
        TRY(adapter_jset(res, "doseQuantity", dose));
    TRY(adapter_jset_str(res, "lotNumber", cda_text(c, cda_child(mat, "lotNumberText"))));
    TRY(cda_map_organization(c, cda_child(product, "manufacturerOrganization"), &maker));
    if (maker != NULL)
        TRY(adapter_jset(res, "manufacturer", adapter_reference(maker, NULL)));
    return add_performers(c, res, sbadm);
}

static int
immunization_body(struct cda_ctx *c, json_t *res, xmlNodePtr sbadm, json_t *vaccine)
{
    const char *when = cda_time_point(c, cda_child(sbadm, "effectiveTime"));
    const char *st = status_code(c, sbadm);
    bool refused = cda_negated(c, sbadm);

    TRY(adapter_jset(res, "vaccineCode", vaccine));
    if (st != NULL && strcmp(st, "nullified") == 0)
        TRY(adapter_jset_str(res, "status", "entered-in-error"));
    else
        TRY(adapter_jset_str(res, "status", refused ? "not-done" : "completed"));
    if (refused) {
        /* Immunization Refusal Reason (4.53) */
        CDA_EACH(rel, sbadm, "entryRelationship")
        {
            json_t *why = cda_concept(c, cda_child(cda_child(rel, "observation"), "code"));

            if (why != NULL && json_object_get(res, "statusReason") == NULL)
                TRY(adapter_jset(res, "statusReason", why));
            else
                json_decref(why);
        }
    }
    TRY(adapter_jset(res, "patient", adapter_reference(c->patient, NULL)));
    /* occurrence[x] is 1..1: say "unknown" rather than invent a date */
    if (when != NULL)
        TRY(adapter_jset_str(res, "occurrenceDateTime", when));
    else
        TRY(adapter_jset_str(res, "occurrenceString", "unknown"));
    TRY(adapter_jset_str(res, "recorded", author_time(c, sbadm)));
    return immunization_extras(c, res, sbadm, material(sbadm));
}

int
cda_map_immunization(struct cda_ctx *c, xmlNodePtr sbadm)
{
    json_t *vaccine;
    bool have;

    if (!mood_is(c, sbadm, "EVN")) /* planned, not given */
        return BASE_OK;
    TRY(cda_need_patient(c, sbadm, &have));
    if (!have)
        return BASE_OK;
    vaccine = material_concept(c, material(sbadm));
    if (vaccine == NULL)
        return cda_warn(c, sbadm, "required", "immunization names no vaccine; skipped");
    return build(c, sbadm, "Immunization", vaccine, immunization_body);
}

/* --------------------------------------------------------------- Procedure */

/* WS/T 500 procedure sections list data elements next to the procedures:
 * only 手术及操作编码 (DE06.00.093.00, a coded value) names a procedure;
 * the name, times, room and staff elements describe one. */
#define WST_PROCEDURE_CODE "DE06.00.093.00"
#define WST_PROCEDURE_NAME "DE06.00.094.00"

static bool
wst_describes_procedure(struct cda_ctx *c, const xmlNode *act)
{
    const char *de = cda_wst_element(c, act);

    return de != NULL && (strcmp(de, WST_PROCEDURE_CODE) != 0 ||
                          cda_attr(c, cda_child(act, "value"), "code") == NULL);
}

/* The code (of a WS/T 500 procedure code element: its value), named by a
 * 手术名称 COMP observation when the code itself has no text. */
static json_t *
procedure_code(struct cda_ctx *c, const xmlNode *act)
{
    bool wst = cda_wst_element(c, act) != NULL;
    json_t *code = cda_concept(c, cda_child(act, wst ? "value" : "code"));
    const char *name = NULL;

    CDA_EACH(rel, act, "entryRelationship")
    {
        xmlNodePtr o = cda_child(rel, "observation");
        const char *de = cda_wst_element(c, o);

        if (name == NULL && de != NULL && strcmp(de, WST_PROCEDURE_NAME) == 0)
            name = cda_text(c, cda_child(o, "value"));
    }
    if (name == NULL || name[0] == '\0' || json_object_get(code, "text") != NULL)
        return code;
    if (code == NULL)
        return json_pack("{s:s}", "text", name);
    if (adapter_jset_str(code, "text", name) != BASE_OK) {
        json_decref(code);
        return NULL;
    }
    return code;
}

static int
procedure_body(struct cda_ctx *c, json_t *res, xmlNodePtr act)
{
    const char *st = CDA_LOOKUP(proc_status, status_code(c, act));
    xmlNodePtr et = cda_child(act, "effectiveTime");
    json_t *code;

    if (cda_negated(c, act))
        st = "not-done";
    TRY(adapter_jset_str(res, "status", st != NULL ? st : "unknown"));
    code = procedure_code(c, act);
    if (code != NULL)
        TRY(adapter_jset(res, "code", code));
    TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    if (c->encounter != NULL)
        TRY(adapter_jset(res, "encounter", adapter_reference(c->encounter, NULL)));
    if (cda_child(et, "high") != NULL && cda_attr(c, et, "value") == NULL) {
        json_t *p = cda_period(c, et);

        if (p != NULL)
            TRY(adapter_jset(res, "performedPeriod", p));
    } else {
        TRY(adapter_jset_str(res, "performedDateTime", cda_time_point(c, et)));
    }
    CDA_EACH(site, act, "targetSiteCode")
    {
        json_t *cc = cda_concept(c, site);

        if (cc != NULL)
            TRY(adapter_jpush(res, "bodySite", cc));
    }
    return add_performers(c, res, act);
}

int
cda_map_procedure(struct cda_ctx *c, xmlNodePtr act)
{
    json_t *res;
    bool have;

    if (!mood_is(c, act, "EVN") || wst_describes_procedure(c, act))
        return BASE_OK;
    TRY(cda_need_patient(c, act, &have));
    if (!have)
        return BASE_OK;
    res = cda_resource(c, "Procedure");
    if (res == NULL || procedure_body(c, res, act) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, act, "Procedure", NULL);
}
