/*
 * Pharmacy and immunization: ORC + RXE or RXO -> MedicationRequest (TQ1 ->
 * dosage timing), RXA -> Immunization, RXR -> route and site of either.
 * v2-to-FHIR guide: Segment RXE / RXO to MedicationRequest, TQ1 to Timing,
 * RXA to Immunization, RXR.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"
#include "fhir/validate/fhir_validate.h"

/* Where RXE (encoded order) and RXO (order detail) keep the same things
 * (v2.5.1 ch. 4A.3.1, 4A.3.4). */
struct med_fields {
    const char *name;        /* the give code field, for code-system fallbacks */
    const char *reason_name; /* the indication field, likewise */
    uint32_t give;           /* give / requested give code */
    uint32_t min, max, units;
    uint32_t instr; /* provider's administration instructions */
    uint32_t pharm; /* pharmacy/treatment instructions (CE, repeating) */
    uint32_t disp, disp_units, refills;
    uint32_t reason; /* give indication */
    uint32_t rx;     /* prescription number (RXE-15), 0 when none */
    uint32_t tq;     /* quantity/timing (RXE-1, TQ), 0 when none */
};

static const struct med_fields rxe_fields = {.name = "RXE-2",
                                             .reason_name = "RXE-27",
                                             .give = 2,
                                             .min = 3,
                                             .max = 4,
                                             .units = 5,
                                             .instr = 7,
                                             .pharm = 21,
                                             .disp = 10,
                                             .disp_units = 11,
                                             .refills = 12,
                                             .reason = 27,
                                             .rx = 15,
                                             .tq = 1};
static const struct med_fields rxo_fields = {.name = "RXO-1",
                                             .reason_name = "RXO-20",
                                             .give = 1,
                                             .min = 2,
                                             .max = 3,
                                             .units = 4,
                                             .instr = 7,
                                             .pharm = 6,
                                             .disp = 11,
                                             .disp_units = 12,
                                             .refills = 13,
                                             .reason = 20,
                                             .rx = 0,
                                             .tq = 0};

/* A dose amount (RXE-3/4, RXO-2/3: NM).  Some order entry systems write
 * the whole sig there ("500 MG PO BID x10D"): not a number, so it is kept
 * in the dosage text instead of being dropped. */
static struct base_str
dose_amount(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field, struct base_str *text)
{
    struct base_str raw = map_field(c, seg, field);
    struct base_str v = map_decimal(c, raw);

    if (raw.len > 0 && v.len == 0) {
        struct at at = {seg, field, 1};

        map_warn(c, &at, "dose amount is not a number; kept in the dosage text");
        *text = raw;
    }
    return v;
}

/* dosageInstruction.text (the instructions, RXE-7 / RXO-7) and doseAndRate
 * from the minimum and maximum amounts: a range when they differ, a
 * quantity when only one is given (v2-to-FHIR RXE, RXO). */
static void
dose(struct mctx *c, struct hl7v2_j *dosage, const struct hl7v2_seg *seg,
     const struct med_fields *f, struct base_str instr)
{
    struct at uat;
    struct base_str unit = map_rep(c, seg, f->units, 1, &uat);
    struct base_str text[3] = {instr, BASE_STR_NULL, BASE_STR_NULL};
    struct base_str lo = dose_amount(c, seg, f->min, &text[1]);
    struct base_str hi = dose_amount(c, seg, f->max, &text[2]);
    struct hl7v2_j *dr = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, dosage, "doseAndRate"), NULL);

    /* a minimum above the maximum (Range rng-2): which one is wrong is
     * unknown, so neither is a bound; both stay in the dosage text */
    if (lo.len > 0 && hi.len > 0 && fhir_validate_decimal_cmp(lo.ptr, lo.len, hi.ptr, hi.len) > 0) {
        struct at at = {seg, f->min, 1};

        map_warn(c, &at, "minimum dose above the maximum; kept in the dosage text");
        text[1] = map_field(c, seg, f->min);
        text[2] = map_field(c, seg, f->max);
        lo = hi = BASE_STR_NULL;
    }
    hl7v2_j_str(&c->jb, dosage, "text",
                text[1].len + text[2].len > 0 ? map_join(c, text, 3, "; ") : instr);
    if (lo.len > 0 && hi.len > 0 && !base_str_eq(lo, hi)) {
        struct hl7v2_j *r = hl7v2_j_obj(&c->jb, dr, "doseRange");

        hl7v2_j_add(r, "low", map_quantity(c, lo, &uat, unit));
        hl7v2_j_add(r, "high", map_quantity(c, hi, &uat, unit));
    } else if (lo.len > 0 || hi.len > 0) {
        hl7v2_j_add(dr, "doseQuantity", map_quantity(c, lo.len > 0 ? lo : hi, &uat, unit));
    }
}

