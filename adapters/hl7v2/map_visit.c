/*
 * PV1/PV2 -> Encounter; AL1 -> AllergyIntolerance; DG1 and PRB ->
 * Condition; PR1 -> Procedure.  v2-to-FHIR guide: Segment PV1 to
 * Encounter, AL1 to AllergyIntolerance, DG1 to Condition, PR1 to Procedure.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"
#include "fhir/validate/fhir_validate.h"

/* The codes of the HL7 tables PV1 and PR1 fields are bound to (v2.9, as
 * THO publishes them: 0069, 0023 and 0112 are user-defined tables whose
 * suggested values THO lists).  A value outside them ('心内科' in PV1-10,
 * the department a Chinese HIS writes there) is the sender's own code, not
 * one of the table's. */
static const char *const admission_types[] = {"A", "C", "E", "L", "N", "R", "U", NULL};
static const char *const services[] = {"CAR", "MED", "PUL", "SUR", "URO", NULL};
static const char *const admit_sources[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", NULL};
static const char *const dispositions[] = {"01", "02", "03", "04", "05", "06", "07", "08",
                                           "09", "20", "30", "40", "41", "42", NULL};
static const char *const procedure_types[] = {"A", "D", "I", "P", NULL};

#define SYS_V2_0203  "http://terminology.hl7.org/CodeSystem/v2-0203"
#define SYS_ACTCODE  "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define SYS_PARTTYPE "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

static bool
ev(const struct mctx *c, const char *e)
{
    return map_is(c->event, e);
}

/* Person-level ADT events carry a stale or empty PV1: no Encounter. */
static bool
person_event(const struct mctx *c)
{
    static const char *const person[] = {"A28", "A29", "A31", "A24", "A37", "A40",
                                         "A41", "A42", "A46", "A47", "A48", "A49",
                                         "A30", "A34", "A35", "A36", "A39"};

    if (c->cls != MC_ADT)
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(person); i++) {
        if (ev(c, person[i]))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ PV1 -- */

static const char *
encounter_status(struct mctx *c, struct base_str end, struct base_str klass)
{
    /* A23 "delete a patient record" withdraws the visit: recorded in error */
    if (ev(c, "A23"))
        return "entered-in-error";
    if (ev(c, "A03") || end.len > 0)
        return ev(c, "A13") ? "in-progress" : "finished";
    if (ev(c, "A11") || ev(c, "A27") || ev(c, "A38"))
        return "cancelled";
    if (ev(c, "A05") || ev(c, "A14") || map_is(klass, "P"))
        return "planned";
    return "in-progress";
}

static struct hl7v2_j *
encounter_class(struct mctx *c, struct base_str k)
{
    /* v2-to-FHIR ConceptMap table-hl70004-to-v3-actcode */
    static const char *const act[][3] = {{"E", "EMER", "emergency"},
                                         {"I", "IMP", "inpatient encounter"},
                                         {"O", "AMB", "ambulatory"},
                                         {"P", "PRENC", "pre-admission"}};
    struct hl7v2_j *cd = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);

    /* Chinese HIS write the class as a word, its pinyin or the pinyin's
     * initials, as their visit numbers are prefixed (GB/T visit types 门诊
     * outpatient MZ, 急诊 emergency JZ, 住院 inpatient ZY) */
    static const char *const cn[][2] = {
        {"\xE9\x97\xA8\xE8\xAF\x8A", "O"}, {"Menzhen", "O"}, {"MZ", "O"}, /* 门诊 */
        {"\xE6\x80\xA5\xE8\xAF\x8A", "E"}, {"Jizhen", "E"},  {"JZ", "E"}, /* 急诊 */
        {"\xE4\xBD\x8F\xE9\x99\xA2", "I"}, {"Zhuyuan", "I"}, {"ZY", "I"}, /* 住院 */
    };
    bool standard;

    for (size_t i = 0; i < BASE_ARRAY_LEN(cn); i++) {
        if (base_str_case_eq_cstr(k, cn[i][0]))
            k = base_str_from_cstr(cn[i][1]);
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(act); i++) {
        if (map_is(k, act[i][0])) {
            hl7v2_j_cstr(&c->jb, cd, "system", SYS_ACTCODE);
            hl7v2_j_cstr(&c->jb, cd, "code", act[i][1]);
            hl7v2_j_cstr(&c->jb, cd, "display", act[i][2]);
            return cd;
        }
    }
    /* the rest of table 0004 (B obstetrics, C commercial account, N not
     * applicable, R recurring, U unknown) has no v3 ActCode equivalent */
    if (k.len == 1 && memchr("BCNRU", k.ptr[0], 5) != NULL) {
        hl7v2_j_cstr(&c->jb, cd, "system", "http://terminology.hl7.org/CodeSystem/v2-0004");
        hl7v2_j_str(&c->jb, cd, "code", k);
        return cd;
    }
    if (k.len > 0) {
        /* a class outside table 0004 is the sender's own code */
        hl7v2_j_str(&c->jb, cd, "system", map_code_system(c, BASE_STR_NULL, "PV1-2", &standard));
        hl7v2_j_str(&c->jb, cd, "code", map_code(c, k));
        return cd;
    }
    /* class is 1..1: an unknown class is said so */
    hl7v2_j_cstr(&c->jb, cd, "system", "http://terminology.hl7.org/CodeSystem/v3-NullFlavor");
    hl7v2_j_cstr(&c->jb, cd, "code", "UNK");
    return cd;
}

static void
participants(struct mctx *c, struct hl7v2_j *arr, const struct hl7v2_seg *pv1, uint32_t field,
             const char *role)
{
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, pv1, field); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, pv1, field, r, &at);
        struct hl7v2_j *ref = map_xcn_ref(c, &at, rep);
        struct hl7v2_j *p;

        if (!hl7v2_j_present(ref))
            continue;
        p = hl7v2_j_obj(&c->jb, arr, NULL);
        hl7v2_j_add(hl7v2_j_arr(&c->jb, p, "type"), NULL,
                    map_concept1(c, SYS_PARTTYPE, role, NULL));
        hl7v2_j_add(p, "individual", ref);
    }
}

