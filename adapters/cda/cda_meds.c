/*
 * Medication Activity (C-CDA 4.16) -> MedicationStatement, Immunization
 * Activity (4.52) -> Immunization, Procedure Activity (4.12/4.13/4.14) ->
 * Procedure.  Status tables follow C-CDA on FHIR (ActStatus -> FHIR).
 */
#include <stdlib.h>
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

/* The drug: its code, named by <name> when the code carries no name of its
 * own -- a 健康档案 generator codes every drug "DE9999999999999" (a
 * placeholder) and names it only there: the drug's name was dropped. */
static json_t *
material_concept(struct cda_ctx *c, const xmlNode *mat)
{
    json_t *cc = cda_concept(c, cda_child(mat, "code"));
    const char *name = cda_text(c, cda_child(mat, "name"));

    if (name[0] == '\0' || cda_filler_text(name))
        return cc;
    if (cc == NULL)
        return json_pack("{s:s}", "text", name);
    if (json_object_get(cc, "text") != NULL ||
        json_object_get(json_array_get(json_object_get(cc, "coding"), 0), "display") != NULL)
        return cc; /* the code names the drug */
    if (adapter_jset_str(cc, "text", name) != BASE_OK) {
        json_decref(cc);
        return NULL;
    }
    return cc;
}

static const char *
author_time(struct cda_ctx *c, const xmlNode *act)
{
    return cda_ts(c, cda_child(cda_child(act, "author"), "time"), false);
}

/* ------------------------------------------------------ MedicationStatement */

/* The time of day of a PIVL_TS phase ("198701010800": at 08:00 every
 * period) -> Timing.repeat.timeOfDay; NULL when the phase has no time. */
static const char *
phase_time(struct cda_ctx *c, const xmlNode *pivl)
{
    const char *v = cda_attr(c, cda_child(cda_child(pivl, "phase"), "low"), "value");
    size_t n = 0;

    if (v == NULL)
        v = cda_attr(c, cda_child(pivl, "phase"), "value");
    while (v != NULL && n < 14 && v[n] >= '0' && v[n] <= '9')
        n++;
    if (n < 12 || (n != 12 && n != 14))
        return NULL;
    if ((v[8] - '0') * 10 + (v[9] - '0') > 23 || (v[10] - '0') * 10 + (v[11] - '0') > 59 ||
        (n == 14 && (v[12] - '0') * 10 + (v[13] - '0') > 59))
        return NULL;
    return base_arena_sprintf(c->arena, "%.2s:%.2s:%.2s", v + 8, v + 10, n == 14 ? v + 12 : "00");
}

/* institutionSpecified="true" means "n times a day at the times the
 * institution sets", not "every 24/n hours" (HL7 V3 Data Types R1
 * PIVL.institutionSpecified; C-CDA R2.1 Medication Activity): q8h or
 * 0.5 d so flagged is n = 3 or 2 per 1 d.  0 when the period is no whole
 * fraction of a day. */
static int
times_a_day(const char *unit, const char *raw)
{
    char *end = NULL;
    double v = strtod(raw, &end);
    double hours = v * (strcmp(unit, "d") == 0 ? 24.0 : 1.0);
    int n;

    if (end == raw || (strcmp(unit, "h") != 0 && strcmp(unit, "d") != 0) || !(hours > 0.0) ||
        hours > 24.0)
        return 0;
    n = (int)(24.0 / hours + 0.5);
    return n >= 1 && n <= 24 && (double)n * hours > 23.999 && (double)n * hours < 24.001 ? n : 0;
}

/* PIVL_TS -> Timing.repeat: period (an IVL_PQ period, "every 4-6 hours",
 * gives period and periodMax), a phase's time of day. */