static void
dispense(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *seg,
         const struct med_fields *f)
{
    struct at uat;
    struct base_str unit = map_rep(c, seg, f->disp_units, 1, &uat);
    struct base_str amount = map_decimal(c, map_field(c, seg, f->disp));
    struct hl7v2_j *d = hl7v2_j_obj(&c->jb, res, "dispenseRequest");
    int64_t refills;

    hl7v2_j_add(d, "quantity", map_quantity(c, amount, &uat, unit));
    if (base_str_to_i64(map_field(c, seg, f->refills), &refills) && refills >= 0 && refills < 10000)
        hl7v2_j_num(&c->jb, d, "numberOfRepeatsAllowed", hl7v2_j_fmt(&c->jb, "%d", (int)refills));
}

#define SYS_V2_0335 "http://terminology.hl7.org/CodeSystem/v2-0335"

/* A repeat pattern (RPT, or the RI of a TQ) as Timing.code: a code with
 * its own coding system keeps it; a bare one is a table 0335 code (BID,
 * Q8H, …), which is what the field is bound to. */
static struct hl7v2_j *
repeat_code(struct mctx *c, const struct at *at, struct base_str rep, uint32_t comp)
{
    struct hl7v2_j *cc;
    struct base_str code = map_txt(c, at, rep, comp, 0);

    if (comp == 1 && map_txt(c, at, rep, 3, 0).len > 0)
        return map_cwe(c, at, rep, "TQ1-3");
    cc = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    map_coding(c, hl7v2_j_arr(&c->jb, cc, "coding"), SYS_V2_0335, code, NULL);
    if (comp == 1)
        hl7v2_j_str(&c->jb, cc, "text", map_txt(c, at, rep, 2, 0));
    return cc;
}

/* dosageInstruction.timing: code, and the bounds from start/end times.
 * v2-to-FHIR: TQ1 -> Timing (TQ1-3 repeat pattern, TQ1-7/8 start/end). */
static void
timing(struct mctx *c, const struct at *at, struct hl7v2_j *dosage, struct hl7v2_j *code,
       struct base_str start, struct base_str end)
{
    struct hl7v2_j *t;

    if (dosage == NULL || hl7v2_j_get(dosage, "timing") != NULL)
        return;
    t = hl7v2_j_obj(&c->jb, dosage, "timing");
    hl7v2_j_add(t, "code", code);
    (void)map_period(c, at, hl7v2_j_obj(&c->jb, t, "repeat"), "boundsPeriod", start, end);
}

/* TQ-3 duration (v2.5.1 4.4.3): "D10" ten days, S M H D W L seconds to
 * months, "X3" three times -> Timing.repeat.boundsDuration (when no start
 * or end bounds it already) or repeat.count.  "INDEF" and others: nothing. */
