/*
 * Result Observation (C-CDA 4.2) and Vital Sign Observation (4.27) ->
 * Observation; Result Organizer (4.1) -> DiagnosticReport.
 *
 * The value follows its xsi:type (HL7 V3 Data Types R1).  An IVL_PQ with
 * one open bound is how C-CDA writes "> 500 mg/dL" (the corpus example
 * "Result with greater than a specified value"): it becomes a Quantity
 * with a comparator (FHIR R4 datatypes.html#Quantity).
 */
#include <string.h>

#include "adapters/cda/cda_int.h"
#include "fhir/base/str.h"

#define PREGNANCY_OBS "2.16.840.1.113883.10.20.15.3.8"

static const struct cda_pair obs_status[] = {
    {"completed", "final"},     {"active", "preliminary"},         {"aborted", "cancelled"},
    {"cancelled", "cancelled"}, {"nullified", "entered-in-error"}, {"held", "registered"},
    {"new", "registered"},
};

static const struct cda_pair report_status[] = {
    {"completed", "final"},
    {"active", "partial"},
    {"aborted", "cancelled"},
    {"cancelled", "cancelled"},
    {"nullified", "entered-in-error"},
};

/* NullFlavor -> data-absent-reason (FHIR R4 ConceptMap cm-data-absent-reason-v3). */
static const struct cda_pair absent_reason[] = {
    {"UNK", "unknown"},
    {"NI", "unknown"},
    {"ASKU", "asked-unknown"},
    {"NAV", "temp-unknown"},
    {"NASK", "not-asked"},
    {"MSK", "masked"},
    {"NA", "not-applicable"},
    {"NAVU", "unknown"},
    {"OTH", "unsupported"},
    {"NINF", "negative-infinity"},
    {"PINF", "positive-infinity"},
    {"NP", "not-performed"},
};

static bool
open_bound(struct cda_ctx *c, const xmlNode *b)
{
    /* absent, or nullFlavor PINF/NINF/UNK: no number on that side (OTH
     * with a valued translation has one, cda_pq_value) */
    return b == NULL || cda_pq_value(c, b) == NULL;
}

/* One open side: a Quantity with comparator.  "inclusive" defaults to
 * true (HL7 V3 Data Types R1, IVL.low/highClosed). */
static json_t *
bounded_quantity(struct cda_ctx *c, const xmlNode *bound, bool is_low)
{
    const char *inc = cda_attr(c, bound, "inclusive");
    bool inclusive = inc == NULL || strcmp(inc, "false") != 0;
    json_t *q = cda_quantity(c, bound);

    if (q == NULL)
        return NULL;
    if (adapter_jset_str(q, "comparator",
                         is_low ? (inclusive ? ">=" : ">") : (inclusive ? "<=" : "<")) != BASE_OK) {
        json_decref(q);
        (void)cda_nomem(c);
        return NULL;
    }
    return q;
}

/* IVL_PQ value: valueRange when both ends are numbers, else a comparator. */
static int
set_interval(struct cda_ctx *c, json_t *res, const xmlNode *v)
{
    xmlNodePtr low = cda_child(v, "low");
    xmlNodePtr high = cda_child(v, "high");

    if (!open_bound(c, low) && !open_bound(c, high)) {
        json_t *range = json_object();

        if (range == NULL)
            return BASE_E_NOMEM;
        TRY(adapter_jset(res, "valueRange", range));
        json_t *lq = cda_quantity(c, low);
        if (lq != NULL)
            TRY(adapter_jset(range, "low", lq));
        json_t *hq = cda_quantity(c, high);
        if (hq != NULL)
            TRY(adapter_jset(range, "high", hq));
        if (cda_range_inverted(lq, hq)) {
            const char *unit = cda_attr(c, low, "unit");

            TRY(cda_warn(c, v, "value", "range low is above its high; kept as text"));
            (void)json_object_del(res, "valueRange");
            return adapter_jset_str(
                res, "valueString",
                base_arena_sprintf(c->arena, "%s-%s%s%s", cda_attr(c, low, "value"),
                                   cda_attr(c, high, "value"), unit != NULL ? " " : "",
                                   unit != NULL ? unit : ""));
        }
        return BASE_OK;
    }
    json_t *q = !open_bound(c, low)    ? bounded_quantity(c, low, true)
                : !open_bound(c, high) ? bounded_quantity(c, high, false)
                                       : NULL;
    return q != NULL ? adapter_jset(res, "valueQuantity", q) : BASE_OK;
}