static int
pivl_repeat(struct cda_ctx *c, json_t *repeat, const xmlNode *et)
{
    xmlNodePtr period = cda_child(et, "period");
    xmlNodePtr low = cda_child(period, "low");
    xmlNodePtr high = cda_child(period, "high");
    xmlNodePtr one = low != NULL ? low : period;
    const char *unit = CDA_LOOKUP(period_units, cda_attr(c, one, "unit"));
    const char *raw = cda_attr(c, one, "value");
    const char *inst = cda_attr(c, et, "institutionSpecified");
    const char *tod = phase_time(c, et);
    int n;

    if (tod != NULL)
        TRY(adapter_jpush(repeat, "timeOfDay", json_string(tod)));
    if (unit == NULL || raw == NULL || json_object_get(repeat, "period") != NULL)
        return BASE_OK;
    if (inst != NULL && strcmp(inst, "true") == 0 && low == NULL &&
        (n = times_a_day(unit, raw)) > 0) {
        TRY(adapter_jset(repeat, "frequency", json_integer(n)));
        TRY(adapter_jset(repeat, "period", json_integer(1)));
        return adapter_jset_str(repeat, "periodUnit", "d");
    }
    json_t *value = adapter_decimal(base_str_from_cstr(raw));
    if (value == NULL)
        return BASE_OK;
    TRY(adapter_jset(repeat, "frequency", json_integer(1)));
    TRY(adapter_jset(repeat, "period", value));
    TRY(adapter_jset_str(repeat, "periodUnit", unit));
    const char *hunit = CDA_LOOKUP(period_units, cda_attr(c, high, "unit"));
    json_t *max = adapter_decimal(base_str_from_cstr(cda_attr(c, high, "value")));
    if (max == NULL || hunit == NULL || strcmp(hunit, unit) != 0) {
        json_decref(max);
        return BASE_OK;
    }
    return adapter_jset(repeat, "periodMax", max);
}

/* EIVL_TS (HL7 V3 Data Types R1): an event such as HS (at bedtime) or ACM
 * (before breakfast) from v3 TimingEvent, whose codes FHIR's event-timing
 * value set includes as they are -> Timing.repeat.when. */
static int
eivl_repeat(struct cda_ctx *c, json_t *repeat, const xmlNode *et)
{
    const char *event = cda_attr(c, cda_child(et, "event"), "code");

    if (event == NULL || cda_blank(event))
        return BASE_OK;
    return adapter_jpush(repeat, "when", json_string(event));
}

/* One time expression into `repeat`: PIVL_TS, EIVL_TS, or an SXPR_TS
 * whose comps are those ("at 08:00 and at 20:00 daily": Allscripts and
 * C-CDA Medication Activity frequency examples). */
static int
timing_repeat(struct cda_ctx *c, json_t *repeat, const xmlNode *et, const char *t, int depth)
{
    if (strcmp(t, "PIVL_TS") == 0)
        return pivl_repeat(c, repeat, et);
    if (strcmp(t, "EIVL_TS") == 0)
        return eivl_repeat(c, repeat, et);
    if (strcmp(t, "SXPR_TS") != 0 || depth > 2)
        return BASE_OK;
    CDA_EACH(comp, et, "comp")
    {
        const char *ct = cda_xsi_type(c, comp);

        if (ct != NULL)
            TRY(timing_repeat(c, repeat, comp, ct, depth + 1));
    }
    return BASE_OK;
}

static bool
is_timing_type(const char *t)
{
    return t != NULL &&
           (strcmp(t, "PIVL_TS") == 0 || strcmp(t, "EIVL_TS") == 0 || strcmp(t, "SXPR_TS") == 0);
}

/* A second time expression joins the first: C-CDA writes each further
 * effectiveTime with operator="A" (intersect), so "every 12 hours" and
 * "with meals" (PIVL_TS + EIVL_TS, athenahealth) are one Timing.repeat.
 * Events add up; a part both give differently (two periods) cannot be
 * one repeat: the first stays, with a warning. */
static int
merge_repeat(struct cda_ctx *c, json_t *into, json_t *more, const xmlNode *et)
{
    const char *key;
    json_t *v;
    bool clash = false;

    json_object_foreach(more, key, v)
    {
        json_t *had = json_object_get(into, key);

        if (had == NULL) {
            if (json_object_set(into, key, v) != 0)
                return cda_nomem(c);
        } else if (strcmp(key, "when") == 0 || strcmp(key, "timeOfDay") == 0) {
            if (json_array_extend(had, v) != 0)
                return cda_nomem(c);
        } else if (!json_equal(had, v)) {
            clash = true;
        }
    }
    if (clash)
        return cda_warn(c, et, "not-supported",
                        "a further dosing frequency differs from the first; only the first is "
                        "mapped (the document keeps both)");
    return BASE_OK;
}