static void
timing_duration(struct mctx *c, struct hl7v2_j *dosage, struct base_str d)
{
    static const char *const ucum[][2] = {{"S", "s"}, {"M", "min"}, {"H", "h"},
                                          {"D", "d"}, {"W", "wk"},  {"L", "mo"}};
    struct hl7v2_j *repeat;
    struct base_str n;
    int64_t v;

    if (dosage == NULL || d.len < 2)
        return;
    n = base_str_sub(d, 1, d.len);
    if (!base_str_to_i64(n, &v) || v <= 0 || v > 100000)
        return;
    repeat = hl7v2_j_get(hl7v2_j_get(dosage, "timing"), "repeat");
    if (repeat == NULL)
        repeat = hl7v2_j_obj(&c->jb, hl7v2_j_obj(&c->jb, dosage, "timing"), "repeat");
    if (d.ptr[0] == 'X') {
        hl7v2_j_num(&c->jb, repeat, "count", hl7v2_j_fmt(&c->jb, "%d", (int)v));
        return;
    }
    if (hl7v2_j_present(hl7v2_j_get(repeat, "boundsPeriod")))
        return;
    for (size_t k = 0; k < BASE_ARRAY_LEN(ucum); k++) {
        if (d.ptr[0] == ucum[k][0][0]) {
            struct hl7v2_j *q = hl7v2_j_obj(&c->jb, repeat, "boundsDuration");

            hl7v2_j_num(&c->jb, q, "value", hl7v2_j_fmt(&c->jb, "%d", (int)v));
            hl7v2_j_cstr(&c->jb, q, "unit", ucum[k][1]);
            hl7v2_j_cstr(&c->jb, q, "system", "http://unitsofmeasure.org");
            hl7v2_j_cstr(&c->jb, q, "code", ucum[k][1]);
            return;
        }
    }
}

/* The TQ data type of RXE-1 / ORC-7 (v2.3-2.4; kept for compatibility
 * since): component 2 is the interval (its first subcomponent the repeat
 * pattern), 4 the start and 5 the end. */
static void
timing_tq(struct mctx *c, struct hl7v2_j *dosage, const struct hl7v2_seg *seg, uint32_t field)
{
    struct at at;
    struct base_str rep;

    if (seg == NULL)
        return;
    rep = map_rep(c, seg, field, 1, &at);
    if (rep.len == 0)
        return;
    timing(c, &at, dosage, repeat_code(c, &at, rep, 2),
           map_ts(c, &at, map_txt(c, &at, rep, 4, 0), TS_DATETIME),
           map_ts(c, &at, map_txt(c, &at, rep, 5, 0), TS_DATETIME));
    timing_duration(c, dosage, map_txt(c, &at, rep, 3, 0));
}

static void
timing_tq1(struct mctx *c, struct hl7v2_j *dosage, const struct hl7v2_seg *tq1)
{
    struct at at;
    struct hl7v2_j *code = repeat_code(c, &at, map_rep(c, tq1, 3, 1, &at), 1);
    struct at sat = {tq1, 7, 1};
    struct at eat = {tq1, 8, 1};

    timing(c, &eat, dosage, code, map_ts(c, &sat, map_field(c, tq1, 7), TS_DATETIME),
           map_ts(c, &eat, map_field(c, tq1, 8), TS_DATETIME));
}

void
map_tq1(struct mctx *c, const struct hl7v2_seg *tq1)
{
    /* TQ1 comes before the RXO/RXE of its order in OMP_O09 and RDE_O11 and
     * after it in others: keep it for the order that follows, and time the
     * current one */
    c->tq1 = tq1;
    if (c->dosage != NULL)
        timing_tq1(c, c->dosage, tq1);
}

/* RXO-6 (provider's pharmacy/treatment instructions) and RXE-21 (special
 * dispensing instructions): CE, often free text alone in component 1 (the
 * "e-mail only" order of v2.5.1 4A.5.1: the whole sig is there) ->
 * MedicationRequest.note, the text of each repetition. */
static void
pharmacy_notes(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *seg, uint32_t field)
{
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, seg, field); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, seg, field, r, &at);
        struct base_str text = map_txt(c, &at, rep, 2, 0);

        if (text.len == 0)
            text = map_txt(c, &at, rep, 1, 0);
        if (text.len > 0)
            hl7v2_j_str(&c->jb, hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "note"), NULL), "text",
                        text);
    }
}