static void
location(struct mctx *c, struct hl7v2_j *arr, const struct hl7v2_seg *pv1, uint32_t field,
         const char *status)
{
    struct at at;
    struct base_str rep = map_rep(c, pv1, field, 1, &at);
    struct base_str parts[3] = {map_txt(c, &at, rep, 1, 1), map_txt(c, &at, rep, 2, 0),
                                map_txt(c, &at, rep, 3, 0)};
    struct base_str display = map_txt(c, &at, rep, 9, 0);
    struct hl7v2_j *loc;

    if (display.len == 0)
        display = map_join(c, parts, 3, " ");
    if (display.len == 0)
        return;
    loc = hl7v2_j_obj(&c->jb, arr, NULL);
    hl7v2_j_str(&c->jb, hl7v2_j_obj(&c->jb, loc, "location"), "display", display);
    hl7v2_j_cstr(&c->jb, loc, "status", status);
}

static void
fill_encounter(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *pv1, struct hl7v2_j *id)
{
    struct base_str klass = map_field(c, pv1, 2);
    struct at at = {pv1, 44, 1};
    struct at eat = {pv1, 45, 1};
    struct base_str start = map_ts(c, &at, map_field(c, pv1, 44), TS_DATETIME);
    struct base_str end = map_ts(c, &eat, map_field(c, pv1, 45), TS_DATETIME);
    const char *status;
    struct hl7v2_j *parts = hl7v2_j_arr(&c->jb, res, "participant");
    struct hl7v2_j *hosp;
    struct hl7v2_j *locs;
    struct hl7v2_j *period;
    struct base_str rep;

    /* Period.start must not be after end (FHIR per-1); a discharge dated
     * before the admission is a sender error, not a finished visit */
    if (start.len > 0 && end.len > 0 &&
        fhir_validate_period_inverted(start.ptr, start.len, end.ptr, end.len)) {
        map_warn(c, &eat, "discharge before admission; discharge time omitted");
        end = BASE_STR_NULL;
    }
    status = encounter_status(c, end, klass);

    if (id != NULL) {
        if (hl7v2_j_get(id, "type") == NULL)
            hl7v2_j_add(id, "type", map_concept1(c, SYS_V2_0203, "VN", "Visit number"));
        hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "identifier"), NULL, id);
    }
    hl7v2_j_cstr(&c->jb, res, "status", status);
    hl7v2_j_add(res, "class", encounter_class(c, klass));
    rep = map_rep(c, pv1, 4, 1, &at);
    hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "type"), NULL,
                map_cwe_table(c, &at, rep, "PV1-4", "0007", admission_types));
    rep = map_rep(c, pv1, 10, 1, &at);
    hl7v2_j_add(res, "serviceType", map_cwe_table(c, &at, rep, "PV1-10", "0069", services));
    map_ref_to(c, res, "subject", c->patient);
    participants(c, parts, pv1, 7, "ATND");
    participants(c, parts, pv1, 8, "REF");
    participants(c, parts, pv1, 9, "CON");
    participants(c, parts, pv1, 17, "ADM");
    period = hl7v2_j_obj(&c->jb, res, "period");
    hl7v2_j_str(&c->jb, period, "start", start);
    hl7v2_j_str(&c->jb, period, "end", end);
    hosp = hl7v2_j_obj(&c->jb, res, "hospitalization");
    rep = map_rep(c, pv1, 5, 1, &at);
    hl7v2_j_add(hosp, "preAdmissionIdentifier", map_cx(c, &at, rep, "visit", NULL, NULL));
    rep = map_rep(c, pv1, 14, 1, &at);
    hl7v2_j_add(hosp, "admitSource", map_cwe_table(c, &at, rep, "PV1-14", "0023", admit_sources));
    rep = map_rep(c, pv1, 36, 1, &at);
    hl7v2_j_add(hosp, "dischargeDisposition",
                map_cwe_table(c, &at, rep, "PV1-36", "0112", dispositions));
    locs = hl7v2_j_arr(&c->jb, res, "location");
    location(c, locs, pv1, 3, strcmp(status, "finished") == 0 ? "completed" : "active");
    location(c, locs, pv1, 6, "completed");
}