static int
add_timing(struct cda_ctx *c, json_t *dosage, const xmlNode *et, const char *t)
{
    json_t *timing = json_object_get(dosage, "timing");
    json_t *repeat = json_object();
    int rc;

    if (repeat == NULL || timing_repeat(c, repeat, et, t, 0) != BASE_OK) {
        json_decref(repeat);
        return cda_nomem(c);
    }
    if (json_object_size(repeat) == 0) {
        json_decref(repeat);
        return BASE_OK;
    }
    if (timing != NULL) {
        rc = merge_repeat(c, json_object_get(timing, "repeat"), repeat, et);
        json_decref(repeat);
        return rc;
    }
    size_t times = json_array_size(json_object_get(repeat, "timeOfDay"));
    if (times > 1 && json_object_get(repeat, "frequency") != NULL &&
        adapter_jset(repeat, "frequency", json_integer((json_int_t)times)) != BASE_OK) {
        json_decref(repeat);
        return cda_nomem(c);
    }
    return adapter_jset(dosage, "timing", json_pack("{s:o}", "repeat", repeat));
}

static int
medication_timing(struct cda_ctx *c, json_t *res, json_t *dosage, const xmlNode *sbadm)
{
    CDA_EACH(et, sbadm, "effectiveTime")
    {
        const char *t = cda_xsi_type(c, et);

        if (is_timing_type(t)) {
            TRY(add_timing(c, dosage, et, t));
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

/* A unitless dose of a pre-coordinated drug counts administrationUnitCode
 * (C-CDA R2.1 Medication Activity: "1" with C48542 Tablet dosing unit):
 * that is the dose's unit, coded in its own system (NCI), not UCUM. */
static int
administration_unit(struct cda_ctx *c, json_t *q, const xmlNode *sbadm)
{
    xmlNodePtr auc = cda_child(sbadm, "administrationUnitCode");
    const char *code = cda_attr(c, auc, "code");
    const char *name = cda_narrative(c, cda_child(auc, "originalText"));

    if (auc == NULL || code == NULL || cda_blank(code))
        return BASE_OK;
    if (name == NULL || name[0] == '\0')
        name = cda_attr(c, auc, "displayName");
    const char *system = cda_system(c, cda_attr(c, auc, "codeSystem"));

    TRY(adapter_jset_str(q, "unit", name != NULL && !cda_blank(name) ? name : code));
    if (system == NULL) /* FHIR qty-3: no code without its system */
        return BASE_OK;
    TRY(adapter_jset_str(q, "system", system));
    return adapter_jset_str(q, "code", code);
}

/*
 * WS/T 500 generators give the dose's unit as its own data element, COMP
 * 药物使用剂量单位 (DE08.50.024.00), and fill the PQ's unit with anything:
 * the 麻醉记录 (C0011) template writes the route's code there
 * (unit="4"), which was the dose "2 4".  When the PQ has no unit or only
 * digits for one, the element's unit is the dose's.
 */
static int
wst_dose_unit(struct cda_ctx *c, json_t *q, const xmlNode *dq)
{
    const char *u = cda_attr(c, dq, "unit");
    const char *unit = NULL;

    if (u != NULL && u[strspn(u, " 0123456789")] != '\0')
        return BASE_OK;
    CDA_EACH(rel, dq->parent, "entryRelationship")
    {
        xmlNodePtr o = cda_child(rel, "observation");
        const char *de = cda_wst_element(c, o);

        if (unit == NULL && de != NULL && strcmp(de, "DE08.50.024.00") == 0)
            unit = cda_text(c, cda_child(o, "value"));
    }
    if (unit == NULL || unit[0] == '\0' || cda_filler_text(unit))
        return BASE_OK;
    json_object_del(q, "unit");
    json_object_del(q, "system");
    json_object_del(q, "code");
    return cda_set_unit(c, q, unit);
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
        if (q == NULL)
            return BASE_OK;
        if (wst_dose_unit(c, q, dq) != BASE_OK ||
            (json_object_get(q, "unit") == NULL &&
             administration_unit(c, q, dq->parent) != BASE_OK)) {
            json_decref(q);
            return BASE_E_NOMEM;
        }
        return adapter_jpush(dosage, "doseAndRate", json_pack("{s:o}", "doseQuantity", q));
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
    if (cda_range_inverted(json_object_get(range, "low"), json_object_get(range, "high"))) {
        json_decref(range); /* rng-2; the sig text keeps what was meant */
        return cda_warn(c, dq, "value", "dose range low is above its high; skipped");
    }
    return adapter_jpush(dosage, "doseAndRate", json_pack("{s:o}", "doseRange", range));
nomem:
    json_decref(range);
    return BASE_E_NOMEM;
}

/* WS/T 500 prescriptions put 用药频率 (DE06.00.133.00) in rateQuantity:
 * <rateQuantity value="3" unit="次/日"/> is three times a day, not a rate
 * of flow.  A unit of a count (次, or none: UCUM "/d") per time unit is
 * that period's unit of time (FHIR units-of-time), else NULL. */
static const char *
frequency_unit(const char *unit)
{
    static const struct cda_pair per[] = {
        {"\u65e5", "d"},       {"\u5929", "d"}, {"d", "d"}, /* 日 天 */
        {"\u5468", "wk"},      {"wk", "wk"},                /* 周 */
        {"\u5c0f\u65f6", "h"}, {"\u65f6", "h"}, {"h", "h"}, /* 小时 时 */
        {"\u6708", "mo"},      {"mo", "mo"},                /* 月 */
    };
    const char *slash = unit != NULL ? strchr(unit, '/') : NULL;

    if (slash == NULL)
        return NULL;
    if (slash != unit && !(slash - unit == 3 && strncmp(unit, "\u6b21", 3) == 0)) /* 次 */
        return NULL;
    return CDA_LOOKUP(per, slash + 1);
}

/* The rateQuantity as Timing when it is a frequency (frequency_unit) of a
 * whole number, and no PIVL_TS gave the timing already. */
static int
rate_as_frequency(struct cda_ctx *c, json_t *dosage, const xmlNode *sbadm)
{
    xmlNodePtr rq = cda_child(sbadm, "rateQuantity");
    const char *per = frequency_unit(cda_attr(c, rq, "unit"));
    const char *v = cda_attr(c, rq, "value");
    char *end = NULL;
    long n = v != NULL ? strtol(v, &end, 10) : 0;

    if (per == NULL || json_object_get(dosage, "timing") != NULL)
        return BASE_OK;
    if (end == v || *end != '\0' || n <= 0 || n > 1000)
        return cda_warn(c, rq, "value", "frequency is not a whole number; skipped");
    return adapter_jset(dosage, "timing",
                        json_pack("{s:{s:I,s:i,s:s}}", "repeat", "frequency", (json_int_t)n,
                                  "period", 1, "periodUnit", per));
}

/* Each part is built right where it is stored, so a failure leaks nothing
 * (adapter_jset consumes its value even when it fails). */
/* rateQuantity (an infusion's mL/h) -> doseAndRate.rateQuantity, next to
 * the dose when there is one; maxDoseQuantity (RTO_PQ_PQ, "at most 4
 * tablets per 1 d") -> maxDosePerPeriod. */
static int
rate_and_max(struct cda_ctx *c, json_t *dosage, const xmlNode *sbadm)
{
    xmlNodePtr max = cda_child(sbadm, "maxDoseQuantity");
    xmlNodePtr rq = cda_child(sbadm, "rateQuantity");
    const char *unit = cda_attr(c, rq, "unit");
    json_t *dr = json_array_get(json_object_get(dosage, "doseAndRate"), 0);
    json_t *rate = NULL;

    /* A rate has a unit (mL/h).  <rateQuantity value="3" unit=""/> (a WS/T
     * 500 西药处方 generator's 药物使用频次 without its unit) is three of
     * something per something: as a rate it read as "3" of nothing. */
    if (rq != NULL && cda_attr(c, rq, "value") != NULL && cda_blank(unit) &&
        cda_attr(c, rq, "nullFlavor") == NULL)
        TRY(cda_warn(c, rq, "value",
                     "rateQuantity without a unit is neither a rate nor a frequency; skipped"));
    else if (frequency_unit(unit) == NULL)
        rate = cda_quantity(c, rq);

    if (rate != NULL) {
        if (dr != NULL)
            TRY(adapter_jset(dr, "rateQuantity", rate));
        else
            TRY(adapter_jpush(dosage, "doseAndRate", json_pack("{s:o}", "rateQuantity", rate)));
    }
    json_t *r = cda_ratio(c, max);
    return r != NULL ? adapter_jset(dosage, "maxDosePerPeriod", r) : BASE_OK;
}

/* Instruction (C-CDA 4.20, SUBJ inversionInd) -> patientInstruction;
 * precondition/criterion (C-CDA 4.25 "as needed for headache") ->
 * asNeededCodeableConcept, or asNeededBoolean when it names nothing. */
static int
instructions_and_prn(struct cda_ctx *c, json_t *dosage, const xmlNode *sbadm)
{
    CDA_EACH(rel, sbadm, "entryRelationship")
    {
        xmlNodePtr act = cda_child(rel, "act");

        if (act != NULL && cda_has_template(c, act, "2.16.840.1.113883.10.20.22.4.20") &&
            json_object_get(dosage, "patientInstruction") == NULL)
            TRY(adapter_jset_str(dosage, "patientInstruction",
                                 cda_narrative(c, cda_child(act, "text"))));
    }
    xmlNodePtr pre = cda_child(sbadm, "precondition");
    if (pre == NULL)
        return BASE_OK;
    json_t *why = cda_concept(c, cda_child(cda_child(pre, "criterion"), "value"));
    if (why != NULL)
        return adapter_jset(dosage, "asNeededCodeableConcept", why);
    return adapter_jset(dosage, "asNeededBoolean", json_true());
}

static int
dosage_parts(struct cda_ctx *c, json_t *dosage, json_t *res, const xmlNode *sbadm)
{
    json_t *route = cda_concept(c, cda_child(sbadm, "routeCode"));

    if (route != NULL)
        TRY(adapter_jset(dosage, "route", route));
    TRY(dose_and_rate(c, dosage, cda_child(sbadm, "doseQuantity")));
    TRY(rate_and_max(c, dosage, sbadm));
    TRY(instructions_and_prn(c, dosage, sbadm));
    TRY(adapter_jset_str(dosage, "text", cda_narrative(c, cda_child(sbadm, "text"))));
    TRY(medication_timing(c, res, dosage, sbadm));
    return rate_as_frequency(c, dosage, sbadm);
}

/* A reason: an Indication (C-CDA 4.19, typeCode RSON) or the QRDA Reason
 * template (2.16.840.1.113883.10.20.24.3.88, LOINC 77301-0 "reason care
 * action performed or not"), which C-CDA examples put under a negated
 * act without a typeCode. */
static bool
is_reason(struct cda_ctx *c, const xmlNode *rel, const xmlNode *obs)
{
    const char *type = cda_attr(c, rel, "typeCode");
    const char *code = cda_attr(c, cda_child(obs, "code"), "code");

    return (type != NULL && strcmp(type, "RSON") == 0) ||
           cda_has_template(c, obs, "2.16.840.1.113883.10.20.24.3.88") ||
           (code != NULL && strcmp(code, "77301-0") == 0);
}

/* Reasons -> reasonCode (the problem the drug is taken for), or, for an
 * act not done (negationInd), why not -> `not_done_field` (statusReason:
 * "refusal of treatment by patient"). */
static int
act_reasons(struct cda_ctx *c, json_t *res, const xmlNode *act, const char *not_done_field,
            bool one)
{
    const char *field = cda_negated(c, act) ? not_done_field : "reasonCode";

    CDA_EACH(rel, act, "entryRelationship")
    {
        xmlNodePtr obs = cda_child(rel, "observation");
        json_t *why;

        if (obs == NULL || !is_reason(c, rel, obs))
            continue;
        why = cda_concept(c, cda_child(obs, "value"));
        if (why == NULL)
            continue;
        if (one && field == not_done_field) {
            if (json_object_get(res, field) != NULL) {
                json_decref(why);
                continue;
            }
            TRY(adapter_jset(res, field, why));
        } else {
            TRY(adapter_jpush(res, field, why));
        }
    }
    return BASE_OK;
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

/* A Medication Status observation (LOINC 33999-4; CCD 2.16.840.1.113883.10.20.1.47)
 * under the activity: Allscripts marks every activity statusCode
 * "completed" -- the record is complete -- and says Active here, as its
 * narrative does.  Whether the patient still takes the drug is this. */
static const struct cda_pair med_status_obs[] = {
    {"55561003", "active"}, {"73425007", "completed"}, {"413322009", "completed"}};

static const char *
status_observation(struct cda_ctx *c, const xmlNode *sbadm)
{
    CDA_EACH(rel, sbadm, "entryRelationship")
    {
        xmlNodePtr o = cda_child(rel, "observation");
        const char *code = cda_attr(c, cda_child(o, "code"), "code");

        if (code != NULL && strcmp(code, "33999-4") == 0)
            return CDA_LOOKUP(med_status_obs, cda_attr(c, cda_child(o, "value"), "code"));
    }
    return NULL;
}

static int
medication_body(struct cda_ctx *c, json_t *res, xmlNodePtr sbadm, json_t *med)
{
    const char *st = CDA_LOOKUP(med_status, status_code(c, sbadm));
    const char *said = status_observation(c, sbadm);

    TRY(adapter_jset(res, "medicationCodeableConcept", med));
    if (said != NULL && (st == NULL || strcmp(st, "completed") == 0 || strcmp(st, "active") == 0))
        st = said;
    if (cda_negated(c, sbadm))
        st = "not-taken";
    if (st == NULL)
        st = mood_is(c, sbadm, "INT") ? "intended" : "unknown";
    TRY(adapter_jset_str(res, "status", st));
    TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    TRY(adapter_jset_str(res, "dateAsserted", author_time(c, sbadm)));
    TRY(act_reasons(c, res, sbadm, "statusReason", false));
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
    if (cda_says_nothing(med)) {
        json_decref(med);
        return cda_warn_nothing(c, sbadm);
    }
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

    if (!mood_is(c, sbadm, "EVN")) /* planned, not given: no Immunization */
        return cda_warn_planned(c, sbadm);
    TRY(cda_need_patient(c, sbadm, &have));
    if (!have)
        return BASE_OK;
    vaccine = material_concept(c, material(sbadm));
    if (vaccine == NULL)
        return cda_warn(c, sbadm, "required", "immunization names no vaccine; skipped");
    if (cda_says_nothing(vaccine)) {
        json_decref(vaccine);
        return cda_warn_nothing(c, sbadm);
    }
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

/* WS/T 500 输血记录 (C0013) and 麻醉记录 (C0011) write a transfusion as a
 * procedure without a code in the blood transfusion section (LOINC
 * 56836-0), the blood product it gave as its COMP 输血品种代码
 * (DE08.50.040.00, table 2.16.156.10011.2.3.1.251).  It was dropped ("names
 * nothing").  The product: its concept, or NULL. */
#define WST_TRANSFUSION_PRODUCT "DE08.50.040.00"

static json_t *
wst_transfusion_product(struct cda_ctx *c, const xmlNode *act)
{
    CDA_EACH(rel, act, "entryRelationship")
    {
        xmlNodePtr o = cda_child(rel, "observation");
        const char *de = cda_wst_element(c, o);

        if (de != NULL && strcmp(de, WST_TRANSFUSION_PRODUCT) == 0)
            return cda_concept(c, cda_child(o, "value"));
    }
    return NULL;
}

/* A code-less procedure with a blood product is a transfusion: SNOMED CT
 * 116859006 "Transfusion of blood product", the product named in the text
 * (it also goes to Procedure.usedCode). */
static json_t *
transfusion_code(struct cda_ctx *c, const xmlNode *act)
{
    json_t *product = wst_transfusion_product(c, act);
    json_t *code;
    const char *what;

    if (product == NULL)
        return NULL;
    what = json_string_value(json_object_get(product, "text"));
    if (what == NULL)
        what = json_string_value(
            json_object_get(json_array_get(json_object_get(product, "coding"), 0), "display"));
    code = adapter_cc("http://snomed.info/sct", "116859006", "Transfusion of blood product");
    if (code != NULL && what != NULL &&
        adapter_jset_str(code, "text", base_arena_sprintf(c->arena, "输血: %s", what)) != BASE_OK) {
        json_decref(code);
        code = NULL;
    }
    json_decref(product);
    return code;
}

/* The code (of a WS/T 500 procedure code element: its value), named by a
 * 手术名称 COMP observation when the code itself has no text. */
static json_t *
procedure_code(struct cda_ctx *c, const xmlNode *act)
{
    bool wst = cda_wst_element(c, act) != NULL;
    json_t *code = cda_concept(c, cda_child(act, wst ? "value" : "code"));
    const char *name = NULL;

    if (code == NULL && !wst)
        code = transfusion_code(c, act);

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

/* "Failed attempted procedure" (SNOMED 103709008) in a SUBJ act under the
 * procedure: the HL7 "Procedure Unsuccessful" example, the completed
 * procedure that did not succeed -> Procedure.outcome, with the narrative
 * reason as its text. */
static int
procedure_outcome(struct cda_ctx *c, json_t *res, const xmlNode *proc)
{
    CDA_EACH(rel, proc, "entryRelationship")
    {
        xmlNodePtr act = cda_child(rel, "act");
        xmlNodePtr code = cda_child(act != NULL ? act : cda_child(rel, "observation"), "code");
        const char *v = cda_attr(c, code, "code");
        json_t *cc;

        if (v == NULL || strcmp(v, "103709008") != 0)
            continue;
        cc = cda_concept(c, code);
        if (cc == NULL)
            continue;
        const char *why = cda_narrative(c, cda_child(code->parent, "text"));
        if (why != NULL && why[0] != '\0' && adapter_jset_str(cc, "text", why) != BASE_OK) {
            json_decref(cc);
            return cda_nomem(c);
        }
        return adapter_jset(res, "outcome", cc);
    }
    return BASE_OK;
}

/* `code` (may be NULL) is always consumed. */
static int
procedure_body(struct cda_ctx *c, json_t *res, xmlNodePtr act, json_t *code)
{
    const char *st = CDA_LOOKUP(proc_status, status_code(c, act));
    xmlNodePtr et = cda_child(act, "effectiveTime");

    if (code != NULL)
        TRY(adapter_jset(res, "code", code));
    if (cda_negated(c, act))
        st = "not-done";
    TRY(adapter_jset_str(res, "status", st != NULL ? st : "unknown"));
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
    TRY(act_reasons(c, res, act, "statusReason", true));
    TRY(cda_body_sites(c, res, act));
    TRY(procedure_outcome(c, res, act));
    json_t *product = wst_transfusion_product(c, act);
    if (product != NULL)
        TRY(adapter_jset(res, "usedCode", json_pack("[o]", product)));
    return add_performers(c, res, act);
}

int
cda_map_procedure(struct cda_ctx *c, xmlNodePtr act)
{
    json_t *res;
    json_t *code;
    bool have;

    if (wst_describes_procedure(c, act))
        return BASE_OK;
    if (!mood_is(c, act, "EVN")) /* planned (C-CDA MoodCodeEvnInt): not done */
        return cda_warn_planned(c, act);
    TRY(cda_need_patient(c, act, &have));
    if (!have)
        return BASE_OK;
    code = procedure_code(c, act);
    /* Allscripts closes its list with <procedure><code nullFlavor="UNK"/>
     * and nothing else: a Procedure of no kind (US Core requires the code). */
    if (code == NULL)
        return cda_warn(c, act, "required", "procedure names nothing (no code, no text); skipped");
    if (cda_says_nothing(code)) {
        json_decref(code);
        return cda_warn_nothing(c, act);
    }
    res = cda_resource(c, "Procedure");
    if (res == NULL) {
        json_decref(code);
        return cda_nomem(c);
    }
    if (procedure_body(c, res, act, code) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, act, "Procedure", NULL);
}