static void
med_order(struct mctx *c, const struct hl7v2_seg *seg, const struct med_fields *f)
{
    struct order_ids o;
    struct hl7v2_j *res;
    struct hl7v2_j *dosage;
    struct ent *e;
    struct at at;
    struct base_str give;
    bool group = false;

    if (c->patient == NULL)
        return;
    map_order_ids(c, c->orc, 2, 3, &o);
    if (o.pval.len == 0 && o.fval.len == 0 && f->rx > 0 && map_field(c, seg, f->rx).len > 0) {
        o.psys =
            map_authority_system(c, BASE_STR_NULL, BASE_STR_NULL, BASE_STR_NULL, "prescription");
        o.pval = map_field(c, seg, f->rx);
    }
    give = map_txt(c, &at, map_rep(c, seg, f->give, 1, &at), 1, 0);
    e = map_order_entry(c, "MedicationRequest", &o, give, false);
    if (e != NULL && hl7v2_j_get(e->res, "status") != NULL && give.len > 0 &&
        e->test.len > 0 && !base_str_eq(e->test, give)) {
        /* another drug under the same order number (several RXE/RXO after
         * one ORC): its own request, the number as its group identifier */
        struct base_str key[3] = {o.pval, o.fval, give};

        e = map_entry(c, "MedicationRequest", key, 3, BASE_STR_NULL, BASE_STR_NULL);
        group = true;
    }
    if (e == NULL || hl7v2_j_get(e->res, "status") != NULL)
        return; /* the same order twice in one message: the first one counts */
    e->test = give;
    c->order = e;
    res = e->res;
    if (group) {
        struct order_ids again;

        map_order_ids(c, c->orc, 2, 3, &again);
        hl7v2_j_add(res, "groupIdentifier", again.placer != NULL ? again.placer : again.filler);
    }
    hl7v2_j_cstr(&c->jb, res, "status",
                 map_order_status(map_field(c, c->orc, 1), map_field(c, c->orc, 5)));
    hl7v2_j_cstr(&c->jb, res, "intent", "order");
    {
        /* medication[x] is 1..1 in R4 MedicationRequest. */
        struct hl7v2_j *med = map_cwe(c, &at, map_rep(c, seg, f->give, 1, &at), f->name);

        if (!hl7v2_j_present(med)) {
            map_warn(c, &at, "no give code; medication set to text only");
            hl7v2_j_cstr(&c->jb, med, "text", "unspecified");
        }
        hl7v2_j_add(res, "medicationCodeableConcept", med);
    }
    map_ref_to(c, res, "subject", c->patient);
    map_ref_to(c, res, "encounter", c->encounter);
    at = (struct at){c->orc, 9, 1};
    hl7v2_j_str(&c->jb, res, "authoredOn", map_ts(c, &at, map_field(c, c->orc, 9), TS_DATETIME));
    hl7v2_j_add(res, "requester", map_xcn_ref(c, &at, map_rep(c, c->orc, 12, 1, &at)));
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, seg, f->reason); r <= nr_; r++)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "reasonCode"), NULL,
                    map_cwe(c, &at, map_rep(c, seg, f->reason, r, &at), f->reason_name));
    dosage = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "dosageInstruction"), NULL);
    dose(c, dosage, seg, f,
         map_txt(c, &at, map_rep(c, seg, f->instr, 1, &at), 2, 0).len > 0
             ? map_txt(c, &at, map_rep(c, seg, f->instr, 1, &at), 2, 0)
             : map_txt(c, &at, map_rep(c, seg, f->instr, 1, &at), 1, 0));
    dispense(c, res, seg, f);
    pharmacy_notes(c, res, seg, f->pharm);
    c->dosage = dosage;
    /* TQ1 may come before the RXE/RXO (OMP_O09, RDE_O11 order group) */
    if (c->tq1 != NULL)
        timing_tq1(c, dosage, c->tq1);
    /* or after it (RDE_O11 TIMING_ENCODED): then it is the timing, and the
     * TQ of RXE-1 / ORC-7 (kept for v2.3-2.4 receivers, often only a start
     * time) must not take its place first */
    if (map_group_has(c, seg, "TQ1"))
        return;
    if (f->tq > 0)
        timing_tq(c, dosage, seg, f->tq);
    timing_tq(c, dosage, c->orc, 7);
}