/* Does a PV1 without visit number and admit time still describe a visit?
 * Not when it is empty or its class is N "not applicable" (table 0004) —
 * ORU and ORM feeds send `PV1|1|N` or a bare `PV1|1` for results without a
 * visit; a class U (unknown) or no class counts only with a location. */
static bool
describes_visit(struct mctx *c, const struct hl7v2_seg *pv1, struct base_str klass)
{
    if (map_is(klass, "N") || base_str_case_eq_cstr(klass, "NA"))
        return false;
    if (klass.len > 0 && !map_is(klass, "U"))
        return true;
    return map_field(c, pv1, 3).len > 0;
}

/* The visit's identity when the sender gives no visit number (PV1-19,
 * PV1-50).  Small HIS and v2.3 feeds often send none.  The admit time
 * (PV1-44) does not change over the visit's messages (A01, A08, A02, A03),
 * so with the patient it keys the visit.  Without it, what the messages
 * of one visit have in common is the patient and the patient class: the
 * event times (EVN-2, EVN-6, MSH-7) and the location change from the
 * admission to the transfer and the discharge, so a key made with them
 * would split one visit into an Encounter per message, the admission
 * left in progress for ever (FHIR-Converter hashes the whole PV1: the
 * same).  Such a sender has one current visit per patient and class;
 * a later visit of that class updates the same Encounter (the store keeps
 * the earlier as a version).  Only messages about the visit itself (ADT,
 * results, orders, pharmacy, immunization, documents) use that key.
 * `key` gets three parts. */
static bool
unnumbered_visit_key(struct mctx *c, const struct hl7v2_seg *pv1, struct base_str *key)
{
    struct at adm = {pv1, 44, 1};
    struct at at = {pv1, 19, 0};
    struct base_str admit = map_ts(c, &adm, map_field(c, pv1, 44), TS_DATETIME);
    struct base_str klass = map_field(c, pv1, 2);

    key[0] = c->patient_key;
    if (admit.len > 0) {
        map_warn(c, &at, "no visit number (PV1-19, PV1-50); encounter keyed by admit time");
        key[1] = admit;
        key[2] = BASE_STR_NULL;
        return true;
    }
    /* a scheduling (SIU) or financial message is about a visit to come or
     * an account, not the patient's current visit: without a number it
     * is not keyed as one (it would reopen or overwrite that visit) */
    if (c->cls == MC_OTHER || !describes_visit(c, pv1, klass)) {
        map_warn(c, &at, "no visit number (PV1-19, PV1-50), admit time or patient class; "
                         "encounter not mapped");
        return false;
    }
    map_warn(c, &at, "no visit number (PV1-19, PV1-50) or admit time (PV1-44); encounter "
                     "keyed by patient and class (the patient's current visit)");
    key[1] = BASE_STR_LIT("current-visit");
    key[2] = klass;
    return true;
}