static int
set_ratio(struct cda_ctx *c, json_t *res, const xmlNode *v)
{
    json_t *r = cda_ratio(c, v);

    return r != NULL ? adapter_jset(res, "valueRatio", r) : BASE_OK;
}

static int
set_integer(struct cda_ctx *c, json_t *res, const xmlNode *v)
{
    const char *text = cda_attr(c, v, "value");
    int64_t n;

    if (text == NULL || cda_blank(text)) /* generators write value="" for no data */
        return BASE_OK;
    if (!base_str_to_i64(base_str_from_cstr(text), &n) || n < INT32_MIN || n > INT32_MAX)
        return cda_warn(c, v, "value", "integer value is not a 32-bit integer; skipped");
    return adapter_jset(res, "valueInteger", json_integer(n));
}

static int
set_text_value(struct cda_ctx *c, json_t *res, const xmlNode *v)
{
    const char *t = cda_narrative(c, v);

    return adapter_jset_str(res, "valueString", t);
}

/* WS/T 500 lab results give the unit of a 检验定量结果 (REAL) as its own
 * COMP observation, 检查定量结果计量单位 DE04.30.016.00 (ST). */
static const char *
wst_unit(struct cda_ctx *c, const xmlNode *obs)
{
    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr inner = cda_child(rel, "observation");
        const char *de = cda_wst_element(c, inner);

        if (de != NULL && strcmp(de, "DE04.30.016.00") == 0)
            return cda_text(c, cda_child(inner, "value"));
    }
    return NULL;
}

/* PQ / REAL: a number, "<0.5" or ">=60" (exports put the comparator in
 * the value, which FHIR keeps as Quantity.comparator), else the text as
 * written, so a result such as "trace" is not lost. */
static int
set_pq(struct cda_ctx *c, json_t *res, const xmlNode *v)
{
    static const char *const comparators[] = {"<=", ">=", "<", ">"};
    const char *raw = cda_pq_value(c, v);
    const char *unit = cda_attr(c, v, "unit");
    const char *cmp = NULL;
    const char *num = raw;
    json_t *q;

    if (raw == NULL)
        return BASE_OK;
    while (*num == ' ')
        num++;
    for (size_t i = 0; cmp == NULL && i < BASE_ARRAY_LEN(comparators); i++) {
        if (strncmp(num, comparators[i], strlen(comparators[i])) == 0) {
            cmp = comparators[i];
            num += strlen(cmp);
        }
    }
    q = cda_quantity_of(c, v, num);
    if (q == NULL) {
        /* value="null" (Java concatenation of a missing number), "NA",
         * "无": no value, not the text "null kg" */
        if (c->err->rc != 0 || cda_blank(raw) || cda_filler_text(raw))
            return c->err->rc;
        TRY(cda_warn(c, v, "value", "quantity value is not a number; kept as text"));
        return adapter_jset_str(res, "valueString",
                                unit != NULL && !cda_blank(unit) && strcmp(unit, "1") != 0
                                    ? base_arena_sprintf(c->arena, "%s %s", raw, unit)
                                    : raw);
    }
    TRY(adapter_jset(res, "valueQuantity", q));
    if (json_object_get(q, "unit") == NULL)
        TRY(cda_set_unit(c, q, wst_unit(c, v->parent)));
    return cmp != NULL ? adapter_jset_str(q, "comparator", cmp) : BASE_OK;
}

/* A value without xsi:type (which the CDA schema requires, and exports
 * omit): its shape says what it is. */
static const char *
infer_type(struct cda_ctx *c, const xmlNode *v)
{
    if (cda_attr(c, v, "code") != NULL || cda_child(v, "translation") != NULL ||
        cda_child(v, "originalText") != NULL)
        return "CD";
    if (cda_attr(c, v, "value") != NULL)
        return "PQ";
    if (cda_child(v, "low") != NULL || cda_child(v, "high") != NULL)
        return "IVL_PQ";
    return "ST";
}

static bool
type_in(const char *t, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t, set[i]) == 0)
            return true;
    }
    return false;
}