void
map_rxe(struct mctx *c, const struct hl7v2_seg *rxe)
{
    c->dosage = NULL;
    med_order(c, rxe, &rxe_fields);
}

void
map_rxo(struct mctx *c, const struct hl7v2_seg *rxo)
{
    /* RXO is the order in OMP and (v2.3) ORM; in RDE it only details the
     * RXE that follows, which is mapped instead. */
    c->dosage = NULL;
    if (base_str_eq_cstr(c->m->msg_code, "RDE") || base_str_eq_cstr(c->m->msg_code, "RDS"))
        return;
    med_order(c, rxo, &rxo_fields);
}

/* HL7 table 0162 (route of administration) */
static const char *const route_codes[] = {
    "AP", "B",   "DT", "GTT", "GU",  "IA",  "IB", "IC", "ICV", "ID", "IH",  "IHA",
    "IM", "IMR", "IN", "IO",  "IP",  "IS",  "IT", "IU", "IV",  "MM", "MTH", "NG",
    "NP", "NS",  "NT", "OP",  "OT",  "OTH", "PF", "PO", "PR",  "RM", "SC",  "SD",
    "SL", "TD",  "TL", "TP",  "TRA", "UR",  "VG", "VM", "WND", NULL};

void
map_rxr(struct mctx *c, const struct hl7v2_seg *rxr)
{
    struct at at;
    struct hl7v2_j *target = c->immunization != NULL ? c->immunization->res : c->dosage;

    if (target == NULL || hl7v2_j_get(target, "route") != NULL)
        return;
    hl7v2_j_add(target, "route",
                map_cwe_table(c, &at, map_rep(c, rxr, 1, 1, &at), "RXR-1", "0162", route_codes));
    hl7v2_j_add(target, "site", map_cwe(c, &at, map_rep(c, rxr, 2, 1, &at), "RXR-2"));
}

/* ------------------------------------------------------------------ RXA -- */

static const char *
imm_status(struct base_str completion, struct base_str action)
{
    if (map_is(action, "D"))
        return "entered-in-error";
    if (map_is(completion, "RE") || map_is(completion, "NA"))
        return "not-done";
    return "completed";
}

static void
imm_dose(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *rxa)
{
    struct at uat;
    struct base_str unit = map_rep(c, rxa, 7, 1, &uat);
    struct base_str amount = map_decimal(c, map_field(c, rxa, 6));

    /* CDC IIS guide: 999 means the amount is unknown */
    if (amount.len > 0 && !map_is(amount, "999"))
        hl7v2_j_add(res, "doseQuantity", map_quantity(c, amount, &uat, unit));
}

static void
imm_manufacturer(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *rxa)
{
    struct at at;
    struct base_str rep = map_rep(c, rxa, 17, 1, &at);
    struct base_str code = map_txt(c, &at, rep, 1, 0);
    struct base_str name = map_txt(c, &at, rep, 3, 0);
    struct hl7v2_j *ref = hl7v2_j_obj(&c->jb, res, "manufacturer");
    bool standard = false;

    if (code.len > 0) {
        struct hl7v2_j *id = hl7v2_j_obj(&c->jb, ref, "identifier");

        hl7v2_j_str(&c->jb, id, "system", map_code_system(c, name, "RXA-17", &standard));
        hl7v2_j_str(&c->jb, id, "value", code);
    }
    hl7v2_j_str(&c->jb, ref, "display", map_txt(c, &at, rep, 2, 0));
}