void
map_pv1(struct mctx *c, const struct hl7v2_seg *pv1)
{
    struct at at;
    struct base_str rep = map_rep(c, pv1, 19, 1, &at);
    struct base_str sys;
    struct base_str val;
    struct base_str key[3];
    struct hl7v2_j *id;
    struct ent *e;

    if (c->patient == NULL || person_event(c))
        return;
    id = map_cx(c, &at, rep, "visit", &sys, &val);
    if (id == NULL) {
        rep = map_rep(c, pv1, 50, 1, &at);
        id = map_cx(c, &at, rep, "visit", &sys, &val);
    }
    if (id != NULL) {
        key[0] = sys;
        key[1] = val;
        e = map_entry(c, "Encounter", key, 2, sys, val);
    } else {
        if (!unnumbered_visit_key(c, pv1, key))
            return;
        e = map_entry(c, "Encounter", key, key[2].len > 0 ? 3 : 2, BASE_STR_NULL,
                      BASE_STR_NULL);
    }
    if (e == NULL)
        return;
    c->encounter = e;
    if (hl7v2_j_get(e->res, "status") == NULL)
        fill_encounter(c, e->res, pv1, id);
}

void
map_pv2(struct mctx *c, const struct hl7v2_seg *pv2)
{
    struct at at;
    struct base_str rep = map_rep(c, pv2, 3, 1, &at);

    struct hl7v2_j *res;
    struct base_str days;
    struct base_str prio;

    if (c->encounter == NULL || hl7v2_j_get(c->encounter->res, "reasonCode") != NULL)
        return;
    res = c->encounter->res;
    hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "reasonCode"), NULL, map_cwe(c, &at, rep, "PV2-3"));
    /* PV2-11 actual length of inpatient stay, in days (v2-to-FHIR PV2 map) */
    days = map_decimal(c, map_field(c, pv2, 11));
    if (days.len > 0 && days.ptr[0] != '-') {
        struct hl7v2_j *len = hl7v2_j_obj(&c->jb, res, "length");

        hl7v2_j_num(&c->jb, len, "value", days);
        hl7v2_j_cstr(&c->jb, len, "unit", "d");
        hl7v2_j_cstr(&c->jb, len, "system", "http://unitsofmeasure.org");
        hl7v2_j_cstr(&c->jb, len, "code", "d");
    }
    /* PV2-25 visit priority (table 0217: 1 emergency, 2 urgent, 3 elective)
     * -> v3 ActPriority (v2-to-FHIR ConceptMap 0217) */
    prio = map_txt(c, &at, map_rep(c, pv2, 25, 1, &at), 1, 0);
    hl7v2_j_add(res, "priority",
                map_concept1(c, "http://terminology.hl7.org/CodeSystem/v3-ActPriority",
                             map_is(prio, "1")   ? "EM"
                             : map_is(prio, "2") ? "UR"
                             : map_is(prio, "3") ? "EL"
                                                 : NULL,
                             NULL));
}

/* ------------------------------------------------------------------ AL1 -- */

static const char *
allergy_category(struct base_str t)
{
    if (map_is(t, "DA") || base_str_case_eq_cstr(t, "DRUG"))
        return "medication";
    if (map_is(t, "FA") || base_str_case_eq_cstr(t, "FOOD"))
        return "food";
    if (map_is(t, "EA") || map_is(t, "AA") || map_is(t, "PA") || map_is(t, "LA") ||
        base_str_case_eq_cstr(t, "ENV"))
        return "environment";
    return NULL;
}

/* Where AL1 and IAM keep the same things (v2.5.1 ch. 3.4.6, 3.4.7). */
struct allergy_fields {
    uint32_t type;     /* allergen type code, table 0127 */
    uint32_t code;     /* allergen */
    uint32_t severity; /* table 0128 */
    uint32_t reaction; /* ST, repeating */
    uint32_t recorded; /* AL1-6 identification date, IAM-13 reported date/time */
    uint32_t onset;    /* IAM-11; 0 when the segment has none */
};