static int
set_coded_or_text(struct cda_ctx *c, json_t *res, const xmlNode *v, const char *t)
{
    static const char *const coded[] = {"CD", "CE", "CV", "CO", "CS"};
    static const char *const text[] = {"ST", "ED", "SC"};
    json_t *x;

    if (type_in(t, coded, BASE_ARRAY_LEN(coded))) {
        x = cda_concept(c, v);
        return x != NULL ? adapter_jset(res, "valueCodeableConcept", x) : BASE_OK;
    }
    if (type_in(t, text, BASE_ARRAY_LEN(text)))
        return set_text_value(c, res, v);
    /* A type Observation.value[x] has no slot for (GLIST, PIVL_TS, ANY...):
     * say so rather than lose the value without a word; the original
     * document keeps it. */
    return cda_warn(c, v, "value", "value type is not mapped; kept in the attached document");
}

/* MO.currency is an ISO 4217 code; WS/T 500 templates write 元 (yuan). */
static const char *
iso_currency(const char *cur)
{
    static const struct cda_pair names[] = {
        {"\u5143", "CNY"}, {"\u4eba\u6c11\u5e01", "CNY"}, {"RMB", "CNY"}}; /* 元 人民币 */
    const char *iso = CDA_LOOKUP(names, cur);

    if (iso != NULL)
        return iso;
    for (size_t i = 0; cur != NULL && i < 3; i++) {
        if (cur[i] < 'A' || cur[i] > 'Z')
            return NULL;
    }
    return cur != NULL && cur[3] == '\0' ? cur : NULL;
}

/* MO (money, HL7 V3 Data Types R1): a Quantity in ISO 4217 currency; a
 * currency that is no ISO code stays the unit's text only. */
static int
set_money(struct cda_ctx *c, json_t *res, const xmlNode *v)
{
    const char *cur = cda_attr(c, v, "currency");
    const char *iso = iso_currency(cur);
    const char *raw = cda_attr(c, v, "value");
    json_t *num = raw != NULL ? adapter_decimal(base_str_from_cstr(raw)) : NULL;
    json_t *q;

    if (num == NULL)
        return cda_blank(raw) ? BASE_OK
                              : cda_warn(c, v, "value", "money value is not a number; skipped");
    q = json_pack("{s:o}", "value", num);
    if (q == NULL)
        return cda_nomem(c);
    if (cur != NULL && !cda_blank(cur) &&
        (adapter_jset_str(q, "unit", cur) != BASE_OK ||
         (iso != NULL && (adapter_jset_str(q, "system", "urn:iso:std:iso:4217") != BASE_OK ||
                          adapter_jset_str(q, "code", iso) != BASE_OK)))) {
        json_decref(q);
        return cda_nomem(c);
    }
    return adapter_jset(res, "valueQuantity", q);
}

/* Chinese code tables give "unknown" and "not tested" codes of their own
 * (ABO 血型代码表 5 不详, Rh(D) 4 未查; WS 364): a coded value whose name
 * says so is no result but its absence (data-absent-reason). */
static const struct cda_pair absent_words[] = {
    {"\u4e0d\u8be6", "unknown"},       /* 不详 */
    {"\u672a\u77e5", "unknown"},       /* 未知 */
    {"\u672a\u67e5", "not-performed"}, /* 未查 */
    {"\u672a\u6d4b", "not-performed"}, /* 未测 */
    {"\u672a\u68c0", "not-performed"}, /* 未检 */
    {"\u672a\u505a", "not-performed"}, /* 未做 */
};

static const char *
absent_by_name(struct cda_ctx *c, const xmlNode *v)
{
    const char *name = cda_attr(c, v, "displayName");

    if (cda_attr(c, v, "code") == NULL || name == NULL)
        return NULL;
    return CDA_LOOKUP(absent_words,
                      base_str_dup0(c->arena, base_str_trim(base_str_from_cstr(name))));
}