static void
fill_immunization(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *rxa,
                  const char *status)
{
    struct at at;
    struct base_str when;
    struct base_str notes = map_txt(c, &at, map_rep(c, rxa, 9, 1, &at), 1, 0);
    struct hl7v2_j *code = map_cwe(c, &at, map_rep(c, rxa, 5, 1, &at), "RXA-5");

    hl7v2_j_cstr(&c->jb, res, "status", status);
    if (strcmp(status, "not-done") == 0)
        hl7v2_j_add(res, "statusReason", map_cwe(c, &at, map_rep(c, rxa, 18, 1, &at), "RXA-18"));
    if (!hl7v2_j_present(code))
        hl7v2_j_cstr(&c->jb, code, "text", "unspecified");
    hl7v2_j_add(res, "vaccineCode", code);
    map_ref_to(c, res, "patient", c->patient);
    map_ref_to(c, res, "encounter", c->encounter);
    at = (struct at){rxa, 3, 1};
    when = map_ts(c, &at, map_field(c, rxa, 3), TS_DATETIME);
    if (when.len > 0)
        hl7v2_j_str(&c->jb, res, "occurrenceDateTime", when);
    else
        hl7v2_j_cstr(&c->jb, res, "occurrenceString", "unknown"); /* occurrence is 1..1 */
    at.field = 22;
    hl7v2_j_str(&c->jb, res, "recorded", map_ts(c, &at, map_field(c, rxa, 22), TS_DATETIME));
    if (map_is(notes, "00") || map_is(notes, "01"))
        hl7v2_j_bool(&c->jb, res, "primarySource", notes.ptr[1] == '0');
    hl7v2_j_str(&c->jb, res, "lotNumber", map_field(c, rxa, 15));
    at.field = 16;
    hl7v2_j_str(&c->jb, res, "expirationDate", map_ts(c, &at, map_field(c, rxa, 16), TS_DATE));
    imm_manufacturer(c, res, rxa);
    imm_dose(c, res, rxa);
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, rxa, 10); r <= nr_; r++) {
        struct hl7v2_j *actor = map_xcn_ref(c, &at, map_rep(c, rxa, 10, r, &at));
        struct hl7v2_j *p;

        if (!hl7v2_j_present(actor))
            continue;
        p = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "performer"), NULL);
        hl7v2_j_add(p, "function",
                    map_concept1(c, "http://terminology.hl7.org/CodeSystem/v2-0443", "AP",
                                 "Administering Provider"));
        hl7v2_j_add(p, "actor", actor);
    }
}

void
map_rxa(struct mctx *c, const struct hl7v2_seg *rxa)
{
    struct order_ids o;
    struct at at;
    struct base_str extra[2];
    struct ent *e;

    c->immunization = NULL;
    if (c->patient == NULL)
        return;
    if (c->cls != MC_VACCINE) {
        /* RAS_O17 (and RXA in other pharmacy messages) records a drug
         * given: a MedicationAdministration, which the store does not
         * serve; said, not silently dropped */
        at = (struct at){rxa, 5, 1};
        map_warn(c, &at, "drug administration (RXA outside an immunization message) not mapped");
        return;
    }
    map_order_ids(c, c->orc, 2, 3, &o);
    extra[0] = map_txt(c, &at, map_rep(c, rxa, 5, 1, &at), 1, 0);
    extra[1] = map_field(c, rxa, 3);
    e = map_order_entry(c, "Immunization", &o, map_join(c, extra, 2, "|"), true);
    if (e != NULL && hl7v2_j_get(e->res, "status") != NULL) {
        /* several RXA under one ORC (VXR/RSP histories, some VXU senders):
         * each is a vaccination of its own, keyed by the patient, the
         * order, the vaccine, the date and RXA-2 */
        struct base_str key[5] = {c->patient_key, o.fval.len > 0 ? o.fval : o.pval, extra[0],
                                  extra[1], map_field(c, rxa, 2)};

        e = map_entry(c, "Immunization", key, 5, BASE_STR_NULL, BASE_STR_NULL);
    }
    if (e == NULL || hl7v2_j_get(e->res, "status") != NULL)
        return;
    c->immunization = e;
    /* CVX 998 "no vaccine administered" (CDC IIS guide: forecasts and
     * refusals) is no vaccination even when RXA-20 does not say NA */
    fill_immunization(c, e->res, rxa,
                      map_is(extra[0], "998")
                          ? "not-done"
                          : imm_status(map_field(c, rxa, 20), map_field(c, rxa, 21)));
}