static const struct allergy_fields al1_fields = {2, 3, 4, 5, 6, 0};
static const struct allergy_fields iam_fields = {2, 3, 4, 5, 13, 11};

static void
allergy_reaction(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *seg,
                 const struct allergy_fields *f, struct base_str sev)
{
    struct hl7v2_j *reaction = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct hl7v2_j *man = hl7v2_j_arr(&c->jb, reaction, "manifestation");

    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, seg, f->reaction); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, seg, f->reaction, r, &at);
        struct hl7v2_j *cc = map_cwe(c, &at, rep, "IAM-5");

        /* AL1-5 is ST; IAM-5 is CWE from v2.6 and senders code it earlier */
        if (map_txt(c, &at, rep, 3, 0).len == 0)
            cc = NULL;
        if (cc == NULL && map_txt(c, &at, rep, 0, 0).len > 0) {
            cc = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
            hl7v2_j_str(&c->jb, cc, "text", map_txt(c, &at, rep, 0, 0));
        }
        hl7v2_j_add(man, NULL, cc);
    }
    if (!hl7v2_j_present(man))
        return; /* manifestation is 1..* in a reaction */
    hl7v2_j_cstr(&c->jb, reaction, "severity",
                 map_is(sev, "SV")   ? "severe"
                 : map_is(sev, "MO") ? "moderate"
                 : map_is(sev, "MI") ? "mild"
                                     : NULL);
    hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "reaction"), NULL, reaction);
}

/* AllergyIntolerance content shared by AL1 and IAM; clinicalStatus and
 * verificationStatus are the caller's. */
static void
fill_allergy(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *seg,
             const struct allergy_fields *f)
{
    struct at at;
    struct base_str sev = map_txt(c, &at, map_rep(c, seg, f->severity, 1, &at), 1, 0);
    const char *cat = allergy_category(map_txt(c, &at, map_rep(c, seg, f->type, 1, &at), 1, 0));

    if (hl7v2_j_get(res, "type") == NULL)
        hl7v2_j_cstr(&c->jb, res, "type", "allergy");
    hl7v2_j_cstr(&c->jb, hl7v2_j_arr(&c->jb, res, "category"), NULL, cat);
    hl7v2_j_cstr(&c->jb, res, "criticality",
                 map_is(sev, "SV")                        ? "high"
                 : map_is(sev, "MO") || map_is(sev, "MI") ? "low"
                 : map_is(sev, "U")                       ? "unable-to-assess"
                                                          : NULL);
    hl7v2_j_add(
        res, "code",
        map_cwe(c, &at, map_rep(c, seg, f->code, 1, &at), f->onset > 0 ? "IAM-3" : "AL1-3"));
    map_ref_to(c, res, "patient", c->patient);
    if (f->onset > 0) {
        at = (struct at){seg, f->onset, 1};
        hl7v2_j_str(&c->jb, res, "onsetDateTime",
                    map_ts(c, &at, map_field(c, seg, f->onset), TS_DATETIME));
        if (hl7v2_j_get(res, "onsetDateTime") == NULL)
            hl7v2_j_str(&c->jb, res, "onsetString", map_field(c, seg, 12)); /* IAM-12 */
    }
    at = (struct at){seg, f->recorded, 1};
    hl7v2_j_str(&c->jb, res, "recordedDate",
                map_ts(c, &at, map_field(c, seg, f->recorded), TS_DATETIME));
    allergy_reaction(c, res, seg, f, sev);
}