int
cda_set_value(struct cda_ctx *c, json_t *res, const xmlNode *v)
{
    const char *t = cda_xsi_type(c, v);

    if (v == NULL)
        return BASE_OK;
    const char *absent = CDA_LOOKUP(absent_reason, cda_attr(c, v, "nullFlavor"));
    if (absent == NULL)
        absent = absent_by_name(c, v);
    if (absent != NULL && cda_pq_value(c, v) == NULL)
        return adapter_jset(
            res, "dataAbsentReason",
            adapter_cc("http://terminology.hl7.org/CodeSystem/data-absent-reason", absent, NULL));
    if (t == NULL)
        t = infer_type(c, v);
    if (strcmp(t, "PQ") == 0 || strcmp(t, "REAL") == 0)
        return set_pq(c, res, v);
    /* IVL_INT / IVL_REAL ("1-3" casts, a score range) are Ranges too */
    if (strcmp(t, "IVL_PQ") == 0 || strcmp(t, "IVL_INT") == 0 || strcmp(t, "IVL_REAL") == 0)
        return set_interval(c, res, v);
    if (strcmp(t, "MO") == 0)
        return set_money(c, res, v);
    if (strcmp(t, "INT") == 0)
        return set_integer(c, res, v);
    if (strcmp(t, "BL") == 0) {
        const char *b = cda_attr(c, v, "value");

        if (b != NULL && (strcmp(b, "true") == 0 || strcmp(b, "false") == 0))
            return adapter_jset(res, "valueBoolean", json_boolean(strcmp(b, "true") == 0));
        return BASE_OK;
    }
    if (strcmp(t, "TS") == 0)
        return adapter_jset_str(res, "valueDateTime", cda_ts(c, v, false));
    if (strcmp(t, "IVL_TS") == 0) {
        json_t *p = cda_period(c, v);

        return p != NULL ? adapter_jset(res, "valuePeriod", p) : BASE_OK;
    }
    if (strcmp(t, "RTO") == 0 || strncmp(t, "RTO_", 4) == 0)
        return set_ratio(c, res, v);
    return set_coded_or_text(c, res, v, t);
}

static json_t *
reference_range(struct cda_ctx *c, const xmlNode *range)
{
    xmlNodePtr v = cda_child(range, "value");
    const char *interp = cda_attr(c, cda_child(range, "interpretationCode"), "code");
    json_t *rr = json_object();
    const char *text = cda_narrative(c, cda_child(range, "text"));

    if (rr == NULL)
        return NULL;
    if (v != NULL && cda_attr(c, v, "nullFlavor") == NULL) {
        json_t *low =
            open_bound(c, cda_child(v, "low")) ? NULL : cda_quantity(c, cda_child(v, "low"));
        json_t *high =
            open_bound(c, cda_child(v, "high")) ? NULL : cda_quantity(c, cda_child(v, "high"));

        if (cda_range_inverted(low, high)) { /* rng-2: the bounds are not kept */
            (void)cda_warn(c, v, "value", "reference range low is above its high; skipped");
            json_decref(low);
            json_decref(high);
            low = high = NULL;
        }
        if ((low != NULL && adapter_jset(rr, "low", low) != BASE_OK) ||
            (high != NULL && adapter_jset(rr, "high", high) != BASE_OK))
            goto fail;
        if (low == NULL && high == NULL && text == NULL)
            text = cda_text(c, v);
    }
    /* A range marked "N" is the normal range (referencerange-meaning);
     * ranges for other interpretations keep their meaning as text. */
    if (interp != NULL && strcmp(interp, "N") == 0 &&
        adapter_jset(rr, "type",
                     adapter_cc("http://terminology.hl7.org/CodeSystem/referencerange-meaning",
                                "normal", "Normal Range")) != BASE_OK)
        goto fail;
    if (interp != NULL && strcmp(interp, "N") != 0 && text == NULL)
        text = base_arena_sprintf(c->arena, "range for interpretation %s", interp);
    if (text != NULL && text[0] != '\0' && adapter_jset_str(rr, "text", text) != BASE_OK)
        goto fail;
    /* FHIR R4 obs-3: a range needs low, high or text */
    if (json_object_get(rr, "low") == NULL && json_object_get(rr, "high") == NULL &&
        json_object_get(rr, "text") == NULL)
        goto fail;
    return rr;
fail:
    json_decref(rr);
    return NULL;
}

/* An observation whose value is missing or empty (value="", a WS/T 500
 * element left blank, a vital sign not taken) says why no value: FHIR
 * R4 vital signs vs-2 and US Core ask for a value or a dataAbsentReason,
 * and "unknown" is all the document tells. */
