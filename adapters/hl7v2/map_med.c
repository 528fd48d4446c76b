/*
 * Pharmacy and immunization: ORC + RXE -> MedicationRequest, RXA ->
 * Immunization, RXR -> route and site of either.  v2-to-FHIR guide:
 * Segment RXE to MedicationRequest, RXA to Immunization, RXR.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"

static void
dose(struct mctx *c, struct hl7v2_j *dosage, const struct hl7v2_seg *rxe)
{
    struct at uat;
    struct base_str unit = map_rep(c, rxe, 5, 1, &uat);
    struct base_str lo = map_decimal(c, map_field(c, rxe, 3));
    struct base_str hi = map_decimal(c, map_field(c, rxe, 4));
    struct hl7v2_j *dr = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, dosage, "doseAndRate"), NULL);

    if (lo.len > 0 && hi.len > 0 && !base_str_eq(lo, hi)) {
        struct hl7v2_j *r = hl7v2_j_obj(&c->jb, dr, "doseRange");

        hl7v2_j_add(r, "low", map_quantity(c, lo, &uat, unit));
        hl7v2_j_add(r, "high", map_quantity(c, hi, &uat, unit));
    } else if (lo.len > 0) {
        hl7v2_j_add(dr, "doseQuantity", map_quantity(c, lo, &uat, unit));
    }
}

static void
dispense(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *rxe)
{
    struct at uat;
    struct base_str unit = map_rep(c, rxe, 11, 1, &uat);
    struct base_str amount = map_decimal(c, map_field(c, rxe, 10));
    struct hl7v2_j *d = hl7v2_j_obj(&c->jb, res, "dispenseRequest");
    int64_t refills;

    hl7v2_j_add(d, "quantity", map_quantity(c, amount, &uat, unit));
    if (base_str_to_i64(map_field(c, rxe, 12), &refills) && refills >= 0 && refills < 10000)
        hl7v2_j_num(&c->jb, d, "numberOfRepeatsAllowed", hl7v2_j_fmt(&c->jb, "%d", (int)refills));
}

void
map_rxe(struct mctx *c, const struct hl7v2_seg *rxe)
{
    struct order_ids o;
    struct hl7v2_j *res;
    struct hl7v2_j *dosage;
    struct ent *e;
    struct at at;

    if (c->patient == NULL)
        return;
    map_order_ids(c, c->orc, 2, 3, &o);
    if (o.pval.len == 0 && o.fval.len == 0 && map_field(c, rxe, 15).len > 0) {
        o.psys =
            map_authority_system(c, BASE_STR_NULL, BASE_STR_NULL, BASE_STR_NULL, "prescription");
        o.pval = map_field(c, rxe, 15);
    }
    e = map_order_entry(c, "MedicationRequest", &o,
                        map_txt(c, &at, map_rep(c, rxe, 2, 1, &at), 1, 0), false);
    c->dosage = NULL;
    if (e == NULL || hl7v2_j_get(e->res, "status") != NULL)
        return;
    c->order = e;
    res = e->res;
    hl7v2_j_cstr(&c->jb, res, "status",
                 map_order_status(map_field(c, c->orc, 1), map_field(c, c->orc, 5)));
    hl7v2_j_cstr(&c->jb, res, "intent", "order");
    {
        /* medication[x] is 1..1 in R4 MedicationRequest. */
        struct hl7v2_j *med = map_cwe(c, &at, map_rep(c, rxe, 2, 1, &at), "RXE-2");

        if (!hl7v2_j_present(med)) {
            map_warn(c, &at, "no give code (RXE-2); medication set to text only");
            hl7v2_j_cstr(&c->jb, med, "text", "unspecified");
        }
        hl7v2_j_add(res, "medicationCodeableConcept", med);
    }
    map_ref_to(c, res, "subject", c->patient);
    map_ref_to(c, res, "encounter", c->encounter);
    at = (struct at){c->orc, 9, 1};
    hl7v2_j_str(&c->jb, res, "authoredOn", map_ts(c, &at, map_field(c, c->orc, 9), TS_DATETIME));
    hl7v2_j_add(res, "requester", map_xcn_ref(c, &at, map_rep(c, c->orc, 12, 1, &at)));
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, rxe, 27); r <= nr_; r++)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "reasonCode"), NULL,
                    map_cwe(c, &at, map_rep(c, rxe, 27, r, &at), "RXE-27"));
    dosage = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "dosageInstruction"), NULL);
    hl7v2_j_str(&c->jb, dosage, "text",
                map_txt(c, &at, map_rep(c, rxe, 7, 1, &at), 2, 0).len > 0
                    ? map_txt(c, &at, map_rep(c, rxe, 7, 1, &at), 2, 0)
                    : map_txt(c, &at, map_rep(c, rxe, 7, 1, &at), 1, 0));
    dose(c, dosage, rxe);
    dispense(c, res, rxe);
    c->dosage = dosage;
}

void
map_rxr(struct mctx *c, const struct hl7v2_seg *rxr)
{
    struct at at;
    struct hl7v2_j *target = c->immunization != NULL ? c->immunization->res : c->dosage;

    if (target == NULL || hl7v2_j_get(target, "route") != NULL)
        return;
    hl7v2_j_add(target, "route", map_cwe(c, &at, map_rep(c, rxr, 1, 1, &at), "RXR-1"));
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
    if (c->patient == NULL || c->cls != MC_VACCINE)
        return;
    map_order_ids(c, c->orc, 2, 3, &o);
    extra[0] = map_txt(c, &at, map_rep(c, rxa, 5, 1, &at), 1, 0);
    extra[1] = map_field(c, rxa, 3);
    e = map_order_entry(c, "Immunization", &o, map_join(c, extra, 2, "|"), true);
    if (e == NULL || hl7v2_j_get(e->res, "status") != NULL)
        return;
    c->immunization = e;
    fill_immunization(c, e->res, rxa, imm_status(map_field(c, rxa, 20), map_field(c, rxa, 21)));
}