static struct hl7v2_j *
allergy_clinical(struct mctx *c, const char *code)
{
    return map_concept1(c, "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        code, NULL);
}

void
map_al1(struct mctx *c, const struct hl7v2_seg *al1)
{
    struct at at;
    struct base_str rep = map_rep(c, al1, 3, 1, &at);
    struct base_str code = map_txt(c, &at, rep, 1, 0);
    struct base_str key[2];
    struct ent *e;

    if (code.len == 0)
        code = map_txt(c, &at, map_rep(c, al1, 3, 1, &at), 2, 0);
    if (c->patient == NULL || code.len == 0)
        return;
    key[0] = c->patient_key;
    key[1] = code;
    e = map_entry(c, "AllergyIntolerance", key, 2, BASE_STR_NULL, BASE_STR_NULL);
    if (e == NULL || hl7v2_j_get(e->res, "patient") != NULL)
        return;
    /* ait-1: clinicalStatus is required unless entered-in-error */
    hl7v2_j_add(e->res, "clinicalStatus", allergy_clinical(c, "active"));
    fill_allergy(c, e->res, al1, &al1_fields);
}

/* IAM-9 sensitivity (table 0436) -> AllergyIntolerance.type. */
static const char *
allergy_type(struct base_str s)
{
    if (map_is(s, "AL"))
        return "allergy";
    if (map_is(s, "IN") || map_is(s, "AD") || map_is(s, "SE"))
        return "intolerance";
    return NULL; /* CT contraindication, FI, FA, …: no FHIR type */
}

/* IAM-17 clinical status (table 0438) and IAM-6 action code (0323, D =
 * delete) -> verificationStatus / clinicalStatus (v2-to-FHIR IAM map).
 * ait-2: an entered-in-error record carries no clinicalStatus. */
static void
allergy_status(struct mctx *c, struct hl7v2_j *res, struct base_str status, struct base_str action)
{
    const char *ver = "unconfirmed";
    const char *clin = "active";

    if (map_is(status, "E") || map_is(action, "D")) {
        ver = "entered-in-error";
        clin = NULL;
    } else if (map_is(status, "C") || map_is(status, "I") || map_is(status, "R")) {
        ver = "confirmed";
        clin = map_is(status, "I") ? "inactive" : map_is(status, "R") ? "resolved" : "active";
    } else if (status.len == 0) {
        ver = NULL;
    }
    if (ver != NULL)
        hl7v2_j_add(res, "verificationStatus",
                    map_concept1(c,
                                 "http://terminology.hl7.org/CodeSystem/"
                                 "allergyintolerance-verification",
                                 ver, NULL));
    if (clin != NULL)
        hl7v2_j_add(res, "clinicalStatus", allergy_clinical(c, clin));
}

static struct ent *clinical_entry(struct mctx *c, const char *type, const struct hl7v2_seg *seg,
                                  uint32_t id_field, const char *kind, uint32_t code_field,
                                  struct base_str extra, const struct hl7v2_j *code);

void
map_iam(struct mctx *c, const struct hl7v2_seg *iam)
{
    struct at at;
    struct hl7v2_j *code = map_cwe(c, &at, map_rep(c, iam, 3, 1, &at), "IAM-3");
    struct ent *e;

    if (!hl7v2_j_present(code))
        return;
    e = clinical_entry(c, "AllergyIntolerance", iam, 7, "allergy", 3, BASE_STR_NULL, code);
    if (e == NULL)
        return;
    hl7v2_j_cstr(&c->jb, e->res, "type",
                 allergy_type(map_txt(c, &at, map_rep(c, iam, 9, 1, &at), 1, 0)));
    allergy_status(c, e->res, map_txt(c, &at, map_rep(c, iam, 17, 1, &at), 1, 0),
                   map_txt(c, &at, map_rep(c, iam, 6, 1, &at), 1, 0));
    fill_allergy(c, e->res, iam, &iam_fields);
    map_ref_to(c, e->res, "encounter", c->encounter);
}

/* ------------------------------------------------------------ DG1, PRB -- */

static struct hl7v2_j *
coded_with_default(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field,
                   uint32_t method_field, uint32_t text_field, const char *name)
{
    struct at at;
    struct base_str rep = map_rep(c, seg, field, 1, &at);
    struct hl7v2_j *cc;

    if (method_field > 0 && map_txt(c, &at, rep, 3, 0).len == 0 &&
        map_field(c, seg, method_field).len > 0) {
        /* v2.3 DG1-2 "diagnosis coding method" names DG1-3's system */
        struct base_str method = map_field(c, seg, method_field);
        bool standard = false;
        struct base_str uri = map_code_system(c, method, name, &standard);
        struct base_str code = map_txt(c, &at, rep, 1, 0);

        cc = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
        if (code.len > 0) {
            struct hl7v2_j *cd = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, cc, "coding"), NULL);

            hl7v2_j_str(&c->jb, cd, "system", uri);
            hl7v2_j_str(&c->jb, cd, "code", map_code(c, code));
            hl7v2_j_str(&c->jb, cd, "display", map_txt(c, &at, rep, 2, 0));
        }
    } else {
        cc = map_cwe(c, &at, rep, name);
    }
    if (!hl7v2_j_present(cc) && text_field > 0)
        hl7v2_j_str(&c->jb, cc, "text", map_field(c, seg, text_field));
    return cc;
}