static int
absent_unless_valued(json_t *res)
{
    const char *key;
    json_t *v;

    json_object_foreach(res, key, v)
    {
        if (strncmp(key, "value", 5) == 0 || strcmp(key, "dataAbsentReason") == 0)
            return BASE_OK;
    }
    return adapter_jset(res, "dataAbsentReason",
                        adapter_cc("http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                   "unknown", "Unknown"));
}

/* interpretationCode is drawn from HL7 v3 ObservationInterpretation
 * (C-CDA Result Observation; CDA R2 binds it there), but exports often
 * leave out the codeSystem (<interpretationCode code="H"/>): a code of
 * that table is then coded in it, rather than a coding of no system. */
static const char *const v3_interpretation[] = {
    "<", ">",  "A",  "AA", "B", "D",   "DET", "H",   "HH", "HU",  "HX", "I", "IE", "IND",
    "L", "LL", "LU", "LX", "N", "NCL", "ND",  "NEG", "NR", "POS", "R",  "S", "U",  "W"};

static json_t *
interpretation(struct cda_ctx *c, const xmlNode *ic)
{
    json_t *cc = cda_concept(c, ic);
    json_t *coding = json_array_get(json_object_get(cc, "coding"), 0);
    const char *code = json_string_value(json_object_get(coding, "code"));

    if (code == NULL || json_object_get(coding, "system") != NULL)
        return cc;
    for (size_t i = 0; i < BASE_ARRAY_LEN(v3_interpretation); i++) {
        if (strcmp(code, v3_interpretation[i]) == 0 &&
            json_object_set_new(
                coding, "system",
                json_string(
                    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation")) != 0) {
            json_decref(cc);
            return NULL;
        }
    }
    return cc;
}

static int
observation_extras(struct cda_ctx *c, json_t *res, const xmlNode *obs)
{
    CDA_EACH(ic, obs, "interpretationCode")
    {
        json_t *cc = interpretation(c, ic);

        if (cc != NULL)
            TRY(adapter_jpush(res, "interpretation", cc));
    }
    CDA_EACH(r, obs, "referenceRange")
    {
        json_t *rr = reference_range(c, cda_child(r, "observationRange"));

        if (rr != NULL)
            TRY(adapter_jpush(res, "referenceRange", rr));
    }
    return BASE_OK;
}

int
cda_observation_time(struct cda_ctx *c, json_t *res, const xmlNode *et)
{
    xmlNodePtr low = cda_child(et, "low");
    xmlNodePtr high = cda_child(et, "high");
    const char *lv = cda_attr(c, low, "value");
    const char *hv = cda_attr(c, high, "value");

    if (lv != NULL && hv != NULL && strcmp(lv, hv) != 0 && cda_attr(c, et, "value") == NULL) {
        json_t *p = cda_period(c, et);

        return p != NULL ? adapter_jset(res, "effectivePeriod", p) : BASE_OK;
    }
    return adapter_jset_str(res, "effectiveDateTime", cda_time_point(c, et));
}

/* An organizer (Result or Vital Signs Organizer, a panel in a panel)
 * around `obs` whose statusCode is nullified: the whole panel was
 * recorded in error, its results with it.  The DiagnosticReport said
 * entered-in-error while its glucose stayed a final result. */
bool
cda_in_nullified_organizer(struct cda_ctx *c, const xmlNode *obs)
{
    for (const xmlNode *n = obs != NULL ? obs->parent : NULL; n != NULL && cda_is(n, "component");
         n = n->parent != NULL ? n->parent->parent : NULL) {
        const xmlNode *org = n->parent;
        const char *st;

        if (org == NULL || org->type != XML_ELEMENT_NODE || !cda_is(org, "organizer"))
            return false;
        st = cda_attr(c, cda_child(org, "statusCode"), "code");
        if (st != NULL && strcmp(st, "nullified") == 0)
            return true;
    }
    return false;
}

static int
observation_body(struct cda_ctx *c, json_t *res, const xmlNode *obs, enum cda_kind kind,
                 json_t *code)
{
    static const struct {
        const char *code;
        const char *display;
    } categories[] = {{"laboratory", "Laboratory"},
                      {"vital-signs", "Vital Signs"},
                      {"social-history", "Social History"}};
    size_t cat = kind == CDA_VITAL || kind == CDA_EXAM ? 1 : kind == CDA_SOCIAL ? 2 : 0;
    const char *st = CDA_LOOKUP(obs_status, cda_attr(c, cda_child(obs, "statusCode"), "code"));

    if (cda_in_nullified_organizer(c, obs))
        st = "entered-in-error";
    TRY(adapter_jset(res, "code", code)); /* first: consumed even on failure */
    TRY(adapter_jset_str(res, "status", st != NULL ? st : "final"));
    TRY(adapter_jpush(res, "category",
                      adapter_cc("http://terminology.hl7.org/CodeSystem/observation-category",
                                 categories[cat].code, categories[cat].display)));
    if (c->patient != NULL)
        TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    if (c->encounter != NULL)
        TRY(adapter_jset(res, "encounter", adapter_reference(c->encounter, NULL)));
    TRY(cda_observation_time(c, res, cda_child(obs, "effectiveTime")));
    if (c->result_time != NULL && json_object_get(res, "effectiveDateTime") == NULL &&
        json_object_get(res, "effectivePeriod") == NULL)
        TRY(cda_observation_time(c, res, c->result_time));
    if (cda_unknown_pregnancy(c, obs))
        TRY(adapter_jset(res, "valueCodeableConcept",
                         adapter_cc("http://snomed.info/sct", "261665006", "Unknown")));
    else if (cda_negated(c, obs)) /* only a Pregnancy Observation gets here */
        TRY(adapter_jset(res, "valueCodeableConcept",
                         adapter_cc("http://snomed.info/sct", "60001007", "Not pregnant")));
    else
        TRY(cda_set_value(c, res, cda_child(obs, "value")));
    TRY(absent_unless_valued(res));
    return observation_extras(c, res, obs);
}

/* WS/T 500 vital-sign data elements (WS 363) -> the LOINC codes of FHIR
 * R4's vital signs profiles, added next to the data element so that
 * readings compare across hospitals. */
static const struct cda_pair wst_vital_loinc[] = {
    {"DE04.10.186.00", "8310-5"},  /* 体温 body temperature */
    {"DE04.10.118.00", "8867-4"},  /* 脉率 pulse rate */
    {"DE04.10.081.00", "9279-1"},  /* 呼吸频率 respiratory rate */
    {"DE04.10.174.00", "8480-6"},  /* 收缩压 systolic */
    {"DE04.10.176.00", "8462-4"},  /* 舒张压 diastolic */
    {"DE04.10.167.00", "8302-2"},  /* 身高 body height */
    {"DE04.10.188.00", "29463-7"}, /* 体重 body weight */
    {"DE04.50.149.00", "2708-6"},  /* 血氧饱和度 oxygen saturation (护理记录) */
    {"DE04.10.206.00", "8867-4"},  /* 心率 heart rate (健康档案 随访) */
    {"DE05.10.075.00", "39156-5"}, /* 体质指数 body mass index (健康档案 随访) */
};

/* HL7 C-CDA example "Unknown if Pregnant": the observation's nullFlavor UNK
 * says the status is not known, its value still names Pregnancy.  FHIR has
 * a value for that: SNOMED 261665006 Unknown (US Core pregnancy status). */
bool
cda_unknown_pregnancy(struct cda_ctx *c, const xmlNode *obs)
{
    const char *nf = cda_attr(c, obs, "nullFlavor");

    return nf != NULL && (strcmp(nf, "UNK") == 0 || strcmp(nf, "ASKU") == 0) &&
           cda_has_template(c, obs, PREGNANCY_OBS);
}

/* CCD 1.0 / HITSP C32 vital signs are coded in SNOMED CT (the HL7 CCD
 * sample: 50373000 "Body height"); FHIR R4's vital signs profiles need the
 * LOINC code, added next to it. */
static const struct cda_pair snomed_vital_loinc[] = {
    {"50373000", "8302-2"},  /* body height */
    {"27113001", "29463-7"}, /* body weight */
    {"271649006", "8480-6"}, /* systolic */
    {"271650006", "8462-4"}, /* diastolic */
    {"386725007", "8310-5"}, /* body temperature */
    {"78564009", "8867-4"},  /* pulse rate */
    {"364075005", "8867-4"}, /* heart rate */
    {"86290005", "9279-1"},  /* respiratory rate */
    {"60621009", "39156-5"}, /* body mass index */
};

static json_t *
observation_code(struct cda_ctx *c, const xmlNode *obs)
{
    xmlNodePtr cd = cda_child(obs, "code");
    json_t *code = cda_concept(c, cd);
    const char *loinc = CDA_LOOKUP(wst_vital_loinc, cda_wst_element(c, obs));
    const char *sys = cda_attr(c, cd, "codeSystem");

    if (loinc == NULL && sys != NULL && strcmp(sys, "2.16.840.1.113883.6.96") == 0)
        loinc = CDA_LOOKUP(snomed_vital_loinc, cda_attr(c, cd, "code"));

    /* The Pregnancy Observation (2.16.840.1.113883.10.20.15.3.8) is coded
     * ASSERTION, which names no question; LOINC 82810-3 "Pregnancy status"
     * does (C-CDA on FHIR, US Core pregnancy status). */
    if (loinc == NULL && cda_has_template(c, obs, PREGNANCY_OBS))
        loinc = "82810-3";
    if (code != NULL && loinc != NULL &&
        adapter_cc_add_coding(code, "http://loinc.org", loinc, NULL, NULL) != BASE_OK) {
        json_decref(code);
        (void)cda_nomem(c);
        return NULL;
    }
    return code;
}

/* WS/T 500 辅助检查 (门急诊病历, 入院记录): the observation of 辅助检查项目
 * DE04.30.010.00 holds the examination's name ("胸部X线") and its COMP
 * observation 辅助检查结果 DE04.30.009.00 the finding.  Mapped as it
 * stands the finding was lost and the name became the value of a
 * "laboratory" result.  The examination names the observation, the
 * finding is its value; no category (it is imaging, ECG... not a lab). */
#define DE_EXAM_ITEM   "DE04.30.010.00"
#define DE_EXAM_RESULT "DE04.30.009.00"

static int
wst_exam_item(struct cda_ctx *c, json_t *res, const xmlNode *obs)
{
    const char *item = cda_text(c, cda_child(obs, "value"));
    const char *finding = "";

    CDA_EACH(rel, obs, "entryRelationship")
    {
        xmlNodePtr inner = cda_child(rel, "observation");
        const char *e = cda_wst_element(c, inner);

        if (e != NULL && strcmp(e, DE_EXAM_RESULT) == 0)
            finding = cda_text(c, cda_child(inner, "value"));
    }
    if (item[0] == '\0' || cda_filler_text(item))
        return BASE_OK;
    TRY(adapter_jset_str(json_object_get(res, "code"), "text", item));
    (void)json_object_del(res, "category");
    (void)json_object_del(res, "valueString");
    if (finding[0] != '\0' && !cda_filler_text(finding)) {
        (void)json_object_del(res, "dataAbsentReason");
        return adapter_jset_str(res, "valueString", finding);
    }
    return adapter_jset(res, "dataAbsentReason",
                        adapter_cc("http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                   "unknown", "Unknown"));
}

int
cda_map_observation(struct cda_ctx *c, xmlNodePtr obs, enum cda_kind kind, const char **ref)
{
    json_t *code;
    json_t *res;
    const char *mood = cda_attr(c, obs, "moodCode");

    *ref = NULL;
    if (mood != NULL && strcmp(mood, "EVN") != 0)
        return cda_warn_planned(c, obs);
    /* negationInd: the value was NOT found ("HBsAg: not positive", "not a
     * current smoker").  FHIR R4 Observation cannot negate its value, and
     * mapped as it stands the finding would read as present.  The one
     * negation FHIR has a value for: not pregnant (US Core pregnancy
     * status 60001007).  The rest stays in the attached document. */
    if (cda_negated(c, obs) && !cda_has_template(c, obs, PREGNANCY_OBS))
        return cda_warn(c, obs, "not-supported",
                        "negated observation (its value was not found): FHIR R4 Observation "
                        "cannot negate a value; kept in the attached document");
    /* A WS/T 500 physical examination lists findings as text; only its
     * vital signs are observations of their own. */
    if (kind == CDA_EXAM && CDA_LOOKUP(wst_vital_loinc, cda_wst_element(c, obs)) == NULL)
        return BASE_OK;
    code = observation_code(c, obs);
    if (code == NULL)
        return cda_warn(c, obs, "required", "observation has no code; skipped");
    if (cda_says_nothing(code) && cda_child(obs, "value") == NULL) {
        json_decref(code);
        return cda_warn_nothing(c, obs);
    }
    res = cda_resource(c, "Observation");
    if (res == NULL) {
        json_decref(code);
        return cda_nomem(c);
    }
    if (observation_body(c, res, obs, kind, code) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    const char *element = cda_wst_element(c, obs);
    if (element != NULL && strcmp(element, DE_EXAM_ITEM) == 0 &&
        wst_exam_item(c, res, obs) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    /* Observation.subject is optional: section fragments without a
     * patient still give their results. */
    return cda_emit(c, res, obs, "Observation", ref);
}

/* The time all of an organizer's results share, if they share one. */
static const xmlNode *
shared_result_time(struct cda_ctx *c, const xmlNode *org)
{
    const xmlNode *first = NULL;
    const char *value = NULL;

    CDA_EACH(comp, org, "component")
    {
        xmlNodePtr et = cda_child(cda_child(comp, "observation"), "effectiveTime");
        const char *v = cda_attr(c, et, "value");

        if (v == NULL || (value != NULL && strcmp(v, value) != 0))
            return NULL;
        if (first == NULL) {
            first = et;
            value = v;
        }
    }
    return first;
}

/* DiagnosticReport.effective (US Core requires it): the organizer's
 * effectiveTime; when it has none (Partners and others send the time on
 * the results only) or it cannot be read (the HL7 example "Result with
 * greater than a specified value" has a 13-digit low), the results' time
 * if they all share one -- the report is of that specimen time. */
static int
report_time(struct cda_ctx *c, json_t *res, const xmlNode *org)
{
    xmlNodePtr own = cda_child(org, "effectiveTime");
    const xmlNode *shared;

    if (own != NULL && cda_attr(c, own, "nullFlavor") == NULL) {
        TRY(cda_observation_time(c, res, own));
        if (json_object_get(res, "effectiveDateTime") != NULL ||
            json_object_get(res, "effectivePeriod") != NULL)
            return BASE_OK;
    }
    shared = shared_result_time(c, org);
    return shared != NULL ? cda_observation_time(c, res, shared) : BASE_OK;
}

static int
report_body(struct cda_ctx *c, json_t *res, const xmlNode *org, json_t *results)
{
    const char *st = CDA_LOOKUP(report_status, cda_attr(c, cda_child(org, "statusCode"), "code"));
    json_t *code = cda_concept(c, cda_child(org, "code"));

    if (code == NULL) /* DiagnosticReport.code is 1..1 */
        code = json_pack("{s:s}", "text", "Results");
    TRY(adapter_jset(res, "code", code));
    TRY(adapter_jset_str(res, "status", st != NULL ? st : "final"));
    TRY(adapter_jpush(
        res, "category",
        adapter_cc("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")));
    if (c->patient != NULL)
        TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    if (c->encounter != NULL)
        TRY(adapter_jset(res, "encounter", adapter_reference(c->encounter, NULL)));
    TRY(report_time(c, res, org));
    return adapter_jset(res, "result", json_incref(results));
}

int
cda_map_report(struct cda_ctx *c, xmlNodePtr org)
{
    json_t *results = json_array();
    json_t *res = NULL;
    int rc;

    if (results == NULL)
        return cda_nomem(c);
    if (cda_wst_lab_item(c, org)) {
        json_decref(results);
        return cda_map_wst_lab_item(c, org);
    }
    CDA_EACH(comp, org, "component")
    {
        const char *ref = NULL;
        xmlNodePtr obs = cda_child(comp, "observation");

        if (obs == NULL)
            continue;
        /* a result without its own time takes the organizer's, which
         * spans its results (C-CDA Result Organizer effectiveTime) */
        c->result_time = cda_child(org, "effectiveTime");
        rc = cda_map_observation(c, obs, CDA_RESULT, &ref);
        c->result_time = NULL;
        if (rc == BASE_OK && ref != NULL &&
            json_array_append_new(results, adapter_reference(ref, NULL)) != 0)
            rc = cda_nomem(c);
        if (rc != BASE_OK)
            goto out;
    }
    rc = BASE_OK;
    if (json_array_size(results) == 0 || !cda_is(org, "organizer"))
        goto out; /* a report without results says nothing of its own */
    res = cda_resource(c, "DiagnosticReport");
    if (res == NULL || report_body(c, res, org, results) != BASE_OK) {
        json_decref(res);
        rc = cda_nomem(c);
        goto out;
    }
    rc = cda_emit(c, res, org, "DiagnosticReport", NULL);
out:
    json_decref(results);
    return rc;
}