/* A clinical entry keyed by the segment's own identifier (EI in `id_field`)
 * when it has one, else by patient + the code in `code_field` + `extra`.
 * NULL when there is no patient, no code, or the entry is already filled. */
static struct ent *
clinical_entry(struct mctx *c, const char *type, const struct hl7v2_seg *seg, uint32_t id_field,
               const char *kind, uint32_t code_field, struct base_str extra,
               const struct hl7v2_j *code)
{
    struct at at;
    struct base_str sys = BASE_STR_NULL;
    struct base_str val = BASE_STR_NULL;
    struct hl7v2_j *id = map_ei(c, &at, map_rep(c, seg, id_field, 1, &at), kind, NULL, &sys, &val);
    struct base_str key[3];
    struct ent *e;

    if (c->patient == NULL || !hl7v2_j_present(code))
        return NULL;
    key[0] = c->patient_key;
    key[1] = val;
    key[2] = sys;
    if (id == NULL) {
        struct base_str rep = map_rep(c, seg, code_field, 1, &at);

        /* a code given as text alone ('^LATEX^local') is keyed by its text:
         * several such allergies were one entry, the later ones dropped */
        key[1] = map_txt(c, &at, rep, 1, 0);
        if (key[1].len == 0)
            key[1] = map_txt(c, &at, rep, 2, 0);
        key[2] = extra;
    }
    e = map_entry(c, type, key, 3, sys, val);
    if (e == NULL || hl7v2_j_get(e->res, "subject") != NULL ||
        hl7v2_j_get(e->res, "patient") != NULL)
        return NULL;
    if (id != NULL)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, e->res, "identifier"), NULL, id);
    return e;
}

static void
encounter_diagnosis(struct mctx *c, const struct ent *cond, struct base_str type,
                    struct base_str priority)
{
    struct hl7v2_j *d;
    struct hl7v2_j *list;
    int64_t rank;

    if (c->encounter == NULL)
        return;
    list = hl7v2_j_get(c->encounter->res, "diagnosis");
    if (list == NULL)
        list = hl7v2_j_arr(&c->jb, c->encounter->res, "diagnosis");
    d = hl7v2_j_obj(&c->jb, list, NULL);
    map_ref_to(c, d, "condition", cond);
    if (map_is(type, "A") || map_is(type, "F"))
        hl7v2_j_add(d, "use",
                    map_concept1(c, "http://terminology.hl7.org/CodeSystem/diagnosis-role",
                                 type.ptr[0] == 'A' ? "AD" : "DD", NULL));
    if (base_str_to_i64(priority, &rank) && rank >= 1 && rank < 1000000)
        hl7v2_j_num(&c->jb, d, "rank", hl7v2_j_fmt(&c->jb, "%d", (int)rank));
}

void
map_dg1(struct mctx *c, const struct hl7v2_seg *dg1)
{
    struct at at;
    struct hl7v2_j *code = coded_with_default(c, dg1, 3, 2, 4, "DG1-3");
    struct base_str type = map_field(c, dg1, 6);
    struct ent *e =
        clinical_entry(c, "Condition", dg1, 20, "diagnosis", 3, map_field(c, dg1, 4), code);

    if (e == NULL)
        return;
    if (map_is(type, "F") || map_is(type, "A") || map_is(type, "W"))
        hl7v2_j_add(e->res, "verificationStatus",
                    map_concept1(c, "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                 type.ptr[0] == 'F' ? "confirmed" : "provisional", NULL));
    hl7v2_j_add(hl7v2_j_arr(&c->jb, e->res, "category"), NULL,
                map_concept1(c, "http://terminology.hl7.org/CodeSystem/condition-category",
                             "encounter-diagnosis", "Encounter Diagnosis"));
    hl7v2_j_add(e->res, "code", code);
    map_ref_to(c, e->res, "subject", c->patient);
    map_ref_to(c, e->res, "encounter", c->encounter);
    at = (struct at){dg1, 5, 1};
    hl7v2_j_str(&c->jb, e->res, "onsetDateTime", map_ts(c, &at, map_field(c, dg1, 5), TS_DATETIME));
    hl7v2_j_add(e->res, "asserter", map_xcn_ref(c, &at, map_rep(c, dg1, 16, 1, &at)));
    encounter_diagnosis(c, e, type, map_field(c, dg1, 15));
}

static const char *
problem_status(struct base_str s)
{
    if (base_str_case_eq_cstr(s, "I") || base_str_case_eq_cstr(s, "INACTIVE"))
        return "inactive";
    if (base_str_case_eq_cstr(s, "R") || base_str_case_eq_cstr(s, "RESOLVED"))
        return "resolved";
    return "active";
}

void
map_prb(struct mctx *c, const struct hl7v2_seg *prb)
{
    struct at at = {prb, 9, 1};
    struct hl7v2_j *code = coded_with_default(c, prb, 3, 0, 0, "PRB-3");
    struct ent *e = clinical_entry(c, "Condition", prb, 4, "problem", 3, BASE_STR_NULL, code);
    struct base_str abated;
    const char *status;

    if (e == NULL)
        return;
    abated = map_ts(c, &at, map_field(c, prb, 9), TS_DATETIME);
    status = problem_status(map_field(c, prb, 14));
    if (abated.len > 0 && strcmp(status, "active") == 0)
        status = "resolved"; /* con-4: an abated condition is not active */
    hl7v2_j_add(
        e->res, "clinicalStatus",
        map_concept1(c, "http://terminology.hl7.org/CodeSystem/condition-clinical", status, NULL));
    hl7v2_j_add(hl7v2_j_arr(&c->jb, e->res, "category"), NULL,
                map_concept1(c, "http://terminology.hl7.org/CodeSystem/condition-category",
                             "problem-list-item", "Problem List Item"));
    hl7v2_j_add(e->res, "code", code);
    map_ref_to(c, e->res, "subject", c->patient);
    map_ref_to(c, e->res, "encounter", c->encounter);
    at.field = 16;
    hl7v2_j_str(&c->jb, e->res, "onsetDateTime",
                map_ts(c, &at, map_field(c, prb, 16), TS_DATETIME));
    hl7v2_j_str(&c->jb, e->res, "abatementDateTime", abated);
    at.field = 7;
    hl7v2_j_str(&c->jb, e->res, "recordedDate", map_ts(c, &at, map_field(c, prb, 7), TS_DATETIME));
}

/* ------------------------------------------------------------------ PR1 -- */

void
map_pr1(struct mctx *c, const struct hl7v2_seg *pr1)
{
    struct at at;
    struct hl7v2_j *code = coded_with_default(c, pr1, 3, 2, 4, "PR1-3");
    struct ent *e =
        clinical_entry(c, "Procedure", pr1, 19, "procedure", 3, map_field(c, pr1, 5), code);
    struct hl7v2_j *perf;

    if (e == NULL)
        return;
    hl7v2_j_cstr(&c->jb, e->res, "status", "completed");
    hl7v2_j_add(
        e->res, "category",
        map_cwe_table(c, &at, map_rep(c, pr1, 6, 1, &at), "PR1-6", "0230", procedure_types));
    hl7v2_j_add(e->res, "code", code);
    map_ref_to(c, e->res, "subject", c->patient);
    map_ref_to(c, e->res, "encounter", c->encounter);
    at = (struct at){pr1, 5, 1};
    hl7v2_j_str(&c->jb, e->res, "performedDateTime",
                map_ts(c, &at, map_field(c, pr1, 5), TS_DATETIME));
    perf = hl7v2_j_arr(&c->jb, e->res, "performer");
    for (uint32_t f = 11; f <= 12; f++) {
        for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, pr1, f); r <= nr_; r++) {
            struct hl7v2_j *ref = map_xcn_ref(c, &at, map_rep(c, pr1, f, r, &at));

            if (hl7v2_j_present(ref))
                hl7v2_j_add(hl7v2_j_obj(&c->jb, perf, NULL), "actor", ref);
        }
    }
}
